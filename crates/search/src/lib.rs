//! Knowledge-base search, kept out of the pure crates because tantivy does IO and threads.
//!
//! [`KbIndex`] is one workspace's full-text index (tantivy in memory, jieba + lower-casing so
//! Chinese and English both tokenise), derived from the database: the service fills it from
//! the stored entries and upserts an entry right after the commit that changed it. Versions
//! guard against out-of-order updates. [`matching`] scores a customer's message against FAQ
//! questions and variants (BM25 from the index blended with a character n-gram cosine) and
//! picks thresholds from held-out variants. [`TicketIndex`] ([`similar`]) is the same kind of
//! derived index over a workspace's solved tickets, for "similar solved tickets" in agent
//! assist.

pub mod index;
pub mod matching;
pub mod similar;

pub use crate::{
    index::{Doc, DocKind, Hit, KbIndex, SearchOpts},
    matching::{MatchConfig, Matcher, Scored},
    similar::{SimilarHit, SolvedTicket, TicketIndex},
};
