//! Images in chat (issue 6): the widget visitor and staff upload an image into a conversation,
//! then send a message whose attachment is the returned `/files/chat/{id}`; the bytes are served
//! at `/api/v1/files/chat/{id}` to the conversation's visitor and the staff who may read it,
//! with the type read from the bytes, `nosniff` and a sanitised file name.

use app::{
    auth::{Noter, Staff},
    intake::FileReader,
};
use axum::{
    body::Bytes,
    extract::{FromRequest, FromRequestParts, Multipart, Path, Request, State},
    http::{HeaderValue, StatusCode, header, request::Parts},
    response::{IntoResponse, Response},
};
use domain::{ConversationId, conversation::MAX_CHAT_IMAGE_BYTES};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::{
    AppState,
    dto::AttachmentDto,
    error::{ApiError, ApiResult, Code, ErrorBody},
    extract::{Cap, Query, VisitorAuth, bearer},
    routes::Errors,
};

use axum::Json as J;

/// Upload requests may be this large (the image plus multipart framing); the image itself is
/// checked against [`MAX_CHAT_IMAGE_BYTES`].
pub const UPLOAD_BODY_LIMIT: usize = MAX_CHAT_IMAGE_BYTES + 64 * 1024;

#[derive(Debug, Deserialize, IntoParams)]
pub struct UploadQuery {
    /// The conversation the image is for.
    pub conversation_id: String,
    /// The file's name (a raw body has none; multipart carries its own).
    pub name: Option<String>,
}

fn too_large() -> ApiError {
    ApiError::new(
        Code::PayloadTooLarge,
        format!("an image may be at most {} MiB", MAX_CHAT_IMAGE_BYTES / (1024 * 1024)),
    )
}

/// Reads the image: the first file part of `multipart/form-data`, or the raw body.
async fn read_image(s: &AppState, req: Request) -> ApiResult<(Option<String>, Bytes)> {
    let ct = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    if ct.starts_with("multipart/form-data") {
        let mut mp = Multipart::from_request(req, s).await.map_err(|e| {
            ApiError::new(Code::MalformedJson, format!("not a valid multipart body: {e}"))
        })?;
        let bad = |e: axum::extract::multipart::MultipartError| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                too_large()
            } else {
                ApiError::new(
                    Code::MalformedJson,
                    format!("a multipart field could not be read: {}", e.body_text()),
                )
            }
        };
        while let Some(field) = mp.next_field().await.map_err(bad)? {
            if field.file_name().is_some() || field.name() == Some("file") {
                let name = field.file_name().map(str::to_string);
                return Ok((name, field.bytes().await.map_err(bad)?));
            }
        }
        Err(ApiError::invalid("file", "send the image in a multipart field named file"))
    } else {
        let bytes = axum::body::to_bytes(req.into_body(), UPLOAD_BODY_LIMIT)
            .await
            .map_err(|_| too_large())?;
        Ok((None, bytes))
    }
}

fn conversation_of(q: &UploadQuery) -> ApiResult<ConversationId> {
    ConversationId::parse(q.conversation_id.trim())
        .map_err(|_| ApiError::invalid("conversation_id", "not a conversation id"))
}

/// The widget visitor uploads an image (JPEG, PNG, GIF or WebP, at most 10 MiB; the type is
/// read from the bytes, so SVG, HTML and anything else is 415) into their own conversation:
/// the raw image as the body, or `multipart/form-data` with a `file` part. Send the returned
/// attachment with the next message.
#[utoipa::path(post, path = "/api/v1/public/uploads", tag = "public", params(UploadQuery),
    request_body(content = Vec<u8>, content_type = "image/png"),
    responses((status = 201, body = AttachmentDto), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), Errors))]
pub async fn visitor_upload(
    State(s): State<AppState>,
    VisitorAuth(v): VisitorAuth,
    Query(q): Query<UploadQuery>,
    req: Request,
) -> ApiResult<(StatusCode, J<AttachmentDto>)> {
    let conv = conversation_of(&q)?;
    let (name, bytes) = read_image(&s, req).await?;
    let a = s.app.visitor_upload(&v, conv, name.as_deref().or(q.name.as_deref()), &bytes).await?;
    Ok((StatusCode::CREATED, J(AttachmentDto::from(&a))))
}

/// Staff upload an image into a conversation they may read, for a reply or an internal note
/// (same types and limit as the widget's).
#[utoipa::path(post, path = "/api/v1/uploads", tag = "conversations", params(UploadQuery),
    request_body(content = Vec<u8>, content_type = "image/png"),
    responses((status = 201, body = AttachmentDto), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), Errors))]
pub async fn staff_upload(
    State(s): State<AppState>,
    Cap(who): Cap<Noter>,
    Query(q): Query<UploadQuery>,
    req: Request,
) -> ApiResult<(StatusCode, J<AttachmentDto>)> {
    let conv = conversation_of(&q)?;
    let (name, bytes) = read_image(&s, req).await?;
    let a = s.app.staff_upload(&who, conv, name.as_deref().or(q.name.as_deref()), &bytes).await?;
    Ok((StatusCode::CREATED, J(AttachmentDto::from(&a))))
}

/// A visitor (by their `hv_` token) or a staff member.
pub enum Reader {
    Visitor(app::auth::Visitor),
    Staff(Staff),
}

impl FromRequestParts<AppState> for Reader {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if bearer(parts).is_some_and(|t| t.starts_with("hv_")) {
            let VisitorAuth(v) = VisitorAuth::from_request_parts(parts, state).await?;
            return Ok(Reader::Visitor(v));
        }
        let Cap(s) = Cap::<Staff>::from_request_parts(parts, state).await?;
        Ok(Reader::Staff(s))
    }
}

/// `filename="…"` with only safe ASCII, plus the full name as RFC 5987 `filename*`.
fn disposition(name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || "._- ()".contains(c) { c } else { '_' })
        .collect();
    let mut enc = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"._-".contains(&b) {
            enc.push(b as char);
        } else {
            enc.push_str(&format!("%{b:02X}"));
        }
    }
    format!("inline; filename=\"{ascii}\"; filename*=UTF-8''{enc}")
}

/// A chat image, to the conversation's visitor (`Authorization: Bearer hv_…`) and to staff who
/// may read the conversation; anyone else gets 404. Served with the type read at upload,
/// `X-Content-Type-Options: nosniff` and a sandboxing Content-Security-Policy.
#[utoipa::path(get, path = "/api/v1/files/chat/{id}", tag = "conversations", params(("id" = String, Path)),
    responses((status = 200, content_type = "image/png", body = Vec<u8>), Errors))]
pub async fn file(
    State(s): State<AppState>,
    who: Reader,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let r = match &who {
        Reader::Visitor(v) => FileReader::Visitor(v),
        Reader::Staff(st) => FileReader::Staff(st),
    };
    let (f, bytes) = s.app.chat_file(r, id.trim()).await?;
    let mut resp = bytes.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&f.content_type)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    if let Ok(v) = HeaderValue::from_str(&disposition(&f.name)) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=86400"));
    h.insert("cross-origin-resource-policy", HeaderValue::from_static("same-origin"));
    Ok(resp)
}

#[cfg(test)]
mod tests {
    #[test]
    fn disposition_is_quoted_ascii_with_the_full_name_encoded() {
        assert_eq!(
            super::disposition("a\"b\r\n<x>.png"),
            "inline; filename=\"a_b___x_.png\"; filename*=UTF-8''a%22b%0D%0A%3Cx%3E.png"
        );
        assert!(super::disposition("图片.png").starts_with("inline; filename=\"__.png\""));
    }
}
