//! Conversations and their messages.

use domain::{
    Channel, Conversation, ConversationId, ConversationStatus, CustomerId, Handler, Message,
    MessageId, SenderKind, TeamId, UserId, Visibility, WorkspaceId,
};
use sqlx::{AnyConnection, any::AnyRow};

use crate::{Binds, Page, Result, codec, parse_col, parse_opt_col, text, ts};

const COLS: &str = "id, workspace_id, customer_id, channel, subject, status, handler, assignee_id, team_id, last_message_at, created_at, updated_at";

fn conversation(r: &AnyRow) -> Result<Conversation> {
    Ok(Conversation {
        id: parse_col(r, "id", ConversationId::parse)?,
        workspace: parse_col(r, "workspace_id", WorkspaceId::parse)?,
        customer: parse_col(r, "customer_id", CustomerId::parse)?,
        channel: parse_col(r, "channel", Channel::parse)?,
        subject: crate::opt_text(r, "subject")?,
        status: parse_col(r, "status", ConversationStatus::parse)?,
        handler: parse_col(r, "handler", Handler::parse)?,
        assignee: parse_opt_col(r, "assignee_id", UserId::parse)?,
        team: parse_opt_col(r, "team_id", TeamId::parse)?,
        last_message_at: ts(r, "last_message_at")?,
        created_at: ts(r, "created_at")?,
        updated_at: ts(r, "updated_at")?,
    })
}

pub async fn insert(c: &mut AnyConnection, v: &Conversation) -> Result<()> {
    sqlx::query(
        "INSERT INTO conversations (id, workspace_id, customer_id, channel, subject, status, handler, assignee_id, team_id, last_message_at, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(v.id.to_string())
    .bind(v.workspace.to_string())
    .bind(v.customer.to_string())
    .bind(v.channel.as_str())
    .bind(&v.subject)
    .bind(v.status.as_str())
    .bind(v.handler.as_str())
    .bind(v.assignee.map(|a| a.to_string()))
    .bind(v.team.map(|t| t.to_string()))
    .bind(v.last_message_at.millis())
    .bind(v.created_at.millis())
    .bind(v.updated_at.millis())
    .execute(c)
    .await?;
    Ok(())
}

pub async fn update(c: &mut AnyConnection, v: &Conversation) -> Result<()> {
    sqlx::query(
        "UPDATE conversations SET subject = $3, status = $4, handler = $5, assignee_id = $6, team_id = $7,
            last_message_at = $8, updated_at = $9
         WHERE workspace_id = $1 AND id = $2",
    )
    .bind(v.workspace.to_string())
    .bind(v.id.to_string())
    .bind(&v.subject)
    .bind(v.status.as_str())
    .bind(v.handler.as_str())
    .bind(v.assignee.map(|a| a.to_string()))
    .bind(v.team.map(|t| t.to_string()))
    .bind(v.last_message_at.millis())
    .bind(v.updated_at.millis())
    .execute(c)
    .await?;
    Ok(())
}

pub async fn get(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    id: ConversationId,
) -> Result<Option<Conversation>> {
    let sql = format!("SELECT {COLS} FROM conversations WHERE workspace_id = $1 AND id = $2");
    crate::one_by_id(c, sql, ws, id, conversation).await
}

#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub status: Option<ConversationStatus>,
    pub channel: Option<Channel>,
    pub customer: Option<CustomerId>,
    pub assignee: Option<UserId>,
    pub team: Option<TeamId>,
    pub handler: Option<Handler>,
}

/// Conversations, most recently active first.
pub async fn list(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    f: &Filter,
    page: &Page,
) -> Result<Vec<Conversation>> {
    let mut b = Binds::default();
    let mut sql =
        format!("SELECT {COLS} FROM conversations WHERE workspace_id = {}", b.text(ws.to_string()));
    let mut eq = |col: &str, v: Option<String>| {
        if let Some(v) = v {
            sql.push_str(&format!(" AND {col} = {}", b.text(v)));
        }
    };
    eq("status", f.status.map(|s| s.as_str().to_string()));
    eq("channel", f.channel.map(|s| s.as_str().to_string()));
    eq("customer_id", f.customer.map(|s| s.to_string()));
    eq("assignee_id", f.assignee.map(|s| s.to_string()));
    eq("team_id", f.team.map(|s| s.to_string()));
    eq("handler", f.handler.map(|s| s.as_str().to_string()));
    sql.push_str(&page.sql(&mut b, "last_message_at", "id"));
    let rows = b.query(sql).fetch_all(c).await?;
    rows.iter().map(conversation).collect()
}

const MSG_COLS: &str = "id, workspace_id, conversation_id, sender, author_id, visibility, body, attachments, created_at";

fn message(r: &AnyRow) -> Result<Message> {
    Ok(Message {
        id: parse_col(r, "id", MessageId::parse)?,
        workspace: parse_col(r, "workspace_id", WorkspaceId::parse)?,
        conversation: parse_col(r, "conversation_id", ConversationId::parse)?,
        sender: parse_col(r, "sender", SenderKind::parse)?,
        author: parse_opt_col(r, "author_id", UserId::parse)?,
        visibility: parse_col(r, "visibility", Visibility::parse)?,
        body: text(r, "body")?,
        attachments: codec::json_to_attachments(&text(r, "attachments")?)?,
        created_at: ts(r, "created_at")?,
    })
}

/// Inserts a message. With an idempotency key, a second insert with the same key inserts
/// nothing and returns `false`.
pub async fn insert_message(
    c: &mut AnyConnection,
    m: &Message,
    idempotency_key: Option<&str>,
) -> Result<bool> {
    let r = sqlx::query(
        "INSERT INTO messages (id, workspace_id, conversation_id, sender, author_id, visibility, body, attachments, idempotency_key, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         ON CONFLICT (workspace_id, idempotency_key) DO NOTHING",
    )
    .bind(m.id.to_string())
    .bind(m.workspace.to_string())
    .bind(m.conversation.to_string())
    .bind(m.sender.as_str())
    .bind(m.author.map(|a| a.to_string()))
    .bind(m.visibility.as_str())
    .bind(&m.body)
    .bind(codec::attachments_to_json(&m.attachments))
    .bind(idempotency_key)
    .bind(m.created_at.millis())
    .execute(c)
    .await?;
    Ok(r.rows_affected() == 1)
}

pub async fn message_by_idempotency_key(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    key: &str,
) -> Result<Option<Message>> {
    let sql =
        format!("SELECT {MSG_COLS} FROM messages WHERE workspace_id = $1 AND idempotency_key = $2");
    let r = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(ws.to_string())
        .bind(key)
        .fetch_optional(c)
        .await?;
    r.as_ref().map(message).transpose()
}

pub async fn get_message(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    id: MessageId,
) -> Result<Option<Message>> {
    let sql = format!("SELECT {MSG_COLS} FROM messages WHERE workspace_id = $1 AND id = $2");
    crate::one_by_id(c, sql, ws, id, message).await
}

/// Messages of a conversation in order, after the message `after` (ids are time-ordered), at
/// most `limit`. `public_only` hides internal notes.
pub async fn messages(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    conv: ConversationId,
    after: Option<MessageId>,
    limit: i64,
    public_only: bool,
) -> Result<Vec<Message>> {
    let mut b = Binds::default();
    let mut sql = format!(
        "SELECT {MSG_COLS} FROM messages WHERE workspace_id = {} AND conversation_id = {}",
        b.text(ws.to_string()),
        b.text(conv.to_string())
    );
    if let Some(a) = after {
        sql.push_str(&format!(" AND id > {}", b.text(a.to_string())));
    }
    if public_only {
        sql.push_str(" AND visibility = 'public'");
    }
    sql.push_str(&format!(" ORDER BY id LIMIT {}", b.int(limit.clamp(1, 1000))));
    let rows = b.query(sql).fetch_all(c).await?;
    rows.iter().map(message).collect()
}

/// The conversations with these ids (any order; missing ones are absent), each with whether
/// it has a ticket a new message may move (new, pending or solved).
pub async fn get_many(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    ids: &[ConversationId],
) -> Result<Vec<(Conversation, bool)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut b = Binds::default();
    let w = b.text(ws.to_string());
    let ps: Vec<String> = ids.iter().map(|i| b.text(i.to_string())).collect();
    let sql = format!(
        "SELECT {COLS}, (SELECT COUNT(*) FROM tickets t WHERE t.conversation_id = conversations.id
                AND t.status IN ('new', 'pending', 'solved')) AS movable
         FROM conversations WHERE workspace_id = {w} AND id IN ({})",
        ps.join(", ")
    );
    let rows = b.query(sql).fetch_all(c).await?;
    rows.iter().map(|r| Ok((conversation(r)?, crate::int(r, "movable")? > 0))).collect()
}

/// Inserts many messages in one statement; rows whose idempotency key already exists are
/// skipped. Returns the ids actually inserted.
pub async fn insert_messages(
    c: &mut AnyConnection,
    msgs: &[(Message, Option<String>)],
) -> Result<Vec<MessageId>> {
    let mut out = Vec::new();
    for chunk in msgs.chunks(200) {
        let mut b = Binds::default();
        let rows: Vec<String> = chunk
            .iter()
            .map(|(m, key)| {
                let vals = [
                    b.text(m.id.to_string()),
                    b.text(m.workspace.to_string()),
                    b.text(m.conversation.to_string()),
                    b.text(m.sender.as_str()),
                    b.opt_text(m.author.map(|a| a.to_string())),
                    b.text(m.visibility.as_str()),
                    b.text(m.body.clone()),
                    b.text(codec::attachments_to_json(&m.attachments)),
                    b.opt_text(key.clone()),
                    b.int(m.created_at.millis()),
                ];
                format!("({})", vals.join(", "))
            })
            .collect();
        let sql = format!(
            "INSERT INTO messages (id, workspace_id, conversation_id, sender, author_id, visibility, body, attachments, idempotency_key, created_at)
             VALUES {} ON CONFLICT (workspace_id, idempotency_key) DO NOTHING RETURNING id",
            rows.join(", ")
        );
        for r in b.query(sql).fetch_all(&mut *c).await? {
            out.push(parse_col(&r, "id", MessageId::parse)?);
        }
    }
    Ok(out)
}

/// Moves the activity time of these conversations forward to `at` (never backwards).
pub async fn touch(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    ids: &[ConversationId],
    at: domain::Timestamp,
) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let mut b = Binds::default();
    let (w, t) = (b.text(ws.to_string()), b.int(at.millis()));
    let ps: Vec<String> = ids.iter().map(|i| b.text(i.to_string())).collect();
    let sql = format!(
        "UPDATE conversations SET last_message_at = {t}, updated_at = {t} WHERE workspace_id = {w} AND id IN ({}) AND last_message_at <= {t}",
        ps.join(", ")
    );
    b.query(sql).execute(c).await?;
    Ok(())
}
