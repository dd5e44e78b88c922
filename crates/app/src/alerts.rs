//! Alerts (AN-2, AN-5) as use cases. The hourly `EvaluateAlerts` job (scheduled when a manager
//! saves the settings, or runs an evaluation by hand, and re-enqueued by each run) loads the
//! counts, asks `workflow::alerts` and records each alert once per window (the unique key
//! kind × subject × window start). Each new alert has an owner (the settings' owner, else the
//! first active cs_head, supervisor or admin), a notification to them, and an `AlertDue` job at
//! its 2 h handling deadline that escalates it to the cs_heads (and admins) if it is still
//! unresolved. Supervisors list, acknowledge and resolve alerts; every change is audited.
//!
//! Sources: the negative share and the product fault rates read `content_signals` (one row per
//! classified inbound message or feedback item, written by the feedback pipeline); the
//! problem-code spike reads the tickets' problem codes, like the crisis check.

use domain::{
    Actor, AlertId, JobId, Role, Timestamp, UserId,
    audit::{AuditValue, Snapshot},
};
use serde_json::{Value, json};
use workflow::alerts::{
    AlertConfig, HANDLING_MS, ProductWeek, code_spike, day_start, fault_rate_rise, negative_share,
    spike_since, week_start,
};

pub use db::alerts::Alert;
pub use workflow::alerts::AlertConfig as Config;

use crate::{
    App, Error, Result,
    auth::{Manager, Supervisor},
    error::OrNotFound,
};

/// How often the detectors run.
pub const EVALUATE_EVERY_MS: i64 = 3_600_000;

/// The workspace's alert settings.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertSettings {
    pub config: AlertConfig,
    /// Who owns new alerts; `None`: the first active cs_head, supervisor or admin.
    pub owner: Option<UserId>,
}

fn config_to_json(c: &AlertConfig) -> String {
    json!({
        "negative_share": c.negative_share,
        "min_signals": c.min_signals,
        "spike": {"baseline_days": c.spike.baseline_windows, "min_count": c.spike.min_count,
                  "z": c.spike.z, "ratio": c.spike.ratio},
        "fault_rise": c.fault_rise,
        "min_mentions": c.min_mentions,
    })
    .to_string()
}

fn config_from_json(s: &str) -> AlertConfig {
    let d = AlertConfig::default();
    let v: Value = serde_json::from_str(s).unwrap_or(Value::Null);
    let f = |v: &Value, k: &str, dflt: f64| v[k].as_f64().unwrap_or(dflt);
    let u = |v: &Value, k: &str, dflt: u32| {
        v[k].as_u64().map_or(dflt, |x| x.min(u64::from(u32::MAX)) as u32)
    };
    let c = AlertConfig {
        negative_share: f(&v, "negative_share", d.negative_share),
        min_signals: u(&v, "min_signals", d.min_signals),
        spike: workflow::crisis::SurgeConfig {
            baseline_windows: u(&v["spike"], "baseline_days", d.spike.baseline_windows),
            min_count: u(&v["spike"], "min_count", d.spike.min_count),
            z: f(&v["spike"], "z", d.spike.z),
            ratio: f(&v["spike"], "ratio", d.spike.ratio),
            ..d.spike
        },
        fault_rise: f(&v, "fault_rise", d.fault_rise),
        min_mentions: u(&v, "min_mentions", d.min_mentions),
    };
    // Stored settings were checked on save; fall back rather than fail a job on a bad row.
    c.check().unwrap_or(d)
}

fn snapshot(a: &Alert) -> Snapshot {
    let opt_user = |u: Option<UserId>| u.map_or(AuditValue::Null, |u| u.to_string().into());
    Snapshot(vec![
        ("kind", a.kind.as_str().into()),
        ("subject", a.subject.as_str().into()),
        ("window_start", AuditValue::Int(a.window_start.millis())),
        ("owner", opt_user(a.owner)),
        ("status", a.status.as_str().into()),
        ("due_at", AuditValue::Int(a.due_at.millis())),
        ("escalated_at", a.escalated_at.map_or(AuditValue::Null, |t| AuditValue::Int(t.millis()))),
        ("resolution", a.resolution.clone().map_or(AuditValue::Null, AuditValue::Text)),
    ])
}

impl App {
    async fn load_alert_settings(
        &self,
        c: &mut db::AnyConnection,
        ws: domain::WorkspaceId,
    ) -> Result<AlertSettings> {
        Ok(match db::alerts::settings(c, ws).await? {
            Some(s) => AlertSettings { config: config_from_json(&s.config), owner: s.owner },
            None => AlertSettings { config: AlertConfig::default(), owner: None },
        })
    }

    pub async fn alert_settings(&self, s: &Supervisor) -> Result<AlertSettings> {
        let mut c = self.db.read().await?;
        self.load_alert_settings(&mut c, s.workspace).await
    }

    /// Saves the settings (checked) and makes sure the hourly evaluation is scheduled.
    pub async fn put_alert_settings(&self, m: &Manager, s: AlertSettings) -> Result<AlertSettings> {
        let config = s.config.check()?;
        let now = self.now();
        let mut tx = self.db.write(m.workspace).await?;
        let ws = tx.workspace();
        if let Some(o) = s.owner {
            let u = db::users::get_user(&mut tx, ws, o).await?;
            if !u.is_some_and(|u| u.active && u.role.allows(domain::Permission::SuperviseCases)) {
                return Err(domain::ParseError::new(
                    "owner_id",
                    "an active admin, cs_head or supervisor of this workspace",
                )
                .into());
            }
        }
        let text = config_to_json(&config);
        db::alerts::put_settings(
            &mut tx,
            ws,
            &db::alerts::Settings { config: text.clone(), owner: s.owner },
            now,
        )
        .await?;
        tx.audit(
            now,
            m.actor,
            "alerts.settings",
            "workspace",
            &ws.to_string(),
            None,
            Some(&Snapshot(vec![
                ("config", text.into()),
                ("owner", s.owner.map_or(AuditValue::Null, |u| u.to_string().into())),
            ])),
        )
        .await?;
        // The first run is due at once, behind the jobs already queued (the demo's history
        // is classified first), then hourly.
        self.schedule_alerts(&mut tx, now, now).await?;
        self.commit(tx).await?;
        Ok(AlertSettings { config, owner: s.owner })
    }

    async fn schedule_alerts(
        &self,
        tx: &mut db::WriteTx,
        at: Timestamp,
        now: Timestamp,
    ) -> Result<()> {
        let ws = tx.workspace();
        if !db::jobs::pending(tx, ws, domain::Job::EvaluateAlerts.name()).await? {
            let id = self.ids.next(now, JobId::new);
            tx.enqueue(id, &domain::Job::EvaluateAlerts, at, now).await?;
        }
        Ok(())
    }

    /// Runs the detectors now (a manager's "check now"); returns the alerts raised.
    pub async fn evaluate_alerts_now(&self, m: &Manager) -> Result<Vec<Alert>> {
        let now = self.now();
        let mut tx = self.db.write(m.workspace).await?;
        let raised = self.evaluate_alerts(&mut tx, now).await?;
        self.schedule_alerts(&mut tx, now.plus_millis(EVALUATE_EVERY_MS), now).await?;
        self.commit(tx).await?;
        Ok(raised)
    }

    /// The `EvaluateAlerts` job: evaluate, then schedule the next run.
    pub(crate) async fn evaluate_alerts_job(
        &self,
        tx: &mut db::WriteTx,
        now: Timestamp,
    ) -> Result<()> {
        self.evaluate_alerts(tx, now).await?;
        let id = self.ids.next(now, JobId::new);
        tx.enqueue(id, &domain::Job::EvaluateAlerts, now.plus_millis(EVALUATE_EVERY_MS), now)
            .await?;
        Ok(())
    }

    async fn evaluate_alerts(&self, tx: &mut db::WriteTx, now: Timestamp) -> Result<Vec<Alert>> {
        let ws = tx.workspace();
        let settings = self.load_alert_settings(tx, ws).await?;
        let cfg = settings.config;
        let week = week_start(now);
        let week_end = week.plus_days(7);
        let mut found: Vec<(&'static str, String, Timestamp, Timestamp, Value, String)> =
            Vec::new();

        let (neg, total) = db::alerts::sentiment_counts(tx, ws, week, now.plus_millis(1)).await?;
        if let Some(a) = negative_share(clamp_u32(neg), clamp_u32(total), &cfg) {
            found.push((
                "negative_share",
                String::new(),
                week,
                week_end,
                json!({"negative": a.negative, "total": a.total, "share": a.share,
                       "threshold": cfg.negative_share}),
                format!(
                    "本周负面情绪占比 {:.1}%（{}/{}），超过阈值 {:.0}% / Negative share this week {:.1}% ({} of {}) is above {:.0}%",
                    a.share * 100.0, a.negative, a.total, cfg.negative_share * 100.0,
                    a.share * 100.0, a.negative, a.total, cfg.negative_share * 100.0
                ),
            ));
        }

        let today = day_start(now);
        for (code, times) in db::alerts::code_times(tx, ws, spike_since(now, &cfg)).await? {
            if let Some(s) = code_spike(&times, now, &cfg) {
                found.push((
                    "code_spike",
                    code.to_string(),
                    today,
                    today.plus_days(1),
                    json!({"count": s.count, "mean": s.mean, "stddev": s.stddev,
                           "threshold": s.threshold, "baseline_days": cfg.spike.baseline_windows}),
                    format!(
                        "问题代码 {code} 今日激增：{} 单（基线日均 {:.1}±{:.1}） / Problem code {code} spikes today: {} tickets (baseline {:.1}±{:.1} a day)",
                        s.count, s.mean, s.stddev, s.count, s.mean, s.stddev
                    ),
                ));
            }
        }

        let prev = week.plus_days(-7);
        for (product, p, c) in
            db::alerts::product_counts(tx, ws, prev, week, now.plus_millis(1)).await?
        {
            let pw = ProductWeek { faults: clamp_u32(p.0), mentions: clamp_u32(p.1) };
            let cw = ProductWeek { faults: clamp_u32(c.0), mentions: clamp_u32(c.1) };
            if let Some(r) = fault_rate_rise(pw, cw, &cfg) {
                found.push((
                    "fault_rate",
                    product.clone(),
                    week,
                    week_end,
                    json!({"previous": {"faults": pw.faults, "mentions": pw.mentions, "rate": r.previous},
                           "current": {"faults": cw.faults, "mentions": cw.mentions, "rate": r.current},
                           "rise": cfg.fault_rise}),
                    format!(
                        "产品 {product} 故障率周环比上升：{:.1}% → {:.1}% / Fault rate of {product} up week on week: {:.1}% → {:.1}%",
                        r.previous * 100.0, r.current * 100.0, r.previous * 100.0, r.current * 100.0
                    ),
                ));
            }
        }

        if found.is_empty() {
            return Ok(Vec::new());
        }
        let users = db::users::list_users(tx, ws).await?;
        let owner =
            settings.owner.filter(|o| users.iter().any(|u| u.id == *o && u.active)).or_else(|| {
                [Role::CsHead, Role::Supervisor, Role::Admin]
                    .iter()
                    .find_map(|r| users.iter().find(|u| u.active && u.role == *r).map(|u| u.id))
            });
        let mut raised = Vec::new();
        for (kind, subject, window_start, window_end, figures, message) in found {
            let a = Alert {
                id: self.ids.next(now, AlertId::new),
                workspace: ws,
                kind: kind.to_string(),
                subject,
                window_start,
                window_end,
                figures: figures.to_string(),
                message,
                owner,
                status: "open".into(),
                due_at: now.plus_millis(HANDLING_MS),
                escalated_at: None,
                acked_by: None,
                acked_at: None,
                resolved_by: None,
                resolved_at: None,
                resolution: None,
                created_at: now,
            };
            if !db::alerts::insert_new(tx, &a).await? {
                continue; // Already raised for this window.
            }
            tx.audit(
                now,
                Actor::System,
                "alert.raise",
                "alert",
                &a.id.to_string(),
                None,
                Some(&snapshot(&a)),
            )
            .await?;
            if let Some(o) = owner {
                self.notify(tx, o, "alert.raised", &a.message, now).await?;
            }
            let job = domain::Job::AlertDue { alert: a.id, due_at: a.due_at };
            let id = self.ids.next(now, JobId::new);
            tx.enqueue(id, &job, a.due_at, now).await?;
            raised.push(a);
        }
        Ok(raised)
    }

    async fn notify(
        &self,
        tx: &mut db::WriteTx,
        user: UserId,
        kind: &str,
        body: &str,
        now: Timestamp,
    ) -> Result<()> {
        let ws = tx.workspace();
        let n = db::sla::Notification {
            id: self.ids.next(now, JobId::new).to_string(),
            user,
            ticket: None,
            kind: kind.to_string(),
            body: body.to_string(),
            created_at: now,
        };
        db::sla::insert_notification(tx, ws, &n).await?;
        Ok(())
    }

    /// The `AlertDue` job: an alert still unresolved at its deadline is escalated to the
    /// workspace's cs_heads (admins when there is none) and marked escalated, once.
    pub(crate) async fn alert_due(
        &self,
        tx: &mut db::WriteTx,
        id: AlertId,
        due_at: Timestamp,
        now: Timestamp,
    ) -> Result<()> {
        let ws = tx.workspace();
        let Some(before) = db::alerts::get(tx, ws, id).await? else { return Ok(()) };
        if before.status == "resolved" || before.due_at != due_at || before.escalated_at.is_some() {
            return Ok(());
        }
        let mut after = before.clone();
        after.escalated_at = Some(now);
        db::alerts::update(tx, &after).await?;
        tx.audit(
            now,
            Actor::System,
            "alert.escalate",
            "alert",
            &id.to_string(),
            Some(&snapshot(&before)),
            Some(&snapshot(&after)),
        )
        .await?;
        let users = db::users::list_users(tx, ws).await?;
        let mut to: Vec<UserId> =
            users.iter().filter(|u| u.active && u.role == Role::CsHead).map(|u| u.id).collect();
        if to.is_empty() {
            to = users.iter().filter(|u| u.active && u.role == Role::Admin).map(|u| u.id).collect();
        }
        let body = format!(
            "【告警超时未处理】{}（2 小时内未解决）/ [Alert overdue] not resolved within 2 h: {}",
            after.message, after.kind
        );
        for u in to {
            self.notify(tx, u, "alert.overdue", &body, now).await?;
        }
        Ok(())
    }

    pub async fn list_alerts(
        &self,
        s: &Supervisor,
        status: Option<&str>,
        from: Option<Timestamp>,
        to: Option<Timestamp>,
    ) -> Result<Vec<Alert>> {
        if let Some(st) = status
            && !["open", "acknowledged", "resolved"].contains(&st)
        {
            return Err(domain::ParseError::new("status", "open, acknowledged or resolved").into());
        }
        let mut c = self.db.read().await?;
        let from = from.unwrap_or(Timestamp::from_millis(0));
        let to = to.unwrap_or(Timestamp::from_millis(i64::MAX));
        Ok(db::alerts::list(&mut c, s.workspace, status, from, to, 500).await?)
    }

    pub async fn get_alert(&self, s: &Supervisor, id: AlertId) -> Result<Alert> {
        let mut c = self.db.read().await?;
        db::alerts::get(&mut c, s.workspace, id).await?.or_not_found("alert")
    }

    /// Acknowledges an open alert (the owner, or any supervisor, is on it).
    pub async fn ack_alert(&self, s: &Supervisor, id: AlertId) -> Result<Alert> {
        self.change_alert(s, id, |a, user, now| {
            if a.status != "open" {
                return Err(Error::Conflict(format!("the alert is {}, not open", a.status)));
            }
            a.status = "acknowledged".into();
            a.acked_by = user;
            a.acked_at = Some(now);
            Ok("alert.ack")
        })
        .await
    }

    /// Resolves an open or acknowledged alert, with what was done.
    pub async fn resolve_alert(
        &self,
        s: &Supervisor,
        id: AlertId,
        note: Option<String>,
    ) -> Result<Alert> {
        let note = note.map(|n| n.trim().to_string()).filter(|n| !n.is_empty());
        if note.as_ref().is_some_and(|n| n.chars().count() > 2000) {
            return Err(domain::ParseError::new("resolution", "at most 2000 characters").into());
        }
        self.change_alert(s, id, move |a, user, now| {
            if a.status == "resolved" {
                return Err(Error::Conflict("the alert is already resolved".into()));
            }
            if a.acked_at.is_none() {
                a.acked_by = user;
                a.acked_at = Some(now);
            }
            a.status = "resolved".into();
            a.resolved_by = user;
            a.resolved_at = Some(now);
            a.resolution = note.clone();
            Ok("alert.resolve")
        })
        .await
    }

    async fn change_alert(
        &self,
        s: &Supervisor,
        id: AlertId,
        f: impl Fn(&mut Alert, Option<UserId>, Timestamp) -> Result<&'static str>,
    ) -> Result<Alert> {
        let now = self.now();
        let mut tx = self.db.write(s.workspace).await?;
        let ws = tx.workspace();
        let before = db::alerts::get(&mut tx, ws, id).await?.or_not_found("alert")?;
        let mut after = before.clone();
        let action = f(&mut after, s.user, now)?;
        db::alerts::update(&mut tx, &after).await?;
        tx.audit(
            now,
            s.actor,
            action,
            "alert",
            &id.to_string(),
            Some(&snapshot(&before)),
            Some(&snapshot(&after)),
        )
        .await?;
        self.commit(tx).await?;
        Ok(after)
    }
}

fn clamp_u32(n: i64) -> u32 {
    n.clamp(0, i64::from(u32::MAX)) as u32
}
