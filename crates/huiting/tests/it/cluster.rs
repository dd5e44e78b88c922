//! Scale-out: three `huiting serve` processes on one PostgreSQL, one SIGKILLed mid-load.
//!
//! Customers post through every node (a client whose node is gone retries the same message,
//! with the same Idempotency-Key, on the next one, as a load balancer would); an agent's
//! WebSocket on the node that dies reconnects to another with its cursor; timers enqueued
//! before the load fire on whichever nodes are alive. Afterwards: every acknowledged message is
//! stored exactly once, both sockets saw every one of them, and every timer fired exactly once.
//! PostgreSQL only (SQLite is one process by design).

use std::{
    collections::{HashMap, HashSet},
    process::{Child, Stdio},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use futures::StreamExt;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest};

use crate::cli::{bin, free_port, wait_ready};

const NODES: usize = 3;
const CLIENTS: usize = 6;
const PER_CLIENT: usize = 150;
const PROBES: i64 = 300;
const PASSWORD: &str = "cluster-password-1";

fn node(url: &str, port: u16) -> Child {
    bin()
        .arg("serve")
        .args(["--database-url", url, "--listen", &format!("127.0.0.1:{port}")])
        .env("HUITING__LOG__LEVEL", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// The server processes, killed when the test ends, failed or not.
struct Nodes(Vec<Child>);

impl Drop for Nodes {
    fn drop(&mut self) {
        for n in &mut self.0 {
            let _ = n.kill();
            let _ = n.wait();
        }
    }
}

/// Every `message.created` an agent's socket delivers, by message id, with reconnects: when
/// the socket's node dies it resumes from its cursor on the next node in `bases`.
#[derive(Default)]
struct Seen {
    messages: Mutex<HashMap<String, String>>,
    reconnects: AtomicUsize,
}

async fn watch(bases: Vec<String>, cookie: String, seen: Arc<Seen>, stop: Arc<AtomicBool>) {
    let mut since = 0i64;
    let mut at = 0;
    while !stop.load(Ordering::SeqCst) {
        let url = format!("{}/api/v1/ws?since={since}", bases[at].replace("http://", "ws://"));
        let mut req = url.into_client_request().unwrap();
        req.headers_mut().insert("cookie", cookie.parse().unwrap());
        let Ok((mut ws, _)) = tokio_tungstenite::connect_async(req).await else {
            at = (at + 1) % bases.len();
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        loop {
            let next = tokio::time::timeout(Duration::from_millis(200), ws.next()).await;
            match next {
                Err(_) if stop.load(Ordering::SeqCst) => return,
                Err(_) => {}
                Ok(Some(Ok(Message::Text(t)))) => {
                    let e: Value = serde_json::from_str(&t).unwrap();
                    let Some(seq) = e["seq"].as_i64() else { continue };
                    assert!(seq > since, "events arrive in order, each once ({seq} after {since})");
                    since = seq;
                    if e["type"] == "message.created" {
                        let id = e["message"]["id"].as_str().unwrap().to_string();
                        let body = e["message"]["body"].as_str().unwrap_or_default().to_string();
                        seen.messages.lock().unwrap().insert(id, body);
                    }
                }
                Ok(Some(Ok(_))) => {}
                // The node is gone (or closed the socket): resume elsewhere from the cursor.
                Ok(Some(Err(_)) | None) => {
                    seen.reconnects.fetch_add(1, Ordering::SeqCst);
                    at = (at + 1) % bases.len();
                    break;
                }
            }
        }
    }
}

/// Posts one client's messages, message `i` first to node `(c + i) % NODES`, moving on to the
/// next node when one does not answer. Returns the acknowledged messages: (index, id).
async fn post_all(
    http: reqwest::Client,
    bases: Vec<String>,
    token: String,
    conv: String,
    c: usize,
    acked: Arc<AtomicUsize>,
) -> Vec<(usize, String)> {
    let mut ok = Vec::new();
    for i in 0..PER_CLIENT {
        let mut tries = 0;
        loop {
            let base = &bases[(c + i + tries) % NODES];
            let r = http
                .post(format!("{base}/api/v1/public/conversations/{conv}/messages"))
                .bearer_auth(&token)
                .header("idempotency-key", format!("c{c}-m{i}"))
                .json(&json!({"body": format!("cluster client {c} message {i}")}))
                .timeout(Duration::from_secs(20))
                .send()
                .await;
            match r {
                Ok(r) if r.status().is_success() => {
                    let v: Value = r.json().await.unwrap();
                    let id = v["id"].as_str().or(v["message"]["id"].as_str()).unwrap().to_string();
                    ok.push((i, id));
                    acked.fetch_add(1, Ordering::SeqCst);
                    break;
                }
                Ok(r) if r.status().is_client_error() => {
                    panic!("message {i} of client {c} refused: {}", r.status())
                }
                _ => {
                    tries += 1;
                    assert!(tries < 30, "message {i} of client {c}: no node answers");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    }
    ok
}

/// Opens a widget chat on one node: (visitor token, conversation id).
async fn open_chat(http: &reqwest::Client, base: &str, key: &str, name: &str) -> (String, String) {
    let r: Value = http
        .post(format!("{base}/api/v1/public/conversations"))
        .json(&json!({"public_key": key, "name": name}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    (
        r["visitor_token"].as_str().unwrap().to_string(),
        r["conversation"]["id"].as_str().unwrap().to_string(),
    )
}

async fn stored(http: &reqwest::Client, base: &str, token: &str, conv: &str) -> Vec<String> {
    let mut bodies = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let mut url = format!("{base}/api/v1/public/conversations/{conv}/messages?limit=500");
        if let Some(a) = &after {
            url.push_str(&format!("&after={a}"));
        }
        let page: Vec<Value> =
            http.get(url).bearer_auth(token).send().await.unwrap().json().await.unwrap();
        if page.is_empty() {
            return bodies;
        }
        after = page.last().and_then(|m| m["id"].as_str()).map(str::to_string);
        bodies.extend(
            page.iter()
                .filter(|m| m["sender"] == "customer")
                .map(|m| m["body"].as_str().unwrap().to_string()),
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_one_sigkilled_lose_nothing_and_fire_every_timer_once() {
    let Some(server) = test_support::backends().into_iter().find_map(|b| match b {
        test_support::Backend::Postgres(s) => Some(s),
        test_support::Backend::Sqlite => None,
    }) else {
        eprintln!("skipped: HUITING_TEST_PG is not set (the cluster test needs PostgreSQL)");
        return;
    };
    let url = test_support::fresh_pg_database(&server).await.unwrap();
    let out = bin()
        .arg("create-workspace")
        .args(["--slug", "cluster", "--name", "Cluster Co", "--admin-email", "a@cluster.test"])
        .args(["--database-url", &url])
        .env("HUITING_ADMIN_PASSWORD", PASSWORD)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let key = text.split("public key ").nth(1).unwrap().trim().to_string();

    let ports: Vec<u16> = (0..NODES).map(|_| free_port()).collect();
    let bases: Vec<String> = ports.iter().map(|p| format!("http://127.0.0.1:{p}")).collect();
    let mut nodes = Nodes(ports.iter().map(|&p| node(&url, p)).collect());
    for (b, n) in bases.iter().zip(nodes.0.iter_mut()) {
        wait_ready(b, n).await;
    }
    let http = reqwest::Client::new();

    // The agent logs in on node 0; the session works on every node (no sticky sessions).
    let r = http
        .post(format!("{}/api/v1/auth/login", bases[0]))
        .json(&json!({"workspace": "cluster", "email": "a@cluster.test", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let cookie = r.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();

    // Two sockets: one on node 2 (which will die; it then resumes on node 0), one on node 0.
    let stop = Arc::new(AtomicBool::new(false));
    let victim_seen = Arc::new(Seen::default());
    let steady_seen = Arc::new(Seen::default());
    let victim = tokio::spawn(watch(
        vec![bases[2].clone(), bases[0].clone()],
        cookie.clone(),
        victim_seen.clone(),
        stop.clone(),
    ));
    let steady =
        tokio::spawn(watch(vec![bases[0].clone()], cookie, steady_seen.clone(), stop.clone()));

    // Fan-out across nodes: a chat opened on node 1, nothing else writing, reaches the sockets
    // on nodes 0 and 2 (woken by node 1's notification, not by a write of their own). The
    // first message may arrive in a socket's backlog; the second can only arrive live.
    let (token, conv) = open_chat(&http, &bases[1], &key, "cross-node").await;
    for round in ["first", "second"] {
        let r: Value = http
            .post(format!("{}/api/v1/public/conversations/{conv}/messages", bases[1]))
            .bearer_auth(&token)
            .json(&json!({"body": format!("cross-node {round}")}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = r["id"].as_str().unwrap().to_string();
        let deadline = Instant::now() + Duration::from_secs(20);
        for seen in [&victim_seen, &steady_seen] {
            while !seen.messages.lock().unwrap().contains_key(&id) {
                assert!(
                    Instant::now() < deadline,
                    "{round} message on node 1 never reached a socket"
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }

    // Timers, enqueued straight into the shared database: due over the next 15 s.
    let db = db::Db::connect(&db::DbOptions {
        url: url.clone(),
        max_connections: 2,
        sqlite_synchronous: "normal".into(),
    })
    .await
    .unwrap();
    let app = app::App::new(db.clone(), Arc::new(app::SystemClock), app::Settings::default());
    let ws = app.workspace_by_slug("cluster").await.unwrap();
    let now = domain::Clock::now(&app::SystemClock);
    let probes: Vec<(i64, domain::Timestamp)> =
        (0..PROBES).map(|p| (p, now.plus_millis(1_000 + p * 50))).collect();
    app.enqueue_timer_probes(ws.id, &probes).await.unwrap();

    // Chats opened round-robin over the nodes.
    let mut chats = Vec::new();
    for c in 0..CLIENTS {
        chats.push(open_chat(&http, &bases[c % NODES], &key, &format!("client {c}")).await);
    }

    let acked = Arc::new(AtomicUsize::new(0));
    let posters: Vec<_> = chats
        .iter()
        .cloned()
        .enumerate()
        .map(|(c, (token, conv))| {
            tokio::spawn(post_all(http.clone(), bases.clone(), token, conv, c, acked.clone()))
        })
        .collect();
    while acked.load(Ordering::SeqCst) < CLIENTS * PER_CLIENT * 3 / 10 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    nodes.0[2].kill().unwrap(); // SIGKILL, mid-load
    nodes.0[2].wait().unwrap();
    let acked_at_kill = acked.load(Ordering::SeqCst);
    let mut acked_ids: Vec<Vec<(usize, String)>> = Vec::new();
    for p in posters {
        acked_ids.push(p.await.unwrap());
    }
    assert!(acked_at_kill < CLIENTS * PER_CLIENT, "the kill came before the load ended");
    eprintln!("acknowledged when node 2 was killed: {acked_at_kill} of {}", CLIENTS * PER_CLIENT);

    // Every acknowledged message is stored exactly once.
    for (c, (token, conv)) in chats.iter().enumerate() {
        let bodies = stored(&http, &bases[1], token, conv).await;
        let distinct: HashSet<&String> = bodies.iter().collect();
        assert_eq!(distinct.len(), bodies.len(), "client {c}: no message stored twice");
        assert_eq!(bodies.len(), PER_CLIENT, "client {c}: every acknowledged message stored");
    }

    // Both sockets saw every message, the victim's after resuming on another node.
    let all: HashSet<String> = acked_ids.iter().flatten().map(|(_, id)| id.clone()).collect();
    let deadline = Instant::now() + Duration::from_secs(60);
    for (name, seen) in [("node-2 socket", &victim_seen), ("node-0 socket", &steady_seen)] {
        loop {
            let missing =
                all.iter().filter(|id| !seen.messages.lock().unwrap().contains_key(*id)).count();
            if missing == 0 {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{name}: {missing} acknowledged messages never seen"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    assert!(victim_seen.reconnects.load(Ordering::SeqCst) >= 1, "the victim's socket reconnected");

    // Every timer fired exactly once, on the nodes that were alive.
    let deadline = Instant::now() + Duration::from_secs(180);
    let firings = loop {
        let mut c = db.read().await.unwrap();
        let f = db::sla::probe_firings(&mut c).await.unwrap();
        let fired: HashSet<i64> = f.iter().map(|r| r.0).collect();
        if fired.len() as i64 == PROBES {
            break f;
        }
        assert!(
            Instant::now() < deadline,
            "only {} of {PROBES} timers fired within 180 s",
            fired.len()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let mut per_probe: HashMap<i64, usize> = HashMap::new();
    for f in &firings {
        *per_probe.entry(f.0).or_default() += 1;
    }
    assert!(per_probe.values().all(|&n| n == 1), "a timer fired twice: {per_probe:?}");
    let workers: HashSet<&String> = firings.iter().map(|f| &f.3).collect();
    eprintln!("timers fired by {} workers", workers.len());

    stop.store(true, Ordering::SeqCst);
    victim.await.unwrap();
    steady.await.unwrap();
    drop(nodes);
    db.close().await;
}
