//! Classification (FB-3, FB-4): every inbound customer message and every feedback item gets a
//! `content_signals` row — type, sentiment (the workspace's analyzer), problem code (the bot
//! hand-off's keyword and intent table), urgency and its 24 / 48 / 72 h deadline. Messages are
//! classified by a `ClassifyMessages` job enqueued once per ingest batch, off the hot path;
//! feedback inside its own transaction. Complaints get a 15-minute assignment check, and every
//! complaint and feedback item a deadline job that warns the supervisors when it is overdue.

use domain::{
    Job, JobId, MessageId, SignalId, Status, Timestamp, Visibility, WorkspaceId,
    feedback::{
        COMPLAINT_ASSIGN_MINUTES, ContentKind, ContentSignal, FeedbackStatus, SentimentLabel,
        SignalSource,
    },
};

use crate::{App, Result, auth::Staff};

/// What the classifier makes of one text.
pub(crate) struct Classified {
    pub kind: ContentKind,
    pub sentiment: SentimentLabel,
    pub sentiment_score: f64,
    pub strong_negative: bool,
    pub problem_code: Option<domain::ProblemCode>,
    pub urgency: domain::feedback::SignalUrgency,
    pub product: Option<String>,
}

impl App {
    /// Classifies `text` with the workspace's analyzer; `rating` (1–5) when the item has one.
    pub(crate) async fn classify_text(
        &self,
        ws: WorkspaceId,
        text: &str,
        rating: Option<i64>,
    ) -> Result<Classified> {
        let mut c = self.db.read().await?;
        self.classify_text_on(&mut c, ws, text, rating).await
    }

    /// [`App::classify_text`] on a connection the caller holds (a job's transaction).
    pub(crate) async fn classify_text_on(
        &self,
        c: &mut db::AnyConnection,
        ws: WorkspaceId,
        text: &str,
        rating: Option<i64>,
    ) -> Result<Classified> {
        // The analyzer reads at most this much; a long review says what it is about early.
        let cut: String = text.chars().take(2000).collect();
        let a = self.analyze_on(c, ws, &cut).await?;
        let sentiment = match a.sentiment.polarity {
            nlu::sentiment::Polarity::Negative => SentimentLabel::Negative,
            nlu::sentiment::Polarity::Neutral => SentimentLabel::Neutral,
            nlu::sentiment::Polarity::Positive => SentimentLabel::Positive,
        };
        let intent = a.intent.as_ref().and_then(|p| p.label()).map(str::to_string);
        let pre = dialogue::prefill::suggest(&cut, intent.as_deref(), a.sentiment.strong_negative);
        let v = workflow::feedback::classify(&workflow::feedback::Facts {
            text: &cut,
            sentiment,
            sentiment_score: f64::from(a.sentiment.score),
            strong_negative: a.sentiment.strong_negative,
            problem_code: pre.problem_code,
            prefill_urgency: match pre.urgency {
                dialogue::prefill::Urgency::Normal => 0,
                dialogue::prefill::Urgency::Urgent => 1,
                dialogue::prefill::Urgency::Critical => 2,
            },
            rating,
        });
        let product = a
            .entities
            .iter()
            .find(|e| e.kind == nlu::entities::EntityKind::Product)
            .map(|e| e.text.clone());
        Ok(Classified {
            kind: v.kind,
            sentiment,
            sentiment_score: f64::from(a.sentiment.score),
            strong_negative: a.sentiment.strong_negative,
            problem_code: pre.problem_code.and_then(|c| domain::ProblemCode::parse(c).ok()),
            urgency: v.urgency,
            product,
        })
    }

    /// A signal row from a classification, with its deadlines.
    pub(crate) fn signal(
        &self,
        ws: WorkspaceId,
        source: SignalSource,
        source_id: String,
        c: Classified,
        now: Timestamp,
    ) -> ContentSignal {
        ContentSignal {
            id: self.ids.next(now, SignalId::new),
            workspace: ws,
            source,
            source_id,
            customer: None,
            ticket: None,
            conversation: None,
            channel: None,
            kind: c.kind,
            sentiment: c.sentiment,
            sentiment_score: c.sentiment_score,
            strong_negative: c.strong_negative,
            problem_code: c.problem_code,
            urgency: c.urgency,
            product: c.product,
            due_at: now.plus_millis(c.urgency.deadline_hours() * 3_600_000),
            assign_due_at: (c.kind == ContentKind::Complaint)
                .then(|| now.plus_millis(COMPLAINT_ASSIGN_MINUTES * 60_000)),
            overdue: false,
            created_at: now,
        }
    }

    /// Stores signals and enqueues their deadline and assignment checks: every feedback
    /// signal and every complaint gets a deadline; complaints an assignment check.
    pub(crate) async fn store_signals(
        &self,
        tx: &mut db::WriteTx,
        signals: &[ContentSignal],
        now: Timestamp,
    ) -> Result<()> {
        db::feedback::insert_signals(tx, signals).await?;
        let mut jobs = Vec::new();
        for s in signals {
            if s.kind == ContentKind::Complaint || s.source != SignalSource::Message {
                jobs.push((
                    self.ids.next(now, JobId::new),
                    Job::SignalDeadline { signal: s.id },
                    s.due_at,
                ));
            }
            if let Some(at) = s.assign_due_at {
                jobs.push((
                    self.ids.next(now, JobId::new),
                    Job::ComplaintAssignCheck { signal: s.id },
                    at,
                ));
            }
        }
        tx.enqueue_many(&jobs, now).await?;
        Ok(())
    }

    /// The `ClassifyMessages` job: reads and analyses on a read
    /// connection, outside any transaction, then stores the signals and completes the job in
    /// one. Analysis is CPU work of milliseconds per message; inside a write transaction it held
    /// SQLite's one writer, and a claimed batch of these jobs stalled every chat message for
    /// hundreds of milliseconds (`huiting bench ws`).
    pub(crate) async fn classify_messages_job(
        &self,
        worker: &str,
        c: &db::jobs::Claimed,
        ids: &[MessageId],
        now: Timestamp,
    ) -> Result<()> {
        let ws = c.workspace;
        let analysed = {
            let mut conn = self.db.read().await?;
            self.analyse_inbound(&mut conn, ws, ids).await?
        };
        let mut tx = self.db.write(ws).await?;
        self.store_message_classes(&mut tx, analysed, now).await?;
        if db::jobs::complete(&mut tx, c.id, worker, now).await? {
            self.commit(tx).await?;
        }
        Ok(())
    }

    /// The inbound (customer) messages among `ids`, each with its classification.
    async fn analyse_inbound(
        &self,
        conn: &mut db::AnyConnection,
        ws: WorkspaceId,
        ids: &[MessageId],
    ) -> Result<Vec<(db::feedback::Inbound, Classified)>> {
        let inbound = db::feedback::inbound_messages(conn, ws, ids).await?;
        let mut out = Vec::with_capacity(inbound.len());
        for m in inbound {
            let c = self.classify_text_on(conn, ws, &m.body, None).await?;
            out.push((m, c));
        }
        Ok(out)
    }

    /// Stores the signals of classified inbound messages, tied to their conversations' active
    /// tickets.
    async fn store_message_classes(
        &self,
        tx: &mut db::WriteTx,
        analysed: Vec<(db::feedback::Inbound, Classified)>,
        now: Timestamp,
    ) -> Result<()> {
        if analysed.is_empty() {
            return Ok(());
        }
        let ws = tx.workspace();
        let mut convs: Vec<domain::ConversationId> =
            analysed.iter().map(|(m, _)| m.conversation).collect();
        convs.sort();
        convs.dedup();
        let tickets = db::tickets::active_of_conversations(tx, ws, &convs).await?;
        let mut signals = Vec::with_capacity(analysed.len());
        for (m, c) in analysed {
            let mut s = self.signal(ws, SignalSource::Message, m.message.to_string(), c, now);
            // Deadlines run from when the customer wrote, not from when the job ran.
            let lag = now.millis() - m.created_at.millis();
            s.due_at = s.due_at.plus_millis(-lag);
            s.assign_due_at =
                s.assign_due_at.map(|a| a.plus_millis(-lag)).map(|a| if a < now { now } else { a });
            s.created_at = m.created_at;
            s.customer = Some(m.customer);
            s.conversation = Some(m.conversation);
            s.channel = Some(m.channel);
            s.ticket = tickets.iter().find(|t| t.conversation == m.conversation).map(|t| t.id);
            if s.problem_code.is_none() {
                s.problem_code = tickets
                    .iter()
                    .find(|t| t.conversation == m.conversation)
                    .and_then(|t| t.problem_code);
            }
            signals.push(s);
        }
        self.store_signals(tx, &signals, now).await
    }

    /// Whether the item behind a signal was handled: feedback marked handled; a message's
    /// ticket solved, or without a ticket its conversation resolved.
    async fn signal_handled(&self, tx: &mut db::WriteTx, s: &ContentSignal) -> Result<bool> {
        let ws = tx.workspace();
        if s.source != SignalSource::Message {
            let Ok(id) = domain::FeedbackId::parse(&s.source_id) else { return Ok(true) };
            return Ok(db::feedback::get_feedback(tx, ws, id)
                .await?
                .is_none_or(|f| f.status == FeedbackStatus::Handled));
        }
        if let Some(conv) = s.conversation {
            let tickets = db::tickets::of_conversation(tx, ws, conv).await?;
            if !tickets.is_empty() {
                return Ok(tickets
                    .iter()
                    .all(|t| matches!(t.status, Status::Solved | Status::Closed)));
            }
            return Ok(db::conversations::get(tx, ws, conv)
                .await?
                .is_none_or(|c| c.status == domain::ConversationStatus::Resolved));
        }
        Ok(true)
    }

    /// The deadline job (FB-4): an unhandled item is marked overdue and supervised.
    pub(crate) async fn signal_deadline(
        &self,
        tx: &mut db::WriteTx,
        id: SignalId,
        now: Timestamp,
    ) -> Result<()> {
        let ws = tx.workspace();
        let Some(s) = db::feedback::get_signal(tx, ws, id).await? else { return Ok(()) };
        if s.overdue || self.signal_handled(tx, &s).await? {
            return Ok(());
        }
        db::feedback::mark_signal_overdue(tx, ws, id).await?;
        let ticket = match s.ticket {
            Some(t) => db::tickets::get(tx, ws, t).await?,
            None => None,
        };
        let what = match s.source {
            SignalSource::Message => "消息 / message",
            SignalSource::Feedback => "反馈 / feedback",
            SignalSource::Review => "评价 / review",
        };
        let body = format!(
            "【处理超时】{urg_zh}紧急度的{kind_zh}{what}已超过 {h} 小时处理时限。\n[Overdue] A {urg} {kind} ({what}) passed its {h} h handling deadline.",
            urg_zh = match s.urgency {
                domain::feedback::SignalUrgency::High => "高",
                domain::feedback::SignalUrgency::Medium => "中",
                domain::feedback::SignalUrgency::Low => "低",
            },
            kind_zh = match s.kind {
                ContentKind::Complaint => "投诉",
                ContentKind::Suggestion => "建议",
                ContentKind::Inquiry => "咨询",
            },
            urg = s.urgency.as_str(),
            kind = s.kind.as_str(),
            h = s.urgency.deadline_hours(),
        );
        if let Some(t) = &ticket {
            self.system_message(tx, t, Visibility::Internal, body.clone(), now).await?;
        }
        self.notify_supervisors(tx, ticket.as_ref(), "feedback.overdue", &body, now).await?;
        tx.audit(
            now,
            domain::Actor::System,
            "signal.overdue",
            "content_signal",
            &s.id.to_string(),
            None,
            Some(
                &domain::Snapshot::default()
                    .with("kind", s.kind.as_str())
                    .with("urgency", s.urgency.as_str()),
            ),
        )
        .await?;
        Ok(())
    }

    /// The 15-minute check (FB-3): a complaint nobody was assigned to is reported.
    pub(crate) async fn complaint_assign_check(
        &self,
        tx: &mut db::WriteTx,
        id: SignalId,
        now: Timestamp,
    ) -> Result<()> {
        let ws = tx.workspace();
        let Some(s) = db::feedback::get_signal(tx, ws, id).await? else { return Ok(()) };
        if self.signal_handled(tx, &s).await? {
            return Ok(());
        }
        let mut ticket = None;
        let assigned = match s.source {
            SignalSource::Message => {
                let conv = match s.conversation {
                    Some(c) => db::conversations::get(tx, ws, c).await?,
                    None => None,
                };
                let tickets = match s.conversation {
                    Some(c) => db::tickets::of_conversation(tx, ws, c).await?,
                    None => Vec::new(),
                };
                let active: Vec<_> = tickets.into_iter().filter(|t| t.status.is_active()).collect();
                let any = conv.is_some_and(|c| c.assignee.is_some())
                    || active.iter().any(|t| t.assignee.is_some());
                ticket = active.into_iter().next();
                any
            }
            _ => {
                let fid = domain::FeedbackId::parse(&s.source_id).ok();
                match fid {
                    Some(f) => db::feedback::get_feedback(tx, ws, f)
                        .await?
                        .is_none_or(|f| f.assignee.is_some()),
                    None => true,
                }
            }
        };
        if assigned {
            return Ok(());
        }
        let body = format!(
            "【投诉未分配】一条投诉已超过 {m} 分钟无人负责，请立即分配。\n[Complaint unassigned] A complaint has waited {m} minutes without an owner; assign it now.",
            m = COMPLAINT_ASSIGN_MINUTES
        );
        if let Some(t) = &ticket {
            self.system_message(tx, t, Visibility::Internal, body.clone(), now).await?;
        }
        self.notify_supervisors(tx, ticket.as_ref(), "complaint.unassigned", &body, now).await?;
        Ok(())
    }

    /// Signals of the workspace, newest first.
    pub async fn list_signals(
        &self,
        s: &Staff,
        f: &db::feedback::SignalFilter,
        page: &db::Page,
    ) -> Result<Vec<ContentSignal>> {
        crate::feedback::read_all(s)?;
        let mut c = self.db.read().await?;
        Ok(db::feedback::list_signals(&mut c, s.workspace, f, page).await?)
    }
}
