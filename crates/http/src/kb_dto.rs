//! Wire types of the knowledge base, FAQ matching and agent assist, converted by hand.

use domain::{Article, Faq, KbContent, KbVersion, ReplyTemplate, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::{
    dto::{opt_rfc3339, rfc3339},
    error::ApiError,
};

/// Parses an RFC 3339 instant, e.g. `2026-12-01T00:00:00+08:00`.
pub fn parse_instant(field: &'static str, s: &str) -> Result<Timestamp, ApiError> {
    let t = time::OffsetDateTime::parse(s.trim(), &time::format_description::well_known::Rfc3339)
        .map_err(|_| {
        ApiError::invalid(
            field,
            format!("{field}: {s:?} is not an RFC 3339 time like 2026-12-01T00:00:00+08:00"),
        )
    })?;
    Ok(Timestamp::from_millis((t.unix_timestamp_nanos() / 1_000_000) as i64))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FaqDto {
    pub id: String,
    pub question: String,
    pub variants: Vec<String>,
    /// Markdown with `{{customer.name}}`-style variables.
    pub answer: String,
    pub category: String,
    /// Empty: every channel.
    pub channels: Vec<String>,
    pub valid_from: Option<String>,
    pub valid_to: Option<String>,
    pub tags: Vec<String>,
    /// zh or en
    pub lang: String,
    pub intent: Option<String>,
    /// draft or published
    pub status: String,
    pub version: i64,
    pub created_at: String,
    pub created_by: String,
    pub updated_at: String,
    pub updated_by: String,
}

impl From<&Faq> for FaqDto {
    fn from(f: &Faq) -> FaqDto {
        let c = &f.content;
        FaqDto {
            id: f.id.to_string(),
            question: c.question.clone(),
            variants: c.variants.clone(),
            answer: c.answer.clone(),
            category: c.category.clone(),
            channels: c.channels.iter().map(|c| c.as_str().to_owned()).collect(),
            valid_from: opt_rfc3339(c.valid_from),
            valid_to: opt_rfc3339(c.valid_to),
            tags: c.tags.clone(),
            lang: c.lang.as_str().to_owned(),
            intent: c.intent.clone(),
            status: f.status.as_str().to_owned(),
            version: f.version,
            created_at: rfc3339(f.created_at),
            created_by: f.created_by.to_string(),
            updated_at: rfc3339(f.updated_at),
            updated_by: f.updated_by.to_string(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ArticleDto {
    pub id: String,
    pub title: String,
    pub body: String,
    pub category: String,
    pub tags: Vec<String>,
    pub lang: String,
    pub status: String,
    pub version: i64,
    pub created_at: String,
    pub created_by: String,
    pub updated_at: String,
    pub updated_by: String,
}

impl From<&Article> for ArticleDto {
    fn from(a: &Article) -> ArticleDto {
        let c = &a.content;
        ArticleDto {
            id: a.id.to_string(),
            title: c.title.clone(),
            body: c.body.clone(),
            category: c.category.clone(),
            tags: c.tags.clone(),
            lang: c.lang.as_str().to_owned(),
            status: a.status.as_str().to_owned(),
            version: a.version,
            created_at: rfc3339(a.created_at),
            created_by: a.created_by.to_string(),
            updated_at: rfc3339(a.updated_at),
            updated_by: a.updated_by.to_string(),
        }
    }
}

/// One version of an FAQ entry or article.
#[derive(Debug, Serialize, ToSchema)]
pub struct KbVersionDto {
    pub version: i64,
    /// create, edit, publish, unpublish, import or delete
    pub action: String,
    pub status: String,
    pub actor: String,
    pub at: String,
    /// The item's fields in this version.
    #[schema(value_type = Object)]
    pub content: Value,
}

impl From<&KbVersion> for KbVersionDto {
    fn from(v: &KbVersion) -> KbVersionDto {
        let content = match &v.content {
            KbContent::Faq(f) => json!({
                "question": f.question, "variants": f.variants, "answer": f.answer,
                "category": f.category,
                "channels": f.channels.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
                "valid_from": opt_rfc3339(f.valid_from), "valid_to": opt_rfc3339(f.valid_to),
                "tags": f.tags, "lang": f.lang.as_str(), "intent": f.intent,
            }),
            KbContent::Article(a) => json!({
                "title": a.title, "body": a.body, "category": a.category, "tags": a.tags,
                "lang": a.lang.as_str(),
            }),
        };
        KbVersionDto {
            version: v.version,
            action: v.action.as_str().to_owned(),
            status: v.status.as_str().to_owned(),
            actor: v.actor.to_string(),
            at: rfc3339(v.at),
            content,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SearchHitDto {
    pub id: String,
    /// faq or article
    pub kind: String,
    pub score: f32,
    /// The question or title, HTML-escaped, matched words in `<b>`.
    pub title_html: String,
    /// The best fragment of the answer, body or variants, highlighted the same way.
    pub snippet_html: String,
}

impl From<&search::Hit> for SearchHitDto {
    fn from(h: &search::Hit) -> SearchHitDto {
        SearchHitDto {
            id: h.id.clone(),
            kind: h.kind.as_str().to_owned(),
            score: h.score,
            title_html: h.title_html.clone(),
            snippet_html: h.snippet_html.clone(),
        }
    }
}

/// What is wrong with one cell of an imported row.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportErrorDto {
    /// The row number as the spreadsheet shows it (the header is row 1).
    pub row: usize,
    /// The column's header: 问题, 答案, 相似问法, 分类, 标签, 语言, 状态 or 意图.
    pub column: String,
    pub message: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ImportReportDto {
    pub dry_run: bool,
    pub rows: usize,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// Rows with at least one error (none of them was stored).
    pub rejected: usize,
    pub errors: Vec<ImportErrorDto>,
}

impl From<&app::bot::kb_io::ImportReport> for ImportReportDto {
    fn from(r: &app::bot::kb_io::ImportReport) -> ImportReportDto {
        ImportReportDto {
            dry_run: r.dry_run,
            rows: r.rows,
            created: r.created,
            updated: r.updated,
            unchanged: r.unchanged,
            rejected: r.errors.len(),
            errors: r
                .errors
                .iter()
                .flat_map(|(row, errs)| {
                    errs.iter().map(|e| ImportErrorDto {
                        row: *row,
                        column: e.column.to_owned(),
                        message: e.message.clone(),
                    })
                })
                .collect(),
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MatchSettingsDto {
    /// At or above: answer with the best entry (0 to 1).
    pub answer_threshold: f64,
    /// At or above (and below answer_threshold): ask to confirm among the top choices.
    pub confirm_threshold: f64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MatchCandidateDto {
    pub faq_id: String,
    pub question: String,
    pub lang: String,
    /// The blended confidence, 0 to 1.
    pub score: f64,
    /// The best character n-gram cosine against the question and variants.
    pub cosine: f64,
    /// BM25 over questions and variants, divided by the best BM25 for this message.
    pub bm25: f64,
    /// The answer with the customer's values filled in.
    pub answer: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MatchDto {
    /// answer, confirm or no_match
    pub outcome: String,
    pub detected_lang: String,
    pub reply_lang: String,
    /// What the bot says: the answer, the confirmation question or the no-match reply.
    pub reply: String,
    pub intent: Option<String>,
    pub intent_confidence: Option<f64>,
    /// The answer (one), the choices to confirm (two or three, shown as buttons), or for no
    /// match the best few for inspection.
    pub candidates: Vec<MatchCandidateDto>,
    pub thresholds: MatchSettingsDto,
}

impl From<&app::bot::matching::MatchOutcome> for MatchDto {
    fn from(m: &app::bot::matching::MatchOutcome) -> MatchDto {
        MatchDto {
            outcome: m.kind.as_str().to_owned(),
            detected_lang: m.detected_lang.clone(),
            reply_lang: m.reply_lang.as_str().to_owned(),
            reply: m.reply.clone(),
            intent: m.intent.as_ref().map(|(l, _)| l.clone()),
            intent_confidence: m.intent.as_ref().map(|(_, p)| *p),
            candidates: m
                .candidates
                .iter()
                .map(|c| MatchCandidateDto {
                    faq_id: c.faq.id.to_string(),
                    question: c.faq.content.question.clone(),
                    lang: c.faq.content.lang.as_str().to_owned(),
                    score: c.score,
                    cosine: c.cosine,
                    bm25: c.bm25,
                    answer: c.answer.clone(),
                })
                .collect(),
            thresholds: MatchSettingsDto {
                answer_threshold: m.settings.answer_threshold,
                confirm_threshold: m.settings.confirm_threshold,
            },
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReplyTemplateDto {
    pub id: String,
    pub name: String,
    pub body: String,
    pub category: String,
    pub tags: Vec<String>,
    pub lang: String,
    pub created_at: String,
    pub updated_at: String,
}

impl From<&ReplyTemplate> for ReplyTemplateDto {
    fn from(t: &ReplyTemplate) -> ReplyTemplateDto {
        ReplyTemplateDto {
            id: t.id.to_string(),
            name: t.name.clone(),
            body: t.body.clone(),
            category: t.category.clone(),
            tags: t.tags.clone(),
            lang: t.lang.as_str().to_owned(),
            created_at: rfc3339(t.created_at),
            updated_at: rfc3339(t.updated_at),
        }
    }
}

/// A text with its variables filled.
#[derive(Debug, Serialize, ToSchema)]
pub struct RenderedDto {
    pub text: String,
    /// Variables without a value; they stay as `{{name}}` in `text` for the agent to fill.
    pub missing: Vec<String>,
}

impl From<&domain::knowledge::Rendered> for RenderedDto {
    fn from(r: &domain::knowledge::Rendered) -> RenderedDto {
        RenderedDto { text: r.text.clone(), missing: r.missing.clone() }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FaqSuggestionDto {
    pub faq_id: String,
    pub question: String,
    pub score: f64,
    pub answer: RenderedDto,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TemplateSuggestionDto {
    pub template_id: String,
    pub name: String,
    pub score: f64,
    pub text: RenderedDto,
}

/// A solved ticket like the customer's message, with the reply that solved it.
#[derive(Debug, Serialize, ToSchema)]
pub struct SimilarTicketDto {
    pub ticket_id: String,
    /// The display number, e.g. `HT-1024`.
    pub number: String,
    pub subject: String,
    pub problem_code: Option<String>,
    /// Share of the message's content words the ticket's problem contains, 0–1; tickets under
    /// 0.45 are not shown.
    pub similarity: f64,
    pub solved_at: Option<String>,
    /// The last public agent reply before solving, filled for this customer and ticket.
    pub reply: RenderedDto,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SuggestionsDto {
    /// The customer's latest message; null when the customer has not written yet.
    pub message: Option<String>,
    pub faqs: Vec<FaqSuggestionDto>,
    pub templates: Vec<TemplateSuggestionDto>,
    /// Similar solved tickets (not this conversation's own), most similar first.
    pub similar_tickets: Vec<SimilarTicketDto>,
    /// Server time spent, in milliseconds.
    pub took_ms: f64,
}

impl From<&app::bot::assist::Suggestions> for SuggestionsDto {
    fn from(s: &app::bot::assist::Suggestions) -> SuggestionsDto {
        SuggestionsDto {
            message: s.message.clone(),
            faqs: s
                .faqs
                .iter()
                .map(|f| FaqSuggestionDto {
                    faq_id: f.faq.id.to_string(),
                    question: f.faq.content.question.clone(),
                    score: f.score,
                    answer: RenderedDto::from(&f.answer),
                })
                .collect(),
            templates: s
                .templates
                .iter()
                .map(|t| TemplateSuggestionDto {
                    template_id: t.template.id.to_string(),
                    name: t.template.name.clone(),
                    score: t.score,
                    text: RenderedDto::from(&t.text),
                })
                .collect(),
            similar_tickets: s
                .similar_tickets
                .iter()
                .map(|t| SimilarTicketDto {
                    ticket_id: t.ticket.to_string(),
                    number: t.number.clone(),
                    subject: t.subject.clone(),
                    problem_code: t.problem_code.clone(),
                    similarity: t.similarity,
                    solved_at: opt_rfc3339(t.solved_at),
                    reply: RenderedDto::from(&t.reply),
                })
                .collect(),
            took_ms: s.took_us as f64 / 1000.0,
        }
    }
}
