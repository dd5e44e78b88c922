//! `huiting bot shell` (chat with a workspace's bot in the terminal, with the analysis behind
//! each reply) and `huiting bot test FILE…` (conversation scripts, see `bot_script` and
//! `docs/bot-scripts.md`). Both act as a widget visitor through the same `app` calls as the
//! public API (`open_chat`, `post_visitor_message` + `bot_reply`, `bot_pick`), so the bot runs
//! exactly as in production; the clock is a `ManualClock` so scripts can set the time.

use std::{
    io::{BufRead, Write},
    path::{Path, PathBuf},
    sync::Arc,
};

use anyhow::Context;
use app::{
    App, ManualClock,
    auth::{Agent, Capability, Principal, Staff, Visitor},
    bot::runtime::{ConnectorFault, Turn},
    intake::{CustomerPatch, Hello, NewMessage},
};
use clap::{Args, Subcommand};
use domain::{Actor, Clock as _, ConversationId, MessageId, Role, SenderKind, Tier, Timestamp};

use crate::{
    bot_script::{self, ConnectorMode, Step, TicketCheck},
    config::Config,
    demo_oms,
};

#[derive(Debug, Subcommand)]
pub enum BotCommand {
    /// Chats with a workspace's bot in the terminal, showing the analysis behind each reply
    /// (language, intent and confidence, matched FAQ, dialogue state, hand-off reason).
    Shell(ShellArgs),
    /// Runs conversation scripts against a workspace's bot and reports pass/fail per script;
    /// exits 1 if any fails. Directories are searched for *.txt files.
    Test(TestArgs),
}

#[derive(Debug, Args)]
pub struct ShellArgs {
    /// The workspace's short name.
    #[arg(long, default_value = "demo")]
    workspace: String,
    /// The customer's name.
    #[arg(long, default_value = "终端访客")]
    name: String,
    /// Chat as a VIP customer.
    #[arg(long)]
    vip: bool,
}

#[derive(Debug, Args)]
pub struct TestArgs {
    /// The workspace's short name.
    #[arg(long, default_value = "demo")]
    workspace: String,
    /// Print every turn, not only failures.
    #[arg(long, short)]
    verbose: bool,
    /// Script files or directories of them.
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

/// One customer talking to the bot.
struct Session {
    app: App,
    clock: ManualClock,
    public_key: String,
    name: String,
    vip: bool,
    chat: Option<(Visitor, ConversationId)>,
    last_seen: Option<MessageId>,
}

/// What a step showed: the bot's replies and everything the checks look at.
#[derive(Debug, Default)]
struct Seen {
    replies: Vec<String>,
    buttons: Vec<(String, String)>,
    turn: Turn,
}

impl Session {
    async fn chat(&mut self) -> anyhow::Result<(Visitor, ConversationId, Option<Turn>)> {
        if let Some((v, c)) = &self.chat {
            return Ok((*v, *c, None));
        }
        let hello = Hello { name: Some(self.name.clone()), ..Hello::default() };
        let chat = self
            .app
            .open_chat(&self.public_key, None, hello, None)
            .await
            .map_err(|e| anyhow::anyhow!("opening a chat: {e}"))?;
        if self.vip {
            let agent = Agent::from_principal(system(chat.visitor.workspace(), Role::Agent))?;
            let p = CustomerPatch { tier: Some(Tier::Vip), ..CustomerPatch::default() };
            self.app
                .update_customer(&agent, chat.conversation.customer, p)
                .await
                .map_err(|e| anyhow::anyhow!("making the customer a VIP: {e}"))?;
        }
        let conv = chat.conversation.id;
        let turn = self
            .app
            .bot_start(&chat.visitor, conv)
            .await
            .map_err(|e| anyhow::anyhow!("the bot's welcome: {e}"))?;
        self.chat = Some((chat.visitor, conv));
        Ok((chat.visitor, conv, Some(turn)))
    }

    fn seen(turns: Vec<Turn>) -> Seen {
        let mut s = Seen::default();
        for t in turns {
            s.replies.extend(t.replies.iter().map(|m| m.body.clone()));
            if !t.buttons.is_empty() || !t.replies.is_empty() {
                s.buttons =
                    t.buttons.iter().map(|b| (b.label.clone(), b.payload.clone())).collect();
            }
            let keep_analysis = t.analysis.is_some();
            let prev = std::mem::take(&mut s.turn);
            s.turn = Turn {
                handoff: t.handoff.or(prev.handoff),
                ticket: t.ticket.clone().or(prev.ticket),
                analysis: if keep_analysis { t.analysis.clone() } else { prev.analysis },
                state: if t.state.is_empty() { prev.state } else { t.state.clone() },
                ..Turn::default()
            };
        }
        s
    }

    async fn open(&mut self) -> anyhow::Result<Seen> {
        let (_, _, welcome) = self.chat().await?;
        // Remember the last bot reply so `@wait` shows only what came after.
        let last = welcome.as_ref().and_then(|t| t.replies.last()).map(|m| m.id);
        self.last_seen = last.or(self.last_seen);
        Ok(Self::seen(welcome.into_iter().collect()))
    }

    async fn say(&mut self, text: &str) -> anyhow::Result<Seen> {
        let (v, conv, welcome) = self.chat().await?;
        let m = NewMessage { body: text.to_owned(), ..NewMessage::default() };
        let (msg, _) = self
            .app
            .post_visitor_message(&v, conv, m)
            .await
            .map_err(|e| anyhow::anyhow!("sending the message: {e}"))?;
        let turn = self
            .app
            .bot_reply(v.workspace(), conv, &msg.body)
            .await
            .map_err(|e| anyhow::anyhow!("the bot's turn: {e}"))?;
        let mut turns: Vec<Turn> = welcome.into_iter().collect();
        turns.push(turn);
        let last = turns.last().and_then(|t| t.replies.last()).map(|m| m.id);
        let seen = Self::seen(turns);
        self.last_seen = last.or(self.last_seen);
        Ok(seen)
    }

    /// Presses the button labelled `label` (or with that payload) among `buttons`.
    async fn press(&mut self, label: &str, buttons: &[(String, String)]) -> anyhow::Result<Seen> {
        // `#2` is the second button; otherwise a label or a payload.
        let by_index = label
            .strip_prefix('#')
            .and_then(|n| n.parse::<usize>().ok())
            .and_then(|n| buttons.get(n.wrapping_sub(1)));
        let payload = by_index
            .or_else(|| buttons.iter().find(|(l, p)| l == label || p == label))
            .map(|(_, p)| p.clone())
            .with_context(|| {
                format!(
                    "no button '{label}' on the last reply (buttons: {})",
                    buttons.iter().map(|(l, _)| l.as_str()).collect::<Vec<_>>().join(" | ")
                )
            })?;
        let (v, conv, _) = self.chat().await?;
        let turn = self
            .app
            .bot_pick(&v, conv, &payload)
            .await
            .map_err(|e| anyhow::anyhow!("pressing '{label}': {e}"))?;
        let last = turn.replies.last().map(|m| m.id);
        self.last_seen = last.or(self.last_seen);
        Ok(Self::seen(vec![turn]))
    }

    /// Moves the clock on and runs the background jobs due by then, as the server's worker
    /// would; shows the bot messages that arrived meanwhile.
    async fn wait(&mut self, ms: i64) -> anyhow::Result<Seen> {
        self.clock.advance_millis(ms);
        for _ in 0..20 {
            let done = self
                .app
                .run_jobs_once("bot-test", self.clock.now())
                .await
                .map_err(|e| anyhow::anyhow!("running due jobs: {e}"))?;
            if done == app::jobs::Outcome::Empty {
                break;
            }
        }
        let mut s = Seen::default();
        let Some((v, conv)) = self.chat else { return Ok(s) };
        let msgs = self
            .app
            .visitor_messages(&v, conv, self.last_seen, 200)
            .await
            .map_err(|e| anyhow::anyhow!("reading the conversation: {e}"))?;
        for m in msgs {
            self.last_seen = Some(m.id);
            if m.sender == SenderKind::Bot {
                s.replies.push(m.body);
            }
        }
        Ok(s)
    }
}

fn system(ws: domain::WorkspaceId, role: Role) -> Principal {
    Principal {
        workspace: ws,
        actor: Actor::System,
        role,
        user: None,
        department: None,
        teams: Vec::new(),
        csrf_token: None,
    }
}

/// The app on the configured database with a steppable clock, the workspace's widget key,
/// the demo order system started if the bot's connectors name it, and the intent model
/// trained if training is still queued (the server's worker would do it).
async fn prepare(config: &Config, slug: &str) -> anyhow::Result<(App, ManualClock, String)> {
    let db = crate::connect(config).await?;
    let clock = ManualClock::new(app::SystemClock.now());
    let app = App::new(db, Arc::new(clock.clone()), config.app_settings());
    let ws = app.workspace_by_slug(slug).await.map_err(|e| match e {
        app::Error::NotFound(_) => anyhow::anyhow!(
            "no workspace '{slug}'; create it (huiting create-workspace) or seed the demo (huiting demo --seed-only)"
        ),
        e => anyhow::anyhow!("looking up workspace {slug}: {e}"),
    })?;
    let staff = Staff::from_principal(system(ws.id, Role::Admin))?;
    let cfg = app.bot_settings(&staff).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    if demo_oms::ensure(&cfg).await? {
        tracing::info!("serving the demo order system for this session");
    }
    for _ in 0..50 {
        let models = app.list_models(&staff).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        let intent = |m: &&domain::NluModel| m.kind == domain::ModelKind::Intent;
        if models.iter().filter(intent).any(|m| m.active)
            || !models.iter().filter(intent).any(|m| m.status == domain::ModelStatus::Training)
        {
            break;
        }
        eprintln!("training the intent model…");
        app.run_jobs_once("bot-cli", clock.now()).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    Ok((app, clock, ws.public_key))
}

/// The first working moment at or after `now` (plus half an hour into it), by the office
/// calendar the bot uses, so scripts run in business hours unless they say `@time`.
fn working_moment(now: Timestamp) -> Timestamp {
    let cals = workflow::defaults::default_calendars();
    match cals.values().next() {
        Some(c) if c.is_open(now) => now,
        Some(c) => c
            .next_open(now)
            .map(|t| Timestamp::from_millis(t.millis() + 30 * 60_000))
            .unwrap_or(now),
        None => now,
    }
}

pub async fn run(command: BotCommand, config: &Config) -> anyhow::Result<std::process::ExitCode> {
    match command {
        BotCommand::Shell(a) => shell(a, config).await,
        BotCommand::Test(a) => test(a, config).await,
    }
}

#[allow(clippy::print_stdout)] // The shell talks on stdout.
fn show(seen: &Seen) {
    if let Some(a) = &seen.turn.analysis {
        let intent = match &a.intent {
            Some((l, c)) => {
                format!("{l} {:.2}{}", c, if a.in_scope { "" } else { " (below threshold)" })
            }
            None => "-".into(),
        };
        let faqs = a
            .faqs
            .iter()
            .take(3)
            .map(|(q, s)| format!("{q} ({s:.2})"))
            .collect::<Vec<_>>()
            .join("; ");
        println!(
            "  · lang {} · intent {} · match {}{}{}{}",
            a.lang,
            intent,
            a.matched,
            if faqs.is_empty() { String::new() } else { format!(": {faqs}") },
            if a.strong_negative { " · strong negative" } else { "" },
            if a.entities.is_empty() {
                String::new()
            } else {
                format!(" · entities {}", a.entities.join(", "))
            },
        );
    }
    for r in &seen.replies {
        println!("bot> {r}");
    }
    if !seen.buttons.is_empty() {
        let b: Vec<String> =
            seen.buttons.iter().enumerate().map(|(i, (l, _))| format!("[{}] {l}", i + 1)).collect();
        println!("     buttons: {}  (/press N)", b.join("  "));
    }
    let mut tail = Vec::new();
    if !seen.turn.state.is_empty() {
        tail.push(format!("state {}", seen.turn.state));
    }
    if let Some(r) = seen.turn.handoff {
        tail.push(format!("handed off: {}", r.name()));
    }
    if let Some(t) = &seen.turn.ticket {
        tail.push(format!(
            "ticket {} · {} · {} · {}",
            t.number,
            t.problem_code.map_or("-".to_owned(), |c| c.to_string()),
            t.urgency.as_str(),
            t.severity.as_str()
        ));
    }
    if !tail.is_empty() {
        println!("  · {}", tail.join(" · "));
    }
}

#[allow(clippy::print_stdout)]
async fn shell(a: ShellArgs, config: &Config) -> anyhow::Result<std::process::ExitCode> {
    let (app, clock, public_key) = prepare(config, &a.workspace).await?;
    let mut s = Session {
        app,
        clock: clock.clone(),
        public_key,
        name: a.name,
        vip: a.vip,
        chat: None,
        last_seen: None,
    };
    println!(
        "慧听 bot shell — workspace {}. Type a message; /press N presses a button, /time 2026-12-05T22:00+08:00 sets the clock, /wait 10m runs time on, /new starts over, /quit leaves.",
        a.workspace
    );
    let mut pinned = false;
    let seen = s.open().await?;
    show(&seen);
    let mut buttons = seen.buttons.clone();
    let stdin = std::io::stdin();
    loop {
        print!("you> ");
        std::io::stdout().flush()?;
        let mut line = String::new();
        if stdin.lock().read_line(&mut line)? == 0 {
            break;
        }
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if !pinned {
            clock.set(app::SystemClock.now());
        }
        let result = if line == "/quit" || line == "/exit" {
            break;
        } else if line == "/new" {
            s.chat = None;
            s.last_seen = None;
            s.open().await
        } else if let Some(t) = line.strip_prefix("/time ") {
            match bot_script::parse_time(t) {
                Some(ms) => {
                    clock.set(Timestamp::from_millis(ms));
                    pinned = true;
                    println!("  · clock set");
                }
                None => println!("  · a time such as 2026-12-05T22:00+08:00"),
            }
            continue;
        } else if let Some(d) = line.strip_prefix("/wait ") {
            match bot_script::parse_duration(d) {
                Some(ms) => {
                    pinned = true;
                    s.wait(ms).await
                }
                None => {
                    println!("  · a duration such as 90s, 10m, 2h");
                    continue;
                }
            }
        } else if let Some(n) = line.strip_prefix("/press ") {
            let label = n
                .trim()
                .parse::<usize>()
                .ok()
                .and_then(|i| buttons.get(i.wrapping_sub(1)))
                .map_or(n.trim().to_owned(), |(l, _)| l.clone());
            s.press(&label, &buttons).await
        } else {
            s.say(line).await
        };
        match result {
            Ok(seen) => {
                show(&seen);
                if !seen.buttons.is_empty() || !seen.replies.is_empty() {
                    buttons = seen.buttons.clone();
                }
            }
            Err(e) => println!("  ! {e:#}"),
        }
    }
    Ok(std::process::ExitCode::SUCCESS)
}

/// The script files named, directories expanded to their *.txt files, sorted.
fn script_files(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut v: Vec<PathBuf> = std::fs::read_dir(p)
                .with_context(|| format!("reading {}", p.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|e| e == "txt"))
                .collect();
            v.sort();
            out.extend(v);
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

fn contains(hay: &str, needle: &str) -> bool {
    hay.to_lowercase().contains(&needle.to_lowercase())
}

/// Runs one script; `Err` is the first failed check (or a step that could not run).
async fn run_script(
    app: &App,
    clock: &ManualClock,
    public_key: &str,
    path: &Path,
    text: &str,
    verbose: bool,
) -> Result<usize, String> {
    let lines = bot_script::parse(text).map_err(|e| e.to_string())?;
    let stem = path.file_stem().map_or("script".into(), |s| s.to_string_lossy().into_owned());
    clock.set(working_moment(app::SystemClock.now()));
    app.simulate_connector_fault(None);
    let mut s = Session {
        app: app.clone(),
        clock: clock.clone(),
        public_key: public_key.to_owned(),
        name: format!("脚本测试 {stem}"),
        vip: false,
        chat: None,
        last_seen: None,
    };
    let mut seen = Seen::default();
    let mut cursor = 0;
    let mut checks = 0;
    let fail = |no: usize, msg: String, seen: &Seen| {
        let replies = if seen.replies.is_empty() {
            "(no reply)".to_owned()
        } else {
            seen.replies.iter().map(|r| format!("    bot> {r}")).collect::<Vec<_>>().join("\n")
        };
        format!("line {no}: {msg}\n  the bot's last turn (state {}):\n{replies}", seen.turn.state)
    };
    for line in &lines {
        let no = line.no;
        let action = match &line.step {
            Step::Time(ms) => {
                clock.set(Timestamp::from_millis(*ms));
                None
            }
            Step::Vip => {
                s.vip = true;
                None
            }
            Step::Name(n) => {
                s.name = n.clone();
                None
            }
            Step::Connector(m) => {
                app.simulate_connector_fault(match m {
                    ConnectorMode::Up => None,
                    ConnectorMode::Down => Some(ConnectorFault::Down),
                    ConnectorMode::Timeout => Some(ConnectorFault::Timeout),
                });
                None
            }
            Step::Open => Some(s.open().await),
            Step::Customer(t) => Some(s.say(t).await),
            Step::Press(label) => {
                let buttons = seen.buttons.clone();
                Some(s.press(label, &buttons).await)
            }
            Step::Wait(ms) => Some(s.wait(*ms).await),
            check => {
                checks += 1;
                check_one(check, &seen, &mut cursor).map_err(|m| fail(no, m, &seen))?;
                None
            }
        };
        if let Some(r) = action {
            seen = r.map_err(|e| format!("line {no}: {e:#}"))?;
            cursor = 0;
            if verbose {
                #[allow(clippy::print_stdout)]
                for r in &seen.replies {
                    println!("    [{no}] bot> {r}");
                }
            }
        }
    }
    app.simulate_connector_fault(None);
    Ok(checks)
}

fn check_one(step: &Step, seen: &Seen, cursor: &mut usize) -> Result<(), String> {
    let t = &seen.turn;
    match step {
        Step::Bot(text) => match seen.replies[*cursor..].iter().position(|r| contains(r, text)) {
            Some(i) => {
                // The next `bot:` looks at this reply or a later one.
                *cursor += i;
                Ok(())
            }
            None => Err(format!("expected a reply containing '{text}'")),
        },
        Step::Not(text) => match seen.replies.iter().find(|r| contains(r, text)) {
            Some(r) => Err(format!("expected no reply containing '{text}', got '{r}'")),
            None => Ok(()),
        },
        Step::Silent => {
            if seen.replies.is_empty() {
                Ok(())
            } else {
                Err(format!("expected no reply, got {} replies", seen.replies.len()))
            }
        }
        Step::Buttons(want) => {
            let have: Vec<&str> = seen.buttons.iter().map(|(l, _)| l.as_str()).collect();
            match want.iter().find(|w| !have.iter().any(|h| contains(h, w))) {
                Some(w) => {
                    Err(format!("expected a button '{w}', buttons are: {}", have.join(" | ")))
                }
                None => Ok(()),
            }
        }
        Step::Handoff(want) => {
            let got = t.handoff.map(|r| r.name());
            if got == want.as_deref() {
                Ok(())
            } else {
                Err(format!(
                    "expected hand-off {}, got {}",
                    want.as_deref().unwrap_or("none"),
                    got.unwrap_or("none")
                ))
            }
        }
        Step::Ticket(c) => ticket_check(c, t.ticket.as_ref()),
        Step::Intent(want) => {
            let a = t.analysis.as_ref().ok_or("intent: needs a customer message before it")?;
            let got = a.intent.as_ref().filter(|_| a.in_scope).map(|(l, _)| l.as_str());
            if got == want.as_deref() {
                Ok(())
            } else {
                Err(format!(
                    "expected intent {}, got {} ({})",
                    want.as_deref().unwrap_or("none"),
                    got.unwrap_or("none"),
                    a.intent
                        .as_ref()
                        .map_or("no model".into(), |(l, c)| format!("best {l} {c:.2}"))
                ))
            }
        }
        Step::Lang(want) => {
            let a = t.analysis.as_ref().ok_or("lang: needs a customer message before it")?;
            if &a.lang == want {
                Ok(())
            } else {
                Err(format!("expected lang {want}, got {}", a.lang))
            }
        }
        Step::Match(want) => {
            let a = t.analysis.as_ref().ok_or("match: needs a customer message before it")?;
            if a.matched == want {
                Ok(())
            } else {
                Err(format!("expected match {want}, got {} ({:?})", a.matched, a.faqs.first()))
            }
        }
        Step::State(want) => {
            if t.state == *want || t.state.starts_with(&format!("{want}:")) {
                Ok(())
            } else {
                Err(format!("expected state {want}, got {}", t.state))
            }
        }
        _ => Ok(()),
    }
}

fn ticket_check(c: &TicketCheck, t: Option<&domain::Ticket>) -> Result<(), String> {
    let Some(t) = t else {
        return if c.none { Ok(()) } else { Err("expected a ticket, none was created".into()) };
    };
    if c.none {
        return Err(format!("expected no ticket, got {}", t.number));
    }
    let code = t.problem_code.map_or("-".to_owned(), |c| c.to_string());
    let checks = [
        ("problem_code", c.problem_code.as_deref(), code.as_str()),
        ("urgency", c.urgency.as_deref(), t.urgency.as_str()),
        ("severity", c.severity.as_deref(), t.severity.as_str()),
    ];
    for (name, want, got) in checks {
        if let Some(w) = want
            && !w.eq_ignore_ascii_case(got)
        {
            return Err(format!("expected ticket {name} {w}, got {got} (ticket {})", t.number));
        }
    }
    if let Some(tag) = &c.tag
        && !t.tags.iter().any(|x| x == tag)
    {
        return Err(format!("expected ticket tag {tag}, tags are {:?}", t.tags));
    }
    Ok(())
}

#[allow(clippy::print_stdout)]
async fn test(a: TestArgs, config: &Config) -> anyhow::Result<std::process::ExitCode> {
    let files = script_files(&a.files)?;
    if files.is_empty() {
        anyhow::bail!("no scripts found in {:?}", a.files);
    }
    let (app, clock, public_key) = prepare(config, &a.workspace).await?;
    let (mut passed, mut failed) = (0, 0);
    let started = std::time::Instant::now();
    for f in &files {
        let text =
            std::fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))?;
        match run_script(&app, &clock, &public_key, f, &text, a.verbose).await {
            Ok(checks) => {
                passed += 1;
                println!("PASS {} ({checks} checks)", f.display());
            }
            Err(e) => {
                failed += 1;
                println!("FAIL {}\n  {e}", f.display());
            }
        }
    }
    println!(
        "{passed} passed, {failed} failed ({} scripts in {:.1} s)",
        files.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(if failed == 0 { std::process::ExitCode::SUCCESS } else { std::process::ExitCode::from(1) })
}
