//! Typed identifiers. Every id is a UUIDv7 (time-ordered, so inserts append to indexes) wrapped
//! in a newtype so a `TicketId` can never be passed where a `CustomerId` is expected.

use std::fmt;

use uuid::Uuid;

use crate::{ParseError, Timestamp};

macro_rules! id_type {
    ($($name:ident = $label:literal),+ $(,)?) => {$(
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(Uuid);

        impl $name {
            /// A fresh id whose time prefix is `at`, with random low bits.
            pub fn new(at: Timestamp, random: u128) -> $name {
                let ms = at.millis().max(0) as u128 & ((1 << 48) - 1);
                let bits = (ms << 80) | (random & ((1u128 << 80) - 1));
                // Set version 7 and the RFC 4122 variant.
                let bits = (bits & !(0xF << 76)) | (0x7 << 76);
                let bits = (bits & !(0b11 << 62)) | (0b10 << 62);
                $name(Uuid::from_u128(bits))
            }
            pub fn parse(s: &str) -> Result<$name, ParseError> {
                Uuid::parse_str(s.trim())
                    .map($name)
                    .map_err(|_| ParseError::new($label, format!("{s:?} is not a valid id")))
            }
            pub fn as_uuid(self) -> Uuid {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0.hyphenated(), f)
            }
        }
    )+};
}

id_type! {
    WorkspaceId = "workspace_id",
    UserId = "user_id",
    TeamId = "team_id",
    CustomerId = "customer_id",
    ConversationId = "conversation_id",
    MessageId = "message_id",
    TicketId = "ticket_id",
    TokenId = "token_id",
    JobId = "job_id",
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_v7_and_time_ordered() {
        let a = TicketId::new(Timestamp::from_millis(1_000), u128::MAX);
        let b = TicketId::new(Timestamp::from_millis(1_001), 0);
        assert_eq!(a.as_uuid().get_version_num(), 7);
        assert!(a < b);
        assert_eq!(TicketId::parse(&a.to_string()), Ok(a));
        assert!(TicketId::parse("nope").is_err());
    }
}
