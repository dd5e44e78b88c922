//! Calling a connector (BOT-3, BOT-8): render the request, send it through [`crate::net`]
//! (internal addresses refused unless an admin allowed the host, DNS pinned, no redirects,
//! time and size caps), and map JSON fields into template variables.
//!
//! Every failure is a [`ConnectorOutcome::Failed`] with a reason for the logs; the dialogue
//! turns it into a polite message or a hand-off, never an error for the customer.

use std::time::Duration;

use dialogue::{
    ConnectorOutcome, Vars,
    connector::{ConnectorDef, Method},
};

pub use crate::net::{MAX_BODY_BYTES, is_internal};
use crate::net::{describe, pinned_client, read_capped};

/// Calls `def` with `vars` and maps the response.
pub async fn call(def: &ConnectorDef, vars: &Vars) -> ConnectorOutcome {
    match try_call(def, vars).await {
        Ok(fields) => ConnectorOutcome::Ok(fields),
        Err(reason) => {
            tracing::info!(connector = %def.name, %reason, "connector call failed");
            ConnectorOutcome::Failed(reason)
        }
    }
}

async fn try_call(def: &ConnectorDef, vars: &Vars) -> Result<Vars, String> {
    let req = def.request(vars).map_err(|e| format!("request template: {e}"))?;
    let timeout = Duration::from_millis(req.timeout_ms);
    let port = port_of(&req.url);
    let client = pinned_client(&req.host, port, def.allows(&req.host), timeout).await?;
    let mut rb = match req.method {
        Method::Get => client.get(&req.url),
        Method::Post => client.post(&req.url),
    };
    for (name, value) in &req.headers {
        rb = rb.header(name, value);
    }
    if let Some(body) = req.body {
        rb = rb.header("content-type", "application/json").body(body);
    }
    let work = async {
        let mut resp = rb.send().await.map_err(|e| describe(&e))?;
        let status = resp.status();
        if !status.is_success() {
            return Err(format!("HTTP {status}"));
        }
        let body = read_capped(&mut resp).await?;
        Ok(body)
    };
    let body = tokio::time::timeout(timeout, work).await.map_err(|_| "timed out".to_owned())??;
    let json: serde_json::Value =
        serde_json::from_slice(&body).map_err(|e| format!("response is not JSON: {e}"))?;
    Ok(map_fields(def, &json))
}

/// The mapped fields present in `json`; strings as they are, numbers and booleans as text.
/// A missing field is left out (an answer that needs it then degrades).
pub fn map_fields(def: &ConnectorDef, json: &serde_json::Value) -> Vars {
    let mut out = Vars::new();
    for f in &def.fields {
        let value = match json.pointer(&f.pointer) {
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(serde_json::Value::Number(n)) => n.to_string(),
            Some(serde_json::Value::Bool(b)) => b.to_string(),
            _ => continue,
        };
        out.insert(f.var.clone(), value);
    }
    out
}

fn port_of(url: &str) -> u16 {
    let https = url.starts_with("https://");
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or_default();
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let authority = authority.rsplit('@').next().unwrap_or_default();
    let port = match authority.rfind(']') {
        Some(i) => authority[i + 1..].strip_prefix(':'),
        None => authority.rsplit_once(':').map(|(_, p)| p),
    };
    port.and_then(|p| p.parse().ok()).unwrap_or(if https { 443 } else { 80 })
}

#[cfg(test)]
mod tests;
