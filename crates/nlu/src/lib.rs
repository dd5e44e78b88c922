//! Text in, analysis out: language, intents (with out-of-scope), sentiment and entities.
//!
//! Pure and deterministic: no IO, no async, no clock reads, and no input makes it fail.

pub mod entities;
pub mod lang;
