//! The customer-visible stage timeline of tickets and the stage-change notice templates (TK-8).

use anyhow::Context;
use domain::{TicketId, Timestamp, WorkspaceId};
use sqlx::AnyConnection;

use crate::{Result, int, text, ts};

/// Appends `stage` to the ticket's timeline (call inside a write: the workspace lock orders it).
pub async fn log(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    ticket: TicketId,
    stage: &str,
    at: Timestamp,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO ticket_stage_log (ticket_id, seq, workspace_id, stage, at)
         SELECT $1, COALESCE(MAX(seq), 0) + 1, $2, $3, $4 FROM ticket_stage_log WHERE ticket_id = $1",
    )
    .bind(ticket.to_string())
    .bind(ws.to_string())
    .bind(stage)
    .bind(at.millis())
    .execute(c)
    .await
    .context("logging a stage change")?;
    Ok(())
}

/// The stages the ticket entered, oldest first.
pub async fn timeline(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    ticket: TicketId,
) -> Result<Vec<(String, Timestamp)>> {
    let rows = sqlx::query(
        "SELECT stage, at FROM ticket_stage_log WHERE workspace_id = $1 AND ticket_id = $2 ORDER BY seq",
    )
    .bind(ws.to_string())
    .bind(ticket.to_string())
    .fetch_all(c)
    .await?;
    rows.iter().map(|r| Ok((text(r, "stage")?, ts(r, "at")?))).collect()
}

/// The workspace's stage-change notice: enabled, the zh template, the en template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeTemplates {
    pub enabled: bool,
    pub zh: String,
    pub en: String,
}

pub async fn templates(c: &mut AnyConnection, ws: WorkspaceId) -> Result<Option<NoticeTemplates>> {
    let r = sqlx::query(
        "SELECT enabled, template_zh, template_en FROM stage_notice_templates WHERE workspace_id = $1",
    )
    .bind(ws.to_string())
    .fetch_optional(c)
    .await?;
    r.map(|r| {
        Ok(NoticeTemplates {
            enabled: int(&r, "enabled")? != 0,
            zh: text(&r, "template_zh")?,
            en: text(&r, "template_en")?,
        })
    })
    .transpose()
}

pub async fn put_templates(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    t: &NoticeTemplates,
    now: Timestamp,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO stage_notice_templates (workspace_id, enabled, template_zh, template_en, updated_at)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (workspace_id) DO UPDATE SET enabled = excluded.enabled,
            template_zh = excluded.template_zh, template_en = excluded.template_en,
            updated_at = excluded.updated_at",
    )
    .bind(ws.to_string())
    .bind(i64::from(t.enabled))
    .bind(&t.zh)
    .bind(&t.en)
    .bind(now.millis())
    .execute(c)
    .await
    .context("saving stage notice templates")?;
    Ok(())
}
