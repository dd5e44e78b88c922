//! Tests for `calendar`: deadlines to the second across lunch breaks, evenings, weekends,
//! holidays, make-up days and DST, the edges of intervals, and inputs that must not loop.
//! The holiday and make-up dates below are made up for the tests, not an official schedule.

use domain::Timestamp;
use expect_test::expect;

use super::*;

fn cal(
    tz: &str,
    week: [&str; 7],
    holidays: &[&str],
    workdays: &[(&str, Option<&str>)],
) -> BusinessCalendar {
    BusinessCalendar::parse(&CalendarDef {
        time_zone: tz.into(),
        week: week.map(String::from),
        holidays: holidays.iter().map(|s| s.to_string()).collect(),
        workdays: workdays.iter().map(|(d, s)| (d.to_string(), s.map(String::from))).collect(),
    })
    .unwrap()
}

const OFFICE: &str = "09:00-12:00, 13:30-18:00";

/// Shanghai office hours with a (test) October holiday week and two make-up days.
fn shanghai() -> BusinessCalendar {
    cal(
        "Asia/Shanghai",
        [OFFICE, OFFICE, OFFICE, OFFICE, OFFICE, "closed", "closed"],
        &["2026-10-01", "2026-10-02", "2026-10-05", "2026-10-06", "2026-10-07"],
        &[("2026-10-10", None), ("2026-09-27", Some("09:00-17:00"))],
    )
}

fn new_york() -> BusinessCalendar {
    let d = "09:00-17:00";
    cal("America/New_York", [d, d, d, d, d, "closed", "closed"], &[], &[])
}

fn ts(s: &str) -> Timestamp {
    let t: jiff::Timestamp = s.replacen(' ', "T", 1).parse().unwrap();
    Timestamp::from_millis(t.as_millisecond())
}

fn show(c: &BusinessCalendar, t: Timestamp) -> String {
    let t = jiff::Timestamp::from_millisecond(t.millis()).unwrap();
    let dt = c.tz.to_datetime(t);
    let off = c.tz.to_offset(t).seconds();
    let sign = if off < 0 { '-' } else { '+' };
    let off = off.abs();
    format!(
        "{} {:02}:{:02}:{:02}{sign}{:02}:{:02}",
        dt.date(),
        dt.hour(),
        dt.minute(),
        dt.second(),
        off / 3600,
        off / 60 % 60
    )
}

fn dur(s: &str) -> i64 {
    crate::sla::parse_duration("test", s).unwrap()
}

/// Each row: start, business duration, expected deadline (local time of the calendar).
fn check_deadlines(c: &BusinessCalendar, rows: &[(&str, &str, &str)]) {
    for &(start, d, want) in rows {
        let got = c.add_business(ts(start), dur(d)).map(|t| show(c, t));
        assert_eq!(got.as_deref(), Ok(want), "{start} + {d}");
        // And back: the open time between start and deadline is the duration.
        assert_eq!(
            c.business_between(ts(start), ts(want)),
            Ok(dur(d)),
            "between {start} and {want}"
        );
    }
}

#[test]
fn deadlines_in_office_hours() {
    check_deadlines(
        &shanghai(),
        &[
            // Inside one interval.
            ("2026-09-14 10:00:00+08:00", "1h", "2026-09-14 11:00:00+08:00"),
            ("2026-09-14 09:00:00+08:00", "45s", "2026-09-14 09:00:45+08:00"),
            // Across the lunch break.
            ("2026-09-14 11:30:00+08:00", "1h", "2026-09-14 14:00:00+08:00"),
            ("2026-09-14 11:59:30+08:00", "90s", "2026-09-14 13:31:00+08:00"),
            ("2026-09-14 12:30:00+08:00", "30m", "2026-09-14 14:00:00+08:00"),
            // Exactly at a close: stays there, not the next opening.
            ("2026-09-14 11:00:00+08:00", "1h", "2026-09-14 12:00:00+08:00"),
            ("2026-09-14 17:00:00+08:00", "1h", "2026-09-14 18:00:00+08:00"),
            ("2026-09-14 09:00:00+08:00", "7h30m", "2026-09-14 18:00:00+08:00"),
            // Starting at a close.
            ("2026-09-14 12:00:00+08:00", "1m", "2026-09-14 13:31:00+08:00"),
            ("2026-09-14 18:00:00+08:00", "1m", "2026-09-15 09:01:00+08:00"),
            // Across the evening, starting in it.
            ("2026-09-14 17:30:00+08:00", "1h", "2026-09-15 09:30:00+08:00"),
            ("2026-09-14 20:00:00+08:00", "30m", "2026-09-15 09:30:00+08:00"),
            ("2026-09-14 03:00:00+08:00", "30m", "2026-09-14 09:30:00+08:00"),
            // Across a weekend, starting in it.
            ("2026-09-18 17:00:00+08:00", "2h", "2026-09-21 10:00:00+08:00"),
            ("2026-09-19 10:00:00+08:00", "30m", "2026-09-21 09:30:00+08:00"),
            // Several days: 24 h of business time is three days and 1.5 h.
            ("2026-09-14 09:00:00+08:00", "24h", "2026-09-17 10:30:00+08:00"),
            ("2026-09-14 09:00:00+08:00", "72h", "2026-09-25 15:00:00+08:00"),
            // Holidays 10-01, 10-02, 10-05..07 (10-03 and 10-04 are a weekend anyway).
            ("2026-09-30 17:00:00+08:00", "2h", "2026-10-08 10:00:00+08:00"),
            ("2026-10-03 12:00:00+08:00", "1h", "2026-10-08 10:00:00+08:00"),
            // Make-up Saturday 10-10 works the Monday schedule.
            ("2026-10-09 17:00:00+08:00", "2h", "2026-10-10 10:00:00+08:00"),
            ("2026-10-10 11:30:00+08:00", "1h", "2026-10-10 14:00:00+08:00"),
            ("2026-10-10 17:30:00+08:00", "1h", "2026-10-12 09:30:00+08:00"),
            // Make-up Sunday 09-27 with its own schedule 09:00-17:00 (no lunch break).
            ("2026-09-25 17:30:00+08:00", "1h", "2026-09-27 09:30:00+08:00"),
            ("2026-09-27 11:30:00+08:00", "1h", "2026-09-27 12:30:00+08:00"),
            ("2026-09-27 16:30:00+08:00", "1h", "2026-09-28 09:30:00+08:00"),
        ],
    );
}

#[test]
fn deadlines_across_dst() {
    let ny = new_york();
    check_deadlines(
        &ny,
        &[
            // Spring forward on Sunday 2026-03-08: Friday EST to Monday EDT.
            ("2026-03-06 16:00:00-05:00", "2h", "2026-03-09 10:00:00-04:00"),
            // Fall back on Sunday 2026-11-01: Friday EDT to Monday EST.
            ("2026-10-30 16:00:00-04:00", "2h", "2026-11-02 10:00:00-05:00"),
        ],
    );
    let d = "24h";
    let round_clock = cal("America/New_York", [d, d, d, d, d, d, d], &[], &[]);
    // 7×24 in a DST zone: business time is wall time, the 23-hour day included.
    check_deadlines(
        &round_clock,
        &[("2026-03-07 12:00:00-05:00", "24h", "2026-03-08 13:00:00-04:00")],
    );
    assert_eq!(
        round_clock
            .business_between(ts("2026-11-01 00:00:00-04:00"), ts("2026-11-02 00:00:00-05:00")),
        Ok(dur("25h"))
    );
    // An interval inside the skipped hour is empty that day; over the repeated hour, 2 h long.
    let night = cal("America/New_York", ["", "", "", "", "", "", "01:00-03:00"], &[], &[]);
    assert_eq!(
        night.business_between(ts("2026-03-08 00:00:00-05:00"), ts("2026-03-08 12:00:00-04:00")),
        Ok(dur("1h"))
    );
    assert_eq!(
        night.business_between(ts("2026-11-01 00:00:00-04:00"), ts("2026-11-01 12:00:00-05:00")),
        Ok(dur("3h"))
    );
    let gap = cal("America/New_York", ["", "", "", "", "", "", "02:00-03:00"], &[], &[]);
    check_deadlines(&gap, &[("2026-03-07 12:00:00-05:00", "30m", "2026-03-15 02:30:00-04:00")]);
}

#[test]
fn open_and_next_open() {
    let c = shanghai();
    for (t, open, next) in [
        ("2026-09-14 09:00:00+08:00", true, "2026-09-14 09:00:00+08:00"),
        ("2026-09-14 11:59:59+08:00", true, "2026-09-14 11:59:59+08:00"),
        ("2026-09-14 12:00:00+08:00", false, "2026-09-14 13:30:00+08:00"),
        ("2026-09-14 18:00:00+08:00", false, "2026-09-15 09:00:00+08:00"),
        ("2026-09-19 10:00:00+08:00", false, "2026-09-21 09:00:00+08:00"),
        ("2026-10-01 10:00:00+08:00", false, "2026-10-08 09:00:00+08:00"),
        ("2026-10-10 10:00:00+08:00", true, "2026-10-10 10:00:00+08:00"),
        ("2026-09-27 12:30:00+08:00", true, "2026-09-27 12:30:00+08:00"),
    ] {
        assert_eq!(c.is_open(ts(t)), open, "{t}");
        assert_eq!(c.next_open(ts(t)).map(|x| show(&c, x)).as_deref(), Ok(next), "{t}");
    }
}

#[test]
fn edges() {
    let c = shanghai();
    let sat = ts("2026-09-19 10:00:00+08:00");
    // A zero (or negative) duration is due at once, even when closed.
    assert_eq!(c.add_business(sat, 0), Ok(sat));
    assert_eq!(c.add_business(sat, -5), Ok(sat));
    assert_eq!(c.business_between(sat, sat), Ok(0));
    assert_eq!(
        c.business_between(ts("2026-09-15 10:00:00+08:00"), ts("2026-09-14 10:00:00+08:00")),
        Ok(0)
    );
    // Far outside the supported years.
    for t in [Timestamp::from_millis(i64::MIN), Timestamp::from_millis(i64::MAX)] {
        assert!(!c.is_open(t));
        assert_eq!(c.add_business(t, 1000), Err(CalendarError::OutOfRange { at: t }));
        assert_eq!(c.next_open(t), Err(CalendarError::OutOfRange { at: t }));
    }
    // Near the end of time the walk stops instead of overflowing.
    let end = ts("9999-12-29 20:00:00+08:00");
    assert_eq!(c.add_business(end, dur("100h")), Err(CalendarError::BeyondHorizon { from: end }));
    // A huge duration or span ends at the horizon.
    let mon = ts("2026-09-14 09:00:00+08:00");
    assert_eq!(c.add_business(mon, i64::MAX), Err(CalendarError::BeyondHorizon { from: mon }));
    assert_eq!(
        c.business_between(mon, Timestamp::from_millis(mon.millis() + 20 * 365 * DAY_MS)),
        Err(CalendarError::BeyondHorizon { from: mon })
    );
}

#[test]
fn never_open_and_rarely_open() {
    let closed = cal("Asia/Shanghai", [""; 7], &[], &[]);
    let t = ts("2026-09-14 09:00:00+08:00");
    assert_eq!(closed.next_open(t), Err(CalendarError::NeverOpen { from: t }));
    assert_eq!(closed.add_business(t, 1), Err(CalendarError::NeverOpen { from: t }));
    assert_eq!(closed.business_between(t, t.plus_days(30)), Ok(0));
    assert!(!closed.is_open(t));

    // Open on one make-up day only.
    let once = cal("Asia/Shanghai", [""; 7], &[], &[("2026-10-10", Some(OFFICE))]);
    check_deadlines(&once, &[("2026-09-01 00:00:00+08:00", "4h", "2026-10-10 14:30:00+08:00")]);
    assert_eq!(once.add_business(t, dur("10h")), Err(CalendarError::BeyondHorizon { from: t }));
}

#[test]
fn always() {
    let c = BusinessCalendar::always();
    let t = ts("2026-09-19 03:00:00+08:00");
    assert!(c.is_open(t));
    assert_eq!(c.next_open(t), Ok(t));
    assert_eq!(c.add_business(t, dur("3d")), Ok(t.plus_days(3)));
    assert_eq!(c.business_between(t, t.plus_hours(5)), Ok(dur("5h")));
    assert!(c.add_business(Timestamp::from_millis(i64::MAX), 1).is_err());
}

/// business_between(t, add_business(t, d)) == d, the deadline is open time or a closing
/// instant, and deadlines grow with the duration; over starts every 37 minutes for 5 weeks.
#[test]
fn add_and_between_agree() {
    for (c, first) in
        [(shanghai(), "2026-09-12 00:00:00+08:00"), (new_york(), "2026-02-28 00:00:00-05:00")]
    {
        let durations =
            [1_000, 60_000, dur("30m"), dur("3h"), dur("7h30m"), dur("24h"), dur("100h")];
        let mut t = ts(first);
        for _ in 0..(35 * 24 * 60 / 37) {
            let mut prev = t;
            for &d in &durations {
                let due = c.add_business(t, d).unwrap();
                assert_eq!(c.business_between(t, due), Ok(d), "{} + {d}", show(&c, t));
                assert!(c.is_open(due.plus_millis(-1)), "{} + {d}", show(&c, t));
                assert!(due >= prev);
                prev = due;
            }
            t = t.plus_millis(37 * 60_000);
        }
    }
}

#[test]
fn parse_errors() {
    let def = |tz: &str, mon: &str, holidays: &[&str], workdays: &[&str]| CalendarDef {
        time_zone: tz.into(),
        week: [mon, "", "", "", "", "", ""].map(String::from),
        holidays: holidays.iter().map(|s| s.to_string()).collect(),
        workdays: workdays.iter().map(|s| (s.to_string(), None)).collect(),
    };
    let errors: Vec<String> = [
        def("Mars/Olympus", OFFICE, &[], &[]),
        def("Asia/Shanghai", "09:00-12:00, 11:00-18:00", &[], &[]),
        def("Asia/Shanghai", "18:00-09:00", &[], &[]),
        def("Asia/Shanghai", "09:00-25:00", &[], &[]),
        def("Asia/Shanghai", "24:00-24:00", &[], &[]),
        def("Asia/Shanghai", "9am to 5pm", &[], &[]),
        def("Asia/Shanghai", OFFICE, &["2026-13-01"], &[]),
        def("Asia/Shanghai", OFFICE, &["10/01/2026"], &[]),
        def("Asia/Shanghai", OFFICE, &["2026-10-10"], &["2026-10-10"]),
        def("Asia/Shanghai", OFFICE, &[], &["2026-10-10", "2026-10-10"]),
    ]
    .iter()
    .map(|d| BusinessCalendar::parse(d).unwrap_err().to_string())
    .collect();
    expect![[r#"
        calendar.time_zone: "Mars/Olympus" is not an IANA time zone; write one such as Asia/Shanghai or America/New_York
        calendar.monday: intervals 09:00-12:00 and 11:00-18:00 overlap; make them disjoint
        calendar.monday: "18:00-09:00" ends before it starts (an interval cannot cross midnight; split it in two days); write intervals as HH:MM-HH:MM separated by commas, e.g. "09:00-12:00, 13:30-18:00", or "24h" or "closed"
        calendar.monday: "09:00-25:00" has an invalid end time; write intervals as HH:MM-HH:MM separated by commas, e.g. "09:00-12:00, 13:30-18:00", or "24h" or "closed"
        calendar.monday: "24:00-24:00" starts at 24:00; a day's last interval may only end there; write intervals as HH:MM-HH:MM separated by commas, e.g. "09:00-12:00, 13:30-18:00", or "24h" or "closed"
        calendar.monday: "9am to 5pm" is not an interval; write intervals as HH:MM-HH:MM separated by commas, e.g. "09:00-12:00, 13:30-18:00", or "24h" or "closed"
        calendar.holidays: "2026-13-01" is not a date; write YYYY-MM-DD, e.g. 2026-10-01
        calendar.holidays: "10/01/2026" is not a date; write YYYY-MM-DD, e.g. 2026-10-01
        calendar.workdays: 2026-10-10 is both a holiday and a make-up working day; keep it in one list
        calendar.workdays: 2026-10-10 is listed twice; list each make-up working day once
    "#]]
    .assert_eq(&(errors.join("\n") + "\n"));
}

#[test]
fn schedules_print_back() {
    let shown: Vec<String> = [
        "09:00-12:00,13:30-18:00",
        "24h",
        "closed",
        "",
        "13:30-18:00; 08:00-12:00",
        "09:00:30-09:01",
    ]
    .iter()
    .map(|s| DaySchedule::parse("test", s).unwrap().to_string())
    .collect();
    expect![[r#"["09:00-12:00, 13:30-18:00", "00:00-24:00", "closed", "closed", "08:00-12:00, 13:30-18:00", "09:00-09:01"]"#]]
        .assert_eq(&format!("{shown:?}"));
}
