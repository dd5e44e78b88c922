//! Workspaces and their catalogue data: problem codes and customer-visible stages.

use anyhow::anyhow;
use domain::{Department, ProblemCode, ProblemCodeEntry, Stage, Workspace, WorkspaceId};
use sqlx::{AnyConnection, any::AnyRow};

use crate::{Result, int, parse_col, parse_opt_col, text, ts};

fn workspace(r: &AnyRow) -> Result<Workspace> {
    Ok(Workspace {
        id: parse_col(r, "id", WorkspaceId::parse)?,
        slug: text(r, "slug")?,
        name: text(r, "name")?,
        ticket_prefix: text(r, "ticket_prefix")?,
        public_key: text(r, "public_key")?,
        created_at: ts(r, "created_at")?,
    })
}

const COLS: &str = "id, slug, name, ticket_prefix, public_key, created_at";

pub async fn by_slug(c: &mut AnyConnection, slug: &str) -> Result<Option<Workspace>> {
    let sql = format!("SELECT {COLS} FROM workspaces WHERE slug = $1");
    let r = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(slug).fetch_optional(c).await?;
    r.as_ref().map(workspace).transpose()
}

pub async fn by_id(c: &mut AnyConnection, id: WorkspaceId) -> Result<Option<Workspace>> {
    let sql = format!("SELECT {COLS} FROM workspaces WHERE id = $1");
    let r = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id.to_string()).fetch_optional(c).await?;
    r.as_ref().map(workspace).transpose()
}

pub async fn by_public_key(c: &mut AnyConnection, key: &str) -> Result<Option<Workspace>> {
    let sql = format!("SELECT {COLS} FROM workspaces WHERE public_key = $1");
    let r = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(key).fetch_optional(c).await?;
    r.as_ref().map(workspace).transpose()
}

pub async fn all(c: &mut AnyConnection) -> Result<Vec<Workspace>> {
    let sql = format!("SELECT {COLS} FROM workspaces ORDER BY created_at, id");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(c).await?;
    rows.iter().map(workspace).collect()
}

fn problem_code(r: &AnyRow) -> Result<ProblemCodeEntry> {
    Ok(ProblemCodeEntry {
        code: parse_col(r, "code", ProblemCode::parse)?,
        name_zh: text(r, "name_zh")?,
        name_en: text(r, "name_en")?,
        review_department: parse_opt_col(r, "review_department", Department::parse)?,
        active: int(r, "active")? != 0,
    })
}

pub async fn problem_codes(
    c: &mut AnyConnection,
    ws: WorkspaceId,
) -> Result<Vec<ProblemCodeEntry>> {
    let rows = sqlx::query(
        "SELECT code, name_zh, name_en, review_department, active FROM problem_codes
         WHERE workspace_id = $1 ORDER BY code",
    )
    .bind(ws.to_string())
    .fetch_all(c)
    .await?;
    rows.iter().map(problem_code).collect()
}

pub async fn problem_code_get(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    code: ProblemCode,
) -> Result<Option<ProblemCodeEntry>> {
    let r = sqlx::query(
        "SELECT code, name_zh, name_en, review_department, active FROM problem_codes
         WHERE workspace_id = $1 AND code = $2",
    )
    .bind(ws.to_string())
    .bind(code.to_string())
    .fetch_optional(c)
    .await?;
    r.as_ref().map(problem_code).transpose()
}

/// Inserts or replaces one code-table row.
pub async fn problem_code_put(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    e: &ProblemCodeEntry,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO problem_codes (workspace_id, code, name_zh, name_en, review_department, active)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (workspace_id, code) DO UPDATE SET name_zh = excluded.name_zh,
            name_en = excluded.name_en, review_department = excluded.review_department, active = excluded.active",
    )
    .bind(ws.to_string())
    .bind(e.code.to_string())
    .bind(&e.name_zh)
    .bind(&e.name_en)
    .bind(e.review_department.map(|d| d.as_str()))
    .bind(i64::from(e.active))
    .execute(c)
    .await?;
    Ok(())
}

pub async fn stages(c: &mut AnyConnection, ws: WorkspaceId) -> Result<Vec<Stage>> {
    let rows = sqlx::query(
        "SELECT key, label_zh, label_en, position FROM ticket_stages WHERE workspace_id = $1 ORDER BY position, key",
    )
    .bind(ws.to_string())
    .fetch_all(c)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Stage {
                key: text(r, "key")?,
                label_zh: text(r, "label_zh")?,
                label_en: text(r, "label_en")?,
                position: int(r, "position")?,
            })
        })
        .collect()
}

pub async fn stage_put(c: &mut AnyConnection, ws: WorkspaceId, s: &Stage) -> Result<()> {
    sqlx::query(
        "INSERT INTO ticket_stages (workspace_id, key, label_zh, label_en, position) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (workspace_id, key) DO UPDATE SET label_zh = excluded.label_zh,
            label_en = excluded.label_en, position = excluded.position",
    )
    .bind(ws.to_string())
    .bind(&s.key)
    .bind(&s.label_zh)
    .bind(&s.label_en)
    .bind(s.position)
    .execute(c)
    .await
    .map_err(|e| anyhow!(e))?;
    Ok(())
}
