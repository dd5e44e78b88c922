//! Cross-department collaboration (TK-6): requests from a ticket to a department, read and
//! answered by that department's staff, who see only the fields of their view (PL-1): the
//! staff-only fields (`ticket_id`, `customer_id`, `customer_name`) are absent for them.

use app::{
    auth::{Agent, Noter, Staff},
    collaboration::{CollaborationQuery, CollaborationView, NewCollaboration},
};
use axum::{
    extract::{Path, State},
    http::StatusCode,
};
use domain::{CollaborationId, CollaborationStatus, Department, TicketId, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{
    AppState,
    dto::{opt_rfc3339, rfc3339},
    error::{ApiError, ApiResult},
    extract::{Cap, Json, Query},
    routes::{Errors, path_id, tickets::resolve_id},
};

use axum::Json as J;

#[derive(Debug, Serialize, ToSchema)]
pub struct CollaborationUpdateDto {
    pub author_id: Option<String>,
    pub body: String,
    pub at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CollaborationDto {
    pub id: String,
    /// tech, finance, logistics, legal, quality
    pub department: String,
    pub department_label_zh: String,
    pub question: String,
    pub due_at: String,
    /// open or completed
    pub status: String,
    pub overdue: bool,
    pub requested_by: Option<String>,
    pub answer: Option<String>,
    pub completed_at: Option<String>,
    pub ticket_number: String,
    pub ticket_subject: String,
    pub problem_code: Option<String>,
    /// The customer's phone or email, masked, e.g. `139****5678`.
    pub customer_contact: Option<String>,
    /// Progress updates, oldest first (on single reads).
    pub updates: Vec<CollaborationUpdateDto>,
    /// Staff who read every case only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ticket_id: Option<String>,
    /// Staff who read every case only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
    /// Staff who read every case only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_name: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<&CollaborationView> for CollaborationDto {
    fn from(v: &CollaborationView) -> CollaborationDto {
        let c = &v.collaboration;
        CollaborationDto {
            id: c.id.to_string(),
            department: c.department.to_string(),
            department_label_zh: c.department.label_zh().to_string(),
            question: c.question.clone(),
            due_at: rfc3339(c.due_at),
            status: c.status.to_string(),
            overdue: c.overdue,
            requested_by: c.requested_by.map(|u| u.to_string()),
            answer: c.answer.clone(),
            completed_at: opt_rfc3339(c.completed_at),
            ticket_number: v.ticket_number.to_string(),
            ticket_subject: v.ticket_subject.clone(),
            problem_code: v.problem_code.map(|p| p.to_string()),
            customer_contact: v.customer_contact.clone(),
            updates: v
                .updates
                .iter()
                .map(|u| CollaborationUpdateDto {
                    author_id: u.author.map(|a| a.to_string()),
                    body: u.body.clone(),
                    at: rfc3339(u.at),
                })
                .collect(),
            ticket_id: v.staff.as_ref().map(|s| s.ticket.to_string()),
            customer_id: v.staff.as_ref().map(|s| s.customer.to_string()),
            customer_name: v.staff.as_ref().map(|s| s.customer_name.clone()),
            created_at: rfc3339(c.created_at),
            updated_at: rfc3339(c.updated_at),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewCollaborationRequest {
    /// tech, finance, logistics, legal, quality
    pub department: String,
    pub question: String,
    /// RFC 3339, e.g. `2026-11-03T09:00:00+08:00`; or give `due_in_hours`.
    pub due_at: Option<String>,
    /// Hours from now (1 to 720); or give `due_at`.
    pub due_in_hours: Option<i64>,
}

fn parse_due(r: &NewCollaborationRequest, now: Timestamp) -> Result<Timestamp, ApiError> {
    match (&r.due_at, r.due_in_hours) {
        (Some(s), None) => {
            let dt = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
                .map_err(|_| {
                    ApiError::invalid(
                        "due_at",
                        "due_at: not an RFC 3339 time like 2026-11-03T09:00:00+08:00",
                    )
                })?;
            Ok(Timestamp::from_millis((dt.unix_timestamp_nanos() / 1_000_000) as i64))
        }
        (None, Some(h)) if (1..=720).contains(&h) => Ok(now.plus_hours(h)),
        (None, Some(_)) => Err(ApiError::invalid("due_in_hours", "due_in_hours: 1 to 720")),
        _ => {
            Err(ApiError::invalid("due_at", "due_at: give exactly one of due_at and due_in_hours"))
        }
    }
}

/// Asks a department for help on a ticket, with a due time (its own timer).
#[utoipa::path(post, path = "/api/v1/tickets/{id}/collaborations", tag = "collaboration", params(("id" = String, Path)),
    request_body = NewCollaborationRequest, responses((status = 201, body = CollaborationDto), Errors))]
pub async fn create(
    State(s): State<AppState>,
    Cap(who): Cap<Agent>,
    Path(id): Path<String>,
    Json(r): Json<NewCollaborationRequest>,
) -> ApiResult<(StatusCode, J<CollaborationDto>)> {
    let ticket = resolve_id(&s, &who, &id).await?;
    let n = NewCollaboration {
        department: Department::parse(&r.department)?,
        question: r.question.clone(),
        due_at: parse_due(&r, s.app.now())?,
    };
    let c = s.app.request_collaboration(&who, ticket, n).await?;
    let staff = <Staff as app::auth::Capability>::from_principal((*who).clone())?;
    Ok((
        StatusCode::CREATED,
        J(CollaborationDto::from(&s.app.get_collaboration(&staff, c.id).await?)),
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct CollaborationListQuery {
    /// open or completed
    pub status: Option<String>,
    pub ticket_id: Option<String>,
    pub department: Option<String>,
}

/// Collaboration requests, newest first; department staff see only their department's.
#[utoipa::path(get, path = "/api/v1/collaborations", tag = "collaboration", params(CollaborationListQuery),
    responses((status = 200, body = [CollaborationDto]), Errors))]
pub async fn list(
    State(s): State<AppState>,
    Cap(who): Cap<Staff>,
    Query(q): Query<CollaborationListQuery>,
) -> ApiResult<J<Vec<CollaborationDto>>> {
    let q = CollaborationQuery {
        status: q.status.as_deref().map(CollaborationStatus::parse).transpose()?,
        ticket: q.ticket_id.as_deref().map(TicketId::parse).transpose()?,
        department: q.department.as_deref().map(Department::parse).transpose()?,
    };
    Ok(J(s.app.list_collaborations(&who, q).await?.iter().map(CollaborationDto::from).collect()))
}

#[utoipa::path(get, path = "/api/v1/collaborations/{id}", tag = "collaboration", params(("id" = String, Path)),
    responses((status = 200, body = CollaborationDto), Errors))]
pub async fn get(
    State(s): State<AppState>,
    Cap(who): Cap<Staff>,
    Path(id): Path<String>,
) -> ApiResult<J<CollaborationDto>> {
    let id = path_id(&id, CollaborationId::parse, "collaboration request")?;
    Ok(J(CollaborationDto::from(&s.app.get_collaboration(&who, id).await?)))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CollaborationUpdateRequest {
    pub body: String,
}

/// A progress update; it also appears on the ticket (history and an internal note).
#[utoipa::path(post, path = "/api/v1/collaborations/{id}/updates", tag = "collaboration", params(("id" = String, Path)),
    request_body = CollaborationUpdateRequest, responses((status = 201, body = CollaborationDto), Errors))]
pub async fn update(
    State(s): State<AppState>,
    Cap(who): Cap<Noter>,
    Path(id): Path<String>,
    Json(r): Json<CollaborationUpdateRequest>,
) -> ApiResult<(StatusCode, J<CollaborationDto>)> {
    let id = path_id(&id, CollaborationId::parse, "collaboration request")?;
    let v = s.app.update_collaboration(&who, id, &r.body).await?;
    Ok((StatusCode::CREATED, J(CollaborationDto::from(&v))))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CompleteRequest {
    pub answer: String,
}

/// The department's answer; closes the request.
#[utoipa::path(post, path = "/api/v1/collaborations/{id}/complete", tag = "collaboration", params(("id" = String, Path)),
    request_body = CompleteRequest, responses((status = 200, body = CollaborationDto), Errors))]
pub async fn complete(
    State(s): State<AppState>,
    Cap(who): Cap<Noter>,
    Path(id): Path<String>,
    Json(r): Json<CompleteRequest>,
) -> ApiResult<J<CollaborationDto>> {
    let id = path_id(&id, CollaborationId::parse, "collaboration request")?;
    Ok(J(CollaborationDto::from(&s.app.complete_collaboration(&who, id, &r.answer).await?)))
}
