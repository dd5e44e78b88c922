//! Alerts (AN-2, AN-5) through the API: thresholds checked on save, a problem-code spike
//! raised once per day window with an owner and a 2 h deadline, the overdue escalation fired by
//! the job worker, acknowledge / resolve with conflicts, the hourly job, and scheduled reports
//! (AN-7) rendered by the worker and downloaded.

use std::time::Duration;

use serde_json::{Value, json};
use test_support::{Client, TestApp};

use crate::{items, on_backends, s};

async fn notifications(t: &TestApp, email: &str) -> Vec<Value> {
    let c = t.as_role(email).await;
    let r = c.get("/api/v1/notifications").await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    items(&r.body)
}

/// GETs a file: status and bytes.
pub async fn download(c: &Client, path: &str) -> (u16, Vec<u8>) {
    let mut rb = c.http.get(format!("{}{path}", c.base));
    if let Some(k) = &c.cookie {
        rb = rb.header("cookie", k);
    }
    let r = rb.send().await.unwrap();
    (r.status().as_u16(), r.bytes().await.unwrap().to_vec())
}

async fn tickets_with_code(agent: &Client, code: &str, n: usize) {
    let cust = agent.post("/api/v1/customers", json!({"name": "告警客户"})).await;
    assert_eq!(cust.status, 201, "{:?}", cust.body);
    let cust = s(&cust.body["id"]);
    for i in 0..n {
        let r = agent
            .post(
                "/api/v1/tickets",
                json!({"subject": format!("缺配件 {i}"), "customer_id": cust, "problem_code": code}),
            )
            .await;
        assert_eq!(r.status, 201, "{:?}", r.body);
    }
}

async fn spike_alert_lifecycle(t: TestApp) {
    let admin = t.as_role("admin@acme.test").await;
    let sup = t.as_role("super@acme.test").await;
    let agent = t.as_role("agent@acme.test").await;
    let sup_id = t.user("super@acme.test").id.to_string();

    // Defaults, then bad values are refused naming the field.
    let r = sup.get("/api/v1/alerts/settings").await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["negative_share_threshold"], 0.2);
    assert_eq!(r.body["fault_rate_rise"], 0.05);
    let r = admin.put("/api/v1/alerts/settings", json!({"negative_share_threshold": 1.5})).await;
    assert_eq!(r.status, 400, "{:?}", r.body);
    assert_eq!(r.body["field"], "negative_share_threshold");
    let agent_id = t.user("agent@acme.test").id.to_string();
    let r = admin.put("/api/v1/alerts/settings", json!({"owner_id": agent_id})).await;
    assert_eq!(r.status, 400, "an agent cannot own alerts: {:?}", r.body);
    assert_eq!(sup.put("/api/v1/alerts/settings", json!({})).await.status, 403);
    let r = admin
        .put(
            "/api/v1/alerts/settings",
            json!({"negative_share_threshold": 0.3, "spike_min_count": 5, "owner_id": sup_id}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["negative_share_threshold"], 0.3);
    assert_eq!(r.body["owner_id"], sup_id);

    // Four PQ-05 tickets today against an empty baseline: below the floor of five.
    tickets_with_code(&agent, "PQ-05", 4).await;
    let r = admin.post("/api/v1/alerts/evaluate", json!({})).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(items(&r.body), Vec::<Value>::new());
    // The fifth makes a spike.
    tickets_with_code(&agent, "PQ-05", 1).await;
    let r = admin.post("/api/v1/alerts/evaluate", json!({})).await;
    let raised = items(&r.body);
    assert_eq!(raised.len(), 1, "{:?}", r.body);
    let a = &raised[0];
    assert_eq!(a["kind"], "code_spike");
    assert_eq!(a["subject"], "PQ-05");
    assert_eq!(a["status"], "open");
    assert_eq!(a["owner_id"], sup_id);
    assert_eq!(a["figures"]["count"], 5);
    assert_eq!(a["figures"]["mean"], 0.0);
    // T0 is 09:00 CST: the window is the day from 00:00 CST, the deadline two hours on.
    assert_eq!(a["window_start"], "2026-11-01T16:00:00Z");
    assert_eq!(a["due_at"], "2026-11-02T03:00:00Z");
    assert_eq!(a["overdue"], false);
    let id = s(&a["id"]);
    // Evaluating again in the same window raises nothing new.
    let r = admin.post("/api/v1/alerts/evaluate", json!({})).await;
    assert_eq!(items(&r.body).len(), 0);
    // The owner was told.
    let n = notifications(&t, "super@acme.test").await;
    assert!(n.iter().any(|x| x["kind"] == "alert.raised"), "{n:?}");

    // Agents do not see alerts.
    assert_eq!(agent.get("/api/v1/alerts").await.status, 403);
    let r = sup.get("/api/v1/alerts?status=open").await;
    assert_eq!(items(&r.body).len(), 1);
    let r = sup.get("/api/v1/alerts?status=nope").await;
    assert_eq!(r.status, 400);

    // The hourly job (scheduled when the settings were saved) finds the same spike: no new row.
    t.advance(Duration::from_secs(3600));
    assert!(t.run_pending_jobs().await >= 1);
    assert_eq!(items(&sup.get("/api/v1/alerts").await.body).len(), 1);

    // Acknowledged, but not resolved within 2 h: escalated to the cs_head once.
    let r = sup.post(&format!("/api/v1/alerts/{id}/ack"), json!({})).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["status"], "acknowledged");
    assert_eq!(r.body["acked_by"], sup_id);
    assert_eq!(sup.post(&format!("/api/v1/alerts/{id}/ack"), json!({})).await.status, 409);
    assert!(
        !notifications(&t, "head@acme.test").await.iter().any(|x| x["kind"] == "alert.overdue")
    );
    t.advance(Duration::from_secs(3600));
    t.run_pending_jobs().await;
    let r = sup.get(&format!("/api/v1/alerts/{id}")).await;
    assert_eq!(r.body["overdue"], true);
    assert!(r.body["escalated_at"].is_string(), "{:?}", r.body);
    let head = notifications(&t, "head@acme.test").await;
    assert_eq!(head.iter().filter(|x| x["kind"] == "alert.overdue").count(), 1, "{head:?}");

    let r = sup
        .post(&format!("/api/v1/alerts/{id}/resolve"), json!({"resolution": "配件批次已召回"}))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["status"], "resolved");
    assert_eq!(r.body["resolution"], "配件批次已召回");
    assert_eq!(r.body["overdue"], false);
    let r = sup.post(&format!("/api/v1/alerts/{id}/resolve"), json!({})).await;
    assert_eq!(r.status, 409, "{:?}", r.body);
    // Another workspace's id is a 404.
    let other = t.login("other", "admin@other.test").await;
    assert_eq!(other.get(&format!("/api/v1/alerts/{id}")).await.status, 404);
    // Audited.
    let r = admin.get("/api/v1/audit?object_type=alert").await;
    let actions: Vec<String> = items(&r.body).iter().map(|e| s(&e["action"])).collect();
    for a in ["alert.raise", "alert.ack", "alert.escalate", "alert.resolve"] {
        assert!(actions.iter().any(|x| x == a), "{a} missing from {actions:?}");
    }
}
on_backends!(a_spike_is_raised_once_owned_escalated_and_resolved, spike_alert_lifecycle);

async fn scheduled_reports(t: TestApp) {
    let admin = t.as_role("admin@acme.test").await;
    let sup = t.as_role("super@acme.test").await;
    let agent = t.as_role("agent@acme.test").await;
    let r =
        admin.post("/api/v1/reports/schedules", json!({"name": "周报", "period": "daily"})).await;
    assert_eq!(r.status, 400, "{:?}", r.body);
    assert_eq!(r.body["field"], "period");
    let r = admin
        .post(
            "/api/v1/reports/schedules",
            json!({"name": "周报", "period": "weekly", "recipients": ["not-an-address"]}),
        )
        .await;
    assert_eq!(r.status, 400, "{:?}", r.body);
    let r = sup.post("/api/v1/reports/schedules", json!({"name": "x", "period": "weekly"})).await;
    assert_eq!(r.status, 403);
    let r = admin
        .post(
            "/api/v1/reports/schedules",
            json!({"name": "周报", "period": "weekly", "format": "csv", "recipients": ["boss@acme.test"]}),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    // T0 is Monday 2 November 09:00 CST: the next run is Monday 9 November 00:00 CST.
    assert_eq!(r.body["next_run_at"], "2026-11-08T16:00:00Z");

    // This week: six PQ-05 tickets, two TD-05.
    tickets_with_code(&agent, "PQ-05", 6).await;
    tickets_with_code(&agent, "TD-05", 2).await;
    t.advance(Duration::from_secs(6 * 86_400 + 14 * 3600));
    t.run_pending_jobs().await;
    assert_eq!(items(&sup.get("/api/v1/reports").await.body).len(), 0, "not yet due");
    t.advance(Duration::from_secs(3600));
    t.run_pending_jobs().await;
    // Sessions expired over the week.
    let (admin, sup, agent) = (
        t.as_role("admin@acme.test").await,
        t.as_role("super@acme.test").await,
        t.as_role("agent@acme.test").await,
    );
    let r = sup.get("/api/v1/reports").await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let reports = items(&r.body);
    assert_eq!(reports.len(), 1, "{reports:?}");
    let rep = &reports[0];
    assert_eq!(rep["period_start"], "2026-11-01T16:00:00Z");
    assert_eq!(rep["period_end"], "2026-11-08T16:00:00Z");
    // No SMTP server configured: stored, and the report says why nothing was sent.
    assert_eq!(rep["delivery"], "not_sent");
    assert!(s(&rep["delivery_error"]).contains("no SMTP server"), "{rep}");
    assert_eq!(rep["deliveries"][0]["recipient"], "boss@acme.test");
    assert_eq!(rep["deliveries"][0]["status"], "not_sent");
    assert_eq!(rep["deliveries"][0]["attempts"], 0);
    // Six PQ-05 tickets plus the root-cause ticket the sixth opened (AN-3).
    assert_eq!(rep["summary"]["tickets_created"], 9);
    assert_eq!(rep["summary"]["top_problem_codes"][0]["code"], "PQ-05");
    assert_eq!(rep["summary"]["top_problem_codes"][0]["count"], 7);
    assert_eq!(rep["summary"]["top_problem_codes"][1]["code"], "TD-05");
    let (st, bytes) = download(&sup, &format!("/api/v1/reports/{}/download", s(&rep["id"]))).await;
    assert_eq!(st, 200);
    let csv = String::from_utf8(bytes).unwrap();
    assert!(csv.contains("kpi,tickets_created,9,"), "{csv}");
    assert!(csv.contains("top_problem_code,PQ-05,7,"), "{csv}");
    assert_eq!(agent.get("/api/v1/reports").await.status, 403);
    // The next run is scheduled for a week later; running the same period by hand is a 409.
    let sc = items(&sup.get("/api/v1/reports/schedules").await.body);
    assert_eq!(sc[0]["next_run_at"], "2026-11-15T16:00:00Z");
    let r =
        admin.post(&format!("/api/v1/reports/schedules/{}/run", s(&sc[0]["id"])), json!({})).await;
    assert_eq!(r.status, 409, "{:?}", r.body);

    // An XLSX monthly report by hand: November is not over, so it covers October (empty).
    let r = admin
        .post(
            "/api/v1/reports/schedules",
            json!({"name": "月报", "period": "monthly", "format": "xlsx"}),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let r =
        admin.post(&format!("/api/v1/reports/schedules/{}/run", s(&r.body["id"])), json!({})).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.body["period_start"], "2026-09-30T16:00:00Z");
    assert_eq!(r.body["summary"]["tickets_created"], 0);
    let (st, bytes) =
        download(&sup, &format!("/api/v1/reports/{}/download", s(&r.body["id"]))).await;
    assert_eq!(st, 200);
    assert!(bytes.starts_with(b"PK"), "an XLSX file is a zip");
}
on_backends!(scheduled_reports_are_rendered_stored_and_downloaded, scheduled_reports);

/// AN-2 end to end: widget messages are classified by the feedback pipeline into
/// `content_signals`; the week's negative share above the workspace's threshold raises one
/// alert for the week, and none under a higher threshold.
async fn negative_share_from_classified_messages(t: TestApp) {
    let admin = t.as_role("admin@acme.test").await;
    let r = admin
        .put("/api/v1/alerts/settings", json!({"min_signals": 4, "negative_share_threshold": 0.6}))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    for (name, text) in [
        ("甲", "太差劲了，气死我了，垃圾质量，我要投诉你们！"),
        ("乙", "什么破服务，非常失望，退钱！太恶心了"),
        ("丙", "谢谢你们，安装师傅很专业，非常满意"),
        ("丁", "收到了，质量很好，很喜欢，好评"),
    ] {
        t.visitor(name, text).await;
    }
    t.run_pending_jobs().await;
    // Half negative at most: not above 60 %.
    let r = admin.post("/api/v1/alerts/evaluate", json!({})).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert!(items(&r.body).iter().all(|a| a["kind"] != "negative_share"), "{:?}", r.body);
    let r = admin
        .put("/api/v1/alerts/settings", json!({"min_signals": 4, "negative_share_threshold": 0.2}))
        .await;
    assert_eq!(r.status, 200);
    let r = admin.post("/api/v1/alerts/evaluate", json!({})).await;
    let a: Vec<Value> =
        items(&r.body).into_iter().filter(|a| a["kind"] == "negative_share").collect();
    assert_eq!(a.len(), 1, "{:?}", r.body);
    assert_eq!(a[0]["figures"]["total"], 4);
    let neg = a[0]["figures"]["negative"].as_u64().unwrap();
    assert!((1..=2).contains(&neg), "{:?}", a[0]);
    // The week starts Monday 2 November 00:00 CST.
    assert_eq!(a[0]["window_start"], "2026-11-01T16:00:00Z");
    let r = admin.post("/api/v1/alerts/evaluate", json!({})).await;
    assert!(items(&r.body).is_empty(), "raised once per week: {:?}", r.body);
}
on_backends!(a_negative_week_raises_one_alert, negative_share_from_classified_messages);
