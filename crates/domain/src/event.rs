//! The closed set of things that happen. Every state change in `app` emits one or more
//! [`Event`]s into the outbox in the same transaction; every consumer (realtime fan-out, and
//! later workflow triggers, analytics, webhooks) is one `match` over this enum.

use std::fmt;

use crate::{
    ArticleId, CollaborationId, CompensationId, ConversationId, CustomerId, Department, FaqId,
    IntentId, MessageId, NluModelId, ParseError, ProblemCode, ReplyTemplateId, TeamId, TicketId,
    Timestamp, TokenId, UserId, WorkspaceId,
    bot::ModelStatus,
    collaboration::CollaborationChange,
    compensation::CompensationChange,
    conversation::{Channel, ConversationStatus, SenderKind, Visibility},
    ticket::Status,
};

/// Who did it. Every audit entry and event names one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Actor {
    User(UserId),
    /// An integration acting through an API token.
    Token(TokenId),
    Customer(CustomerId),
    System,
}

impl Actor {
    pub fn parse(s: &str) -> Result<Actor, ParseError> {
        if s == "system" {
            return Ok(Actor::System);
        }
        let bad = || ParseError::new("actor", format!("{s:?} is not an actor"));
        let (kind, id) = s.split_once(':').ok_or_else(bad)?;
        match kind {
            "user" => UserId::parse(id).map(Actor::User),
            "token" => TokenId::parse(id).map(Actor::Token),
            "customer" => CustomerId::parse(id).map(Actor::Customer),
            _ => Err(bad()),
        }
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Actor::User(id) => write!(f, "user:{id}"),
            Actor::Token(id) => write!(f, "token:{id}"),
            Actor::Customer(id) => write!(f, "customer:{id}"),
            Actor::System => f.write_str("system"),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    CustomerCreated {
        customer: CustomerId,
    },
    CustomerUpdated {
        customer: CustomerId,
    },
    CustomersMerged {
        into: CustomerId,
        from: CustomerId,
    },
    ConversationCreated {
        conversation: ConversationId,
        customer: CustomerId,
        channel: Channel,
    },
    ConversationUpdated {
        conversation: ConversationId,
        status: ConversationStatus,
        assignee: Option<UserId>,
    },
    MessageCreated {
        conversation: ConversationId,
        message: MessageId,
        sender: SenderKind,
        visibility: Visibility,
    },
    TicketCreated {
        ticket: TicketId,
        conversation: ConversationId,
    },
    TicketUpdated {
        ticket: TicketId,
        fields: Vec<String>,
    },
    TicketStatusChanged {
        ticket: TicketId,
        from: Status,
        to: Status,
    },
    TicketAssigned {
        ticket: TicketId,
        assignee: Option<UserId>,
        team: Option<TeamId>,
    },
    UserChanged {
        user: UserId,
    },
    TeamChanged {
        team: TeamId,
    },
    ProblemCodeChanged {
        code: ProblemCode,
    },
    /// An intent was created, changed or deleted, or its examples changed.
    IntentChanged {
        intent: IntentId,
    },
    /// Training of a new model version was requested.
    NluModelQueued {
        model: NluModelId,
    },
    /// Training finished: `ready` (and now active) or `failed`.
    NluModelTrained {
        model: NluModelId,
        status: ModelStatus,
    },
    /// An older version was made the active one.
    NluModelActivated {
        model: NluModelId,
    },
    /// A compensation request was made, escalated, decided, or its report filed or overdue.
    CompensationChanged {
        compensation: CompensationId,
        ticket: TicketId,
        change: CompensationChange,
    },
    /// A collaboration request was made, updated, completed, or went overdue.
    CollaborationChanged {
        collaboration: CollaborationId,
        ticket: TicketId,
        department: Department,
        change: CollaborationChange,
    },
    /// An SLA metric cycle of a ticket changed: `kind` is activated, paused, resumed, warned,
    /// breached or fulfilled, `at` when it happened (a breach is at its deadline even when
    /// recorded a moment later).
    SlaMetric {
        ticket: TicketId,
        metric: String,
        cycle: i64,
        kind: String,
        at: Timestamp,
    },
    /// An escalation action ran (`action` as the ladder names it); `user` is who was notified.
    SlaEscalated {
        ticket: TicketId,
        action: String,
        user: Option<UserId>,
    },
    /// An FAQ entry was created, edited, published, unpublished or deleted.
    FaqChanged {
        faq: FaqId,
        version: i64,
    },
    /// An article was created, edited, published, unpublished or deleted.
    ArticleChanged {
        article: ArticleId,
        version: i64,
    },
    /// A reply template was created, changed or deleted.
    ReplyTemplateChanged {
        template: ReplyTemplateId,
    },
}

impl Event {
    /// The stable wire and storage name, `noun.verb`.
    pub fn name(&self) -> &'static str {
        match self {
            Event::CustomerCreated { .. } => "customer.created",
            Event::CustomerUpdated { .. } => "customer.updated",
            Event::CustomersMerged { .. } => "customer.merged",
            Event::ConversationCreated { .. } => "conversation.created",
            Event::ConversationUpdated { .. } => "conversation.updated",
            Event::MessageCreated { .. } => "message.created",
            Event::TicketCreated { .. } => "ticket.created",
            Event::TicketUpdated { .. } => "ticket.updated",
            Event::TicketStatusChanged { .. } => "ticket.status_changed",
            Event::TicketAssigned { .. } => "ticket.assigned",
            Event::UserChanged { .. } => "user.changed",
            Event::TeamChanged { .. } => "team.changed",
            Event::ProblemCodeChanged { .. } => "problem_code.changed",
            Event::IntentChanged { .. } => "intent.changed",
            Event::NluModelQueued { .. } => "nlu_model.queued",
            Event::NluModelTrained { .. } => "nlu_model.trained",
            Event::NluModelActivated { .. } => "nlu_model.activated",
            Event::CompensationChanged { change, .. } => match change {
                CompensationChange::Requested => "compensation.requested",
                CompensationChange::Escalated => "compensation.escalated",
                CompensationChange::Granted => "compensation.granted",
                CompensationChange::Rejected => "compensation.rejected",
                CompensationChange::ReportFiled => "compensation.report_filed",
                CompensationChange::ReportOverdue => "compensation.report_overdue",
            },
            Event::CollaborationChanged { change, .. } => match change {
                CollaborationChange::Requested => "collaboration.requested",
                CollaborationChange::Updated => "collaboration.updated",
                CollaborationChange::Completed => "collaboration.completed",
                CollaborationChange::Overdue => "collaboration.overdue",
            },
            Event::SlaMetric { .. } => "sla.metric",
            Event::SlaEscalated { .. } => "sla.escalated",
            Event::FaqChanged { .. } => "kb_faq.changed",
            Event::ArticleChanged { .. } => "kb_article.changed",
            Event::ReplyTemplateChanged { .. } => "reply_template.changed",
        }
    }
}

/// Who may see an event. Staff who read all cases see every event of their workspace;
/// department members see events of their teams' and their own cases; a customer sees only
/// public events of their own conversations and tickets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Audience {
    pub customer: Option<CustomerId>,
    pub team: Option<TeamId>,
    pub assignee: Option<UserId>,
    pub internal: bool,
}

impl Audience {
    pub fn staff_only() -> Audience {
        Audience { internal: true, ..Audience::default() }
    }
}

/// An event as stored in the outbox: gapless `seq` per workspace, in commit order.
#[derive(Debug, Clone, PartialEq)]
pub struct EventRecord {
    pub workspace: WorkspaceId,
    pub seq: i64,
    pub at: Timestamp,
    pub actor: Actor,
    pub event: Event,
    pub audience: Audience,
}

/// Who is watching the event stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Viewer {
    /// Staff who may read every case of the workspace.
    AllCases,
    /// A department member: their teams' cases and those assigned to them.
    Scoped {
        user: UserId,
        teams: Vec<TeamId>,
    },
    Customer(CustomerId),
}

impl Audience {
    pub fn visible_to(&self, v: &Viewer) -> bool {
        match v {
            Viewer::AllCases => true,
            Viewer::Scoped { user, teams } => {
                self.assignee == Some(*user) || self.team.is_some_and(|t| teams.contains(&t))
            }
            Viewer::Customer(c) => !self.internal && self.customer == Some(*c),
        }
    }
}
