//! The background worker: claims due jobs and runs each in a transaction that also marks it
//! done, so a job's effect happens exactly once even across crashes and several processes.

use std::time::Duration;

use domain::{Actor, Job, Status, Timestamp, ticket::transition};

use crate::{App, Result};

/// What one pass of the worker did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Ran this many jobs (successfully or not).
    Ran(usize),
    /// Nothing was due.
    Empty,
}

impl App {
    /// Runs every job due at `now`, once. Tests call this after stepping the clock.
    pub async fn run_jobs_once(&self, worker: &str, now: Timestamp) -> Result<Outcome> {
        let claimed = db::jobs::claim(&self.db, worker, now, 50).await?;
        if claimed.is_empty() {
            return Ok(Outcome::Empty);
        }
        let n = claimed.len();
        for c in claimed {
            if let Err(e) = self.run_job(worker, &c, now).await {
                tracing::warn!(job = c.job.name(), attempt = c.attempt, error = %e, "job failed; will retry");
                db::jobs::fail(&self.db, &c, &e.to_string(), now).await?;
            }
        }
        Ok(Outcome::Ran(n))
    }

    async fn run_job(&self, worker: &str, c: &db::jobs::Claimed, now: Timestamp) -> Result<()> {
        if let Job::TrainNluModel { model } = &c.job {
            // Trains outside any transaction, then writes and completes in one; the claim is
            // extended first so no other worker starts the same training meanwhile.
            if !db::jobs::extend_lease(
                &self.db,
                c.id,
                worker,
                now.plus_millis(c.job.lease_millis()),
            )
            .await?
            {
                return Ok(());
            }
            return self.train_nlu_model(worker, c, *model, now).await;
        }
        let mut tx = self.db.write(c.workspace).await?;
        match &c.job {
            Job::CloseSolvedTicket { ticket, solved_at } => {
                if let Some(t) = db::tickets::get(&mut tx, c.workspace, *ticket).await?
                    && t.status == Status::Solved
                    && t.solved_at == Some(*solved_at)
                {
                    let mut closed = t.clone();
                    transition(&mut closed, Status::Closed, now)?;
                    self.save_ticket_change(&mut tx, Actor::System, &t, &closed, now).await?;
                }
            }
            Job::TrainNluModel { .. } => {}
            Job::CompensationReportDue { compensation, due_at } => {
                self.compensation_report_due(&mut tx, *compensation, *due_at, now).await?;
            }
            Job::CollaborationDue { collaboration, due_at } => {
                self.collaboration_due(&mut tx, *collaboration, *due_at, now).await?;
            }
            Job::RunAutomations => self.run_automations(&mut tx, now).await?,
        }
        if db::jobs::complete(&mut tx, c.id, worker, now).await? {
            self.commit(tx).await
        } else {
            // Our lease ran out and another worker took the job: leave the effect to it.
            Ok(())
        }
    }

    /// Runs the worker until the process stops, polling every `interval`.
    pub async fn run_worker(self, worker: String, interval: Duration) {
        loop {
            match self.run_jobs_once(&worker, self.now()).await {
                Ok(Outcome::Ran(_)) => continue,
                Ok(Outcome::Empty) => {}
                Err(e) => tracing::warn!(error = %e, "job worker pass failed"),
            }
            tokio::time::sleep(interval).await;
        }
    }
}
