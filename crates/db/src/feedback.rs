//! Surveys and their settings (FB-1, FB-5), feedback items and imported reviews (FB-2) and the
//! content signals of inbound messages and feedback (FB-3, FB-4). The `surveys`,
//! `feedback_items` and `content_signals` tables are read by analytics and alerts too.

use anyhow::{Context, anyhow};
use domain::{
    ProblemCode, Timestamp, WorkspaceId,
    feedback::{
        ContentKind, ContentSignal, FeedbackAttachment, FeedbackItem, FeedbackSource,
        FeedbackStatus, SentimentLabel, SignalSource, SignalUrgency, Survey, SurveyKind,
        SurveyQuestion, SurveySettings, SurveyStatus,
    },
};
use serde_json::{Value, json};
use sqlx::{AnyConnection, Row, any::AnyRow};

use crate::{
    Binds, Page, Result, codec, int, opt_text, opt_ts, parse_col, parse_opt_col, text, ts,
};

fn opt_int(r: &AnyRow, col: &str) -> Result<Option<i64>> {
    r.try_get(col).with_context(|| format!("reading column {col}"))
}

fn questions_to_json(q: &[SurveyQuestion]) -> String {
    Value::Array(
        q.iter()
            .map(|q| json!({"id": q.id, "text": q.text, "type": q.kind, "options": q.options}))
            .collect(),
    )
    .to_string()
}

fn json_to_questions(s: &str) -> Result<Vec<SurveyQuestion>> {
    let v: Vec<Value> = serde_json::from_str(s).with_context(|| format!("questions: {s:?}"))?;
    Ok(v.iter()
        .map(|q| {
            let f = |k: &str| q.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
            SurveyQuestion {
                id: f("id"),
                text: f("text"),
                kind: f("type"),
                options: q
                    .get("options")
                    .and_then(Value::as_array)
                    .map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect())
                    .unwrap_or_default(),
            }
        })
        .collect())
}

// ---- survey settings ----

/// The workspace's survey settings, if it set its own.
pub async fn survey_settings(
    c: &mut AnyConnection,
    ws: WorkspaceId,
) -> Result<Option<SurveySettings>> {
    let r = sqlx::query(
        "SELECT enabled, kinds, delay_minutes, expiry_hours, reminder_hours, csat_low, nps_low,
                ces_low, special_team_id, questions
         FROM survey_settings WHERE workspace_id = $1",
    )
    .bind(ws.to_string())
    .fetch_optional(c)
    .await?;
    let Some(r) = r else { return Ok(None) };
    let kinds = codec::json_to_strings(&text(&r, "kinds")?)?
        .iter()
        .map(|k| SurveyKind::parse(k).map_err(|e| anyhow!("{e}")))
        .collect::<Result<Vec<_>>>()?;
    Ok(Some(SurveySettings {
        enabled: int(&r, "enabled")? != 0,
        kinds,
        delay_minutes: int(&r, "delay_minutes")?,
        expiry_hours: int(&r, "expiry_hours")?,
        reminder_hours: int(&r, "reminder_hours")?,
        csat_low: int(&r, "csat_low")?,
        nps_low: int(&r, "nps_low")?,
        ces_low: int(&r, "ces_low")?,
        special_team: parse_opt_col(&r, "special_team_id", domain::TeamId::parse)?,
        questions: json_to_questions(&text(&r, "questions")?)?,
    }))
}

pub async fn put_survey_settings(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    s: &SurveySettings,
    now: Timestamp,
) -> Result<()> {
    let kinds: Vec<String> = s.kinds.iter().map(|k| k.as_str().to_string()).collect();
    sqlx::query(
        "INSERT INTO survey_settings (workspace_id, enabled, kinds, delay_minutes, expiry_hours,
            reminder_hours, csat_low, nps_low, ces_low, special_team_id, questions, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         ON CONFLICT (workspace_id) DO UPDATE SET enabled = $2, kinds = $3, delay_minutes = $4,
            expiry_hours = $5, reminder_hours = $6, csat_low = $7, nps_low = $8, ces_low = $9,
            special_team_id = $10, questions = $11, updated_at = $12",
    )
    .bind(ws.to_string())
    .bind(i64::from(s.enabled))
    .bind(codec::strings_to_json(&kinds))
    .bind(s.delay_minutes)
    .bind(s.expiry_hours)
    .bind(s.reminder_hours)
    .bind(s.csat_low)
    .bind(s.nps_low)
    .bind(s.ces_low)
    .bind(s.special_team.map(|t| t.to_string()))
    .bind(questions_to_json(&s.questions))
    .bind(now.millis())
    .execute(c)
    .await?;
    Ok(())
}

// ---- surveys ----

pub(crate) const SURVEY_COLS: &str =
    "id, workspace_id, batch_id, ticket_id, customer_id, conversation_id, kind, channel,
    status, score, comment, answers, questions, team_id, agent_id, low_score, followup_ticket_id,
    created_at, send_at, sent_at, reminded_at, answered_at, expires_at";

pub(crate) fn survey(r: &AnyRow) -> Result<Survey> {
    Ok(Survey {
        id: parse_col(r, "id", domain::SurveyId::parse)?,
        workspace: parse_col(r, "workspace_id", WorkspaceId::parse)?,
        batch: parse_col(r, "batch_id", domain::SurveyId::parse)?,
        ticket: parse_opt_col(r, "ticket_id", domain::TicketId::parse)?,
        customer: parse_opt_col(r, "customer_id", domain::CustomerId::parse)?,
        conversation: parse_opt_col(r, "conversation_id", domain::ConversationId::parse)?,
        kind: parse_col(r, "kind", SurveyKind::parse)?,
        channel: text(r, "channel")?,
        status: parse_col(r, "status", SurveyStatus::parse)?,
        score: opt_int(r, "score")?,
        comment: opt_text(r, "comment")?,
        answers: opt_text(r, "answers")?
            .map(|a| codec::json_to_pairs(&a))
            .transpose()?
            .unwrap_or_default(),
        questions: json_to_questions(&text(r, "questions")?)?,
        team: parse_opt_col(r, "team_id", domain::TeamId::parse)?,
        agent: parse_opt_col(r, "agent_id", domain::UserId::parse)?,
        low_score: int(r, "low_score")? != 0,
        followup_ticket: parse_opt_col(r, "followup_ticket_id", domain::TicketId::parse)?,
        created_at: ts(r, "created_at")?,
        send_at: ts(r, "send_at")?,
        sent_at: opt_ts(r, "sent_at")?,
        reminded_at: opt_ts(r, "reminded_at")?,
        answered_at: opt_ts(r, "answered_at")?,
        expires_at: ts(r, "expires_at")?,
    })
}

/// Inserts a survey (its link is made when it is sent: [`set_link`]).
pub async fn insert_survey(c: &mut AnyConnection, s: &Survey) -> Result<()> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO surveys ({SURVEY_COLS})
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,
                 $19, $20, $21, $22, $23)"
    )))
    .bind(s.id.to_string())
    .bind(s.workspace.to_string())
    .bind(s.batch.to_string())
    .bind(s.ticket.map(|x| x.to_string()))
    .bind(s.customer.map(|x| x.to_string()))
    .bind(s.conversation.map(|x| x.to_string()))
    .bind(s.kind.as_str())
    .bind(s.channel.clone())
    .bind(s.status.as_str())
    .bind(s.score)
    .bind(s.comment.clone())
    .bind((!s.answers.is_empty()).then(|| codec::pairs_to_json(&s.answers)))
    .bind(questions_to_json(&s.questions))
    .bind(s.team.map(|x| x.to_string()))
    .bind(s.agent.map(|x| x.to_string()))
    .bind(i64::from(s.low_score))
    .bind(s.followup_ticket.map(|x| x.to_string()))
    .bind(s.created_at.millis())
    .bind(s.send_at.millis())
    .bind(s.sent_at.map(Timestamp::millis))
    .bind(s.reminded_at.map(Timestamp::millis))
    .bind(s.answered_at.map(Timestamp::millis))
    .bind(s.expires_at.millis())
    .execute(c)
    .await?;
    Ok(())
}

/// Stores the mutable state of `s` (status, answer, times, follow-up).
pub async fn update_survey(c: &mut AnyConnection, s: &Survey) -> Result<()> {
    sqlx::query(
        "UPDATE surveys SET status = $3, score = $4, comment = $5, answers = $6, low_score = $7,
            followup_ticket_id = $8, sent_at = $9, reminded_at = $10, answered_at = $11
         WHERE workspace_id = $1 AND id = $2",
    )
    .bind(s.workspace.to_string())
    .bind(s.id.to_string())
    .bind(s.status.as_str())
    .bind(s.score)
    .bind(s.comment.clone())
    .bind((!s.answers.is_empty()).then(|| codec::pairs_to_json(&s.answers)))
    .bind(i64::from(s.low_score))
    .bind(s.followup_ticket.map(|x| x.to_string()))
    .bind(s.sent_at.map(Timestamp::millis))
    .bind(s.reminded_at.map(Timestamp::millis))
    .bind(s.answered_at.map(Timestamp::millis))
    .execute(c)
    .await?;
    Ok(())
}

pub async fn get_survey(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    id: domain::SurveyId,
) -> Result<Option<Survey>> {
    crate::one_by_id(
        c,
        format!("SELECT {SURVEY_COLS} FROM surveys WHERE workspace_id = $1 AND id = $2"),
        ws,
        id,
        survey,
    )
    .await
}

/// Records the hash of a link secret on a batch's first survey: the one sent first, or the one
/// sent with the reminder. Both stay valid until the batch is answered or expires.
pub async fn set_link(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    batch: domain::SurveyId,
    token_hash: &str,
    reminder: bool,
) -> Result<()> {
    let col = if reminder { "reminder_token_hash" } else { "token_hash" };
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE surveys SET {col} = $3 WHERE workspace_id = $1 AND id = $2"
    )))
    .bind(ws.to_string())
    .bind(batch.to_string())
    .bind(token_hash.to_string())
    .execute(c)
    .await?;
    Ok(())
}

/// The batch's first survey whose link secret hashes to `token_hash`.
pub async fn survey_by_token(c: &mut AnyConnection, token_hash: &str) -> Result<Option<Survey>> {
    let r = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {SURVEY_COLS} FROM surveys WHERE token_hash = $1 OR reminder_token_hash = $1"
    )))
    .bind(token_hash.to_string())
    .fetch_optional(c)
    .await?;
    r.as_ref().map(survey).transpose()
}

/// The surveys of one batch, first first.
pub async fn batch(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    batch: domain::SurveyId,
) -> Result<Vec<Survey>> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {SURVEY_COLS} FROM surveys WHERE workspace_id = $1 AND batch_id = $2 ORDER BY id"
    )))
    .bind(ws.to_string())
    .bind(batch.to_string())
    .fetch_all(c)
    .await?
    .iter()
    .map(survey)
    .collect()
}

#[derive(Debug, Clone, Default)]
pub struct SurveyFilter {
    pub customer: Option<domain::CustomerId>,
    pub ticket: Option<domain::TicketId>,
    pub status: Option<SurveyStatus>,
    pub kind: Option<SurveyKind>,
    pub since: Option<Timestamp>,
    /// Surveys sent for this agent (`agent_id`).
    pub agent: Option<domain::UserId>,
}

pub async fn list_surveys(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    f: &SurveyFilter,
    page: &Page,
) -> Result<Vec<Survey>> {
    let mut b = Binds::default();
    let mut sql = format!(
        "SELECT {SURVEY_COLS} FROM surveys WHERE workspace_id = {}",
        b.text(ws.to_string())
    );
    if let Some(x) = f.customer {
        sql.push_str(&format!(" AND customer_id = {}", b.text(x.to_string())));
    }
    if let Some(x) = f.ticket {
        sql.push_str(&format!(" AND ticket_id = {}", b.text(x.to_string())));
    }
    if let Some(x) = f.status {
        sql.push_str(&format!(" AND status = {}", b.text(x.as_str())));
    }
    if let Some(x) = f.kind {
        sql.push_str(&format!(" AND kind = {}", b.text(x.as_str())));
    }
    if let Some(x) = f.since {
        sql.push_str(&format!(" AND created_at >= {}", b.int(x.millis())));
    }
    if let Some(x) = f.agent {
        sql.push_str(&format!(" AND agent_id = {}", b.text(x.to_string())));
    }
    sql.push_str(&page.sql(&mut b, "created_at", "id"));
    b.query(sql).fetch_all(c).await?.iter().map(survey).collect()
}

// ---- feedback items ----

pub(crate) const FEEDBACK_COLS: &str = "id, workspace_id, customer_id, source, platform, external_id, rating,
    body, order_no, sku, contact, ticket_id, assignee_id, attachments, occurred_at, created_at, status,
    due_at";

fn attachments_to_json(v: &[FeedbackAttachment]) -> String {
    Value::Array(
        v.iter()
            .map(|a| {
                json!({"id": a.id, "kind": a.kind, "content_type": a.content_type,
                            "size": a.size, "sha256": a.sha256, "name": a.name})
            })
            .collect(),
    )
    .to_string()
}

fn json_to_attachments(s: &str) -> Result<Vec<FeedbackAttachment>> {
    let v: Vec<Value> = serde_json::from_str(s).with_context(|| format!("attachments: {s:?}"))?;
    Ok(v.iter()
        .map(|a| {
            let f = |k: &str| a.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
            FeedbackAttachment {
                id: f("id"),
                kind: f("kind"),
                content_type: f("content_type"),
                size: a.get("size").and_then(Value::as_i64).unwrap_or_default(),
                sha256: f("sha256"),
                name: a.get("name").and_then(Value::as_str).map(str::to_string),
            }
        })
        .collect())
}

pub(crate) fn feedback(r: &AnyRow) -> Result<FeedbackItem> {
    Ok(FeedbackItem {
        id: parse_col(r, "id", domain::FeedbackId::parse)?,
        workspace: parse_col(r, "workspace_id", WorkspaceId::parse)?,
        customer: parse_opt_col(r, "customer_id", domain::CustomerId::parse)?,
        source: parse_col(r, "source", FeedbackSource::parse)?,
        platform: opt_text(r, "platform")?,
        external_id: opt_text(r, "external_id")?,
        rating: opt_int(r, "rating")?,
        body: text(r, "body")?,
        order_no: opt_text(r, "order_no")?,
        sku: opt_text(r, "sku")?,
        contact: opt_text(r, "contact")?,
        ticket: parse_opt_col(r, "ticket_id", domain::TicketId::parse)?,
        assignee: parse_opt_col(r, "assignee_id", domain::UserId::parse)?,
        attachments: json_to_attachments(&text(r, "attachments")?)?,
        occurred_at: ts(r, "occurred_at")?,
        created_at: ts(r, "created_at")?,
        status: parse_col(r, "status", FeedbackStatus::parse)?,
        due_at: opt_ts(r, "due_at")?,
    })
}

/// Inserts a feedback item. Returns false (and writes nothing) when the workspace already holds
/// an item with the same platform and external id: a re-imported review.
pub async fn insert_feedback(c: &mut AnyConnection, f: &FeedbackItem) -> Result<bool> {
    let done = sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO feedback_items ({FEEDBACK_COLS})
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
         ON CONFLICT (workspace_id, platform, external_id) DO NOTHING"
    )))
    .bind(f.id.to_string())
    .bind(f.workspace.to_string())
    .bind(f.customer.map(|x| x.to_string()))
    .bind(f.source.as_str())
    .bind(f.platform.clone())
    .bind(f.external_id.clone())
    .bind(f.rating)
    .bind(f.body.clone())
    .bind(f.order_no.clone())
    .bind(f.sku.clone())
    .bind(f.contact.clone())
    .bind(f.ticket.map(|x| x.to_string()))
    .bind(f.assignee.map(|x| x.to_string()))
    .bind(attachments_to_json(&f.attachments))
    .bind(f.occurred_at.millis())
    .bind(f.created_at.millis())
    .bind(f.status.as_str())
    .bind(f.due_at.map(Timestamp::millis))
    .execute(c)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Stores an upload (its bytes included) of feedback item `feedback`.
pub async fn insert_attachment(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    feedback: domain::FeedbackId,
    a: &FeedbackAttachment,
    data: &[u8],
    now: Timestamp,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO feedback_attachments (id, workspace_id, feedback_id, kind, content_type, size,
            sha256, original_name, data, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(a.id.clone())
    .bind(ws.to_string())
    .bind(feedback.to_string())
    .bind(a.kind.clone())
    .bind(a.content_type.clone())
    .bind(a.size)
    .bind(a.sha256.clone())
    .bind(a.name.clone())
    .bind(data.to_vec())
    .bind(now.millis())
    .execute(c)
    .await?;
    Ok(())
}

/// An upload's content type and bytes.
pub async fn attachment_data(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    feedback: domain::FeedbackId,
    id: &str,
) -> Result<Option<(String, Vec<u8>)>> {
    let r = sqlx::query(
        "SELECT content_type, data FROM feedback_attachments
         WHERE workspace_id = $1 AND feedback_id = $2 AND id = $3",
    )
    .bind(ws.to_string())
    .bind(feedback.to_string())
    .bind(id.to_string())
    .fetch_optional(c)
    .await?;
    r.map(|r| Ok((text(&r, "content_type")?, r.try_get("data").context("reading data")?)))
        .transpose()
}

pub async fn get_feedback(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    id: domain::FeedbackId,
) -> Result<Option<FeedbackItem>> {
    crate::one_by_id(
        c,
        format!("SELECT {FEEDBACK_COLS} FROM feedback_items WHERE workspace_id = $1 AND id = $2"),
        ws,
        id,
        feedback,
    )
    .await
}

#[derive(Debug, Clone, Default)]
pub struct FeedbackFilter {
    pub customer: Option<domain::CustomerId>,
    pub source: Option<FeedbackSource>,
    pub platform: Option<String>,
    pub status: Option<FeedbackStatus>,
    /// Only items whose signal has this kind.
    pub kind: Option<ContentKind>,
    pub since: Option<Timestamp>,
}

pub async fn list_feedback(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    f: &FeedbackFilter,
    page: &Page,
) -> Result<Vec<FeedbackItem>> {
    let mut b = Binds::default();
    let mut sql = format!(
        "SELECT {FEEDBACK_COLS} FROM feedback_items WHERE workspace_id = {}",
        b.text(ws.to_string())
    );
    if let Some(x) = f.customer {
        sql.push_str(&format!(" AND customer_id = {}", b.text(x.to_string())));
    }
    if let Some(x) = f.source {
        sql.push_str(&format!(" AND source = {}", b.text(x.as_str())));
    }
    if let Some(x) = &f.platform {
        sql.push_str(&format!(" AND platform = {}", b.text(x.clone())));
    }
    if let Some(x) = f.status {
        sql.push_str(&format!(" AND status = {}", b.text(x.as_str())));
    }
    if let Some(x) = f.kind {
        let w = b.text(ws.to_string());
        sql.push_str(&format!(
            " AND id IN (SELECT source_id FROM content_signals WHERE workspace_id = {w}
                 AND source IN ('feedback', 'review') AND kind = {})",
            b.text(x.as_str())
        ));
    }
    if let Some(x) = f.since {
        sql.push_str(&format!(" AND created_at >= {}", b.int(x.millis())));
    }
    sql.push_str(&page.sql(&mut b, "created_at", "id"));
    b.query(sql).fetch_all(c).await?.iter().map(feedback).collect()
}

// ---- content signals ----

const SIGNAL_COLS: &str =
    "id, workspace_id, source, source_id, customer_id, ticket_id, conversation_id, channel,
    kind, sentiment, sentiment_score, strong_negative, problem_code, urgency, product, due_at,
    assign_due_at, overdue, created_at";

fn signal(r: &AnyRow) -> Result<ContentSignal> {
    Ok(ContentSignal {
        id: parse_col(r, "id", domain::SignalId::parse)?,
        workspace: parse_col(r, "workspace_id", WorkspaceId::parse)?,
        source: parse_col(r, "source", SignalSource::parse)?,
        source_id: text(r, "source_id")?,
        customer: parse_opt_col(r, "customer_id", domain::CustomerId::parse)?,
        ticket: parse_opt_col(r, "ticket_id", domain::TicketId::parse)?,
        conversation: parse_opt_col(r, "conversation_id", domain::ConversationId::parse)?,
        channel: opt_text(r, "channel")?,
        kind: parse_col(r, "kind", ContentKind::parse)?,
        sentiment: parse_col(r, "sentiment", SentimentLabel::parse)?,
        sentiment_score: r.try_get("sentiment_score").context("reading sentiment_score")?,
        strong_negative: int(r, "strong_negative")? != 0,
        problem_code: parse_opt_col(r, "problem_code", ProblemCode::parse)?,
        urgency: parse_col(r, "urgency", SignalUrgency::parse)?,
        product: opt_text(r, "product")?,
        due_at: ts(r, "due_at")?,
        assign_due_at: opt_ts(r, "assign_due_at")?,
        overdue: int(r, "overdue")? != 0,
        created_at: ts(r, "created_at")?,
    })
}

/// Inserts signals in one multi-row statement; a source already classified is skipped.
pub async fn insert_signals(c: &mut AnyConnection, v: &[ContentSignal]) -> Result<()> {
    let dialect = crate::Dialect::of(c);
    for chunk in v.chunks(100) {
        let mut q = String::from("INSERT INTO content_signals (");
        q.push_str(SIGNAL_COLS);
        q.push_str(") VALUES ");
        let n = 19;
        for i in 0..chunk.len() {
            if i > 0 {
                q.push(',');
            }
            q.push('(');
            for j in 0..n {
                if j > 0 {
                    q.push(',');
                }
                // Anonymous on SQLite: its `$N` lookups are O(n²) in the parameter count.
                match dialect {
                    crate::Dialect::Sqlite => q.push('?'),
                    crate::Dialect::Postgres => q.push_str(&format!("${}", i * n + j + 1)),
                }
            }
            q.push(')');
        }
        q.push_str(" ON CONFLICT (workspace_id, source, source_id) DO NOTHING");
        let mut query = sqlx::query(sqlx::AssertSqlSafe(q));
        for s in chunk {
            query = query
                .bind(s.id.to_string())
                .bind(s.workspace.to_string())
                .bind(s.source.as_str())
                .bind(s.source_id.clone())
                .bind(s.customer.map(|x| x.to_string()))
                .bind(s.ticket.map(|x| x.to_string()))
                .bind(s.conversation.map(|x| x.to_string()))
                .bind(s.channel.clone())
                .bind(s.kind.as_str())
                .bind(s.sentiment.as_str())
                .bind(s.sentiment_score)
                .bind(i64::from(s.strong_negative))
                .bind(s.problem_code.map(|p| p.to_string()))
                .bind(s.urgency.as_str())
                .bind(s.product.clone())
                .bind(s.due_at.millis())
                .bind(s.assign_due_at.map(Timestamp::millis))
                .bind(i64::from(s.overdue))
                .bind(s.created_at.millis());
        }
        query.execute(&mut *c).await?;
    }
    Ok(())
}

pub async fn signal_of(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    source: SignalSource,
    source_id: &str,
) -> Result<Option<ContentSignal>> {
    let r = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {SIGNAL_COLS} FROM content_signals
         WHERE workspace_id = $1 AND source = $2 AND source_id = $3"
    )))
    .bind(ws.to_string())
    .bind(source.as_str())
    .bind(source_id.to_string())
    .fetch_optional(c)
    .await?;
    r.as_ref().map(signal).transpose()
}

pub async fn get_signal(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    id: domain::SignalId,
) -> Result<Option<ContentSignal>> {
    crate::one_by_id(
        c,
        format!("SELECT {SIGNAL_COLS} FROM content_signals WHERE workspace_id = $1 AND id = $2"),
        ws,
        id,
        signal,
    )
    .await
}

#[derive(Debug, Clone, Default)]
pub struct SignalFilter {
    pub customer: Option<domain::CustomerId>,
    pub ticket: Option<domain::TicketId>,
    pub source: Option<SignalSource>,
    pub kind: Option<ContentKind>,
    pub overdue: Option<bool>,
    pub since: Option<Timestamp>,
}

pub async fn list_signals(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    f: &SignalFilter,
    page: &Page,
) -> Result<Vec<ContentSignal>> {
    let mut b = Binds::default();
    let mut sql = format!(
        "SELECT {SIGNAL_COLS} FROM content_signals WHERE workspace_id = {}",
        b.text(ws.to_string())
    );
    if let Some(x) = f.customer {
        sql.push_str(&format!(" AND customer_id = {}", b.text(x.to_string())));
    }
    if let Some(x) = f.ticket {
        sql.push_str(&format!(" AND ticket_id = {}", b.text(x.to_string())));
    }
    if let Some(x) = f.source {
        sql.push_str(&format!(" AND source = {}", b.text(x.as_str())));
    }
    if let Some(x) = f.kind {
        sql.push_str(&format!(" AND kind = {}", b.text(x.as_str())));
    }
    if let Some(x) = f.overdue {
        sql.push_str(&format!(" AND overdue = {}", b.int(i64::from(x))));
    }
    if let Some(x) = f.since {
        sql.push_str(&format!(" AND created_at >= {}", b.int(x.millis())));
    }
    sql.push_str(&page.sql(&mut b, "created_at", "id"));
    b.query(sql).fetch_all(c).await?.iter().map(signal).collect()
}

/// Marks a signal overdue; returns whether it was not already.
pub async fn mark_signal_overdue(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    id: domain::SignalId,
) -> Result<bool> {
    let r = sqlx::query(
        "UPDATE content_signals SET overdue = 1 WHERE workspace_id = $1 AND id = $2 AND overdue = 0",
    )
    .bind(ws.to_string())
    .bind(id.to_string())
    .execute(c)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Stores a feedback item's handling state (status, assignee, attachments list).
pub async fn update_feedback(c: &mut AnyConnection, f: &FeedbackItem) -> Result<()> {
    sqlx::query(
        "UPDATE feedback_items SET status = $3, assignee_id = $4, attachments = $5, ticket_id = $6
         WHERE workspace_id = $1 AND id = $2",
    )
    .bind(f.workspace.to_string())
    .bind(f.id.to_string())
    .bind(f.status.as_str())
    .bind(f.assignee.map(|x| x.to_string()))
    .bind(attachments_to_json(&f.attachments))
    .bind(f.ticket.map(|x| x.to_string()))
    .execute(c)
    .await?;
    Ok(())
}

/// An inbound customer message to classify, with its conversation's context.
#[derive(Debug, Clone)]
pub struct Inbound {
    pub message: domain::MessageId,
    pub body: String,
    pub conversation: domain::ConversationId,
    pub customer: domain::CustomerId,
    pub channel: String,
    pub created_at: Timestamp,
}

/// The customer messages among `ids`, with their conversations' customer and channel.
pub async fn inbound_messages(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    ids: &[domain::MessageId],
) -> Result<Vec<Inbound>> {
    let mut out = Vec::new();
    for chunk in ids.chunks(200) {
        let mut b = Binds::default();
        let w = b.text(ws.to_string());
        let list: Vec<String> = chunk.iter().map(|id| b.text(id.to_string())).collect();
        let sql = format!(
            "SELECT m.id, m.body, m.conversation_id, c.customer_id, c.channel, m.created_at
             FROM messages m JOIN conversations c ON c.id = m.conversation_id
             WHERE m.workspace_id = {w} AND m.sender = 'customer' AND m.id IN ({})
             ORDER BY m.id",
            list.join(", ")
        );
        for r in b.query(sql).fetch_all(&mut *c).await? {
            out.push(Inbound {
                message: parse_col(&r, "id", domain::MessageId::parse)?,
                body: text(&r, "body")?,
                conversation: parse_col(&r, "conversation_id", domain::ConversationId::parse)?,
                customer: parse_col(&r, "customer_id", domain::CustomerId::parse)?,
                channel: text(&r, "channel")?,
                created_at: ts(&r, "created_at")?,
            });
        }
    }
    Ok(out)
}

/// Whether the ticket has a survey batch still waiting (scheduled, sent or reminded).
pub async fn has_open_survey(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    ticket: domain::TicketId,
) -> Result<bool> {
    let r = sqlx::query(
        "SELECT 1 AS x FROM surveys WHERE workspace_id = $1 AND ticket_id = $2
           AND status IN ('scheduled', 'sent', 'reminded') LIMIT 1",
    )
    .bind(ws.to_string())
    .bind(ticket.to_string())
    .fetch_optional(c)
    .await?;
    Ok(r.is_some())
}

/// Whether any content of the conversation was classified as a complaint.
pub async fn conversation_has_complaint(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    conversation: domain::ConversationId,
) -> Result<bool> {
    let r = sqlx::query(
        "SELECT 1 AS x FROM content_signals WHERE workspace_id = $1 AND conversation_id = $2
           AND kind = 'complaint' LIMIT 1",
    )
    .bind(ws.to_string())
    .bind(conversation.to_string())
    .fetch_optional(c)
    .await?;
    Ok(r.is_some())
}

/// What churn risk is computed from, per customer (AN-5).
#[derive(Debug, Clone, Default)]
pub struct ChurnFacts {
    /// Distinct complaint contacts (conversations or feedback items) since the cut-off.
    pub complaints: u32,
    /// Answered surveys (kind, score) since the cut-off.
    pub surveys: Vec<(SurveyKind, i64)>,
    /// The latest classified inbound content (message or feedback).
    pub last_contact: Option<Timestamp>,
}

/// Churn facts for every customer with activity since `since` (or for `only`), keyed by
/// customer id.
pub async fn churn_facts(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    only: Option<domain::CustomerId>,
    complaints_since: Timestamp,
    surveys_since: Timestamp,
) -> Result<std::collections::HashMap<domain::CustomerId, ChurnFacts>> {
    use std::collections::HashMap;
    let mut out: HashMap<domain::CustomerId, ChurnFacts> = HashMap::new();
    let filter = |b: &mut Binds| match only {
        Some(cu) => format!(" AND customer_id = {}", b.text(cu.to_string())),
        None => " AND customer_id IS NOT NULL".to_string(),
    };
    let mut b = Binds::default();
    let w = b.text(ws.to_string());
    let f = filter(&mut b);
    let since = b.int(complaints_since.millis());
    let sql = format!(
        "SELECT customer_id, COUNT(DISTINCT COALESCE(conversation_id, source_id)) AS n
         FROM content_signals WHERE workspace_id = {w}{f} AND kind = 'complaint'
           AND created_at >= {since} GROUP BY customer_id"
    );
    for r in b.query(sql).fetch_all(&mut *c).await? {
        let cu = parse_col(&r, "customer_id", domain::CustomerId::parse)?;
        out.entry(cu).or_default().complaints = int(&r, "n")?.max(0) as u32;
    }
    let mut b = Binds::default();
    let w = b.text(ws.to_string());
    let f = filter(&mut b);
    let sql = format!(
        "SELECT customer_id, MAX(created_at) AS last FROM content_signals
         WHERE workspace_id = {w}{f} GROUP BY customer_id"
    );
    for r in b.query(sql).fetch_all(&mut *c).await? {
        let cu = parse_col(&r, "customer_id", domain::CustomerId::parse)?;
        out.entry(cu).or_default().last_contact = Some(ts(&r, "last")?);
    }
    let mut b = Binds::default();
    let w = b.text(ws.to_string());
    let f = filter(&mut b);
    let since = b.int(surveys_since.millis());
    let sql = format!(
        "SELECT customer_id, kind, score FROM surveys
         WHERE workspace_id = {w}{f} AND status = 'answered' AND score IS NOT NULL
           AND answered_at >= {since}"
    );
    for r in b.query(sql).fetch_all(&mut *c).await? {
        let cu = parse_col(&r, "customer_id", domain::CustomerId::parse)?;
        let kind = parse_col(&r, "kind", SurveyKind::parse)?;
        out.entry(cu).or_default().surveys.push((kind, int(&r, "score")?));
    }
    Ok(out)
}

/// A customer's name, tier and attributes, for churn lists.
#[derive(Debug, Clone)]
pub struct CustomerBrief {
    pub id: domain::CustomerId,
    pub name: String,
    pub tier: String,
    pub attributes: Vec<(String, String)>,
}

pub async fn customer_briefs(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    ids: &[domain::CustomerId],
) -> Result<Vec<CustomerBrief>> {
    let mut out = Vec::new();
    for chunk in ids.chunks(200) {
        let mut b = Binds::default();
        let w = b.text(ws.to_string());
        let list: Vec<String> = chunk.iter().map(|id| b.text(id.to_string())).collect();
        let sql = format!(
            "SELECT id, name, tier, attributes FROM customers
             WHERE workspace_id = {w} AND merged_into IS NULL AND id IN ({})",
            list.join(", ")
        );
        for r in b.query(sql).fetch_all(&mut *c).await? {
            out.push(CustomerBrief {
                id: parse_col(&r, "id", domain::CustomerId::parse)?,
                name: text(&r, "name")?,
                tier: text(&r, "tier")?,
                attributes: codec::json_to_pairs(&text(&r, "attributes")?)?,
            });
        }
    }
    Ok(out)
}
