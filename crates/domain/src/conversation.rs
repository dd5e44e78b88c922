//! Conversations and messages: the thread of contact with a customer on one channel (IN-1).
//! A ticket (see `ticket`) is the unit of work; its record of communication is its conversation.

use crate::{
    ConversationId, CustomerId, MessageId, ParseError, TeamId, Timestamp, UserId, WorkspaceId,
    named_enum,
};

named_enum! {
    /// Where a contact came from (IN-1).
    pub enum Channel("channel") {
        WebChat = "web_chat",
        App = "app",
        Email = "email",
        Phone = "phone",
        Social = "social",
        Sms = "sms",
        WebForm = "web_form",
        Api = "api",
    }
}

named_enum! {
    pub enum ConversationStatus("conversation_status") {
        Open = "open",
        Pending = "pending",
        Resolved = "resolved",
    }
}

named_enum! {
    /// Who is answering the conversation now: the bot, or the human queue / an agent.
    pub enum Handler("handler") {
        Bot = "bot",
        Human = "human",
    }
}

named_enum! {
    pub enum SenderKind("sender") {
        Customer = "customer",
        Bot = "bot",
        Agent = "agent",
        System = "system",
    }
}

named_enum! {
    /// Internal notes are never shown to the customer, on any channel or API.
    pub enum Visibility("visibility") {
        Public = "public",
        Internal = "internal",
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Conversation {
    pub id: ConversationId,
    pub workspace: WorkspaceId,
    pub customer: CustomerId,
    pub channel: Channel,
    pub subject: Option<String>,
    pub status: ConversationStatus,
    pub handler: Handler,
    pub assignee: Option<UserId>,
    pub team: Option<TeamId>,
    pub last_message_at: Timestamp,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Metadata of a file attached to a message; the bytes live in object storage or the data dir.
#[derive(Debug, Clone, PartialEq)]
pub struct Attachment {
    pub name: String,
    pub content_type: String,
    pub size: i64,
    pub url: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub id: MessageId,
    pub workspace: WorkspaceId,
    pub conversation: ConversationId,
    pub sender: SenderKind,
    /// The staff member who wrote it (agent replies and notes).
    pub author: Option<UserId>,
    pub visibility: Visibility,
    pub body: String,
    pub attachments: Vec<Attachment>,
    pub created_at: Timestamp,
}

/// The largest image a chat upload may be (issue 6); larger uploads are refused with 413.
pub const MAX_CHAT_IMAGE_BYTES: usize = 10 * 1024 * 1024;

/// The path a stored chat upload is referenced by in a message's attachments.
pub fn chat_file_url(id: &str) -> String {
    format!("/files/chat/{id}")
}

/// The upload id of an attachment URL that points at a stored chat upload.
pub fn chat_file_id(url: &str) -> Option<&str> {
    url.strip_prefix("/files/chat/")
        .filter(|id| !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
}

/// The largest message body accepted, in characters. Longer text is refused, not truncated.
pub const MAX_BODY_CHARS: usize = 20_000;

/// Checks a message body: non-empty after trimming unless attachments carry the content,
/// at most [`MAX_BODY_CHARS`], and without NUL or other control characters except line breaks
/// and tabs.
pub fn parse_body(s: &str, has_attachments: bool) -> Result<String, ParseError> {
    let t = s.trim();
    if t.is_empty() && !has_attachments {
        return Err(ParseError::new("body", "must not be empty"));
    }
    if t.chars().count() > MAX_BODY_CHARS {
        return Err(ParseError::new(
            "body",
            format!("must be at most {MAX_BODY_CHARS} characters"),
        ));
    }
    if t.chars().any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t') {
        return Err(ParseError::new("body", "must not contain control characters"));
    }
    Ok(t.to_string())
}

impl Attachment {
    pub fn parse(
        name: &str,
        content_type: &str,
        size: i64,
        url: &str,
    ) -> Result<Attachment, ParseError> {
        let name = crate::customer::parse_name("attachment.name", name)?;
        let ct = content_type.trim().to_ascii_lowercase();
        if !ct.contains('/') || ct.len() > 100 || ct.chars().any(|c| c.is_whitespace()) {
            return Err(ParseError::new(
                "attachment.content_type",
                format!("{content_type:?} is not a media type like image/png"),
            ));
        }
        if !(0..=100 * 1024 * 1024).contains(&size) {
            return Err(ParseError::new("attachment.size", "must be between 0 and 100 MiB"));
        }
        let url = url.trim();
        if !(url.starts_with("https://")
            || url.starts_with("http://")
            || url.starts_with("/files/"))
            || url.len() > 2000
        {
            return Err(ParseError::new(
                "attachment.url",
                "must be an http(s) URL or a /files/ path",
            ));
        }
        Ok(Attachment { name, content_type: ct, size, url: url.to_string() })
    }
}
