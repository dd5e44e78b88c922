//! Analytics (AN-1, AN-4): KPIs, trends, Pareto, heat map and drill-down over rollups, and
//! their CSV / XLSX export. Definitions in `docs/metrics.md`; the pure computation is
//! `workflow::analytics`.
//!
//! The rollups are derived data kept up to date from the event outbox: [`App::analytics_catch_up`]
//! reads the events after the workspace's cursor, recomputes the facts of every ticket they
//! touch (ticket events by id; message events through the conversation's tickets) and upserts
//! the difference into the daily and hourly rollups, in one transaction with the cursor's move.
//! Every analytics read catches up first, so a read sees every change committed before it; the
//! hot write paths (message ingestion, ticket changes) carry no analytics work.
//! [`App::analytics_rebuild`] recomputes everything from the tickets.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use anyhow::Context;
use db::analytics::{CaseSet, Dim, Dims, FactRow, Filter, Source};
use domain::{Event, ParseError, Permission, TeamId, Timestamp, UserId, WorkspaceId};
use workflow::{
    BusinessCalendar,
    analytics::{
        self as an, CostModel, Kpis, ParetoBar, Sums, contributions, day_label, day_start,
        month_of, parse_day, week_of,
    },
};

use crate::{
    App, Error, Result,
    auth::{Agent, Supervisor},
    bot::kb_io::SheetFormat,
};

/// Events folded per catch-up transaction.
const CATCH_UP_PAGE: i64 = 2_000;
/// Tickets per rebuild page.
const REBUILD_PAGE: i64 = 2_000;
/// The longest period one read may cover.
const MAX_DAYS: i64 = 3 * 366;

/// The period and filters of a dashboard read.
#[derive(Debug, Clone, Default)]
pub struct Query {
    /// Local days, inclusive.
    pub from: i64,
    pub to: i64,
    pub filter: Filter,
    pub cost: CostModel,
}

impl Query {
    /// Reads `from` / `to` (`YYYY-MM-DD`, inclusive, in the workspace calendar's zone);
    /// defaults: the 30 days ending `today`.
    pub fn parse(from: Option<&str>, to: Option<&str>, today: i64) -> Result<Query> {
        let day = |field: &'static str, v: Option<&str>, default: i64| match v {
            None | Some("") => Ok(default),
            Some(s) => parse_day(s).ok_or_else(|| {
                ParseError::new(field, format!("{s:?} is not a date; write YYYY-MM-DD"))
            }),
        };
        let to = day("to", to, today)?;
        let from = day("from", from, to - 29)?;
        if from > to {
            return Err(ParseError::new("from", "must not be after `to`").into());
        }
        if to - from >= MAX_DAYS {
            return Err(
                ParseError::new("from", format!("a period spans at most {MAX_DAYS} days")).into()
            );
        }
        Ok(Query { from, to, ..Query::default() })
    }
}

/// Trend buckets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grain {
    Day,
    Week,
    Month,
}

impl Grain {
    pub fn parse(s: &str) -> Result<Grain, ParseError> {
        match s {
            "day" => Ok(Grain::Day),
            "week" => Ok(Grain::Week),
            "month" => Ok(Grain::Month),
            o => Err(ParseError::new("grain", format!("{o:?}: day, week or month"))),
        }
    }
    fn start(self, day: i64) -> i64 {
        match self {
            Grain::Day => day,
            Grain::Week => week_of(day),
            Grain::Month => month_of(day),
        }
    }
}

pub fn parse_dim(s: &str) -> Result<Dim, ParseError> {
    match s {
        "channel" => Ok(Dim::Channel),
        "problem_code" => Ok(Dim::ProblemCode),
        "team" => Ok(Dim::Team),
        o => Err(ParseError::new("by", format!("{o:?}: channel, problem_code or team"))),
    }
}

pub fn parse_case_set(s: &str) -> Result<CaseSet, ParseError> {
    Ok(match s {
        "all" => CaseSet::All,
        "solved" => CaseSet::Solved,
        "open" | "backlog" => CaseSet::Open,
        "fcr" => CaseSet::Fcr,
        "not_fcr" => CaseSet::NotFcr,
        "reopened" => CaseSet::Reopened,
        "breached" => CaseSet::Breached,
        "repeat" => CaseSet::Repeat,
        "responded" => CaseSet::Responded,
        "handled" => CaseSet::Handled,
        "open_now" => CaseSet::OpenNow,
        o => {
            return Err(ParseError::new(
                "set",
                format!(
                    "{o:?}: all, solved, open, fcr, not_fcr, reopened, breached, repeat, responded, handled or open_now"
                ),
            ));
        }
    })
}

/// The KPI report of a period.
#[derive(Debug, Clone, PartialEq)]
pub struct KpiReport {
    pub from: i64,
    pub to: i64,
    pub kpis: Kpis,
    /// Open tickets at the end of the period.
    pub backlog: i64,
    pub bot_conversations: i64,
    pub bot_containment: Option<f64>,
    pub handoff_rate: Option<f64>,
    pub surveys: crate::analytics::SurveyKpis,
}

/// One agent's KPIs over a period (issue 6). Ticket figures are of the tickets counted under
/// the agent (their current assignee) — the same per-ticket facts and rollup counters as the
/// team KPIs, summed by agent — so the agents of a team add up to the team.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentKpis {
    pub agent: UserId,
    /// The user's name (`""` for an id that is no user of the workspace).
    pub name: String,
    /// Assigned tickets solved or closed (last) within the period, whenever created.
    pub handled: i64,
    /// The team KPIs' figures of the assigned tickets created in the period.
    pub kpis: Kpis,
    /// Of those tickets: first response time (business ms), median and 90th percentile.
    pub first_response_median_ms: Option<f64>,
    pub first_response_p90_ms: Option<f64>,
    /// Of those tickets, solved: resolution time (business ms), median.
    pub resolution_median_ms: Option<f64>,
    /// Mean CSAT score (1–5) of surveys sent for this agent answered in the period, the share
    /// scoring 4–5 (the team KPI's `csat`), and the number of answers.
    pub csat_avg: Option<f64>,
    pub csat: Option<f64>,
    pub csat_answers: i64,
    /// Tickets and chats assigned now and not solved / closed (routing's load; `None` for a
    /// user who is not an active agent, supervisor or cs_head).
    pub open_tickets: Option<i64>,
    pub open_chats: Option<i64>,
}

/// Survey KPIs (filled once surveys exist; all `None` without answers).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct SurveyKpis {
    pub csat: Option<f64>,
    pub csat_answers: i64,
    pub nps: Option<f64>,
    pub nps_answers: i64,
    pub ces: Option<f64>,
    pub ces_answers: i64,
}

/// One series of a trend: a dimension value (or `"all"`) and its KPIs per label.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub key: String,
    pub points: Vec<Kpis>,
    pub backlog: Vec<i64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Trend {
    pub grain: Grain,
    pub labels: Vec<String>,
    pub series: Vec<Series>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Pareto {
    pub bars: Vec<ParetoBar>,
    /// Tickets without a problem code (not in the bars).
    pub uncoded: i64,
}

/// Tickets created per weekday (0 = Monday) × local hour.
#[derive(Debug, Clone, PartialEq)]
pub struct HeatMap {
    pub cells: [[i64; 24]; 7],
    pub max: i64,
}

/// Classified messages and feedback by sentiment, per bucket.
#[derive(Debug, Clone, PartialEq)]
pub struct Sentiment {
    pub grain: Grain,
    pub labels: Vec<String>,
    pub positive: Vec<i64>,
    pub neutral: Vec<i64>,
    pub negative: Vec<i64>,
    /// Per kind (inquiry, complaint, suggestion): [positive, neutral, negative].
    pub by_kind: BTreeMap<String, [i64; 3]>,
}

impl Sentiment {
    fn total(&self, v: &[i64]) -> i64 {
        v.iter().sum()
    }
    /// (positive, neutral, negative) shares over the whole period, `None` without signals.
    pub fn shares(&self) -> Option<(f64, f64, f64)> {
        let (p, u, n) =
            (self.total(&self.positive), self.total(&self.neutral), self.total(&self.negative));
        let all = p + u + n;
        (all > 0).then(|| (p as f64 / all as f64, u as f64 / all as f64, n as f64 / all as f64))
    }
    /// The negative share of each bucket.
    pub fn negative_share(&self) -> Vec<Option<f64>> {
        (0..self.labels.len())
            .map(|i| {
                an::ratio(self.negative[i], self.positive[i] + self.neutral[i] + self.negative[i])
            })
            .collect()
    }
    pub fn table(&self) -> Table {
        let share = self.negative_share();
        let rows = self
            .labels
            .iter()
            .enumerate()
            .map(|(i, l)| {
                vec![
                    Cell::from(l.as_str()),
                    self.positive[i].into(),
                    self.neutral[i].into(),
                    self.negative[i].into(),
                    share[i].into(),
                ]
            })
            .collect();
        Table {
            name: "sentiment".into(),
            headers: ["period", "positive", "neutral", "negative", "negative_share"]
                .map(String::from)
                .to_vec(),
            rows,
        }
    }
}

/// A table ready for CSV / XLSX.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub name: String,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Num(f64),
    Empty,
}

impl From<Option<f64>> for Cell {
    fn from(v: Option<f64>) -> Cell {
        v.map_or(Cell::Empty, Cell::Num)
    }
}
impl From<i64> for Cell {
    fn from(v: i64) -> Cell {
        Cell::Num(v as f64)
    }
}
impl From<&str> for Cell {
    fn from(v: &str) -> Cell {
        Cell::Text(v.to_string())
    }
}
impl From<String> for Cell {
    fn from(v: String) -> Cell {
        Cell::Text(v)
    }
}

/// The KPI columns of tables, with how each is read from [`Kpis`].
pub const KPI_COLUMNS: &[&str] = &[
    "created",
    "solved",
    "first_response_ms",
    "first_response_wall_ms",
    "next_reply_ms",
    "handle_ms",
    "resolution_ms",
    "resolution_wall_ms",
    "closure_rate",
    "fcr_rate",
    "reopen_rate",
    "sla_attainment",
    "repeat_complaint_rate",
    "cost_per_case_fen",
];

/// The value of a [`KPI_COLUMNS`] entry.
pub fn kpi_value(k: &Kpis, name: &str) -> Option<f64> {
    match name {
        "created" => Some(k.created as f64),
        "solved" => Some(k.solved as f64),
        "first_response_ms" => k.first_response_ms,
        "first_response_wall_ms" => k.first_response_wall_ms,
        "next_reply_ms" => k.next_reply_ms,
        "handle_ms" => k.handle_ms,
        "resolution_ms" => k.resolution_ms,
        "resolution_wall_ms" => k.resolution_wall_ms,
        "closure_rate" => k.closure_rate,
        "fcr_rate" => k.fcr_rate,
        "reopen_rate" => k.reopen_rate,
        "sla_attainment" => k.sla_attainment,
        "repeat_complaint_rate" => k.repeat_complaint_rate,
        "cost_per_case_fen" => k.cost_per_case_fen,
        _ => None,
    }
}

/// The calendar analytics measures business time in: the workspace's default SLA calendar
/// (`office`), else its first calendar, else 7×24 UTC.
pub(crate) fn pick_calendar(cals: &workflow::Calendars) -> BusinessCalendar {
    workflow::CalendarId::parse(workflow::defaults::DEFAULT_CALENDAR)
        .ok()
        .and_then(|id| cals.get(&id))
        .or_else(|| cals.values().next())
        .cloned()
        .unwrap_or_else(BusinessCalendar::always)
}

/// A ticket's facts from its sources.
pub fn fact_of(cal: &BusinessCalendar, s: &Source) -> FactRow {
    let extra = an::Extra {
        sla_tracked: s.sla_tracked,
        sla_breached: s.sla_breached,
        complaint: !s.dims.problem_code.is_empty(),
        repeat: s.tags.iter().any(|t| t == "repeat"),
    };
    FactRow {
        ticket_id: s.ticket_id.clone(),
        dims: s.dims.clone(),
        assignee_id: s.assignee_id.clone(),
        status: s.status.as_str().to_string(),
        facts: an::facts(cal, s.created_at, &s.inputs, extra),
    }
}

/// Rollup deltas being gathered.
#[derive(Debug, Default)]
pub struct Deltas {
    daily: HashMap<(i64, Dims), Sums>,
    hourly: HashMap<(i64, u8, String), i64>,
    /// (day, team, agent): assigned tickets only.
    agents: HashMap<(i64, String, String), Sums>,
}

impl Deltas {
    /// Adds (`sign` = 1) or removes (−1) a ticket's contributions.
    pub fn apply(&mut self, f: &FactRow, sign: i64) {
        for (day, s) in contributions(&f.facts) {
            let e = self.daily.entry((day, f.dims.clone())).or_default();
            if sign > 0 {
                e.add(&s)
            } else {
                e.sub(&s)
            }
            if !f.assignee_id.is_empty() {
                let e = self
                    .agents
                    .entry((day, f.dims.team_id.clone(), f.assignee_id.clone()))
                    .or_default();
                if sign > 0 { e.add(&s) } else { e.sub(&s) }
            }
        }
        *self
            .hourly
            .entry((f.facts.slot.day, f.facts.slot.hour, f.dims.channel.clone()))
            .or_default() += sign;
    }

    pub async fn write(self, c: &mut db::AnyConnection, ws: WorkspaceId) -> db::Result<()> {
        let daily: Vec<(i64, Dims, Sums)> = self
            .daily
            .into_iter()
            .filter(|(_, s)| !s.is_zero())
            .map(|((d, k), s)| (d, k, s))
            .collect();
        db::analytics::add_daily(c, ws, &daily).await?;
        let agents: Vec<(i64, String, String, Sums)> = self
            .agents
            .into_iter()
            .filter(|(_, s)| !s.is_zero())
            .map(|((d, t, a), s)| (d, t, a, s))
            .collect();
        db::analytics::add_agent_daily(c, ws, &agents).await?;
        let hourly: Vec<(i64, u8, String, i64)> = self
            .hourly
            .into_iter()
            .filter(|(_, n)| *n != 0)
            .map(|((d, h, ch), n)| (d, h, ch, n))
            .collect();
        db::analytics::add_hourly(c, ws, &hourly).await
    }
}

/// Which tickets an event touches: by id, or through a conversation.
fn touched(e: &Event, tickets: &mut BTreeSet<String>, convs: &mut BTreeSet<String>) {
    match e {
        Event::TicketCreated { ticket, .. }
        | Event::TicketUpdated { ticket, .. }
        | Event::TicketStatusChanged { ticket, .. }
        | Event::TicketAssigned { ticket, .. }
        | Event::SlaMetric { ticket, .. } => {
            tickets.insert(ticket.to_string());
        }
        Event::MessageCreated { conversation, .. } => {
            convs.insert(conversation.to_string());
        }
        _ => {}
    }
}

impl App {
    /// The calendar analytics uses for a workspace.
    pub async fn analytics_calendar(&self, ws: WorkspaceId) -> Result<BusinessCalendar> {
        let mut c = self.db.read().await?;
        let cfg = db::sla::config(&mut c, ws).await?;
        let cals = workflow::config::parse_calendars(&cfg.calendars).unwrap_or_default();
        Ok(pick_calendar(&cals))
    }

    /// Folds the outbox events after the cursor into facts and rollups; returns the number of
    /// tickets refreshed.
    pub async fn analytics_catch_up(&self, ws: WorkspaceId) -> Result<u64> {
        let cal = self.analytics_calendar(ws).await?;
        let mut refreshed = 0;
        loop {
            let now = self.now();
            let mut tx = self.db.derived().await?;
            let cursor = db::analytics::lock_cursor(&mut tx, self.db.dialect(), ws, now).await?;
            let evs = db::events::since(&mut tx, ws, cursor, CATCH_UP_PAGE).await?;
            let Some(last) = evs.last().map(|e| e.seq) else {
                tx.commit().await.context("committing the analytics catch-up")?;
                return Ok(refreshed);
            };
            let (mut tickets, mut convs) = (BTreeSet::new(), BTreeSet::new());
            for e in &evs {
                touched(&e.event, &mut tickets, &mut convs);
            }
            let convs: Vec<String> = convs.into_iter().collect();
            tickets.extend(db::analytics::tickets_of_conversations(&mut tx, ws, &convs).await?);
            let ids: Vec<String> = tickets.into_iter().collect();
            refreshed += self.refresh_facts(&mut tx, ws, &cal, &ids).await?;
            db::analytics::set_cursor(&mut tx, ws, last, now).await?;
            tx.commit().await.context("committing the analytics catch-up")?;
            if (evs.len() as i64) < CATCH_UP_PAGE {
                return Ok(refreshed);
            }
        }
    }

    async fn refresh_facts(
        &self,
        c: &mut db::AnyConnection,
        ws: WorkspaceId,
        cal: &BusinessCalendar,
        ids: &[String],
    ) -> Result<u64> {
        if ids.is_empty() {
            return Ok(0);
        }
        let sources = db::analytics::sources(c, ws, ids).await?;
        let old = db::analytics::facts_of(c, ids).await?;
        let mut deltas = Deltas::default();
        let mut rows = Vec::with_capacity(sources.len());
        for s in &sources {
            let new = fact_of(cal, s);
            match old.get(&s.ticket_id) {
                Some(o) if *o == new => continue,
                Some(o) => deltas.apply(o, -1),
                None => {}
            }
            deltas.apply(&new, 1);
            rows.push(new);
        }
        db::analytics::put_facts(c, ws, &rows).await?;
        deltas.write(c, ws).await?;
        Ok(rows.len() as u64)
    }

    /// Recomputes the workspace's facts and rollups from its tickets, in one transaction;
    /// `progress(done, total)` after each page. Returns the tickets counted.
    pub async fn analytics_rebuild(
        &self,
        ws: WorkspaceId,
        progress: &(dyn Fn(u64, u64) + Send + Sync),
    ) -> Result<u64> {
        let cal = self.analytics_calendar(ws).await?;
        let now = self.now();
        let mut tx = self.db.derived().await?;
        db::analytics::lock_cursor(&mut tx, self.db.dialect(), ws, now).await?;
        let head = db::events::head(&mut tx, ws).await?;
        let total = db::analytics::ticket_count(&mut tx, ws).await? as u64;
        db::analytics::clear(&mut tx, ws).await?;
        let mut deltas = Deltas::default();
        let mut after: Option<String> = None;
        let mut done = 0u64;
        loop {
            let page =
                db::analytics::source_page(&mut tx, ws, after.as_deref(), REBUILD_PAGE).await?;
            let Some(last) = page.last() else { break };
            after = Some(last.ticket_id.clone());
            let rows: Vec<FactRow> = page.iter().map(|s| fact_of(&cal, s)).collect();
            for r in &rows {
                deltas.apply(r, 1);
            }
            db::analytics::insert_facts(&mut tx, ws, &rows).await?;
            done += rows.len() as u64;
            progress(done, total);
        }
        deltas.write(&mut tx, ws).await?;
        db::analytics::set_cursor(&mut tx, ws, head, now).await?;
        tx.commit().await.context("committing the analytics rebuild")?;
        Ok(done)
    }

    /// Today's local day in the workspace's analytics calendar.
    pub async fn analytics_today(&self, ws: WorkspaceId) -> Result<i64> {
        let cal = self.analytics_calendar(ws).await?;
        Ok(an::slot(&cal, self.now()).day)
    }

    /// KPIs of a period (AN-4).
    pub async fn analytics_kpis(&self, s: &Supervisor, q: &Query) -> Result<KpiReport> {
        let ws = s.workspace;
        self.analytics_catch_up(ws).await?;
        let cal = self.analytics_calendar(ws).await?;
        let mut c = self.db.read().await?;
        let g = db::analytics::sum_daily(&mut c, ws, q.from, q.to, &q.filter, false, None).await?;
        let sums = g.first().map(|g| g.sums).unwrap_or_default();
        let backlog = db::analytics::backlog_at(&mut c, ws, q.to, &q.filter, None).await?;
        let (from, to) = (day_start(&cal, q.from), day_start(&cal, q.to + 1));
        let bot = db::bot::counts(&mut c, ws, from, to).await?;
        let surveys = self.survey_kpis(&mut c, ws, from, to, &q.filter).await?;
        Ok(KpiReport {
            from: q.from,
            to: q.to,
            kpis: an::kpis(&sums, q.cost),
            backlog: backlog.first().map_or(0, |b| b.1),
            bot_conversations: bot.conversations,
            bot_containment: an::ratio(bot.conversations - bot.handed_off, bot.conversations),
            handoff_rate: an::ratio(bot.handed_off, bot.conversations),
            surveys,
        })
    }

    /// Per-agent KPIs of a period (issue 6), optionally of one team's tickets (and then listing
    /// the team's members even without figures). Supervisors, cs_heads and admins see every
    /// agent; an agent sees only their own row.
    pub async fn analytics_agents(
        &self,
        who: &Agent,
        q: &Query,
        team: Option<TeamId>,
    ) -> Result<Vec<AgentKpis>> {
        let only = if who.allows(Permission::SuperviseCases) {
            None
        } else {
            Some(who.user.ok_or(Error::Forbidden("read agent figures without a user"))?)
        };
        let ws = who.workspace;
        self.analytics_catch_up(ws).await?;
        let cal = self.analytics_calendar(ws).await?;
        let (from, to) = (day_start(&cal, q.from), day_start(&cal, q.to + 1));
        let mut c = self.db.read().await?;
        let team_s = team.map(|t| t.to_string());
        let team_members = match team {
            Some(t) => Some(
                db::users::get_team(&mut c, ws, t).await?.ok_or(Error::NotFound("team"))?.members,
            ),
            None => None,
        };
        let sums =
            db::analytics::sum_agent_daily(&mut c, ws, q.from, q.to, team_s.as_deref()).await?;
        let durations =
            db::analytics::agent_durations(&mut c, ws, from, to, team_s.as_deref()).await?;
        let csat = db::analytics::agent_csat(&mut c, ws, from, to, team_s.as_deref()).await?;
        let load = db::routing::agents(&mut c, ws).await?;
        let users = db::users::list_users(&mut c, ws).await?;

        let mut ids: BTreeSet<String> = BTreeSet::new();
        match &team_members {
            Some(m) => ids.extend(m.iter().map(UserId::to_string)),
            None => ids.extend(load.iter().map(|a| a.id.to_string())),
        }
        ids.extend(sums.iter().map(|(a, _)| a.clone()));
        ids.extend(durations.iter().map(|(a, _, _)| a.clone()));
        ids.extend(csat.iter().map(|(a, _, _)| a.clone()));
        if let Some(me) = only {
            ids.retain(|a| *a == me.to_string());
            ids.insert(me.to_string());
        }

        let sums: HashMap<String, Sums> = sums.into_iter().collect();
        let mut frt: HashMap<&str, Vec<i64>> = HashMap::new();
        let mut res: HashMap<&str, Vec<i64>> = HashMap::new();
        for (a, f, r) in &durations {
            if let Some(f) = f {
                frt.entry(a.as_str()).or_default().push(*f);
            }
            if let Some(r) = r {
                res.entry(a.as_str()).or_default().push(*r);
            }
        }
        let mut scores: HashMap<&str, an::Scores> = HashMap::new();
        for (a, score, n) in &csat {
            if (1..=5).contains(score) {
                scores.entry(a.as_str()).or_default().add(*score, *n);
            }
        }
        let mut out = Vec::with_capacity(ids.len());
        for id in &ids {
            // Ids come from user columns; one that does not parse is not a user.
            let Ok(agent) = UserId::parse(id) else { continue };
            let s = sums.get(id).copied().unwrap_or_default();
            let mut f = frt.remove(id.as_str()).unwrap_or_default();
            let mut r = res.remove(id.as_str()).unwrap_or_default();
            let sc = scores.get(id.as_str()).copied().unwrap_or_default();
            let l = load.iter().find(|a| a.id == agent);
            out.push(AgentKpis {
                agent,
                name: users
                    .iter()
                    .find(|u| u.id == agent)
                    .map(|u| u.name.clone())
                    .unwrap_or_default(),
                handled: s.done,
                kpis: an::kpis(&s, q.cost),
                first_response_median_ms: an::quantile(&mut f, 0.5),
                first_response_p90_ms: an::quantile(&mut f, 0.9),
                resolution_median_ms: an::quantile(&mut r, 0.5),
                csat_avg: sc.mean(),
                csat: sc.csat(),
                csat_answers: sc.answered(),
                open_tickets: l.map(|a| i64::from(a.open_tickets)),
                open_chats: l.map(|a| i64::from(a.open_chats)),
            });
        }
        out.sort_by(|a, b| b.handled.cmp(&a.handled).then(a.agent.cmp(&b.agent)));
        Ok(out)
    }

    /// Survey KPIs of answers given in `[from, to)`.
    async fn survey_kpis(
        &self,
        c: &mut db::AnyConnection,
        ws: WorkspaceId,
        from: Timestamp,
        to: Timestamp,
        f: &Filter,
    ) -> Result<SurveyKpis> {
        let rows = db::analytics::survey_scores(c, ws, from, to, f).await?;
        let (mut csat, mut nps, mut ces) =
            (an::Scores::default(), an::Scores::default(), an::Scores::default());
        for (kind, score, n) in rows {
            match kind.as_str() {
                "csat" if (1..=5).contains(&score) => csat.add(score, n),
                "nps" if (0..=10).contains(&score) => nps.add(score, n),
                "ces" if (1..=7).contains(&score) => ces.add(score, n),
                _ => {}
            }
        }
        Ok(SurveyKpis {
            csat: csat.csat(),
            csat_answers: csat.answered(),
            nps: nps.nps(),
            nps_answers: nps.answered(),
            ces: ces.ces(),
            ces_answers: ces.answered(),
        })
    }

    /// Sentiment share of classified messages and feedback (AN-2), overall and per bucket.
    pub async fn analytics_sentiment(
        &self,
        s: &Supervisor,
        q: &Query,
        grain: Grain,
    ) -> Result<Sentiment> {
        let ws = s.workspace;
        let cal = self.analytics_calendar(ws).await?;
        let (from, to) = (day_start(&cal, q.from), day_start(&cal, q.to + 1));
        let mut c = self.db.read().await?;
        let rows =
            db::analytics::signals(&mut c, ws, from, to, cal.offset_ms(from), &q.filter).await?;
        let mut labels_days: Vec<i64> = Vec::new();
        for d in q.from..=q.to {
            let st = grain.start(d);
            if labels_days.last() != Some(&st) {
                labels_days.push(st);
            }
        }
        let index: HashMap<i64, usize> =
            labels_days.iter().enumerate().map(|(i, d)| (*d, i)).collect();
        let mut out = Sentiment {
            grain,
            labels: labels_days.iter().map(|d| day_label(*d)).collect(),
            positive: vec![0; labels_days.len()],
            neutral: vec![0; labels_days.len()],
            negative: vec![0; labels_days.len()],
            by_kind: BTreeMap::new(),
        };
        for (day, sentiment, kind, n) in rows {
            let Some(&i) = index.get(&grain.start(day.clamp(q.from, q.to))) else { continue };
            let e = out.by_kind.entry(kind).or_insert([0; 3]);
            match sentiment.as_str() {
                "positive" => {
                    out.positive[i] += n;
                    e[0] += n;
                }
                "neutral" => {
                    out.neutral[i] += n;
                    e[1] += n;
                }
                _ => {
                    out.negative[i] += n;
                    e[2] += n;
                }
            }
        }
        Ok(out)
    }

    /// KPIs per day / week / month, one series per value of `by` (or one, `all`) (AN-1).
    pub async fn analytics_trend(
        &self,
        s: &Supervisor,
        q: &Query,
        grain: Grain,
        by: Option<Dim>,
    ) -> Result<Trend> {
        let ws = s.workspace;
        self.analytics_catch_up(ws).await?;
        let mut c = self.db.read().await?;
        let groups =
            db::analytics::sum_daily(&mut c, ws, q.from, q.to, &q.filter, true, by).await?;
        let base = db::analytics::backlog_at(&mut c, ws, q.from - 1, &q.filter, by).await?;
        let mut labels_days: Vec<i64> = Vec::new();
        let mut d = q.from;
        while d <= q.to {
            let st = grain.start(d);
            if labels_days.last() != Some(&st) {
                labels_days.push(st);
            }
            d += 1;
        }
        let index: HashMap<i64, usize> =
            labels_days.iter().enumerate().map(|(i, d)| (*d, i)).collect();
        // Per key: sums per label, and (created − done) per day for the backlog.
        let mut per: BTreeMap<String, (Vec<Sums>, BTreeMap<i64, i64>)> = BTreeMap::new();
        for g in &groups {
            let key = g.key.clone().unwrap_or_else(|| "all".into());
            let e = per
                .entry(key)
                .or_insert_with(|| (vec![Sums::default(); labels_days.len()], BTreeMap::new()));
            let day = g.day.unwrap_or(q.from);
            if let Some(&i) = index.get(&grain.start(day)) {
                e.0[i].add(&g.sums);
            }
            *e.1.entry(day).or_default() += g.sums.created - g.sums.done;
        }
        if by.is_none() && per.is_empty() {
            per.insert("all".into(), (vec![Sums::default(); labels_days.len()], BTreeMap::new()));
        }
        let series = per
            .into_iter()
            .map(|(key, (sums, flow))| {
                let lookup = if by.is_none() { None } else { Some(key.clone()) };
                let mut open = base.iter().find(|(k, _)| *k == lookup).map_or(0, |(_, n)| *n);
                let mut backlog = vec![0; labels_days.len()];
                let mut d = q.from;
                while d <= q.to {
                    open += flow.get(&d).copied().unwrap_or(0);
                    if let Some(&i) = index.get(&grain.start(d)) {
                        backlog[i] = open;
                    }
                    d += 1;
                }
                Series { key, points: sums.iter().map(|s| an::kpis(s, q.cost)).collect(), backlog }
            })
            .collect();
        Ok(Trend { grain, labels: labels_days.into_iter().map(day_label).collect(), series })
    }

    /// Problem codes by tickets created, with Pareto shares (AN-1).
    pub async fn analytics_pareto(&self, s: &Supervisor, q: &Query) -> Result<Pareto> {
        let ws = s.workspace;
        self.analytics_catch_up(ws).await?;
        let mut c = self.db.read().await?;
        let groups = db::analytics::sum_daily(
            &mut c,
            ws,
            q.from,
            q.to,
            &q.filter,
            false,
            Some(Dim::ProblemCode),
        )
        .await?;
        let mut uncoded = 0;
        let mut counts = Vec::new();
        for g in groups {
            match g.key.as_deref() {
                None | Some("") => uncoded += g.sums.created,
                Some(k) => counts.push((k.to_string(), g.sums.created)),
            }
        }
        Ok(Pareto { bars: an::pareto(counts, 0.8), uncoded })
    }

    /// Tickets created per weekday × hour (AN-1). Filters other than the channel are refused.
    pub async fn analytics_heatmap(&self, s: &Supervisor, q: &Query) -> Result<HeatMap> {
        if q.filter.problem_code.is_some() || q.filter.team_id.is_some() {
            return Err(
                ParseError::new("problem_code", "the heat map filters by channel only").into()
            );
        }
        let ws = s.workspace;
        self.analytics_catch_up(ws).await?;
        let mut c = self.db.read().await?;
        let rows =
            db::analytics::hourly(&mut c, ws, q.from, q.to, q.filter.channel.as_deref()).await?;
        let mut cells = [[0i64; 24]; 7];
        for (day, hour, n) in rows {
            cells[(day + 3).rem_euclid(7) as usize][usize::from(hour.min(23))] += n;
        }
        let max = cells.iter().flatten().copied().max().unwrap_or(0);
        Ok(HeatMap { cells, max })
    }

    /// The tickets behind a figure: created in the period, matching the filter and the set,
    /// optionally in one heat-map cell (weekday 0 = Monday, hour), newest first.
    pub async fn analytics_cases(
        &self,
        s: &Supervisor,
        q: &Query,
        set: CaseSet,
        cell: Option<(u8, u8)>,
        page: &db::Page,
    ) -> Result<Vec<db::analytics::Case>> {
        if let Some((wd, h)) = cell
            && (wd > 6 || h > 23)
        {
            return Err(ParseError::new("weekday", "weekday 0–6 (Monday = 0) and hour 0–23").into());
        }
        let ws = s.workspace;
        self.analytics_catch_up(ws).await?;
        let cal = self.analytics_calendar(ws).await?;
        let mut c = self.db.read().await?;
        let (from, to) = (day_start(&cal, q.from), day_start(&cal, q.to + 1));
        Ok(db::analytics::cases(&mut c, ws, from, to, &q.filter, set, cell, page).await?)
    }
}

// ---- Tables and export ---------------------------------------------------------------------

impl KpiReport {
    pub fn table(&self) -> Table {
        let mut rows: Vec<Vec<Cell>> = KPI_COLUMNS
            .iter()
            .map(|k| vec![Cell::from(*k), kpi_value(&self.kpis, k).into()])
            .collect();
        let s = &self.surveys;
        for (k, v) in [
            ("backlog", Some(self.backlog as f64)),
            ("bot_conversations", Some(self.bot_conversations as f64)),
            ("bot_containment", self.bot_containment),
            ("handoff_rate", self.handoff_rate),
            ("csat", s.csat),
            ("nps", s.nps),
            ("ces", s.ces),
        ] {
            rows.push(vec![Cell::from(k), v.into()]);
        }
        Table {
            name: format!("kpis {}..{}", day_label(self.from), day_label(self.to)),
            headers: vec!["metric".into(), "value".into()],
            rows,
        }
    }
}

/// The per-agent KPIs as a sheet (one row per agent).
pub fn agents_table(rows: &[AgentKpis]) -> Table {
    let opt = |v: Option<i64>| v.map_or(Cell::Empty, Cell::from);
    Table {
        name: "agents".into(),
        headers: [
            "agent_id",
            "agent",
            "handled",
            "created",
            "solved",
            "first_response_median_ms",
            "first_response_p90_ms",
            "resolution_median_ms",
            "reopen_rate",
            "sla_attainment",
            "fcr_rate",
            "csat_avg",
            "csat_answers",
            "open_tickets",
            "open_chats",
        ]
        .map(String::from)
        .to_vec(),
        rows: rows
            .iter()
            .map(|r| {
                vec![
                    Cell::from(r.agent.to_string()),
                    Cell::from(r.name.as_str()),
                    r.handled.into(),
                    r.kpis.created.into(),
                    r.kpis.solved.into(),
                    r.first_response_median_ms.into(),
                    r.first_response_p90_ms.into(),
                    r.resolution_median_ms.into(),
                    r.kpis.reopen_rate.into(),
                    r.kpis.sla_attainment.into(),
                    r.kpis.fcr_rate.into(),
                    r.csat_avg.into(),
                    r.csat_answers.into(),
                    opt(r.open_tickets),
                    opt(r.open_chats),
                ]
            })
            .collect(),
    }
}

impl Trend {
    pub fn table(&self) -> Table {
        let mut headers = vec!["period".to_string(), "key".to_string()];
        headers.extend(KPI_COLUMNS.iter().map(|s| s.to_string()));
        headers.push("backlog".into());
        let mut rows = Vec::new();
        for s in &self.series {
            for (i, label) in self.labels.iter().enumerate() {
                let mut r = vec![Cell::from(label.as_str()), Cell::from(s.key.as_str())];
                r.extend(KPI_COLUMNS.iter().map(|k| Cell::from(kpi_value(&s.points[i], k))));
                r.push(s.backlog[i].into());
                rows.push(r);
            }
        }
        Table { name: "trend".into(), headers, rows }
    }
}

impl Pareto {
    pub fn table(&self) -> Table {
        let rows = self
            .bars
            .iter()
            .map(|b| {
                vec![
                    Cell::from(b.key.as_str()),
                    b.count.into(),
                    Cell::Num(b.share),
                    Cell::Num(b.cumulative),
                    Cell::from(if b.vital { "yes" } else { "no" }),
                ]
            })
            .collect();
        Table {
            name: "pareto".into(),
            headers: ["problem_code", "tickets", "share", "cumulative", "vital"]
                .map(String::from)
                .to_vec(),
            rows,
        }
    }
}

pub const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

impl HeatMap {
    pub fn table(&self) -> Table {
        let mut headers = vec!["weekday".to_string()];
        headers.extend((0..24).map(|h| format!("{h:02}")));
        let rows = self
            .cells
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let mut v = vec![Cell::from(WEEKDAYS[i])];
                v.extend(r.iter().map(|n| Cell::from(*n)));
                v
            })
            .collect();
        Table { name: "heatmap".into(), headers, rows }
    }
}

pub fn cases_table(cases: &[db::analytics::Case]) -> Table {
    let ms = |v: Option<i64>| v.map_or(Cell::Empty, |v| Cell::Num(v as f64));
    let rows = cases
        .iter()
        .map(|c| {
            let f = &c.fact.facts;
            vec![
                Cell::from(c.number),
                Cell::from(c.ticket_id.as_str()),
                Cell::from(c.subject.as_str()),
                Cell::from(c.fact.status.as_str()),
                Cell::from(c.fact.dims.channel.as_str()),
                Cell::from(c.fact.dims.problem_code.as_str()),
                Cell::from(day_label(f.slot.day)),
                ms(f.frt_bh),
                ms(f.res_bh),
                Cell::from(f.reopens),
                Cell::from(if f.fcr { "yes" } else { "no" }),
                Cell::from(if f.extra.sla_breached { "yes" } else { "no" }),
            ]
        })
        .collect();
    Table {
        name: "cases".into(),
        headers: [
            "number",
            "ticket_id",
            "subject",
            "status",
            "channel",
            "problem_code",
            "created_day",
            "first_response_ms",
            "resolution_ms",
            "reopens",
            "fcr",
            "sla_breached",
        ]
        .map(String::from)
        .to_vec(),
        rows,
    }
}

/// Writes a table as CSV (UTF-8 with a BOM, for Excel) or XLSX (numbers as numbers).
pub fn write_table(t: &Table, format: SheetFormat) -> Result<Vec<u8>> {
    match format {
        SheetFormat::Csv => {
            let mut w = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
            w.write_record(&t.headers).context("writing CSV")?;
            for r in &t.rows {
                w.write_record(r.iter().map(|c| match c {
                    Cell::Text(s) => s.clone(),
                    Cell::Num(n) => n.to_string(),
                    Cell::Empty => String::new(),
                }))
                .context("writing CSV")?;
            }
            w.into_inner().map_err(|e| crate::Error::Internal(anyhow::anyhow!("writing CSV: {e}")))
        }
        SheetFormat::Xlsx => {
            let mut wb = rust_xlsxwriter::Workbook::new();
            let ws = wb.add_worksheet();
            let name: String =
                t.name.chars().filter(|c| !"[]:*?/\\".contains(*c)).take(31).collect();
            ws.set_name(name).context("naming the sheet")?;
            for (c, h) in t.headers.iter().enumerate() {
                ws.write_string(0, c as u16, h).context("writing XLSX")?;
            }
            for (r, row) in t.rows.iter().enumerate() {
                for (c, v) in row.iter().enumerate() {
                    let (r, c) = (r as u32 + 1, c as u16);
                    match v {
                        Cell::Text(s) => ws.write_string(r, c, s).map(|_| ()),
                        Cell::Num(n) => ws.write_number(r, c, *n).map(|_| ()),
                        Cell::Empty => Ok(()),
                    }
                    .context("writing XLSX")?;
                }
            }
            Ok(wb.save_to_buffer().context("writing XLSX")?)
        }
    }
}
