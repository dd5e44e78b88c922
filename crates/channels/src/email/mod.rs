//! The email channel (IN-1): inbound mail parsed into a [`parse::Inbound`] (threading keys,
//! sanitised text without the quoted history, attachments, loop signals), outbound replies
//! built with their threading headers ([`outbound`]), and the IO around them: an IMAP client
//! that polls and IDLEs ([`imap`]), an SMTP sender ([`smtp`]) and an SMTP/LMTP receiver
//! ([`receiver`]). Everything but those three IO modules is pure and never panics on any input
//! (fuzzed: `fuzz/fuzz_targets/email_parse.rs`).

pub mod html;
#[cfg(feature = "io")]
pub mod imap;
pub mod loops;
#[cfg(feature = "io")]
pub mod outbound;
pub mod parse;
pub mod quote;
#[cfg(feature = "io")]
pub mod receiver;
pub mod settings;
#[cfg(feature = "io")]
pub mod smtp;
pub mod thread;

pub use loops::{AutoKind, SenderRate};
#[cfg(feature = "io")]
pub use outbound::{FileAttachment, Outbound};
pub use parse::{Inbound, InboundAttachment, parse};

/// The transport security of an IMAP or SMTP connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// Plain TCP (loopback test peers, a relay on the same host).
    None,
    /// STARTTLS after connecting (SMTP submission on port 587).
    StartTls,
    /// TLS from the first byte (IMAPS 993, SMTPS 465).
    Tls,
}

impl Security {
    pub fn parse(s: &str) -> Option<Security> {
        match s {
            "none" => Some(Security::None),
            "starttls" => Some(Security::StartTls),
            "tls" => Some(Security::Tls),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Security::None => "none",
            Security::StartTls => "starttls",
            Security::Tls => "tls",
        }
    }
}

/// A failure talking to a mail server, with what was being done.
#[derive(Debug, thiserror::Error)]
#[error("{context}: {message}")]
pub struct MailError {
    pub context: &'static str,
    pub message: String,
}

impl MailError {
    pub fn new(context: &'static str, e: impl std::fmt::Display) -> MailError {
        MailError { context, message: e.to_string() }
    }
}
