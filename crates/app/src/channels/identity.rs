//! Identity verification and linking across channels (IN-2). A code is sent to a phone (by
//! the workspace's SMS channel) for a customer; entering it proves the customer owns the
//! number. A verified identity that another customer already holds links the two: the
//! customer verifying is merged into the holder (one customer, one history, through
//! `db::customers::merge`). Codes are six digits, stored hashed, expire after 10 minutes,
//! allow 5 guesses, and at most one is sent per minute and five per hour per customer or
//! number.

use domain::{
    Actor, CustomerId, Identity, IdentityKind, Job, JobId, OutboundId, VerificationId, WorkspaceId,
};

use crate::{
    App, Error, Result,
    auth::{Agent, Visitor},
    channels::{config::view, outbound::sms_body},
    error::OrNotFound,
    ids::hash_secret,
};

const CODE_MILLIS: i64 = 10 * 60_000;
const MAX_GUESSES: i64 = 5;

/// What a confirmed code did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The customer who now holds the identity (the other one, when a merge happened).
    pub customer: CustomerId,
    /// The customer merged away, if the identity belonged to someone else.
    pub merged_from: Option<CustomerId>,
}

fn code_hash(id: VerificationId, code: &str) -> String {
    hash_secret(&format!("{id}:{code}"))
}

impl App {
    /// Sends a verification code for a customer, from an agent (a caller or WeChat user who
    /// gives their number).
    pub async fn start_verification(
        &self,
        a: &Agent,
        customer: CustomerId,
        i: Identity,
    ) -> Result<()> {
        self.send_code(a.workspace, customer, i, a.actor).await
    }

    /// Sends a verification code for the widget visitor (first-contact verification).
    pub async fn visitor_start_verification(&self, v: &Visitor, i: Identity) -> Result<()> {
        self.send_code(v.workspace(), v.customer(), i, Actor::Customer(v.customer())).await
    }

    pub async fn confirm_verification(
        &self,
        a: &Agent,
        customer: CustomerId,
        code: &str,
    ) -> Result<Verified> {
        self.check_verification_code(a.workspace, customer, code, a.actor).await
    }

    pub async fn visitor_confirm_verification(&self, v: &Visitor, code: &str) -> Result<Verified> {
        self.check_verification_code(
            v.workspace(),
            v.customer(),
            code,
            Actor::Customer(v.customer()),
        )
        .await
    }

    async fn send_code(
        &self,
        ws: WorkspaceId,
        customer: CustomerId,
        i: Identity,
        actor: Actor,
    ) -> Result<()> {
        if i.kind != IdentityKind::Phone {
            return Err(Error::Conflict(
                "codes are sent by SMS; verifying an email address needs the email channel".into(),
            ));
        }
        let now = self.now();
        let mut tx = self.db.write(ws).await?;
        let cu = db::customers::get(&mut tx, ws, customer).await?.or_not_found("customer")?;
        if cu.merged_into.is_some() {
            return Err(Error::Conflict("this customer was merged into another".into()));
        }
        let last_minute = db::channels::codes_sent_since(
            &mut tx,
            ws,
            customer,
            &i.value,
            now.plus_millis(-60_000),
        )
        .await?;
        let last_hour = db::channels::codes_sent_since(
            &mut tx,
            ws,
            customer,
            &i.value,
            now.plus_millis(-3_600_000),
        )
        .await?;
        if last_minute >= 1 {
            return Err(Error::RateLimited { retry_after_secs: 60 });
        }
        if last_hour >= 5 {
            return Err(Error::RateLimited { retry_after_secs: 3600 });
        }
        let ch = db::channels::first_active(&mut tx, ws, "sms").await?.ok_or_else(|| {
            Error::Conflict("no SMS channel is configured to send verification codes".into())
        })?;
        let ch = view(ch)?;
        let ::channels::config::Settings::Sms(s) = &ch.settings else {
            return Err(Error::Conflict("no SMS channel".into()));
        };
        let template = s.verification_template.clone().ok_or_else(|| {
            Error::Conflict("the SMS channel has no verification_template".into())
        })?;
        let id = self.ids.next(now, VerificationId::new);
        let code = format!("{:06}", rand::random::<u32>() % 1_000_000);
        db::channels::insert_code(
            &mut tx,
            &db::channels::CodeRow {
                id,
                workspace: ws,
                customer,
                kind: i.kind.as_str().to_string(),
                value: i.value.clone(),
                code_hash: code_hash(id, &code),
                attempts: 0,
                expires_at: now.plus_millis(CODE_MILLIS),
                used: false,
                created_at: now,
            },
        )
        .await?;
        let o = db::channels::OutboundRow {
            id: self.ids.next(now, OutboundId::new),
            workspace: ws,
            channel: ch.row.id,
            conversation: None,
            message: None,
            address: i.value.clone(),
            body: sms_body(&template, &[("code", &code)]),
            state: "pending".into(),
            attempts: 0,
            last_error: None,
            created_at: now,
            updated_at: now,
        };
        db::channels::insert_outbound(&mut tx, &o).await?;
        tx.enqueue(self.ids.next(now, JobId::new), &Job::SendOutbound { outbound: o.id }, now, now)
            .await?;
        // The number itself stays out of the unchangeable audit log (PL-4).
        let snap = domain::Snapshot::default().with("kind", i.kind.as_str());
        tx.audit(
            now,
            actor,
            "customer.verification_sent",
            "customer",
            &customer.to_string(),
            None,
            Some(&snap),
        )
        .await?;
        self.commit(tx).await
    }

    async fn check_verification_code(
        &self,
        ws: WorkspaceId,
        customer: CustomerId,
        code: &str,
        actor: Actor,
    ) -> Result<Verified> {
        let now = self.now();
        let row = {
            let mut c = self.db.read().await?;
            db::customers::get(&mut c, ws, customer).await?.or_not_found("customer")?;
            db::channels::latest_code(&mut c, ws, customer).await?
        };
        let Some(row) = row.filter(|r| !r.used && r.expires_at > now) else {
            return Err(Error::Conflict("no code is waiting; request a new one".into()));
        };
        if row.attempts >= MAX_GUESSES {
            return Err(Error::Conflict("too many wrong codes; request a new one".into()));
        }
        if !::channels::sign::constant_eq(
            code_hash(row.id, code.trim()).as_bytes(),
            row.code_hash.as_bytes(),
        ) {
            db::channels::bump_code_attempts(&self.db, row.id).await?;
            return Err(domain::ParseError::new("code", "the code is wrong").into());
        }
        let kind = IdentityKind::parse(&row.kind)?;
        let identity = Identity { kind, value: row.value.clone(), verified: true };
        let mut tx = self.db.write(ws).await?;
        db::channels::use_code(&mut tx, row.id, now).await?;
        let result = match db::customers::find_by_identity(&mut tx, ws, &identity).await? {
            Some(owner) if owner != customer => {
                self.merge_in(&mut tx, actor, owner, customer, now).await?;
                Verified { customer: owner, merged_from: Some(customer) }
            }
            Some(_) => Verified { customer, merged_from: None },
            None => {
                let before =
                    db::customers::get(&mut tx, ws, customer).await?.or_not_found("customer")?;
                db::customers::add_identity(&mut tx, ws, customer, &identity, now).await?;
                let mut after = before.clone();
                after.identities.push(identity.clone());
                after.updated_at = now;
                db::customers::update(&mut tx, &after).await?;
                self.record_customer(
                    &mut tx,
                    actor,
                    "customer.add_identity",
                    Some(&before),
                    &after,
                )
                .await?;
                tx.emit(
                    now,
                    actor,
                    domain::Event::CustomerUpdated { customer },
                    domain::Audience::staff_only(),
                )
                .await?;
                Verified { customer, merged_from: None }
            }
        };
        db::channels::verify_identity(&mut tx, ws, kind.as_str(), &row.value).await?;
        self.commit(tx).await?;
        if let Some(from) = result.merged_from {
            self.visitors.forget_customer(from);
        }
        Ok(result)
    }
}
