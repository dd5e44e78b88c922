//! A text classifier: hashed TF-IDF features, a one-vs-rest linear SVM, softmax calibration and
//! an out-of-scope threshold, all learnt from labelled examples.
//!
//! Training extracts every example's features once, then fits `folds` models on the other folds
//! to score each example as unseen data would be scored. Those out-of-fold scores choose the
//! softmax temperature (calibrated confidence) and the out-of-scope threshold, and estimate
//! accuracy; the final model is then fitted on everything.

use crate::codec::{ModelError, Reader, Writer};
use crate::features::{self, FeatureConfig, SparseVec};
use crate::linear::{self, SplitMix, SvmParams};
use crate::mlp::{Mlp, MlpParams, Net, softmax_in_place};
use crate::text::{self, Segmenter};

/// A sentence encoder whose vectors join the n-gram features (see `nlu::encoder` behind the
/// `embeddings` feature). Vectors should be L2-normalised; `dim` must not change.
pub trait Embedder: Sync {
    fn dim(&self) -> usize;
    fn embed(&self, text: &str) -> Vec<f32>;
    /// Vectors of several texts, in order; encoders that batch faster override this.
    fn embed_batch(&self, texts: &[&str]) -> Vec<Vec<f32>> {
        texts.iter().map(|t| self.embed(t)).collect()
    }
}

/// How to train.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainConfig {
    pub features: FeatureConfig,
    pub svm: SvmParams,
    /// Folds for the out-of-fold scores (2 or more; fewer turns calibration off).
    pub folds: u8,
    /// Examples with this label are out-of-scope samples: not a class, but used to place the
    /// threshold.
    pub oos_label: String,
    /// Train the out-of-scope samples as a class of their own; the in-scope decision is then
    /// the best label's probability minus the out-of-scope probability.
    pub oos_class: bool,
    /// Without out-of-scope samples, the threshold keeps this share of the correctly
    /// recognised training messages in scope.
    pub keep_share: f32,
    /// On Chinese data, choose the length of character n-grams (short queries favour 1–2,
    /// long reviews 1–4) and the weight of characters against words by cross-validation.
    pub select_cjk: bool,
    /// Weight of the sentence encoder's vector beside the n-gram views (each of norm 1); 2 had
    /// the best out-of-fold accuracy on BANKING77's training split (0.5–4 tried).
    pub embed_weight: f32,
    /// Features seen in fewer training texts than this are dropped; 0 chooses: 1 for small
    /// sets (every word of a few FAQ variants counts), 2 from 5,000 examples (halves the
    /// model at no measured cost).
    pub min_df: u32,
    /// A hidden-layer network trained beside the SVM, and its share of the blended probability.
    pub mlp: Option<(MlpParams, f32)>,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            features: FeatureConfig::default(),
            svm: SvmParams::default(),
            folds: 3,
            oos_label: "oos".to_owned(),
            oos_class: true,
            keep_share: 0.97,
            select_cjk: true,
            embed_weight: 2.0,
            min_df: 0,
            mlp: Some((MlpParams::default(), 0.5)),
        }
    }
}

/// Why a model could not be trained.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrainError {
    #[error("need at least two labels with examples, found {0}")]
    TooFewLabels(usize),
    #[error("label {label:?} has no non-empty example")]
    EmptyLabel { label: String },
}

/// Where training is, for progress bars.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Encoding examples with the sentence encoder.
    Embed {
        done: usize,
        total: usize,
    },
    /// Trying feature settings on a sample.
    Select {
        done: usize,
        total: usize,
    },
    Features {
        done: usize,
        total: usize,
    },
    Fold {
        done: usize,
        total: usize,
    },
    Final,
}

/// A trained classifier.
#[derive(Debug, Clone, PartialEq)]
pub struct Classifier {
    pub(crate) features: FeatureConfig,
    /// The in-scope labels, then the out-of-scope class if one was trained.
    pub(crate) labels: Vec<String>,
    pub(crate) oos_class: bool,
    /// Hash buckets seen in training, sorted; the position is the feature's row.
    pub(crate) buckets: Vec<u32>,
    pub(crate) idf: Vec<f32>,
    /// Row-major weights: `weights[row * labels + class]`.
    pub(crate) weights: Vec<f32>,
    pub(crate) bias: Vec<f32>,
    pub(crate) temperature: f32,
    /// A top probability below this means "none of these labels".
    pub(crate) threshold: f32,
    pub(crate) report: TrainReport,
    pub(crate) mlp: Option<(Mlp, f32)>,
    /// Length of the sentence-encoder vector appended after the n-gram rows (0: none).
    pub(crate) embed_dim: usize,
    pub(crate) embed_weight: f32,
}

/// What training learnt about the model from out-of-fold scores.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct TrainReport {
    pub examples: usize,
    /// Distinct features (hash buckets) kept.
    pub features: usize,
    /// The network's share of the blend chosen by cross-validation (0: SVM alone).
    pub network_share: f32,
    /// Out-of-fold accuracy on in-scope examples, before the threshold.
    pub cv_accuracy: f32,
    /// Out-of-fold recall of out-of-scope samples at the chosen threshold (if any were given).
    pub cv_oos_recall: Option<f32>,
}

/// One label with its calibrated probability.
#[derive(Debug, Clone, PartialEq)]
pub struct Scored {
    pub label: String,
    pub confidence: f32,
}

/// A prediction: the best labels, best first, and whether the best is confident enough.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    pub top: Vec<Scored>,
    pub in_scope: bool,
}

impl Prediction {
    /// The best label if it is in scope.
    pub fn label(&self) -> Option<&str> {
        self.top.first().filter(|_| self.in_scope).map(|s| s.label.as_str())
    }
}

impl Classifier {
    /// Trains on `(text, label)` examples. `progress` hears about each stage.
    pub fn train(
        seg: &Segmenter,
        examples: &[(&str, &str)],
        cfg: &TrainConfig,
        progress: &mut dyn FnMut(Stage),
    ) -> Result<Classifier, TrainError> {
        Classifier::train_with(seg, None, examples, cfg, progress)
    }

    /// Trains with a sentence encoder's vectors as extra features; predict with the same
    /// encoder (`probabilities_with`).
    pub fn train_with(
        seg: &Segmenter,
        embedder: Option<&dyn Embedder>,
        examples: &[(&str, &str)],
        cfg: &TrainConfig,
        progress: &mut dyn FnMut(Stage),
    ) -> Result<Classifier, TrainError> {
        let mut labels: Vec<String> = examples
            .iter()
            .filter(|(_, l)| *l != cfg.oos_label)
            .map(|(_, l)| (*l).to_owned())
            .collect();
        labels.sort();
        labels.dedup();
        if labels.len() < 2 {
            return Err(TrainError::TooFewLabels(labels.len()));
        }
        let mut cfg = cfg.clone();
        if cfg.select_cjk {
            cfg.features = select_cjk_grams(seg, examples, &cfg, progress);
        }
        let cfg = &cfg;
        let total = examples.len();
        let mut counts = Vec::with_capacity(total);
        for (i, (text, _)) in examples.iter().enumerate() {
            counts.push(features::counts(seg, &cfg.features, text));
            if i % 500 == 0 {
                progress(Stage::Features { done: i, total });
            }
        }
        progress(Stage::Features { done: total, total });

        // Rows: every bucket seen, sorted; IDF smoothed as scikit-learn does.
        let mut df: Vec<(u32, u32)> = Vec::new();
        for c in &counts {
            df.extend(c.views.iter().flatten().map(|&(b, _)| (b, 1)));
        }
        df.sort_unstable_by_key(|p| p.0);
        df.dedup_by(|b, a| {
            if a.0 == b.0 {
                a.1 += 1;
                true
            } else {
                false
            }
        });
        let min_df = match cfg.min_df {
            0 if examples.len() >= 5000 => 2,
            0 => 1,
            n => n,
        };
        df.retain(|p| p.1 >= min_df);
        let buckets: Vec<u32> = df.iter().map(|p| p.0).collect();
        let n = total as f32;
        let idf: Vec<f32> =
            df.iter().map(|&(_, d)| ((1.0 + n) / (1.0 + d as f32)).ln() + 1.0).collect();
        let n_buckets = buckets.len();
        let embed_dim = embedder.map_or(0, |e| e.dim());
        let mut x: Vec<SparseVec> = counts
            .iter()
            .map(|c| features::weigh(c, &cfg.features, |b| row_of(&buckets, b), &idf))
            .collect();
        if let Some(e) = embedder {
            const CHUNK: usize = 256;
            for (c, chunk) in examples.chunks(CHUNK).enumerate() {
                progress(Stage::Embed { done: c * CHUNK, total });
                let texts: Vec<&str> = chunk.iter().map(|p| p.0).collect();
                for (k, v) in e.embed_batch(&texts).iter().enumerate() {
                    append_dense(&mut x[c * CHUNK + k], n_buckets, v, cfg.embed_weight);
                }
            }
        }
        for label in &labels {
            let any = examples.iter().zip(&x).any(|((_, l), v)| l == label && !v.idx.is_empty());
            if !any {
                return Err(TrainError::EmptyLabel { label: label.clone() });
            }
        }
        let oos = labels.len() as u32;
        let y: Vec<u32> = examples
            .iter()
            .map(|(_, l)| labels.binary_search_by(|p| p.as_str().cmp(l)).map_or(oos, |i| i as u32))
            .collect();
        let in_scope: Vec<usize> = (0..total).filter(|&i| y[i] != oos).collect();
        let oos_class = cfg.oos_class && in_scope.len() < total;
        if oos_class {
            labels.push(cfg.oos_label.clone());
        }
        // The rows models are fitted on: with an out-of-scope class, every example.
        let fit_rows: Vec<usize> = if oos_class { (0..total).collect() } else { in_scope.clone() };
        let n_in = oos as usize;
        let nf = n_buckets + embed_dim;
        let nc = labels.len();

        // Out-of-fold scores for calibration and the threshold.
        let mut temperature = 1.0;
        let mut threshold = 0.0;
        let mut report = TrainReport { examples: total, features: nf, ..TrainReport::default() };
        let threads = cfg.svm.threads.max(1);
        // The network's epochs are fixed once, from the whole set, so the folds' models and
        // the final one are trained alike; none fit the budget means no network at all.
        let mut cfg = cfg.clone();
        if let Some((p, _)) = &mut cfg.mlp {
            p.epochs = p.epochs_for(in_scope.len(), in_scope.iter().map(|&i| x[i].idx.len()).sum());
        }
        if cfg.mlp.is_some_and(|(p, _)| p.epochs == 0) {
            cfg.mlp = None;
        }
        let cfg = &cfg;
        let mut share = cfg.mlp.map_or(0.0, |m| m.1);
        if cfg.folds >= 2 {
            let folds = usize::from(cfg.folds);
            let mut order: Vec<usize> = (0..total).collect();
            let mut rng = SplitMix(cfg.svm.seed);
            for i in (1..total).rev() {
                order.swap(i, (rng.next_u64() as usize) % (i + 1));
            }
            let mut fold_of = vec![0usize; total];
            for (k, &i) in order.iter().enumerate() {
                fold_of[i] = k % folds;
            }
            progress(Stage::Fold { done: 0, total: folds });
            // Folds are independent: train them side by side, one thread each.
            let fitted: Vec<Fitted> = std::thread::scope(|scope| {
                let handles: Vec<_> = (0..threads.min(folds))
                    .map(|t| {
                        let (x, y, fit_rows, fold_of) = (&x, &y, &fit_rows, &fold_of);
                        scope.spawn(move || {
                            (t..folds)
                                .step_by(threads)
                                .map(|f| {
                                    let rows: Vec<usize> = fit_rows
                                        .iter()
                                        .copied()
                                        .filter(|&i| fold_of[i] != f)
                                        .collect();
                                    (f, Fitted::fit(x, y, &rows, nf, nc, cfg, 1))
                                })
                                .collect::<Vec<_>>()
                        })
                    })
                    .collect();
                let mut all: Vec<(usize, Fitted)> = handles
                    .into_iter()
                    .flat_map(|h| h.join().expect("fold training panicked"))
                    .collect();
                all.sort_by_key(|p| p.0);
                all.into_iter().map(|p| p.1).collect()
            });
            progress(Stage::Fold { done: folds, total: folds });
            let oof: Vec<(Vec<f32>, Option<Vec<f32>>)> =
                (0..total).map(|i| fitted[fold_of[i]].raw(&x[i])).collect();
            let svm_scores: Vec<Vec<f32>> = oof.iter().map(|o| o.0.clone()).collect();
            temperature = fit_temperature(&svm_scores, &y, &fit_rows);
            if cfg.mlp.is_some() {
                // The network's share is chosen on the out-of-fold scores too: on some data
                // (short Chinese queries, long reviews) it adds nothing, and then costs nothing.
                let accuracy = |sh: f32| {
                    in_scope
                        .iter()
                        .filter(|&&i| {
                            decide(&blend(&oof[i].0, oof[i].1.as_deref(), temperature, sh), n_in).0
                                as u32
                                == y[i]
                        })
                        .count()
                };
                let mut best_share = (accuracy(0.0), 0.0);
                for sh in [0.25, 0.5, 0.75] {
                    let a = accuracy(sh);
                    if a > best_share.0 {
                        best_share = (a, sh);
                    }
                }
                share = best_share.1;
                report.network_share = share;
            }
            let best: Vec<(usize, f32)> = oof
                .iter()
                .map(|(s, q)| decide(&blend(s, q.as_deref(), temperature, share), n_in))
                .collect();
            let correct = in_scope.iter().filter(|&&i| best[i].0 as u32 == y[i]).count();
            report.cv_accuracy = correct as f32 / in_scope.len().max(1) as f32;
            let oos_conf: Vec<f32> =
                (0..total).filter(|&i| y[i] == oos).map(|i| best[i].1).collect();
            let in_conf: Vec<(bool, f32)> =
                in_scope.iter().map(|&i| (best[i].0 as u32 == y[i], best[i].1)).collect();
            threshold = choose_threshold(&in_conf, &oos_conf, cfg.keep_share);
            if !oos_conf.is_empty() {
                let rejected = oos_conf.iter().filter(|&&c| c < threshold).count();
                report.cv_oos_recall = Some(rejected as f32 / oos_conf.len() as f32);
            }
        }

        progress(Stage::Final);
        let mut final_cfg = cfg.clone();
        if share == 0.0 {
            final_cfg.mlp = None;
        }
        let Fitted { svm: m, mlp } = Fitted::fit(&x, &y, &fit_rows, nf, nc, &final_cfg, threads);
        let mlp = mlp.map(|m| (m, share));
        let mut weights = vec![0.0f32; nf * nc];
        for c in 0..nc {
            for f in 0..nf {
                weights[f * nc + c] = m.w[c * nf + f];
            }
        }
        Ok(Classifier {
            oos_class,
            mlp,
            embed_dim,
            embed_weight: cfg.embed_weight,
            features: cfg.features,
            labels,
            buckets,
            idf,
            weights,
            bias: m.b,
            temperature,
            threshold,
            report,
        })
    }

    /// The in-scope labels.
    pub fn labels(&self) -> &[String] {
        &self.labels[..self.n_in()]
    }

    fn n_in(&self) -> usize {
        self.labels.len() - usize::from(self.oos_class)
    }

    pub fn report(&self) -> TrainReport {
        self.report
    }

    pub fn threshold(&self) -> f32 {
        self.threshold
    }

    /// Calibrated probabilities of every label, in `labels()` order.
    pub fn probabilities(&self, seg: &Segmenter, text: &str) -> Vec<f32> {
        self.probabilities_with(seg, None, text)
    }

    /// Whether the model was trained with a sentence encoder of this dimension.
    pub fn embed_dim(&self) -> usize {
        self.embed_dim
    }

    /// Probabilities using the sentence encoder the model was trained with. Without one (or
    /// with one of another dimension) the encoder's part is left out: worse, never an error.
    pub fn probabilities_with(
        &self,
        seg: &Segmenter,
        embedder: Option<&dyn Embedder>,
        text: &str,
    ) -> Vec<f32> {
        let counts = features::counts(seg, &self.features, text);
        let mut x =
            features::weigh(&counts, &self.features, |b| row_of(&self.buckets, b), &self.idf);
        if let Some(e) = embedder.filter(|e| self.embed_dim > 0 && e.dim() == self.embed_dim) {
            append_dense(&mut x, self.buckets.len(), &e.embed(text), self.embed_weight);
        }
        let nc = self.labels.len();
        let mut s = self.bias.clone();
        for (&row, &v) in x.idx.iter().zip(&x.val) {
            let w = &self.weights[row as usize * nc..(row as usize + 1) * nc];
            for (sc, wc) in s.iter_mut().zip(w) {
                *sc += v * wc;
            }
        }
        match &self.mlp {
            None => softmax(&s, self.temperature),
            Some((mlp, share)) => blend(&s, Some(&mlp.probabilities(&x)), self.temperature, *share),
        }
    }

    /// The `k` best labels with the in-scope decision.
    pub fn predict(&self, seg: &Segmenter, text: &str, k: usize) -> Prediction {
        self.predict_with(seg, None, text, k)
    }

    /// `predict` with the model's sentence encoder.
    pub fn predict_with(
        &self,
        seg: &Segmenter,
        embedder: Option<&dyn Embedder>,
        text: &str,
        k: usize,
    ) -> Prediction {
        let p = self.probabilities_with(seg, embedder, text);
        let n_in = self.n_in();
        let mut order: Vec<usize> = (0..n_in).collect();
        order.sort_by(|&a, &b| p[b].total_cmp(&p[a]).then(a.cmp(&b)));
        let top: Vec<Scored> = order
            .iter()
            .take(k.max(1))
            .map(|&i| Scored { label: self.labels[i].clone(), confidence: p[i] })
            .collect();
        let in_scope = decide(&p, n_in).1 >= self.threshold;
        Prediction { top, in_scope }
    }
}

/// The CJK n-gram range with the best out-of-fold accuracy of a quick linear model on a
/// sample of at most 4,000 examples; the configured one when the data is not mostly Chinese.
fn select_cjk_grams(
    seg: &Segmenter,
    examples: &[(&str, &str)],
    cfg: &TrainConfig,
    progress: &mut dyn FnMut(Stage),
) -> FeatureConfig {
    let cjk = examples.iter().filter(|(t, _)| t.chars().any(text::is_cjk)).count();
    if cjk * 10 < examples.len() * 3 {
        return cfg.features;
    }
    let stride = examples.len().div_ceil(4000).max(1);
    let sample: Vec<(&str, &str)> = examples.iter().step_by(stride).copied().collect();
    // Greedy: the n-gram range first, then how much the characters weigh against jieba's
    // words (segmentation suits some data better than other).
    let ranges = [(1, 2), (1, 3), (1, 4)];
    let weights = [1.5, 2.0];
    let total = ranges.len() + weights.len();
    let mut best = (f32::NEG_INFINITY, cfg.features);
    let try_features = |f: FeatureConfig, best: &mut (f32, FeatureConfig)| {
        let quick = TrainConfig { features: f, select_cjk: false, mlp: None, ..cfg.clone() };
        if let Ok(m) = Classifier::train(seg, &sample, &quick, &mut |_| {})
            && m.report.cv_accuracy > best.0
        {
            *best = (m.report.cv_accuracy, f);
        }
    };
    for (i, &range) in ranges.iter().enumerate() {
        progress(Stage::Select { done: i, total });
        try_features(FeatureConfig { cjk_char: range, ..cfg.features }, &mut best);
    }
    for (i, &w) in weights.iter().enumerate() {
        progress(Stage::Select { done: ranges.len() + i, total });
        try_features(FeatureConfig { char_weight: w, ..best.1 }, &mut best);
    }
    best.1
}

/// The models of one fit: the SVM, and the network if configured.
struct Fitted {
    svm: linear::Ovr,
    mlp: Option<Mlp>,
}

impl Fitted {
    fn fit(
        x: &[SparseVec],
        y: &[u32],
        rows: &[usize],
        nf: usize,
        nc: usize,
        cfg: &TrainConfig,
        threads: usize,
    ) -> Fitted {
        let svm_params = SvmParams {
            threads: threads.saturating_sub(usize::from(cfg.mlp.is_some())).max(1),
            ..cfg.svm
        };
        match cfg.mlp {
            None => Fitted { svm: linear::train_ovr(x, y, rows, nf, nc, &svm_params), mlp: None },
            Some((p, _)) if threads >= 2 => std::thread::scope(|scope| {
                let net = scope.spawn(|| Mlp::train(x, y, rows, nf, nc, &p));
                let svm = linear::train_ovr(x, y, rows, nf, nc, &svm_params);
                Fitted { svm, mlp: Some(net.join().expect("network training panicked")) }
            }),
            Some((p, _)) => Fitted {
                svm: linear::train_ovr(x, y, rows, nf, nc, &svm_params),
                mlp: Some(Mlp::train(x, y, rows, nf, nc, &p)),
            },
        }
    }

    /// SVM scores and network probabilities for one example.
    fn raw(&self, x: &SparseVec) -> (Vec<f32>, Option<Vec<f32>>) {
        let nf = self.svm.n_features;
        let nc = self.svm.b.len();
        let s = (0..nc).map(|c| x.dot(&self.svm.w[c * nf..(c + 1) * nf]) + self.svm.b[c]).collect();
        (s, self.mlp.as_ref().map(|m| m.probabilities(x)))
    }
}

/// Calibrated SVM probabilities, mixed with the network's when there is one.
fn blend(svm: &[f32], net: Option<&[f32]>, temperature: f32, share: f32) -> Vec<f32> {
    let p = softmax(svm, temperature);
    match net {
        None => p,
        Some(q) => p.iter().zip(q).map(|(a, b)| (1.0 - share) * a + share * b).collect(),
    }
}

/// Appends a dense vector, scaled, after the sparse rows.
fn append_dense(x: &mut SparseVec, offset: usize, dense: &[f32], weight: f32) {
    for (j, v) in dense.iter().enumerate() {
        if *v != 0.0 && v.is_finite() {
            x.idx.push((offset + j) as u32);
            x.val.push(v * weight);
        }
    }
}

fn row_of(buckets: &[u32], b: u32) -> Option<u32> {
    buckets.binary_search(&b).ok().map(|r| r as u32)
}

/// Softmax of scores scaled by the temperature `t`.
pub(crate) fn softmax(s: &[f32], t: f32) -> Vec<f32> {
    let mut p: Vec<f32> = s.iter().map(|v| v * t).collect();
    softmax_in_place(&mut p);
    p
}

/// The best in-scope label and the confidence the threshold applies to: its probability,
/// less the out-of-scope class's when there is one (after the first `n_in` entries).
fn decide(p: &[f32], n_in: usize) -> (usize, f32) {
    let (best, conf) = argmax(&p[..n_in.min(p.len())]);
    (best, conf - p.get(n_in).copied().unwrap_or(0.0))
}

fn argmax(p: &[f32]) -> (usize, f32) {
    p.iter()
        .enumerate()
        .fold((0, f32::NEG_INFINITY), |acc, (i, &v)| if v > acc.1 { (i, v) } else { acc })
}

/// The temperature minimising the negative log-likelihood of the out-of-fold scores.
fn fit_temperature(oof: &[Vec<f32>], y: &[u32], in_scope: &[usize]) -> f32 {
    let nll = |t: f32| -> f64 {
        in_scope
            .iter()
            .map(|&i| -f64::from(softmax(&oof[i], t)[y[i] as usize].max(1e-9)).ln())
            .sum()
    };
    // Golden-section search over log t in [ln 0.5, ln 200].
    let (mut a, mut b) = (0.5f32.ln(), 200f32.ln());
    let g = 0.618_034f32;
    let mut c = b - g * (b - a);
    let mut d = a + g * (b - a);
    let (mut fc, mut fd) = (nll(c.exp()), nll(d.exp()));
    for _ in 0..40 {
        if fc < fd {
            b = d;
            d = c;
            fd = fc;
            c = b - g * (b - a);
            fc = nll(c.exp());
        } else {
            a = c;
            c = d;
            fc = fd;
            d = a + g * (b - a);
            fd = nll(d.exp());
        }
    }
    ((a + b) / 2.0).exp()
}

/// Places the out-of-scope threshold. With out-of-scope samples: the confidence that
/// maximises in-scope accuracy plus out-of-scope recall. Without: the highest threshold that
/// keeps `keep_share` of the correctly recognised messages.
fn choose_threshold(in_conf: &[(bool, f32)], oos_conf: &[f32], keep_share: f32) -> f32 {
    let mut correct: Vec<f32> = in_conf.iter().filter(|c| c.0).map(|c| c.1).collect();
    correct.sort_by(f32::total_cmp);
    if correct.is_empty() {
        return 0.0;
    }
    if oos_conf.is_empty() {
        let k = ((1.0 - keep_share.clamp(0.0, 1.0)) * correct.len() as f32) as usize;
        return correct[k.min(correct.len() - 1)];
    }
    let n_in = in_conf.len() as f32;
    let n_oos = oos_conf.len() as f32;
    let mut candidates: Vec<f32> =
        in_conf.iter().map(|c| c.1).chain(oos_conf.iter().copied()).collect();
    candidates.sort_by(f32::total_cmp);
    candidates.dedup();
    let mut best = (f32::NEG_INFINITY, 0.0);
    for &t in candidates.iter().step_by((candidates.len() / 2000).max(1)) {
        let acc = in_conf.iter().filter(|c| c.0 && c.1 >= t).count() as f32 / n_in;
        let rec = oos_conf.iter().filter(|&&c| c < t).count() as f32 / n_oos;
        if acc + rec > best.0 {
            best = (acc + rec, t);
        }
    }
    best.1
}

const MAGIC: &[u8; 8] = b"HTNLUCLF";
const VERSION: u16 = 2;

impl Classifier {
    /// The model as bytes, for storing; `from_bytes` reads it back. Weight matrices are stored
    /// as 8-bit integers with one scale per row (a quarter of the size; predictions move by
    /// well under a tenth of a point of accuracy).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::new(MAGIC, VERSION);
        let f = &self.features;
        for v in [
            f.word_max,
            f.latin_char.0,
            f.latin_char.1,
            f.cjk_char.0,
            f.cjk_char.1,
            u8::from(f.stems),
            f.pair_words,
            f.bits,
        ] {
            w.u8(v);
        }
        w.f32(f.char_weight);
        w.u32(self.labels.len() as u32);
        for l in &self.labels {
            w.str(l);
        }
        w.u8(u8::from(self.oos_class));
        w.u32s(&self.buckets);
        w.f32s(&self.idf);
        w.u32(self.embed_dim as u32);
        w.f32(self.embed_weight);
        w.q8(&self.weights, self.labels.len());
        w.f32s(&self.bias);
        w.f32(self.temperature);
        w.f32(self.threshold);
        w.u32(self.report.examples as u32);
        w.f32(self.report.cv_accuracy);
        w.f32(self.report.cv_oos_recall.unwrap_or(-1.0));
        match &self.mlp {
            None => w.u8(0),
            Some((m, share)) => {
                w.u8(1);
                w.f32(*share);
                w.u32(m.nets.len() as u32);
                for n in &m.nets {
                    w.u32(n.hidden as u32);
                    w.q8(&n.w1, n.hidden);
                    w.f32s(&n.b1);
                    w.f32s(&n.w2);
                    w.f32s(&n.b2);
                }
            }
        }
        w.buf
    }

    /// Reads a model written by `to_bytes`, checking that its parts fit together.
    pub fn from_bytes(bytes: &[u8]) -> Result<Classifier, ModelError> {
        let mut r = Reader::new(bytes, MAGIC, VERSION)?;
        let mut b = [0u8; 8];
        for v in &mut b {
            *v = r.u8()?;
        }
        let features = FeatureConfig {
            word_max: b[0],
            latin_char: (b[1], b[2]),
            cjk_char: (b[3], b[4]),
            stems: b[5] != 0,
            pair_words: b[6],
            bits: b[7],
            char_weight: r.f32()?,
        };
        if !(1..=32).contains(&features.bits) {
            return Err(ModelError::Inconsistent("hash width out of range"));
        }
        let n_labels = r.u32()? as usize;
        let labels = (0..n_labels.min(1 << 20)).map(|_| r.str()).collect::<Result<Vec<_>, _>>()?;
        let oos_class = r.u8()? != 0;
        let buckets = r.u32s()?;
        let idf = r.f32s()?;
        let embed_dim = r.u32()? as usize;
        let embed_weight = r.f32()?;
        let weights = r.q8(n_labels.max(1))?;
        let bias = r.f32s()?;
        let temperature = r.f32()?;
        let threshold = r.f32()?;
        let examples = r.u32()? as usize;
        let cv_accuracy = r.f32()?;
        let oos = r.f32()?;
        let rows = buckets.len() + embed_dim;
        let mlp = match r.u8()? {
            0 => None,
            _ => {
                let share = r.f32()?;
                let count = r.u32()? as usize;
                if count == 0 || count > 16 {
                    return Err(ModelError::Inconsistent("network count"));
                }
                let mut nets = Vec::with_capacity(count);
                for _ in 0..count {
                    let hidden = r.u32()? as usize;
                    let w1 = r.q8(hidden.max(1))?;
                    let (b1, w2, b2) = (r.f32s()?, r.f32s()?, r.f32s()?);
                    if hidden == 0
                        || w1.len() != rows * hidden
                        || b1.len() != hidden
                        || w2.len() != hidden * n_labels
                        || b2.len() != n_labels
                    {
                        return Err(ModelError::Inconsistent("network sizes"));
                    }
                    nets.push(Net { hidden, out: n_labels, w1, b1, w2, b2 });
                }
                Some((Mlp { nets }, share))
            }
        };
        r.finish()?;
        if labels.len() != n_labels
            || bias.len() != n_labels
            || n_labels < 2 + usize::from(oos_class)
        {
            return Err(ModelError::Inconsistent("label count"));
        }
        if idf.len() != buckets.len() || weights.len() != rows * n_labels {
            return Err(ModelError::Inconsistent("feature table sizes"));
        }
        if buckets.windows(2).any(|p| p[0] >= p[1]) {
            return Err(ModelError::Inconsistent("feature buckets out of order"));
        }
        let features_kept = buckets.len();
        let network_share = mlp.as_ref().map_or(0.0, |m| m.1);
        Ok(Classifier {
            features,
            labels,
            oos_class,
            buckets,
            idf,
            weights,
            bias,
            temperature,
            threshold,
            mlp,
            embed_dim,
            embed_weight,
            report: TrainReport {
                examples,
                features: features_kept,
                network_share,
                cv_accuracy,
                cv_oos_recall: (oos >= 0.0).then_some(oos),
            },
        })
    }
}

#[cfg(test)]
mod tests;
