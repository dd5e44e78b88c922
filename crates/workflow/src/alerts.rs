//! Business alerts (AN-2, AN-5): pure detectors over counts the caller has already loaded.
//!
//! Windows are calendar-aligned so that one alert belongs to exactly one window and an hourly
//! evaluation raises it once (the caller keys the alert by kind, subject and window start):
//! days and weeks start at 00:00 and on Monday 00:00 in UTC+08:00 (China Standard Time, no
//! daylight saving), the zone of the seeded office calendar.
//!
//! - **Negative share** ([`negative_share`], AN-2): in the current week so far, the share of
//!   classified messages and feedback whose sentiment is negative. Alert when the week has at
//!   least `min_signals` classified items and the share is strictly above the threshold
//!   (default 20 %).
//! - **Problem-code spike** ([`code_spike`], AN-5 hot spots): one code's tickets today against
//!   the same code's daily counts over the trailing baseline days, with the surge test of
//!   [`crate::crisis::surge`] (the crisis check's hourly test, here with day windows and lower
//!   floors: defaults 14 baseline days, at least 5 tickets, μ + 3σ, 2 × μ).
//! - **Fault rate** ([`fault_rate_rise`], AN-5): for one product (SKU or name), fault rate =
//!   complaints mentioning the product ÷ all classified items mentioning it, in the week so
//!   far against the whole previous week. Alert when both weeks have at least
//!   `min_mentions` mentions and the rate rose by at least `rise` (default 0.05, i.e. five
//!   percentage points; a relative rise of 5 % of a small rate would be noise).

use domain::{ParseError, Timestamp};

use crate::crisis::{Surge, SurgeConfig, surge};

const DAY_MS: i64 = 86_400_000;
/// UTC+08:00, the offset days and weeks are cut at.
pub const OFFSET_MS: i64 = 8 * 3_600_000;
/// How long the owner has to handle an alert (AN-2: handled within 2 h).
pub const HANDLING_MS: i64 = 2 * 3_600_000;

/// The start of the day containing `t` (00:00 UTC+08:00).
pub fn day_start(t: Timestamp) -> Timestamp {
    let local = t.millis() + OFFSET_MS;
    Timestamp::from_millis(local - local.rem_euclid(DAY_MS) - OFFSET_MS)
}

/// The start of the week containing `t` (Monday 00:00 UTC+08:00).
pub fn week_start(t: Timestamp) -> Timestamp {
    let day = day_start(t);
    // 1970-01-01 was a Thursday: days since the epoch + 3, mod 7, is days since Monday.
    let days = (day.millis() + OFFSET_MS).div_euclid(DAY_MS);
    day.plus_days(-(days + 3).rem_euclid(7))
}

/// The start of the month containing `t` (the 1st, 00:00 UTC+08:00).
pub fn month_start(t: Timestamp) -> Timestamp {
    let days = (day_start(t).millis() + OFFSET_MS).div_euclid(DAY_MS);
    let (y, m, _) = civil_from_days(days);
    Timestamp::from_millis(days_from_civil(y, m, 1) * DAY_MS - OFFSET_MS)
}

/// The start of the month after the one containing `t`.
pub fn next_month_start(t: Timestamp) -> Timestamp {
    // 32 days after the 1st is always inside the next month.
    month_start(month_start(t).plus_days(32))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Thresholds for all three detectors; [`AlertConfig::check`] validates them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AlertConfig {
    /// Negative share strictly above this fires (0–1).
    pub negative_share: f64,
    /// Fewest classified items in the week before the share is judged.
    pub min_signals: u32,
    /// The spike test, with a day window.
    pub spike: SurgeConfig,
    /// Rise of a product's fault rate, in rate units (0.05 = five percentage points).
    pub fault_rise: f64,
    /// Fewest mentions of a product in each week before its rate is judged.
    pub min_mentions: u32,
}

impl Default for AlertConfig {
    fn default() -> AlertConfig {
        AlertConfig {
            negative_share: 0.20,
            min_signals: 20,
            spike: SurgeConfig {
                window_ms: DAY_MS,
                baseline_windows: 14,
                min_count: 5,
                z: 3.0,
                ratio: 2.0,
            },
            fault_rise: 0.05,
            min_mentions: 10,
        }
    }
}

impl AlertConfig {
    pub fn check(self) -> Result<AlertConfig, ParseError> {
        let bad = |f: &'static str, m: &str| Err(ParseError::new(f, m));
        if !(self.negative_share.is_finite() && (0.0..1.0).contains(&self.negative_share)) {
            return bad(
                "negative_share_threshold",
                "a share from 0 up to (not including) 1, e.g. 0.2",
            );
        }
        if !(self.fault_rise.is_finite() && self.fault_rise > 0.0 && self.fault_rise <= 1.0) {
            return bad("fault_rate_rise", "a rise above 0 and at most 1, e.g. 0.05");
        }
        if self.min_signals == 0 {
            return bad("min_signals", "at least 1");
        }
        if self.min_mentions == 0 {
            return bad("min_mentions", "at least 1");
        }
        let s = self.spike;
        let spike = SurgeConfig::new(DAY_MS, s.baseline_windows, s.min_count, s.z, s.ratio)
            .map_err(|e| ParseError::new("spike", e.to_string()))?;
        Ok(AlertConfig { spike, ..self })
    }
}

/// A week's negative share above the threshold.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NegativeShare {
    pub negative: u32,
    pub total: u32,
    pub share: f64,
}

/// AN-2: `negative` of `total` classified items this week.
pub fn negative_share(negative: u32, total: u32, cfg: &AlertConfig) -> Option<NegativeShare> {
    if total == 0 || total < cfg.min_signals {
        return None;
    }
    let share = f64::from(negative.min(total)) / f64::from(total);
    (share > cfg.negative_share).then_some(NegativeShare {
        negative: negative.min(total),
        total,
        share,
    })
}

/// AN-5: whether one code's ticket creation `times` (going back at least the baseline) spike
/// today. The window is today (from [`day_start`]) rather than the trailing 24 hours, so the
/// alert has one window per day.
pub fn code_spike(times: &[Timestamp], now: Timestamp, cfg: &AlertConfig) -> Option<Surge> {
    let day_end = day_start(now).plus_days(1).plus_millis(-1);
    surge(times, day_end, &cfg.spike)
}

/// Where [`code_spike`]'s caller must load times from.
pub fn spike_since(now: Timestamp, cfg: &AlertConfig) -> Timestamp {
    day_start(now).plus_days(-i64::from(cfg.spike.baseline_windows))
}

/// One product's counts in one week.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ProductWeek {
    pub faults: u32,
    pub mentions: u32,
}

impl ProductWeek {
    pub fn rate(self) -> f64 {
        if self.mentions == 0 {
            0.0
        } else {
            f64::from(self.faults.min(self.mentions)) / f64::from(self.mentions)
        }
    }
}

/// A product whose fault rate rose by at least the configured rise.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FaultRise {
    pub previous: f64,
    pub current: f64,
}

/// AN-5: the product's fault rate this week against last week.
pub fn fault_rate_rise(
    previous: ProductWeek,
    current: ProductWeek,
    cfg: &AlertConfig,
) -> Option<FaultRise> {
    if previous.mentions < cfg.min_mentions || current.mentions < cfg.min_mentions {
        return None;
    }
    let (p, c) = (previous.rate(), current.rate());
    // Rates are ratios of small integers: compare with a tolerance so 0.15 − 0.10 counts as 0.05.
    (c - p + 1e-9 >= cfg.fault_rise).then_some(FaultRise { previous: p, current: c })
}

/// Whether an alert raised at `raised_at` and still open is overdue at `now`.
pub fn overdue(raised_at: Timestamp, now: Timestamp) -> bool {
    now.millis() >= raised_at.millis() + HANDLING_MS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(ms: i64) -> Timestamp {
        Timestamp::from_millis(ms)
    }

    // 2026-11-02T01:00:00Z is Monday 09:00 CST.
    const MON_9_CST: i64 = 1_793_581_200_000;

    #[test]
    fn days_and_weeks_are_cut_in_china_time() {
        // Monday 09:00 CST → Monday 00:00 CST = Sunday 16:00 UTC.
        assert_eq!(day_start(ts(MON_9_CST)), ts(MON_9_CST - 9 * 3_600_000));
        assert_eq!(week_start(ts(MON_9_CST)), ts(MON_9_CST - 9 * 3_600_000));
        // Sunday 23:59 CST belongs to the week that started six days earlier.
        let sun = MON_9_CST + 6 * DAY_MS + 14 * 3_600_000 + 59 * 60_000;
        assert_eq!(week_start(ts(sun)), ts(MON_9_CST - 9 * 3_600_000));
        // Next Monday 00:00 CST starts a new week.
        let next = MON_9_CST - 9 * 3_600_000 + 7 * DAY_MS;
        assert_eq!(week_start(ts(next)), ts(next));
        assert_eq!(week_start(ts(next - 1)), ts(MON_9_CST - 9 * 3_600_000));
    }

    #[test]
    fn months_are_cut_in_china_time() {
        // Monday 2 November 09:00 CST → 1 November 00:00 CST = 31 October 16:00 UTC.
        let nov1 = MON_9_CST - DAY_MS - 9 * 3_600_000;
        assert_eq!(month_start(ts(MON_9_CST)), ts(nov1));
        // 1 December 00:00 CST, 30 days later.
        assert_eq!(next_month_start(ts(MON_9_CST)), ts(nov1 + 30 * DAY_MS));
        // 31 December 23:59 CST → 1 January 2027 next.
        let dec1 = nov1 + 30 * DAY_MS;
        assert_eq!(next_month_start(ts(dec1 + 31 * DAY_MS - 60_000)), ts(dec1 + 31 * DAY_MS));
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(civil_from_days(days_from_civil(2028, 2, 29)), (2028, 2, 29));
    }

    #[test]
    fn negative_share_is_strictly_above_the_threshold() {
        let cfg = AlertConfig::default();
        // 4 of 20 is exactly 20 %: no alert; 5 of 20 is 25 %.
        assert_eq!(negative_share(4, 20, &cfg), None);
        let a = negative_share(5, 20, &cfg).unwrap();
        assert_eq!((a.negative, a.total), (5, 20));
        assert!((a.share - 0.25).abs() < 1e-12);
        // Too few items to judge: 10 of 19.
        assert_eq!(negative_share(10, 19, &cfg), None);
        assert_eq!(negative_share(0, 0, &cfg), None);
        // A workspace threshold of 10 %: 3 of 20 (15 %) fires.
        let low = AlertConfig { negative_share: 0.10, ..cfg };
        assert!(negative_share(3, 20, &low).is_some());
    }

    #[test]
    fn a_spike_is_todays_count_against_the_trailing_days() {
        let cfg = AlertConfig::default();
        let now = ts(MON_9_CST + 5 * 3_600_000); // Monday 14:00 CST
        let today = day_start(now);
        // Baseline: one ticket a day on each of the 14 previous days (μ = 1, σ = 0).
        let mut times: Vec<Timestamp> =
            (1..=14).map(|d| today.plus_days(-d).plus_hours(10)).collect();
        // Today 4 tickets: below the floor of 5.
        times.extend((0..4).map(|i| today.plus_hours(1 + i)));
        assert_eq!(code_spike(&times, now, &cfg), None);
        // A fifth: 5 ≥ 5, 5 > 1 + 0, 5 ≥ 2 × 1.
        times.push(today.plus_hours(8));
        let s = code_spike(&times, now, &cfg).unwrap();
        assert_eq!(s.count, 5);
        assert!((s.mean - 1.0).abs() < 1e-12 && s.stddev == 0.0);
        // Yesterday's tickets belong to the baseline, not today's window.
        let mut y: Vec<Timestamp> = (0..6).map(|i| today.plus_millis(-1 - i)).collect();
        y.extend((2..=14).map(|d| today.plus_days(-d)));
        assert_eq!(code_spike(&y, now, &cfg), None);
        assert_eq!(spike_since(now, &cfg), today.plus_days(-14));
    }

    #[test]
    fn a_noisy_baseline_needs_more_than_three_sigma() {
        let cfg = AlertConfig::default();
        let now = ts(MON_9_CST);
        let today = day_start(now);
        // Baseline alternating 0 and 4 a day: μ = 2, σ = 2 → more than 8 needed.
        let mut times = Vec::new();
        for d in 1..=14i64 {
            if d % 2 == 0 {
                times.extend((0..4).map(|h| today.plus_days(-d).plus_hours(h)));
            }
        }
        times.extend((0..8).map(|h| today.plus_hours(h % 9)));
        assert_eq!(code_spike(&times, now, &cfg), None);
        times.push(today.plus_hours(1));
        let s = code_spike(&times, now, &cfg).unwrap();
        assert_eq!((s.count, s.mean, s.stddev), (9, 2.0, 2.0));
    }

    #[test]
    fn fault_rate_rise_in_percentage_points() {
        let cfg = AlertConfig::default();
        // 2/20 = 10 % → 3/20 = 15 %: exactly five points.
        let prev = ProductWeek { faults: 2, mentions: 20 };
        let r = fault_rate_rise(prev, ProductWeek { faults: 3, mentions: 20 }, &cfg).unwrap();
        assert!((r.previous - 0.10).abs() < 1e-12 && (r.current - 0.15).abs() < 1e-12);
        // 2/20 → 4/30 = 13.3 %: 3.3 points, no alert.
        assert_eq!(fault_rate_rise(prev, ProductWeek { faults: 4, mentions: 30 }, &cfg), None);
        // Too few mentions this week (9).
        assert_eq!(fault_rate_rise(prev, ProductWeek { faults: 9, mentions: 9 }, &cfg), None);
        // A falling rate never fires.
        assert_eq!(fault_rate_rise(ProductWeek { faults: 10, mentions: 20 }, prev, &cfg), None);
    }

    #[test]
    fn config_is_checked() {
        let cfg = AlertConfig::default();
        assert!(cfg.check().is_ok());
        assert!(AlertConfig { negative_share: 1.5, ..cfg }.check().is_err());
        assert!(AlertConfig { fault_rise: 0.0, ..cfg }.check().is_err());
        assert!(AlertConfig { min_signals: 0, ..cfg }.check().is_err());
    }

    #[test]
    fn two_hours_to_handle() {
        assert!(!overdue(ts(0), ts(HANDLING_MS - 1)));
        assert!(overdue(ts(0), ts(HANDLING_MS)));
    }
}
