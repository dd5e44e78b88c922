//! Proactive service (issue 8 item 6): rules (their definition as JSON text), the workspace's
//! settings, opt-outs, the customers a rule looks at with the channel each one last used, and
//! the sends, unique per rule × customer × occasion.

use anyhow::Context;
use domain::{
    ChannelId, ConversationId, CustomerId, MessageId, OutboundId, ProactiveRuleId, ProactiveSendId,
    Timestamp, WorkspaceId,
};
use sqlx::{AnyConnection, any::AnyRow};

use crate::{Result, codec, int, opt_text, parse_col, parse_opt_col, text, ts};

#[derive(Debug, Clone, PartialEq)]
pub struct RuleRow {
    pub id: ProactiveRuleId,
    pub workspace: WorkspaceId,
    pub name: String,
    /// The rule as JSON text (`app::proactive` reads and writes it).
    pub definition: String,
    pub active: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

const RULE_COLS: &str = "id, workspace_id, name, definition, active, created_at, updated_at";

fn rule(r: &AnyRow) -> Result<RuleRow> {
    Ok(RuleRow {
        id: parse_col(r, "id", ProactiveRuleId::parse)?,
        workspace: parse_col(r, "workspace_id", WorkspaceId::parse)?,
        name: text(r, "name")?,
        definition: text(r, "definition")?,
        active: int(r, "active")? != 0,
        created_at: ts(r, "created_at")?,
        updated_at: ts(r, "updated_at")?,
    })
}

pub async fn insert_rule(c: &mut AnyConnection, r: &RuleRow) -> Result<()> {
    sqlx::query(
        "INSERT INTO proactive_rules (id, workspace_id, name, definition, active, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(r.id.to_string())
    .bind(r.workspace.to_string())
    .bind(&r.name)
    .bind(&r.definition)
    .bind(i64::from(r.active))
    .bind(r.created_at.millis())
    .bind(r.updated_at.millis())
    .execute(c)
    .await
    .context("inserting a proactive rule")?;
    Ok(())
}

pub async fn update_rule(c: &mut AnyConnection, r: &RuleRow) -> Result<()> {
    sqlx::query(
        "UPDATE proactive_rules SET name = $3, definition = $4, active = $5, updated_at = $6
         WHERE workspace_id = $1 AND id = $2",
    )
    .bind(r.workspace.to_string())
    .bind(r.id.to_string())
    .bind(&r.name)
    .bind(&r.definition)
    .bind(i64::from(r.active))
    .bind(r.updated_at.millis())
    .execute(c)
    .await
    .context("updating a proactive rule")?;
    Ok(())
}

pub async fn get_rule(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    id: ProactiveRuleId,
) -> Result<Option<RuleRow>> {
    let sql =
        format!("SELECT {RULE_COLS} FROM proactive_rules WHERE workspace_id = $1 AND id = $2");
    crate::one_by_id(c, sql, ws, id, rule).await
}

pub async fn list_rules(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    only_active: bool,
) -> Result<Vec<RuleRow>> {
    let sql = format!(
        "SELECT {RULE_COLS} FROM proactive_rules WHERE workspace_id = $1 AND (active = 1 OR $2 = 0) ORDER BY id"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(ws.to_string())
        .bind(i64::from(only_active))
        .fetch_all(c)
        .await?;
    rows.iter().map(rule).collect()
}

/// Deletes the rule and its sends; false if there was none.
pub async fn delete_rule(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    id: ProactiveRuleId,
) -> Result<bool> {
    sqlx::query("DELETE FROM proactive_sends WHERE workspace_id = $1 AND rule_id = $2")
        .bind(ws.to_string())
        .bind(id.to_string())
        .execute(&mut *c)
        .await?;
    let r = sqlx::query("DELETE FROM proactive_rules WHERE workspace_id = $1 AND id = $2")
        .bind(ws.to_string())
        .bind(id.to_string())
        .execute(c)
        .await?;
    Ok(r.rows_affected() == 1)
}

/// The workspace's settings: time zone, quiet hours (`21:00-08:00`), cap count and days.
#[derive(Debug, Clone, PartialEq)]
pub struct SettingsRow {
    pub time_zone: String,
    pub quiet_hours: String,
    pub cap_count: i64,
    pub cap_days: i64,
}

pub async fn settings(c: &mut AnyConnection, ws: WorkspaceId) -> Result<Option<SettingsRow>> {
    let r = sqlx::query(
        "SELECT time_zone, quiet_hours, cap_count, cap_days FROM proactive_settings WHERE workspace_id = $1",
    )
    .bind(ws.to_string())
    .fetch_optional(c)
    .await?;
    r.map(|r| {
        Ok(SettingsRow {
            time_zone: text(&r, "time_zone")?,
            quiet_hours: text(&r, "quiet_hours")?,
            cap_count: int(&r, "cap_count")?,
            cap_days: int(&r, "cap_days")?,
        })
    })
    .transpose()
}

pub async fn put_settings(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    s: &SettingsRow,
    now: Timestamp,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO proactive_settings (workspace_id, time_zone, quiet_hours, cap_count, cap_days, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (workspace_id) DO UPDATE SET time_zone = $2, quiet_hours = $3, cap_count = $4,
             cap_days = $5, updated_at = $6",
    )
    .bind(ws.to_string())
    .bind(&s.time_zone)
    .bind(&s.quiet_hours)
    .bind(s.cap_count)
    .bind(s.cap_days)
    .bind(now.millis())
    .execute(c)
    .await
    .context("saving proactive settings")?;
    Ok(())
}

/// Sets or clears the customer's opt-out; `source` is `staff` or `reply`. True if it changed.
pub async fn set_opt_out(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    cu: CustomerId,
    opted_out: bool,
    source: &str,
    now: Timestamp,
) -> Result<bool> {
    let r = if opted_out {
        sqlx::query(
            "INSERT INTO proactive_opt_outs (workspace_id, customer_id, source, created_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (workspace_id, customer_id) DO NOTHING",
        )
        .bind(ws.to_string())
        .bind(cu.to_string())
        .bind(source)
        .bind(now.millis())
        .execute(c)
        .await?
    } else {
        sqlx::query("DELETE FROM proactive_opt_outs WHERE workspace_id = $1 AND customer_id = $2")
            .bind(ws.to_string())
            .bind(cu.to_string())
            .execute(c)
            .await?
    };
    Ok(r.rows_affected() == 1)
}

/// The customer's opt-out: its source and time, if any.
pub async fn opt_out(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    cu: CustomerId,
) -> Result<Option<(String, Timestamp)>> {
    let r = sqlx::query(
        "SELECT source, created_at FROM proactive_opt_outs WHERE workspace_id = $1 AND customer_id = $2",
    )
    .bind(ws.to_string())
    .bind(cu.to_string())
    .fetch_optional(c)
    .await?;
    r.map(|r| Ok((text(&r, "source")?, ts(&r, "created_at")?))).transpose()
}

/// A customer as a rule sees them, with the channel of their latest conversation that can
/// carry a message: a routed channel conversation (not a phone one) or an email one.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    pub id: CustomerId,
    pub name: String,
    pub tier: String,
    pub attributes: Vec<(String, String)>,
    pub opted_out: bool,
    pub reach: Option<Reach>,
}

/// Where a customer's latest reachable conversation is.
#[derive(Debug, Clone, PartialEq)]
pub struct Reach {
    pub conversation: ConversationId,
    /// `email`, or the routed channel's kind (`wechat`, `webhook`, `sms`).
    pub kind: String,
    pub channel: Option<ChannelId>,
    pub address: Option<String>,
}

const MEMBER_SELECT: &str = "SELECT cu.id, cu.name, cu.tier, cu.attributes,
        (SELECT COUNT(*) FROM proactive_opt_outs o WHERE o.workspace_id = cu.workspace_id AND o.customer_id = cu.id) AS opted
     FROM customers cu WHERE cu.workspace_id = $1 AND cu.merged_into IS NULL";

async fn to_members(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    rows: &[AnyRow],
) -> Result<Vec<Member>> {
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let id = parse_col(r, "id", CustomerId::parse)?;
        out.push(Member {
            id,
            name: text(r, "name")?,
            tier: text(r, "tier")?,
            attributes: codec::json_to_pairs(&text(r, "attributes")?)?,
            opted_out: int(r, "opted")? > 0,
            reach: reach(c, ws, id).await?,
        });
    }
    Ok(out)
}

/// The workspace's customers (merged ones left out), in id order, `limit` at a time after
/// `after`, each with opt-out and reach.
pub async fn members(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    after: Option<CustomerId>,
    limit: i64,
) -> Result<Vec<Member>> {
    let sql = format!("{MEMBER_SELECT} AND cu.id > $2 ORDER BY cu.id LIMIT $3");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(ws.to_string())
        .bind(after.map(|a| a.to_string()).unwrap_or_default())
        .bind(limit)
        .fetch_all(&mut *c)
        .await?;
    to_members(c, ws, &rows).await
}

/// One customer as [`members`] sees them (`None` if missing or merged away).
pub async fn member(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    id: CustomerId,
) -> Result<Option<Member>> {
    let sql = format!("{MEMBER_SELECT} AND cu.id = $2");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(ws.to_string())
        .bind(id.to_string())
        .fetch_all(&mut *c)
        .await?;
    Ok(to_members(c, ws, &rows).await?.pop())
}

async fn reach(c: &mut AnyConnection, ws: WorkspaceId, cu: CustomerId) -> Result<Option<Reach>> {
    let r = sqlx::query(
        "SELECT cv.id, cv.channel AS conv_channel, r.channel_id, r.address, ch.kind
         FROM conversations cv
         LEFT JOIN conversation_routes r ON r.conversation_id = cv.id
         LEFT JOIN channels ch ON ch.id = r.channel_id AND ch.active = 1
         WHERE cv.workspace_id = $1 AND cv.customer_id = $2
           AND ((ch.kind IS NOT NULL AND ch.kind <> 'phone') OR (r.channel_id IS NULL AND cv.channel = 'email'))
         ORDER BY cv.last_message_at DESC, cv.id DESC LIMIT 1",
    )
    .bind(ws.to_string())
    .bind(cu.to_string())
    .fetch_optional(c)
    .await?;
    r.map(|r| {
        let channel = parse_opt_col(&r, "channel_id", ChannelId::parse)?;
        Ok(Reach {
            conversation: parse_col(&r, "id", ConversationId::parse)?,
            kind: match channel {
                Some(_) => text(&r, "kind")?,
                None => "email".into(),
            },
            channel,
            address: opt_text(&r, "address")?,
        })
    })
    .transpose()
}

#[derive(Debug, Clone, PartialEq)]
pub struct SendRow {
    pub id: ProactiveSendId,
    pub workspace: WorkspaceId,
    pub rule: ProactiveRuleId,
    pub customer: CustomerId,
    pub occasion: String,
    /// `email`, `wechat`, `webhook` or `sms`.
    pub channel: String,
    pub conversation: Option<ConversationId>,
    /// What the channel gets: the text, or for SMS the template request.
    pub body: String,
    /// The rendered text, written into the conversation.
    pub text: String,
    /// `scheduled` (waiting for its due time), `sent` (handed to the channel), `opted_out`
    /// (the customer opted out before it was due), `unreachable`.
    pub state: String,
    pub due_at: Timestamp,
    pub message: Option<MessageId>,
    pub outbound: Option<OutboundId>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

const SEND_COLS: &str = "id, workspace_id, rule_id, customer_id, occasion, channel, conversation_id, body, text, state, due_at, message_id, outbound_id, created_at, updated_at";

fn send(r: &AnyRow) -> Result<SendRow> {
    Ok(SendRow {
        id: parse_col(r, "id", ProactiveSendId::parse)?,
        workspace: parse_col(r, "workspace_id", WorkspaceId::parse)?,
        rule: parse_col(r, "rule_id", ProactiveRuleId::parse)?,
        customer: parse_col(r, "customer_id", CustomerId::parse)?,
        occasion: text(r, "occasion")?,
        channel: text(r, "channel")?,
        conversation: parse_opt_col(r, "conversation_id", ConversationId::parse)?,
        body: text(r, "body")?,
        text: text(r, "text")?,
        state: text(r, "state")?,
        due_at: ts(r, "due_at")?,
        message: parse_opt_col(r, "message_id", MessageId::parse)?,
        outbound: parse_opt_col(r, "outbound_id", OutboundId::parse)?,
        created_at: ts(r, "created_at")?,
        updated_at: ts(r, "updated_at")?,
    })
}

/// Inserts the send; false (nothing written) if the rule already has one for this customer
/// and occasion.
pub async fn insert_send(c: &mut AnyConnection, s: &SendRow) -> Result<bool> {
    let r = sqlx::query(
        "INSERT INTO proactive_sends (id, workspace_id, rule_id, customer_id, occasion, channel, conversation_id,
             body, text, state, due_at, message_id, outbound_id, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
         ON CONFLICT (rule_id, customer_id, occasion) DO NOTHING",
    )
    .bind(s.id.to_string())
    .bind(s.workspace.to_string())
    .bind(s.rule.to_string())
    .bind(s.customer.to_string())
    .bind(&s.occasion)
    .bind(&s.channel)
    .bind(s.conversation.map(|c| c.to_string()))
    .bind(&s.body)
    .bind(&s.text)
    .bind(&s.state)
    .bind(s.due_at.millis())
    .bind(s.message.map(|m| m.to_string()))
    .bind(s.outbound.map(|o| o.to_string()))
    .bind(s.created_at.millis())
    .bind(s.updated_at.millis())
    .execute(c)
    .await
    .context("inserting a proactive send")?;
    Ok(r.rows_affected() == 1)
}

pub async fn update_send(c: &mut AnyConnection, s: &SendRow) -> Result<()> {
    sqlx::query(
        "UPDATE proactive_sends SET state = $3, message_id = $4, outbound_id = $5, updated_at = $6
         WHERE workspace_id = $1 AND id = $2",
    )
    .bind(s.workspace.to_string())
    .bind(s.id.to_string())
    .bind(&s.state)
    .bind(s.message.map(|m| m.to_string()))
    .bind(s.outbound.map(|o| o.to_string()))
    .bind(s.updated_at.millis())
    .execute(c)
    .await
    .context("updating a proactive send")?;
    Ok(())
}

pub async fn get_send(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    id: ProactiveSendId,
) -> Result<Option<SendRow>> {
    let sql =
        format!("SELECT {SEND_COLS} FROM proactive_sends WHERE workspace_id = $1 AND id = $2");
    crate::one_by_id(c, sql, ws, id, send).await
}

/// The sends of a rule (all rules if `None`), newest first, at most `limit`.
pub async fn list_sends(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    rule: Option<ProactiveRuleId>,
    limit: i64,
) -> Result<Vec<SendRow>> {
    let sql = format!(
        "SELECT {SEND_COLS} FROM proactive_sends WHERE workspace_id = $1 AND (rule_id = $2 OR $2 = '')
         ORDER BY id DESC LIMIT $3"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(ws.to_string())
        .bind(rule.map(|r| r.to_string()).unwrap_or_default())
        .bind(limit)
        .fetch_all(c)
        .await?;
    rows.iter().map(send).collect()
}

/// Due instants of the customer's sends that count towards the cap (scheduled or sent) whose
/// due time lies after `since`.
pub async fn recent_due(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    cu: CustomerId,
    since: Timestamp,
) -> Result<Vec<Timestamp>> {
    let rows = sqlx::query(
        "SELECT due_at FROM proactive_sends WHERE workspace_id = $1 AND customer_id = $2
           AND state IN ('scheduled', 'sent') AND due_at > $3 ORDER BY due_at",
    )
    .bind(ws.to_string())
    .bind(cu.to_string())
    .bind(since.millis())
    .fetch_all(c)
    .await?;
    rows.iter().map(|r| ts(r, "due_at")).collect()
}

/// The occasions this rule already used for the customer.
pub async fn used_occasions(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    rule: ProactiveRuleId,
    cu: CustomerId,
) -> Result<Vec<String>> {
    let rows = sqlx::query(
        "SELECT occasion FROM proactive_sends WHERE workspace_id = $1 AND rule_id = $2 AND customer_id = $3",
    )
    .bind(ws.to_string())
    .bind(rule.to_string())
    .bind(cu.to_string())
    .fetch_all(c)
    .await?;
    rows.iter().map(|r| text(r, "occasion")).collect()
}
