//! `huiting backup` and `huiting restore` for the embedded SQLite database, and the data
//! directory's lock file. The data directory holds only `huiting.db` (with its `-wal` and
//! `-shm` while open): uploads live in the database and search indexes are rebuilt on first
//! use, so a backup is one SQLite file. PostgreSQL is backed up with pg_dump.

use std::{
    fs::File,
    path::{Path, PathBuf},
    sync::Arc,
    time::Instant,
};

use anyhow::Context;

use crate::config::Config;

const DB_FILE: &str = "huiting.db";
const LOCK_FILE: &str = "huiting.lock";

/// The SQLite file in the data directory, or None when the database is PostgreSQL or a
/// `sqlite://` URL elsewhere.
fn sqlite_file(config: &Config) -> Option<PathBuf> {
    config.database.url.is_empty().then(|| config.storage.data_dir.join(DB_FILE))
}

/// Held (shared) by every running server on a SQLite data directory; `restore` needs it
/// exclusively. The OS releases it when the process ends, even by SIGKILL.
pub fn hold_data_dir(config: &Config) -> anyhow::Result<Option<File>> {
    if sqlite_file(config).is_none() {
        return Ok(None);
    }
    // A first start creates the data directory (the database is opened only afterwards).
    std::fs::create_dir_all(&config.storage.data_dir).with_context(|| {
        format!("cannot create the data directory {}", config.storage.data_dir.display())
    })?;
    let path = config.storage.data_dir.join(LOCK_FILE);
    let f = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("cannot open the lock file {}", path.display()))?;
    f.try_lock_shared().map_err(|_| {
        anyhow::anyhow!("a restore is running on {}; start the server after it", path.display())
    })?;
    Ok(Some(f))
}

fn postgres_message(what: &str) -> anyhow::Error {
    anyhow::anyhow!(
        "huiting {what} covers the embedded SQLite database; this server uses PostgreSQL: use \
         pg_dump -Fc / pg_restore (see docs/operations.md, \"Backup and restore\")"
    )
}

fn open_opts(file: &Path, config: &Config) -> db::DbOptions {
    let mut o = db::DbOptions::sqlite_file(file);
    o.sqlite_synchronous = config.database.sqlite_synchronous.clone();
    o.max_connections = 2;
    o
}

fn size(p: &Path) -> String {
    let b = std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    if b >= 1 << 20 {
        format!("{:.1} MiB", b as f64 / (1u64 << 20) as f64)
    } else {
        format!("{:.1} KiB", b as f64 / 1024.0)
    }
}

/// What a checked copy holds.
struct Checked {
    migration: i64,
    workspaces: usize,
    audit_entries: i64,
}

/// Checks a database file: SQLite's integrity check, a Huiting migration table this build
/// knows, and every workspace's audit chain.
async fn check_copy(file: &Path, config: &Config) -> anyhow::Result<Checked> {
    let db = db::Db::connect(&open_opts(file, config))
        .await
        .with_context(|| format!("opening {}", file.display()))?;
    let r = async {
        let problems = db.integrity_problems().await.context("not a SQLite database")?;
        anyhow::ensure!(
            problems.is_empty(),
            "the integrity check failed: {}",
            problems.into_iter().take(5).collect::<Vec<_>>().join("; ")
        );
        let applied = db.applied_migrations().await?;
        let known = db.known_migrations();
        anyhow::ensure!(!applied.is_empty(), "no migrations applied: not a Huiting database");
        if let Some(v) = applied.iter().find(|v| !known.contains(v)) {
            anyhow::bail!(
                "migration {v} is unknown to this build: the file comes from a newer Huiting; upgrade first"
            );
        }
        let app = app::App::new(db.clone(), Arc::new(app::SystemClock), config.app_settings());
        let verdicts = app.verify_all_audit(|_, _| {}).await?;
        for v in &verdicts {
            if let Some(b) = &v.broken {
                anyhow::bail!("workspace {}: the audit chain is broken after {} entries: {b}", v.slug, v.entries);
            }
        }
        Ok(Checked {
            migration: *applied.last().unwrap_or(&0),
            workspaces: verdicts.len(),
            audit_entries: verdicts.iter().map(|v| v.entries).sum(),
        })
    }
    .await;
    db.close().await;
    r
}

/// `huiting backup --to FILE`: an online copy while the server runs.
#[allow(clippy::print_stdout)] // The command reports on stdout.
pub async fn backup(config: &Config, to: &Path) -> anyhow::Result<()> {
    let src = sqlite_file(config).ok_or_else(|| postgres_message("backup"))?;
    anyhow::ensure!(src.exists(), "no database at {}: nothing to back up", src.display());
    anyhow::ensure!(!to.exists(), "{} exists; choose a new file name", to.display());
    let started = Instant::now();
    let partial = to.with_extension("partial");
    let _ = std::fs::remove_file(&partial);
    println!("copying {} ({}) …", src.display(), size(&src));
    let db = db::Db::connect(&open_opts(&src, config)).await?;
    let copied = db.vacuum_into(&partial).await;
    db.close().await;
    copied?;
    println!("checking the copy ({}) …", size(&partial));
    match check_copy(&partial, config).await {
        Ok(c) => {
            std::fs::rename(&partial, to)
                .with_context(|| format!("moving the copy to {}", to.display()))?;
            println!(
                "backup {} written: {}, migration {}, {} workspaces, {} audit entries verified, {:.1} s",
                to.display(),
                size(to),
                c.migration,
                c.workspaces,
                c.audit_entries,
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            Err(e.context("the copy failed its checks and was removed"))
        }
    }
}

/// `huiting restore --from FILE [--force]`.
#[allow(clippy::print_stdout)] // The command reports on stdout.
pub async fn restore(config: &Config, from: &Path, force: bool) -> anyhow::Result<()> {
    let target = sqlite_file(config).ok_or_else(|| postgres_message("restore"))?;
    anyhow::ensure!(from.is_file(), "{} is not a file", from.display());
    let dir = &config.storage.data_dir;
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the data directory {}", dir.display()))?;
    let lock_path = dir.join(LOCK_FILE);
    let lock = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .with_context(|| format!("cannot open the lock file {}", lock_path.display()))?;
    if lock.try_lock().is_err() {
        anyhow::ensure!(
            force,
            "a Huiting server is running on {} (it holds {}): stop it first, or pass --force",
            dir.display(),
            lock_path.display()
        );
        println!(
            "warning: a server holds {}; restoring anyway (--force); restart it",
            lock_path.display()
        );
    }
    let staged = dir.join(format!("{DB_FILE}.restoring"));
    for p in [&staged, &with_suffix(&staged, "-wal"), &with_suffix(&staged, "-shm")] {
        let _ = std::fs::remove_file(p);
    }
    std::fs::copy(from, &staged)
        .with_context(|| format!("copying {} into {}", from.display(), dir.display()))?;
    println!("checking {} ({}) …", from.display(), size(&staged));
    let checked = match check_copy(&staged, config).await {
        Ok(c) => c,
        Err(e) => {
            let _ = std::fs::remove_file(&staged);
            return Err(
                e.context(format!("{} cannot be restored; nothing was changed", from.display()))
            );
        }
    };
    if target.exists() {
        let bak = with_suffix(&target, ".bak");
        for suffix in ["", "-wal", "-shm"] {
            let old = with_suffix(&bak, suffix);
            let _ = std::fs::remove_file(&old);
            let cur = with_suffix(&target, suffix);
            if cur.exists() {
                std::fs::rename(&cur, &old)
                    .with_context(|| format!("moving {} aside", cur.display()))?;
            }
        }
        println!("the previous database is kept as {}", bak.display());
    }
    std::fs::rename(&staged, &target)
        .with_context(|| format!("moving the restored file to {}", target.display()))?;
    drop(lock);
    println!(
        "restored {} into {}: migration {}, {} workspaces, {} audit entries verified; start the server",
        from.display(),
        target.display(),
        checked.migration,
        checked.workspaces,
        checked.audit_entries
    );
    Ok(())
}

fn with_suffix(p: &Path, suffix: &str) -> PathBuf {
    let mut s = p.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}
