//! Reading and verifying the hash-chained audit log.

use domain::{
    Actor, Timestamp, WorkspaceId,
    audit::{ChainBreak, EntryText, Verifier},
};
use sqlx::{AnyConnection, any::AnyRow};

use crate::{Binds, Result, codec, int, opt_text, parse_col, text, ts};

#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub seq: i64,
    pub at: Timestamp,
    pub actor: Actor,
    pub action: String,
    pub object_type: String,
    pub object_id: String,
    /// The stored JSON text of the state before and after.
    pub before: Option<String>,
    pub after: Option<String>,
    pub hash: String,
}

const COLS: &str =
    "seq, at, actor, action, object_type, object_id, before_state, after_state, prev_hash, hash";

fn entry(r: &AnyRow) -> Result<Entry> {
    Ok(Entry {
        seq: int(r, "seq")?,
        at: ts(r, "at")?,
        actor: parse_col(r, "actor", codec::parse_actor)?,
        action: text(r, "action")?,
        object_type: text(r, "object_type")?,
        object_id: text(r, "object_id")?,
        before: opt_text(r, "before_state")?,
        after: opt_text(r, "after_state")?,
        hash: text(r, "hash")?,
    })
}

#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub object_type: Option<String>,
    pub object_id: Option<String>,
    /// Entries with `seq < before`, for paging backwards from the newest.
    pub before: Option<i64>,
    pub limit: i64,
}

/// Entries, newest first.
pub async fn list(c: &mut AnyConnection, ws: WorkspaceId, f: &Filter) -> Result<Vec<Entry>> {
    let mut b = Binds::default();
    let mut sql =
        format!("SELECT {COLS} FROM audit_log WHERE workspace_id = {}", b.text(ws.to_string()));
    if let Some(t) = &f.object_type {
        sql.push_str(&format!(" AND object_type = {}", b.text(t.clone())));
    }
    if let Some(i) = &f.object_id {
        sql.push_str(&format!(" AND object_id = {}", b.text(i.clone())));
    }
    if let Some(s) = f.before {
        sql.push_str(&format!(" AND seq < {}", b.int(s)));
    }
    sql.push_str(&format!(" ORDER BY seq DESC LIMIT {}", b.int(f.limit.clamp(1, 1000))));
    let rows = b.query(sql).fetch_all(c).await?;
    rows.iter().map(entry).collect()
}

/// The result of walking one workspace's chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    pub entries: i64,
    pub broken: Option<ChainBreak>,
}

/// Recomputes every hash of the workspace's chain in order and compares it with the stored one
/// and with the head the workspace recorded. Reads in pages, so memory stays flat.
pub async fn verify(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    mut progress: impl FnMut(i64),
) -> Result<Verification> {
    let head = sqlx::query("SELECT audit_seq FROM workspace_heads WHERE workspace_id = $1")
        .bind(ws.to_string())
        .fetch_one(&mut *c)
        .await?;
    let head = int(&head, "audit_seq")?;
    let mut v = Verifier::default();
    let mut after = 0i64;
    let mut n = 0i64;
    loop {
        let sql = format!(
            "SELECT {COLS} FROM audit_log WHERE workspace_id = $1 AND seq > $2 ORDER BY seq LIMIT 5000"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(ws.to_string())
            .bind(after)
            .fetch_all(&mut *c)
            .await?;
        if rows.is_empty() {
            break;
        }
        for r in &rows {
            let e = entry(r)?;
            let actor = text(r, "actor")?;
            let prev = text(r, "prev_hash")?;
            let t = EntryText {
                seq: e.seq,
                at_ms: e.at.millis(),
                actor: &actor,
                action: &e.action,
                object_type: &e.object_type,
                object_id: &e.object_id,
                before: e.before.as_deref(),
                after: e.after.as_deref(),
            };
            if let Err(b) = v.check(&t, &prev, &e.hash) {
                return Ok(Verification { entries: n, broken: Some(b) });
            }
            n += 1;
            after = e.seq;
        }
        progress(n);
    }
    Ok(Verification { entries: n, broken: v.finish(head).err() })
}
