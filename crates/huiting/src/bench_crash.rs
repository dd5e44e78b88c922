//! `huiting bench crash`: crash consistency under write load, cycle after cycle.
//!
//! One `huiting serve` child (this binary) takes messages from N widget clients, each posting
//! to its own conversation with an Idempotency-Key per message. At a random moment the server
//! is SIGKILLed and restarted; then every message acknowledged (2xx) before the kill must be
//! stored exactly once, the one each client had in flight is retried with its key and must be
//! stored exactly once too, no message may ever appear twice, and the audit chain must verify
//! (`huiting audit verify`, in-process on the same database). Bounded by `--cycles` and
//! `--max-minutes`; prints progress and a Markdown row for `docs/benchmarks.md`.

use std::{
    collections::HashSet,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::Context;
use clap::Args;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

use crate::{
    bench::{ChildServer, TempDir},
    config::Config,
};

#[derive(Debug, Args)]
pub struct CrashArgs {
    /// Kill-and-restart cycles.
    #[arg(long, default_value_t = 1000)]
    cycles: usize,
    /// Concurrent writers, each posting to its own conversation.
    #[arg(long, default_value_t = 4)]
    clients: usize,
    /// Load before each kill, counted from the cycle's first acknowledged write: a random time
    /// between 20 ms and this.
    #[arg(long, default_value_t = 400)]
    max_load_ms: u64,
    /// Stop after this many minutes even if cycles remain (reported).
    #[arg(long, default_value_t = 60)]
    max_minutes: u64,
    /// Seed for the kill moments.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Print how each writer's last request of a cycle failed.
    #[arg(long)]
    verbose: bool,
}

/// One writer: its conversation, the next message index, and what the checks have read.
struct Writer {
    token: String,
    conv: String,
    next: usize,
    /// The last message id already checked: each check reads only what came after.
    after: Option<String>,
}

/// What one writer did during one cycle's load.
struct Load {
    acked: Vec<usize>,
    /// The message that was in flight when the server died, if any.
    in_flight: Option<usize>,
}

async fn post(
    http: &reqwest::Client,
    base: &str,
    w: &Writer,
    c: usize,
    i: usize,
) -> reqwest::Result<reqwest::Response> {
    http.post(format!("{base}/api/v1/public/conversations/{}/messages", w.conv))
        .bearer_auth(&w.token)
        .header("idempotency-key", format!("w{c}-m{i}"))
        .json(&json!({"body": body(c, i)}))
        .send()
        .await
}

fn body(c: usize, i: usize) -> String {
    format!("crash bench writer {c} message {i}")
}

/// Posts until the server stops answering.
async fn load(
    http: reqwest::Client,
    base: String,
    w: Writer,
    c: usize,
    verbose: bool,
    any_acked: Arc<AtomicUsize>,
) -> (Writer, Load) {
    let mut w = w;
    let mut acked = Vec::new();
    loop {
        let i = w.next;
        match post(&http, &base, &w, c, i).await {
            Ok(r) if r.status().is_success() => {
                any_acked.fetch_add(1, Ordering::SeqCst);
                acked.push(i);
                w.next += 1;
            }
            other => {
                if verbose {
                    eprintln!("writer {c} message {i}: {other:?}");
                }
                return (w, Load { acked, in_flight: Some(i) });
            }
        }
    }
}

/// The customer messages of a writer's conversation after its last check, in order.
async fn new_bodies(
    http: &reqwest::Client,
    base: &str,
    w: &mut Writer,
) -> anyhow::Result<Vec<String>> {
    let mut bodies = Vec::new();
    loop {
        let mut url = format!("{base}/api/v1/public/conversations/{}/messages?limit=500", w.conv);
        if let Some(a) = &w.after {
            url.push_str(&format!("&after={a}"));
        }
        let page: Vec<Value> =
            http.get(url).bearer_auth(&w.token).send().await?.error_for_status()?.json().await?;
        let Some(last) = page.last() else { return Ok(bodies) };
        w.after = last["id"].as_str().map(str::to_string);
        bodies.extend(
            page.iter()
                .filter(|m| m["sender"] == "customer")
                .filter_map(|m| m["body"].as_str().map(str::to_string)),
        );
    }
}

#[derive(Default)]
struct Tally {
    cycles: usize,
    acked: usize,
    retried: usize,
    missing: usize,
    duplicated: usize,
    audit_broken: usize,
    cycle_ms: Vec<u64>,
}

#[allow(clippy::print_stdout)] // The report is the command's output.
pub async fn crash(a: CrashArgs, config: &Config) -> anyhow::Result<()> {
    anyhow::ensure!((1..=100_000).contains(&a.cycles), "--cycles must be 1 to 100000");
    anyhow::ensure!((1..=64).contains(&a.clients), "--clients must be 1 to 64");
    anyhow::ensure!(a.max_load_ms >= 20, "--max-load-ms must be at least 20");
    let mut config = config.clone();
    let mut _dir = None;
    let db_args = if config.database.url.is_empty() {
        let d = std::env::temp_dir().join(format!("huiting-crash-{}", std::process::id()));
        std::fs::create_dir_all(&d)?;
        config.storage.data_dir = d.clone();
        _dir = Some(TempDir(d.clone()));
        vec!["--data-dir".to_string(), d.display().to_string()]
    } else {
        vec!["--database-url".to_string(), config.database.url.clone()]
    };
    let db = crate::connect(&config).await?;
    let dialect = db.dialect();
    // This process creates the workspace, then only reads (the checks and audit verify).
    let app = app::App::new(db.clone(), Arc::new(app::SystemClock), config.app_settings());
    let slug = format!("crash-{}", rand::random::<u32>());
    let (ws, _) = app
        .create_workspace(app::admin::NewWorkspace {
            slug: slug.clone(),
            name: "Crash".into(),
            ticket_prefix: "CR".into(),
            admin_email: domain::Email::parse("bench@example.com")?,
            admin_name: "Bench".into(),
            admin_password: "bench-password-123".into(),
        })
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;

    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let exe = std::env::current_exe().context("finding this executable")?;
    let mut server = ChildServer { exe, db_args, port, child: None };
    server.start().await?;
    let base = server.base();
    let client = || reqwest::Client::builder().timeout(Duration::from_secs(30)).build();
    let mut http = client()?;
    let mut writers = Vec::new();
    for c in 0..a.clients {
        let r: Value = http
            .post(format!("{base}/api/v1/public/conversations"))
            .json(&json!({"public_key": ws.public_key, "name": format!("writer {c}")}))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        writers.push(Writer {
            token: r["visitor_token"].as_str().context("visitor token")?.to_string(),
            conv: r["conversation"]["id"].as_str().context("conversation id")?.to_string(),
            next: 0,
            after: None,
        });
    }

    let mut rng = rand::rngs::StdRng::seed_from_u64(a.seed);
    let mut seen: Vec<HashSet<String>> = vec![HashSet::new(); a.clients];
    let mut t = Tally::default();
    let started = Instant::now();
    let budget = Duration::from_secs(a.max_minutes * 60);
    eprintln!(
        "{dialect:?}: {} cycles, {} writers, kills within 20–{} ms of load",
        a.cycles, a.clients, a.max_load_ms
    );
    while t.cycles < a.cycles && started.elapsed() < budget {
        let cycle = Instant::now();
        // Load, then SIGKILL at a random moment once writes are being acknowledged (a freshly
        // started server's first replies can take longer than the whole window).
        let any_acked = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = std::mem::take(&mut writers)
            .into_iter()
            .enumerate()
            .map(|(c, w)| {
                tokio::spawn(load(http.clone(), base.clone(), w, c, a.verbose, any_acked.clone()))
            })
            .collect();
        let warm = Instant::now() + Duration::from_secs(30);
        while any_acked.load(Ordering::SeqCst) == 0 && Instant::now() < warm {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        tokio::time::sleep(Duration::from_millis(rng.random_range(20..=a.max_load_ms))).await;
        server.kill()?;
        let mut loads = Vec::new();
        for task in tasks {
            let (w, l) = task.await?;
            writers.push(w);
            loads.push(l);
        }
        server.start().await?;
        // A fresh client: the old one's pooled connections died with the server.
        http = client()?;

        // Retry what was in flight, with the same key: stored once whether or not it had been.
        for (c, l) in loads.iter().enumerate() {
            if let Some(i) = l.in_flight {
                let r = post(&http, &base, &writers[c], c, i).await?;
                anyhow::ensure!(r.status().is_success(), "retrying message {i}: {}", r.status());
                writers[c].next = i + 1;
                t.retried += 1;
            }
        }
        // Every message of this cycle stored exactly once, none ever twice.
        for (c, l) in loads.iter().enumerate() {
            let bodies = new_bodies(&http, &base, &mut writers[c]).await?;
            for b in bodies {
                if !seen[c].insert(b) {
                    t.duplicated += 1;
                }
            }
            let expected = l.acked.iter().chain(l.in_flight.iter());
            t.missing += expected.filter(|i| !seen[c].contains(&body(c, **i))).count();
            t.acked += l.acked.len();
        }
        let verdicts = app.verify_all_audit(|_, _| {}).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        t.audit_broken += verdicts.iter().filter(|v| v.broken.is_some()).count();
        t.cycles += 1;
        t.cycle_ms.push(cycle.elapsed().as_millis() as u64);
        if t.cycles % 10 == 0 || t.cycles == a.cycles {
            eprintln!(
                "cycle {}/{}: {} acknowledged, {} retried, {} missing, {} duplicated, {} audit failures ({:.0} s)",
                t.cycles,
                a.cycles,
                t.acked,
                t.retried,
                t.missing,
                t.duplicated,
                t.audit_broken,
                started.elapsed().as_secs_f64()
            );
        }
        if t.missing + t.duplicated + t.audit_broken > 0 {
            break;
        }
    }
    drop(server);
    t.cycle_ms.sort_unstable();
    let median = t.cycle_ms.get(t.cycle_ms.len() / 2).copied().unwrap_or(0);
    println!(
        "| backend | cycles | writers | acknowledged | retried in flight | missing | duplicated | audit verify failures | median cycle (ms) | total (s) |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    println!(
        "| {dialect:?} | {}{} | {} | {} | {} | {} | {} | {} | {median} | {:.0} |",
        t.cycles,
        if t.cycles < a.cycles { format!(" of {} (time limit)", a.cycles) } else { String::new() },
        a.clients,
        t.acked,
        t.retried,
        t.missing,
        t.duplicated,
        t.audit_broken,
        started.elapsed().as_secs_f64()
    );
    anyhow::ensure!(
        t.missing + t.duplicated + t.audit_broken == 0,
        "crash consistency violated: {} missing, {} duplicated, {} audit failures",
        t.missing,
        t.duplicated,
        t.audit_broken
    );
    Ok(())
}
