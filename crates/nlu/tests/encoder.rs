//! The optional sentence encoder (`--features embeddings`): a tiny random BERT written here,
//! and the real all-MiniLM-L6-v2 when `HUITING_TEST_ENCODER_DIR` names its directory
//! (`scripts/fetch-encoder.sh` puts it in `.cache/encoder/all-minilm-l6-v2`).
#![cfg(feature = "embeddings")]

use std::path::PathBuf;

use candle_core::{Device, Tensor};
use nlu::{
    classifier::{Classifier, Embedder, TrainConfig},
    encoder::{Encoder, EncoderError},
    text::Segmenter,
};
use serde_json::json;

const HIDDEN: usize = 16;
const LAYERS: usize = 2;
const INTERMEDIATE: usize = 32;
/// Fewer positions than `MAX_TOKENS`: long texts must be cut to fit.
const POSITIONS: usize = 40;

const VOCAB: &[&str] = &[
    "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "my", "card", "was", "declined", "lost",
    "stolen", "refund", "please", "when", "will", "arrive", "the", "transfer", "pay", "##ment",
    "##s", "##ed", "top", "up", "pin", "change", "how", "do", "i", "?", ".", "!", ",", "a", "b",
    "##a", "##b", "退", "款",
];

struct Tiny {
    config: Vec<u8>,
    tokenizer: Vec<u8>,
    weights: Vec<u8>,
}

fn tiny_config() -> serde_json::Value {
    json!({
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": VOCAB.len(),
        "hidden_size": HIDDEN,
        "num_hidden_layers": LAYERS,
        "num_attention_heads": 2,
        "intermediate_size": INTERMEDIATE,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": POSITIONS,
        "type_vocab_size": 2,
        "initializer_range": 0.02,
        "layer_norm_eps": 1e-12,
        "pad_token_id": 0,
        "position_embedding_type": "absolute"
    })
}

/// A BERT tokenizer (lower-casing normaliser, WordPiece, `[CLS] … [SEP]`) over `VOCAB`.
fn tiny_tokenizer() -> serde_json::Value {
    let vocab: serde_json::Map<String, serde_json::Value> =
        VOCAB.iter().enumerate().map(|(i, t)| ((*t).to_owned(), json!(i))).collect();
    let special = |id: usize| {
        json!({"id": id, "content": VOCAB[id], "single_word": false, "lstrip": false,
               "rstrip": false, "normalized": false, "special": true})
    };
    json!({
        "version": "1.0",
        "truncation": null,
        "padding": null,
        "added_tokens": [special(0), special(1), special(2), special(3), special(4)],
        "normalizer": {"type": "BertNormalizer", "clean_text": true,
                       "handle_chinese_chars": true, "strip_accents": null, "lowercase": true},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}},
                       {"Sequence": {"id": "A", "type_id": 0}},
                       {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}},
                     {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": "[SEP]", "type_id": 0}},
                     {"Sequence": {"id": "B", "type_id": 1}},
                     {"SpecialToken": {"id": "[SEP]", "type_id": 1}}],
            "special_tokens": {
                "[CLS]": {"id": "[CLS]", "ids": [2], "tokens": ["[CLS]"]},
                "[SEP]": {"id": "[SEP]", "ids": [3], "tokens": ["[SEP]"]}
            }
        },
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": true},
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                  "max_input_chars_per_word": 100, "vocab": vocab}
    })
}

/// Random weights (a fixed-seed generator), named as a Hugging Face `BertModel` names them.
fn tiny_weights() -> Vec<u8> {
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut random = |shape: &[usize], scale: f32| {
        let n: usize = shape.iter().product();
        let v: Vec<f32> = (0..n)
            .map(|_| {
                state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                ((state >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 2.0 * scale
            })
            .collect();
        Tensor::from_vec(v, shape, &Device::Cpu).unwrap()
    };
    let ones = |n: usize| Tensor::ones(n, candle_core::DType::F32, &Device::Cpu).unwrap();
    let zeros = |n: usize| Tensor::zeros(n, candle_core::DType::F32, &Device::Cpu).unwrap();
    let mut t: Vec<(String, Tensor)> = vec![
        ("embeddings.word_embeddings.weight".into(), random(&[VOCAB.len(), HIDDEN], 1.0)),
        ("embeddings.position_embeddings.weight".into(), random(&[POSITIONS, HIDDEN], 0.2)),
        ("embeddings.token_type_embeddings.weight".into(), random(&[2, HIDDEN], 0.2)),
        ("embeddings.LayerNorm.weight".into(), ones(HIDDEN)),
        ("embeddings.LayerNorm.bias".into(), zeros(HIDDEN)),
    ];
    for l in 0..LAYERS {
        let p = format!("encoder.layer.{l}");
        for (name, out, inp) in [
            ("attention.self.query", HIDDEN, HIDDEN),
            ("attention.self.key", HIDDEN, HIDDEN),
            ("attention.self.value", HIDDEN, HIDDEN),
            ("attention.output.dense", HIDDEN, HIDDEN),
            ("intermediate.dense", INTERMEDIATE, HIDDEN),
            ("output.dense", HIDDEN, INTERMEDIATE),
        ] {
            t.push((format!("{p}.{name}.weight"), random(&[out, inp], 0.3)));
            t.push((format!("{p}.{name}.bias"), random(&[out], 0.1)));
        }
        for ln in ["attention.output.LayerNorm", "output.LayerNorm"] {
            t.push((format!("{p}.{ln}.weight"), ones(HIDDEN)));
            t.push((format!("{p}.{ln}.bias"), zeros(HIDDEN)));
        }
    }
    safetensors::serialize(t.iter().map(|(n, t)| (n.as_str(), t)), None).unwrap()
}

fn tiny() -> Tiny {
    Tiny {
        config: serde_json::to_vec(&tiny_config()).unwrap(),
        tokenizer: serde_json::to_vec(&tiny_tokenizer()).unwrap(),
        weights: tiny_weights(),
    }
}

fn load(t: &Tiny) -> Result<Encoder, EncoderError> {
    Encoder::from_bytes(&t.config, &t.tokenizer, &t.weights)
}

fn norm(v: &[f32]) -> f32 {
    v.iter().map(|x| x * x).sum::<f32>().sqrt()
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum::<f32>() / (norm(a) * norm(b))
}

#[test]
fn tiny_bert_embeds_any_text_as_a_deterministic_unit_vector() {
    let enc = load(&tiny()).expect("the tiny model loads");
    assert_eq!(enc.dim(), HIDDEN);
    let long = "my card was declined ".repeat(500);
    let garbage: String = (0u32..3000).filter_map(char::from_u32).collect();
    let texts = [
        "",
        "   ",
        "My card was declined!",
        "my card was declined",
        "unknownword zzzz",
        "退款",
        "\u{0}\u{feff}\u{200b}\t\n\r",
        "🙂🙂🙂 ##ed [CLS] [SEP] [PAD]",
        long.as_str(),
        garbage.as_str(),
    ];
    for t in texts {
        let v = enc.embed(t);
        assert_eq!(v.len(), HIDDEN, "{t:?}");
        assert!(v.iter().all(|x| x.is_finite()), "{t:?}");
        assert!((norm(&v) - 1.0).abs() < 1e-4, "{t:?}: norm {}", norm(&v));
        assert_eq!(v, enc.embed(t), "{t:?}: not deterministic");
    }
    // Lower-casing happens in the tokenizer, punctuation is a token of its own.
    assert_ne!(enc.embed("My card was declined!"), enc.embed("my card was declined"));
    assert_eq!(enc.embed("MY CARD"), enc.embed("my card"));
    // A text longer than the model's positions is cut, not rejected.
    assert_eq!(enc.embed(&long), enc.embed(&"my card was declined ".repeat(100)));

    // The batch gives the same vectors, in order, whatever the lengths.
    let batch = enc.embed_batch(&texts);
    assert_eq!(batch.len(), texts.len());
    for (t, b) in texts.iter().zip(&batch) {
        assert!(cosine(&enc.embed(t), b) > 0.9999, "{t:?}");
    }
    assert!(enc.embed_batch(&[]).is_empty());
}

#[test]
fn tiny_bert_loads_the_same_twice() {
    let t = tiny();
    let (a, b) = (load(&t).unwrap(), load(&t).unwrap());
    assert_eq!(a.embed("when will the transfer arrive"), b.embed("when will the transfer arrive"));
}

#[test]
fn a_classifier_trains_and_predicts_with_the_encoder() {
    let enc = load(&tiny()).unwrap();
    let seg = Segmenter::default();
    let examples = [
        ("my card was declined", "declined"),
        ("card declined please", "declined"),
        ("why was my payment declined", "declined"),
        ("my card was lost", "lost"),
        ("my card was stolen", "lost"),
        ("lost card please", "lost"),
    ];
    let cfg = TrainConfig { folds: 0, mlp: None, ..TrainConfig::default() };
    let m = Classifier::train_with(&seg, Some(&enc), &examples, &cfg, &mut |_| {}).unwrap();
    assert_eq!(m.embed_dim(), HIDDEN);
    let p = m.predict_with(&seg, Some(&enc), "my card was stolen", 2);
    assert_eq!(p.top[0].label, "lost");
}

#[test]
fn broken_files_give_errors_that_name_the_file_and_the_problem() {
    let t = tiny();
    let err = |config: &[u8], tokenizer: &[u8], weights: &[u8]| {
        Encoder::from_bytes(config, tokenizer, weights).unwrap_err().to_string()
    };
    let e = err(b"{", &t.tokenizer, &t.weights);
    assert!(e.starts_with("config.json: not JSON"), "{e}");
    let e = err(&t.tokenizer, &t.config, &t.weights);
    assert!(e.starts_with("config.json: not a BERT configuration"), "{e}");

    let mut gpt = tiny_config();
    gpt["model_type"] = json!("gpt2");
    let e = err(&serde_json::to_vec(&gpt).unwrap(), &t.tokenizer, &t.weights);
    assert!(e.contains("unsupported architecture \"gpt2\""), "{e}");

    let e = err(&t.config, b"not json", &t.weights);
    assert!(e.starts_with("tokenizer.json: not a tokenizer file"), "{e}");
    let mut small = tiny_config();
    small["vocab_size"] = json!(10);
    let e = err(&serde_json::to_vec(&small).unwrap(), &t.tokenizer, &t.weights);
    assert!(e.starts_with("tokenizer.json: token id"), "{e}");

    let e = err(&t.config, &t.tokenizer, b"garbage");
    assert!(e.starts_with("model.safetensors: not a safetensors file"), "{e}");
    let e = err(&t.config, &t.tokenizer, &t.weights[..t.weights.len() / 2]);
    assert!(e.starts_with("model.safetensors:"), "{e}");

    let mut wider = tiny_config();
    wider["hidden_size"] = json!(32);
    let e = err(&serde_json::to_vec(&wider).unwrap(), &t.tokenizer, &t.weights);
    assert!(e.starts_with("model.safetensors:") && e.contains("shape"), "{e}");

    let mut deeper = tiny_config();
    deeper["num_hidden_layers"] = json!(3);
    let e = err(&serde_json::to_vec(&deeper).unwrap(), &t.tokenizer, &t.weights);
    assert!(e.contains("encoder.layer.2"), "{e}");
}

/// The real model's directory, when the environment names one.
fn real_dir() -> Option<PathBuf> {
    #[allow(clippy::disallowed_methods)] // Test configuration comes from the environment.
    let dir = std::env::var("HUITING_TEST_ENCODER_DIR").ok().filter(|d| !d.is_empty())?;
    Some(PathBuf::from(dir))
}

fn read_dir(dir: &std::path::Path) -> [Vec<u8>; 3] {
    ["config.json", "tokenizer.json", "model.safetensors"].map(|f| {
        std::fs::read(dir.join(f)).unwrap_or_else(|e| panic!("{}: {e}", dir.join(f).display()))
    })
}

#[test]
fn real_minilm_ranks_paraphrases_above_unrelated_pairs() {
    let Some(dir) = real_dir() else {
        eprintln!("skipped: set HUITING_TEST_ENCODER_DIR (scripts/fetch-encoder.sh) to run");
        return;
    };
    let [config, tokenizer, weights] = read_dir(&dir);
    let enc = Encoder::from_bytes(&config, &tokenizer, &weights).expect("the real model loads");
    assert_eq!(enc.dim(), 384);
    let pairs = [
        ("How do I reset my password?", "I forgot my password, how can I change it?"),
        ("My card was declined at the shop", "Why did the store refuse my card payment?"),
        ("When will my transfer arrive?", "How long does a bank transfer take?"),
    ];
    let texts: Vec<&str> = pairs.iter().flat_map(|(a, b)| [*a, *b]).collect();
    let v = enc.embed_batch(&texts);
    for (i, (a, b)) in pairs.iter().enumerate() {
        let same = cosine(&v[2 * i], &v[2 * i + 1]);
        for j in (0..pairs.len()).filter(|&j| j != i) {
            let other = cosine(&v[2 * i], &v[2 * j + 1]);
            assert!(same > other + 0.1, "{a:?}~{b:?} {same:.3} vs {:?} {other:.3}", pairs[j].1);
        }
        assert!(same > 0.5, "{a:?}~{b:?}: {same:.3}");
    }
    for (t, b) in texts.iter().zip(&v) {
        let single = enc.embed(t);
        assert!((norm(&single) - 1.0).abs() < 1e-4);
        assert!(cosine(&single, b) > 0.9999, "{t:?}: batch and single differ");
    }
    assert!((norm(&enc.embed("")) - 1.0).abs() < 1e-4);

    // The right files in the wrong places are named, not a crash.
    let e = Encoder::from_bytes(&tokenizer, &config, &weights).unwrap_err().to_string();
    assert!(e.starts_with("config.json:"), "{e}");
    let e = Encoder::from_bytes(&config, &config, &weights).unwrap_err().to_string();
    assert!(e.starts_with("tokenizer.json:"), "{e}");
    let e = Encoder::from_bytes(&config, &tokenizer, &tokenizer).unwrap_err().to_string();
    assert!(e.starts_with("model.safetensors:"), "{e}");
}
