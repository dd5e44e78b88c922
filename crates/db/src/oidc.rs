//! OIDC single sign-on: the workspace's provider settings, staff users' links to provider
//! subjects, and the single-use login attempts between the redirect and the callback.

use domain::{Timestamp, UserId, WorkspaceId};
use sqlx::AnyConnection;

use crate::{Result, int, opt_text, opt_ts, parse_col, text, ts};

/// A workspace's identity provider, as stored (the secret in clear: it is sent to the provider).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    pub enabled: bool,
    /// Lower-case email domains allowed to sign in; empty allows any.
    pub allowed_domains: Vec<String>,
    /// The role unknown users are created with; `None` refuses them.
    pub provision_role: Option<String>,
    /// Hosts the admin allowed on internal addresses (a provider on the intranet).
    pub allow_hosts: Vec<String>,
    pub updated_at: Timestamp,
}

fn list(json: &str) -> Vec<String> {
    serde_json::from_str(json).unwrap_or_default()
}

fn to_json(v: &[String]) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "[]".into())
}

pub async fn settings(c: &mut AnyConnection, ws: WorkspaceId) -> Result<Option<Settings>> {
    let r = sqlx::query(
        "SELECT issuer, client_id, client_secret, enabled, allowed_domains, provision_role,
                allow_hosts, updated_at
         FROM oidc_settings WHERE workspace_id = $1",
    )
    .bind(ws.to_string())
    .fetch_optional(c)
    .await?;
    r.map(|r| {
        Ok(Settings {
            issuer: text(&r, "issuer")?,
            client_id: text(&r, "client_id")?,
            client_secret: text(&r, "client_secret")?,
            enabled: int(&r, "enabled")? != 0,
            allowed_domains: list(&text(&r, "allowed_domains")?),
            provision_role: opt_text(&r, "provision_role")?,
            allow_hosts: list(&text(&r, "allow_hosts")?),
            updated_at: ts(&r, "updated_at")?,
        })
    })
    .transpose()
}

pub async fn put_settings(c: &mut AnyConnection, ws: WorkspaceId, s: &Settings) -> Result<()> {
    sqlx::query(
        "INSERT INTO oidc_settings (workspace_id, issuer, client_id, client_secret, enabled,
                                    allowed_domains, provision_role, allow_hosts, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (workspace_id) DO UPDATE SET issuer = $2, client_id = $3, client_secret = $4,
             enabled = $5, allowed_domains = $6, provision_role = $7, allow_hosts = $8,
             updated_at = $9",
    )
    .bind(ws.to_string())
    .bind(&s.issuer)
    .bind(&s.client_id)
    .bind(&s.client_secret)
    .bind(i64::from(s.enabled))
    .bind(to_json(&s.allowed_domains))
    .bind(s.provision_role.as_deref())
    .bind(to_json(&s.allow_hosts))
    .bind(s.updated_at.millis())
    .execute(c)
    .await?;
    Ok(())
}

/// The user linked to a provider's subject.
pub async fn linked_user(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    issuer: &str,
    subject: &str,
) -> Result<Option<UserId>> {
    let r = sqlx::query(
        "SELECT user_id FROM oidc_links WHERE workspace_id = $1 AND issuer = $2 AND subject = $3",
    )
    .bind(ws.to_string())
    .bind(issuer)
    .bind(subject)
    .fetch_optional(c)
    .await?;
    r.map(|r| parse_col(&r, "user_id", UserId::parse)).transpose()
}

pub async fn insert_link(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    issuer: &str,
    subject: &str,
    user: UserId,
    now: Timestamp,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO oidc_links (workspace_id, issuer, subject, user_id, created_at, last_login_at)
         VALUES ($1, $2, $3, $4, $5, $5)",
    )
    .bind(ws.to_string())
    .bind(issuer)
    .bind(subject)
    .bind(user.to_string())
    .bind(now.millis())
    .execute(c)
    .await?;
    Ok(())
}

pub async fn touch_link(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    issuer: &str,
    subject: &str,
    now: Timestamp,
) -> Result<()> {
    sqlx::query(
        "UPDATE oidc_links SET last_login_at = $4
         WHERE workspace_id = $1 AND issuer = $2 AND subject = $3",
    )
    .bind(ws.to_string())
    .bind(issuer)
    .bind(subject)
    .bind(now.millis())
    .execute(c)
    .await?;
    Ok(())
}

/// A login attempt between the redirect to the provider and its callback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub workspace: WorkspaceId,
    pub browser_hash: String,
    pub nonce: String,
    pub pkce_verifier: String,
    pub next_path: String,
    pub expires_at: Timestamp,
    pub used_at: Option<Timestamp>,
}

/// Stores a new attempt, dropping attempts that expired before `now`.
pub async fn insert_attempt(
    c: &mut AnyConnection,
    state_hash: &str,
    a: &Attempt,
    now: Timestamp,
) -> Result<()> {
    sqlx::query("DELETE FROM oidc_logins WHERE expires_at < $1")
        .bind(now.millis())
        .execute(&mut *c)
        .await?;
    sqlx::query(
        "INSERT INTO oidc_logins (state_hash, workspace_id, browser_hash, nonce, pkce_verifier,
                                  next_path, expires_at, used_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, NULL)",
    )
    .bind(state_hash)
    .bind(a.workspace.to_string())
    .bind(&a.browser_hash)
    .bind(&a.nonce)
    .bind(&a.pkce_verifier)
    .bind(&a.next_path)
    .bind(a.expires_at.millis())
    .execute(c)
    .await?;
    Ok(())
}

/// The attempt of a state, used or not.
pub async fn attempt(c: &mut AnyConnection, state_hash: &str) -> Result<Option<Attempt>> {
    let r = sqlx::query(
        "SELECT workspace_id, browser_hash, nonce, pkce_verifier, next_path, expires_at, used_at
         FROM oidc_logins WHERE state_hash = $1",
    )
    .bind(state_hash)
    .fetch_optional(c)
    .await?;
    r.map(|r| {
        Ok(Attempt {
            workspace: parse_col(&r, "workspace_id", WorkspaceId::parse)?,
            browser_hash: text(&r, "browser_hash")?,
            nonce: text(&r, "nonce")?,
            pkce_verifier: text(&r, "pkce_verifier")?,
            next_path: text(&r, "next_path")?,
            expires_at: ts(&r, "expires_at")?,
            used_at: opt_ts(&r, "used_at")?,
        })
    })
    .transpose()
}

/// Marks an attempt used; false when an earlier (or a racing) callback already did.
pub async fn mark_used(c: &mut AnyConnection, state_hash: &str, now: Timestamp) -> Result<bool> {
    let r = sqlx::query(
        "UPDATE oidc_logins SET used_at = $2 WHERE state_hash = $1 AND used_at IS NULL",
    )
    .bind(state_hash)
    .bind(now.millis())
    .execute(c)
    .await?;
    Ok(r.rows_affected() == 1)
}
