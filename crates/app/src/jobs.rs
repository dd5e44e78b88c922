//! The background worker: claims due jobs and runs each in a transaction that also marks it
//! done, so a job's effect happens exactly once even across crashes and several processes.
//! It sleeps until the next job is due (or one is enqueued), so timers fire on time.

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
        // Channels and event webhooks are fed from the outbox (issue 8).
        if let Err(e) = self.relay_outbox().await {
            tracing::warn!(error = %e, "relaying the outbox to channels failed");
        }
        let claimed = db::jobs::claim(&self.db, worker, now, 50).await?;
        if claimed.is_empty() {
            return Ok(Outcome::Empty);
        }
        let n = claimed.len();
        // Jobs that analyse text (classification, learning) need the language engine; building
        // it takes seconds the first time, which must not happen inside a write transaction
        // (on SQLite that would hold the one writer and stall every other write).
        if claimed
            .iter()
            .any(|c| matches!(c.job, Job::ClassifyMessages { .. } | Job::ClusterKbCandidates))
        {
            self.nlu_engine().await?;
        }
        // Short jobs of one workspace run in one transaction (one commit for many timers);
        // if any of them fails or lost its claim, the group rolls back and each runs alone.
        let mut groups: Vec<(domain::WorkspaceId, Vec<db::jobs::Claimed>)> = Vec::new();
        let mut alone = Vec::new();
        for c in claimed {
            if matches!(
                c.job,
                Job::TrainNluModel { .. }
                    | Job::ClusterKbCandidates
                    | Job::ClassifyMessages { .. }
                    | Job::DeliverWebhook { .. }
                    | Job::SendOutbound { .. }
                    | Job::SendEmail { .. }
                    | Job::DeliverReport { .. }
                    | Job::ApplyRetention
            ) {
                alone.push(c);
            } else if let Some((_, g)) = groups.iter_mut().find(|(w, _)| *w == c.workspace) {
                g.push(c);
            } else {
                groups.push((c.workspace, vec![c]));
            }
        }
        for (ws, group) in groups {
            if group.len() > 1 {
                match self.run_group(worker, ws, &group, now).await {
                    Ok(true) => continue,
                    Ok(false) => {}
                    Err(e) => {
                        tracing::debug!(error = %e, "job group failed; running its jobs one by one")
                    }
                }
            }
            alone.extend(group);
        }
        for (i, c) in alone.iter().enumerate() {
            if self.is_stopping() {
                // Shutting down: give the claims not started back so another process (or
                // this one after a restart) runs them without waiting for the lease.
                for c in &alone[i..] {
                    db::jobs::release(&self.db, c.id, worker, self.now()).await?;
                }
                break;
            }
            if let Err(e) = self.run_job(worker, c, now).await {
                tracing::warn!(job = c.job.name(), attempt = c.attempt, error = %e, "job failed; will retry");
                db::jobs::fail(&self.db, c, &e.to_string(), now).await?;
            }
        }
        Ok(Outcome::Ran(n))
    }

    /// Runs several jobs of one workspace and completes them in one transaction; false (and
    /// nothing written) if a claim was lost.
    async fn run_group(
        &self,
        worker: &str,
        ws: domain::WorkspaceId,
        group: &[db::jobs::Claimed],
        now: Timestamp,
    ) -> Result<bool> {
        let mut tx = self.db.write(ws).await?;
        for c in group {
            self.apply_job(&mut tx, worker, c, now).await?;
            if !db::jobs::complete(&mut tx, c.id, worker, now).await? {
                return Ok(false);
            }
        }
        self.commit(tx).await?;
        Ok(true)
    }

    async fn run_job(&self, worker: &str, c: &db::jobs::Claimed, now: Timestamp) -> Result<()> {
        // Long jobs (training, network calls) extend their claim first, so no other worker
        // starts the same work meanwhile; a claim already lost means another worker has it.
        if c.job.lease_millis() > domain::job::CLAIM_LEASE_MILLIS
            && !db::jobs::extend_lease(
                &self.db,
                c.id,
                worker,
                self.now().plus_millis(c.job.lease_millis()),
            )
            .await?
        {
            return Ok(());
        }
        if let Job::TrainNluModel { model } = &c.job {
            // Trains outside any transaction, then writes and completes in one.
            return self.train_nlu_model(worker, c, *model, now).await;
        }
        if let Job::ClusterKbCandidates = &c.job {
            // Reads and clusters outside any transaction, then writes and completes in one.
            return self.cluster_candidates_job(worker, c, now).await;
        }
        if let Job::ClassifyMessages { messages } = &c.job {
            // Reads and analyses outside any transaction, then writes and completes in one.
            return self.classify_messages_job(worker, c, messages, now).await;
        }
        if matches!(c.job, Job::DeliverWebhook { .. } | Job::SendOutbound { .. }) {
            return self.run_network_job(worker, c, now).await;
        }
        if let Job::SendEmail { message } = &c.job {
            // SMTP runs outside any transaction; sending and completing are one job step.
            return self.send_email_job(worker, c, *message, now).await;
        }
        if let Job::DeliverReport { report } = &c.job {
            // SMTP runs outside any transaction; each pass records every recipient's outcome.
            return self.deliver_report_job(worker, c, *report, now).await;
        }
        let mut tx = self.db.write(c.workspace).await?;
        self.apply_job(&mut tx, worker, c, now).await?;
        if db::jobs::complete(&mut tx, c.id, worker, now).await? {
            self.commit(tx).await
        } else {
            // Our lease ran out and another worker took the job: leave the effect to it.
            Ok(())
        }
    }

    /// A job's effect, inside the transaction that completes it.
    async fn apply_job(
        &self,
        tx: &mut db::WriteTx,
        worker: &str,
        c: &db::jobs::Claimed,
        now: Timestamp,
    ) -> Result<()> {
        match &c.job {
            Job::CloseSolvedTicket { ticket, solved_at } => {
                if let Some(t) = db::tickets::get(tx, c.workspace, *ticket).await?
                    && t.status == Status::Solved
                    && t.solved_at == Some(*solved_at)
                {
                    let mut closed = t.clone();
                    transition(&mut closed, Status::Closed, now)?;
                    self.save_ticket_change(tx, Actor::System, &t, &closed, now).await?;
                }
            }
            Job::SlaTimer { ticket, due } => {
                self.fire_sla_timer(tx, *ticket, *due, now).await?;
            }
            Job::TimerProbe { probe, due } => {
                // The firing time is read now, not at the claim: the lateness a probe reports
                // includes its wait behind earlier jobs of the same claim.
                let fired = self.now();
                db::sla::record_probe(tx, c.workspace, *probe, *due, fired, worker).await?;
            }
            Job::TrainNluModel { .. }
            | Job::ClusterKbCandidates
            | Job::SendEmail { .. }
            | Job::DeliverReport { .. } => {}
            Job::CompensationReportDue { compensation, due_at } => {
                self.compensation_report_due(tx, *compensation, *due_at, now).await?;
            }
            Job::CollaborationDue { collaboration, due_at } => {
                self.collaboration_due(tx, *collaboration, *due_at, now).await?;
            }
            Job::RunAutomations => self.run_automations(tx, now).await?,
            Job::BotNoPickup { conversation, handed_off_at } => {
                self.bot_no_pickup(tx, *conversation, *handed_off_at, now).await?;
            }
            Job::RouteOverflow { ticket, team } => {
                self.route_overflow(tx, *ticket, *team, now).await?;
            }
            // Network calls run outside transactions (`run_network_job`), and so does text
            // analysis (`classify_messages_job`).
            Job::DeliverWebhook { .. }
            | Job::SendOutbound { .. }
            | Job::ClassifyMessages { .. } => {}
            Job::EvaluateAlerts => self.evaluate_alerts_job(tx, now).await?,
            Job::EvaluateProactive => self.evaluate_proactive_job(tx, now).await?,
            Job::SendProactive { send } => self.send_proactive_job(tx, *send, now).await?,
            Job::AlertDue { alert, due_at } => self.alert_due(tx, *alert, *due_at, now).await?,
            Job::InspectQuality { since } => self.inspect_quality_job(tx, *since, now).await?,
            Job::RenderReport { schedule, due } => {
                self.render_report_job(tx, *schedule, *due, now).await?
            }
            Job::SurveySend { .. }
            | Job::SurveyRemind { .. }
            | Job::SurveyExpire { .. }
            | Job::SignalDeadline { .. }
            | Job::ComplaintAssignCheck { .. } => self.feedback_job(tx, &c.job, now).await?,
            Job::ApplyRetention => self.apply_retention_job(tx, now).await?,
            Job::IndexSimilarTicket { ticket } => {
                self.index_similar_ticket_job(tx, *ticket).await?
            }
        }
        Ok(())
    }

    /// Enqueues `TimerProbe` jobs (`huiting bench timers`), up to 1,000 per transaction.
    pub async fn enqueue_timer_probes(
        &self,
        ws: domain::WorkspaceId,
        probes: &[(i64, Timestamp)],
    ) -> Result<()> {
        for chunk in probes.chunks(1000) {
            let now = self.now();
            let mut tx = self.db.write(ws).await?;
            let jobs: Vec<(domain::JobId, Job, Timestamp)> = chunk
                .iter()
                .map(|(probe, due)| {
                    let id = self.ids.next(now, domain::JobId::new);
                    (id, Job::TimerProbe { probe: *probe, due: *due }, *due)
                })
                .collect();
            tx.enqueue_many(&jobs, now).await?;
            self.commit(tx).await?;
        }
        Ok(())
    }

    /// Runs the worker until [`App::begin_shutdown`]: the pass under way finishes its current
    /// job and gives back the claims it has not started, then the loop returns. Between passes it sleeps until the earliest
    /// pending job falls due, or until a commit in this process enqueues one, but at most
    /// `max_idle`: jobs enqueued by other processes, and claims of workers that died, are
    /// noticed within that.
    pub async fn run_worker(self, worker: String, max_idle: Duration) {
        // Build the language engine now, beside the worker and off the request path, rather
        // than at the first message that needs it.
        let app = self.clone();
        tokio::spawn(async move {
            if let Err(e) = app.nlu_engine().await {
                tracing::warn!(error = %e, "building the language engine failed");
            }
        });
        let max_ms = max_idle.as_millis().max(1) as i64;
        while !self.is_stopping() {
            let mut wait_ms = max_ms;
            match self.run_jobs_once(&worker, self.now()).await {
                Ok(Outcome::Ran(_)) => continue,
                Ok(Outcome::Empty) => {
                    let now = self.now();
                    match db::jobs::next_due(&self.db, now).await {
                        Ok(Some(at)) => wait_ms = (at.millis() - now.millis()).clamp(0, max_ms),
                        Ok(None) => {}
                        Err(e) => tracing::warn!(error = %e, "reading the next due job failed"),
                    }
                }
                Err(e) => tracing::warn!(error = %e, "job worker pass failed"),
            }
            if wait_ms == 0 {
                continue;
            }
            tokio::select! {
                () = tokio::time::sleep(Duration::from_millis(wait_ms as u64)) => {}
                () = self.jobs_wake.notified() => {}
                () = self.stopping() => {}
            }
        }
        tracing::info!(%worker, "job worker stopped");
    }
}
