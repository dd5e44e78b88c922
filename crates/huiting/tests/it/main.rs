//! The integration suite: the real router on loopback against SQLite, and against PostgreSQL
//! when `HUITING_TEST_PG` is set; the real binary for the crash and CLI tests.

mod agent_kpis;
mod alerts;
mod analytics;
mod api;
mod authz;
mod bot;
mod bot_scripts;
mod channels;
mod cli;
mod cluster;
mod collaboration;
mod compensation;
mod crash;
mod email;
mod feedback;
mod knowledge;
mod learning;
mod logs;
mod nlu;
mod oidc;
mod ops;
mod overflow;
mod personal_data;
mod proactive;
mod quality;
mod realtime;
mod routing;
mod security;
mod similar;
mod sla;
mod story;
mod surveys;
mod ticket_links;
mod translation;
mod triggers;
mod typing;
mod uploads;
mod xss;

use serde_json::Value;

/// Every test that touches storage runs once per backend.
macro_rules! on_backends {
    ($name:ident, $body:expr) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            for backend in test_support::backends() {
                let t = test_support::spawn_app(backend.clone()).await;
                eprintln!("-- {} on {:?}", stringify!($name), backend);
                $body(t).await;
            }
        }
    };
}
pub(crate) use on_backends;

/// The `items` of a page, or the array itself.
pub fn items(v: &Value) -> Vec<Value> {
    v.get("items").unwrap_or(v).as_array().cloned().unwrap_or_default()
}

pub fn s(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}
