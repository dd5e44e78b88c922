//! Agent assist, ticket half (TK-9): similar solved tickets for the conversation an agent has
//! open, with the reply that solved them as a suggested reply.
//!
//! Every status change into or out of solved/closed enqueues an `IndexSimilarTicket` job in
//! the same transaction. The job reads the ticket as it is then and writes its derived row in
//! `similar_tickets` (`db::similar`): the subject and the customer's first messages, the last
//! public agent reply before solving (the solved ticket's own customer values replaced by
//! `{{customer.name}}`-style variables, so the reply is filled for the next customer), the
//! problem code. A ticket no longer solved or closed, or whose conversation was anonymised
//! (erasure, retention — which tombstone the rows themselves in their transaction), keeps a
//! tombstone without text. Each server holds one in-memory `search::TicketIndex` per
//! workspace, built from the rows on first use, and before every search reads the rows past
//! its cursor (one indexed query), so a reopen or an erasure on any server is reflected on
//! all of them at the next suggestion. `reindex_similar` rebuilds the rows from tickets and
//! messages and the index from the rows.

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex},
};

use anyhow::Context as _;
use domain::{
    Customer, IdentityKind, Job, JobId, Status, Ticket, TicketId, Timestamp, WorkspaceId,
    knowledge::{Rendered, render},
};
use search::{SolvedTicket, TicketIndex, similar::MIN_SIMILARITY};

use crate::{App, Error, Result, auth::BotEditor, bot::assist::Context};

/// One workspace's index and how far it has read the rows: `(rev, ticket id)` of the last
/// row applied.
#[derive(Debug)]
pub(crate) struct WsSimilar {
    index: TicketIndex,
    cursor: tokio::sync::Mutex<(i64, String)>,
}

/// The indexes per workspace, each built on first use.
#[derive(Debug, Default)]
pub(crate) struct SimilarCache {
    indexes: Mutex<HashMap<WorkspaceId, Arc<WsSimilar>>>,
}

/// A solved ticket like the customer's message.
#[derive(Debug, Clone, PartialEq)]
pub struct SimilarTicket {
    pub ticket: TicketId,
    /// The display number, e.g. `HT-1024`.
    pub number: String,
    pub subject: String,
    pub problem_code: Option<String>,
    /// Share of the message's content words the solved ticket's problem contains, 0–1.
    pub similarity: f64,
    pub solved_at: Option<Timestamp>,
    /// The reply that solved it, filled for the current customer and ticket.
    pub reply: Rendered,
}

/// How many similar tickets a suggestion shows.
pub const SIMILAR_TICKETS: usize = 3;

/// Rows read per catch-up query.
const BATCH: i64 = 2_000;

/// Solved or closed: the statuses whose tickets are indexed.
pub(crate) fn is_done(s: Status) -> bool {
    matches!(s, Status::Solved | Status::Closed)
}

fn poisoned() -> Error {
    Error::Internal(anyhow::anyhow!("the similar-tickets cache lock is poisoned"))
}

/// `text` with the solved ticket's customer name, phone, email and ticket number replaced by
/// template variables.
fn templatise(text: &str, customer: Option<&Customer>, t: &Ticket) -> String {
    let mut out = text.replace(&t.number.to_string(), "{{ticket.no}}");
    if let Some(c) = customer {
        for i in &c.identities {
            let var = match i.kind {
                IdentityKind::Phone => "{{customer.phone}}",
                IdentityKind::Email => "{{customer.email}}",
                IdentityKind::External => continue,
            };
            if i.value.chars().count() >= 5 {
                out = out.replace(&i.value, var);
            }
        }
        if c.name.chars().count() >= 2 {
            out = out.replace(&c.name, "{{customer.name}}");
        }
    }
    out
}

fn lang_of(text: &str) -> &'static str {
    if text.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)) { "zh" } else { "en" }
}

fn solved_ticket(r: &db::similar::SimilarRow) -> SolvedTicket {
    SolvedTicket {
        id: r.ticket.to_string(),
        number: r.ticket_no.clone(),
        subject: r.subject.clone(),
        problem: r.problem.clone(),
        resolution: r.resolution.clone(),
        problem_code: r.problem_code.clone(),
        solved_at: r.solved_at.map(Timestamp::millis),
    }
}

impl App {
    /// Enqueues the ticket's re-indexing when a change moves it into or out of solved/closed,
    /// or edits what its row shows while it is solved. Called inside the change's `WriteTx`.
    pub(crate) async fn enqueue_similar_index(
        &self,
        tx: &mut db::WriteTx,
        before: &Ticket,
        after: &Ticket,
        now: Timestamp,
    ) -> Result<()> {
        let moved = is_done(before.status) != is_done(after.status);
        let edited = is_done(after.status)
            && (before.subject != after.subject || before.problem_code != after.problem_code);
        if moved || edited {
            let job = Job::IndexSimilarTicket { ticket: after.id };
            tx.enqueue(self.ids.next(now, JobId::new), &job, now, now).await?;
        }
        Ok(())
    }

    /// The row `id` should have at `rev`, or `None` when it should have none: not solved or
    /// closed, merged into another ticket, anonymised, or solved without a public agent reply
    /// to suggest.
    async fn similar_row(
        &self,
        c: &mut db::AnyConnection,
        ws: WorkspaceId,
        id: TicketId,
        rev: i64,
    ) -> Result<Option<db::similar::SimilarRow>> {
        let Some(t) = db::tickets::get(c, ws, id).await? else { return Ok(None) };
        if !is_done(t.status) {
            return Ok(None);
        }
        // A duplicate merged into another ticket was not solved on its own.
        if db::ticket_links::of(c, ws, id)
            .await?
            .iter()
            .any(|l| l.outgoing && l.kind == "merged_into")
        {
            return Ok(None);
        }
        let src = db::similar::source(c, ws, &t).await?;
        let Some(resolution) = src.resolution.filter(|r| !r.trim().is_empty()) else {
            return Ok(None);
        };
        if src.anonymised {
            return Ok(None);
        }
        let customer = db::customers::get(c, ws, t.customer).await?;
        let problem = src.problem.join("\n");
        Ok(Some(db::similar::SimilarRow {
            ticket: t.id,
            rev,
            removed: false,
            ticket_no: t.number.to_string(),
            customer: Some(t.customer),
            lang: lang_of(&format!("{}{problem}", t.subject)).to_owned(),
            subject: t.subject.clone(),
            problem,
            resolution: templatise(&resolution, customer.as_ref(), &t),
            problem_code: t.problem_code.map(|p| p.to_string()),
            solved_at: t.solved_at.or(t.closed_at),
        }))
    }

    /// The `IndexSimilarTicket` job: the ticket's row brought up to date, inside the job's
    /// transaction. An unchanged row is left as it is.
    pub(crate) async fn index_similar_ticket_job(
        &self,
        tx: &mut db::WriteTx,
        ticket: TicketId,
    ) -> Result<()> {
        let ws = tx.workspace();
        let existing = db::similar::get(tx, ws, ticket).await?;
        let rev = db::similar::next_rev(tx, ws).await?;
        match self.similar_row(tx, ws, ticket, rev).await? {
            Some(row) => {
                let same = existing.as_ref().is_some_and(|e| {
                    !e.removed && db::similar::SimilarRow { rev, ..e.clone() } == row
                });
                if !same {
                    db::similar::put(tx, ws, &row).await?;
                }
            }
            None => {
                if existing.is_some_and(|e| !e.removed) {
                    db::similar::remove(tx, ws, &[ticket.to_string()], rev).await?;
                }
            }
        }
        Ok(())
    }

    /// The workspace's index, created empty the first time and caught up with the rows.
    pub(crate) async fn similar_index(&self, ws: WorkspaceId) -> Result<Arc<WsSimilar>> {
        let s = {
            let mut m = self.similar.indexes.lock().map_err(|_| poisoned())?;
            match m.get(&ws) {
                Some(s) => s.clone(),
                None => {
                    let s = Arc::new(WsSimilar {
                        index: TicketIndex::new()?,
                        cursor: tokio::sync::Mutex::new((0, String::new())),
                    });
                    m.insert(ws, s.clone());
                    s
                }
            }
        };
        self.catch_up_similar(ws, &s).await?;
        Ok(s)
    }

    /// Applies the rows changed since the index's cursor; returns how many.
    async fn catch_up_similar(&self, ws: WorkspaceId, s: &Arc<WsSimilar>) -> Result<usize> {
        let mut cursor = s.cursor.lock().await;
        let mut n = 0;
        loop {
            let mut c = self.db.read().await?;
            let rows = db::similar::since(&mut c, ws, cursor.0, &cursor.1, BATCH).await?;
            drop(c);
            let Some(last) = rows.last() else { break };
            let next = (last.rev, last.ticket.to_string());
            let full = rows.len() as i64 == BATCH;
            n += rows.len();
            let (gone, live): (Vec<_>, Vec<_>) = rows.into_iter().partition(|r| r.removed);
            let ups: Vec<SolvedTicket> = live.iter().map(solved_ticket).collect();
            let removed: Vec<String> = gone.iter().map(|r| r.ticket.to_string()).collect();
            let s2 = s.clone();
            tokio::task::spawn_blocking(move || s2.index.apply(&ups, &removed))
                .await
                .context("the indexing thread panicked")??;
            *cursor = next;
            if !full {
                break;
            }
        }
        Ok(n)
    }

    /// Rebuilds the workspace's rows from its solved and closed tickets in one transaction
    /// (rows no longer due become tombstones), then this server's index from the rows;
    /// returns the number of tickets indexed. Other servers catch up at their next search.
    pub async fn reindex_similar(&self, b: &BotEditor) -> Result<usize> {
        self.reindex_similar_in(b.workspace).await
    }

    /// [`App::reindex_similar`] for a workspace named on the command line.
    pub async fn reindex_similar_in(&self, ws: WorkspaceId) -> Result<usize> {
        let mut tx = self.db.write(ws).await?;
        let rev = db::similar::next_rev(&mut tx, ws).await?;
        let mut kept = HashSet::new();
        for id in db::similar::done_tickets(&mut tx, ws).await? {
            if let Some(row) = self.similar_row(&mut tx, ws, id, rev).await? {
                db::similar::put(&mut tx, ws, &row).await?;
                kept.insert(id.to_string());
            }
        }
        let stale: Vec<String> = db::similar::live(&mut tx, ws)
            .await?
            .into_iter()
            .filter(|id| !kept.contains(id))
            .collect();
        db::similar::remove(&mut tx, ws, &stale, rev).await?;
        self.commit(tx).await?;
        let s = self.similar_index(ws).await?;
        {
            let mut cursor = s.cursor.lock().await;
            let s2 = s.clone();
            tokio::task::spawn_blocking(move || s2.index.clear())
                .await
                .context("the indexing thread panicked")??;
            *cursor = (0, String::new());
        }
        self.catch_up_similar(ws, &s).await?;
        Ok(kept.len())
    }

    /// Builds the rows of every workspace that has solved tickets but no rows at all — a
    /// database from before this index existed — so suggestions cover its history from the
    /// first start (`huiting serve`). Returns how many workspaces were indexed.
    pub async fn ensure_similar_rows(&self) -> Result<usize> {
        let mut c = self.db.read().await?;
        let all = db::workspaces::all(&mut c).await?;
        let mut due = Vec::new();
        for ws in all {
            if db::similar::next_rev(&mut c, ws.id).await? == 1
                && !db::similar::done_tickets(&mut c, ws.id).await?.is_empty()
            {
                due.push(ws.id);
            }
        }
        drop(c);
        for ws in &due {
            self.reindex_similar_in(*ws).await?;
        }
        Ok(due.len())
    }

    /// Solved tickets like `text`, not those in `exclude`, with their replies filled from
    /// `cx`.
    pub(crate) async fn similar_tickets(
        &self,
        ws: WorkspaceId,
        text: &str,
        exclude: &[TicketId],
        cx: &Context,
    ) -> Result<Vec<SimilarTicket>> {
        let s = self.similar_index(ws).await?;
        let exclude: Vec<String> = exclude.iter().map(ToString::to_string).collect();
        let hits = s.index.similar(text, &exclude, SIMILAR_TICKETS, MIN_SIMILARITY)?;
        hits.into_iter()
            .map(|h| {
                Ok(SimilarTicket {
                    ticket: TicketId::parse(&h.ticket.id)?,
                    number: h.ticket.number,
                    subject: h.ticket.subject,
                    problem_code: h.ticket.problem_code,
                    similarity: f64::from(h.similarity),
                    solved_at: h.ticket.solved_at.map(Timestamp::from_millis),
                    reply: render(&h.ticket.resolution, true, |n| cx.value(n)),
                })
            })
            .collect()
    }

    /// How many tickets this server's index of `ws` holds, after catching up.
    pub async fn similar_index_len(&self, ws: WorkspaceId) -> Result<u64> {
        Ok(self.similar_index(ws).await?.index.len())
    }
}
