//! Quality inspection (AN-6): the rules as JSON text, findings and per-day check tallies
//! (replaced per conversation on each inspection), the conversations to inspect, and the
//! index aggregates.

use anyhow::Context;
use domain::{ConversationId, MessageId, Timestamp, UserId, WorkspaceId};
use sqlx::AnyConnection;

use crate::{Result, int, parse_col, parse_opt_col, text, ts};

pub async fn rules(c: &mut AnyConnection, ws: WorkspaceId) -> Result<Option<String>> {
    let r = sqlx::query("SELECT rules FROM quality_rules WHERE workspace_id = $1")
        .bind(ws.to_string())
        .fetch_optional(c)
        .await
        .context("reading quality rules")?;
    r.map(|r| text(&r, "rules")).transpose()
}

pub async fn put_rules(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    rules: &str,
    now: Timestamp,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO quality_rules (workspace_id, rules, updated_at) VALUES ($1, $2, $3)
         ON CONFLICT (workspace_id) DO UPDATE SET rules = excluded.rules, updated_at = excluded.updated_at",
    )
    .bind(ws.to_string())
    .bind(rules)
    .bind(now.millis())
    .execute(c)
    .await
    .context("saving quality rules")?;
    Ok(())
}

/// Conversations with a message at or after `since`, oldest activity first, with whether
/// they are resolved.
pub async fn conversations_since(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    since: Timestamp,
    limit: i64,
) -> Result<Vec<(ConversationId, bool)>> {
    let rows = sqlx::query(
        "SELECT id, status FROM conversations WHERE workspace_id = $1 AND last_message_at >= $2
         ORDER BY last_message_at, id LIMIT $3",
    )
    .bind(ws.to_string())
    .bind(since.millis())
    .bind(limit)
    .fetch_all(c)
    .await
    .context("listing conversations to inspect")?;
    rows.iter()
        .map(|r| Ok((parse_col(r, "id", ConversationId::parse)?, text(r, "status")? == "resolved")))
        .collect()
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub id: String,
    pub conversation: ConversationId,
    pub message: Option<MessageId>,
    pub agent: UserId,
    pub kind: String,
    pub detail: String,
    pub at: Timestamp,
}

/// A tally of checks for one agent on one day in one conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checks {
    pub agent: UserId,
    pub day: Timestamp,
    pub checks: i64,
    pub passed: i64,
}

/// Replaces the conversation's findings and checks.
pub async fn replace(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    conv: ConversationId,
    findings: &[Finding],
    checks: &[Checks],
    now: Timestamp,
) -> Result<()> {
    for table in ["quality_findings", "quality_checks"] {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM {table} WHERE workspace_id = $1 AND conversation_id = $2"
        )))
        .bind(ws.to_string())
        .bind(conv.to_string())
        .execute(&mut *c)
        .await
        .context("clearing an inspection")?;
    }
    for f in findings {
        sqlx::query(
            "INSERT INTO quality_findings (id, workspace_id, conversation_id, message_id, agent_id,
                kind, detail, at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(f.id.clone())
        .bind(ws.to_string())
        .bind(conv.to_string())
        .bind(f.message.map(|m| m.to_string()))
        .bind(f.agent.to_string())
        .bind(f.kind.clone())
        .bind(f.detail.clone())
        .bind(f.at.millis())
        .bind(now.millis())
        .execute(&mut *c)
        .await
        .context("recording a quality finding")?;
    }
    for k in checks {
        sqlx::query(
            "INSERT INTO quality_checks (workspace_id, conversation_id, agent_id, day, checks, passed)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(ws.to_string())
        .bind(conv.to_string())
        .bind(k.agent.to_string())
        .bind(k.day.millis())
        .bind(k.checks)
        .bind(k.passed)
        .execute(&mut *c)
        .await
        .context("recording quality checks")?;
    }
    Ok(())
}

/// Findings at `[from, to)`, newest first, optionally of one agent or conversation.
pub async fn findings(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    from: Timestamp,
    to: Timestamp,
    agent: Option<UserId>,
    conversation: Option<ConversationId>,
    limit: i64,
) -> Result<Vec<Finding>> {
    let mut b = crate::Binds::default();
    let mut sql = format!(
        "SELECT id, conversation_id, message_id, agent_id, kind, detail, at FROM quality_findings
         WHERE workspace_id = {} AND at >= {} AND at < {}",
        b.text(ws.to_string()),
        b.int(from.millis()),
        b.int(to.millis())
    );
    if let Some(a) = agent {
        sql.push_str(&format!(" AND agent_id = {}", b.text(a.to_string())));
    }
    if let Some(cv) = conversation {
        sql.push_str(&format!(" AND conversation_id = {}", b.text(cv.to_string())));
    }
    sql.push_str(&format!(" ORDER BY at DESC, id DESC LIMIT {}", b.int(limit.clamp(1, 1000))));
    let rows = b.query(sql).fetch_all(c).await.context("listing quality findings")?;
    rows.iter()
        .map(|r| {
            Ok(Finding {
                id: text(r, "id")?,
                conversation: parse_col(r, "conversation_id", ConversationId::parse)?,
                message: parse_opt_col(r, "message_id", MessageId::parse)?,
                agent: parse_col(r, "agent_id", UserId::parse)?,
                kind: text(r, "kind")?,
                detail: text(r, "detail")?,
                at: ts(r, "at")?,
            })
        })
        .collect()
}

/// Checks and passes per agent and day with `day` in `[from, to)`, optionally only the
/// members of one team. Days ascending, then agents.
pub async fn daily_checks(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    from: Timestamp,
    to: Timestamp,
    team: Option<domain::TeamId>,
) -> Result<Vec<Checks>> {
    let mut b = crate::Binds::default();
    let mut sql = format!(
        "SELECT q.agent_id, q.day, CAST(SUM(q.checks) AS BIGINT) AS checks,
                CAST(SUM(q.passed) AS BIGINT) AS passed
         FROM quality_checks q WHERE q.workspace_id = {} AND q.day >= {} AND q.day < {}",
        b.text(ws.to_string()),
        b.int(from.millis()),
        b.int(to.millis())
    );
    if let Some(t) = team {
        sql.push_str(&format!(
            " AND q.agent_id IN (SELECT user_id FROM team_members WHERE team_id = {})",
            b.text(t.to_string())
        ));
    }
    sql.push_str(" GROUP BY q.agent_id, q.day ORDER BY q.day, q.agent_id");
    let rows = b.query(sql).fetch_all(c).await.context("reading quality checks")?;
    rows.iter()
        .map(|r| {
            Ok(Checks {
                agent: parse_col(r, "agent_id", UserId::parse)?,
                day: ts(r, "day")?,
                checks: int(r, "checks")?,
                passed: int(r, "passed")?,
            })
        })
        .collect()
}
