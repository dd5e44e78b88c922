//! Login, logout and the caller's identity.

use app::{
    auth::{Session, Staff},
    two_factor::LoginOutcome,
};
use axum::{
    extract::{FromRequestParts, State},
    http::{HeaderMap, HeaderValue, StatusCode, header, request::Parts},
    response::{IntoResponse, Response},
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    AppState,
    dto::{UserDto, rfc3339},
    error::{ApiError, ApiResult},
    extract::{Cap, Json, SESSION_COOKIE, client_ip, cookie},
    routes::Errors,
};

#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginRequest {
    /// The workspace's short name, e.g. `demo`.
    pub workspace: String,
    pub email: String,
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    pub user: UserDto,
    /// Send as `X-CSRF-Token` on every POST, PATCH, PUT and DELETE made with the cookie.
    pub csrf_token: String,
    pub expires_at: String,
    /// One-time recovery codes, only when this login confirmed a two-factor enrolment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovery_codes: Option<Vec<String>>,
}

/// The raw request parts, for reading the client address and cookies.
pub struct Meta(pub Parts);

impl<S: Send + Sync> FromRequestParts<S> for Meta {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Meta, Self::Rejection> {
        Ok(Meta(parts.clone()))
    }
}

/// The second step a login needs when the user has two-factor login on (or the workspace
/// requires it): send the challenge with a code to `POST /auth/2fa`.
#[derive(Debug, Serialize, ToSchema)]
pub struct SecondFactorRequired {
    /// Always true.
    pub second_factor_required: bool,
    /// Valid for 5 minutes and 5 wrong codes.
    pub challenge: String,
    pub expires_at: String,
    /// The workspace requires two-factor login and the user has none yet: call
    /// `POST /auth/2fa/enroll` with the challenge, then `POST /auth/2fa` with a code.
    pub enrollment_required: bool,
}

/// A session (the cookie is set), or the second step to take.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum LoginReply {
    Session(LoginResponse),
    SecondFactor(SecondFactorRequired),
}

/// Logs in with a password and sets the session cookie (HttpOnly, SameSite=Lax); with
/// two-factor login on, answers with a challenge instead.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = LoginReply), Errors))]
pub async fn login(
    State(s): State<AppState>,
    Meta(parts): Meta,
    Json(req): Json<LoginRequest>,
) -> ApiResult<Response> {
    let outcome = s.app.login(&req.workspace, &req.email, &req.password, client_ip(&parts)).await?;
    match outcome {
        LoginOutcome::Session(session) => session_response(&s, session, None),
        LoginOutcome::SecondFactor(c) => {
            Ok(axum::Json(LoginReply::SecondFactor(SecondFactorRequired {
                second_factor_required: true,
                challenge: c.token,
                expires_at: rfc3339(c.expires_at),
                enrollment_required: c.enrollment_required,
            }))
            .into_response())
        }
    }
}

/// The session cookie and the login body.
pub(crate) fn session_response(
    s: &AppState,
    session: Session,
    recovery_codes: Option<Vec<String>>,
) -> ApiResult<Response> {
    let secure = if s.secure_cookies { "; Secure" } else { "" };
    let max_age = (session.expires_at.millis() - s.app.now().millis()) / 1000;
    let cookie = format!(
        "{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}",
        session.token
    );
    let body = LoginResponse {
        user: UserDto::from(&session.user),
        csrf_token: session.csrf_token,
        expires_at: rfc3339(session.expires_at),
        recovery_codes,
    };
    let mut headers = HeaderMap::new();
    headers.insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&cookie)
            .map_err(|e| ApiError::from(app::Error::Internal(e.into())))?,
    );
    Ok((StatusCode::OK, headers, axum::Json(body)).into_response())
}

/// Ends the session and clears the cookie.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", responses((status = 204), Errors))]
pub async fn logout(
    State(s): State<AppState>,
    _who: Cap<Staff>,
    Meta(parts): Meta,
) -> ApiResult<Response> {
    if let Some(token) = cookie(&parts, SESSION_COOKIE) {
        s.app.logout(token).await?;
    }
    let clear = format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0");
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, clear)]).into_response())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MeResponse {
    /// Absent when calling with an API token.
    pub user: Option<UserDto>,
    pub role: String,
    pub workspace: WorkspaceDto,
    /// What the caller may do, for showing and hiding UI.
    pub permissions: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WorkspaceDto {
    pub id: String,
    pub slug: String,
    pub name: String,
    pub ticket_prefix: String,
    /// The key a web page embeds to open chats.
    pub public_key: String,
}

/// The caller: user, role, workspace and permissions.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth", responses((status = 200, body = MeResponse), Errors))]
pub async fn me(
    State(s): State<AppState>,
    Cap(who): Cap<Staff>,
) -> ApiResult<axum::Json<MeResponse>> {
    use domain::Permission::*;
    let user = s.app.me(&who).await?;
    let ws = s.app.workspace(&who).await?;
    let perms = [
        (ReadAllCases, "read_all_cases"),
        (WriteCases, "write_cases"),
        (AddNotes, "add_notes"),
        (SuperviseCases, "supervise_cases"),
        (ManageCatalog, "manage_catalog"),
        (ManageUsers, "manage_users"),
        (ReadAudit, "read_audit"),
        (ManageBot, "manage_bot"),
        (GrantCompensation, "grant_compensation"),
        (ApproveCompensation, "approve_compensation"),
    ];
    Ok(axum::Json(MeResponse {
        user: user.as_ref().map(UserDto::from),
        role: who.role.to_string(),
        workspace: WorkspaceDto {
            id: ws.id.to_string(),
            slug: ws.slug,
            name: ws.name,
            ticket_prefix: ws.ticket_prefix,
            public_key: ws.public_key,
        },
        permissions: perms
            .iter()
            .filter(|(p, _)| who.allows(*p))
            .map(|(_, n)| n.to_string())
            .collect(),
    }))
}
