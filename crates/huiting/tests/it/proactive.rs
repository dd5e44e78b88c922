//! Proactive service (issue 8 item 6) against the real HTTP peers of `channels`: a VIP renewal
//! rule and a delayed-order rule reach customers through WeChat's customer-service API and the
//! SMS provider's template API; quiet hours hold messages until they end; a customer opted out
//! by staff or by replying 退订 / TD gets nothing, even when the reply comes after scheduling;
//! the frequency cap holds across rules; a rule never writes twice for one occasion.

use std::time::Duration;

use serde_json::{Value, json};
use test_support::{Client, TestApp};

use crate::{
    channels::{make_channel, now_secs, peer, signed_post, sms_settings, wechat_post, wx_text},
    items, on_backends, s,
};

/// A customer reached through SMS: their first message, then tier and attributes.
async fn sms_customer(t: &TestApp, agent: &Client, ch: &str, id: &str, from: &str) -> String {
    let r = signed_post(
        t,
        &format!("/api/v1/channels/{ch}/sms"),
        "sms-secret-123",
        now_secs(t),
        &json!({"id": id, "from": from, "text": "你好"}),
    )
    .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    s(
        &agent.get(&format!("/api/v1/conversations/{}", s(&r.body["conversation_id"]))).await.body
            ["customer_id"],
    )
}

async fn social_customers(agent: &Client) -> Vec<String> {
    let convs = items(&agent.get("/api/v1/conversations?channel=social").await.body);
    convs.iter().map(|c| s(&c["customer_id"])).collect()
}

/// A customer reached through WeChat: the one their first message created.
async fn wechat_customer(t: &TestApp, agent: &Client, ch: &str, openid: &str, n: u64) -> String {
    let before = social_customers(agent).await;
    let (st, _) = wechat_post(t, ch, "wxtoken", &wx_text(openid, n, "在吗")).await;
    assert_eq!(st, 200);
    let after = social_customers(agent).await;
    after.into_iter().find(|c| !before.contains(c)).expect("a new customer")
}

async fn set(agent: &Client, cu: &str, tier: &str, attrs: Value) {
    let r = agent
        .patch(&format!("/api/v1/customers/{cu}"), json!({"tier": tier, "attributes": attrs}))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
}

fn outcomes(v: &Value) -> Vec<(String, String)> {
    let mut o: Vec<(String, String)> =
        v.as_array().unwrap().iter().map(|i| (s(&i["customer_id"]), s(&i["outcome"]))).collect();
    o.sort();
    o
}

async fn proactive_flow(t: TestApp) {
    let (peer, base) = peer().await;
    let mut admin = t.as_role("admin@acme.test").await;
    let mut agent = t.as_role("agent@acme.test").await;
    let mut sms = sms_settings(&base);
    sms["templates"]["renew"] = json!({"code": "SMS_300", "text": "{{name}}，会员 {{date}} 到期"});
    let sms = make_channel(&admin, "sms", sms).await;
    let wx = make_channel(
        &admin,
        "wechat",
        json!({"app_id": "wx123", "app_secret": "appsecret", "token": "wxtoken", "api_base": base,
               "allow_hosts": ["127.0.0.1"]}),
    )
    .await;

    // T0 is Monday 2026-11-02 09:00 in Shanghai.
    let a = wechat_customer(&t, &agent, &wx, "oA", 1).await;
    set(
        &agent,
        &a,
        "vip",
        json!({"membership_expires": "2026-11-06", "order_status": "delayed", "order_no": "E1"}),
    )
    .await;
    let b = sms_customer(&t, &agent, &sms, "b1", "13800000001").await;
    set(&agent, &b, "vip", json!({"membership_expires": "2026-11-05"})).await;
    let c = wechat_customer(&t, &agent, &wx, "oC", 2).await;
    set(&agent, &c, "vip", json!({"membership_expires": "2026-11-07"})).await;
    let d = sms_customer(&t, &agent, &sms, "d1", "13800000004").await;
    set(&agent, &d, "vip", json!({"membership_expires": "2026-11-08"})).await;
    let e = sms_customer(&t, &agent, &sms, "e1", "13800000005").await;
    set(&agent, &e, "ordinary", json!({"membership_expires": "2026-11-04"})).await;
    assert_eq!(
        [&a, &b, &c, &d, &e].iter().collect::<std::collections::BTreeSet<_>>().len(),
        5,
        "five customers"
    );

    // Staff opt C out; agents may, and the state reads back.
    let r = agent
        .put(&format!("/api/v1/customers/{c}/proactive-opt-out"), json!({"opted_out": true}))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!((r.body["opted_out"].clone(), s(&r.body["source"])), (json!(true), "staff".into()));

    // Settings: bad input named; quiet 21:00–08:00, one message per 7 days.
    let bad = admin
        .put(
            "/api/v1/proactive/settings",
            json!({"time_zone": "Mars/Base", "quiet_hours": "", "cap_count": 1, "cap_days": 7}),
        )
        .await;
    assert_eq!((bad.status, s(&bad.body["field"])), (400, "time_zone".into()), "{:?}", bad.body);
    let r = admin
        .put("/api/v1/proactive/settings", json!({"time_zone": "Asia/Shanghai", "quiet_hours": "21:00-08:00", "cap_count": 1, "cap_days": 7}))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);

    let renew = json!({"name": "VIP 会员到期提醒", "tier": "vip",
        "moment": {"kind": "days_before", "attribute": "membership_expires", "days": 7},
        "text": "{{name}}，您的会员将于 {{date}} 到期，还有 {{days_left}} 天。回复 TD 退订",
        "sms_template": "renew"});
    let mut wrong = renew.clone();
    wrong["moment"]["days"] = json!(400);
    let r = admin.post("/api/v1/proactive/rules", wrong).await;
    assert_eq!((r.status, s(&r.body["field"])), (400, "moment.days".into()), "{:?}", r.body);

    // 22:00: inside the quiet hours. The rule is saved active and evaluated at once.
    t.advance(Duration::from_secs(13 * 3600));
    (admin, agent) = (t.as_role("admin@acme.test").await, t.as_role("agent@acme.test").await);
    let r = admin.post("/api/v1/proactive/rules", renew).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let rule = s(&r.body["id"]);
    let preview = admin.get(&format!("/api/v1/proactive/rules/{rule}/preview")).await;
    assert_eq!(preview.status, 200);
    let mut want = vec![
        (a.clone(), "send".to_string()),
        (b.clone(), "send".into()),
        (c.clone(), "opted_out".into()),
        (d.clone(), "send".into()),
    ];
    want.sort();
    assert_eq!(outcomes(&preview.body), want, "{}", preview.body);
    let eight = t.app.now().plus_hours(10).millis(); // 08:00 the next morning
    for i in preview.body.as_array().unwrap().iter().filter(|i| i["outcome"] == "send") {
        assert_eq!(i["due_at"], json!(eight), "{i}");
    }
    t.run_pending_jobs().await;
    assert!(peer.calls("/cgi-bin/message/custom/send").is_empty(), "quiet hours");
    let sms_before = peer.calls("/sms/send").len();
    let sends = admin.get(&format!("/api/v1/proactive/sends?rule_id={rule}")).await.body;
    assert_eq!(sends.as_array().unwrap().len(), 3, "{sends}");
    assert!(sends.as_array().unwrap().iter().all(|x| x["state"] == "scheduled"));

    // D replies TD during the night: opted out before the message is due.
    let r = signed_post(
        &t,
        &format!("/api/v1/channels/{sms}/sms"),
        "sms-secret-123",
        now_secs(&t),
        &json!({"id": "d2", "from": "13800000004", "text": " TD "}),
    )
    .await;
    assert_eq!(r.status, 200);
    let o = agent.get(&format!("/api/v1/customers/{d}/proactive-opt-out")).await.body;
    assert_eq!((o["opted_out"].clone(), s(&o["source"])), (json!(true), "reply".into()));

    // 08:00: A by WeChat, B by SMS template; D nothing.
    t.advance(Duration::from_secs(10 * 3600));
    (admin, agent) = (t.as_role("admin@acme.test").await, t.as_role("agent@acme.test").await);
    t.run_pending_jobs().await;
    let wx_sent = peer.calls("/cgi-bin/message/custom/send");
    assert_eq!(wx_sent.len(), 1, "{wx_sent:?}");
    let v: Value = serde_json::from_str(&wx_sent[0].1).unwrap();
    assert_eq!(v["touser"], "oA");
    // Rendered when planned (22:00 on 11-02): 4 days left then.
    assert_eq!(
        s(&v["text"]["content"]),
        "微信用户 WeChat user，您的会员将于 2026-11-06 到期，还有 4 天。回复 TD 退订"
    );
    let sms_sent = peer.calls("/sms/send");
    assert_eq!(sms_sent.len(), sms_before + 1, "{sms_sent:?}");
    let v: Value = serde_json::from_str(&sms_sent.last().unwrap().1).unwrap();
    assert_eq!(v["to"], "+8613800000001");
    assert_eq!(v["template_code"], "SMS_300");
    assert_eq!(v["template_params"]["date"], "2026-11-05");
    let sends = admin.get(&format!("/api/v1/proactive/sends?rule_id={rule}")).await.body;
    let mut states: Vec<(String, String, String)> = sends
        .as_array()
        .unwrap()
        .iter()
        .map(|x| (s(&x["customer_id"]), s(&x["channel"]), s(&x["state"])))
        .collect();
    states.sort();
    let mut want = vec![
        (a.clone(), "wechat".to_string(), "sent".to_string()),
        (b.clone(), "sms".into(), "sent".into()),
        (d.clone(), "sms".into(), "opted_out".into()),
    ];
    want.sort();
    assert_eq!(states, want);
    // The message is part of A's history.
    let conv = s(
        &sends.as_array().unwrap().iter().find(|x| s(&x["customer_id"]) == a).unwrap()["conversation_id"],
    );
    let ms = items(&agent.get(&format!("/api/v1/conversations/{conv}/messages")).await.body);
    assert!(ms.iter().any(|m| s(&m["body"]).contains("2026-11-06 到期")), "{ms:?}");

    // The hourly job and run-now never write twice for the same occasion.
    t.advance(Duration::from_secs(3600));
    admin = t.as_role("admin@acme.test").await;
    t.run_pending_jobs().await;
    let r = admin.post(&format!("/api/v1/proactive/rules/{rule}/run"), json!({})).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert!(r.body.as_array().unwrap().iter().all(|i| i["outcome"] != "send"), "{}", r.body);
    t.run_pending_jobs().await;
    assert_eq!(peer.calls("/cgi-bin/message/custom/send").len(), 1);
    assert_eq!(peer.calls("/sms/send").len(), sms_before + 1);

    // A second rule: A's delayed order is capped (one message per 7 days across rules)…
    let delayed = json!({"name": "订单延误安抚", "active": false,
        "moment": {"kind": "attribute_is", "attribute": "order_status", "value": "delayed", "occasion_attribute": "order_no"},
        "text": "订单 {{attr.order_no}} 延误了，我们在加急处理"});
    let r = admin.post("/api/v1/proactive/rules", delayed).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let rule2 = s(&r.body["id"]);
    let r = admin.post(&format!("/api/v1/proactive/rules/{rule2}/run"), json!({})).await;
    assert_eq!(outcomes(&r.body), vec![(a.clone(), "capped".into())], "{}", r.body);
    // …until the window has passed (14:00 a week later, outside quiet hours).
    t.advance(Duration::from_secs(7 * 24 * 3600 + 5 * 3600));
    (admin, agent) = (t.as_role("admin@acme.test").await, t.as_role("agent@acme.test").await);
    let r = admin.post(&format!("/api/v1/proactive/rules/{rule2}/run"), json!({})).await;
    assert_eq!(outcomes(&r.body), vec![(a.clone(), "send".into())], "{}", r.body);
    t.run_pending_jobs().await;
    let wx_sent = peer.calls("/cgi-bin/message/custom/send");
    assert_eq!(wx_sent.len(), 2);
    assert!(wx_sent[1].1.contains("订单 E1 延误了"), "{}", wx_sent[1].1);

    // Staff clear an opt-out; only admins manage rules.
    let r = agent
        .put(&format!("/api/v1/customers/{c}/proactive-opt-out"), json!({"opted_out": false}))
        .await;
    assert_eq!(r.body["opted_out"], json!(false));
    assert_eq!(agent.get("/api/v1/proactive/rules").await.status, 403);
    assert_eq!(admin.delete(&format!("/api/v1/proactive/rules/{rule2}")).await.status, 204);
    assert_eq!(admin.get(&format!("/api/v1/proactive/rules/{rule2}")).await.status, 404);
}
on_backends!(proactive_rules_quiet_hours_opt_out_and_cap, proactive_flow);
