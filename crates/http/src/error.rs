//! The one table of public error codes. Every error response is
//! `{"code": "...", "message": "...", "type": "..."}` with the status from [`Code::status`].

use axum::{
    Json,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    MalformedJson,
    InvalidField,
    InvalidQuery,
    Unauthenticated,
    CsrfFailed,
    Forbidden,
    NotFound,
    Conflict,
    InvalidTransition,
    TicketClosed,
    OverAuthority,
    PayloadTooLarge,
    UnsupportedMediaType,
    RateLimited,
    MethodNotAllowed,
    Unavailable,
    Internal,
    Gone,
    CustomerHasOpenCases,
    DeliverySucceeded,
    DeliveryPending,
    SsoDisabled,
    SsoStateInvalid,
    SsoStateExpired,
    SsoStateReused,
    SsoProviderError,
    SsoProviderUnreachable,
    SsoTokenInvalid,
    SsoUnknownUser,
    SsoUserDisabled,
    SsoDomainNotAllowed,
    SsoEmailUnverified,
}

impl Code {
    pub fn status(self) -> StatusCode {
        match self {
            Code::MalformedJson | Code::InvalidField | Code::InvalidQuery => {
                StatusCode::BAD_REQUEST
            }
            Code::Unauthenticated => StatusCode::UNAUTHORIZED,
            Code::CsrfFailed | Code::Forbidden => StatusCode::FORBIDDEN,
            Code::NotFound => StatusCode::NOT_FOUND,
            Code::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Code::Conflict
            | Code::InvalidTransition
            | Code::TicketClosed
            | Code::OverAuthority
            | Code::CustomerHasOpenCases
            | Code::DeliverySucceeded
            | Code::DeliveryPending => StatusCode::CONFLICT,
            Code::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Code::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Code::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            Code::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Code::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            Code::Gone => StatusCode::GONE,
            Code::SsoDisabled => StatusCode::NOT_FOUND,
            Code::SsoStateInvalid | Code::SsoStateExpired | Code::SsoStateReused => {
                StatusCode::BAD_REQUEST
            }
            Code::SsoProviderError | Code::SsoTokenInvalid => StatusCode::UNAUTHORIZED,
            Code::SsoProviderUnreachable => StatusCode::BAD_GATEWAY,
            Code::SsoUnknownUser
            | Code::SsoUserDisabled
            | Code::SsoDomainNotAllowed
            | Code::SsoEmailUnverified => StatusCode::FORBIDDEN,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Code::MalformedJson => "malformed_json",
            Code::InvalidField => "invalid_field",
            Code::InvalidQuery => "invalid_query",
            Code::Unauthenticated => "unauthenticated",
            Code::CsrfFailed => "csrf_failed",
            Code::Forbidden => "forbidden",
            Code::NotFound => "not_found",
            Code::Conflict => "conflict",
            Code::InvalidTransition => "invalid_transition",
            Code::TicketClosed => "ticket_closed",
            Code::OverAuthority => "over_authority",
            Code::PayloadTooLarge => "payload_too_large",
            Code::UnsupportedMediaType => "unsupported_media_type",
            Code::RateLimited => "rate_limited",
            Code::MethodNotAllowed => "method_not_allowed",
            Code::Unavailable => "unavailable",
            Code::Internal => "internal",
            Code::Gone => "gone",
            Code::CustomerHasOpenCases => "customer_has_open_cases",
            Code::DeliverySucceeded => "delivery_succeeded",
            Code::DeliveryPending => "delivery_pending",
            Code::SsoDisabled => "sso_disabled",
            Code::SsoStateInvalid => "sso_state_invalid",
            Code::SsoStateExpired => "sso_state_expired",
            Code::SsoStateReused => "sso_state_reused",
            Code::SsoProviderError => "sso_provider_error",
            Code::SsoProviderUnreachable => "sso_provider_unreachable",
            Code::SsoTokenInvalid => "sso_token_invalid",
            Code::SsoUnknownUser => "sso_unknown_user",
            Code::SsoUserDisabled => "sso_user_disabled",
            Code::SsoDomainNotAllowed => "sso_domain_not_allowed",
            Code::SsoEmailUnverified => "sso_email_unverified",
        }
    }

    /// The broad class, for clients that branch on kind rather than code.
    pub fn kind(self) -> &'static str {
        match self.status().as_u16() {
            401 | 403 => "auth",
            500..=599 => "internal",
            _ => "invalid_request",
        }
    }
}

/// The body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// Stable machine-readable code, e.g. `invalid_field`.
    pub code: &'static str,
    /// What went wrong and what to do, for a person.
    pub message: String,
    /// `invalid_request`, `auth` or `internal`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The offending field, for `invalid_field`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<&'static str>,
}

#[derive(Debug)]
pub struct ApiError {
    pub code: Code,
    pub message: String,
    pub field: Option<&'static str>,
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(code: Code, message: impl Into<String>) -> ApiError {
        ApiError { code, message: message.into(), field: None, retry_after: None }
    }
    pub fn invalid(field: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            code: Code::InvalidField,
            message: message.into(),
            field: Some(field),
            retry_after: None,
        }
    }
}

impl From<app::Error> for ApiError {
    fn from(e: app::Error) -> ApiError {
        use app::Error as E;
        use domain::ticket::TicketError;
        match e {
            E::Invalid(p) => ApiError {
                field: Some(p.field),
                ..ApiError::new(Code::InvalidField, p.to_string())
            },
            E::Unauthenticated(m) => ApiError::new(Code::Unauthenticated, m),
            E::Forbidden(_) => ApiError::new(Code::Forbidden, e.to_string()),
            E::NotFound(_) => ApiError::new(Code::NotFound, e.to_string()),
            E::Conflict(m) => ApiError::new(Code::Conflict, m),
            E::Ticket(t @ TicketError::InvalidTransition { .. }) => {
                ApiError::new(Code::InvalidTransition, t.to_string())
            }
            E::Ticket(t @ TicketError::Closed) => ApiError::new(Code::TicketClosed, t.to_string()),
            E::Compensation(c) => {
                use domain::compensation::CompensationError as C;
                let code = match c {
                    C::NoAuthority { .. }
                    | C::SelfApproval
                    | C::BelowPendingLevel { .. }
                    | C::NotGrantor => Code::Forbidden,
                    C::OverAuthority { .. } | C::AboveHighestAuthority { .. } => {
                        Code::OverAuthority
                    }
                    C::NotPending { .. } | C::NoReportDue => Code::Conflict,
                };
                ApiError::new(code, c.to_string())
            }
            E::Gone(m) => ApiError::new(Code::Gone, m),
            E::OpenCases(m) => ApiError::new(Code::CustomerHasOpenCases, m),
            E::NotRetryable { code, message } => ApiError::new(
                if code == "delivery_pending" {
                    Code::DeliveryPending
                } else {
                    Code::DeliverySucceeded
                },
                message,
            ),
            E::TooLarge(m) => ApiError::new(Code::PayloadTooLarge, m),
            E::UnsupportedMedia(m) => ApiError::new(Code::UnsupportedMediaType, m),
            E::Sso(f) => {
                use app::oidc::SsoFailure as F;
                let code = match f.failure {
                    F::Disabled => Code::SsoDisabled,
                    F::StateInvalid => Code::SsoStateInvalid,
                    F::StateExpired => Code::SsoStateExpired,
                    F::StateReused => Code::SsoStateReused,
                    F::ProviderError => Code::SsoProviderError,
                    F::ProviderUnreachable => Code::SsoProviderUnreachable,
                    F::TokenInvalid => Code::SsoTokenInvalid,
                    F::UnknownUser => Code::SsoUnknownUser,
                    F::UserDisabled => Code::SsoUserDisabled,
                    F::DomainNotAllowed => Code::SsoDomainNotAllowed,
                    F::EmailUnverified => Code::SsoEmailUnverified,
                };
                ApiError::new(code, f.message)
            }
            E::RateLimited { retry_after_secs } => ApiError {
                retry_after: Some(retry_after_secs),
                ..ApiError::new(Code::RateLimited, e.to_string())
            },
            E::Internal(err) => {
                tracing::error!(error = ?err, "internal error");
                ApiError::new(Code::Internal, "internal error; it has been logged")
            }
        }
    }
}

impl From<domain::ParseError> for ApiError {
    fn from(p: domain::ParseError) -> ApiError {
        ApiError::invalid(p.field, p.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            code: self.code.name(),
            message: self.message,
            kind: self.code.kind(),
            field: self.field,
        };
        let mut r = (self.code.status(), Json(body)).into_response();
        if let Some(s) = self.retry_after {
            r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(s.max(1)));
        }
        r
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
