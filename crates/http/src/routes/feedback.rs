//! The feedback loop (FB-1…FB-5, IN-5, AN-5): survey settings and the survey list; the public
//! survey link (answer once; a used or expired link is 410); feedback intake (multipart with
//! images and voice notes, or JSON) from staff and from the public form; review import; the
//! content signals; churn risk per customer and the risk list.

use app::{
    auth::{Agent, Manager, Staff, Supervisor},
    feedback::{FeedbackPatch, NewFeedback, SurveyAnswer, Upload},
};
use axum::{
    extract::{FromRequest, Multipart, Path, Request, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use domain::{
    CustomerId, FeedbackId, TeamId, TicketId, UserId,
    feedback::{
        ContentKind, ContentSignal, FeedbackItem, FeedbackSource, FeedbackStatus, SignalSource,
        Survey, SurveyKind, SurveyQuestion, SurveySettings, SurveyStatus,
    },
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{
    AppState,
    dto::{Page, opt_rfc3339, rfc3339},
    error::{ApiError, ApiResult, Code, ErrorBody},
    extract::{Cap, Json, Query},
    routes::{Errors, page_of, paginate, path_id},
};

use axum::Json as J;

/// Feedback requests may carry uploads up to this size in total.
pub const FEEDBACK_BODY_LIMIT: usize = 32 * 1024 * 1024;

// ---- surveys ------------------------------------------------------------------------------

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SurveyQuestionDto {
    pub id: String,
    pub text: String,
    /// text, choice or scale (1–5)
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub options: Vec<String>,
}

impl From<&SurveyQuestion> for SurveyQuestionDto {
    fn from(q: &SurveyQuestion) -> Self {
        SurveyQuestionDto {
            id: q.id.clone(),
            text: q.text.clone(),
            kind: q.kind.clone(),
            options: q.options.clone(),
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SurveySettingsDto {
    pub enabled: bool,
    /// Kinds sent after a solve: csat (1–5), nps (0–10), ces (1–7).
    pub kinds: Vec<String>,
    /// Minutes after the solve the survey is sent.
    pub delay_minutes: i64,
    /// Hours after sending the link stops working.
    pub expiry_hours: i64,
    /// Hours after sending an unanswered survey is reminded.
    pub reminder_hours: i64,
    /// Scores at or below these are low: the ticket reopens and goes to the special team.
    pub csat_low: i64,
    pub nps_low: i64,
    pub ces_low: i64,
    pub special_team_id: Option<String>,
    #[serde(default)]
    pub questions: Vec<SurveyQuestionDto>,
}

impl From<&SurveySettings> for SurveySettingsDto {
    fn from(s: &SurveySettings) -> Self {
        SurveySettingsDto {
            enabled: s.enabled,
            kinds: s.kinds.iter().map(|k| k.as_str().to_string()).collect(),
            delay_minutes: s.delay_minutes,
            expiry_hours: s.expiry_hours,
            reminder_hours: s.reminder_hours,
            csat_low: s.csat_low,
            nps_low: s.nps_low,
            ces_low: s.ces_low,
            special_team_id: s.special_team.map(|t| t.to_string()),
            questions: s.questions.iter().map(SurveyQuestionDto::from).collect(),
        }
    }
}

/// The workspace's survey settings (defaults until set).
#[utoipa::path(get, path = "/api/v1/surveys/settings", tag = "feedback", responses((status = 200, body = SurveySettingsDto), Errors))]
pub async fn get_survey_settings(
    State(s): State<AppState>,
    Cap(who): Cap<Staff>,
) -> ApiResult<J<SurveySettingsDto>> {
    Ok(J(SurveySettingsDto::from(&s.app.survey_settings(&who).await?)))
}

/// Replaces the survey settings.
#[utoipa::path(put, path = "/api/v1/surveys/settings", tag = "feedback", request_body = SurveySettingsDto, responses((status = 200, body = SurveySettingsDto), Errors))]
pub async fn put_survey_settings(
    State(s): State<AppState>,
    Cap(who): Cap<Manager>,
    Json(r): Json<SurveySettingsDto>,
) -> ApiResult<J<SurveySettingsDto>> {
    let settings = SurveySettings {
        enabled: r.enabled,
        kinds: r.kinds.iter().map(|k| SurveyKind::parse(k)).collect::<Result<_, _>>()?,
        delay_minutes: r.delay_minutes,
        expiry_hours: r.expiry_hours,
        reminder_hours: r.reminder_hours,
        csat_low: r.csat_low,
        nps_low: r.nps_low,
        ces_low: r.ces_low,
        special_team: r
            .special_team_id
            .as_deref()
            .map(|t| {
                TeamId::parse(t).map_err(|_| ApiError::invalid("special_team_id", "not a team id"))
            })
            .transpose()?,
        questions: r
            .questions
            .into_iter()
            .map(|q| SurveyQuestion { id: q.id, text: q.text, kind: q.kind, options: q.options })
            .collect(),
    };
    Ok(J(SurveySettingsDto::from(&s.app.put_survey_settings(&who, settings).await?)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SurveyDto {
    pub id: String,
    /// The surveys sent together after one solve share the id of the first.
    pub batch_id: String,
    pub ticket_id: Option<String>,
    pub customer_id: Option<String>,
    /// csat, nps, ces
    pub kind: String,
    pub channel: String,
    /// scheduled, sent, reminded, answered, expired
    pub status: String,
    pub score: Option<i64>,
    pub comment: Option<String>,
    pub answers: std::collections::BTreeMap<String, String>,
    pub low_score: bool,
    pub team_id: Option<String>,
    pub agent_id: Option<String>,
    pub followup_ticket_id: Option<String>,
    pub created_at: String,
    pub send_at: String,
    pub sent_at: Option<String>,
    pub reminded_at: Option<String>,
    pub answered_at: Option<String>,
    pub expires_at: String,
}

impl From<&Survey> for SurveyDto {
    fn from(s: &Survey) -> Self {
        SurveyDto {
            id: s.id.to_string(),
            batch_id: s.batch.to_string(),
            ticket_id: s.ticket.map(|t| t.to_string()),
            customer_id: s.customer.map(|t| t.to_string()),
            kind: s.kind.as_str().into(),
            channel: s.channel.clone(),
            status: s.status.as_str().into(),
            score: s.score,
            comment: s.comment.clone(),
            answers: s.answers.iter().cloned().collect(),
            low_score: s.low_score,
            team_id: s.team.map(|t| t.to_string()),
            agent_id: s.agent.map(|t| t.to_string()),
            followup_ticket_id: s.followup_ticket.map(|t| t.to_string()),
            created_at: rfc3339(s.created_at),
            send_at: rfc3339(s.send_at),
            sent_at: opt_rfc3339(s.sent_at),
            reminded_at: opt_rfc3339(s.reminded_at),
            answered_at: opt_rfc3339(s.answered_at),
            expires_at: rfc3339(s.expires_at),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct SurveyListQuery {
    pub customer_id: Option<String>,
    pub ticket_id: Option<String>,
    /// scheduled, sent, reminded, answered, expired
    pub status: Option<String>,
    /// csat, nps, ces
    pub kind: Option<String>,
    /// Surveys sent for this agent.
    pub agent_id: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

fn opt_id<T>(
    v: &Option<String>,
    parse: fn(&str) -> Result<T, domain::ParseError>,
    field: &'static str,
) -> ApiResult<Option<T>> {
    v.as_deref()
        .map(|x| parse(x).map_err(|_| ApiError::invalid(field, format!("{field}: not a valid id"))))
        .transpose()
}

/// Surveys, newest first.
#[utoipa::path(get, path = "/api/v1/surveys", tag = "feedback", params(SurveyListQuery), responses((status = 200, body = Page<SurveyDto>), Errors))]
pub async fn list_surveys(
    State(s): State<AppState>,
    Cap(who): Cap<Staff>,
    Query(q): Query<SurveyListQuery>,
) -> ApiResult<J<Page<SurveyDto>>> {
    let f = app::db::feedback::SurveyFilter {
        customer: opt_id(&q.customer_id, CustomerId::parse, "customer_id")?,
        ticket: opt_id(&q.ticket_id, TicketId::parse, "ticket_id")?,
        status: q.status.as_deref().map(SurveyStatus::parse).transpose()?,
        kind: q.kind.as_deref().map(SurveyKind::parse).transpose()?,
        since: None,
        agent: opt_id(&q.agent_id, domain::UserId::parse, "agent_id")?,
    };
    let page = page_of(q.limit, q.cursor.as_deref())?;
    let rows = s.app.list_surveys(&who, &f, &page).await?;
    Ok(J(paginate(
        rows,
        &page,
        |r| (r.created_at.millis(), r.id.to_string()),
        |r| SurveyDto::from(r),
    )))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SurveyScaleDto {
    /// csat, nps, ces
    pub kind: String,
    pub min: i64,
    pub max: i64,
    pub label_zh: String,
    pub label_en: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PublicSurveyDto {
    pub company: String,
    pub ticket_number: Option<String>,
    pub scales: Vec<SurveyScaleDto>,
    pub questions: Vec<SurveyQuestionDto>,
    pub expires_at: String,
}

/// A survey link's questions; no login. A used or expired link is 410.
#[utoipa::path(get, path = "/api/v1/public/surveys/{token}", tag = "public", params(("token" = String, Path)),
    responses((status = 200, body = PublicSurveyDto), (status = 410, description = "Already answered or expired", body = ErrorBody), Errors))]
pub async fn public_survey(
    State(s): State<AppState>,
    Path(token): Path<String>,
) -> ApiResult<J<PublicSurveyDto>> {
    let f = s.app.public_survey(&token).await?;
    Ok(J(PublicSurveyDto {
        company: f.workspace_name,
        ticket_number: f.ticket_number,
        scales: f
            .kinds
            .iter()
            .map(|k| {
                let (min, max) = k.range();
                let (zh, en) = match k {
                    SurveyKind::Csat => {
                        ("您对本次服务满意吗？", "How satisfied are you with our service?")
                    }
                    SurveyKind::Nps => (
                        "您有多大可能向朋友推荐我们？",
                        "How likely are you to recommend us to a friend?",
                    ),
                    SurveyKind::Ces => {
                        ("解决您的问题有多容易？", "How easy was it to get your issue resolved?")
                    }
                };
                SurveyScaleDto {
                    kind: k.as_str().into(),
                    min,
                    max,
                    label_zh: zh.into(),
                    label_en: en.into(),
                }
            })
            .collect(),
        questions: f.questions.iter().map(SurveyQuestionDto::from).collect(),
        expires_at: rfc3339(f.expires_at),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SurveyAnswerRequest {
    /// A score per kind asked, e.g. `{"csat": 5, "nps": 9}`.
    pub scores: std::collections::BTreeMap<String, i64>,
    pub comment: Option<String>,
    /// Custom question id → answer.
    #[serde(default)]
    pub answers: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SurveyAnsweredDto {
    pub thanks: String,
}

/// Answers a survey; the link then stops working (410 on reuse).
#[utoipa::path(post, path = "/api/v1/public/surveys/{token}", tag = "public", params(("token" = String, Path)), request_body = SurveyAnswerRequest,
    responses((status = 200, body = SurveyAnsweredDto), (status = 410, description = "Already answered or expired", body = ErrorBody), Errors))]
pub async fn answer_survey(
    State(s): State<AppState>,
    Path(token): Path<String>,
    Json(r): Json<SurveyAnswerRequest>,
) -> ApiResult<J<SurveyAnsweredDto>> {
    let a = SurveyAnswer {
        scores: r
            .scores
            .iter()
            .map(|(k, v)| Ok((SurveyKind::parse(k)?, *v)))
            .collect::<Result<_, domain::ParseError>>()?,
        comment: r.comment.filter(|c| !c.trim().is_empty()),
        answers: r.answers.into_iter().collect(),
    };
    s.app.answer_survey(&token, a).await?;
    Ok(J(SurveyAnsweredDto {
        thanks: "感谢您的评价！/ Thank you for your feedback!".into()
    }))
}

// ---- feedback -----------------------------------------------------------------------------

#[derive(Debug, Serialize, ToSchema)]
pub struct AttachmentInfoDto {
    pub id: String,
    /// image or voice
    pub kind: String,
    /// Sniffed from the bytes.
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub name: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SignalDto {
    pub id: String,
    /// message, feedback, review
    pub source: String,
    pub source_id: String,
    pub customer_id: Option<String>,
    pub ticket_id: Option<String>,
    pub conversation_id: Option<String>,
    pub channel: Option<String>,
    /// inquiry, complaint, suggestion
    pub kind: String,
    /// negative, neutral, positive
    pub sentiment: String,
    pub sentiment_score: f64,
    pub strong_negative: bool,
    pub problem_code: Option<String>,
    /// high (24 h), medium (48 h), low (72 h)
    pub urgency: String,
    pub product: Option<String>,
    pub due_at: String,
    /// Complaints: the 15-minute assignment target.
    pub assign_due_at: Option<String>,
    pub overdue: bool,
    pub created_at: String,
}

impl From<&ContentSignal> for SignalDto {
    fn from(s: &ContentSignal) -> Self {
        SignalDto {
            id: s.id.to_string(),
            source: s.source.as_str().into(),
            source_id: s.source_id.clone(),
            customer_id: s.customer.map(|x| x.to_string()),
            ticket_id: s.ticket.map(|x| x.to_string()),
            conversation_id: s.conversation.map(|x| x.to_string()),
            channel: s.channel.clone(),
            kind: s.kind.as_str().into(),
            sentiment: s.sentiment.as_str().into(),
            sentiment_score: s.sentiment_score,
            strong_negative: s.strong_negative,
            problem_code: s.problem_code.map(|p| p.to_string()),
            urgency: s.urgency.as_str().into(),
            product: s.product.clone(),
            due_at: rfc3339(s.due_at),
            assign_due_at: opt_rfc3339(s.assign_due_at),
            overdue: s.overdue,
            created_at: rfc3339(s.created_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FeedbackDto {
    pub id: String,
    /// form, api, review
    pub source: String,
    pub customer_id: Option<String>,
    pub platform: Option<String>,
    pub external_id: Option<String>,
    pub rating: Option<i64>,
    pub body: String,
    pub order_no: Option<String>,
    pub sku: Option<String>,
    pub contact: Option<String>,
    pub assignee_id: Option<String>,
    pub attachments: Vec<AttachmentInfoDto>,
    /// open, handled
    pub status: String,
    pub due_at: Option<String>,
    pub occurred_at: String,
    pub created_at: String,
    /// The classification (type, sentiment, problem code, urgency).
    pub signal: Option<SignalDto>,
}

pub(crate) fn feedback_dto(f: &FeedbackItem, sig: Option<&ContentSignal>) -> FeedbackDto {
    FeedbackDto {
        id: f.id.to_string(),
        source: f.source.as_str().into(),
        customer_id: f.customer.map(|x| x.to_string()),
        platform: f.platform.clone(),
        external_id: f.external_id.clone(),
        rating: f.rating,
        body: f.body.clone(),
        order_no: f.order_no.clone(),
        sku: f.sku.clone(),
        contact: f.contact.clone(),
        assignee_id: f.assignee.map(|x| x.to_string()),
        attachments: f
            .attachments
            .iter()
            .map(|a| AttachmentInfoDto {
                id: a.id.clone(),
                kind: a.kind.clone(),
                content_type: a.content_type.clone(),
                size: a.size,
                sha256: a.sha256.clone(),
                name: a.name.clone(),
            })
            .collect(),
        status: f.status.as_str().into(),
        due_at: opt_rfc3339(f.due_at),
        occurred_at: rfc3339(f.occurred_at),
        created_at: rfc3339(f.created_at),
        signal: sig.map(SignalDto::from),
    }
}

/// The JSON form of a feedback submission (without uploads; send multipart for those).
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct FeedbackRequest {
    /// The workspace's public key (public form only; also accepted as `?public_key=`).
    pub public_key: Option<String>,
    #[serde(default)]
    pub body: String,
    /// 1–5 stars
    pub rating: Option<i64>,
    pub order_no: Option<String>,
    pub sku: Option<String>,
    /// How to reach the customer (public form without a visitor token).
    pub contact: Option<String>,
    /// Staff only: the customer it is from.
    pub customer_id: Option<String>,
}

/// Reads a submission: `multipart/form-data` (text fields as in the JSON form, files in
/// fields named `files`) or JSON. A malformed part is a 400; a part over the body limit 413.
async fn read_submission(s: &AppState, req: Request) -> ApiResult<(FeedbackRequest, Vec<Upload>)> {
    let ct = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    if ct.starts_with("multipart/form-data") {
        let mut mp = Multipart::from_request(req, s).await.map_err(|e| {
            ApiError::new(Code::MalformedJson, format!("not a valid multipart body: {e}"))
        })?;
        let mut r = FeedbackRequest::default();
        let mut files = Vec::new();
        let bad = |e: axum::extract::multipart::MultipartError| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    Code::PayloadTooLarge,
                    format!("the request is over {} MiB", FEEDBACK_BODY_LIMIT / (1024 * 1024)),
                )
            } else {
                ApiError::new(
                    Code::MalformedJson,
                    format!("a multipart field could not be read: {}", e.body_text()),
                )
            }
        };
        while let Some(field) = mp.next_field().await.map_err(bad)? {
            let name = field.name().unwrap_or_default().to_string();
            if field.file_name().is_some()
                || matches!(name.as_str(), "files" | "file" | "files[]" | "attachments")
            {
                let fname = field.file_name().map(str::to_string);
                let bytes = field.bytes().await.map_err(bad)?;
                files.push(Upload { name: fname, bytes: bytes.to_vec() });
                continue;
            }
            let text = field.text().await.map_err(bad)?;
            let opt = || Some(text.clone()).filter(|t| !t.trim().is_empty());
            match name.as_str() {
                "public_key" => r.public_key = opt(),
                "body" | "text" => r.body = text.clone(),
                "rating" => {
                    r.rating = match opt() {
                        Some(v) => Some(
                            v.trim()
                                .parse()
                                .map_err(|_| ApiError::invalid("rating", "1 to 5 stars"))?,
                        ),
                        None => None,
                    }
                }
                "order_no" => r.order_no = opt(),
                "sku" => r.sku = opt(),
                "contact" => r.contact = opt(),
                "customer_id" => r.customer_id = opt(),
                _ => {}
            }
        }
        Ok((r, files))
    } else {
        let Json(r) = Json::<FeedbackRequest>::from_request(req, s).await?;
        Ok((r, Vec::new()))
    }
}

fn new_feedback(r: FeedbackRequest, uploads: Vec<Upload>, staff: bool) -> ApiResult<NewFeedback> {
    Ok(NewFeedback {
        body: r.body,
        rating: r.rating,
        order_no: r.order_no,
        sku: r.sku,
        contact: r.contact,
        customer: if staff {
            opt_id(&r.customer_id, CustomerId::parse, "customer_id")?
        } else {
            None
        },
        uploads,
    })
}

/// Records feedback (staff or an integration): multipart with `files` (images: JPEG, PNG, GIF,
/// WebP up to 5 MiB; voice: MP3, M4A, WAV, OGG, AMR, WebM up to 10 MiB; at most 5), or JSON.
/// The type is read from the bytes: anything else is 415.
#[utoipa::path(post, path = "/api/v1/feedback", tag = "feedback", request_body(content = FeedbackRequest, content_type = "multipart/form-data"),
    responses((status = 201, body = FeedbackDto), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), Errors))]
pub async fn submit(
    State(s): State<AppState>,
    Cap(who): Cap<Agent>,
    req: Request,
) -> ApiResult<(StatusCode, J<FeedbackDto>)> {
    let (r, files) = read_submission(&s, req).await?;
    let item = s.app.submit_feedback(&who, new_feedback(r, files, true)?).await?;
    let (item, sig) = s.app.get_feedback(&staff_of(&who)?, item.id).await?;
    Ok((StatusCode::CREATED, J(feedback_dto(&item, sig.as_ref()))))
}

fn staff_of(a: &Agent) -> ApiResult<Staff> {
    use app::auth::Capability;
    Ok(Staff::from_principal(a.principal().clone())?)
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct PublicKeyQuery {
    pub public_key: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FeedbackReceiptDto {
    pub id: String,
    pub attachments: usize,
    pub thanks: String,
}

/// The public feedback form / widget: the workspace's public key, text, a rating and up to
/// five images or voice notes. With a visitor token the feedback is tied to the visitor.
#[utoipa::path(post, path = "/api/v1/public/feedback", tag = "public", params(PublicKeyQuery), request_body(content = FeedbackRequest, content_type = "multipart/form-data"),
    responses((status = 201, body = FeedbackReceiptDto), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), Errors))]
pub async fn submit_public(
    State(s): State<AppState>,
    Query(q): Query<PublicKeyQuery>,
    headers: HeaderMap,
    req: Request,
) -> ApiResult<(StatusCode, J<FeedbackReceiptDto>)> {
    let visitor = match headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    {
        Some(t) => Some(s.app.authenticate_visitor(t.trim()).await?),
        None => None,
    };
    let (r, files) = read_submission(&s, req).await?;
    let key = r.public_key.clone().or(q.public_key).ok_or_else(|| {
        ApiError::invalid("public_key", "the workspace's public key, from the widget snippet")
    })?;
    let item = s.app.submit_public_feedback(&key, visitor, new_feedback(r, files, false)?).await?;
    Ok((
        StatusCode::CREATED,
        J(FeedbackReceiptDto {
            id: item.id.to_string(),
            attachments: item.attachments.len(),
            thanks: "感谢您的反馈！/ Thank you for your feedback!".into(),
        }),
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct FeedbackListQuery {
    /// form, api, review
    pub source: Option<String>,
    pub platform: Option<String>,
    /// open, handled
    pub status: Option<String>,
    /// inquiry, complaint, suggestion
    pub kind: Option<String>,
    pub customer_id: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// Feedback and imported reviews, newest first, each with its classification.
#[utoipa::path(get, path = "/api/v1/feedback", tag = "feedback", params(FeedbackListQuery), responses((status = 200, body = Page<FeedbackDto>), Errors))]
pub async fn list(
    State(s): State<AppState>,
    Cap(who): Cap<Staff>,
    Query(q): Query<FeedbackListQuery>,
) -> ApiResult<J<Page<FeedbackDto>>> {
    let f = app::db::feedback::FeedbackFilter {
        customer: opt_id(&q.customer_id, CustomerId::parse, "customer_id")?,
        source: q.source.as_deref().map(FeedbackSource::parse).transpose()?,
        platform: q.platform.map(|p| p.trim().to_lowercase()),
        status: q.status.as_deref().map(FeedbackStatus::parse).transpose()?,
        kind: q.kind.as_deref().map(ContentKind::parse).transpose()?,
        since: None,
    };
    let page = page_of(q.limit, q.cursor.as_deref())?;
    let rows = s.app.list_feedback(&who, &f, &page).await?;
    Ok(J(paginate(
        rows,
        &page,
        |(r, _)| (r.created_at.millis(), r.id.to_string()),
        |(r, sig)| feedback_dto(r, sig.as_ref()),
    )))
}

#[utoipa::path(get, path = "/api/v1/feedback/{id}", tag = "feedback", params(("id" = String, Path)), responses((status = 200, body = FeedbackDto), Errors))]
pub async fn get(
    State(s): State<AppState>,
    Cap(who): Cap<Staff>,
    Path(id): Path<String>,
) -> ApiResult<J<FeedbackDto>> {
    let id = path_id(&id, FeedbackId::parse, "feedback")?;
    let (item, sig) = s.app.get_feedback(&who, id).await?;
    Ok(J(feedback_dto(&item, sig.as_ref())))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct FeedbackPatchRequest {
    /// open or handled
    pub status: Option<String>,
    /// A user id; null unassigns.
    #[serde(default, deserialize_with = "crate::dto::double_option")]
    pub assignee_id: Option<Option<String>>,
}

/// Marks feedback handled (or open) and assigns it.
#[utoipa::path(patch, path = "/api/v1/feedback/{id}", tag = "feedback", params(("id" = String, Path)), request_body = FeedbackPatchRequest, responses((status = 200, body = FeedbackDto), Errors))]
pub async fn update(
    State(s): State<AppState>,
    Cap(who): Cap<Agent>,
    Path(id): Path<String>,
    Json(r): Json<FeedbackPatchRequest>,
) -> ApiResult<J<FeedbackDto>> {
    let id = path_id(&id, FeedbackId::parse, "feedback")?;
    let p = FeedbackPatch {
        status: r.status.as_deref().map(FeedbackStatus::parse).transpose()?,
        assignee: match r.assignee_id {
            None => None,
            Some(None) => Some(None),
            Some(Some(u)) => Some(Some(
                UserId::parse(&u).map_err(|_| ApiError::invalid("assignee_id", "not a user id"))?,
            )),
        },
    };
    s.app.patch_feedback(&who, id, p).await?;
    let (item, sig) = s.app.get_feedback(&staff_of(&who)?, id).await?;
    Ok(J(feedback_dto(&item, sig.as_ref())))
}

/// An uploaded image or voice note, served as a download with its sniffed type.
#[utoipa::path(get, path = "/api/v1/feedback/{id}/attachments/{attachment}", tag = "feedback",
    params(("id" = String, Path), ("attachment" = String, Path)), responses((status = 200, content_type = "application/octet-stream", body = Vec<u8>), Errors))]
pub async fn attachment(
    State(s): State<AppState>,
    Cap(who): Cap<Staff>,
    Path((id, att)): Path<(String, String)>,
) -> ApiResult<Response> {
    let id = path_id(&id, FeedbackId::parse, "feedback")?;
    let (ct, bytes) = s.app.feedback_attachment(&who, id, &att).await?;
    let mut r = bytes.into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&ct).unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    h.insert(header::CONTENT_DISPOSITION, HeaderValue::from_static("attachment"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    Ok(r)
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ReviewImportParams {
    /// csv or json; by default from Content-Type, else from the first byte.
    pub format: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewRowErrorDto {
    pub row: usize,
    pub message: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewImportDto {
    pub rows: usize,
    pub created: usize,
    /// Already imported (a re-import adds nothing twice).
    pub duplicates: usize,
    pub errors: Vec<ReviewRowErrorDto>,
}

/// Imports third-party reviews as CSV (header: platform/平台, rating/评分, text/评价内容,
/// time/评价时间, order_no/订单号, sku, id) or JSON (a list of objects with those keys).
/// Bad rows are reported; reviews imported before are skipped.
#[utoipa::path(post, path = "/api/v1/feedback/import", tag = "feedback", params(ReviewImportParams), request_body(content = Vec<u8>, content_type = "text/csv"),
    responses((status = 200, body = ReviewImportDto), Errors))]
pub async fn import(
    State(s): State<AppState>,
    Cap(who): Cap<Agent>,
    Query(p): Query<ReviewImportParams>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> ApiResult<J<ReviewImportDto>> {
    let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let json = match p.format.as_deref().map(|f| f.trim().to_ascii_lowercase()) {
        Some(f) if f == "json" => true,
        Some(f) if f == "csv" => false,
        Some(f) => {
            return Err(ApiError::new(Code::InvalidQuery, format!("format {f:?}: csv or json")));
        }
        None if ct.starts_with("application/json") => true,
        None if ct.starts_with("text/csv") => false,
        None => {
            body.iter().find(|b| !b.is_ascii_whitespace()).is_some_and(|b| *b == b'[' || *b == b'{')
        }
    };
    let r = s.app.import_reviews(&who, &body, json).await?;
    Ok(J(ReviewImportDto {
        rows: r.rows,
        created: r.created,
        duplicates: r.duplicates,
        errors: r
            .errors
            .into_iter()
            .map(|(row, message)| ReviewRowErrorDto { row, message })
            .collect(),
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct SignalListQuery {
    /// message, feedback, review
    pub source: Option<String>,
    /// inquiry, complaint, suggestion
    pub kind: Option<String>,
    pub customer_id: Option<String>,
    pub ticket_id: Option<String>,
    pub overdue: Option<bool>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// The classification of inbound messages and feedback (FB-3, FB-4), newest first.
#[utoipa::path(get, path = "/api/v1/signals", tag = "feedback", params(SignalListQuery), responses((status = 200, body = Page<SignalDto>), Errors))]
pub async fn list_signals(
    State(s): State<AppState>,
    Cap(who): Cap<Staff>,
    Query(q): Query<SignalListQuery>,
) -> ApiResult<J<Page<SignalDto>>> {
    let f = app::db::feedback::SignalFilter {
        customer: opt_id(&q.customer_id, CustomerId::parse, "customer_id")?,
        ticket: opt_id(&q.ticket_id, TicketId::parse, "ticket_id")?,
        source: q.source.as_deref().map(SignalSource::parse).transpose()?,
        kind: q.kind.as_deref().map(ContentKind::parse).transpose()?,
        overdue: q.overdue,
        since: None,
    };
    let page = page_of(q.limit, q.cursor.as_deref())?;
    let rows = s.app.list_signals(&who, &f, &page).await?;
    Ok(J(paginate(
        rows,
        &page,
        |r| (r.created_at.millis(), r.id.to_string()),
        |r| SignalDto::from(r),
    )))
}

// ---- churn --------------------------------------------------------------------------------

#[derive(Debug, Serialize, ToSchema)]
pub struct ChurnFactorDto {
    /// complaints, satisfaction, recency, spend
    pub name: String,
    /// The factor's risk, 0–1.
    pub risk: f64,
    /// Its weight (present factors' weights sum to 1).
    pub weight: f64,
    /// Points it adds to the score.
    pub points: f64,
    pub detail: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChurnDto {
    pub customer_id: String,
    pub name: String,
    pub tier: String,
    /// 0–100
    pub score: f64,
    /// low, medium (≥ 35), high (≥ 60)
    pub level: String,
    /// Largest contribution first.
    pub factors: Vec<ChurnFactorDto>,
}

fn churn_dto(id: CustomerId, name: &str, tier: &str, r: &workflow::churn::Risk) -> ChurnDto {
    ChurnDto {
        customer_id: id.to_string(),
        name: name.to_string(),
        tier: tier.to_string(),
        score: (r.score * 10.0).round() / 10.0,
        level: r.level.as_str().into(),
        factors: r
            .factors
            .iter()
            .map(|f| ChurnFactorDto {
                name: f.name.into(),
                risk: (f.risk * 1000.0).round() / 1000.0,
                weight: (f.weight * 1000.0).round() / 1000.0,
                points: (f.points * 10.0).round() / 10.0,
                detail: f.detail.clone(),
            })
            .collect(),
    }
}

/// A customer's churn risk with the factors behind it (AN-5).
#[utoipa::path(get, path = "/api/v1/customers/{id}/churn", tag = "feedback", params(("id" = String, Path)), responses((status = 200, body = ChurnDto), Errors))]
pub async fn customer_churn(
    State(s): State<AppState>,
    Cap(who): Cap<Staff>,
    Path(id): Path<String>,
) -> ApiResult<J<ChurnDto>> {
    let id = path_id(&id, CustomerId::parse, "customer")?;
    let v = s.app.customer_churn(&who, id).await?;
    Ok(J(churn_dto(id, &v.customer.name, v.customer.tier.as_str(), &v.risk)))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ChurnListQuery {
    /// 1–500, default 50
    pub limit: Option<usize>,
}

/// Customers by churn risk, highest first.
#[utoipa::path(get, path = "/api/v1/churn", tag = "feedback", params(ChurnListQuery), responses((status = 200, body = [ChurnDto]), Errors))]
pub async fn churn_list(
    State(s): State<AppState>,
    Cap(who): Cap<Supervisor>,
    Query(q): Query<ChurnListQuery>,
) -> ApiResult<J<Vec<ChurnDto>>> {
    let rows = s.app.churn_list(&who, q.limit.unwrap_or(50)).await?;
    Ok(J(rows.iter().map(|r| churn_dto(r.customer, &r.name, &r.tier, &r.risk)).collect()))
}
