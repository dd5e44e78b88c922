//! The public side (no staff login): a widget visitor opens a chat with the workspace's
//! public key, gets a visitor token, and from then on reads and writes only their own
//! conversations; anyone with a ticket's tracking link reads that ticket's progress.

use domain::{
    Actor, Channel, Conversation, ConversationId, ConversationStatus, Customer, CustomerId, Email,
    Handler, Identity, Message, MessageId, Phone, SenderKind, Stage, Ticket, Tier, Workspace,
    customer::parse_name,
};

use crate::{
    App, Error, Result,
    auth::Visitor,
    error::OrNotFound,
    ids::hash_secret,
    intake::{NewMessage, conversations::From},
};

/// What a visitor tells about themselves when opening a chat. Unverified: it never grants
/// access to an existing customer's history (IN-2 verification comes with the channels).
#[derive(Debug, Clone, Default)]
pub struct Hello {
    pub name: Option<String>,
    pub email: Option<Email>,
    pub phone: Option<Phone>,
    pub external_id: Option<String>,
    pub channel: Option<Channel>,
}

/// A chat opened from the widget.
#[derive(Debug, Clone)]
pub struct Chat {
    pub visitor: Visitor,
    /// The new visitor token, when this request created the visitor.
    pub token: Option<String>,
    pub conversation: Conversation,
    pub first_message: Option<Message>,
}

/// A ticket's progress as its tracking link shows it.
#[derive(Debug, Clone)]
pub struct Tracking {
    pub workspace_name: String,
    pub ticket: Ticket,
    pub stages: Vec<Stage>,
    /// The stages the ticket entered, oldest first (TK-8).
    pub timeline: Vec<(String, domain::Timestamp)>,
}

impl App {
    pub async fn workspace_by_public_key(&self, key: &str) -> Result<Workspace> {
        let mut c = self.db.read().await?;
        db::workspaces::by_public_key(&mut c, key.trim()).await?.ok_or(Error::NotFound("workspace"))
    }

    /// Opens a conversation for a new visitor (creating the customer and a token) or for a
    /// returning one, with an optional first message.
    pub async fn open_chat(
        &self,
        public_key: &str,
        returning: Option<Visitor>,
        hello: Hello,
        first: Option<NewMessage>,
    ) -> Result<Chat> {
        let ws = self.workspace_by_public_key(public_key).await?;
        if let Some(v) = returning
            && v.workspace != ws.id
        {
            return Err(Error::Unauthenticated("this visitor token belongs to another workspace"));
        }
        let name = match &hello.name {
            Some(n) => Some(parse_name("name", n)?),
            None => None,
        };
        let channel = hello.channel.unwrap_or(Channel::WebChat);
        if !matches!(channel, Channel::WebChat | Channel::App | Channel::WebForm | Channel::Api) {
            return Err(domain::ParseError::new(
                "channel",
                "the public API opens web_chat, app, web_form or api conversations",
            )
            .into());
        }
        if let Some(m) = &first {
            domain::conversation::parse_body(&m.body, !m.attachments.is_empty())?;
            if m.attachments.iter().any(|a| a.url.starts_with("/files/chat/")) {
                return Err(domain::ParseError::new(
                    "attachments",
                    "images are uploaded into an open conversation: open the chat first",
                )
                .into());
            }
        }
        let now = self.now();
        let mut tx = self.db.write(ws.id).await?;
        let (visitor, token) = match returning {
            Some(v) => (v, None),
            None => {
                let mut ids = Vec::new();
                let mut attributes = vec![("source".to_string(), channel.as_str().to_string())];
                let claim = |i: Identity, attr: &str| (i, attr.to_string());
                let mut claims = Vec::new();
                if let Some(e) = &hello.email {
                    claims.push(claim(Identity::email(e), "unverified_email"));
                }
                if let Some(p) = &hello.phone {
                    claims.push(claim(Identity::phone(p), "unverified_phone"));
                }
                if let Some(x) = &hello.external_id {
                    claims.push(claim(Identity::external(x)?, "unverified_external_id"));
                }
                // A claimed identity that already belongs to someone stays an attribute, for
                // an agent to verify and merge.
                for (i, attr) in claims {
                    if db::customers::find_by_identity(&mut tx, ws.id, &i).await?.is_some() {
                        attributes.push((attr, i.value));
                    } else {
                        ids.push(i);
                    }
                }
                let cu = Customer {
                    id: self.ids.next(now, CustomerId::new),
                    workspace: ws.id,
                    name: name.clone().unwrap_or_else(|| "访客 Visitor".to_string()),
                    tier: Tier::Ordinary,
                    identities: ids,
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
                    domain::Event::CustomerCreated { customer: cu.id },
                    domain::Audience::staff_only(),
                )
                .await?;
                let token = self.ids.secret("hv_");
                let expires = now.plus_days(self.settings.visitor_token_days);
                db::customers::insert_token(
                    &mut tx,
                    ws.id,
                    cu.id,
                    &hash_secret(&token),
                    now,
                    expires,
                )
                .await?;
                (Visitor { workspace: ws.id, customer: cu.id }, Some(token))
            }
        };
        let conv = Conversation {
            id: self.ids.next(now, ConversationId::new),
            workspace: ws.id,
            customer: visitor.customer,
            channel,
            subject: None,
            status: ConversationStatus::Open,
            handler: Handler::Bot,
            assignee: None,
            team: None,
            last_message_at: now,
            created_at: now,
            updated_at: now,
        };
        self.insert_conversation(&mut tx, Actor::Customer(visitor.customer), &conv).await?;
        self.commit(tx).await?;
        let first_message = match first {
            Some(m) => Some(self.post_visitor_message(&visitor, conv.id, m).await?.0),
            None => None,
        };
        Ok(Chat { visitor, token, conversation: conv, first_message })
    }

    async fn visitor_conversation(&self, v: &Visitor, id: ConversationId) -> Result<Conversation> {
        let mut c = self.db.read().await?;
        let conv =
            db::conversations::get(&mut c, v.workspace, id).await?.or_not_found("conversation")?;
        // Another customer's conversation is indistinguishable from a missing one.
        if conv.customer != v.customer { Err(Error::NotFound("conversation")) } else { Ok(conv) }
    }

    pub async fn visitor_conversations(&self, v: &Visitor) -> Result<Vec<Conversation>> {
        let mut c = self.db.read().await?;
        let f = db::conversations::Filter { customer: Some(v.customer), ..Default::default() };
        Ok(db::conversations::list(&mut c, v.workspace, &f, &db::Page { limit: 100, before: None })
            .await?)
    }

    pub async fn visitor_get_conversation(
        &self,
        v: &Visitor,
        id: ConversationId,
    ) -> Result<Conversation> {
        self.visitor_conversation(v, id).await
    }

    /// Public messages of the visitor's conversation (internal notes never).
    pub async fn visitor_messages(
        &self,
        v: &Visitor,
        id: ConversationId,
        after: Option<MessageId>,
        limit: i64,
    ) -> Result<Vec<Message>> {
        self.visitor_conversation(v, id).await?;
        let mut c = self.db.read().await?;
        Ok(db::conversations::messages(&mut c, v.workspace, id, after, limit, true).await?)
    }

    pub async fn post_visitor_message(
        &self,
        v: &Visitor,
        id: ConversationId,
        mut m: NewMessage,
    ) -> Result<(Message, bool)> {
        // Ownership is checked inside the write: another customer's conversation is a 404.
        m.visibility = None;
        let from =
            From { actor: Actor::Customer(v.customer), sender: SenderKind::Customer, author: None };
        self.ingest(v.workspace, id, from, m, true, Some(v.customer)).await
    }

    /// A ticket's progress by its tracking token (TK-8).
    pub async fn track_ticket(&self, token: &str) -> Result<Tracking> {
        let token = token.trim();
        if token.len() < 20 {
            return Err(Error::NotFound("ticket"));
        }
        let mut c = self.db.read().await?;
        let ticket = db::tickets::by_tracking_token(&mut c, token).await?.or_not_found("ticket")?;
        let ws =
            db::workspaces::by_id(&mut c, ticket.workspace).await?.or_not_found("workspace")?;
        let stages = db::workspaces::stages(&mut c, ticket.workspace).await?;
        let timeline = self.stage_timeline(&mut c, &ticket).await?;
        Ok(Tracking { workspace_name: ws.name, ticket, stages, timeline })
    }

    /// The visitor's tickets, newest first.
    pub async fn visitor_tickets(&self, v: &Visitor) -> Result<Vec<Ticket>> {
        let mut c = self.db.read().await?;
        let f = db::tickets::Filter { customer: Some(v.customer), ..Default::default() };
        let all =
            db::tickets::list(&mut c, v.workspace, &f, &db::Page { limit: 100, before: None })
                .await?;
        // Crisis and root-cause tickets hang on the customer whose complaint tipped the count;
        // they are internal work, never shown to that customer.
        Ok(all.into_iter().filter(|t| !crate::crisis::is_internal(t)).collect())
    }
}
