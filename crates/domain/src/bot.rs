//! The bot's language data (BOT-1): intents with their example messages, and versioned models
//! trained from them. The models themselves are bytes owned by `nlu`; here they are records.

use crate::{
    Actor, IntentExampleId, IntentId, NluModelId, ParseError, Timestamp, WorkspaceId, named_enum,
};

/// The label reserved for out-of-scope samples; no intent may take it.
pub const OUT_OF_SCOPE: &str = "oos";

/// An intent: something a customer wants, named for the bot and the reports.
#[derive(Debug, Clone, PartialEq)]
pub struct Intent {
    pub id: IntentId,
    pub workspace: WorkspaceId,
    /// Unique in the workspace: `order.track`, `refund`, `退款`.
    pub name: String,
    pub description: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

named_enum! {
    /// Where an example came from: typed by staff, taken from an FAQ entry, or a correction of
    /// a wrong recognition.
    pub enum ExampleSource("source") {
        Manual = "manual",
        Faq = "faq",
        Correction = "correction",
    }
}

/// A message that expresses an intent.
#[derive(Debug, Clone, PartialEq)]
pub struct IntentExample {
    pub id: IntentExampleId,
    pub intent: IntentId,
    pub text: String,
    pub source: ExampleSource,
    pub created_by: Actor,
    pub created_at: Timestamp,
}

named_enum! {
    /// What a model recognises.
    pub enum ModelKind("kind") {
        Intent = "intent",
        Sentiment = "sentiment",
    }
}

named_enum! {
    pub enum ModelStatus("status") {
        Training = "training",
        Ready = "ready",
        Failed = "failed",
    }
}

/// What training measured, kept with the model.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ModelMetrics {
    pub examples: i64,
    pub labels: Vec<String>,
    /// Out-of-fold accuracy estimated during training.
    pub cv_accuracy: f64,
    /// Confidence below which a message is out of scope.
    pub threshold: f64,
    pub train_ms: i64,
}

/// One version of a workspace's model of one kind. At most one per kind is active.
#[derive(Debug, Clone, PartialEq)]
pub struct NluModel {
    pub id: NluModelId,
    pub workspace: WorkspaceId,
    pub kind: ModelKind,
    /// 1, 2, 3… per workspace and kind.
    pub version: i64,
    pub status: ModelStatus,
    pub active: bool,
    /// Present once ready.
    pub metrics: Option<ModelMetrics>,
    /// Why training failed.
    pub error: Option<String>,
    pub created_at: Timestamp,
    pub created_by: Actor,
}

/// An intent name: 1 to 64 characters, no spaces or control characters, not `oos`. Latin
/// letters are lowercased so `Refund` and `refund` are one intent.
pub fn parse_intent_name(s: &str) -> Result<String, ParseError> {
    let name = s.trim().to_lowercase();
    let n = name.chars().count();
    if n == 0 || n > 64 {
        return Err(ParseError::new("name", "1 to 64 characters, like order.track or 退款"));
    }
    if name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(ParseError::new("name", "no spaces; use order.track or order_track"));
    }
    if name == OUT_OF_SCOPE {
        return Err(ParseError::new("name", "\"oos\" is reserved for out-of-scope samples"));
    }
    Ok(name)
}

/// An example message: 1 to 500 characters after trimming.
pub fn parse_example_text(s: &str) -> Result<String, ParseError> {
    let t = s.trim();
    match t.chars().count() {
        0 => Err(ParseError::new("text", "an example needs some text")),
        n if n > 500 => Err(ParseError::new("text", "at most 500 characters")),
        _ => Ok(t.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_texts() {
        assert_eq!(parse_intent_name(" Order.Track "), Ok("order.track".into()));
        assert_eq!(parse_intent_name("退款"), Ok("退款".into()));
        assert!(parse_intent_name("OOS").unwrap_err().reason.contains("reserved"));
        assert!(parse_intent_name("a b").is_err());
        assert!(parse_intent_name("").is_err());
        assert_eq!(parse_example_text("  我要退款 "), Ok("我要退款".into()));
        assert!(parse_example_text(" ").is_err());
        assert!(parse_example_text(&"长".repeat(501)).is_err());
    }
}
