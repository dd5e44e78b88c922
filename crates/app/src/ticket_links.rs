//! Links between tickets (issue 5): related tickets, merging a duplicate into another ticket,
//! and splitting a second problem out of a ticket. A merge is one `WriteTx`: the target gains
//! the duplicate's tags and an internal note carrying the duplicate's notes and a pointer to its
//! conversation; the duplicate records `merged_into`, is solved and closed, and a `merged_into`
//! link joins the two. A split is one `WriteTx` too: a new ticket for the same customer on the
//! same conversation (replies still reach the customer where they wrote), opened like any new
//! ticket (routing, SLA clocks, triggers), with an internal note quoting the messages it was
//! split from and a `split_from` link back. Both tickets are audited and emit their usual
//! change events.

use domain::{
    Actor, Event, MessageId, ProblemCode, Severity, TeamId, Ticket, TicketId, Timestamp, Urgency,
    UserId, Visibility,
    ticket::{parse_subject, parse_tags, transition},
};

use crate::{
    App, Error, Result,
    auth::{Agent, Staff},
};

pub const RELATED: &str = "related";
pub const MERGED_INTO: &str = "merged_into";
pub const SPLIT_FROM: &str = "split_from";

/// Messages one split may quote.
pub const MAX_SPLIT_MESSAGES: usize = 50;

/// A second problem taken out of a ticket: the new ticket's subject and fields, and the
/// messages of the ticket's conversation that state it (quoted in the new ticket's note).
#[derive(Debug, Clone, Default)]
pub struct TicketSplit {
    pub subject: String,
    pub messages: Vec<MessageId>,
    pub problem_code: Option<ProblemCode>,
    pub severity: Option<Severity>,
    pub urgency: Option<Urgency>,
    pub team: Option<TeamId>,
    pub assignee: Option<UserId>,
    pub tags: Vec<String>,
}

/// A link with the ticket at its other end.
#[derive(Debug, Clone)]
pub struct TicketLink {
    pub link: db::ticket_links::Link,
    pub other: Ticket,
}

/// Related links are stored once, the smaller id first.
fn ordered(a: TicketId, b: TicketId) -> (TicketId, TicketId) {
    if a <= b { (a, b) } else { (b, a) }
}

impl App {
    /// A ticket's links, each with the ticket at the other end (those the caller may read).
    pub async fn ticket_links(&self, s: &Staff, id: TicketId) -> Result<Vec<TicketLink>> {
        self.readable_ticket(s, id).await?;
        let mut c = self.db.read().await?;
        let links = db::ticket_links::of(&mut c, s.workspace, id).await?;
        let mut out = Vec::with_capacity(links.len());
        for link in links {
            if let Some(other) = db::tickets::get(&mut c, s.workspace, link.other).await?
                && crate::tickets::scoped_can_see(s, &other)
            {
                out.push(TicketLink { link, other });
            }
        }
        Ok(out)
    }

    /// Marks two tickets as related; repeating it changes nothing.
    pub async fn link_tickets(&self, a: &Agent, id: TicketId, other: TicketId) -> Result<()> {
        if id == other {
            return Err(
                domain::ParseError::new("ticket_id", "a ticket cannot relate to itself").into()
            );
        }
        let now = self.now();
        let mut tx = self.db.write(a.workspace).await?;
        let t = self.ticket_for_change(&mut tx, a, id).await?;
        let o = self.ticket_for_change(&mut tx, a, other).await?;
        let (x, y) = ordered(id, other);
        if db::ticket_links::insert(&mut tx, a.workspace, x, y, RELATED, now, a.actor).await? {
            self.record_link(&mut tx, a.actor, "ticket.link", &t, &o, now).await?;
            self.commit(tx).await?;
        }
        Ok(())
    }

    /// Removes a related link.
    pub async fn unlink_tickets(&self, a: &Agent, id: TicketId, other: TicketId) -> Result<()> {
        let now = self.now();
        let mut tx = self.db.write(a.workspace).await?;
        let t = self.ticket_for_change(&mut tx, a, id).await?;
        let o = self.ticket_for_change(&mut tx, a, other).await?;
        let (x, y) = ordered(id, other);
        if !db::ticket_links::delete(&mut tx, a.workspace, x, y, RELATED).await? {
            return Err(Error::NotFound("link"));
        }
        self.record_link(&mut tx, a.actor, "ticket.unlink", &t, &o, now).await?;
        self.commit(tx).await
    }

    async fn record_link(
        &self,
        tx: &mut db::WriteTx,
        actor: Actor,
        action: &str,
        t: &Ticket,
        o: &Ticket,
        now: Timestamp,
    ) -> Result<()> {
        for (a, b) in [(t, o), (o, t)] {
            let snap = domain::Snapshot::default().with("other", b.number.to_string());
            tx.audit(now, actor, action, "ticket", &a.id.to_string(), None, Some(&snap)).await?;
            let aud = domain::Audience {
                customer: None,
                team: a.team,
                assignee: a.assignee,
                internal: true,
            };
            tx.emit(
                now,
                actor,
                Event::TicketUpdated { ticket: a.id, fields: vec!["links".into()] },
                aud,
            )
            .await?;
        }
        Ok(())
    }

    /// Merges the duplicate `id` into `into`; returns both as they are now.
    pub async fn merge_ticket(
        &self,
        a: &Agent,
        id: TicketId,
        into: TicketId,
    ) -> Result<(Ticket, Ticket)> {
        if id == into {
            return Err(
                domain::ParseError::new("into", "a ticket cannot be merged into itself").into()
            );
        }
        let now = self.now();
        let ws = a.workspace;
        let mut tx = self.db.write(ws).await?;
        let dup = self.ticket_for_change(&mut tx, a, id).await?;
        let target = self.ticket_for_change(&mut tx, a, into).await?;
        if dup.status == domain::Status::Closed {
            return Err(Error::Conflict(format!("{} is closed; it cannot be merged", dup.number)));
        }
        if target.status == domain::Status::Closed {
            return Err(Error::Conflict(format!(
                "{} is closed; merge into an open ticket",
                target.number
            )));
        }
        // The target gains the duplicate's tags (up to the limit of 30).
        let mut merged_target = target.clone();
        for tag in &dup.tags {
            if !merged_target.tags.contains(tag) && merged_target.tags.len() < 30 {
                merged_target.tags.push(tag.clone());
            }
        }
        if merged_target.tags != target.tags {
            merged_target.updated_at = now;
            self.save_ticket_change(&mut tx, a.actor, &target, &merged_target, now).await?;
        }
        // Its notes, and where its conversation is, as one internal note on the target.
        let notes: Vec<String> = if dup.conversation == target.conversation {
            Vec::new()
        } else {
            db::conversations::messages(&mut tx, ws, dup.conversation, None, 200, false)
                .await?
                .into_iter()
                .filter(|m| m.visibility == Visibility::Internal)
                .map(|m| format!("— {}", m.body))
                .collect()
        };
        let mut body = format!(
            "合并自 Merged from {} ({})\n会话 Conversation: {}",
            dup.number, dup.subject, dup.conversation
        );
        for n in notes {
            body.push('\n');
            body.push_str(&n);
        }
        let body: String = body.chars().take(domain::conversation::MAX_BODY_CHARS).collect();
        self.system_message(&mut tx, &merged_target, Visibility::Internal, body, now).await?;
        // The duplicate is closed with a pointer to the target.
        let mut closed = dup.clone();
        closed.custom_fields.retain(|(k, _)| k != "merged_into");
        closed.custom_fields.push(("merged_into".into(), target.number.to_string()));
        if closed.status.is_active() {
            transition(&mut closed, domain::Status::Solved, now)?;
        }
        transition(&mut closed, domain::Status::Closed, now)?;
        self.save_ticket_change(&mut tx, a.actor, &dup, &closed, now).await?;
        db::ticket_links::insert(&mut tx, ws, id, into, MERGED_INTO, now, a.actor).await?;
        for t in [&closed, &merged_target] {
            let snap = domain::Snapshot::default()
                .with("merged", dup.number.to_string())
                .with("into", target.number.to_string());
            tx.audit(now, a.actor, "ticket.merge", "ticket", &t.id.to_string(), None, Some(&snap))
                .await?;
        }
        self.commit(tx).await?;
        Ok((closed, merged_target))
    }

    /// Splits a second problem out of ticket `id` into a new ticket; returns the original (with
    /// the split noted) and the new ticket.
    pub async fn split_ticket(
        &self,
        a: &Agent,
        id: TicketId,
        sp: TicketSplit,
    ) -> Result<(Ticket, Ticket)> {
        let subject = parse_subject(&sp.subject)?;
        let tags = parse_tags(&sp.tags)?;
        if sp.messages.is_empty() || sp.messages.len() > MAX_SPLIT_MESSAGES {
            return Err(domain::ParseError::new(
                "message_ids",
                format!("name 1 to {MAX_SPLIT_MESSAGES} messages of the ticket's conversation"),
            )
            .into());
        }
        let now = self.now();
        let ws = a.workspace;
        let mut tx = self.db.write(ws).await?;
        let original = self.ticket_for_change(&mut tx, a, id).await?;
        if original.status == domain::Status::Closed {
            return Err(Error::Conflict(format!(
                "{} is closed; it cannot be split",
                original.number
            )));
        }
        let mut ids = sp.messages;
        ids.sort();
        ids.dedup();
        let mut quoted = Vec::with_capacity(ids.len());
        for m in &ids {
            let msg = db::conversations::get_message(&mut tx, ws, *m)
                .await?
                .filter(|msg| msg.conversation == original.conversation)
                .ok_or_else(|| {
                    domain::ParseError::new(
                        "message_ids",
                        format!("{m} is not a message of {}'s conversation", original.number),
                    )
                })?;
            quoted.push(msg);
        }
        let n = crate::tickets::NewTicket {
            subject: subject.clone(),
            customer: original.customer,
            conversation: Some(original.conversation),
            channel: original.channel,
            description: None,
            attachments: Vec::new(),
            problem_code: sp.problem_code,
            severity: sp.severity,
            urgency: sp.urgency,
            assignee: sp.assignee,
            team: sp.team,
            tags: Vec::new(),
            custom_fields: Vec::new(),
        };
        let custom_fields = vec![("split_from".to_string(), original.number.to_string())];
        let new = self.open_ticket(&mut tx, a.actor, &n, subject, tags, custom_fields, now).await?;
        db::ticket_links::insert(&mut tx, ws, new.id, id, SPLIT_FROM, now, a.actor).await?;
        let mut note = format!(
            "拆分自 Split from {} ({})\n新工单 New ticket: {} ({})",
            original.number, original.subject, new.number, new.subject
        );
        for m in &quoted {
            note.push_str(&format!("\n— [{}] {}", m.sender.as_str(), m.body));
        }
        let note: String = note.chars().take(domain::conversation::MAX_BODY_CHARS).collect();
        self.system_message(&mut tx, &new, Visibility::Internal, note, now).await?;
        self.record_link(&mut tx, a.actor, "ticket.split", &original, &new, now).await?;
        self.commit(tx).await?;
        Ok((original, new))
    }
}
