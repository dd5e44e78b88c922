//! Personal data (PL-4): everything stored about one customer, read for an export, and the
//! one anonymiser shared by erasure on request and by the retention job. Anonymising keeps
//! rows, ids, timestamps, scores, problem codes and SLA records (analytics stay correct) and
//! replaces or deletes what identifies or was said by a person: names, identities, message
//! and feedback texts, subjects, addresses, free-text answers and uploaded files' bytes.

use domain::{
    Conversation, ConversationId, CustomerId, Message, Ticket, Timestamp, WorkspaceId,
    feedback::{FeedbackItem, Survey},
};
use sqlx::AnyConnection;

use crate::{Binds, Result, chat_files::ChatFile, codec, conversations, feedback, tickets};

/// What replaces an anonymised text.
pub const REDACTED: &str = "[已删除]";
/// The pseudonym an erased customer keeps.
pub const ERASED_NAME: &str = "已删除客户";

/// `col IN ($a, $b, …)` over `ids`, binding each.
fn in_list(b: &mut Binds, col: &str, ids: &[String]) -> String {
    if ids.is_empty() {
        return "1 = 0".to_string();
    }
    let ph: Vec<String> = ids.iter().map(|i| b.text(i.clone())).collect();
    format!("{col} IN ({})", ph.join(", "))
}

/// The customer and the customers merged into it (their pointers keep a name too).
pub async fn customer_family(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    cu: CustomerId,
) -> Result<Vec<CustomerId>> {
    let rows = sqlx::query(
        "SELECT id FROM customers WHERE workspace_id = $1 AND (id = $2 OR merged_into = $2) ORDER BY id",
    )
    .bind(ws.to_string())
    .bind(cu.to_string())
    .fetch_all(c)
    .await?;
    rows.iter().map(|r| crate::parse_col(r, "id", CustomerId::parse)).collect()
}

/// Every conversation of the customers, oldest first.
pub async fn conversations_of(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    customers: &[CustomerId],
) -> Result<Vec<Conversation>> {
    let mut b = Binds::default();
    let ids: Vec<String> = customers.iter().map(ToString::to_string).collect();
    let sql = format!(
        "SELECT {} FROM conversations WHERE workspace_id = {} AND {} ORDER BY id",
        conversations::COLS,
        b.text(ws.to_string()),
        in_list(&mut b, "customer_id", &ids)
    );
    b.query(sql).fetch_all(c).await?.iter().map(conversations::conversation).collect()
}

/// Every message of a conversation in order; `public_only` leaves out internal notes.
pub async fn messages_of(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    conv: ConversationId,
    public_only: bool,
) -> Result<Vec<Message>> {
    let vis = if public_only { " AND visibility = 'public'" } else { "" };
    let sql = format!(
        "SELECT {} FROM messages WHERE workspace_id = $1 AND conversation_id = $2{vis} ORDER BY id",
        conversations::MSG_COLS
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(ws.to_string())
        .bind(conv.to_string())
        .fetch_all(c)
        .await?
        .iter()
        .map(conversations::message)
        .collect()
}

/// Every ticket of the customers, oldest first.
pub async fn tickets_of(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    customers: &[CustomerId],
) -> Result<Vec<Ticket>> {
    let mut b = Binds::default();
    let ids: Vec<String> = customers.iter().map(ToString::to_string).collect();
    let sql = format!(
        "SELECT {} {} WHERE t.workspace_id = {} AND {} ORDER BY t.number",
        tickets::COLS,
        tickets::FROM,
        b.text(ws.to_string()),
        in_list(&mut b, "t.customer_id", &ids)
    );
    b.query(sql).fetch_all(c).await?.iter().map(tickets::ticket).collect()
}

/// The customers' feedback items and reviews, oldest first.
pub async fn feedback_of(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    customers: &[CustomerId],
) -> Result<Vec<FeedbackItem>> {
    let mut b = Binds::default();
    let ids: Vec<String> = customers.iter().map(ToString::to_string).collect();
    let sql = format!(
        "SELECT {} FROM feedback_items WHERE workspace_id = {} AND {} ORDER BY id",
        feedback::FEEDBACK_COLS,
        b.text(ws.to_string()),
        in_list(&mut b, "customer_id", &ids)
    );
    b.query(sql).fetch_all(c).await?.iter().map(feedback::feedback).collect()
}

/// The customers' surveys (sent, answered or expired), oldest first.
pub async fn surveys_of(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    customers: &[CustomerId],
) -> Result<Vec<Survey>> {
    let mut b = Binds::default();
    let ids: Vec<String> = customers.iter().map(ToString::to_string).collect();
    let sql = format!(
        "SELECT {} FROM surveys WHERE workspace_id = {} AND {} ORDER BY id",
        feedback::SURVEY_COLS,
        b.text(ws.to_string()),
        in_list(&mut b, "customer_id", &ids)
    );
    b.query(sql).fetch_all(c).await?.iter().map(feedback::survey).collect()
}

/// The uploaded chat images of the conversations (records, not bytes).
pub async fn chat_files_of(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    convs: &[ConversationId],
) -> Result<Vec<ChatFile>> {
    let mut b = Binds::default();
    let ids: Vec<String> = convs.iter().map(ToString::to_string).collect();
    let sql = format!(
        "SELECT {} FROM chat_files WHERE workspace_id = {} AND {} ORDER BY id",
        crate::chat_files::COLS,
        b.text(ws.to_string()),
        in_list(&mut b, "conversation_id", &ids)
    );
    b.query(sql).fetch_all(c).await?.iter().map(crate::chat_files::row).collect()
}

/// Whether one of the customers has a ticket still being worked (not solved or closed).
pub async fn has_open_cases(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    customers: &[CustomerId],
) -> Result<bool> {
    let mut b = Binds::default();
    let ids: Vec<String> = customers.iter().map(ToString::to_string).collect();
    let sql = format!(
        "SELECT id FROM tickets WHERE workspace_id = {} AND {} AND status NOT IN ('solved', 'closed') LIMIT 1",
        b.text(ws.to_string()),
        in_list(&mut b, "customer_id", &ids)
    );
    Ok(b.query(sql).fetch_optional(c).await?.is_some())
}

/// When the customer was erased, if it was.
pub async fn erased_at(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    cu: CustomerId,
) -> Result<Option<Timestamp>> {
    let r = sqlx::query("SELECT erased_at FROM customers WHERE workspace_id = $1 AND id = $2")
        .bind(ws.to_string())
        .bind(cu.to_string())
        .fetch_optional(c)
        .await?;
    Ok(r.and_then(|r| crate::opt_ts(&r, "erased_at").ok().flatten()))
}

/// What an anonymisation changed, for the audit entry.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub customers: u64,
    pub identities: u64,
    pub conversations: u64,
    pub messages: u64,
    pub tickets: u64,
    pub files: u64,
    pub feedback: u64,
    pub surveys: u64,
}

/// Runs one statement built from `sql(binds)`, returning the rows it touched.
async fn exec(c: &mut AnyConnection, f: impl FnOnce(&mut Binds) -> String) -> Result<u64> {
    let mut b = Binds::default();
    let sql = f(&mut b);
    Ok(b.query(sql).execute(c).await?.rows_affected())
}

/// Anonymises conversations and everything hanging off them (PL-4): message bodies and their
/// attachment lists, subjects, the tickets' subjects and custom fields, chat images and email
/// attachments (bytes deleted), email headers' subjects and addresses, channel routes and
/// outbound copies, bot state and bot question texts, the tickets' survey comments and
/// answers, collaboration and compensation texts, notification bodies and quality findings'
/// quotes, and the tickets' similar-solved-tickets rows (tombstoned). Ids, timestamps, statuses,
/// problem codes, scores and SLA records stay.
pub async fn anonymise_conversations(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    convs: &[ConversationId],
    now: Timestamp,
) -> Result<Counts> {
    let mut n = Counts::default();
    if convs.is_empty() {
        return Ok(n);
    }
    let ws_s = ws.to_string();
    let ids: Vec<String> = convs.iter().map(ToString::to_string).collect();
    // Email attachments are found through the messages that carry them.
    let mut email_files = Vec::new();
    {
        let mut b = Binds::default();
        let sql = format!(
            "SELECT attachments FROM messages WHERE workspace_id = {} AND {} AND attachments <> '[]'",
            b.text(ws_s.clone()),
            in_list(&mut b, "conversation_id", &ids)
        );
        for r in b.query(sql).fetch_all(&mut *c).await? {
            for a in codec::json_to_attachments(&crate::text(&r, "attachments")?)? {
                if let Some(id) = a.url.strip_prefix("/files/email/") {
                    email_files.push(id.to_string());
                }
            }
        }
    }
    let tix: Vec<String> = {
        let mut b = Binds::default();
        let sql = format!(
            "SELECT id FROM tickets WHERE workspace_id = {} AND {}",
            b.text(ws_s.clone()),
            in_list(&mut b, "conversation_id", &ids)
        );
        b.query(sql)
            .fetch_all(&mut *c)
            .await?
            .iter()
            .map(|r| crate::text(r, "id"))
            .collect::<Result<_>>()?
    };
    let empty_pairs = codec::pairs_to_json(&[]);
    let w = |b: &mut Binds| b.text(ws_s.clone());
    n.messages = exec(c, |b| {
        format!(
            "UPDATE messages SET body = {}, attachments = '[]' WHERE workspace_id = {} AND {}",
            b.text(REDACTED),
            w(b),
            in_list(b, "conversation_id", &ids)
        )
    })
    .await?;
    n.conversations = exec(c, |b| {
        format!(
            "UPDATE conversations SET subject = NULL, anonymised_at = {} WHERE workspace_id = {} AND {}",
            b.int(now.millis()),
            w(b),
            in_list(b, "id", &ids)
        )
    })
    .await?;
    n.tickets = exec(c, |b| {
        format!(
            "UPDATE tickets SET subject = {}, custom_fields = {} WHERE workspace_id = {} AND {}",
            b.text(REDACTED),
            b.text(empty_pairs.clone()),
            w(b),
            in_list(b, "conversation_id", &ids)
        )
    })
    .await?;
    n.files = exec(c, |b| {
        format!(
            "DELETE FROM chat_files WHERE workspace_id = {} AND {}",
            w(b),
            in_list(b, "conversation_id", &ids)
        )
    })
    .await?;
    n.files += exec(c, |b| {
        format!(
            "DELETE FROM email_files WHERE workspace_id = {} AND {}",
            w(b),
            in_list(b, "id", &email_files)
        )
    })
    .await?;
    let by_conv: [(&str, &str); 6] = [
        ("UPDATE email_messages SET subject = '', address = ''", "conversation_id"),
        ("DELETE FROM conversation_routes", "conversation_id"),
        ("UPDATE outbound_messages SET body = '', address = ''", "conversation_id"),
        ("DELETE FROM bot_sessions", "conversation_id"),
        ("UPDATE bot_outcomes SET text = NULL", "conversation_id"),
        ("UPDATE quality_findings SET detail = ''", "conversation_id"),
    ];
    for (stmt, col) in by_conv {
        exec(c, |b| format!("{stmt} WHERE workspace_id = {} AND {}", w(b), in_list(b, col, &ids)))
            .await?;
    }
    let by_ticket: [(&str, &str); 5] = [
        ("UPDATE surveys SET comment = NULL, answers = NULL", "ticket_id"),
        ("UPDATE collaborations SET question = '', answer = NULL", "ticket_id"),
        ("UPDATE compensations SET basis = '', report = NULL", "ticket_id"),
        ("UPDATE notifications SET body = ''", "ticket_id"),
        ("UPDATE proactive_sends SET body = '', text = ''", "conversation_id"),
    ];
    for (stmt, col) in by_ticket {
        let list = if col == "ticket_id" { &tix } else { &ids };
        exec(c, |b| format!("{stmt} WHERE workspace_id = {} AND {}", w(b), in_list(b, col, list)))
            .await?;
    }
    exec(c, |b| {
        let sub = format!(
            "SELECT id FROM collaborations WHERE workspace_id = {} AND {}",
            w(b),
            in_list(b, "ticket_id", &tix)
        );
        format!("UPDATE collaboration_updates SET body = '' WHERE collaboration_id IN ({sub})")
    })
    .await?;
    // The similar-solved-tickets rows of these conversations' tickets keep no text (TK-9).
    crate::similar::remove_conversations(c, ws, &ids).await?;
    Ok(n)
}

/// Erases one customer family's own records (PL-4): the pseudonym, attributes cleared,
/// identities, visitor tokens and verification codes deleted, feedback texts and files,
/// survey free text and proactive message copies redacted. The caller anonymises their
/// conversations with [`anonymise_conversations`] in the same transaction.
pub async fn erase_customers(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    customers: &[CustomerId],
    now: Timestamp,
) -> Result<Counts> {
    let mut n = Counts::default();
    let ws_s = ws.to_string();
    let ids: Vec<String> = customers.iter().map(ToString::to_string).collect();
    let w = |b: &mut Binds| b.text(ws_s.clone());
    n.customers = exec(c, |b| {
        format!(
            "UPDATE customers SET name = {}, attributes = {}, erased_at = {}, updated_at = {} WHERE workspace_id = {} AND {}",
            b.text(ERASED_NAME),
            b.text(codec::pairs_to_json(&[])),
            b.int(now.millis()),
            b.int(now.millis()),
            w(b),
            in_list(b, "id", &ids)
        )
    })
    .await?;
    n.identities = exec(c, |b| {
        format!(
            "DELETE FROM customer_identities WHERE workspace_id = {} AND {}",
            w(b),
            in_list(b, "customer_id", &ids)
        )
    })
    .await?;
    for table in ["customer_tokens", "verification_codes"] {
        exec(c, |b| {
            format!(
                "DELETE FROM {table} WHERE workspace_id = {} AND {}",
                w(b),
                in_list(b, "customer_id", &ids)
            )
        })
        .await?;
    }
    n.files = exec(c, |b| {
        let sub = format!(
            "SELECT id FROM feedback_items WHERE workspace_id = {} AND {}",
            w(b),
            in_list(b, "customer_id", &ids)
        );
        format!("DELETE FROM feedback_attachments WHERE feedback_id IN ({sub})")
    })
    .await?;
    n.feedback = exec(c, |b| {
        format!(
            "UPDATE feedback_items SET body = {}, contact = NULL, order_no = NULL, attachments = '[]' WHERE workspace_id = {} AND {}",
            b.text(REDACTED),
            w(b),
            in_list(b, "customer_id", &ids)
        )
    })
    .await?;
    n.surveys = exec(c, |b| {
        format!(
            "UPDATE surveys SET comment = NULL, answers = NULL WHERE workspace_id = {} AND {}",
            w(b),
            in_list(b, "customer_id", &ids)
        )
    })
    .await?;
    exec(c, |b| {
        format!(
            "UPDATE proactive_sends SET body = '', text = '' WHERE workspace_id = {} AND {}",
            w(b),
            in_list(b, "customer_id", &ids)
        )
    })
    .await?;
    Ok(n)
}

/// Up to `limit` conversations whose cases ended before `cutoff` and that are not yet
/// anonymised: no message since, not open, and every ticket of it closed before `cutoff`.
pub async fn expired_conversations(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    cutoff: Timestamp,
    limit: i64,
) -> Result<Vec<ConversationId>> {
    let rows = sqlx::query(
        "SELECT v.id FROM conversations v
         WHERE v.workspace_id = $1 AND v.anonymised_at IS NULL AND v.last_message_at < $2
           AND v.status = 'resolved'
           AND NOT EXISTS (SELECT 1 FROM tickets t WHERE t.conversation_id = v.id
                           AND (t.closed_at IS NULL OR t.closed_at >= $2))
         ORDER BY v.last_message_at, v.id LIMIT $3",
    )
    .bind(ws.to_string())
    .bind(cutoff.millis())
    .bind(limit)
    .fetch_all(c)
    .await?;
    rows.iter().map(|r| crate::parse_col(r, "id", ConversationId::parse)).collect()
}

/// The workspace's retention period in days, if set.
pub async fn retention_days(c: &mut AnyConnection, ws: WorkspaceId) -> Result<Option<i64>> {
    let r = sqlx::query("SELECT retention_days FROM privacy_settings WHERE workspace_id = $1")
        .bind(ws.to_string())
        .fetch_optional(c)
        .await?;
    r.map(|r| crate::int(&r, "retention_days")).transpose()
}

pub async fn put_retention_days(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    days: i64,
    now: Timestamp,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO privacy_settings (workspace_id, retention_days, updated_at) VALUES ($1, $2, $3)
         ON CONFLICT (workspace_id) DO UPDATE SET retention_days = $2, updated_at = $3",
    )
    .bind(ws.to_string())
    .bind(days)
    .bind(now.millis())
    .execute(c)
    .await?;
    Ok(())
}
