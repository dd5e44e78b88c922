//! Routing (TK-5): an agent's own presence, agents' capacity and seniority, teams' strategy and
//! overflow, and the queue position a customer sees on their tracking link.

use app::{
    auth::{Agent, Manager, Supervisor},
    routing::AgentRouting,
};
use axum::extract::{Path, State};
use domain::{TeamId, UserId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use workflow::routing::{Capacity, Overflow, Presence, Strategy};

use crate::{
    AppState,
    error::ApiResult,
    extract::{Cap, Json},
    routes::{Errors, path_id},
};

use axum::Json as J;

#[derive(Debug, Serialize, ToSchema)]
pub struct AgentRoutingDto {
    pub user_id: String,
    /// online, away or offline
    pub presence: String,
    pub max_chats: u32,
    pub max_tickets: u32,
    pub senior: bool,
}

impl From<&AgentRouting> for AgentRoutingDto {
    fn from(a: &AgentRouting) -> AgentRoutingDto {
        AgentRoutingDto {
            user_id: a.user.to_string(),
            presence: a.presence.as_str().to_string(),
            max_chats: a.capacity.max_chats,
            max_tickets: a.capacity.max_tickets,
            senior: a.senior,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PresenceRequest {
    /// online, away or offline
    pub presence: String,
}

/// The caller's presence and capacity.
#[utoipa::path(get, path = "/api/v1/me/presence", tag = "routing", responses((status = 200, body = AgentRoutingDto), Errors))]
pub async fn get_presence(
    State(s): State<AppState>,
    Cap(who): Cap<Agent>,
) -> ApiResult<J<AgentRoutingDto>> {
    Ok(J(AgentRoutingDto::from(&s.app.my_presence(&who).await?)))
}

/// Sets the caller's presence: only online agents are given new work.
#[utoipa::path(put, path = "/api/v1/me/presence", tag = "routing", request_body = PresenceRequest, responses((status = 200, body = AgentRoutingDto), Errors))]
pub async fn put_presence(
    State(s): State<AppState>,
    Cap(who): Cap<Agent>,
    Json(r): Json<PresenceRequest>,
) -> ApiResult<J<AgentRoutingDto>> {
    let p = Presence::parse(&r.presence)?;
    Ok(J(AgentRoutingDto::from(&s.app.set_my_presence(&who, p).await?)))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CapacityRequest {
    /// Concurrent chats, 0 to 500.
    pub max_chats: u32,
    /// Concurrent open tickets, 0 to 500.
    pub max_tickets: u32,
    /// Senior staff take the urgent red channel.
    #[serde(default)]
    pub senior: bool,
}

/// Sets an agent's capacity and seniority (supervisors and above).
#[utoipa::path(put, path = "/api/v1/users/{id}/routing", tag = "routing", params(("id" = String, Path)), request_body = CapacityRequest, responses((status = 200, body = AgentRoutingDto), Errors))]
pub async fn put_capacity(
    State(s): State<AppState>,
    Cap(who): Cap<Supervisor>,
    Path(id): Path<String>,
    Json(r): Json<CapacityRequest>,
) -> ApiResult<J<AgentRoutingDto>> {
    let id = path_id(&id, UserId::parse, "user")?;
    let cap = Capacity::new(r.max_chats, r.max_tickets)?;
    Ok(J(AgentRoutingDto::from(&s.app.set_agent_capacity(&who, id, cap, r.senior).await?)))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TeamRoutingDto {
    /// least_loaded (default) or round_robin
    pub strategy: String,
    /// Where waiting items go after `overflow_after_seconds`; null for no overflow.
    pub overflow_team_id: Option<String>,
    pub overflow_after_seconds: Option<i64>,
}

/// Sets a front-line team's routing strategy and overflow (admin, cs_head).
#[utoipa::path(put, path = "/api/v1/teams/{id}/routing", tag = "routing", params(("id" = String, Path)), request_body = TeamRoutingDto, responses((status = 200, body = TeamRoutingDto), Errors))]
pub async fn put_team_routing(
    State(s): State<AppState>,
    Cap(who): Cap<Manager>,
    Path(id): Path<String>,
    Json(r): Json<TeamRoutingDto>,
) -> ApiResult<J<TeamRoutingDto>> {
    let id = path_id(&id, TeamId::parse, "team")?;
    let strategy = Strategy::parse(&r.strategy)?;
    let overflow = match r.overflow_team_id.as_deref() {
        Some(t) => Some(Overflow {
            to: TeamId::parse(t)?,
            after_ms: r.overflow_after_seconds.unwrap_or(0).saturating_mul(1000),
        }),
        None => None,
    };
    let t = s.app.set_team_routing(&who, id, strategy, overflow).await?;
    Ok(J(TeamRoutingDto {
        strategy: t.strategy.as_str().to_string(),
        overflow_team_id: t.overflow.map(|o| o.to.to_string()),
        overflow_after_seconds: t.overflow.map(|o| o.after_ms / 1000),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QueueDto {
    /// Whether the ticket is waiting for an agent; false once someone has it.
    pub waiting: bool,
    /// 1 is next.
    pub position: Option<u32>,
    /// Estimated wait, when the team has agents online and a handling-time history.
    pub estimated_wait_seconds: Option<i64>,
}

/// Where a ticket waits in its team's queue, by its tracking link; no login.
#[utoipa::path(get, path = "/api/v1/public/track/{token}/queue", tag = "public", params(("token" = String, Path)), responses((status = 200, body = QueueDto), Errors))]
pub async fn public_queue(
    State(s): State<AppState>,
    Path(token): Path<String>,
) -> ApiResult<J<QueueDto>> {
    let q = s.app.ticket_queue_status(&token).await?;
    Ok(J(QueueDto {
        waiting: q.is_some(),
        position: q.map(|q| q.position),
        estimated_wait_seconds: q.and_then(|q| q.estimated_wait_ms).map(|ms| (ms + 999) / 1000),
    }))
}
