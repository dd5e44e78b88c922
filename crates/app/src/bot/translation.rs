//! Machine translation for agents (BOT-9): a provider configured per workspace (off by
//! default; `dialogue::translate` describes the configuration and the protocol), called through
//! the connector machinery (`bot::connector`: SSRF guard, pinned DNS, no redirects, time and
//! size caps). A customer's message is translated into the agents' language on request, and an
//! agent's draft into the customer's. A failure or timeout is never an error: the caller gets
//! the original text and `error` says why, so a reply is never blocked.

use dialogue::{
    ConnectorOutcome,
    translate::{DETECTED_VAR, MAX_TEXT_CHARS, TRANSLATION_VAR, TranslationConfig, is_lang_code},
};
use domain::{ConversationId, MessageId, ParseError, SenderKind, WorkspaceId};

use crate::{
    App, Result,
    auth::{Admin, Agent, Staff},
    bot::runtime::SECRET_MASK,
    error::OrNotFound,
};

/// A translation, or the original with the reason there is none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Translated {
    pub original: String,
    pub translation: Option<String>,
    /// The text's language (as detected here, or by the provider), or `auto`.
    pub source: String,
    pub target: String,
    pub error: Option<String>,
}

fn masked(mut cfg: TranslationConfig) -> TranslationConfig {
    if let Some(p) = &mut cfg.provider
        && p.secret.is_some()
    {
        p.secret = Some(SECRET_MASK.into());
    }
    cfg
}

fn lang_of(text: &str) -> String {
    match nlu::lang::detect(text) {
        nlu::lang::Lang::Unknown => "auto".into(),
        l => l.code().into(),
    }
}

fn target_code(target: Option<&str>) -> Result<Option<String>> {
    match target.map(str::trim) {
        None | Some("") => Ok(None),
        Some(t) if is_lang_code(t) => Ok(Some(t.to_owned())),
        Some(_) => Err(ParseError::new("target", "a language code such as zh or en").into()),
    }
}

impl App {
    async fn translation_config(&self, ws: WorkspaceId) -> Result<TranslationConfig> {
        let mut c = self.db.read().await?;
        Ok(db::translation::get(&mut c, ws).await?.unwrap_or_default())
    }

    /// The provider configuration as staff see it: the secret masked.
    pub async fn translation_settings(&self, s: &Staff) -> Result<TranslationConfig> {
        Ok(masked(self.translation_config(s.workspace).await?))
    }

    /// Validates and saves the configuration (admins: it holds the provider's secret and the
    /// private hosts allowed). A masked secret keeps the stored one.
    pub async fn set_translation_settings(
        &self,
        a: &Admin,
        mut cfg: TranslationConfig,
    ) -> Result<TranslationConfig> {
        let old = self.translation_config(a.workspace).await?;
        if let Some(p) = &mut cfg.provider
            && p.secret.as_deref() == Some(SECRET_MASK)
        {
            p.secret = old.provider.as_ref().and_then(|o| o.secret.clone());
        }
        cfg.validate().map_err(|e| ParseError::new("config", e.to_string()))?;
        let now = self.now();
        let mut tx = self.db.write(a.workspace).await?;
        db::translation::put(&mut tx, a.workspace, &cfg, now).await?;
        let after = domain::Snapshot::default()
            .with("enabled", domain::AuditValue::Int(i64::from(cfg.enabled)))
            .with("agent_lang", cfg.agent_lang.as_str());
        tx.audit(
            now,
            a.actor,
            "translation.settings",
            "workspace",
            &a.workspace.to_string(),
            None,
            Some(&after),
        )
        .await?;
        self.commit(tx).await?;
        Ok(masked(cfg))
    }

    /// A message of a conversation the caller may read, translated into `target` (default: the
    /// agents' language).
    pub async fn translate_message(
        &self,
        s: &Staff,
        conversation: ConversationId,
        message: MessageId,
        target: Option<&str>,
    ) -> Result<Translated> {
        let target = target_code(target)?;
        self.readable_conversation(s, conversation).await?;
        let m = {
            let mut c = self.db.read().await?;
            db::conversations::get_message(&mut c, s.workspace, message)
                .await?
                .filter(|m| m.conversation == conversation)
                .or_not_found("message")?
        };
        let cfg = self.translation_config(s.workspace).await?;
        let target = target.unwrap_or_else(|| cfg.agent_lang.clone());
        Ok(self.translate(&cfg, &m.body, &target).await)
    }

    /// An agent's draft reply translated into `target` (default: the language of the
    /// customer's latest message). Nothing is sent: the agent sends the text they choose.
    pub async fn translate_draft(
        &self,
        a: &Agent,
        conversation: ConversationId,
        text: &str,
        target: Option<&str>,
    ) -> Result<Translated> {
        if text.trim().is_empty() || text.chars().count() > MAX_TEXT_CHARS {
            return Err(ParseError::new("text", format!("1 to {MAX_TEXT_CHARS} characters")).into());
        }
        let target = target_code(target)?;
        self.readable_conversation(a, conversation).await?;
        let target = match target {
            Some(t) => t,
            None => {
                let mut c = self.db.read().await?;
                let msgs =
                    db::conversations::messages(&mut c, a.workspace, conversation, None, 200, true)
                        .await?;
                let last = msgs.iter().rev().find(|m| m.sender == SenderKind::Customer);
                match last.map(|m| lang_of(&m.body)).filter(|l| l != "auto") {
                    Some(l) => l,
                    None => {
                        return Err(ParseError::new(
                            "target",
                            "the customer's language is not known yet; name the target language",
                        )
                        .into());
                    }
                }
            }
        };
        let cfg = self.translation_config(a.workspace).await?;
        Ok(self.translate(&cfg, text, &target).await)
    }

    /// Calls the provider; every failure is reported in `error`, never returned.
    async fn translate(&self, cfg: &TranslationConfig, text: &str, target: &str) -> Translated {
        let source = lang_of(text);
        let mut out = Translated {
            original: text.to_owned(),
            translation: None,
            source: source.clone(),
            target: target.to_owned(),
            error: None,
        };
        if source == target {
            out.translation = Some(text.to_owned());
            return out;
        }
        let provider = match (&cfg.provider, cfg.enabled) {
            (Some(p), true) => p,
            _ => {
                out.error = Some("machine translation is off for this workspace".into());
                return out;
            }
        };
        let text: String = text.chars().take(MAX_TEXT_CHARS).collect();
        let vars = TranslationConfig::vars(&text, &source, target);
        match super::connector::call(provider, &vars).await {
            ConnectorOutcome::Ok(fields) => match fields.get(TRANSLATION_VAR) {
                Some(t) if !t.trim().is_empty() => {
                    out.translation = Some(t.clone());
                    if let Some(d) = fields.get(DETECTED_VAR).filter(|d| is_lang_code(d)) {
                        out.source = d.clone();
                    }
                }
                _ => out.error = Some("the provider's answer has no translation".into()),
            },
            ConnectorOutcome::Failed(reason) => {
                out.error = Some(format!("translation failed: {reason}"));
            }
        }
        out
    }
}
