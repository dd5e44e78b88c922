//! Staff: users, teams and their members, login sessions and API tokens.

use domain::{
    Department, Email, Role, Team, TeamId, Timestamp, TokenId, User, UserId, WorkspaceId,
    workspace::TeamKind,
};
use sqlx::{AnyConnection, Row, any::AnyRow};

use crate::{Result, codec, int, parse_col, parse_opt_col, text, ts};

const USER_COLS: &str = "id, workspace_id, email, name, role, department, active, created_at";

fn user(r: &AnyRow) -> Result<User> {
    Ok(User {
        id: parse_col(r, "id", UserId::parse)?,
        workspace: parse_col(r, "workspace_id", WorkspaceId::parse)?,
        email: parse_col(r, "email", Email::parse)?,
        name: text(r, "name")?,
        role: parse_col(r, "role", Role::parse)?,
        department: parse_opt_col(r, "department", Department::parse)?,
        active: int(r, "active")? != 0,
        created_at: ts(r, "created_at")?,
    })
}

pub async fn insert_user(
    c: &mut AnyConnection,
    u: &User,
    password_hash: Option<&str>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO users (id, workspace_id, email, name, role, department, password_hash, active, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(u.id.to_string())
    .bind(u.workspace.to_string())
    .bind(u.email.as_str())
    .bind(&u.name)
    .bind(u.role.as_str())
    .bind(u.department.map(|d| d.as_str()))
    .bind(password_hash)
    .bind(i64::from(u.active))
    .bind(u.created_at.millis())
    .execute(c)
    .await?;
    Ok(())
}

pub async fn update_user(c: &mut AnyConnection, u: &User) -> Result<()> {
    sqlx::query(
        "UPDATE users SET name = $3, role = $4, department = $5, active = $6 WHERE workspace_id = $1 AND id = $2",
    )
    .bind(u.workspace.to_string())
    .bind(u.id.to_string())
    .bind(&u.name)
    .bind(u.role.as_str())
    .bind(u.department.map(|d| d.as_str()))
    .bind(i64::from(u.active))
    .execute(c)
    .await?;
    Ok(())
}

pub async fn set_password(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    id: UserId,
    hash: &str,
) -> Result<()> {
    sqlx::query("UPDATE users SET password_hash = $3 WHERE workspace_id = $1 AND id = $2")
        .bind(ws.to_string())
        .bind(id.to_string())
        .bind(hash)
        .execute(c)
        .await?;
    Ok(())
}

pub async fn get_user(c: &mut AnyConnection, ws: WorkspaceId, id: UserId) -> Result<Option<User>> {
    let sql = format!("SELECT {USER_COLS} FROM users WHERE workspace_id = $1 AND id = $2");
    crate::one_by_id(c, sql, ws, id, user).await
}

/// The user and their password hash, for login.
pub async fn user_for_login(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    email: &Email,
) -> Result<Option<(User, Option<String>)>> {
    let sql = format!(
        "SELECT {USER_COLS}, password_hash FROM users WHERE workspace_id = $1 AND email = $2"
    );
    let r = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(ws.to_string())
        .bind(email.as_str())
        .fetch_optional(c)
        .await?;
    match r {
        Some(r) => Ok(Some((user(&r)?, r.try_get("password_hash")?))),
        None => Ok(None),
    }
}

pub async fn list_users(c: &mut AnyConnection, ws: WorkspaceId) -> Result<Vec<User>> {
    let sql =
        format!("SELECT {USER_COLS} FROM users WHERE workspace_id = $1 ORDER BY created_at, id");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(ws.to_string()).fetch_all(c).await?;
    rows.iter().map(user).collect()
}

fn team(r: &AnyRow, members: Vec<UserId>) -> Result<Team> {
    Ok(Team {
        id: parse_col(r, "id", TeamId::parse)?,
        workspace: parse_col(r, "workspace_id", WorkspaceId::parse)?,
        name: text(r, "name")?,
        kind: parse_col(r, "kind", TeamKind::parse)?,
        department: parse_opt_col(r, "department", Department::parse)?,
        skills: codec::json_to_strings(&text(r, "skills")?)?,
        members,
        created_at: ts(r, "created_at")?,
    })
}

pub async fn insert_team(c: &mut AnyConnection, t: &Team) -> Result<()> {
    sqlx::query(
        "INSERT INTO teams (id, workspace_id, name, kind, department, skills, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(t.id.to_string())
    .bind(t.workspace.to_string())
    .bind(&t.name)
    .bind(t.kind.as_str())
    .bind(t.department.map(|d| d.as_str()))
    .bind(codec::strings_to_json(&t.skills))
    .bind(t.created_at.millis())
    .execute(&mut *c)
    .await?;
    set_members(c, t).await
}

pub async fn update_team(c: &mut AnyConnection, t: &Team) -> Result<()> {
    sqlx::query("UPDATE teams SET name = $3, kind = $4, department = $5, skills = $6 WHERE workspace_id = $1 AND id = $2")
        .bind(t.workspace.to_string())
        .bind(t.id.to_string())
        .bind(&t.name)
        .bind(t.kind.as_str())
        .bind(t.department.map(|d| d.as_str()))
        .bind(codec::strings_to_json(&t.skills))
        .execute(&mut *c)
        .await?;
    set_members(c, t).await
}

async fn set_members(c: &mut AnyConnection, t: &Team) -> Result<()> {
    sqlx::query("DELETE FROM team_members WHERE team_id = $1")
        .bind(t.id.to_string())
        .execute(&mut *c)
        .await?;
    for m in &t.members {
        sqlx::query("INSERT INTO team_members (team_id, user_id) VALUES ($1, $2)")
            .bind(t.id.to_string())
            .bind(m.to_string())
            .execute(&mut *c)
            .await?;
    }
    Ok(())
}

async fn members(c: &mut AnyConnection, team: TeamId) -> Result<Vec<UserId>> {
    let rows = sqlx::query("SELECT user_id FROM team_members WHERE team_id = $1 ORDER BY user_id")
        .bind(team.to_string())
        .fetch_all(c)
        .await?;
    rows.iter().map(|r| parse_col(r, "user_id", UserId::parse)).collect()
}

const TEAM_COLS: &str = "id, workspace_id, name, kind, department, skills, created_at";

pub async fn get_team(c: &mut AnyConnection, ws: WorkspaceId, id: TeamId) -> Result<Option<Team>> {
    let sql = format!("SELECT {TEAM_COLS} FROM teams WHERE workspace_id = $1 AND id = $2");
    let r = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(ws.to_string())
        .bind(id.to_string())
        .fetch_optional(&mut *c)
        .await?;
    match r {
        Some(r) => {
            let m = members(c, id).await?;
            Ok(Some(team(&r, m)?))
        }
        None => Ok(None),
    }
}

pub async fn list_teams(c: &mut AnyConnection, ws: WorkspaceId) -> Result<Vec<Team>> {
    let sql = format!("SELECT {TEAM_COLS} FROM teams WHERE workspace_id = $1 ORDER BY name");
    let rows =
        sqlx::query(sqlx::AssertSqlSafe(sql)).bind(ws.to_string()).fetch_all(&mut *c).await?;
    let pairs = sqlx::query(
        "SELECT m.team_id, m.user_id FROM team_members m JOIN teams t ON t.id = m.team_id
         WHERE t.workspace_id = $1 ORDER BY m.user_id",
    )
    .bind(ws.to_string())
    .fetch_all(&mut *c)
    .await?;
    rows.iter()
        .map(|r| {
            let id = text(r, "id")?;
            let m = pairs
                .iter()
                .filter(|p| text(p, "team_id").is_ok_and(|t| t == id))
                .map(|p| parse_col(p, "user_id", UserId::parse))
                .collect::<Result<Vec<_>>>()?;
            team(r, m)
        })
        .collect()
}

/// The teams a user belongs to.
pub async fn teams_of(c: &mut AnyConnection, user: UserId) -> Result<Vec<TeamId>> {
    let rows = sqlx::query("SELECT team_id FROM team_members WHERE user_id = $1")
        .bind(user.to_string())
        .fetch_all(c)
        .await?;
    rows.iter().map(|r| parse_col(r, "team_id", TeamId::parse)).collect()
}

pub async fn insert_session(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    user: UserId,
    token_hash: &str,
    csrf: &str,
    now: Timestamp,
    expires: Timestamp,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO sessions (token_hash, workspace_id, user_id, csrf_token, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(token_hash)
    .bind(ws.to_string())
    .bind(user.to_string())
    .bind(csrf)
    .bind(now.millis())
    .bind(expires.millis())
    .execute(c)
    .await?;
    Ok(())
}

/// A live session: its user and CSRF token, if it exists and has not expired.
pub async fn session(
    c: &mut AnyConnection,
    token_hash: &str,
    now: Timestamp,
) -> Result<Option<(User, String, Timestamp)>> {
    let r = sqlx::query(
        "SELECT u.id, u.workspace_id, u.email, u.name, u.role, u.department, u.active, u.created_at,
                s.csrf_token, s.expires_at
         FROM sessions s JOIN users u ON u.id = s.user_id
         WHERE s.token_hash = $1 AND s.expires_at > $2",
    )
    .bind(token_hash)
    .bind(now.millis())
    .fetch_optional(c)
    .await?;
    match r {
        Some(r) => Ok(Some((user(&r)?, text(&r, "csrf_token")?, ts(&r, "expires_at")?))),
        None => Ok(None),
    }
}

pub async fn extend_session(
    c: &mut AnyConnection,
    token_hash: &str,
    expires: Timestamp,
) -> Result<()> {
    sqlx::query("UPDATE sessions SET expires_at = $2 WHERE token_hash = $1")
        .bind(token_hash)
        .bind(expires.millis())
        .execute(c)
        .await?;
    Ok(())
}

pub async fn delete_session(c: &mut AnyConnection, token_hash: &str) -> Result<()> {
    sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash).execute(c).await?;
    Ok(())
}

pub async fn delete_user_sessions(c: &mut AnyConnection, user: UserId) -> Result<()> {
    sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(user.to_string())
        .execute(c)
        .await?;
    Ok(())
}

/// An API token as listed to admins; the secret itself is never stored.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiToken {
    pub id: TokenId,
    pub workspace: WorkspaceId,
    pub name: String,
    pub role: Role,
    pub created_by: UserId,
    pub created_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
}

fn api_token(r: &AnyRow) -> Result<ApiToken> {
    Ok(ApiToken {
        id: parse_col(r, "id", TokenId::parse)?,
        workspace: parse_col(r, "workspace_id", WorkspaceId::parse)?,
        name: text(r, "name")?,
        role: parse_col(r, "role", Role::parse)?,
        created_by: parse_col(r, "created_by", UserId::parse)?,
        created_at: ts(r, "created_at")?,
        revoked_at: crate::opt_ts(r, "revoked_at")?,
    })
}

pub async fn insert_token(c: &mut AnyConnection, t: &ApiToken, hash: &str) -> Result<()> {
    sqlx::query(
        "INSERT INTO api_tokens (id, workspace_id, name, role, token_hash, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(t.id.to_string())
    .bind(t.workspace.to_string())
    .bind(&t.name)
    .bind(t.role.as_str())
    .bind(hash)
    .bind(t.created_by.to_string())
    .bind(t.created_at.millis())
    .execute(c)
    .await?;
    Ok(())
}

const TOKEN_COLS: &str = "id, workspace_id, name, role, created_by, created_at, revoked_at";

pub async fn token_by_hash(c: &mut AnyConnection, hash: &str) -> Result<Option<ApiToken>> {
    let sql =
        format!("SELECT {TOKEN_COLS} FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL");
    let r = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(hash).fetch_optional(c).await?;
    r.as_ref().map(api_token).transpose()
}

pub async fn get_token(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    id: TokenId,
) -> Result<Option<ApiToken>> {
    let sql = format!("SELECT {TOKEN_COLS} FROM api_tokens WHERE workspace_id = $1 AND id = $2");
    crate::one_by_id(c, sql, ws, id, api_token).await
}

pub async fn list_tokens(c: &mut AnyConnection, ws: WorkspaceId) -> Result<Vec<ApiToken>> {
    let sql = format!(
        "SELECT {TOKEN_COLS} FROM api_tokens WHERE workspace_id = $1 ORDER BY created_at, id"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(ws.to_string()).fetch_all(c).await?;
    rows.iter().map(api_token).collect()
}

pub async fn revoke_token(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    id: TokenId,
    at: Timestamp,
) -> Result<()> {
    sqlx::query("UPDATE api_tokens SET revoked_at = $3 WHERE workspace_id = $1 AND id = $2 AND revoked_at IS NULL")
        .bind(ws.to_string())
        .bind(id.to_string())
        .bind(at.millis())
        .execute(c)
        .await?;
    Ok(())
}
