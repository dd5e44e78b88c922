//! The knowledge base: FAQ entries, articles, their versions (content as JSON), reply
//! templates and the matching thresholds.

use anyhow::Context;
use domain::{
    Article, ArticleContent, ArticleId, Channel, Faq, FaqContent, FaqId, KbAction, KbContent,
    KbLang, KbStatus, KbVersion, MatchSettings, ReplyTemplate, ReplyTemplateId, Timestamp,
    WorkspaceId,
};
use serde_json::{Value, json};
use sqlx::{AnyConnection, Row, any::AnyRow};

use crate::{Result, codec, int, one_by_id, opt_text, opt_ts, parse_col, text, ts};

fn list_json(v: &[String]) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "[]".into())
}

fn json_list(s: &str) -> Result<Vec<String>> {
    serde_json::from_str(s).with_context(|| format!("not a JSON list of texts: {s:?}"))
}

fn channels_json(c: &[Channel]) -> String {
    list_json(&c.iter().map(|c| c.as_str().to_owned()).collect::<Vec<_>>())
}

fn json_channels(s: &str) -> Result<Vec<Channel>> {
    json_list(s)?
        .iter()
        .map(|c| Channel::parse(c).map_err(|e| anyhow::anyhow!("stored channel: {e}")))
        .collect()
}

const FAQ_COLS: &str = "id, workspace_id, question, variants, answer, category, channels, \
    valid_from, valid_to, tags, lang, intent, status, version, created_at, created_by, \
    updated_at, updated_by";

fn faq(r: &AnyRow) -> Result<Faq> {
    Ok(Faq {
        id: parse_col(r, "id", FaqId::parse)?,
        workspace: parse_col(r, "workspace_id", WorkspaceId::parse)?,
        content: FaqContent {
            question: text(r, "question")?,
            variants: json_list(&text(r, "variants")?)?,
            answer: text(r, "answer")?,
            category: text(r, "category")?,
            channels: json_channels(&text(r, "channels")?)?,
            valid_from: opt_ts(r, "valid_from")?,
            valid_to: opt_ts(r, "valid_to")?,
            tags: json_list(&text(r, "tags")?)?,
            lang: parse_col(r, "lang", KbLang::parse)?,
            intent: opt_text(r, "intent")?,
        },
        status: parse_col(r, "status", KbStatus::parse)?,
        version: int(r, "version")?,
        created_at: ts(r, "created_at")?,
        created_by: codec::parse_actor(&text(r, "created_by")?)?,
        updated_at: ts(r, "updated_at")?,
        updated_by: codec::parse_actor(&text(r, "updated_by")?)?,
    })
}

pub async fn faq_insert(c: &mut AnyConnection, f: &Faq) -> Result<()> {
    let sql = format!(
        "INSERT INTO kb_faqs ({FAQ_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)"
    );
    let k = &f.content;
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(f.id.to_string())
        .bind(f.workspace.to_string())
        .bind(&k.question)
        .bind(list_json(&k.variants))
        .bind(&k.answer)
        .bind(&k.category)
        .bind(channels_json(&k.channels))
        .bind(k.valid_from.map(Timestamp::millis))
        .bind(k.valid_to.map(Timestamp::millis))
        .bind(list_json(&k.tags))
        .bind(k.lang.as_str())
        .bind(k.intent.clone())
        .bind(f.status.as_str())
        .bind(f.version)
        .bind(f.created_at.millis())
        .bind(f.created_by.to_string())
        .bind(f.updated_at.millis())
        .bind(f.updated_by.to_string())
        .execute(c)
        .await
        .context("inserting an FAQ entry")?;
    Ok(())
}

pub async fn faq_update(c: &mut AnyConnection, f: &Faq) -> Result<()> {
    let k = &f.content;
    sqlx::query(
        "UPDATE kb_faqs SET question = $3, variants = $4, answer = $5, category = $6, channels = $7,
            valid_from = $8, valid_to = $9, tags = $10, lang = $11, intent = $12, status = $13,
            version = $14, updated_at = $15, updated_by = $16
         WHERE workspace_id = $1 AND id = $2",
    )
    .bind(f.workspace.to_string())
    .bind(f.id.to_string())
    .bind(&k.question)
    .bind(list_json(&k.variants))
    .bind(&k.answer)
    .bind(&k.category)
    .bind(channels_json(&k.channels))
    .bind(k.valid_from.map(Timestamp::millis))
    .bind(k.valid_to.map(Timestamp::millis))
    .bind(list_json(&k.tags))
    .bind(k.lang.as_str())
    .bind(k.intent.clone())
    .bind(f.status.as_str())
    .bind(f.version)
    .bind(f.updated_at.millis())
    .bind(f.updated_by.to_string())
    .execute(c)
    .await?;
    Ok(())
}

pub async fn faq_get(c: &mut AnyConnection, ws: WorkspaceId, id: FaqId) -> Result<Option<Faq>> {
    let sql = format!("SELECT {FAQ_COLS} FROM kb_faqs WHERE workspace_id = $1 AND id = $2");
    one_by_id(c, sql, ws, id, faq).await
}

/// Every FAQ entry of the workspace, oldest first.
pub async fn faq_list(c: &mut AnyConnection, ws: WorkspaceId) -> Result<Vec<Faq>> {
    let sql = format!("SELECT {FAQ_COLS} FROM kb_faqs WHERE workspace_id = $1 ORDER BY id");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(ws.to_string()).fetch_all(c).await?;
    rows.iter().map(faq).collect()
}

pub async fn faq_delete(c: &mut AnyConnection, ws: WorkspaceId, id: FaqId) -> Result<()> {
    sqlx::query("DELETE FROM kb_faqs WHERE workspace_id = $1 AND id = $2")
        .bind(ws.to_string())
        .bind(id.to_string())
        .execute(c)
        .await?;
    Ok(())
}

const ARTICLE_COLS: &str = "id, workspace_id, title, body, category, tags, lang, status, \
    version, created_at, created_by, updated_at, updated_by";

fn article(r: &AnyRow) -> Result<Article> {
    Ok(Article {
        id: parse_col(r, "id", ArticleId::parse)?,
        workspace: parse_col(r, "workspace_id", WorkspaceId::parse)?,
        content: ArticleContent {
            title: text(r, "title")?,
            body: text(r, "body")?,
            category: text(r, "category")?,
            tags: json_list(&text(r, "tags")?)?,
            lang: parse_col(r, "lang", KbLang::parse)?,
        },
        status: parse_col(r, "status", KbStatus::parse)?,
        version: int(r, "version")?,
        created_at: ts(r, "created_at")?,
        created_by: codec::parse_actor(&text(r, "created_by")?)?,
        updated_at: ts(r, "updated_at")?,
        updated_by: codec::parse_actor(&text(r, "updated_by")?)?,
    })
}

pub async fn article_insert(c: &mut AnyConnection, a: &Article) -> Result<()> {
    let sql = format!(
        "INSERT INTO kb_articles ({ARTICLE_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
    );
    let k = &a.content;
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(a.id.to_string())
        .bind(a.workspace.to_string())
        .bind(&k.title)
        .bind(&k.body)
        .bind(&k.category)
        .bind(list_json(&k.tags))
        .bind(k.lang.as_str())
        .bind(a.status.as_str())
        .bind(a.version)
        .bind(a.created_at.millis())
        .bind(a.created_by.to_string())
        .bind(a.updated_at.millis())
        .bind(a.updated_by.to_string())
        .execute(c)
        .await?;
    Ok(())
}

pub async fn article_update(c: &mut AnyConnection, a: &Article) -> Result<()> {
    let k = &a.content;
    sqlx::query(
        "UPDATE kb_articles SET title = $3, body = $4, category = $5, tags = $6, lang = $7,
            status = $8, version = $9, updated_at = $10, updated_by = $11
         WHERE workspace_id = $1 AND id = $2",
    )
    .bind(a.workspace.to_string())
    .bind(a.id.to_string())
    .bind(&k.title)
    .bind(&k.body)
    .bind(&k.category)
    .bind(list_json(&k.tags))
    .bind(k.lang.as_str())
    .bind(a.status.as_str())
    .bind(a.version)
    .bind(a.updated_at.millis())
    .bind(a.updated_by.to_string())
    .execute(c)
    .await?;
    Ok(())
}

pub async fn article_get(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    id: ArticleId,
) -> Result<Option<Article>> {
    let sql = format!("SELECT {ARTICLE_COLS} FROM kb_articles WHERE workspace_id = $1 AND id = $2");
    one_by_id(c, sql, ws, id, article).await
}

pub async fn article_list(c: &mut AnyConnection, ws: WorkspaceId) -> Result<Vec<Article>> {
    let sql = format!("SELECT {ARTICLE_COLS} FROM kb_articles WHERE workspace_id = $1 ORDER BY id");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(ws.to_string()).fetch_all(c).await?;
    rows.iter().map(article).collect()
}

pub async fn article_delete(c: &mut AnyConnection, ws: WorkspaceId, id: ArticleId) -> Result<()> {
    sqlx::query("DELETE FROM kb_articles WHERE workspace_id = $1 AND id = $2")
        .bind(ws.to_string())
        .bind(id.to_string())
        .execute(c)
        .await?;
    Ok(())
}

// ---- Versions -------------------------------------------------------------------------------

fn content_json(c: &KbContent) -> (&'static str, String) {
    match c {
        KbContent::Faq(f) => (
            "faq",
            json!({
                "question": f.question, "variants": f.variants, "answer": f.answer,
                "category": f.category,
                "channels": f.channels.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
                "valid_from": f.valid_from.map(Timestamp::millis),
                "valid_to": f.valid_to.map(Timestamp::millis),
                "tags": f.tags, "lang": f.lang.as_str(), "intent": f.intent,
            })
            .to_string(),
        ),
        KbContent::Article(a) => (
            "article",
            json!({
                "title": a.title, "body": a.body, "category": a.category, "tags": a.tags,
                "lang": a.lang.as_str(),
            })
            .to_string(),
        ),
    }
}

fn strs(v: &Value, k: &str) -> Vec<String> {
    v[k].as_array()
        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_default()
}

fn json_content(kind: &str, s: &str) -> Result<KbContent> {
    let v: Value = serde_json::from_str(s).with_context(|| format!("version content: {s:?}"))?;
    let st = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
    let lang = KbLang::parse(&st("lang")).map_err(|e| anyhow::anyhow!("version content: {e}"))?;
    Ok(match kind {
        "faq" => KbContent::Faq(FaqContent {
            question: st("question"),
            variants: strs(&v, "variants"),
            answer: st("answer"),
            category: st("category"),
            channels: strs(&v, "channels").iter().filter_map(|c| Channel::parse(c).ok()).collect(),
            valid_from: v["valid_from"].as_i64().map(Timestamp::from_millis),
            valid_to: v["valid_to"].as_i64().map(Timestamp::from_millis),
            tags: strs(&v, "tags"),
            lang,
            intent: v["intent"].as_str().map(str::to_owned),
        }),
        "article" => KbContent::Article(ArticleContent {
            title: st("title"),
            body: st("body"),
            category: st("category"),
            tags: strs(&v, "tags"),
            lang,
        }),
        other => anyhow::bail!("unknown knowledge item kind {other:?}"),
    })
}

/// Records one version of an item.
pub async fn version_insert(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    item: &str,
    v: &KbVersion,
) -> Result<()> {
    let (kind, content) = content_json(&v.content);
    sqlx::query(
        "INSERT INTO kb_versions (workspace_id, item_id, item_kind, version, action, status, content, actor, at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(ws.to_string())
    .bind(item.to_owned())
    .bind(kind)
    .bind(v.version)
    .bind(v.action.as_str())
    .bind(v.status.as_str())
    .bind(content)
    .bind(v.actor.to_string())
    .bind(v.at.millis())
    .execute(c)
    .await
    .context("recording a knowledge-base version")?;
    Ok(())
}

/// The history of an item, newest first.
pub async fn versions_of(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    item: &str,
) -> Result<Vec<KbVersion>> {
    let rows = sqlx::query(
        "SELECT item_kind, version, action, status, content, actor, at FROM kb_versions
         WHERE workspace_id = $1 AND item_id = $2 ORDER BY version DESC",
    )
    .bind(ws.to_string())
    .bind(item.to_owned())
    .fetch_all(c)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(KbVersion {
                version: int(r, "version")?,
                action: parse_col(r, "action", KbAction::parse)?,
                status: parse_col(r, "status", KbStatus::parse)?,
                content: json_content(&text(r, "item_kind")?, &text(r, "content")?)?,
                actor: codec::parse_actor(&text(r, "actor")?)?,
                at: ts(r, "at")?,
            })
        })
        .collect()
}

// ---- Reply templates ------------------------------------------------------------------------

const TEMPLATE_COLS: &str =
    "id, workspace_id, name, body, category, tags, lang, created_at, created_by, updated_at";

fn template(r: &AnyRow) -> Result<ReplyTemplate> {
    Ok(ReplyTemplate {
        id: parse_col(r, "id", ReplyTemplateId::parse)?,
        workspace: parse_col(r, "workspace_id", WorkspaceId::parse)?,
        name: text(r, "name")?,
        body: text(r, "body")?,
        category: text(r, "category")?,
        tags: json_list(&text(r, "tags")?)?,
        lang: parse_col(r, "lang", KbLang::parse)?,
        created_at: ts(r, "created_at")?,
        created_by: codec::parse_actor(&text(r, "created_by")?)?,
        updated_at: ts(r, "updated_at")?,
    })
}

pub async fn template_insert(c: &mut AnyConnection, t: &ReplyTemplate) -> Result<()> {
    let sql = format!(
        "INSERT INTO kb_reply_templates ({TEMPLATE_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(t.id.to_string())
        .bind(t.workspace.to_string())
        .bind(&t.name)
        .bind(&t.body)
        .bind(&t.category)
        .bind(list_json(&t.tags))
        .bind(t.lang.as_str())
        .bind(t.created_at.millis())
        .bind(t.created_by.to_string())
        .bind(t.updated_at.millis())
        .execute(c)
        .await
        .context("inserting a reply template")?;
    Ok(())
}

pub async fn template_update(c: &mut AnyConnection, t: &ReplyTemplate) -> Result<()> {
    sqlx::query(
        "UPDATE kb_reply_templates SET name = $3, body = $4, category = $5, tags = $6, lang = $7,
            updated_at = $8 WHERE workspace_id = $1 AND id = $2",
    )
    .bind(t.workspace.to_string())
    .bind(t.id.to_string())
    .bind(&t.name)
    .bind(&t.body)
    .bind(&t.category)
    .bind(list_json(&t.tags))
    .bind(t.lang.as_str())
    .bind(t.updated_at.millis())
    .execute(c)
    .await
    .context("updating a reply template")?;
    Ok(())
}

pub async fn template_get(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    id: ReplyTemplateId,
) -> Result<Option<ReplyTemplate>> {
    let sql = format!(
        "SELECT {TEMPLATE_COLS} FROM kb_reply_templates WHERE workspace_id = $1 AND id = $2"
    );
    one_by_id(c, sql, ws, id, template).await
}

pub async fn template_list(c: &mut AnyConnection, ws: WorkspaceId) -> Result<Vec<ReplyTemplate>> {
    let sql = format!(
        "SELECT {TEMPLATE_COLS} FROM kb_reply_templates WHERE workspace_id = $1 ORDER BY name"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(ws.to_string()).fetch_all(c).await?;
    rows.iter().map(template).collect()
}

pub async fn template_delete(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    id: ReplyTemplateId,
) -> Result<bool> {
    let r = sqlx::query("DELETE FROM kb_reply_templates WHERE workspace_id = $1 AND id = $2")
        .bind(ws.to_string())
        .bind(id.to_string())
        .execute(c)
        .await?;
    Ok(r.rows_affected() == 1)
}

// ---- Settings -------------------------------------------------------------------------------

/// The workspace's thresholds, if it set its own.
pub async fn settings_get(c: &mut AnyConnection, ws: WorkspaceId) -> Result<Option<MatchSettings>> {
    let r = sqlx::query(
        "SELECT answer_threshold, confirm_threshold FROM kb_settings WHERE workspace_id = $1",
    )
    .bind(ws.to_string())
    .fetch_optional(c)
    .await?;
    match r {
        None => Ok(None),
        Some(r) => Ok(Some(MatchSettings {
            answer_threshold: r.try_get("answer_threshold").context("answer_threshold")?,
            confirm_threshold: r.try_get("confirm_threshold").context("confirm_threshold")?,
        })),
    }
}

pub async fn settings_put(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    s: &MatchSettings,
    now: Timestamp,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO kb_settings (workspace_id, answer_threshold, confirm_threshold, updated_at)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (workspace_id) DO UPDATE SET answer_threshold = $2, confirm_threshold = $3,
            updated_at = $4",
    )
    .bind(ws.to_string())
    .bind(s.answer_threshold)
    .bind(s.confirm_threshold)
    .bind(now.millis())
    .execute(c)
    .await?;
    Ok(())
}

/// The body of the newest customer message of a conversation, for agent assist.
pub async fn latest_customer_message(
    c: &mut AnyConnection,
    ws: WorkspaceId,
    conv: domain::ConversationId,
) -> Result<Option<String>> {
    let r = sqlx::query(
        "SELECT body FROM messages WHERE workspace_id = $1 AND conversation_id = $2
            AND sender = 'customer' ORDER BY created_at DESC, id DESC LIMIT 1",
    )
    .bind(ws.to_string())
    .bind(conv.to_string())
    .fetch_optional(c)
    .await?;
    r.as_ref().map(|r| text(r, "body")).transpose()
}
