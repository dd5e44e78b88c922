//! One inbound RFC 5322 message (MIME parsed by mail-parser) into what the channel stores:
//! sender, subject, threading keys, the new text (HTML sanitised, quoted history stripped),
//! attachments with their bytes, and loop signals. Never panics; any bytes give a message or
//! a [`ParseError`].

use mail_parser::{HeaderName, HeaderValue, MessageParser, MimeHeaders, PartType};

use super::{
    html,
    loops::{self, AutoKind, Signals},
    quote, thread,
};

/// The largest raw message accepted (bytes).
pub const MAX_RAW_BYTES: usize = 25 * 1024 * 1024;
/// Attachments kept per message (the rest are listed in the body).
pub const MAX_ATTACHMENTS: usize = 10;
/// The longest stored body, in characters (the domain's message limit).
pub const MAX_TEXT_CHARS: usize = domain::conversation::MAX_BODY_CHARS;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("the message is larger than {MAX_RAW_BYTES} bytes")]
    TooLarge,
    #[error("not an email message")]
    NotAMessage,
    #[error("the message has no sender address")]
    NoSender,
}

#[derive(Debug, Clone, PartialEq)]
pub struct InboundAttachment {
    pub name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Inbound {
    /// The Message-ID without brackets; `None` when the sender gave none.
    pub message_id: Option<String>,
    /// Parent ids, most specific first (In-Reply-To, then References newest first).
    pub parents: Vec<String>,
    /// Lower-cased sender address.
    pub from_address: String,
    pub from_name: Option<String>,
    /// Lower-cased recipient addresses (To and Cc).
    pub to: Vec<String>,
    pub subject: String,
    /// The new text of the message, quoted history removed, at most [`MAX_TEXT_CHARS`].
    pub text: String,
    /// Whether the text came from an HTML part.
    pub from_html: bool,
    pub attachments: Vec<InboundAttachment>,
    /// Attachments beyond [`MAX_ATTACHMENTS`], by name.
    pub dropped_attachments: Vec<String>,
    /// Set when a machine sent it (never answered, never opens a conversation).
    pub auto: Option<AutoKind>,
}

/// Parses raw message bytes. `own_domain` is the domain of the Message-IDs we generate: a
/// message carrying one as its own id came from us and is marked [`AutoKind::Own`].
pub fn parse(raw: &[u8], own_domain: Option<&str>) -> Result<Inbound, ParseError> {
    if raw.len() > MAX_RAW_BYTES {
        return Err(ParseError::TooLarge);
    }
    let msg = MessageParser::default().parse(raw).ok_or(ParseError::NotAMessage)?;
    let sender =
        msg.from().and_then(|a| a.first()).or_else(|| msg.sender().and_then(|a| a.first()));
    let from_address = sender
        .and_then(|a| a.address.as_deref())
        .map(|a| a.trim().to_lowercase())
        .filter(|a| a.contains('@') && a.len() <= 254 && !a.chars().any(char::is_control))
        .ok_or(ParseError::NoSender)?;
    let from_name =
        sender.and_then(|a| a.name.as_deref()).map(clean_line).filter(|n| !n.is_empty());
    let mut to = Vec::new();
    for h in [msg.to(), msg.cc()].into_iter().flatten() {
        for a in h.iter() {
            if let Some(addr) = a.address.as_deref() {
                let addr = addr.trim().to_lowercase();
                if !to.contains(&addr) && to.len() < 50 {
                    to.push(addr);
                }
            }
        }
    }
    let message_id = msg.message_id().and_then(thread::normalize_id);
    let parents = thread::parents(&ids(msg.in_reply_to()), &ids(msg.references()));
    let subject = msg.subject().map(clean_line).unwrap_or_default();

    // The body: the first text part, or the first HTML part through the sanitiser.
    let mut from_html = false;
    let mut body = String::new();
    if let Some(part) = msg.text_bodies().next() {
        match &part.body {
            PartType::Text(t) => body = t.to_string(),
            PartType::Html(h) => {
                body = html::to_text(h);
                from_html = true;
            }
            _ => {}
        }
    }
    if body.trim().is_empty()
        && let Some(part) = msg.html_bodies().next()
        && let PartType::Html(h) = &part.body
    {
        body = html::to_text(h);
        from_html = true;
    }
    let text = truncate(&clean_text(&quote::strip_quoted(&body)), MAX_TEXT_CHARS);

    let mut attachments = Vec::new();
    let mut dropped_attachments = Vec::new();
    for (i, part) in msg.attachments().enumerate() {
        let ct = part
            .content_type()
            .map(|c| match c.subtype() {
                Some(s) => format!("{}/{}", c.ctype(), s),
                None => c.ctype().to_string(),
            })
            .unwrap_or_else(|| "application/octet-stream".into())
            .to_ascii_lowercase();
        let ct = if ct.contains('/') && ct.len() <= 100 && !ct.contains(char::is_whitespace) {
            ct
        } else {
            "application/octet-stream".into()
        };
        let name = part
            .attachment_name()
            .map(clean_line)
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| format!("attachment-{}", i + 1));
        let name = truncate(&name.replace(['/', '\\'], "_"), 200);
        if attachments.len() < MAX_ATTACHMENTS {
            attachments.push(InboundAttachment {
                name,
                content_type: ct,
                bytes: part.contents().to_vec(),
            });
        } else {
            dropped_attachments.push(name);
        }
    }

    let header = |name: &str| msg.header_raw(name).map(|v| v.trim().to_string());
    let top = msg.content_type();
    let report = top.is_some_and(|c| {
        c.ctype().eq_ignore_ascii_case("multipart")
            && c.subtype().is_some_and(|s| s.eq_ignore_ascii_case("report"))
    }) || msg.parts.iter().any(|p| {
        p.content_type().is_some_and(|c| {
            c.ctype().eq_ignore_ascii_case("message")
                && c.subtype().is_some_and(|s| s.eq_ignore_ascii_case("delivery-status"))
        })
    });
    let return_path_null = match msg.return_path() {
        HeaderValue::Text(t) => t.trim().trim_matches(['<', '>']).trim().is_empty(),
        HeaderValue::TextList(l) => l.iter().any(|t| t.trim().trim_matches(['<', '>']).is_empty()),
        _ => msg.header_raw(HeaderName::ReturnPath).is_some_and(|v| v.trim() == "<>"),
    };
    let signals = Signals {
        auto_submitted: header("Auto-Submitted"),
        precedence: header("Precedence"),
        x_autoreply: header("X-Autoreply").is_some() || header("X-Autorespond").is_some(),
        return_path_null,
        report,
        from_local: from_address.split('@').next().map(str::to_string),
    };
    let own = own_domain.is_some_and(|d| {
        message_id.as_deref().is_some_and(|id| {
            id.rsplit_once('@').is_some_and(|(_, dom)| dom.eq_ignore_ascii_case(d))
        })
    });
    let auto = if own { Some(AutoKind::Own) } else { loops::classify(&signals) };

    Ok(Inbound {
        message_id,
        parents,
        from_address,
        from_name,
        to,
        subject,
        text,
        from_html,
        attachments,
        dropped_attachments,
        auto,
    })
}

fn ids(v: &HeaderValue<'_>) -> Vec<String> {
    match v {
        HeaderValue::Text(t) => vec![t.to_string()],
        HeaderValue::TextList(l) => l.iter().map(|t| t.to_string()).collect(),
        _ => Vec::new(),
    }
}

/// One line of printable text: control characters become spaces, runs of space collapse.
fn clean_line(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let c = if c.is_control() { ' ' } else { c };
        if !(c == ' ' && (out.is_empty() || out.ends_with(' '))) {
            out.push(c);
        }
    }
    truncate(out.trim_end(), 500)
}

/// Text without control characters other than line breaks and tabs; CRLF becomes LF.
fn clean_text(s: &str) -> String {
    s.replace("\r\n", "\n")
        .chars()
        .filter(|c| !c.is_control() || *c == '\n' || *c == '\t')
        .collect::<String>()
        .trim()
        .to_string()
}

fn truncate(s: &str, max_chars: usize) -> String {
    match s.char_indices().nth(max_chars) {
        Some((i, _)) => s[..i].to_string(),
        None => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPLY: &str = "From: =?UTF-8?B?5byg5LiJ?= <ZhangSan@Example.COM>\r\n\
To: support@acme.test\r\n\
Subject: =?UTF-8?B?5Zue5aSNOiDpgIDotKc=?= [HT-12]\r\n\
Message-ID: <r2@example.com>\r\n\
In-Reply-To: <out1@acme.test>\r\n\
References: <m1@example.com> <out1@acme.test>\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"b\"\r\n\
\r\n\
--b\r\n\
Content-Type: text/html; charset=utf-8\r\n\
\r\n\
<div>还是没收到退款<script>x</script></div><div>-----原始邮件-----</div><div>旧</div>\r\n\
--b\r\n\
Content-Type: image/png; name=\"shot.png\"\r\n\
Content-Disposition: attachment; filename=\"shot.png\"\r\n\
Content-Transfer-Encoding: base64\r\n\
\r\n\
iVBORw0KGgo=\r\n\
--b--\r\n";

    #[test]
    fn parses_a_chinese_html_reply_with_an_attachment() {
        let m = parse(REPLY.as_bytes(), Some("acme.test")).unwrap();
        assert_eq!(m.from_address, "zhangsan@example.com");
        assert_eq!(m.from_name.as_deref(), Some("张三"));
        assert_eq!(m.subject, "回复: 退货 [HT-12]");
        assert_eq!(m.message_id.as_deref(), Some("r2@example.com"));
        assert_eq!(m.parents, vec!["out1@acme.test", "m1@example.com"]);
        assert_eq!(m.text, "还是没收到退款");
        assert!(m.from_html);
        assert_eq!(m.attachments.len(), 1);
        assert_eq!(m.attachments[0].name, "shot.png");
        assert_eq!(m.attachments[0].content_type, "image/png");
        assert_eq!(m.attachments[0].bytes, b"\x89PNG\r\n\x1a\n");
        assert_eq!(m.auto, None);
    }

    #[test]
    fn loop_signals() {
        let auto = "From: a@x.test\r\nAuto-Submitted: auto-replied\r\nSubject: OOO\r\n\r\naway\r\n";
        assert_eq!(parse(auto.as_bytes(), None).unwrap().auto, Some(AutoKind::AutoReply));
        let dsn = "From: MAILER-DAEMON@x.test\r\nSubject: Undelivered\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=z\r\n\r\n--z\r\nContent-Type: text/plain\r\n\r\nfailed\r\n--z\r\nContent-Type: message/delivery-status\r\n\r\nStatus: 5.0.0\r\n--z--\r\n";
        assert_eq!(parse(dsn.as_bytes(), None).unwrap().auto, Some(AutoKind::Bounce));
        let own = "From: a@x.test\r\nMessage-ID: <abc@acme.test>\r\n\r\nhi\r\n";
        assert_eq!(parse(own.as_bytes(), Some("acme.test")).unwrap().auto, Some(AutoKind::Own));
        let bulk = "From: news@x.test\r\nPrecedence: bulk\r\n\r\nhi\r\n";
        assert_eq!(parse(bulk.as_bytes(), None).unwrap().auto, Some(AutoKind::Bulk));
    }

    #[test]
    fn rejects_garbage_without_panicking() {
        assert!(parse(b"", None).is_err());
        assert!(parse(b"no headers at all", None).is_err());
        assert_eq!(parse(b"Subject: x\r\n\r\nbody", None), Err(ParseError::NoSender));
    }
}
