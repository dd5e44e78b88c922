//! Links between tickets: `related` (stored once, the smaller id first) and `merged_into`
//! (from the duplicate to the ticket it was merged into).

use domain::{Actor, TicketId, Timestamp, WorkspaceId};
use sqlx::AnyConnection;

use crate::{Result, codec, parse_col, text, ts};

/// One link as seen from a ticket: the other ticket, the kind, and whether this ticket is the
/// link's source (`merged_into` from this ticket) or its target.
#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    pub other: TicketId,
    pub kind: String,
    pub outgoing: bool,
    pub created_at: Timestamp,
    pub created_by: Actor,
}

/// Inserts a link; false if it exists already.
pub async fn insert(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    from: TicketId,
    to: TicketId,
    kind: &str,
    at: Timestamp,
    by: Actor,
) -> Result<bool> {
    let r = sqlx::query(
        "INSERT INTO ticket_links (workspace_id, ticket_id, other_id, kind, created_at, created_by)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
    )
    .bind(ws.to_string())
    .bind(from.to_string())
    .bind(to.to_string())
    .bind(kind)
    .bind(at.millis())
    .bind(by.to_string())
    .execute(c)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Removes a link; false if there was none.
pub async fn delete(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    from: TicketId,
    to: TicketId,
    kind: &str,
) -> Result<bool> {
    let r = sqlx::query(
        "DELETE FROM ticket_links WHERE workspace_id = $1 AND ticket_id = $2 AND other_id = $3 AND kind = $4",
    )
    .bind(ws.to_string())
    .bind(from.to_string())
    .bind(to.to_string())
    .bind(kind)
    .execute(c)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Every link of `t`, oldest first.
pub async fn of(c: &mut AnyConnection, ws: WorkspaceId, t: TicketId) -> Result<Vec<Link>> {
    let rows = sqlx::query(
        "SELECT ticket_id, other_id, kind, created_at, created_by FROM ticket_links
         WHERE workspace_id = $1 AND (ticket_id = $2 OR other_id = $2)
         ORDER BY created_at, ticket_id, other_id",
    )
    .bind(ws.to_string())
    .bind(t.to_string())
    .fetch_all(c)
    .await?;
    rows.iter()
        .map(|r| {
            let from = parse_col(r, "ticket_id", TicketId::parse)?;
            let to = parse_col(r, "other_id", TicketId::parse)?;
            Ok(Link {
                other: if from == t { to } else { from },
                kind: text(r, "kind")?,
                outgoing: from == t,
                created_at: ts(r, "created_at")?,
                created_by: codec::parse_actor(&text(r, "created_by")?)?,
            })
        })
        .collect()
}
