//! Language detection.
