//! The outcomes of a use case other than success. Expected ones are variants the caller
//! matches on; anything unexpected is `Internal`, with its context chain.

use domain::{ParseError, compensation::CompensationError, ticket::TicketError};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A value failed to parse or check; names the field.
    #[error(transparent)]
    Invalid(#[from] ParseError),
    /// No credentials, or credentials that are wrong or expired.
    #[error("{0}")]
    Unauthenticated(&'static str),
    /// Authenticated, but the role may not do this.
    #[error("your role may not {0}")]
    Forbidden(&'static str),
    /// Absent, or in another workspace, or not visible to the caller: the same answer for all.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The request contradicts the current state.
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Ticket(#[from] TicketError),
    /// A compensation action refused by the authority rules (TK-7).
    #[error(transparent)]
    Compensation(#[from] CompensationError),
    /// A customer cannot be erased while one of their tickets is still being worked (PL-4).
    #[error("{0}")]
    OpenCases(String),
    /// A webhook delivery that cannot be sent again now: `code` is `delivery_succeeded` or
    /// `delivery_pending` (issue 6).
    #[error("{message}")]
    NotRetryable { code: &'static str, message: String },
    /// The thing existed but is no longer usable (an answered or expired survey link).
    #[error("{0}")]
    Gone(String),
    /// An upload over its size limit.
    #[error("{0}")]
    TooLarge(String),
    /// An upload whose bytes are not an accepted type.
    #[error("{0}")]
    UnsupportedMedia(String),
    /// A single sign-on that failed (OIDC), with its reason.
    #[error(transparent)]
    Sso(#[from] crate::oidc::SsoError),
    #[error("too many attempts; try again in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Turns "no such row" into the caller-facing 404.
pub(crate) trait OrNotFound<T> {
    fn or_not_found(self, what: &'static str) -> Result<T>;
}

impl<T> OrNotFound<T> for Option<T> {
    fn or_not_found(self, what: &'static str) -> Result<T> {
        self.ok_or(Error::NotFound(what))
    }
}
