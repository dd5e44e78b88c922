//! Test harness: [`spawn_app`] boots the real router on a loopback port against a fresh
//! database (a temporary SQLite file, or a fresh PostgreSQL database), with a clock the test
//! steps and fast password hashing. [`backends`] lists the backends a run covers: SQLite
//! always, PostgreSQL when `HUITING_TEST_PG` names a server.

use std::{sync::Arc, time::Duration};

use anyhow::Context;
use app::{App, ManualClock, Settings};
use domain::{Department, Email, Role, Timestamp, User, Workspace};
use serde_json::{Value, json};
use sqlx::Connection;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    /// A server URL; each app gets its own fresh database on it.
    Postgres(String),
}

/// SQLite, plus PostgreSQL when `HUITING_TEST_PG` is set (the README's full test command sets
/// it, and fails first if the server is unreachable).
pub fn backends() -> Vec<Backend> {
    let mut b = vec![Backend::Sqlite];
    #[allow(clippy::disallowed_methods)] // Test configuration comes from the environment.
    if let Ok(url) = std::env::var("HUITING_TEST_PG")
        && !url.is_empty()
    {
        b.push(Backend::Postgres(url));
    }
    b
}

/// 2026-11-02 09:00 Beijing time, a Monday: the default start of a test's clock.
pub const T0: Timestamp = Timestamp::from_millis(1_793_581_200_000);

pub const PASSWORD: &str = "test-password-123";

/// A running server and handles on its insides.
pub struct TestApp {
    pub base: String,
    pub app: App,
    pub clock: ManualClock,
    pub backend: Backend,
    pub db_url: String,
    pub http: reqwest::Client,
    /// The main workspace, with one user of every role (see [`TestApp::user`]).
    pub ws: Workspace,
    pub users: Vec<User>,
    /// A second workspace whose admin must never see the first one's data.
    pub other_ws: Workspace,
    pub other_admin: User,
    _dir: Option<tempfile::TempDir>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// Creates a fresh database on the PostgreSQL server at `url` and returns its URL.
pub async fn fresh_pg_database(url: &str) -> anyhow::Result<String> {
    let name = format!("huiting_t_{}", rand::random::<u64>());
    let mut c =
        sqlx::PgConnection::connect(url).await.with_context(|| format!("connecting to {url}"))?;
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&mut c).await?;
    let base = url.rsplit_once('/').map_or(url, |(b, _)| b);
    Ok(format!("{base}/{name}"))
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    // Tests open many chats from one address in one (stopped) minute: no public limits here;
    // the security tests set their own.
    spawn_app_with(
        backend,
        Settings {
            fast_password_hashing: true,
            public_requests_per_minute: 0,
            visitor_messages_per_minute: 0,
            ..Settings::default()
        },
    )
    .await
}

pub async fn spawn_app_with(backend: Backend, settings: Settings) -> TestApp {
    let (opts, dir) = match &backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().expect("temp dir");
            (db::DbOptions::sqlite_file(&dir.path().join("huiting.db")), Some(dir))
        }
        Backend::Postgres(url) => {
            let u = fresh_pg_database(url).await.expect("create a test database");
            (
                db::DbOptions { url: u, max_connections: 8, sqlite_synchronous: "normal".into() },
                None,
            )
        }
    };
    let db = db::Db::connect(&opts).await.expect("connect");
    db.migrate().await.expect("migrate");
    let clock = ManualClock::new(T0);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    // An empty public URL means "this server" (the SSO tests register its callback).
    let mut settings = settings;
    if settings.public_url.is_empty() {
        settings.public_url = base.clone();
    }
    let app = App::new(db, Arc::new(clock.clone()), settings);
    let state = http_api::AppState { app: app.clone(), secure_cookies: false, metrics_token: None };
    let server = tokio::spawn(async move {
        let _ = http_api::serve(listener, state, std::future::pending()).await;
    });
    let (ws, admin) = app
        .create_workspace(app::admin::NewWorkspace {
            slug: "acme".into(),
            name: "Acme 电器".into(),
            ticket_prefix: "HT".into(),
            admin_email: Email::parse("admin@acme.test").unwrap(),
            admin_name: "管理员".into(),
            admin_password: PASSWORD.into(),
        })
        .await
        .expect("workspace");
    let mut users = vec![admin];
    for (role, dept, email) in [
        (Role::CsHead, None, "head@acme.test"),
        (Role::Supervisor, None, "super@acme.test"),
        (Role::Agent, None, "agent@acme.test"),
        (Role::Agent, None, "agent2@acme.test"),
        (Role::DeptMember, Some(Department::Tech), "tech@acme.test"),
        (Role::Auditor, None, "audit@acme.test"),
    ] {
        users.push(
            app.seed_user(ws.id, Email::parse(email).unwrap(), email, role, dept, PASSWORD)
                .await
                .expect("user"),
        );
    }
    let (other_ws, other_admin) = app
        .create_workspace(app::admin::NewWorkspace {
            slug: "other".into(),
            name: "Other Co".into(),
            ticket_prefix: "OT".into(),
            admin_email: Email::parse("admin@other.test").unwrap(),
            admin_name: "Other admin".into(),
            admin_password: PASSWORD.into(),
        })
        .await
        .expect("other workspace");
    TestApp {
        base,
        app,
        clock,
        backend,
        db_url: opts.url,
        http: reqwest::Client::builder().timeout(Duration::from_secs(30)).build().expect("client"),
        ws,
        users,
        other_ws,
        other_admin,
        _dir: dir,
        server,
    }
}

/// A logged-in client: the session cookie and CSRF token ride along on every request.
#[derive(Clone, Debug)]
pub struct Client {
    pub base: String,
    pub http: reqwest::Client,
    pub cookie: Option<String>,
    pub csrf: Option<String>,
    pub bearer: Option<String>,
}

/// A response: status and JSON body (Null when empty or not JSON).
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
}

impl Client {
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
        extra: &[(&str, &str)],
    ) -> Resp {
        let m = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut rb = self.http.request(m, format!("{}{path}", self.base));
        if let Some(c) = &self.cookie {
            rb = rb.header("cookie", c);
        }
        if let Some(t) = &self.csrf {
            rb = rb.header("x-csrf-token", t);
        }
        if let Some(b) = &self.bearer {
            rb = rb.bearer_auth(b);
        }
        for (k, v) in extra {
            rb = rb.header(*k, *v);
        }
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let r = rb.send().await.expect("request");
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let text = r.text().await.unwrap_or_default();
        Resp { status, body: serde_json::from_str(&text).unwrap_or(Value::Null), headers }
    }
    pub async fn get(&self, path: &str) -> Resp {
        self.send("GET", path, None, &[]).await
    }
    pub async fn post(&self, path: &str, body: Value) -> Resp {
        self.send("POST", path, Some(body), &[]).await
    }
    pub async fn patch(&self, path: &str, body: Value) -> Resp {
        self.send("PATCH", path, Some(body), &[]).await
    }
    pub async fn put(&self, path: &str, body: Value) -> Resp {
        self.send("PUT", path, Some(body), &[]).await
    }
    pub async fn delete(&self, path: &str) -> Resp {
        self.send("DELETE", path, None, &[]).await
    }
}

impl TestApp {
    /// An anonymous client.
    pub fn anon(&self) -> Client {
        Client {
            base: self.base.clone(),
            http: self.http.clone(),
            cookie: None,
            csrf: None,
            bearer: None,
        }
    }

    /// The seeded user with this email (e.g. `agent@acme.test`).
    pub fn user(&self, email: &str) -> &User {
        self.users
            .iter()
            .find(|u| u.email.as_str() == email)
            .unwrap_or_else(|| panic!("no test user {email}"))
    }

    /// Logs in through the API and returns a client carrying the session.
    pub async fn login(&self, workspace: &str, email: &str) -> Client {
        let r = self
            .anon()
            .post(
                "/api/v1/auth/login",
                json!({"workspace": workspace, "email": email, "password": PASSWORD}),
            )
            .await;
        assert_eq!(r.status, 200, "login {email}: {:?}", r.body);
        let set =
            r.headers.get("set-cookie").expect("session cookie").to_str().unwrap().to_string();
        let cookie = set.split(';').next().unwrap().to_string();
        Client {
            cookie: Some(cookie),
            csrf: r.body["csrf_token"].as_str().map(str::to_string),
            ..self.anon()
        }
    }

    pub async fn as_role(&self, email: &str) -> Client {
        self.login("acme", email).await
    }

    /// Opens a widget chat; returns the visitor client and the conversation id.
    pub async fn visitor(&self, name: &str, message: &str) -> (Client, String) {
        let r = self
            .anon()
            .post(
                "/api/v1/public/conversations",
                json!({"public_key": self.ws.public_key, "name": name, "message": message}),
            )
            .await;
        assert_eq!(r.status, 201, "open chat: {:?}", r.body);
        let token = r.body["visitor_token"].as_str().expect("token").to_string();
        let conv = r.body["conversation"]["id"].as_str().expect("conv").to_string();
        (Client { bearer: Some(token), ..self.anon() }, conv)
    }

    /// Turns the workspace's bot off, for tests of storage and delivery that count messages.
    pub async fn bot_off(&self) {
        let admin = self.as_role("admin@acme.test").await;
        let r = admin.put("/api/v1/bot/settings", json!({"enabled": false})).await;
        assert_eq!(r.status, 200, "bot off: {:?}", r.body);
    }

    /// Turns satisfaction surveys off, for tests that count the jobs a ticket's life enqueues.
    pub async fn surveys_off(&self) {
        let admin = self.as_role("admin@acme.test").await;
        let mut settings = admin.get("/api/v1/surveys/settings").await.body;
        settings["enabled"] = json!(false);
        let r = admin.put("/api/v1/surveys/settings", settings).await;
        assert_eq!(r.status, 200, "surveys off: {:?}", r.body);
    }

    /// Steps the clock.
    pub fn advance(&self, d: Duration) {
        self.clock.advance_millis(d.as_millis() as i64);
    }

    /// Runs every job due now.
    pub async fn run_pending_jobs(&self) -> usize {
        let mut n = 0;
        while let app::jobs::Outcome::Ran(k) =
            self.app.run_jobs_once("test-worker", self.app.now()).await.expect("jobs")
        {
            n += k;
        }
        n
    }
}
