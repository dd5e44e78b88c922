//! The WeChat official-account (公众号) protocol.
//!
//! - Server URL verification: WeChat calls `GET ?signature&timestamp&nonce&echostr`; the
//!   signature is the SHA-1 hex of the sorted concatenation of the token, timestamp and nonce
//!   ([`signature`]); we answer with `echostr`. Every message POST carries the same signature.
//! - Messages arrive as a flat XML document (`<xml><ToUserName>…`), parsed by [`parse`]: text,
//!   image, voice (with speech recognition text if enabled) and events (subscribe,
//!   unsubscribe, menu click); other types are [`Kind::Other`].
//! - A passive reply is the HTTP response to that POST, within 5 seconds ([`text_reply`]);
//!   `success` (or an empty body) means "no reply".
//! - Later replies go through the customer-service message API: `GET /cgi-bin/token` for an
//!   access token (cached until shortly before `expires_in`), then
//!   `POST /cgi-bin/message/custom/send?access_token=…` with [`custom_text`].
//!
//! The account's message encryption mode is plaintext (明文), compatible (兼容: WeChat sends
//! both forms) or safe (安全: encrypted only). Encrypted pushes (`encrypt_type=aes`, an
//! `<Encrypt>` element, `msg_signature`) and encrypted passive replies are [`crypto`]
//! (WXBizMsgCrypt: AES-256-CBC with the EncodingAESKey). [`parse`] itself refuses an
//! encrypted document with [`Error::Encrypted`]: it must go through [`crypto::open`].
//!
//! The XML reader is hand-written for this flat format: no DTDs or entities beyond the five
//! predefined ones and character references (so no XXE), bounded size and depth, and no panic
//! on any input (fuzzed: `fuzz/fuzz_targets/wechat_xml.rs` and, through decryption,
//! `fuzz/fuzz_targets/wechat_aes.rs`).

pub mod crypto;

use sha1::{Digest, Sha1};

/// The largest message document accepted, in bytes.
pub const MAX_XML_BYTES: usize = 64 * 1024;
const MAX_DEPTH: usize = 8;

/// SHA-1 hex of the sorted concatenation of `token`, `timestamp` and `nonce`.
pub fn signature(token: &str, timestamp: &str, nonce: &str) -> String {
    sorted_sha1([token, timestamp, nonce])
}

/// SHA-1 hex of the sorted (bytewise) concatenation of `parts`.
fn sorted_sha1<const N: usize>(mut parts: [&str; N]) -> String {
    parts.sort_unstable();
    let mut h = Sha1::new();
    for p in parts {
        h.update(p.as_bytes());
    }
    hex::encode(h.finalize())
}

/// Whether `sig` is the signature of `token`, `timestamp` and `nonce`.
pub fn verify(token: &str, timestamp: &str, nonce: &str, sig: &str) -> bool {
    crate::sign::constant_eq(
        signature(token, timestamp, nonce).as_bytes(),
        sig.trim().to_ascii_lowercase().as_bytes(),
    )
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("the message is larger than {MAX_XML_BYTES} bytes")]
    TooLarge,
    #[error("the message is not well-formed XML: {0}")]
    Syntax(&'static str),
    #[error("the message lacks <{0}>")]
    Missing(&'static str),
    #[error("<{0}> is not valid: {1}")]
    Invalid(&'static str, &'static str),
    #[error(
        "the message is encrypted (safe mode) but was not sent as encrypted (encrypt_type=aes with msg_signature)"
    )]
    Encrypted,
    /// An encrypted message that does not check out or decrypt.
    #[error(transparent)]
    Crypto(#[from] crypto::CryptoError),
}

/// A user-generated event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventKind {
    /// Followed the account; `key` is `qrscene_…` when it came from a parametric QR code.
    Subscribe {
        key: Option<String>,
    },
    Unsubscribe,
    /// Clicked a menu item with `key`.
    Click {
        key: String,
    },
    Other(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    Text {
        content: String,
    },
    Image {
        pic_url: String,
        media_id: String,
    },
    /// A voice message; `recognition` is WeChat's speech-to-text when enabled.
    Voice {
        media_id: String,
        format: String,
        recognition: Option<String>,
    },
    Event(EventKind),
    Other {
        msg_type: String,
    },
}

/// One message or event pushed by WeChat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incoming {
    /// The official account's id (ToUserName).
    pub account: String,
    /// The user's openid (FromUserName).
    pub openid: String,
    /// Unix seconds.
    pub create_time: i64,
    pub msg_id: Option<String>,
    pub kind: Kind,
}

impl Incoming {
    /// The key WeChat's own documentation uses to drop retries: the MsgId, or for events
    /// (which have none) the sender and creation time.
    pub fn dedup_key(&self) -> String {
        match &self.msg_id {
            Some(id) => format!("wx:{id}"),
            None => format!("wx:{}:{}", self.openid, self.create_time),
        }
    }
}

/// Parses one message document.
pub fn parse(xml: &[u8]) -> Result<Incoming, Error> {
    if xml.len() > MAX_XML_BYTES {
        return Err(Error::TooLarge);
    }
    let text = std::str::from_utf8(xml).map_err(|_| Error::Syntax("not UTF-8"))?;
    let fields = read_fields(text)?;
    let get = |name: &str| fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    if get("Encrypt").is_some() && get("MsgType").is_none() {
        return Err(Error::Encrypted);
    }
    let need = |name: &'static str| get(name).map(str::to_string).ok_or(Error::Missing(name));
    let account = need("ToUserName")?;
    let openid = need("FromUserName")?;
    if openid.trim().is_empty() || openid.len() > 128 {
        return Err(Error::Invalid("FromUserName", "must be 1 to 128 characters"));
    }
    let create_time = need("CreateTime")?
        .trim()
        .parse::<i64>()
        .map_err(|_| Error::Invalid("CreateTime", "not an integer"))?;
    let msg_type = need("MsgType")?;
    let msg_id = get("MsgId").map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    let opt = |name: &str| get(name).map(str::to_string).filter(|s| !s.is_empty());
    let kind = match msg_type.trim() {
        "text" => Kind::Text { content: need("Content")? },
        "image" => Kind::Image { pic_url: need("PicUrl")?, media_id: need("MediaId")? },
        "voice" => Kind::Voice {
            media_id: need("MediaId")?,
            format: get("Format").unwrap_or("amr").to_string(),
            recognition: opt("Recognition"),
        },
        "event" => {
            let event = need("Event")?;
            Kind::Event(match event.trim().to_ascii_lowercase().as_str() {
                "subscribe" => EventKind::Subscribe { key: opt("EventKey") },
                "unsubscribe" => EventKind::Unsubscribe,
                "click" => EventKind::Click { key: get("EventKey").unwrap_or("").to_string() },
                other => EventKind::Other(other.to_string()),
            })
        }
        other => Kind::Other { msg_type: other.to_string() },
    };
    Ok(Incoming { account, openid, create_time, msg_id, kind })
}

/// Reads the leaf elements of a `<xml>` document as (name, text) pairs, in order.
fn read_fields(s: &str) -> Result<Vec<(String, String)>, Error> {
    let mut r = Reader { s, pos: 0 };
    r.skip_prolog()?;
    let root = r.open_tag()?.ok_or(Error::Syntax("expected a root element"))?;
    let mut out = Vec::new();
    if !root.1 {
        r.children(&root.0, 1, &mut out)?;
    }
    r.skip_misc()?;
    if r.pos != s.len() {
        return Err(Error::Syntax("content after the root element"));
    }
    Ok(out)
}

struct Reader<'a> {
    s: &'a str,
    pos: usize,
}

impl Reader<'_> {
    fn rest(&self) -> &str {
        self.s.get(self.pos..).unwrap_or("")
    }

    fn skip_ws(&mut self) {
        let rest = self.rest();
        self.pos += rest.len() - rest.trim_start().len();
    }

    /// Skips to just after `end`, or fails.
    fn skip_past(&mut self, end: &str, what: &'static str) -> Result<(), Error> {
        match self.rest().find(end) {
            Some(i) => {
                self.pos += i + end.len();
                Ok(())
            }
            None => Err(Error::Syntax(what)),
        }
    }

    fn skip_misc(&mut self) -> Result<(), Error> {
        loop {
            self.skip_ws();
            if self.rest().starts_with("<!--") {
                self.skip_past("-->", "unterminated comment")?;
            } else if self.rest().starts_with("<?") {
                self.skip_past("?>", "unterminated processing instruction")?;
            } else {
                return Ok(());
            }
        }
    }

    fn skip_prolog(&mut self) -> Result<(), Error> {
        if self.rest().starts_with('\u{feff}') {
            self.pos += '\u{feff}'.len_utf8();
        }
        self.skip_misc()?;
        if self.rest().starts_with("<!") {
            return Err(Error::Syntax("document type declarations are not accepted"));
        }
        Ok(())
    }

    /// Reads `<name attrs…>` or `<name/>`; returns the name and whether it was empty.
    fn open_tag(&mut self) -> Result<Option<(String, bool)>, Error> {
        let rest = self.rest();
        if !rest.starts_with('<') || rest.starts_with("</") {
            return Ok(None);
        }
        let end = rest.find('>').ok_or(Error::Syntax("unterminated tag"))?;
        let inner = &rest[1..end];
        let (inner, empty) = match inner.strip_suffix('/') {
            Some(i) => (i, true),
            None => (inner, false),
        };
        let name: String = inner.split(|c: char| c.is_whitespace()).next().unwrap_or("").into();
        if !valid_name(&name) {
            return Err(Error::Syntax("bad element name"));
        }
        self.pos += end + 1;
        Ok(Some((name, empty)))
    }

    fn close_tag(&mut self, name: &str) -> Result<(), Error> {
        let rest = self.rest();
        let Some(after) = rest.strip_prefix("</") else {
            return Err(Error::Syntax("expected a closing tag"));
        };
        let end = after.find('>').ok_or(Error::Syntax("unterminated closing tag"))?;
        if after[..end].trim_end() != name {
            return Err(Error::Syntax("mismatched closing tag"));
        }
        self.pos += 2 + end + 1;
        Ok(())
    }

    /// Reads the content of element `name` up to and including its closing tag. Leaf
    /// elements are pushed as fields; elements with children recurse.
    fn children(
        &mut self,
        name: &str,
        depth: usize,
        out: &mut Vec<(String, String)>,
    ) -> Result<(), Error> {
        if depth > MAX_DEPTH {
            return Err(Error::Syntax("nested too deeply"));
        }
        let mut text = String::new();
        let mut had_child = false;
        loop {
            let rest = self.rest();
            if rest.is_empty() {
                return Err(Error::Syntax("unexpected end of document"));
            }
            if rest.starts_with("</") {
                self.close_tag(name)?;
                if !had_child && depth > 1 {
                    out.push((name.to_string(), text));
                }
                return Ok(());
            }
            if let Some(after) = rest.strip_prefix("<![CDATA[") {
                let end = after.find("]]>").ok_or(Error::Syntax("unterminated CDATA"))?;
                text.push_str(&after[..end]);
                self.pos += "<![CDATA[".len() + end + 3;
            } else if rest.starts_with("<!--") {
                self.skip_past("-->", "unterminated comment")?;
            } else if rest.starts_with("<?") {
                self.skip_past("?>", "unterminated processing instruction")?;
            } else if rest.starts_with("<!") {
                return Err(Error::Syntax("declarations are not accepted inside elements"));
            } else if rest.starts_with('<') {
                let (child, empty) = self.open_tag()?.ok_or(Error::Syntax("bad tag"))?;
                had_child = true;
                if empty {
                    out.push((child, String::new()));
                } else {
                    self.children(&child, depth + 1, out)?;
                }
            } else {
                let end = rest.find('<').unwrap_or(rest.len());
                unescape(&rest[..end], &mut text)?;
                self.pos += end;
            }
            if out.len() > 200 {
                return Err(Error::Syntax("too many elements"));
            }
        }
    }
}

fn valid_name(n: &str) -> bool {
    !n.is_empty()
        && n.len() <= 64
        && n.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':'))
}

fn unescape(raw: &str, out: &mut String) -> Result<(), Error> {
    let mut rest = raw;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let end = after.find(';').filter(|&e| e <= 10).ok_or(Error::Syntax("bad entity"))?;
        let ent = &after[..end];
        let c = match ent {
            "lt" => '<',
            "gt" => '>',
            "amp" => '&',
            "quot" => '"',
            "apos" => '\'',
            _ => {
                let code = if let Some(h) = ent.strip_prefix("#x").or(ent.strip_prefix("#X")) {
                    u32::from_str_radix(h, 16).ok()
                } else if let Some(d) = ent.strip_prefix('#') {
                    d.parse::<u32>().ok()
                } else {
                    None
                };
                code.and_then(char::from_u32).ok_or(Error::Syntax("unknown entity"))?
            }
        };
        out.push(c);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(())
}

/// Wraps text in CDATA sections, splitting any `]]>` it contains.
fn cdata(s: &str) -> String {
    format!("<![CDATA[{}]]>", s.replace("]]>", "]]]]><![CDATA[>"))
}

/// A passive text reply to `incoming`, sent as the response body of WeChat's POST.
pub fn text_reply(incoming: &Incoming, now_secs: i64, content: &str) -> String {
    format!(
        "<xml><ToUserName>{}</ToUserName><FromUserName>{}</FromUserName><CreateTime>{now_secs}</CreateTime><MsgType>{}</MsgType><Content>{}</Content></xml>",
        cdata(&incoming.openid),
        cdata(&incoming.account),
        cdata("text"),
        cdata(content)
    )
}

/// The body of a customer-service text message (`/cgi-bin/message/custom/send`).
pub fn custom_text(openid: &str, content: &str) -> Vec<u8> {
    serde_json::json!({"touser": openid, "msgtype": "text", "text": {"content": content}})
        .to_string()
        .into_bytes()
}

/// `GET` this for an access token.
pub fn token_url(base: &str, appid: &str, secret: &str) -> String {
    format!(
        "{}/cgi-bin/token?grant_type=client_credential&appid={}&secret={}",
        base.trim_end_matches('/'),
        query_escape(appid),
        query_escape(secret)
    )
}

/// `POST` a customer-service message here.
pub fn send_url(base: &str, access_token: &str) -> String {
    format!(
        "{}/cgi-bin/message/custom/send?access_token={}",
        base.trim_end_matches('/'),
        query_escape(access_token)
    )
}

fn query_escape(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// An error answer of the WeChat API (`{"errcode":…, "errmsg":…}`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("WeChat API error {code}: {message}")]
pub struct ApiError {
    pub code: i64,
    pub message: String,
}

impl ApiError {
    /// The access token is invalid or expired: fetch a new one and retry once.
    pub fn token_expired(&self) -> bool {
        matches!(self.code, 40001 | 40014 | 42001)
    }
}

fn api_error(v: &serde_json::Value) -> Option<ApiError> {
    let code = v.get("errcode")?.as_i64()?;
    (code != 0).then(|| ApiError {
        code,
        message: v.get("errmsg").and_then(|m| m.as_str()).unwrap_or("").chars().take(200).collect(),
    })
}

/// Reads a token response: the token and its lifetime in seconds.
pub fn parse_token_response(body: &[u8]) -> Result<(String, i64), ApiError> {
    let bad = |m: &str| ApiError { code: -2, message: m.to_string() };
    let v: serde_json::Value = serde_json::from_slice(body).map_err(|_| bad("not JSON"))?;
    if let Some(e) = api_error(&v) {
        return Err(e);
    }
    let token = v.get("access_token").and_then(|t| t.as_str()).ok_or_else(|| bad("no token"))?;
    let expires = v.get("expires_in").and_then(|t| t.as_i64()).unwrap_or(7200);
    Ok((token.to_string(), expires))
}

/// Reads a send response: `errcode` 0 is success.
pub fn parse_send_response(body: &[u8]) -> Result<(), ApiError> {
    let v: serde_json::Value = serde_json::from_slice(body)
        .map_err(|_| ApiError { code: -2, message: "not JSON".into() })?;
    match api_error(&v) {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_the_documented_algorithm() {
        // sha1("1409304348" + "123456" + "token") after sorting.
        let s = signature("token", "1409304348", "123456");
        let mut h = Sha1::new();
        h.update(b"1234561409304348token");
        assert_eq!(s, hex::encode(h.finalize()));
        assert!(verify("token", "1409304348", "123456", &s.to_uppercase()));
        assert!(!verify("token", "1409304349", "123456", &s));
    }

    #[test]
    fn parses_the_documented_messages() {
        let text = r#"<xml>
  <ToUserName><![CDATA[gh_123]]></ToUserName>
  <FromUserName><![CDATA[oUser1]]></FromUserName>
  <CreateTime>1348831860</CreateTime>
  <MsgType><![CDATA[text]]></MsgType>
  <Content><![CDATA[我的订单 &amp; <b>]]></Content>
  <MsgId>1234567890123456</MsgId>
</xml>"#;
        let m = parse(text.as_bytes()).unwrap();
        assert_eq!(m.openid, "oUser1");
        assert_eq!(m.kind, Kind::Text { content: "我的订单 &amp; <b>".into() });
        assert_eq!(m.dedup_key(), "wx:1234567890123456");

        let ev = "<xml><ToUserName>gh</ToUserName><FromUserName>o2</FromUserName><CreateTime>5</CreateTime><MsgType>event</MsgType><Event>CLICK</Event><EventKey>V1001_&#x4E2D;&lt;</EventKey></xml>";
        let m = parse(ev.as_bytes()).unwrap();
        assert_eq!(m.kind, Kind::Event(EventKind::Click { key: "V1001_中<".into() }));
        assert_eq!(m.dedup_key(), "wx:o2:5");

        let voice = "<xml><ToUserName>gh</ToUserName><FromUserName>o2</FromUserName><CreateTime>5</CreateTime><MsgType>voice</MsgType><MediaId>m1</MediaId><Format>amr</Format><Recognition>你好</Recognition><MsgId>9</MsgId><ScanCodeInfo><ScanType>x</ScanType></ScanCodeInfo></xml>";
        assert_eq!(
            parse(voice.as_bytes()).unwrap().kind,
            Kind::Voice {
                media_id: "m1".into(),
                format: "amr".into(),
                recognition: Some("你好".into())
            }
        );
    }

    #[test]
    fn refuses_bad_documents() {
        let cases = [
            "",
            "<xml>",
            "<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><xml><Content>&e;</Content></xml>",
            "<xml><ToUserName>a</ToUserName></xml>",
            "<xml><ToUserName>a</FromUserName></xml>",
            "<xml><Encrypt><![CDATA[abc]]></Encrypt></xml>",
            "<xml></xml>trailing",
            "<xml><A>&bogus;</A></xml>",
        ];
        let out: Vec<String> =
            cases.iter().map(|c| parse(c.as_bytes()).unwrap_err().to_string()).collect();
        expect_test::expect![[r#"
            [
                "the message is not well-formed XML: expected a root element",
                "the message is not well-formed XML: unexpected end of document",
                "the message is not well-formed XML: document type declarations are not accepted",
                "the message lacks <FromUserName>",
                "the message is not well-formed XML: mismatched closing tag",
                "the message is encrypted (safe mode) but was not sent as encrypted (encrypt_type=aes with msg_signature)",
                "the message is not well-formed XML: content after the root element",
                "the message is not well-formed XML: unknown entity",
            ]
        "#]]
        .assert_debug_eq(&out);
    }

    #[test]
    fn reply_round_trips_through_the_parser() {
        let m = Incoming {
            account: "gh".into(),
            openid: "o1".into(),
            create_time: 1,
            msg_id: None,
            kind: Kind::Other { msg_type: "x".into() },
        };
        let xml = text_reply(&m, 7, "a ]]> b");
        let fields = read_fields(&xml).unwrap();
        assert!(fields.contains(&("Content".to_string(), "a ]]> b".to_string())));
        assert!(fields.contains(&("ToUserName".to_string(), "o1".to_string())));
    }

    #[test]
    fn api_answers() {
        assert_eq!(
            parse_token_response(br#"{"access_token":"T","expires_in":7200}"#),
            Ok(("T".into(), 7200))
        );
        let e = parse_send_response(br#"{"errcode":42001,"errmsg":"access_token expired"}"#)
            .unwrap_err();
        assert!(e.token_expired());
        assert_eq!(parse_send_response(br#"{"errcode":0,"errmsg":"ok"}"#), Ok(()));
        assert_eq!(
            token_url("http://h/", "a b", "s"),
            "http://h/cgi-bin/token?grant_type=client_credential&appid=a%20b&secret=s"
        );
    }
}
