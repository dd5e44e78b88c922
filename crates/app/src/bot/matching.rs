//! Matching a customer's message to the FAQ (BOT-2): the workspace's intent classifier and
//! retrieval over questions and variants combined into one of three outcomes by confidence —
//! answer with one entry, ask to confirm among the top choices ("您是想问……吗?"), or no
//! match — with thresholds per workspace. Only published entries valid now (and on the
//! message's channel) take part; entries in the customer's language are preferred when one of
//! them is good enough to offer.

use domain::{
    Channel, Customer, CustomerId, Faq, IdentityKind, KbLang, MatchSettings, ParseError, Snapshot,
    WorkspaceId, knowledge::render,
};
use search::MatchConfig;

use crate::{
    App, Result,
    auth::{BotEditor, Staff},
    error::OrNotFound,
};

/// The thresholds a workspace starts with, chosen by `huiting kb tune` on the demo FAQ's
/// held-out variants (see docs/benchmarks.md).
pub const DEFAULT_SETTINGS: MatchSettings =
    MatchSettings { answer_threshold: 0.74, confirm_threshold: 0.25 };

/// The most choices a confirmation offers.
pub const MAX_CHOICES: usize = 3;

/// What matching reads from the database besides the index: the customer (for `{customer.*}`
/// in answers), the workspace's thresholds and its name (for `{workspace.name}`).
pub(crate) struct MatchReads {
    pub customer: Option<Customer>,
    pub settings: MatchSettings,
    pub workspace_name: Option<String>,
}

/// The in-memory side of matching: the published entries with their matcher, and the index.
pub(crate) struct MatchKb {
    data: std::sync::Arc<super::knowledge::MatchData>,
    kb: std::sync::Arc<super::knowledge::WsKb>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchKind {
    Answer,
    Confirm,
    NoMatch,
}

impl MatchKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MatchKind::Answer => "answer",
            MatchKind::Confirm => "confirm",
            MatchKind::NoMatch => "no_match",
        }
    }
}

/// One entry with its scores and its answer rendered for the customer.
#[derive(Debug, Clone, PartialEq)]
pub struct MatchCandidate {
    pub faq: Faq,
    pub score: f64,
    pub cosine: f64,
    pub bm25: f64,
    pub answer: String,
}

/// What the bot would do with a message.
#[derive(Debug, Clone, PartialEq)]
pub struct MatchOutcome {
    pub kind: MatchKind,
    /// The language detected in the message (`zh`, `en`, `und`, …).
    pub detected_lang: String,
    /// The language of the reply.
    pub reply_lang: KbLang,
    /// The classifier's in-scope intent and confidence, if it has a model.
    pub intent: Option<(String, f64)>,
    /// The answer (one), the choices (two or three), or for no match the best few, for
    /// inspection.
    pub candidates: Vec<MatchCandidate>,
    /// What to say: the answer, the confirmation question, or the no-match reply.
    pub reply: String,
    pub settings: MatchSettings,
}

/// A message to match.
#[derive(Debug, Clone)]
pub struct MatchInput {
    pub text: String,
    pub channel: Option<Channel>,
    /// Fills `{{customer.*}}` in answers.
    pub customer: Option<CustomerId>,
}

/// The template variables of a customer.
pub(crate) fn customer_var(c: &Customer, name: &str) -> Option<String> {
    let identity =
        |k: IdentityKind| c.identities.iter().find(|i| i.kind == k).map(|i| i.value.clone());
    match name {
        "customer.name" => Some(c.name.clone()),
        "customer.phone" => identity(IdentityKind::Phone),
        "customer.email" => identity(IdentityKind::Email),
        "customer.tier" => Some(c.tier.as_str().to_owned()),
        _ => None,
    }
}

fn reply_for(kind: MatchKind, lang: KbLang, cands: &[MatchCandidate]) -> String {
    match (kind, lang) {
        (MatchKind::Answer, _) => cands.first().map(|c| c.answer.clone()).unwrap_or_default(),
        (MatchKind::Confirm, KbLang::Zh) if cands.len() == 1 => {
            format!("您是想问“{}”吗?", cands[0].faq.content.question)
        }
        (MatchKind::Confirm, KbLang::Zh) => "您是想问以下哪个问题呢?".to_owned(),
        (MatchKind::Confirm, KbLang::En) if cands.len() == 1 => {
            format!("Did you mean \"{}\"?", cands[0].faq.content.question)
        }
        (MatchKind::Confirm, KbLang::En) => "Did you mean one of these?".to_owned(),
        (MatchKind::NoMatch, KbLang::Zh) => {
            "抱歉，我没能理解您的问题，可以换个说法吗？也可以输入“转人工”联系客服。".to_owned()
        }
        (MatchKind::NoMatch, KbLang::En) => {
            "Sorry, I didn't catch that. Could you rephrase it? You can also type \"agent\" to reach a person."
                .to_owned()
        }
    }
}

impl App {
    /// The workspace's thresholds (the defaults until it sets its own).
    pub async fn match_settings(&self, s: &Staff) -> Result<MatchSettings> {
        let mut c = self.db.read().await?;
        Ok(db::knowledge::settings_get(&mut c, s.workspace).await?.unwrap_or(DEFAULT_SETTINGS))
    }

    pub async fn set_match_settings(
        &self,
        b: &BotEditor,
        answer: f64,
        confirm: f64,
    ) -> Result<MatchSettings> {
        let m = MatchSettings::parse(answer, confirm)?;
        let now = self.now();
        let mut tx = self.db.write(b.workspace).await?;
        let before =
            db::knowledge::settings_get(&mut tx, b.workspace).await?.unwrap_or(DEFAULT_SETTINGS);
        db::knowledge::settings_put(&mut tx, b.workspace, &m, now).await?;
        let snap = |m: &MatchSettings| {
            Snapshot::default()
                .with("answer_threshold", format!("{:.3}", m.answer_threshold))
                .with("confirm_threshold", format!("{:.3}", m.confirm_threshold))
        };
        tx.audit(
            now,
            b.actor,
            "kb_settings.update",
            "workspace",
            &b.workspace.to_string(),
            Some(&snap(&before)),
            Some(&snap(&m)),
        )
        .await?;
        self.commit(tx).await?;
        Ok(m)
    }

    /// Matches a message against the published FAQ.
    pub async fn match_faq(&self, s: &Staff, input: &MatchInput) -> Result<MatchOutcome> {
        let text = input.text.trim();
        if text.is_empty() || text.chars().count() > 500 {
            return Err(ParseError::new("text", "1 to 500 characters").into());
        }
        let analysis = self.analyze(s, text).await?;
        self.match_analysed(s.workspace, input, &analysis).await
    }

    /// Matches a message already analysed (the bot analyses each message once).
    pub(crate) async fn match_analysed(
        &self,
        ws: WorkspaceId,
        input: &MatchInput,
        analysis: &nlu::Analysis,
    ) -> Result<MatchOutcome> {
        let kb = self.match_kb(ws).await?;
        let reads = {
            let mut c = self.db.read().await?;
            let customer = match input.customer {
                Some(id) => {
                    Some(db::customers::get(&mut c, ws, id).await?.or_not_found("customer")?)
                }
                None => None,
            };
            MatchReads {
                customer,
                settings: db::knowledge::settings_get(&mut c, ws)
                    .await?
                    .unwrap_or(DEFAULT_SETTINGS),
                workspace_name: db::workspaces::by_id(&mut c, ws).await?.map(|w| w.name),
            }
        };
        self.match_read(&kb, &reads, input, analysis)
    }

    /// The workspace's index and FAQ matcher, built from the database the first time (take them
    /// before holding a connection: building reads through a connection of its own).
    pub(crate) async fn match_kb(&self, ws: WorkspaceId) -> Result<MatchKb> {
        Ok(MatchKb { data: self.match_data(ws).await?, kb: self.kb(ws).await? })
    }

    /// Matching once everything it reads is at hand: no IO beyond the in-memory index.
    pub(crate) fn match_read(
        &self,
        kb: &MatchKb,
        reads: &MatchReads,
        input: &MatchInput,
        analysis: &nlu::Analysis,
    ) -> Result<MatchOutcome> {
        let text: String = input.text.trim().chars().take(500).collect();
        let text = text.as_str();
        let settings = reads.settings;
        let customer = reads.customer.as_ref();
        let intent = analysis.intent.as_ref().and_then(|p| {
            p.label().map(|l| (l.to_owned(), p.top.first().map_or(0.0, |t| t.confidence)))
        });
        let data = &kb.data;
        let bm25 = kb.kb.index.question_scores(text, true, 30)?;
        let scored = data.matcher.score(
            text,
            &bm25,
            intent.as_ref().map(|(l, p)| (l.as_str(), *p)),
            &MatchConfig::default(),
        );
        let now = self.now();
        let mut usable: Vec<(&Faq, &search::Scored)> = scored
            .iter()
            .filter_map(|sc| data.faqs.get(&sc.id).map(|f| (f, sc)))
            .filter(|(f, _)| f.content.applies(now, input.channel))
            .collect();
        let detected = analysis.lang.code().to_owned();
        let wanted = match detected.as_str() {
            "en" => Some(KbLang::En),
            "zh" => Some(KbLang::Zh),
            _ => None,
        };
        let confirm_t = settings.confirm_threshold as f32;
        if let Some(l) = wanted
            && usable.iter().any(|(f, sc)| f.content.lang == l && sc.score >= confirm_t)
        {
            usable.retain(|(f, _)| f.content.lang == l);
        }
        let top = usable.first().map_or(0.0, |(_, sc)| f64::from(sc.score));
        let kind = if top >= settings.answer_threshold && top > 0.0 {
            MatchKind::Answer
        } else if top >= settings.confirm_threshold && top > 0.0 {
            MatchKind::Confirm
        } else {
            MatchKind::NoMatch
        };
        let take = match kind {
            MatchKind::Answer => 1,
            MatchKind::Confirm => usable
                .iter()
                .take(MAX_CHOICES)
                .filter(|(_, sc)| f64::from(sc.score) >= settings.confirm_threshold)
                .count(),
            MatchKind::NoMatch => MAX_CHOICES,
        };
        let workspace_name = &reads.workspace_name;
        let candidates: Vec<MatchCandidate> = usable
            .iter()
            .take(take)
            .map(|(f, sc)| MatchCandidate {
                faq: (*f).clone(),
                score: f64::from(sc.score),
                cosine: f64::from(sc.cosine),
                bm25: f64::from(sc.bm25),
                answer: render(&f.content.answer, false, |name| match name {
                    "workspace.name" => workspace_name.clone(),
                    n => customer.and_then(|c| customer_var(c, n)),
                })
                .text,
            })
            .collect();
        let reply_lang = match (kind, candidates.first()) {
            (MatchKind::NoMatch, _) | (_, None) => wanted.unwrap_or(KbLang::Zh),
            (_, Some(c)) => c.faq.content.lang,
        };
        Ok(MatchOutcome {
            kind,
            reply: reply_for(kind, reply_lang, &candidates),
            detected_lang: detected,
            reply_lang,
            intent: intent.map(|(l, p)| (l, f64::from(p))),
            candidates,
            settings,
        })
    }
}
