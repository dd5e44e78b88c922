//! A workspace's email channel settings: its address, the IMAP mailbox to read and the SMTP
//! server to send through. Stored as this JSON document; `check` names the bad field.

use serde::{Deserialize, Serialize};

use super::Security;
#[cfg(feature = "io")]
use super::{imap::ImapConfig, smtp::SmtpConfig};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmailSettings {
    pub enabled: bool,
    /// The support address customers write to (lower-case); our replies come from it.
    pub address: String,
    pub display_name: Option<String>,
    pub imap: Option<ImapSettings>,
    pub smtp: Option<SmtpSettings>,
    /// Messages accepted per sender per hour; more are dropped (loop guard).
    #[serde(default = "default_rate")]
    pub rate_per_hour: u32,
}

fn default_rate() -> u32 {
    30
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImapSettings {
    pub host: String,
    pub port: u16,
    /// `none` or `tls`.
    pub security: String,
    pub username: String,
    pub password: Option<String>,
    pub mailbox: String,
    /// Wait in IDLE for new mail (else poll every `poll_seconds`).
    pub idle: bool,
    pub poll_seconds: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    /// `none`, `starttls` or `tls`.
    pub security: String,
    pub username: Option<String>,
    pub password: Option<String>,
}

/// A field that is wrong and how.
pub type Problem = (&'static str, String);

impl EmailSettings {
    pub fn check(&self) -> Result<(), Problem> {
        let a = self.address.trim();
        if domain::Email::parse(a).is_err() || a != a.to_lowercase() {
            return Err(("address", format!("{a:?} is not a lower-case email address")));
        }
        if !(1..=10_000).contains(&self.rate_per_hour) {
            return Err(("rate_per_hour", "must be 1 to 10000".into()));
        }
        if let Some(i) = &self.imap {
            host_ok("imap.host", &i.host)?;
            if !matches!(i.security.as_str(), "none" | "tls") {
                return Err(("imap.security", "must be none or tls".into()));
            }
            if i.username.trim().is_empty() {
                return Err(("imap.username", "must not be empty".into()));
            }
            if i.mailbox.trim().is_empty() || i.mailbox.chars().any(char::is_control) {
                return Err(("imap.mailbox", "must be a mailbox name like INBOX".into()));
            }
            if !(5..=86_400).contains(&i.poll_seconds) {
                return Err(("imap.poll_seconds", "must be 5 to 86400".into()));
            }
        }
        if let Some(s) = &self.smtp {
            host_ok("smtp.host", &s.host)?;
            if Security::parse(&s.security).is_none() {
                return Err(("smtp.security", "must be none, starttls or tls".into()));
            }
        }
        Ok(())
    }

    #[cfg(feature = "io")]
    pub fn imap_config(&self) -> Option<ImapConfig> {
        let i = self.imap.as_ref()?;
        Some(ImapConfig {
            host: i.host.clone(),
            port: i.port,
            security: Security::parse(&i.security).unwrap_or(Security::Tls),
            username: i.username.clone(),
            password: i.password.clone().unwrap_or_default(),
            mailbox: i.mailbox.clone(),
        })
    }

    #[cfg(feature = "io")]
    pub fn smtp_config(&self) -> Option<SmtpConfig> {
        let s = self.smtp.as_ref()?;
        Some(SmtpConfig {
            host: s.host.clone(),
            port: s.port,
            security: Security::parse(&s.security).unwrap_or(Security::Tls),
            username: s.username.clone().filter(|u| !u.is_empty()),
            password: s.password.clone(),
        })
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn from_json(s: &str) -> Result<EmailSettings, serde_json::Error> {
        serde_json::from_str(s)
    }
}

fn host_ok(field: &'static str, h: &str) -> Result<(), Problem> {
    let ok = !h.is_empty()
        && h.len() <= 253
        && h.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    if ok { Ok(()) } else { Err((field, format!("{h:?} is not a host name or address"))) }
}
