//! Connectors to a company's own systems (order status, logistics, CRM), as data: a URL
//! template, method, headers, an optional JSON body template, a secret, a timeout, which hosts
//! on private networks an admin allows, and which response fields become template variables.
//! [`ConnectorDef::request`] renders the request for given variables; the effectful call (DNS,
//! the address check, HTTP) is `app::bot::connector`.

use crate::{
    config::ConfigError,
    template::{self, TemplateError, Vars},
};

/// The longest time a connector may take; a customer is waiting.
pub const MAX_TIMEOUT_MS: u64 = 10_000;
pub const DEFAULT_TIMEOUT_MS: u64 = 3_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Method {
    #[default]
    Get,
    Post,
}

impl Method {
    pub fn name(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
        }
    }

    pub fn parse(s: &str) -> Option<Method> {
        match s.to_ascii_uppercase().as_str() {
            "GET" => Some(Method::Get),
            "POST" => Some(Method::Post),
            _ => None,
        }
    }
}

/// One response field taken into the answer's variables: `status` ← `/data/status`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FieldMap {
    pub var: String,
    /// A JSON Pointer (RFC 6901) into the response body.
    pub pointer: String,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ConnectorDef {
    /// Unique in the workspace; flows name it.
    pub name: String,
    #[serde(default)]
    pub method: Method,
    /// `https://oms.example.com/api/orders/{{order_no}}`; values are percent-encoded.
    pub url: String,
    /// Header name and value template; `{{secret}}` is the connector's secret.
    #[serde(default)]
    pub headers: Vec<(String, String)>,
    /// A JSON body template for POST; values are escaped for JSON strings.
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub secret: Option<String>,
    #[serde(default = "default_timeout")]
    pub timeout_ms: u64,
    #[serde(default)]
    pub fields: Vec<FieldMap>,
    /// Hosts allowed although they resolve to loopback, private or link-local addresses.
    #[serde(default)]
    pub allow_hosts: Vec<String>,
}

fn default_timeout() -> u64 {
    DEFAULT_TIMEOUT_MS
}

/// A rendered request, ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: Method,
    pub url: String,
    /// The URL's host (no port, no brackets), for the address check.
    pub host: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
    pub timeout_ms: u64,
}

fn err(path: impl Into<String>, message: impl Into<String>) -> ConfigError {
    ConfigError { path: path.into(), message: message.into() }
}

impl ConnectorDef {
    /// Checks everything that can be checked without a call; `path` prefixes field names.
    pub fn validate(&self, path: &str) -> Result<(), ConfigError> {
        let ident = |s: &str| {
            !s.is_empty()
                && s.len() <= 64
                && s.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '.'))
        };
        if !ident(&self.name) {
            return Err(err(format!("{path}.name"), "must be 1–64 of a-z, 0-9, '_' or '.'"));
        }
        let (scheme, rest) = self
            .url
            .split_once("://")
            .ok_or_else(|| err(format!("{path}.url"), "must start with http:// or https://"))?;
        if scheme != "http" && scheme != "https" {
            return Err(err(format!("{path}.url"), "must start with http:// or https://"));
        }
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        if authority.contains("{{") {
            return Err(err(format!("{path}.url"), "the host may not contain placeholders"));
        }
        if host_of(authority).is_none() {
            return Err(err(format!("{path}.url"), "has no valid host"));
        }
        template::placeholders(&self.url).map_err(|e| err(format!("{path}.url"), e.to_string()))?;
        for (i, (name, value)) in self.headers.iter().enumerate() {
            if name.is_empty()
                || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            {
                return Err(err(
                    format!("{path}.headers[{i}].name"),
                    "must be letters, digits, '-' or '_'",
                ));
            }
            if value.contains(['\r', '\n']) {
                return Err(err(
                    format!("{path}.headers[{i}].value"),
                    "may not contain line breaks",
                ));
            }
            template::placeholders(value)
                .map_err(|e| err(format!("{path}.headers[{i}].value"), e.to_string()))?;
        }
        if let Some(body) = &self.body {
            if self.method == Method::Get {
                return Err(err(format!("{path}.body"), "a GET request has no body; use POST"));
            }
            template::placeholders(body).map_err(|e| err(format!("{path}.body"), e.to_string()))?;
        }
        if self.timeout_ms == 0 || self.timeout_ms > MAX_TIMEOUT_MS {
            return Err(err(format!("{path}.timeout_ms"), format!("must be 1–{MAX_TIMEOUT_MS}")));
        }
        for (i, f) in self.fields.iter().enumerate() {
            if !ident(&f.var) {
                return Err(err(
                    format!("{path}.fields[{i}].var"),
                    "must be 1–64 of a-z, 0-9, '_' or '.'",
                ));
            }
            if !(f.pointer.is_empty() || f.pointer.starts_with('/')) {
                return Err(err(
                    format!("{path}.fields[{i}].pointer"),
                    "must be a JSON Pointer such as /data/status",
                ));
            }
        }
        for (i, h) in self.allow_hosts.iter().enumerate() {
            if host_of(h).is_none() || h.contains('/') {
                return Err(err(
                    format!("{path}.allow_hosts[{i}]"),
                    "must be a host name or address",
                ));
            }
        }
        Ok(())
    }

    /// The request for `vars`; a placeholder without a value is an error (the flow then
    /// degrades as configured).
    pub fn request(&self, vars: &Vars) -> Result<Request, TemplateError> {
        let mut url_vars = Vars::new();
        for (k, v) in vars {
            url_vars.insert(k.clone(), percent_encode(v));
        }
        let mut header_vars = vars.clone();
        if let Some(secret) = &self.secret {
            url_vars.insert("secret".into(), percent_encode(secret));
            header_vars.insert("secret".into(), secret.clone());
        }
        let url = template::render(&self.url, &url_vars)?;
        let host = url
            .split_once("://")
            .and_then(|(_, rest)| host_of(rest.split(['/', '?', '#']).next().unwrap_or_default()))
            .unwrap_or_default();
        let mut headers = Vec::with_capacity(self.headers.len());
        for (name, value) in &self.headers {
            let v = template::render(value, &header_vars)?;
            // A value with a line break would split the header.
            headers.push((name.clone(), v.replace(['\r', '\n'], " ")));
        }
        let body = match &self.body {
            Some(b) => {
                let json_vars: Vars =
                    vars.iter().map(|(k, v)| (k.clone(), json_escape(v))).collect();
                Some(template::render(b, &json_vars)?)
            }
            None => None,
        };
        Ok(Request { method: self.method, url, host, headers, body, timeout_ms: self.timeout_ms })
    }

    /// Whether an admin allowed `host` although it is on a private network.
    pub fn allows(&self, host: &str) -> bool {
        self.allow_hosts.iter().any(|h| host_of(h).is_some_and(|h| h.eq_ignore_ascii_case(host)))
    }
}

/// The host of an authority (`user@host:port`, `[::1]:8080`), lower-cased, without brackets.
fn host_of(authority: &str) -> Option<String> {
    let a = authority.rsplit('@').next().unwrap_or_default();
    let host = if let Some(rest) = a.strip_prefix('[') {
        rest.split(']').next()?
    } else {
        a.split(':').next()?
    };
    let ok = !host.is_empty()
        && host.len() <= 253
        && host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '_'));
    ok.then(|| host.to_ascii_lowercase())
}

fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn json_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def() -> ConnectorDef {
        ConnectorDef {
            name: "orders".into(),
            method: Method::Get,
            url: "https://oms.example.com/api/orders/{{order_no}}?lang={{lang}}".into(),
            headers: vec![("Authorization".into(), "Bearer {{secret}}".into())],
            body: None,
            secret: Some("s3cret".into()),
            timeout_ms: DEFAULT_TIMEOUT_MS,
            fields: vec![FieldMap { var: "status".into(), pointer: "/data/status".into() }],
            allow_hosts: vec![],
        }
    }

    fn vars(pairs: &[(&str, &str)]) -> Vars {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn renders_an_encoded_url_and_the_secret_header() {
        let r = def().request(&vars(&[("order_no", "DD 1/2"), ("lang", "zh")])).unwrap();
        assert_eq!(r.url, "https://oms.example.com/api/orders/DD%201%2F2?lang=zh");
        assert_eq!(r.host, "oms.example.com");
        assert_eq!(r.headers, vec![("Authorization".to_owned(), "Bearer s3cret".to_owned())]);
        assert_eq!(
            def().request(&vars(&[("lang", "zh")])),
            Err(TemplateError::Missing("order_no".into()))
        );
    }

    #[test]
    fn escapes_body_values_for_json() {
        let d = ConnectorDef {
            method: Method::Post,
            url: "http://[::1]:8080/q".into(),
            body: Some(r#"{"order":"{{order_no}}"}"#.into()),
            ..def()
        };
        let r = d.request(&vars(&[("order_no", "a\"b\\c\n")])).unwrap();
        assert_eq!(r.body.unwrap(), r#"{"order":"a\"b\\c\n"}"#);
        assert_eq!(r.host, "::1");
    }

    #[test]
    fn validation_names_the_field() {
        def().validate("c").unwrap();
        let bad = |f: fn(&mut ConnectorDef)| {
            let mut d = def();
            f(&mut d);
            d.validate("c").unwrap_err().path
        };
        assert_eq!(bad(|d| d.url = "ftp://x/".into()), "c.url");
        assert_eq!(bad(|d| d.url = "http://{{host}}/x".into()), "c.url");
        assert_eq!(bad(|d| d.timeout_ms = 60_000), "c.timeout_ms");
        assert_eq!(bad(|d| d.headers.push(("X Bad".into(), "v".into()))), "c.headers[1].name");
        assert_eq!(bad(|d| d.body = Some("{}".into())), "c.body");
        assert_eq!(bad(|d| d.fields[0].pointer = "data.status".into()), "c.fields[0].pointer");
        assert_eq!(bad(|d| d.name = "Orders!".into()), "c.name");
    }

    #[test]
    fn allowed_hosts_match_case_insensitively() {
        let d =
            ConnectorDef { allow_hosts: vec!["OMS.internal".into(), "127.0.0.1".into()], ..def() };
        assert!(d.allows("oms.internal"));
        assert!(d.allows("127.0.0.1"));
        assert!(!d.allows("10.0.0.1"));
    }
}
