//! Channel adapters wired to storage: each turns its adapter's parsed values (`channels`) into
//! intake's customers, conversations and messages, and sends replies back out as jobs.

pub mod email;
