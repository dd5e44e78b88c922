//! Collaboration requests to departments (TK-6) and their progress updates.

use anyhow::Context;
use domain::{
    CollaborationId, Department, TicketId, UserId, WorkspaceId,
    collaboration::{Collaboration, CollaborationStatus, CollaborationUpdate},
};
use sqlx::{AnyConnection, any::AnyRow};

use crate::{Binds, Result, int, opt_text, opt_ts, parse_col, parse_opt_col, text, ts};

const COLS: &str =
    "id, workspace_id, ticket_id, department, question, due_at, status, overdue, requested_by,
    answer, completed_by, completed_at, created_at, updated_at";

fn collaboration(r: &AnyRow) -> Result<Collaboration> {
    Ok(Collaboration {
        id: parse_col(r, "id", CollaborationId::parse)?,
        workspace: parse_col(r, "workspace_id", WorkspaceId::parse)?,
        ticket: parse_col(r, "ticket_id", TicketId::parse)?,
        department: parse_col(r, "department", Department::parse)?,
        question: text(r, "question")?,
        due_at: ts(r, "due_at")?,
        status: parse_col(r, "status", CollaborationStatus::parse)?,
        overdue: int(r, "overdue")? != 0,
        requested_by: parse_opt_col(r, "requested_by", UserId::parse)?,
        answer: opt_text(r, "answer")?,
        completed_by: parse_opt_col(r, "completed_by", UserId::parse)?,
        completed_at: opt_ts(r, "completed_at")?,
        created_at: ts(r, "created_at")?,
        updated_at: ts(r, "updated_at")?,
    })
}

pub async fn insert(c: &mut AnyConnection, v: &Collaboration) -> Result<()> {
    sqlx::query(
        "INSERT INTO collaborations (id, workspace_id, ticket_id, department, question, due_at, status, overdue,
            requested_by, answer, completed_by, completed_at, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
    )
    .bind(v.id.to_string())
    .bind(v.workspace.to_string())
    .bind(v.ticket.to_string())
    .bind(v.department.as_str())
    .bind(&v.question)
    .bind(v.due_at.millis())
    .bind(v.status.as_str())
    .bind(i64::from(v.overdue))
    .bind(v.requested_by.map(|u| u.to_string()))
    .bind(v.answer.clone())
    .bind(v.completed_by.map(|u| u.to_string()))
    .bind(v.completed_at.map(|t| t.millis()))
    .bind(v.created_at.millis())
    .bind(v.updated_at.millis())
    .execute(c)
    .await
    .context("inserting a collaboration request")?;
    Ok(())
}

pub async fn update(c: &mut AnyConnection, v: &Collaboration) -> Result<()> {
    sqlx::query(
        "UPDATE collaborations SET status = $3, overdue = $4, answer = $5, completed_by = $6,
            completed_at = $7, updated_at = $8 WHERE workspace_id = $1 AND id = $2",
    )
    .bind(v.workspace.to_string())
    .bind(v.id.to_string())
    .bind(v.status.as_str())
    .bind(i64::from(v.overdue))
    .bind(v.answer.clone())
    .bind(v.completed_by.map(|u| u.to_string()))
    .bind(v.completed_at.map(|t| t.millis()))
    .bind(v.updated_at.millis())
    .execute(c)
    .await
    .context("updating a collaboration request")?;
    Ok(())
}

pub async fn get(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    id: CollaborationId,
) -> Result<Option<Collaboration>> {
    let sql = format!("SELECT {COLS} FROM collaborations WHERE workspace_id = $1 AND id = $2");
    crate::one_by_id(c, sql, ws, id, collaboration).await
}

#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub department: Option<Department>,
    pub ticket: Option<TicketId>,
    pub status: Option<CollaborationStatus>,
}

/// Newest first, at most 500.
pub async fn list(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    f: &Filter,
) -> Result<Vec<Collaboration>> {
    let mut b = Binds::default();
    let mut sql = format!(
        "SELECT {COLS} FROM collaborations WHERE workspace_id = {}",
        b.text(ws.to_string())
    );
    if let Some(d) = f.department {
        sql.push_str(&format!(" AND department = {}", b.text(d.as_str())));
    }
    if let Some(t) = f.ticket {
        sql.push_str(&format!(" AND ticket_id = {}", b.text(t.to_string())));
    }
    if let Some(s) = f.status {
        sql.push_str(&format!(" AND status = {}", b.text(s.as_str())));
    }
    sql.push_str(" ORDER BY created_at DESC, id DESC LIMIT 500");
    let rows = b.query(sql).fetch_all(c).await?;
    rows.iter().map(collaboration).collect()
}

/// Appends an update as the next in order (call inside a write: the workspace lock orders it).
pub async fn add_update(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    u: &CollaborationUpdate,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO collaboration_updates (collaboration_id, seq, workspace_id, author_id, body, at)
         SELECT $1, COALESCE(MAX(seq), 0) + 1, $2, $3, $4, $5 FROM collaboration_updates WHERE collaboration_id = $1",
    )
    .bind(u.collaboration.to_string())
    .bind(ws.to_string())
    .bind(u.author.map(|a| a.to_string()))
    .bind(&u.body)
    .bind(u.at.millis())
    .execute(c)
    .await
    .context("adding a collaboration update")?;
    Ok(())
}

pub async fn updates(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    id: CollaborationId,
) -> Result<Vec<CollaborationUpdate>> {
    let rows = sqlx::query(
        "SELECT collaboration_id, author_id, body, at FROM collaboration_updates
         WHERE workspace_id = $1 AND collaboration_id = $2 ORDER BY seq",
    )
    .bind(ws.to_string())
    .bind(id.to_string())
    .fetch_all(c)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(CollaborationUpdate {
                collaboration: parse_col(r, "collaboration_id", CollaborationId::parse)?,
                author: parse_opt_col(r, "author_id", UserId::parse)?,
                body: text(r, "body")?,
                at: ts(r, "at")?,
            })
        })
        .collect()
}
