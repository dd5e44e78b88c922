//! The SLA policies and business calendar a new workspace starts with (SPEC TK-2, TK-4).
//!
//! TK-2 gives targets by severity (L1 team formed within 30 min, L2 closed within 24 h, L3
//! within 72 h) and TK-4 by tier (VIP first response 1 h, ordinary 4 h), urgency (urgent first
//! response 30 min) and problem kind (technical fault 2 h, service attitude 4 h, contract
//! dispute 24 h with legal). TK-4 does not name the metric of the problem-kind targets. We read
//! technical fault and service attitude as first-response targets (they sit beside the tier
//! targets; SP's 4 h equals the ordinary one, so it needs no policy of its own). The contract
//! dispute target cannot be a first response looser than the ordinary 4 h, so we read it as the
//! resolution target (an answer with legal's position), capping L3's and L4's.
//!
//! One policy applies per ticket (first match wins), so the defaults are the product of the
//! two independent rules, ordered most restrictive first:
//! 1. L1: first response 30 min on the wall clock, 7×24 (a crisis does not wait for Monday);
//! 2. then resolution by severity — L2 24 h; TD/RL at L3/L4 24 h; L3 72 h; L4 none — each
//!    crossed with first response — urgent or critical 30 min; VIP 1 h; PQ 2 h; otherwise 4 h.
//!
//! Everything but L1 counts business hours of the `default` calendar; every target warns at
//! 80 %. Administrators edit or reorder these like any other policy.

use domain::{ProblemCode, Severity, Tier, Urgency};

use crate::{
    calendar::{BusinessCalendar, CalendarDef},
    sla::{CalendarId, Conditions, Metric, SlaPolicy, Target},
};

/// The id the default policies' business targets refer to.
pub const DEFAULT_CALENDAR: &str = "default";

/// Asia/Shanghai, Monday to Friday 09:00–12:00 and 13:30–18:00, no holidays. Holidays and
/// make-up days (法定节假日, 调休) change every year: administrators enter their year's.
pub fn default_calendar_def() -> CalendarDef {
    let weekday = "09:00-12:00, 13:30-18:00".to_string();
    CalendarDef {
        time_zone: "Asia/Shanghai".into(),
        week: [
            weekday.clone(),
            weekday.clone(),
            weekday.clone(),
            weekday.clone(),
            weekday,
            "closed".into(),
            "closed".into(),
        ],
        holidays: Vec::new(),
        workdays: Vec::new(),
    }
}

/// [`default_calendar_def`] parsed, under [`DEFAULT_CALENDAR`].
pub fn default_calendars() -> crate::sla::Calendars {
    let mut out = crate::sla::Calendars::new();
    if let (Ok(id), Ok(cal)) =
        (CalendarId::parse(DEFAULT_CALENDAR), BusinessCalendar::parse(&default_calendar_def()))
    {
        out.insert(id, cal);
    }
    out
}

/// A row of the resolution-by-severity rule: name, severities, problem codes, target.
type ResolutionRule<'a> = (&'a str, Vec<Severity>, Vec<ProblemCode>, Option<&'a str>);

/// The default policies, in order. See the module doc.
pub fn default_policies() -> Vec<SlaPolicy> {
    let business = format!("business:{DEFAULT_CALENDAR}");
    let target = |m: Metric, d: &str, mode: &str| Target::parse(m, d, mode, "80%");
    let code = |s: &str| ProblemCode::parse(s);
    let build = || -> Result<Vec<SlaPolicy>, domain::ParseError> {
        let mut out = vec![SlaPolicy::new(
            "L1 重大紧急",
            Conditions { severity: vec![Severity::L1], ..Conditions::default() },
            vec![(Metric::FirstResponse, target(Metric::FirstResponse, "30m", "calendar")?)],
        )?];
        let legal = vec![code("TD")?, code("RL")?];
        let resolution: [ResolutionRule; 4] = [
            ("L2", vec![Severity::L2], vec![], Some("24h")),
            ("L3/L4 TD/RL", vec![Severity::L3, Severity::L4], legal.clone(), Some("24h")),
            ("L3", vec![Severity::L3], vec![], Some("72h")),
            ("L4", vec![Severity::L4], vec![], None),
        ];
        for (rname, severity, codes, res) in resolution {
            let first: [(&str, Conditions, &str); 4] = [
                (
                    "urgent",
                    Conditions {
                        urgency: vec![Urgency::Urgent, Urgency::Critical],
                        ..Conditions::default()
                    },
                    "30m",
                ),
                ("VIP", Conditions { tier: vec![Tier::Vip], ..Conditions::default() }, "1h"),
                (
                    "PQ",
                    Conditions { problem_code: vec![code("PQ")?], ..Conditions::default() },
                    "2h",
                ),
                ("ordinary", Conditions::default(), "4h"),
            ];
            for (fname, cond, fr) in first {
                // A TD/RL policy crossed with the PQ one could never match.
                if !codes.is_empty() && !cond.problem_code.is_empty() {
                    continue;
                }
                let mut targets =
                    vec![(Metric::FirstResponse, target(Metric::FirstResponse, fr, &business)?)];
                if let Some(r) = res {
                    targets.push((Metric::Resolution, target(Metric::Resolution, r, &business)?));
                }
                let conditions = Conditions {
                    severity: severity.clone(),
                    problem_code: if codes.is_empty() { cond.problem_code } else { codes.clone() },
                    ..cond
                };
                out.push(SlaPolicy::new(&format!("{rname} · {fname}"), conditions, targets)?);
            }
        }
        Ok(out)
    };
    // The inputs above are constants that parse; the tests assert the list is complete.
    build().unwrap_or_default()
}

#[cfg(test)]
mod tests;
