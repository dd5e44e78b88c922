//! Skill-based routing (TK-5): which team and which agent take a new chat or ticket, or where it
//! waits and for how long.
//!
//! [`route`] is a pure function of the candidates' state ([`TeamState`], [`AgentState`]), the
//! team queues and the [`Item`] to place, at `now`. The order of decisions:
//! 1. **Red channel**: an item marked urgent goes straight to a senior agent who is online (the
//!    least loaded one; capacity does not hold a red item back), or, with nobody senior online,
//!    to the head of its team's queue.
//! 2. **Team**: the team whose skills best cover the item's requirements ([`Item::needs`]):
//!    an exact problem code outweighs its category, which outweighs the language, the channel and
//!    the VIP skill. A team whose skill list is empty is a generalist that scores zero but
//!    remains a candidate; a team with skills none of which match is not.
//! 3. **Agent**: among the team's members who are online, have room for this kind of work
//!    ([`Capacity`]) and speak the item's language when any of them does, by the team's
//!    [`Strategy`]: least loaded (open work over capacity) or round robin (the longest since
//!    their last assignment).
//! 4. **Overflow**: with nobody free, an item that has waited at least the team's overflow delay
//!    moves to the overflow team (following chains, each team once), assigned there if someone
//!    is free, queued there otherwise.
//! 5. **Queue**: otherwise the item waits; red first, then VIP, then by arrival. The customer
//!    sees the position and an estimate: position × average handling time ÷ the online slots.

use std::collections::BTreeSet;

use domain::{Channel, ProblemCode, TeamId, Tier, Timestamp, UserId};

/// Whether an agent takes new work now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Presence {
    Online,
    Away,
    Offline,
}

impl Presence {
    pub const ALL: [Presence; 3] = [Presence::Online, Presence::Away, Presence::Offline];

    pub fn as_str(self) -> &'static str {
        match self {
            Presence::Online => "online",
            Presence::Away => "away",
            Presence::Offline => "offline",
        }
    }

    pub fn parse(s: &str) -> Result<Presence, domain::ParseError> {
        let s = s.trim();
        Presence::ALL.into_iter().find(|p| p.as_str() == s).ok_or_else(|| {
            domain::ParseError::new(
                "presence",
                format!("unknown value {s:?}; expected one of: online, away, offline"),
            )
        })
    }
}

/// Chats are live conversations with a human; tickets are the longer cases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WorkKind {
    Chat,
    Ticket,
}

/// How much concurrent work an agent takes. Zero means "none of this kind".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capacity {
    pub max_chats: u32,
    pub max_tickets: u32,
}

impl Capacity {
    /// The defaults for a new agent: five chats, twenty tickets.
    pub const DEFAULT: Capacity = Capacity { max_chats: 5, max_tickets: 20 };
    /// Upper bound accepted by [`Capacity::new`].
    pub const MAX: u32 = 500;

    pub fn new(max_chats: u32, max_tickets: u32) -> Result<Capacity, domain::ParseError> {
        for (field, v) in [("max_chats", max_chats), ("max_tickets", max_tickets)] {
            if v > Capacity::MAX {
                return Err(domain::ParseError::new(
                    field,
                    format!("{v} is too many; at most {}", Capacity::MAX),
                ));
            }
        }
        Ok(Capacity { max_chats, max_tickets })
    }

    fn max(self, kind: WorkKind) -> u32 {
        match kind {
            WorkKind::Chat => self.max_chats,
            WorkKind::Ticket => self.max_tickets,
        }
    }
}

/// One agent as routing sees them.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentState {
    pub id: UserId,
    pub presence: Presence,
    /// Personal skills, same vocabulary as a team's (`lang:en`, `PQ`, `vip`, …).
    pub skills: Vec<String>,
    /// Senior staff take red-channel items.
    pub senior: bool,
    pub capacity: Capacity,
    pub open_chats: u32,
    pub open_tickets: u32,
    pub last_assigned_at: Option<Timestamp>,
}

impl AgentState {
    fn open(&self, kind: WorkKind) -> u32 {
        match kind {
            WorkKind::Chat => self.open_chats,
            WorkKind::Ticket => self.open_tickets,
        }
    }

    fn has_room(&self, kind: WorkKind) -> bool {
        self.open(kind) < self.capacity.max(kind)
    }

    /// Open work over capacity as a fraction `(open, max)`; a capacity of zero counts as full.
    fn load(&self, kind: WorkKind) -> (u64, u64) {
        let max = self.capacity.max(kind);
        if max == 0 { (1, 1) } else { (u64::from(self.open(kind)), u64::from(max)) }
    }
}

/// How a team picks among its free agents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    LeastLoaded,
    RoundRobin,
}

impl Strategy {
    pub fn as_str(self) -> &'static str {
        match self {
            Strategy::LeastLoaded => "least_loaded",
            Strategy::RoundRobin => "round_robin",
        }
    }

    pub fn parse(s: &str) -> Result<Strategy, domain::ParseError> {
        match s.trim() {
            "least_loaded" => Ok(Strategy::LeastLoaded),
            "round_robin" => Ok(Strategy::RoundRobin),
            other => Err(domain::ParseError::new(
                "strategy",
                format!("unknown value {other:?}; expected one of: least_loaded, round_robin"),
            )),
        }
    }
}

/// Where a team's waiting items go after a while.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overflow {
    pub to: TeamId,
    /// How long an item waits in this team's queue before it may move, in milliseconds.
    pub after_ms: i64,
}

/// One front-line team as routing sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct TeamState {
    pub id: TeamId,
    pub skills: Vec<String>,
    pub members: Vec<UserId>,
    pub strategy: Strategy,
    pub overflow: Option<Overflow>,
    /// Average handling time of one item, for the wait estimate; `None` if unknown.
    pub avg_handle_ms: Option<i64>,
}

/// An item already waiting in a team's queue.
#[derive(Debug, Clone, PartialEq)]
pub struct Waiting {
    /// Any stable key of the waiting item (a ticket or conversation id as text).
    pub key: String,
    pub vip: bool,
    pub red: bool,
    pub since: Timestamp,
}

/// What is to be placed.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub key: String,
    pub kind: WorkKind,
    pub problem_code: Option<ProblemCode>,
    /// ISO 639-1 language code such as `zh` or `en`.
    pub lang: Option<String>,
    pub channel: Channel,
    pub tier: Tier,
    /// The urgent "red channel" (TK-5): critical urgency or an L1 case.
    pub red: bool,
    /// When the item started waiting; equal to `now` for a new item.
    pub waiting_since: Timestamp,
    /// The team it is queued in already, if any: routing keeps it there unless it overflows.
    pub queued_in: Option<TeamId>,
}

impl Item {
    /// The skill tags this item asks for, each with its weight in team matching.
    pub fn needs(&self) -> Vec<(String, u32)> {
        let mut v = Vec::new();
        if let Some(code) = self.problem_code {
            if code.sub().is_some() {
                v.push((code.to_string(), 8));
            }
            v.push((code.category().as_str().to_string(), 4));
        }
        if let Some(lang) = &self.lang {
            v.push((format!("lang:{}", lang.trim().to_ascii_lowercase()), 2));
        }
        v.push((format!("channel:{}", self.channel.as_str()), 1));
        if self.tier == Tier::Vip {
            v.push(("vip".to_string(), 2));
        }
        v
    }

    fn lang_skill(&self) -> Option<String> {
        self.lang.as_ref().map(|l| format!("lang:{}", l.trim().to_ascii_lowercase()))
    }
}

/// Why an item went where it went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    Skills,
    RedChannel,
    Overflow { from: TeamId },
}

/// Routing's answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    Assign {
        team: Option<TeamId>,
        agent: UserId,
        via: Via,
    },
    Queue {
        team: TeamId,
        position: u32,
        estimated_wait_ms: Option<i64>,
        via: Via,
    },
    /// No front-line team at all (or none whose skills fit and no generalist).
    Unroutable,
}

/// Everything routing looks at.
#[derive(Debug, Clone, Copy)]
pub struct Candidates<'a> {
    pub teams: &'a [TeamState],
    pub agents: &'a [AgentState],
    /// Queues per team, in any order (routing sorts them).
    pub queues: &'a [(TeamId, Vec<Waiting>)],
}

/// Places `item` at `now`. See the module doc for the order of decisions.
pub fn route(c: Candidates<'_>, item: &Item, now: Timestamp) -> Decision {
    if item.red
        && let Some(agent) = pick_senior(c.agents, item)
    {
        let team = c.teams.iter().find(|t| t.members.contains(&agent)).map(|t| t.id);
        return Decision::Assign { team, agent, via: Via::RedChannel };
    }
    let home = match item.queued_in.and_then(|id| c.teams.iter().find(|t| t.id == id)) {
        Some(t) => t,
        None => match best_team(c.teams, item) {
            Some(t) => t,
            None => return Decision::Unroutable,
        },
    };
    let via = if item.red { Via::RedChannel } else { Via::Skills };
    if let Some(agent) = pick_agent(home, c.agents, item) {
        return Decision::Assign { team: Some(home.id), agent, via };
    }
    // Overflow: follow the chain while the item has waited long enough for each hop.
    let waited = now.millis().saturating_sub(item.waiting_since.millis());
    let mut seen = BTreeSet::from([home.id]);
    let mut at = home;
    while let Some(o) = at.overflow {
        if waited < o.after_ms || !seen.insert(o.to) {
            break;
        }
        let Some(next) = c.teams.iter().find(|t| t.id == o.to) else { break };
        if let Some(agent) = pick_agent(next, c.agents, item) {
            return Decision::Assign {
                team: Some(next.id),
                agent,
                via: Via::Overflow { from: home.id },
            };
        }
        at = next;
    }
    let via = if at.id == home.id { via } else { Via::Overflow { from: home.id } };
    let status = queue_status(at, c, item);
    Decision::Queue {
        team: at.id,
        position: status.position,
        estimated_wait_ms: status.estimated_wait_ms,
        via,
    }
}

/// Where a waiting customer stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueStatus {
    /// 1 is next.
    pub position: u32,
    pub estimated_wait_ms: Option<i64>,
}

/// The position `item` has (or would have) in `team`'s queue, and the estimated wait: one
/// average handling time per round of the team's online slots ahead of it. `None` when no one is
/// online or the handling time is unknown.
pub fn queue_status(team: &TeamState, c: Candidates<'_>, item: &Item) -> QueueStatus {
    let empty = Vec::new();
    let queue = c.queues.iter().find(|(id, _)| *id == team.id).map(|(_, q)| q).unwrap_or(&empty);
    let me = (rank(item.red, item.tier == Tier::Vip), item.waiting_since, item.key.as_str());
    let ahead = queue
        .iter()
        .filter(|w| w.key != item.key)
        .filter(|w| (rank(w.red, w.vip), w.since, w.key.as_str()) < me)
        .count();
    let position = u32::try_from(ahead).unwrap_or(u32::MAX - 1).saturating_add(1);
    let slots: u64 = members(team, c.agents)
        .filter(|a| a.presence == Presence::Online)
        .map(|a| u64::from(a.capacity.max(item.kind)))
        .sum();
    let estimated_wait_ms = match team.avg_handle_ms {
        Some(avg) if avg > 0 && slots > 0 => {
            // Rounds of service before this item's turn, rounded up.
            let rounds = u64::from(position).div_ceil(slots);
            Some(i64::try_from(rounds).unwrap_or(i64::MAX).saturating_mul(avg))
        }
        _ => None,
    };
    QueueStatus { position, estimated_wait_ms }
}

/// Lower sorts first: red, then VIP, then everyone else.
fn rank(red: bool, vip: bool) -> u8 {
    match (red, vip) {
        (true, _) => 0,
        (false, true) => 1,
        (false, false) => 2,
    }
}

fn members<'a>(
    team: &'a TeamState,
    agents: &'a [AgentState],
) -> impl Iterator<Item = &'a AgentState> {
    agents.iter().filter(|a| team.members.contains(&a.id))
}

/// The best-scoring team; ties go to the first in the given order. A team with skills that match
/// nothing is not a candidate; a team without skills is a generalist with score zero.
fn best_team<'a>(teams: &'a [TeamState], item: &Item) -> Option<&'a TeamState> {
    let needs = item.needs();
    let mut best: Option<(&TeamState, u32)> = None;
    for t in teams {
        let score: u32 = needs
            .iter()
            .filter(|(tag, _)| t.skills.iter().any(|s| s.eq_ignore_ascii_case(tag)))
            .map(|(_, w)| w)
            .sum();
        if score == 0 && !t.skills.is_empty() {
            continue;
        }
        if best.is_none_or(|(_, b)| score > b) {
            best = Some((t, score));
        }
    }
    best.map(|(t, _)| t)
}

/// The free agent the team's strategy picks. When some free member speaks the item's language,
/// only those are considered.
fn pick_agent(team: &TeamState, agents: &[AgentState], item: &Item) -> Option<UserId> {
    let free: Vec<&AgentState> = members(team, agents)
        .filter(|a| a.presence == Presence::Online && a.has_room(item.kind))
        .collect();
    let lang = item.lang_skill();
    let speaks = |a: &&AgentState| {
        lang.as_ref().is_some_and(|l| a.skills.iter().any(|s| s.eq_ignore_ascii_case(l)))
    };
    let pool: Vec<&AgentState> =
        if free.iter().any(speaks) { free.iter().copied().filter(speaks).collect() } else { free };
    match team.strategy {
        Strategy::LeastLoaded => least_loaded(&pool, item.kind),
        Strategy::RoundRobin => pool
            .iter()
            .min_by_key(|a| (a.last_assigned_at.map_or(i64::MIN, |t| t.millis()), a.id))
            .map(|a| a.id),
    }
}

fn least_loaded(pool: &[&AgentState], kind: WorkKind) -> Option<UserId> {
    pool.iter()
        .min_by(|a, b| {
            let ((an, ad), (bn, bd)) = (a.load(kind), b.load(kind));
            // Compare an/ad with bn/bd without floats; both denominators are at least 1.
            (an * bd)
                .cmp(&(bn * ad))
                .then((a.open_chats + a.open_tickets).cmp(&(b.open_chats + b.open_tickets)))
                .then(
                    a.last_assigned_at
                        .map_or(i64::MIN, |t| t.millis())
                        .cmp(&b.last_assigned_at.map_or(i64::MIN, |t| t.millis())),
                )
                .then(a.id.cmp(&b.id))
        })
        .map(|a| a.id)
}

/// The least loaded senior agent who is online, full or not.
fn pick_senior(agents: &[AgentState], item: &Item) -> Option<UserId> {
    let pool: Vec<&AgentState> =
        agents.iter().filter(|a| a.senior && a.presence == Presence::Online).collect();
    least_loaded(&pool, item.kind)
}

#[cfg(test)]
mod tests;
