//! Middleware applied to every response and request: security headers (unless a handler set
//! its own, as the web app's pages do), and the per-address rate limit of the public API.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::{
    extract::{ConnectInfo, Request, State},
    http::{HeaderValue, header},
    middleware::Next,
    response::{IntoResponse, Response},
};

use crate::{AppState, error::ApiError};

/// API answers are data, never documents: nothing may run, load or frame them.
const CSP_API: &str = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'";

pub async fn headers(req: Request, next: Next) -> Response {
    // The Swagger UI is a page with its own scripts and styles.
    let docs = req.uri().path().starts_with("/api/v1/docs");
    let mut r = next.run(req).await;
    let h = r.headers_mut();
    let set = |h: &mut axum::http::HeaderMap, k: header::HeaderName, v: &'static str| {
        h.entry(k).or_insert(HeaderValue::from_static(v));
    };
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(h, header::REFERRER_POLICY, "same-origin");
    // Pages of the web app bring their own policy (the chat panel may be framed).
    if !docs && !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP_API));
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    r
}

pub async fn public_limit(State(s): State<AppState>, req: Request, next: Next) -> Response {
    // Sign-on starts write a row each, so they count like the public widget endpoints.
    let path = req.uri().path();
    if path.starts_with("/api/v1/public/") || path.starts_with("/api/v1/auth/oidc/") {
        let ip: IpAddr = req
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip());
        if let Err(e) = s.app.throttle_public(ip) {
            return ApiError::from(e).into_response();
        }
    }
    next.run(req).await
}
