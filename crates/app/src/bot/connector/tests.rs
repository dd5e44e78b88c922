//! Connector calls against a real HTTP server on loopback.

use std::net::SocketAddr;

use axum::{Json, Router, extract::Path, http::HeaderMap, routing::get};
use dialogue::connector::{DEFAULT_TIMEOUT_MS, FieldMap};

use super::*;

async fn server() -> SocketAddr {
    async fn order(
        Path(no): Path<String>,
        headers: HeaderMap,
    ) -> (axum::http::StatusCode, Json<serde_json::Value>) {
        let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default();
        if auth != "Bearer t0ken" {
            return (
                axum::http::StatusCode::UNAUTHORIZED,
                Json(serde_json::json!({"error": "auth"})),
            );
        }
        if no == "MISSING" {
            return (axum::http::StatusCode::NOT_FOUND, Json(serde_json::json!({})));
        }
        (
            axum::http::StatusCode::OK,
            Json(
                serde_json::json!({"data": {"no": no, "status": "已发货", "items": 2, "paid": true}}),
            ),
        )
    }
    async fn slow() -> &'static str {
        tokio::time::sleep(Duration::from_secs(5)).await;
        "{}"
    }
    async fn redirect() -> (axum::http::StatusCode, [(&'static str, &'static str); 1]) {
        (axum::http::StatusCode::FOUND, [("location", "http://169.254.169.254/latest/meta-data")])
    }
    async fn huge() -> String {
        "x".repeat(MAX_BODY_BYTES + 10)
    }
    let app = Router::new()
        .route("/orders/{no}", get(order))
        .route("/slow", get(slow))
        .route("/redirect", get(redirect))
        .route("/huge", get(huge))
        .route("/text", get(|| async { "not json" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

fn def(addr: SocketAddr, path: &str) -> ConnectorDef {
    ConnectorDef {
        name: "orders".into(),
        method: Method::Get,
        url: format!("http://{addr}{path}"),
        headers: vec![("Authorization".into(), "Bearer {{secret}}".into())],
        body: None,
        secret: Some("t0ken".into()),
        timeout_ms: DEFAULT_TIMEOUT_MS,
        fields: vec![
            FieldMap { var: "status".into(), pointer: "/data/status".into() },
            FieldMap { var: "items".into(), pointer: "/data/items".into() },
            FieldMap { var: "paid".into(), pointer: "/data/paid".into() },
            FieldMap { var: "eta".into(), pointer: "/data/eta".into() },
        ],
        allow_hosts: vec!["127.0.0.1".into()],
    }
}

fn vars(no: &str) -> Vars {
    Vars::from([("order_no".to_owned(), no.to_owned())])
}

#[tokio::test]
async fn maps_fields_from_a_real_server() {
    let addr = server().await;
    let out = call(&def(addr, "/orders/{{order_no}}"), &vars("DD2026")).await;
    let ConnectorOutcome::Ok(fields) = out else { panic!("{out:?}") };
    assert_eq!(fields["status"], "已发货");
    assert_eq!(fields["items"], "2");
    assert_eq!(fields["paid"], "true");
    assert!(!fields.contains_key("eta"));
}

#[tokio::test]
async fn loopback_is_refused_unless_allowed() {
    let addr = server().await;
    let mut d = def(addr, "/orders/{{order_no}}");
    d.allow_hosts.clear();
    let ConnectorOutcome::Failed(reason) = call(&d, &vars("DD1")).await else { panic!() };
    assert!(reason.contains("internal address"), "{reason}");
    // A name that resolves to loopback is refused the same way.
    d.url = format!("http://localhost:{}/orders/{{{{order_no}}}}", addr.port());
    let ConnectorOutcome::Failed(reason) = call(&d, &vars("DD1")).await else { panic!() };
    assert!(reason.contains("internal address"), "{reason}");
}

#[tokio::test]
async fn failures_are_outcomes_not_errors() {
    let addr = server().await;
    let failed = |o: ConnectorOutcome| match o {
        ConnectorOutcome::Failed(r) => r,
        ok => panic!("{ok:?}"),
    };
    assert!(
        failed(call(&def(addr, "/orders/{{order_no}}"), &vars("MISSING")).await).contains("404")
    );
    let mut wrong_secret = def(addr, "/orders/{{order_no}}");
    wrong_secret.secret = Some("nope".into());
    assert!(failed(call(&wrong_secret, &vars("A")).await).contains("401"));
    let mut slow = def(addr, "/slow");
    slow.timeout_ms = 300;
    assert_eq!(failed(call(&slow, &vars("A")).await), "timed out");
    // Redirects are not followed (the target here is the cloud metadata address).
    assert!(failed(call(&def(addr, "/redirect"), &vars("A")).await).contains("302"));
    assert!(failed(call(&def(addr, "/huge"), &vars("A")).await).contains("larger than"));
    assert!(failed(call(&def(addr, "/text"), &vars("A")).await).contains("not JSON"));
    assert!(
        failed(call(&def(addr, "/orders/{{order_no}}"), &Vars::new()).await).contains("order_no")
    );
    // Nothing listens on port 9 of loopback.
    let mut closed = def(addr, "/x");
    closed.url = "http://127.0.0.1:9/x".into();
    assert_eq!(failed(call(&closed, &vars("A")).await), "could not connect");
}

#[test]
fn internal_addresses() {
    for ip in [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "0.0.0.0",
        "100.64.0.1",
        "224.0.0.1",
        "255.255.255.255",
        "::1",
        "::",
        "fe80::1",
        "fd00::1",
        "::ffff:127.0.0.1",
        "64:ff9b::a9fe:a9fe",
        "2001:db8::1",
        "198.18.0.1",
        "240.0.0.1",
    ] {
        assert!(is_internal(ip.parse().unwrap()), "{ip}");
    }
    for ip in ["8.8.8.8", "114.114.114.114", "2400:3200::1", "100.128.0.1", "172.32.0.1"] {
        assert!(!is_internal(ip.parse().unwrap()), "{ip}");
    }
}

#[test]
fn ports_from_urls() {
    assert_eq!(port_of("http://a.b/x"), 80);
    assert_eq!(port_of("https://a.b/x"), 443);
    assert_eq!(port_of("http://a.b:8081/x"), 8081);
    assert_eq!(port_of("http://[::1]:9000/x"), 9000);
    assert_eq!(port_of("http://[::1]/x"), 80);
    assert_eq!(port_of("http://u:p@h:81/"), 81);
}
