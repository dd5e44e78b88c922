//! Liveness and readiness probes.

use axum::{extract::State, http::StatusCode};

use crate::{
    AppState,
    error::{ApiError, ApiResult, Code},
};

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "health", responses((status = 200, description = "ok", body = String)))]
pub async fn healthz() -> &'static str {
    "ok"
}

/// The database answers.
#[utoipa::path(get, path = "/readyz", tag = "health", responses((status = 200, body = String), (status = 503, body = crate::error::ErrorBody)))]
pub async fn readyz(State(s): State<AppState>) -> ApiResult<(StatusCode, &'static str)> {
    s.app
        .ready()
        .await
        .map_err(|e| ApiError::new(Code::Unavailable, format!("database unreachable: {e}")))?;
    Ok((StatusCode::OK, "ready"))
}
