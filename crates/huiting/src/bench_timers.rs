//! `huiting bench timers`: durable timers under load. Enqueues N `TimerProbe` jobs with due
//! times spread evenly over a window, starts one or more `huiting serve` processes on the same
//! database (this binary, as child processes), optionally SIGKILLs one part-way and restarts
//! it, then reads the firing log: each firing is a row written in the transaction that
//! completes its job, so a missing probe has no row and a duplicated one has two.

use std::{
    path::PathBuf,
    process::{Child, Command, Stdio},
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::Context;
use clap::Args;
use domain::{Clock as _, Timestamp};

use crate::{bench::TempDir, config::Config};

#[derive(Debug, Args)]
pub struct TimersArgs {
    /// Timers to enqueue.
    #[arg(long, default_value_t = 100_000)]
    timers: usize,
    /// Seconds over which the due times are spread.
    #[arg(long, default_value_t = 300)]
    window_seconds: u64,
    /// Seconds from the start to the first due time: enqueueing and starting the servers must
    /// fit into it.
    #[arg(long, default_value_t = 120)]
    lead_seconds: u64,
    /// `huiting serve` processes sharing the work (use 1 with SQLite).
    #[arg(long, default_value_t = 1)]
    servers: usize,
    /// SIGKILL the first server this many seconds into the window, then restart it.
    #[arg(long)]
    kill_after_seconds: Option<u64>,
    /// Seconds between the kill and the restart.
    #[arg(long, default_value_t = 1)]
    restart_after_seconds: u64,
}

struct Servers {
    exe: PathBuf,
    db_args: Vec<String>,
    children: Vec<Child>,
}

impl Servers {
    fn spawn(&self, i: usize) -> anyhow::Result<Child> {
        Command::new(&self.exe)
            .arg("serve")
            .args(&self.db_args)
            .args(["--listen", "127.0.0.1:0"])
            .env("HUITING__LOG__LEVEL", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("starting server {i}"))
    }
}

impl Drop for Servers {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

#[allow(clippy::print_stdout)] // The report is the command's output.
pub async fn timers(a: TimersArgs, config: &Config) -> anyhow::Result<()> {
    anyhow::ensure!((1..=1_000_000).contains(&a.timers), "--timers must be 1 to 1000000");
    anyhow::ensure!((1..=8).contains(&a.servers), "--servers must be 1 to 8");
    anyhow::ensure!(a.window_seconds >= 1, "--window-seconds must be at least 1");
    let mut config = config.clone();
    let mut _dir = None;
    let db_args = if config.database.url.is_empty() {
        let d = std::env::temp_dir().join(format!("huiting-timers-{}", std::process::id()));
        std::fs::create_dir_all(&d)?;
        config.storage.data_dir = d.clone();
        _dir = Some(TempDir(d.clone()));
        vec!["--data-dir".to_string(), d.display().to_string()]
    } else {
        vec!["--database-url".to_string(), config.database.url.clone()]
    };
    let db = crate::connect(&config).await?;
    let dialect = db.dialect();
    // This process only enqueues and reads: it runs no worker.
    let app = app::App::new(db.clone(), Arc::new(app::SystemClock), config.app_settings());
    let (ws, _) = app
        .create_workspace(app::admin::NewWorkspace {
            slug: format!("timers-{}", rand::random::<u32>()),
            name: "Timers".into(),
            ticket_prefix: "TM".into(),
            admin_email: domain::Email::parse("bench@example.com")?,
            admin_name: "Bench".into(),
            admin_password: "bench-password-123".into(),
        })
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;

    // Due times are fixed before enqueueing, which must fit into the lead.
    let n = a.timers as i64;
    let window_ms = (a.window_seconds * 1000) as i64;
    let first_due = app::SystemClock.now().plus_millis((a.lead_seconds * 1000) as i64);
    let due = |i: i64| first_due.plus_millis(i * window_ms / n);
    let probes: Vec<(i64, Timestamp)> = (0..n).map(|i| (i, due(i))).collect();
    let t = Instant::now();
    app.enqueue_timer_probes(ws.id, &probes).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let enqueue_s = t.elapsed().as_secs_f64();
    let now = app::SystemClock.now();
    anyhow::ensure!(
        now.plus_millis(5_000) < first_due,
        "enqueueing took {enqueue_s:.0} s, too close to the first due time; raise --lead-seconds"
    );
    eprintln!(
        "enqueued {n} timers in {enqueue_s:.1} s; first due in {:.1} s",
        (first_due.millis() - now.millis()) as f64 / 1000.0
    );

    let exe = std::env::current_exe().context("finding this executable")?;
    let mut servers = Servers { exe, db_args, children: Vec::new() };
    for i in 0..a.servers {
        let c = servers.spawn(i)?;
        servers.children.push(c);
    }
    let at = |t: Timestamp| async move {
        let wait = t.millis() - app::SystemClock.now().millis();
        if wait > 0 {
            tokio::time::sleep(Duration::from_millis(wait as u64)).await;
        }
    };
    let mut kill_note = String::new();
    if let Some(k) = a.kill_after_seconds {
        let kill_at = first_due.plus_millis((k * 1000) as i64);
        at(kill_at).await;
        let killed = app::SystemClock.now();
        servers.children[0].kill().context("SIGKILL")?;
        servers.children[0].wait()?;
        tokio::time::sleep(Duration::from_secs(a.restart_after_seconds)).await;
        servers.children[0] = servers.spawn(0)?;
        let restarted = app::SystemClock.now();
        kill_note = format!(
            "server 1 SIGKILLed at +{:.1} s, restarted {:.1} s later",
            (killed.millis() - first_due.millis()) as f64 / 1000.0,
            (restarted.millis() - killed.millis()) as f64 / 1000.0
        );
        eprintln!("{kill_note}");
    }
    // Wait for the window to pass, then until the queue drains (at most 3 more minutes).
    at(first_due.plus_millis(window_ms + 2_000)).await;
    let drain_deadline = Instant::now() + Duration::from_secs(180);
    while db::jobs::count_pending(&db, "timer_probe").await? > 0 && Instant::now() < drain_deadline
    {
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    drop(servers);

    let mut c = db.read().await?;
    let firings = db::sla::probe_firings(&mut c).await?;
    drop(c);
    let mut count = vec![0u32; a.timers];
    let mut late: Vec<i64> = Vec::with_capacity(firings.len());
    let mut early = 0usize;
    let mut workers = std::collections::BTreeMap::<String, usize>::new();
    for (probe, due, fired, worker) in &firings {
        if let Some(c) = count.get_mut(*probe as usize) {
            *c += 1;
            if *c == 1 {
                late.push(fired - due);
                if fired < due {
                    early += 1;
                }
            }
        }
        *workers.entry(worker.clone()).or_default() += 1;
    }
    let missing = count.iter().filter(|c| **c == 0).count();
    let duplicated = count.iter().filter(|c| **c > 1).count();
    late.sort_unstable();
    let pct = |p: f64| -> i64 {
        if late.is_empty() {
            return 0;
        }
        late[(((late.len() - 1) as f64) * p).round() as usize]
    };
    let over_1s = late.iter().filter(|l| **l > 1000).count();
    println!(
        "| backend | servers | timers | window (s) | kill | missing | duplicated | early | p50 late (ms) | p99 late (ms) | max late (ms) | > 1 s late |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    println!(
        "| {dialect:?} | {} | {} | {} | {} | {missing} | {duplicated} | {early} | {} | {} | {} | {over_1s} |",
        a.servers,
        a.timers,
        a.window_seconds,
        if kill_note.is_empty() { "no".to_string() } else { kill_note.clone() },
        pct(0.5),
        pct(0.99),
        late.last().copied().unwrap_or(0),
    );
    println!();
    println!(
        "firings per worker process: {}",
        workers.iter().map(|(w, n)| format!("{w}: {n}")).collect::<Vec<_>>().join(", ")
    );
    if over_1s > 0 {
        // Show where the late ones are: their due times relative to the window start.
        let mut late_due: Vec<i64> = firings
            .iter()
            .filter(|(_, d, f, _)| f - d > 1000)
            .map(|(_, d, _, _)| (d - first_due.millis()) / 1000)
            .collect();
        late_due.sort_unstable();
        late_due.dedup();
        println!("seconds into the window with a timer > 1 s late: {late_due:?}");
    }
    db.close().await;
    Ok(())
}
