//! Surveys after a solve (FB-1, FB-5). Solving a ticket schedules one survey per configured
//! kind (CSAT, NPS, CES) as a batch, sent after the workspace's delay by a `SurveySend` job
//! enqueued in the solving transaction. Sending writes a public system message with a one-time
//! link into the ticket's conversation: in chat it is the prompt itself; for email and SMS it is
//! the outbound message the channel delivers. Unanswered, it is reminded (a second link, both
//! valid), then expires and opens a follow-up task. An answer at or below the workspace's
//! threshold reopens the ticket and moves it to the special team; a solved complaint gets a
//! call-back task due in 48 hours.

use domain::{
    Actor, AuditValue, Job, JobId, Snapshot, Status, SurveyId, Ticket, Timestamp, Urgency,
    Visibility,
    feedback::{Survey, SurveyKind, SurveyQuestion, SurveySettings, SurveyStatus},
    ticket::transition,
};

use crate::{
    App, Error, Result,
    auth::{Manager, Staff},
    feedback::{Task, is_task},
    ids::hash_secret,
};

/// Hours within which a solved complaint gets its call-back (FB-5).
pub const CALLBACK_HOURS: i64 = 48;

/// What a survey link shows.
#[derive(Debug, Clone)]
pub struct SurveyForm {
    pub workspace_name: String,
    pub ticket_number: Option<String>,
    /// The kinds asked, each with its scale.
    pub kinds: Vec<SurveyKind>,
    pub questions: Vec<SurveyQuestion>,
    pub expires_at: Timestamp,
}

/// A customer's answer through a link.
#[derive(Debug, Clone, Default)]
pub struct SurveyAnswer {
    pub scores: Vec<(SurveyKind, i64)>,
    pub comment: Option<String>,
    pub answers: Vec<(String, String)>,
}

fn check_settings(s: &SurveySettings) -> Result<(), domain::ParseError> {
    use domain::ParseError as P;
    if s.kinds.is_empty() {
        return Err(P::new("kinds", "name at least one of csat, nps, ces"));
    }
    let mut k = s.kinds.clone();
    k.sort();
    k.dedup();
    if k.len() != s.kinds.len() {
        return Err(P::new("kinds", "each kind at most once"));
    }
    if !(0..=7 * 24 * 60).contains(&s.delay_minutes) {
        return Err(P::new("delay_minutes", "0 to 10080 (a week)"));
    }
    if !(1..=30 * 24).contains(&s.expiry_hours) {
        return Err(P::new("expiry_hours", "1 to 720 (30 days)"));
    }
    if s.reminder_hours < 1 || s.reminder_hours >= s.expiry_hours {
        return Err(P::new("reminder_hours", "at least 1 and less than expiry_hours"));
    }
    for (field, v, (lo, hi)) in [
        ("csat_low", s.csat_low, SurveyKind::Csat.range()),
        ("nps_low", s.nps_low, SurveyKind::Nps.range()),
        ("ces_low", s.ces_low, SurveyKind::Ces.range()),
    ] {
        if v < lo - 1 || v >= hi {
            return Err(P::new(
                field,
                format!(
                    "{} to {} (scores at or below it are low; {} turns it off)",
                    lo - 1,
                    hi - 1,
                    lo - 1
                ),
            ));
        }
    }
    if s.questions.len() > 10 {
        return Err(P::new("questions", "at most 10 custom questions"));
    }
    let mut ids = Vec::new();
    for q in &s.questions {
        if q.id.trim().is_empty() || q.id.len() > 40 || ids.contains(&q.id) {
            return Err(P::new(
                "questions",
                "each question needs a unique id of 1 to 40 characters",
            ));
        }
        ids.push(q.id.clone());
        if q.text.trim().is_empty() || q.text.chars().count() > 500 {
            return Err(P::new(
                "questions",
                format!("question {:?}: text of 1 to 500 characters", q.id),
            ));
        }
        match q.kind.as_str() {
            "text" | "scale" => {}
            "choice" if !q.options.is_empty() && q.options.len() <= 20 => {}
            "choice" => {
                return Err(P::new(
                    "questions",
                    format!("question {:?}: a choice needs 1 to 20 options", q.id),
                ));
            }
            other => {
                return Err(P::new(
                    "questions",
                    format!("question {:?}: type {other:?}; expected text, choice or scale", q.id),
                ));
            }
        }
    }
    Ok(())
}

fn kind_label(k: SurveyKind) -> (&'static str, &'static str) {
    match k {
        SurveyKind::Csat => ("满意度 (1–5)", "satisfaction (1–5)"),
        SurveyKind::Nps => ("推荐意愿 (0–10)", "likelihood to recommend (0–10)"),
        SurveyKind::Ces => ("解决难易度 (1–7)", "ease of getting help (1–7)"),
    }
}

fn survey_snapshot(s: &Survey) -> Snapshot {
    Snapshot::default()
        .with("kind", s.kind.as_str())
        .with("status", s.status.as_str())
        .with("ticket", s.ticket.map(|t| t.to_string()))
        .with("score", s.score.map_or(AuditValue::Null, AuditValue::Int))
        .with("low_score", AuditValue::Int(i64::from(s.low_score)))
}

impl App {
    pub async fn survey_settings(&self, s: &Staff) -> Result<SurveySettings> {
        let mut c = self.db.read().await?;
        Ok(db::feedback::survey_settings(&mut c, s.workspace).await?.unwrap_or_default())
    }

    pub async fn put_survey_settings(
        &self,
        m: &Manager,
        settings: SurveySettings,
    ) -> Result<SurveySettings> {
        check_settings(&settings)?;
        let now = self.now();
        let mut tx = self.db.write(m.workspace).await?;
        if let Some(team) = settings.special_team
            && db::users::get_team(&mut tx, m.workspace, team).await?.is_none()
        {
            return Err(domain::ParseError::new(
                "special_team_id",
                "no such team in this workspace",
            )
            .into());
        }
        let before = db::feedback::survey_settings(&mut tx, m.workspace).await?;
        db::feedback::put_survey_settings(&mut tx, m.workspace, &settings, now).await?;
        let snap = |s: &SurveySettings| {
            Snapshot::default()
                .with("enabled", AuditValue::Int(i64::from(s.enabled)))
                .list("kinds", &s.kinds.iter().map(|k| k.as_str().to_string()).collect::<Vec<_>>())
                .with("delay_minutes", AuditValue::Int(s.delay_minutes))
                .with("expiry_hours", AuditValue::Int(s.expiry_hours))
                .with("reminder_hours", AuditValue::Int(s.reminder_hours))
                .with("csat_low", AuditValue::Int(s.csat_low))
                .with("nps_low", AuditValue::Int(s.nps_low))
                .with("ces_low", AuditValue::Int(s.ces_low))
                .with("special_team", s.special_team.map(|t| t.to_string()))
                .with("questions", AuditValue::Int(s.questions.len() as i64))
        };
        tx.audit(
            now,
            m.actor,
            "survey_settings.update",
            "workspace",
            &m.workspace.to_string(),
            before.as_ref().map(snap).as_ref(),
            Some(&snap(&settings)),
        )
        .await?;
        self.commit(tx).await?;
        Ok(settings)
    }

    /// Surveys of the workspace, newest first.
    pub async fn list_surveys(
        &self,
        s: &Staff,
        f: &db::feedback::SurveyFilter,
        page: &db::Page,
    ) -> Result<Vec<Survey>> {
        crate::feedback::read_all(s)?;
        let mut c = self.db.read().await?;
        Ok(db::feedback::list_surveys(&mut c, s.workspace, f, page).await?)
    }

    /// On a solve, inside the solving transaction: schedules the survey batch and, for a
    /// complaint, the call-back task.
    pub(crate) async fn on_ticket_solved(
        &self,
        tx: &mut db::WriteTx,
        t: &Ticket,
        now: Timestamp,
    ) -> Result<()> {
        if is_task(t) || crate::crisis::is_internal(t) {
            return Ok(());
        }
        let ws = tx.workspace();
        let settings = db::feedback::survey_settings(tx, ws).await?.unwrap_or_default();
        if settings.enabled && !db::feedback::has_open_survey(tx, ws, t.id).await? {
            let send_at = now.plus_millis(settings.delay_minutes * 60_000);
            let expires_at = send_at.plus_millis(settings.expiry_hours * 3_600_000);
            let mut batch = None;
            for k in &settings.kinds {
                let id = self.ids.next(now, SurveyId::new);
                let b = *batch.get_or_insert(id);
                let s = Survey {
                    id,
                    workspace: ws,
                    batch: b,
                    ticket: Some(t.id),
                    customer: Some(t.customer),
                    conversation: Some(t.conversation),
                    kind: *k,
                    channel: t.channel.as_str().to_string(),
                    status: SurveyStatus::Scheduled,
                    score: None,
                    comment: None,
                    answers: Vec::new(),
                    questions: settings.questions.clone(),
                    team: t.team,
                    agent: t.assignee,
                    low_score: false,
                    followup_ticket: None,
                    created_at: now,
                    send_at,
                    sent_at: None,
                    reminded_at: None,
                    answered_at: None,
                    expires_at,
                };
                db::feedback::insert_survey(tx, &s).await?;
            }
            if let Some(b) = batch {
                let id = self.ids.next(now, JobId::new);
                tx.enqueue(id, &Job::SurveySend { survey: b }, send_at, now).await?;
            }
        }
        let complaint = t.tags.iter().any(|x| x == "complaint")
            || db::feedback::conversation_has_complaint(tx, ws, t.conversation).await?;
        if complaint {
            let task = Task {
                source: t,
                subject: format!(
                    "【回访】投诉工单 {} 已解决，请在 48 小时内回访 / Call-back: complaint {} solved, call the customer within 48 h",
                    t.number, t.number
                ),
                tag: "callback",
                team: t.team,
                assignee: t.assignee,
                due_at: now.plus_millis(CALLBACK_HOURS * 3_600_000),
                urgency: Urgency::Urgent,
            };
            self.open_task(tx, task, now).await?;
        }
        Ok(())
    }

    /// The public link of a batch, written into the ticket's conversation.
    async fn post_survey_link(
        &self,
        tx: &mut db::WriteTx,
        batch: &[Survey],
        t: &Ticket,
        reminder: bool,
        now: Timestamp,
    ) -> Result<()> {
        let lead = &batch[0];
        let token = self.ids.secret("sv_");
        db::feedback::set_link(tx, lead.workspace, lead.id, &hash_secret(&token), reminder).await?;
        let link = format!("{}/survey/{token}", self.settings.public_url);
        let asks_zh: Vec<&str> = batch.iter().map(|s| kind_label(s.kind).0).collect();
        let asks_en: Vec<&str> = batch.iter().map(|s| kind_label(s.kind).1).collect();
        let body = match (reminder, t.channel) {
            (false, domain::Channel::Sms) => format!(
                "您的工单 {} 已解决，请为服务评分：{link} / Rate our service: {link}",
                t.number
            ),
            (true, domain::Channel::Sms) => {
                format!("提醒：请为工单 {} 的服务评分：{link} / Reminder: {link}", t.number)
            }
            (false, _) => format!(
                "您的工单 {no} 已解决。请花一分钟评价本次服务（{zh}）：{link}\nYour ticket {no} is solved. Please rate our service ({en}): {link}",
                no = t.number,
                zh = asks_zh.join("、"),
                en = asks_en.join(", ")
            ),
            (true, _) => format!(
                "提醒：我们还没有收到您对工单 {no} 的评价：{link}\nReminder: we would value your rating of ticket {no}: {link}",
                no = t.number
            ),
        };
        self.system_message(tx, t, Visibility::Public, body, now).await?;
        Ok(())
    }

    async fn batch_of(&self, tx: &mut db::WriteTx, id: SurveyId) -> Result<Vec<Survey>> {
        let ws = tx.workspace();
        let Some(lead) = db::feedback::get_survey(tx, ws, id).await? else { return Ok(Vec::new()) };
        Ok(db::feedback::batch(tx, ws, lead.batch).await?)
    }

    async fn set_batch_status(
        &self,
        tx: &mut db::WriteTx,
        batch: &mut [Survey],
        status: SurveyStatus,
        now: Timestamp,
    ) -> Result<()> {
        for s in batch.iter_mut() {
            let before = survey_snapshot(s);
            s.status = status;
            match status {
                SurveyStatus::Sent => s.sent_at = Some(now),
                SurveyStatus::Reminded => s.reminded_at = Some(now),
                SurveyStatus::Answered => s.answered_at = Some(now),
                _ => {}
            }
            db::feedback::update_survey(tx, s).await?;
            tx.audit(
                now,
                Actor::System,
                &format!("survey.{}", status.as_str()),
                "survey",
                &s.id.to_string(),
                Some(&before),
                Some(&survey_snapshot(s)),
            )
            .await?;
        }
        Ok(())
    }

    pub(crate) async fn survey_send(
        &self,
        tx: &mut db::WriteTx,
        id: SurveyId,
        now: Timestamp,
    ) -> Result<()> {
        let ws = tx.workspace();
        let mut batch = self.batch_of(tx, id).await?;
        if batch.first().is_none_or(|s| s.status != SurveyStatus::Scheduled) {
            return Ok(());
        }
        let Some(t) = (match batch[0].ticket {
            Some(tid) => db::tickets::get(tx, ws, tid).await?,
            None => None,
        }) else {
            return Ok(());
        };
        self.post_survey_link(tx, &batch, &t, false, now).await?;
        self.set_batch_status(tx, &mut batch, SurveyStatus::Sent, now).await?;
        let settings = db::feedback::survey_settings(tx, ws).await?.unwrap_or_default();
        let remind_at = now.plus_millis(settings.reminder_hours * 3_600_000);
        let lead = &batch[0];
        let (job, at) = if remind_at < lead.expires_at {
            (Job::SurveyRemind { survey: lead.id }, remind_at)
        } else {
            (Job::SurveyExpire { survey: lead.id }, lead.expires_at)
        };
        let jid = self.ids.next(now, JobId::new);
        tx.enqueue(jid, &job, at, now).await?;
        Ok(())
    }

    pub(crate) async fn survey_remind(
        &self,
        tx: &mut db::WriteTx,
        id: SurveyId,
        now: Timestamp,
    ) -> Result<()> {
        let ws = tx.workspace();
        let mut batch = self.batch_of(tx, id).await?;
        if batch.first().is_none_or(|s| s.status != SurveyStatus::Sent) {
            return Ok(());
        }
        if let Some(tid) = batch[0].ticket
            && let Some(t) = db::tickets::get(tx, ws, tid).await?
        {
            self.post_survey_link(tx, &batch, &t, true, now).await?;
        }
        self.set_batch_status(tx, &mut batch, SurveyStatus::Reminded, now).await?;
        let jid = self.ids.next(now, JobId::new);
        let expires = batch[0].expires_at;
        tx.enqueue(jid, &Job::SurveyExpire { survey: batch[0].id }, expires, now).await?;
        Ok(())
    }

    /// Expires an unanswered batch and opens a follow-up task for the ticket's handlers.
    pub(crate) async fn survey_expire(
        &self,
        tx: &mut db::WriteTx,
        id: SurveyId,
        now: Timestamp,
    ) -> Result<()> {
        let ws = tx.workspace();
        let mut batch = self.batch_of(tx, id).await?;
        if batch.first().is_none_or(|s| !s.status.is_open()) {
            return Ok(());
        }
        let ticket = match batch[0].ticket {
            Some(tid) => db::tickets::get(tx, ws, tid).await?,
            None => None,
        };
        let mut followup = None;
        if let Some(t) = &ticket {
            let task = Task {
                source: t,
                subject: format!(
                    "【跟进】顾客未回复工单 {} 的满意度调查 / Follow-up: survey on {} unanswered",
                    t.number, t.number
                ),
                tag: "survey_followup",
                team: t.team,
                assignee: t.assignee,
                due_at: now.plus_millis(72 * 3_600_000),
                urgency: Urgency::Normal,
            };
            followup = Some(self.open_task(tx, task, now).await?.id);
        }
        for s in batch.iter_mut() {
            s.followup_ticket = followup;
        }
        self.set_batch_status(tx, &mut batch, SurveyStatus::Expired, now).await?;
        Ok(())
    }

    /// The survey behind a link, still answerable; 404 for an unknown link, 410 for a used
    /// or expired one.
    async fn live_batch(&self, c: &mut db::AnyConnection, token: &str) -> Result<Vec<Survey>> {
        let now = self.now();
        let lead = db::feedback::survey_by_token(c, &hash_secret(token.trim()))
            .await?
            .ok_or(Error::NotFound("survey"))?;
        match lead.status {
            SurveyStatus::Answered => {
                return Err(Error::Gone(
                    "this survey was already answered; each link can be used once. Thank you!"
                        .into(),
                ));
            }
            SurveyStatus::Expired => {
                return Err(Error::Gone("this survey link has expired".into()));
            }
            _ if now >= lead.expires_at => {
                return Err(Error::Gone("this survey link has expired".into()));
            }
            _ => {}
        }
        Ok(db::feedback::batch(c, lead.workspace, lead.batch).await?)
    }

    /// What a survey link shows (public).
    pub async fn public_survey(&self, token: &str) -> Result<SurveyForm> {
        let mut c = self.db.read().await?;
        let batch = self.live_batch(&mut c, token).await?;
        let lead = &batch[0];
        let ws = db::workspaces::by_id(&mut c, lead.workspace)
            .await?
            .ok_or(Error::NotFound("survey"))?;
        let number = match lead.ticket {
            Some(t) => {
                db::tickets::get(&mut c, lead.workspace, t).await?.map(|t| t.number.to_string())
            }
            None => None,
        };
        Ok(SurveyForm {
            workspace_name: ws.name,
            ticket_number: number,
            kinds: batch.iter().map(|s| s.kind).collect(),
            questions: lead.questions.clone(),
            expires_at: lead.expires_at,
        })
    }

    /// Answers a survey through its link (public). Every kind asked needs a score in its
    /// range; custom answers must name the batch's questions. A low score reopens the ticket
    /// and moves it to the special team.
    pub async fn answer_survey(&self, token: &str, a: SurveyAnswer) -> Result<Vec<Survey>> {
        use domain::ParseError as P;
        let ws = {
            let mut c = self.db.read().await?;
            self.live_batch(&mut c, token).await?[0].workspace
        };
        if a.comment.as_ref().is_some_and(|c| c.chars().count() > 2000) {
            return Err(P::new("comment", "at most 2000 characters").into());
        }
        let now = self.now();
        let mut tx = self.db.write(ws).await?;
        // Read again under the workspace lock: a second answer racing this one sees it.
        let mut batch = self.live_batch(&mut tx, token).await?;
        for s in &batch {
            let score =
                a.scores.iter().find(|(k, _)| *k == s.kind).map(|(_, v)| *v).ok_or_else(|| {
                    P::new("scores", format!("a score for {} is required", s.kind))
                })?;
            let (lo, hi) = s.kind.range();
            if !(lo..=hi).contains(&score) {
                return Err(P::new(
                    "scores",
                    format!("{} is scored {lo} to {hi}, not {score}", s.kind),
                )
                .into());
            }
        }
        if let Some((k, _)) = a.scores.iter().find(|(k, _)| !batch.iter().any(|s| s.kind == *k)) {
            return Err(P::new("scores", format!("this survey does not ask for {k}")).into());
        }
        let questions = batch[0].questions.clone();
        for (qid, v) in &a.answers {
            let q = questions
                .iter()
                .find(|q| q.id == *qid)
                .ok_or_else(|| P::new("answers", format!("no question {qid:?} in this survey")))?;
            let ok = match q.kind.as_str() {
                "choice" => q.options.contains(v),
                "scale" => v.parse::<i64>().is_ok_and(|n| (1..=5).contains(&n)),
                _ => v.chars().count() <= 2000,
            };
            if !ok {
                return Err(P::new(
                    "answers",
                    format!("question {qid:?}: {v:?} is not a valid answer"),
                )
                .into());
            }
        }
        let settings = db::feedback::survey_settings(&mut tx, ws).await?.unwrap_or_default();
        let mut low = false;
        for s in batch.iter_mut() {
            let score = a.scores.iter().find(|(k, _)| *k == s.kind).map(|(_, v)| *v);
            s.score = score;
            s.comment = a.comment.clone();
            s.answers = a.answers.clone();
            s.low_score = score.is_some_and(|v| settings.is_low(s.kind, v));
            low |= s.low_score;
        }
        let actor = batch[0].customer.map_or(Actor::System, Actor::Customer);
        for s in batch.iter_mut() {
            let before = survey_snapshot(s);
            s.status = SurveyStatus::Answered;
            s.answered_at = Some(now);
            db::feedback::update_survey(&mut tx, s).await?;
            tx.audit(
                now,
                actor,
                "survey.answered",
                "survey",
                &s.id.to_string(),
                Some(&before),
                Some(&survey_snapshot(s)),
            )
            .await?;
        }
        if low
            && let Some(tid) = batch[0].ticket
            && let Some(t) = db::tickets::get(&mut tx, ws, tid).await?
        {
            self.escalate_low_score(&mut tx, &t, &batch, &settings, now).await?;
        }
        self.commit(tx).await?;
        Ok(batch)
    }

    /// A low score: the ticket reopens (or, closed, gets a follow-up task), moves to the
    /// special team with raised urgency, and the handlers are told why.
    async fn escalate_low_score(
        &self,
        tx: &mut db::WriteTx,
        t: &Ticket,
        batch: &[Survey],
        settings: &SurveySettings,
        now: Timestamp,
    ) -> Result<()> {
        let scores: Vec<String> = batch
            .iter()
            .filter_map(|s| s.score.map(|v| format!("{} {v}", s.kind.as_str().to_uppercase())))
            .collect();
        let note = format!(
            "【低分预警】顾客评分 {s}，工单已重开并升级{team}。\n[Low score] The customer rated {s}; the ticket is reopened and escalated{team_en}.{comment}",
            s = scores.join(", "),
            team = if settings.special_team.is_some() { "至专项小组" } else { "" },
            team_en = if settings.special_team.is_some() { " to the special team" } else { "" },
            comment = batch[0].comment.as_ref().map(|c| format!("\n「{c}」")).unwrap_or_default(),
        );
        let target = if t.status == Status::Closed {
            let task = Task {
                source: t,
                subject: format!(
                    "【低分回访】工单 {} 评分过低 / Low score on {}",
                    t.number, t.number
                ),
                tag: "survey_followup",
                team: settings.special_team.or(t.team),
                assignee: if settings.special_team.is_some() { None } else { t.assignee },
                due_at: now.plus_millis(24 * 3_600_000),
                urgency: Urgency::Urgent,
            };
            self.open_task(tx, task, now).await?
        } else {
            let mut after = t.clone();
            if after.status == Status::Solved {
                transition(&mut after, Status::Reopen, now)?;
            }
            if let Some(team) = settings.special_team {
                after.team = Some(team);
                after.assignee = None;
            }
            if after.urgency == Urgency::Normal {
                after.urgency = Urgency::Urgent;
            }
            if !after.tags.iter().any(|x| x == "low_score") {
                after.tags.push("low_score".into());
            }
            after.updated_at = now;
            self.save_ticket_change(tx, Actor::System, t, &after, now).await?;
            after
        };
        self.system_message(tx, &target, Visibility::Internal, note.clone(), now).await?;
        self.notify_supervisors(tx, Some(&target), "survey.low_score", &note, now).await?;
        Ok(())
    }
}
