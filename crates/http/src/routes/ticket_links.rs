//! Links between tickets: related tickets (staff read; agents link and unlink), merging a
//! duplicate into another ticket and splitting a second problem out of one. Tickets are named
//! by id or number (`HT-1024`).

use app::{
    auth::{Agent, Staff},
    ticket_links::TicketSplit,
};
use axum::{
    Json as J,
    extract::{Path, State},
    http::StatusCode,
};
use domain::{MessageId, ProblemCode, Severity, TeamId, Urgency, UserId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    AppState,
    dto::{TicketDto, rfc3339},
    error::ApiResult,
    extract::{Cap, Json},
    routes::{
        Errors,
        tickets::{resolve, resolve_id},
    },
};

#[derive(Debug, Serialize, ToSchema)]
pub struct TicketLinkDto {
    /// related, merged_into or split_from
    pub kind: String,
    /// For merged_into and split_from: out (this ticket was merged into, or split from, the
    /// other) or in.
    pub direction: String,
    pub ticket_id: String,
    pub number: String,
    pub subject: String,
    pub status: String,
    pub created_at: String,
    pub created_by: String,
}

async fn links(s: &AppState, who: &Staff, id: domain::TicketId) -> ApiResult<Vec<TicketLinkDto>> {
    Ok(s.app
        .ticket_links(who, id)
        .await?
        .into_iter()
        .map(|l| TicketLinkDto {
            kind: l.link.kind.clone(),
            direction: if l.link.outgoing { "out" } else { "in" }.into(),
            ticket_id: l.other.id.to_string(),
            number: l.other.number.to_string(),
            subject: l.other.subject.clone(),
            status: l.other.status.to_string(),
            created_at: rfc3339(l.link.created_at),
            created_by: l.link.created_by.to_string(),
        })
        .collect())
}

fn staff<C: app::auth::Capability>(c: &C) -> ApiResult<Staff> {
    Ok(<Staff as app::auth::Capability>::from_principal(c.principal().clone())?)
}

/// The ticket's links: related tickets and merges, oldest first.
#[utoipa::path(get, path = "/api/v1/tickets/{id}/links", tag = "tickets", params(("id" = String, Path)), responses((status = 200, body = [TicketLinkDto]), Errors))]
pub async fn list(
    State(s): State<AppState>,
    Cap(who): Cap<Staff>,
    Path(id): Path<String>,
) -> ApiResult<J<Vec<TicketLinkDto>>> {
    let id = resolve(&s, &who, &id).await?.id;
    Ok(J(links(&s, &who, id).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct LinkRequest {
    /// The other ticket, by id or number.
    pub ticket_id: String,
}

/// Marks the two tickets as related (both see the link); returns this ticket's links.
#[utoipa::path(post, path = "/api/v1/tickets/{id}/links", tag = "tickets", params(("id" = String, Path)), request_body = LinkRequest, responses((status = 200, body = [TicketLinkDto]), Errors))]
pub async fn create(
    State(s): State<AppState>,
    Cap(who): Cap<Agent>,
    Path(id): Path<String>,
    Json(r): Json<LinkRequest>,
) -> ApiResult<J<Vec<TicketLinkDto>>> {
    let id = resolve_id(&s, &who, &id).await?;
    let other = resolve_id(&s, &who, &r.ticket_id).await?;
    s.app.link_tickets(&who, id, other).await?;
    Ok(J(links(&s, &staff(&who)?, id).await?))
}

/// Removes the related link between the two tickets.
#[utoipa::path(delete, path = "/api/v1/tickets/{id}/links/{other_id}", tag = "tickets", params(("id" = String, Path), ("other_id" = String, Path)), responses((status = 204), Errors))]
pub async fn delete(
    State(s): State<AppState>,
    Cap(who): Cap<Agent>,
    Path((id, other)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let id = resolve_id(&s, &who, &id).await?;
    let other = resolve_id(&s, &who, &other).await?;
    s.app.unlink_tickets(&who, id, other).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct MergeRequest {
    /// The ticket this duplicate is merged into, by id or number.
    pub into: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MergedDto {
    /// The duplicate, now closed with `merged_into` among its custom fields.
    pub merged: TicketDto,
    /// The ticket it was merged into, with the duplicate's tags and a note.
    pub into: TicketDto,
}

/// Merges this ticket (a duplicate) into another: tags and notes move to the target, the
/// duplicate is closed with a link to it; both are audited.
#[utoipa::path(post, path = "/api/v1/tickets/{id}/merge", tag = "tickets", params(("id" = String, Path)), request_body = MergeRequest, responses((status = 200, body = MergedDto), Errors))]
pub async fn merge(
    State(s): State<AppState>,
    Cap(who): Cap<Agent>,
    Path(id): Path<String>,
    Json(r): Json<MergeRequest>,
) -> ApiResult<J<MergedDto>> {
    let id = resolve_id(&s, &who, &id).await?;
    let into = resolve_id(&s, &who, &r.into).await?;
    let (merged, target) = s.app.merge_ticket(&who, id, into).await?;
    Ok(J(MergedDto { merged: TicketDto::from(&merged), into: TicketDto::from(&target) }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SplitRequest {
    /// The new ticket's subject: the second problem in a few words.
    pub subject: String,
    /// Messages of this ticket's conversation that state the second problem (1 to 50); they
    /// are quoted in the new ticket's internal note.
    pub message_ids: Vec<String>,
    pub problem_code: Option<String>,
    /// L1–L4; default L3.
    pub severity: Option<String>,
    /// normal (default), urgent, critical
    pub urgency: Option<String>,
    pub team_id: Option<String>,
    pub assignee_id: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SplitDto {
    /// The ticket split from, unchanged but for its new link.
    pub original: TicketDto,
    /// The new ticket: same customer and conversation, `split_from` among its custom fields,
    /// routed and on its SLA clocks like any new ticket.
    pub created: TicketDto,
}

/// Splits a second problem out of this ticket into a new ticket for the same customer on the
/// same conversation, linked `split_from`; both are audited.
#[utoipa::path(post, path = "/api/v1/tickets/{id}/split", tag = "tickets", params(("id" = String, Path)), request_body = SplitRequest, responses((status = 201, body = SplitDto), Errors))]
pub async fn split(
    State(s): State<AppState>,
    Cap(who): Cap<Agent>,
    Path(id): Path<String>,
    Json(r): Json<SplitRequest>,
) -> ApiResult<(StatusCode, J<SplitDto>)> {
    let id = resolve_id(&s, &who, &id).await?;
    let sp = TicketSplit {
        subject: r.subject,
        messages: r.message_ids.iter().map(|m| MessageId::parse(m)).collect::<Result<_, _>>()?,
        problem_code: r.problem_code.as_deref().map(ProblemCode::parse).transpose()?,
        severity: r.severity.as_deref().map(Severity::parse).transpose()?,
        urgency: r.urgency.as_deref().map(Urgency::parse).transpose()?,
        team: r.team_id.as_deref().map(TeamId::parse).transpose()?,
        assignee: r.assignee_id.as_deref().map(UserId::parse).transpose()?,
        tags: r.tags,
    };
    let (original, created) = s.app.split_ticket(&who, id, sp).await?;
    Ok((
        StatusCode::CREATED,
        J(SplitDto { original: TicketDto::from(&original), created: TicketDto::from(&created) }),
    ))
}
