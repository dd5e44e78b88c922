//! Tests for `calendar`.
