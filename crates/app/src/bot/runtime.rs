//! The bot at run time (BOT-1…BOT-6, TK-1): a customer's message on a bot-handled conversation
//! is analysed, matched, and stepped through `dialogue`; the commands are carried out here —
//! bot replies stored as messages, connector calls, hand-off tickets pre-filled and the
//! conversation moved to the human queue, left messages turned into tickets — and the state is
//! saved for the next message (it survives restarts). One turn runs at a time per conversation
//! (in this process). Outcomes (answered, rated, unmatched, hand-off) are rows for bot metrics
//! and the learning loop.

use std::collections::VecDeque;

use dialogue::{
    BotConfig, Button, Candidate, Command, Context, HandoffReason, Input, Lang, Match, Pick,
    SlotKind, State, Understanding, Value, Vars, prefill,
};
use domain::{
    Actor, BotOutcomeId, ConversationId, Handler, Message, ProblemCode, Role, SenderKind, Severity,
    Status, Ticket, Tier, Timestamp, Urgency, Visibility, WorkspaceId,
};
use nlu::entities::{EntityKind, EntityValue};

use crate::{
    App, Result,
    auth::{Admin, Agent, Capability, Principal, Staff, Visitor},
    bot::matching::{DEFAULT_SETTINGS, MatchCandidate, MatchInput, MatchKb, MatchKind, MatchReads},
    error::OrNotFound,
    intake::{NewMessage, conversations::From, ingest::TurnWrites},
    tickets::NewTicket,
};

/// Striped locks: a conversation's turns never interleave, without a map to clean up. Also
/// holds the simulated connector fault (`huiting bot test`'s `@connector down`).
#[derive(Debug)]
pub struct TurnLocks {
    locks: [tokio::sync::Mutex<()>; 64],
    fault: std::sync::Mutex<Option<ConnectorFault>>,
}

impl Default for TurnLocks {
    fn default() -> Self {
        TurnLocks {
            locks: std::array::from_fn(|_| tokio::sync::Mutex::new(())),
            fault: std::sync::Mutex::new(None),
        }
    }
}

impl TurnLocks {
    fn of(&self, c: ConversationId) -> &tokio::sync::Mutex<()> {
        let b = c.as_uuid().as_u128();
        &self.locks[(b as usize ^ (b >> 64) as usize) % self.locks.len()]
    }
}

/// What the bot understood of one customer message: the analysis `huiting bot shell` shows.
#[derive(Debug, Clone, Default)]
pub struct TurnAnalysis {
    /// The detected language code (`zh`, `en`, `ja`…).
    pub lang: String,
    /// The classifier's best intent and its confidence, and whether it was confident enough.
    pub intent: Option<(String, f32)>,
    pub in_scope: bool,
    /// `answer`, `confirm` or `no_match`.
    pub matched: &'static str,
    /// The knowledge base's best entries (question, score).
    pub faqs: Vec<(String, f64)>,
    pub strong_negative: bool,
    /// Slot values found (`order_no=DD…`).
    pub entities: Vec<String>,
}

/// What one bot turn did, for the caller (the widget shows the replies and buttons at once).
#[derive(Debug, Clone, Default)]
pub struct Turn {
    pub replies: Vec<Message>,
    /// The buttons offered with the last reply (confirmation choices, rating, leave a message).
    pub buttons: Vec<Button>,
    pub handoff: Option<HandoffReason>,
    /// The ticket opened by a hand-off or a left message.
    pub ticket: Option<Ticket>,
    /// The analysis of the customer's message (turns started by a message).
    pub analysis: Option<TurnAnalysis>,
    /// The dialogue phase after the turn (`bot`, `rating`, `filling:order_status.order_no`…).
    pub state: String,
}

/// A connector failure to simulate instead of calling (for conversation scripts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectorFault {
    /// As if the company's system refused the connection.
    Down,
    /// As if it did not answer within the connector's timeout.
    Timeout,
}

/// A short name of a dialogue phase, for the shell and the scripts' `state:` check.
pub fn phase_name(p: &dialogue::Phase) -> String {
    use dialogue::Phase;
    match p {
        Phase::Bot => "bot".into(),
        Phase::Confirming { .. } => "confirming".into(),
        Phase::Filling { flow, slot, .. } => format!("filling:{flow}.{slot}"),
        Phase::Calling { flow, .. } => format!("calling:{flow}"),
        Phase::Rating { .. } => "rating".into(),
        Phase::Human { reason } => format!("human:{}", reason.name()),
        Phase::LeavingMessage { reason } => format!("leaving_message:{}", reason.name()),
    }
}

/// Bot metrics over a period (BOT-8, AN-2).
#[derive(Debug, Clone, Default)]
pub struct Metrics {
    pub conversations: i64,
    /// Conversations the bot finished without a human, as a share of `conversations`.
    pub containment: f64,
    pub handed_off: i64,
    pub answered: i64,
    pub unmatched: i64,
    /// Unmatched messages as a share of answered + unmatched.
    pub no_match_rate: f64,
    pub handoff_by_reason: Vec<(String, i64)>,
    /// Intent (or "" for entries without one), ratings, mean rating.
    pub rating_by_intent: Vec<(String, i64, f64)>,
}

/// What starts a turn.
enum Start {
    Opened,
    Message(String),
    Pick(Pick),
}

/// The office calendar, parsed once rather than on every customer message.
static OFFICE: std::sync::LazyLock<workflow::sla::Calendars> =
    std::sync::LazyLock::new(workflow::defaults::default_calendars);

/// The redaction shown instead of a connector's secret; saving it back keeps the secret.
pub const SECRET_MASK: &str = "********";

fn system_agent(ws: WorkspaceId) -> Result<Agent> {
    Agent::from_principal(Principal {
        workspace: ws,
        actor: Actor::System,
        role: Role::Agent,
        user: None,
        department: None,
        teams: Vec::new(),
        csrf_token: None,
    })
}

/// The language engine's entities as slot values.
fn values(entities: &[nlu::entities::Entity]) -> Vec<Value> {
    entities
        .iter()
        .filter_map(|e| {
            let (kind, value) = match (&e.kind, &e.value) {
                (EntityKind::OrderNo, EntityValue::Text(t)) => (SlotKind::OrderNo, t.clone()),
                (EntityKind::Phone, EntityValue::Text(t)) => (SlotKind::Phone, t.clone()),
                (EntityKind::Email, EntityValue::Text(t)) => (SlotKind::Email, t.clone()),
                (EntityKind::Money, EntityValue::Money { minor_units, .. }) => (
                    SlotKind::Money,
                    format!("{}.{:02}", minor_units / 100, (minor_units % 100).abs()),
                ),
                (EntityKind::Date, EntityValue::Date { from, .. }) => {
                    (SlotKind::Date, from.to_string())
                }
                (EntityKind::Product, EntityValue::Product { sku }) => {
                    (SlotKind::Product, sku.clone())
                }
                _ => return None,
            };
            Some(Value { kind, value })
        })
        .collect()
}

fn lang_of(l: nlu::lang::Lang) -> Option<Lang> {
    match l {
        nlu::lang::Lang::Zh => Some(Lang::Zh),
        nlu::lang::Lang::En => Some(Lang::En),
        _ => None,
    }
}

fn masked(mut cfg: BotConfig) -> BotConfig {
    for c in &mut cfg.connectors {
        if c.secret.is_some() {
            c.secret = Some(SECRET_MASK.into());
        }
    }
    cfg
}

impl App {
    /// The workspace's bot configuration (defaults until an admin saves one).
    pub(crate) async fn bot_config(&self, ws: WorkspaceId) -> Result<BotConfig> {
        let mut c = self.db.read().await?;
        Ok(db::bot::settings_get(&mut c, ws).await?.unwrap_or_default())
    }

    /// The configuration as staff see it: connector secrets masked.
    pub async fn bot_settings(&self, s: &Staff) -> Result<BotConfig> {
        Ok(masked(self.bot_config(s.workspace).await?))
    }

    /// Validates and saves the configuration (admins: it holds connector secrets and the
    /// hosts allowed on private networks). A masked secret keeps the stored one.
    pub async fn set_bot_settings(&self, a: &Admin, mut cfg: BotConfig) -> Result<BotConfig> {
        let old = self.bot_config(a.workspace).await?;
        for c in &mut cfg.connectors {
            if c.secret.as_deref() == Some(SECRET_MASK) {
                c.secret =
                    old.connectors.iter().find(|o| o.name == c.name).and_then(|o| o.secret.clone());
            }
        }
        cfg.validate().map_err(|e| domain::ParseError::new("config", e.to_string()))?;
        let now = self.now();
        let mut tx = self.db.write(a.workspace).await?;
        db::bot::settings_put(&mut tx, a.workspace, &cfg, now).await?;
        tx.audit(now, a.actor, "bot.settings", "workspace", &a.workspace.to_string(), None, None)
            .await?;
        self.commit(tx).await?;
        Ok(masked(cfg))
    }

    /// Whether people are at work now, by the default office calendar (Asia/Shanghai, Mon–Fri
    /// 09:00–12:00 and 13:30–18:00).
    fn humans_at_work(&self, now: Timestamp) -> bool {
        OFFICE.values().next().is_none_or(|c| c.is_open(now))
    }

    /// The widget opened: the welcome message (once per conversation).
    pub async fn bot_start(&self, v: &Visitor, conv: ConversationId) -> Result<Turn> {
        self.visitor_get_conversation(v, conv).await?;
        self.bot_turn(v.workspace, conv, Start::Opened).await
    }

    /// A button the customer pressed (`faq:<id>`, `none`, `rate:<n>`, `leave_message`).
    pub async fn bot_pick(&self, v: &Visitor, conv: ConversationId, payload: &str) -> Result<Turn> {
        self.visitor_get_conversation(v, conv).await?;
        let pick = Pick::parse(payload).ok_or_else(|| {
            domain::ParseError::new("payload", "one of faq:<id>, none, rate:<1-5>, leave_message")
        })?;
        // The press shows in the transcript as what the customer chose.
        let label = match &pick {
            Pick::Rating(n) => format!("{n}"),
            Pick::Faq(_) | Pick::NoneOfThese | Pick::LeaveMessage => String::new(),
        };
        if !label.is_empty() {
            self.post_visitor_message(v, conv, NewMessage { body: label, ..NewMessage::default() })
                .await?;
        }
        self.bot_turn(v.workspace, conv, Start::Pick(pick)).await
    }

    /// The bot's answer to a customer message already stored on `conv`. Nothing happens on a
    /// conversation a human handles.
    pub async fn bot_reply(
        &self,
        ws: WorkspaceId,
        conv: ConversationId,
        text: &str,
    ) -> Result<Turn> {
        self.bot_turn(ws, conv, Start::Message(text.to_owned())).await
    }

    /// Language, intent, entities and the knowledge base's verdict on a customer message
    /// already analysed; `kb` and `reads` are what matching needs (the turn read them).
    fn understand(
        &self,
        conversation: &domain::Conversation,
        text: &str,
        a: &nlu::Analysis,
        kb: &MatchKb,
        reads: &MatchReads,
    ) -> Result<(Understanding, TurnAnalysis)> {
        let intent = a.intent.as_ref().and_then(|p| p.label()).map(str::to_owned);
        let mut shown = TurnAnalysis {
            lang: a.lang.code().to_owned(),
            intent: a
                .intent
                .as_ref()
                .and_then(|p| p.top.first())
                .map(|s| (s.label.clone(), s.confidence)),
            in_scope: intent.is_some(),
            matched: "no_match",
            faqs: Vec::new(),
            strong_negative: a.sentiment.strong_negative,
            entities: Vec::new(),
        };
        let matched = if text.trim().is_empty() {
            Match::NoMatch
        } else {
            let input = MatchInput {
                text: text.to_owned(),
                channel: Some(conversation.channel),
                customer: Some(conversation.customer),
            };
            let outcome = self.match_read(kb, reads, &input, a)?;
            shown.matched = outcome.kind.as_str();
            shown.faqs = outcome
                .candidates
                .iter()
                .map(|c| (c.faq.content.question.clone(), c.score))
                .collect();
            let candidate = |c: &MatchCandidate| Candidate {
                id: c.faq.id.to_string(),
                question: c.faq.content.question.clone(),
                answer: c.answer.clone(),
                intent: c.faq.content.intent.clone(),
            };
            match outcome.kind {
                MatchKind::Answer => outcome
                    .candidates
                    .first()
                    .map_or(Match::NoMatch, |c| Match::Answer(candidate(c))),
                MatchKind::Confirm => {
                    Match::Confirm(outcome.candidates.iter().map(candidate).collect())
                }
                MatchKind::NoMatch => Match::NoMatch,
            }
        };
        // A message that is only an order number, a phone or a digit says nothing about the
        // customer's language: the conversation keeps the one it has.
        let mut rest = String::with_capacity(text.len());
        let mut at = 0;
        for e in &a.entities {
            if let Some(before) = text.get(at..e.start).filter(|_| e.end >= e.start) {
                rest.push_str(before);
                at = e.end;
            }
        }
        rest.push_str(text.get(at..).unwrap_or_default());
        let wordy = rest.chars().filter(|c| c.is_alphabetic()).count() >= 2;
        let u = Understanding {
            text: text.to_owned(),
            lang: if wordy { lang_of(a.lang) } else { None },
            intent,
            matched,
            strong_negative: a.sentiment.strong_negative,
            values: values(&a.entities),
        };
        shown.entities =
            u.values.iter().map(|v| format!("{}={}", v.kind.name(), v.value)).collect();
        Ok((u, shown))
    }

    /// Makes every connector call of this process fail as `fault` says, without calling, until
    /// set back to `None` (`huiting bot test`'s `@connector down|timeout|up`).
    pub fn simulate_connector_fault(&self, fault: Option<ConnectorFault>) {
        if let Ok(mut f) = self.bot_turns.fault.lock() {
            *f = fault;
        }
    }

    async fn bot_turn(&self, ws: WorkspaceId, conv: ConversationId, start: Start) -> Result<Turn> {
        let _turn = self.bot_turns.of(conv).lock().await;
        let mut turn = Turn::default();
        // Built from the database the first time, through a connection of their own: taken
        // before the turn holds one.
        let kb = match &start {
            Start::Message(_) => Some(self.match_kb(ws).await?),
            Start::Opened | Start::Pick(_) => None,
        };
        let now = self.now();
        // The turn's reads, two statements on one connection, given back before any write.
        let (conversation, cfg, mut state, ctx, understood) = {
            let mut c = self.db.read().await?;
            let r = db::bot::turn_reads(&mut c, ws, conv).await?.or_not_found("conversation")?;
            let cfg = r.config.unwrap_or_default();
            let state = r.state.unwrap_or_else(|| State::new(&cfg));
            if !cfg.enabled {
                turn.state = "off".into();
                return Ok(turn);
            }
            // A human's conversation: the bot only waits for the hand-off and for a message
            // the customer chose to leave when nobody picked up.
            if r.conversation.handler != Handler::Bot
                && !matches!(
                    state.phase,
                    dialogue::Phase::Human { .. } | dialogue::Phase::LeavingMessage { .. }
                )
            {
                turn.state = "human".into();
                return Ok(turn);
            }
            let customer = db::customers::get(&mut c, ws, r.conversation.customer)
                .await?
                .or_not_found("customer")?;
            let ctx = Context {
                business_open: self.humans_at_work(now),
                vip: customer.tier == Tier::Vip,
                customer: Vars::from([
                    ("customer.name".to_owned(), customer.name.clone()),
                    ("customer.tier".to_owned(), customer.tier.as_str().to_owned()),
                ]),
            };
            let understood = match (&start, &kb) {
                (Start::Message(text), Some(kb)) => {
                    let a = self.analyze_with(&mut c, ws, &r.active_models, text).await?;
                    let reads = MatchReads {
                        customer: Some(customer),
                        settings: r.kb_settings.unwrap_or(DEFAULT_SETTINGS),
                        workspace_name: r.workspace_name,
                    };
                    let (u, shown) = self.understand(&r.conversation, text, &a, kb, &reads)?;
                    turn.analysis = Some(shown);
                    Some(u)
                }
                _ => None,
            };
            (r.conversation, cfg, state, ctx, understood)
        };
        let first = match (start, &understood) {
            (Start::Message(_), Some(u)) => Input::Message(u),
            (Start::Pick(p), _) => Input::Pick(p),
            _ => Input::Start,
        };
        let last_understanding = understood.as_ref();
        let mut pending: VecDeque<Input<'_>> = VecDeque::from([first]);
        // The turn's writes, committed together with its replies at the end (or before a
        // connector call or a hand-off, so what was said so far shows first).
        let mut says: Vec<String> = Vec::new();
        let mut writes = TurnWrites::default();
        while let Some(input) = pending.pop_front() {
            let (next, commands) = dialogue::step(&cfg, &ctx, state, input);
            state = next;
            for cmd in commands {
                match cmd {
                    Command::Say { text, buttons } => {
                        says.push(text);
                        turn.buttons = buttons;
                    }
                    Command::Call { connector, vars, .. } => {
                        self.flush_turn(ws, conv, &mut says, &mut writes, None, &mut turn).await?;
                        let fault = self.bot_turns.fault.lock().ok().and_then(|f| *f);
                        let outcome =
                            match (cfg.connectors.iter().find(|c| c.name == connector), fault) {
                                (Some(_), Some(ConnectorFault::Down)) => {
                                    dialogue::ConnectorOutcome::Failed(
                                        "could not connect (simulated)".into(),
                                    )
                                }
                                (Some(_), Some(ConnectorFault::Timeout)) => {
                                    dialogue::ConnectorOutcome::Failed(
                                        "timed out (simulated)".into(),
                                    )
                                }
                                (Some(def), None) => super::connector::call(def, &vars).await,
                                (None, _) => dialogue::ConnectorOutcome::Failed(format!(
                                    "no connector {connector}"
                                )),
                            };
                        pending.push_back(Input::Connector(outcome));
                    }
                    Command::Handoff { reason } => {
                        self.flush_turn(ws, conv, &mut says, &mut writes, None, &mut turn).await?;
                        let o = self.outcome_row(
                            ws,
                            conv,
                            "handoff",
                            None,
                            None,
                            None,
                            Some(reason.name()),
                            None,
                        );
                        let no_pickup = cfg.handoff.no_pickup_minutes;
                        let t = self
                            .hand_off(ws, &conversation, reason, last_understanding, o, no_pickup)
                            .await?;
                        turn.handoff = Some(reason);
                        turn.ticket = Some(t);
                    }
                    Command::TakeMessage { text, reason } => {
                        self.flush_turn(ws, conv, &mut says, &mut writes, None, &mut turn).await?;
                        let o = self.outcome_row(
                            ws,
                            conv,
                            "message_taken",
                            None,
                            None,
                            None,
                            Some(reason.name()),
                            Some(&text),
                        );
                        let t = self
                            .hand_off(ws, &conversation, reason, last_understanding, o, None)
                            .await?;
                        pending.push_back(Input::MessageTaken { ticket: t.number.to_string() });
                        turn.ticket = Some(t);
                    }
                    Command::Answered { id, intent } => {
                        // The question answered, so a low rating can point back at it (BOT-7).
                        let asked = last_understanding.map(|u| u.text.as_str());
                        writes.outcomes.push(self.outcome_row(
                            ws,
                            conv,
                            "answered",
                            Some(&id),
                            intent.as_deref(),
                            None,
                            None,
                            asked,
                        ));
                    }
                    Command::Rated { id, intent, score } => {
                        writes.outcomes.push(self.outcome_row(
                            ws,
                            conv,
                            "rated",
                            Some(&id),
                            intent.as_deref(),
                            Some(score.into()),
                            None,
                            None,
                        ));
                        if i64::from(score) <= domain::learning::LOW_RATING {
                            writes.learning = true;
                        }
                    }
                    Command::Unmatched { text } => {
                        writes.outcomes.push(self.outcome_row(
                            ws,
                            conv,
                            "unmatched",
                            None,
                            None,
                            None,
                            None,
                            Some(&text),
                        ));
                        writes.learning = true;
                    }
                }
            }
        }
        turn.state = phase_name(&state.phase);
        self.flush_turn(ws, conv, &mut says, &mut writes, Some(state), &mut turn).await?;
        Ok(turn)
    }

    /// Stores what the turn said and did so far in one transaction: its replies (through the
    /// group-committing ingest path, so concurrent turns share commits), its outcome rows, the
    /// learning job, and with `state` the conversation's dialogue state.
    async fn flush_turn(
        &self,
        ws: WorkspaceId,
        conv: ConversationId,
        says: &mut Vec<String>,
        writes: &mut TurnWrites,
        state: Option<State>,
        turn: &mut Turn,
    ) -> Result<()> {
        let mut w = std::mem::take(writes);
        w.state = state;
        if says.is_empty() {
            if w.outcomes.is_empty() && w.state.is_none() && !w.learning {
                return Ok(());
            }
            let now = self.now();
            let mut tx = self.db.write(ws).await?;
            self.write_turn(&mut tx, conv, &w, &mut false, now).await?;
            self.commit(tx).await?;
        } else {
            let replies = self.ingest_turn(ws, conv, std::mem::take(says), w).await?;
            turn.replies.extend(replies);
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn outcome_row(
        &self,
        ws: WorkspaceId,
        conv: ConversationId,
        kind: &'static str,
        entry: Option<&str>,
        intent: Option<&str>,
        score: Option<i64>,
        reason: Option<&str>,
        text: Option<&str>,
    ) -> db::bot::Outcome {
        let at = self.now();
        db::bot::Outcome {
            id: self.ids.next(at, BotOutcomeId::new),
            workspace: ws,
            conversation: conv,
            kind,
            entry: entry.map(str::to_owned),
            intent: intent.map(str::to_owned),
            score,
            reason: reason.map(str::to_owned),
            text: text.map(|t| t.chars().take(500).collect()),
            at,
        }
    }

    /// Moves the conversation to the human queue and opens (or reuses) its ticket, pre-filled
    /// from what the bot understood (TK-1), with an internal note saying why.
    async fn hand_off(
        &self,
        ws: WorkspaceId,
        conversation: &domain::Conversation,
        reason: HandoffReason,
        last: Option<&Understanding>,
        outcome: db::bot::Outcome,
        no_pickup_minutes: Option<u32>,
    ) -> Result<Ticket> {
        let agent = system_agent(ws)?;
        let transcript = {
            let mut c = self.db.read().await?;
            db::conversations::messages(&mut c, ws, conversation.id, None, 200, true).await?
        };
        let customer_text: Vec<&str> = transcript
            .iter()
            .filter(|m| m.sender == SenderKind::Customer)
            .map(|m| m.body.as_str())
            .collect();
        let joined = customer_text.join("\n");
        let intent = last.and_then(|u| u.intent.clone());
        let strong = last.is_some_and(|u| u.strong_negative);
        let p = prefill::suggest(&joined, intent.as_deref(), strong);
        let code = match p.problem_code.and_then(|c| ProblemCode::parse(c).ok()) {
            Some(code) => {
                let mut c = self.db.read().await?;
                db::workspaces::problem_code_get(&mut c, ws, code)
                    .await?
                    .filter(|e| e.active)
                    .map(|_| code)
            }
            None => None,
        };
        // The conversation's open ticket, if an agent already opened one.
        let existing = {
            let mut c = self.db.read().await?;
            let f =
                db::tickets::Filter { customer: Some(conversation.customer), ..Default::default() };
            db::tickets::list(&mut c, ws, &f, &db::Page { limit: 50, before: None })
                .await?
                .into_iter()
                .find(|t| {
                    t.conversation == conversation.id
                        && !matches!(t.status, Status::Solved | Status::Closed)
                })
        };
        let ticket = match existing {
            Some(t) => t,
            None => {
                let first = customer_text.first().copied().unwrap_or("在线咨询");
                let subject: String = first.chars().filter(|c| !c.is_control()).take(60).collect();
                let mut fields = vec![("handoff_reason".to_owned(), reason.name().to_owned())];
                if let Some(i) = &intent {
                    fields.push(("bot_intent".to_owned(), i.clone()));
                }
                let n = NewTicket {
                    subject: if subject.trim().is_empty() {
                        "在线咨询".into()
                    } else {
                        subject
                    },
                    customer: conversation.customer,
                    conversation: Some(conversation.id),
                    channel: conversation.channel,
                    description: None,
                    attachments: Vec::new(),
                    problem_code: code,
                    severity: Severity::parse(p.severity).ok(),
                    urgency: Urgency::parse(p.urgency.name()).ok(),
                    assignee: None,
                    team: conversation.team,
                    tags: vec!["bot_handoff".into()],
                    custom_fields: fields,
                };
                self.create_ticket(&agent, n).await?
            }
        };
        // The hand-off itself is one transaction: the conversation moves to the human queue,
        // with the outcome row and the job that checks on it if nobody picks it up (BOT-3).
        let now = self.now();
        let mut tx = self.db.write(ws).await?;
        let before = db::conversations::get(&mut tx, ws, conversation.id)
            .await?
            .or_not_found("conversation")?;
        if before.handler != Handler::Human {
            let mut after = before.clone();
            after.handler = Handler::Human;
            after.updated_at = now;
            self.save_conversation_change(&mut tx, agent.actor, &before, &after, now).await?;
        }
        db::bot::outcome_insert(&mut tx, &outcome).await?;
        if let Some(m) = no_pickup_minutes {
            let job =
                domain::Job::BotNoPickup { conversation: conversation.id, handed_off_at: now };
            let id = self.ids.next(now, domain::JobId::new);
            tx.enqueue(id, &job, now.plus_millis(i64::from(m) * 60_000), now).await?;
        }
        self.commit(tx).await?;
        let entities: Vec<String> = last
            .map(|u| u.values.iter().map(|v| format!("{}={}", v.kind.name(), v.value)).collect())
            .unwrap_or_default();
        let note = format!(
            "机器人转人工 / Bot hand-off\n原因 Reason: {}\n意图 Intent: {}\n实体 Entities: {}\n建议 Suggested: {} · {} · {}\n依据 Because: {}",
            reason.name(),
            intent.as_deref().unwrap_or("-"),
            if entities.is_empty() { "-".into() } else { entities.join(", ") },
            p.problem_code.unwrap_or("-"),
            p.urgency.name(),
            p.severity,
            if p.reasons.is_empty() { "-".into() } else { p.reasons.join("; ") },
        );
        let from = From { actor: Actor::System, sender: SenderKind::System, author: None };
        let m = NewMessage {
            body: note,
            visibility: Some(Visibility::Internal),
            ..NewMessage::default()
        };
        self.ingest(ws, conversation.id, from, m, false, None).await?;
        Ok(ticket)
    }

    /// The `BotNoPickup` job (BOT-3): nobody has answered a handed-off conversation in the
    /// configured time. Unless an agent wrote since the hand-off (or the bot no longer holds it
    /// as handed off), the bot tells the customer their place in the queue and the expected
    /// wait, offering to take a message instead; written in the job's transaction.
    pub(crate) async fn bot_no_pickup(
        &self,
        tx: &mut db::WriteTx,
        conv: ConversationId,
        handed_off_at: Timestamp,
        now: Timestamp,
    ) -> Result<()> {
        let ws = tx.workspace();
        let Some(conversation) = db::conversations::get(tx, ws, conv).await? else {
            return Ok(());
        };
        let Some(state) = db::bot::session_get(tx, ws, conv).await? else { return Ok(()) };
        if conversation.handler != Handler::Human
            || !matches!(state.phase, dialogue::Phase::Human { .. })
            || state.offered_message
        {
            return Ok(());
        }
        let messages = db::conversations::messages(tx, ws, conv, None, 1000, true).await?;
        if messages.iter().any(|m| m.sender == SenderKind::Agent && m.created_at >= handed_off_at) {
            return Ok(());
        }
        let cfg = db::bot::settings_get(tx, ws).await?.unwrap_or_default();
        let customer =
            db::customers::get(tx, ws, conversation.customer).await?.or_not_found("customer")?;
        // The place in the queue of the conversation's open ticket, if it waits in one.
        let ticket = {
            let f =
                db::tickets::Filter { customer: Some(conversation.customer), ..Default::default() };
            db::tickets::list(tx, ws, &f, &db::Page { limit: 50, before: None })
                .await?
                .into_iter()
                .find(|t| t.conversation == conv && t.status.is_active())
        };
        let status = match &ticket {
            Some(t) => self.ticket_queue_status(&t.tracking_token).await.ok().flatten(),
            None => None,
        };
        let fallback = cfg.handoff.no_pickup_minutes.unwrap_or(5);
        let position = status.as_ref().map_or(0, |s| s.position.saturating_sub(1));
        let minutes = status.and_then(|s| s.estimated_wait_ms).map_or(fallback, |ms| {
            u32::try_from((ms + 59_999) / 60_000).unwrap_or(u32::MAX).max(1)
        });
        let ctx = Context {
            business_open: self.humans_at_work(now),
            vip: customer.tier == Tier::Vip,
            customer: Vars::new(),
        };
        let (next, commands) =
            dialogue::step(&cfg, &ctx, state, Input::NoPickup { position, minutes });
        for cmd in commands {
            if let Command::Say { text, .. } = cmd {
                let m = Message {
                    id: self.ids.next(now, domain::MessageId::new),
                    workspace: ws,
                    conversation: conv,
                    sender: SenderKind::Bot,
                    author: None,
                    visibility: Visibility::Public,
                    body: text,
                    attachments: Vec::new(),
                    created_at: now,
                };
                db::conversations::insert_message(tx, &m, None).await?;
                tx.audit(
                    now,
                    Actor::System,
                    "message.create",
                    "message",
                    &m.id.to_string(),
                    None,
                    Some(&crate::intake::snapshot::message(&m)),
                )
                .await?;
                let audience = domain::Audience {
                    customer: Some(conversation.customer),
                    team: conversation.team,
                    assignee: conversation.assignee,
                    internal: false,
                };
                let e = domain::Event::MessageCreated {
                    conversation: conv,
                    message: m.id,
                    sender: m.sender,
                    visibility: m.visibility,
                };
                tx.emit(now, Actor::System, e, audience).await?;
            }
        }
        db::bot::session_put(tx, ws, conv, &next, now).await?;
        Ok(())
    }

    /// Bot metrics over the last `days` days.
    pub async fn bot_metrics(&self, s: &Staff, days: i64) -> Result<Metrics> {
        if !(1..=366).contains(&days) {
            return Err(domain::ParseError::new("days", "1 to 366").into());
        }
        let now = self.now();
        let (from, to) = (
            Timestamp::from_millis(now.millis() - days * 86_400_000),
            Timestamp::from_millis(now.millis() + 1),
        );
        let mut c = self.db.read().await?;
        let n = db::bot::counts(&mut c, s.workspace, from, to).await?;
        let share = |a: i64, b: i64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        Ok(Metrics {
            conversations: n.conversations,
            containment: share(n.conversations - n.handed_off, n.conversations),
            handed_off: n.handed_off,
            answered: n.answered,
            unmatched: n.unmatched,
            no_match_rate: share(n.unmatched, n.answered + n.unmatched),
            handoff_by_reason: n.by_reason,
            rating_by_intent: n
                .ratings
                .into_iter()
                .map(|(i, k, sum)| (i, k, share(sum, k)))
                .collect(),
        })
    }
}
