//! The realtime stream over a real WebSocket: a new chat reaches the agent at once, a
//! reconnect with `since` misses nothing, and customers see only their public events.

use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::{Value, json};
use test_support::{Client, TestApp};
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest};

use crate::{on_backends, s};

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(t: &TestApp, path: &str, c: &Client) -> Ws {
    let url = format!("{}{path}", t.base.replace("http://", "ws://"));
    let mut req = url.into_client_request().unwrap();
    if let Some(cookie) = &c.cookie {
        req.headers_mut().insert("cookie", cookie.parse().unwrap());
    }
    let (ws, resp) = tokio_tungstenite::connect_async(req).await.expect("websocket");
    assert_eq!(resp.status().as_u16(), 101);
    ws
}

async fn next_event(ws: &mut Ws) -> Value {
    loop {
        let m = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("an event within 10 s")
            .expect("open")
            .expect("frame");
        if let Message::Text(t) = m {
            return serde_json::from_str(&t).unwrap();
        }
    }
}

async fn realtime(t: TestApp) {
    t.bot_off().await;
    let agent = t.as_role("agent@acme.test").await;
    let mut ws = connect(&t, "/api/v1/ws", &agent).await;

    let started = Instant::now();
    let (visitor, conv) = t.visitor("访客", "在吗？洗衣机漏水了").await;
    let e1 = next_event(&mut ws).await;
    let e2 = next_event(&mut ws).await;
    let e3 = next_event(&mut ws).await;
    let latency = started.elapsed();
    eprintln!("new chat to agent's socket: {latency:?} (includes opening the chat)");
    let kinds: Vec<String> = [&e1, &e2, &e3].iter().map(|e| s(&e["type"])).collect();
    assert_eq!(kinds, ["customer.created", "conversation.created", "message.created"]);
    assert_eq!(e3["message"]["body"], "在吗？洗衣机漏水了");
    assert_eq!(e3["data"]["conversation_id"], json!(conv));
    let last = e3["seq"].as_i64().unwrap();
    drop(ws);

    // While the agent is away, three more messages arrive.
    for i in 0..3 {
        let r = visitor
            .post(
                &format!("/api/v1/public/conversations/{conv}/messages"),
                json!({"body": format!("补充 {i}")}),
            )
            .await;
        assert_eq!(r.status, 201);
    }
    let mut ws = connect(&t, &format!("/api/v1/ws?since={last}"), &agent).await;
    let mut got = Vec::new();
    for _ in 0..3 {
        let e = next_event(&mut ws).await;
        got.push((e["seq"].as_i64().unwrap(), s(&e["message"]["body"])));
    }
    assert_eq!(
        got,
        [(last + 1, "补充 0".into()), (last + 2, "补充 1".into()), (last + 3, "补充 2".into())]
    );
    // And live events continue after the backlog, once each.
    visitor
        .post(&format!("/api/v1/public/conversations/{conv}/messages"), json!({"body": "live"}))
        .await;
    let e = next_event(&mut ws).await;
    assert_eq!((e["seq"].as_i64().unwrap(), s(&e["message"]["body"])), (last + 4, "live".into()));

    // The customer's socket: the agent's reply, never the internal note, no staff ids.
    let token = visitor.bearer.clone().unwrap();
    let url = format!("{}/api/v1/public/ws?token={token}", t.base.replace("http://", "ws://"));
    let (mut cws, _) = tokio_tungstenite::connect_async(url).await.expect("visitor websocket");
    agent
        .post(
            &format!("/api/v1/conversations/{conv}/messages"),
            json!({"body": "内部备注", "internal": true}),
        )
        .await;
    agent
        .post(
            &format!("/api/v1/conversations/{conv}/messages"),
            json!({"body": "您好，请拍一张漏水位置的照片"}),
        )
        .await;
    let ce = next_event(&mut cws).await;
    assert_eq!(ce["type"], "message.created");
    assert_eq!(ce["message"]["body"], "您好，请拍一张漏水位置的照片");
    assert!(ce["message"]["author_id"].is_null());
    assert!(ce.get("actor").is_none());

    // Other workspaces' sockets hear nothing of this workspace.
    let other = t.login("other", "admin@other.test").await;
    let mut ows = connect(&t, "/api/v1/ws?since=0", &other).await;
    agent
        .post(&format!("/api/v1/conversations/{conv}/messages"), json!({"body": "只给本工作区"}))
        .await;
    let quiet = tokio::time::timeout(Duration::from_millis(300), async {
        loop {
            let e = next_event(&mut ows).await;
            if e["type"] == "message.created" {
                return e;
            }
        }
    })
    .await;
    assert!(quiet.is_err(), "another workspace's message leaked");

    // A socket from a foreign origin is refused (cross-site WebSocket hijacking).
    let url = format!("{}/api/v1/ws", t.base.replace("http://", "ws://"));
    let mut req = url.into_client_request().unwrap();
    req.headers_mut().insert("cookie", agent.cookie.clone().unwrap().parse().unwrap());
    req.headers_mut().insert("origin", "https://evil.example".parse().unwrap());
    assert!(tokio_tungstenite::connect_async(req).await.is_err());
}
on_backends!(realtime_delivers_everything_once_to_those_allowed, realtime);
