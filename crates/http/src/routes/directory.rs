//! The workspace directory: users and roles, teams and skills, problem codes, stages, API
//! tokens.

use app::{
    admin::{NewTeam, NewUser, TeamPatch, UserPatch},
    auth::{Admin, Manager, Staff},
};
use axum::{
    extract::{Path, State},
    http::StatusCode,
};
use domain::{
    Department, Email, ProblemCode, ProblemCodeEntry, Role, TeamId, TokenId, UserId,
    workspace::TeamKind,
};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::{
    AppState,
    dto::{NewTokenResponse, ProblemCodeDto, StageDto, TeamDto, TokenDto, UserDto, double_option},
    error::ApiResult,
    extract::{Cap, Json},
    routes::{Errors, path_id},
};

use axum::Json as J;

/// All users of the workspace.
#[utoipa::path(get, path = "/api/v1/users", tag = "directory", responses((status = 200, body = [UserDto]), Errors))]
pub async fn list_users(
    State(s): State<AppState>,
    Cap(who): Cap<Staff>,
) -> ApiResult<J<Vec<UserDto>>> {
    Ok(J(s.app.list_users(&who).await?.iter().map(UserDto::from).collect()))
}

#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "directory", params(("id" = String, Path)), responses((status = 200, body = UserDto), Errors))]
pub async fn get_user(
    State(s): State<AppState>,
    Cap(who): Cap<Staff>,
    Path(id): Path<String>,
) -> ApiResult<J<UserDto>> {
    let id = path_id(&id, UserId::parse, "user")?;
    Ok(J(UserDto::from(&s.app.get_user(&who, id).await?)))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewUserRequest {
    pub email: String,
    pub name: String,
    /// admin, cs_head, supervisor, agent, dept_member, auditor
    pub role: String,
    /// Required for dept_member: tech, finance, logistics, legal, quality.
    pub department: Option<String>,
    /// At least 10 characters; omit to create a user who cannot log in yet.
    pub password: Option<String>,
}

/// Creates a user (admin only).
#[utoipa::path(post, path = "/api/v1/users", tag = "directory", request_body = NewUserRequest, responses((status = 201, body = UserDto), Errors))]
pub async fn create_user(
    State(s): State<AppState>,
    Cap(who): Cap<Admin>,
    Json(r): Json<NewUserRequest>,
) -> ApiResult<(StatusCode, J<UserDto>)> {
    let n = NewUser {
        email: Email::parse(&r.email)?,
        name: r.name,
        role: Role::parse(&r.role)?,
        department: r.department.as_deref().map(Department::parse).transpose()?,
        password: r.password,
    };
    Ok((StatusCode::CREATED, J(UserDto::from(&s.app.create_user(&who, n).await?))))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct UserPatchRequest {
    pub name: Option<String>,
    pub role: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    pub department: Option<Option<String>>,
    pub active: Option<bool>,
    pub password: Option<String>,
}

/// Changes a user's name, role, department, status or password (admin only). Role, status and
/// password changes end the user's sessions.
#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "directory", params(("id" = String, Path)), request_body = UserPatchRequest, responses((status = 200, body = UserDto), Errors))]
pub async fn update_user(
    State(s): State<AppState>,
    Cap(who): Cap<Admin>,
    Path(id): Path<String>,
    Json(r): Json<UserPatchRequest>,
) -> ApiResult<J<UserDto>> {
    let id = path_id(&id, UserId::parse, "user")?;
    let p = UserPatch {
        name: r.name,
        role: r.role.as_deref().map(Role::parse).transpose()?,
        department: r
            .department
            .map(|d| d.as_deref().map(Department::parse).transpose())
            .transpose()?,
        active: r.active,
        password: r.password,
    };
    Ok(J(UserDto::from(&s.app.update_user(&who, id, p).await?)))
}

#[utoipa::path(get, path = "/api/v1/teams", tag = "directory", responses((status = 200, body = [TeamDto]), Errors))]
pub async fn list_teams(
    State(s): State<AppState>,
    Cap(who): Cap<Staff>,
) -> ApiResult<J<Vec<TeamDto>>> {
    Ok(J(s.app.list_teams(&who).await?.iter().map(TeamDto::from).collect()))
}

#[utoipa::path(get, path = "/api/v1/teams/{id}", tag = "directory", params(("id" = String, Path)), responses((status = 200, body = TeamDto), Errors))]
pub async fn get_team(
    State(s): State<AppState>,
    Cap(who): Cap<Staff>,
    Path(id): Path<String>,
) -> ApiResult<J<TeamDto>> {
    let id = path_id(&id, TeamId::parse, "team")?;
    Ok(J(TeamDto::from(&s.app.get_team(&who, id).await?)))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewTeamRequest {
    pub name: String,
    /// frontline (default) or department
    pub kind: Option<String>,
    pub department: Option<String>,
    /// Routing skills: problem-code categories (`PQ`), `lang:en`, `channel:email`, `vip`, …
    #[serde(default)]
    pub skills: Vec<String>,
    /// User ids.
    #[serde(default)]
    pub members: Vec<String>,
}

fn user_ids(ids: &[String]) -> ApiResult<Vec<UserId>> {
    Ok(ids.iter().map(|s| UserId::parse(s)).collect::<Result<_, _>>()?)
}

/// Creates a team (admin or cs_head).
#[utoipa::path(post, path = "/api/v1/teams", tag = "directory", request_body = NewTeamRequest, responses((status = 201, body = TeamDto), Errors))]
pub async fn create_team(
    State(s): State<AppState>,
    Cap(who): Cap<Manager>,
    Json(r): Json<NewTeamRequest>,
) -> ApiResult<(StatusCode, J<TeamDto>)> {
    let n = NewTeam {
        name: r.name,
        kind: r.kind.as_deref().map(TeamKind::parse).transpose()?.unwrap_or(TeamKind::Frontline),
        department: r.department.as_deref().map(Department::parse).transpose()?,
        skills: r.skills,
        members: user_ids(&r.members)?,
    };
    Ok((StatusCode::CREATED, J(TeamDto::from(&s.app.create_team(&who, n).await?))))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct TeamPatchRequest {
    pub name: Option<String>,
    pub skills: Option<Vec<String>>,
    pub members: Option<Vec<String>>,
}

#[utoipa::path(patch, path = "/api/v1/teams/{id}", tag = "directory", params(("id" = String, Path)), request_body = TeamPatchRequest, responses((status = 200, body = TeamDto), Errors))]
pub async fn update_team(
    State(s): State<AppState>,
    Cap(who): Cap<Manager>,
    Path(id): Path<String>,
    Json(r): Json<TeamPatchRequest>,
) -> ApiResult<J<TeamDto>> {
    let id = path_id(&id, TeamId::parse, "team")?;
    let p = TeamPatch {
        name: r.name,
        skills: r.skills,
        members: r.members.as_deref().map(user_ids).transpose()?,
    };
    Ok(J(TeamDto::from(&s.app.update_team(&who, id, p).await?)))
}

/// The problem-code table (TK-3).
#[utoipa::path(get, path = "/api/v1/problem-codes", tag = "directory", responses((status = 200, body = [ProblemCodeDto]), Errors))]
pub async fn list_problem_codes(
    State(s): State<AppState>,
    Cap(who): Cap<Staff>,
) -> ApiResult<J<Vec<ProblemCodeDto>>> {
    Ok(J(s.app.list_problem_codes(&who).await?.iter().map(ProblemCodeDto::from).collect()))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ProblemCodeRequest {
    pub name_zh: String,
    pub name_en: String,
    pub review_department: Option<String>,
    /// false retires the code: existing tickets keep it, new ones cannot use it.
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

/// Adds or changes a problem code (admin or cs_head).
#[utoipa::path(put, path = "/api/v1/problem-codes/{code}", tag = "directory", params(("code" = String, Path, example = "PQ-07")),
    request_body = ProblemCodeRequest, responses((status = 200, body = ProblemCodeDto), (status = 201, body = ProblemCodeDto), Errors))]
pub async fn put_problem_code(
    State(s): State<AppState>,
    Cap(who): Cap<Manager>,
    Path(code): Path<String>,
    Json(r): Json<ProblemCodeRequest>,
) -> ApiResult<(StatusCode, J<ProblemCodeDto>)> {
    let e = ProblemCodeEntry {
        code: ProblemCode::parse(&code)?,
        name_zh: r.name_zh,
        name_en: r.name_en,
        review_department: r.review_department.as_deref().map(Department::parse).transpose()?,
        active: r.active,
    };
    let (e, created) = s.app.put_problem_code(&who, e).await?;
    Ok((if created { StatusCode::CREATED } else { StatusCode::OK }, J(ProblemCodeDto::from(&e))))
}

/// The customer-visible ticket stages (TK-8).
#[utoipa::path(get, path = "/api/v1/stages", tag = "directory", responses((status = 200, body = [StageDto]), Errors))]
pub async fn list_stages(
    State(s): State<AppState>,
    Cap(who): Cap<Staff>,
) -> ApiResult<J<Vec<StageDto>>> {
    Ok(J(s.app.list_stages(&who).await?.iter().map(StageDto::from).collect()))
}

#[utoipa::path(get, path = "/api/v1/tokens", tag = "directory", responses((status = 200, body = [TokenDto]), Errors))]
pub async fn list_tokens(
    State(s): State<AppState>,
    Cap(who): Cap<Admin>,
) -> ApiResult<J<Vec<TokenDto>>> {
    Ok(J(s.app.list_tokens(&who).await?.iter().map(TokenDto::from).collect()))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewTokenRequest {
    pub name: String,
    /// The role the integration acts with (not dept_member).
    pub role: String,
}

/// Creates an API token for an integration (admin only). The secret is shown once.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "directory", request_body = NewTokenRequest, responses((status = 201, body = NewTokenResponse), Errors))]
pub async fn create_token(
    State(s): State<AppState>,
    Cap(who): Cap<Admin>,
    Json(r): Json<NewTokenRequest>,
) -> ApiResult<(StatusCode, J<NewTokenResponse>)> {
    let (t, secret) = s.app.create_token(&who, &r.name, Role::parse(&r.role)?).await?;
    Ok((StatusCode::CREATED, J(NewTokenResponse { token: TokenDto::from(&t), secret })))
}

/// Revokes an API token (admin only).
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "directory", params(("id" = String, Path)), responses((status = 204), Errors))]
pub async fn revoke_token(
    State(s): State<AppState>,
    Cap(who): Cap<Admin>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = path_id(&id, TokenId::parse, "API token")?;
    s.app.revoke_token(&who, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
