//! The learning loop (BOT-7): FAQ candidates mined from the questions the bot could not answer
//! or answered to a low rating, waiting for an editor to accept (a new FAQ entry) or dismiss.

use crate::{Actor, FaqId, KbCandidateId, Timestamp, WorkspaceId, named_enum};

named_enum! {
    /// Open candidates are replaced by each clustering run; decided ones stay.
    pub enum CandidateStatus("status") {
        Open = "open",
        Accepted = "accepted",
        Dismissed = "dismissed",
    }
}

/// A rating at or below this marks the answered question as one to learn from (BOT-5's
/// hand-off bound).
pub const LOW_RATING: i64 = 3;

/// One distinct question of a candidate and how often customers asked it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CandidateQuestion {
    pub text: String,
    pub count: i64,
    /// Of `count`, asked without a match; the rest were answered and then rated low.
    pub unmatched: i64,
    pub low_rated: i64,
}

/// A group of similar questions proposed as one FAQ entry.
#[derive(Debug, Clone, PartialEq)]
pub struct KbCandidate {
    pub id: KbCandidateId,
    pub workspace: WorkspaceId,
    pub status: CandidateStatus,
    /// The question that stands for the group (the suggested canonical question).
    pub question: String,
    /// Most asked first.
    pub questions: Vec<CandidateQuestion>,
    pub total: i64,
    pub unmatched: i64,
    pub low_rated: i64,
    /// Entries whose answers customers rated low for these questions.
    pub faqs: Vec<FaqId>,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub decided_at: Option<Timestamp>,
    pub decided_by: Option<Actor>,
    /// The entry made by accepting it.
    pub faq: Option<FaqId>,
}
