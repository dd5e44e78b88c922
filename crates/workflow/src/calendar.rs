//! Business-hours calendars: when the service desk is open, in which time zone, and how much
//! open time lies between two instants.
//!
//! A [`BusinessCalendar`] is an IANA time zone, a weekly schedule (several intervals a day, or
//! 24 h), holidays (closed dates) and make-up working days (China's 调休: a weekend date that
//! works). Intervals are wall-clock readings on a date: an interval covers every instant whose
//! local reading lies in it. So on a spring-forward day an interval inside the skipped hour is
//! empty, and on a fall-back day an interval over the repeated hour is an hour longer.
//!
//! Every search is bounded by [`HORIZON_DAYS`]: a calendar that never opens, or a deadline
//! years away, is an error, never an endless loop.

use std::{
    collections::{BTreeMap, BTreeSet},
    fmt,
};

use domain::{ParseError, Timestamp};
use jiff::{
    civil::{Date, DateTime, Time},
    tz::TimeZone,
};

/// How far (in calendar days) a search walks before it gives up.
pub const HORIZON_DAYS: i64 = 3_660;
const DAY_SECS: u32 = 86_400;
const DAY_MS: i64 = 86_400_000;

/// Why a calendar computation has no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    /// The calendar has no open time within [`HORIZON_DAYS`] after `from`.
    #[error("the calendar does not open within {HORIZON_DAYS} days after {from}")]
    NeverOpen { from: Timestamp },
    /// The answer lies more than [`HORIZON_DAYS`] away from `from`.
    #[error("the result lies more than {HORIZON_DAYS} days after {from}")]
    BeyondHorizon { from: Timestamp },
    /// The instant is outside the years -9999..=9999.
    #[error("{at} is outside the supported years -9999..=9999")]
    OutOfRange { at: Timestamp },
}

/// One open interval of a day, as seconds after local midnight; `end` may be 24:00.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Interval {
    start: u32,
    end: u32,
}

impl Interval {
    pub fn start_secs(self) -> u32 {
        self.start
    }
    pub fn end_secs(self) -> u32 {
        self.end
    }
}

impl fmt::Display for Interval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hm = |s: u32| format!("{:02}:{:02}", s / 3600, s / 60 % 60);
        write!(f, "{}-{}", hm(self.start), hm(self.end))
    }
}

/// The open intervals of one day, sorted and disjoint. Empty means closed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DaySchedule(Vec<Interval>);

impl DaySchedule {
    pub fn closed() -> DaySchedule {
        DaySchedule(Vec::new())
    }
    pub fn all_day() -> DaySchedule {
        DaySchedule(vec![Interval { start: 0, end: DAY_SECS }])
    }

    /// Parses `"09:00-12:00, 13:30-18:00"`, `"24h"` or `"closed"` (also the empty string).
    /// `field` names the schedule in errors, e.g. `"calendar.monday"`.
    pub fn parse(field: &'static str, s: &str) -> Result<DaySchedule, ParseError> {
        let s = s.trim();
        if s.is_empty() || s.eq_ignore_ascii_case("closed") {
            return Ok(DaySchedule::closed());
        }
        if s.eq_ignore_ascii_case("24h") {
            return Ok(DaySchedule::all_day());
        }
        let mut out: Vec<Interval> = Vec::new();
        for part in s.split([',', ';']).map(str::trim).filter(|p| !p.is_empty()) {
            let bad = |why: &str| {
                ParseError::new(
                    field,
                    format!(
                        "{part:?} {why}; write intervals as HH:MM-HH:MM separated by commas, e.g. \"09:00-12:00, 13:30-18:00\", or \"24h\" or \"closed\""
                    ),
                )
            };
            let (a, b) =
                part.split_once(['-', '–', '~']).ok_or_else(|| bad("is not an interval"))?;
            let start = parse_clock(a.trim()).ok_or_else(|| bad("has an invalid start time"))?;
            let end = parse_clock(b.trim()).ok_or_else(|| bad("has an invalid end time"))?;
            if start >= DAY_SECS {
                return Err(bad("starts at 24:00; a day's last interval may only end there"));
            }
            if end <= start {
                return Err(bad(
                    "ends before it starts (an interval cannot cross midnight; split it in two days)",
                ));
            }
            out.push(Interval { start, end });
        }
        out.sort();
        for w in out.windows(2) {
            if w[1].start < w[0].end {
                return Err(ParseError::new(
                    field,
                    format!("intervals {} and {} overlap; make them disjoint", w[0], w[1]),
                ));
            }
        }
        Ok(DaySchedule(out))
    }

    pub fn intervals(&self) -> &[Interval] {
        &self.0
    }
    pub fn is_closed(&self) -> bool {
        self.0.is_empty()
    }
    fn is_all_day(&self) -> bool {
        self.0.first().is_some_and(|i| i.start == 0) && self.open_secs() == DAY_SECS
    }
    fn open_secs(&self) -> u32 {
        self.0.iter().map(|i| i.end - i.start).sum()
    }
}

impl fmt::Display for DaySchedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("closed");
        }
        let parts: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        f.write_str(&parts.join(", "))
    }
}

/// `HH:MM` or `HH:MM:SS`, 00:00 to 24:00, as seconds after midnight.
fn parse_clock(s: &str) -> Option<u32> {
    let mut it = s.split(':');
    let mut num = |max: u32| -> Option<u32> {
        let p = it.next()?;
        if p.is_empty() || p.len() > 2 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        p.parse().ok().filter(|v| *v <= max)
    };
    let h = num(24)?;
    let m = num(59)?;
    let sec = match it.next() {
        None => 0,
        Some(p) if p.len() == 2 && p.bytes().all(|b| b.is_ascii_digit()) => {
            p.parse::<u32>().ok().filter(|v| *v <= 59)?
        }
        Some(_) => return None,
    };
    if it.next().is_some() {
        return None;
    }
    let total = h * 3600 + m * 60 + sec;
    (total <= DAY_SECS).then_some(total)
}

/// A calendar as an administrator enters it: text, checked by [`BusinessCalendar::parse`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CalendarDef {
    /// IANA name, e.g. `Asia/Shanghai`.
    pub time_zone: String,
    /// Monday first; each as [`DaySchedule::parse`] reads it.
    pub week: [String; 7],
    /// Closed dates, `YYYY-MM-DD`.
    pub holidays: Vec<String>,
    /// Make-up working days: a date and its schedule; `None` works the Monday schedule.
    pub workdays: Vec<(String, Option<String>)>,
}

/// A parsed business-hours calendar. See the module doc for the semantics.
#[derive(Debug, Clone, PartialEq)]
pub struct BusinessCalendar {
    tz: TimeZone,
    week: [DaySchedule; 7],
    holidays: BTreeSet<Date>,
    workdays: BTreeMap<Date, DaySchedule>,
    /// Open at every instant: 24 h every weekday, no holidays, no make-up days.
    always: bool,
}

const WEEKDAY_FIELDS: [&str; 7] = [
    "calendar.monday",
    "calendar.tuesday",
    "calendar.wednesday",
    "calendar.thursday",
    "calendar.friday",
    "calendar.saturday",
    "calendar.sunday",
];

impl BusinessCalendar {
    /// 7×24 in UTC: every instant is open, business time equals wall time.
    pub fn always() -> BusinessCalendar {
        BusinessCalendar {
            tz: TimeZone::UTC,
            week: std::array::from_fn(|_| DaySchedule::all_day()),
            holidays: BTreeSet::new(),
            workdays: BTreeMap::new(),
            always: true,
        }
    }

    pub fn parse(def: &CalendarDef) -> Result<BusinessCalendar, ParseError> {
        let name = def.time_zone.trim();
        let tz = jiff::tz::db().get(name).map_err(|_| {
            ParseError::new(
                "calendar.time_zone",
                format!("{name:?} is not an IANA time zone; write one such as Asia/Shanghai or America/New_York"),
            )
        })?;
        let mut week: [DaySchedule; 7] = Default::default();
        for (i, text) in def.week.iter().enumerate() {
            week[i] = DaySchedule::parse(WEEKDAY_FIELDS[i], text)?;
        }
        let mut holidays = BTreeSet::new();
        for h in &def.holidays {
            holidays.insert(parse_date("calendar.holidays", h)?);
        }
        let mut workdays = BTreeMap::new();
        for (d, sched) in &def.workdays {
            let date = parse_date("calendar.workdays", d)?;
            if holidays.contains(&date) {
                return Err(ParseError::new(
                    "calendar.workdays",
                    format!(
                        "{date} is both a holiday and a make-up working day; keep it in one list"
                    ),
                ));
            }
            let sched = match sched {
                Some(s) => DaySchedule::parse("calendar.workdays", s)?,
                None => week[0].clone(),
            };
            if workdays.insert(date, sched).is_some() {
                return Err(ParseError::new(
                    "calendar.workdays",
                    format!("{date} is listed twice; list each make-up working day once"),
                ));
            }
        }
        let always =
            week.iter().all(DaySchedule::is_all_day) && holidays.is_empty() && workdays.is_empty();
        Ok(BusinessCalendar { tz, week, holidays, workdays, always })
    }

    /// Monday first.
    pub fn week(&self) -> &[DaySchedule; 7] {
        &self.week
    }
    pub fn holidays(&self) -> impl Iterator<Item = Date> + '_ {
        self.holidays.iter().copied()
    }
    pub fn workdays(&self) -> impl Iterator<Item = (Date, &DaySchedule)> {
        self.workdays.iter().map(|(d, s)| (*d, s))
    }

    pub fn time_zone(&self) -> &str {
        self.tz.iana_name().unwrap_or("UTC")
    }

    /// The schedule that applies on a local date: a make-up day's, none on a holiday, else the
    /// weekday's.
    pub fn schedule_on(&self, date: Date) -> &DaySchedule {
        static CLOSED: DaySchedule = DaySchedule(Vec::new());
        if let Some(s) = self.workdays.get(&date) {
            return s;
        }
        if self.holidays.contains(&date) {
            return &CLOSED;
        }
        &self.week[date.weekday().to_monday_zero_offset() as usize]
    }

    /// Whether `t` lies inside an open interval (an interval includes its start, not its end).
    /// Instants outside the supported years are closed.
    pub fn is_open(&self, t: Timestamp) -> bool {
        if self.always {
            return to_jiff(t).is_ok();
        }
        let Ok(date) = self.local_date(t) else { return false };
        [date.yesterday().ok(), Some(date)].into_iter().flatten().any(|d| {
            self.day_intervals(d)
                .is_ok_and(|v| v.iter().any(|&(s, e)| s <= t.millis() && t.millis() < e))
        })
    }

    /// The first open instant at or after `t`.
    pub fn next_open(&self, t: Timestamp) -> Result<Timestamp, CalendarError> {
        let mut found = None;
        self.walk(t, |s, _| {
            found = Some(s);
            false
        })?;
        found.map(Timestamp::from_millis).ok_or(CalendarError::NeverOpen { from: t })
    }

    /// The deadline `duration_ms` of open time after `t`: walks the open intervals. A deadline
    /// that uses up an interval exactly is that interval's closing time. A non-positive duration
    /// is due at `t` itself, even when `t` is closed.
    pub fn add_business(&self, t: Timestamp, duration_ms: i64) -> Result<Timestamp, CalendarError> {
        to_jiff(t)?;
        if duration_ms <= 0 {
            return Ok(t);
        }
        if self.always {
            let end = t.plus_millis(duration_ms);
            return if end.millis() - t.millis() > HORIZON_DAYS * DAY_MS {
                Err(CalendarError::BeyondHorizon { from: t })
            } else {
                to_jiff(end).map(|_| end)
            };
        }
        let mut left = duration_ms;
        let mut due = None;
        let walked = self.walk(t, |s, e| {
            if left <= e - s {
                due = Some(s + left);
                return false;
            }
            left -= e - s;
            true
        });
        match (due, walked) {
            (Some(d), _) => Ok(Timestamp::from_millis(d)),
            (None, Err(e)) => Err(e),
            (None, Ok(())) if left == duration_ms => Err(CalendarError::NeverOpen { from: t }),
            (None, Ok(())) => Err(CalendarError::BeyondHorizon { from: t }),
        }
    }

    /// Open milliseconds in `[a, b)`; zero when `b <= a`.
    pub fn business_between(&self, a: Timestamp, b: Timestamp) -> Result<i64, CalendarError> {
        to_jiff(a)?;
        to_jiff(b)?;
        if b <= a {
            return Ok(0);
        }
        if b.millis().saturating_sub(a.millis()) > HORIZON_DAYS * DAY_MS {
            return Err(CalendarError::BeyondHorizon { from: a });
        }
        if self.always {
            return Ok(b.millis() - a.millis());
        }
        let mut sum = 0;
        let end = b.millis();
        // The walk may stop at the horizon without reaching `b`, which lies inside it: fine.
        let _ = self.walk(a, |s, e| {
            if s >= end {
                return false;
            }
            sum += e.min(end) - s;
            e < end
        });
        Ok(sum)
    }

    /// Calls `f(start, end)` (Unix millis) for each open stretch after `from`, clipped to start
    /// at or after `from`, in order, until `f` returns false or the horizon is reached
    /// (`Ok(())` either way). Adjacent intervals, also across midnight, are passed as one.
    fn walk(
        &self,
        from: Timestamp,
        mut f: impl FnMut(i64, i64) -> bool,
    ) -> Result<(), CalendarError> {
        let start_date = self.local_date(from)?;
        let mut date = start_date.yesterday().unwrap_or(start_date);
        let mut cursor = from.millis();
        let mut pending: Option<(i64, i64)> = None;
        let mut days = 0;
        loop {
            if days > HORIZON_DAYS + 3 {
                break;
            }
            days += 1;
            // Beyond the last supported date the walk just ends.
            let Ok(intervals) = self.day_intervals(date) else { break };
            for (s, e) in intervals {
                let s = s.max(cursor);
                if e <= s {
                    continue;
                }
                cursor = e;
                pending = match pending {
                    Some((ps, pe)) if pe == s => Some((ps, e)),
                    Some((ps, pe)) => {
                        if !f(ps, pe) {
                            return Ok(());
                        }
                        Some((s, e))
                    }
                    None => Some((s, e)),
                };
            }
            match date.tomorrow() {
                Ok(d) => date = d,
                Err(_) => break,
            }
        }
        if let Some((s, e)) = pending {
            f(s, e);
        }
        Ok(())
    }

    /// A date's open intervals as Unix millis; empty intervals (inside a skipped hour) dropped.
    fn day_intervals(&self, date: Date) -> Result<Vec<(i64, i64)>, jiff::Error> {
        let sched = self.schedule_on(date);
        let mut out = Vec::with_capacity(sched.0.len());
        for iv in &sched.0 {
            let s = self.instant(date, iv.start)?;
            let e = self.instant(date, iv.end)?;
            if s < e {
                out.push((s, e));
            }
        }
        Ok(out)
    }

    /// The instant a wall clock in this zone reads `secs` after midnight on `date`; 24:00 is
    /// the next day's midnight. Readings in a gap move forward, readings in a fold take the
    /// earlier instant (jiff's "compatible", as RFC 5545 and Temporal do).
    fn instant(&self, date: Date, secs: u32) -> Result<i64, jiff::Error> {
        let (date, secs) = if secs >= DAY_SECS { (date.tomorrow()?, 0) } else { (date, secs) };
        let time = Time::new((secs / 3600) as i8, (secs / 60 % 60) as i8, (secs % 60) as i8, 0)?;
        let ts = self.tz.to_ambiguous_timestamp(DateTime::from_parts(date, time)).compatible()?;
        Ok(ts.as_millisecond())
    }

    /// The zone's UTC offset at `t` in milliseconds (0 outside the supported years): local
    /// wall time is `t + offset`. Analytics buckets instants into local days and hours with it.
    pub fn offset_ms(&self, t: Timestamp) -> i64 {
        to_jiff(t).map_or(0, |j| i64::from(self.tz.to_offset(j).seconds()) * 1000)
    }

    fn local_date(&self, t: Timestamp) -> Result<Date, CalendarError> {
        Ok(self.tz.to_datetime(to_jiff(t)?).date())
    }
}

fn to_jiff(t: Timestamp) -> Result<jiff::Timestamp, CalendarError> {
    jiff::Timestamp::from_millisecond(t.millis()).map_err(|_| CalendarError::OutOfRange { at: t })
}

fn parse_date(field: &'static str, s: &str) -> Result<Date, ParseError> {
    let s = s.trim();
    let ok = s.len() == 10 && s.as_bytes()[4] == b'-' && s.as_bytes()[7] == b'-';
    ok.then(|| s.parse::<Date>().ok()).flatten().ok_or_else(|| {
        ParseError::new(field, format!("{s:?} is not a date; write YYYY-MM-DD, e.g. 2026-10-01"))
    })
}

#[cfg(test)]
mod tests;
