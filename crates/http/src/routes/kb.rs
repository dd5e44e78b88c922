//! The knowledge base: FAQ entries and articles (CRUD, publish, versions), import and export
//! of FAQ spreadsheets, search, FAQ matching and its thresholds, the reply-template library,
//! and agent-assist suggestions for a conversation. Staff read; admin, cs_head and supervisor
//! write (the `BotEditor` capability).

use app::{
    auth::{BotEditor, Staff},
    bot::{
        assist::{NewTemplate, TemplatePatch},
        kb_io::SheetFormat,
        knowledge::{ArticlePatch, FaqPatch, SearchQuery},
        matching::MatchInput,
    },
};
use axum::{
    Json as J,
    body::Bytes,
    extract::{Path, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use domain::{
    ArticleContent, ArticleId, Channel, ConversationId, CustomerId, FaqContent, FaqId, KbLang,
    KbStatus, ReplyTemplateId, TicketId,
};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::{
    AppState,
    dto::double_option,
    error::{ApiError, ApiResult, Code},
    extract::{Cap, Json, Query},
    kb_dto::{
        ArticleDto, FaqDto, ImportReportDto, KbVersionDto, MatchDto, MatchSettingsDto, RenderedDto,
        ReplyTemplateDto, SearchHitDto, SuggestionsDto, parse_instant,
    },
    routes::{Errors, path_id},
};

fn lang(s: Option<&str>) -> Result<KbLang, ApiError> {
    Ok(s.map(KbLang::parse).transpose()?.unwrap_or(KbLang::Zh))
}

fn channels(v: &[String]) -> Result<Vec<Channel>, ApiError> {
    Ok(v.iter().map(|c| Channel::parse(c)).collect::<Result<_, _>>()?)
}

fn instant(field: &'static str, v: Option<&str>) -> Result<Option<domain::Timestamp>, ApiError> {
    v.map(|s| parse_instant(field, s)).transpose()
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ListParams {
    /// draft or published
    pub status: Option<String>,
}

/// Every FAQ entry of the workspace, oldest first.
#[utoipa::path(get, path = "/api/v1/kb/faqs", tag = "kb", params(ListParams), responses((status = 200, body = [FaqDto]), Errors))]
pub async fn list_faqs(
    State(s): State<AppState>,
    Cap(who): Cap<Staff>,
    Query(p): Query<ListParams>,
) -> ApiResult<J<Vec<FaqDto>>> {
    let status = p.status.as_deref().map(KbStatus::parse).transpose()?;
    Ok(J(s.app.list_faqs(&who, status).await?.iter().map(FaqDto::from).collect()))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewFaqRequest {
    /// Up to 200 characters.
    pub question: String,
    /// Other ways customers ask it (up to 50).
    #[serde(default)]
    pub variants: Vec<String>,
    /// Markdown, up to 5000 characters; variables: {{customer.name}}, {{customer.phone}},
    /// {{customer.email}}, {{customer.tier}}, {{ticket.no}}, {{ticket.subject}},
    /// {{ticket.status}}, {{ticket.stage}}, {{agent.name}}, {{workspace.name}}.
    pub answer: String,
    #[serde(default)]
    pub category: String,
    /// Channels it answers on (web_chat, app, email, …); empty: all.
    #[serde(default)]
    pub channels: Vec<String>,
    /// RFC 3339.
    pub valid_from: Option<String>,
    pub valid_to: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    /// zh (default) or en
    pub lang: Option<String>,
    /// The intent this entry answers.
    pub intent: Option<String>,
    /// Publish right away (default: draft).
    #[serde(default)]
    pub publish: bool,
}

/// Creates an FAQ entry (version 1), as a draft unless `publish`.
#[utoipa::path(post, path = "/api/v1/kb/faqs", tag = "kb", request_body = NewFaqRequest, responses((status = 201, body = FaqDto), Errors))]
pub async fn create_faq(
    State(s): State<AppState>,
    Cap(who): Cap<BotEditor>,
    Json(r): Json<NewFaqRequest>,
) -> ApiResult<(StatusCode, J<FaqDto>)> {
    let content = FaqContent {
        question: r.question,
        variants: r.variants,
        answer: r.answer,
        category: r.category,
        channels: channels(&r.channels)?,
        valid_from: instant("valid_from", r.valid_from.as_deref())?,
        valid_to: instant("valid_to", r.valid_to.as_deref())?,
        tags: r.tags,
        lang: lang(r.lang.as_deref())?,
        intent: r.intent,
    };
    let f = s.app.create_faq(&who, content, r.publish).await?;
    Ok((StatusCode::CREATED, J(FaqDto::from(&f))))
}

#[utoipa::path(get, path = "/api/v1/kb/faqs/{id}", tag = "kb", params(("id" = String, Path)), responses((status = 200, body = FaqDto), Errors))]
pub async fn get_faq(
    State(s): State<AppState>,
    Cap(who): Cap<Staff>,
    Path(id): Path<String>,
) -> ApiResult<J<FaqDto>> {
    let id = path_id(&id, FaqId::parse, "FAQ entry")?;
    Ok(J(FaqDto::from(&s.app.get_faq(&who, id).await?)))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct FaqPatchRequest {
    pub question: Option<String>,
    pub variants: Option<Vec<String>>,
    pub answer: Option<String>,
    pub category: Option<String>,
    pub channels: Option<Vec<String>>,
    /// RFC 3339, or null to clear.
    #[serde(default, deserialize_with = "double_option")]
    pub valid_from: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    pub valid_to: Option<Option<String>>,
    pub tags: Option<Vec<String>>,
    pub lang: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    pub intent: Option<Option<String>>,
}

/// Edits an entry: a new version, the status unchanged (a published entry stays published
/// and is searchable in its new form at once).
#[utoipa::path(patch, path = "/api/v1/kb/faqs/{id}", tag = "kb", params(("id" = String, Path)), request_body = FaqPatchRequest, responses((status = 200, body = FaqDto), Errors))]
pub async fn update_faq(
    State(s): State<AppState>,
    Cap(who): Cap<BotEditor>,
    Path(id): Path<String>,
    Json(r): Json<FaqPatchRequest>,
) -> ApiResult<J<FaqDto>> {
    let id = path_id(&id, FaqId::parse, "FAQ entry")?;
    let p = FaqPatch {
        question: r.question,
        variants: r.variants,
        answer: r.answer,
        category: r.category,
        channels: r.channels.as_deref().map(channels).transpose()?,
        valid_from: r.valid_from.map(|v| instant("valid_from", v.as_deref())).transpose()?,
        valid_to: r.valid_to.map(|v| instant("valid_to", v.as_deref())).transpose()?,
        tags: r.tags,
        lang: r.lang.as_deref().map(KbLang::parse).transpose()?,
        intent: r.intent,
    };
    Ok(J(FaqDto::from(&s.app.update_faq(&who, id, p).await?)))
}

#[utoipa::path(delete, path = "/api/v1/kb/faqs/{id}", tag = "kb", params(("id" = String, Path)), responses((status = 204), Errors))]
pub async fn delete_faq(
    State(s): State<AppState>,
    Cap(who): Cap<BotEditor>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = path_id(&id, FaqId::parse, "FAQ entry")?;
    s.app.delete_faq(&who, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Publishes an entry: the bot answers from it and it is searchable when this returns.
#[utoipa::path(post, path = "/api/v1/kb/faqs/{id}/publish", tag = "kb", params(("id" = String, Path)), responses((status = 200, body = FaqDto), Errors))]
pub async fn publish_faq(
    State(s): State<AppState>,
    Cap(who): Cap<BotEditor>,
    Path(id): Path<String>,
) -> ApiResult<J<FaqDto>> {
    let id = path_id(&id, FaqId::parse, "FAQ entry")?;
    Ok(J(FaqDto::from(&s.app.publish_faq(&who, id, true).await?)))
}

/// Takes an entry back to draft.
#[utoipa::path(post, path = "/api/v1/kb/faqs/{id}/unpublish", tag = "kb", params(("id" = String, Path)), responses((status = 200, body = FaqDto), Errors))]
pub async fn unpublish_faq(
    State(s): State<AppState>,
    Cap(who): Cap<BotEditor>,
    Path(id): Path<String>,
) -> ApiResult<J<FaqDto>> {
    let id = path_id(&id, FaqId::parse, "FAQ entry")?;
    Ok(J(FaqDto::from(&s.app.publish_faq(&who, id, false).await?)))
}

/// Every version of an entry, newest first; kept after deletion.
#[utoipa::path(get, path = "/api/v1/kb/faqs/{id}/versions", tag = "kb", params(("id" = String, Path)), responses((status = 200, body = [KbVersionDto]), Errors))]
pub async fn faq_versions(
    State(s): State<AppState>,
    Cap(who): Cap<Staff>,
    Path(id): Path<String>,
) -> ApiResult<J<Vec<KbVersionDto>>> {
    let id = path_id(&id, FaqId::parse, "FAQ entry")?;
    Ok(J(s.app.faq_versions(&who, id).await?.iter().map(KbVersionDto::from).collect()))
}

// ---- Articles -----------------------------------------------------------------------------

#[utoipa::path(get, path = "/api/v1/kb/articles", tag = "kb", params(ListParams), responses((status = 200, body = [ArticleDto]), Errors))]
pub async fn list_articles(
    State(s): State<AppState>,
    Cap(who): Cap<Staff>,
    Query(p): Query<ListParams>,
) -> ApiResult<J<Vec<ArticleDto>>> {
    let status = p.status.as_deref().map(KbStatus::parse).transpose()?;
    Ok(J(s.app.list_articles(&who, status).await?.iter().map(ArticleDto::from).collect()))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewArticleRequest {
    pub title: String,
    /// Markdown, up to 50,000 characters.
    pub body: String,
    #[serde(default)]
    pub category: String,
    #[serde(default)]
    pub tags: Vec<String>,
    pub lang: Option<String>,
    #[serde(default)]
    pub publish: bool,
}

#[utoipa::path(post, path = "/api/v1/kb/articles", tag = "kb", request_body = NewArticleRequest, responses((status = 201, body = ArticleDto), Errors))]
pub async fn create_article(
    State(s): State<AppState>,
    Cap(who): Cap<BotEditor>,
    Json(r): Json<NewArticleRequest>,
) -> ApiResult<(StatusCode, J<ArticleDto>)> {
    let c = ArticleContent {
        title: r.title,
        body: r.body,
        category: r.category,
        tags: r.tags,
        lang: lang(r.lang.as_deref())?,
    };
    let a = s.app.create_article(&who, c, r.publish).await?;
    Ok((StatusCode::CREATED, J(ArticleDto::from(&a))))
}

#[utoipa::path(get, path = "/api/v1/kb/articles/{id}", tag = "kb", params(("id" = String, Path)), responses((status = 200, body = ArticleDto), Errors))]
pub async fn get_article(
    State(s): State<AppState>,
    Cap(who): Cap<Staff>,
    Path(id): Path<String>,
) -> ApiResult<J<ArticleDto>> {
    let id = path_id(&id, ArticleId::parse, "article")?;
    Ok(J(ArticleDto::from(&s.app.get_article(&who, id).await?)))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ArticlePatchRequest {
    pub title: Option<String>,
    pub body: Option<String>,
    pub category: Option<String>,
    pub tags: Option<Vec<String>>,
    pub lang: Option<String>,
}

#[utoipa::path(patch, path = "/api/v1/kb/articles/{id}", tag = "kb", params(("id" = String, Path)), request_body = ArticlePatchRequest, responses((status = 200, body = ArticleDto), Errors))]
pub async fn update_article(
    State(s): State<AppState>,
    Cap(who): Cap<BotEditor>,
    Path(id): Path<String>,
    Json(r): Json<ArticlePatchRequest>,
) -> ApiResult<J<ArticleDto>> {
    let id = path_id(&id, ArticleId::parse, "article")?;
    let p = ArticlePatch {
        title: r.title,
        body: r.body,
        category: r.category,
        tags: r.tags,
        lang: r.lang.as_deref().map(KbLang::parse).transpose()?,
    };
    Ok(J(ArticleDto::from(&s.app.update_article(&who, id, p).await?)))
}

#[utoipa::path(delete, path = "/api/v1/kb/articles/{id}", tag = "kb", params(("id" = String, Path)), responses((status = 204), Errors))]
pub async fn delete_article(
    State(s): State<AppState>,
    Cap(who): Cap<BotEditor>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = path_id(&id, ArticleId::parse, "article")?;
    s.app.delete_article(&who, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/kb/articles/{id}/publish", tag = "kb", params(("id" = String, Path)), responses((status = 200, body = ArticleDto), Errors))]
pub async fn publish_article(
    State(s): State<AppState>,
    Cap(who): Cap<BotEditor>,
    Path(id): Path<String>,
) -> ApiResult<J<ArticleDto>> {
    let id = path_id(&id, ArticleId::parse, "article")?;
    Ok(J(ArticleDto::from(&s.app.publish_article(&who, id, true).await?)))
}

#[utoipa::path(post, path = "/api/v1/kb/articles/{id}/unpublish", tag = "kb", params(("id" = String, Path)), responses((status = 200, body = ArticleDto), Errors))]
pub async fn unpublish_article(
    State(s): State<AppState>,
    Cap(who): Cap<BotEditor>,
    Path(id): Path<String>,
) -> ApiResult<J<ArticleDto>> {
    let id = path_id(&id, ArticleId::parse, "article")?;
    Ok(J(ArticleDto::from(&s.app.publish_article(&who, id, false).await?)))
}

#[utoipa::path(get, path = "/api/v1/kb/articles/{id}/versions", tag = "kb", params(("id" = String, Path)), responses((status = 200, body = [KbVersionDto]), Errors))]
pub async fn article_versions(
    State(s): State<AppState>,
    Cap(who): Cap<Staff>,
    Path(id): Path<String>,
) -> ApiResult<J<Vec<KbVersionDto>>> {
    let id = path_id(&id, ArticleId::parse, "article")?;
    Ok(J(s.app.article_versions(&who, id).await?.iter().map(KbVersionDto::from).collect()))
}

// ---- Import, export, search, reindex ------------------------------------------------------

#[derive(Debug, Deserialize, IntoParams)]
pub struct ImportParams {
    /// csv or xlsx; by default from Content-Type, else from the bytes.
    pub format: Option<String>,
    /// Check and report without storing anything.
    #[serde(default)]
    pub dry_run: bool,
    /// The status of rows without a 状态 column: draft or published (default).
    pub status: Option<String>,
}

/// Imports an FAQ spreadsheet sent as the raw body (Content-Type `text/csv` or the XLSX
/// type), or as JSON `{"content": "<CSV text>"}`. The first row names the columns: 问题 and 答案 are required; 相似问法 (variants
/// separated by line breaks, `|` or `；`), 分类, 标签, 语言, 状态 and 意图 are optional. Good
/// rows are stored (an existing question in the same language is updated, as a new version);
/// bad rows are reported by row number and column and nothing of them is stored.
#[utoipa::path(post, path = "/api/v1/kb/import", tag = "kb", params(ImportParams), request_body(content = Vec<u8>, content_type = "text/csv"), responses((status = 200, body = ImportReportDto), Errors))]
pub async fn import(
    State(s): State<AppState>,
    Cap(who): Cap<BotEditor>,
    Query(p): Query<ImportParams>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<J<ImportReportDto>> {
    let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    // A JSON body carries the CSV text as {"content": "..."} (for clients that send text).
    let body = if ct.starts_with("application/json") {
        let v: serde_json::Value = serde_json::from_slice(&body).map_err(|e| {
            ApiError::new(Code::MalformedJson, format!("the body is not valid JSON: {e}"))
        })?;
        let Some(text) = v.get("content").and_then(serde_json::Value::as_str) else {
            return Err(ApiError::invalid("content", "content: the CSV text of the spreadsheet"));
        };
        Bytes::from(text.as_bytes().to_vec())
    } else {
        body
    };
    let format = match p.format.as_deref() {
        Some(f) => SheetFormat::parse(f)?,
        None if ct.contains("spreadsheetml") => SheetFormat::Xlsx,
        None if ct.starts_with("text/csv") => SheetFormat::Csv,
        None => SheetFormat::sniff(&body),
    };
    let status =
        p.status.as_deref().map(KbStatus::parse).transpose()?.unwrap_or(KbStatus::Published);
    let r = s.app.import_faqs(&who, &body, format, status, p.dry_run).await?;
    Ok(J(ImportReportDto::from(&r)))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ExportParams {
    /// csv (default) or xlsx
    pub format: Option<String>,
}

/// Every FAQ entry as a spreadsheet in the import format.
#[utoipa::path(get, path = "/api/v1/kb/export", tag = "kb", params(ExportParams), responses((status = 200, content_type = "text/csv", body = Vec<u8>), Errors))]
pub async fn export(
    State(s): State<AppState>,
    Cap(who): Cap<Staff>,
    Query(p): Query<ExportParams>,
) -> ApiResult<Response> {
    let format =
        p.format.as_deref().map(SheetFormat::parse).transpose()?.unwrap_or(SheetFormat::Csv);
    let bytes = s.app.export_faqs(&who, format).await?;
    let (ct, name) = match format {
        SheetFormat::Csv => ("text/csv; charset=utf-8", "faq.csv"),
        SheetFormat::Xlsx => {
            ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "faq.xlsx")
        }
    };
    Ok((
        [
            (header::CONTENT_TYPE, ct.to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
        ],
        bytes,
    )
        .into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct SearchParams {
    /// The query, 1 to 500 characters, Chinese or English.
    pub q: String,
    /// Include drafts (default: published only).
    #[serde(default)]
    pub drafts: bool,
    /// faq or article
    pub kind: Option<String>,
    /// zh or en
    pub lang: Option<String>,
    /// 1 to 50, default 10.
    pub limit: Option<usize>,
}

/// Full-text search with Chinese word segmentation; matched words are highlighted.
#[utoipa::path(get, path = "/api/v1/kb/search", tag = "kb", params(SearchParams), responses((status = 200, body = [SearchHitDto]), Errors))]
pub async fn search_kb(
    State(s): State<AppState>,
    Cap(who): Cap<Staff>,
    Query(p): Query<SearchParams>,
) -> ApiResult<J<Vec<SearchHitDto>>> {
    let kind = match p.kind.as_deref() {
        None => None,
        Some("faq") => Some(search::DocKind::Faq),
        Some("article") => Some(search::DocKind::Article),
        Some(_) => return Err(ApiError::new(Code::InvalidQuery, "kind is faq or article")),
    };
    let q = SearchQuery {
        q: p.q,
        include_drafts: p.drafts,
        kind,
        lang: p.lang.as_deref().map(KbLang::parse).transpose()?,
        limit: p.limit.unwrap_or(10),
    };
    Ok(J(s.app.search_kb(&who, &q).await?.iter().map(SearchHitDto::from).collect()))
}

#[derive(Debug, serde::Serialize, ToSchema)]
pub struct ReindexDto {
    /// FAQ entries and articles in the knowledge-base index.
    pub documents: usize,
    /// Solved and closed tickets in the similar-tickets index (agent assist).
    pub similar_tickets: usize,
}

/// Rebuilds the workspace's search indexes from the database: the knowledge base's, and the
/// similar solved tickets' (their rows recomputed from tickets and messages).
#[utoipa::path(post, path = "/api/v1/kb/reindex", tag = "kb", responses((status = 200, body = ReindexDto), Errors))]
pub async fn reindex(
    State(s): State<AppState>,
    Cap(who): Cap<BotEditor>,
) -> ApiResult<J<ReindexDto>> {
    let documents = s.app.reindex_kb(&who).await?;
    let similar_tickets = s.app.reindex_similar(&who).await?;
    Ok(J(ReindexDto { documents, similar_tickets }))
}

// ---- Matching -------------------------------------------------------------------------------

#[derive(Debug, Deserialize, ToSchema)]
pub struct MatchRequest {
    /// The customer's message, 1 to 500 characters.
    pub text: String,
    /// The channel it came on; entries limited to other channels do not answer.
    pub channel: Option<String>,
    /// Fills {{customer.*}} in the answer.
    pub customer_id: Option<String>,
}

/// What the bot would do with a message: answer, confirm among the top choices, or no match.
#[utoipa::path(post, path = "/api/v1/kb/match", tag = "kb", request_body = MatchRequest, responses((status = 200, body = MatchDto), Errors))]
pub async fn match_faq(
    State(s): State<AppState>,
    Cap(who): Cap<Staff>,
    Json(r): Json<MatchRequest>,
) -> ApiResult<J<MatchDto>> {
    let input = MatchInput {
        text: r.text,
        channel: r.channel.as_deref().map(Channel::parse).transpose()?,
        customer: r.customer_id.as_deref().map(CustomerId::parse).transpose()?,
    };
    Ok(J(MatchDto::from(&s.app.match_faq(&who, &input).await?)))
}

#[utoipa::path(get, path = "/api/v1/kb/settings", tag = "kb", responses((status = 200, body = MatchSettingsDto), Errors))]
pub async fn get_settings(
    State(s): State<AppState>,
    Cap(who): Cap<Staff>,
) -> ApiResult<J<MatchSettingsDto>> {
    let m = s.app.match_settings(&who).await?;
    Ok(J(MatchSettingsDto {
        answer_threshold: m.answer_threshold,
        confirm_threshold: m.confirm_threshold,
    }))
}

/// Sets the workspace's matching thresholds (0 ≤ confirm ≤ answer ≤ 1).
#[utoipa::path(put, path = "/api/v1/kb/settings", tag = "kb", request_body = MatchSettingsDto, responses((status = 200, body = MatchSettingsDto), Errors))]
pub async fn put_settings(
    State(s): State<AppState>,
    Cap(who): Cap<BotEditor>,
    Json(r): Json<MatchSettingsDto>,
) -> ApiResult<J<MatchSettingsDto>> {
    let m = s.app.set_match_settings(&who, r.answer_threshold, r.confirm_threshold).await?;
    Ok(J(MatchSettingsDto {
        answer_threshold: m.answer_threshold,
        confirm_threshold: m.confirm_threshold,
    }))
}

// ---- Reply templates and suggestions ------------------------------------------------------

/// The reply-template library (话术库), by name.
#[utoipa::path(get, path = "/api/v1/kb/templates", tag = "kb", responses((status = 200, body = [ReplyTemplateDto]), Errors))]
pub async fn list_templates(
    State(s): State<AppState>,
    Cap(who): Cap<Staff>,
) -> ApiResult<J<Vec<ReplyTemplateDto>>> {
    Ok(J(s.app.list_templates(&who).await?.iter().map(ReplyTemplateDto::from).collect()))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewTemplateRequest {
    /// Unique in the workspace, up to 64 characters.
    pub name: String,
    /// With variables like the FAQ answers ({{customer.name}}, {{ticket.no}}, {{agent.name}}…).
    pub body: String,
    #[serde(default)]
    pub category: String,
    #[serde(default)]
    pub tags: Vec<String>,
    pub lang: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/kb/templates", tag = "kb", request_body = NewTemplateRequest, responses((status = 201, body = ReplyTemplateDto), Errors))]
pub async fn create_template(
    State(s): State<AppState>,
    Cap(who): Cap<BotEditor>,
    Json(r): Json<NewTemplateRequest>,
) -> ApiResult<(StatusCode, J<ReplyTemplateDto>)> {
    let n = NewTemplate {
        name: r.name,
        body: r.body,
        category: r.category,
        tags: r.tags,
        lang: lang(r.lang.as_deref())?,
    };
    let t = s.app.create_template(&who, n).await?;
    Ok((StatusCode::CREATED, J(ReplyTemplateDto::from(&t))))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct TemplatePatchRequest {
    pub name: Option<String>,
    pub body: Option<String>,
    pub category: Option<String>,
    pub tags: Option<Vec<String>>,
    pub lang: Option<String>,
}

#[utoipa::path(patch, path = "/api/v1/kb/templates/{id}", tag = "kb", params(("id" = String, Path)), request_body = TemplatePatchRequest, responses((status = 200, body = ReplyTemplateDto), Errors))]
pub async fn update_template(
    State(s): State<AppState>,
    Cap(who): Cap<BotEditor>,
    Path(id): Path<String>,
    Json(r): Json<TemplatePatchRequest>,
) -> ApiResult<J<ReplyTemplateDto>> {
    let id = path_id(&id, ReplyTemplateId::parse, "reply template")?;
    let p = TemplatePatch {
        name: r.name,
        body: r.body,
        category: r.category,
        tags: r.tags,
        lang: r.lang.as_deref().map(KbLang::parse).transpose()?,
    };
    Ok(J(ReplyTemplateDto::from(&s.app.update_template(&who, id, p).await?)))
}

#[utoipa::path(delete, path = "/api/v1/kb/templates/{id}", tag = "kb", params(("id" = String, Path)), responses((status = 204), Errors))]
pub async fn delete_template(
    State(s): State<AppState>,
    Cap(who): Cap<BotEditor>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = path_id(&id, ReplyTemplateId::parse, "reply template")?;
    s.app.delete_template(&who, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RenderRequest {
    /// Fill from this conversation's customer and newest ticket.
    pub conversation_id: Option<String>,
    /// Or from this ticket and its customer.
    pub ticket_id: Option<String>,
}

/// A template with its variables filled; unknown values stay as {{name}} and are listed.
#[utoipa::path(post, path = "/api/v1/kb/templates/{id}/render", tag = "kb", params(("id" = String, Path)), request_body = RenderRequest, responses((status = 200, body = RenderedDto), Errors))]
pub async fn render_template(
    State(s): State<AppState>,
    Cap(who): Cap<Staff>,
    Path(id): Path<String>,
    Json(r): Json<RenderRequest>,
) -> ApiResult<J<RenderedDto>> {
    let id = path_id(&id, ReplyTemplateId::parse, "reply template")?;
    let conv = r.conversation_id.as_deref().map(ConversationId::parse).transpose()?;
    let ticket = r.ticket_id.as_deref().map(TicketId::parse).transpose()?;
    Ok(J(RenderedDto::from(&s.app.render_template(&who, id, conv, ticket).await?)))
}

/// Agent assist: the best FAQ answers and reply templates for the customer's latest message,
/// filled with the conversation's customer and ticket.
#[utoipa::path(get, path = "/api/v1/conversations/{id}/suggestions", tag = "kb", params(("id" = String, Path)), responses((status = 200, body = SuggestionsDto), Errors))]
pub async fn suggestions(
    State(s): State<AppState>,
    Cap(who): Cap<Staff>,
    Path(id): Path<String>,
) -> ApiResult<J<SuggestionsDto>> {
    let id = path_id(&id, ConversationId::parse, "conversation")?;
    Ok(J(SuggestionsDto::from(&s.app.suggestions(&who, id).await?)))
}
