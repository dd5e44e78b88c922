//! An agent's reply as an RFC 5322 message (built by lettre): a stable Message-ID derived from
//! the stored message's id (a retried send carries the same id, so receivers deduplicate it),
//! In-Reply-To and References continuing the customer's thread, and the ticket number in the
//! subject so a reply from a client that drops the headers still threads.

use lettre::message::{
    Attachment, Body, Mailbox, Message, MessageBuilder, MultiPart, SinglePart,
    header::{ContentTransferEncoding, ContentType},
};

use super::MailError;

#[derive(Debug, Clone)]
pub struct Outbound {
    pub from_address: String,
    pub from_name: Option<String>,
    pub to_address: String,
    pub to_name: Option<String>,
    pub subject: String,
    pub text: String,
    /// Without brackets, e.g. `0193…@acme.test`.
    pub message_id: String,
    /// The message answered (without brackets).
    pub in_reply_to: Option<String>,
    /// The thread so far, oldest first (without brackets).
    pub references: Vec<String>,
}

/// The Message-ID for a stored message: `<message uuid>@<domain of our address>`.
pub fn message_id_for(message: &str, from_address: &str) -> String {
    let domain = from_address.rsplit_once('@').map(|(_, d)| d).unwrap_or("huiting.invalid");
    format!("{message}@{domain}")
}

/// A file sent with a message (a rendered report).
#[derive(Debug, Clone)]
pub struct FileAttachment {
    pub filename: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// The message and its envelope sender/recipient.
pub fn build(o: &Outbound) -> Result<(Vec<u8>, lettre::address::Envelope), MailError> {
    let m = headers(o)?
        .header(ContentType::TEXT_PLAIN)
        .body(o.text.clone())
        .map_err(|e| MailError::new("building the message", e))?;
    let env = m.envelope().clone();
    Ok((m.formatted(), env))
}

/// A `multipart/mixed` message: the text, then `file` as an attachment (base64).
pub fn build_with_attachment(
    o: &Outbound,
    file: &FileAttachment,
) -> Result<(Vec<u8>, lettre::address::Envelope), MailError> {
    let ct = ContentType::parse(&file.content_type)
        .map_err(|e| MailError::new("attachment content type", e))?;
    // Base64 always: the file's bytes (a CSV's line ends, an XLSX) arrive unchanged.
    let body = Body::new_with_encoding(file.bytes.clone(), ContentTransferEncoding::Base64)
        .map_err(|_| MailError::new("attachment", "cannot be base64-encoded"))?;
    let m = headers(o)?
        .multipart(
            MultiPart::mixed()
                .singlepart(SinglePart::plain(o.text.clone()))
                .singlepart(Attachment::new(file.filename.clone()).body(body, ct)),
        )
        .map_err(|e| MailError::new("building the message", e))?;
    let env = m.envelope().clone();
    Ok((m.formatted(), env))
}

fn headers(o: &Outbound) -> Result<MessageBuilder, MailError> {
    let mb = |name: &Option<String>, addr: &str| -> Result<Mailbox, MailError> {
        let a = addr.parse().map_err(|e| MailError::new("address", format!("{addr:?}: {e}")))?;
        Ok(Mailbox::new(name.clone(), a))
    };
    let mut b = Message::builder()
        .from(mb(&o.from_name, &o.from_address)?)
        .to(mb(&o.to_name, &o.to_address)?)
        .subject(o.subject.clone())
        .message_id(Some(format!("<{}>", o.message_id)));
    if let Some(p) = &o.in_reply_to {
        b = b.in_reply_to(format!("<{p}>"));
    }
    if !o.references.is_empty() {
        let refs: Vec<String> = o.references.iter().map(|r| format!("<{r}>")).collect();
        b = b.references(refs.join(" "));
    }
    Ok(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_travels_as_an_attachment() {
        let o = Outbound {
            from_address: "support@acme.test".into(),
            from_name: None,
            to_address: "boss@acme.test".into(),
            to_name: None,
            subject: "周报 weekly report".into(),
            text: "附件为上周的报表。".into(),
            message_id: "r1.0@acme.test".into(),
            in_reply_to: None,
            references: vec![],
        };
        let file = FileAttachment {
            filename: "report-weekly-2026-11-02.csv".into(),
            content_type: "text/csv; charset=utf-8".into(),
            bytes: "\u{feff}section,item\nkpi,九\n".as_bytes().to_vec(),
        };
        let (raw, env) = build_with_attachment(&o, &file).unwrap();
        assert_eq!(env.to()[0].to_string(), "boss@acme.test");
        let m = crate::email::parse(&raw, None).unwrap();
        assert_eq!(m.text, "附件为上周的报表。");
        assert_eq!(m.attachments.len(), 1, "{}", String::from_utf8_lossy(&raw));
        assert_eq!(m.attachments[0].name, "report-weekly-2026-11-02.csv");
        assert_eq!(m.attachments[0].bytes, file.bytes);
        let bad = FileAttachment { content_type: "not a type".into(), ..file };
        assert!(build_with_attachment(&o, &bad).is_err());
    }

    #[test]
    fn reply_round_trips_through_the_parser() {
        let o = Outbound {
            from_address: "support@acme.test".into(),
            from_name: Some("慧听客服".into()),
            to_address: "zhangsan@example.com".into(),
            to_name: Some("张三".into()),
            subject: "Re: 退货 [HT-12]".into(),
            text: "您好，退款已处理。".into(),
            message_id: message_id_for("0193abc", "support@acme.test"),
            in_reply_to: Some("r2@example.com".into()),
            references: vec!["m1@example.com".into(), "r2@example.com".into()],
        };
        let (raw, env) = build(&o).unwrap();
        assert_eq!(env.to()[0].to_string(), "zhangsan@example.com");
        let m = crate::email::parse(&raw, None).unwrap();
        assert_eq!(m.message_id.as_deref(), Some("0193abc@acme.test"));
        assert_eq!(m.parents, vec!["r2@example.com", "m1@example.com"]);
        assert_eq!(m.subject, "Re: 退货 [HT-12]");
        assert_eq!(m.text, "您好，退款已处理。");
        assert_eq!(m.from_name.as_deref(), Some("慧听客服"));
        assert_eq!(
            crate::email::parse(&raw, Some("acme.test")).unwrap().auto,
            Some(crate::email::AutoKind::Own)
        );
    }
}
