//! Alerts (AN-2, AN-5), quality inspection (AN-6) and scheduled reports (AN-7). Supervisors
//! (admin, cs_head, supervisor) read alerts, findings, the quality index and reports, and
//! acknowledge and resolve alerts; managers (admin, cs_head) change thresholds, rules and
//! schedules and run an evaluation, inspection or report by hand.

use app::{
    alerts::{Alert, AlertSettings},
    auth::{Manager, Supervisor},
    quality::{Finding, IndexRow},
    reports::{Report, Schedule, ScheduleInput},
};
use axum::{
    extract::{Path, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use domain::{AlertId, ConversationId, ReportId, ReportScheduleId, TeamId, Timestamp, UserId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use workflow::{alerts::AlertConfig, crisis::SurgeConfig, quality::QualityRules};

use crate::{
    AppState,
    dto::{opt_rfc3339, rfc3339},
    error::{ApiError, ApiResult},
    extract::{Cap, Json, Query},
    kb_dto::parse_instant,
    routes::{Errors, path_id},
};

use axum::Json as J;

fn instant(field: &'static str, v: Option<&str>) -> Result<Option<Timestamp>, ApiError> {
    v.map(|s| parse_instant(field, s)).transpose()
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AlertDto {
    pub id: String,
    /// negative_share, code_spike, fault_rate
    pub kind: String,
    /// The problem code (code_spike) or product (fault_rate); empty for negative_share.
    pub subject: String,
    pub window_start: String,
    pub window_end: String,
    /// The detector's figures (counts, shares, baseline).
    #[schema(value_type = Object)]
    pub figures: serde_json::Value,
    pub message: String,
    pub owner_id: Option<String>,
    /// open, acknowledged, resolved
    pub status: String,
    /// Raised + 2 h: unresolved by then, it is escalated.
    pub due_at: String,
    pub overdue: bool,
    pub escalated_at: Option<String>,
    pub acked_by: Option<String>,
    pub acked_at: Option<String>,
    pub resolved_by: Option<String>,
    pub resolved_at: Option<String>,
    pub resolution: Option<String>,
    pub created_at: String,
}

fn alert_dto(a: &Alert, now: Timestamp) -> AlertDto {
    AlertDto {
        id: a.id.to_string(),
        kind: a.kind.clone(),
        subject: a.subject.clone(),
        window_start: rfc3339(a.window_start),
        window_end: rfc3339(a.window_end),
        figures: serde_json::from_str(&a.figures).unwrap_or(serde_json::Value::Null),
        message: a.message.clone(),
        owner_id: a.owner.map(|u| u.to_string()),
        status: a.status.clone(),
        due_at: rfc3339(a.due_at),
        overdue: a.status != "resolved" && now >= a.due_at,
        escalated_at: opt_rfc3339(a.escalated_at),
        acked_by: a.acked_by.map(|u| u.to_string()),
        acked_at: opt_rfc3339(a.acked_at),
        resolved_by: a.resolved_by.map(|u| u.to_string()),
        resolved_at: opt_rfc3339(a.resolved_at),
        resolution: a.resolution.clone(),
        created_at: rfc3339(a.created_at),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct AlertQuery {
    /// open, acknowledged, resolved
    pub status: Option<String>,
    /// RFC 3339; raised at or after.
    pub from: Option<String>,
    /// RFC 3339; raised before.
    pub to: Option<String>,
}

/// Alerts, newest first.
#[utoipa::path(get, path = "/api/v1/alerts", tag = "alerts", params(AlertQuery), responses((status = 200, body = [AlertDto]), Errors))]
pub async fn list_alerts(
    State(s): State<AppState>,
    Cap(who): Cap<Supervisor>,
    Query(q): Query<AlertQuery>,
) -> ApiResult<J<Vec<AlertDto>>> {
    let from = instant("from", q.from.as_deref())?;
    let to = instant("to", q.to.as_deref())?;
    let now = s.app.now();
    let v = s.app.list_alerts(&who, q.status.as_deref(), from, to).await?;
    Ok(J(v.iter().map(|a| alert_dto(a, now)).collect()))
}

#[utoipa::path(get, path = "/api/v1/alerts/{id}", tag = "alerts", params(("id" = String, Path)), responses((status = 200, body = AlertDto), Errors))]
pub async fn get_alert(
    State(s): State<AppState>,
    Cap(who): Cap<Supervisor>,
    Path(id): Path<String>,
) -> ApiResult<J<AlertDto>> {
    let id = path_id(&id, AlertId::parse, "alert")?;
    Ok(J(alert_dto(&s.app.get_alert(&who, id).await?, s.app.now())))
}

/// Acknowledges an open alert (409 otherwise).
#[utoipa::path(post, path = "/api/v1/alerts/{id}/ack", tag = "alerts", params(("id" = String, Path)), responses((status = 200, body = AlertDto), Errors))]
pub async fn ack_alert(
    State(s): State<AppState>,
    Cap(who): Cap<Supervisor>,
    Path(id): Path<String>,
) -> ApiResult<J<AlertDto>> {
    let id = path_id(&id, AlertId::parse, "alert")?;
    Ok(J(alert_dto(&s.app.ack_alert(&who, id).await?, s.app.now())))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveAlertRequest {
    /// What was done.
    #[serde(default)]
    pub resolution: Option<String>,
}

/// Resolves an open or acknowledged alert (409 when already resolved).
#[utoipa::path(post, path = "/api/v1/alerts/{id}/resolve", tag = "alerts", params(("id" = String, Path)),
    request_body = ResolveAlertRequest, responses((status = 200, body = AlertDto), Errors))]
pub async fn resolve_alert(
    State(s): State<AppState>,
    Cap(who): Cap<Supervisor>,
    Path(id): Path<String>,
    Json(r): Json<ResolveAlertRequest>,
) -> ApiResult<J<AlertDto>> {
    let id = path_id(&id, AlertId::parse, "alert")?;
    Ok(J(alert_dto(&s.app.resolve_alert(&who, id, r.resolution).await?, s.app.now())))
}

/// Runs the detectors now; returns the alerts newly raised (an alert already raised for its
/// window is not raised again).
#[utoipa::path(post, path = "/api/v1/alerts/evaluate", tag = "alerts", responses((status = 200, body = [AlertDto]), Errors))]
pub async fn evaluate_alerts(
    State(s): State<AppState>,
    Cap(who): Cap<Manager>,
) -> ApiResult<J<Vec<AlertDto>>> {
    let now = s.app.now();
    Ok(J(s.app.evaluate_alerts_now(&who).await?.iter().map(|a| alert_dto(a, now)).collect()))
}

/// Alert thresholds. Every field is optional on PUT (absent keeps the default).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertSettingsDto {
    /// Weekly negative share strictly above this raises an alert (default 0.2).
    pub negative_share_threshold: Option<f64>,
    /// Fewest classified messages/feedback in the week before judging (default 20).
    pub min_signals: Option<u32>,
    /// Days of baseline for the problem-code spike (default 14).
    pub spike_baseline_days: Option<u32>,
    /// Fewest tickets of a code today for a spike (default 5).
    pub spike_min_count: Option<u32>,
    /// Standard deviations above the baseline mean (default 3).
    pub spike_z: Option<f64>,
    /// Multiple of the baseline mean (default 2).
    pub spike_ratio: Option<f64>,
    /// Week-on-week rise of a product's fault rate, in rate units (default 0.05 = 5 points).
    pub fault_rate_rise: Option<f64>,
    /// Fewest mentions of a product in each week (default 10).
    pub min_mentions: Option<u32>,
    /// Owner of new alerts (an admin, cs_head or supervisor); null: the first cs_head.
    pub owner_id: Option<String>,
}

fn settings_dto(a: &AlertSettings) -> AlertSettingsDto {
    let c = a.config;
    AlertSettingsDto {
        negative_share_threshold: Some(c.negative_share),
        min_signals: Some(c.min_signals),
        spike_baseline_days: Some(c.spike.baseline_windows),
        spike_min_count: Some(c.spike.min_count),
        spike_z: Some(c.spike.z),
        spike_ratio: Some(c.spike.ratio),
        fault_rate_rise: Some(c.fault_rise),
        min_mentions: Some(c.min_mentions),
        owner_id: a.owner.map(|u| u.to_string()),
    }
}

#[utoipa::path(get, path = "/api/v1/alerts/settings", tag = "alerts", responses((status = 200, body = AlertSettingsDto), Errors))]
pub async fn get_alert_settings(
    State(s): State<AppState>,
    Cap(who): Cap<Supervisor>,
) -> ApiResult<J<AlertSettingsDto>> {
    Ok(J(settings_dto(&s.app.alert_settings(&who).await?)))
}

/// Replaces the thresholds and owner; schedules the hourly evaluation.
#[utoipa::path(put, path = "/api/v1/alerts/settings", tag = "alerts", request_body = AlertSettingsDto, responses((status = 200, body = AlertSettingsDto), Errors))]
pub async fn put_alert_settings(
    State(s): State<AppState>,
    Cap(who): Cap<Manager>,
    Json(r): Json<AlertSettingsDto>,
) -> ApiResult<J<AlertSettingsDto>> {
    let d = AlertConfig::default();
    let config = AlertConfig {
        negative_share: r.negative_share_threshold.unwrap_or(d.negative_share),
        min_signals: r.min_signals.unwrap_or(d.min_signals),
        spike: SurgeConfig {
            baseline_windows: r.spike_baseline_days.unwrap_or(d.spike.baseline_windows),
            min_count: r.spike_min_count.unwrap_or(d.spike.min_count),
            z: r.spike_z.unwrap_or(d.spike.z),
            ratio: r.spike_ratio.unwrap_or(d.spike.ratio),
            ..d.spike
        },
        fault_rise: r.fault_rate_rise.unwrap_or(d.fault_rise),
        min_mentions: r.min_mentions.unwrap_or(d.min_mentions),
    };
    let owner = r.owner_id.as_deref().map(UserId::parse).transpose()?;
    Ok(J(settings_dto(&s.app.put_alert_settings(&who, AlertSettings { config, owner }).await?)))
}

// ---- Quality inspection (AN-6) ----

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QualityRulesDto {
    /// The agent's first reply must contain one of these.
    pub greetings: Vec<String>,
    /// The last agent reply of a resolved conversation must contain one of these.
    pub closings: Vec<String>,
    /// No agent message may contain any of these.
    pub forbidden: Vec<String>,
    /// Words that make an amount a promise (赔, 退款, refund…); empty: any amount.
    pub promise_words: Vec<String>,
    /// A reply later than this after the customer's first waiting message is slow; 0: off.
    pub slow_reply_secs: i64,
}

fn rules_dto(r: QualityRules) -> QualityRulesDto {
    QualityRulesDto {
        greetings: r.greetings,
        closings: r.closings,
        forbidden: r.forbidden,
        promise_words: r.promise_words,
        slow_reply_secs: r.slow_reply_secs,
    }
}

#[utoipa::path(get, path = "/api/v1/quality/rules", tag = "quality", responses((status = 200, body = QualityRulesDto), Errors))]
pub async fn get_quality_rules(
    State(s): State<AppState>,
    Cap(who): Cap<Supervisor>,
) -> ApiResult<J<QualityRulesDto>> {
    Ok(J(rules_dto(s.app.quality_rules(&who).await?)))
}

/// Replaces the rules; schedules an inspection of the last 30 days under them.
#[utoipa::path(put, path = "/api/v1/quality/rules", tag = "quality", request_body = QualityRulesDto, responses((status = 200, body = QualityRulesDto), Errors))]
pub async fn put_quality_rules(
    State(s): State<AppState>,
    Cap(who): Cap<Manager>,
    Json(r): Json<QualityRulesDto>,
) -> ApiResult<J<QualityRulesDto>> {
    let rules = QualityRules {
        greetings: r.greetings,
        closings: r.closings,
        forbidden: r.forbidden,
        promise_words: r.promise_words,
        slow_reply_secs: r.slow_reply_secs,
    };
    Ok(J(rules_dto(s.app.put_quality_rules(&who, rules).await?)))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct InspectQuery {
    /// Conversations with messages in the last this many days (1–90, default 1).
    pub days: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InspectedDto {
    pub conversations: usize,
}

/// Inspects now (the daily job does this on its own).
#[utoipa::path(post, path = "/api/v1/quality/inspect", tag = "quality", params(InspectQuery), responses((status = 200, body = InspectedDto), Errors))]
pub async fn inspect_quality(
    State(s): State<AppState>,
    Cap(who): Cap<Manager>,
    Query(q): Query<InspectQuery>,
) -> ApiResult<J<InspectedDto>> {
    Ok(J(InspectedDto {
        conversations: s.app.inspect_quality_now(&who, q.days.unwrap_or(1)).await?,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FindingDto {
    pub id: String,
    pub conversation_id: String,
    pub message_id: Option<String>,
    pub agent_id: String,
    /// missing_greeting, missing_closing, forbidden_phrase, beyond_authority, slow_reply
    pub kind: String,
    pub detail: String,
    pub at: String,
}

fn finding_dto(f: &Finding) -> FindingDto {
    FindingDto {
        id: f.id.clone(),
        conversation_id: f.conversation.to_string(),
        message_id: f.message.map(|m| m.to_string()),
        agent_id: f.agent.to_string(),
        kind: f.kind.clone(),
        detail: f.detail.clone(),
        at: rfc3339(f.at),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct FindingQuery {
    /// RFC 3339 (default: 7 days ago).
    pub from: Option<String>,
    /// RFC 3339 (default: now).
    pub to: Option<String>,
    pub agent_id: Option<String>,
    pub conversation_id: Option<String>,
}

/// Failed checks, newest first.
#[utoipa::path(get, path = "/api/v1/quality/findings", tag = "quality", params(FindingQuery), responses((status = 200, body = [FindingDto]), Errors))]
pub async fn quality_findings(
    State(s): State<AppState>,
    Cap(who): Cap<Supervisor>,
    Query(q): Query<FindingQuery>,
) -> ApiResult<J<Vec<FindingDto>>> {
    let now = s.app.now();
    let from = instant("from", q.from.as_deref())?.unwrap_or(now.plus_days(-7));
    let to = instant("to", q.to.as_deref())?.unwrap_or(now.plus_millis(1));
    let agent = q.agent_id.as_deref().map(UserId::parse).transpose()?;
    let conv = q.conversation_id.as_deref().map(ConversationId::parse).transpose()?;
    let v = s.app.quality_findings(&who, from, to, agent, conv).await?;
    Ok(J(v.iter().map(finding_dto).collect()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IndexRowDto {
    /// The day's start, 00:00 UTC+8.
    pub day: String,
    /// Absent on the day's total row (the team's, or the workspace's).
    pub agent_id: Option<String>,
    pub checks: i64,
    pub passed: i64,
    /// 100 × passed ÷ checks.
    pub index: f64,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct IndexQuery {
    /// RFC 3339 (default: 7 days ago); cut to its day.
    pub from: Option<String>,
    /// RFC 3339 (default: now).
    pub to: Option<String>,
    /// Only this team's members; the total rows are the team's index.
    pub team: Option<String>,
}

/// The daily quality index per agent, then per day for the team (or workspace).
#[utoipa::path(get, path = "/api/v1/quality/index", tag = "quality", params(IndexQuery), responses((status = 200, body = [IndexRowDto]), Errors))]
pub async fn quality_index(
    State(s): State<AppState>,
    Cap(who): Cap<Supervisor>,
    Query(q): Query<IndexQuery>,
) -> ApiResult<J<Vec<IndexRowDto>>> {
    let now = s.app.now();
    let from = instant("from", q.from.as_deref())?.unwrap_or(now.plus_days(-7));
    let to = instant("to", q.to.as_deref())?.unwrap_or(now.plus_millis(1));
    let team = match q.team.as_deref() {
        Some(t) => Some(path_id(t, TeamId::parse, "team")?),
        None => None,
    };
    let rows: Vec<IndexRow> = s.app.quality_index(&who, from, to, team).await?;
    Ok(J(rows
        .iter()
        .map(|r| IndexRowDto {
            day: rfc3339(r.day),
            agent_id: r.agent.map(|u| u.to_string()),
            checks: r.checks,
            passed: r.passed,
            index: r.index,
        })
        .collect()))
}

// ---- Scheduled reports (AN-7) ----

#[derive(Debug, Serialize, ToSchema)]
pub struct ScheduleDto {
    pub id: String,
    pub name: String,
    /// weekly, monthly
    pub period: String,
    /// csv, xlsx
    pub format: String,
    pub recipients: Vec<String>,
    pub active: bool,
    pub next_run_at: String,
    pub created_at: String,
    pub updated_at: String,
}

fn schedule_dto(s: &Schedule) -> ScheduleDto {
    ScheduleDto {
        id: s.id.to_string(),
        name: s.name.clone(),
        period: s.period.clone(),
        format: s.format.clone(),
        recipients: s.recipients.clone(),
        active: s.active,
        next_run_at: rfc3339(s.next_run_at),
        created_at: rfc3339(s.created_at),
        updated_at: rfc3339(s.updated_at),
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleRequest {
    pub name: String,
    /// weekly (runs Monday 00:00 UTC+8 for the week before) or monthly (the 1st, for the
    /// month before).
    pub period: String,
    /// csv (default) or xlsx
    #[serde(default)]
    pub format: Option<String>,
    /// E-mail addresses each rendered report is mailed to (as an attachment, through the SMTP
    /// server of the workspace's email channel); at most 50.
    #[serde(default)]
    pub recipients: Vec<String>,
    #[serde(default)]
    pub active: Option<bool>,
}

fn schedule_input(r: ScheduleRequest) -> ScheduleInput {
    ScheduleInput {
        name: r.name,
        period: r.period,
        format: r.format.unwrap_or_else(|| "csv".into()),
        recipients: r.recipients,
        active: r.active.unwrap_or(true),
    }
}

#[utoipa::path(get, path = "/api/v1/reports/schedules", tag = "reports", responses((status = 200, body = [ScheduleDto]), Errors))]
pub async fn list_schedules(
    State(s): State<AppState>,
    Cap(who): Cap<Supervisor>,
) -> ApiResult<J<Vec<ScheduleDto>>> {
    Ok(J(s.app.report_schedules(&who).await?.iter().map(schedule_dto).collect()))
}

#[utoipa::path(post, path = "/api/v1/reports/schedules", tag = "reports", request_body = ScheduleRequest, responses((status = 201, body = ScheduleDto), Errors))]
pub async fn create_schedule(
    State(s): State<AppState>,
    Cap(who): Cap<Manager>,
    Json(r): Json<ScheduleRequest>,
) -> ApiResult<(StatusCode, J<ScheduleDto>)> {
    let sc = s.app.put_report_schedule(&who, None, schedule_input(r)).await?;
    Ok((StatusCode::CREATED, J(schedule_dto(&sc))))
}

#[utoipa::path(put, path = "/api/v1/reports/schedules/{id}", tag = "reports", params(("id" = String, Path)),
    request_body = ScheduleRequest, responses((status = 200, body = ScheduleDto), Errors))]
pub async fn update_schedule(
    State(s): State<AppState>,
    Cap(who): Cap<Manager>,
    Path(id): Path<String>,
    Json(r): Json<ScheduleRequest>,
) -> ApiResult<J<ScheduleDto>> {
    let id = path_id(&id, ReportScheduleId::parse, "report schedule")?;
    Ok(J(schedule_dto(&s.app.put_report_schedule(&who, Some(id), schedule_input(r)).await?)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReportDto {
    pub id: String,
    pub schedule_id: Option<String>,
    pub period: String,
    pub period_start: String,
    pub period_end: String,
    pub format: String,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    /// KPI summary, top problem codes, alert count and quality index.
    #[schema(value_type = Object)]
    pub summary: serde_json::Value,
    /// stored (no recipients), pending (being sent or waiting for a retry), sent, partial
    /// (some recipients failed), failed, not_sent (no SMTP server configured)
    pub delivery: String,
    /// Why nothing, or not everything, was sent (the first failing recipient's error).
    pub delivery_error: Option<String>,
    /// One entry per recipient.
    pub deliveries: Vec<ReportDeliveryDto>,
    pub created_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReportDeliveryDto {
    pub recipient: String,
    /// pending (also while waiting for a retry), sent, failed, not_sent
    pub status: String,
    /// Send attempts so far.
    pub attempts: i64,
    pub last_error: Option<String>,
    pub sent_at: Option<String>,
    pub updated_at: String,
}

fn report_dto(r: &Report) -> ReportDto {
    ReportDto {
        id: r.id.to_string(),
        schedule_id: r.schedule.map(|s| s.to_string()),
        period: r.period.clone(),
        period_start: rfc3339(r.period_start),
        period_end: rfc3339(r.period_end),
        format: r.format.clone(),
        filename: r.filename.clone(),
        content_type: r.content_type.clone(),
        size: r.size,
        summary: serde_json::from_str(&r.summary).unwrap_or(serde_json::Value::Null),
        delivery: r.delivery.clone(),
        delivery_error: r.delivery_error.clone(),
        deliveries: r
            .deliveries
            .iter()
            .map(|d| ReportDeliveryDto {
                recipient: d.recipient.clone(),
                status: d.status.clone(),
                attempts: d.attempts,
                last_error: d.last_error.clone(),
                sent_at: d.sent_at.map(rfc3339),
                updated_at: rfc3339(d.updated_at),
            })
            .collect(),
        created_at: rfc3339(r.created_at),
    }
}

/// Renders the schedule's report for the last complete period now (409 if it exists).
#[utoipa::path(post, path = "/api/v1/reports/schedules/{id}/run", tag = "reports", params(("id" = String, Path)),
    responses((status = 201, body = ReportDto), Errors))]
pub async fn run_schedule(
    State(s): State<AppState>,
    Cap(who): Cap<Manager>,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, J<ReportDto>)> {
    let id = path_id(&id, ReportScheduleId::parse, "report schedule")?;
    Ok((StatusCode::CREATED, J(report_dto(&s.app.run_report_now(&who, id).await?))))
}

/// Stored reports, newest first.
#[utoipa::path(get, path = "/api/v1/reports", tag = "reports", responses((status = 200, body = [ReportDto]), Errors))]
pub async fn list_reports(
    State(s): State<AppState>,
    Cap(who): Cap<Supervisor>,
) -> ApiResult<J<Vec<ReportDto>>> {
    Ok(J(s.app.reports(&who).await?.iter().map(report_dto).collect()))
}

/// The report file (CSV or XLSX) as an attachment.
#[utoipa::path(get, path = "/api/v1/reports/{id}/download", tag = "reports", params(("id" = String, Path)),
    responses((status = 200, content_type = "text/csv", body = Vec<u8>), Errors))]
pub async fn download_report(
    State(s): State<AppState>,
    Cap(who): Cap<Supervisor>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let id = path_id(&id, ReportId::parse, "report")?;
    let (r, bytes) = s.app.report_file(&who, id).await?;
    Ok((
        [
            (header::CONTENT_TYPE, r.content_type.clone()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{}\"", r.filename)),
        ],
        bytes,
    )
        .into_response())
}
