//! A workspace's bot, as data: the texts it says (zh-CN and English), the hand-off rules
//! (BOT-5), whether it asks for a rating (BOT-4), and the multi-turn flows (slots, prompts,
//! validation, a connector call, an answer template). `BotConfig::default()` is what a new
//! workspace gets; `validate` names the field of the first problem.

use std::collections::BTreeSet;

use crate::{
    connector::ConnectorDef,
    template::{self, TemplateError},
};

/// The two languages the bot answers in. Anything else is answered in the workspace default.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Lang {
    #[default]
    Zh,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }

    /// `zh`, `zh-CN`, `en`, `en-US`…; anything else is `None`.
    pub fn from_code(code: &str) -> Option<Lang> {
        let base = code.split(['-', '_']).next().unwrap_or_default().to_ascii_lowercase();
        match base.as_str() {
            "zh" => Some(Lang::Zh),
            "en" => Some(Lang::En),
            _ => None,
        }
    }
}

/// A text in both languages.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Text {
    pub zh: String,
    pub en: String,
}

impl Text {
    pub fn new(zh: &str, en: &str) -> Text {
        Text { zh: zh.to_owned(), en: en.to_owned() }
    }

    /// The text in `lang`, or the other language when that one is empty.
    pub fn pick(&self, lang: Lang) -> &str {
        let (first, second) = match lang {
            Lang::Zh => (&self.zh, &self.en),
            Lang::En => (&self.en, &self.zh),
        };
        if first.trim().is_empty() { second } else { first }
    }
}

/// What the bot says in fixed situations. Placeholders: `{{minutes}}` and `{{position}}` in
/// `wait_long`, `{{ticket}}` in `message_taken`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Texts {
    pub welcome: Text,
    pub confirm: Text,
    pub none_of_these: Text,
    pub no_match: Text,
    pub rating_prompt: Text,
    pub rating_thanks: Text,
    pub handoff: Text,
    pub after_hours: Text,
    pub message_taken: Text,
    pub connector_failed: Text,
    pub slot_gave_up: Text,
    pub wait_long: Text,
    pub leave_message: Text,
    pub leave_message_prompt: Text,
}

impl Default for Texts {
    fn default() -> Self {
        Texts {
            welcome: Text::new(
                "您好，我是智能客服小慧，请问有什么可以帮您？输入“人工”可随时转人工客服。",
                "Hi, I'm the virtual assistant. How can I help? Type \"agent\" at any time to reach a person.",
            ),
            confirm: Text::new("您是想问以下哪个问题吗？", "Did you mean one of these?"),
            none_of_these: Text::new("都不是", "None of these"),
            no_match: Text::new(
                "抱歉，我没有理解您的问题，可以换个说法再问一次吗？也可以输入“人工”转人工客服。",
                "Sorry, I didn't understand. Could you rephrase it? You can also type \"agent\" to reach a person.",
            ),
            rating_prompt: Text::new(
                "这个回答解决您的问题了吗？请为本次回答打分（1–5 分）。",
                "Did this answer your question? Please rate it from 1 to 5.",
            ),
            rating_thanks: Text::new(
                "感谢您的评价！还有其他问题可以继续问我。",
                "Thanks for your rating! Ask me anything else.",
            ),
            handoff: Text::new(
                "正在为您转接人工客服，请稍候，客服将看到您之前的对话内容。",
                "Connecting you to a person now; they will see our conversation so far.",
            ),
            after_hours: Text::new(
                "现在是非工作时间，人工客服暂时不在线。请直接留言描述您的问题，我们上班后会第一时间处理并回复您。",
                "Our agents are offline right now. Please leave a message describing your issue and we will get back to you as soon as we open.",
            ),
            message_taken: Text::new(
                "已收到您的留言，工单号 {{ticket}}，我们会尽快处理并回复您。",
                "We've got your message (ticket {{ticket}}) and will reply as soon as we can.",
            ),
            connector_failed: Text::new(
                "抱歉，暂时无法查询到相关信息，请稍后再试，或输入“人工”转人工客服。",
                "Sorry, I can't look that up right now. Please try again later, or type \"agent\" to reach a person.",
            ),
            slot_gave_up: Text::new(
                "抱歉，信息还是不太对，我为您转接人工客服。",
                "Sorry, that still doesn't look right; let me connect you to a person.",
            ),
            wait_long: Text::new(
                "当前咨询人数较多，您前面还有 {{position}} 位，预计等待约 {{minutes}} 分钟。您也可以留言，我们会尽快回复。",
                "It's busy right now: {{position}} ahead of you, about {{minutes}} minutes to wait. You can also leave a message and we'll reply soon.",
            ),
            leave_message: Text::new("留言", "Leave a message"),
            leave_message_prompt: Text::new(
                "请直接留言描述您的问题，我们会尽快处理并回复您。",
                "Please describe your issue in one message and we'll get back to you soon.",
            ),
        }
    }
}

/// When the bot hands the conversation to a human (BOT-5). Each rule can be switched off.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct HandoffRules {
    /// A rating at or below this (1–5) hands off; `None` never.
    pub rating_at_most: Option<u8>,
    /// This many unmatched messages in a row hand off; `None` never.
    pub unmatched_in_a_row: Option<u32>,
    /// A message with strong negative emotion (anger, threats, insults) hands off.
    pub strong_negative: bool,
    /// An explicit request ("转人工", "agent") hands off; `phrases` are matched besides the
    /// built-in ones.
    pub on_request: bool,
    pub phrases: Vec<String>,
    /// VIP customers go straight to a human.
    pub vip_direct: bool,
    /// If no agent has written this many minutes after a hand-off, tell the customer the
    /// expected wait and offer to leave a message; `None` never.
    pub no_pickup_minutes: Option<u32>,
}

impl Default for HandoffRules {
    fn default() -> Self {
        HandoffRules {
            rating_at_most: Some(3),
            unmatched_in_a_row: Some(2),
            strong_negative: true,
            on_request: true,
            phrases: Vec::new(),
            vip_direct: false,
            no_pickup_minutes: Some(5),
        }
    }
}

/// What a slot accepts. Entity kinds take the value the language engine extracted from the
/// message; `Text` takes the whole message; `OneOf` one of the listed answers.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlotKind {
    OrderNo,
    Phone,
    Email,
    Money,
    Date,
    Product,
    Text,
    OneOf(Vec<String>),
}

impl SlotKind {
    pub fn name(&self) -> &'static str {
        match self {
            SlotKind::OrderNo => "order_no",
            SlotKind::Phone => "phone",
            SlotKind::Email => "email",
            SlotKind::Money => "money",
            SlotKind::Date => "date",
            SlotKind::Product => "product",
            SlotKind::Text => "text",
            SlotKind::OneOf(_) => "one_of",
        }
    }
}

/// One piece of information a flow needs.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Slot {
    /// The placeholder name in templates and the connector's variables.
    pub name: String,
    pub kind: SlotKind,
    /// Asked when the value is missing.
    pub prompt: Text,
    /// Said (before the prompt again) when the answer is not a valid value.
    pub invalid: Text,
    /// Invalid answers before the bot hands off.
    #[serde(default = "default_attempts")]
    pub max_attempts: u32,
}

fn default_attempts() -> u32 {
    2
}

/// When the connector fails or times out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnFailure {
    /// Say `Texts::connector_failed` and go on.
    #[default]
    Apologise,
    /// Hand off to a human.
    Handoff,
}

/// A multi-turn flow: started by an intent, fills its slots, optionally calls a connector, and
/// answers from a template over the slots, the connector's fields and the customer's profile.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Flow {
    /// Unique in the bot: `order_status`.
    pub name: String,
    /// Intent names that start it.
    pub intents: Vec<String>,
    pub slots: Vec<Slot>,
    /// The connector to call with the slots once all are filled.
    #[serde(default)]
    pub connector: Option<String>,
    pub answer: Text,
    #[serde(default)]
    pub on_failure: OnFailure,
}

/// A workspace's bot.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct BotConfig {
    /// Off: customer messages wait for a human, the bot says nothing.
    pub enabled: bool,
    /// The language for customers who write in neither zh nor en.
    pub default_lang: Lang,
    pub texts: Texts,
    pub handoff: HandoffRules,
    /// Ask for a 1–5 rating after each answer (BOT-4).
    pub ask_rating: bool,
    pub flows: Vec<Flow>,
    /// The company systems flows call.
    pub connectors: Vec<ConnectorDef>,
}

impl Default for BotConfig {
    fn default() -> Self {
        BotConfig {
            enabled: true,
            default_lang: Lang::Zh,
            texts: Texts::default(),
            handoff: HandoffRules::default(),
            ask_rating: true,
            flows: Vec::new(),
            connectors: Vec::new(),
        }
    }
}

/// The first problem in a configuration, with the path of the field (`flows[1].slots[0].name`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct ConfigError {
    pub path: String,
    pub message: String,
}

fn problem(path: impl Into<String>, message: impl Into<String>) -> ConfigError {
    ConfigError { path: path.into(), message: message.into() }
}

fn check_template(
    path: &str,
    text: &Text,
    known: Option<&BTreeSet<&str>>,
) -> Result<(), ConfigError> {
    for (lang, t) in [("zh", &text.zh), ("en", &text.en)] {
        let names = template::placeholders(t)
            .map_err(|e: TemplateError| problem(format!("{path}.{lang}"), e.to_string()))?;
        if let Some(known) = known
            && let Some(bad) = names.iter().find(|n| !known.contains(*n))
        {
            return Err(problem(
                format!("{path}.{lang}"),
                format!(
                    "unknown placeholder '{{{{{bad}}}}}'; use one of: {}",
                    known.iter().copied().collect::<Vec<_>>().join(", ")
                ),
            ));
        }
    }
    if text.zh.trim().is_empty() && text.en.trim().is_empty() {
        return Err(problem(path, "needs a text in at least one language"));
    }
    Ok(())
}

impl BotConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        let t = &self.texts;
        for (name, text) in [
            ("welcome", &t.welcome),
            ("confirm", &t.confirm),
            ("none_of_these", &t.none_of_these),
            ("no_match", &t.no_match),
            ("rating_prompt", &t.rating_prompt),
            ("rating_thanks", &t.rating_thanks),
            ("handoff", &t.handoff),
            ("after_hours", &t.after_hours),
            ("connector_failed", &t.connector_failed),
            ("slot_gave_up", &t.slot_gave_up),
            ("leave_message", &t.leave_message),
            ("leave_message_prompt", &t.leave_message_prompt),
        ] {
            check_template(&format!("texts.{name}"), text, Some(&BTreeSet::new()))?;
        }
        check_template("texts.message_taken", &t.message_taken, Some(&BTreeSet::from(["ticket"])))?;
        check_template(
            "texts.wait_long",
            &t.wait_long,
            Some(&BTreeSet::from(["minutes", "position"])),
        )?;
        if let Some(r) = self.handoff.rating_at_most
            && !(1..=5).contains(&r)
        {
            return Err(problem("handoff.rating_at_most", "must be between 1 and 5"));
        }
        if let Some(m) = self.handoff.no_pickup_minutes
            && !(1..=1440).contains(&m)
        {
            return Err(problem("handoff.no_pickup_minutes", "must be 1–1440 (or off)"));
        }
        if self.handoff.unmatched_in_a_row == Some(0) {
            return Err(problem("handoff.unmatched_in_a_row", "must be at least 1 (or off)"));
        }
        for (i, p) in self.handoff.phrases.iter().enumerate() {
            if p.trim().is_empty() || p.chars().count() > 40 {
                return Err(problem(format!("handoff.phrases[{i}]"), "must be 1–40 characters"));
            }
        }
        let mut connector_names = BTreeSet::new();
        for (i, c) in self.connectors.iter().enumerate() {
            c.validate(&format!("connectors[{i}]"))?;
            if !connector_names.insert(c.name.as_str()) {
                return Err(problem(
                    format!("connectors[{i}].name"),
                    format!("'{}' is used by another connector", c.name),
                ));
            }
        }
        let mut flow_names = BTreeSet::new();
        for (i, flow) in self.flows.iter().enumerate() {
            let path = format!("flows[{i}]");
            if !valid_ident(&flow.name) {
                return Err(problem(
                    format!("{path}.name"),
                    "must be 1–64 of a-z, 0-9, '_' or '.'",
                ));
            }
            if !flow_names.insert(flow.name.as_str()) {
                return Err(problem(
                    format!("{path}.name"),
                    format!("'{}' is used by another flow", flow.name),
                ));
            }
            if flow.intents.is_empty() {
                return Err(problem(
                    format!("{path}.intents"),
                    "name at least one intent that starts the flow",
                ));
            }
            let mut slot_names = BTreeSet::new();
            for (j, slot) in flow.slots.iter().enumerate() {
                let spath = format!("{path}.slots[{j}]");
                if !valid_ident(&slot.name) {
                    return Err(problem(
                        format!("{spath}.name"),
                        "must be 1–64 of a-z, 0-9, '_' or '.'",
                    ));
                }
                if !slot_names.insert(slot.name.as_str()) {
                    return Err(problem(
                        format!("{spath}.name"),
                        format!("'{}' is used by another slot", slot.name),
                    ));
                }
                if slot.max_attempts == 0 {
                    return Err(problem(format!("{spath}.max_attempts"), "must be at least 1"));
                }
                if let SlotKind::OneOf(options) = &slot.kind
                    && (options.is_empty() || options.iter().any(|o| o.trim().is_empty()))
                {
                    return Err(problem(format!("{spath}.kind"), "one_of needs non-empty options"));
                }
                check_template(&format!("{spath}.prompt"), &slot.prompt, Some(&BTreeSet::new()))?;
                check_template(&format!("{spath}.invalid"), &slot.invalid, Some(&BTreeSet::new()))?;
            }
            // With a connector the answer may use its fields, unknown until it answers.
            let known = flow.connector.is_none().then_some(&slot_names);
            let mut known_with_customer = known.cloned();
            if let Some(k) = known_with_customer.as_mut() {
                k.extend(["customer.name", "customer.tier"]);
            }
            check_template(&format!("{path}.answer"), &flow.answer, known_with_customer.as_ref())?;
            if let Some(c) = &flow.connector
                && !connector_names.contains(c.as_str())
            {
                return Err(problem(
                    format!("{path}.connector"),
                    format!("no connector named '{c}' in connectors"),
                ));
            }
        }
        Ok(())
    }
}

fn valid_ident(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '.'))
}
