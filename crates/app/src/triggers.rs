//! Triggers and automations as use cases: managers (admin, cs_head) keep the rules, checked by
//! `workflow::rules::parse_rule` on save (a bad rule is a 400 naming the path of each bad node);
//! ticket changes run the event-driven rules in the same transaction, and the hourly
//! `RunAutomations` job (enqueued when a time-driven rule is saved, re-enqueued by each run while
//! one exists) runs the time-driven ones over the active tickets. `ticket.hours_in_status` is
//! counted from the ticket's latest creation or status change in the audit log. Evaluation is pure (`workflow::rules::run`); this module only
//! loads the facts and applies the commands, as `system`, audited like any change.
//!
//! What the commands do here: field, tag and assignment changes are applied to the ticket; a
//! template reply is posted to the customer in the ticket's conversation; a notification is
//! posted as an internal note naming its recipients (the note is what staff see in their
//! realtime stream). Webhook and collaboration actions are refused on save until the webhook
//! delivery and collaboration subsystems exist: a rule that cannot run is not stored.

use domain::{
    Actor, Audience, Event, Message, MessageId, SenderKind, Ticket, TicketId, Timestamp, Visibility,
};
use workflow::rules::{Action, Facts, Recipient, Rule, Tree, Val, When, parse_rule};

use crate::{
    App, Result,
    auth::{Manager, Staff},
    error::OrNotFound,
};

pub use db::triggers::StoredTrigger;

/// How often the time-driven automations scan the active tickets: hourly, like Zendesk's.
pub const AUTOMATION_EVERY_MS: i64 = 3_600_000;

/// A rule as a manager writes it.
#[derive(Debug, Clone)]
pub struct NewTrigger {
    pub name: String,
    pub active: bool,
    pub position: i64,
    pub when: Tree,
    pub cond: Tree,
    pub then: Tree,
}

fn check(t: &NewTrigger) -> Result<()> {
    let name = t.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(domain::ParseError::new("name", "1 to 100 characters").into());
    }
    if !(0..=100_000).contains(&t.position) {
        return Err(domain::ParseError::new("position", "between 0 and 100000").into());
    }
    let rule = parse_rule("new", &t.when, &t.cond, &t.then).map_err(|ds| {
        let msg = ds.iter().map(|d| d.to_string()).collect::<Vec<_>>().join("; ");
        domain::ParseError::new("rule", msg)
    })?;
    for (i, a) in rule.actions.iter().enumerate() {
        if matches!(a, Action::Webhook { .. } | Action::Collaborate { .. }) {
            return Err(domain::ParseError::new(
                "rule",
                format!("then[{i}].type: webhook and collaborate actions are not executed by this server yet"),
            )
            .into());
        }
    }
    Ok(())
}

fn snap(t: &StoredTrigger) -> domain::Snapshot {
    domain::Snapshot::default()
        .with("name", t.name.as_str())
        .with("active", t.active.to_string())
        .with("position", t.position.to_string())
        .with("when", db::triggers::tree_to_json(&t.when).to_string())
        .with("if", db::triggers::tree_to_json(&t.cond).to_string())
        .with("then", db::triggers::tree_to_json(&t.then).to_string())
}

impl App {
    pub async fn list_triggers(&self, s: &Staff) -> Result<Vec<StoredTrigger>> {
        let mut c = self.db.read().await?;
        Ok(db::triggers::list(&mut c, s.workspace).await?)
    }

    pub async fn get_trigger(&self, s: &Staff, id: &str) -> Result<StoredTrigger> {
        let mut c = self.db.read().await?;
        db::triggers::get(&mut c, s.workspace, id).await?.or_not_found("trigger")
    }

    pub async fn create_trigger(&self, m: &Manager, n: NewTrigger) -> Result<StoredTrigger> {
        check(&n)?;
        let now = self.now();
        let mut tx = self.db.write(m.workspace).await?;
        let t = StoredTrigger {
            id: self.ids.next(now, domain::TriggerId::new).to_string(),
            workspace: m.workspace,
            name: n.name.trim().to_string(),
            active: n.active,
            position: n.position,
            when: n.when,
            cond: n.cond,
            then: n.then,
            created_at: now,
            updated_at: now,
        };
        db::triggers::insert(&mut tx, &t).await?;
        self.schedule_automations(&mut tx, &t, now).await?;
        tx.audit(now, m.actor, "trigger.create", "trigger", &t.id, None, Some(&snap(&t))).await?;
        self.commit(tx).await?;
        Ok(t)
    }

    pub async fn update_trigger(
        &self,
        m: &Manager,
        id: &str,
        n: NewTrigger,
    ) -> Result<StoredTrigger> {
        check(&n)?;
        let now = self.now();
        let mut tx = self.db.write(m.workspace).await?;
        let before = db::triggers::get(&mut tx, m.workspace, id).await?.or_not_found("trigger")?;
        let t = StoredTrigger {
            name: n.name.trim().to_string(),
            active: n.active,
            position: n.position,
            when: n.when,
            cond: n.cond,
            then: n.then,
            updated_at: now,
            ..before.clone()
        };
        db::triggers::update(&mut tx, &t).await?;
        self.schedule_automations(&mut tx, &t, now).await?;
        tx.audit(
            now,
            m.actor,
            "trigger.update",
            "trigger",
            &t.id,
            Some(&snap(&before)),
            Some(&snap(&t)),
        )
        .await?;
        self.commit(tx).await?;
        Ok(t)
    }

    pub async fn delete_trigger(&self, m: &Manager, id: &str) -> Result<()> {
        let now = self.now();
        let mut tx = self.db.write(m.workspace).await?;
        let before = db::triggers::get(&mut tx, m.workspace, id).await?.or_not_found("trigger")?;
        db::triggers::delete(&mut tx, m.workspace, id).await?;
        tx.audit(now, m.actor, "trigger.delete", "trigger", id, Some(&snap(&before)), None).await?;
        self.commit(tx).await?;
        Ok(())
    }

    /// The workspace's active rules, parsed. A stored rule that no longer parses (it was
    /// valid when saved) is skipped with a warning rather than blocking every ticket change.
    async fn active_rules(&self, tx: &mut db::WriteTx) -> Result<Vec<Rule>> {
        let ws = tx.workspace();
        let mut out = Vec::new();
        for t in db::triggers::list(tx, ws).await? {
            if !t.active {
                continue;
            }
            match parse_rule(&t.id, &t.when, &t.cond, &t.then) {
                Ok(r) => out.push(r),
                Err(ds) => {
                    tracing::warn!(trigger = %t.id, problems = ?ds, "stored trigger no longer parses; skipped")
                }
            }
        }
        Ok(out)
    }

    /// Runs the rules for `event` (a `workflow::rules::EVENT_KINDS` name) on the ticket inside
    /// the caller's transaction and applies the commands. Returns the ticket as it is after.
    pub(crate) async fn run_triggers(
        &self,
        tx: &mut db::WriteTx,
        ticket: TicketId,
        event: &str,
        actor: &str,
        now: Timestamp,
    ) -> Result<Option<Ticket>> {
        let rules = self.active_rules(tx).await?;
        self.apply_rules(tx, &rules, ticket, event, actor, now).await
    }

    /// Runs the workspace's time-driven rules over its active tickets (the 500 most recently
    /// created), inside the job's transaction, and schedules the next scan while any exist.
    pub(crate) async fn run_automations(&self, tx: &mut db::WriteTx, now: Timestamp) -> Result<()> {
        let rules: Vec<Rule> =
            self.active_rules(tx).await?.into_iter().filter(|r| r.when == When::Time).collect();
        if rules.is_empty() {
            return Ok(());
        }
        let ws = tx.workspace();
        let f = db::tickets::Filter {
            statuses: vec![
                domain::Status::New,
                domain::Status::Open,
                domain::Status::Pending,
                domain::Status::OnHold,
                domain::Status::Reopen,
            ],
            ..Default::default()
        };
        let page = db::Page { limit: 500, before: None };
        for t in db::tickets::list(tx, ws, &f, &page).await? {
            self.apply_rules(tx, &rules, t.id, "time", "system", now).await?;
        }
        let id = self.ids.next(now, domain::JobId::new);
        tx.enqueue(id, &domain::Job::RunAutomations, now.plus_millis(AUTOMATION_EVERY_MS), now)
            .await?;
        Ok(())
    }

    /// Schedules the first automation scan when a time-driven rule is saved and none is due.
    async fn schedule_automations(
        &self,
        tx: &mut db::WriteTx,
        t: &StoredTrigger,
        now: Timestamp,
    ) -> Result<()> {
        let ws = tx.workspace();
        if t.active
            && t.when == Tree::Str("time".into())
            && !db::jobs::pending(tx, ws, domain::Job::RunAutomations.name()).await?
        {
            let id = self.ids.next(now, domain::JobId::new);
            tx.enqueue(id, &domain::Job::RunAutomations, now.plus_millis(AUTOMATION_EVERY_MS), now)
                .await?;
        }
        Ok(())
    }

    async fn apply_rules(
        &self,
        tx: &mut db::WriteTx,
        rules: &[Rule],
        ticket: TicketId,
        event: &str,
        actor: &str,
        now: Timestamp,
    ) -> Result<Option<Ticket>> {
        if rules.is_empty() {
            return Ok(None);
        }
        let ws = tx.workspace();
        let before = db::tickets::get(tx, ws, ticket).await?.or_not_found("ticket")?;
        let customer =
            db::customers::get(tx, ws, before.customer).await?.or_not_found("customer")?;
        // Since the ticket entered its status (a status change in this very transaction is not
        // committed yet; then it is now).
        let since = if before.updated_at == now {
            now
        } else {
            db::tickets::status_since(tx, ws, ticket).await?.unwrap_or(before.updated_at)
        };
        let mut facts = Facts::of_ticket(&before, since, now);
        facts
            .text("customer.tier", customer.tier.as_str())
            .text("customer.name", customer.name.clone())
            .text("event.actor", actor);
        let tags_repeat = before.tags.iter().any(|t| t == "repeat");
        facts.set("ticket.repeat", Val::Bool(tags_repeat));
        let run = workflow::rules::run(rules, &facts, event);
        if run.commands.is_empty() {
            return Ok(None);
        }
        if run.depth_limited {
            tracing::warn!(ticket = %ticket, "trigger chain stopped at its depth limit");
        }
        let mut t = before.clone();
        let mut posts = Vec::new();
        for c in &run.commands {
            match &c.action {
                Action::SetStatus(s) => {
                    // The pure run checked the lifecycle on its own facts; re-check on the ticket.
                    if t.status.can_become(*s) {
                        domain::ticket::transition(&mut t, *s, now)?;
                    }
                }
                Action::SetSeverity(s) => t.severity = *s,
                Action::SetUrgency(u) => t.urgency = *u,
                Action::SetStage(s) => t.stage = Some(s.clone()),
                Action::AssignUser(u) => {
                    if self.check_assignee(tx, ws, *u).await.is_ok() {
                        t.assignee = Some(*u);
                        if t.status == domain::Status::New {
                            t.status = domain::Status::Open;
                        }
                    }
                }
                Action::AssignTeam(team) => {
                    if db::users::get_team(tx, ws, *team).await?.is_some() {
                        t.team = Some(*team);
                    }
                }
                Action::Unassign => t.assignee = None,
                Action::AddTag(tag) => {
                    if !t.tags.contains(tag) {
                        t.tags.push(tag.clone());
                    }
                }
                Action::RemoveTag(tag) => t.tags.retain(|x| x != tag),
                Action::Reply { template_zh, template_en } => {
                    posts.push((Visibility::Public, format!("{template_zh}\n\n{template_en}")));
                }
                Action::Notify { to, text_zh, text_en } => {
                    let who = match to {
                        Recipient::Assignee => "assignee".to_string(),
                        Recipient::Team => "team".to_string(),
                        Recipient::Supervisors => "supervisors".to_string(),
                        Recipient::CsHead => "cs_head".to_string(),
                        Recipient::User(u) => format!("user:{u}"),
                    };
                    posts.push((
                        Visibility::Internal,
                        format!("【通知 Notify → {who}】{text_zh}\n{text_en}"),
                    ));
                }
                // Refused on save; a rule stored before that check simply does nothing here.
                Action::Webhook { .. } | Action::Collaborate { .. } => {}
            }
        }
        let fired = run.fired.join(",");
        tx.audit(
            now,
            Actor::System,
            "trigger.fire",
            "ticket",
            &ticket.to_string(),
            None,
            Some(&domain::Snapshot::default().with("event", event).with("rules", fired)),
        )
        .await?;
        if t != before {
            t.updated_at = now;
            self.save_ticket_change(tx, Actor::System, &before, &t, now).await?;
        }
        for (visibility, body) in posts {
            let m = Message {
                id: self.ids.next(now, MessageId::new),
                workspace: ws,
                conversation: t.conversation,
                sender: SenderKind::System,
                author: None,
                visibility,
                body,
                attachments: Vec::new(),
                created_at: now,
            };
            db::conversations::insert_message(tx, &m, None).await?;
            let aud = Audience {
                customer: Some(t.customer),
                team: t.team,
                assignee: t.assignee,
                internal: visibility == Visibility::Internal,
            };
            tx.emit(
                now,
                Actor::System,
                Event::MessageCreated {
                    conversation: t.conversation,
                    message: m.id,
                    sender: SenderKind::System,
                    visibility,
                },
                aud,
            )
            .await?;
        }
        Ok(Some(t))
    }
}
