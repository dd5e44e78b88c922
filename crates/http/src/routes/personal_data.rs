//! Personal data (PL-4): one customer's export and erasure, and the retention period.

use app::{auth::DataOfficer, personal_data::Export};
use axum::extract::{Path, State};
use domain::CustomerId;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    AppState,
    dto::{ConversationDto, CustomerDto, MessageDto, TicketDto, opt_rfc3339, rfc3339},
    error::ApiResult,
    extract::{Cap, Json},
    routes::{
        Errors,
        feedback::{FeedbackDto, SurveyDto, feedback_dto},
        path_id,
    },
};

use axum::Json as J;

#[derive(Debug, Serialize, ToSchema)]
pub struct ChatFileInfoDto {
    pub id: String,
    pub name: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    /// Download with the staff session: `GET` this path.
    pub url: String,
    pub created_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConversationExportDto {
    pub conversation: ConversationDto,
    /// Public messages only: internal notes are staff work product and are not exported.
    pub messages: Vec<MessageDto>,
    pub files: Vec<ChatFileInfoDto>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OptOutDto {
    pub source: String,
    pub at: String,
}

/// Everything stored about one customer (PIPL art. 45, GDPR arts. 15/20).
#[derive(Debug, Serialize, ToSchema)]
pub struct PersonalDataDto {
    /// `huiting.personal_data.v1`
    pub format: &'static str,
    pub exported_at: String,
    pub customer: CustomerDto,
    /// Customers merged into this one (their records point here).
    pub merged_customers: Vec<CustomerDto>,
    pub erased_at: Option<String>,
    pub conversations: Vec<ConversationExportDto>,
    pub tickets: Vec<TicketDto>,
    pub feedback: Vec<FeedbackDto>,
    pub surveys: Vec<SurveyDto>,
    pub proactive_opt_out: Option<OptOutDto>,
}

impl From<&Export> for PersonalDataDto {
    fn from(e: &Export) -> Self {
        PersonalDataDto {
            format: "huiting.personal_data.v1",
            exported_at: rfc3339(e.exported_at),
            customer: CustomerDto::from(&e.customer),
            merged_customers: e.merged.iter().map(CustomerDto::from).collect(),
            erased_at: opt_rfc3339(e.erased_at),
            conversations: e
                .conversations
                .iter()
                .map(|c| ConversationExportDto {
                    conversation: ConversationDto::from(&c.conversation),
                    messages: c.messages.iter().map(MessageDto::from).collect(),
                    files: c
                        .files
                        .iter()
                        .map(|f| ChatFileInfoDto {
                            id: f.id.clone(),
                            name: f.name.clone(),
                            content_type: f.content_type.clone(),
                            size: f.size,
                            sha256: f.sha256.clone(),
                            url: format!("/api/v1/files/chat/{}", f.id),
                            created_at: rfc3339(f.created_at),
                        })
                        .collect(),
                })
                .collect(),
            tickets: e.tickets.iter().map(TicketDto::from).collect(),
            feedback: e.feedback.iter().map(|f| feedback_dto(f, None)).collect(),
            surveys: e.surveys.iter().map(SurveyDto::from).collect(),
            proactive_opt_out: e
                .opt_out
                .as_ref()
                .map(|(source, at)| OptOutDto { source: source.clone(), at: rfc3339(*at) }),
        }
    }
}

/// Everything stored about one customer, as one JSON document; recorded in the audit log.
#[utoipa::path(get, path = "/api/v1/customers/{id}/personal-data", tag = "customers", params(("id" = String, Path)),
    responses((status = 200, body = PersonalDataDto), Errors))]
pub async fn export(
    State(s): State<AppState>,
    Cap(who): Cap<DataOfficer>,
    Path(id): Path<String>,
) -> ApiResult<J<PersonalDataDto>> {
    let id = path_id(&id, CustomerId::parse, "customer")?;
    Ok(J(PersonalDataDto::from(&s.app.export_personal_data(&who, id).await?)))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct EraseRequest {
    /// Why (a request's reference); recorded in the audit log, so no personal data here.
    pub reason: String,
    /// Erase even while a ticket is still being worked (otherwise 409 `customer_has_open_cases`).
    #[serde(default)]
    pub force: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErasureDto {
    pub customer_id: String,
    pub erased_at: String,
    /// The customer had been erased before; nothing changed.
    pub already_erased: bool,
    pub customers: u64,
    pub identities: u64,
    pub conversations: u64,
    pub messages: u64,
    pub tickets: u64,
    pub files: u64,
    pub feedback: u64,
    pub surveys: u64,
}

/// Erases a customer irreversibly (PIPL art. 47, GDPR art. 17): one transaction; analytics
/// figures stay. Repeating it changes nothing.
#[utoipa::path(post, path = "/api/v1/customers/{id}/erase", tag = "customers", params(("id" = String, Path)),
    request_body = EraseRequest, responses((status = 200, body = ErasureDto), Errors))]
pub async fn erase(
    State(s): State<AppState>,
    Cap(who): Cap<DataOfficer>,
    Path(id): Path<String>,
    Json(r): Json<EraseRequest>,
) -> ApiResult<J<ErasureDto>> {
    let id = path_id(&id, CustomerId::parse, "customer")?;
    let e = s.app.erase_customer(&who, id, &r.reason, r.force).await?;
    let n = e.counts;
    Ok(J(ErasureDto {
        customer_id: e.customer.to_string(),
        erased_at: rfc3339(e.erased_at),
        already_erased: e.already,
        customers: n.customers,
        identities: n.identities,
        conversations: n.conversations,
        messages: n.messages,
        tickets: n.tickets,
        files: n.files,
        feedback: n.feedback,
        surveys: n.surveys,
    }))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PrivacySettingsDto {
    /// Conversations whose cases closed longer ago than this are anonymised daily; 30 to
    /// 36,500, default 1,095 (three years).
    pub retention_days: i64,
}

/// The retention period for closed cases.
#[utoipa::path(get, path = "/api/v1/privacy/settings", tag = "customers",
    responses((status = 200, body = PrivacySettingsDto), Errors))]
pub async fn get_settings(
    State(s): State<AppState>,
    Cap(who): Cap<DataOfficer>,
) -> ApiResult<J<PrivacySettingsDto>> {
    Ok(J(PrivacySettingsDto { retention_days: s.app.retention_days(&who).await? }))
}

/// Sets the retention period; the daily retention job is scheduled if it is not.
#[utoipa::path(put, path = "/api/v1/privacy/settings", tag = "customers",
    request_body = PrivacySettingsDto, responses((status = 200, body = PrivacySettingsDto), Errors))]
pub async fn put_settings(
    State(s): State<AppState>,
    Cap(who): Cap<DataOfficer>,
    Json(r): Json<PrivacySettingsDto>,
) -> ApiResult<J<PrivacySettingsDto>> {
    Ok(J(PrivacySettingsDto {
        retention_days: s.app.set_retention_days(&who, r.retention_days).await?,
    }))
}
