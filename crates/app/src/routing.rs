//! Routing (TK-5) as a use case: agents set their presence, supervisors their capacity and
//! seniority, managers a team's strategy and overflow; a new ticket without an assignee is
//! placed by `workflow::routing::route` inside the creating transaction; a customer's tracking
//! link shows the queue position and estimated wait.

use domain::{Customer, TeamId, Ticket, Tier, Timestamp, Urgency, UserId, workspace::TeamKind};
use workflow::routing::{
    Candidates, Capacity, Decision, Item, Overflow, Presence, QueueStatus, Strategy, TeamState,
    Via, WorkKind, queue_status, route,
};

use crate::{
    App, Error, Result,
    auth::{Agent, Manager, Supervisor},
    error::OrNotFound,
};

/// An agent's routing settings as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AgentRouting {
    pub user: UserId,
    pub presence: Presence,
    pub capacity: Capacity,
    pub senior: bool,
}

/// Everything routing needs about the workspace to pick a team and an agent, read inside the
/// deciding transaction. A team's queue and handling time are read only for the team a ticket
/// queues in ([`App::queue_in`]): they set the position and the wait, nothing else, and their
/// cost grows with the queue and the team's history.
struct Board {
    teams: Vec<TeamState>,
    agents: Vec<workflow::routing::AgentState>,
}

impl Board {
    fn candidates<'a>(
        &'a self,
        queues: &'a [(TeamId, Vec<workflow::routing::Waiting>)],
    ) -> Candidates<'a> {
        Candidates { teams: &self.teams, agents: &self.agents, queues }
    }
}

impl App {
    async fn agent_routing(&self, tx: &mut db::WriteTx, user: UserId) -> Result<AgentRouting> {
        let ws = tx.workspace();
        let (presence, capacity, senior) = db::routing::agent_settings(tx, ws, user)
            .await?
            .unwrap_or((Presence::Offline, Capacity::DEFAULT, false));
        Ok(AgentRouting { user, presence, capacity, senior })
    }

    async fn save_agent_routing(
        &self,
        mut tx: db::WriteTx,
        actor: domain::Actor,
        before: AgentRouting,
        after: AgentRouting,
        now: Timestamp,
    ) -> Result<AgentRouting> {
        if before == after {
            return Ok(after);
        }
        let ws = tx.workspace();
        db::routing::put_agent(
            &mut tx,
            ws,
            after.user,
            after.presence,
            after.capacity,
            after.senior,
            now,
        )
        .await?;
        let snap = |a: &AgentRouting| {
            domain::Snapshot::default()
                .with("presence", Some(a.presence.as_str().to_string()))
                .with("max_chats", Some(a.capacity.max_chats.to_string()))
                .with("max_tickets", Some(a.capacity.max_tickets.to_string()))
                .with("senior", Some(a.senior.to_string()))
        };
        tx.audit(
            now,
            actor,
            "user.routing",
            "user",
            &after.user.to_string(),
            Some(&snap(&before)),
            Some(&snap(&after)),
        )
        .await?;
        tx.emit(
            now,
            actor,
            domain::Event::UserChanged { user: after.user },
            domain::Audience::staff_only(),
        )
        .await?;
        self.commit(tx).await?;
        Ok(after)
    }

    /// The caller's own routing settings.
    pub async fn my_presence(&self, a: &Agent) -> Result<AgentRouting> {
        let user = a.user.ok_or(Error::Forbidden("set presence without a user login"))?;
        let mut tx = self.db.write(a.workspace).await?;
        self.agent_routing(&mut tx, user).await
    }

    /// Sets the caller's presence: online agents take new work, away and offline ones do not.
    pub async fn set_my_presence(&self, a: &Agent, presence: Presence) -> Result<AgentRouting> {
        let user = a.user.ok_or(Error::Forbidden("set presence without a user login"))?;
        let now = self.now();
        let mut tx = self.db.write(a.workspace).await?;
        let before = self.agent_routing(&mut tx, user).await?;
        let after = AgentRouting { presence, ..before };
        self.save_agent_routing(tx, a.actor, before, after, now).await
    }

    /// Sets an agent's capacity and seniority (senior staff take red-channel items).
    pub async fn set_agent_capacity(
        &self,
        s: &Supervisor,
        user: UserId,
        capacity: Capacity,
        senior: bool,
    ) -> Result<AgentRouting> {
        let now = self.now();
        let mut tx = self.db.write(s.workspace).await?;
        self.check_assignee(&mut tx, s.workspace, user).await?;
        let before = self.agent_routing(&mut tx, user).await?;
        let after = AgentRouting { capacity, senior, ..before };
        self.save_agent_routing(tx, s.actor, before, after, now).await
    }

    /// Sets a front-line team's strategy and overflow.
    pub async fn set_team_routing(
        &self,
        m: &Manager,
        team: TeamId,
        strategy: Strategy,
        overflow: Option<Overflow>,
    ) -> Result<db::routing::TeamRouting> {
        let now = self.now();
        let ws = m.workspace;
        let mut tx = self.db.write(ws).await?;
        let t = db::users::get_team(&mut tx, ws, team).await?.or_not_found("team")?;
        if t.kind != TeamKind::Frontline {
            return Err(Error::Conflict("only front-line teams take routed work".into()));
        }
        if let Some(o) = overflow {
            if o.to == team {
                return Err(domain::ParseError::new(
                    "overflow_team_id",
                    "a team cannot overflow to itself",
                )
                .into());
            }
            if !(0..=7 * 86_400_000).contains(&o.after_ms) {
                return Err(domain::ParseError::new(
                    "overflow_after_seconds",
                    "between 0 and 7 days",
                )
                .into());
            }
            db::users::get_team(&mut tx, ws, o.to).await?.or_not_found("overflow team")?;
        }
        let before =
            db::routing::team_settings(&mut tx, ws).await?.into_iter().find(|r| r.team == team);
        let after = db::routing::TeamRouting { team, strategy, overflow };
        if before.as_ref() == Some(&after) {
            return Ok(after);
        }
        db::routing::put_team(&mut tx, ws, &after, now).await?;
        let snap = |r: &db::routing::TeamRouting| {
            domain::Snapshot::default()
                .with("strategy", Some(r.strategy.as_str().to_string()))
                .with("overflow_team", r.overflow.map(|o| o.to.to_string()))
                .with("overflow_after_ms", r.overflow.map(|o| o.after_ms.to_string()))
        };
        tx.audit(
            now,
            m.actor,
            "team.routing",
            "team",
            &team.to_string(),
            before.as_ref().map(snap).as_ref(),
            Some(&snap(&after)),
        )
        .await?;
        tx.emit(now, m.actor, domain::Event::TeamChanged { team }, domain::Audience::staff_only())
            .await?;
        self.commit(tx).await?;
        Ok(after)
    }

    /// Reads the routing board: front-line teams with their settings, agents with their load
    /// and skills.
    async fn board(&self, c: &mut db::AnyConnection, ws: domain::WorkspaceId) -> Result<Board> {
        let settings = db::routing::team_settings(c, ws).await?;
        let mut agents = db::routing::agents(c, ws).await?;
        let mut teams = Vec::new();
        for t in db::users::list_teams(c, ws).await? {
            if t.kind != TeamKind::Frontline {
                continue;
            }
            let s = settings.iter().find(|s| s.team == t.id);
            teams.push(TeamState {
                id: t.id,
                skills: t.skills.clone(),
                members: t.members.clone(),
                strategy: s.map_or(Strategy::LeastLoaded, |s| s.strategy),
                overflow: s.and_then(|s| s.overflow),
                avg_handle_ms: None,
            });
        }
        // An agent's personal skills are their teams' skills: what routing matches languages on.
        for a in &mut agents {
            a.skills = teams
                .iter()
                .filter(|t| t.members.contains(&a.id))
                .flat_map(|t| t.skills.iter().cloned())
                .collect();
        }
        Ok(Board { teams, agents })
    }

    /// Routes `item` on `board`; a queued item gets its position and wait from its team's queue
    /// and handling time, read now.
    async fn route_on(
        &self,
        c: &mut db::AnyConnection,
        ws: domain::WorkspaceId,
        board: &Board,
        item: &Item,
        now: Timestamp,
    ) -> Result<Decision> {
        let d = route(board.candidates(&[]), item, now);
        let Decision::Queue { team, via, .. } = d else { return Ok(d) };
        let Some(status) = self.queue_in(c, ws, board, team, item).await? else { return Ok(d) };
        Ok(Decision::Queue {
            team,
            position: status.position,
            estimated_wait_ms: status.estimated_wait_ms,
            via,
        })
    }

    /// Where `item` stands (or would stand) in `team`'s queue; `None` when `team` is not on the
    /// board.
    async fn queue_in(
        &self,
        c: &mut db::AnyConnection,
        ws: domain::WorkspaceId,
        board: &Board,
        team: TeamId,
        item: &Item,
    ) -> Result<Option<QueueStatus>> {
        let Some(ts) = board.teams.iter().find(|b| b.id == team) else { return Ok(None) };
        let ts = TeamState {
            avg_handle_ms: db::routing::avg_handle_ms(c, ws, team).await?,
            ..ts.clone()
        };
        let queue = db::routing::ticket_queue(c, ws, team).await?;
        let queues: [(TeamId, Vec<workflow::routing::Waiting>); 1] =
            [(team, queue.into_iter().map(|(_, w)| w).collect())];
        Ok(Some(queue_status(&ts, board.candidates(&queues), item)))
    }

    /// Places a new ticket that has no assignee: assigns it (and records the assignment for round
    /// robin) or leaves it queued in a team; `None` when nothing changed. Runs inside the
    /// creating transaction.
    pub(crate) async fn route_new_ticket(
        &self,
        tx: &mut db::WriteTx,
        t: &mut Ticket,
        customer: &Customer,
        now: Timestamp,
    ) -> Result<Option<Decision>> {
        if t.assignee.is_some() {
            return Ok(None);
        }
        let ws = tx.workspace();
        let board = self.board(tx, ws).await?;
        let item = ticket_item(
            t,
            customer.tier,
            t.team.filter(|team| board.teams.iter().any(|b| b.id == *team)),
        );
        let d = self.route_on(tx, ws, &board, &item, now).await?;
        match &d {
            Decision::Assign { team, agent, .. } => {
                t.assignee = Some(*agent);
                if team.is_some() {
                    t.team = *team;
                }
                t.status = domain::Status::Open;
                db::routing::touch_assigned(tx, ws, *agent, now).await?;
            }
            Decision::Queue { team, .. } => {
                t.team = Some(*team);
                self.schedule_overflow(tx, &board, t, *team, now).await?;
            }
            // Nothing changes: the ticket stays unassigned for a person to place.
            Decision::Unroutable => return Ok(None),
        }
        Ok(Some(d))
    }

    /// A ticket queued in `team`: if the team overflows, a job re-routes it once it has waited
    /// the team's delay (counted from its creation, as `route` counts it).
    async fn schedule_overflow(
        &self,
        tx: &mut db::WriteTx,
        board: &Board,
        t: &Ticket,
        team: TeamId,
        now: Timestamp,
    ) -> Result<()> {
        let Some(o) = board.teams.iter().find(|b| b.id == team).and_then(|b| b.overflow) else {
            return Ok(());
        };
        let due = Timestamp::from_millis(t.created_at.millis().saturating_add(o.after_ms));
        let job = domain::Job::RouteOverflow { ticket: t.id, team };
        tx.enqueue(self.ids.next(now, domain::JobId::new), &job, due.max(now), now).await?;
        Ok(())
    }

    /// The overflow job: a ticket still waiting unassigned in `team` is routed again; it is
    /// assigned to an agent now free, or moves to the overflow team (and waits for that team's
    /// delay in turn). Audited as `system`, with the ticket's usual events and SLA tracking.
    pub(crate) async fn route_overflow(
        &self,
        tx: &mut db::WriteTx,
        ticket: domain::TicketId,
        team: TeamId,
        now: Timestamp,
    ) -> Result<()> {
        let ws = tx.workspace();
        let Some(before) = db::tickets::get(tx, ws, ticket).await? else { return Ok(()) };
        if before.assignee.is_some() || !before.status.is_active() || before.team != Some(team) {
            return Ok(());
        }
        let Some(customer) = db::customers::get(tx, ws, before.customer).await? else {
            return Ok(());
        };
        let board = self.board(tx, ws).await?;
        let item = ticket_item(&before, customer.tier, Some(team));
        let d = self.route_on(tx, ws, &board, &item, now).await?;
        let mut after = before.clone();
        match &d {
            Decision::Assign { team: to, agent, .. } => {
                after.assignee = Some(*agent);
                if to.is_some() {
                    after.team = *to;
                }
                if after.status == domain::Status::New {
                    after.status = domain::Status::Open;
                }
                db::routing::touch_assigned(tx, ws, *agent, now).await?;
            }
            Decision::Queue { team: to, .. } if *to != team => {
                after.team = Some(*to);
                self.schedule_overflow(tx, &board, &after, *to, now).await?;
            }
            Decision::Queue { .. } | Decision::Unroutable => return Ok(()),
        }
        after.updated_at = now;
        let snap = domain::Snapshot::default().with("routing", describe(&d));
        tx.audit(
            now,
            domain::Actor::System,
            "ticket.route",
            "ticket",
            &ticket.to_string(),
            None,
            Some(&snap),
        )
        .await?;
        self.save_ticket_change(tx, domain::Actor::System, &before, &after, now).await
    }

    /// Where a ticket waits, for its tracking link: `None` once it is assigned, solved or not in
    /// a front-line team.
    pub async fn ticket_queue_status(&self, token: &str) -> Result<Option<QueueStatus>> {
        let tracked = self.track_ticket(token).await?;
        let t = tracked.ticket;
        let Some(team) = t.team else { return Ok(None) };
        if t.assignee.is_some() || !t.status.is_active() {
            return Ok(None);
        }
        let mut c = self.db.read().await?;
        let ws = t.workspace;
        let customer = db::customers::get(&mut c, ws, t.customer).await?.or_not_found("ticket")?;
        let board = self.board(&mut c, ws).await?;
        let item = ticket_item(&t, customer.tier, Some(team));
        self.queue_in(&mut c, ws, &board, team, &item).await
    }
}

/// A ticket as routing sees it: red for critical urgency or L1.
fn ticket_item(t: &Ticket, tier: Tier, queued_in: Option<TeamId>) -> Item {
    Item {
        key: t.id.to_string(),
        kind: WorkKind::Ticket,
        problem_code: t.problem_code,
        lang: None,
        channel: t.channel,
        tier,
        red: t.urgency == Urgency::Critical || t.severity == domain::Severity::L1,
        waiting_since: t.created_at,
        queued_in,
    }
}

/// How a routing decision is described in the audit log and logs.
pub(crate) fn describe(d: &Decision) -> String {
    let via = |v: &Via| match v {
        Via::Skills => "skills".to_string(),
        Via::RedChannel => "red_channel".to_string(),
        Via::Overflow { from } => format!("overflow from {from}"),
    };
    match d {
        Decision::Assign { agent, via: v, .. } => format!("assigned to {agent} by {}", via(v)),
        Decision::Queue { team, position, .. } => format!("queued in {team} at {position}"),
        Decision::Unroutable => "no team fits".to_string(),
    }
}
