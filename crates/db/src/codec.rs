//! Storage encodings that are not plain columns: JSON text for lists, maps, audit snapshots and
//! event payloads. Private to `db`; the wire format is `http`'s business.

use anyhow::{Context, anyhow};
use domain::{
    Actor, AuditValue, ConversationId, CustomerId, Event, IntentId, MessageId, ModelStatus,
    NluModelId, ProblemCode, Snapshot, TeamId, TicketId, UserId,
    conversation::{Attachment, Channel, ConversationStatus, SenderKind, Visibility},
    ticket::Status,
};
use serde_json::{Map, Value, json};

pub(crate) fn strings_to_json(v: &[String]) -> String {
    Value::from(v.to_vec()).to_string()
}

pub(crate) fn json_to_strings(s: &str) -> anyhow::Result<Vec<String>> {
    serde_json::from_str(s).with_context(|| format!("not a JSON string list: {s:?}"))
}

pub(crate) fn pairs_to_json(v: &[(String, String)]) -> String {
    let m: Map<String, Value> =
        v.iter().map(|(k, v)| (k.clone(), Value::from(v.as_str()))).collect();
    Value::Object(m).to_string()
}

pub(crate) fn json_to_pairs(s: &str) -> anyhow::Result<Vec<(String, String)>> {
    let m: Map<String, Value> =
        serde_json::from_str(s).with_context(|| format!("not a JSON object: {s:?}"))?;
    Ok(m.into_iter()
        .map(|(k, v)| {
            let v = match v {
                Value::String(s) => s,
                other => other.to_string(),
            };
            (k, v)
        })
        .collect())
}

pub(crate) fn attachments_to_json(v: &[Attachment]) -> String {
    Value::Array(
        v.iter()
            .map(|a| json!({"name": a.name, "content_type": a.content_type, "size": a.size, "url": a.url}))
            .collect(),
    )
    .to_string()
}

pub(crate) fn json_to_attachments(s: &str) -> anyhow::Result<Vec<Attachment>> {
    let v: Vec<Value> =
        serde_json::from_str(s).with_context(|| format!("not a JSON list: {s:?}"))?;
    v.into_iter()
        .map(|a| {
            let f = |k: &str| a.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
            Ok(Attachment {
                name: f("name"),
                content_type: f("content_type"),
                size: a.get("size").and_then(Value::as_i64).unwrap_or_default(),
                url: f("url"),
            })
        })
        .collect()
}

/// A snapshot as a JSON object with its fields in order; this exact text is what the audit
/// hash covers.
pub(crate) fn snapshot_to_json(s: &Snapshot) -> String {
    let mut m = Map::new();
    for (k, v) in &s.0 {
        let v = match v {
            AuditValue::Null => Value::Null,
            AuditValue::Int(i) => Value::from(*i),
            AuditValue::Text(t) => Value::from(t.as_str()),
            AuditValue::List(l) => Value::from(l.clone()),
        };
        m.insert((*k).to_string(), v);
    }
    Value::Object(m).to_string()
}

fn opt<T: ToString>(v: &Option<T>) -> Value {
    v.as_ref().map_or(Value::Null, |v| Value::from(v.to_string()))
}

pub(crate) fn event_payload(e: &Event) -> String {
    let v = match e {
        Event::CustomerCreated { customer } | Event::CustomerUpdated { customer } => {
            json!({"customer": customer.to_string()})
        }
        Event::CustomersMerged { into, from } => {
            json!({"into": into.to_string(), "from": from.to_string()})
        }
        Event::ConversationCreated { conversation, customer, channel } => json!({
            "conversation": conversation.to_string(), "customer": customer.to_string(), "channel": channel.as_str()
        }),
        Event::ConversationUpdated { conversation, status, assignee } => json!({
            "conversation": conversation.to_string(), "status": status.as_str(), "assignee": opt(assignee)
        }),
        Event::MessageCreated { conversation, message, sender, visibility } => json!({
            "conversation": conversation.to_string(), "message": message.to_string(),
            "sender": sender.as_str(), "visibility": visibility.as_str()
        }),
        Event::TicketCreated { ticket, conversation } => {
            json!({"ticket": ticket.to_string(), "conversation": conversation.to_string()})
        }
        Event::TicketUpdated { ticket, fields } => {
            json!({"ticket": ticket.to_string(), "fields": fields})
        }
        Event::TicketStatusChanged { ticket, from, to } => {
            json!({"ticket": ticket.to_string(), "from": from.as_str(), "to": to.as_str()})
        }
        Event::TicketAssigned { ticket, assignee, team } => {
            json!({"ticket": ticket.to_string(), "assignee": opt(assignee), "team": opt(team)})
        }
        Event::UserChanged { user } => json!({"user": user.to_string()}),
        Event::TeamChanged { team } => json!({"team": team.to_string()}),
        Event::ProblemCodeChanged { code } => json!({"code": code.to_string()}),
        Event::IntentChanged { intent } => json!({"intent": intent.to_string()}),
        Event::NluModelQueued { model } | Event::NluModelActivated { model } => {
            json!({"model": model.to_string()})
        }
        Event::NluModelTrained { model, status } => {
            json!({"model": model.to_string(), "status": status.as_str()})
        }
        Event::CompensationChanged { compensation, ticket, change: _ } => {
            json!({"compensation": compensation.to_string(), "ticket": ticket.to_string()})
        }
        Event::CollaborationChanged { collaboration, ticket, department, change: _ } => json!({
            "collaboration": collaboration.to_string(), "ticket": ticket.to_string(),
            "department": department.as_str()
        }),
        Event::SlaMetric { ticket, metric, cycle, kind, at } => json!({
            "ticket": ticket.to_string(), "metric": metric, "cycle": cycle, "kind": kind, "at": at.millis()
        }),
        Event::SlaEscalated { ticket, action, user } => {
            json!({"ticket": ticket.to_string(), "action": action, "user": opt(user)})
        }
        Event::FaqChanged { faq, version } => json!({"faq": faq.to_string(), "version": version}),
        Event::ArticleChanged { article, version } => {
            json!({"article": article.to_string(), "version": version})
        }
        Event::ReplyTemplateChanged { template } => json!({"template": template.to_string()}),
    };
    v.to_string()
}

pub(crate) fn decode_event(kind: &str, payload: &str) -> anyhow::Result<Event> {
    let v: Value = serde_json::from_str(payload)
        .with_context(|| format!("event payload is not JSON: {payload:?}"))?;
    let s = |k: &str| -> anyhow::Result<&str> {
        v.get(k).and_then(Value::as_str).ok_or_else(|| anyhow!("event {kind}: field {k} missing"))
    };
    let o = |k: &str| v.get(k).and_then(Value::as_str);
    Ok(match kind {
        "customer.created" => {
            Event::CustomerCreated { customer: p(CustomerId::parse(s("customer")?))? }
        }
        "customer.updated" => {
            Event::CustomerUpdated { customer: p(CustomerId::parse(s("customer")?))? }
        }
        "customer.merged" => Event::CustomersMerged {
            into: p(CustomerId::parse(s("into")?))?,
            from: p(CustomerId::parse(s("from")?))?,
        },
        "conversation.created" => Event::ConversationCreated {
            conversation: p(ConversationId::parse(s("conversation")?))?,
            customer: p(CustomerId::parse(s("customer")?))?,
            channel: p(Channel::parse(s("channel")?))?,
        },
        "conversation.updated" => Event::ConversationUpdated {
            conversation: p(ConversationId::parse(s("conversation")?))?,
            status: p(ConversationStatus::parse(s("status")?))?,
            assignee: o("assignee").map(UserId::parse).transpose().map_err(|e| anyhow!("{e}"))?,
        },
        "message.created" => Event::MessageCreated {
            conversation: p(ConversationId::parse(s("conversation")?))?,
            message: p(MessageId::parse(s("message")?))?,
            sender: p(SenderKind::parse(s("sender")?))?,
            visibility: p(Visibility::parse(s("visibility")?))?,
        },
        "ticket.created" => Event::TicketCreated {
            ticket: p(TicketId::parse(s("ticket")?))?,
            conversation: p(ConversationId::parse(s("conversation")?))?,
        },
        "ticket.updated" => Event::TicketUpdated {
            ticket: p(TicketId::parse(s("ticket")?))?,
            fields: v
                .get("fields")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
                .unwrap_or_default(),
        },
        "ticket.status_changed" => Event::TicketStatusChanged {
            ticket: p(TicketId::parse(s("ticket")?))?,
            from: p(Status::parse(s("from")?))?,
            to: p(Status::parse(s("to")?))?,
        },
        "ticket.assigned" => Event::TicketAssigned {
            ticket: p(TicketId::parse(s("ticket")?))?,
            assignee: o("assignee").map(UserId::parse).transpose().map_err(|e| anyhow!("{e}"))?,
            team: o("team").map(TeamId::parse).transpose().map_err(|e| anyhow!("{e}"))?,
        },
        "user.changed" => Event::UserChanged { user: p(UserId::parse(s("user")?))? },
        "team.changed" => Event::TeamChanged { team: p(TeamId::parse(s("team")?))? },
        "problem_code.changed" => {
            Event::ProblemCodeChanged { code: p(ProblemCode::parse(s("code")?))? }
        }
        "intent.changed" => Event::IntentChanged { intent: p(IntentId::parse(s("intent")?))? },
        "nlu_model.queued" => Event::NluModelQueued { model: p(NluModelId::parse(s("model")?))? },
        "nlu_model.trained" => Event::NluModelTrained {
            model: p(NluModelId::parse(s("model")?))?,
            status: p(ModelStatus::parse(s("status")?))?,
        },
        "nlu_model.activated" => {
            Event::NluModelActivated { model: p(NluModelId::parse(s("model")?))? }
        }
        other if other.starts_with("compensation.") => Event::CompensationChanged {
            compensation: p(domain::CompensationId::parse(s("compensation")?))?,
            ticket: p(TicketId::parse(s("ticket")?))?,
            change: p(domain::CompensationChange::parse(&other["compensation.".len()..]))?,
        },
        other if other.starts_with("collaboration.") => Event::CollaborationChanged {
            collaboration: p(domain::CollaborationId::parse(s("collaboration")?))?,
            ticket: p(TicketId::parse(s("ticket")?))?,
            department: p(domain::Department::parse(s("department")?))?,
            change: p(domain::CollaborationChange::parse(&other["collaboration.".len()..]))?,
        },
        "sla.metric" => Event::SlaMetric {
            ticket: p(TicketId::parse(s("ticket")?))?,
            metric: s("metric")?.to_string(),
            cycle: v.get("cycle").and_then(Value::as_i64).unwrap_or_default(),
            kind: s("kind")?.to_string(),
            at: domain::Timestamp::from_millis(
                v.get("at").and_then(Value::as_i64).unwrap_or_default(),
            ),
        },
        "sla.escalated" => Event::SlaEscalated {
            ticket: p(TicketId::parse(s("ticket")?))?,
            action: s("action")?.to_string(),
            user: o("user").map(UserId::parse).transpose().map_err(|e| anyhow!("{e}"))?,
        },
        "kb_faq.changed" => Event::FaqChanged {
            faq: p(domain::FaqId::parse(s("faq")?))?,
            version: v["version"].as_i64().ok_or_else(|| anyhow!("event payload: no version"))?,
        },
        "kb_article.changed" => Event::ArticleChanged {
            article: p(domain::ArticleId::parse(s("article")?))?,
            version: v["version"].as_i64().ok_or_else(|| anyhow!("event payload: no version"))?,
        },
        "reply_template.changed" => Event::ReplyTemplateChanged {
            template: p(domain::ReplyTemplateId::parse(s("template")?))?,
        },
        other => anyhow::bail!("unknown event kind {other:?} in the outbox"),
    })
}

fn p<T>(r: Result<T, domain::ParseError>) -> anyhow::Result<T> {
    r.map_err(|e| anyhow!("event payload: {e}"))
}

pub(crate) fn parse_actor(s: &str) -> anyhow::Result<Actor> {
    Actor::parse(s).map_err(|e| anyhow!("{e}"))
}

#[cfg(test)]
mod tests {
    use domain::{Timestamp, ticket::Status};

    use super::*;

    #[test]
    fn events_round_trip() {
        let t = TicketId::new(Timestamp::from_millis(1), 7);
        let u = UserId::new(Timestamp::from_millis(1), 8);
        let events = [
            Event::TicketStatusChanged { ticket: t, from: Status::Open, to: Status::Solved },
            Event::TicketAssigned { ticket: t, assignee: Some(u), team: None },
            Event::TicketUpdated { ticket: t, fields: vec!["subject".into(), "tags".into()] },
            Event::ProblemCodeChanged { code: ProblemCode::parse("RL-09").unwrap() },
            Event::NluModelTrained {
                model: NluModelId::new(Timestamp::from_millis(1), 9),
                status: domain::ModelStatus::Failed,
            },
            Event::CompensationChanged {
                compensation: domain::CompensationId::new(Timestamp::from_millis(1), 10),
                ticket: t,
                change: domain::CompensationChange::ReportOverdue,
            },
            Event::CollaborationChanged {
                collaboration: domain::CollaborationId::new(Timestamp::from_millis(1), 11),
                ticket: t,
                department: domain::Department::Legal,
                change: domain::CollaborationChange::Completed,
            },
            Event::SlaMetric {
                ticket: t,
                metric: "resolution".into(),
                cycle: 1,
                kind: "breached".into(),
                at: Timestamp::from_millis(5),
            },
            Event::SlaEscalated { ticket: t, action: "notify_assignee".into(), user: Some(u) },
        ];
        for e in events {
            assert_eq!(decode_event(e.name(), &event_payload(&e)).unwrap(), e);
        }
    }
}
