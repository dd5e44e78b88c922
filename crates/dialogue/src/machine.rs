//! The state machine: [`step`] turns one conversation's [`State`] and one [`Input`] into the
//! next state and the [`Command`]s to carry out.

use crate::{
    config::{BotConfig, Flow, Lang, OnFailure, SlotKind, Text},
    request::asks_for_human,
    template::{self, Vars},
};

/// A knowledge-base entry the bot can answer with.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Candidate {
    /// The entry's id, echoed in buttons and metrics.
    pub id: String,
    pub question: String,
    /// The answer, already rendered for this customer.
    pub answer: String,
    pub intent: Option<String>,
}

/// The knowledge base's verdict on a message (thresholds are the caller's, per workspace).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Match {
    Answer(Candidate),
    /// Close calls: ask which one the customer means.
    Confirm(Vec<Candidate>),
    NoMatch,
}

/// A value the language engine found in a message, by the slot kind it can fill.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Value {
    pub kind: SlotKind,
    /// Normalised (an order number upper-cased, an amount in yuan, a date as YYYY-MM-DD).
    pub value: String,
}

/// A customer message as the language engine and the knowledge base understood it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Understanding {
    pub text: String,
    /// `None` when the message is in neither zh nor en (or has no letters).
    pub lang: Option<Lang>,
    /// The in-scope intent, if the classifier is confident.
    pub intent: Option<String>,
    pub matched: Match,
    pub strong_negative: bool,
    pub values: Vec<Value>,
}

impl Understanding {
    /// A message with nothing recognised: no language, intent, match or values.
    pub fn plain(text: &str) -> Understanding {
        Understanding {
            text: text.to_owned(),
            lang: None,
            intent: None,
            matched: Match::NoMatch,
            strong_negative: false,
            values: Vec::new(),
        }
    }
}

/// What the bot knows about the moment, besides the message.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Context {
    /// Whether humans are working now (the workspace's business calendar).
    pub business_open: bool,
    pub vip: bool,
    /// `customer.name`, `customer.tier`…, for answer templates.
    pub customer: Vars,
}

/// A button the customer pressed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pick {
    Faq(String),
    NoneOfThese,
    Rating(u8),
    LeaveMessage,
}

impl Pick {
    /// The payload a button carries: `faq:<id>`, `none`, `rate:<1-5>`, `leave_message`.
    pub fn payload(&self) -> String {
        match self {
            Pick::Faq(id) => format!("faq:{id}"),
            Pick::NoneOfThese => "none".into(),
            Pick::Rating(n) => format!("rate:{n}"),
            Pick::LeaveMessage => "leave_message".into(),
        }
    }

    pub fn parse(payload: &str) -> Option<Pick> {
        match payload {
            "none" => Some(Pick::NoneOfThese),
            "leave_message" => Some(Pick::LeaveMessage),
            _ => {
                if let Some(id) = payload.strip_prefix("faq:") {
                    (!id.is_empty()).then(|| Pick::Faq(id.to_owned()))
                } else if let Some(n) = payload.strip_prefix("rate:") {
                    n.parse().ok().filter(|n| (1..=5).contains(n)).map(Pick::Rating)
                } else {
                    None
                }
            }
        }
    }
}

/// A connector's answer to [`Command::Call`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectorOutcome {
    /// The mapped fields of the response.
    Ok(Vars),
    /// A timeout, a refused address, a bad status or an unmappable body.
    Failed(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input<'a> {
    /// The conversation opened (the widget was shown).
    Start,
    Message(&'a Understanding),
    Pick(Pick),
    Connector(ConnectorOutcome),
    /// Nobody took the handed-off conversation within the configured time.
    NoPickup {
        position: u32,
        minutes: u32,
    },
    /// The ticket opened from a left message (after [`Command::TakeMessage`]).
    MessageTaken {
        ticket: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HandoffReason {
    Requested,
    StrongNegative,
    Vip,
    LowRating,
    Unmatched,
    SlotFailed,
    ConnectorFailed,
}

impl HandoffReason {
    pub const ALL: [HandoffReason; 7] = [
        HandoffReason::Requested,
        HandoffReason::StrongNegative,
        HandoffReason::Vip,
        HandoffReason::LowRating,
        HandoffReason::Unmatched,
        HandoffReason::SlotFailed,
        HandoffReason::ConnectorFailed,
    ];

    pub fn name(self) -> &'static str {
        match self {
            HandoffReason::Requested => "requested",
            HandoffReason::StrongNegative => "strong_negative",
            HandoffReason::Vip => "vip",
            HandoffReason::LowRating => "low_rating",
            HandoffReason::Unmatched => "unmatched",
            HandoffReason::SlotFailed => "slot_failed",
            HandoffReason::ConnectorFailed => "connector_failed",
        }
    }

    pub fn parse(name: &str) -> Option<HandoffReason> {
        HandoffReason::ALL.into_iter().find(|r| r.name() == name)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Button {
    pub label: String,
    pub payload: String,
}

/// Something for the caller to do, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Say {
        text: String,
        buttons: Vec<Button>,
    },
    /// Call `connector` with `vars` and feed the result back as [`Input::Connector`].
    Call {
        flow: String,
        connector: String,
        vars: Vars,
    },
    /// Move the conversation to the human queue, creating or linking a pre-filled ticket.
    Handoff {
        reason: HandoffReason,
    },
    /// Outside business hours: open a ticket from this message, then feed back
    /// [`Input::MessageTaken`].
    TakeMessage {
        text: String,
        reason: HandoffReason,
    },
    /// The bot answered (an entry id, or `flow:<name>`): containment metrics.
    Answered {
        id: String,
        intent: Option<String>,
    },
    Rated {
        id: String,
        intent: Option<String>,
        score: u8,
    },
    /// A message the bot could not answer: the learning loop's raw material.
    Unmatched {
        text: String,
    },
}

/// Where the conversation stands.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", tag = "phase")]
pub enum Phase {
    /// The bot listens.
    #[default]
    Bot,
    /// Waiting for the customer to pick one of these (or none).
    Confirming { choices: Vec<Candidate> },
    /// A flow waits for the value of `slot`.
    Filling { flow: String, filled: Vars, slot: String, attempts: u32 },
    /// A flow waits for its connector.
    Calling { flow: String, filled: Vars },
    /// Waiting for a 1–5 rating of the answer `id`.
    Rating { id: String, intent: Option<String> },
    /// A human has the conversation; the bot stays quiet.
    Human { reason: HandoffReason },
    /// The next message is taken as a message for a ticket.
    LeavingMessage { reason: HandoffReason },
}

/// One conversation's dialogue state; the caller stores it between messages.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct State {
    pub phase: Phase,
    pub lang: Lang,
    /// Unmatched messages in a row.
    pub unmatched: u32,
    pub welcomed: bool,
    /// Nobody picked up and the bot offered to take a message: typing the button's label
    /// ("留言") takes the offer too.
    pub offered_message: bool,
}

impl State {
    pub fn new(config: &BotConfig) -> State {
        State { lang: config.default_lang, ..State::default() }
    }
}

/// The next state and what to do, for any state and input.
pub fn step(
    config: &BotConfig,
    ctx: &Context,
    state: State,
    input: Input<'_>,
) -> (State, Vec<Command>) {
    let mut turn = Turn { config, ctx, state, out: Vec::new() };
    match input {
        Input::Start => turn.start(),
        Input::Message(u) => turn.message(u),
        Input::Pick(pick) => turn.pick(pick),
        Input::Connector(outcome) => turn.connector(outcome),
        Input::NoPickup { position, minutes } => turn.no_pickup(position, minutes),
        Input::MessageTaken { ticket } => {
            let text = turn.fill(&config.texts.message_taken, &[("ticket", &ticket)]);
            turn.say(text, Vec::new());
        }
    }
    (turn.state, turn.out)
}

struct Turn<'a> {
    config: &'a BotConfig,
    ctx: &'a Context,
    state: State,
    out: Vec<Command>,
}

impl<'a> Turn<'a> {
    fn text(&self, text: &Text) -> String {
        text.pick(self.state.lang).to_owned()
    }

    /// A fixed text with its placeholders (validated by `BotConfig::validate`) filled.
    fn fill(&self, text: &Text, pairs: &[(&str, &str)]) -> String {
        let vars: Vars = pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        let raw = text.pick(self.state.lang);
        template::render(raw, &vars).unwrap_or_else(|_| raw.to_owned())
    }

    fn say(&mut self, text: String, buttons: Vec<Button>) {
        self.out.push(Command::Say { text, buttons });
    }

    fn start(&mut self) {
        if !self.state.welcomed {
            self.state.welcomed = true;
            let welcome = self.text(&self.config.texts.welcome);
            self.say(welcome, Vec::new());
        }
        if self.config.handoff.vip_direct && self.ctx.vip && self.state.phase == Phase::Bot {
            self.hand_off(HandoffReason::Vip);
        }
    }

    fn hand_off(&mut self, reason: HandoffReason) {
        self.state.unmatched = 0;
        if self.ctx.business_open {
            let text = self.text(&self.config.texts.handoff);
            self.say(text, Vec::new());
            self.out.push(Command::Handoff { reason });
            self.state.phase = Phase::Human { reason };
        } else {
            let text = self.text(&self.config.texts.after_hours);
            self.say(text, Vec::new());
            self.state.phase = Phase::LeavingMessage { reason };
        }
    }

    fn message(&mut self, u: &Understanding) {
        if let Some(lang) = u.lang {
            self.state.lang = lang;
        }
        match std::mem::take(&mut self.state.phase) {
            Phase::Human { reason } => {
                let t = self.config.texts.leave_message.clone();
                let typed = u.text.trim();
                if self.state.offered_message
                    && (typed.eq_ignore_ascii_case(t.zh.trim())
                        || typed.eq_ignore_ascii_case(t.en.trim()))
                {
                    self.state.offered_message = false;
                    let text = self.text(&self.config.texts.leave_message_prompt);
                    self.say(text, Vec::new());
                    self.state.phase = Phase::LeavingMessage { reason };
                } else {
                    self.state.phase = Phase::Human { reason };
                }
                return;
            }
            Phase::LeavingMessage { reason } => {
                if u.text.trim().is_empty() {
                    self.state.phase = Phase::LeavingMessage { reason };
                } else {
                    self.out.push(Command::TakeMessage { text: u.text.clone(), reason });
                }
                return;
            }
            other => self.state.phase = other,
        }
        let rules = &self.config.handoff;
        if rules.on_request && asks_for_human(&u.text, &rules.phrases) {
            return self.hand_off(HandoffReason::Requested);
        }
        if rules.strong_negative && u.strong_negative {
            return self.hand_off(HandoffReason::StrongNegative);
        }
        if rules.vip_direct && self.ctx.vip {
            return self.hand_off(HandoffReason::Vip);
        }
        match std::mem::take(&mut self.state.phase) {
            Phase::Rating { id, intent } => {
                if let Some(score) = typed_rating(&u.text) {
                    return self.rated(id, intent, score);
                }
            }
            Phase::Confirming { choices } => {
                if let Some(c) = typed_choice(&u.text, choices.len()).map(|i| choices[i].clone()) {
                    return self.answer(c);
                }
            }
            Phase::Filling { flow, filled, slot, attempts } => {
                if let Some(f) = self.flow(&flow) {
                    return self.fill_slot(f, filled, &slot, attempts, u);
                }
            }
            // A message while the connector works, or in any other phase: a new question.
            _ => {}
        }
        self.fresh(u);
    }

    /// A message with no pending question: a flow by intent, else the knowledge base.
    fn fresh(&mut self, u: &Understanding) {
        // A flow starts by intent unless the knowledge base answers confidently with an
        // entry of another intent (or none) and the message carries none of the flow's
        // values: "包邮吗" is the shipping FAQ even if the classifier leans to "logistics".
        let started = u.intent.as_deref().and_then(|intent| {
            self.config.flows.iter().find(|f| f.intents.iter().any(|i| i == intent))
        });
        let started = started.filter(|flow| {
            let kb_elsewhere = matches!(&u.matched, Match::Answer(c)
                if !c.intent.as_deref().is_some_and(|i| flow.intents.iter().any(|f| f == i)));
            !kb_elsewhere || flow.slots.iter().any(|s| value_for(&s.kind, u, false).is_some())
        });
        if let Some(flow) = started {
            self.state.unmatched = 0;
            let mut filled = Vars::new();
            for slot in &flow.slots {
                if let Some(v) = value_for(&slot.kind, u, false) {
                    filled.insert(slot.name.clone(), v);
                }
            }
            return self.continue_flow(flow, filled);
        }
        match &u.matched {
            Match::Answer(c) => self.answer(c.clone()),
            Match::Confirm(choices) if !choices.is_empty() => {
                self.state.unmatched = 0;
                let mut buttons: Vec<Button> = choices
                    .iter()
                    .map(|c| Button {
                        label: c.question.clone(),
                        payload: Pick::Faq(c.id.clone()).payload(),
                    })
                    .collect();
                buttons.push(Button {
                    label: self.text(&self.config.texts.none_of_these),
                    payload: Pick::NoneOfThese.payload(),
                });
                let text = self.text(&self.config.texts.confirm);
                self.say(text, buttons);
                self.state.phase = Phase::Confirming { choices: choices.clone() };
            }
            _ => self.unmatched(&u.text),
        }
    }

    fn unmatched(&mut self, text: &str) {
        self.out.push(Command::Unmatched { text: text.to_owned() });
        self.state.unmatched += 1;
        self.state.phase = Phase::Bot;
        if self.config.handoff.unmatched_in_a_row.is_some_and(|n| self.state.unmatched >= n) {
            self.hand_off(HandoffReason::Unmatched);
        } else {
            let text = self.text(&self.config.texts.no_match);
            self.say(text, Vec::new());
        }
    }

    fn answer(&mut self, c: Candidate) {
        self.state.unmatched = 0;
        self.say(c.answer.clone(), Vec::new());
        self.answered(c.id, c.intent);
    }

    /// After any answer: record it and ask for a rating if configured.
    fn answered(&mut self, id: String, intent: Option<String>) {
        self.out.push(Command::Answered { id: id.clone(), intent: intent.clone() });
        if self.config.ask_rating {
            let buttons = (1..=5u8)
                .map(|n| Button { label: n.to_string(), payload: Pick::Rating(n).payload() })
                .collect();
            let text = self.text(&self.config.texts.rating_prompt);
            self.say(text, buttons);
            self.state.phase = Phase::Rating { id, intent };
        } else {
            self.state.phase = Phase::Bot;
        }
    }

    fn rated(&mut self, id: String, intent: Option<String>, score: u8) {
        self.out.push(Command::Rated { id, intent, score });
        self.state.phase = Phase::Bot;
        if self.config.handoff.rating_at_most.is_some_and(|max| score <= max) {
            self.hand_off(HandoffReason::LowRating);
        } else {
            let text = self.text(&self.config.texts.rating_thanks);
            self.say(text, Vec::new());
        }
    }

    fn pick(&mut self, pick: Pick) {
        match (std::mem::take(&mut self.state.phase), pick) {
            (Phase::Confirming { choices }, Pick::Faq(id)) => {
                match choices.iter().find(|c| c.id == id).cloned() {
                    Some(c) => self.answer(c),
                    // A stale button: keep asking.
                    None => self.state.phase = Phase::Confirming { choices },
                }
            }
            (Phase::Confirming { .. }, Pick::NoneOfThese) => self.unmatched(""),
            (Phase::Rating { id, intent }, Pick::Rating(score)) => self.rated(id, intent, score),
            (Phase::Human { reason }, Pick::LeaveMessage) => {
                self.state.offered_message = false;
                let text = self.text(&self.config.texts.leave_message_prompt);
                self.say(text, Vec::new());
                self.state.phase = Phase::LeavingMessage { reason };
            }
            // A button from an earlier turn: nothing to do.
            (phase, _) => self.state.phase = phase,
        }
    }

    fn flow(&self, name: &str) -> Option<&'a Flow> {
        self.config.flows.iter().find(|f| f.name == name)
    }

    fn fill_slot(
        &mut self,
        flow: &Flow,
        mut filled: Vars,
        slot_name: &str,
        attempts: u32,
        u: &Understanding,
    ) {
        let Some(slot) = flow.slots.iter().find(|s| s.name == slot_name) else {
            return self.continue_flow(flow, filled);
        };
        if let Some(v) = value_for(&slot.kind, u, true) {
            filled.insert(slot.name.clone(), v);
            return self.continue_flow(flow, filled);
        }
        // Not a value but a question the knowledge base answers, or one that starts another
        // flow and the knowledge base recognises too: the customer moved on. (Otherwise the
        // intent is only the classifier's nearest guess for an answer such as "I don't
        // remember": asked again.)
        let other_flow = u.intent.as_deref().is_some_and(|i| {
            !flow.intents.iter().any(|f| f == i)
                && self.config.flows.iter().any(|f| f.intents.iter().any(|x| x == i))
        });
        if matches!(u.matched, Match::Answer(_)) || (other_flow && u.matched != Match::NoMatch) {
            return self.fresh(u);
        }
        let attempts = attempts + 1;
        if attempts >= slot.max_attempts {
            let text = self.text(&self.config.texts.slot_gave_up);
            self.say(text, Vec::new());
            return self.hand_off(HandoffReason::SlotFailed);
        }
        let text = format!("{}{}", self.text(&slot.invalid), self.text(&slot.prompt));
        self.say(text, Vec::new());
        self.state.phase =
            Phase::Filling { flow: flow.name.clone(), filled, slot: slot.name.clone(), attempts };
    }

    /// Ask for the first missing slot, or call the connector, or answer.
    fn continue_flow(&mut self, flow: &Flow, filled: Vars) {
        if let Some(slot) = flow.slots.iter().find(|s| !filled.contains_key(&s.name)) {
            let text = self.text(&slot.prompt);
            self.say(text, Vec::new());
            self.state.phase = Phase::Filling {
                flow: flow.name.clone(),
                filled,
                slot: slot.name.clone(),
                attempts: 0,
            };
            return;
        }
        match &flow.connector {
            Some(connector) => {
                let mut vars = self.ctx.customer.clone();
                vars.extend(filled.clone());
                self.out.push(Command::Call {
                    flow: flow.name.clone(),
                    connector: connector.clone(),
                    vars,
                });
                self.state.phase = Phase::Calling { flow: flow.name.clone(), filled };
            }
            None => self.flow_answer(flow, filled),
        }
    }

    fn flow_answer(&mut self, flow: &Flow, fields: Vars) {
        let mut vars = self.ctx.customer.clone();
        vars.extend(fields);
        match template::render(flow.answer.pick(self.state.lang), &vars) {
            Ok(text) => {
                self.say(text, Vec::new());
                self.answered(format!("flow:{}", flow.name), flow.intents.first().cloned());
            }
            // A field the connector did not return: as good as a failed call.
            Err(_) => self.connector_failed(flow),
        }
    }

    fn connector_failed(&mut self, flow: &Flow) {
        match flow.on_failure {
            OnFailure::Handoff => self.hand_off(HandoffReason::ConnectorFailed),
            OnFailure::Apologise => {
                let text = self.text(&self.config.texts.connector_failed);
                self.say(text, Vec::new());
                self.state.phase = Phase::Bot;
            }
        }
    }

    fn connector(&mut self, outcome: ConnectorOutcome) {
        let Phase::Calling { flow, mut filled } = std::mem::take(&mut self.state.phase) else {
            // The customer moved on (or a duplicate result): ignore it.
            return;
        };
        let Some(flow) = self.flow(&flow) else { return };
        match outcome {
            ConnectorOutcome::Ok(fields) => {
                filled.extend(fields);
                self.flow_answer(flow, filled);
            }
            ConnectorOutcome::Failed(_) => self.connector_failed(flow),
        }
    }

    fn no_pickup(&mut self, position: u32, minutes: u32) {
        if let Phase::Human { .. } = self.state.phase {
            let text = self.fill(
                &self.config.texts.wait_long,
                &[("position", &position.to_string()), ("minutes", &minutes.to_string())],
            );
            let button = Button {
                label: self.text(&self.config.texts.leave_message),
                payload: Pick::LeaveMessage.payload(),
            };
            self.say(text, vec![button]);
            self.state.offered_message = true;
        }
    }
}

/// The value `u` offers for a slot of `kind`. `answering` is true when the bot just asked for
/// this slot, so a bare message counts as the answer to a text or choice question.
fn value_for(kind: &SlotKind, u: &Understanding, answering: bool) -> Option<String> {
    match kind {
        SlotKind::Text => {
            let t = u.text.trim();
            (answering && !t.is_empty()).then(|| t.to_owned())
        }
        SlotKind::OneOf(options) => {
            let lower = u.text.trim().to_lowercase();
            if let Some(i) = typed_choice(&lower, options.len()).filter(|_| answering) {
                return Some(options[i].clone());
            }
            options.iter().find(|o| lower.contains(&o.to_lowercase())).cloned()
        }
        entity => u.values.iter().find(|v| &v.kind == entity).map(|v| v.value.clone()),
    }
}

/// "4", "4分", "４星", "4 stars" → 4.
fn typed_rating(text: &str) -> Option<u8> {
    let t: String = text.trim().chars().map(fold_digit).collect();
    let rest = t.trim_end_matches(['分', '星', '！', '!', '。', '.']).trim();
    let rest =
        rest.strip_suffix("stars").or_else(|| rest.strip_suffix("star")).unwrap_or(rest).trim();
    rest.parse::<u8>().ok().filter(|n| (1..=5).contains(n))
}

/// "2", "第2个", "第二个" → index 1, when there are at least that many choices.
fn typed_choice(text: &str, n: usize) -> Option<usize> {
    let t: String = text.trim().chars().map(fold_digit).collect();
    let t = t.strip_prefix('第').unwrap_or(&t);
    let t = t.trim_end_matches(['个', '项', '条', '。', '.']);
    let k = match t {
        "一" => 1,
        "二" | "两" => 2,
        "三" => 3,
        "四" => 4,
        "五" => 5,
        other => other.parse::<usize>().ok()?,
    };
    (1..=n).contains(&k).then(|| k - 1)
}

fn fold_digit(c: char) -> char {
    match c {
        '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or(c),
        _ => c,
    }
}

#[cfg(test)]
mod tests;
