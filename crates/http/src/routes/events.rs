//! The realtime stream: WebSocket and polling, for staff and for widget visitors. Every event
//! carries its gapless `seq`; a client that reconnects with `since=<last seq>` receives
//! everything it missed, then live events.

use std::time::Duration;

use app::{
    auth::{Agent, Staff},
    hub::{Dispatched, EventStream, Signal},
};
use axum::{
    extract::{
        Path, State, WebSocketUpgrade,
        ws::{Message as WsMessage, WebSocket},
    },
    http::StatusCode,
    response::Response,
};
use domain::Event;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::IntoParams;

use crate::{
    AppState,
    dto::{EventDto, MessageDto, rfc3339},
    error::{ApiError, ApiResult, Code},
    extract::{Cap, Query, VisitorAuth},
    routes::Errors,
};

/// The event as JSON. Customers get only what concerns them, with no staff ids.
pub fn event_dto(d: &Dispatched, for_customer: bool) -> EventDto {
    let r = &d.record;
    let s = |v: &dyn ToString| Value::from(v.to_string());
    let o = |v: Option<String>| v.map_or(Value::Null, Value::from);
    let data = match &r.event {
        Event::CustomerCreated { customer } | Event::CustomerUpdated { customer } => {
            json!({"customer_id": s(customer)})
        }
        Event::CustomersMerged { into, from } => json!({"into": s(into), "from": s(from)}),
        Event::ConversationCreated { conversation, customer, channel } => {
            json!({"conversation_id": s(conversation), "customer_id": s(customer), "channel": channel.as_str()})
        }
        Event::ConversationUpdated { conversation, status, assignee } => {
            let assignee =
                if for_customer { Value::Null } else { o(assignee.map(|a| a.to_string())) };
            json!({"conversation_id": s(conversation), "status": status.as_str(), "assignee_id": assignee})
        }
        Event::MessageCreated { conversation, message, sender, visibility } => json!({
            "conversation_id": s(conversation), "message_id": s(message), "sender": sender.as_str(), "visibility": visibility.as_str()
        }),
        Event::TicketCreated { ticket, conversation } => {
            json!({"ticket_id": s(ticket), "conversation_id": s(conversation)})
        }
        Event::TicketUpdated { ticket, fields } => {
            json!({"ticket_id": s(ticket), "fields": fields})
        }
        Event::TicketStatusChanged { ticket, from, to } => {
            json!({"ticket_id": s(ticket), "from": from.as_str(), "to": to.as_str()})
        }
        Event::TicketAssigned { ticket, assignee, team } => json!({
            "ticket_id": s(ticket), "assignee_id": o(assignee.map(|a| a.to_string())), "team_id": o(team.map(|t| t.to_string()))
        }),
        Event::UserChanged { user } => json!({"user_id": s(user)}),
        Event::TeamChanged { team } => json!({"team_id": s(team)}),
        Event::ProblemCodeChanged { code } => json!({"code": s(code)}),
        Event::IntentChanged { intent } => json!({"intent_id": s(intent)}),
        Event::NluModelQueued { model } | Event::NluModelActivated { model } => {
            json!({"model_id": s(model)})
        }
        Event::NluModelTrained { model, status } => {
            json!({"model_id": s(model), "status": status.as_str()})
        }
        Event::CompensationChanged { compensation, ticket, change } => json!({
            "compensation_id": s(compensation), "ticket_id": s(ticket), "change": change.as_str()
        }),
        Event::CollaborationChanged { collaboration, ticket, department, change } => json!({
            "collaboration_id": s(collaboration), "ticket_id": s(ticket),
            "department": department.as_str(), "change": change.as_str()
        }),
        Event::SlaMetric { ticket, metric, cycle, kind, at } => json!({
            "ticket_id": s(ticket), "metric": metric, "cycle": cycle, "kind": kind, "at": rfc3339(*at)
        }),
        Event::SlaEscalated { ticket, action, user } => json!({
            "ticket_id": s(ticket), "action": action, "user_id": o(user.map(|u| u.to_string()))
        }),
        Event::FaqChanged { faq, version } => json!({"faq_id": s(faq), "version": version}),
        Event::ArticleChanged { article, version } => {
            json!({"article_id": s(article), "version": version})
        }
        Event::ReplyTemplateChanged { template } => json!({"template_id": s(template)}),
    };
    let message = d
        .message
        .as_ref()
        .map(|m| if for_customer { MessageDto::public(m) } else { MessageDto::from(m) });
    EventDto {
        seq: r.seq,
        kind: r.event.name().to_string(),
        at: rfc3339(r.at),
        actor: (!for_customer).then(|| r.actor.to_string()),
        data,
        message,
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct EventsQuery {
    /// The last `seq` the client has; events after it are returned.
    pub since: Option<i64>,
    /// 1 to 1000; default 200.
    pub limit: Option<i64>,
}

fn limit(q: &EventsQuery) -> ApiResult<i64> {
    let l = q.limit.unwrap_or(200);
    if (1..=1000).contains(&l) {
        Ok(l)
    } else {
        Err(ApiError::new(Code::InvalidQuery, "limit must be between 1 and 1000"))
    }
}

/// Events after `since` that the caller may see (polling fallback for the WebSocket).
#[utoipa::path(get, path = "/api/v1/events", tag = "realtime", params(EventsQuery), responses((status = 200, body = [EventDto]), Errors))]
pub async fn staff_events(
    State(s): State<AppState>,
    Cap(who): Cap<Staff>,
    Query(q): Query<EventsQuery>,
) -> ApiResult<axum::Json<Vec<EventDto>>> {
    let l = limit(&q)?;
    let events = s.app.staff_events(&who, q.since.unwrap_or(0), l).await?;
    Ok(axum::Json(events.iter().map(|d| event_dto(d, false)).collect()))
}

/// WebSocket of the caller's events. Send `?since=<seq>` to resume without gaps. Each text
/// frame is one event as JSON; the server pings every 20 s.
#[utoipa::path(get, path = "/api/v1/ws", tag = "realtime", params(EventsQuery), responses((status = 101, description = "switching to WebSocket"), Errors))]
pub async fn staff_ws(
    State(s): State<AppState>,
    Cap(who): Cap<Staff>,
    Query(q): Query<EventsQuery>,
    ws: WebSocketUpgrade,
) -> ApiResult<Response> {
    let stream = s.app.staff_stream(&who, q.since).await?;
    Ok(lean(ws).on_upgrade(move |socket| pump(socket, stream, false, s.app)))
}

/// The visitor's events after `since` (polling).
#[utoipa::path(get, path = "/api/v1/public/events", tag = "public", params(EventsQuery), responses((status = 200, body = [EventDto]), Errors))]
pub async fn visitor_events(
    State(s): State<AppState>,
    VisitorAuth(v): VisitorAuth,
    Query(q): Query<EventsQuery>,
) -> ApiResult<axum::Json<Vec<EventDto>>> {
    let l = limit(&q)?;
    let events = s.app.visitor_events(&v, q.since.unwrap_or(0), l).await?;
    Ok(axum::Json(events.iter().map(|d| event_dto(d, true)).collect()))
}

/// The visitor's WebSocket; authenticate with `?token=hv_…` (browsers cannot set headers on
/// WebSockets) or the Authorization header.
#[utoipa::path(get, path = "/api/v1/public/ws", tag = "public", params(EventsQuery, ("token" = Option<String>, Query)), responses((status = 101, description = "switching to WebSocket"), Errors))]
pub async fn visitor_ws(
    State(s): State<AppState>,
    VisitorAuth(v): VisitorAuth,
    Query(q): Query<EventsQuery>,
    ws: WebSocketUpgrade,
) -> ApiResult<Response> {
    let stream = s.app.visitor_stream(&v, q.since).await?;
    Ok(lean(ws).on_upgrade(move |socket| pump(socket, stream, true, s.app)))
}

/// A typing signal as sent on staff sockets: `type` `conversation.typing`, no `seq` (it is not
/// an event: never stored, never replayed).
pub fn signal_json(s: &Signal) -> Value {
    json!({
        "type": "conversation.typing",
        "at": rfc3339(s.at),
        "data": {"conversation_id": s.conversation.to_string(), "user_id": s.user.to_string()},
    })
}

/// Tells colleagues who can see the conversation that the caller is typing a reply: staff
/// sockets get a `conversation.typing` frame without `seq` (not stored, not replayed). Clients
/// send it at most every few seconds while typing.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/typing", tag = "realtime", params(("id" = String, Path)), responses((status = 204, description = "signalled"), Errors))]
pub async fn typing(
    State(s): State<AppState>,
    Cap(who): Cap<Agent>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = crate::routes::path_id(&id, domain::ConversationId::parse, "conversation")?;
    s.app.typing(&who, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Sockets mostly sit idle and carry small JSON frames out; clients send only pings and close
/// frames. The defaults (128 KiB read and write buffers, 64 MiB messages) cost ~150 KiB per
/// idle socket and let a client send huge frames; these keep ten thousand sockets cheap.
fn lean(ws: WebSocketUpgrade) -> WebSocketUpgrade {
    ws.read_buffer_size(4 * 1024)
        .write_buffer_size(0)
        .max_message_size(64 * 1024)
        .max_frame_size(64 * 1024)
}

async fn pump(mut socket: WebSocket, mut stream: EventStream, for_customer: bool, app: app::App) {
    let mut ping = tokio::time::interval(Duration::from_secs(20));
    ping.tick().await;
    let mut signals = stream.signals();
    loop {
        tokio::select! {
            // Shutting down: 1012 "service restart" tells the client to reconnect (to this
            // node once it is back, or another), resuming with `?since=` from its last seq.
            () = app.stopping() => {
                let frame = axum::extract::ws::CloseFrame {
                    code: axum::extract::ws::close_code::RESTART,
                    reason: "server restarting".into(),
                };
                let _ = socket.send(WsMessage::Close(Some(frame))).await;
                return;
            }
            next = stream.next() => match next {
                Ok(d) => {
                    let text = serde_json::to_string(&event_dto(&d, for_customer)).unwrap_or_default();
                    if socket.send(WsMessage::Text(text.into())).await.is_err() {
                        return;
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "event stream failed; closing the socket");
                    let _ = socket.send(WsMessage::Close(None)).await;
                    return;
                }
            },
            sig = signals.next() => {
                if socket.send(WsMessage::Text(signal_json(&sig).to_string().into())).await.is_err() {
                    return;
                }
            }
            incoming = socket.recv() => match incoming {
                // Clients only talk to keep the connection alive or to close it.
                Some(Ok(WsMessage::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => {}
            },
            _ = ping.tick() => {
                if socket.send(WsMessage::Ping(Vec::new().into())).await.is_err() {
                    return;
                }
            }
        }
    }
}
