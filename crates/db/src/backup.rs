//! Online backup of the embedded SQLite database and the checks a copy must pass before it
//! is trusted (`huiting backup`, `huiting restore`). PostgreSQL is backed up with its own
//! tools (`pg_dump`), see `docs/operations.md`.

use std::path::Path;

use anyhow::Context;

use crate::{Db, Dialect, MIGRATE_POSTGRES, MIGRATE_SQLITE, Result, int, text};

impl Db {
    /// Writes a consistent copy of the SQLite database to `to` (which must not exist) with
    /// `VACUUM INTO`, on a reader connection: writers go on meanwhile, and the copy is the
    /// database as of one read transaction.
    pub async fn vacuum_into(&self, to: &Path) -> Result<()> {
        anyhow::ensure!(
            self.dialect == Dialect::Sqlite,
            "online backup is for the embedded SQLite database; use pg_dump for PostgreSQL"
        );
        let path = to.to_str().context("the backup path is not valid UTF-8")?;
        let mut c = self.read().await?;
        sqlx::query("VACUUM INTO $1")
            .bind(path)
            .execute(&mut *c)
            .await
            .with_context(|| format!("copying the database into {}", to.display()))?;
        Ok(())
    }

    /// `PRAGMA integrity_check` (SQLite): empty when the file is sound, else SQLite's findings.
    pub async fn integrity_problems(&self) -> Result<Vec<String>> {
        if self.dialect != Dialect::Sqlite {
            return Ok(Vec::new());
        }
        let mut c = self.read().await?;
        let rows = sqlx::query("PRAGMA integrity_check").fetch_all(&mut *c).await?;
        let found: Vec<String> =
            rows.iter().map(|r| text(r, "integrity_check")).collect::<Result<_>>()?;
        Ok(found.into_iter().filter(|s| s != "ok").collect())
    }

    /// The migration versions applied to this database, oldest first; an error when it has
    /// no migration table (not a Huiting database).
    pub async fn applied_migrations(&self) -> Result<Vec<i64>> {
        let mut c = self.read().await?;
        let rows =
            sqlx::query("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
                .fetch_all(&mut *c)
                .await
                .context("no migration table: this is not a Huiting database")?;
        rows.iter().map(|r| int(r, "version")).collect()
    }

    /// The migration versions this build knows, oldest first.
    pub fn known_migrations(&self) -> Vec<i64> {
        let m = match self.dialect {
            Dialect::Sqlite => &MIGRATE_SQLITE,
            Dialect::Postgres => &MIGRATE_POSTGRES,
        };
        m.iter().map(|m| m.version).collect()
    }
}
