//! Proactive service (issue 8 item 6, 场景化推送): admins write rules that send a template
//! message to a segment of customers at a moment (a VIP's membership expiring within 7 days,
//! a delayed order) through the channel of the customer's latest reachable conversation
//! (WeChat, a signed-webhook platform, SMS with an approved template, or email).
//!
//! The hourly `EvaluateProactive` job (scheduled when an active rule is saved, rescheduled by
//! each run while active rules remain) plans every active rule with `workflow::proactive::plan`
//! and records one `proactive_sends` row per customer and occasion (unique, so nobody gets the
//! same rule's message twice for one occasion) together with a `SendProactive` job due at the
//! end of the quiet hours, in the same transaction. The frequency cap counts the customer's
//! scheduled and sent messages across rules. When due, `SendProactive` checks the opt-out
//! again, writes the message into the customer's conversation (so it is part of their
//! history) and hands it to the channel: an outbound row and a `SendOutbound` job, or a
//! `SendEmail` job. Customers opt out through staff or by replying 退订 / TD / STOP.

use domain::{
    Actor, Audience, CustomerId, Event, JobId, Message, MessageId, OutboundId, ParseError,
    ProactiveRuleId, ProactiveSendId, SenderKind, Snapshot, Timestamp, Visibility, WorkspaceId,
};
use serde_json::{Value, json};
use workflow::proactive::{self as plan, Moment, Rule, Settings, Skip, TierFilter};

use crate::{
    App, Error, Result,
    auth::{Admin, Agent, Staff},
    channels::{config::view, outbound::sms_body},
    error::OrNotFound,
    intake::{customers::require_all_cases, snapshot},
};

/// How often the evaluation job runs.
pub const EVALUATE_EVERY_MS: i64 = 3_600_000;
/// Customers read per page while evaluating.
const PAGE: i64 = 500;

/// A stored rule.
#[derive(Debug, Clone)]
pub struct ProactiveRule {
    pub id: ProactiveRuleId,
    pub name: String,
    pub active: bool,
    pub rule: Rule,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// The workspace's proactive settings as stored text.
#[derive(Debug, Clone, PartialEq)]
pub struct ProactiveSettings {
    pub time_zone: String,
    pub quiet_hours: String,
    pub cap_count: i64,
    pub cap_days: i64,
}

/// One customer of a rule's segment and what would happen now.
#[derive(Debug, Clone)]
pub struct AudienceItem {
    pub customer: CustomerId,
    pub name: String,
    /// The channel the message would take (`wechat`, `webhook`, `sms`, `email`), if any.
    pub channel: Option<String>,
    pub occasion: String,
    /// `send` or the skip reason (`opted_out`, `capped`, `unreachable`, `already_sent`).
    pub outcome: &'static str,
    /// When it would go (after quiet hours), for `send`.
    pub due_at: Option<Timestamp>,
    pub text: String,
}

/// A customer's opt-out state.
#[derive(Debug, Clone, PartialEq)]
pub struct OptOut {
    pub opted_out: bool,
    /// `staff` or `reply`.
    pub source: Option<String>,
    pub since: Option<Timestamp>,
}

fn encode(r: &Rule) -> String {
    let moment = match &r.moment {
        Moment::DaysBefore { attribute, days } => {
            json!({"kind": "days_before", "attribute": attribute, "days": days})
        }
        Moment::AttributeIs { attribute, value, occasion_attribute } => json!({
            "kind": "attribute_is", "attribute": attribute, "value": value,
            "occasion_attribute": occasion_attribute
        }),
    };
    let attrs: serde_json::Map<String, Value> =
        r.attributes.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
    json!({
        "tier": r.tier.as_str(), "attributes": attrs, "moment": moment,
        "text": r.text, "sms_template": r.sms_template
    })
    .to_string()
}

fn decode(s: &str) -> Result<Rule> {
    let bad = |e: String| Error::Internal(anyhow::anyhow!("stored proactive rule: {e}"));
    let v: Value = serde_json::from_str(s).map_err(|e| bad(e.to_string()))?;
    let st = |v: &Value| v.as_str().unwrap_or_default().to_string();
    let m = &v["moment"];
    let moment = match m["kind"].as_str() {
        Some("days_before") => Moment::DaysBefore {
            attribute: st(&m["attribute"]),
            days: m["days"].as_i64().unwrap_or_default(),
        },
        Some("attribute_is") => Moment::AttributeIs {
            attribute: st(&m["attribute"]),
            value: st(&m["value"]),
            occasion_attribute: m["occasion_attribute"].as_str().map(str::to_string),
        },
        other => return Err(bad(format!("unknown moment {other:?}"))),
    };
    Ok(Rule {
        tier: TierFilter::parse(v["tier"].as_str().unwrap_or_default())
            .map_err(|e| bad(e.to_string()))?,
        attributes: v["attributes"]
            .as_object()
            .map(|o| o.iter().map(|(k, v)| (k.clone(), st(v))).collect())
            .unwrap_or_default(),
        moment,
        text: st(&v["text"]),
        sms_template: v["sms_template"].as_str().map(str::to_string),
    })
}

fn to_rule(row: db::proactive::RuleRow) -> Result<ProactiveRule> {
    Ok(ProactiveRule {
        id: row.id,
        rule: decode(&row.definition)?,
        name: row.name,
        active: row.active,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

fn settings_of(s: &ProactiveSettings) -> std::result::Result<Settings, ParseError> {
    Settings::new(&s.time_zone, &s.quiet_hours, s.cap_count, s.cap_days)
}

fn default_settings() -> ProactiveSettings {
    let d = Settings::default_settings();
    ProactiveSettings {
        time_zone: d.zone_name.clone(),
        quiet_hours: d.quiet.to_string(),
        cap_count: i64::from(d.cap_count),
        cap_days: i64::from(d.cap_days),
    }
}

/// One planned customer: the plan or why not, and the channel payload.
struct Planned {
    member: db::proactive::Member,
    occasion: String,
    outcome: std::result::Result<(Timestamp, String), Skip>,
    text: String,
}

impl App {
    pub async fn create_proactive_rule(
        &self,
        a: &Admin,
        name: &str,
        active: bool,
        rule: Rule,
    ) -> Result<ProactiveRule> {
        let name = domain::customer::parse_name("name", name)?;
        rule.check()?;
        let now = self.now();
        let mut tx = self.db.write(a.workspace).await?;
        let row = db::proactive::RuleRow {
            id: self.ids.next(now, ProactiveRuleId::new),
            workspace: a.workspace,
            name,
            definition: encode(&rule),
            active,
            created_at: now,
            updated_at: now,
        };
        db::proactive::insert_rule(&mut tx, &row).await?;
        self.audit_rule(&mut tx, a, "proactive_rule.create", &row, now).await?;
        if active {
            self.schedule_proactive(&mut tx, now, now).await?;
        }
        self.commit(tx).await?;
        to_rule(row)
    }

    async fn audit_rule(
        &self,
        tx: &mut db::WriteTx,
        a: &Admin,
        action: &str,
        row: &db::proactive::RuleRow,
        now: Timestamp,
    ) -> Result<()> {
        let snap = Snapshot::default()
            .with("name", row.name.as_str())
            .with("active", if row.active { "true" } else { "false" })
            .with("definition", row.definition.as_str());
        tx.audit(now, a.actor, action, "proactive_rule", &row.id.to_string(), None, Some(&snap))
            .await?;
        Ok(())
    }

    pub async fn list_proactive_rules(&self, a: &Admin) -> Result<Vec<ProactiveRule>> {
        let mut c = self.db.read().await?;
        db::proactive::list_rules(&mut c, a.workspace, false)
            .await?
            .into_iter()
            .map(to_rule)
            .collect()
    }

    pub async fn get_proactive_rule(
        &self,
        a: &Admin,
        id: ProactiveRuleId,
    ) -> Result<ProactiveRule> {
        let mut c = self.db.read().await?;
        to_rule(db::proactive::get_rule(&mut c, a.workspace, id).await?.or_not_found("rule")?)
    }

    /// Replaces a rule's name, definition and active flag.
    pub async fn update_proactive_rule(
        &self,
        a: &Admin,
        id: ProactiveRuleId,
        name: &str,
        active: bool,
        rule: Rule,
    ) -> Result<ProactiveRule> {
        let name = domain::customer::parse_name("name", name)?;
        rule.check()?;
        let now = self.now();
        let mut tx = self.db.write(a.workspace).await?;
        let mut row =
            db::proactive::get_rule(&mut tx, a.workspace, id).await?.or_not_found("rule")?;
        row.name = name;
        row.definition = encode(&rule);
        row.active = active;
        row.updated_at = now;
        db::proactive::update_rule(&mut tx, &row).await?;
        self.audit_rule(&mut tx, a, "proactive_rule.update", &row, now).await?;
        if active {
            self.schedule_proactive(&mut tx, now, now).await?;
        }
        self.commit(tx).await?;
        to_rule(row)
    }

    /// Deletes a rule with its send records.
    pub async fn delete_proactive_rule(&self, a: &Admin, id: ProactiveRuleId) -> Result<()> {
        let now = self.now();
        let mut tx = self.db.write(a.workspace).await?;
        let row = db::proactive::get_rule(&mut tx, a.workspace, id).await?.or_not_found("rule")?;
        db::proactive::delete_rule(&mut tx, a.workspace, id).await?;
        let before = Snapshot::default().with("name", row.name.as_str());
        tx.audit(
            now,
            a.actor,
            "proactive_rule.delete",
            "proactive_rule",
            &id.to_string(),
            Some(&before),
            None,
        )
        .await?;
        self.commit(tx).await
    }

    pub async fn proactive_settings(&self, a: &Admin) -> Result<ProactiveSettings> {
        let mut c = self.db.read().await?;
        self.load_proactive_settings(&mut c, a.workspace).await
    }

    async fn load_proactive_settings(
        &self,
        c: &mut db::AnyConnection,
        ws: WorkspaceId,
    ) -> Result<ProactiveSettings> {
        Ok(match db::proactive::settings(c, ws).await? {
            Some(r) => ProactiveSettings {
                time_zone: r.time_zone,
                quiet_hours: r.quiet_hours,
                cap_count: r.cap_count,
                cap_days: r.cap_days,
            },
            None => default_settings(),
        })
    }

    pub async fn set_proactive_settings(
        &self,
        a: &Admin,
        s: ProactiveSettings,
    ) -> Result<ProactiveSettings> {
        let parsed = settings_of(&s)?;
        let s = ProactiveSettings {
            time_zone: parsed.zone_name.clone(),
            quiet_hours: parsed.quiet.to_string(),
            ..s
        };
        let now = self.now();
        let mut tx = self.db.write(a.workspace).await?;
        let row = db::proactive::SettingsRow {
            time_zone: s.time_zone.clone(),
            quiet_hours: s.quiet_hours.clone(),
            cap_count: s.cap_count,
            cap_days: s.cap_days,
        };
        db::proactive::put_settings(&mut tx, a.workspace, &row, now).await?;
        let snap = Snapshot::default()
            .with("time_zone", s.time_zone.as_str())
            .with("quiet_hours", s.quiet_hours.as_str())
            .with("cap", format!("{} / {} d", s.cap_count, s.cap_days).as_str());
        tx.audit(
            now,
            a.actor,
            "proactive_settings.update",
            "workspace",
            &a.workspace.to_string(),
            None,
            Some(&snap),
        )
        .await?;
        self.commit(tx).await?;
        Ok(s)
    }

    /// A customer's opt-out state.
    pub async fn proactive_opt_out(&self, s: &Staff, customer: CustomerId) -> Result<OptOut> {
        require_all_cases(s)?;
        let mut c = self.db.read().await?;
        db::customers::get(&mut c, s.workspace, customer).await?.or_not_found("customer")?;
        let o = db::proactive::opt_out(&mut c, s.workspace, customer).await?;
        Ok(OptOut {
            opted_out: o.is_some(),
            source: o.as_ref().map(|(s, _)| s.clone()),
            since: o.map(|(_, t)| t),
        })
    }

    /// Staff set or clear a customer's opt-out from proactive messages.
    pub async fn set_proactive_opt_out(
        &self,
        a: &Agent,
        customer: CustomerId,
        opted_out: bool,
    ) -> Result<OptOut> {
        let now = self.now();
        let mut tx = self.db.write(a.workspace).await?;
        let cu =
            db::customers::get(&mut tx, a.workspace, customer).await?.or_not_found("customer")?;
        if cu.merged_into.is_some() {
            return Err(Error::Conflict(
                "this customer was merged into another; edit that one".into(),
            ));
        }
        self.write_opt_out(&mut tx, a.actor, customer, opted_out, "staff", now).await?;
        let o = db::proactive::opt_out(&mut tx, a.workspace, customer).await?;
        self.commit(tx).await?;
        Ok(OptOut {
            opted_out: o.is_some(),
            source: o.as_ref().map(|(s, _)| s.clone()),
            since: o.map(|(_, t)| t),
        })
    }

    async fn write_opt_out(
        &self,
        tx: &mut db::WriteTx,
        actor: Actor,
        customer: CustomerId,
        opted_out: bool,
        source: &str,
        now: Timestamp,
    ) -> Result<()> {
        let ws = tx.workspace();
        if db::proactive::set_opt_out(tx, ws, customer, opted_out, source, now).await? {
            let snap = Snapshot::default()
                .with("proactive_opt_out", if opted_out { "true" } else { "false" })
                .with("source", source);
            tx.audit(
                now,
                actor,
                "customer.proactive_opt_out",
                "customer",
                &customer.to_string(),
                None,
                Some(&snap),
            )
            .await?;
        }
        Ok(())
    }

    /// A customer's message that asks to stop proactive messages (退订, TD, STOP) opts them
    /// out; called by the channel and email inbound paths after storing the message.
    pub(crate) async fn opt_out_by_reply(
        &self,
        ws: WorkspaceId,
        customer: CustomerId,
        text: &str,
    ) -> Result<()> {
        if !plan::is_opt_out_reply(text) {
            return Ok(());
        }
        let now = self.now();
        let mut tx = self.db.write(ws).await?;
        self.write_opt_out(&mut tx, Actor::Customer(customer), customer, true, "reply", now)
            .await?;
        self.commit(tx).await
    }

    async fn schedule_proactive(
        &self,
        tx: &mut db::WriteTx,
        at: Timestamp,
        now: Timestamp,
    ) -> Result<()> {
        let ws = tx.workspace();
        if !db::jobs::pending(tx, ws, domain::Job::EvaluateProactive.name()).await? {
            let id = self.ids.next(now, JobId::new);
            tx.enqueue(id, &domain::Job::EvaluateProactive, at, now).await?;
        }
        Ok(())
    }

    /// Who the rule would write to now, and what would happen to each (nothing is written).
    pub async fn preview_proactive_rule(
        &self,
        a: &Admin,
        id: ProactiveRuleId,
    ) -> Result<Vec<AudienceItem>> {
        let now = self.now();
        let mut c = self.db.read().await?;
        let row = db::proactive::get_rule(&mut c, a.workspace, id).await?.or_not_found("rule")?;
        let rule = to_rule(row)?;
        let settings = settings_of(&self.load_proactive_settings(&mut c, a.workspace).await?)?;
        let planned = self.plan_rule(&mut c, a.workspace, &rule, &settings, now).await?;
        Ok(planned.into_iter().map(item).collect())
    }

    /// Evaluates one rule at once (an admin's "run now"): schedules its messages as the job
    /// would. Returns what happened to each customer of the segment.
    pub async fn run_proactive_rule(
        &self,
        a: &Admin,
        id: ProactiveRuleId,
    ) -> Result<Vec<AudienceItem>> {
        let now = self.now();
        let mut tx = self.db.write(a.workspace).await?;
        let row = db::proactive::get_rule(&mut tx, a.workspace, id).await?.or_not_found("rule")?;
        let rule = to_rule(row)?;
        let settings = settings_of(&self.load_proactive_settings(&mut tx, a.workspace).await?)?;
        let items = self.evaluate_rule(&mut tx, &rule, &settings, now).await?;
        self.commit(tx).await?;
        Ok(items)
    }

    /// The sends of one rule (or all), newest first.
    pub async fn list_proactive_sends(
        &self,
        a: &Admin,
        rule: Option<ProactiveRuleId>,
        limit: i64,
    ) -> Result<Vec<db::proactive::SendRow>> {
        let mut c = self.db.read().await?;
        Ok(db::proactive::list_sends(&mut c, a.workspace, rule, limit.clamp(1, 1000)).await?)
    }

    /// The `EvaluateProactive` job: every active rule, then the next run while any remain.
    pub(crate) async fn evaluate_proactive_job(
        &self,
        tx: &mut db::WriteTx,
        now: Timestamp,
    ) -> Result<()> {
        let ws = tx.workspace();
        let rules = db::proactive::list_rules(tx, ws, true).await?;
        if rules.is_empty() {
            return Ok(());
        }
        let settings = settings_of(&self.load_proactive_settings(tx, ws).await?)?;
        for row in rules {
            let rule = to_rule(row)?;
            self.evaluate_rule(tx, &rule, &settings, now).await?;
        }
        let id = self.ids.next(now, JobId::new);
        tx.enqueue(id, &domain::Job::EvaluateProactive, now.plus_millis(EVALUATE_EVERY_MS), now)
            .await?;
        Ok(())
    }

    /// Plans one rule and records each send with its `SendProactive` job, in `tx`.
    async fn evaluate_rule(
        &self,
        tx: &mut db::WriteTx,
        rule: &ProactiveRule,
        settings: &Settings,
        now: Timestamp,
    ) -> Result<Vec<AudienceItem>> {
        let ws = tx.workspace();
        let planned = self.plan_rule(tx, ws, rule, settings, now).await?;
        let mut items = Vec::with_capacity(planned.len());
        for p in planned {
            if let Ok((due, payload)) = &p.outcome {
                let reach = p.member.reach.as_ref().or_not_found("channel")?;
                let send = db::proactive::SendRow {
                    id: self.ids.next(now, ProactiveSendId::new),
                    workspace: ws,
                    rule: rule.id,
                    customer: p.member.id,
                    occasion: p.occasion.clone(),
                    channel: reach.kind.clone(),
                    conversation: Some(reach.conversation),
                    body: payload.clone(),
                    text: p.text.clone(),
                    state: "scheduled".into(),
                    due_at: *due,
                    message: None,
                    outbound: None,
                    created_at: now,
                    updated_at: now,
                };
                if db::proactive::insert_send(tx, &send).await? {
                    let id = self.ids.next(now, JobId::new);
                    tx.enqueue(id, &domain::Job::SendProactive { send: send.id }, *due, now)
                        .await?;
                } else {
                    items.push(item(Planned { outcome: Err(Skip::AlreadySent), ..p }));
                    continue;
                }
            }
            items.push(item(p));
        }
        Ok(items)
    }

    async fn plan_rule(
        &self,
        c: &mut db::AnyConnection,
        ws: WorkspaceId,
        rule: &ProactiveRule,
        settings: &Settings,
        now: Timestamp,
    ) -> Result<Vec<Planned>> {
        let channels = db::channels::list_channels(c, ws).await?;
        let window = i64::from(settings.cap_days) * 86_400_000;
        let mut out = Vec::new();
        let mut after = None;
        loop {
            let page = db::proactive::members(c, ws, after, PAGE).await?;
            let Some(last) = page.last() else { break };
            after = Some(last.id);
            for m in page {
                // Cheap segment check first: most customers are outside it.
                let probe = plan::Candidate {
                    name: &m.name,
                    tier: &m.tier,
                    attributes: &m.attributes,
                    opted_out: false,
                    reachable: true,
                    recent: &[],
                };
                if plan::occasion(&rule.rule, &probe, settings, now).is_none() {
                    continue;
                }
                // The payload the channel needs; SMS needs the rule's template in the channel.
                let payload = |vars: &[(String, String)]| -> Option<String> {
                    let reach = m.reach.as_ref()?;
                    let text = plan::render(&rule.rule.text, vars);
                    if reach.kind != "sms" {
                        return Some(text);
                    }
                    let t = rule.rule.sms_template.as_ref()?;
                    let ch = channels.iter().find(|c| Some(c.id) == reach.channel)?;
                    let ok = matches!(view(ch.clone()).ok()?.settings,
                        ::channels::config::Settings::Sms(ref s) if s.templates.contains_key(t));
                    let params: Vec<(&str, &str)> =
                        vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                    ok.then(|| sms_body(t, &params))
                };
                let recent =
                    db::proactive::recent_due(c, ws, m.id, now.plus_millis(-window)).await?;
                let used = db::proactive::used_occasions(c, ws, rule.id, m.id).await?;
                let (occasion, vars) =
                    plan::occasion(&rule.rule, &probe, settings, now).unwrap_or_default();
                let reachable = payload(&vars).is_some();
                let cand =
                    plan::Candidate { opted_out: m.opted_out, reachable, recent: &recent, ..probe };
                let Some(result) =
                    plan::plan(&rule.rule, &cand, settings, now, |o| used.iter().any(|u| u == o))
                else {
                    continue;
                };
                let text = plan::render(&rule.rule.text, &vars);
                let outcome = match result {
                    Ok(p) => Ok((p.due, payload(&p.vars).unwrap_or_default())),
                    Err(s) => Err(s),
                };
                out.push(Planned { occasion, outcome, text, member: m });
            }
        }
        Ok(out)
    }

    /// The `SendProactive` job: unless the customer opted out meanwhile, writes the message
    /// into their conversation and hands it to the channel.
    pub(crate) async fn send_proactive_job(
        &self,
        tx: &mut db::WriteTx,
        id: ProactiveSendId,
        now: Timestamp,
    ) -> Result<()> {
        let ws = tx.workspace();
        let Some(mut s) = db::proactive::get_send(tx, ws, id).await? else { return Ok(()) };
        if s.state != "scheduled" {
            return Ok(());
        }
        s.updated_at = now;
        let member = db::proactive::member(tx, ws, s.customer).await?;
        let conv = match s.conversation {
            Some(c) => db::conversations::get(tx, ws, c).await?,
            None => None,
        };
        let (Some(member), Some(conv)) = (member, conv) else {
            s.state = "unreachable".into();
            db::proactive::update_send(tx, &s).await?;
            return Ok(());
        };
        if member.opted_out {
            s.state = "opted_out".into();
            db::proactive::update_send(tx, &s).await?;
            return Ok(());
        }
        let m = self.proactive_message(tx, &conv, &s.text, now).await?;
        s.message = Some(m.id);
        if s.channel == "email" {
            let jid = self.ids.next(now, JobId::new);
            tx.enqueue(jid, &domain::Job::SendEmail { message: m.id }, now, now).await?;
        } else {
            let Some((channel, address)) = db::channels::route_of(tx, ws, conv.id).await? else {
                s.state = "unreachable".into();
                db::proactive::update_send(tx, &s).await?;
                return Ok(());
            };
            let o = db::channels::OutboundRow {
                id: self.ids.next(now, OutboundId::new),
                workspace: ws,
                channel,
                conversation: Some(conv.id),
                message: Some(m.id),
                address,
                body: s.body.clone(),
                state: "pending".into(),
                attempts: 0,
                last_error: None,
                created_at: now,
                updated_at: now,
            };
            db::channels::insert_outbound(tx, &o).await?;
            let jid = self.ids.next(now, JobId::new);
            tx.enqueue(jid, &domain::Job::SendOutbound { outbound: o.id }, now, now).await?;
            s.outbound = Some(o.id);
        }
        s.state = "sent".into();
        db::proactive::update_send(tx, &s).await?;
        Ok(())
    }

    /// The proactive message as a public system message of the conversation, audited and
    /// announced like any other (the relay sends only agents' replies, so it is not sent
    /// twice).
    async fn proactive_message(
        &self,
        tx: &mut db::WriteTx,
        conv: &domain::Conversation,
        body: &str,
        now: Timestamp,
    ) -> Result<Message> {
        let m = Message {
            id: self.ids.next(now, MessageId::new),
            workspace: conv.workspace,
            conversation: conv.id,
            sender: SenderKind::System,
            author: None,
            visibility: Visibility::Public,
            body: body.to_string(),
            attachments: Vec::new(),
            created_at: now,
        };
        db::conversations::insert_message(tx, &m, None).await?;
        tx.audit(
            now,
            Actor::System,
            "message.create",
            "message",
            &m.id.to_string(),
            None,
            Some(&snapshot::message(&m)),
        )
        .await?;
        let audience = Audience {
            customer: Some(conv.customer),
            team: conv.team,
            assignee: conv.assignee,
            internal: false,
        };
        let e = Event::MessageCreated {
            conversation: conv.id,
            message: m.id,
            sender: m.sender,
            visibility: Visibility::Public,
        };
        tx.emit(now, Actor::System, e, audience).await?;
        Ok(m)
    }
}

fn item(p: Planned) -> AudienceItem {
    let (outcome, due_at) = match &p.outcome {
        Ok((due, _)) => ("send", Some(*due)),
        Err(s) => (s.as_str(), None),
    };
    AudienceItem {
        customer: p.member.id,
        name: p.member.name.clone(),
        channel: p.member.reach.as_ref().map(|r| r.kind.clone()),
        occasion: p.occasion,
        outcome,
        due_at,
        text: p.text,
    }
}
