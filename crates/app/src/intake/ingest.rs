//! The group-committing message writer behind `App::ingest`. One task takes every request
//! waiting at the moment, and per workspace writes the messages, their audit entries and events,
//! the conversations' activity and the tickets a message moves, in one transaction with a few
//! multi-row statements. Each sender is answered after the commit.

use std::collections::{HashMap, HashSet};

use domain::{
    Attachment, ConversationId, ConversationStatus, Event, Message, MessageId, SenderKind, Status,
    Visibility, WorkspaceId, ticket::transition,
};
use tokio::sync::{mpsc, oneshot};

use crate::{
    App, Error, Result,
    intake::{conversations::From, snapshot},
};

/// One message waiting to be stored.
pub(crate) struct IngestReq {
    pub ws: WorkspaceId,
    pub conv: ConversationId,
    pub from: From,
    pub body: String,
    pub attachments: Vec<Attachment>,
    pub visibility: Visibility,
    /// `<actor>:<Idempotency-Key>`.
    pub key: Option<String>,
    pub visible_to_customer: bool,
    /// For visitors: the customer who must own the conversation.
    pub owner: Option<domain::CustomerId>,
    /// A bot turn's other writes, stored in the same transaction as its replies.
    pub turn: Option<Box<TurnWrites>>,
    pub reply: oneshot::Sender<Result<(Message, bool)>>,
}

/// What a bot turn writes besides its replies: its outcome rows, the conversation's dialogue
/// state, and whether the learning loop's clustering job should be scheduled. Carried by the
/// turn's last reply, so the whole turn commits at once (or, with no reply, on its own).
#[derive(Debug, Default)]
pub(crate) struct TurnWrites {
    pub outcomes: Vec<db::bot::Outcome>,
    pub state: Option<dialogue::State>,
    pub learning: bool,
}

impl App {
    /// Writes a turn's outcomes, state and learning job in `tx`.
    pub(crate) async fn write_turn(
        &self,
        tx: &mut db::WriteTx,
        conv: ConversationId,
        w: &TurnWrites,
        learning_checked: &mut bool,
        now: domain::Timestamp,
    ) -> Result<()> {
        let ws = tx.workspace();
        for o in &w.outcomes {
            db::bot::outcome_insert(tx, o).await?;
        }
        if let Some(s) = &w.state {
            db::bot::session_put(tx, ws, conv, s, now).await?;
        }
        if w.learning && !*learning_checked {
            *learning_checked = true;
            let kind = domain::Job::ClusterKbCandidates.name();
            if !db::jobs::pending(tx, ws, kind).await? {
                let id = self.ids.next(now, domain::JobId::new);
                let at = now.plus_millis(crate::bot::learning::DAY_MS);
                tx.enqueue(id, &domain::Job::ClusterKbCandidates, at, now).await?;
            }
        }
        Ok(())
    }
}

/// Requests taken into one batch at most.
const MAX_BATCH: usize = 256;

/// Each item is one caller's messages (a bot turn sends its replies together, so they are
/// never split between two transactions).
pub(crate) async fn run_ingestor(app: App, mut rx: mpsc::UnboundedReceiver<Vec<IngestReq>>) {
    while let Some(first) = rx.recv().await {
        let mut batch = first;
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(r) => batch.extend(r),
                Err(_) => break,
            }
        }
        let mut by_ws: Vec<(WorkspaceId, Vec<IngestReq>)> = Vec::new();
        for r in batch {
            match by_ws.iter_mut().find(|(w, _)| *w == r.ws) {
                Some((_, v)) => v.push(r),
                None => by_ws.push((r.ws, vec![r])),
            }
        }
        for (ws, reqs) in by_ws {
            app.ingest_batch(ws, reqs).await;
        }
    }
}

/// What became of one request inside the transaction.
enum Fate {
    Stored(Message),
    /// Its idempotency key was used before: answer with the first message after commit.
    Duplicate(String),
    Missing,
}

impl App {
    async fn ingest_batch(&self, ws: WorkspaceId, reqs: Vec<IngestReq>) {
        match self.write_batch(ws, &reqs).await {
            Ok(fates) => {
                for (req, fate) in reqs.into_iter().zip(fates) {
                    let answer = match fate {
                        Fate::Stored(m) => Ok((m, true)),
                        Fate::Missing => Err(Error::NotFound("conversation")),
                        Fate::Duplicate(key) => self.first_with_key(ws, req.conv, &key).await,
                    };
                    let _ = req.reply.send(answer);
                }
            }
            Err(e) => {
                let msg = format!("{e}");
                for req in reqs {
                    let _ = req.reply.send(Err(Error::Internal(anyhow::anyhow!(
                        "storing the message failed: {msg}"
                    ))));
                }
            }
        }
    }

    async fn first_with_key(
        &self,
        ws: WorkspaceId,
        conv: ConversationId,
        key: &str,
    ) -> Result<(Message, bool)> {
        let mut r = self.db.read().await?;
        let first = db::conversations::message_by_idempotency_key(&mut r, ws, key)
            .await?
            .ok_or(Error::NotFound("message"))?;
        if first.conversation != conv {
            return Err(Error::Conflict(
                "this Idempotency-Key was already used for another conversation".into(),
            ));
        }
        Ok((first, false))
    }

    async fn write_batch(&self, ws: WorkspaceId, reqs: &[IngestReq]) -> Result<Vec<Fate>> {
        let now = self.now();
        let mut ids: Vec<ConversationId> = reqs.iter().map(|r| r.conv).collect();
        ids.sort();
        ids.dedup();
        let keys: Vec<&str> = reqs.iter().filter_map(|r| r.key.as_deref()).collect();
        let (mut tx, reads) = db::conversations::begin_ingest(&self.db, ws, &ids, &keys).await?;
        // Conversations with a ticket that a new message may move; usually none.
        let tracked = reads.tracked;
        let movable: HashSet<ConversationId> =
            reads.conversations.iter().filter(|(_, m)| *m).map(|(c, _)| c.id).collect();
        let mut convs: HashMap<ConversationId, domain::Conversation> =
            reads.conversations.into_iter().map(|(c, _)| (c.id, c)).collect();

        // A key taken before, or earlier in this batch, makes its request a retry. Ids are
        // drawn under the workspace lock, so they sort in commit order.
        let mut used = reads.used_keys;
        let rows: Vec<Option<(Message, Option<String>)>> = reqs
            .iter()
            .map(|r| {
                let owned =
                    convs.get(&r.conv).is_some_and(|c| r.owner.is_none_or(|o| o == c.customer));
                owned.then(|| {
                    let m = Message {
                        id: self.ids.next(now, MessageId::new),
                        workspace: ws,
                        conversation: r.conv,
                        sender: r.from.sender,
                        author: r.from.author,
                        visibility: r.visibility,
                        body: r.body.clone(),
                        attachments: r.attachments.clone(),
                        created_at: now,
                    };
                    (m, r.key.clone())
                })
            })
            .collect();
        let mut inserted: HashSet<MessageId> = HashSet::new();
        let mut to_insert: Vec<(Message, Option<String>)> = Vec::new();
        for (m, key) in rows.iter().flatten() {
            if key.as_ref().is_none_or(|k| used.insert(k.clone())) {
                inserted.insert(m.id);
                to_insert.push((m.clone(), key.clone()));
            }
        }
        db::conversations::insert_messages_at_commit(&mut tx, to_insert);

        let mut fates = Vec::with_capacity(reqs.len());
        let mut touched: Vec<ConversationId> = Vec::new();
        for (r, row) in reqs.iter().zip(rows) {
            let Some((m, key)) = row else {
                fates.push(Fate::Missing);
                continue;
            };
            if !inserted.contains(&m.id) {
                fates.push(Fate::Duplicate(key.unwrap_or_default()));
                continue;
            }
            let c = &convs[&r.conv];
            tx.audit(
                now,
                r.from.actor,
                "message.create",
                "message",
                &m.id.to_string(),
                None,
                Some(&snapshot::message(&m)),
            )
            .await?;
            let audience = domain::Audience {
                customer: r.visible_to_customer.then_some(c.customer),
                team: c.team,
                assignee: c.assignee,
                internal: m.visibility == Visibility::Internal,
            };
            let e = Event::MessageCreated {
                conversation: c.id,
                message: m.id,
                sender: m.sender,
                visibility: m.visibility,
            };
            tx.emit(now, r.from.actor, e, audience).await?;
            // Email conversations: a public staff reply goes out by SMTP (issue 8).
            if crate::channels::email::goes_out_by_email(c, &m) {
                let id = self.ids.next(now, domain::JobId::new);
                tx.enqueue(id, &crate::channels::email::send_job(&m), now, now).await?;
            }
            if !touched.contains(&c.id) {
                touched.push(c.id);
            }
            fates.push(Fate::Stored(m));
        }

        // A customer writing reopens a conversation; that is an audited change. Otherwise only
        // the activity time moves, which is bookkeeping.
        let mut plain = Vec::new();
        for id in &touched {
            let customer_wrote = reqs.iter().zip(&fates).any(|(r, f)| {
                r.conv == *id
                    && r.from.sender == SenderKind::Customer
                    && matches!(f, Fate::Stored(_))
            });
            let before = convs[id].clone();
            if customer_wrote && before.status != ConversationStatus::Open {
                let mut c = before.clone();
                c.status = ConversationStatus::Open;
                c.last_message_at = now;
                c.updated_at = now;
                let actor = reqs
                    .iter()
                    .find(|r| r.conv == *id && r.from.sender == SenderKind::Customer)
                    .map(|r| r.from.actor);
                self.save_conversation_change(
                    &mut tx,
                    actor.unwrap_or(domain::Actor::System),
                    &before,
                    &c,
                    now,
                )
                .await?;
                convs.insert(*id, c);
            } else {
                plain.push(*id);
            }
        }
        db::conversations::touch_at_commit(&mut tx, ws, plain, now);

        // A customer answering reopens a solved ticket and takes a pending one back to open; an
        // agent's public reply opens a new one.
        let public: Vec<ConversationId> = touched
            .iter()
            .copied()
            .filter(|id| movable.contains(id))
            .filter(|id| {
                reqs.iter().zip(&fates).any(|(r, f)| {
                    r.conv == *id
                        && r.visibility == Visibility::Public
                        && matches!(f, Fate::Stored(_))
                })
            })
            .collect();
        for t in db::tickets::follow_up_candidates(&mut tx, ws, &public).await? {
            let wrote = |kind: SenderKind| {
                reqs.iter().zip(&fates).find(|(r, f)| {
                    r.conv == t.conversation
                        && r.from.sender == kind
                        && r.visibility == Visibility::Public
                        && matches!(f, Fate::Stored(_))
                })
            };
            let (to, who) = match t.status {
                Status::Solved => (Status::Reopen, wrote(SenderKind::Customer)),
                Status::Pending => (Status::Open, wrote(SenderKind::Customer)),
                Status::New => (Status::Open, wrote(SenderKind::Agent)),
                _ => continue,
            };
            if let Some((r, _)) = who {
                let mut t2 = t.clone();
                transition(&mut t2, to, now)?;
                self.save_ticket_change(&mut tx, r.from.actor, &t, &t2, now).await?;
            }
        }

        // Public replies move the SLA clocks of the conversation's open tickets.
        let reply_of = |r: &IngestReq, f: &Fate| match (r.from.sender, f, r.visibility) {
            (SenderKind::Agent, Fate::Stored(_), Visibility::Public) => {
                Some(workflow::TicketEvent::AgentReplied { at: now, public: true })
            }
            (SenderKind::Customer, Fate::Stored(_), Visibility::Public) => {
                Some(workflow::TicketEvent::CustomerReplied { at: now })
            }
            _ => None,
        };
        let clocked: Vec<ConversationId> = touched
            .iter()
            .copied()
            .filter(|id| tracked.contains(id))
            .filter(|id| {
                reqs.iter().zip(&fates).any(|(r, f)| r.conv == *id && reply_of(r, f).is_some())
            })
            .collect();
        for t in db::tickets::active_of_conversations(&mut tx, ws, &clocked).await? {
            let inputs: Vec<workflow::TicketEvent> = reqs
                .iter()
                .zip(&fates)
                .filter(|(r, _)| r.conv == t.conversation)
                .filter_map(|(r, f)| reply_of(r, f))
                .collect();
            self.sla_track(&mut tx, &t, &inputs, now, true).await?;
        }
        // Classification (FB-3) runs off the hot path: one job per batch of customer messages.
        let inbound: Vec<MessageId> = reqs
            .iter()
            .zip(&fates)
            .filter_map(|(r, f)| match f {
                Fate::Stored(m) if r.from.sender == SenderKind::Customer => Some(m.id),
                _ => None,
            })
            .collect();
        if !inbound.is_empty() {
            let id = self.ids.next(now, domain::JobId::new);
            tx.enqueue(id, &domain::Job::ClassifyMessages { messages: inbound }, now, now).await?;
        }
        // Bot turns: outcomes and dialogue state with their replies.
        let mut learning_checked = false;
        for (r, f) in reqs.iter().zip(&fates) {
            if let (Some(w), Fate::Stored(_)) = (&r.turn, f) {
                self.write_turn(&mut tx, r.conv, w, &mut learning_checked, now).await?;
            }
        }
        self.commit(tx).await?;
        Ok(fates)
    }
}
