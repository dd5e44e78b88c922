//! An optional sentence encoder (cargo feature `embeddings`): a BERT-family model run with
//! candle on the CPU, mean-pooled over the attention mask and L2-normalised, whose vectors join
//! the classifier's n-gram features through [`Embedder`].
//!
//! Pure like the rest of `nlu`: the caller reads the model directory (`config.json`,
//! `tokenizer.json`, `model.safetensors`) and hands over the bytes. Loading checks everything
//! it can and names what is wrong; embedding never fails: a text is cut to its first
//! [`MAX_TOKENS`] tokens, and the empty text has a vector like any other.

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use tokenizers::{Tokenizer, TruncationParams, TruncationStrategy};

use crate::classifier::Embedder;

/// Tokens per text, `[CLS]` and `[SEP]` included; the rest of a longer text is ignored.
pub const MAX_TOKENS: usize = 128;

/// Bytes of a text looked at. 128 WordPiece tokens rarely cover more than a few hundred
/// bytes; the cap keeps a megabyte of garbage from costing a megabyte of tokenisation.
const MAX_TEXT_BYTES: usize = 16 * 1024;

/// Texts per forward pass in [`Encoder::embed_batch`].
const BATCH: usize = 32;

/// Why a model directory's files do not make an encoder.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncoderError {
    #[error("config.json: {0}")]
    Config(String),
    #[error(
        "config.json: unsupported architecture {0:?}; the encoder runs BERT-family models \
         (model_type \"bert\", e.g. all-MiniLM-L6-v2, bge-small)"
    )]
    Architecture(String),
    #[error("tokenizer.json: {0}")]
    Tokenizer(String),
    #[error("model.safetensors: {0}")]
    Weights(String),
    #[error("the model loads but does not run: {0}")]
    Run(String),
}

/// A loaded sentence encoder. Cheap to share across threads (`&Encoder` is `Sync`).
pub struct Encoder {
    model: BertModel,
    tokenizer: Tokenizer,
    dim: usize,
    device: Device,
}

impl std::fmt::Debug for Encoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Encoder").field("dim", &self.dim).finish_non_exhaustive()
    }
}

impl Encoder {
    /// Builds an encoder from a model directory's three files.
    pub fn from_bytes(
        config_json: &[u8],
        tokenizer_json: &[u8],
        safetensors: &[u8],
    ) -> Result<Encoder, EncoderError> {
        let config = parse_config(config_json)?;

        let mut tokenizer = Tokenizer::from_bytes(tokenizer_json)
            .map_err(|e| EncoderError::Tokenizer(format!("not a tokenizer file ({e})")))?;
        let max_len = MAX_TOKENS.min(config.max_position_embeddings);
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: max_len,
                strategy: TruncationStrategy::LongestFirst,
                stride: 0,
                ..TruncationParams::default()
            }))
            .map_err(|e| EncoderError::Tokenizer(format!("cannot truncate ({e})")))?;
        // Single texts need no padding; batches pad themselves.
        tokenizer.with_padding(None);
        let max_id = tokenizer.get_vocab(true).into_values().max().unwrap_or(0) as usize;
        if max_id >= config.vocab_size {
            return Err(EncoderError::Tokenizer(format!(
                "token id {max_id} is outside the model's vocabulary of {} (config.json \
                 vocab_size); the tokenizer belongs to another model",
                config.vocab_size
            )));
        }

        let device = Device::Cpu;
        let tensors = candle_core::safetensors::load_buffer(safetensors, &device)
            .map_err(|e| EncoderError::Weights(format!("not a safetensors file ({e})")))?;
        let vb = VarBuilder::from_tensors(tensors, DType::F32, &device);
        let model = BertModel::load(vb, &config).map_err(|e| {
            EncoderError::Weights(format!(
                "{e} (the weights do not match config.json, or are not a BERT model's)"
            ))
        })?;
        let encoder = Encoder { model, tokenizer, dim: config.hidden_size, device };
        // One pass now, so a model that loads but cannot run fails here and not per message.
        encoder.try_embed_batch(&[""]).map_err(|e| EncoderError::Run(e.to_string()))?;
        Ok(encoder)
    }

    /// Vectors of several texts, in order; equal (to float rounding) to `embed` of each, and
    /// faster per text: texts of similar length share one forward pass.
    pub fn embed_batch(&self, texts: &[&str]) -> Vec<Vec<f32>> {
        // Sort by length so each batch pads little; put the vectors back in order after.
        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|&i| (texts[i].len(), i));
        let mut out = vec![Vec::new(); texts.len()];
        for chunk in order.chunks(BATCH) {
            let batch: Vec<&str> = chunk.iter().map(|&i| texts[i]).collect();
            let vectors = self.try_embed_batch(&batch).unwrap_or_else(|_| {
                // A batch that fails (it should not) falls back to one text at a time.
                batch.iter().map(|t| self.embed(t)).collect()
            });
            for (&i, v) in chunk.iter().zip(vectors) {
                out[i] = v;
            }
        }
        out
    }

    fn try_embed_batch(
        &self,
        texts: &[&str],
    ) -> Result<Vec<Vec<f32>>, Box<dyn std::error::Error + Send + Sync>> {
        let mut ids: Vec<Vec<u32>> = Vec::with_capacity(texts.len());
        for t in texts {
            let enc = self.tokenizer.encode_fast(clip(t), true)?;
            let mut v = enc.get_ids().to_vec();
            if v.is_empty() {
                // A tokenizer without a post-processor gives nothing for "": use id 0 so the
                // text still has a vector.
                v.push(0);
            }
            ids.push(v);
        }
        let n = texts.len();
        let len = ids.iter().map(Vec::len).max().unwrap_or(1);
        let mut flat = Vec::with_capacity(n * len);
        let mut mask = Vec::with_capacity(n * len);
        for v in &ids {
            flat.extend(v.iter().copied().chain(std::iter::repeat(0)).take(len));
            mask.extend((0..len).map(|j| u32::from(j < v.len())));
        }
        let input = Tensor::from_vec(flat, (n, len), &self.device)?;
        let mask = Tensor::from_vec(mask, (n, len), &self.device)?;
        let types = input.zeros_like()?;
        let hidden = self.model.forward(&input, &types, Some(&mask))?; // (n, len, dim)
        let m = mask.to_dtype(DType::F32)?.unsqueeze(2)?; // (n, len, 1)
        let summed = hidden.broadcast_mul(&m)?.sum(1)?; // (n, dim)
        let counts = m.sum(1)?; // (n, 1)
        let mean = summed.broadcast_div(&counts)?;
        let rows: Vec<Vec<f32>> = mean.to_vec2()?;
        Ok(rows.into_iter().map(normalise).collect())
    }
}

impl Embedder for Encoder {
    fn dim(&self) -> usize {
        self.dim
    }

    /// The text's vector, unit length. Should the model fail on a text (it has not been seen
    /// to), the zero vector, which the classifier ignores.
    fn embed(&self, text: &str) -> Vec<f32> {
        self.try_embed_batch(&[text])
            .ok()
            .and_then(|mut v| v.pop())
            .filter(|v| v.len() == self.dim)
            .unwrap_or_else(|| vec![0.0; self.dim])
    }

    fn embed_batch(&self, texts: &[&str]) -> Vec<Vec<f32>> {
        Encoder::embed_batch(self, texts)
    }
}

/// The model's configuration, checked: a BERT model of sensible sizes.
fn parse_config(bytes: &[u8]) -> Result<Config, EncoderError> {
    let value: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| EncoderError::Config(format!("not JSON ({e})")))?;
    if !value.is_object() {
        return Err(EncoderError::Config("expected a JSON object".to_owned()));
    }
    if let Some(t) = value.get("model_type") {
        let t = t.as_str().unwrap_or_default();
        if t != "bert" {
            return Err(EncoderError::Architecture(t.to_owned()));
        }
    }
    if let Some(archs) = value.get("architectures").and_then(|a| a.as_array()) {
        let names: Vec<&str> = archs.iter().filter_map(|a| a.as_str()).collect();
        if !names.is_empty() && !names.iter().any(|a| a.starts_with("Bert")) {
            return Err(EncoderError::Architecture(names.join(", ")));
        }
    }
    if let Some(p) = value.get("position_embedding_type").and_then(|p| p.as_str())
        && p != "absolute"
    {
        return Err(EncoderError::Config(format!(
            "position_embedding_type {p:?} is not supported (only \"absolute\")"
        )));
    }
    let config: Config = serde_json::from_value(value)
        .map_err(|e| EncoderError::Config(format!("not a BERT configuration ({e})")))?;
    let sizes = [
        ("hidden_size", config.hidden_size),
        ("num_attention_heads", config.num_attention_heads),
        ("num_hidden_layers", config.num_hidden_layers),
        ("intermediate_size", config.intermediate_size),
        ("vocab_size", config.vocab_size),
        ("type_vocab_size", config.type_vocab_size),
    ];
    for (name, v) in sizes {
        if v == 0 || v > 1 << 20 {
            return Err(EncoderError::Config(format!("{name} {v} is out of range")));
        }
    }
    if !config.hidden_size.is_multiple_of(config.num_attention_heads) {
        return Err(EncoderError::Config(format!(
            "hidden_size {} is not a multiple of num_attention_heads {}",
            config.hidden_size, config.num_attention_heads
        )));
    }
    if config.max_position_embeddings < 2 {
        return Err(EncoderError::Config(format!(
            "max_position_embeddings {} leaves no room for [CLS] and [SEP]",
            config.max_position_embeddings
        )));
    }
    Ok(config)
}

/// The first `MAX_TEXT_BYTES` of a text, cut at a character boundary.
fn clip(text: &str) -> &str {
    if text.len() <= MAX_TEXT_BYTES {
        return text;
    }
    let mut end = MAX_TEXT_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Scales to unit length; a zero or non-finite vector becomes zeros.
fn normalise(mut v: Vec<f32>) -> Vec<f32> {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm.is_finite() && norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    } else {
        v.iter_mut().for_each(|x| *x = 0.0);
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clip_cuts_at_a_char_boundary() {
        let s = "好".repeat(MAX_TEXT_BYTES); // 3 bytes each
        let c = clip(&s);
        assert!(c.len() <= MAX_TEXT_BYTES && c.len() > MAX_TEXT_BYTES - 3);
        assert_eq!(clip("short"), "short");
    }

    #[test]
    fn normalise_handles_zero_and_nan() {
        assert_eq!(normalise(vec![3.0, 4.0]), vec![0.6, 0.8]);
        assert_eq!(normalise(vec![0.0, 0.0]), vec![0.0, 0.0]);
        assert_eq!(normalise(vec![f32::NAN, 1.0]), vec![0.0, 0.0]);
    }

    #[test]
    fn config_errors_name_the_problem() {
        let err = |s: &str| parse_config(s.as_bytes()).unwrap_err().to_string();
        assert!(err("nope").contains("not JSON"), "{}", err("nope"));
        assert!(err(r#"{"model_type":"llama"}"#).contains("unsupported architecture \"llama\""));
        assert!(err(r#"{"architectures":["GPT2Model"]}"#).contains("GPT2Model"));
        assert!(err(r#"{"model_type":"bert"}"#).contains("not a BERT configuration"));
    }
}
