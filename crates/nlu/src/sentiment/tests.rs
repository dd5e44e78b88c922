//! Sentiment: the built-in model on a table of messages, the strong-negative flag, and checks
//! on the shipped data (seed examples and lexicons).

use std::collections::HashMap;
use std::sync::OnceLock;

use super::*;

/// The built-in model as shipped, loaded once for all tests of this module.
fn builtin() -> &'static (Segmenter, SentimentModel) {
    static MODEL: OnceLock<(Segmenter, SentimentModel)> = OnceLock::new();
    MODEL.get_or_init(|| (Segmenter::default(), SentimentModel::builtin()))
}

/// The shipped weights (`data/sentiment/builtin.model`) are the ones the seed trains: the
/// model retrained here labels every seed example as the shipped one does, with probabilities
/// within 0.01 (the encoding rounds weights, so a decoded model differs from the in-memory one
/// by about 1e-4; training is deterministic, and on this machine the bytes are identical, but
/// libm's exp/log may differ in the last bit between CPUs). The trained model must also encode
/// to the same size. After changing the seed or the trainer, rewrite the file with
/// `HUITING_WRITE_BUILTIN_MODEL=1 cargo test -p nlu shipped_sentiment_model`.
#[test]
fn shipped_sentiment_model_is_the_one_the_seed_trains() {
    let seg = Segmenter::default();
    let trained = SentimentModel::train_builtin(&seg);
    let bytes = trained.to_bytes();
    if std::env::var_os("HUITING_WRITE_BUILTIN_MODEL").is_some() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/sentiment/builtin.model");
        std::fs::write(path, &bytes).expect("writing builtin.model");
        return;
    }
    let fix = "data/sentiment/builtin.model is stale: run HUITING_WRITE_BUILTIN_MODEL=1 cargo test -p nlu shipped_sentiment_model";
    assert_eq!(bytes.len(), BUILTIN_MODEL.len(), "{fix}");
    let shipped = SentimentModel::builtin();
    let (mut worst, mut disagree) = (0f32, Vec::new());
    for (text, _) in seed_rows() {
        let a = shipped.classifier.probabilities(&seg, text);
        let b = trained.classifier.probabilities(&seg, text);
        assert_eq!(a.len(), b.len(), "{fix}");
        worst = a.iter().zip(&b).map(|(x, y)| (x - y).abs()).fold(worst, f32::max);
        if shipped.label(&seg, text) != trained.label(&seg, text) {
            disagree.push(text);
        }
    }
    eprintln!(
        "largest probability difference over the seed: {worst}; bytes equal: {}",
        bytes == BUILTIN_MODEL
    );
    assert!(disagree.is_empty() && worst < 0.01, "{worst} {disagree:?}; {fix}");
}

use Polarity::{Negative as Neg, Neutral as Neu, Positive as Pos};

/// One expectation: the text, its polarity, whether it is strong negative, and cues that must
/// be among those returned.
struct Case {
    text: &'static str,
    polarity: Polarity,
    strong: bool,
    cues: &'static [&'static str],
}

const fn case(text: &'static str, polarity: Polarity) -> Case {
    Case { text, polarity, strong: false, cues: &[] }
}

const fn strong(text: &'static str, cues: &'static [&'static str]) -> Case {
    Case { text, polarity: Neg, strong: true, cues }
}

/// Messages a reasonable model must get right. Most are not in the seed file; a few that the
/// brief of the seed names verbatim are.
const CASES: &[Case] = &[
    // Clear praise.
    case("客服态度特别好，很快就帮我解决了，谢谢！", Pos),
    case("质量很好，物流也快，五星好评", Pos),
    case("酒店干净卫生，服务周到，下次还住", Pos),
    case("东西很不错，性价比高，推荐购买", Pos),
    case("师傅上门很准时，修得也快，非常满意", Pos),
    case("不错", Pos),
    case("The support agent was fantastic, thank you so much!", Pos),
    case("Great quality and fast delivery, very happy", Pos),
    case("The hotel staff were lovely and the room was spotless", Pos),
    case("not bad at all", Pos),
    // Clear complaints, calm ones included: negative, not strong.
    case("质量太差了，用了两天就坏了", Neg),
    case("等了一个星期还没发货，太慢了", Neg),
    case("客服一直不回复，很失望", Neg),
    case("房间有霉味，隔音也很差", Neg),
    case("不太好", Neg),
    case("这个app太卡了", Neg),
    case("快递有点慢", Neg),
    case("The product broke after one day, very disappointed", Neg),
    case("My refund still hasn't arrived and nobody answers my emails", Neg),
    case("The delivery is a little slow", Neg),
    case("not happy with the quality", Neg),
    // Neutral questions, requests and facts.
    case("请问几点发货", Neu),
    case("请问投诉流程是什么", Neu),
    case("我想咨询一下投诉流程", Neu),
    case("怎么修改收货地址", Neu),
    case("订单号是DD2026031200018", Neu),
    case("请问这个有蓝色的吗", Neu),
    case("How do I reset my password?", Neu),
    case("What time do you close on Saturdays?", Neu),
    case("I ordered on Monday", Neu),
    case("How do I file a complaint?", Neu),
    // Threats to escalate outside the company.
    strong("再不退款我就去12315投诉你们", &["12315", "投诉你们"]),
    strong("再不处理我就找媒体曝光你们", &["找媒体", "曝光你们"]),
    strong("你们等着，我要发微博曝光", &["微博曝光"]),
    strong("I'm going to report you to the BBB", &["bbb", "report you"]),
    strong("If this isn't fixed I will see you in court", &["see you in court"]),
    strong("I'll be filing a chargeback with my card issuer", &["chargeback"]),
    // Insults.
    strong("你们就是骗子，垃圾公司", &["骗子", "垃圾公司"]),
    strong("无良商家，卖假货", &["无良商家"]),
    strong("You are scammers and I want my money back", &["scammers"]),
    strong("What an incompetent bunch of idiots", &["idiots", "incompetent"]),
    // Anger in a negative message.
    strong("气死我了，等了半个月还没到，什么破快递", &["气死", "什么破"]),
    strong("This is ridiculous, I'm fed up with waiting", &["ridiculous", "fed up"]),
];

/// Messages that share words with the lexicons but are calm: never strong.
const CALM: &[&str] = &[
    "请问投诉流程是什么",
    "我想咨询一下投诉流程",
    "快递有点慢",
    "烟雾报警器是不是坏了，一直不响",
    "酒店离法院很近，交通方便",
    "这款相机曝光很准，拍照很清楚",
    "去死皮膏怎么用",
    "收到衣服了，很合身",
    "垃圾袋有点薄",
    "How do I file a complaint?",
    "We had lunch at the food court next door",
    "Is the voltage regulator included?",
    "The delivery is a little slow",
];

/// Input that carries no sentiment: neutral, score 0 or near it, no cues, and no panic.
const GARBAGE: &[&str] = &["", "   ", "😀😀😀", "？？？", "...", "\u{200b}\u{0}", "asdfghjkl"];

#[test]
fn table_of_messages() {
    let (seg, m) = builtin();
    let mut wrong = Vec::new();
    for c in CASES {
        let s = m.analyze(seg, c.text);
        let missing: Vec<&str> =
            c.cues.iter().copied().filter(|q| !s.cues.iter().any(|x| x == q)).collect();
        if s.polarity != c.polarity || s.strong_negative != c.strong || !missing.is_empty() {
            wrong.push(format!(
                "{:?}: expected {} strong={} cues ⊇ {:?}, got {} ({:+.2}) strong={} cues {:?}",
                c.text,
                c.polarity.as_str(),
                c.strong,
                c.cues,
                s.polarity.as_str(),
                s.score,
                s.strong_negative,
                s.cues
            ));
        }
        assert!((-1.0..=1.0).contains(&s.score), "score out of range for {:?}", c.text);
    }
    assert!(
        wrong.is_empty(),
        "{} of {} cases wrong:\n{}",
        wrong.len(),
        CASES.len(),
        wrong.join("\n")
    );
}

#[test]
fn calm_messages_are_not_strong() {
    let (seg, m) = builtin();
    for t in CALM {
        let s = m.analyze(seg, t);
        assert!(!s.strong_negative && s.cues.is_empty(), "{t:?} flagged strong: {s:?}");
    }
}

#[test]
fn garbage_is_neutral() {
    let (seg, m) = builtin();
    for t in GARBAGE {
        let s = m.analyze(seg, t);
        assert_eq!(s.polarity, Polarity::Neutral, "{t:?}: {s:?}");
        assert!(!s.strong_negative && s.cues.is_empty(), "{t:?}: {s:?}");
    }
    assert_eq!(m.analyze(seg, "").score, 0.0);
    // Far past the length cap: analysed (the head of it), without panicking.
    for long in
        ["啊".repeat(text::MAX_CHARS * 3), "很好 ".repeat(text::MAX_CHARS), "🙂".repeat(10_000)]
    {
        let s = m.analyze(seg, &long);
        assert!((-1.0..=1.0).contains(&s.score));
    }
}

#[test]
fn builtin_model_has_three_polarities() {
    let (_, m) = builtin();
    let mut labels: Vec<&str> = m.classifier().labels().iter().map(String::as_str).collect();
    labels.sort_unstable();
    assert_eq!(labels, ["negative", "neutral", "positive"]);
}

/// The seed rows (text, label), comments skipped, exactly as `SentimentModel::builtin` reads them.
fn seed_rows() -> Vec<(&'static str, &'static str)> {
    SEED.lines().filter(|l| !l.starts_with('#')).filter_map(|l| l.rsplit_once('\t')).collect()
}

#[test]
fn seed_file_is_well_formed_and_balanced() {
    let lines: Vec<&str> = SEED.lines().filter(|l| !l.starts_with('#')).collect();
    for l in &lines {
        assert_eq!(l.matches('\t').count(), 1, "line must be text<TAB>label: {l:?}");
    }
    let rows = seed_rows();
    assert!(rows.len() >= 1200, "only {} seed examples", rows.len());
    let mut per_label: HashMap<&str, usize> = HashMap::new();
    let mut seen: HashMap<String, &str> = HashMap::new();
    for (t, l) in &rows {
        assert!(["negative", "neutral", "positive"].contains(l), "label {l:?} of {t:?}");
        *per_label.entry(l).or_default() += 1;
        assert_eq!(t.trim(), *t, "stray whitespace around {t:?}");
        let folded = text::fold(t);
        assert!(!folded.is_empty(), "{t:?} has nothing a model could read");
        // Duplicates are checked on folded text: "很好" and "很好！" teach the same thing.
        if let Some(first) = seen.insert(folded, t) {
            panic!("duplicate seed example: {t:?} (same as {first:?})");
        }
    }
    for l in ["negative", "neutral", "positive"] {
        let n = per_label.get(l).copied().unwrap_or(0);
        assert!(n * 4 >= rows.len(), "{l}: {n} of {} examples is under 25%", rows.len());
    }
}

#[test]
fn lexicon_entries_are_live() {
    for (name, src) in [("strong-negative.txt", STRONG), ("anger.txt", ANGER)] {
        let entries: Vec<&str> = src
            .lines()
            .map(|l| l.split('#').next().unwrap_or_default().trim())
            .filter(|l| !l.is_empty())
            .collect();
        assert!(entries.len() >= 80, "{name} has only {} entries", entries.len());
        for e in entries {
            let f = text::fold(e);
            assert!(!f.is_empty(), "{name}: {e:?} folds to nothing and can never match");
            assert_eq!(f, e, "{name}: {e:?} should be written folded (lower case, no punctuation)");
        }
    }
    let lex = Lexicon::builtin();
    assert!(!lex.strong.is_empty() && !lex.anger.is_empty());
}
