//! Crisis and repeats (TK-11, AN-3) on ticket creation, inside the creating transaction: a
//! repeat complaint (same customer, same problem code within 30 days) is tagged `repeat`; a
//! surge of the code against its trailing baseline (`workflow::crisis::surge`, default
//! thresholds) opens an L1 critical ticket tagged `crisis` (routed by the red channel); more
//! than five tickets of the code in 30 days opens a root-cause report ticket tagged
//! `root_cause`. Neither opens twice while one for the code is still active.
//!
//! The crisis and root-cause tickets belong to the customer and conversation of the ticket that
//! tipped the count (every ticket needs one); their subject says what they are and why.

use domain::{
    Actor, Audience, Event, Severity, Status, Ticket, TicketId, TicketNo, Timestamp, Urgency,
};
use workflow::crisis::{
    Past, ROOT_CAUSE_WINDOW_DAYS, SurgeConfig, repeat_of, root_cause_due, surge,
};

use crate::{App, Result, error::OrNotFound, intake::snapshot};

/// Whether a ticket is one of the system's internal crisis or root-cause tickets.
pub fn is_internal(t: &Ticket) -> bool {
    t.tags.iter().any(|x| x == "crisis" || x == "root_cause")
}

/// Days within which a second complaint of the same code by the same customer is a repeat.
pub const REPEAT_DAYS: u32 = 30;

impl App {
    /// Tags `t` (not yet inserted) as a repeat when it is one, and opens crisis and root-cause
    /// tickets when due. Returns the tickets opened.
    pub(crate) async fn crisis_checks(
        &self,
        tx: &mut db::WriteTx,
        t: &mut Ticket,
        now: Timestamp,
    ) -> Result<Vec<Ticket>> {
        let Some(code) = t.problem_code else { return Ok(Vec::new()) };
        let ws = tx.workspace();
        let cfg = SurgeConfig::default();
        let lookback = cfg.lookback_ms().max(ROOT_CAUSE_WINDOW_DAYS * 86_400_000);
        let history = db::routing::code_history(tx, ws, code, now.plus_millis(-lookback)).await?;
        let past: Vec<Past> = history
            .iter()
            .map(|h| Past {
                ticket: h.id,
                customer: h.customer,
                problem_code: code,
                created_at: h.created_at,
            })
            .collect();
        if repeat_of(&past, t.customer, code, now, REPEAT_DAYS).is_some()
            && !t.tags.iter().any(|x| x == "repeat")
        {
            t.tags.push("repeat".to_string());
        }
        // The system's own crisis and root-cause tickets do not count as complaints.
        let complaints = history
            .iter()
            .filter(|h| !h.tags.iter().any(|x| x == "crisis" || x == "root_cause"))
            .map(|h| h.created_at)
            .chain(std::iter::once(now));
        let times: Vec<Timestamp> = complaints.collect();
        let mut opened = Vec::new();
        if let Some(s) = surge(&times, now, &cfg)
            && !db::routing::active_tagged(tx, ws, code, "crisis").await?
        {
            let subject = format!(
                "【危机】{code} 激增：最近一小时 {} 单（基线 {:.1}±{:.1}） / Crisis: surge of {code}, {} in the last hour (baseline {:.1}±{:.1})",
                s.count, s.mean, s.stddev, s.count, s.mean, s.stddev
            );
            opened.push(
                self.open_system_ticket(
                    tx,
                    t,
                    subject,
                    Severity::L1,
                    Urgency::Critical,
                    "crisis",
                    now,
                )
                .await?,
            );
        }
        if root_cause_due(
            &times,
            now,
            db::routing::active_tagged(tx, ws, code, "root_cause").await?,
        ) {
            let subject = format!(
                "【根因分析】{code} 30 天内超过 5 次，请提交根因报告 / Root-cause report due: {code} seen more than 5 times in 30 days"
            );
            opened.push(
                self.open_system_ticket(
                    tx,
                    t,
                    subject,
                    Severity::L3,
                    Urgency::Urgent,
                    "root_cause",
                    now,
                )
                .await?,
            );
        }
        Ok(opened)
    }

    #[allow(clippy::too_many_arguments)] // Each is one field of the new ticket.
    async fn open_system_ticket(
        &self,
        tx: &mut db::WriteTx,
        from: &Ticket,
        subject: String,
        severity: Severity,
        urgency: Urgency,
        tag: &str,
        now: Timestamp,
    ) -> Result<Ticket> {
        let ws = tx.workspace();
        let prefix = db::workspaces::by_id(tx, ws).await?.or_not_found("workspace")?.ticket_prefix;
        let customer = db::customers::get(tx, ws, from.customer).await?.or_not_found("customer")?;
        let mut t = Ticket {
            id: self.ids.next(now, TicketId::new),
            workspace: ws,
            number: TicketNo::new(&prefix, tx.next_ticket_number()),
            subject: subject.chars().take(200).collect(),
            customer: from.customer,
            conversation: from.conversation,
            channel: from.channel,
            problem_code: from.problem_code,
            severity,
            urgency,
            status: Status::New,
            stage: None,
            assignee: None,
            team: None,
            tags: vec![tag.to_string()],
            custom_fields: vec![("source_ticket".to_string(), from.number.to_string())],
            tracking_token: self.ids.secret("tk_"),
            created_at: now,
            updated_at: now,
            solved_at: None,
            closed_at: None,
        };
        self.route_new_ticket(tx, &mut t, &customer, now).await?;
        db::tickets::insert(tx, &t).await?;
        tx.audit(
            now,
            Actor::System,
            "ticket.create",
            "ticket",
            &t.id.to_string(),
            None,
            Some(&snapshot::ticket(&t)),
        )
        .await?;
        let aud = Audience { customer: None, team: t.team, assignee: t.assignee, internal: true };
        tx.emit(
            now,
            Actor::System,
            Event::TicketCreated { ticket: t.id, conversation: t.conversation },
            aud,
        )
        .await?;
        Ok(t)
    }
}
