//! Tickets: list with filters, create, read (by id or number), change fields, status and
//! assignment, reply, note, messages and history.

use std::collections::BTreeMap;

use app::{
    auth::{Agent, Noter, Staff},
    tickets::{NewTicket, TicketPatch},
};
use axum::{
    extract::{Path, State},
    http::StatusCode,
};
use domain::{
    Channel, ConversationId, CustomerId, ProblemCode, Severity, Status, TeamId, Ticket, TicketId,
    TicketNo, Urgency, UserId,
};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::{
    AppState,
    dto::{AttachmentDto, AuditEntryDto, MessageDto, Page, TicketDto, double_option},
    error::{ApiError, ApiResult, Code},
    extract::{Cap, IdempotencyKey, Json, Query},
    routes::{
        Errors,
        conversations::{MessageRequest, MessagesQuery},
        page_of, paginate,
    },
};

use axum::Json as J;

#[derive(Debug, Deserialize, IntoParams)]
pub struct TicketQuery {
    /// Comma-separated statuses, e.g. `new,open,reopen`.
    pub status: Option<String>,
    /// A user id, or `none` for unassigned tickets.
    pub assignee_id: Option<String>,
    pub team_id: Option<String>,
    pub customer_id: Option<String>,
    pub severity: Option<String>,
    pub urgency: Option<String>,
    /// A code (`PQ-03`) or a whole category (`PQ`).
    pub problem_code: Option<String>,
    pub tag: Option<String>,
    /// Words that must all appear in the subject.
    pub q: Option<String>,
    /// `created` (default) or `updated`, newest first; or `breach`: time to SLA breach,
    /// soonest (and already breached) first, tickets without a running clock last.
    pub sort: Option<String>,
    /// 1 to 200; default 50.
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Tickets the caller may see, newest first, with filters and cursor pagination.
#[utoipa::path(get, path = "/api/v1/tickets", tag = "tickets", params(TicketQuery), responses((status = 200, body = Page<TicketDto>), Errors))]
pub async fn list(
    State(s): State<AppState>,
    Cap(who): Cap<Staff>,
    Query(q): Query<TicketQuery>,
) -> ApiResult<J<Page<TicketDto>>> {
    use app::db::tickets::{Filter, Sort};
    let page = page_of(q.limit, q.cursor.as_deref())?;
    let mut f = Filter::default();
    if let Some(st) = &q.status {
        f.statuses = st
            .split(',')
            .filter(|s| !s.trim().is_empty())
            .map(Status::parse)
            .collect::<Result<_, _>>()?;
    }
    match q.assignee_id.as_deref() {
        Some("none") => f.unassigned = true,
        Some(a) => f.assignee = Some(UserId::parse(a)?),
        None => {}
    }
    f.team = q.team_id.as_deref().map(TeamId::parse).transpose()?;
    f.customer = q.customer_id.as_deref().map(CustomerId::parse).transpose()?;
    f.severity = q.severity.as_deref().map(Severity::parse).transpose()?;
    f.urgency = q.urgency.as_deref().map(Urgency::parse).transpose()?;
    f.problem_code = q.problem_code.as_deref().map(ProblemCode::parse).transpose()?;
    f.tag = q.tag.map(|t| t.trim().to_lowercase());
    f.q = q.q.filter(|s| !s.trim().is_empty());
    f.sort = match q.sort.as_deref() {
        None | Some("created") => Sort::Created,
        Some("updated") => Sort::Updated,
        Some("breach") => Sort::Breach,
        Some(other) => {
            return Err(ApiError::new(
                Code::InvalidQuery,
                format!("sort must be created, updated or breach, not {other:?}"),
            ));
        }
    };
    let sort = f.sort;
    if sort == Sort::Breach {
        let rows = s.app.list_tickets_by_breach(&who, f, &page).await?;
        let key = |(t, b): &(Ticket, Option<domain::Timestamp>)| {
            (-b.map_or(app::db::tickets::NO_BREACH, |b| b.millis()), t.id.to_string())
        };
        return Ok(J(paginate(rows, &page, key, |(t, _)| TicketDto::from(t))));
    }
    let rows = s.app.list_tickets(&who, f, &page).await?;
    let key = move |t: &Ticket| match sort {
        Sort::Created => (t.created_at.millis(), t.id.to_string()),
        Sort::Updated | Sort::Breach => (t.updated_at.millis(), t.id.to_string()),
    };
    Ok(J(paginate(rows, &page, key, |t| TicketDto::from(t))))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewTicketRequest {
    pub subject: String,
    pub customer_id: String,
    /// Link to the conversation the case came from; a new one is opened otherwise.
    pub conversation_id: Option<String>,
    /// The channel of a new conversation; default `api`.
    pub channel: Option<String>,
    /// The customer's request in their words; becomes the first message.
    pub description: Option<String>,
    #[serde(default)]
    pub attachments: Vec<AttachmentDto>,
    pub problem_code: Option<String>,
    /// L1–L4; default L3.
    pub severity: Option<String>,
    /// normal (default), urgent, critical
    pub urgency: Option<String>,
    pub assignee_id: Option<String>,
    pub team_id: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub custom_fields: BTreeMap<String, String>,
}

#[utoipa::path(post, path = "/api/v1/tickets", tag = "tickets", request_body = NewTicketRequest, responses((status = 201, body = TicketDto), Errors))]
pub async fn create(
    State(s): State<AppState>,
    Cap(who): Cap<Agent>,
    Json(r): Json<NewTicketRequest>,
) -> ApiResult<(StatusCode, J<TicketDto>)> {
    let n = NewTicket {
        subject: r.subject,
        customer: CustomerId::parse(&r.customer_id)?,
        conversation: r.conversation_id.as_deref().map(ConversationId::parse).transpose()?,
        channel: r.channel.as_deref().map(Channel::parse).transpose()?.unwrap_or(Channel::Api),
        description: r.description,
        attachments: crate::dto::parse_attachments(&r.attachments)?,
        problem_code: r.problem_code.as_deref().map(ProblemCode::parse).transpose()?,
        severity: r.severity.as_deref().map(Severity::parse).transpose()?,
        urgency: r.urgency.as_deref().map(Urgency::parse).transpose()?,
        assignee: r.assignee_id.as_deref().map(UserId::parse).transpose()?,
        team: r.team_id.as_deref().map(TeamId::parse).transpose()?,
        tags: r.tags,
        custom_fields: r.custom_fields.into_iter().collect(),
    };
    Ok((StatusCode::CREATED, J(TicketDto::from(&s.app.create_ticket(&who, n).await?))))
}

/// A ticket id or a number like `HT-1024`.
pub(crate) async fn resolve(s: &AppState, who: &Staff, key: &str) -> ApiResult<Ticket> {
    if let Ok(id) = TicketId::parse(key) {
        return Ok(s.app.get_ticket(who, id).await?);
    }
    match TicketNo::parse(key) {
        Ok(no) => Ok(s.app.get_ticket_by_number(who, &no).await?),
        Err(_) => Err(ApiError::new(Code::NotFound, "ticket not found")),
    }
}

fn staff_of<C: app::auth::Capability>(c: &C) -> ApiResult<Staff> {
    Ok(<Staff as app::auth::Capability>::from_principal(c.principal().clone())?)
}

pub(crate) async fn resolve_id<C: app::auth::Capability>(
    s: &AppState,
    who: &C,
    key: &str,
) -> ApiResult<TicketId> {
    Ok(resolve(s, &staff_of(who)?, key).await?.id)
}

#[utoipa::path(get, path = "/api/v1/tickets/{id}", tag = "tickets", params(("id" = String, Path, description = "ticket id or number, e.g. HT-1024")), responses((status = 200, body = TicketDto), Errors))]
pub async fn get(
    State(s): State<AppState>,
    Cap(who): Cap<Staff>,
    Path(id): Path<String>,
) -> ApiResult<J<TicketDto>> {
    Ok(J(TicketDto::from(&resolve(&s, &who, &id).await?)))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct TicketPatchRequest {
    pub subject: Option<String>,
    /// A code, or null to clear.
    #[serde(default, deserialize_with = "double_option")]
    pub problem_code: Option<Option<String>>,
    pub severity: Option<String>,
    pub urgency: Option<String>,
    /// A stage key, or null to show the default stage for the status.
    #[serde(default, deserialize_with = "double_option")]
    pub stage: Option<Option<String>>,
    /// Replaces all tags.
    pub tags: Option<Vec<String>>,
    /// Replaces all custom fields.
    pub custom_fields: Option<BTreeMap<String, String>>,
}

/// Changes ticket fields; each change is audited and announced.
#[utoipa::path(patch, path = "/api/v1/tickets/{id}", tag = "tickets", params(("id" = String, Path)), request_body = TicketPatchRequest, responses((status = 200, body = TicketDto), Errors))]
pub async fn update(
    State(s): State<AppState>,
    Cap(who): Cap<Agent>,
    Path(id): Path<String>,
    Json(r): Json<TicketPatchRequest>,
) -> ApiResult<J<TicketDto>> {
    let id = resolve_id(&s, &who, &id).await?;
    let p = TicketPatch {
        subject: r.subject,
        problem_code: r
            .problem_code
            .map(|c| c.as_deref().map(ProblemCode::parse).transpose())
            .transpose()?,
        severity: r.severity.as_deref().map(Severity::parse).transpose()?,
        urgency: r.urgency.as_deref().map(Urgency::parse).transpose()?,
        stage: r.stage,
        tags: r.tags,
        custom_fields: r.custom_fields.map(|f| f.into_iter().collect()),
    };
    Ok(J(TicketDto::from(&s.app.update_ticket(&who, id, p).await?)))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct StatusRequest {
    /// open, pending, on_hold, solved, closed, reopen
    pub status: String,
}

/// Moves the ticket through its lifecycle; an impossible move is 409 `invalid_transition`.
#[utoipa::path(post, path = "/api/v1/tickets/{id}/status", tag = "tickets", params(("id" = String, Path)), request_body = StatusRequest, responses((status = 200, body = TicketDto), Errors))]
pub async fn set_status(
    State(s): State<AppState>,
    Cap(who): Cap<Agent>,
    Path(id): Path<String>,
    Json(r): Json<StatusRequest>,
) -> ApiResult<J<TicketDto>> {
    let id = resolve_id(&s, &who, &id).await?;
    Ok(J(TicketDto::from(&s.app.set_ticket_status(&who, id, Status::parse(&r.status)?).await?)))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AssignRequest {
    /// A user id, or null to unassign.
    pub assignee_id: Option<String>,
    /// A team id, null to clear, absent to keep.
    #[serde(default, deserialize_with = "double_option")]
    pub team_id: Option<Option<String>>,
}

/// Assigns the ticket. Taking a ticket another agent holds needs a supervisor.
#[utoipa::path(post, path = "/api/v1/tickets/{id}/assign", tag = "tickets", params(("id" = String, Path)), request_body = AssignRequest, responses((status = 200, body = TicketDto), Errors))]
pub async fn assign(
    State(s): State<AppState>,
    Cap(who): Cap<Agent>,
    Path(id): Path<String>,
    Json(r): Json<AssignRequest>,
) -> ApiResult<J<TicketDto>> {
    let id = resolve_id(&s, &who, &id).await?;
    let assignee = r.assignee_id.as_deref().map(UserId::parse).transpose()?;
    let team = r.team_id.map(|t| t.as_deref().map(TeamId::parse).transpose()).transpose()?;
    Ok(J(TicketDto::from(&s.app.assign_ticket(&who, id, assignee, team).await?)))
}

/// Replies to the customer in the ticket's conversation. Honours `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/tickets/{id}/replies", tag = "tickets", params(("id" = String, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body = MessageRequest, responses((status = 201, body = MessageDto), (status = 200, body = MessageDto), Errors))]
pub async fn reply(
    State(s): State<AppState>,
    Cap(who): Cap<Agent>,
    Path(id): Path<String>,
    key: IdempotencyKey,
    Json(r): Json<MessageRequest>,
) -> ApiResult<(StatusCode, J<MessageDto>)> {
    let id = resolve_id(&s, &who, &id).await?;
    let (m, created) = s.app.reply_to_ticket(&who, id, r.into_new(key)?).await?;
    Ok((if created { StatusCode::CREATED } else { StatusCode::OK }, J(MessageDto::from(&m))))
}

/// Adds an internal note (agents and the departments pulled into the case).
#[utoipa::path(post, path = "/api/v1/tickets/{id}/notes", tag = "tickets", params(("id" = String, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body = MessageRequest, responses((status = 201, body = MessageDto), (status = 200, body = MessageDto), Errors))]
pub async fn note(
    State(s): State<AppState>,
    Cap(who): Cap<Noter>,
    Path(id): Path<String>,
    key: IdempotencyKey,
    Json(r): Json<MessageRequest>,
) -> ApiResult<(StatusCode, J<MessageDto>)> {
    let id = resolve_id(&s, &who, &id).await?;
    let (m, created) = s.app.note_on_ticket(&who, id, r.into_new(key)?).await?;
    Ok((if created { StatusCode::CREATED } else { StatusCode::OK }, J(MessageDto::from(&m))))
}

/// The ticket's conversation, internal notes included.
#[utoipa::path(get, path = "/api/v1/tickets/{id}/messages", tag = "tickets", params(("id" = String, Path), MessagesQuery), responses((status = 200, body = [MessageDto]), Errors))]
pub async fn messages(
    State(s): State<AppState>,
    Cap(who): Cap<Staff>,
    Path(id): Path<String>,
    Query(q): Query<MessagesQuery>,
) -> ApiResult<J<Vec<MessageDto>>> {
    let id = resolve(&s, &who, &id).await?.id;
    let (after, limit) = q.parts()?;
    Ok(J(s
        .app
        .ticket_messages(&who, id, after, limit)
        .await?
        .iter()
        .map(MessageDto::from)
        .collect()))
}

/// Every audited change to the ticket, newest first (TK-10).
#[utoipa::path(get, path = "/api/v1/tickets/{id}/history", tag = "tickets", params(("id" = String, Path)), responses((status = 200, body = [AuditEntryDto]), Errors))]
pub async fn history(
    State(s): State<AppState>,
    Cap(who): Cap<Staff>,
    Path(id): Path<String>,
) -> ApiResult<J<Vec<AuditEntryDto>>> {
    let id = resolve(&s, &who, &id).await?.id;
    Ok(J(s.app.ticket_history(&who, id).await?.iter().map(AuditEntryDto::from).collect()))
}
