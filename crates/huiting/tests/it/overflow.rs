//! Overflow re-routing (TK-5): a ticket waiting unassigned in its team longer than the team's
//! overflow delay is routed again by a durable job — into the overflow team's queue, or to an
//! agent of that team who is free — and a ticket a person placed meanwhile is left alone.

use serde_json::{Value, json};
use test_support::TestApp;

use crate::{on_backends, s};

on_backends!(waiting_tickets_overflow_to_the_next_team, |t: TestApp| async move {
    let admin = t.as_role("admin@acme.test").await;
    let a1 = t.as_role("agent@acme.test").await;
    let a2 = t.as_role("agent2@acme.test").await;
    let (id1, id2) =
        (t.user("agent@acme.test").id.to_string(), t.user("agent2@acme.test").id.to_string());
    let team = |name: &str, skills: Value, member: &str| {
        let body = json!({"name": name, "skills": skills, "members": [member]});
        let admin = admin.clone();
        async move {
            let r = admin.post("/api/v1/teams", body).await;
            assert_eq!(r.status, 201, "{:?}", r.body);
            s(&r.body["id"])
        }
    };
    let home = team("质量一线", json!(["PQ"]), &id1).await;
    let spill = team("溢出支援", json!(["SP"]), &id2).await;
    let r = admin
        .put(
            &format!("/api/v1/teams/{home}/routing"),
            json!({"strategy": "least_loaded", "overflow_team_id": spill, "overflow_after_seconds": 600}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let customer = s(&a1.post("/api/v1/customers", json!({"name": "孙先生"})).await.body["id"]);
    let open = || {
        let a1 = a1.clone();
        let body = json!({"subject": "屏幕闪烁", "customer_id": customer, "problem_code": "PQ-03"});
        async move {
            let r = a1.post("/api/v1/tickets", body).await;
            assert_eq!(r.status, 201, "{:?}", r.body);
            assert_eq!(r.body["assignee_id"], Value::Null, "nobody is online: {:?}", r.body);
            s(&r.body["id"])
        }
    };
    let get = |id: String| {
        let a1 = a1.clone();
        async move { a1.get(&format!("/api/v1/tickets/{id}")).await.body }
    };

    // Nobody online anywhere: after the wait the ticket moves to the overflow team's queue.
    let first = open().await;
    assert_eq!(s(&get(first.clone()).await["team_id"]), home);
    t.advance(std::time::Duration::from_secs(599));
    t.run_pending_jobs().await;
    assert_eq!(s(&get(first.clone()).await["team_id"]), home, "not before the delay");
    t.advance(std::time::Duration::from_secs(1));
    assert!(t.run_pending_jobs().await >= 1);
    let moved = get(first.clone()).await;
    assert_eq!((s(&moved["team_id"]), moved["assignee_id"].clone()), (spill.clone(), Value::Null));

    // With agent 2 online, the next ticket goes to them once it has waited.
    let a1 = t.as_role("agent@acme.test").await;
    let on = a2.put("/api/v1/me/presence", json!({"presence": "online"})).await;
    assert_eq!(on.status, 200, "{:?}", on.body);
    let second = open().await;
    let third = open().await;
    // A person places the third meanwhile: overflow leaves it alone.
    let placed =
        a1.post(&format!("/api/v1/tickets/{third}/assign"), json!({"assignee_id": id1})).await;
    assert_eq!(placed.status, 200, "{:?}", placed.body);
    t.advance(std::time::Duration::from_secs(600));
    assert!(t.run_pending_jobs().await >= 2);
    let a1 = t.as_role("agent@acme.test").await;
    let got = a1.get(&format!("/api/v1/tickets/{second}")).await.body;
    assert_eq!((s(&got["assignee_id"]), s(&got["team_id"])), (id2.clone(), spill.clone()), "{got}");
    assert_eq!(got["status"], "open");
    let kept = a1.get(&format!("/api/v1/tickets/{third}")).await.body;
    assert_eq!((s(&kept["assignee_id"]), s(&kept["team_id"])), (id1.clone(), home.clone()));
    let hist = a1.get(&format!("/api/v1/tickets/{second}/history")).await;
    assert!(
        hist.body
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "ticket.route"
                && e["after"].to_string().contains("overflow from")),
        "{:?}",
        hist.body
    );
    // The overflow team's ticket waits there: no further hop is configured.
    assert_eq!(t.run_pending_jobs().await, 0);
});
