//! Channels (issue 8): configured channel endpoints, each conversation's reply route, nonces
//! for replay protection, outbound replies, event-webhook subscriptions and deliveries, the
//! outbox cursor the relay has reached, and identity verification codes.

use anyhow::Context;
use domain::{
    ChannelId, ConversationId, CustomerId, DeliveryId, MessageId, OutboundId, Timestamp,
    VerificationId, WebhookId, WorkspaceId,
};
use sqlx::{AnyConnection, any::AnyRow};

use crate::{Db, Result, int, opt_text, parse_col, parse_opt_col, text, ts};

/// A configured channel; `settings` is the kind's JSON document (see `channels::config`).
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelRow {
    pub id: ChannelId,
    pub workspace: WorkspaceId,
    pub kind: String,
    pub name: String,
    pub settings: String,
    pub active: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

const CH_COLS: &str = "id, workspace_id, kind, name, settings, active, created_at, updated_at";

fn channel(r: &AnyRow) -> Result<ChannelRow> {
    Ok(ChannelRow {
        id: parse_col(r, "id", ChannelId::parse)?,
        workspace: parse_col(r, "workspace_id", WorkspaceId::parse)?,
        kind: text(r, "kind")?,
        name: text(r, "name")?,
        settings: text(r, "settings")?,
        active: int(r, "active")? != 0,
        created_at: ts(r, "created_at")?,
        updated_at: ts(r, "updated_at")?,
    })
}

pub async fn insert_channel(c: &mut AnyConnection, ch: &ChannelRow) -> Result<()> {
    sqlx::query(
        "INSERT INTO channels (id, workspace_id, kind, name, settings, active, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(ch.id.to_string())
    .bind(ch.workspace.to_string())
    .bind(&ch.kind)
    .bind(&ch.name)
    .bind(&ch.settings)
    .bind(i64::from(ch.active))
    .bind(ch.created_at.millis())
    .bind(ch.updated_at.millis())
    .execute(c)
    .await
    .context("inserting a channel")?;
    Ok(())
}

pub async fn update_channel(c: &mut AnyConnection, ch: &ChannelRow) -> Result<()> {
    sqlx::query(
        "UPDATE channels SET name = $3, settings = $4, active = $5, updated_at = $6 WHERE workspace_id = $1 AND id = $2",
    )
    .bind(ch.workspace.to_string())
    .bind(ch.id.to_string())
    .bind(&ch.name)
    .bind(&ch.settings)
    .bind(i64::from(ch.active))
    .bind(ch.updated_at.millis())
    .execute(c)
    .await
    .context("updating a channel")?;
    Ok(())
}

pub async fn get_channel(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    id: ChannelId,
) -> Result<Option<ChannelRow>> {
    let sql = format!("SELECT {CH_COLS} FROM channels WHERE workspace_id = $1 AND id = $2");
    crate::one_by_id(c, sql, ws, id, channel).await
}

/// A channel by id alone: public inbound endpoints learn the workspace from it.
pub async fn channel_by_id(c: &mut AnyConnection, id: ChannelId) -> Result<Option<ChannelRow>> {
    let sql = format!("SELECT {CH_COLS} FROM channels WHERE id = $1");
    let r = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id.to_string()).fetch_optional(c).await?;
    r.as_ref().map(channel).transpose()
}

pub async fn list_channels(c: &mut AnyConnection, ws: WorkspaceId) -> Result<Vec<ChannelRow>> {
    let sql = format!("SELECT {CH_COLS} FROM channels WHERE workspace_id = $1 ORDER BY id");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(ws.to_string()).fetch_all(c).await?;
    rows.iter().map(channel).collect()
}

/// The first active channel of `kind` in the workspace (verification codes go through it).
pub async fn first_active(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    kind: &str,
) -> Result<Option<ChannelRow>> {
    let sql = format!(
        "SELECT {CH_COLS} FROM channels WHERE workspace_id = $1 AND kind = $2 AND active = 1 ORDER BY id LIMIT 1"
    );
    let r = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(ws.to_string())
        .bind(kind)
        .fetch_optional(c)
        .await?;
    r.as_ref().map(channel).transpose()
}

/// Remembers `nonce` for the channel; false if it was seen before (a replay). Nonces older
/// than `forget_before` are dropped first (signatures that old are refused anyway).
pub async fn remember_nonce(
    c: &mut AnyConnection,
    ch: ChannelId,
    nonce: &str,
    now: Timestamp,
    forget_before: Timestamp,
) -> Result<bool> {
    sqlx::query("DELETE FROM channel_nonces WHERE channel_id = $1 AND seen_at < $2")
        .bind(ch.to_string())
        .bind(forget_before.millis())
        .execute(&mut *c)
        .await?;
    let r = sqlx::query(
        "INSERT INTO channel_nonces (channel_id, nonce, seen_at) VALUES ($1, $2, $3) ON CONFLICT (channel_id, nonce) DO NOTHING",
    )
    .bind(ch.to_string())
    .bind(nonce)
    .bind(now.millis())
    .execute(c)
    .await
    .context("remembering a nonce")?;
    Ok(r.rows_affected() == 1)
}

/// Records that replies in `conv` go to `address` through channel `ch`.
pub async fn set_route(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    conv: ConversationId,
    ch: ChannelId,
    address: &str,
    now: Timestamp,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO conversation_routes (conversation_id, workspace_id, channel_id, address, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(conv.to_string())
    .bind(ws.to_string())
    .bind(ch.to_string())
    .bind(address)
    .bind(now.millis())
    .execute(c)
    .await
    .context("routing a conversation")?;
    Ok(())
}

/// The channel and address replies in `conv` go to, if it came through a channel.
pub async fn route_of(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    conv: ConversationId,
) -> Result<Option<(ChannelId, String)>> {
    let r = sqlx::query(
        "SELECT channel_id, address FROM conversation_routes WHERE workspace_id = $1 AND conversation_id = $2",
    )
    .bind(ws.to_string())
    .bind(conv.to_string())
    .fetch_optional(c)
    .await?;
    r.map(|r| Ok((parse_col(&r, "channel_id", ChannelId::parse)?, text(&r, "address")?)))
        .transpose()
}

/// The latest conversation with `address` on channel `ch`: a new message continues it.
pub async fn conversation_for(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    ch: ChannelId,
    address: &str,
) -> Result<Option<ConversationId>> {
    let r = sqlx::query(
        "SELECT conversation_id FROM conversation_routes WHERE workspace_id = $1 AND channel_id = $2 AND address = $3
         ORDER BY created_at DESC, conversation_id DESC LIMIT 1",
    )
    .bind(ws.to_string())
    .bind(ch.to_string())
    .bind(address)
    .fetch_optional(c)
    .await?;
    r.map(|r| parse_col(&r, "conversation_id", ConversationId::parse)).transpose()
}

/// A reply waiting for, or done with, delivery through a channel.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboundRow {
    pub id: OutboundId,
    pub workspace: WorkspaceId,
    pub channel: ChannelId,
    pub conversation: Option<ConversationId>,
    pub message: Option<MessageId>,
    pub address: String,
    pub body: String,
    /// `pending`, `sent` or `failed`.
    pub state: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

const OUT_COLS: &str = "id, workspace_id, channel_id, conversation_id, message_id, address, body, state, attempts, last_error, created_at, updated_at";

fn outbound(r: &AnyRow) -> Result<OutboundRow> {
    Ok(OutboundRow {
        id: parse_col(r, "id", OutboundId::parse)?,
        workspace: parse_col(r, "workspace_id", WorkspaceId::parse)?,
        channel: parse_col(r, "channel_id", ChannelId::parse)?,
        conversation: parse_opt_col(r, "conversation_id", ConversationId::parse)?,
        message: parse_opt_col(r, "message_id", MessageId::parse)?,
        address: text(r, "address")?,
        body: text(r, "body")?,
        state: text(r, "state")?,
        attempts: int(r, "attempts")?,
        last_error: opt_text(r, "last_error")?,
        created_at: ts(r, "created_at")?,
        updated_at: ts(r, "updated_at")?,
    })
}

pub async fn insert_outbound(c: &mut AnyConnection, o: &OutboundRow) -> Result<()> {
    sqlx::query(
        "INSERT INTO outbound_messages (id, workspace_id, channel_id, conversation_id, message_id, address, body, state, attempts, last_error, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(o.id.to_string())
    .bind(o.workspace.to_string())
    .bind(o.channel.to_string())
    .bind(o.conversation.map(|x| x.to_string()))
    .bind(o.message.map(|x| x.to_string()))
    .bind(&o.address)
    .bind(&o.body)
    .bind(&o.state)
    .bind(o.attempts)
    .bind(o.last_error.clone())
    .bind(o.created_at.millis())
    .bind(o.updated_at.millis())
    .execute(c)
    .await
    .context("inserting an outbound message")?;
    Ok(())
}

pub async fn get_outbound(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    id: OutboundId,
) -> Result<Option<OutboundRow>> {
    let sql =
        format!("SELECT {OUT_COLS} FROM outbound_messages WHERE workspace_id = $1 AND id = $2");
    crate::one_by_id(c, sql, ws, id, outbound).await
}

/// Outbound messages of a conversation, oldest first.
pub async fn outbound_of(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    conv: ConversationId,
) -> Result<Vec<OutboundRow>> {
    let sql = format!(
        "SELECT {OUT_COLS} FROM outbound_messages WHERE workspace_id = $1 AND conversation_id = $2 ORDER BY id"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(ws.to_string())
        .bind(conv.to_string())
        .fetch_all(c)
        .await?;
    rows.iter().map(outbound).collect()
}

/// Records one delivery attempt's result (bookkeeping: not evented or audited).
pub async fn record_outbound_attempt(
    db: &Db,
    id: OutboundId,
    state: &str,
    error: Option<&str>,
    now: Timestamp,
) -> Result<()> {
    let mut c = db.bookkeeping().await?;
    sqlx::query(
        "UPDATE outbound_messages SET state = $2, attempts = attempts + 1, last_error = $3, updated_at = $4 WHERE id = $1",
    )
    .bind(id.to_string())
    .bind(state)
    .bind(error.map(|e| e.chars().take(2000).collect::<String>()))
    .bind(now.millis())
    .execute(&mut *c)
    .await
    .context("recording an outbound attempt")?;
    Ok(())
}

/// An event-webhook subscription (PL-2).
#[derive(Debug, Clone, PartialEq)]
pub struct SubscriptionRow {
    pub id: WebhookId,
    pub workspace: WorkspaceId,
    pub url: String,
    /// Event names (`ticket.created`) or `*`.
    pub events: Vec<String>,
    pub secret: String,
    pub allow_hosts: Vec<String>,
    pub active: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

const SUB_COLS: &str =
    "id, workspace_id, url, events, secret, allow_hosts, active, created_at, updated_at";

fn list_json(s: &str) -> Result<Vec<String>> {
    serde_json::from_str(s).context("a stored list is not a JSON array of strings")
}

fn subscription(r: &AnyRow) -> Result<SubscriptionRow> {
    Ok(SubscriptionRow {
        id: parse_col(r, "id", WebhookId::parse)?,
        workspace: parse_col(r, "workspace_id", WorkspaceId::parse)?,
        url: text(r, "url")?,
        events: list_json(&text(r, "events")?)?,
        secret: text(r, "secret")?,
        allow_hosts: list_json(&text(r, "allow_hosts")?)?,
        active: int(r, "active")? != 0,
        created_at: ts(r, "created_at")?,
        updated_at: ts(r, "updated_at")?,
    })
}

pub async fn insert_subscription(c: &mut AnyConnection, s: &SubscriptionRow) -> Result<()> {
    sqlx::query(
        "INSERT INTO webhook_subscriptions (id, workspace_id, url, events, secret, allow_hosts, active, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(s.id.to_string())
    .bind(s.workspace.to_string())
    .bind(&s.url)
    .bind(serde_json::to_string(&s.events)?)
    .bind(&s.secret)
    .bind(serde_json::to_string(&s.allow_hosts)?)
    .bind(i64::from(s.active))
    .bind(s.created_at.millis())
    .bind(s.updated_at.millis())
    .execute(c)
    .await
    .context("inserting a webhook subscription")?;
    Ok(())
}

pub async fn set_subscription_active(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    id: WebhookId,
    active: bool,
    now: Timestamp,
) -> Result<bool> {
    let r = sqlx::query(
        "UPDATE webhook_subscriptions SET active = $3, updated_at = $4 WHERE workspace_id = $1 AND id = $2",
    )
    .bind(ws.to_string())
    .bind(id.to_string())
    .bind(i64::from(active))
    .bind(now.millis())
    .execute(c)
    .await?;
    Ok(r.rows_affected() == 1)
}

pub async fn get_subscription(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    id: WebhookId,
) -> Result<Option<SubscriptionRow>> {
    let sql =
        format!("SELECT {SUB_COLS} FROM webhook_subscriptions WHERE workspace_id = $1 AND id = $2");
    crate::one_by_id(c, sql, ws, id, subscription).await
}

pub async fn list_subscriptions(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    active_only: bool,
) -> Result<Vec<SubscriptionRow>> {
    let filter = if active_only { " AND active = 1" } else { "" };
    let sql = format!(
        "SELECT {SUB_COLS} FROM webhook_subscriptions WHERE workspace_id = $1{filter} ORDER BY id"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(ws.to_string()).fetch_all(c).await?;
    rows.iter().map(subscription).collect()
}

/// One event's delivery to one subscription, with its latest attempt's result.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryRow {
    pub id: DeliveryId,
    pub workspace: WorkspaceId,
    pub subscription: WebhookId,
    pub event_seq: i64,
    pub event_kind: String,
    /// The exact body POSTed (signed as is).
    pub payload: String,
    /// `pending`, `delivered` or `failed` (attempts ran out).
    pub state: String,
    pub attempts: i64,
    pub response_status: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

const DEL_COLS: &str = "id, workspace_id, subscription_id, event_seq, event_kind, payload, state, attempts, response_status, last_error, created_at, updated_at";

fn delivery(r: &AnyRow) -> Result<DeliveryRow> {
    use sqlx::Row;
    Ok(DeliveryRow {
        id: parse_col(r, "id", DeliveryId::parse)?,
        workspace: parse_col(r, "workspace_id", WorkspaceId::parse)?,
        subscription: parse_col(r, "subscription_id", WebhookId::parse)?,
        event_seq: int(r, "event_seq")?,
        event_kind: text(r, "event_kind")?,
        payload: text(r, "payload")?,
        state: text(r, "state")?,
        attempts: int(r, "attempts")?,
        response_status: r.try_get("response_status").context("reading response_status")?,
        last_error: opt_text(r, "last_error")?,
        created_at: ts(r, "created_at")?,
        updated_at: ts(r, "updated_at")?,
    })
}

pub async fn insert_delivery(c: &mut AnyConnection, d: &DeliveryRow) -> Result<()> {
    sqlx::query(
        "INSERT INTO webhook_deliveries (id, workspace_id, subscription_id, event_seq, event_kind, payload, state, attempts, response_status, last_error, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(d.id.to_string())
    .bind(d.workspace.to_string())
    .bind(d.subscription.to_string())
    .bind(d.event_seq)
    .bind(&d.event_kind)
    .bind(&d.payload)
    .bind(&d.state)
    .bind(d.attempts)
    .bind(d.response_status)
    .bind(d.last_error.clone())
    .bind(d.created_at.millis())
    .bind(d.updated_at.millis())
    .execute(c)
    .await
    .context("inserting a webhook delivery")?;
    Ok(())
}

pub async fn get_delivery(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    id: DeliveryId,
) -> Result<Option<DeliveryRow>> {
    let sql =
        format!("SELECT {DEL_COLS} FROM webhook_deliveries WHERE workspace_id = $1 AND id = $2");
    crate::one_by_id(c, sql, ws, id, delivery).await
}

/// Deliveries of a subscription, newest first.
pub async fn list_deliveries(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    sub: WebhookId,
    before: Option<DeliveryId>,
    limit: i64,
) -> Result<Vec<DeliveryRow>> {
    let sql = format!(
        "SELECT {DEL_COLS} FROM webhook_deliveries WHERE workspace_id = $1 AND subscription_id = $2 AND ($3 = '' OR id < $3)
         ORDER BY id DESC LIMIT $4"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(ws.to_string())
        .bind(sub.to_string())
        .bind(before.map(|b| b.to_string()).unwrap_or_default())
        .bind(limit.clamp(1, 500))
        .fetch_all(c)
        .await?;
    rows.iter().map(delivery).collect()
}

/// Records one delivery attempt's result (bookkeeping: not evented or audited).
pub async fn record_delivery_attempt(
    db: &Db,
    id: DeliveryId,
    state: &str,
    status: Option<i64>,
    error: Option<&str>,
    now: Timestamp,
) -> Result<()> {
    let mut c = db.bookkeeping().await?;
    sqlx::query(
        "UPDATE webhook_deliveries SET state = $2, attempts = attempts + 1, response_status = $3, last_error = $4, updated_at = $5 WHERE id = $1",
    )
    .bind(id.to_string())
    .bind(state)
    .bind(status)
    .bind(error.map(|e| e.chars().take(2000).collect::<String>()))
    .bind(now.millis())
    .execute(&mut *c)
    .await
    .context("recording a delivery attempt")?;
    Ok(())
}

/// Sets a delivery back to `pending` for another attempt, if it is in `from` now; returns
/// whether it was (the retry's compare-and-set).
pub async fn requeue_delivery(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    id: DeliveryId,
    from: &str,
    now: Timestamp,
) -> Result<bool> {
    let r = sqlx::query(
        "UPDATE webhook_deliveries SET state = 'pending', updated_at = $4 WHERE workspace_id = $1 AND id = $2 AND state = $3",
    )
    .bind(ws.to_string())
    .bind(id.to_string())
    .bind(from)
    .bind(now.millis())
    .execute(c)
    .await
    .context("requeueing a webhook delivery")?;
    Ok(r.rows_affected() == 1)
}

/// Starts `consumer`'s cursor at the workspace's current head, if it has none.
pub async fn init_cursor(c: &mut AnyConnection, ws: WorkspaceId, consumer: &str) -> Result<()> {
    sqlx::query(
        "INSERT INTO outbox_cursors (workspace_id, consumer, seq)
         SELECT workspace_id, $2, event_seq FROM workspace_heads WHERE workspace_id = $1
         ON CONFLICT (workspace_id, consumer) DO NOTHING",
    )
    .bind(ws.to_string())
    .bind(consumer)
    .execute(c)
    .await
    .context("starting an outbox cursor")?;
    Ok(())
}

pub async fn cursor(c: &mut AnyConnection, ws: WorkspaceId, consumer: &str) -> Result<Option<i64>> {
    let r = sqlx::query("SELECT seq FROM outbox_cursors WHERE workspace_id = $1 AND consumer = $2")
        .bind(ws.to_string())
        .bind(consumer)
        .fetch_optional(c)
        .await?;
    r.map(|r| int(&r, "seq")).transpose()
}

pub async fn set_cursor(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    consumer: &str,
    seq: i64,
) -> Result<()> {
    sqlx::query("UPDATE outbox_cursors SET seq = $3 WHERE workspace_id = $1 AND consumer = $2")
        .bind(ws.to_string())
        .bind(consumer)
        .bind(seq)
        .execute(c)
        .await?;
    Ok(())
}

/// Workspaces whose outbox has events past `consumer`'s cursor.
pub async fn behind(db: &Db, consumer: &str) -> Result<Vec<WorkspaceId>> {
    let mut c = db.read().await?;
    let rows = sqlx::query(
        "SELECT o.workspace_id FROM outbox_cursors o JOIN workspace_heads h ON h.workspace_id = o.workspace_id
         WHERE o.consumer = $1 AND h.event_seq > o.seq",
    )
    .bind(consumer)
    .fetch_all(&mut *c)
    .await
    .context("finding outbox consumers behind")?;
    rows.iter().map(|r| parse_col(r, "workspace_id", WorkspaceId::parse)).collect()
}

/// An outbox event as stored: its name and JSON payload, for forwarding as is.
#[derive(Debug, Clone, PartialEq)]
pub struct RawEvent {
    pub seq: i64,
    pub at: Timestamp,
    pub kind: String,
    pub payload: String,
}

pub async fn raw_events(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    after: i64,
    limit: i64,
) -> Result<Vec<RawEvent>> {
    let rows = sqlx::query(
        "SELECT seq, at, kind, payload FROM events WHERE workspace_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
    )
    .bind(ws.to_string())
    .bind(after)
    .bind(limit)
    .fetch_all(c)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(RawEvent {
                seq: int(r, "seq")?,
                at: ts(r, "at")?,
                kind: text(r, "kind")?,
                payload: text(r, "payload")?,
            })
        })
        .collect()
}

/// A verification code sent to a phone or email for a customer (IN-2); only its hash is kept.
#[derive(Debug, Clone, PartialEq)]
pub struct CodeRow {
    pub id: VerificationId,
    pub workspace: WorkspaceId,
    pub customer: CustomerId,
    pub kind: String,
    pub value: String,
    pub code_hash: String,
    pub attempts: i64,
    pub expires_at: Timestamp,
    pub used: bool,
    pub created_at: Timestamp,
}

const CODE_COLS: &str = "id, workspace_id, customer_id, kind, value, code_hash, attempts, expires_at, used_at, created_at";

fn code(r: &AnyRow) -> Result<CodeRow> {
    Ok(CodeRow {
        id: parse_col(r, "id", VerificationId::parse)?,
        workspace: parse_col(r, "workspace_id", WorkspaceId::parse)?,
        customer: parse_col(r, "customer_id", CustomerId::parse)?,
        kind: text(r, "kind")?,
        value: text(r, "value")?,
        code_hash: text(r, "code_hash")?,
        attempts: int(r, "attempts")?,
        expires_at: ts(r, "expires_at")?,
        used: crate::opt_ts(r, "used_at")?.is_some(),
        created_at: ts(r, "created_at")?,
    })
}

pub async fn insert_code(c: &mut AnyConnection, v: &CodeRow) -> Result<()> {
    sqlx::query(
        "INSERT INTO verification_codes (id, workspace_id, customer_id, kind, value, code_hash, attempts, expires_at, used_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL, $9)",
    )
    .bind(v.id.to_string())
    .bind(v.workspace.to_string())
    .bind(v.customer.to_string())
    .bind(&v.kind)
    .bind(&v.value)
    .bind(&v.code_hash)
    .bind(v.attempts)
    .bind(v.expires_at.millis())
    .bind(v.created_at.millis())
    .execute(c)
    .await
    .context("inserting a verification code")?;
    Ok(())
}

/// Codes sent since `since` to this customer or to this address (rate limits).
pub async fn codes_sent_since(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    customer: CustomerId,
    value: &str,
    since: Timestamp,
) -> Result<i64> {
    let r = sqlx::query(
        "SELECT COUNT(*) AS n FROM verification_codes WHERE workspace_id = $1 AND (customer_id = $2 OR value = $3) AND created_at >= $4",
    )
    .bind(ws.to_string())
    .bind(customer.to_string())
    .bind(value)
    .bind(since.millis())
    .fetch_one(c)
    .await?;
    int(&r, "n")
}

/// The customer's newest code.
pub async fn latest_code(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    customer: CustomerId,
) -> Result<Option<CodeRow>> {
    let sql = format!(
        "SELECT {CODE_COLS} FROM verification_codes WHERE workspace_id = $1 AND customer_id = $2 ORDER BY created_at DESC, id DESC LIMIT 1"
    );
    crate::one_by_id(c, sql, ws, customer, code).await
}

/// Counts a wrong guess (bookkeeping, so it sticks even though the request fails).
pub async fn bump_code_attempts(db: &Db, id: VerificationId) -> Result<()> {
    let mut c = db.bookkeeping().await?;
    sqlx::query("UPDATE verification_codes SET attempts = attempts + 1 WHERE id = $1")
        .bind(id.to_string())
        .execute(&mut *c)
        .await?;
    Ok(())
}

pub async fn use_code(c: &mut AnyConnection, id: VerificationId, now: Timestamp) -> Result<()> {
    sqlx::query("UPDATE verification_codes SET used_at = $2 WHERE id = $1")
        .bind(id.to_string())
        .bind(now.millis())
        .execute(c)
        .await?;
    Ok(())
}

/// Marks an identity verified.
pub async fn verify_identity(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    kind: &str,
    value: &str,
) -> Result<()> {
    sqlx::query(
        "UPDATE customer_identities SET verified = 1 WHERE workspace_id = $1 AND kind = $2 AND value = $3",
    )
    .bind(ws.to_string())
    .bind(kind)
    .bind(value)
    .execute(c)
    .await?;
    Ok(())
}

/// Forgets a nonce whose request failed, so the sender's retry is accepted.
pub async fn forget_nonce(c: &mut AnyConnection, ch: ChannelId, nonce: &str) -> Result<()> {
    sqlx::query("DELETE FROM channel_nonces WHERE channel_id = $1 AND nonce = $2")
        .bind(ch.to_string())
        .bind(nonce)
        .execute(c)
        .await?;
    Ok(())
}
