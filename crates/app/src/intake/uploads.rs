//! Images in chat (issue 6). The conversation's visitor or staff who may read the conversation
//! upload an image into it; its type is read from the bytes (JPEG, PNG, GIF, WebP — never SVG,
//! HTML or what the client claims), it is at most [`MAX_CHAT_IMAGE_BYTES`], and it is stored in
//! the database. A message then refers to it as `/files/chat/{id}`: only an upload of the same
//! conversation may be attached, and its stored name, type and size replace what the client
//! sent. The bytes are served to the conversation's visitor and to staff who may read it.

use domain::{
    Actor, Attachment, AuditValue, ConversationId, ParseError, Snapshot,
    conversation::{MAX_CHAT_IMAGE_BYTES, chat_file_id, chat_file_url},
    feedback::sniff_media,
};
use sha2::Digest;

use crate::{
    App, Error, Result,
    auth::{Noter, Staff, Visitor},
    error::OrNotFound,
};

pub use db::chat_files::ChatFile;

/// Who asks for a chat file's bytes.
#[derive(Debug, Clone, Copy)]
pub enum FileReader<'a> {
    Visitor(&'a Visitor),
    Staff(&'a Staff),
}

/// Checks an upload: not empty, an image by its magic bytes, within the size limit. Returns
/// the content type and a display name (control characters and any path dropped).
fn check_image(name: Option<&str>, bytes: &[u8]) -> Result<(&'static str, String)> {
    if bytes.is_empty() {
        return Err(ParseError::new("file", "is empty; choose an image").into());
    }
    if bytes.len() > MAX_CHAT_IMAGE_BYTES {
        return Err(Error::TooLarge(format!(
            "the image is {} bytes; at most {} MiB",
            bytes.len(),
            MAX_CHAT_IMAGE_BYTES / (1024 * 1024)
        )));
    }
    let ct = match sniff_media(bytes) {
        Some(("image", ct)) => ct,
        _ => {
            return Err(Error::UnsupportedMedia(
                "only JPEG, PNG, GIF or WebP images may be sent in chat (SVG, HTML and other files are refused)"
                    .into(),
            ));
        }
    };
    let ext = ct.rsplit('/').next().unwrap_or("img");
    let name = name
        .map(|n| n.rsplit(['/', '\\']).next().unwrap_or(n))
        .map(|n| n.chars().filter(|c| !c.is_control()).take(200).collect::<String>())
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| format!("image.{ext}"));
    Ok((ct, name))
}

impl App {
    /// The visitor uploads an image into their own conversation.
    pub async fn visitor_upload(
        &self,
        v: &Visitor,
        conv: ConversationId,
        name: Option<&str>,
        bytes: &[u8],
    ) -> Result<Attachment> {
        let (ct, name) = check_image(name, bytes)?;
        self.visitor_get_conversation(v, conv).await?;
        self.store_chat_file(v.workspace, conv, Actor::Customer(v.customer), ct, name, bytes).await
    }

    /// Staff upload an image into a conversation they may read (for a reply or a note).
    pub async fn staff_upload(
        &self,
        n: &Noter,
        conv: ConversationId,
        name: Option<&str>,
        bytes: &[u8],
    ) -> Result<Attachment> {
        let (ct, name) = check_image(name, bytes)?;
        self.readable_conversation(n, conv).await?;
        self.store_chat_file(n.workspace, conv, n.actor, ct, name, bytes).await
    }

    async fn store_chat_file(
        &self,
        ws: domain::WorkspaceId,
        conv: ConversationId,
        actor: Actor,
        ct: &'static str,
        name: String,
        bytes: &[u8],
    ) -> Result<Attachment> {
        let now = self.now();
        let mut tx = self.db.write(ws).await?;
        let id = self.ids.next(now, |_, u| uuid::Uuid::from_u128(u)).to_string();
        let f = ChatFile {
            id: id.clone(),
            workspace: ws,
            conversation: conv,
            uploaded_by: actor.to_string(),
            name,
            content_type: ct.to_string(),
            size: bytes.len() as i64,
            sha256: hex::encode(sha2::Sha256::digest(bytes)),
            created_at: now,
        };
        db::chat_files::insert(&mut tx, &f, bytes).await?;
        let snap = Snapshot::default()
            .with("conversation", conv.to_string())
            .with("content_type", ct)
            .with("size", AuditValue::Int(f.size))
            .with("sha256", f.sha256.clone());
        tx.audit(now, actor, "chat_file.upload", "chat_file", &id, None, Some(&snap)).await?;
        self.commit(tx).await?;
        Ok(Attachment {
            name: f.name,
            content_type: f.content_type,
            size: f.size,
            url: chat_file_url(&id),
        })
    }

    /// A chat upload's record and bytes, for the conversation's visitor or staff who may read
    /// the conversation; to anyone else it does not exist.
    pub async fn chat_file(&self, r: FileReader<'_>, id: &str) -> Result<(ChatFile, Vec<u8>)> {
        let mut c = self.db.read().await?;
        let (f, data) = db::chat_files::with_data(&mut c, id).await?.or_not_found("file")?;
        drop(c);
        let allowed = match r {
            FileReader::Visitor(v) => {
                f.workspace == v.workspace
                    && self.visitor_get_conversation(v, f.conversation).await.is_ok()
            }
            FileReader::Staff(s) => {
                f.workspace == s.workspace
                    && self.readable_conversation(s, f.conversation).await.is_ok()
            }
        };
        if allowed { Ok((f, data)) } else { Err(Error::NotFound("file")) }
    }

    /// Checks a message's attachments that point at chat uploads: each must be an upload of
    /// conversation `conv`; its stored name, type and size replace the client's.
    pub(crate) async fn bind_chat_files(
        &self,
        ws: domain::WorkspaceId,
        conv: ConversationId,
        attachments: &mut [Attachment],
    ) -> Result<()> {
        if !attachments.iter().any(|a| a.url.starts_with("/files/chat/")) {
            return Ok(());
        }
        let mut c = self.db.read().await?;
        for a in attachments.iter_mut().filter(|a| a.url.starts_with("/files/chat/")) {
            let not_ours = || {
                ParseError::new(
                    "attachment.url",
                    format!(
                        "{} is not an image uploaded into this conversation; upload it first (POST /api/v1/uploads or /api/v1/public/uploads)",
                        a.url
                    ),
                )
            };
            let id = chat_file_id(&a.url).ok_or_else(not_ours)?;
            let f = db::chat_files::get(&mut c, ws, id).await?.ok_or_else(not_ours)?;
            if f.conversation != conv {
                return Err(not_ours().into());
            }
            a.name = f.name;
            a.content_type = f.content_type;
            a.size = f.size;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_raster_images_within_the_limit() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        assert_eq!(
            check_image(Some("C:\\fakepath\\a.png"), png).unwrap(),
            ("image/png", "a.png".into())
        );
        assert_eq!(check_image(None, b"GIF89a....").unwrap(), ("image/gif", "image.gif".into()));
        for bad in [
            &b"<svg xmlns='http://www.w3.org/2000/svg'/>"[..],
            b"<!doctype html><script>",
            b"ID3\x04\0",
        ] {
            assert!(matches!(check_image(Some("x.png"), bad), Err(Error::UnsupportedMedia(_))));
        }
        assert!(matches!(check_image(None, b""), Err(Error::Invalid(_))));
        let mut big = png.to_vec();
        big.resize(MAX_CHAT_IMAGE_BYTES + 1, 0);
        assert!(matches!(check_image(None, &big), Err(Error::TooLarge(_))));
    }
}
