//! Machine translation for agents (BOT-9), as data: a workspace's provider is a
//! [`ConnectorDef`] (URL template, method, headers with `{{secret}}`, a JSON body template,
//! timeout, allowed private hosts, response fields), off by default. The call itself (SSRF
//! guard, time and size caps) is `app::bot::connector`, shared with the bot's connectors.
//!
//! The protocol a provider speaks: the request is rendered with the variables `text` (what to
//! translate), `source` (its language code, or `auto`) and `target` (the language wanted); the
//! response is JSON, and the field mapped to the variable `translation` holds the translated
//! text (`detected_lang`, if mapped, the language the provider detected).

use crate::{
    config::ConfigError,
    connector::ConnectorDef,
    template::{self, Vars},
};

/// The variable the translated text is mapped to.
pub const TRANSLATION_VAR: &str = "translation";
/// The variable the provider's detected source language is mapped to, if it says.
pub const DETECTED_VAR: &str = "detected_lang";
/// The longest text sent for translation, in characters.
pub const MAX_TEXT_CHARS: usize = 5000;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct TranslationConfig {
    /// Off by default: nothing leaves Huiting until an admin turns it on.
    pub enabled: bool,
    /// The language agents read and write (customer messages are translated into it).
    pub agent_lang: String,
    pub provider: Option<ConnectorDef>,
}

impl Default for TranslationConfig {
    fn default() -> Self {
        TranslationConfig { enabled: false, agent_lang: "zh".into(), provider: None }
    }
}

fn problem(path: impl Into<String>, message: impl Into<String>) -> ConfigError {
    ConfigError { path: path.into(), message: message.into() }
}

/// Whether `s` looks like a language code: `zh`, `en`, `pt-BR`, `zh-Hant`.
pub fn is_lang_code(s: &str) -> bool {
    let mut parts = s.split('-');
    let base = parts.next().unwrap_or_default();
    let base_ok = (2..=3).contains(&base.len()) && base.bytes().all(|b| b.is_ascii_lowercase());
    let rest: Vec<&str> = parts.collect();
    base_ok
        && rest.len() <= 1
        && rest
            .iter()
            .all(|r| (2..=4).contains(&r.len()) && r.bytes().all(|b| b.is_ascii_alphanumeric()))
}

impl TranslationConfig {
    /// Checks the configuration; a provider is needed once it is enabled, and must map the
    /// `translation` variable and use only `text`, `source`, `target` and `secret`.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !is_lang_code(&self.agent_lang) {
            return Err(problem("agent_lang", "must be a language code such as zh or en"));
        }
        let Some(p) = &self.provider else {
            return if self.enabled {
                Err(problem("provider", "translation is enabled but no provider is configured"))
            } else {
                Ok(())
            };
        };
        p.validate("provider")?;
        if !p.fields.iter().any(|f| f.var == TRANSLATION_VAR) {
            return Err(problem(
                "provider.fields",
                format!(
                    "map the response field holding the translated text to {TRANSLATION_VAR:?}"
                ),
            ));
        }
        let mut templates: Vec<(String, &str)> = vec![("provider.url".into(), p.url.as_str())];
        if let Some(b) = &p.body {
            templates.push(("provider.body".into(), b.as_str()));
        }
        for (i, (_, v)) in p.headers.iter().enumerate() {
            templates.push((format!("provider.headers[{i}].value"), v.as_str()));
        }
        for (path, t) in templates {
            let names = template::placeholders(t).map_err(|e| problem(&path, e.to_string()))?;
            if let Some(bad) =
                names.iter().find(|n| !matches!(**n, "text" | "source" | "target" | "secret"))
            {
                return Err(problem(
                    path,
                    format!("unknown variable {{{{{bad}}}}}; use text, source, target or secret"),
                ));
            }
        }
        Ok(())
    }

    /// The variables of one request.
    pub fn vars(text: &str, source: &str, target: &str) -> Vars {
        Vars::from([
            ("text".to_owned(), text.to_owned()),
            ("source".to_owned(), source.to_owned()),
            ("target".to_owned(), target.to_owned()),
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connector::FieldMap;

    fn provider() -> ConnectorDef {
        serde_json::from_value(serde_json::json!({
            "name": "mt", "method": "POST", "url": "https://mt.example.com/v1/translate",
            "headers": [["Authorization", "Bearer {{secret}}"]],
            "body": "{\"q\": \"{{text}}\", \"source\": \"{{source}}\", \"target\": \"{{target}}\"}",
            "fields": [{"var": "translation", "pointer": "/data/translation"}]
        }))
        .unwrap()
    }

    #[test]
    fn off_by_default_and_checked_when_on() {
        let c = TranslationConfig::default();
        assert!(!c.enabled);
        assert_eq!(c.validate(), Ok(()));
        let on = TranslationConfig { enabled: true, ..c.clone() };
        assert_eq!(on.validate().unwrap_err().path, "provider");
        let ok = TranslationConfig { provider: Some(provider()), ..on.clone() };
        assert_eq!(ok.validate(), Ok(()));
        let mut p = provider();
        p.fields = vec![FieldMap { var: "out".into(), pointer: "/x".into() }];
        let e = TranslationConfig { provider: Some(p), ..on.clone() }.validate().unwrap_err();
        assert_eq!(e.path, "provider.fields");
        let mut p = provider();
        p.body = Some("{\"q\": \"{{customer.name}}\"}".into());
        let e = TranslationConfig { provider: Some(p), ..on.clone() }.validate().unwrap_err();
        assert_eq!(e.path, "provider.body");
        let e = TranslationConfig { agent_lang: "Chinese".into(), ..ok }.validate().unwrap_err();
        assert_eq!(e.path, "agent_lang");
        assert!(is_lang_code("pt-BR") && is_lang_code("zh-Hant") && !is_lang_code("e"));
    }
}
