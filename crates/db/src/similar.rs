//! The similar-solved-tickets rows (TK-9): one derived row per solved or closed ticket with the
//! texts agent assist searches, and what they are computed from. `rev` orders changes per
//! workspace; removal empties a row's texts and keeps it as a tombstone so that every
//! server's in-memory index (`app::bot::similar`) catches up by reading the rows past its
//! cursor. Writers take [`next_rev`] inside a `WriteTx`, whose workspace lock makes revs
//! increase in commit order.

use anyhow::Context;
use domain::{CustomerId, Ticket, TicketId, Timestamp, WorkspaceId};
use sqlx::{AnyConnection, any::AnyRow};

use crate::{Binds, Result, int, opt_text, parse_col, parse_opt_col, text};

/// One row: a solved ticket's texts, or a tombstone (`removed`, texts empty).
#[derive(Debug, Clone, PartialEq)]
pub struct SimilarRow {
    pub ticket: TicketId,
    pub rev: i64,
    pub removed: bool,
    /// The ticket's display number, e.g. `HT-1024`.
    pub ticket_no: String,
    pub customer: Option<CustomerId>,
    pub subject: String,
    pub problem: String,
    pub resolution: String,
    pub problem_code: Option<String>,
    /// `zh` or `en`.
    pub lang: String,
    pub solved_at: Option<Timestamp>,
}

/// What a ticket's row is made of, read from its conversation.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Source {
    /// The customer's first public messages since the conversation's previous ticket was
    /// solved, at most three, oldest first.
    pub problem: Vec<String>,
    /// The last public agent reply before solving.
    pub resolution: Option<String>,
    /// The conversation was anonymised (erasure or retention): nothing may be indexed.
    pub anonymised: bool,
}

const COLUMNS: &str = "ticket_id, rev, removed, ticket_no, customer_id, subject, problem, resolution, problem_code, lang, solved_at";

fn row(r: &AnyRow) -> Result<SimilarRow> {
    Ok(SimilarRow {
        ticket: parse_col(r, "ticket_id", TicketId::parse)?,
        rev: int(r, "rev")?,
        removed: int(r, "removed")? != 0,
        ticket_no: text(r, "ticket_no")?,
        customer: parse_opt_col(r, "customer_id", CustomerId::parse)?,
        subject: text(r, "subject")?,
        problem: text(r, "problem")?,
        resolution: text(r, "resolution")?,
        problem_code: opt_text(r, "problem_code")?,
        lang: text(r, "lang")?,
        solved_at: crate::opt_ts(r, "solved_at")?,
    })
}

/// The next rev in `ws`. Call it inside a `WriteTx` (the workspace lock orders revs).
pub async fn next_rev(c: &mut AnyConnection, ws: WorkspaceId) -> Result<i64> {
    let r = sqlx::query(
        "SELECT COALESCE(MAX(rev), 0) + 1 AS rev FROM similar_tickets WHERE workspace_id = $1",
    )
    .bind(ws.to_string())
    .fetch_one(c)
    .await?;
    int(&r, "rev")
}

/// What `t`'s row is made of: its conversation's customer messages since the previous ticket
/// of that conversation was solved, and the last public agent reply up to `t`'s solving.
pub async fn source(c: &mut AnyConnection, ws: WorkspaceId, t: &Ticket) -> Result<Source> {
    let w = ws.to_string();
    let conv = t.conversation.to_string();
    let anonymised =
        sqlx::query("SELECT anonymised_at FROM conversations WHERE workspace_id = $1 AND id = $2")
            .bind(&w)
            .bind(&conv)
            .fetch_optional(&mut *c)
            .await?
            .map(|r| crate::opt_ts(&r, "anonymised_at"))
            .transpose()?
            .flatten()
            .is_some();
    if anonymised {
        return Ok(Source { anonymised: true, ..Source::default() });
    }
    let since = sqlx::query(
        "SELECT COALESCE(MAX(solved_at), 0) AS since FROM tickets
         WHERE workspace_id = $1 AND conversation_id = $2 AND id <> $3 AND created_at < $4
           AND solved_at IS NOT NULL AND solved_at < $4",
    )
    .bind(&w)
    .bind(&conv)
    .bind(t.id.to_string())
    .bind(t.created_at.millis())
    .fetch_one(&mut *c)
    .await?;
    let since = int(&since, "since")?;
    let until = t.solved_at.or(t.closed_at).unwrap_or(t.updated_at).millis();
    let problem = sqlx::query(
        "SELECT body FROM messages WHERE workspace_id = $1 AND conversation_id = $2
            AND sender = 'customer' AND visibility = 'public' AND created_at > $3
            AND created_at <= $4
         ORDER BY created_at, id LIMIT 3",
    )
    .bind(&w)
    .bind(&conv)
    .bind(since)
    .bind(until)
    .fetch_all(&mut *c)
    .await?
    .iter()
    .map(|r| text(r, "body"))
    .collect::<Result<Vec<_>>>()?;
    let resolution = sqlx::query(
        "SELECT body FROM messages WHERE workspace_id = $1 AND conversation_id = $2
            AND sender = 'agent' AND visibility = 'public' AND created_at > $3
            AND created_at <= $4
         ORDER BY created_at DESC, id DESC LIMIT 1",
    )
    .bind(&w)
    .bind(&conv)
    .bind(since)
    .bind(until)
    .fetch_optional(&mut *c)
    .await?
    .map(|r| text(&r, "body"))
    .transpose()?;
    Ok(Source { problem, resolution, anonymised: false })
}

/// Inserts or replaces a ticket's row.
pub async fn put(c: &mut AnyConnection, ws: WorkspaceId, r: &SimilarRow) -> Result<()> {
    sqlx::query(
        "INSERT INTO similar_tickets (workspace_id, ticket_id, rev, removed, ticket_no, customer_id,
            subject, problem, resolution, problem_code, lang, solved_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         ON CONFLICT (workspace_id, ticket_id) DO UPDATE SET rev = excluded.rev,
            removed = excluded.removed, ticket_no = excluded.ticket_no,
            customer_id = excluded.customer_id, subject = excluded.subject,
            problem = excluded.problem, resolution = excluded.resolution,
            problem_code = excluded.problem_code, lang = excluded.lang,
            solved_at = excluded.solved_at",
    )
    .bind(ws.to_string())
    .bind(r.ticket.to_string())
    .bind(r.rev)
    .bind(i64::from(r.removed))
    .bind(&r.ticket_no)
    .bind(r.customer.map(|c| c.to_string()))
    .bind(&r.subject)
    .bind(&r.problem)
    .bind(&r.resolution)
    .bind(r.problem_code.clone())
    .bind(&r.lang)
    .bind(r.solved_at.map(|t| t.millis()))
    .execute(c)
    .await
    .context("writing a similar-ticket row")?;
    Ok(())
}

/// Turns the live rows of `tickets` into tombstones at `rev` (texts emptied); returns how
/// many were live.
pub async fn remove(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    tickets: &[String],
    rev: i64,
) -> Result<u64> {
    let mut n = 0;
    for chunk in tickets.chunks(500) {
        let mut b = Binds::default();
        let sql = format!(
            "UPDATE similar_tickets SET removed = 1, rev = {}, customer_id = NULL, subject = '',
                problem = '', resolution = '', problem_code = NULL
             WHERE workspace_id = {} AND removed = 0 AND ticket_id IN ({})",
            b.int(rev),
            b.text(ws.to_string()),
            chunk.iter().map(|t| b.text(t.clone())).collect::<Vec<_>>().join(", ")
        );
        n += b.query(sql).execute(&mut *c).await?.rows_affected();
    }
    Ok(n)
}

/// Tombstones the live rows of tickets in `conversations` (erasure and retention), at the
/// next rev; returns how many.
pub async fn remove_conversations(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    conversations: &[String],
) -> Result<u64> {
    if conversations.is_empty() {
        return Ok(0);
    }
    let mut tickets = Vec::new();
    for chunk in conversations.chunks(500) {
        let mut b = Binds::default();
        let sql = format!(
            "SELECT s.ticket_id FROM similar_tickets s JOIN tickets t ON t.id = s.ticket_id
             WHERE s.workspace_id = {} AND s.removed = 0 AND t.conversation_id IN ({})",
            b.text(ws.to_string()),
            chunk.iter().map(|t| b.text(t.clone())).collect::<Vec<_>>().join(", ")
        );
        for r in b.query(sql).fetch_all(&mut *c).await? {
            tickets.push(text(&r, "ticket_id")?);
        }
    }
    if tickets.is_empty() {
        return Ok(0);
    }
    let rev = next_rev(c, ws).await?;
    remove(c, ws, &tickets, rev).await
}

/// Rows of `ws` changed after the cursor `(rev, ticket)` — rows of one rev share it, so the
/// ticket id breaks ties — in that order, at most `limit`.
pub async fn since(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    rev: i64,
    after_ticket: &str,
    limit: i64,
) -> Result<Vec<SimilarRow>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM similar_tickets
         WHERE workspace_id = $1 AND (rev > $2 OR (rev = $2 AND ticket_id > $3))
         ORDER BY rev, ticket_id LIMIT $4"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(ws.to_string())
        .bind(rev)
        .bind(after_ticket.to_owned())
        .bind(limit)
        .fetch_all(c)
        .await?
        .iter()
        .map(row)
        .collect()
}

/// One ticket's row, live or not.
pub async fn get(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    ticket: TicketId,
) -> Result<Option<SimilarRow>> {
    let sql =
        format!("SELECT {COLUMNS} FROM similar_tickets WHERE workspace_id = $1 AND ticket_id = $2");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(ws.to_string())
        .bind(ticket.to_string())
        .fetch_optional(c)
        .await?
        .as_ref()
        .map(row)
        .transpose()
}

/// The ids of the live rows.
pub async fn live(c: &mut AnyConnection, ws: WorkspaceId) -> Result<Vec<String>> {
    sqlx::query("SELECT ticket_id FROM similar_tickets WHERE workspace_id = $1 AND removed = 0")
        .bind(ws.to_string())
        .fetch_all(c)
        .await?
        .iter()
        .map(|r| text(r, "ticket_id"))
        .collect()
}

/// The ids of the workspace's solved and closed tickets, for a rebuild.
pub async fn done_tickets(c: &mut AnyConnection, ws: WorkspaceId) -> Result<Vec<TicketId>> {
    sqlx::query(
        "SELECT id FROM tickets WHERE workspace_id = $1 AND status IN ('solved', 'closed')
         ORDER BY number",
    )
    .bind(ws.to_string())
    .fetch_all(c)
    .await?
    .iter()
    .map(|r| parse_col(r, "id", TicketId::parse))
    .collect()
}

/// Bulk-writes rows (the suggestion benchmark's generated history), 200 per statement.
pub async fn synth(c: &mut AnyConnection, ws: WorkspaceId, rows: &[SimilarRow]) -> Result<()> {
    for chunk in rows.chunks(200) {
        let mut b = Binds::default();
        let w = b.text(ws.to_string());
        let values: Vec<String> = chunk
            .iter()
            .map(|r| {
                format!(
                    "({w}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {})",
                    b.text(r.ticket.to_string()),
                    b.int(r.rev),
                    b.int(i64::from(r.removed)),
                    b.text(r.ticket_no.clone()),
                    b.opt_text(r.customer.map(|c| c.to_string())),
                    b.text(r.subject.clone()),
                    b.text(r.problem.clone()),
                    b.text(r.resolution.clone()),
                    b.opt_text(r.problem_code.clone()),
                    b.text(r.lang.clone()),
                    r.solved_at.map_or("NULL".to_string(), |t| b.int(t.millis())),
                )
            })
            .collect();
        let sql = format!(
            "INSERT INTO similar_tickets (workspace_id, ticket_id, rev, removed, ticket_no, customer_id,
                subject, problem, resolution, problem_code, lang, solved_at) VALUES {}",
            values.join(", ")
        );
        b.query(sql).execute(&mut *c).await.context("writing generated similar-ticket rows")?;
    }
    Ok(())
}
