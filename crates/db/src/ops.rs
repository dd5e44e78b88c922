//! Operational figures for `/metrics`, read at scrape time: the job queue by kind, SLA
//! breaches and bot hand-offs per workspace, and the migration state of a database file for
//! `huiting backup` / `restore`. Aggregates over whole tables; meant for a scrape every
//! 15–60 s, not for every request.

use domain::Timestamp;
use sqlx::AnyConnection;

use crate::{Result, int, text};

/// Pending jobs of one kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobQueue {
    pub kind: String,
    /// Pending jobs, including timers due later.
    pub pending: i64,
    /// Pending jobs due now or earlier.
    pub due: i64,
    /// The oldest due job's `run_at`, if any is due.
    pub oldest_due: Option<Timestamp>,
}

/// Per-workspace totals since the workspace began.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkspaceTotals {
    pub slug: String,
    /// SLA events of kind `breached`.
    pub sla_breaches: i64,
    /// Conversations the bot took part in.
    pub bot_conversations: i64,
    /// Of those, conversations handed to a human or turned into a left message.
    pub bot_handed_off: i64,
}

pub async fn job_queues(c: &mut AnyConnection, now: Timestamp) -> Result<Vec<JobQueue>> {
    let rows = sqlx::query(
        "SELECT kind, COUNT(*) AS pending,
                COALESCE(SUM(CASE WHEN run_at <= $1 THEN 1 ELSE 0 END), 0) AS due,
                COALESCE(MIN(CASE WHEN run_at <= $1 THEN run_at END), -1) AS oldest_due
         FROM jobs WHERE state = 'pending' GROUP BY kind ORDER BY kind",
    )
    .bind(now.millis())
    .fetch_all(&mut *c)
    .await?;
    rows.iter()
        .map(|r| {
            let oldest = int(r, "oldest_due")?;
            Ok(JobQueue {
                kind: text(r, "kind")?,
                pending: int(r, "pending")?,
                due: int(r, "due")?,
                oldest_due: (oldest >= 0).then(|| Timestamp::from_millis(oldest)),
            })
        })
        .collect()
}

pub async fn workspace_totals(c: &mut AnyConnection) -> Result<Vec<WorkspaceTotals>> {
    let rows = sqlx::query(
        "SELECT w.slug AS slug,
            (SELECT COUNT(*) FROM sla_events e
              WHERE e.workspace_id = w.id AND e.kind = 'breached') AS sla_breaches,
            (SELECT COUNT(DISTINCT o.conversation_id) FROM bot_outcomes o
              WHERE o.workspace_id = w.id) AS bot_conversations,
            (SELECT COUNT(DISTINCT o.conversation_id) FROM bot_outcomes o
              WHERE o.workspace_id = w.id AND o.kind IN ('handoff', 'message_taken')) AS bot_handed_off
         FROM workspaces w ORDER BY w.slug",
    )
    .fetch_all(&mut *c)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(WorkspaceTotals {
                slug: text(r, "slug")?,
                sla_breaches: int(r, "sla_breaches")?,
                bot_conversations: int(r, "bot_conversations")?,
                bot_handed_off: int(r, "bot_handed_off")?,
            })
        })
        .collect()
}
