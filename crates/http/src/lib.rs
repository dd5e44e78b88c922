//! The only crate that knows HTTP, JSON and WebSocket. Handlers extract and authorise, call one
//! `app` function, and map its result to a DTO or to an error from the one code table
//! (`error.rs`). All routes are listed in `router.rs`.

pub mod dto;
pub mod error;
pub mod extract;
pub mod guard;
pub mod kb_dto;
pub mod router;
pub mod routes;
pub mod spa;
pub mod telemetry;

pub use crate::router::{openapi, router};

/// What every handler can reach.
#[derive(Clone, Debug)]
pub struct AppState {
    pub app: app::App,
    /// Mark the session cookie `Secure` (serve behind TLS).
    pub secure_cookies: bool,
    /// The bearer token `GET /metrics` requires; without one, only loopback clients may
    /// scrape (see `telemetry.rs`).
    pub metrics_token: Option<String>,
}

/// Serves the API on `listener` until `shutdown` resolves, then drains in-flight requests.
/// Realtime sockets close themselves once `App::begin_shutdown` was called.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use axum::serve::ListenerExt;
    // Small JSON replies must not wait for Nagle's algorithm and the peer's delayed ACK.
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    let app = router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    let upkeep = telemetry::start();
    let r = axum::serve(listener, app).with_graceful_shutdown(shutdown).await;
    upkeep.abort();
    r
}
