//! `huiting bench`: load generators that run against a server started in-process on
//! loopback, bounded in count and time. Figures go to `docs/benchmarks.md`.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::Context;
use clap::{Args, Subcommand};
use serde_json::{Value, json};

use crate::config::Config;

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Message ingestion through the public API: N concurrent clients, each posting to its own
    /// conversation; every 2xx means the message was committed.
    Ingest(IngestArgs),
    /// Realtime delivery: a customer opens a chat through the public API; time until the
    /// message arrives on a logged-in agent's WebSocket.
    Realtime(RealtimeArgs),
    /// Durable timers: N timer jobs spread over a window, fired by `huiting serve` processes
    /// (optionally one SIGKILLed and restarted); reports lateness, missing and duplicates.
    Timers(crate::bench_timers::TimersArgs),
    /// Agent assist: `GET /conversations/{id}/suggestions` over HTTP against the demo FAQ,
    /// reply templates and a generated history of solved tickets (similar tickets), with the
    /// server's own timing.
    Suggest(SuggestArgs),
    /// Bot replies: the demo's bot (intents, FAQ, flows) answering N open conversations at
    /// once, in-process; the time of each `bot_reply` (analysis, matching, dialogue, storing
    /// the replies and the state), no connector calls.
    Bot(crate::bench_bot::BotArgs),
    /// Analytics dashboard queries over a bulk-generated history (default 1M tickets, 10M
    /// messages): generation, rollup rebuild, then each query timed over HTTP.
    Analytics(crate::bench_analytics::AnalyticsArgs),
    /// Crash consistency: cycles of write load, SIGKILL at a random moment and restart, each
    /// followed by checks that every acknowledged message is stored exactly once and the
    /// audit chain verifies.
    Crash(crate::bench_crash::CrashArgs),
    /// Concurrent chat sessions: N customers' WebSockets open on a `huiting serve` child,
    /// messages at a fixed rate; delivery times to the customers' and an agent's sockets, and
    /// the server's memory per idle session.
    Ws(crate::bench_ws::WsArgs),
}

#[derive(Debug, Args)]
pub struct SuggestArgs {
    /// Requests (after a warm-up of 20).
    #[arg(long, default_value_t = 500)]
    samples: usize,
    /// Generated FAQ entries added to the demo's 105 (product × topic questions, four
    /// phrasings each), for a larger knowledge base; at most 1000.
    #[arg(long, default_value_t = 0)]
    extra_faqs: usize,
    /// Generated reply templates added to the two fixed ones; at most 1000.
    #[arg(long, default_value_t = 0)]
    extra_templates: usize,
    /// Generated solved tickets in the similar-tickets index (problem and resolution texts
    /// over 25 products × 14 problems × 3 phrasings, a tenth in English); at most 200000.
    #[arg(long, default_value_t = 10_000)]
    solved_tickets: usize,
    /// Clients sending requests at once (each one request after another).
    #[arg(long, default_value_t = 1)]
    concurrency: usize,
}

/// Problems of the generated solved tickets: subject, three phrasings, the resolution.
const SOLVED_PROBLEMS: &[(&str, [&str; 3], &str)] = &[
    (
        "{p}退款未到账",
        [
            "我的{p}退货退款{d}天了还没到账",
            "{p}的退款一直显示处理中，什么时候到账",
            "退回去的{p}钱还没退给我",
        ],
        "您好，{p}的退款已重新发起，预计1–3个工作日原路到账。",
    ),
    (
        "{p}物流不更新",
        ["买的{p}快递{d}天没更新了", "{p}的物流一直停在转运中心", "{p}发货好几天了还没收到"],
        "您好，已联系承运商加急派送您的{p}，预计明天送达。",
    ),
    (
        "{p}不制冷/不工作",
        ["{p}装好了但是不工作", "新买的{p}用了{d}天就不制冷了", "{p}开机没反应"],
        "您好，已为您的{p}预约师傅明天上门检测，上门免费。",
    ),
    (
        "{p}发票开错",
        ["{p}的发票抬头写错了能重开吗", "{p}发票税号错了", "买{p}开的发票公司名称不对"],
        "您好，原发票已作废，{p}的新发票会在24小时内发送到您的邮箱。",
    ),
    (
        "{p}安装师傅未联系",
        ["{p}的安装师傅一直没联系我", "约好的{p}安装今天没人来", "{p}送到了但是没人来安装"],
        "您好，已催促网点，{p}的安装师傅会在2小时内联系您。",
    ),
    (
        "{p}噪音大",
        ["{p}噪音特别大", "{p}运行时有异响", "晚上{p}吵得睡不着"],
        "您好，{p}噪音异常可能是安装不平，已安排师傅上门调整。",
    ),
    (
        "{p}漏水",
        ["{p}漏水了", "{p}底下一直有水", "{p}用了{d}天开始滴水"],
        "您好，已为{p}漏水安排加急上门维修，请先断电。",
    ),
    (
        "{p}显示故障代码",
        ["{p}屏幕显示E{d}", "{p}报故障代码E{d}", "{p}一直闪E{d}"],
        "您好，{p}的E{d}代码表示传感器异常，已为您安排上门检修。",
    ),
    (
        "{p}遥控器失灵",
        ["{p}遥控器没反应", "{p}遥控器按了没用", "{p}遥控器配对不上"],
        "您好，请先更换电池并长按配对键5秒；仍不行我们免费寄新遥控器。",
    ),
    (
        "{p}以旧换新",
        ["{p}以旧换新怎么操作", "旧的{p}能抵多少钱", "{p}换新补贴怎么领"],
        "您好，{p}以旧换新可在下单时选择，旧机由师傅上门回收并抵扣。",
    ),
    (
        "{p}价格保护",
        ["买了{p}第二天就降价了", "{p}降价了能退差价吗", "{p}保价怎么申请"],
        "您好，{p}在保价期内，差价已退回您的原支付账户。",
    ),
    (
        "{p}配件缺失",
        ["{p}少了配件", "{p}包装里没有说明书和配件", "收到的{p}缺零件"],
        "您好，{p}缺少的配件已补发，单号稍后短信通知您。",
    ),
    (
        "{p} refund not received",
        [
            "I returned the {p} {d} days ago and the refund has not arrived",
            "Where is my refund for the {p}",
            "The {p} refund still shows processing",
        ],
        "Hello, the refund for your {p} was resubmitted and arrives within 1–3 business days.",
    ),
    (
        "{p} package not delivered",
        [
            "Where is my package? The {p} has not arrived",
            "Tracking for my {p} stopped updating",
            "My {p} order is late",
        ],
        "Hello, we asked the carrier to expedite your {p}; it should arrive tomorrow.",
    ),
];

/// Solved tickets' rows for the similar-tickets index, generated.
fn solved_rows(n: usize, now: domain::Timestamp) -> Vec<app::db::similar::SimilarRow> {
    let en = ["air conditioner", "fridge", "washing machine", "TV", "water heater"];
    (0..n)
        .map(|i| {
            let (subject, phrasings, resolution) = SOLVED_PROBLEMS[i % SOLVED_PROBLEMS.len()];
            let k = i / SOLVED_PROBLEMS.len();
            let english = subject.contains(" refund") || subject.contains(" package");
            let p = if english { en[k % en.len()] } else { PRODUCTS[k % PRODUCTS.len()] };
            let d = (3 + i % 9).to_string();
            let fill = |s: &str| s.replace("{p}", p).replace("{d}", &d);
            let problem = fill(phrasings[k % 3]);
            let ticket = app::db::analytics::synth::id(3, i as u64);
            app::db::similar::SimilarRow {
                ticket: domain::TicketId::parse(&ticket).expect("a generated id is a UUID"),
                rev: 1,
                removed: false,
                ticket_no: format!("BT-{}", i + 1),
                customer: None,
                subject: fill(subject),
                problem,
                resolution: fill(resolution),
                problem_code: Some(format!("PQ-{:02}", 1 + i % 20)),
                lang: if english { "en" } else { "zh" }.to_owned(),
                solved_at: Some(now.plus_millis(-((n - i) as i64) * 60_000)),
            }
        })
        .collect()
}

const PRODUCTS: [&str; 25] = [
    "空调",
    "冰箱",
    "洗衣机",
    "电视",
    "热水器",
    "油烟机",
    "燃气灶",
    "洗碗机",
    "扫地机器人",
    "空气净化器",
    "净水器",
    "电饭煲",
    "微波炉",
    "烤箱",
    "吸尘器",
    "加湿器",
    "电风扇",
    "取暖器",
    "音箱",
    "路由器",
    "投影仪",
    "咖啡机",
    "榨汁机",
    "电动牙刷",
    "吹风机",
];
const TOPICS: [&str; 40] = [
    "保修期",
    "安装费用",
    "清洗方法",
    "能效等级",
    "噪音大小",
    "尺寸规格",
    "售后电话",
    "配件购买",
    "以旧换新",
    "故障代码",
    "遥控器配对",
    "滤网更换",
    "说明书下载",
    "上门维修",
    "退换政策",
    "发票开具",
    "分期付款",
    "价格保护",
    "送货时间",
    "延保服务",
    "耗电量",
    "质检报告",
    "颜色选择",
    "包装清单",
    "固件升级",
    "保养周期",
    "异味处理",
    "漏水处理",
    "无法开机",
    "噪音异响",
    "APP绑定",
    "定时设置",
    "童锁解除",
    "静音模式",
    "节能模式",
    "安装位置",
    "电源要求",
    "运输损坏",
    "赠品领取",
    "会员折扣",
];

/// `n` generated FAQ entries as the import's CSV: one per product × topic, four phrasings.
fn generated_faqs(n: usize) -> Vec<u8> {
    let mut csv = String::from("问题,相似问法,答案,分类,标签,语言,状态,意图\n");
    for (p, t) in PRODUCTS.iter().flat_map(|p| TOPICS.iter().map(move |t| (p, t))).take(n) {
        csv.push_str(&format!(
            "{p}的{t}是怎样的,\"{p}{t}怎么说\n请问{p}{t}\n{t}{p}相关问题\",\
             关于{p}的{t}：请参考产品说明书第{}页，或联系售后。,{p},{t},zh,published,\n",
            t.len() + p.len()
        ));
    }
    csv.into_bytes()
}

#[derive(Debug, Args)]
pub struct RealtimeArgs {
    /// Chats to open, one after another.
    #[arg(long, default_value_t = 300)]
    samples: usize,
}

#[derive(Debug, Args)]
pub struct IngestArgs {
    /// Concurrent clients.
    #[arg(long, default_value_t = 8)]
    clients: usize,
    /// Messages in total (after a warm-up of 200).
    #[arg(long, default_value_t = 20_000)]
    messages: usize,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 300)]
    max_seconds: u64,
    /// Call the use case in-process instead of over HTTP, to separate storage from transport.
    #[arg(long)]
    in_process: bool,
}

pub async fn run(cmd: BenchCommand, config: &Config) -> anyhow::Result<()> {
    match cmd {
        BenchCommand::Ingest(a) => ingest(a, config).await,
        BenchCommand::Realtime(a) => realtime(a, config).await,
        BenchCommand::Timers(a) => crate::bench_timers::timers(a, config).await,
        BenchCommand::Suggest(a) => suggest(a, config).await,
        BenchCommand::Bot(a) => crate::bench_bot::bot(a, config).await,
        BenchCommand::Analytics(a) => crate::bench_analytics::analytics(a, config).await,
        BenchCommand::Crash(a) => crate::bench_crash::crash(a, config).await,
        BenchCommand::Ws(a) => crate::bench_ws::ws(a, config).await,
    }
}

/// A server on an ephemeral loopback port, on the configured database (a fresh temporary
/// SQLite file unless `--database-url` is given).
pub(crate) struct Server {
    pub(crate) base: String,
    pub(crate) app: app::App,
    _dir: Option<TempDir>,
}

/// A directory removed when dropped.
pub(crate) struct TempDir(pub(crate) std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `huiting serve` as a child process of this binary, SIGKILLed when dropped.
pub(crate) struct ChildServer {
    pub(crate) exe: std::path::PathBuf,
    pub(crate) db_args: Vec<String>,
    pub(crate) port: u16,
    pub(crate) child: Option<std::process::Child>,
}

impl ChildServer {
    pub(crate) async fn start(&mut self) -> anyhow::Result<()> {
        let child = std::process::Command::new(&self.exe)
            .arg("serve")
            .args(&self.db_args)
            .args(["--listen", &format!("127.0.0.1:{}", self.port)])
            .env("HUITING__LOG__LEVEL", "error")
            // Load from one loopback address, far beyond any one visitor's rate.
            .env("HUITING__AUTH__PUBLIC_REQUESTS_PER_MINUTE", "0")
            .env("HUITING__AUTH__VISITOR_MESSAGES_PER_MINUTE", "0")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::inherit())
            .spawn()
            .context("starting the server")?;
        self.child = Some(child);
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let r = http.get(format!("{}/readyz", self.base())).send().await;
            if r.is_ok_and(|r| r.status().is_success()) {
                return Ok(());
            }
            if let Some(c) = self.child.as_mut()
                && let Some(status) = c.try_wait()?
            {
                anyhow::bail!("the server exited while starting: {status}");
            }
            anyhow::ensure!(Instant::now() < deadline, "the server was not ready within 60 s");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub(crate) fn kill(&mut self) -> anyhow::Result<()> {
        if let Some(mut c) = self.child.take() {
            c.kill().context("SIGKILL")?;
            c.wait()?;
        }
        Ok(())
    }

    pub(crate) fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        let _ = self.kill();
    }
}

pub(crate) async fn start(config: &Config) -> anyhow::Result<Server> {
    let mut config = config.clone();
    // Load from one loopback address, far beyond any one visitor's rate.
    config.auth.public_requests_per_minute = 0;
    config.auth.visitor_messages_per_minute = 0;
    let dir = if config.database.url.is_empty() {
        let d = std::env::temp_dir().join(format!(
            "huiting-bench-{}-{}",
            std::process::id(),
            rand::random::<u32>()
        ));
        config.storage.data_dir = d.clone();
        Some(TempDir(d))
    } else {
        None
    };
    let db = crate::connect(&config).await?;
    let app = app::App::new(db, Arc::new(app::SystemClock), config.app_settings());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let state = http_api::AppState { app: app.clone(), secure_cookies: false, metrics_token: None };
    tokio::spawn(http_api::serve(listener, state, std::future::pending()));
    Ok(Server { base, app, _dir: dir })
}

pub(crate) fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

pub(crate) async fn workspace(server: &Server) -> anyhow::Result<domain::Workspace> {
    let slug = format!("bench-{}", rand::random::<u32>());
    let (ws, _) = server
        .app
        .create_workspace(app::admin::NewWorkspace {
            slug,
            name: "Bench".into(),
            ticket_prefix: "BN".into(),
            admin_email: domain::Email::parse("bench@example.com")?,
            admin_name: "Bench".into(),
            admin_password: "bench-password-123".into(),
        })
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    // These benchmarks measure storage and fan-out; the bot's turns have their own.
    bot_off(&server.base, &ws.slug).await?;
    Ok(ws)
}

/// Turns the bench workspace's bot off, over HTTP as its admin.
pub(crate) async fn bot_off(base: &str, slug: &str) -> anyhow::Result<()> {
    let http = reqwest::Client::new();
    let (cookie, csrf) = login(&http, base, slug).await?;
    http.put(format!("{base}/api/v1/bot/settings"))
        .header("cookie", cookie)
        .header("x-csrf-token", csrf)
        .json(&json!({"enabled": false}))
        .send()
        .await?
        .error_for_status()?;
    Ok(())
}

/// Logs in as the bench admin: the session cookie and the CSRF token.
pub(crate) async fn login(
    http: &reqwest::Client,
    base: &str,
    slug: &str,
) -> anyhow::Result<(String, String)> {
    let login = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"workspace": slug, "email": "bench@example.com", "password": "bench-password-123"}))
        .send()
        .await?
        .error_for_status()?;
    let cookie = login
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .context("no session cookie")?
        .to_string();
    let body: Value = login.json().await?;
    Ok((cookie, body["csrf_token"].as_str().unwrap_or_default().to_owned()))
}

#[allow(clippy::print_stdout)] // The report is the command's output.
async fn realtime(a: RealtimeArgs, config: &Config) -> anyhow::Result<()> {
    use futures::StreamExt;
    use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest};
    anyhow::ensure!((1..=10_000).contains(&a.samples), "--samples must be 1 to 10000");
    let server = start(config).await?;
    let ws = workspace(&server).await?;
    let http = reqwest::Client::new();
    let (cookie, _) = login(&http, &server.base, &ws.slug).await?;
    let mut req =
        format!("{}/api/v1/ws", server.base.replace("http://", "ws://")).into_client_request()?;
    req.headers_mut().insert("cookie", cookie.parse()?);
    let (mut socket, _) = tokio_tungstenite::connect_async(req).await?;
    let mut lat = Vec::with_capacity(a.samples);
    let deadline = Instant::now() + Duration::from_secs(300);
    for i in 0..a.samples {
        let t = Instant::now();
        let r: Value = http
            .post(format!("{}/api/v1/public/conversations", server.base))
            .json(&json!({"public_key": ws.public_key, "message": format!("实时测试 {i}")}))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let conv = r["conversation"]["id"].as_str().context("no conversation")?.to_string();
        loop {
            anyhow::ensure!(Instant::now() < deadline, "the benchmark ran out of time");
            let m = tokio::time::timeout(Duration::from_secs(10), socket.next())
                .await
                .context("no event within 10 s")?;
            if let Some(Ok(Message::Text(text))) = m {
                let e: Value = serde_json::from_str(&text)?;
                if e["type"] == "message.created" && e["data"]["conversation_id"] == conv.as_str() {
                    lat.push(t.elapsed());
                    break;
                }
            }
        }
    }
    lat.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!("| backend | samples | p50 (ms) | p95 (ms) | p99 (ms) | max (ms) |");
    println!("|---|---|---|---|---|---|");
    println!(
        "| {:?} | {} | {:.2} | {:.2} | {:.2} | {:.2} |",
        server.app.db().dialect(),
        lat.len(),
        ms(percentile(&lat, 0.5)),
        ms(percentile(&lat, 0.95)),
        ms(percentile(&lat, 0.99)),
        ms(*lat.last().unwrap_or(&Duration::ZERO))
    );
    Ok(())
}

#[allow(clippy::print_stdout)] // The report is the command's output.
async fn ingest(a: IngestArgs, config: &Config) -> anyhow::Result<()> {
    anyhow::ensure!(a.clients >= 1 && a.clients <= 256, "--clients must be 1 to 256");
    anyhow::ensure!(a.messages >= a.clients, "--messages must be at least --clients");
    let server = start(config).await?;
    let ws = workspace(&server).await?;
    let http = reqwest::Client::builder().pool_max_idle_per_host(a.clients * 2).build()?;
    let mut convs = Vec::new();
    for i in 0..a.clients {
        let r: Value = http
            .post(format!("{}/api/v1/public/conversations", server.base))
            .json(&json!({"public_key": ws.public_key, "name": format!("客户 {i}")}))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let token = r["visitor_token"].as_str().context("no visitor token")?.to_string();
        let conv = r["conversation"]["id"].as_str().context("no conversation id")?.to_string();
        convs.push((token, conv));
    }
    let direct = a.in_process.then(|| server.app.clone());
    let post = |http: reqwest::Client,
                base: String,
                token: String,
                conv: String,
                n: usize,
                tag: &'static str| {
        client_loop(direct.clone(), http, base, token, conv, n, tag)
    };
    // Warm-up: connections, statement caches, page cache.
    let (tok, conv) = &convs[0];
    post(http.clone(), server.base.clone(), tok.clone(), conv.clone(), 200, "warm").await;

    let per = a.messages / a.clients;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (tok, conv) in &convs {
        tasks.push(tokio::spawn(post(
            http.clone(),
            server.base.clone(),
            tok.clone(),
            conv.clone(),
            per,
            "run",
        )));
    }
    let deadline = Duration::from_secs(a.max_seconds);
    let mut all = Vec::new();
    let mut failures = 0;
    for t in tasks {
        let (lat, f) = tokio::time::timeout(deadline.saturating_sub(started.elapsed()), t)
            .await
            .context("the benchmark ran out of time")??;
        all.extend(lat);
        failures += f;
    }
    let elapsed = started.elapsed();
    all.sort();
    let ok = all.len();
    let rate = ok as f64 / elapsed.as_secs_f64();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let dialect = format!("{:?}", server.app.db().dialect());
    println!(
        "| backend | clients | messages | failures | throughput (msg/s) | p50 (ms) | p95 (ms) | p99 (ms) | max (ms) |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    println!(
        "| {dialect} | {} | {ok} | {failures} | {rate:.0} | {:.2} | {:.2} | {:.2} | {:.2} |",
        a.clients,
        ms(percentile(&all, 0.50)),
        ms(percentile(&all, 0.95)),
        ms(percentile(&all, 0.99)),
        ms(*all.last().unwrap_or(&Duration::ZERO)),
    );
    Ok(())
}

/// One client posting `n` messages in sequence; returns the latencies of the successes and the
/// number of failures.
async fn client_loop(
    direct: Option<app::App>,
    http: reqwest::Client,
    base: String,
    token: String,
    conv: String,
    n: usize,
    tag: &'static str,
) -> (Vec<Duration>, usize) {
    let mut lat = Vec::with_capacity(n);
    let mut failures = 0usize;
    for i in 0..n {
        let body = format!("你好，我的订单 DD2026{i:06} 什么时候发货？");
        let key = format!("{tag}-{i}");
        let t = Instant::now();
        let ok = match &direct {
            Some(app) => async {
                let v = app.authenticate_visitor(&token).await?;
                let id = domain::ConversationId::parse(&conv)?;
                let m = app::intake::NewMessage {
                    body,
                    idempotency_key: Some(key),
                    ..Default::default()
                };
                app.post_visitor_message(&v, id, m).await
            }
            .await
            .is_ok(),
            None => http
                .post(format!("{base}/api/v1/public/conversations/{conv}/messages"))
                .bearer_auth(&token)
                .header("idempotency-key", key)
                .json(&json!({ "body": body }))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success()),
        };
        if ok {
            lat.push(t.elapsed());
        } else {
            failures += 1;
        }
    }
    (lat, failures)
}

/// Customers' messages the suggestion benchmark cycles through.
const SUGGEST_MESSAGES: &[&str] = &[
    "我的退款怎么还没到账",
    "快递好几天没更新了",
    "空调装好了但是不制冷",
    "发票抬头写错了能重开吗",
    "where is my package",
    "安装师傅一直没联系我",
];

#[allow(clippy::print_stdout)] // The report is the command's output.
async fn suggest(a: SuggestArgs, config: &Config) -> anyhow::Result<()> {
    use app::auth::{BotEditor, Capability, Principal};
    anyhow::ensure!((1..=100_000).contains(&a.samples), "--samples must be 1 to 100000");
    anyhow::ensure!(a.extra_faqs <= 1000, "--extra-faqs must be 0 to 1000");
    anyhow::ensure!(a.extra_templates <= 1000, "--extra-templates must be 0 to 1000");
    anyhow::ensure!(a.solved_tickets <= 200_000, "--solved-tickets must be 0 to 200000");
    anyhow::ensure!((1..=64).contains(&a.concurrency), "--concurrency must be 1 to 64");
    let server = start(config).await?;
    let ws = workspace(&server).await?;
    // The solved-ticket history, written as the derived rows the indexing job writes, then
    // this server's index built from them (what a server does at its first suggestion).
    let t0 = Instant::now();
    let rows = solved_rows(a.solved_tickets, server.app.now());
    {
        let mut tx = server.app.db().derived().await?;
        app::db::similar::synth(&mut tx, ws.id, &rows).await?;
        tx.commit().await.context("committing generated solved tickets")?;
    }
    let generated = t0.elapsed();
    let t0 = Instant::now();
    let indexed = server.app.similar_index_len(ws.id).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let built = t0.elapsed();
    println!(
        "solved tickets: {indexed} indexed (rows written in {:.1} s, index built in {:.1} s)",
        generated.as_secs_f64(),
        built.as_secs_f64()
    );
    let editor = BotEditor::from_principal(Principal {
        workspace: ws.id,
        actor: domain::Actor::System,
        role: domain::Role::Admin,
        user: None,
        department: None,
        teams: Vec::new(),
        csrf_token: None,
    })?;
    let r = server
        .app
        .import_faqs(
            &editor,
            crate::kb_cli::DEMO_FAQ,
            app::bot::kb_io::SheetFormat::Csv,
            domain::KbStatus::Published,
            false,
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut entries = r.created;
    if a.extra_faqs > 0 {
        let more = server
            .app
            .import_faqs(
                &editor,
                &generated_faqs(a.extra_faqs),
                app::bot::kb_io::SheetFormat::Csv,
                domain::KbStatus::Published,
                false,
            )
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        anyhow::ensure!(more.created == a.extra_faqs, "generated FAQ rows rejected: {more:?}");
        entries += more.created;
    }
    let generated: Vec<String> = PRODUCTS
        .iter()
        .flat_map(|p| {
            TOPICS.iter().map(move |t| {
                format!("{{{{customer.name}}}}您好，{p}的{t}问题我们已记录，稍后回复您。")
            })
        })
        .take(a.extra_templates)
        .collect();
    for (i, m) in [
        "{{customer.name}}您好，退款将在1–3个工作日到账。",
        "{{customer.name}}您好，已为您催促快递。",
    ]
    .iter()
    .copied()
    .chain(generated.iter().map(String::as_str))
    .enumerate()
    {
        server
            .app
            .create_template(
                &editor,
                app::bot::assist::NewTemplate {
                    name: format!("话术 {i}"),
                    body: (*m).to_owned(),
                    category: String::new(),
                    tags: vec!["退款".into(), "物流".into()],
                    lang: domain::KbLang::Zh,
                },
            )
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    let http = reqwest::Client::new();
    let (cookie, _) = login(&http, &server.base, &ws.slug).await?;
    let mut convs = Vec::new();
    for m in SUGGEST_MESSAGES {
        let r: Value = http
            .post(format!("{}/api/v1/public/conversations", server.base))
            .json(&json!({"public_key": ws.public_key, "name": "王芳", "message": m}))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        convs.push(r["conversation"]["id"].as_str().context("no conversation")?.to_string());
    }
    let (mut lat, mut server_ms) = (Vec::new(), Vec::new());
    let mut with_similar = 0usize;
    let per_client = (a.samples + 20).div_ceil(a.concurrency);
    let mut clients = tokio::task::JoinSet::new();
    for c in 0..a.concurrency {
        let (http, cookie, convs) = (http.clone(), cookie.clone(), convs.clone());
        let base = server.base.clone();
        clients.spawn(async move {
            let mut out = Vec::with_capacity(per_client);
            for i in 0..per_client {
                let conv = &convs[(c + i) % convs.len()];
                let t = Instant::now();
                let r: Value = http
                    .get(format!("{base}/api/v1/conversations/{conv}/suggestions"))
                    .header("cookie", &cookie)
                    .send()
                    .await?
                    .error_for_status()?
                    .json()
                    .await?;
                out.push((i, t.elapsed(), r));
            }
            anyhow::Ok(out)
        });
    }
    while let Some(done) = clients.join_next().await {
        for (i, took, r) in done.context("a client task panicked")?? {
            anyhow::ensure!(
                r["faqs"].as_array().is_some_and(|f| !f.is_empty()),
                "no FAQ suggestion: {r}"
            );
            // The first requests of each client warm up.
            if i >= 20 / a.concurrency {
                lat.push(took);
                server_ms
                    .push(Duration::from_secs_f64(r["took_ms"].as_f64().unwrap_or(0.0) / 1000.0));
                if r["similar_tickets"].as_array().is_some_and(|s| !s.is_empty()) {
                    with_similar += 1;
                }
            }
        }
    }
    anyhow::ensure!(
        a.solved_tickets == 0 || with_similar * 2 >= lat.len(),
        "similar tickets in only {with_similar} of {} responses",
        lat.len()
    );
    lat.sort();
    server_ms.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "FAQ entries: {entries}; templates: {}; solved tickets: {indexed}; messages cycled: {}; \
         clients: {}; responses with similar tickets: {with_similar} of {}",
        2 + a.extra_templates,
        convs.len(),
        a.concurrency,
        lat.len()
    );
    println!("| backend | measured | samples | p50 (ms) | p95 (ms) | p99 (ms) | max (ms) |");
    println!("|---|---|---|---|---|---|---|");
    for (what, v) in [("HTTP round trip", &lat), ("server (took_ms)", &server_ms)] {
        println!(
            "| {:?} | {what} | {} | {:.2} | {:.2} | {:.2} | {:.2} |",
            server.app.db().dialect(),
            v.len(),
            ms(percentile(v, 0.5)),
            ms(percentile(v, 0.95)),
            ms(percentile(v, 0.99)),
            ms(*v.last().unwrap_or(&Duration::ZERO))
        );
    }
    Ok(())
}
