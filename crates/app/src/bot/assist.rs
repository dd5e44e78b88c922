//! Agent assist, knowledge-base half (TK-9): the reply-template library (话术库) with variables
//! filled from the ticket, the customer, the agent and the workspace, and suggestions for the
//! conversation an agent has open — the best FAQ answers and templates for the customer's
//! latest message, and the similar solved tickets of `bot::similar`. Everything is read from
//! the derived matcher and indexes and a handful of indexed rows, so a suggestion costs a few
//! milliseconds (`huiting bench suggest`).

use std::time::Instant;

use domain::{
    Audience, ConversationId, Customer, Event, Faq, KbLang, ParseError, ReplyTemplate,
    ReplyTemplateId, Snapshot, Ticket, TicketId,
    knowledge::{Rendered, parse_template, render},
};
use search::{MatchConfig, Matcher, matching::Entry};

use crate::{
    App, Error, Result,
    auth::{BotEditor, Staff},
    bot::{matching::customer_var, similar::SimilarTicket},
    error::OrNotFound,
};

#[derive(Debug, Clone)]
pub struct NewTemplate {
    pub name: String,
    pub body: String,
    pub category: String,
    pub tags: Vec<String>,
    pub lang: KbLang,
}

#[derive(Debug, Clone, Default)]
pub struct TemplatePatch {
    pub name: Option<String>,
    pub body: Option<String>,
    pub category: Option<String>,
    pub tags: Option<Vec<String>>,
    pub lang: Option<KbLang>,
}

/// What fills a template's variables.
#[derive(Debug, Clone, Default)]
pub struct Context {
    pub customer: Option<Customer>,
    pub ticket: Option<Ticket>,
    pub agent: Option<String>,
    pub workspace: Option<String>,
}

impl Context {
    pub fn value(&self, name: &str) -> Option<String> {
        let t = self.ticket.as_ref();
        match name {
            "ticket.no" => t.map(|t| t.number.to_string()),
            "ticket.subject" => t.map(|t| t.subject.clone()),
            "ticket.status" => t.map(|t| t.status.as_str().to_owned()),
            "ticket.stage" => t.map(|t| t.stage_key().to_owned()),
            "agent.name" => self.agent.clone(),
            "workspace.name" => self.workspace.clone(),
            n => self.customer.as_ref().and_then(|c| customer_var(c, n)),
        }
    }
}

/// A suggested FAQ answer.
#[derive(Debug, Clone, PartialEq)]
pub struct FaqSuggestion {
    pub faq: Faq,
    pub score: f64,
    /// The answer with the customer's values filled in.
    pub answer: Rendered,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TemplateSuggestion {
    pub template: ReplyTemplate,
    pub score: f64,
    pub text: Rendered,
}

/// Suggestions for one conversation.
#[derive(Debug, Clone, PartialEq)]
pub struct Suggestions {
    /// The customer's latest message, which the suggestions answer.
    pub message: Option<String>,
    pub faqs: Vec<FaqSuggestion>,
    pub templates: Vec<TemplateSuggestion>,
    /// Solved tickets like the message, with the reply that solved them (`bot::similar`).
    pub similar_tickets: Vec<SimilarTicket>,
    /// Time spent computing, in microseconds.
    pub took_us: u64,
}

/// How many suggestions of each kind.
pub const SUGGESTIONS: usize = 3;

fn template_snapshot(t: &ReplyTemplate) -> Snapshot {
    Snapshot::default().with("name", t.name.as_str()).with("body", t.body.as_str())
}

fn unique(e: Error, name: &str) -> Error {
    match e {
        Error::Internal(e) if db::is_unique_violation(&e) => {
            Error::Conflict(format!("a reply template named {name:?} already exists"))
        }
        e => e,
    }
}

impl App {
    pub async fn list_templates(&self, s: &Staff) -> Result<Vec<ReplyTemplate>> {
        let mut c = self.db.read().await?;
        Ok(db::knowledge::template_list(&mut c, s.workspace).await?)
    }

    pub async fn get_template(&self, s: &Staff, id: ReplyTemplateId) -> Result<ReplyTemplate> {
        let mut c = self.db.read().await?;
        db::knowledge::template_get(&mut c, s.workspace, id).await?.or_not_found("reply template")
    }

    pub async fn create_template(&self, b: &BotEditor, n: NewTemplate) -> Result<ReplyTemplate> {
        let (name, body, category, tags) = parse_template(&n.name, &n.body, &n.category, &n.tags)?;
        if name.is_empty() {
            return Err(ParseError::new("name", "must not be empty").into());
        }
        let now = self.now();
        let mut tx = self.db.write(b.workspace).await?;
        let t = ReplyTemplate {
            id: self.ids.next(now, ReplyTemplateId::new),
            workspace: b.workspace,
            name,
            body,
            category,
            tags,
            lang: n.lang,
            created_at: now,
            created_by: b.actor,
            updated_at: now,
        };
        db::knowledge::template_insert(&mut tx, &t).await.map_err(|e| unique(e.into(), &t.name))?;
        tx.audit(
            now,
            b.actor,
            "reply_template.create",
            "reply_template",
            &t.id.to_string(),
            None,
            Some(&template_snapshot(&t)),
        )
        .await?;
        tx.emit(
            now,
            b.actor,
            Event::ReplyTemplateChanged { template: t.id },
            Audience::staff_only(),
        )
        .await?;
        self.commit(tx).await?;
        Ok(t)
    }

    pub async fn update_template(
        &self,
        b: &BotEditor,
        id: ReplyTemplateId,
        p: TemplatePatch,
    ) -> Result<ReplyTemplate> {
        let now = self.now();
        let mut tx = self.db.write(b.workspace).await?;
        let before = db::knowledge::template_get(&mut tx, b.workspace, id)
            .await?
            .or_not_found("reply template")?;
        let (name, body, category, tags) = parse_template(
            p.name.as_deref().unwrap_or(&before.name),
            p.body.as_deref().unwrap_or(&before.body),
            p.category.as_deref().unwrap_or(&before.category),
            p.tags.as_deref().unwrap_or(&before.tags),
        )?;
        if name.is_empty() {
            return Err(ParseError::new("name", "must not be empty").into());
        }
        let t = ReplyTemplate {
            name,
            body,
            category,
            tags,
            lang: p.lang.unwrap_or(before.lang),
            updated_at: now,
            ..before.clone()
        };
        if (ReplyTemplate { updated_at: before.updated_at, ..t.clone() }) == before {
            return Ok(before);
        }
        db::knowledge::template_update(&mut tx, &t).await.map_err(|e| unique(e.into(), &t.name))?;
        tx.audit(
            now,
            b.actor,
            "reply_template.update",
            "reply_template",
            &id.to_string(),
            Some(&template_snapshot(&before)),
            Some(&template_snapshot(&t)),
        )
        .await?;
        tx.emit(now, b.actor, Event::ReplyTemplateChanged { template: id }, Audience::staff_only())
            .await?;
        self.commit(tx).await?;
        Ok(t)
    }

    pub async fn delete_template(&self, b: &BotEditor, id: ReplyTemplateId) -> Result<()> {
        let now = self.now();
        let mut tx = self.db.write(b.workspace).await?;
        let before = db::knowledge::template_get(&mut tx, b.workspace, id)
            .await?
            .or_not_found("reply template")?;
        db::knowledge::template_delete(&mut tx, b.workspace, id).await?;
        tx.audit(
            now,
            b.actor,
            "reply_template.delete",
            "reply_template",
            &id.to_string(),
            Some(&template_snapshot(&before)),
            None,
        )
        .await?;
        tx.emit(now, b.actor, Event::ReplyTemplateChanged { template: id }, Audience::staff_only())
            .await?;
        self.commit(tx).await
    }

    /// The values for a conversation (its customer and newest ticket) or a ticket, as the
    /// calling staff member may see them.
    async fn assist_context(
        &self,
        s: &Staff,
        conversation: Option<ConversationId>,
        ticket: Option<TicketId>,
    ) -> Result<Context> {
        let mut cx = Context::default();
        let ticket = match ticket {
            Some(id) => Some(self.get_ticket(s, id).await?),
            None => None,
        };
        let conv = match (conversation, &ticket) {
            (Some(id), _) => Some(self.readable_conversation(s, id).await?),
            (None, Some(t)) => Some(self.readable_conversation(s, t.conversation).await?),
            (None, None) => None,
        };
        let mut c = self.db.read().await?;
        if let Some(conv) = &conv {
            cx.customer = db::customers::get(&mut c, s.workspace, conv.customer).await?;
            cx.ticket = match ticket {
                Some(t) => Some(t),
                None => db::tickets::of_conversation(&mut c, s.workspace, conv.id)
                    .await?
                    .into_iter()
                    .max_by_key(|t| t.created_at),
            };
        }
        if let Some(u) = s.user {
            cx.agent = db::users::get_user(&mut c, s.workspace, u).await?.map(|u| u.name);
        }
        cx.workspace = db::workspaces::by_id(&mut c, s.workspace).await?.map(|w| w.name);
        Ok(cx)
    }

    /// A template with its variables filled from a conversation or ticket; variables without
    /// a value stay as `{{name}}` for the agent to fill.
    pub async fn render_template(
        &self,
        s: &Staff,
        id: ReplyTemplateId,
        conversation: Option<ConversationId>,
        ticket: Option<TicketId>,
    ) -> Result<Rendered> {
        let t = self.get_template(s, id).await?;
        let cx = self.assist_context(s, conversation, ticket).await?;
        Ok(render(&t.body, true, |n| cx.value(n)))
    }

    /// The best FAQ answers, reply templates and similar solved tickets (not this
    /// conversation's own) for the customer's latest message in a conversation the caller
    /// can read.
    pub async fn suggestions(&self, s: &Staff, id: ConversationId) -> Result<Suggestions> {
        let started = Instant::now();
        let cx = self.assist_context(s, Some(id), None).await?;
        let mut c = self.db.read().await?;
        let message = db::knowledge::latest_customer_message(&mut c, s.workspace, id).await?;
        let templates = db::knowledge::template_list(&mut c, s.workspace).await?;
        let own: Vec<TicketId> = db::tickets::of_conversation(&mut c, s.workspace, id)
            .await?
            .iter()
            .map(|t| t.id)
            .collect();
        drop(c);
        let Some(text) = message.clone().filter(|m| !m.trim().is_empty()) else {
            return Ok(Suggestions {
                message,
                faqs: Vec::new(),
                templates: Vec::new(),
                similar_tickets: Vec::new(),
                took_us: started.elapsed().as_micros() as u64,
            });
        };
        let data = self.match_data(s.workspace).await?;
        let kb = self.kb(s.workspace).await?;
        let bm25 = kb.index.question_scores(&text, true, 30)?;
        let now = self.now();
        let faqs: Vec<FaqSuggestion> = data
            .matcher
            .score(&text, &bm25, None, &MatchConfig::default())
            .into_iter()
            .filter(|sc| sc.score > 0.0)
            .filter_map(|sc| data.faqs.get(&sc.id).map(|f| (f, sc.score)))
            .filter(|(f, _)| f.content.applies(now, None))
            .take(SUGGESTIONS)
            .map(|(f, score)| FaqSuggestion {
                faq: f.clone(),
                score: f64::from(score),
                answer: render(&f.content.answer, true, |n| cx.value(n)),
            })
            .collect();
        let m = Matcher::new(
            templates
                .iter()
                .map(|t| Entry {
                    id: t.id.to_string(),
                    questions: vec![format!("{} {}", t.name, t.tags.join(" ")), t.body.clone()],
                    lang: t.lang.as_str().to_owned(),
                    intent: None,
                })
                .collect(),
        );
        let cos = m.cosines(&text);
        let mut ranked: Vec<(usize, f32)> =
            cos.iter().copied().enumerate().filter(|(_, c)| *c > 0.0).collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
        let templates = ranked
            .into_iter()
            .take(SUGGESTIONS)
            .map(|(i, score)| TemplateSuggestion {
                template: templates[i].clone(),
                score: f64::from(score),
                text: render(&templates[i].body, true, |n| cx.value(n)),
            })
            .collect();
        let similar_tickets = self.similar_tickets(s.workspace, &text, &own, &cx).await?;
        Ok(Suggestions {
            message,
            faqs,
            templates,
            similar_tickets,
            took_us: started.elapsed().as_micros() as u64,
        })
    }
}
