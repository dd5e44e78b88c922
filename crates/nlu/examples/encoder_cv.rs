//! Chooses the sentence encoder's weight by cross-validation on the training set alone:
//! encodes the examples once, then trains with each weight and prints the out-of-fold accuracy
//! (and out-of-scope recall). The test set is never read.
//!
//! ```sh
//! cargo run --release -p nlu --features embeddings --example encoder_cv -- \
//!     .cache/encoder/all-minilm-l6-v2 ../shared/data/banking77/train.tsv 0.5 1 1.5 2 3
//! ```
#![allow(clippy::print_stdout)]

use std::{collections::HashMap, time::Instant};

use nlu::{
    classifier::{Classifier, Embedder, TrainConfig},
    encoder::Encoder,
    text::Segmenter,
};

struct Cached<'a>(&'a Encoder, HashMap<&'a str, Vec<f32>>);

impl Embedder for Cached<'_> {
    fn dim(&self) -> usize {
        self.0.dim()
    }
    fn embed(&self, text: &str) -> Vec<f32> {
        self.1.get(text).cloned().unwrap_or_else(|| self.0.embed(text))
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (dir, train) = (std::path::Path::new(&args[1]), &args[2]);
    let read = |f: &str| std::fs::read(dir.join(f)).unwrap();
    let enc = Encoder::from_bytes(
        &read("config.json"),
        &read("tokenizer.json"),
        &read("model.safetensors"),
    )
    .unwrap();
    let raw = std::fs::read_to_string(train).unwrap();
    let rows: Vec<(&str, &str)> = raw.lines().filter_map(|l| l.rsplit_once('\t')).collect();
    let texts: Vec<&str> = rows.iter().map(|r| r.0).collect();
    let mut single: Vec<f64> = texts
        .iter()
        .step_by((texts.len() / 500).max(1))
        .map(|t| {
            let s = Instant::now();
            std::hint::black_box(enc.embed(t));
            s.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    single.sort_by(f64::total_cmp);
    let q = |p: f64| single[((p * single.len() as f64) as usize).min(single.len() - 1)];
    println!(
        "embed one text: p50 {:.2} ms, p99 {:.2} ms ({} texts)",
        q(0.5),
        q(0.99),
        single.len()
    );
    let t = Instant::now();
    let vectors = enc.embed_batch(&texts);
    println!("encoded {} texts in {:.1} s", texts.len(), t.elapsed().as_secs_f64());
    let cached = Cached(&enc, texts.iter().copied().zip(vectors).collect());
    let seg = Segmenter::default();
    println!("weight  cv_accuracy  cv_oos_recall  train_s");
    for w in &args[3..] {
        let cfg = TrainConfig { embed_weight: w.parse().unwrap(), ..TrainConfig::default() };
        let t = Instant::now();
        let m = if cfg.embed_weight == 0.0 {
            Classifier::train(&seg, &rows, &cfg, &mut |_| {})
        } else {
            Classifier::train_with(&seg, Some(&cached), &rows, &cfg, &mut |_| {})
        }
        .unwrap();
        let r = m.report();
        println!(
            "{w:>6}  {:.4}       {}         {:.1}",
            r.cv_accuracy,
            r.cv_oos_recall.map_or("-".to_owned(), |x| format!("{x:.4}")),
            t.elapsed().as_secs_f64()
        );
    }
}
