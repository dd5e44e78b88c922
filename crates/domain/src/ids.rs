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
            /// An id with time prefix `at` and 74 bits of `tail` (random, or a counter): ids
            /// order by `(at, tail)`, in binary and in text.
            pub fn new(at: Timestamp, tail: u128) -> $name {
                let ms = at.millis().max(0) as u128 & ((1 << 48) - 1);
                let rand_a = (tail >> 62) & 0xFFF;
                let rand_b = tail & ((1u128 << 62) - 1);
                let bits = (ms << 80) | (0x7 << 76) | (rand_a << 64) | (0b10 << 62) | rand_b;
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
    IntentId = "intent_id",
    IntentExampleId = "example_id",
    NluModelId = "model_id",
    BotOutcomeId = "bot_outcome_id",
    CompensationId = "compensation_id",
    CollaborationId = "collaboration_id",
    TriggerId = "trigger_id",
    FaqId = "faq_id",
    ArticleId = "article_id",
    ReplyTemplateId = "template_id",
    KbCandidateId = "candidate_id",
    // channels (issue 8)
    ChannelId = "channel_id",
    WebhookId = "webhook_id",
    DeliveryId = "delivery_id",
    OutboundId = "outbound_id",
    VerificationId = "verification_id",
    SurveyId = "survey_id",
    FeedbackId = "feedback_id",
    SignalId = "signal_id",
}

// Alerts, quality inspection and scheduled reports (AN-2, AN-5…AN-7).
id_type! {
    AlertId = "alert_id",
    ReportScheduleId = "schedule_id",
    ReportId = "report_id",
}

// Proactive service (issue 8 item 6).
id_type! {
    ProactiveRuleId = "rule_id",
    ProactiveSendId = "send_id",
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
