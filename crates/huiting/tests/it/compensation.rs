//! Compensation within authority (TK-7) through the API: immediate grants with the report
//! timer, the approval chain agent → supervisor → cs_head, rejection, self-approval, limits.

use std::time::Duration;

use serde_json::{Value, json};
use test_support::{Client, TestApp};

use crate::{items, on_backends, s};

async fn ticket(t: &TestApp, agent: &Client) -> String {
    let c = agent.post("/api/v1/customers", json!({"name": "王五", "phone": "13800001111"})).await;
    let tk = agent
        .post("/api/v1/tickets", json!({"subject": "电视黑屏", "customer_id": c.body["id"]}))
        .await;
    assert_eq!(tk.status, 201, "{:?}", tk.body);
    let _ = t;
    s(&tk.body["id"])
}

async fn request(c: &Client, ticket: &str, yuan: i64) -> Value {
    let r = c
        .post(
            &format!("/api/v1/tickets/{ticket}/compensations"),
            json!({"type": "voucher", "amount_fen": yuan * 100, "basis": "屏幕坏点，按质保政策补偿"}),
        )
        .await;
    assert_eq!(r.status, 201, "request ¥{yuan}: {:?}", r.body);
    r.body
}

fn queue_ids(v: &Value) -> Vec<String> {
    items(v).iter().map(|c| s(&c["id"])).collect()
}

async fn chain(t: TestApp) {
    let agent = t.as_role("agent@acme.test").await;
    let agent2 = t.as_role("agent2@acme.test").await;
    let sup = t.as_role("super@acme.test").await;
    let head = t.as_role("head@acme.test").await;
    let admin = t.as_role("admin@acme.test").await;
    let tk = ticket(&t, &agent).await;

    // Within the agent's ¥2,000: granted at once, report due in 48 h.
    let g = request(&agent, &tk, 2_000).await;
    assert_eq!(g["outcome"], "granted");
    assert_eq!(g["compensation"]["amount_display"], "¥2,000");
    assert_eq!(g["compensation"]["granted_level"], "agent");
    assert_eq!(g["compensation"]["report_status"], "due");
    assert_eq!(g["compensation"]["report_due_at"], "2026-11-04T01:00:00Z");

    // Above it: pending at the supervisor; agents cannot decide it, the requester least of all.
    let p = request(&agent, &tk, 3_000).await;
    assert_eq!(p["outcome"], "escalated");
    assert_eq!(p["compensation"]["pending_level"], "supervisor");
    let id = s(&p["compensation"]["id"]);
    for c in [&agent, &agent2, &admin] {
        let r = c.post(&format!("/api/v1/compensations/{id}/approve"), json!({})).await;
        assert_eq!(r.status, 403, "{:?}", r.body);
    }
    assert_eq!(
        queue_ids(&sup.get("/api/v1/compensations?status=pending").await.body),
        [id.as_str()]
    );
    let r = sup.post(&format!("/api/v1/compensations/{id}/approve"), json!({"note": "同意"})).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["outcome"], "granted");
    assert_eq!(r.body["compensation"]["granted_level"], "supervisor");
    assert_eq!(r.body["compensation"]["report_status"], "not_required");
    let again = head.post(&format!("/api/v1/compensations/{id}/approve"), json!({})).await;
    assert_eq!((again.status, s(&again.body["code"])), (409, "conflict".into()));

    // ¥8,000: the supervisor's approval passes it up; only the head grants it.
    let big = request(&agent, &tk, 8_000).await;
    let big_id = s(&big["compensation"]["id"]);
    let r = sup.post(&format!("/api/v1/compensations/{big_id}/approve"), json!({})).await;
    assert_eq!(r.body["outcome"], "escalated", "{:?}", r.body);
    assert_eq!(r.body["compensation"]["status"], "pending");
    assert_eq!(r.body["compensation"]["pending_level"], "cs_head");
    assert!(queue_ids(&sup.get("/api/v1/compensations?status=pending").await.body).is_empty());
    assert_eq!(
        queue_ids(&head.get("/api/v1/compensations?status=pending").await.body),
        [big_id.as_str()]
    );
    let r = sup.post(&format!("/api/v1/compensations/{big_id}/approve"), json!({})).await;
    assert_eq!(r.status, 403, "a supervisor cannot act at the head's level: {:?}", r.body);
    let r = head.post(&format!("/api/v1/compensations/{big_id}/approve"), json!({})).await;
    assert_eq!(r.body["outcome"], "granted");
    let steps: Vec<(String, String)> = r.body["compensation"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["level"].as_str().unwrap().into(), s["action"].as_str().unwrap().into()))
        .collect();
    assert_eq!(
        steps,
        [
            ("supervisor".to_string(), "escalated".to_string()),
            ("cs_head".into(), "approved".into())
        ]
    );

    // A supervisor's own request above ¥5,000 waits for the head; nobody decides their own.
    let own = request(&sup, &tk, 6_000).await;
    let own_id = s(&own["compensation"]["id"]);
    assert_eq!(own["compensation"]["pending_level"], "cs_head");
    let r = sup.post(&format!("/api/v1/compensations/{own_id}/approve"), json!({})).await;
    assert_eq!(r.status, 403, "{:?}", r.body);
    assert!(s(&r.body["message"]).contains("someone else"), "{:?}", r.body);
    let r =
        head.post(&format!("/api/v1/compensations/{own_id}/reject"), json!({"reason": " "})).await;
    assert_eq!((r.status, s(&r.body["field"])), (400, "reason".into()));
    let r = head
        .post(&format!("/api/v1/compensations/{own_id}/reject"), json!({"reason": "超出政策范围"}))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["status"], "rejected");
    assert_eq!(r.body["rejected_reason"], "超出政策范围");

    // The basis is mandatory; amounts are positive fen; types are a closed set.
    for (body, field) in [
        (json!({"type": "voucher", "amount_fen": 100, "basis": ""}), "basis"),
        (json!({"type": "voucher", "amount_fen": 0, "basis": "x"}), "amount_fen"),
        (json!({"type": "cash", "amount_fen": 100, "basis": "x"}), "type"),
    ] {
        let r = agent.post(&format!("/api/v1/tickets/{tk}/compensations"), body).await;
        assert_eq!((r.status, s(&r.body["field"])), (400, field.to_string()), "{:?}", r.body);
    }

    // Limits are configuration: with the head capped at ¥10,000, ¥20,000 has no approver.
    let bad = admin
        .put(
            "/api/v1/settings/compensation-limits",
            json!({"agent_fen": 900000, "supervisor_fen": 500000, "cs_head_fen": null, "report_hours": 48}),
        )
        .await;
    assert_eq!(bad.status, 400, "{:?}", bad.body);
    let r = admin
        .put(
            "/api/v1/settings/compensation-limits",
            json!({"agent_fen": 100000, "supervisor_fen": 500000, "cs_head_fen": 1000000, "report_hours": 24}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(agent.get("/api/v1/settings/compensation-limits").await.body["agent_fen"], 100000);
    let r = agent
        .post(
            &format!("/api/v1/tickets/{tk}/compensations"),
            json!({"type": "refund", "amount_fen": 2_000_000, "basis": "整机退款"}),
        )
        .await;
    assert_eq!((r.status, s(&r.body["code"])), (409, "over_authority".into()), "{:?}", r.body);
    // ¥1,500 is now above the agent's ¥1,000.
    assert_eq!(request(&agent, &tk, 1_500).await["outcome"], "escalated");

    // Everything is on the ticket: its list and its history.
    let list = agent.get(&format!("/api/v1/tickets/{tk}/compensations")).await;
    assert_eq!(items(&list.body).len(), 5);
    let hist = agent.get(&format!("/api/v1/tickets/{tk}/history")).await;
    let actions: Vec<String> = items(&hist.body).iter().map(|e| s(&e["action"])).collect();
    for a in ["compensation.request", "compensation.approve", "compensation.reject"] {
        assert!(actions.iter().any(|x| x == a), "{a} missing from {actions:?}");
    }
    // Agents see their own requests only; the other agent has none.
    assert!(items(&agent2.get("/api/v1/compensations").await.body).is_empty());
    assert_eq!(items(&agent.get("/api/v1/compensations?status=granted").await.body).len(), 3);
}
on_backends!(compensation_follows_the_approval_chain, chain);

async fn report_timer(t: TestApp) {
    let agent = t.as_role("agent@acme.test").await;
    let agent2 = t.as_role("agent2@acme.test").await;
    let tk = ticket(&t, &agent).await;
    let late = s(&request(&agent, &tk, 1_000).await["compensation"]["id"]);
    let filed = s(&request(&agent, &tk, 200).await["compensation"]["id"]);
    let r = agent2
        .post(&format!("/api/v1/compensations/{filed}/report"), json!({"report": "代填"}))
        .await;
    assert_eq!(r.status, 403, "only the granting agent reports: {:?}", r.body);
    let r = agent
        .post(
            &format!("/api/v1/compensations/{filed}/report"),
            json!({"report": "已发放，客户确认"}),
        )
        .await;
    assert_eq!(r.body["report_status"], "filed", "{:?}", r.body);

    // One second before the deadline nothing happens.
    t.advance(Duration::from_secs(48 * 3600 - 1));
    t.run_pending_jobs().await;
    // Sessions last 12 hours; log in again after stepping the clock.
    let get = |id: String| {
        let tk = tk.clone();
        let t = &t;
        async move {
            let agent = t.as_role("agent@acme.test").await;
            let l = agent.get(&format!("/api/v1/tickets/{tk}/compensations")).await;
            items(&l.body).into_iter().find(|c| s(&c["id"]) == id).unwrap()
        }
    };
    assert_eq!(get(late.clone()).await["report_status"], "due");
    t.advance(Duration::from_secs(1));
    assert!(t.run_pending_jobs().await >= 1);
    assert_eq!(get(late.clone()).await["report_status"], "overdue");
    assert_eq!(get(filed.clone()).await["report_status"], "filed");

    // The supervisors are told: an internal note on the ticket, and the overdue queue.
    let sup = t.as_role("super@acme.test").await;
    let agent = t.as_role("agent@acme.test").await;
    let msgs = sup.get(&format!("/api/v1/tickets/{tk}/messages")).await;
    let notes: Vec<Value> = items(&msgs.body)
        .into_iter()
        .filter(|m| m["sender"] == "system" && m["visibility"] == "internal")
        .collect();
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(s(&notes[0]["body"]).contains("补偿报告逾期"), "{notes:?}");
    let overdue = sup.get("/api/v1/compensations?report_status=overdue").await;
    assert_eq!(queue_ids(&overdue.body), [late.as_str()]);
    let hist = sup.get(&format!("/api/v1/tickets/{tk}/history")).await;
    assert!(
        items(&hist.body)
            .iter()
            .any(|e| e["action"] == "compensation.report_overdue" && e["actor"] == "system")
    );
    // The customer never sees it.
    assert!(
        !items(&msgs.body)
            .iter()
            .any(|m| m["visibility"] == "public" && s(&m["body"]).contains("补偿"))
    );

    // Running the worker again changes nothing; a late report is still taken.
    t.advance(Duration::from_secs(3600));
    t.run_pending_jobs().await;
    let notes_after = items(&sup.get(&format!("/api/v1/tickets/{tk}/messages")).await.body)
        .into_iter()
        .filter(|m| m["sender"] == "system" && m["visibility"] == "internal")
        .count();
    assert_eq!(notes_after, 1);
    let r = agent
        .post(&format!("/api/v1/compensations/{late}/report"), json!({"report": "补交报告"}))
        .await;
    assert_eq!(r.body["report_status"], "filed", "{:?}", r.body);
}
on_backends!(compensation_report_timer_fires_at_48_hours, report_timer);
