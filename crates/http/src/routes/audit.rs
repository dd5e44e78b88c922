//! The audit log and its verification (auditors, cs_head, admins).

use app::auth::Auditor;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{
    AppState,
    dto::AuditEntryDto,
    error::{ApiError, ApiResult, Code},
    extract::{Cap, Query},
    routes::Errors,
};

#[derive(Debug, Deserialize, IntoParams)]
pub struct AuditQuery {
    /// ticket, customer, conversation, message, user, team, problem_code, api_token, workspace
    pub object_type: Option<String>,
    pub object_id: Option<String>,
    /// Entries before this sequence number (paging backwards).
    pub before: Option<i64>,
    /// 1 to 500; default 100.
    pub limit: Option<i64>,
}

/// Audit entries, newest first.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditQuery), responses((status = 200, body = [AuditEntryDto]), Errors))]
pub async fn list(
    State(s): State<AppState>,
    Cap(who): Cap<Auditor>,
    Query(q): Query<AuditQuery>,
) -> ApiResult<axum::Json<Vec<AuditEntryDto>>> {
    let limit = q.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::new(Code::InvalidQuery, "limit must be between 1 and 500"));
    }
    let f = app::db::audit::Filter {
        object_type: q.object_type,
        object_id: q.object_id,
        before: q.before,
        limit,
    };
    Ok(axum::Json(s.app.audit_log(&who, &f).await?.iter().map(AuditEntryDto::from).collect()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VerifyResponse {
    pub ok: bool,
    pub entries: i64,
    /// Where the chain first breaks, in words.
    pub problem: Option<String>,
}

/// Recomputes the workspace's hash chain and reports the first altered, missing or truncated
/// entry.
#[utoipa::path(get, path = "/api/v1/audit/verify", tag = "audit", responses((status = 200, body = VerifyResponse), Errors))]
pub async fn verify(
    State(s): State<AppState>,
    Cap(who): Cap<Auditor>,
) -> ApiResult<axum::Json<VerifyResponse>> {
    let v = s.app.verify_audit(&who).await?;
    Ok(axum::Json(VerifyResponse {
        ok: v.broken.is_none(),
        entries: v.entries,
        problem: v.broken.map(|b| b.to_string()),
    }))
}
