//! Customer-visible stages (TK-8): renaming and adding stages, and the templates of the notice
//! a customer gets on each stage change.

use app::{
    auth::{Manager, Staff},
    stages::NoticeTemplates,
};
use axum::extract::{Path, State};
use domain::Stage;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    AppState,
    dto::StageDto,
    error::ApiResult,
    extract::{Cap, Json},
    routes::Errors,
};

use axum::Json as J;

#[derive(Debug, Deserialize, ToSchema)]
pub struct StageRequest {
    /// What the customer reads, e.g. 技术排查中.
    pub label_zh: String,
    /// e.g. Technical investigation
    pub label_en: String,
    /// Place in the progress line, 1 to 1000.
    pub position: i64,
}

/// Creates or renames a stage (managers). Keys are 1 to 40 lowercase letters, digits or `_`.
#[utoipa::path(put, path = "/api/v1/stages/{key}", tag = "directory", params(("key" = String, Path)),
    request_body = StageRequest, responses((status = 200, body = StageDto), Errors))]
pub async fn put_stage(
    State(s): State<AppState>,
    Cap(who): Cap<Manager>,
    Path(key): Path<String>,
    Json(r): Json<StageRequest>,
) -> ApiResult<J<StageDto>> {
    let st = Stage { key, label_zh: r.label_zh, label_en: r.label_en, position: r.position };
    Ok(J(StageDto::from(&s.app.put_stage(&who, st).await?)))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct StageNoticeDto {
    /// Whether customers get a message on each stage change.
    pub enabled: bool,
    /// Variables: {ticket_no}, {stage}, {tracking_path}.
    pub template_zh: String,
    /// For customers whose `language` attribute starts with `en`.
    pub template_en: String,
}

impl From<NoticeTemplates> for StageNoticeDto {
    fn from(t: NoticeTemplates) -> StageNoticeDto {
        StageNoticeDto { enabled: t.enabled, template_zh: t.zh, template_en: t.en }
    }
}

/// The stage-change notice templates (built-in ones until set).
#[utoipa::path(get, path = "/api/v1/settings/stage-notifications", tag = "directory",
    responses((status = 200, body = StageNoticeDto), Errors))]
pub async fn get_notices(
    State(s): State<AppState>,
    Cap(who): Cap<Staff>,
) -> ApiResult<J<StageNoticeDto>> {
    Ok(J(StageNoticeDto::from(s.app.stage_notice_templates(&who).await?)))
}

#[utoipa::path(put, path = "/api/v1/settings/stage-notifications", tag = "directory",
    request_body = StageNoticeDto, responses((status = 200, body = StageNoticeDto), Errors))]
pub async fn put_notices(
    State(s): State<AppState>,
    Cap(who): Cap<Manager>,
    Json(r): Json<StageNoticeDto>,
) -> ApiResult<J<StageNoticeDto>> {
    let t = NoticeTemplates { enabled: r.enabled, zh: r.template_zh, en: r.template_en };
    Ok(J(StageNoticeDto::from(s.app.set_stage_notice_templates(&who, t).await?)))
}
