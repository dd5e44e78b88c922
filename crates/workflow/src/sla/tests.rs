//! Tests for `sla`.
