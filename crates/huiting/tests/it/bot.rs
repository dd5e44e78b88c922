//! The bot on the widget API: welcome, no-match and hand-off rules, pre-filled hand-off tickets,
//! after-hours messages, configuration with validation, metrics.

use serde_json::{Value, json};
use test_support::{T0, TestApp};

use crate::{items, on_backends, s};

const WELCOME: &str = "您好，我是智能客服小慧";

async fn open(t: &TestApp, message: &str) -> (test_support::Client, String, Value) {
    let r = t
        .anon()
        .post(
            "/api/v1/public/conversations",
            json!({"public_key": t.ws.public_key, "name": "测试客户", "message": message}),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let token = s(&r.body["visitor_token"]);
    let conv = s(&r.body["conversation"]["id"]);
    (test_support::Client { bearer: Some(token), ..t.anon() }, conv, r.body["bot"].clone())
}

fn replies(bot: &Value) -> Vec<String> {
    bot["replies"].as_array().cloned().unwrap_or_default().iter().map(|m| s(&m["body"])).collect()
}

async fn unmatched_twice_hands_off_with_a_prefilled_ticket_(t: TestApp) {
    let (v, conv, bot) = open(&t, "啊啊啊").await;
    let r = replies(&bot);
    assert!(r[0].starts_with(WELCOME), "{r:?}");
    assert!(r[1].contains("没有理解"), "{r:?}");
    assert!(bot["handoff"].is_null());
    let m = v
        .post(
            &format!("/api/v1/public/conversations/{conv}/messages"),
            json!({"body": "我的冰箱坏了要退款"}),
        )
        .await;
    assert_eq!(m.status, 201, "{:?}", m.body);
    assert_eq!(s(&m.body["sender"]), "customer");
    assert_eq!(s(&m.body["bot"]["handoff"]), "unmatched");
    assert!(replies(&m.body["bot"])[0].contains("转接人工客服"));
    let number = s(&m.body["bot"]["ticket_number"]);
    assert!(!number.is_empty());

    let agent = t.as_role("agent@acme.test").await;
    let ticket = agent.get(&format!("/api/v1/tickets/{number}")).await;
    assert_eq!(ticket.status, 200, "{:?}", ticket.body);
    let tk = &ticket.body;
    assert_eq!(s(&tk["conversation_id"]), conv);
    assert_eq!(s(&tk["urgency"]), "urgent", "退款 → urgent: {tk}");
    assert_eq!(s(&tk["problem_code"]), "TD-01", "{tk}");
    assert!(tk["tags"].as_array().unwrap().contains(&json!("bot_handoff")), "{tk}");
    let c = agent.get(&format!("/api/v1/conversations/{conv}")).await;
    assert_eq!(s(&c.body["handler"]), "human");
    // The agent sees the whole transcript and the hand-off note; the customer not the note.
    let staff = items(&agent.get(&format!("/api/v1/conversations/{conv}/messages")).await.body);
    let note = staff.iter().find(|m| s(&m["visibility"]) == "internal").expect("hand-off note");
    assert!(s(&note["body"]).contains("unmatched") && s(&note["body"]).contains("TD-01"), "{note}");
    assert!(staff.iter().any(|m| s(&m["body"]) == "啊啊啊"));
    let mine = items(&v.get(&format!("/api/v1/public/conversations/{conv}/messages")).await.body);
    assert!(mine.iter().all(|m| s(&m["visibility"]) != "internal"));
    // A human has it now: the bot stays quiet.
    let m = v
        .post(&format!("/api/v1/public/conversations/{conv}/messages"), json!({"body": "在吗"}))
        .await;
    assert!(m.body["bot"].is_null(), "{:?}", m.body);
}
on_backends!(
    unmatched_twice_hands_off_with_a_prefilled_ticket,
    unmatched_twice_hands_off_with_a_prefilled_ticket_
);

async fn requests_and_threats_hand_off_at_once_(t: TestApp) {
    let (_, _, bot) = open(&t, "转人工").await;
    assert_eq!(s(&bot["handoff"]), "requested", "{bot}");
    let (_, _, bot) = open(&t, "你们就是骗子！再不退款我就去12315投诉，还要找媒体曝光你们").await;
    assert_eq!(s(&bot["handoff"]), "strong_negative", "{bot}");
    let agent = t.as_role("agent@acme.test").await;
    let tk = agent.get(&format!("/api/v1/tickets/{}", s(&bot["ticket_number"]))).await;
    assert_eq!(s(&tk.body["urgency"]), "critical", "{:?}", tk.body);
    assert_eq!(s(&tk.body["severity"]), "L2", "{:?}", tk.body);
}
on_backends!(requests_and_threats_hand_off_at_once, requests_and_threats_hand_off_at_once_);

async fn after_hours_a_message_is_taken_as_a_ticket_(t: TestApp) {
    // Saturday 2026-11-07 10:00 in Shanghai.
    t.clock.set(domain::Timestamp::from_millis(T0.millis() + 5 * 86_400_000 + 3_600_000));
    let (v, conv, bot) = open(&t, "人工客服").await;
    assert!(bot["handoff"].is_null());
    assert!(replies(&bot)[1].contains("非工作时间"), "{bot}");
    let m = v
        .post(
            &format!("/api/v1/public/conversations/{conv}/messages"),
            json!({"body": "洗衣机漏水，请周一联系我 13800138000"}),
        )
        .await;
    let number = s(&m.body["bot"]["ticket_number"]);
    assert!(!number.is_empty(), "{:?}", m.body);
    assert!(replies(&m.body["bot"])[0].contains(&number), "{:?}", m.body);
    let agent = t.as_role("agent@acme.test").await;
    let tk = agent.get(&format!("/api/v1/tickets/{number}")).await;
    assert_eq!(tk.status, 200);
}
on_backends!(
    after_hours_a_message_is_taken_as_a_ticket,
    after_hours_a_message_is_taken_as_a_ticket_
);

async fn settings_are_validated_and_turn_the_bot_off_(t: TestApp) {
    let admin = t.as_role("admin@acme.test").await;
    let got = admin.get("/api/v1/bot/settings").await;
    assert_eq!(got.status, 200);
    assert_eq!(got.body["handoff"]["unmatched_in_a_row"], 2);
    let bad = admin
        .put("/api/v1/bot/settings", json!({"flows": [{"name": "order_status", "intents": ["order"], "slots": [], "connector": "oms", "answer": {"zh": "x", "en": "x"}}]}))
        .await;
    assert_eq!(bad.status, 400, "{:?}", bad.body);
    assert!(s(&bad.body["message"]).contains("flows[0].connector"), "{:?}", bad.body);
    let bad =
        admin.put("/api/v1/bot/settings", json!({"handoff": {"rating_at_most": "three"}})).await;
    assert_eq!(bad.status, 400, "{:?}", bad.body);
    // A connector's secret is never read back, and saving the mask keeps it.
    let cfg = json!({"connectors": [{"name": "oms", "url": "https://oms.example.com/orders/{{order_no}}", "secret": "s3cret"}]});
    let put = admin.put("/api/v1/bot/settings", cfg).await;
    assert_eq!(put.status, 200, "{:?}", put.body);
    assert_eq!(s(&put.body["connectors"][0]["secret"]), "********");
    let mut again = admin.get("/api/v1/bot/settings").await.body;
    assert!(!again.to_string().contains("s3cret"));
    again["enabled"] = json!(false);
    assert_eq!(admin.put("/api/v1/bot/settings", again).await.status, 200);
    let (_, _, bot) = open(&t, "转人工").await;
    assert!(bot.is_null(), "{bot}");
    let agent = t.as_role("agent@acme.test").await;
    assert_eq!(agent.put("/api/v1/bot/settings", json!({})).await.status, 403);
}
on_backends!(
    settings_are_validated_and_turn_the_bot_off,
    settings_are_validated_and_turn_the_bot_off_
);

async fn metrics_count_containment_and_reasons_(t: TestApp) {
    let (v, conv, _) = open(&t, "啊啊啊").await;
    v.post(&format!("/api/v1/public/conversations/{conv}/messages"), json!({"body": "嗯嗯"})).await;
    open(&t, "转人工").await;
    open(&t, "随便看看").await;
    let agent = t.as_role("agent@acme.test").await;
    let m = agent.get("/api/v1/bot/metrics?days=7").await;
    assert_eq!(m.status, 200, "{:?}", m.body);
    assert_eq!(m.body["handed_off"], 2, "{:?}", m.body);
    assert_eq!(m.body["unmatched"], 3, "{:?}", m.body);
    let reasons: Vec<String> =
        m.body["handoff_by_reason"].as_array().unwrap().iter().map(|r| s(&r["reason"])).collect();
    assert!(
        reasons.contains(&"unmatched".to_owned()) && reasons.contains(&"requested".to_owned()),
        "{reasons:?}"
    );
    assert_eq!(agent.get("/api/v1/bot/metrics?days=0").await.status, 400);
}
on_backends!(metrics_count_containment_and_reasons, metrics_count_containment_and_reasons_);

async fn buttons_are_checked_(t: TestApp) {
    let (v, conv, _) = open(&t, "你好").await;
    let r = v
        .post(
            &format!("/api/v1/public/conversations/{conv}/bot/pick"),
            json!({"payload": "rate:9"}),
        )
        .await;
    assert_eq!(r.status, 400, "{:?}", r.body);
    // A stale button does nothing.
    let r = v
        .post(
            &format!("/api/v1/public/conversations/{conv}/bot/pick"),
            json!({"payload": "faq:nope"}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert!(r.body["replies"].as_array().unwrap().is_empty());
}
on_backends!(buttons_are_checked, buttons_are_checked_);

async fn answers_from_the_knowledge_base_and_a_low_rating_hands_off_(t: TestApp) {
    let admin = t.as_role("admin@acme.test").await;
    let r = admin
        .post(
            "/api/v1/kb/faqs",
            json!({"question": "如何办理退货", "variants": ["退货流程是什么", "怎么退货"],
                   "answer": "{{customer.name}}您好，签收7天内可在订单页申请退货。"}),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let id = s(&r.body["id"]);
    assert_eq!(admin.post(&format!("/api/v1/kb/faqs/{id}/publish"), json!({})).await.status, 200);
    let (v, conv, bot) = open(&t, "怎么退货").await;
    let r = replies(&bot);
    assert_eq!(r[1], "测试客户您好，签收7天内可在订单页申请退货。", "{bot}");
    assert!(r[2].contains("打分"), "{bot}");
    let payloads: Vec<String> =
        bot["buttons"].as_array().unwrap().iter().map(|b| s(&b["payload"])).collect();
    assert_eq!(payloads, ["rate:1", "rate:2", "rate:3", "rate:4", "rate:5"]);
    let p = v
        .post(
            &format!("/api/v1/public/conversations/{conv}/bot/pick"),
            json!({"payload": "rate:2"}),
        )
        .await;
    assert_eq!(p.status, 200, "{:?}", p.body);
    assert_eq!(s(&p.body["handoff"]), "low_rating", "{:?}", p.body);
    let agent = t.as_role("agent@acme.test").await;
    let m = agent.get("/api/v1/bot/metrics").await;
    assert_eq!(m.body["answered"], 1, "{:?}", m.body);
    assert_eq!(m.body["rating_by_intent"][0]["mean"], 2.0, "{:?}", m.body);
}
on_backends!(
    answers_from_the_knowledge_base_and_a_low_rating_hands_off,
    answers_from_the_knowledge_base_and_a_low_rating_hands_off_
);

async fn no_pickup_tells_the_wait_unless_an_agent_answered_(t: TestApp) {
    let bodies = |v: &Value| -> Vec<String> { items(v).iter().map(|m| s(&m["body"])).collect() };
    // Nobody answers: after the configured 5 minutes the job tells the wait, once.
    let (v, conv, bot) = open(&t, "转人工").await;
    assert_eq!(s(&bot["handoff"]), "requested", "{bot}");
    t.clock.advance_millis(4 * 60_000);
    t.app.run_jobs_once("w", t.app.now()).await.unwrap();
    let path = format!("/api/v1/public/conversations/{conv}/messages");
    assert!(!bodies(&v.get(&path).await.body).iter().any(|b| b.contains("预计等待")));
    t.clock.advance_millis(2 * 60_000);
    t.app.run_jobs_once("w", t.app.now()).await.unwrap();
    let mine = bodies(&v.get(&path).await.body);
    assert!(mine.last().unwrap().contains("预计等待"), "{mine:?}");
    // The customer takes the offer: the message is added to the hand-off ticket.
    let m = v.post(&path, json!({"body": "留言"})).await;
    assert!(replies(&m.body["bot"])[0].contains("请直接留言"), "{:?}", m.body);
    let m = v.post(&path, json!({"body": "请明天上午给我回电 13800138000"})).await;
    assert!(replies(&m.body["bot"])[0].contains("工单号"), "{:?}", m.body);

    // An agent answered in time: no wait message.
    let (v, conv, _) = open(&t, "人工客服").await;
    let agent = t.as_role("agent@acme.test").await;
    let r = agent
        .post(&format!("/api/v1/conversations/{conv}/messages"), json!({"body": "您好，我来处理"}))
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    t.clock.advance_millis(10 * 60_000);
    t.app.run_jobs_once("w", t.app.now()).await.unwrap();
    let mine = bodies(&v.get(&format!("/api/v1/public/conversations/{conv}/messages")).await.body);
    assert!(!mine.iter().any(|b| b.contains("预计等待")), "{mine:?}");
}
on_backends!(
    no_pickup_tells_the_wait_unless_an_agent_answered,
    no_pickup_tells_the_wait_unless_an_agent_answered_
);
