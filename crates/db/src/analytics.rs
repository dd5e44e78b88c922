//! Analytics storage (AN-1, AN-4): the outbox cursor, per-ticket facts with the dimensions
//! they were counted under, daily and hourly rollups (additive: deltas are upserted), the
//! sources facts are computed from (ticket rows, SLA clock inputs, breaches), and the
//! dashboard's reads over the rollups and facts.

use std::collections::HashMap;

use anyhow::Context;
use domain::{Status, Timestamp, WorkspaceId};
use sqlx::{AnyConnection, any::AnyRow};
use workflow::{
    TicketEvent,
    analytics::{Extra, Facts, Slot, Sums},
};

use crate::{Binds, Dialect, Result, codec, int, opt_text, parse_col, text, ts};

/// The dimensions a ticket is counted under; `""` is "none".
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct Dims {
    pub channel: String,
    pub problem_code: String,
    pub team_id: String,
}

/// A ticket's stored facts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FactRow {
    pub ticket_id: String,
    pub dims: Dims,
    /// The agent the ticket is counted under (its current assignee; `""` = unassigned).
    pub assignee_id: String,
    pub status: String,
    pub facts: Facts,
}

/// Everything a ticket's facts are computed from.
#[derive(Debug, Clone)]
pub struct Source {
    pub ticket_id: String,
    pub created_at: Timestamp,
    pub dims: Dims,
    /// The current assignee, `""` when none.
    pub assignee_id: String,
    pub status: Status,
    pub tags: Vec<String>,
    pub inputs: Vec<TicketEvent>,
    pub sla_tracked: bool,
    pub sla_breached: bool,
}

/// Takes the workspace's cursor row (creating it at `seq = 0`) and locks it until the
/// transaction ends (PostgreSQL `FOR UPDATE`; SQLite's single writer already serialises).
pub async fn lock_cursor(
    c: &mut AnyConnection,
    d: Dialect,
    ws: WorkspaceId,
    now: Timestamp,
) -> Result<i64> {
    sqlx::query(
        "INSERT INTO analytics_cursor (workspace_id, seq, updated_at) VALUES ($1, 0, $2)
         ON CONFLICT (workspace_id) DO NOTHING",
    )
    .bind(ws.to_string())
    .bind(now.millis())
    .execute(&mut *c)
    .await
    .context("creating the analytics cursor")?;
    let lock = if d == Dialect::Postgres { " FOR UPDATE" } else { "" };
    let sql = format!("SELECT seq FROM analytics_cursor WHERE workspace_id = $1{lock}");
    let r = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(ws.to_string()).fetch_one(c).await?;
    int(&r, "seq")
}

pub async fn set_cursor(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    seq: i64,
    now: Timestamp,
) -> Result<()> {
    sqlx::query("UPDATE analytics_cursor SET seq = $2, updated_at = $3 WHERE workspace_id = $1")
        .bind(ws.to_string())
        .bind(seq)
        .bind(now.millis())
        .execute(c)
        .await
        .context("moving the analytics cursor")?;
    Ok(())
}

/// The cursor without locking (0 before the first catch-up).
pub async fn cursor(c: &mut AnyConnection, ws: WorkspaceId) -> Result<i64> {
    let r = sqlx::query("SELECT seq FROM analytics_cursor WHERE workspace_id = $1")
        .bind(ws.to_string())
        .fetch_optional(c)
        .await?;
    r.map_or(Ok(0), |r| int(&r, "seq"))
}

fn in_list(b: &mut Binds, ids: &[String]) -> String {
    ids.iter().map(|i| b.text(i.clone())).collect::<Vec<_>>().join(", ")
}

/// The tickets of these conversations.
pub async fn tickets_of_conversations(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    convs: &[String],
) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for chunk in convs.chunks(500) {
        let mut b = Binds::default();
        let w = b.text(ws.to_string());
        let sql = format!(
            "SELECT id FROM tickets WHERE workspace_id = {w} AND conversation_id IN ({})",
            in_list(&mut b, chunk)
        );
        for r in b.query(sql).fetch_all(&mut *c).await? {
            out.push(text(&r, "id")?);
        }
    }
    Ok(out)
}

fn dims(r: &AnyRow) -> Result<Dims> {
    Ok(Dims {
        channel: text(r, "channel")?,
        problem_code: opt_text(r, "problem_code")?.unwrap_or_default(),
        team_id: opt_text(r, "team_id")?.unwrap_or_default(),
    })
}

async fn sources_where(c: &mut AnyConnection, mut b: Binds, cond: String) -> Result<Vec<Source>> {
    let sql = format!(
        "SELECT t.id, t.created_at, t.channel, t.problem_code, t.team_id, t.assignee_id, t.status, t.tags,
                s.policy, (SELECT COUNT(*) FROM sla_events e WHERE e.workspace_id = t.workspace_id AND e.ticket_id = t.id AND e.kind = 'breached') AS breaches
         FROM tickets t LEFT JOIN ticket_sla s ON s.ticket_id = t.id WHERE {cond}"
    );
    let rows = std::mem::take(&mut b).query(sql).fetch_all(&mut *c).await?;
    let mut out: Vec<Source> = Vec::with_capacity(rows.len());
    for r in &rows {
        out.push(Source {
            ticket_id: text(r, "id")?,
            created_at: ts(r, "created_at")?,
            dims: dims(r)?,
            assignee_id: opt_text(r, "assignee_id")?.unwrap_or_default(),
            status: parse_col(r, "status", Status::parse)?,
            tags: codec::json_to_strings(&text(r, "tags")?)?,
            inputs: Vec::new(),
            sla_tracked: opt_text(r, "policy")?.is_some(),
            sla_breached: int(r, "breaches")? > 0,
        });
    }
    if out.is_empty() {
        return Ok(out);
    }
    let ids: Vec<String> = out.iter().map(|s| s.ticket_id.clone()).collect();
    let mut b = Binds::default();
    let sql = format!(
        "SELECT ticket_id, kind, at, status, public FROM sla_inputs WHERE ticket_id IN ({}) ORDER BY ticket_id, seq",
        in_list(&mut b, &ids)
    );
    let pos: HashMap<String, usize> =
        out.iter().enumerate().map(|(i, s)| (s.ticket_id.clone(), i)).collect();
    for r in b.query(sql).fetch_all(&mut *c).await? {
        let e = crate::sla::input_row(&r)?;
        if let Some(&i) = pos.get(&text(&r, "ticket_id")?) {
            out[i].inputs.push(e);
        }
    }
    Ok(out)
}

/// The sources of these tickets (those of the workspace; unknown ids are skipped).
pub async fn sources(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    ids: &[String],
) -> Result<Vec<Source>> {
    let mut out = Vec::new();
    for chunk in ids.chunks(500) {
        let mut b = Binds::default();
        let w = b.text(ws.to_string());
        let cond = format!("t.workspace_id = {w} AND t.id IN ({})", in_list(&mut b, chunk));
        out.extend(sources_where(c, b, cond).await?);
    }
    Ok(out)
}

/// A page of the workspace's tickets' sources in id order, after `after`.
pub async fn source_page(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<Source>> {
    let mut b = Binds::default();
    let w = b.text(ws.to_string());
    let a = match after {
        Some(a) => format!(" AND t.id > {}", b.text(a)),
        None => String::new(),
    };
    let l = b.int(limit.clamp(1, 5000));
    sources_where(c, b, format!("t.workspace_id = {w}{a} ORDER BY t.id LIMIT {l}")).await
}

/// Tickets of the workspace.
pub async fn ticket_count(c: &mut AnyConnection, ws: WorkspaceId) -> Result<i64> {
    let r = sqlx::query("SELECT COUNT(*) AS n FROM tickets WHERE workspace_id = $1")
        .bind(ws.to_string())
        .fetch_one(c)
        .await?;
    int(&r, "n")
}

const FACT_COLS: &str = "ticket_id, workspace_id, created_at, local_day, local_hour, channel, problem_code, team_id, status,
    done_at, done_day, first_reply_at, frt_bh, frt_wall, nrt_n, nrt_bh, res_bh, res_wall, handle_bh,
    agent_replies, customer_replies, reopens, fcr, sla_tracked, sla_breached, complaint, is_repeat, assignee_id";

fn opt_int(r: &AnyRow, col: &str) -> Result<Option<i64>> {
    use sqlx::Row;
    r.try_get(col).with_context(|| format!("reading column {col}"))
}

fn fact_row(r: &AnyRow) -> Result<FactRow> {
    let created_at = ts(r, "created_at")?;
    let day = int(r, "local_day")?;
    let flag = |c: &str| int(r, c).map(|v| v != 0);
    Ok(FactRow {
        ticket_id: text(r, "ticket_id")?,
        dims: dims(r)?,
        assignee_id: text(r, "assignee_id")?,
        status: text(r, "status")?,
        facts: Facts {
            created_at,
            slot: Slot {
                day,
                hour: int(r, "local_hour")? as u8,
                weekday: (day + 3).rem_euclid(7) as u8,
            },
            first_reply_at: opt_int(r, "first_reply_at")?.map(Timestamp::from_millis),
            frt_bh: opt_int(r, "frt_bh")?,
            frt_wall: opt_int(r, "frt_wall")?,
            nrt_n: int(r, "nrt_n")?,
            nrt_bh: int(r, "nrt_bh")?,
            agent_replies: int(r, "agent_replies")?,
            customer_replies: int(r, "customer_replies")?,
            reopens: int(r, "reopens")?,
            done_at: opt_int(r, "done_at")?.map(Timestamp::from_millis),
            done_day: opt_int(r, "done_day")?,
            res_bh: opt_int(r, "res_bh")?,
            res_wall: opt_int(r, "res_wall")?,
            handle_bh: int(r, "handle_bh")?,
            fcr: flag("fcr")?,
            extra: Extra {
                sla_tracked: flag("sla_tracked")?,
                sla_breached: flag("sla_breached")?,
                complaint: flag("complaint")?,
                repeat: flag("is_repeat")?,
            },
        },
    })
}

/// The stored facts of these tickets, by ticket id.
pub async fn facts_of(c: &mut AnyConnection, ids: &[String]) -> Result<HashMap<String, FactRow>> {
    let mut out = HashMap::new();
    for chunk in ids.chunks(500) {
        let mut b = Binds::default();
        let sql = format!(
            "SELECT {FACT_COLS} FROM ticket_facts WHERE ticket_id IN ({})",
            in_list(&mut b, chunk)
        );
        for r in b.query(sql).fetch_all(&mut *c).await? {
            let f = fact_row(&r)?;
            out.insert(f.ticket_id.clone(), f);
        }
    }
    Ok(out)
}

/// Replaces the facts of these tickets.
pub async fn put_facts(c: &mut AnyConnection, ws: WorkspaceId, rows: &[FactRow]) -> Result<()> {
    for chunk in rows.chunks(300) {
        let mut b = Binds::default();
        let ids: Vec<String> = chunk.iter().map(|r| r.ticket_id.clone()).collect();
        let sql =
            format!("DELETE FROM ticket_facts WHERE ticket_id IN ({})", in_list(&mut b, &ids));
        b.query(sql).execute(&mut *c).await.context("replacing ticket facts")?;
        insert_facts(c, ws, chunk).await?;
    }
    Ok(())
}

/// Inserts facts of tickets that have none.
pub async fn insert_facts(c: &mut AnyConnection, ws: WorkspaceId, rows: &[FactRow]) -> Result<()> {
    for chunk in rows.chunks(300) {
        let mut b = Binds::default();
        let oi = |b: &mut Binds, v: Option<i64>| v.map_or("NULL".to_string(), |v| b.int(v));
        let values: Vec<String> = chunk
            .iter()
            .map(|r| {
                let f = &r.facts;
                let e = f.extra;
                let v = [
                    b.text(r.ticket_id.clone()),
                    b.text(ws.to_string()),
                    b.int(f.created_at.millis()),
                    b.int(f.slot.day),
                    b.int(i64::from(f.slot.hour)),
                    b.text(r.dims.channel.clone()),
                    b.text(r.dims.problem_code.clone()),
                    b.text(r.dims.team_id.clone()),
                    b.text(r.status.clone()),
                    oi(&mut b, f.done_at.map(Timestamp::millis)),
                    oi(&mut b, f.done_day),
                    oi(&mut b, f.first_reply_at.map(Timestamp::millis)),
                    oi(&mut b, f.frt_bh),
                    oi(&mut b, f.frt_wall),
                    b.int(f.nrt_n),
                    b.int(f.nrt_bh),
                    oi(&mut b, f.res_bh),
                    oi(&mut b, f.res_wall),
                    b.int(f.handle_bh),
                    b.int(f.agent_replies),
                    b.int(f.customer_replies),
                    b.int(f.reopens),
                    b.int(i64::from(f.fcr)),
                    b.int(i64::from(e.sla_tracked)),
                    b.int(i64::from(e.sla_breached)),
                    b.int(i64::from(e.complaint)),
                    b.int(i64::from(e.repeat)),
                    b.text(r.assignee_id.clone()),
                ];
                format!("({})", v.join(", "))
            })
            .collect();
        let sql = format!("INSERT INTO ticket_facts ({FACT_COLS}) VALUES {}", values.join(", "));
        b.query(sql).execute(&mut *c).await.context("writing ticket facts")?;
    }
    Ok(())
}

/// Adds deltas to the daily rollup (rows are created as needed).
pub async fn add_daily(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    deltas: &[(i64, Dims, Sums)],
) -> Result<()> {
    let fields = Sums::FIELDS;
    let set: Vec<String> =
        fields.iter().map(|f| format!("{f} = analytics_daily.{f} + excluded.{f}")).collect();
    for chunk in deltas.chunks(400) {
        let mut b = Binds::default();
        let values: Vec<String> = chunk
            .iter()
            .map(|(day, d, s)| {
                let mut v = vec![
                    b.text(ws.to_string()),
                    b.int(*day),
                    b.text(d.channel.clone()),
                    b.text(d.problem_code.clone()),
                    b.text(d.team_id.clone()),
                ];
                v.extend(s.to_vec().into_iter().map(|x| b.int(x)));
                format!("({})", v.join(", "))
            })
            .collect();
        let sql = format!(
            "INSERT INTO analytics_daily (workspace_id, local_day, channel, problem_code, team_id, {})
             VALUES {} ON CONFLICT (workspace_id, local_day, channel, problem_code, team_id) DO UPDATE SET {}",
            fields.join(", "),
            values.join(", "),
            set.join(", ")
        );
        b.query(sql).execute(&mut *c).await.context("updating the daily rollup")?;
    }
    Ok(())
}

/// Adds deltas to the per-agent daily rollup: (local day, team, agent, sums); rows are created
/// as needed.
pub async fn add_agent_daily(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    deltas: &[(i64, String, String, Sums)],
) -> Result<()> {
    let fields = Sums::FIELDS;
    let set: Vec<String> =
        fields.iter().map(|f| format!("{f} = analytics_agent_daily.{f} + excluded.{f}")).collect();
    for chunk in deltas.chunks(400) {
        let mut b = Binds::default();
        let values: Vec<String> = chunk
            .iter()
            .map(|(day, team, agent, s)| {
                let mut v = vec![
                    b.text(ws.to_string()),
                    b.int(*day),
                    b.text(team.clone()),
                    b.text(agent.clone()),
                ];
                v.extend(s.to_vec().into_iter().map(|x| b.int(x)));
                format!("({})", v.join(", "))
            })
            .collect();
        let sql = format!(
            "INSERT INTO analytics_agent_daily (workspace_id, local_day, team_id, assignee_id, {})
             VALUES {} ON CONFLICT (workspace_id, local_day, team_id, assignee_id) DO UPDATE SET {}",
            fields.join(", "),
            values.join(", "),
            set.join(", ")
        );
        b.query(sql).execute(&mut *c).await.context("updating the agent rollup")?;
    }
    Ok(())
}

/// Sums the per-agent rollup over days `[from, to]`, optionally of one team's tickets: one
/// `(agent, sums)` per agent with any row.
pub async fn sum_agent_daily(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    from: i64,
    to: i64,
    team: Option<&str>,
) -> Result<Vec<(String, Sums)>> {
    let mut b = Binds::default();
    let w = b.text(ws.to_string());
    let (lo, hi) = (b.int(from), b.int(to));
    let t = team_filter(&mut b, team);
    let sums: Vec<String> = Sums::FIELDS
        .iter()
        .map(|x| format!("CAST(COALESCE(SUM({x}), 0) AS BIGINT) AS {x}"))
        .collect();
    let sql = format!(
        "SELECT assignee_id, {} FROM analytics_agent_daily
         WHERE workspace_id = {w} AND local_day >= {lo} AND local_day <= {hi}{t} GROUP BY assignee_id",
        sums.join(", ")
    );
    let rows = b.query(sql).fetch_all(&mut *c).await.context("summing the agent rollup")?;
    rows.iter()
        .map(|r| {
            let v: Vec<i64> = Sums::FIELDS.iter().map(|x| int(r, x)).collect::<Result<_>>()?;
            Ok((text(r, "assignee_id")?, Sums::from_slice(&v)))
        })
        .collect()
}

/// The per-ticket durations behind the agents' medians: `(agent, first response, resolution)`
/// (business ms; `None` when not responded / not solved) of the assigned tickets created in
/// `[from, to)` (instants), optionally of one team — the cohort the rollup counts them in.
pub async fn agent_durations(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    from: Timestamp,
    to: Timestamp,
    team: Option<&str>,
) -> Result<Vec<(String, Option<i64>, Option<i64>)>> {
    let mut b = Binds::default();
    let w = b.text(ws.to_string());
    let (lo, hi) = (b.int(from.millis()), b.int(to.millis()));
    let t = team_filter(&mut b, team);
    let sql = format!(
        "SELECT assignee_id, frt_bh, res_bh FROM ticket_facts
         WHERE workspace_id = {w} AND created_at >= {lo} AND created_at < {hi} AND assignee_id <> ''{t}
           AND (frt_bh IS NOT NULL OR res_bh IS NOT NULL)"
    );
    b.query(sql)
        .fetch_all(&mut *c)
        .await
        .context("reading agent durations")?
        .iter()
        .map(|r| Ok((text(r, "assignee_id")?, opt_int(r, "frt_bh")?, opt_int(r, "res_bh")?)))
        .collect()
}

/// ` AND team_id = $n` for one team's rows, or nothing for every team's.
fn team_filter(b: &mut Binds, team: Option<&str>) -> String {
    team.map(|t| format!(" AND team_id = {}", b.text(t))).unwrap_or_default()
}

/// Answered CSAT scores (1–5) in `[from, to)` by answer time, per agent the survey was sent
/// for (`surveys.agent_id`): `(agent, score, answers)`; optionally of one team's surveys.
pub async fn agent_csat(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    from: Timestamp,
    to: Timestamp,
    team: Option<&str>,
) -> Result<Vec<(String, i64, i64)>> {
    let mut b = Binds::default();
    let w = b.text(ws.to_string());
    let (lo, hi) = (b.int(from.millis()), b.int(to.millis()));
    let t = team_filter(&mut b, team);
    let sql = format!(
        "SELECT agent_id, score, COUNT(*) AS n FROM surveys
         WHERE workspace_id = {w} AND kind = 'csat' AND status = 'answered' AND score IS NOT NULL
           AND agent_id IS NOT NULL AND answered_at >= {lo} AND answered_at < {hi}{t}
         GROUP BY agent_id, score"
    );
    b.query(sql)
        .fetch_all(&mut *c)
        .await
        .context("reading agent CSAT scores")?
        .iter()
        .map(|r| Ok((text(r, "agent_id")?, int(r, "score")?, int(r, "n")?)))
        .collect()
}

/// Adds deltas to the hourly ticket counts: (day, hour, channel, n).
pub async fn add_hourly(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    deltas: &[(i64, u8, String, i64)],
) -> Result<()> {
    for chunk in deltas.chunks(1000) {
        let mut b = Binds::default();
        let values: Vec<String> = chunk
            .iter()
            .map(|(day, hour, ch, n)| {
                format!(
                    "({}, {}, {}, {}, {})",
                    b.text(ws.to_string()),
                    b.int(*day),
                    b.int(i64::from(*hour)),
                    b.text(ch.clone()),
                    b.int(*n)
                )
            })
            .collect();
        let sql = format!(
            "INSERT INTO analytics_hourly (workspace_id, local_day, local_hour, channel, created) VALUES {}
             ON CONFLICT (workspace_id, local_day, local_hour, channel) DO UPDATE SET created = analytics_hourly.created + excluded.created",
            values.join(", ")
        );
        b.query(sql).execute(&mut *c).await.context("updating the hourly rollup")?;
    }
    Ok(())
}

/// Drops the workspace's facts and rollups (before a rebuild).
pub async fn clear(c: &mut AnyConnection, ws: WorkspaceId) -> Result<()> {
    for t in ["ticket_facts", "analytics_daily", "analytics_hourly", "analytics_agent_daily"] {
        sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {t} WHERE workspace_id = $1")))
            .bind(ws.to_string())
            .execute(&mut *c)
            .await
            .with_context(|| format!("clearing {t}"))?;
    }
    Ok(())
}

/// Which buckets a dashboard read covers.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub channel: Option<String>,
    pub problem_code: Option<String>,
    pub team_id: Option<String>,
    /// Only tickets counted under this agent: applies to the drill-down ([`cases`]) only; the
    /// team rollups have no agent dimension (per-agent figures are [`sum_agent_daily`]).
    pub assignee_id: Option<String>,
}

impl Filter {
    fn sql(&self, b: &mut Binds, prefix: &str) -> String {
        let mut s = String::new();
        for (col, v) in [
            ("channel", &self.channel),
            ("problem_code", &self.problem_code),
            ("team_id", &self.team_id),
        ] {
            if let Some(v) = v {
                s.push_str(&format!(" AND {prefix}{col} = {}", b.text(v.clone())));
            }
        }
        s
    }
}

/// A dimension to group by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dim {
    Channel,
    ProblemCode,
    Team,
}

impl Dim {
    pub fn column(self) -> &'static str {
        match self {
            Dim::Channel => "channel",
            Dim::ProblemCode => "problem_code",
            Dim::Team => "team_id",
        }
    }
}

/// One group of summed daily buckets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub day: Option<i64>,
    pub key: Option<String>,
    pub sums: Sums,
}

/// Sums the daily rollup over days `[from, to]`, grouped by day and/or a dimension.
pub async fn sum_daily(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    from: i64,
    to: i64,
    f: &Filter,
    by_day: bool,
    by: Option<Dim>,
) -> Result<Vec<Group>> {
    let mut b = Binds::default();
    let w = b.text(ws.to_string());
    let (lo, hi) = (b.int(from), b.int(to));
    let filt = f.sql(&mut b, "");
    let sums: Vec<String> = Sums::FIELDS
        .iter()
        .map(|x| format!("CAST(COALESCE(SUM({x}), 0) AS BIGINT) AS {x}"))
        .collect();
    let mut group = Vec::new();
    if by_day {
        group.push("local_day");
    }
    if let Some(d) = by {
        group.push(d.column());
    }
    let (sel, grp) = if group.is_empty() {
        (String::new(), String::new())
    } else {
        (format!("{}, ", group.join(", ")), format!(" GROUP BY {}", group.join(", ")))
    };
    let sql = format!(
        "SELECT {sel}{} FROM analytics_daily WHERE workspace_id = {w} AND local_day >= {lo} AND local_day <= {hi}{filt}{grp}",
        sums.join(", ")
    );
    let rows = b.query(sql).fetch_all(&mut *c).await.context("summing the daily rollup")?;
    rows.iter()
        .map(|r| {
            let v: Vec<i64> = Sums::FIELDS.iter().map(|x| int(r, x)).collect::<Result<_>>()?;
            Ok(Group {
                day: if by_day { Some(int(r, "local_day")?) } else { None },
                key: match by {
                    Some(d) => Some(text(r, d.column())?),
                    None => None,
                },
                sums: Sums::from_slice(&v),
            })
        })
        .collect()
}

/// Tickets created minus tickets done over all days up to `day`: the open backlog then, per
/// value of `by` (key `None` without grouping).
pub async fn backlog_at(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    day: i64,
    f: &Filter,
    by: Option<Dim>,
) -> Result<Vec<(Option<String>, i64)>> {
    let mut b = Binds::default();
    let w = b.text(ws.to_string());
    let d = b.int(day);
    let filt = f.sql(&mut b, "");
    let (sel, grp) = match by {
        Some(x) => (format!("{}, ", x.column()), format!(" GROUP BY {}", x.column())),
        None => (String::new(), String::new()),
    };
    let sql = format!(
        "SELECT {sel}CAST(COALESCE(SUM(created) - SUM(done), 0) AS BIGINT) AS n FROM analytics_daily
         WHERE workspace_id = {w} AND local_day <= {d}{filt}{grp}"
    );
    b.query(sql)
        .fetch_all(&mut *c)
        .await?
        .iter()
        .map(|r| {
            let key = match by {
                Some(x) => Some(text(r, x.column())?),
                None => None,
            };
            Ok((key, int(r, "n")?))
        })
        .collect()
}

/// Tickets created per (local day, local hour) over days `[from, to]`.
pub async fn hourly(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    from: i64,
    to: i64,
    channel: Option<&str>,
) -> Result<Vec<(i64, u8, i64)>> {
    let mut b = Binds::default();
    let w = b.text(ws.to_string());
    let (lo, hi) = (b.int(from), b.int(to));
    let ch = match channel {
        Some(ch) => format!(" AND channel = {}", b.text(ch)),
        None => String::new(),
    };
    let sql = format!(
        "SELECT local_day, local_hour, CAST(SUM(created) AS BIGINT) AS n FROM analytics_hourly
         WHERE workspace_id = {w} AND local_day >= {lo} AND local_day <= {hi}{ch}
         GROUP BY local_day, local_hour"
    );
    b.query(sql)
        .fetch_all(&mut *c)
        .await?
        .iter()
        .map(|r| Ok((int(r, "local_day")?, int(r, "local_hour")? as u8, int(r, "n")?)))
        .collect()
}

/// Which cases a drill-down lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseSet {
    All,
    Solved,
    Open,
    Fcr,
    NotFcr,
    Reopened,
    Breached,
    Repeat,
    Responded,
    /// Solved or closed (last) within the period, whenever created: an agent's handled tickets.
    Handled,
    /// Not solved or closed now, whenever created: an agent's open load.
    OpenNow,
}

impl CaseSet {
    fn sql(self) -> &'static str {
        match self {
            CaseSet::All => "",
            CaseSet::Solved => " AND f.done_at IS NOT NULL",
            CaseSet::Open => " AND f.done_at IS NULL",
            CaseSet::Fcr => " AND f.fcr = 1",
            CaseSet::NotFcr => " AND f.done_at IS NOT NULL AND f.fcr = 0",
            CaseSet::Reopened => " AND f.reopens > 0",
            CaseSet::Breached => " AND f.sla_breached = 1",
            CaseSet::Repeat => " AND f.is_repeat = 1 AND f.complaint = 1",
            CaseSet::Responded => " AND f.frt_bh IS NOT NULL",
            CaseSet::Handled => "",
            CaseSet::OpenNow => " AND f.done_at IS NULL",
        }
    }
}

/// One case behind a figure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    pub ticket_id: String,
    pub number: i64,
    pub subject: String,
    pub conversation_id: String,
    pub fact: FactRow,
}

/// The cases created in `[from, to)` (instants) matching the filter, newest first.
#[allow(clippy::too_many_arguments)]
pub async fn cases(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    from: Timestamp,
    to: Timestamp,
    f: &Filter,
    set: CaseSet,
    hour: Option<(u8, u8)>,
    page: &crate::Page,
) -> Result<Vec<Case>> {
    let mut b = Binds::default();
    let w = b.text(ws.to_string());
    let mut filt = f.sql(&mut b, "f.");
    if let Some(a) = &f.assignee_id {
        filt.push_str(&format!(" AND f.assignee_id = {}", b.text(a.clone())));
    }
    // Most sets are tickets created in the period; `handled` is by done time, `open_now` now.
    let col = match set {
        CaseSet::Handled => Some("f.done_at"),
        CaseSet::OpenNow => None,
        _ => Some("f.created_at"),
    };
    let period = match col {
        Some(col) => {
            let (lo, hi) = (b.int(from.millis()), b.int(to.millis()));
            format!(" AND {col} >= {lo} AND {col} < {hi}")
        }
        None => String::new(),
    };
    let hour_sql = match hour {
        // Weekday from the local day: 1970-01-01 was a Thursday (Monday = 0).
        Some((wd, h)) => format!(
            " AND f.local_hour = {} AND ((f.local_day + 3) % 7) = {}",
            b.int(i64::from(h)),
            b.int(i64::from(wd))
        ),
        None => String::new(),
    };
    let tail = page.sql(&mut b, "f.created_at", "f.ticket_id");
    let cols: Vec<String> = FACT_COLS.split(',').map(|c| format!("f.{}", c.trim())).collect();
    let sql = format!(
        "SELECT {}, t.number, t.subject, t.conversation_id FROM ticket_facts f JOIN tickets t ON t.id = f.ticket_id
         WHERE f.workspace_id = {w}{period}{filt}{}{hour_sql}{tail}",
        cols.join(", "),
        set.sql()
    );
    let rows = b.query(sql).fetch_all(&mut *c).await.context("listing analytics cases")?;
    rows.iter()
        .map(|r| {
            Ok(Case {
                ticket_id: text(r, "ticket_id")?,
                number: int(r, "number")?,
                subject: text(r, "subject")?,
                conversation_id: text(r, "conversation_id")?,
                fact: fact_row(r)?,
            })
        })
        .collect()
}

/// Synthetic volume for `huiting bench analytics`: rows written straight into the tables
/// (no events, no audit: the benchmark measures reads over the volume, then rebuilds the
/// rollups from it). Ids are UUID-shaped and increase with the index, so B-trees append.
pub mod synth {
    use anyhow::Context;
    use domain::{Timestamp, WorkspaceId};
    use sqlx::AnyConnection;
    use workflow::TicketEvent;

    use crate::{Binds, Result};

    /// An id of `kind` (1 customer, 2 conversation, 3 ticket, 4 team) and index `i`.
    pub fn id(kind: u32, i: u64) -> String {
        format!("00000000-0000-7000-8{kind:03x}-{i:012x}")
    }

    pub struct Ticket {
        pub index: u64,
        pub number: i64,
        pub customer: u64,
        pub channel: &'static str,
        pub problem_code: Option<String>,
        pub team: Option<u64>,
        pub status: &'static str,
        pub created_at: Timestamp,
        pub solved_at: Option<Timestamp>,
        pub repeat: bool,
        pub breached: bool,
        pub inputs: Vec<TicketEvent>,
    }

    /// Customers `0..n` and teams `0..teams`, server-side.
    pub async fn base(
        c: &mut AnyConnection,
        ws: WorkspaceId,
        customers: u64,
        teams: u64,
        at: Timestamp,
    ) -> Result<()> {
        for chunk in (0..customers).collect::<Vec<_>>().chunks(5_000) {
            let mut b = Binds::default();
            let w = b.text(ws.to_string());
            let t = b.int(at.millis());
            let rows: Vec<String> = chunk
                .iter()
                .map(|i| {
                    format!(
                        "({}, {w}, {}, 'ordinary', '{{}}', NULL, {t}, {t})",
                        b.text(id(1, *i)),
                        b.text(format!("客户{i}"))
                    )
                })
                .collect();
            let sql = format!(
                "INSERT INTO customers (id, workspace_id, name, tier, attributes, merged_into, created_at, updated_at) VALUES {}",
                rows.join(", ")
            );
            b.query(sql).execute(&mut *c).await.context("writing customers")?;
        }
        for i in 0..teams {
            sqlx::query(
                "INSERT INTO teams (id, workspace_id, name, kind, department, skills, created_at) VALUES ($1, $2, $3, 'frontline', NULL, '[]', $4)",
            )
            .bind(id(4, i))
            .bind(ws.to_string())
            .bind(format!("Team {i}"))
            .bind(at.millis())
            .execute(&mut *c)
            .await
            .context("writing teams")?;
        }
        Ok(())
    }

    /// Tickets with their conversations, clock inputs, SLA summary and breaches.
    pub async fn tickets(c: &mut AnyConnection, ws: WorkspaceId, ts: &[Ticket]) -> Result<()> {
        let w = ws.to_string();
        for chunk in ts.chunks(1_000) {
            let mut b = Binds::default();
            let wp = b.text(w.clone());
            let rows: Vec<String> = chunk
                .iter()
                .map(|t| {
                    let at = b.int(t.created_at.millis());
                    format!(
                        "({}, {wp}, {}, {}, NULL, 'open', 'human', NULL, NULL, {at}, {at}, {at})",
                        b.text(id(2, t.index)),
                        b.text(id(1, t.customer)),
                        b.text(t.channel)
                    )
                })
                .collect();
            let sql = format!(
                "INSERT INTO conversations (id, workspace_id, customer_id, channel, subject, status, handler, assignee_id, team_id, last_message_at, created_at, updated_at) VALUES {}",
                rows.join(", ")
            );
            b.query(sql).execute(&mut *c).await.context("writing conversations")?;

            let mut b = Binds::default();
            let wp = b.text(w.clone());
            let rows: Vec<String> = chunk
                .iter()
                .map(|t| {
                    let tags = if t.repeat { "[\"repeat\"]" } else { "[]" };
                    let solved = t.solved_at.map_or("NULL".to_string(), |s| b.int(s.millis()));
                    let pc = b.opt_text(t.problem_code.clone());
                    let team = b.opt_text(t.team.map(|x| id(4, x)));
                    format!(
                        "({}, {wp}, {}, {}, {}, {}, {}, {pc}, 'L3', 'normal', {}, NULL, NULL, {team}, {}, '{{}}', {}, {}, {}, {solved}, NULL)",
                        b.text(id(3, t.index)),
                        b.int(t.number),
                        b.text(format!("工单 {}", t.number)),
                        b.text(id(1, t.customer)),
                        b.text(id(2, t.index)),
                        b.text(t.channel),
                        b.text(t.status),
                        b.text(tags),
                        b.text(format!("bench-{}", t.index)),
                        b.int(t.created_at.millis()),
                        b.int(t.solved_at.unwrap_or(t.created_at).millis()),
                    )
                })
                .collect();
            let sql = format!(
                "INSERT INTO tickets (id, workspace_id, number, subject, customer_id, conversation_id, channel, problem_code, severity, urgency, status, stage, assignee_id, team_id, tags, custom_fields, tracking_token, created_at, updated_at, solved_at, closed_at) VALUES {}",
                rows.join(", ")
            );
            b.query(sql).execute(&mut *c).await.context("writing tickets")?;
            // Tickets created later through the app take numbers after these.
            let top = chunk.iter().map(|t| t.number).max().unwrap_or(0);
            sqlx::query(
                "UPDATE workspace_heads SET ticket_seq = CASE WHEN ticket_seq < $1 THEN $1 ELSE ticket_seq END WHERE workspace_id = $2",
            )
            .bind(top)
            .bind(w.clone())
            .execute(&mut *c)
            .await
            .context("advancing the ticket number")?;

            let mut b = Binds::default();
            let wp = b.text(w.clone());
            let mut rows = Vec::new();
            for t in chunk {
                let tid = b.text(id(3, t.index));
                for (seq, e) in t.inputs.iter().enumerate() {
                    let (kind, status, public) = match *e {
                        TicketEvent::Created { .. } => ("created", None, 0),
                        TicketEvent::StatusChanged { to, .. } => ("status", Some(to.as_str()), 0),
                        TicketEvent::AgentReplied { public, .. } => {
                            ("agent_reply", None, i64::from(public))
                        }
                        TicketEvent::CustomerReplied { .. } => ("customer_reply", None, 0),
                    };
                    rows.push(format!(
                        "({wp}, {tid}, {}, '{kind}', {}, {}, {public})",
                        b.int(seq as i64),
                        b.int(e.at().millis()),
                        b.opt_text(status.map(str::to_string)),
                    ));
                }
            }
            let sql = format!(
                "INSERT INTO sla_inputs (workspace_id, ticket_id, seq, kind, at, status, public) VALUES {}",
                rows.join(", ")
            );
            b.query(sql).execute(&mut *c).await.context("writing clock inputs")?;

            let mut b = Binds::default();
            let wp = b.text(w.clone());
            let rows: Vec<String> = chunk
                .iter()
                .map(|t| {
                    format!(
                        "({}, {wp}, 'bench', {}, NULL, NULL, NULL)",
                        b.text(id(3, t.index)),
                        b.int(t.created_at.millis())
                    )
                })
                .collect();
            let sql = format!(
                "INSERT INTO ticket_sla (ticket_id, workspace_id, policy, evaluated_at, breach_at, timer_due, timer_job) VALUES {}",
                rows.join(", ")
            );
            b.query(sql).execute(&mut *c).await.context("writing SLA summaries")?;

            let breached: Vec<&Ticket> = chunk.iter().filter(|t| t.breached).collect();
            if !breached.is_empty() {
                let mut b = Binds::default();
                let wp = b.text(w.clone());
                let rows: Vec<String> = breached
                    .iter()
                    .map(|t| {
                        let at = b.int(t.created_at.millis() + 4 * 3_600_000);
                        format!(
                            "({wp}, {}, 'first_response', 0, 'breached', {at}, {at})",
                            b.text(id(3, t.index))
                        )
                    })
                    .collect();
                let sql = format!(
                    "INSERT INTO sla_events (workspace_id, ticket_id, metric, cycle, kind, at, recorded_at) VALUES {}",
                    rows.join(", ")
                );
                b.query(sql).execute(&mut *c).await.context("writing SLA events")?;
            }
        }
        Ok(())
    }

    /// `per` messages (alternating customer and agent, a minute apart) in each conversation of
    /// tickets `from..to` (indexes), generated by the database.
    pub async fn messages(
        c: &mut AnyConnection,
        ws: WorkspaceId,
        from: u64,
        to: u64,
        per: u32,
    ) -> Result<u64> {
        let sql = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $4)
             INSERT INTO messages (id, workspace_id, conversation_id, sender, author_id, visibility, body, attachments, idempotency_key, created_at)
             SELECT c.id || '.' || CAST(n.i AS TEXT), c.workspace_id, c.id,
                    CASE WHEN n.i % 2 = 1 THEN 'customer' ELSE 'agent' END, NULL, 'public',
                    CASE WHEN n.i % 2 = 1 THEN '你好，我的订单还没有到，麻烦查一下物流' ELSE '您好，已为您查询，预计明天送达' END,
                    '[]', NULL, c.created_at + n.i * 60000
             FROM conversations c CROSS JOIN n
             WHERE c.workspace_id = $1 AND c.id >= $2 AND c.id < $3";
        let r = sqlx::query(sql)
            .bind(ws.to_string())
            .bind(id(2, from))
            .bind(id(2, to))
            .bind(i64::from(per))
            .execute(c)
            .await
            .context("writing messages")?;
        Ok(r.rows_affected())
    }
}

fn signal_filter(b: &mut Binds, f: &Filter) -> String {
    let mut s = String::new();
    if let Some(ch) = &f.channel {
        s.push_str(&format!(" AND channel = {}", b.text(ch.clone())));
    }
    if let Some(pc) = &f.problem_code {
        s.push_str(&format!(" AND problem_code = {}", b.text(pc.clone())));
    }
    if let Some(t) = &f.team_id {
        s.push_str(&format!(
            " AND ticket_id IN (SELECT id FROM tickets WHERE workspace_id = $1 AND team_id = {})",
            b.text(t.clone())
        ));
    }
    s
}

/// Answered survey scores in `[from, to)` by answer time: (kind, score, answers).
pub async fn survey_scores(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    from: Timestamp,
    to: Timestamp,
    f: &Filter,
) -> Result<Vec<(String, i64, i64)>> {
    let mut b = Binds::default();
    b.text(ws.to_string());
    let (lo, hi) = (b.int(from.millis()), b.int(to.millis()));
    let mut filt = String::new();
    if let Some(ch) = &f.channel {
        filt.push_str(&format!(" AND channel = {}", b.text(ch.clone())));
    }
    if let Some(t) = &f.team_id {
        filt.push_str(&format!(" AND team_id = {}", b.text(t.clone())));
    }
    if let Some(pc) = &f.problem_code {
        filt.push_str(&format!(
            " AND ticket_id IN (SELECT id FROM tickets WHERE workspace_id = $1 AND problem_code = {})",
            b.text(pc.clone())
        ));
    }
    let sql = format!(
        "SELECT kind, score, COUNT(*) AS n FROM surveys
         WHERE workspace_id = $1 AND status = 'answered' AND score IS NOT NULL
           AND answered_at >= {lo} AND answered_at < {hi}{filt}
         GROUP BY kind, score"
    );
    b.query(sql)
        .fetch_all(&mut *c)
        .await
        .context("reading survey scores")?
        .iter()
        .map(|r| Ok((text(r, "kind")?, int(r, "score")?, int(r, "n")?)))
        .collect()
}

/// Classified messages and feedback in `[from, to)`: (local day, sentiment, kind, count), the
/// day computed with a fixed UTC offset (the calendar's at the period start).
pub async fn signals(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    from: Timestamp,
    to: Timestamp,
    offset_ms: i64,
    f: &Filter,
) -> Result<Vec<(i64, String, String, i64)>> {
    let mut b = Binds::default();
    b.text(ws.to_string());
    let (lo, hi) = (b.int(from.millis()), b.int(to.millis()));
    let off = b.int(offset_ms);
    let filt = signal_filter(&mut b, f);
    let sql = format!(
        "SELECT (created_at + {off}) / 86400000 AS local_day, sentiment, kind, COUNT(*) AS n FROM content_signals
         WHERE workspace_id = $1 AND created_at >= {lo} AND created_at < {hi}{filt}
         GROUP BY (created_at + {off}) / 86400000, sentiment, kind"
    );
    b.query(sql)
        .fetch_all(&mut *c)
        .await
        .context("reading content signals")?
        .iter()
        .map(|r| Ok((int(r, "local_day")?, text(r, "sentiment")?, text(r, "kind")?, int(r, "n")?)))
        .collect()
}
