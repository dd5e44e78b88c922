//! Conversations and their messages.

use domain::{
    Channel, Conversation, ConversationId, ConversationStatus, CustomerId, Handler, Message,
    MessageId, SenderKind, TeamId, UserId, Visibility, WorkspaceId,
};
use std::collections::HashSet;

use sqlx::{AnyConnection, any::AnyRow};

use crate::{Binds, Page, Result, codec, parse_col, parse_opt_col, text, ts};

pub(crate) const COLS: &str = "id, workspace_id, customer_id, channel, subject, status, handler, assignee_id, team_id, last_message_at, created_at, updated_at";

pub(crate) fn conversation(r: &AnyRow) -> Result<Conversation> {
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

pub(crate) const MSG_COLS: &str = "id, workspace_id, conversation_id, sender, author_id, visibility, body, attachments, created_at";

pub(crate) fn message(r: &AnyRow) -> Result<Message> {
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

/// What [`begin_ingest`] read under the workspace lock.
#[derive(Debug, Default)]
pub struct IngestReads {
    /// The conversations asked for that exist (any order), each with whether it has a ticket
    /// a new message may move (new, pending or solved).
    pub conversations: Vec<(Conversation, bool)>,
    /// Those of them with a ticket not closed (whose SLA clocks replies may move).
    pub tracked: HashSet<ConversationId>,
    /// The idempotency keys asked for that are already used.
    pub used_keys: HashSet<String>,
}

/// Begins a write on `ws` for storing messages: locks the workspace head, then reads the
/// conversations `ids` and which of `keys` are taken. On SQLite all of it is one call to the
/// driver. Under the lock no other writer can take a key before this transaction commits.
pub async fn begin_ingest(
    db: &crate::Db,
    ws: WorkspaceId,
    ids: &[ConversationId],
    keys: &[&str],
) -> Result<(crate::WriteTx, IngestReads)> {
    let convs = |b: &mut Binds| {
        let w = b.text(ws.to_string());
        let ps: Vec<String> = ids.iter().map(|i| b.text(i.to_string())).collect();
        format!(
            "SELECT 'conversation' AS row_kind, {COLS}, (SELECT COUNT(*) FROM tickets t
                    WHERE t.conversation_id = conversations.id
                    AND t.status IN ('new', 'pending', 'solved')) AS movable,
                (SELECT COUNT(*) FROM tickets t WHERE t.conversation_id = conversations.id
                    AND t.status <> 'closed') AS tracked
             FROM conversations WHERE workspace_id = {w} AND id IN ({})",
            ps.join(", ")
        )
    };
    let used = |b: &mut Binds| {
        let w = b.text(ws.to_string());
        let ps: Vec<String> = keys.iter().map(|k| b.text(*k)).collect();
        format!(
            "SELECT 'key' AS row_kind, idempotency_key FROM messages
             WHERE workspace_id = {w} AND idempotency_key IN ({})",
            ps.join(", ")
        )
    };
    let mut reads: Vec<crate::write::LockedRead<'_>> = Vec::new();
    if !ids.is_empty() {
        reads.push(&convs);
    }
    if !keys.is_empty() {
        reads.push(&used);
    }
    let (tx, rows) = db.write_reading(ws, &reads).await?;
    let mut out = IngestReads::default();
    for r in &rows {
        match text(r, "row_kind")?.as_str() {
            "conversation" => {
                let c = conversation(r)?;
                if crate::int(r, "tracked")? > 0 {
                    out.tracked.insert(c.id);
                }
                out.conversations.push((c, crate::int(r, "movable")? > 0))
            }
            _ => {
                out.used_keys.insert(text(r, "idempotency_key")?);
            }
        }
    }
    Ok((tx, out))
}

/// Inserts messages at commit (see [`crate::WriteTx`]), many per statement. Their
/// idempotency keys must be free (checked by [`begin_ingest`]); a taken one fails the commit.
pub fn insert_messages_at_commit(tx: &mut crate::WriteTx, msgs: Vec<(Message, Option<String>)>) {
    let mut msgs = msgs.into_iter().peekable();
    while msgs.peek().is_some() {
        let chunk: Vec<(Message, Option<String>)> = msgs.by_ref().take(200).collect();
        tx.defer(move |b| {
            let rows: Vec<String> = chunk
                .into_iter()
                .map(|(m, key)| {
                    let vals = [
                        b.text(m.id.to_string()),
                        b.text(m.workspace.to_string()),
                        b.text(m.conversation.to_string()),
                        b.text(m.sender.as_str()),
                        b.opt_text(m.author.map(|a| a.to_string())),
                        b.text(m.visibility.as_str()),
                        b.text(m.body),
                        b.text(codec::attachments_to_json(&m.attachments)),
                        b.opt_text(key),
                        b.int(m.created_at.millis()),
                    ];
                    format!("({})", vals.join(", "))
                })
                .collect();
            format!(
                "INSERT INTO messages (id, workspace_id, conversation_id, sender, author_id, visibility, body, attachments, idempotency_key, created_at)
                 VALUES {}",
                rows.join(", ")
            )
        });
    }
}

/// Moves the activity time of these conversations forward to `at` (never backwards), at
/// commit.
pub fn touch_at_commit(
    tx: &mut crate::WriteTx,
    ws: WorkspaceId,
    ids: Vec<ConversationId>,
    at: domain::Timestamp,
) {
    if ids.is_empty() {
        return;
    }
    tx.defer(move |b| {
        let (w, t) = (b.text(ws.to_string()), b.int(at.millis()));
        let ps: Vec<String> = ids.iter().map(|i| b.text(i.to_string())).collect();
        format!(
            "UPDATE conversations SET last_message_at = {t}, updated_at = {t} WHERE workspace_id = {w} AND id IN ({}) AND last_message_at <= {t}",
            ps.join(", ")
        )
    });
}
