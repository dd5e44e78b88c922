//! Triggers end to end: rules are checked on save (400 naming the bad node's path), kept by
//! admin and cs_head only, run in the transaction of the ticket change that fires them (fields,
//! tags and a template reply, audited as `system`), and a pair of rules that undo each other
//! ends instead of looping.

use serde_json::{Value, json};
use test_support::TestApp;

use crate::{on_backends, s};

on_backends!(triggers_are_checked_and_run_with_the_change, |t: TestApp| async move {
    let head = t.as_role("head@acme.test").await;
    let agent = t.as_role("agent@acme.test").await;

    // Checked on save: every bad node is named by its path.
    let bad = head
        .post(
            "/api/v1/triggers",
            json!({
                "name": "坏规则",
                "when": {"events": ["ticket.created"]},
                "if": {"all": [{"field": "ticket.hours_in_status", "op": "contains", "value": "x"}]},
                "then": [{"type": "set_status", "value": "done"}]
            }),
        )
        .await;
    assert_eq!(bad.status, 400, "{:?}", bad.body);
    assert_eq!(bad.body["field"], "rule");
    let msg = s(&bad.body["message"]);
    assert!(msg.contains("if.all[0].op") && msg.contains("then[0].value"), "{msg}");
    let webhook = head
        .post(
            "/api/v1/triggers",
            json!({"name": "外呼", "when": {"events": ["ticket.created"]}, "if": {"all": []},
                   "then": [{"type": "webhook", "url": "https://example.com/hook"}]}),
        )
        .await;
    assert_eq!(webhook.status, 400, "not executed yet, so not stored: {:?}", webhook.body);
    let by_agent = agent
        .post(
            "/api/v1/triggers",
            json!({"name": "x", "when": {"events": ["ticket.created"]}, "if": {"all": []}, "then": [{"type": "unassign"}]}),
        )
        .await;
    assert_eq!(by_agent.status, 403);

    // VIP tickets become urgent, get a tag and a template reply.
    let vip_rule = head
        .post(
            "/api/v1/triggers",
            json!({
                "name": "VIP 加急",
                "when": {"events": ["ticket.created"]},
                "if": {"field": "customer.tier", "op": "eq", "value": "vip"},
                "then": [
                    {"type": "set_urgency", "value": "urgent"},
                    {"type": "add_tag", "value": "vip"},
                    {"type": "reply", "template_zh": "{{customer.name}}您好，工单 {{ticket.number}} 已加急处理。",
                     "template_en": "Ticket {{ticket.number}} is being expedited."}
                ]
            }),
        )
        .await;
    assert_eq!(vip_rule.status, 201, "{:?}", vip_rule.body);
    assert_eq!(vip_rule.body["if"]["op"], "eq");
    let listed = agent.get("/api/v1/triggers").await;
    assert_eq!(listed.body.as_array().map(Vec::len), Some(1));

    let vip = s(&agent
        .post("/api/v1/customers", json!({"name": "李总", "tier": "vip"}))
        .await
        .body["id"]);
    let plain = s(&agent.post("/api/v1/customers", json!({"name": "王女士"})).await.body["id"]);
    let tk =
        agent.post("/api/v1/tickets", json!({"subject": "屏幕闪烁", "customer_id": vip})).await;
    assert_eq!(tk.status, 201, "{:?}", tk.body);
    assert_eq!(tk.body["urgency"], "urgent");
    assert_eq!(tk.body["tags"], json!(["vip"]));
    let id = s(&tk.body["id"]);
    let msgs = agent.get(&format!("/api/v1/tickets/{id}/messages")).await;
    let bodies: Vec<String> = msgs.body.as_array().unwrap().iter().map(|m| s(&m["body"])).collect();
    let number = s(&tk.body["number"]);
    assert!(
        bodies.iter().any(|b| b.starts_with(&format!("李总您好，工单 {number} 已加急处理。"))),
        "{bodies:?}"
    );
    let hist = agent.get(&format!("/api/v1/tickets/{id}/history")).await;
    let actions: Vec<Value> =
        hist.body.as_array().unwrap().iter().map(|e| e["action"].clone()).collect();
    assert!(actions.contains(&json!("trigger.fire")), "{actions:?}");
    let ordinary =
        agent.post("/api/v1/tickets", json!({"subject": "咨询", "customer_id": plain})).await;
    assert_eq!(
        (ordinary.body["urgency"].clone(), ordinary.body["tags"].clone()),
        (json!("normal"), json!([]))
    );

    // Two rules that undo each other: the change completes, each fires once, nothing loops.
    for (name, when, op, action) in [
        ("加标签", json!({"events": ["ticket.updated"]}), "not_contains", "add_tag"),
        ("去标签", json!({"events": ["ticket.tags_changed"]}), "contains", "remove_tag"),
    ] {
        let r = head
            .post(
                "/api/v1/triggers",
                json!({"name": name, "when": when, "if": {"field": "ticket.tags", "op": op, "value": "ping"},
                       "then": [{"type": action, "value": "ping"}]}),
            )
            .await;
        assert_eq!(r.status, 201, "{:?}", r.body);
    }
    let ch = agent
        .patch(
            &format!("/api/v1/tickets/{}", s(&ordinary.body["id"])),
            json!({"subject": "咨询（已补充）"}),
        )
        .await;
    assert_eq!(ch.status, 200, "{:?}", ch.body);
    assert_eq!(ch.body["tags"], json!([]));

    // Deactivated, a rule no longer fires; deleted, it is gone.
    let rule_id = s(&vip_rule.body["id"]);
    let off = head
        .put(
            &format!("/api/v1/triggers/{rule_id}"),
            json!({"name": "VIP 加急", "active": false, "when": {"events": ["ticket.created"]},
                   "if": {"field": "customer.tier", "op": "eq", "value": "vip"},
                   "then": [{"type": "add_tag", "value": "vip"}]}),
        )
        .await;
    assert_eq!((off.status, off.body["active"].clone()), (200, json!(false)));
    let again = agent.post("/api/v1/tickets", json!({"subject": "再次", "customer_id": vip})).await;
    assert_eq!(again.body["tags"], json!([]));
    assert_eq!(head.delete(&format!("/api/v1/triggers/{rule_id}")).await.status, 204);
    assert_eq!(agent.get(&format!("/api/v1/triggers/{rule_id}")).await.status, 404);
    assert_eq!(agent.get("/api/v1/triggers/not-an-id").await.status, 404);

    // A time-driven automation: pending for more than 48 h → tagged and noted, once.
    let stale = head
        .post(
            "/api/v1/triggers",
            json!({
                "name": "待回复超 48 小时",
                "when": "time",
                "if": {"all": [{"field": "ticket.status", "op": "eq", "value": "pending"},
                               {"field": "ticket.hours_in_status", "op": "gt", "value": 48}]},
                "then": [{"type": "add_tag", "value": "stale"},
                         {"type": "notify", "to": "assignee", "text_zh": "{{ticket.number}} 已等待 {{ticket.hours_in_status}} 小时", "text_en": "waiting"}]
            }),
        )
        .await;
    assert_eq!(stale.status, 201, "{:?}", stale.body);
    let pending_id = s(&ordinary.body["id"]);
    let p = agent
        .post(&format!("/api/v1/tickets/{pending_id}/status"), json!({"status": "pending"}))
        .await;
    assert_eq!(p.status, 200, "{:?}", p.body);
    t.advance(std::time::Duration::from_secs(47 * 3600));
    // SLA timers of the same tickets fall due in these hours too.
    assert!(t.run_pending_jobs().await >= 1, "the hourly scan ran");
    let agent = t.as_role("agent@acme.test").await;
    let early = agent.get(&format!("/api/v1/tickets/{pending_id}")).await;
    assert_eq!(early.body["tags"], json!([]), "47 hours is not more than 48");
    t.advance(std::time::Duration::from_secs(3 * 3600));
    assert!(t.run_pending_jobs().await >= 1, "the next scan was scheduled by the last");
    let late = agent.get(&format!("/api/v1/tickets/{pending_id}")).await;
    assert_eq!(late.body["tags"], json!(["stale"]));
    t.advance(std::time::Duration::from_secs(2 * 3600));
    assert!(t.run_pending_jobs().await >= 1);
    let hist = agent.get(&format!("/api/v1/tickets/{pending_id}/history")).await;
    let fired = hist
        .body
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "trigger.fire" && e["after"]["event"] == "time")
        .count();
    let msgs = agent.get(&format!("/api/v1/tickets/{pending_id}/messages")).await;
    let notes =
        msgs.body.as_array().unwrap().iter().filter(|m| s(&m["body"]).contains("已等待")).count();
    assert_eq!((fired, notes), (1, 1), "the scan after the tag changed nothing and did not fire");
});
