//! SMS through a provider's HTTP API, with templates, and inbound SMS by webhook.
//!
//! Chinese SMS providers (Aliyun, Tencent Cloud, …) send only pre-approved templates with
//! parameters, under an approved signature name. Huiting speaks one documented JSON protocol
//! (a thin bridge adapts it to a specific vendor):
//!
//! - Send: `POST {api_url}` with `Authorization: Bearer {api_key}` and
//!   `{"to": "+8613800138000", "sign_name": "慧听", "template_code": "SMS_1",
//!   "template_params": {"code": "123456"}}` ([`send_request`]). The answer is
//!   `{"code": "OK", "message_id": "…"}`; any other `code`, or a non-2xx status, is a
//!   failure with its `message` ([`parse_send_response`]).
//! - Receive: the provider `POST`s `{"id", "from", "to"?, "text"}` signed like every Huiting
//!   webhook ([`crate::sign`]) to `/api/v1/channels/{id}/sms` ([`parse_inbound`]).

use std::collections::BTreeMap;

use serde::Deserialize;

/// The largest body accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("the body is not the expected JSON: {0}")]
    Json(String),
    #[error("{0}: {1}")]
    Field(&'static str, &'static str),
    #[error("the provider refused: {code}: {message}")]
    Provider { code: String, message: String },
}

/// The body of a send request.
pub fn send_request(
    to: &str,
    sign_name: &str,
    template_code: &str,
    params: &BTreeMap<String, String>,
) -> Vec<u8> {
    serde_json::json!({
        "to": to,
        "sign_name": sign_name,
        "template_code": template_code,
        "template_params": params,
    })
    .to_string()
    .into_bytes()
}

/// The provider's message id, or why it refused.
pub fn parse_send_response(body: &[u8]) -> Result<String, Error> {
    let v: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| Error::Json(e.to_string()))?;
    let code = v.get("code").and_then(|c| c.as_str()).unwrap_or("").to_string();
    if code != "OK" {
        let message = v.get("message").and_then(|m| m.as_str()).unwrap_or("").to_string();
        return Err(Error::Provider { code, message: message.chars().take(200).collect() });
    }
    Ok(v.get("message_id").and_then(|m| m.as_str()).unwrap_or("").to_string())
}

/// An inbound SMS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inbound {
    pub id: String,
    pub from: String,
    pub text: String,
}

#[derive(Deserialize)]
struct RawInbound {
    id: String,
    from: String,
    text: String,
}

pub fn parse_inbound(body: &[u8]) -> Result<Inbound, Error> {
    if body.len() > MAX_BODY_BYTES {
        return Err(Error::Field("body", "too large"));
    }
    let r: RawInbound = serde_json::from_slice(body).map_err(|e| Error::Json(e.to_string()))?;
    if r.id.trim().is_empty() || r.id.len() > 200 {
        return Err(Error::Field("id", "must be 1 to 200 characters"));
    }
    if r.text.trim().is_empty() {
        return Err(Error::Field("text", "must not be empty"));
    }
    Ok(Inbound { id: r.id.trim().to_string(), from: r.from, text: r.text })
}

/// Fills `{{name}}` placeholders of a template's local preview text; unknown names stay.
pub fn render(text: &str, params: &BTreeMap<String, String>) -> String {
    let mut out = text.to_string();
    for (k, v) in params {
        out = out.replace(&format!("{{{{{k}}}}}"), v);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocol() {
        let mut p = BTreeMap::new();
        p.insert("code".to_string(), "123456".to_string());
        let b = send_request("+8613800138000", "慧听", "SMS_1", &p);
        let v: serde_json::Value = serde_json::from_slice(&b).unwrap();
        assert_eq!(v["template_params"]["code"], "123456");
        assert_eq!(parse_send_response(br#"{"code":"OK","message_id":"m1"}"#), Ok("m1".into()));
        assert!(
            parse_send_response(br#"{"code":"isv.BUSINESS_LIMIT_CONTROL","message":"limit"}"#)
                .is_err()
        );
        assert_eq!(render("验证码 {{code}}，{{x}}", &p), "验证码 123456，{{x}}");
        assert!(parse_inbound(br#"{"id":"1","from":"+8613800138000","text":" "}"#).is_err());
    }
}
