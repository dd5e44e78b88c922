//! SLA: the workspace's policies and business calendars (read by staff, replaced by admin and
//! cs_head), a ticket's clocks, and the caller's escalation notifications. The SLA wire types
//! live here beside their only handlers, converted by hand like those in `dto.rs`.

use app::auth::{Manager, Staff};
use axum::extract::{Path, State};
use domain::{ParseError, TicketId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use workflow::{
    CalendarDef, MetricState, Phase,
    config::{ConditionsDef, PolicyDef, StepDef, TargetDef},
};

use crate::{
    AppState,
    dto::{opt_rfc3339, rfc3339},
    error::ApiResult,
    extract::{Cap, Json, Query},
    routes::{Errors, tickets::resolve},
};

use axum::Json as J;

/// Which tickets a policy applies to; every non-empty list must contain the ticket's value.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ConditionsDto {
    /// L1–L4.
    pub severity: Vec<String>,
    /// ordinary, vip.
    pub tier: Vec<String>,
    /// Codes or categories: `PQ` matches every PQ code.
    pub problem_code: Vec<String>,
    pub channel: Vec<String>,
    /// normal, urgent, critical.
    pub urgency: Vec<String>,
    /// Team ids.
    pub team: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TargetDto {
    /// first_response, next_response, periodic_update, resolution.
    pub metric: String,
    /// `30m`, `4h`, `1h30m`, `3d`.
    pub duration: String,
    /// `calendar` (7×24 wall time) or `business:<calendar id>`.
    pub mode: String,
    /// `80%`, `0.8` or `15m before`; empty for no warning.
    #[serde(default)]
    pub warn: String,
    /// Statuses the clock pauses in (pending, on_hold); absent keeps the metric's default.
    #[serde(default)]
    pub pause_in: Option<Vec<String>>,
}

/// One rung of the escalation ladder.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EscalationStepDto {
    /// warned or breached.
    pub on: String,
    /// Metrics this rung is for; empty for all.
    #[serde(default)]
    pub metrics: Vec<String>,
    /// notify_assignee, notify_supervisor, notify_cs_head, raise_urgency,
    /// reassign_team:<team id>, open_crisis.
    pub actions: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyDto {
    pub name: String,
    #[serde(default)]
    pub conditions: ConditionsDto,
    pub targets: Vec<TargetDto>,
    #[serde(default)]
    pub escalation: Vec<EscalationStepDto>,
}

impl From<&PolicyDef> for PolicyDto {
    fn from(p: &PolicyDef) -> PolicyDto {
        let c = &p.conditions;
        PolicyDto {
            name: p.name.clone(),
            conditions: ConditionsDto {
                severity: c.severity.clone(),
                tier: c.tier.clone(),
                problem_code: c.problem_code.clone(),
                channel: c.channel.clone(),
                urgency: c.urgency.clone(),
                team: c.team.clone(),
            },
            targets: p
                .targets
                .iter()
                .map(|t| TargetDto {
                    metric: t.metric.clone(),
                    duration: t.duration.clone(),
                    mode: t.mode.clone(),
                    warn: t.warn.clone(),
                    pause_in: t.pause_in.clone(),
                })
                .collect(),
            escalation: p
                .escalation
                .iter()
                .map(|s| EscalationStepDto {
                    on: s.on.clone(),
                    metrics: s.metrics.clone(),
                    actions: s.actions.clone(),
                })
                .collect(),
        }
    }
}

impl From<PolicyDto> for PolicyDef {
    fn from(p: PolicyDto) -> PolicyDef {
        let c = p.conditions;
        PolicyDef {
            name: p.name,
            conditions: ConditionsDef {
                severity: c.severity,
                tier: c.tier,
                problem_code: c.problem_code,
                channel: c.channel,
                urgency: c.urgency,
                team: c.team,
            },
            targets: p
                .targets
                .into_iter()
                .map(|t| TargetDef {
                    metric: t.metric,
                    duration: t.duration,
                    mode: t.mode,
                    warn: t.warn,
                    pause_in: t.pause_in,
                })
                .collect(),
            escalation: p
                .escalation
                .into_iter()
                .map(|s| StepDef { on: s.on, metrics: s.metrics, actions: s.actions })
                .collect(),
        }
    }
}

/// A make-up working day (调休): a date, and its hours (absent: Monday's).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkdayDto {
    /// `YYYY-MM-DD`.
    pub date: String,
    /// e.g. `09:00-12:00, 13:30-18:00`.
    #[serde(default)]
    pub schedule: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CalendarDto {
    /// Policies name it as `business:<id>`.
    pub id: String,
    /// IANA name, e.g. `Asia/Shanghai`.
    pub time_zone: String,
    /// Seven schedules, Monday first: `09:00-12:00, 13:30-18:00`, `closed` or `00:00-24:00`.
    pub week: Vec<String>,
    /// Closed dates (法定节假日), `YYYY-MM-DD`.
    #[serde(default)]
    pub holidays: Vec<String>,
    #[serde(default)]
    pub workdays: Vec<WorkdayDto>,
}

impl CalendarDto {
    fn new(id: &str, c: &CalendarDef) -> CalendarDto {
        CalendarDto {
            id: id.to_string(),
            time_zone: c.time_zone.clone(),
            week: c.week.to_vec(),
            holidays: c.holidays.clone(),
            workdays: c
                .workdays
                .iter()
                .map(|(d, s)| WorkdayDto { date: d.clone(), schedule: s.clone() })
                .collect(),
        }
    }

    fn into_def(self) -> Result<(String, CalendarDef), ParseError> {
        let week: [String; 7] = self.week.try_into().map_err(|w: Vec<String>| {
            ParseError::new(
                "calendar.week",
                format!(
                    "calendar {:?} lists {} days; give seven schedules, Monday first",
                    self.id,
                    w.len()
                ),
            )
        })?;
        let def = CalendarDef {
            time_zone: self.time_zone,
            week,
            holidays: self.holidays,
            workdays: self.workdays.into_iter().map(|w| (w.date, w.schedule)).collect(),
        };
        Ok((self.id, def))
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PoliciesBody {
    /// In order: a ticket gets the first policy that matches.
    pub policies: Vec<PolicyDto>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PoliciesDto {
    pub policies: Vec<PolicyDto>,
    pub updated_at: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CalendarsBody {
    pub calendars: Vec<CalendarDto>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CalendarsDto {
    pub calendars: Vec<CalendarDto>,
    pub updated_at: Option<String>,
}

fn policies_dto(c: &app::db::sla::Config) -> PoliciesDto {
    PoliciesDto {
        policies: c.policies.iter().map(PolicyDto::from).collect(),
        updated_at: opt_rfc3339(c.updated_at),
    }
}

fn calendars_dto(c: &app::db::sla::Config) -> CalendarsDto {
    CalendarsDto {
        calendars: c.calendars.iter().map(|(id, d)| CalendarDto::new(id, d)).collect(),
        updated_at: opt_rfc3339(c.updated_at),
    }
}

/// The SLA policies, in order (first match wins).
#[utoipa::path(get, path = "/api/v1/sla/policies", tag = "sla", responses((status = 200, body = PoliciesDto), Errors))]
pub async fn get_policies(
    State(s): State<AppState>,
    Cap(who): Cap<Staff>,
) -> ApiResult<J<PoliciesDto>> {
    Ok(J(policies_dto(&s.app.sla_config(&who).await?)))
}

/// Replaces the SLA policies (admin, cs_head). Every entry is checked; the first bad one is
/// named with its field. Running clocks move to the new policies at their next change.
#[utoipa::path(put, path = "/api/v1/sla/policies", tag = "sla", request_body = PoliciesBody, responses((status = 200, body = PoliciesDto), Errors))]
pub async fn put_policies(
    State(s): State<AppState>,
    Cap(who): Cap<Manager>,
    Json(b): Json<PoliciesBody>,
) -> ApiResult<J<PoliciesDto>> {
    let defs = b.policies.into_iter().map(PolicyDef::from).collect();
    Ok(J(policies_dto(&s.app.put_sla_policies(&who, defs).await?)))
}

/// The business-hours calendars.
#[utoipa::path(get, path = "/api/v1/sla/calendars", tag = "sla", responses((status = 200, body = CalendarsDto), Errors))]
pub async fn get_calendars(
    State(s): State<AppState>,
    Cap(who): Cap<Staff>,
) -> ApiResult<J<CalendarsDto>> {
    Ok(J(calendars_dto(&s.app.sla_config(&who).await?)))
}

/// Replaces the calendars (admin, cs_head); refused (409) while a policy counts on a
/// calendar that would disappear.
#[utoipa::path(put, path = "/api/v1/sla/calendars", tag = "sla", request_body = CalendarsBody, responses((status = 200, body = CalendarsDto), Errors))]
pub async fn put_calendars(
    State(s): State<AppState>,
    Cap(who): Cap<Manager>,
    Json(b): Json<CalendarsBody>,
) -> ApiResult<J<CalendarsDto>> {
    let defs = b.calendars.into_iter().map(CalendarDto::into_def).collect::<Result<Vec<_>, _>>()?;
    Ok(J(calendars_dto(&s.app.put_sla_calendars(&who, defs).await?)))
}

/// One cycle of one metric.
#[derive(Debug, Serialize, ToSchema)]
pub struct SlaMetricDto {
    pub metric: String,
    /// 0 for the first activation; next response and periodic update count up.
    pub cycle: u32,
    /// running, paused or fulfilled.
    pub state: String,
    pub activated_at: String,
    pub fulfilled_at: Option<String>,
    /// Counted time so far (business or wall, per the target), in milliseconds.
    pub elapsed_ms: i64,
    pub target_ms: i64,
    /// Counted time left; negative once breached.
    pub remaining_ms: i64,
    /// The deadline: the breach instant, or its projection while running.
    pub due_at: Option<String>,
    pub warn_at: Option<String>,
    pub warned_at: Option<String>,
    pub breached_at: Option<String>,
    /// Why there is no deadline (a missing or exhausted calendar).
    pub problem: Option<String>,
}

impl From<&MetricState> for SlaMetricDto {
    fn from(m: &MetricState) -> SlaMetricDto {
        SlaMetricDto {
            metric: m.metric.as_str().into(),
            cycle: m.cycle,
            state: match m.phase {
                Phase::Running { .. } => "running",
                Phase::Paused { .. } => "paused",
                Phase::Fulfilled { .. } => "fulfilled",
            }
            .into(),
            activated_at: rfc3339(m.activated_at),
            fulfilled_at: opt_rfc3339(m.fulfilled_at()),
            elapsed_ms: m.elapsed_ms,
            target_ms: m.target_ms,
            remaining_ms: m.remaining_ms(),
            due_at: opt_rfc3339(m.due_at),
            warn_at: opt_rfc3339(m.warn_at),
            warned_at: opt_rfc3339(m.warned_at),
            breached_at: opt_rfc3339(m.breached_at),
            problem: m.problem.as_ref().map(|p| format!("{p:?}")),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SlaEventDto {
    pub metric: String,
    pub cycle: i64,
    /// activated, paused, resumed, warned, breached, fulfilled.
    pub kind: String,
    /// When it happened (a breach: its deadline).
    pub at: String,
    /// When it was recorded.
    pub recorded_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TicketSlaDto {
    pub ticket_id: String,
    /// The policy the ticket runs under; null when none matches.
    pub policy: Option<String>,
    pub now: String,
    /// The earliest deadline of a running clock (the queue's time to breach).
    pub breach_at: Option<String>,
    pub metrics: Vec<SlaMetricDto>,
    pub events: Vec<SlaEventDto>,
}

/// A ticket's SLA clocks now: per metric cycle its state, deadline and time left, and the
/// SLA events recorded so far.
#[utoipa::path(get, path = "/api/v1/tickets/{id}/sla", tag = "sla", params(("id" = String, Path, description = "ticket id or number")), responses((status = 200, body = TicketSlaDto), Errors))]
pub async fn ticket_sla(
    State(s): State<AppState>,
    Cap(who): Cap<Staff>,
    Path(id): Path<String>,
) -> ApiResult<J<TicketSlaDto>> {
    let id: TicketId = resolve(&s, &who, &id).await?.id;
    let v = s.app.ticket_sla(&who, id).await?;
    Ok(J(TicketSlaDto {
        ticket_id: v.ticket.to_string(),
        policy: v.policy,
        now: rfc3339(v.now),
        breach_at: opt_rfc3339(v.breach_at),
        metrics: v.metrics.iter().map(SlaMetricDto::from).collect(),
        events: v
            .events
            .iter()
            .map(|e| SlaEventDto {
                metric: e.metric.clone(),
                cycle: e.cycle,
                kind: e.kind.clone(),
                at: rfc3339(e.at),
                recorded_at: rfc3339(e.recorded_at),
            })
            .collect(),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationDto {
    pub id: String,
    pub ticket_id: Option<String>,
    /// e.g. `sla.warned`, `sla.breached`.
    pub kind: String,
    /// zh-CN / English.
    pub body: String,
    pub created_at: String,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct NotificationQuery {
    /// 1 to 500; default 100.
    pub limit: Option<i64>,
}

/// The caller's notifications (escalations), newest first.
#[utoipa::path(get, path = "/api/v1/notifications", tag = "sla", params(NotificationQuery), responses((status = 200, body = [NotificationDto]), Errors))]
pub async fn notifications(
    State(s): State<AppState>,
    Cap(who): Cap<Staff>,
    Query(q): Query<NotificationQuery>,
) -> ApiResult<J<Vec<NotificationDto>>> {
    let list = s.app.my_notifications(&who, q.limit.unwrap_or(100)).await?;
    Ok(J(list
        .into_iter()
        .map(|n| NotificationDto {
            id: n.id,
            ticket_id: n.ticket.map(|t| t.to_string()),
            kind: n.kind,
            body: n.body,
            created_at: rfc3339(n.created_at),
        })
        .collect()))
}
