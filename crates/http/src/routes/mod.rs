//! Handlers, one module per product area. Each extracts, authorises through a capability,
//! calls one `app` function and maps the result; the route table is in `router.rs`.

pub mod analytics;
pub mod audit;
pub mod auth;
pub mod bot;
pub mod channels;
pub mod collaboration;
pub mod compensation;
pub mod conversations;
pub mod customers;
pub mod directory;
pub mod email;
pub mod events;
pub mod feedback;
pub mod health;
pub mod insights;
pub mod kb;
pub mod learning;
pub mod nlu;
pub mod oidc;
pub mod personal_data;
pub mod proactive;
pub mod public;
pub mod routing;
pub mod sla;
pub mod stages;
pub mod ticket_links;
pub mod tickets;
pub mod translation;
pub mod triggers;
pub mod two_factor;
pub mod uploads;

use base64::Engine;
use utoipa::IntoResponses;

use crate::error::{ApiError, Code, ErrorBody};

/// The error responses every authenticated endpoint may give.
#[derive(IntoResponses)]
#[allow(dead_code)] // Only read by the OpenAPI generator.
pub enum Errors {
    /// Malformed JSON or an invalid value.
    #[response(status = 400)]
    BadRequest(ErrorBody),
    /// No or invalid credentials.
    #[response(status = 401)]
    Unauthenticated(ErrorBody),
    /// The caller's role may not do this, or the CSRF token is missing.
    #[response(status = 403)]
    Forbidden(ErrorBody),
    /// Absent, or not visible to the caller.
    #[response(status = 404)]
    NotFound(ErrorBody),
    /// Conflicts with the current state.
    #[response(status = 409)]
    Conflict(ErrorBody),
    /// Too many requests; see Retry-After.
    #[response(status = 429)]
    RateLimited(ErrorBody),
}

/// The page asked for by `?limit=&cursor=` (limit 1 to 200, default 50).
pub fn page_of(limit: Option<i64>, cursor: Option<&str>) -> Result<app::db::Page, ApiError> {
    let limit = limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::new(Code::InvalidQuery, "limit must be between 1 and 200"));
    }
    let before = match cursor {
        None => None,
        Some(c) => Some(decode_cursor(c).ok_or_else(|| {
            ApiError::new(Code::InvalidQuery, "cursor is not one this server issued")
        })?),
    };
    // One extra row tells whether another page follows.
    Ok(app::db::Page { limit: limit + 1, before })
}

fn decode_cursor(c: &str) -> Option<(i64, String)> {
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(c).ok()?;
    let s = String::from_utf8(raw).ok()?;
    let (k, id) = s.split_once('|')?;
    Some((k.parse().ok()?, id.to_string()))
}

fn encode_cursor(key: i64, id: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{key}|{id}"))
}

/// Turns `limit + 1` rows into a page of `limit` items and the cursor after the last one.
pub fn paginate<T, D: utoipa::ToSchema>(
    mut rows: Vec<T>,
    page: &app::db::Page,
    key: impl Fn(&T) -> (i64, String),
    dto: impl Fn(&T) -> D,
) -> crate::dto::Page<D> {
    let limit = (page.limit - 1) as usize;
    let more = rows.len() > limit;
    rows.truncate(limit);
    let next_cursor = if more {
        rows.last().map(|r| {
            let (k, id) = key(r);
            encode_cursor(k, &id)
        })
    } else {
        None
    };
    crate::dto::Page { items: rows.iter().map(dto).collect(), next_cursor }
}

/// Parses an id from the path; a malformed one is a 404 like any unknown id.
pub fn path_id<T>(
    s: &str,
    parse: fn(&str) -> Result<T, domain::ParseError>,
    what: &str,
) -> Result<T, ApiError> {
    parse(s).map_err(|_| ApiError::new(Code::NotFound, format!("{what} not found")))
}
