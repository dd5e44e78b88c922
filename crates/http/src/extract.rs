//! Request extractors: JSON and query bodies whose rejections use the error table, and the
//! authentication extractors that yield capabilities ([`Cap`]) and visitors ([`VisitorAuth`]).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use app::auth::{Capability, Principal, Visitor};
use axum::{
    extract::{
        ConnectInfo, FromRequest, FromRequestParts,
        rejection::{JsonRejection, QueryRejection},
    },
    http::{Method, header, request::Parts},
};

use crate::{
    AppState,
    error::{ApiError, Code},
};

/// The session cookie. HttpOnly, SameSite=Lax; `Secure` when served over TLS.
pub const SESSION_COOKIE: &str = "huiting_session";
/// The header that must echo the session's CSRF token on unsafe requests.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// `axum::Json`, with rejections in the error table's shape.
#[derive(Debug, FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct Json<T>(pub T);

impl<T: serde::Serialize> axum::response::IntoResponse for Json<T> {
    fn into_response(self) -> axum::response::Response {
        axum::Json(self.0).into_response()
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> ApiError {
        match r {
            JsonRejection::JsonDataError(e) => {
                // serde's message names the field and the problem, e.g. "unknown variant `x`".
                let detail = std::error::Error::source(&e)
                    .map(ToString::to_string)
                    .unwrap_or_else(|| e.body_text());
                ApiError::new(Code::InvalidField, format!("invalid request body: {detail}"))
            }
            JsonRejection::JsonSyntaxError(e) => {
                let detail = std::error::Error::source(&e)
                    .map(ToString::to_string)
                    .unwrap_or_else(|| e.body_text());
                ApiError::new(Code::MalformedJson, format!("the body is not valid JSON: {detail}"))
            }
            JsonRejection::MissingJsonContentType(_) => ApiError::new(
                Code::UnsupportedMediaType,
                "send the body as JSON with Content-Type: application/json",
            ),
            JsonRejection::BytesRejection(b)
                if b.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE =>
            {
                ApiError::new(
                    Code::PayloadTooLarge,
                    "the request body is larger than the server accepts",
                )
            }
            other => ApiError::new(Code::MalformedJson, other.body_text()),
        }
    }
}

/// `axum::extract::Query`, with rejections in the error table's shape.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct Query<T>(pub T);

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> ApiError {
        ApiError::new(Code::InvalidQuery, format!("invalid query string: {}", r.body_text()))
    }
}

/// A capability proven by the caller's session cookie or API token.
#[derive(Debug)]
pub struct Cap<T>(pub T);

impl<T: Capability + Send> FromRequestParts<AppState> for Cap<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let p = principal(parts, state).await?;
        Ok(Cap(T::from_principal(p)?))
    }
}

pub(crate) fn bearer(parts: &Parts) -> Option<&str> {
    let v = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

pub fn cookie<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|kv| {
            let (k, v) = kv.trim().split_once('=')?;
            (k == name).then_some(v)
        })
}

/// The client address, for rate limits.
pub fn client_ip(parts: &Parts) -> IpAddr {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip())
}

async fn principal(parts: &mut Parts, state: &AppState) -> Result<Principal, ApiError> {
    if let Some(p) = parts.extensions.get::<Principal>() {
        return Ok(p.clone());
    }
    let p = if let Some(token) = bearer(parts) {
        if token.starts_with("hv_") {
            return Err(ApiError::new(
                Code::Forbidden,
                "a visitor token cannot call staff endpoints",
            ));
        }
        state.app.authenticate_token(token).await?
    } else if let Some(session) = cookie(parts, SESSION_COOKIE) {
        let p = state.app.authenticate_session(session).await?;
        check_csrf(parts, &p)?;
        p
    } else {
        return Err(ApiError::new(
            Code::Unauthenticated,
            "log in, or send Authorization: Bearer <API token>",
        ));
    };
    parts.extensions.insert(p.clone());
    Ok(p)
}

/// Cookie-authenticated requests that change state must echo the session's CSRF token, and a
/// cookie-authenticated WebSocket must come from our own origin.
fn check_csrf(parts: &Parts, p: &Principal) -> Result<(), ApiError> {
    let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
    if safe {
        let upgrade = parts.headers.get(header::UPGRADE).is_some();
        if upgrade && !same_origin(parts) {
            return Err(ApiError::new(Code::CsrfFailed, "WebSocket from another origin refused"));
        }
        return Ok(());
    }
    let sent = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
    match (sent, p.csrf_token.as_deref()) {
        (Some(s), Some(want)) if constant_eq(s.as_bytes(), want.as_bytes()) => Ok(()),
        _ => Err(ApiError::new(
            Code::CsrfFailed,
            "missing or wrong X-CSRF-Token header; use the token returned at login",
        )),
    }
}

fn same_origin(parts: &Parts) -> bool {
    let Some(origin) = parts.headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let host = parts.headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or_default();
    origin.split_once("://").is_some_and(|(_, h)| h == host)
}

pub fn constant_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A widget visitor, by `Authorization: Bearer hv_…` (or `?token=` on the WebSocket).
#[derive(Debug, Clone, Copy)]
pub struct VisitorAuth(pub Visitor);

impl FromRequestParts<AppState> for VisitorAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer(parts).map(str::to_string).or_else(|| {
            let q = parts.uri.query()?;
            q.split('&').find_map(|kv| kv.strip_prefix("token=").map(str::to_string))
        });
        match token {
            Some(t) if t.starts_with("hv_") => {
                Ok(VisitorAuth(state.app.authenticate_visitor(&t).await?))
            }
            Some(_) => Err(ApiError::new(
                Code::Unauthenticated,
                "this endpoint takes a visitor token (hv_…)",
            )),
            None => Err(ApiError::new(
                Code::Unauthenticated,
                "send Authorization: Bearer <visitor token> from opening the chat",
            )),
        }
    }
}

/// The optional `Idempotency-Key` header.
#[derive(Debug, Clone)]
pub struct IdempotencyKey(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        match parts.headers.get("idempotency-key") {
            None => Ok(IdempotencyKey(None)),
            Some(v) => v
                .to_str()
                .map(|s| IdempotencyKey(Some(s.trim().to_string())))
                .map_err(|_| ApiError::invalid("Idempotency-Key", "must be visible ASCII")),
        }
    }
}
