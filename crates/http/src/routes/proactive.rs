//! Proactive service (issue 8 item 6): admins manage rules and the workspace's quiet hours and
//! frequency cap, preview a rule's audience and run it now; staff set a customer's opt-out.

use app::{
    auth::{Admin, Agent, Staff},
    proactive::{AudienceItem, OptOut, ProactiveRule, ProactiveSettings},
};
use axum::{
    extract::{Path, State},
    http::StatusCode,
};
use domain::{CustomerId, ParseError, ProactiveRuleId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use workflow::proactive::{Moment, Rule, TierFilter};

use crate::{
    AppState,
    error::ApiResult,
    extract::{Cap, Json, Query},
    routes::{Errors, path_id},
};

use axum::Json as J;

/// When a customer of the segment is due a message.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MomentDto {
    /// `days_before` (a date attribute `YYYY-MM-DD` lies 0 to `days` days ahead in the
    /// workspace's zone) or `attribute_is` (the attribute equals `value`).
    pub kind: String,
    pub attribute: String,
    /// For `days_before`: 0 to 366.
    pub days: Option<i64>,
    /// For `attribute_is`.
    pub value: Option<String>,
    /// For `attribute_is`: the attribute whose value names the occasion (e.g. `order_no`), so
    /// each order gets its own message.
    pub occasion_attribute: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RuleRequest {
    pub name: String,
    /// Default true.
    pub active: Option<bool>,
    /// `any` (default), `vip` or `ordinary`.
    pub tier: Option<String>,
    /// Attribute equalities every customer of the segment meets.
    #[serde(default)]
    pub attributes: std::collections::BTreeMap<String, String>,
    pub moment: MomentDto,
    /// The message; `{{name}}`, `{{days_left}}`, `{{date}}` and `{{attr.NAME}}` are replaced.
    pub text: String,
    /// The SMS channel's template for customers reachable by SMS (its parameters are the same
    /// variables); without it they are skipped as unreachable.
    pub sms_template: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RuleDto {
    pub id: String,
    pub name: String,
    pub active: bool,
    pub tier: String,
    pub attributes: std::collections::BTreeMap<String, String>,
    pub moment: MomentDto,
    pub text: String,
    pub sms_template: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

fn to_rule(r: &RuleRequest) -> Result<Rule, ParseError> {
    let m = &r.moment;
    let moment = match m.kind.as_str() {
        "days_before" => Moment::DaysBefore {
            attribute: m.attribute.clone(),
            days: m.days.ok_or_else(|| ParseError::new("moment.days", "give the days ahead"))?,
        },
        "attribute_is" => Moment::AttributeIs {
            attribute: m.attribute.clone(),
            value: m.value.clone().unwrap_or_default(),
            occasion_attribute: m.occasion_attribute.clone(),
        },
        other => {
            return Err(ParseError::new(
                "moment.kind",
                format!("{other:?} is not a moment: use days_before or attribute_is"),
            ));
        }
    };
    Ok(Rule {
        tier: TierFilter::parse(r.tier.as_deref().unwrap_or("any"))?,
        attributes: r.attributes.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        moment,
        text: r.text.clone(),
        sms_template: r.sms_template.clone(),
    })
}

impl From<&ProactiveRule> for RuleDto {
    fn from(p: &ProactiveRule) -> RuleDto {
        let moment = match &p.rule.moment {
            Moment::DaysBefore { attribute, days } => MomentDto {
                kind: "days_before".into(),
                attribute: attribute.clone(),
                days: Some(*days),
                value: None,
                occasion_attribute: None,
            },
            Moment::AttributeIs { attribute, value, occasion_attribute } => MomentDto {
                kind: "attribute_is".into(),
                attribute: attribute.clone(),
                days: None,
                value: Some(value.clone()),
                occasion_attribute: occasion_attribute.clone(),
            },
        };
        RuleDto {
            id: p.id.to_string(),
            name: p.name.clone(),
            active: p.active,
            tier: p.rule.tier.as_str().into(),
            attributes: p.rule.attributes.iter().cloned().collect(),
            moment,
            text: p.rule.text.clone(),
            sms_template: p.rule.sms_template.clone(),
            created_at: p.created_at.millis(),
            updated_at: p.updated_at.millis(),
        }
    }
}

/// The workspace's proactive rules (admins).
#[utoipa::path(get, path = "/api/v1/proactive/rules", tag = "proactive", responses((status = 200, body = [RuleDto]), Errors))]
pub async fn list(State(s): State<AppState>, Cap(who): Cap<Admin>) -> ApiResult<J<Vec<RuleDto>>> {
    Ok(J(s.app.list_proactive_rules(&who).await?.iter().map(RuleDto::from).collect()))
}

/// Adds a rule (400 names the bad field); an active rule is evaluated at once, then hourly.
#[utoipa::path(post, path = "/api/v1/proactive/rules", tag = "proactive", request_body = RuleRequest, responses((status = 201, body = RuleDto), Errors))]
pub async fn create(
    State(s): State<AppState>,
    Cap(who): Cap<Admin>,
    Json(r): Json<RuleRequest>,
) -> ApiResult<(StatusCode, J<RuleDto>)> {
    let rule = to_rule(&r)?;
    let p = s.app.create_proactive_rule(&who, &r.name, r.active.unwrap_or(true), rule).await?;
    Ok((StatusCode::CREATED, J(RuleDto::from(&p))))
}

#[utoipa::path(get, path = "/api/v1/proactive/rules/{id}", tag = "proactive", params(("id" = String, Path)), responses((status = 200, body = RuleDto), Errors))]
pub async fn get(
    State(s): State<AppState>,
    Cap(who): Cap<Admin>,
    Path(id): Path<String>,
) -> ApiResult<J<RuleDto>> {
    let id = path_id(&id, ProactiveRuleId::parse, "rule")?;
    Ok(J(RuleDto::from(&s.app.get_proactive_rule(&who, id).await?)))
}

/// Replaces a rule.
#[utoipa::path(put, path = "/api/v1/proactive/rules/{id}", tag = "proactive", params(("id" = String, Path)), request_body = RuleRequest, responses((status = 200, body = RuleDto), Errors))]
pub async fn update(
    State(s): State<AppState>,
    Cap(who): Cap<Admin>,
    Path(id): Path<String>,
    Json(r): Json<RuleRequest>,
) -> ApiResult<J<RuleDto>> {
    let id = path_id(&id, ProactiveRuleId::parse, "rule")?;
    let rule = to_rule(&r)?;
    let p = s.app.update_proactive_rule(&who, id, &r.name, r.active.unwrap_or(true), rule).await?;
    Ok(J(RuleDto::from(&p)))
}

/// Deletes a rule and its send records.
#[utoipa::path(delete, path = "/api/v1/proactive/rules/{id}", tag = "proactive", params(("id" = String, Path)), responses((status = 204), Errors))]
pub async fn delete(
    State(s): State<AppState>,
    Cap(who): Cap<Admin>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = path_id(&id, ProactiveRuleId::parse, "rule")?;
    s.app.delete_proactive_rule(&who, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AudienceDto {
    pub customer_id: String,
    pub name: String,
    /// wechat, webhook, sms or email; null when no conversation of theirs can carry it.
    pub channel: Option<String>,
    pub occasion: String,
    /// `send`, or why not: `opted_out`, `capped`, `unreachable`, `already_sent`.
    pub outcome: String,
    /// When it goes (after quiet hours), for `send`.
    pub due_at: Option<i64>,
    pub text: String,
}

fn audience(items: Vec<AudienceItem>) -> Vec<AudienceDto> {
    items
        .into_iter()
        .map(|i| AudienceDto {
            customer_id: i.customer.to_string(),
            name: i.name,
            channel: i.channel,
            occasion: i.occasion,
            outcome: i.outcome.into(),
            due_at: i.due_at.map(|t| t.millis()),
            text: i.text,
        })
        .collect()
}

/// Who the rule would write to now and what would happen to each; nothing is sent.
#[utoipa::path(get, path = "/api/v1/proactive/rules/{id}/preview", tag = "proactive", params(("id" = String, Path)), responses((status = 200, body = [AudienceDto]), Errors))]
pub async fn preview(
    State(s): State<AppState>,
    Cap(who): Cap<Admin>,
    Path(id): Path<String>,
) -> ApiResult<J<Vec<AudienceDto>>> {
    let id = path_id(&id, ProactiveRuleId::parse, "rule")?;
    Ok(J(audience(s.app.preview_proactive_rule(&who, id).await?)))
}

/// Evaluates the rule now: schedules its messages (each due at once or when the quiet hours
/// end) and answers what happened to each customer of the segment.
#[utoipa::path(post, path = "/api/v1/proactive/rules/{id}/run", tag = "proactive", params(("id" = String, Path)), responses((status = 200, body = [AudienceDto]), Errors))]
pub async fn run(
    State(s): State<AppState>,
    Cap(who): Cap<Admin>,
    Path(id): Path<String>,
) -> ApiResult<J<Vec<AudienceDto>>> {
    let id = path_id(&id, ProactiveRuleId::parse, "rule")?;
    Ok(J(audience(s.app.run_proactive_rule(&who, id).await?)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SendDto {
    pub id: String,
    pub rule_id: String,
    pub customer_id: String,
    pub occasion: String,
    /// wechat, webhook, sms or email.
    pub channel: String,
    pub conversation_id: Option<String>,
    pub text: String,
    /// `scheduled`, `sent` (handed to the channel; see the outbound or email record),
    /// `opted_out` (opted out before it was due) or `unreachable`.
    pub state: String,
    pub due_at: i64,
    pub message_id: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct SendsQuery {
    /// Only this rule's sends.
    pub rule_id: Option<String>,
    /// 1 to 1000, default 100.
    pub limit: Option<i64>,
}

/// The record of proactive messages, newest first.
#[utoipa::path(get, path = "/api/v1/proactive/sends", tag = "proactive", params(SendsQuery), responses((status = 200, body = [SendDto]), Errors))]
pub async fn sends(
    State(s): State<AppState>,
    Cap(who): Cap<Admin>,
    Query(q): Query<SendsQuery>,
) -> ApiResult<J<Vec<SendDto>>> {
    let rule = q.rule_id.as_deref().map(ProactiveRuleId::parse).transpose()?;
    let rows = s.app.list_proactive_sends(&who, rule, q.limit.unwrap_or(100)).await?;
    Ok(J(rows
        .into_iter()
        .map(|r| SendDto {
            id: r.id.to_string(),
            rule_id: r.rule.to_string(),
            customer_id: r.customer.to_string(),
            occasion: r.occasion,
            channel: r.channel,
            conversation_id: r.conversation.map(|c| c.to_string()),
            text: r.text,
            state: r.state,
            due_at: r.due_at.millis(),
            message_id: r.message.map(|m| m.to_string()),
            created_at: r.created_at.millis(),
            updated_at: r.updated_at.millis(),
        })
        .collect()))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SettingsDto {
    /// IANA zone, e.g. Asia/Shanghai.
    pub time_zone: String,
    /// `21:00-08:00` (may wrap midnight), or empty for none. Messages due inside wait until
    /// the end.
    pub quiet_hours: String,
    /// At most this many proactive messages per customer…
    pub cap_count: i64,
    /// …in any window of this many days, across rules.
    pub cap_days: i64,
}

impl From<ProactiveSettings> for SettingsDto {
    fn from(s: ProactiveSettings) -> SettingsDto {
        SettingsDto {
            time_zone: s.time_zone,
            quiet_hours: s.quiet_hours,
            cap_count: s.cap_count,
            cap_days: s.cap_days,
        }
    }
}

#[utoipa::path(get, path = "/api/v1/proactive/settings", tag = "proactive", responses((status = 200, body = SettingsDto), Errors))]
pub async fn get_settings(
    State(s): State<AppState>,
    Cap(who): Cap<Admin>,
) -> ApiResult<J<SettingsDto>> {
    Ok(J(s.app.proactive_settings(&who).await?.into()))
}

#[utoipa::path(put, path = "/api/v1/proactive/settings", tag = "proactive", request_body = SettingsDto, responses((status = 200, body = SettingsDto), Errors))]
pub async fn put_settings(
    State(s): State<AppState>,
    Cap(who): Cap<Admin>,
    Json(r): Json<SettingsDto>,
) -> ApiResult<J<SettingsDto>> {
    let v = ProactiveSettings {
        time_zone: r.time_zone,
        quiet_hours: r.quiet_hours,
        cap_count: r.cap_count,
        cap_days: r.cap_days,
    };
    Ok(J(s.app.set_proactive_settings(&who, v).await?.into()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OptOutDto {
    pub opted_out: bool,
    /// `staff` or `reply` (the customer wrote 退订, TD or STOP).
    pub source: Option<String>,
    pub since: Option<i64>,
}

impl From<OptOut> for OptOutDto {
    fn from(o: OptOut) -> OptOutDto {
        OptOutDto { opted_out: o.opted_out, source: o.source, since: o.since.map(|t| t.millis()) }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct OptOutRequest {
    pub opted_out: bool,
}

/// Whether the customer opted out of proactive messages.
#[utoipa::path(get, path = "/api/v1/customers/{id}/proactive-opt-out", tag = "proactive", params(("id" = String, Path)), responses((status = 200, body = OptOutDto), Errors))]
pub async fn get_opt_out(
    State(s): State<AppState>,
    Cap(who): Cap<Staff>,
    Path(id): Path<String>,
) -> ApiResult<J<OptOutDto>> {
    let id = path_id(&id, CustomerId::parse, "customer")?;
    Ok(J(s.app.proactive_opt_out(&who, id).await?.into()))
}

/// Sets or clears the customer's opt-out (staff who work cases).
#[utoipa::path(put, path = "/api/v1/customers/{id}/proactive-opt-out", tag = "proactive", params(("id" = String, Path)), request_body = OptOutRequest, responses((status = 200, body = OptOutDto), Errors))]
pub async fn put_opt_out(
    State(s): State<AppState>,
    Cap(who): Cap<Agent>,
    Path(id): Path<String>,
    Json(r): Json<OptOutRequest>,
) -> ApiResult<J<OptOutDto>> {
    let id = path_id(&id, CustomerId::parse, "customer")?;
    Ok(J(s.app.set_proactive_opt_out(&who, id, r.opted_out).await?.into()))
}
