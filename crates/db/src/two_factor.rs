//! Two-factor login: TOTP secrets, recovery codes, login challenges and the workspace switch.

use domain::{Timestamp, UserId, WorkspaceId};
use sqlx::AnyConnection;

use crate::{Result, int, opt_ts, parse_col, text};

/// A user's TOTP enrolment.
#[derive(Debug, Clone)]
pub struct Totp {
    /// Base32, as shown to the user.
    pub secret: String,
    /// `None` while enrolling: the secret is not yet required at login.
    pub confirmed_at: Option<Timestamp>,
    /// The last time step a code was accepted for; only later steps are accepted.
    pub last_step: i64,
}

pub async fn totp(c: &mut AnyConnection, user: UserId) -> Result<Option<Totp>> {
    let r = sqlx::query("SELECT secret, confirmed_at, last_step FROM user_totp WHERE user_id = $1")
        .bind(user.to_string())
        .fetch_optional(c)
        .await?;
    r.map(|r| {
        Ok(Totp {
            secret: text(&r, "secret")?,
            confirmed_at: opt_ts(&r, "confirmed_at")?,
            last_step: int(&r, "last_step")?,
        })
    })
    .transpose()
}

/// Starts (or restarts) an enrolment: any earlier secret and recovery codes are dropped.
pub async fn put_pending(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    user: UserId,
    secret: &str,
    now: Timestamp,
) -> Result<()> {
    delete(c, user).await?;
    sqlx::query(
        "INSERT INTO user_totp (user_id, workspace_id, secret, confirmed_at, last_step, created_at)
         VALUES ($1, $2, $3, NULL, 0, $4)",
    )
    .bind(user.to_string())
    .bind(ws.to_string())
    .bind(secret)
    .bind(now.millis())
    .execute(c)
    .await?;
    Ok(())
}

pub async fn confirm(c: &mut AnyConnection, user: UserId, now: Timestamp, step: i64) -> Result<()> {
    sqlx::query("UPDATE user_totp SET confirmed_at = $2, last_step = $3 WHERE user_id = $1")
        .bind(user.to_string())
        .bind(now.millis())
        .bind(step)
        .execute(c)
        .await?;
    Ok(())
}

/// Records an accepted code's step; false if a code of this or a later step was already used.
pub async fn use_step(c: &mut AnyConnection, user: UserId, step: i64) -> Result<bool> {
    let r =
        sqlx::query("UPDATE user_totp SET last_step = $2 WHERE user_id = $1 AND last_step < $2")
            .bind(user.to_string())
            .bind(step)
            .execute(c)
            .await?;
    Ok(r.rows_affected() == 1)
}

/// Removes the secret and the recovery codes.
pub async fn delete(c: &mut AnyConnection, user: UserId) -> Result<()> {
    sqlx::query("DELETE FROM user_recovery_codes WHERE user_id = $1")
        .bind(user.to_string())
        .execute(&mut *c)
        .await?;
    sqlx::query("DELETE FROM user_totp WHERE user_id = $1")
        .bind(user.to_string())
        .execute(c)
        .await?;
    Ok(())
}

pub async fn replace_recovery_codes(
    c: &mut AnyConnection,
    user: UserId,
    hashes: &[String],
) -> Result<()> {
    sqlx::query("DELETE FROM user_recovery_codes WHERE user_id = $1")
        .bind(user.to_string())
        .execute(&mut *c)
        .await?;
    for h in hashes {
        sqlx::query("INSERT INTO user_recovery_codes (user_id, code_hash) VALUES ($1, $2)")
            .bind(user.to_string())
            .bind(h)
            .execute(&mut *c)
            .await?;
    }
    Ok(())
}

/// Spends a recovery code; false if it is unknown or already spent.
pub async fn use_recovery_code(
    c: &mut AnyConnection,
    user: UserId,
    hash: &str,
    now: Timestamp,
) -> Result<bool> {
    let r = sqlx::query(
        "UPDATE user_recovery_codes SET used_at = $3
         WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL",
    )
    .bind(user.to_string())
    .bind(hash)
    .bind(now.millis())
    .execute(c)
    .await?;
    Ok(r.rows_affected() == 1)
}

pub async fn recovery_codes_left(c: &mut AnyConnection, user: UserId) -> Result<i64> {
    let r = sqlx::query(
        "SELECT COUNT(*) AS n FROM user_recovery_codes WHERE user_id = $1 AND used_at IS NULL",
    )
    .bind(user.to_string())
    .fetch_one(c)
    .await?;
    int(&r, "n")
}

pub async fn insert_challenge(
    c: &mut AnyConnection,
    hash: &str,
    ws: WorkspaceId,
    user: UserId,
    expires: Timestamp,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO login_challenges (token_hash, workspace_id, user_id, attempts, expires_at)
         VALUES ($1, $2, $3, 0, $4)",
    )
    .bind(hash)
    .bind(ws.to_string())
    .bind(user.to_string())
    .bind(expires.millis())
    .execute(c)
    .await?;
    Ok(())
}

/// The live challenge's workspace, user and failed attempts so far.
pub async fn challenge(
    c: &mut AnyConnection,
    hash: &str,
    now: Timestamp,
) -> Result<Option<(WorkspaceId, UserId, i64)>> {
    let r = sqlx::query(
        "SELECT workspace_id, user_id, attempts FROM login_challenges
         WHERE token_hash = $1 AND expires_at > $2",
    )
    .bind(hash)
    .bind(now.millis())
    .fetch_optional(c)
    .await?;
    r.map(|r| {
        Ok((
            parse_col(&r, "workspace_id", WorkspaceId::parse)?,
            parse_col(&r, "user_id", UserId::parse)?,
            int(&r, "attempts")?,
        ))
    })
    .transpose()
}

pub async fn fail_challenge(c: &mut AnyConnection, hash: &str) -> Result<()> {
    sqlx::query("UPDATE login_challenges SET attempts = attempts + 1 WHERE token_hash = $1")
        .bind(hash)
        .execute(c)
        .await?;
    Ok(())
}

/// Deletes a used challenge and any expired ones.
pub async fn delete_challenge(c: &mut AnyConnection, hash: &str, now: Timestamp) -> Result<()> {
    sqlx::query("DELETE FROM login_challenges WHERE token_hash = $1 OR expires_at <= $2")
        .bind(hash)
        .bind(now.millis())
        .execute(c)
        .await?;
    Ok(())
}

pub async fn require_2fa(c: &mut AnyConnection, ws: WorkspaceId) -> Result<bool> {
    let r = sqlx::query("SELECT require_2fa FROM workspace_security WHERE workspace_id = $1")
        .bind(ws.to_string())
        .fetch_optional(c)
        .await?;
    Ok(r.map(|r| int(&r, "require_2fa")).transpose()?.unwrap_or(0) != 0)
}

pub async fn set_require_2fa(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    on: bool,
    now: Timestamp,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO workspace_security (workspace_id, require_2fa, updated_at) VALUES ($1, $2, $3)
         ON CONFLICT (workspace_id) DO UPDATE SET require_2fa = $2, updated_at = $3",
    )
    .bind(ws.to_string())
    .bind(i64::from(on))
    .bind(now.millis())
    .execute(c)
    .await?;
    Ok(())
}
