//! Compensation requests (TK-7) and the workspace's authority limits.

use anyhow::{Context, anyhow};
use domain::{
    CompensationId, Fen, Level, Limits, TicketId, Timestamp, UserId, WorkspaceId,
    compensation::{Compensation, CompensationKind, Report, State, Step, StepAction, StoredState},
};
use serde_json::{Value, json};
use sqlx::{AnyConnection, any::AnyRow};

use crate::{Binds, Result, int, opt_text, opt_ts, parse_col, text, ts};

const COLS: &str = "id, workspace_id, ticket_id, kind, amount_fen, basis, requested_by, requester_level, status,
    pending_level, granted_by, granted_level, granted_limit, granted_at, rejected_by, rejected_reason, rejected_at,
    report_status, report_due_at, report, report_filed_at, steps, created_at, updated_at";

fn fen(v: i64) -> Result<Fen> {
    Fen::new(v).map_err(|e| anyhow!("stored amount: {e}"))
}

fn opt_int(r: &AnyRow, col: &str) -> Result<Option<i64>> {
    use sqlx::Row;
    r.try_get(col).with_context(|| format!("reading column {col}"))
}

fn steps_to_json(steps: &[Step]) -> String {
    Value::Array(
        steps
            .iter()
            .map(|s| {
                json!({"by": s.by.to_string(), "level": s.level.as_str(), "action": s.action.as_str(),
                       "note": s.note, "at": s.at.millis()})
            })
            .collect(),
    )
    .to_string()
}

fn json_to_steps(s: &str) -> Result<Vec<Step>> {
    let v: Vec<Value> = serde_json::from_str(s).with_context(|| format!("steps: {s:?}"))?;
    v.iter()
        .map(|s| {
            let f = |k: &str| s.get(k).and_then(Value::as_str).unwrap_or_default();
            Ok(Step {
                by: UserId::parse(f("by")).map_err(|e| anyhow!("{e}"))?,
                level: Level::parse(f("level")).map_err(|e| anyhow!("{e}"))?,
                action: StepAction::parse(f("action")).map_err(|e| anyhow!("{e}"))?,
                note: s.get("note").and_then(Value::as_str).map(str::to_string),
                at: Timestamp::from_millis(s.get("at").and_then(Value::as_i64).unwrap_or_default()),
            })
        })
        .collect()
}

fn compensation(r: &AnyRow) -> Result<Compensation> {
    let amount = fen(int(r, "amount_fen")?)?;
    let status = text(r, "status")?;
    let state = match status.as_str() {
        "pending" => StoredState::Pending { level: parse_col(r, "pending_level", Level::parse)? },
        "granted" => StoredState::Granted {
            by: parse_col(r, "granted_by", UserId::parse)?,
            level: parse_col(r, "granted_level", Level::parse)?,
            limit: opt_int(r, "granted_limit")?.map(fen).transpose()?,
            at: ts(r, "granted_at")?,
        },
        "rejected" => StoredState::Rejected {
            by: parse_col(r, "rejected_by", UserId::parse)?,
            reason: text(r, "rejected_reason")?,
            at: ts(r, "rejected_at")?,
        },
        other => anyhow::bail!("unknown compensation status {other:?}"),
    };
    let due = opt_ts(r, "report_due_at")?;
    let report = match (text(r, "report_status")?.as_str(), due) {
        ("not_required", _) => Report::NotRequired,
        ("due", Some(due_at)) => Report::Due { due_at },
        ("overdue", Some(due_at)) => Report::Overdue { due_at },
        ("filed", Some(due_at)) => Report::Filed {
            due_at,
            text: opt_text(r, "report")?.unwrap_or_default(),
            at: ts(r, "report_filed_at")?,
        },
        (other, _) => anyhow::bail!("bad report status {other:?}"),
    };
    Ok(Compensation::restore(
        parse_col(r, "id", CompensationId::parse)?,
        parse_col(r, "workspace_id", WorkspaceId::parse)?,
        parse_col(r, "ticket_id", TicketId::parse)?,
        parse_col(r, "kind", CompensationKind::parse)?,
        amount,
        text(r, "basis")?,
        parse_col(r, "requested_by", UserId::parse)?,
        parse_col(r, "requester_level", Level::parse)?,
        json_to_steps(&text(r, "steps")?)?,
        state,
        report,
        ts(r, "created_at")?,
        ts(r, "updated_at")?,
    ))
}

/// Inserts or replaces the stored row of `c`.
pub async fn save(c: &mut AnyConnection, v: &Compensation, insert: bool) -> Result<()> {
    let mut b = Binds::default();
    let (mut granted_by, mut granted_level, mut granted_limit, mut granted_at) =
        (None, None, None, None);
    let (mut rejected_by, mut rejected_reason, mut rejected_at) = (None, None, None);
    match v.state() {
        State::Pending { .. } => {}
        State::Granted { grant, at } => {
            granted_by = Some(grant.by().to_string());
            granted_level = Some(grant.level().as_str().to_string());
            granted_limit = grant.limit().map(Fen::get);
            granted_at = Some(at.millis());
        }
        State::Rejected { by, reason, at } => {
            rejected_by = Some(by.to_string());
            rejected_reason = Some(reason.clone());
            rejected_at = Some(at.millis());
        }
    }
    let (report, filed_at) = match v.report() {
        Report::Filed { text, at, .. } => (Some(text.clone()), Some(at.millis())),
        _ => (None, None),
    };
    use crate::Bind::{Int, Text};
    let t = |s: String| Some(Text(s));
    let i = |x: i64| Some(Int(x));
    let vals: Vec<Option<crate::Bind>> = vec![
        t(v.id.to_string()),
        t(v.workspace.to_string()),
        t(v.ticket.to_string()),
        t(v.kind.as_str().into()),
        i(v.amount.get()),
        t(v.basis.clone()),
        t(v.requested_by.to_string()),
        t(v.requester_level.as_str().into()),
        t(v.state().name().into()),
        v.pending_level().map(|l| Text(l.as_str().into())),
        granted_by.map(Text),
        granted_level.map(Text),
        granted_limit.map(Int),
        granted_at.map(Int),
        rejected_by.map(Text),
        rejected_reason.map(Text),
        rejected_at.map(Int),
        t(v.report().name().into()),
        v.report().due_at().map(|d| Int(d.millis())),
        report.map(Text),
        filed_at.map(Int),
        t(steps_to_json(&v.steps)),
        i(v.created_at.millis()),
        i(v.updated_at.millis()),
    ];
    let cols: Vec<&str> = COLS.split(',').map(str::trim).collect();
    let ph = |b: &mut Binds, x: Option<crate::Bind>| x.map_or_else(|| "NULL".into(), |x| b.push(x));
    let sql = if insert {
        let ps: Vec<String> = vals.into_iter().map(|x| ph(&mut b, x)).collect();
        format!("INSERT INTO compensations ({COLS}) VALUES ({})", ps.join(", "))
    } else {
        // Identity columns (id … requester_level) never change; the rest is the new state.
        let sets: Vec<String> = cols
            .iter()
            .zip(vals)
            .skip(8)
            .map(|(c, x)| format!("{c} = {}", ph(&mut b, x)))
            .collect();
        let (id, ws) = (b.text(v.id.to_string()), b.text(v.workspace.to_string()));
        format!(
            "UPDATE compensations SET {} WHERE id = {id} AND workspace_id = {ws}",
            sets.join(", ")
        )
    };
    b.query(sql).execute(c).await.context("saving a compensation")?;
    Ok(())
}

pub async fn get(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    id: CompensationId,
) -> Result<Option<Compensation>> {
    let sql = format!("SELECT {COLS} FROM compensations WHERE workspace_id = $1 AND id = $2");
    crate::one_by_id(c, sql, ws, id, compensation).await
}

pub async fn for_ticket(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    ticket: TicketId,
) -> Result<Vec<Compensation>> {
    let sql = format!(
        "SELECT {COLS} FROM compensations WHERE workspace_id = $1 AND ticket_id = $2 ORDER BY created_at, id"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(ws.to_string())
        .bind(ticket.to_string())
        .fetch_all(c)
        .await?;
    rows.iter().map(compensation).collect()
}

/// Filters of the approval queue and lists.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// `pending`, `granted` or `rejected`.
    pub status: Option<String>,
    /// Pending at one of these levels.
    pub pending_levels: Option<Vec<Level>>,
    /// Reports in this state (`due`, `overdue`, `filed`).
    pub report_status: Option<String>,
}

/// Oldest first, at most 500.
pub async fn list(c: &mut AnyConnection, ws: WorkspaceId, f: &Filter) -> Result<Vec<Compensation>> {
    let mut b = Binds::default();
    let mut sql =
        format!("SELECT {COLS} FROM compensations WHERE workspace_id = {}", b.text(ws.to_string()));
    if let Some(s) = &f.status {
        sql.push_str(&format!(" AND status = {}", b.text(s.clone())));
    }
    if let Some(levels) = &f.pending_levels {
        if levels.is_empty() {
            return Ok(Vec::new());
        }
        let ps: Vec<String> = levels.iter().map(|l| b.text(l.as_str())).collect();
        sql.push_str(&format!(" AND pending_level IN ({})", ps.join(", ")));
    }
    if let Some(s) = &f.report_status {
        sql.push_str(&format!(" AND report_status = {}", b.text(s.clone())));
    }
    sql.push_str(" ORDER BY created_at, id LIMIT 500");
    let rows = b.query(sql).fetch_all(c).await?;
    rows.iter().map(compensation).collect()
}

/// The workspace's limits, or the defaults.
pub async fn limits(c: &mut AnyConnection, ws: WorkspaceId) -> Result<Limits> {
    let r = sqlx::query(
        "SELECT agent_fen, supervisor_fen, cs_head_fen, report_hours FROM compensation_limits WHERE workspace_id = $1",
    )
    .bind(ws.to_string())
    .fetch_optional(c)
    .await?;
    let Some(r) = r else { return Ok(Limits::default()) };
    Ok(Limits {
        agent: fen(int(&r, "agent_fen")?)?,
        supervisor: fen(int(&r, "supervisor_fen")?)?,
        cs_head: opt_int(&r, "cs_head_fen")?.map(fen).transpose()?,
        report_hours: int(&r, "report_hours")?,
    })
}

pub async fn put_limits(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    l: &Limits,
    now: Timestamp,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO compensation_limits (workspace_id, agent_fen, supervisor_fen, cs_head_fen, report_hours, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (workspace_id) DO UPDATE SET agent_fen = excluded.agent_fen,
            supervisor_fen = excluded.supervisor_fen, cs_head_fen = excluded.cs_head_fen,
            report_hours = excluded.report_hours, updated_at = excluded.updated_at",
    )
    .bind(ws.to_string())
    .bind(l.agent.get())
    .bind(l.supervisor.get())
    .bind(l.cs_head.map(Fen::get))
    .bind(l.report_hours)
    .bind(now.millis())
    .execute(c)
    .await
    .context("saving compensation limits")?;
    Ok(())
}
