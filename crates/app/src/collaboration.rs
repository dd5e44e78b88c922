//! Cross-department collaboration (TK-6, PL-1): an agent asks a department about a ticket with
//! a due time (its own timer job); department staff read and answer only the requests addressed
//! to their department, and see of the ticket only the fields in [`CollaborationView`] that
//! are not staff-only: ticket number, subject, problem code and a masked customer contact.
//! Their updates and answer are recorded on the ticket's history and as internal notes.

use domain::{
    Actor, Audience, CollaborationChange, CollaborationId, CollaborationStatus, CustomerId,
    Department, Event, IdentityKind, Job, JobId, Permission, ProblemCode, Snapshot, Status, Ticket,
    TicketId, TicketNo, Timestamp, Visibility,
    collaboration::{
        Collaboration, CollaborationError, CollaborationUpdate, check_due, mask_contact,
    },
    compensation::parse_text,
};

use crate::{
    App, Error, Result,
    auth::{Agent, Noter, Principal, Staff},
    error::OrNotFound,
};

#[derive(Debug, Clone)]
pub struct NewCollaboration {
    pub department: Department,
    pub question: String,
    pub due_at: Timestamp,
}

/// A request as its reader may see it. `staff` is present only for staff who read every case;
/// a department member gets the request and the few ticket fields they need, nothing else.
#[derive(Debug, Clone)]
pub struct CollaborationView {
    pub collaboration: Collaboration,
    pub ticket_number: TicketNo,
    pub ticket_subject: String,
    pub problem_code: Option<ProblemCode>,
    /// The customer's phone or email, masked (`139****5678`).
    pub customer_contact: Option<String>,
    pub updates: Vec<CollaborationUpdate>,
    pub staff: Option<StaffDetail>,
}

/// Ticket and customer fields only staff who read every case see.
#[derive(Debug, Clone)]
pub struct StaffDetail {
    pub ticket: TicketId,
    pub customer: CustomerId,
    pub customer_name: String,
}

#[derive(Debug, Clone, Default)]
pub struct CollaborationQuery {
    pub status: Option<CollaborationStatus>,
    pub ticket: Option<TicketId>,
    pub department: Option<Department>,
}

/// Which department's requests a principal may read: `None` for all.
fn scope(p: &Principal) -> Result<Option<Department>> {
    if p.allows(Permission::ReadAllCases) {
        return Ok(None);
    }
    match p.department {
        Some(d) => Ok(Some(d)),
        None => Err(Error::Forbidden("read collaboration requests")),
    }
}

fn visible(p: &Principal, c: &Collaboration) -> Result<()> {
    match scope(p) {
        Ok(None) => Ok(()),
        Ok(Some(d)) if d == c.department => Ok(()),
        // Another department's request is indistinguishable from a missing one.
        _ => Err(Error::NotFound("collaboration request")),
    }
}

fn snap(c: &Collaboration) -> Snapshot {
    Snapshot::default()
        .with("collaboration", c.id.to_string())
        .with("department", c.department.as_str())
        .with("question", c.question.as_str())
        .with("due_at", domain::AuditValue::Int(c.due_at.millis()))
        .with("status", c.status.as_str())
        .with("overdue", domain::AuditValue::Int(i64::from(c.overdue)))
        .with("answer", c.answer.clone())
}

impl From<CollaborationError> for Error {
    fn from(e: CollaborationError) -> Error {
        Error::Conflict(e.to_string())
    }
}

impl App {
    #[allow(clippy::too_many_arguments)] // One change: who, what, before and after, when.
    async fn record_collaboration(
        &self,
        tx: &mut db::WriteTx,
        actor: Actor,
        action: &str,
        t: &Ticket,
        before: Option<&Collaboration>,
        after: &Collaboration,
        change: CollaborationChange,
        extra: Option<(&'static str, String)>,
        now: Timestamp,
    ) -> Result<()> {
        let mut s = snap(after);
        if let Some((k, v)) = extra {
            s = s.with(k, v);
        }
        let b = before.map(snap);
        tx.audit(now, actor, action, "ticket", &t.id.to_string(), b.as_ref(), Some(&s)).await?;
        let e = Event::CollaborationChanged {
            collaboration: after.id,
            ticket: t.id,
            department: after.department,
            change,
        };
        let audience =
            Audience { customer: None, team: t.team, assignee: t.assignee, internal: true };
        tx.emit(now, actor, e, audience).await?;
        Ok(())
    }

    /// Asks a department about a ticket; the due timer is enqueued in the same transaction.
    pub async fn request_collaboration(
        &self,
        a: &Agent,
        ticket: TicketId,
        n: NewCollaboration,
    ) -> Result<Collaboration> {
        let question = parse_text("question", &n.question)?;
        let now = self.now();
        let due_at = check_due(n.due_at, now)?;
        let mut tx = self.db.write(a.workspace).await?;
        let t = db::tickets::get(&mut tx, a.workspace, ticket).await?.or_not_found("ticket")?;
        if !crate::tickets::scoped_can_see(a, &t) {
            return Err(Error::NotFound("ticket"));
        }
        if t.status == Status::Closed {
            return Err(domain::ticket::TicketError::Closed.into());
        }
        let c = Collaboration {
            id: self.ids.next(now, CollaborationId::new),
            workspace: a.workspace,
            ticket: t.id,
            department: n.department,
            question,
            due_at,
            status: CollaborationStatus::Open,
            overdue: false,
            requested_by: a.user,
            answer: None,
            completed_by: None,
            completed_at: None,
            created_at: now,
            updated_at: now,
        };
        db::collaborations::insert(&mut tx, &c).await?;
        self.record_collaboration(
            &mut tx,
            a.actor,
            "collaboration.request",
            &t,
            None,
            &c,
            CollaborationChange::Requested,
            None,
            now,
        )
        .await?;
        let job = Job::CollaborationDue { collaboration: c.id, due_at };
        tx.enqueue(self.ids.next(now, JobId::new), &job, due_at, now).await?;
        self.commit(tx).await?;
        Ok(c)
    }

    async fn view(
        &self,
        c: &mut db::Conn,
        p: &Principal,
        col: Collaboration,
        with_updates: bool,
    ) -> Result<CollaborationView> {
        let ws = p.workspace;
        let t = db::tickets::get(c, ws, col.ticket).await?.or_not_found("ticket")?;
        let customer = db::customers::get(c, ws, t.customer).await?.or_not_found("customer")?;
        let contact = customer
            .identities
            .iter()
            .find(|i| i.kind == IdentityKind::Phone)
            .or_else(|| customer.identities.iter().find(|i| i.kind == IdentityKind::Email))
            .map(|i| mask_contact(&i.value));
        let updates = if with_updates {
            db::collaborations::updates(c, ws, col.id).await?
        } else {
            Vec::new()
        };
        let staff = p.allows(Permission::ReadAllCases).then(|| StaffDetail {
            ticket: t.id,
            customer: customer.id,
            customer_name: customer.name.clone(),
        });
        Ok(CollaborationView {
            collaboration: col,
            ticket_number: t.number,
            ticket_subject: t.subject,
            problem_code: t.problem_code,
            customer_contact: contact,
            updates,
            staff,
        })
    }

    /// Requests the caller may read, newest first: department members only their department's.
    pub async fn list_collaborations(
        &self,
        s: &Staff,
        q: CollaborationQuery,
    ) -> Result<Vec<CollaborationView>> {
        let mut f = db::collaborations::Filter {
            department: q.department,
            ticket: q.ticket,
            status: q.status,
        };
        if let Some(d) = scope(s)? {
            if q.department.is_some_and(|x| x != d) {
                return Ok(Vec::new());
            }
            f.department = Some(d);
        }
        let mut c = self.db.read().await?;
        let rows = db::collaborations::list(&mut c, s.workspace, &f).await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            out.push(self.view(&mut c, s, r, false).await?);
        }
        Ok(out)
    }

    pub async fn get_collaboration(
        &self,
        s: &Staff,
        id: CollaborationId,
    ) -> Result<CollaborationView> {
        let mut c = self.db.read().await?;
        let col = db::collaborations::get(&mut c, s.workspace, id)
            .await?
            .or_not_found("collaboration request")?;
        visible(s, &col)?;
        self.view(&mut c, s, col, true).await
    }

    async fn change_collaboration(
        &self,
        n: &Noter,
        id: CollaborationId,
        body: &str,
        complete: bool,
    ) -> Result<CollaborationView> {
        let body = parse_text(if complete { "answer" } else { "body" }, body)?;
        let now = self.now();
        let mut tx = self.db.write(n.workspace).await?;
        let before = db::collaborations::get(&mut tx, n.workspace, id)
            .await?
            .or_not_found("collaboration request")?;
        visible(n, &before)?;
        // Outside the department, only supervisors close a request for it.
        if complete && n.department.is_none() && !n.allows(Permission::SuperviseCases) {
            return Err(Error::Forbidden("complete another department's request"));
        }
        let t =
            db::tickets::get(&mut tx, n.workspace, before.ticket).await?.or_not_found("ticket")?;
        let mut after = before.clone();
        let dept = after.department.label_zh();
        let (action, change, note) = if complete {
            after.complete(n.user, body.clone(), now)?;
            db::collaborations::update(&mut tx, &after).await?;
            let note = format!(
                "【{dept}协作完成】{body}\n[Collaboration answered by {}]",
                after.department.as_str()
            );
            ("collaboration.complete", CollaborationChange::Completed, note)
        } else {
            after.add_update(now)?;
            db::collaborations::update(&mut tx, &after).await?;
            let u = CollaborationUpdate {
                collaboration: after.id,
                author: n.user,
                body: body.clone(),
                at: now,
            };
            db::collaborations::add_update(&mut tx, n.workspace, &u).await?;
            let note = format!(
                "【{dept}协作进展】{body}\n[Collaboration update from {}]",
                after.department.as_str()
            );
            ("collaboration.update", CollaborationChange::Updated, note)
        };
        self.record_collaboration(
            &mut tx,
            n.actor,
            action,
            &t,
            Some(&before),
            &after,
            change,
            (!complete).then(|| ("update", body.clone())),
            now,
        )
        .await?;
        self.system_message(&mut tx, &t, Visibility::Internal, note, now).await?;
        self.commit(tx).await?;
        let mut c = self.db.read().await?;
        self.view(&mut c, n, after, true).await
    }

    /// A progress update from the department (or the requesting side).
    pub async fn update_collaboration(
        &self,
        n: &Noter,
        id: CollaborationId,
        body: &str,
    ) -> Result<CollaborationView> {
        self.change_collaboration(n, id, body, false).await
    }

    /// The department's answer; closes the request.
    pub async fn complete_collaboration(
        &self,
        n: &Noter,
        id: CollaborationId,
        answer: &str,
    ) -> Result<CollaborationView> {
        self.change_collaboration(n, id, answer, true).await
    }

    /// The due timer (a job): an open request past its due time is marked overdue and the
    /// ticket's handlers are alerted with an internal note.
    pub(crate) async fn collaboration_due(
        &self,
        tx: &mut db::WriteTx,
        id: CollaborationId,
        due_at: Timestamp,
        now: Timestamp,
    ) -> Result<()> {
        let ws = tx.workspace();
        let Some(before) = db::collaborations::get(tx, ws, id).await? else { return Ok(()) };
        let mut after = before.clone();
        if !after.due_timer(due_at, now) {
            return Ok(());
        }
        db::collaborations::update(tx, &after).await?;
        let t = db::tickets::get(tx, ws, after.ticket).await?.or_not_found("ticket")?;
        self.record_collaboration(
            tx,
            Actor::System,
            "collaboration.overdue",
            &t,
            Some(&before),
            &after,
            CollaborationChange::Overdue,
            None,
            now,
        )
        .await?;
        let body = format!(
            "【协作逾期】{dept}尚未在截止时间前答复：{q}\n[Collaboration overdue] The {d} department has not answered by its due time.",
            dept = after.department.label_zh(),
            q = after.question,
            d = after.department.as_str(),
        );
        self.system_message(tx, &t, Visibility::Internal, body, now).await?;
        Ok(())
    }
}
