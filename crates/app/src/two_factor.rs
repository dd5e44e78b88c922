//! Two-factor login with TOTP (RFC 6238 over RFC 4226 HOTP: HMAC-SHA1, 6 digits, 30 s steps).
//! A user enrolls (a secret and an `otpauth://` URI), confirms with a code (and receives ten
//! one-time recovery codes, stored as SHA-256), and from then on a password login yields a
//! challenge that only a fresh code or an unspent recovery code turns into a session. A code is
//! accepted for the current step or one step either side, and never for a step at or before the
//! last accepted one (no replay). Admins can require two-factor for the whole workspace: a user
//! without it then enrolls during login, with the challenge.

use domain::{Actor, UserId, WorkspaceId};

use crate::{
    App, Error, Result,
    auth::{Admin, Session, Staff},
    error::OrNotFound,
    ids::hash_secret,
};

/// Seconds per time step.
pub const STEP_SECS: i64 = 30;
/// How long a login challenge lives.
pub const CHALLENGE_SECS: i64 = 300;
/// Wrong codes a challenge survives.
pub const CHALLENGE_ATTEMPTS: i64 = 5;
const ISSUER: &str = "Huiting";

/// The pure algorithm, so tests and the use cases share nothing but the RFCs.
pub mod totp {
    use hmac::{Hmac, KeyInit, Mac};
    use sha1::Sha1;

    /// RFC 4226 HOTP, 6 digits.
    pub fn hotp(key: &[u8], counter: u64) -> u32 {
        let mut m = <Hmac<Sha1> as KeyInit>::new_from_slice(key).expect("HMAC takes any key");
        m.update(&counter.to_be_bytes());
        let h = m.finalize().into_bytes();
        let off = (h[h.len() - 1] & 0x0f) as usize;
        let bin = u32::from_be_bytes([h[off] & 0x7f, h[off + 1], h[off + 2], h[off + 3]]);
        bin % 1_000_000
    }

    pub fn code(key: &[u8], step: i64) -> String {
        format!("{:06}", hotp(key, step.max(0) as u64))
    }

    /// The step at or after `last_step`+1, within one step of `now_step`, whose code is `code`.
    pub fn accepted_step(key: &[u8], code: &str, now_step: i64, last_step: i64) -> Option<i64> {
        let code = code.trim().replace(' ', "");
        if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        (now_step - 1..=now_step + 1)
            .filter(|s| *s > last_step)
            .find(|s| crate::auth::constant_eq(self::code(key, *s).as_bytes(), code.as_bytes()))
    }

    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

    /// RFC 4648 base32 without padding.
    pub fn base32(bytes: &[u8]) -> String {
        let mut out = String::new();
        let (mut buf, mut bits) = (0u32, 0u32);
        for b in bytes {
            buf = (buf << 8) | u32::from(*b);
            bits += 8;
            while bits >= 5 {
                bits -= 5;
                out.push(ALPHABET[((buf >> bits) & 31) as usize] as char);
            }
        }
        if bits > 0 {
            out.push(ALPHABET[((buf << (5 - bits)) & 31) as usize] as char);
        }
        out
    }

    pub fn base32_decode(s: &str) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        let (mut buf, mut bits) = (0u32, 0u32);
        for c in s.trim_end_matches('=').bytes() {
            let v = ALPHABET.iter().position(|a| *a == c.to_ascii_uppercase())? as u32;
            buf = (buf << 5) | v;
            bits += 5;
            if bits >= 8 {
                bits -= 8;
                out.push((buf >> bits) as u8);
            }
        }
        Some(out)
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn rfc_6238_sha1_vectors() {
            // RFC 6238 appendix B, SHA-1 key, 8-digit values truncated to the last 6 digits.
            let key = b"12345678901234567890";
            for (t, want) in [
                (59i64, "94287082"),
                (1_111_111_109, "07081804"),
                (1_234_567_890, "89005924"),
                (2_000_000_000, "69279037"),
            ] {
                assert_eq!(code(key, t / 30), want[2..]);
            }
        }

        #[test]
        fn base32_round_trips() {
            assert_eq!(base32(b"foobar"), "MZXW6YTBOI");
            for n in 0..25u8 {
                let v: Vec<u8> = (0..n).collect();
                assert_eq!(base32_decode(&base32(&v)).unwrap(), v);
            }
            assert_eq!(base32_decode("1!"), None);
        }

        #[test]
        fn codes_are_accepted_once_and_near_now() {
            let key = b"12345678901234567890";
            let c = code(key, 100);
            assert_eq!(accepted_step(key, &c, 100, 0), Some(100));
            assert_eq!(accepted_step(key, &c, 101, 0), Some(100));
            assert_eq!(accepted_step(key, &c, 102, 0), None);
            assert_eq!(accepted_step(key, &c, 100, 100), None, "replay");
            assert_eq!(accepted_step(key, "12345", 100, 0), None);
        }
    }
}

/// A new enrolment, shown once.
#[derive(Debug, Clone)]
pub struct Enrollment {
    pub secret: String,
    pub otpauth_uri: String,
}

/// A user's two-factor state, for `GET /me/2fa`.
#[derive(Debug, Clone)]
pub struct Status {
    pub enabled: bool,
    pub pending: bool,
    pub recovery_codes_left: i64,
    pub required: bool,
}

/// The second step of a login.
#[derive(Debug, Clone)]
pub struct Challenge {
    pub token: String,
    pub expires_at: domain::Timestamp,
    /// The workspace requires 2FA and the user has none yet: enroll with the challenge first.
    pub enrollment_required: bool,
}

/// What a password login gives.
#[derive(Debug, Clone)]
pub enum LoginOutcome {
    Session(Session),
    SecondFactor(Challenge),
}

/// A code from the authenticator, or one of the recovery codes.
#[derive(Debug, Clone)]
pub enum Proof {
    Code(String),
    Recovery(String),
}

fn pct(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn normalize_recovery(code: &str) -> String {
    code.chars().filter(|c| c.is_ascii_alphanumeric()).collect::<String>().to_ascii_lowercase()
}

impl App {
    fn step_now(&self) -> i64 {
        self.now().millis().div_euclid(1000 * STEP_SECS)
    }

    fn user_of(s: &Staff) -> Result<UserId> {
        s.user.ok_or(Error::Forbidden("use two-factor login (API tokens have no login)"))
    }

    async fn new_enrollment(&self, ws: WorkspaceId, user: UserId) -> Result<Enrollment> {
        let key: [u8; 20] = rand::random();
        let secret = totp::base32(&key);
        let now = self.now();
        let mut tx = self.db.write(ws).await?;
        let u = db::users::get_user(&mut tx, ws, user).await?.or_not_found("user")?;
        if db::two_factor::totp(&mut tx, user).await?.is_some_and(|t| t.confirmed_at.is_some()) {
            return Err(Error::Conflict(
                "two-factor login is already on; turn it off first to enroll a new device".into(),
            ));
        }
        db::two_factor::put_pending(&mut tx, ws, user, &secret, now).await?;
        let actor = Actor::User(user);
        tx.audit(now, actor, "user.2fa_enroll", "user", &user.to_string(), None, None).await?;
        self.commit(tx).await?;
        let label = pct(&format!("{ISSUER}:{}", u.email.as_str()));
        let otpauth_uri = format!(
            "otpauth://totp/{label}?secret={secret}&issuer={ISSUER}&algorithm=SHA1&digits=6&period={STEP_SECS}"
        );
        Ok(Enrollment { secret, otpauth_uri })
    }

    /// Starts enrolling the caller's authenticator (`POST /me/2fa/totp`).
    pub async fn enroll_totp(&self, s: &Staff) -> Result<Enrollment> {
        self.new_enrollment(s.workspace, Self::user_of(s)?).await
    }

    /// Confirms the pending enrolment with a code; returns the recovery codes (shown once).
    pub async fn confirm_totp(&self, s: &Staff, code: &str) -> Result<Vec<String>> {
        let user = Self::user_of(s)?;
        self.confirm_in(s.workspace, user, code).await
    }

    async fn confirm_in(&self, ws: WorkspaceId, user: UserId, code: &str) -> Result<Vec<String>> {
        let now = self.now();
        let mut tx = self.db.write(ws).await?;
        let t = db::two_factor::totp(&mut tx, user)
            .await?
            .filter(|t| t.confirmed_at.is_none())
            .ok_or_else(|| Error::Conflict("no enrolment is waiting; start one first".into()))?;
        let key = totp::base32_decode(&t.secret).unwrap_or_default();
        let Some(step) = totp::accepted_step(&key, code, self.step_now(), t.last_step) else {
            drop(tx);
            self.limiter.fail(&[format!("2fa:{user}")], now);
            return Err(Error::Invalid(domain::ParseError::new(
                "code",
                "wrong or expired code; check the authenticator's clock and try the next code",
            )));
        };
        db::two_factor::confirm(&mut tx, user, now, step).await?;
        let codes: Vec<String> = (0..10)
            .map(|_| {
                // 120 random bits (ASVS 2.6.2 asks for 112 when stored unsalted).
                let raw = totp::base32(&rand::random::<[u8; 15]>()).to_ascii_lowercase();
                format!("{}-{}-{}-{}", &raw[..6], &raw[6..12], &raw[12..18], &raw[18..24])
            })
            .collect();
        let hashes: Vec<String> =
            codes.iter().map(|c| hash_secret(&normalize_recovery(c))).collect();
        db::two_factor::replace_recovery_codes(&mut tx, user, &hashes).await?;
        let actor = Actor::User(user);
        tx.audit(now, actor, "user.2fa_on", "user", &user.to_string(), None, None).await?;
        self.commit(tx).await?;
        Ok(codes)
    }

    /// Turns two-factor login off; needs the password and a current code (or a recovery code).
    pub async fn disable_totp(&self, s: &Staff, password: &str, proof: Proof) -> Result<()> {
        let user = Self::user_of(s)?;
        let ws = s.workspace;
        let key = [format!("2fa:{user}")];
        if let Some(secs) = self.limiter.check(&key, self.now()) {
            return Err(Error::RateLimited { retry_after_secs: secs });
        }
        let mut c = self.db.read().await?;
        let u = db::users::get_user(&mut c, ws, user).await?.or_not_found("user")?;
        let required = db::two_factor::require_2fa(&mut c, ws).await?;
        let stored = db::users::user_for_login(&mut c, ws, &u.email).await?.and_then(|(_, h)| h);
        let enabled =
            db::two_factor::totp(&mut c, user).await?.is_some_and(|t| t.confirmed_at.is_some());
        drop(c);
        if !enabled {
            return Err(Error::Conflict("two-factor login is not on".into()));
        }
        if required {
            return Err(Error::Conflict(
                "this workspace requires two-factor login; an admin can lift the requirement"
                    .into(),
            ));
        }
        if !self.password_matches(password, stored).await? {
            self.limiter.fail(&key, self.now());
            return Err(Error::Unauthenticated("wrong password or code"));
        }
        let now = self.now();
        let mut tx = self.db.write(ws).await?;
        if !self.spend_proof(&mut tx, user, &proof).await? {
            drop(tx);
            self.limiter.fail(&key, now);
            return Err(Error::Unauthenticated("wrong password or code"));
        }
        db::two_factor::delete(&mut tx, user).await?;
        let actor = Actor::User(user);
        tx.audit(now, actor, "user.2fa_off", "user", &user.to_string(), None, None).await?;
        self.commit(tx).await?;
        Ok(())
    }

    /// Checks and spends a code (its step) or a recovery code, inside the caller's transaction.
    async fn spend_proof(&self, tx: &mut db::WriteTx, user: UserId, proof: &Proof) -> Result<bool> {
        let Some(t) = db::two_factor::totp(tx, user).await?.filter(|t| t.confirmed_at.is_some())
        else {
            return Ok(false);
        };
        match proof {
            Proof::Code(code) => {
                let key = totp::base32_decode(&t.secret).unwrap_or_default();
                match totp::accepted_step(&key, code, self.step_now(), t.last_step) {
                    Some(step) => Ok(db::two_factor::use_step(tx, user, step).await?),
                    None => Ok(false),
                }
            }
            Proof::Recovery(code) => {
                let h = hash_secret(&normalize_recovery(code));
                Ok(db::two_factor::use_recovery_code(tx, user, &h, self.now()).await?)
            }
        }
    }

    pub async fn two_factor_status(&self, s: &Staff) -> Result<Status> {
        let user = Self::user_of(s)?;
        let mut c = self.db.read().await?;
        let t = db::two_factor::totp(&mut c, user).await?;
        Ok(Status {
            enabled: t.as_ref().is_some_and(|t| t.confirmed_at.is_some()),
            pending: t.as_ref().is_some_and(|t| t.confirmed_at.is_none()),
            recovery_codes_left: db::two_factor::recovery_codes_left(&mut c, user).await?,
            required: db::two_factor::require_2fa(&mut c, s.workspace).await?,
        })
    }

    /// Whether every user of the workspace must log in with two factors.
    pub async fn security_settings(&self, a: &Admin) -> Result<bool> {
        let mut c = self.db.read().await?;
        Ok(db::two_factor::require_2fa(&mut c, a.workspace).await?)
    }

    pub async fn put_security_settings(&self, a: &Admin, require_2fa: bool) -> Result<bool> {
        let now = self.now();
        let mut tx = self.db.write(a.workspace).await?;
        db::two_factor::set_require_2fa(&mut tx, a.workspace, require_2fa, now).await?;
        let what =
            if require_2fa { "workspace.require_2fa_on" } else { "workspace.require_2fa_off" };
        tx.audit(now, a.actor, what, "workspace", &a.workspace.to_string(), None, None).await?;
        self.commit(tx).await?;
        Ok(require_2fa)
    }

    /// After a correct password: a challenge if the user has (or must have) two factors.
    pub(crate) async fn second_factor_challenge(
        &self,
        ws: WorkspaceId,
        user: UserId,
    ) -> Result<Option<Challenge>> {
        let mut c = self.db.read().await?;
        let enabled =
            db::two_factor::totp(&mut c, user).await?.is_some_and(|t| t.confirmed_at.is_some());
        let required = db::two_factor::require_2fa(&mut c, ws).await?;
        drop(c);
        if !enabled && !required {
            return Ok(None);
        }
        let token = self.ids.secret("hc_");
        let now = self.now();
        let expires_at = now.plus_secs(CHALLENGE_SECS);
        let mut w = self.db.bookkeeping().await?;
        db::two_factor::delete_challenge(&mut w, "", now).await?;
        db::two_factor::insert_challenge(&mut w, &hash_secret(&token), ws, user, expires_at)
            .await?;
        Ok(Some(Challenge { token, expires_at, enrollment_required: !enabled }))
    }

    async fn live_challenge(&self, token: &str) -> Result<(WorkspaceId, UserId, i64)> {
        let mut c = self.db.read().await?;
        db::two_factor::challenge(&mut c, &hash_secret(token), self.now())
            .await?
            .ok_or(Error::Unauthenticated("the login challenge expired; log in again"))
    }

    /// Enrolment during login, for a workspace that requires two factors.
    pub async fn enroll_with_challenge(&self, challenge: &str) -> Result<Enrollment> {
        let (ws, user, _) = self.live_challenge(challenge).await?;
        self.new_enrollment(ws, user).await
    }

    /// The second login step: a code (which also confirms an enrolment made with the
    /// challenge) or a recovery code. Returns the session, and recovery codes if this step
    /// confirmed an enrolment.
    pub async fn login_second_factor(
        &self,
        challenge: &str,
        proof: Proof,
    ) -> Result<(Session, Option<Vec<String>>)> {
        let hash = hash_secret(challenge);
        let (ws, user, attempts) = self.live_challenge(challenge).await?;
        let key = [format!("2fa:{user}")];
        let now = self.now();
        if let Some(secs) = self.limiter.check(&key, now) {
            return Err(Error::RateLimited { retry_after_secs: secs });
        }
        let wrong = Error::Unauthenticated("wrong or already used code");
        let mut c = self.db.read().await?;
        let t = db::two_factor::totp(&mut c, user).await?;
        drop(c);
        let pending = t.as_ref().is_some_and(|t| t.confirmed_at.is_none());
        let mut codes = None;
        let ok = if pending {
            match &proof {
                Proof::Code(code) => match self.confirm_in(ws, user, code).await {
                    Ok(c) => {
                        codes = Some(c);
                        true
                    }
                    Err(Error::Invalid(_)) => false,
                    Err(e) => return Err(e),
                },
                Proof::Recovery(_) => false,
            }
        } else {
            let mut tx = self.db.write(ws).await?;
            let ok = self.spend_proof(&mut tx, user, &proof).await?;
            if ok {
                self.commit(tx).await?;
            }
            ok
        };
        let mut w = self.db.bookkeeping().await?;
        if !ok {
            if !pending {
                self.limiter.fail(&key, now);
            }
            if attempts + 1 >= CHALLENGE_ATTEMPTS {
                db::two_factor::delete_challenge(&mut w, &hash, now).await?;
            } else {
                db::two_factor::fail_challenge(&mut w, &hash).await?;
            }
            return Err(wrong);
        }
        db::two_factor::delete_challenge(&mut w, &hash, now).await?;
        drop(w);
        let mut c = self.db.read().await?;
        let u = db::users::get_user(&mut c, ws, user).await?.or_not_found("user")?;
        drop(c);
        if !u.active {
            return Err(Error::Unauthenticated("account disabled"));
        }
        Ok((self.open_session(u).await?, codes))
    }
}
