//! Who is calling, and what they may do. Authentication turns a session cookie, an API token
//! or a visitor token into a [`Principal`] or a [`Visitor`]; capability types ([`Staff`],
//! [`Agent`], [`Supervisor`], [`Manager`], [`Admin`], [`Auditor`]) can only be made from a
//! principal whose role allows them, and use cases demand them by signature (PL-1).

use std::{collections::HashMap, net::IpAddr, sync::Mutex};

use argon2::{Argon2, PasswordHasher, PasswordVerifier, password_hash::phc::PasswordHash};
use domain::{
    Actor, CustomerId, Department, Email, Permission, Role, TeamId, Timestamp, User, UserId,
    WorkspaceId, event::Viewer,
};

use crate::{App, Error, Result, error::OrNotFound, ids::hash_secret, two_factor::LoginOutcome};

/// An authenticated staff member or integration, in one workspace.
#[derive(Debug, Clone, PartialEq)]
pub struct Principal {
    pub workspace: WorkspaceId,
    pub actor: Actor,
    pub role: Role,
    pub user: Option<UserId>,
    pub department: Option<Department>,
    /// Teams the user belongs to (department members see their teams' cases).
    pub teams: Vec<TeamId>,
    /// Present for cookie sessions: unsafe requests must echo it (CSRF).
    pub csrf_token: Option<String>,
}

impl Principal {
    pub fn allows(&self, p: Permission) -> bool {
        self.role.allows(p)
    }

    /// How this principal sees the event stream and case lists.
    pub fn viewer(&self) -> Viewer {
        if self.allows(Permission::ReadAllCases) {
            Viewer::AllCases
        } else {
            Viewer::Scoped {
                user: self.user.unwrap_or_else(|| UserId::new(Timestamp::default(), 0)),
                teams: self.teams.clone(),
            }
        }
    }
}

/// A capability: proof that a principal may do one class of things.
pub trait Capability: Sized {
    const NEEDS: Permission;
    const WHAT: &'static str;
    fn wrap(p: Principal) -> Self;
    fn principal(&self) -> &Principal;

    fn from_principal(p: Principal) -> Result<Self> {
        if p.allows(Self::NEEDS) { Ok(Self::wrap(p)) } else { Err(Error::Forbidden(Self::WHAT)) }
    }
}

macro_rules! capability {
    ($($(#[$m:meta])* $name:ident = $perm:ident, $what:literal;)+) => {$(
        $(#[$m])*
        #[derive(Debug, Clone)]
        pub struct $name(Principal);

        impl Capability for $name {
            const NEEDS: Permission = Permission::$perm;
            const WHAT: &'static str = $what;
            fn wrap(p: Principal) -> Self {
                $name(p)
            }
            fn principal(&self) -> &Principal {
                &self.0
            }
        }

        impl std::ops::Deref for $name {
            type Target = Principal;
            fn deref(&self) -> &Principal {
                &self.0
            }
        }
    )+};
}

capability! {
    /// Any staff member: reads the directory and the cases their role can see.
    Staff = ReadDirectory, "read this workspace";
    /// Works cases: creates and changes customers, conversations and tickets; replies.
    Agent = WriteCases, "change cases";
    /// Adds internal notes to cases they can read (includes department members).
    Noter = AddNotes, "add internal notes";
    /// Merges customers, takes over others' tickets.
    Supervisor = SuperviseCases, "supervise cases";
    /// Edits teams, skills and the problem-code table.
    Manager = ManageCatalog, "manage teams and problem codes";
    /// Edits users and API tokens.
    Admin = ManageUsers, "manage users and API tokens";
    /// Reads and verifies the audit log.
    Auditor = ReadAudit, "read the audit log";
    /// Edits the bot's intents and examples; trains and activates its language models.
    BotEditor = ManageBot, "edit the bot's intents and language models";
    /// Requests compensation and grants it within their authority (TK-7).
    Compensator = GrantCompensation, "grant compensation";
    /// Decides compensation requests waiting at their level (TK-7).
    Approver = ApproveCompensation, "approve compensation";
    /// Exports and erases a customer's personal data; sets the retention period (PL-4).
    DataOfficer = ManagePersonalData, "export or erase personal data";
}

/// A widget visitor: may read and write only their own conversations and tickets. Made by
/// [`App::authenticate_visitor`] from a visitor token, by `open_chat`, or explicitly with
/// [`Visitor::verified_elsewhere`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Visitor {
    pub(crate) workspace: WorkspaceId,
    pub(crate) customer: CustomerId,
}

impl Visitor {
    /// A customer whose identity was established outside the widget: a channel connector that
    /// verified the sender (a call-centre record, a signed webhook), or the demo seeder. Never
    /// build one from anything a client merely claims.
    pub fn verified_elsewhere(workspace: WorkspaceId, customer: CustomerId) -> Visitor {
        Visitor { workspace, customer }
    }
    pub fn workspace(&self) -> WorkspaceId {
        self.workspace
    }
    pub fn customer(&self) -> CustomerId {
        self.customer
    }
}

/// Recently verified visitor tokens (by hash), each with the instant it must be re-checked.
#[derive(Debug, Default)]
pub struct VisitorCache(Mutex<HashMap<String, (Visitor, Timestamp)>>);

impl VisitorCache {
    fn get(&self, hash: &str, now: Timestamp) -> Option<Visitor> {
        let m = self.0.lock().unwrap_or_else(|e| e.into_inner());
        m.get(hash).filter(|(_, until)| *until > now).map(|(v, _)| *v)
    }

    /// Drops cached tokens of a customer merged into another, so they re-resolve at once.
    pub(crate) fn forget_customer(&self, cu: CustomerId) {
        let mut m = self.0.lock().unwrap_or_else(|e| e.into_inner());
        m.retain(|_, (v, _)| v.customer != cu);
    }

    fn put(&self, hash: String, v: Visitor, until: Timestamp) {
        let mut m = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if m.len() > 100_000 {
            m.clear();
        }
        m.insert(hash, (v, until));
    }
}

/// A new login session: the secret for the cookie and the CSRF token for the page.
#[derive(Debug, Clone)]
pub struct Session {
    pub token: String,
    pub csrf_token: String,
    pub expires_at: Timestamp,
    pub user: User,
}

/// Counts failures (wrong passwords, wrong second-factor codes) per key — an account, a client
/// address, a user's second factor — in a sliding minute of the [`Clock`](domain::Clock)'s time.
#[derive(Debug)]
pub struct LoginLimiter {
    per_minute: u32,
    failures: Mutex<HashMap<String, Vec<i64>>>,
}

const MINUTE_MS: i64 = 60_000;

impl LoginLimiter {
    pub fn new(per_minute: u32) -> LoginLimiter {
        LoginLimiter { per_minute: per_minute.max(1), failures: Mutex::new(HashMap::new()) }
    }

    /// Seconds to wait if any of `keys` is over the limit.
    pub(crate) fn check(&self, keys: &[String], now: Timestamp) -> Option<u64> {
        let now = now.millis();
        let mut m = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if m.len() > 100_000 {
            m.retain(|_, v| v.last().is_some_and(|t| now - *t < MINUTE_MS));
        }
        keys.iter()
            .filter_map(|k| {
                let v = m.get_mut(k)?;
                v.retain(|t| now - *t < MINUTE_MS);
                (v.len() as u32 >= self.per_minute)
                    .then(|| ((MINUTE_MS - (now - v[0])) as u64).div_ceil(1000).clamp(1, 60))
            })
            .max()
    }

    pub(crate) fn fail(&self, keys: &[String], now: Timestamp) {
        let mut m = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        for k in keys {
            m.entry(k.clone()).or_default().push(now.millis());
        }
    }
}

/// Counts every request per key in fixed windows of the [`Clock`](domain::Clock)'s minutes: the
/// public widget endpoints, per client address and per visitor.
#[derive(Debug, Default)]
pub struct HitLimiter(Mutex<HashMap<String, (i64, u32)>>);

impl HitLimiter {
    /// Counts a hit; the seconds to wait when `key` is over `per_minute` (0 = no limit).
    pub(crate) fn hit(&self, key: &str, per_minute: u32, now: Timestamp) -> Option<u64> {
        if per_minute == 0 {
            return None;
        }
        let window = now.millis().div_euclid(MINUTE_MS);
        let mut m = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if m.len() > 100_000 {
            m.retain(|_, (w, _)| *w == window);
        }
        let e = m.entry(key.to_string()).or_insert((window, 0));
        if e.0 != window {
            *e = (window, 0);
        }
        e.1 += 1;
        (e.1 > per_minute)
            .then(|| ((window + 1) * MINUTE_MS - now.millis()) as u64)
            .map(|ms| ms.div_ceil(1000).max(1))
    }
}

/// Compares secrets in time independent of where they differ.
pub(crate) fn constant_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn argon(fast: bool) -> Argon2<'static> {
    if fast {
        let params = argon2::Params::new(1024, 1, 1, None).expect("valid argon2 params");
        Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
    } else {
        Argon2::default()
    }
}

/// Hashes a password with argon2id (PHC string).
pub fn hash_password(password: &str, fast: bool) -> Result<String> {
    argon(fast)
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| Error::Internal(anyhow::anyhow!("hashing a password: {e}")))
}

fn verify_password(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        // Parameters come from the stored hash, so fast and default hashes both verify.
        Ok(h) => Argon2::default().verify_password(password.as_bytes(), &h).is_ok(),
        Err(_) => false,
    }
}

impl App {
    /// Password login. Every failure looks the same to the caller, and costs the same time.
    /// A user with two-factor login on (or in a workspace that requires it) gets a challenge
    /// for [`App::login_second_factor`] instead of a session.
    pub async fn login(
        &self,
        workspace: &str,
        email: &str,
        password: &str,
        client: IpAddr,
    ) -> Result<LoginOutcome> {
        let keys = [
            format!("acct:{}:{}", workspace.trim().to_lowercase(), email.trim().to_lowercase()),
            format!("ip:{client}"),
        ];
        if let Some(s) = self.limiter.check(&keys, self.now()) {
            return Err(Error::RateLimited { retry_after_secs: s });
        }
        let bad = Error::Unauthenticated("wrong workspace, email or password");
        let mut c = self.db.read().await?;
        let ws = db::workspaces::by_slug(&mut c, &workspace.trim().to_lowercase()).await?;
        let found = match (&ws, Email::parse(email)) {
            (Some(ws), Ok(e)) => db::users::user_for_login(&mut c, ws.id, &e).await?,
            _ => None,
        };
        drop(c);
        let ok =
            self.password_matches(password, found.as_ref().and_then(|(_, h)| h.clone())).await?;
        let user = match found {
            Some((u, Some(_))) if ok && u.active => u,
            _ => {
                self.limiter.fail(&keys, self.now());
                return Err(bad);
            }
        };
        if let Some(ch) = self.second_factor_challenge(user.workspace, user.id).await? {
            return Ok(LoginOutcome::SecondFactor(ch));
        }
        Ok(LoginOutcome::Session(self.open_session(user).await?))
    }

    /// Checks a password against a stored hash; with none, against a dummy hash, so timing
    /// reveals nothing about which accounts exist.
    pub(crate) async fn password_matches(
        &self,
        password: &str,
        stored: Option<String>,
    ) -> Result<bool> {
        static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        let fast = self.settings.fast_password_hashing;
        let real = stored.is_some();
        let stored = match stored {
            Some(h) => h,
            None => DUMMY
                .get_or_init(|| hash_password("not a real password", fast).unwrap_or_default())
                .clone(),
        };
        let pw = password.to_string();
        let ok = tokio::task::spawn_blocking(move || verify_password(&pw, &stored))
            .await
            .map_err(|e| Error::Internal(e.into()))?;
        Ok(ok && real)
    }

    /// Starts a session for a user who proved who they are.
    pub(crate) async fn open_session(&self, user: User) -> Result<Session> {
        let mut tx = self.db.write(user.workspace).await?;
        let session = self.open_session_in(&mut tx, user, "password").await?;
        self.commit(tx).await?;
        Ok(session)
    }

    /// Inserts a session inside the caller's transaction and audits the login with its method.
    pub(crate) async fn open_session_in(
        &self,
        tx: &mut db::WriteTx,
        user: User,
        method: &str,
    ) -> Result<Session> {
        let now = self.now();
        let token = self.ids.secret("");
        let csrf = self.ids.secret("");
        let expires = now.plus_hours(self.settings.session_hours);
        db::users::insert_session(
            tx,
            user.workspace,
            user.id,
            &hash_secret(&token),
            &csrf,
            now,
            expires,
        )
        .await?;
        let actor = Actor::User(user.id);
        let snap = (method != "password")
            .then(|| domain::Snapshot::default().with("method", method.to_string()));
        tx.audit(now, actor, "user.login", "user", &user.id.to_string(), None, snap.as_ref())
            .await?;
        Ok(Session { token, csrf_token: csrf, expires_at: expires, user })
    }

    /// Counts a request to a public (widget, tracking, survey) endpoint from `client`; 429
    /// when the address is over `public_requests_per_minute`.
    pub fn throttle_public(&self, client: IpAddr) -> Result<()> {
        let limit = self.settings.public_requests_per_minute;
        match self.hits.hit(&format!("ip:{client}"), limit, self.now()) {
            Some(s) => Err(Error::RateLimited { retry_after_secs: s }),
            None => Ok(()),
        }
    }

    /// Counts a message from a widget visitor; 429 over `visitor_messages_per_minute`.
    pub fn throttle_visitor(&self, v: &Visitor) -> Result<()> {
        let limit = self.settings.visitor_messages_per_minute;
        match self.hits.hit(&format!("visitor:{}", v.customer), limit, self.now()) {
            Some(s) => Err(Error::RateLimited { retry_after_secs: s }),
            None => Ok(()),
        }
    }

    pub async fn logout(&self, session_token: &str) -> Result<()> {
        let mut c = self.db.bookkeeping().await?;
        db::users::delete_session(&mut c, &hash_secret(session_token)).await?;
        Ok(())
    }

    /// The principal of a session cookie, extending the session while it is in use.
    pub async fn authenticate_session(&self, token: &str) -> Result<Principal> {
        let now = self.now();
        let hash = hash_secret(token);
        let mut c = self.db.read().await?;
        let (user, csrf, expires) = db::users::session(&mut c, &hash, now)
            .await?
            .ok_or(Error::Unauthenticated("session expired; log in again"))?;
        if !user.active {
            return Err(Error::Unauthenticated("account disabled"));
        }
        let teams = db::users::teams_of(&mut c, user.id).await?;
        drop(c);
        // Slide the expiry at most once every few minutes, not on every request.
        let ttl = self.settings.session_hours * 3_600_000;
        if expires.millis() - now.millis() < ttl - 5 * 60_000 {
            let mut w = self.db.bookkeeping().await?;
            db::users::extend_session(&mut w, &hash, now.plus_hours(self.settings.session_hours))
                .await?;
        }
        Ok(Principal {
            workspace: user.workspace,
            actor: Actor::User(user.id),
            role: user.role,
            user: Some(user.id),
            department: user.department,
            teams,
            csrf_token: Some(csrf),
        })
    }

    /// The principal of an API token (`Authorization: Bearer ht_…`).
    pub async fn authenticate_token(&self, token: &str) -> Result<Principal> {
        let mut c = self.db.read().await?;
        let t = db::users::token_by_hash(&mut c, &hash_secret(token))
            .await?
            .ok_or(Error::Unauthenticated("unknown or revoked API token"))?;
        Ok(Principal {
            workspace: t.workspace,
            actor: Actor::Token(t.id),
            role: t.role,
            user: None,
            department: None,
            teams: Vec::new(),
            csrf_token: None,
        })
    }

    /// The visitor of a widget token (`Authorization: Bearer hv_…`).
    /// Visitor tokens are checked on every widget request, so a verified token is remembered
    /// for up to a minute (never past its expiry).
    pub async fn authenticate_visitor(&self, token: &str) -> Result<Visitor> {
        let hash = hash_secret(token);
        let now = self.now();
        if let Some(v) = self.visitors.get(&hash, now) {
            return Ok(v);
        }
        let mut c = self.db.read().await?;
        let (workspace, customer, expires) = db::customers::token(&mut c, &hash, now)
            .await?
            .ok_or(Error::Unauthenticated("unknown or expired visitor token"))?;
        let v = Visitor { workspace, customer };
        self.visitors.put(hash, v, expires.min(now.plus_secs(60)));
        Ok(v)
    }

    /// The user behind a staff principal, for `GET /me`.
    pub async fn me(&self, s: &Staff) -> Result<Option<User>> {
        let Some(id) = s.user else { return Ok(None) };
        let mut c = self.db.read().await?;
        Ok(Some(db::users::get_user(&mut c, s.workspace, id).await?.or_not_found("user")?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_and_default_hashes_verify() {
        let h = hash_password("correct horse battery", true).unwrap();
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("wrong", &h));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn limiter_blocks_after_the_limit_until_the_minute_passes() {
        let l = LoginLimiter::new(3);
        let k = ["acct:a".to_string()];
        let t0 = Timestamp::from_millis(1_000_000);
        for _ in 0..3 {
            assert_eq!(l.check(&k, t0), None);
            l.fail(&k, t0);
        }
        assert_eq!(l.check(&k, t0.plus_secs(20)), Some(40));
        assert_eq!(l.check(&["acct:b".to_string()], t0), None);
        assert_eq!(l.check(&k, t0.plus_secs(60)), None);
    }

    #[test]
    fn hit_limiter_counts_every_request_per_window() {
        let h = HitLimiter::default();
        let t0 = Timestamp::from_millis(120_000);
        assert_eq!(h.hit("ip:x", 2, t0), None);
        assert_eq!(h.hit("ip:x", 2, t0), None);
        assert_eq!(h.hit("ip:x", 2, t0.plus_secs(15)), Some(45));
        assert_eq!(h.hit("ip:y", 2, t0), None);
        assert_eq!(h.hit("ip:x", 2, t0.plus_secs(60)), None);
        assert_eq!(h.hit("ip:x", 0, t0), None, "0 means no limit");
    }
}
