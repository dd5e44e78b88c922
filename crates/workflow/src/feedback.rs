//! Classification of inbound content (FB-3, FB-4): a type (inquiry / complaint / suggestion)
//! and an urgency (high / medium / low, with its 24 / 48 / 72 h deadline) from the language
//! engine's sentiment and the hand-off prefill's problem code and urgency, plus keywords.
//! Pure: the caller runs the analysis and passes its results.

use domain::feedback::{ContentKind, SentimentLabel, SignalUrgency};

/// The facts one item is classified from.
#[derive(Debug, Clone, PartialEq)]
pub struct Facts<'a> {
    pub text: &'a str,
    pub sentiment: SentimentLabel,
    /// From -1 (certainly negative) to 1.
    pub sentiment_score: f64,
    /// Anger, insults or a threat to escalate outside.
    pub strong_negative: bool,
    /// A problem code the keywords or intent point to (`TD-01`), if any.
    pub problem_code: Option<&'a str>,
    /// The prefill's urgency: 0 normal, 1 urgent, 2 critical.
    pub prefill_urgency: u8,
    /// A star rating on a 1–5 scale, for reviews and rated feedback.
    pub rating: Option<i64>,
}

/// The verdict, with the reasons in words.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub kind: ContentKind,
    pub urgency: SignalUrgency,
    pub reasons: Vec<String>,
}

/// Words that mark a suggestion (lower-case; substrings).
const SUGGESTION: &[&str] = &[
    "建议",
    "希望能",
    "希望可以",
    "能不能增加",
    "可以增加",
    "如果能",
    "要是能",
    "改进",
    "suggest",
    "would be nice",
    "would be great",
    "it would help",
    "please add",
    "feature request",
    "could you add",
    "i wish",
];

/// Words that mark a complaint even without a negative tone (lower-case; substrings).
const COMPLAINT: &[&str] = &[
    "投诉",
    "差评",
    "退款",
    "赔偿",
    "坏了",
    "故障",
    "太差",
    "骗",
    "不满意",
    "没收到",
    "complain",
    "refund",
    "broken",
    "terrible",
    "awful",
    "worst",
    "not received",
    "never arrived",
];

fn has_any(text: &str, words: &[&'static str]) -> Option<&'static str> {
    words.iter().copied().find(|w| text.contains(w))
}

/// Classifies one item. A complaint is negative in tone, or names a complaint word, or rates
/// 1–2 stars; a suggestion (not negative) proposes something; everything else is an inquiry.
/// Urgency: high for strong negative emotion, a critical keyword (media, regulator, safety) or
/// a one-star complaint; medium for other complaints and urgent keywords (refund,
/// compensation, fault); low otherwise.
pub fn classify(f: &Facts<'_>) -> Verdict {
    let text = f.text.to_lowercase();
    let mut reasons = Vec::new();
    let complaint_word = has_any(&text, COMPLAINT);
    let suggestion_word = has_any(&text, SUGGESTION);
    let low_rating = f.rating.is_some_and(|r| r <= 2);
    let negative = f.sentiment == SentimentLabel::Negative;
    let kind = if negative || f.strong_negative || complaint_word.is_some() || low_rating {
        if negative {
            reasons.push(format!("negative sentiment ({:.2})", f.sentiment_score));
        }
        if let Some(w) = complaint_word {
            reasons.push(format!("{w} → complaint"));
        }
        if low_rating {
            reasons.push(format!("rating {} → complaint", f.rating.unwrap_or_default()));
        }
        ContentKind::Complaint
    } else if let Some(w) = suggestion_word {
        reasons.push(format!("{w} → suggestion"));
        ContentKind::Suggestion
    } else {
        ContentKind::Inquiry
    };
    let urgency = if f.strong_negative
        || f.prefill_urgency >= 2
        || (kind == ContentKind::Complaint && f.rating == Some(1))
    {
        if f.strong_negative {
            reasons.push("strong negative emotion → high".into());
        }
        if f.prefill_urgency >= 2 {
            reasons.push("critical keyword → high".into());
        }
        SignalUrgency::High
    } else if kind == ContentKind::Complaint || f.prefill_urgency == 1 {
        SignalUrgency::Medium
    } else {
        SignalUrgency::Low
    };
    if let Some(code) = f.problem_code {
        reasons.push(format!("problem code {code}"));
    }
    Verdict { kind, urgency, reasons }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(text: &str) -> Facts<'_> {
        Facts {
            text,
            sentiment: SentimentLabel::Neutral,
            sentiment_score: 0.0,
            strong_negative: false,
            problem_code: None,
            prefill_urgency: 0,
            rating: None,
        }
    }

    #[test]
    fn kinds() {
        assert_eq!(classify(&facts("请问几点发货？")).kind, ContentKind::Inquiry);
        assert_eq!(classify(&facts("建议增加夜间客服")).kind, ContentKind::Suggestion);
        assert_eq!(classify(&facts("I suggest a dark mode")).kind, ContentKind::Suggestion);
        assert_eq!(classify(&facts("我要投诉你们的快递")).kind, ContentKind::Complaint);
        let neg = Facts { sentiment: SentimentLabel::Negative, sentiment_score: -0.8, ..facts("唉") };
        assert_eq!(classify(&neg).kind, ContentKind::Complaint);
        let rated = Facts { rating: Some(2), ..facts("一般般") };
        assert_eq!(classify(&rated).kind, ContentKind::Complaint);
        // A negative tone wins over a suggestion word.
        let both = Facts { sentiment: SentimentLabel::Negative, ..facts("建议你们别再骗人了") };
        assert_eq!(classify(&both).kind, ContentKind::Complaint);
    }

    #[test]
    fn urgency() {
        assert_eq!(classify(&facts("请问几点发货？")).urgency, SignalUrgency::Low);
        assert_eq!(classify(&facts("我要退款")).urgency, SignalUrgency::Medium);
        let urgent = Facts { prefill_urgency: 1, ..facts("发票怎么开") };
        assert_eq!(classify(&urgent).urgency, SignalUrgency::Medium);
        let critical = Facts { prefill_urgency: 2, ..facts("再不处理我就找媒体曝光") };
        assert_eq!(classify(&critical).urgency, SignalUrgency::High);
        let angry = Facts { strong_negative: true, ..facts("垃圾") };
        assert_eq!(classify(&angry).urgency, SignalUrgency::High);
        let one_star = Facts { rating: Some(1), ..facts("bad") };
        assert_eq!(classify(&one_star).urgency, SignalUrgency::High);
        assert_eq!(SignalUrgency::High.deadline_hours(), 24);
        assert_eq!(SignalUrgency::Low.deadline_hours(), 72);
    }
}
