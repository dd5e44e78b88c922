//! The dialogue state machine, turn by turn.

use super::*;
use crate::config::{BotConfig, Flow, OnFailure, Slot, SlotKind, Text};

fn faq(id: &str, answer: &str) -> Candidate {
    Candidate {
        id: id.into(),
        question: format!("问题{id}"),
        answer: answer.into(),
        intent: Some(format!("intent.{id}")),
    }
}

fn msg(text: &str) -> Understanding {
    Understanding { lang: Some(Lang::Zh), ..Understanding::plain(text) }
}

fn answer_msg(text: &str, c: Candidate) -> Understanding {
    Understanding { matched: Match::Answer(c), ..msg(text) }
}

fn order_flow() -> Flow {
    Flow {
        name: "order_status".into(),
        intents: vec!["order.status".into()],
        slots: vec![Slot {
            name: "order_no".into(),
            kind: SlotKind::OrderNo,
            prompt: Text::new("请提供您的订单号。", "Your order number, please."),
            invalid: Text::new("订单号格式不对。", "That doesn't look like an order number. "),
            max_attempts: 2,
        }],
        connector: Some("orders".into()),
        answer: Text::new(
            "订单 {{order_no}} 当前状态：{{status}}。",
            "Order {{order_no}}: {{status}}.",
        ),
        on_failure: OnFailure::Apologise,
    }
}

fn orders_connector() -> crate::connector::ConnectorDef {
    crate::connector::ConnectorDef {
        name: "orders".into(),
        method: crate::connector::Method::Get,
        url: "https://oms.example.com/orders/{{order_no}}".into(),
        headers: vec![],
        body: None,
        secret: None,
        timeout_ms: 2000,
        fields: vec![],
        allow_hosts: vec![],
    }
}

fn config() -> BotConfig {
    BotConfig {
        flows: vec![order_flow()],
        connectors: vec![orders_connector()],
        ..BotConfig::default()
    }
}

fn open() -> Context {
    Context { business_open: true, ..Context::default() }
}

fn says(cmds: &[Command]) -> Vec<&str> {
    cmds.iter()
        .filter_map(|c| match c {
            Command::Say { text, .. } => Some(text.as_str()),
            _ => None,
        })
        .collect()
}

fn handoff(cmds: &[Command]) -> Option<HandoffReason> {
    cmds.iter().find_map(|c| match c {
        Command::Handoff { reason } => Some(*reason),
        _ => None,
    })
}

fn run(cfg: &BotConfig, ctx: &Context, state: State, input: Input<'_>) -> (State, Vec<Command>) {
    step(cfg, ctx, state, input)
}

#[test]
fn the_default_configuration_is_valid() {
    config().validate().unwrap();
}

#[test]
fn welcomes_once() {
    let cfg = config();
    let (s, out) = run(&cfg, &open(), State::new(&cfg), Input::Start);
    assert_eq!(says(&out), vec![cfg.texts.welcome.zh.as_str()]);
    let (_, out) = run(&cfg, &open(), s, Input::Start);
    assert!(out.is_empty());
}

#[test]
fn answers_then_asks_for_a_rating_and_a_good_rating_thanks() {
    let cfg = config();
    let (s, out) = run(
        &cfg,
        &open(),
        State::new(&cfg),
        Input::Message(&answer_msg("怎么开发票", faq("7", "在订单页申请电子发票。"))),
    );
    assert_eq!(says(&out)[0], "在订单页申请电子发票。");
    assert!(out.contains(&Command::Answered { id: "7".into(), intent: Some("intent.7".into()) }));
    assert!(
        matches!(&out[2], Command::Say { buttons, .. } if buttons.len() == 5 && buttons[0].payload == "rate:1")
    );
    assert_eq!(s.phase, Phase::Rating { id: "7".into(), intent: Some("intent.7".into()) });
    let (s, out) = run(&cfg, &open(), s, Input::Pick(Pick::Rating(5)));
    assert!(out.contains(&Command::Rated {
        id: "7".into(),
        intent: Some("intent.7".into()),
        score: 5
    }));
    assert_eq!(says(&out), vec![cfg.texts.rating_thanks.zh.as_str()]);
    assert_eq!(s.phase, Phase::Bot);
}

#[test]
fn a_rating_of_three_or_less_hands_off_and_typed_ratings_count() {
    let cfg = config();
    let (s, _) =
        run(&cfg, &open(), State::new(&cfg), Input::Message(&answer_msg("发票", faq("7", "答案"))));
    let (s, out) = run(&cfg, &open(), s, Input::Message(&msg("２分")));
    assert_eq!(handoff(&out), Some(HandoffReason::LowRating));
    assert_eq!(s.phase, Phase::Human { reason: HandoffReason::LowRating });
    // The bot stays quiet while a human has the conversation.
    let (_, out) = run(&cfg, &open(), s, Input::Message(&msg("在吗")));
    assert!(out.is_empty());
}

#[test]
fn the_rating_threshold_and_rule_are_configurable() {
    let mut cfg = config();
    cfg.handoff.rating_at_most = Some(1);
    let (s, _) =
        run(&cfg, &open(), State::new(&cfg), Input::Message(&answer_msg("发票", faq("7", "答案"))));
    let (_, out) = run(&cfg, &open(), s.clone(), Input::Pick(Pick::Rating(2)));
    assert_eq!(handoff(&out), None);
    cfg.handoff.rating_at_most = None;
    let (_, out) = run(&cfg, &open(), s, Input::Pick(Pick::Rating(1)));
    assert_eq!(handoff(&out), None);
}

#[test]
fn a_new_question_instead_of_a_rating_is_answered() {
    let cfg = config();
    let (s, _) = run(
        &cfg,
        &open(),
        State::new(&cfg),
        Input::Message(&answer_msg("发票", faq("7", "答案七"))),
    );
    let (s, out) =
        run(&cfg, &open(), s, Input::Message(&answer_msg("退货地址", faq("8", "答案八"))));
    assert_eq!(says(&out)[0], "答案八");
    assert!(!out.iter().any(|c| matches!(c, Command::Rated { .. })));
    assert!(matches!(s.phase, Phase::Rating { ref id, .. } if id == "8"));
}

#[test]
fn two_unmatched_messages_in_a_row_hand_off() {
    let cfg = config();
    let (s, out) = run(&cfg, &open(), State::new(&cfg), Input::Message(&msg("啊啊啊")));
    assert_eq!(says(&out), vec![cfg.texts.no_match.zh.as_str()]);
    assert!(out.contains(&Command::Unmatched { text: "啊啊啊".into() }));
    assert_eq!(s.unmatched, 1);
    let (s, out) = run(&cfg, &open(), s, Input::Message(&msg("嗯嗯")));
    assert_eq!(handoff(&out), Some(HandoffReason::Unmatched));
    assert_eq!(s.unmatched, 0);
}

#[test]
fn an_answer_resets_the_unmatched_count() {
    let mut cfg = config();
    cfg.ask_rating = false;
    let (s, _) = run(&cfg, &open(), State::new(&cfg), Input::Message(&msg("啊啊啊")));
    let (s, _) = run(&cfg, &open(), s, Input::Message(&answer_msg("发票", faq("7", "答案"))));
    assert_eq!(s.unmatched, 0);
    let (_, out) = run(&cfg, &open(), s, Input::Message(&msg("嗯嗯")));
    assert_eq!(handoff(&out), None);
}

#[test]
fn explicit_requests_and_strong_negative_emotion_hand_off_at_once() {
    let cfg = config();
    let (_, out) = run(&cfg, &open(), State::new(&cfg), Input::Message(&msg("转人工")));
    assert_eq!(handoff(&out), Some(HandoffReason::Requested));
    assert_eq!(says(&out), vec![cfg.texts.handoff.zh.as_str()]);
    let angry = Understanding {
        strong_negative: true,
        ..answer_msg("你们就是骗子，我要投诉到消协", faq("1", "x"))
    };
    let (_, out) = run(&cfg, &open(), State::new(&cfg), Input::Message(&angry));
    assert_eq!(handoff(&out), Some(HandoffReason::StrongNegative));
    let mut off = config();
    off.handoff.strong_negative = false;
    off.handoff.on_request = false;
    let (_, out) = run(&off, &open(), State::new(&off), Input::Message(&angry));
    assert_eq!(handoff(&out), None);
    let (_, out) = run(&off, &open(), State::new(&off), Input::Message(&msg("转人工")));
    assert_eq!(handoff(&out), None);
}

#[test]
fn vip_customers_go_straight_to_a_human_when_configured() {
    let mut cfg = config();
    let vip = Context { vip: true, ..open() };
    let (_, out) = run(&cfg, &vip, State::new(&cfg), Input::Start);
    assert_eq!(handoff(&out), None);
    cfg.handoff.vip_direct = true;
    let (s, out) = run(&cfg, &vip, State::new(&cfg), Input::Start);
    assert_eq!(handoff(&out), Some(HandoffReason::Vip));
    assert_eq!(s.phase, Phase::Human { reason: HandoffReason::Vip });
}

#[test]
fn after_hours_a_hand_off_becomes_a_left_message_and_a_ticket() {
    let cfg = config();
    let closed = Context::default();
    let (s, out) = run(&cfg, &closed, State::new(&cfg), Input::Message(&msg("人工")));
    assert_eq!(handoff(&out), None);
    assert_eq!(says(&out), vec![cfg.texts.after_hours.zh.as_str()]);
    let (s, out) =
        run(&cfg, &closed, s, Input::Message(&msg("冰箱不制冷，请尽快联系我 13800138000")));
    assert_eq!(
        out,
        vec![Command::TakeMessage {
            text: "冰箱不制冷，请尽快联系我 13800138000".into(),
            reason: HandoffReason::Requested
        }]
    );
    assert_eq!(s.phase, Phase::Bot);
    let (_, out) = run(&cfg, &closed, s, Input::MessageTaken { ticket: "HT-42".into() });
    assert_eq!(says(&out), vec!["已收到您的留言，工单号 HT-42，我们会尽快处理并回复您。"]);
}

#[test]
fn confirmation_offers_buttons_and_a_pick_answers() {
    let cfg = config();
    let u = Understanding {
        matched: Match::Confirm(vec![faq("1", "答一"), faq("2", "答二")]),
        ..msg("退")
    };
    let (s, out) = run(&cfg, &open(), State::new(&cfg), Input::Message(&u));
    let Command::Say { text, buttons } = &out[0] else { panic!("{out:?}") };
    assert_eq!(text, "您是想问以下哪个问题吗？");
    assert_eq!(
        buttons.iter().map(|b| b.payload.as_str()).collect::<Vec<_>>(),
        vec!["faq:1", "faq:2", "none"]
    );
    let (_, out) = run(&cfg, &open(), s.clone(), Input::Pick(Pick::Faq("2".into())));
    assert_eq!(says(&out)[0], "答二");
    let (_, out) = run(&cfg, &open(), s.clone(), Input::Message(&msg("第一个")));
    assert_eq!(says(&out)[0], "答一");
    // "None of these" counts as unmatched.
    let (s2, out) = run(&cfg, &open(), s, Input::Pick(Pick::NoneOfThese));
    assert_eq!(says(&out), vec![cfg.texts.no_match.zh.as_str()]);
    assert_eq!(s2.unmatched, 1);
}

#[test]
fn a_flow_asks_for_a_missing_slot_validates_it_and_calls_the_connector() {
    let cfg = config();
    let u = Understanding { intent: Some("order.status".into()), ..msg("我的订单到哪了") };
    let (s, out) = run(&cfg, &open(), State::new(&cfg), Input::Message(&u));
    assert_eq!(says(&out), vec!["请提供您的订单号。"]);
    let (s, out) = run(&cfg, &open(), s, Input::Message(&msg("不记得了")));
    assert_eq!(says(&out), vec!["订单号格式不对。请提供您的订单号。"]);
    let with_no = Understanding {
        values: vec![Value { kind: SlotKind::OrderNo, value: "DD20261102001".into() }],
        ..msg("DD20261102001")
    };
    let (s, out) = run(&cfg, &open(), s, Input::Message(&with_no));
    let Command::Call { connector, vars, .. } = &out[0] else { panic!("{out:?}") };
    assert_eq!(connector, "orders");
    assert_eq!(vars["order_no"], "DD20261102001");
    let fields = Vars::from([("status".to_owned(), "已发货".to_owned())]);
    let (s, out) = run(&cfg, &open(), s, Input::Connector(ConnectorOutcome::Ok(fields)));
    assert_eq!(says(&out)[0], "订单 DD20261102001 当前状态：已发货。");
    assert!(out.contains(&Command::Answered {
        id: "flow:order_status".into(),
        intent: Some("order.status".into())
    }));
    assert!(matches!(s.phase, Phase::Rating { .. }));
}

#[test]
fn a_slot_in_the_first_message_is_taken_and_too_many_bad_answers_hand_off() {
    let cfg = config();
    let u = Understanding {
        intent: Some("order.status".into()),
        values: vec![Value { kind: SlotKind::OrderNo, value: "DD1".into() }],
        ..msg("DD1 到哪了")
    };
    let (_, out) = run(&cfg, &open(), State::new(&cfg), Input::Message(&u));
    assert!(matches!(&out[0], Command::Call { .. }));
    let start = Understanding { intent: Some("order.status".into()), ..msg("查订单") };
    let (s, _) = run(&cfg, &open(), State::new(&cfg), Input::Message(&start));
    let (s, _) = run(&cfg, &open(), s, Input::Message(&msg("不知道")));
    let (_, out) = run(&cfg, &open(), s, Input::Message(&msg("还是不知道")));
    assert_eq!(handoff(&out), Some(HandoffReason::SlotFailed));
}

#[test]
fn a_knowledge_base_question_while_filling_leaves_the_flow() {
    let cfg = config();
    let start = Understanding { intent: Some("order.status".into()), ..msg("查订单") };
    let (s, _) = run(&cfg, &open(), State::new(&cfg), Input::Message(&start));
    let (s, out) =
        run(&cfg, &open(), s, Input::Message(&answer_msg("怎么开发票", faq("7", "发票答案"))));
    assert_eq!(says(&out)[0], "发票答案");
    assert!(matches!(s.phase, Phase::Rating { .. }));
}

#[test]
fn a_connector_failure_apologises_or_hands_off() {
    let mut cfg = config();
    let u = Understanding {
        intent: Some("order.status".into()),
        values: vec![Value { kind: SlotKind::OrderNo, value: "DD1".into() }],
        ..msg("DD1")
    };
    let (s, _) = run(&cfg, &open(), State::new(&cfg), Input::Message(&u));
    let (s2, out) =
        run(&cfg, &open(), s.clone(), Input::Connector(ConnectorOutcome::Failed("timeout".into())));
    assert_eq!(says(&out), vec![cfg.texts.connector_failed.zh.as_str()]);
    assert_eq!(s2.phase, Phase::Bot);
    // A response without the field the answer needs is a failure too.
    let (_, out) =
        run(&cfg, &open(), s.clone(), Input::Connector(ConnectorOutcome::Ok(Vars::new())));
    assert_eq!(says(&out), vec![cfg.texts.connector_failed.zh.as_str()]);
    cfg.flows[0].on_failure = OnFailure::Handoff;
    let (_, out) = run(&cfg, &open(), s, Input::Connector(ConnectorOutcome::Failed("500".into())));
    assert_eq!(handoff(&out), Some(HandoffReason::ConnectorFailed));
}

#[test]
fn a_late_connector_result_after_the_customer_moved_on_is_ignored() {
    let cfg = config();
    let (s, out) =
        run(&cfg, &open(), State::new(&cfg), Input::Connector(ConnectorOutcome::Ok(Vars::new())));
    assert!(out.is_empty());
    assert_eq!(s.phase, Phase::Bot);
}

#[test]
fn english_customers_get_english_texts() {
    let cfg = config();
    let u = Understanding { lang: Some(Lang::En), ..Understanding::plain("blah") };
    let (s, out) = run(&cfg, &open(), State::new(&cfg), Input::Message(&u));
    assert_eq!(says(&out), vec![cfg.texts.no_match.en.as_str()]);
    assert_eq!(s.lang, Lang::En);
    let (_, out) = run(
        &cfg,
        &open(),
        s,
        Input::Message(&Understanding {
            lang: Some(Lang::En),
            ..Understanding::plain("I want a human")
        }),
    );
    assert_eq!(handoff(&out), Some(HandoffReason::Requested));
    assert_eq!(says(&out), vec![cfg.texts.handoff.en.as_str()]);
}

#[test]
fn nobody_picking_up_offers_the_wait_and_a_message() {
    let cfg = config();
    let (s, _) = run(&cfg, &open(), State::new(&cfg), Input::Message(&msg("人工客服")));
    let (s, out) = run(&cfg, &open(), s, Input::NoPickup { position: 3, minutes: 6 });
    let Command::Say { text, buttons } = &out[0] else { panic!("{out:?}") };
    assert!(text.contains("还有 3 位") && text.contains("约 6 分钟"), "{text}");
    assert_eq!(buttons[0].payload, "leave_message");
    let (s, out) = run(&cfg, &open(), s, Input::Pick(Pick::LeaveMessage));
    assert_eq!(says(&out), vec![cfg.texts.leave_message_prompt.zh.as_str()]);
    let (_, out) = run(&cfg, &open(), s, Input::Message(&msg("请回电")));
    assert!(matches!(&out[0], Command::TakeMessage { reason: HandoffReason::Requested, .. }));
}

#[test]
fn one_of_slots_accept_an_option_or_its_number() {
    let mut cfg = config();
    cfg.flows.push(Flow {
        name: "return".into(),
        intents: vec!["return".into()],
        slots: vec![Slot {
            name: "reason".into(),
            kind: SlotKind::OneOf(vec!["质量问题".into(), "不想要了".into()]),
            prompt: Text::new("退货原因？1 质量问题 2 不想要了", "Why?"),
            invalid: Text::new("请选择。", "Pick one. "),
            max_attempts: 3,
        }],
        connector: None,
        answer: Text::new("已记录：{{reason}}，{{customer.name}}。", "Noted: {{reason}}."),
        on_failure: OnFailure::Apologise,
    });
    cfg.validate().unwrap();
    let ctx = Context {
        customer: Vars::from([("customer.name".to_owned(), "小王".to_owned())]),
        ..open()
    };
    let start = Understanding { intent: Some("return".into()), ..msg("我要退货") };
    let (s, _) = run(&cfg, &ctx, State::new(&cfg), Input::Message(&start));
    let (_, out) = run(&cfg, &ctx, s.clone(), Input::Message(&msg("2")));
    assert_eq!(says(&out)[0], "已记录：不想要了，小王。");
    let (_, out) = run(&cfg, &ctx, s, Input::Message(&msg("有质量问题")));
    assert_eq!(says(&out)[0], "已记录：质量问题，小王。");
}

#[test]
fn validation_names_the_field() {
    let mut cfg = config();
    cfg.flows[0].answer = Text::new("{{nope", "");
    assert_eq!(cfg.validate().unwrap_err().path, "flows[0].answer.zh");
    let mut cfg = config();
    cfg.flows.push(order_flow());
    assert_eq!(cfg.validate().unwrap_err().path, "flows[1].name");
    let mut cfg = config();
    cfg.flows[0].connector = None;
    let err = cfg.validate().unwrap_err();
    assert_eq!(err.path, "flows[0].answer.zh");
    assert!(err.message.contains("status"), "{err}");
    let mut cfg = config();
    cfg.handoff.rating_at_most = Some(9);
    assert_eq!(cfg.validate().unwrap_err().path, "handoff.rating_at_most");
    let mut cfg = config();
    cfg.texts.wait_long = Text::new("{{queue}}", "");
    assert_eq!(cfg.validate().unwrap_err().path, "texts.wait_long.zh");
}

#[test]
fn pick_payloads_round_trip() {
    for p in [Pick::Faq("abc".into()), Pick::NoneOfThese, Pick::Rating(4), Pick::LeaveMessage] {
        assert_eq!(Pick::parse(&p.payload()), Some(p));
    }
    for bad in ["", "faq:", "rate:0", "rate:6", "rate:x", "other"] {
        assert_eq!(Pick::parse(bad), None, "{bad}");
    }
}

/// Any input in any state gives an answer: a small exhaustive walk over phases × inputs.
#[test]
fn every_phase_accepts_every_input() {
    let cfg = config();
    let phases = vec![
        Phase::Bot,
        Phase::Confirming { choices: vec![faq("1", "a")] },
        Phase::Filling {
            flow: "order_status".into(),
            filled: Vars::new(),
            slot: "order_no".into(),
            attempts: 0,
        },
        Phase::Filling { flow: "gone".into(), filled: Vars::new(), slot: "x".into(), attempts: 9 },
        Phase::Calling { flow: "order_status".into(), filled: Vars::new() },
        Phase::Rating { id: "1".into(), intent: None },
        Phase::Human { reason: HandoffReason::Vip },
        Phase::LeavingMessage { reason: HandoffReason::Unmatched },
    ];
    let u = msg("");
    let inputs = [
        Input::Start,
        Input::Message(&u),
        Input::Pick(Pick::Rating(1)),
        Input::Pick(Pick::Faq("zz".into())),
        Input::Connector(ConnectorOutcome::Failed(String::new())),
        Input::NoPickup { position: 0, minutes: 0 },
        Input::MessageTaken { ticket: String::new() },
    ];
    for phase in &phases {
        for ctx in [open(), Context::default()] {
            for input in &inputs {
                let state = State { phase: phase.clone(), ..State::new(&cfg) };
                let _ = run(&cfg, &ctx, state, input.clone());
            }
        }
    }
}

#[test]
fn configuration_and_state_round_trip_through_json_and_partial_documents_get_defaults() {
    let cfg = config();
    let json = serde_json::to_string(&cfg).unwrap();
    assert_eq!(serde_json::from_str::<BotConfig>(&json).unwrap(), cfg);
    let partial: BotConfig =
        serde_json::from_str(r#"{"handoff": {"unmatched_in_a_row": 3}}"#).unwrap();
    assert_eq!(partial.handoff.unmatched_in_a_row, Some(3));
    assert_eq!(partial.handoff.rating_at_most, Some(3));
    assert_eq!(partial.texts, crate::Texts::default());
    let state = State {
        phase: Phase::Filling {
            flow: "order_status".into(),
            filled: Vars::new(),
            slot: "order_no".into(),
            attempts: 1,
        },
        ..State::default()
    };
    let json = serde_json::to_string(&state).unwrap();
    assert!(json.contains(r#""phase":"filling""#), "{json}");
    assert_eq!(serde_json::from_str::<State>(&json).unwrap(), state);
    let mut bad = config();
    bad.flows[0].connector = Some("crm".into());
    assert_eq!(bad.validate().unwrap_err().path, "flows[0].connector");
}

#[test]
fn a_confident_answer_of_another_intent_beats_the_flow_unless_a_slot_value_came_with_it() {
    let cfg = config();
    // The classifier leans to the flow's intent, but the FAQ answers with another entry.
    let u = Understanding {
        intent: Some("order.status".into()),
        ..answer_msg("包邮吗", faq("9", "全场包邮"))
    };
    let (s, out) = run(&cfg, &open(), State::new(&cfg), Input::Message(&u));
    assert_eq!(says(&out)[0], "全场包邮");
    assert!(matches!(s.phase, Phase::Rating { .. }));
    // An entry of the flow's own intent does not stop it.
    let own = Candidate { intent: Some("order.status".into()), ..faq("3", "查订单的方法") };
    let u = Understanding { intent: Some("order.status".into()), ..answer_msg("查订单", own) };
    let (s, _) = run(&cfg, &open(), State::new(&cfg), Input::Message(&u));
    assert!(matches!(s.phase, Phase::Filling { .. }), "{s:?}");
    // An order number in the message starts the flow whatever the FAQ says.
    let u = Understanding {
        intent: Some("order.status".into()),
        values: vec![Value { kind: SlotKind::OrderNo, value: "DD1".into() }],
        ..answer_msg("DD1 包邮吗", faq("9", "全场包邮"))
    };
    let (_, out) = run(&cfg, &open(), State::new(&cfg), Input::Message(&u));
    assert!(matches!(&out[0], Command::Call { .. }), "{out:?}");
}

#[test]
fn while_filling_a_guessed_intent_is_not_a_new_question() {
    let mut cfg = config();
    let mut other = order_flow();
    other.name = "returns".into();
    other.intents = vec!["return.apply".into()];
    cfg.flows.push(other);
    let start = Understanding { intent: Some("order.status".into()), ..msg("查订单") };
    let (s, _) = run(&cfg, &open(), State::new(&cfg), Input::Message(&start));
    // "I don't remember": the classifier's nearest intent, nothing the knowledge base knows.
    let guess = Understanding { intent: Some("complaint".into()), ..msg("我不记得了") };
    let (s, out) = run(&cfg, &open(), s, Input::Message(&guess));
    assert!(says(&out)[0].starts_with("订单号格式不对"), "{out:?}");
    assert!(matches!(&s.phase, Phase::Filling { flow, .. } if flow == "order_status"));
    // Another flow's intent without the knowledge base's support is also a guess…
    let weak = Understanding { intent: Some("return.apply".into()), ..msg("嗯") };
    let (_, out) = run(&cfg, &open(), s.clone(), Input::Message(&weak));
    assert_eq!(handoff(&out), Some(HandoffReason::SlotFailed));
    // …with it, the customer moved on to that flow.
    let moved = Understanding {
        intent: Some("return.apply".into()),
        matched: Match::Confirm(vec![faq("1", "退货")]),
        ..msg("我要退货")
    };
    let (s, _) = run(&cfg, &open(), s, Input::Message(&moved));
    assert!(matches!(&s.phase, Phase::Filling { flow, .. } if flow == "returns"), "{s:?}");
}

#[test]
fn after_the_no_pickup_offer_typing_the_label_leaves_a_message() {
    let cfg = config();
    let (s, _) = run(&cfg, &open(), State::new(&cfg), Input::Message(&msg("人工客服")));
    // Before any offer the bot stays quiet whatever the customer types.
    let (s, out) = run(&cfg, &open(), s, Input::Message(&msg("留言")));
    assert!(out.is_empty(), "{out:?}");
    let (s, _) = run(&cfg, &open(), s, Input::NoPickup { position: 1, minutes: 5 });
    assert!(s.offered_message);
    let (s, out) = run(&cfg, &open(), s, Input::Message(&msg(" 留言 ")));
    assert_eq!(says(&out), vec![cfg.texts.leave_message_prompt.zh.as_str()]);
    assert!(matches!(s.phase, Phase::LeavingMessage { reason: HandoffReason::Requested }));
    assert!(!s.offered_message);
    let mut bad = config();
    bad.handoff.no_pickup_minutes = Some(0);
    assert_eq!(bad.validate().unwrap_err().path, "handoff.no_pickup_minutes");
}
