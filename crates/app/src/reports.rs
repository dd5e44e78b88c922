//! Scheduled reports (AN-7). Managers define weekly or monthly schedules; each schedule's
//! `RenderReport` job runs at the start of the next period (Monday / the 1st, 00:00 UTC+8),
//! renders the period just ended — KPI summary, top problem codes, the period's alerts and the
//! quality index per agent — as CSV (UTF-8 with BOM) or XLSX, stores it (one per schedule and
//! period), and schedules the next run. Supervisors list and download the stored reports.
//!
//! Delivery: a report of a schedule with recipients is stored together with one delivery row
//! per recipient and a `DeliverReport` job (same transaction). The job e-mails the file as an
//! attachment through the SMTP server of the workspace's email channel, outside any
//! transaction, one message per recipient (a stable Message-ID, so a retried send can be
//! deduplicated), records each recipient's status and last error, and retries the pending ones
//! with the queue's backoff. A permanent refusal, or the last attempt, marks the recipient
//! `failed`. A workspace without SMTP settings gets the report stored with `delivery`
//! `not_sent` and the reason in `delivery_error`.

use anyhow::Context;
use channels::email as mail;
use domain::{
    JobId, ParseError, ReportId, ReportScheduleId, Timestamp,
    audit::{AuditValue, Snapshot},
};
use serde_json::json;
use workflow::alerts::{month_start, next_month_start, week_start};

pub use db::reports::{Delivery, Report, Schedule};

use crate::{
    App, Error, Result,
    auth::{Manager, Supervisor},
    error::OrNotFound,
};

/// What a manager sends to create or change a schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleInput {
    pub name: String,
    pub period: String,
    pub format: String,
    pub recipients: Vec<String>,
    pub active: bool,
}

fn check(i: ScheduleInput) -> Result<ScheduleInput> {
    let name = i.name.trim().to_string();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ParseError::new("name", "1 to 100 characters").into());
    }
    if !["weekly", "monthly"].contains(&i.period.as_str()) {
        return Err(ParseError::new("period", "weekly or monthly").into());
    }
    if !["csv", "xlsx"].contains(&i.format.as_str()) {
        return Err(ParseError::new("format", "csv or xlsx").into());
    }
    if i.recipients.len() > 50 {
        return Err(ParseError::new("recipients", "at most 50 addresses").into());
    }
    let mut recipients = Vec::new();
    for r in &i.recipients {
        recipients.push(
            domain::Email::parse(r)
                .map_err(|_| {
                    ParseError::new("recipients", format!("{r:?} is not an e-mail address"))
                })?
                .to_string(),
        );
    }
    Ok(ScheduleInput { name, recipients, ..i })
}

/// The start of the period after the one containing `t`: when a schedule next runs.
pub fn next_run(period: &str, t: Timestamp) -> Timestamp {
    if period == "monthly" { next_month_start(t) } else { week_start(t).plus_days(7) }
}

/// The period that ended at `end` (a period start).
pub fn period_before(period: &str, end: Timestamp) -> (Timestamp, Timestamp) {
    let last = end.plus_millis(-1);
    let start = if period == "monthly" { month_start(last) } else { week_start(last) };
    (start, end)
}

fn sched_snapshot(s: &Schedule) -> Snapshot {
    Snapshot(vec![
        ("name", s.name.as_str().into()),
        ("period", s.period.as_str().into()),
        ("format", s.format.as_str().into()),
        ("recipients", AuditValue::List(s.recipients.clone())),
        ("active", AuditValue::Int(i64::from(s.active))),
    ])
}

impl App {
    pub async fn report_schedules(&self, s: &Supervisor) -> Result<Vec<Schedule>> {
        let mut c = self.db.read().await?;
        Ok(db::reports::schedules(&mut c, s.workspace).await?)
    }

    /// Creates (`id` None) or replaces a schedule; (re)schedules its next run.
    pub async fn put_report_schedule(
        &self,
        m: &Manager,
        id: Option<ReportScheduleId>,
        input: ScheduleInput,
    ) -> Result<Schedule> {
        let i = check(input)?;
        let now = self.now();
        let mut tx = self.db.write(m.workspace).await?;
        let ws = tx.workspace();
        let before = match id {
            Some(id) => Some(
                db::reports::get_schedule(&mut tx, ws, id)
                    .await?
                    .or_not_found("report schedule")?,
            ),
            None => None,
        };
        let s = Schedule {
            id: id.unwrap_or_else(|| self.ids.next(now, ReportScheduleId::new)),
            workspace: ws,
            name: i.name,
            period: i.period.clone(),
            format: i.format,
            recipients: i.recipients,
            active: i.active,
            next_run_at: next_run(&i.period, now),
            created_at: before.as_ref().map_or(now, |b| b.created_at),
            updated_at: now,
        };
        db::reports::upsert_schedule(&mut tx, &s).await?;
        tx.audit(
            now,
            m.actor,
            if before.is_some() { "report_schedule.update" } else { "report_schedule.create" },
            "report_schedule",
            &s.id.to_string(),
            before.as_ref().map(sched_snapshot).as_ref(),
            Some(&sched_snapshot(&s)),
        )
        .await?;
        if s.active {
            let job = domain::Job::RenderReport { schedule: s.id, due: s.next_run_at };
            tx.enqueue(self.ids.next(now, JobId::new), &job, s.next_run_at, now).await?;
        }
        self.commit(tx).await?;
        Ok(s)
    }

    /// The `RenderReport` job: a schedule still due at `due` renders the period that ended
    /// then and is scheduled for the next period. A changed or paused schedule (its
    /// `next_run_at` moved) leaves the stale job without effect.
    pub(crate) async fn render_report_job(
        &self,
        tx: &mut db::WriteTx,
        id: ReportScheduleId,
        due: Timestamp,
        now: Timestamp,
    ) -> Result<()> {
        let ws = tx.workspace();
        let Some(mut s) = db::reports::get_schedule(tx, ws, id).await? else { return Ok(()) };
        if !s.active || s.next_run_at != due {
            return Ok(());
        }
        let (from, to) = period_before(&s.period, due);
        self.render_report(tx, &s, from, to, now).await?;
        s.next_run_at = next_run(&s.period, due.max(now));
        s.updated_at = now;
        db::reports::upsert_schedule(tx, &s).await?;
        let job = domain::Job::RenderReport { schedule: s.id, due: s.next_run_at };
        tx.enqueue(self.ids.next(now, JobId::new), &job, s.next_run_at, now).await?;
        Ok(())
    }

    /// Renders the schedule's report for the last complete period now (a manager's "run
    /// now"); a period already rendered is a 409.
    pub async fn run_report_now(&self, m: &Manager, id: ReportScheduleId) -> Result<Report> {
        let now = self.now();
        let mut tx = self.db.write(m.workspace).await?;
        let ws = tx.workspace();
        let s =
            db::reports::get_schedule(&mut tx, ws, id).await?.or_not_found("report schedule")?;
        let end = if s.period == "monthly" { month_start(now) } else { week_start(now) };
        let (from, to) = period_before(&s.period, end);
        let r = self.render_report(&mut tx, &s, from, to, now).await?.ok_or_else(|| {
            Error::Conflict("this schedule's report for the last period already exists".into())
        })?;
        self.commit(tx).await?;
        Ok(r)
    }

    async fn render_report(
        &self,
        tx: &mut db::WriteTx,
        s: &Schedule,
        from: Timestamp,
        to: Timestamp,
        now: Timestamp,
    ) -> Result<Option<Report>> {
        let ws = tx.workspace();
        let k = db::reports::kpis(tx, ws, from, to).await?;
        let codes = db::reports::top_codes(tx, ws, from, to, 10).await?;
        let alerts = db::alerts::list(tx, ws, None, from, to, 500).await?;
        let quality = db::quality::daily_checks(tx, ws, from, to, None).await?;
        let users = db::users::list_users(tx, ws).await?;
        let name_of = |u: domain::UserId| {
            users.iter().find(|x| x.id == u).map_or_else(|| u.to_string(), |x| x.name.clone())
        };
        let mut agents: Vec<(domain::UserId, i64, i64)> = Vec::new();
        for q in &quality {
            match agents.iter_mut().find(|a| a.0 == q.agent) {
                Some(a) => {
                    a.1 += q.checks;
                    a.2 += q.passed;
                }
                None => agents.push((q.agent, q.checks, q.passed)),
            }
        }
        let (all_checks, all_passed) = agents.iter().fold((0, 0), |a, x| (a.0 + x.1, a.1 + x.2));
        let qi = |c: i64, p: i64| workflow::quality::index(c.max(0) as u64, p.max(0) as u64);

        let iso = |t: Timestamp| {
            time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(t.millis()) * 1_000_000)
                .ok()
                .and_then(|d| {
                    d.to_offset(time::macros::offset!(+8))
                        .format(&time::format_description::well_known::Rfc3339)
                        .ok()
                })
                .unwrap_or_default()
        };
        let mut rows: Vec<[String; 4]> = vec![
            ["section".into(), "item".into(), "value".into(), "detail".into()],
            [
                "report".into(),
                s.name.clone(),
                s.period.clone(),
                format!("{} – {}", iso(from), iso(to)),
            ],
        ];
        let kpi = |name: &str, v: i64| {
            ["kpi".to_string(), name.to_string(), v.to_string(), String::new()]
        };
        rows.push(kpi("tickets_created", k.tickets_created));
        rows.push(kpi("tickets_solved", k.tickets_solved));
        rows.push(kpi("tickets_closed", k.tickets_closed));
        rows.push(kpi("backlog_at_end", k.backlog));
        rows.push(kpi("customer_messages", k.customer_messages));
        rows.push(kpi("agent_messages", k.agent_messages));
        rows.push([
            "kpi".into(),
            "quality_index".into(),
            format!("{:.1}", qi(all_checks, all_passed)),
            format!("{all_passed}/{all_checks} checks passed"),
        ]);
        for (code, n) in &codes {
            rows.push(["top_problem_code".into(), code.clone(), n.to_string(), String::new()]);
        }
        for a in &alerts {
            rows.push(["alert".into(), a.kind.clone(), a.status.clone(), a.message.clone()]);
        }
        for (u, c, p) in &agents {
            rows.push([
                "quality_index".into(),
                name_of(*u),
                format!("{:.1}", qi(*c, *p)),
                format!("{p}/{c} checks passed"),
            ]);
        }

        let bytes = match s.format.as_str() {
            "xlsx" => {
                let mut wb = rust_xlsxwriter::Workbook::new();
                let sheet = wb.add_worksheet();
                sheet.set_name("Report").context("naming the sheet")?;
                for (r, row) in rows.iter().enumerate() {
                    for (c, v) in row.iter().enumerate() {
                        sheet.write_string(r as u32, c as u16, v).context("writing XLSX")?;
                    }
                }
                sheet.set_column_width(1, 30).context("writing XLSX")?;
                sheet.set_column_width(3, 60).context("writing XLSX")?;
                wb.save_to_buffer().context("writing XLSX")?
            }
            _ => {
                let mut w = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
                for row in &rows {
                    w.write_record(row).context("writing CSV")?;
                }
                w.into_inner().map_err(|e| Error::Internal(anyhow::anyhow!("writing CSV: {e}")))?
            }
        };
        let (ext, content_type) = if s.format == "xlsx" {
            ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        } else {
            ("csv", "text/csv; charset=utf-8")
        };
        let day = iso(from).get(..10).unwrap_or_default().to_string();
        let summary = json!({
            "tickets_created": k.tickets_created, "tickets_solved": k.tickets_solved,
            "tickets_closed": k.tickets_closed, "backlog_at_end": k.backlog,
            "customer_messages": k.customer_messages, "agent_messages": k.agent_messages,
            "quality_index": qi(all_checks, all_passed), "alerts": alerts.len(),
            "top_problem_codes": codes.iter().map(|(c, n)| json!({"code": c, "count": n})).collect::<Vec<_>>(),
        });
        // Who gets it, and whether the workspace can send mail at all (decided with the report
        // in this transaction; the job checks again before sending).
        let smtp_ok = match db::email::settings_get(tx, ws).await? {
            Some(row) => crate::channels::email::parse_stored(&row.config)?.smtp.is_some(),
            None => false,
        };
        let (delivery, delivery_error, status) = if s.recipients.is_empty() {
            ("stored", None, "")
        } else if smtp_ok {
            ("pending", None, "pending")
        } else {
            ("not_sent", Some(NO_SMTP.to_string()), "not_sent")
        };
        let deliveries = s
            .recipients
            .iter()
            .map(|to| Delivery {
                recipient: to.clone(),
                status: status.to_string(),
                attempts: 0,
                last_error: delivery_error.clone(),
                sent_at: None,
                updated_at: now,
            })
            .collect();
        let r = Report {
            id: self.ids.next(now, ReportId::new),
            schedule: Some(s.id),
            period: s.period.clone(),
            period_start: from,
            period_end: to,
            format: s.format.clone(),
            filename: format!("report-{}-{day}.{ext}", s.period),
            content_type: content_type.to_string(),
            summary: summary.to_string(),
            delivery: delivery.into(),
            delivery_error,
            size: bytes.len() as i64,
            created_at: now,
            deliveries,
        };
        if !db::reports::insert(tx, ws, &r, &bytes).await? {
            return Ok(None);
        }
        if r.delivery == "pending" {
            let job = domain::Job::DeliverReport { report: r.id };
            tx.enqueue(self.ids.next(now, JobId::new), &job, now, now).await?;
        }
        tx.audit(
            now,
            domain::Actor::System,
            "report.render",
            "report",
            &r.id.to_string(),
            None,
            Some(&Snapshot(vec![
                ("schedule", s.id.to_string().into()),
                ("period_start", AuditValue::Int(from.millis())),
                ("filename", r.filename.as_str().into()),
            ])),
        )
        .await?;
        Ok(Some(r))
    }

    pub async fn reports(&self, s: &Supervisor) -> Result<Vec<Report>> {
        let mut c = self.db.read().await?;
        Ok(db::reports::list(&mut c, s.workspace, 200).await?)
    }

    pub async fn report_file(&self, s: &Supervisor, id: ReportId) -> Result<(Report, Vec<u8>)> {
        let mut c = self.db.read().await?;
        db::reports::file(&mut c, s.workspace, id).await?.or_not_found("report")
    }

    /// The `DeliverReport` job: mails the report to each recipient still pending (outside any
    /// transaction), then records every outcome; while some recipient failed temporarily the
    /// job fails too, so the queue retries it with backoff.
    pub(crate) async fn deliver_report_job(
        &self,
        worker: &str,
        c: &db::jobs::Claimed,
        id: ReportId,
        now: Timestamp,
    ) -> Result<()> {
        let ws = c.workspace;
        let (mut rep, bytes, settings, name) = {
            let mut r = self.db.read().await?;
            let Some((rep, bytes)) = db::reports::file(&mut r, ws, id).await? else {
                drop(r);
                return self.complete_job(worker, c, now).await;
            };
            let settings = match db::email::settings_get(&mut r, ws).await? {
                Some(row) => Some(crate::channels::email::parse_stored(&row.config)?),
                None => None,
            };
            let name = match rep.schedule {
                Some(s) => db::reports::get_schedule(&mut r, ws, s).await?.map(|s| s.name),
                None => None,
            };
            let name = name.unwrap_or_else(|| rep.filename.clone());
            (rep, bytes, settings, name)
        };
        let pending: Vec<usize> =
            (0..rep.deliveries.len()).filter(|&i| rep.deliveries[i].status == "pending").collect();
        if pending.is_empty() {
            return self.complete_job(worker, c, now).await;
        }
        let smtp = settings.as_ref().and_then(|s| Some((s, s.smtp_config()?)));
        let mut retry: Option<String> = None;
        match smtp {
            None => {
                for &i in &pending {
                    let d = &mut rep.deliveries[i];
                    d.status = "not_sent".into();
                    d.last_error = Some(NO_SMTP.into());
                    d.updated_at = now;
                }
            }
            Some((settings, smtp)) => {
                let file = mail::FileAttachment {
                    filename: rep.filename.clone(),
                    content_type: rep.content_type.clone(),
                    bytes,
                };
                let (subject, text) = mail_text(&rep, &name);
                for &i in &pending {
                    let to = rep.deliveries[i].recipient.clone();
                    let o = mail::Outbound {
                        from_address: settings.address.clone(),
                        from_name: settings.display_name.clone(),
                        to_address: to,
                        to_name: None,
                        subject: subject.clone(),
                        text: text.clone(),
                        message_id: mail::outbound::message_id_for(
                            &format!("{}.{i}", rep.id),
                            &settings.address,
                        ),
                        in_reply_to: None,
                        references: Vec::new(),
                    };
                    let sent = match mail::outbound::build_with_attachment(&o, &file) {
                        Ok((raw, envelope)) => mail::smtp::send(&smtp, &envelope, &raw)
                            .await
                            .map_err(|e| (e.permanent, e.to_string())),
                        Err(e) => Err((true, e.to_string())),
                    };
                    let at = self.now();
                    let d = &mut rep.deliveries[i];
                    d.attempts += 1;
                    d.updated_at = at;
                    match sent {
                        Ok(()) => {
                            d.status = "sent".into();
                            d.sent_at = Some(at);
                            d.last_error = None;
                        }
                        Err((permanent, e)) => {
                            d.last_error = Some(e.chars().take(500).collect());
                            if permanent || c.attempt >= domain::job::MAX_ATTEMPTS {
                                d.status = "failed".into();
                            } else {
                                retry = Some(format!("{}: {e}", d.recipient));
                            }
                        }
                    }
                }
            }
        }
        summarize(&mut rep);
        let mut tx = self.db.write(ws).await?;
        db::reports::record_delivery(&mut tx, ws, &rep).await?;
        if let Some(e) = retry {
            // The outcomes are recorded; the failure hands the job back to the queue's backoff.
            self.commit(tx).await?;
            return Err(Error::Internal(anyhow::anyhow!("report delivery will be retried: {e}")));
        }
        // The sends happened: their record is kept even if our claim was lost meanwhile.
        db::jobs::complete(&mut tx, c.id, worker, now).await?;
        self.commit(tx).await
    }

    async fn complete_job(
        &self,
        worker: &str,
        c: &db::jobs::Claimed,
        now: Timestamp,
    ) -> Result<()> {
        let mut tx = self.db.write(c.workspace).await?;
        if db::jobs::complete(&mut tx, c.id, worker, now).await? {
            self.commit(tx).await?;
        }
        Ok(())
    }
}

/// Why a report was not mailed to anyone.
const NO_SMTP: &str =
    "the workspace's email channel has no SMTP server configured (PUT /api/v1/channels/email)";

/// The report's overall delivery status from its recipients' statuses.
fn summarize(r: &mut Report) {
    let n = |st: &str| r.deliveries.iter().filter(|d| d.status == st).count();
    let (pending, sent, not_sent) = (n("pending"), n("sent"), n("not_sent"));
    let first_error = |st: &str| {
        r.deliveries
            .iter()
            .find(|d| d.status == st)
            .and_then(|d| d.last_error.as_ref().map(|e| format!("{}: {e}", d.recipient)))
    };
    let (delivery, error) = if r.deliveries.is_empty() {
        ("stored", None)
    } else if pending > 0 {
        ("pending", first_error("pending"))
    } else if sent == r.deliveries.len() {
        ("sent", None)
    } else if not_sent == r.deliveries.len() {
        ("not_sent", Some(NO_SMTP.to_string()))
    } else if sent > 0 {
        ("partial", first_error("failed").or_else(|| first_error("not_sent")))
    } else {
        ("failed", first_error("failed").or_else(|| first_error("not_sent")))
    };
    r.delivery = delivery.into();
    r.delivery_error = error;
}

/// A local (UTC+8) calendar day, `YYYY-MM-DD`.
fn local_day(t: Timestamp) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(t.millis()) * 1_000_000)
        .ok()
        .map(|d| {
            let d = d.to_offset(time::macros::offset!(+8)).date();
            format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
        })
        .unwrap_or_default()
}

/// The subject and text of a report's e-mail (zh-CN first, then English).
fn mail_text(r: &Report, name: &str) -> (String, String) {
    let (from, to) = (local_day(r.period_start), local_day(r.period_end.plus_millis(-1)));
    let (zh, en) = if r.period == "monthly" { ("月报", "monthly") } else { ("周报", "weekly") };
    let subject = format!("{name} {zh} {from} – {to} ({en} report)");
    let v: serde_json::Value = serde_json::from_str(&r.summary).unwrap_or_default();
    let f = |k: &str| v[k].as_f64().map_or_else(|| "-".to_string(), |x| format!("{x}"));
    let text = format!(
        "您好，附件是「{name}」{zh}（{from} 至 {to}，UTC+8）。\n\
         新建工单 {c}，已解决 {s}，已关闭 {cl}，期末积压 {b}，质检指数 {q}，告警 {a}。\n\n\
         Hello, attached is the {en} report \"{name}\" for {from} to {to} (UTC+8).\n\
         Tickets created {c}, solved {s}, closed {cl}, backlog at the end {b}, quality index {q}, \
         alerts {a}.\n\n— 慧听 Huiting\n",
        c = f("tickets_created"),
        s = f("tickets_solved"),
        cl = f("tickets_closed"),
        b = f("backlog_at_end"),
        q = f("quality_index"),
        a = f("alerts"),
    );
    (subject, text)
}
