//! Durable background work. A job is a row enqueued in the same transaction as the change that
//! needs it, claimed by one worker at a time, and retried with backoff on failure. SLA timers
//! are jobs too (`SlaTimer`); later issues add notifications and webhook deliveries.

use crate::{
    AlertId, CollaborationId, CompensationId, ConversationId, DeliveryId, MessageId, NluModelId,
    OutboundId, ProactiveSendId, ReportId, ReportScheduleId, SignalId, SurveyId, TeamId, TicketId,
    Timestamp,
};

#[derive(Debug, Clone, PartialEq)]
pub enum Job {
    /// Close a ticket that stayed solved for the workspace's auto-close period. `solved_at`
    /// guards against a stale job: if the ticket was reopened and solved again, it no longer
    /// matches and the job does nothing.
    CloseSolvedTicket { ticket: TicketId, solved_at: Timestamp },
    /// Train the model row `model` (status `training`) from the workspace's examples. A model
    /// no longer training (already trained by another worker) is left alone.
    TrainNluModel { model: NluModelId },
    /// The written report on an agent's immediate compensation grant is due (TK-7): if it is
    /// still missing, mark it overdue and tell the supervisors. `due_at` guards staleness.
    CompensationReportDue { compensation: CompensationId, due_at: Timestamp },
    /// A collaboration request reaches its due time (TK-6): if still open, mark it overdue and
    /// tell the ticket's handlers.
    CollaborationDue { collaboration: CollaborationId, due_at: Timestamp },
    /// Run the workspace's time-driven automations over its active tickets, then schedule the
    /// next run; enqueued when a time-driven rule is saved.
    RunAutomations,
    /// Re-evaluate a ticket's SLA clocks at `due` (a warning or breach point) and run the
    /// policy's escalation. Only the timer the ticket last scheduled acts (its stored due time
    /// equals `due`); a timer superseded by a later change does nothing.
    SlaTimer { ticket: TicketId, due: Timestamp },
    /// Evaluate the workspace's alert detectors (AN-2, AN-5), then schedule the next run in an
    /// hour. An alert already raised for its window is not raised again.
    EvaluateAlerts,
    /// An alert's 2 h handling deadline: if it is still unresolved, escalate it.
    AlertDue { alert: AlertId, due_at: Timestamp },
    /// Inspect the conversations with messages since `since` (AN-6), then schedule the next
    /// daily run.
    InspectQuality { since: Timestamp },
    /// Render the schedule's report for the period that ended by `due` (AN-7), then schedule
    /// the next. `due` guards staleness: a changed schedule does not run twice.
    RenderReport { schedule: ReportScheduleId, due: Timestamp },
    /// E-mail a rendered report to its recipients still pending, as an attachment, through
    /// the workspace's SMTP settings (AN-7). Sent outside any transaction; each recipient's
    /// outcome is recorded on the report; a temporary failure retries with backoff.
    DeliverReport { report: ReportId },
    /// Records its own firing, nothing else: `huiting bench timers` measures the queue with it.
    TimerProbe { probe: i64, due: Timestamp },
    /// A conversation the bot handed to a human at `handed_off_at` (BOT-3): if no agent has
    /// written since and the bot still holds it as handed off, tell the customer the expected
    /// wait and offer to leave a message.
    BotNoPickup { conversation: ConversationId, handed_off_at: Timestamp },
    /// Cluster the workspace's unanswered and low-rated bot questions into FAQ candidates
    /// (BOT-7), then schedule the next daily run while there are questions to learn from.
    ClusterKbCandidates,
    /// A ticket queued unassigned in `team` has waited the team's overflow delay (TK-5): if it
    /// is still unassigned there, route it again (to the overflow team, or to an agent now
    /// free). Routing itself checks the wait, so an early or stale job changes nothing.
    RouteOverflow { ticket: TicketId, team: TeamId },
    // Channels (issue 8): network calls made outside any transaction, then recorded together
    // with the job's completion; a failure retries with `backoff_millis`.
    /// POST one outbound event webhook delivery (PL-2).
    DeliverWebhook { delivery: DeliveryId },
    /// Send one agent reply to the customer through its channel (WeChat, webhook, SMS).
    SendOutbound { outbound: OutboundId },
    /// Send a public staff message of an email conversation to the customer by SMTP (issue 8).
    /// A message already recorded as sent does nothing; failures retry with backoff.
    SendEmail { message: MessageId },
    /// Evaluate the workspace's active proactive rules (issue 8 item 6): schedule a
    /// `SendProactive` for each customer due a message, then schedule the next run in an hour
    /// while active rules remain.
    EvaluateProactive,
    /// A planned proactive message reaches its due time (after quiet hours): unless the
    /// customer opted out meanwhile, write it into their conversation and hand it to the
    /// channel. A send no longer `scheduled` does nothing.
    SendProactive { send: ProactiveSendId },
    // ---- feedback (FB-1…FB-5) ----
    /// Send a scheduled survey (a chat prompt or a link recorded for the channel's outbound),
    /// then schedule its reminder. A survey no longer `scheduled` is left alone.
    SurveySend { survey: SurveyId },
    /// Remind the customer of a survey still unanswered; then schedule its expiry.
    SurveyRemind { survey: SurveyId },
    /// Expire a survey still unanswered and open a follow-up task for it.
    SurveyExpire { survey: SurveyId },
    /// Classify a batch of inbound customer messages (FB-3), off the ingest hot path.
    ClassifyMessages { messages: Vec<MessageId> },
    /// A classified item reaches its handling deadline (FB-4): if still unhandled, mark it
    /// overdue and warn the supervisors.
    SignalDeadline { signal: SignalId },
    /// A complaint's 15-minute assignment target (FB-3): warn if still unassigned.
    ComplaintAssignCheck { signal: SignalId },
    /// Anonymise one batch of the conversations whose cases closed longer ago than the
    /// workspace's retention period (PL-4); enqueue the next batch at once while more remain,
    /// otherwise the next daily run.
    ApplyRetention,
    /// Bring a ticket's entry in the similar-solved-tickets index (TK-9) up to date with the
    /// ticket: index its problem and resolution while it is solved or closed, remove it
    /// otherwise. Enqueued by every status change into or out of solved/closed; the job reads
    /// the ticket as it is then, so a stale job only repeats what the latest one does.
    IndexSimilarTicket { ticket: TicketId },
}

impl Job {
    pub fn name(&self) -> &'static str {
        match self {
            Job::CloseSolvedTicket { .. } => "close_solved_ticket",
            Job::TrainNluModel { .. } => "train_nlu_model",
            Job::CompensationReportDue { .. } => "compensation_report_due",
            Job::CollaborationDue { .. } => "collaboration_due",
            Job::RunAutomations => "run_automations",
            Job::SlaTimer { .. } => "sla_timer",
            Job::TimerProbe { .. } => "timer_probe",
            Job::BotNoPickup { .. } => "bot_no_pickup",
            Job::ClusterKbCandidates => "cluster_kb_candidates",
            Job::RouteOverflow { .. } => "route_overflow",
            Job::DeliverWebhook { .. } => "deliver_webhook",
            Job::SendOutbound { .. } => "send_outbound",
            Job::SendEmail { .. } => "send_email",
            Job::EvaluateProactive => "evaluate_proactive",
            Job::SendProactive { .. } => "send_proactive",
            Job::EvaluateAlerts => "evaluate_alerts",
            Job::AlertDue { .. } => "alert_due",
            Job::InspectQuality { .. } => "inspect_quality",
            Job::RenderReport { .. } => "render_report",
            Job::DeliverReport { .. } => "deliver_report",
            Job::SurveySend { .. } => "survey_send",
            Job::SurveyRemind { .. } => "survey_remind",
            Job::SurveyExpire { .. } => "survey_expire",
            Job::ClassifyMessages { .. } => "classify_messages",
            Job::SignalDeadline { .. } => "signal_deadline",
            Job::ComplaintAssignCheck { .. } => "complaint_assign_check",
            Job::ApplyRetention => "apply_retention",
            Job::IndexSimilarTicket { .. } => "index_similar_ticket",
        }
    }

    /// How long this job keeps its claim. Jobs that take longer than [`CLAIM_LEASE_MILLIS`]
    /// (training a model, network calls) have their worker extend the claim to this before
    /// they start; otherwise a second worker would take the job and do the same work again.
    pub fn lease_millis(&self) -> i64 {
        match self {
            Job::TrainNluModel { .. } => 30 * 60_000,
            Job::ClusterKbCandidates
            | Job::DeliverWebhook { .. }
            | Job::SendOutbound { .. }
            | Job::SendEmail { .. }
            | Job::DeliverReport { .. }
            | Job::ApplyRetention => LEASE_MILLIS,
            Job::CloseSolvedTicket { .. }
            | Job::CompensationReportDue { .. }
            | Job::CollaborationDue { .. }
            | Job::RunAutomations
            | Job::SlaTimer { .. }
            | Job::TimerProbe { .. }
            | Job::BotNoPickup { .. }
            | Job::RouteOverflow { .. }
            | Job::EvaluateProactive
            | Job::SendProactive { .. }
            | Job::EvaluateAlerts
            | Job::AlertDue { .. }
            | Job::InspectQuality { .. }
            | Job::RenderReport { .. }
            | Job::SurveySend { .. }
            | Job::SurveyRemind { .. }
            | Job::SurveyExpire { .. }
            | Job::ClassifyMessages { .. }
            | Job::SignalDeadline { .. }
            | Job::ComplaintAssignCheck { .. }
            | Job::IndexSimilarTicket { .. } => CLAIM_LEASE_MILLIS,
        }
    }
}

/// Delay before retry number `attempt` (1-based): 5 s doubling, capped at one hour.
pub fn backoff_millis(attempt: i64) -> i64 {
    let exp = attempt.clamp(1, 20) - 1;
    (5_000i64 << exp).min(3_600_000)
}

/// How long a claim hides jobs from other workers: a worker that dies releases its claimed
/// jobs then, so a timer it had claimed fires at most this late on another server. Short jobs
/// run and complete well within it; a job that outlives it loses nothing (its completion checks
/// the claim is still its own, and rolls back otherwise). Longer kinds extend their claim to
/// [`Job::lease_millis`] before they start.
pub const CLAIM_LEASE_MILLIS: i64 = 5_000;
/// The claim of jobs that call the network or take seconds (email, webhooks, reports).
pub const LEASE_MILLIS: i64 = 60_000;
/// Attempts before a job is marked failed and left for a person to look at.
pub const MAX_ATTEMPTS: i64 = 10;
