//! Tests for `defaults`: the seeded policy list, which policy a ticket gets, and the calendar.

use domain::{Channel, ProblemCode, Severity, Tier, Urgency};
use expect_test::expect;

use super::*;
use crate::sla::{TicketFacts, select};

fn describe(p: &SlaPolicy) -> String {
    let t: Vec<String> = p
        .targets()
        .map(|(m, t)| {
            let mode = match t.mode() {
                crate::sla::ClockMode::Calendar => "calendar".to_string(),
                crate::sla::ClockMode::Business(id) => id.as_str().to_string(),
            };
            format!("{} {}m {mode}", m.as_str(), t.duration_ms() / 60_000)
        })
        .collect();
    format!("{}: {}", p.name(), t.join(", "))
}

#[test]
fn policies_in_order() {
    let all: Vec<String> = default_policies().iter().map(describe).collect();
    expect![[r#"
        L1 重大紧急: first_response 30m calendar
        L2 · urgent: first_response 30m default, resolution 1440m default
        L2 · VIP: first_response 60m default, resolution 1440m default
        L2 · PQ: first_response 120m default, resolution 1440m default
        L2 · ordinary: first_response 240m default, resolution 1440m default
        L3/L4 TD/RL · urgent: first_response 30m default, resolution 1440m default
        L3/L4 TD/RL · VIP: first_response 60m default, resolution 1440m default
        L3/L4 TD/RL · ordinary: first_response 240m default, resolution 1440m default
        L3 · urgent: first_response 30m default, resolution 4320m default
        L3 · VIP: first_response 60m default, resolution 4320m default
        L3 · PQ: first_response 120m default, resolution 4320m default
        L3 · ordinary: first_response 240m default, resolution 4320m default
        L4 · urgent: first_response 30m default
        L4 · VIP: first_response 60m default
        L4 · PQ: first_response 120m default
        L4 · ordinary: first_response 240m default
    "#]]
    .assert_eq(&(all.join("\n") + "\n"));
    // Every business target refers to the default calendar.
    for p in default_policies() {
        assert_eq!(p.check_calendars(&default_calendars()), Ok(()));
    }
}

#[test]
fn which_policy_a_ticket_gets() {
    let policies = default_policies();
    let mut out = String::new();
    for severity in Severity::ALL {
        for (tier, code, urgency) in [
            (Tier::Ordinary, None, Urgency::Normal),
            (Tier::Ordinary, Some("PQ-03"), Urgency::Normal),
            (Tier::Ordinary, Some("SP-12"), Urgency::Normal),
            (Tier::Ordinary, Some("RL-09"), Urgency::Normal),
            (Tier::Vip, Some("TD-07"), Urgency::Normal),
            (Tier::Vip, Some("PQ-03"), Urgency::Critical),
        ] {
            let facts = TicketFacts {
                severity: *severity,
                tier,
                problem_code: code.map(|c| ProblemCode::parse(c).unwrap()),
                channel: Channel::WebChat,
                urgency,
                team: None,
            };
            let got = select(&policies, &facts).map(describe).unwrap_or_else(|| "none".into());
            out += &format!("{severity} {tier} {} {urgency} => {got}\n", code.unwrap_or("-"));
        }
    }
    expect![[r#"
        L1 ordinary - normal => L1 重大紧急: first_response 30m calendar
        L1 ordinary PQ-03 normal => L1 重大紧急: first_response 30m calendar
        L1 ordinary SP-12 normal => L1 重大紧急: first_response 30m calendar
        L1 ordinary RL-09 normal => L1 重大紧急: first_response 30m calendar
        L1 vip TD-07 normal => L1 重大紧急: first_response 30m calendar
        L1 vip PQ-03 critical => L1 重大紧急: first_response 30m calendar
        L2 ordinary - normal => L2 · ordinary: first_response 240m default, resolution 1440m default
        L2 ordinary PQ-03 normal => L2 · PQ: first_response 120m default, resolution 1440m default
        L2 ordinary SP-12 normal => L2 · ordinary: first_response 240m default, resolution 1440m default
        L2 ordinary RL-09 normal => L2 · ordinary: first_response 240m default, resolution 1440m default
        L2 vip TD-07 normal => L2 · VIP: first_response 60m default, resolution 1440m default
        L2 vip PQ-03 critical => L2 · urgent: first_response 30m default, resolution 1440m default
        L3 ordinary - normal => L3 · ordinary: first_response 240m default, resolution 4320m default
        L3 ordinary PQ-03 normal => L3 · PQ: first_response 120m default, resolution 4320m default
        L3 ordinary SP-12 normal => L3 · ordinary: first_response 240m default, resolution 4320m default
        L3 ordinary RL-09 normal => L3/L4 TD/RL · ordinary: first_response 240m default, resolution 1440m default
        L3 vip TD-07 normal => L3/L4 TD/RL · VIP: first_response 60m default, resolution 1440m default
        L3 vip PQ-03 critical => L3 · urgent: first_response 30m default, resolution 4320m default
        L4 ordinary - normal => L4 · ordinary: first_response 240m default
        L4 ordinary PQ-03 normal => L4 · PQ: first_response 120m default
        L4 ordinary SP-12 normal => L4 · ordinary: first_response 240m default
        L4 ordinary RL-09 normal => L3/L4 TD/RL · ordinary: first_response 240m default, resolution 1440m default
        L4 vip TD-07 normal => L3/L4 TD/RL · VIP: first_response 60m default, resolution 1440m default
        L4 vip PQ-03 critical => L4 · urgent: first_response 30m default
    "#]]
    .assert_eq(&out);
}

#[test]
fn default_calendar() {
    let cals = default_calendars();
    let cal = &cals[&crate::sla::CalendarId::parse(DEFAULT_CALENDAR).unwrap()];
    assert_eq!(cal.time_zone(), "Asia/Shanghai");
    let week: Vec<String> = (0..7).map(|i| cal.week()[i].to_string()).collect();
    expect![[r#"["09:00-12:00, 13:30-18:00", "09:00-12:00, 13:30-18:00", "09:00-12:00, 13:30-18:00", "09:00-12:00, 13:30-18:00", "09:00-12:00, 13:30-18:00", "closed", "closed"]"#]]
        .assert_eq(&format!("{week:?}"));
    assert!(cal.holidays().count() == 0 && cal.workdays().count() == 0);
}
