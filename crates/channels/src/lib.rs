//! Channel adapters (IN-1, PL-2). One module per channel; each parses a vendor's inbound
//! payloads into domain values and formats outbound ones. Parsers never panic on any input
//! (they are fuzzed: see `fuzz/`). Storage and use cases live in `app`.

pub mod config;
pub mod email;
pub mod phone;
pub mod sign;
pub mod sms;
pub mod webhook;
pub mod wechat;
