//! Tickets, their tags, and the filters of ticket lists.

use domain::{
    Channel, ConversationId, CustomerId, ProblemCode, Severity, Status, TeamId, Ticket, TicketId,
    TicketNo, Timestamp, Urgency, UserId, WorkspaceId,
};
use sqlx::{AnyConnection, any::AnyRow};

use crate::{Binds, Page, Result, codec, int, opt_ts, parse_col, parse_opt_col, text, ts};

pub(crate) const COLS: &str = "t.id, t.workspace_id, t.number, w.ticket_prefix, t.subject, t.customer_id, t.conversation_id, t.channel,
    t.problem_code, t.severity, t.urgency, t.status, t.stage, t.assignee_id, t.team_id, t.tags, t.custom_fields,
    t.tracking_token, t.created_at, t.updated_at, t.solved_at, t.closed_at";
pub(crate) const FROM: &str = "FROM tickets t JOIN workspaces w ON w.id = t.workspace_id";

pub(crate) fn ticket(r: &AnyRow) -> Result<Ticket> {
    Ok(Ticket {
        id: parse_col(r, "id", TicketId::parse)?,
        workspace: parse_col(r, "workspace_id", WorkspaceId::parse)?,
        number: TicketNo::new(&text(r, "ticket_prefix")?, int(r, "number")?),
        subject: text(r, "subject")?,
        customer: parse_col(r, "customer_id", CustomerId::parse)?,
        conversation: parse_col(r, "conversation_id", ConversationId::parse)?,
        channel: parse_col(r, "channel", Channel::parse)?,
        problem_code: parse_opt_col(r, "problem_code", ProblemCode::parse)?,
        severity: parse_col(r, "severity", Severity::parse)?,
        urgency: parse_col(r, "urgency", Urgency::parse)?,
        status: parse_col(r, "status", Status::parse)?,
        stage: crate::opt_text(r, "stage")?,
        assignee: parse_opt_col(r, "assignee_id", UserId::parse)?,
        team: parse_opt_col(r, "team_id", TeamId::parse)?,
        tags: codec::json_to_strings(&text(r, "tags")?)?,
        custom_fields: codec::json_to_pairs(&text(r, "custom_fields")?)?,
        tracking_token: text(r, "tracking_token")?,
        created_at: ts(r, "created_at")?,
        updated_at: ts(r, "updated_at")?,
        solved_at: opt_ts(r, "solved_at")?,
        closed_at: opt_ts(r, "closed_at")?,
    })
}

pub async fn insert(c: &mut AnyConnection, t: &Ticket) -> Result<()> {
    sqlx::query(
        "INSERT INTO tickets (id, workspace_id, number, subject, customer_id, conversation_id, channel, problem_code,
            severity, urgency, status, stage, assignee_id, team_id, tags, custom_fields, tracking_token,
            created_at, updated_at, solved_at, closed_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)",
    )
    .bind(t.id.to_string())
    .bind(t.workspace.to_string())
    .bind(t.number.seq())
    .bind(&t.subject)
    .bind(t.customer.to_string())
    .bind(t.conversation.to_string())
    .bind(t.channel.as_str())
    .bind(t.problem_code.map(|p| p.to_string()))
    .bind(t.severity.as_str())
    .bind(t.urgency.as_str())
    .bind(t.status.as_str())
    .bind(&t.stage)
    .bind(t.assignee.map(|a| a.to_string()))
    .bind(t.team.map(|a| a.to_string()))
    .bind(codec::strings_to_json(&t.tags))
    .bind(codec::pairs_to_json(&t.custom_fields))
    .bind(&t.tracking_token)
    .bind(t.created_at.millis())
    .bind(t.updated_at.millis())
    .bind(t.solved_at.map(Timestamp::millis))
    .bind(t.closed_at.map(Timestamp::millis))
    .execute(&mut *c)
    .await?;
    write_tags(c, t).await
}

/// Writes every mutable column of the ticket.
pub async fn update(c: &mut AnyConnection, t: &Ticket) -> Result<()> {
    sqlx::query(
        "UPDATE tickets SET subject = $3, customer_id = $4, problem_code = $5, severity = $6, urgency = $7, status = $8,
            stage = $9, assignee_id = $10, team_id = $11, tags = $12, custom_fields = $13, updated_at = $14,
            solved_at = $15, closed_at = $16
         WHERE workspace_id = $1 AND id = $2",
    )
    .bind(t.workspace.to_string())
    .bind(t.id.to_string())
    .bind(&t.subject)
    .bind(t.customer.to_string())
    .bind(t.problem_code.map(|p| p.to_string()))
    .bind(t.severity.as_str())
    .bind(t.urgency.as_str())
    .bind(t.status.as_str())
    .bind(&t.stage)
    .bind(t.assignee.map(|a| a.to_string()))
    .bind(t.team.map(|a| a.to_string()))
    .bind(codec::strings_to_json(&t.tags))
    .bind(codec::pairs_to_json(&t.custom_fields))
    .bind(t.updated_at.millis())
    .bind(t.solved_at.map(Timestamp::millis))
    .bind(t.closed_at.map(Timestamp::millis))
    .execute(&mut *c)
    .await?;
    sqlx::query("DELETE FROM ticket_tags WHERE ticket_id = $1")
        .bind(t.id.to_string())
        .execute(&mut *c)
        .await?;
    write_tags(c, t).await
}

async fn write_tags(c: &mut AnyConnection, t: &Ticket) -> Result<()> {
    for tag in &t.tags {
        sqlx::query("INSERT INTO ticket_tags (ticket_id, workspace_id, tag) VALUES ($1, $2, $3)")
            .bind(t.id.to_string())
            .bind(t.workspace.to_string())
            .bind(tag)
            .execute(&mut *c)
            .await?;
    }
    Ok(())
}

pub async fn get(c: &mut AnyConnection, ws: WorkspaceId, id: TicketId) -> Result<Option<Ticket>> {
    let sql = format!("SELECT {COLS} {FROM} WHERE t.workspace_id = $1 AND t.id = $2");
    crate::one_by_id(c, sql, ws, id, ticket).await
}

pub async fn by_number(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    no: &TicketNo,
) -> Result<Option<Ticket>> {
    let sql = format!(
        "SELECT {COLS} {FROM} WHERE t.workspace_id = $1 AND t.number = $2 AND w.ticket_prefix = $3"
    );
    let r = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(ws.to_string())
        .bind(no.seq())
        .bind(no.prefix())
        .fetch_optional(c)
        .await?;
    r.as_ref().map(ticket).transpose()
}

pub async fn by_tracking_token(c: &mut AnyConnection, token: &str) -> Result<Option<Ticket>> {
    let sql = format!("SELECT {COLS} {FROM} WHERE t.tracking_token = $1");
    let r = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(token).fetch_optional(c).await?;
    r.as_ref().map(ticket).transpose()
}

/// Tickets of a conversation, newest first.
pub async fn of_conversation(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    conv: ConversationId,
) -> Result<Vec<Ticket>> {
    let sql = format!(
        "SELECT {COLS} {FROM} WHERE t.workspace_id = $1 AND t.conversation_id = $2 ORDER BY t.created_at DESC, t.id DESC"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(ws.to_string())
        .bind(conv.to_string())
        .fetch_all(c)
        .await?;
    rows.iter().map(ticket).collect()
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Sort {
    #[default]
    Created,
    Updated,
    /// Time to breach: the earliest running SLA deadline first (breached ones, being past,
    /// lead); tickets without a running clock last.
    Breach,
}

/// The sort key of [`Sort::Breach`] for a ticket with no running clock.
pub const NO_BREACH: i64 = 9_000_000_000_000_000;

#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub statuses: Vec<Status>,
    pub assignee: Option<UserId>,
    pub unassigned: bool,
    pub team: Option<TeamId>,
    pub customer: Option<CustomerId>,
    pub severity: Option<Severity>,
    pub urgency: Option<Urgency>,
    /// A category (`PQ`) matches all its sub-codes.
    pub problem_code: Option<ProblemCode>,
    pub tag: Option<String>,
    /// Words in the subject.
    pub q: Option<String>,
    /// Department members see only tickets of these teams or assigned to `visible_to_user`.
    pub visible_teams: Option<Vec<TeamId>>,
    pub visible_to_user: Option<UserId>,
    pub sort: Sort,
}

pub async fn list(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    f: &Filter,
    page: &Page,
) -> Result<Vec<Ticket>> {
    Ok(list_with_breach(c, ws, f, page).await?.into_iter().map(|(t, _)| t).collect())
}

/// [`list`], each ticket with its earliest running SLA deadline. Under [`Sort::Breach`] the
/// page cursor's key is `-(deadline or NO_BREACH)`, as pages run from the largest key down.
pub async fn list_with_breach(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    f: &Filter,
    page: &Page,
) -> Result<Vec<(Ticket, Option<Timestamp>)>> {
    let mut b = Binds::default();
    let mut sql = format!(
        "SELECT {COLS}, s.breach_at AS sla_breach_at {FROM} LEFT JOIN ticket_sla s ON s.ticket_id = t.id
         WHERE t.workspace_id = {}",
        b.text(ws.to_string())
    );
    if !f.statuses.is_empty() {
        let ps: Vec<String> = f.statuses.iter().map(|s| b.text(s.as_str())).collect();
        sql.push_str(&format!(" AND t.status IN ({})", ps.join(", ")));
    }
    if let Some(a) = f.assignee {
        sql.push_str(&format!(" AND t.assignee_id = {}", b.text(a.to_string())));
    }
    if f.unassigned {
        sql.push_str(" AND t.assignee_id IS NULL");
    }
    if let Some(t) = f.team {
        sql.push_str(&format!(" AND t.team_id = {}", b.text(t.to_string())));
    }
    if let Some(cu) = f.customer {
        sql.push_str(&format!(" AND t.customer_id = {}", b.text(cu.to_string())));
    }
    if let Some(s) = f.severity {
        sql.push_str(&format!(" AND t.severity = {}", b.text(s.as_str())));
    }
    if let Some(u) = f.urgency {
        sql.push_str(&format!(" AND t.urgency = {}", b.text(u.as_str())));
    }
    if let Some(p) = f.problem_code {
        if p.sub().is_some() {
            sql.push_str(&format!(" AND t.problem_code = {}", b.text(p.to_string())));
        } else {
            let (exact, prefix) = (b.text(p.to_string()), b.text(format!("{p}-%")));
            sql.push_str(&format!(
                " AND (t.problem_code = {exact} OR t.problem_code LIKE {prefix})"
            ));
        }
    }
    if let Some(tag) = &f.tag {
        let p = b.text(tag.clone());
        sql.push_str(&format!(
            " AND t.id IN (SELECT ticket_id FROM ticket_tags WHERE workspace_id = $1 AND tag = {p})"
        ));
    }
    if let Some(q) = &f.q {
        for word in q.split_whitespace().take(8) {
            let esc = word.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
            let p = b.text(format!("%{esc}%"));
            sql.push_str(&format!(" AND t.subject LIKE {p} ESCAPE '\\'"));
        }
    }
    if let Some(teams) = &f.visible_teams {
        let mut alts: Vec<String> =
            teams.iter().map(|t| format!("t.team_id = {}", b.text(t.to_string()))).collect();
        if let Some(u) = f.visible_to_user {
            alts.push(format!("t.assignee_id = {}", b.text(u.to_string())));
        }
        if alts.is_empty() {
            alts.push("1 = 0".into());
        }
        sql.push_str(&format!(" AND ({})", alts.join(" OR ")));
    }
    let key = match f.sort {
        Sort::Created => "t.created_at".to_string(),
        Sort::Updated => "t.updated_at".to_string(),
        Sort::Breach => format!("(0 - COALESCE(s.breach_at, {NO_BREACH}))"),
    };
    sql.push_str(&page.sql(&mut b, &key, "t.id"));
    let rows = b.query(sql).fetch_all(c).await?;
    rows.iter().map(|r| Ok((ticket(r)?, opt_ts(r, "sla_breach_at")?))).collect()
}

/// Tickets of these conversations in a status a new message may move (new, pending, solved).
pub async fn follow_up_candidates(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    convs: &[ConversationId],
) -> Result<Vec<Ticket>> {
    if convs.is_empty() {
        return Ok(Vec::new());
    }
    let mut b = Binds::default();
    let w = b.text(ws.to_string());
    let ps: Vec<String> = convs.iter().map(|i| b.text(i.to_string())).collect();
    let sql = format!(
        "SELECT {COLS} {FROM} WHERE t.workspace_id = {w} AND t.conversation_id IN ({}) AND t.status IN ('new', 'pending', 'solved')",
        ps.join(", ")
    );
    let rows = b.query(sql).fetch_all(c).await?;
    rows.iter().map(ticket).collect()
}

/// Tickets of these conversations that are not closed.
pub async fn active_of_conversations(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    convs: &[ConversationId],
) -> Result<Vec<Ticket>> {
    if convs.is_empty() {
        return Ok(Vec::new());
    }
    let mut b = Binds::default();
    let w = b.text(ws.to_string());
    let ps: Vec<String> = convs.iter().map(|i| b.text(i.to_string())).collect();
    let sql = format!(
        "SELECT {COLS} {FROM} WHERE t.workspace_id = {w} AND t.conversation_id IN ({}) AND t.status <> 'closed'",
        ps.join(", ")
    );
    let rows = b.query(sql).fetch_all(c).await?;
    rows.iter().map(ticket).collect()
}

/// When the ticket entered its current status: its latest creation or status-change audit
/// entry (committed ones; a change in the caller's open transaction is not seen).
pub async fn status_since(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    ticket: TicketId,
) -> Result<Option<domain::Timestamp>> {
    let r = sqlx::query(
        "SELECT MAX(at) AS at FROM audit_log
         WHERE workspace_id = $1 AND object_type = 'ticket' AND object_id = $2
           AND action IN ('ticket.create', 'ticket.status')",
    )
    .bind(ws.to_string())
    .bind(ticket.to_string())
    .fetch_one(c)
    .await?;
    crate::opt_ts(&r, "at")
}
