//! Each channel kind's settings, stored as one JSON document per configured channel and
//! written by an admin. Parsed and checked here, so a bad document is refused on save with
//! the field named; [`Settings::redacted`] hides secrets when settings are shown back.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The WeChat API's public base URL; tests point `api_base` at a local server instead.
pub const WECHAT_API_BASE: &str = "https://api.weixin.qq.com";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WeChat {
    pub app_id: String,
    pub app_secret: String,
    /// The token configured in the official account's server settings (signatures).
    pub token: String,
    #[serde(default = "default_wechat_base")]
    pub api_base: String,
    /// The passive reply to a new follower, if any.
    #[serde(default)]
    pub welcome: Option<String>,
    #[serde(default)]
    pub allow_hosts: Vec<String>,
    /// The message encryption mode chosen in the official account's server settings.
    #[serde(default)]
    pub mode: WeChatMode,
    /// The EncodingAESKey of those settings (43 characters; compatible and safe mode).
    /// Write-only, like the other secrets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoding_aes_key: Option<String>,
}

/// 消息加解密方式: how an official account's messages travel.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WeChatMode {
    /// 明文模式: plaintext only; an encrypted push is refused.
    #[default]
    Plaintext,
    /// 兼容模式: both; a reply takes the form of the message it answers.
    Compatible,
    /// 安全模式: encrypted only; a plaintext push is refused.
    Safe,
}

impl WeChat {
    /// The channel's message crypto, when it has an EncodingAESKey.
    pub fn crypt(&self) -> Option<crate::wechat::crypto::Crypt> {
        let key = self.encoding_aes_key.as_deref()?;
        crate::wechat::crypto::Crypt::new(key, self.app_id.trim()).ok()
    }
}

fn default_wechat_base() -> String {
    WECHAT_API_BASE.to_string()
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Webhook {
    /// Names the identity namespace (`weibo:<user id>`) and the conversation's channel:
    /// `app` and `mini_program` are in-app chat, anything else is social media.
    pub platform: String,
    /// Signs both directions (HMAC-SHA256).
    pub secret: String,
    /// Where replies are POSTed; without it the channel is inbound only.
    #[serde(default)]
    pub callback_url: Option<String>,
    #[serde(default)]
    pub allow_hosts: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmsTemplate {
    /// The provider's approved template code (`SMS_123`).
    pub code: String,
    /// The approved text with `{{param}}` placeholders, for previews and the transcript.
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sms {
    pub api_url: String,
    pub api_key: String,
    pub sign_name: String,
    /// Signs inbound SMS webhooks.
    pub secret: String,
    pub templates: BTreeMap<String, SmsTemplate>,
    /// The template agent replies are sent with (its `{{content}}` carries the reply).
    #[serde(default)]
    pub reply_template: Option<String>,
    /// The template verification codes are sent with (its `{{code}}` carries the code).
    #[serde(default)]
    pub verification_template: Option<String>,
    #[serde(default)]
    pub allow_hosts: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Phone {
    /// Signs call records.
    pub secret: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settings {
    WeChat(WeChat),
    Webhook(Webhook),
    Sms(Sms),
    Phone(Phone),
}

/// A settings document that does not fit its kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct Invalid {
    pub field: String,
    pub reason: String,
}

fn invalid(field: &str, reason: impl Into<String>) -> Invalid {
    Invalid { field: field.to_string(), reason: reason.into() }
}

fn check_url(field: &str, url: &str) -> Result<(), Invalid> {
    let ok = (url.starts_with("https://") || url.starts_with("http://"))
        && url.len() <= 2000
        && !url.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok { Ok(()) } else { Err(invalid(field, "must be an http(s) URL")) }
}

fn check_secret(field: &str, s: &str) -> Result<(), Invalid> {
    if s.len() < 8 || s.len() > 200 {
        return Err(invalid(field, "must be 8 to 200 characters"));
    }
    Ok(())
}

impl Settings {
    /// The kind names: `wechat`, `webhook`, `sms`, `phone`.
    pub const KINDS: [&'static str; 4] = ["wechat", "webhook", "sms", "phone"];

    pub fn kind(&self) -> &'static str {
        match self {
            Settings::WeChat(_) => "wechat",
            Settings::Webhook(_) => "webhook",
            Settings::Sms(_) => "sms",
            Settings::Phone(_) => "phone",
        }
    }

    /// Parses and checks the settings of a channel of `kind`.
    pub fn parse(kind: &str, json: &str) -> Result<Settings, Invalid> {
        let de = |e: serde_json::Error| invalid("settings", e.to_string());
        let s = match kind {
            "wechat" => {
                // Named before serde's generic "unknown variant" message would be.
                let v: serde_json::Value = serde_json::from_str(json).map_err(de)?;
                if let Some(m) = v.get("mode")
                    && !matches!(m.as_str(), Some("plaintext" | "compatible" | "safe"))
                {
                    return Err(invalid("settings.mode", "must be plaintext, compatible or safe"));
                }
                Settings::WeChat(serde_json::from_value(v).map_err(de)?)
            }
            "webhook" => Settings::Webhook(serde_json::from_str(json).map_err(de)?),
            "sms" => Settings::Sms(serde_json::from_str(json).map_err(de)?),
            "phone" => Settings::Phone(serde_json::from_str(json).map_err(de)?),
            _ => return Err(invalid("kind", "must be wechat, webhook, sms or phone")),
        };
        match &s {
            Settings::WeChat(w) => {
                if w.app_id.trim().is_empty() || w.app_secret.trim().is_empty() {
                    return Err(invalid("settings.app_id", "app_id and app_secret are required"));
                }
                if w.token.len() < 3 || w.token.len() > 32 {
                    return Err(invalid("settings.token", "WeChat tokens are 3 to 32 characters"));
                }
                check_url("settings.api_base", &w.api_base)?;
                if let Some(k) = &w.encoding_aes_key {
                    crate::wechat::crypto::parse_key(k)
                        .map_err(|e| invalid("settings.encoding_aes_key", e.to_string()))?;
                } else if w.mode != WeChatMode::Plaintext {
                    return Err(invalid(
                        "settings.encoding_aes_key",
                        "compatible and safe mode need the EncodingAESKey (43 characters)",
                    ));
                }
            }
            Settings::Webhook(h) => {
                let p = h.platform.trim();
                if p.is_empty()
                    || p.len() > 40
                    || !p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                {
                    return Err(invalid("settings.platform", "a short name like weibo or douyin"));
                }
                check_secret("settings.secret", &h.secret)?;
                if let Some(u) = &h.callback_url {
                    check_url("settings.callback_url", u)?;
                }
            }
            Settings::Sms(m) => {
                check_url("settings.api_url", &m.api_url)?;
                check_secret("settings.secret", &m.secret)?;
                for (field, name) in [
                    ("settings.reply_template", &m.reply_template),
                    ("settings.verification_template", &m.verification_template),
                ] {
                    if let Some(n) = name
                        && !m.templates.contains_key(n)
                    {
                        return Err(invalid(field, format!("no template named {n:?}")));
                    }
                }
            }
            Settings::Phone(p) => check_secret("settings.secret", &p.secret)?,
        }
        Ok(s)
    }

    /// The stored form.
    pub fn to_json(&self) -> String {
        let v = match self {
            Settings::WeChat(w) => serde_json::to_value(w),
            Settings::Webhook(h) => serde_json::to_value(h),
            Settings::Sms(m) => serde_json::to_value(m),
            Settings::Phone(p) => serde_json::to_value(p),
        };
        v.map(|v| v.to_string()).unwrap_or_else(|_| "{}".into())
    }

    /// The settings with every secret replaced by `"***"`, for showing back to admins.
    pub fn redacted(&self) -> serde_json::Value {
        let mut v: serde_json::Value =
            serde_json::from_str(&self.to_json()).unwrap_or(serde_json::Value::Null);
        for key in Self::SECRETS {
            if let Some(x) = v.get_mut(key) {
                *x = serde_json::Value::String("***".into());
            }
        }
        v
    }

    /// The secret fields, write-only: [`Settings::redacted`] hides them and
    /// [`Settings::keep_secrets`] keeps the stored ones an edit leaves out.
    pub const SECRETS: [&'static str; 5] =
        ["app_secret", "token", "secret", "api_key", "encoding_aes_key"];

    /// A new settings document for a stored channel, with each secret the document leaves
    /// out, empty, or as the redacted `"***"` taken from the stored settings, so an admin can
    /// edit the other fields of what [`Settings::redacted`] showed without retyping secrets
    /// (and without storing `***` as one). A document that is not a JSON object is returned
    /// as it is, for [`Settings::parse`] to refuse.
    pub fn keep_secrets(new_json: &str, stored_json: &str) -> String {
        let Ok(serde_json::Value::Object(mut new)) = serde_json::from_str(new_json) else {
            return new_json.to_string();
        };
        let stored: serde_json::Value =
            serde_json::from_str(stored_json).unwrap_or(serde_json::Value::Null);
        for key in Self::SECRETS {
            let keep = match new.get(key) {
                None | Some(serde_json::Value::Null) => true,
                Some(serde_json::Value::String(s)) => s.is_empty() || s == "***",
                Some(_) => false,
            };
            if keep && let Some(old) = stored.get(key) {
                new.insert(key.to_string(), old.clone());
            }
        }
        serde_json::Value::Object(new).to_string()
    }

    /// Hosts an admin allowed this channel to reach on internal addresses.
    pub fn allow_hosts(&self) -> &[String] {
        match self {
            Settings::WeChat(w) => &w.allow_hosts,
            Settings::Webhook(h) => &h.allow_hosts,
            Settings::Sms(m) => &m.allow_hosts,
            Settings::Phone(_) => &[],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_checks_and_redacts() {
        let s =
            Settings::parse("wechat", r#"{"app_id":"wx1","app_secret":"s3cret","token":"tok"}"#)
                .unwrap();
        assert_eq!(s.redacted()["app_secret"], "***");
        assert_eq!(s.redacted()["api_base"], WECHAT_API_BASE);
        let e = Settings::parse("webhook", r#"{"platform":"weibo","secret":"short"}"#).unwrap_err();
        assert_eq!(e.to_string(), "settings.secret: must be 8 to 200 characters");
        assert!(Settings::parse("fax", "{}").is_err());
        assert!(Settings::parse("phone", r#"{"secret":"12345678","x":1}"#).is_err());
    }

    #[test]
    fn wechat_modes_and_the_aes_key() {
        let base = r#""app_id":"wx1","app_secret":"s3cret","token":"tok""#;
        let key = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
        let parse = |rest: &str| Settings::parse("wechat", &format!("{{{base}{rest}}}"));
        // Old documents (no mode) are plaintext, and show no key.
        let Settings::WeChat(w) = parse("").unwrap() else { panic!("wechat") };
        assert_eq!((w.mode, w.crypt().is_none()), (WeChatMode::Plaintext, true));
        assert!(parse("").unwrap().redacted().get("encoding_aes_key").is_none());
        let s = parse(&format!(r#","mode":"safe","encoding_aes_key":"{key}""#)).unwrap();
        assert_eq!(s.redacted()["encoding_aes_key"], "***");
        assert_eq!(s.redacted()["mode"], "safe");
        assert!(!s.redacted().to_string().contains(key));
        let Settings::WeChat(w) = &s else { panic!("wechat") };
        assert!(w.crypt().is_some());
        assert!(parse(&format!(r#","mode":"compatible","encoding_aes_key":"{key}""#)).is_ok());
        let errs: Vec<String> = [
            r#","mode":"safe""#.to_string(),
            r#","mode":"compatible","encoding_aes_key":null"#.to_string(),
            r#","mode":"AES""#.to_string(),
            r#","mode":1"#.to_string(),
            r#","mode":"plaintext","encoding_aes_key":"short""#.to_string(),
            format!(r#","mode":"safe","encoding_aes_key":"{}=""#, &key[..42]),
        ]
        .iter()
        .map(|r| parse(r).unwrap_err().to_string())
        .collect();
        expect_test::expect![[r#"
            [
                "settings.encoding_aes_key: compatible and safe mode need the EncodingAESKey (43 characters)",
                "settings.encoding_aes_key: compatible and safe mode need the EncodingAESKey (43 characters)",
                "settings.mode: must be plaintext, compatible or safe",
                "settings.mode: must be plaintext, compatible or safe",
                "settings.encoding_aes_key: the EncodingAESKey must be 43 characters of base64 (A-Z, a-z, 0-9, + and /), as the official account's server settings show it",
                "settings.encoding_aes_key: the EncodingAESKey must be 43 characters of base64 (A-Z, a-z, 0-9, + and /), as the official account's server settings show it",
            ]
        "#]]
        .assert_debug_eq(&errs);
        // Write-only: an edit that leaves the key out or sends `***` keeps it.
        let stored = s.to_json();
        for new in [
            format!(r#"{{{base},"mode":"safe"}}"#),
            format!(r#"{{{base},"mode":"compatible","encoding_aes_key":"***"}}"#),
        ] {
            let kept = Settings::keep_secrets(&new, &stored);
            let Settings::WeChat(w) = Settings::parse("wechat", &kept).unwrap() else {
                panic!("wechat")
            };
            assert_eq!(w.encoding_aes_key.as_deref(), Some(key));
        }
    }

    #[test]
    fn keep_secrets_keeps_stored_secrets_left_out_or_redacted() {
        let stored = r#"{"app_id":"wx1","app_secret":"s3cret","token":"tok123"}"#;
        // Redacted, empty and missing secrets keep the stored ones; other fields change.
        let kept =
            Settings::keep_secrets(r#"{"app_id":"wx2","app_secret":"***","token":""}"#, stored);
        let s = Settings::parse("wechat", &kept).unwrap();
        let Settings::WeChat(w) = s else { panic!("wechat") };
        assert_eq!(
            (w.app_id.as_str(), w.app_secret.as_str(), w.token.as_str()),
            ("wx2", "s3cret", "tok123")
        );
        // A new secret replaces the stored one.
        let kept = Settings::keep_secrets(
            r#"{"app_id":"wx2","app_secret":"n3w","token":"tok999"}"#,
            stored,
        );
        let Settings::WeChat(w) = Settings::parse("wechat", &kept).unwrap() else {
            panic!("wechat")
        };
        assert_eq!((w.app_secret.as_str(), w.token.as_str()), ("n3w", "tok999"));
        // Not an object: left for parse to refuse.
        assert_eq!(Settings::keep_secrets("[1]", stored), "[1]");
        assert!(Settings::parse("wechat", &Settings::keep_secrets("[1]", stored)).is_err());
    }
}
