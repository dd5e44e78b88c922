//! Churn risk per customer (AN-5), scored by `workflow::churn` from complaint contacts in the
//! last 90 days (content signals), answered surveys of the last 180 days, recency (the latest
//! classified message or feedback) and spend. Spend is the customer attribute `spend` (or
//! `lifetime_spend`, `消费金额`) in yuan, as a CRM sync or an agent records it; without it the
//! spend factor is left out and the other weights are scaled up.

use std::collections::HashMap;

use domain::{Customer, CustomerId, Timestamp};
use workflow::churn::{Inputs, Risk};

use crate::{
    App, Result,
    auth::{Staff, Supervisor},
    error::OrNotFound,
};

const DAY_MS: i64 = 86_400_000;
/// Customers listed at most.
pub const MAX_CHURN_LIST: usize = 500;

/// One customer's churn risk.
#[derive(Debug, Clone)]
pub struct ChurnView {
    pub customer: Customer,
    pub inputs: Inputs,
    pub risk: Risk,
}

/// A row of the churn list.
#[derive(Debug, Clone)]
pub struct ChurnRow {
    pub customer: CustomerId,
    pub name: String,
    pub tier: String,
    pub risk: Risk,
}

/// Lifetime spend in fen from the customer's attributes, if recorded.
pub fn spend_fen(attributes: &[(String, String)]) -> Option<i64> {
    attributes
        .iter()
        .find(|(k, _)| matches!(k.as_str(), "spend" | "lifetime_spend" | "消费金额"))
        .and_then(|(_, v)| v.trim().trim_start_matches(['¥', '￥']).replace(',', "").parse::<f64>().ok())
        .filter(|v| v.is_finite() && *v >= 0.0)
        .map(|v| (v * 100.0).round() as i64)
}

fn inputs(f: Option<&db::feedback::ChurnFacts>, attrs: &[(String, String)], now: Timestamp) -> Inputs {
    Inputs {
        complaints_90d: f.map_or(0, |f| f.complaints),
        survey_scores: f
            .map(|f| f.surveys.iter().map(|(k, s)| k.normalized(*s)).collect())
            .unwrap_or_default(),
        spend_fen: spend_fen(attrs),
        days_since_contact: f
            .and_then(|f| f.last_contact)
            .map(|t| (now.millis() - t.millis()).max(0) as f64 / DAY_MS as f64),
    }
}

impl App {
    pub async fn customer_churn(&self, s: &Staff, id: CustomerId) -> Result<ChurnView> {
        let now = self.now();
        let mut c = self.db.read().await?;
        let customer = db::customers::get(&mut c, s.workspace, id).await?.or_not_found("customer")?;
        let facts = db::feedback::churn_facts(
            &mut c,
            s.workspace,
            Some(id),
            now.plus_millis(-90 * DAY_MS),
            now.plus_millis(-180 * DAY_MS),
        )
        .await?;
        let inputs = inputs(facts.get(&id), &customer.attributes, now);
        let risk = workflow::churn::score(&inputs);
        Ok(ChurnView { customer, inputs, risk })
    }

    /// Customers with any classified contact or survey, highest risk first.
    pub async fn churn_list(&self, s: &Supervisor, limit: usize) -> Result<Vec<ChurnRow>> {
        let now = self.now();
        let mut c = self.db.read().await?;
        let facts: HashMap<CustomerId, db::feedback::ChurnFacts> = db::feedback::churn_facts(
            &mut c,
            s.workspace,
            None,
            now.plus_millis(-90 * DAY_MS),
            now.plus_millis(-180 * DAY_MS),
        )
        .await?;
        let ids: Vec<CustomerId> = facts.keys().copied().collect();
        let briefs = db::feedback::customer_briefs(&mut c, s.workspace, &ids).await?;
        let mut rows: Vec<ChurnRow> = briefs
            .into_iter()
            .map(|b| ChurnRow {
                customer: b.id,
                risk: workflow::churn::score(&inputs(facts.get(&b.id), &b.attributes, now)),
                name: b.name,
                tier: b.tier,
            })
            .collect();
        rows.sort_by(|a, b| b.risk.score.total_cmp(&a.risk.score).then(a.customer.cmp(&b.customer)));
        rows.truncate(limit.clamp(1, MAX_CHURN_LIST));
        Ok(rows)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn spend_from_attributes() {
        let a = |k: &str, v: &str| vec![(k.to_string(), v.to_string())];
        assert_eq!(super::spend_fen(&a("spend", "1234.5")), Some(123_450));
        assert_eq!(super::spend_fen(&a("消费金额", "¥2,000")), Some(200_000));
        assert_eq!(super::spend_fen(&a("city", "上海")), None);
        assert_eq!(super::spend_fen(&a("spend", "lots")), None);
    }
}
