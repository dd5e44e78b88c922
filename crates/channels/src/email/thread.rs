//! Threading keys: Message-IDs as stored (without angle brackets), the parents a reply names
//! (In-Reply-To first, then References newest first), and a ticket number such as
//! `[HT-1024]` in the subject.

use domain::TicketNo;

/// The largest number of parent ids considered (long References chains are cut to the newest).
pub const MAX_PARENTS: usize = 20;

/// A Message-ID without brackets and whitespace; `None` when empty, too long or not printable.
pub fn normalize_id(raw: &str) -> Option<String> {
    let id = raw.trim().trim_start_matches('<').trim_end_matches('>').trim();
    let ok = !id.is_empty() && id.len() <= 250 && id.bytes().all(|b| b.is_ascii_graphic());
    ok.then(|| id.to_string())
}

/// The parent ids of a message, most specific first, deduplicated, at most [`MAX_PARENTS`].
pub fn parents(in_reply_to: &[String], references: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for id in in_reply_to.iter().chain(references.iter().rev()) {
        if let Some(id) = normalize_id(id)
            && !out.contains(&id)
        {
            out.push(id);
            if out.len() == MAX_PARENTS {
                break;
            }
        }
    }
    out
}

/// The ticket number in a subject, in brackets: `Re: 退货 [HT-1024]`, `[#HT-7]`,
/// `[工单 HT-7]`, `[Ticket #HT-7]`. The last bracketed number wins (it is the one we added).
pub fn ticket_in_subject(subject: &str) -> Option<TicketNo> {
    let mut found = None;
    let mut rest = subject;
    while let Some(open) = rest.find('[') {
        let after = &rest[open + 1..];
        let Some(close) = after.find(']') else { break };
        let inner = after[..close].trim();
        let inner = inner
            .strip_prefix("工单")
            .or_else(|| inner.strip_prefix("Ticket"))
            .or_else(|| inner.strip_prefix("ticket"))
            .unwrap_or(inner);
        if let Ok(no) = TicketNo::parse(inner.trim()) {
            found = Some(no);
        }
        rest = &after[close + 1..];
    }
    found
}

/// The subject of a reply: `Re: ` once, and the ticket marker when the subject lacks it.
pub fn reply_subject(subject: &str, ticket: Option<&TicketNo>) -> String {
    let s = subject.trim();
    let base = if has_reply_prefix(s) { s.to_string() } else { format!("Re: {s}") };
    match ticket {
        Some(t) if ticket_in_subject(s).as_ref() != Some(t) => format!("{base} [{t}]"),
        _ => base,
    }
}

fn has_reply_prefix(s: &str) -> bool {
    let l = s.get(..3).unwrap_or("").to_ascii_lowercase();
    l == "re:" || s.starts_with("回复:") || s.starts_with("回复：") || s.starts_with("答复:")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parents_order_and_dedup() {
        let p = parents(
            &["<c@x>".into()],
            &["<a@x>".into(), "<b@x>".into(), "<c@x>".into(), " ".into()],
        );
        assert_eq!(p, vec!["c@x", "b@x", "a@x"]);
        assert_eq!(normalize_id("<a b@x>"), None);
    }

    #[test]
    fn ticket_numbers_in_subjects() {
        let t = |s: &str| ticket_in_subject(s).map(|t| t.to_string());
        assert_eq!(t("Re: 退货 [HT-1024]"), Some("HT-1024".into()));
        assert_eq!(t("[#HT-7] help"), Some("HT-7".into()));
        assert_eq!(t("回复: [工单 HT-7]"), Some("HT-7".into()));
        assert_eq!(t("[Ticket #HT-7]"), Some("HT-7".into()));
        assert_eq!(t("[urgent] help"), None);
        assert_eq!(t("[HT-0] [ab-1] [HT-"), None);
        let no = TicketNo::parse("HT-9").unwrap();
        assert_eq!(reply_subject("退货", Some(&no)), "Re: 退货 [HT-9]");
        assert_eq!(reply_subject("RE: 退货 [HT-9]", Some(&no)), "RE: 退货 [HT-9]");
    }
}
