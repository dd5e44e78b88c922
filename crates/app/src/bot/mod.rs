//! The bot (BOT-1…): the language engine's intents and models per workspace, analysis of
//! customers' messages, the knowledge base with its search, FAQ matching, agent assist, calls
//! to the company's own systems (`connector`), and the bot at run time (`runtime`).

pub mod assist;
pub mod connector;
pub mod kb_io;
pub mod knowledge;
pub mod learning;
pub mod matching;
pub mod nlu;
pub mod runtime;
pub mod similar;
pub mod translation;
