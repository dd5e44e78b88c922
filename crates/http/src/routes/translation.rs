//! Machine translation for agents (BOT-9): the workspace's provider (staff read with the secret
//! masked, admins write), a customer message translated for the agent, and an agent's draft
//! translated for the customer. Translation failures are not errors: the answer carries the
//! original text and `translation_error`.

use app::{
    auth::{Admin, Agent, Staff},
    bot::translation::Translated,
};
use axum::{
    Json as J,
    extract::{Path, State},
};
use domain::{ConversationId, MessageId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    AppState,
    error::{ApiError, ApiResult},
    extract::{Cap, Json},
    routes::{Errors, path_id},
};

fn to_json<T: Serialize>(v: &T) -> Result<serde_json::Value, ApiError> {
    serde_json::to_value(v).map_err(|e| ApiError::from(app::Error::Internal(e.into())))
}

/// The provider configuration: `enabled` (default false), `agent_lang` (default zh) and
/// `provider`, a connector (`name`, `method`, `url`, `headers`, `body`, `secret`, `timeout_ms`,
/// `fields`, `allow_hosts`) whose templates use `{{text}}`, `{{source}}`, `{{target}}` and
/// `{{secret}}` and whose `fields` map the response's translated text to `translation` (and
/// optionally its detected language to `detected_lang`). The secret reads back as `********`.
#[utoipa::path(get, path = "/api/v1/translation/settings", tag = "bot", responses((status = 200, body = Object), Errors))]
pub async fn get_settings(
    State(s): State<AppState>,
    Cap(who): Cap<Staff>,
) -> ApiResult<J<serde_json::Value>> {
    Ok(J(to_json(&s.app.translation_settings(&who).await?)?))
}

/// Replaces the provider configuration (admins); problems are reported with their path.
/// Sending `********` as the secret keeps the stored one.
#[utoipa::path(put, path = "/api/v1/translation/settings", tag = "bot", request_body = Object, responses((status = 200, body = Object), Errors))]
pub async fn put_settings(
    State(s): State<AppState>,
    Cap(who): Cap<Admin>,
    Json(body): Json<serde_json::Value>,
) -> ApiResult<J<serde_json::Value>> {
    let cfg: dialogue::translate::TranslationConfig =
        serde_json::from_value(body).map_err(|e| ApiError::invalid("config", e.to_string()))?;
    Ok(J(to_json(&s.app.set_translation_settings(&who, cfg).await?)?))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TranslationDto {
    pub original: String,
    /// Absent when translation is off or failed.
    pub translation: Option<String>,
    /// The original's language code, or `auto`.
    pub source_lang: String,
    pub target_lang: String,
    /// Why there is no translation (off, timed out, the provider's error…).
    pub translation_error: Option<String>,
}

impl From<Translated> for TranslationDto {
    fn from(t: Translated) -> TranslationDto {
        TranslationDto {
            original: t.original,
            translation: t.translation,
            source_lang: t.source,
            target_lang: t.target,
            translation_error: t.error,
        }
    }
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct TranslateRequest {
    /// The language wanted (default: the agents' language).
    pub target: Option<String>,
}

/// Translates a message of the conversation (default: into the agents' language).
#[utoipa::path(post, path = "/api/v1/conversations/{id}/messages/{message_id}/translate", tag = "conversations", params(("id" = String, Path), ("message_id" = String, Path)), request_body = TranslateRequest, responses((status = 200, body = TranslationDto), Errors))]
pub async fn translate_message(
    State(s): State<AppState>,
    Cap(who): Cap<Staff>,
    Path((id, message)): Path<(String, String)>,
    Json(r): Json<TranslateRequest>,
) -> ApiResult<J<TranslationDto>> {
    let id = path_id(&id, ConversationId::parse, "conversation")?;
    let message = path_id(&message, MessageId::parse, "message")?;
    let t = s.app.translate_message(&who, id, message, r.target.as_deref()).await?;
    Ok(J(t.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct DraftRequest {
    /// The agent's reply, up to 5000 characters.
    pub text: String,
    /// The language wanted (default: that of the customer's latest message).
    pub target: Option<String>,
}

/// Translates an agent's draft reply for the customer; nothing is sent.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/translate-draft", tag = "conversations", params(("id" = String, Path)), request_body = DraftRequest, responses((status = 200, body = TranslationDto), Errors))]
pub async fn translate_draft(
    State(s): State<AppState>,
    Cap(who): Cap<Agent>,
    Path(id): Path<String>,
    Json(r): Json<DraftRequest>,
) -> ApiResult<J<TranslationDto>> {
    let id = path_id(&id, ConversationId::parse, "conversation")?;
    let t = s.app.translate_draft(&who, id, &r.text, r.target.as_deref()).await?;
    Ok(J(t.into()))
}
