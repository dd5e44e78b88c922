//! The feedback loop (FB-1…FB-5, IN-5, AN-5): surveys after a solve (`surveys.rs`), feedback
//! intake and review import (`intake.rs`), the classification of every inbound message and
//! feedback item with its deadlines (`classify.rs`), and churn risk (`churn.rs`).
//!
//! Follow-up and call-back work is a ticket (a "task"), tagged `survey_followup` or
//! `callback`, opened by the system in a conversation of its own with the customer, due time
//! in its `due_at` custom field; tickets so tagged never get surveys themselves.

mod churn;
mod classify;
mod intake;
mod surveys;

pub use churn::{ChurnRow, ChurnView};
pub use intake::{FeedbackPatch, NewFeedback, ReviewImport, Upload};
pub use surveys::{SurveyAnswer, SurveyForm};

use domain::{
    Actor, Audience, Conversation, ConversationId, ConversationStatus, Event, Handler, Severity,
    Status, TeamId, Ticket, TicketId, TicketNo, Timestamp, Urgency, UserId,
};

use crate::{App, Result, error::OrNotFound, intake::snapshot};

/// Tags of the system's own follow-up tickets.
pub const TASK_TAGS: &[&str] = &["survey_followup", "callback"];

/// Feedback, surveys, signals and churn carry customers' words: department members, who see
/// only their requests, do not read them.
pub(crate) fn read_all(s: &crate::auth::Staff) -> Result<()> {
    if s.allows(domain::Permission::ReadAllCases) {
        Ok(())
    } else {
        Err(crate::Error::Forbidden("read customers' feedback"))
    }
}

/// Whether a ticket is one of the feedback loop's tasks.
pub fn is_task(t: &Ticket) -> bool {
    t.tags.iter().any(|x| TASK_TAGS.contains(&x.as_str()))
}

/// A task ticket to open.
pub(crate) struct Task<'a> {
    pub source: &'a Ticket,
    pub subject: String,
    pub tag: &'static str,
    pub team: Option<TeamId>,
    pub assignee: Option<UserId>,
    pub due_at: Timestamp,
    pub urgency: Urgency,
}

impl App {
    /// Opens a task ticket for the source ticket's customer, in a new conversation.
    pub(crate) async fn open_task(
        &self,
        tx: &mut db::WriteTx,
        task: Task<'_>,
        now: Timestamp,
    ) -> Result<Ticket> {
        let ws = tx.workspace();
        let t = task.source;
        let c = Conversation {
            id: self.ids.next(now, ConversationId::new),
            workspace: ws,
            customer: t.customer,
            channel: t.channel,
            subject: Some(task.subject.clone()),
            status: ConversationStatus::Open,
            handler: Handler::Human,
            assignee: task.assignee,
            team: task.team,
            last_message_at: now,
            created_at: now,
            updated_at: now,
        };
        self.insert_conversation(tx, Actor::System, &c).await?;
        let prefix = db::workspaces::by_id(tx, ws).await?.or_not_found("workspace")?.ticket_prefix;
        let due = time::OffsetDateTime::from_unix_timestamp(task.due_at.millis() / 1000)
            .ok()
            .and_then(|d| d.format(&time::format_description::well_known::Rfc3339).ok())
            .unwrap_or_default();
        let ticket = Ticket {
            id: self.ids.next(now, TicketId::new),
            workspace: ws,
            number: TicketNo::new(&prefix, tx.next_ticket_number()),
            subject: task.subject,
            customer: t.customer,
            conversation: c.id,
            channel: t.channel,
            problem_code: t.problem_code,
            severity: Severity::L3,
            urgency: task.urgency,
            status: Status::New,
            stage: None,
            assignee: task.assignee,
            team: task.team,
            tags: vec![task.tag.to_string()],
            custom_fields: vec![
                ("source_ticket".into(), t.number.to_string()),
                ("due_at".into(), due),
            ],
            tracking_token: self.ids.secret("tk_"),
            created_at: now,
            updated_at: now,
            solved_at: None,
            closed_at: None,
        };
        db::tickets::insert(tx, &ticket).await?;
        tx.audit(
            now,
            Actor::System,
            "ticket.create",
            "ticket",
            &ticket.id.to_string(),
            None,
            Some(&snapshot::ticket(&ticket)),
        )
        .await?;
        let aud = Audience {
            customer: Some(ticket.customer),
            team: ticket.team,
            assignee: ticket.assignee,
            internal: false,
        };
        tx.emit(
            now,
            Actor::System,
            Event::TicketCreated { ticket: ticket.id, conversation: ticket.conversation },
            aud,
        )
        .await?;
        Ok(ticket)
    }

    /// Notifies the workspace's active supervisors (or, for a ticket with an assignee, the
    /// assignee too).
    pub(crate) async fn notify_supervisors(
        &self,
        tx: &mut db::WriteTx,
        ticket: Option<&Ticket>,
        kind: &str,
        body: &str,
        now: Timestamp,
    ) -> Result<usize> {
        let ws = tx.workspace();
        let users = db::users::list_users(tx, ws).await?;
        let mut to: Vec<UserId> = users
            .iter()
            .filter(|u| u.active && u.role == domain::Role::Supervisor)
            .map(|u| u.id)
            .collect();
        if let Some(a) = ticket.and_then(|t| t.assignee)
            && !to.contains(&a)
        {
            to.push(a);
        }
        for u in &to {
            let n = db::sla::Notification {
                id: self.ids.next(now, domain::JobId::new).to_string(),
                user: *u,
                ticket: ticket.map(|t| t.id),
                kind: kind.to_string(),
                body: body.to_string(),
                created_at: now,
            };
            db::sla::insert_notification(tx, ws, &n).await?;
        }
        Ok(to.len())
    }

    /// The feedback loop's jobs.
    pub(crate) async fn feedback_job(
        &self,
        tx: &mut db::WriteTx,
        job: &domain::Job,
        now: Timestamp,
    ) -> Result<()> {
        use domain::Job;
        match job {
            Job::SurveySend { survey } => self.survey_send(tx, *survey, now).await,
            Job::SurveyRemind { survey } => self.survey_remind(tx, *survey, now).await,
            Job::SurveyExpire { survey } => self.survey_expire(tx, *survey, now).await,
            Job::SignalDeadline { signal } => self.signal_deadline(tx, *signal, now).await,
            Job::ComplaintAssignCheck { signal } => {
                self.complaint_assign_check(tx, *signal, now).await
            }
            _ => Ok(()),
        }
    }
}
