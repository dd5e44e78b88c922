//! Conversations and messages: staff-side reads and writes, and the one ingestion path every
//! message goes through (idempotent, evented, audited, reopening what the customer answers).

use domain::{
    Actor, Attachment, Audience, Channel, Conversation, ConversationId, ConversationStatus,
    CustomerId, Event, Handler, Message, MessageId, Permission, SenderKind, TeamId, Timestamp,
    UserId, Visibility, conversation::parse_body, customer::parse_name,
};

use crate::intake::ingest::{IngestReq, run_ingestor};
use crate::{
    App, Error, Result,
    auth::{Agent, Noter, Principal, Staff},
    error::OrNotFound,
    intake::{customers::require_all_cases, snapshot},
};

#[derive(Debug, Clone)]
pub struct NewConversation {
    pub customer: CustomerId,
    pub channel: Channel,
    pub subject: Option<String>,
    /// An opening message written by the agent (outbound contact), if any.
    pub body: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct NewMessage {
    pub body: String,
    pub attachments: Vec<Attachment>,
    pub visibility: Option<Visibility>,
    /// The client's `Idempotency-Key`: a retry returns the first message instead of a copy.
    pub idempotency_key: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct ConversationPatch {
    pub status: Option<ConversationStatus>,
    pub handler: Option<Handler>,
    pub assignee: Option<Option<UserId>>,
    pub team: Option<Option<TeamId>>,
}

/// Who a message comes from, as the ingestion path needs it.
pub(crate) struct From {
    pub actor: Actor,
    pub sender: SenderKind,
    pub author: Option<UserId>,
}

pub(crate) fn check_idempotency_key(k: &str) -> Result<()> {
    let ok = !k.is_empty() && k.len() <= 200 && k.bytes().all(|b| b.is_ascii_graphic());
    if ok {
        Ok(())
    } else {
        Err(domain::ParseError::new("Idempotency-Key", "1 to 200 visible ASCII characters").into())
    }
}

impl App {
    /// Stores one message in its conversation, atomically with its event and audit entry.
    /// Returns the message and whether it is new (false: an idempotent retry).
    ///
    /// Messages are group-committed: the ingest task takes every request waiting at that moment
    /// and stores them in one transaction per workspace, so concurrent senders share the cost
    /// of a commit. Each caller still returns only after its message is committed.
    pub(crate) async fn ingest(
        &self,
        ws: domain::WorkspaceId,
        conv: ConversationId,
        from: From,
        mut m: NewMessage,
        visible_to_customer: bool,
        owner: Option<CustomerId>,
    ) -> Result<(Message, bool)> {
        let body = parse_body(&m.body, !m.attachments.is_empty())?;
        if m.attachments.len() > 10 {
            return Err(domain::ParseError::new("attachments", "at most 10 per message").into());
        }
        self.bind_chat_files(ws, conv, &mut m.attachments).await?;
        let key = match &m.idempotency_key {
            Some(k) => {
                check_idempotency_key(k)?;
                Some(format!("{}:{k}", from.actor))
            }
            None => None,
        };
        let (reply, rx) = tokio::sync::oneshot::channel();
        let req = IngestReq {
            ws,
            conv,
            from,
            body,
            attachments: m.attachments,
            visibility: m.visibility.unwrap_or(Visibility::Public),
            key,
            visible_to_customer,
            owner,
            turn: None,
            reply,
        };
        self.ingestor()
            .send(vec![req])
            .map_err(|_| Error::Internal(anyhow::anyhow!("the ingest task stopped")))?;
        rx.await
            .map_err(|_| Error::Internal(anyhow::anyhow!("the ingest task dropped a request")))?
    }

    /// A bot turn's replies, stored in one transaction with the turn's other writes.
    pub(crate) async fn ingest_turn(
        &self,
        ws: domain::WorkspaceId,
        conv: ConversationId,
        replies: Vec<String>,
        turn: crate::intake::ingest::TurnWrites,
    ) -> Result<Vec<Message>> {
        let mut bodies = Vec::with_capacity(replies.len());
        for r in &replies {
            bodies.push(parse_body(r, false)?);
        }
        let n = bodies.len();
        let mut turn = Some(Box::new(turn));
        let mut reqs = Vec::with_capacity(n);
        let mut rxs = Vec::with_capacity(n);
        for (i, body) in bodies.into_iter().enumerate() {
            let (reply, rx) = tokio::sync::oneshot::channel();
            reqs.push(IngestReq {
                ws,
                conv,
                from: From { actor: Actor::System, sender: SenderKind::Bot, author: None },
                body,
                attachments: Vec::new(),
                visibility: Visibility::Public,
                key: None,
                visible_to_customer: true,
                owner: None,
                turn: if i + 1 == n { turn.take() } else { None },
                reply,
            });
            rxs.push(rx);
        }
        self.ingestor()
            .send(reqs)
            .map_err(|_| Error::Internal(anyhow::anyhow!("the ingest task stopped")))?;
        let mut out = Vec::with_capacity(n);
        for rx in rxs {
            let (m, _) = rx.await.map_err(|_| {
                Error::Internal(anyhow::anyhow!("the ingest task dropped a request"))
            })??;
            out.push(m);
        }
        Ok(out)
    }

    fn ingestor(&self) -> &tokio::sync::mpsc::UnboundedSender<Vec<IngestReq>> {
        self.ingest.get_or_init(|| {
            let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
            tokio::spawn(run_ingestor(self.clone(), rx));
            tx
        })
    }

    pub async fn create_conversation(
        &self,
        a: &Agent,
        n: NewConversation,
    ) -> Result<(Conversation, Option<Message>)> {
        let subject = n.subject.as_deref().map(|s| parse_name("subject", s)).transpose()?;
        let now = self.now();
        let mut tx = self.db.write(a.workspace).await?;
        db::customers::get(&mut tx, a.workspace, n.customer).await?.or_not_found("customer")?;
        let c = Conversation {
            id: self.ids.next(now, ConversationId::new),
            workspace: a.workspace,
            customer: n.customer,
            channel: n.channel,
            subject,
            status: ConversationStatus::Open,
            handler: Handler::Human,
            assignee: a.user,
            team: None,
            last_message_at: now,
            created_at: now,
            updated_at: now,
        };
        self.insert_conversation(&mut tx, a.actor, &c).await?;
        self.commit(tx).await?;
        let first = match n.body {
            Some(body) => {
                let from = From { actor: a.actor, sender: SenderKind::Agent, author: a.user };
                Some(
                    self.ingest(
                        a.workspace,
                        c.id,
                        from,
                        NewMessage { body, ..NewMessage::default() },
                        true,
                        None,
                    )
                    .await?
                    .0,
                )
            }
            None => None,
        };
        Ok((c, first))
    }

    pub(crate) async fn insert_conversation(
        &self,
        tx: &mut db::WriteTx,
        actor: Actor,
        c: &Conversation,
    ) -> Result<()> {
        db::conversations::insert(tx, c).await?;
        tx.audit(
            c.created_at,
            actor,
            "conversation.create",
            "conversation",
            &c.id.to_string(),
            None,
            Some(&snapshot::conversation(c)),
        )
        .await?;
        tx.emit(
            c.created_at,
            actor,
            Event::ConversationCreated {
                conversation: c.id,
                customer: c.customer,
                channel: c.channel,
            },
            audience_of(c),
        )
        .await?;
        Ok(())
    }

    /// A conversation the principal may read: everyone who reads all cases, and department
    /// members when one of its tickets is theirs.
    pub(crate) async fn readable_conversation(
        &self,
        p: &Principal,
        id: ConversationId,
    ) -> Result<Conversation> {
        let mut c = self.db.read().await?;
        let conv =
            db::conversations::get(&mut c, p.workspace, id).await?.or_not_found("conversation")?;
        if p.allows(Permission::ReadAllCases) {
            return Ok(conv);
        }
        let tickets = db::tickets::of_conversation(&mut c, p.workspace, id).await?;
        if tickets.iter().any(|t| crate::tickets::scoped_can_see(p, t)) {
            Ok(conv)
        } else {
            Err(Error::NotFound("conversation"))
        }
    }

    pub async fn get_conversation(&self, s: &Staff, id: ConversationId) -> Result<Conversation> {
        self.readable_conversation(s, id).await
    }

    pub async fn list_conversations(
        &self,
        s: &Staff,
        f: &db::conversations::Filter,
        page: &db::Page,
    ) -> Result<Vec<Conversation>> {
        require_all_cases(s)?;
        let mut c = self.db.read().await?;
        Ok(db::conversations::list(&mut c, s.workspace, f, page).await?)
    }

    pub async fn conversation_messages(
        &self,
        s: &Staff,
        id: ConversationId,
        after: Option<MessageId>,
        limit: i64,
    ) -> Result<Vec<Message>> {
        self.readable_conversation(s, id).await?;
        let mut c = self.db.read().await?;
        Ok(db::conversations::messages(&mut c, s.workspace, id, after, limit, false).await?)
    }

    /// A staff message: a public reply (agents) or an internal note (anyone who adds notes).
    pub async fn post_staff_message(
        &self,
        n: &Noter,
        id: ConversationId,
        m: NewMessage,
    ) -> Result<(Message, bool)> {
        let vis = m.visibility.unwrap_or(Visibility::Public);
        if vis == Visibility::Public && !n.allows(Permission::WriteCases) {
            return Err(Error::Forbidden("reply to customers"));
        }
        self.readable_conversation(n, id).await?;
        let from = From { actor: n.actor, sender: SenderKind::Agent, author: n.user };
        self.ingest(n.workspace, id, from, m, vis == Visibility::Public, None).await
    }

    pub async fn update_conversation(
        &self,
        a: &Agent,
        id: ConversationId,
        p: ConversationPatch,
    ) -> Result<Conversation> {
        let now = self.now();
        let mut tx = self.db.write(a.workspace).await?;
        let before =
            db::conversations::get(&mut tx, a.workspace, id).await?.or_not_found("conversation")?;
        let mut c = before.clone();
        if let Some(s) = p.status {
            c.status = s;
        }
        if let Some(h) = p.handler {
            c.handler = h;
        }
        if let Some(u) = p.assignee {
            if let Some(u) = u {
                self.check_assignee(&mut tx, a.workspace, u).await?;
            }
            c.assignee = u;
        }
        if let Some(t) = p.team {
            if let Some(t) = t {
                db::users::get_team(&mut tx, a.workspace, t).await?.or_not_found("team")?;
            }
            c.team = t;
        }
        if c == before {
            return Ok(c);
        }
        c.updated_at = now;
        self.save_conversation_change(&mut tx, a.actor, &before, &c, now).await?;
        self.commit(tx).await?;
        Ok(c)
    }

    /// Writes a changed conversation with its audit entry and event.
    pub(crate) async fn save_conversation_change(
        &self,
        tx: &mut db::WriteTx,
        actor: Actor,
        before: &Conversation,
        after: &Conversation,
        now: Timestamp,
    ) -> Result<()> {
        db::conversations::update(tx, after).await?;
        let (b, a) = (snapshot::conversation(before), snapshot::conversation(after));
        let id = after.id.to_string();
        tx.audit(now, actor, "conversation.update", "conversation", &id, Some(&b), Some(&a))
            .await?;
        let e = Event::ConversationUpdated {
            conversation: after.id,
            status: after.status,
            assignee: after.assignee,
        };
        tx.emit(now, actor, e, audience_of(after)).await?;
        Ok(())
    }

    /// An assignee must be an active user of the workspace who can work or collaborate on cases.
    pub(crate) async fn check_assignee(
        &self,
        tx: &mut db::WriteTx,
        ws: domain::WorkspaceId,
        u: UserId,
    ) -> Result<()> {
        let user = db::users::get_user(tx, ws, u).await?.or_not_found("assignee")?;
        if !user.active {
            return Err(Error::Conflict("that user is deactivated".into()));
        }
        if !user.role.allows(Permission::AddNotes) {
            return Err(Error::Conflict(format!(
                "a user with role {} cannot be assigned cases",
                user.role
            )));
        }
        Ok(())
    }
}

/// Conversation-level events are visible to its customer (status changes show in the widget).
pub(crate) fn audience_of(c: &Conversation) -> Audience {
    Audience { customer: Some(c.customer), team: c.team, assignee: c.assignee, internal: false }
}
