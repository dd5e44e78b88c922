//! Surveys (FB-1, FB-5), feedback items and imported reviews (FB-2), and the classification
//! signal kept for every inbound message and feedback item (FB-3, FB-4).

use crate::{
    ConversationId, CustomerId, FeedbackId, ProblemCode, SignalId, SurveyId, TeamId, TicketId,
    Timestamp, UserId, WorkspaceId, named_enum,
};

named_enum! {
    pub enum SurveyKind("kind") {
        Csat = "csat",
        Nps = "nps",
        Ces = "ces",
    }
}

impl SurveyKind {
    /// The inclusive score range of the kind.
    pub fn range(self) -> (i64, i64) {
        match self {
            SurveyKind::Csat => (1, 5),
            SurveyKind::Nps => (0, 10),
            SurveyKind::Ces => (1, 7),
        }
    }

    /// The score scaled onto 0.0 (worst) ..= 1.0 (best).
    pub fn normalized(self, score: i64) -> f64 {
        let (lo, hi) = self.range();
        ((score.clamp(lo, hi) - lo) as f64) / ((hi - lo) as f64)
    }
}

named_enum! {
    pub enum SurveyStatus("status") {
        Scheduled = "scheduled",
        Sent = "sent",
        Reminded = "reminded",
        Answered = "answered",
        Expired = "expired",
    }
}

impl SurveyStatus {
    /// Whether the survey can still be answered.
    pub fn is_open(self) -> bool {
        matches!(self, SurveyStatus::Sent | SurveyStatus::Reminded)
    }
}

named_enum! {
    pub enum FeedbackSource("source") {
        Form = "form",
        Api = "api",
        Review = "review",
    }
}

named_enum! {
    pub enum FeedbackStatus("status") {
        Open = "open",
        Handled = "handled",
    }
}

named_enum! {
    pub enum SignalSource("source") {
        Message = "message",
        Feedback = "feedback",
        Review = "review",
    }
}

named_enum! {
    pub enum ContentKind("kind") {
        Inquiry = "inquiry",
        Complaint = "complaint",
        Suggestion = "suggestion",
    }
}

named_enum! {
    pub enum SentimentLabel("sentiment") {
        Negative = "negative",
        Neutral = "neutral",
        Positive = "positive",
    }
}

named_enum! {
    pub enum SignalUrgency("urgency") {
        High = "high",
        Medium = "medium",
        Low = "low",
    }
}

impl SignalUrgency {
    /// The handling deadline after receipt (FB-4): 24, 48 or 72 hours.
    pub fn deadline_hours(self) -> i64 {
        match self {
            SignalUrgency::High => 24,
            SignalUrgency::Medium => 48,
            SignalUrgency::Low => 72,
        }
    }
}

/// Minutes within which a complaint must be assigned (FB-4).
pub const COMPLAINT_ASSIGN_MINUTES: i64 = 15;

/// A custom survey question.
#[derive(Debug, Clone, PartialEq)]
pub struct SurveyQuestion {
    pub id: String,
    pub text: String,
    /// "text" | "choice" | "scale"
    pub kind: String,
    pub options: Vec<String>,
}

/// A workspace's survey configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct SurveySettings {
    pub enabled: bool,
    pub kinds: Vec<SurveyKind>,
    pub delay_minutes: i64,
    pub expiry_hours: i64,
    pub reminder_hours: i64,
    pub csat_low: i64,
    pub nps_low: i64,
    pub ces_low: i64,
    pub special_team: Option<TeamId>,
    pub questions: Vec<SurveyQuestion>,
}

impl Default for SurveySettings {
    fn default() -> SurveySettings {
        SurveySettings {
            enabled: true,
            kinds: vec![SurveyKind::Csat],
            delay_minutes: 5,
            expiry_hours: 24 * 7,
            reminder_hours: 24,
            csat_low: 2,
            nps_low: 6,
            ces_low: 3,
            special_team: None,
            questions: Vec::new(),
        }
    }
}

impl SurveySettings {
    /// Whether `score` of `kind` is at or below the workspace's low-score threshold.
    pub fn is_low(&self, kind: SurveyKind, score: i64) -> bool {
        score
            <= match kind {
                SurveyKind::Csat => self.csat_low,
                SurveyKind::Nps => self.nps_low,
                SurveyKind::Ces => self.ces_low,
            }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Survey {
    pub id: SurveyId,
    pub workspace: WorkspaceId,
    /// The surveys sent together after one solve share the id of the first.
    pub batch: SurveyId,
    pub ticket: Option<TicketId>,
    pub customer: Option<CustomerId>,
    pub conversation: Option<ConversationId>,
    pub kind: SurveyKind,
    pub channel: String,
    pub status: SurveyStatus,
    pub score: Option<i64>,
    pub comment: Option<String>,
    /// Custom question id → answer.
    pub answers: Vec<(String, String)>,
    pub questions: Vec<SurveyQuestion>,
    pub team: Option<TeamId>,
    pub agent: Option<UserId>,
    pub low_score: bool,
    pub followup_ticket: Option<TicketId>,
    pub created_at: Timestamp,
    pub send_at: Timestamp,
    pub sent_at: Option<Timestamp>,
    pub reminded_at: Option<Timestamp>,
    pub answered_at: Option<Timestamp>,
    pub expires_at: Timestamp,
}

/// A stored upload belonging to a feedback item.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedbackAttachment {
    pub id: String,
    /// "image" | "voice"
    pub kind: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub name: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FeedbackItem {
    pub id: FeedbackId,
    pub workspace: WorkspaceId,
    pub customer: Option<CustomerId>,
    pub source: FeedbackSource,
    pub platform: Option<String>,
    pub external_id: Option<String>,
    pub rating: Option<i64>,
    pub body: String,
    pub order_no: Option<String>,
    pub sku: Option<String>,
    pub contact: Option<String>,
    pub ticket: Option<TicketId>,
    pub assignee: Option<UserId>,
    pub attachments: Vec<FeedbackAttachment>,
    pub occurred_at: Timestamp,
    pub created_at: Timestamp,
    pub status: FeedbackStatus,
    pub due_at: Option<Timestamp>,
}

/// The classification of one inbound message or feedback item.
#[derive(Debug, Clone, PartialEq)]
pub struct ContentSignal {
    pub id: SignalId,
    pub workspace: WorkspaceId,
    pub source: SignalSource,
    pub source_id: String,
    pub customer: Option<CustomerId>,
    pub ticket: Option<TicketId>,
    pub conversation: Option<ConversationId>,
    pub channel: Option<String>,
    pub kind: ContentKind,
    pub sentiment: SentimentLabel,
    pub sentiment_score: f64,
    pub strong_negative: bool,
    pub problem_code: Option<ProblemCode>,
    pub urgency: SignalUrgency,
    pub product: Option<String>,
    pub due_at: Timestamp,
    pub assign_due_at: Option<Timestamp>,
    pub overdue: bool,
    pub created_at: Timestamp,
}

/// Uploads a feedback item may carry, and their limits (FB-2).
pub const MAX_UPLOADS: usize = 5;
pub const MAX_IMAGE_BYTES: usize = 5 * 1024 * 1024;
pub const MAX_VOICE_BYTES: usize = 10 * 1024 * 1024;
pub const MAX_FEEDBACK_CHARS: usize = 5000;

/// The media type of uploaded bytes, read from their leading magic bytes (never from what the
/// client claims): `("image" | "voice", content type)`, or `None` for anything else.
pub fn sniff_media(b: &[u8]) -> Option<(&'static str, &'static str)> {
    let at = |i: usize, m: &[u8]| b.len() >= i + m.len() && &b[i..i + m.len()] == m;
    if at(0, b"\xFF\xD8\xFF") {
        Some(("image", "image/jpeg"))
    } else if at(0, b"\x89PNG\r\n\x1a\n") {
        Some(("image", "image/png"))
    } else if at(0, b"GIF87a") || at(0, b"GIF89a") {
        Some(("image", "image/gif"))
    } else if at(0, b"RIFF") && at(8, b"WEBP") {
        Some(("image", "image/webp"))
    } else if at(0, b"RIFF") && at(8, b"WAVE") {
        Some(("voice", "audio/wav"))
    } else if at(0, b"OggS") {
        Some(("voice", "audio/ogg"))
    } else if at(0, b"#!AMR") {
        Some(("voice", "audio/amr"))
    } else if at(0, b"ID3") || (b.len() >= 2 && b[0] == 0xFF && (b[1] & 0xE6) == 0xE2) {
        // An ID3 tag, or an MPEG audio layer III frame sync.
        Some(("voice", "audio/mpeg"))
    } else if at(4, b"ftypM4A ") {
        Some(("voice", "audio/mp4"))
    } else if at(0, b"\x1A\x45\xDF\xA3") {
        // EBML: what browsers' MediaRecorder writes (audio/webm).
        Some(("voice", "audio/webm"))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_by_magic_bytes_only() {
        assert_eq!(sniff_media(b"\xFF\xD8\xFF\xE0rest"), Some(("image", "image/jpeg")));
        assert_eq!(sniff_media(b"\x89PNG\r\n\x1a\n...."), Some(("image", "image/png")));
        assert_eq!(sniff_media(b"RIFF\0\0\0\0WEBPVP8 "), Some(("image", "image/webp")));
        assert_eq!(sniff_media(b"RIFF\0\0\0\0WAVEfmt "), Some(("voice", "audio/wav")));
        assert_eq!(sniff_media(b"OggS\0\x02"), Some(("voice", "audio/ogg")));
        assert_eq!(sniff_media(b"ID3\x04\0"), Some(("voice", "audio/mpeg")));
        assert_eq!(sniff_media(b"\0\0\0\x20ftypM4A \0"), Some(("voice", "audio/mp4")));
        assert_eq!(sniff_media(b"<html><script>"), None);
        assert_eq!(sniff_media(b"MZ\x90\0"), None);
        assert_eq!(sniff_media(b""), None);
        assert_eq!(sniff_media(b"\xFF"), None);
    }

    #[test]
    fn scores_normalise_and_thresholds_apply() {
        assert_eq!(SurveyKind::Csat.normalized(1), 0.0);
        assert_eq!(SurveyKind::Csat.normalized(5), 1.0);
        assert_eq!(SurveyKind::Nps.normalized(5), 0.5);
        assert_eq!(SurveyKind::Ces.normalized(4), 0.5);
        let s = SurveySettings::default();
        assert!(s.is_low(SurveyKind::Csat, 2));
        assert!(!s.is_low(SurveyKind::Csat, 3));
        assert!(s.is_low(SurveyKind::Nps, 6));
        assert!(!s.is_low(SurveyKind::Nps, 7));
    }
}
