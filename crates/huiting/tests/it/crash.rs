//! Durability: SIGKILL the server during a burst of 10,000 message posts from 8 clients. After
//! a restart, every message whose POST returned 2xx is stored exactly once, and retrying the
//! rest with the same Idempotency-Key stores each of them exactly once too.

use std::{
    collections::HashMap,
    process::{Child, Stdio},
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
};

use serde_json::{Value, json};

use crate::cli::{bin, free_port, wait_ready};

const CLIENTS: usize = 8;
const PER_CLIENT: usize = 1250;

struct Target {
    args: Vec<String>,
    _dir: Option<tempfile::TempDir>,
}

fn serve(t: &Target, port: u16) -> Child {
    bin()
        .arg("serve")
        .args(&t.args)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

async fn post_all(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    conv: &str,
    c: usize,
    which: &[usize],
    acked: Option<&AtomicUsize>,
) -> Vec<usize> {
    let mut ok = Vec::new();
    for &i in which {
        let r = http
            .post(format!("{base}/api/v1/public/conversations/{conv}/messages"))
            .bearer_auth(token)
            .header("idempotency-key", format!("c{c}-m{i}"))
            .json(&json!({"body": format!("crash test client {c} message {i}")}))
            .send()
            .await;
        match r {
            Ok(r) if r.status().is_success() => {
                ok.push(i);
                if let Some(a) = acked {
                    a.fetch_add(1, Ordering::SeqCst);
                }
            }
            // The server is gone: this client stops here.
            _ => break,
        }
    }
    ok
}

pub async fn stored(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    conv: &str,
) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    let mut after: Option<String> = None;
    loop {
        let mut url = format!("{base}/api/v1/public/conversations/{conv}/messages?limit=500");
        if let Some(a) = &after {
            url.push_str(&format!("&after={a}"));
        }
        let page: Vec<Value> =
            http.get(url).bearer_auth(token).send().await.unwrap().json().await.unwrap();
        if page.is_empty() {
            return counts;
        }
        after = page.last().and_then(|m| m["id"].as_str()).map(str::to_string);
        // The customer's own messages; the bot's replies are not part of the count.
        for m in page.iter().filter(|m| m["sender"] == "customer") {
            *counts.entry(m["body"].as_str().unwrap().to_string()).or_default() += 1;
        }
    }
}

async fn crash_once(t: Target) {
    let out = bin()
        .arg("create-workspace")
        .args(["--slug", "crash", "--name", "Crash Co", "--admin-email", "a@crash.test"])
        .args(&t.args)
        .env("HUITING_ADMIN_PASSWORD", "crash-password-1")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let key = text.split("public key ").nth(1).unwrap().trim().to_string();

    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut child = serve(&t, port);
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
        chats.push((
            r["visitor_token"].as_str().unwrap().to_string(),
            r["conversation"]["id"].as_str().unwrap().to_string(),
        ));
    }

    let acked = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for (c, (token, conv)) in chats.iter().cloned().enumerate() {
        let (http, base, acked) = (http.clone(), base.clone(), acked.clone());
        tasks.push(tokio::spawn(async move {
            let all: Vec<usize> = (0..PER_CLIENT).collect();
            post_all(&http, &base, &token, &conv, c, &all, Some(&acked)).await
        }));
    }
    // Kill mid-burst: after a good share has been acknowledged, with many requests in flight.
    while acked.load(Ordering::SeqCst) < CLIENTS * PER_CLIENT * 3 / 10 {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let mut acked_by_client = Vec::new();
    for task in tasks {
        acked_by_client.push(task.await.unwrap());
    }
    let total: usize = acked_by_client.iter().map(Vec::len).sum();
    assert!(total < CLIENTS * PER_CLIENT, "the kill came before the burst ended");
    eprintln!("acknowledged before SIGKILL: {total}");

    let mut child = serve(&t, port);
    wait_ready(&base, &mut child).await;
    for (c, (token, conv)) in chats.iter().enumerate() {
        let counts = stored(&http, &base, token, conv).await;
        for i in &acked_by_client[c] {
            let body = format!("crash test client {c} message {i}");
            assert_eq!(
                counts.get(&body),
                Some(&1),
                "acknowledged message {body:?} must be stored exactly once"
            );
        }
        assert!(counts.values().all(|&n| n == 1), "no message is stored twice");
        // Retry everything that was not acknowledged, with the same keys.
        let rest: Vec<usize> =
            (0..PER_CLIENT).filter(|i| !acked_by_client[c].contains(i)).collect();
        let ok = post_all(&http, &base, token, conv, c, &rest, None).await;
        assert_eq!(ok.len(), rest.len());
        let counts = stored(&http, &base, token, conv).await;
        assert_eq!(counts.len(), PER_CLIENT, "client {c}: every message stored");
        assert!(counts.values().all(|&n| n == 1), "client {c}: each exactly once");
    }
    child.kill().unwrap();
    child.wait().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_a_burst_loses_and_duplicates_nothing() {
    for backend in test_support::backends() {
        eprintln!("-- crash test on {backend:?}");
        let t = match backend {
            test_support::Backend::Sqlite => {
                let dir = tempfile::tempdir().unwrap();
                Target {
                    args: vec!["--data-dir".into(), dir.path().to_str().unwrap().into()],
                    _dir: Some(dir),
                }
            }
            test_support::Backend::Postgres(server) => {
                let url = test_support::fresh_pg_database(&server).await.unwrap();
                Target { args: vec!["--database-url".into(), url], _dir: None }
            }
        };
        crash_once(t).await;
    }
}
