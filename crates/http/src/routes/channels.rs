//! Channels (issue 8): admins configure channels and event webhooks; each channel has public
//! endpoints its vendor calls, authenticated by the channel's own signature scheme (WeChat's
//! SHA-1 token signature, or its msg_signature over AES-encrypted messages in safe mode, or
//! HMAC-SHA256 `X-Huiting-Signature` for webhook, SMS and call
//! records); staff and widget visitors verify phone numbers with a code (IN-2).

use app::{
    auth::{Admin, Agent},
    channels::{
        config::ChannelView,
        inbound::{Received, Signed, WeChatQuery},
        webhooks::NewWebhook,
    },
};
use axum::{
    body::Bytes,
    extract::{Path, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use domain::{ChannelId, CustomerId, DeliveryId, Identity, IdentityKind, WebhookId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    AppState,
    error::ApiResult,
    extract::{Cap, Json, Query, VisitorAuth},
    routes::{Errors, path_id},
};

use axum::Json as J;

#[derive(Debug, Serialize, ToSchema)]
pub struct ChannelDto {
    pub id: String,
    /// wechat, webhook, sms or phone
    pub kind: String,
    pub name: String,
    pub active: bool,
    /// The kind's settings with secrets shown as `***`.
    #[schema(value_type = Object)]
    pub settings: serde_json::Value,
    /// The vendor-facing endpoint of this channel (relative to the server's origin).
    pub endpoint: String,
    pub created_at: i64,
    pub updated_at: i64,
}

impl From<&ChannelView> for ChannelDto {
    fn from(v: &ChannelView) -> ChannelDto {
        let id = v.row.id.to_string();
        let endpoint = match v.row.kind.as_str() {
            "wechat" => format!("/api/v1/channels/{id}/wechat"),
            "webhook" => format!("/api/v1/channels/{id}/webhook"),
            "sms" => format!("/api/v1/channels/{id}/sms"),
            _ => format!("/api/v1/channels/{id}/calls"),
        };
        ChannelDto {
            id,
            kind: v.row.kind.clone(),
            name: v.row.name.clone(),
            active: v.row.active,
            settings: v.settings.redacted(),
            endpoint,
            created_at: v.row.created_at.millis(),
            updated_at: v.row.updated_at.millis(),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ChannelRequest {
    /// wechat, webhook, sms or phone
    pub kind: String,
    pub name: String,
    /// wechat: `{app_id, app_secret, token, api_base?, welcome?, allow_hosts?, mode?:
    /// plaintext|compatible|safe, encoding_aes_key? (43 characters; compatible and safe
    /// mode)}`; webhook:
    /// `{platform, secret, callback_url?, allow_hosts?}`; sms: `{api_url, api_key, sign_name,
    /// secret, templates: {name: {code, text}}, reply_template?, verification_template?,
    /// allow_hosts?}`; phone: `{secret}`.
    #[schema(value_type = Object)]
    pub settings: serde_json::Value,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ChannelPatch {
    pub name: Option<String>,
    /// A whole new settings document; a secret left out, empty or `***` (as shown back) keeps
    /// the stored one.
    #[schema(value_type = Object)]
    pub settings: Option<serde_json::Value>,
    pub active: Option<bool>,
}

/// The workspace's channels (admins).
#[utoipa::path(get, path = "/api/v1/channels", tag = "channels", responses((status = 200, body = [ChannelDto]), Errors))]
pub async fn list(
    State(s): State<AppState>,
    Cap(who): Cap<Admin>,
) -> ApiResult<J<Vec<ChannelDto>>> {
    Ok(J(s.app.list_channels(&who).await?.iter().map(ChannelDto::from).collect()))
}

/// Adds a channel; its settings are checked for the kind (400 names the field).
#[utoipa::path(post, path = "/api/v1/channels", tag = "channels", request_body = ChannelRequest, responses((status = 201, body = ChannelDto), Errors))]
pub async fn create(
    State(s): State<AppState>,
    Cap(who): Cap<Admin>,
    Json(r): Json<ChannelRequest>,
) -> ApiResult<(StatusCode, J<ChannelDto>)> {
    let v = s.app.create_channel(&who, &r.kind, &r.name, &r.settings.to_string()).await?;
    Ok((StatusCode::CREATED, J(ChannelDto::from(&v))))
}

#[utoipa::path(get, path = "/api/v1/channels/{id}", tag = "channels", params(("id" = String, Path)), responses((status = 200, body = ChannelDto), Errors))]
pub async fn get(
    State(s): State<AppState>,
    Cap(who): Cap<Admin>,
    Path(id): Path<String>,
) -> ApiResult<J<ChannelDto>> {
    let id = path_id(&id, ChannelId::parse, "channel")?;
    Ok(J(ChannelDto::from(&s.app.get_channel(&who, id).await?)))
}

/// Renames, reconfigures, or turns a channel off and on.
#[utoipa::path(patch, path = "/api/v1/channels/{id}", tag = "channels", params(("id" = String, Path)), request_body = ChannelPatch, responses((status = 200, body = ChannelDto), Errors))]
pub async fn update(
    State(s): State<AppState>,
    Cap(who): Cap<Admin>,
    Path(id): Path<String>,
    Json(r): Json<ChannelPatch>,
) -> ApiResult<J<ChannelDto>> {
    let id = path_id(&id, ChannelId::parse, "channel")?;
    let settings = r.settings.map(|v| v.to_string());
    let v =
        s.app.update_channel(&who, id, r.name.as_deref(), settings.as_deref(), r.active).await?;
    Ok(J(ChannelDto::from(&v)))
}

#[derive(Debug, Deserialize, ToSchema, utoipa::IntoParams)]
pub struct WeChatParams {
    /// SHA-1 of the sorted token, timestamp and nonce; required unless `msg_signature` is
    /// given.
    pub signature: Option<String>,
    pub timestamp: String,
    pub nonce: String,
    /// Only on the server URL check (encrypted when `msg_signature` is given).
    pub echostr: Option<String>,
    /// `aes` on an encrypted push (compatible and safe mode).
    pub encrypt_type: Option<String>,
    /// SHA-1 of the sorted token, timestamp, nonce and encrypted value: on encrypted calls.
    pub msg_signature: Option<String>,
}

impl WeChatParams {
    fn query(&self) -> WeChatQuery {
        WeChatQuery {
            signature: self.signature.clone(),
            timestamp: self.timestamp.clone(),
            nonce: self.nonce.clone(),
            msg_signature: self.msg_signature.clone(),
            encrypt_type: self.encrypt_type.clone(),
        }
    }
}

/// WeChat's server URL check: answers `echostr` when the signature matches, or with
/// `msg_signature` the decrypted `echostr` (public).
#[utoipa::path(get, path = "/api/v1/channels/{id}/wechat", tag = "channels", params(("id" = String, Path), WeChatParams), responses((status = 200, body = String, content_type = "text/plain"), Errors))]
pub async fn wechat_verify(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<WeChatParams>,
) -> ApiResult<Response> {
    let id = path_id(&id, ChannelId::parse, "channel")?;
    let echo = s.app.wechat_verify(id, &q.query(), q.echostr.as_deref().unwrap_or("")).await?;
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], echo).into_response())
}

/// A message or event pushed by WeChat (XML): plaintext, or with `encrypt_type=aes` and
/// `msg_signature` encrypted (compatible and safe mode, as the channel's `mode` allows).
/// Answers a passive reply document (encrypted when the push was), or `success` (public;
/// WeChat's signature).
#[utoipa::path(post, path = "/api/v1/channels/{id}/wechat", tag = "channels", params(("id" = String, Path), WeChatParams), request_body(content = String, content_type = "text/xml"), responses((status = 200, body = String, content_type = "text/xml"), Errors))]
pub async fn wechat_receive(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<WeChatParams>,
    body: Bytes,
) -> ApiResult<Response> {
    let id = path_id(&id, ChannelId::parse, "channel")?;
    let (_, reply) = s.app.wechat_receive(id, &q.query(), &body).await?;
    Ok(match reply {
        Some(xml) => {
            ([(header::CONTENT_TYPE, "application/xml; charset=utf-8")], xml).into_response()
        }
        None => ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], "success").into_response(),
    })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReceivedDto {
    pub customer_id: String,
    pub conversation_id: String,
    pub message_id: Option<String>,
    /// False when this id was stored before (a retry).
    pub new: bool,
}

impl From<&Received> for ReceivedDto {
    fn from(r: &Received) -> ReceivedDto {
        ReceivedDto {
            customer_id: r.customer.to_string(),
            conversation_id: r.conversation.to_string(),
            message_id: r.message.as_ref().map(|m| m.id.to_string()),
            new: r.new,
        }
    }
}

fn signed(h: &HeaderMap) -> Signed {
    let get = |n: &str| h.get(n).and_then(|v| v.to_str().ok()).map(str::to_string);
    Signed {
        timestamp: get(::channels::sign::TIMESTAMP_HEADER),
        signature: get(::channels::sign::SIGNATURE_HEADER),
        nonce: get(::channels::sign::NONCE_HEADER),
    }
}

/// A customer message from a signed-webhook platform (public; HMAC-SHA256 signature, 5
/// minutes' tolerance, a replayed id is a 409).
#[utoipa::path(post, path = "/api/v1/channels/{id}/webhook", tag = "channels", params(("id" = String, Path)), request_body(content = Object, description = "`{id, user: {id, name?, phone?, email?}, text, attachments?}`"), responses((status = 200, body = ReceivedDto), Errors))]
pub async fn webhook_receive(
    State(s): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<J<ReceivedDto>> {
    let id = path_id(&id, ChannelId::parse, "channel")?;
    Ok(J(ReceivedDto::from(&s.app.webhook_receive(id, &signed(&headers), &body).await?)))
}

/// An inbound SMS from the provider (public; signed like webhooks).
#[utoipa::path(post, path = "/api/v1/channels/{id}/sms", tag = "channels", params(("id" = String, Path)), request_body(content = Object, description = "`{id, from, text}`"), responses((status = 200, body = ReceivedDto), Errors))]
pub async fn sms_receive(
    State(s): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<J<ReceivedDto>> {
    let id = path_id(&id, ChannelId::parse, "channel")?;
    Ok(J(ReceivedDto::from(&s.app.sms_receive(id, &signed(&headers), &body).await?)))
}

/// A call record from the call center (public; signed like webhooks).
#[utoipa::path(post, path = "/api/v1/channels/{id}/calls", tag = "channels", params(("id" = String, Path)), request_body(content = Object, description = "`{call_id, caller, direction?, duration_secs?, ivr?, recording_url?, transcript?: [{speaker, text}], voicemail?: {url, content_type?, size?, duration_secs?}}`"), responses((status = 200, body = ReceivedDto), Errors))]
pub async fn phone_call(
    State(s): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<J<ReceivedDto>> {
    let id = path_id(&id, ChannelId::parse, "channel")?;
    Ok(J(ReceivedDto::from(&s.app.phone_call(id, &signed(&headers), &body).await?)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookDto {
    pub id: String,
    pub url: String,
    pub events: Vec<String>,
    pub allow_hosts: Vec<String>,
    /// Only in the answer to the request that created it.
    pub secret: Option<String>,
    pub created_at: i64,
}

impl WebhookDto {
    fn new(s: &app::db::channels::SubscriptionRow, show_secret: bool) -> WebhookDto {
        WebhookDto {
            id: s.id.to_string(),
            url: s.url.clone(),
            events: s.events.clone(),
            allow_hosts: s.allow_hosts.clone(),
            secret: show_secret.then(|| s.secret.clone()),
            created_at: s.created_at.millis(),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct WebhookRequest {
    pub url: String,
    /// Event names such as `ticket.created`, or `["*"]`.
    pub events: Vec<String>,
    /// Hosts allowed on internal addresses (loopback, private, link-local); empty by default.
    #[serde(default)]
    pub allow_hosts: Vec<String>,
}

#[utoipa::path(get, path = "/api/v1/webhooks", tag = "channels", responses((status = 200, body = [WebhookDto]), Errors))]
pub async fn list_webhooks(
    State(s): State<AppState>,
    Cap(who): Cap<Admin>,
) -> ApiResult<J<Vec<WebhookDto>>> {
    Ok(J(s.app.list_webhooks(&who).await?.iter().map(|w| WebhookDto::new(w, false)).collect()))
}

/// Subscribes a URL to events; the answer carries the signing secret, shown once.
#[utoipa::path(post, path = "/api/v1/webhooks", tag = "channels", request_body = WebhookRequest, responses((status = 201, body = WebhookDto), Errors))]
pub async fn create_webhook(
    State(s): State<AppState>,
    Cap(who): Cap<Admin>,
    Json(r): Json<WebhookRequest>,
) -> ApiResult<(StatusCode, J<WebhookDto>)> {
    let n = NewWebhook { url: r.url, events: r.events, allow_hosts: r.allow_hosts };
    let w = s.app.create_webhook(&who, n).await?;
    Ok((StatusCode::CREATED, J(WebhookDto::new(&w, true))))
}

#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", tag = "channels", params(("id" = String, Path)), responses((status = 204), Errors))]
pub async fn delete_webhook(
    State(s): State<AppState>,
    Cap(who): Cap<Admin>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = path_id(&id, WebhookId::parse, "webhook")?;
    s.app.delete_webhook(&who, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryDto {
    pub id: String,
    pub event: String,
    pub seq: i64,
    /// pending, delivered or failed
    pub state: String,
    pub attempts: i64,
    pub response_status: Option<i64>,
    pub last_error: Option<String>,
    /// The exact body sent.
    pub payload: String,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct DeliveriesQuery {
    /// 1 to 200, default 50.
    pub limit: Option<i64>,
    /// Deliveries older than this delivery id.
    pub before: Option<String>,
}

/// The subscription's delivery log, newest first.
#[utoipa::path(get, path = "/api/v1/webhooks/{id}/deliveries", tag = "channels", params(("id" = String, Path), DeliveriesQuery), responses((status = 200, body = [DeliveryDto]), Errors))]
pub async fn deliveries(
    State(s): State<AppState>,
    Cap(who): Cap<Admin>,
    Path(id): Path<String>,
    Query(q): Query<DeliveriesQuery>,
) -> ApiResult<J<Vec<DeliveryDto>>> {
    let id = path_id(&id, WebhookId::parse, "webhook")?;
    let before = q.before.as_deref().map(DeliveryId::parse).transpose()?;
    let limit = q.limit.unwrap_or(50).clamp(1, 200);
    let rows = s.app.webhook_deliveries(&who, id, before, limit).await?;
    Ok(J(rows.iter().map(delivery_dto).collect()))
}

fn delivery_dto(d: &app::db::channels::DeliveryRow) -> DeliveryDto {
    DeliveryDto {
        id: d.id.to_string(),
        event: d.event_kind.clone(),
        seq: d.event_seq,
        state: d.state.clone(),
        attempts: d.attempts,
        response_status: d.response_status,
        last_error: d.last_error.clone(),
        payload: d.payload.clone(),
        created_at: d.created_at.millis(),
        updated_at: d.updated_at.millis(),
    }
}

/// Sends a failed delivery again (admins): a `failed` delivery, or a `pending` one whose job
/// is dead, goes back to `pending` with a new delivery job — signed, URL-checked and logged
/// like the first. 409 `delivery_succeeded` for a delivered one, `delivery_pending` for one
/// still waiting for the server's own retry.
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/deliveries/{delivery_id}/retry", tag = "channels",
    params(("id" = String, Path), ("delivery_id" = String, Path)),
    responses((status = 202, body = DeliveryDto), Errors))]
pub async fn retry_delivery(
    State(s): State<AppState>,
    Cap(who): Cap<Admin>,
    Path((id, delivery)): Path<(String, String)>,
) -> ApiResult<(axum::http::StatusCode, J<DeliveryDto>)> {
    let id = path_id(&id, WebhookId::parse, "webhook")?;
    let delivery = path_id(&delivery, DeliveryId::parse, "delivery")?;
    let d = s.app.retry_webhook_delivery(&who, id, delivery).await?;
    Ok((axum::http::StatusCode::ACCEPTED, J(delivery_dto(&d))))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct VerifyStartRequest {
    /// The phone number to send a code to.
    pub phone: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct VerifyConfirmRequest {
    pub code: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VerifiedDto {
    /// The customer who holds the verified number now.
    pub customer_id: String,
    /// The customer merged into it, when the number linked two customers (IN-2).
    pub merged_from: Option<String>,
}

fn verified(v: &app::channels::identity::Verified) -> VerifiedDto {
    VerifiedDto {
        customer_id: v.customer.to_string(),
        merged_from: v.merged_from.map(|m| m.to_string()),
    }
}

fn phone_identity(p: &str) -> Result<Identity, domain::ParseError> {
    Identity::parse(IdentityKind::Phone, p)
}

/// Sends a verification code by SMS to a number the customer gave (agents; 429 when asked
/// again within a minute or more than five times an hour).
#[utoipa::path(post, path = "/api/v1/customers/{id}/verifications", tag = "channels", params(("id" = String, Path)), request_body = VerifyStartRequest, responses((status = 202), Errors))]
pub async fn staff_verify_start(
    State(s): State<AppState>,
    Cap(who): Cap<Agent>,
    Path(id): Path<String>,
    Json(r): Json<VerifyStartRequest>,
) -> ApiResult<StatusCode> {
    let id = path_id(&id, CustomerId::parse, "customer")?;
    s.app.start_verification(&who, id, phone_identity(&r.phone)?).await?;
    Ok(StatusCode::ACCEPTED)
}

/// Confirms the code the customer read out; a number another customer holds links the two.
#[utoipa::path(post, path = "/api/v1/customers/{id}/verifications/confirm", tag = "channels", params(("id" = String, Path)), request_body = VerifyConfirmRequest, responses((status = 200, body = VerifiedDto), Errors))]
pub async fn staff_verify_confirm(
    State(s): State<AppState>,
    Cap(who): Cap<Agent>,
    Path(id): Path<String>,
    Json(r): Json<VerifyConfirmRequest>,
) -> ApiResult<J<VerifiedDto>> {
    let id = path_id(&id, CustomerId::parse, "customer")?;
    Ok(J(verified(&s.app.confirm_verification(&who, id, &r.code).await?)))
}

/// First-contact verification from the widget: sends a code to the visitor's phone.
#[utoipa::path(post, path = "/api/v1/public/verifications", tag = "public", request_body = VerifyStartRequest, responses((status = 202), Errors))]
pub async fn visitor_verify_start(
    State(s): State<AppState>,
    VisitorAuth(v): VisitorAuth,
    Json(r): Json<VerifyStartRequest>,
) -> ApiResult<StatusCode> {
    s.app.visitor_start_verification(&v, phone_identity(&r.phone)?).await?;
    Ok(StatusCode::ACCEPTED)
}

/// Confirms the widget visitor's code; the visitor becomes (or joins) the verified customer.
#[utoipa::path(post, path = "/api/v1/public/verifications/confirm", tag = "public", request_body = VerifyConfirmRequest, responses((status = 200, body = VerifiedDto), Errors))]
pub async fn visitor_verify_confirm(
    State(s): State<AppState>,
    VisitorAuth(v): VisitorAuth,
    Json(r): Json<VerifyConfirmRequest>,
) -> ApiResult<J<VerifiedDto>> {
    Ok(J(verified(&s.app.visitor_confirm_verification(&v, &r.code).await?)))
}
