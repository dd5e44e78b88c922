//! `huiting bench bot`: the bot's reply latency with many conversations open at once. The
//! demo's bot (its intents trained, its FAQ, flows and hand-off rules) runs in-process on the
//! configured database; `--conversations` chats are opened, then `--in-flight` tasks send
//! customer messages (FAQ questions, ratings, the refund-policy flow, small talk), each task
//! owning its share of the conversations so one conversation never has two turns at once.
//! Each sample is one `App::bot_reply` (analysis, matching, the dialogue step, storing the
//! replies, outcomes and state); the customer's own message is stored before the clock starts,
//! and no message reaches a connector, so connector time is excluded.

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
    /// Conversations open at once.
    #[arg(long, default_value_t = 1000)]
    conversations: usize,
    /// Concurrent senders (each owns conversations i, i + n, …); 0 means one per conversation.
    #[arg(long, default_value_t = 0)]
    in_flight: usize,
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

#[allow(clippy::print_stdout)] // The report is the command's output.
pub async fn bot(a: BotArgs, config: &Config) -> anyhow::Result<()> {
    anyhow::ensure!((1..=20_000).contains(&a.conversations), "--conversations must be 1 to 20000");
    anyhow::ensure!((1..=100).contains(&a.turns), "--turns must be 1 to 100");
    let in_flight = if a.in_flight == 0 { a.conversations } else { a.in_flight };
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
    let chats = Arc::new(chats);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..in_flight {
        let app = app.clone();
        let chats = chats.clone();
        let turns = a.turns;
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            for round in 0..=turns {
                let mut i = w;
                while i < chats.len() {
                    let (v, conv) = &chats[i];
                    // Odd rounds rate the previous answer; even rounds ask.
                    let text = if round % 2 == 1 {
                        "5".to_owned()
                    } else {
                        MESSAGES[(i + round) % MESSAGES.len()].to_owned()
                    };
                    let m = NewMessage { body: text.clone(), ..NewMessage::default() };
                    app.post_visitor_message(v, *conv, m)
                        .await
                        .map_err(|e| anyhow::anyhow!("{e}"))?;
                    let t = Instant::now();
                    let turn = app
                        .bot_reply(v.workspace(), *conv, &text)
                        .await
                        .map_err(|e| anyhow::anyhow!("{e}"))?;
                    let took = t.elapsed();
                    anyhow::ensure!(!turn.replies.is_empty(), "no bot reply to {text}");
                    if round > 0 {
                        lat.push(took);
                    }
                    i += in_flight;
                }
            }
            anyhow::Ok(lat)
        }));
    }
    let mut lat = Vec::new();
    for t in tasks {
        lat.extend(t.await.context("a sender panicked")??);
    }
    let wall = started.elapsed();
    lat.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "conversations: {}, in flight: {in_flight}, replies timed: {}, wall {:.1} s ({:.0} replies/s)",
        a.conversations,
        lat.len(),
        wall.as_secs_f64(),
        lat.len() as f64 / wall.as_secs_f64()
    );
    println!(
        "| backend | conversations | in flight | replies | p50 (ms) | p95 (ms) | p99 (ms) | max (ms) |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    println!(
        "| {:?} | {} | {in_flight} | {} | {:.2} | {:.2} | {:.2} | {:.2} |",
        app.db().dialect(),
        a.conversations,
        lat.len(),
        ms(percentile(&lat, 0.5)),
        ms(percentile(&lat, 0.95)),
        ms(percentile(&lat, 0.99)),
        ms(*lat.last().unwrap_or(&Duration::ZERO))
    );
    Ok(())
}
