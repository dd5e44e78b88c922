//! The one typed configuration, loaded once: defaults, then `huiting.toml`, then
//! `HUITING__SECTION__KEY` environment variables, then command-line flags.

use std::path::{Path, PathBuf};

use anyhow::Context;
use figment::{
    Figment,
    providers::{Env, Format, Serialized, Toml},
};
use serde::{Deserialize, Serialize};

/// The example configuration, printed by `huiting default-config`.
pub const EXAMPLE: &str = include_str!("../../../config/huiting.example.toml");

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub server: Server,
    pub database: Database,
    pub storage: Storage,
    pub auth: Auth,
    pub tickets: Tickets,
    pub jobs: Jobs,
    pub log: Log,
    pub email: EmailCfg,
}

#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Server {
    pub listen: String,
    pub secure_cookies: bool,
    /// How customers reach the server, for links in messages; empty: `http://` + `listen`.
    pub public_url: String,
    /// The bearer token for `GET /metrics`; empty: loopback clients only.
    pub metrics_token: String,
    /// How long a shutdown waits for in-flight requests and the running job.
    pub shutdown_grace_seconds: u64,
}

impl std::fmt::Debug for Server {
    // The metrics token is a secret: never print it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("listen", &self.listen)
            .field("secure_cookies", &self.secure_cookies)
            .field("public_url", &self.public_url)
            .field("metrics_token", &if self.metrics_token.is_empty() { "" } else { "***" })
            .field("shutdown_grace_seconds", &self.shutdown_grace_seconds)
            .finish()
    }
}

impl Default for Server {
    fn default() -> Server {
        Server {
            listen: "127.0.0.1:8080".into(),
            secure_cookies: false,
            public_url: String::new(),
            metrics_token: String::new(),
            shutdown_grace_seconds: 30,
        }
    }
}

impl Server {
    /// The public address without a trailing slash.
    pub fn public_url(&self) -> String {
        let url = self.public_url.trim().trim_end_matches('/');
        if url.is_empty() { format!("http://{}", self.listen) } else { url.to_string() }
    }
}

#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Database {
    pub url: String,
    pub max_connections: u32,
    pub sqlite_synchronous: String,
}

impl Default for Database {
    fn default() -> Database {
        Database { url: String::new(), max_connections: 8, sqlite_synchronous: "normal".into() }
    }
}

impl std::fmt::Debug for Database {
    // The URL may carry a password: never print it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database")
            .field("url", &db::redact(&self.url))
            .field("max_connections", &self.max_connections)
            .field("sqlite_synchronous", &self.sqlite_synchronous)
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Storage {
    pub data_dir: PathBuf,
}

impl Default for Storage {
    fn default() -> Storage {
        Storage { data_dir: PathBuf::from("./huiting-data") }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Auth {
    pub session_hours: i64,
    pub visitor_token_days: i64,
    pub login_attempts_per_minute: u32,
    pub public_requests_per_minute: u32,
    pub visitor_messages_per_minute: u32,
}

impl Default for Auth {
    fn default() -> Auth {
        Auth {
            session_hours: 12,
            visitor_token_days: 30,
            login_attempts_per_minute: 10,
            public_requests_per_minute: 120,
            visitor_messages_per_minute: 30,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Tickets {
    pub auto_close_days: i64,
}

impl Default for Tickets {
    fn default() -> Tickets {
        Tickets { auto_close_days: 4 }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Jobs {
    pub poll_interval_ms: u64,
}

impl Default for Jobs {
    fn default() -> Jobs {
        Jobs { poll_interval_ms: 500 }
    }
}

/// The email channel's process-level switches (issue 8); servers and addresses are per
/// workspace (`PUT /api/v1/channels/email`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EmailCfg {
    /// Read the IMAP mailboxes of workspaces that configured one.
    pub imap_readers: bool,
    /// Seconds between re-reads of the workspaces' email settings.
    pub rescan_seconds: u64,
    /// Accept mail by SMTP on this address (e.g. "127.0.0.1:2525"); empty: off.
    pub smtp_listen: String,
    /// Accept mail by LMTP on this address (e.g. "127.0.0.1:2424"); empty: off.
    pub lmtp_listen: String,
}

impl Default for EmailCfg {
    fn default() -> EmailCfg {
        EmailCfg {
            imap_readers: true,
            rescan_seconds: 30,
            smtp_listen: String::new(),
            lmtp_listen: String::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Log {
    pub format: String,
    pub level: String,
}

impl Default for Log {
    fn default() -> Log {
        Log { format: "text".into(), level: "info".into() }
    }
}

impl Config {
    /// Loads the layers. `file` is the `--config` path; without it, `huiting.toml` in the
    /// working directory is read if present.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Config> {
        let mut f = Figment::from(Serialized::defaults(Config::default()));
        match file {
            Some(p) => {
                anyhow::ensure!(p.exists(), "config file {} does not exist", p.display());
                f = f.merge(Toml::file(p));
            }
            None => f = f.merge(Toml::file("huiting.toml")),
        }
        f = f.merge(Env::prefixed("HUITING__").split("__"));
        let c: Config = f
            .extract()
            .context("invalid configuration (see `huiting default-config` for every key)")?;
        c.check()?;
        Ok(c)
    }

    fn check(&self) -> anyhow::Result<()> {
        anyhow::ensure!(
            matches!(self.database.sqlite_synchronous.as_str(), "normal" | "full"),
            "database.sqlite_synchronous must be \"normal\" or \"full\""
        );
        anyhow::ensure!(
            matches!(self.log.format.as_str(), "text" | "json"),
            "log.format must be \"text\" or \"json\""
        );
        let public = self.server.public_url.trim();
        anyhow::ensure!(
            public.is_empty()
                || ((public.starts_with("https://") || public.starts_with("http://"))
                    && !public.contains(char::is_whitespace)
                    && public.len() > "https://".len()),
            "server.public_url must be empty or an http(s):// address such as https://help.example.com, not {public:?}"
        );
        anyhow::ensure!(self.auth.session_hours > 0, "auth.session_hours must be positive");
        anyhow::ensure!(
            self.tickets.auto_close_days > 0,
            "tickets.auto_close_days must be positive"
        );
        Ok(())
    }

    /// The database to use: the configured URL, or the SQLite file in the data dir.
    pub fn db_options(&self) -> anyhow::Result<db::DbOptions> {
        let mut o = if self.database.url.is_empty() {
            let dir = &self.storage.data_dir;
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create the data directory {}", dir.display()))?;
            let dir =
                dir.canonicalize().with_context(|| format!("cannot resolve {}", dir.display()))?;
            db::DbOptions::sqlite_file(&dir.join("huiting.db"))
        } else {
            db::DbOptions {
                url: self.database.url.clone(),
                max_connections: 8,
                sqlite_synchronous: "normal".into(),
            }
        };
        o.max_connections = self.database.max_connections;
        o.sqlite_synchronous = self.database.sqlite_synchronous.clone();
        Ok(o)
    }

    pub fn app_settings(&self) -> app::Settings {
        app::Settings {
            session_hours: self.auth.session_hours,
            visitor_token_days: self.auth.visitor_token_days,
            auto_close_days: self.tickets.auto_close_days,
            login_attempts_per_minute: self.auth.login_attempts_per_minute,
            fast_password_hashing: false,
            public_url: self.server.public_url(),
            public_requests_per_minute: self.auth.public_requests_per_minute,
            visitor_messages_per_minute: self.auth.visitor_messages_per_minute,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_config_is_the_defaults() {
        let parsed: Config = toml::from_str(EXAMPLE).expect("the example config parses");
        assert_eq!(
            parsed,
            Config::default(),
            "config/huiting.example.toml is out of step with Config::default()"
        );
        // Every key of the defaults appears in the example (deny_unknown_fields covers the reverse).
        let defaults = toml::to_string(&Config::default()).unwrap();
        for line in defaults.lines().filter(|l| l.contains(" = ")) {
            let key = line.split(" = ").next().unwrap();
            assert!(
                EXAMPLE.lines().any(|l| l.starts_with(&format!("{key} = "))),
                "key {key} missing from the example config"
            );
        }
    }
}
