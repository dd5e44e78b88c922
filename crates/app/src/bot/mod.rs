//! The bot (BOT-1…): the language engine's intents and models per workspace, analysis of
//! customers' messages, the knowledge base with its search, FAQ matching, and agent assist.

pub mod assist;
pub mod kb_io;
pub mod knowledge;
pub mod matching;
pub mod nlu;
