//! What the audit log records of each object: the fields a reviewer needs to see change.
//! Message bodies are recorded by length and SHA-256, not text, to keep personal data out of
//! the permanent log while still proving what was said. The hash chain makes the log
//! unchangeable, so an erased customer (PL-4) must not be in it: a customer is recorded by id,
//! name length, identity kinds and attribute keys; subjects by length; never a name, a phone
//! number, an address or a free text.

use domain::{AuditValue, Conversation, Customer, Message, Snapshot, Team, Ticket, User};

use crate::ids::hash_secret;

pub(crate) fn customer(c: &Customer) -> Snapshot {
    Snapshot::default()
        .with("name_chars", AuditValue::Int(c.name.chars().count() as i64))
        .with("tier", c.tier.as_str())
        .list(
            "identities",
            &c.identities.iter().map(|i| i.kind.as_str().to_string()).collect::<Vec<_>>(),
        )
        .list("attributes", &c.attributes.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>())
        .with("merged_into", c.merged_into.map(|m| m.to_string()))
}

pub(crate) fn conversation(c: &Conversation) -> Snapshot {
    Snapshot::default()
        .with("customer", c.customer.to_string())
        .with("channel", c.channel.as_str())
        .with(
            "subject_chars",
            c.subject
                .as_ref()
                .map(|s| AuditValue::Int(s.chars().count() as i64))
                .unwrap_or(AuditValue::Null),
        )
        .with("status", c.status.as_str())
        .with("handler", c.handler.as_str())
        .with("assignee", c.assignee.map(|a| a.to_string()))
        .with("team", c.team.map(|a| a.to_string()))
}

pub(crate) fn message(m: &Message) -> Snapshot {
    Snapshot::default()
        .with("conversation", m.conversation.to_string())
        .with("sender", m.sender.as_str())
        .with("visibility", m.visibility.as_str())
        .with("chars", AuditValue::Int(m.body.chars().count() as i64))
        .with("sha256", hash_secret(&m.body))
        .list("attachments", &m.attachments.iter().map(|a| a.url.clone()).collect::<Vec<_>>())
}

pub(crate) fn ticket(t: &Ticket) -> Snapshot {
    Snapshot::default()
        .with("number", t.number.to_string())
        .with("subject_chars", AuditValue::Int(t.subject.chars().count() as i64))
        .with("customer", t.customer.to_string())
        .with("problem_code", t.problem_code.map(|p| p.to_string()))
        .with("severity", t.severity.as_str())
        .with("urgency", t.urgency.as_str())
        .with("status", t.status.as_str())
        .with("stage", t.stage.clone())
        .with("assignee", t.assignee.map(|a| a.to_string()))
        .with("team", t.team.map(|a| a.to_string()))
        .list("tags", &t.tags)
        .list("custom_fields", &t.custom_fields.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>())
}

pub(crate) fn user(u: &User) -> Snapshot {
    Snapshot::default()
        .with("email", u.email.as_str())
        .with("name", u.name.as_str())
        .with("role", u.role.as_str())
        .with("department", u.department.map(|d| d.as_str()))
        .with("active", AuditValue::Int(i64::from(u.active)))
}

pub(crate) fn team(t: &Team) -> Snapshot {
    Snapshot::default()
        .with("name", t.name.as_str())
        .with("kind", t.kind.as_str())
        .with("department", t.department.map(|d| d.as_str()))
        .list("skills", &t.skills)
        .list("members", &t.members.iter().map(ToString::to_string).collect::<Vec<_>>())
}
