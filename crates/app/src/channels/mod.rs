//! Channels (IN-1, IN-2, PL-2): configured channel endpoints and the use cases behind them.
//! The vendor payloads are parsed by the `channels` crate; this module stores and routes.

pub mod config;
pub mod email;
pub mod identity;
pub mod inbound;
pub mod outbound;
pub mod webhooks;
