//! Compensation within authority (TK-7): request on a ticket, the approval queue, approve /
//! reject, the agent's written report, and the workspace's authority limits. Amounts travel
//! as integer fen (`amount_fen: 200000` is ¥2,000); `amount_display` is for people.

use app::{
    auth::{Admin, Approver, Compensator, Staff},
    compensation::{CompensationQuery, CompensationRequest},
};
use axum::{
    extract::{Path, State},
    http::StatusCode,
};
use domain::{
    CompensationId, Fen, Limits,
    compensation::{Compensation, CompensationKind, Outcome, Report, State as CState},
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{
    AppState,
    dto::{opt_rfc3339, rfc3339},
    error::ApiResult,
    extract::{Cap, Json, Query},
    routes::{Errors, path_id, tickets::resolve_id},
};

use axum::Json as J;

#[derive(Debug, Serialize, ToSchema)]
pub struct ApprovalStepDto {
    pub by: String,
    /// agent, supervisor, cs_head
    pub level: String,
    /// approved, escalated, rejected
    pub action: String,
    pub note: Option<String>,
    pub at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CompensationDto {
    pub id: String,
    pub ticket_id: String,
    /// voucher, refund, credit, free_shipping
    #[serde(rename = "type")]
    pub kind: String,
    pub type_label_zh: String,
    /// Integer fen: 200000 is ¥2,000.
    pub amount_fen: i64,
    /// e.g. `¥2,000`
    pub amount_display: String,
    pub basis: String,
    pub requested_by: String,
    pub requester_level: String,
    /// pending, granted, rejected
    pub status: String,
    /// The level the request waits for (pending only).
    pub pending_level: Option<String>,
    pub granted_by: Option<String>,
    pub granted_level: Option<String>,
    pub granted_at: Option<String>,
    pub rejected_by: Option<String>,
    pub rejected_reason: Option<String>,
    /// not_required, due, overdue, filed
    pub report_status: String,
    pub report_due_at: Option<String>,
    pub report: Option<String>,
    pub report_filed_at: Option<String>,
    /// The approval chain, in order.
    pub steps: Vec<ApprovalStepDto>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<&Compensation> for CompensationDto {
    fn from(c: &Compensation) -> CompensationDto {
        let mut d = CompensationDto {
            id: c.id.to_string(),
            ticket_id: c.ticket.to_string(),
            kind: c.kind.to_string(),
            type_label_zh: c.kind.label_zh().to_string(),
            amount_fen: c.amount.get(),
            amount_display: c.amount.to_string(),
            basis: c.basis.clone(),
            requested_by: c.requested_by.to_string(),
            requester_level: c.requester_level.to_string(),
            status: c.state().name().to_string(),
            pending_level: c.pending_level().map(|l| l.to_string()),
            granted_by: None,
            granted_level: None,
            granted_at: None,
            rejected_by: None,
            rejected_reason: None,
            report_status: c.report().name().to_string(),
            report_due_at: opt_rfc3339(c.report().due_at()),
            report: None,
            report_filed_at: None,
            steps: c
                .steps
                .iter()
                .map(|s| ApprovalStepDto {
                    by: s.by.to_string(),
                    level: s.level.to_string(),
                    action: s.action.to_string(),
                    note: s.note.clone(),
                    at: rfc3339(s.at),
                })
                .collect(),
            created_at: rfc3339(c.created_at),
            updated_at: rfc3339(c.updated_at),
        };
        match c.state() {
            CState::Pending { .. } => {}
            CState::Granted { grant, at } => {
                d.granted_by = Some(grant.by().to_string());
                d.granted_level = Some(grant.level().to_string());
                d.granted_at = Some(rfc3339(*at));
            }
            CState::Rejected { by, reason, .. } => {
                d.rejected_by = Some(by.to_string());
                d.rejected_reason = Some(reason.clone());
            }
        }
        if let Report::Filed { text, at, .. } = c.report() {
            d.report = Some(text.clone());
            d.report_filed_at = Some(rfc3339(*at));
        }
        d
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewCompensationRequest {
    /// voucher, refund, credit, free_shipping
    #[serde(rename = "type")]
    pub kind: String,
    /// Integer fen, positive: 200000 is ¥2,000.
    pub amount_fen: i64,
    /// The written basis (mandatory): why, under which policy.
    pub basis: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CompensationOutcomeDto {
    /// granted, or escalated (waiting for `compensation.pending_level`)
    pub outcome: String,
    pub compensation: CompensationDto,
}

fn outcome(o: Outcome, c: &Compensation) -> CompensationOutcomeDto {
    let outcome = match o {
        Outcome::Granted => "granted",
        Outcome::Escalated(_) => "escalated",
    };
    CompensationOutcomeDto { outcome: outcome.into(), compensation: CompensationDto::from(c) }
}

/// Requests compensation on a ticket: granted at once within the caller's authority (an
/// agent's grant owes a written report within 48 h), otherwise pending at the next level.
#[utoipa::path(post, path = "/api/v1/tickets/{id}/compensations", tag = "compensation", params(("id" = String, Path)),
    request_body = NewCompensationRequest, responses((status = 201, body = CompensationOutcomeDto), Errors))]
pub async fn create(
    State(s): State<AppState>,
    Cap(who): Cap<Compensator>,
    Path(id): Path<String>,
    Json(r): Json<NewCompensationRequest>,
) -> ApiResult<(StatusCode, J<CompensationOutcomeDto>)> {
    let ticket = resolve_id(&s, &who, &id).await?;
    let req = CompensationRequest {
        kind: CompensationKind::parse(&r.kind)?,
        amount: Fen::new(r.amount_fen)?,
        basis: r.basis,
    };
    let (c, o) = s.app.request_compensation(&who, ticket, req).await?;
    Ok((StatusCode::CREATED, J(outcome(o, &c))))
}

/// The ticket's compensations, oldest first.
#[utoipa::path(get, path = "/api/v1/tickets/{id}/compensations", tag = "compensation", params(("id" = String, Path)),
    responses((status = 200, body = [CompensationDto]), Errors))]
pub async fn for_ticket(
    State(s): State<AppState>,
    Cap(who): Cap<Staff>,
    Path(id): Path<String>,
) -> ApiResult<J<Vec<CompensationDto>>> {
    let ticket = resolve_id(&s, &who, &id).await?;
    Ok(J(s
        .app
        .ticket_compensations(&who, ticket)
        .await?
        .iter()
        .map(CompensationDto::from)
        .collect()))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct CompensationListQuery {
    /// pending (the caller's approval queue), granted, rejected
    pub status: Option<String>,
    /// due, overdue, filed, not_required
    pub report_status: Option<String>,
}

/// Compensations, oldest first. `status=pending` is the approval queue of the caller's level;
/// agents see their own requests.
#[utoipa::path(get, path = "/api/v1/compensations", tag = "compensation", params(CompensationListQuery),
    responses((status = 200, body = [CompensationDto]), Errors))]
pub async fn list(
    State(s): State<AppState>,
    Cap(who): Cap<Staff>,
    Query(q): Query<CompensationListQuery>,
) -> ApiResult<J<Vec<CompensationDto>>> {
    let q = CompensationQuery { status: q.status, report_status: q.report_status };
    Ok(J(s.app.list_compensations(&who, q).await?.iter().map(CompensationDto::from).collect()))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ApproveRequest {
    pub note: Option<String>,
}

/// Approves within the caller's authority; above it, passes the request to the next level.
#[utoipa::path(post, path = "/api/v1/compensations/{id}/approve", tag = "compensation", params(("id" = String, Path)),
    request_body = ApproveRequest, responses((status = 200, body = CompensationOutcomeDto), Errors))]
pub async fn approve(
    State(s): State<AppState>,
    Cap(who): Cap<Approver>,
    Path(id): Path<String>,
    Json(r): Json<ApproveRequest>,
) -> ApiResult<J<CompensationOutcomeDto>> {
    let id = path_id(&id, CompensationId::parse, "compensation")?;
    let (c, o) = s.app.approve_compensation(&who, id, r.note).await?;
    Ok(J(outcome(o, &c)))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RejectRequest {
    pub reason: String,
}

#[utoipa::path(post, path = "/api/v1/compensations/{id}/reject", tag = "compensation", params(("id" = String, Path)),
    request_body = RejectRequest, responses((status = 200, body = CompensationDto), Errors))]
pub async fn reject(
    State(s): State<AppState>,
    Cap(who): Cap<Approver>,
    Path(id): Path<String>,
    Json(r): Json<RejectRequest>,
) -> ApiResult<J<CompensationDto>> {
    let id = path_id(&id, CompensationId::parse, "compensation")?;
    Ok(J(CompensationDto::from(&s.app.reject_compensation(&who, id, &r.reason).await?)))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ReportRequest {
    pub report: String,
}

/// The granting agent's written report on an immediate grant.
#[utoipa::path(post, path = "/api/v1/compensations/{id}/report", tag = "compensation", params(("id" = String, Path)),
    request_body = ReportRequest, responses((status = 200, body = CompensationDto), Errors))]
pub async fn report(
    State(s): State<AppState>,
    Cap(who): Cap<Compensator>,
    Path(id): Path<String>,
    Json(r): Json<ReportRequest>,
) -> ApiResult<J<CompensationDto>> {
    let id = path_id(&id, CompensationId::parse, "compensation")?;
    Ok(J(CompensationDto::from(&s.app.file_compensation_report(&who, id, &r.report).await?)))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LimitsDto {
    /// Fen an agent grants at once (default 200000 = ¥2,000).
    pub agent_fen: i64,
    /// Fen a supervisor approves (default 500000 = ¥5,000).
    pub supervisor_fen: i64,
    /// Fen the head of customer service approves; null is unlimited (the default).
    pub cs_head_fen: Option<i64>,
    /// Hours an agent has to file the written report (default 48).
    pub report_hours: i64,
}

impl From<Limits> for LimitsDto {
    fn from(l: Limits) -> LimitsDto {
        LimitsDto {
            agent_fen: l.agent.get(),
            supervisor_fen: l.supervisor.get(),
            cs_head_fen: l.cs_head.map(Fen::get),
            report_hours: l.report_hours,
        }
    }
}

/// The authority limits per level.
#[utoipa::path(get, path = "/api/v1/settings/compensation-limits", tag = "compensation",
    responses((status = 200, body = LimitsDto), Errors))]
pub async fn get_limits(
    State(s): State<AppState>,
    Cap(who): Cap<Staff>,
) -> ApiResult<J<LimitsDto>> {
    Ok(J(LimitsDto::from(s.app.compensation_limits(&who).await?)))
}

/// Sets the authority limits (admin only; admins hold no authority themselves).
#[utoipa::path(put, path = "/api/v1/settings/compensation-limits", tag = "compensation",
    request_body = LimitsDto, responses((status = 200, body = LimitsDto), Errors))]
pub async fn put_limits(
    State(s): State<AppState>,
    Cap(who): Cap<Admin>,
    Json(r): Json<LimitsDto>,
) -> ApiResult<J<LimitsDto>> {
    let fen = |field: &'static str, v: i64| {
        Fen::new(v).map_err(|e| domain::ParseError::new(field, e.reason))
    };
    let l = Limits {
        agent: fen("agent_fen", r.agent_fen)?,
        supervisor: fen("supervisor_fen", r.supervisor_fen)?,
        cs_head: r.cs_head_fen.map(|v| fen("cs_head_fen", v)).transpose()?,
        report_hours: r.report_hours,
    };
    Ok(J(LimitsDto::from(s.app.set_compensation_limits(&who, l).await?)))
}
