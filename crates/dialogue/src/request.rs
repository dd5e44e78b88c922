//! Recognising an explicit request for a human ("转人工", "人工客服", "找客服", "agent",
//! "talk to a human"). Chinese phrases match anywhere in the message ("人工" but not
//! "人工智能"); English ones as whole words, case-insensitively.

const ZH: &[&str] = &["转人工", "人工客服", "人工服务", "找人工", "真人客服", "找客服", "联系客服"];
const EN: &[&str] = &[
    "agent",
    "human",
    "real person",
    "live person",
    "representative",
    "operator",
    "talk to someone",
    "speak to someone",
];

/// Whether `text` asks for a human, by the built-in phrases or the workspace's own.
pub fn asks_for_human(text: &str, extra: &[String]) -> bool {
    let lower = text.to_lowercase();
    if ZH.iter().any(|p| lower.contains(p)) || bare_rengong(&lower) {
        return true;
    }
    if EN.iter().any(|p| contains_words(&lower, p)) {
        return true;
    }
    extra.iter().any(|p| {
        let p = p.trim().to_lowercase();
        !p.is_empty() && if p.is_ascii() { contains_words(&lower, &p) } else { lower.contains(&p) }
    })
}

/// "人工" on its own means a person, except in "人工智能" (AI) and "人工费" (labour cost).
fn bare_rengong(text: &str) -> bool {
    text.match_indices("人工").any(|(i, m)| {
        let after = &text[i + m.len()..];
        !after.starts_with("智能") && !after.starts_with('费')
    })
}

/// `phrase` in `text` with no ASCII letter or digit right before or after it.
fn contains_words(text: &str, phrase: &str) -> bool {
    text.match_indices(phrase).any(|(i, m)| {
        let before = text[..i].chars().next_back();
        let after = text[i + m.len()..].chars().next();
        !before.is_some_and(|c| c.is_ascii_alphanumeric())
            && !after.is_some_and(|c| c.is_ascii_alphanumeric())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_requests_in_both_languages() {
        for yes in [
            "转人工",
            "人工",
            "我要找人工！",
            "人工客服在吗",
            "找客服",
            "Agent please",
            "I want to talk to a HUMAN",
            "real person",
        ] {
            assert!(asks_for_human(yes, &[]), "{yes}");
        }
        for no in [
            "人工智能是什么",
            "安装要人工费吗",
            "agents of change",
            "humane",
            "我的订单到哪了",
            "",
            "reagent",
        ] {
            assert!(!asks_for_human(no, &[]), "{no}");
        }
        assert!(asks_for_human("给我接线员", &["接线员".into()]));
        assert!(asks_for_human("Supervisor now", &["supervisor".into()]));
        assert!(!asks_for_human("supervisors", &["supervisor".into()]));
    }
}
