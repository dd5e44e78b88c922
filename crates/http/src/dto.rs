//! Wire types: what the API sends and accepts, with their OpenAPI schemas. Converted by hand
//! from and to domain values; domain types never derive `Serialize`.

use std::collections::BTreeMap;

use domain::{
    Conversation, Customer, Message, ProblemCodeEntry, Stage, Team, Ticket, Timestamp, User,
};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

/// RFC 3339 in UTC with milliseconds, e.g. `2026-11-23T08:15:30.120Z`.
pub fn rfc3339(t: Timestamp) -> String {
    let nanos = i128::from(t.millis()) * 1_000_000;
    match time::OffsetDateTime::from_unix_timestamp_nanos(nanos) {
        Ok(dt) => dt.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
        Err(_) => String::new(),
    }
}

pub fn opt_rfc3339(t: Option<Timestamp>) -> Option<String> {
    t.map(rfc3339)
}

/// Distinguishes an absent field (`None`) from an explicit `null` (`Some(None)`).
pub fn double_option<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Ok(Some(Option::deserialize(d)?))
}

/// A page of results; pass `next_cursor` as `cursor` to get the next page.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T: ToSchema> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserDto {
    pub id: String,
    pub email: String,
    pub name: String,
    /// admin, cs_head, supervisor, agent, dept_member, auditor
    pub role: String,
    pub role_label_zh: String,
    /// tech, finance, logistics, legal, quality (dept_member only)
    pub department: Option<String>,
    pub active: bool,
    pub created_at: String,
}

impl From<&User> for UserDto {
    fn from(u: &User) -> UserDto {
        UserDto {
            id: u.id.to_string(),
            email: u.email.to_string(),
            name: u.name.clone(),
            role: u.role.to_string(),
            role_label_zh: u.role.label_zh().to_string(),
            department: u.department.map(|d| d.to_string()),
            active: u.active,
            created_at: rfc3339(u.created_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TeamDto {
    pub id: String,
    pub name: String,
    /// frontline or department
    pub kind: String,
    pub department: Option<String>,
    pub skills: Vec<String>,
    pub members: Vec<String>,
    pub created_at: String,
}

impl From<&Team> for TeamDto {
    fn from(t: &Team) -> TeamDto {
        TeamDto {
            id: t.id.to_string(),
            name: t.name.clone(),
            kind: t.kind.to_string(),
            department: t.department.map(|d| d.to_string()),
            skills: t.skills.clone(),
            members: t.members.iter().map(ToString::to_string).collect(),
            created_at: rfc3339(t.created_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProblemCodeDto {
    /// e.g. `PQ-03`, or a category such as `PQ`
    pub code: String,
    pub category: String,
    pub category_label_zh: String,
    pub name_zh: String,
    pub name_en: String,
    pub review_department: Option<String>,
    pub active: bool,
}

impl From<&ProblemCodeEntry> for ProblemCodeDto {
    fn from(e: &ProblemCodeEntry) -> ProblemCodeDto {
        ProblemCodeDto {
            code: e.code.to_string(),
            category: e.code.category().to_string(),
            category_label_zh: e.code.category().label_zh().to_string(),
            name_zh: e.name_zh.clone(),
            name_en: e.name_en.clone(),
            review_department: e.review_department.map(|d| d.to_string()),
            active: e.active,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StageDto {
    pub key: String,
    pub label_zh: String,
    pub label_en: String,
    pub position: i64,
}

impl From<&Stage> for StageDto {
    fn from(s: &Stage) -> StageDto {
        StageDto {
            key: s.key.clone(),
            label_zh: s.label_zh.clone(),
            label_en: s.label_en.clone(),
            position: s.position,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenDto {
    pub id: String,
    pub name: String,
    pub role: String,
    pub created_by: String,
    pub created_at: String,
    pub revoked_at: Option<String>,
}

impl From<&app::db::users::ApiToken> for TokenDto {
    fn from(t: &app::db::users::ApiToken) -> TokenDto {
        TokenDto {
            id: t.id.to_string(),
            name: t.name.clone(),
            role: t.role.to_string(),
            created_by: t.created_by.to_string(),
            created_at: rfc3339(t.created_at),
            revoked_at: opt_rfc3339(t.revoked_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NewTokenResponse {
    pub token: TokenDto,
    /// The secret, shown only now: send it as `Authorization: Bearer <secret>`.
    pub secret: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct IdentityDto {
    /// phone, email or external
    pub kind: String,
    pub value: String,
    #[serde(default)]
    pub verified: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerDto {
    pub id: String,
    pub name: String,
    /// ordinary or vip
    pub tier: String,
    pub identities: Vec<IdentityDto>,
    pub attributes: BTreeMap<String, String>,
    pub merged_into: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<&Customer> for CustomerDto {
    fn from(c: &Customer) -> CustomerDto {
        CustomerDto {
            id: c.id.to_string(),
            name: c.name.clone(),
            tier: c.tier.to_string(),
            identities: c
                .identities
                .iter()
                .map(|i| IdentityDto {
                    kind: i.kind.to_string(),
                    value: i.value.clone(),
                    verified: i.verified,
                })
                .collect(),
            attributes: c.attributes.iter().cloned().collect(),
            merged_into: c.merged_into.map(|m| m.to_string()),
            created_at: rfc3339(c.created_at),
            updated_at: rfc3339(c.updated_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConversationDto {
    pub id: String,
    pub customer_id: String,
    /// web_chat, app, email, phone, social, sms, web_form, api
    pub channel: String,
    pub subject: Option<String>,
    /// open, pending, resolved
    pub status: String,
    /// bot or human
    pub handler: String,
    pub assignee_id: Option<String>,
    pub team_id: Option<String>,
    pub last_message_at: String,
    pub created_at: String,
    pub updated_at: String,
}

impl From<&Conversation> for ConversationDto {
    fn from(c: &Conversation) -> ConversationDto {
        ConversationDto {
            id: c.id.to_string(),
            customer_id: c.customer.to_string(),
            channel: c.channel.to_string(),
            subject: c.subject.clone(),
            status: c.status.to_string(),
            handler: c.handler.to_string(),
            assignee_id: c.assignee.map(|a| a.to_string()),
            team_id: c.team.map(|a| a.to_string()),
            last_message_at: rfc3339(c.last_message_at),
            created_at: rfc3339(c.created_at),
            updated_at: rfc3339(c.updated_at),
        }
    }
}

/// The conversation as its customer sees it: no staff ids.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicConversationDto {
    pub id: String,
    pub channel: String,
    pub status: String,
    pub handler: String,
    pub last_message_at: String,
    pub created_at: String,
}

impl From<&Conversation> for PublicConversationDto {
    fn from(c: &Conversation) -> PublicConversationDto {
        PublicConversationDto {
            id: c.id.to_string(),
            channel: c.channel.to_string(),
            status: c.status.to_string(),
            handler: c.handler.to_string(),
            last_message_at: rfc3339(c.last_message_at),
            created_at: rfc3339(c.created_at),
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AttachmentDto {
    pub name: String,
    pub content_type: String,
    pub size: i64,
    /// An http(s) URL or a `/files/…` path.
    pub url: String,
}

impl From<&domain::Attachment> for AttachmentDto {
    fn from(a: &domain::Attachment) -> AttachmentDto {
        AttachmentDto {
            name: a.name.clone(),
            content_type: a.content_type.clone(),
            size: a.size,
            url: a.url.clone(),
        }
    }
}

/// Parses the attachments of a request, naming the first bad one.
pub fn parse_attachments(
    a: &[AttachmentDto],
) -> Result<Vec<domain::Attachment>, domain::ParseError> {
    a.iter().map(|a| domain::Attachment::parse(&a.name, &a.content_type, a.size, &a.url)).collect()
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MessageDto {
    pub id: String,
    pub conversation_id: String,
    /// customer, bot, agent, system
    pub sender: String,
    pub author_id: Option<String>,
    /// public or internal (internal notes are never sent to customers)
    pub visibility: String,
    pub body: String,
    pub attachments: Vec<AttachmentDto>,
    pub created_at: String,
}

impl MessageDto {
    /// For customers: the author's staff id is not theirs to see.
    pub fn public(m: &Message) -> MessageDto {
        MessageDto { author_id: None, ..MessageDto::from(m) }
    }
}

impl From<&Message> for MessageDto {
    fn from(m: &Message) -> MessageDto {
        MessageDto {
            id: m.id.to_string(),
            conversation_id: m.conversation.to_string(),
            sender: m.sender.to_string(),
            author_id: m.author.map(|a| a.to_string()),
            visibility: m.visibility.to_string(),
            body: m.body.clone(),
            attachments: m.attachments.iter().map(AttachmentDto::from).collect(),
            created_at: rfc3339(m.created_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TicketDto {
    pub id: String,
    /// Human-readable number, e.g. `HT-1024`.
    pub number: String,
    pub subject: String,
    pub customer_id: String,
    pub conversation_id: String,
    pub channel: String,
    pub problem_code: Option<String>,
    /// L1 (emergency) … L4 (suggestion)
    pub severity: String,
    /// normal, urgent, critical
    pub urgency: String,
    /// new, open, pending, on_hold, solved, closed, reopen
    pub status: String,
    /// The customer-visible stage key (explicit, or the default for the status).
    pub stage: String,
    pub assignee_id: Option<String>,
    pub team_id: Option<String>,
    pub tags: Vec<String>,
    pub custom_fields: BTreeMap<String, String>,
    /// Path of the customer's tracking page.
    pub tracking_path: String,
    pub created_at: String,
    pub updated_at: String,
    pub solved_at: Option<String>,
    pub closed_at: Option<String>,
}

impl From<&Ticket> for TicketDto {
    fn from(t: &Ticket) -> TicketDto {
        TicketDto {
            id: t.id.to_string(),
            number: t.number.to_string(),
            subject: t.subject.clone(),
            customer_id: t.customer.to_string(),
            conversation_id: t.conversation.to_string(),
            channel: t.channel.to_string(),
            problem_code: t.problem_code.map(|p| p.to_string()),
            severity: t.severity.to_string(),
            urgency: t.urgency.to_string(),
            status: t.status.to_string(),
            stage: t.stage_key().to_string(),
            assignee_id: t.assignee.map(|a| a.to_string()),
            team_id: t.team.map(|a| a.to_string()),
            tags: t.tags.clone(),
            custom_fields: t.custom_fields.iter().cloned().collect(),
            tracking_path: format!("/api/v1/public/track/{}", t.tracking_token),
            created_at: rfc3339(t.created_at),
            updated_at: rfc3339(t.updated_at),
            solved_at: opt_rfc3339(t.solved_at),
            closed_at: opt_rfc3339(t.closed_at),
        }
    }
}

/// A ticket as its customer sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicTicketDto {
    pub number: String,
    pub subject: String,
    pub status: String,
    pub stage: String,
    pub stage_label_zh: String,
    pub stage_label_en: String,
    pub tracking_path: String,
    pub created_at: String,
    pub updated_at: String,
}

impl PublicTicketDto {
    pub fn new(t: &Ticket, stages: &[Stage]) -> PublicTicketDto {
        let key = t.stage_key();
        let st = stages.iter().find(|s| s.key == key);
        PublicTicketDto {
            number: t.number.to_string(),
            subject: t.subject.clone(),
            status: t.status.to_string(),
            stage: key.to_string(),
            stage_label_zh: st.map_or_else(|| key.to_string(), |s| s.label_zh.clone()),
            stage_label_en: st.map_or_else(|| key.to_string(), |s| s.label_en.clone()),
            tracking_path: format!("/api/v1/public/track/{}", t.tracking_token),
            created_at: rfc3339(t.created_at),
            updated_at: rfc3339(t.updated_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TrackingDto {
    pub company: String,
    pub ticket: PublicTicketDto,
    /// The workspace's stages in order, for drawing the progress line.
    pub stages: Vec<StageDto>,
    /// The stages this ticket entered, oldest first (TK-8).
    pub timeline: Vec<TimelineEntryDto>,
}

/// One stage the ticket entered, and when.
#[derive(Debug, Serialize, ToSchema)]
pub struct TimelineEntryDto {
    pub stage: String,
    pub label_zh: String,
    pub label_en: String,
    pub at: String,
}

impl TimelineEntryDto {
    pub fn new(key: &str, at: Timestamp, stages: &[Stage]) -> TimelineEntryDto {
        let st = stages.iter().find(|s| s.key == key);
        TimelineEntryDto {
            stage: key.to_string(),
            label_zh: st.map_or_else(|| key.to_string(), |s| s.label_zh.clone()),
            label_en: st.map_or_else(|| key.to_string(), |s| s.label_en.clone()),
            at: rfc3339(at),
        }
    }
}

/// One event of the realtime stream.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventDto {
    /// Gapless per workspace; resume with `since=<seq>`.
    pub seq: i64,
    /// e.g. `message.created`, `ticket.status_changed`
    #[serde(rename = "type")]
    pub kind: String,
    pub at: String,
    /// `user:<id>`, `customer:<id>`, `token:<id>` or `system` (omitted for customers).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    #[schema(value_type = Object)]
    pub data: Value,
    /// The message, for `message.created`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<MessageDto>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntryDto {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub object_type: String,
    pub object_id: String,
    #[schema(value_type = Object)]
    pub before: Value,
    #[schema(value_type = Object)]
    pub after: Value,
    pub hash: String,
}

impl From<&app::db::audit::Entry> for AuditEntryDto {
    fn from(e: &app::db::audit::Entry) -> AuditEntryDto {
        let parse = |s: &Option<String>| {
            s.as_deref().and_then(|s| serde_json::from_str(s).ok()).unwrap_or(Value::Null)
        };
        AuditEntryDto {
            seq: e.seq,
            at: rfc3339(e.at),
            actor: e.actor.to_string(),
            action: e.action.clone(),
            object_type: e.object_type.clone(),
            object_id: e.object_id.clone(),
            before: parse(&e.before),
            after: parse(&e.after),
            hash: e.hash.clone(),
        }
    }
}

/// One intent with its calibrated confidence (0 to 1).
#[derive(Debug, Serialize, ToSchema)]
pub struct ScoredIntentDto {
    pub intent: String,
    pub confidence: f32,
}

/// The workspace's intent model's verdict: the best intents, best first.
#[derive(Debug, Serialize, ToSchema)]
pub struct IntentPredictionDto {
    /// The best intent if it is confident enough, else null (out of scope).
    pub intent: Option<String>,
    pub in_scope: bool,
    pub top: Vec<ScoredIntentDto>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SentimentDto {
    /// negative, neutral or positive
    pub polarity: String,
    /// From -1 (certainly negative) to 1 (certainly positive).
    pub score: f32,
    /// Anger, insults or a threat to escalate outside the company.
    pub strong_negative: bool,
    /// The lexicon entries behind `strong_negative`.
    pub cues: Vec<String>,
}

/// An entity found in the text. `value` depends on `kind`: a string for order_no, phone and
/// email; `{minor_units, currency}` for money; `{from, to}` (inclusive days) for date;
/// `{sku}` for product.
#[derive(Debug, Serialize, ToSchema)]
pub struct EntityDto {
    /// order_no, phone, email, money, date or product
    pub kind: String,
    /// Byte offsets into the text (end exclusive).
    pub start: usize,
    pub end: usize,
    pub text: String,
    pub value: Value,
}

/// What the language engine says about one message.
#[derive(Debug, Serialize, ToSchema)]
pub struct AnalysisDto {
    /// ISO 639-1 code, or `und`.
    pub lang: String,
    /// Null when the workspace has no active intent model.
    pub intent: Option<IntentPredictionDto>,
    pub sentiment: SentimentDto,
    pub entities: Vec<EntityDto>,
}

impl From<&nlu::Analysis> for AnalysisDto {
    fn from(a: &nlu::Analysis) -> AnalysisDto {
        use nlu::entities::{EntityKind, EntityValue};
        let intent = a.intent.as_ref().map(|p| IntentPredictionDto {
            intent: p.label().map(str::to_owned),
            in_scope: p.in_scope,
            top: p
                .top
                .iter()
                .map(|s| ScoredIntentDto { intent: s.label.clone(), confidence: s.confidence })
                .collect(),
        });
        let entities = a
            .entities
            .iter()
            .map(|e| EntityDto {
                kind: match e.kind {
                    EntityKind::OrderNo => "order_no",
                    EntityKind::Phone => "phone",
                    EntityKind::Email => "email",
                    EntityKind::Money => "money",
                    EntityKind::Date => "date",
                    EntityKind::Product => "product",
                }
                .to_owned(),
                start: e.start,
                end: e.end,
                text: e.text.clone(),
                value: match &e.value {
                    EntityValue::Text(t) => Value::String(t.clone()),
                    EntityValue::Money { minor_units, currency } => {
                        serde_json::json!({"minor_units": minor_units, "currency": currency.code()})
                    }
                    EntityValue::Date { from, to } => {
                        serde_json::json!({"from": from.to_string(), "to": to.to_string()})
                    }
                    EntityValue::Product { sku } => serde_json::json!({ "sku": sku }),
                },
            })
            .collect();
        AnalysisDto {
            lang: a.lang.code().to_owned(),
            intent,
            sentiment: SentimentDto {
                polarity: a.sentiment.polarity.as_str().to_owned(),
                score: a.sentiment.score,
                strong_negative: a.sentiment.strong_negative,
                cues: a.sentiment.cues.clone(),
            },
            entities,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IntentDto {
    pub id: String,
    pub name: String,
    pub description: String,
    /// How many example messages it has.
    pub examples: i64,
    pub created_at: String,
    pub updated_at: String,
}

impl IntentDto {
    pub fn new(i: &domain::Intent, examples: i64) -> IntentDto {
        IntentDto {
            id: i.id.to_string(),
            name: i.name.clone(),
            description: i.description.clone(),
            examples,
            created_at: rfc3339(i.created_at),
            updated_at: rfc3339(i.updated_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IntentExampleDto {
    pub id: String,
    pub text: String,
    /// manual, faq or correction
    pub source: String,
    /// `user:<id>`, `token:<id>` or `system`
    pub created_by: String,
    pub created_at: String,
}

impl From<&domain::IntentExample> for IntentExampleDto {
    fn from(e: &domain::IntentExample) -> IntentExampleDto {
        IntentExampleDto {
            id: e.id.to_string(),
            text: e.text.clone(),
            source: e.source.to_string(),
            created_by: e.created_by.to_string(),
            created_at: rfc3339(e.created_at),
        }
    }
}

/// An intent with all its examples.
#[derive(Debug, Serialize, ToSchema)]
pub struct IntentDetailDto {
    #[serde(flatten)]
    pub intent: IntentDto,
    pub example_list: Vec<IntentExampleDto>,
}

impl IntentDetailDto {
    pub fn new(i: &domain::Intent, examples: &[domain::IntentExample]) -> IntentDetailDto {
        IntentDetailDto {
            intent: IntentDto::new(i, examples.len() as i64),
            example_list: examples.iter().map(IntentExampleDto::from).collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ModelMetricsDto {
    pub examples: i64,
    pub labels: Vec<String>,
    /// Cross-validated accuracy estimated during training (0 to 1).
    pub cv_accuracy: f64,
    /// Confidence below which a message is out of scope.
    pub threshold: f64,
    pub train_ms: i64,
}

/// One version of a language model.
#[derive(Debug, Serialize, ToSchema)]
pub struct NluModelDto {
    pub id: String,
    /// intent or sentiment
    pub kind: String,
    pub version: i64,
    /// training, ready or failed
    pub status: String,
    /// The one version of its kind used by analysis.
    pub active: bool,
    pub metrics: Option<ModelMetricsDto>,
    /// Why training failed.
    pub error: Option<String>,
    pub created_at: String,
    pub created_by: String,
}

impl From<&domain::NluModel> for NluModelDto {
    fn from(m: &domain::NluModel) -> NluModelDto {
        NluModelDto {
            id: m.id.to_string(),
            kind: m.kind.to_string(),
            version: m.version,
            status: m.status.to_string(),
            active: m.active,
            metrics: m.metrics.as_ref().map(|x| ModelMetricsDto {
                examples: x.examples,
                labels: x.labels.clone(),
                cv_accuracy: x.cv_accuracy,
                threshold: x.threshold,
                train_ms: x.train_ms,
            }),
            error: m.error.clone(),
            created_at: rfc3339(m.created_at),
            created_by: m.created_by.to_string(),
        }
    }
}
