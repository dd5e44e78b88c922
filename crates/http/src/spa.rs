//! The web app, served from the files embedded in the binary (crate `huiting-web`): `/` and
//! every client-side route get the app's `index.html`; built files are served with their
//! content type, content-hashed ones (`/assets/…`) with a year-long immutable cache, the others
//! revalidated. `/api/…` is never answered here: an unknown API path stays a JSON 404.

use axum::{
    body::Body,
    http::{HeaderValue, Method, StatusCode, Uri, header},
    response::{IntoResponse, Response},
};
use web_assets::Asset;

use crate::error::{ApiError, Code};

/// Pages may load scripts and styles only from this origin; the chat panel may be framed by any
/// site (that is what the widget does), the staff app by none.
const CSP_APP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: http: https:; connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";
const CSP_CHAT: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: http: https:; connect-src 'self' ws: wss:; frame-ancestors *; base-uri 'none'; form-action 'self'";

/// The router's fallback: the web app for GET and HEAD outside `/api/`, a JSON 404 otherwise.
pub async fn fallback(method: Method, uri: Uri) -> Response {
    let path = uri.path();
    let is_api = path == "/api" || path.starts_with("/api/");
    if is_api || (method != Method::GET && method != Method::HEAD) {
        return ApiError::new(Code::NotFound, "no such endpoint; see /api/v1/docs").into_response();
    }
    let rel = path.trim_start_matches('/');
    if let Some(a) = web_assets::get(rel).filter(|_| !rel.is_empty()) {
        return file(a, method);
    }
    // A missing built file (a stale hashed name, a typo) is a plain 404, not the app: a script
    // tag must never receive HTML.
    let last = rel.rsplit('/').next().unwrap_or("");
    if rel.starts_with("assets/") || last.contains('.') {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    }
    file(web_assets::index(), method)
}

fn file(a: Asset, method: Method) -> Response {
    let body = if method == Method::HEAD { Body::empty() } else { Body::from(a.bytes) };
    let mut r = Response::new(body);
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(a.content_type));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(a.bytes.len()));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    let cache = if a.immutable { "public, max-age=31536000, immutable" } else { "no-cache" };
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if a.path.ends_with(".html") {
        let csp = if a.path == "chat.html" { CSP_CHAT } else { CSP_APP };
        h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(csp));
    }
    if a.path == "widget.js" {
        // Host pages on any origin load the snippet.
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    }
    r
}
