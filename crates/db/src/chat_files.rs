//! Images attached to chat messages: one row per upload with its bytes, tied to the
//! conversation it was uploaded into.

use anyhow::Context as _;
use domain::{ConversationId, Timestamp, WorkspaceId};
use sqlx::{AnyConnection, Row as _};

use crate::{Result, int, parse_col, text};

/// An uploaded file's record (without its bytes).
#[derive(Debug, Clone, PartialEq)]
pub struct ChatFile {
    pub id: String,
    pub workspace: WorkspaceId,
    pub conversation: ConversationId,
    /// The uploading actor, as `customer:<id>` / `user:<id>` / `token:<id>`.
    pub uploaded_by: String,
    pub name: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub created_at: Timestamp,
}

pub(crate) const COLS: &str =
    "id, workspace_id, conversation_id, uploaded_by, name, content_type, size, sha256, created_at";

pub(crate) fn row(r: &sqlx::any::AnyRow) -> Result<ChatFile> {
    Ok(ChatFile {
        id: text(r, "id")?,
        workspace: parse_col(r, "workspace_id", WorkspaceId::parse)?,
        conversation: parse_col(r, "conversation_id", ConversationId::parse)?,
        uploaded_by: text(r, "uploaded_by")?,
        name: text(r, "name")?,
        content_type: text(r, "content_type")?,
        size: int(r, "size")?,
        sha256: text(r, "sha256")?,
        created_at: Timestamp::from_millis(int(r, "created_at")?),
    })
}

pub async fn insert(c: &mut AnyConnection, f: &ChatFile, data: &[u8]) -> Result<()> {
    sqlx::query(
        "INSERT INTO chat_files (id, workspace_id, conversation_id, uploaded_by, name,
            content_type, size, sha256, data, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(f.id.clone())
    .bind(f.workspace.to_string())
    .bind(f.conversation.to_string())
    .bind(f.uploaded_by.clone())
    .bind(f.name.clone())
    .bind(f.content_type.clone())
    .bind(f.size)
    .bind(f.sha256.clone())
    .bind(data.to_vec())
    .bind(f.created_at.millis())
    .execute(c)
    .await?;
    Ok(())
}

/// A file's record, without its bytes.
pub async fn get(c: &mut AnyConnection, ws: WorkspaceId, id: &str) -> Result<Option<ChatFile>> {
    let sql = format!("SELECT {COLS} FROM chat_files WHERE workspace_id = $1 AND id = $2");
    let r = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(ws.to_string())
        .bind(id.to_string())
        .fetch_optional(c)
        .await?;
    r.as_ref().map(row).transpose()
}

/// A file's record and bytes, in any workspace (the caller checks who may read it).
pub async fn with_data(c: &mut AnyConnection, id: &str) -> Result<Option<(ChatFile, Vec<u8>)>> {
    let sql = format!("SELECT {COLS}, data FROM chat_files WHERE id = $1");
    let r = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id.to_string()).fetch_optional(c).await?;
    match r {
        None => Ok(None),
        Some(r) => Ok(Some((row(&r)?, r.try_get("data").context("reading data")?))),
    }
}
