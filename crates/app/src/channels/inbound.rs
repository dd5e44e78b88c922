//! Messages arriving through a channel's public endpoint: check the vendor's signature, find
//! or create the customer by the sender's identity, continue the conversation with that
//! address on that channel (or open one, routed back through the channel), and store the
//! message through the one ingestion path. Each endpoint is authenticated by its channel's
//! secret, never by a login.

use ::channels::{
    config::{Settings, WeChat, WeChatMode},
    phone, sign, sms, webhook,
    wechat::{self, crypto},
};
use domain::{
    Actor, Attachment, Audience, Channel, ChannelId, Conversation, ConversationId,
    ConversationStatus, Customer, CustomerId, Event, Handler, Identity, Message, Phone, SenderKind,
    Tier,
};

use crate::{
    App, Error, Result,
    channels::config::ChannelView,
    ids::hash_secret,
    intake::{NewMessage, conversations::From},
};

/// How long a nonce or message id is remembered for replay protection.
const NONCE_MILLIS: i64 = 24 * 3_600_000;

/// Who wrote, as a channel knows them.
#[derive(Debug, Clone)]
pub(crate) struct Contact {
    /// The identity that finds the customer (an openid, a platform user id, a phone number).
    pub identity: Identity,
    /// Other details the platform gives (unverified): kept as identities if nobody has them.
    pub claims: Vec<Identity>,
    pub name: String,
    /// Where replies go on this channel (openid, user id, phone number).
    pub address: String,
    pub channel: Channel,
}

/// What an inbound request produced.
#[derive(Debug, Clone)]
pub struct Received {
    pub customer: CustomerId,
    pub conversation: ConversationId,
    /// The stored message (absent for events that carry none).
    pub message: Option<Message>,
    /// False when this was a retry of a message already stored.
    pub new: bool,
}

fn sig_error(e: sign::SigError) -> Error {
    Error::Unauthenticated(match e {
        sign::SigError::BadTimestamp => "missing or malformed X-Huiting-Timestamp header",
        sign::SigError::Stale => "the signed timestamp is more than 5 minutes away",
        sign::SigError::BadSignatureHeader => "missing or malformed X-Huiting-Signature header",
        sign::SigError::Mismatch => "the signature does not match the body",
    })
}

fn invalid(field: &'static str, e: impl std::fmt::Display) -> Error {
    domain::ParseError::new(field, e.to_string()).into()
}

/// The signed headers of a webhook-family request.
#[derive(Debug, Clone, Default)]
pub struct Signed {
    pub timestamp: Option<String>,
    pub signature: Option<String>,
    pub nonce: Option<String>,
}

/// WeChat's query parameters on every call.
#[derive(Debug, Clone, Default)]
pub struct WeChatQuery {
    /// SHA-1 over the token, timestamp and nonce: on every plaintext call.
    pub signature: Option<String>,
    pub timestamp: String,
    pub nonce: String,
    /// SHA-1 over the token, timestamp, nonce and the encrypted value: on encrypted calls.
    pub msg_signature: Option<String>,
    /// `aes` on an encrypted push (`raw` or absent: plaintext).
    pub encrypt_type: Option<String>,
}

/// A channel's EncodingAESKey is missing or its mode refuses encryption.
const NOT_ENCRYPTED_CHANNEL: &str = "this channel is in plaintext mode: encrypted messages need its mode set to safe or compatible, with the official account's EncodingAESKey";

fn wechat_error(e: wechat::Error) -> Error {
    match e {
        wechat::Error::Crypto(crypto::CryptoError::Signature) => {
            Error::Unauthenticated("the WeChat msg_signature does not match")
        }
        wechat::Error::Crypto(c) => invalid("Encrypt", c),
        other => invalid("body", other),
    }
}

/// The plaintext `signature` check.
fn wechat_signed(w: &WeChat, q: &WeChatQuery) -> Result<()> {
    let sig = q.signature.as_deref().unwrap_or("");
    if wechat::verify(&w.token, &q.timestamp, &q.nonce, sig) {
        Ok(())
    } else {
        Err(Error::Unauthenticated("the WeChat signature does not match"))
    }
}

/// The channel's crypto for an encrypted call: refused in plaintext mode.
fn wechat_crypt(w: &WeChat) -> Result<crypto::Crypt> {
    match w.mode {
        WeChatMode::Plaintext => None,
        WeChatMode::Compatible | WeChatMode::Safe => w.crypt(),
    }
    .ok_or_else(|| invalid("encrypt_type", NOT_ENCRYPTED_CHANNEL))
}

impl App {
    fn check_signed(&self, secret: &str, s: &Signed, body: &[u8]) -> Result<()> {
        let now = self.now().millis() / 1000;
        sign::verify(secret.as_bytes(), s.timestamp.as_deref(), s.signature.as_deref(), body, now)
            .map(|_| ())
            .map_err(sig_error)
    }

    /// Remembers a nonce; a second sighting is a replay (409).
    async fn remember(&self, ch: ChannelId, nonce: &str) -> Result<()> {
        let now = self.now();
        let mut c = self.db.bookkeeping().await?;
        let fresh = db::channels::remember_nonce(
            &mut c,
            ch,
            &hash_secret(nonce),
            now,
            now.plus_millis(-NONCE_MILLIS),
        )
        .await?;
        if fresh {
            Ok(())
        } else {
            Err(Error::Conflict("replayed request: this id was already received".into()))
        }
    }

    /// Finds or creates the customer and the conversation with `contact` on `ch`.
    pub(crate) async fn channel_conversation(
        &self,
        ch: &ChannelView,
        contact: &Contact,
    ) -> Result<(CustomerId, ConversationId)> {
        let ws = ch.row.workspace;
        let now = self.now();
        let mut tx = self.db.write(ws).await?;
        let customer = match db::customers::find_by_identity(&mut tx, ws, &contact.identity).await?
        {
            Some(id) => id,
            None => {
                let mut identities = vec![contact.identity.clone()];
                let mut attributes =
                    vec![("source".to_string(), contact.channel.as_str().to_string())];
                for claim in &contact.claims {
                    if db::customers::find_by_identity(&mut tx, ws, claim).await?.is_some()
                        || identities.iter().any(|i| i.kind == claim.kind && i.value == claim.value)
                    {
                        attributes
                            .push((format!("unverified_{}", claim.kind), claim.value.clone()));
                    } else {
                        identities.push(claim.clone());
                    }
                }
                let cu = Customer {
                    id: self.ids.next(now, CustomerId::new),
                    workspace: ws,
                    name: contact.name.clone(),
                    tier: Tier::Ordinary,
                    identities,
                    attributes,
                    merged_into: None,
                    created_at: now,
                    updated_at: now,
                };
                db::customers::insert(&mut tx, &cu).await?;
                let actor = Actor::Customer(cu.id);
                self.record_customer(&mut tx, actor, "customer.create", None, &cu).await?;
                tx.emit(
                    now,
                    actor,
                    Event::CustomerCreated { customer: cu.id },
                    Audience::staff_only(),
                )
                .await?;
                cu.id
            }
        };
        let conv =
            match db::channels::conversation_for(&mut tx, ws, ch.row.id, &contact.address).await? {
                Some(id) => id,
                None => {
                    let conv = Conversation {
                        id: self.ids.next(now, ConversationId::new),
                        workspace: ws,
                        customer,
                        channel: contact.channel,
                        subject: None,
                        status: ConversationStatus::Open,
                        handler: Handler::Human,
                        assignee: None,
                        team: None,
                        last_message_at: now,
                        created_at: now,
                        updated_at: now,
                    };
                    self.insert_conversation(&mut tx, Actor::Customer(customer), &conv).await?;
                    db::channels::set_route(&mut tx, ws, conv.id, ch.row.id, &contact.address, now)
                        .await?;
                    conv.id
                }
            };
        self.commit(tx).await?;
        Ok((customer, conv))
    }

    /// Stores one customer message arriving through `ch`; `key` makes retries idempotent.
    pub(crate) async fn receive(
        &self,
        ch: &ChannelView,
        contact: &Contact,
        key: &str,
        body: String,
        attachments: Vec<Attachment>,
    ) -> Result<Received> {
        domain::conversation::parse_body(&body, !attachments.is_empty())?;
        let (customer, conversation) = self.channel_conversation(ch, contact).await?;
        let reply = body.clone();
        let from =
            From { actor: Actor::Customer(customer), sender: SenderKind::Customer, author: None };
        let m = NewMessage {
            body,
            attachments,
            visibility: None,
            idempotency_key: Some(format!(
                "ch{}",
                &hash_secret(&format!("{}:{key}", ch.row.id))[..40]
            )),
        };
        let (message, new) =
            self.ingest(ch.row.workspace, conversation, from, m, true, None).await?;
        if new {
            // 退订 / TD / STOP opts the customer out of proactive messages.
            self.opt_out_by_reply(ch.row.workspace, customer, &reply).await?;
        }
        Ok(Received { customer, conversation, message: Some(message), new })
    }

    /// WeChat's server URL check: the `echostr` to answer with, if the signature is right.
    /// With `msg_signature` (compatible and safe mode) the `echostr` is encrypted, and the
    /// answer is its plaintext; without, it is answered as it came, in any mode (official
    /// accounts check the URL in plaintext even in safe mode).
    pub async fn wechat_verify(
        &self,
        id: ChannelId,
        q: &WeChatQuery,
        echostr: &str,
    ) -> Result<String> {
        let ch = self.active_channel(id, "wechat").await?;
        let Settings::WeChat(w) = &ch.settings else { return Err(Error::NotFound("channel")) };
        let Some(ms) = &q.msg_signature else {
            wechat_signed(w, q)?;
            return Ok(echostr.to_string());
        };
        let crypt = wechat_crypt(w)?;
        if !crypto::verify_msg_signature(&w.token, &q.timestamp, &q.nonce, echostr, ms) {
            return Err(Error::Unauthenticated("the WeChat msg_signature does not match"));
        }
        let plain = crypt.decrypt(echostr).map_err(|e| invalid("echostr", e))?;
        String::from_utf8(plain)
            .map_err(|_| invalid("echostr", "the decrypted echostr is not UTF-8"))
    }

    /// One message or event pushed by WeChat, plaintext or encrypted (`encrypt_type=aes`) as
    /// the channel's mode allows. Returns the passive reply document, if any, encrypted when
    /// the push was (the caller answers `success` otherwise).
    pub async fn wechat_receive(
        &self,
        id: ChannelId,
        q: &WeChatQuery,
        body: &[u8],
    ) -> Result<(Option<Received>, Option<String>)> {
        let ch = self.active_channel(id, "wechat").await?;
        let Settings::WeChat(w) = &ch.settings else { return Err(Error::NotFound("channel")) };
        let encrypted = match q.encrypt_type.as_deref().map(str::trim) {
            None | Some("" | "raw") => false,
            Some(t) if t.eq_ignore_ascii_case("aes") => true,
            Some(_) => return Err(invalid("encrypt_type", "must be aes (or absent)")),
        };
        let now_secs = self.now().millis() / 1000;
        let fresh = || match q.timestamp.trim().parse::<i64>() {
            Ok(t) if (t - now_secs).abs() <= sign::TOLERANCE_SECS => Ok(()),
            _ => Err(Error::Unauthenticated("the WeChat timestamp is stale")),
        };
        let (m, crypt) = if encrypted {
            let crypt = wechat_crypt(w)?;
            let Some(ms) = q.msg_signature.as_deref() else {
                return Err(Error::Unauthenticated(
                    "an encrypted WeChat message needs msg_signature",
                ));
            };
            if q.signature.is_some() {
                wechat_signed(w, q)?;
            }
            let s = crypto::Signed { timestamp: &q.timestamp, nonce: &q.nonce, msg_signature: ms };
            let m = crypto::open(&crypt, &w.token, &s, body).map_err(wechat_error)?;
            fresh()?;
            (m, Some(crypt))
        } else {
            wechat_signed(w, q)?;
            fresh()?;
            if w.mode == WeChatMode::Safe {
                return Err(invalid(
                    "encrypt_type",
                    "this channel is in safe mode: messages must be encrypted (encrypt_type=aes with msg_signature)",
                ));
            }
            (wechat::parse(body).map_err(wechat_error)?, None)
        };
        let (received, reply) = self.wechat_message(&ch, w, &m, now_secs).await?;
        let reply = match (reply, crypt) {
            (Some(xml), Some(c)) => {
                let random: [u8; 16] = rand::random();
                Some(crypto::seal(&c, &w.token, now_secs, &q.nonce, &random, &xml))
            }
            (reply, _) => reply,
        };
        Ok((received, reply))
    }

    /// Stores what a WeChat push carries; the plaintext passive reply, if any.
    async fn wechat_message(
        &self,
        ch: &ChannelView,
        w: &WeChat,
        m: &wechat::Incoming,
        now_secs: i64,
    ) -> Result<(Option<Received>, Option<String>)> {
        let contact = Contact {
            identity: Identity::external(&format!("wechat:{}", m.openid))?,
            claims: Vec::new(),
            name: "微信用户 WeChat user".into(),
            address: m.openid.clone(),
            channel: Channel::Social,
        };
        let key = m.dedup_key();
        let base = w.api_base.trim_end_matches('/');
        let (body, attachments) = match &m.kind {
            wechat::Kind::Text { content } => (content.clone(), Vec::new()),
            wechat::Kind::Image { pic_url, media_id } => (
                String::new(),
                vec![Attachment::parse(&format!("{media_id}.jpg"), "image/jpeg", 0, pic_url)?],
            ),
            wechat::Kind::Voice { media_id, format, recognition } => {
                // The audio is fetched from WeChat's media API with an access token.
                let url = format!("{base}/cgi-bin/media/get?media_id={media_id}");
                let ct = format!("audio/{}", format.to_ascii_lowercase());
                (
                    recognition.clone().unwrap_or_default(),
                    vec![Attachment::parse(&format!("{media_id}.{format}"), &ct, 0, &url)?],
                )
            }
            wechat::Kind::Event(wechat::EventKind::Click { key }) => {
                (format!("[菜单 menu] {key}"), Vec::new())
            }
            wechat::Kind::Event(wechat::EventKind::Subscribe { .. }) => {
                let (customer, conversation) = self.channel_conversation(ch, &contact).await?;
                let reply = w.welcome.as_ref().map(|t| wechat::text_reply(m, now_secs, t));
                if let Some(text) = &w.welcome {
                    // The welcome goes out passively; it is stored as the bot's message.
                    let from = From { actor: Actor::System, sender: SenderKind::Bot, author: None };
                    let nm = NewMessage {
                        body: text.clone(),
                        idempotency_key: Some(format!(
                            "ch{}",
                            &hash_secret(&format!("{}:{key}", ch.row.id))[..40]
                        )),
                        ..NewMessage::default()
                    };
                    self.ingest(ch.row.workspace, conversation, from, nm, true, None).await?;
                }
                let r = Received { customer, conversation, message: None, new: true };
                return Ok((Some(r), reply));
            }
            wechat::Kind::Event(_) => return Ok((None, None)),
            wechat::Kind::Other { msg_type } => (format!("[{msg_type}]"), Vec::new()),
        };
        let r = self.receive(ch, &contact, &key, body, attachments).await?;
        Ok((Some(r), None))
    }

    /// A message from a signed-webhook platform.
    pub async fn webhook_receive(
        &self,
        id: ChannelId,
        s: &Signed,
        body: &[u8],
    ) -> Result<Received> {
        let ch = self.active_channel(id, "webhook").await?;
        let Settings::Webhook(h) = &ch.settings else { return Err(Error::NotFound("channel")) };
        self.check_signed(&h.secret, s, body)?;
        let m = webhook::parse(body).map_err(|e| invalid("body", e))?;
        let nonce = s.nonce.clone().unwrap_or_else(|| m.id.clone());
        self.remember(ch.row.id, &nonce).await?;
        let mut claims = Vec::new();
        if let Some(p) = m.phone.as_deref().and_then(|p| Phone::parse(p).ok()) {
            claims.push(Identity::phone(&p));
        }
        if let Some(e) = m.email.as_deref().and_then(|e| domain::Email::parse(e).ok()) {
            claims.push(Identity::email(&e));
        }
        let platform = h.platform.trim().to_ascii_lowercase();
        let contact = Contact {
            identity: Identity::external(&format!("{platform}:{}", m.user_id))?,
            claims,
            name: m.user_name.clone().unwrap_or_else(|| format!("{platform} user")),
            address: m.user_id.clone(),
            channel: if matches!(platform.as_str(), "app" | "mini_program") {
                Channel::App
            } else {
                Channel::Social
            },
        };
        let attachments = m
            .attachments
            .iter()
            .map(|a| Attachment::parse(&a.name, &a.content_type, a.size, &a.url))
            .collect::<Result<Vec<_>, _>>()?;
        let r = self.receive(&ch, &contact, &m.id, m.text.clone(), attachments).await;
        if r.is_err() {
            self.forget(ch.row.id, &nonce).await;
        }
        r
    }

    async fn forget(&self, ch: ChannelId, nonce: &str) {
        // Processing failed: let the sender's retry through.
        if let Ok(mut c) = self.db.bookkeeping().await {
            let _ = db::channels::forget_nonce(&mut c, ch, &hash_secret(nonce)).await;
        }
    }

    /// An inbound SMS.
    pub async fn sms_receive(&self, id: ChannelId, s: &Signed, body: &[u8]) -> Result<Received> {
        let ch = self.active_channel(id, "sms").await?;
        let Settings::Sms(m) = &ch.settings else { return Err(Error::NotFound("channel")) };
        self.check_signed(&m.secret, s, body)?;
        let sms = sms::parse_inbound(body).map_err(|e| invalid("body", e))?;
        let nonce = s.nonce.clone().unwrap_or_else(|| sms.id.clone());
        self.remember(ch.row.id, &nonce).await?;
        let phone = Phone::parse(&sms.from)?;
        let contact = Contact {
            identity: Identity::phone(&phone),
            claims: Vec::new(),
            name: phone.to_string(),
            address: phone.to_string(),
            channel: Channel::Sms,
        };
        let r = self.receive(&ch, &contact, &sms.id, sms.text.clone(), Vec::new()).await;
        if r.is_err() {
            self.forget(ch.row.id, &nonce).await;
        }
        r
    }

    /// A call record from the call center: starts or continues the caller's phone
    /// conversation; the recording and voicemail become attachments.
    pub async fn phone_call(&self, id: ChannelId, s: &Signed, body: &[u8]) -> Result<Received> {
        let ch = self.active_channel(id, "phone").await?;
        let Settings::Phone(p) = &ch.settings else { return Err(Error::NotFound("channel")) };
        self.check_signed(&p.secret, s, body)?;
        let call = phone::parse(body).map_err(|e| invalid("body", e))?;
        let (identity, address) = match Phone::parse(&call.caller) {
            Ok(ph) => (Identity::phone(&ph), ph.to_string()),
            // Withheld or internal numbers: the caller is known only by the call.
            Err(_) => {
                let a = format!("call:{}", call.call_id);
                (Identity::external(&a)?, a)
            }
        };
        let contact = Contact {
            identity,
            claims: Vec::new(),
            name: address.clone(),
            address,
            channel: Channel::Phone,
        };
        let mut attachments = Vec::new();
        if let Some(url) = &call.recording_url {
            attachments.push(Attachment::parse(
                &format!("recording-{}.mp3", call.call_id),
                "audio/mpeg",
                0,
                url,
            )?);
        }
        if let Some(v) = &call.voicemail {
            attachments.push(Attachment::parse(
                &format!("voicemail-{}", call.call_id),
                &v.content_type,
                v.size,
                &v.url,
            )?);
        }
        self.receive(
            &ch,
            &contact,
            &format!("call:{}", call.call_id),
            phone::summary(&call),
            attachments,
        )
        .await
    }
}
