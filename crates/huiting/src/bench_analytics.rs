//! `huiting bench analytics`: writes a synthetic history (tickets over a year with their
//! conversations, clock inputs and messages) straight into the database in bulk, rebuilds the
//! analytics rollups from it, then times each dashboard query over HTTP, and a read right
//! after fresh changes (the incremental catch-up). Bounded by `--max-seconds` for generation.
#![allow(clippy::print_stdout)] // The report is the command's output.

use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;
use domain::{Status, Timestamp};
use serde_json::json;
use workflow::TicketEvent;

use crate::{
    bench::{login, percentile, start, workspace},
    config::Config,
};

#[derive(Debug, Args)]
pub struct AnalyticsArgs {
    /// Tickets to generate (each with its own conversation).
    #[arg(long, default_value_t = 1_000_000)]
    tickets: u64,
    /// Messages per conversation.
    #[arg(long, default_value_t = 10)]
    messages_per_ticket: u32,
    /// Days of history the tickets spread over, ending now.
    #[arg(long, default_value_t = 365)]
    days: i64,
    /// Timed runs per query (after one warm-up).
    #[arg(long, default_value_t = 5)]
    samples: usize,
    /// Stop generating after this many seconds and measure what was written.
    #[arg(long, default_value_t = 3_600)]
    max_seconds: u64,
    /// Timed inbox, ticket-detail and reply requests each after the dashboard queries (0: none).
    #[arg(long, default_value_t = 300)]
    rest_samples: usize,
}

const MIN: i64 = 60_000;
const HOUR: i64 = 3_600_000;
const DAY: i64 = 86_400_000;
const CHANNELS: [&str; 5] = ["web_chat", "app", "email", "phone", "social"];
/// Relative contact volume per local hour (a day and an evening peak).
const HOURS: [u32; 24] =
    [1, 1, 1, 1, 1, 1, 2, 4, 8, 12, 14, 13, 9, 10, 13, 14, 12, 10, 8, 9, 10, 8, 5, 2];

/// SplitMix64: a deterministic stream per ticket.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn ticket(i: u64, n: u64, start: i64, days: i64, now: i64) -> app::db::analytics::synth::Ticket {
    let mut r = Rng(i.wrapping_mul(7919) ^ 0x5EED);
    let day = (i * days as u64 / n.max(1)) as i64;
    let total: u32 = HOURS.iter().sum();
    let mut pick = r.below(u64::from(total)) as u32;
    let mut hour = 0;
    for (h, w) in HOURS.iter().enumerate() {
        if pick < *w {
            hour = h as i64;
            break;
        }
        pick -= w;
    }
    // Local (UTC+8) hour → UTC instant.
    let c = (start + day * DAY + hour * HOUR - 8 * HOUR + r.below(60) as i64 * MIN).min(now - HOUR);
    let created = Timestamp::from_millis(c);
    let frt = (1 + r.below(180) as i64) * MIN;
    let mut inputs = vec![
        TicketEvent::Created { at: created },
        TicketEvent::StatusChanged { at: created.plus_millis(2 * MIN), to: Status::Open },
        TicketEvent::AgentReplied { at: created.plus_millis(frt), public: true },
    ];
    let one_touch = r.below(10) < 6;
    if !one_touch {
        inputs.push(TicketEvent::CustomerReplied { at: created.plus_millis(frt + 10 * MIN) });
        inputs.push(TicketEvent::AgentReplied {
            at: created.plus_millis(frt + 40 * MIN),
            public: true,
        });
    }
    let age = now - c;
    let solved = if age > 3 * DAY { r.below(100) < 97 } else { r.below(2) == 0 };
    let mut solved_at = None;
    if solved {
        let mut at = created.plus_millis(frt + HOUR + r.below(48) as i64 * HOUR);
        inputs.push(TicketEvent::StatusChanged { at, to: Status::Solved });
        if r.below(100) < 5 {
            inputs
                .push(TicketEvent::StatusChanged { at: at.plus_millis(HOUR), to: Status::Reopen });
            at = at.plus_millis(3 * HOUR);
            inputs.push(TicketEvent::StatusChanged { at, to: Status::Solved });
        }
        if at.millis() < now {
            solved_at = Some(at);
        } else {
            inputs.retain(|e| e.at().millis() < now);
        }
    }
    // A skewed problem-code mix (a few codes make most tickets), 10 % without a code.
    let code = if r.below(10) == 0 {
        None
    } else {
        Some(format!("PQ-{:02}", 1 + (20.0 * r.unit() * r.unit()) as u32))
    };
    let team = match r.below(5) {
        4 => None,
        t => Some(t),
    };
    app::db::analytics::synth::Ticket {
        index: i,
        number: i as i64 + 1,
        customer: r.below((n / 10).max(1)),
        channel: CHANNELS[(r.below(10) as usize * r.below(10) as usize / 20).min(4)],
        problem_code: code,
        team,
        status: if solved_at.is_some() { "solved" } else { "open" },
        created_at: created,
        solved_at,
        repeat: r.below(100) < 3,
        breached: r.below(100) < 8,
        inputs,
    }
}

pub async fn analytics(a: AnalyticsArgs, config: &Config) -> anyhow::Result<()> {
    let server = start(config).await?;
    let ws = workspace(&server).await?;
    let db = server.app.db().clone();
    let now = server.app.now().millis();
    let start_ms = now - a.days * DAY;
    let t0 = Instant::now();
    let bar = indicatif::ProgressBar::new(a.tickets);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{msg} {bar:40} {pos}/{len} tickets, {per_sec}, eta {eta}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.set_message("generating");
    {
        let mut tx = db.derived().await?;
        app::db::analytics::synth::base(
            &mut tx,
            ws.id,
            (a.tickets / 10).max(1),
            4,
            Timestamp::from_millis(start_ms),
        )
        .await?;
        tx.commit().await?;
    }
    let chunk = 10_000u64;
    let (mut written, mut messages) = (0u64, 0u64);
    let mut stopped = false;
    while written < a.tickets {
        if t0.elapsed() > Duration::from_secs(a.max_seconds) {
            stopped = true;
            break;
        }
        let to = (written + chunk).min(a.tickets);
        let ts: Vec<_> =
            (written..to).map(|i| ticket(i, a.tickets, start_ms, a.days, now)).collect();
        let mut tx = db.derived().await?;
        app::db::analytics::synth::tickets(&mut tx, ws.id, &ts).await?;
        messages +=
            app::db::analytics::synth::messages(&mut tx, ws.id, written, to, a.messages_per_ticket)
                .await?;
        tx.commit().await.context("committing generated rows")?;
        written = to;
        bar.set_position(written);
        if written % 50_000 == 0 || written == a.tickets {
            println!(
                "  {written} tickets, {messages} messages written ({:.0} s)",
                t0.elapsed().as_secs_f64()
            );
        }
    }
    bar.finish_and_clear();
    let gen_time = t0.elapsed();
    println!(
        "generated {written} tickets and {messages} messages in {:.0} s{}",
        gen_time.as_secs_f64(),
        if stopped { " (stopped by --max-seconds)" } else { "" }
    );

    let bar = indicatif::ProgressBar::new(written);
    bar.set_message("rebuilding rollups");
    let t1 = Instant::now();
    let b2 = bar.clone();
    let n = server
        .app
        .analytics_rebuild(ws.id, &move |done, total| {
            b2.set_length(total);
            b2.set_position(done);
        })
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    bar.finish_and_clear();
    let _ = &bar;
    println!("rebuilt facts and rollups of {n} tickets in {:.1} s", t1.elapsed().as_secs_f64());

    let http = reqwest::Client::new();
    let (cookie, csrf) = login(&http, &server.base, &ws.slug).await?;
    let today = workflow::analytics::day_label((now + 8 * HOUR) / DAY);
    let d = |back: i64| workflow::analytics::day_label((now + 8 * HOUR) / DAY - back);
    let queries: Vec<(String, String)> = vec![
        ("KPIs, last 30 days".into(), format!("kpis?from={}&to={today}", d(29))),
        ("KPIs, last 365 days".into(), format!("kpis?from={}&to={today}", d(364))),
        (
            "KPIs, 365 days, one channel".into(),
            format!("kpis?from={}&to={today}&channel=email", d(364)),
        ),
        (
            "trend by day × channel, 90 days".into(),
            format!("trends?from={}&to={today}&grain=day&by=channel", d(89)),
        ),
        (
            "trend by week × problem code, 365 days".into(),
            format!("trends?from={}&to={today}&grain=week&by=problem_code", d(364)),
        ),
        (
            "trend by month × team, 365 days".into(),
            format!("trends?from={}&to={today}&grain=month&by=team", d(364)),
        ),
        ("Pareto of problem codes, 365 days".into(), format!("pareto?from={}&to={today}", d(364))),
        ("heat map hour × weekday, 90 days".into(), format!("heatmap?from={}&to={today}", d(89))),
        (
            "drill-down: open cases, 30 days, first page".into(),
            format!("cases?from={}&to={today}&set=open", d(29)),
        ),
        (
            "drill-down: breached, one code, 365 days".into(),
            format!("cases?from={}&to={today}&set=breached&problem_code=PQ-03", d(364)),
        ),
        (
            "drill-down: one heat-map cell, 90 days".into(),
            format!("cases?from={}&to={today}&weekday=2&hour=10", d(89)),
        ),
        (
            "export: trend by week × code, XLSX".into(),
            format!("trends?from={}&to={today}&grain=week&by=problem_code&format=xlsx", d(364)),
        ),
    ];
    println!("\n| query | median | max |\n|---|---|---|");
    for (name, path) in &queries {
        let url = format!("{}/api/v1/analytics/{path}", server.base);
        let mut times = Vec::new();
        for k in 0..=a.samples {
            let t = Instant::now();
            let r = http.get(&url).header("cookie", &cookie).send().await?;
            let st = r.status();
            let _ = r.bytes().await?;
            anyhow::ensure!(st.is_success(), "{name}: {st}");
            if k > 0 {
                times.push(t.elapsed());
            }
        }
        times.sort();
        println!(
            "| {name} | {:.1} ms | {:.1} ms |",
            percentile(&times, 0.5).as_secs_f64() * 1e3,
            times.last().copied().unwrap_or_default().as_secs_f64() * 1e3
        );
    }

    // Fresh changes: 200 tickets through the API, then the first read folds their events in.
    let customer = app::db::analytics::synth::id(1, 0);
    for i in 0..200 {
        http.post(format!("{}/api/v1/tickets", server.base))
            .header("cookie", &cookie)
            .header("x-csrf-token", &csrf)
            .json(&json!({"subject": format!("新工单 {i}"), "customer_id": customer, "channel": "email", "problem_code": "PQ-05"}))
            .send()
            .await?
            .error_for_status()?;
    }
    let url = format!("{}/api/v1/analytics/kpis?from={}&to={today}", server.base, d(29));
    let t = Instant::now();
    http.get(&url).header("cookie", &cookie).send().await?.error_for_status()?;
    println!(
        "\nfirst KPI read after 200 new tickets (catch-up included): {:.1} ms",
        t.elapsed().as_secs_f64() * 1e3
    );
    if a.rest_samples > 0 && written > 0 {
        rest(&http, &server.base, &cookie, &csrf, written, a.rest_samples).await?;
    }
    Ok(())
}

/// The agent's everyday requests over the generated history (issue 9: REST p99 with 1M tickets):
/// the inbox's first pages, a ticket's detail as the ticket screen loads it, and a reply; each
/// on tickets spread over the whole history, one request at a time.
async fn rest(
    http: &reqwest::Client,
    base: &str,
    cookie: &str,
    csrf: &str,
    tickets: u64,
    samples: usize,
) -> anyhow::Result<()> {
    use app::db::analytics::synth::id;
    let mut rng = Rng(0x5EED);
    let inbox = [
        "conversations?limit=50",
        "conversations?limit=50&status=open",
        "tickets?limit=50&sort=updated",
        "tickets?limit=50&status=open",
    ];
    let mut rows: Vec<(&str, Vec<Duration>)> = vec![
        ("inbox (conversations and tickets, first page of 50)", vec![]),
        ("ticket detail (ticket, messages, history)", vec![]),
        ("reply to a ticket", vec![]),
        ("subject search \"退款\" (not a target)", vec![]),
    ];
    for k in 0..=samples {
        let path = inbox[k % inbox.len()];
        let t = Instant::now();
        let r = http.get(format!("{base}/api/v1/{path}")).header("cookie", cookie).send().await?;
        let st = r.status();
        let _ = r.bytes().await?;
        anyhow::ensure!(st.is_success(), "GET {path}: {st}");
        if k > 0 {
            rows[0].1.push(t.elapsed());
        }
    }
    // Not the target's (an inbox filter, not a search engine): words in the subject.
    for k in 0..=samples.min(50) {
        let t = Instant::now();
        let r = http
            .get(format!("{base}/api/v1/tickets?limit=50&q=%E9%80%80%E6%AC%BE"))
            .header("cookie", cookie)
            .send()
            .await?;
        let st = r.status();
        let _ = r.bytes().await?;
        anyhow::ensure!(st.is_success(), "GET tickets?q=: {st}");
        if k > 0 {
            rows[3].1.push(t.elapsed());
        }
    }
    for k in 0..=samples {
        let tid = id(3, rng.below(tickets));
        let t = Instant::now();
        for part in ["", "/messages?limit=200", "/history"] {
            let r = http
                .get(format!("{base}/api/v1/tickets/{tid}{part}"))
                .header("cookie", cookie)
                .send()
                .await?;
            let st = r.status();
            let _ = r.bytes().await?;
            anyhow::ensure!(st.is_success(), "GET ticket {tid}{part}: {st}");
        }
        if k > 0 {
            rows[1].1.push(t.elapsed());
        }
    }
    for k in 0..=samples {
        let tid = id(3, rng.below(tickets));
        let t = Instant::now();
        let r = http
            .post(format!("{base}/api/v1/tickets/{tid}/replies"))
            .header("cookie", cookie)
            .header("x-csrf-token", csrf)
            .header("idempotency-key", format!("bench-rest-{k}"))
            .json(&json!({"body": format!("您好，我们已经在处理您的问题（{k}）。"), "attachments": []}))
            .send()
            .await?;
        let st = r.status();
        let _ = r.bytes().await?;
        anyhow::ensure!(st.is_success(), "POST reply to {tid}: {st}");
        if k > 0 {
            rows[2].1.push(t.elapsed());
        }
    }
    println!(
        "\n| request ({tickets} tickets) | samples | p50 (ms) | p95 (ms) | p99 (ms) | max (ms) |\n|---|---|---|---|---|---|"
    );
    for (name, mut times) in rows {
        times.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        println!(
            "| {name} | {} | {:.1} | {:.1} | {:.1} | {:.1} |",
            times.len(),
            ms(percentile(&times, 0.5)),
            ms(percentile(&times, 0.95)),
            ms(percentile(&times, 0.99)),
            ms(times.last().copied().unwrap_or_default())
        );
    }
    Ok(())
}
