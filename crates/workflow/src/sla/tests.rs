//! Tests for `sla`: ticket histories as compact text fixtures, replayed into metric states whose
//! deadlines are checked to the second (times are Asia/Shanghai, +08:00); selection, policy
//! parsing, next deadline and the event diff. Holiday dates are made up for the tests.

use domain::{Channel, ProblemCode, Severity, Status, Tier, Timestamp, Urgency};
use expect_test::{Expect, expect};

use super::*;
use crate::calendar::{BusinessCalendar, CalendarDef};

const OFFICE: &str = "09:00-12:00, 13:30-18:00";

fn calendars() -> Calendars {
    let def = CalendarDef {
        time_zone: "Asia/Shanghai".into(),
        week: [OFFICE, OFFICE, OFFICE, OFFICE, OFFICE, "closed", "closed"].map(String::from),
        holidays: ["2026-10-01", "2026-10-02", "2026-10-05", "2026-10-06", "2026-10-07"]
            .map(String::from)
            .to_vec(),
        workdays: vec![("2026-10-10".into(), None)],
    };
    let mut c = Calendars::new();
    c.insert(CalendarId::parse("cn").unwrap(), BusinessCalendar::parse(&def).unwrap());
    c
}

/// First response 1 h (warn 80 %), next response 30 min (warn 10 min before), periodic update
/// 2 h, resolution 8 h (warn 80 %); all on the `cn` calendar.
fn policy() -> SlaPolicy {
    let b = "business:cn";
    SlaPolicy::new(
        "test",
        Conditions::default(),
        vec![
            (Metric::FirstResponse, Target::parse(Metric::FirstResponse, "1h", b, "80%").unwrap()),
            (
                Metric::NextResponse,
                Target::parse(Metric::NextResponse, "30m", b, "10m before").unwrap(),
            ),
            (Metric::PeriodicUpdate, Target::parse(Metric::PeriodicUpdate, "2h", b, "").unwrap()),
            (Metric::Resolution, Target::parse(Metric::Resolution, "8h", b, "0.8").unwrap()),
        ],
    )
    .unwrap()
}

/// `YYYY-MM-DD HH:MM[:SS]` in +08:00.
fn at(s: &str) -> Timestamp {
    let s = if s.len() == 16 { format!("{s}:00") } else { s.to_string() };
    let t: jiff::Timestamp = format!("{}+08:00", s.replacen(' ', "T", 1)).parse().unwrap();
    Timestamp::from_millis(t.as_millisecond())
}

fn show(t: Timestamp) -> String {
    let Ok(t) = jiff::Timestamp::from_millisecond(t.millis()) else { return format!("{t}") };
    let dt = jiff::tz::TimeZone::fixed(jiff::tz::offset(8)).to_datetime(t);
    format!("{} {:02}:{:02}:{:02}", dt.date(), dt.hour(), dt.minute(), dt.second())
}

fn hms(ms: i64) -> String {
    let s = ms / 1000;
    format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

/// One event a line: `<date> <time> created | agent | note | customer | status <status>`.
fn events(fixture: &str) -> Vec<TicketEvent> {
    fixture
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| {
            let mut w = l.split_whitespace();
            let t = at(&format!("{} {}", w.next().unwrap(), w.next().unwrap()));
            match (w.next().unwrap(), w.next()) {
                ("created", _) => TicketEvent::Created { at: t },
                ("agent", _) => TicketEvent::AgentReplied { at: t, public: true },
                ("note", _) => TicketEvent::AgentReplied { at: t, public: false },
                ("customer", _) => TicketEvent::CustomerReplied { at: t },
                ("status", Some(s)) => {
                    TicketEvent::StatusChanged { at: t, to: Status::parse(s).unwrap() }
                }
                other => panic!("bad fixture line {l:?}: {other:?}"),
            }
        })
        .collect()
}

fn render(states: &[MetricState]) -> String {
    let opt = |t: Option<Timestamp>| t.map(show).unwrap_or_else(|| "-".into());
    let mut out = String::new();
    for s in states {
        let phase = match s.phase {
            Phase::Running { since } => format!("running since {}", show(since)),
            Phase::Paused { since } => format!("paused since {}", show(since)),
            Phase::Fulfilled { at } => format!("fulfilled {}", show(at)),
        };
        out += &format!(
            "{}#{} activated {} {phase} elapsed {}\n    due {} warn {} warned {} breached {}{}\n",
            s.metric.as_str(),
            s.cycle,
            show(s.activated_at),
            hms(s.elapsed_ms),
            opt(s.due_at),
            opt(s.warn_at),
            opt(s.warned_at),
            opt(s.breached_at),
            s.problem.as_ref().map(|p| format!(" problem {p:?}")).unwrap_or_default(),
        );
    }
    match next_deadline(states) {
        Some(d) => {
            out +=
                &format!("next: {:?} {}#{} at {}\n", d.kind, d.metric.as_str(), d.cycle, show(d.at))
        }
        None => out += "next: none\n",
    }
    out
}

fn check(fixture: &str, now: &str, expect: Expect) {
    let states = evaluate(&policy(), &calendars(), &events(fixture), at(now));
    expect.assert_eq(&render(&states));
}

#[test]
fn first_response_across_lunch() {
    // Due 11:30 + 1 h = 14:00 (30 min before lunch, 30 after); warning at 48 min = 13:48.
    check(
        "2026-09-14 11:30 created
         2026-09-14 13:50 agent",
        "2026-09-14 15:00",
        expect![[r#"
            first_response#0 activated 2026-09-14 11:30:00 fulfilled 2026-09-14 13:50:00 elapsed 0:50:00
                due - warn 2026-09-14 13:48:00 warned 2026-09-14 13:48:00 breached -
            periodic_update#0 activated 2026-09-14 13:50:00 running since 2026-09-14 13:50:00 elapsed 1:10:00
                due 2026-09-14 15:50:00 warn - warned - breached -
            resolution#0 activated 2026-09-14 11:30:00 running since 2026-09-14 11:30:00 elapsed 2:00:00
                due 2026-09-15 12:00:00 warn 2026-09-15 10:24:00 warned - breached -
            next: Breach periodic_update#0 at 2026-09-14 15:50:00
        "#]],
    );
}

#[test]
fn next_response_periodic_update_and_pending_pause() {
    check(
        "2026-09-14 10:00 created
         2026-09-14 10:20 agent
         2026-09-14 10:40 customer
         2026-09-14 11:20 agent
         2026-09-14 11:25 status pending
         2026-09-15 10:00 customer
         2026-09-15 10:00 status open",
        "2026-09-15 10:25",
        expect![[r#"
            first_response#0 activated 2026-09-14 10:00:00 fulfilled 2026-09-14 10:20:00 elapsed 0:20:00
                due - warn - warned - breached -
            next_response#0 activated 2026-09-14 10:40:00 fulfilled 2026-09-14 11:20:00 elapsed 0:40:00
                due 2026-09-14 11:10:00 warn 2026-09-14 11:00:00 warned 2026-09-14 11:00:00 breached 2026-09-14 11:10:00
            next_response#1 activated 2026-09-15 10:00:00 running since 2026-09-15 10:00:00 elapsed 0:25:00
                due 2026-09-15 10:30:00 warn 2026-09-15 10:20:00 warned 2026-09-15 10:20:00 breached -
            periodic_update#0 activated 2026-09-14 10:20:00 fulfilled 2026-09-14 11:20:00 elapsed 1:00:00
                due - warn - warned - breached -
            periodic_update#1 activated 2026-09-14 11:20:00 running since 2026-09-15 10:00:00 elapsed 0:30:00
                due 2026-09-15 11:55:00 warn - warned - breached -
            resolution#0 activated 2026-09-14 10:00:00 running since 2026-09-15 10:00:00 elapsed 1:50:00
                due 2026-09-16 09:05:00 warn 2026-09-15 16:29:00 warned - breached -
            next: Breach next_response#1 at 2026-09-15 10:30:00
        "#]],
    );
}

#[test]
fn solve_and_reopen_across_holidays() {
    check(
        "2026-09-30 17:00 created
         2026-09-30 17:30 agent
         2026-09-30 17:45 status solved
         2026-10-03 10:00 status reopen
         2026-10-03 10:00 customer",
        "2026-10-08 10:00",
        expect![[r#"
            first_response#0 activated 2026-09-30 17:00:00 fulfilled 2026-09-30 17:30:00 elapsed 0:30:00
                due - warn - warned - breached -
            next_response#0 activated 2026-10-03 10:00:00 running since 2026-10-03 10:00:00 elapsed 1:00:00
                due 2026-10-08 09:30:00 warn 2026-10-08 09:20:00 warned 2026-10-08 09:20:00 breached 2026-10-08 09:30:00
            periodic_update#0 activated 2026-09-30 17:30:00 fulfilled 2026-09-30 17:45:00 elapsed 0:15:00
                due - warn - warned - breached -
            periodic_update#1 activated 2026-10-03 10:00:00 running since 2026-10-03 10:00:00 elapsed 1:00:00
                due 2026-10-08 11:00:00 warn - warned - breached -
            resolution#0 activated 2026-09-30 17:00:00 running since 2026-10-03 10:00:00 elapsed 1:45:00
                due 2026-10-08 17:45:00 warn 2026-10-08 16:09:00 warned - breached -
            next: Breach periodic_update#1 at 2026-10-08 11:00:00
        "#]],
    );
}

#[test]
fn on_hold_pauses_resolution_but_not_updates() {
    // Make-up Saturday 10-10 counts; internal notes fulfil nothing.
    check(
        "2026-10-09 16:00 created
         2026-10-09 16:30 agent
         2026-10-09 17:00 status on_hold
         2026-10-09 17:30 note
         2026-10-10 10:00 status open",
        "2026-10-10 10:30",
        expect![[r#"
            first_response#0 activated 2026-10-09 16:00:00 fulfilled 2026-10-09 16:30:00 elapsed 0:30:00
                due - warn - warned - breached -
            periodic_update#0 activated 2026-10-09 16:30:00 running since 2026-10-09 16:30:00 elapsed 3:00:00
                due 2026-10-10 09:30:00 warn - warned - breached 2026-10-10 09:30:00
            resolution#0 activated 2026-10-09 16:00:00 running since 2026-10-10 10:00:00 elapsed 1:30:00
                due 2026-10-12 09:30:00 warn 2026-10-10 16:54:00 warned - breached -
            next: Warn resolution#0 at 2026-10-10 16:54:00
        "#]],
    );
}

#[test]
fn calendar_mode_runs_through_the_night() {
    let p = SlaPolicy::new(
        "L1",
        Conditions::default(),
        vec![(
            Metric::FirstResponse,
            Target::parse(Metric::FirstResponse, "30m", "calendar", "80%").unwrap(),
        )],
    )
    .unwrap();
    let states = evaluate(
        &p,
        &Calendars::new(),
        &events("2026-09-19 22:00 created"),
        at("2026-09-19 22:40"),
    );
    expect![[r#"
        first_response#0 activated 2026-09-19 22:00:00 running since 2026-09-19 22:00:00 elapsed 0:40:00
            due 2026-09-19 22:30:00 warn 2026-09-19 22:24:00 warned 2026-09-19 22:24:00 breached 2026-09-19 22:30:00
        next: none
    "#]]
    .assert_eq(&render(&states));
}

#[test]
fn instants_at_the_deadline() {
    // A reply exactly at the deadline is in time; an evaluation exactly at it is a breach.
    check(
        "2026-09-14 10:00 created
         2026-09-14 11:00 agent",
        "2026-09-14 11:00",
        expect![[r#"
            first_response#0 activated 2026-09-14 10:00:00 fulfilled 2026-09-14 11:00:00 elapsed 1:00:00
                due - warn 2026-09-14 10:48:00 warned 2026-09-14 10:48:00 breached -
            periodic_update#0 activated 2026-09-14 11:00:00 running since 2026-09-14 11:00:00 elapsed 0:00:00
                due 2026-09-14 14:30:00 warn - warned - breached -
            resolution#0 activated 2026-09-14 10:00:00 running since 2026-09-14 10:00:00 elapsed 1:00:00
                due 2026-09-15 10:30:00 warn 2026-09-14 17:54:00 warned - breached -
            next: Breach periodic_update#0 at 2026-09-14 14:30:00
        "#]],
    );
    check(
        "2026-09-14 10:00 created",
        "2026-09-14 11:00",
        expect![[r#"
        first_response#0 activated 2026-09-14 10:00:00 running since 2026-09-14 10:00:00 elapsed 1:00:00
            due 2026-09-14 11:00:00 warn 2026-09-14 10:48:00 warned 2026-09-14 10:48:00 breached 2026-09-14 11:00:00
        resolution#0 activated 2026-09-14 10:00:00 running since 2026-09-14 10:00:00 elapsed 1:00:00
            due 2026-09-15 10:30:00 warn 2026-09-14 17:54:00 warned - breached -
        next: Warn resolution#0 at 2026-09-14 17:54:00
    "#]],
    );
    // Paused exactly at the deadline, it breaches when it runs again.
    let p = SlaPolicy::new(
        "p",
        Conditions::default(),
        vec![(
            Metric::Resolution,
            Target::parse(Metric::Resolution, "1h", "business:cn", "59m before").unwrap(),
        )],
    )
    .unwrap();
    let ev = events(
        "2026-09-14 10:00 created
         2026-09-14 11:00 status pending
         2026-09-14 15:00 status open",
    );
    expect![[r#"
        resolution#0 activated 2026-09-14 10:00:00 running since 2026-09-14 15:00:00 elapsed 1:00:00
            due 2026-09-14 15:00:00 warn 2026-09-14 10:01:00 warned 2026-09-14 10:01:00 breached 2026-09-14 15:00:00
        next: none
    "#]]
    .assert_eq(&render(&evaluate(&p, &calendars(), &ev, at("2026-09-14 15:00"))));
}

#[test]
fn events_out_of_order_duplicated_early_or_late() {
    let sorted = events(
        "2026-09-14 10:00 created
         2026-09-14 10:20 agent
         2026-09-14 10:40 customer
         2026-09-14 11:25 status pending",
    );
    let now = at("2026-09-14 12:00");
    let want = evaluate(&policy(), &calendars(), &sorted, now);
    let mut shuffled = sorted.clone();
    shuffled.reverse();
    shuffled.extend(sorted.iter().copied());
    // Before creation and after now: ignored.
    shuffled.push(TicketEvent::AgentReplied { at: at("2026-09-14 09:00"), public: true });
    shuffled.push(TicketEvent::CustomerReplied { at: at("2026-09-14 09:30") });
    shuffled.push(TicketEvent::AgentReplied { at: at("2026-09-14 13:00"), public: true });
    shuffled.push(TicketEvent::Created { at: at("2026-09-14 11:00") });
    assert_eq!(evaluate(&policy(), &calendars(), &shuffled, now), want);
    // No creation, no clocks.
    assert_eq!(evaluate(&policy(), &calendars(), &sorted[1..], now), vec![]);
}

#[test]
fn problems_instead_of_panics() {
    // A missing calendar: states without deadlines, named problem, no timer.
    let ev = events("2026-09-14 10:00 created");
    let states = evaluate(&policy(), &Calendars::new(), &ev, at("2026-09-14 12:00"));
    expect![[r#"
        first_response#0 activated 2026-09-14 10:00:00 running since 2026-09-14 10:00:00 elapsed 0:00:00
            due - warn - warned - breached - problem UnknownCalendar(CalendarId("cn"))
        resolution#0 activated 2026-09-14 10:00:00 running since 2026-09-14 10:00:00 elapsed 0:00:00
            due - warn - warned - breached - problem UnknownCalendar(CalendarId("cn"))
        next: none
    "#]]
    .assert_eq(&render(&states));
    // Instants at the ends of i64: no panic, problems reported.
    for (c, n) in [(i64::MIN, i64::MAX), (0, i64::MAX), (i64::MIN, i64::MIN), (i64::MAX, i64::MAX)]
    {
        let ev = [
            TicketEvent::Created { at: Timestamp::from_millis(c) },
            TicketEvent::CustomerReplied { at: Timestamp::from_millis(c) },
            TicketEvent::AgentReplied { at: Timestamp::from_millis(c), public: true },
        ];
        let states = evaluate(&policy(), &calendars(), &ev, Timestamp::from_millis(n));
        assert!(
            states.iter().all(|s| !s.is_active() || s.problem.is_some()),
            "{c} {n}: {states:?}"
        );
        let _ = next_deadline(&states);
    }
}

#[test]
fn sla_event_log_by_diff() {
    // Evaluate after every change and at every timer, as the app will, and diff.
    let all = events(
        "2026-09-14 10:00 created
         2026-09-14 10:20 agent
         2026-09-14 10:40 customer
         2026-09-14 11:20 agent
         2026-09-14 11:25 status pending
         2026-09-15 10:00 status open
         2026-09-15 11:00 status solved
         2026-09-16 09:00 status reopen",
    );
    let (p, cals) = (policy(), calendars());
    let mut log = String::new();
    let mut before: Vec<MetricState> = Vec::new();
    let mut now = at("2026-09-14 10:00");
    let end = at("2026-09-16 12:00");
    while now <= end {
        let after = evaluate(&p, &cals, &all, now);
        for e in diff(&before, &after) {
            log += &format!("{} {}#{} {:?}\n", show(e.at), e.metric.as_str(), e.cycle, e.kind);
        }
        // The next moment anything can change: the next ticket event or the next timer.
        let next_event = all.iter().map(TicketEvent::at).filter(|t| *t > now).min();
        let next_timer = next_deadline(&after).map(|d| d.at).filter(|t| *t > now);
        before = after;
        now = match (next_event, next_timer) {
            (Some(a), Some(b)) => a.min(b),
            (a, b) => match a.or(b) {
                Some(t) => t,
                None => break,
            },
        };
    }
    expect![[r#"
        2026-09-14 10:00:00 first_response#0 Activated
        2026-09-14 10:00:00 resolution#0 Activated
        2026-09-14 10:20:00 first_response#0 Fulfilled
        2026-09-14 10:20:00 periodic_update#0 Activated
        2026-09-14 10:40:00 next_response#0 Activated
        2026-09-14 11:00:00 next_response#0 Warned
        2026-09-14 11:10:00 next_response#0 Breached
        2026-09-14 11:20:00 next_response#0 Fulfilled
        2026-09-14 11:20:00 periodic_update#0 Fulfilled
        2026-09-14 11:20:00 periodic_update#1 Activated
        2026-09-14 11:25:00 periodic_update#1 Paused
        2026-09-14 11:25:00 resolution#0 Paused
        2026-09-15 10:00:00 periodic_update#1 Resumed
        2026-09-15 10:00:00 resolution#0 Resumed
        2026-09-15 11:00:00 periodic_update#1 Fulfilled
        2026-09-15 11:00:00 resolution#0 Fulfilled
        2026-09-16 09:00:00 periodic_update#2 Activated
        2026-09-16 09:00:00 resolution#0 Activated
        2026-09-16 11:00:00 periodic_update#2 Breached
    "#]]
    .assert_eq(&log);
}

fn facts(severity: Severity, tier: Tier, code: Option<&str>, urgency: Urgency) -> TicketFacts {
    TicketFacts {
        severity,
        tier,
        problem_code: code.map(|c| ProblemCode::parse(c).unwrap()),
        channel: Channel::WebChat,
        urgency,
        team: None,
    }
}

#[test]
fn selection_first_match_and_code_prefixes() {
    let t = |m| Target::parse(m, "1h", "calendar", "").unwrap();
    let p = |name: &str, conditions: Conditions| {
        SlaPolicy::new(name, conditions, vec![(Metric::FirstResponse, t(Metric::FirstResponse))])
            .unwrap()
    };
    let code = |s| ProblemCode::parse(s).unwrap();
    let policies = vec![
        p("mainboard", Conditions { problem_code: vec![code("PQ-03")], ..Conditions::default() }),
        p(
            "quality vip",
            Conditions {
                problem_code: vec![code("PQ")],
                tier: vec![Tier::Vip],
                ..Conditions::default()
            },
        ),
        p("phone", Conditions { channel: vec![Channel::Phone], ..Conditions::default() }),
        p(
            "team",
            Conditions {
                team: vec![domain::TeamId::new(Timestamp::from_millis(0), 7)],
                ..Conditions::default()
            },
        ),
    ];
    let name =
        |f: &TicketFacts| select(&policies, f).map(SlaPolicy::name).unwrap_or("none").to_string();
    let n = Urgency::Normal;
    let got = [
        name(&facts(Severity::L3, Tier::Ordinary, Some("PQ-03"), n)),
        name(&facts(Severity::L3, Tier::Vip, Some("PQ-03"), n)),
        name(&facts(Severity::L3, Tier::Vip, Some("PQ-04"), n)),
        name(&facts(Severity::L3, Tier::Ordinary, Some("PQ-04"), n)),
        name(&facts(Severity::L3, Tier::Vip, None, n)),
        name(&TicketFacts { channel: Channel::Phone, ..facts(Severity::L3, Tier::Vip, None, n) }),
        name(&TicketFacts {
            team: Some(domain::TeamId::new(Timestamp::from_millis(0), 7)),
            ..facts(Severity::L3, Tier::Vip, None, n)
        }),
    ];
    expect![[r#"["mainboard", "mainboard", "quality vip", "none", "none", "phone", "team"]"#]]
        .assert_eq(&format!("{got:?}"));
}

#[test]
fn parse_errors() {
    let errs: Vec<String> = [
        Target::parse(Metric::Resolution, "0m", "calendar", "").map(|_| ()),
        Target::parse(Metric::Resolution, "2 hours", "calendar", "").map(|_| ()),
        Target::parse(Metric::Resolution, "400d", "calendar", "").map(|_| ()),
        Target::parse(Metric::Resolution, "2h", "wall", "").map(|_| ()),
        Target::parse(Metric::Resolution, "2h", "business:", "").map(|_| ()),
        Target::parse(Metric::Resolution, "2h", "calendar", "120%").map(|_| ()),
        Target::parse(Metric::Resolution, "2h", "calendar", "soon").map(|_| ()),
        Target::parse(Metric::Resolution, "2h", "calendar", "")
            .and_then(|t| t.with_pause_in(&[Status::Open]))
            .map(|_| ()),
        Metric::parse("resolve").map(|_| ()),
        SlaPolicy::new(" ", Conditions::default(), vec![]).map(|_| ()),
        SlaPolicy::new("x", Conditions::default(), vec![]).map(|_| ()),
        policy().check_calendars(&Calendars::new()),
    ]
    .into_iter()
    .map(|r| r.unwrap_err().to_string())
    .collect();
    expect![[r#"
        sla.target.duration: "0m" is not a duration; write a number and unit (d, h, m, s), e.g. 30m, 2h, 1h30m, 3d (at most 366d)
        sla.target.duration: "2 hours" is not a duration; write a number and unit (d, h, m, s), e.g. 30m, 2h, 1h30m, 3d (at most 366d)
        sla.target.duration: "400d" is not a duration; write a number and unit (d, h, m, s), e.g. 30m, 2h, 1h30m, 3d (at most 366d)
        sla.target.mode: "wall" is not a clock mode; write "calendar" or "business:<calendar id>"
        sla.calendar: "" is not a calendar id; use 1-64 letters, digits, '_', '-' or '.', e.g. default
        sla.target.warn: "120%" is not a warning point; write a share such as 80% or 0.8, or a time before the deadline such as "15m before"
        sla.target.warn: "soon" is not a warning point; write a share such as 80% or 0.8, or a time before the deadline such as "15m before"
        sla.target.pause_in: a clock cannot pause in open; choose from pending, on_hold
        sla.metric: unknown metric "resolve"; expected one of: first_response, next_response, periodic_update, resolution
        sla.name: give the policy a name of 1 to 100 characters
        sla.targets: give the policy at least one target
        sla.target.mode: first_response uses calendar "cn", which does not exist; create it or pick another
    "#]]
    .assert_eq(&(errs.join("\n") + "\n"));
    let ok: Vec<String> = ["80%", "0.8", "0.805", "15m before", "1h30m before"]
        .iter()
        .map(|s| format!("{:?}", WarnAt::parse(s).unwrap()))
        .collect();
    expect![[r#"["Permille(800)", "Permille(800)", "Permille(805)", "Before(900000)", "Before(5400000)"]"#]]
        .assert_eq(&format!("{ok:?}"));
}
