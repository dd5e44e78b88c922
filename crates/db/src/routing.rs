//! Routing state (TK-5): agents' presence, capacity and current load, teams' strategy and
//! overflow, the queue of unassigned tickets per team, and the recent handling time.

use domain::{Severity, TeamId, TicketId, Timestamp, Urgency, UserId, WorkspaceId};
use sqlx::{AnyConnection, any::AnyRow};
use workflow::routing::{AgentState, Capacity, Overflow, Presence, Strategy, Waiting};

use crate::{Result, int, opt_ts, parse_col, parse_opt_col, text, ts};

/// Roles that take cases from routing.
const ROUTABLE_ROLES: &str = "('agent', 'supervisor', 'cs_head')";

fn agent(r: &AnyRow) -> Result<AgentState> {
    let cap = |col: &str| -> Result<u32> { Ok(u32::try_from(int(r, col)?.max(0)).unwrap_or(0)) };
    Ok(AgentState {
        id: parse_col(r, "id", UserId::parse)?,
        presence: parse_col(r, "presence", Presence::parse)?,
        skills: Vec::new(),
        senior: int(r, "senior")? != 0,
        capacity: Capacity { max_chats: cap("max_chats")?, max_tickets: cap("max_tickets")? },
        open_chats: cap("open_chats")?,
        open_tickets: cap("open_tickets")?,
        last_assigned_at: opt_ts(r, "last_assigned_at")?,
    })
}

/// Every active user who takes cases, with their routing state (defaults when none is stored:
/// offline, [`Capacity::DEFAULT`], not senior) and their open chats and tickets.
pub async fn agents(c: &mut AnyConnection, ws: WorkspaceId) -> Result<Vec<AgentState>> {
    let sql = format!(
        "SELECT u.id,
            COALESCE(a.presence, 'offline') AS presence,
            COALESCE(a.max_chats, $2) AS max_chats,
            COALESCE(a.max_tickets, $3) AS max_tickets,
            COALESCE(a.senior, 0) AS senior,
            a.last_assigned_at,
            (SELECT COUNT(*) FROM tickets t WHERE t.workspace_id = u.workspace_id AND t.assignee_id = u.id
                AND t.status NOT IN ('solved', 'closed')) AS open_tickets,
            (SELECT COUNT(*) FROM conversations v WHERE v.workspace_id = u.workspace_id AND v.assignee_id = u.id
                AND v.status = 'open' AND v.handler = 'human') AS open_chats
         FROM users u LEFT JOIN agent_states a ON a.user_id = u.id
         WHERE u.workspace_id = $1 AND u.active = 1 AND u.role IN {ROUTABLE_ROLES}
         ORDER BY u.id"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(ws.to_string())
        .bind(i64::from(Capacity::DEFAULT.max_chats))
        .bind(i64::from(Capacity::DEFAULT.max_tickets))
        .fetch_all(c)
        .await?;
    rows.iter().map(agent).collect()
}

/// One agent's stored routing settings, if any.
pub async fn agent_settings(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    user: UserId,
) -> Result<Option<(Presence, Capacity, bool)>> {
    let r = sqlx::query(
        "SELECT presence, max_chats, max_tickets, senior FROM agent_states WHERE workspace_id = $1 AND user_id = $2",
    )
    .bind(ws.to_string())
    .bind(user.to_string())
    .fetch_optional(c)
    .await?;
    let Some(r) = r else { return Ok(None) };
    let cap = |col: &str| -> Result<u32> { Ok(u32::try_from(int(&r, col)?.max(0)).unwrap_or(0)) };
    Ok(Some((
        parse_col(&r, "presence", Presence::parse)?,
        Capacity { max_chats: cap("max_chats")?, max_tickets: cap("max_tickets")? },
        int(&r, "senior")? != 0,
    )))
}

/// Stores an agent's presence, capacity and seniority.
pub async fn put_agent(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    user: UserId,
    presence: Presence,
    cap: Capacity,
    senior: bool,
    now: Timestamp,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO agent_states (user_id, workspace_id, presence, max_chats, max_tickets, senior, last_assigned_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, NULL, $7)
         ON CONFLICT (user_id) DO UPDATE SET presence = $3, max_chats = $4, max_tickets = $5, senior = $6, updated_at = $7",
    )
    .bind(user.to_string())
    .bind(ws.to_string())
    .bind(presence.as_str())
    .bind(i64::from(cap.max_chats))
    .bind(i64::from(cap.max_tickets))
    .bind(i64::from(senior))
    .bind(now.millis())
    .execute(c)
    .await?;
    Ok(())
}

/// Records that routing gave `user` an item at `now` (round robin's memory).
pub async fn touch_assigned(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    user: UserId,
    now: Timestamp,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO agent_states (user_id, workspace_id, presence, max_chats, max_tickets, senior, last_assigned_at, updated_at)
         VALUES ($1, $2, 'offline', $3, $4, 0, $5, $5)
         ON CONFLICT (user_id) DO UPDATE SET last_assigned_at = $5",
    )
    .bind(user.to_string())
    .bind(ws.to_string())
    .bind(i64::from(Capacity::DEFAULT.max_chats))
    .bind(i64::from(Capacity::DEFAULT.max_tickets))
    .bind(now.millis())
    .execute(c)
    .await?;
    Ok(())
}

/// A team's routing settings.
#[derive(Debug, Clone, PartialEq)]
pub struct TeamRouting {
    pub team: TeamId,
    pub strategy: Strategy,
    pub overflow: Option<Overflow>,
}

/// Stored team settings; teams without a row use least-loaded without overflow.
pub async fn team_settings(c: &mut AnyConnection, ws: WorkspaceId) -> Result<Vec<TeamRouting>> {
    let rows = sqlx::query(
        "SELECT team_id, strategy, overflow_team_id, overflow_after_ms FROM team_routing WHERE workspace_id = $1",
    )
    .bind(ws.to_string())
    .fetch_all(c)
    .await?;
    rows.iter()
        .map(|r| {
            let to = parse_opt_col(r, "overflow_team_id", TeamId::parse)?;
            let after: Option<i64> = sqlx::Row::try_get(r, "overflow_after_ms")?;
            Ok(TeamRouting {
                team: parse_col(r, "team_id", TeamId::parse)?,
                strategy: parse_col(r, "strategy", Strategy::parse)?,
                overflow: to.map(|to| Overflow { to, after_ms: after.unwrap_or(0) }),
            })
        })
        .collect()
}

pub async fn put_team(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    t: &TeamRouting,
    now: Timestamp,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO team_routing (team_id, workspace_id, strategy, overflow_team_id, overflow_after_ms, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (team_id) DO UPDATE SET strategy = $3, overflow_team_id = $4, overflow_after_ms = $5, updated_at = $6",
    )
    .bind(t.team.to_string())
    .bind(ws.to_string())
    .bind(t.strategy.as_str())
    .bind(t.overflow.map(|o| o.to.to_string()))
    .bind(t.overflow.map(|o| o.after_ms))
    .bind(now.millis())
    .execute(c)
    .await?;
    Ok(())
}

/// Unassigned active tickets waiting in `team`, as routing's queue: VIP customers and red items
/// (critical urgency or L1) marked.
pub async fn ticket_queue(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    team: TeamId,
) -> Result<Vec<(TicketId, Waiting)>> {
    let rows = sqlx::query(
        "SELECT t.id, t.severity, t.urgency, t.created_at, cu.tier
         FROM tickets t JOIN customers cu ON cu.id = t.customer_id
         WHERE t.workspace_id = $1 AND t.team_id = $2 AND t.assignee_id IS NULL
           AND t.status NOT IN ('solved', 'closed')
         ORDER BY t.created_at, t.id LIMIT 5000",
    )
    .bind(ws.to_string())
    .bind(team.to_string())
    .fetch_all(c)
    .await?;
    rows.iter()
        .map(|r| {
            let id = parse_col(r, "id", TicketId::parse)?;
            let sev = parse_col(r, "severity", Severity::parse)?;
            let urg = parse_col(r, "urgency", Urgency::parse)?;
            Ok((
                id,
                Waiting {
                    key: id.to_string(),
                    vip: text(r, "tier")? == "vip",
                    red: sev == Severity::L1 || urg == Urgency::Critical,
                    since: ts(r, "created_at")?,
                },
            ))
        })
        .collect()
}

/// The average time from creation to solution of the team's last 200 solved tickets.
pub async fn avg_handle_ms(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    team: TeamId,
) -> Result<Option<i64>> {
    let rows = sqlx::query(
        "SELECT solved_at - created_at AS d FROM tickets
         WHERE workspace_id = $1 AND team_id = $2 AND solved_at IS NOT NULL
         ORDER BY solved_at DESC LIMIT 200",
    )
    .bind(ws.to_string())
    .bind(team.to_string())
    .fetch_all(c)
    .await?;
    let ds: Vec<i64> = rows.iter().map(|r| int(r, "d")).collect::<Result<_>>()?;
    if ds.is_empty() {
        return Ok(None);
    }
    let sum: i128 = ds.iter().map(|&d| i128::from(d.max(0))).sum();
    Ok(i64::try_from(sum / ds.len() as i128).ok())
}

/// One earlier ticket of a problem code, for the crisis and repeat checks.
#[derive(Debug, Clone, PartialEq)]
pub struct CodeTicket {
    pub id: TicketId,
    pub customer: domain::CustomerId,
    pub created_at: Timestamp,
    pub active: bool,
    pub tags: Vec<String>,
}

/// The tickets of exactly `code` created since `since`, oldest first (at most 10,000).
pub async fn code_history(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    code: domain::ProblemCode,
    since: Timestamp,
) -> Result<Vec<CodeTicket>> {
    let rows = sqlx::query(
        "SELECT id, customer_id, created_at, status, tags FROM tickets
         WHERE workspace_id = $1 AND problem_code = $2 AND created_at >= $3
         ORDER BY created_at, id LIMIT 10000",
    )
    .bind(ws.to_string())
    .bind(code.to_string())
    .bind(since.millis())
    .fetch_all(c)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(CodeTicket {
                id: parse_col(r, "id", TicketId::parse)?,
                customer: parse_col(r, "customer_id", domain::CustomerId::parse)?,
                created_at: ts(r, "created_at")?,
                active: parse_col(r, "status", domain::Status::parse)?.is_active(),
                tags: crate::codec::json_to_strings(&text(r, "tags")?)?,
            })
        })
        .collect()
}

/// Whether an active ticket of `code` carries `tag` (an open crisis or root-cause task).
pub async fn active_tagged(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    code: domain::ProblemCode,
    tag: &str,
) -> Result<bool> {
    let rows = sqlx::query(
        "SELECT tags FROM tickets WHERE workspace_id = $1 AND problem_code = $2
           AND status NOT IN ('solved', 'closed') LIMIT 10000",
    )
    .bind(ws.to_string())
    .bind(code.to_string())
    .fetch_all(c)
    .await?;
    for r in &rows {
        if crate::codec::json_to_strings(&text(r, "tags")?)?.iter().any(|t| t == tag) {
            return Ok(true);
        }
    }
    Ok(false)
}
