//! `huiting bench bot`: the bot's reply latency with many conversations open and active at
//! once. The demo's bot (its intents trained, its FAQ, flows and hand-off rules) runs
//! in-process on the configured database, called through the app API exactly as the widget's
//! `POST /public/conversations/{id}/messages` handler calls it (`post_visitor_message`, then
//! `bot_reply`), without the HTTP layer. `--conversations` chats are opened and each gets one
//! warm-up message, so every conversation is mid-dialogue with stored state; then each
//! customer sends `--turns` messages (FAQ questions, ratings, the refund-policy flow, small
//! talk) after a think time (open load, the default), or `--in-flight` senders send back to
//! back (closed load, the throughput ceiling). A sample is the time from the customer's message
//! being accepted (committed) to the bot's replies being committed and published: analysis,
//! matching, the dialogue step, storing the replies, outcomes and state. No message reaches a
//! connector, so connector time is excluded.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::Context;
use app::{
    auth::{Admin, BotEditor, Capability, Principal},
    bot::nlu::NewIntent,
    intake::{Hello, NewMessage},
};
use clap::Args;

use crate::{
    bench::{percentile, start, workspace},
    config::Config,
};

#[derive(Debug, Args)]
pub struct BotArgs {
    /// Conversations open and active at once.
    #[arg(long, default_value_t = 1000)]
    conversations: usize,
    /// Open load: each customer waits a think time drawn uniformly from 0.5× to 1.5× this
    /// (milliseconds) before each message, so about `conversations / think` messages arrive
    /// per second. Ignored with `--in-flight`.
    #[arg(long, default_value_t = 5000)]
    think_ms: u64,
    /// Closed load instead: this many senders, each owning conversations i, i + n, …, sending
    /// the next message as soon as the last reply is stored (no think time): the throughput
    /// ceiling, with queueing in the latency.
    #[arg(long)]
    in_flight: Option<usize>,
    /// Customer messages per conversation (after one warm-up message each).
    #[arg(long, default_value_t = 4)]
    turns: usize,
}

/// Questions the FAQ answers, small talk it does not, and the refund-policy flow; after an
/// answer the next message is a rating.
const MESSAGES: &[&str] = &[
    "包邮吗",
    "怎么取消订单",
    "退款几天到",
    "能开专票吗",
    "质保几年",
    "退款政策是什么",
    "可以用什么支付",
    "积分能抵钱吗",
    "How do I return an item?",
    "今天天气不错",
    "密码忘了",
    "送货包安装吗",
];

fn admin_principal(ws: domain::WorkspaceId) -> Principal {
    Principal {
        workspace: ws,
        actor: domain::Actor::System,
        role: domain::Role::Admin,
        user: None,
        department: None,
        teams: Vec::new(),
        csrf_token: None,
    }
}

/// One customer message and the bot's answer to it: the time until the message was accepted
/// (stored), and from then until the bot's replies were stored and published.
async fn exchange(
    app: &app::App,
    chat: &(app::auth::Visitor, domain::ConversationId),
    text: &str,
) -> anyhow::Result<(Duration, Duration)> {
    let (v, conv) = chat;
    let t0 = Instant::now();
    let m = NewMessage { body: text.to_owned(), ..NewMessage::default() };
    app.post_visitor_message(v, *conv, m).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let accepted = t0.elapsed();
    let t1 = Instant::now();
    let turn =
        app.bot_reply(v.workspace(), *conv, text).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let replied = t1.elapsed();
    anyhow::ensure!(!turn.replies.is_empty(), "no bot reply to {text}");
    Ok((accepted, replied))
}

/// The customer's message in `round` on conversation `i`: odd rounds rate the previous
/// answer (or are small talk where there was none), even rounds ask.
fn message(i: usize, round: usize) -> &'static str {
    if round % 2 == 1 { "5" } else { MESSAGES[(i + round) % MESSAGES.len()] }
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".into())
}

#[allow(clippy::print_stdout)] // The report is the command's output.
pub async fn bot(a: BotArgs, config: &Config) -> anyhow::Result<()> {
    anyhow::ensure!((1..=20_000).contains(&a.conversations), "--conversations must be 1 to 20000");
    anyhow::ensure!((1..=100).contains(&a.turns), "--turns must be 1 to 100");
    anyhow::ensure!((1..=600_000).contains(&a.think_ms), "--think-ms must be 1 to 600000");
    if let Some(n) = a.in_flight {
        anyhow::ensure!(
            (1..=a.conversations).contains(&n),
            "--in-flight must be 1 to --conversations"
        );
    }
    let server = start(config).await?;
    let app = server.app.clone();
    let ws = workspace(&server).await?;
    let editor = BotEditor::from_principal(admin_principal(ws.id))?;
    let e = |e: app::Error| anyhow::anyhow!("{e}");
    for (name, description, examples) in
        crate::demo::INTENTS.iter().chain(crate::demo_bot::FLOW_INTENTS)
    {
        app.create_intent(
            &editor,
            NewIntent {
                name: (*name).to_owned(),
                description: (*description).to_owned(),
                examples: examples.iter().map(|x| (*x).to_owned()).collect(),
            },
        )
        .await
        .map_err(e)?;
    }
    app.request_training(&editor, domain::ModelKind::Intent).await.map_err(e)?;
    eprintln!("training the intent model…");
    while app.run_jobs_once("bench-bot", app.now()).await.map_err(e)? != app::jobs::Outcome::Empty {
    }
    app.import_faqs(
        &editor,
        crate::kb_cli::DEMO_FAQ,
        app::bot::kb_io::SheetFormat::Csv,
        domain::KbStatus::Published,
        false,
    )
    .await
    .map_err(e)?;
    // Hand-offs would open tickets: off, so every message is a bot turn; no connectors run.
    let mut cfg = crate::demo_bot::config("127.0.0.1:9");
    cfg.handoff.unmatched_in_a_row = None;
    cfg.handoff.rating_at_most = None;
    app.set_bot_settings(&Admin::from_principal(admin_principal(ws.id))?, cfg).await.map_err(e)?;

    eprintln!("opening {} conversations…", a.conversations);
    let mut chats = Vec::with_capacity(a.conversations);
    for i in 0..a.conversations {
        let hello = Hello { name: Some(format!("压测客户{i}")), ..Hello::default() };
        let chat = app.open_chat(&ws.public_key, None, hello, None).await.map_err(e)?;
        app.bot_start(&chat.visitor, chat.conversation.id).await.map_err(e)?;
        chats.push((chat.visitor, chat.conversation.id));
    }
    // Every conversation mid-dialogue, with state, before the clock starts: one question
    // each, answered (most now wait for a rating, some are in a flow or were not understood).
    eprintln!("one warm-up message on each…");
    for (i, chat) in chats.iter().enumerate() {
        exchange(&app, chat, message(i, 0)).await?;
    }
    let chats = Arc::new(chats);
    let load_before = load_average();
    let started = Instant::now();
    let mut tasks = Vec::new();
    let turns = a.turns;
    match a.in_flight {
        Some(n) => {
            for w in 0..n {
                let (app, chats) = (app.clone(), chats.clone());
                tasks.push(tokio::spawn(async move {
                    let mut lat = Vec::new();
                    for round in 1..=turns {
                        for i in (w..chats.len()).step_by(n) {
                            lat.push(exchange(&app, &chats[i], message(i, round)).await?);
                        }
                    }
                    anyhow::Ok(lat)
                }));
            }
        }
        None => {
            let think = Duration::from_millis(a.think_ms);
            for i in 0..chats.len() {
                let (app, chats) = (app.clone(), chats.clone());
                tasks.push(tokio::spawn(async move {
                    // Customers start spread over one think time, not all at once.
                    tokio::time::sleep(think.mul_f64(rand::random::<f64>())).await;
                    let mut lat = Vec::new();
                    for round in 1..=turns {
                        lat.push(exchange(&app, &chats[i], message(i, round)).await?);
                        if round < turns {
                            tokio::time::sleep(think.mul_f64(0.5 + rand::random::<f64>())).await;
                        }
                    }
                    anyhow::Ok(lat)
                }));
            }
        }
    }
    let (mut accepted, mut replied) = (Vec::new(), Vec::new());
    for t in tasks {
        for (x, y) in t.await.context("a sender panicked")?? {
            accepted.push(x);
            replied.push(y);
        }
    }
    let wall = started.elapsed();
    accepted.sort();
    replied.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let load = match a.in_flight {
        Some(n) => format!("closed, {n} in flight"),
        None => format!(
            "open, think {:.1} s (offered ≈ {:.0} msg/s)",
            a.think_ms as f64 / 1000.0,
            a.conversations as f64 * 1000.0 / a.think_ms as f64
        ),
    };
    println!(
        "conversations: {}, load: {load}, replies timed: {}, wall {:.1} s ({:.0} replies/s), \
         load average {load_before} → {}",
        a.conversations,
        replied.len(),
        wall.as_secs_f64(),
        replied.len() as f64 / wall.as_secs_f64(),
        load_average()
    );
    println!(
        "| backend | conversations | load | measured | samples | p50 (ms) | p95 (ms) | p99 (ms) | max (ms) | replies/s |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for (what, v) in [("bot reply", &replied), ("customer message accepted", &accepted)] {
        println!(
            "| {:?} | {} | {load} | {what} | {} | {:.2} | {:.2} | {:.2} | {:.2} | {:.0} |",
            app.db().dialect(),
            a.conversations,
            v.len(),
            ms(percentile(v, 0.5)),
            ms(percentile(v, 0.95)),
            ms(percentile(v, 0.99)),
            ms(*v.last().unwrap_or(&Duration::ZERO)),
            replied.len() as f64 / wall.as_secs_f64()
        );
    }
    Ok(())
}
