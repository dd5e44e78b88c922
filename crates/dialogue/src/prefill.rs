//! What a hand-off ticket is pre-filled with (TK-1, TK-2): a problem code suggested from the
//! recognised intent and keywords, an urgency from keywords (退款, 投诉, 故障, 赔偿 → urgent;
//! threats to go to the media or a regulator, safety hazards → critical) and a severity
//! suggestion. Suggestions only: the agent confirms or changes them; the reasons say why.

/// Keywords (lower-case; Chinese matched anywhere, English as substrings of words) to a
/// seed problem code. The first matching row wins, so specific rows come first.
const CODES: &[(&str, &[&str])] = &[
    ("RL-09", &["个人信息", "隐私", "泄露", "privacy", "personal data"]),
    ("RL-01", &["虚假宣传", "假货", "欺诈", "false advertising", "fake"]),
    ("RL-05", &["合同", "违约", "contract"]),
    ("RL-03", &["强制消费", "捆绑", "forced"]),
    ("TD-05", &["发票", "开票", "invoice", "fapiao"]),
    ("TD-07", &["优惠券", "券", "满减", "coupon", "voucher"]),
    ("TD-03", &["价格", "差价", "降价", "保价", "price"]),
    ("TD-01", &["退款", "退钱", "没退", "refund", "money back"]),
    ("SP-08", &["安装", "上门", "预约", "install"]),
    ("SP-12", &["维修", "修好", "返修", "repair"]),
    (
        "SP-05",
        &[
            "物流",
            "快递",
            "发货",
            "没到",
            "没收到",
            "配送",
            "延误",
            "delivery",
            "shipping",
            "tracking",
            "parcel",
        ],
    ),
    ("SP-01", &["态度", "骂人", "不耐烦", "rude", "attitude"]),
    ("SP-02", &["没人回", "没人理", "等了很久", "no reply", "no response"]),
    (
        "PQ-02",
        &[
            "开不了机",
            "无法开机",
            "不开机",
            "开不开机",
            "won't turn on",
            "does not power on",
            "dead on arrival",
        ],
    ),
    ("PQ-04", &["电池", "续航", "充不进电", "battery"]),
    ("PQ-05", &["配件", "少了", "缺少", "missing"]),
    ("PQ-01", &["划痕", "外观", "磕碰", "凹陷", "scratch", "dent"]),
    ("PQ-03", &["主板"]),
    (
        "PQ",
        &[
            "故障",
            "坏了",
            "不制冷",
            "不工作",
            "质量",
            "漏水",
            "异响",
            "broken",
            "faulty",
            "defect",
            "not working",
            "quality",
        ],
    ),
];

/// Threats to escalate outside, and hazards to people: critical.
const CRITICAL: &[&str] = &[
    "媒体",
    "曝光",
    "记者",
    "12315",
    "消协",
    "消费者协会",
    "市场监管",
    "工商",
    "律师",
    "起诉",
    "法院",
    "微博",
    "起火",
    "着火",
    "冒烟",
    "爆炸",
    "漏电",
    "触电",
    "烫伤",
    "受伤",
    "media",
    "journalist",
    "regulator",
    "lawyer",
    "sue ",
    "lawsuit",
    "court",
    "fire",
    "smoke",
    "explod",
    "electric shock",
    "injur",
];
/// Safety hazards: L1 (personal safety).
const SAFETY: &[&str] = &[
    "起火",
    "着火",
    "冒烟",
    "爆炸",
    "漏电",
    "触电",
    "烫伤",
    "受伤",
    "fire",
    "smoke",
    "explod",
    "electric shock",
    "injur",
];
/// Money, complaints and faults: urgent.
const URGENT: &[&str] = &[
    "退款",
    "投诉",
    "故障",
    "赔偿",
    "坏了",
    "紧急",
    "加急",
    "尽快",
    "马上",
    "refund",
    "complain",
    "compensat",
    "broken",
    "fault",
    "urgent",
    "asap",
    "immediately",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Urgency {
    Normal,
    Urgent,
    Critical,
}

impl Urgency {
    pub fn name(self) -> &'static str {
        match self {
            Urgency::Normal => "normal",
            Urgency::Urgent => "urgent",
            Urgency::Critical => "critical",
        }
    }
}

/// The suggestion, with the words that led to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prefill {
    /// A seed problem code (`TD-01`), if a keyword or the intent points to one.
    pub problem_code: Option<&'static str>,
    pub urgency: Urgency,
    /// `L1`…`L4` (TK-2).
    pub severity: &'static str,
    /// Why: "退款 → TD-01", "12315 → critical".
    pub reasons: Vec<String>,
}

fn first_hit<'a>(text: &str, words: &[&'a str]) -> Option<&'a str> {
    words.iter().copied().find(|w| text.contains(w))
}

/// Suggests the ticket fields from the customer's messages, the recognised intent's name and
/// whether strong negative emotion was seen.
pub fn suggest(customer_text: &str, intent: Option<&str>, strong_negative: bool) -> Prefill {
    let text = customer_text.to_lowercase();
    let intent_text = intent.unwrap_or_default().to_lowercase().replace(['.', '_', '-'], " ");
    let mut reasons = Vec::new();
    let mut problem_code = None;
    // The intent names what the conversation is about; keywords in the text come second.
    for source in [&intent_text, &text] {
        if source.is_empty() {
            continue;
        }
        if let Some((code, word)) =
            CODES.iter().find_map(|(c, ws)| first_hit(source, ws).map(|w| (*c, w)))
        {
            reasons.push(format!("{word} → {code}"));
            problem_code = Some(code);
            break;
        }
    }
    let (urgency, word) = if let Some(w) = first_hit(&text, CRITICAL) {
        (Urgency::Critical, Some(w))
    } else if let Some(w) = first_hit(&text, URGENT) {
        (Urgency::Urgent, Some(w))
    } else if strong_negative {
        (Urgency::Urgent, None)
    } else {
        (Urgency::Normal, None)
    };
    match word {
        Some(w) => reasons.push(format!("{} → {}", w.trim(), urgency.name())),
        None if strong_negative => {
            reasons.push(format!("strong negative emotion → {}", urgency.name()))
        }
        None => {}
    }
    let severity = if let Some(w) = first_hit(&text, SAFETY) {
        reasons.push(format!("{w} → L1 (personal safety)"));
        "L1"
    } else {
        match urgency {
            Urgency::Critical => "L2",
            Urgency::Urgent => "L3",
            // An inquiry with no problem named is a question or suggestion.
            Urgency::Normal if problem_code.is_none() => "L4",
            Urgency::Normal => "L3",
        }
    };
    Prefill { problem_code, urgency, severity, reasons }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_set_code_urgency_and_severity() {
        let p = suggest("我要退款，东西坏了", None, false);
        assert_eq!((p.problem_code, p.urgency, p.severity), (Some("TD-01"), Urgency::Urgent, "L3"));
        let p = suggest("再不处理我就去12315投诉，发微博曝光你们", None, true);
        assert_eq!((p.urgency, p.severity), (Urgency::Critical, "L2"));
        let p = suggest("热水器漏电，我被电了一下，差点触电", None, false);
        assert_eq!((p.problem_code, p.urgency, p.severity), (None, Urgency::Critical, "L1"));
        let p = suggest("请问怎么开发票", None, false);
        assert_eq!((p.problem_code, p.urgency, p.severity), (Some("TD-05"), Urgency::Normal, "L3"));
        let p = suggest("你好", None, false);
        assert_eq!((p.problem_code, p.urgency, p.severity), (None, Urgency::Normal, "L4"));
        let p = suggest("My fridge is broken, I want a refund ASAP", None, false);
        assert_eq!((p.problem_code, p.urgency), (Some("TD-01"), Urgency::Urgent));
    }

    #[test]
    fn the_intent_comes_before_keywords() {
        let p = suggest("快递说已经到了但我没收到，能退款吗", Some("logistics.delivery"), false);
        assert_eq!(p.problem_code, Some("SP-05"));
        assert_eq!(p.reasons[0], "delivery → SP-05");
        let p = suggest("东西一直没到", Some("greeting"), false);
        assert_eq!(p.problem_code, Some("SP-05"));
    }

    #[test]
    fn strong_emotion_alone_is_urgent() {
        let p = suggest("你们太离谱了", None, true);
        assert_eq!(p.urgency, Urgency::Urgent);
        assert_eq!(p.reasons, vec!["strong negative emotion → urgent".to_owned()]);
    }
}
