//! The bot: its configuration (texts, hand-off rules, flows, connectors) as one document, its
//! metrics, and the customer's side of a bot conversation (buttons).

use app::{
    auth::{Admin, Staff},
    bot::runtime::Turn,
};
use axum::extract::{Path, State};
use domain::ConversationId;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{
    AppState,
    dto::MessageDto,
    error::{ApiError, ApiResult},
    extract::{Cap, Json, Query, VisitorAuth},
    routes::{Errors, path_id},
};

use axum::Json as J;

/// A button under the bot's last reply.
#[derive(Debug, Serialize, ToSchema)]
pub struct ButtonDto {
    pub label: String,
    /// Send it back to `/bot/pick`: `faq:<id>`, `none`, `rate:<1-5>` or `leave_message`.
    pub payload: String,
}

/// What the bot did in answer to one customer action.
#[derive(Debug, Serialize, ToSchema)]
pub struct BotTurnDto {
    pub replies: Vec<MessageDto>,
    pub buttons: Vec<ButtonDto>,
    /// requested, strong_negative, vip, low_rating, unmatched, slot_failed, connector_failed
    pub handoff: Option<String>,
    /// The ticket a hand-off or a left message opened.
    pub ticket_number: Option<String>,
}

impl BotTurnDto {
    pub fn new(t: &Turn) -> BotTurnDto {
        BotTurnDto {
            replies: t.replies.iter().map(MessageDto::public).collect(),
            buttons: t
                .buttons
                .iter()
                .map(|b| ButtonDto { label: b.label.clone(), payload: b.payload.clone() })
                .collect(),
            handoff: t.handoff.map(|r| r.name().to_owned()),
            ticket_number: t.ticket.as_ref().map(|t| t.number.to_string()),
        }
    }

    /// Two turns in order (the welcome, then the answer to the first message).
    pub fn merge(mut a: Turn, b: Turn) -> Turn {
        if !b.buttons.is_empty() || !b.replies.is_empty() {
            a.buttons = b.buttons;
        }
        a.replies.extend(b.replies);
        a.handoff = b.handoff.or(a.handoff);
        a.ticket = b.ticket.or(a.ticket);
        a
    }
}

/// The bot configuration: `enabled`, `default_lang` (zh|en), `texts` (each `{zh, en}`),
/// `handoff` (`rating_at_most`, `unmatched_in_a_row`, `strong_negative`, `on_request`,
/// `phrases`, `vip_direct`, `no_pickup_minutes`), `ask_rating`, `flows` (`name`, `intents`,
/// `slots` with `name`, `kind`, `prompt`, `invalid`, `max_attempts`; `connector`, `answer`,
/// `on_failure`) and
/// `connectors` (`name`, `method`, `url`, `headers`, `body`, `secret`, `timeout_ms`, `fields`,
/// `allow_hosts`). Connector secrets read back as `********`.
#[utoipa::path(get, path = "/api/v1/bot/settings", tag = "bot", responses((status = 200, body = Object), Errors))]
pub async fn get_settings(
    State(s): State<AppState>,
    Cap(who): Cap<Staff>,
) -> ApiResult<J<serde_json::Value>> {
    let cfg = s.app.bot_settings(&who).await?;
    Ok(J(serde_json::to_value(&cfg).map_err(|e| ApiError::from(app::Error::Internal(e.into())))?))
}

/// Replaces the bot configuration (admins). Missing keys take their defaults; the first
/// problem is reported with its path (`flows[0].slots[1].name: …`). Sending `********` as a
/// connector's secret keeps the stored one.
#[utoipa::path(put, path = "/api/v1/bot/settings", tag = "bot", request_body = Object, responses((status = 200, body = Object), Errors))]
pub async fn put_settings(
    State(s): State<AppState>,
    Cap(who): Cap<Admin>,
    Json(body): Json<serde_json::Value>,
) -> ApiResult<J<serde_json::Value>> {
    let cfg: dialogue::BotConfig =
        serde_json::from_value(body).map_err(|e| ApiError::invalid("config", e.to_string()))?;
    let saved = s.app.set_bot_settings(&who, cfg).await?;
    Ok(J(serde_json::to_value(&saved).map_err(|e| ApiError::from(app::Error::Internal(e.into())))?))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct MetricsQuery {
    /// The period: the last N days (1–366, default 30).
    pub days: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReasonCountDto {
    pub reason: String,
    pub count: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IntentRatingDto {
    /// The recognised intent ("" for answers without one).
    pub intent: String,
    pub ratings: i64,
    pub mean: f64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BotMetricsDto {
    pub days: i64,
    /// Conversations the bot talked in.
    pub conversations: i64,
    /// Share of those finished without a human (0–1).
    pub containment: f64,
    pub handed_off: i64,
    pub answered: i64,
    pub unmatched: i64,
    /// Unmatched messages / (answered + unmatched).
    pub no_match_rate: f64,
    pub handoff_by_reason: Vec<ReasonCountDto>,
    pub rating_by_intent: Vec<IntentRatingDto>,
}

/// Containment, hand-offs by reason, no-match rate and ratings by intent (BOT-8).
#[utoipa::path(get, path = "/api/v1/bot/metrics", tag = "bot", params(MetricsQuery), responses((status = 200, body = BotMetricsDto), Errors))]
pub async fn metrics(
    State(s): State<AppState>,
    Cap(who): Cap<Staff>,
    Query(q): Query<MetricsQuery>,
) -> ApiResult<J<BotMetricsDto>> {
    let days = q.days.unwrap_or(30);
    let m = s.app.bot_metrics(&who, days).await?;
    Ok(J(BotMetricsDto {
        days,
        conversations: m.conversations,
        containment: m.containment,
        handed_off: m.handed_off,
        answered: m.answered,
        unmatched: m.unmatched,
        no_match_rate: m.no_match_rate,
        handoff_by_reason: m
            .handoff_by_reason
            .into_iter()
            .map(|(reason, count)| ReasonCountDto { reason, count })
            .collect(),
        rating_by_intent: m
            .rating_by_intent
            .into_iter()
            .map(|(intent, ratings, mean)| IntentRatingDto { intent, ratings, mean })
            .collect(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PickRequest {
    /// A button's payload.
    pub payload: String,
}

/// The customer pressed one of the bot's buttons.
#[utoipa::path(post, path = "/api/v1/public/conversations/{id}/bot/pick", tag = "public", params(("id" = String, Path)), request_body = PickRequest, responses((status = 200, body = BotTurnDto), Errors))]
pub async fn pick(
    State(s): State<AppState>,
    VisitorAuth(v): VisitorAuth,
    Path(id): Path<String>,
    Json(r): Json<PickRequest>,
) -> ApiResult<J<BotTurnDto>> {
    let id = path_id(&id, ConversationId::parse, "conversation")?;
    let turn = s.app.bot_pick(&v, id, &r.payload).await?;
    Ok(J(BotTurnDto::new(&turn)))
}
