//! Scheduled reports (AN-7): schedule definitions and rendered reports with their bytes.
//! Report rows are listed without their bytes except by [`file`].

use anyhow::Context;
use domain::{ReportId, ReportScheduleId, Timestamp, WorkspaceId};
use sqlx::{AnyConnection, Row, any::AnyRow};

use crate::{Result, codec, int, opt_text, opt_ts, parse_col, parse_opt_col, text, ts};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    pub id: ReportScheduleId,
    pub workspace: WorkspaceId,
    pub name: String,
    /// weekly, monthly.
    pub period: String,
    /// csv, xlsx.
    pub format: String,
    pub recipients: Vec<String>,
    pub active: bool,
    pub next_run_at: Timestamp,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

const SCHED: &str = "id, workspace_id, name, period, format, recipients, active, next_run_at, created_at, updated_at";

fn schedule(r: &AnyRow) -> Result<Schedule> {
    Ok(Schedule {
        id: parse_col(r, "id", ReportScheduleId::parse)?,
        workspace: parse_col(r, "workspace_id", WorkspaceId::parse)?,
        name: text(r, "name")?,
        period: text(r, "period")?,
        format: text(r, "format")?,
        recipients: codec::json_to_strings(&text(r, "recipients")?)?,
        active: int(r, "active")? != 0,
        next_run_at: ts(r, "next_run_at")?,
        created_at: ts(r, "created_at")?,
        updated_at: ts(r, "updated_at")?,
    })
}

pub async fn upsert_schedule(c: &mut AnyConnection, s: &Schedule) -> Result<()> {
    sqlx::query(
        "INSERT INTO report_schedules (id, workspace_id, name, period, format, recipients, active,
            next_run_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, period = excluded.period,
            format = excluded.format, recipients = excluded.recipients, active = excluded.active,
            next_run_at = excluded.next_run_at, updated_at = excluded.updated_at",
    )
    .bind(s.id.to_string())
    .bind(s.workspace.to_string())
    .bind(s.name.clone())
    .bind(s.period.clone())
    .bind(s.format.clone())
    .bind(codec::strings_to_json(&s.recipients))
    .bind(i64::from(s.active))
    .bind(s.next_run_at.millis())
    .bind(s.created_at.millis())
    .bind(s.updated_at.millis())
    .execute(c)
    .await
    .context("saving a report schedule")?;
    Ok(())
}

pub async fn schedules(c: &mut AnyConnection, ws: WorkspaceId) -> Result<Vec<Schedule>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {SCHED} FROM report_schedules WHERE workspace_id = $1 ORDER BY created_at, id"
    )))
    .bind(ws.to_string())
    .fetch_all(c)
    .await
    .context("listing report schedules")?;
    rows.iter().map(schedule).collect()
}

pub async fn get_schedule(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    id: ReportScheduleId,
) -> Result<Option<Schedule>> {
    let r = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {SCHED} FROM report_schedules WHERE workspace_id = $1 AND id = $2"
    )))
    .bind(ws.to_string())
    .bind(id.to_string())
    .fetch_optional(c)
    .await
    .context("reading a report schedule")?;
    r.as_ref().map(schedule).transpose()
}

/// A rendered report (without its bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub id: ReportId,
    pub schedule: Option<ReportScheduleId>,
    pub period: String,
    pub period_start: Timestamp,
    pub period_end: Timestamp,
    pub format: String,
    pub filename: String,
    pub content_type: String,
    /// The summary figures as JSON text.
    pub summary: String,
    /// stored (no recipients), pending, sent, partial (some recipients failed), failed,
    /// not_sent (no SMTP server configured; `delivery_error` says why).
    pub delivery: String,
    /// Why nothing (or not everything) was sent, if so.
    pub delivery_error: Option<String>,
    pub size: i64,
    pub created_at: Timestamp,
    /// One per recipient, in the schedule's order (filled by [`list`] and [`file`]).
    pub deliveries: Vec<Delivery>,
}

/// A report's delivery to one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub recipient: String,
    /// pending (also while waiting for a retry), sent, failed, not_sent.
    pub status: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub sent_at: Option<Timestamp>,
    pub updated_at: Timestamp,
}

const REP: &str =
    "id, schedule_id, period, period_start, period_end, format, filename, content_type,
    summary, delivery, delivery_error, CAST(LENGTH(bytes) AS BIGINT) AS size, created_at";

fn report(r: &AnyRow) -> Result<Report> {
    Ok(Report {
        id: parse_col(r, "id", ReportId::parse)?,
        schedule: parse_opt_col(r, "schedule_id", ReportScheduleId::parse)?,
        period: text(r, "period")?,
        period_start: ts(r, "period_start")?,
        period_end: ts(r, "period_end")?,
        format: text(r, "format")?,
        filename: text(r, "filename")?,
        content_type: text(r, "content_type")?,
        summary: text(r, "summary")?,
        delivery: text(r, "delivery")?,
        delivery_error: opt_text(r, "delivery_error")?,
        size: int(r, "size")?,
        created_at: ts(r, "created_at")?,
        deliveries: Vec::new(),
    })
}

/// Stores a report unless its schedule already has one for the period; true if stored.
pub async fn insert(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    r: &Report,
    bytes: &[u8],
) -> Result<bool> {
    let res = sqlx::query(
        "INSERT INTO reports (id, workspace_id, schedule_id, period, period_start, period_end,
            format, filename, content_type, bytes, summary, delivery, delivery_error, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
         ON CONFLICT (schedule_id, period_start) DO NOTHING",
    )
    .bind(r.id.to_string())
    .bind(ws.to_string())
    .bind(r.schedule.map(|s| s.to_string()))
    .bind(r.period.clone())
    .bind(r.period_start.millis())
    .bind(r.period_end.millis())
    .bind(r.format.clone())
    .bind(r.filename.clone())
    .bind(r.content_type.clone())
    .bind(bytes.to_vec())
    .bind(r.summary.clone())
    .bind(r.delivery.clone())
    .bind(r.delivery_error.clone())
    .bind(r.created_at.millis())
    .execute(&mut *c)
    .await
    .context("storing a report")?;
    if res.rows_affected() != 1 {
        return Ok(false);
    }
    for (i, d) in r.deliveries.iter().enumerate() {
        save_delivery(c, ws, r.id, i as i64, d).await?;
    }
    Ok(true)
}

const DEL: &str = "report_id, recipient, status, attempts, last_error, sent_at, updated_at";

fn delivery(r: &AnyRow) -> Result<Delivery> {
    Ok(Delivery {
        recipient: text(r, "recipient")?,
        status: text(r, "status")?,
        attempts: int(r, "attempts")?,
        last_error: opt_text(r, "last_error")?,
        sent_at: opt_ts(r, "sent_at")?,
        updated_at: ts(r, "updated_at")?,
    })
}

/// Inserts or updates one recipient's delivery row. `position` keeps the schedule's order.
async fn save_delivery(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    report: ReportId,
    position: i64,
    d: &Delivery,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO report_deliveries (report_id, workspace_id, recipient, position, status,
            attempts, last_error, sent_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (report_id, recipient) DO UPDATE SET status = excluded.status,
            attempts = excluded.attempts, last_error = excluded.last_error,
            sent_at = excluded.sent_at, updated_at = excluded.updated_at",
    )
    .bind(report.to_string())
    .bind(ws.to_string())
    .bind(d.recipient.clone())
    .bind(position)
    .bind(d.status.clone())
    .bind(d.attempts)
    .bind(d.last_error.clone())
    .bind(d.sent_at.map(|t| t.millis()))
    .bind(d.updated_at.millis())
    .execute(c)
    .await
    .context("saving a report delivery")?;
    Ok(())
}

/// Records the outcome of a delivery pass: each recipient's row and the report's overall
/// `delivery` status and error.
pub async fn record_delivery(c: &mut AnyConnection, ws: WorkspaceId, r: &Report) -> Result<()> {
    sqlx::query(
        "UPDATE reports SET delivery = $3, delivery_error = $4 WHERE workspace_id = $1 AND id = $2",
    )
    .bind(ws.to_string())
    .bind(r.id.to_string())
    .bind(r.delivery.clone())
    .bind(r.delivery_error.clone())
    .execute(&mut *c)
    .await
    .context("recording a report's delivery")?;
    for (i, d) in r.deliveries.iter().enumerate() {
        save_delivery(c, ws, r.id, i as i64, d).await?;
    }
    Ok(())
}

/// The delivery rows of the given reports, grouped into them.
async fn fill_deliveries(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    reports: &mut [Report],
) -> Result<()> {
    if reports.is_empty() {
        return Ok(());
    }
    let mut b = crate::Binds::default();
    let ws_p = b.text(ws.to_string());
    let ids: Vec<String> = reports.iter().map(|r| b.text(r.id.to_string())).collect();
    let sql = format!(
        "SELECT {DEL} FROM report_deliveries WHERE workspace_id = {ws_p} AND report_id IN ({})
         ORDER BY report_id, position",
        ids.join(", ")
    );
    let rows = b.query(sql).fetch_all(c).await.context("reading report deliveries")?;
    for row in &rows {
        let id = text(row, "report_id")?;
        if let Some(r) = reports.iter_mut().find(|r| r.id.to_string() == id) {
            r.deliveries.push(delivery(row)?);
        }
    }
    Ok(())
}

pub async fn list(c: &mut AnyConnection, ws: WorkspaceId, limit: i64) -> Result<Vec<Report>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {REP} FROM reports WHERE workspace_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2"
    )))
    .bind(ws.to_string())
    .bind(limit.clamp(1, 500))
    .fetch_all(&mut *c)
    .await
    .context("listing reports")?;
    let mut out = rows.iter().map(report).collect::<Result<Vec<_>>>()?;
    fill_deliveries(c, ws, &mut out).await?;
    Ok(out)
}

/// A report and its bytes.
pub async fn file(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    id: ReportId,
) -> Result<Option<(Report, Vec<u8>)>> {
    let r = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {REP}, bytes FROM reports WHERE workspace_id = $1 AND id = $2"
    )))
    .bind(ws.to_string())
    .bind(id.to_string())
    .fetch_optional(&mut *c)
    .await
    .context("reading a report")?;
    match r {
        Some(r) => {
            let bytes: Vec<u8> = r.try_get("bytes").context("reading report bytes")?;
            let mut one = [report(&r)?];
            fill_deliveries(c, ws, &mut one).await?;
            let [rep] = one;
            Ok(Some((rep, bytes)))
        }
        None => Ok(None),
    }
}

/// The figures a report summarises for `[from, to)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Kpis {
    pub tickets_created: i64,
    pub tickets_solved: i64,
    pub tickets_closed: i64,
    /// Created before `to` and neither solved nor closed by then (a reopened ticket counts by
    /// its latest solve).
    pub backlog: i64,
    pub customer_messages: i64,
    pub agent_messages: i64,
}

pub async fn kpis(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    from: Timestamp,
    to: Timestamp,
) -> Result<Kpis> {
    let r = sqlx::query(
        "SELECT
            CAST(COALESCE(SUM(CASE WHEN created_at >= $2 AND created_at < $3 THEN 1 ELSE 0 END), 0) AS BIGINT) AS created,
            CAST(COALESCE(SUM(CASE WHEN solved_at >= $2 AND solved_at < $3 THEN 1 ELSE 0 END), 0) AS BIGINT) AS solved,
            CAST(COALESCE(SUM(CASE WHEN closed_at >= $2 AND closed_at < $3 THEN 1 ELSE 0 END), 0) AS BIGINT) AS closed,
            CAST(COALESCE(SUM(CASE WHEN created_at < $3 AND (solved_at IS NULL OR solved_at >= $3)
                AND (closed_at IS NULL OR closed_at >= $3) THEN 1 ELSE 0 END), 0) AS BIGINT) AS backlog
         FROM tickets WHERE workspace_id = $1",
    )
    .bind(ws.to_string())
    .bind(from.millis())
    .bind(to.millis())
    .fetch_one(&mut *c)
    .await
    .context("counting tickets for a report")?;
    let m = sqlx::query(
        "SELECT
            CAST(COALESCE(SUM(CASE WHEN sender = 'customer' THEN 1 ELSE 0 END), 0) AS BIGINT) AS cust,
            CAST(COALESCE(SUM(CASE WHEN sender = 'agent' THEN 1 ELSE 0 END), 0) AS BIGINT) AS agent
         FROM messages WHERE workspace_id = $1 AND created_at >= $2 AND created_at < $3
            AND visibility = 'public'",
    )
    .bind(ws.to_string())
    .bind(from.millis())
    .bind(to.millis())
    .fetch_one(&mut *c)
    .await
    .context("counting messages for a report")?;
    Ok(Kpis {
        tickets_created: int(&r, "created")?,
        tickets_solved: int(&r, "solved")?,
        tickets_closed: int(&r, "closed")?,
        backlog: int(&r, "backlog")?,
        customer_messages: int(&m, "cust")?,
        agent_messages: int(&m, "agent")?,
    })
}

/// The most frequent problem codes of the tickets created in `[from, to)`.
pub async fn top_codes(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    from: Timestamp,
    to: Timestamp,
    n: i64,
) -> Result<Vec<(String, i64)>> {
    let rows = sqlx::query(
        "SELECT problem_code, CAST(COUNT(*) AS BIGINT) AS n FROM tickets
         WHERE workspace_id = $1 AND created_at >= $2 AND created_at < $3 AND problem_code IS NOT NULL
         GROUP BY problem_code ORDER BY COUNT(*) DESC, problem_code LIMIT $4",
    )
    .bind(ws.to_string())
    .bind(from.millis())
    .bind(to.millis())
    .bind(n)
    .fetch_all(c)
    .await
    .context("counting problem codes for a report")?;
    rows.iter().map(|r| Ok((text(r, "problem_code")?, int(r, "n")?))).collect()
}
