//! Sparse features: hashed word and character n-grams, weighted by sublinear TF-IDF.
//!
//! Every feature is a string (a word, a word pair, a character n-gram) in a namespace, hashed
//! with FNV-1a into a fixed space of buckets, so no vocabulary has to be stored or loaded. Each
//! view (words, characters) is L2-normalised on its own and the views are concatenated, as
//! scikit-learn's `FeatureUnion` of two `TfidfVectorizer`s does.

use crate::text::{self, Piece, Segmenter};

/// What features a model extracts. Stored with the model, so prediction extracts exactly what
/// training saw.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FeatureConfig {
    /// Word n-grams from 1 to this (0 turns the word view off).
    pub word_max: u8,
    /// Character n-grams inside Latin words (padded with a space on each side): min..=max.
    pub latin_char: (u8, u8),
    /// Character n-grams over CJK runs (padded with a space on each side): min..=max.
    pub cjk_char: (u8, u8),
    /// Add crudely stemmed English words as extra word features.
    pub stems: bool,
    /// Unordered pairs of all words, in messages of at most this many words (0: none).
    pub pair_words: u8,
    /// Weight of the character view relative to the word view.
    pub char_weight: f32,
    /// log2 of the number of hash buckets.
    pub bits: u8,
}

impl Default for FeatureConfig {
    fn default() -> Self {
        FeatureConfig {
            word_max: 2,
            latin_char: (2, 5),
            cjk_char: (1, 3),
            stems: true,
            pair_words: 24,
            char_weight: 1.0,
            bits: 22,
        }
    }
}

/// A sparse vector: strictly increasing indices with their values.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SparseVec {
    pub idx: Vec<u32>,
    pub val: Vec<f32>,
}

impl SparseVec {
    pub fn dot(&self, dense: &[f32]) -> f32 {
        self.idx.iter().zip(&self.val).map(|(&i, &v)| v * dense[i as usize]).sum()
    }

    pub fn norm_sq(&self) -> f32 {
        self.val.iter().map(|v| v * v).sum()
    }

    /// Builds from unsorted (index, value) pairs, summing duplicates.
    pub fn from_pairs(mut pairs: Vec<(u32, f32)>) -> SparseVec {
        pairs.sort_unstable_by_key(|p| p.0);
        let mut out = SparseVec::default();
        for (i, v) in pairs {
            if out.idx.last() == Some(&i) {
                *out.val.last_mut().expect("parallel vectors") += v;
            } else {
                out.idx.push(i);
                out.val.push(v);
            }
        }
        out
    }
}

/// Raw counts of one text's features, per view: `(bucket, count)` sorted by bucket.
#[derive(Debug, Clone, Default)]
pub struct Counts {
    pub views: [Vec<(u32, f32)>; 2],
}

const WORD: usize = 0;
const CHAR: usize = 1;

/// Extracts hashed feature counts from raw text.
pub fn counts(seg: &Segmenter, cfg: &FeatureConfig, raw: &str) -> Counts {
    let folded = text::fold(raw);
    let mask = (1u64 << cfg.bits) - 1;
    let mut views: [Vec<(u32, f32)>; 2] = [Vec::new(), Vec::new()];
    let mut add = |view: usize, ns: u8, parts: &[&str]| {
        let mut h = Fnv::new();
        h.byte(ns);
        for (i, p) in parts.iter().enumerate() {
            if i > 0 {
                h.byte(0x1f);
            }
            h.bytes(p.as_bytes());
        }
        views[view].push(((h.0 & mask) as u32, 1.0));
    };

    let mut words: Vec<&str> = Vec::new();
    let mut buf = String::new();
    for piece in text::pieces(&folded) {
        match piece {
            Piece::Word(w) => {
                words.push(w);
                if cfg.stems {
                    let s = stem(w);
                    if s.len() != w.len() {
                        add(WORD, b's', &[s]);
                    }
                }
            }
            Piece::Number(n) => {
                words.push(n);
                add(WORD, b'n', &[&n.len().min(12).to_string()]);
            }
            Piece::Cjk(run) => {
                words.extend(seg.cut(run));
            }
        }
    }
    // Character n-grams over whitespace-separated tokens of the lightly folded text, padded
    // with a space (scikit-learn's `char_wb`): punctuation and digits stay, so "吗？" and
    // "3+5" are features, and the padding marks how a message starts and ends.
    for token in text::light_fold(raw).split(' ').filter(|t| !t.is_empty()) {
        if token.chars().any(text::is_cjk) {
            char_grams(token, cfg.cjk_char, &mut buf, |g| add(CHAR, b'c', &[g]));
        } else {
            char_grams(token, cfg.latin_char, &mut buf, |g| add(CHAR, b'l', &[g]));
        }
    }
    if cfg.word_max >= 1 {
        for w in &words {
            add(WORD, b'1', &[w]);
        }
    }
    if cfg.word_max >= 2 {
        for pair in words.windows(2) {
            add(WORD, b'2', pair);
        }
    }
    if cfg.word_max >= 3 {
        for tri in words.windows(3) {
            add(WORD, b'3', tri);
        }
    }
    // Unordered pairs of words say "these two in one request" wherever they stand; in long
    // texts they are mostly noise (and quadratic), so only short messages get them.
    let content: Vec<&str> =
        words.iter().copied().filter(|w| w.chars().count() > 1 || !w.is_ascii()).collect();
    if content.len() <= usize::from(cfg.pair_words) {
        for (i, a) in content.iter().enumerate() {
            for b in &content[i + 1..] {
                let (x, y) = if a <= b { (a, b) } else { (b, a) };
                add(WORD, b'p', &[x, y]);
            }
        }
    }
    for v in &mut views {
        v.sort_unstable_by_key(|p| p.0);
        v.dedup_by(|b, a| {
            if a.0 == b.0 {
                a.1 += b.1;
                true
            } else {
                false
            }
        });
    }
    Counts { views }
}

/// Calls `f` with every character n-gram of ` s ` for n in `range` (n-grams made only of the
/// padding are skipped).
fn char_grams(s: &str, (lo, hi): (u8, u8), buf: &mut String, mut f: impl FnMut(&str)) {
    if hi == 0 {
        return;
    }
    buf.clear();
    buf.push(' ');
    buf.push_str(s);
    buf.push(' ');
    let bounds: Vec<usize> = buf.char_indices().map(|(i, _)| i).chain([buf.len()]).collect();
    let chars = bounds.len() - 1;
    for n in lo.max(1) as usize..=hi as usize {
        if n > chars {
            break;
        }
        for start in 0..=chars - n {
            let g = &buf[bounds[start]..bounds[start + n]];
            if g != " " {
                f(g);
            }
        }
    }
}

/// A light English stemmer: plural and verb endings, enough to join "cards"/"card" and
/// "charged"/"charge"/"charging".
pub fn stem(w: &str) -> &str {
    if !w.is_ascii() || w.len() <= 3 {
        return w;
    }
    for suffix in ["'s", "ing", "ed", "es", "s", "ly"] {
        if let Some(base) = w.strip_suffix(suffix)
            && base.len() >= 3
            && !(suffix == "s" && base.ends_with('s'))
        {
            return base;
        }
    }
    w
}

/// Turns counts into a TF-IDF vector over model rows: `row_of` maps a bucket to its row (None
/// for buckets training never saw), `idf` is per row. Each view is L2-normalised, the character
/// view then scaled by `char_weight`.
pub fn weigh(
    counts: &Counts,
    cfg: &FeatureConfig,
    row_of: impl Fn(u32) -> Option<u32>,
    idf: &[f32],
) -> SparseVec {
    let mut pairs = Vec::with_capacity(counts.views[0].len() + counts.views[1].len());
    for (view, items) in counts.views.iter().enumerate() {
        let start = pairs.len();
        let mut norm = 0.0f32;
        for &(bucket, tf) in items {
            if let Some(row) = row_of(bucket) {
                let v = (1.0 + tf.ln()) * idf[row as usize];
                norm += v * v;
                pairs.push((row, v));
            }
        }
        if norm > 0.0 {
            let scale = if view == CHAR { cfg.char_weight } else { 1.0 } / norm.sqrt();
            for p in &mut pairs[start..] {
                p.1 *= scale;
            }
        }
    }
    SparseVec::from_pairs(pairs)
}

/// 64-bit FNV-1a: tiny, and the same on every platform and version, unlike std's hasher.
struct Fnv(u64);

impl Fnv {
    fn new() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
    fn byte(&mut self, b: u8) {
        self.0 ^= u64::from(b);
        self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
    }
    fn bytes(&mut self, bs: &[u8]) {
        for &b in bs {
            self.byte(b);
        }
    }
}
