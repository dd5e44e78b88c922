//! The `huiting` binary: reads the configuration, wires the crates together and runs one of
//! the subcommands. The only crate that reads the environment, files and the system clock.

mod bench;
mod bench_analytics;
mod bench_bot;
mod bench_crash;
mod bench_timers;
mod bench_ws;
mod bot_cli;
mod bot_script;
mod config;
mod customer_cli;
mod demo;
mod demo_bot;
mod demo_oms;
mod kb_cli;
mod nlu_cli;
mod ops;

/// mimalloc rather than glibc malloc: allocation and free (with glibc's chunk consolidation)
/// took ~15 % of the server's CPU under chat load (docs/benchmarks.md, `bench ws`).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::{net::SocketAddr, path::PathBuf, sync::Arc, time::Duration};

use anyhow::Context;
use clap::{Args, Parser, Subcommand};

use crate::config::Config;

#[derive(Debug, Parser)]
#[command(
    name = "huiting",
    version,
    about = "慧听 Huiting: intelligent customer service and the customer-feedback loop"
)]
struct Cli {
    #[command(flatten)]
    common: Common,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Args)]
struct Common {
    /// Configuration file (default: ./huiting.toml if present).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// Where the embedded SQLite file and local state live.
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    /// A postgres:// URL to use PostgreSQL instead of the embedded SQLite.
    #[arg(long, global = true)]
    database_url: Option<String>,
    /// Address to listen on, e.g. 127.0.0.1:8080.
    #[arg(long, global = true)]
    listen: Option<String>,
    /// Log format: text or json (config log.format).
    #[arg(long, global = true, env = "HUITING_LOG_FORMAT")]
    log_format: Option<String>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs the server: API, realtime, background jobs.
    Serve,
    /// Seeds a demo company (once) and runs the server, with the demo order system the bot's
    /// connectors call.
    Demo(DemoArgs),
    /// Applies database migrations and exits.
    Migrate,
    /// Prints the example configuration with every key and its default.
    DefaultConfig,
    /// Audit-trail tools.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Copies the SQLite database while the server runs, then checks the copy (integrity,
    /// migrations, audit chains). PostgreSQL: use pg_dump.
    Backup {
        /// The backup file to write (must not exist).
        #[arg(long)]
        to: PathBuf,
    },
    /// Replaces the SQLite database with a backup after checking it; the old file is kept as
    /// huiting.db.bak. Refuses while a server runs on the data directory.
    Restore {
        /// The backup file to restore.
        #[arg(long)]
        from: PathBuf,
        /// Restore even though a server holds the data directory.
        #[arg(long)]
        force: bool,
    },
    /// Creates a workspace with its first admin.
    CreateWorkspace(CreateWorkspace),
    /// Benchmarks (results go to docs/benchmarks.md).
    Bench {
        #[command(subcommand)]
        command: bench::BenchCommand,
    },
    /// The language engine: evaluate, train and try models on TSV files (no database).
    Nlu {
        #[command(subcommand)]
        command: nlu_cli::NluCommand,
    },
    /// Analytics rollups: rebuild them from the tickets.
    Analytics {
        #[command(subcommand)]
        command: AnalyticsCommand,
    },
    /// The knowledge base: import an FAQ spreadsheet, tune the matcher.
    Kb {
        #[command(subcommand)]
        command: kb_cli::KbCommand,
    },
    /// The bot: chat with it in the terminal, run conversation scripts.
    Bot {
        #[command(subcommand)]
        command: bot_cli::BotCommand,
    },
    /// Personal data (PL-4): export or erase one customer.
    Customer {
        #[command(subcommand)]
        command: customer_cli::CustomerCommand,
    },
}

#[derive(Debug, Args)]
struct DemoArgs {
    /// Where the demo order system listens (fixed when the demo is first seeded: the bot's
    /// connectors are configured with it).
    #[arg(long, default_value = demo_oms::DEFAULT_LISTEN)]
    orders_listen: String,
    /// Seed only the company, its staff and its bot, without the month of history (seconds).
    #[arg(long)]
    no_history: bool,
    /// Seed and exit instead of serving.
    #[arg(long)]
    seed_only: bool,
}

#[derive(Debug, Subcommand)]
enum AnalyticsCommand {
    /// Recomputes every ticket's facts and the daily and hourly rollups, per workspace (all
    /// workspaces, or `--workspace SLUG`), with progress.
    Rebuild {
        #[arg(long)]
        workspace: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Recomputes every workspace's hash chain; exits non-zero at the first broken entry.
    Verify,
}

#[derive(Debug, Args)]
struct CreateWorkspace {
    /// Short name used at login, e.g. acme.
    #[arg(long)]
    slug: String,
    /// Display name, e.g. 某某电器.
    #[arg(long)]
    name: String,
    /// Prefix of ticket numbers.
    #[arg(long, default_value = "HT")]
    ticket_prefix: String,
    #[arg(long)]
    admin_email: String,
    #[arg(long, default_value = "Admin")]
    admin_name: String,
    /// The admin's password (at least 10 characters); read from this environment variable.
    #[arg(long, default_value = "HUITING_ADMIN_PASSWORD")]
    admin_password_env: String,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let config = match load_config(&cli.common) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e:#}");
            return std::process::ExitCode::from(2);
        }
    };
    init_logging(&config);
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(cli.command, config)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn load_config(c: &Common) -> anyhow::Result<Config> {
    let mut config = Config::load(c.config.as_deref())?;
    if let Some(d) = &c.data_dir {
        config.storage.data_dir = d.clone();
    }
    if let Some(u) = &c.database_url {
        config.database.url = u.clone();
    }
    if let Some(l) = &c.listen {
        config.server.listen = l.clone();
    }
    if let Some(f) = &c.log_format {
        anyhow::ensure!(
            matches!(f.as_str(), "text" | "json"),
            "log.format (--log-format, HUITING_LOG_FORMAT) must be \"text\" or \"json\""
        );
        config.log.format = f.clone();
    }
    Ok(config)
}

fn init_logging(c: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_new(&c.log.level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if c.log.format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

async fn connect(config: &Config) -> anyhow::Result<db::Db> {
    let opts = config.db_options()?;
    let db = db::Db::connect(&opts).await?;
    db.migrate().await?;
    Ok(db)
}

#[allow(clippy::print_stdout)] // Subcommands report their results on stdout.
async fn run(command: Command, config: Config) -> anyhow::Result<std::process::ExitCode> {
    use std::process::ExitCode;
    match command {
        Command::DefaultConfig => {
            print!("{}", config::EXAMPLE);
        }
        Command::Migrate => {
            let db = connect(&config).await?;
            eprintln!("migrations applied ({:?})", db.dialect());
        }
        Command::Serve => {
            let _held = ops::hold_data_dir(&config)?;
            let db = connect(&config).await?;
            serve(&config, db, None).await?;
        }
        Command::Demo(d) => {
            let _held = ops::hold_data_dir(&config)?;
            let db = connect(&config).await?;
            let options = demo::SeedOptions {
                history: !d.no_history,
                orders_listen: d.orders_listen.clone(),
            };
            let summary = seed_demo(&config, &db, &options).await?;
            if d.seed_only {
                println!("demo workspace '{}' seeded", summary.workspace_slug);
                return Ok(ExitCode::SUCCESS);
            }
            serve(&config, db, Some(summary)).await?;
        }
        Command::Audit { command: AuditCommand::Verify } => {
            let db = connect(&config).await?;
            let app = app::App::new(db, Arc::new(app::SystemClock), config.app_settings());
            let bar = indicatif::ProgressBar::new_spinner();
            let verdicts = app
                .verify_all_audit(|slug, n| bar.set_message(format!("{slug}: {n} entries checked")))
                .await?;
            bar.finish_and_clear();
            let mut ok = true;
            for v in &verdicts {
                match &v.broken {
                    None => println!("{}: ok, {} entries, chain intact", v.slug, v.entries),
                    Some(b) => {
                        ok = false;
                        println!("{}: BROKEN after {} good entries: {}", v.slug, v.entries, b);
                    }
                }
            }
            if verdicts.is_empty() {
                println!("no workspaces yet");
            }
            return Ok(if ok { ExitCode::SUCCESS } else { ExitCode::from(1) });
        }
        Command::Backup { to } => ops::backup(&config, &to).await?,
        Command::Restore { from, force } => ops::restore(&config, &from, force).await?,
        Command::CreateWorkspace(c) => {
            #[allow(clippy::disallowed_methods)] // The binary reads secrets from the environment.
            let password = std::env::var(&c.admin_password_env).with_context(|| {
                format!(
                    "set the admin password in the environment variable {}",
                    c.admin_password_env
                )
            })?;
            let db = connect(&config).await?;
            let app = app::App::new(db, Arc::new(app::SystemClock), config.app_settings());
            let n = app::admin::NewWorkspace {
                slug: c.slug,
                name: c.name,
                ticket_prefix: c.ticket_prefix,
                admin_email: domain::Email::parse(&c.admin_email)?,
                admin_name: c.admin_name,
                admin_password: password,
            };
            let (ws, admin) = app.create_workspace(n).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            println!(
                "workspace {} created; admin {} can log in; widget public key {}",
                ws.slug, admin.email, ws.public_key
            );
        }
        Command::Bench { command } => bench::run(command, &config).await?,
        Command::Analytics { command: AnalyticsCommand::Rebuild { workspace } } => {
            let db = connect(&config).await?;
            let app = app::App::new(db.clone(), Arc::new(app::SystemClock), config.app_settings());
            let mut c = db.read().await?;
            let all = db::workspaces::all(&mut c).await?;
            drop(c);
            let chosen: Vec<_> = all
                .into_iter()
                .filter(|w| workspace.as_ref().is_none_or(|s| *s == w.slug))
                .collect();
            anyhow::ensure!(!chosen.is_empty(), "no such workspace");
            for w in chosen {
                let bar = indicatif::ProgressBar::new(0);
                bar.set_style(
                    indicatif::ProgressStyle::with_template(
                        "{msg} {bar:40} {pos}/{len} tickets, eta {eta}",
                    )
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
                );
                bar.set_message(w.slug.clone());
                let b = bar.clone();
                let n = app
                    .analytics_rebuild(w.id, &move |done, total| {
                        b.set_length(total);
                        b.set_position(done);
                    })
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                bar.finish_and_clear();
                println!("{}: analytics rebuilt from {n} tickets", w.slug);
            }
        }
        Command::Nlu { command } => nlu_cli::run(command)?,
        Command::Kb { command } => return kb_cli::run(command, &config).await,
        Command::Bot { command } => return bot_cli::run(command, &config).await,
        Command::Customer { command } => return customer_cli::run(command, &config).await,
    }
    Ok(ExitCode::SUCCESS)
}

async fn seed_demo(
    config: &Config,
    db: &db::Db,
    options: &demo::SeedOptions,
) -> anyhow::Result<demo::DemoSummary> {
    let end = app::SystemClock.now();
    let clock = app::ManualClock::new(end);
    let app = app::App::new(db.clone(), Arc::new(clock.clone()), config.app_settings());
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg:>24} [{bar:40}] {pos}/{len}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let progress = |stage: &str, done: u64, total: u64| {
        bar.set_message(stage.to_string());
        bar.set_length(total);
        bar.set_position(done);
    };
    let summary = demo::seed(&app, &clock, end, options, &progress).await?;
    bar.finish_and_clear();
    Ok(summary)
}

use domain::Clock as _;

async fn serve(config: &Config, db: db::Db, demo: Option<demo::DemoSummary>) -> anyhow::Result<()> {
    let app = app::App::new(db.clone(), Arc::new(app::SystemClock), config.app_settings());
    let listener =
        tokio::net::TcpListener::bind(&config.server.listen).await.with_context(|| {
            format!(
                "cannot listen on {}; is another server using it? pick another with --listen",
                config.server.listen
            )
        })?;
    let addr: SocketAddr = listener.local_addr()?;
    if let Some(d) = &demo {
        // The order system the demo bot's connectors call, where they were seeded to call it.
        let cfg = {
            let ws = app.workspace_by_slug(&d.workspace_slug).await?;
            let p = app::auth::Principal {
                workspace: ws.id,
                actor: domain::Actor::System,
                role: domain::Role::Admin,
                user: None,
                department: None,
                teams: Vec::new(),
                csrf_token: None,
            };
            use app::auth::Capability as _;
            app.bot_settings(&app::auth::Staff::from_principal(p)?).await?
        };
        if demo_oms::ensure(&cfg).await? {
            if let Some(a) = demo_oms::address_in(&cfg) {
                tracing::info!(address = %a, "demo order system listening");
            }
        } else if demo_oms::address_in(&cfg).is_some() {
            tracing::warn!(
                "the demo order system's port is taken; the bot's order lookups go to whoever serves it"
            );
        }
    }
    // The retention policy (PL-4) applies with its default period from the first start.
    let scheduled = app.ensure_retention_jobs().await.map_err(|e| anyhow::anyhow!("{e}"))?;
    if scheduled > 0 {
        tracing::info!(workspaces = scheduled, "retention jobs scheduled");
    }
    // Similar solved tickets (TK-9): a database from before the index gets its rows once.
    let indexed = app.ensure_similar_rows().await.map_err(|e| anyhow::anyhow!("{e}"))?;
    if indexed > 0 {
        tracing::info!(workspaces = indexed, "similar-tickets rows built");
    }
    let worker = tokio::spawn(app.clone().run_worker(
        format!("worker-{}", std::process::id()),
        Duration::from_millis(config.jobs.poll_interval_ms),
    ));
    let cluster = tokio::spawn(app.clone().run_cluster_listener());
    let email = start_email(&app, &config.email).await?;
    announce(addr, demo.as_ref());
    let token = &config.server.metrics_token;
    let state = http_api::AppState {
        app: app.clone(),
        secure_cookies: config.server.secure_cookies,
        metrics_token: (!token.is_empty()).then(|| token.clone()),
    };
    // A signal starts the shutdown: stop accepting, the worker stops claiming, realtime
    // sockets close with "service restart"; in-flight requests and the running job get
    // `shutdown_grace_seconds` in all.
    let grace = Duration::from_secs(config.server.shutdown_grace_seconds);
    let began = Arc::new(std::sync::OnceLock::new());
    let signalled = {
        let (app, began) = (app.clone(), began.clone());
        async move {
            shutdown_signal().await;
            let _ = began.set(tokio::time::Instant::now());
            app.begin_shutdown();
        }
    };
    let serving = http_api::serve(listener, state, signalled);
    tokio::pin!(serving);
    let deadline = |began: &std::sync::OnceLock<tokio::time::Instant>| {
        began.get().copied().unwrap_or_else(tokio::time::Instant::now) + grace
    };
    tokio::select! {
        r = &mut serving => r.context("serving")?,
        () = async { app.stopping().await; tokio::time::sleep_until(deadline(&began)).await } => {
            tracing::warn!(seconds = grace.as_secs(), "shutdown grace period over; dropping the connections still open");
        }
    }
    let mut worker = worker;
    if tokio::time::timeout_at(deadline(&began), &mut worker).await.is_err() {
        tracing::warn!(
            "the running job did not finish within the grace period; its lease will expire"
        );
        worker.abort();
    }
    // Let realtime sockets send their close frames.
    while app.hub().subscribers() > 0 && tokio::time::Instant::now() < deadline(&began) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    cluster.abort();
    email.iter().for_each(tokio::task::JoinHandle::abort);
    db.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// The email channel's IMAP readers and SMTP/LMTP receivers, as configured.
async fn start_email(
    app: &app::App,
    cfg: &config::EmailCfg,
) -> anyhow::Result<Vec<tokio::task::JoinHandle<()>>> {
    use channels::email::receiver::Protocol;
    let mut tasks = Vec::new();
    if cfg.imap_readers {
        let every = Duration::from_secs(cfg.rescan_seconds.max(1));
        tasks.push(tokio::spawn(app.clone().run_email_pollers(every)));
    }
    for (listen, protocol) in
        [(&cfg.smtp_listen, Protocol::Smtp), (&cfg.lmtp_listen, Protocol::Lmtp)]
    {
        if listen.is_empty() {
            continue;
        }
        let l = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("cannot listen for mail on {listen}"))?;
        tracing::info!(%listen, ?protocol, "receiving mail");
        tasks.push(tokio::spawn(app.clone().serve_email_receiver(l, protocol)));
    }
    Ok(tasks)
}

#[allow(clippy::print_stdout)] // The demo's banner is for the person who started it.
fn announce(addr: SocketAddr, demo: Option<&demo::DemoSummary>) {
    let url = format!("http://{addr}");
    tracing::info!(%url, "listening");
    let Some(d) = demo else { return };
    println!();
    println!("  慧听 Huiting demo is running at {url}");
    println!("  API reference: {url}/api/v1/docs");
    println!("  Workspace: {}   widget public key: {}", d.workspace_slug, d.public_key);
    println!(
        "  {} customers, {} conversations, {} tickets",
        d.customers, d.conversations, d.tickets
    );
    println!("  Logins (workspace \"{}\"):", d.workspace_slug);
    for l in &d.logins {
        println!("    {:<12} {:<32} {}", l.role, l.email, l.password);
    }
    println!();
    println!("  Try: curl -s -c jar -H 'content-type: application/json' \\");
    println!(
        "         -d '{{\"workspace\":\"{}\",\"email\":\"{}\",\"password\":\"{}\"}}' {url}/api/v1/auth/login",
        d.workspace_slug,
        d.logins.iter().find(|l| l.role == "agent").map_or("", |l| l.email.as_str()),
        d.logins.first().map_or("", |l| l.password.as_str())
    );
    println!("       curl -s -b jar '{url}/api/v1/tickets?limit=5'");
    println!();
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down: finishing in-flight requests and the running job");
}
