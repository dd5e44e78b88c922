//! The bot (BOT-1…): the language engine's intents and models per workspace, and analysis of
//! customers' messages.

pub mod nlu;
