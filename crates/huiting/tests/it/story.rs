//! The storage conformance story: the same scenario on SQLite and PostgreSQL, checking the
//! invariants the rest of the system leans on (gapless events, audit chain, isolation,
//! merges, exactly-once jobs).

use serde_json::json;
use test_support::TestApp;

use crate::{items, on_backends, s};

async fn story(t: TestApp) {
    let agent = t.as_role("agent@acme.test").await;
    let sup = t.as_role("super@acme.test").await;
    let a =
        agent.post("/api/v1/customers", json!({"name": "陈静", "email": "chen@example.com"})).await;
    let b = agent
        .post(
            "/api/v1/customers",
            json!({"name": "陈静 (微信)", "external_id": "wechat:oAbc123", "tier": "vip"}),
        )
        .await;
    let (a, b) = (s(&a.body["id"]), s(&b.body["id"]));
    let tk = agent.post("/api/v1/tickets", json!({"subject": "退款未到账", "customer_id": b, "problem_code": "TD-01", "description": "退款一周了还没到"})).await;
    assert_eq!(tk.status, 201);

    // Merging moves identities and tickets; the duplicate stays as a pointer.
    let forbidden = agent.post(&format!("/api/v1/customers/{a}/merge"), json!({"from": b})).await;
    assert_eq!(forbidden.status, 403, "agents may not merge");
    let m = sup.post(&format!("/api/v1/customers/{a}/merge"), json!({"from": b})).await;
    assert_eq!(m.status, 200, "{:?}", m.body);
    assert_eq!(m.body["tier"], "vip");
    assert_eq!(m.body["identities"].as_array().unwrap().len(), 2);
    let moved = agent.get(&format!("/api/v1/tickets?customer_id={a}")).await;
    assert_eq!(items(&moved.body).len(), 1);
    let old = agent.get(&format!("/api/v1/customers/{b}")).await;
    assert_eq!(old.body["merged_into"], json!(a));
    let search = agent.get("/api/v1/customers?q=wechat:oAbc123").await;
    assert_eq!(items(&search.body).len(), 1);
    assert_eq!(items(&search.body)[0]["id"], json!(a));

    // Solving the ticket resolves its conversation.
    let id = s(&tk.body["id"]);
    agent.post(&format!("/api/v1/tickets/{id}/status"), json!({"status": "solved"})).await;
    let conv = s(&tk.body["conversation_id"]);
    let c = agent.get(&format!("/api/v1/conversations/{conv}")).await;
    assert_eq!(c.body["status"], "resolved");
    let reply = agent
        .post(
            &format!("/api/v1/conversations/{conv}/messages"),
            json!({"body": "已核实，退款已重新发起"}),
        )
        .await;
    assert_eq!(reply.status, 201);

    // Events: gapless, ordered, and the outbox matches what happened.
    let ev = agent.get("/api/v1/events?since=0&limit=1000").await;
    let seqs: Vec<i64> = items(&ev.body).iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert!(!seqs.is_empty());
    assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "gapless: {seqs:?}");
    let kinds: Vec<String> = items(&ev.body).iter().map(|e| s(&e["type"])).collect();
    assert!(kinds.contains(&"customer.merged".to_string()));
    assert!(kinds.contains(&"ticket.status_changed".to_string()));

    // Isolation: the other workspace's admin sees none of it.
    let other = t.login("other", "admin@other.test").await;
    assert_eq!(other.get(&format!("/api/v1/tickets/{id}")).await.status, 404);
    assert_eq!(other.get(&format!("/api/v1/customers/{a}")).await.status, 404);
    assert_eq!(items(&other.get("/api/v1/tickets").await.body).len(), 0);
    assert_eq!(items(&other.get("/api/v1/customers").await.body).len(), 0);
    let oev = other.get("/api/v1/events?since=0").await;
    assert!(items(&oev.body).iter().all(|e| e["type"] != "ticket.created"));

    // The audit chain verifies, through the API, for each workspace.
    let auditor = t.as_role("audit@acme.test").await;
    let v = auditor.get("/api/v1/audit/verify").await;
    assert_eq!(v.body["ok"], true, "{:?}", v.body);
    assert!(v.body["entries"].as_i64().unwrap() > 10);
    assert_eq!(agent.get("/api/v1/audit/verify").await.status, 403);
    let log = auditor.get("/api/v1/audit?object_type=customer&limit=3").await;
    let actions: Vec<String> = items(&log.body).iter().map(|e| s(&e["action"])).collect();
    assert_eq!(actions, ["customer.merge", "customer.merge_away", "customer.create"]);
}
on_backends!(conformance_story, story);

async fn jobs_run_once(t: TestApp) {
    t.surveys_off().await;
    let agent = t.as_role("agent@acme.test").await;
    let c = agent.post("/api/v1/customers", json!({"name": "赵敏"})).await;
    let mut ids = Vec::new();
    for i in 0..3 {
        let r = agent
            .post(
                "/api/v1/tickets",
                json!({"subject": format!("问题 {i}"), "customer_id": s(&c.body["id"])}),
            )
            .await;
        let id = s(&r.body["id"]);
        agent.post(&format!("/api/v1/tickets/{id}/status"), json!({"status": "solved"})).await;
        ids.push(id);
    }
    // One is reopened and solved again later: its first auto-close job must not close it early.
    agent.post(&format!("/api/v1/tickets/{}/status", ids[2]), json!({"status": "reopen"})).await;
    t.advance(std::time::Duration::from_secs(3600));
    agent.post(&format!("/api/v1/tickets/{}/status", ids[2]), json!({"status": "solved"})).await;
    // The similar-tickets index jobs of these status changes are due at once; run them now so
    // the race below is over the auto-close timers alone.
    t.run_pending_jobs().await;
    t.advance(std::time::Duration::from_secs(4 * 24 * 3600 - 1800));
    // Sessions expire in 12 hours; four days later the agent logs in again.
    let agent = t.as_role("agent@acme.test").await;
    // Two workers race for the same due jobs.
    let (a, b) = tokio::join!(
        t.app.run_jobs_once("w1", t.app.now()),
        t.app.run_jobs_once("w2", t.app.now())
    );
    let ran = |o: app::jobs::Outcome| match o {
        app::jobs::Outcome::Ran(n) => n,
        app::jobs::Outcome::Empty => 0,
    };
    assert_eq!(ran(a.unwrap()) + ran(b.unwrap()), 3, "three jobs due, each claimed once");
    let statuses: Vec<String> = {
        let mut v = Vec::new();
        for id in &ids {
            v.push(s(&agent.get(&format!("/api/v1/tickets/{id}")).await.body["status"]));
        }
        v
    };
    assert_eq!(statuses, ["closed", "closed", "solved"]);
    t.advance(std::time::Duration::from_secs(3600));
    assert_eq!(t.run_pending_jobs().await, 1);
    assert_eq!(
        s(&agent.get(&format!("/api/v1/tickets/{}", ids[2])).await.body["status"]),
        "closed"
    );
    let hist = agent.get(&format!("/api/v1/tickets/{}/history", ids[0])).await;
    let closes = items(&hist.body).iter().filter(|e| e["after"]["status"] == "closed").count();
    assert_eq!(closes, 1, "closed exactly once");
}
on_backends!(jobs_fire_once_and_ignore_stale_timers, jobs_run_once);
