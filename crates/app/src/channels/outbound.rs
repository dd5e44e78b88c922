//! Everything Huiting sends out through channels, fed from the event outbox: a relay reads
//! each workspace's new events past its cursor and, in one transaction with moving the cursor,
//! turns agent replies in channel conversations into `SendOutbound` jobs and matching events
//! into `DeliverWebhook` jobs (PL-2). The jobs make their network call outside any
//! transaction, record the attempt, and on failure are retried by the job queue with
//! exponential backoff (`domain::job::backoff_millis`), up to `MAX_ATTEMPTS`.

use std::{collections::HashMap, sync::Mutex, time::Duration};

use ::channels::{config::Settings, sign, sms, webhook, wechat};
use domain::{
    ChannelId, DeliveryId, Job, JobId, OutboundId, SenderKind, Timestamp, Visibility, WorkspaceId,
    job::MAX_ATTEMPTS,
};

use crate::{
    App, Error, Result,
    channels::config::{CONSUMER, view},
    net,
};

/// Events relayed per workspace per pass.
const RELAY_BATCH: i64 = 200;
/// Time allowed for one outbound call.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// WeChat access tokens per channel, with the instant to stop using each (cached, as the
/// API's rate limit on `/cgi-bin/token` requires).
#[derive(Debug, Default)]
pub struct TokenCache(Mutex<HashMap<ChannelId, (String, Timestamp)>>);

impl TokenCache {
    fn get(&self, ch: ChannelId, now: Timestamp) -> Option<String> {
        let m = self.0.lock().unwrap_or_else(|e| e.into_inner());
        m.get(&ch).filter(|(_, until)| *until > now).map(|(t, _)| t.clone())
    }
    fn put(&self, ch: ChannelId, token: String, until: Timestamp) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).insert(ch, (token, until));
    }
    fn drop_token(&self, ch: ChannelId) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).remove(&ch);
    }
}

/// What an SMS outbound row's body holds: the template and its parameters.
pub(crate) fn sms_body(template: &str, params: &[(&str, &str)]) -> String {
    let map: serde_json::Map<String, serde_json::Value> = params
        .iter()
        .map(|(k, v)| ((*k).to_string(), serde_json::Value::String((*v).to_string())))
        .collect();
    serde_json::json!({"template": template, "params": map}).to_string()
}

fn event_matches(events: &[String], kind: &str) -> bool {
    events.iter().any(|e| e == "*" || e == kind)
}

impl App {
    /// Relays new outbox events of every workspace that has channels or webhooks; run at the
    /// start of each worker pass.
    pub(crate) async fn relay_outbox(&self) -> Result<()> {
        for ws in db::channels::behind(&self.db, CONSUMER).await? {
            self.relay_workspace(ws).await?;
        }
        Ok(())
    }

    async fn relay_workspace(&self, ws: WorkspaceId) -> Result<()> {
        let now = self.now();
        let mut tx = self.db.write(ws).await?;
        let Some(cursor) = db::channels::cursor(&mut tx, ws, CONSUMER).await? else {
            return Ok(());
        };
        let events = db::channels::raw_events(&mut tx, ws, cursor, RELAY_BATCH).await?;
        let Some(last) = events.last().map(|e| e.seq) else { return Ok(()) };
        let subs = db::channels::list_subscriptions(&mut tx, ws, true).await?;
        let mut jobs: Vec<(JobId, Job, Timestamp)> = Vec::new();
        for e in &events {
            for s in subs.iter().filter(|s| event_matches(&s.events, &e.kind)) {
                let id = self.ids.next(now, DeliveryId::new);
                let payload = webhook::event_envelope(
                    &id.to_string(),
                    &ws.to_string(),
                    &e.kind,
                    e.seq,
                    e.at.millis(),
                    &e.payload,
                );
                let d = db::channels::DeliveryRow {
                    id,
                    workspace: ws,
                    subscription: s.id,
                    event_seq: e.seq,
                    event_kind: e.kind.clone(),
                    payload: String::from_utf8_lossy(&payload).into_owned(),
                    state: "pending".into(),
                    attempts: 0,
                    response_status: None,
                    last_error: None,
                    created_at: now,
                    updated_at: now,
                };
                db::channels::insert_delivery(&mut tx, &d).await?;
                jobs.push((
                    self.ids.next(now, JobId::new),
                    Job::DeliverWebhook { delivery: id },
                    now,
                ));
            }
            if e.kind == "message.created" {
                self.relay_reply(&mut tx, ws, &e.payload, now, &mut jobs).await?;
            }
        }
        db::channels::set_cursor(&mut tx, ws, CONSUMER, last).await?;
        tx.enqueue_many(&jobs, now).await?;
        self.commit(tx).await
    }

    /// A public agent message in a conversation routed through a channel becomes an
    /// outbound message.
    async fn relay_reply(
        &self,
        tx: &mut db::WriteTx,
        ws: WorkspaceId,
        payload: &str,
        now: Timestamp,
        jobs: &mut Vec<(JobId, Job, Timestamp)>,
    ) -> Result<()> {
        let v: serde_json::Value = serde_json::from_str(payload).unwrap_or_default();
        let (Some(conv), Some(msg)) = (v["conversation"].as_str(), v["message"].as_str()) else {
            return Ok(());
        };
        if v["sender"].as_str() != Some(SenderKind::Agent.as_str())
            || v["visibility"].as_str() != Some(Visibility::Public.as_str())
        {
            return Ok(());
        }
        let (Ok(conv), Ok(msg)) =
            (domain::ConversationId::parse(conv), domain::MessageId::parse(msg))
        else {
            return Ok(());
        };
        let Some((channel, address)) = db::channels::route_of(tx, ws, conv).await? else {
            return Ok(());
        };
        let Some(message) = db::conversations::get_message(tx, ws, msg).await? else {
            return Ok(());
        };
        let Some(row) = db::channels::get_channel(tx, ws, channel).await? else { return Ok(()) };
        let mut text = message.body.clone();
        for a in &message.attachments {
            text.push_str(&format!("\n{} {}", a.name, a.url));
        }
        let body = match view(row)?.settings {
            Settings::Sms(s) => match &s.reply_template {
                Some(t) => sms_body(t, &[("content", &text)]),
                None => return Ok(()), // SMS replies need an approved template.
            },
            Settings::Phone(_) => return Ok(()), // Calls are answered by phone.
            _ => text,
        };
        let o = db::channels::OutboundRow {
            id: self.ids.next(now, OutboundId::new),
            workspace: ws,
            channel,
            conversation: Some(conv),
            message: Some(msg),
            address,
            body,
            state: "pending".into(),
            attempts: 0,
            last_error: None,
            created_at: now,
            updated_at: now,
        };
        db::channels::insert_outbound(tx, &o).await?;
        jobs.push((self.ids.next(now, JobId::new), Job::SendOutbound { outbound: o.id }, now));
        Ok(())
    }

    /// Runs a job that makes a network call: the call happens outside any transaction; the
    /// attempt is recorded; success completes the job, failure returns the error so the
    /// queue retries it after its backoff.
    pub(crate) async fn run_network_job(
        &self,
        worker: &str,
        c: &db::jobs::Claimed,
        now: Timestamp,
    ) -> Result<()> {
        let last = c.attempt >= MAX_ATTEMPTS;
        let outcome = match &c.job {
            Job::DeliverWebhook { delivery } => {
                self.deliver_webhook(c.workspace, *delivery, last).await
            }
            Job::SendOutbound { outbound } => {
                self.send_outbound(c.workspace, *outbound, last).await
            }
            _ => return Ok(()),
        };
        match outcome {
            Ok(()) => {
                let mut tx = self.db.write(c.workspace).await?;
                if db::jobs::complete(&mut tx, c.id, worker, now).await? {
                    self.commit(tx).await?;
                }
                Ok(())
            }
            Err(reason) => Err(Error::Internal(anyhow::anyhow!(reason))),
        }
    }

    async fn deliver_webhook(
        &self,
        ws: WorkspaceId,
        id: DeliveryId,
        last: bool,
    ) -> std::result::Result<(), String> {
        let now = self.now();
        let (d, sub) = {
            let mut c = self.db.read().await.map_err(|e| e.to_string())?;
            let Some(d) =
                db::channels::get_delivery(&mut c, ws, id).await.map_err(|e| e.to_string())?
            else {
                return Ok(());
            };
            let sub = db::channels::get_subscription(&mut c, ws, d.subscription)
                .await
                .map_err(|e| e.to_string())?;
            (d, sub)
        };
        let Some(sub) = sub.filter(|s| s.active) else {
            let _ = db::channels::record_delivery_attempt(
                &self.db,
                id,
                "failed",
                None,
                Some("the subscription was removed"),
                now,
            )
            .await;
            return Ok(());
        };
        let ts = now.millis() / 1000;
        let body = d.payload.clone().into_bytes();
        let req = net::Request {
            post: true,
            url: &sub.url,
            headers: vec![
                ("content-type", "application/json".into()),
                ("x-huiting-event", d.event_kind.clone()),
                ("x-huiting-delivery", d.id.to_string()),
                (sign::TIMESTAMP_HEADER, ts.to_string()),
                (sign::SIGNATURE_HEADER, sign::sign(sub.secret.as_bytes(), ts, &body)),
            ],
            body: Some(body),
            allow_hosts: &sub.allow_hosts,
            timeout: CALL_TIMEOUT,
        };
        let (status, error) = match net::send(req).await {
            Ok(r) if (200..300).contains(&r.status) => (Some(r.status as i64), None),
            Ok(r) => (Some(r.status as i64), Some(format!("HTTP {}", r.status))),
            Err(e) => (None, Some(e)),
        };
        let state = match (&error, last) {
            (None, _) => "delivered",
            (Some(_), true) => "failed",
            (Some(_), false) => "pending",
        };
        db::channels::record_delivery_attempt(&self.db, id, state, status, error.as_deref(), now)
            .await
            .map_err(|e| e.to_string())?;
        match error {
            None => Ok(()),
            Some(e) => Err(e),
        }
    }

    async fn send_outbound(
        &self,
        ws: WorkspaceId,
        id: OutboundId,
        last: bool,
    ) -> std::result::Result<(), String> {
        let now = self.now();
        let (o, ch) = {
            let mut c = self.db.read().await.map_err(|e| e.to_string())?;
            let Some(o) =
                db::channels::get_outbound(&mut c, ws, id).await.map_err(|e| e.to_string())?
            else {
                return Ok(());
            };
            let ch = db::channels::get_channel(&mut c, ws, o.channel)
                .await
                .map_err(|e| e.to_string())?
                .ok_or("the channel was removed")?;
            (o, view(ch).map_err(|e| e.to_string())?)
        };
        let result = match &ch.settings {
            Settings::WeChat(w) => self.wechat_send(ch.row.id, w, &o.address, &o.body).await,
            Settings::Webhook(h) => webhook_send(h, &o, now.millis() / 1000).await,
            Settings::Sms(s) => sms_send(s, &o).await,
            Settings::Phone(_) => Err("phone channels send nothing".into()),
        };
        let state = match (&result, last) {
            (Ok(()), _) => "sent",
            (Err(_), true) => "failed",
            (Err(_), false) => "pending",
        };
        db::channels::record_outbound_attempt(
            &self.db,
            id,
            state,
            result.as_ref().err().map(String::as_str),
            now,
        )
        .await
        .map_err(|e| e.to_string())?;
        result
    }

    async fn wechat_token(
        &self,
        ch: ChannelId,
        w: &::channels::config::WeChat,
    ) -> std::result::Result<String, String> {
        let now = self.now();
        if let Some(t) = self.channel_tokens.get(ch, now) {
            return Ok(t);
        }
        let url = wechat::token_url(&w.api_base, &w.app_id, &w.app_secret);
        let r = net::send(net::Request {
            post: false,
            url: &url,
            headers: Vec::new(),
            body: None,
            allow_hosts: &w.allow_hosts,
            timeout: CALL_TIMEOUT,
        })
        .await?;
        let (token, expires_in) =
            wechat::parse_token_response(&r.body).map_err(|e| e.to_string())?;
        // Renew five minutes early (WeChat's own advice), never sooner than a minute.
        let life = (expires_in - 300).max(60);
        self.channel_tokens.put(ch, token.clone(), now.plus_millis(life * 1000));
        Ok(token)
    }

    async fn wechat_send(
        &self,
        ch: ChannelId,
        w: &::channels::config::WeChat,
        openid: &str,
        text: &str,
    ) -> std::result::Result<(), String> {
        for round in 0..2 {
            let token = self.wechat_token(ch, w).await?;
            let r = net::send(net::Request {
                post: true,
                url: &wechat::send_url(&w.api_base, &token),
                headers: vec![("content-type", "application/json".into())],
                body: Some(wechat::custom_text(openid, text)),
                allow_hosts: &w.allow_hosts,
                timeout: CALL_TIMEOUT,
            })
            .await?;
            if !(200..300).contains(&r.status) {
                return Err(format!("HTTP {}", r.status));
            }
            match wechat::parse_send_response(&r.body) {
                Ok(()) => return Ok(()),
                Err(e) if e.token_expired() && round == 0 => self.channel_tokens.drop_token(ch),
                Err(e) => return Err(e.to_string()),
            }
        }
        Err("the access token kept expiring".into())
    }
}

async fn webhook_send(
    h: &::channels::config::Webhook,
    o: &db::channels::OutboundRow,
    now_secs: i64,
) -> std::result::Result<(), String> {
    let Some(url) = &h.callback_url else { return Err("the channel has no callback_url".into()) };
    let body = webhook::outbound_message(
        &o.message.map(|m| m.to_string()).unwrap_or_else(|| o.id.to_string()),
        &o.conversation.map(|c| c.to_string()).unwrap_or_default(),
        &o.address,
        &o.body,
    );
    let r = net::send(net::Request {
        post: true,
        url,
        headers: vec![
            ("content-type", "application/json".into()),
            (sign::NONCE_HEADER, o.id.to_string()),
            (sign::TIMESTAMP_HEADER, now_secs.to_string()),
            (sign::SIGNATURE_HEADER, sign::sign(h.secret.as_bytes(), now_secs, &body)),
        ],
        body: Some(body),
        allow_hosts: &h.allow_hosts,
        timeout: CALL_TIMEOUT,
    })
    .await?;
    if (200..300).contains(&r.status) { Ok(()) } else { Err(format!("HTTP {}", r.status)) }
}

async fn sms_send(
    s: &::channels::config::Sms,
    o: &db::channels::OutboundRow,
) -> std::result::Result<(), String> {
    let v: serde_json::Value =
        serde_json::from_str(&o.body).map_err(|_| "the SMS body is not a template request")?;
    let name = v["template"].as_str().unwrap_or_default();
    let t = s.templates.get(name).ok_or_else(|| format!("no SMS template {name:?}"))?;
    let params: std::collections::BTreeMap<String, String> = v["params"]
        .as_object()
        .map(|m| {
            m.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string())).collect()
        })
        .unwrap_or_default();
    let r = net::send(net::Request {
        post: true,
        url: &s.api_url,
        headers: vec![
            ("content-type", "application/json".into()),
            ("authorization", format!("Bearer {}", s.api_key)),
        ],
        body: Some(sms::send_request(&o.address, &s.sign_name, &t.code, &params)),
        allow_hosts: &s.allow_hosts,
        timeout: CALL_TIMEOUT,
    })
    .await?;
    if !(200..300).contains(&r.status) {
        return Err(format!("HTTP {}", r.status));
    }
    sms::parse_send_response(&r.body).map(|_| ()).map_err(|e| e.to_string())
}
