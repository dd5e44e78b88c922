//! Conversations and their messages, staff side.

use app::{
    auth::{Agent, Noter, Staff},
    intake::{ConversationPatch, NewConversation, NewMessage},
};
use axum::{
    extract::{Path, State},
    http::StatusCode,
};
use domain::{
    Channel, ConversationId, ConversationStatus, CustomerId, Handler, MessageId, TeamId, UserId,
    Visibility,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{
    AppState,
    dto::{AttachmentDto, ConversationDto, MessageDto, Page, double_option},
    error::ApiResult,
    extract::{Cap, IdempotencyKey, Json, Query},
    routes::{Errors, page_of, paginate, path_id},
};

use axum::Json as J;

#[derive(Debug, Deserialize, IntoParams)]
pub struct ConversationQuery {
    /// open, pending, resolved
    pub status: Option<String>,
    pub channel: Option<String>,
    pub customer_id: Option<String>,
    pub assignee_id: Option<String>,
    pub team_id: Option<String>,
    /// bot or human
    pub handler: Option<String>,
    /// 1 to 200; default 50.
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Conversations across channels, most recently active first.
#[utoipa::path(get, path = "/api/v1/conversations", tag = "conversations", params(ConversationQuery), responses((status = 200, body = Page<ConversationDto>), Errors))]
pub async fn list(
    State(s): State<AppState>,
    Cap(who): Cap<Staff>,
    Query(q): Query<ConversationQuery>,
) -> ApiResult<J<Page<ConversationDto>>> {
    let page = page_of(q.limit, q.cursor.as_deref())?;
    let f = app::db::conversations::Filter {
        status: q.status.as_deref().map(ConversationStatus::parse).transpose()?,
        channel: q.channel.as_deref().map(Channel::parse).transpose()?,
        customer: q.customer_id.as_deref().map(CustomerId::parse).transpose()?,
        assignee: q.assignee_id.as_deref().map(UserId::parse).transpose()?,
        team: q.team_id.as_deref().map(TeamId::parse).transpose()?,
        handler: q.handler.as_deref().map(Handler::parse).transpose()?,
    };
    let rows = s.app.list_conversations(&who, &f, &page).await?;
    Ok(J(paginate(
        rows,
        &page,
        |c| (c.last_message_at.millis(), c.id.to_string()),
        |c| ConversationDto::from(c),
    )))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewConversationRequest {
    pub customer_id: String,
    pub channel: String,
    pub subject: Option<String>,
    /// An opening message from the agent (outbound contact).
    pub body: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NewConversationResponse {
    pub conversation: ConversationDto,
    pub message: Option<MessageDto>,
}

/// Opens a conversation with a customer (e.g. logging a phone call or writing first).
#[utoipa::path(post, path = "/api/v1/conversations", tag = "conversations", request_body = NewConversationRequest, responses((status = 201, body = NewConversationResponse), Errors))]
pub async fn create(
    State(s): State<AppState>,
    Cap(who): Cap<Agent>,
    Json(r): Json<NewConversationRequest>,
) -> ApiResult<(StatusCode, J<NewConversationResponse>)> {
    let n = NewConversation {
        customer: CustomerId::parse(&r.customer_id)?,
        channel: Channel::parse(&r.channel)?,
        subject: r.subject,
        body: r.body,
    };
    let (c, m) = s.app.create_conversation(&who, n).await?;
    Ok((
        StatusCode::CREATED,
        J(NewConversationResponse {
            conversation: ConversationDto::from(&c),
            message: m.as_ref().map(MessageDto::from),
        }),
    ))
}

#[utoipa::path(get, path = "/api/v1/conversations/{id}", tag = "conversations", params(("id" = String, Path)), responses((status = 200, body = ConversationDto), Errors))]
pub async fn get(
    State(s): State<AppState>,
    Cap(who): Cap<Staff>,
    Path(id): Path<String>,
) -> ApiResult<J<ConversationDto>> {
    let id = path_id(&id, ConversationId::parse, "conversation")?;
    Ok(J(ConversationDto::from(&s.app.get_conversation(&who, id).await?)))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ConversationPatchRequest {
    pub status: Option<String>,
    pub handler: Option<String>,
    /// A user id, or null to unassign.
    #[serde(default, deserialize_with = "double_option")]
    pub assignee_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    pub team_id: Option<Option<String>>,
}

#[utoipa::path(patch, path = "/api/v1/conversations/{id}", tag = "conversations", params(("id" = String, Path)), request_body = ConversationPatchRequest, responses((status = 200, body = ConversationDto), Errors))]
pub async fn update(
    State(s): State<AppState>,
    Cap(who): Cap<Agent>,
    Path(id): Path<String>,
    Json(r): Json<ConversationPatchRequest>,
) -> ApiResult<J<ConversationDto>> {
    let id = path_id(&id, ConversationId::parse, "conversation")?;
    let p = ConversationPatch {
        status: r.status.as_deref().map(ConversationStatus::parse).transpose()?,
        handler: r.handler.as_deref().map(Handler::parse).transpose()?,
        assignee: r.assignee_id.map(|a| a.as_deref().map(UserId::parse).transpose()).transpose()?,
        team: r.team_id.map(|a| a.as_deref().map(TeamId::parse).transpose()).transpose()?,
    };
    Ok(J(ConversationDto::from(&s.app.update_conversation(&who, id, p).await?)))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct MessagesQuery {
    /// Only messages after this message id (for polling).
    pub after: Option<String>,
    /// 1 to 500; default 100.
    pub limit: Option<i64>,
}

impl MessagesQuery {
    pub fn parts(&self) -> ApiResult<(Option<MessageId>, i64)> {
        let after = self.after.as_deref().map(MessageId::parse).transpose()?;
        let limit = self.limit.unwrap_or(100);
        if !(1..=500).contains(&limit) {
            return Err(crate::error::ApiError::new(
                crate::error::Code::InvalidQuery,
                "limit must be between 1 and 500",
            ));
        }
        Ok((after, limit))
    }
}

/// Messages in order, internal notes included.
#[utoipa::path(get, path = "/api/v1/conversations/{id}/messages", tag = "conversations", params(("id" = String, Path), MessagesQuery), responses((status = 200, body = [MessageDto]), Errors))]
pub async fn messages(
    State(s): State<AppState>,
    Cap(who): Cap<Staff>,
    Path(id): Path<String>,
    Query(q): Query<MessagesQuery>,
) -> ApiResult<J<Vec<MessageDto>>> {
    let id = path_id(&id, ConversationId::parse, "conversation")?;
    let (after, limit) = q.parts()?;
    Ok(J(s
        .app
        .conversation_messages(&who, id, after, limit)
        .await?
        .iter()
        .map(MessageDto::from)
        .collect()))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct MessageRequest {
    pub body: String,
    #[serde(default)]
    pub attachments: Vec<AttachmentDto>,
    /// true for an internal note, never shown to the customer.
    #[serde(default)]
    pub internal: bool,
}

impl MessageRequest {
    pub fn into_new(self, key: IdempotencyKey) -> ApiResult<NewMessage> {
        let attachments = crate::dto::parse_attachments(&self.attachments)?;
        let visibility =
            Some(if self.internal { Visibility::Internal } else { Visibility::Public });
        Ok(NewMessage { body: self.body, attachments, visibility, idempotency_key: key.0 })
    }
}

/// Replies to the customer, or adds an internal note. Honours `Idempotency-Key`: a retry
/// returns the first message with 200 instead of 201.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/messages", tag = "conversations", params(("id" = String, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body = MessageRequest, responses((status = 201, body = MessageDto), (status = 200, body = MessageDto, description = "retry of an earlier request"), Errors))]
pub async fn post_message(
    State(s): State<AppState>,
    Cap(who): Cap<Noter>,
    Path(id): Path<String>,
    key: IdempotencyKey,
    Json(r): Json<MessageRequest>,
) -> ApiResult<(StatusCode, J<MessageDto>)> {
    let id = path_id(&id, ConversationId::parse, "conversation")?;
    let (m, created) = s.app.post_staff_message(&who, id, r.into_new(key)?).await?;
    Ok((if created { StatusCode::CREATED } else { StatusCode::OK }, J(MessageDto::from(&m))))
}
