//! Two-factor login (TOTP): the second login step, enrolment, and the workspace requirement.

use app::{
    auth::{Admin, Staff},
    two_factor::{Enrollment, Proof},
};
use axum::{
    Json as J,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    AppState,
    error::{ApiError, ApiResult},
    extract::{Cap, Json},
    routes::{Errors, auth::session_response},
};

#[derive(Debug, Deserialize, ToSchema)]
pub struct SecondFactorRequest {
    /// From the login answer.
    pub challenge: String,
    /// The authenticator's 6-digit code…
    #[serde(default)]
    pub code: Option<String>,
    /// …or one of the recovery codes (each works once).
    #[serde(default)]
    pub recovery_code: Option<String>,
}

fn proof(code: Option<String>, recovery: Option<String>) -> Result<Proof, ApiError> {
    match (code, recovery) {
        (Some(c), None) => Ok(Proof::Code(c)),
        (None, Some(r)) => Ok(Proof::Recovery(r)),
        _ => Err(ApiError::invalid("code", "send either code or recovery_code")),
    }
}

/// The second login step: a code or a recovery code turns the challenge into a session.
#[utoipa::path(post, path = "/api/v1/auth/2fa", tag = "auth", request_body = SecondFactorRequest,
    responses((status = 200, body = crate::routes::auth::LoginResponse), Errors))]
pub async fn second_factor(
    State(s): State<AppState>,
    Json(r): Json<SecondFactorRequest>,
) -> ApiResult<Response> {
    let p = proof(r.code, r.recovery_code)?;
    let (session, codes) = s.app.login_second_factor(&r.challenge, p).await?;
    session_response(&s, session, codes)
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ChallengeRequest {
    pub challenge: String,
}

/// A new authenticator secret, shown once.
#[derive(Debug, Serialize, ToSchema)]
pub struct TotpEnrollmentDto {
    /// Base32, for typing into an authenticator app.
    pub secret: String,
    /// `otpauth://totp/…`, for a QR code.
    pub otpauth_uri: String,
}

impl From<Enrollment> for TotpEnrollmentDto {
    fn from(e: Enrollment) -> Self {
        TotpEnrollmentDto { secret: e.secret, otpauth_uri: e.otpauth_uri }
    }
}

/// Enrols during login, when the workspace requires two-factor login and the user has none.
#[utoipa::path(post, path = "/api/v1/auth/2fa/enroll", tag = "auth", request_body = ChallengeRequest,
    responses((status = 201, body = TotpEnrollmentDto), Errors))]
pub async fn enroll_with_challenge(
    State(s): State<AppState>,
    Json(r): Json<ChallengeRequest>,
) -> ApiResult<(StatusCode, J<TotpEnrollmentDto>)> {
    Ok((StatusCode::CREATED, J(s.app.enroll_with_challenge(&r.challenge).await?.into())))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TwoFactorStatusDto {
    pub enabled: bool,
    /// An enrolment waits for its first code.
    pub pending: bool,
    pub recovery_codes_left: i64,
    /// The workspace requires two-factor login.
    pub required: bool,
}

/// The caller's two-factor state.
#[utoipa::path(get, path = "/api/v1/me/2fa", tag = "auth", responses((status = 200, body = TwoFactorStatusDto), Errors))]
pub async fn status(
    State(s): State<AppState>,
    Cap(who): Cap<Staff>,
) -> ApiResult<J<TwoFactorStatusDto>> {
    let st = s.app.two_factor_status(&who).await?;
    Ok(J(TwoFactorStatusDto {
        enabled: st.enabled,
        pending: st.pending,
        recovery_codes_left: st.recovery_codes_left,
        required: st.required,
    }))
}

/// Starts enrolling an authenticator: a secret and its `otpauth://` URI. Confirm with a code.
#[utoipa::path(post, path = "/api/v1/me/2fa/totp", tag = "auth", responses((status = 201, body = TotpEnrollmentDto), Errors))]
pub async fn enroll(
    State(s): State<AppState>,
    Cap(who): Cap<Staff>,
) -> ApiResult<(StatusCode, J<TotpEnrollmentDto>)> {
    Ok((StatusCode::CREATED, J(s.app.enroll_totp(&who).await?.into())))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CodeRequest {
    pub code: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RecoveryCodesDto {
    /// Ten one-time codes for when the authenticator is lost; shown only now.
    pub recovery_codes: Vec<String>,
}

/// Confirms the enrolment with a code: two-factor login is on from now.
#[utoipa::path(post, path = "/api/v1/me/2fa/totp/confirm", tag = "auth", request_body = CodeRequest,
    responses((status = 200, body = RecoveryCodesDto), Errors))]
pub async fn confirm(
    State(s): State<AppState>,
    Cap(who): Cap<Staff>,
    Json(r): Json<CodeRequest>,
) -> ApiResult<J<RecoveryCodesDto>> {
    Ok(J(RecoveryCodesDto { recovery_codes: s.app.confirm_totp(&who, &r.code).await? }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct DisableRequest {
    pub password: String,
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub recovery_code: Option<String>,
}

/// Turns two-factor login off; needs the password and a code (or a recovery code).
#[utoipa::path(delete, path = "/api/v1/me/2fa/totp", tag = "auth", request_body = DisableRequest,
    responses((status = 204), Errors))]
pub async fn disable(
    State(s): State<AppState>,
    Cap(who): Cap<Staff>,
    Json(r): Json<DisableRequest>,
) -> ApiResult<Response> {
    let p = proof(r.code, r.recovery_code)?;
    s.app.disable_totp(&who, &r.password, p).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SecuritySettingsDto {
    /// Every user must log in with a second factor (those without one enrol at login).
    pub require_2fa: bool,
}

/// The workspace's login requirements.
#[utoipa::path(get, path = "/api/v1/security/settings", tag = "auth", responses((status = 200, body = SecuritySettingsDto), Errors))]
pub async fn get_settings(
    State(s): State<AppState>,
    Cap(a): Cap<Admin>,
) -> ApiResult<J<SecuritySettingsDto>> {
    Ok(J(SecuritySettingsDto { require_2fa: s.app.security_settings(&a).await? }))
}

/// Sets the workspace's login requirements.
#[utoipa::path(put, path = "/api/v1/security/settings", tag = "auth", request_body = SecuritySettingsDto,
    responses((status = 200, body = SecuritySettingsDto), Errors))]
pub async fn put_settings(
    State(s): State<AppState>,
    Cap(a): Cap<Admin>,
    Json(r): Json<SecuritySettingsDto>,
) -> ApiResult<J<SecuritySettingsDto>> {
    Ok(J(SecuritySettingsDto {
        require_2fa: s.app.put_security_settings(&a, r.require_2fa).await?,
    }))
}
