//! Personal data (PL-4, PIPL arts. 45/47, GDPR arts. 15/17/20): the export of everything
//! stored about one customer, its irreversible erasure, and the retention policy that
//! anonymises closed cases after a period. Erasure and retention share one anonymiser
//! (`db::personal_data::anonymise_conversations`). An erasure is one `WriteTx`: the texts,
//! the identities and the uploaded files' bytes (stored in the database) go together or not
//! at all, with its audit entry, which records counts and the reason, never the erased values.

use db::personal_data::{self as pd, Counts};
use domain::{
    Actor, Audience, AuditValue, Conversation, ConversationId, Customer, CustomerId, Event, JobId,
    Message, ParseError, Snapshot, Ticket, Timestamp,
    feedback::{FeedbackItem, Survey},
};

use crate::{App, Error, Result, auth::DataOfficer, error::OrNotFound};

/// Closed cases are kept three years unless the workspace sets another period.
pub const DEFAULT_RETENTION_DAYS: i64 = 1095;
pub const MIN_RETENTION_DAYS: i64 = 30;
pub const MAX_RETENTION_DAYS: i64 = 36_500;
/// Conversations anonymised per retention transaction.
pub const RETENTION_BATCH: i64 = 200;
const DAY_MS: i64 = 86_400_000;

/// One conversation with its public messages and uploaded images.
#[derive(Debug, Clone)]
pub struct ConversationExport {
    pub conversation: Conversation,
    /// Public messages only: internal notes are staff work product about the case, not the
    /// customer's data, and may concern third parties (GDPR art. 15(4)).
    pub messages: Vec<Message>,
    pub files: Vec<db::chat_files::ChatFile>,
}

/// Everything stored about one customer (and the customers merged into it).
#[derive(Debug, Clone)]
pub struct Export {
    pub customer: Customer,
    pub merged: Vec<Customer>,
    pub erased_at: Option<Timestamp>,
    pub conversations: Vec<ConversationExport>,
    pub tickets: Vec<Ticket>,
    pub feedback: Vec<FeedbackItem>,
    pub surveys: Vec<Survey>,
    /// The proactive-message opt-out: its source and time.
    pub opt_out: Option<(String, Timestamp)>,
    pub exported_at: Timestamp,
}

/// The outcome of an erasure request.
#[derive(Debug, Clone)]
pub struct Erasure {
    pub customer: CustomerId,
    pub erased_at: Timestamp,
    /// The customer had already been erased: nothing changed, nothing was recorded.
    pub already: bool,
    pub counts: Counts,
}

fn counts_snapshot(s: Snapshot, n: &Counts) -> Snapshot {
    let i = |v: u64| AuditValue::Int(v as i64);
    s.with("customers", i(n.customers))
        .with("identities", i(n.identities))
        .with("conversations", i(n.conversations))
        .with("messages", i(n.messages))
        .with("tickets", i(n.tickets))
        .with("files", i(n.files))
        .with("feedback", i(n.feedback))
        .with("surveys", i(n.surveys))
}

fn add(a: Counts, b: Counts) -> Counts {
    Counts {
        customers: a.customers + b.customers,
        identities: a.identities + b.identities,
        conversations: a.conversations + b.conversations,
        messages: a.messages + b.messages,
        tickets: a.tickets + b.tickets,
        files: a.files + b.files,
        feedback: a.feedback + b.feedback,
        surveys: a.surveys + b.surveys,
    }
}

/// A retention period in days, within its bounds.
pub fn parse_retention_days(days: i64) -> Result<i64> {
    if (MIN_RETENTION_DAYS..=MAX_RETENTION_DAYS).contains(&days) {
        Ok(days)
    } else {
        Err(ParseError::new(
            "retention_days",
            format!("between {MIN_RETENTION_DAYS} and {MAX_RETENTION_DAYS} days (default {DEFAULT_RETENTION_DAYS}, three years)"),
        )
        .into())
    }
}

impl App {
    /// The customer holding an identity (a phone number, an email address, a channel id).
    pub async fn customer_by_identity(
        &self,
        d: &DataOfficer,
        i: &domain::Identity,
    ) -> Result<CustomerId> {
        let mut c = self.db.read().await?;
        db::customers::find_by_identity(&mut c, d.workspace, i).await?.or_not_found("customer")
    }

    /// Everything stored about a customer, as one document (PIPL art. 45, GDPR arts. 15/20).
    /// Read inside a write so the export and its audit entry see the same state.
    pub async fn export_personal_data(&self, d: &DataOfficer, id: CustomerId) -> Result<Export> {
        let now = self.now();
        let ws = d.workspace;
        let mut tx = self.db.write(ws).await?;
        let customer = db::customers::get(&mut tx, ws, id).await?.or_not_found("customer")?;
        if let Some(into) = customer.merged_into {
            return Err(Error::Conflict(format!(
                "this customer was merged into {into}; export that one"
            )));
        }
        let family = pd::customer_family(&mut tx, ws, id).await?;
        let mut merged = Vec::new();
        for m in family.iter().filter(|m| **m != id) {
            merged.extend(db::customers::get(&mut tx, ws, *m).await?);
        }
        let mut conversations = Vec::new();
        for conv in pd::conversations_of(&mut tx, ws, &family).await? {
            let messages = pd::messages_of(&mut tx, ws, conv.id, true).await?;
            let files = pd::chat_files_of(&mut tx, ws, &[conv.id]).await?;
            conversations.push(ConversationExport { conversation: conv, messages, files });
        }
        let export = Export {
            erased_at: pd::erased_at(&mut tx, ws, id).await?,
            tickets: pd::tickets_of(&mut tx, ws, &family).await?,
            feedback: pd::feedback_of(&mut tx, ws, &family).await?,
            surveys: pd::surveys_of(&mut tx, ws, &family).await?,
            opt_out: db::proactive::opt_out(&mut tx, ws, id).await?,
            customer,
            merged,
            conversations,
            exported_at: now,
        };
        let snap = Snapshot::default()
            .with("conversations", AuditValue::Int(export.conversations.len() as i64))
            .with("tickets", AuditValue::Int(export.tickets.len() as i64));
        tx.audit(now, d.actor, "customer.export", "customer", &id.to_string(), None, Some(&snap))
            .await?;
        self.commit(tx).await?;
        Ok(export)
    }

    /// Erases a customer irreversibly (PIPL art. 47, GDPR art. 17), in one transaction: the
    /// name becomes a pseudonym, identities and tokens are deleted, every text they wrote or
    /// that was written in their conversations is replaced by a marker, uploaded files are
    /// deleted; ids, timestamps, scores, problem codes and SLA records stay, so analytics do
    /// not change. A customer with a ticket still being worked is refused unless `force`.
    /// Erasing an erased customer changes nothing.
    pub async fn erase_customer(
        &self,
        d: &DataOfficer,
        id: CustomerId,
        reason: &str,
        force: bool,
    ) -> Result<Erasure> {
        let reason = reason.trim();
        if reason.is_empty() || reason.chars().count() > 500 {
            return Err(ParseError::new(
                "reason",
                "why the customer is erased (a request's reference), 1 to 500 characters; no personal data",
            )
            .into());
        }
        let now = self.now();
        let ws = d.workspace;
        let mut tx = self.db.write(ws).await?;
        let customer = db::customers::get(&mut tx, ws, id).await?.or_not_found("customer")?;
        if let Some(at) = pd::erased_at(&mut tx, ws, id).await? {
            return Ok(Erasure {
                customer: id,
                erased_at: at,
                already: true,
                counts: Counts::default(),
            });
        }
        if let Some(into) = customer.merged_into {
            return Err(Error::Conflict(format!(
                "this customer was merged into {into}; erase that one (it covers both)"
            )));
        }
        let family = pd::customer_family(&mut tx, ws, id).await?;
        if !force && pd::has_open_cases(&mut tx, ws, &family).await? {
            return Err(Error::OpenCases(
                "the customer has tickets still being worked; solve them first, or pass force=true to erase anyway"
                    .into(),
            ));
        }
        let convs: Vec<ConversationId> =
            pd::conversations_of(&mut tx, ws, &family).await?.iter().map(|c| c.id).collect();
        let counts = add(
            pd::erase_customers(&mut tx, ws, &family, now).await?,
            pd::anonymise_conversations(&mut tx, ws, &convs, now).await?,
        );
        let snap = counts_snapshot(
            Snapshot::default()
                .with("reason", reason)
                .with("force", AuditValue::Int(i64::from(force))),
            &counts,
        );
        tx.audit(now, d.actor, "customer.erase", "customer", &id.to_string(), None, Some(&snap))
            .await?;
        tx.emit(now, d.actor, Event::CustomerUpdated { customer: id }, Audience::staff_only())
            .await?;
        self.commit(tx).await?;
        for m in &family {
            self.visitors.forget_customer(*m);
        }
        Ok(Erasure { customer: id, erased_at: now, already: false, counts })
    }

    /// The workspace's retention period for closed cases, in days.
    pub async fn retention_days(&self, d: &DataOfficer) -> Result<i64> {
        let mut c = self.db.read().await?;
        Ok(pd::retention_days(&mut c, d.workspace).await?.unwrap_or(DEFAULT_RETENTION_DAYS))
    }

    /// Sets the retention period and makes sure the daily retention job is scheduled.
    pub async fn set_retention_days(&self, d: &DataOfficer, days: i64) -> Result<i64> {
        let days = parse_retention_days(days)?;
        let now = self.now();
        let mut tx = self.db.write(d.workspace).await?;
        let before = pd::retention_days(&mut tx, d.workspace).await?;
        pd::put_retention_days(&mut tx, d.workspace, days, now).await?;
        tx.audit(
            now,
            d.actor,
            "privacy.settings",
            "workspace",
            &d.workspace.to_string(),
            Some(
                &Snapshot::default().with(
                    "retention_days",
                    AuditValue::Int(before.unwrap_or(DEFAULT_RETENTION_DAYS)),
                ),
            ),
            Some(&Snapshot::default().with("retention_days", AuditValue::Int(days))),
        )
        .await?;
        self.schedule_retention(&mut tx, now).await?;
        self.commit(tx).await?;
        Ok(days)
    }

    /// Enqueues the retention job now unless one is pending.
    async fn schedule_retention(&self, tx: &mut db::WriteTx, now: Timestamp) -> Result<bool> {
        let ws = tx.workspace();
        if db::jobs::pending(tx, ws, domain::Job::ApplyRetention.name()).await? {
            return Ok(false);
        }
        tx.enqueue(self.ids.next(now, JobId::new), &domain::Job::ApplyRetention, now, now).await?;
        Ok(true)
    }

    /// Makes sure every workspace has its retention job (run by `huiting serve` at start), so
    /// the default period applies without anyone saving the setting. Returns how many were
    /// scheduled.
    pub async fn ensure_retention_jobs(&self) -> Result<usize> {
        let mut c = self.db.read().await?;
        let all = db::workspaces::all(&mut c).await?;
        drop(c);
        let mut n = 0;
        for ws in all {
            let now = self.now();
            let mut tx = self.db.write(ws.id).await?;
            if self.schedule_retention(&mut tx, now).await? {
                n += 1;
                self.commit(tx).await?;
            }
        }
        Ok(n)
    }

    /// The `ApplyRetention` job: anonymise one batch of conversations whose cases closed
    /// before the retention period, in this (the job's) transaction, audited with its counts;
    /// then the next batch at once if the batch was full, else the next daily run.
    pub(crate) async fn apply_retention_job(
        &self,
        tx: &mut db::WriteTx,
        now: Timestamp,
    ) -> Result<()> {
        let ws = tx.workspace();
        let days = pd::retention_days(tx, ws).await?.unwrap_or(DEFAULT_RETENTION_DAYS);
        let cutoff = now.plus_millis(-days * DAY_MS);
        let convs = pd::expired_conversations(tx, ws, cutoff, RETENTION_BATCH).await?;
        let counts = pd::anonymise_conversations(tx, ws, &convs, now).await?;
        let snap = counts_snapshot(
            Snapshot::default()
                .with("retention_days", AuditValue::Int(days))
                .with("cutoff", AuditValue::Int(cutoff.millis())),
            &counts,
        );
        tx.audit(
            now,
            Actor::System,
            "retention.apply",
            "workspace",
            &ws.to_string(),
            None,
            Some(&snap),
        )
        .await?;
        let next =
            if convs.len() as i64 >= RETENTION_BATCH { now } else { now.plus_millis(DAY_MS) };
        tx.enqueue(self.ids.next(now, JobId::new), &domain::Job::ApplyRetention, next, now).await?;
        Ok(())
    }
}
