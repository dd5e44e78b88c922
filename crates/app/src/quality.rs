//! Quality inspection (AN-6) as use cases: managers keep the rules (checked by
//! `workflow::quality::QualityRules::check`); the daily `InspectQuality` job (scheduled when the
//! rules are saved, re-enqueued by each run) inspects every conversation with a message since
//! its previous run and replaces that conversation's findings and check tallies; supervisors
//! read the findings and the quality index per agent and team.
//!
//! Money amounts in agent messages come from the language engine's entities (CNY only); the
//! writer's limit is the workspace's compensation limit for their role (agent, supervisor,
//! cs_head; admins and others hold no authority, so any promised amount is beyond it).

use domain::{
    ConversationId, JobId, Role, SenderKind, TeamId, Timestamp, UserId, Visibility,
    audit::{AuditValue, Snapshot},
};
use serde_json::{Value, json};
use workflow::quality::{QualityRules, Turn, Writer, index, inspect};

pub use db::quality::Finding;
pub use workflow::quality::QualityRules as Rules;

use crate::{
    App, Result,
    auth::{Manager, Supervisor},
};

/// How often the inspection runs.
pub const INSPECT_EVERY_MS: i64 = 86_400_000;
/// How far back the first run after saving the rules looks.
pub const FIRST_LOOKBACK_MS: i64 = 30 * 86_400_000;
/// Conversations inspected per run, oldest activity first.
const PER_RUN: i64 = 5_000;

fn rules_to_json(r: &QualityRules) -> String {
    json!({"greetings": r.greetings, "closings": r.closings, "forbidden": r.forbidden,
           "promise_words": r.promise_words, "slow_reply_secs": r.slow_reply_secs})
    .to_string()
}

fn rules_from_json(s: &str) -> QualityRules {
    let d = QualityRules::default();
    let v: Value = serde_json::from_str(s).unwrap_or(Value::Null);
    let list = |k: &str, dflt: &Vec<String>| -> Vec<String> {
        v[k].as_array().map_or_else(
            || dflt.clone(),
            |xs| xs.iter().filter_map(|x| x.as_str().map(str::to_string)).collect(),
        )
    };
    QualityRules {
        greetings: list("greetings", &d.greetings),
        closings: list("closings", &d.closings),
        forbidden: list("forbidden", &d.forbidden),
        promise_words: list("promise_words", &d.promise_words),
        slow_reply_secs: v["slow_reply_secs"].as_i64().unwrap_or(d.slow_reply_secs),
    }
}

/// One row of the quality index.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexRow {
    pub day: Timestamp,
    /// `None` for the team (or workspace) total of the day.
    pub agent: Option<UserId>,
    pub checks: i64,
    pub passed: i64,
    pub index: f64,
}

impl App {
    pub async fn quality_rules(&self, s: &Supervisor) -> Result<QualityRules> {
        let mut c = self.db.read().await?;
        Ok(db::quality::rules(&mut c, s.workspace)
            .await?
            .map_or_else(QualityRules::default, |r| rules_from_json(&r)))
    }

    /// Saves the rules and schedules an inspection of the last 30 days under them, now.
    pub async fn put_quality_rules(
        &self,
        m: &Manager,
        rules: QualityRules,
    ) -> Result<QualityRules> {
        let rules = rules.check()?;
        let now = self.now();
        let mut tx = self.db.write(m.workspace).await?;
        let ws = tx.workspace();
        let text = rules_to_json(&rules);
        db::quality::put_rules(&mut tx, ws, &text, now).await?;
        tx.audit(
            now,
            m.actor,
            "quality.rules",
            "workspace",
            &ws.to_string(),
            None,
            Some(&Snapshot(vec![("rules", AuditValue::Text(text))])),
        )
        .await?;
        if !db::jobs::pending(&mut tx, ws, "inspect_quality").await? {
            let job = domain::Job::InspectQuality { since: now.plus_millis(-FIRST_LOOKBACK_MS) };
            tx.enqueue(self.ids.next(now, JobId::new), &job, now, now).await?;
        }
        self.commit(tx).await?;
        Ok(rules)
    }

    /// The `InspectQuality` job: inspect, then schedule the next daily run from now.
    pub(crate) async fn inspect_quality_job(
        &self,
        tx: &mut db::WriteTx,
        since: Timestamp,
        now: Timestamp,
    ) -> Result<()> {
        self.inspect_since(tx, since, now).await?;
        let job = domain::Job::InspectQuality { since: now };
        let id = self.ids.next(now, JobId::new);
        tx.enqueue(id, &job, now.plus_millis(INSPECT_EVERY_MS), now).await?;
        Ok(())
    }

    /// Inspects the conversations with messages at or after `since`; returns how many.
    pub(crate) async fn inspect_since(
        &self,
        tx: &mut db::WriteTx,
        since: Timestamp,
        now: Timestamp,
    ) -> Result<usize> {
        let ws = tx.workspace();
        let rules = db::quality::rules(tx, ws)
            .await?
            .map_or_else(QualityRules::default, |r| rules_from_json(&r));
        let limits = db::compensations::limits(tx, ws).await?;
        let users = db::users::list_users(tx, ws).await?;
        let limit_of = |u: UserId| -> Option<i64> {
            match users.iter().find(|x| x.id == u).map(|x| x.role) {
                Some(Role::Agent) => Some(limits.agent.get()),
                Some(Role::Supervisor) => Some(limits.supervisor.get()),
                Some(Role::CsHead) => limits.cs_head.map(|f| f.get()),
                _ => Some(0),
            }
        };
        let engine = self.nlu_engine().await?;
        let today = crate::bot::nlu::today(now);
        let convs = db::quality::conversations_since(tx, ws, since, PER_RUN).await?;
        for (conv, resolved) in &convs {
            let msgs = db::conversations::messages(tx, ws, *conv, None, 1000, true).await?;
            let turns: Vec<Turn<UserId, domain::MessageId>> = msgs
                .iter()
                .filter(|m| m.visibility == Visibility::Public)
                .map(|m| {
                    let writer = match (m.sender, m.author) {
                        (SenderKind::Customer, _) => Writer::Customer,
                        (SenderKind::Agent, Some(a)) => {
                            Writer::Agent { id: a, limit_fen: limit_of(a) }
                        }
                        _ => Writer::Other,
                    };
                    let amounts_fen = if matches!(writer, Writer::Agent { .. }) {
                        engine
                            .entities
                            .extract(&m.body, today)
                            .into_iter()
                            .filter_map(|e| match e.value {
                                nlu::entities::EntityValue::Money {
                                    minor_units,
                                    currency: nlu::entities::Currency::Cny,
                                } => Some(minor_units),
                                _ => None,
                            })
                            .collect()
                    } else {
                        Vec::new()
                    };
                    Turn { id: m.id, writer, at: m.created_at, body: m.body.clone(), amounts_fen }
                })
                .collect();
            let r = inspect(&rules, &turns, *resolved);
            let findings: Vec<Finding> = r
                .findings
                .iter()
                .map(|f| Finding {
                    id: self.ids.next(now, JobId::new).to_string(),
                    conversation: *conv,
                    message: f.message,
                    agent: f.agent,
                    kind: f.kind.as_str().to_string(),
                    detail: f.detail.clone(),
                    at: f.at,
                })
                .collect();
            let checks: Vec<db::quality::Checks> = r
                .tallies
                .iter()
                .map(|t| db::quality::Checks {
                    agent: t.agent,
                    day: t.day,
                    checks: i64::from(t.checks),
                    passed: i64::from(t.passed),
                })
                .collect();
            db::quality::replace(tx, ws, *conv, &findings, &checks, now).await?;
        }
        Ok(convs.len())
    }

    /// Runs the inspection over the last `days` now (a manager's "inspect now").
    pub async fn inspect_quality_now(&self, m: &Manager, days: i64) -> Result<usize> {
        let now = self.now();
        let mut tx = self.db.write(m.workspace).await?;
        let n = self.inspect_since(&mut tx, now.plus_days(-days.clamp(1, 90)), now).await?;
        self.commit(tx).await?;
        Ok(n)
    }

    pub async fn quality_findings(
        &self,
        s: &Supervisor,
        from: Timestamp,
        to: Timestamp,
        agent: Option<UserId>,
        conversation: Option<ConversationId>,
    ) -> Result<Vec<Finding>> {
        let mut c = self.db.read().await?;
        Ok(db::quality::findings(&mut c, s.workspace, from, to, agent, conversation, 1000).await?)
    }

    /// The daily quality index in `[from, to)` (days cut at 00:00 UTC+8): one row per agent and
    /// day, then one total row per day (`agent: None`) over the rows shown — the team's when
    /// `team` is given, else the workspace's.
    pub async fn quality_index(
        &self,
        s: &Supervisor,
        from: Timestamp,
        to: Timestamp,
        team: Option<TeamId>,
    ) -> Result<Vec<IndexRow>> {
        let mut c = self.db.read().await?;
        if let Some(t) = team
            && db::users::get_team(&mut c, s.workspace, t).await?.is_none()
        {
            return Err(crate::Error::NotFound("team"));
        }
        let from = workflow::alerts::day_start(from);
        let rows = db::quality::daily_checks(&mut c, s.workspace, from, to, team).await?;
        let mut out: Vec<IndexRow> = Vec::new();
        let mut days: Vec<(Timestamp, i64, i64)> = Vec::new();
        for r in &rows {
            out.push(IndexRow {
                day: r.day,
                agent: Some(r.agent),
                checks: r.checks,
                passed: r.passed,
                index: index(r.checks.max(0) as u64, r.passed.max(0) as u64),
            });
            match days.last_mut() {
                Some(d) if d.0 == r.day => {
                    d.1 += r.checks;
                    d.2 += r.passed;
                }
                _ => days.push((r.day, r.checks, r.passed)),
            }
        }
        out.extend(days.into_iter().map(|(day, checks, passed)| IndexRow {
            day,
            agent: None,
            checks,
            passed,
            index: index(checks.max(0) as u64, passed.max(0) as u64),
        }));
        Ok(out)
    }
}
