//! The knowledge base (BOT-2): FAQ entries and articles with their version history, and
//! full-text search over them.
//!
//! Every change is one `WriteTx` that updates the item, records the new version (every edit,
//! publish and unpublish is kept), audits and emits `FaqChanged`/`ArticleChanged`. The search
//! index is derived: one in-memory `search::KbIndex` per workspace, filled from the database
//! on first use (and by `reindex`), and updated right after each commit, so an entry is
//! searchable as soon as the call that published it returns. Versions make late updates
//! harmless. The matcher's n-gram vectors are rebuilt from the database when an FAQ changed.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
};

use anyhow::Context as _;
use domain::{
    Actor, Article, ArticleContent, ArticleId, Audience, Channel, Event, Faq, FaqContent, FaqId,
    KbAction, KbContent, KbLang, KbStatus, KbVersion, ParseError, Snapshot, Timestamp, WorkspaceId,
};
use search::{Doc, DocKind, Hit, KbIndex, SearchOpts, matching::Entry};

use crate::{
    App, Error, Result,
    auth::{BotEditor, Staff},
    error::OrNotFound,
};

/// A workspace's derived search state.
#[derive(Debug)]
pub(crate) struct WsKb {
    pub(crate) index: KbIndex,
    /// Bumped on every FAQ change; a matcher built before the bump is not kept.
    generation: AtomicU64,
    matcher: Mutex<Option<(u64, Arc<MatchData>)>>,
}

/// The published FAQ entries and their n-gram vectors.
#[derive(Debug)]
pub(crate) struct MatchData {
    pub(crate) matcher: search::Matcher,
    pub(crate) faqs: HashMap<String, Faq>,
}

/// The indexes per workspace, each built on first use.
#[derive(Debug, Default)]
pub(crate) struct KbCache {
    indexes: Mutex<HashMap<WorkspaceId, Arc<tokio::sync::OnceCell<Arc<WsKb>>>>>,
}

/// The changes to an FAQ entry; absent fields stay.
#[derive(Debug, Clone, Default)]
pub struct FaqPatch {
    pub question: Option<String>,
    pub variants: Option<Vec<String>>,
    pub answer: Option<String>,
    pub category: Option<String>,
    pub channels: Option<Vec<Channel>>,
    pub valid_from: Option<Option<Timestamp>>,
    pub valid_to: Option<Option<Timestamp>>,
    pub tags: Option<Vec<String>>,
    pub lang: Option<KbLang>,
    pub intent: Option<Option<String>>,
}

impl FaqPatch {
    fn apply(self, c: &FaqContent) -> FaqContent {
        let c = c.clone();
        FaqContent {
            question: self.question.unwrap_or(c.question),
            variants: self.variants.unwrap_or(c.variants),
            answer: self.answer.unwrap_or(c.answer),
            category: self.category.unwrap_or(c.category),
            channels: self.channels.unwrap_or(c.channels),
            valid_from: self.valid_from.unwrap_or(c.valid_from),
            valid_to: self.valid_to.unwrap_or(c.valid_to),
            tags: self.tags.unwrap_or(c.tags),
            lang: self.lang.unwrap_or(c.lang),
            intent: self.intent.unwrap_or(c.intent),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct ArticlePatch {
    pub title: Option<String>,
    pub body: Option<String>,
    pub category: Option<String>,
    pub tags: Option<Vec<String>>,
    pub lang: Option<KbLang>,
}

/// A search request.
#[derive(Debug, Clone)]
pub struct SearchQuery {
    pub q: String,
    /// Staff may search drafts too.
    pub include_drafts: bool,
    pub kind: Option<DocKind>,
    pub lang: Option<KbLang>,
    pub limit: usize,
}

pub(crate) fn faq_doc(f: &Faq) -> Doc {
    Doc {
        id: f.id.to_string(),
        kind: DocKind::Faq,
        version: f.version,
        title: f.content.question.clone(),
        variants: f.content.variants.clone(),
        body: f.content.answer.clone(),
        category: f.content.category.clone(),
        tags: f.content.tags.clone(),
        lang: f.content.lang.as_str().to_owned(),
        published: f.status == KbStatus::Published,
    }
}

fn article_doc(a: &Article) -> Doc {
    Doc {
        id: a.id.to_string(),
        kind: DocKind::Article,
        version: a.version,
        title: a.content.title.clone(),
        variants: Vec::new(),
        body: a.content.body.clone(),
        category: a.content.category.clone(),
        tags: a.content.tags.clone(),
        lang: a.content.lang.as_str().to_owned(),
        published: a.status == KbStatus::Published,
    }
}

fn faq_snapshot(f: &Faq) -> Snapshot {
    Snapshot::default()
        .with("question", f.content.question.as_str())
        .with("status", f.status.as_str())
        .with("version", domain::AuditValue::Int(f.version))
        .with("answer", f.content.answer.as_str())
}

fn article_snapshot(a: &Article) -> Snapshot {
    Snapshot::default()
        .with("title", a.content.title.as_str())
        .with("status", a.status.as_str())
        .with("version", domain::AuditValue::Int(a.version))
}

pub(crate) fn status_of(publish: bool) -> KbStatus {
    if publish { KbStatus::Published } else { KbStatus::Draft }
}

impl App {
    // ---- The derived index ------------------------------------------------------------------

    /// The workspace's index, built from the database the first time.
    pub(crate) async fn kb(&self, ws: WorkspaceId) -> Result<Arc<WsKb>> {
        let cell = {
            let mut m = self.kb.indexes.lock().map_err(|_| poisoned())?;
            m.entry(ws).or_default().clone()
        };
        let kb = cell
            .get_or_try_init(|| async {
                let kb = Arc::new(WsKb {
                    index: KbIndex::new()?,
                    generation: AtomicU64::new(0),
                    matcher: Mutex::new(None),
                });
                self.fill_index(ws, &kb).await?;
                Result::<_, Error>::Ok(kb)
            })
            .await?;
        Ok(kb.clone())
    }

    async fn fill_index(&self, ws: WorkspaceId, kb: &Arc<WsKb>) -> Result<usize> {
        let mut c = self.db.read().await?;
        let mut docs: Vec<Doc> =
            db::knowledge::faq_list(&mut c, ws).await?.iter().map(faq_doc).collect();
        docs.extend(db::knowledge::article_list(&mut c, ws).await?.iter().map(article_doc));
        drop(c);
        let n = docs.len();
        let kb2 = kb.clone();
        tokio::task::spawn_blocking(move || kb2.index.rebuild(&docs))
            .await
            .context("the indexing thread panicked")??;
        kb.generation.fetch_add(1, Ordering::SeqCst);
        Ok(n)
    }

    /// Rebuilds the workspace's index from the database; returns the number of documents.
    pub async fn reindex_kb(&self, b: &BotEditor) -> Result<usize> {
        let kb = self.kb(b.workspace).await?;
        self.fill_index(b.workspace, &kb).await
    }

    /// Applies a committed change to the index. The database is the truth: a failure here is
    /// logged, and `reindex` repairs it.
    pub(crate) async fn index_after_commit(
        &self,
        ws: WorkspaceId,
        doc: Option<Doc>,
        removed: Option<(String, i64)>,
    ) {
        let r = async {
            let kb = self.kb(ws).await?;
            if let Some(d) = &doc {
                kb.index.upsert(d)?;
            }
            if let Some((id, v)) = &removed {
                kb.index.remove(id, *v)?;
            }
            if doc.as_ref().is_none_or(|d| d.kind == DocKind::Faq) {
                kb.generation.fetch_add(1, Ordering::SeqCst);
            }
            Result::<(), Error>::Ok(())
        }
        .await;
        if let Err(e) = r {
            tracing::warn!(workspace = %ws, error = %e, "updating the knowledge-base index failed; reindex repairs it");
        }
    }

    /// The published FAQ entries and their matcher, rebuilt when an entry changed.
    pub(crate) async fn match_data(&self, ws: WorkspaceId) -> Result<Arc<MatchData>> {
        let kb = self.kb(ws).await?;
        let generation = kb.generation.load(Ordering::SeqCst);
        if let Some((g, d)) = &*kb.matcher.lock().map_err(|_| poisoned())?
            && *g == generation
        {
            return Ok(d.clone());
        }
        let mut c = self.db.read().await?;
        let faqs: Vec<Faq> = db::knowledge::faq_list(&mut c, ws)
            .await?
            .into_iter()
            .filter(|f| f.status == KbStatus::Published)
            .collect();
        drop(c);
        let entries = faqs
            .iter()
            .map(|f| Entry {
                id: f.id.to_string(),
                questions: f.content.all_questions().map(str::to_owned).collect(),
                lang: f.content.lang.as_str().to_owned(),
                intent: f.content.intent.clone(),
            })
            .collect();
        let data = Arc::new(MatchData {
            matcher: search::Matcher::new(entries),
            faqs: faqs.into_iter().map(|f| (f.id.to_string(), f)).collect(),
        });
        let mut slot = kb.matcher.lock().map_err(|_| poisoned())?;
        if kb.generation.load(Ordering::SeqCst) == generation {
            *slot = Some((generation, data.clone()));
        }
        Ok(data)
    }

    // ---- FAQ entries ------------------------------------------------------------------------

    pub async fn list_faqs(&self, s: &Staff, status: Option<KbStatus>) -> Result<Vec<Faq>> {
        let mut c = self.db.read().await?;
        let mut all = db::knowledge::faq_list(&mut c, s.workspace).await?;
        if let Some(st) = status {
            all.retain(|f| f.status == st);
        }
        Ok(all)
    }

    pub async fn get_faq(&self, s: &Staff, id: FaqId) -> Result<Faq> {
        let mut c = self.db.read().await?;
        db::knowledge::faq_get(&mut c, s.workspace, id).await?.or_not_found("FAQ entry")
    }

    /// Creates an FAQ entry, as a draft unless `publish`.
    pub async fn create_faq(
        &self,
        b: &BotEditor,
        content: FaqContent,
        publish: bool,
    ) -> Result<Faq> {
        let content = content.parse()?;
        let now = self.now();
        let mut tx = self.db.write(b.workspace).await?;
        let f = Faq {
            id: self.ids.next(now, FaqId::new),
            workspace: b.workspace,
            content,
            status: status_of(publish),
            version: 1,
            created_at: now,
            created_by: b.actor,
            updated_at: now,
            updated_by: b.actor,
        };
        db::knowledge::faq_insert(&mut tx, &f).await?;
        self.record_faq(&mut tx, &f, None, KbAction::Create, b.actor, now).await?;
        self.commit(tx).await?;
        self.index_after_commit(b.workspace, Some(faq_doc(&f)), None).await;
        Ok(f)
    }

    pub(crate) async fn record_faq(
        &self,
        tx: &mut db::WriteTx,
        f: &Faq,
        before: Option<&Faq>,
        action: KbAction,
        actor: Actor,
        now: Timestamp,
    ) -> Result<()> {
        let v = KbVersion {
            version: f.version,
            action,
            status: f.status,
            content: KbContent::Faq(f.content.clone()),
            actor,
            at: now,
        };
        db::knowledge::version_insert(tx, f.workspace, &f.id.to_string(), &v).await?;
        let after = (action != KbAction::Delete).then(|| faq_snapshot(f));
        tx.audit(
            now,
            actor,
            &format!("kb_faq.{}", action.as_str()),
            "kb_faq",
            &f.id.to_string(),
            before.map(faq_snapshot).as_ref(),
            after.as_ref(),
        )
        .await?;
        tx.emit(
            now,
            actor,
            Event::FaqChanged { faq: f.id, version: f.version },
            Audience::staff_only(),
        )
        .await?;
        Ok(())
    }

    /// Edits an FAQ entry (a new version; the status stays).
    pub async fn update_faq(&self, b: &BotEditor, id: FaqId, p: FaqPatch) -> Result<Faq> {
        let now = self.now();
        let mut tx = self.db.write(b.workspace).await?;
        let before =
            db::knowledge::faq_get(&mut tx, b.workspace, id).await?.or_not_found("FAQ entry")?;
        let content = p.apply(&before.content).parse()?;
        if content == before.content {
            return Ok(before);
        }
        let f = Faq {
            content,
            version: before.version + 1,
            updated_at: now,
            updated_by: b.actor,
            ..before.clone()
        };
        db::knowledge::faq_update(&mut tx, &f).await?;
        self.record_faq(&mut tx, &f, Some(&before), KbAction::Edit, b.actor, now).await?;
        self.commit(tx).await?;
        self.index_after_commit(b.workspace, Some(faq_doc(&f)), None).await;
        Ok(f)
    }

    /// Publishes or unpublishes an entry (a new version unless nothing changes).
    pub async fn publish_faq(&self, b: &BotEditor, id: FaqId, publish: bool) -> Result<Faq> {
        let now = self.now();
        let mut tx = self.db.write(b.workspace).await?;
        let before =
            db::knowledge::faq_get(&mut tx, b.workspace, id).await?.or_not_found("FAQ entry")?;
        if before.status == status_of(publish) {
            return Ok(before);
        }
        let f = Faq {
            status: status_of(publish),
            version: before.version + 1,
            updated_at: now,
            updated_by: b.actor,
            ..before.clone()
        };
        db::knowledge::faq_update(&mut tx, &f).await?;
        let action = if publish { KbAction::Publish } else { KbAction::Unpublish };
        self.record_faq(&mut tx, &f, Some(&before), action, b.actor, now).await?;
        self.commit(tx).await?;
        self.index_after_commit(b.workspace, Some(faq_doc(&f)), None).await;
        Ok(f)
    }

    /// Deletes an entry; its history stays readable.
    pub async fn delete_faq(&self, b: &BotEditor, id: FaqId) -> Result<()> {
        let now = self.now();
        let mut tx = self.db.write(b.workspace).await?;
        let before =
            db::knowledge::faq_get(&mut tx, b.workspace, id).await?.or_not_found("FAQ entry")?;
        db::knowledge::faq_delete(&mut tx, b.workspace, id).await?;
        let f = Faq { version: before.version + 1, ..before.clone() };
        self.record_faq(&mut tx, &f, Some(&before), KbAction::Delete, b.actor, now).await?;
        self.commit(tx).await?;
        self.index_after_commit(b.workspace, None, Some((id.to_string(), f.version))).await;
        Ok(())
    }

    /// Every version of an entry, newest first (also after it was deleted).
    pub async fn faq_versions(&self, s: &Staff, id: FaqId) -> Result<Vec<KbVersion>> {
        let mut c = self.db.read().await?;
        let v = db::knowledge::versions_of(&mut c, s.workspace, &id.to_string()).await?;
        if v.is_empty() || !matches!(v[0].content, KbContent::Faq(_)) {
            return Err(Error::NotFound("FAQ entry"));
        }
        Ok(v)
    }

    /// Stores checked import rows in one transaction: a row whose question (in the same
    /// language) exists updates that entry, others create entries. Returns (created, updated).
    pub(crate) async fn store_import(
        &self,
        b: &BotEditor,
        rows: Vec<domain::knowledge::ImportRow>,
    ) -> Result<(usize, usize)> {
        let now = self.now();
        let mut tx = self.db.write(b.workspace).await?;
        let existing = db::knowledge::faq_list(&mut tx, b.workspace).await?;
        let by_question: HashMap<(String, KbLang), Faq> = existing
            .into_iter()
            .map(|f| ((f.content.question.clone(), f.content.lang), f))
            .collect();
        let (mut created, mut updated) = (0, 0);
        let mut docs = Vec::with_capacity(rows.len());
        for r in rows {
            let key = (r.content.question.clone(), r.content.lang);
            let f = match by_question.get(&key) {
                Some(before) => {
                    if before.content == r.content && before.status == r.status {
                        continue;
                    }
                    let f = Faq {
                        content: r.content,
                        status: r.status,
                        version: before.version + 1,
                        updated_at: now,
                        updated_by: b.actor,
                        ..before.clone()
                    };
                    db::knowledge::faq_update(&mut tx, &f).await?;
                    self.record_faq(&mut tx, &f, Some(before), KbAction::Import, b.actor, now)
                        .await?;
                    updated += 1;
                    f
                }
                None => {
                    let f = Faq {
                        id: self.ids.next(now, FaqId::new),
                        workspace: b.workspace,
                        content: r.content,
                        status: r.status,
                        version: 1,
                        created_at: now,
                        created_by: b.actor,
                        updated_at: now,
                        updated_by: b.actor,
                    };
                    db::knowledge::faq_insert(&mut tx, &f).await?;
                    self.record_faq(&mut tx, &f, None, KbAction::Import, b.actor, now).await?;
                    created += 1;
                    f
                }
            };
            docs.push(faq_doc(&f));
        }
        self.commit(tx).await?;
        for d in docs {
            self.index_after_commit(b.workspace, Some(d), None).await;
        }
        Ok((created, updated))
    }

    // ---- Articles ---------------------------------------------------------------------------

    pub async fn list_articles(&self, s: &Staff, status: Option<KbStatus>) -> Result<Vec<Article>> {
        let mut c = self.db.read().await?;
        let mut all = db::knowledge::article_list(&mut c, s.workspace).await?;
        if let Some(st) = status {
            all.retain(|a| a.status == st);
        }
        Ok(all)
    }

    pub async fn get_article(&self, s: &Staff, id: ArticleId) -> Result<Article> {
        let mut c = self.db.read().await?;
        db::knowledge::article_get(&mut c, s.workspace, id).await?.or_not_found("article")
    }

    async fn record_article(
        &self,
        tx: &mut db::WriteTx,
        a: &Article,
        before: Option<&Article>,
        action: KbAction,
        actor: Actor,
        now: Timestamp,
    ) -> Result<()> {
        let v = KbVersion {
            version: a.version,
            action,
            status: a.status,
            content: KbContent::Article(a.content.clone()),
            actor,
            at: now,
        };
        db::knowledge::version_insert(tx, a.workspace, &a.id.to_string(), &v).await?;
        let after = (action != KbAction::Delete).then(|| article_snapshot(a));
        tx.audit(
            now,
            actor,
            &format!("kb_article.{}", action.as_str()),
            "kb_article",
            &a.id.to_string(),
            before.map(article_snapshot).as_ref(),
            after.as_ref(),
        )
        .await?;
        tx.emit(
            now,
            actor,
            Event::ArticleChanged { article: a.id, version: a.version },
            Audience::staff_only(),
        )
        .await?;
        Ok(())
    }

    pub async fn create_article(
        &self,
        b: &BotEditor,
        content: ArticleContent,
        publish: bool,
    ) -> Result<Article> {
        let content = content.parse()?;
        let now = self.now();
        let mut tx = self.db.write(b.workspace).await?;
        let a = Article {
            id: self.ids.next(now, ArticleId::new),
            workspace: b.workspace,
            content,
            status: status_of(publish),
            version: 1,
            created_at: now,
            created_by: b.actor,
            updated_at: now,
            updated_by: b.actor,
        };
        db::knowledge::article_insert(&mut tx, &a).await?;
        self.record_article(&mut tx, &a, None, KbAction::Create, b.actor, now).await?;
        self.commit(tx).await?;
        self.index_after_commit(b.workspace, Some(article_doc(&a)), None).await;
        Ok(a)
    }

    pub async fn update_article(
        &self,
        b: &BotEditor,
        id: ArticleId,
        p: ArticlePatch,
    ) -> Result<Article> {
        let now = self.now();
        let mut tx = self.db.write(b.workspace).await?;
        let before =
            db::knowledge::article_get(&mut tx, b.workspace, id).await?.or_not_found("article")?;
        let c = before.content.clone();
        let content = ArticleContent {
            title: p.title.unwrap_or(c.title),
            body: p.body.unwrap_or(c.body),
            category: p.category.unwrap_or(c.category),
            tags: p.tags.unwrap_or(c.tags),
            lang: p.lang.unwrap_or(c.lang),
        }
        .parse()?;
        if content == before.content {
            return Ok(before);
        }
        let a = Article {
            content,
            version: before.version + 1,
            updated_at: now,
            updated_by: b.actor,
            ..before.clone()
        };
        db::knowledge::article_update(&mut tx, &a).await?;
        self.record_article(&mut tx, &a, Some(&before), KbAction::Edit, b.actor, now).await?;
        self.commit(tx).await?;
        self.index_after_commit(b.workspace, Some(article_doc(&a)), None).await;
        Ok(a)
    }

    pub async fn publish_article(
        &self,
        b: &BotEditor,
        id: ArticleId,
        publish: bool,
    ) -> Result<Article> {
        let now = self.now();
        let mut tx = self.db.write(b.workspace).await?;
        let before =
            db::knowledge::article_get(&mut tx, b.workspace, id).await?.or_not_found("article")?;
        if before.status == status_of(publish) {
            return Ok(before);
        }
        let a = Article {
            status: status_of(publish),
            version: before.version + 1,
            updated_at: now,
            updated_by: b.actor,
            ..before.clone()
        };
        db::knowledge::article_update(&mut tx, &a).await?;
        let action = if publish { KbAction::Publish } else { KbAction::Unpublish };
        self.record_article(&mut tx, &a, Some(&before), action, b.actor, now).await?;
        self.commit(tx).await?;
        self.index_after_commit(b.workspace, Some(article_doc(&a)), None).await;
        Ok(a)
    }

    pub async fn delete_article(&self, b: &BotEditor, id: ArticleId) -> Result<()> {
        let now = self.now();
        let mut tx = self.db.write(b.workspace).await?;
        let before =
            db::knowledge::article_get(&mut tx, b.workspace, id).await?.or_not_found("article")?;
        db::knowledge::article_delete(&mut tx, b.workspace, id).await?;
        let a = Article { version: before.version + 1, ..before.clone() };
        self.record_article(&mut tx, &a, Some(&before), KbAction::Delete, b.actor, now).await?;
        self.commit(tx).await?;
        let doc = article_doc(&a);
        self.index_after_commit(b.workspace, None, Some((doc.id, a.version))).await;
        Ok(())
    }

    pub async fn article_versions(&self, s: &Staff, id: ArticleId) -> Result<Vec<KbVersion>> {
        let mut c = self.db.read().await?;
        let v = db::knowledge::versions_of(&mut c, s.workspace, &id.to_string()).await?;
        if v.is_empty() || !matches!(v[0].content, KbContent::Article(_)) {
            return Err(Error::NotFound("article"));
        }
        Ok(v)
    }

    // ---- Search -----------------------------------------------------------------------------

    /// Full-text search for staff, with highlights; drafts only when asked.
    pub async fn search_kb(&self, s: &Staff, q: &SearchQuery) -> Result<Vec<Hit>> {
        let text = q.q.trim();
        if text.is_empty() || text.chars().count() > 500 {
            return Err(ParseError::new("q", "1 to 500 characters").into());
        }
        let kb = self.kb(s.workspace).await?;
        let opts = SearchOpts {
            published_only: !q.include_drafts,
            kind: q.kind,
            lang: q.lang.map(|l| l.as_str().to_owned()),
            limit: q.limit.clamp(1, 50),
        };
        Ok(kb.index.search(text, &opts)?)
    }
}

fn poisoned() -> Error {
    Error::Internal(anyhow::anyhow!("the knowledge-base cache lock is poisoned"))
}
