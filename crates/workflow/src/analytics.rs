//! Analytics (AN-1, AN-4), pure: a ticket's [`Facts`] from its clock inputs (the same
//! [`TicketEvent`]s the SLA clocks replay) measured in a [`BusinessCalendar`]'s open time, the
//! additive [`Sums`] a ticket contributes to its local-day buckets ([`contributions`]), and the
//! [`Kpis`] read back from summed buckets. Survey scores ([`Scores`]), Pareto shares
//! ([`pareto`]) and local calendar days ([`slot`], [`day_label`], [`parse_day`], [`week_of`],
//! [`month_of`]) complete it. The definitions are written out in `docs/metrics.md`.
//!
//! Every ticket metric is attributed to the local day the ticket was **created** (a cohort),
//! except `done`, which counts a ticket on the local day it was last solved or closed, so that
//! the backlog at the end of day D is `Σcreated − Σdone` over days ≤ D.

use domain::{Status, Timestamp};

use crate::{HORIZON_DAYS, calendar::BusinessCalendar, sla::TicketEvent};

pub const DAY_MS: i64 = 86_400_000;
const HOUR_MS: i64 = 3_600_000;

/// Where an instant falls in the calendar's zone: the local day (days since 1970-01-01),
/// hour (0–23) and weekday (0 = Monday).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Slot {
    pub day: i64,
    pub hour: u8,
    pub weekday: u8,
}

pub fn slot(cal: &BusinessCalendar, t: Timestamp) -> Slot {
    let local = t.millis() + cal.offset_ms(t);
    let day = local.div_euclid(DAY_MS);
    Slot {
        day,
        hour: (local.rem_euclid(DAY_MS) / HOUR_MS) as u8,
        // 1970-01-01 was a Thursday.
        weekday: (day + 3).rem_euclid(7) as u8,
    }
}

/// Open milliseconds in `[a, b)`, over any span (the calendar answers at most
/// [`HORIZON_DAYS`] at a time); instants out of range count nothing.
pub fn business_ms(cal: &BusinessCalendar, a: Timestamp, b: Timestamp) -> i64 {
    let chunk = (HORIZON_DAYS - 1) * DAY_MS;
    let (mut from, end, mut sum) = (a.millis(), b.millis(), 0);
    while from < end {
        let to = end.min(from.saturating_add(chunk));
        sum += cal
            .business_between(Timestamp::from_millis(from), Timestamp::from_millis(to))
            .unwrap_or(0);
        from = to;
    }
    sum
}

/// Facts the clock inputs do not carry, read beside them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Extra {
    /// An SLA policy applies to the ticket.
    pub sla_tracked: bool,
    /// Some SLA metric of the ticket breached at least once.
    pub sla_breached: bool,
    /// The ticket carries a problem code (a complaint in the sense of TK-11).
    pub complaint: bool,
    /// The ticket is tagged `repeat` (same customer, same code within 30 days).
    pub repeat: bool,
}

/// What one ticket contributes to analytics. Durations are milliseconds.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Facts {
    pub created_at: Timestamp,
    pub slot: Slot,
    pub first_reply_at: Option<Timestamp>,
    /// First response time in open time / wall time.
    pub frt_bh: Option<i64>,
    pub frt_wall: Option<i64>,
    /// Next reply waits that ended, and their open time.
    pub nrt_n: i64,
    pub nrt_bh: i64,
    pub agent_replies: i64,
    pub customer_replies: i64,
    pub reopens: i64,
    /// When the ticket was last solved or closed, if it is solved or closed now.
    pub done_at: Option<Timestamp>,
    pub done_day: Option<i64>,
    /// Resolution time (creation to `done_at`), open time / wall time.
    pub res_bh: Option<i64>,
    pub res_wall: Option<i64>,
    /// Open time spent in `open` or `reopen` (being worked), up to `done_at` or the last input.
    pub handle_bh: i64,
    /// Solved with at most one public agent reply and never reopened.
    pub fcr: bool,
    pub extra: Extra,
}

fn is_done(s: Status) -> bool {
    matches!(s, Status::Solved | Status::Closed)
}

fn is_worked(s: Status) -> bool {
    matches!(s, Status::Open | Status::Reopen)
}

/// Replays a ticket's clock inputs (in any order; sorted by time, stable) into its facts.
pub fn facts(
    cal: &BusinessCalendar,
    created_at: Timestamp,
    events: &[TicketEvent],
    extra: Extra,
) -> Facts {
    let mut evs: Vec<TicketEvent> = events.to_vec();
    evs.sort_by_key(TicketEvent::at);
    let mut f = Facts { created_at, slot: slot(cal, created_at), extra, ..Facts::default() };
    let mut status = Status::New;
    let mut status_since = created_at;
    let mut waiting_since: Option<Timestamp> = None;
    for e in &evs {
        let at = e.at().max(created_at);
        match *e {
            TicketEvent::Created { .. } => {}
            TicketEvent::StatusChanged { to, .. } => {
                if is_worked(status) {
                    f.handle_bh += business_ms(cal, status_since, at);
                }
                if is_done(status) && !is_done(to) {
                    f.reopens += 1;
                    f.done_at = None;
                } else if !is_done(status) && is_done(to) {
                    f.done_at = Some(at);
                }
                status = to;
                status_since = at;
            }
            TicketEvent::AgentReplied { public, .. } => {
                if !public {
                    continue;
                }
                f.agent_replies += 1;
                if f.first_reply_at.is_none() {
                    f.first_reply_at = Some(at);
                    f.frt_bh = Some(business_ms(cal, created_at, at));
                    f.frt_wall = Some(at.millis() - created_at.millis());
                }
                if let Some(since) = waiting_since.take() {
                    f.nrt_n += 1;
                    f.nrt_bh += business_ms(cal, since, at);
                }
            }
            TicketEvent::CustomerReplied { .. } => {
                f.customer_replies += 1;
                if f.first_reply_at.is_some() && waiting_since.is_none() {
                    waiting_since = Some(at);
                }
            }
        }
    }
    if let Some(d) = f.done_at {
        f.done_day = Some(slot(cal, d).day);
        f.res_bh = Some(business_ms(cal, created_at, d));
        f.res_wall = Some(d.millis() - created_at.millis());
        f.fcr = f.reopens == 0 && f.agent_replies <= 1;
    }
    f
}

macro_rules! sums {
    ($($(#[$m:meta])* $f:ident),* $(,)?) => {
        /// Additive counters of one bucket (or of any set of buckets, summed).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
        pub struct Sums { $($(#[$m])* pub $f: i64,)* }

        impl Sums {
            /// The counters' names, in [`Sums::to_vec`] order (also the rollup's column names).
            pub const FIELDS: &'static [&'static str] = &[$(stringify!($f)),*];

            pub fn to_vec(&self) -> Vec<i64> { vec![$(self.$f),*] }

            /// From values in [`Sums::FIELDS`] order; missing values are 0.
            pub fn from_slice(v: &[i64]) -> Sums {
                let mut it = v.iter().copied();
                Sums { $($f: it.next().unwrap_or(0),)* }
            }

            pub fn add(&mut self, o: &Sums) { $(self.$f += o.$f;)* }
            pub fn sub(&mut self, o: &Sums) { $(self.$f -= o.$f;)* }
            pub fn is_zero(&self) -> bool { true $(&& self.$f == 0)* }
        }
    };
}

sums! {
    /// Tickets created.
    created,
    /// Of those, solved or closed now.
    solved,
    /// Tickets that became solved/closed on this day (by done day, for the backlog).
    done,
    frt_n, frt_bh, frt_wall,
    nrt_n, nrt_bh,
    res_n, res_bh, res_wall,
    /// Solved tickets' handle time.
    handle_n, handle_bh,
    fcr,
    /// Tickets solved or closed at least once (now or before a reopen).
    ever_solved,
    /// Tickets reopened at least once.
    reopened,
    sla_n, sla_met,
    complaints, repeats,
    agent_replies,
}

/// The `(local day, sums)` pairs a ticket adds to the rollup: everything on its creation
/// day, and `done` on its done day.
pub fn contributions(f: &Facts) -> Vec<(i64, Sums)> {
    let b = |x: bool| i64::from(x);
    let done = f.done_at.is_some();
    let s = Sums {
        created: 1,
        solved: b(done),
        done: 0,
        frt_n: b(f.frt_bh.is_some()),
        frt_bh: f.frt_bh.unwrap_or(0),
        frt_wall: f.frt_wall.unwrap_or(0),
        nrt_n: f.nrt_n,
        nrt_bh: f.nrt_bh,
        res_n: b(done),
        res_bh: f.res_bh.unwrap_or(0),
        res_wall: f.res_wall.unwrap_or(0),
        handle_n: b(done),
        handle_bh: if done { f.handle_bh } else { 0 },
        fcr: b(f.fcr),
        ever_solved: b(done || f.reopens > 0),
        reopened: b(f.reopens > 0),
        sla_n: b(f.extra.sla_tracked),
        sla_met: b(f.extra.sla_tracked && !f.extra.sla_breached),
        complaints: b(f.extra.complaint),
        repeats: b(f.extra.complaint && f.extra.repeat),
        agent_replies: f.agent_replies,
    };
    let mut out = vec![(f.slot.day, s)];
    if let Some(d) = f.done_day {
        let done = Sums { done: 1, ..Sums::default() };
        match out.iter_mut().find(|(day, _)| *day == d) {
            Some((_, s)) => s.add(&done),
            None => out.push((d, done)),
        }
    }
    out
}

/// The bucket deltas that turn `old`'s contributions into `new`'s (zero deltas dropped).
pub fn delta(old: Option<&Facts>, new: Option<&Facts>) -> Vec<(i64, Sums)> {
    let mut out: Vec<(i64, Sums)> = new.map(contributions).unwrap_or_default();
    for (day, s) in old.map(contributions).unwrap_or_default() {
        match out.iter_mut().find(|(d, _)| *d == day) {
            Some((_, x)) => x.sub(&s),
            None => {
                let mut x = Sums::default();
                x.sub(&s);
                out.push((day, x));
            }
        }
    }
    out.retain(|(_, s)| !s.is_zero());
    out
}

/// The `p`-quantile (0 ≤ p ≤ 1) of `values`, interpolating linearly between the two closest
/// ranks (so the median of an even count is the mean of the middle two, and p90 of 1…10 is
/// 9.1); `None` when there are none. Sorts `values`.
pub fn quantile(values: &mut [i64], p: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let pos = p.clamp(0.0, 1.0) * (values.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    let (a, b) = (values[lo] as f64, values[hi] as f64);
    Some(a + (b - a) * (pos - lo as f64))
}

/// `a / b`, or `None` when nothing was counted.
pub fn ratio(a: i64, b: i64) -> Option<f64> {
    (b != 0).then(|| a as f64 / b as f64)
}

/// What a handled hour costs, for cost per case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CostModel {
    /// Fully loaded cost of one agent hour, in fen (分).
    pub agent_hour_fen: i64,
}

impl Default for CostModel {
    fn default() -> CostModel {
        CostModel { agent_hour_fen: 6_000 }
    }
}

/// The ticket KPIs of summed buckets. Times are mean milliseconds, rates 0–1; `None` when
/// the denominator is zero.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Kpis {
    pub created: i64,
    pub solved: i64,
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
}

pub fn kpis(s: &Sums, cost: CostModel) -> Kpis {
    Kpis {
        created: s.created,
        solved: s.solved,
        first_response_ms: ratio(s.frt_bh, s.frt_n),
        first_response_wall_ms: ratio(s.frt_wall, s.frt_n),
        next_reply_ms: ratio(s.nrt_bh, s.nrt_n),
        handle_ms: ratio(s.handle_bh, s.handle_n),
        resolution_ms: ratio(s.res_bh, s.res_n),
        resolution_wall_ms: ratio(s.res_wall, s.res_n),
        closure_rate: ratio(s.solved, s.created),
        fcr_rate: ratio(s.fcr, s.solved),
        reopen_rate: ratio(s.reopened, s.ever_solved),
        sla_attainment: ratio(s.sla_met, s.sla_n),
        repeat_complaint_rate: ratio(s.repeats, s.complaints),
        cost_per_case_fen: ratio(s.handle_bh * cost.agent_hour_fen, s.handle_n * HOUR_MS),
    }
}

/// Answered survey scores: `counts[score]` for scores 0–10.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Scores {
    pub counts: [i64; 11],
}

impl Scores {
    pub fn add(&mut self, score: i64, n: i64) {
        if let Some(c) = usize::try_from(score).ok().and_then(|i| self.counts.get_mut(i)) {
            *c += n;
        }
    }
    pub fn answered(&self) -> i64 {
        self.counts.iter().sum()
    }
    fn between(&self, lo: usize, hi: usize) -> i64 {
        self.counts[lo..=hi].iter().sum()
    }
    pub fn mean(&self) -> Option<f64> {
        let sum: i64 = self.counts.iter().enumerate().map(|(i, n)| i as i64 * n).sum();
        ratio(sum, self.answered())
    }
    /// CSAT (1–5): the share of answers scoring 4 or 5.
    pub fn csat(&self) -> Option<f64> {
        ratio(self.between(4, 5), self.between(1, 5))
    }
    /// NPS (0–10): % promoters (9–10) minus % detractors (0–6), −100…100.
    pub fn nps(&self) -> Option<f64> {
        let n = self.answered();
        ratio(100 * (self.between(9, 10) - self.between(0, 6)), n)
    }
    /// CES (1–7): the mean score.
    pub fn ces(&self) -> Option<f64> {
        self.mean()
    }
}

/// One Pareto bar: a key's count, its share and the cumulative share up to it, and whether
/// it belongs to the "vital few" (the keys that together reach `cut`, e.g. 80 %).
#[derive(Debug, Clone, PartialEq)]
pub struct ParetoBar {
    pub key: String,
    pub count: i64,
    pub share: f64,
    pub cumulative: f64,
    pub vital: bool,
}

/// Sorts by count (descending, then key) and marks the keys before the cumulative share
/// first reaches `cut` (that key included).
pub fn pareto(mut counts: Vec<(String, i64)>, cut: f64) -> Vec<ParetoBar> {
    counts.retain(|(_, n)| *n > 0);
    counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let total: i64 = counts.iter().map(|c| c.1).sum();
    let mut cum = 0;
    counts
        .into_iter()
        .map(|(key, count)| {
            let before = cum as f64 / total as f64;
            cum += count;
            ParetoBar {
                key,
                count,
                share: count as f64 / total as f64,
                cumulative: cum as f64 / total as f64,
                vital: before < cut,
            }
        })
        .collect()
}

/// The civil date of a local day number: (year, month, day). Howard Hinnant's algorithm.
pub fn civil(day: i64) -> (i64, u32, u32) {
    let z = day + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// The local day number of a civil date.
pub fn day_of(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `YYYY-MM-DD`.
pub fn day_label(day: i64) -> String {
    let (y, m, d) = civil(day);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Reads `YYYY-MM-DD` (a real date between 1970 and 9999).
pub fn parse_day(s: &str) -> Option<i64> {
    let s = s.trim();
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let y: i64 = s[0..4].parse().ok()?;
    let m: u32 = s[5..7].parse().ok()?;
    let d: u32 = s[8..10].parse().ok()?;
    let day = day_of(y, m, d);
    (y >= 1970 && civil(day) == (y, m, d)).then_some(day)
}

/// The Monday of the day's ISO week.
pub fn week_of(day: i64) -> i64 {
    day - (day + 3).rem_euclid(7)
}

/// The first day of the day's month.
pub fn month_of(day: i64) -> i64 {
    let (y, m, _) = civil(day);
    day_of(y, m, 1)
}

/// The first local instant of a local day, in the calendar's zone (the offset at noon of that
/// day decides; a zone change at midnight is off by at most the change).
pub fn day_start(cal: &BusinessCalendar, day: i64) -> Timestamp {
    let noon = day * DAY_MS + 12 * HOUR_MS;
    let off = cal.offset_ms(Timestamp::from_millis(noon));
    Timestamp::from_millis(day * DAY_MS - off)
}

#[cfg(test)]
mod tests;
