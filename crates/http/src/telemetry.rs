//! Telemetry: the request span (no secrets: see [`span`]) and Prometheus metrics at
//! `GET /metrics` (text format): request latency by method, matched
//! route and status class, recorded by [`track`] around every route; the job queue, SLA
//! breaches and bot hand-offs read from the database at scrape time (`App::ops_snapshot`);
//! realtime subscribers and uptime. The recorder is process-global (the `metrics` crate's), so
//! it is installed once; several servers in one process (tests) share it.
//!
//! Access: with `server.metrics_token` set, only `Authorization: Bearer <token>`; without
//! it, only clients on the loopback interface. A reverse proxy on the same host must not
//! forward `/metrics`, or a token must be set.

use std::{
    collections::HashSet,
    net::SocketAddr,
    sync::{Mutex, OnceLock},
    time::{Duration, Instant},
};

use axum::{
    extract::{ConnectInfo, MatchedPath, Request, State},
    http::{HeaderMap, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::{
    AppState,
    error::{ApiError, Code},
};

pub const REQUEST_DURATION: &str = "huiting_http_request_duration_seconds";
const BUCKETS: &[f64] = &[0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

struct Registry {
    handle: PrometheusHandle,
    started: Instant,
    /// Label sets of the database gauges set at the last scrape: one that is gone now (a
    /// job kind with nothing pending) is set to 0 rather than left at its old value.
    queue_kinds: Mutex<HashSet<String>>,
}

static REGISTRY: OnceLock<Registry> = OnceLock::new();

fn registry() -> &'static Registry {
    REGISTRY.get_or_init(|| {
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(REQUEST_DURATION.into()), BUCKETS)
            .unwrap_or_else(|_| PrometheusBuilder::new());
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        // Fails only if another recorder was installed first; ours then just stays empty.
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!(
                "a metrics recorder was already installed; /metrics shows only its own series"
            );
        }
        metrics::describe_histogram!(
            REQUEST_DURATION,
            metrics::Unit::Seconds,
            "HTTP request latency by method, matched route and status class"
        );
        Registry { handle, started: Instant::now(), queue_kinds: Mutex::default() }
    })
}

/// Installs the recorder (once per process) and drains histogram samples every few seconds,
/// so memory stays bounded even when nobody scrapes.
pub fn start() -> tokio::task::JoinHandle<()> {
    let r = registry();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(5));
        loop {
            every.tick().await;
            r.handle.run_upkeep();
        }
    })
}

/// Records one request's latency. Routes are the router's templates (`/api/v1/tickets/{id}`),
/// never raw paths, so ids and tokens in paths become neither labels nor unbounded series.
pub async fn track(req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = match req.method().as_str() {
        "GET" => "GET",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "HEAD" => "HEAD",
        "OPTIONS" => "OPTIONS",
        _ => "other",
    };
    let route =
        req.extensions().get::<MatchedPath>().map_or("fallback", MatchedPath::as_str).to_owned();
    let resp = next.run(req).await;
    let status = match resp.status().as_u16() / 100 {
        1 => "1xx",
        2 => "2xx",
        3 => "3xx",
        4 => "4xx",
        _ => "5xx",
    };
    metrics::histogram!(REQUEST_DURATION, "method" => method, "route" => route, "status" => status)
        .record(start.elapsed().as_secs_f64());
    resp
}

/// The request span of the trace layer: method and route template only. The raw URI is left
/// out because paths and queries carry credentials (survey and tracking tokens, a visitor's
/// `?token=` on the WebSocket), and headers (Authorization, Cookie) are never recorded.
pub fn span<B>(req: &axum::http::Request<B>) -> tracing::Span {
    let route = req.extensions().get::<MatchedPath>().map_or("fallback", MatchedPath::as_str);
    tracing::debug_span!("request", method = %req.method(), route)
}

/// `GET /metrics`: the Prometheus text format.
pub async fn metrics(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    allowed(s.metrics_token.as_deref(), peer, &headers)?;
    let r = registry();
    let snap = s.app.ops_snapshot().await?;
    metrics::gauge!("huiting_uptime_seconds").set(r.started.elapsed().as_secs_f64());
    metrics::gauge!("huiting_realtime_subscribers").set(snap.realtime_subscribers as f64);
    {
        let mut seen = r.queue_kinds.lock().unwrap_or_else(|e| e.into_inner());
        let now: HashSet<String> = snap.job_queues.iter().map(|q| q.kind.clone()).collect();
        for gone in seen.difference(&now) {
            metrics::gauge!("huiting_jobs_pending", "kind" => gone.clone()).set(0.0);
            metrics::gauge!("huiting_jobs_due", "kind" => gone.clone()).set(0.0);
            metrics::gauge!("huiting_job_lag_seconds", "kind" => gone.clone()).set(0.0);
        }
        *seen = now;
    }
    for q in &snap.job_queues {
        let lag =
            q.oldest_due.map_or(0.0, |t| (snap.at.millis() - t.millis()).max(0) as f64 / 1000.0);
        metrics::gauge!("huiting_jobs_pending", "kind" => q.kind.clone()).set(q.pending as f64);
        metrics::gauge!("huiting_jobs_due", "kind" => q.kind.clone()).set(q.due as f64);
        metrics::gauge!("huiting_job_lag_seconds", "kind" => q.kind.clone()).set(lag);
    }
    for w in &snap.workspaces {
        let ws = w.slug.clone();
        metrics::counter!("huiting_sla_breaches_total", "workspace" => ws.clone())
            .absolute(w.sla_breaches as u64);
        metrics::counter!("huiting_bot_conversations_total", "workspace" => ws.clone(), "outcome" => "contained")
            .absolute((w.bot_conversations - w.bot_handed_off).max(0) as u64);
        metrics::counter!("huiting_bot_conversations_total", "workspace" => ws, "outcome" => "handed_off")
            .absolute(w.bot_handed_off as u64);
    }
    let body = r.handle.render();
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], body).into_response())
}

fn allowed(token: Option<&str>, peer: SocketAddr, headers: &HeaderMap) -> Result<(), ApiError> {
    match token {
        Some(want) => {
            let given = headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .unwrap_or("");
            if constant_time_eq(given.as_bytes(), want.as_bytes()) {
                Ok(())
            } else {
                Err(ApiError::new(
                    Code::Unauthenticated,
                    "/metrics needs Authorization: Bearer <server.metrics_token>",
                ))
            }
        }
        None if peer.ip().is_loopback() => Ok(()),
        None => Err(ApiError::new(
            Code::Forbidden,
            "/metrics answers loopback clients only; set server.metrics_token to scrape from elsewhere",
        )),
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_is_by_token_or_loopback() {
        let local: SocketAddr = "127.0.0.1:5000".parse().unwrap();
        let remote: SocketAddr = "10.0.0.7:5000".parse().unwrap();
        let none = HeaderMap::new();
        let mut good = HeaderMap::new();
        good.insert(header::AUTHORIZATION, "Bearer s3cret-token".parse().unwrap());
        let mut bad = HeaderMap::new();
        bad.insert(header::AUTHORIZATION, "Bearer s3cret-tokeN".parse().unwrap());
        assert!(allowed(None, local, &none).is_ok());
        assert!(allowed(None, remote, &good).is_err());
        assert!(allowed(Some("s3cret-token"), remote, &good).is_ok());
        assert!(
            allowed(Some("s3cret-token"), local, &none).is_err(),
            "a token, once set, is always required"
        );
        assert!(allowed(Some("s3cret-token"), remote, &bad).is_err());
    }
}
