//! `huiting bench ws`: many concurrent chat sessions on one server.
//!
//! A `huiting serve` child (this binary, its own process so its memory can be read) on a fresh
//! database; N widget chats opened through the public API, each with its customer's WebSocket
//! (`/api/v1/public/ws`) held open, plus one agent's socket (`/api/v1/ws`) seeing everything.
//! The server's resident memory is read before and after the sockets open (memory per idle
//! session). Then customers post messages at a fixed total rate for a fixed time, each to its
//! own chat, and the delivery time — from just before the POST to the `message.created` frame on
//! the customer's own socket and on the agent's — is recorded. Loopback only; bounded by
//! `--sessions`, `--rate` and `--seconds`.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::Context;
use clap::Args;
use futures::{SinkExt, StreamExt, stream};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest};

use crate::{
    bench::{ChildServer, TempDir, percentile},
    config::Config,
};

#[derive(Debug, Args)]
pub struct WsArgs {
    /// Concurrent chat sessions, each with its customer's WebSocket open.
    #[arg(long, default_value_t = 10_000)]
    sessions: usize,
    /// Messages per second, in total, posted by the customers.
    #[arg(long, default_value_t = 1_000)]
    rate: u32,
    /// Seconds of load.
    #[arg(long, default_value_t = 30)]
    seconds: u64,
}

/// Send times by message body, and the delivery times seen so far.
#[derive(Default)]
struct Deliveries {
    sent: Mutex<HashMap<String, Instant>>,
    customer: Mutex<Vec<Duration>>,
    agent: Mutex<Vec<Duration>>,
}

impl Deliveries {
    fn record(&self, body: &str, to: &Mutex<Vec<Duration>>) {
        let at = self.sent.lock().unwrap_or_else(|e| e.into_inner()).get(body).copied();
        if let Some(at) = at {
            to.lock().unwrap_or_else(|e| e.into_inner()).push(at.elapsed());
        }
    }
}

/// Reads one socket until it closes, recording each benchmark message's arrival.
async fn read<S>(mut socket: S, d: Arc<Deliveries>, agent: bool)
where
    S: futures::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    while let Some(Ok(m)) = socket.next().await {
        let Message::Text(text) = m else { continue };
        if !text.contains("\"message.created\"") {
            continue;
        }
        let Ok(e) = serde_json::from_str::<Value>(&text) else { continue };
        if let Some(body) = e["message"]["body"].as_str()
            && body.starts_with("ws-bench ")
        {
            d.record(body, if agent { &d.agent } else { &d.customer });
        }
    }
}

/// Resident memory of a process, in bytes (Linux `/proc`).
fn rss(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("reading /proc/{pid}/status"))?;
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .context("no VmRSS")?;
    Ok(kb * 1024)
}

#[allow(clippy::print_stdout)] // The report is the command's output.
pub async fn ws(a: WsArgs, config: &Config) -> anyhow::Result<()> {
    anyhow::ensure!((1..=20_000).contains(&a.sessions), "--sessions must be 1 to 20000");
    anyhow::ensure!((1..=20_000).contains(&a.rate), "--rate must be 1 to 20000");
    anyhow::ensure!((1..=600).contains(&a.seconds), "--seconds must be 1 to 600");
    let mut config = config.clone();
    let mut _dir = None;
    let db_args = if config.database.url.is_empty() {
        let d = std::env::temp_dir().join(format!("huiting-ws-{}", std::process::id()));
        std::fs::create_dir_all(&d)?;
        config.storage.data_dir = d.clone();
        _dir = Some(TempDir(d.clone()));
        vec!["--data-dir".to_string(), d.display().to_string()]
    } else {
        vec!["--database-url".to_string(), config.database.url.clone()]
    };
    let db = crate::connect(&config).await?;
    let dialect = db.dialect();
    let app = app::App::new(db.clone(), Arc::new(app::SystemClock), config.app_settings());
    let slug = format!("ws-{}", rand::random::<u32>());
    let (ws, _) = app
        .create_workspace(app::admin::NewWorkspace {
            slug: slug.clone(),
            name: "WS".into(),
            ticket_prefix: "WS".into(),
            admin_email: domain::Email::parse("bench@example.com")?,
            admin_name: "Bench".into(),
            admin_password: "bench-password-123".into(),
        })
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    db.close().await;

    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let exe = std::env::current_exe().context("finding this executable")?;
    let mut server = ChildServer { exe, db_args, port, child: None };
    server.start().await?;
    let pid = server.child.as_ref().context("server")?.id();
    let base = server.base();
    let ws_base = base.replace("http://", "ws://");
    crate::bench::bot_off(&base, &slug).await?;
    let http = reqwest::Client::new();

    // Open the chats.
    let t = Instant::now();
    let opened = AtomicUsize::new(0);
    let chats: Vec<(String, String)> = stream::iter(0..a.sessions)
        .map(|i| {
            let (http, base, key, opened) = (&http, &base, &ws.public_key, &opened);
            async move {
                let r: Value = http
                    .post(format!("{base}/api/v1/public/conversations"))
                    .json(&json!({"public_key": key, "name": format!("访客 {i}")}))
                    .send()
                    .await?
                    .error_for_status()?
                    .json()
                    .await?;
                let n = opened.fetch_add(1, Ordering::Relaxed) + 1;
                if n % 1000 == 0 {
                    eprintln!("{n} chats opened");
                }
                anyhow::Ok((
                    r["visitor_token"].as_str().context("visitor token")?.to_string(),
                    r["conversation"]["id"].as_str().context("conversation id")?.to_string(),
                ))
            }
        })
        .buffer_unordered(16)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<anyhow::Result<_>>()?;
    eprintln!("{} chats opened in {:.1} s", chats.len(), t.elapsed().as_secs_f64());

    // The agent's socket, then every customer's.
    let d = Arc::new(Deliveries::default());
    let (cookie, _) = crate::bench::login(&http, &base, &slug).await?;
    let mut req = format!("{ws_base}/api/v1/ws").into_client_request()?;
    req.headers_mut().insert("cookie", cookie.parse()?);
    let (agent, _) = tokio_tungstenite::connect_async(req).await.context("agent socket")?;
    let (_agent_tx, agent_rx) = agent.split();
    tokio::spawn(read(agent_rx, d.clone(), true));
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_before = rss(pid)?;
    let t = Instant::now();
    let connected = AtomicUsize::new(0);
    let sockets: Vec<_> = stream::iter(chats.iter())
        .map(|(token, _)| {
            let (ws_base, connected) = (&ws_base, &connected);
            async move {
                let url = format!("{ws_base}/api/v1/public/ws?token={token}");
                let (s, _) = tokio_tungstenite::connect_async(url).await?;
                let n = connected.fetch_add(1, Ordering::Relaxed) + 1;
                if n % 1000 == 0 {
                    eprintln!("{n} sockets open");
                }
                anyhow::Ok(s)
            }
        })
        .buffer_unordered(32)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<anyhow::Result<_>>()?;
    eprintln!("{} sockets open in {:.1} s", sockets.len(), t.elapsed().as_secs_f64());
    // Keep the write halves (closing them would close the sockets); read the rest.
    let mut writers = Vec::with_capacity(sockets.len());
    for s in sockets {
        let (tx, rx) = s.split();
        writers.push(tx);
        tokio::spawn(read(rx, d.clone(), false));
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_after = rss(pid)?;
    let per_session = rss_after.saturating_sub(rss_before) as f64 / a.sessions as f64;
    eprintln!(
        "server memory: {:.1} MiB before the sockets, {:.1} MiB with {} idle sessions ({:.1} KiB each)",
        rss_before as f64 / 1048576.0,
        rss_after as f64 / 1048576.0,
        a.sessions,
        per_session / 1024.0
    );

    // Warm-up, unmeasured: the first messages load the language engine's models.
    for (i, (token, conv)) in chats.iter().take(20).enumerate() {
        http.post(format!("{base}/api/v1/public/conversations/{conv}/messages"))
            .bearer_auth(token)
            .json(&json!({"body": format!("warm-up {i}")}))
            .send()
            .await?
            .error_for_status()?;
    }

    // Load: customers post at the fixed total rate, each message to a random chat.
    let total = a.rate as usize * a.seconds as usize;
    let interval = Duration::from_secs_f64(1.0 / f64::from(a.rate));
    let failed = Arc::new(AtomicUsize::new(0));
    let posted = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(total);
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    for i in 0..total {
        tick.tick().await;
        let (token, conv) = chats[rand::random_range(0..chats.len())].clone();
        let (http, base, d, failed, posted) =
            (http.clone(), base.clone(), d.clone(), failed.clone(), posted.clone());
        tasks.push(tokio::spawn(async move {
            let body = format!("ws-bench {i}");
            d.sent.lock().unwrap_or_else(|e| e.into_inner()).insert(body.clone(), Instant::now());
            let r = http
                .post(format!("{base}/api/v1/public/conversations/{conv}/messages"))
                .bearer_auth(token)
                .json(&json!({"body": body}))
                .send()
                .await;
            match r {
                Ok(r) if r.status().is_success() => drop(posted.fetch_add(1, Ordering::Relaxed)),
                _ => drop(failed.fetch_add(1, Ordering::Relaxed)),
            }
        }));
    }
    for t in tasks {
        t.await?;
    }
    let offered_s = start.elapsed().as_secs_f64();
    // Let the last deliveries arrive.
    let settle = Instant::now() + Duration::from_secs(10);
    let posted = posted.load(Ordering::Relaxed);
    while Instant::now() < settle {
        let (c, g) =
            (d.customer.lock().map_or(0, |v| v.len()), d.agent.lock().map_or(0, |v| v.len()));
        if c >= posted && g >= posted {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for mut w in writers {
        drop(w.close().await);
    }
    drop(server);

    let ms = |x: Duration| x.as_secs_f64() * 1000.0;
    println!(
        "| backend | sessions | rate offered (msg/s) | posted | failed | to | delivered | p50 (ms) | p95 (ms) | p99 (ms) | max (ms) | server RSS idle (MiB) | per idle session (KiB) |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for (who, v) in [("customer", &d.customer), ("agent", &d.agent)] {
        let mut v = v.lock().unwrap_or_else(|e| e.into_inner()).clone();
        v.sort();
        println!(
            "| {dialect:?} | {} | {:.0} | {posted} | {} | {who} | {} | {:.2} | {:.2} | {:.2} | {:.2} | {:.1} | {:.1} |",
            a.sessions,
            total as f64 / offered_s,
            failed.load(Ordering::Relaxed),
            v.len(),
            ms(percentile(&v, 0.5)),
            ms(percentile(&v, 0.95)),
            ms(percentile(&v, 0.99)),
            ms(v.last().copied().unwrap_or_default()),
            rss_after as f64 / 1048576.0,
            per_session / 1024.0
        );
    }
    Ok(())
}
