//! Secrets never reach the logs: with every tracing level captured (the HTTP trace layer,
//! sqlx's statements, the app), a login, a wrong login, two-factor enrolment, API token
//! creation, a channel's and a webhook's settings with secrets, and a failing webhook
//! delivery leave no password, token or secret value in the output.

use std::{
    io::Write,
    sync::{
        Mutex, Once,
        atomic::{AtomicBool, Ordering},
    },
};

use serde_json::json;
use test_support::TestApp;
use tracing_subscriber::{Layer, filter::filter_fn, layer::SubscriberExt, util::SubscriberInitExt};

use crate::{on_backends, s};

static CAPTURING: AtomicBool = AtomicBool::new(false);
static OUT: Mutex<Vec<u8>> = Mutex::new(Vec::new());

struct Capture;

impl Write for Capture {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        OUT.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A process-wide subscriber that records everything while a test captures, and is off
/// (one atomic load per event) for the rest of the suite.
fn install() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let layer = tracing_subscriber::fmt::layer()
            .with_ansi(false)
            .with_writer(|| Capture)
            .with_filter(filter_fn(|_| CAPTURING.load(Ordering::Relaxed)));
        // `try_init` also forwards the `log` crate's records (sqlx's statements).
        let _ = tracing_subscriber::registry().with(layer).try_init();
    });
}

async fn redaction(t: TestApp) {
    install();
    OUT.lock().unwrap().clear();
    CAPTURING.store(true, Ordering::SeqCst);
    let anon = t.anon();
    let wrong = "Wr0ng-Passw0rd-Sentinel";
    let r = anon
        .post(
            "/api/v1/auth/login",
            json!({"workspace": "acme", "email": "agent@acme.test", "password": wrong}),
        )
        .await;
    assert_eq!(r.status, 401);
    let admin = t.as_role("admin@acme.test").await;
    let session_cookie = admin.cookie.clone().unwrap();
    let session = session_cookie.split('=').nth(1).unwrap().to_string();
    let csrf = admin.csrf.clone().unwrap();
    let tok = admin.post("/api/v1/tokens", json!({"name": "CRM", "role": "agent"})).await;
    let token = s(&tok.body["secret"]);
    let e = admin.post("/api/v1/me/2fa/totp", json!({})).await;
    let totp_secret = s(&e.body["secret"]);
    let ch_secret = "ChannelSecretSentinel42";
    let r = admin
        .post(
            "/api/v1/channels",
            json!({"kind": "phone", "name": "呼叫中心", "settings": {"secret": ch_secret}}),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    // A webhook whose deliveries fail (nothing listens on the port), with its signing secret.
    let w = admin
        .post(
            "/api/v1/webhooks",
            json!({"url": "http://127.0.0.1:9/h", "events": ["*"], "allow_hosts": ["127.0.0.1"]}),
        )
        .await;
    assert_eq!(w.status, 201, "{:?}", w.body);
    let hook_secret = s(&w.body["secret"]);
    let bot = test_support::Client { bearer: Some(token.clone()), ..t.anon() };
    assert_eq!(bot.get("/api/v1/me").await.status, 200);
    let r = admin.post("/api/v1/customers", json!({"name": "日志客户"})).await;
    assert_eq!(r.status, 201);
    t.run_pending_jobs().await;
    CAPTURING.store(false, Ordering::SeqCst);

    let log = String::from_utf8_lossy(&OUT.lock().unwrap()).to_string();
    // The capture works: requests and statements are in it.
    assert!(log.contains("/api/v1/auth/login"), "nothing captured:\n{log:.2000}");
    for (what, secret) in [
        ("password", test_support::PASSWORD),
        ("wrong password", wrong),
        ("session token", session.as_str()),
        ("csrf token", csrf.as_str()),
        ("API token", token.as_str()),
        ("TOTP secret", totp_secret.as_str()),
        ("channel secret", ch_secret),
        ("webhook secret", hook_secret.as_str()),
    ] {
        assert!(secret.len() >= 8, "{what} too short to search for: {secret:?}");
        assert!(!log.contains(secret), "the {what} appears in the logs");
    }
}
on_backends!(secrets_never_appear_in_logs, redaction);
