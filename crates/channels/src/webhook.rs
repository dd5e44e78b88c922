//! The generic signed webhook channel, for platforms without a dedicated adapter (Weibo and
//! Douyin comments and DMs relayed by a bridge, a company's own app or mini-program), and the
//! envelope of Huiting's outbound event webhooks (PL-2).
//!
//! Inbound: `POST` a JSON [`InboundMessage`] signed as [`crate::sign`] describes
//! (HMAC-SHA256 over `"{timestamp}.{body}"`, 5 minutes' tolerance), with a unique `id` that is
//! remembered, so a replayed request is refused. Outbound replies: Huiting `POST`s
//! [`outbound_message`] to the platform's callback URL, signed the same way with the channel's
//! secret. Event webhooks: [`event_envelope`], signed with the subscription's secret.

use serde::Deserialize;

/// The largest body accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("the body is larger than {MAX_BODY_BYTES} bytes")]
    TooLarge,
    #[error("the body is not the expected JSON: {0}")]
    Json(String),
    #[error("{0}: {1}")]
    Field(&'static str, &'static str),
}

/// A file the platform hosts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub name: String,
    pub content_type: String,
    pub size: i64,
    pub url: String,
}

/// One customer message from the platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundMessage {
    /// Unique per message: the replay-protection nonce and the idempotency key.
    pub id: String,
    /// The platform's user id; the customer's identity is `<platform>:<user_id>`.
    pub user_id: String,
    pub user_name: Option<String>,
    /// Contact details the platform knows (unverified).
    pub phone: Option<String>,
    pub email: Option<String>,
    pub text: String,
    pub attachments: Vec<Attachment>,
}

#[derive(Deserialize)]
struct RawAttachment {
    name: Option<String>,
    content_type: Option<String>,
    size: Option<i64>,
    url: String,
}

#[derive(Deserialize)]
struct Raw {
    id: String,
    user: RawUser,
    #[serde(default)]
    text: String,
    #[serde(default)]
    attachments: Vec<RawAttachment>,
}

#[derive(Deserialize)]
struct RawUser {
    id: String,
    name: Option<String>,
    phone: Option<String>,
    email: Option<String>,
}

fn check_token(field: &'static str, s: &str) -> Result<String, Error> {
    let t = s.trim();
    if t.is_empty() || t.len() > 200 || t.chars().any(char::is_control) {
        return Err(Error::Field(field, "must be 1 to 200 printable characters"));
    }
    Ok(t.to_string())
}

/// Parses an inbound message body:
/// `{"id": "m-1", "user": {"id": "u-9", "name"?, "phone"?, "email"?}, "text": "…",
///   "attachments"?: [{"url", "name"?, "content_type"?, "size"?}]}`.
pub fn parse(body: &[u8]) -> Result<InboundMessage, Error> {
    if body.len() > MAX_BODY_BYTES {
        return Err(Error::TooLarge);
    }
    let raw: Raw = serde_json::from_slice(body).map_err(|e| Error::Json(e.to_string()))?;
    if raw.text.trim().is_empty() && raw.attachments.is_empty() {
        return Err(Error::Field("text", "must not be empty without attachments"));
    }
    if raw.attachments.len() > 10 {
        return Err(Error::Field("attachments", "at most 10"));
    }
    Ok(InboundMessage {
        id: check_token("id", &raw.id)?,
        user_id: check_token("user.id", &raw.user.id)?,
        user_name: raw.user.name.filter(|n| !n.trim().is_empty()),
        phone: raw.user.phone.filter(|n| !n.trim().is_empty()),
        email: raw.user.email.filter(|n| !n.trim().is_empty()),
        text: raw.text,
        attachments: raw
            .attachments
            .into_iter()
            .map(|a| Attachment {
                name: a.name.unwrap_or_else(|| "attachment".into()),
                content_type: a.content_type.unwrap_or_else(|| "application/octet-stream".into()),
                size: a.size.unwrap_or(0),
                url: a.url,
            })
            .collect(),
    })
}

/// The body of a reply sent to the platform's callback URL.
pub fn outbound_message(
    message_id: &str,
    conversation_id: &str,
    user_id: &str,
    text: &str,
) -> Vec<u8> {
    serde_json::json!({
        "type": "message",
        "id": message_id,
        "conversation_id": conversation_id,
        "to": {"id": user_id},
        "text": text,
    })
    .to_string()
    .into_bytes()
}

/// The body of an outbound event webhook: `data` is the event's stored JSON payload.
pub fn event_envelope(
    delivery_id: &str,
    workspace_id: &str,
    event: &str,
    seq: i64,
    at_millis: i64,
    data: &str,
) -> Vec<u8> {
    let data: serde_json::Value =
        serde_json::from_str(data).unwrap_or(serde_json::Value::String(data.to_string()));
    serde_json::json!({
        "id": delivery_id,
        "workspace_id": workspace_id,
        "event": event,
        "seq": seq,
        "at": at_millis,
        "data": data,
    })
    .to_string()
    .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_refuses() {
        let m = parse(r#"{"id":"m1","user":{"id":"u9","name":"小王","phone":"13800138000"},"text":"你好","attachments":[{"url":"https://x/y.png","content_type":"image/png"}]}"#.as_bytes()).unwrap();
        assert_eq!((m.id.as_str(), m.user_id.as_str(), m.text.as_str()), ("m1", "u9", "你好"));
        assert_eq!(m.phone.as_deref(), Some("13800138000"));
        assert_eq!(m.attachments[0].name, "attachment");
        for bad in [
            &b"{}"[..],
            b"[]",
            b"{\"id\":\"\",\"user\":{\"id\":\"u\"},\"text\":\"x\"}",
            b"{\"id\":\"a\",\"user\":{\"id\":\"u\"},\"text\":\" \"}",
            b"\xff",
        ] {
            assert!(parse(bad).is_err());
        }
    }

    #[test]
    fn envelope_keeps_the_payload_as_json() {
        let b = event_envelope("d1", "w1", "ticket.created", 7, 1000, r#"{"ticket":"t1"}"#);
        let v: serde_json::Value = serde_json::from_slice(&b).unwrap();
        assert_eq!(v["data"]["ticket"], "t1");
        assert_eq!(v["seq"], 7);
    }
}
