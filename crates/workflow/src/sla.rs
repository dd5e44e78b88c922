//! SLA policies as data, and SLA clocks as a pure function of a ticket's history.
//!
//! A ticket gets the first [`SlaPolicy`] whose [`Conditions`] match its [`TicketFacts`]
//! ([`select`]). [`evaluate`] replays the ticket's [`TicketEvent`]s up to `now` and returns one
//! [`MetricState`] per metric cycle (first response and resolution have one cycle; next response
//! and periodic update start a new cycle each time they re-activate). [`next_deadline`] names
//! the one instant the caller must wake up at, and [`diff`] turns two evaluations into
//! [`SlaEvent`]s to record.
//!
//! Semantics (after Zendesk's metrics, with pause rules per target):
//! - first response: activated on creation, fulfilled by the first public agent reply;
//! - next response: activated by a customer reply once an agent has replied publicly (and none
//!   is already running), fulfilled by the next public agent reply;
//! - periodic update: activated by each public agent reply (and by a reopen), fulfilled by the
//!   next one: "an update at least every N";
//! - resolution: activated on creation, fulfilled on solved/closed, re-activated on reopen with
//!   its elapsed time kept.
//!
//! Solving or closing fulfils every running metric. By default resolution pauses in `pending`
//! and `on_hold`, periodic update in `pending` (the customer owes the answer; on hold means we
//! are investigating, and that is when updates matter), first and next response never (a
//! customer is waiting for a human answer). [`Target::with_pause_in`] overrides this.

use std::collections::BTreeMap;

use domain::{
    Channel, ParseError, ProblemCode, Severity, Status, TeamId, Tier, Timestamp, Urgency,
};

use crate::calendar::{BusinessCalendar, CalendarError};

/// What an SLA target measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Metric {
    FirstResponse,
    NextResponse,
    PeriodicUpdate,
    Resolution,
}

impl Metric {
    pub const ALL: [Metric; 4] =
        [Metric::FirstResponse, Metric::NextResponse, Metric::PeriodicUpdate, Metric::Resolution];

    pub fn as_str(self) -> &'static str {
        match self {
            Metric::FirstResponse => "first_response",
            Metric::NextResponse => "next_response",
            Metric::PeriodicUpdate => "periodic_update",
            Metric::Resolution => "resolution",
        }
    }

    pub fn parse(s: &str) -> Result<Metric, ParseError> {
        let s = s.trim();
        Metric::ALL.into_iter().find(|m| m.as_str() == s).ok_or_else(|| {
            ParseError::new(
                "sla.metric",
                format!("unknown metric {s:?}; expected one of: first_response, next_response, periodic_update, resolution"),
            )
        })
    }

    /// The statuses in which this metric's clock pauses unless a target says otherwise.
    pub fn default_pause_in(self) -> &'static [Status] {
        match self {
            Metric::FirstResponse | Metric::NextResponse => &[],
            Metric::PeriodicUpdate => &[Status::Pending],
            Metric::Resolution => &[Status::Pending, Status::OnHold],
        }
    }
}

/// Names a business calendar: letters, digits, `_`, `-`, `.`; 1 to 64 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CalendarId(String);

impl CalendarId {
    pub fn parse(s: &str) -> Result<CalendarId, ParseError> {
        let s = s.trim();
        let ok = (1..=64).contains(&s.len())
            && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
        if ok {
            Ok(CalendarId(s.to_string()))
        } else {
            Err(ParseError::new(
                "sla.calendar",
                format!(
                    "{s:?} is not a calendar id; use 1-64 letters, digits, '_', '-' or '.', e.g. default"
                ),
            ))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The calendars a set of policies may refer to, by id.
pub type Calendars = BTreeMap<CalendarId, BusinessCalendar>;

/// Whether a target counts wall-clock time or a business calendar's open time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClockMode {
    Calendar,
    Business(CalendarId),
}

impl ClockMode {
    /// `calendar` (wall time, 7×24) or `business:<calendar id>`.
    pub fn parse(s: &str) -> Result<ClockMode, ParseError> {
        let s = s.trim();
        if s == "calendar" {
            return Ok(ClockMode::Calendar);
        }
        match s.strip_prefix("business:") {
            Some(id) => CalendarId::parse(id).map(ClockMode::Business),
            None => Err(ParseError::new(
                "sla.target.mode",
                format!(
                    "{s:?} is not a clock mode; write \"calendar\" or \"business:<calendar id>\""
                ),
            )),
        }
    }
}

/// When a running target warns: at a share of its duration, or some time before it is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WarnAt {
    /// After this many thousandths of the target have elapsed (1..=999).
    Permille(u16),
    /// This many milliseconds of (the target's kind of) time before the deadline.
    Before(i64),
}

impl WarnAt {
    /// `80%`, `0.8` or `15m before`.
    pub fn parse(s: &str) -> Result<WarnAt, ParseError> {
        let s = s.trim();
        let bad = || {
            ParseError::new(
                "sla.target.warn",
                format!(
                    "{s:?} is not a warning point; write a share such as 80% or 0.8, or a time before the deadline such as \"15m before\""
                ),
            )
        };
        if let Some(d) = s.strip_suffix("before") {
            return parse_duration("sla.target.warn", d).map(WarnAt::Before).map_err(|_| bad());
        }
        let permille = if let Some(p) = s.strip_suffix('%') {
            let v: f64 = p.trim().parse().map_err(|_| bad())?;
            v * 10.0
        } else {
            let v: f64 = s.parse().map_err(|_| bad())?;
            v * 1000.0
        };
        if !(1.0..=999.0).contains(&permille.round()) {
            return Err(bad());
        }
        Ok(WarnAt::Permille(permille.round() as u16))
    }
}

/// Longest accepted target: one year.
const MAX_TARGET_MS: i64 = 366 * 86_400_000;

/// `30m`, `2h`, `1h30m`, `3d`, `45s`; positive and at most 366 days.
pub fn parse_duration(field: &'static str, s: &str) -> Result<i64, ParseError> {
    let s = s.trim();
    let bad = || {
        ParseError::new(
            field,
            format!(
                "{s:?} is not a duration; write a number and unit (d, h, m, s), e.g. 30m, 2h, 1h30m, 3d (at most 366d)"
            ),
        )
    };
    let mut total: i64 = 0;
    let mut num = String::new();
    for c in s.chars().filter(|c| !c.is_whitespace()) {
        if c.is_ascii_digit() {
            num.push(c);
            continue;
        }
        let unit = match c {
            'd' => 86_400_000,
            'h' => 3_600_000,
            'm' => 60_000,
            's' => 1_000,
            _ => return Err(bad()),
        };
        let n: i64 = num.parse().map_err(|_| bad())?;
        num.clear();
        total = total.checked_add(n.checked_mul(unit).ok_or_else(bad)?).ok_or_else(bad)?;
    }
    if !num.is_empty() || total <= 0 || total > MAX_TARGET_MS {
        return Err(bad());
    }
    Ok(total)
}

/// One metric's goal within a policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    duration_ms: i64,
    mode: ClockMode,
    warn: Option<WarnAt>,
    pause_in: Vec<Status>,
}

impl Target {
    /// `duration` as [`parse_duration`], `mode` as [`ClockMode::parse`], `warn` as
    /// [`WarnAt::parse`] or empty for none. Pauses in the metric's default statuses.
    pub fn parse(
        metric: Metric,
        duration: &str,
        mode: &str,
        warn: &str,
    ) -> Result<Target, ParseError> {
        Ok(Target {
            duration_ms: parse_duration("sla.target.duration", duration)?,
            mode: ClockMode::parse(mode)?,
            warn: if warn.trim().is_empty() { None } else { Some(WarnAt::parse(warn)?) },
            pause_in: metric.default_pause_in().to_vec(),
        })
    }

    /// Overrides the statuses the clock pauses in; only `pending` and `on_hold` may pause.
    pub fn with_pause_in(mut self, statuses: &[Status]) -> Result<Target, ParseError> {
        if let Some(s) = statuses.iter().find(|s| !matches!(s, Status::Pending | Status::OnHold)) {
            return Err(ParseError::new(
                "sla.target.pause_in",
                format!("a clock cannot pause in {s}; choose from pending, on_hold"),
            ));
        }
        let mut v = statuses.to_vec();
        v.sort();
        v.dedup();
        self.pause_in = v;
        Ok(self)
    }

    pub fn duration_ms(&self) -> i64 {
        self.duration_ms
    }
    pub fn mode(&self) -> &ClockMode {
        &self.mode
    }
    pub fn warn(&self) -> Option<WarnAt> {
        self.warn
    }
    pub fn pause_in(&self) -> &[Status] {
        &self.pause_in
    }

    /// Elapsed time at which the warning falls due.
    fn warn_elapsed(&self) -> Option<i64> {
        self.warn.map(|w| match w {
            WarnAt::Permille(p) => {
                self.duration_ms / 1000 * i64::from(p)
                    + self.duration_ms % 1000 * i64::from(p) / 1000
            }
            WarnAt::Before(ms) => (self.duration_ms - ms).max(0),
        })
    }
}

/// What a policy applies to. Every non-empty list must contain the ticket's value; empty means
/// any. A problem code matches by prefix: `PQ` matches every PQ code, `PQ-03` only PQ-03.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Conditions {
    pub severity: Vec<Severity>,
    pub tier: Vec<Tier>,
    pub problem_code: Vec<ProblemCode>,
    pub channel: Vec<Channel>,
    pub urgency: Vec<Urgency>,
    pub team: Vec<TeamId>,
}

impl Conditions {
    pub fn matches(&self, t: &TicketFacts) -> bool {
        fn any<T: PartialEq>(list: &[T], v: &T) -> bool {
            list.is_empty() || list.contains(v)
        }
        fn opt<T: PartialEq>(list: &[T], v: Option<&T>) -> bool {
            list.is_empty() || v.is_some_and(|v| list.contains(v))
        }
        let code_ok = self.problem_code.is_empty()
            || t.problem_code.is_some_and(|c| {
                self.problem_code.iter().any(|p| {
                    p.category() == c.category() && (p.sub().is_none() || p.sub() == c.sub())
                })
            });
        any(&self.severity, &t.severity)
            && any(&self.tier, &t.tier)
            && code_ok
            && any(&self.channel, &t.channel)
            && any(&self.urgency, &t.urgency)
            && opt(&self.team, t.team.as_ref())
    }
}

/// The facts about a ticket that policies select on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketFacts {
    pub severity: Severity,
    pub tier: Tier,
    pub problem_code: Option<ProblemCode>,
    pub channel: Channel,
    pub urgency: Urgency,
    pub team: Option<TeamId>,
}

/// A named set of conditions and per-metric targets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlaPolicy {
    name: String,
    conditions: Conditions,
    targets: BTreeMap<Metric, Target>,
}

impl SlaPolicy {
    pub fn new(
        name: &str,
        conditions: Conditions,
        targets: Vec<(Metric, Target)>,
    ) -> Result<SlaPolicy, ParseError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(ParseError::new(
                "sla.name",
                "give the policy a name of 1 to 100 characters",
            ));
        }
        if targets.is_empty() {
            return Err(ParseError::new("sla.targets", "give the policy at least one target"));
        }
        let mut map = BTreeMap::new();
        for (m, t) in targets {
            if map.insert(m, t).is_some() {
                return Err(ParseError::new(
                    "sla.targets",
                    format!("{} has two targets; keep one per metric", m.as_str()),
                ));
            }
        }
        Ok(SlaPolicy { name: name.to_string(), conditions, targets: map })
    }

    pub fn name(&self) -> &str {
        &self.name
    }
    pub fn conditions(&self) -> &Conditions {
        &self.conditions
    }
    pub fn target(&self, m: Metric) -> Option<&Target> {
        self.targets.get(&m)
    }
    pub fn targets(&self) -> impl Iterator<Item = (Metric, &Target)> {
        self.targets.iter().map(|(m, t)| (*m, t))
    }

    /// Checks, at save time, that every business target names a known calendar.
    pub fn check_calendars(&self, calendars: &Calendars) -> Result<(), ParseError> {
        for (m, t) in &self.targets {
            if let ClockMode::Business(id) = &t.mode
                && !calendars.contains_key(id)
            {
                return Err(ParseError::new(
                    "sla.target.mode",
                    format!(
                        "{} uses calendar {:?}, which does not exist; create it or pick another",
                        m.as_str(),
                        id.as_str()
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// The first policy whose conditions match: order policies most specific first.
pub fn select<'p>(policies: &'p [SlaPolicy], facts: &TicketFacts) -> Option<&'p SlaPolicy> {
    policies.iter().find(|p| p.conditions.matches(facts))
}

/// What happened to a ticket, as far as SLA clocks care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TicketEvent {
    Created { at: Timestamp },
    StatusChanged { at: Timestamp, to: Status },
    AgentReplied { at: Timestamp, public: bool },
    CustomerReplied { at: Timestamp },
}

impl TicketEvent {
    pub fn at(&self) -> Timestamp {
        match *self {
            TicketEvent::Created { at }
            | TicketEvent::StatusChanged { at, .. }
            | TicketEvent::AgentReplied { at, .. }
            | TicketEvent::CustomerReplied { at } => at,
        }
    }
}

/// Where a metric cycle's clock stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Running { since: Timestamp },
    Paused { since: Timestamp },
    Fulfilled { at: Timestamp },
}

/// Why a metric has no deadline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClockProblem {
    UnknownCalendar(CalendarId),
    Calendar(CalendarError),
}

/// One cycle of one metric, as of `now`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricState {
    pub metric: Metric,
    /// 0 for the first activation; next response and periodic update count up.
    pub cycle: u32,
    pub activated_at: Timestamp,
    pub phase: Phase,
    /// Counted time (business or wall, per the target) while running, up to now or fulfilment.
    pub elapsed_ms: i64,
    pub target_ms: i64,
    /// When the target is or was reached: the breach instant, or the projection while running.
    pub due_at: Option<Timestamp>,
    /// The same for the warning point.
    pub warn_at: Option<Timestamp>,
    pub warned_at: Option<Timestamp>,
    pub breached_at: Option<Timestamp>,
    pub problem: Option<ClockProblem>,
}

impl MetricState {
    pub fn is_active(&self) -> bool {
        !matches!(self.phase, Phase::Fulfilled { .. })
    }
    pub fn paused(&self) -> bool {
        matches!(self.phase, Phase::Paused { .. })
    }
    pub fn fulfilled_at(&self) -> Option<Timestamp> {
        match self.phase {
            Phase::Fulfilled { at } => Some(at),
            _ => None,
        }
    }
    /// Counted time left before the target; negative once breached. For sorting queues.
    pub fn remaining_ms(&self) -> i64 {
        self.target_ms.saturating_sub(self.elapsed_ms)
    }
}

#[derive(Clone, Copy)]
enum Clock<'a> {
    Wall,
    Business(&'a BusinessCalendar),
}

impl Clock<'_> {
    fn add(self, t: Timestamp, ms: i64) -> Result<Timestamp, CalendarError> {
        match self {
            Clock::Wall => Ok(t.plus_millis(ms.max(0))),
            Clock::Business(c) => c.add_business(t, ms),
        }
    }
    fn between(self, a: Timestamp, b: Timestamp) -> Result<i64, CalendarError> {
        match self {
            Clock::Wall => Ok(b.millis().saturating_sub(a.millis()).max(0)),
            Clock::Business(c) => c.business_between(a, b),
        }
    }
}

/// A metric cycle being replayed.
struct Run<'a> {
    state: MetricState,
    target: &'a Target,
    clock: Option<Clock<'a>>,
}

impl Run<'_> {
    /// The instant a running segment from `since`, with `elapsed` already counted, reaches
    /// `threshold` of counted time.
    fn reach(&self, since: Timestamp, threshold: i64) -> Option<Result<Timestamp, CalendarError>> {
        let clock = self.clock?;
        let left = threshold - self.state.elapsed_ms;
        Some(if left <= 0 { Ok(since) } else { clock.add(since, left) })
    }

    /// Ends the running segment at `end`, counting its time and noting a warning or breach
    /// reached inside it (`inclusive`: reached exactly at `end` counts, as at `now`; a reply
    /// exactly at the deadline is in time).
    fn close(&mut self, end: Timestamp, inclusive: bool) {
        let Phase::Running { since } = self.state.phase else { return };
        let Some(clock) = self.clock else { return };
        let inside = |t: Timestamp| t < end || (inclusive && t <= end);
        if self.state.warned_at.is_none()
            && let Some(w) = self.target.warn_elapsed()
        {
            match self.reach(since, w) {
                Some(Ok(t)) if inside(t) => self.state.warned_at = Some(t),
                Some(Err(e)) => self.state.problem = Some(ClockProblem::Calendar(e)),
                _ => {}
            }
        }
        if self.state.breached_at.is_none() {
            match self.reach(since, self.target.duration_ms) {
                Some(Ok(t)) if inside(t) => self.state.breached_at = Some(t),
                Some(Err(e)) => self.state.problem = Some(ClockProblem::Calendar(e)),
                _ => {}
            }
        }
        match clock.between(since, end) {
            Ok(ms) => self.state.elapsed_ms = self.state.elapsed_ms.saturating_add(ms),
            Err(e) => self.state.problem = Some(ClockProblem::Calendar(e)),
        }
    }

    fn pause(&mut self, at: Timestamp) {
        if matches!(self.state.phase, Phase::Running { .. }) {
            self.close(at, false);
            self.state.phase = Phase::Paused { since: at };
        }
    }
    fn resume(&mut self, at: Timestamp) {
        if matches!(self.state.phase, Phase::Paused { .. }) {
            self.state.phase = Phase::Running { since: at };
        }
    }
    fn fulfil(&mut self, at: Timestamp) {
        self.close(at, false);
        if self.state.is_active() {
            self.state.phase = Phase::Fulfilled { at };
        }
    }

    fn finish(mut self, now: Timestamp) -> MetricState {
        let (mut due, mut warn) = (None, None);
        if let Phase::Running { since } = self.state.phase {
            due = self.reach(since, self.target.duration_ms).and_then(Result::ok);
            warn =
                self.target.warn_elapsed().and_then(|w| self.reach(since, w)).and_then(Result::ok);
            self.close(now, true);
        }
        let s = &mut self.state;
        s.due_at = s.breached_at.or(due);
        s.warn_at = s.warned_at.or(warn);
        self.state
    }
}

/// Replays `events` (up to `now`) under `policy` and returns every metric cycle's state,
/// ordered by metric, then cycle.
///
/// Events are ordered by time (stably: same-instant events keep their given order); exact
/// duplicates are dropped; events before the first `Created`, later `Created`s and events
/// after `now` are ignored. Status changes are taken as given (the lifecycle is checked where
/// they are made). A target whose calendar is missing or exhausted reports a [`ClockProblem`]
/// and no deadline.
pub fn evaluate<'a>(
    policy: &'a SlaPolicy,
    calendars: &'a Calendars,
    events: &[TicketEvent],
    now: Timestamp,
) -> Vec<MetricState> {
    let mut events: Vec<TicketEvent> = events.iter().filter(|e| e.at() <= now).copied().collect();
    events.sort_by_key(TicketEvent::at);
    events.dedup();

    let mut runs: Vec<Run> = Vec::new();
    let mut status = Status::New;
    let mut started = false;
    let mut agent_replied = false;

    let activate = |runs: &mut Vec<Run<'a>>, metric: Metric, at: Timestamp, status: Status| {
        activate(policy, calendars, runs, metric, at, status)
    };

    for ev in events {
        match ev {
            TicketEvent::Created { at } if !started => {
                started = true;
                activate(&mut runs, Metric::FirstResponse, at, status);
                activate(&mut runs, Metric::Resolution, at, status);
            }
            _ if !started => {}
            TicketEvent::Created { .. } => {}
            TicketEvent::StatusChanged { at, to } => {
                let was_done = !status.is_active();
                status = to;
                if !to.is_active() {
                    runs.iter_mut().for_each(|r| r.fulfil(at));
                    continue;
                }
                if was_done {
                    for r in runs.iter_mut().filter(|r| r.state.metric == Metric::Resolution) {
                        r.state.phase = Phase::Running { since: at };
                    }
                    activate(&mut runs, Metric::PeriodicUpdate, at, status);
                }
                for r in runs.iter_mut() {
                    if r.target.pause_in.contains(&status) {
                        r.pause(at);
                    } else {
                        r.resume(at);
                    }
                }
            }
            TicketEvent::AgentReplied { at, public: true } if status.is_active() => {
                agent_replied = true;
                for r in runs.iter_mut().filter(|r| r.state.metric != Metric::Resolution) {
                    r.fulfil(at);
                }
                activate(&mut runs, Metric::PeriodicUpdate, at, status);
            }
            TicketEvent::CustomerReplied { at } if status.is_active() && agent_replied => {
                let running = runs
                    .iter()
                    .any(|r| r.state.metric == Metric::NextResponse && r.state.is_active());
                if !running {
                    activate(&mut runs, Metric::NextResponse, at, status);
                }
            }
            TicketEvent::AgentReplied { .. } | TicketEvent::CustomerReplied { .. } => {}
        }
    }
    let mut out: Vec<MetricState> = runs.into_iter().map(|r| r.finish(now)).collect();
    out.sort_by_key(|s| (s.metric, s.cycle));
    out
}

fn activate<'a>(
    policy: &'a SlaPolicy,
    calendars: &'a Calendars,
    runs: &mut Vec<Run<'a>>,
    metric: Metric,
    at: Timestamp,
    status: Status,
) {
    let Some(target) = policy.target(metric) else { return };
    let (clock, problem) = match &target.mode {
        ClockMode::Calendar => (Some(Clock::Wall), None),
        ClockMode::Business(id) => match calendars.get(id) {
            Some(c) => (Some(Clock::Business(c)), None),
            None => (None, Some(ClockProblem::UnknownCalendar(id.clone()))),
        },
    };
    let cycle = runs.iter().filter(|r| r.state.metric == metric).count() as u32;
    let phase = if target.pause_in.contains(&status) {
        Phase::Paused { since: at }
    } else {
        Phase::Running { since: at }
    };
    runs.push(Run {
        state: MetricState {
            metric,
            cycle,
            activated_at: at,
            phase,
            elapsed_ms: 0,
            target_ms: target.duration_ms,
            due_at: None,
            warn_at: None,
            warned_at: None,
            breached_at: None,
            problem,
        },
        target,
        clock,
    });
}

/// Whether a deadline is a warning or a breach.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum DeadlineKind {
    Breach,
    Warn,
}

/// The next instant at which an evaluation would change on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline {
    pub at: Timestamp,
    pub kind: DeadlineKind,
    pub metric: Metric,
    pub cycle: u32,
}

/// The earliest future warning or breach among running clocks: schedule one timer job for it,
/// re-evaluate when it fires (or when the ticket changes) and schedule the next. On a tie a
/// breach is named (one evaluation at that instant records both).
pub fn next_deadline(states: &[MetricState]) -> Option<Deadline> {
    states
        .iter()
        .filter(|s| matches!(s.phase, Phase::Running { .. }) && s.problem.is_none())
        .flat_map(|s| {
            let warn =
                s.warn_at.filter(|_| s.warned_at.is_none()).map(|at| (at, DeadlineKind::Warn));
            let breach =
                s.due_at.filter(|_| s.breached_at.is_none()).map(|at| (at, DeadlineKind::Breach));
            [warn, breach].into_iter().flatten().map(|(at, kind)| Deadline {
                at,
                kind,
                metric: s.metric,
                cycle: s.cycle,
            })
        })
        .min_by_key(|d| (d.at, d.kind, d.metric, d.cycle))
}

/// A change in a metric cycle, to record and expose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SlaEventKind {
    Activated,
    Paused,
    Resumed,
    Warned,
    Breached,
    Fulfilled,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlaEvent {
    pub at: Timestamp,
    pub metric: Metric,
    pub cycle: u32,
    pub kind: SlaEventKind,
}

/// The SLA events between two evaluations of the same ticket, ordered by time. Cycles are
/// matched by metric and number. It reports the net change: a pause and resume both between
/// the evaluations show as one `Resumed`; evaluate after each ticket change to see them all.
/// A resolution clock fulfilled and then running again reports `Activated` (a reopen).
pub fn diff(before: &[MetricState], after: &[MetricState]) -> Vec<SlaEvent> {
    use SlaEventKind::*;
    let mut out = Vec::new();
    for a in after {
        let mut push = |at: Timestamp, kind| {
            out.push(SlaEvent { at, metric: a.metric, cycle: a.cycle, kind });
        };
        let b = before.iter().find(|b| b.metric == a.metric && b.cycle == a.cycle);
        match (b.map(|b| b.phase), a.phase) {
            (None, phase) => {
                push(a.activated_at, Activated);
                match phase {
                    Phase::Paused { since } => push(since, Paused),
                    Phase::Fulfilled { at } => push(at, Fulfilled),
                    Phase::Running { since } if since != a.activated_at => push(since, Resumed),
                    Phase::Running { .. } => {}
                }
            }
            (Some(p), q) if p == q => {}
            (Some(Phase::Fulfilled { .. }), Phase::Running { since }) => push(since, Activated),
            (Some(Phase::Fulfilled { .. }), Phase::Paused { since }) => {
                push(since, Activated);
                push(since, Paused);
            }
            (Some(_), Phase::Running { since }) => push(since, Resumed),
            (Some(_), Phase::Paused { since }) => push(since, Paused),
            (Some(_), Phase::Fulfilled { at }) => push(at, Fulfilled),
        }
        if let Some(at) = a.warned_at.filter(|_| b.is_none_or(|b| b.warned_at.is_none())) {
            push(at, Warned);
        }
        if let Some(at) = a.breached_at.filter(|_| b.is_none_or(|b| b.breached_at.is_none())) {
            push(at, Breached);
        }
    }
    out.sort_by_key(|e| (e.at, e.metric, e.cycle, e.kind));
    out
}

#[cfg(test)]
mod tests;
