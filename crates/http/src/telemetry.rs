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
    fmt::Write as _,
    net::SocketAddr,
    sync::OnceLock,
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
        Registry { handle, started: Instant::now() }
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
    let mut body = r.handle.render();
    body.push_str(&database_families(&snap));
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], body).into_response())
}

/// The families read from the database, written out directly rather than through the
/// process-global recorder: they are exact at each scrape (a kind with nothing pending
/// disappears, a restored database shows its own totals), and several apps in one process
/// (tests) do not mix their figures.
fn database_families(snap: &app::ops::OpsSnapshot) -> String {
    let mut out = String::new();
    let mut family = |name: &str, kind: &str, help: &str, samples: Vec<(String, f64)>| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for (labels, v) in samples {
            let _ = writeln!(out, "{name}{{{labels}}} {v}");
        }
        out.push('\n');
    };
    let q = &snap.job_queues;
    let kind = |k: &str| format!("kind=\"{}\"", escape(k));
    family(
        "huiting_jobs_pending",
        "gauge",
        "Background jobs not yet done, including timers due later",
        q.iter().map(|j| (kind(&j.kind), j.pending as f64)).collect(),
    );
    family(
        "huiting_jobs_due",
        "gauge",
        "Pending background jobs due now or earlier",
        q.iter().map(|j| (kind(&j.kind), j.due as f64)).collect(),
    );
    family(
        "huiting_job_lag_seconds",
        "gauge",
        "How long the oldest due job has waited (0 when none is due)",
        q.iter()
            .map(|j| {
                let lag = j.oldest_due.map_or(0, |t| (snap.at.millis() - t.millis()).max(0));
                (kind(&j.kind), lag as f64 / 1000.0)
            })
            .collect(),
    );
    let ws = |slug: &str| format!("workspace=\"{}\"", escape(slug));
    let w = &snap.workspaces;
    family(
        "huiting_sla_breaches_total",
        "counter",
        "SLA targets breached since the workspace began",
        w.iter().map(|x| (ws(&x.slug), x.sla_breaches as f64)).collect(),
    );
    family(
        "huiting_bot_conversations_total",
        "counter",
        "Conversations the bot took part in, by outcome: contained (never handed off) or handed_off",
        w.iter()
            .flat_map(|x| {
                [
                    (
                        format!("{},outcome=\"contained\"", ws(&x.slug)),
                        (x.bot_conversations - x.bot_handed_off).max(0) as f64,
                    ),
                    (format!("{},outcome=\"handed_off\"", ws(&x.slug)), x.bot_handed_off as f64),
                ]
            })
            .collect(),
    );
    out
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
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
