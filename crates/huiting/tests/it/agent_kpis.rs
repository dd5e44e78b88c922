//! Per-agent KPIs through the API (issue 6): two agents with known first response and
//! resolution times, a reopened ticket, a team, CSAT answers and open load; the figures follow
//! a reassignment incrementally and a rebuild gives the same; the drill-down by agent; CSV;
//! roles (an agent sees only their own row).

use serde_json::{Value, json};
use test_support::{Client, T0, TestApp};

use crate::{
    analytics::{at_cst, ok},
    items, on_backends, s,
};

const MIN: f64 = 60_000.0;
const WEEKDAY: &str = "09:00-12:00, 13:30-18:00";
const WEEK: &str = "from=2026-11-02&to=2026-11-08";

fn close(a: &Value, b: f64) -> bool {
    a.as_f64().is_some_and(|a| (a - b).abs() < 1e-6)
}

fn row<'a>(v: &'a Value, agent: &str) -> &'a Value {
    v["agents"]
        .as_array()
        .and_then(|a| a.iter().find(|r| r["agent_id"] == agent))
        .unwrap_or_else(|| panic!("no row for {agent} in {v:#}"))
}

/// Inserts an answered CSAT survey for `agent` as the survey work stores it.
async fn csat(t: &TestApp, i: u64, agent: domain::UserId, score: i64, day: i64) {
    use domain::SurveyId;
    use domain::feedback::{Survey, SurveyKind, SurveyStatus};
    let sid = SurveyId::parse(&format!("00000000-0000-7000-8aaa-{i:012x}")).unwrap();
    let at = T0.plus_millis((day - 2) * 86_400_000 + 3_600_000);
    let sv = Survey {
        id: sid,
        workspace: t.ws.id,
        batch: sid,
        ticket: None,
        customer: None,
        conversation: None,
        kind: SurveyKind::Csat,
        channel: "email".into(),
        status: SurveyStatus::Answered,
        score: Some(score),
        comment: None,
        answers: Vec::new(),
        questions: Vec::new(),
        team: None,
        agent: Some(agent),
        low_score: false,
        followup_ticket: None,
        created_at: at,
        send_at: at,
        sent_at: Some(at),
        reminded_at: None,
        answered_at: Some(at),
        expires_at: at.plus_millis(7 * 86_400_000),
    };
    let mut c = t.app.db().bookkeeping().await.unwrap();
    app::db::feedback::insert_survey(&mut c, &sv).await.unwrap();
}

async fn two_agents(t: TestApp) {
    t.bot_off().await;
    t.surveys_off().await;
    let admin = t.as_role("admin@acme.test").await;
    ok(
        &admin,
        "PUT",
        "/api/v1/sla/calendars",
        Some(json!({"calendars": [{"id": "default", "time_zone": "Asia/Shanghai",
            "week": [WEEKDAY, WEEKDAY, WEEKDAY, WEEKDAY, WEEKDAY, "closed", "closed"]}]})),
    )
    .await;
    let (a_id, b_id) = (t.user("agent@acme.test").id, t.user("agent2@acme.test").id);
    let (a, b) = (a_id.to_string(), b_id.to_string());
    let team = s(&ok(
        &admin,
        "POST",
        "/api/v1/teams",
        Some(json!({"name": "一组", "members": [a.clone()]})),
    )
    .await["id"]);

    at_cst(&t, 2, 9, 0);
    let (_v, conv) = t.visitor("王芳", "屏幕有划痕").await;
    let ca = t.as_role("agent@acme.test").await;
    let cb = t.as_role("agent2@acme.test").await;
    let customer =
        s(&ok(&ca, "GET", &format!("/api/v1/conversations/{conv}"), None).await["customer_id"]);
    let new = |c: &Client, subject: &str, me: &str, team: Option<&str>| {
        let mut body = json!({"subject": subject, "customer_id": customer, "channel": "email",
                              "assignee_id": me});
        if let Some(team) = team {
            body["team_id"] = json!(team);
        }
        let c = c.clone();
        async move { s(&ok(&c, "POST", "/api/v1/tickets", Some(body)).await["id"]) }
    };
    // All created Monday 09:00 (business hours run to 12:00).
    let t1 = new(&ca, "一", &a, Some(&team)).await;
    let t2 = new(&ca, "二", &a, None).await;
    let t3 = new(&ca, "三", &a, None).await;
    let t4 = new(&cb, "四", &b, None).await;
    let t5 = new(&cb, "五", &b, None).await;
    let reply = |c: &Client, id: &str| {
        let (c, p) = (c.clone(), format!("/api/v1/tickets/{id}/replies"));
        async move { ok(&c, "POST", &p, Some(json!({"body": "您好"}))).await }
    };
    let status = |c: &Client, id: &str, st: &str| {
        let (c, p, st) = (c.clone(), format!("/api/v1/tickets/{id}/status"), st.to_string());
        async move { ok(&c, "POST", &p, Some(json!({"status": st}))).await }
    };
    // Agent A: first responses 10, 30 and 60 min; T1 solved at 30 min, T2 solved at 60 min,
    // reopened and solved again at 120 min; T3 stays open.
    at_cst(&t, 2, 9, 10);
    reply(&ca, &t1).await;
    at_cst(&t, 2, 9, 20);
    reply(&cb, &t4).await; // B: 20 min.
    at_cst(&t, 2, 9, 30);
    reply(&ca, &t2).await;
    status(&ca, &t1, "solved").await;
    at_cst(&t, 2, 9, 40);
    status(&cb, &t4, "solved").await; // B: resolution 40 min.
    at_cst(&t, 2, 10, 0);
    reply(&ca, &t3).await;
    status(&ca, &t2, "solved").await;
    at_cst(&t, 2, 10, 30);
    status(&ca, &t2, "reopen").await;
    at_cst(&t, 2, 11, 0);
    status(&ca, &t2, "solved").await;
    // CSAT: A 5 and 4 in the week and 1 after it; B 2.
    csat(&t, 1, a_id, 5, 3).await;
    csat(&t, 2, a_id, 4, 4).await;
    csat(&t, 3, a_id, 1, 12).await;
    csat(&t, 4, b_id, 2, 5).await;

    at_cst(&t, 9, 9, 0);
    let sup = t.as_role("super@acme.test").await;
    let ca = t.as_role("agent@acme.test").await;
    let cb = t.as_role("agent2@acme.test").await;
    let v = ok(&sup, "GET", &format!("/api/v1/analytics/agents?{WEEK}"), None).await;
    assert_eq!((v["from"].as_str(), v["to"].as_str()), (Some("2026-11-02"), Some("2026-11-08")));
    let ra = row(&v, &a);
    assert_eq!(ra["name"], t.user("agent@acme.test").name.as_str());
    assert_eq!((ra["handled"].as_i64(), ra["created"].as_i64()), (Some(2), Some(3)), "{ra:#}");
    assert!(close(&ra["first_response_median_ms"], 30.0 * MIN), "{ra:#}");
    // p90 of 10, 30, 60 between the 2nd and 3rd ranks: 30 + 0.8 × 30 = 54 min.
    assert!(close(&ra["first_response_p90_ms"], 54.0 * MIN), "{ra:#}");
    assert!(close(&ra["first_response_ms"], 100.0 / 3.0 * MIN), "{ra:#}");
    // Resolution 30 and 120 min: median 75.
    assert!(close(&ra["resolution_median_ms"], 75.0 * MIN), "{ra:#}");
    assert!(close(&ra["reopen_rate"], 0.5), "{ra:#}");
    assert!(close(&ra["csat_avg"], 4.5), "{ra:#}");
    assert!(close(&ra["csat"], 1.0), "{ra:#}");
    assert_eq!(ra["csat_answers"], 2);
    assert_eq!(ra["open_tickets"], 1);
    let rb = row(&v, &b);
    assert_eq!((rb["handled"].as_i64(), rb["created"].as_i64()), (Some(1), Some(2)), "{rb:#}");
    assert!(close(&rb["first_response_median_ms"], 20.0 * MIN), "{rb:#}");
    assert!(close(&rb["first_response_p90_ms"], 20.0 * MIN), "{rb:#}");
    assert!(close(&rb["resolution_median_ms"], 40.0 * MIN), "{rb:#}");
    assert!(close(&rb["reopen_rate"], 0.0), "{rb:#}");
    assert!(close(&rb["csat_avg"], 2.0), "{rb:#}");
    assert!(close(&rb["csat"], 0.0), "{rb:#}");
    assert_eq!((rb["csat_answers"].as_i64(), rb["open_tickets"].as_i64()), (Some(1), Some(1)));
    // The same counters as the team KPIs: the agents add up to the workspace.
    let k = ok(&sup, "GET", &format!("/api/v1/analytics/kpis?{WEEK}"), None).await;
    assert_eq!(k["created"], 5);
    assert_eq!(
        ra["sla_attainment"].is_null(),
        k["sla_attainment"].is_null(),
        "both tracked or neither: {ra:#} {k:#}"
    );
    // A user with no figures is listed (routing serves them) with nulls.
    let rs = row(&v, &t.user("super@acme.test").id.to_string());
    assert_eq!(rs["handled"], 0);
    assert!(rs["first_response_median_ms"].is_null() && rs["csat_avg"].is_null(), "{rs:#}");

    // One team: its members, its tickets.
    let v1 =
        ok(&sup, "GET", &format!("/api/v1/analytics/agents?{WEEK}&team_id={team}"), None).await;
    assert_eq!(v1["agents"].as_array().map(Vec::len), Some(1), "{v1:#}");
    let r1 = row(&v1, &a);
    assert_eq!((r1["handled"].as_i64(), r1["created"].as_i64()), (Some(1), Some(1)), "{r1:#}");
    assert!(close(&r1["first_response_median_ms"], 10.0 * MIN), "{r1:#}");

    // Drill-down behind the cells.
    let ids = |v: &Value| {
        let mut x: Vec<String> = items(v).iter().map(|c| s(&c["ticket_id"])).collect();
        x.sort();
        x
    };
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    let cases = |q: String| {
        let sup = sup.clone();
        async move { ok(&sup, "GET", &format!("/api/v1/analytics/cases?{WEEK}&{q}"), None).await }
    };
    assert_eq!(
        ids(&cases(format!("set=handled&agent_id={a}")).await),
        sorted(vec![t1.clone(), t2.clone()])
    );
    assert_eq!(
        ids(&cases(format!("set=responded&agent_id={a}")).await),
        sorted(vec![t1.clone(), t2.clone(), t3.clone()])
    );
    assert_eq!(ids(&cases(format!("set=reopened&agent_id={a}")).await), vec![t2.clone()]);
    assert_eq!(ids(&cases(format!("set=open_now&agent_id={b}")).await), vec![t5.clone()]);
    let sv =
        ok(&sup, "GET", &format!("/api/v1/surveys?status=answered&kind=csat&agent_id={a}"), None)
            .await;
    assert_eq!(items(&sv).len(), 3, "{sv:#}");
    let r = sup.get("/api/v1/analytics/cases?agent_id=nope").await;
    assert_eq!((r.status, s(&r.body["code"])), (400, "invalid_field".into()), "{:?}", r.body);

    // A reassignment moves the ticket and its figures; open load follows.
    ok(&sup, "POST", &format!("/api/v1/tickets/{t3}/assign"), Some(json!({"assignee_id": b})))
        .await;
    let v2 = ok(&sup, "GET", &format!("/api/v1/analytics/agents?{WEEK}"), None).await;
    let (ra2, rb2) = (row(&v2, &a), row(&v2, &b));
    assert_eq!(
        (ra2["created"].as_i64(), ra2["open_tickets"].as_i64()),
        (Some(2), Some(0)),
        "{ra2:#}"
    );
    assert!(close(&ra2["first_response_median_ms"], 20.0 * MIN), "{ra2:#}");
    assert_eq!(
        (rb2["created"].as_i64(), rb2["open_tickets"].as_i64()),
        (Some(3), Some(2)),
        "{rb2:#}"
    );
    assert!(close(&rb2["first_response_median_ms"], 40.0 * MIN), "{rb2:#}");
    assert_eq!(
        ids(&cases(format!("set=open_now&agent_id={b}")).await),
        sorted(vec![t3.clone(), t5.clone()])
    );
    // A rebuild from the tickets gives the same figures.
    t.app.analytics_rebuild(t.ws.id, &|_, _| {}).await.expect("rebuild");
    assert_eq!(v2, ok(&sup, "GET", &format!("/api/v1/analytics/agents?{WEEK}"), None).await);

    // Handled counts by solve time: T5, created on the 2nd, solved on the 9th.
    at_cst(&t, 9, 10, 0);
    status(&cb, &t5, "solved").await;
    let day9 = "from=2026-11-09&to=2026-11-09";
    let v3 = ok(&sup, "GET", &format!("/api/v1/analytics/agents?{day9}"), None).await;
    let rb3 = row(&v3, &b);
    assert_eq!((rb3["handled"].as_i64(), rb3["created"].as_i64()), (Some(1), Some(0)), "{rb3:#}");
    let h =
        ok(&sup, "GET", &format!("/api/v1/analytics/cases?{day9}&set=handled&agent_id={b}"), None)
            .await;
    assert_eq!(ids(&h), vec![t5.clone()]);

    // CSV.
    let mut rq = sup.http.get(format!("{}/api/v1/analytics/agents?{WEEK}&format=csv", sup.base));
    if let Some(k) = &sup.cookie {
        rq = rq.header("cookie", k);
    }
    let r = rq.send().await.expect("request");
    assert_eq!(r.status().as_u16(), 200);
    let text = r.text().await.unwrap();
    assert!(text.contains("first_response_p90_ms"), "{text}");
    assert!(text.contains(&format!("{a},{}", t.user("agent@acme.test").name)), "{text}");

    // Roles: an agent sees only their own row, whatever they ask; others are refused.
    let mine = ok(&ca, "GET", &format!("/api/v1/analytics/agents?{WEEK}"), None).await;
    assert_eq!(mine["agents"].as_array().map(Vec::len), Some(1), "{mine:#}");
    assert_eq!(row(&mine, &a)["handled"], 2);
    let mine =
        ok(&cb, "GET", &format!("/api/v1/analytics/agents?{WEEK}&team_id={team}"), None).await;
    assert_eq!(mine["agents"].as_array().map(Vec::len), Some(1), "{mine:#}");
    assert_eq!(row(&mine, &b)["created"], 0, "B has no tickets in A's team: {mine:#}");
    let aud = t.as_role("audit@acme.test").await;
    assert_eq!(aud.get("/api/v1/analytics/agents").await.status, 403);
    let r = sup.get("/api/v1/analytics/agents?team_id=00000000-0000-7000-8000-000000000000").await;
    assert_eq!(r.status, 404, "{:?}", r.body);
    let r = sup.get("/api/v1/analytics/agents?from=2026-11-09&to=2026-11-01").await;
    assert_eq!((r.status, s(&r.body["field"])), (400, "from".into()), "{:?}", r.body);
}
on_backends!(per_agent_kpis_with_known_times, two_agents);
