//! Reading the outbox: events after a sequence number, for realtime fan-out and catch-up.

use domain::{Audience, CustomerId, EventRecord, TeamId, UserId, WorkspaceId};
use sqlx::{AnyConnection, any::AnyRow};

use crate::{Result, codec, int, parse_col, parse_opt_col, text, ts};

const COLS: &str = "workspace_id, seq, at, actor, kind, payload, aud_customer, aud_team, aud_assignee, aud_internal";

fn record(r: &AnyRow) -> Result<EventRecord> {
    Ok(EventRecord {
        workspace: parse_col(r, "workspace_id", WorkspaceId::parse)?,
        seq: int(r, "seq")?,
        at: ts(r, "at")?,
        actor: parse_col(r, "actor", codec::parse_actor)?,
        event: codec::decode_event(&text(r, "kind")?, &text(r, "payload")?)?,
        audience: Audience {
            customer: parse_opt_col(r, "aud_customer", CustomerId::parse)?,
            team: parse_opt_col(r, "aud_team", TeamId::parse)?,
            assignee: parse_opt_col(r, "aud_assignee", UserId::parse)?,
            internal: int(r, "aud_internal")? != 0,
        },
    })
}

/// Events of the workspace with `seq > after`, in order, at most `limit`.
pub async fn since(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    after: i64,
    limit: i64,
) -> Result<Vec<EventRecord>> {
    let sql = format!(
        "SELECT {COLS} FROM events WHERE workspace_id = $1 AND seq > $2 ORDER BY seq LIMIT $3"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(ws.to_string())
        .bind(after)
        .bind(limit.clamp(1, 10_000))
        .fetch_all(c)
        .await?;
    rows.iter().map(record).collect()
}

/// Public events addressed to one customer with `seq > after`.
pub async fn since_for_customer(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    cu: CustomerId,
    after: i64,
    limit: i64,
) -> Result<Vec<EventRecord>> {
    let sql = format!(
        "SELECT {COLS} FROM events WHERE workspace_id = $1 AND aud_customer = $2 AND aud_internal = 0 AND seq > $3
         ORDER BY seq LIMIT $4"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(ws.to_string())
        .bind(cu.to_string())
        .bind(after)
        .bind(limit.clamp(1, 10_000))
        .fetch_all(c)
        .await?;
    rows.iter().map(record).collect()
}

/// The newest committed event sequence number of the workspace (0 if none).
pub async fn head(c: &mut AnyConnection, ws: WorkspaceId) -> Result<i64> {
    let r = sqlx::query("SELECT event_seq FROM workspace_heads WHERE workspace_id = $1")
        .bind(ws.to_string())
        .fetch_optional(c)
        .await?;
    r.map_or(Ok(0), |r| int(&r, "event_seq"))
}
