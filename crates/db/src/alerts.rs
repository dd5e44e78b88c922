//! Alerts (AN-2, AN-5): per-workspace thresholds, alert rows (unique per kind, subject and
//! window), and the counts the detectors read (content signals, tickets per problem code).

use anyhow::Context;
use domain::{AlertId, ProblemCode, Timestamp, UserId, WorkspaceId};
use sqlx::{AnyConnection, Row, any::AnyRow};

use crate::{Result, int, opt_text, opt_ts, parse_col, parse_opt_col, text, ts};

/// The stored settings: the detectors' configuration as JSON text (checked by `app`) and the
/// default owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub config: String,
    pub owner: Option<UserId>,
}

pub async fn settings(c: &mut AnyConnection, ws: WorkspaceId) -> Result<Option<Settings>> {
    let r = sqlx::query("SELECT config, owner_id FROM alert_settings WHERE workspace_id = $1")
        .bind(ws.to_string())
        .fetch_optional(c)
        .await
        .context("reading alert settings")?;
    r.map(|r| {
        Ok(Settings {
            config: text(&r, "config")?,
            owner: parse_opt_col(&r, "owner_id", UserId::parse)?,
        })
    })
    .transpose()
}

pub async fn put_settings(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    s: &Settings,
    now: Timestamp,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO alert_settings (workspace_id, config, owner_id, updated_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (workspace_id) DO UPDATE SET config = excluded.config,
            owner_id = excluded.owner_id, updated_at = excluded.updated_at",
    )
    .bind(ws.to_string())
    .bind(s.config.clone())
    .bind(s.owner.map(|u| u.to_string()))
    .bind(now.millis())
    .execute(c)
    .await
    .context("saving alert settings")?;
    Ok(())
}

#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    pub id: AlertId,
    pub workspace: WorkspaceId,
    /// negative_share, code_spike, fault_rate.
    pub kind: String,
    /// Empty for the workspace-wide negative share; the code or the product otherwise.
    pub subject: String,
    pub window_start: Timestamp,
    pub window_end: Timestamp,
    /// The detector's figures as JSON text.
    pub figures: String,
    pub message: String,
    pub owner: Option<UserId>,
    /// open, acknowledged, resolved.
    pub status: String,
    pub due_at: Timestamp,
    pub escalated_at: Option<Timestamp>,
    pub acked_by: Option<UserId>,
    pub acked_at: Option<Timestamp>,
    pub resolved_by: Option<UserId>,
    pub resolved_at: Option<Timestamp>,
    pub resolution: Option<String>,
    pub created_at: Timestamp,
}

const COLS: &str = "id, workspace_id, kind, subject, window_start, window_end, figures, message,
    owner_id, status, due_at, escalated_at, acked_by, acked_at, resolved_by, resolved_at,
    resolution, created_at";

fn alert(r: &AnyRow) -> Result<Alert> {
    Ok(Alert {
        id: parse_col(r, "id", AlertId::parse)?,
        workspace: parse_col(r, "workspace_id", WorkspaceId::parse)?,
        kind: text(r, "kind")?,
        subject: text(r, "subject")?,
        window_start: ts(r, "window_start")?,
        window_end: ts(r, "window_end")?,
        figures: text(r, "figures")?,
        message: text(r, "message")?,
        owner: parse_opt_col(r, "owner_id", UserId::parse)?,
        status: text(r, "status")?,
        due_at: ts(r, "due_at")?,
        escalated_at: opt_ts(r, "escalated_at")?,
        acked_by: parse_opt_col(r, "acked_by", UserId::parse)?,
        acked_at: opt_ts(r, "acked_at")?,
        resolved_by: parse_opt_col(r, "resolved_by", UserId::parse)?,
        resolved_at: opt_ts(r, "resolved_at")?,
        resolution: opt_text(r, "resolution")?,
        created_at: ts(r, "created_at")?,
    })
}

/// Inserts the alert unless one exists for its kind, subject and window; true if inserted.
pub async fn insert_new(c: &mut AnyConnection, a: &Alert) -> Result<bool> {
    let r = sqlx::query(
        "INSERT INTO alerts (id, workspace_id, kind, subject, window_start, window_end, figures,
            message, owner_id, status, due_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         ON CONFLICT (workspace_id, kind, subject, window_start) DO NOTHING",
    )
    .bind(a.id.to_string())
    .bind(a.workspace.to_string())
    .bind(a.kind.clone())
    .bind(a.subject.clone())
    .bind(a.window_start.millis())
    .bind(a.window_end.millis())
    .bind(a.figures.clone())
    .bind(a.message.clone())
    .bind(a.owner.map(|u| u.to_string()))
    .bind(a.status.clone())
    .bind(a.due_at.millis())
    .bind(a.created_at.millis())
    .execute(c)
    .await
    .context("recording an alert")?;
    Ok(r.rows_affected() == 1)
}

pub async fn get(c: &mut AnyConnection, ws: WorkspaceId, id: AlertId) -> Result<Option<Alert>> {
    let r = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLS} FROM alerts WHERE workspace_id = $1 AND id = $2"
    )))
    .bind(ws.to_string())
    .bind(id.to_string())
    .fetch_optional(c)
    .await
    .context("reading an alert")?;
    r.as_ref().map(alert).transpose()
}

/// Saves the mutable fields: status, escalation, acknowledgement and resolution.
pub async fn update(c: &mut AnyConnection, a: &Alert) -> Result<()> {
    sqlx::query(
        "UPDATE alerts SET status = $3, escalated_at = $4, acked_by = $5, acked_at = $6,
            resolved_by = $7, resolved_at = $8, resolution = $9
         WHERE workspace_id = $1 AND id = $2",
    )
    .bind(a.workspace.to_string())
    .bind(a.id.to_string())
    .bind(a.status.clone())
    .bind(a.escalated_at.map(Timestamp::millis))
    .bind(a.acked_by.map(|u| u.to_string()))
    .bind(a.acked_at.map(Timestamp::millis))
    .bind(a.resolved_by.map(|u| u.to_string()))
    .bind(a.resolved_at.map(Timestamp::millis))
    .bind(a.resolution.clone())
    .execute(c)
    .await
    .context("updating an alert")?;
    Ok(())
}

/// Alerts newest first, optionally of one status, created in `[from, to)`.
pub async fn list(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    status: Option<&str>,
    from: Timestamp,
    to: Timestamp,
    limit: i64,
) -> Result<Vec<Alert>> {
    let mut b = crate::Binds::default();
    let mut sql = format!(
        "SELECT {COLS} FROM alerts WHERE workspace_id = {} AND created_at >= {} AND created_at < {}",
        b.text(ws.to_string()),
        b.int(from.millis()),
        b.int(to.millis())
    );
    if let Some(s) = status {
        sql.push_str(&format!(" AND status = {}", b.text(s)));
    }
    sql.push_str(&format!(
        " ORDER BY created_at DESC, id DESC LIMIT {}",
        b.int(limit.clamp(1, 500))
    ));
    let rows = b.query(sql).fetch_all(c).await.context("listing alerts")?;
    rows.iter().map(alert).collect()
}

/// Classified items in `[from, to)` (`content_signals`): (negative, total).
pub async fn sentiment_counts(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    from: Timestamp,
    to: Timestamp,
) -> Result<(i64, i64)> {
    let r = sqlx::query(
        "SELECT CAST(COALESCE(SUM(CASE WHEN sentiment = 'negative' THEN 1 ELSE 0 END), 0) AS BIGINT) AS neg,
                CAST(COUNT(*) AS BIGINT) AS total
         FROM content_signals WHERE workspace_id = $1 AND created_at >= $2 AND created_at < $3",
    )
    .bind(ws.to_string())
    .bind(from.millis())
    .bind(to.millis())
    .fetch_one(c)
    .await
    .context("counting sentiment")?;
    Ok((int(&r, "neg")?, int(&r, "total")?))
}

/// One product's (faults, mentions) last week and this week.
pub type ProductCounts = (String, (i64, i64), (i64, i64));

/// Per product, complaints and mentions in `[from, split)` and `[split, to)`:
/// `(product, previous, current)` as (faults, mentions).
pub async fn product_counts(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    from: Timestamp,
    split: Timestamp,
    to: Timestamp,
) -> Result<Vec<ProductCounts>> {
    let rows = sqlx::query(
        "SELECT product, CAST(CASE WHEN created_at >= $3 THEN 1 ELSE 0 END AS BIGINT) AS cur,
                CAST(SUM(CASE WHEN kind = 'complaint' THEN 1 ELSE 0 END) AS BIGINT) AS faults,
                CAST(COUNT(*) AS BIGINT) AS mentions
         FROM content_signals
         WHERE workspace_id = $1 AND product IS NOT NULL AND product <> ''
           AND created_at >= $2 AND created_at < $4
         GROUP BY product, CASE WHEN created_at >= $3 THEN 1 ELSE 0 END
         ORDER BY product",
    )
    .bind(ws.to_string())
    .bind(from.millis())
    .bind(split.millis())
    .bind(to.millis())
    .fetch_all(c)
    .await
    .context("counting product faults")?;
    let mut out: Vec<ProductCounts> = Vec::new();
    for r in &rows {
        let p = text(r, "product")?;
        let counts = (int(r, "faults")?, int(r, "mentions")?);
        let cur = int(r, "cur")? == 1;
        if out.last().is_none_or(|l| l.0 != p) {
            out.push((p, (0, 0), (0, 0)));
        }
        let last = out.last_mut().expect("pushed above");
        if cur {
            last.2 = counts;
        } else {
            last.1 = counts;
        }
    }
    Ok(out)
}

/// Creation times of the tickets with a problem code since `since`, without the system's
/// crisis and root-cause tickets, grouped by code.
pub async fn code_times(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    since: Timestamp,
) -> Result<Vec<(ProblemCode, Vec<Timestamp>)>> {
    let rows = sqlx::query(
        "SELECT problem_code, created_at, tags FROM tickets
         WHERE workspace_id = $1 AND problem_code IS NOT NULL AND created_at >= $2
         ORDER BY problem_code, created_at",
    )
    .bind(ws.to_string())
    .bind(since.millis())
    .fetch_all(c)
    .await
    .context("reading problem-code history")?;
    let mut out: Vec<(ProblemCode, Vec<Timestamp>)> = Vec::new();
    for r in &rows {
        let tags: String = r.try_get("tags").context("tags")?;
        if tags.contains("\"crisis\"") || tags.contains("\"root_cause\"") {
            continue;
        }
        let code = parse_col(r, "problem_code", ProblemCode::parse)?;
        let at = ts(r, "created_at")?;
        match out.last_mut() {
            Some((c, v)) if *c == code => v.push(at),
            _ => out.push((code, vec![at])),
        }
    }
    Ok(out)
}
