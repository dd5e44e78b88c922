//! Sentiment: negative / neutral / positive with a score, and a "strong negative emotion" flag.
//!
//! Polarity comes from a classifier trained on labelled reviews or messages (the same machinery
//! as intents). The strong-negative flag comes from a lexicon of threats to escalate (media,
//! regulators, lawyers), insults and anger, so it is explainable: the cues that fired are
//! returned. The built-in model is trained, on first use, from examples and lexicons written
//! for Huiting and kept in `crates/nlu/data/` (see its README), so the binary ships nothing it
//! may not redistribute and downloads nothing.

use crate::classifier::{Classifier, Stage, TrainConfig, TrainError};
use crate::codec::ModelError;
use crate::text::{self, Segmenter};

/// The three polarities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Polarity {
    Negative,
    Neutral,
    Positive,
}

impl Polarity {
    pub fn as_str(self) -> &'static str {
        match self {
            Polarity::Negative => "negative",
            Polarity::Neutral => "neutral",
            Polarity::Positive => "positive",
        }
    }

    /// Reads a label of a training set: `0`/`1`, English or Chinese names.
    pub fn from_label(label: &str) -> Option<Polarity> {
        match label.trim().to_lowercase().as_str() {
            "0" | "neg" | "negative" | "负面" | "消极" | "差评" | "-1" => {
                Some(Polarity::Negative)
            }
            "1" | "pos" | "positive" | "正面" | "积极" | "好评" => Some(Polarity::Positive),
            "neutral" | "neu" | "中性" | "中立" => Some(Polarity::Neutral),
            _ => None,
        }
    }
}

/// The sentiment of one text.
#[derive(Debug, Clone, PartialEq)]
pub struct Sentiment {
    pub polarity: Polarity,
    /// From -1 (certainly negative) to 1 (certainly positive).
    pub score: f32,
    /// Anger, insults or a threat to escalate outside the company.
    pub strong_negative: bool,
    /// The lexicon entries behind `strong_negative`.
    pub cues: Vec<String>,
}

/// Why a sentiment model could not be trained.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SentimentError {
    #[error("label {0:?} is not a sentiment; use 0/1, negative/neutral/positive or 负面/中性/正面")]
    UnknownLabel(String),
    #[error("sentiment training needs both negative and positive examples")]
    MissingPolarity,
    #[error(transparent)]
    Train(#[from] TrainError),
}

/// A sentiment model: a polarity classifier plus the strong-negative lexicon.
#[derive(Debug, Clone, PartialEq)]
pub struct SentimentModel {
    classifier: Classifier,
    /// Polarity of each classifier label.
    polarity: Vec<Polarity>,
    lexicon: Lexicon,
}

/// Cues of strong negative emotion, folded like the text they are looked for in.
#[derive(Debug, Clone, PartialEq)]
struct Lexicon {
    /// Any one of these is enough (threats, insults).
    strong: Vec<String>,
    /// These count when the text is also negative (anger, exasperation).
    anger: Vec<String>,
}

const SEED: &str = include_str!("../data/sentiment/seed.tsv");
/// The seed's trained polarity classifier, as [`Classifier::to_bytes`] writes it.
const BUILTIN_MODEL: &[u8] = include_bytes!("../data/sentiment/builtin.model");
const STRONG: &str = include_str!("../data/sentiment/strong-negative.txt");
const ANGER: &str = include_str!("../data/sentiment/anger.txt");

impl Lexicon {
    fn builtin() -> Lexicon {
        let read = |s: &str| -> Vec<String> {
            let mut v: Vec<String> = s
                .lines()
                .map(|l| l.split('#').next().unwrap_or_default().trim())
                .filter(|l| !l.is_empty())
                .map(text::fold)
                .filter(|l| !l.is_empty())
                .collect();
            v.sort();
            v.dedup();
            v
        };
        Lexicon { strong: read(STRONG), anger: read(ANGER) }
    }

    /// Entries found in folded text. Latin entries must match whole words.
    fn find<'a>(entries: &'a [String], folded: &str) -> Vec<&'a str> {
        entries
            .iter()
            .filter(
                |e| if e.is_ascii() { whole_word(folded, e) } else { folded.contains(e.as_str()) },
            )
            .map(String::as_str)
            .collect()
    }
}

/// `entry` stands in `folded` between spaces, the ends of the text or CJK characters, so an
/// ASCII entry next to Chinese ("投诉到12315", "去bbb告你") counts but "court" in "courtesy" does
/// not.
fn whole_word(folded: &str, entry: &str) -> bool {
    folded.match_indices(entry).any(|(i, m)| {
        let before = folded[..i].chars().next_back();
        let after = folded[i + m.len()..].chars().next();
        let edge = |c: Option<char>| c.is_none_or(|c| c == ' ' || text::is_cjk(c));
        edge(before) && edge(after)
    })
}

impl SentimentModel {
    /// Trains a polarity classifier on labelled texts; labels as in `Polarity::from_label`.
    pub fn train(
        seg: &Segmenter,
        examples: &[(&str, &str)],
        cfg: &TrainConfig,
        progress: &mut dyn FnMut(Stage),
    ) -> Result<SentimentModel, SentimentError> {
        for (_, l) in examples {
            if Polarity::from_label(l).is_none() {
                return Err(SentimentError::UnknownLabel((*l).to_owned()));
            }
        }
        let mut cfg = cfg.clone();
        // Every label is a polarity; none marks out-of-scope samples.
        cfg.oos_label = "\u{0}".to_owned();
        let classifier = Classifier::train(seg, examples, &cfg, progress)?;
        let polarity: Vec<Polarity> = classifier
            .labels()
            .iter()
            .map(|l| Polarity::from_label(l).unwrap_or(Polarity::Neutral))
            .collect();
        if !polarity.contains(&Polarity::Negative) || !polarity.contains(&Polarity::Positive) {
            return Err(SentimentError::MissingPolarity);
        }
        Ok(SentimentModel { classifier, polarity, lexicon: Lexicon::builtin() })
    }

    /// The model that ships with Huiting: the weights [`SentimentModel::train_builtin`] learns
    /// from `crates/nlu/data/sentiment/seed.tsv`, compiled into the binary (`builtin.model`), so
    /// a process has it in about a millisecond instead of training for seconds at start. A test
    /// checks the shipped weights are the ones the seed trains (see `data/README.md`).
    pub fn builtin() -> SentimentModel {
        SentimentModel::from_bytes(BUILTIN_MODEL)
            .expect("the shipped sentiment model decodes (checked by a test)")
    }

    /// Trains the built-in model from the seed examples: what `builtin.model` was written by.
    pub fn train_builtin(seg: &Segmenter) -> SentimentModel {
        let examples: Vec<(&str, &str)> = SEED
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.rsplit_once('\t'))
            .collect();
        SentimentModel::train(seg, &examples, &TrainConfig::default(), &mut |_| {})
            .expect("the built-in sentiment examples cover every polarity (checked by a test)")
    }

    /// The classifier's own label for `text` (for evaluation against labelled sets).
    pub fn label(&self, seg: &Segmenter, text: &str) -> &str {
        let p = self.classifier.probabilities(seg, text);
        let best = (0..p.len()).max_by(|&a, &b| p[a].total_cmp(&p[b]).then(b.cmp(&a))).unwrap_or(0);
        &self.classifier.labels()[best]
    }

    /// Polarity, score and the strong-negative flag of `text`.
    pub fn analyze(&self, seg: &Segmenter, text: &str) -> Sentiment {
        let p = self.classifier.probabilities(seg, text);
        let mass = |pol: Polarity| -> f32 {
            p.iter().zip(&self.polarity).filter(|(_, q)| **q == pol).map(|(v, _)| *v).sum()
        };
        let (neg, pos, neu) =
            (mass(Polarity::Negative), mass(Polarity::Positive), mass(Polarity::Neutral));
        let score = pos - neg;
        let folded = text::fold(text);
        let strong = Lexicon::find(&self.lexicon.strong, &folded);
        let anger = Lexicon::find(&self.lexicon.anger, &folded);
        let polarity = if !strong.is_empty() || (!anger.is_empty() && score < 0.3) {
            Polarity::Negative
        } else if neu >= neg.max(pos) || score.abs() < 0.2 || folded.is_empty() {
            Polarity::Neutral
        } else if score > 0.0 {
            Polarity::Positive
        } else {
            Polarity::Negative
        };
        let strong_negative =
            !strong.is_empty() || (!anger.is_empty() && polarity == Polarity::Negative);
        let mut cues: Vec<String> = strong
            .iter()
            .chain(if strong_negative { &anger[..] } else { &[] })
            .map(|s| (*s).to_owned())
            .collect();
        cues.dedup();
        Sentiment {
            polarity,
            score: if folded.is_empty() { 0.0 } else { score },
            strong_negative,
            cues,
        }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        self.classifier.to_bytes()
    }

    /// Reads a model written by `to_bytes`; the lexicon is the built-in one.
    pub fn from_bytes(bytes: &[u8]) -> Result<SentimentModel, ModelError> {
        let classifier = Classifier::from_bytes(bytes)?;
        let polarity: Vec<Polarity> = classifier
            .labels()
            .iter()
            .map(|l| {
                Polarity::from_label(l)
                    .ok_or(ModelError::Inconsistent("a label is not a sentiment"))
            })
            .collect::<Result<_, _>>()?;
        Ok(SentimentModel { classifier, polarity, lexicon: Lexicon::builtin() })
    }

    pub fn classifier(&self) -> &Classifier {
        &self.classifier
    }
}

#[cfg(test)]
mod tests;
