//! The only crate that knows SQL. One [`Db`] handle serves SQLite (the default: one file, WAL,
//! a single writer connection and a pool of readers) and PostgreSQL (one pool), chosen once at
//! startup from the URL.
//!
//! Queries are plain, portable SQL with `$N` placeholders run through sqlx's `Any` driver, one
//! function per query in a module per aggregate, with the row mapping beside it. Storage uses
//! only text and 64-bit integers (ids as UUID text, instants as Unix milliseconds, lists as JSON
//! text), so one query text serves both dialects; where they differ (`FOR UPDATE`), the branch
//! lives in this crate.
//!
//! Every change of business state goes through a [`WriteTx`]: it locks the workspace's head
//! row, and its `emit` and `audit` calls write outbox events and hash-chained audit entries in
//! the same transaction as the change.

mod codec;
mod write;

pub mod alerts;
pub mod analytics;
pub mod audit;
pub mod backup;
pub mod bot;
pub mod channels;
pub mod chat_files;
pub mod cluster;
pub mod collaborations;
pub mod compensations;
pub mod conversations;
pub mod customers;
pub mod email;
pub mod events;
pub mod feedback;
pub mod jobs;
pub mod knowledge;
pub mod learning;
pub mod nlu;
pub mod oidc;
pub mod ops;
pub mod personal_data;
pub mod proactive;
pub mod quality;
pub mod reports;
pub mod routing;
pub mod similar;
pub mod sla;
pub mod stages;
pub mod ticket_links;
pub mod tickets;
pub mod translation;
pub mod triggers;
pub mod two_factor;
pub mod users;
pub mod workspaces;

use std::{path::Path, str::FromStr, time::Duration};

use anyhow::Context;
use sqlx::{
    ConnectOptions, Executor,
    any::{AnyConnectOptions, AnyPoolOptions},
    pool::PoolConnection,
};

pub use crate::write::WriteTx;
pub use sqlx::{Any, AnyConnection};

pub type Conn = PoolConnection<Any>;
pub type Result<T, E = anyhow::Error> = std::result::Result<T, E>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// The dialect of an open connection.
    pub(crate) fn of(c: &AnyConnection) -> Dialect {
        if c.backend_name() == <sqlx::Sqlite as sqlx::Database>::NAME {
            Dialect::Sqlite
        } else {
            Dialect::Postgres
        }
    }
}

/// How to reach the database; built by the binary from `Config`.
#[derive(Debug, Clone)]
pub struct DbOptions {
    /// `sqlite:///abs/path/huiting.db` or `postgres://…`.
    pub url: String,
    /// Reader connections (SQLite) or the whole pool (PostgreSQL).
    pub max_connections: u32,
    /// SQLite `synchronous`: `normal` (durable against a process crash; the default) or `full`
    /// (also against power loss, at the cost of an fsync per commit).
    pub sqlite_synchronous: String,
}

impl DbOptions {
    pub fn sqlite_file(path: &Path) -> DbOptions {
        DbOptions {
            url: format!("sqlite://{}?mode=rwc", path.display()),
            max_connections: 8,
            sqlite_synchronous: "normal".into(),
        }
    }
    pub fn dialect(&self) -> Result<Dialect> {
        if self.url.starts_with("sqlite:") {
            Ok(Dialect::Sqlite)
        } else if self.url.starts_with("postgres://") || self.url.starts_with("postgresql://") {
            Ok(Dialect::Postgres)
        } else {
            anyhow::bail!(
                "unsupported database URL {:?}: use sqlite://PATH or postgres://…",
                redact(&self.url)
            )
        }
    }
}

/// The URL with any password replaced, for messages and logs.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[derive(Debug, Clone)]
pub struct Db {
    dialect: Dialect,
    /// The PostgreSQL URL, for the LISTEN connection (`None` on SQLite).
    url: Option<String>,
    write: sqlx::AnyPool,
    read: sqlx::AnyPool,
}

static MIGRATE_SQLITE: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static MIGRATE_POSTGRES: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

impl Db {
    pub async fn connect(opts: &DbOptions) -> Result<Db> {
        sqlx::any::install_default_drivers();
        let dialect = opts.dialect()?;
        let url = opts.url.clone();
        let connect = AnyConnectOptions::from_str(&url)
            .with_context(|| format!("invalid database URL {:?}", redact(&url)))?
            .log_slow_statements(tracing::log::LevelFilter::Warn, Duration::from_millis(500));
        match dialect {
            Dialect::Sqlite => {
                let sync = match opts.sqlite_synchronous.as_str() {
                    "normal" => "NORMAL",
                    "full" => "FULL",
                    other => anyhow::bail!(
                        "database.sqlite_synchronous must be \"normal\" or \"full\", not {other:?}"
                    ),
                };
                let pragmas = format!(
                    "PRAGMA journal_mode = WAL; PRAGMA synchronous = {sync}; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000; PRAGMA wal_autocheckpoint = 0; PRAGMA temp_store = MEMORY;"
                );
                // The writer never checkpoints (wal_autocheckpoint = 0): copying the WAL back
                // into the database, with its fsync, stalled every few hundred commits by
                // ~20 ms. A background task checkpoints instead (see checkpoint_in_background).
                // temp_store = MEMORY keeps statement journals and temporary indexes in memory:
                // on disk, a multi-row INSERT inside a batch spilled its statement journal into a
                // fresh temporary file (create, write, unlink) most commits. Durability is the
                // WAL's business and does not change.
                // SQLite has one writer at a time. One writer connection makes writers queue
                // fairly in the pool instead of spinning on SQLITE_BUSY; readers never block it.
                let p = pragmas.clone();
                // No ping before each acquire (sqlx's default): a SQLite connection is a file
                // handle in this process, and the ping was a round trip to the connection's
                // worker thread on every acquire (several per chat message).
                let write = AnyPoolOptions::new()
                    .max_connections(1)
                    .min_connections(1)
                    .test_before_acquire(false)
                    .acquire_timeout(Duration::from_secs(30))
                    .after_connect(move |c, _| {
                        let p = p.clone();
                        Box::pin(async move {
                            c.execute(sqlx::raw_sql(sqlx::AssertSqlSafe(p))).await.map(|_| ())
                        })
                    })
                    .connect_with(connect.clone())
                    .await
                    .with_context(|| {
                        format!("cannot open the SQLite database {:?}", redact(&url))
                    })?;
                let read = AnyPoolOptions::new()
                    .max_connections(opts.max_connections.max(1))
                    .test_before_acquire(false)
                    .acquire_timeout(Duration::from_secs(30))
                    .after_connect(move |c, _| {
                        let p = pragmas.clone();
                        Box::pin(async move {
                            c.execute(sqlx::raw_sql(sqlx::AssertSqlSafe(p))).await.map(|_| ())
                        })
                    })
                    .connect_lazy_with(connect);
                tokio::spawn(checkpoint_in_background(read.clone()));
                Ok(Db { dialect, url: None, write, read })
            }
            Dialect::Postgres => {
                let pool = AnyPoolOptions::new()
                    .max_connections(opts.max_connections.max(2))
                    .acquire_timeout(Duration::from_secs(30))
                    .connect_with(connect)
                    .await
                    .with_context(|| format!("cannot connect to PostgreSQL at {:?}; is it running, and does the database exist?", redact(&url)))?;
                Ok(Db { dialect, url: Some(url), write: pool.clone(), read: pool })
            }
        }
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Applies pending migrations; safe to run on every start and from several processes.
    pub async fn migrate(&self) -> Result<()> {
        let m = match self.dialect {
            Dialect::Sqlite => &MIGRATE_SQLITE,
            Dialect::Postgres => &MIGRATE_POSTGRES,
        };
        m.run(&self.write).await.context("applying database migrations")?;
        Ok(())
    }

    /// A connection for reads. Writes go through [`Db::write`].
    pub async fn read(&self) -> Result<Conn> {
        self.read.acquire().await.context("acquiring a database connection")
    }

    /// A connection for bookkeeping writes that are not business state (session expiry, job
    /// leases); they are neither audited nor evented.
    pub async fn bookkeeping(&self) -> Result<Conn> {
        self.write.acquire().await.context("acquiring the database writer")
    }

    /// A transaction on the writer for derived data (analytics rollups): not business state,
    /// so neither evented nor audited, and not holding the workspace head lock.
    pub async fn derived(&self) -> Result<sqlx::Transaction<'static, Any>> {
        self.write.begin().await.context("beginning a transaction on the database writer")
    }

    /// Checks that the database answers; used by `/readyz`.
    pub async fn ping(&self) -> Result<()> {
        let mut c = self.read().await?;
        sqlx::query("SELECT 1").execute(&mut *c).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.write.close().await;
        self.read.close().await;
    }
}

/// Copies the WAL back into the database file every half second with a PASSIVE checkpoint,
/// which never blocks the writer or readers; SQLite restarts the WAL once a checkpoint has
/// caught up. Stops when the pool is closed.
async fn checkpoint_in_background(pool: sqlx::AnyPool) {
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        if pool.is_closed() {
            return;
        }
        let r = async {
            let mut c = pool.acquire().await?;
            sqlx::query("PRAGMA wal_checkpoint(PASSIVE)").execute(&mut *c).await
        }
        .await;
        if let Err(e) = r {
            tracing::warn!(error = %e, "WAL checkpoint failed; will retry");
        }
    }
}

/// Reads a text column as a parsed domain value, with the column named in the error.
pub(crate) fn parse_col<T, E: std::fmt::Display>(
    row: &sqlx::any::AnyRow,
    col: &str,
    parse: impl FnOnce(&str) -> Result<T, E>,
) -> Result<T> {
    use sqlx::Row;
    let s: String = row.try_get(col).with_context(|| format!("reading column {col}"))?;
    parse(&s).map_err(|e| anyhow::anyhow!("column {col} holds {s:?}: {e}"))
}

pub(crate) fn parse_opt_col<T, E: std::fmt::Display>(
    row: &sqlx::any::AnyRow,
    col: &str,
    parse: impl FnOnce(&str) -> Result<T, E>,
) -> Result<Option<T>> {
    use sqlx::Row;
    let s: Option<String> = row.try_get(col).with_context(|| format!("reading column {col}"))?;
    s.map(|s| parse(&s).map_err(|e| anyhow::anyhow!("column {col} holds {s:?}: {e}"))).transpose()
}

/// Runs `sql` (which selects by `$1` = workspace and `$2` = id) and maps the row, if any.
pub(crate) async fn one_by_id<T>(
    c: &mut sqlx::AnyConnection,
    sql: String,
    ws: domain::WorkspaceId,
    id: impl std::fmt::Display,
    map: fn(&sqlx::any::AnyRow) -> Result<T>,
) -> Result<Option<T>> {
    let r = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(ws.to_string())
        .bind(id.to_string())
        .fetch_optional(c)
        .await?;
    r.as_ref().map(map).transpose()
}

pub(crate) fn ts(row: &sqlx::any::AnyRow, col: &str) -> Result<domain::Timestamp> {
    use sqlx::Row;
    let v: i64 = row.try_get(col).with_context(|| format!("reading column {col}"))?;
    Ok(domain::Timestamp::from_millis(v))
}

pub(crate) fn opt_ts(row: &sqlx::any::AnyRow, col: &str) -> Result<Option<domain::Timestamp>> {
    use sqlx::Row;
    let v: Option<i64> = row.try_get(col).with_context(|| format!("reading column {col}"))?;
    Ok(v.map(domain::Timestamp::from_millis))
}

pub(crate) fn text(row: &sqlx::any::AnyRow, col: &str) -> Result<String> {
    use sqlx::Row;
    row.try_get(col).with_context(|| format!("reading column {col}"))
}

pub(crate) fn opt_text(row: &sqlx::any::AnyRow, col: &str) -> Result<Option<String>> {
    use sqlx::Row;
    row.try_get(col).with_context(|| format!("reading column {col}"))
}

pub(crate) fn int(row: &sqlx::any::AnyRow, col: &str) -> Result<i64> {
    use sqlx::Row;
    row.try_get(col).with_context(|| format!("reading column {col}"))
}

/// Whether an error is a unique-constraint violation (the caller turns it into a conflict).
pub fn is_unique_violation(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<sqlx::Error>()
            .and_then(|e| e.as_database_error())
            .is_some_and(|d| d.is_unique_violation())
    })
}

/// A dynamic list of bind values for queries whose WHERE clause depends on filters.
#[derive(Debug, Default)]
pub(crate) struct Binds(Vec<Bind>);

#[derive(Debug, Clone)]
pub(crate) enum Bind {
    Text(String),
    Int(i64),
}

impl Binds {
    /// Adds a value and returns its placeholder, `$N`.
    pub(crate) fn push(&mut self, b: Bind) -> String {
        self.0.push(b);
        format!("${}", self.0.len())
    }
    pub(crate) fn text(&mut self, s: impl Into<String>) -> String {
        self.push(Bind::Text(s.into()))
    }
    pub(crate) fn int(&mut self, v: i64) -> String {
        self.push(Bind::Int(v))
    }
    pub(crate) fn opt_text(&mut self, s: Option<String>) -> String {
        match s {
            Some(s) => self.text(s),
            None => "NULL".to_string(),
        }
    }
    /// A query over `sql` (built from trusted fragments and `$N` placeholders only) with the
    /// values bound in order.
    pub(crate) fn query<'q>(
        self,
        sql: String,
    ) -> sqlx::query::Query<'q, Any, sqlx::any::AnyArguments> {
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for b in self.0 {
            q = b.bind_to(q);
        }
        q
    }

    /// [`Binds::query`] in the placeholders `dialect` handles fastest. SQLite keeps named
    /// parameters (`$N`) in a linear list, so preparing and binding a statement with n of them
    /// costs O(n²) — thousands of parameters in a group commit or a multi-row INSERT. On SQLite
    /// the `$N` are rewritten to anonymous `?` and the values bound in text order (a value
    /// used twice is bound twice); PostgreSQL takes `$N` as they are.
    pub(crate) fn query_in<'q>(
        self,
        dialect: Dialect,
        sql: String,
    ) -> sqlx::query::Query<'q, Any, sqlx::any::AnyArguments> {
        match dialect {
            Dialect::Postgres => self.query(sql),
            Dialect::Sqlite => {
                let (sql, order) = anonymous_placeholders(&sql);
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                for i in order {
                    // A `$N` beyond the values binds NULL, as SQLite does for an unbound one.
                    q = match self.0.get(i) {
                        Some(b) => b.clone().bind_to(q),
                        None => q.bind(Option::<String>::None),
                    };
                }
                q
            }
        }
    }
}

impl Bind {
    fn bind_to<'q>(
        self,
        q: sqlx::query::Query<'q, Any, sqlx::any::AnyArguments>,
    ) -> sqlx::query::Query<'q, Any, sqlx::any::AnyArguments> {
        match self {
            Bind::Text(s) => q.bind(s),
            Bind::Int(v) => q.bind(v),
        }
    }
}

/// Rewrites the `$N` placeholders of `sql` that stand outside quoted text and comments to `?`,
/// returning the new text and, for each `?` in order, the 0-based index of its value.
pub(crate) fn anonymous_placeholders(sql: &str) -> (String, Vec<usize>) {
    let b = sql.as_bytes();
    let mut out = String::with_capacity(sql.len());
    let mut order = Vec::new();
    let (mut i, mut from) = (0, 0);
    while i < b.len() {
        match b[i] {
            // Quoted text or identifier: skip to the closing quote (a doubled quote closes and
            // reopens, which this handles as two spans).
            q @ (b'\'' | b'"') => {
                i += 1;
                while i < b.len() && b[i] != q {
                    i += 1;
                }
                i += 1;
            }
            b'-' if b.get(i + 1) == Some(&b'-') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'$' if b.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                let start = i;
                i += 1;
                let mut n = 0usize;
                while i < b.len() && b[i].is_ascii_digit() {
                    n = n.saturating_mul(10).saturating_add(usize::from(b[i] - b'0'));
                    i += 1;
                }
                out.push_str(&sql[from..start]);
                out.push('?');
                order.push(n.saturating_sub(1));
                from = i;
            }
            _ => i += 1,
        }
    }
    out.push_str(&sql[from.min(sql.len())..]);
    (out, order)
}

#[cfg(test)]
mod tests {
    #[test]
    fn redacts_passwords() {
        assert_eq!(super::redact("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(super::redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(super::redact("sqlite:///x.db"), "sqlite:///x.db");
    }

    #[test]
    fn numbered_placeholders_become_anonymous_in_text_order() {
        let (sql, order) = super::anonymous_placeholders(
            "SELECT '$1', \"a$2\" FROM t WHERE x = $2 AND (y < $10 OR (y = $10 AND z < $1)) -- $3\n; UPDATE h SET v = $3",
        );
        assert_eq!(
            sql,
            "SELECT '$1', \"a$2\" FROM t WHERE x = ? AND (y < ? OR (y = ? AND z < ?)) -- $3\n; UPDATE h SET v = ?"
        );
        assert_eq!(order, vec![1, 9, 9, 0, 2]);
        // Doubled quotes inside text, a `$` without digits, an unterminated quote.
        let (sql, order) = super::anonymous_placeholders("VALUES ('it''s $1', $ , $1, 'x");
        assert_eq!(sql, "VALUES ('it''s $1', $ , ?, 'x");
        assert_eq!(order, vec![0]);
    }
}

/// Keyset pagination in descending order of `(sort key, id)`: the page after `before`.
#[derive(Debug, Clone, Default)]
pub struct Page {
    pub limit: i64,
    pub before: Option<(i64, String)>,
}

impl Page {
    /// Appends `AND (key, id) < before` (spelled portably) and the ORDER BY / LIMIT tail.
    pub(crate) fn sql(&self, b: &mut Binds, key: &str, id: &str) -> String {
        let mut s = String::new();
        if let Some((k, i)) = &self.before {
            let (pk, pi) = (b.int(*k), b.text(i.clone()));
            s.push_str(&format!(" AND ({key} < {pk} OR ({key} = {pk} AND {id} < {pi}))"));
        }
        let lim = b.int(self.limit.clamp(1, 500));
        s.push_str(&format!(" ORDER BY {key} DESC, {id} DESC LIMIT {lim}"));
        s
    }
}
