//! Customer churn risk (AN-5): a 0–100 score from complaint frequency, satisfaction, spend
//! and recency, with each factor's share so whoever reads it sees why. Pure: the caller
//! gathers the inputs.
//!
//! Each factor is a risk in 0..=1, weighted; a factor without data (no answered survey, no
//! spend on record, no contact) is left out and the other weights are scaled up, so a customer
//! is never scored on guesses.
//!
//! | factor | risk | weight |
//! |---|---|---|
//! | complaints | complaint contacts in 90 days / 3, capped at 1 | 0.35 |
//! | satisfaction | 1 − mean normalised survey score (180 days) | 0.30 |
//! | recency | days since the last contact / 90, capped at 1 | 0.20 |
//! | spend | 1 − lifetime spend / ¥5,000, capped at 0..1 | 0.15 |

/// What a customer's risk is computed from.
#[derive(Debug, Clone, PartialEq)]
pub struct Inputs {
    /// Complaint contacts (conversations or feedback items classified as complaints) in the
    /// last 90 days.
    pub complaints_90d: u32,
    /// Answered survey scores normalised to 0 (worst) ..= 1 (best), last 180 days.
    pub survey_scores: Vec<f64>,
    /// Lifetime spend in fen, if known.
    pub spend_fen: Option<i64>,
    /// Days since the customer last wrote or gave feedback, if ever.
    pub days_since_contact: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Low,
    Medium,
    High,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Low => "low",
            Level::Medium => "medium",
            Level::High => "high",
        }
    }
}

/// One factor's part in the score.
#[derive(Debug, Clone, PartialEq)]
pub struct Factor {
    pub name: &'static str,
    /// The factor's risk, 0..=1.
    pub risk: f64,
    /// Its weight after scaling for missing factors (weights of present factors sum to 1).
    pub weight: f64,
    /// Points it adds to the score (risk × weight × 100).
    pub points: f64,
    /// The input in words: "4 complaints in 90 days".
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Risk {
    /// 0..=100.
    pub score: f64,
    pub level: Level,
    /// Present factors, largest contribution first.
    pub factors: Vec<Factor>,
}

pub const W_COMPLAINTS: f64 = 0.35;
pub const W_SATISFACTION: f64 = 0.30;
pub const W_RECENCY: f64 = 0.20;
pub const W_SPEND: f64 = 0.15;
/// Complaint contacts in 90 days that make the complaint risk full.
pub const COMPLAINTS_FULL: f64 = 3.0;
/// Days without contact that make the recency risk full.
pub const RECENCY_FULL_DAYS: f64 = 90.0;
/// Lifetime spend (fen) at which the spend risk reaches zero: ¥5,000.
pub const SPEND_FULL_FEN: f64 = 500_000.0;
/// Score from which the risk is high, and medium.
pub const HIGH_FROM: f64 = 60.0;
pub const MEDIUM_FROM: f64 = 35.0;

pub fn score(i: &Inputs) -> Risk {
    let mut raw: Vec<(&'static str, f64, f64, String)> = Vec::new();
    raw.push((
        "complaints",
        (f64::from(i.complaints_90d) / COMPLAINTS_FULL).min(1.0),
        W_COMPLAINTS,
        format!("{} complaint contacts in 90 days", i.complaints_90d),
    ));
    if !i.survey_scores.is_empty() {
        let mean = i.survey_scores.iter().map(|s| s.clamp(0.0, 1.0)).sum::<f64>()
            / i.survey_scores.len() as f64;
        raw.push((
            "satisfaction",
            1.0 - mean,
            W_SATISFACTION,
            format!(
                "mean survey score {:.0}% over {} answers",
                mean * 100.0,
                i.survey_scores.len()
            ),
        ));
    }
    if let Some(d) = i.days_since_contact {
        raw.push((
            "recency",
            (d.max(0.0) / RECENCY_FULL_DAYS).min(1.0),
            W_RECENCY,
            format!("last contact {d:.0} days ago"),
        ));
    }
    if let Some(fen) = i.spend_fen {
        raw.push((
            "spend",
            (1.0 - fen.max(0) as f64 / SPEND_FULL_FEN).clamp(0.0, 1.0),
            W_SPEND,
            format!("lifetime spend ¥{:.2}", fen as f64 / 100.0),
        ));
    }
    let total: f64 = raw.iter().map(|r| r.2).sum();
    let mut factors: Vec<Factor> = raw
        .into_iter()
        .map(|(name, risk, w, detail)| {
            let weight = w / total;
            Factor { name, risk, weight, points: risk * weight * 100.0, detail }
        })
        .collect();
    factors.sort_by(|a, b| b.points.total_cmp(&a.points).then(a.name.cmp(b.name)));
    let score = factors.iter().map(|f| f.points).sum::<f64>().clamp(0.0, 100.0);
    let level = if score >= HIGH_FROM {
        Level::High
    } else if score >= MEDIUM_FROM {
        Level::Medium
    } else {
        Level::Low
    };
    Risk { score, level, factors }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn all_factors_hand_computed() {
        // complaints 2/3 → 0.6667 × 0.35 = 23.333; satisfaction mean (0.25 + 0.5)/2 = 0.375,
        // risk 0.625 × 0.30 = 18.75; recency 45/90 = 0.5 × 0.20 = 10; spend 1 − 1000/5000 =
        // 0.8 × 0.15 = 12. Total 64.083 → high.
        let r = score(&Inputs {
            complaints_90d: 2,
            survey_scores: vec![0.25, 0.5],
            spend_fen: Some(100_000),
            days_since_contact: Some(45.0),
        });
        assert!(close(r.score, 23.333_333_333_333_332 + 18.75 + 10.0 + 12.0), "{}", r.score);
        assert_eq!(r.level, Level::High);
        let names: Vec<_> = r.factors.iter().map(|f| f.name).collect();
        assert_eq!(names, ["complaints", "satisfaction", "spend", "recency"]);
        assert!(close(r.factors[1].points, 18.75));
    }

    #[test]
    fn missing_factors_rescale_weights() {
        // Only complaints (0 → 0) and recency (9/90 = 0.1): weights 0.35/0.55 and 0.20/0.55;
        // score 0.1 × 0.20 / 0.55 × 100 = 3.636… → low.
        let r = score(&Inputs {
            complaints_90d: 0,
            survey_scores: vec![],
            spend_fen: None,
            days_since_contact: Some(9.0),
        });
        assert!(close(r.score, 0.1 * 0.20 / 0.55 * 100.0), "{}", r.score);
        assert_eq!(r.level, Level::Low);
        assert_eq!(r.factors.len(), 2);
        assert!(close(r.factors.iter().map(|f| f.weight).sum::<f64>(), 1.0));
    }

    #[test]
    fn caps_and_levels() {
        // Five complaints cap at 1 (35), perfect surveys 0, 200 days cap at 1 (20), ¥10,000
        // spend floors at 0: 55 → medium.
        let r = score(&Inputs {
            complaints_90d: 5,
            survey_scores: vec![1.0, 1.0],
            spend_fen: Some(1_000_000),
            days_since_contact: Some(200.0),
        });
        assert!(close(r.score, 55.0), "{}", r.score);
        assert_eq!(r.level, Level::Medium);
        let worst = score(&Inputs {
            complaints_90d: 9,
            survey_scores: vec![0.0],
            spend_fen: Some(0),
            days_since_contact: Some(365.0),
        });
        assert!(close(worst.score, 100.0));
    }
}
