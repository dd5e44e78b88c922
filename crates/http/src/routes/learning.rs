//! The learning loop (BOT-7): the FAQ-candidate queue (staff read; admin, cs_head and
//! supervisor refresh, accept and dismiss), and an agent's correction of a customer message's
//! intent, which becomes training data.

use app::{
    auth::{Agent, BotEditor, Staff},
    bot::learning::{Acceptance, Accepted},
};
use axum::{
    Json as J,
    extract::{Path, State},
};
use domain::{CandidateStatus, ConversationId, KbCandidate, KbCandidateId, KbLang, MessageId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{
    AppState,
    dto::{NluModelDto, opt_rfc3339, rfc3339},
    error::ApiResult,
    extract::{Cap, Json, Query},
    kb_dto::FaqDto,
    routes::{Errors, path_id},
};

#[derive(Debug, Serialize, ToSchema)]
pub struct CandidateQuestionDto {
    pub text: String,
    /// Times customers asked it in the window.
    pub count: i64,
    /// Of those, without a match.
    pub unmatched: i64,
    /// Of those, answered and then rated 3 or lower.
    pub low_rated: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CandidateDto {
    pub id: String,
    /// open, accepted or dismissed
    pub status: String,
    /// The suggested canonical question (after acceptance: the entry's question).
    pub question: String,
    /// The member questions, most asked first.
    pub questions: Vec<CandidateQuestionDto>,
    pub total: i64,
    pub unmatched: i64,
    pub low_rated: i64,
    /// FAQ entries whose answers were rated low for these questions.
    pub faq_ids: Vec<String>,
    pub first_seen: String,
    pub last_seen: String,
    pub created_at: String,
    pub decided_at: Option<String>,
    pub decided_by: Option<String>,
    /// The entry made by accepting it.
    pub faq_id: Option<String>,
}

impl From<&KbCandidate> for CandidateDto {
    fn from(k: &KbCandidate) -> CandidateDto {
        CandidateDto {
            id: k.id.to_string(),
            status: k.status.to_string(),
            question: k.question.clone(),
            questions: k
                .questions
                .iter()
                .map(|q| CandidateQuestionDto {
                    text: q.text.clone(),
                    count: q.count,
                    unmatched: q.unmatched,
                    low_rated: q.low_rated,
                })
                .collect(),
            total: k.total,
            unmatched: k.unmatched,
            low_rated: k.low_rated,
            faq_ids: k.faqs.iter().map(ToString::to_string).collect(),
            first_seen: rfc3339(k.first_seen),
            last_seen: rfc3339(k.last_seen),
            created_at: rfc3339(k.created_at),
            decided_at: opt_rfc3339(k.decided_at),
            decided_by: k.decided_by.map(|a| a.to_string()),
            faq_id: k.faq.map(|f| f.to_string()),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct CandidateParams {
    /// open (default), accepted, dismissed or all
    pub status: Option<String>,
}

/// The FAQ candidates: groups of similar questions the bot could not answer or answered to a
/// low rating, most asked first.
#[utoipa::path(get, path = "/api/v1/kb/candidates", tag = "kb", params(CandidateParams), responses((status = 200, body = [CandidateDto]), Errors))]
pub async fn list(
    State(s): State<AppState>,
    Cap(who): Cap<Staff>,
    Query(p): Query<CandidateParams>,
) -> ApiResult<J<Vec<CandidateDto>>> {
    let status = match p.status.as_deref() {
        None => Some(CandidateStatus::Open),
        Some("all") => None,
        Some(x) => Some(CandidateStatus::parse(x)?),
    };
    Ok(J(s.app.list_candidates(&who, status).await?.iter().map(CandidateDto::from).collect()))
}

#[utoipa::path(get, path = "/api/v1/kb/candidates/{id}", tag = "kb", params(("id" = String, Path)), responses((status = 200, body = CandidateDto), Errors))]
pub async fn get(
    State(s): State<AppState>,
    Cap(who): Cap<Staff>,
    Path(id): Path<String>,
) -> ApiResult<J<CandidateDto>> {
    let id = path_id(&id, KbCandidateId::parse, "candidate")?;
    Ok(J(CandidateDto::from(&s.app.get_candidate(&who, id).await?)))
}

/// Clusters the last 30 days' questions now (the daily job does it too); returns the open
/// candidates. Accepted and dismissed questions are not proposed again.
#[utoipa::path(post, path = "/api/v1/kb/candidates/refresh", tag = "kb", responses((status = 200, body = [CandidateDto]), Errors))]
pub async fn refresh(
    State(s): State<AppState>,
    Cap(who): Cap<BotEditor>,
) -> ApiResult<J<Vec<CandidateDto>>> {
    Ok(J(s.app.refresh_candidates(&who).await?.iter().map(CandidateDto::from).collect()))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AcceptRequest {
    /// The canonical question (default: the candidate's).
    pub question: Option<String>,
    /// Markdown, up to 5000 characters.
    pub answer: String,
    /// Other ways to ask it (default: the candidate's questions).
    pub variants: Option<Vec<String>>,
    #[serde(default)]
    pub category: String,
    /// zh (default) or en
    pub lang: Option<String>,
    /// Teach this intent (made if missing) the questions and retrain in the background.
    pub intent: Option<String>,
    /// Publish at once (default true).
    pub publish: Option<bool>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AcceptedDto {
    pub candidate: CandidateDto,
    pub faq: FaqDto,
    /// The model version queued for training, if an intent was given and training could start.
    pub training: Option<NluModelDto>,
}

/// Accepts a candidate: adds the FAQ entry (its questions as variants) and, with `intent`,
/// teaches the intent and queues retraining.
#[utoipa::path(post, path = "/api/v1/kb/candidates/{id}/accept", tag = "kb", params(("id" = String, Path)), request_body = AcceptRequest, responses((status = 200, body = AcceptedDto), Errors))]
pub async fn accept(
    State(s): State<AppState>,
    Cap(who): Cap<BotEditor>,
    Path(id): Path<String>,
    Json(r): Json<AcceptRequest>,
) -> ApiResult<J<AcceptedDto>> {
    let id = path_id(&id, KbCandidateId::parse, "candidate")?;
    let a = Acceptance {
        question: r.question,
        answer: r.answer,
        variants: r.variants,
        category: r.category,
        lang: r.lang.as_deref().map(KbLang::parse).transpose()?,
        intent: r.intent,
        publish: r.publish.unwrap_or(true),
    };
    let Accepted { candidate, faq, training } = s.app.accept_candidate(&who, id, a).await?;
    Ok(J(AcceptedDto {
        candidate: CandidateDto::from(&candidate),
        faq: FaqDto::from(&faq),
        training: training.as_ref().map(NluModelDto::from),
    }))
}

/// Dismisses a candidate; its questions are not proposed again.
#[utoipa::path(post, path = "/api/v1/kb/candidates/{id}/dismiss", tag = "kb", params(("id" = String, Path)), responses((status = 200, body = CandidateDto), Errors))]
pub async fn dismiss(
    State(s): State<AppState>,
    Cap(who): Cap<BotEditor>,
    Path(id): Path<String>,
) -> ApiResult<J<CandidateDto>> {
    let id = path_id(&id, KbCandidateId::parse, "candidate")?;
    Ok(J(CandidateDto::from(&s.app.dismiss_candidate(&who, id).await?)))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct IntentCorrectionRequest {
    /// The name of an existing intent.
    pub intent: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IntentCorrectionDto {
    pub intent_id: String,
    pub intent: String,
    /// False if the intent already had this text as an example.
    pub example_added: bool,
    /// The model version queued for retraining, if training could start.
    pub training: Option<NluModelDto>,
}

/// Corrects the intent of a customer's message: the text becomes an example of that intent
/// (source `correction`) and retraining is queued.
#[utoipa::path(put, path = "/api/v1/conversations/{id}/messages/{message_id}/intent", tag = "nlu", params(("id" = String, Path), ("message_id" = String, Path)), request_body = IntentCorrectionRequest, responses((status = 200, body = IntentCorrectionDto), Errors))]
pub async fn correct_intent(
    State(s): State<AppState>,
    Cap(who): Cap<Agent>,
    Path((id, message)): Path<(String, String)>,
    Json(r): Json<IntentCorrectionRequest>,
) -> ApiResult<J<IntentCorrectionDto>> {
    let id = path_id(&id, ConversationId::parse, "conversation")?;
    let message = path_id(&message, MessageId::parse, "message")?;
    let c = s.app.correct_intent(&who, id, message, &r.intent).await?;
    Ok(J(IntentCorrectionDto {
        intent_id: c.intent.id.to_string(),
        intent: c.intent.name,
        example_added: c.added,
        training: c.training.as_ref().map(NluModelDto::from),
    }))
}
