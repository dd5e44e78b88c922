//! "Someone else is replying": a typing signal reaches the colleagues who can see the
//! conversation over their sockets, without a `seq` (never stored, never replayed); customers,
//! department staff outside the case and other workspaces hear nothing.

use std::time::Duration;

use futures::StreamExt;
use serde_json::{Value, json};
use test_support::{Client, TestApp};
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest};

use crate::on_backends;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(t: &TestApp, path: &str, c: &Client) -> Ws {
    let url = format!("{}{path}", t.base.replace("http://", "ws://"));
    let mut req = url.into_client_request().unwrap();
    if let Some(cookie) = &c.cookie {
        req.headers_mut().insert("cookie", cookie.parse().unwrap());
    }
    tokio_tungstenite::connect_async(req).await.expect("websocket").0
}

/// The next typing frame within `wait`, skipping events; `None` if none came.
async fn typing_frame(ws: &mut Ws, wait: Duration) -> Option<Value> {
    tokio::time::timeout(wait, async {
        loop {
            let m = ws.next().await.expect("open").expect("frame");
            if let Message::Text(t) = m {
                let v: Value = serde_json::from_str(&t).unwrap();
                if v["type"] == "conversation.typing" {
                    return v;
                }
            }
        }
    })
    .await
    .ok()
}

async fn typing(t: TestApp) {
    t.bot_off().await;
    let agent = t.as_role("agent@acme.test").await;
    let colleague = t.as_role("agent2@acme.test").await;
    let tech = t.as_role("tech@acme.test").await;
    let (visitor, conv) = t.visitor("访客", "还在吗？").await;

    let mut cws = connect(&t, "/api/v1/ws", &colleague).await;
    let mut tws = connect(&t, "/api/v1/ws", &tech).await;
    let token = visitor.bearer.clone().unwrap();
    let url = format!("{}/api/v1/public/ws?token={token}", t.base.replace("http://", "ws://"));
    let (mut vws, _) = tokio_tungstenite::connect_async(url).await.expect("visitor websocket");
    let other = t.login("other", "admin@other.test").await;
    let mut ows = connect(&t, "/api/v1/ws", &other).await;

    let r = agent.post(&format!("/api/v1/conversations/{conv}/typing"), json!({})).await;
    assert_eq!(r.status, 204, "{:?}", r.body);
    let f = typing_frame(&mut cws, Duration::from_secs(10)).await.expect("the colleague hears it");
    assert_eq!(f["data"]["conversation_id"], json!(conv));
    assert_eq!(f["data"]["user_id"], json!(t.user("agent@acme.test").id.to_string()));
    assert!(f.get("seq").is_none(), "a signal is not an event: {f}");

    let quiet = Duration::from_millis(300);
    assert!(typing_frame(&mut tws, quiet).await.is_none(), "department staff outside the case");
    assert!(typing_frame(&mut vws, quiet).await.is_none(), "the customer");
    assert!(typing_frame(&mut ows, quiet).await.is_none(), "another workspace");

    // Not stored: a socket resuming from the start replays events but no signal.
    let mut replay = connect(&t, "/api/v1/ws?since=0", &colleague).await;
    assert!(typing_frame(&mut replay, quiet).await.is_none());

    // Unknown conversations are 404; customers and read-only staff may not signal.
    let r = agent.post("/api/v1/conversations/cv_nope/typing", json!({})).await;
    assert_eq!(r.status, 404);
    let r = visitor.post(&format!("/api/v1/conversations/{conv}/typing"), json!({})).await;
    assert_eq!(r.status, 403, "a visitor token is not staff");
    let r = t.anon().post(&format!("/api/v1/conversations/{conv}/typing"), json!({})).await;
    assert_eq!(r.status, 401);
    let auditor = t.as_role("audit@acme.test").await;
    let r = auditor.post(&format!("/api/v1/conversations/{conv}/typing"), json!({})).await;
    assert_eq!(r.status, 403);
}
on_backends!(typing_reaches_colleagues_only_and_is_never_stored, typing);
