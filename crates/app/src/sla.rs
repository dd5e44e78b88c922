//! SLA clocks on tickets (TK-2, TK-4): the workspace's policies and calendars as data, and
//! [`App::sla_track`], run inside every write that changes what a clock cares about.
//!
//! A ticket's clock inputs (created, status changes, public replies) are kept in order per
//! ticket. Each change appends its inputs and replays them with `workflow::evaluate` under the
//! first matching policy; the difference from the previous evaluation (`workflow::diff`) is
//! recorded as SLA events (rows, outbox events and audit entries on the ticket), the policy's
//! escalation ladder runs for warnings and breaches, and one `SlaTimer` job is scheduled for
//! the next warning or breach. A timer acts only if it is still the ticket's latest, so
//! superseded timers do nothing; evaluation is a replay, so running it twice records nothing
//! twice.

use domain::{
    Actor, Audience, Conversation, ConversationId, ConversationStatus, Event, Handler, Job, JobId,
    ParseError, Role, Severity, Snapshot, Status, Ticket, TicketId, TicketNo, Timestamp, Urgency,
    audit::AuditValue,
};
use workflow::{
    CalendarDef, Calendars, MetricState, Phase, SlaEvent, SlaEventKind, TicketEvent, TicketFacts,
    config::{ConfigError, Policy, PolicyDef, parse_calendars, parse_policies},
    escalation::{Action, actions_for},
};

use crate::{
    App, Error, Result,
    auth::{Manager, Staff},
    error::OrNotFound,
    intake::snapshot,
};

/// A ticket's clocks as of now, for the API.
#[derive(Debug, Clone)]
pub struct TicketSla {
    pub ticket: TicketId,
    pub policy: Option<String>,
    pub now: Timestamp,
    pub metrics: Vec<MetricState>,
    pub breach_at: Option<Timestamp>,
    pub events: Vec<db::sla::Recorded>,
}

fn config_error(what: &str, e: ConfigError, name: Option<&str>) -> Error {
    let who = match name {
        Some(n) if !n.trim().is_empty() => format!("{what} {} ({n:?})", e.index + 1),
        _ => format!("{what} {}", e.index + 1),
    };
    Error::Invalid(ParseError::new(e.error.field, format!("{who}: {}", e.error.reason)))
}

fn kind_str(k: SlaEventKind) -> &'static str {
    match k {
        SlaEventKind::Activated => "activated",
        SlaEventKind::Paused => "paused",
        SlaEventKind::Resumed => "resumed",
        SlaEventKind::Warned => "warned",
        SlaEventKind::Breached => "breached",
        SlaEventKind::Fulfilled => "fulfilled",
    }
}

fn metric_zh(m: workflow::Metric) -> &'static str {
    match m {
        workflow::Metric::FirstResponse => "首次响应",
        workflow::Metric::NextResponse => "再次响应",
        workflow::Metric::PeriodicUpdate => "定期更新",
        workflow::Metric::Resolution => "解决",
    }
}

/// The earliest deadline of a running clock, breached or not: the queue's "time to breach".
pub fn breach_at(states: &[MetricState]) -> Option<Timestamp> {
    states
        .iter()
        .filter(|s| matches!(s.phase, Phase::Running { .. }) && s.problem.is_none())
        .filter_map(|s| s.due_at)
        .min()
}

/// The parsed configuration of a workspace.
struct Setup {
    calendars: Calendars,
    policies: Vec<Policy>,
}

async fn setup(c: &mut db::AnyConnection, ws: domain::WorkspaceId) -> Result<Setup> {
    let cfg = db::sla::config(c, ws).await?;
    // Stored configurations were checked on save; one that no longer parses (a newer
    // server's format) tracks nothing rather than failing every ticket change.
    let calendars = match parse_calendars(&cfg.calendars) {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(error = %e.error, "stored SLA calendars do not parse");
            Calendars::new()
        }
    };
    let policies = parse_policies(&cfg.policies, &calendars).unwrap_or_else(|e| {
        tracing::warn!(error = %e.error, "stored SLA policies do not parse");
        Vec::new()
    });
    Ok(Setup { calendars, policies })
}

/// The first policy whose conditions match.
fn select<'p>(policies: &'p [Policy], facts: &TicketFacts) -> Option<&'p Policy> {
    policies.iter().find(|p| p.sla.conditions().matches(facts))
}

impl App {
    /// The workspace's SLA policies (in order) and calendars, as written.
    pub async fn sla_config(&self, s: &Staff) -> Result<db::sla::Config> {
        let mut c = self.db.read().await?;
        Ok(db::sla::config(&mut c, s.workspace).await?)
    }

    /// Replaces the ordered policy list. Every entry is checked; the first bad one is named.
    pub async fn put_sla_policies(
        &self,
        m: &Manager,
        defs: Vec<PolicyDef>,
    ) -> Result<db::sla::Config> {
        if defs.len() > 200 {
            return Err(ParseError::new("policies", "at most 200 policies").into());
        }
        let now = self.now();
        let mut tx = self.db.write(m.workspace).await?;
        let mut cfg = db::sla::config(&mut tx, m.workspace).await?;
        let calendars =
            parse_calendars(&cfg.calendars).map_err(|e| config_error("calendar", e, None))?;
        let parsed = parse_policies(&defs, &calendars).map_err(|e| {
            config_error("policy", e.clone(), defs.get(e.index).map(|d| d.name.as_str()))
        })?;
        for p in &parsed {
            for step in &p.ladder {
                for a in &step.actions {
                    if let Action::ReassignTeam(team) = a {
                        db::users::get_team(&mut tx, m.workspace, *team)
                            .await?
                            .or_not_found("team")?;
                    }
                }
            }
        }
        let names: Vec<String> = parsed.iter().map(|p| p.sla.name().to_string()).collect();
        cfg.policies = defs;
        db::sla::put_config(&mut tx, m.workspace, &cfg, now).await?;
        tx.audit(
            now,
            m.actor,
            "sla.policies",
            "workspace",
            &m.workspace.to_string(),
            None,
            Some(&Snapshot::default().list("policies", &names)),
        )
        .await?;
        self.commit(tx).await?;
        cfg.updated_at = Some(now);
        Ok(cfg)
    }

    /// Replaces the calendars; refused if a policy would lose the calendar it counts on.
    pub async fn put_sla_calendars(
        &self,
        m: &Manager,
        defs: Vec<(String, CalendarDef)>,
    ) -> Result<db::sla::Config> {
        if defs.len() > 50 {
            return Err(ParseError::new("calendars", "at most 50 calendars").into());
        }
        let calendars = parse_calendars(&defs).map_err(|e| {
            let id = defs.get(e.index).map(|d| d.0.clone());
            config_error("calendar", e, id.as_deref())
        })?;
        let now = self.now();
        let mut tx = self.db.write(m.workspace).await?;
        let mut cfg = db::sla::config(&mut tx, m.workspace).await?;
        parse_policies(&cfg.policies, &calendars).map_err(|e| {
            let name = cfg.policies.get(e.index).map(|d| d.name.clone());
            Error::Conflict(format!(
                "policy {} ({:?}) would break: {}; change the policies first",
                e.index + 1,
                name.unwrap_or_default(),
                e.error.reason
            ))
        })?;
        let ids: Vec<String> = defs.iter().map(|d| d.0.clone()).collect();
        cfg.calendars = defs;
        db::sla::put_config(&mut tx, m.workspace, &cfg, now).await?;
        tx.audit(
            now,
            m.actor,
            "sla.calendars",
            "workspace",
            &m.workspace.to_string(),
            None,
            Some(&Snapshot::default().list("calendars", &ids)),
        )
        .await?;
        self.commit(tx).await?;
        cfg.updated_at = Some(now);
        Ok(cfg)
    }

    /// Seeds a new workspace with the default policies and calendar.
    pub(crate) async fn seed_sla(&self, tx: &mut db::WriteTx, now: Timestamp) -> Result<()> {
        let (policies, calendars) = workflow::config::seed();
        let cfg = db::sla::Config { policies, calendars, updated_at: None };
        let ws = tx.workspace();
        db::sla::put_config(tx, ws, &cfg, now).await?;
        tx.audit(now, Actor::System, "sla.seed", "workspace", &ws.to_string(), None, None).await?;
        Ok(())
    }

    /// A ticket's clocks evaluated now, with the events recorded so far.
    pub async fn ticket_sla(&self, s: &Staff, id: TicketId) -> Result<TicketSla> {
        let t = self.get_ticket(s, id).await?;
        let now = self.now();
        let mut c = self.db.read().await?;
        let setup = setup(&mut c, s.workspace).await?;
        let facts = self.facts(&mut c, &t).await?;
        let policy = select(&setup.policies, &facts);
        let inputs = db::sla::inputs(&mut c, t.id).await?;
        let metrics = policy
            .map(|p| workflow::evaluate(&p.sla, &setup.calendars, &inputs, now))
            .unwrap_or_default();
        let events = db::sla::events(&mut c, s.workspace, t.id).await?;
        Ok(TicketSla {
            ticket: t.id,
            policy: policy.map(|p| p.sla.name().to_string()),
            now,
            breach_at: breach_at(&metrics),
            metrics,
            events,
        })
    }

    async fn facts(&self, c: &mut db::AnyConnection, t: &Ticket) -> Result<TicketFacts> {
        let tier = db::customers::get(c, t.workspace, t.customer)
            .await?
            .map_or(domain::Tier::Ordinary, |cu| cu.tier);
        Ok(TicketFacts {
            severity: t.severity,
            tier,
            problem_code: t.problem_code,
            channel: t.channel,
            urgency: t.urgency,
            team: t.team,
        })
    }

    /// Appends `inputs` to the ticket's clock and re-evaluates it at `now` (see the module
    /// doc). `escalate` runs the ladder for new warnings and breaches; a ticket changed by it
    /// is evaluated once more (its policy may change), without escalating again.
    pub(crate) async fn sla_track(
        &self,
        tx: &mut db::WriteTx,
        ticket: &Ticket,
        inputs: &[TicketEvent],
        now: Timestamp,
        escalate: bool,
    ) -> Result<()> {
        let ws = tx.workspace();
        let setup = setup(tx, ws).await?;
        let old = db::sla::inputs(tx, ticket.id).await?;
        db::sla::append_inputs(tx, ws, ticket.id, old.len() as i64, inputs).await?;
        let mut all = old.clone();
        all.extend_from_slice(inputs);
        let mut t = ticket.clone();
        let mut escalate = escalate;
        for round in 0..2 {
            let prev = db::sla::state(tx, t.id).await?;
            let facts = self.facts(tx, &t).await?;
            let policy = select(&setup.policies, &facts);
            let before = match &prev {
                Some(p) => setup
                    .policies
                    .iter()
                    .find(|q| Some(q.sla.name()) == p.policy.as_deref())
                    .map(|q| {
                        let upto: &[TicketEvent] = if round == 0 { &old } else { &all };
                        workflow::evaluate(&q.sla, &setup.calendars, upto, p.evaluated_at.min(now))
                    })
                    .unwrap_or_default(),
                None => Vec::new(),
            };
            let after = policy
                .map(|p| workflow::evaluate(&p.sla, &setup.calendars, &all, now))
                .unwrap_or_default();
            let events = workflow::diff(&before, &after);
            self.record_sla_events(tx, &t, &events, now).await?;
            let timer = workflow::next_deadline(&after).map(|d| d.at);
            let prev_timer = prev.as_ref().and_then(|p| p.timer_due);
            let mut timer_job = prev.as_ref().and_then(|p| p.timer_job);
            if timer != prev_timer {
                // A superseded timer not yet due is withdrawn; one already due may be running
                // right now (this very job), and its guard makes it do nothing anyway.
                if let (Some(old_job), Some(old_due)) = (timer_job, prev_timer)
                    && old_due > now
                {
                    db::jobs::withdraw(tx, old_job).await?;
                }
                timer_job = None;
                if let Some(due) = timer {
                    let id = self.ids.next(now, JobId::new);
                    tx.enqueue(id, &Job::SlaTimer { ticket: t.id, due }, due, now).await?;
                    timer_job = Some(id);
                }
            }
            let state = db::sla::TicketSla {
                policy: policy.map(|p| p.sla.name().to_string()),
                evaluated_at: now,
                breach_at: breach_at(&after),
                timer_due: timer,
                timer_job,
            };
            db::sla::put_state(tx, ws, t.id, &state).await?;
            if !escalate {
                break;
            }
            escalate = false;
            let Some(p) = policy else { break };
            let actions = actions_for(&p.ladder, &events);
            if actions.is_empty() {
                break;
            }
            let changed = self.escalate(tx, &t, &actions, now).await?;
            match changed {
                Some(t2) => t = t2,
                None => break,
            }
        }
        Ok(())
    }

    async fn record_sla_events(
        &self,
        tx: &mut db::WriteTx,
        t: &Ticket,
        events: &[SlaEvent],
        now: Timestamp,
    ) -> Result<()> {
        if events.is_empty() {
            return Ok(());
        }
        let ws = tx.workspace();
        let rows: Vec<db::sla::Recorded> = events
            .iter()
            .map(|e| db::sla::Recorded {
                metric: e.metric.as_str().to_string(),
                cycle: i64::from(e.cycle),
                kind: kind_str(e.kind).to_string(),
                at: e.at,
                recorded_at: now,
            })
            .collect();
        db::sla::insert_events(tx, ws, t.id, &rows).await?;
        let aud = Audience { customer: None, team: t.team, assignee: t.assignee, internal: true };
        for r in rows {
            // Activation, pauses and fulfilment are visible in the SLA view; warnings and
            // breaches are part of the ticket's audited history.
            if matches!(r.kind.as_str(), "warned" | "breached") {
                let snap = Snapshot::default()
                    .with("metric", r.metric.as_str())
                    .with("cycle", AuditValue::Int(r.cycle))
                    .with("at", AuditValue::Int(r.at.millis()));
                let action = format!("ticket.sla.{}", r.kind);
                tx.audit(
                    now,
                    Actor::System,
                    &action,
                    "ticket",
                    &t.id.to_string(),
                    None,
                    Some(&snap),
                )
                .await?;
            }
            let e = Event::SlaMetric {
                ticket: t.id,
                metric: r.metric,
                cycle: r.cycle,
                kind: r.kind,
                at: r.at,
            };
            tx.emit(now, Actor::System, e, aud).await?;
        }
        Ok(())
    }

    /// Runs escalation actions; returns the ticket if they changed it.
    async fn escalate(
        &self,
        tx: &mut db::WriteTx,
        t: &Ticket,
        actions: &[(Action, SlaEvent)],
        now: Timestamp,
    ) -> Result<Option<Ticket>> {
        let ws = tx.workspace();
        let users = db::users::list_users(tx, ws).await?;
        let mut changed = t.clone();
        let aud = Audience { customer: None, team: t.team, assignee: t.assignee, internal: true };
        for (action, ev) in actions {
            let what = match ev.kind {
                SlaEventKind::Warned => ("即将超时", "is about to breach"),
                _ => ("已超时", "breached"),
            };
            let body = format!(
                "工单 {} 的{} SLA {}。 / Ticket {} {} its {} SLA.",
                t.number,
                metric_zh(ev.metric),
                what.0,
                t.number,
                what.1,
                ev.metric.as_str().replace('_', " ")
            );
            let role_users = |r: Role| -> Vec<domain::UserId> {
                users.iter().filter(|u| u.active && u.role == r).map(|u| u.id).collect()
            };
            let notify: Vec<domain::UserId> = match action {
                Action::NotifyAssignee => match t.assignee {
                    Some(u) => vec![u],
                    None => role_users(Role::Supervisor),
                },
                Action::NotifySupervisor => role_users(Role::Supervisor),
                Action::NotifyCsHead => role_users(Role::CsHead),
                _ => Vec::new(),
            };
            for u in notify {
                let n = db::sla::Notification {
                    id: self.ids.next(now, JobId::new).to_string(),
                    user: u,
                    ticket: Some(t.id),
                    kind: format!("sla.{}", kind_str(ev.kind)),
                    body: body.clone(),
                    created_at: now,
                };
                db::sla::insert_notification(tx, ws, &n).await?;
                let e = Event::SlaEscalated {
                    ticket: t.id,
                    action: action.kind().to_string(),
                    user: Some(u),
                };
                tx.emit(now, Actor::System, e, aud).await?;
            }
            match action {
                Action::RaiseUrgency => {
                    changed.urgency = match changed.urgency {
                        Urgency::Normal => Urgency::Urgent,
                        _ => Urgency::Critical,
                    };
                }
                Action::ReassignTeam(team) => {
                    // A team deleted since the policy was saved is skipped.
                    let found = db::users::get_team(tx, ws, *team).await?;
                    if let Some(found) = found {
                        changed.team = Some(found.id);
                        changed.assignee = None;
                    }
                }
                Action::OpenCrisis => {
                    let crisis = self.open_crisis(tx, t, now).await?;
                    let e = Event::SlaEscalated {
                        ticket: t.id,
                        action: format!("open_crisis:{}", crisis.number),
                        user: None,
                    };
                    tx.emit(now, Actor::System, e, aud).await?;
                }
                _ => {}
            }
            if matches!(action, Action::RaiseUrgency | Action::ReassignTeam(_)) {
                let e =
                    Event::SlaEscalated { ticket: t.id, action: action.kind().into(), user: None };
                tx.emit(now, Actor::System, e, aud).await?;
            }
        }
        if changed == *t {
            return Ok(None);
        }
        changed.updated_at = now;
        self.write_ticket_change(tx, Actor::System, t, &changed, now).await?;
        Ok(Some(changed))
    }

    /// Opens an L1, critical crisis ticket for the customer of a breached ticket (TK-11), in
    /// a new conversation, with its own SLA clock (the L1 policy: a team within 30 minutes).
    async fn open_crisis(
        &self,
        tx: &mut db::WriteTx,
        t: &Ticket,
        now: Timestamp,
    ) -> Result<Ticket> {
        let ws = tx.workspace();
        let subject =
            format!("【L1 危机】SLA 违约：{} / L1 crisis: SLA breach on {}", t.number, t.number);
        let c = Conversation {
            id: self.ids.next(now, ConversationId::new),
            workspace: ws,
            customer: t.customer,
            channel: t.channel,
            subject: Some(subject.clone()),
            status: ConversationStatus::Open,
            handler: Handler::Human,
            assignee: None,
            team: t.team,
            last_message_at: now,
            created_at: now,
            updated_at: now,
        };
        self.insert_conversation(tx, Actor::System, &c).await?;
        let prefix = db::workspaces::by_id(tx, ws).await?.or_not_found("workspace")?.ticket_prefix;
        let crisis = Ticket {
            id: self.ids.next(now, TicketId::new),
            workspace: ws,
            number: TicketNo::new(&prefix, tx.next_ticket_number()),
            subject,
            customer: t.customer,
            conversation: c.id,
            channel: t.channel,
            problem_code: t.problem_code,
            severity: Severity::L1,
            urgency: Urgency::Critical,
            status: Status::New,
            stage: None,
            assignee: None,
            team: t.team,
            tags: vec!["sla-crisis".into()],
            custom_fields: vec![("source_ticket".into(), t.number.to_string())],
            tracking_token: self.ids.secret("tk_"),
            created_at: now,
            updated_at: now,
            solved_at: None,
            closed_at: None,
        };
        db::tickets::insert(tx, &crisis).await?;
        tx.audit(
            now,
            Actor::System,
            "ticket.create",
            "ticket",
            &crisis.id.to_string(),
            None,
            Some(&snapshot::ticket(&crisis)),
        )
        .await?;
        let aud = Audience {
            customer: Some(crisis.customer),
            team: crisis.team,
            assignee: None,
            internal: false,
        };
        tx.emit(
            now,
            Actor::System,
            Event::TicketCreated { ticket: crisis.id, conversation: crisis.conversation },
            aud,
        )
        .await?;
        Box::pin(self.sla_track(tx, &crisis, &[TicketEvent::Created { at: now }], now, false))
            .await?;
        Ok(crisis)
    }

    /// The timer job: re-evaluates the ticket if this timer is still its latest.
    pub(crate) async fn fire_sla_timer(
        &self,
        tx: &mut db::WriteTx,
        ticket: TicketId,
        due: Timestamp,
        now: Timestamp,
    ) -> Result<()> {
        let ws = tx.workspace();
        let Some(state) = db::sla::state(tx, ticket).await? else { return Ok(()) };
        if state.timer_due != Some(due) {
            return Ok(());
        }
        let Some(t) = db::tickets::get(tx, ws, ticket).await? else { return Ok(()) };
        self.sla_track(tx, &t, &[], now, true).await
    }

    /// The clock inputs of a ticket change, for [`App::sla_track`]; `None` when nothing a
    /// clock or a policy's selection depends on changed.
    pub(crate) fn sla_inputs_of_change(
        before: &Ticket,
        after: &Ticket,
        now: Timestamp,
    ) -> Option<Vec<TicketEvent>> {
        if before.status != after.status {
            return Some(vec![TicketEvent::StatusChanged { at: now, to: after.status }]);
        }
        let selects = before.severity != after.severity
            || before.urgency != after.urgency
            || before.problem_code != after.problem_code
            || before.team != after.team
            || before.customer != after.customer;
        selects.then(Vec::new)
    }
}

impl App {
    /// The notifications addressed to the caller, newest first.
    pub async fn my_notifications(
        &self,
        s: &Staff,
        limit: i64,
    ) -> Result<Vec<db::sla::Notification>> {
        let Some(user) = s.user else { return Ok(Vec::new()) };
        let mut c = self.db.read().await?;
        Ok(db::sla::notifications(&mut c, s.workspace, user, limit).await?)
    }
}

impl App {
    /// Tickets the caller may see, by time to SLA breach (soonest first), each with its
    /// earliest running deadline.
    pub async fn list_tickets_by_breach(
        &self,
        s: &Staff,
        mut f: db::tickets::Filter,
        page: &db::Page,
    ) -> Result<Vec<(Ticket, Option<Timestamp>)>> {
        if !s.allows(domain::Permission::ReadAllCases) {
            f.visible_teams = Some(s.teams.clone());
            f.visible_to_user = s.user;
        }
        f.sort = db::tickets::Sort::Breach;
        let mut c = self.db.read().await?;
        Ok(db::tickets::list_with_breach(&mut c, s.workspace, &f, page).await?)
    }
}
