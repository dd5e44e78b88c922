//! Tests for `crisis`: surges against flat, noisy and empty baselines, the thresholds at their
//! edges, repeat complaints inside and outside the window, and the root-cause rule at 5 and 6.

use domain::{CustomerId, ProblemCode, TicketId, Timestamp};

use super::*;

const H: i64 = 3_600_000;
const NOW: Timestamp = Timestamp::from_millis(1_000 * H);

/// `current` tickets in the window ending now, and `per_hour[i]` in the hour `i + 1` windows back.
fn history(current: u32, per_hour: &[u32]) -> Vec<Timestamp> {
    let mut v: Vec<Timestamp> = (0..current).map(|i| NOW.plus_millis(-(i as i64) * 1000)).collect();
    for (h, &n) in per_hour.iter().enumerate() {
        for i in 0..n {
            v.push(NOW.plus_millis(-(h as i64 + 1) * H - 1 - i as i64 * 1000));
        }
    }
    v
}

#[test]
fn a_quiet_code_needs_the_floor() {
    let cfg = SurgeConfig::default();
    assert_eq!(surge(&history(9, &[]), NOW, &cfg), None);
    let s = surge(&history(10, &[]), NOW, &cfg).expect("ten in an hour after silence");
    assert_eq!((s.count, s.mean, s.stddev), (10, 0.0, 0.0));
    assert_eq!(surge(&[], NOW, &cfg), None);
}

#[test]
fn a_busy_code_is_compared_with_its_baseline() {
    let cfg = SurgeConfig::default();
    // Flat 4 per hour: σ = 0, so the ratio decides: 12 is a surge, 11 is not.
    let flat = [4; 24];
    assert_eq!(surge(&history(11, &flat), NOW, &cfg), None);
    assert!(surge(&history(12, &flat), NOW, &cfg).is_some());
    // Noisy: alternating 0 and 8 (μ 4, σ 4): needs more than 16.
    let noisy: Vec<u32> = (0..24).map(|i| if i % 2 == 0 { 0 } else { 8 }).collect();
    assert_eq!(surge(&history(16, &noisy), NOW, &cfg), None);
    let s = surge(&history(17, &noisy), NOW, &cfg).unwrap();
    assert_eq!((s.mean, s.stddev, s.threshold), (4.0, 4.0, 16.0));
    // Tickets older than the baseline do not count.
    let old = history(0, &[100; 40]);
    let mut v = history(10, &[]);
    v.extend(old.iter().filter(|t| t.millis() < NOW.millis() - 25 * H));
    assert!(surge(&v, NOW, &cfg).is_some());
}

#[test]
fn config_is_checked_and_extremes_do_not_panic() {
    assert!(SurgeConfig::new(1000, 24, 5, 3.0, 3.0).is_err());
    assert!(SurgeConfig::new(H, 0, 5, 3.0, 3.0).is_err());
    assert!(SurgeConfig::new(H, 24, 0, 3.0, 3.0).is_err());
    assert!(SurgeConfig::new(H, 24, 5, f64::NAN, 3.0).is_err());
    assert!(SurgeConfig::new(H, 24, 5, 3.0, 0.5).is_err());
    assert_eq!(SurgeConfig::new(H, 24, 10, 3.0, 3.0), Ok(SurgeConfig::default()));
    assert_eq!(SurgeConfig::default().lookback_ms(), 25 * H);
    let weird = SurgeConfig { window_ms: 0, baseline_windows: 0, ..SurgeConfig::default() };
    let ts = [Timestamp::from_millis(i64::MIN), Timestamp::from_millis(i64::MAX), NOW];
    assert_eq!(surge(&ts, NOW, &weird), None);
    // Future times count in the current window.
    let future: Vec<Timestamp> = (0..10).map(|i| NOW.plus_secs(60 + i)).collect();
    assert!(surge(&future, NOW, &SurgeConfig::default()).is_some());
}

fn cust(n: u128) -> CustomerId {
    CustomerId::new(Timestamp::from_millis(1), n)
}
fn tkt(n: u128) -> TicketId {
    TicketId::new(Timestamp::from_millis(1), n)
}
fn code(s: &str) -> ProblemCode {
    ProblemCode::parse(s).unwrap()
}
fn past(t: u128, c: u128, pc: &str, days_ago: i64) -> Past {
    Past {
        ticket: tkt(t),
        customer: cust(c),
        problem_code: code(pc),
        created_at: NOW.plus_days(-days_ago),
    }
}

#[test]
fn repeat_complaints_are_same_customer_same_code_within_the_window() {
    let past = [
        past(1, 1, "PQ-03", 40),
        past(2, 1, "PQ-03", 10),
        past(3, 1, "PQ-03", 2),
        past(4, 2, "PQ-03", 1),
        past(5, 1, "PQ-04", 1),
    ];
    assert_eq!(repeat_of(&past, cust(1), code("PQ-03"), NOW, 30), Some(tkt(3)));
    assert_eq!(repeat_of(&past[..2], cust(1), code("PQ-03"), NOW, 30), Some(tkt(2)));
    assert_eq!(repeat_of(&past[..1], cust(1), code("PQ-03"), NOW, 30), None);
    assert_eq!(repeat_of(&past, cust(2), code("PQ-04"), NOW, 30), None);
    assert_eq!(repeat_of(&past, cust(1), code("PQ-03"), NOW, 0), None);
    assert_eq!(repeat_of(&past, cust(3), code("PQ"), NOW, u32::MAX), None);
}

#[test]
fn root_cause_is_due_above_five_in_thirty_days_once() {
    let day = |d: i64| NOW.plus_days(-d);
    let five = [day(1), day(5), day(10), day(20), day(29)];
    assert!(!root_cause_due(&five, NOW, false));
    let mut six = five.to_vec();
    six.push(NOW);
    assert!(root_cause_due(&six, NOW, false));
    assert!(!root_cause_due(&six, NOW, true), "a task is already open");
    let mut old = five.to_vec();
    old.push(day(31));
    assert!(!root_cause_due(&old, NOW, false));
}
