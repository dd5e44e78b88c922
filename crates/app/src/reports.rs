//! Scheduled reports (AN-7). Managers define weekly or monthly schedules; each schedule's
//! `RenderReport` job runs at the start of the next period (Monday / the 1st, 00:00 UTC+8),
//! renders the period just ended — KPI summary, top problem codes, the period's alerts and the
//! quality index per agent — as CSV (UTF-8 with BOM) or XLSX, stores it (one per schedule and
//! period), and schedules the next run. Supervisors list and download the stored reports.
//!
//! Delivery: reports are stored and downloadable; e-mail delivery to the schedule's
//! recipients is not wired in (no outbound mail transport exists yet), so each report's
//! `delivery` is `stored`.

use anyhow::Context;
use domain::{
    JobId, ParseError, ReportId, ReportScheduleId, Timestamp,
    audit::{AuditValue, Snapshot},
};
use serde_json::json;
use workflow::alerts::{month_start, next_month_start, week_start};

pub use db::reports::{Report, Schedule};

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
            delivery: "stored".into(),
            size: bytes.len() as i64,
            created_at: now,
        };
        if !db::reports::insert(tx, ws, &r, &bytes).await? {
            return Ok(None);
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
}
