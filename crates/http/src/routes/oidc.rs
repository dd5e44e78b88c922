//! OIDC single sign-on: whether a workspace offers it, the start redirect to the provider, the
//! callback that opens the session, and the admins' provider settings (secret write-only).
//! Browsers (`Accept: text/html`) get redirects, to the login page with `sso_error=<code>` on
//! failure; API callers get JSON (the login body on success, `{code, message}` on failure).

use app::{
    auth::Admin,
    oidc::{Callback, SsoSettingsInput, SsoSettingsView},
};
use axum::{
    Json as J,
    extract::{Path, State},
    http::{HeaderMap, HeaderValue, StatusCode, header, request::Parts},
    response::{IntoResponse, Response},
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{
    AppState,
    error::{ApiError, ApiResult},
    extract::{Cap, Json, Query, cookie},
    routes::{Errors, auth::Meta, auth::session_response},
};

/// The cookie binding a sign-on attempt to the browser that started it.
pub const SSO_COOKIE: &str = "huiting_sso";
/// A short-lived cookie the login page reads once: the CSRF token of an SSO session.
pub const CSRF_COOKIE: &str = "huiting_csrf";
const COOKIE_PATH: &str = "/api/v1/auth/oidc";

#[derive(Debug, Serialize, ToSchema)]
pub struct SsoInfo {
    /// The workspace offers "Sign in with SSO" (false for an unknown workspace too).
    pub enabled: bool,
    /// Where the button goes.
    pub start_url: String,
}

/// Whether a workspace offers single sign-on, for the login page. No login needed.
#[utoipa::path(get, path = "/api/v1/auth/oidc/{workspace}", tag = "auth",
    params(("workspace" = String, Path, description = "The workspace's short name")),
    responses((status = 200, body = SsoInfo), Errors))]
pub async fn info(
    State(s): State<AppState>,
    Path(workspace): Path<String>,
) -> ApiResult<J<SsoInfo>> {
    let enabled = s.app.sso_enabled(&workspace).await?;
    let slug = workspace.trim().to_lowercase();
    Ok(J(SsoInfo { enabled, start_url: format!("{COOKIE_PATH}/{slug}/start") }))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct StartQuery {
    /// A local path to open after login (default `/`).
    pub next: Option<String>,
}

fn wants_html(parts: &Parts) -> bool {
    parts
        .headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"))
}

fn redirect(to: &str, cookies: &[String]) -> Response {
    let mut h = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(to) {
        h.insert(header::LOCATION, v);
    }
    for c in cookies {
        if let Ok(v) = HeaderValue::from_str(c) {
            h.append(header::SET_COOKIE, v);
        }
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    (StatusCode::SEE_OTHER, h).into_response()
}

/// Percent-encodes a query value (unreserved characters and `/` stay).
fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A failure as the caller wants it: JSON, or the login page with the error's code.
fn failure(parts: &Parts, slug: &str, e: app::Error, clear: bool) -> Response {
    let api = ApiError::from(e);
    if !wants_html(parts) {
        return api.into_response();
    }
    let to = format!("/login?sso_error={}&workspace={}", api.code.name(), enc(slug));
    let cookies = if clear { vec![clear_sso_cookie()] } else { Vec::new() };
    redirect(&to, &cookies)
}

fn clear_sso_cookie() -> String {
    format!("{SSO_COOKIE}=; Path={COOKIE_PATH}; HttpOnly; SameSite=Lax; Max-Age=0")
}

/// Starts single sign-on: a 303 to the provider's authorization endpoint (code flow, PKCE
/// S256, state, nonce), with a cookie binding the attempt to this browser for 10 minutes.
#[utoipa::path(get, path = "/api/v1/auth/oidc/{workspace}/start", tag = "auth",
    params(("workspace" = String, Path, description = "The workspace's short name"), StartQuery),
    responses((status = 303, description = "To the identity provider"), Errors))]
pub async fn start(
    State(s): State<AppState>,
    Path(workspace): Path<String>,
    Meta(parts): Meta,
    Query(q): Query<StartQuery>,
) -> Response {
    match s.app.sso_start(&workspace, q.next.as_deref()).await {
        Ok(st) => {
            let secure = if s.secure_cookies { "; Secure" } else { "" };
            let c = format!(
                "{SSO_COOKIE}={}; Path={COOKIE_PATH}; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
                st.browser_secret,
                app::oidc::ATTEMPT_SECS
            );
            redirect(&st.authorize_url, &[c])
        }
        Err(e) => failure(&parts, &workspace, e, false),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct CallbackQuery {
    pub code: Option<String>,
    pub state: Option<String>,
    /// Set by the provider instead of `code` when it refused (e.g. `access_denied`).
    pub error: Option<String>,
    pub error_description: Option<String>,
    /// The issuer of the response (RFC 9207), checked when present.
    pub iss: Option<String>,
}

/// The provider's redirect back: exchanges the code, verifies the ID token, finds the staff
/// user and sets the same session cookie a password login sets. Browsers go on to the login
/// page (`/login?sso=ok&next=…`, which picks up the CSRF token from a one-minute cookie);
/// API callers get the login body.
#[utoipa::path(get, path = "/api/v1/auth/oidc/{workspace}/callback", tag = "auth",
    params(("workspace" = String, Path, description = "The workspace's short name"), CallbackQuery),
    responses((status = 200, body = crate::routes::auth::LoginResponse),
        (status = 303, description = "A browser: to the web app, or to the login page with sso_error"),
        Errors))]
pub async fn callback(
    State(s): State<AppState>,
    Path(workspace): Path<String>,
    Meta(parts): Meta,
    Query(q): Query<CallbackQuery>,
) -> Response {
    let cb = Callback {
        code: q.code,
        state: q.state,
        error: q.error,
        error_description: q.error_description,
        iss: q.iss,
    };
    let browser = cookie(&parts, SSO_COOKIE);
    let login = match s.app.sso_callback(&workspace, cb, browser).await {
        Ok(l) => l,
        Err(e) => return failure(&parts, &workspace, e, true),
    };
    if !wants_html(&parts) {
        let mut r = match session_response(&s, login.session, None) {
            Ok(r) => r,
            Err(e) => return e.into_response(),
        };
        if let Ok(v) = HeaderValue::from_str(&clear_sso_cookie()) {
            r.headers_mut().append(header::SET_COOKIE, v);
        }
        return r;
    }
    let secure = if s.secure_cookies { "; Secure" } else { "" };
    let max_age = (login.session.expires_at.millis() - s.app.now().millis()) / 1000;
    let session = format!(
        "{}={}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}",
        crate::extract::SESSION_COOKIE,
        login.session.token
    );
    let csrf = format!(
        "{CSRF_COOKIE}={}; Path=/; SameSite=Lax; Max-Age=60{secure}",
        login.session.csrf_token
    );
    let to = format!("/login?sso=ok&next={}", enc(&login.next));
    redirect(&to, &[session, csrf, clear_sso_cookie()])
}

/// The workspace's identity provider as read back: the client secret never leaves.
#[derive(Debug, Serialize, ToSchema)]
pub struct SsoSettingsDto {
    /// E.g. `https://login.example.com`; its `/.well-known/openid-configuration` is read.
    pub issuer: String,
    pub client_id: String,
    /// Whether a client secret is stored (it is write-only).
    pub client_secret_set: bool,
    pub enabled: bool,
    /// Email domains allowed to sign in (empty: any).
    pub allowed_domains: Vec<String>,
    /// The role users unknown to Huiting are created with; null refuses them.
    pub provision_role: Option<String>,
    /// Hosts allowed on internal addresses (a provider on the intranet or loopback).
    pub allow_hosts: Vec<String>,
    /// The callback URL to register at the provider.
    pub redirect_uri: String,
}

impl From<SsoSettingsView> for SsoSettingsDto {
    fn from(v: SsoSettingsView) -> Self {
        SsoSettingsDto {
            issuer: v.issuer,
            client_id: v.client_id,
            client_secret_set: v.client_secret_set,
            enabled: v.enabled,
            allowed_domains: v.allowed_domains,
            provision_role: v.provision_role.map(|r| r.to_string()),
            allow_hosts: v.allow_hosts,
            redirect_uri: v.redirect_uri,
        }
    }
}

/// New provider settings. A missing, empty or `***` client secret keeps the stored one.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SsoSettingsRequest {
    pub issuer: String,
    pub client_id: String,
    #[serde(default)]
    pub client_secret: Option<String>,
    pub enabled: bool,
    #[serde(default)]
    pub allowed_domains: Vec<String>,
    /// `agent`, `supervisor`, `cs_head` or `auditor`; null or absent refuses unknown users.
    #[serde(default)]
    pub provision_role: Option<String>,
    #[serde(default)]
    pub allow_hosts: Vec<String>,
}

/// The workspace's single sign-on provider (admins).
#[utoipa::path(get, path = "/api/v1/security/sso", tag = "auth",
    responses((status = 200, body = SsoSettingsDto), Errors))]
pub async fn get_settings(
    State(s): State<AppState>,
    Cap(a): Cap<Admin>,
) -> ApiResult<J<SsoSettingsDto>> {
    Ok(J(s.app.sso_settings(&a).await?.into()))
}

/// Sets the single sign-on provider. Enabling it reads the issuer's discovery document and
/// key set first (an unreachable or wrong issuer is a 400 on `issuer`).
#[utoipa::path(put, path = "/api/v1/security/sso", tag = "auth", request_body = SsoSettingsRequest,
    responses((status = 200, body = SsoSettingsDto), Errors))]
pub async fn put_settings(
    State(s): State<AppState>,
    Cap(a): Cap<Admin>,
    Json(r): Json<SsoSettingsRequest>,
) -> ApiResult<J<SsoSettingsDto>> {
    let input = SsoSettingsInput {
        issuer: r.issuer,
        client_id: r.client_id,
        client_secret: r.client_secret,
        enabled: r.enabled,
        allowed_domains: r.allowed_domains,
        provision_role: r.provision_role,
        allow_hosts: r.allow_hosts,
    };
    Ok(J(s.app.put_sso_settings(&a, input).await?.into()))
}
