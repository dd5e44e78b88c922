//! Sentiment: the built-in model and the strong-negative flag.

use super::*;

#[test]
fn builtin_model_trains() {
    let seg = Segmenter::default();
    let m = SentimentModel::builtin(&seg);
    assert_eq!(m.classifier().labels().len(), 2);
}
