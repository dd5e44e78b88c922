//! Wake-ups between server processes sharing one PostgreSQL (LISTEN/NOTIFY).
//!
//! A write transaction that appends events or enqueues jobs sends a notification inside the
//! transaction ([`notify_statements`]); PostgreSQL delivers it only if, and when, the
//! transaction commits. Every process listens ([`Listener`]) and wakes its realtime dispatcher
//! or job worker. The notification carries no data: the outbox and the job table stay the
//! source of truth, so a lost notification delays a wake-up, never loses an event. SQLite is
//! one process, so it has no listener.

use anyhow::Context;
use domain::WorkspaceId;
use sqlx::postgres::PgListener;

use crate::{Db, Result};

/// Channel for "events were committed in workspace <payload>".
pub const EVENTS: &str = "huiting_events";
/// Channel for "jobs were enqueued".
pub const JOBS: &str = "huiting_jobs";

/// What another process (or this one) told us.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wake {
    /// New events in this workspace's outbox.
    Events(WorkspaceId),
    /// New jobs in the job table.
    Jobs,
    /// The listening connection was lost and re-established: notifications sent meanwhile
    /// are gone, so the caller should re-check everything it watches.
    Reconnected,
}

/// A dedicated PostgreSQL connection listening on [`EVENTS`] and [`JOBS`].
#[derive(Debug)]
pub struct Listener(PgListener);

impl Db {
    /// Starts listening for other processes' commits. `None` on SQLite (one process).
    pub async fn listen(&self) -> Result<Option<Listener>> {
        let Some(url) = self.url.as_deref() else { return Ok(None) };
        let mut l = PgListener::connect(url)
            .await
            .with_context(|| format!("listening on PostgreSQL at {:?}", crate::redact(url)))?;
        l.listen_all([EVENTS, JOBS]).await.context("LISTEN huiting_events, huiting_jobs")?;
        Ok(Some(Listener(l)))
    }
}

impl Listener {
    /// The next wake-up. Reconnects by itself after a lost connection (reporting
    /// [`Wake::Reconnected`]); an error means the server refused the reconnection, and the
    /// caller should wait and call again.
    pub async fn recv(&mut self) -> Result<Wake> {
        loop {
            match self.0.try_recv().await.context("waiting for PostgreSQL notifications")? {
                None => return Ok(Wake::Reconnected),
                Some(n) => match n.channel() {
                    EVENTS => match WorkspaceId::parse(n.payload()) {
                        Ok(ws) => return Ok(Wake::Events(ws)),
                        Err(_) => tracing::warn!(
                            payload = n.payload(),
                            "ignoring a malformed event notification"
                        ),
                    },
                    JOBS => return Ok(Wake::Jobs),
                    _ => {}
                },
            }
        }
    }
}

/// The statement a committing PostgreSQL transaction runs to tell the other processes, with
/// the workspace id as `$1`; `None` when there is nothing to tell.
pub(crate) fn notify_sql(events: bool, jobs: bool) -> Option<String> {
    let calls: Vec<String> = [(events, EVENTS), (jobs, JOBS)]
        .into_iter()
        .filter(|(on, _)| *on)
        .map(|(_, channel)| format!("pg_notify('{channel}', $1)"))
        .collect();
    (!calls.is_empty()).then(|| format!("SELECT {}", calls.join(", ")))
}
