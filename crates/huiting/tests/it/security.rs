//! Security (issue 9): two-factor login with TOTP against the test's own RFC 6238 code
//! generator on the test clock, rate limits (429 + Retry-After + the JSON error body), and
//! security headers on the API and the web app.

use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha1::Sha1;
use test_support::{Client, PASSWORD, Resp, TestApp};

use crate::{on_backends, s};

/// RFC 4648 base32 → bytes, written here independently of the server's.
fn unbase32(s: &str) -> Vec<u8> {
    let mut bits = String::new();
    for c in s.chars() {
        let v = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".find(c).expect("base32 letter");
        bits.push_str(&format!("{v:05b}"));
    }
    bits.as_bytes()
        .chunks(8)
        .filter(|c| c.len() == 8)
        .map(|c| u8::from_str_radix(std::str::from_utf8(c).unwrap(), 2).unwrap())
        .collect()
}

/// RFC 6238 TOTP (HMAC-SHA1, 6 digits, 30 s) at the test clock's time.
fn totp(secret: &str, t: &TestApp) -> String {
    let step = (t.app.now().millis() / 1000 / 30) as u64;
    let mut m = <Hmac<Sha1> as KeyInit>::new_from_slice(&unbase32(secret)).unwrap();
    m.update(&step.to_be_bytes());
    let h = m.finalize().into_bytes();
    let o = (h[19] & 0xf) as usize;
    let n = (u32::from(h[o] & 0x7f) << 24)
        | (u32::from(h[o + 1]) << 16)
        | (u32::from(h[o + 2]) << 8)
        | u32::from(h[o + 3]);
    format!("{:06}", n % 1_000_000)
}

fn next_step(t: &TestApp) {
    t.advance(std::time::Duration::from_secs(30));
}

async fn password_login(t: &TestApp, email: &str, password: &str) -> Resp {
    t.anon()
        .post(
            "/api/v1/auth/login",
            json!({"workspace": "acme", "email": email, "password": password}),
        )
        .await
}

fn session_of(t: &TestApp, r: &Resp) -> Client {
    assert_eq!(r.status, 200, "{:?}", r.body);
    let set = r.headers.get("set-cookie").expect("session cookie").to_str().unwrap();
    Client {
        cookie: Some(set.split(';').next().unwrap().to_string()),
        csrf: r.body["csrf_token"].as_str().map(str::to_string),
        ..t.anon()
    }
}

async fn second(t: &TestApp, challenge: &str, body: Value) -> Resp {
    let mut b = body;
    b["challenge"] = json!(challenge);
    t.anon().post("/api/v1/auth/2fa", b).await
}

/// Logs in with the password and expects a challenge.
async fn challenge(t: &TestApp, email: &str) -> String {
    let r = password_login(t, email, PASSWORD).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["second_factor_required"], true, "{:?}", r.body);
    assert!(r.headers.get("set-cookie").is_none(), "no session before the second factor");
    assert!(r.body.get("csrf_token").is_none());
    s(&r.body["challenge"])
}

async fn totp_login(t: TestApp) {
    let agent = t.as_role("agent@acme.test").await;
    let st = agent.get("/api/v1/me/2fa").await;
    assert_eq!(
        st.body,
        json!({"enabled": false, "pending": false, "recovery_codes_left": 0, "required": false})
    );

    // Enrol: a secret and its otpauth URI; confirm with a code.
    let e = agent.post("/api/v1/me/2fa/totp", json!({})).await;
    assert_eq!(e.status, 201, "{:?}", e.body);
    let secret = s(&e.body["secret"]);
    let uri = s(&e.body["otpauth_uri"]);
    assert!(uri.starts_with("otpauth://totp/Huiting%3Aagent%40acme.test?"), "{uri}");
    assert!(uri.contains(&format!("secret={secret}")) && uri.contains("period=30"), "{uri}");
    // Still off until confirmed: the password alone logs in.
    assert!(
        password_login(&t, "agent@acme.test", PASSWORD).await.headers.get("set-cookie").is_some()
    );
    let r = agent.post("/api/v1/me/2fa/totp/confirm", json!({"code": "000000"})).await;
    let wrong_is_400 = r.status == 400 && r.body["field"] == "code";
    // (000000 could be the real code once in a million runs.)
    assert!(wrong_is_400 || totp(&secret, &t) == "000000", "{:?}", r.body);
    let code = totp(&secret, &t);
    let r = agent.post("/api/v1/me/2fa/totp/confirm", json!({"code": code})).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let recovery: Vec<String> =
        r.body["recovery_codes"].as_array().unwrap().iter().map(s).collect();
    assert_eq!(recovery.len(), 10);
    let again = agent.post("/api/v1/me/2fa/totp", json!({})).await;
    assert_eq!(again.status, 409, "a second enrolment needs the first turned off");

    // Login now takes two steps; the code used to confirm cannot be replayed.
    let ch = challenge(&t, "agent@acme.test").await;
    let r = second(&t, &ch, json!({"code": code})).await;
    assert_eq!(r.status, 401, "replayed code: {:?}", r.body);
    next_step(&t);
    let fresh = totp(&secret, &t);
    let r = second(&t, &ch, json!({"code": fresh})).await;
    let c = session_of(&t, &r);
    assert_eq!(c.get("/api/v1/me").await.status, 200);
    assert!(r.body.get("recovery_codes").is_none());
    // The challenge is spent, and the same code is refused on a new challenge.
    assert_eq!(second(&t, &ch, json!({"code": fresh})).await.status, 401);
    let ch2 = challenge(&t, "agent@acme.test").await;
    assert_eq!(second(&t, &ch2, json!({"code": fresh})).await.status, 401, "replay");
    // A code from two steps ago is too old; the previous step's is still accepted.
    next_step(&t);
    next_step(&t);
    assert_eq!(second(&t, &ch2, json!({"code": fresh})).await.status, 401);

    // A recovery code works once.
    let r = second(&t, &ch2, json!({"recovery_code": recovery[0].to_uppercase()})).await;
    session_of(&t, &r);
    let ch3 = challenge(&t, "agent@acme.test").await;
    assert_eq!(second(&t, &ch3, json!({"recovery_code": recovery[0]})).await.status, 401);
    let st = c.get("/api/v1/me/2fa").await;
    assert_eq!(st.body["enabled"], true);
    assert_eq!(st.body["recovery_codes_left"], 9);

    // A challenge dies after five wrong codes: then even the right code is refused.
    let ch4 = challenge(&t, "agent@acme.test").await;
    for _ in 0..5 {
        assert_eq!(second(&t, &ch4, json!({"code": "12345x"})).await.status, 401);
    }
    next_step(&t);
    let r = second(&t, &ch4, json!({"code": totp(&secret, &t)})).await;
    assert_eq!(r.status, 401);
    assert!(s(&r.body["message"]).contains("expired"), "{:?}", r.body);
    // Neither a code nor both at once.
    let r = second(&t, &ch3, json!({})).await;
    assert_eq!(r.status, 400, "{:?}", r.body);

    // Turning it off needs the password and a code (a minute on, past the failures above).
    t.advance(std::time::Duration::from_secs(61));
    let code = totp(&secret, &t);
    let r = c
        .send("DELETE", "/api/v1/me/2fa/totp", Some(json!({"password": "nope", "code": code})), &[])
        .await;
    assert_eq!(r.status, 401, "{:?}", r.body);
    let r = c
        .send(
            "DELETE",
            "/api/v1/me/2fa/totp",
            Some(json!({"password": PASSWORD, "code": code})),
            &[],
        )
        .await;
    assert_eq!(r.status, 204, "{:?}", r.body);
    assert!(
        password_login(&t, "agent@acme.test", PASSWORD).await.headers.get("set-cookie").is_some()
    );

    // API tokens have no login to protect.
    let admin = t.as_role("admin@acme.test").await;
    let tok = admin.post("/api/v1/tokens", json!({"name": "CRM", "role": "agent"})).await;
    let bot = Client { bearer: Some(s(&tok.body["secret"])), ..t.anon() };
    assert_eq!(bot.post("/api/v1/me/2fa/totp", json!({})).await.status, 403);

    // An admin requires two factors: a user without one enrols while logging in.
    let r = admin.put("/api/v1/security/settings", json!({"require_2fa": true})).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(admin.get("/api/v1/security/settings").await.body["require_2fa"], true);
    let r = password_login(&t, "agent2@acme.test", PASSWORD).await;
    assert_eq!(r.body["second_factor_required"], true, "{:?}", r.body);
    assert_eq!(r.body["enrollment_required"], true);
    let ch = s(&r.body["challenge"]);
    // Enrolment needs the challenge; a made-up one is refused.
    let bad = t.anon().post("/api/v1/auth/2fa/enroll", json!({"challenge": "hc_forged"})).await;
    assert_eq!(bad.status, 401);
    let e = t.anon().post("/api/v1/auth/2fa/enroll", json!({"challenge": ch})).await;
    assert_eq!(e.status, 201, "{:?}", e.body);
    let secret2 = s(&e.body["secret"]);
    let r = second(&t, &ch, json!({"code": totp(&secret2, &t)})).await;
    let c2 = session_of(&t, &r);
    assert_eq!(r.body["recovery_codes"].as_array().map(Vec::len), Some(10), "{:?}", r.body);
    // While required, it cannot be turned off.
    next_step(&t);
    let r = c2
        .send(
            "DELETE",
            "/api/v1/me/2fa/totp",
            Some(json!({"password": PASSWORD, "code": totp(&secret2, &t)})),
            &[],
        )
        .await;
    assert_eq!(r.status, 409, "{:?}", r.body);
    // Every change is in the audit log.
    let log = admin.get("/api/v1/audit?limit=200").await.body.to_string();
    for action in ["user.2fa_enroll", "user.2fa_on", "user.2fa_off", "workspace.require_2fa_on"] {
        assert!(log.contains(action), "{action} not audited");
    }
}
on_backends!(totp_two_factor_login_enrol_confirm_replay_recovery_disable_require, totp_login);

fn limited(r: &Resp) -> u64 {
    assert_eq!(r.status, 429, "{:?}", r.body);
    assert_eq!(r.body["code"], "rate_limited", "{:?}", r.body);
    assert!(s(&r.body["message"]).contains("try again"), "{:?}", r.body);
    let secs: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&secs), "{secs}");
    secs
}

async fn limits(t: TestApp) {
    let minute = std::time::Duration::from_secs(61);
    // Per account: ten wrong passwords, then even the right one waits.
    for _ in 0..10 {
        assert_eq!(password_login(&t, "agent@acme.test", "wrong").await.status, 401);
    }
    let wait = limited(&password_login(&t, "agent@acme.test", PASSWORD).await);
    t.advance(std::time::Duration::from_secs(wait));
    assert_eq!(password_login(&t, "agent@acme.test", PASSWORD).await.status, 200);
    t.advance(minute);
    // Per address: wrong passwords spread over many accounts stop the address.
    for i in 0..10 {
        let r = password_login(&t, &format!("nobody{i}@acme.test"), "wrong").await;
        assert_eq!(r.status, 401);
    }
    limited(&password_login(&t, "super@acme.test", PASSWORD).await);
    t.advance(minute);

    // Second factor: wrong codes count per user across challenges.
    let c = t.as_role("head@acme.test").await;
    let e = c.post("/api/v1/me/2fa/totp", json!({})).await;
    let secret = s(&e.body["secret"]);
    let r = c.post("/api/v1/me/2fa/totp/confirm", json!({"code": totp(&secret, &t)})).await;
    assert_eq!(r.status, 200);
    next_step(&t);
    for _ in 0..2 {
        let ch = challenge(&t, "head@acme.test").await;
        for _ in 0..5 {
            assert_eq!(second(&t, &ch, json!({"code": "99999x"})).await.status, 401);
        }
    }
    let ch = challenge(&t, "head@acme.test").await;
    limited(&second(&t, &ch, json!({"code": totp(&secret, &t)})).await);
    t.advance(minute);
    let ch = challenge(&t, "head@acme.test").await;
    session_of(&t, &second(&t, &ch, json!({"code": totp(&secret, &t)})).await);

    // Widget: messages per visitor, then every public request per address.
    let (v, conv) = t.visitor("限流访客", "你好").await;
    let url = format!("/api/v1/public/conversations/{conv}/messages");
    for i in 0..3 {
        let r = v.post(&url, json!({"body": format!("第 {i} 条")})).await;
        assert_eq!(r.status, 201, "{:?}", r.body);
    }
    let wait = limited(&v.post(&url, json!({"body": "太快了"})).await);
    assert_eq!(v.get(&format!("/api/v1/public/conversations/{conv}")).await.status, 200);
    t.advance(std::time::Duration::from_secs(wait));
    assert_eq!(v.post(&url, json!({"body": "过了一分钟"})).await.status, 201);
    t.advance(minute);
    let mut statuses = Vec::new();
    for _ in 0..12 {
        statuses.push(v.get(&format!("/api/v1/public/conversations/{conv}")).await.status);
    }
    assert_eq!(statuses[..10], [200; 10]);
    let r = v.get("/api/v1/public/tickets").await;
    limited(&r);
    // Staff endpoints are not counted against the public limit.
    assert_eq!(c.get("/api/v1/me").await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_answer_429_with_retry_after_and_a_json_body() {
    for backend in test_support::backends() {
        let settings = app::Settings {
            fast_password_hashing: true,
            public_requests_per_minute: 10,
            visitor_messages_per_minute: 3,
            ..app::Settings::default()
        };
        let t = test_support::spawn_app_with(backend, settings).await;
        t.bot_off().await;
        limits(t).await;
    }
}

async fn headers(t: TestApp) {
    let agent = t.as_role("agent@acme.test").await;
    for r in [
        agent.get("/api/v1/me").await,
        t.anon().get("/api/v1/me").await,
        t.anon().get("/api/v1/no-such-thing").await,
    ] {
        let h = &r.headers;
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["x-frame-options"], "DENY");
        assert_eq!(h["referrer-policy"], "same-origin");
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"));
    }
    // The web app's pages keep their own policy: scripts from this origin only.
    let page = t.anon().http.get(format!("{}/login", t.base)).send().await.unwrap();
    let h = page.headers();
    let csp = h["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(h["x-content-type-options"], "nosniff");
    // The chat panel may be framed by the sites that embed the widget.
    let chat = t.anon().http.get(format!("{}/chat.html", t.base)).send().await.unwrap();
    let csp = chat.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("frame-ancestors *"), "{csp}");
    assert!(chat.headers().get("x-frame-options").is_none());
    // The session cookie is HttpOnly and SameSite.
    let r = password_login(&t, "agent@acme.test", PASSWORD).await;
    let cookie = r.headers["set-cookie"].to_str().unwrap();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
    // Each login gets a new session; logging out ends that one only.
    let c = session_of(&t, &r);
    let c2 = t.as_role("agent@acme.test").await;
    assert_ne!(c.cookie, c2.cookie);
    assert_eq!(c.post("/api/v1/auth/logout", json!({})).await.status, 204);
    assert_eq!(c.get("/api/v1/me").await.status, 401);
    assert_eq!(c2.get("/api/v1/me").await.status, 200);
    // A body that is not declared as JSON is refused.
    let r = c2
        .http
        .post(format!("{}/api/v1/customers", t.base))
        .header("cookie", c2.cookie.clone().unwrap())
        .header("x-csrf-token", c2.csrf.clone().unwrap())
        .header("content-type", "text/plain")
        .body(r#"{"name": "x"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 415);
}
on_backends!(security_headers_on_the_api_and_the_web_app, headers);
