//! Customers, their identities across channels, merges, and widget visitor tokens.

use domain::{Customer, CustomerId, Identity, IdentityKind, Tier, Timestamp, WorkspaceId};
use sqlx::{AnyConnection, any::AnyRow};

use crate::{Binds, Page, Result, codec, int, parse_col, parse_opt_col, text, ts};

const COLS: &str = "id, workspace_id, name, tier, attributes, merged_into, created_at, updated_at";

fn customer(r: &AnyRow, identities: Vec<Identity>) -> Result<Customer> {
    Ok(Customer {
        id: parse_col(r, "id", CustomerId::parse)?,
        workspace: parse_col(r, "workspace_id", WorkspaceId::parse)?,
        name: text(r, "name")?,
        tier: parse_col(r, "tier", Tier::parse)?,
        identities,
        attributes: codec::json_to_pairs(&text(r, "attributes")?)?,
        merged_into: parse_opt_col(r, "merged_into", CustomerId::parse)?,
        created_at: ts(r, "created_at")?,
        updated_at: ts(r, "updated_at")?,
    })
}

/// Inserts the customer and its identities. An identity already taken by another customer is
/// a unique violation; the caller checks with [`find_by_identity`] first.
pub async fn insert(c: &mut AnyConnection, cu: &Customer) -> Result<()> {
    sqlx::query(
        "INSERT INTO customers (id, workspace_id, name, tier, attributes, merged_into, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(cu.id.to_string())
    .bind(cu.workspace.to_string())
    .bind(&cu.name)
    .bind(cu.tier.as_str())
    .bind(codec::pairs_to_json(&cu.attributes))
    .bind(cu.merged_into.map(|m| m.to_string()))
    .bind(cu.created_at.millis())
    .bind(cu.updated_at.millis())
    .execute(&mut *c)
    .await?;
    for i in &cu.identities {
        add_identity(c, cu.workspace, cu.id, i, cu.created_at).await?;
    }
    Ok(())
}

pub async fn add_identity(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    cu: CustomerId,
    i: &Identity,
    at: Timestamp,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO customer_identities (workspace_id, kind, value, customer_id, verified, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(ws.to_string())
    .bind(i.kind.as_str())
    .bind(&i.value)
    .bind(cu.to_string())
    .bind(i64::from(i.verified))
    .bind(at.millis())
    .execute(c)
    .await?;
    Ok(())
}

/// Writes the customer's own columns (not identities).
pub async fn update(c: &mut AnyConnection, cu: &Customer) -> Result<()> {
    sqlx::query(
        "UPDATE customers SET name = $3, tier = $4, attributes = $5, merged_into = $6, updated_at = $7
         WHERE workspace_id = $1 AND id = $2",
    )
    .bind(cu.workspace.to_string())
    .bind(cu.id.to_string())
    .bind(&cu.name)
    .bind(cu.tier.as_str())
    .bind(codec::pairs_to_json(&cu.attributes))
    .bind(cu.merged_into.map(|m| m.to_string()))
    .bind(cu.updated_at.millis())
    .execute(c)
    .await?;
    Ok(())
}

async fn identities(c: &mut AnyConnection, id: CustomerId) -> Result<Vec<Identity>> {
    let rows = sqlx::query(
        "SELECT kind, value, verified FROM customer_identities WHERE customer_id = $1 ORDER BY created_at, kind, value",
    )
    .bind(id.to_string())
    .fetch_all(c)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Identity {
                kind: parse_col(r, "kind", IdentityKind::parse)?,
                value: text(r, "value")?,
                verified: int(r, "verified")? != 0,
            })
        })
        .collect()
}

pub async fn get(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    id: CustomerId,
) -> Result<Option<Customer>> {
    let sql = format!("SELECT {COLS} FROM customers WHERE workspace_id = $1 AND id = $2");
    let r = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(ws.to_string())
        .bind(id.to_string())
        .fetch_optional(&mut *c)
        .await?;
    match r {
        Some(r) => {
            let ids = identities(c, id).await?;
            Ok(Some(customer(&r, ids)?))
        }
        None => Ok(None),
    }
}

pub async fn find_by_identity(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    i: &Identity,
) -> Result<Option<CustomerId>> {
    let r = sqlx::query("SELECT customer_id FROM customer_identities WHERE workspace_id = $1 AND kind = $2 AND value = $3")
        .bind(ws.to_string())
        .bind(i.kind.as_str())
        .bind(&i.value)
        .fetch_optional(c)
        .await?;
    r.as_ref().map(|r| parse_col(r, "customer_id", CustomerId::parse)).transpose()
}

#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Substring of the name, or an exact identity value.
    pub q: Option<String>,
    pub tier: Option<Tier>,
    pub include_merged: bool,
}

pub async fn list(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    f: &Filter,
    page: &Page,
) -> Result<Vec<Customer>> {
    let mut b = Binds::default();
    let mut sql =
        format!("SELECT {COLS} FROM customers WHERE workspace_id = {}", b.text(ws.to_string()));
    if let Some(q) = &f.q {
        let like = b
            .text(format!("%{}%", q.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")));
        let exact = b.text(q.clone());
        sql.push_str(&format!(
            " AND (name LIKE {like} ESCAPE '\\' OR id IN (SELECT customer_id FROM customer_identities WHERE workspace_id = $1 AND value = {exact}))"
        ));
    }
    if let Some(t) = f.tier {
        sql.push_str(&format!(" AND tier = {}", b.text(t.as_str())));
    }
    if !f.include_merged {
        sql.push_str(" AND merged_into IS NULL");
    }
    sql.push_str(&page.sql(&mut b, "created_at", "id"));
    let rows = b.query(sql).fetch_all(&mut *c).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let id = parse_col(r, "id", CustomerId::parse)?;
        out.push(customer(r, identities(c, id).await?)?);
    }
    Ok(out)
}

/// Moves everything of `from` to `into`: identities, conversations, tickets, visitor tokens.
pub async fn merge(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    into: CustomerId,
    from: CustomerId,
) -> Result<()> {
    for sql in [
        "UPDATE customer_identities SET customer_id = $2 WHERE workspace_id = $1 AND customer_id = $3",
        "UPDATE conversations SET customer_id = $2 WHERE workspace_id = $1 AND customer_id = $3",
        "UPDATE tickets SET customer_id = $2 WHERE workspace_id = $1 AND customer_id = $3",
        "UPDATE customer_tokens SET customer_id = $2 WHERE workspace_id = $1 AND customer_id = $3",
        "UPDATE events SET aud_customer = $2 WHERE workspace_id = $1 AND aud_customer = $3",
        // An opt-out of either customer holds for the merged one (issue 8 proactive service).
        "INSERT INTO proactive_opt_outs (workspace_id, customer_id, source, created_at)
         SELECT workspace_id, $2, source, created_at FROM proactive_opt_outs WHERE workspace_id = $1 AND customer_id = $3
         ON CONFLICT (workspace_id, customer_id) DO NOTHING",
    ] {
        sqlx::query(sql)
            .bind(ws.to_string())
            .bind(into.to_string())
            .bind(from.to_string())
            .execute(&mut *c)
            .await?;
    }
    Ok(())
}

pub async fn insert_token(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    cu: CustomerId,
    hash: &str,
    now: Timestamp,
    expires: Timestamp,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO customer_tokens (token_hash, workspace_id, customer_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(hash)
    .bind(ws.to_string())
    .bind(cu.to_string())
    .bind(now.millis())
    .bind(expires.millis())
    .execute(c)
    .await?;
    Ok(())
}

/// The workspace and customer a live visitor token belongs to, and when it expires.
pub async fn token(
    c: &mut AnyConnection,
    hash: &str,
    now: Timestamp,
) -> Result<Option<(WorkspaceId, CustomerId, Timestamp)>> {
    let r = sqlx::query("SELECT workspace_id, customer_id, expires_at FROM customer_tokens WHERE token_hash = $1 AND expires_at > $2")
        .bind(hash)
        .bind(now.millis())
        .fetch_optional(c)
        .await?;
    match r {
        Some(r) => Ok(Some((
            parse_col(&r, "workspace_id", WorkspaceId::parse)?,
            parse_col(&r, "customer_id", CustomerId::parse)?,
            ts(&r, "expires_at")?,
        ))),
        None => Ok(None),
    }
}
