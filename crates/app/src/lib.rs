//! Use cases, grouped by product noun (`intake`, `tickets`, `admin`, `audit`). Each public
//! function authorises through a capability type in its signature, runs one database
//! transaction through `db::WriteTx` (writing its events and audit entries there), and wakes
//! the realtime hub after commit. This is the only crate that calls `db`.
//!
//! `app` knows no HTTP and no JSON: it takes parsed domain values and returns domain values
//! or an [`Error`].

pub mod admin;
pub mod alerts;
pub mod analytics;
pub mod audit;
pub mod auth;
pub mod bot;
pub mod channels;
mod cluster;
pub mod collaboration;
pub mod compensation;
pub mod crisis;
mod error;
pub mod feedback;
pub mod hub;
mod ids;
pub mod intake;
pub mod jobs;
pub mod net;
mod notices;
pub mod oidc;
pub mod ops;
pub mod personal_data;
pub mod proactive;
pub mod quality;
pub mod reports;
pub mod routing;
pub mod sla;
pub mod stages;
pub mod ticket_links;
pub mod tickets;
pub mod triggers;
pub mod two_factor;

use std::sync::Arc;

use domain::{Clock, Timestamp};

pub use crate::{
    error::{Error, Result},
    hub::Hub,
    ids::IdGen,
};
pub use db;

/// Settings of the use cases, from the binary's `Config`.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Staff sessions expire after this many hours without use.
    pub session_hours: i64,
    /// Widget visitor tokens live this many days.
    pub visitor_token_days: i64,
    /// A solved ticket closes itself after this many days (Zendesk's default is 4).
    pub auto_close_days: i64,
    /// Failed logins allowed per account and per client address per minute.
    pub login_attempts_per_minute: u32,
    /// Cheap password hashing for tests; never in production.
    pub fast_password_hashing: bool,
    /// Where customers reach this server (scheme, host, optional path; no trailing slash): the
    /// survey and tracking links sent in chats, emails and text messages start with it.
    pub public_url: String,
    /// Requests per minute to the public widget endpoints from one client address (0 = off).
    pub public_requests_per_minute: u32,
    /// Messages per minute one widget visitor may post (0 = off).
    pub visitor_messages_per_minute: u32,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            session_hours: 12,
            visitor_token_days: 30,
            auto_close_days: 4,
            login_attempts_per_minute: 10,
            fast_password_hashing: false,
            public_url: "http://127.0.0.1:8080".into(),
            public_requests_per_minute: 120,
            visitor_messages_per_minute: 30,
        }
    }
}

/// The system clock: the only place outside tests that reads real time.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)] // This is the one sanctioned reader of the system time.
    fn now(&self) -> Timestamp {
        let d =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        Timestamp::from_millis(d.as_millis() as i64)
    }
}

/// A clock that only moves when told to: tests step it, and the demo seeder uses it to lay a
/// month of history at the right times.
#[derive(Debug, Clone, Default)]
pub struct ManualClock(Arc<std::sync::atomic::AtomicI64>);

impl ManualClock {
    pub fn new(at: Timestamp) -> ManualClock {
        ManualClock(Arc::new(std::sync::atomic::AtomicI64::new(at.millis())))
    }
    pub fn set(&self, at: Timestamp) {
        self.0.store(at.millis(), std::sync::atomic::Ordering::SeqCst);
    }
    pub fn advance_millis(&self, ms: i64) {
        self.0.fetch_add(ms, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_millis(self.0.load(std::sync::atomic::Ordering::SeqCst))
    }
}

/// Everything a use case needs. Cheap to clone.
#[derive(Clone)]
pub struct App {
    pub(crate) db: db::Db,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) hub: Hub,
    pub(crate) settings: Arc<Settings>,
    pub(crate) ids: IdGen,
    pub(crate) limiter: Arc<auth::LoginLimiter>,
    /// Request counts of the public endpoints.
    pub(crate) hits: Arc<auth::HitLimiter>,
    pub(crate) visitors: Arc<auth::VisitorCache>,
    /// The group-committing message writer, started on first use.
    pub(crate) ingest: Arc<
        std::sync::OnceLock<tokio::sync::mpsc::UnboundedSender<Vec<intake::ingest::IngestReq>>>,
    >,
    /// The language engine, built on first use, and the models loaded per workspace.
    pub(crate) nlu: Arc<bot::nlu::NluCache>,
    /// One bot turn at a time per conversation.
    pub(crate) bot_turns: Arc<bot::runtime::TurnLocks>,
    /// Woken after a commit that enqueued a job, so the worker re-reads its next due time.
    pub(crate) jobs_wake: Arc<tokio::sync::Notify>,
    /// The knowledge base's search indexes, derived per workspace on first use.
    pub(crate) kb: Arc<bot::knowledge::KbCache>,
    /// The similar-solved-tickets indexes, derived per workspace on first use (TK-9).
    pub(crate) similar: Arc<bot::similar::SimilarCache>,
    /// WeChat access tokens per channel (issue 8).
    pub(crate) channel_tokens: Arc<channels::outbound::TokenCache>,
    /// The email channel's per-sender loop guard.
    pub(crate) email: Arc<channels::email::EmailState>,
    /// OIDC discovery documents and key sets per issuer.
    pub(crate) oidc: Arc<oidc::ProviderCache>,
    /// Set once the process is shutting down (see `ops.rs`).
    pub(crate) stop: Arc<tokio::sync::watch::Sender<bool>>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App").field("db", &self.db.dialect()).finish_non_exhaustive()
    }
}

impl App {
    pub fn new(db: db::Db, clock: Arc<dyn Clock>, settings: Settings) -> App {
        let hub = Hub::new(db.clone());
        let limiter = Arc::new(auth::LoginLimiter::new(settings.login_attempts_per_minute));
        App {
            db,
            clock,
            hub,
            settings: Arc::new(settings),
            ids: IdGen::default(),
            limiter,
            hits: Arc::default(),
            visitors: Arc::default(),
            ingest: Arc::default(),
            nlu: Arc::default(),
            bot_turns: Arc::default(),
            jobs_wake: Arc::default(),
            kb: Arc::default(),
            similar: Arc::default(),
            channel_tokens: Arc::default(),
            email: Arc::default(),
            oidc: Arc::default(),
            stop: Arc::new(tokio::sync::watch::Sender::new(false)),
        }
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    pub fn hub(&self) -> &Hub {
        &self.hub
    }

    pub fn db(&self) -> &db::Db {
        &self.db
    }

    /// Whether the database answers (readiness).
    pub async fn ready(&self) -> Result<()> {
        self.db.ping().await.map_err(Error::Internal)
    }

    /// Commits a write and wakes realtime subscribers of the workspace.
    pub(crate) async fn commit(&self, tx: db::WriteTx) -> Result<()> {
        let ws = tx.workspace();
        let enqueued = tx.enqueued();
        let events = tx.commit().await?;
        if enqueued {
            self.jobs_wake.notify_one();
        }
        if !events.is_empty() {
            self.hub.wake(ws);
        }
        Ok(())
    }
}
