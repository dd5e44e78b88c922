//! Groups short customer questions that ask the same thing (BOT-7: unanswered and low-rated
//! questions become FAQ candidates).
//!
//! Each distinct question (after `text::fold`) becomes a TF-IDF vector over jieba words and
//! character n-grams (`features::counts`, IDF fitted on the questions themselves), and average
//! linkage agglomerative clustering merges the most similar pair of groups until no pair is
//! at least `threshold` cosine-similar. Every best partner is cached, so a merge costs O(n)
//! unless it invalidates other groups' partners. Deterministic: ties go to the lower index,
//! and the output does not depend on anything but the input order.

use std::collections::HashMap;

use crate::{
    features::{self, FeatureConfig, SparseVec},
    text::{self, Segmenter},
};

/// How questions are grouped.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClusterConfig {
    /// Groups merge while their average cosine similarity is at least this.
    pub threshold: f32,
    /// Distinct questions looked at (the first ones); the rest are left out.
    pub max_texts: usize,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        ClusterConfig { threshold: 0.25, max_texts: 2000 }
    }
}

/// One group: indices into the input (every duplicate of a question included), ascending, and
/// the index of the question that stands for the group (the one most similar to the others).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cluster {
    pub members: Vec<usize>,
    pub representative: usize,
}

fn feature_config() -> FeatureConfig {
    FeatureConfig {
        word_max: 1,
        latin_char: (3, 5),
        cjk_char: (1, 2),
        stems: true,
        pair_words: 0,
        char_weight: 1.0,
        bits: 22,
    }
}

/// Cosine of two L2-normalised sparse vectors.
fn dot(a: &SparseVec, b: &SparseVec) -> f32 {
    let (mut i, mut j, mut s) = (0, 0, 0.0f32);
    while i < a.idx.len() && j < b.idx.len() {
        match a.idx[i].cmp(&b.idx[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                s += a.val[i] * b.val[j];
                i += 1;
                j += 1;
            }
        }
    }
    s
}

/// TF-IDF vectors of `texts`, IDF fitted on them (smoothed), each normalised to length 1.
fn vectors(seg: &Segmenter, texts: &[&str]) -> Vec<SparseVec> {
    let cfg = feature_config();
    let counts: Vec<features::Counts> =
        texts.iter().map(|t| features::counts(seg, &cfg, t)).collect();
    let mut rows: HashMap<u32, u32> = HashMap::new();
    let mut df: Vec<f32> = Vec::new();
    for c in &counts {
        for view in &c.views {
            for &(bucket, _) in view {
                let next = rows.len() as u32;
                let row = *rows.entry(bucket).or_insert(next);
                if row as usize == df.len() {
                    df.push(0.0);
                }
                df[row as usize] += 1.0;
            }
        }
    }
    let n = texts.len() as f32;
    let idf: Vec<f32> = df.iter().map(|d| ((1.0 + n) / (1.0 + d)).ln() + 1.0).collect();
    counts
        .iter()
        .map(|c| {
            let mut v = features::weigh(c, &cfg, |b| rows.get(&b).copied(), &idf);
            let norm = v.norm_sq().sqrt();
            if norm > 0.0 {
                for x in &mut v.val {
                    *x /= norm;
                }
            }
            v
        })
        .collect()
}

/// Groups `texts`; questions that fold to nothing are left out. Groups come largest first
/// (by member count), then by their first member.
pub fn cluster(seg: &Segmenter, texts: &[&str], cfg: &ClusterConfig) -> Vec<Cluster> {
    // Distinct questions in order of first appearance, with every index that says them.
    let mut slot: HashMap<String, usize> = HashMap::new();
    let mut distinct: Vec<(usize, Vec<usize>)> = Vec::new();
    for (i, t) in texts.iter().enumerate() {
        let key = text::fold(t);
        if key.is_empty() {
            continue;
        }
        match slot.get(&key) {
            Some(&d) => distinct[d].1.push(i),
            None if distinct.len() < cfg.max_texts => {
                slot.insert(key, distinct.len());
                distinct.push((i, vec![i]));
            }
            None => {}
        }
    }
    let n = distinct.len();
    let firsts: Vec<&str> = distinct.iter().map(|(i, _)| texts[*i]).collect();
    let vecs = vectors(seg, &firsts);
    let mut sim = vec![0.0f32; n * n];
    for a in 0..n {
        for b in a + 1..n {
            let s = dot(&vecs[a], &vecs[b]);
            sim[a * n + b] = s;
            sim[b * n + a] = s;
        }
    }
    let mut active = vec![true; n];
    let mut size = vec![1usize; n];
    let mut groups: Vec<Vec<usize>> = (0..n).map(|d| vec![d]).collect();
    let best_of = |sim: &[f32], active: &[bool], a: usize| -> Option<(f32, usize)> {
        let mut best: Option<(f32, usize)> = None;
        for b in (0..n).filter(|&b| b != a && active[b]) {
            let s = sim[a * n + b];
            if best.is_none_or(|(bs, _)| s > bs) {
                best = Some((s, b));
            }
        }
        best
    };
    let mut best: Vec<Option<(f32, usize)>> = (0..n).map(|a| best_of(&sim, &active, a)).collect();
    loop {
        let mut pick: Option<(f32, usize, usize)> = None;
        for a in (0..n).filter(|&a| active[a]) {
            if let Some((s, b)) = best[a]
                && pick.is_none_or(|(ps, _, _)| s > ps)
            {
                pick = Some((s, a, b));
            }
        }
        let Some((s, x, y)) = pick else { break };
        if s < cfg.threshold {
            break;
        }
        let (a, b) = (x.min(y), x.max(y));
        let (na, nb) = (size[a] as f32, size[b] as f32);
        for k in (0..n).filter(|&k| active[k] && k != a && k != b) {
            let v = (na * sim[a * n + k] + nb * sim[b * n + k]) / (na + nb);
            sim[a * n + k] = v;
            sim[k * n + a] = v;
        }
        active[b] = false;
        size[a] += size[b];
        let moved = std::mem::take(&mut groups[b]);
        groups[a].extend(moved);
        best[b] = None;
        best[a] = best_of(&sim, &active, a);
        for k in (0..n).filter(|&k| active[k] && k != a) {
            match best[k] {
                Some((_, p)) if p == a || p == b => best[k] = best_of(&sim, &active, k),
                Some((bs, p)) => {
                    let v = sim[k * n + a];
                    if v > bs || (v == bs && a < p) {
                        best[k] = Some((v, a));
                    }
                }
                None => best[k] = best_of(&sim, &active, k),
            }
        }
    }
    let mut out: Vec<Cluster> = (0..n)
        .filter(|&a| active[a])
        .map(|a| {
            let g = &groups[a];
            // The representative: the medoid over every time a question was asked (most
            // similar to all the others, repeats included), then asked most, then first.
            let score = |d: usize| -> f32 {
                let others: f32 = g
                    .iter()
                    .filter(|&&e| e != d)
                    .map(|&e| distinct[e].1.len() as f32 * dot(&vecs[d], &vecs[e]))
                    .sum();
                others + (distinct[d].1.len() - 1) as f32
            };
            let mut rep = g[0];
            let mut rep_key = (score(rep), distinct[rep].1.len());
            for &d in &g[1..] {
                let key = (score(d), distinct[d].1.len());
                if key.0 > rep_key.0 || (key.0 == rep_key.0 && key.1 > rep_key.1) {
                    rep = d;
                    rep_key = key;
                }
            }
            let mut members: Vec<usize> =
                g.iter().flat_map(|&d| distinct[d].1.iter().copied()).collect();
            members.sort_unstable();
            Cluster { members, representative: distinct[rep].0 }
        })
        .collect();
    out.sort_by(|x, y| y.members.len().cmp(&x.members.len()).then(x.members[0].cmp(&y.members[0])));
    out
}

#[cfg(test)]
mod tests;
