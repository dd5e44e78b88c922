//! Analytics through the API (AN-1, AN-4): three tickets over a week with a holiday and a
//! make-up working day, with KPIs, trends, Pareto, heat map and drill-down checked against
//! hand-computed answers; the rollups follow later changes incrementally and a rebuild gives
//! the same figures; CSV / XLSX export; errors and roles.

use serde_json::{Value, json};
use test_support::{Client, T0, TestApp};

use crate::{items, on_backends, s};

const H: f64 = 3_600_000.0;
const WEEKDAY: &str = "09:00-12:00, 13:30-18:00";

/// Sets the clock to a Beijing wall time in November 2026 (`day` of the month).
pub(crate) fn at_cst(t: &TestApp, day: i64, hour: i64, min: i64) {
    // T0 is Monday 2 November 09:00 CST.
    let ms = ((day - 2) * 24 * 3600 + (hour - 9) * 3600 + min * 60) * 1000;
    t.clock.set(T0.plus_millis(ms));
}

pub(crate) async fn ok(c: &Client, method: &str, path: &str, body: Option<Value>) -> Value {
    let r = c.send(method, path, body, &[]).await;
    assert!((200..300).contains(&r.status), "{method} {path}: {} {:?}", r.status, r.body);
    r.body
}

async fn new_ticket(c: &Client, body: Value) -> String {
    s(&ok(c, "POST", "/api/v1/tickets", Some(body)).await["id"])
}

async fn reply(c: &Client, id: &str) {
    ok(c, "POST", &format!("/api/v1/tickets/{id}/replies"), Some(json!({"body": "您好"}))).await;
}

async fn status(c: &Client, id: &str, st: &str) {
    ok(c, "POST", &format!("/api/v1/tickets/{id}/status"), Some(json!({"status": st}))).await;
}

fn close(a: &Value, b: f64) -> bool {
    a.as_f64().is_some_and(|a| (a - b).abs() < 1e-6)
}

/// The raw bytes and content type of a GET.
async fn raw(c: &Client, path: &str) -> (u16, String, Vec<u8>) {
    let mut rb = c.http.get(format!("{}{path}", c.base));
    if let Some(k) = &c.cookie {
        rb = rb.header("cookie", k);
    }
    let r = rb.send().await.expect("request");
    let st = r.status().as_u16();
    let ct = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    (st, ct, r.bytes().await.expect("body").to_vec())
}

const WEEK: &str = "from=2026-11-02&to=2026-11-08";

async fn a_week_of_tickets(t: TestApp) {
    t.bot_off().await;
    let admin = t.as_role("admin@acme.test").await;
    // Wednesday 4 November is a holiday; Saturday 7 November a make-up workday (调休).
    ok(
        &admin,
        "PUT",
        "/api/v1/sla/calendars",
        Some(json!({"calendars": [{"id": "default", "time_zone": "Asia/Shanghai",
            "week": [WEEKDAY, WEEKDAY, WEEKDAY, WEEKDAY, WEEKDAY, "closed", "closed"],
            "holidays": ["2026-11-04"], "workdays": [{"date": "2026-11-07"}]}]})),
    )
    .await;
    let me = t.user("agent@acme.test").id.to_string();

    // A: Monday 09:00 by web chat, answered 10:00, solved 10:30 (first contact).
    at_cst(&t, 2, 9, 0);
    let agent = t.as_role("agent@acme.test").await;
    let (_visitor, conv) = t.visitor("王芳", "屏幕有划痕").await;
    let cv = ok(&agent, "GET", &format!("/api/v1/conversations/{conv}"), None).await;
    let customer = s(&cv["customer_id"]);
    let a = new_ticket(
        &agent,
        json!({"subject": "屏幕划痕", "customer_id": customer, "conversation_id": conv,
               "problem_code": "PQ-01", "assignee_id": me}),
    )
    .await;
    at_cst(&t, 2, 10, 0);
    reply(&agent, &a).await;
    at_cst(&t, 2, 10, 30);
    status(&agent, &a, "solved").await;

    // B: Tuesday 17:00 by email, same customer and code (a repeat complaint); answered on
    // Thursday 09:30 across the holiday; stays open.
    at_cst(&t, 3, 17, 0);
    let agent = t.as_role("agent@acme.test").await;
    let b = new_ticket(
        &agent,
        json!({"subject": "又有划痕", "customer_id": customer, "channel": "email",
               "problem_code": "PQ-01", "assignee_id": me}),
    )
    .await;
    at_cst(&t, 5, 9, 30);
    let agent = t.as_role("agent@acme.test").await;
    reply(&agent, &b).await;

    // C: Friday 17:30 by email, answered on the make-up Saturday 09:30, solved 10:00,
    // reopened 11:00, solved again 11:30.
    at_cst(&t, 6, 17, 30);
    let agent = t.as_role("agent@acme.test").await;
    let c = new_ticket(
        &agent,
        json!({"subject": "无法开机", "customer_id": customer, "channel": "email",
               "problem_code": "PQ-02", "assignee_id": me}),
    )
    .await;
    at_cst(&t, 7, 9, 30);
    let agent = t.as_role("agent@acme.test").await;
    reply(&agent, &c).await;
    at_cst(&t, 7, 10, 0);
    status(&agent, &c, "solved").await;
    at_cst(&t, 7, 11, 0);
    status(&agent, &c, "reopen").await;
    at_cst(&t, 7, 11, 30);
    status(&agent, &c, "solved").await;

    at_cst(&t, 9, 9, 0);
    let sup = t.as_role("super@acme.test").await;

    // KPIs of the week.
    let k = ok(&sup, "GET", &format!("/api/v1/analytics/kpis?{WEEK}"), None).await;
    assert_eq!(
        (k["created"].as_i64(), k["solved"].as_i64(), k["backlog"].as_i64()),
        (Some(3), Some(2), Some(1)),
        "{k:#}"
    );
    // First responses in business time: A 1 h; B Tue 17–18 + Thu 9–9:30 = 1.5 h (Wednesday is
    // a holiday); C Fri 17:30–18 + Sat 9–9:30 = 1 h (Saturday is a make-up day).
    assert!(close(&k["first_response_ms"], 3.5 * H / 3.0), "{k:#}");
    // Wall clock: 1 h, 40.5 h, 16 h.
    assert!(close(&k["first_response_wall_ms"], 57.5 * H / 3.0), "{k:#}");
    // Resolution: A 1.5 h; C Fri 17:30–18 + Sat 9–11:30 = 3 h.
    assert!(close(&k["resolution_ms"], 2.25 * H), "{k:#}");
    assert!(close(&k["fcr_rate"], 0.5), "{k:#}");
    assert!(close(&k["reopen_rate"], 0.5), "{k:#}");
    assert!(close(&k["closure_rate"], 2.0 / 3.0), "{k:#}");
    assert!(close(&k["repeat_complaint_rate"], 1.0 / 3.0), "{k:#}");
    assert_eq!(k["bot_conversations"], 0);
    assert!(k["bot_containment"].is_null() && k["csat"].is_null(), "{k:#}");
    // Filters: email only.
    let k = ok(&sup, "GET", &format!("/api/v1/analytics/kpis?{WEEK}&channel=email"), None).await;
    assert_eq!((k["created"].as_i64(), k["backlog"].as_i64()), (Some(2), Some(1)), "{k:#}");

    // Daily trend by channel, with the backlog at each day's end.
    let tr = ok(&sup, "GET", &format!("/api/v1/analytics/trends?{WEEK}&by=channel"), None).await;
    assert_eq!(tr["labels"].as_array().map(Vec::len), Some(7));
    assert_eq!(tr["labels"][0], "2026-11-02");
    let series = |tr: &Value, key: &str, metric: &str| -> Vec<f64> {
        tr["series"]
            .as_array()
            .and_then(|ss| ss.iter().find(|x| x["key"] == key))
            .map(|x| {
                x["values"][metric]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_f64().unwrap_or(-1.0))
                    .collect()
            })
            .unwrap_or_else(|| panic!("no series {key} in {tr:#}"))
    };
    assert_eq!(series(&tr, "email", "created"), [0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 0.0]);
    assert_eq!(series(&tr, "web_chat", "created"), [1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]);
    assert_eq!(series(&tr, "email", "backlog"), [0.0, 1.0, 1.0, 1.0, 2.0, 1.0, 1.0]);
    let tr =
        ok(&sup, "GET", "/api/v1/analytics/trends?from=2026-11-02&to=2026-11-15&grain=week", None)
            .await;
    assert_eq!(tr["labels"], json!(["2026-11-02", "2026-11-09"]));
    assert_eq!(series(&tr, "all", "created"), [3.0, 0.0]);
    assert_eq!(series(&tr, "all", "fcr_rate"), [0.5, -1.0], "null without solved tickets");
    let tr = ok(
        &sup,
        "GET",
        &format!("/api/v1/analytics/trends?{WEEK}&grain=month&by=problem_code"),
        None,
    )
    .await;
    assert_eq!(tr["labels"], json!(["2026-11-01"]));
    assert_eq!(series(&tr, "PQ-01", "created"), [2.0]);

    // Pareto of problem codes.
    let p = ok(&sup, "GET", &format!("/api/v1/analytics/pareto?{WEEK}"), None).await;
    assert_eq!(p["bars"][0]["problem_code"], "PQ-01");
    assert_eq!(p["bars"][0]["tickets"], 2);
    assert!(close(&p["bars"][1]["cumulative"], 1.0));
    assert_eq!(p["uncoded"], 0);

    // Heat map: Monday 09, Tuesday 17, Friday 17.
    let hm = ok(&sup, "GET", &format!("/api/v1/analytics/heatmap?{WEEK}"), None).await;
    assert_eq!(hm["cells"][0][9], 1);
    assert_eq!(hm["cells"][1][17], 1);
    assert_eq!(hm["cells"][4][17], 1);
    assert_eq!(hm["max"], 1);
    let total: i64 = hm["cells"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r.as_array().unwrap().iter())
        .map(|v| v.as_i64().unwrap())
        .sum();
    assert_eq!(total, 3);

    // Drill-down to the cases behind the figures.
    let ids = |v: &Value| items(v).iter().map(|x| s(&x["ticket_id"])).collect::<Vec<_>>();
    let cases = |q: String| {
        let sup = &sup;
        async move { ok(sup, "GET", &format!("/api/v1/analytics/cases?{WEEK}&{q}"), None).await }
    };
    assert_eq!(ids(&cases("set=open".into()).await), std::slice::from_ref(&b));
    assert_eq!(ids(&cases("set=fcr".into()).await), std::slice::from_ref(&a));
    assert_eq!(ids(&cases("set=reopened".into()).await), std::slice::from_ref(&c));
    assert_eq!(ids(&cases("set=repeat".into()).await), std::slice::from_ref(&b));
    assert_eq!(ids(&cases("weekday=4&hour=17".into()).await), std::slice::from_ref(&c));
    let first = cases("channel=email&limit=1".into()).await;
    assert_eq!(ids(&first), std::slice::from_ref(&c), "newest first");
    let next = s(&first["next_cursor"]);
    let second = cases(format!("channel=email&limit=1&cursor={next}")).await;
    assert_eq!(ids(&second), std::slice::from_ref(&b));
    assert!(second["next_cursor"].is_null());
    let one = &items(&cases("set=open".into()).await)[0];
    assert!(close(&one["first_response_ms"], 1.5 * H), "{one:#}");
    assert_eq!(one["repeat"], true);

    // Later changes reach the rollups: B is solved on Monday 9 November.
    let agent = t.as_role("agent@acme.test").await;
    status(&agent, &b, "solved").await;
    let k = ok(&sup, "GET", &format!("/api/v1/analytics/kpis?{WEEK}"), None).await;
    assert_eq!(
        (k["solved"].as_i64(), k["backlog"].as_i64()),
        (Some(3), Some(1)),
        "B was open at the week's end: {k:#}"
    );
    let k2 = ok(&sup, "GET", "/api/v1/analytics/kpis?from=2026-11-02&to=2026-11-09", None).await;
    assert_eq!(k2["backlog"], 0, "{k2:#}");
    // B was solved after its single reply, never reopened: first contact too.
    assert!(close(&k2["fcr_rate"], 2.0 / 3.0), "{k2:#}");

    // A rebuild from the tickets gives the same figures as the incremental rollups.
    let before =
        ok(&sup, "GET", "/api/v1/analytics/trends?from=2026-11-01&to=2026-11-10&by=team", None)
            .await;
    let n = t.app.analytics_rebuild(t.ws.id, &|_, _| {}).await.expect("rebuild");
    assert_eq!(n, 3);
    let after =
        ok(&sup, "GET", "/api/v1/analytics/trends?from=2026-11-01&to=2026-11-10&by=team", None)
            .await;
    assert_eq!(before, after);
    assert_eq!(
        k2,
        ok(&sup, "GET", "/api/v1/analytics/kpis?from=2026-11-02&to=2026-11-09", None).await
    );

    // Export: CSV and XLSX.
    let (st, ct, body) = raw(&sup, &format!("/api/v1/analytics/kpis?{WEEK}&format=csv")).await;
    assert_eq!(st, 200);
    assert!(ct.starts_with("text/csv"), "{ct}");
    let text = String::from_utf8(body).unwrap();
    assert!(text.contains("solved,3\r\n") || text.contains("solved,3\n"), "{text}");
    assert!(text.contains("first_response_ms,4200000"), "{text}");
    assert!(text.contains("created,3"), "{text}");
    let (st, ct, body) =
        raw(&sup, &format!("/api/v1/analytics/cases?{WEEK}&format=csv&set=reopened")).await;
    assert_eq!(st, 200, "{ct}");
    let text = String::from_utf8(body).unwrap();
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(text.contains("无法开机"), "{text}");
    for path in ["trends", "pareto", "heatmap", "cases", "kpis"] {
        let (st, ct, body) =
            raw(&sup, &format!("/api/v1/analytics/{path}?{WEEK}&format=xlsx")).await;
        assert_eq!(st, 200, "{path}");
        assert!(ct.contains("spreadsheetml"), "{path}: {ct}");
        assert!(body.starts_with(b"PK\x03\x04"), "{path}: an XLSX is a zip");
    }

    // Errors and roles.
    let r = sup.get("/api/v1/analytics/kpis?from=2026-13-01").await;
    assert_eq!(r.status, 400, "{:?}", r.body);
    assert_eq!(r.body["field"], "from");
    let r = sup.get("/api/v1/analytics/kpis?from=2026-11-09&to=2026-11-02").await;
    assert_eq!(r.status, 400, "{:?}", r.body);
    let r = sup.get("/api/v1/analytics/trends?grain=year").await;
    assert_eq!((r.status, s(&r.body["field"])), (400, "grain".into()), "{:?}", r.body);
    let r = sup.get("/api/v1/analytics/cases?set=nope").await;
    assert_eq!(r.status, 400, "{:?}", r.body);
    let r = sup.get("/api/v1/analytics/cases?hour=3").await;
    assert_eq!(r.status, 400, "{:?}", r.body);
    let r = sup.get("/api/v1/analytics/kpis?format=pdf").await;
    assert_eq!(r.status, 400, "{:?}", r.body);
    let r = agent.get("/api/v1/analytics/kpis").await;
    assert_eq!(r.status, 403, "{:?}", r.body);
    // Another workspace sees none of it.
    let other = t.login(&t.other_ws.slug, t.other_admin.email.as_str()).await;
    let k = ok(&other, "GET", &format!("/api/v1/analytics/kpis?{WEEK}"), None).await;
    assert_eq!(k["created"], 0);
}
on_backends!(analytics_over_a_week_with_a_holiday_and_a_make_up_day, a_week_of_tickets);

/// Survey answers and classified messages, stored as the feedback work stores them, read back
/// as CSAT / NPS / CES and the sentiment share.
async fn surveys_and_sentiment(t: TestApp) {
    use domain::feedback::{
        ContentKind, ContentSignal, SentimentLabel, SignalSource, SignalUrgency, Survey,
        SurveyKind, SurveyStatus,
    };
    use domain::{SignalId, SurveyId};
    let id = |i: u64| format!("00000000-0000-7000-8999-{i:012x}");
    let mut c = t.app.db().bookkeeping().await.unwrap();
    let answered = |day: i64, hour: i64| {
        // T0 is Monday 2 November 09:00 CST.
        T0.plus_millis(((day - 2) * 24 + hour - 9) * 3_600_000)
    };
    let answers: [(SurveyKind, i64, i64); 10] = [
        (SurveyKind::Csat, 5, 2),
        (SurveyKind::Csat, 4, 3),
        (SurveyKind::Csat, 2, 4),
        // Answered after the period: not counted.
        (SurveyKind::Csat, 1, 20),
        (SurveyKind::Nps, 10, 2),
        (SurveyKind::Nps, 9, 2),
        (SurveyKind::Nps, 8, 3),
        (SurveyKind::Nps, 3, 3),
        (SurveyKind::Ces, 2, 5),
        (SurveyKind::Ces, 4, 6),
    ];
    for (i, (kind, score, day)) in answers.into_iter().enumerate() {
        let sid = SurveyId::parse(&id(i as u64)).unwrap();
        let at = answered(day, 10);
        let s = Survey {
            id: sid,
            workspace: t.ws.id,
            batch: sid,
            ticket: None,
            customer: None,
            conversation: None,
            kind,
            channel: "email".into(),
            status: SurveyStatus::Answered,
            score: Some(score),
            comment: None,
            answers: Vec::new(),
            questions: Vec::new(),
            team: None,
            agent: None,
            low_score: false,
            followup_ticket: None,
            created_at: at,
            send_at: at,
            sent_at: Some(at),
            reminded_at: None,
            answered_at: Some(at),
            expires_at: at.plus_millis(7 * 86_400_000),
        };
        app::db::feedback::insert_survey(&mut c, &s).await.unwrap();
    }
    // Signals: Monday 2 negative complaints and 1 positive inquiry; Tuesday 1 neutral.
    let sig = [
        (2, SentimentLabel::Negative, ContentKind::Complaint),
        (2, SentimentLabel::Negative, ContentKind::Complaint),
        (2, SentimentLabel::Positive, ContentKind::Inquiry),
        (3, SentimentLabel::Neutral, ContentKind::Inquiry),
    ];
    let signals: Vec<ContentSignal> = sig
        .into_iter()
        .enumerate()
        .map(|(i, (day, sentiment, kind))| ContentSignal {
            id: SignalId::parse(&id(100 + i as u64)).unwrap(),
            workspace: t.ws.id,
            source: SignalSource::Feedback,
            source_id: format!("fx-{i}"),
            customer: None,
            ticket: None,
            conversation: None,
            channel: Some("email".into()),
            kind,
            sentiment,
            sentiment_score: 0.0,
            strong_negative: false,
            problem_code: None,
            urgency: SignalUrgency::Low,
            product: None,
            due_at: answered(day, 23),
            assign_due_at: None,
            overdue: false,
            created_at: answered(day, 11),
        })
        .collect();
    app::db::feedback::insert_signals(&mut c, &signals).await.unwrap();
    drop(c);

    at_cst(&t, 9, 9, 0);
    let sup = t.as_role("super@acme.test").await;
    let k = ok(&sup, "GET", &format!("/api/v1/analytics/kpis?{WEEK}"), None).await;
    // CSAT: 2 of 3 answers score 4–5. NPS: (2 promoters − 1 detractor) / 4 = 25. CES: 3.
    assert!(close(&k["csat"], 2.0 / 3.0), "{k:#}");
    assert_eq!(k["csat_answers"], 3);
    assert!(close(&k["nps"], 25.0), "{k:#}");
    assert!(close(&k["ces"], 3.0), "{k:#}");
    let k = ok(&sup, "GET", &format!("/api/v1/analytics/kpis?{WEEK}&channel=app"), None).await;
    assert_eq!(k["csat_answers"], 0);
    assert!(k["csat"].is_null());

    let se = ok(&sup, "GET", &format!("/api/v1/analytics/sentiment?{WEEK}"), None).await;
    assert_eq!(se["negative"][0], 2, "{se:#}");
    assert_eq!(se["positive"][0], 1);
    assert_eq!(se["neutral"][1], 1);
    assert!(close(&se["negative_share"][0], 2.0 / 3.0), "{se:#}");
    assert!(se["negative_share"][2].is_null());
    assert!(close(&se["negative_share_total"], 0.5), "{se:#}");
    let complaint =
        se["by_kind"].as_array().unwrap().iter().find(|k| k["kind"] == "complaint").cloned();
    assert_eq!(complaint.map(|c| c["negative"].clone()), Some(json!(2)));
    let se = ok(&sup, "GET", &format!("/api/v1/analytics/sentiment?{WEEK}&grain=week"), None).await;
    assert_eq!(se["labels"], json!(["2026-11-02"]));
    assert_eq!(se["negative"], json!([2]));
    let (st, _, body) = raw(&sup, &format!("/api/v1/analytics/sentiment?{WEEK}&format=csv")).await;
    assert_eq!(st, 200);
    assert!(String::from_utf8(body).unwrap().contains("2026-11-02,1,0,2,"));
}
on_backends!(surveys_and_sentiment_from_feedback, surveys_and_sentiment);
