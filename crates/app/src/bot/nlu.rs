//! The language engine in the service: intents and their examples, versioned models trained in
//! the background, and analysis of a message with the workspace's active models.
//!
//! Training is a job (`Job::TrainNluModel`) enqueued with its `training` model row; the worker
//! trains on a blocking thread outside any transaction, then stores bytes and metrics and makes
//! the version active in one `WriteTx` with the job's completion. Loaded models are cached per
//! workspace, keyed by model id: each analysis asks the database only which ids are active (a
//! small indexed read), so activating a version anywhere takes effect everywhere.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Instant,
};

use anyhow::Context as _;
use domain::{
    Actor, Audience, Event, ExampleSource, Intent, IntentExample, IntentExampleId, IntentId, Job,
    JobId, ModelKind, ModelMetrics, ModelStatus, NluModel, NluModelId, ParseError, Snapshot,
    Timestamp, WorkspaceId,
    bot::{parse_example_text, parse_intent_name},
};
use nlu::{
    classifier::{Classifier, TrainConfig},
    entities::{EntityConfig, Extractor},
    sentiment::SentimentModel,
    text::Segmenter,
};

use crate::{
    App, Error, Result,
    auth::{BotEditor, Staff},
    error::OrNotFound,
};

/// Offset of the business day from UTC, in hours. Relative dates ("昨天") in customers'
/// messages are read against the calendar in China; per-workspace time zones come later.
pub const BUSINESS_UTC_OFFSET_HOURS: i64 = 8;

/// The longest text `analyze` accepts, in characters.
pub const MAX_ANALYZE_CHARS: usize = 5000;

/// The calendar day at `now` in the business time zone.
pub fn today(now: Timestamp) -> time::Date {
    let secs = now.millis().div_euclid(1000) + BUSINESS_UTC_OFFSET_HOURS * 3600;
    time::OffsetDateTime::from_unix_timestamp(secs).map(|t| t.date()).unwrap_or(time::Date::MIN)
}

/// What every analysis shares: the segmenter (jieba's dictionary), the built-in sentiment
/// model and the default entity recognisers. Built once per process, on first use.
#[derive(Debug)]
pub struct Engine {
    pub segmenter: Segmenter,
    pub sentiment: SentimentModel,
    pub entities: Extractor,
}

/// The engine and the models loaded per workspace.
#[derive(Debug, Default)]
pub(crate) struct NluCache {
    engine: tokio::sync::OnceCell<Arc<Engine>>,
    loaded: Mutex<HashMap<WorkspaceId, Loaded>>,
}

#[derive(Debug, Default, Clone)]
struct Loaded {
    intents: Option<(NluModelId, Arc<Classifier>)>,
    sentiment: Option<(NluModelId, Arc<SentimentModel>)>,
}

#[derive(Debug, Clone)]
pub struct NewIntent {
    pub name: String,
    pub description: String,
    pub examples: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct IntentPatch {
    pub name: Option<String>,
    pub description: Option<String>,
}

fn intent_snapshot(i: &Intent) -> Snapshot {
    Snapshot::default().with("name", i.name.as_str()).with("description", i.description.as_str())
}

fn parse_texts(texts: &[String]) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::with_capacity(texts.len());
    for t in texts {
        let t = parse_example_text(t)?;
        if !out.contains(&t) {
            out.push(t);
        }
    }
    Ok(out)
}

fn unique_name(e: anyhow::Error, name: &str) -> Error {
    if db::is_unique_violation(&e) {
        Error::Conflict(format!("an intent named {name:?} already exists"))
    } else {
        e.into()
    }
}

impl App {
    /// The shared engine, built on a blocking thread the first time.
    pub async fn nlu_engine(&self) -> Result<Arc<Engine>> {
        let e = self
            .nlu
            .engine
            .get_or_try_init(|| async {
                tokio::task::spawn_blocking(|| {
                    let segmenter = Segmenter::default();
                    let sentiment = SentimentModel::builtin();
                    let entities = Extractor::new(&EntityConfig::default())
                        .context("the default entity configuration compiles")?;
                    anyhow::Ok(Arc::new(Engine { segmenter, sentiment, entities }))
                })
                .await
                .context("building the language engine")?
            })
            .await?;
        Ok(e.clone())
    }

    pub async fn list_intents(&self, s: &Staff) -> Result<Vec<(Intent, i64)>> {
        let mut c = self.db.read().await?;
        Ok(db::nlu::intent_list(&mut c, s.workspace).await?)
    }

    pub async fn get_intent(
        &self,
        s: &Staff,
        id: IntentId,
    ) -> Result<(Intent, Vec<IntentExample>)> {
        let mut c = self.db.read().await?;
        let i = db::nlu::intent_get(&mut c, s.workspace, id).await?.or_not_found("intent")?;
        let ex = db::nlu::examples_of(&mut c, s.workspace, id).await?;
        Ok((i, ex))
    }

    /// Creates an intent, with its first examples.
    pub async fn create_intent(
        &self,
        b: &BotEditor,
        n: NewIntent,
    ) -> Result<(Intent, Vec<IntentExample>)> {
        let name = parse_intent_name(&n.name)?;
        let description = n.description.trim().to_owned();
        let texts = parse_texts(&n.examples)?;
        let now = self.now();
        let mut tx = self.db.write(b.workspace).await?;
        let i = Intent {
            id: self.ids.next(now, IntentId::new),
            workspace: b.workspace,
            name,
            description,
            created_at: now,
            updated_at: now,
        };
        db::nlu::intent_insert(&mut tx, &i).await.map_err(|e| unique_name(e, &i.name))?;
        let examples = self.new_examples(i.id, &texts, ExampleSource::Manual, b.actor, now);
        db::nlu::examples_insert(&mut tx, b.workspace, &examples).await?;
        let after =
            intent_snapshot(&i).with("examples", domain::AuditValue::Int(texts.len() as i64));
        tx.audit(now, b.actor, "intent.create", "intent", &i.id.to_string(), None, Some(&after))
            .await?;
        tx.emit(now, b.actor, Event::IntentChanged { intent: i.id }, Audience::staff_only())
            .await?;
        self.commit(tx).await?;
        Ok((i, examples))
    }

    pub(crate) fn new_examples(
        &self,
        intent: IntentId,
        texts: &[String],
        source: ExampleSource,
        actor: Actor,
        now: Timestamp,
    ) -> Vec<IntentExample> {
        texts
            .iter()
            .map(|t| IntentExample {
                id: self.ids.next(now, IntentExampleId::new),
                intent,
                text: t.clone(),
                source,
                created_by: actor,
                created_at: now,
            })
            .collect()
    }

    /// Renames an intent or changes its description; returns it with its number of examples.
    pub async fn update_intent(
        &self,
        b: &BotEditor,
        id: IntentId,
        p: IntentPatch,
    ) -> Result<(Intent, i64)> {
        let name = p.name.as_deref().map(parse_intent_name).transpose()?;
        let now = self.now();
        let mut tx = self.db.write(b.workspace).await?;
        let before = db::nlu::intent_get(&mut tx, b.workspace, id).await?.or_not_found("intent")?;
        let mut i = before.clone();
        if let Some(n) = name {
            i.name = n;
        }
        if let Some(d) = p.description {
            i.description = d.trim().to_owned();
        }
        let examples = db::nlu::examples_of(&mut tx, b.workspace, id).await?.len() as i64;
        if i == before {
            return Ok((i, examples));
        }
        i.updated_at = now;
        db::nlu::intent_update(&mut tx, &i).await.map_err(|e| unique_name(e, &i.name))?;
        tx.audit(
            now,
            b.actor,
            "intent.update",
            "intent",
            &id.to_string(),
            Some(&intent_snapshot(&before)),
            Some(&intent_snapshot(&i)),
        )
        .await?;
        tx.emit(now, b.actor, Event::IntentChanged { intent: id }, Audience::staff_only()).await?;
        self.commit(tx).await?;
        Ok((i, examples))
    }

    /// Deletes an intent and its examples; models already trained keep recognising it until
    /// the next training.
    pub async fn delete_intent(&self, b: &BotEditor, id: IntentId) -> Result<()> {
        let now = self.now();
        let mut tx = self.db.write(b.workspace).await?;
        let before = db::nlu::intent_get(&mut tx, b.workspace, id).await?.or_not_found("intent")?;
        db::nlu::intent_delete(&mut tx, b.workspace, id).await?;
        tx.audit(
            now,
            b.actor,
            "intent.delete",
            "intent",
            &id.to_string(),
            Some(&intent_snapshot(&before)),
            None,
        )
        .await?;
        tx.emit(now, b.actor, Event::IntentChanged { intent: id }, Audience::staff_only()).await?;
        self.commit(tx).await
    }

    /// Adds examples to an intent; texts it already has are skipped.
    pub async fn add_examples(
        &self,
        b: &BotEditor,
        id: IntentId,
        texts: &[String],
        source: ExampleSource,
    ) -> Result<Vec<IntentExample>> {
        let mut texts = parse_texts(texts)?;
        if texts.is_empty() {
            return Err(ParseError::new("examples", "give at least one example").into());
        }
        let now = self.now();
        let mut tx = self.db.write(b.workspace).await?;
        db::nlu::intent_get(&mut tx, b.workspace, id).await?.or_not_found("intent")?;
        let existing = db::nlu::examples_of(&mut tx, b.workspace, id).await?;
        texts.retain(|t| !existing.iter().any(|e| &e.text == t));
        let examples = self.new_examples(id, &texts, source, b.actor, now);
        if examples.is_empty() {
            return Ok(examples);
        }
        db::nlu::examples_insert(&mut tx, b.workspace, &examples).await?;
        let after = Snapshot::default()
            .with("added", domain::AuditValue::Int(examples.len() as i64))
            .with("source", source.as_str());
        tx.audit(
            now,
            b.actor,
            "intent.examples_add",
            "intent",
            &id.to_string(),
            None,
            Some(&after),
        )
        .await?;
        tx.emit(now, b.actor, Event::IntentChanged { intent: id }, Audience::staff_only()).await?;
        self.commit(tx).await?;
        Ok(examples)
    }

    pub async fn delete_example(
        &self,
        b: &BotEditor,
        intent: IntentId,
        id: IntentExampleId,
    ) -> Result<()> {
        let now = self.now();
        let mut tx = self.db.write(b.workspace).await?;
        if !db::nlu::example_delete(&mut tx, b.workspace, intent, id).await? {
            return Err(Error::NotFound("example"));
        }
        tx.audit(
            now,
            b.actor,
            "intent.example_delete",
            "intent",
            &intent.to_string(),
            Some(&Snapshot::default().with("example", id.to_string())),
            None,
        )
        .await?;
        tx.emit(now, b.actor, Event::IntentChanged { intent }, Audience::staff_only()).await?;
        self.commit(tx).await
    }

    /// Queues training of a new intent-model version from the workspace's examples; the
    /// returned row has status `training` until the job runs.
    pub async fn request_training(&self, b: &BotEditor, kind: ModelKind) -> Result<NluModel> {
        if kind != ModelKind::Intent {
            return Err(ParseError::new(
                "kind",
                "only intent models are trained from the workspace's examples; sentiment uses the built-in model",
            )
            .into());
        }
        let now = self.now();
        let mut tx = self.db.write(b.workspace).await?;
        let m = self.queue_training(&mut tx, b.actor, now).await?.map_err(Error::Conflict)?;
        self.commit(tx).await?;
        Ok(m)
    }

    /// Inside `tx`: queues training of a new intent-model version (model row, job, audit,
    /// event), or says why not (fewer than two intents with examples, or a version still
    /// training).
    pub(crate) async fn queue_training(
        &self,
        tx: &mut db::WriteTx,
        actor: Actor,
        now: Timestamp,
    ) -> Result<std::result::Result<NluModel, String>> {
        let ws = tx.workspace();
        let kind = ModelKind::Intent;
        let trainable = db::nlu::intent_list(tx, ws).await?.iter().filter(|(_, n)| *n > 0).count();
        if trainable < 2 {
            return Ok(Err(format!(
                "training needs at least two intents with examples; this workspace has {trainable}"
            )));
        }
        let models = db::nlu::model_list(tx, ws).await?;
        if let Some(m) = models.iter().find(|m| m.kind == kind && m.status == ModelStatus::Training)
        {
            return Ok(Err(format!(
                "version {} is still training; wait for it to finish",
                m.version
            )));
        }
        let m = NluModel {
            id: self.ids.next(now, NluModelId::new),
            workspace: ws,
            kind,
            version: db::nlu::model_next_version(tx, ws, kind).await?,
            status: ModelStatus::Training,
            active: false,
            metrics: None,
            error: None,
            created_at: now,
            created_by: actor,
        };
        db::nlu::model_insert(tx, &m).await?;
        tx.enqueue(self.ids.next(now, JobId::new), &Job::TrainNluModel { model: m.id }, now, now)
            .await?;
        let after = Snapshot::default()
            .with("kind", kind.as_str())
            .with("version", domain::AuditValue::Int(m.version));
        tx.audit(now, actor, "nlu_model.train", "nlu_model", &m.id.to_string(), None, Some(&after))
            .await?;
        tx.emit(now, actor, Event::NluModelQueued { model: m.id }, Audience::staff_only()).await?;
        Ok(Ok(m))
    }

    pub async fn list_models(&self, s: &Staff) -> Result<Vec<NluModel>> {
        let mut c = self.db.read().await?;
        Ok(db::nlu::model_list(&mut c, s.workspace).await?)
    }

    /// Makes a ready version the active one of its kind (rolling back or forward).
    pub async fn activate_model(&self, b: &BotEditor, id: NluModelId) -> Result<NluModel> {
        let now = self.now();
        let mut tx = self.db.write(b.workspace).await?;
        let mut m = db::nlu::model_get(&mut tx, b.workspace, id).await?.or_not_found("model")?;
        if m.status != ModelStatus::Ready {
            return Err(Error::Conflict(format!(
                "version {} is {}; only a ready model can be activated",
                m.version, m.status
            )));
        }
        if m.active {
            return Ok(m);
        }
        db::nlu::model_activate(&mut tx, b.workspace, m.kind, id).await?;
        m.active = true;
        let after = Snapshot::default()
            .with("kind", m.kind.as_str())
            .with("version", domain::AuditValue::Int(m.version));
        tx.audit(
            now,
            b.actor,
            "nlu_model.activate",
            "nlu_model",
            &id.to_string(),
            None,
            Some(&after),
        )
        .await?;
        tx.emit(now, b.actor, Event::NluModelActivated { model: id }, Audience::staff_only())
            .await?;
        self.commit(tx).await?;
        Ok(m)
    }

    /// Analyses a message with the workspace's active models (the built-in sentiment model
    /// unless the workspace has its own). Never fails on the text itself.
    pub async fn analyze(&self, s: &Staff, text: &str) -> Result<nlu::Analysis> {
        if text.chars().count() > MAX_ANALYZE_CHARS {
            return Err(
                ParseError::new("text", format!("at most {MAX_ANALYZE_CHARS} characters")).into()
            );
        }
        self.analyze_in(s.workspace, text).await
    }

    /// Analysis with `ws`'s active models, for any length of text (the bot's customers).
    pub(crate) async fn analyze_in(&self, ws: WorkspaceId, text: &str) -> Result<nlu::Analysis> {
        let mut c = self.db.read().await?;
        self.analyze_on(&mut c, ws, text).await
    }

    /// Analysis on a connection the caller holds: a job inside its write transaction must not
    /// wait for a second connection (on PostgreSQL, one pool serves both).
    pub(crate) async fn analyze_on(
        &self,
        c: &mut db::AnyConnection,
        ws: WorkspaceId,
        text: &str,
    ) -> Result<nlu::Analysis> {
        let active = db::nlu::models_active(&mut *c, ws).await?;
        self.analyze_with(c, ws, &active, text).await
    }

    /// Analysis when the caller already read the active model ids (a bot turn reads them with
    /// the rest of its state); `c` is only used to load a model the cache does not hold.
    pub(crate) async fn analyze_with(
        &self,
        c: &mut db::AnyConnection,
        ws: WorkspaceId,
        active: &[(NluModelId, ModelKind)],
        text: &str,
    ) -> Result<nlu::Analysis> {
        let engine = self.nlu_engine().await?;
        let loaded = self.loaded_models_with(c, ws, active).await?;
        let models = nlu::Models {
            segmenter: &engine.segmenter,
            intents: loaded.intents.as_ref().map(|(_, m)| &**m),
            encoder: None,
            sentiment: loaded.sentiment.as_ref().map_or(&engine.sentiment, |(_, m)| &**m),
            entities: &engine.entities,
        };
        // A fraction of a millisecond: cheaper inline than a hop to the blocking pool.
        Ok(nlu::analyze(&models, text, today(self.now())))
    }

    /// The workspace's models for the `active` ids, from the cache unless they changed.
    async fn loaded_models_with(
        &self,
        c: &mut db::AnyConnection,
        ws: WorkspaceId,
        active: &[(NluModelId, ModelKind)],
    ) -> Result<Loaded> {
        let want = |k: ModelKind| active.iter().find(|(_, kind)| *kind == k).map(|(id, _)| *id);
        let (want_i, want_s) = (want(ModelKind::Intent), want(ModelKind::Sentiment));
        let mut cur =
            self.nlu.loaded.lock().map_err(|_| poisoned())?.get(&ws).cloned().unwrap_or_default();
        if cur.intents.as_ref().map(|p| p.0) == want_i
            && cur.sentiment.as_ref().map(|p| p.0) == want_s
        {
            return Ok(cur);
        }
        let load = async |c: &mut db::AnyConnection, id: NluModelId| -> Result<Vec<u8>> {
            db::nlu::model_bytes(c, ws, id)
                .await?
                .with_context(|| format!("active model {id} has no bytes"))
                .map_err(Error::Internal)
        };
        if cur.intents.as_ref().map(|p| p.0) != want_i {
            cur.intents = match want_i {
                Some(id) => {
                    let m = Classifier::from_bytes(&load(&mut *c, id).await?)
                        .with_context(|| format!("reading intent model {id}"))?;
                    Some((id, Arc::new(m)))
                }
                None => None,
            };
        }
        if cur.sentiment.as_ref().map(|p| p.0) != want_s {
            cur.sentiment = match want_s {
                Some(id) => {
                    let m = SentimentModel::from_bytes(&load(&mut *c, id).await?)
                        .with_context(|| format!("reading sentiment model {id}"))?;
                    Some((id, Arc::new(m)))
                }
                None => None,
            };
        }
        self.nlu.loaded.lock().map_err(|_| poisoned())?.insert(ws, cur.clone());
        Ok(cur)
    }

    /// The job: trains model `id` if it is still waiting, then stores the outcome and
    /// completes the job in one transaction.
    pub(crate) async fn train_nlu_model(
        &self,
        worker: &str,
        c: &db::jobs::Claimed,
        id: NluModelId,
        now: Timestamp,
    ) -> Result<()> {
        let ws = c.workspace;
        let mut conn = self.db.read().await?;
        let pending = db::nlu::model_get(&mut conn, ws, id)
            .await?
            .filter(|m| m.status == ModelStatus::Training);
        let examples = db::nlu::training_set(&mut conn, ws).await?;
        drop(conn);
        let outcome = match &pending {
            None => None,
            Some(_) => {
                let engine = self.nlu_engine().await?;
                let trained = tokio::task::spawn_blocking(move || {
                    let pairs: Vec<(&str, &str)> =
                        examples.iter().map(|(t, l)| (t.as_str(), l.as_str())).collect();
                    let started = Instant::now();
                    let r = Classifier::train(
                        &engine.segmenter,
                        &pairs,
                        &TrainConfig::default(),
                        &mut |_| {},
                    );
                    (r, started.elapsed())
                })
                .await
                .context("the training thread panicked")?;
                Some(trained)
            }
        };
        let mut tx = self.db.write(ws).await?;
        if let (Some(before), Some((trained, took))) = (pending, outcome) {
            let mut m = before.clone();
            let bytes = match trained {
                Ok(model) => {
                    let r = model.report();
                    m.status = ModelStatus::Ready;
                    m.active = true;
                    m.metrics = Some(ModelMetrics {
                        examples: r.examples as i64,
                        labels: model.labels().to_vec(),
                        cv_accuracy: f64::from(r.cv_accuracy),
                        threshold: f64::from(model.threshold()),
                        train_ms: took.as_millis() as i64,
                    });
                    Some(model.to_bytes())
                }
                Err(e) => {
                    m.status = ModelStatus::Failed;
                    m.error = Some(e.to_string());
                    None
                }
            };
            db::nlu::model_finish(&mut tx, &m, bytes).await?;
            if m.active {
                db::nlu::model_activate(&mut tx, ws, m.kind, m.id).await?;
            }
            let after = Snapshot::default()
                .with("status", m.status.as_str())
                .with("version", domain::AuditValue::Int(m.version))
                .with("error", m.error.clone());
            tx.audit(
                now,
                Actor::System,
                "nlu_model.trained",
                "nlu_model",
                &id.to_string(),
                None,
                Some(&after),
            )
            .await?;
            tx.emit(
                now,
                Actor::System,
                Event::NluModelTrained { model: id, status: m.status },
                Audience::staff_only(),
            )
            .await?;
        }
        if db::jobs::complete(&mut tx, c.id, worker, now).await? {
            self.commit(tx).await
        } else {
            // Our lease ran out and another worker took the job: leave the effect to it.
            Ok(())
        }
    }
}

fn poisoned() -> Error {
    Error::Internal(anyhow::anyhow!("the model cache lock is poisoned"))
}
