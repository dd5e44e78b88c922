//! Analytics (AN-1, AN-4): KPIs, trends, Pareto, heat map and the cases behind them, as JSON
//! shaped for charts (labels plus arrays) or as CSV / XLSX (`?format=`). Supervisors and above.

use std::collections::BTreeMap;

use app::{
    analytics::{self as an, Grain, Query as AQ, Table},
    auth::{Agent, Supervisor},
    bot::kb_io::SheetFormat,
};
use axum::{
    extract::State,
    http::header,
    response::{IntoResponse, Response},
};
use domain::ParseError;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use workflow::analytics::{CostModel, day_label};

use crate::{
    AppState,
    dto::Page,
    error::ApiResult,
    extract::{Cap, Query},
    routes::{Errors, page_of, paginate},
};

use axum::Json as J;

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// The period and filters shared by every analytics read.
#[derive(Debug, Deserialize, IntoParams)]
pub struct PeriodParams {
    /// First local day (`YYYY-MM-DD`, the workspace calendar's zone); default 29 days before `to`.
    pub from: Option<String>,
    /// Last local day, inclusive; default today.
    pub to: Option<String>,
    /// Only this channel.
    pub channel: Option<String>,
    /// Only this problem code.
    pub problem_code: Option<String>,
    /// Only this team.
    pub team_id: Option<String>,
    /// Cost of one agent hour in fen for cost per case (default 6000 = 60 元).
    pub agent_hour_fen: Option<i64>,
    /// `json` (default), `csv` or `xlsx`.
    pub format: Option<String>,
}

/// Trend buckets and series.
#[derive(Debug, Deserialize, IntoParams)]
pub struct TrendParams {
    /// `day` (default), `week` (ISO, Monday first) or `month`.
    pub grain: Option<String>,
    /// One series per `channel`, `problem_code` or `team`; one series `all` without.
    pub by: Option<String>,
}

/// Which cases to list.
#[derive(Debug, Deserialize, IntoParams)]
pub struct CaseParams {
    /// all (default), solved, open (backlog), fcr, not_fcr, reopened, breached, repeat,
    /// responded — tickets created in the period; `handled`: solved or closed (last) in the
    /// period; `open_now`: not solved or closed now, whatever the period.
    pub set: Option<String>,
    /// Only tickets counted under this agent (their current assignee).
    pub agent_id: Option<String>,
    /// With `hour`: one heat-map cell (0 = Monday).
    pub weekday: Option<u8>,
    pub hour: Option<u8>,
    /// 1 to 200 (default 50).
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

enum Out {
    Json,
    Sheet(SheetFormat),
}

fn out_of(p: &PeriodParams) -> Result<Out, ParseError> {
    match p.format.as_deref() {
        None | Some("json") => Ok(Out::Json),
        Some(f) => SheetFormat::parse(f).map(Out::Sheet),
    }
}

async fn query_of(s: &AppState, who: &Supervisor, p: &PeriodParams) -> ApiResult<AQ> {
    let today = s.app.analytics_today(who.workspace).await?;
    let mut q = AQ::parse(p.from.as_deref(), p.to.as_deref(), today)?;
    let nonempty = |v: &Option<String>| v.clone().filter(|s| !s.trim().is_empty());
    q.filter.channel = nonempty(&p.channel);
    q.filter.problem_code = nonempty(&p.problem_code);
    q.filter.team_id = nonempty(&p.team_id);
    if let Some(c) = p.agent_hour_fen {
        if !(0..=10_000_000).contains(&c) {
            return Err(ParseError::new("agent_hour_fen", "0 to 10000000 fen").into());
        }
        q.cost = CostModel { agent_hour_fen: c };
    }
    Ok(q)
}

fn sheet(t: &Table, f: SheetFormat, name: &str) -> ApiResult<Response> {
    let bytes = an::write_table(t, f)?;
    let (ct, ext) = match f {
        SheetFormat::Csv => ("text/csv; charset=utf-8", "csv"),
        SheetFormat::Xlsx => (XLSX, "xlsx"),
    };
    Ok((
        [
            (header::CONTENT_TYPE, ct.to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}.{ext}\"")),
        ],
        bytes,
    )
        .into_response())
}

/// KPIs of a period. Times are mean milliseconds of business time in the workspace's SLA
/// calendar (`*_wall_ms`: wall-clock), rates 0–1, `null` when nothing was counted.
#[derive(Debug, Serialize, ToSchema)]
pub struct KpisDto {
    pub from: String,
    pub to: String,
    /// Tickets created in the period.
    pub created: i64,
    /// Of those, solved or closed now.
    pub solved: i64,
    /// Open tickets at the end of the period.
    pub backlog: i64,
    pub first_response_ms: Option<f64>,
    pub first_response_wall_ms: Option<f64>,
    pub next_reply_ms: Option<f64>,
    pub handle_ms: Option<f64>,
    pub resolution_ms: Option<f64>,
    pub resolution_wall_ms: Option<f64>,
    pub closure_rate: Option<f64>,
    pub fcr_rate: Option<f64>,
    pub reopen_rate: Option<f64>,
    pub sla_attainment: Option<f64>,
    pub repeat_complaint_rate: Option<f64>,
    pub cost_per_case_fen: Option<f64>,
    pub bot_conversations: i64,
    pub bot_containment: Option<f64>,
    pub handoff_rate: Option<f64>,
    /// Share of CSAT answers scoring 4–5.
    pub csat: Option<f64>,
    pub csat_answers: i64,
    /// −100…100.
    pub nps: Option<f64>,
    pub nps_answers: i64,
    /// Mean CES (1–7).
    pub ces: Option<f64>,
    pub ces_answers: i64,
}

/// KPIs of a period (AN-4); `?format=csv|xlsx` for a metric/value sheet.
#[utoipa::path(get, path = "/api/v1/analytics/kpis", tag = "analytics", params(PeriodParams),
    responses((status = 200, content((KpisDto = "application/json"), (Vec<u8> = "text/csv"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))), Errors))]
pub async fn kpis(
    State(s): State<AppState>,
    Cap(who): Cap<Supervisor>,
    Query(p): Query<PeriodParams>,
) -> ApiResult<Response> {
    let out = out_of(&p)?;
    let q = query_of(&s, &who, &p).await?;
    let r = s.app.analytics_kpis(&who, &q).await?;
    if let Out::Sheet(f) = out {
        return sheet(&r.table(), f, "kpis");
    }
    let k = &r.kpis;
    Ok(J(KpisDto {
        from: day_label(r.from),
        to: day_label(r.to),
        created: k.created,
        solved: k.solved,
        backlog: r.backlog,
        first_response_ms: k.first_response_ms,
        first_response_wall_ms: k.first_response_wall_ms,
        next_reply_ms: k.next_reply_ms,
        handle_ms: k.handle_ms,
        resolution_ms: k.resolution_ms,
        resolution_wall_ms: k.resolution_wall_ms,
        closure_rate: k.closure_rate,
        fcr_rate: k.fcr_rate,
        reopen_rate: k.reopen_rate,
        sla_attainment: k.sla_attainment,
        repeat_complaint_rate: k.repeat_complaint_rate,
        cost_per_case_fen: k.cost_per_case_fen,
        bot_conversations: r.bot_conversations,
        bot_containment: r.bot_containment,
        handoff_rate: r.handoff_rate,
        csat: r.surveys.csat,
        csat_answers: r.surveys.csat_answers,
        nps: r.surveys.nps,
        nps_answers: r.surveys.nps_answers,
        ces: r.surveys.ces,
        ces_answers: r.surveys.ces_answers,
    })
    .into_response())
}

/// One series: a value of the `by` dimension (`""` = none) or `all`, and one array per
/// metric, aligned with `labels`.
#[derive(Debug, Serialize, ToSchema)]
pub struct SeriesDto {
    pub key: String,
    /// Metric name (as in `KpisDto`, plus `backlog` at each bucket's end) → values per label.
    pub values: BTreeMap<String, Vec<Option<f64>>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TrendDto {
    pub grain: String,
    /// Each bucket's first day (`YYYY-MM-DD`).
    pub labels: Vec<String>,
    pub series: Vec<SeriesDto>,
}

/// KPIs per day / week / month, optionally one series per channel, problem code or team
/// (AN-1). Tickets count in the bucket of the day they were created.
#[utoipa::path(get, path = "/api/v1/analytics/trends", tag = "analytics", params(PeriodParams, TrendParams),
    responses((status = 200, content((TrendDto = "application/json"), (Vec<u8> = "text/csv"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))), Errors))]
pub async fn trends(
    State(s): State<AppState>,
    Cap(who): Cap<Supervisor>,
    Query(p): Query<PeriodParams>,
    Query(t): Query<TrendParams>,
) -> ApiResult<Response> {
    let out = out_of(&p)?;
    let grain = t.grain.as_deref().map(Grain::parse).transpose()?.unwrap_or(Grain::Day);
    let by = t.by.as_deref().map(an::parse_dim).transpose()?;
    let q = query_of(&s, &who, &p).await?;
    let r = s.app.analytics_trend(&who, &q, grain, by).await?;
    if let Out::Sheet(f) = out {
        return sheet(&r.table(), f, "trends");
    }
    let series = r
        .series
        .iter()
        .map(|x| {
            let mut values: BTreeMap<String, Vec<Option<f64>>> = an::KPI_COLUMNS
                .iter()
                .map(|k| (k.to_string(), x.points.iter().map(|p| an::kpi_value(p, k)).collect()))
                .collect();
            values.insert("backlog".into(), x.backlog.iter().map(|b| Some(*b as f64)).collect());
            SeriesDto { key: x.key.clone(), values }
        })
        .collect();
    let grain = match grain {
        Grain::Day => "day",
        Grain::Week => "week",
        Grain::Month => "month",
    };
    Ok(J(TrendDto { grain: grain.into(), labels: r.labels, series }).into_response())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ParetoBarDto {
    pub problem_code: String,
    pub tickets: i64,
    pub share: f64,
    pub cumulative: f64,
    /// Among the codes that together make up the first 80 %.
    pub vital: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ParetoDto {
    /// Problem codes by tickets created, most first.
    pub bars: Vec<ParetoBarDto>,
    /// Tickets without a problem code (not in the bars).
    pub uncoded: i64,
}

/// Problem codes ranked by tickets created with cumulative shares (Pareto 80/20, AN-1).
#[utoipa::path(get, path = "/api/v1/analytics/pareto", tag = "analytics", params(PeriodParams),
    responses((status = 200, content((ParetoDto = "application/json"), (Vec<u8> = "text/csv"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))), Errors))]
pub async fn pareto(
    State(s): State<AppState>,
    Cap(who): Cap<Supervisor>,
    Query(p): Query<PeriodParams>,
) -> ApiResult<Response> {
    let out = out_of(&p)?;
    let q = query_of(&s, &who, &p).await?;
    let r = s.app.analytics_pareto(&who, &q).await?;
    if let Out::Sheet(f) = out {
        return sheet(&r.table(), f, "pareto");
    }
    Ok(J(ParetoDto {
        bars: r
            .bars
            .into_iter()
            .map(|b| ParetoBarDto {
                problem_code: b.key,
                tickets: b.count,
                share: b.share,
                cumulative: b.cumulative,
                vital: b.vital,
            })
            .collect(),
        uncoded: r.uncoded,
    })
    .into_response())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HeatMapDto {
    /// Row labels, Monday first.
    pub weekdays: Vec<String>,
    /// Column labels, 0–23 (local hours).
    pub hours: Vec<u8>,
    /// `cells[weekday][hour]`: tickets created.
    pub cells: Vec<Vec<i64>>,
    pub max: i64,
}

/// Tickets created per weekday × local hour (AN-1); filters by channel only.
#[utoipa::path(get, path = "/api/v1/analytics/heatmap", tag = "analytics", params(PeriodParams),
    responses((status = 200, content((HeatMapDto = "application/json"), (Vec<u8> = "text/csv"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))), Errors))]
pub async fn heatmap(
    State(s): State<AppState>,
    Cap(who): Cap<Supervisor>,
    Query(p): Query<PeriodParams>,
) -> ApiResult<Response> {
    let out = out_of(&p)?;
    let q = query_of(&s, &who, &p).await?;
    let r = s.app.analytics_heatmap(&who, &q).await?;
    if let Out::Sheet(f) = out {
        return sheet(&r.table(), f, "heatmap");
    }
    Ok(J(HeatMapDto {
        weekdays: an::WEEKDAYS.iter().map(|s| s.to_string()).collect(),
        hours: (0..24).collect(),
        cells: r.cells.iter().map(|r| r.to_vec()).collect(),
        max: r.max,
    })
    .into_response())
}

/// One case behind a figure.
#[derive(Debug, Serialize, ToSchema)]
pub struct AnalyticsCaseDto {
    pub ticket_id: String,
    pub number: i64,
    pub subject: String,
    pub conversation_id: String,
    pub status: String,
    pub channel: String,
    pub problem_code: Option<String>,
    pub team_id: Option<String>,
    /// Unix ms.
    pub created_at: i64,
    pub first_response_ms: Option<i64>,
    pub resolution_ms: Option<i64>,
    pub handle_ms: i64,
    pub agent_replies: i64,
    pub reopens: i64,
    pub fcr: bool,
    pub sla_breached: bool,
    pub repeat: bool,
}

/// The tickets behind any figure (drill-down): created in the period, matching the filters,
/// the set and optionally one heat-map cell; newest first.
#[utoipa::path(get, path = "/api/v1/analytics/cases", tag = "analytics", params(PeriodParams, CaseParams),
    responses((status = 200, content((Page<AnalyticsCaseDto> = "application/json"), (Vec<u8> = "text/csv"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))), Errors))]
pub async fn cases(
    State(s): State<AppState>,
    Cap(who): Cap<Supervisor>,
    Query(p): Query<PeriodParams>,
    Query(c): Query<CaseParams>,
) -> ApiResult<Response> {
    let out = out_of(&p)?;
    let set = c.set.as_deref().map(an::parse_case_set).transpose()?.unwrap_or(db_all());
    let cell = match (c.weekday, c.hour) {
        (Some(w), Some(h)) => Some((w, h)),
        (None, None) => None,
        _ => return Err(ParseError::new("hour", "give both weekday and hour, or neither").into()),
    };
    let page = match out {
        // An export lists up to 10 000 cases in one sheet.
        Out::Sheet(_) => app::db::Page { limit: 10_001, before: None },
        Out::Json => page_of(c.limit, c.cursor.as_deref())?,
    };
    let mut q = query_of(&s, &who, &p).await?;
    if let Some(a) = c.agent_id.as_deref().filter(|a| !a.trim().is_empty()) {
        q.filter.assignee_id = Some(domain::UserId::parse(a.trim())?.to_string());
    }
    let rows = s.app.analytics_cases(&who, &q, set, cell, &page).await?;
    if let Out::Sheet(f) = out {
        let rows: Vec<_> = rows.into_iter().take(10_000).collect();
        return sheet(&an::cases_table(&rows), f, "cases");
    }
    let nonempty = |s: &str| (!s.is_empty()).then(|| s.to_string());
    Ok(J(paginate(
        rows,
        &page,
        |r| (r.fact.facts.created_at.millis(), r.ticket_id.clone()),
        |r| {
            let f = &r.fact.facts;
            AnalyticsCaseDto {
                ticket_id: r.ticket_id.clone(),
                number: r.number,
                subject: r.subject.clone(),
                conversation_id: r.conversation_id.clone(),
                status: r.fact.status.clone(),
                channel: r.fact.dims.channel.clone(),
                problem_code: nonempty(&r.fact.dims.problem_code),
                team_id: nonempty(&r.fact.dims.team_id),
                created_at: f.created_at.millis(),
                first_response_ms: f.frt_bh,
                resolution_ms: f.res_bh,
                handle_ms: f.handle_bh,
                agent_replies: f.agent_replies,
                reopens: f.reopens,
                fcr: f.fcr,
                sla_breached: f.extra.sla_breached,
                repeat: f.extra.repeat && f.extra.complaint,
            }
        },
    ))
    .into_response())
}

/// The period and team of the agent table.
#[derive(Debug, Deserialize, IntoParams)]
pub struct AgentParams {
    /// First local day (`YYYY-MM-DD`); default 29 days before `to`.
    pub from: Option<String>,
    /// Last local day, inclusive; default today.
    pub to: Option<String>,
    /// Only this team's tickets (and surveys); lists the team's members even without figures.
    pub team_id: Option<String>,
    /// `json` (default), `csv` or `xlsx`.
    pub format: Option<String>,
}

/// One agent's KPIs over the period (definitions in docs/metrics.md, "Agent metrics").
#[derive(Debug, Serialize, ToSchema)]
pub struct AgentKpisDto {
    pub agent_id: String,
    pub name: String,
    /// Assigned tickets solved or closed (last) in the period, whenever created.
    pub handled: i64,
    /// Assigned tickets created in the period, and of those solved now.
    pub created: i64,
    pub solved: i64,
    /// Business ms over the assigned tickets created in the period that had a public reply.
    pub first_response_median_ms: Option<f64>,
    pub first_response_p90_ms: Option<f64>,
    pub first_response_ms: Option<f64>,
    /// Business ms over those tickets solved now.
    pub resolution_median_ms: Option<f64>,
    pub resolution_ms: Option<f64>,
    pub handle_ms: Option<f64>,
    pub reopen_rate: Option<f64>,
    pub sla_attainment: Option<f64>,
    pub fcr_rate: Option<f64>,
    /// Mean CSAT score 1–5 of answers in the period to surveys sent for this agent.
    pub csat_avg: Option<f64>,
    /// Share of those answers scoring 4–5.
    pub csat: Option<f64>,
    pub csat_answers: i64,
    /// Tickets / chats assigned now and still open (`null` for a user routing does not serve).
    pub open_tickets: Option<i64>,
    pub open_chats: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AgentsDto {
    pub from: String,
    pub to: String,
    pub agents: Vec<AgentKpisDto>,
}

/// Per-agent KPIs (issue 6): handled tickets, first response median and p90, resolution
/// median, reopen rate, SLA attainment, CSAT and open load. Supervisors, cs_heads and admins
/// see every agent; an agent sees only their own row. `?format=csv|xlsx` for a sheet.
#[utoipa::path(get, path = "/api/v1/analytics/agents", tag = "analytics", params(AgentParams),
    responses((status = 200, content((AgentsDto = "application/json"), (Vec<u8> = "text/csv"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))), Errors))]
pub async fn agents(
    State(s): State<AppState>,
    Cap(who): Cap<Agent>,
    Query(p): Query<AgentParams>,
) -> ApiResult<Response> {
    let out = match p.format.as_deref() {
        None | Some("json") => Out::Json,
        Some(f) => Out::Sheet(SheetFormat::parse(f)?),
    };
    let today = s.app.analytics_today(who.workspace).await?;
    let q = AQ::parse(p.from.as_deref(), p.to.as_deref(), today)?;
    let team = match p.team_id.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        Some(t) => Some(domain::TeamId::parse(t)?),
        None => None,
    };
    let rows = s.app.analytics_agents(&who, &q, team).await?;
    if let Out::Sheet(f) = out {
        return sheet(&an::agents_table(&rows), f, "agents");
    }
    let agents = rows
        .into_iter()
        .map(|r| AgentKpisDto {
            agent_id: r.agent.to_string(),
            name: r.name,
            handled: r.handled,
            created: r.kpis.created,
            solved: r.kpis.solved,
            first_response_median_ms: r.first_response_median_ms,
            first_response_p90_ms: r.first_response_p90_ms,
            first_response_ms: r.kpis.first_response_ms,
            resolution_median_ms: r.resolution_median_ms,
            resolution_ms: r.kpis.resolution_ms,
            handle_ms: r.kpis.handle_ms,
            reopen_rate: r.kpis.reopen_rate,
            sla_attainment: r.kpis.sla_attainment,
            fcr_rate: r.kpis.fcr_rate,
            csat_avg: r.csat_avg,
            csat: r.csat,
            csat_answers: r.csat_answers,
            open_tickets: r.open_tickets,
            open_chats: r.open_chats,
        })
        .collect();
    Ok(J(AgentsDto { from: day_label(q.from), to: day_label(q.to), agents }).into_response())
}

fn db_all() -> app::db::analytics::CaseSet {
    app::db::analytics::CaseSet::All
}

/// Sentiment buckets.
#[derive(Debug, Deserialize, IntoParams)]
pub struct GrainParams {
    /// `day` (default), `week` or `month`.
    pub grain: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SentimentKindDto {
    /// inquiry, complaint or suggestion
    pub kind: String,
    pub positive: i64,
    pub neutral: i64,
    pub negative: i64,
}

/// Sentiment of classified inbound messages and feedback (AN-2).
#[derive(Debug, Serialize, ToSchema)]
pub struct SentimentDto {
    pub grain: String,
    pub labels: Vec<String>,
    pub positive: Vec<i64>,
    pub neutral: Vec<i64>,
    pub negative: Vec<i64>,
    /// Negative / all, per label (`null` without signals).
    pub negative_share: Vec<Option<f64>>,
    /// Over the whole period.
    pub positive_share: Option<f64>,
    pub neutral_share: Option<f64>,
    pub negative_share_total: Option<f64>,
    pub by_kind: Vec<SentimentKindDto>,
}

/// Sentiment share of classified messages and feedback per day / week / month (AN-2).
#[utoipa::path(get, path = "/api/v1/analytics/sentiment", tag = "analytics", params(PeriodParams, GrainParams),
    responses((status = 200, content((SentimentDto = "application/json"), (Vec<u8> = "text/csv"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))), Errors))]
pub async fn sentiment(
    State(s): State<AppState>,
    Cap(who): Cap<Supervisor>,
    Query(p): Query<PeriodParams>,
    Query(g): Query<GrainParams>,
) -> ApiResult<Response> {
    let out = out_of(&p)?;
    let grain = g.grain.as_deref().map(Grain::parse).transpose()?.unwrap_or(Grain::Day);
    let q = query_of(&s, &who, &p).await?;
    let r = s.app.analytics_sentiment(&who, &q, grain).await?;
    if let Out::Sheet(f) = out {
        return sheet(&r.table(), f, "sentiment");
    }
    let shares = r.shares();
    Ok(J(SentimentDto {
        grain: match grain {
            Grain::Day => "day",
            Grain::Week => "week",
            Grain::Month => "month",
        }
        .into(),
        negative_share: r.negative_share(),
        positive_share: shares.map(|x| x.0),
        neutral_share: shares.map(|x| x.1),
        negative_share_total: shares.map(|x| x.2),
        by_kind: r
            .by_kind
            .iter()
            .map(|(k, v)| SentimentKindDto {
                kind: k.clone(),
                positive: v[0],
                neutral: v[1],
                negative: v[2],
            })
            .collect(),
        labels: r.labels,
        positive: r.positive,
        neutral: r.neutral,
        negative: r.negative,
    })
    .into_response())
}
