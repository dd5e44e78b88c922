//! Tickets (work orders): the unit of work that drives a case to closure (TK-1…TK-8).
//! The status lifecycle and its allowed transitions live here; the customer-visible stage is a
//! label from the workspace's stage table (data), defaulting from the status.

use std::fmt;

use crate::{
    ConversationId, CustomerId, ParseError, ProblemCode, TeamId, TicketId, Timestamp, UserId,
    WorkspaceId, conversation::Channel, named_enum,
};

named_enum! {
    pub enum Status("status") {
        New = "new",
        Open = "open",
        Pending = "pending",
        OnHold = "on_hold",
        Solved = "solved",
        Closed = "closed",
        Reopen = "reopen",
    }
}

named_enum! {
    /// TK-2: L1 emergency, L2 important, L3 ordinary, L4 suggestion or inquiry.
    pub enum Severity("severity") {
        L1 = "L1",
        L2 = "L2",
        L3 = "L3",
        L4 = "L4",
    }
}

named_enum! {
    /// TK-1: 普通 normal, 紧急 urgent, 特急 critical.
    pub enum Urgency("urgency") {
        Normal = "normal",
        Urgent = "urgent",
        Critical = "critical",
    }
}

impl Status {
    /// Whether an agent may move a ticket from `self` to `to`. A closed ticket is final: a new
    /// contact about it opens a follow-up ticket.
    pub fn can_become(self, to: Status) -> bool {
        use Status::*;
        if self == to {
            return false;
        }
        match (self, to) {
            (Closed, _) | (_, New) => false,
            (Solved, Closed | Reopen) => true,
            (Solved, _) => false,
            (_, Reopen) => false,
            (New | Open | Pending | OnHold | Reopen, Open | Pending | OnHold | Solved) => true,
            (New | Open | Pending | OnHold | Reopen, Closed) => false,
        }
    }

    /// Whether the ticket still needs work.
    pub fn is_active(self) -> bool {
        !matches!(self, Status::Solved | Status::Closed)
    }

    /// The stage a customer sees when no explicit stage is set.
    pub fn default_stage(self) -> &'static str {
        match self {
            Status::New => "received",
            Status::Open | Status::Reopen => "processing",
            Status::Pending => "awaiting_customer",
            Status::OnHold => "investigating",
            Status::Solved | Status::Closed => "resolved",
        }
    }
}

/// A human-readable ticket number: the workspace prefix and a per-workspace sequence, `HT-1024`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TicketNo {
    prefix: String,
    seq: i64,
}

impl TicketNo {
    pub fn new(prefix: &str, seq: i64) -> TicketNo {
        TicketNo { prefix: prefix.to_string(), seq }
    }
    pub fn parse(s: &str) -> Result<TicketNo, ParseError> {
        let s = s.trim().trim_start_matches('#');
        let bad =
            || ParseError::new("ticket_no", format!("{s:?} is not a ticket number like HT-1024"));
        let (p, n) = s.rsplit_once('-').ok_or_else(bad)?;
        let valid_prefix = !p.is_empty()
            && p.len() <= 10
            && p.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
        let seq: i64 = n.parse().map_err(|_| bad())?;
        if !valid_prefix || seq <= 0 || n.starts_with('+') {
            return Err(bad());
        }
        Ok(TicketNo { prefix: p.to_string(), seq })
    }
    pub fn prefix(&self) -> &str {
        &self.prefix
    }
    pub fn seq(&self) -> i64 {
        self.seq
    }
}

impl fmt::Display for TicketNo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.prefix, self.seq)
    }
}

/// A customer-visible stage (TK-8), e.g. `investigating` → 技术排查中. Stages are workspace data.
#[derive(Debug, Clone, PartialEq)]
pub struct Stage {
    pub key: String,
    pub label_zh: String,
    pub label_en: String,
    pub position: i64,
}

/// The stages every workspace starts with; the SPEC's example path is
/// 技术排查中 → 方案制定 → 补偿确认.
pub fn seed_stages() -> Vec<Stage> {
    [
        ("received", "已受理", "Received"),
        ("processing", "处理中", "In progress"),
        ("awaiting_customer", "等待您的回复", "Waiting for your reply"),
        ("investigating", "技术排查中", "Technical investigation"),
        ("planning", "方案制定", "Preparing a solution"),
        ("compensation", "补偿确认", "Confirming compensation"),
        ("resolved", "已解决", "Resolved"),
    ]
    .iter()
    .enumerate()
    .map(|(i, (k, zh, en))| Stage {
        key: k.to_string(),
        label_zh: zh.to_string(),
        label_en: en.to_string(),
        position: i as i64 + 1,
    })
    .collect()
}

#[derive(Debug, Clone, PartialEq)]
pub struct Ticket {
    pub id: TicketId,
    pub workspace: WorkspaceId,
    pub number: TicketNo,
    pub subject: String,
    pub customer: CustomerId,
    pub conversation: ConversationId,
    pub channel: Channel,
    pub problem_code: Option<ProblemCode>,
    pub severity: Severity,
    pub urgency: Urgency,
    pub status: Status,
    /// Explicit customer-visible stage; `None` means "the default for the status".
    pub stage: Option<String>,
    pub assignee: Option<UserId>,
    pub team: Option<TeamId>,
    pub tags: Vec<String>,
    pub custom_fields: Vec<(String, String)>,
    /// The secret in the customer's tracking link; compared in constant time by `app`.
    pub tracking_token: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub solved_at: Option<Timestamp>,
    pub closed_at: Option<Timestamp>,
}

impl Ticket {
    pub fn stage_key(&self) -> &str {
        self.stage.as_deref().unwrap_or_else(|| self.status.default_stage())
    }
}

/// Why a change to a ticket was refused. Each is an expected outcome the caller reports.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TicketError {
    #[error("a ticket cannot go from {from} to {to}")]
    InvalidTransition { from: Status, to: Status },
    #[error("ticket is closed; open a follow-up ticket instead")]
    Closed,
}

/// Moves a ticket to `to`, stamping the solved / closed times. Returns the previous status.
pub fn transition(t: &mut Ticket, to: Status, now: Timestamp) -> Result<Status, TicketError> {
    let from = t.status;
    if from == Status::Closed {
        return Err(TicketError::Closed);
    }
    if !from.can_become(to) {
        return Err(TicketError::InvalidTransition { from, to });
    }
    t.status = to;
    match to {
        Status::Solved => t.solved_at = Some(now),
        Status::Closed => t.closed_at = Some(now),
        Status::Reopen => t.solved_at = None,
        _ => {}
    }
    // An explicit stage belongs to the phase it was set in; a status change resets it.
    t.stage = None;
    t.updated_at = now;
    Ok(from)
}

/// Tags: 1–40 characters, lowercased, letters, digits and `-_:.`; at most 30 per ticket.
pub fn parse_tags(tags: &[String]) -> Result<Vec<String>, ParseError> {
    let mut out: Vec<String> = Vec::new();
    for t in tags {
        let t = t.trim().to_lowercase();
        let ok = !t.is_empty()
            && t.chars().count() <= 40
            && t.chars().all(|c| c.is_alphanumeric() || "-_:.".contains(c));
        if !ok {
            return Err(ParseError::new(
                "tags",
                format!("{t:?}: a tag is 1 to 40 letters, digits or - _ : ."),
            ));
        }
        if !out.contains(&t) {
            out.push(t);
        }
    }
    if out.len() > 30 {
        return Err(ParseError::new("tags", "at most 30 tags"));
    }
    Ok(out)
}

/// Subjects: 1–300 characters on one line.
pub fn parse_subject(s: &str) -> Result<String, ParseError> {
    let t = s.trim();
    if t.is_empty() {
        return Err(ParseError::new("subject", "must not be empty"));
    }
    if t.chars().count() > 300 || t.chars().any(char::is_control) {
        return Err(ParseError::new("subject", "must be one line of at most 300 characters"));
    }
    Ok(t.to_string())
}

/// Custom field names are identifiers (`order_no`, `sku`); values are at most 2,000 characters.
pub fn parse_custom_field(name: &str, value: &str) -> Result<(String, String), ParseError> {
    let n = name.trim();
    let ok =
        !n.is_empty() && n.len() <= 60 && n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !ok {
        return Err(ParseError::new(
            "custom_fields",
            format!("{name:?}: a field name is 1 to 60 letters, digits or _"),
        ));
    }
    if value.chars().count() > 2000 {
        return Err(ParseError::new(
            "custom_fields",
            format!("{n}: value longer than 2000 characters"),
        ));
    }
    Ok((n.to_string(), value.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transition_table() {
        let mut out = String::new();
        for from in Status::ALL {
            let to: Vec<&str> =
                Status::ALL.iter().filter(|to| from.can_become(**to)).map(|s| s.as_str()).collect();
            out.push_str(&format!("{from} -> {}\n", to.join(" ")));
        }
        expect_test::expect![[r#"
            new -> open pending on_hold solved
            open -> pending on_hold solved
            pending -> open on_hold solved
            on_hold -> open pending solved
            solved -> closed reopen
            closed -> 
            reopen -> open pending on_hold solved
        "#]]
        .assert_eq(&out);
    }

    #[test]
    fn ticket_numbers() {
        assert_eq!(TicketNo::parse("#HT-1024").unwrap().to_string(), "HT-1024");
        for bad in ["HT-0", "ht-1", "HT-", "-5", "HT-+5", "HT-1x"] {
            assert!(TicketNo::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn tags_normalise() {
        let tags = parse_tags(&["VIP".into(), " 退款 ".into(), "vip".into()]).unwrap();
        assert_eq!(tags, ["vip", "退款"]);
        assert!(parse_tags(&["a b".into()]).is_err());
    }
}
