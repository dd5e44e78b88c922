//! The bot at run time: each workspace's configuration document, each bot conversation's
//! dialogue state, and the outcome rows behind bot metrics and the learning loop. The
//! configuration and the state are `dialogue`'s own JSON documents.

use anyhow::Context;
use dialogue::{BotConfig, State};
use domain::{
    BotOutcomeId, Conversation, ConversationId, MatchSettings, ModelKind, NluModelId, Timestamp,
    WorkspaceId,
};
use sqlx::{AnyConnection, Row};

use crate::{Result, int, opt_text, parse_opt_col, text};

/// Everything a bot turn reads besides the customer, in one statement: the conversation with
/// the workspace's bot configuration, the conversation's dialogue state, the knowledge base's
/// thresholds, the active model ids and the workspace's name beside it (a turn used to make
/// seven separate reads, and each costs a hop to the database's thread).
#[derive(Debug)]
pub struct TurnReads {
    pub conversation: Conversation,
    /// `None` if the workspace never saved one (the defaults apply).
    pub config: Option<BotConfig>,
    /// `None` before the conversation's first turn.
    pub state: Option<State>,
    /// `None` if the workspace never set its thresholds.
    pub kb_settings: Option<MatchSettings>,
    pub active_models: Vec<(NluModelId, ModelKind)>,
    pub workspace_name: Option<String>,
}

/// A bot turn's reads for `conversation`, or `None` if it does not exist in `ws`.
pub async fn turn_reads(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    conversation: ConversationId,
) -> Result<Option<TurnReads>> {
    let sql = format!(
        "SELECT {cols},
           (SELECT config FROM bot_settings WHERE workspace_id = $1) AS bot_config,
           (SELECT state FROM bot_sessions WHERE workspace_id = $1 AND conversation_id = $2) AS bot_state,
           (SELECT answer_threshold FROM kb_settings WHERE workspace_id = $1) AS kb_answer,
           (SELECT confirm_threshold FROM kb_settings WHERE workspace_id = $1) AS kb_confirm,
           (SELECT id FROM nlu_models WHERE workspace_id = $1 AND active = 1 AND kind = '{intent}'
             ORDER BY id LIMIT 1) AS intent_model,
           (SELECT id FROM nlu_models WHERE workspace_id = $1 AND active = 1 AND kind = '{sentiment}'
             ORDER BY id LIMIT 1) AS sentiment_model,
           (SELECT name FROM workspaces WHERE id = $1) AS workspace_name
         FROM conversations WHERE workspace_id = $1 AND id = $2",
        cols = crate::conversations::COLS,
        intent = ModelKind::Intent.as_str(),
        sentiment = ModelKind::Sentiment.as_str(),
    );
    let Some(r) = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(ws.to_string())
        .bind(conversation.to_string())
        .fetch_optional(c)
        .await?
    else {
        return Ok(None);
    };
    let json = |col: &str| opt_text(&r, col);
    let config = json("bot_config")?
        .map(|t| serde_json::from_str(&t).context("stored bot configuration"))
        .transpose()?;
    let state = json("bot_state")?
        .map(|t| serde_json::from_str(&t).context("stored dialogue state"))
        .transpose()?;
    let answer: Option<f64> = r.try_get("kb_answer").context("kb_answer")?;
    let confirm: Option<f64> = r.try_get("kb_confirm").context("kb_confirm")?;
    let kb_settings = answer.zip(confirm).map(|(answer_threshold, confirm_threshold)| {
        MatchSettings { answer_threshold, confirm_threshold }
    });
    let mut active_models = Vec::new();
    for (col, kind) in
        [("intent_model", ModelKind::Intent), ("sentiment_model", ModelKind::Sentiment)]
    {
        if let Some(id) = parse_opt_col(&r, col, NluModelId::parse)? {
            active_models.push((id, kind));
        }
    }
    Ok(Some(TurnReads {
        conversation: crate::conversations::conversation(&r)?,
        config,
        state,
        kb_settings,
        active_models,
        workspace_name: opt_text(&r, "workspace_name")?,
    }))
}

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
