//! Every authority limit and approval-chain path of TK-7, with the report timer.

use super::*;

const T: Timestamp = Timestamp::from_millis(1_793_581_200_000);

fn user(n: u128) -> UserId {
    UserId::new(T, n)
}

fn auth(n: u128, role: Role) -> Authority {
    Authority::of(user(n), role, &Limits::default()).unwrap()
}

fn new(yuan: i64) -> NewCompensation {
    NewCompensation {
        id: CompensationId::new(T, 1),
        workspace: WorkspaceId::new(T, 2),
        ticket: TicketId::new(T, 3),
        kind: CompensationKind::Voucher,
        amount: Fen::yuan(yuan),
        basis: "屏幕坏点，按质保政策补偿".into(),
    }
}

fn request(yuan: i64, by: &Authority) -> (Compensation, Outcome) {
    Compensation::request(new(yuan), by, &Limits::default(), T).unwrap()
}

const AGENT: u128 = 10;
const AGENT2: u128 = 11;
const SUPER: u128 = 20;
const SUPER2: u128 = 21;
const HEAD: u128 = 30;

#[test]
fn agent_within_limit_grants_at_once_with_a_report_due_in_48_hours() {
    for yuan in [1, 500, 2_000] {
        let (c, o) = request(yuan, &auth(AGENT, Role::Agent));
        assert_eq!(o, Outcome::Granted);
        let State::Granted { grant, at } = c.state() else { panic!("{:?}", c.state()) };
        assert_eq!(
            (grant.by(), grant.level(), grant.amount(), *at),
            (user(AGENT), Level::Agent, Fen::yuan(yuan), T)
        );
        assert_eq!(grant.limit(), Some(Fen::yuan(2_000)));
        assert_eq!(c.report(), &Report::Due { due_at: T.plus_hours(48) });
    }
}

#[test]
fn agent_above_limit_goes_to_the_supervisor() {
    let (c, o) = request(2_001, &auth(AGENT, Role::Agent));
    assert_eq!(o, Outcome::Escalated(Level::Supervisor));
    assert_eq!(c.state(), &State::Pending { level: Level::Supervisor });
    assert_eq!(c.report(), &Report::NotRequired);
    // One fen above the limit is above it.
    let mut n = new(0);
    n.amount = Fen::new(200_001).unwrap();
    let (_, o) =
        Compensation::request(n, &auth(AGENT, Role::Agent), &Limits::default(), T).unwrap();
    assert_eq!(o, Outcome::Escalated(Level::Supervisor));
}

#[test]
fn supervisor_approves_within_own_limit_without_a_report() {
    let (mut c, _) = request(4_000, &auth(AGENT, Role::Agent));
    let o = c
        .approve(&auth(SUPER, Role::Supervisor), None, &Limits::default(), T.plus_secs(60))
        .unwrap();
    assert_eq!(o, Outcome::Granted);
    let State::Granted { grant, .. } = c.state() else { panic!() };
    assert_eq!((grant.by(), grant.level()), (user(SUPER), Level::Supervisor));
    assert_eq!(c.report(), &Report::NotRequired);
    assert_eq!(c.steps.len(), 1);
    assert_eq!(c.steps[0].action, StepAction::Approved);
}

#[test]
fn supervisor_above_own_limit_escalates_to_the_head_who_grants() {
    let (mut c, _) = request(8_000, &auth(AGENT, Role::Agent));
    let o = c
        .approve(
            &auth(SUPER, Role::Supervisor),
            Some("同意，报负责人".into()),
            &Limits::default(),
            T,
        )
        .unwrap();
    assert_eq!(o, Outcome::Escalated(Level::CsHead));
    assert_eq!(c.pending_level(), Some(Level::CsHead));
    // Another supervisor cannot act on it any more.
    assert_eq!(
        c.approve(&auth(SUPER2, Role::Supervisor), None, &Limits::default(), T),
        Err(CompensationError::BelowPendingLevel {
            pending: Level::CsHead,
            yours: Level::Supervisor
        })
    );
    let o = c.approve(&auth(HEAD, Role::CsHead), None, &Limits::default(), T).unwrap();
    assert_eq!(o, Outcome::Granted);
    let actions: Vec<_> = c.steps.iter().map(|s| (s.level, s.action)).collect();
    assert_eq!(
        actions,
        [(Level::Supervisor, StepAction::Escalated), (Level::CsHead, StepAction::Approved)]
    );
}

#[test]
fn a_supervisor_request_above_their_limit_goes_straight_to_the_head() {
    let (c, o) = request(5_001, &auth(SUPER, Role::Supervisor));
    assert_eq!(o, Outcome::Escalated(Level::CsHead));
    assert_eq!(c.pending_level(), Some(Level::CsHead));
    let (c, o) = request(5_000, &auth(SUPER, Role::Supervisor));
    assert_eq!(o, Outcome::Granted);
    assert_eq!(c.report(), &Report::NotRequired);
}

#[test]
fn the_head_may_act_at_a_lower_pending_level() {
    let (mut c, _) = request(3_000, &auth(AGENT, Role::Agent));
    assert_eq!(
        c.approve(&auth(HEAD, Role::CsHead), None, &Limits::default(), T),
        Ok(Outcome::Granted)
    );
}

#[test]
fn agents_cannot_approve() {
    let (mut c, _) = request(3_000, &auth(AGENT, Role::Agent));
    assert_eq!(
        c.approve(&auth(AGENT2, Role::Agent), None, &Limits::default(), T),
        Err(CompensationError::BelowPendingLevel {
            pending: Level::Supervisor,
            yours: Level::Agent
        })
    );
    assert_eq!(c.pending_level(), Some(Level::Supervisor));
}

#[test]
fn self_approval_is_forbidden() {
    let (mut c, _) = request(8_000, &auth(SUPER, Role::Supervisor));
    // The same person, even promoted to head meanwhile, cannot decide their own request.
    let me = Authority::of(user(SUPER), Role::CsHead, &Limits::default()).unwrap();
    assert_eq!(c.approve(&me, None, &Limits::default(), T), Err(CompensationError::SelfApproval));
    assert_eq!(c.reject(&me, "不批".into(), T), Err(CompensationError::SelfApproval));
}

#[test]
fn reject_records_the_reason_and_ends_the_chain() {
    let (mut c, _) = request(3_000, &auth(AGENT, Role::Agent));
    c.reject(&auth(SUPER, Role::Supervisor), "依据不足".into(), T).unwrap();
    assert!(matches!(c.state(), State::Rejected { reason, .. } if reason == "依据不足"));
    assert_eq!(
        c.approve(&auth(HEAD, Role::CsHead), None, &Limits::default(), T),
        Err(CompensationError::NotPending { status: "rejected" })
    );
    assert_eq!(c.steps.last().map(|s| s.action), Some(StepAction::Rejected));
}

#[test]
fn a_grant_above_authority_cannot_be_made() {
    for (role, yuan) in [(Role::Agent, 2_001), (Role::Supervisor, 5_001)] {
        let a = auth(SUPER, role);
        assert!(matches!(a.grant(Fen::yuan(yuan)), Err(CompensationError::OverAuthority { .. })));
    }
    assert!(auth(HEAD, Role::CsHead).grant(Fen::yuan(1_000_000)).is_ok());
    // With a capped head, nobody can grant above the cap, and such a request is refused.
    let capped = Limits { cs_head: Some(Fen::yuan(10_000)), ..Limits::default() };
    let head = Authority::of(user(HEAD), Role::CsHead, &capped).unwrap();
    assert!(head.grant(Fen::yuan(10_001)).is_err());
    let err =
        Compensation::request(new(10_001), &auth(AGENT, Role::Agent), &capped, T).unwrap_err();
    assert_eq!(
        err,
        CompensationError::AboveHighestAuthority {
            amount: Fen::yuan(10_001),
            limit: Fen::yuan(10_000)
        }
    );
}

#[test]
fn limits_lowered_after_a_request_make_the_head_the_last_stop() {
    let (mut c, _) = request(4_000, &auth(AGENT, Role::Agent));
    let capped = Limits {
        agent: Fen::yuan(100),
        supervisor: Fen::yuan(1_000),
        cs_head: Some(Fen::yuan(3_000)),
        report_hours: 48,
    };
    let sup = Authority::of(user(SUPER), Role::Supervisor, &capped).unwrap();
    assert_eq!(c.approve(&sup, None, &capped, T), Ok(Outcome::Escalated(Level::CsHead)));
    let head = Authority::of(user(HEAD), Role::CsHead, &capped).unwrap();
    assert!(matches!(
        c.approve(&head, None, &capped, T),
        Err(CompensationError::AboveHighestAuthority { .. })
    ));
    assert_eq!(c.pending_level(), Some(Level::CsHead));
}

#[test]
fn roles_outside_the_chain_hold_no_authority() {
    for role in [Role::Admin, Role::DeptMember, Role::Auditor] {
        assert_eq!(
            Authority::of(user(1), role, &Limits::default()),
            Err(CompensationError::NoAuthority { role })
        );
    }
}

#[test]
fn the_report_timer_marks_overdue_once_and_ignores_stale_timers() {
    let (mut c, _) = request(1_000, &auth(AGENT, Role::Agent));
    let due = T.plus_hours(48);
    assert!(!c.report_timer(T.plus_hours(1), due), "another due time is a stale timer");
    assert!(!c.report_timer(due, due.plus_millis(-1)), "not yet due");
    assert!(c.report_timer(due, due));
    assert_eq!(c.report(), &Report::Overdue { due_at: due });
    assert!(!c.report_timer(due, due.plus_secs(1)), "fires once");
    // A late report is accepted and keeps its due time.
    c.file_report(user(AGENT), "已发放代金券".into(), due.plus_hours(1)).unwrap();
    assert!(matches!(c.report(), Report::Filed { due_at, .. } if *due_at == due));
}

#[test]
fn a_filed_report_stops_the_timer_and_only_the_grantor_files() {
    let (mut c, _) = request(1_000, &auth(AGENT, Role::Agent));
    assert_eq!(c.file_report(user(AGENT2), "x".into(), T), Err(CompensationError::NotGrantor));
    c.file_report(user(AGENT), "客户已确认收到".into(), T.plus_hours(2)).unwrap();
    assert!(!c.report_timer(T.plus_hours(48), T.plus_hours(48)));
    assert_eq!(c.file_report(user(AGENT), "again".into(), T), Err(CompensationError::NoReportDue));
    let (mut s, _) = request(1_000, &auth(SUPER, Role::Supervisor));
    assert_eq!(s.file_report(user(SUPER), "x".into(), T), Err(CompensationError::NoReportDue));
}

#[test]
fn limits_must_rise_up_the_chain() {
    assert!(Limits::default().check().is_ok());
    let bad = Limits { agent: Fen::yuan(6_000), ..Limits::default() };
    assert_eq!(bad.check().unwrap_err().field, "agent");
    let bad = Limits { cs_head: Some(Fen::yuan(4_000)), ..Limits::default() };
    assert_eq!(bad.check().unwrap_err().field, "cs_head");
    let bad = Limits { report_hours: 0, ..Limits::default() };
    assert_eq!(bad.check().unwrap_err().field, "report_hours");
}

#[test]
fn amounts_and_texts() {
    assert_eq!(Fen::yuan(2_000).to_string(), "¥2,000");
    assert_eq!(Fen::new(123_456_750).unwrap().to_string(), "¥1,234,567.50");
    assert_eq!(Fen::new(5).unwrap().to_string(), "¥0.05");
    assert!(Fen::new(0).is_err() && Fen::new(-100).is_err());
    assert!(Fen::new(MAX_FEN + 1).is_err());
    assert!(parse_text("basis", "  ").is_err());
    assert_eq!(parse_text("basis", " 质保期内 ").unwrap(), "质保期内");
    assert!(parse_text("basis", &"长".repeat(2001)).is_err());
}
