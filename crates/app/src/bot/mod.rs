//! The bot (BOT-1…): the language engine's intents and models per workspace, analysis of
//! customers' messages, and calls to the company's own systems (`connector`).

pub mod connector;
pub mod nlu;
pub mod runtime;
