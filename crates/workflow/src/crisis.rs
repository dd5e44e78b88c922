//! Crisis and repeats (TK-11, AN-3): three checks run when a ticket is created.
//!
//! - **Surge** ([`surge`]): the tickets of one problem code in the last window (default 1 h)
//!   against the same window's counts over the trailing baseline (default the 24 windows
//!   before). With mean μ and population standard deviation σ of the baseline counts, the
//!   current count `n` is a surge when `n ≥ min_count` and `n > μ + z·σ` and `n ≥ ratio · μ`
//!   (defaults: 10, 3.0, 3.0). The floor keeps a quiet code from alarming on a handful of
//!   tickets (a brand crisis is not five complaints);
//!   the ratio keeps a code with a perfectly flat baseline (σ = 0) from alarming on `μ + 1`.
//! - **Repeat complaint** ([`repeat_of`]): the same customer with the same problem code within
//!   N days (default 30) of an earlier ticket.
//! - **Root cause due** ([`root_cause_due`]): a problem code seen more than 5 times in the
//!   trailing 30 days, with no root-cause task open for it.
//!
//! In the counts, times before the lookback are ignored and times after `now` count as now (a
//! clock skew between writers must not hide a surge).

use domain::{CustomerId, ProblemCode, TicketId, Timestamp};

/// Thresholds for [`surge`]. Construct with [`SurgeConfig::new`] to have them checked.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SurgeConfig {
    pub window_ms: i64,
    pub baseline_windows: u32,
    pub min_count: u32,
    pub z: f64,
    pub ratio: f64,
}

impl Default for SurgeConfig {
    fn default() -> SurgeConfig {
        SurgeConfig {
            window_ms: 3_600_000,
            baseline_windows: 24,
            min_count: 10,
            z: 3.0,
            ratio: 3.0,
        }
    }
}

impl SurgeConfig {
    pub fn new(
        window_ms: i64,
        baseline_windows: u32,
        min_count: u32,
        z: f64,
        ratio: f64,
    ) -> Result<SurgeConfig, domain::ParseError> {
        let bad = |f: &'static str, m: &str| Err(domain::ParseError::new(f, m));
        if !(60_000..=30 * 86_400_000).contains(&window_ms) {
            return bad("crisis.window", "between 1 minute and 30 days");
        }
        if !(1..=1000).contains(&baseline_windows) {
            return bad("crisis.baseline_windows", "between 1 and 1000");
        }
        if min_count == 0 {
            return bad("crisis.min_count", "at least 1");
        }
        if !(z.is_finite() && z >= 0.0) {
            return bad("crisis.z", "a number ≥ 0");
        }
        if !(ratio.is_finite() && ratio >= 1.0) {
            return bad("crisis.ratio", "a number ≥ 1");
        }
        Ok(SurgeConfig { window_ms, baseline_windows, min_count, z, ratio })
    }

    /// How far back [`surge`] looks: the window plus the baseline.
    pub fn lookback_ms(&self) -> i64 {
        self.window_ms.saturating_mul(i64::from(self.baseline_windows) + 1)
    }
}

/// A detected surge, with the figures for the alert.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Surge {
    pub count: u32,
    pub mean: f64,
    pub stddev: f64,
    /// The count that had to be exceeded: `max(min_count - 1, μ + z·σ, ratio·μ - 1)`.
    pub threshold: f64,
}

/// Whether `times` (the creation times of one problem code's tickets, any order, going back
/// at least [`SurgeConfig::lookback_ms`]) show a surge in the window ending at `now`.
pub fn surge(times: &[Timestamp], now: Timestamp, cfg: &SurgeConfig) -> Option<Surge> {
    let w = cfg.window_ms.max(1);
    let k = cfg.baseline_windows.max(1) as usize;
    let mut buckets = vec![0u32; k + 1];
    for t in times {
        let age = now.millis().saturating_sub(t.millis()).max(0);
        let i = (age / w) as usize;
        if let Some(b) = buckets.get_mut(i) {
            *b = b.saturating_add(1);
        }
    }
    let count = buckets[0];
    let base = &buckets[1..];
    let mean = base.iter().map(|&c| f64::from(c)).sum::<f64>() / k as f64;
    let var = base.iter().map(|&c| (f64::from(c) - mean).powi(2)).sum::<f64>() / k as f64;
    let stddev = var.sqrt();
    let threshold =
        (f64::from(cfg.min_count) - 1.0).max(mean + cfg.z * stddev).max(cfg.ratio * mean - 1.0);
    let n = f64::from(count);
    (count >= cfg.min_count && n > mean + cfg.z * stddev && n >= cfg.ratio * mean)
        .then_some(Surge { count, mean, stddev, threshold })
}

/// One earlier ticket, as the repeat and root-cause checks see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Past {
    pub ticket: TicketId,
    pub customer: CustomerId,
    pub problem_code: ProblemCode,
    pub created_at: Timestamp,
}

/// The most recent earlier ticket of the same customer with the same problem code (an exact
/// sub-code, or the same bare category) within `days` before `now`.
pub fn repeat_of(
    past: &[Past],
    customer: CustomerId,
    code: ProblemCode,
    now: Timestamp,
    days: u32,
) -> Option<TicketId> {
    let since = now.plus_days(-i64::from(days));
    past.iter()
        .filter(|p| p.customer == customer && p.problem_code == code)
        .filter(|p| p.created_at >= since && p.created_at <= now)
        .max_by_key(|p| (p.created_at, p.ticket))
        .map(|p| p.ticket)
}

/// AN-3: more than this many tickets of one code in the trailing window requires a root-cause
/// report.
pub const ROOT_CAUSE_THRESHOLD: u32 = 5;
/// The trailing window for [`root_cause_due`]: 30 days.
pub const ROOT_CAUSE_WINDOW_DAYS: i64 = 30;

/// Whether a root-cause report task must be opened now: the code's tickets in the trailing
/// 30 days (including the new one) exceed [`ROOT_CAUSE_THRESHOLD`] and none is open for it.
pub fn root_cause_due(times: &[Timestamp], now: Timestamp, task_open: bool) -> bool {
    let since = now.plus_days(-ROOT_CAUSE_WINDOW_DAYS);
    let n = times.iter().filter(|t| **t > since).count();
    !task_open && n > ROOT_CAUSE_THRESHOLD as usize
}

#[cfg(test)]
mod tests;
