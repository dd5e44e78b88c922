//! The API as a client sees it: a ticket's life, and every kind of bad input.

use serde_json::json;
use test_support::TestApp;

use crate::{items, on_backends, s};

async fn ticket_lifecycle(t: TestApp) {
    let agent = t.as_role("agent@acme.test").await;
    let c = agent.post("/api/v1/customers", json!({"name": "张伟", "phone": "138 0013 8000", "tier": "vip", "attributes": {"city": "杭州"}})).await;
    assert_eq!(c.status, 201, "{:?}", c.body);
    assert_eq!(c.body["identities"][0]["value"], "+8613800138000");
    let cust = s(&c.body["id"]);

    let dup = agent
        .post("/api/v1/customers", json!({"name": "另一个", "phone": "+86 13800138000"}))
        .await;
    assert_eq!(dup.status, 409, "same phone is the same customer: {:?}", dup.body);

    let tk = agent
        .post(
            "/api/v1/tickets",
            json!({"subject": "空调主板故障，无法开机", "customer_id": cust, "channel": "phone", "description": "昨天安装的空调今天开不了机",
                   "problem_code": "PQ-03", "severity": "L2", "urgency": "urgent", "tags": ["VIP", "主板"], "custom_fields": {"order_no": "DD2026110200001"}}),
        )
        .await;
    assert_eq!(tk.status, 201, "{:?}", tk.body);
    let id = s(&tk.body["id"]);
    let number = s(&tk.body["number"]);
    assert_eq!(number, "HT-1");
    assert_eq!(tk.body["status"], "new");
    assert_eq!(tk.body["stage"], "received");
    assert_eq!(tk.body["tags"], json!(["vip", "主板"]));

    // By number, too.
    let by_no = agent.get(&format!("/api/v1/tickets/{number}")).await;
    assert_eq!(by_no.body["id"], tk.body["id"]);

    let me = t.user("agent@acme.test").id.to_string();
    let a = agent.post(&format!("/api/v1/tickets/{id}/assign"), json!({"assignee_id": me})).await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    assert_eq!(a.body["status"], "open", "assigning a new ticket opens it");

    let p = agent
        .patch(
            &format!("/api/v1/tickets/{id}"),
            json!({"stage": "investigating", "problem_code": "PQ-02"}),
        )
        .await;
    assert_eq!(p.status, 200, "{:?}", p.body);
    assert_eq!(p.body["stage"], "investigating");

    let bad_stage =
        agent.patch(&format!("/api/v1/tickets/{id}"), json!({"stage": "teleporting"})).await;
    assert_eq!(bad_stage.status, 400);
    assert_eq!(bad_stage.body["field"], "stage");

    let r = agent
        .send(
            "POST",
            &format!("/api/v1/tickets/{id}/replies"),
            Some(json!({"body": "您好，工程师明天上门检测。"})),
            &[("idempotency-key", "reply-1")],
        )
        .await;
    assert_eq!(r.status, 201);
    let again = agent
        .send(
            "POST",
            &format!("/api/v1/tickets/{id}/replies"),
            Some(json!({"body": "您好，工程师明天上门检测。"})),
            &[("idempotency-key", "reply-1")],
        )
        .await;
    assert_eq!(again.status, 200, "a retry returns the first message");
    assert_eq!(again.body["id"], r.body["id"]);

    let tech = t.as_role("tech@acme.test").await;
    assert_eq!(
        tech.get(&format!("/api/v1/tickets/{id}")).await.status,
        404,
        "not the tech team's ticket yet"
    );

    let n = agent
        .post(&format!("/api/v1/tickets/{id}/notes"), json!({"body": "@技术部 请确认是否批次问题"}))
        .await;
    assert_eq!(n.status, 201);
    assert_eq!(n.body["visibility"], "internal");

    let msgs = agent.get(&format!("/api/v1/tickets/{id}/messages")).await;
    let bodies: Vec<String> = items(&msgs.body)
        .iter()
        .filter(|m| m["sender"] != "system")
        .map(|m| s(&m["body"]))
        .collect();
    assert_eq!(
        bodies,
        ["昨天安装的空调今天开不了机", "您好，工程师明天上门检测。", "@技术部 请确认是否批次问题"]
    );
    // Each stage change (opened, then investigating) told the customer (TK-8).
    let notices: Vec<String> = items(&msgs.body)
        .iter()
        .filter(|m| m["sender"] == "system" && m["visibility"] == "public")
        .map(|m| s(&m["body"]))
        .collect();
    assert_eq!(notices.len(), 2, "{notices:?}");
    assert!(notices[0].contains("处理中") && notices[1].contains("技术排查中"), "{notices:?}");

    let bad = agent.post(&format!("/api/v1/tickets/{id}/status"), json!({"status": "new"})).await;
    assert_eq!(bad.status, 409);
    assert_eq!(bad.body["code"], "invalid_transition");

    let solved =
        agent.post(&format!("/api/v1/tickets/{id}/status"), json!({"status": "solved"})).await;
    assert_eq!(solved.status, 200);
    assert_eq!(solved.body["stage"], "resolved");

    // The customer tracks the ticket by its link, with no login.
    let track = t.anon().get(&s(&tk.body["tracking_path"])).await;
    assert_eq!(track.status, 200, "{:?}", track.body);
    assert_eq!(track.body["ticket"]["stage_label_zh"], "已解决");
    assert_eq!(track.body["ticket"]["number"], "HT-1");
    assert!(track.body.get("customer_id").is_none());

    // Four days later the worker closes it.
    t.advance(std::time::Duration::from_secs(4 * 24 * 3600 + 1));
    // The auto-close, besides the classification, survey and insight jobs the ticket's life
    // enqueued.
    assert!(t.run_pending_jobs().await >= 1);
    let expired = agent.get(&format!("/api/v1/tickets/{id}")).await;
    assert_eq!(expired.status, 401, "the 12-hour session has expired");
    let agent = t.as_role("agent@acme.test").await;
    let closed = agent.get(&format!("/api/v1/tickets/{id}")).await;
    assert_eq!(closed.body["status"], "closed");
    assert_eq!(t.run_pending_jobs().await, 0, "a job runs once");
    let change = agent.patch(&format!("/api/v1/tickets/{id}"), json!({"subject": "x"})).await;
    assert_eq!(change.status, 409);
    assert_eq!(change.body["code"], "ticket_closed");

    let hist = agent.get(&format!("/api/v1/tickets/{id}/history")).await;
    let actions: Vec<String> = items(&hist.body).iter().map(|e| s(&e["action"])).collect();
    assert_eq!(
        actions,
        ["ticket.status", "ticket.status", "ticket.update", "ticket.status", "ticket.create"],
        "closed, solved, stage, assigned (new→open), created"
    );
    assert_eq!(items(&hist.body)[0]["actor"], "system");
    assert_eq!(items(&hist.body)[0]["after"]["status"], "closed");

    // Filters and pagination.
    for i in 0..5 {
        let r = agent.post("/api/v1/tickets", json!({"subject": format!("发票问题 {i}"), "customer_id": cust, "problem_code": "TD-05"})).await;
        assert_eq!(r.status, 201);
    }
    let p1 = agent.get("/api/v1/tickets?limit=2&problem_code=TD").await;
    assert_eq!(items(&p1.body).len(), 2);
    let cursor = s(&p1.body["next_cursor"]);
    let p2 = agent.get(&format!("/api/v1/tickets?limit=2&problem_code=TD&cursor={cursor}")).await;
    let p3 = agent
        .get(&format!(
            "/api/v1/tickets?limit=2&problem_code=TD&cursor={}",
            s(&p2.body["next_cursor"])
        ))
        .await;
    assert_eq!(items(&p3.body).len(), 1);
    assert!(p3.body["next_cursor"].is_null());
    let mut seen: Vec<String> =
        [&p1, &p2, &p3].iter().flat_map(|p| items(&p.body)).map(|t| s(&t["number"])).collect();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 5, "pages neither repeat nor skip");
    let closed_only = agent.get("/api/v1/tickets?status=closed").await;
    assert_eq!(items(&closed_only.body).len(), 1);
    let tagged = agent.get("/api/v1/tickets?tag=VIP").await;
    assert_eq!(items(&tagged.body).len(), 1);
    let words = agent.get("/api/v1/tickets?q=发票%203").await;
    assert_eq!(items(&words.body).len(), 1);
}
on_backends!(a_ticket_lives_from_creation_to_auto_close, ticket_lifecycle);

async fn bad_input(t: TestApp) {
    let agent = t.as_role("agent@acme.test").await;
    let anon = t.anon();

    let r = anon.get("/api/v1/tickets").await;
    assert_eq!(r.status, 401);
    assert_eq!(
        r.body,
        json!({"code": "unauthenticated", "message": "log in, or send Authorization: Bearer <API token>", "type": "auth"})
    );

    let r = agent
        .send("POST", "/api/v1/customers", None, &[("content-type", "application/json")])
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["code"], "malformed_json");

    let raw = t
        .http
        .post(format!("{}/api/v1/customers", t.base))
        .header("cookie", agent.cookie.clone().unwrap())
        .header("x-csrf-token", agent.csrf.clone().unwrap())
        .header("content-type", "application/json")
        .body("{\"name\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 400);
    let body: serde_json::Value = raw.json().await.unwrap();
    assert_eq!(body["code"], "malformed_json");
    assert_eq!(body["type"], "invalid_request");

    let r = agent.post("/api/v1/customers", json!({"name": 42})).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["code"], "invalid_field");

    let r = agent.post("/api/v1/customers", json!({"name": "王芳", "email": "not-an-email"})).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["field"], "email");

    let r = agent.post("/api/v1/tickets", json!({"subject": "x", "customer_id": "nope"})).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["field"], "customer_id");

    let r = agent.post("/api/v1/tickets", json!({"subject": "x", "customer_id": t.user("agent@acme.test").id.to_string(), "problem_code": "ZZ-1"})).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["field"], "problem_code");

    let r = agent.get("/api/v1/tickets/0190b2a4-0000-7000-8000-000000000000").await;
    assert_eq!(r.status, 404);
    assert_eq!(r.body["code"], "not_found");

    let r = agent.get("/api/v1/tickets?limit=0").await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["code"], "invalid_query");
    let r = agent.get("/api/v1/tickets?cursor=garbage").await;
    assert_eq!(r.status, 400);

    // CSRF: the cookie alone cannot change state.
    let no_csrf = test_support::Client { csrf: None, ..agent.clone() };
    let r = no_csrf.post("/api/v1/customers", json!({"name": "x"})).await;
    assert_eq!(r.status, 403);
    assert_eq!(r.body["code"], "csrf_failed");

    // 413 for bodies over 1 MiB.
    let huge = "字".repeat(600_000);
    let r = agent.post("/api/v1/customers", json!({"name": huge})).await;
    assert_eq!(r.status, 413, "{:?}", r.body);
    assert_eq!(r.body["code"], "payload_too_large");

    let r = agent.send("DELETE", "/api/v1/tickets", None, &[]).await;
    assert_eq!(r.status, 405);

    // Nothing was stored by any of that.
    let list = agent.get("/api/v1/customers").await;
    assert_eq!(items(&list.body).len(), 0);

    // Login: wrong passwords are refused alike, then rate limited with Retry-After.
    for _ in 0..10 {
        let r = anon.post("/api/v1/auth/login", json!({"workspace": "acme", "email": "agent@acme.test", "password": "wrong-password"})).await;
        assert_eq!(r.status, 401);
        assert_eq!(r.body["message"], "wrong workspace, email or password");
    }
    let r = anon.post("/api/v1/auth/login", json!({"workspace": "acme", "email": "agent@acme.test", "password": test_support::PASSWORD})).await;
    assert_eq!(r.status, 429);
    assert!(r.headers.get("retry-after").is_some());
    assert_eq!(r.body["code"], "rate_limited");
}
on_backends!(bad_input_gets_a_clear_error_and_changes_nothing, bad_input);

async fn visitor_and_customer(t: TestApp) {
    t.bot_off().await;
    let (v, conv) = t.visitor("访客小李", "你好，我想问一下退货流程").await;
    let r = v
        .send(
            "POST",
            &format!("/api/v1/public/conversations/{conv}/messages"),
            Some(json!({"body": "订单号 DD123"})),
            &[("idempotency-key", "k1")],
        )
        .await;
    assert_eq!(r.status, 201);
    let r2 = v
        .send(
            "POST",
            &format!("/api/v1/public/conversations/{conv}/messages"),
            Some(json!({"body": "订单号 DD123"})),
            &[("idempotency-key", "k1")],
        )
        .await;
    assert_eq!(r2.status, 200);
    assert_eq!(r.body["id"], r2.body["id"]);
    // Retries racing each other (they share a batch of the ingest task) store one message too.
    let url = format!("/api/v1/public/conversations/{conv}/messages");
    let rs = futures::future::join_all((0..8).map(|_| {
        v.send("POST", &url, Some(json!({"body": "同时重试"})), &[("idempotency-key", "k2")])
    }))
    .await;
    assert_eq!(rs.iter().filter(|r| r.status == 201).count(), 1);
    assert!(rs.iter().all(|r| [200, 201].contains(&r.status) && r.body["id"] == rs[0].body["id"]));

    let agent = t.as_role("agent@acme.test").await;
    agent
        .post(
            &format!("/api/v1/conversations/{conv}/messages"),
            json!({"body": "内部：疑似重复下单", "internal": true}),
        )
        .await;
    agent
        .post(
            &format!("/api/v1/conversations/{conv}/messages"),
            json!({"body": "您好，已为您查询"}),
        )
        .await;

    let mine = v.get(&format!("/api/v1/public/conversations/{conv}/messages")).await;
    let bodies: Vec<String> = items(&mine.body).iter().map(|m| s(&m["body"])).collect();
    assert_eq!(
        bodies,
        ["你好，我想问一下退货流程", "订单号 DD123", "同时重试", "您好，已为您查询"],
        "no internal note, no duplicate"
    );
    assert!(items(&mine.body).iter().all(|m| m["author_id"].is_null()));

    // Another visitor sees nothing of it.
    let (other, _) = t.visitor("另一位", "hi").await;
    assert_eq!(
        other.get(&format!("/api/v1/public/conversations/{conv}/messages")).await.status,
        404
    );
    let r = other
        .post(&format!("/api/v1/public/conversations/{conv}/messages"), json!({"body": "x"}))
        .await;
    assert_eq!(r.status, 404);

    // A claimed email that already belongs to someone never links to them.
    let ag =
        agent.post("/api/v1/customers", json!({"name": "王芳", "email": "wang@example.com"})).await;
    assert_eq!(ag.status, 201);
    let claim = t
        .anon()
        .post(
            "/api/v1/public/conversations",
            json!({"public_key": t.ws.public_key, "email": "wang@example.com", "message": "hi"}),
        )
        .await;
    assert_eq!(claim.status, 201);
    let tok = s(&claim.body["visitor_token"]);
    let imposter = test_support::Client { bearer: Some(tok), ..t.anon() };
    let convs = imposter.get("/api/v1/public/conversations").await;
    assert_eq!(items(&convs.body).len(), 1, "only the conversation just opened");

    // The customer writing on a solved ticket's conversation reopens the ticket.
    let cust =
        agent.get(&format!("/api/v1/conversations/{conv}")).await.body["customer_id"].clone();
    let tk = agent
        .post(
            "/api/v1/tickets",
            json!({"subject": "退货流程", "customer_id": cust, "conversation_id": conv}),
        )
        .await;
    assert_eq!(tk.status, 201, "{:?}", tk.body);
    let tid = s(&tk.body["id"]);
    agent.post(&format!("/api/v1/tickets/{tid}/status"), json!({"status": "solved"})).await;
    let mine = v.get("/api/v1/public/tickets").await;
    assert_eq!(items(&mine.body)[0]["stage_label_zh"], "已解决");
    v.post(&format!("/api/v1/public/conversations/{conv}/messages"), json!({"body": "还是不行"}))
        .await;
    assert_eq!(agent.get(&format!("/api/v1/tickets/{tid}")).await.body["status"], "reopen");

    let bad_key = t
        .anon()
        .post("/api/v1/public/conversations", json!({"public_key": "pk_nope", "message": "hi"}))
        .await;
    assert_eq!(bad_key.status, 404);
    let empty = t
        .anon()
        .post(
            "/api/v1/public/conversations",
            json!({"public_key": t.ws.public_key, "message": "   "}),
        )
        .await;
    assert_eq!(empty.status, 400);
    assert_eq!(empty.body["field"], "body");
}
on_backends!(visitors_see_only_their_own_public_messages, visitor_and_customer);
