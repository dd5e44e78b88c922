//! The bot's language engine: intents and their examples, model versions (train, list,
//! activate), and analysis of a message.

use app::{
    auth::{BotEditor, Staff},
    bot::nlu::{IntentPatch, NewIntent},
};
use axum::{
    extract::{Path, State},
    http::StatusCode,
};
use domain::{ExampleSource, IntentExampleId, IntentId, ModelKind, NluModelId};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::{
    AppState,
    dto::{AnalysisDto, IntentDetailDto, IntentDto, IntentExampleDto, NluModelDto},
    error::ApiResult,
    extract::{Cap, Json},
    routes::{Errors, path_id},
};

use axum::Json as J;

/// Every intent of the workspace, by name, with its number of examples.
#[utoipa::path(get, path = "/api/v1/nlu/intents", tag = "nlu", responses((status = 200, body = [IntentDto]), Errors))]
pub async fn list_intents(
    State(s): State<AppState>,
    Cap(who): Cap<Staff>,
) -> ApiResult<J<Vec<IntentDto>>> {
    let list = s.app.list_intents(&who).await?;
    Ok(J(list.iter().map(|(i, n)| IntentDto::new(i, *n)).collect()))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewIntentRequest {
    /// 1 to 64 characters without spaces, e.g. `order.track` or `退款`; `oos` is reserved.
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Example messages (1 to 500 characters each).
    #[serde(default)]
    pub examples: Vec<String>,
}

/// Creates an intent with its first examples (admin, cs_head, supervisor).
#[utoipa::path(post, path = "/api/v1/nlu/intents", tag = "nlu", request_body = NewIntentRequest, responses((status = 201, body = IntentDetailDto), Errors))]
pub async fn create_intent(
    State(s): State<AppState>,
    Cap(who): Cap<BotEditor>,
    Json(r): Json<NewIntentRequest>,
) -> ApiResult<(StatusCode, J<IntentDetailDto>)> {
    let n = NewIntent { name: r.name, description: r.description, examples: r.examples };
    let (i, ex) = s.app.create_intent(&who, n).await?;
    Ok((StatusCode::CREATED, J(IntentDetailDto::new(&i, &ex))))
}

#[utoipa::path(get, path = "/api/v1/nlu/intents/{id}", tag = "nlu", params(("id" = String, Path)), responses((status = 200, body = IntentDetailDto), Errors))]
pub async fn get_intent(
    State(s): State<AppState>,
    Cap(who): Cap<Staff>,
    Path(id): Path<String>,
) -> ApiResult<J<IntentDetailDto>> {
    let id = path_id(&id, IntentId::parse, "intent")?;
    let (i, ex) = s.app.get_intent(&who, id).await?;
    Ok(J(IntentDetailDto::new(&i, &ex)))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct IntentPatchRequest {
    pub name: Option<String>,
    pub description: Option<String>,
}

/// Renames an intent or changes its description.
#[utoipa::path(patch, path = "/api/v1/nlu/intents/{id}", tag = "nlu", params(("id" = String, Path)), request_body = IntentPatchRequest, responses((status = 200, body = IntentDto), Errors))]
pub async fn update_intent(
    State(s): State<AppState>,
    Cap(who): Cap<BotEditor>,
    Path(id): Path<String>,
    Json(r): Json<IntentPatchRequest>,
) -> ApiResult<J<IntentDto>> {
    let id = path_id(&id, IntentId::parse, "intent")?;
    let p = IntentPatch { name: r.name, description: r.description };
    let (i, n) = s.app.update_intent(&who, id, p).await?;
    Ok(J(IntentDto::new(&i, n)))
}

/// Deletes an intent and its examples. Trained models keep it until the next training.
#[utoipa::path(delete, path = "/api/v1/nlu/intents/{id}", tag = "nlu", params(("id" = String, Path)), responses((status = 204), Errors))]
pub async fn delete_intent(
    State(s): State<AppState>,
    Cap(who): Cap<BotEditor>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = path_id(&id, IntentId::parse, "intent")?;
    s.app.delete_intent(&who, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewExamplesRequest {
    /// Example messages; ones the intent already has are skipped.
    pub examples: Vec<String>,
    /// manual (default), faq or correction
    pub source: Option<String>,
}

/// Adds examples to an intent; returns the ones added.
#[utoipa::path(post, path = "/api/v1/nlu/intents/{id}/examples", tag = "nlu", params(("id" = String, Path)), request_body = NewExamplesRequest, responses((status = 201, body = [IntentExampleDto]), Errors))]
pub async fn add_examples(
    State(s): State<AppState>,
    Cap(who): Cap<BotEditor>,
    Path(id): Path<String>,
    Json(r): Json<NewExamplesRequest>,
) -> ApiResult<(StatusCode, J<Vec<IntentExampleDto>>)> {
    let id = path_id(&id, IntentId::parse, "intent")?;
    let source = r.source.as_deref().map(ExampleSource::parse).transpose()?;
    let added =
        s.app.add_examples(&who, id, &r.examples, source.unwrap_or(ExampleSource::Manual)).await?;
    Ok((StatusCode::CREATED, J(added.iter().map(IntentExampleDto::from).collect())))
}

#[utoipa::path(delete, path = "/api/v1/nlu/intents/{id}/examples/{example_id}", tag = "nlu", params(("id" = String, Path), ("example_id" = String, Path)), responses((status = 204), Errors))]
pub async fn delete_example(
    State(s): State<AppState>,
    Cap(who): Cap<BotEditor>,
    Path((id, example)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let id = path_id(&id, IntentId::parse, "intent")?;
    let example = path_id(&example, IntentExampleId::parse, "example")?;
    s.app.delete_example(&who, id, example).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Every model version, by kind, newest first.
#[utoipa::path(get, path = "/api/v1/nlu/models", tag = "nlu", responses((status = 200, body = [NluModelDto]), Errors))]
pub async fn list_models(
    State(s): State<AppState>,
    Cap(who): Cap<Staff>,
) -> ApiResult<J<Vec<NluModelDto>>> {
    Ok(J(s.app.list_models(&who).await?.iter().map(NluModelDto::from).collect()))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct TrainRequest {
    /// intent (the default; sentiment uses the built-in model for now)
    pub kind: Option<String>,
}

/// Trains a new intent-model version from the workspace's examples, in the background: the
/// version is `training` now and becomes `ready` and active, or `failed` with its error. Needs
/// at least two intents with examples (409 otherwise).
#[utoipa::path(post, path = "/api/v1/nlu/models", tag = "nlu", request_body = TrainRequest, responses((status = 202, body = NluModelDto), Errors))]
pub async fn train(
    State(s): State<AppState>,
    Cap(who): Cap<BotEditor>,
    Json(r): Json<TrainRequest>,
) -> ApiResult<(StatusCode, J<NluModelDto>)> {
    let kind = r.kind.as_deref().map(ModelKind::parse).transpose()?.unwrap_or(ModelKind::Intent);
    let m = s.app.request_training(&who, kind).await?;
    Ok((StatusCode::ACCEPTED, J(NluModelDto::from(&m))))
}

/// Makes a ready version the active one of its kind (roll back or forward).
#[utoipa::path(post, path = "/api/v1/nlu/models/{id}/activate", tag = "nlu", params(("id" = String, Path)), responses((status = 200, body = NluModelDto), Errors))]
pub async fn activate_model(
    State(s): State<AppState>,
    Cap(who): Cap<BotEditor>,
    Path(id): Path<String>,
) -> ApiResult<J<NluModelDto>> {
    let id = path_id(&id, NluModelId::parse, "model")?;
    Ok(J(NluModelDto::from(&s.app.activate_model(&who, id).await?)))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AnalyzeRequest {
    /// The message, up to 5000 characters.
    pub text: String,
}

/// Analyses a message with the workspace's active models: language, intents (null without an
/// intent model), sentiment, entities.
#[utoipa::path(post, path = "/api/v1/nlu/analyze", tag = "nlu", request_body = AnalyzeRequest, responses((status = 200, body = AnalysisDto), Errors))]
pub async fn analyze(
    State(s): State<AppState>,
    Cap(who): Cap<Staff>,
    Json(r): Json<AnalyzeRequest>,
) -> ApiResult<J<AnalysisDto>> {
    Ok(J(AnalysisDto::from(&s.app.analyze(&who, &r.text).await?)))
}
