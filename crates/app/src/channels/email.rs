//! The email channel (issue 8, IN-1, IN-2): inbound mail from IMAP (poll or IDLE) and from the
//! SMTP/LMTP receiver becomes a customer message in a threaded email conversation; a public
//! staff message on an email conversation is sent by the `SendEmail` job (retried with
//! backoff). Parsing, sanitising and loop signals are `channels::email`'s; this module only
//! decides and stores.
//!
//! Threading: a reply's In-Reply-To / References name a Message-ID recorded in
//! `email_messages` (ours or the customer's) → that conversation; else a ticket number in the
//! subject (`[HT-12]`) of the sender's own ticket → its conversation; else a new conversation.
//! Customers are found by their email identity (IN-2), or created with it.

use std::{collections::HashMap, sync::Arc, time::Duration};

use channels::email::{
    self as mail, AutoKind, Inbound, Outbound,
    receiver::{Delivery, Protocol, Receiver, Refusal},
    settings::EmailSettings,
};
use domain::{
    Actor, Attachment, Channel, Conversation, ConversationId, ConversationStatus, Customer,
    CustomerId, Email, Handler, Identity, IdentityKind, Job, Message, MessageId, SenderKind, Tier,
    Timestamp, Visibility, WorkspaceId,
};
use sha2::Digest;

use crate::{
    App, Error, Result,
    auth::Admin,
    error::OrNotFound,
    intake::{NewMessage, conversations::From},
};

/// What became of one inbound mail.
#[derive(Debug, Clone, PartialEq)]
pub enum Received {
    Stored {
        conversation: ConversationId,
        message: MessageId,
        new_conversation: bool,
    },
    /// Its Message-ID was stored before.
    Duplicate {
        conversation: ConversationId,
    },
    /// Machine-sent, over the sender's rate, or not a message; nothing stored.
    Ignored(&'static str),
}

/// Per-sender counts for the loop guard, shared by every inbound path of the process.
#[derive(Debug, Default)]
pub struct EmailState {
    rate: std::sync::Mutex<mail::SenderRate>,
}

const KEEP_SECRET: &str = "********";

impl App {
    /// The workspace's email settings with passwords masked, or `None` if never set.
    pub async fn email_settings(&self, a: &Admin) -> Result<Option<EmailSettings>> {
        Ok(self.stored_email_settings(a.workspace).await?.map(mask))
    }

    /// Saves the settings (admins). A missing or masked password keeps the stored one.
    pub async fn set_email_settings(
        &self,
        a: &Admin,
        mut s: EmailSettings,
    ) -> Result<EmailSettings> {
        s.address = s.address.trim().to_lowercase();
        let old = self.stored_email_settings(a.workspace).await?;
        let keep = |new: &mut Option<String>, old: Option<&String>| {
            if new.as_deref().is_none_or(|p| p == KEEP_SECRET) {
                *new = old.cloned();
            }
        };
        if let Some(i) = &mut s.imap {
            keep(&mut i.password, old.as_ref().and_then(|o| o.imap.as_ref()?.password.as_ref()));
        }
        if let Some(m) = &mut s.smtp {
            keep(&mut m.password, old.as_ref().and_then(|o| o.smtp.as_ref()?.password.as_ref()));
        }
        s.check().map_err(|(field, why)| domain::ParseError::new(field, why))?;
        let now = self.now();
        let mut tx = self.db.write(a.workspace).await?;
        let row = db::email::SettingsRow {
            workspace: a.workspace,
            address: s.address.clone(),
            enabled: s.enabled,
            config: s.to_json(),
            updated_at: now,
        };
        db::email::settings_put(&mut tx, &row).await?;
        let snap = domain::Snapshot::default()
            .with("address", s.address.as_str())
            .with("enabled", if s.enabled { "true" } else { "false" })
            .with("imap", s.imap.as_ref().map(|i| format!("{}:{}", i.host, i.port)))
            .with("smtp", s.smtp.as_ref().map(|m| format!("{}:{}", m.host, m.port)));
        let ws = a.workspace.to_string();
        tx.audit(now, a.actor, "email.settings", "workspace", &ws, None, Some(&snap)).await?;
        self.commit(tx).await?;
        Ok(mask(s))
    }

    async fn stored_email_settings(&self, ws: WorkspaceId) -> Result<Option<EmailSettings>> {
        let mut c = self.db.read().await?;
        match db::email::settings_get(&mut c, ws).await? {
            Some(r) => Ok(Some(parse_stored(&r.config)?)),
            None => Ok(None),
        }
    }

    /// One attachment of an inbound mail (staff of the workspace).
    pub async fn email_file(
        &self,
        s: &crate::auth::Staff,
        id: &str,
    ) -> Result<(String, String, Vec<u8>)> {
        // Files are not tied to a ticket's department scope: only those who read all cases.
        if !s.allows(domain::Permission::ReadAllCases) {
            return Err(Error::Forbidden("read email attachments"));
        }
        let mut c = self.db.read().await?;
        let f = db::email::file(&mut c, s.workspace, id).await?.or_not_found("file")?;
        Ok((f.name, f.content_type, f.bytes))
    }

    /// Stores one inbound mail of workspace `ws` (raw RFC 5322 bytes).
    pub async fn receive_email(&self, ws: WorkspaceId, raw: &[u8]) -> Result<Received> {
        let settings = self.stored_email_settings(ws).await?.or_not_found("email settings")?;
        let own_domain = settings.address.rsplit_once('@').map(|(_, d)| d.to_string());
        let m = match mail::parse(raw, own_domain.as_deref()) {
            Ok(m) => m,
            Err(e) => {
                tracing::info!(workspace = %ws, error = %e, "inbound mail dropped");
                return Ok(Received::Ignored("unparseable"));
            }
        };
        if let Some(kind) = m.auto {
            tracing::info!(workspace = %ws, from = %m.from_address, kind = kind.as_str(), "machine-sent mail not answered");
            return Ok(Received::Ignored(match kind {
                AutoKind::AutoReply => "auto_reply",
                AutoKind::Bounce => "bounce",
                AutoKind::Bulk => "bulk",
                AutoKind::Own => "own",
            }));
        }
        if m.from_address == settings.address {
            return Ok(Received::Ignored("own"));
        }
        let rfc_id = m.message_id.clone().unwrap_or_else(|| {
            format!("{}@huiting.invalid", hex::encode(&sha2::Sha256::digest(raw)[..16]))
        });
        {
            let mut c = self.db.read().await?;
            if let Some(seen) =
                db::email::find_thread(&mut c, ws, std::slice::from_ref(&rfc_id)).await?
                && (seen.message.is_some() || seen.outbound)
            {
                return Ok(Received::Duplicate { conversation: seen.conversation });
            }
        }
        let allowed = {
            let mut r = self.email.rate.lock().unwrap_or_else(|p| p.into_inner());
            r.allow(
                &format!("{ws}:{}", m.from_address),
                self.now().millis(),
                settings.rate_per_hour,
            )
        };
        if !allowed {
            tracing::warn!(workspace = %ws, from = %m.from_address, "sender over its hourly mail rate; dropped");
            return Ok(Received::Ignored("rate"));
        }
        let Ok(email) = Email::parse(&m.from_address) else {
            return Ok(Received::Ignored("bad_sender"));
        };

        // Customer, conversation and attachment bytes in one transaction.
        let now = self.now();
        let mut tx = self.db.write(ws).await?;
        let customer =
            match db::customers::find_by_identity(&mut tx, ws, &Identity::email(&email)).await? {
                Some(c) => c,
                None => self.create_mail_customer(&mut tx, ws, &m, &email, now).await?,
            };
        let thread = db::email::find_thread(&mut tx, ws, &m.parents).await?;
        let mut conversation = match &thread {
            Some(t) => db::conversations::get(&mut tx, ws, t.conversation).await?,
            None => None,
        };
        if conversation.is_none()
            && let Some(no) = mail::thread::ticket_in_subject(&m.subject)
            && let Some(t) = db::tickets::by_number(&mut tx, ws, &no).await?
        {
            conversation = db::conversations::get(&mut tx, ws, t.conversation)
                .await?
                .filter(|c| c.customer == customer);
        }
        let new_conversation = conversation.is_none();
        let conv = match conversation {
            Some(c) => c,
            None => {
                let subject = Some(m.subject.chars().take(200).collect::<String>())
                    .filter(|s| !s.trim().is_empty());
                let c = Conversation {
                    id: self.ids.next(now, ConversationId::new),
                    workspace: ws,
                    customer,
                    channel: Channel::Email,
                    subject,
                    status: ConversationStatus::Open,
                    handler: Handler::Human,
                    assignee: None,
                    team: None,
                    last_message_at: now,
                    created_at: now,
                    updated_at: now,
                };
                self.insert_conversation(&mut tx, Actor::Customer(customer), &c).await?;
                c
            }
        };
        let mut attachments = Vec::new();
        for a in &m.attachments {
            let id = self.ids.next(now, |_, u| uuid::Uuid::from_u128(u)).to_string();
            let url = format!("/files/email/{id}");
            let Ok(att) = Attachment::parse(&a.name, &a.content_type, a.bytes.len() as i64, &url)
            else {
                continue;
            };
            let f = db::email::File {
                id,
                workspace: ws,
                name: att.name.clone(),
                content_type: att.content_type.clone(),
                bytes: a.bytes.clone(),
                created_at: now,
            };
            db::email::insert_file(&mut tx, &f).await?;
            attachments.push(att);
        }
        self.commit(tx).await?;

        let mut body = m.text.clone();
        if !m.dropped_attachments.is_empty() {
            body.push_str(&format!("\n\n[not kept: {}]", m.dropped_attachments.join(", ")));
        }
        if body.trim().is_empty() && attachments.is_empty() {
            body = if m.subject.trim().is_empty() {
                "(empty email)".into()
            } else {
                m.subject.clone()
            };
        }
        let key = format!("email:{}", hex::encode(&sha2::Sha256::digest(rfc_id.as_bytes())[..20]));
        let from =
            From { actor: Actor::Customer(customer), sender: SenderKind::Customer, author: None };
        let nm = NewMessage { body, attachments, visibility: None, idempotency_key: Some(key) };
        let (msg, _) = self.ingest(ws, conv.id, from, nm, true, None).await?;
        self.opt_out_by_reply(ws, customer, &m.text).await?;

        let mut refs: Vec<String> = m.parents.iter().rev().cloned().collect();
        refs.push(rfc_id.clone());
        let start = refs.len().saturating_sub(mail::thread::MAX_PARENTS);
        let rec = db::email::Mail {
            workspace: ws,
            rfc_id,
            conversation: conv.id,
            message: Some(msg.id),
            outbound: false,
            refs: refs[start..].to_vec(),
            subject: m.subject.clone(),
            address: m.from_address.clone(),
            created_at: now,
        };
        let mut tx = self.db.write(ws).await?;
        db::email::record(&mut tx, &rec).await?;
        self.commit(tx).await?;
        Ok(Received::Stored { conversation: conv.id, message: msg.id, new_conversation })
    }

    async fn create_mail_customer(
        &self,
        tx: &mut db::WriteTx,
        ws: WorkspaceId,
        m: &Inbound,
        email: &Email,
        now: Timestamp,
    ) -> Result<CustomerId> {
        let name = m
            .from_name
            .as_deref()
            .and_then(|n| domain::customer::parse_name("name", n).ok())
            .unwrap_or_else(|| email.as_str().split('@').next().unwrap_or("customer").to_string());
        let cu = Customer {
            id: self.ids.next(now, CustomerId::new),
            workspace: ws,
            name,
            tier: Tier::Ordinary,
            identities: vec![Identity::email(email)],
            attributes: vec![("source".to_string(), "email".to_string())],
            merged_into: None,
            created_at: now,
            updated_at: now,
        };
        db::customers::insert(tx, &cu).await?;
        let actor = Actor::Customer(cu.id);
        self.record_customer(tx, actor, "customer.create", None, &cu).await?;
        tx.emit(
            now,
            actor,
            domain::Event::CustomerCreated { customer: cu.id },
            domain::Audience::staff_only(),
        )
        .await?;
        Ok(cu.id)
    }

    /// Delivers a mail addressed to `rcpt` (the SMTP/LMTP receiver): the workspace whose
    /// enabled address it is, else `None`.
    pub async fn deliver_email(&self, rcpt: &str, raw: &[u8]) -> Result<Option<Received>> {
        let ws = {
            let mut c = self.db.read().await?;
            db::email::settings_by_address(&mut c, &rcpt.to_lowercase()).await?.map(|r| r.workspace)
        };
        match ws {
            Some(ws) => self.receive_email(ws, raw).await.map(Some),
            None => Ok(None),
        }
    }

    /// Serves SMTP or LMTP on `listener` until the process stops; recipients are the enabled
    /// workspaces' addresses.
    pub async fn serve_email_receiver(self, listener: tokio::net::TcpListener, protocol: Protocol) {
        let app = self.clone();
        let accepts: mail::receiver::Accepts = Arc::new(move |rcpt: &str| {
            let app = app.clone();
            let rcpt = rcpt.to_string();
            Box::pin(async move {
                match app.db.read().await {
                    Ok(mut c) => {
                        db::email::settings_by_address(&mut c, &rcpt).await.ok().flatten().is_some()
                    }
                    Err(_) => false,
                }
            })
        });
        let app = self.clone();
        let handler: mail::receiver::Handler = Arc::new(move |d: Delivery| {
            let app = app.clone();
            Box::pin(async move {
                for rcpt in &d.rcpt_to {
                    match app.deliver_email(rcpt, &d.data).await {
                        Ok(Some(_)) => {}
                        Ok(None) => return Err(Refusal::Permanent("no such mailbox".into())),
                        Err(e) => {
                            tracing::warn!(error = %e, "storing a delivered mail failed");
                            return Err(Refusal::Temporary("try again later".into()));
                        }
                    }
                }
                Ok(())
            })
        });
        let r = Receiver { protocol, max_bytes: mail::parse::MAX_RAW_BYTES, accepts, handler };
        r.serve(listener).await;
    }

    /// Reads the workspace's unseen IMAP mail once: stores each message, then marks it seen.
    /// Returns how many messages were read.
    pub async fn poll_email_once(&self, ws: WorkspaceId) -> Result<usize> {
        let s = self.stored_email_settings(ws).await?.or_not_found("email settings")?;
        let cfg = s.imap_config().ok_or(Error::Conflict("no IMAP server configured".into()))?;
        let mut session = mail::imap::connect(&cfg).await.map_err(internal)?;
        let n = self.drain_mailbox(ws, &mut session).await;
        mail::imap::logout(session).await;
        n
    }

    async fn drain_mailbox(
        &self,
        ws: WorkspaceId,
        session: &mut mail::imap::Session,
    ) -> Result<usize> {
        let mut total = 0;
        loop {
            let batch = mail::imap::fetch_unseen(session, 50).await.map_err(internal)?;
            if batch.is_empty() {
                return Ok(total);
            }
            for (uid, raw) in batch {
                self.receive_email(ws, &raw).await?;
                mail::imap::mark_seen(session, uid).await.map_err(internal)?;
                total += 1;
            }
        }
    }

    /// Runs the IMAP readers of every enabled workspace until the process stops: one task per
    /// workspace (IDLE, or polling), restarted when its settings change; the list is re-read
    /// every `rescan`.
    pub async fn run_email_pollers(self, rescan: Duration) {
        let mut running: HashMap<WorkspaceId, (Timestamp, tokio::task::JoinHandle<()>)> =
            HashMap::new();
        loop {
            let rows = match self.db.read().await {
                Ok(mut c) => db::email::settings_enabled(&mut c).await.unwrap_or_default(),
                Err(_) => Vec::new(),
            };
            let wanted: Vec<_> = rows
                .into_iter()
                .filter_map(|r| {
                    let s = parse_stored(&r.config).ok()?;
                    s.imap.is_some().then_some((r.workspace, r.updated_at, s))
                })
                .collect();
            running.retain(|ws, (at, h)| {
                let keep = wanted.iter().any(|(w, u, _)| w == ws && u == at) && !h.is_finished();
                if !keep {
                    h.abort();
                }
                keep
            });
            for (ws, at, s) in wanted {
                if let std::collections::hash_map::Entry::Vacant(slot) = running.entry(ws) {
                    let app = self.clone();
                    slot.insert((at, tokio::spawn(async move { app.read_mailbox(ws, s).await })));
                }
            }
            tokio::time::sleep(rescan).await;
        }
    }

    async fn read_mailbox(self, ws: WorkspaceId, s: EmailSettings) {
        let Some(cfg) = s.imap_config() else { return };
        let (idle, poll) = s.imap.as_ref().map(|i| (i.idle, i.poll_seconds)).unwrap_or((false, 60));
        let mut backoff = 1u32;
        loop {
            match mail::imap::connect(&cfg).await {
                Ok(mut session) => loop {
                    if let Err(e) = self.drain_mailbox(ws, &mut session).await {
                        tracing::warn!(workspace = %ws, error = %e, "reading the mailbox failed");
                        break;
                    }
                    backoff = 1;
                    if idle {
                        match mail::imap::idle(session, Duration::from_secs(25 * 60)).await {
                            Ok(s2) => session = s2,
                            Err(e) => {
                                tracing::warn!(workspace = %ws, error = %e, "IMAP IDLE failed");
                                break;
                            }
                        }
                    } else {
                        tokio::time::sleep(Duration::from_secs(u64::from(poll))).await;
                    }
                },
                Err(e) => tracing::warn!(workspace = %ws, error = %e, "IMAP connection failed"),
            }
            tokio::time::sleep(Duration::from_secs(u64::from(backoff.min(300)))).await;
            backoff = backoff.saturating_mul(2);
        }
    }

    /// The `SendEmail` job: sends a public staff message of an email conversation, then records
    /// it as sent and completes the job in one transaction. Sent before (a crash after sending)
    /// → only completes. A failure is returned for the worker to retry with backoff.
    pub(crate) async fn send_email_job(
        &self,
        worker: &str,
        c: &db::jobs::Claimed,
        message: MessageId,
        now: Timestamp,
    ) -> Result<()> {
        let ws = c.workspace;
        let (msg, conv, last, settings, to, ticket) = {
            let mut r = self.db.read().await?;
            if db::email::by_message(&mut r, ws, message).await?.is_some() {
                drop(r);
                let mut tx = self.db.write(ws).await?;
                if db::jobs::complete(&mut tx, c.id, worker, now).await? {
                    self.commit(tx).await?;
                }
                return Ok(());
            }
            let msg: Message = db::conversations::get_message(&mut r, ws, message)
                .await?
                .or_not_found("message")?;
            let conv = db::conversations::get(&mut r, ws, msg.conversation)
                .await?
                .or_not_found("conversation")?;
            let last = db::email::latest(&mut r, ws, conv.id).await?;
            let settings = match db::email::settings_get(&mut r, ws).await? {
                Some(row) => parse_stored(&row.config)?,
                None => return Err(Error::Conflict("the email channel is not configured".into())),
            };
            let to = match last.as_ref().filter(|l| !l.address.is_empty()) {
                Some(l) => Some(l.address.clone()),
                None => db::customers::get(&mut r, ws, conv.customer).await?.and_then(|cu| {
                    cu.identities
                        .into_iter()
                        .find(|i| i.kind == IdentityKind::Email)
                        .map(|i| i.value)
                }),
            };
            let ticket =
                db::tickets::of_conversation(&mut r, ws, conv.id).await?.into_iter().next();
            (msg, conv, last, settings, to, ticket)
        };
        let to = to.ok_or(Error::Conflict("the customer has no email address".into()))?;
        let smtp =
            settings.smtp_config().ok_or(Error::Conflict("no SMTP server configured".into()))?;
        if msg.visibility != Visibility::Public {
            return Err(Error::Conflict("internal notes are never sent".into()));
        }
        let base_subject = last
            .as_ref()
            .map(|l| l.subject.clone())
            .or_else(|| conv.subject.clone())
            .unwrap_or_else(|| "您的咨询 Your request".into());
        let rfc_id = mail::outbound::message_id_for(&msg.id.to_string(), &settings.address);
        let mut refs = last.as_ref().map(|l| l.refs.clone()).unwrap_or_default();
        let o = Outbound {
            from_address: settings.address.clone(),
            from_name: settings.display_name.clone(),
            to_address: to.clone(),
            to_name: None,
            subject: mail::thread::reply_subject(&base_subject, ticket.as_ref().map(|t| &t.number)),
            text: msg.body.clone(),
            message_id: rfc_id.clone(),
            in_reply_to: last.as_ref().map(|l| l.rfc_id.clone()),
            references: refs.clone(),
        };
        let (raw, envelope) = mail::outbound::build(&o).map_err(internal)?;
        mail::smtp::send(&smtp, &envelope, &raw).await.map_err(internal)?;
        refs.push(rfc_id.clone());
        let start = refs.len().saturating_sub(mail::thread::MAX_PARENTS);
        let rec = db::email::Mail {
            workspace: ws,
            rfc_id,
            conversation: conv.id,
            message: Some(msg.id),
            outbound: true,
            refs: refs[start..].to_vec(),
            subject: o.subject.clone(),
            address: to,
            created_at: self.now(),
        };
        let mut tx = self.db.write(ws).await?;
        db::email::record(&mut tx, &rec).await?;
        if db::jobs::complete(&mut tx, c.id, worker, now).await? {
            self.commit(tx).await?;
        }
        Ok(())
    }
}

/// Whether a stored message should go out by email: a public staff or bot message on an email
/// conversation (the ingest path enqueues `SendEmail` for it in the same transaction).
pub(crate) fn goes_out_by_email(conv: &Conversation, m: &Message) -> bool {
    conv.channel == Channel::Email
        && m.visibility == Visibility::Public
        && matches!(m.sender, SenderKind::Agent | SenderKind::Bot)
}

pub(crate) fn send_job(m: &Message) -> Job {
    Job::SendEmail { message: m.id }
}

pub(crate) fn parse_stored(s: &str) -> Result<EmailSettings> {
    EmailSettings::from_json(s)
        .map_err(|e| Error::Internal(anyhow::anyhow!("stored email settings: {e}")))
}

fn mask(mut s: EmailSettings) -> EmailSettings {
    if let Some(i) = &mut s.imap {
        i.password = i.password.as_ref().map(|_| KEEP_SECRET.to_string());
    }
    if let Some(m) = &mut s.smtp {
        m.password = m.password.as_ref().map(|_| KEEP_SECRET.to_string());
    }
    s
}

fn internal(e: impl std::fmt::Display) -> Error {
    Error::Internal(anyhow::anyhow!("{e}"))
}
