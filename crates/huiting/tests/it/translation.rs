//! Machine translation for agents (BOT-9) against a real provider on loopback that speaks the
//! documented protocol (`dialogue::translate`): off by default, the SSRF guard, the secret
//! masked and kept, a customer message translated for the agent and a draft for the customer,
//! and failures (timeout, refused credentials) returning the original with the reason.

use std::net::SocketAddr;

use axum::{Json, Router, http::HeaderMap, routing::post};
use serde_json::{Value, json};
use test_support::TestApp;

use crate::{items, on_backends, s};

/// A small provider: `POST /v1/translate` with `{"q", "source", "target"}` and
/// `Authorization: Bearer k3y` answers `{"data": {"text": …, "detected": …}}`.
async fn provider() -> SocketAddr {
    async fn translate(
        headers: HeaderMap,
        Json(b): Json<Value>,
    ) -> (axum::http::StatusCode, Json<Value>) {
        let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default();
        if auth != "Bearer k3y" {
            return (axum::http::StatusCode::UNAUTHORIZED, Json(json!({"error": "bad key"})));
        }
        let table = [
            ("Where is my order?", "zh", "我的订单在哪里？", "en"),
            (
                "您的订单已发货，预计明天送达。",
                "en",
                "Your order has shipped and arrives tomorrow.",
                "zh",
            ),
        ];
        let q = s(&b["q"]);
        let target = s(&b["target"]);
        match table.iter().find(|(text, to, _, _)| *text == q && *to == target) {
            Some((_, _, out, from)) => {
                (axum::http::StatusCode::OK, Json(json!({"data": {"text": out, "detected": from}})))
            }
            None => (axum::http::StatusCode::OK, Json(json!({"data": {}}))),
        }
    }
    async fn slow() -> &'static str {
        tokio::time::sleep(std::time::Duration::from_secs(3)).await;
        "{}"
    }
    let app = Router::new().route("/v1/translate", post(translate)).route("/slow", post(slow));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

fn settings(addr: SocketAddr, path: &str, allow: bool, secret: &str) -> Value {
    json!({
        "enabled": true,
        "agent_lang": "zh",
        "provider": {
            "name": "mt",
            "method": "POST",
            "url": format!("http://{addr}{path}"),
            "headers": [["Authorization", "Bearer {{secret}}"]],
            "body": "{\"q\": \"{{text}}\", \"source\": \"{{source}}\", \"target\": \"{{target}}\"}",
            "secret": secret,
            "timeout_ms": 500,
            "fields": [
                {"var": "translation", "pointer": "/data/text"},
                {"var": "detected_lang", "pointer": "/data/detected"}
            ],
            "allow_hosts": if allow { json!(["127.0.0.1"]) } else { json!([]) }
        }
    })
}

async fn agents_translate_through_the_provider_(t: TestApp) {
    let addr = provider().await;
    t.bot_off().await;
    let (_, conv) = t.visitor("Alice", "Where is my order?").await;
    let agent = t.as_role("agent@acme.test").await;
    let admin = t.as_role("admin@acme.test").await;
    let msgs = items(&agent.get(&format!("/api/v1/conversations/{conv}/messages")).await.body);
    let mid = s(&msgs.iter().find(|m| s(&m["sender"]) == "customer").unwrap()["id"]);
    let tr = format!("/api/v1/conversations/{conv}/messages/{mid}/translate");
    let draft = format!("/api/v1/conversations/{conv}/translate-draft");

    // Off by default: the original, and why there is no translation.
    let got = agent.get("/api/v1/translation/settings").await;
    assert_eq!((got.status, got.body["enabled"].as_bool()), (200, Some(false)), "{:?}", got.body);
    let r = agent.post(&tr, json!({})).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(s(&r.body["original"]), "Where is my order?");
    assert!(r.body["translation"].is_null());
    assert!(s(&r.body["translation_error"]).contains("off"), "{:?}", r.body);
    assert_eq!((s(&r.body["source_lang"]), s(&r.body["target_lang"])), ("en".into(), "zh".into()));

    // Enabled without a provider, or mapping no translation, is refused.
    let bad = admin.put("/api/v1/translation/settings", json!({"enabled": true})).await;
    assert_eq!(bad.status, 400, "{:?}", bad.body);
    assert!(s(&bad.body["message"]).contains("provider"), "{:?}", bad.body);
    let mut no_field = settings(addr, "/v1/translate", true, "k3y");
    no_field["provider"]["fields"] = json!([]);
    assert_eq!(admin.put("/api/v1/translation/settings", no_field).await.status, 400);
    assert_eq!(
        agent
            .put("/api/v1/translation/settings", settings(addr, "/v1/translate", true, "k3y"))
            .await
            .status,
        403
    );

    // A loopback provider is refused unless an admin allows the host (SSRF).
    let put = admin
        .put("/api/v1/translation/settings", settings(addr, "/v1/translate", false, "k3y"))
        .await;
    assert_eq!(put.status, 200, "{:?}", put.body);
    let r = agent.post(&tr, json!({})).await;
    assert_eq!(r.status, 200);
    assert!(s(&r.body["translation_error"]).contains("internal address"), "{:?}", r.body);

    let put = admin
        .put("/api/v1/translation/settings", settings(addr, "/v1/translate", true, "k3y"))
        .await;
    assert_eq!(put.status, 200, "{:?}", put.body);
    assert_eq!(s(&put.body["provider"]["secret"]), "********");
    let r = agent.post(&tr, json!({})).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(s(&r.body["translation"]), "我的订单在哪里？", "{:?}", r.body);
    assert!(r.body["translation_error"].is_null());
    // The draft goes into the customer's language, detected from their message.
    let d = agent.post(&draft, json!({"text": "您的订单已发货，预计明天送达。"})).await;
    assert_eq!(d.status, 200, "{:?}", d.body);
    assert_eq!(s(&d.body["target_lang"]), "en");
    assert_eq!(s(&d.body["translation"]), "Your order has shipped and arrives tomorrow.");
    // Same language: nothing to call.
    let same = agent.post(&draft, json!({"text": "好的", "target": "zh"})).await;
    assert_eq!(s(&same.body["translation"]), "好的", "{:?}", same.body);
    assert_eq!(agent.post(&draft, json!({"text": "x", "target": "Klingon!"})).await.status, 400);
    assert_eq!(agent.post(&draft, json!({"text": ""})).await.status, 400);
    // Saving the masked secret back keeps the real one.
    let mut again = admin.get("/api/v1/translation/settings").await.body;
    again["agent_lang"] = json!("zh");
    assert_eq!(admin.put("/api/v1/translation/settings", again).await.status, 200);
    let r = agent.post(&tr, json!({})).await;
    assert_eq!(s(&r.body["translation"]), "我的订单在哪里？", "{:?}", r.body);

    // Failures never block: the original comes back with the reason.
    admin.put("/api/v1/translation/settings", settings(addr, "/v1/translate", true, "wrong")).await;
    let r = agent.post(&tr, json!({})).await;
    assert_eq!(r.status, 200);
    assert!(s(&r.body["translation_error"]).contains("401"), "{:?}", r.body);
    assert_eq!(s(&r.body["original"]), "Where is my order?");
    admin.put("/api/v1/translation/settings", settings(addr, "/slow", true, "k3y")).await;
    let d = agent.post(&draft, json!({"text": "您的订单已发货，预计明天送达。"})).await;
    assert_eq!(d.status, 200);
    assert!(s(&d.body["translation_error"]).contains("timed out"), "{:?}", d.body);
    assert!(d.body["translation"].is_null());
    // And the agent's reply goes out as usual.
    let reply = agent
        .post(&format!("/api/v1/conversations/{conv}/messages"), json!({"body": "您的订单已发货"}))
        .await;
    assert_eq!(reply.status, 201, "{:?}", reply.body);
    // Another workspace cannot reach this conversation.
    let other = t.login("other", "admin@other.test").await;
    assert_eq!(other.post(&tr, json!({})).await.status, 404);
}
on_backends!(agents_translate_through_the_provider, agents_translate_through_the_provider_);
