//! Several server processes on one PostgreSQL: each listens for the others' commits and wakes
//! its own realtime dispatchers and job worker (see `db::cluster`). Nothing else is shared in
//! memory between processes, so any process can serve any request and no sticky sessions are
//! needed: a WebSocket client that reconnects elsewhere resumes from its last sequence number
//! out of the outbox.

use std::time::Duration;

use db::cluster::Wake;

use crate::App;

impl App {
    /// Runs until the process stops; returns at once on SQLite (one process). A lost
    /// listening connection is re-established with backoff, and everything is re-checked
    /// after each (re)connection, since notifications sent meanwhile are gone.
    pub async fn run_cluster_listener(self) {
        let mut backoff = Duration::from_millis(200);
        loop {
            let mut listener = match self.db.listen().await {
                Ok(Some(l)) => l,
                Ok(None) => return,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot listen for other servers' commits; retrying");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                    continue;
                }
            };
            backoff = Duration::from_millis(200);
            self.wake_everything();
            loop {
                match listener.recv().await {
                    Ok(Wake::Events(ws)) => self.hub.wake(ws),
                    Ok(Wake::Jobs) => self.jobs_wake.notify_one(),
                    Ok(Wake::Reconnected) => self.wake_everything(),
                    Err(e) => {
                        tracing::warn!(error = %e, "lost the notification connection; reconnecting");
                        break;
                    }
                }
            }
            tokio::time::sleep(backoff).await;
        }
    }

    fn wake_everything(&self) {
        self.hub.wake_all();
        self.jobs_wake.notify_one();
    }
}
