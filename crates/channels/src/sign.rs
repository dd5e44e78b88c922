//! Signatures shared by the signed-webhook family (generic webhook channel, SMS inbound, phone
//! call records, outbound event webhooks): HMAC-SHA256 over `"{timestamp}.{body}"`, sent as
//! `X-Huiting-Signature: sha256=<hex>` with `X-Huiting-Timestamp: <unix seconds>`.

use hmac::{Hmac, KeyInit, Mac};
use sha2_011::Sha256;

/// The header carrying the Unix time (seconds) the sender signed at.
pub const TIMESTAMP_HEADER: &str = "x-huiting-timestamp";
/// The header carrying `sha256=<hex of HMAC-SHA256(secret, "{timestamp}.{body}")>`.
pub const SIGNATURE_HEADER: &str = "x-huiting-signature";
/// The header carrying a sender-chosen unique id, remembered for replay protection.
pub const NONCE_HEADER: &str = "x-huiting-nonce";
/// How far a signed timestamp may be from our clock, either way.
pub const TOLERANCE_SECS: i64 = 300;

fn mac(secret: &[u8], timestamp: &str, body: &[u8]) -> Hmac<Sha256> {
    // HMAC takes keys of any length, so this cannot fail.
    let mut m = <Hmac<Sha256> as KeyInit>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    m.update(timestamp.as_bytes());
    m.update(b".");
    m.update(body);
    m
}

/// The signature header value for `body` signed at `timestamp` (Unix seconds).
pub fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let tag = mac(secret, &timestamp.to_string(), body).finalize().into_bytes();
    format!("sha256={}", hex::encode(tag))
}

/// Why a signed request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SigError {
    #[error("missing or malformed {TIMESTAMP_HEADER} header (Unix seconds)")]
    BadTimestamp,
    #[error("the timestamp is more than {TOLERANCE_SECS} seconds away from our clock")]
    Stale,
    #[error("missing or malformed {SIGNATURE_HEADER} header (sha256=<hex>)")]
    BadSignatureHeader,
    #[error("the signature does not match the body")]
    Mismatch,
}

/// Checks a signed request: the timestamp is within [`TOLERANCE_SECS`] of `now_secs` and the
/// signature matches (compared in constant time). Returns the signed timestamp.
pub fn verify(
    secret: &[u8],
    timestamp: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
    now_secs: i64,
) -> Result<i64, SigError> {
    let ts_text = timestamp.map(str::trim).ok_or(SigError::BadTimestamp)?;
    let ts: i64 = ts_text.parse().map_err(|_| SigError::BadTimestamp)?;
    if ts.checked_sub(now_secs).is_none_or(|d| d.abs() > TOLERANCE_SECS) {
        return Err(SigError::Stale);
    }
    let hex_sig = signature
        .map(str::trim)
        .and_then(|s| s.strip_prefix("sha256="))
        .ok_or(SigError::BadSignatureHeader)?;
    let tag = hex::decode(hex_sig).map_err(|_| SigError::BadSignatureHeader)?;
    mac(secret, ts_text, body).verify_slice(&tag).map_err(|_| SigError::Mismatch)?;
    Ok(ts)
}

/// Compares two byte strings in time independent of where they differ.
pub fn constant_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_then_verify_and_refusals() {
        let s = sign(b"k", 1_000, b"{}");
        assert_eq!(verify(b"k", Some("1000"), Some(&s), b"{}", 1_100), Ok(1000));
        assert_eq!(verify(b"k", Some("1000"), Some(&s), b"{} ", 1_100), Err(SigError::Mismatch));
        assert_eq!(verify(b"x", Some("1000"), Some(&s), b"{}", 1_100), Err(SigError::Mismatch));
        assert_eq!(verify(b"k", Some("1000"), Some(&s), b"{}", 1_301), Err(SigError::Stale));
        assert_eq!(verify(b"k", Some("abc"), Some(&s), b"{}", 1_000), Err(SigError::BadTimestamp));
        assert_eq!(verify(b"k", None, Some(&s), b"{}", 1_000), Err(SigError::BadTimestamp));
        assert_eq!(
            verify(b"k", Some("1000"), Some("md5=00"), b"{}", 1_000),
            Err(SigError::BadSignatureHeader)
        );
        assert_eq!(
            verify(b"k", Some(&i64::MIN.to_string()), Some(&s), b"{}", 1_000),
            Err(SigError::Stale)
        );
        // A known vector: HMAC-SHA256("key", "0.The quick brown fox")
        assert!(sign(b"key", 0, b"The quick brown fox").starts_with("sha256="));
    }
}
