//! [`WriteTx`]: the one way business state changes. It holds the workspace's head row locked
//! from the first statement to commit, so event sequence numbers, audit hashes and ticket
//! numbers are gapless and in commit order per workspace, on SQLite and PostgreSQL alike.

use std::ops::{Deref, DerefMut};

use anyhow::Context;
use domain::{
    Actor, Audience, Event, EventRecord, Job, JobId, Snapshot, Timestamp, Workspace, WorkspaceId,
    audit::{EntryText, GENESIS, chain_hash},
};
use sqlx::{Any, AnyConnection, Row, Transaction};

use crate::{Db, Result, codec, jobs};

#[derive(Debug)]
struct Heads {
    event_seq: i64,
    audit_seq: i64,
    audit_hash: String,
    ticket_seq: i64,
}

/// An open write transaction on one workspace. Dropping it without [`WriteTx::commit`] rolls
/// everything back.
#[derive(Debug)]
pub struct WriteTx {
    tx: Transaction<'static, Any>,
    workspace: WorkspaceId,
    heads: Heads,
    events: Vec<EventRecord>,
}

impl Db {
    /// Begins a write on `ws`, taking its head-row lock. Fails if the workspace does not exist.
    pub async fn write(&self, ws: WorkspaceId) -> Result<WriteTx> {
        let mut tx = self.write.begin().await.context("beginning a write transaction")?;
        // A no-op UPDATE takes the write lock on SQLite and the row lock on PostgreSQL.
        let row = sqlx::query(
            "UPDATE workspace_heads SET event_seq = event_seq WHERE workspace_id = $1
             RETURNING event_seq, audit_seq, audit_hash, ticket_seq",
        )
        .bind(ws.to_string())
        .fetch_optional(&mut *tx)
        .await
        .context("locking the workspace head")?
        .with_context(|| format!("workspace {ws} does not exist"))?;
        let heads = Heads {
            event_seq: row.try_get("event_seq")?,
            audit_seq: row.try_get("audit_seq")?,
            audit_hash: row.try_get("audit_hash")?,
            ticket_seq: row.try_get("ticket_seq")?,
        };
        Ok(WriteTx { tx, workspace: ws, heads, events: Vec::new() })
    }

    /// Inserts a new workspace and returns a write on it, so its seed data lands atomically.
    pub async fn create_workspace(&self, w: &Workspace) -> Result<WriteTx> {
        let mut tx = self.write.begin().await.context("beginning a write transaction")?;
        sqlx::query(
            "INSERT INTO workspaces (id, slug, name, ticket_prefix, public_key, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(w.id.to_string())
        .bind(&w.slug)
        .bind(&w.name)
        .bind(&w.ticket_prefix)
        .bind(&w.public_key)
        .bind(w.created_at.millis())
        .execute(&mut *tx)
        .await
        .context("inserting the workspace")?;
        sqlx::query(
            "INSERT INTO workspace_heads (workspace_id, event_seq, audit_seq, audit_hash, ticket_seq)
             VALUES ($1, 0, 0, $2, 0)",
        )
        .bind(w.id.to_string())
        .bind(GENESIS)
        .execute(&mut *tx)
        .await?;
        let heads =
            Heads { event_seq: 0, audit_seq: 0, audit_hash: GENESIS.to_string(), ticket_seq: 0 };
        Ok(WriteTx { tx, workspace: w.id, heads, events: Vec::new() })
    }
}

impl WriteTx {
    pub fn workspace(&self) -> WorkspaceId {
        self.workspace
    }

    /// The next human-readable ticket number of the workspace.
    pub fn next_ticket_number(&mut self) -> i64 {
        self.heads.ticket_seq += 1;
        self.heads.ticket_seq
    }

    /// Appends an event to the outbox.
    pub async fn emit(
        &mut self,
        at: Timestamp,
        actor: Actor,
        event: Event,
        audience: Audience,
    ) -> Result<()> {
        let seq = self.heads.event_seq + 1;
        sqlx::query(
            "INSERT INTO events (workspace_id, seq, at, actor, kind, payload, aud_customer, aud_team, aud_assignee, aud_internal)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(self.workspace.to_string())
        .bind(seq)
        .bind(at.millis())
        .bind(actor.to_string())
        .bind(event.name())
        .bind(codec::event_payload(&event))
        .bind(audience.customer.map(|c| c.to_string()))
        .bind(audience.team.map(|t| t.to_string()))
        .bind(audience.assignee.map(|u| u.to_string()))
        .bind(i64::from(audience.internal))
        .execute(&mut *self.tx)
        .await
        .context("writing an event to the outbox")?;
        self.heads.event_seq = seq;
        self.events.push(EventRecord {
            workspace: self.workspace,
            seq,
            at,
            actor,
            event,
            audience,
        });
        Ok(())
    }

    /// Appends a hash-chained audit entry: who did `action` to which object, and its state
    /// before and after (either may be absent for creation and deletion).
    #[allow(clippy::too_many_arguments)] // Each argument is a distinct column of the entry.
    pub async fn audit(
        &mut self,
        at: Timestamp,
        actor: Actor,
        action: &str,
        object_type: &str,
        object_id: &str,
        before: Option<&Snapshot>,
        after: Option<&Snapshot>,
    ) -> Result<()> {
        let seq = self.heads.audit_seq + 1;
        let before = before.map(codec::snapshot_to_json);
        let after = after.map(codec::snapshot_to_json);
        let actor = actor.to_string();
        let entry = EntryText {
            seq,
            at_ms: at.millis(),
            actor: &actor,
            action,
            object_type,
            object_id,
            before: before.as_deref(),
            after: after.as_deref(),
        };
        let hash = chain_hash(&self.heads.audit_hash, &entry);
        sqlx::query(
            "INSERT INTO audit_log (workspace_id, seq, at, actor, action, object_type, object_id, before_state, after_state, prev_hash, hash)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(self.workspace.to_string())
        .bind(seq)
        .bind(at.millis())
        .bind(&actor)
        .bind(action)
        .bind(object_type)
        .bind(object_id)
        .bind(&before)
        .bind(&after)
        .bind(&self.heads.audit_hash)
        .bind(&hash)
        .execute(&mut *self.tx)
        .await
        .context("writing an audit entry")?;
        self.heads.audit_seq = seq;
        self.heads.audit_hash = hash;
        Ok(())
    }

    /// Enqueues a job to run at `run_at`, atomically with the rest of this transaction.
    pub async fn enqueue(
        &mut self,
        id: JobId,
        job: &Job,
        run_at: Timestamp,
        now: Timestamp,
    ) -> Result<()> {
        let ws = self.workspace;
        jobs::insert(&mut self.tx, ws, id, job, run_at, now).await
    }

    /// Commits, returning the events written so the caller can wake realtime consumers.
    pub async fn commit(mut self) -> Result<Vec<EventRecord>> {
        sqlx::query(
            "UPDATE workspace_heads SET event_seq = $2, audit_seq = $3, audit_hash = $4, ticket_seq = $5
             WHERE workspace_id = $1",
        )
        .bind(self.workspace.to_string())
        .bind(self.heads.event_seq)
        .bind(self.heads.audit_seq)
        .bind(&self.heads.audit_hash)
        .bind(self.heads.ticket_seq)
        .execute(&mut *self.tx)
        .await
        .context("saving the workspace head")?;
        self.tx.commit().await.context("committing")?;
        Ok(self.events)
    }
}

impl Deref for WriteTx {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        &self.tx
    }
}

impl DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }
}
