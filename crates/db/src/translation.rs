//! Machine translation for agents (BOT-9): each workspace's provider configuration, stored as
//! `dialogue`'s JSON document.

use anyhow::Context;
use dialogue::translate::TranslationConfig;
use domain::{Timestamp, WorkspaceId};
use sqlx::AnyConnection;

use crate::{Result, text};

/// The configuration, or `None` if the workspace never saved one (translation is off).
pub async fn get(c: &mut AnyConnection, ws: WorkspaceId) -> Result<Option<TranslationConfig>> {
    let row = sqlx::query("SELECT config FROM translation_settings WHERE workspace_id = $1")
        .bind(ws.to_string())
        .fetch_optional(c)
        .await?;
    match row {
        Some(r) => Ok(Some(
            serde_json::from_str(&text(&r, "config")?).context("stored translation settings")?,
        )),
        None => Ok(None),
    }
}

pub async fn put(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    config: &TranslationConfig,
    at: Timestamp,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO translation_settings (workspace_id, config, updated_at) VALUES ($1, $2, $3)
         ON CONFLICT (workspace_id) DO UPDATE SET config = excluded.config, updated_at = excluded.updated_at",
    )
    .bind(ws.to_string())
    .bind(serde_json::to_string(config)?)
    .bind(at.millis())
    .execute(c)
    .await?;
    Ok(())
}
