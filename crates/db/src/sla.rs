//! SLA storage: each workspace's policies and calendars (JSON text in their admin-written
//! form), each ticket's clock inputs, clock summary and recorded metric events, escalation
//! notifications, and the timer benchmark's firing log.

use anyhow::{Context, anyhow};
use domain::{Status, TicketId, Timestamp, UserId, WorkspaceId};
use serde_json::{Value, json};
use sqlx::{AnyConnection, Row, any::AnyRow};
use workflow::{
    CalendarDef, TicketEvent,
    config::{ConditionsDef, PolicyDef, StepDef, TargetDef},
};

use crate::{Binds, Result, int, opt_text, opt_ts, parse_col, text, ts};

fn strs(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
        .unwrap_or_default()
}
fn s(v: &Value, k: &str) -> String {
    v.get(k).and_then(Value::as_str).unwrap_or_default().to_string()
}

pub fn policies_to_json(ps: &[PolicyDef]) -> String {
    let v: Vec<Value> = ps
        .iter()
        .map(|p| {
            let c = &p.conditions;
            json!({
                "name": p.name,
                "conditions": {
                    "severity": c.severity, "tier": c.tier, "problem_code": c.problem_code,
                    "channel": c.channel, "urgency": c.urgency, "team": c.team,
                },
                "targets": p.targets.iter().map(|t| json!({
                    "metric": t.metric, "duration": t.duration, "mode": t.mode, "warn": t.warn,
                    "pause_in": t.pause_in,
                })).collect::<Vec<_>>(),
                "escalation": p.escalation.iter().map(|e| json!({
                    "on": e.on, "metrics": e.metrics, "actions": e.actions,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    Value::from(v).to_string()
}

pub fn policies_from_json(s_: &str) -> Result<Vec<PolicyDef>> {
    let v: Value = serde_json::from_str(s_).context("sla policies are not JSON")?;
    let arr = v.as_array().ok_or_else(|| anyhow!("sla policies are not a list"))?;
    Ok(arr
        .iter()
        .map(|p| {
            let c = &p["conditions"];
            PolicyDef {
                name: s(p, "name"),
                conditions: ConditionsDef {
                    severity: strs(&c["severity"]),
                    tier: strs(&c["tier"]),
                    problem_code: strs(&c["problem_code"]),
                    channel: strs(&c["channel"]),
                    urgency: strs(&c["urgency"]),
                    team: strs(&c["team"]),
                },
                targets: p["targets"]
                    .as_array()
                    .map(|ts| {
                        ts.iter()
                            .map(|t| TargetDef {
                                metric: s(t, "metric"),
                                duration: s(t, "duration"),
                                mode: s(t, "mode"),
                                warn: s(t, "warn"),
                                pause_in: t.get("pause_in").filter(|v| !v.is_null()).map(strs),
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
                escalation: p["escalation"]
                    .as_array()
                    .map(|es| {
                        es.iter()
                            .map(|e| StepDef {
                                on: s(e, "on"),
                                metrics: strs(&e["metrics"]),
                                actions: strs(&e["actions"]),
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
            }
        })
        .collect())
}

pub fn calendars_to_json(cs: &[(String, CalendarDef)]) -> String {
    let v: Vec<Value> = cs
        .iter()
        .map(|(id, c)| {
            json!({
                "id": id, "time_zone": c.time_zone, "week": c.week.to_vec(), "holidays": c.holidays,
                "workdays": c.workdays.iter().map(|(d, s)| json!({"date": d, "schedule": s})).collect::<Vec<_>>(),
            })
        })
        .collect();
    Value::from(v).to_string()
}

pub fn calendars_from_json(s_: &str) -> Result<Vec<(String, CalendarDef)>> {
    let v: Value = serde_json::from_str(s_).context("sla calendars are not JSON")?;
    let arr = v.as_array().ok_or_else(|| anyhow!("sla calendars are not a list"))?;
    Ok(arr
        .iter()
        .map(|c| {
            let week = strs(&c["week"]);
            let def = CalendarDef {
                time_zone: s(c, "time_zone"),
                week: std::array::from_fn(|i| week.get(i).cloned().unwrap_or_default()),
                holidays: strs(&c["holidays"]),
                workdays: c["workdays"]
                    .as_array()
                    .map(|ws| {
                        ws.iter()
                            .map(|w| (s(w, "date"), w["schedule"].as_str().map(str::to_string)))
                            .collect()
                    })
                    .unwrap_or_default(),
            };
            (s(c, "id"), def)
        })
        .collect())
}

/// A workspace's SLA configuration in text form.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Config {
    pub policies: Vec<PolicyDef>,
    pub calendars: Vec<(String, CalendarDef)>,
    pub updated_at: Option<Timestamp>,
}

pub async fn config(c: &mut AnyConnection, ws: WorkspaceId) -> Result<Config> {
    let r = sqlx::query(
        "SELECT policies, calendars, updated_at FROM sla_config WHERE workspace_id = $1",
    )
    .bind(ws.to_string())
    .fetch_optional(c)
    .await
    .context("reading the SLA configuration")?;
    match r {
        None => Ok(Config::default()),
        Some(r) => Ok(Config {
            policies: policies_from_json(&text(&r, "policies")?)?,
            calendars: calendars_from_json(&text(&r, "calendars")?)?,
            updated_at: Some(ts(&r, "updated_at")?),
        }),
    }
}

pub async fn put_config(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    cfg: &Config,
    now: Timestamp,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO sla_config (workspace_id, policies, calendars, updated_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (workspace_id) DO UPDATE SET policies = excluded.policies,
            calendars = excluded.calendars, updated_at = excluded.updated_at",
    )
    .bind(ws.to_string())
    .bind(policies_to_json(&cfg.policies))
    .bind(calendars_to_json(&cfg.calendars))
    .bind(now.millis())
    .execute(c)
    .await
    .context("saving the SLA configuration")?;
    Ok(())
}

pub(crate) fn input_row(r: &AnyRow) -> Result<TicketEvent> {
    let at = ts(r, "at")?;
    Ok(match text(r, "kind")?.as_str() {
        "created" => TicketEvent::Created { at },
        "status" => TicketEvent::StatusChanged { at, to: parse_col(r, "status", Status::parse)? },
        "agent_reply" => TicketEvent::AgentReplied { at, public: int(r, "public")? != 0 },
        "customer_reply" => TicketEvent::CustomerReplied { at },
        other => anyhow::bail!("unknown SLA input kind {other:?}"),
    })
}

/// A ticket's clock inputs, in the order they were recorded.
pub async fn inputs(c: &mut AnyConnection, ticket: TicketId) -> Result<Vec<TicketEvent>> {
    let rows = sqlx::query(
        "SELECT kind, at, status, public FROM sla_inputs WHERE ticket_id = $1 ORDER BY seq",
    )
    .bind(ticket.to_string())
    .fetch_all(c)
    .await
    .context("reading SLA inputs")?;
    rows.iter().map(input_row).collect()
}

/// Appends inputs numbered from `first_seq`.
pub async fn append_inputs(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    ticket: TicketId,
    first_seq: i64,
    evs: &[TicketEvent],
) -> Result<()> {
    if evs.is_empty() {
        return Ok(());
    }
    let mut b = Binds::default();
    let rows: Vec<String> = evs
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let (kind, status, public) = match *e {
                TicketEvent::Created { .. } => ("created", None, 0),
                TicketEvent::StatusChanged { to, .. } => ("status", Some(to.as_str()), 0),
                TicketEvent::AgentReplied { public, .. } => {
                    ("agent_reply", None, i64::from(public))
                }
                TicketEvent::CustomerReplied { .. } => ("customer_reply", None, 0),
            };
            format!(
                "({}, {}, {}, {}, {}, {}, {})",
                b.text(ws.to_string()),
                b.text(ticket.to_string()),
                b.int(first_seq + i as i64),
                b.text(kind),
                b.int(e.at().millis()),
                b.opt_text(status.map(str::to_string)),
                b.int(public)
            )
        })
        .collect();
    let sql = format!(
        "INSERT INTO sla_inputs (workspace_id, ticket_id, seq, kind, at, status, public) VALUES {}",
        rows.join(", ")
    );
    b.query(sql).execute(c).await.context("recording SLA inputs")?;
    Ok(())
}

/// A ticket's clock summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketSla {
    pub policy: Option<String>,
    pub evaluated_at: Timestamp,
    /// The earliest deadline of a running metric (past once breached).
    pub breach_at: Option<Timestamp>,
    /// The due time of the one timer that may act.
    pub timer_due: Option<Timestamp>,
    /// That timer's job.
    pub timer_job: Option<domain::JobId>,
}

pub async fn state(c: &mut AnyConnection, ticket: TicketId) -> Result<Option<TicketSla>> {
    let r = sqlx::query(
        "SELECT policy, evaluated_at, breach_at, timer_due, timer_job FROM ticket_sla WHERE ticket_id = $1",
    )
    .bind(ticket.to_string())
    .fetch_optional(c)
    .await
    .context("reading a ticket's SLA state")?;
    r.map(|r| {
        Ok(TicketSla {
            policy: opt_text(&r, "policy")?,
            evaluated_at: ts(&r, "evaluated_at")?,
            breach_at: opt_ts(&r, "breach_at")?,
            timer_due: opt_ts(&r, "timer_due")?,
            timer_job: crate::parse_opt_col(&r, "timer_job", domain::JobId::parse)?,
        })
    })
    .transpose()
}

pub async fn put_state(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    ticket: TicketId,
    s_: &TicketSla,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO ticket_sla (ticket_id, workspace_id, policy, evaluated_at, breach_at, timer_due, timer_job)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (ticket_id) DO UPDATE SET policy = excluded.policy,
            evaluated_at = excluded.evaluated_at, breach_at = excluded.breach_at,
            timer_due = excluded.timer_due, timer_job = excluded.timer_job",
    )
    .bind(ticket.to_string())
    .bind(ws.to_string())
    .bind(s_.policy.clone())
    .bind(s_.evaluated_at.millis())
    .bind(s_.breach_at.map(Timestamp::millis))
    .bind(s_.timer_due.map(Timestamp::millis))
    .bind(s_.timer_job.map(|j| j.to_string()))
    .execute(c)
    .await
    .context("saving a ticket's SLA state")?;
    Ok(())
}

/// A recorded SLA metric event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub metric: String,
    pub cycle: i64,
    pub kind: String,
    pub at: Timestamp,
    pub recorded_at: Timestamp,
}

pub async fn insert_events(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    ticket: TicketId,
    evs: &[Recorded],
) -> Result<()> {
    if evs.is_empty() {
        return Ok(());
    }
    let mut b = Binds::default();
    let rows: Vec<String> = evs
        .iter()
        .map(|e| {
            format!(
                "({}, {}, {}, {}, {}, {}, {})",
                b.text(ws.to_string()),
                b.text(ticket.to_string()),
                b.text(e.metric.clone()),
                b.int(e.cycle),
                b.text(e.kind.clone()),
                b.int(e.at.millis()),
                b.int(e.recorded_at.millis())
            )
        })
        .collect();
    let sql = format!(
        "INSERT INTO sla_events (workspace_id, ticket_id, metric, cycle, kind, at, recorded_at) VALUES {}",
        rows.join(", ")
    );
    b.query(sql).execute(c).await.context("recording SLA events")?;
    Ok(())
}

/// A ticket's SLA events, oldest first.
pub async fn events(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    ticket: TicketId,
) -> Result<Vec<Recorded>> {
    let rows = sqlx::query(
        "SELECT metric, cycle, kind, at, recorded_at FROM sla_events
         WHERE workspace_id = $1 AND ticket_id = $2 ORDER BY at, recorded_at",
    )
    .bind(ws.to_string())
    .bind(ticket.to_string())
    .fetch_all(c)
    .await
    .context("reading SLA events")?;
    rows.iter()
        .map(|r| {
            Ok(Recorded {
                metric: text(r, "metric")?,
                cycle: int(r, "cycle")?,
                kind: text(r, "kind")?,
                at: ts(r, "at")?,
                recorded_at: ts(r, "recorded_at")?,
            })
        })
        .collect()
}

/// A notification to a member of staff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub id: String,
    pub user: UserId,
    pub ticket: Option<TicketId>,
    pub kind: String,
    pub body: String,
    pub created_at: Timestamp,
}

pub async fn insert_notification(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    n: &Notification,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO notifications (id, workspace_id, user_id, ticket_id, kind, body, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(n.id.clone())
    .bind(ws.to_string())
    .bind(n.user.to_string())
    .bind(n.ticket.map(|t| t.to_string()))
    .bind(n.kind.clone())
    .bind(n.body.clone())
    .bind(n.created_at.millis())
    .execute(c)
    .await
    .context("recording a notification")?;
    Ok(())
}

/// A user's notifications, newest first.
pub async fn notifications(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    user: UserId,
    limit: i64,
) -> Result<Vec<Notification>> {
    let rows = sqlx::query(
        "SELECT id, user_id, ticket_id, kind, body, created_at FROM notifications
         WHERE workspace_id = $1 AND user_id = $2 ORDER BY created_at DESC, id DESC LIMIT $3",
    )
    .bind(ws.to_string())
    .bind(user.to_string())
    .bind(limit.clamp(1, 500))
    .fetch_all(c)
    .await
    .context("reading notifications")?;
    rows.iter()
        .map(|r| {
            Ok(Notification {
                id: text(r, "id")?,
                user: parse_col(r, "user_id", UserId::parse)?,
                ticket: crate::parse_opt_col(r, "ticket_id", TicketId::parse)?,
                kind: text(r, "kind")?,
                body: text(r, "body")?,
                created_at: ts(r, "created_at")?,
            })
        })
        .collect()
}

/// Records one firing of a probe timer (inside the job's completing transaction).
pub async fn record_probe(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    probe: i64,
    due: Timestamp,
    fired_at: Timestamp,
    worker: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO timer_probe_firings (workspace_id, probe, due, fired_at, worker) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(ws.to_string())
    .bind(probe)
    .bind(due.millis())
    .bind(fired_at.millis())
    .bind(worker)
    .execute(c)
    .await
    .context("recording a probe firing")?;
    Ok(())
}

/// Every probe firing: (probe, due, fired_at, worker), by probe.
pub async fn probe_firings(c: &mut AnyConnection) -> Result<Vec<(i64, i64, i64, String)>> {
    let rows = sqlx::query(
        "SELECT probe, due, fired_at, worker FROM timer_probe_firings ORDER BY probe, fired_at",
    )
    .fetch_all(c)
    .await
    .context("reading probe firings")?;
    rows.iter()
        .map(|r| {
            Ok((r.try_get("probe")?, r.try_get("due")?, r.try_get("fired_at")?, text(r, "worker")?))
        })
        .collect()
}
