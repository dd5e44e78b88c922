//! Realtime fan-out. Committed events are read back from the outbox in sequence order by one
//! dispatcher task per workspace and broadcast to subscribers, each of whom filters by what
//! they may see. A write wakes the dispatcher; the outbox, not the wake-up, is the source of
//! truth, so a subscriber that resumes from its last sequence number misses nothing.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use std::collections::VecDeque;

use domain::{
    ConversationId, CustomerId, Event, EventRecord, Message, Timestamp, UserId, WorkspaceId,
    event::{Audience, Viewer},
};
use tokio::sync::{Notify, broadcast};

/// An event as sent to subscribers, with the message it announces when there is one.
#[derive(Debug, Clone, PartialEq)]
pub struct Dispatched {
    pub record: EventRecord,
    pub message: Option<Message>,
}

#[derive(Debug)]
struct Channel {
    /// Staff subscribers: every event of the workspace, each filtered by its viewer.
    tx: broadcast::Sender<Arc<Dispatched>>,
    /// Customer subscribers, by customer: only the public events addressed to them. With ten
    /// thousand chat widgets open, an event wakes the one customer's sockets, not all of them.
    customers: Mutex<Customers>,
    wake: Arc<Notify>,
    /// Ephemeral signals (typing): live only, never stored, no `seq`.
    signals: broadcast::Sender<Arc<Signal>>,
}

#[derive(Debug, Default)]
struct Customers {
    senders: HashMap<CustomerId, broadcast::Sender<Arc<Dispatched>>>,
    /// Senders whose sockets all closed are dropped when the map reaches this size.
    sweep_at: usize,
}

/// Per-customer queue length; a customer's socket that falls further behind re-reads the outbox.
const CUSTOMER_QUEUE: usize = 256;

/// A passing signal between staff, not an event: it is neither stored nor replayed, so a
/// client that was away simply never sees it. Today only "typing a reply".
#[derive(Debug, Clone, PartialEq)]
pub struct Signal {
    pub conversation: ConversationId,
    pub user: UserId,
    pub at: Timestamp,
    pub audience: Audience,
}

#[derive(Clone, Debug)]
pub struct Hub {
    db: db::Db,
    channels: Arc<Mutex<HashMap<WorkspaceId, Arc<Channel>>>>,
}

/// A live subscription: receive from `rx`; on `Lagged`, catch up from the outbox.
#[derive(Debug)]
pub struct Subscription {
    pub rx: broadcast::Receiver<Arc<Dispatched>>,
    pub signals: broadcast::Receiver<Arc<Signal>>,
}

impl Hub {
    pub fn new(db: db::Db) -> Hub {
        Hub { db, channels: Arc::default() }
    }

    /// Tells the workspace's dispatcher that new events were committed.
    pub fn wake(&self, ws: WorkspaceId) {
        let ch = self.channels.lock().unwrap_or_else(|e| e.into_inner()).get(&ws).cloned();
        if let Some(ch) = ch {
            ch.wake.notify_one();
        }
    }

    /// Wakes every workspace's dispatcher: after missed cross-process notifications.
    pub fn wake_all(&self) {
        let chans: Vec<_> =
            self.channels.lock().unwrap_or_else(|e| e.into_inner()).values().cloned().collect();
        chans.iter().for_each(|ch| ch.wake.notify_one());
    }

    /// Sends a signal to the workspace's current subscribers (none listening is fine).
    pub fn signal(&self, ws: WorkspaceId, s: Signal) {
        let ch = self.channels.lock().unwrap_or_else(|e| e.into_inner()).get(&ws).cloned();
        if let Some(ch) = ch {
            drop(ch.signals.send(Arc::new(s)));
        }
    }

    /// Live subscriptions over all workspaces of this process.
    pub fn subscribers(&self) -> usize {
        let chans: Vec<_> =
            self.channels.lock().unwrap_or_else(|e| e.into_inner()).values().cloned().collect();
        chans
            .iter()
            .map(|ch| {
                let customers = ch.customers.lock().unwrap_or_else(|e| e.into_inner());
                ch.tx.receiver_count()
                    + customers.senders.values().map(|tx| tx.receiver_count()).sum::<usize>()
            })
            .sum()
    }

    /// Subscribes to the workspace's live events (those committed from now on).
    pub async fn subscribe(&self, ws: WorkspaceId) -> crate::Result<Subscription> {
        let ch = self.channel(ws).await?;
        Ok(Subscription { rx: ch.tx.subscribe(), signals: ch.signals.subscribe() })
    }

    /// Subscribes to the live public events addressed to one customer. Customers see no
    /// signals: theirs is a closed signal receiver.
    pub async fn subscribe_customer(
        &self,
        ws: WorkspaceId,
        cu: CustomerId,
    ) -> crate::Result<Subscription> {
        let ch = self.channel(ws).await?;
        let mut map = ch.customers.lock().unwrap_or_else(|e| e.into_inner());
        if map.senders.len() >= map.sweep_at {
            map.senders.retain(|_, tx| tx.receiver_count() > 0);
            map.sweep_at = (map.senders.len() * 2).max(1024);
        }
        let rx = map
            .senders
            .entry(cu)
            .or_insert_with(|| broadcast::channel(CUSTOMER_QUEUE).0)
            .subscribe();
        let (_closed, signals) = broadcast::channel(1);
        Ok(Subscription { rx, signals })
    }

    /// The workspace's channel, starting its dispatcher on first use.
    async fn channel(&self, ws: WorkspaceId) -> crate::Result<Arc<Channel>> {
        let existing = self.channels.lock().unwrap_or_else(|e| e.into_inner()).get(&ws).cloned();
        let ch = match existing {
            Some(ch) => ch,
            None => {
                let mut c = self.db.read().await?;
                let head = db::events::head(&mut c, ws).await?;
                drop(c);
                let mut map = self.channels.lock().unwrap_or_else(|e| e.into_inner());
                match map.get(&ws) {
                    Some(ch) => ch.clone(),
                    None => {
                        let (tx, _) = broadcast::channel(4096);
                        let (signals, _) = broadcast::channel(256);
                        let ch = Arc::new(Channel {
                            tx,
                            customers: Mutex::default(),
                            wake: Arc::new(Notify::new()),
                            signals,
                        });
                        map.insert(ws, ch.clone());
                        tokio::spawn(dispatch(self.db.clone(), ws, head, ch.clone()));
                        // Catch events committed between reading the head and registering.
                        ch.wake.notify_one();
                        ch
                    }
                }
            }
        };
        Ok(ch)
    }
}

/// Enriches a record for subscribers: a message event carries its message.
pub(crate) async fn enrich(db: &db::Db, record: EventRecord) -> crate::Result<Dispatched> {
    let message = match &record.event {
        Event::MessageCreated { message, .. } => {
            let mut c = db.read().await?;
            db::conversations::get_message(&mut c, record.workspace, *message).await?
        }
        _ => None,
    };
    Ok(Dispatched { record, message })
}

impl Channel {
    /// To the staff subscribers, and to the addressed customer's if it is public. No receivers
    /// is fine: nobody is watching right now.
    fn send(&self, d: Arc<Dispatched>) {
        let customer = d.record.audience.customer.filter(|_| !d.record.audience.internal);
        if let Some(cu) = customer {
            let mut map = self.customers.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(tx) = map.senders.get(&cu)
                && tx.send(d.clone()).is_err()
            {
                map.senders.remove(&cu);
            }
        }
        drop(self.tx.send(d));
    }
}

async fn dispatch(db: db::Db, ws: WorkspaceId, mut last: i64, ch: Arc<Channel>) {
    loop {
        ch.wake.notified().await;
        loop {
            let batch = match db.read().await {
                Ok(mut c) => db::events::since(&mut c, ws, last, 1000).await,
                Err(e) => Err(e),
            };
            let batch = match batch {
                Ok(b) => b,
                Err(e) => {
                    tracing::warn!(error = %e, workspace = %ws, "reading the outbox failed; retrying");
                    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                    continue;
                }
            };
            let n = batch.len();
            for record in batch {
                last = record.seq;
                match enrich(&db, record).await {
                    Ok(d) => ch.send(Arc::new(d)),
                    Err(e) => tracing::warn!(error = %e, "enriching an event failed"),
                }
            }
            if n < 1000 {
                break;
            }
        }
    }
}

/// One subscriber's ordered, filtered stream: the backlog after its cursor, then live events,
/// each delivered once.
#[derive(Debug)]
pub struct EventStream {
    db: db::Db,
    ws: WorkspaceId,
    viewer: Viewer,
    sub: Subscription,
    backlog: VecDeque<Arc<Dispatched>>,
    last: i64,
    /// Still reading the outbox page by page before switching to live events.
    catching_up: bool,
}

const PAGE: i64 = 500;

/// One subscriber's live signals, filtered by what the viewer may see.
#[derive(Debug)]
pub struct Signals {
    rx: broadcast::Receiver<Arc<Signal>>,
    viewer: Viewer,
}

impl Signals {
    /// The next signal this viewer may see (customers see none). Lagging drops signals: they
    /// are momentary by nature. Waits forever once the hub is gone (events report that).
    pub async fn next(&mut self) -> Arc<Signal> {
        loop {
            match self.rx.recv().await {
                Ok(s) => {
                    if !matches!(self.viewer, Viewer::Customer(_))
                        && s.audience.visible_to(&self.viewer)
                    {
                        return s;
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => std::future::pending().await,
            }
        }
    }
}

impl EventStream {
    /// The sequence number of the last event delivered (or skipped as invisible).
    pub fn cursor(&self) -> i64 {
        self.last
    }

    /// The next visible event. Waits for one if none is pending.
    pub async fn next(&mut self) -> crate::Result<Arc<Dispatched>> {
        loop {
            if let Some(d) = self.backlog.pop_front() {
                self.last = self.last.max(d.record.seq);
                return Ok(d);
            }
            if self.catching_up {
                self.fill().await?;
                continue;
            }
            match self.sub.rx.recv().await {
                Ok(d) => {
                    if d.record.seq <= self.last {
                        continue;
                    }
                    self.last = d.record.seq;
                    if d.record.audience.visible_to(&self.viewer) {
                        return Ok(d);
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => self.catching_up = true,
                Err(broadcast::error::RecvError::Closed) => {
                    return Err(crate::Error::Internal(anyhow::anyhow!("event hub closed")));
                }
            }
        }
    }

    /// The signals this viewer may see, from now on (a separate receiver, so a socket can wait
    /// on events and signals at once).
    pub fn signals(&self) -> Signals {
        Signals { rx: self.sub.signals.resubscribe(), viewer: self.viewer.clone() }
    }

    /// Reads the next page of the outbox after the cursor; invisible events only move it.
    async fn fill(&mut self) -> crate::Result<()> {
        let mut c = self.db.read().await?;
        let records = match self.viewer {
            Viewer::Customer(cu) => {
                db::events::since_for_customer(&mut c, self.ws, cu, self.last, PAGE).await?
            }
            _ => db::events::since(&mut c, self.ws, self.last, PAGE).await?,
        };
        drop(c);
        self.catching_up = records.len() as i64 == PAGE;
        for r in records {
            if r.audience.visible_to(&self.viewer) {
                self.backlog.push_back(Arc::new(enrich(&self.db, r).await?));
            } else {
                self.last = self.last.max(r.seq);
            }
        }
        Ok(())
    }
}

/// Visible events after `after`, in order, enriched.
pub(crate) async fn read_since(
    db: &db::Db,
    ws: WorkspaceId,
    viewer: &Viewer,
    after: i64,
    limit: i64,
) -> crate::Result<Vec<Dispatched>> {
    let mut c = db.read().await?;
    let records = match viewer {
        Viewer::Customer(cu) => {
            db::events::since_for_customer(&mut c, ws, *cu, after, limit).await?
        }
        _ => db::events::since(&mut c, ws, after, limit).await?,
    };
    drop(c);
    let mut out = Vec::with_capacity(records.len());
    for r in records.into_iter().filter(|r| r.audience.visible_to(viewer)) {
        out.push(enrich(db, r).await?);
    }
    Ok(out)
}

impl crate::App {
    /// A stream of the events `viewer` may see in `ws`, starting after `since` (or now).
    pub(crate) async fn stream(
        &self,
        ws: WorkspaceId,
        viewer: Viewer,
        since: Option<i64>,
    ) -> crate::Result<EventStream> {
        let sub = match viewer {
            Viewer::Customer(cu) => self.hub.subscribe_customer(ws, cu).await?,
            _ => self.hub.subscribe(ws).await?,
        };
        let mut s = EventStream {
            db: self.db.clone(),
            ws,
            viewer,
            sub,
            backlog: VecDeque::new(),
            last: 0,
            catching_up: since.is_some(),
        };
        s.last = match since {
            Some(n) => n.max(0),
            None => {
                let mut c = self.db.read().await?;
                db::events::head(&mut c, ws).await?
            }
        };
        if s.catching_up {
            s.fill().await?;
        }
        Ok(s)
    }

    /// Tells the colleagues who can see the conversation that the caller is typing a reply
    /// (the "someone else is replying" warning). Nothing is stored.
    pub async fn typing(
        &self,
        a: &crate::auth::Agent,
        conversation: ConversationId,
    ) -> crate::Result<()> {
        let Some(user) = a.user else {
            return Err(crate::Error::Forbidden("signal typing without a user"));
        };
        let conv = self.readable_conversation(a, conversation).await?;
        let audience =
            Audience { customer: None, team: conv.team, assignee: conv.assignee, internal: true };
        self.hub.signal(a.workspace, Signal { conversation, user, at: self.now(), audience });
        Ok(())
    }

    pub async fn staff_stream(
        &self,
        s: &crate::auth::Staff,
        since: Option<i64>,
    ) -> crate::Result<EventStream> {
        self.stream(s.workspace, s.viewer(), since).await
    }

    pub async fn visitor_stream(
        &self,
        v: &crate::auth::Visitor,
        since: Option<i64>,
    ) -> crate::Result<EventStream> {
        self.stream(v.workspace, Viewer::Customer(v.customer), since).await
    }

    /// Polling: visible events after `since`, at most `limit`.
    pub async fn staff_events(
        &self,
        s: &crate::auth::Staff,
        since: i64,
        limit: i64,
    ) -> crate::Result<Vec<Dispatched>> {
        read_since(&self.db, s.workspace, &s.viewer(), since, limit).await
    }

    pub async fn visitor_events(
        &self,
        v: &crate::auth::Visitor,
        since: i64,
        limit: i64,
    ) -> crate::Result<Vec<Dispatched>> {
        read_since(&self.db, v.workspace, &Viewer::Customer(v.customer), since, limit).await
    }
}
