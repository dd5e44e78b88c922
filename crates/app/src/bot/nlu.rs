//! The language engine in the service: intents and their examples, versioned models trained in
//! the background, and analysis of a message with the workspace's active model.

use domain::Timestamp;

/// Offset of the business day from UTC, in hours. Relative dates ("昨天") in customers'
/// messages are read against the calendar in China; per-workspace time zones come later.
pub const BUSINESS_UTC_OFFSET_HOURS: i64 = 8;

/// The calendar day at `now` in the business time zone.
pub fn today(now: Timestamp) -> time::Date {
    let secs = now.millis().div_euclid(1000) + BUSINESS_UTC_OFFSET_HOURS * 3600;
    time::OffsetDateTime::from_unix_timestamp(secs).map(|t| t.date()).unwrap_or(time::Date::MIN)
}
