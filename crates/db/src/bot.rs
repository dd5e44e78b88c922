//! The bot at run time: each workspace's configuration document, each bot conversation's
//! dialogue state, and the outcome rows behind bot metrics and the learning loop. The
//! configuration and the state are `dialogue`'s own JSON documents.

use anyhow::Context;
use dialogue::{BotConfig, State};
use domain::{BotOutcomeId, ConversationId, Timestamp, WorkspaceId};
use sqlx::AnyConnection;

use crate::{Result, int, opt_text, text};

/// The workspace's bot configuration, or `None` if it never saved one (the defaults apply).
pub async fn settings_get(c: &mut AnyConnection, ws: WorkspaceId) -> Result<Option<BotConfig>> {
    let row = sqlx::query("SELECT config FROM bot_settings WHERE workspace_id = $1")
        .bind(ws.to_string())
        .fetch_optional(c)
        .await?;
    match row {
        Some(r) => Ok(Some(
            serde_json::from_str(&text(&r, "config")?).context("stored bot configuration")?,
        )),
        None => Ok(None),
    }
}

pub async fn settings_put(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    config: &BotConfig,
    at: Timestamp,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO bot_settings (workspace_id, config, updated_at) VALUES ($1, $2, $3)
         ON CONFLICT (workspace_id) DO UPDATE SET config = excluded.config, updated_at = excluded.updated_at",
    )
    .bind(ws.to_string())
    .bind(serde_json::to_string(config)?)
    .bind(at.millis())
    .execute(c)
    .await?;
    Ok(())
}

/// A conversation's dialogue state, if the bot has talked in it.
pub async fn session_get(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    conversation: ConversationId,
) -> Result<Option<State>> {
    let row = sqlx::query(
        "SELECT state FROM bot_sessions WHERE workspace_id = $1 AND conversation_id = $2",
    )
    .bind(ws.to_string())
    .bind(conversation.to_string())
    .fetch_optional(c)
    .await?;
    match row {
        Some(r) => {
            Ok(Some(serde_json::from_str(&text(&r, "state")?).context("stored dialogue state")?))
        }
        None => Ok(None),
    }
}

pub async fn session_put(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    conversation: ConversationId,
    state: &State,
    at: Timestamp,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO bot_sessions (conversation_id, workspace_id, state, updated_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (conversation_id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
    )
    .bind(conversation.to_string())
    .bind(ws.to_string())
    .bind(serde_json::to_string(state)?)
    .bind(at.millis())
    .execute(c)
    .await?;
    Ok(())
}

/// One thing the bot did: `answered` (entry, intent), `rated` (entry, intent, score),
/// `unmatched` (text), `handoff` (reason), `message_taken` (reason).
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub id: BotOutcomeId,
    pub workspace: WorkspaceId,
    pub conversation: ConversationId,
    pub kind: &'static str,
    pub entry: Option<String>,
    pub intent: Option<String>,
    pub score: Option<i64>,
    pub reason: Option<String>,
    pub text: Option<String>,
    pub at: Timestamp,
}

pub async fn outcome_insert(c: &mut AnyConnection, o: &Outcome) -> Result<()> {
    sqlx::query(
        "INSERT INTO bot_outcomes (id, workspace_id, conversation_id, kind, entry, intent, score, reason, text, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(o.id.to_string())
    .bind(o.workspace.to_string())
    .bind(o.conversation.to_string())
    .bind(o.kind)
    .bind(o.entry.clone())
    .bind(o.intent.clone())
    .bind(o.score)
    .bind(o.reason.clone())
    .bind(o.text.clone())
    .bind(o.at.millis())
    .execute(c)
    .await?;
    Ok(())
}

/// Counts behind the bot metrics over `[from, to)`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Counts {
    /// Conversations the bot talked in (any outcome).
    pub conversations: i64,
    /// Of those, conversations handed off or turned into a left message.
    pub handed_off: i64,
    pub answered: i64,
    pub unmatched: i64,
    /// Hand-offs and left messages by reason.
    pub by_reason: Vec<(String, i64)>,
    /// Ratings by intent: (intent or "", count, sum of scores).
    pub ratings: Vec<(String, i64, i64)>,
}

pub async fn counts(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    from: Timestamp,
    to: Timestamp,
) -> Result<Counts> {
    let (w, f, t) = (ws.to_string(), from.millis(), to.millis());
    let row = sqlx::query(
        "SELECT COUNT(DISTINCT conversation_id) AS conversations,
                COUNT(DISTINCT CASE WHEN kind IN ('handoff', 'message_taken') THEN conversation_id END) AS handed_off,
                COALESCE(SUM(CASE WHEN kind = 'answered' THEN 1 ELSE 0 END), 0) AS answered,
                COALESCE(SUM(CASE WHEN kind = 'unmatched' THEN 1 ELSE 0 END), 0) AS unmatched
         FROM bot_outcomes WHERE workspace_id = $1 AND created_at >= $2 AND created_at < $3",
    )
    .bind(&w)
    .bind(f)
    .bind(t)
    .fetch_one(&mut *c)
    .await?;
    let mut out = Counts {
        conversations: int(&row, "conversations")?,
        handed_off: int(&row, "handed_off")?,
        answered: int(&row, "answered")?,
        unmatched: int(&row, "unmatched")?,
        ..Counts::default()
    };
    let rows = sqlx::query(
        "SELECT reason, COUNT(*) AS n FROM bot_outcomes
         WHERE workspace_id = $1 AND created_at >= $2 AND created_at < $3
           AND kind IN ('handoff', 'message_taken')
         GROUP BY reason ORDER BY n DESC, reason",
    )
    .bind(&w)
    .bind(f)
    .bind(t)
    .fetch_all(&mut *c)
    .await?;
    for r in rows {
        out.by_reason.push((opt_text(&r, "reason")?.unwrap_or_default(), int(&r, "n")?));
    }
    let rows = sqlx::query(
        "SELECT COALESCE(intent, '') AS intent, COUNT(*) AS n, COALESCE(SUM(score), 0) AS total
         FROM bot_outcomes
         WHERE workspace_id = $1 AND created_at >= $2 AND created_at < $3 AND kind = 'rated'
         GROUP BY COALESCE(intent, '') ORDER BY n DESC, intent",
    )
    .bind(&w)
    .bind(f)
    .bind(t)
    .fetch_all(&mut *c)
    .await?;
    for r in rows {
        out.ratings.push((text(&r, "intent")?, int(&r, "n")?, int(&r, "total")?));
    }
    Ok(out)
}

/// Recent messages the bot could not answer, newest first: the raw material of FAQ
/// candidates (BOT-7).
pub async fn unanswered(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    since: Timestamp,
    limit: i64,
) -> Result<Vec<(ConversationId, String, Timestamp)>> {
    let rows = sqlx::query(
        "SELECT conversation_id, text, created_at FROM bot_outcomes
         WHERE workspace_id = $1 AND created_at >= $2 AND kind = 'unmatched' AND text IS NOT NULL AND text <> ''
         ORDER BY created_at DESC LIMIT $3",
    )
    .bind(ws.to_string())
    .bind(since.millis())
    .bind(limit)
    .fetch_all(c)
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                crate::parse_col(r, "conversation_id", ConversationId::parse)?,
                text(r, "text")?,
                crate::ts(r, "created_at")?,
            ))
        })
        .collect()
}
