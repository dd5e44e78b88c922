//! `--encoder DIR` for `nlu eval|train|try`: reads a sentence-encoder directory
//! (`config.json`, `tokenizer.json`, `model.safetensors`) into `nlu::encoder::Encoder`, which
//! exists only in a binary built with `--features embeddings`; without it the option is a
//! clear error. `scripts/fetch-encoder.sh` fetches all-MiniLM-L6-v2.

use std::{collections::HashMap, path::Path};

use indicatif::ProgressBar;
use nlu::classifier::Embedder;

#[cfg(feature = "embeddings")]
pub use nlu::encoder::Encoder;

/// Stands in for the encoder in a build without it: no value of it exists.
#[cfg(not(feature = "embeddings"))]
#[derive(Debug)]
pub enum Encoder {}

#[cfg(not(feature = "embeddings"))]
impl Embedder for Encoder {
    fn dim(&self) -> usize {
        match *self {}
    }
    fn embed(&self, _: &str) -> Vec<f32> {
        match *self {}
    }
}

/// The encoder in `dir`, if one was asked for.
pub fn load(dir: Option<&Path>) -> anyhow::Result<Option<Encoder>> {
    let Some(dir) = dir else { return Ok(None) };
    load_dir(dir).map(Some)
}

#[cfg(feature = "embeddings")]
fn load_dir(dir: &Path) -> anyhow::Result<Encoder> {
    use anyhow::Context as _;
    let read = |name: &str| {
        let p = dir.join(name);
        std::fs::read(&p).with_context(|| {
            format!(
                "cannot read {} (an encoder directory holds config.json, tokenizer.json and \
                 model.safetensors; scripts/fetch-encoder.sh fetches one)",
                p.display()
            )
        })
    };
    let (config, tokenizer, weights) =
        (read("config.json")?, read("tokenizer.json")?, read("model.safetensors")?);
    Encoder::from_bytes(&config, &tokenizer, &weights)
        .with_context(|| format!("{}: not a usable sentence encoder", dir.display()))
}

#[cfg(not(feature = "embeddings"))]
fn load_dir(dir: &Path) -> anyhow::Result<Encoder> {
    anyhow::bail!(
        "--encoder {}: this huiting was built without the sentence encoder; build it with \
         `cargo build --release -p huiting --features embeddings`",
        dir.display()
    )
}

/// Vectors computed ahead, in batches (several times faster than one text at a time), for
/// the texts training will ask for; any other text goes to the encoder.
pub struct Precomputed<'a> {
    encoder: &'a Encoder,
    vectors: HashMap<&'a str, Vec<f32>>,
}

impl<'a> Precomputed<'a> {
    pub fn new(encoder: &'a Encoder, texts: &[&'a str], bar: &ProgressBar) -> Precomputed<'a> {
        let mut unique: Vec<&str> = texts.to_vec();
        unique.sort_unstable();
        unique.dedup();
        bar.set_message("encoding");
        bar.set_length(unique.len() as u64);
        bar.set_position(0);
        let mut vectors = HashMap::with_capacity(unique.len());
        for chunk in unique.chunks(512) {
            vectors.extend(chunk.iter().copied().zip(embed_batch(encoder, chunk)));
            bar.inc(chunk.len() as u64);
        }
        Precomputed { encoder, vectors }
    }
}

impl Embedder for Precomputed<'_> {
    fn dim(&self) -> usize {
        self.encoder.dim()
    }
    fn embed(&self, text: &str) -> Vec<f32> {
        self.vectors.get(text).cloned().unwrap_or_else(|| self.encoder.embed(text))
    }
}

#[cfg(feature = "embeddings")]
fn embed_batch(e: &Encoder, texts: &[&str]) -> Vec<Vec<f32>> {
    e.embed_batch(texts)
}

#[cfg(not(feature = "embeddings"))]
fn embed_batch(e: &Encoder, _: &[&str]) -> Vec<Vec<f32>> {
    match *e {}
}
