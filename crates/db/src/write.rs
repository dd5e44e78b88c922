//! [`WriteTx`]: the one way business state changes. It holds the workspace's head row locked
//! from the first statement to commit, so event sequence numbers, audit hashes and ticket
//! numbers are gapless and in commit order per workspace, on SQLite and PostgreSQL alike.

use std::ops::{Deref, DerefMut};

use anyhow::Context;
use domain::{
    Actor, Audience, Event, EventRecord, Job, JobId, Snapshot, Timestamp, Workspace, WorkspaceId,
    audit::{EntryText, GENESIS, chain_hash},
};
use sqlx::{Any, AnyConnection, Row, Transaction, any::AnyRow};

use crate::{Binds, Db, Result, codec, jobs};

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
    /// Writes whose results nobody reads, run at commit before the events and audit entries.
    deferred: Vec<Deferred>,
    events: Vec<EventRecord>,
    /// Audit rows and events are buffered and written as multi-row INSERTs at commit: one
    /// round trip each per transaction instead of one per entry.
    audits: Vec<AuditRow>,
    dialect: crate::Dialect,
    /// Whether a job was enqueued, so the caller can wake the worker after commit.
    enqueued: bool,
}

/// A statement built at commit: it takes its bind values from the [`Binds`] it is given and
/// returns its SQL.
pub(crate) struct Deferred(Box<dyn FnOnce(&mut Binds) -> String + Send>);

impl std::fmt::Debug for Deferred {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Deferred")
    }
}

/// A read run together with the head lock: it takes its bind values from the [`Binds`] it is
/// given and returns its SQL, whose first column is a `row_kind` literal other than `'head'`.
pub(crate) type LockedRead<'a> = &'a (dyn Fn(&mut Binds) -> String + Sync);

#[derive(Debug, Clone)]
struct AuditRow {
    seq: i64,
    at: i64,
    actor: String,
    action: String,
    object_type: String,
    object_id: String,
    before: Option<String>,
    after: Option<String>,
    prev: String,
    hash: String,
}

/// Rows per multi-row INSERT, well under both dialects' bind-parameter limits.
const CHUNK: usize = 200;

impl Db {
    /// Begins a write on `ws`, taking its head-row lock. Fails if the workspace does not exist.
    pub async fn write(&self, ws: WorkspaceId) -> Result<WriteTx> {
        Ok(self.write_reading(ws, &[]).await?.0)
    }

    /// Begins a write on `ws` and, once its head row is locked, runs `reads` in the same
    /// transaction, returning their rows in order (tell them apart by `row_kind`). On SQLite
    /// the lock and the reads go in one call to the driver's worker thread.
    pub(crate) async fn write_reading(
        &self,
        ws: WorkspaceId,
        reads: &[LockedRead<'_>],
    ) -> Result<(WriteTx, Vec<AnyRow>)> {
        let mut tx = self.write.begin().await.context("beginning a write transaction")?;
        // A no-op UPDATE takes the write lock on SQLite and the row lock on PostgreSQL.
        let lock = |b: &mut Binds| {
            format!(
                "UPDATE workspace_heads SET event_seq = event_seq WHERE workspace_id = {}
                 RETURNING 'head' AS row_kind, event_seq, audit_seq, audit_hash, ticket_seq",
                b.text(ws.to_string())
            )
        };
        let mut rows = Vec::new();
        match self.dialect {
            crate::Dialect::Sqlite => {
                let mut b = Binds::default();
                let mut stmts = vec![lock(&mut b)];
                stmts.extend(reads.iter().map(|r| r(&mut b)));
                rows = b
                    .query_in(self.dialect, stmts.join(";\n"))
                    .fetch_all(&mut *tx)
                    .await
                    .context("locking the workspace head")?;
            }
            crate::Dialect::Postgres => {
                let lock: LockedRead<'_> = &lock;
                for (i, r) in std::iter::once(&lock).chain(reads).enumerate() {
                    let mut b = Binds::default();
                    let sql = r(&mut b);
                    rows.extend(b.query(sql).fetch_all(&mut *tx).await.context(if i == 0 {
                        "locking the workspace head"
                    } else {
                        "reading under the workspace lock"
                    })?);
                    if i == 0 && rows.is_empty() {
                        break;
                    }
                }
            }
        }
        let is_head = |r: &AnyRow| crate::text(r, "row_kind").is_ok_and(|k| k == "head");
        if !rows.first().is_some_and(is_head) {
            anyhow::bail!("workspace {ws} does not exist");
        }
        let row = rows.remove(0);
        let heads = Heads {
            event_seq: row.try_get("event_seq")?,
            audit_seq: row.try_get("audit_seq")?,
            audit_hash: row.try_get("audit_hash")?,
            ticket_seq: row.try_get("ticket_seq")?,
        };
        let w = WriteTx {
            tx,
            workspace: ws,
            heads,
            deferred: Vec::new(),
            events: Vec::new(),
            audits: Vec::new(),
            dialect: self.dialect,
            enqueued: false,
        };
        Ok((w, rows))
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
        Ok(WriteTx {
            tx,
            workspace: w.id,
            heads,
            deferred: Vec::new(),
            events: Vec::new(),
            audits: Vec::new(),
            dialect: self.dialect,
            enqueued: false,
        })
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

    /// Runs a write whose result nobody reads at commit, before the events and audit entries,
    /// so it costs no round trip of its own on SQLite.
    pub(crate) fn defer(&mut self, f: impl FnOnce(&mut Binds) -> String + Send + 'static) {
        self.deferred.push(Deferred(Box::new(f)));
    }

    /// Appends an event to the outbox (written at commit, in order).
    pub async fn emit(
        &mut self,
        at: Timestamp,
        actor: Actor,
        event: Event,
        audience: Audience,
    ) -> Result<()> {
        let seq = self.heads.event_seq + 1;
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
        self.audits.push(AuditRow {
            seq,
            at: at.millis(),
            actor: actor.clone(),
            action: action.to_string(),
            object_type: object_type.to_string(),
            object_id: object_id.to_string(),
            before: before.clone(),
            after: after.clone(),
            prev: std::mem::replace(&mut self.heads.audit_hash, hash.clone()),
            hash,
        });
        self.heads.audit_seq = seq;
        Ok(())
    }

    /// The statements that write the buffered events and audit entries and save the head, each
    /// with its placeholders numbered from `b` onwards.
    fn closing_statements(
        &self,
        b: &mut crate::Binds,
        events: &[EventRecord],
        audits: &[AuditRow],
    ) -> Vec<String> {
        let ws = self.workspace.to_string();
        let mut out = Vec::new();
        if !events.is_empty() {
            let rows: Vec<String> = events
                .iter()
                .map(|e| {
                    let vals = [
                        b.text(ws.clone()),
                        b.int(e.seq),
                        b.int(e.at.millis()),
                        b.text(e.actor.to_string()),
                        b.text(e.event.name()),
                        b.text(codec::event_payload(&e.event)),
                        b.opt_text(e.audience.customer.map(|c| c.to_string())),
                        b.opt_text(e.audience.team.map(|t| t.to_string())),
                        b.opt_text(e.audience.assignee.map(|u| u.to_string())),
                        b.int(i64::from(e.audience.internal)),
                    ];
                    format!("({})", vals.join(", "))
                })
                .collect();
            out.push(format!(
                "INSERT INTO events (workspace_id, seq, at, actor, kind, payload, aud_customer, aud_team, aud_assignee, aud_internal) VALUES {}",
                rows.join(", ")
            ));
        }
        if !audits.is_empty() {
            let rows: Vec<String> = audits
                .iter()
                .map(|a| {
                    let vals = [
                        b.text(ws.clone()),
                        b.int(a.seq),
                        b.int(a.at),
                        b.text(a.actor.clone()),
                        b.text(a.action.clone()),
                        b.text(a.object_type.clone()),
                        b.text(a.object_id.clone()),
                        b.opt_text(a.before.clone()),
                        b.opt_text(a.after.clone()),
                        b.text(a.prev.clone()),
                        b.text(a.hash.clone()),
                    ];
                    format!("({})", vals.join(", "))
                })
                .collect();
            out.push(format!(
                "INSERT INTO audit_log (workspace_id, seq, at, actor, action, object_type, object_id, before_state, after_state, prev_hash, hash) VALUES {}",
                rows.join(", ")
            ));
        }
        out
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
        self.enqueued = true;
        jobs::insert(&mut self.tx, ws, id, job, run_at, now).await
    }

    /// Enqueues many jobs with multi-row INSERTs.
    pub async fn enqueue_many(
        &mut self,
        jobs: &[(JobId, Job, Timestamp)],
        now: Timestamp,
    ) -> Result<()> {
        let ws = self.workspace;
        self.enqueued |= !jobs.is_empty();
        for chunk in jobs.chunks(CHUNK) {
            jobs::insert_many(&mut self.tx, ws, chunk, now).await?;
        }
        Ok(())
    }

    /// Whether this transaction enqueued a job.
    pub fn enqueued(&self) -> bool {
        self.enqueued
    }

    /// Commits, returning the events written so the caller can wake realtime consumers.
    ///
    /// The deferred writes and the buffered events and audit entries (as multi-row INSERTs) are
    /// written together with the head update. SQLite takes them in one call (its driver runs a multi-statement query in
    /// one round trip); PostgreSQL prepares one statement at a time.
    pub async fn commit(mut self) -> Result<Vec<EventRecord>> {
        let events = std::mem::take(&mut self.events);
        let audits = std::mem::take(&mut self.audits);
        let mut groups: Vec<(Vec<EventRecord>, Vec<AuditRow>)> = Vec::new();
        // Chunks keep every statement well under the bind-parameter limits.
        let (mut ev, mut au) = (events.chunks(CHUNK).peekable(), audits.chunks(CHUNK).peekable());
        while ev.peek().is_some() || au.peek().is_some() {
            groups.push((
                ev.next().unwrap_or_default().to_vec(),
                au.next().unwrap_or_default().to_vec(),
            ));
        }
        let head = |b: &mut crate::Binds, h: &Heads, ws: String| {
            let (w, e, a, ah, t) = (
                b.text(ws),
                b.int(h.event_seq),
                b.int(h.audit_seq),
                b.text(h.audit_hash.clone()),
                b.int(h.ticket_seq),
            );
            format!(
                "UPDATE workspace_heads SET event_seq = {e}, audit_seq = {a}, audit_hash = {ah}, ticket_seq = {t} WHERE workspace_id = {w}"
            )
        };
        let ws = self.workspace.to_string();
        let deferred = std::mem::take(&mut self.deferred);
        match self.dialect {
            crate::Dialect::Sqlite if groups.len() <= 1 => {
                let mut b = crate::Binds::default();
                let (e, a) = groups.pop().unwrap_or_default();
                let mut stmts: Vec<String> = deferred.into_iter().map(|d| (d.0)(&mut b)).collect();
                stmts.extend(self.closing_statements(&mut b, &e, &a));
                stmts.push(head(&mut b, &self.heads, ws));
                b.query_in(self.dialect, stmts.join(";\n"))
                    .execute(&mut *self.tx)
                    .await
                    .context("writing events, audit entries and the head")?;
            }
            _ => {
                for d in deferred {
                    let mut b = crate::Binds::default();
                    let sql = (d.0)(&mut b);
                    b.query_in(self.dialect, sql)
                        .execute(&mut *self.tx)
                        .await
                        .context("writing")?;
                }
                for (e, a) in &groups {
                    for (ev, au) in [(&e[..], &[][..]), (&[][..], &a[..])] {
                        let mut b = crate::Binds::default();
                        if let Some(sql) = self.closing_statements(&mut b, ev, au).pop() {
                            b.query_in(self.dialect, sql)
                                .execute(&mut *self.tx)
                                .await
                                .context("writing events and audit entries")?;
                        }
                    }
                }
                let mut b = crate::Binds::default();
                let sql = head(&mut b, &self.heads, ws.clone());
                b.query(sql).execute(&mut *self.tx).await.context("saving the workspace head")?;
                // Delivered to every listening process only if this commits (crate::cluster).
                // This arm also takes SQLite's commits of more than one chunk, and SQLite has
                // no other process to tell.
                let notify = crate::cluster::notify_sql(!events.is_empty(), self.enqueued)
                    .filter(|_| self.dialect == crate::Dialect::Postgres);
                if let Some(sql) = notify {
                    sqlx::query(sqlx::AssertSqlSafe(sql))
                        .bind(ws)
                        .execute(&mut *self.tx)
                        .await
                        .context("notifying the other servers")?;
                }
            }
        }
        self.tx.commit().await.context("committing")?;
        Ok(events)
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
