//! Text in, analysis out: language, intents (with out-of-scope), sentiment and entities.
//!
//! Pure and deterministic: no IO, no async, no clock reads, and no input makes it fail. The
//! caller owns the models (trained here, stored elsewhere as bytes) and one shared
//! [`text::Segmenter`]; [`analyze`] runs everything on one message.

pub mod classifier;
pub mod cluster;
mod codec;
#[cfg(feature = "embeddings")]
pub mod encoder;
pub mod entities;
pub mod features;
pub mod lang;
pub mod linear;
pub mod mlp;
pub mod sentiment;
pub mod text;

pub use codec::ModelError;

use classifier::{Classifier, Embedder, Prediction};
use entities::{Entity, Extractor};
use lang::Lang;
use sentiment::{Sentiment, SentimentModel};
use text::Segmenter;

/// The models one analysis uses. A workspace without trained intents passes `intents: None`.
#[derive(Clone, Copy)]
pub struct Models<'a> {
    pub segmenter: &'a Segmenter,
    pub intents: Option<&'a Classifier>,
    /// The sentence encoder the intent model was trained with, if any.
    pub encoder: Option<&'a dyn Embedder>,
    pub sentiment: &'a SentimentModel,
    pub entities: &'a Extractor,
}

impl std::fmt::Debug for Models<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Models")
            .field("intents", &self.intents.map(|m| m.labels().len()))
            .field("encoder", &self.encoder.map(|e| e.dim()))
            .finish_non_exhaustive()
    }
}

/// Everything the engine says about one message.
#[derive(Debug, Clone, PartialEq)]
pub struct Analysis {
    pub lang: Lang,
    /// The best intents (up to `TOP_K`) and whether the best is in scope.
    pub intent: Option<Prediction>,
    pub sentiment: Sentiment,
    pub entities: Vec<Entity>,
}

/// How many intents an analysis lists.
pub const TOP_K: usize = 3;

/// Analyses one message. `today` anchors relative dates ("昨天", "last Friday").
pub fn analyze(models: &Models<'_>, text: &str, today: time::Date) -> Analysis {
    let seg = models.segmenter;
    Analysis {
        lang: lang::detect(text),
        intent: models.intents.map(|m| m.predict_with(seg, models.encoder, text, TOP_K)),
        sentiment: models.sentiment.analyze(seg, text),
        entities: models.entities.extract(text, today),
    }
}
