//! OIDC single sign-on against a real OpenID provider: panva's `oidc-provider` (OpenID
//! Certified), installed by `scripts/test-peers.sh` and started per test by
//! `scripts/oidc-peer.mjs` on a loopback port. A cookie-keeping HTTP client plays the browser:
//! start → the provider's login and consent pages → callback → a session that works on `/me`.
//! Refusals: reused, tampered, foreign-browser and expired state; unknown users (then
//! provisioned); a domain not allowed; an unverified email; a disabled user; SSO turned off;
//! an issuer on loopback without `allow_hosts`. Without the peer the test is skipped with a
//! warning, except under CI=true.

use std::{
    collections::BTreeMap,
    io::{BufRead, BufReader},
    path::Path,
    process::{Child, Command, Stdio},
    time::Duration,
};

use serde_json::{Value, json};
use test_support::TestApp;

use crate::s;

const SECRET: &str = "huiting-test-secret-0123456789";

fn required() -> bool {
    #[allow(clippy::disallowed_methods)] // CI decides whether a missing peer fails the test.
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    ci
}

/// The provider process, killed (by its own id) when dropped.
struct Provider {
    child: Child,
    issuer: String,
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts oidc-provider with one client whose redirect URI is this app's callback.
fn provider(t: &TestApp) -> Option<Provider> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let installed = root.join(".cache/peers/oidc/node_modules/oidc-provider/package.json");
    let node = Command::new("node").arg("--version").output().is_ok_and(|o| o.status.success());
    if !installed.exists() || !node {
        assert!(!required(), "oidc-provider is missing and CI=true: run scripts/test-peers.sh");
        eprintln!("warning: oidc-provider (npm) is missing; skipping (run scripts/test-peers.sh)");
        return None;
    }
    let redirect = format!("{}/api/v1/auth/oidc/acme/callback", t.base);
    let mut child = Command::new("node")
        .arg(root.join("scripts/oidc-peer.mjs"))
        .args([redirect.as_str(), "huiting", SECRET])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start node");
    let mut line = String::new();
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    out.read_line(&mut line).expect("port line");
    // Keep reading: a closed pipe would kill the provider at its next write (EPIPE).
    std::thread::spawn(move || for _ in out.lines() {});
    let v: Value = serde_json::from_str(&line).unwrap_or_else(|_| panic!("peer said {line:?}"));
    Some(Provider { child, issuer: s(&v["issuer"]) })
}

/// A browser: keeps cookies (by name, for every host of the test), follows nothing by itself.
struct Browser {
    http: reqwest::Client,
    jar: BTreeMap<String, String>,
    accept: &'static str,
}

struct Page {
    status: u16,
    location: Option<String>,
    body: String,
    cookies: Vec<String>,
}

impl Browser {
    fn new(accept: &'static str) -> Browser {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(20))
            .build()
            .unwrap();
        Browser { http, jar: BTreeMap::new(), accept }
    }

    fn cookie_header(&self) -> String {
        self.jar.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    async fn send(&mut self, rb: reqwest::RequestBuilder) -> Page {
        let mut rb = rb.header("accept", self.accept);
        if !self.jar.is_empty() {
            rb = rb.header("cookie", self.cookie_header());
        }
        let r = rb.send().await.expect("request");
        let status = r.status().as_u16();
        let location = r.headers().get("location").map(|v| v.to_str().unwrap().to_string());
        let mut cookies = Vec::new();
        for c in r.headers().get_all("set-cookie") {
            let c = c.to_str().unwrap().to_string();
            let (pair, attrs) = c.split_once(';').unwrap_or((&c, ""));
            let (k, v) = pair.split_once('=').unwrap();
            let attrs = attrs.to_ascii_lowercase();
            if v.is_empty() || attrs.contains("max-age=0") || attrs.contains("1970") {
                self.jar.remove(k.trim());
            } else {
                self.jar.insert(k.trim().to_string(), v.to_string());
            }
            cookies.push(c);
        }
        let body = r.text().await.unwrap_or_default();
        Page { status, location, body, cookies }
    }

    async fn get(&mut self, url: &str) -> Page {
        let rb = self.http.get(url);
        self.send(rb).await
    }

    async fn post_form(&mut self, url: &str, form: &[(&str, &str)]) -> Page {
        let body: String = {
            let mut u = reqwest::Url::parse("http://x/").unwrap();
            u.query_pairs_mut().extend_pairs(form);
            u.query().unwrap().to_string()
        };
        let rb = self
            .http
            .post(url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        self.send(rb).await
    }
}

fn absolute(base: &str, loc: &str) -> String {
    reqwest::Url::parse(base).unwrap().join(loc).unwrap().to_string()
}

/// From the start endpoint through the provider's login and consent pages, as `account`;
/// returns the callback URL the provider sends the browser to.
async fn through_provider(t: &TestApp, b: &mut Browser, p: &Provider, account: &str) -> String {
    // A fresh provider session each time, so the provider asks who logs in.
    b.jar.retain(|k, _| k.starts_with("huiting_"));
    let start = b.get(&format!("{}/api/v1/auth/oidc/acme/start?next=/tickets", t.base)).await;
    assert_eq!(start.status, 303, "start: {}", start.body);
    assert!(
        start.cookies.iter().any(|c| c.starts_with("huiting_sso=") && c.contains("HttpOnly")),
        "{:?}",
        start.cookies
    );
    let mut url = start.location.expect("to the provider");
    assert!(url.starts_with(&format!("{}/auth?", p.issuer)), "{url}");
    let q: BTreeMap<String, String> =
        reqwest::Url::parse(&url).unwrap().query_pairs().into_owned().collect();
    assert_eq!(q["code_challenge_method"], "S256");
    assert_eq!(q["response_type"], "code");
    assert!(q["state"].len() >= 43 && q["nonce"].len() >= 43 && q["code_challenge"].len() == 43);
    let callback = format!("{}/api/v1/auth/oidc/acme/callback", t.base);
    for _ in 0..20 {
        let page = b.get(&url).await;
        let next = match page.status {
            302 | 303 => absolute(&url, &page.location.expect("location")),
            200 => {
                let action = page.body.split("action=\"").nth(1).expect("a form").split('"').next();
                let action = absolute(&url, &action.unwrap().replace("&amp;", "&"));
                let posted = if page.body.contains("name=\"login\"") {
                    b.post_form(
                        &action,
                        &[("prompt", "login"), ("login", account), ("password", "x")],
                    )
                    .await
                } else {
                    b.post_form(&action, &[("prompt", "consent")]).await
                };
                assert!(matches!(posted.status, 302 | 303), "{}: {}", posted.status, posted.body);
                absolute(&action, &posted.location.expect("location"))
            }
            other => panic!("provider answered {other}: {}", page.body),
        };
        if next.starts_with(&callback) {
            return next;
        }
        url = next;
    }
    panic!("the provider never sent the browser back");
}

async fn configure(t: &TestApp, p: &Provider, extra: Value) -> Value {
    let admin = t.as_role("admin@acme.test").await;
    let mut body = json!({"issuer": p.issuer, "client_id": "huiting", "client_secret": SECRET,
        "enabled": true, "allow_hosts": ["127.0.0.1"]});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let r = admin.put("/api/v1/security/sso", body).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.body
}

/// The app's clock at the real time: the provider signs tokens with the real clock.
fn real_now(t: &TestApp) {
    #[allow(clippy::disallowed_methods)] // The provider's tokens carry real time.
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();
    t.clock.set(domain::Timestamp::from_millis(now.as_millis() as i64));
}

async fn audit_reasons(t: &TestApp) -> Vec<String> {
    let admin = t.as_role("admin@acme.test").await;
    let r = admin.get("/api/v1/audit?limit=500").await;
    r.body
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "user.login_failed")
        .map(|e| s(&e["after"]["reason"]))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oidc_single_sign_on_against_a_real_provider() {
    for backend in test_support::backends() {
        let settings = app::Settings {
            fast_password_hashing: true,
            public_requests_per_minute: 0,
            visitor_messages_per_minute: 0,
            public_url: String::new(),
            ..app::Settings::default()
        };
        let t = test_support::spawn_app_with(backend.clone(), settings).await;
        eprintln!("-- oidc on {backend:?}");
        let Some(p) = provider(&t) else { return };
        real_now(&t);
        sso(&t, &p).await;
    }
}

async fn sso(t: &TestApp, p: &Provider) {
    let anon = t.anon();
    // Not configured: no button, and the start says so.
    let r = anon.get("/api/v1/auth/oidc/acme").await;
    assert_eq!((r.status, &r.body["enabled"]), (200, &json!(false)));
    let r = anon.get("/api/v1/auth/oidc/acme/start").await;
    assert_eq!((r.status, s(&r.body["code"])), (404, "sso_disabled".into()), "{:?}", r.body);

    // Settings: the SSRF guard refuses a loopback issuer unless the admin allows the host.
    let admin = t.as_role("admin@acme.test").await;
    let r = admin
        .put(
            "/api/v1/security/sso",
            json!({"issuer": p.issuer, "client_id": "huiting", "client_secret": SECRET, "enabled": true}),
        )
        .await;
    assert_eq!((r.status, s(&r.body["field"])), (400, "issuer".into()), "{:?}", r.body);
    let https = p.issuer.replace("http://", "https://");
    let r = admin
        .put(
            "/api/v1/security/sso",
            json!({"issuer": https, "client_id": "huiting", "client_secret": SECRET, "enabled": true}),
        )
        .await;
    assert_eq!(r.status, 400, "{:?}", r.body);
    assert!(s(&r.body["message"]).contains("allow_hosts"), "{:?}", r.body);
    let r = admin
        .put("/api/v1/security/sso", json!({"issuer": p.issuer, "client_id": "huiting", "enabled": false, "allow_hosts": ["127.0.0.1"]}))
        .await;
    assert_eq!(
        (r.status, s(&r.body["field"])),
        (400, "client_secret".into()),
        "a first save needs the secret"
    );
    assert_eq!(t.anon().get("/api/v1/security/sso").await.status, 401);
    assert_eq!(t.as_role("agent@acme.test").await.get("/api/v1/security/sso").await.status, 403);

    let saved = configure(t, p, json!({})).await;
    assert_eq!(saved["client_secret_set"], true);
    assert!(saved.get("client_secret").is_none(), "write-only: {saved}");
    assert_eq!(s(&saved["redirect_uri"]), format!("{}/api/v1/auth/oidc/acme/callback", t.base));
    let r = anon.get("/api/v1/auth/oidc/ACME").await;
    assert_eq!(r.body["enabled"], true);
    assert_eq!(s(&r.body["start_url"]), "/api/v1/auth/oidc/acme/start");
    // An edit without the secret keeps it (the login below uses it).
    let kept = configure(t, p, json!({"client_secret": null})).await;
    assert_eq!(kept["client_secret_set"], true);

    // The whole flow as an API caller: the login body and a cookie that works on /me.
    let mut b = Browser::new("application/json");
    let cb = through_provider(t, &mut b, p, "agent").await;
    let done = b.get(&cb).await;
    assert_eq!(done.status, 200, "{}", done.body);
    let body: Value = serde_json::from_str(&done.body).unwrap();
    assert_eq!(s(&body["user"]["email"]), "agent@acme.test");
    let csrf = s(&body["csrf_token"]);
    let session = done.cookies.iter().find(|c| c.starts_with("huiting_session=")).expect("session");
    assert!(session.contains("HttpOnly") && session.contains("SameSite=Lax"), "{session}");
    let me = b.get(&format!("{}/api/v1/me", t.base)).await;
    assert_eq!(me.status, 200, "{}", me.body);
    let me: Value = serde_json::from_str(&me.body).unwrap();
    assert_eq!(
        (s(&me["user"]["email"]), s(&me["role"])),
        ("agent@acme.test".into(), "agent".into())
    );
    // Same CSRF rule as a password session: a write without the token is refused.
    let no_csrf = b.post_form(&format!("{}/api/v1/auth/logout", t.base), &[]).await;
    assert_eq!(no_csrf.status, 403);
    let out = b.http.post(format!("{}/api/v1/auth/logout", t.base)).header("x-csrf-token", &csrf);
    assert_eq!(b.send(out).await.status, 204);

    // The same callback again: the state is single-use.
    let again = b.get(&cb).await;
    assert_eq!(again.status, 400);
    assert_eq!(serde_json::from_str::<Value>(&again.body).unwrap()["code"], "sso_state_reused");

    // A tampered state, and a callback in a browser that did not start the sign-on.
    let cb = through_provider(t, &mut b, p, "agent").await;
    let mut u = reqwest::Url::parse(&cb).unwrap();
    let pairs: Vec<(String, String)> = u
        .query_pairs()
        .map(|(k, v)| {
            let v = match (k.as_ref(), v.starts_with('A')) {
                ("state", true) => format!("B{}", &v[1..]),
                ("state", false) => format!("A{}", &v[1..]),
                _ => v.into_owned(),
            };
            (k.into_owned(), v)
        })
        .collect();
    u.query_pairs_mut().clear().extend_pairs(pairs);
    let r = b.get(u.as_str()).await;
    assert_eq!((r.status, code(&r)), (400, "sso_state_invalid".into()));
    let mut elsewhere = Browser::new("application/json");
    let r = elsewhere.get(&cb).await;
    assert_eq!((r.status, code(&r)), (400, "sso_state_invalid".into()));
    // The untampered state was taken by neither: it still works once.
    assert_eq!(b.get(&cb).await.status, 200);

    // A browser: a redirect into the web app with the session and a one-minute CSRF cookie.
    let mut web = Browser::new("text/html,application/xhtml+xml");
    let cb = through_provider(t, &mut web, p, "super").await;
    let r = web.get(&cb).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location.as_deref(), Some("/login?sso=ok&next=/tickets"));
    assert!(r.cookies.iter().any(|c| c.starts_with("huiting_csrf=") && !c.contains("HttpOnly")));
    let me = web.get(&format!("{}/api/v1/me", t.base)).await;
    assert_eq!(serde_json::from_str::<Value>(&me.body).unwrap()["role"], "supervisor");
    let r = web.get(&cb).await;
    assert_eq!(r.status, 303);
    assert_eq!(r.location.as_deref(), Some("/login?sso_error=sso_state_reused&workspace=acme"));

    // An expired attempt.
    let cb = through_provider(t, &mut b, p, "agent").await;
    t.clock.advance_millis(11 * 60_000);
    let r = b.get(&cb).await;
    assert_eq!((r.status, code(&r)), (400, "sso_state_expired".into()));
    real_now(t);

    // An unknown user is refused by default, then created with the configured role.
    let cb = through_provider(t, &mut b, p, "stranger").await;
    let r = b.get(&cb).await;
    assert_eq!((r.status, code(&r)), (403, "sso_unknown_user".into()), "{}", r.body);
    configure(t, p, json!({"provision_role": "agent"})).await;
    let cb = through_provider(t, &mut b, p, "stranger").await;
    let r = b.get(&cb).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v: Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!((s(&v["user"]["role"]), s(&v["user"]["name"])), ("agent".into(), "新同事".into()));

    // An email the provider did not verify does not link to the account it names.
    let cb = through_provider(t, &mut b, p, "unverified").await;
    let r = b.get(&cb).await;
    assert_eq!((r.status, code(&r)), (403, "sso_email_unverified".into()), "{}", r.body);

    // Allowed domains.
    configure(t, p, json!({"allowed_domains": ["acme.test"]})).await;
    let cb = through_provider(t, &mut b, p, "outsider").await;
    let r = b.get(&cb).await;
    assert_eq!((r.status, code(&r)), (403, "sso_domain_not_allowed".into()), "{}", r.body);
    let cb = through_provider(t, &mut b, p, "agent").await;
    assert_eq!(b.get(&cb).await.status, 200, "acme.test is allowed");

    // A disabled user is refused even through their link.
    let agent = t.user("agent@acme.test").id.to_string();
    let r = admin.patch(&format!("/api/v1/users/{agent}"), json!({"active": false})).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let cb = through_provider(t, &mut b, p, "agent").await;
    let r = b.get(&cb).await;
    assert_eq!((r.status, code(&r)), (403, "sso_user_disabled".into()), "{}", r.body);

    // The provider's refusal (the user pressed "cancel").
    let start = b.get(&format!("{}/api/v1/auth/oidc/acme/start", t.base)).await;
    let q: BTreeMap<String, String> =
        reqwest::Url::parse(&start.location.unwrap()).unwrap().query_pairs().into_owned().collect();
    let r = b
        .get(&format!(
            "{}/api/v1/auth/oidc/acme/callback?error=access_denied&state={}",
            t.base, q["state"]
        ))
        .await;
    assert_eq!((r.status, code(&r)), (401, "sso_provider_error".into()), "{}", r.body);

    // Turned off: no button, no start, and a pending callback is refused.
    let cb = through_provider(t, &mut b, p, "super").await;
    configure(t, p, json!({"enabled": false})).await;
    assert_eq!(anon.get("/api/v1/auth/oidc/acme").await.body["enabled"], false);
    let r = b.get(&cb).await;
    assert_eq!((r.status, code(&r)), (404, "sso_disabled".into()));
    let r = web.get(&format!("{}/api/v1/auth/oidc/acme/start", t.base)).await;
    assert_eq!(r.location.as_deref(), Some("/login?sso_error=sso_disabled&workspace=acme"));

    // The audit log: SSO logins with their method, the first-login links, every refusal.
    let admin = t.as_role("admin@acme.test").await;
    let log = admin.get("/api/v1/audit?limit=500").await.body;
    let entries = log.as_array().unwrap();
    assert!(entries.iter().any(|e| e["action"] == "user.login" && e["after"]["method"] == "oidc"));
    assert_eq!(entries.iter().filter(|e| e["action"] == "user.sso_link").count(), 3);
    let mut reasons = audit_reasons(t).await;
    reasons.sort();
    assert_eq!(
        reasons,
        [
            "sso_domain_not_allowed",
            "sso_email_unverified",
            "sso_provider_error",
            "sso_state_expired",
            "sso_state_invalid",
            "sso_state_invalid",
            "sso_state_reused",
            "sso_state_reused",
            "sso_unknown_user",
            "sso_user_disabled",
        ]
    );
    let v = admin.get("/api/v1/audit/verify").await;
    assert_eq!(v.status, 200, "{:?}", v.body);
}

fn code(p: &Page) -> String {
    s(&serde_json::from_str::<Value>(&p.body).unwrap_or(Value::Null)["code"])
}
