//! Compensation within authority (TK-7): a request of a type, an amount in fen and a written
//! basis; authority limits per level (agent, supervisor, cs_head) as workspace configuration;
//! the approval chain; the agent's written report, due within 48 hours of an immediate grant.
//!
//! A grant above the holder's authority cannot be made: the only way to the granted state is
//! [`Authority::grant`], which checks the amount against the holder's limit and returns a
//! [`Grant`] whose fields are private. Transitions ([`Compensation::request`],
//! [`Compensation::approve`]) go through it; [`Compensation::restore`] only rebuilds rows those
//! transitions wrote (the `db` crate's reader), and the table repeats the check as a
//! constraint (`amount <= granted_limit`).

use std::fmt;

use crate::{
    CompensationId, ParseError, Role, TicketId, Timestamp, UserId, WorkspaceId, named_enum,
};

named_enum! {
    /// What the customer receives.
    pub enum CompensationKind("type") {
        Voucher = "voucher",
        Refund = "refund",
        Credit = "credit",
        FreeShipping = "free_shipping",
    }
}

named_enum! {
    /// A step of the approval chain, lowest first. Admins manage the limits and hold no
    /// authority themselves: whoever sets the limits cannot also use them.
    pub enum Level("level") {
        Agent = "agent",
        Supervisor = "supervisor",
        CsHead = "cs_head",
    }
}

named_enum! {
    /// Which change a compensation event reports.
    pub enum CompensationChange("change") {
        Requested = "requested",
        Escalated = "escalated",
        Granted = "granted",
        Rejected = "rejected",
        ReportFiled = "report_filed",
        ReportOverdue = "report_overdue",
    }
}

impl CompensationKind {
    pub fn label_zh(self) -> &'static str {
        match self {
            CompensationKind::Voucher => "代金券",
            CompensationKind::Refund => "退款",
            CompensationKind::Credit => "账户余额",
            CompensationKind::FreeShipping => "免运费",
        }
    }
}

impl Level {
    /// The level a role acts at, if any.
    pub fn of(role: Role) -> Option<Level> {
        match role {
            Role::Agent => Some(Level::Agent),
            Role::Supervisor => Some(Level::Supervisor),
            Role::CsHead => Some(Level::CsHead),
            Role::Admin | Role::DeptMember | Role::Auditor => None,
        }
    }

    /// The level a request above this one's authority goes to.
    pub fn next(self) -> Option<Level> {
        match self {
            Level::Agent => Some(Level::Supervisor),
            Level::Supervisor => Some(Level::CsHead),
            Level::CsHead => None,
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Level::Agent => "一线客服",
            Level::Supervisor => "客服主管",
            Level::CsHead => "客服负责人",
        }
    }
}

/// An amount of money in fen (1 yuan = 100 fen), positive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Fen(i64);

/// One billion yuan: far above any compensation, well inside `i64`.
const MAX_FEN: i64 = 100_000_000_000;

impl Fen {
    pub fn new(fen: i64) -> Result<Fen, ParseError> {
        if fen <= 0 {
            return Err(ParseError::new(
                "amount_fen",
                "must be a positive number of fen (¥1 = 100)",
            ));
        }
        if fen > MAX_FEN {
            return Err(ParseError::new("amount_fen", "must be at most ¥1,000,000,000"));
        }
        Ok(Fen(fen))
    }
    pub const fn yuan(y: i64) -> Fen {
        Fen(y * 100)
    }
    pub fn get(self) -> i64 {
        self.0
    }
}

/// `¥2,000` or `¥1,234.50`.
impl fmt::Display for Fen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, c) = (self.0 / 100, self.0 % 100);
        let digits = y.to_string();
        let mut grouped = String::new();
        for (i, ch) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                grouped.push(',');
            }
            grouped.push(ch);
        }
        if c == 0 { write!(f, "¥{grouped}") } else { write!(f, "¥{grouped}.{c:02}") }
    }
}

/// The workspace's authority limits. `cs_head: None` means the head's authority is unlimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub agent: Fen,
    pub supervisor: Fen,
    pub cs_head: Option<Fen>,
    /// Hours an agent has to file the written report on an immediate grant.
    pub report_hours: i64,
}

impl Default for Limits {
    /// TK-7: agent ≤ ¥2,000 (report within 48 h), supervisor ≤ ¥5,000, above that the head.
    fn default() -> Limits {
        Limits {
            agent: Fen::yuan(2_000),
            supervisor: Fen::yuan(5_000),
            cs_head: None,
            report_hours: 48,
        }
    }
}

impl Limits {
    /// Checks that the levels rise and the report period is sensible.
    pub fn check(self) -> Result<Limits, ParseError> {
        if self.agent > self.supervisor {
            return Err(ParseError::new(
                "agent",
                "the agent limit must not exceed the supervisor's",
            ));
        }
        if self.cs_head.is_some_and(|h| self.supervisor > h) {
            return Err(ParseError::new(
                "cs_head",
                "the head's limit must not be below the supervisor's",
            ));
        }
        if !(1..=24 * 30).contains(&self.report_hours) {
            return Err(ParseError::new("report_hours", "must be between 1 and 720 hours"));
        }
        Ok(self)
    }

    /// The highest amount `level` may grant; `None` is unlimited.
    pub fn limit(&self, level: Level) -> Option<Fen> {
        match level {
            Level::Agent => Some(self.agent),
            Level::Supervisor => Some(self.supervisor),
            Level::CsHead => self.cs_head,
        }
    }
}

/// A person's authority to grant compensation: their level and its limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Authority {
    user: UserId,
    level: Level,
    limit: Option<Fen>,
}

impl Authority {
    /// The authority of `user` acting as `role`; roles outside the chain have none.
    pub fn of(user: UserId, role: Role, limits: &Limits) -> Result<Authority, CompensationError> {
        let level = Level::of(role).ok_or(CompensationError::NoAuthority { role })?;
        Ok(Authority { user, level, limit: limits.limit(level) })
    }
    pub fn user(&self) -> UserId {
        self.user
    }
    pub fn level(&self) -> Level {
        self.level
    }
    pub fn limit(&self) -> Option<Fen> {
        self.limit
    }
    pub fn covers(&self, amount: Fen) -> bool {
        self.limit.is_none_or(|l| amount <= l)
    }

    /// The one way to a grant: refused above the holder's limit.
    pub fn grant(&self, amount: Fen) -> Result<Grant, CompensationError> {
        if !self.covers(amount) {
            return Err(CompensationError::OverAuthority {
                level: self.level,
                limit: self.limit.unwrap_or(amount),
            });
        }
        Ok(Grant { by: self.user, level: self.level, limit: self.limit, amount })
    }
}

/// Proof that `amount` was granted within the authority of `by`. Made only by
/// [`Authority::grant`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grant {
    by: UserId,
    level: Level,
    limit: Option<Fen>,
    amount: Fen,
}

impl Grant {
    pub fn by(&self) -> UserId {
        self.by
    }
    pub fn level(&self) -> Level {
        self.level
    }
    /// The limit the grant was made under (`None`: unlimited).
    pub fn limit(&self) -> Option<Fen> {
        self.limit
    }
    pub fn amount(&self) -> Fen {
        self.amount
    }
}

/// Where a request stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// Waiting for someone at `level` (or above).
    Pending {
        level: Level,
    },
    Granted {
        grant: Grant,
        at: Timestamp,
    },
    Rejected {
        by: UserId,
        reason: String,
        at: Timestamp,
    },
}

impl State {
    pub fn name(&self) -> &'static str {
        match self {
            State::Pending { .. } => "pending",
            State::Granted { .. } => "granted",
            State::Rejected { .. } => "rejected",
        }
    }
}

/// The agent's written report on an immediate grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Report {
    NotRequired,
    Due { due_at: Timestamp },
    Overdue { due_at: Timestamp },
    Filed { due_at: Timestamp, text: String, at: Timestamp },
}

impl Report {
    pub fn name(&self) -> &'static str {
        match self {
            Report::NotRequired => "not_required",
            Report::Due { .. } => "due",
            Report::Overdue { .. } => "overdue",
            Report::Filed { .. } => "filed",
        }
    }
    pub fn due_at(&self) -> Option<Timestamp> {
        match self {
            Report::NotRequired => None,
            Report::Due { due_at } | Report::Overdue { due_at } | Report::Filed { due_at, .. } => {
                Some(*due_at)
            }
        }
    }
}

named_enum! {
    /// What an approver did at one step of the chain.
    pub enum StepAction("action") {
        Approved = "approved",
        Escalated = "escalated",
        Rejected = "rejected",
    }
}

/// One decision in the approval chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub by: UserId,
    pub level: Level,
    pub action: StepAction,
    pub note: Option<String>,
    pub at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compensation {
    pub id: CompensationId,
    pub workspace: WorkspaceId,
    pub ticket: TicketId,
    pub kind: CompensationKind,
    pub amount: Fen,
    pub basis: String,
    pub requested_by: UserId,
    pub requester_level: Level,
    pub steps: Vec<Step>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    state: State,
    report: Report,
}

/// Why a compensation action was refused: each an expected outcome the caller reports.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CompensationError {
    #[error("the {role} role holds no compensation authority")]
    NoAuthority { role: Role },
    #[error("{amount} is above the highest authority in this workspace ({limit}, cs_head)")]
    AboveHighestAuthority { amount: Fen, limit: Fen },
    #[error("the amount is above your authority ({limit} for {level})")]
    OverAuthority { level: Level, limit: Fen },
    #[error("you requested this compensation; someone else must decide it")]
    SelfApproval,
    #[error("this request waits for {pending} approval; your level is {yours}")]
    BelowPendingLevel { pending: Level, yours: Level },
    #[error("this compensation is {status}, not pending")]
    NotPending { status: &'static str },
    #[error("no written report is due for this compensation")]
    NoReportDue,
    #[error("only the agent who granted it files the report")]
    NotGrantor,
}

/// The written basis of a request, a rejection reason or a report: 1 to 2,000 characters.
pub fn parse_text(field: &'static str, s: &str) -> Result<String, ParseError> {
    let t = s.trim();
    if t.is_empty() {
        return Err(ParseError::new(field, "must not be empty: state it in writing"));
    }
    if t.chars().count() > 2000 {
        return Err(ParseError::new(field, "must be at most 2000 characters"));
    }
    if t.chars().any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t') {
        return Err(ParseError::new(field, "must not contain control characters"));
    }
    Ok(t.to_string())
}

/// What a request or an approval led to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Granted,
    /// Now waiting for this level.
    Escalated(Level),
}

/// The fields of a new request.
#[derive(Debug, Clone)]
pub struct NewCompensation {
    pub id: CompensationId,
    pub workspace: WorkspaceId,
    pub ticket: TicketId,
    pub kind: CompensationKind,
    pub amount: Fen,
    pub basis: String,
}

impl Compensation {
    /// A new request by `by`: granted at once within their authority (an agent's grant owes a
    /// written report within `limits.report_hours`), otherwise pending at the next level.
    /// Refused if nobody in the chain could grant it.
    pub fn request(
        n: NewCompensation,
        by: &Authority,
        limits: &Limits,
        now: Timestamp,
    ) -> Result<(Compensation, Outcome), CompensationError> {
        let basis = n.basis;
        if let Some(top) = limits.cs_head
            && n.amount > top
        {
            return Err(CompensationError::AboveHighestAuthority { amount: n.amount, limit: top });
        }
        let mut c = Compensation {
            id: n.id,
            workspace: n.workspace,
            ticket: n.ticket,
            kind: n.kind,
            amount: n.amount,
            basis,
            requested_by: by.user,
            requester_level: by.level,
            steps: Vec::new(),
            created_at: now,
            updated_at: now,
            state: State::Pending { level: by.level },
            report: Report::NotRequired,
        };
        match by.grant(n.amount) {
            Ok(g) => {
                c.apply_grant(g, limits, now);
                Ok((c, Outcome::Granted))
            }
            Err(_) => {
                let next = by.level.next().ok_or(CompensationError::AboveHighestAuthority {
                    amount: n.amount,
                    limit: by.limit.unwrap_or(n.amount),
                })?;
                c.state = State::Pending { level: next };
                Ok((c, Outcome::Escalated(next)))
            }
        }
    }

    fn apply_grant(&mut self, g: Grant, limits: &Limits, now: Timestamp) {
        if g.level == Level::Agent {
            self.report = Report::Due { due_at: now.plus_hours(limits.report_hours) };
        }
        self.state = State::Granted { grant: g, at: now };
        self.updated_at = now;
    }

    /// Checks that `who` may decide this request now.
    fn decider(&self, who: &Authority) -> Result<Level, CompensationError> {
        let State::Pending { level } = self.state else {
            return Err(CompensationError::NotPending { status: self.state.name() });
        };
        if who.user == self.requested_by {
            return Err(CompensationError::SelfApproval);
        }
        if who.level < level {
            return Err(CompensationError::BelowPendingLevel { pending: level, yours: who.level });
        }
        Ok(level)
    }

    /// Approves within the approver's authority; above it, passes the request up the chain.
    pub fn approve(
        &mut self,
        who: &Authority,
        note: Option<String>,
        limits: &Limits,
        now: Timestamp,
    ) -> Result<Outcome, CompensationError> {
        self.decider(who)?;
        let (action, outcome) = match who.grant(self.amount) {
            Ok(g) => {
                self.apply_grant(g, limits, now);
                (StepAction::Approved, Outcome::Granted)
            }
            Err(_) => {
                let next = who.level.next().ok_or(CompensationError::AboveHighestAuthority {
                    amount: self.amount,
                    limit: who.limit.unwrap_or(self.amount),
                })?;
                self.state = State::Pending { level: next };
                (StepAction::Escalated, Outcome::Escalated(next))
            }
        };
        self.steps.push(Step { by: who.user, level: who.level, action, note, at: now });
        self.updated_at = now;
        Ok(outcome)
    }

    pub fn reject(
        &mut self,
        who: &Authority,
        reason: String,
        now: Timestamp,
    ) -> Result<(), CompensationError> {
        self.decider(who)?;
        self.steps.push(Step {
            by: who.user,
            level: who.level,
            action: StepAction::Rejected,
            note: Some(reason.clone()),
            at: now,
        });
        self.state = State::Rejected { by: who.user, reason, at: now };
        self.updated_at = now;
        Ok(())
    }

    /// The granting agent files the written report (late is still accepted, and stays marked).
    pub fn file_report(
        &mut self,
        by: UserId,
        text: String,
        now: Timestamp,
    ) -> Result<(), CompensationError> {
        let due_at = match self.report {
            Report::Due { due_at } | Report::Overdue { due_at } => due_at,
            Report::NotRequired | Report::Filed { .. } => {
                return Err(CompensationError::NoReportDue);
            }
        };
        let grantor = match &self.state {
            State::Granted { grant, .. } => grant.by,
            _ => return Err(CompensationError::NoReportDue),
        };
        if grantor != by {
            return Err(CompensationError::NotGrantor);
        }
        self.report = Report::Filed { due_at, text, at: now };
        self.updated_at = now;
        Ok(())
    }

    /// The report timer fired: overdue if the report (due at `due_at`) is still missing.
    /// Returns whether anything changed; a stale timer changes nothing.
    pub fn report_timer(&mut self, due_at: Timestamp, now: Timestamp) -> bool {
        match self.report {
            Report::Due { due_at: d } if d == due_at && now >= d => {
                self.report = Report::Overdue { due_at: d };
                self.updated_at = now;
                true
            }
            _ => false,
        }
    }

    pub fn state(&self) -> &State {
        &self.state
    }
    pub fn report(&self) -> &Report {
        &self.report
    }
    pub fn pending_level(&self) -> Option<Level> {
        match self.state {
            State::Pending { level } => Some(level),
            _ => None,
        }
    }

    /// Rebuilds a stored request. Only for the storage reader: the rows it reads were written
    /// from values the transitions above produced (and the table checks the grant's limit).
    #[allow(clippy::too_many_arguments)] // The stored columns, one argument each.
    pub fn restore(
        id: CompensationId,
        workspace: WorkspaceId,
        ticket: TicketId,
        kind: CompensationKind,
        amount: Fen,
        basis: String,
        requested_by: UserId,
        requester_level: Level,
        steps: Vec<Step>,
        state: StoredState,
        report: Report,
        created_at: Timestamp,
        updated_at: Timestamp,
    ) -> Compensation {
        let state = match state {
            StoredState::Pending { level } => State::Pending { level },
            StoredState::Granted { by, level, limit, at } => {
                State::Granted { grant: Grant { by, level, limit, amount }, at }
            }
            StoredState::Rejected { by, reason, at } => State::Rejected { by, reason, at },
        };
        Compensation {
            id,
            workspace,
            ticket,
            kind,
            amount,
            basis,
            requested_by,
            requester_level,
            steps,
            created_at,
            updated_at,
            state,
            report,
        }
    }
}

/// A state as stored; see [`Compensation::restore`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoredState {
    Pending { level: Level },
    Granted { by: UserId, level: Level, limit: Option<Fen>, at: Timestamp },
    Rejected { by: UserId, reason: String, at: Timestamp },
}

#[cfg(test)]
mod tests;
