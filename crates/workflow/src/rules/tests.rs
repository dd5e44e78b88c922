//! Tests for `rules`: parsing with paths in every error, condition semantics, the chain of
//! follow-on events, loop safety (self-triggering and mutually triggering rules, no-op rules,
//! time-driven rules that must not re-fire), and template rendering.

use expect_test::expect;

use super::*;

/// A tiny JSON-ish reader for tests: enough to write rules compactly.
fn t(src: &str) -> Tree {
    fn value(s: &mut &str) -> Tree {
        *s = s.trim_start();
        let c = s.chars().next().unwrap();
        match c {
            '{' => {
                *s = &s[1..];
                let mut m = Vec::new();
                loop {
                    *s = s.trim_start();
                    if s.starts_with('}') {
                        *s = &s[1..];
                        return Tree::Map(m);
                    }
                    if s.starts_with(',') {
                        *s = &s[1..];
                        continue;
                    }
                    let Tree::Str(k) = value(s) else { panic!("key") };
                    *s = s.trim_start().strip_prefix(':').unwrap();
                    m.push((k, value(s)));
                }
            }
            '[' => {
                *s = &s[1..];
                let mut l = Vec::new();
                loop {
                    *s = s.trim_start();
                    if s.starts_with(']') {
                        *s = &s[1..];
                        return Tree::List(l);
                    }
                    if s.starts_with(',') {
                        *s = &s[1..];
                        continue;
                    }
                    l.push(value(s));
                }
            }
            '"' => {
                let end = s[1..].find('"').unwrap() + 1;
                let out = s[1..end].to_string();
                *s = &s[end + 1..];
                Tree::Str(out)
            }
            _ => {
                let end = s.find(|c: char| ",]} ".contains(c)).unwrap_or(s.len());
                let tok = &s[..end];
                *s = &s[end..];
                match tok {
                    "true" => Tree::Bool(true),
                    "false" => Tree::Bool(false),
                    "null" => Tree::Null,
                    n => Tree::Num(n.parse().unwrap()),
                }
            }
        }
    }
    let mut s = src;
    value(&mut s)
}

fn rule(key: &str, when: &str, cond: &str, actions: &str) -> Rule {
    parse_rule(key, &t(when), &t(cond), &t(actions)).unwrap_or_else(|e| panic!("{e:?}"))
}

fn errors(when: &str, cond: &str, actions: &str) -> String {
    match parse_rule("r", &t(when), &t(cond), &t(actions)) {
        Ok(_) => "ok".into(),
        Err(ds) => ds.iter().map(|d| format!("{d}\n")).collect(),
    }
}

fn ticket() -> Facts {
    let mut f = Facts::new();
    f.text("ticket.status", "open")
        .text("ticket.severity", "L3")
        .text("ticket.urgency", "normal")
        .text("ticket.number", "HT-7")
        .text("ticket.problem_code", "PQ-03")
        .set("ticket.tags", Val::Tags(vec!["refund".into()]))
        .set("ticket.hours_in_status", Val::Num(50))
        .text("customer.tier", "vip")
        .text("customer.name", "张三");
    f
}

const ON_CREATE: &str = r#"{"events": ["ticket.created"]}"#;
const ALWAYS: &str = r#"{"all": []}"#;

#[test]
fn conditions_compare_fields() {
    let f = ticket();
    let holds = |c: &str| rule("r", ON_CREATE, c, r#"[{"type":"unassign"}]"#).cond.eval(&f);
    assert!(holds(r#"{"field":"ticket.status","op":"eq","value":"open"}"#));
    assert!(holds(r#"{"field":"customer.tier","op":"in","value":["vip"]}"#));
    assert!(holds(r#"{"field":"ticket.problem_code","op":"starts_with","value":"pq"}"#));
    assert!(holds(r#"{"field":"ticket.problem_code","op":"eq","value":"pq-03"}"#));
    assert!(holds(r#"{"field":"ticket.tags","op":"contains","value":"REFUND"}"#));
    assert!(holds(r#"{"field":"ticket.hours_in_status","op":"gt","value":48}"#));
    assert!(!holds(r#"{"field":"ticket.hours_in_status","op":"lte","value":48}"#));
    assert!(holds(r#"{"field":"ticket.assignee","op":"not_set"}"#));
    assert!(holds(r#"{"field":"ticket.repeat","op":"eq","value":false}"#));
    assert!(holds(
        r#"{"any":[{"field":"ticket.severity","op":"eq","value":"L1"},{"not":{"field":"ticket.urgency","op":"ne","value":"normal"}}]}"#
    ));
    assert!(!holds(r#"{"any":[]}"#));
    assert!(holds(ALWAYS));
}

#[test]
fn bad_rules_name_the_path_of_each_problem() {
    expect![[r#"
        when.events[0]: unknown event kind; expected one of: ticket.created, ticket.updated, ticket.status_changed, ticket.assigned, ticket.tags_changed, message.customer, message.agent
        if.all[0].field: unknown field "ticket.colour"
        if.all[1].any[0].value: unknown value "L9"; expected one of: L1, L2, L3, L4
        if.all[2].op: ticket.hours_in_status does not take this operator; use one of: eq, ne, gt, gte, lt, lte, is_set, not_set
        if.all[3].not.value: expected a whole number, found a string
        then[0].value: unknown value "done"; expected one of: new, open, pending, on_hold, solved, closed, reopen
        then[1].to: expected assignee, team, supervisors, cs_head or user:<id>
        then[1].text_en: a non-empty string is required
        then[2].type: unknown action "explode"; expected one of: set_status, set_severity, set_urgency, set_stage, assign_user, assign_team, unassign, add_tag, remove_tag, notify, reply, webhook, collaborate
        then[3].url: expected an http:// or https:// URL
        then[4].due_hours: a whole number of hours, 1 to 720
    "#]]
    .assert_eq(&errors(
        r#"{"events":["ticket.deleted"]}"#,
        r#"{"all":[
            {"field":"ticket.colour","op":"eq","value":"red"},
            {"any":[{"field":"ticket.severity","op":"eq","value":"L9"}]},
            {"field":"ticket.hours_in_status","op":"contains","value":"x"},
            {"not":{"field":"ticket.hours_in_status","op":"gt","value":"48"}}
        ]}"#,
        r#"[
            {"type":"set_status","value":"done"},
            {"type":"notify","to":"everyone","text_zh":"你好"},
            {"type":"explode"},
            {"type":"webhook","url":"ftp://x"},
            {"type":"collaborate","department":"tech","note":"看看","due_hours":0}
        ]"#,
    ));
    expect![[r#"
        when: expected "time" or {"events": [...]}
        if: expected an object, found a list
        then: a rule needs at least one action
    "#]]
    .assert_eq(&errors(r#""sometimes""#, "[]", "[]"));
    expect![[r#"
        then: a time-driven rule needs an action that changes the ticket (a field, a tag or the assignee), so it does not fire again on the next scan
    "#]]
    .assert_eq(&errors(
        r#""time""#,
        ALWAYS,
        r#"[{"type":"notify","to":"assignee","text_zh":"超时","text_en":"late"}]"#,
    ));
    expect![[r#"
        if: "all" must be the only key of its object
    "#]]
    .assert_eq(&errors(ON_CREATE, r#"{"all":[],"any":[]}"#, r#"[{"type":"unassign"}]"#));
}

#[test]
fn huge_trees_are_refused_not_walked() {
    let mut deep = String::from(r#"{"field":"ticket.status","op":"eq","value":"open"}"#);
    for _ in 0..300 {
        deep = format!(r#"{{"not":{deep}}}"#);
    }
    let e = errors(ON_CREATE, &deep, r#"[{"type":"unassign"}]"#);
    assert!(e.contains("too many conditions; at most 200"), "{e}");
}

#[test]
fn actions_become_commands_with_rendered_templates() {
    let rules = [rule(
        "vip",
        ON_CREATE,
        r#"{"field":"customer.tier","op":"eq","value":"vip"}"#,
        r#"[{"type":"set_urgency","value":"urgent"},{"type":"add_tag","value":"vip"},
            {"type":"reply","template_zh":"{{customer.name}}您好，工单 {{ticket.number}} 已受理","template_en":"Ticket {{ ticket.number }} received ({{ticket.tags}})"},
            {"type":"collaborate","department":"tech","note":"{{ticket.problem_code}} 诊断","due_hours":24}]"#,
    )];
    let r = run(&rules, &ticket(), "ticket.created");
    assert_eq!(r.fired, vec!["vip"]);
    let shown: Vec<String> = r.commands.iter().map(|c| format!("{:?}", c.action)).collect();
    expect![[r#"
        [
            "SetUrgency(Urgent)",
            "AddTag(\"vip\")",
            "Reply { template_zh: \"张三您好，工单 HT-7 已受理\", template_en: \"Ticket HT-7 received (refund,vip)\" }",
            "Collaborate { department: Tech, note: \"PQ-03 诊断\", due_hours: 24 }",
        ]
    "#]]
    .assert_debug_eq(&shown);
    // The same event on a non-VIP ticket fires nothing.
    let mut f = ticket();
    f.text("customer.tier", "ordinary");
    assert_eq!(run(&rules, &f, "ticket.created"), Run::default());
    // A rule is considered only for its event kinds.
    assert!(run(&rules, &ticket(), "ticket.updated").fired.is_empty());
}

#[test]
fn follow_on_events_chain_and_each_rule_fires_once() {
    let rules = [
        // Escalate L1 → tag; tagging → notify; status changes → set stage.
        rule(
            "escalate",
            ON_CREATE,
            r#"{"field":"ticket.problem_code","op":"starts_with","value":"PQ"}"#,
            r#"[{"type":"set_severity","value":"L2"},{"type":"set_status","value":"on_hold"}]"#,
        ),
        rule(
            "stage",
            r#"{"events":["ticket.status_changed"]}"#,
            r#"{"all":[{"field":"ticket.status","op":"eq","value":"on_hold"},{"field":"event.actor","op":"eq","value":"rule"}]}"#,
            r#"[{"type":"set_stage","value":"investigating"}]"#,
        ),
        rule(
            "notify-on-update",
            r#"{"events":["ticket.updated"]}"#,
            ALWAYS,
            r#"[{"type":"notify","to":"team","text_zh":"已更新","text_en":"updated"}]"#,
        ),
    ];
    let r = run(&rules, &ticket(), "ticket.created");
    // Follow-on events are processed in order: ticket.status_changed, then ticket.updated.
    assert_eq!(r.fired, vec!["escalate", "stage", "notify-on-update"]);
    assert_eq!(r.commands.len(), 4);
    assert!(!r.depth_limited);
}

#[test]
fn rules_that_undo_each_other_stop() {
    // A adds a tag when it is missing; B removes it when present: each fires once, then stop.
    let rules = [
        rule(
            "add",
            r#"{"events":["ticket.updated","ticket.tags_changed"]}"#,
            r#"{"field":"ticket.tags","op":"not_contains","value":"x"}"#,
            r#"[{"type":"add_tag","value":"x"}]"#,
        ),
        rule(
            "remove",
            r#"{"events":["ticket.tags_changed"]}"#,
            r#"{"field":"ticket.tags","op":"contains","value":"x"}"#,
            r#"[{"type":"remove_tag","value":"x"}]"#,
        ),
    ];
    let r = run(&rules, &ticket(), "ticket.updated");
    assert_eq!(r.fired, vec!["add", "remove"]);
    assert_eq!(r.commands.len(), 2);
    // Status ping-pong: open → pending → open, then both have fired and the chain ends.
    let on_status = r#"{"events":["ticket.status_changed"]}"#;
    let rules = [
        rule(
            "to-pending",
            on_status,
            r#"{"field":"ticket.status","op":"eq","value":"open"}"#,
            r#"[{"type":"set_status","value":"pending"}]"#,
        ),
        rule(
            "to-open",
            on_status,
            r#"{"field":"ticket.status","op":"eq","value":"pending"}"#,
            r#"[{"type":"set_status","value":"open"}]"#,
        ),
    ];
    let r = run(&rules, &ticket(), "ticket.status_changed");
    assert_eq!(r.fired, vec!["to-pending", "to-open"]);
    // A rule that sets a field and sets it back changes nothing and does not fire.
    let flip = [rule(
        "flip",
        on_status,
        ALWAYS,
        r#"[{"type":"set_status","value":"pending"},{"type":"set_status","value":"open"}]"#,
    )];
    assert_eq!(run(&flip, &ticket(), "ticket.status_changed"), Run::default());
}

#[test]
fn a_rule_that_changes_nothing_does_not_fire() {
    let rules = [rule(
        "noop",
        ON_CREATE,
        ALWAYS,
        r#"[{"type":"add_tag","value":"refund"},{"type":"set_status","value":"open"},{"type":"set_status","value":"closed"}]"#,
    )];
    // "refund" is already there, open → open is no change, open → closed is not allowed.
    assert_eq!(run(&rules, &ticket(), "ticket.created"), Run::default());
}

#[test]
fn time_rules_fire_once_then_their_own_change_stops_them() {
    let rules = [rule(
        "stale",
        r#""time""#,
        r#"{"all":[{"field":"ticket.status","op":"eq","value":"pending"},{"field":"ticket.hours_in_status","op":"gt","value":48}]}"#,
        r#"[{"type":"add_tag","value":"stale"},{"type":"notify","to":"assignee","text_zh":"{{ticket.number}} 已等待 {{ticket.hours_in_status}} 小时","text_en":"{{ticket.number}} waiting {{ticket.hours_in_status}} h"}]"#,
    )];
    let mut f = ticket();
    f.text("ticket.status", "pending");
    let r = run(&rules, &f, "time");
    assert_eq!(r.fired, vec!["stale"]);
    assert!(
        matches!(&r.commands[1].action, Action::Notify { text_zh, .. } if text_zh == "HT-7 已等待 50 小时")
    );
    // The next scan sees the tag and the notify alone does not make it fire again.
    f.set("ticket.tags", Val::Tags(vec!["refund".into(), "stale".into()]));
    assert_eq!(run(&rules, &f, "time"), Run::default());
    // Time rules are never considered for ordinary events, and event rules never on a scan.
    assert_eq!(run(&rules, &ticket(), "ticket.updated"), Run::default());
}

#[test]
fn depth_is_bounded_even_with_many_rules() {
    // Sixty rules, each adding its own tag on every tag change: each fires once; the chain ends.
    let rules: Vec<Rule> = (0..60)
        .map(|i| {
            rule(
                &format!("r{i}"),
                r#"{"events":["ticket.created","ticket.tags_changed"]}"#,
                ALWAYS,
                &format!(r#"[{{"type":"add_tag","value":"t{i}"}}]"#),
            )
        })
        .collect();
    let r = run(&rules, &ticket(), "ticket.created");
    assert_eq!(r.fired.len(), 60);
    assert_eq!(r.commands.len(), 60);
}

#[test]
fn render_leaves_unknown_and_broken_placeholders_alone() {
    let f = ticket();
    assert_eq!(render("{{nope}}|{{ticket.number}}|{{unclosed", &f), "|HT-7|{{unclosed");
    assert_eq!(render("", &f), "");
    assert_eq!(render("}}{{", &f), "}}{{");
}
