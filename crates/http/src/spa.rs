//! The web app, served from the files embedded in the binary (crate `huiting-web`): `/` and
//! every client-side route get the app's `index.html`; built files are served with their
//! content type, content-hashed ones (`/assets/…`) with a year-long immutable cache, the others
//! revalidated; gzip copies made at build time go to clients that accept gzip. `/api/…` is
//! never answered here: an unknown API path stays a JSON 404.

use axum::{
    body::Body,
    http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header},
    response::{IntoResponse, Response},
};
use web_assets::Asset;

use crate::error::{ApiError, Code};

/// Pages may load scripts and styles only from this origin; the chat panel may be framed by any
/// site (that is what the widget does), the staff app by none.
const CSP_APP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob: http: https:; connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";
const CSP_CHAT: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob: http: https:; connect-src 'self' ws: wss:; frame-ancestors *; base-uri 'none'; form-action 'self'";

/// The router's fallback: the web app for GET and HEAD outside `/api/`, a JSON 404 otherwise.
pub async fn fallback(method: Method, uri: Uri, headers: HeaderMap) -> Response {
    let path = uri.path();
    let is_api = path == "/api" || path.starts_with("/api/");
    if is_api || (method != Method::GET && method != Method::HEAD) {
        return ApiError::new(Code::NotFound, "no such endpoint; see /api/v1/docs").into_response();
    }
    let rel = path.trim_start_matches('/');
    if let Some(a) = web_assets::get(rel).filter(|_| !rel.is_empty()) {
        return file(a, method, &headers);
    }
    // A missing built file (a stale hashed name, a typo) is a plain 404, not the app: a script
    // tag must never receive HTML.
    let last = rel.rsplit('/').next().unwrap_or("");
    if rel.starts_with("assets/") || last.contains('.') {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    }
    file(web_assets::index(), method, &headers)
}

fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers.get_all(header::ACCEPT_ENCODING).iter().filter_map(|v| v.to_str().ok()).any(|v| {
        v.split(',').any(|e| {
            let mut parts = e.split(';');
            let name = parts.next().unwrap_or("").trim();
            let refused = parts.any(|q| matches!(q.trim(), "q=0" | "q=0.0" | "q=0.00" | "q=0.000"));
            (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
        })
    })
}

fn file(a: Asset, method: Method, headers: &HeaderMap) -> Response {
    let gzip = a.gzip.filter(|_| accepts_gzip(headers));
    let bytes = gzip.unwrap_or(a.bytes);
    let body = if method == Method::HEAD { Body::empty() } else { Body::from(bytes) };
    let mut r = Response::new(body);
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(a.content_type));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
    if a.gzip.is_some() {
        h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    if gzip.is_some() {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    async fn get(path: &str, gzip: bool) -> (StatusCode, HeaderMap, Vec<u8>) {
        let mut h = HeaderMap::new();
        if gzip {
            h.insert(header::ACCEPT_ENCODING, HeaderValue::from_static("gzip, deflate, br"));
        }
        let r = fallback(Method::GET, path.parse().unwrap(), h).await;
        let (parts, body) = r.into_parts();
        let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
        (parts.status, parts.headers, bytes.to_vec())
    }

    fn hashed_script() -> Asset {
        web_assets::all()
            .find(|a| a.immutable && a.path.ends_with(".js") && a.gzip.is_some())
            .unwrap()
    }

    #[tokio::test]
    async fn client_routes_get_the_app_and_files_their_type() {
        for path in [
            "/",
            "/login",
            "/conversations/0190b2a4",
            "/track/tk_abc",
            "/survey/sv_abc",
            "/dashboards",
            "/admin/audit",
        ] {
            let (status, h, body) = get(path, false).await;
            assert_eq!(status, StatusCode::OK, "{path}");
            assert_eq!(h[header::CONTENT_TYPE], "text/html; charset=utf-8");
            assert_eq!(h[header::CACHE_CONTROL], "no-cache");
            assert!(
                h[header::CONTENT_SECURITY_POLICY]
                    .to_str()
                    .unwrap()
                    .contains("frame-ancestors 'none'")
            );
            assert_eq!(body, web_assets::index().bytes, "{path}");
        }
        let js = hashed_script();
        let (status, h, body) = get(&format!("/{}", js.path), false).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(h[header::CONTENT_TYPE], "text/javascript; charset=utf-8");
        assert_eq!(h[header::CACHE_CONTROL], "public, max-age=31536000, immutable");
        assert!(h.get(header::CONTENT_ENCODING).is_none());
        assert_eq!(body, js.bytes);

        let (_, h, _) = get("/chat.html", false).await;
        assert!(h[header::CONTENT_SECURITY_POLICY].to_str().unwrap().contains("frame-ancestors *"));
        let (_, h, _) = get("/widget.js", false).await;
        assert_eq!(h[header::CACHE_CONTROL], "no-cache");
    }

    #[tokio::test]
    async fn gzip_only_for_clients_that_accept_it() {
        let js = hashed_script();
        let (_, h, body) = get(&format!("/{}", js.path), true).await;
        assert_eq!(h[header::CONTENT_ENCODING], "gzip");
        assert_eq!(h[header::VARY], "accept-encoding");
        assert_eq!(body, js.gzip.unwrap());
        let mut refuse = HeaderMap::new();
        refuse.insert(header::ACCEPT_ENCODING, HeaderValue::from_static("gzip;q=0, br"));
        assert!(!accepts_gzip(&refuse));
    }

    #[tokio::test]
    async fn api_paths_other_methods_and_missing_files_are_not_the_app() {
        let (status, h, body) = get("/api/v1/nope", false).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(h[header::CONTENT_TYPE].to_str().unwrap().starts_with("application/json"));
        assert!(String::from_utf8(body).unwrap().contains("\"not_found\""));
        for path in ["/assets/missing-abc123.js", "/favicon.ico", "/robots.txt"] {
            let (status, _, body) = get(path, false).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
            assert_ne!(body, web_assets::index().bytes);
        }
        let r = fallback(Method::POST, "/login".parse().unwrap(), HeaderMap::new()).await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        let r = fallback(Method::HEAD, "/".parse().unwrap(), HeaderMap::new()).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(
            r.headers()[header::CONTENT_LENGTH],
            web_assets::index().bytes.len().to_string().as_str()
        );
    }
}
