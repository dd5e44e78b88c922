//! The durable job queue: rows enqueued inside a [`crate::WriteTx`], claimed with a lease
//! (`FOR UPDATE SKIP LOCKED` on PostgreSQL; the single writer on SQLite), finished in the same
//! transaction as their effect, retried with backoff.

use anyhow::{Context, anyhow};
use domain::{Job, JobId, NluModelId, TicketId, Timestamp, WorkspaceId, job};
use serde_json::{Value, json};
use sqlx::{AnyConnection, any::AnyRow};

use crate::{Db, Dialect, Result, int, parse_col, text};

fn payload(j: &Job) -> String {
    match j {
        Job::CloseSolvedTicket { ticket, solved_at } => {
            json!({"ticket": ticket.to_string(), "solved_at": solved_at.millis()}).to_string()
        }
        Job::TrainNluModel { model } => json!({"model": model.to_string()}).to_string(),
        Job::CompensationReportDue { compensation, due_at } => {
            json!({"compensation": compensation.to_string(), "due_at": due_at.millis()}).to_string()
        }
        Job::CollaborationDue { collaboration, due_at } => {
            json!({"collaboration": collaboration.to_string(), "due_at": due_at.millis()})
                .to_string()
        }
        Job::RunAutomations => "{}".to_string(),
        Job::SlaTimer { ticket, due } => {
            json!({"ticket": ticket.to_string(), "due": due.millis()}).to_string()
        }
        Job::TimerProbe { probe, due } => json!({"probe": probe, "due": due.millis()}).to_string(),
        Job::BotNoPickup { conversation, handed_off_at } => json!({
            "conversation": conversation.to_string(),
            "handed_off_at": handed_off_at.millis()
        })
        .to_string(),
        Job::ClusterKbCandidates => "{}".to_string(),
        Job::RouteOverflow { ticket, team } => {
            json!({"ticket": ticket.to_string(), "team": team.to_string()}).to_string()
        }
        Job::DeliverWebhook { delivery } => json!({"delivery": delivery.to_string()}).to_string(),
        Job::SendOutbound { outbound } => json!({"outbound": outbound.to_string()}).to_string(),
        Job::SendEmail { message } => json!({"message": message.to_string()}).to_string(),
        Job::EvaluateAlerts => "{}".to_string(),
        Job::EvaluateProactive => "{}".to_string(),
        Job::SendProactive { send } => json!({"send": send.to_string()}).to_string(),
        Job::AlertDue { alert, due_at } => {
            json!({"alert": alert.to_string(), "due_at": due_at.millis()}).to_string()
        }
        Job::InspectQuality { since } => json!({"since": since.millis()}).to_string(),
        Job::RenderReport { schedule, due } => {
            json!({"schedule": schedule.to_string(), "due": due.millis()}).to_string()
        }
        Job::DeliverReport { report } => json!({"report": report.to_string()}).to_string(),
        Job::SurveySend { survey }
        | Job::SurveyRemind { survey }
        | Job::SurveyExpire { survey } => json!({"survey": survey.to_string()}).to_string(),
        Job::ClassifyMessages { messages } => {
            let ids: Vec<String> = messages.iter().map(ToString::to_string).collect();
            json!({"messages": ids}).to_string()
        }
        Job::SignalDeadline { signal } | Job::ComplaintAssignCheck { signal } => {
            json!({"signal": signal.to_string()}).to_string()
        }
        Job::ApplyRetention => "{}".to_string(),
        Job::IndexSimilarTicket { ticket } => json!({"ticket": ticket.to_string()}).to_string(),
    }
}

fn decode(kind: &str, payload: &str) -> Result<Job> {
    let v: Value = serde_json::from_str(payload)
        .with_context(|| format!("job payload is not JSON: {payload:?}"))?;
    match kind {
        "close_solved_ticket" => Ok(Job::CloseSolvedTicket {
            ticket: TicketId::parse(v["ticket"].as_str().unwrap_or_default())
                .map_err(|e| anyhow!("{e}"))?,
            solved_at: Timestamp::from_millis(v["solved_at"].as_i64().unwrap_or_default()),
        }),
        "train_nlu_model" => Ok(Job::TrainNluModel {
            model: NluModelId::parse(v["model"].as_str().unwrap_or_default())
                .map_err(|e| anyhow!("{e}"))?,
        }),
        "compensation_report_due" => Ok(Job::CompensationReportDue {
            compensation: domain::CompensationId::parse(
                v["compensation"].as_str().unwrap_or_default(),
            )
            .map_err(|e| anyhow!("{e}"))?,
            due_at: Timestamp::from_millis(v["due_at"].as_i64().unwrap_or_default()),
        }),
        "collaboration_due" => Ok(Job::CollaborationDue {
            collaboration: domain::CollaborationId::parse(
                v["collaboration"].as_str().unwrap_or_default(),
            )
            .map_err(|e| anyhow!("{e}"))?,
            due_at: Timestamp::from_millis(v["due_at"].as_i64().unwrap_or_default()),
        }),
        "run_automations" => Ok(Job::RunAutomations),
        "sla_timer" => Ok(Job::SlaTimer {
            ticket: TicketId::parse(v["ticket"].as_str().unwrap_or_default())
                .map_err(|e| anyhow!("{e}"))?,
            due: Timestamp::from_millis(v["due"].as_i64().unwrap_or_default()),
        }),
        "timer_probe" => Ok(Job::TimerProbe {
            probe: v["probe"].as_i64().unwrap_or_default(),
            due: Timestamp::from_millis(v["due"].as_i64().unwrap_or_default()),
        }),
        "bot_no_pickup" => Ok(Job::BotNoPickup {
            conversation: domain::ConversationId::parse(
                v["conversation"].as_str().unwrap_or_default(),
            )
            .map_err(|e| anyhow!("{e}"))?,
            handed_off_at: Timestamp::from_millis(v["handed_off_at"].as_i64().unwrap_or_default()),
        }),
        "cluster_kb_candidates" => Ok(Job::ClusterKbCandidates),
        "route_overflow" => Ok(Job::RouteOverflow {
            ticket: TicketId::parse(v["ticket"].as_str().unwrap_or_default())
                .map_err(|e| anyhow!("{e}"))?,
            team: domain::TeamId::parse(v["team"].as_str().unwrap_or_default())
                .map_err(|e| anyhow!("{e}"))?,
        }),
        "deliver_webhook" => Ok(Job::DeliverWebhook {
            delivery: domain::DeliveryId::parse(v["delivery"].as_str().unwrap_or_default())
                .map_err(|e| anyhow!("{e}"))?,
        }),
        "send_outbound" => Ok(Job::SendOutbound {
            outbound: domain::OutboundId::parse(v["outbound"].as_str().unwrap_or_default())
                .map_err(|e| anyhow!("{e}"))?,
        }),
        "send_email" => Ok(Job::SendEmail {
            message: domain::MessageId::parse(v["message"].as_str().unwrap_or_default())
                .map_err(|e| anyhow!("{e}"))?,
        }),
        "evaluate_alerts" => Ok(Job::EvaluateAlerts),
        "evaluate_proactive" => Ok(Job::EvaluateProactive),
        "send_proactive" => Ok(Job::SendProactive {
            send: domain::ProactiveSendId::parse(v["send"].as_str().unwrap_or_default())
                .map_err(|e| anyhow!("{e}"))?,
        }),
        "alert_due" => Ok(Job::AlertDue {
            alert: domain::AlertId::parse(v["alert"].as_str().unwrap_or_default())
                .map_err(|e| anyhow!("{e}"))?,
            due_at: Timestamp::from_millis(v["due_at"].as_i64().unwrap_or_default()),
        }),
        "inspect_quality" => Ok(Job::InspectQuality {
            since: Timestamp::from_millis(v["since"].as_i64().unwrap_or_default()),
        }),
        "render_report" => Ok(Job::RenderReport {
            schedule: domain::ReportScheduleId::parse(v["schedule"].as_str().unwrap_or_default())
                .map_err(|e| anyhow!("{e}"))?,
            due: Timestamp::from_millis(v["due"].as_i64().unwrap_or_default()),
        }),
        "deliver_report" => Ok(Job::DeliverReport {
            report: domain::ReportId::parse(v["report"].as_str().unwrap_or_default())
                .map_err(|e| anyhow!("{e}"))?,
        }),
        "survey_send" | "survey_remind" | "survey_expire" => {
            let survey = domain::SurveyId::parse(v["survey"].as_str().unwrap_or_default())
                .map_err(|e| anyhow!("{e}"))?;
            Ok(match kind {
                "survey_send" => Job::SurveySend { survey },
                "survey_remind" => Job::SurveyRemind { survey },
                _ => Job::SurveyExpire { survey },
            })
        }
        "classify_messages" => Ok(Job::ClassifyMessages {
            messages: v["messages"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default()
                .iter()
                .map(|m| domain::MessageId::parse(m.as_str().unwrap_or_default()))
                .collect::<Result<_, _>>()
                .map_err(|e| anyhow!("{e}"))?,
        }),
        "signal_deadline" | "complaint_assign_check" => {
            let signal = domain::SignalId::parse(v["signal"].as_str().unwrap_or_default())
                .map_err(|e| anyhow!("{e}"))?;
            Ok(if kind == "signal_deadline" {
                Job::SignalDeadline { signal }
            } else {
                Job::ComplaintAssignCheck { signal }
            })
        }
        "apply_retention" => Ok(Job::ApplyRetention),
        "index_similar_ticket" => Ok(Job::IndexSimilarTicket {
            ticket: TicketId::parse(v["ticket"].as_str().unwrap_or_default())
                .map_err(|e| anyhow!("{e}"))?,
        }),
        other => anyhow::bail!("unknown job kind {other:?}"),
    }
}

pub(crate) async fn insert(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    id: JobId,
    j: &Job,
    run_at: Timestamp,
    now: Timestamp,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO jobs (id, workspace_id, kind, payload, run_at, state, attempts, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6, $6)",
    )
    .bind(id.to_string())
    .bind(ws.to_string())
    .bind(j.name())
    .bind(payload(j))
    .bind(run_at.millis())
    .bind(now.millis())
    .execute(c)
    .await
    .context("enqueueing a job")?;
    Ok(())
}

pub(crate) async fn insert_many(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    jobs: &[(JobId, Job, Timestamp)],
    now: Timestamp,
) -> Result<()> {
    if jobs.is_empty() {
        return Ok(());
    }
    let mut b = crate::Binds::default();
    let rows: Vec<String> = jobs
        .iter()
        .map(|(id, j, run_at)| {
            format!(
                "({}, {}, {}, {}, {}, 'pending', 0, {}, {})",
                b.text(id.to_string()),
                b.text(ws.to_string()),
                b.text(j.name()),
                b.text(payload(j)),
                b.int(run_at.millis()),
                b.int(now.millis()),
                b.int(now.millis())
            )
        })
        .collect();
    let sql = format!(
        "INSERT INTO jobs (id, workspace_id, kind, payload, run_at, state, attempts, created_at, updated_at) VALUES {}",
        rows.join(", ")
    );
    let dialect = crate::Dialect::of(c);
    b.query_in(dialect, sql).execute(c).await.context("enqueueing jobs")?;
    Ok(())
}

/// A job claimed by one worker until its lease runs out.
#[derive(Debug, Clone, PartialEq)]
pub struct Claimed {
    pub id: JobId,
    pub workspace: WorkspaceId,
    pub job: Job,
    /// 1 on the first run.
    pub attempt: i64,
}

fn claimed(r: &AnyRow) -> Result<Claimed> {
    Ok(Claimed {
        id: parse_col(r, "id", JobId::parse)?,
        workspace: parse_col(r, "workspace_id", WorkspaceId::parse)?,
        job: decode(&text(r, "kind")?, &text(r, "payload")?)?,
        attempt: int(r, "attempts")?,
    })
}

/// Claims up to `limit` due jobs for `worker`, hiding them from others for the lease.
pub async fn claim(db: &Db, worker: &str, now: Timestamp, limit: i64) -> Result<Vec<Claimed>> {
    let lock = match db.dialect() {
        Dialect::Postgres => "FOR UPDATE SKIP LOCKED",
        Dialect::Sqlite => "",
    };
    let sql = format!(
        "UPDATE jobs SET locked_until = $2, locked_by = $3, attempts = attempts + 1, updated_at = $1
         WHERE id IN (
            SELECT id FROM jobs WHERE state = 'pending' AND run_at <= $1
              AND (locked_until IS NULL OR locked_until < $1)
            ORDER BY run_at LIMIT $4 {lock})
         RETURNING id, workspace_id, kind, payload, attempts"
    );
    let mut c = db.bookkeeping().await?;
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(now.millis())
        .bind(now.millis() + job::CLAIM_LEASE_MILLIS)
        .bind(worker)
        .bind(limit.clamp(1, 100))
        .fetch_all(&mut *c)
        .await
        .context("claiming jobs")?;
    rows.iter().map(claimed).collect()
}

/// Gives back a claim this worker has not started (shutdown): the job is due again at once
/// for any worker, and the claim does not count as an attempt.
pub async fn release(db: &Db, id: JobId, worker: &str, now: Timestamp) -> Result<bool> {
    let mut c = db.bookkeeping().await?;
    let r = sqlx::query(
        "UPDATE jobs SET locked_until = NULL, locked_by = NULL, attempts = attempts - 1, updated_at = $3
         WHERE id = $1 AND locked_by = $2 AND state = 'pending'",
    )
    .bind(id.to_string())
    .bind(worker)
    .bind(now.millis())
    .execute(&mut *c)
    .await
    .context("releasing a job claim")?;
    Ok(r.rows_affected() == 1)
}

/// Extends a claim this worker still holds until `until`; false if the claim was lost.
pub async fn extend_lease(db: &Db, id: JobId, worker: &str, until: Timestamp) -> Result<bool> {
    let mut c = db.bookkeeping().await?;
    let r = sqlx::query(
        "UPDATE jobs SET locked_until = $3 WHERE id = $1 AND locked_by = $2 AND state = 'pending'",
    )
    .bind(id.to_string())
    .bind(worker)
    .bind(until.millis())
    .execute(&mut *c)
    .await
    .context("extending a job lease")?;
    Ok(r.rows_affected() == 1)
}

/// Marks a job done; call inside the transaction that applied its effect, so the effect and
/// the completion commit together (exactly once). Returns false if the lease was lost.
pub async fn complete(
    c: &mut AnyConnection,
    id: JobId,
    worker: &str,
    now: Timestamp,
) -> Result<bool> {
    let r = sqlx::query(
        "UPDATE jobs SET state = 'done', locked_until = NULL, updated_at = $3 WHERE id = $1 AND locked_by = $2 AND state = 'pending'",
    )
    .bind(id.to_string())
    .bind(worker)
    .bind(now.millis())
    .execute(c)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Records a failure: retry after backoff, or give up after the last attempt.
pub async fn fail(db: &Db, c: &Claimed, error: &str, now: Timestamp) -> Result<()> {
    let (state, run_at) = if c.attempt >= job::MAX_ATTEMPTS {
        ("failed", now)
    } else {
        ("pending", now.plus_millis(job::backoff_millis(c.attempt)))
    };
    let mut conn = db.bookkeeping().await?;
    sqlx::query(
        "UPDATE jobs SET state = $2, run_at = $3, locked_until = NULL, last_error = $4, updated_at = $5 WHERE id = $1",
    )
    .bind(c.id.to_string())
    .bind(state)
    .bind(run_at.millis())
    .bind(error.chars().take(2000).collect::<String>())
    .bind(now.millis())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Whether the workspace has a job of `kind` waiting to run.
pub async fn pending(c: &mut AnyConnection, ws: WorkspaceId, kind: &str) -> Result<bool> {
    let r = sqlx::query(
        "SELECT id FROM jobs WHERE workspace_id = $1 AND kind = $2 AND state = 'pending' LIMIT 1",
    )
    .bind(ws.to_string())
    .bind(kind)
    .fetch_optional(c)
    .await?;
    Ok(r.is_some())
}

/// Whether this exact job (kind and payload) is waiting to run or running in the workspace
/// (a claimed job stays `pending` until it completes or fails).
pub async fn is_pending(c: &mut AnyConnection, ws: WorkspaceId, j: &Job) -> Result<bool> {
    let r = sqlx::query(
        "SELECT id FROM jobs WHERE workspace_id = $1 AND kind = $2 AND payload = $3 AND state = 'pending' LIMIT 1",
    )
    .bind(ws.to_string())
    .bind(j.name())
    .bind(payload(j))
    .fetch_optional(c)
    .await?;
    Ok(r.is_some())
}

/// When the earliest pending job not claimed by a live worker falls due (possibly already
/// past), if any: the worker sleeps until then. One index probe on `(state, run_at)`.
pub async fn next_due(db: &Db, now: Timestamp) -> Result<Option<Timestamp>> {
    let mut c = db.read().await?;
    let r = sqlx::query(
        "SELECT run_at FROM jobs WHERE state = 'pending' AND (locked_until IS NULL OR locked_until < $1)
         ORDER BY run_at LIMIT 1",
    )
    .bind(now.millis())
    .fetch_optional(&mut *c)
    .await
    .context("finding the next due job")?;
    r.map(|r| crate::ts(&r, "run_at")).transpose()
}

/// Jobs of `kind` not yet done, for benchmarks and checks.
pub async fn count_pending(db: &Db, kind: &str) -> Result<i64> {
    let mut c = db.read().await?;
    let r = sqlx::query("SELECT COUNT(*) AS n FROM jobs WHERE kind = $1 AND state = 'pending'")
        .bind(kind)
        .fetch_one(&mut *c)
        .await
        .context("counting pending jobs")?;
    int(&r, "n")
}

/// Withdraws a pending job that a later change superseded (inside that change's transaction).
pub async fn withdraw(c: &mut AnyConnection, id: JobId) -> Result<()> {
    sqlx::query("DELETE FROM jobs WHERE id = $1 AND state = 'pending'")
        .bind(id.to_string())
        .execute(c)
        .await
        .context("withdrawing a job")?;
    Ok(())
}
