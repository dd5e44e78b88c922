//! The learning loop (BOT-7): questions the bot could not answer, and answered questions whose
//! answer the customer rated low, are clustered (`nlu::cluster`) into FAQ candidates for an
//! editor's queue. Accepting a candidate adds the FAQ entry (its questions as variants) and,
//! when it names an intent, teaches the intent those questions and queues retraining
//! (`Job::TrainNluModel`), all in one `WriteTx`. An agent's correction of a customer message's
//! intent is training data too (`correct_intent`).
//!
//! Clustering is the `ClusterKbCandidates` job: scheduled a day after the first question to
//! learn from (a cheap check on every such outcome), re-scheduled daily while questions keep
//! coming, and run at once by `refresh`. It reads and clusters outside any transaction (on a
//! blocking thread), then replaces the open candidates and completes in one. Questions of
//! accepted or dismissed candidates are not proposed again.

use std::collections::{BTreeSet, HashMap};

use anyhow::Context as _;
use domain::{
    Actor, CandidateQuestion, CandidateStatus, ExampleSource, FaqContent, FaqId, Intent, IntentId,
    Job, JobId, KbAction, KbCandidate, KbCandidateId, KbLang, MessageId, NluModel, ParseError,
    SenderKind, Snapshot, Timestamp, WorkspaceId, bot::parse_intent_name,
};

use crate::{
    App, Error, Result,
    auth::{Agent, BotEditor, Staff},
    bot::knowledge::{faq_doc, status_of},
    error::OrNotFound,
};

/// Questions older than this are not mined.
pub const WINDOW_DAYS: i64 = 30;
/// A group asked fewer times than this is not proposed.
pub const MIN_ASKED: i64 = 2;
/// Questions of each kind read per run.
const MAX_QUESTIONS: i64 = 5000;
pub(crate) const DAY_MS: i64 = 86_400_000;

/// What an editor accepts a candidate as.
#[derive(Debug, Clone, Default)]
pub struct Acceptance {
    /// The canonical question; the candidate's representative if absent.
    pub question: Option<String>,
    pub answer: String,
    /// The other ways to ask it; the candidate's questions if absent.
    pub variants: Option<Vec<String>>,
    pub category: String,
    pub lang: Option<KbLang>,
    /// Teach this intent (made if missing) the questions and retrain.
    pub intent: Option<String>,
    /// Publish at once (the bot answers from published entries only).
    pub publish: bool,
}

/// An accepted candidate: the entry it became and the training it queued, if any.
#[derive(Debug, Clone)]
pub struct Accepted {
    pub candidate: KbCandidate,
    pub faq: domain::Faq,
    pub training: Option<NluModel>,
}

/// An agent's correction: the example added (false if the intent had the text already) and
/// the training it queued.
#[derive(Debug, Clone)]
pub struct Correction {
    pub intent: Intent,
    pub added: bool,
    pub training: Option<NluModel>,
}

fn candidate_snapshot(k: &KbCandidate) -> Snapshot {
    Snapshot::default()
        .with("status", k.status.as_str())
        .with("question", k.question.as_str())
        .with("total", domain::AuditValue::Int(k.total))
}

/// Groups `questions` into candidates (pure, apart from the ids drawn by `next_id`).
fn build_candidates(
    seg: &nlu::text::Segmenter,
    ws: WorkspaceId,
    questions: &[db::learning::Question],
    decided: &[String],
    now: Timestamp,
) -> Vec<KbCandidate> {
    let skip: BTreeSet<String> = decided.iter().map(|t| nlu::text::fold(t)).collect();
    let kept: Vec<&db::learning::Question> =
        questions.iter().filter(|q| !skip.contains(&nlu::text::fold(&q.text))).collect();
    // Most asked first, so the cap on distinct questions keeps the frequent ones.
    let mut freq: HashMap<String, usize> = HashMap::new();
    for q in &kept {
        *freq.entry(nlu::text::fold(&q.text)).or_default() += 1;
    }
    let mut order: Vec<usize> = (0..kept.len()).collect();
    order.sort_by(|&a, &b| {
        let (fa, fb) = (nlu::text::fold(&kept[a].text), nlu::text::fold(&kept[b].text));
        freq[&fb].cmp(&freq[&fa]).then(fa.cmp(&fb)).then(a.cmp(&b))
    });
    let texts: Vec<&str> = order.iter().map(|&i| kept[i].text.as_str()).collect();
    let groups = nlu::cluster::cluster(seg, &texts, &nlu::cluster::ClusterConfig::default());
    let mut out = Vec::new();
    for g in groups {
        if (g.members.len() as i64) < MIN_ASKED {
            continue;
        }
        // Distinct questions (by folded text), each shown as first asked.
        let mut by_text: Vec<(String, CandidateQuestion)> = Vec::new();
        let mut faqs: Vec<FaqId> = Vec::new();
        let (mut first, mut last) = (Timestamp::from_millis(i64::MAX), Timestamp::from_millis(0));
        for &m in &g.members {
            let q = kept[order[m]];
            first = first.min(q.at);
            last = last.max(q.at);
            let key = nlu::text::fold(&q.text);
            let slot = match by_text.iter().position(|(k, _)| *k == key) {
                Some(i) => i,
                None => {
                    let cq = CandidateQuestion {
                        text: q.text.trim().to_owned(),
                        count: 0,
                        unmatched: 0,
                        low_rated: 0,
                    };
                    by_text.push((key, cq));
                    by_text.len() - 1
                }
            };
            let cq = &mut by_text[slot].1;
            cq.count += 1;
            match &q.low_rated {
                Some(entry) => {
                    cq.low_rated += 1;
                    if let Ok(f) = FaqId::parse(entry)
                        && !faqs.contains(&f)
                    {
                        faqs.push(f);
                    }
                }
                None => cq.unmatched += 1,
            }
        }
        let mut qs: Vec<CandidateQuestion> = by_text.into_iter().map(|(_, q)| q).collect();
        qs.sort_by(|a, b| b.count.cmp(&a.count).then(a.text.cmp(&b.text)));
        out.push(KbCandidate {
            // Drawn when stored, under the workspace's write lock.
            id: KbCandidateId::new(now, 0),
            workspace: ws,
            status: CandidateStatus::Open,
            question: texts[g.representative].trim().to_owned(),
            total: qs.iter().map(|q| q.count).sum(),
            unmatched: qs.iter().map(|q| q.unmatched).sum(),
            low_rated: qs.iter().map(|q| q.low_rated).sum(),
            questions: qs,
            faqs,
            first_seen: first,
            last_seen: last,
            created_at: now,
            updated_at: now,
            decided_at: None,
            decided_by: None,
            faq: None,
        });
    }
    out
}

impl App {
    pub async fn list_candidates(
        &self,
        s: &Staff,
        status: Option<CandidateStatus>,
    ) -> Result<Vec<KbCandidate>> {
        let mut c = self.db.read().await?;
        Ok(db::learning::list(&mut c, s.workspace, status).await?)
    }

    pub async fn get_candidate(&self, s: &Staff, id: KbCandidateId) -> Result<KbCandidate> {
        let mut c = self.db.read().await?;
        db::learning::get(&mut c, s.workspace, id).await?.or_not_found("candidate")
    }

    /// Clusters now (and keeps the daily run scheduled); returns the open candidates.
    pub async fn refresh_candidates(&self, b: &BotEditor) -> Result<Vec<KbCandidate>> {
        let now = self.now();
        let fresh = self.mine_candidates(b.workspace, now).await?;
        let mut tx = self.db.write(b.workspace).await?;
        self.replace_candidates(&mut tx, &fresh, b.actor, now).await?;
        if !db::jobs::pending(&mut tx, b.workspace, Job::ClusterKbCandidates.name()).await? {
            let id = self.ids.next(now, JobId::new);
            tx.enqueue(id, &Job::ClusterKbCandidates, now.plus_millis(DAY_MS), now).await?;
        }
        self.commit(tx).await?;
        let mut c = self.db.read().await?;
        Ok(db::learning::list(&mut c, b.workspace, Some(CandidateStatus::Open)).await?)
    }

    /// Reads the questions of the window and clusters them on a blocking thread.
    async fn mine_candidates(&self, ws: WorkspaceId, now: Timestamp) -> Result<Vec<KbCandidate>> {
        let (questions, decided) = {
            let mut c = self.db.read().await?;
            let since = Timestamp::from_millis(now.millis() - WINDOW_DAYS * DAY_MS);
            (
                db::learning::questions(&mut c, ws, since, MAX_QUESTIONS).await?,
                db::learning::decided_texts(&mut c, ws).await?,
            )
        };
        let engine = self.nlu_engine().await?;
        let built = tokio::task::spawn_blocking(move || {
            build_candidates(&engine.segmenter, ws, &questions, &decided, now)
        })
        .await
        .context("the clustering thread panicked")?;
        Ok(built)
    }

    /// Inside `tx`: the open candidates become `fresh`; a group whose representative question
    /// was already proposed keeps its id and creation time.
    async fn replace_candidates(
        &self,
        tx: &mut db::WriteTx,
        fresh: &[KbCandidate],
        actor: Actor,
        now: Timestamp,
    ) -> Result<()> {
        let ws = tx.workspace();
        let old = db::learning::list(tx, ws, Some(CandidateStatus::Open)).await?;
        db::learning::delete_open(tx, ws).await?;
        for k in fresh {
            let mut k = k.clone();
            match old.iter().find(|o| o.question == k.question) {
                Some(o) => {
                    k.id = o.id;
                    k.created_at = o.created_at;
                }
                None => k.id = self.ids.next(now, KbCandidateId::new),
            }
            db::learning::insert(tx, &k).await?;
        }
        let after = Snapshot::default().with("open", domain::AuditValue::Int(fresh.len() as i64));
        tx.audit(
            now,
            actor,
            "kb_candidate.refresh",
            "workspace",
            &ws.to_string(),
            None,
            Some(&after),
        )
        .await?;
        Ok(())
    }

    /// The job: clusters, replaces the open candidates, schedules tomorrow's run while there
    /// are questions, and completes, in one transaction.
    pub(crate) async fn cluster_candidates_job(
        &self,
        worker: &str,
        c: &db::jobs::Claimed,
        now: Timestamp,
    ) -> Result<()> {
        let fresh = self.mine_candidates(c.workspace, now).await?;
        let mut tx = self.db.write(c.workspace).await?;
        self.replace_candidates(&mut tx, &fresh, Actor::System, now).await?;
        let since = Timestamp::from_millis(now.millis() - DAY_MS);
        let recent = !db::learning::questions(&mut tx, c.workspace, since, 1).await?.is_empty();
        if recent || !fresh.is_empty() {
            let id = self.ids.next(now, JobId::new);
            tx.enqueue(id, &Job::ClusterKbCandidates, now.plus_millis(DAY_MS), now).await?;
        }
        if db::jobs::complete(&mut tx, c.id, worker, now).await? {
            self.commit(tx).await
        } else {
            Ok(())
        }
    }

    /// Accepts an open candidate: the FAQ entry, the intent's new examples and the retraining
    /// commit together.
    pub async fn accept_candidate(
        &self,
        b: &BotEditor,
        id: KbCandidateId,
        a: Acceptance,
    ) -> Result<Accepted> {
        let now = self.now();
        let ws = b.workspace;
        let mut tx = self.db.write(ws).await?;
        let before = db::learning::get(&mut tx, ws, id).await?.or_not_found("candidate")?;
        if before.status != CandidateStatus::Open {
            return Err(Error::Conflict(format!("this candidate was already {}", before.status)));
        }
        let texts: Vec<String> = before.questions.iter().map(|q| q.text.clone()).collect();
        let question = a.question.unwrap_or_else(|| before.question.clone());
        let variants = a.variants.unwrap_or_else(|| {
            texts
                .iter()
                .filter(|t| **t != question)
                .take(domain::knowledge::MAX_VARIANTS)
                .cloned()
                .collect()
        });
        let intent_name = a.intent.as_deref().map(parse_intent_name).transpose()?;
        let content = FaqContent {
            question,
            variants,
            answer: a.answer,
            category: a.category,
            channels: Vec::new(),
            valid_from: None,
            valid_to: None,
            tags: vec!["learned".into()],
            lang: a.lang.unwrap_or(KbLang::Zh),
            intent: intent_name.clone(),
        }
        .parse()?;
        let f = domain::Faq {
            id: self.ids.next(now, FaqId::new),
            workspace: ws,
            content,
            status: status_of(a.publish),
            version: 1,
            created_at: now,
            created_by: b.actor,
            updated_at: now,
            updated_by: b.actor,
        };
        db::knowledge::faq_insert(&mut tx, &f).await?;
        self.record_faq(&mut tx, &f, None, KbAction::Create, b.actor, now).await?;
        let training = match intent_name {
            Some(name) => {
                let mut all = texts.clone();
                all.push(f.content.question.clone());
                all.extend(f.content.variants.iter().cloned());
                self.teach(&mut tx, &name, &all, ExampleSource::Faq, b.actor, now).await?;
                self.queue_training(&mut tx, b.actor, now).await?.ok()
            }
            None => None,
        };
        let k = KbCandidate {
            status: CandidateStatus::Accepted,
            question: f.content.question.clone(),
            decided_at: Some(now),
            decided_by: Some(b.actor),
            faq: Some(f.id),
            updated_at: now,
            ..before.clone()
        };
        if !db::learning::decide(&mut tx, &k).await? {
            return Err(Error::Conflict("this candidate was decided meanwhile".into()));
        }
        let after = candidate_snapshot(&k).with("faq", f.id.to_string());
        tx.audit(
            now,
            b.actor,
            "kb_candidate.accept",
            "kb_candidate",
            &id.to_string(),
            Some(&candidate_snapshot(&before)),
            Some(&after),
        )
        .await?;
        self.commit(tx).await?;
        self.index_after_commit(ws, Some(faq_doc(&f)), None).await;
        Ok(Accepted { candidate: k, faq: f, training })
    }

    pub async fn dismiss_candidate(&self, b: &BotEditor, id: KbCandidateId) -> Result<KbCandidate> {
        let now = self.now();
        let mut tx = self.db.write(b.workspace).await?;
        let before =
            db::learning::get(&mut tx, b.workspace, id).await?.or_not_found("candidate")?;
        if before.status != CandidateStatus::Open {
            return Err(Error::Conflict(format!("this candidate was already {}", before.status)));
        }
        let k = KbCandidate {
            status: CandidateStatus::Dismissed,
            decided_at: Some(now),
            decided_by: Some(b.actor),
            updated_at: now,
            ..before.clone()
        };
        db::learning::decide(&mut tx, &k).await?;
        tx.audit(
            now,
            b.actor,
            "kb_candidate.dismiss",
            "kb_candidate",
            &id.to_string(),
            Some(&candidate_snapshot(&before)),
            Some(&candidate_snapshot(&k)),
        )
        .await?;
        self.commit(tx).await?;
        Ok(k)
    }

    /// Inside `tx`: the intent named `name` (made if missing) learns `texts` it does not know
    /// yet. Returns it and whether anything was added.
    async fn teach(
        &self,
        tx: &mut db::WriteTx,
        name: &str,
        texts: &[String],
        source: ExampleSource,
        actor: Actor,
        now: Timestamp,
    ) -> Result<(Intent, bool)> {
        let ws = tx.workspace();
        let existing =
            db::nlu::intent_list(tx, ws).await?.into_iter().find(|(i, _)| i.name == name);
        let intent = match existing {
            Some((i, _)) => i,
            None => {
                let i = Intent {
                    id: self.ids.next(now, IntentId::new),
                    workspace: ws,
                    name: name.to_owned(),
                    description: String::new(),
                    created_at: now,
                    updated_at: now,
                };
                db::nlu::intent_insert(tx, &i).await?;
                let after = Snapshot::default().with("name", i.name.as_str());
                tx.audit(
                    now,
                    actor,
                    "intent.create",
                    "intent",
                    &i.id.to_string(),
                    None,
                    Some(&after),
                )
                .await?;
                i
            }
        };
        let known: Vec<String> =
            db::nlu::examples_of(tx, ws, intent.id).await?.into_iter().map(|e| e.text).collect();
        let mut fresh: Vec<String> = Vec::new();
        for t in texts {
            let Ok(t) = domain::bot::parse_example_text(t) else { continue };
            if !known.contains(&t) && !fresh.contains(&t) {
                fresh.push(t);
            }
        }
        if fresh.is_empty() {
            return Ok((intent, false));
        }
        let examples = self.new_examples(intent.id, &fresh, source, actor, now);
        db::nlu::examples_insert(tx, ws, &examples).await?;
        let after = Snapshot::default()
            .with("added", domain::AuditValue::Int(examples.len() as i64))
            .with("source", source.as_str());
        tx.audit(
            now,
            actor,
            "intent.examples_add",
            "intent",
            &intent.id.to_string(),
            None,
            Some(&after),
        )
        .await?;
        tx.emit(
            now,
            actor,
            domain::Event::IntentChanged { intent: intent.id },
            domain::Audience::staff_only(),
        )
        .await?;
        Ok((intent, true))
    }

    /// An agent says which intent a customer's message meant: the text becomes an example of
    /// that intent (source `correction`) and retraining is queued.
    pub async fn correct_intent(
        &self,
        a: &Agent,
        conversation: domain::ConversationId,
        message: MessageId,
        intent: &str,
    ) -> Result<Correction> {
        self.readable_conversation(a, conversation).await?;
        let name = parse_intent_name(intent)?;
        let now = self.now();
        let mut tx = self.db.write(a.workspace).await?;
        let m = db::conversations::get_message(&mut tx, a.workspace, message)
            .await?
            .filter(|m| m.conversation == conversation)
            .or_not_found("message")?;
        if m.sender != SenderKind::Customer {
            return Err(ParseError::new(
                "message",
                "only a customer's message has an intent to correct",
            )
            .into());
        }
        if db::nlu::intent_list(&mut tx, a.workspace).await?.iter().all(|(i, _)| i.name != name) {
            return Err(Error::NotFound("intent"));
        }
        let (intent, added) = self
            .teach(
                &mut tx,
                &name,
                std::slice::from_ref(&m.body),
                ExampleSource::Correction,
                a.actor,
                now,
            )
            .await?;
        let training =
            if added { self.queue_training(&mut tx, a.actor, now).await?.ok() } else { None };
        let after = Snapshot::default()
            .with("intent", intent.name.as_str())
            .with("message", message.to_string());
        tx.audit(
            now,
            a.actor,
            "message.intent_correct",
            "conversation",
            &conversation.to_string(),
            None,
            Some(&after),
        )
        .await?;
        self.commit(tx).await?;
        Ok(Correction { intent, added, training })
    }
}
