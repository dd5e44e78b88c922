//! OIDC single sign-on for staff (issue 9 item 4): an admin names the workspace's identity
//! provider (issuer, client id, write-only client secret, allowed email domains, whether unknown
//! users are refused or created with a role); a login is the authorization-code flow with PKCE
//! (S256), `state` and `nonce`, kept server-side as a single-use `oidc_logins` row bound to the
//! browser that started it. The callback exchanges the code, verifies the ID token (signature
//! against the provider's JWKS, `iss`, `aud`, `azp`, `exp`, `iat`, `nonce`), maps the subject to a
//! staff user (a stored link; the first login links by the verified email of an active user) and
//! opens the same session a password login opens. Discovery documents and key sets are cached
//! per issuer for an hour, and refetched at once for a key id they lack. Every call to the
//! provider goes through [`crate::net`] (internal addresses only for hosts the admin allowed).

use std::{collections::HashMap, sync::Mutex, time::Duration};

use domain::{Actor, Audience, Email, Event, Role, Snapshot, Timestamp, User, UserId, WorkspaceId};

use crate::{
    App, Error, Result,
    auth::{Admin, Session},
    error::OrNotFound,
    ids::hash_secret,
    intake::snapshot,
    net,
};

/// How long a login attempt waits for its callback.
pub const ATTEMPT_SECS: i64 = 600;
/// How long a discovery document and its key set are reused.
const CACHE_SECS: i64 = 3600;
/// Clock skew tolerated on `exp` and `iat`.
const SKEW_SECS: i64 = 120;
const TIMEOUT: Duration = Duration::from_secs(10);

/// Why a single sign-on failed; each has a stable public code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SsoFailure {
    /// The workspace has no enabled provider.
    Disabled,
    /// The `state` is unknown, tampered with, of another workspace or of another browser.
    StateInvalid,
    StateExpired,
    /// The `state` was already used by an earlier callback.
    StateReused,
    /// The provider answered the authorization request with an error (e.g. the user declined).
    ProviderError,
    /// The provider could not be reached or answered nonsense.
    ProviderUnreachable,
    /// The code exchange failed or the ID token did not verify.
    TokenInvalid,
    /// No staff user has this identity, and the workspace does not create users.
    UnknownUser,
    UserDisabled,
    DomainNotAllowed,
    /// The provider did not vouch for the email address of a user not yet linked.
    EmailUnverified,
}

impl SsoFailure {
    pub fn code(self) -> &'static str {
        match self {
            SsoFailure::Disabled => "sso_disabled",
            SsoFailure::StateInvalid => "sso_state_invalid",
            SsoFailure::StateExpired => "sso_state_expired",
            SsoFailure::StateReused => "sso_state_reused",
            SsoFailure::ProviderError => "sso_provider_error",
            SsoFailure::ProviderUnreachable => "sso_provider_unreachable",
            SsoFailure::TokenInvalid => "sso_token_invalid",
            SsoFailure::UnknownUser => "sso_unknown_user",
            SsoFailure::UserDisabled => "sso_user_disabled",
            SsoFailure::DomainNotAllowed => "sso_domain_not_allowed",
            SsoFailure::EmailUnverified => "sso_email_unverified",
        }
    }
}

/// A failed single sign-on: the kind, and a message for the person (never a secret).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct SsoError {
    pub failure: SsoFailure,
    pub message: String,
}

fn fail(failure: SsoFailure, message: impl Into<String>) -> Error {
    Error::Sso(SsoError { failure, message: message.into() })
}

/// The workspace's provider settings as an admin sees them: the secret only as "set or not".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsoSettingsView {
    pub issuer: String,
    pub client_id: String,
    pub client_secret_set: bool,
    pub enabled: bool,
    pub allowed_domains: Vec<String>,
    pub provision_role: Option<Role>,
    pub allow_hosts: Vec<String>,
    /// What to register at the provider as the redirect (callback) URI.
    pub redirect_uri: String,
}

/// New settings. A missing, empty or `***` secret keeps the stored one (write-only secrets,
/// as for channels).
#[derive(Debug, Clone, Default)]
pub struct SsoSettingsInput {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: Option<String>,
    pub enabled: bool,
    pub allowed_domains: Vec<String>,
    pub provision_role: Option<String>,
    pub allow_hosts: Vec<String>,
}

/// Where the start endpoint sends the browser, and the secret binding the attempt to it.
#[derive(Debug, Clone)]
pub struct SsoStart {
    pub authorize_url: String,
    pub browser_secret: String,
}

/// A successful sign-on: the session and the local path to go to.
#[derive(Debug, Clone)]
pub struct SsoLogin {
    pub session: Session,
    pub next: String,
}

/// What the provider's redirect to the callback carries.
#[derive(Debug, Clone, Default)]
pub struct Callback {
    pub code: Option<String>,
    pub state: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
    /// RFC 9207: the issuer of the response, when the provider sends it (mix-up defence).
    pub iss: Option<String>,
}

/// The parts of a discovery document used, and the provider's keys.
#[derive(Debug, Clone)]
struct Provider {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    userinfo_endpoint: Option<String>,
    post_auth_only: bool,
    keys: Vec<jwt::Jwk>,
    fetched_at: Timestamp,
}

/// Discovery documents and key sets by issuer.
#[derive(Debug, Default)]
pub struct ProviderCache(Mutex<HashMap<String, Provider>>);

impl ProviderCache {
    fn get(&self, issuer: &str, now: Timestamp) -> Option<Provider> {
        let m = self.0.lock().unwrap_or_else(|e| e.into_inner());
        m.get(issuer).filter(|p| now.millis() - p.fetched_at.millis() < CACHE_SECS * 1000).cloned()
    }
    fn put(&self, p: Provider) {
        let mut m = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if m.len() > 1000 {
            m.clear();
        }
        m.insert(p.issuer.clone(), p);
    }
}

/// Checking and verifying ID tokens (JWS compact form) against a JWK set; pure.
pub mod jwt {
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
    use ring::signature;
    use serde_json::Value;

    /// One public key of the provider.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Jwk {
        pub kid: Option<String>,
        pub kty: String,
        pub alg: Option<String>,
        /// RSA modulus and exponent, or the EC / OKP coordinates, raw bytes.
        pub n: Vec<u8>,
        pub e: Vec<u8>,
        pub crv: Option<String>,
        pub x: Vec<u8>,
        pub y: Vec<u8>,
    }

    fn b64(v: &Value, k: &str) -> Vec<u8> {
        v[k].as_str()
            .and_then(|s| URL_SAFE_NO_PAD.decode(s.trim_end_matches('=')).ok())
            .unwrap_or_default()
    }

    /// The signing keys of a JWK set document (`{"keys": [...]}`); others are skipped.
    pub fn parse_jwks(doc: &Value) -> Vec<Jwk> {
        let Some(keys) = doc["keys"].as_array() else { return Vec::new() };
        keys.iter()
            .filter(|k| k["use"].as_str().is_none_or(|u| u == "sig"))
            .filter_map(|k| {
                Some(Jwk {
                    kid: k["kid"].as_str().map(str::to_string),
                    kty: k["kty"].as_str()?.to_string(),
                    alg: k["alg"].as_str().map(str::to_string),
                    n: b64(k, "n"),
                    e: b64(k, "e"),
                    crv: k["crv"].as_str().map(str::to_string),
                    x: b64(k, "x"),
                    y: b64(k, "y"),
                })
            })
            .collect()
    }

    /// A token whose signature checked out, with its header and claims.
    #[derive(Debug, Clone)]
    pub struct Verified {
        pub header: Value,
        pub claims: Value,
    }

    /// Why a token did not verify.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub enum Refusal {
        /// No key with the token's `kid` (the caller may refetch the key set once).
        UnknownKey,
        Bad(String),
    }

    fn bad(s: impl Into<String>) -> Refusal {
        Refusal::Bad(s.into())
    }

    /// Checks the signature of `token` with the matching key of `keys`. Only asymmetric
    /// algorithms are accepted (RS*, PS*, ES256, ES384, EdDSA); `none` and HS* are refused.
    pub fn verify(token: &str, keys: &[Jwk]) -> Result<Verified, Refusal> {
        let mut parts = token.split('.');
        let (Some(h), Some(p), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad("the ID token is not a signed JWT (three parts)"));
        };
        let dec =
            |x: &str| URL_SAFE_NO_PAD.decode(x).map_err(|_| bad("the ID token is not base64url"));
        let header: Value = serde_json::from_slice(&dec(h)?)
            .map_err(|_| bad("the ID token's header is not JSON"))?;
        let claims: Value = serde_json::from_slice(&dec(p)?)
            .map_err(|_| bad("the ID token's claims are not JSON"))?;
        let sig = dec(s)?;
        let alg = header["alg"].as_str().unwrap_or_default().to_string();
        use signature::VerificationAlgorithm as Algo;
        let rsa = |p: &'static signature::RsaParameters| ("RSA", Some(p), None);
        let other = |kty, a: &'static dyn Algo| (kty, None, Some(a));
        let (kty, rsa_params, algo) = match alg.as_str() {
            "RS256" => rsa(&signature::RSA_PKCS1_2048_8192_SHA256),
            "RS384" => rsa(&signature::RSA_PKCS1_2048_8192_SHA384),
            "RS512" => rsa(&signature::RSA_PKCS1_2048_8192_SHA512),
            "PS256" => rsa(&signature::RSA_PSS_2048_8192_SHA256),
            "PS384" => rsa(&signature::RSA_PSS_2048_8192_SHA384),
            "PS512" => rsa(&signature::RSA_PSS_2048_8192_SHA512),
            "ES256" => other("EC", &signature::ECDSA_P256_SHA256_FIXED),
            "ES384" => other("EC", &signature::ECDSA_P384_SHA384_FIXED),
            "EdDSA" => other("OKP", &signature::ED25519),
            other => return Err(bad(format!("ID token algorithm {other:?} is not accepted"))),
        };
        let kid = header["kid"].as_str();
        let candidates: Vec<&Jwk> = keys
            .iter()
            .filter(|k| k.kty == kty)
            .filter(|k| k.alg.as_deref().is_none_or(|a| a == alg))
            .filter(|k| kid.is_none() || k.kid.as_deref() == kid)
            .collect();
        if candidates.is_empty() {
            return Err(Refusal::UnknownKey);
        }
        let message = &token.as_bytes()[..h.len() + 1 + p.len()];
        for k in candidates {
            let ok = match (rsa_params, algo) {
                (Some(params), _) => signature::RsaPublicKeyComponents { n: &k.n, e: &k.e }
                    .verify(params, message, &sig)
                    .is_ok(),
                (None, None) => false,
                (None, Some(algo)) if kty == "EC" => {
                    let want = if alg == "ES256" { "P-256" } else { "P-384" };
                    if k.crv.as_deref() != Some(want) {
                        continue;
                    }
                    let mut point = vec![4u8];
                    point.extend_from_slice(&k.x);
                    point.extend_from_slice(&k.y);
                    signature::UnparsedPublicKey::new(algo, &point).verify(message, &sig).is_ok()
                }
                (None, Some(algo)) => {
                    k.crv.as_deref() == Some("Ed25519")
                        && signature::UnparsedPublicKey::new(algo, &k.x)
                            .verify(message, &sig)
                            .is_ok()
                }
            };
            if ok {
                return Ok(Verified { header, claims });
            }
        }
        Err(bad("the ID token's signature does not verify"))
    }

    /// The claim checks of OIDC Core 3.1.3.7 that follow the signature: issuer, audience,
    /// authorized party, expiry, issue time and nonce. `now` is Unix seconds.
    pub fn check_claims(
        claims: &Value,
        issuer: &str,
        client_id: &str,
        nonce: &str,
        now: i64,
        skew: i64,
    ) -> Result<(), String> {
        if claims["iss"].as_str() != Some(issuer) {
            return Err(format!("the ID token's issuer is not {issuer}"));
        }
        let aud: Vec<&str> = match &claims["aud"] {
            Value::String(s) => vec![s.as_str()],
            Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        if !aud.contains(&client_id) {
            return Err("the ID token is not meant for this client (aud)".into());
        }
        if let Some(azp) = claims["azp"].as_str() {
            if azp != client_id {
                return Err("the ID token names another authorized party (azp)".into());
            }
        } else if aud.len() > 1 {
            return Err("the ID token has several audiences and no azp".into());
        }
        let exp = claims["exp"].as_i64().ok_or("the ID token has no exp")?;
        if exp + skew <= now {
            return Err("the ID token has expired".into());
        }
        let iat = claims["iat"].as_i64().ok_or("the ID token has no iat")?;
        if iat - skew > now {
            return Err("the ID token was issued in the future".into());
        }
        match claims["nonce"].as_str() {
            Some(n) if crate::auth::constant_eq(n.as_bytes(), nonce.as_bytes()) => {}
            _ => return Err("the ID token's nonce does not match this login".into()),
        }
        if claims["sub"].as_str().is_none_or(|s| s.is_empty() || s.len() > 255) {
            return Err("the ID token has no usable subject".into());
        }
        Ok(())
    }

    #[cfg(test)]
    mod tests {
        use ring::{
            rand::SystemRandom,
            signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair},
        };
        use serde_json::json;

        use super::*;

        fn es256(claims: &Value, kid: &str) -> (String, Jwk) {
            let rng = SystemRandom::new();
            let pkcs8 =
                EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
            let kp =
                EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
                    .unwrap();
            let h = URL_SAFE_NO_PAD.encode(json!({"alg": "ES256", "kid": kid}).to_string());
            let p = URL_SAFE_NO_PAD.encode(claims.to_string());
            let msg = format!("{h}.{p}");
            let sig = kp.sign(&rng, msg.as_bytes()).unwrap();
            let pk = kp.public_key().as_ref();
            let jwk = json!({"kty": "EC", "crv": "P-256", "kid": kid,
                "x": URL_SAFE_NO_PAD.encode(&pk[1..33]), "y": URL_SAFE_NO_PAD.encode(&pk[33..])});
            let key = parse_jwks(&json!({"keys": [jwk]})).remove(0);
            (format!("{msg}.{}", URL_SAFE_NO_PAD.encode(sig.as_ref())), key)
        }

        #[test]
        fn signatures_verify_only_with_the_right_key_and_intact_token() {
            let claims = json!({"iss": "https://id.example", "aud": "c1", "sub": "u1",
                "exp": 2000, "iat": 1000, "nonce": "n1"});
            let (token, key) = es256(&claims, "k1");
            let v = verify(&token, std::slice::from_ref(&key)).unwrap();
            assert_eq!(v.claims["sub"], "u1");
            let (_, other) = es256(&claims, "k1");
            assert!(matches!(verify(&token, &[other]), Err(Refusal::Bad(_))));
            let (_, k2) = es256(&claims, "k2");
            assert_eq!(verify(&token, &[k2]).unwrap_err(), Refusal::UnknownKey);
            // A changed claim breaks the signature.
            let mut parts: Vec<String> = token.split('.').map(str::to_string).collect();
            parts[1] = URL_SAFE_NO_PAD.encode(json!({"sub": "admin"}).to_string());
            assert!(verify(&parts.join("."), std::slice::from_ref(&key)).is_err());
            // alg none and HS256 are refused whatever the key.
            for alg in ["none", "HS256"] {
                let h = URL_SAFE_NO_PAD.encode(json!({"alg": alg}).to_string());
                let t = format!("{h}.{}.{}", parts[1], parts[2]);
                assert!(matches!(verify(&t, std::slice::from_ref(&key)), Err(Refusal::Bad(_))));
            }
            assert!(verify("a.b", &[key]).is_err());
        }

        #[test]
        fn claims_are_checked() {
            let ok = json!({"iss": "https://id.example", "aud": ["c1"], "sub": "u1",
                "exp": 2000, "iat": 1000, "nonce": "n1"});
            let check = |c: &Value, now| check_claims(c, "https://id.example", "c1", "n1", now, 60);
            assert_eq!(check(&ok, 1500), Ok(()));
            assert!(check(&ok, 2060).unwrap_err().contains("expired"));
            assert!(check(&ok, 950).is_ok(), "within the skew");
            assert!(check(&ok, 800).unwrap_err().contains("future"));
            for (k, v) in [
                ("iss", json!("https://evil.example")),
                ("aud", json!("c2")),
                ("nonce", json!("n2")),
                ("sub", json!("")),
                ("azp", json!("c2")),
                ("aud", json!(["c1", "c2"])),
            ] {
                let mut c = ok.clone();
                c[k] = v;
                assert!(check(&c, 1500).is_err(), "{k}");
            }
            let mut no_nonce = ok.clone();
            no_nonce.as_object_mut().unwrap().remove("nonce");
            assert!(check(&no_nonce, 1500).is_err());
        }
    }
}

/// The base64url SHA-256 of the PKCE verifier (RFC 7636 S256).
fn pkce_challenge(verifier: &str) -> String {
    use base64::Engine;
    use sha2::Digest;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier))
}

fn form(pairs: &[(&str, &str)]) -> String {
    let mut u = reqwest::Url::parse("http://x/").expect("static URL");
    u.query_pairs_mut().extend_pairs(pairs);
    u.query().unwrap_or_default().to_string()
}

fn json_of(body: &[u8]) -> Option<serde_json::Value> {
    serde_json::from_slice(body).ok().filter(serde_json::Value::is_object)
}

/// The issuer's URL as compared with `iss`: no trailing slash.
fn normalize_issuer(s: &str) -> String {
    s.trim().trim_end_matches('/').to_string()
}

fn host_of(url: &str) -> Option<String> {
    reqwest::Url::parse(url).ok()?.host_str().map(|h| h.trim_matches(['[', ']']).to_lowercase())
}

/// A local path to return to after login (no scheme, no host, no `//`).
fn local_path(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.contains('\\')
                && n.len() <= 500
                && !n.chars().any(char::is_control) =>
        {
            n.to_string()
        }
        _ => "/".into(),
    }
}

fn check_settings(s: &SsoSettingsInput) -> Result<(Vec<String>, Vec<String>, Option<Role>)> {
    use domain::ParseError as P;
    let issuer = normalize_issuer(&s.issuer);
    let allow_hosts: Vec<String> =
        s.allow_hosts.iter().map(|h| h.trim().to_lowercase()).filter(|h| !h.is_empty()).collect();
    if allow_hosts.len() > 20 || allow_hosts.iter().any(|h| h.len() > 253) {
        return Err(P::new("allow_hosts", "at most 20 host names").into());
    }
    let url = reqwest::Url::parse(&issuer)
        .map_err(|_| P::new("issuer", "must be a URL such as https://login.example.com"))?;
    let host = host_of(&issuer).ok_or_else(|| P::new("issuer", "the URL has no host"))?;
    let https = url.scheme() == "https";
    if !(https || (url.scheme() == "http" && net::allowed(&allow_hosts, &host))) {
        return Err(P::new(
            "issuer",
            "must be an https:// URL (http only for a host listed in allow_hosts)",
        )
        .into());
    }
    if url.query().is_some() || url.fragment().is_some() || issuer.len() > 500 {
        return Err(P::new("issuer", "an issuer has no query or fragment").into());
    }
    let id = s.client_id.trim();
    if id.is_empty() || id.len() > 255 {
        return Err(P::new("client_id", "1 to 255 characters").into());
    }
    let mut domains = Vec::new();
    for d in &s.allowed_domains {
        let d = d.trim().trim_start_matches('@').to_lowercase();
        let ok = !d.is_empty()
            && d.len() <= 253
            && d.contains('.')
            && d.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
        if !ok {
            return Err(P::new(
                "allowed_domains",
                format!("{d:?} is not a domain like example.com"),
            )
            .into());
        }
        domains.push(d);
    }
    if domains.len() > 50 {
        return Err(P::new("allowed_domains", "at most 50 domains").into());
    }
    let role = match s.provision_role.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
        None => None,
        Some(r) => {
            let role = Role::parse(r).map_err(|_| P::new("provision_role", "an unknown role"))?;
            if matches!(role, Role::Admin | Role::DeptMember) {
                return Err(P::new(
                    "provision_role",
                    "new users may be agent, supervisor, cs_head or auditor (admins and department members are created by an admin)",
                )
                .into());
            }
            Some(role)
        }
    };
    Ok((domains, allow_hosts, role))
}

impl App {
    /// The callback URL of a workspace, to register at the provider.
    pub fn sso_redirect_uri(&self, slug: &str) -> String {
        format!("{}/api/v1/auth/oidc/{slug}/callback", self.settings.public_url)
    }

    fn sso_view(&self, slug: &str, s: Option<db::oidc::Settings>) -> SsoSettingsView {
        let redirect_uri = self.sso_redirect_uri(slug);
        match s {
            Some(s) => SsoSettingsView {
                issuer: s.issuer,
                client_id: s.client_id,
                client_secret_set: !s.client_secret.is_empty(),
                enabled: s.enabled,
                allowed_domains: s.allowed_domains,
                provision_role: s.provision_role.and_then(|r| Role::parse(&r).ok()),
                allow_hosts: s.allow_hosts,
                redirect_uri,
            },
            None => SsoSettingsView {
                issuer: String::new(),
                client_id: String::new(),
                client_secret_set: false,
                enabled: false,
                allowed_domains: Vec::new(),
                provision_role: None,
                allow_hosts: Vec::new(),
                redirect_uri,
            },
        }
    }

    pub async fn sso_settings(&self, a: &Admin) -> Result<SsoSettingsView> {
        let mut c = self.db.read().await?;
        let ws = db::workspaces::by_id(&mut c, a.workspace).await?.or_not_found("workspace")?;
        let s = db::oidc::settings(&mut c, a.workspace).await?;
        Ok(self.sso_view(&ws.slug, s))
    }

    /// Saves the provider settings. Turning SSO on reads the issuer's discovery document first,
    /// so a wrong issuer is refused on save rather than at the first login.
    pub async fn put_sso_settings(
        &self,
        a: &Admin,
        n: SsoSettingsInput,
    ) -> Result<SsoSettingsView> {
        let (domains, allow_hosts, role) = check_settings(&n)?;
        let issuer = normalize_issuer(&n.issuer);
        let new_secret = n
            .client_secret
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty() && *s != "***")
            .map(str::to_string);
        if new_secret.as_ref().is_some_and(|s| s.len() > 500) {
            return Err(domain::ParseError::new("client_secret", "at most 500 characters").into());
        }
        let stored = {
            let mut c = self.db.read().await?;
            db::oidc::settings(&mut c, a.workspace).await?
        };
        let secret = match (new_secret, &stored) {
            (Some(s), _) => s,
            (None, Some(old)) if !old.client_secret.is_empty() => old.client_secret.clone(),
            _ => {
                return Err(domain::ParseError::new(
                    "client_secret",
                    "required: the client secret the provider issued for this client",
                )
                .into());
            }
        };
        if n.enabled {
            self.provider(&issuer, &allow_hosts, true).await.map_err(|e| match e {
                Error::Sso(s) => domain::ParseError::new("issuer", s.message).into(),
                e => e,
            })?;
        }
        let now = self.now();
        let row = db::oidc::Settings {
            issuer,
            client_id: n.client_id.trim().to_string(),
            client_secret: secret,
            enabled: n.enabled,
            allowed_domains: domains,
            provision_role: role.map(|r| r.as_str().to_string()),
            allow_hosts,
            updated_at: now,
        };
        let mut tx = self.db.write(a.workspace).await?;
        let ws = db::workspaces::by_id(&mut tx, a.workspace).await?.or_not_found("workspace")?;
        let changed_secret = stored.as_ref().is_none_or(|s| s.client_secret != row.client_secret);
        db::oidc::put_settings(&mut tx, a.workspace, &row).await?;
        let snap = Snapshot::default()
            .with("issuer", row.issuer.as_str())
            .with("client_id", row.client_id.as_str())
            .with("enabled", if row.enabled { "true" } else { "false" })
            .with("provision_role", row.provision_role.as_deref().unwrap_or("refuse"))
            .list("allowed_domains", &row.allowed_domains)
            .with("client_secret", if changed_secret { "changed" } else { "kept" });
        tx.audit(
            now,
            a.actor,
            "sso.settings",
            "workspace",
            &a.workspace.to_string(),
            None,
            Some(&snap),
        )
        .await?;
        self.commit(tx).await?;
        Ok(self.sso_view(&ws.slug, Some(row)))
    }

    /// Whether the workspace offers single sign-on (for the login page; anyone may ask, and an
    /// unknown workspace is simply "no").
    pub async fn sso_enabled(&self, slug: &str) -> Result<bool> {
        let mut c = self.db.read().await?;
        let Some(ws) = db::workspaces::by_slug(&mut c, &slug.trim().to_lowercase()).await? else {
            return Ok(false);
        };
        Ok(db::oidc::settings(&mut c, ws.id).await?.is_some_and(|s| s.enabled))
    }

    /// The discovery document and keys of `issuer`, from the cache unless `fresh`.
    async fn provider(
        &self,
        issuer: &str,
        allow_hosts: &[String],
        fresh: bool,
    ) -> Result<Provider> {
        let now = self.now();
        if !fresh && let Some(p) = self.oidc.get(issuer, now) {
            return Ok(p);
        }
        let unreachable = |m: String| fail(SsoFailure::ProviderUnreachable, m);
        let url = format!("{issuer}/.well-known/openid-configuration");
        let doc = get_json(&url, allow_hosts).await.map_err(unreachable)?;
        let field = |k: &str| doc[k].as_str().map(str::to_string);
        if field("issuer").map(|i| normalize_issuer(&i)).as_deref() != Some(issuer) {
            return Err(unreachable(format!(
                "the discovery document at {url} names another issuer ({:?})",
                doc["issuer"]
            )));
        }
        let need = |k: &str| {
            field(k).ok_or_else(|| unreachable(format!("the discovery document has no {k}")))
        };
        let s256 = doc["code_challenge_methods_supported"]
            .as_array()
            .is_none_or(|a| a.iter().any(|m| m == "S256"));
        if !s256 {
            return Err(unreachable("the provider does not support PKCE with S256".into()));
        }
        let auth_methods = doc["token_endpoint_auth_methods_supported"].as_array();
        let post_auth_only = auth_methods.is_some_and(|a| {
            !a.iter().any(|m| m == "client_secret_basic")
                && a.iter().any(|m| m == "client_secret_post")
        });
        let jwks_uri = need("jwks_uri")?;
        let keys = jwt::parse_jwks(&get_json(&jwks_uri, allow_hosts).await.map_err(unreachable)?);
        if keys.is_empty() {
            return Err(unreachable(format!("the key set at {jwks_uri} has no signing keys")));
        }
        let p = Provider {
            issuer: issuer.to_string(),
            authorization_endpoint: need("authorization_endpoint")?,
            token_endpoint: need("token_endpoint")?,
            userinfo_endpoint: field("userinfo_endpoint"),
            post_auth_only,
            keys,
            fetched_at: now,
        };
        self.oidc.put(p.clone());
        Ok(p)
    }

    async fn enabled_settings(&self, slug: &str) -> Result<(WorkspaceId, db::oidc::Settings)> {
        let mut c = self.db.read().await?;
        let off = || fail(SsoFailure::Disabled, "single sign-on is not enabled for this workspace");
        let ws =
            db::workspaces::by_slug(&mut c, &slug.trim().to_lowercase()).await?.ok_or_else(off)?;
        let s = db::oidc::settings(&mut c, ws.id).await?.filter(|s| s.enabled).ok_or_else(off)?;
        Ok((ws.id, s))
    }

    /// Starts a sign-on: stores the attempt and returns the provider's authorization URL.
    pub async fn sso_start(&self, slug: &str, next: Option<&str>) -> Result<SsoStart> {
        let (ws, s) = self.enabled_settings(slug).await?;
        let p = match self.provider(&s.issuer, &s.allow_hosts, false).await {
            Ok(p) => p,
            Err(e) => {
                self.audit_sso_failure(ws, &e, None).await;
                return Err(e);
            }
        };
        let now = self.now();
        let state = self.ids.secret("");
        let browser = self.ids.secret("");
        let attempt = db::oidc::Attempt {
            workspace: ws,
            browser_hash: hash_secret(&browser),
            nonce: self.ids.secret(""),
            pkce_verifier: self.ids.secret(""),
            next_path: local_path(next),
            expires_at: now.plus_secs(ATTEMPT_SECS),
            used_at: None,
        };
        {
            let mut c = self.db.bookkeeping().await?;
            db::oidc::insert_attempt(&mut c, &hash_secret(&state), &attempt, now).await?;
        }
        let mut url = reqwest::Url::parse(&p.authorization_endpoint).map_err(|_| {
            fail(
                SsoFailure::ProviderUnreachable,
                "the provider's authorization_endpoint is not a URL",
            )
        })?;
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &s.client_id)
            .append_pair("redirect_uri", &self.sso_redirect_uri(&slug.trim().to_lowercase()))
            .append_pair("scope", "openid email profile")
            .append_pair("state", &state)
            .append_pair("nonce", &attempt.nonce)
            .append_pair("code_challenge", &pkce_challenge(&attempt.pkce_verifier))
            .append_pair("code_challenge_method", "S256");
        Ok(SsoStart { authorize_url: url.to_string(), browser_secret: browser })
    }

    /// Finishes a sign-on from the provider's redirect; `browser` is the secret of the cookie
    /// the start set. Every failure is audited on the workspace.
    pub async fn sso_callback(
        &self,
        slug: &str,
        cb: Callback,
        browser: Option<&str>,
    ) -> Result<SsoLogin> {
        let (ws, s) = self.enabled_settings(slug).await?;
        let mut user = None;
        let r = self.sso_finish(ws, &s, &slug.trim().to_lowercase(), cb, browser, &mut user).await;
        if let Err(e) = &r {
            self.audit_sso_failure(ws, e, user).await;
        }
        r
    }

    async fn sso_finish(
        &self,
        ws: WorkspaceId,
        s: &db::oidc::Settings,
        slug: &str,
        cb: Callback,
        browser: Option<&str>,
        user_seen: &mut Option<UserId>,
    ) -> Result<SsoLogin> {
        use SsoFailure as F;
        let now = self.now();
        let state = cb.state.as_deref().filter(|s| !s.is_empty() && s.len() <= 200);
        let state = state.ok_or_else(|| fail(F::StateInvalid, "the callback has no state"))?;
        let state_hash = hash_secret(state);
        let attempt = {
            let mut c = self.db.read().await?;
            db::oidc::attempt(&mut c, &state_hash).await?
        };
        let a = attempt
            .filter(|a| a.workspace == ws)
            .ok_or_else(|| fail(F::StateInvalid, "unknown login state; start the sign-on again"))?;
        if a.used_at.is_some() {
            return Err(fail(F::StateReused, "this sign-on was already used; start again"));
        }
        if a.expires_at <= now {
            return Err(fail(F::StateExpired, "the sign-on took too long; start again"));
        }
        // Bound to the browser that started it, so a stolen or planted callback URL is useless
        // elsewhere (and does not use the attempt up).
        let same_browser = browser.is_some_and(|b| {
            crate::auth::constant_eq(hash_secret(b).as_bytes(), a.browser_hash.as_bytes())
        });
        if !same_browser {
            return Err(fail(F::StateInvalid, "this sign-on was started in another browser"));
        }
        let first = {
            let mut c = self.db.bookkeeping().await?;
            db::oidc::mark_used(&mut c, &state_hash, now).await?
        };
        if !first {
            return Err(fail(F::StateReused, "this sign-on was already used; start again"));
        }
        if let Some(err) = cb.error.as_deref() {
            let what: String = err.chars().filter(|c| c.is_ascii_graphic()).take(60).collect();
            let desc: String = cb
                .error_description
                .as_deref()
                .unwrap_or_default()
                .chars()
                .filter(|c| !c.is_control())
                .take(200)
                .collect();
            return Err(fail(
                F::ProviderError,
                format!("the identity provider refused: {what} {desc}").trim().to_string(),
            ));
        }
        if cb.iss.as_deref().is_some_and(|i| normalize_issuer(i) != s.issuer) {
            return Err(fail(F::ProviderError, "the response names another issuer (iss)"));
        }
        let code = cb.code.as_deref().filter(|c| !c.is_empty() && c.len() <= 2000);
        let code = code.ok_or_else(|| fail(F::ProviderError, "the callback has no code"))?;
        let p = self.provider(&s.issuer, &s.allow_hosts, false).await?;
        let tokens = self.exchange_code(&p, s, slug, code, &a.pkce_verifier).await?;
        let id_token = tokens["id_token"]
            .as_str()
            .ok_or_else(|| fail(F::TokenInvalid, "the token response has no id_token"))?;
        let verified = match jwt::verify(id_token, &p.keys) {
            Err(jwt::Refusal::UnknownKey) => {
                // The provider rotated its keys: read them again, once.
                let p = self.provider(&s.issuer, &s.allow_hosts, true).await?;
                jwt::verify(id_token, &p.keys)
            }
            r => r,
        };
        let v = verified.map_err(|r| match r {
            jwt::Refusal::UnknownKey => {
                fail(F::TokenInvalid, "no provider key signs this ID token")
            }
            jwt::Refusal::Bad(m) => fail(F::TokenInvalid, m),
        })?;
        jwt::check_claims(
            &v.claims,
            &s.issuer,
            &s.client_id,
            &a.nonce,
            now.millis() / 1000,
            SKEW_SECS,
        )
        .map_err(|m| fail(F::TokenInvalid, m))?;
        let subject = v.claims["sub"].as_str().unwrap_or_default().to_string();
        let mut claims = v.claims.clone();
        if claims["email"].as_str().is_none()
            && let (Some(url), Some(at)) = (&p.userinfo_endpoint, tokens["access_token"].as_str())
        {
            let info = self.userinfo(url, at, &s.allow_hosts).await?;
            if info["sub"].as_str() != Some(subject.as_str()) {
                return Err(fail(F::TokenInvalid, "the userinfo answer is about another subject"));
            }
            for k in ["email", "email_verified", "name", "preferred_username"] {
                if !info[k].is_null() {
                    claims[k] = info[k].clone();
                }
            }
        }
        let email = claims["email"].as_str().and_then(|e| Email::parse(e).ok());
        let verified_email = email.clone().filter(|_| {
            claims["email_verified"] == serde_json::Value::Bool(true)
                || claims["email_verified"] == "true"
        });
        if !s.allowed_domains.is_empty() {
            let domain = email
                .as_ref()
                .and_then(|e| e.as_str().rsplit_once('@').map(|(_, d)| d.to_string()));
            if !domain.is_some_and(|d| s.allowed_domains.contains(&d)) {
                return Err(fail(
                    F::DomainNotAllowed,
                    "your email domain may not sign in to this workspace",
                ));
            }
        }
        let mut tx = self.db.write(ws).await?;
        let linked = db::oidc::linked_user(&mut tx, ws, &s.issuer, &subject).await?;
        let user = match linked {
            Some(id) => {
                let u = db::users::get_user(&mut tx, ws, id).await?.or_not_found("user")?;
                *user_seen = Some(u.id);
                if !u.active {
                    return Err(fail(F::UserDisabled, "your account is disabled; ask an admin"));
                }
                db::oidc::touch_link(&mut tx, ws, &s.issuer, &subject, now).await?;
                u
            }
            None => {
                let e = verified_email.ok_or_else(|| {
                    fail(
                        F::EmailUnverified,
                        "the identity provider did not confirm your email address",
                    )
                })?;
                let u = match db::users::user_for_login(&mut tx, ws, &e).await? {
                    Some((u, _)) => {
                        *user_seen = Some(u.id);
                        if !u.active {
                            return Err(fail(
                                F::UserDisabled,
                                "your account is disabled; ask an admin",
                            ));
                        }
                        u
                    }
                    None => {
                        let Some(role) =
                            s.provision_role.as_deref().and_then(|r| Role::parse(r).ok())
                        else {
                            return Err(fail(
                                F::UnknownUser,
                                "no staff account has this identity; ask an admin to create one",
                            ));
                        };
                        let name = claims["name"]
                            .as_str()
                            .or(claims["preferred_username"].as_str())
                            .map(|n| n.trim().chars().take(100).collect::<String>())
                            .filter(|n| domain::customer::parse_name("name", n).is_ok())
                            .unwrap_or_else(|| e.as_str().to_string());
                        let u = User {
                            id: self.ids.next(now, UserId::new),
                            workspace: ws,
                            email: e,
                            name,
                            role,
                            department: None,
                            active: true,
                            created_at: now,
                        };
                        db::users::insert_user(&mut tx, &u, None).await?;
                        tx.audit(
                            now,
                            Actor::System,
                            "user.create",
                            "user",
                            &u.id.to_string(),
                            None,
                            Some(&snapshot::user(&u)),
                        )
                        .await?;
                        tx.emit(
                            now,
                            Actor::System,
                            Event::UserChanged { user: u.id },
                            Audience::staff_only(),
                        )
                        .await?;
                        u
                    }
                };
                db::oidc::insert_link(&mut tx, ws, &s.issuer, &subject, u.id, now).await?;
                let snap = Snapshot::default().with("issuer", s.issuer.as_str());
                tx.audit(
                    now,
                    Actor::User(u.id),
                    "user.sso_link",
                    "user",
                    &u.id.to_string(),
                    None,
                    Some(&snap),
                )
                .await?;
                u
            }
        };
        let session = self.open_session_in(&mut tx, user, "oidc").await?;
        self.commit(tx).await?;
        Ok(SsoLogin { session, next: a.next_path })
    }

    async fn exchange_code(
        &self,
        p: &Provider,
        s: &db::oidc::Settings,
        slug: &str,
        code: &str,
        verifier: &str,
    ) -> Result<serde_json::Value> {
        use base64::Engine;
        let redirect = self.sso_redirect_uri(slug);
        let mut pairs = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect.as_str()),
            ("code_verifier", verifier),
        ];
        let mut headers = vec![
            ("content-type", "application/x-www-form-urlencoded".to_string()),
            ("accept", "application/json".to_string()),
        ];
        if p.post_auth_only {
            pairs.push(("client_id", &s.client_id));
            pairs.push(("client_secret", &s.client_secret));
        } else {
            // RFC 6749 2.3.1: both parts form-encoded before Basic.
            let enc = |x: &str| form(&[("", x)]).trim_start_matches('=').to_string();
            let basic = base64::engine::general_purpose::STANDARD.encode(format!(
                "{}:{}",
                enc(&s.client_id),
                enc(&s.client_secret)
            ));
            headers.push(("authorization", format!("Basic {basic}")));
        }
        let r = net::send(net::Request {
            post: true,
            url: &p.token_endpoint,
            headers,
            body: Some(form(&pairs).into_bytes()),
            allow_hosts: &s.allow_hosts,
            timeout: TIMEOUT,
        })
        .await
        .map_err(|e| fail(SsoFailure::ProviderUnreachable, format!("the token endpoint: {e}")))?;
        let body = json_of(&r.body);
        if r.status != 200 {
            let err = body.as_ref().and_then(|b| b["error"].as_str().map(str::to_string));
            return Err(fail(
                SsoFailure::TokenInvalid,
                format!(
                    "the provider refused the code ({}{})",
                    r.status,
                    err.map(|e| format!(", {e}")).unwrap_or_default()
                ),
            ));
        }
        body.ok_or_else(|| fail(SsoFailure::TokenInvalid, "the token response is not JSON"))
    }

    async fn userinfo(
        &self,
        url: &str,
        access_token: &str,
        allow_hosts: &[String],
    ) -> Result<serde_json::Value> {
        let r = net::send(net::Request {
            post: false,
            url,
            headers: vec![
                ("authorization", format!("Bearer {access_token}")),
                ("accept", "application/json".to_string()),
            ],
            body: None,
            allow_hosts,
            timeout: TIMEOUT,
        })
        .await
        .map_err(|e| {
            fail(SsoFailure::ProviderUnreachable, format!("the userinfo endpoint: {e}"))
        })?;
        match (r.status, json_of(&r.body)) {
            (200, Some(v)) => Ok(v),
            (st, _) => {
                Err(fail(SsoFailure::TokenInvalid, format!("the userinfo endpoint answered {st}")))
            }
        }
    }

    /// Records a failed sign-on on the workspace's audit chain (the reason's code, and the
    /// user when one was identified); a failure to record is logged, not returned.
    async fn audit_sso_failure(&self, ws: WorkspaceId, e: &Error, user: Option<UserId>) {
        let Error::Sso(f) = e else { return };
        let now = self.now();
        let r: Result<()> = async {
            let mut tx = self.db.write(ws).await?;
            let snap = Snapshot::default().with("method", "oidc").with("reason", f.failure.code());
            let (kind, id) = match user {
                Some(u) => ("user", u.to_string()),
                None => ("workspace", ws.to_string()),
            };
            tx.audit(now, Actor::System, "user.login_failed", kind, &id, None, Some(&snap)).await?;
            self.commit(tx).await
        }
        .await;
        if let Err(err) = r {
            tracing::warn!(error = %err, "recording a failed sign-on");
        }
    }
}

async fn get_json(url: &str, allow_hosts: &[String]) -> Result<serde_json::Value, String> {
    let r = net::send(net::Request {
        post: false,
        url,
        headers: vec![("accept", "application/json".to_string())],
        body: None,
        allow_hosts,
        timeout: TIMEOUT,
    })
    .await
    .map_err(|e| format!("{url}: {e}"))?;
    if r.status != 200 {
        return Err(format!("{url} answered {}", r.status));
    }
    json_of(&r.body).ok_or_else(|| format!("{url} did not answer a JSON object"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_s256_matches_rfc_7636() {
        // RFC 7636 appendix B.
        assert_eq!(
            pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn next_paths_stay_local() {
        assert_eq!(local_path(Some("/tickets/1?x=2")), "/tickets/1?x=2");
        for bad in ["//evil.example", "https://evil.example", "/\\evil", "tickets", ""] {
            assert_eq!(local_path(Some(bad)), "/", "{bad}");
        }
        assert_eq!(local_path(None), "/");
    }

    #[test]
    fn settings_are_checked() {
        let ok = SsoSettingsInput {
            issuer: "https://login.example.com/".into(),
            client_id: "huiting".into(),
            allowed_domains: vec!["@Example.com".into()],
            provision_role: Some("agent".into()),
            ..Default::default()
        };
        let (d, _, r) = check_settings(&ok).unwrap();
        assert_eq!((d, r), (vec!["example.com".to_string()], Some(Role::Agent)));
        let http = SsoSettingsInput { issuer: "http://127.0.0.1:9".into(), ..ok.clone() };
        assert!(check_settings(&http).is_err(), "http needs allow_hosts");
        let allowed = SsoSettingsInput { allow_hosts: vec!["127.0.0.1".into()], ..http };
        assert!(check_settings(&allowed).is_ok());
        for bad in [
            SsoSettingsInput { issuer: "ftp://x.example".into(), ..ok.clone() },
            SsoSettingsInput { client_id: " ".into(), ..ok.clone() },
            SsoSettingsInput { allowed_domains: vec!["not a domain".into()], ..ok.clone() },
            SsoSettingsInput { provision_role: Some("admin".into()), ..ok.clone() },
            SsoSettingsInput { provision_role: Some("boss".into()), ..ok.clone() },
        ] {
            assert!(check_settings(&bad).is_err(), "{bad:?}");
        }
    }
}
