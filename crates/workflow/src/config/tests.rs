//! The text form of SLA configuration: the seeded defaults round-trip, and bad entries name
//! their index and field.

use super::*;

#[test]
fn seeded_policies_round_trip_through_text() {
    let (defs, cals) = seed();
    let calendars = parse_calendars(&cals).unwrap();
    let parsed = parse_policies(&defs, &calendars).unwrap();
    let originals = defaults::default_policies();
    assert_eq!(parsed.len(), originals.len());
    for (p, o) in parsed.iter().zip(&originals) {
        assert_eq!(&p.sla, o);
        assert_eq!(p.ladder, default_ladder(o));
    }
    assert_eq!(defs[0].targets[0].duration, "30m");
    assert_eq!(defs[0].targets[0].warn, "80%");
    assert!(defs[0].escalation[1].actions.contains(&"notify_cs_head".to_string()));
}

#[test]
fn bad_entries_name_the_field_and_the_entry() {
    let (mut defs, cals) = seed();
    let calendars = parse_calendars(&cals).unwrap();
    defs[2].targets[0].duration = "soon".into();
    let e = parse_policies(&defs, &calendars).unwrap_err();
    assert_eq!((e.index, e.error.field), (2, "sla.target.duration"));

    let (mut defs, _) = seed();
    defs[1].targets[0].mode = "business:nowhere".into();
    let e = parse_policies(&defs, &calendars).unwrap_err();
    assert_eq!((e.index, e.error.field), (1, "sla.target.mode"));

    let (mut defs, _) = seed();
    defs[3].name = defs[0].name.clone();
    let e = parse_policies(&defs, &calendars).unwrap_err();
    assert_eq!((e.index, e.error.field), (3, "sla.name"));

    let (mut defs, _) = seed();
    defs[0].conditions.severity = vec!["L9".into()];
    assert_eq!(parse_policies(&defs, &calendars).unwrap_err().error.field, "severity");

    let (mut defs, _) = seed();
    defs[0].targets[0].pause_in = Some(vec!["open".into()]);
    assert_eq!(parse_policies(&defs, &calendars).unwrap_err().error.field, "sla.target.pause_in");

    let (_, mut cals) = seed();
    cals.push(cals[0].clone());
    let e = parse_calendars(&cals).unwrap_err();
    assert_eq!((e.index, e.error.field), (1, "sla.calendar"));
}

#[test]
fn durations_and_warnings_print_as_they_parse() {
    assert_eq!(fmt_duration(90 * 60_000), "1h30m");
    assert_eq!(fmt_duration(3 * 86_400_000), "3d");
    let p = PolicyDef {
        name: "x".into(),
        targets: vec![TargetDef {
            metric: "resolution".into(),
            duration: "1d2h".into(),
            mode: "calendar".into(),
            warn: "15m before".into(),
            pause_in: Some(vec!["pending".into()]),
        }],
        ..PolicyDef::default()
    };
    let parsed = p.parse().unwrap();
    let back = PolicyDef::of(&parsed.sla, &parsed.ladder);
    assert_eq!(back.targets[0].duration, "1d2h");
    assert_eq!(back.targets[0].warn, "15m before");
    assert_eq!(back.targets[0].pause_in, Some(vec!["pending".to_string()]));
}
