//! Triggers and automations: the workspace's rules (`when` / `if` / `then` trees), kept by
//! admin and cs_head, readable by staff. A rule is checked on save; a bad one is a 400 whose
//! message names the path of every bad node.

use app::{
    auth::{Manager, Staff},
    db::triggers::{json_to_tree, tree_to_json},
    triggers::{NewTrigger, StoredTrigger},
};
use axum::{
    extract::{Path, State},
    http::StatusCode,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    AppState,
    error::{ApiError, ApiResult, Code},
    extract::{Cap, Json},
    routes::Errors,
};

use axum::Json as J;

#[derive(Debug, Serialize, ToSchema)]
pub struct TriggerDto {
    pub id: String,
    pub name: String,
    pub active: bool,
    pub position: i64,
    /// `"time"` for an automation, or `{"events": ["ticket.created", …]}`.
    #[schema(value_type = Object)]
    pub when: serde_json::Value,
    /// The condition tree: `{"all": […]}`, `{"any": […]}`, `{"not": {…}}` or
    /// `{"field": "ticket.status", "op": "eq", "value": "pending"}`.
    #[schema(value_type = Object, rename = "if")]
    #[serde(rename = "if")]
    pub cond: serde_json::Value,
    /// The actions, e.g. `[{"type": "add_tag", "value": "vip"}]`.
    #[schema(value_type = Object)]
    pub then: serde_json::Value,
    pub created_at: i64,
    pub updated_at: i64,
}

impl From<&StoredTrigger> for TriggerDto {
    fn from(t: &StoredTrigger) -> TriggerDto {
        TriggerDto {
            id: t.id.clone(),
            name: t.name.clone(),
            active: t.active,
            position: t.position,
            when: tree_to_json(&t.when),
            cond: tree_to_json(&t.cond),
            then: tree_to_json(&t.then),
            created_at: t.created_at.millis(),
            updated_at: t.updated_at.millis(),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct TriggerRequest {
    pub name: String,
    #[serde(default = "yes")]
    pub active: bool,
    /// Rules run in ascending position; default 0.
    #[serde(default)]
    pub position: i64,
    #[schema(value_type = Object)]
    pub when: serde_json::Value,
    #[schema(value_type = Object, rename = "if")]
    #[serde(rename = "if")]
    pub cond: serde_json::Value,
    #[schema(value_type = Object)]
    pub then: serde_json::Value,
}

fn yes() -> bool {
    true
}

impl TriggerRequest {
    fn into_new(self) -> NewTrigger {
        NewTrigger {
            name: self.name,
            active: self.active,
            position: self.position,
            when: json_to_tree(&self.when),
            cond: json_to_tree(&self.cond),
            then: json_to_tree(&self.then),
        }
    }
}

fn trigger_id(s: &str) -> ApiResult<String> {
    domain::TriggerId::parse(s)
        .map(|id| id.to_string())
        .map_err(|_| ApiError::new(Code::NotFound, "trigger not found"))
}

/// The workspace's rules in evaluation order.
#[utoipa::path(get, path = "/api/v1/triggers", tag = "triggers", responses((status = 200, body = [TriggerDto]), Errors))]
pub async fn list(
    State(s): State<AppState>,
    Cap(who): Cap<Staff>,
) -> ApiResult<J<Vec<TriggerDto>>> {
    Ok(J(s.app.list_triggers(&who).await?.iter().map(TriggerDto::from).collect()))
}

/// Adds a rule; checked first (400 names each bad node's path).
#[utoipa::path(post, path = "/api/v1/triggers", tag = "triggers", request_body = TriggerRequest, responses((status = 201, body = TriggerDto), Errors))]
pub async fn create(
    State(s): State<AppState>,
    Cap(who): Cap<Manager>,
    Json(r): Json<TriggerRequest>,
) -> ApiResult<(StatusCode, J<TriggerDto>)> {
    let t = s.app.create_trigger(&who, r.into_new()).await?;
    Ok((StatusCode::CREATED, J(TriggerDto::from(&t))))
}

#[utoipa::path(get, path = "/api/v1/triggers/{id}", tag = "triggers", params(("id" = String, Path)), responses((status = 200, body = TriggerDto), Errors))]
pub async fn get(
    State(s): State<AppState>,
    Cap(who): Cap<Staff>,
    Path(id): Path<String>,
) -> ApiResult<J<TriggerDto>> {
    Ok(J(TriggerDto::from(&s.app.get_trigger(&who, &trigger_id(&id)?).await?)))
}

/// Replaces a rule; checked like a new one.
#[utoipa::path(put, path = "/api/v1/triggers/{id}", tag = "triggers", params(("id" = String, Path)), request_body = TriggerRequest, responses((status = 200, body = TriggerDto), Errors))]
pub async fn update(
    State(s): State<AppState>,
    Cap(who): Cap<Manager>,
    Path(id): Path<String>,
    Json(r): Json<TriggerRequest>,
) -> ApiResult<J<TriggerDto>> {
    Ok(J(TriggerDto::from(&s.app.update_trigger(&who, &trigger_id(&id)?, r.into_new()).await?)))
}

#[utoipa::path(delete, path = "/api/v1/triggers/{id}", tag = "triggers", params(("id" = String, Path)), responses((status = 204), Errors))]
pub async fn delete(
    State(s): State<AppState>,
    Cap(who): Cap<Manager>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    s.app.delete_trigger(&who, &trigger_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}
