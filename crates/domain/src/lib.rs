//! Huiting's pure core: the nouns of customer service and the rules between them.
//!
//! Nothing here does IO, spawns, awaits or reads the clock: time comes in as a [`Timestamp`]
//! argument (see [`Clock`]). Values are parsed once at the edge (`ProblemCode::parse`,
//! `Email::parse`, …) and trusted afterwards. Domain types derive no `Serialize`: the wire
//! format belongs to `http`, the storage format to `db`.

pub mod audit;
pub mod bot;
pub mod collaboration;
pub mod compensation;
pub mod conversation;
pub mod customer;
pub mod event;
pub mod feedback;
pub mod ids;
pub mod job;
pub mod knowledge;
pub mod problem_code;
pub mod role;
pub mod ticket;
pub mod time;
pub mod workspace;

pub use crate::{
    audit::{AuditValue, Snapshot},
    bot::{ExampleSource, Intent, IntentExample, ModelKind, ModelMetrics, ModelStatus, NluModel},
    collaboration::{Collaboration, CollaborationChange, CollaborationStatus, CollaborationUpdate},
    compensation::{Compensation, CompensationChange, CompensationKind, Fen, Level, Limits},
    conversation::{
        Attachment, Channel, Conversation, ConversationStatus, Handler, Message, SenderKind,
        Visibility,
    },
    customer::{Customer, Email, Identity, IdentityKind, Phone, Tier},
    event::{Actor, Audience, Event, EventRecord, Viewer},
    ids::*,
    job::Job,
    knowledge::{
        Article, ArticleContent, Faq, FaqContent, KbAction, KbContent, KbLang, KbStatus, KbVersion,
        MatchSettings, ReplyTemplate,
    },
    problem_code::{ProblemCategory, ProblemCode, ProblemCodeEntry},
    role::{Department, Permission, Role},
    ticket::{Severity, Stage, Status, Ticket, TicketNo, Urgency},
    time::{Clock, Timestamp},
    workspace::{Team, User, Workspace},
};

/// A value that failed to parse: which field, and why, in words a person can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct ParseError {
    pub field: &'static str,
    pub reason: String,
}

impl ParseError {
    pub fn new(field: &'static str, reason: impl Into<String>) -> ParseError {
        ParseError { field, reason: reason.into() }
    }
}

/// Declares a closed set of string-named variants with `parse` and `as_str`.
/// Used for every enum that crosses a boundary by name (wire, SQL, config).
macro_rules! named_enum {
    ($(#[$m:meta])* $vis:vis enum $name:ident ($field:literal) { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        $vis enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(s: &str) -> Result<$name, $crate::ParseError> {
                match s.trim() {
                    $($text => Ok($name::$variant),)+
                    other => Err($crate::ParseError::new(
                        $field,
                        format!("unknown value {other:?}; expected one of: {}", [$($text),+].join(", ")),
                    )),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use named_enum;
