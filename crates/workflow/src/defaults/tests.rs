//! Tests for `defaults`.
