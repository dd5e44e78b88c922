//! Compensation within authority (TK-7): requests on a ticket, the approval queue per level,
//! approve / reject along the chain, the agent's written report and its 48-hour timer, and the
//! workspace's limits. The rules are `domain::compensation`'s; this module loads, authorises
//! by capability, and records each change (row, audit entry on the ticket, event, job).

use domain::{
    Actor, Audience, CompensationChange, CompensationId, Event, Fen, Job, JobId, Level, Limits,
    Permission, Snapshot, Status, Ticket, TicketId, Timestamp, UserId, Visibility,
    compensation::{
        Authority, Compensation, CompensationKind, NewCompensation, Outcome, Report, State,
        parse_text,
    },
};

use crate::{
    App, Error, Result,
    auth::{Admin, Approver, Compensator, Principal, Staff},
    error::OrNotFound,
    tickets::scoped_can_see,
};

/// A new request as the API passes it.
#[derive(Debug, Clone)]
pub struct CompensationRequest {
    pub kind: CompensationKind,
    pub amount: Fen,
    pub basis: String,
}

fn snap(c: &Compensation) -> Snapshot {
    let (by, at) = match c.state() {
        State::Granted { grant, at } => (Some(grant.by().to_string()), Some(*at)),
        State::Rejected { by, at, .. } => (Some(by.to_string()), Some(*at)),
        State::Pending { .. } => (None, None),
    };
    Snapshot::default()
        .with("compensation", c.id.to_string())
        .with("type", c.kind.as_str())
        .with("amount_fen", domain::AuditValue::Int(c.amount.get()))
        .with("basis", c.basis.as_str())
        .with("requested_by", c.requested_by.to_string())
        .with("status", c.state().name())
        .with("pending_level", c.pending_level().map(|l| l.as_str()))
        .with("decided_by", by)
        .with("decided_at", at.map(|t| domain::AuditValue::Int(t.millis())))
        .with("report", c.report().name())
}

/// The person behind a principal: compensation is a personal authority, so API tokens hold none.
fn person(p: &Principal) -> Result<UserId> {
    p.user.ok_or(Error::Forbidden("decide compensation with an API token; log in as a person"))
}

/// Which compensations a list shows.
#[derive(Debug, Clone, Default)]
pub struct CompensationQuery {
    /// `pending`, `granted` or `rejected`.
    pub status: Option<String>,
    /// `due`, `overdue` or `filed`.
    pub report_status: Option<String>,
}

impl App {
    /// The workspace's authority limits (defaults until an admin sets them).
    pub async fn compensation_limits(&self, s: &Staff) -> Result<Limits> {
        let mut c = self.db.read().await?;
        Ok(db::compensations::limits(&mut c, s.workspace).await?)
    }

    pub async fn set_compensation_limits(&self, a: &Admin, l: Limits) -> Result<Limits> {
        let l = l.check()?;
        let now = self.now();
        let mut tx = self.db.write(a.workspace).await?;
        let before = db::compensations::limits(&mut tx, a.workspace).await?;
        if before == l {
            return Ok(l);
        }
        db::compensations::put_limits(&mut tx, a.workspace, &l, now).await?;
        let snap = |l: &Limits| {
            Snapshot::default()
                .with("agent_fen", domain::AuditValue::Int(l.agent.get()))
                .with("supervisor_fen", domain::AuditValue::Int(l.supervisor.get()))
                .with("cs_head_fen", l.cs_head.map(|f| domain::AuditValue::Int(f.get())))
                .with("report_hours", domain::AuditValue::Int(l.report_hours))
        };
        tx.audit(
            now,
            a.actor,
            "compensation_limits.put",
            "workspace",
            &a.workspace.to_string(),
            Some(&snap(&before)),
            Some(&snap(&l)),
        )
        .await?;
        self.commit(tx).await?;
        Ok(l)
    }

    async fn ticket_in(&self, tx: &mut db::WriteTx, p: &Principal, id: TicketId) -> Result<Ticket> {
        let t = db::tickets::get(tx, p.workspace, id).await?.or_not_found("ticket")?;
        if scoped_can_see(p, &t) { Ok(t) } else { Err(Error::NotFound("ticket")) }
    }

    /// Writes the row, an audit entry on the ticket (so it shows in the ticket's history), the
    /// events, and the report timer when a report became due.
    #[allow(clippy::too_many_arguments)] // One change: who, what, before and after, when.
    async fn record_compensation(
        &self,
        tx: &mut db::WriteTx,
        actor: Actor,
        action: &str,
        t: &Ticket,
        before: Option<&Compensation>,
        after: &Compensation,
        changes: &[CompensationChange],
        now: Timestamp,
    ) -> Result<()> {
        db::compensations::save(tx, after, before.is_none()).await?;
        let b = before.map(snap);
        tx.audit(now, actor, action, "ticket", &t.id.to_string(), b.as_ref(), Some(&snap(after)))
            .await?;
        let audience =
            Audience { customer: None, team: t.team, assignee: t.assignee, internal: true };
        for change in changes {
            let e = Event::CompensationChanged {
                compensation: after.id,
                ticket: t.id,
                change: *change,
            };
            tx.emit(now, actor, e, audience).await?;
        }
        let became_due = !matches!(before.map(Compensation::report), Some(Report::Due { .. }));
        if let Report::Due { due_at } = after.report()
            && became_due
        {
            let job = Job::CompensationReportDue { compensation: after.id, due_at: *due_at };
            tx.enqueue(self.ids.next(now, JobId::new), &job, *due_at, now).await?;
        }
        Ok(())
    }

    /// A new request: granted at once within the requester's authority (an agent's grant owes
    /// a written report, whose timer is enqueued here), otherwise pending at the next level.
    pub async fn request_compensation(
        &self,
        c: &Compensator,
        ticket: TicketId,
        r: CompensationRequest,
    ) -> Result<(Compensation, Outcome)> {
        let basis = parse_text("basis", &r.basis)?;
        let user = person(c)?;
        let now = self.now();
        let mut tx = self.db.write(c.workspace).await?;
        let t = self.ticket_in(&mut tx, c, ticket).await?;
        if t.status == Status::Closed {
            return Err(domain::ticket::TicketError::Closed.into());
        }
        let limits = db::compensations::limits(&mut tx, c.workspace).await?;
        let who = Authority::of(user, c.role, &limits)?;
        let n = NewCompensation {
            id: self.ids.next(now, CompensationId::new),
            workspace: c.workspace,
            ticket: t.id,
            kind: r.kind,
            amount: r.amount,
            basis,
        };
        let (comp, outcome) = Compensation::request(n, &who, &limits, now)?;
        let changes: &[CompensationChange] = match outcome {
            Outcome::Granted => &[CompensationChange::Requested, CompensationChange::Granted],
            Outcome::Escalated(_) => &[CompensationChange::Requested],
        };
        self.record_compensation(
            &mut tx,
            c.actor,
            "compensation.request",
            &t,
            None,
            &comp,
            changes,
            now,
        )
        .await?;
        self.commit(tx).await?;
        Ok((comp, outcome))
    }

    /// The ticket's compensations, oldest first.
    pub async fn ticket_compensations(
        &self,
        s: &Staff,
        ticket: TicketId,
    ) -> Result<Vec<Compensation>> {
        if !s.allows(Permission::ReadAllCases) {
            return Err(Error::Forbidden("read compensations"));
        }
        let t = self.get_ticket(s, ticket).await?;
        let mut c = self.db.read().await?;
        Ok(db::compensations::for_ticket(&mut c, s.workspace, t.id).await?)
    }

    /// Compensations across tickets. `status=pending` is the caller's approval queue: requests
    /// waiting at their level or below. Agents see only their own requests.
    pub async fn list_compensations(
        &self,
        s: &Staff,
        q: CompensationQuery,
    ) -> Result<Vec<Compensation>> {
        if !s.allows(Permission::ReadAllCases) {
            return Err(Error::Forbidden("read compensations"));
        }
        for (field, v, ok) in [
            ("status", &q.status, &["pending", "granted", "rejected"][..]),
            ("report_status", &q.report_status, &["not_required", "due", "overdue", "filed"][..]),
        ] {
            if let Some(v) = v
                && !ok.contains(&v.as_str())
            {
                return Err(domain::ParseError::new(
                    field,
                    format!("unknown value {v:?}; expected one of: {}", ok.join(", ")),
                )
                .into());
            }
        }
        let level = Level::of(s.role);
        let mut f = db::compensations::Filter {
            status: q.status.clone(),
            report_status: q.report_status,
            ..Default::default()
        };
        if q.status.as_deref() == Some("pending")
            && let Some(l) = level.filter(|l| *l > Level::Agent)
        {
            f.pending_levels = Some(Level::ALL.iter().copied().filter(|x| *x <= l).collect());
        }
        let mut c = self.db.read().await?;
        let mut out = db::compensations::list(&mut c, s.workspace, &f).await?;
        if level == Some(Level::Agent) {
            out.retain(|x| Some(x.requested_by) == s.user);
        }
        Ok(out)
    }

    async fn decide(
        &self,
        a: &Approver,
        id: CompensationId,
        act: impl FnOnce(
            &mut Compensation,
            &Authority,
            &Limits,
            Timestamp,
        ) -> Result<Vec<CompensationChange>>,
        action: &str,
    ) -> Result<Compensation> {
        let user = person(a)?;
        let now = self.now();
        let mut tx = self.db.write(a.workspace).await?;
        let before =
            db::compensations::get(&mut tx, a.workspace, id).await?.or_not_found("compensation")?;
        let t = self.ticket_in(&mut tx, a, before.ticket).await?;
        let limits = db::compensations::limits(&mut tx, a.workspace).await?;
        let who = Authority::of(user, a.role, &limits)?;
        let mut after = before.clone();
        let changes = act(&mut after, &who, &limits, now)?;
        self.record_compensation(
            &mut tx,
            a.actor,
            action,
            &t,
            Some(&before),
            &after,
            &changes,
            now,
        )
        .await?;
        self.commit(tx).await?;
        Ok(after)
    }

    /// Approves within the approver's own authority; above it the request moves up the chain.
    pub async fn approve_compensation(
        &self,
        a: &Approver,
        id: CompensationId,
        note: Option<String>,
    ) -> Result<(Compensation, Outcome)> {
        let note = note.as_deref().map(|n| parse_text("note", n)).transpose()?;
        let mut outcome = Outcome::Granted;
        let c = self
            .decide(
                a,
                id,
                |c, who, limits, now| {
                    outcome = c.approve(who, note, limits, now)?;
                    Ok(vec![match outcome {
                        Outcome::Granted => CompensationChange::Granted,
                        Outcome::Escalated(_) => CompensationChange::Escalated,
                    }])
                },
                "compensation.approve",
            )
            .await?;
        Ok((c, outcome))
    }

    pub async fn reject_compensation(
        &self,
        a: &Approver,
        id: CompensationId,
        reason: &str,
    ) -> Result<Compensation> {
        let reason = parse_text("reason", reason)?;
        self.decide(
            a,
            id,
            |c, who, _, now| {
                c.reject(who, reason, now)?;
                Ok(vec![CompensationChange::Rejected])
            },
            "compensation.reject",
        )
        .await
    }

    /// The granting agent's written report.
    pub async fn file_compensation_report(
        &self,
        c: &Compensator,
        id: CompensationId,
        text: &str,
    ) -> Result<Compensation> {
        let text = parse_text("report", text)?;
        let user = person(c)?;
        let now = self.now();
        let mut tx = self.db.write(c.workspace).await?;
        let before =
            db::compensations::get(&mut tx, c.workspace, id).await?.or_not_found("compensation")?;
        let t = self.ticket_in(&mut tx, c, before.ticket).await?;
        let mut after = before.clone();
        after.file_report(user, text, now)?;
        self.record_compensation(
            &mut tx,
            c.actor,
            "compensation.report",
            &t,
            Some(&before),
            &after,
            &[CompensationChange::ReportFiled],
            now,
        )
        .await?;
        self.commit(tx).await?;
        Ok(after)
    }

    /// The report timer (a job): if the report is still missing, mark it overdue and alert the
    /// supervisors with an internal note on the ticket. A filed report or a stale timer does
    /// nothing.
    pub(crate) async fn compensation_report_due(
        &self,
        tx: &mut db::WriteTx,
        id: CompensationId,
        due_at: Timestamp,
        now: Timestamp,
    ) -> Result<()> {
        let ws = tx.workspace();
        let Some(before) = db::compensations::get(tx, ws, id).await? else { return Ok(()) };
        let mut after = before.clone();
        if !after.report_timer(due_at, now) {
            return Ok(());
        }
        let t = db::tickets::get(tx, ws, after.ticket).await?.or_not_found("ticket")?;
        self.record_compensation(
            tx,
            Actor::System,
            "compensation.report_overdue",
            &t,
            Some(&before),
            &after,
            &[CompensationChange::ReportOverdue],
            now,
        )
        .await?;
        let body = format!(
            "【补偿报告逾期】工单 {no} 的补偿（{kind_zh} {amount}）书面报告已过截止时间，尚未提交，请客服主管跟进。\n\
             [Report overdue] The written report on the {kind} compensation of {amount} on ticket {no} \
             is past its due time and has not been filed; supervisor, please follow up.",
            no = t.number,
            kind_zh = after.kind.label_zh(),
            kind = after.kind.as_str(),
            amount = after.amount,
        );
        self.system_message(tx, &t, Visibility::Internal, body, now).await?;
        Ok(())
    }
}
