//! The email channel's rows: per-workspace settings (a JSON document `app` reads; the address
//! is a column so the SMTP/LMTP receiver finds the workspace of a recipient), the Message-IDs
//! of every mail received or sent with its conversation (threading), and inbound attachment
//! bytes (base64 text, so one column type serves both databases).

use domain::{ConversationId, MessageId, Timestamp, WorkspaceId};
use sqlx::AnyConnection;

use crate::{Result, int, opt_text, parse_col, text};

#[derive(Debug, Clone)]
pub struct SettingsRow {
    pub workspace: WorkspaceId,
    pub address: String,
    pub enabled: bool,
    pub config: String,
    pub updated_at: Timestamp,
}

fn settings_row(r: &sqlx::any::AnyRow) -> Result<SettingsRow> {
    Ok(SettingsRow {
        workspace: parse_col(r, "workspace_id", WorkspaceId::parse)?,
        address: text(r, "address")?,
        enabled: int(r, "enabled")? != 0,
        config: text(r, "config")?,
        updated_at: Timestamp::from_millis(int(r, "updated_at")?),
    })
}

const SETTINGS_COLS: &str = "workspace_id, address, enabled, config, updated_at";

pub async fn settings_get(c: &mut AnyConnection, ws: WorkspaceId) -> Result<Option<SettingsRow>> {
    let sql = format!("SELECT {SETTINGS_COLS} FROM email_settings WHERE workspace_id = $1");
    let r = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(ws.to_string()).fetch_optional(c).await?;
    r.as_ref().map(settings_row).transpose()
}

/// Every enabled workspace's settings (the pollers' list).
pub async fn settings_enabled(c: &mut AnyConnection) -> Result<Vec<SettingsRow>> {
    let sql = format!(
        "SELECT {SETTINGS_COLS} FROM email_settings WHERE enabled = 1 ORDER BY workspace_id"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(c).await?;
    rows.iter().map(settings_row).collect()
}

/// The enabled workspace whose address is `address` (lower-case).
pub async fn settings_by_address(
    c: &mut AnyConnection,
    address: &str,
) -> Result<Option<SettingsRow>> {
    let sql = format!(
        "SELECT {SETTINGS_COLS} FROM email_settings WHERE address = $1 AND enabled = 1 ORDER BY workspace_id LIMIT 1"
    );
    let r = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(address).fetch_optional(c).await?;
    r.as_ref().map(settings_row).transpose()
}

pub async fn settings_put(c: &mut AnyConnection, s: &SettingsRow) -> Result<()> {
    sqlx::query(
        "INSERT INTO email_settings (workspace_id, address, enabled, config, updated_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (workspace_id) DO UPDATE SET address = excluded.address, enabled = excluded.enabled,
           config = excluded.config, updated_at = excluded.updated_at",
    )
    .bind(s.workspace.to_string())
    .bind(&s.address)
    .bind(i64::from(s.enabled))
    .bind(&s.config)
    .bind(s.updated_at.millis())
    .execute(c)
    .await?;
    Ok(())
}

/// One mail of a thread, received (`in`) or sent (`out`).
#[derive(Debug, Clone)]
pub struct Mail {
    pub workspace: WorkspaceId,
    /// The Message-ID without brackets.
    pub rfc_id: String,
    pub conversation: ConversationId,
    pub message: Option<MessageId>,
    pub outbound: bool,
    /// The References chain up to and including this mail, oldest first.
    pub refs: Vec<String>,
    pub subject: String,
    /// The customer's address (the sender of an inbound mail, the recipient of an outbound one).
    pub address: String,
    pub created_at: Timestamp,
}

fn mail(r: &sqlx::any::AnyRow) -> Result<Mail> {
    let message = opt_text(r, "message_id")?
        .map(|m| MessageId::parse(&m).map_err(|e| anyhow::anyhow!("message_id: {e}")))
        .transpose()?;
    Ok(Mail {
        workspace: parse_col(r, "workspace_id", WorkspaceId::parse)?,
        rfc_id: text(r, "rfc_id")?,
        conversation: parse_col(r, "conversation_id", ConversationId::parse)?,
        message,
        outbound: text(r, "direction")? == "out",
        refs: text(r, "refs")?.split_whitespace().map(str::to_string).collect(),
        subject: text(r, "subject")?,
        address: text(r, "address")?,
        created_at: Timestamp::from_millis(int(r, "created_at")?),
    })
}

const MAIL_COLS: &str = "workspace_id, rfc_id, conversation_id, message_id, direction, refs, subject, address, created_at";

/// Records a mail; a Message-ID seen before is left as it was (false).
pub async fn record(c: &mut AnyConnection, m: &Mail) -> Result<bool> {
    let r = sqlx::query(
        "INSERT INTO email_messages (workspace_id, rfc_id, conversation_id, message_id, direction, refs, subject, address, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (workspace_id, rfc_id) DO NOTHING",
    )
    .bind(m.workspace.to_string())
    .bind(&m.rfc_id)
    .bind(m.conversation.to_string())
    .bind(m.message.map(|x| x.to_string()))
    .bind(if m.outbound { "out" } else { "in" })
    .bind(m.refs.join(" "))
    .bind(&m.subject)
    .bind(&m.address)
    .bind(m.created_at.millis())
    .execute(c)
    .await?;
    Ok(r.rows_affected() > 0)
}

/// The first of `ids` (most specific first) that this workspace has seen, in that order.
pub async fn find_thread(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    ids: &[String],
) -> Result<Option<Mail>> {
    for id in ids {
        let sql = format!(
            "SELECT {MAIL_COLS} FROM email_messages WHERE workspace_id = $1 AND rfc_id = $2"
        );
        let r = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(ws.to_string())
            .bind(id)
            .fetch_optional(&mut *c)
            .await?;
        if let Some(r) = r {
            return mail(&r).map(Some);
        }
    }
    Ok(None)
}

/// The mail recorded for one of our messages (an outbound mail already sent).
pub async fn by_message(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    m: MessageId,
) -> Result<Option<Mail>> {
    let sql = format!(
        "SELECT {MAIL_COLS} FROM email_messages WHERE workspace_id = $1 AND message_id = $2"
    );
    let r = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(ws.to_string())
        .bind(m.to_string())
        .fetch_optional(c)
        .await?;
    r.as_ref().map(mail).transpose()
}

/// The conversation's latest mail (the one a reply answers).
pub async fn latest(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    conv: ConversationId,
) -> Result<Option<Mail>> {
    let sql = format!(
        "SELECT {MAIL_COLS} FROM email_messages WHERE workspace_id = $1 AND conversation_id = $2
         ORDER BY created_at DESC, rfc_id DESC LIMIT 1"
    );
    let r = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(ws.to_string())
        .bind(conv.to_string())
        .fetch_optional(c)
        .await?;
    r.as_ref().map(mail).transpose()
}

#[derive(Debug, Clone)]
pub struct File {
    pub id: String,
    pub workspace: WorkspaceId,
    pub name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
    pub created_at: Timestamp,
}

pub async fn insert_file(c: &mut AnyConnection, f: &File) -> Result<()> {
    use base64::Engine as _;
    sqlx::query(
        "INSERT INTO email_files (id, workspace_id, name, content_type, size, content, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&f.id)
    .bind(f.workspace.to_string())
    .bind(&f.name)
    .bind(&f.content_type)
    .bind(f.bytes.len() as i64)
    .bind(base64::engine::general_purpose::STANDARD.encode(&f.bytes))
    .bind(f.created_at.millis())
    .execute(c)
    .await?;
    Ok(())
}

pub async fn file(c: &mut AnyConnection, ws: WorkspaceId, id: &str) -> Result<Option<File>> {
    use base64::Engine as _;
    let r = sqlx::query(
        "SELECT id, workspace_id, name, content_type, content, created_at FROM email_files WHERE workspace_id = $1 AND id = $2",
    )
    .bind(ws.to_string())
    .bind(id)
    .fetch_optional(c)
    .await?;
    let Some(r) = r else { return Ok(None) };
    Ok(Some(File {
        id: text(&r, "id")?,
        workspace: parse_col(&r, "workspace_id", WorkspaceId::parse)?,
        name: text(&r, "name")?,
        content_type: text(&r, "content_type")?,
        bytes: base64::engine::general_purpose::STANDARD
            .decode(text(&r, "content")?)
            .map_err(|e| anyhow::anyhow!("stored attachment: {e}"))?,
        created_at: Timestamp::from_millis(int(&r, "created_at")?),
    }))
}
