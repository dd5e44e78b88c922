//! One workspace's full-text index of FAQ entries and articles.
//!
//! Text fields are tokenised by jieba (Chinese words; Latin words pass through whole) and
//! lower-cased. A query is tokenised the same way and becomes a disjunction of term queries
//! over the question (boosted), the variants, the answer or body and the category and tags,
//! with status, kind and language as score-free filters, so `怎么退货` finds `如何办理退货`
//! through the shared word 退货 instead of needing the phrase. Highlights come from tantivy's
//! `SnippetGenerator` (HTML-escaped, matches in `<b>`).

use std::{
    collections::HashMap,
    sync::{Mutex, MutexGuard},
};

use anyhow::{Context as _, Result, anyhow};
use tantivy::{
    Index, IndexReader, IndexWriter, ReloadPolicy, Score, TantivyDocument, Term,
    collector::TopDocs,
    query::{BooleanQuery, BoostQuery, ConstScoreQuery, Occur, Query, TermQuery},
    schema::{
        Field, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions, Value,
    },
    snippet::SnippetGenerator,
    tokenizer::{LowerCaser, TextAnalyzer},
};

/// What an indexed document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocKind {
    Faq,
    Article,
}

impl DocKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DocKind::Faq => "faq",
            DocKind::Article => "article",
        }
    }
}

/// An FAQ entry or article as the index sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Doc {
    pub id: String,
    pub kind: DocKind,
    /// The item's version; an upsert older than what the index holds is ignored.
    pub version: i64,
    /// The canonical question, or the article's title.
    pub title: String,
    pub variants: Vec<String>,
    /// The answer, or the article's body.
    pub body: String,
    pub category: String,
    pub tags: Vec<String>,
    /// `zh` or `en`.
    pub lang: String,
    pub published: bool,
}

/// Which documents a search may return.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchOpts {
    pub published_only: bool,
    pub kind: Option<DocKind>,
    pub lang: Option<String>,
    pub limit: usize,
}

/// One result, best first.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub id: String,
    pub kind: DocKind,
    /// BM25.
    pub score: f32,
    /// The title with the query's words in `<b>`, HTML-escaped.
    pub title_html: String,
    /// The best fragment of the variants or the body, highlighted the same way.
    pub snippet_html: String,
}

const TOKENIZER: &str = "kb_jieba";

#[derive(Clone, Copy)]
struct Fields {
    id: Field,
    kind: Field,
    status: Field,
    lang: Field,
    title: Field,
    variants: Field,
    body: Field,
    meta: Field,
}

struct Writer {
    writer: IndexWriter,
    /// The newest version applied per item (deletions included), so a late upsert of an
    /// older version cannot overwrite a newer one.
    versions: HashMap<String, i64>,
}

/// One workspace's index, in memory. Cheap to search from many threads; writes are serialised.
pub struct KbIndex {
    index: Index,
    reader: IndexReader,
    fields: Fields,
    analyzer: TextAnalyzer,
    writer: Mutex<Writer>,
}

impl std::fmt::Debug for KbIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KbIndex").finish_non_exhaustive()
    }
}

fn analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(tantivy_jieba::JiebaTokenizer::default()).filter(LowerCaser).build()
}

impl KbIndex {
    /// An empty index.
    pub fn new() -> Result<KbIndex> {
        let mut sb = Schema::builder();
        let text = TextOptions::default()
            .set_indexing_options(
                TextFieldIndexing::default()
                    .set_tokenizer(TOKENIZER)
                    .set_index_option(IndexRecordOption::WithFreqsAndPositions),
            )
            .set_stored();
        let fields = Fields {
            id: sb.add_text_field("id", STRING | STORED),
            kind: sb.add_text_field("kind", STRING | STORED),
            status: sb.add_text_field("status", STRING),
            lang: sb.add_text_field("lang", STRING),
            title: sb.add_text_field("title", text.clone()),
            variants: sb.add_text_field("variants", text.clone()),
            body: sb.add_text_field("body", text.clone()),
            meta: sb.add_text_field("meta", text),
        };
        let index = Index::create_in_ram(sb.build());
        index.tokenizers().register(TOKENIZER, analyzer());
        // One indexing thread with tantivy's smallest arena: entries are small and few.
        let writer: IndexWriter =
            index.writer_with_num_threads(1, 15_000_000).context("opening the index writer")?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .context("opening the index reader")?;
        Ok(KbIndex {
            index,
            reader,
            fields,
            analyzer: analyzer(),
            writer: Mutex::new(Writer { writer, versions: HashMap::new() }),
        })
    }

    fn lock(&self) -> Result<MutexGuard<'_, Writer>> {
        self.writer.lock().map_err(|_| anyhow!("the index writer lock is poisoned"))
    }

    fn document(&self, d: &Doc) -> TantivyDocument {
        let f = self.fields;
        let mut doc = TantivyDocument::default();
        doc.add_text(f.id, &d.id);
        doc.add_text(f.kind, d.kind.as_str());
        doc.add_text(f.status, if d.published { "published" } else { "draft" });
        doc.add_text(f.lang, &d.lang);
        doc.add_text(f.title, &d.title);
        doc.add_text(f.variants, d.variants.join("\n"));
        doc.add_text(f.body, &d.body);
        doc.add_text(f.meta, format!("{} {}", d.category, d.tags.join(" ")));
        doc
    }

    fn commit(&self, w: &mut Writer) -> Result<()> {
        w.writer.commit().context("committing the index")?;
        self.reader.reload().context("reloading the index reader")?;
        Ok(())
    }

    /// Replaces the whole content with `docs`.
    pub fn rebuild(&self, docs: &[Doc]) -> Result<()> {
        let mut w = self.lock()?;
        w.writer.delete_all_documents().context("clearing the index")?;
        w.versions.clear();
        for d in docs {
            w.writer.add_document(self.document(d)).context("indexing a document")?;
            w.versions.insert(d.id.clone(), d.version);
        }
        self.commit(&mut w)
    }

    /// Adds or replaces one document and makes it searchable; false (and nothing changes) if
    /// the index already holds this or a newer version.
    pub fn upsert(&self, d: &Doc) -> Result<bool> {
        let mut w = self.lock()?;
        if w.versions.get(&d.id).is_some_and(|v| *v >= d.version) {
            return Ok(false);
        }
        w.writer.delete_term(Term::from_field_text(self.fields.id, &d.id));
        w.writer.add_document(self.document(d)).context("indexing a document")?;
        w.versions.insert(d.id.clone(), d.version);
        self.commit(&mut w)?;
        Ok(true)
    }

    /// Removes a document deleted at `version`.
    pub fn remove(&self, id: &str, version: i64) -> Result<()> {
        let mut w = self.lock()?;
        if w.versions.get(id).is_some_and(|v| *v >= version) {
            return Ok(());
        }
        w.writer.delete_term(Term::from_field_text(self.fields.id, id));
        w.versions.insert(id.to_owned(), version);
        self.commit(&mut w)
    }

    /// The distinct searchable tokens of `text` (jieba words, lower-cased; punctuation and
    /// white space dropped).
    pub fn tokens(&self, text: &str) -> Vec<String> {
        let mut a = self.analyzer.clone();
        let mut ts = a.token_stream(text);
        let mut out: Vec<String> = Vec::new();
        while ts.advance() {
            let t = &ts.token().text;
            if t.chars().any(char::is_alphanumeric) && !out.contains(t) {
                out.push(t.clone());
            }
        }
        out
    }

    fn query(&self, tokens: &[String], fields: &[(Field, f32)], o: &SearchOpts) -> Box<dyn Query> {
        let f = self.fields;
        let mut text: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for t in tokens {
            for (field, boost) in fields {
                let q = TermQuery::new(
                    Term::from_field_text(*field, t),
                    IndexRecordOption::WithFreqsAndPositions,
                );
                text.push((Occur::Should, Box::new(BoostQuery::new(Box::new(q), *boost))));
            }
        }
        let filter = |field: Field, v: &str| -> (Occur, Box<dyn Query>) {
            let q = TermQuery::new(Term::from_field_text(field, v), IndexRecordOption::Basic);
            (Occur::Must, Box::new(ConstScoreQuery::new(Box::new(q), 0.0)))
        };
        let mut all: Vec<(Occur, Box<dyn Query>)> =
            vec![(Occur::Must, Box::new(BooleanQuery::new(text)))];
        if o.published_only {
            all.push(filter(f.status, "published"));
        }
        if let Some(k) = o.kind {
            all.push(filter(f.kind, k.as_str()));
        }
        if let Some(l) = &o.lang {
            all.push(filter(f.lang, l));
        }
        Box::new(BooleanQuery::new(all))
    }

    /// Full-text search over everything, with highlights.
    pub fn search(&self, q: &str, o: &SearchOpts) -> Result<Vec<Hit>> {
        let tokens = self.tokens(q);
        if tokens.is_empty() || o.limit == 0 {
            return Ok(Vec::new());
        }
        let f = self.fields;
        let fields = [(f.title, 2.0), (f.variants, 1.5), (f.body, 1.0), (f.meta, 0.5)];
        let query = self.query(&tokens, &fields, o);
        let searcher = self.reader.searcher();
        let top = searcher
            .search(&*query, &TopDocs::with_limit(o.limit).order_by_score())
            .context("searching the index")?;
        let mut title_gen = SnippetGenerator::create(&searcher, &*query, f.title)?;
        title_gen.set_max_num_chars(400);
        let mut variants_gen = SnippetGenerator::create(&searcher, &*query, f.variants)?;
        variants_gen.set_max_num_chars(120);
        let mut body_gen = SnippetGenerator::create(&searcher, &*query, f.body)?;
        body_gen.set_max_num_chars(160);
        let mut out = Vec::with_capacity(top.len());
        for (score, addr) in top {
            let doc: TantivyDocument = searcher.doc(addr).context("reading a hit")?;
            let text = |field: Field| {
                doc.get_first(field).and_then(|v| v.as_str()).unwrap_or_default().to_owned()
            };
            let kind = if text(f.kind) == "article" { DocKind::Article } else { DocKind::Faq };
            let title = title_gen.snippet_from_doc(&doc);
            let title_html =
                if title.fragment().is_empty() { escape(&text(f.title)) } else { title.to_html() };
            let body = body_gen.snippet_from_doc(&doc);
            let variants = variants_gen.snippet_from_doc(&doc);
            let snippet_html =
                if !body.highlighted().is_empty() || variants.highlighted().is_empty() {
                    if body.fragment().is_empty() {
                        escape(&text(f.body).chars().take(160).collect::<String>())
                    } else {
                        body.to_html()
                    }
                } else {
                    variants.to_html()
                };
            out.push(Hit { id: text(f.id), kind, score, title_html, snippet_html });
        }
        Ok(out)
    }

    /// BM25 of FAQ entries whose question or variants share words with `q`, best first:
    /// retrieval for the matcher.
    pub fn question_scores(
        &self,
        q: &str,
        published_only: bool,
        limit: usize,
    ) -> Result<Vec<(String, Score)>> {
        let tokens = self.tokens(q);
        if tokens.is_empty() {
            return Ok(Vec::new());
        }
        let f = self.fields;
        let o = SearchOpts { published_only, kind: Some(DocKind::Faq), lang: None, limit };
        let query = self.query(&tokens, &[(f.title, 1.0), (f.variants, 1.0)], &o);
        let searcher = self.reader.searcher();
        let top = searcher
            .search(&*query, &TopDocs::with_limit(limit).order_by_score())
            .context("searching the index")?;
        let mut out = Vec::with_capacity(top.len());
        for (score, addr) in top {
            let doc: TantivyDocument = searcher.doc(addr).context("reading a hit")?;
            let id = doc.get_first(f.id).and_then(|v| v.as_str()).unwrap_or_default();
            out.push((id.to_owned(), score));
        }
        Ok(out)
    }

    /// How many documents the index holds.
    pub fn len(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The index's tokenizer manager, for tests that check tokenisation.
    pub fn index(&self) -> &Index {
        &self.index
    }
}

/// Escapes text for HTML.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(id: &str, title: &str, variants: &[&str], body: &str, published: bool) -> Doc {
        Doc {
            id: id.into(),
            kind: DocKind::Faq,
            version: 1,
            title: title.into(),
            variants: variants.iter().map(|s| s.to_string()).collect(),
            body: body.into(),
            category: "售后".into(),
            tags: vec![],
            lang: "zh".into(),
            published,
        }
    }

    fn opts(published_only: bool) -> SearchOpts {
        SearchOpts { published_only, kind: None, lang: None, limit: 10 }
    }

    #[test]
    fn chinese_and_english_with_highlights() {
        let ix = KbIndex::new().unwrap();
        ix.rebuild(&[
            doc("a", "如何办理退货", &["退货流程是什么"], "签收后七天内可以申请退货。", true),
            doc("b", "发票怎么开", &["开发票"], "在订单详情页申请电子发票。", true),
            doc("c", "How do I reset my Password?", &[], "Use the Forgot password link.", true),
        ])
        .unwrap();
        let hits = ix.search("我想退货", &opts(true)).unwrap();
        assert_eq!(hits[0].id, "a", "{hits:?}");
        assert!(hits[0].title_html.contains("<b>退货</b>"), "{hits:?}");
        assert!(hits[0].snippet_html.contains("<b>退货</b>"), "{hits:?}");
        let hits = ix.search("PASSWORD", &opts(true)).unwrap();
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].id, "c");
        assert!(ix.search("，。！", &opts(true)).unwrap().is_empty());
    }

    #[test]
    fn drafts_filtered_and_versions_guarded() {
        let ix = KbIndex::new().unwrap();
        assert!(ix.upsert(&doc("a", "保修多久", &[], "整机保修一年。", false)).unwrap());
        assert!(ix.search("保修", &opts(true)).unwrap().is_empty());
        assert_eq!(ix.search("保修", &opts(false)).unwrap().len(), 1);
        let mut v2 = doc("a", "保修多久", &[], "整机保修三年。", true);
        v2.version = 2;
        assert!(ix.upsert(&v2).unwrap());
        // A late update of version 1 changes nothing.
        assert!(!ix.upsert(&doc("a", "保修多久", &[], "整机保修一年。", false)).unwrap());
        let hits = ix.search("保修", &opts(true)).unwrap();
        assert_eq!(hits.len(), 1);
        assert!(hits[0].snippet_html.contains("三年"), "{hits:?}");
        ix.remove("a", 3).unwrap();
        assert!(ix.search("保修", &opts(false)).unwrap().is_empty());
        assert!(ix.is_empty());
    }

    #[test]
    fn escapes_markup() {
        let ix = KbIndex::new().unwrap();
        ix.upsert(&doc("x", "<script>退款</script>", &[], "退款 & 退货", true)).unwrap();
        let hits = ix.search("退款", &opts(true)).unwrap();
        assert!(!hits[0].title_html.contains("<script>"), "{hits:?}");
    }
}
