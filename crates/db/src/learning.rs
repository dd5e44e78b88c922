//! The learning loop's storage (BOT-7): the questions to learn from (unanswered, and answered
//! then rated low, read from `bot_outcomes`) and the FAQ candidates made of them.

use anyhow::Context;
use domain::{
    CandidateQuestion, CandidateStatus, ConversationId, FaqId, KbCandidate, KbCandidateId,
    Timestamp, WorkspaceId, learning::LOW_RATING,
};
use serde_json::{Value, json};
use sqlx::{AnyConnection, any::AnyRow};

use crate::{Result, codec, int, opt_text, opt_ts, parse_col, text, ts};

/// A question to learn from: its text, when it was asked, and, if the bot answered it and the
/// customer rated the answer low, the entry it answered with.
#[derive(Debug, Clone, PartialEq)]
pub struct Question {
    pub text: String,
    pub at: Timestamp,
    pub low_rated: Option<String>,
}

/// Unmatched questions, and answered questions whose answer was rated at most `LOW_RATING`,
/// asked at or after `since`, oldest first (at most `limit` of each kind).
pub async fn questions(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    since: Timestamp,
    limit: i64,
) -> Result<Vec<Question>> {
    let rows = sqlx::query(
        "SELECT text, created_at FROM bot_outcomes
         WHERE workspace_id = $1 AND created_at >= $2 AND kind = 'unmatched'
           AND text IS NOT NULL AND text <> ''
         ORDER BY created_at, id LIMIT $3",
    )
    .bind(ws.to_string())
    .bind(since.millis())
    .bind(limit)
    .fetch_all(&mut *c)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        out.push(Question { text: text(r, "text")?, at: ts(r, "created_at")?, low_rated: None });
    }
    // Each low rating with the latest answer of the same entry before it in its conversation.
    let rows = sqlx::query(
        "SELECT conversation_id, kind, entry, text, score, created_at FROM bot_outcomes
         WHERE workspace_id = $1 AND created_at >= $2
           AND ((kind = 'rated' AND score <= $3) OR (kind = 'answered' AND text IS NOT NULL))
         ORDER BY conversation_id, created_at, id",
    )
    .bind(ws.to_string())
    .bind(since.millis())
    .bind(LOW_RATING)
    .fetch_all(&mut *c)
    .await?;
    let mut low = Vec::new();
    let mut last: Option<(ConversationId, String, String)> = None;
    for r in &rows {
        let conv = parse_col(r, "conversation_id", ConversationId::parse)?;
        let entry = opt_text(r, "entry")?.unwrap_or_default();
        if text(r, "kind")? == "answered" {
            last = Some((conv, entry, opt_text(r, "text")?.unwrap_or_default()));
        } else if let Some((c, e, t)) = &last
            && *c == conv
            && *e == entry
            && !t.trim().is_empty()
        {
            low.push(Question {
                text: t.clone(),
                at: ts(r, "created_at")?,
                low_rated: Some(entry),
            });
        }
    }
    low.truncate(limit.max(0) as usize);
    out.extend(low);
    Ok(out)
}

fn questions_json(qs: &[CandidateQuestion]) -> String {
    Value::Array(
        qs.iter()
            .map(|q| {
                json!({"text": q.text, "count": q.count, "unmatched": q.unmatched, "low_rated": q.low_rated})
            })
            .collect(),
    )
    .to_string()
}

fn parse_questions(s: &str) -> Result<Vec<CandidateQuestion>> {
    let v: Vec<Value> = serde_json::from_str(s).context("stored candidate questions")?;
    Ok(v.iter()
        .map(|q| CandidateQuestion {
            text: q["text"].as_str().unwrap_or_default().to_owned(),
            count: q["count"].as_i64().unwrap_or_default(),
            unmatched: q["unmatched"].as_i64().unwrap_or_default(),
            low_rated: q["low_rated"].as_i64().unwrap_or_default(),
        })
        .collect())
}

const COLS: &str = "id, workspace_id, status, question, questions, total, unmatched, low_rated, \
    faqs, first_seen, last_seen, created_at, updated_at, decided_at, decided_by, faq_id";

fn map(r: &AnyRow) -> Result<KbCandidate> {
    let faqs: Vec<String> =
        serde_json::from_str(&text(r, "faqs")?).context("stored candidate entries")?;
    Ok(KbCandidate {
        id: parse_col(r, "id", KbCandidateId::parse)?,
        workspace: parse_col(r, "workspace_id", WorkspaceId::parse)?,
        status: parse_col(r, "status", CandidateStatus::parse)?,
        question: text(r, "question")?,
        questions: parse_questions(&text(r, "questions")?)?,
        total: int(r, "total")?,
        unmatched: int(r, "unmatched")?,
        low_rated: int(r, "low_rated")?,
        faqs: faqs.iter().filter_map(|f| FaqId::parse(f).ok()).collect(),
        first_seen: ts(r, "first_seen")?,
        last_seen: ts(r, "last_seen")?,
        created_at: ts(r, "created_at")?,
        updated_at: ts(r, "updated_at")?,
        decided_at: opt_ts(r, "decided_at")?,
        decided_by: opt_text(r, "decided_by")?.map(|a| codec::parse_actor(&a)).transpose()?,
        faq: crate::parse_opt_col(r, "faq_id", FaqId::parse)?,
    })
}

/// Candidates with `status` (all if `None`): most asked first, then newest.
pub async fn list(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    status: Option<CandidateStatus>,
) -> Result<Vec<KbCandidate>> {
    let sql = format!(
        "SELECT {COLS} FROM kb_candidates WHERE workspace_id = $1 AND ($2 = '' OR status = $2)
         ORDER BY total DESC, last_seen DESC, id"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(ws.to_string())
        .bind(status.map_or("", |s| s.as_str()))
        .fetch_all(c)
        .await?;
    rows.iter().map(map).collect()
}

pub async fn get(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    id: KbCandidateId,
) -> Result<Option<KbCandidate>> {
    let sql = format!("SELECT {COLS} FROM kb_candidates WHERE workspace_id = $1 AND id = $2");
    crate::one_by_id(c, sql, ws, id, map).await
}

/// Removes every open candidate (a clustering run replaces them).
pub async fn delete_open(c: &mut AnyConnection, ws: WorkspaceId) -> Result<u64> {
    let r = sqlx::query("DELETE FROM kb_candidates WHERE workspace_id = $1 AND status = 'open'")
        .bind(ws.to_string())
        .execute(c)
        .await?;
    Ok(r.rows_affected())
}

pub async fn insert(c: &mut AnyConnection, k: &KbCandidate) -> Result<()> {
    let faqs: Vec<String> = k.faqs.iter().map(ToString::to_string).collect();
    sqlx::query(
        "INSERT INTO kb_candidates (id, workspace_id, status, question, questions, total, unmatched,
            low_rated, faqs, first_seen, last_seen, created_at, updated_at, decided_at, decided_by, faq_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
    )
    .bind(k.id.to_string())
    .bind(k.workspace.to_string())
    .bind(k.status.as_str())
    .bind(&k.question)
    .bind(questions_json(&k.questions))
    .bind(k.total)
    .bind(k.unmatched)
    .bind(k.low_rated)
    .bind(serde_json::to_string(&faqs)?)
    .bind(k.first_seen.millis())
    .bind(k.last_seen.millis())
    .bind(k.created_at.millis())
    .bind(k.updated_at.millis())
    .bind(k.decided_at.map(|t| t.millis()))
    .bind(k.decided_by.map(|a| a.to_string()))
    .bind(k.faq.map(|f| f.to_string()))
    .execute(c)
    .await?;
    Ok(())
}

/// Records a decision on an open candidate; false if it was no longer open.
pub async fn decide(c: &mut AnyConnection, k: &KbCandidate) -> Result<bool> {
    let r = sqlx::query(
        "UPDATE kb_candidates SET status = $3, question = $4, decided_at = $5, decided_by = $6,
            faq_id = $7, updated_at = $5
         WHERE workspace_id = $1 AND id = $2 AND status = 'open'",
    )
    .bind(k.workspace.to_string())
    .bind(k.id.to_string())
    .bind(k.status.as_str())
    .bind(&k.question)
    .bind(k.decided_at.map(|t| t.millis()))
    .bind(k.decided_by.map(|a| a.to_string()))
    .bind(k.faq.map(|f| f.to_string()))
    .execute(c)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// The question texts of decided candidates: not proposed again.
pub async fn decided_texts(c: &mut AnyConnection, ws: WorkspaceId) -> Result<Vec<String>> {
    let rows = sqlx::query(
        "SELECT questions FROM kb_candidates WHERE workspace_id = $1 AND status <> 'open'",
    )
    .bind(ws.to_string())
    .fetch_all(c)
    .await?;
    let mut out = Vec::new();
    for r in &rows {
        out.extend(parse_questions(&text(r, "questions")?)?.into_iter().map(|q| q.text));
    }
    Ok(out)
}
