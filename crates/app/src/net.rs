//! Outbound HTTP to addresses that users configure (bot connectors, channel APIs, event
//! webhooks), in one place: addresses on loopback, private, link-local and other non-public
//! networks are refused unless an admin allowed the host (SSRF), the connection is pinned to
//! the addresses that were checked (no DNS rebinding), redirects are not followed, and time
//! and body size are capped.

use std::{
    net::{IpAddr, Ipv4Addr, SocketAddr},
    time::Duration,
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

/// Whether `host` is in an admin's allow list (case-insensitive).
pub fn allowed(allow_hosts: &[String], host: &str) -> bool {
    allow_hosts.iter().any(|h| h.eq_ignore_ascii_case(host))
}

/// A client that reaches `host:port` only at addresses that passed the check: resolved once,
/// refused if internal (unless `allow_internal`), and pinned; no redirects, no proxy.
pub async fn pinned_client(
    host: &str,
    port: u16,
    allow_internal: bool,
    timeout: Duration,
) -> Result<reqwest::Client, String> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let addrs: Vec<SocketAddr> = match bare.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, port)],
        Err(_) => tokio::time::timeout(timeout, tokio::net::lookup_host((bare, port)))
            .await
            .map_err(|_| format!("resolving {host} timed out"))?
            .map_err(|e| format!("resolving {host}: {e}"))?
            .collect(),
    };
    if addrs.is_empty() {
        return Err(format!("{host} has no address"));
    }
    if !allow_internal && let Some(bad) = addrs.iter().find(|a| is_internal(a.ip())) {
        return Err(format!(
            "{host} resolves to {}, an internal address; an admin must add the host to allow_hosts",
            bad.ip()
        ));
    }
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(timeout)
        .connect_timeout(timeout);
    if bare.parse::<IpAddr>().is_err() {
        builder = builder.resolve_to_addrs(bare, &addrs);
    }
    builder.build().map_err(|e| format!("http client: {e}"))
}

/// One outbound request to a configured URL.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    pub post: bool,
    pub url: &'a str,
    pub headers: Vec<(&'static str, String)>,
    pub body: Option<Vec<u8>>,
    pub allow_hosts: &'a [String],
    pub timeout: Duration,
}

/// A response that arrived (any status), body capped at [`MAX_BODY_BYTES`].
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub body: Vec<u8>,
}

/// Sends `req` through [`pinned_client`]; an error is a transport failure (refused address,
/// DNS, connect, timeout, oversized body) with a reason for the logs.
pub async fn send(req: Request<'_>) -> Result<Response, String> {
    let url = reqwest::Url::parse(req.url).map_err(|e| format!("bad URL {:?}: {e}", req.url))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("only http and https URLs are called".into());
    }
    let host = url.host_str().ok_or("the URL has no host")?.to_string();
    let port = url.port_or_known_default().unwrap_or(80);
    let client = pinned_client(&host, port, allowed(req.allow_hosts, &host), req.timeout).await?;
    let mut rb = if req.post { client.post(url) } else { client.get(url) };
    for (name, value) in req.headers {
        rb = rb.header(name, value);
    }
    if let Some(body) = req.body {
        rb = rb.body(body);
    }
    let work = async {
        let mut resp = rb.send().await.map_err(|e| describe(&e))?;
        let status = resp.status().as_u16();
        let body = read_capped(&mut resp).await?;
        Ok(Response { status, body })
    };
    tokio::time::timeout(req.timeout, work).await.map_err(|_| "timed out".to_owned())?
}

/// Reads a response body, refusing one larger than [`MAX_BODY_BYTES`].
pub async fn read_capped(resp: &mut reqwest::Response) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| describe(&e))? {
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(format!("response larger than {MAX_BODY_BYTES} bytes"));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

pub fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        "could not connect".into()
    } else {
        // Errors name their URL; its query may carry a credential (WeChat's access_token),
        // and the text ends up in logs and in delivery records: keep scheme, host and path.
        let text = e.to_string();
        match e.url() {
            Some(u) if u.query().is_some() => {
                let mut bare = u.clone();
                bare.set_query(None);
                text.replace(u.as_str(), &format!("{bare}?…"))
            }
            _ => text,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_are_refused_in_every_spelling() {
        for a in [
            "127.0.0.1",
            "127.1.2.3",
            "10.0.0.1",
            "172.16.5.4",
            "192.168.1.1",
            "169.254.169.254", // cloud metadata
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "198.18.0.1",
            "240.0.0.1",
            "::1",
            "::",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::7f00:1",
            "::127.0.0.1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "ff02::1",
            "2001:db8::1",
        ] {
            assert!(is_internal(a.parse().unwrap()), "{a} must count as internal");
        }
        for a in ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"] {
            assert!(!is_internal(a.parse().unwrap()), "{a} is public");
        }
        assert!(allowed(&["Hooks.Example.com".into()], "hooks.example.com"));
        assert!(!allowed(&["hooks.example.com".into()], "evil.example.com"));
    }
}
