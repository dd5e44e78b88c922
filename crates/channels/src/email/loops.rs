//! Mail loop prevention: messages that machines sent (auto-replies, bounces and delivery
//! reports, bulk and list mail) are recognised from their headers and never answered, and a
//! per-sender rate caps how many messages one address may open or add per hour, so two
//! auto-responders cannot ping-pong through us.

use std::collections::{HashMap, VecDeque};

/// Why a message is machine-sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AutoKind {
    /// `Auto-Submitted` other than `no` (RFC 3834), or a vendor auto-reply header.
    AutoReply,
    /// A bounce or delivery status notification (multipart/report, MAILER-DAEMON, null
    /// return path).
    Bounce,
    /// `Precedence: bulk | junk | list`.
    Bulk,
    /// Sent by this system (our own Message-ID domain came back).
    Own,
}

impl AutoKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AutoKind::AutoReply => "auto_reply",
            AutoKind::Bounce => "bounce",
            AutoKind::Bulk => "bulk",
            AutoKind::Own => "own",
        }
    }
}

/// The headers and facts the verdict needs (filled by `parse`).
#[derive(Debug, Clone, Default)]
pub struct Signals {
    pub auto_submitted: Option<String>,
    pub precedence: Option<String>,
    pub x_autoreply: bool,
    pub return_path_null: bool,
    pub report: bool,
    pub from_local: Option<String>,
}

/// The verdict, most decisive first.
pub fn classify(s: &Signals) -> Option<AutoKind> {
    let local = s.from_local.as_deref().unwrap_or("").to_ascii_lowercase();
    if s.report || s.return_path_null || local == "mailer-daemon" || local == "postmaster" {
        return Some(AutoKind::Bounce);
    }
    if s.auto_submitted.as_deref().is_some_and(|v| !v.trim().eq_ignore_ascii_case("no"))
        || s.x_autoreply
    {
        return Some(AutoKind::AutoReply);
    }
    let p = s.precedence.as_deref().unwrap_or("").trim().to_ascii_lowercase();
    if matches!(p.as_str(), "bulk" | "junk" | "list" | "auto_reply") {
        return Some(AutoKind::Bulk);
    }
    None
}

/// A sliding one-hour window of accepted messages per sender. Time is passed in (ms).
#[derive(Debug, Default)]
pub struct SenderRate {
    seen: HashMap<String, VecDeque<i64>>,
}

const WINDOW_MS: i64 = 3_600_000;

impl SenderRate {
    /// Whether `sender` may send one more message at `now_ms` with at most `per_hour` an
    /// hour; an allowed message is counted.
    pub fn allow(&mut self, sender: &str, now_ms: i64, per_hour: u32) -> bool {
        if self.seen.len() > 10_000 {
            self.seen.retain(|_, q| q.back().is_some_and(|&t| now_ms - t < WINDOW_MS));
        }
        let q = self.seen.entry(sender.to_ascii_lowercase()).or_default();
        while q.front().is_some_and(|&t| now_ms - t >= WINDOW_MS) {
            q.pop_front();
        }
        if q.len() >= per_hour as usize {
            return false;
        }
        q.push_back(now_ms);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts() {
        let s = |f: fn(&mut Signals)| {
            let mut x = Signals::default();
            f(&mut x);
            classify(&x)
        };
        assert_eq!(s(|_| {}), None);
        assert_eq!(s(|x| x.auto_submitted = Some("no".into())), None);
        assert_eq!(
            s(|x| x.auto_submitted = Some("auto-replied".into())),
            Some(AutoKind::AutoReply)
        );
        assert_eq!(s(|x| x.precedence = Some("Bulk".into())), Some(AutoKind::Bulk));
        assert_eq!(s(|x| x.report = true), Some(AutoKind::Bounce));
        assert_eq!(s(|x| x.from_local = Some("MAILER-DAEMON".into())), Some(AutoKind::Bounce));
    }

    #[test]
    fn rate_window_slides() {
        let mut r = SenderRate::default();
        assert!(r.allow("a@x", 0, 2));
        assert!(r.allow("A@x", 1, 2));
        assert!(!r.allow("a@x", 2, 2));
        assert!(r.allow("b@x", 2, 2));
        assert!(r.allow("a@x", WINDOW_MS, 2));
    }
}
