//! Quality inspection (AN-6) through the API: rules checked on save, two conversations — one
//! clean, one breaking every rule (no greeting, a forbidden phrase, ¥3,000 promised against the
//! agent's ¥2,000 limit, a 300 s reply) — inspected by the job the save schedules, the findings,
//! and the daily index per agent, per team and in total, hand-computed.

use std::time::Duration;

use serde_json::{Value, json};
use test_support::{Client, TestApp};

use crate::{items, on_backends, s};

async fn say(c: &Client, conv: &str, body: &str) {
    let r = c.post(&format!("/api/v1/conversations/{conv}/messages"), json!({"body": body})).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
}

async fn customer_says(v: &Client, conv: &str, body: &str) {
    let r = v
        .post(&format!("/api/v1/public/conversations/{conv}/messages"), json!({"body": body}))
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
}

fn kinds(v: &[Value]) -> Vec<String> {
    let mut k: Vec<String> = v.iter().map(|f| s(&f["kind"])).collect();
    k.sort();
    k
}

async fn inspection_and_index(t: TestApp) {
    t.bot_off().await;
    let admin = t.as_role("admin@acme.test").await;
    let sup = t.as_role("super@acme.test").await;
    let agent = t.as_role("agent@acme.test").await;
    let agent2 = t.as_role("agent2@acme.test").await;
    let a1 = t.user("agent@acme.test").id.to_string();
    let a2 = t.user("agent2@acme.test").id.to_string();

    // Defaults exist; bad rules are refused naming the field; only managers write.
    let r = sup.get("/api/v1/quality/rules").await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert!(r.body["greetings"].as_array().is_some_and(|g| !g.is_empty()));
    let rules = json!({"greetings": ["您好"], "closings": ["再见"], "forbidden": ["不知道"],
                       "promise_words": ["赔"], "slow_reply_secs": 120});
    assert_eq!(sup.put("/api/v1/quality/rules", rules.clone()).await.status, 403);
    let mut bad = rules.clone();
    bad["slow_reply_secs"] = json!(-5);
    let r = admin.put("/api/v1/quality/rules", bad).await;
    assert_eq!(r.status, 400, "{:?}", r.body);
    assert_eq!(r.body["field"], "slow_reply_secs");

    // A: greeted within 60 s, ¥100 promised (within ¥2,000), 30 s, closed with 再见, resolved.
    let (va, ca) = t.visitor("李雷", "冰箱不制冷").await;
    t.advance(Duration::from_secs(60));
    say(&agent, &ca, "您好，请问冰箱型号是多少？").await;
    t.advance(Duration::from_secs(10));
    customer_says(&va, &ca, "BCD-215").await;
    t.advance(Duration::from_secs(30));
    say(&agent, &ca, "已为您登记上门检修，并赔您 100 元优惠券，再见").await;
    let r =
        agent.patch(&format!("/api/v1/conversations/{ca}"), json!({"status": "resolved"})).await;
    assert_eq!(r.status, 200, "{:?}", r.body);

    // B: 300 s to answer, no greeting, a forbidden phrase, ¥3,000 promised; still open.
    let (_vb, cb) = t.visitor("韩梅梅", "洗衣机漏水").await;
    t.advance(Duration::from_secs(300));
    say(&agent2, &cb, "这个我不知道，我们赔您 3000 元吧").await;
    // An internal note is not inspected.
    let r = agent2
        .post(
            &format!("/api/v1/conversations/{cb}/messages"),
            json!({"body": "不知道", "internal": true}),
        )
        .await;
    assert_eq!(r.status, 201);

    // Saving the rules schedules an inspection now.
    let r = admin.put("/api/v1/quality/rules", rules).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert!(t.run_pending_jobs().await >= 1);

    let r = sup.get("/api/v1/quality/findings").await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let f = items(&r.body);
    assert!(f.iter().all(|x| x["agent_id"] == a2 && x["conversation_id"] == cb), "{f:?}");
    assert_eq!(
        kinds(&f),
        ["beyond_authority", "forbidden_phrase", "missing_greeting", "slow_reply"],
        "{f:?}"
    );
    let beyond = f.iter().find(|x| x["kind"] == "beyond_authority").unwrap();
    assert_eq!(beyond["detail"], "promised ¥3000 above the limit of ¥2000");
    let slow = f.iter().find(|x| x["kind"] == "slow_reply").unwrap();
    assert_eq!(slow["detail"], "replied after 300 s (target 120 s)");
    let r = sup.get(&format!("/api/v1/quality/findings?agent_id={a1}")).await;
    assert_eq!(items(&r.body).len(), 0);

    // Index: A has 7 checks (greeting, 2 × forbidden, authority, 2 × slow, closing), all
    // passed; B 4 checks (greeting, forbidden, authority, slow), none passed. 7 / 11 in total.
    let r = sup.get("/api/v1/quality/index").await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let rows = items(&r.body);
    let row = |agent: Option<&str>| {
        rows.iter()
            .find(|x| match agent {
                Some(a) => x["agent_id"] == a,
                None => x["agent_id"].is_null(),
            })
            .cloned()
            .unwrap_or_else(|| panic!("no row for {agent:?} in {rows:?}"))
    };
    let r1 = row(Some(&a1));
    assert_eq!(
        (r1["checks"].as_i64(), r1["passed"].as_i64(), r1["index"].as_f64()),
        (Some(7), Some(7), Some(100.0))
    );
    let r2 = row(Some(&a2));
    assert_eq!(
        (r2["checks"].as_i64(), r2["passed"].as_i64(), r2["index"].as_f64()),
        (Some(4), Some(0), Some(0.0))
    );
    let total = row(None);
    assert_eq!((total["checks"].as_i64(), total["passed"].as_i64()), (Some(11), Some(7)));
    assert!((total["index"].as_f64().unwrap() - 700.0 / 11.0).abs() < 1e-9);
    // The day is Monday 2 November from 00:00 CST.
    assert_eq!(total["day"], "2026-11-01T16:00:00Z");

    // Per team: a team with only agent2.
    let team =
        admin.post("/api/v1/teams", json!({"name": "质检组", "skills": [], "members": [a2]})).await;
    assert_eq!(team.status, 201, "{:?}", team.body);
    let r = sup.get(&format!("/api/v1/quality/index?team={}", s(&team.body["id"]))).await;
    let rows = items(&r.body);
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(rows.iter().all(|x| x["checks"] == 4 && x["passed"] == 0), "{rows:?}");
    let r = sup.get("/api/v1/quality/index?from=yesterday").await;
    assert_eq!(r.status, 400);

    // Agents read neither; re-inspection is idempotent (same findings, no duplicates).
    assert_eq!(agent.get("/api/v1/quality/findings").await.status, 403);
    assert_eq!(agent.get("/api/v1/quality/index").await.status, 403);
    let r = admin.post("/api/v1/quality/inspect?days=1", json!({})).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["conversations"], 2);
    assert_eq!(items(&sup.get("/api/v1/quality/findings").await.body).len(), 4);
    // The daily job was scheduled a day on.
    t.advance(Duration::from_secs(86_400));
    assert!(t.run_pending_jobs().await >= 1);
}
on_backends!(agent_messages_are_inspected_and_indexed, inspection_and_index);
