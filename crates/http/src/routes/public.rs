//! The customer-side API (no staff login): open a chat with the workspace's public key, then
//! read and write only one's own conversations with the visitor token; track a ticket by its
//! link.

use app::intake::{Hello, NewMessage};
use axum::{
    extract::{Path, State},
    http::{StatusCode, header, request::Parts},
};
use domain::{Channel, ConversationId, Email, Phone};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    AppState,
    dto::{
        AttachmentDto, MessageDto, PublicConversationDto, PublicTicketDto, StageDto, TrackingDto,
    },
    error::{ApiError, ApiResult},
    extract::{IdempotencyKey, Json, Query, VisitorAuth},
    routes::{Errors, auth::Meta, bot::BotTurnDto, conversations::MessagesQuery, path_id},
};

use axum::Json as J;

#[derive(Debug, Deserialize, ToSchema)]
pub struct OpenChatRequest {
    /// The workspace's public key, from the widget snippet.
    pub public_key: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub external_id: Option<String>,
    /// web_chat (default), app, web_form or api
    pub channel: Option<String>,
    /// The first message.
    pub message: Option<String>,
    #[serde(default)]
    pub attachments: Vec<AttachmentDto>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OpenChatResponse {
    /// Present when this request created the visitor: keep it and send it as
    /// `Authorization: Bearer <token>` from now on.
    pub visitor_token: Option<String>,
    pub conversation: PublicConversationDto,
    pub message: Option<MessageDto>,
    /// The bot's welcome and its answer to the first message (absent when the bot is off).
    pub bot: Option<BotTurnDto>,
}

/// The stored message, and what the bot answered (absent on a retry or when a human has the
/// conversation).
#[derive(Debug, Serialize, ToSchema)]
pub struct VisitorMessageResponse {
    #[serde(flatten)]
    pub message: MessageDto,
    pub bot: Option<BotTurnDto>,
}

fn bot_dto(t: &app::bot::runtime::Turn) -> Option<BotTurnDto> {
    (!t.replies.is_empty() || t.handoff.is_some() || t.ticket.is_some()).then(|| BotTurnDto::new(t))
}

fn visitor_bearer(parts: &Parts) -> Option<String> {
    let v = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    v.strip_prefix("Bearer ").map(|t| t.trim().to_string())
}

/// Opens a chat. A returning visitor sends their token to keep one identity.
#[utoipa::path(post, path = "/api/v1/public/conversations", tag = "public", request_body = OpenChatRequest,
    params(("Idempotency-Key" = Option<String>, Header)), responses((status = 201, body = OpenChatResponse), Errors))]
pub async fn open(
    State(s): State<AppState>,
    Meta(parts): Meta,
    key: IdempotencyKey,
    Json(r): Json<OpenChatRequest>,
) -> ApiResult<(StatusCode, J<OpenChatResponse>)> {
    let returning = match visitor_bearer(&parts) {
        Some(t) => Some(s.app.authenticate_visitor(&t).await?),
        None => None,
    };
    let hello = Hello {
        name: r.name,
        email: r.email.as_deref().map(Email::parse).transpose()?,
        phone: r.phone.as_deref().map(Phone::parse).transpose()?,
        external_id: r.external_id,
        channel: r.channel.as_deref().map(Channel::parse).transpose()?,
    };
    let first = match r.message {
        Some(body) => {
            let attachments = crate::dto::parse_attachments(&r.attachments)?;
            Some(NewMessage { body, attachments, visibility: None, idempotency_key: key.0 })
        }
        None => None,
    };
    let chat = s.app.open_chat(&r.public_key, returning, hello, first).await?;
    let conv = chat.conversation.id;
    let mut turn = s.app.bot_start(&chat.visitor, conv).await?;
    if let Some(m) = &chat.first_message {
        let answer = s.app.bot_reply(chat.visitor.workspace(), conv, &m.body).await?;
        turn = BotTurnDto::merge(turn, answer);
    }
    Ok((
        StatusCode::CREATED,
        J(OpenChatResponse {
            visitor_token: chat.token,
            conversation: PublicConversationDto::from(&chat.conversation),
            message: chat.first_message.as_ref().map(MessageDto::public),
            bot: bot_dto(&turn),
        }),
    ))
}

/// The visitor's conversations.
#[utoipa::path(get, path = "/api/v1/public/conversations", tag = "public", responses((status = 200, body = [PublicConversationDto]), Errors))]
pub async fn list(
    State(s): State<AppState>,
    VisitorAuth(v): VisitorAuth,
) -> ApiResult<J<Vec<PublicConversationDto>>> {
    Ok(J(s.app.visitor_conversations(&v).await?.iter().map(PublicConversationDto::from).collect()))
}

#[utoipa::path(get, path = "/api/v1/public/conversations/{id}", tag = "public", params(("id" = String, Path)), responses((status = 200, body = PublicConversationDto), Errors))]
pub async fn get(
    State(s): State<AppState>,
    VisitorAuth(v): VisitorAuth,
    Path(id): Path<String>,
) -> ApiResult<J<PublicConversationDto>> {
    let id = path_id(&id, ConversationId::parse, "conversation")?;
    Ok(J(PublicConversationDto::from(&s.app.visitor_get_conversation(&v, id).await?)))
}

/// Public messages of the visitor's conversation, in order (poll with `after`).
#[utoipa::path(get, path = "/api/v1/public/conversations/{id}/messages", tag = "public", params(("id" = String, Path), MessagesQuery), responses((status = 200, body = [MessageDto]), Errors))]
pub async fn messages(
    State(s): State<AppState>,
    VisitorAuth(v): VisitorAuth,
    Path(id): Path<String>,
    Query(q): Query<MessagesQuery>,
) -> ApiResult<J<Vec<MessageDto>>> {
    let id = path_id(&id, ConversationId::parse, "conversation")?;
    let (after, limit) = q.parts()?;
    Ok(J(s
        .app
        .visitor_messages(&v, id, after, limit)
        .await?
        .iter()
        .map(MessageDto::public)
        .collect()))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct VisitorMessageRequest {
    pub body: String,
    #[serde(default)]
    pub attachments: Vec<AttachmentDto>,
}

/// Sends a message. With `Idempotency-Key`, a retry returns the first message (200) and never
/// stores a copy.
#[utoipa::path(post, path = "/api/v1/public/conversations/{id}/messages", tag = "public", params(("id" = String, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body = VisitorMessageRequest, responses((status = 201, body = VisitorMessageResponse), (status = 200, body = VisitorMessageResponse), Errors))]
pub async fn post_message(
    State(s): State<AppState>,
    VisitorAuth(v): VisitorAuth,
    Path(id): Path<String>,
    key: IdempotencyKey,
    Json(r): Json<VisitorMessageRequest>,
) -> ApiResult<(StatusCode, J<VisitorMessageResponse>)> {
    s.app.throttle_visitor(&v)?;
    let id = path_id(&id, ConversationId::parse, "conversation")?;
    let attachments = crate::dto::parse_attachments(&r.attachments)?;
    let m = NewMessage { body: r.body, attachments, visibility: None, idempotency_key: key.0 };
    let (msg, created) = s.app.post_visitor_message(&v, id, m).await?;
    // A retry gets the first answer's message back, not a second bot turn.
    let bot =
        if created { bot_dto(&s.app.bot_reply(v.workspace(), id, &msg.body).await?) } else { None };
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, J(VisitorMessageResponse { message: MessageDto::public(&msg), bot })))
}

/// The visitor's tickets with their stages.
#[utoipa::path(get, path = "/api/v1/public/tickets", tag = "public", responses((status = 200, body = [PublicTicketDto]), Errors))]
pub async fn tickets(
    State(s): State<AppState>,
    VisitorAuth(v): VisitorAuth,
) -> ApiResult<J<Vec<PublicTicketDto>>> {
    let tickets = s.app.visitor_tickets(&v).await?;
    let stages = match tickets.first() {
        Some(t) => s.app.track_ticket(&t.tracking_token).await?.stages,
        None => Vec::new(),
    };
    Ok(J(tickets.iter().map(|t| PublicTicketDto::new(t, &stages)).collect()))
}

/// A ticket's progress by its tracking link (TK-8); no login.
#[utoipa::path(get, path = "/api/v1/public/track/{token}", tag = "public", params(("token" = String, Path)), responses((status = 200, body = TrackingDto), Errors))]
pub async fn track(
    State(s): State<AppState>,
    Path(token): Path<String>,
) -> ApiResult<J<TrackingDto>> {
    let t = s.app.track_ticket(&token).await.map_err(ApiError::from)?;
    Ok(J(TrackingDto {
        company: t.workspace_name,
        ticket: PublicTicketDto::new(&t.ticket, &t.stages),
        stages: t.stages.iter().map(StageDto::from).collect(),
        timeline: t
            .timeline
            .iter()
            .map(|(k, at)| crate::dto::TimelineEntryDto::new(k, *at, &t.stages))
            .collect(),
    }))
}
