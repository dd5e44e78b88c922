//! `--encoder DIR` for `nlu eval|train|try`: reads a sentence-encoder directory
//! (`config.json`, `tokenizer.json`, `model.safetensors`) into `nlu::encoder::Encoder`, which
//! exists only in a binary built with `--features embeddings`; without it the option is a
//! clear error. `scripts/fetch-encoder.sh` fetches all-MiniLM-L6-v2.

use std::path::Path;

#[cfg(feature = "embeddings")]
pub use nlu::encoder::Encoder;

/// Stands in for the encoder in a build without it: no value of it exists.
#[cfg(not(feature = "embeddings"))]
#[derive(Debug)]
pub enum Encoder {}

#[cfg(not(feature = "embeddings"))]
impl nlu::classifier::Embedder for Encoder {
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
