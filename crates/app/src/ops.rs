//! Operations: the figures `/metrics` exposes that only the database knows, and the
//! process's stopping state (graceful shutdown: the worker stops claiming jobs, realtime
//! sockets close with "service restart" so clients reconnect elsewhere).

use domain::Timestamp;

use crate::{App, Result};

/// What the database and the hub say at one moment.
#[derive(Debug, Clone)]
pub struct OpsSnapshot {
    pub at: Timestamp,
    pub job_queues: Vec<db::ops::JobQueue>,
    pub workspaces: Vec<db::ops::WorkspaceTotals>,
    /// Live realtime subscriptions (WebSockets) in this process.
    pub realtime_subscribers: usize,
}

impl App {
    /// Reads the operational figures (no capability: `/metrics` guards itself by token or
    /// loopback, and the figures carry no personal data).
    pub async fn ops_snapshot(&self) -> Result<OpsSnapshot> {
        let at = self.now();
        let mut c = self.db.read().await?;
        let job_queues = db::ops::job_queues(&mut c, at).await?;
        let workspaces = db::ops::workspace_totals(&mut c).await?;
        drop(c);
        Ok(OpsSnapshot { at, job_queues, workspaces, realtime_subscribers: self.hub.subscribers() })
    }

    /// Starts a graceful shutdown: the worker finishes its current job and stops claiming,
    /// realtime sockets close. Idempotent.
    pub fn begin_shutdown(&self) {
        self.stop.send_replace(true);
    }

    pub fn is_stopping(&self) -> bool {
        *self.stop.borrow()
    }

    /// Resolves once [`App::begin_shutdown`] was called.
    pub async fn stopping(&self) {
        let mut rx = self.stop.subscribe();
        let _ = rx.wait_for(|stop| *stop).await;
    }
}
