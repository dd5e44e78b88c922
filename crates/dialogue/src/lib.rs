//! Huiting's bot dialogue manager (BOT-1…BOT-6), pure like `domain`: one conversation's
//! [`State`] plus one [`Input`] (the conversation opened, a customer message already analysed,
//! a button, a rating, a connector's answer, "nobody picked up") gives the next state and the
//! [`Command`]s to carry out (say this, call that connector, hand off for this reason, open a
//! ticket from this message). The caller persists the state, runs the commands and feeds
//! connector results back in; nothing here does IO, awaits or reads a clock.
//!
//! A message is handled in this order: an explicit request for a human, strong negative
//! emotion, VIP routing, the slot a running flow is waiting for, a flow started by the
//! message's intent, then the knowledge base's verdict (answer / confirm / no match). Every
//! hand-off outside business hours becomes "leave a message" instead (BOT-6).

pub mod config;
pub mod connector;
mod machine;
pub mod prefill;
mod request;
pub mod template;
pub mod translate;

pub use crate::{
    config::{
        BotConfig, ConfigError, Flow, HandoffRules, Lang, OnFailure, Slot, SlotKind, Text, Texts,
    },
    machine::{
        Button, Candidate, Command, ConnectorOutcome, Context, HandoffReason, Input, Match, Phase,
        Pick, State, Understanding, Value, step,
    },
    request::asks_for_human,
    template::{TemplateError, Vars},
};
