//! SLA clocks through the API: a stepped clock across business hours, the lunch break, a
//! holiday, a make-up workday and a pause; timers fired by the job worker at their deadlines;
//! escalation actions; the queue by time to breach; and configuration errors.

use std::time::Duration;

use serde_json::{Value, json};
use test_support::{Client, T0, TestApp};

use crate::{items, on_backends, s};

/// Sets the clock to a Beijing wall time in November 2026 (`day` of the month).
fn at_cst(t: &TestApp, day: i64, hour: i64, min: i64) {
    // T0 is Monday 2 November 09:00 CST.
    let ms = ((day - 2) * 24 * 3600 + (hour - 9) * 3600 + min * 60) * 1000;
    t.clock.set(T0.plus_millis(ms));
}

fn metric<'a>(sla: &'a Value, name: &str, cycle: u64) -> &'a Value {
    sla["metrics"]
        .as_array()
        .and_then(|ms| ms.iter().find(|m| m["metric"] == name && m["cycle"] == cycle))
        .unwrap_or_else(|| panic!("no {name}#{cycle} in {sla:#}"))
}

fn events(sla: &Value) -> Vec<(String, String, String)> {
    sla["events"]
        .as_array()
        .map(|es| {
            es.iter().map(|e| (s(&e["metric"]), s(&e["kind"]), s(&e["at"]))).collect::<Vec<_>>()
        })
        .unwrap_or_default()
}

async fn sla_of(c: &Client, id: &str) -> Value {
    let r = c.get(&format!("/api/v1/tickets/{id}/sla")).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.body
}

async fn notifications(t: &TestApp, email: &str) -> Vec<Value> {
    let c = t.as_role(email).await;
    let r = c.get("/api/v1/notifications").await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    items(&r.body)
}

const WEEKDAY: &str = "09:00-12:00, 13:30-18:00";

async fn business_clock_across_the_week(t: TestApp) {
    let admin = t.as_role("admin@acme.test").await;
    let agent = t.as_role("agent@acme.test").await;
    // Wednesday 4 November is a holiday; Saturday 7 November a make-up workday (调休).
    let r = admin
        .put(
            "/api/v1/sla/calendars",
            json!({"calendars": [{"id": "default", "time_zone": "Asia/Shanghai",
                "week": [WEEKDAY, WEEKDAY, WEEKDAY, WEEKDAY, WEEKDAY, "closed", "closed"],
                "holidays": ["2026-11-04"], "workdays": [{"date": "2026-11-07"}]}]}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["calendars"][0]["workdays"][0]["date"], "2026-11-07");
    let r = admin
        .put(
            "/api/v1/sla/policies",
            json!({"policies": [{"name": "测试 test", "targets": [
                {"metric": "first_response", "duration": "4h", "mode": "business:default", "warn": "80%"},
                {"metric": "next_response", "duration": "2h", "mode": "calendar"},
                {"metric": "resolution", "duration": "26h", "mode": "business:default", "warn": "1h before"}],
              "escalation": [
                {"on": "warned", "actions": ["notify_assignee"]},
                {"on": "breached", "metrics": ["next_response"], "actions": ["notify_supervisor", "raise_urgency"]}]}]}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);

    // Monday 11:00: the customer writes in; the agent opens a ticket assigned to themself.
    at_cst(&t, 2, 11, 0);
    let (visitor, conv) = t.visitor("王芳", "冰箱不制冷了").await;
    let cv = agent.get(&format!("/api/v1/conversations/{conv}")).await;
    let me = t.user("agent@acme.test").id.to_string();
    let tk = agent
        .post(
            "/api/v1/tickets",
            json!({"subject": "冰箱不制冷", "customer_id": s(&cv.body["customer_id"]),
                   "conversation_id": conv, "assignee_id": me}),
        )
        .await;
    assert_eq!(tk.status, 201, "{:?}", tk.body);
    let id = s(&tk.body["id"]);

    let v = sla_of(&agent, &id).await;
    assert_eq!(v["policy"], "测试 test");
    // First response: 11–12 and 13:30–16:30 (lunch skipped) → Monday 16:30 CST = 08:30Z;
    // the warning at 80 % (3 h 12 min) → 15:42 CST.
    let fr = metric(&v, "first_response", 0);
    assert_eq!(fr["state"], "running");
    assert_eq!(fr["due_at"], "2026-11-02T08:30:00Z");
    assert_eq!(fr["warn_at"], "2026-11-02T07:42:00Z");
    // Resolution, 26 business hours: Mon 5.5 + Tue 7.5 + (Wed holiday) + Thu 7.5 + Fri 3 + 2.5
    // → Friday 16:00 CST.
    let res = metric(&v, "resolution", 0);
    assert_eq!(res["due_at"], "2026-11-06T08:00:00Z");
    assert_eq!(res["warn_at"], "2026-11-06T07:00:00Z");
    assert_eq!(s(&v["breach_at"]), "2026-11-02T08:30:00Z");

    // 15:41:59 nothing is due; at 15:42:00 the warning timer fires.
    at_cst(&t, 2, 15, 41);
    t.advance(Duration::from_secs(59));
    t.run_pending_jobs().await;
    assert!(!events(&sla_of(&agent, &id).await).iter().any(|e| e.1 == "warned"));
    t.advance(Duration::from_secs(1));
    assert!(t.run_pending_jobs().await >= 1);
    let v = sla_of(&agent, &id).await;
    assert!(
        events(&v).contains(&(
            "first_response".into(),
            "warned".into(),
            "2026-11-02T07:42:00Z".into()
        )),
        "{v:#}"
    );
    let n = notifications(&t, "agent@acme.test").await;
    assert_eq!(n.len(), 1, "{n:?}");
    assert_eq!(n[0]["kind"], "sla.warned");
    assert!(s(&n[0]["body"]).contains("首次响应"), "{n:?}");

    // 16:00 the agent answers: first response met; 16:30 the case waits on the customer.
    at_cst(&t, 2, 16, 0);
    let r = agent
        .post(&format!("/api/v1/tickets/{id}/replies"), json!({"body": "您好，请问冰箱型号？"}))
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    at_cst(&t, 2, 16, 30);
    let r = agent.post(&format!("/api/v1/tickets/{id}/status"), json!({"status": "pending"})).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let v = sla_of(&agent, &id).await;
    let fr = metric(&v, "first_response", 0);
    assert_eq!(fr["state"], "fulfilled");
    assert_eq!(fr["fulfilled_at"], "2026-11-02T08:00:00Z");
    assert!(fr["breached_at"].is_null());
    let res = metric(&v, "resolution", 0);
    assert_eq!(res["state"], "paused");
    assert_eq!(res["elapsed_ms"], 4 * 3_600_000, "Mon 11–12 and 13:30–16:30");
    assert_eq!(res["remaining_ms"], 22 * 3_600_000);
    assert!(v["breach_at"].is_null(), "nothing runs while pending: {v:#}");

    // Tuesday 10:00 the customer answers: the ticket reopens, resolution resumes, and a next
    // response is owed within 2 wall-clock hours.
    at_cst(&t, 3, 10, 0);
    // Sessions lapse after 12 idle hours: log in again after each night.
    let agent = t.as_role("agent@acme.test").await;
    let r = visitor
        .post(
            &format!("/api/v1/public/conversations/{conv}/messages"),
            json!({"body": "型号是 BCD-500"}),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let v = sla_of(&agent, &id).await;
    assert_eq!(metric(&v, "next_response", 0)["due_at"], "2026-11-03T04:00:00Z");
    // 22 h left from Tue 10:00: Tue 6.5, Wed holiday, Thu 7.5, Fri 7.5 → 0.5 h on the
    // make-up Saturday (Monday's hours) → Sat 09:30 CST. The warning 1 h earlier: Fri 17:30.
    let res = metric(&v, "resolution", 0);
    assert_eq!(res["state"], "running");
    assert_eq!(res["due_at"], "2026-11-07T01:30:00Z");
    assert_eq!(res["warn_at"], "2026-11-06T09:30:00Z");

    // Tuesday 12:00 nobody has answered: the next response breaches; the superseded
    // first-response timer (Monday 16:30) does nothing.
    at_cst(&t, 3, 12, 0);
    t.run_pending_jobs().await;
    let v = sla_of(&agent, &id).await;
    let evs = events(&v);
    assert!(
        evs.contains(&("next_response".into(), "breached".into(), "2026-11-03T04:00:00Z".into())),
        "{evs:?}"
    );
    assert!(!evs.iter().any(|e| e.0 == "first_response" && e.1 == "breached"), "{evs:?}");
    let tk = agent.get(&format!("/api/v1/tickets/{id}")).await;
    assert_eq!(tk.body["urgency"], "urgent", "the ladder raised the urgency");
    let n = notifications(&t, "super@acme.test").await;
    assert!(n.iter().any(|n| n["kind"] == "sla.breached"), "{n:?}");
    let h = agent.get(&format!("/api/v1/tickets/{id}/history")).await;
    assert!(
        items(&h.body).iter().any(|e| e["action"] == "ticket.sla.breached"),
        "breaches are in the ticket's history"
    );

    // Friday 17:30 the resolution warning, Saturday 09:30 (the make-up day) the breach.
    at_cst(&t, 6, 17, 30);
    t.run_pending_jobs().await;
    at_cst(&t, 7, 9, 30);
    t.run_pending_jobs().await;
    let agent = t.as_role("agent@acme.test").await;
    let evs = events(&sla_of(&agent, &id).await);
    assert!(
        evs.contains(&("resolution".into(), "warned".into(), "2026-11-06T09:30:00Z".into())),
        "{evs:?}"
    );
    assert!(
        evs.contains(&("resolution".into(), "breached".into(), "2026-11-07T01:30:00Z".into())),
        "{evs:?}"
    );
    // Each event is recorded once, however many timers and changes re-evaluated the ticket.
    let mut dedup = evs.clone();
    dedup.sort();
    dedup.dedup();
    assert_eq!(dedup.len(), evs.len(), "{evs:?}");
    // The pause and resume were recorded too.
    assert!(evs.contains(&("resolution".into(), "paused".into(), "2026-11-02T08:30:00Z".into())));
    assert!(evs.contains(&("resolution".into(), "resumed".into(), "2026-11-03T02:00:00Z".into())));
}
on_backends!(sla_business_clock_across_the_week, business_clock_across_the_week);

async fn new_customer(c: &Client, name: &str, tier: &str) -> String {
    let r = c.post("/api/v1/customers", json!({"name": name, "tier": tier})).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    s(&r.body["id"])
}

async fn queue_by_time_to_breach(t: TestApp) {
    let agent = t.as_role("agent@acme.test").await;
    // The seeded defaults: L1 first, 30 min on the wall clock.
    let p = agent.get("/api/v1/sla/policies").await;
    assert_eq!(p.status, 200);
    assert_eq!(p.body["policies"][0]["name"], "L1 重大紧急");
    assert_eq!(p.body["policies"][0]["targets"][0]["duration"], "30m");
    let cal = agent.get("/api/v1/sla/calendars").await;
    assert_eq!(cal.body["calendars"][0]["time_zone"], "Asia/Shanghai");

    let plain = new_customer(&agent, "普通客户", "ordinary").await;
    let vip = new_customer(&agent, "VIP 客户", "vip").await;
    let mut ids = Vec::new();
    for (subject, cust, sev) in [
        ("普通问题", &plain, "L3"),
        ("VIP 问题", &vip, "L3"),
        ("重大事故", &plain, "L1"),
        ("已解决", &plain, "L3"),
    ] {
        let r = agent
            .post(
                "/api/v1/tickets",
                json!({"subject": subject, "customer_id": cust, "severity": sev}),
            )
            .await;
        assert_eq!(r.status, 201, "{:?}", r.body);
        ids.push(s(&r.body["id"]));
    }
    let me = t.user("agent@acme.test").id.to_string();
    agent.post(&format!("/api/v1/tickets/{}/assign", ids[3]), json!({"assignee_id": me})).await;
    let r = agent
        .post(&format!("/api/v1/tickets/{}/status", ids[3]), json!({"status": "solved"}))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);

    let v = sla_of(&agent, &ids[1]).await;
    assert_eq!(v["policy"], "L3 · VIP");
    assert_eq!(metric(&v, "first_response", 0)["due_at"], "2026-11-02T02:00:00Z");
    let v = sla_of(&agent, &ids[2]).await;
    assert_eq!(v["policy"], "L1 重大紧急");
    assert_eq!(metric(&v, "first_response", 0)["due_at"], "2026-11-02T01:30:00Z");

    let q = agent.get("/api/v1/tickets?sort=breach&limit=2").await;
    assert_eq!(q.status, 200, "{:?}", q.body);
    let order: Vec<String> = items(&q.body).iter().map(|t| s(&t["id"])).collect();
    assert_eq!(order, vec![ids[2].clone(), ids[1].clone()]);
    let cursor = s(&q.body["next_cursor"]);
    let q = agent.get(&format!("/api/v1/tickets?sort=breach&limit=2&cursor={cursor}")).await;
    let order: Vec<String> = items(&q.body).iter().map(|t| s(&t["id"])).collect();
    assert_eq!(order, vec![ids[0].clone(), ids[3].clone()], "the solved one has no clock: last");
    let bad = agent.get("/api/v1/tickets?sort=soonest").await;
    assert_eq!(bad.status, 400);
}
on_backends!(sla_queue_by_time_to_breach, queue_by_time_to_breach);

async fn escalation_reassigns_and_opens_a_crisis(t: TestApp) {
    let head = t.as_role("head@acme.test").await;
    let agent = t.as_role("agent@acme.test").await;
    let team = head.post("/api/v1/teams", json!({"name": "二线专家组"})).await;
    assert_eq!(team.status, 201, "{:?}", team.body);
    let team = s(&team.body["id"]);
    let r = head
        .put(
            "/api/v1/sla/policies",
            json!({"policies": [{"name": "crisis", "targets": [
                {"metric": "first_response", "duration": "30m", "mode": "calendar"}],
              "escalation": [{"on": "breached",
                "actions": [format!("reassign_team:{team}"), "open_crisis", "notify_cs_head"]}]}]}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let cust = new_customer(&agent, "李雷", "ordinary").await;
    let me = t.user("agent@acme.test").id.to_string();
    let tk = agent
        .post(
            "/api/v1/tickets",
            json!({"subject": "燃气灶漏气", "customer_id": cust, "assignee_id": me}),
        )
        .await;
    let id = s(&tk.body["id"]);

    t.advance(Duration::from_secs(29 * 60 + 59));
    t.run_pending_jobs().await;
    assert_eq!(agent.get(&format!("/api/v1/tickets/{id}")).await.body["assignee_id"], me);
    t.advance(Duration::from_secs(1));
    t.run_pending_jobs().await;

    let after = head.get(&format!("/api/v1/tickets/{id}")).await;
    assert_eq!(after.body["team_id"], team.as_str(), "{:?}", after.body);
    assert!(after.body["assignee_id"].is_null());
    let crisis = head.get(&format!("/api/v1/tickets?customer_id={cust}&severity=L1")).await;
    let crisis = items(&crisis.body);
    assert_eq!(crisis.len(), 1, "one crisis ticket: {crisis:?}");
    assert_eq!(crisis[0]["urgency"], "critical");
    assert_eq!(crisis[0]["tags"], json!(["sla-crisis"]));
    // The crisis ticket runs its own clock under the same (only) policy.
    let v = sla_of(&head, &s(&crisis[0]["id"])).await;
    assert_eq!(metric(&v, "first_response", 0)["state"], "running");
    let n = notifications(&t, "head@acme.test").await;
    assert_eq!(n.len(), 1, "{n:?}");
    assert_eq!(n[0]["ticket_id"], id.as_str());

    // Running the worker again changes nothing: the breach was handled once.
    t.run_pending_jobs().await;
    let crisis = head.get(&format!("/api/v1/tickets?customer_id={cust}&severity=L1")).await;
    assert_eq!(items(&crisis.body).len(), 1);
    assert_eq!(notifications(&t, "head@acme.test").await.len(), 1);
}
on_backends!(sla_escalation_reassigns_and_opens_a_crisis, escalation_reassigns_and_opens_a_crisis);

async fn bad_configuration_is_refused(t: TestApp) {
    let admin = t.as_role("admin@acme.test").await;
    let before = admin.get("/api/v1/sla/policies").await.body;
    let cases = [
        (
            json!({"policies": [{"name": "a", "targets": [{"metric": "first_response", "duration": "soon", "mode": "calendar"}]}]}),
            "sla.target.duration",
        ),
        (
            json!({"policies": [{"name": "a", "targets": [{"metric": "first_reply", "duration": "1h", "mode": "calendar"}]}]}),
            "sla.metric",
        ),
        (
            json!({"policies": [{"name": "a", "targets": [{"metric": "resolution", "duration": "1h", "mode": "business:nowhere"}]}]}),
            "sla.target.mode",
        ),
        (json!({"policies": [{"name": "a", "targets": []}]}), "sla.targets"),
        (
            json!({"policies": [{"name": "a", "targets": [{"metric": "resolution", "duration": "1h", "mode": "calendar", "warn": "120%"}]}]}),
            "sla.target.warn",
        ),
        (
            json!({"policies": [{"name": "a", "conditions": {"tier": ["gold"]}, "targets": [{"metric": "resolution", "duration": "1h", "mode": "calendar"}]}]}),
            "tier",
        ),
        (
            json!({"policies": [{"name": "a", "targets": [{"metric": "resolution", "duration": "1h", "mode": "calendar"}], "escalation": [{"on": "breached", "actions": ["call_mom"]}]}]}),
            "sla.escalation.actions",
        ),
    ];
    for (body, field) in cases {
        let r = admin.put("/api/v1/sla/policies", body.clone()).await;
        assert_eq!(r.status, 400, "{body}: {:?}", r.body);
        assert_eq!(r.body["field"], field, "{:?}", r.body);
        assert!(s(&r.body["message"]).contains("policy 1"), "{:?}", r.body);
    }
    let r = admin
        .put("/api/v1/sla/calendars", json!({"calendars": [{"id": "default", "time_zone": "Asia/Shanghai", "week": ["closed"]}]}))
        .await;
    assert_eq!((r.status, s(&r.body["field"])), (400, "calendar.week".to_string()), "{:?}", r.body);
    let r = admin
        .put(
            "/api/v1/sla/calendars",
            json!({"calendars": [{"id": "default", "time_zone": "Mars/Olympus",
            "week": [WEEKDAY, WEEKDAY, WEEKDAY, WEEKDAY, WEEKDAY, "closed", "closed"]}]}),
        )
        .await;
    assert_eq!(
        (r.status, s(&r.body["field"])),
        (400, "calendar.time_zone".to_string()),
        "{:?}",
        r.body
    );
    // The seeded policies count on `default`: removing it is a conflict.
    let r = admin
        .put(
            "/api/v1/sla/calendars",
            json!({"calendars": [{"id": "other", "time_zone": "UTC",
            "week": [WEEKDAY, WEEKDAY, WEEKDAY, WEEKDAY, WEEKDAY, "closed", "closed"]}]}),
        )
        .await;
    assert_eq!(r.status, 409, "{:?}", r.body);
    assert_eq!(admin.get("/api/v1/sla/policies").await.body, before, "nothing changed");
}
on_backends!(sla_bad_configuration_is_refused, bad_configuration_is_refused);
