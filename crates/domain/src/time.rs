//! Instants as UTC milliseconds, and the [`Clock`] through which the rest of the system learns
//! the time. Nothing outside the binary and test-support reads the system clock.

use std::fmt;

/// Milliseconds since the Unix epoch, UTC. The storage and comparison unit for every instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(i64);

impl Timestamp {
    pub const fn from_millis(ms: i64) -> Timestamp {
        Timestamp(ms)
    }
    pub const fn millis(self) -> i64 {
        self.0
    }
    pub const fn plus_millis(self, ms: i64) -> Timestamp {
        Timestamp(self.0.saturating_add(ms))
    }
    pub const fn plus_secs(self, s: i64) -> Timestamp {
        self.plus_millis(s.saturating_mul(1000))
    }
    pub const fn plus_hours(self, h: i64) -> Timestamp {
        self.plus_secs(h.saturating_mul(3600))
    }
    pub const fn plus_days(self, d: i64) -> Timestamp {
        self.plus_hours(d.saturating_mul(24))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}ms", self.0)
    }
}

/// The only source of "now". Production uses the system clock; tests step a fake one.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> Timestamp;
}
