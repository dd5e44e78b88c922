//! Operations: `/metrics` after some traffic (parsed, values checked), `huiting backup` while
//! the server writes and `huiting restore` into a fresh data directory, graceful shutdown on
//! SIGTERM (an in-flight request completes, WebSockets get 1012, exit 0) with JSON logs that
//! carry no password, cookie or token.

use std::{
    collections::HashMap,
    path::Path,
    process::{Child, Stdio},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use futures::StreamExt;
use serde_json::{Value, json};
use test_support::{Client, TestApp};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::{
    cli::{bin, free_port, wait_ready},
    on_backends, s,
};

/// One sample of the Prometheus text format.
#[derive(Debug, Clone)]
struct Sample {
    name: String,
    labels: HashMap<String, String>,
    value: f64,
}

/// Parses the text exposition format (no escapes in our label values).
fn parse(text: &str) -> Vec<Sample> {
    let mut out = Vec::new();
    for line in text.lines().filter(|l| !l.is_empty() && !l.starts_with('#')) {
        let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("bad line {line:?}"));
        let value: f64 = value.parse().unwrap_or_else(|_| panic!("bad value in {line:?}"));
        let (name, labels) = match series.split_once('{') {
            None => (series.to_string(), HashMap::new()),
            Some((n, rest)) => {
                let body = rest.strip_suffix('}').unwrap_or_else(|| panic!("bad labels {line:?}"));
                let mut labels = HashMap::new();
                let mut rest = body;
                while !rest.is_empty() {
                    let (k, v) =
                        rest.split_once("=\"").unwrap_or_else(|| panic!("bad label {line:?}"));
                    let end = v.find('"').unwrap_or_else(|| panic!("unterminated {line:?}"));
                    labels.insert(k.to_string(), v[..end].to_string());
                    rest = v[end + 1..].trim_start_matches(',');
                }
                (n.to_string(), labels)
            }
        };
        out.push(Sample { name, labels, value });
    }
    out
}

fn find<'a>(samples: &'a [Sample], name: &str, labels: &[(&str, &str)]) -> Option<&'a Sample> {
    samples.iter().find(|x| {
        x.name == name
            && labels.iter().all(|(k, v)| x.labels.get(*k).map(String::as_str) == Some(*v))
    })
}

/// A series that is absent counts as 0 (a job kind with nothing pending is not listed).
fn value_or_0(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> f64 {
    find(samples, name, labels).map_or(0.0, |x| x.value)
}

fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> f64 {
    find(samples, name, labels).unwrap_or_else(|| panic!("no {name} {labels:?}")).value
}

async fn scrape(t: &TestApp) -> Vec<Sample> {
    let r = t.http.get(format!("{}/metrics", t.base)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    parse(&r.text().await.unwrap())
}

async fn metrics_after_traffic_(t: TestApp) {
    let agent = t.as_role("agent@acme.test").await;
    // Bot conversations: one the bot keeps (an unmatched question), one handed off at once.
    let (_v1, _) = t.visitor("客户甲", "今天天气怎么样").await;
    let (visitor, _) = t.visitor("客户乙", "转人工").await;
    let cust = agent.post("/api/v1/customers", json!({"name": "指标客户"})).await;
    assert_eq!(cust.status, 201, "{:?}", cust.body);
    let cust = s(&cust.body["id"]);
    for i in 0..3 {
        let r = agent
            .post("/api/v1/tickets", json!({"subject": format!("指标 {i}"), "customer_id": cust}))
            .await;
        assert_eq!(r.status, 201, "{:?}", r.body);
    }
    for _ in 0..5 {
        assert_eq!(agent.get("/api/v1/tickets?limit=5").await.status, 200);
    }
    assert_eq!(agent.get("/api/v1/tickets/no-such-ticket").await.status / 100, 4);
    // A live realtime subscriber.
    let token = visitor.bearer.clone().unwrap();
    let url = format!("{}/api/v1/public/ws?token={token}", t.base.replace("http://", "ws://"));
    let (ws, _) = tokio_tungstenite::connect_async(url).await.expect("visitor websocket");

    let m = scrape(&t).await;
    let hist = "huiting_http_request_duration_seconds";
    let list = [("method", "GET"), ("route", "/api/v1/tickets"), ("status", "2xx")];
    assert!(value(&m, &format!("{hist}_count"), &list) >= 5.0);
    assert!(value(&m, &format!("{hist}_sum"), &list) > 0.0);
    let inf = [("method", "GET"), ("route", "/api/v1/tickets"), ("status", "2xx"), ("le", "+Inf")];
    assert_eq!(
        value(&m, &format!("{hist}_bucket"), &inf),
        value(&m, &format!("{hist}_count"), &list)
    );
    // Routes are templates, never raw ids.
    assert!(
        find(&m, &format!("{hist}_count"), &[("route", "/api/v1/tickets/{id}"), ("status", "4xx")])
            .is_some()
    );
    assert!(!m.iter().any(|x| x.labels.get("route").is_some_and(|r| r.contains("no-such-ticket"))));
    assert!(value(&m, "huiting_realtime_subscribers", &[]) >= 1.0);
    assert!(value(&m, "huiting_uptime_seconds", &[]) > 0.0);
    let handed = value(
        &m,
        "huiting_bot_conversations_total",
        &[("workspace", "acme"), ("outcome", "handed_off")],
    );
    let kept = value(
        &m,
        "huiting_bot_conversations_total",
        &[("workspace", "acme"), ("outcome", "contained")],
    );
    assert_eq!((handed, kept), (1.0, 1.0), "{m:?}");
    assert_eq!(value(&m, "huiting_sla_breaches_total", &[("workspace", "acme")]), 0.0);
    // Each new ticket waits on an SLA timer: pending, not yet due, no lag.
    assert!(value(&m, "huiting_jobs_pending", &[("kind", "sla_timer")]) >= 3.0, "{m:?}");
    assert_eq!(value(&m, "huiting_jobs_due", &[("kind", "sla_timer")]), 0.0);
    assert_eq!(value(&m, "huiting_job_lag_seconds", &[("kind", "sla_timer")]), 0.0);

    // Ten days on, nobody ran the worker: the timers are due and late; then they run and
    // the tickets have breached.
    t.advance(Duration::from_secs(10 * 86_400));
    let m = scrape(&t).await;
    assert!(value(&m, "huiting_jobs_due", &[("kind", "sla_timer")]) >= 3.0);
    assert!(value(&m, "huiting_job_lag_seconds", &[("kind", "sla_timer")]) > 86_400.0);
    t.run_pending_jobs().await;
    let m = scrape(&t).await;
    assert!(value(&m, "huiting_sla_breaches_total", &[("workspace", "acme")]) >= 3.0, "{m:?}");
    assert_eq!(value_or_0(&m, "huiting_jobs_due", &[("kind", "sla_timer")]), 0.0);
    assert_eq!(value_or_0(&m, "huiting_job_lag_seconds", &[("kind", "sla_timer")]), 0.0);
    drop(ws);
}
on_backends!(metrics_after_traffic, metrics_after_traffic_);

const ADMIN_PASSWORD: &str = "ops-admin-password-1";

fn create_workspace(dir: &Path) {
    let out = bin()
        .args([
            "create-workspace",
            "--slug",
            "acme",
            "--name",
            "Acme",
            "--admin-email",
            "admin@acme.test",
        ])
        .args(["--data-dir", dir.to_str().unwrap()])
        .env("HUITING_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

fn serve(dir: &Path, port: u16, stderr: Stdio, extra: &[&str]) -> Child {
    bin()
        .arg("serve")
        .args(["--data-dir", dir.to_str().unwrap(), "--listen", &format!("127.0.0.1:{port}")])
        .args(extra)
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .unwrap()
}

async fn login(base: &str) -> Client {
    let anon = Client {
        base: base.to_string(),
        http: reqwest::Client::new(),
        cookie: None,
        csrf: None,
        bearer: None,
    };
    let r = anon
        .post(
            "/api/v1/auth/login",
            json!({"workspace": "acme", "email": "admin@acme.test", "password": ADMIN_PASSWORD}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let cookie = r.headers["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
    Client { cookie: Some(cookie), csrf: r.body["csrf_token"].as_str().map(str::to_string), ..anon }
}

fn stop(child: &mut Child) {
    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

fn wait_exit(child: &mut Child) -> std::process::ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            return st;
        }
        assert!(Instant::now() < deadline, "the server did not exit after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Backup while tickets are being written; restore into a fresh data directory; the
/// restored server serves every ticket acknowledged before the backup began and its audit
/// chains verify. Restore refuses a running server's directory and a file that is not a
/// Huiting database; PostgreSQL is pointed to pg_dump.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_while_writing_then_restore() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    create_workspace(&data);
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut child = serve(&data, port, Stdio::null(), &[]);
    wait_ready(&base, &mut child).await;
    let admin = login(&base).await;
    let cust = admin.post("/api/v1/customers", json!({"name": "备份客户"})).await;
    let cust = s(&cust.body["id"]);

    let writing = Arc::new(AtomicBool::new(true));
    let acked = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let writer = {
        let (admin, writing, acked, cust) =
            (admin.clone(), writing.clone(), acked.clone(), cust.clone());
        tokio::spawn(async move {
            let mut i = 0;
            while writing.load(Ordering::SeqCst) {
                let r = admin
                    .post(
                        "/api/v1/tickets",
                        json!({"subject": format!("备份中 {i}"), "customer_id": cust}),
                    )
                    .await;
                assert_eq!(r.status, 201, "{:?}", r.body);
                acked.lock().unwrap().push(s(&r.body["id"]));
                i += 1;
            }
        })
    };
    while acked.lock().unwrap().len() < 20 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let before: Vec<String> = acked.lock().unwrap().clone();
    let file = dir.path().join("huiting-backup.db");
    let out = {
        let (data, file) = (data.clone(), file.clone());
        tokio::task::spawn_blocking(move || {
            bin()
                .args([
                    "backup",
                    "--to",
                    file.to_str().unwrap(),
                    "--data-dir",
                    data.to_str().unwrap(),
                ])
                .output()
                .unwrap()
        })
        .await
        .unwrap()
    };
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("audit entries verified"), "{stdout}");
    writing.store(false, Ordering::SeqCst);
    writer.await.unwrap();
    let total = acked.lock().unwrap().len();

    // Not over a running server's data, and not from a file that is not a Huiting database.
    let out = bin()
        .args(["restore", "--from", file.to_str().unwrap(), "--data-dir", data.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("server is running"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, b"not a database at all").unwrap();
    let fresh = dir.path().join("fresh");
    let out = bin()
        .args(["restore", "--from", junk.to_str().unwrap(), "--data-dir", fresh.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(!fresh.join("huiting.db").exists(), "a refused restore changes nothing");
    stop(&mut child);
    assert!(wait_exit(&mut child).success());

    // Restore into a fresh directory, verify, serve.
    let out = bin()
        .args(["restore", "--from", file.to_str().unwrap(), "--data-dir", fresh.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out =
        bin().args(["audit", "verify", "--data-dir", fresh.to_str().unwrap()]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    assert!(String::from_utf8_lossy(&out.stdout).contains("chain intact"));
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut restored = serve(&fresh, port, Stdio::null(), &[]);
    wait_ready(&base, &mut restored).await;
    let admin = login(&base).await;
    for id in &before {
        let r = admin.get(&format!("/api/v1/tickets/{id}")).await;
        assert_eq!(r.status, 200, "ticket {id} acknowledged before the backup is missing");
    }
    let mut found = 0;
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/tickets?limit=100&cursor={c}"),
            None => "/api/v1/tickets?limit=100".to_string(),
        };
        let page = admin.get(&path).await.body;
        found += crate::items(&page).len();
        match page["next_cursor"].as_str() {
            Some(c) if !c.is_empty() => cursor = Some(c.to_string()),
            _ => break,
        }
    }
    assert!(
        found >= before.len() && found <= total,
        "{found} tickets, {} before, {total} acked",
        before.len()
    );
    // A second restore keeps the replaced database as huiting.db.bak.
    stop(&mut restored);
    assert!(wait_exit(&mut restored).success());
    let out = bin()
        .args(["restore", "--from", file.to_str().unwrap(), "--data-dir", fresh.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(fresh.join("huiting.db.bak").exists());

    let out = bin()
        .args(["backup", "--to", "x.db", "--database-url", "postgres://u@127.0.0.1:1/x"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("pg_dump"));
}

/// SIGTERM with a request in flight and a WebSocket open: the request completes, the socket
/// gets close code 1012, the process exits 0; the JSON log has no secret in it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_and_json_logs_keep_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    create_workspace(&data);
    let log_path = dir.path().join("server.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut child = bin()
        .arg("serve")
        .args(["--data-dir", data.to_str().unwrap(), "--listen", &format!("127.0.0.1:{port}")])
        .args(["--log-format", "json"])
        .env("HUITING__LOG__LEVEL", "debug")
        .stdout(Stdio::null())
        .stderr(Stdio::from(log))
        .spawn()
        .unwrap();
    wait_ready(&base, &mut child).await;
    let admin = login(&base).await;
    let session = admin.cookie.clone().unwrap();
    let session = session.split_once('=').unwrap().1.to_string();
    let workspace = admin.get("/api/v1/me").await.body;
    let public_key = s(&workspace["workspace"]["public_key"]);
    let anon = Client { cookie: None, csrf: None, ..admin.clone() };
    let r = anon
        .post(
            "/api/v1/public/conversations",
            json!({"public_key": public_key, "name": "访客", "message": "你好"}),
        )
        .await;
    assert_eq!(r.status, 201, "{:?} (me: {workspace})", r.body);
    let visitor_token = s(&r.body["visitor_token"]);
    let url = format!("ws://127.0.0.1:{port}/api/v1/public/ws?token={visitor_token}");
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.expect("visitor websocket");
    // A request in flight: headers and half the body sent before SIGTERM, the rest after.
    let body = json!({"workspace": "acme", "email": "admin@acme.test", "password": ADMIN_PASSWORD})
        .to_string();
    let mut tcp = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let head = format!(
        "POST /api/v1/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let (first, rest) = body.split_at(body.len() / 2);
    tcp.write_all(head.as_bytes()).await.unwrap();
    tcp.write_all(first.as_bytes()).await.unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    stop(&mut child);
    tokio::time::sleep(Duration::from_secs(1)).await;
    tcp.write_all(rest.as_bytes()).await.unwrap();
    let mut resp = String::new();
    tcp.read_to_string(&mut resp).await.unwrap();
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    let close = loop {
        match tokio::time::timeout(Duration::from_secs(60), ws.next()).await.expect("a close frame")
        {
            Some(Ok(tokio_tungstenite::tungstenite::Message::Close(f))) => break f,
            Some(Ok(_)) => {}
            other => panic!("the socket ended without a close frame: {other:?}"),
        }
    };
    assert_eq!(u16::from(close.expect("a close code").code), 1012);
    let status = tokio::task::spawn_blocking(move || wait_exit(&mut child)).await.unwrap();
    assert!(status.success(), "{status}");

    let text = std::fs::read_to_string(&log_path).unwrap();
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(lines.len() > 5);
    for l in &lines {
        let v: Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"));
        assert!(v.get("level").is_some() && v.get("timestamp").is_some(), "{l}");
    }
    assert!(text.contains("\"route\":\"/api/v1/public/ws\""), "request spans name routes");
    assert!(text.contains("shutting down"));
    for secret in [ADMIN_PASSWORD, session.as_str(), visitor_token.as_str()] {
        assert!(!text.contains(secret), "a secret reached the log");
    }
}

/// Restart under load: 4 widget clients post messages with idempotency keys; SIGTERM comes
/// mid-burst. Every request that got an answer got a 2xx (nothing accepted is dropped or
/// failed by the shutdown), the process exits 0, and after a restart every acknowledged
/// message is stored exactly once; retrying the rest with the same keys completes the set.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_under_load_loses_no_request() {
    const CLIENTS: usize = 4;
    const PER_CLIENT: usize = 300;
    for backend in test_support::backends() {
        eprintln!("-- restart under load on {backend:?}");
        let dir = tempfile::tempdir().unwrap();
        let args: Vec<String> = match backend {
            test_support::Backend::Sqlite => {
                vec!["--data-dir".into(), dir.path().join("data").to_str().unwrap().into()]
            }
            test_support::Backend::Postgres(server) => {
                vec![
                    "--database-url".into(),
                    test_support::fresh_pg_database(&server).await.unwrap(),
                ]
            }
        };
        let out = bin()
            .args([
                "create-workspace",
                "--slug",
                "acme",
                "--name",
                "Acme",
                "--admin-email",
                "admin@acme.test",
            ])
            .args(&args)
            .env("HUITING_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let text = String::from_utf8(out.stdout).unwrap();
        let key = text.split("public key ").nth(1).unwrap().trim().to_string();
        let port = free_port();
        let base = format!("http://127.0.0.1:{port}");
        let start = || {
            bin()
                .arg("serve")
                .args(&args)
                .args(["--listen", &format!("127.0.0.1:{port}")])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap()
        };
        let mut child = start();
        wait_ready(&base, &mut child).await;
        let http = reqwest::Client::new();
        let mut chats = Vec::new();
        for c in 0..CLIENTS {
            let r: Value = http
                .post(format!("{base}/api/v1/public/conversations"))
                .json(&json!({"public_key": key, "name": format!("client {c}")}))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            chats.push((s(&r["visitor_token"]), s(&r["conversation"]["id"])));
        }
        let post = |http: reqwest::Client,
                    base: String,
                    token: String,
                    conv: String,
                    c: usize,
                    i: usize| async move {
            http.post(format!("{base}/api/v1/public/conversations/{conv}/messages"))
                .bearer_auth(token)
                .header("idempotency-key", format!("c{c}-m{i}"))
                .json(&json!({"body": format!("restart client {c} message {i}")}))
                .send()
                .await
                .map(|r| r.status().as_u16())
        };
        let acked_n = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for (c, (token, conv)) in chats.iter().cloned().enumerate() {
            let (http, base, acked_n) = (http.clone(), base.clone(), acked_n.clone());
            tasks.push(tokio::spawn(async move {
                let mut acked = Vec::new();
                for i in 0..PER_CLIENT {
                    match post(http.clone(), base.clone(), token.clone(), conv.clone(), c, i).await
                    {
                        Ok(201 | 200) => {
                            acked.push(i);
                            acked_n.fetch_add(1, Ordering::SeqCst);
                        }
                        Ok(status) => {
                            panic!("client {c} message {i}: HTTP {status} during the shutdown")
                        }
                        // No answer: the server had stopped listening. This client stops.
                        Err(_) => break,
                    }
                }
                acked
            }));
        }
        while acked_n.load(Ordering::SeqCst) < CLIENTS * PER_CLIENT * 3 / 10 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        stop(&mut child);
        let status = tokio::task::spawn_blocking(move || wait_exit(&mut child)).await.unwrap();
        assert!(status.success(), "{status}");
        let mut acked = Vec::new();
        for t in tasks {
            acked.push(t.await.unwrap());
        }
        let total: usize = acked.iter().map(Vec::len).sum();
        eprintln!("acknowledged before SIGTERM: {total}");
        assert!(total < CLIENTS * PER_CLIENT, "the stop came before the burst ended");

        let mut child = start();
        wait_ready(&base, &mut child).await;
        for (c, (token, conv)) in chats.iter().enumerate() {
            let counts = crate::crash::stored(&http, &base, token, conv).await;
            for i in &acked[c] {
                let body = format!("restart client {c} message {i}");
                assert_eq!(counts.get(&body), Some(&1), "{body:?} acknowledged, stored once");
            }
            for i in (0..PER_CLIENT).filter(|i| !acked[c].contains(i)) {
                let st = post(http.clone(), base.clone(), token.clone(), conv.clone(), c, i)
                    .await
                    .unwrap();
                assert!(st == 201 || st == 200, "retry of {i}: {st}");
            }
            let counts = crate::crash::stored(&http, &base, token, conv).await;
            let mine = counts.keys().filter(|k| k.starts_with("restart client")).count();
            assert_eq!(mine, PER_CLIENT, "client {c}: every message stored");
            assert!(counts.values().all(|&n| n == 1), "client {c}: each exactly once");
        }
        stop(&mut child);
        let status = tokio::task::spawn_blocking(move || wait_exit(&mut child)).await.unwrap();
        assert!(status.success());
    }
}
