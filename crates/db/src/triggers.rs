//! Trigger and automation rules, stored as the trees they were saved as (JSON text); `app`
//! parses them with `workflow::rules` on load, as it validated them on save.

use domain::{Timestamp, WorkspaceId};
use serde_json::Value;
use sqlx::{AnyConnection, any::AnyRow};
use workflow::rules::Tree;

use crate::{Result, int, text, ts};

/// A stored rule.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredTrigger {
    /// A UUIDv7 as text.
    pub id: String,
    pub workspace: WorkspaceId,
    pub name: String,
    pub active: bool,
    pub position: i64,
    pub when: Tree,
    pub cond: Tree,
    pub then: Tree,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A tree as JSON.
pub fn tree_to_json(t: &Tree) -> Value {
    match t {
        Tree::Null => Value::Null,
        Tree::Bool(b) => Value::Bool(*b),
        Tree::Num(n) => serde_json::Number::from_f64(*n).map_or(Value::Null, Value::Number),
        Tree::Str(s) => Value::String(s.clone()),
        Tree::List(l) => Value::Array(l.iter().map(tree_to_json).collect()),
        Tree::Map(m) => {
            Value::Object(m.iter().map(|(k, v)| (k.clone(), tree_to_json(v))).collect())
        }
    }
}

/// JSON as a tree (object keys keep their order).
pub fn json_to_tree(v: &Value) -> Tree {
    match v {
        Value::Null => Tree::Null,
        Value::Bool(b) => Tree::Bool(*b),
        Value::Number(n) => Tree::Num(n.as_f64().unwrap_or(f64::NAN)),
        Value::String(s) => Tree::Str(s.clone()),
        Value::Array(a) => Tree::List(a.iter().map(json_to_tree).collect()),
        Value::Object(o) => {
            Tree::Map(o.iter().map(|(k, v)| (k.clone(), json_to_tree(v))).collect())
        }
    }
}

fn parse_tree(s: &str) -> Result<Tree> {
    Ok(json_to_tree(&serde_json::from_str(s)?))
}

const COLS: &str = "id, workspace_id, name, active, position, when_json, if_json, then_json, created_at, updated_at";

fn row(r: &AnyRow) -> Result<StoredTrigger> {
    Ok(StoredTrigger {
        id: text(r, "id")?,
        workspace: crate::parse_col(r, "workspace_id", WorkspaceId::parse)?,
        name: text(r, "name")?,
        active: int(r, "active")? != 0,
        position: int(r, "position")?,
        when: parse_tree(&text(r, "when_json")?)?,
        cond: parse_tree(&text(r, "if_json")?)?,
        then: parse_tree(&text(r, "then_json")?)?,
        created_at: ts(r, "created_at")?,
        updated_at: ts(r, "updated_at")?,
    })
}

/// The workspace's rules in evaluation order (position, then creation).
pub async fn list(c: &mut AnyConnection, ws: WorkspaceId) -> Result<Vec<StoredTrigger>> {
    let sql = format!("SELECT {COLS} FROM triggers WHERE workspace_id = $1 ORDER BY position, id");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(ws.to_string()).fetch_all(c).await?;
    rows.iter().map(row).collect()
}

pub async fn get(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    id: &str,
) -> Result<Option<StoredTrigger>> {
    let sql = format!("SELECT {COLS} FROM triggers WHERE workspace_id = $1 AND id = $2");
    crate::one_by_id(c, sql, ws, id, row).await
}

pub async fn insert(c: &mut AnyConnection, t: &StoredTrigger) -> Result<()> {
    sqlx::query(
        "INSERT INTO triggers (id, workspace_id, name, active, position, when_json, if_json, then_json, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&t.id)
    .bind(t.workspace.to_string())
    .bind(&t.name)
    .bind(i64::from(t.active))
    .bind(t.position)
    .bind(tree_to_json(&t.when).to_string())
    .bind(tree_to_json(&t.cond).to_string())
    .bind(tree_to_json(&t.then).to_string())
    .bind(t.created_at.millis())
    .bind(t.updated_at.millis())
    .execute(c)
    .await?;
    Ok(())
}

pub async fn update(c: &mut AnyConnection, t: &StoredTrigger) -> Result<()> {
    sqlx::query(
        "UPDATE triggers SET name = $3, active = $4, position = $5, when_json = $6, if_json = $7, then_json = $8, updated_at = $9
         WHERE workspace_id = $1 AND id = $2",
    )
    .bind(t.workspace.to_string())
    .bind(&t.id)
    .bind(&t.name)
    .bind(i64::from(t.active))
    .bind(t.position)
    .bind(tree_to_json(&t.when).to_string())
    .bind(tree_to_json(&t.cond).to_string())
    .bind(tree_to_json(&t.then).to_string())
    .bind(t.updated_at.millis())
    .execute(c)
    .await?;
    Ok(())
}

pub async fn delete(c: &mut AnyConnection, ws: WorkspaceId, id: &str) -> Result<()> {
    sqlx::query("DELETE FROM triggers WHERE workspace_id = $1 AND id = $2")
        .bind(ws.to_string())
        .bind(id)
        .execute(c)
        .await?;
    Ok(())
}
