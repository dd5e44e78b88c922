//! The binary as an operator uses it: the demo, `audit verify` catching a row edited behind
//! the application's back, `default-config`, and clear errors.

use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use serde_json::json;
use sqlx::Connection;

/// The binary, with the public rate limits off: load tests post from one loopback address far
/// faster than any one visitor (the limits have their own tests in `security`).
pub fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_huiting"));
    c.env("HUITING__AUTH__PUBLIC_REQUESTS_PER_MINUTE", "0")
        .env("HUITING__AUTH__VISITOR_MESSAGES_PER_MINUTE", "0");
    c
}

/// A free loopback port.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Waits until `GET /readyz` answers 200.
pub async fn wait_ready(base: &str, child: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(180);
    let http = reqwest::Client::new();
    while Instant::now() < deadline {
        if let Ok(r) = http.get(format!("{base}/readyz")).send().await
            && r.status().is_success()
        {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("server exited early: {status}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("server at {base} not ready within 180 s");
}

#[test]
fn default_config_prints_every_key() {
    let out = bin().arg("default-config").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("[database]") && text.contains("sqlite_synchronous = \"normal\""));
}

#[test]
fn bad_config_is_named() {
    let out = bin().args(["migrate"]).env("HUITING__LOG__FORMAT", "xml").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("log.format"), "{err}");
    let out = bin().args(["migrate", "--database-url", "mysql://x"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8(out.stderr).unwrap().contains("unsupported database URL"));
}

/// `huiting demo` from an empty data dir: seeds, serves, an agent lists tickets with the
/// printed login; the data verifies; a row edited with SQL is caught; a second start reuses
/// the data.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_serves_and_audit_verify_catches_tampering() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut child = bin()
        .args([
            "demo",
            "--data-dir",
            dir.path().to_str().unwrap(),
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_ready(&base, &mut child).await;
    let stdout = child.stdout.take().unwrap();
    let mut lines = Vec::new();
    let mut reader = BufReader::new(stdout);
    let mut line = String::new();
    while reader.read_line(&mut line).unwrap() > 0 {
        lines.push(line.clone());
        if line.contains("curl -s -b jar") {
            break;
        }
        line.clear();
    }
    let banner = lines.concat();
    assert!(banner.contains(&base), "{banner}");
    let agent_line = lines
        .iter()
        .find(|l| l.trim_start().starts_with("agent "))
        .expect("an agent login is printed");
    let parts: Vec<&str> = agent_line.split_whitespace().collect();
    let (email, password) = (parts[1], parts[2]);

    let http = reqwest::Client::new();
    let login = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"workspace": "demo", "email": email, "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    let cookie = login
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let tickets: serde_json::Value = http
        .get(format!("{base}/api/v1/tickets?limit=100"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(tickets["items"].as_array().unwrap().len() >= 50, "the demo has a month of tickets");
    let customers: serde_json::Value = http
        .get(format!("{base}/api/v1/customers?tier=vip"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(!customers["items"].as_array().unwrap().is_empty(), "some customers are VIP");
    // Agent assist on the demo's unsolved cases offers similar solved tickets (TK-9).
    let mut with_similar = 0;
    for tk in tickets["items"].as_array().unwrap() {
        if matches!(tk["status"].as_str(), Some("solved" | "closed")) {
            continue;
        }
        let conv = tk["conversation_id"].as_str().unwrap();
        let sug: serde_json::Value = http
            .get(format!("{base}/api/v1/conversations/{conv}/suggestions"))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let sim = sug["similar_tickets"].as_array().unwrap();
        if !sim.is_empty() {
            assert!(!sim[0]["reply"]["text"].as_str().unwrap().is_empty(), "{sug}");
            with_similar += 1;
        }
    }
    assert!(with_similar >= 3, "similar solved tickets for {with_similar} open demo cases");
    child.kill().unwrap();
    child.wait().unwrap();

    let verify = bin()
        .args(["audit", "verify", "--data-dir", dir.path().to_str().unwrap()])
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&verify.stdout);
    assert!(verify.status.success(), "{out}");
    assert!(out.contains("demo: ok"), "{out}");

    // Edit one entry's recorded state directly in the database.
    let url = format!("sqlite://{}", dir.path().join("huiting.db").display());
    let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
    // The first L3 ticket; an L4 one may come before it, depending on the day the demo runs.
    let seq: i64 = sqlx::query_scalar(
        "SELECT MIN(seq) FROM audit_log WHERE action = 'ticket.create' AND after_state LIKE '%\"L3\"%'",
    )
    .fetch_one(&mut c)
    .await
    .unwrap();
    sqlx::query("UPDATE audit_log SET after_state = replace(after_state, '\"L3\"', '\"L4\"') WHERE seq = $1")
        .bind(seq)
        .execute(&mut c)
        .await
        .unwrap();
    c.close().await.unwrap();
    let verify = bin()
        .args(["audit", "verify", "--data-dir", dir.path().to_str().unwrap()])
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&verify.stdout);
    assert_eq!(verify.status.code(), Some(1), "{out}");
    assert!(out.contains(&format!("entry {seq} does not match")), "{out}");

    // A second run reuses the data instead of seeding again.
    let mut child = bin()
        .args([
            "demo",
            "--data-dir",
            dir.path().to_str().unwrap(),
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_ready(&base, &mut child).await;
    let login = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"workspace": "demo", "email": email, "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    child.kill().unwrap();
    child.wait().unwrap();
}

/// On PostgreSQL: `audit verify` passes, then catches a deleted entry.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_verify_on_postgres_catches_deletion() {
    let Some(test_support::Backend::Postgres(server)) = test_support::backends().into_iter().nth(1)
    else {
        eprintln!("HUITING_TEST_PG not set: PostgreSQL part skipped");
        return;
    };
    let url = test_support::fresh_pg_database(&server).await.unwrap();
    let out = bin()
        .args([
            "create-workspace",
            "--slug",
            "pgco",
            "--name",
            "PG Co",
            "--admin-email",
            "a@pg.test",
            "--database-url",
            &url,
        ])
        .env("HUITING_ADMIN_PASSWORD", "pg-password-123")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let ok = bin().args(["audit", "verify", "--database-url", &url]).output().unwrap();
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stdout));
    let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
    sqlx::query("DELETE FROM audit_log WHERE seq = 2").execute(&mut c).await.unwrap();
    let bad = bin().args(["audit", "verify", "--database-url", &url]).output().unwrap();
    let out = String::from_utf8_lossy(&bad.stdout);
    assert_eq!(bad.status.code(), Some(1), "{out}");
    assert!(out.contains("entries 2 to 2 are missing"), "{out}");
}
