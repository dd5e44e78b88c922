//! The bot's language data: intents, their examples, and versioned models with their bytes.
//! Model rows are read without their bytes except by [`model_bytes`].

use anyhow::Context;
use domain::{
    ExampleSource, Intent, IntentExample, IntentExampleId, IntentId, ModelKind, ModelMetrics,
    ModelStatus, NluModel, NluModelId, WorkspaceId,
};
use serde_json::{Value, json};
use sqlx::{AnyConnection, Row, any::AnyRow};

use crate::{Result, codec, int, one_by_id, opt_text, parse_col, text, ts};

fn intent(r: &AnyRow) -> Result<Intent> {
    Ok(Intent {
        id: parse_col(r, "id", IntentId::parse)?,
        workspace: parse_col(r, "workspace_id", WorkspaceId::parse)?,
        name: text(r, "name")?,
        description: text(r, "description")?,
        created_at: ts(r, "created_at")?,
        updated_at: ts(r, "updated_at")?,
    })
}

const INTENT_COLS: &str = "id, workspace_id, name, description, created_at, updated_at";

pub async fn intent_insert(c: &mut AnyConnection, i: &Intent) -> Result<()> {
    sqlx::query(
        "INSERT INTO intents (id, workspace_id, name, description, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(i.id.to_string())
    .bind(i.workspace.to_string())
    .bind(&i.name)
    .bind(&i.description)
    .bind(i.created_at.millis())
    .bind(i.updated_at.millis())
    .execute(c)
    .await?;
    Ok(())
}

pub async fn intent_update(c: &mut AnyConnection, i: &Intent) -> Result<()> {
    sqlx::query(
        "UPDATE intents SET name = $3, description = $4, updated_at = $5
         WHERE workspace_id = $1 AND id = $2",
    )
    .bind(i.workspace.to_string())
    .bind(i.id.to_string())
    .bind(&i.name)
    .bind(&i.description)
    .bind(i.updated_at.millis())
    .execute(c)
    .await?;
    Ok(())
}

pub async fn intent_get(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    id: IntentId,
) -> Result<Option<Intent>> {
    let sql = format!("SELECT {INTENT_COLS} FROM intents WHERE workspace_id = $1 AND id = $2");
    one_by_id(c, sql, ws, id, intent).await
}

/// Every intent of the workspace by name, with its number of examples.
pub async fn intent_list(c: &mut AnyConnection, ws: WorkspaceId) -> Result<Vec<(Intent, i64)>> {
    let sql = "SELECT i.id, i.workspace_id, i.name, i.description, i.created_at, i.updated_at,
                (SELECT COUNT(*) FROM intent_examples e WHERE e.intent_id = i.id) AS examples
         FROM intents i WHERE i.workspace_id = $1 ORDER BY i.name";
    let rows = sqlx::query(sql).bind(ws.to_string()).fetch_all(c).await?;
    rows.iter().map(|r| Ok((intent(r)?, int(r, "examples")?))).collect()
}

/// Deletes an intent and its examples.
pub async fn intent_delete(c: &mut AnyConnection, ws: WorkspaceId, id: IntentId) -> Result<()> {
    sqlx::query("DELETE FROM intent_examples WHERE workspace_id = $1 AND intent_id = $2")
        .bind(ws.to_string())
        .bind(id.to_string())
        .execute(&mut *c)
        .await?;
    sqlx::query("DELETE FROM intents WHERE workspace_id = $1 AND id = $2")
        .bind(ws.to_string())
        .bind(id.to_string())
        .execute(&mut *c)
        .await?;
    Ok(())
}

fn example(r: &AnyRow) -> Result<IntentExample> {
    Ok(IntentExample {
        id: parse_col(r, "id", IntentExampleId::parse)?,
        intent: parse_col(r, "intent_id", IntentId::parse)?,
        text: text(r, "text")?,
        source: parse_col(r, "source", ExampleSource::parse)?,
        created_by: codec::parse_actor(&text(r, "created_by")?)?,
        created_at: ts(r, "created_at")?,
    })
}

/// Inserts examples in one statement per 100.
pub async fn examples_insert(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    examples: &[IntentExample],
) -> Result<()> {
    for chunk in examples.chunks(100) {
        let mut b = crate::Binds::default();
        let rows: Vec<String> = chunk
            .iter()
            .map(|e| {
                let vals = [
                    b.text(e.id.to_string()),
                    b.text(ws.to_string()),
                    b.text(e.intent.to_string()),
                    b.text(e.text.clone()),
                    b.text(e.source.as_str()),
                    b.text(e.created_by.to_string()),
                    b.int(e.created_at.millis()),
                ];
                format!("({})", vals.join(", "))
            })
            .collect();
        let sql = format!(
            "INSERT INTO intent_examples (id, workspace_id, intent_id, text, source, created_by, created_at) VALUES {}",
            rows.join(", ")
        );
        b.query(sql).execute(&mut *c).await.context("inserting intent examples")?;
    }
    Ok(())
}

pub async fn examples_of(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    intent: IntentId,
) -> Result<Vec<IntentExample>> {
    let rows = sqlx::query(
        "SELECT id, intent_id, text, source, created_by, created_at FROM intent_examples
         WHERE workspace_id = $1 AND intent_id = $2 ORDER BY id",
    )
    .bind(ws.to_string())
    .bind(intent.to_string())
    .fetch_all(c)
    .await?;
    rows.iter().map(example).collect()
}

/// Deletes one example of an intent; false if there was none.
pub async fn example_delete(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    intent: IntentId,
    id: IntentExampleId,
) -> Result<bool> {
    let r = sqlx::query(
        "DELETE FROM intent_examples WHERE workspace_id = $1 AND intent_id = $2 AND id = $3",
    )
    .bind(ws.to_string())
    .bind(intent.to_string())
    .bind(id.to_string())
    .execute(c)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Every example of the workspace as `(text, intent name)`, for training.
pub async fn training_set(c: &mut AnyConnection, ws: WorkspaceId) -> Result<Vec<(String, String)>> {
    let rows = sqlx::query(
        "SELECT e.text, i.name FROM intent_examples e JOIN intents i ON i.id = e.intent_id
         WHERE e.workspace_id = $1 ORDER BY e.id",
    )
    .bind(ws.to_string())
    .fetch_all(c)
    .await?;
    rows.iter().map(|r| Ok((text(r, "text")?, text(r, "name")?))).collect()
}

fn metrics_json(m: &ModelMetrics) -> String {
    json!({
        "examples": m.examples,
        "labels": m.labels,
        "cv_accuracy": m.cv_accuracy,
        "threshold": m.threshold,
        "train_ms": m.train_ms,
    })
    .to_string()
}

fn json_metrics(s: &str) -> Result<ModelMetrics> {
    let v: Value =
        serde_json::from_str(s).with_context(|| format!("metrics are not JSON: {s:?}"))?;
    Ok(ModelMetrics {
        examples: v["examples"].as_i64().unwrap_or_default(),
        labels: v["labels"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect())
            .unwrap_or_default(),
        cv_accuracy: v["cv_accuracy"].as_f64().unwrap_or_default(),
        threshold: v["threshold"].as_f64().unwrap_or_default(),
        train_ms: v["train_ms"].as_i64().unwrap_or_default(),
    })
}

fn model(r: &AnyRow) -> Result<NluModel> {
    Ok(NluModel {
        id: parse_col(r, "id", NluModelId::parse)?,
        workspace: parse_col(r, "workspace_id", WorkspaceId::parse)?,
        kind: parse_col(r, "kind", ModelKind::parse)?,
        version: int(r, "version")?,
        status: parse_col(r, "status", ModelStatus::parse)?,
        active: int(r, "active")? != 0,
        metrics: opt_text(r, "metrics")?.as_deref().map(json_metrics).transpose()?,
        error: opt_text(r, "error")?,
        created_at: ts(r, "created_at")?,
        created_by: codec::parse_actor(&text(r, "created_by")?)?,
    })
}

const MODEL_COLS: &str =
    "id, workspace_id, kind, version, status, active, metrics, error, created_at, created_by";

/// The next version number of the workspace's models of `kind`. Call inside the write
/// transaction that inserts it (the workspace lock makes versions gapless).
pub async fn model_next_version(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    kind: ModelKind,
) -> Result<i64> {
    let r = sqlx::query(
        "SELECT COALESCE(MAX(version), 0) + 1 AS v FROM nlu_models WHERE workspace_id = $1 AND kind = $2",
    )
    .bind(ws.to_string())
    .bind(kind.as_str())
    .fetch_one(c)
    .await?;
    int(&r, "v")
}

pub async fn model_insert(c: &mut AnyConnection, m: &NluModel) -> Result<()> {
    sqlx::query(
        "INSERT INTO nlu_models (id, workspace_id, kind, version, status, active, metrics, error, created_at, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(m.id.to_string())
    .bind(m.workspace.to_string())
    .bind(m.kind.as_str())
    .bind(m.version)
    .bind(m.status.as_str())
    .bind(i64::from(m.active))
    .bind(m.metrics.as_ref().map(metrics_json))
    .bind(m.error.clone())
    .bind(m.created_at.millis())
    .bind(m.created_by.to_string())
    .execute(c)
    .await?;
    Ok(())
}

pub async fn model_get(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    id: NluModelId,
) -> Result<Option<NluModel>> {
    let sql = format!("SELECT {MODEL_COLS} FROM nlu_models WHERE workspace_id = $1 AND id = $2");
    one_by_id(c, sql, ws, id, model).await
}

/// Every model version of the workspace, newest first.
pub async fn model_list(c: &mut AnyConnection, ws: WorkspaceId) -> Result<Vec<NluModel>> {
    let sql = format!(
        "SELECT {MODEL_COLS} FROM nlu_models WHERE workspace_id = $1 ORDER BY kind, version DESC"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(ws.to_string()).fetch_all(c).await?;
    rows.iter().map(model).collect()
}

/// Records the outcome of training: status, metrics or error, and the bytes.
pub async fn model_finish(
    c: &mut AnyConnection,
    m: &NluModel,
    bytes: Option<Vec<u8>>,
) -> Result<()> {
    sqlx::query(
        "UPDATE nlu_models SET status = $3, metrics = $4, error = $5, bytes = $6
         WHERE workspace_id = $1 AND id = $2",
    )
    .bind(m.workspace.to_string())
    .bind(m.id.to_string())
    .bind(m.status.as_str())
    .bind(m.metrics.as_ref().map(metrics_json))
    .bind(m.error.clone())
    .bind(bytes)
    .execute(c)
    .await?;
    Ok(())
}

/// Makes `id` the one active model of its kind.
pub async fn model_activate(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    kind: ModelKind,
    id: NluModelId,
) -> Result<()> {
    sqlx::query(
        "UPDATE nlu_models SET active = CASE WHEN id = $3 THEN 1 ELSE 0 END
         WHERE workspace_id = $1 AND kind = $2 AND (active = 1 OR id = $3)",
    )
    .bind(ws.to_string())
    .bind(kind.as_str())
    .bind(id.to_string())
    .execute(c)
    .await?;
    Ok(())
}

/// The active model of each kind (at most one each), without bytes.
pub async fn models_active(
    c: &mut AnyConnection,
    ws: WorkspaceId,
) -> Result<Vec<(NluModelId, ModelKind)>> {
    let rows =
        sqlx::query("SELECT id, kind FROM nlu_models WHERE workspace_id = $1 AND active = 1")
            .bind(ws.to_string())
            .fetch_all(c)
            .await?;
    rows.iter()
        .map(|r| {
            Ok((parse_col(r, "id", NluModelId::parse)?, parse_col(r, "kind", ModelKind::parse)?))
        })
        .collect()
}

/// The stored bytes of a ready model.
pub async fn model_bytes(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    id: NluModelId,
) -> Result<Option<Vec<u8>>> {
    let r = sqlx::query("SELECT bytes FROM nlu_models WHERE workspace_id = $1 AND id = $2")
        .bind(ws.to_string())
        .bind(id.to_string())
        .fetch_optional(c)
        .await?;
    match r {
        Some(r) => Ok(r.try_get::<Option<Vec<u8>>, _>("bytes").context("reading model bytes")?),
        None => Ok(None),
    }
}
