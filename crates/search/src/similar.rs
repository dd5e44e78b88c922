//! One workspace's index of solved tickets, for "similar solved tickets" in agent assist.
//!
//! A document is a solved or closed ticket: the customer's problem (subject and first
//! messages) and the resolution (the last public agent reply before solving). A customer's
//! message retrieves candidates by BM25 over the subject (boosted), the problem and, weakly,
//! the resolution, all tokenised by jieba and lower-cased like the knowledge-base index.
//! Candidates are then scored by **coverage**: the share of the message's information
//! (the IDF of its distinct content words, over the indexed problems) that the candidate's
//! subject and problem contain (with partial credit for differently cut Chinese words and
//! English words sharing a stem, see `credit`). Coverage is in [0, 1] and comparable across messages and
//! index sizes, so one threshold keeps unrelated tickets out: sharing only common words
//! (low IDF) or one word of a long message scores low. Function words and pure numbers
//! (order numbers differ between customers) do not count.

use std::{
    collections::HashSet,
    sync::{Mutex, MutexGuard},
};

use anyhow::{Context as _, Result, anyhow};
use tantivy::{
    Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term,
    collector::TopDocs,
    query::{BooleanQuery, BoostQuery, Occur, Query, TermQuery},
    schema::{
        Field, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions, Value,
    },
    tokenizer::{LowerCaser, TextAnalyzer},
};

/// A solved ticket as the index sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct SolvedTicket {
    pub id: String,
    /// The display number, e.g. `HT-1024`.
    pub number: String,
    pub subject: String,
    /// The customer's first messages, one per line.
    pub problem: String,
    /// The last public agent reply before solving, with `{{…}}` variables where the solved
    /// ticket's own customer values were.
    pub resolution: String,
    pub problem_code: Option<String>,
    /// Unix milliseconds.
    pub solved_at: Option<i64>,
}

/// One similar ticket, best first.
#[derive(Debug, Clone, PartialEq)]
pub struct SimilarHit {
    pub ticket: SolvedTicket,
    /// Coverage of the message by the ticket's problem, in [0, 1].
    pub similarity: f32,
}

/// The similarity below which a solved ticket is not shown: a ticket must share about half of
/// what the message says. Checked by the tests beside this and the API tests (related tickets
/// score 0.6–1, unrelated ones under 0.3).
pub const MIN_SIMILARITY: f32 = 0.45;

const TOKENIZER: &str = "similar_jieba";

/// Words that carry no topic (Chinese particles and pronouns, English function words).
const STOP: &[&str] = &[
    "我",
    "你",
    "您",
    "他",
    "她",
    "我们",
    "你们",
    "的",
    "了",
    "吗",
    "呢",
    "吧",
    "啊",
    "呀",
    "是",
    "在",
    "有",
    "和",
    "就",
    "也",
    "都",
    "还",
    "又",
    "把",
    "被",
    "给",
    "个",
    "这",
    "那",
    "这个",
    "那个",
    "一个",
    "什么",
    "怎么",
    "怎么办",
    "为什么",
    "请问",
    "你好",
    "您好",
    "麻烦",
    "谢谢",
    "一下",
    "可以",
    "能",
    "会",
    "要",
    "想",
    "没",
    "没有",
    "不",
    "到",
    "说",
    "让",
    "a",
    "an",
    "the",
    "i",
    "my",
    "me",
    "you",
    "your",
    "we",
    "our",
    "is",
    "are",
    "was",
    "were",
    "be",
    "been",
    "am",
    "to",
    "of",
    "in",
    "on",
    "for",
    "and",
    "or",
    "it",
    "its",
    "this",
    "that",
    "with",
    "at",
    "by",
    "from",
    "do",
    "does",
    "did",
    "have",
    "has",
    "had",
    "not",
    "no",
    "can",
    "could",
    "would",
    "will",
    "please",
    "hi",
    "hello",
    "thanks",
    "what",
    "how",
    "why",
    "when",
    "where",
    "s",
    "t",
    "so",
    "but",
    "if",
    "there",
    "still",
    "yet",
    "just",
];

fn is_cjk(c: char) -> bool {
    ('\u{4e00}'..='\u{9fff}').contains(&c) || ('\u{3400}'..='\u{4dbf}').contains(&c)
}

/// How much of a message word `w` a ticket's text covers: all of it when the text has the
/// word (or, for Chinese, contains it — jieba may cut the ticket's text differently), half
/// when a Chinese word's characters all occur in it (`开错` and `写错…重新开`), most of it when
/// an English word shares its first five letters with one of the ticket's (`updating` and
/// `updated`).
fn credit(w: &str, have: &HashSet<String>, hay: &str) -> f32 {
    if have.contains(w) {
        return 1.0;
    }
    let chars: Vec<char> = w.chars().collect();
    if chars.iter().all(|c| is_cjk(*c)) {
        if hay.contains(w) {
            return 1.0;
        }
        if chars.len() >= 2 && chars.iter().all(|c| hay.contains(*c)) {
            return 0.5;
        }
        return 0.0;
    }
    if chars.len() >= 5 {
        let stem: String = chars[..5].iter().collect();
        if have.iter().any(|h| h.chars().count() >= 5 && h.starts_with(&stem)) {
            return 0.8;
        }
    }
    0.0
}

#[derive(Clone, Copy)]
struct Fields {
    id: Field,
    number: Field,
    code: Field,
    solved_at: Field,
    subject: Field,
    problem: Field,
    resolution: Field,
}

/// One workspace's solved tickets, in memory. Searches run from many threads; writes are
/// serialised.
pub struct TicketIndex {
    reader: IndexReader,
    fields: Fields,
    analyzer: TextAnalyzer,
    writer: Mutex<IndexWriter>,
}

impl std::fmt::Debug for TicketIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TicketIndex").finish_non_exhaustive()
    }
}

fn analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(tantivy_jieba::JiebaTokenizer::default()).filter(LowerCaser).build()
}

impl TicketIndex {
    /// An empty index.
    pub fn new() -> Result<TicketIndex> {
        let mut sb = Schema::builder();
        let text = TextOptions::default()
            .set_indexing_options(
                TextFieldIndexing::default()
                    .set_tokenizer(TOKENIZER)
                    .set_index_option(IndexRecordOption::WithFreqs),
            )
            .set_stored();
        let fields = Fields {
            id: sb.add_text_field("id", STRING | STORED),
            number: sb.add_text_field("number", STORED),
            code: sb.add_text_field("code", STORED),
            solved_at: sb.add_i64_field("solved_at", STORED),
            subject: sb.add_text_field("subject", text.clone()),
            problem: sb.add_text_field("problem", text.clone()),
            resolution: sb.add_text_field("resolution", text),
        };
        let index = Index::create_in_ram(sb.build());
        index.tokenizers().register(TOKENIZER, analyzer());
        let writer: IndexWriter = index
            .writer_with_num_threads(1, 15_000_000)
            .context("opening the ticket index writer")?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .context("opening the ticket index reader")?;
        Ok(TicketIndex { reader, fields, analyzer: analyzer(), writer: Mutex::new(writer) })
    }

    fn lock(&self) -> Result<MutexGuard<'_, IndexWriter>> {
        self.writer.lock().map_err(|_| anyhow!("the ticket index writer lock is poisoned"))
    }

    fn document(&self, t: &SolvedTicket) -> TantivyDocument {
        let f = self.fields;
        let mut doc = TantivyDocument::default();
        doc.add_text(f.id, &t.id);
        doc.add_text(f.number, &t.number);
        doc.add_text(f.code, t.problem_code.as_deref().unwrap_or_default());
        doc.add_i64(f.solved_at, t.solved_at.unwrap_or_default());
        doc.add_text(f.subject, &t.subject);
        doc.add_text(f.problem, &t.problem);
        doc.add_text(f.resolution, &t.resolution);
        doc
    }

    /// Adds or replaces `upserts` and removes `removed` (ticket ids), then makes the result
    /// searchable, in one commit.
    pub fn apply(&self, upserts: &[SolvedTicket], removed: &[String]) -> Result<()> {
        if upserts.is_empty() && removed.is_empty() {
            return Ok(());
        }
        let mut w = self.lock()?;
        for id in removed {
            w.delete_term(Term::from_field_text(self.fields.id, id));
        }
        for t in upserts {
            w.delete_term(Term::from_field_text(self.fields.id, &t.id));
            w.add_document(self.document(t)).context("indexing a ticket")?;
        }
        w.commit().context("committing the ticket index")?;
        self.reader.reload().context("reloading the ticket index reader")?;
        Ok(())
    }

    /// Empties the index.
    pub fn clear(&self) -> Result<()> {
        let mut w = self.lock()?;
        w.delete_all_documents().context("clearing the ticket index")?;
        w.commit().context("committing the ticket index")?;
        self.reader.reload().context("reloading the ticket index reader")?;
        Ok(())
    }

    /// The distinct content words of `text`: jieba words, lower-cased, without punctuation,
    /// function words and pure numbers.
    pub fn content_words(&self, text: &str) -> Vec<String> {
        let mut a = self.analyzer.clone();
        let mut ts = a.token_stream(text);
        let mut out: Vec<String> = Vec::new();
        while ts.advance() {
            let t = &ts.token().text;
            if t.chars().any(char::is_alphabetic) && !STOP.contains(&t.as_str()) && !out.contains(t)
            {
                out.push(t.clone());
            }
        }
        out
    }

    /// Solved tickets whose problem covers at least `min` of `text`, best first, at most
    /// `limit`, leaving out the tickets in `exclude`.
    pub fn similar(
        &self,
        text: &str,
        exclude: &[String],
        limit: usize,
        min: f32,
    ) -> Result<Vec<SimilarHit>> {
        let words = self.content_words(text);
        if words.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let f = self.fields;
        let searcher = self.reader.searcher();
        let n = searcher.num_docs() as f32;
        if n == 0.0 {
            return Ok(Vec::new());
        }
        // BM25's IDF over the problems (subjects count too: a word in either is the topic).
        let mut idf = Vec::with_capacity(words.len());
        for w in &words {
            let df = searcher
                .doc_freq(&Term::from_field_text(f.problem, w))
                .context("reading a document frequency")?
                .max(searcher.doc_freq(&Term::from_field_text(f.subject, w))?)
                as f32;
            idf.push((1.0 + (n - df + 0.5) / (df + 0.5)).ln());
        }
        let total: f32 = idf.iter().sum();
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for w in &words {
            for (field, boost) in [(f.subject, 1.5), (f.problem, 1.0), (f.resolution, 0.3)] {
                let q =
                    TermQuery::new(Term::from_field_text(field, w), IndexRecordOption::WithFreqs);
                clauses.push((Occur::Should, Box::new(BoostQuery::new(Box::new(q), boost))));
            }
        }
        let query = BooleanQuery::new(clauses);
        let top = searcher
            .search(&query, &TopDocs::with_limit(limit * 8 + exclude.len()).order_by_score())
            .context("searching the ticket index")?;
        let mut out: Vec<SimilarHit> = Vec::new();
        for (_, addr) in top {
            let doc: TantivyDocument = searcher.doc(addr).context("reading a hit")?;
            let text_of = |field: Field| {
                doc.get_first(field).and_then(|v| v.as_str()).unwrap_or_default().to_owned()
            };
            let int_of = |field: Field| doc.get_first(field).and_then(|v| v.as_i64());
            let id = text_of(f.id);
            if exclude.contains(&id) {
                continue;
            }
            let subject = text_of(f.subject);
            let problem = text_of(f.problem);
            let hay = format!("{subject}\n{problem}").to_lowercase();
            let have: HashSet<String> = self.content_words(&hay).into_iter().collect();
            let covered: f32 =
                words.iter().zip(&idf).map(|(w, i)| i * credit(w, &have, &hay)).sum();
            let similarity = if total > 0.0 { covered / total } else { 0.0 };
            if similarity < min {
                continue;
            }
            let code = text_of(f.code);
            out.push(SimilarHit {
                ticket: SolvedTicket {
                    id,
                    number: text_of(f.number),
                    subject,
                    problem,
                    resolution: text_of(f.resolution),
                    problem_code: (!code.is_empty()).then_some(code),
                    solved_at: int_of(f.solved_at).filter(|t| *t != 0),
                },
                similarity,
            });
        }
        // Most similar first; among equals the most recently solved (the freshest answer).
        out.sort_by(|a, b| {
            b.similarity
                .total_cmp(&a.similarity)
                .then_with(|| b.ticket.solved_at.cmp(&a.ticket.solved_at))
        });
        out.truncate(limit);
        Ok(out)
    }

    /// How many tickets the index holds.
    pub fn len(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(id: &str, subject: &str, problem: &str, resolution: &str) -> SolvedTicket {
        SolvedTicket {
            id: id.into(),
            number: format!("T-{}", id.len()),
            subject: subject.into(),
            problem: problem.into(),
            resolution: resolution.into(),
            problem_code: Some("TD-01".into()),
            solved_at: Some(1_000),
        }
    }

    fn corpus() -> TicketIndex {
        let ix = TicketIndex::new().unwrap();
        ix.apply(
            &[
                t(
                    "refund",
                    "退款未到账（订单A1001）",
                    "我三天前申请了退货退款，到现在钱还没退回来。",
                    "财务已重新为您发起退款，预计1–3个工作日原路到账。",
                ),
                t(
                    "ac",
                    "空调不制冷",
                    "空调装好以后一直不制冷，吹的是热风。",
                    "师傅明天上门检查冷媒。",
                ),
                t(
                    "invoice",
                    "发票抬头错误",
                    "发票抬头写错了，能不能重新开一张？",
                    "已为您作废原发票并重开。",
                ),
                t(
                    "pkg",
                    "Package not delivered",
                    "My package has not arrived, tracking stopped updating a week ago.",
                    "We asked the carrier to locate your package; it will arrive tomorrow.",
                ),
                t(
                    "pw",
                    "Cannot log in",
                    "I forgot my password and the reset email never comes.",
                    "We sent a new reset link to your address.",
                ),
            ],
            &[],
        )
        .unwrap();
        ix
    }

    #[test]
    fn related_found_unrelated_not() {
        let ix = corpus();
        let hits = ix.similar("我的退款怎么还没到账", &[], 3, MIN_SIMILARITY).unwrap();
        assert_eq!(hits.first().map(|h| h.ticket.id.as_str()), Some("refund"), "{hits:?}");
        assert!(hits.iter().all(|h| h.ticket.id == "refund"), "{hits:?}");
        assert!(hits[0].similarity >= 0.6, "{hits:?}");
        let hits = ix
            .similar("where is my package? tracking has not updated", &[], 3, MIN_SIMILARITY)
            .unwrap();
        assert_eq!(hits.first().map(|h| h.ticket.id.as_str()), Some("pkg"), "{hits:?}");
        assert!(hits.iter().all(|h| h.ticket.id == "pkg"), "{hits:?}");
        let hits = ix.similar("发票抬头开错了，可以重开吗", &[], 3, MIN_SIMILARITY).unwrap();
        assert_eq!(hits.first().map(|h| h.ticket.id.as_str()), Some("invoice"), "{hits:?}");
        for unrelated in
            ["我想修改收货地址", "你们周末上班吗", "Do you ship to Canada?", "谢谢你们"]
        {
            let hits = ix.similar(unrelated, &[], 3, MIN_SIMILARITY).unwrap();
            assert!(hits.is_empty(), "{unrelated}: {hits:?}");
        }
        // Leaving out the current ticket, and removals.
        assert!(
            ix.similar("退款还没到账", &["refund".into()], 3, MIN_SIMILARITY).unwrap().is_empty()
        );
        ix.apply(&[], &["refund".into()]).unwrap();
        assert!(ix.similar("退款还没到账", &[], 3, MIN_SIMILARITY).unwrap().is_empty());
        assert_eq!(ix.len(), 4);
        ix.clear().unwrap();
        assert!(ix.is_empty());
    }

    #[test]
    fn numbers_and_function_words_do_not_count() {
        let ix = corpus();
        assert!(ix.content_words("我的订单A1001，12345").iter().all(|w| w != "12345" && w != "我"));
        assert!(ix.similar("12345 的 了 吗", &[], 3, 0.0).unwrap().is_empty());
    }
}
