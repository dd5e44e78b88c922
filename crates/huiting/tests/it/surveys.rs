//! Surveys after a solve (FB-1, FB-5) through the API: settings, the delayed send as a chat
//! message with a one-time link, answering once (410 on reuse), a low score reopening the
//! ticket to the special team, the reminder and the expiry's follow-up task, and the call-back
//! task of a solved complaint.

use std::time::Duration;

use serde_json::{Value, json};
use test_support::{Client, TestApp};

use crate::{items, on_backends, s};

const MIN: u64 = 60;
const HOUR: u64 = 3600;

/// A visitor's conversation with a ticket on it; returns (ticket id, conversation id).
async fn ticket_from_chat(t: &TestApp, agent: &Client, text: &str) -> (String, String) {
    let (_, conv) = t.visitor("韩梅梅", text).await;
    let c = agent.get(&format!("/api/v1/conversations/{conv}")).await;
    let tk = agent
        .post(
            "/api/v1/tickets",
            json!({"subject": text, "customer_id": c.body["customer_id"], "conversation_id": conv}),
        )
        .await;
    assert_eq!(tk.status, 201, "{:?}", tk.body);
    (s(&tk.body["id"]), conv)
}

async fn solve(agent: &Client, tk: &str) {
    let r = agent.post(&format!("/api/v1/tickets/{tk}/status"), json!({"status": "solved"})).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
}

/// The survey links posted on the ticket, oldest first.
async fn links(agent: &Client, tk: &str) -> Vec<String> {
    let m = agent.get(&format!("/api/v1/tickets/{tk}/messages")).await;
    items(&m.body)
        .iter()
        .filter(|m| m["visibility"] == "public" && m["sender"] == "system")
        .filter_map(|m| {
            let b = s(&m["body"]);
            let i = b.find("/survey/")?;
            Some(b[i + 8..].split(|c: char| c.is_whitespace()).next()?.to_string())
        })
        .collect()
}

async fn settings(t: &TestApp, special: Option<&str>) {
    let head = t.as_role("head@acme.test").await;
    let r = head
        .put(
            "/api/v1/surveys/settings",
            json!({"enabled": true, "kinds": ["csat", "nps"], "delay_minutes": 5,
                   "expiry_hours": 72, "reminder_hours": 24, "csat_low": 2, "nps_low": 6,
                   "ces_low": 3, "special_team_id": special,
                   "questions": [{"id": "speed", "text": "回复速度如何？", "type": "choice", "options": ["快", "慢"]}]}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
}

async fn low_score(t: TestApp) {
    let agent = t.as_role("agent@acme.test").await;
    let head = t.as_role("head@acme.test").await;
    let sup = t.as_role("super@acme.test").await;
    let team = head.post("/api/v1/teams", json!({"name": "客户关怀专项组", "skills": []})).await;
    assert_eq!(team.status, 201, "{:?}", team.body);
    let special = s(&team.body["id"]);
    // Bad settings are refused with the field named.
    let bad = head
        .put(
            "/api/v1/surveys/settings",
            json!({"enabled": true, "kinds": ["csat"], "delay_minutes": 5, "expiry_hours": 24,
                   "reminder_hours": 48, "csat_low": 2, "nps_low": 6, "ces_low": 3}),
        )
        .await;
    assert_eq!((bad.status, s(&bad.body["field"])), (400, "reminder_hours".into()), "{:?}", bad.body);
    assert_eq!(agent.put("/api/v1/surveys/settings", json!({})).await.status, 403);
    settings(&t, Some(&special)).await;
    assert_eq!(agent.get("/api/v1/surveys/settings").await.body["kinds"], json!(["csat", "nps"]));

    let (tk, _) = ticket_from_chat(&t, &agent, "电视开不了机").await;
    solve(&agent, &tk).await;
    let list = agent.get(&format!("/api/v1/surveys?ticket_id={tk}")).await;
    let surveys = items(&list.body);
    assert_eq!(surveys.len(), 2, "{:?}", list.body);
    assert!(surveys.iter().all(|v| v["status"] == "scheduled"));
    // Not before the delay.
    t.run_pending_jobs().await;
    assert!(links(&agent, &tk).await.is_empty());
    t.advance(Duration::from_secs(5 * MIN));
    t.run_pending_jobs().await;
    let l = links(&agent, &tk).await;
    assert_eq!(l.len(), 1, "one chat prompt with the link");
    let token = l[0].clone();
    assert!(items(&agent.get(&format!("/api/v1/surveys?ticket_id={tk}")).await.body)
        .iter()
        .all(|v| v["status"] == "sent"));

    let anon = t.anon();
    let form = anon.get(&format!("/api/v1/public/surveys/{token}")).await;
    assert_eq!(form.status, 200, "{:?}", form.body);
    let kinds: Vec<String> = items(&form.body["scales"]).iter().map(|k| s(&k["kind"])).collect();
    assert_eq!(kinds, ["csat", "nps"]);
    assert_eq!(form.body["questions"][0]["id"], "speed");
    assert_eq!(anon.get("/api/v1/public/surveys/sv_nope").await.status, 404);

    // Checked: a score out of range, a missing kind, an unknown question.
    let url = format!("/api/v1/public/surveys/{token}");
    let r = anon.post(&url, json!({"scores": {"csat": 9, "nps": 3}})).await;
    assert_eq!((r.status, s(&r.body["field"])), (400, "scores".into()), "{:?}", r.body);
    let r = anon.post(&url, json!({"scores": {"csat": 2}})).await;
    assert_eq!(r.status, 400, "{:?}", r.body);
    let r = anon.post(&url, json!({"scores": {"csat": 2, "nps": 3}, "answers": {"x": "1"}})).await;
    assert_eq!((r.status, s(&r.body["field"])), (400, "answers".into()));

    let r = anon
        .post(&url, json!({"scores": {"csat": 2, "nps": 3}, "comment": "等太久了", "answers": {"speed": "慢"}}))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    // Used once: reuse and reading are 410 with a clear body.
    let again = anon.post(&url, json!({"scores": {"csat": 5, "nps": 10}})).await;
    assert_eq!(again.status, 410, "{:?}", again.body);
    assert_eq!(again.body["code"], "gone");
    assert!(s(&again.body["message"]).contains("already answered"), "{:?}", again.body);
    assert_eq!(anon.get(&url).await.status, 410);

    // The low score reopened the ticket and moved it to the special team.
    let tkt = agent.get(&format!("/api/v1/tickets/{tk}")).await;
    assert_eq!(tkt.body["status"], "reopen", "{:?}", tkt.body);
    assert_eq!(tkt.body["team_id"], Value::from(special.clone()));
    assert!(items(&tkt.body["tags"]).contains(&json!("low_score")));
    assert_eq!(tkt.body["urgency"], "urgent");
    let answered = items(&agent.get(&format!("/api/v1/surveys?ticket_id={tk}")).await.body);
    assert!(answered.iter().all(|v| v["status"] == "answered" && v["low_score"] == true));
    let csat = answered.iter().find(|v| v["kind"] == "csat").unwrap();
    assert_eq!((csat["score"].as_i64(), s(&csat["comment"])), (Some(2), "等太久了".into()));
    assert_eq!(csat["answers"]["speed"], "慢");
    let notes = agent.get(&format!("/api/v1/tickets/{tk}/messages")).await;
    assert!(items(&notes.body)
        .iter()
        .any(|m| m["visibility"] == "internal" && s(&m["body"]).contains("低分预警")));
    let n = sup.get("/api/v1/notifications").await;
    assert!(items(&n.body).iter().any(|x| x["kind"] == "survey.low_score"), "{:?}", n.body);
    let hist = agent.get(&format!("/api/v1/tickets/{tk}/history")).await;
    assert!(items(&hist.body).iter().any(|e| e["action"] == "ticket.status"));
}
on_backends!(survey_low_score_reopens_to_special_team, low_score);

async fn unanswered(t: TestApp) {
    settings(&t, None).await;
    let agent = t.as_role("agent@acme.test").await;
    let (tk, _) = ticket_from_chat(&t, &agent, "快递一直没到").await;
    solve(&agent, &tk).await;
    t.advance(Duration::from_secs(5 * MIN));
    t.run_pending_jobs().await;
    let first = links(&agent, &tk).await;
    assert_eq!(first.len(), 1);
    t.advance(Duration::from_secs(24 * HOUR));
    t.run_pending_jobs().await;
    let both = links(&agent, &tk).await;
    assert_eq!(both.len(), 2, "the reminder carries a second link");
    assert!(items(&agent.get(&format!("/api/v1/surveys?ticket_id={tk}")).await.body)
        .iter()
        .all(|v| v["status"] == "reminded"));
    // Both links work until the survey closes.
    let anon = t.anon();
    for l in &both {
        assert_eq!(anon.get(&format!("/api/v1/public/surveys/{l}")).await.status, 200);
    }
    t.advance(Duration::from_secs(48 * HOUR));
    t.run_pending_jobs().await;
    let list = items(&agent.get(&format!("/api/v1/surveys?ticket_id={tk}")).await.body);
    assert!(list.iter().all(|v| v["status"] == "expired"), "{list:?}");
    let follow = s(&list[0]["followup_ticket_id"]);
    assert!(!follow.is_empty());
    let f = agent.get(&format!("/api/v1/tickets/{follow}")).await;
    assert_eq!(f.status, 200, "{:?}", f.body);
    assert!(items(&f.body["tags"]).contains(&json!("survey_followup")));
    let r = anon.post(&format!("/api/v1/public/surveys/{}", both[0]), json!({"scores": {"csat": 5, "nps": 9}})).await;
    assert_eq!(r.status, 410);
    assert!(s(&r.body["message"]).contains("expired"), "{:?}", r.body);
    // The follow-up task itself gets no survey when solved.
    solve(&agent, &follow).await;
    t.advance(Duration::from_secs(HOUR));
    t.run_pending_jobs().await;
    assert!(items(&agent.get(&format!("/api/v1/surveys?ticket_id={follow}")).await.body).is_empty());
}
on_backends!(survey_reminder_then_followup_task, unanswered);

async fn complaint_callback(t: TestApp) {
    let agent = t.as_role("agent@acme.test").await;
    let (tk, conv) = ticket_from_chat(&t, &agent, "我要投诉，你们的快递太差了，东西都坏了").await;
    // The message is classified by the job the ingest batch enqueued.
    t.run_pending_jobs().await;
    let sig = agent.get("/api/v1/signals?source=message").await;
    let mine: Vec<Value> =
        items(&sig.body).into_iter().filter(|x| x["conversation_id"] == json!(conv)).collect();
    assert_eq!(mine.len(), 1, "{:?}", sig.body);
    assert_eq!(mine[0]["kind"], "complaint");
    solve(&agent, &tk).await;
    let tasks = agent.get("/api/v1/tickets?tag=callback").await;
    let list = items(&tasks.body);
    assert_eq!(list.len(), 1, "{:?}", tasks.body);
    let fields = &list[0]["custom_fields"];
    let due = s(&fields["due_at"]);
    assert!(!due.is_empty(), "{fields:?}");
    let at = time::OffsetDateTime::parse(&due, &time::format_description::well_known::Rfc3339).unwrap();
    let solved = agent.get(&format!("/api/v1/tickets/{tk}")).await;
    let solved_at = time::OffsetDateTime::parse(&s(&solved.body["solved_at"]), &time::format_description::well_known::Rfc3339).unwrap();
    assert_eq!((at - solved_at).whole_hours(), 48);
}
on_backends!(solved_complaint_gets_callback_task, complaint_callback);
