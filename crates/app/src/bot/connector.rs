//! Calling a connector (BOT-3, BOT-8): render the request, refuse addresses on loopback,
//! private, link-local and other non-public networks unless an admin allowed the host (SSRF),
//! pin the connection to the addresses that were checked (no DNS rebinding), follow no
//! redirects, cap time and body size, and map JSON fields into template variables.
//!
//! Every failure is a [`ConnectorOutcome::Failed`] with a reason for the logs; the dialogue
//! turns it into a polite message or a hand-off, never an error for the customer.

use std::{
    net::{IpAddr, Ipv4Addr, SocketAddr},
    time::Duration,
};

use dialogue::{
    ConnectorOutcome, Vars,
    connector::{ConnectorDef, Method},
};

/// The largest response body read, in bytes.
pub const MAX_BODY_BYTES: usize = 1 << 20;

/// Whether `ip` is outside the public internet: loopback, private (RFC 1918, unique local),
/// link-local, carrier-grade NAT, multicast, documentation, benchmarking, reserved or
/// unspecified, including IPv4 addresses mapped or translated into IPv6.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => internal_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return internal_v4(v4);
            }
            let s = v6.segments();
            // NAT64 (64:ff9b::/96) carries an IPv4 address in its last 32 bits.
            if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
                return internal_v4(Ipv4Addr::new(
                    (s[6] >> 8) as u8,
                    s[6] as u8,
                    (s[7] >> 8) as u8,
                    s[7] as u8,
                ));
            }
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local
                || (s[0] & 0xffc0) == 0xfe80 // link-local
                || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
                || s[0..6] == [0, 0, 0, 0, 0, 0] // IPv4-compatible (deprecated) and ::
        }
    }
}

fn internal_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // carrier-grade NAT
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240 // reserved
}

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
    let addrs: Vec<SocketAddr> = match req.host.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, port)],
        Err(_) => tokio::time::timeout(timeout, tokio::net::lookup_host((req.host.as_str(), port)))
            .await
            .map_err(|_| format!("resolving {} timed out", req.host))?
            .map_err(|e| format!("resolving {}: {e}", req.host))?
            .collect(),
    };
    if addrs.is_empty() {
        return Err(format!("{} has no address", req.host));
    }
    if !def.allows(&req.host)
        && let Some(bad) = addrs.iter().find(|a| is_internal(a.ip()))
    {
        return Err(format!(
            "{} resolves to {}, an internal address; an admin must add the host to allow_hosts",
            req.host,
            bad.ip()
        ));
    }
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(timeout)
        .connect_timeout(timeout);
    if req.host.parse::<IpAddr>().is_err() {
        builder = builder.resolve_to_addrs(&req.host, &addrs);
    }
    let client = builder.build().map_err(|e| format!("http client: {e}"))?;
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
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| describe(&e))? {
            if body.len() + chunk.len() > MAX_BODY_BYTES {
                return Err(format!("response larger than {MAX_BODY_BYTES} bytes"));
            }
            body.extend_from_slice(&chunk);
        }
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

fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        "could not connect".into()
    } else {
        e.to_string()
    }
}

#[cfg(test)]
mod tests;
