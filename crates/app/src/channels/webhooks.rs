//! Outbound event webhooks (PL-2): an admin subscribes a URL to event names (`ticket.created`,
//! `message.created`, … or `*`); each matching outbox event is POSTed as JSON, signed with
//! the subscription's secret (`X-Huiting-Signature: sha256=…` over `"{timestamp}.{body}"`),
//! retried with exponential backoff, and logged per delivery. URLs on internal addresses are
//! refused unless the admin lists the host in `allow_hosts`.

use domain::{DeliveryId, Job, JobId, WebhookId};

use crate::{App, Error, Result, auth::Admin, channels::config::CONSUMER, error::OrNotFound};

/// A new subscription; the secret is generated and shown once.
#[derive(Debug, Clone, Default)]
pub struct NewWebhook {
    pub url: String,
    pub events: Vec<String>,
    pub allow_hosts: Vec<String>,
}

fn check(n: &NewWebhook) -> Result<()> {
    let url = n.url.trim();
    let parsed = reqwest::Url::parse(url)
        .map_err(|_| domain::ParseError::new("url", "must be an absolute http(s) URL"))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(domain::ParseError::new("url", "must be an absolute http(s) URL").into());
    }
    if n.events.is_empty() || n.events.len() > 50 {
        return Err(domain::ParseError::new("events", "1 to 50 event names, or \"*\"").into());
    }
    for e in &n.events {
        let ok = e == "*"
            || (!e.is_empty()
                && e.len() <= 60
                && e.chars().all(|c| c.is_ascii_lowercase() || c == '.' || c == '_'));
        if !ok {
            return Err(domain::ParseError::new(
                "events",
                format!("{e:?} is not an event name like ticket.created"),
            )
            .into());
        }
    }
    if n.allow_hosts.len() > 20 || n.allow_hosts.iter().any(|h| h.is_empty() || h.len() > 253) {
        return Err(domain::ParseError::new("allow_hosts", "at most 20 host names").into());
    }
    Ok(())
}

impl App {
    pub async fn create_webhook(
        &self,
        a: &Admin,
        n: NewWebhook,
    ) -> Result<db::channels::SubscriptionRow> {
        check(&n)?;
        let now = self.now();
        let mut tx = self.db.write(a.workspace).await?;
        let s = db::channels::SubscriptionRow {
            id: self.ids.next(now, WebhookId::new),
            workspace: a.workspace,
            url: n.url.trim().to_string(),
            events: n.events,
            secret: self.ids.secret("whsec_"),
            allow_hosts: n.allow_hosts,
            active: true,
            created_at: now,
            updated_at: now,
        };
        db::channels::insert_subscription(&mut tx, &s).await?;
        db::channels::init_cursor(&mut tx, a.workspace, CONSUMER).await?;
        let snap = domain::Snapshot::default()
            .with("url", s.url.as_str())
            .list("events", &s.events)
            .list("allow_hosts", &s.allow_hosts);
        tx.audit(now, a.actor, "webhook.create", "webhook", &s.id.to_string(), None, Some(&snap))
            .await?;
        self.commit(tx).await?;
        Ok(s)
    }

    pub async fn list_webhooks(&self, a: &Admin) -> Result<Vec<db::channels::SubscriptionRow>> {
        let mut c = self.db.read().await?;
        Ok(db::channels::list_subscriptions(&mut c, a.workspace, true).await?)
    }

    /// Stops a subscription; pending deliveries to it end as failed.
    pub async fn delete_webhook(&self, a: &Admin, id: WebhookId) -> Result<()> {
        let now = self.now();
        let mut tx = self.db.write(a.workspace).await?;
        let s = db::channels::get_subscription(&mut tx, a.workspace, id)
            .await?
            .filter(|s| s.active)
            .or_not_found("webhook")?;
        db::channels::set_subscription_active(&mut tx, a.workspace, id, false, now).await?;
        let snap = domain::Snapshot::default().with("url", s.url.as_str());
        tx.audit(now, a.actor, "webhook.delete", "webhook", &id.to_string(), Some(&snap), None)
            .await?;
        self.commit(tx).await
    }

    /// The delivery log of a subscription, newest first.
    pub async fn webhook_deliveries(
        &self,
        a: &Admin,
        id: WebhookId,
        before: Option<DeliveryId>,
        limit: i64,
    ) -> Result<Vec<db::channels::DeliveryRow>> {
        let mut c = self.db.read().await?;
        db::channels::get_subscription(&mut c, a.workspace, id).await?.or_not_found("webhook")?;
        if limit < 1 {
            return Err(Error::Invalid(domain::ParseError::new("limit", "must be at least 1")));
        }
        Ok(db::channels::list_deliveries(&mut c, a.workspace, id, before, limit).await?)
    }

    /// Sends a delivery again (issue 6): a `failed` delivery — its attempts ran out — or a
    /// `pending` one whose job is dead (no longer waiting or running) is set back to
    /// `pending` with a new `DeliverWebhook` job, in one transaction; the job signs and checks
    /// the URL exactly like the first delivery, and each attempt is recorded in the log. A
    /// delivered delivery, or one still waiting for its job, is refused with
    /// [`Error::NotRetryable`].
    pub async fn retry_webhook_delivery(
        &self,
        a: &Admin,
        hook: WebhookId,
        id: DeliveryId,
    ) -> Result<db::channels::DeliveryRow> {
        let now = self.now();
        let mut tx = self.db.write(a.workspace).await?;
        db::channels::get_subscription(&mut tx, a.workspace, hook)
            .await?
            .filter(|s| s.active)
            .or_not_found("webhook")?;
        let d = db::channels::get_delivery(&mut tx, a.workspace, id)
            .await?
            .filter(|d| d.subscription == hook)
            .or_not_found("delivery")?;
        let job = Job::DeliverWebhook { delivery: id };
        match d.state.as_str() {
            "failed" => {}
            "pending" if !db::jobs::is_pending(&mut tx, a.workspace, &job).await? => {}
            "pending" => {
                return Err(Error::NotRetryable {
                    code: "delivery_pending",
                    message: format!(
                        "delivery {id} is still pending: the server retries it on its own back-off"
                    ),
                });
            }
            _ => {
                return Err(Error::NotRetryable {
                    code: "delivery_succeeded",
                    message: format!("delivery {id} was delivered; there is nothing to retry"),
                });
            }
        }
        if !db::channels::requeue_delivery(&mut tx, a.workspace, id, &d.state, now).await? {
            return Err(Error::Conflict(format!("delivery {id} changed meanwhile; reload it")));
        }
        tx.enqueue(self.ids.next(now, JobId::new), &job, now, now).await?;
        let before = domain::Snapshot::default()
            .with("state", d.state.as_str())
            .with("attempts", d.attempts.to_string().as_str());
        let after = domain::Snapshot::default().with("state", "pending");
        tx.audit(
            now,
            a.actor,
            "webhook.delivery_retry",
            "webhook",
            &hook.to_string(),
            Some(&before),
            Some(&after),
        )
        .await?;
        self.commit(tx).await?;
        Ok(db::channels::DeliveryRow { state: "pending".into(), updated_at: now, ..d })
    }
}
