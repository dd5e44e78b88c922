//! Tickets (TK-1…TK-8): create, read with the caller's scope, change fields, status, stage and
//! assignment, reply and note, and the ticket's history. Solving a ticket enqueues its
//! auto-close job in the same transaction.

use domain::{
    Actor, Attachment, Audience, Channel, Conversation, ConversationId, ConversationStatus,
    CustomerId, Event, Handler, Job, JobId, Message, Permission, ProblemCode, SenderKind, Severity,
    Status, TeamId, Ticket, TicketId, TicketNo, Timestamp, Urgency, UserId, Visibility,
    ticket::{parse_custom_field, parse_subject, parse_tags, transition},
};

use crate::{
    App, Error, Result,
    auth::{Agent, Noter, Principal, Staff},
    error::OrNotFound,
    intake::{NewMessage, snapshot},
};

#[derive(Debug, Clone)]
pub struct NewTicket {
    pub subject: String,
    pub customer: CustomerId,
    /// The conversation the case came from; a new one on `channel` is opened if absent.
    pub conversation: Option<ConversationId>,
    pub channel: Channel,
    /// The customer's original request, recorded as the first message.
    pub description: Option<String>,
    pub attachments: Vec<Attachment>,
    pub problem_code: Option<ProblemCode>,
    pub severity: Option<Severity>,
    pub urgency: Option<Urgency>,
    pub assignee: Option<UserId>,
    pub team: Option<TeamId>,
    pub tags: Vec<String>,
    pub custom_fields: Vec<(String, String)>,
}

/// Field changes; `None` leaves a field alone, `Some(None)` clears an optional one.
#[derive(Debug, Clone, Default)]
pub struct TicketPatch {
    pub subject: Option<String>,
    pub problem_code: Option<Option<ProblemCode>>,
    pub severity: Option<Severity>,
    pub urgency: Option<Urgency>,
    pub stage: Option<Option<String>>,
    pub tags: Option<Vec<String>>,
    pub custom_fields: Option<Vec<(String, String)>>,
}

/// Department members see tickets of their teams and tickets assigned to them.
pub(crate) fn scoped_can_see(p: &Principal, t: &Ticket) -> bool {
    p.allows(Permission::ReadAllCases)
        || (p.user.is_some() && t.assignee == p.user)
        || t.team.is_some_and(|team| p.teams.contains(&team))
}

fn audience(t: &Ticket) -> Audience {
    Audience { customer: Some(t.customer), team: t.team, assignee: t.assignee, internal: false }
}

fn check_fields(fields: &[(String, String)]) -> Result<Vec<(String, String)>> {
    if fields.len() > 50 {
        return Err(domain::ParseError::new("custom_fields", "at most 50 fields").into());
    }
    Ok(fields.iter().map(|(k, v)| parse_custom_field(k, v)).collect::<Result<_, _>>()?)
}

impl App {
    pub async fn create_ticket(&self, a: &Agent, n: NewTicket) -> Result<Ticket> {
        let subject = parse_subject(&n.subject)?;
        let tags = parse_tags(&n.tags)?;
        let custom_fields = check_fields(&n.custom_fields)?;
        if let Some(d) = &n.description {
            domain::conversation::parse_body(d, !n.attachments.is_empty())?;
        }
        let now = self.now();
        let ws = a.workspace;
        let mut tx = self.db.write(ws).await?;
        let t = self.open_ticket(&mut tx, a.actor, &n, subject, tags, custom_fields, now).await?;
        self.commit(tx).await?;
        if let Some(body) = n.description {
            // The original request, as the customer stated it, opens the ticket's record.
            let from = crate::intake::conversations::From {
                actor: a.actor,
                sender: SenderKind::Customer,
                author: None,
            };
            let m = NewMessage {
                body,
                attachments: n.attachments,
                visibility: None,
                idempotency_key: None,
            };
            self.ingest(ws, t.conversation, from, m, true, None).await?;
        }
        Ok(t)
    }

    /// Inserts a new ticket in `tx` from checked fields: its conversation (opened when `n` names
    /// none), crisis checks, routing, stage, audit, event, triggers and SLA clocks. The
    /// description is the caller's to store.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn open_ticket(
        &self,
        tx: &mut db::WriteTx,
        actor: Actor,
        n: &NewTicket,
        subject: String,
        tags: Vec<String>,
        custom_fields: Vec<(String, String)>,
        now: Timestamp,
    ) -> Result<Ticket> {
        let ws = tx.workspace();
        let customer = db::customers::get(tx, ws, n.customer).await?.or_not_found("customer")?;
        if customer.merged_into.is_some() {
            return Err(Error::Conflict(
                "this customer was merged into another; use that one".into(),
            ));
        }
        if let Some(code) = n.problem_code {
            self.check_code(tx, code).await?;
        }
        if let Some(u) = n.assignee {
            self.check_assignee(tx, ws, u).await?;
        }
        if let Some(t) = n.team {
            db::users::get_team(tx, ws, t).await?.or_not_found("team")?;
        }
        let conversation = match n.conversation {
            Some(id) => {
                let c = db::conversations::get(tx, ws, id).await?.or_not_found("conversation")?;
                if c.customer != n.customer {
                    return Err(Error::Conflict(
                        "that conversation belongs to another customer".into(),
                    ));
                }
                c
            }
            None => {
                let c = Conversation {
                    id: self.ids.next(now, ConversationId::new),
                    workspace: ws,
                    customer: n.customer,
                    channel: n.channel,
                    subject: Some(subject.clone()),
                    status: ConversationStatus::Open,
                    handler: Handler::Human,
                    assignee: n.assignee,
                    team: n.team,
                    last_message_at: now,
                    created_at: now,
                    updated_at: now,
                };
                self.insert_conversation(tx, actor, &c).await?;
                c
            }
        };
        let prefix = db::workspaces::by_id(tx, ws).await?.or_not_found("workspace")?.ticket_prefix;
        let mut t = Ticket {
            id: self.ids.next(now, TicketId::new),
            workspace: ws,
            number: TicketNo::new(&prefix, tx.next_ticket_number()),
            subject,
            customer: n.customer,
            conversation: conversation.id,
            channel: conversation.channel,
            problem_code: n.problem_code,
            severity: n.severity.unwrap_or(Severity::L3),
            urgency: n.urgency.unwrap_or(Urgency::Normal),
            status: if n.assignee.is_some() { Status::Open } else { Status::New },
            stage: None,
            assignee: n.assignee,
            team: n.team,
            tags,
            custom_fields,
            tracking_token: self.ids.secret("tk_"),
            created_at: now,
            updated_at: now,
            solved_at: None,
            closed_at: None,
        };
        self.crisis_checks(tx, &mut t, now).await?;
        let routed = self.route_new_ticket(tx, &mut t, &customer, now).await?;
        db::tickets::insert(tx, &t).await?;
        self.stage_changed(tx, &t, false, now).await?;
        if let Some(d) = &routed {
            let snap = domain::Snapshot::default().with("routing", crate::routing::describe(d));
            tx.audit(
                now,
                Actor::System,
                "ticket.route",
                "ticket",
                &t.id.to_string(),
                None,
                Some(&snap),
            )
            .await?;
        }
        tx.audit(
            now,
            actor,
            "ticket.create",
            "ticket",
            &t.id.to_string(),
            None,
            Some(&snapshot::ticket(&t)),
        )
        .await?;
        tx.emit(
            now,
            actor,
            Event::TicketCreated { ticket: t.id, conversation: t.conversation },
            audience(&t),
        )
        .await?;
        if let Some(after) = self.run_triggers(tx, t.id, "ticket.created", "agent", now).await? {
            t = after;
        }
        let mut inputs = vec![workflow::TicketEvent::Created { at: now }];
        if t.status != Status::New {
            inputs.push(workflow::TicketEvent::StatusChanged { at: now, to: t.status });
        }
        self.sla_track(tx, &t, &inputs, now, true).await?;
        Ok(t)
    }

    async fn check_code(&self, tx: &mut db::WriteTx, code: ProblemCode) -> Result<()> {
        let ws = tx.workspace();
        match db::workspaces::problem_code_get(tx, ws, code).await? {
            Some(e) if e.active => Ok(()),
            Some(_) => Err(Error::Conflict(format!("problem code {code} is retired"))),
            None => Err(domain::ParseError::new(
                "problem_code",
                format!("{code} is not in this workspace's code table"),
            )
            .into()),
        }
    }

    pub(crate) async fn readable_ticket(&self, p: &Principal, id: TicketId) -> Result<Ticket> {
        let mut c = self.db.read().await?;
        let t = db::tickets::get(&mut c, p.workspace, id).await?.or_not_found("ticket")?;
        if scoped_can_see(p, &t) { Ok(t) } else { Err(Error::NotFound("ticket")) }
    }

    pub async fn get_ticket(&self, s: &Staff, id: TicketId) -> Result<Ticket> {
        self.readable_ticket(s, id).await
    }

    pub async fn get_ticket_by_number(&self, s: &Staff, no: &TicketNo) -> Result<Ticket> {
        let mut c = self.db.read().await?;
        let t = db::tickets::by_number(&mut c, s.workspace, no).await?.or_not_found("ticket")?;
        if scoped_can_see(s, &t) { Ok(t) } else { Err(Error::NotFound("ticket")) }
    }

    pub async fn list_tickets(
        &self,
        s: &Staff,
        mut f: db::tickets::Filter,
        page: &db::Page,
    ) -> Result<Vec<Ticket>> {
        if !s.allows(Permission::ReadAllCases) {
            f.visible_teams = Some(s.teams.clone());
            f.visible_to_user = s.user;
        }
        let mut c = self.db.read().await?;
        Ok(db::tickets::list(&mut c, s.workspace, &f, page).await?)
    }

    /// Writes a changed ticket with its audit entry and events, and moves its SLA clocks.
    pub(crate) async fn save_ticket_change(
        &self,
        tx: &mut db::WriteTx,
        actor: Actor,
        before: &Ticket,
        after: &Ticket,
        now: Timestamp,
    ) -> Result<()> {
        self.write_ticket_change(tx, actor, before, after, now).await?;
        if let Some(inputs) = App::sla_inputs_of_change(before, after, now) {
            self.sla_track(tx, after, &inputs, now, true).await?;
        }
        Ok(())
    }

    /// Writes a changed ticket with its audit entry and events, leaving SLA clocks alone.
    pub(crate) async fn write_ticket_change(
        &self,
        tx: &mut db::WriteTx,
        actor: Actor,
        before: &Ticket,
        after: &Ticket,
        now: Timestamp,
    ) -> Result<()> {
        db::tickets::update(tx, after).await?;
        let action = if before.status != after.status { "ticket.status" } else { "ticket.update" };
        let b = snapshot::ticket(before);
        tx.audit(
            now,
            actor,
            action,
            "ticket",
            &after.id.to_string(),
            Some(&b),
            Some(&snapshot::ticket(after)),
        )
        .await?;
        let mut fields = Vec::new();
        let mut diff = |name: &str, changed: bool| {
            if changed {
                fields.push(name.to_string());
            }
        };
        diff("subject", before.subject != after.subject);
        diff("problem_code", before.problem_code != after.problem_code);
        diff("severity", before.severity != after.severity);
        diff("urgency", before.urgency != after.urgency);
        diff("stage", before.stage_key() != after.stage_key());
        diff("tags", before.tags != after.tags);
        diff("custom_fields", before.custom_fields != after.custom_fields);
        diff("customer", before.customer != after.customer);
        if before.stage_key() != after.stage_key() {
            self.stage_changed(tx, after, true, now).await?;
        }
        if before.status != after.status {
            tx.emit(
                now,
                actor,
                Event::TicketStatusChanged {
                    ticket: after.id,
                    from: before.status,
                    to: after.status,
                },
                audience(after),
            )
            .await?;
            if after.status == Status::Solved
                && let Some(solved_at) = after.solved_at
            {
                let job = Job::CloseSolvedTicket { ticket: after.id, solved_at };
                let id = self.ids.next(now, JobId::new);
                tx.enqueue(id, &job, now.plus_days(self.settings.auto_close_days), now).await?;
                // Surveys and the complaint call-back (FB-1, FB-5).
                self.on_ticket_solved(tx, after, now).await?;
            }
        }
        // Similar solved tickets (TK-9): index on solving, remove on reopening.
        self.enqueue_similar_index(tx, before, after, now).await?;
        if before.assignee != after.assignee || before.team != after.team {
            let aud = Audience { internal: true, ..audience(after) };
            tx.emit(
                now,
                actor,
                Event::TicketAssigned {
                    ticket: after.id,
                    assignee: after.assignee,
                    team: after.team,
                },
                aud,
            )
            .await?;
        }
        if !fields.is_empty() {
            tx.emit(now, actor, Event::TicketUpdated { ticket: after.id, fields }, audience(after))
                .await?;
        }
        Ok(())
    }

    /// Loads a ticket inside a write for change, enforcing scope and that it is not closed.
    pub(crate) async fn ticket_for_change(
        &self,
        tx: &mut db::WriteTx,
        p: &Principal,
        id: TicketId,
    ) -> Result<Ticket> {
        let t = db::tickets::get(tx, p.workspace, id).await?.or_not_found("ticket")?;
        if !scoped_can_see(p, &t) {
            return Err(Error::NotFound("ticket"));
        }
        Ok(t)
    }

    pub async fn update_ticket(&self, a: &Agent, id: TicketId, p: TicketPatch) -> Result<Ticket> {
        let subject = p.subject.as_deref().map(parse_subject).transpose()?;
        let tags = p.tags.as_deref().map(parse_tags).transpose()?;
        let fields = p.custom_fields.as_deref().map(check_fields).transpose()?;
        let now = self.now();
        let mut tx = self.db.write(a.workspace).await?;
        let before = self.ticket_for_change(&mut tx, a, id).await?;
        if before.status == Status::Closed {
            return Err(domain::ticket::TicketError::Closed.into());
        }
        let mut t = before.clone();
        if let Some(s) = subject {
            t.subject = s;
        }
        if let Some(code) = p.problem_code {
            if let Some(c) = code
                && Some(c) != before.problem_code
            {
                self.check_code(&mut tx, c).await?;
            }
            t.problem_code = code;
        }
        if let Some(s) = p.severity {
            t.severity = s;
        }
        if let Some(u) = p.urgency {
            t.urgency = u;
        }
        if let Some(stage) = p.stage {
            if let Some(key) = &stage {
                let stages = db::workspaces::stages(&mut tx, a.workspace).await?;
                if !stages.iter().any(|s| &s.key == key) {
                    let known: Vec<&str> = stages.iter().map(|s| s.key.as_str()).collect();
                    return Err(domain::ParseError::new(
                        "stage",
                        format!("unknown stage {key:?}; expected one of: {}", known.join(", ")),
                    )
                    .into());
                }
            }
            t.stage = stage;
        }
        if let Some(tags) = tags {
            t.tags = tags;
        }
        if let Some(f) = fields {
            t.custom_fields = f;
        }
        if t == before {
            return Ok(t);
        }
        t.updated_at = now;
        self.save_ticket_change(&mut tx, a.actor, &before, &t, now).await?;
        let t =
            self.run_triggers(&mut tx, t.id, "ticket.updated", "agent", now).await?.unwrap_or(t);
        self.commit(tx).await?;
        Ok(t)
    }

    pub async fn set_ticket_status(&self, a: &Agent, id: TicketId, to: Status) -> Result<Ticket> {
        let now = self.now();
        let mut tx = self.db.write(a.workspace).await?;
        let before = self.ticket_for_change(&mut tx, a, id).await?;
        let mut t = before.clone();
        transition(&mut t, to, now)?;
        self.save_ticket_change(&mut tx, a.actor, &before, &t, now).await?;
        self.sync_conversation_status(&mut tx, a.actor, &t, now).await?;
        let t = self
            .run_triggers(&mut tx, t.id, "ticket.status_changed", "agent", now)
            .await?
            .unwrap_or(t);
        self.commit(tx).await?;
        Ok(t)
    }

    /// Keeps the conversation's status in step with its ticket: solved or closed resolves it,
    /// reopening opens it.
    async fn sync_conversation_status(
        &self,
        tx: &mut db::WriteTx,
        actor: Actor,
        t: &Ticket,
        now: Timestamp,
    ) -> Result<()> {
        let want = if t.status.is_active() {
            ConversationStatus::Open
        } else {
            ConversationStatus::Resolved
        };
        let ws = t.workspace;
        let before =
            db::conversations::get(tx, ws, t.conversation).await?.or_not_found("conversation")?;
        if before.status == want {
            return Ok(());
        }
        let mut c = before.clone();
        c.status = want;
        c.updated_at = now;
        self.save_conversation_change(tx, actor, &before, &c, now).await?;
        Ok(())
    }

    /// Assigns a ticket to a person and/or team. Taking over a ticket someone else holds needs
    /// a supervisor, unless the agent assigns it to themselves from the unassigned pool.
    pub async fn assign_ticket(
        &self,
        a: &Agent,
        id: TicketId,
        assignee: Option<UserId>,
        team: Option<Option<TeamId>>,
    ) -> Result<Ticket> {
        let now = self.now();
        let mut tx = self.db.write(a.workspace).await?;
        let before = self.ticket_for_change(&mut tx, a, id).await?;
        if before.status == Status::Closed {
            return Err(domain::ticket::TicketError::Closed.into());
        }
        let held_by_other = before.assignee.is_some() && before.assignee != a.user;
        if held_by_other && assignee != before.assignee && !a.allows(Permission::SuperviseCases) {
            return Err(Error::Forbidden("reassign a ticket another agent holds"));
        }
        if let Some(u) = assignee {
            self.check_assignee(&mut tx, a.workspace, u).await?;
        }
        let mut t = before.clone();
        t.assignee = assignee;
        if let Some(team) = team {
            if let Some(tid) = team {
                db::users::get_team(&mut tx, a.workspace, tid).await?.or_not_found("team")?;
            }
            t.team = team;
        }
        if t.assignee.is_some() && t.status == Status::New {
            t.status = Status::Open;
        }
        if t == before {
            return Ok(t);
        }
        t.updated_at = now;
        self.save_ticket_change(&mut tx, a.actor, &before, &t, now).await?;
        let t =
            self.run_triggers(&mut tx, t.id, "ticket.assigned", "agent", now).await?.unwrap_or(t);
        self.commit(tx).await?;
        Ok(t)
    }

    /// A public reply to the customer in the ticket's conversation.
    pub async fn reply_to_ticket(
        &self,
        a: &Agent,
        id: TicketId,
        mut m: NewMessage,
    ) -> Result<(Message, bool)> {
        let t = self.readable_ticket(a, id).await?;
        if t.status == Status::Closed {
            return Err(domain::ticket::TicketError::Closed.into());
        }
        m.visibility = Some(Visibility::Public);
        let from = crate::intake::conversations::From {
            actor: a.actor,
            sender: SenderKind::Agent,
            author: a.user,
        };
        self.ingest(a.workspace, t.conversation, from, m, true, None).await
    }

    /// An internal note on the ticket, never shown to the customer.
    pub async fn note_on_ticket(
        &self,
        n: &Noter,
        id: TicketId,
        mut m: NewMessage,
    ) -> Result<(Message, bool)> {
        let t = self.readable_ticket(n, id).await?;
        m.visibility = Some(Visibility::Internal);
        let from = crate::intake::conversations::From {
            actor: n.actor,
            sender: SenderKind::Agent,
            author: n.user,
        };
        self.ingest(n.workspace, t.conversation, from, m, false, None).await
    }

    /// The ticket's messages including internal notes, oldest first.
    pub async fn ticket_messages(
        &self,
        s: &Staff,
        id: TicketId,
        after: Option<domain::MessageId>,
        limit: i64,
    ) -> Result<Vec<Message>> {
        let t = self.readable_ticket(s, id).await?;
        let mut c = self.db.read().await?;
        Ok(db::conversations::messages(&mut c, s.workspace, t.conversation, after, limit, false)
            .await?)
    }

    /// Every audited change to the ticket, newest first (TK-10).
    pub async fn ticket_history(&self, s: &Staff, id: TicketId) -> Result<Vec<db::audit::Entry>> {
        let t = self.readable_ticket(s, id).await?;
        let mut c = self.db.read().await?;
        let f = db::audit::Filter {
            object_type: Some("ticket".into()),
            object_id: Some(t.id.to_string()),
            before: None,
            limit: 1000,
        };
        Ok(db::audit::list(&mut c, s.workspace, &f).await?)
    }
}
