//! A one-hidden-layer perceptron over the same sparse features as the linear model.
//!
//! The linear SVM sees each n-gram on its own; the hidden layer learns combinations ("card" with
//! "arrive" means something other than either), which is where a linear model runs out. Trained
//! with mini-batch Adam and dropout, single-threaded and seeded, so the same data gives the same
//! model. Only the rows of the first layer that a batch touches are updated (lazy Adam), which
//! keeps an epoch proportional to the number of non-zero features, not to the vocabulary.

use crate::features::SparseVec;
use crate::linear::SplitMix;

/// Training settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MlpParams {
    pub hidden: usize,
    /// Networks trained from different seeds and averaged (bagging steadies the result).
    pub nets: usize,
    /// Most passes over the data.
    pub epochs: u32,
    /// Budget of multiply-adds in the first layer over all epochs: large training sets get
    /// fewer epochs, and `epochs_for` says none when even two passes do not fit.
    pub work: f64,
    pub batch: usize,
    pub lr: f32,
    /// Learning rate of the first layer's row-wise Adagrad.
    pub row_lr: f32,
    /// Share of hidden units dropped in each training step.
    pub dropout: f32,
    /// Scale of the uniform initialisation of the first layer.
    pub init: f32,
    pub seed: u64,
}

impl Default for MlpParams {
    fn default() -> Self {
        MlpParams {
            hidden: 128,
            nets: 1,
            epochs: 12,
            work: 6e9,
            batch: 32,
            lr: 2e-3,
            row_lr: 0.02,
            dropout: 0.3,
            init: 0.2,
            seed: 7,
        }
    }
}

/// A trained network. `w1` is row-major by input feature (`w1[f * hidden + j]`), `w2` by hidden
/// unit (`w2[j * out + c]`).
#[derive(Debug, Clone, PartialEq)]
pub struct Net {
    pub hidden: usize,
    pub out: usize,
    pub w1: Vec<f32>,
    pub b1: Vec<f32>,
    pub w2: Vec<f32>,
    pub b2: Vec<f32>,
}

struct Adam {
    m: Vec<f32>,
    v: Vec<f32>,
}

impl Adam {
    fn new(n: usize) -> Adam {
        Adam { m: vec![0.0; n], v: vec![0.0; n] }
    }

    /// Updates `w[range]` from `g` (same length as the range) at step `t`.
    fn step(&mut self, w: &mut [f32], g: &[f32], offset: usize, lr: f32, t: i32) {
        const B1: f32 = 0.9;
        const B2: f32 = 0.999;
        let c1 = 1.0 - B1.powi(t);
        let c2 = 1.0 - B2.powi(t);
        let step = lr * c2.sqrt() / c1;
        let m = &mut self.m[offset..offset + g.len()];
        let v = &mut self.v[offset..offset + g.len()];
        for (((w, &g), m), v) in w.iter_mut().zip(g).zip(m).zip(v) {
            *m = B1 * *m + (1.0 - B1) * g;
            *v = B2 * *v + (1.0 - B2) * g * g;
            *w -= step * *m / (v.sqrt() + 1e-8);
        }
    }
}

impl MlpParams {
    /// Epochs that fit the work budget for `examples` with `nnz` non-zero features in all;
    /// zero when fewer than two fit, or when the texts are long (more than 400 features on
    /// average: reviews and emails, where the network measured no better than the SVM alone).
    pub fn epochs_for(&self, examples: usize, nnz: usize) -> u32 {
        if nnz > 400 * examples.max(1) {
            return 0;
        }
        let per_epoch = (nnz.max(1) * self.hidden.max(1)) as f64 * 2.0;
        let fit = (self.work / per_epoch).floor().min(f64::from(self.epochs)) as u32;
        if fit < 2 { 0 } else { fit }
    }
}

impl Net {
    /// Trains one network on the examples `rows` of `x` with labels `y` (each below `out`).
    pub fn train(
        x: &[SparseVec],
        y: &[u32],
        rows: &[usize],
        n_in: usize,
        out: usize,
        p: &MlpParams,
    ) -> Net {
        let h = p.hidden;
        let mut rng = SplitMix(p.seed);
        let mut uniform = |scale: f32| -> f32 {
            let u = (rng.next_u64() >> 40) as f32 / (1u64 << 24) as f32;
            (u * 2.0 - 1.0) * scale
        };
        let mut net = Net {
            hidden: h,
            out,
            w1: (0..n_in * h).map(|_| uniform(p.init)).collect(),
            b1: vec![0.0; h],
            w2: Vec::new(),
            b2: vec![0.0; out],
        };
        let xavier = (6.0 / (h + out) as f32).sqrt();
        net.w2 = (0..h * out).map(|_| uniform(xavier)).collect();

        // The first layer is large and sparse: row-wise Adagrad keeps one accumulator per
        // feature, so rare features keep large steps while memory traffic stays at one pass
        // over the touched rows. The small dense layers use Adam.
        let mut row_g2 = vec![0.0f32; n_in];
        let (mut ab1, mut a2, mut ab2) = (Adam::new(h), Adam::new(h * out), Adam::new(out));
        // Per-batch gradient of the touched rows of w1: slot_of[f] indexes g1.
        let mut slot_of = vec![u32::MAX; n_in];
        let mut touched: Vec<u32> = Vec::new();
        let mut g1: Vec<f32> = Vec::new();
        let (mut gb1, mut g2, mut gb2) = (vec![0.0; h], vec![0.0; h * out], vec![0.0; out]);
        let (mut pre, mut act, mut probs, mut dh) =
            (vec![0.0; h], vec![0.0; h], vec![0.0; out], vec![0.0; h]);
        let mut order: Vec<usize> = rows.to_vec();
        let mut shuffle = SplitMix(p.seed ^ 0x5EED);
        let keep = 1.0 - p.dropout.clamp(0.0, 0.9);
        let mut t = 0;
        for _ in 0..p.epochs {
            for i in (1..order.len()).rev() {
                order.swap(i, (shuffle.next_u64() as usize) % (i + 1));
            }
            for batch in order.chunks(p.batch.max(1)) {
                for &r in batch {
                    let xi = &x[r];
                    net.hidden_pre(xi, &mut pre);
                    for j in 0..h {
                        let dropped =
                            (shuffle.next_u64() >> 40) as f32 / (1u64 << 24) as f32 >= keep;
                        act[j] = if pre[j] > 0.0 && !dropped { pre[j] / keep } else { 0.0 };
                    }
                    net.output(&act, &mut probs);
                    softmax_in_place(&mut probs);
                    probs[y[r] as usize] -= 1.0;
                    let scale = 1.0 / batch.len() as f32;
                    for j in 0..h {
                        let mut d = 0.0;
                        if act[j] != 0.0 {
                            let row = &mut g2[j * out..(j + 1) * out];
                            let w = &net.w2[j * out..(j + 1) * out];
                            for c in 0..out {
                                row[c] += act[j] * probs[c] * scale;
                                d += w[c] * probs[c];
                            }
                            d /= keep;
                        }
                        dh[j] = d * scale;
                    }
                    for c in 0..out {
                        gb2[c] += probs[c] * scale;
                    }
                    for j in 0..h {
                        gb1[j] += dh[j];
                    }
                    for (&f, &v) in xi.idx.iter().zip(&xi.val) {
                        let slot = &mut slot_of[f as usize];
                        if *slot == u32::MAX {
                            *slot = touched.len() as u32;
                            touched.push(f);
                            g1.resize(touched.len() * h, 0.0);
                        }
                        let g = &mut g1[*slot as usize * h..(*slot as usize + 1) * h];
                        for (g, d) in g.iter_mut().zip(&dh) {
                            *g += v * d;
                        }
                    }
                }
                t += 1;
                for (k, &f) in touched.iter().enumerate() {
                    let f = f as usize;
                    let g = &g1[k * h..(k + 1) * h];
                    row_g2[f] += g.iter().map(|v| v * v).sum::<f32>() / h as f32;
                    let step = p.row_lr / (row_g2[f].sqrt() + 1e-6);
                    for (w, g) in net.w1[f * h..(f + 1) * h].iter_mut().zip(g) {
                        *w -= step * g;
                    }
                    slot_of[f] = u32::MAX;
                }
                touched.clear();
                g1.clear();
                ab1.step(&mut net.b1, &gb1, 0, p.lr, t);
                a2.step(&mut net.w2, &g2, 0, p.lr, t);
                ab2.step(&mut net.b2, &gb2, 0, p.lr, t);
                gb1.iter_mut().for_each(|v| *v = 0.0);
                g2.iter_mut().for_each(|v| *v = 0.0);
                gb2.iter_mut().for_each(|v| *v = 0.0);
            }
        }
        net
    }

    fn hidden_pre(&self, x: &SparseVec, pre: &mut [f32]) {
        let h = self.hidden;
        pre.copy_from_slice(&self.b1);
        for (&f, &v) in x.idx.iter().zip(&x.val) {
            let w = &self.w1[f as usize * h..(f as usize + 1) * h];
            for (p, w) in pre.iter_mut().zip(w) {
                *p += v * w;
            }
        }
    }

    fn output(&self, act: &[f32], logits: &mut [f32]) {
        let out = self.out;
        logits.copy_from_slice(&self.b2);
        for (j, &a) in act.iter().enumerate() {
            if a != 0.0 {
                for (l, w) in logits.iter_mut().zip(&self.w2[j * out..(j + 1) * out]) {
                    *l += a * w;
                }
            }
        }
    }

    /// Raw scores (logits) for one input.
    pub fn logits(&self, x: &SparseVec) -> Vec<f32> {
        let mut pre = vec![0.0; self.hidden];
        self.hidden_pre(x, &mut pre);
        for v in &mut pre {
            *v = v.max(0.0);
        }
        let mut logits = vec![0.0; self.out];
        self.output(&pre, &mut logits);
        logits
    }
}

/// One or more networks whose probabilities are averaged.
#[derive(Debug, Clone, PartialEq)]
pub struct Mlp {
    pub nets: Vec<Net>,
}

impl Mlp {
    /// Trains `p.nets` networks, each from its own seed.
    pub fn train(
        x: &[SparseVec],
        y: &[u32],
        rows: &[usize],
        n_in: usize,
        out: usize,
        p: &MlpParams,
    ) -> Mlp {
        let nets = (0..p.nets.max(1))
            .map(|k| {
                let q = MlpParams { seed: p.seed.wrapping_add(k as u64 * 0x9E37), ..*p };
                Net::train(x, y, rows, n_in, out, &q)
            })
            .collect();
        Mlp { nets }
    }

    /// Averaged class probabilities.
    pub fn probabilities(&self, x: &SparseVec) -> Vec<f32> {
        let mut sum: Vec<f32> = Vec::new();
        for net in &self.nets {
            let mut p = net.logits(x);
            softmax_in_place(&mut p);
            if sum.is_empty() {
                sum = p;
            } else {
                sum.iter_mut().zip(&p).for_each(|(a, b)| *a += b);
            }
        }
        let n = self.nets.len().max(1) as f32;
        sum.iter_mut().for_each(|v| *v /= n);
        sum
    }
}

pub(crate) fn softmax_in_place(v: &mut [f32]) {
    let max = v.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    for x in v.iter_mut() {
        *x = (*x - max).exp();
        sum += *x;
    }
    for x in v.iter_mut() {
        *x /= sum;
    }
}
