//! Customers: create, read, update, identities, merge (IN-2, IN-3).

use domain::{
    Actor, Audience, Customer, CustomerId, Event, Identity, Permission, Tier, customer::parse_name,
};

use crate::{
    App, Error, Result,
    auth::{Agent, Staff, Supervisor},
    error::OrNotFound,
    intake::snapshot,
};

#[derive(Debug, Clone, Default)]
pub struct NewCustomer {
    pub name: String,
    pub tier: Option<Tier>,
    pub identities: Vec<Identity>,
    pub attributes: Vec<(String, String)>,
}

#[derive(Debug, Clone, Default)]
pub struct CustomerPatch {
    pub name: Option<String>,
    pub tier: Option<Tier>,
    pub attributes: Option<Vec<(String, String)>>,
}

/// Attribute keys are identifiers; values at most 1,000 characters; at most 50 pairs.
pub(crate) fn check_attributes(attrs: &[(String, String)]) -> Result<()> {
    if attrs.len() > 50 {
        return Err(domain::ParseError::new("attributes", "at most 50 attributes").into());
    }
    for (k, v) in attrs {
        domain::ticket::parse_custom_field(k, v)
            .map_err(|e| domain::ParseError::new("attributes", e.reason))?;
        if v.chars().count() > 1000 {
            return Err(domain::ParseError::new(
                "attributes",
                format!("{k}: at most 1000 characters"),
            )
            .into());
        }
    }
    Ok(())
}

pub(crate) fn require_all_cases(s: &Staff) -> Result<()> {
    if s.allows(Permission::ReadAllCases) {
        Ok(())
    } else {
        Err(Error::Forbidden("read all customers and conversations"))
    }
}

impl App {
    pub async fn create_customer(&self, a: &Agent, n: NewCustomer) -> Result<Customer> {
        let name = parse_name("name", &n.name)?;
        check_attributes(&n.attributes)?;
        let now = self.now();
        let mut tx = self.db.write(a.workspace).await?;
        for i in &n.identities {
            if db::customers::find_by_identity(&mut tx, a.workspace, i).await?.is_some() {
                return Err(Error::Conflict(format!(
                    "{} {} already belongs to another customer; merge instead",
                    i.kind, i.value
                )));
            }
        }
        let c = Customer {
            id: self.ids.next(now, CustomerId::new),
            workspace: a.workspace,
            name,
            tier: n.tier.unwrap_or(Tier::Ordinary),
            identities: dedup(n.identities),
            attributes: n.attributes,
            merged_into: None,
            created_at: now,
            updated_at: now,
        };
        db::customers::insert(&mut tx, &c).await?;
        self.record_customer(&mut tx, a.actor, "customer.create", None, &c).await?;
        tx.emit(now, a.actor, Event::CustomerCreated { customer: c.id }, Audience::staff_only())
            .await?;
        self.commit(tx).await?;
        Ok(c)
    }

    pub(crate) async fn record_customer(
        &self,
        tx: &mut db::WriteTx,
        actor: Actor,
        action: &str,
        before: Option<&Customer>,
        after: &Customer,
    ) -> Result<()> {
        let b = before.map(snapshot::customer);
        tx.audit(
            self.now(),
            actor,
            action,
            "customer",
            &after.id.to_string(),
            b.as_ref(),
            Some(&snapshot::customer(after)),
        )
        .await?;
        Ok(())
    }

    pub async fn get_customer(&self, s: &Staff, id: CustomerId) -> Result<Customer> {
        require_all_cases(s)?;
        let mut c = self.db.read().await?;
        db::customers::get(&mut c, s.workspace, id).await?.or_not_found("customer")
    }

    pub async fn list_customers(
        &self,
        s: &Staff,
        f: &db::customers::Filter,
        page: &db::Page,
    ) -> Result<Vec<Customer>> {
        require_all_cases(s)?;
        let mut c = self.db.read().await?;
        Ok(db::customers::list(&mut c, s.workspace, f, page).await?)
    }

    pub async fn update_customer(
        &self,
        a: &Agent,
        id: CustomerId,
        p: CustomerPatch,
    ) -> Result<Customer> {
        let name = p.name.as_deref().map(|n| parse_name("name", n)).transpose()?;
        if let Some(attrs) = &p.attributes {
            check_attributes(attrs)?;
        }
        let now = self.now();
        let mut tx = self.db.write(a.workspace).await?;
        let before =
            db::customers::get(&mut tx, a.workspace, id).await?.or_not_found("customer")?;
        if before.merged_into.is_some() {
            return Err(Error::Conflict(
                "this customer was merged into another; edit that one".into(),
            ));
        }
        let mut c = before.clone();
        if let Some(n) = name {
            c.name = n;
        }
        if let Some(t) = p.tier {
            c.tier = t;
        }
        if let Some(attrs) = p.attributes {
            c.attributes = attrs;
        }
        if c == before {
            return Ok(c);
        }
        c.updated_at = now;
        db::customers::update(&mut tx, &c).await?;
        self.record_customer(&mut tx, a.actor, "customer.update", Some(&before), &c).await?;
        tx.emit(now, a.actor, Event::CustomerUpdated { customer: c.id }, Audience::staff_only())
            .await?;
        self.commit(tx).await?;
        Ok(c)
    }

    pub async fn add_identity(&self, a: &Agent, id: CustomerId, i: Identity) -> Result<Customer> {
        let now = self.now();
        let mut tx = self.db.write(a.workspace).await?;
        let before =
            db::customers::get(&mut tx, a.workspace, id).await?.or_not_found("customer")?;
        match db::customers::find_by_identity(&mut tx, a.workspace, &i).await? {
            Some(owner) if owner == id => return Ok(before),
            Some(_) => {
                return Err(Error::Conflict(format!(
                    "{} {} already belongs to another customer; merge instead",
                    i.kind, i.value
                )));
            }
            None => {}
        }
        db::customers::add_identity(&mut tx, a.workspace, id, &i, now).await?;
        let mut c = before.clone();
        c.identities.push(i);
        c.updated_at = now;
        db::customers::update(&mut tx, &c).await?;
        self.record_customer(&mut tx, a.actor, "customer.add_identity", Some(&before), &c).await?;
        tx.emit(now, a.actor, Event::CustomerUpdated { customer: c.id }, Audience::staff_only())
            .await?;
        self.commit(tx).await?;
        Ok(c)
    }

    /// Merges `from` into `into` (IN-2): identities, conversations and tickets move; `from`
    /// remains as a read-only pointer so old links resolve.
    pub async fn merge_customers(
        &self,
        s: &Supervisor,
        into: CustomerId,
        from: CustomerId,
    ) -> Result<Customer> {
        if into == from {
            return Err(Error::Conflict("cannot merge a customer into itself".into()));
        }
        let now = self.now();
        let mut tx = self.db.write(s.workspace).await?;
        let t = self.merge_in(&mut tx, s.actor, into, from, now).await?;
        self.commit(tx).await?;
        self.visitors.forget_customer(from);
        Ok(t)
    }

    /// Merges `from` into `into` inside the caller's transaction (a supervisor's merge, or a
    /// verified identity that links two customers, IN-2).
    pub(crate) async fn merge_in(
        &self,
        tx: &mut db::WriteTx,
        actor: Actor,
        into: CustomerId,
        from: CustomerId,
        now: domain::Timestamp,
    ) -> Result<Customer> {
        let ws = tx.workspace();
        let target = db::customers::get(tx, ws, into).await?.or_not_found("customer")?;
        let source = db::customers::get(tx, ws, from).await?.or_not_found("customer")?;
        if target.merged_into.is_some() || source.merged_into.is_some() {
            return Err(Error::Conflict("one of these customers was already merged".into()));
        }
        db::customers::merge(tx, ws, into, from).await?;
        let mut merged_source = source.clone();
        merged_source.merged_into = Some(into);
        merged_source.identities.clear();
        merged_source.updated_at = now;
        db::customers::update(tx, &merged_source).await?;
        let mut t = target.clone();
        t.identities.extend(source.identities.iter().cloned());
        if source.tier == Tier::Vip {
            t.tier = Tier::Vip;
        }
        for (k, v) in &source.attributes {
            if !t.attributes.iter().any(|(tk, _)| tk == k) {
                t.attributes.push((k.clone(), v.clone()));
            }
        }
        t.updated_at = now;
        db::customers::update(tx, &t).await?;
        self.record_customer(tx, actor, "customer.merge_away", Some(&source), &merged_source)
            .await?;
        self.record_customer(tx, actor, "customer.merge", Some(&target), &t).await?;
        tx.emit(now, actor, Event::CustomersMerged { into, from }, Audience::staff_only()).await?;
        Ok(t)
    }
}

fn dedup(ids: Vec<Identity>) -> Vec<Identity> {
    let mut out: Vec<Identity> = Vec::new();
    for i in ids {
        if !out.iter().any(|o| o.kind == i.kind && o.value == i.value) {
            out.push(i);
        }
    }
    out
}
