//! Tests for `routing`: skill matching, both strategies, presence and capacity, VIP and red
//! priority in the queue, overflow chains (including a cycle), the wait estimate, and odd inputs.

use domain::{Channel, ProblemCode, TeamId, Tier, Timestamp, UserId};

use super::*;

fn uid(n: u128) -> UserId {
    UserId::new(Timestamp::from_millis(1), n)
}
fn tid(n: u128) -> TeamId {
    TeamId::new(Timestamp::from_millis(1), n)
}
const T0: Timestamp = Timestamp::from_millis(1_000_000);

fn agent(n: u128, open_chats: u32) -> AgentState {
    AgentState {
        id: uid(n),
        presence: Presence::Online,
        skills: vec![],
        senior: false,
        capacity: Capacity { max_chats: 3, max_tickets: 10 },
        open_chats,
        open_tickets: 0,
        last_assigned_at: None,
    }
}

fn team(n: u128, skills: &[&str], members: &[u128]) -> TeamState {
    TeamState {
        id: tid(n),
        skills: skills.iter().map(|s| s.to_string()).collect(),
        members: members.iter().map(|&m| uid(m)).collect(),
        strategy: Strategy::LeastLoaded,
        overflow: None,
        avg_handle_ms: Some(600_000),
    }
}

fn chat(code: Option<&str>) -> Item {
    Item {
        key: "new".into(),
        kind: WorkKind::Chat,
        problem_code: code.map(|c| ProblemCode::parse(c).unwrap()),
        lang: Some("zh".into()),
        channel: Channel::WebChat,
        tier: Tier::Ordinary,
        red: false,
        waiting_since: T0,
        queued_in: None,
    }
}

fn go(teams: &[TeamState], agents: &[AgentState], item: &Item) -> Decision {
    route(Candidates { teams, agents, queues: &[] }, item, T0)
}

#[test]
fn best_skill_match_wins_and_exact_code_beats_category() {
    let teams = [
        team(1, &["SP"], &[1]),
        team(2, &["PQ"], &[2]),
        team(3, &["PQ-03"], &[3]),
        team(4, &[], &[4]),
    ];
    let agents = [agent(1, 0), agent(2, 0), agent(3, 0), agent(4, 0)];
    assert_eq!(
        go(&teams, &agents, &chat(Some("PQ-03"))),
        Decision::Assign { team: Some(tid(3)), agent: uid(3), via: Via::Skills }
    );
    assert_eq!(
        go(&teams, &agents, &chat(Some("PQ-07"))),
        Decision::Assign { team: Some(tid(2)), agent: uid(2), via: Via::Skills }
    );
    // No problem code: nobody's skills match, the generalist team takes it.
    assert_eq!(
        go(&teams, &agents, &chat(None)),
        Decision::Assign { team: Some(tid(4)), agent: uid(4), via: Via::Skills }
    );
    // Without a generalist and without a match there is nowhere to go.
    assert_eq!(go(&teams[..2], &agents, &chat(Some("TD-01"))), Decision::Unroutable);
    assert_eq!(go(&[], &agents, &chat(None)), Decision::Unroutable);
}

#[test]
fn vip_language_and_channel_add_up() {
    let teams = [team(1, &["PQ", "lang:en"], &[1]), team(2, &["PQ", "vip"], &[2])];
    let agents = [agent(1, 0), agent(2, 0)];
    let mut item = chat(Some("PQ"));
    item.lang = Some("EN".into());
    assert!(
        matches!(go(&teams, &agents, &item), Decision::Assign { agent, .. } if agent == uid(1))
    );
    item.tier = Tier::Vip;
    item.lang = Some("zh".into());
    assert!(
        matches!(go(&teams, &agents, &item), Decision::Assign { agent, .. } if agent == uid(2))
    );
    item.channel = Channel::Email;
    assert!(item.needs().contains(&("channel:email".to_string(), 1)));
}

#[test]
fn least_loaded_picks_the_lowest_share_of_capacity() {
    let teams = [team(1, &[], &[1, 2, 3])];
    let mut a = agent(1, 2);
    a.capacity.max_chats = 10; // 2/10
    let b = agent(2, 1); // 1/3
    let mut c = agent(3, 0);
    c.presence = Presence::Away; // away takes nothing
    assert!(
        matches!(go(&teams, &[a.clone(), b.clone(), c], &chat(None)), Decision::Assign { agent, .. } if agent == uid(1))
    );
    // Equal shares: fewer open items in total, then the longest idle, then the id.
    let mut a2 = agent(1, 1);
    let mut b2 = agent(2, 1);
    a2.last_assigned_at = Some(T0);
    b2.last_assigned_at = Some(T0.plus_secs(-60));
    assert!(
        matches!(go(&teams, &[a2, b2], &chat(None)), Decision::Assign { agent, .. } if agent == uid(2))
    );
}

#[test]
fn round_robin_takes_the_longest_since_last_assignment() {
    let mut t = team(1, &[], &[1, 2, 3]);
    t.strategy = Strategy::RoundRobin;
    let mut agents = [agent(1, 0), agent(2, 2), agent(3, 0)];
    agents[0].last_assigned_at = Some(T0.plus_secs(-10));
    agents[1].last_assigned_at = Some(T0.plus_secs(-30));
    agents[2].last_assigned_at = Some(T0.plus_secs(-20));
    let teams = [t];
    // Agent 2 is busier but waited longest: round robin ignores load.
    let mut order = vec![];
    for _ in 0..4 {
        let Decision::Assign { agent, .. } = go(&teams, &agents, &chat(None)) else {
            panic!("expected an assignment")
        };
        order.push(agent);
        let a = agents.iter_mut().find(|a| a.id == agent).unwrap();
        a.last_assigned_at = Some(T0.plus_secs(order.len() as i64));
    }
    assert_eq!(order, vec![uid(2), uid(3), uid(1), uid(2)]);
}

#[test]
fn capacity_and_presence_hold_work_back_per_kind() {
    let teams = [team(1, &[], &[1, 2])];
    let full = agent(1, 3); // 3/3 chats
    let mut offline = agent(2, 0);
    offline.presence = Presence::Offline;
    let d = go(&teams, &[full.clone(), offline], &chat(None));
    assert!(matches!(d, Decision::Queue { position: 1, .. }), "{d:?}");
    // Tickets have their own capacity.
    let mut ticket = chat(None);
    ticket.kind = WorkKind::Ticket;
    assert!(matches!(go(&teams, std::slice::from_ref(&full), &ticket), Decision::Assign { .. }));
    let mut none = full;
    none.capacity.max_tickets = 0;
    assert!(matches!(go(&teams, &[none], &ticket), Decision::Queue { .. }));
}

#[test]
fn agents_who_speak_the_language_come_first() {
    let teams = [team(1, &[], &[1, 2])];
    let a = agent(1, 0);
    let mut b = agent(2, 2);
    b.skills = vec!["lang:en".into()];
    let mut item = chat(None);
    item.lang = Some("en".into());
    assert!(
        matches!(go(&teams, &[a.clone(), b.clone()], &item), Decision::Assign { agent, .. } if agent == uid(2))
    );
    // Nobody free speaks it: anyone free will do.
    b.open_chats = 3;
    assert!(
        matches!(go(&teams, &[a, b], &item), Decision::Assign { agent, .. } if agent == uid(1))
    );
}

#[test]
fn red_channel_goes_to_a_senior_even_when_full() {
    let teams = [team(1, &["PQ"], &[1]), team(2, &[], &[2, 3])];
    let junior = agent(1, 0);
    let mut senior = agent(2, 3);
    senior.senior = true;
    let mut away_senior = agent(3, 0);
    away_senior.senior = true;
    away_senior.presence = Presence::Away;
    let mut item = chat(Some("PQ-03"));
    item.red = true;
    assert_eq!(
        go(&teams, &[junior.clone(), senior.clone(), away_senior.clone()], &item),
        Decision::Assign { team: Some(tid(2)), agent: uid(2), via: Via::RedChannel }
    );
    // Nobody senior online: the normal route, marked red, at the head of the queue.
    let d = go(&teams, &[junior.clone(), away_senior], &item);
    assert_eq!(d, Decision::Assign { team: Some(tid(1)), agent: uid(1), via: Via::RedChannel });
    let mut busy = junior;
    busy.open_chats = 3;
    let queues = [(tid(1), vec![waiting("vip", true, false, -500)])];
    let d = route(Candidates { teams: &teams, agents: &[busy], queues: &queues }, &item, T0);
    assert!(matches!(d, Decision::Queue { position: 1, via: Via::RedChannel, .. }), "{d:?}");
}

fn waiting(key: &str, vip: bool, red: bool, ago_s: i64) -> Waiting {
    Waiting { key: key.into(), vip, red, since: T0.plus_secs(ago_s) }
}

#[test]
fn queue_orders_red_then_vip_then_arrival_and_estimates_the_wait() {
    let t = team(1, &[], &[1, 2]);
    let mut a = agent(1, 3);
    a.capacity.max_chats = 3;
    let b = AgentState { presence: Presence::Away, ..agent(2, 0) };
    let queue = vec![
        waiting("ordinary-early", false, false, -300),
        waiting("vip-late", true, false, -10),
        waiting("ordinary-late", false, false, -5),
    ];
    let queues = [(t.id, queue)];
    let agents = [a, b];
    let c = Candidates { teams: std::slice::from_ref(&t), agents: &agents, queues: &queues };
    let mut item = chat(None);
    item.waiting_since = T0;
    // Behind all three; 3 online slots (the away agent's do not count): 2 rounds × 10 min.
    assert_eq!(
        queue_status(&t, c, &item),
        QueueStatus { position: 4, estimated_wait_ms: Some(1_200_000) }
    );
    item.tier = Tier::Vip;
    assert_eq!(queue_status(&t, c, &item).position, 2);
    // An item already in the queue is not counted ahead of itself.
    let me = Item { key: "ordinary-early".into(), waiting_since: T0.plus_secs(-300), ..chat(None) };
    assert_eq!(
        queue_status(&t, c, &me),
        QueueStatus { position: 2, estimated_wait_ms: Some(600_000) }
    );
    // Nobody online or no handling time: no estimate, but still a position.
    let no_avg = TeamState { avg_handle_ms: None, ..t.clone() };
    assert_eq!(queue_status(&no_avg, c, &item).estimated_wait_ms, None);
    let nobody = Candidates { teams: c.teams, agents: &[], queues: c.queues };
    assert_eq!(queue_status(&t, nobody, &item).estimated_wait_ms, None);
}

#[test]
fn overflow_after_the_wait_follows_the_chain_once_per_team() {
    let mut first = team(1, &["PQ"], &[1]);
    let mut second = team(2, &["SP"], &[2]);
    let mut third = team(3, &["TD"], &[3]);
    first.overflow = Some(Overflow { to: tid(2), after_ms: 60_000 });
    second.overflow = Some(Overflow { to: tid(3), after_ms: 60_000 });
    third.overflow = Some(Overflow { to: tid(1), after_ms: 60_000 }); // a cycle
    let teams = [first, second, third];
    let busy = |n| agent(n, 3);
    let mut item = chat(Some("PQ-01"));
    // Not waited long enough: queued at home.
    item.waiting_since = T0.plus_secs(-30);
    let d = go(&teams, &[busy(1), agent(2, 0)], &item);
    assert!(matches!(d, Decision::Queue { team, via: Via::Skills, .. } if team == tid(1)), "{d:?}");
    // Long enough: assigned in the overflow team.
    item.waiting_since = T0.plus_secs(-61);
    assert_eq!(
        go(&teams, &[busy(1), agent(2, 0)], &item),
        Decision::Assign { team: Some(tid(2)), agent: uid(2), via: Via::Overflow { from: tid(1) } }
    );
    // Everyone busy: the chain ends where it would revisit a team; queued in the last one.
    let d = go(&teams, &[busy(1), busy(2), busy(3)], &item);
    assert!(
        matches!(d, Decision::Queue { team, via: Via::Overflow { from }, .. } if team == tid(3) && from == tid(1)),
        "{d:?}"
    );
    // An item already queued stays in its team even if another matches better.
    item.queued_in = Some(tid(3));
    item.waiting_since = T0;
    assert!(
        matches!(go(&teams, &[busy(1), agent(3, 0)], &item), Decision::Assign { team: Some(t), .. } if t == tid(3))
    );
    // An overflow to a team that does not exist stops the chain.
    let lone =
        [TeamState { overflow: Some(Overflow { to: tid(9), after_ms: 0 }), ..team(1, &[], &[1]) }];
    assert!(matches!(go(&lone, &[busy(1)], &chat(None)), Decision::Queue { .. }));
}

#[test]
fn extreme_inputs_do_not_panic() {
    let t = TeamState { avg_handle_ms: Some(i64::MAX), ..team(1, &[], &[1]) };
    let mut a = agent(1, u32::MAX);
    a.capacity = Capacity { max_chats: u32::MAX, max_tickets: 0 };
    a.last_assigned_at = Some(Timestamp::from_millis(i64::MIN));
    let queue: Vec<Waiting> =
        (0..50).map(|i| waiting(&i.to_string(), i % 2 == 0, false, -i)).collect();
    let queues = [(tid(1), queue)];
    // Earliest of all, behind the 25 VIPs only.
    let item = Item { waiting_since: Timestamp::from_millis(i64::MIN), ..chat(None) };
    let d = route(
        Candidates { teams: std::slice::from_ref(&t), agents: &[a], queues: &queues },
        &item,
        Timestamp::from_millis(i64::MAX),
    );
    assert!(matches!(d, Decision::Queue { position: 26, estimated_wait_ms: Some(_), .. }), "{d:?}");
    assert!(Capacity::new(501, 1).is_err());
    assert_eq!(Capacity::new(0, 500), Ok(Capacity { max_chats: 0, max_tickets: 500 }));
    assert_eq!(Presence::parse(" away "), Ok(Presence::Away));
    assert!(Presence::parse("busy").is_err());
    assert_eq!(Strategy::parse("round_robin"), Ok(Strategy::RoundRobin));
    assert!(Strategy::parse("random").is_err());
}
