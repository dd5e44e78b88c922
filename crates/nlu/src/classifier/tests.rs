//! Training, prediction, out-of-scope and the model file, on small sets written here.

use super::*;

fn examples() -> Vec<(&'static str, &'static str)> {
    let mut v = Vec::new();
    for (label, texts) in [
        (
            "order_status",
            &[
                "我的订单到哪了",
                "订单还没到",
                "快递到哪里了",
                "where is my order",
                "my order has not arrived",
                "track my parcel",
                "查一下物流",
                "什么时候发货",
            ][..],
        ),
        (
            "refund",
            &[
                "我要退款",
                "怎么申请退款",
                "退款什么时候到账",
                "i want a refund",
                "how do i get my money back",
                "refund my order please",
                "钱什么时候退回来",
                "退货退款",
            ][..],
        ),
        (
            "invoice",
            &[
                "开发票",
                "我需要增值税发票",
                "发票怎么开",
                "can i get an invoice",
                "send me the receipt",
                "invoice for my order",
                "电子发票在哪下载",
                "发票抬头写错了",
            ][..],
        ),
        (
            "password",
            &[
                "忘记密码了",
                "怎么重置密码",
                "登录不上",
                "reset my password",
                "i forgot my password",
                "cannot log in",
                "密码错误怎么办",
                "账号被锁了",
            ][..],
        ),
    ] {
        for t in texts {
            v.push((*t, label));
        }
    }
    v
}

fn quick() -> TrainConfig {
    TrainConfig { folds: 2, ..TrainConfig::default() }
}

#[test]
fn learns_intents_in_both_languages() {
    let seg = Segmenter::default();
    let m = Classifier::train(&seg, &examples(), &quick(), &mut |_| {}).unwrap();
    for (text, want) in [
        ("订单到哪了呀", "order_status"),
        ("where's my order??", "order_status"),
        ("退款多久到账", "refund"),
        ("please refund me", "refund"),
        ("发票", "invoice"),
        ("I forgot the password", "password"),
    ] {
        let p = m.predict(&seg, text, 3);
        assert_eq!(p.top[0].label, want, "{text}: {p:?}");
        assert_eq!(p.top.len(), 3);
        let sum: f32 = m.probabilities(&seg, text).iter().sum();
        assert!((sum - 1.0).abs() < 1e-3);
    }
}

#[test]
fn model_bytes_round_trip_and_training_is_deterministic() {
    let seg = Segmenter::default();
    let a = Classifier::train(&seg, &examples(), &quick(), &mut |_| {}).unwrap();
    let b = Classifier::train(&seg, &examples(), &quick(), &mut |_| {}).unwrap();
    let bytes = a.to_bytes();
    assert_eq!(bytes, b.to_bytes(), "same data and seed, same model");
    let back = Classifier::from_bytes(&bytes).unwrap();
    assert_eq!(back.labels(), a.labels());
    for (text, _) in examples() {
        let (p, q) = (a.predict(&seg, text, 1), back.predict(&seg, text, 1));
        assert_eq!(p.top[0].label, q.top[0].label, "{text}");
        assert!((p.top[0].confidence - q.top[0].confidence).abs() < 0.02);
    }
}

#[test]
fn damaged_model_bytes_are_errors_not_panics() {
    let seg = Segmenter::default();
    let bytes = Classifier::train(&seg, &examples(), &quick(), &mut |_| {}).unwrap().to_bytes();
    assert_eq!(Classifier::from_bytes(b"nonsense"), Err(ModelError::BadMagic));
    assert!(matches!(
        Classifier::from_bytes(&bytes[..bytes.len() / 2]),
        Err(ModelError::Truncated)
    ));
    let mut future = bytes.clone();
    future[8] = 99;
    assert!(matches!(Classifier::from_bytes(&future), Err(ModelError::Version { found: 99, .. })));
    // Flipping bytes anywhere must never panic.
    for i in (0..bytes.len()).step_by(bytes.len() / 97 + 1) {
        let mut b = bytes.clone();
        b[i] ^= 0xA5;
        let _ = Classifier::from_bytes(&b);
    }
}

#[test]
fn out_of_scope_samples_place_the_threshold() {
    let seg = Segmenter::default();
    let mut ex = examples();
    for t in [
        "今天天气怎么样",
        "讲个笑话",
        "what's the capital of france",
        "play some music",
        "你是谁",
        "how tall is mount everest",
        "推荐一部电影",
        "what time is it in tokyo",
    ] {
        ex.push((t, "oos"));
    }
    let m = Classifier::train(&seg, &ex, &quick(), &mut |_| {}).unwrap();
    assert!(!m.labels().iter().any(|l| l == "oos"), "oos is not a class");
    assert!(m.report().cv_oos_recall.is_some());
    assert!(m.threshold() > 0.0);
    assert!(m.predict(&seg, "我要退款", 1).in_scope);
}

#[test]
fn bad_training_sets_are_clear_errors() {
    let seg = Segmenter::default();
    let one = [("hello", "greet"), ("hi", "greet")];
    assert_eq!(
        Classifier::train(&seg, &one, &quick(), &mut |_| {}),
        Err(TrainError::TooFewLabels(1))
    );
    let empty = [("hello", "greet"), ("   ", "other")];
    assert_eq!(
        Classifier::train(&seg, &empty, &quick(), &mut |_| {}),
        Err(TrainError::EmptyLabel { label: "other".into() })
    );
}

#[test]
fn any_input_gets_a_prediction() {
    let seg = Segmenter::default();
    let m = Classifier::train(&seg, &examples(), &quick(), &mut |_| {}).unwrap();
    let garbage =
        String::from_utf8_lossy(&(0..=255u8).cycle().take(50_000).collect::<Vec<_>>()).into_owned();
    for t in ["", " ", "😀😀", "\u{0}\u{1}", garbage.as_str(), &"退款".repeat(100_000)] {
        let p = m.predict(&seg, t, 2);
        assert_eq!(p.top.len(), 2);
        assert!(p.top.iter().all(|s| s.confidence.is_finite()));
    }
}

struct Fake;
impl Embedder for Fake {
    fn dim(&self) -> usize {
        3
    }
    fn embed(&self, text: &str) -> Vec<f32> {
        // A stand-in encoder: does the text mention money, parcels or accounts?
        let has = |ws: &[&str]| f32::from(u8::from(ws.iter().any(|w| text.contains(w))));
        vec![
            has(&["退", "refund", "money"]),
            has(&["订单", "order", "parcel", "快递"]),
            has(&["密码", "password", "log"]),
        ]
    }
}

#[test]
fn encoder_vectors_are_features() {
    let seg = Segmenter::default();
    let m = Classifier::train_with(&seg, Some(&Fake), &examples(), &quick(), &mut |_| {}).unwrap();
    assert_eq!(m.embed_dim(), 3);
    let back = Classifier::from_bytes(&m.to_bytes()).unwrap();
    assert_eq!(back.embed_dim(), 3);
    assert_eq!(back.predict_with(&seg, Some(&Fake), "refund money", 1).top[0].label, "refund");
    // Without the encoder the model still answers.
    assert_eq!(back.predict(&seg, "my parcel order", 1).top.len(), 1);
}
