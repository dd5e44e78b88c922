//! Scoring a customer's message against FAQ entries, and choosing the thresholds.
//!
//! Two signals, both in [0, 1]: the best cosine between the message and any of an entry's
//! questions (canonical or variant) over TF-IDF-weighted character n-grams (CJK 1–2-grams,
//! Latin words and their 3-grams, IDF over the workspace's entries), which is comparable
//! across messages; and the entry's BM25 from the index divided by the best BM25 for this
//! message, which ranks well but is relative. The blend is `alpha * cosine + (1 - alpha) *
//! bm25 * cosine_top`, so a message unlike everything scores low whatever its BM25 rank, plus
//! a bonus when the workspace's intent classifier names the entry's intent. `tune` picks
//! `alpha` and the answer and confirm thresholds from held-out variants and out-of-scope
//! messages instead of by hand.

use std::collections::HashMap;

use nlu::text::{Piece, fold, pieces};

/// A published FAQ entry as the matcher sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub id: String,
    /// The canonical question and its variants.
    pub questions: Vec<String>,
    pub lang: String,
    pub intent: Option<String>,
}

/// How the signals are blended.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MatchConfig {
    /// Weight of the n-gram cosine; the rest goes to normalised BM25.
    pub alpha: f32,
    /// Added (times the classifier's confidence) when the predicted intent is the entry's.
    pub intent_boost: f32,
}

impl Default for MatchConfig {
    /// `alpha` as chosen by `huiting kb tune` on the demo FAQ (see docs/benchmarks.md).
    fn default() -> MatchConfig {
        MatchConfig { alpha: DEFAULT_ALPHA, intent_boost: 0.15 }
    }
}

/// Chosen by `huiting kb tune` on the demo FAQ's held-out variants.
pub const DEFAULT_ALPHA: f32 = 0.55;

/// An entry's score for one message.
#[derive(Debug, Clone, PartialEq)]
pub struct Scored {
    pub id: String,
    pub score: f32,
    pub cosine: f32,
    /// BM25 divided by the best BM25 for the message.
    pub bm25: f32,
    pub lang: String,
}

type Vector = Vec<(u32, f32)>;

/// The n-gram vectors of a workspace's published entries.
#[derive(Debug, Default)]
pub struct Matcher {
    entries: Vec<Entry>,
    /// Per entry, one unit vector per question.
    vectors: Vec<Vec<Vector>>,
    grams: HashMap<String, u32>,
    idf: Vec<f32>,
    unseen_idf: f32,
}

fn grams_of(text: &str) -> Vec<String> {
    let folded = fold(text);
    let mut out = Vec::new();
    for p in pieces(&folded) {
        match p {
            Piece::Cjk(run) => {
                let cs: Vec<char> = run.chars().collect();
                for (i, c) in cs.iter().enumerate() {
                    out.push(c.to_string());
                    if let Some(n) = cs.get(i + 1) {
                        out.push(format!("{c}{n}"));
                    }
                }
            }
            Piece::Word(w) => {
                out.push(format!("w:{w}"));
                let cs: Vec<char> = format!("^{w}$").chars().collect();
                for win in cs.windows(3) {
                    out.push(win.iter().collect());
                }
            }
            Piece::Number(n) => out.push(format!("n:{n}")),
        }
    }
    out
}

fn counts(grams: Vec<String>) -> HashMap<String, f32> {
    let mut m: HashMap<String, f32> = HashMap::new();
    for g in grams {
        *m.entry(g).or_default() += 1.0;
    }
    m
}

fn dot(a: &Vector, b: &Vector) -> f32 {
    let (mut i, mut j, mut s) = (0, 0, 0.0);
    while i < a.len() && j < b.len() {
        match a[i].0.cmp(&b[j].0) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                s += a[i].1 * b[j].1;
                i += 1;
                j += 1;
            }
        }
    }
    s
}

impl Matcher {
    pub fn new(entries: Vec<Entry>) -> Matcher {
        let mut grams: HashMap<String, u32> = HashMap::new();
        let mut df: Vec<f32> = Vec::new();
        let per_entry: Vec<Vec<HashMap<String, f32>>> = entries
            .iter()
            .map(|e| e.questions.iter().map(|q| counts(grams_of(q))).collect())
            .collect();
        for qs in &per_entry {
            let mut seen: Vec<u32> = Vec::new();
            for q in qs {
                for g in q.keys() {
                    let next = grams.len() as u32;
                    let id = *grams.entry(g.clone()).or_insert(next);
                    if id as usize == df.len() {
                        df.push(0.0);
                    }
                    if !seen.contains(&id) {
                        seen.push(id);
                        df[id as usize] += 1.0;
                    }
                }
            }
        }
        let n = entries.len() as f32;
        let idf: Vec<f32> = df.iter().map(|d| ((n + 1.0) / (d + 1.0)).ln() + 1.0).collect();
        let unseen_idf = (n + 1.0).ln() + 1.0;
        let mut m = Matcher { entries, vectors: Vec::new(), grams, idf, unseen_idf };
        m.vectors = per_entry
            .into_iter()
            .map(|qs| qs.into_iter().map(|c| m.vector(&c).0).collect())
            .collect();
        m
    }

    /// A unit vector over known grams, and the squared weight of grams the entries never use
    /// (they lower the cosine: a message about something else is not a match).
    fn vector(&self, c: &HashMap<String, f32>) -> (Vector, f32) {
        let mut v = Vec::with_capacity(c.len());
        let mut unseen = 0.0;
        for (g, tf) in c {
            let w = 1.0 + tf.ln();
            match self.grams.get(g) {
                Some(id) => v.push((*id, w * self.idf[*id as usize])),
                None => unseen += (w * self.unseen_idf).powi(2),
            }
        }
        let known = v.iter().map(|(_, w)| w * w).sum::<f32>();
        let total = (known + unseen).sqrt();
        if total > 0.0 {
            for (_, w) in &mut v {
                *w /= total;
            }
        }
        v.sort_unstable_by_key(|(g, _)| *g);
        (v, unseen)
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The best cosine of `text` against each entry's questions, by entry index.
    pub fn cosines(&self, text: &str) -> Vec<f32> {
        let (q, _) = self.vector(&counts(grams_of(text)));
        self.vectors.iter().map(|qs| qs.iter().map(|v| dot(&q, v)).fold(0.0, f32::max)).collect()
    }

    /// Every entry's blended score, best first. `bm25` is the index's retrieval for the
    /// message; `intent` the classifier's in-scope prediction and confidence.
    pub fn score(
        &self,
        text: &str,
        bm25: &[(String, f32)],
        intent: Option<(&str, f32)>,
        cfg: &MatchConfig,
    ) -> Vec<Scored> {
        let parts = self.parts(text, bm25, intent);
        let mut out: Vec<Scored> = parts
            .iter()
            .map(|p| Scored {
                id: self.entries[p.entry].id.clone(),
                score: p.blend(cfg.alpha, cfg.intent_boost),
                cosine: p.cosine,
                bm25: p.bm25,
                lang: self.entries[p.entry].lang.clone(),
            })
            .collect();
        out.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.id.cmp(&b.id)));
        out
    }

    /// The signals of every entry with any signal.
    pub fn parts(
        &self,
        text: &str,
        bm25: &[(String, f32)],
        intent: Option<(&str, f32)>,
    ) -> Vec<Parts> {
        let cos = self.cosines(text);
        let top_bm25 = bm25.iter().map(|(_, s)| *s).fold(0.0, f32::max);
        let top_cos = cos.iter().copied().fold(0.0, f32::max);
        let by_id: HashMap<&str, f32> = bm25.iter().map(|(id, s)| (id.as_str(), *s)).collect();
        self.entries
            .iter()
            .enumerate()
            .filter_map(|(i, e)| {
                let b = by_id.get(e.id.as_str()).map_or(0.0, |s| s / top_bm25.max(f32::EPSILON));
                let c = cos[i];
                let intent = match (intent, &e.intent) {
                    (Some((name, p)), Some(mine)) if name == mine => p,
                    _ => 0.0,
                };
                (c > 0.0 || b > 0.0).then_some(Parts {
                    entry: i,
                    cosine: c,
                    bm25: b,
                    top_cosine: top_cos,
                    intent,
                })
            })
            .collect()
    }
}

/// The signals of one entry for one message.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Parts {
    pub entry: usize,
    pub cosine: f32,
    pub bm25: f32,
    /// The best cosine of any entry for this message: scales BM25's relative score into an
    /// absolute one.
    pub top_cosine: f32,
    /// The classifier's confidence when it names this entry's intent, else 0.
    pub intent: f32,
}

impl Parts {
    pub fn blend(&self, alpha: f32, intent_boost: f32) -> f32 {
        (alpha * self.cosine
            + (1.0 - alpha) * self.bm25 * self.top_cosine
            + intent_boost * self.intent)
            .clamp(0.0, 1.0)
    }
}

/// One tuning message: what it should match (None: nothing, it is out of scope).
#[derive(Debug, Clone)]
pub struct Case {
    pub expected: Option<String>,
    /// The entries' signals, with entry ids.
    pub parts: Vec<(String, Parts)>,
}

/// What tuning chose and how it does on the cases.
#[derive(Debug, Clone, PartialEq)]
pub struct TuneReport {
    pub alpha: f32,
    pub answer_threshold: f32,
    pub confirm_threshold: f32,
    pub positives: usize,
    pub negatives: usize,
    /// Positives whose best entry is right.
    pub top1: f32,
    /// Positives whose right entry is among the best three.
    pub top3: f32,
    /// Of the messages answered directly, the share answered right (negatives count wrong).
    pub answer_precision: f32,
    /// Positives answered directly and right.
    pub answered: f32,
    /// Positives answered or offered (the right one among up to three choices).
    pub answered_or_confirmed: f32,
    /// Negatives that got "no match".
    pub negatives_rejected: f32,
}

/// The precision demanded of direct answers.
pub const TARGET_PRECISION: f32 = 0.95;

fn ranked(c: &Case, alpha: f32, boost: f32) -> Vec<(&str, f32)> {
    let mut v: Vec<(&str, f32)> =
        c.parts.iter().map(|(id, p)| (id.as_str(), p.blend(alpha, boost))).collect();
    v.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    v
}

/// Picks `alpha` (best top-1 accuracy on the positives, 0.0 to 1.0 by 0.05), then the answer
/// threshold (the lowest score at which direct answers are at least 95 % right, negatives
/// counting as wrong), then the confirm threshold (at most the answer threshold, maximising
/// positives whose entry is offered plus negatives rejected).
pub fn tune(cases: &[Case], intent_boost: f32) -> TuneReport {
    let positives = cases.iter().filter(|c| c.expected.is_some()).count();
    let negatives = cases.len() - positives;
    let share = |n: usize, of: usize| if of == 0 { 0.0 } else { n as f32 / of as f32 };
    let mut best = (0.0f32, -1.0f32);
    for step in 0..=20 {
        let alpha = step as f32 * 0.05;
        let right = cases
            .iter()
            .filter(|c| {
                c.expected.as_deref().is_some_and(|e| {
                    ranked(c, alpha, intent_boost).first().is_some_and(|(id, _)| *id == e)
                })
            })
            .count();
        let acc = share(right, positives);
        if acc > best.1 + 1e-6 {
            best = (alpha, acc);
        }
    }
    let alpha = best.0;
    // (top score, top is right, expected among the first three, is positive)
    let rows: Vec<(f32, bool, bool, bool)> = cases
        .iter()
        .map(|c| {
            let r = ranked(c, alpha, intent_boost);
            let top = r.first().map_or(0.0, |x| x.1);
            let exp = c.expected.as_deref();
            let right = exp.is_some_and(|e| r.first().is_some_and(|x| x.0 == e));
            let in3 = exp.is_some_and(|e| r.iter().take(3).any(|x| x.0 == e));
            (top, right, in3, exp.is_some())
        })
        .collect();
    let mut thresholds: Vec<f32> = rows.iter().map(|r| r.0).filter(|t| *t > 0.0).collect();
    thresholds.sort_by(f32::total_cmp);
    thresholds.dedup();
    let precision_at = |t: f32| {
        let answered: Vec<_> = rows.iter().filter(|r| r.0 >= t).collect();
        share(answered.iter().filter(|r| r.1).count(), answered.len())
    };
    let answer_threshold = thresholds
        .iter()
        .copied()
        .find(|t| {
            // The lowest threshold from which precision stays at the target above too.
            thresholds.iter().filter(|u| **u >= *t).all(|u| precision_at(*u) >= TARGET_PRECISION)
        })
        .unwrap_or(1.0);
    let mut confirm = (answer_threshold, -1.0f32);
    for t in thresholds.iter().copied().filter(|t| *t <= answer_threshold) {
        let offered = rows.iter().filter(|r| r.3 && r.0 >= t && r.2).count();
        let rejected = rows.iter().filter(|r| !r.3 && r.0 < t).count();
        let v = share(offered, positives) + share(rejected, negatives);
        if v > confirm.1 + 1e-6 {
            confirm = (t, v);
        }
    }
    let confirm_threshold = confirm.0;
    let answered = rows.iter().filter(|r| r.3 && r.0 >= answer_threshold && r.1).count();
    let answered_all = rows.iter().filter(|r| r.0 >= answer_threshold).count();
    let answered_right = rows.iter().filter(|r| r.0 >= answer_threshold && r.1).count();
    let offered = rows
        .iter()
        .filter(|r| r.3 && ((r.0 >= answer_threshold && r.1) || (r.0 >= confirm_threshold && r.2)))
        .count();
    TuneReport {
        alpha,
        answer_threshold,
        confirm_threshold,
        positives,
        negatives,
        top1: share(rows.iter().filter(|r| r.1).count(), positives),
        top3: share(rows.iter().filter(|r| r.2).count(), positives),
        answer_precision: share(answered_right, answered_all),
        answered: share(answered, positives),
        answered_or_confirmed: share(offered, positives),
        negatives_rejected: share(
            rows.iter().filter(|r| !r.3 && r.0 < confirm_threshold).count(),
            negatives,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: &str, qs: &[&str]) -> Entry {
        Entry {
            id: id.into(),
            questions: qs.iter().map(|s| s.to_string()).collect(),
            lang: "zh".into(),
            intent: None,
        }
    }

    #[test]
    fn cosine_prefers_the_paraphrased_entry() {
        let m = Matcher::new(vec![
            entry("ret", &["怎么退货", "退货流程", "如何申请退货"]),
            entry("inv", &["怎么开发票", "发票在哪里开", "开具增值税发票"]),
            entry("pw", &["How do I reset my password", "forgot password"]),
        ]);
        let c = m.cosines("我想申请退货怎么弄");
        assert!(c[0] > 0.4 && c[1] < c[0] && c[2] == 0.0, "{c:?}");
        let c = m.cosines("I forgot my password");
        assert!(c[2] > 0.5, "{c:?}");
        assert!(m.cosines("今天天气不错")[0] < 0.2);
        assert_eq!(m.cosines(""), vec![0.0, 0.0, 0.0]);
        let s = m.score(
            "退货",
            &[("ret".into(), 3.0), ("inv".into(), 1.0)],
            None,
            &MatchConfig::default(),
        );
        assert_eq!(s[0].id, "ret");
        assert!(s[0].score <= 1.0 && s[0].bm25 == 1.0);
    }

    #[test]
    fn tuning_separates_positives_from_negatives() {
        let p = |c: f32| Parts { entry: 0, cosine: c, bm25: 1.0, top_cosine: c, intent: 0.0 };
        let case = |exp: Option<&str>, a: f32, b: f32| Case {
            expected: exp.map(str::to_owned),
            parts: vec![("a".into(), p(a)), ("b".into(), p(b))],
        };
        let cases = vec![
            case(Some("a"), 0.9, 0.2),
            case(Some("a"), 0.8, 0.3),
            case(Some("b"), 0.1, 0.7),
            case(Some("b"), 0.5, 0.45),
            case(None, 0.2, 0.1),
            case(None, 0.15, 0.3),
        ];
        let r = tune(&cases, 0.0);
        assert_eq!(r.positives, 4);
        assert!(r.answer_precision >= TARGET_PRECISION, "{r:?}");
        assert!(r.confirm_threshold <= r.answer_threshold, "{r:?}");
        assert!(r.confirm_threshold > 0.3, "negatives stay below: {r:?}");
        assert_eq!(r.negatives_rejected, 1.0, "{r:?}");
    }
}
