//! The learning loop (BOT-7): unanswered and low-rated questions clustered into FAQ candidates
//! by the daily job and on demand; accepting one adds the entry, teaches the intent and
//! retrains in the background; dismissing one keeps its questions out of the queue; an
//! agent's intent correction becomes a training example.

use serde_json::{Value, json};
use test_support::TestApp;

use crate::{items, on_backends, s};

async fn ask(t: &TestApp, message: &str) -> (test_support::Client, String, Value) {
    let r = t
        .anon()
        .post(
            "/api/v1/public/conversations",
            json!({"public_key": t.ws.public_key, "name": "访客", "message": message}),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let v = test_support::Client { bearer: Some(s(&r.body["visitor_token"])), ..t.anon() };
    (v, s(&r.body["conversation"]["id"]), r.body["bot"].clone())
}

fn questions(c: &Value) -> Vec<(String, i64)> {
    c["questions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| (s(&q["text"]), q["count"].as_i64().unwrap()))
        .collect()
}

async fn candidates_are_mined_accepted_and_dismissed_(t: TestApp) {
    let admin = t.as_role("admin@acme.test").await;
    // A published entry whose answer two customers rate low.
    let faq = admin
        .post(
            "/api/v1/kb/faqs",
            json!({"question": "如何办理退货", "answer": "签收7天内可申请退货。", "publish": true}),
        )
        .await;
    assert_eq!(faq.status, 201, "{:?}", faq.body);
    let returns = s(&faq.body["id"]);
    for _ in 0..2 {
        let (v, conv, bot) = ask(&t, "如何办理退货").await;
        assert!(bot["replies"].to_string().contains("签收7天内"), "{bot}");
        let p = v
            .post(
                &format!("/api/v1/public/conversations/{conv}/bot/pick"),
                json!({"payload": "rate:2"}),
            )
            .await;
        assert_eq!(p.status, 200, "{:?}", p.body);
    }
    // Unanswered questions: two groups and one question asked once.
    for q in ["发票抬头怎么修改", "怎么修改发票抬头", "发票抬头写错了能修改吗", "怎么修改发票抬头"]
    {
        ask(&t, q).await;
    }
    for q in ["积分多久过期", "我的积分会过期吗"] {
        ask(&t, q).await;
    }
    ask(&t, "你们周末上班吗").await;
    assert!(items(&admin.get("/api/v1/kb/candidates").await.body).is_empty());

    // The daily job runs a day after the first question.
    t.advance(std::time::Duration::from_secs(86_400));
    assert!(t.run_pending_jobs().await >= 1);
    let admin = t.as_role("admin@acme.test").await;
    let list = admin.get("/api/v1/kb/candidates").await;
    assert_eq!(list.status, 200, "{:?}", list.body);
    let open = items(&list.body);
    assert_eq!(open.len(), 3, "{open:#?}");
    let invoice = &open[0];
    assert_eq!(invoice["total"], 4, "{invoice}");
    assert_eq!(invoice["unmatched"], 4);
    assert_eq!(s(&invoice["question"]), "怎么修改发票抬头");
    assert_eq!(
        questions(invoice),
        [
            ("怎么修改发票抬头".to_owned(), 2),
            ("发票抬头写错了能修改吗".to_owned(), 1),
            ("发票抬头怎么修改".to_owned(), 1)
        ]
    );
    let low = open.iter().find(|c| c["low_rated"] == 2).expect("the low-rated group");
    assert_eq!(questions(low), [("如何办理退货".to_owned(), 2)]);
    assert_eq!(low["faq_ids"], json!([returns]));
    let points = open.iter().find(|c| s(&c["question"]).contains("积分")).expect("points");
    assert_eq!(points["total"], 2);
    assert!(!list.body.to_string().contains("周末"), "asked once: not proposed");

    // Refreshing on demand keeps the ids of the same groups.
    let again = admin.post("/api/v1/kb/candidates/refresh", json!({})).await;
    assert_eq!(again.status, 200, "{:?}", again.body);
    assert_eq!(items(&again.body).len(), 3);
    assert_eq!(again.body[0]["id"], invoice["id"]);

    // Two intents exist, so accepting with an intent queues training.
    let r = admin
        .post("/api/v1/nlu/intents", json!({"name": "refund", "examples": ["我要退款", "退钱"]}))
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let id = s(&invoice["id"]);
    let acc = admin
        .post(
            &format!("/api/v1/kb/candidates/{id}/accept"),
            json!({"answer": "在「我的-发票」里可修改抬头。", "category": "发票", "intent": "invoice"}),
        )
        .await;
    assert_eq!(acc.status, 200, "{:?}", acc.body);
    assert_eq!(s(&acc.body["candidate"]["status"]), "accepted");
    assert_eq!(s(&acc.body["faq"]["question"]), "怎么修改发票抬头");
    assert_eq!(acc.body["faq"]["variants"], json!(["发票抬头写错了能修改吗", "发票抬头怎么修改"]));
    assert_eq!(s(&acc.body["faq"]["status"]), "published");
    assert_eq!(s(&acc.body["training"]["status"]), "training", "{:?}", acc.body);
    assert_eq!(acc.body["candidate"]["faq_id"], acc.body["faq"]["id"]);
    let again =
        admin.post(&format!("/api/v1/kb/candidates/{id}/accept"), json!({"answer": "x"})).await;
    assert_eq!(again.status, 409, "{:?}", again.body);
    let bad = admin
        .post(&format!("/api/v1/kb/candidates/{}/accept", s(&points["id"])), json!({"answer": ""}))
        .await;
    assert_eq!(bad.status, 400, "{:?}", bad.body);

    // Retraining runs in the background; the intent now knows the questions.
    assert!(t.run_pending_jobs().await >= 1);
    let models = admin.get("/api/v1/nlu/models").await;
    assert_eq!(s(&models.body[0]["status"]), "ready", "{:?}", models.body);
    assert_eq!(models.body[0]["metrics"]["labels"], json!(["invoice", "refund"]));
    let a = admin.post("/api/v1/nlu/analyze", json!({"text": "发票抬头怎么修改"})).await;
    assert_eq!(a.body["intent"]["top"][0]["intent"], "invoice", "{:?}", a.body);
    // And the bot answers the question it could not.
    let (_, _, bot) = ask(&t, "发票抬头写错了能修改吗").await;
    assert!(bot["replies"].to_string().contains("可修改抬头"), "{bot}");

    let d =
        admin.post(&format!("/api/v1/kb/candidates/{}/dismiss", s(&points["id"])), json!({})).await;
    assert_eq!((d.status, s(&d.body["status"])), (200, "dismissed".into()), "{:?}", d.body);
    let r = admin.post("/api/v1/kb/candidates/refresh", json!({})).await;
    let open = items(&r.body);
    assert_eq!(open.len(), 1, "decided questions are not proposed again: {open:#?}");
    assert_eq!(open[0]["low_rated"], 2);
    let all = admin.get("/api/v1/kb/candidates?status=all").await;
    assert_eq!(items(&all.body).len(), 3);
    assert_eq!(admin.get("/api/v1/kb/candidates?status=maybe").await.status, 400);

    // Agents read the queue; only editors decide; other workspaces see nothing.
    let agent = t.as_role("agent@acme.test").await;
    assert_eq!(agent.get(&format!("/api/v1/kb/candidates/{id}")).await.status, 200);
    let no = agent
        .post(&format!("/api/v1/kb/candidates/{}/dismiss", s(&open[0]["id"])), json!({}))
        .await;
    assert_eq!(no.status, 403);
    let other = t.login("other", "admin@other.test").await;
    assert_eq!(other.get(&format!("/api/v1/kb/candidates/{id}")).await.status, 404);
    assert!(items(&other.get("/api/v1/kb/candidates?status=all").await.body).is_empty());
}
on_backends!(
    candidates_are_mined_accepted_and_dismissed,
    candidates_are_mined_accepted_and_dismissed_
);

async fn an_agents_correction_becomes_training_data_(t: TestApp) {
    let sup = t.as_role("super@acme.test").await;
    for (name, ex) in [("refund", ["我要退款", "退钱给我"]), ("track", ["快递到哪了", "物流信息"])]
    {
        let r = sup.post("/api/v1/nlu/intents", json!({"name": name, "examples": ex})).await;
        assert_eq!(r.status, 201, "{:?}", r.body);
    }
    let (_, conv, _) = ask(&t, "包裹三天了还没动静").await;
    let agent = t.as_role("agent@acme.test").await;
    let msgs = items(&agent.get(&format!("/api/v1/conversations/{conv}/messages")).await.body);
    let customer = msgs.iter().find(|m| s(&m["sender"]) == "customer").expect("customer message");
    let bot = msgs.iter().find(|m| s(&m["sender"]) == "bot").expect("bot message");
    let url = |m: &Value| format!("/api/v1/conversations/{conv}/messages/{}/intent", s(&m["id"]));

    let r = agent.put(&url(customer), json!({"intent": "track"})).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(
        (s(&r.body["intent"]), r.body["example_added"].as_bool()),
        ("track".into(), Some(true))
    );
    assert_eq!(s(&r.body["training"]["status"]), "training", "{:?}", r.body);
    let track = s(&r.body["intent_id"]);
    let detail = sup.get(&format!("/api/v1/nlu/intents/{track}")).await;
    let ex = detail.body["example_list"].as_array().unwrap();
    assert!(
        ex.iter().any(|e| s(&e["text"]) == "包裹三天了还没动静" && s(&e["source"]) == "correction"),
        "{:?}",
        detail.body
    );
    // Again: nothing new to learn, nothing queued.
    let r = agent.put(&url(customer), json!({"intent": "track"})).await;
    assert_eq!((r.status, r.body["example_added"].as_bool()), (200, Some(false)), "{:?}", r.body);
    assert!(r.body["training"].is_null());
    assert_eq!(agent.put(&url(customer), json!({"intent": "nope"})).await.status, 404);
    assert_eq!(agent.put(&url(bot), json!({"intent": "track"})).await.status, 400);
    let stray = format!("/api/v1/conversations/{conv}/messages/{}/intent", track);
    assert_eq!(agent.put(&stray, json!({"intent": "track"})).await.status, 404);
    // The model trains with the corrected example.
    assert!(t.run_pending_jobs().await >= 1);
    let models = sup.get("/api/v1/nlu/models").await;
    assert_eq!(s(&models.body[0]["status"]), "ready", "{:?}", models.body);
    assert_eq!(models.body[0]["metrics"]["examples"], 5);
    let auditor = t.as_role("audit@acme.test").await;
    assert_eq!(auditor.put(&url(customer), json!({"intent": "track"})).await.status, 403);
}
on_backends!(
    an_agents_correction_becomes_training_data,
    an_agents_correction_becomes_training_data_
);
