//! Cross-department collaboration (TK-6, PL-1) through the API: department scoping and
//! field-level visibility, progress on the ticket, the due timer; and the customer-visible
//! stage timeline with its notices (TK-8).

use std::time::Duration;

use serde_json::{Value, json};
use test_support::TestApp;

use crate::{items, on_backends, s};

async fn setup(t: &TestApp) -> (String, String) {
    let agent = t.as_role("agent@acme.test").await;
    let admin = t.as_role("admin@acme.test").await;
    let r = admin
        .post(
            "/api/v1/users",
            json!({"email": "finance@acme.test", "name": "财务", "role": "dept_member",
                   "department": "finance", "password": test_support::PASSWORD}),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let c = agent.post("/api/v1/customers", json!({"name": "赵六", "phone": "13912345678"})).await;
    let tk = agent
        .post(
            "/api/v1/tickets",
            json!({"subject": "主板故障", "customer_id": c.body["id"], "problem_code": "PQ-03"}),
        )
        .await;
    assert_eq!(tk.status, 201, "{:?}", tk.body);
    (s(&tk.body["id"]), s(&c.body["id"]))
}

async fn scoping(t: TestApp) {
    let (tk, customer) = setup(&t).await;
    let agent = t.as_role("agent@acme.test").await;
    let sup = t.as_role("super@acme.test").await;
    let tech = t.as_role("tech@acme.test").await;
    let fin = t.login("acme", "finance@acme.test").await;
    let r = agent
        .post(&format!("/api/v1/tickets/{tk}/notes"), json!({"body": "内部：客户情绪激动"}))
        .await;
    assert_eq!(r.status, 201);
    let r = agent
        .post(
            &format!("/api/v1/tickets/{tk}/collaborations"),
            json!({"department": "tech", "question": "请 24 小时内完成主板诊断", "due_in_hours": 24}),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let id = s(&r.body["id"]);
    assert_eq!(r.body["due_at"], "2026-11-03T01:00:00Z");
    let legal = agent
        .post(
            &format!("/api/v1/tickets/{tk}/collaborations"),
            json!({"department": "legal", "question": "是否涉及合同违约？", "due_at": "2026-11-05T09:00:00+08:00"}),
        )
        .await;
    assert_eq!(legal.status, 201, "{:?}", legal.body);
    let bad = agent
        .post(
            &format!("/api/v1/tickets/{tk}/collaborations"),
            json!({"department": "tech", "question": "x", "due_at": "2020-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!((bad.status, s(&bad.body["field"])), (400, "due_at".into()));

    // The tech member sees their department's request only, with the fields they need.
    let mine = tech.get("/api/v1/collaborations").await;
    assert_eq!(mine.status, 200);
    let list = items(&mine.body);
    assert_eq!(list.len(), 1, "{list:?}");
    let one = tech.get(&format!("/api/v1/collaborations/{id}")).await;
    assert_eq!(one.status, 200, "{:?}", one.body);
    let v = &one.body;
    assert_eq!(v["ticket_number"], "HT-1");
    assert_eq!(v["ticket_subject"], "主板故障");
    assert_eq!(v["problem_code"], "PQ-03");
    assert_eq!(v["customer_contact"], "+86****5678");
    for hidden in ["ticket_id", "customer_id", "customer_name"] {
        assert!(v.get(hidden).is_none(), "{hidden} must be hidden from departments: {v}");
    }
    let text = v.to_string();
    for secret in ["13912345678", "赵六", "内部", &customer, &tk, "合同违约"] {
        assert!(!text.contains(secret), "{secret} leaked to the department: {text}");
    }
    // …and nothing else of the case.
    assert_eq!(tech.get(&format!("/api/v1/tickets/{tk}")).await.status, 404);
    assert_eq!(tech.get(&format!("/api/v1/tickets/{tk}/messages")).await.status, 404);

    // Another department: nothing, and the request is a 404.
    assert!(items(&fin.get("/api/v1/collaborations").await.body).is_empty());
    assert_eq!(fin.get(&format!("/api/v1/collaborations/{id}")).await.status, 404);
    let r = fin.post(&format!("/api/v1/collaborations/{id}/updates"), json!({"body": "x"})).await;
    assert_eq!(r.status, 404);
    let r =
        fin.post(&format!("/api/v1/collaborations/{id}/complete"), json!({"answer": "x"})).await;
    assert_eq!(r.status, 404);
    assert!(items(&fin.get("/api/v1/collaborations?department=tech").await.body).is_empty());

    // Supervisors see everything, staff-only fields included.
    let all = sup.get("/api/v1/collaborations").await;
    assert_eq!(items(&all.body).len(), 2);
    let full = sup.get(&format!("/api/v1/collaborations/{id}")).await;
    assert_eq!(full.body["ticket_id"], Value::from(tk.clone()));
    assert_eq!(full.body["customer_name"], "赵六");

    // Progress and the answer land on the ticket.
    let r = tech
        .post(
            &format!("/api/v1/collaborations/{id}/updates"),
            json!({"body": "已收到样机，检测中"}),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(items(&r.body["updates"]).len(), 1);
    assert!(r.body.get("ticket_id").is_none());
    let r =
        agent.post(&format!("/api/v1/collaborations/{id}/complete"), json!({"answer": "x"})).await;
    assert_eq!(r.status, 403, "an agent does not close a department's request: {:?}", r.body);
    let r = tech
        .post(
            &format!("/api/v1/collaborations/{id}/complete"),
            json!({"answer": "主板电容损坏，建议更换"}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["status"], "completed");
    let r =
        tech.post(&format!("/api/v1/collaborations/{id}/updates"), json!({"body": "再补充"})).await;
    assert_eq!(r.status, 409);
    let hist = agent.get(&format!("/api/v1/tickets/{tk}/history")).await;
    let actions: Vec<String> = items(&hist.body).iter().map(|e| s(&e["action"])).collect();
    for a in ["collaboration.request", "collaboration.update", "collaboration.complete"] {
        assert!(actions.iter().any(|x| x == a), "{a} missing from {actions:?}");
    }
    let msgs = agent.get(&format!("/api/v1/tickets/{tk}/messages")).await;
    let notes: Vec<String> = items(&msgs.body)
        .iter()
        .filter(|m| m["sender"] == "system" && m["visibility"] == "internal")
        .map(|m| s(&m["body"]))
        .collect();
    assert!(
        notes.iter().any(|n| n.contains("技术部协作进展") && n.contains("检测中")),
        "{notes:?}"
    );
    assert!(notes.iter().any(|n| n.contains("技术部协作完成") && n.contains("电容")), "{notes:?}");
}
on_backends!(collaboration_is_scoped_to_the_department, scoping);

async fn due_timer(t: TestApp) {
    let (tk, _) = setup(&t).await;
    let agent = t.as_role("agent@acme.test").await;
    let tech = t.as_role("tech@acme.test").await;
    let r = agent
        .post(
            &format!("/api/v1/tickets/{tk}/collaborations"),
            json!({"department": "tech", "question": "2 小时内回电客户", "due_in_hours": 2}),
        )
        .await;
    let id = s(&r.body["id"]);
    t.advance(Duration::from_secs(2 * 3600 - 1));
    t.run_pending_jobs().await;
    assert_eq!(tech.get(&format!("/api/v1/collaborations/{id}")).await.body["overdue"], false);
    t.advance(Duration::from_secs(1));
    assert!(t.run_pending_jobs().await >= 1);
    let v = tech.get(&format!("/api/v1/collaborations/{id}")).await.body;
    assert_eq!((v["overdue"].clone(), v["status"].clone()), (json!(true), json!("open")));
    let msgs = agent.get(&format!("/api/v1/tickets/{tk}/messages")).await;
    let overdue = items(&msgs.body)
        .iter()
        .filter(|m| m["visibility"] == "internal" && s(&m["body"]).contains("协作逾期"))
        .count();
    assert_eq!(overdue, 1);
    let hist = agent.get(&format!("/api/v1/tickets/{tk}/history")).await;
    assert!(items(&hist.body).iter().any(|e| e["action"] == "collaboration.overdue"));
}
on_backends!(collaboration_due_timer_marks_overdue, due_timer);

async fn stage_notices(t: TestApp) {
    let (owner, conv) = t.visitor("李雷", "电视开不了机").await;
    let agent = t.as_role("agent@acme.test").await;
    let manager = t.as_role("head@acme.test").await;
    let me = agent.get(&format!("/api/v1/conversations/{conv}")).await;
    let customer = s(&me.body["customer_id"]);
    assert!(!customer.is_empty(), "{:?}", me.body);
    let tk = agent
        .post(
            "/api/v1/tickets",
            json!({"subject": "电视开不了机", "customer_id": customer, "conversation_id": conv}),
        )
        .await;
    assert_eq!(tk.status, 201, "{:?}", tk.body);
    let id = s(&tk.body["id"]);
    let token = s(&tk.body["tracking_path"]).rsplit('/').next().unwrap().to_string();

    t.advance(Duration::from_secs(60));
    let r = agent.patch(&format!("/api/v1/tickets/{id}"), json!({"stage": "investigating"})).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let public = |owner: test_support::Client| {
        let conv = conv.clone();
        async move {
            let m = owner.get(&format!("/api/v1/public/conversations/{conv}/messages")).await;
            items(&m.body)
                .into_iter()
                .filter(|m| m["sender"] == "system")
                .map(|m| s(&m["body"]))
                .collect::<Vec<String>>()
        }
    };
    let notices = public(owner.clone()).await;
    assert_eq!(notices.len(), 1, "{notices:?}");
    assert!(notices[0].contains("HT-1") && notices[0].contains("技术排查中"), "{notices:?}");
    assert!(notices[0].contains(&format!("http://127.0.0.1:8080/track/{token}")), "{notices:?}");

    // Renamed stages and English-speaking customers.
    let r = manager
        .put(
            "/api/v1/stages/planning",
            json!({"label_zh": "制定方案中", "label_en": "Working on a fix", "position": 5}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let r = agent
        .patch(&format!("/api/v1/customers/{customer}"), json!({"attributes": {"language": "en"}}))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    t.advance(Duration::from_secs(60));
    agent.patch(&format!("/api/v1/tickets/{id}"), json!({"stage": "planning"})).await;
    let notices = public(owner.clone()).await;
    assert_eq!(notices.len(), 2, "{notices:?}");
    assert!(
        notices[1].starts_with("[Case update]") && notices[1].contains("Working on a fix"),
        "{notices:?}"
    );

    // Templates: unknown variables are refused; notices can be turned off.
    let r = manager
        .put(
            "/api/v1/settings/stage-notifications",
            json!({"enabled": true, "template_zh": "{customer_name} 您好", "template_en": "x"}),
        )
        .await;
    assert_eq!((r.status, s(&r.body["field"])), (400, "template_zh".into()));
    let r = manager
        .put(
            "/api/v1/settings/stage-notifications",
            json!({"enabled": false, "template_zh": "工单 {ticket_no}：{stage}", "template_en": "Ticket {ticket_no}: {stage}"}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    t.advance(Duration::from_secs(60));
    agent.patch(&format!("/api/v1/tickets/{id}"), json!({"stage": "compensation"})).await;
    assert_eq!(public(owner.clone()).await.len(), 2);

    // The tracking page shows the timeline, with no staff ids.
    let tr = t.anon().get(&format!("/api/v1/public/track/{token}")).await;
    assert_eq!(tr.status, 200, "{:?}", tr.body);
    let stages: Vec<String> =
        tr.body["timeline"].as_array().unwrap().iter().map(|e| s(&e["stage"])).collect();
    assert_eq!(stages, ["received", "investigating", "planning", "compensation"]);
    assert_eq!(tr.body["timeline"][2]["label_zh"], "制定方案中");
    assert_eq!(tr.body["timeline"][1]["at"], "2026-11-02T01:01:00Z");
    let agent_id = t.user("agent@acme.test").id.to_string();
    assert!(!tr.body.to_string().contains(&agent_id));
}
on_backends!(stage_changes_notify_the_customer_and_fill_the_timeline, stage_notices);
