//! Escalation ladders: which actions a set of SLA events calls for, and action syntax.

use domain::{TeamId, Timestamp};

use super::*;

fn ev(metric: Metric, kind: SlaEventKind) -> SlaEvent {
    SlaEvent { at: Timestamp::from_millis(1_000), metric, cycle: 0, kind }
}

#[test]
fn actions_follow_the_ladder_once_each() {
    let team = TeamId::parse("0190f3a0-0000-7000-8000-000000000001").unwrap();
    let ladder = vec![
        Step { on: Trigger::Warned, metrics: vec![], actions: vec![Action::NotifyAssignee] },
        Step {
            on: Trigger::Breached,
            metrics: vec![Metric::Resolution],
            actions: vec![Action::NotifyAssignee, Action::ReassignTeam(team)],
        },
        Step { on: Trigger::Breached, metrics: vec![], actions: vec![Action::OpenCrisis] },
    ];
    // A warning only climbs the first rung.
    let a = actions_for(&ladder, &[ev(Metric::FirstResponse, SlaEventKind::Warned)]);
    assert_eq!(a.iter().map(|(a, _)| *a).collect::<Vec<_>>(), vec![Action::NotifyAssignee]);
    // A first-response breach skips the resolution-only rung.
    let a = actions_for(&ladder, &[ev(Metric::FirstResponse, SlaEventKind::Breached)]);
    assert_eq!(a.iter().map(|(a, _)| *a).collect::<Vec<_>>(), vec![Action::OpenCrisis]);
    // Warned and breached together: notify once, then the rest.
    let a = actions_for(
        &ladder,
        &[
            ev(Metric::Resolution, SlaEventKind::Warned),
            ev(Metric::Resolution, SlaEventKind::Breached),
        ],
    );
    assert_eq!(
        a.iter().map(|(a, _)| *a).collect::<Vec<_>>(),
        vec![Action::NotifyAssignee, Action::ReassignTeam(team), Action::OpenCrisis]
    );
    // Other events call for nothing.
    assert!(actions_for(&ladder, &[ev(Metric::Resolution, SlaEventKind::Paused)]).is_empty());
}

#[test]
fn actions_parse_and_print() {
    for s in [
        "notify_assignee",
        "notify_supervisor",
        "notify_cs_head",
        "raise_urgency",
        "open_crisis",
        "reassign_team:0190f3a0-0000-7000-8000-000000000001",
    ] {
        assert_eq!(Action::parse(s).unwrap().to_text(), s);
    }
    let e = Action::parse("call_mom").unwrap_err();
    assert_eq!(e.field, "sla.escalation.actions");
    assert!(Action::parse("reassign_team:nope").is_err());
    assert!(Trigger::parse("late").is_err());
}
