//! Hand-computed fixtures on the seeded office calendar (Asia/Shanghai, Mon–Fri 09:00–12:00
//! and 13:30–18:00) with the National Day holidays 2026-10-01…07 and two make-up working days
//! (调休) on Sunday 2026-09-27 and Saturday 2026-10-10.

use super::*;
use crate::{defaults::default_calendar_def, sla::TicketEvent as E};

const H: i64 = HOUR_MS;
const M: i64 = 60_000;

fn cal() -> BusinessCalendar {
    let mut def = default_calendar_def();
    def.holidays = (1..=7).map(|d| format!("2026-10-0{d}")).collect();
    def.workdays = vec![("2026-09-27".into(), None), ("2026-10-10".into(), None)];
    BusinessCalendar::parse(&def).unwrap()
}

/// A Shanghai wall-clock reading (UTC+8).
fn at(m: u32, d: u32, h: i64, mi: i64) -> Timestamp {
    Timestamp::from_millis(day_of(2026, m, d) * DAY_MS + h * H + mi * M - 8 * H)
}

fn status(t: Timestamp, to: Status) -> E {
    E::StatusChanged { at: t, to }
}
fn reply(t: Timestamp) -> E {
    E::AgentReplied { at: t, public: true }
}
fn customer(t: Timestamp) -> E {
    E::CustomerReplied { at: t }
}

fn frt(created: Timestamp, first: Timestamp) -> (Option<i64>, Option<i64>) {
    let f = facts(&cal(), created, &[E::Created { at: created }, reply(first)], Extra::default());
    (f.frt_bh, f.frt_wall)
}

#[test]
fn first_response_skips_the_weekend() {
    // Fri 17:00 → Mon 10:00: Fri 17–18 and Mon 9–10.
    assert_eq!(frt(at(9, 18, 17, 0), at(9, 21, 10, 0)), (Some(2 * H), Some(65 * H)));
}

#[test]
fn first_response_counts_a_make_up_sunday() {
    // Sat 17:00 (closed) → Sun 09-27 10:00, a make-up working day on the Monday schedule.
    assert_eq!(frt(at(9, 26, 17, 0), at(9, 27, 10, 0)), (Some(H), Some(17 * H)));
}

#[test]
fn first_response_skips_the_holiday_week() {
    // Wed 09-30 17:30 → Thu 10-08 09:30: half an hour before, half an hour after.
    let (bh, wall) = frt(at(9, 30, 17, 30), at(10, 8, 9, 30));
    assert_eq!(bh, Some(H));
    assert_eq!(wall, Some(7 * 24 * H + 16 * H));
}

#[test]
fn first_response_skips_lunch_and_internal_notes() {
    let c = at(9, 21, 11, 30);
    let f = facts(
        &cal(),
        c,
        &[E::AgentReplied { at: at(9, 21, 11, 40), public: false }, reply(at(9, 21, 14, 0))],
        Extra::default(),
    );
    assert_eq!(f.frt_bh, Some(H));
    assert_eq!(f.agent_replies, 1);
}

/// Mon 09-21: created 09:00, open 09:30, reply 10:00, customer 11:00, reply 11:30, pending
/// 11:30, customer 14:00, open 14:00, reply 15:00, solved 16:00.
fn worked_ticket() -> Facts {
    let d = |h, m| at(9, 21, h, m);
    facts(
        &cal(),
        d(9, 0),
        &[
            E::Created { at: d(9, 0) },
            status(d(9, 30), Status::Open),
            reply(d(10, 0)),
            customer(d(11, 0)),
            reply(d(11, 30)),
            status(d(11, 30), Status::Pending),
            customer(d(14, 0)),
            status(d(14, 0), Status::Open),
            reply(d(15, 0)),
            status(d(16, 0), Status::Solved),
        ],
        Extra { sla_tracked: true, sla_breached: false, complaint: true, repeat: true },
    )
}

#[test]
fn a_worked_ticket() {
    let f = worked_ticket();
    assert_eq!(f.frt_bh, Some(H));
    assert_eq!((f.nrt_n, f.nrt_bh), (2, 30 * M + H));
    // Open 09:30–11:30 and 14:00–16:00.
    assert_eq!(f.handle_bh, 4 * H);
    // 09:00–16:00 less lunch 12:00–13:30.
    assert_eq!(f.res_bh, Some(5 * H + 30 * M));
    assert_eq!(f.res_wall, Some(7 * H));
    assert_eq!(f.done_day, Some(day_of(2026, 9, 21)));
    assert_eq!((f.agent_replies, f.customer_replies, f.reopens), (3, 2, 0));
    assert!(!f.fcr, "three replies is not first contact");
    assert_eq!(f.slot, Slot { day: day_of(2026, 9, 21), hour: 9, weekday: 0 });
}

/// Mon 09-21 10:00 created and opened, reply 10:30, solved 11:00, reopened 14:00, solved
/// Tue 10:00.
fn reopened_ticket() -> Facts {
    let d = |h, m| at(9, 21, h, m);
    facts(
        &cal(),
        d(10, 0),
        &[
            E::Created { at: d(10, 0) },
            status(d(10, 0), Status::Open),
            reply(d(10, 30)),
            status(d(11, 0), Status::Solved),
            status(d(14, 0), Status::Reopen),
            status(at(9, 22, 10, 0), Status::Solved),
        ],
        Extra { sla_tracked: true, sla_breached: true, complaint: true, repeat: false },
    )
}

#[test]
fn a_reopened_ticket_resolves_at_its_last_solve() {
    let f = reopened_ticket();
    assert_eq!(f.reopens, 1);
    assert_eq!(f.done_at, Some(at(9, 22, 10, 0)));
    assert_eq!(f.done_day, Some(day_of(2026, 9, 22)));
    // Mon 10–12 (2 h) + 13:30–18 (4.5 h) + Tue 9–10 (1 h).
    assert_eq!(f.res_bh, Some(7 * H + 30 * M));
    // Open 10–11 (1 h), reopened Mon 14–18 (4 h) + Tue 9–10 (1 h).
    assert_eq!(f.handle_bh, 6 * H);
    assert!(!f.fcr, "a reopened ticket is not first contact");
}

#[test]
fn an_open_ticket_is_not_done() {
    let c = at(9, 21, 9, 0);
    let f = facts(
        &cal(),
        c,
        &[status(at(9, 21, 9, 10), Status::Solved), status(at(9, 21, 9, 20), Status::Open)],
        Extra::default(),
    );
    assert_eq!((f.done_at, f.res_bh, f.fcr, f.reopens), (None, None, false, 1));
    let c = contributions(&f);
    assert_eq!(c.len(), 1);
    assert_eq!((c[0].1.created, c[0].1.solved, c[0].1.ever_solved, c[0].1.reopened), (1, 0, 1, 1));
}

#[test]
fn single_reply_solve_is_first_contact_resolution() {
    let c = at(9, 21, 9, 0);
    let f = facts(
        &cal(),
        c,
        &[reply(at(9, 21, 9, 5)), status(at(9, 21, 9, 6), Status::Solved)],
        Extra::default(),
    );
    assert!(f.fcr);
    assert_eq!(f.handle_bh, 0, "never in open");
}

#[test]
fn sums_and_kpis_of_three_tickets() {
    let fcr = facts(
        &cal(),
        at(9, 21, 9, 0),
        &[reply(at(9, 21, 9, 30)), status(at(9, 21, 10, 0), Status::Closed)],
        Extra { sla_tracked: true, ..Extra::default() },
    );
    let mut total = Sums::default();
    let mut done_by_day = std::collections::BTreeMap::new();
    for f in [worked_ticket(), reopened_ticket(), fcr] {
        for (day, s) in contributions(&f) {
            total.add(&s);
            *done_by_day.entry(day).or_insert(0) += s.done;
        }
    }
    let mon = day_of(2026, 9, 21);
    assert_eq!(done_by_day, [(mon, 2), (mon + 1, 1)].into_iter().collect());
    let k = kpis(&total, CostModel { agent_hour_fen: 6_000 });
    assert_eq!((k.created, k.solved), (3, 3));
    // First responses 1 h, 30 min, 30 min.
    assert_eq!(k.first_response_ms, Some((2 * H) as f64 / 3.0));
    assert_eq!(k.next_reply_ms, Some((90 * M) as f64 / 2.0));
    // Handle 4 h + 6 h + 0.
    assert_eq!(k.handle_ms, Some((10 * H) as f64 / 3.0));
    // Resolution 5.5 h + 7.5 h + 1 h.
    assert_eq!(k.resolution_ms, Some((14 * H) as f64 / 3.0));
    assert_eq!(k.fcr_rate, Some(1.0 / 3.0));
    assert_eq!(k.reopen_rate, Some(1.0 / 3.0));
    assert_eq!(k.sla_attainment, Some(2.0 / 3.0));
    assert_eq!(k.repeat_complaint_rate, Some(0.5));
    assert_eq!(k.closure_rate, Some(1.0));
    // 10 h / 3 cases × 60 元/h = 200 元 = 20 000 fen.
    assert_eq!(k.cost_per_case_fen, Some(20_000.0));
    assert_eq!(kpis(&Sums::default(), CostModel::default()).fcr_rate, None);
}

#[test]
fn deltas_move_a_ticket_between_days() {
    let a = reopened_ticket();
    let mut b = a.clone();
    b.done_at = None;
    b.done_day = None;
    b.res_bh = None;
    let d = delta(Some(&a), Some(&b));
    let mon = day_of(2026, 9, 21);
    let tue = mon + 1;
    let get = |day| d.iter().find(|(x, _)| *x == day).map(|x| x.1).unwrap();
    assert_eq!(get(tue).done, -1);
    assert_eq!((get(mon).solved, get(mon).created), (-1, 0));
    assert!(delta(Some(&a), Some(&a)).is_empty());
    let fresh = delta(None, Some(&a));
    assert_eq!(fresh.len(), 2);
    let gone = delta(Some(&a), None);
    assert_eq!(gone.iter().map(|x| x.1.created).sum::<i64>(), -1);
}

#[test]
fn survey_scores() {
    let mut s = Scores::default();
    for x in [5, 4, 3, 1] {
        s.add(x, 1);
    }
    assert_eq!(s.csat(), Some(0.5));
    let mut n = Scores::default();
    for x in [10, 10, 7, 3] {
        n.add(x, 1);
    }
    assert_eq!(n.nps(), Some(25.0));
    let mut c = Scores::default();
    c.add(2, 3);
    c.add(5, 1);
    assert_eq!(c.ces(), Some(11.0 / 4.0));
    assert_eq!(Scores::default().nps(), None);
    c.add(42, 1);
    assert_eq!(c.answered(), 4, "out-of-range scores are ignored");
}

#[test]
fn pareto_marks_the_vital_few() {
    let bars = pareto(
        vec![
            ("c".into(), 15),
            ("a".into(), 50),
            ("d".into(), 5),
            ("b".into(), 30),
            ("e".into(), 0),
        ],
        0.8,
    );
    let keys: Vec<_> = bars.iter().map(|b| (b.key.as_str(), b.vital)).collect();
    assert_eq!(keys, [("a", true), ("b", true), ("c", false), ("d", false)]);
    assert_eq!(bars[1].cumulative, 0.8);
    assert!(pareto(Vec::new(), 0.8).is_empty());
}

#[test]
fn days_weeks_months() {
    assert_eq!(day_of(1970, 1, 1), 0);
    assert_eq!(day_of(2026, 9, 21), 20717);
    for d in [-1000, 0, 59, 60, 20717, 2_932_896] {
        let (y, m, dd) = civil(d);
        assert_eq!(day_of(y, m, dd), d);
    }
    assert_eq!(day_label(20717), "2026-09-21");
    assert_eq!(parse_day("2026-09-21"), Some(20717));
    assert_eq!(parse_day("2026-02-30"), None);
    assert_eq!(parse_day("21/09/2026"), None);
    assert_eq!(week_of(day_of(2026, 9, 27)), day_of(2026, 9, 21));
    assert_eq!(week_of(day_of(2026, 9, 21)), day_of(2026, 9, 21));
    assert_eq!(month_of(day_of(2026, 9, 27)), day_of(2026, 9, 1));
    // Shanghai midnight is 16:00 UTC the day before.
    assert_eq!(day_start(&cal(), 20717), at(9, 21, 0, 0));
    let s = slot(&cal(), at(9, 27, 23, 59));
    assert_eq!((s.day, s.hour, s.weekday), (20723, 23, 6));
}

#[test]
fn business_time_over_more_than_the_horizon() {
    let c = BusinessCalendar::always();
    let a = Timestamp::from_millis(0);
    let b = Timestamp::from_millis(4_000 * DAY_MS);
    assert_eq!(business_ms(&c, a, b), 4_000 * DAY_MS);
    assert_eq!(business_ms(&c, b, a), 0);
}

#[test]
fn quantiles_interpolate_between_ranks() {
    assert_eq!(quantile(&mut [], 0.5), None);
    assert_eq!(quantile(&mut [7], 0.9), Some(7.0));
    assert_eq!(quantile(&mut [30, 10], 0.5), Some(20.0));
    assert_eq!(quantile(&mut [5, 1, 3], 0.5), Some(3.0));
    let mut v: Vec<i64> = (1..=10).rev().collect();
    assert_eq!(quantile(&mut v, 0.5), Some(5.5));
    assert!((quantile(&mut v, 0.9).unwrap() - 9.1).abs() < 1e-9);
    assert_eq!(quantile(&mut v, 1.0), Some(10.0));
    assert_eq!(quantile(&mut v, 0.0), Some(1.0));
}
