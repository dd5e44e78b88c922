//! Triggers and automations: rules as data, evaluated by a pure function into commands.
//!
//! A [`Rule`] says *when* it is considered ([`When`]: on some event kinds, or on the periodic
//! time scan), *if* a [`Cond`] tree over [`Facts`] holds (all / any / not over field
//! comparisons on the ticket, its conversation, its customer and the event), and *then* a list
//! of [`Action`]s. Rules arrive as a generic [`Tree`] (the `http` crate converts JSON into it)
//! and [`parse_rule`] checks them on save, naming the path of every bad node
//! (`if.all[1].op: …`).
//!
//! [`run`] evaluates one event chain: the rules for the starting event, then, for every field a
//! firing rule changed, the follow-on event (`ticket.status_changed`, …) against the updated
//! facts, and so on. It returns the [`Command`]s for the caller to apply in its transaction.
//! Loop safety, by construction:
//! - a rule fires at most once per chain;
//! - a rule fires only if one of its actions changes something (setting a field to its current
//!   value, adding a tag already there and assigning the current assignee are no-ops); a
//!   time-driven rule needs a changing field action, so the next scan does not fire it again;
//! - follow-on events stop at depth [`MAX_DEPTH`].
//!
//! Template replies and notifications are rendered here: `{{ticket.number}}` and every other
//! fact name is replaced by its value.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use domain::{
    Channel, ConversationStatus, Department, Handler, ProblemCode, Severity, Status, TeamId, Tier,
    Urgency, UserId,
};

/// How many follow-on events deep a chain goes before it stops.
pub const MAX_DEPTH: u32 = 5;
/// Limits on rule size, so evaluation stays cheap for any stored rule.
pub const MAX_NODES: usize = 200;
pub const MAX_ACTIONS: usize = 20;
const MAX_TEXT: usize = 2000;

/// A generic tree, the shape rules arrive in (JSON without its serialiser).
#[derive(Debug, Clone, PartialEq)]
pub enum Tree {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    List(Vec<Tree>),
    Map(Vec<(String, Tree)>),
}

impl Tree {
    fn get(&self, key: &str) -> Option<&Tree> {
        match self {
            Tree::Map(m) => m.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
    fn kind(&self) -> &'static str {
        match self {
            Tree::Null => "null",
            Tree::Bool(_) => "a boolean",
            Tree::Num(_) => "a number",
            Tree::Str(_) => "a string",
            Tree::List(_) => "a list",
            Tree::Map(_) => "an object",
        }
    }
}

/// One problem in a rule, at a path such as `if.all[1].value`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub path: String,
    pub message: String,
}

impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// The kinds of event a rule can react to. `time` is the periodic automation scan.
pub const EVENT_KINDS: &[&str] = &[
    "ticket.created",
    "ticket.updated",
    "ticket.status_changed",
    "ticket.assigned",
    "ticket.tags_changed",
    "message.customer",
    "message.agent",
    "time",
];

/// The type of a field, which decides the operators and values it accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ty {
    Text,
    /// A closed set of names.
    Named(&'static [&'static str]),
    Code,
    Number,
    Bool,
    Tags,
}

fn names<T: Copy>(all: &[T], f: fn(T) -> &'static str) -> Vec<&'static str> {
    all.iter().map(|&v| f(v)).collect()
}

/// Every field a condition may name, with its type.
fn field_type(name: &str) -> Option<Ty> {
    use std::sync::OnceLock;
    static TABLE: OnceLock<BTreeMap<&'static str, Ty>> = OnceLock::new();
    let t = TABLE.get_or_init(|| {
        let leak = |v: Vec<&'static str>| -> &'static [&'static str] { Vec::leak(v) };
        let status = leak(names(Status::ALL, Status::as_str));
        let channel = leak(names(Channel::ALL, Channel::as_str));
        BTreeMap::from([
            ("ticket.status", Ty::Named(status)),
            ("ticket.previous_status", Ty::Named(status)),
            ("ticket.severity", Ty::Named(leak(names(Severity::ALL, Severity::as_str)))),
            ("ticket.urgency", Ty::Named(leak(names(Urgency::ALL, Urgency::as_str)))),
            ("ticket.channel", Ty::Named(channel)),
            ("ticket.problem_code", Ty::Code),
            ("ticket.stage", Ty::Text),
            ("ticket.subject", Ty::Text),
            ("ticket.number", Ty::Text),
            ("ticket.tags", Ty::Tags),
            ("ticket.assignee", Ty::Text),
            ("ticket.team", Ty::Text),
            ("ticket.repeat", Ty::Bool),
            ("ticket.hours_since_created", Ty::Number),
            ("ticket.hours_since_updated", Ty::Number),
            ("ticket.hours_in_status", Ty::Number),
            ("customer.tier", Ty::Named(leak(names(Tier::ALL, Tier::as_str)))),
            ("customer.name", Ty::Text),
            ("customer.open_tickets", Ty::Number),
            ("conversation.channel", Ty::Named(channel)),
            (
                "conversation.status",
                Ty::Named(leak(names(ConversationStatus::ALL, ConversationStatus::as_str))),
            ),
            ("conversation.handler", Ty::Named(leak(names(Handler::ALL, Handler::as_str)))),
            ("event.kind", Ty::Named(EVENT_KINDS)),
            ("event.actor", Ty::Named(&["customer", "agent", "system", "rule"])),
            ("event.text", Ty::Text),
        ])
    });
    t.get(name).copied()
}

/// A fact's value.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Null,
    Text(String),
    Num(i64),
    Bool(bool),
    Tags(Vec<String>),
}

/// What a rule sees: named values (`ticket.status`, `customer.tier`, `event.kind`, …).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Facts(BTreeMap<String, Val>);

impl Facts {
    pub fn new() -> Facts {
        Facts::default()
    }
    pub fn set(&mut self, name: &str, v: Val) -> &mut Facts {
        self.0.insert(name.to_string(), v);
        self
    }
    pub fn text(&mut self, name: &str, v: impl Into<String>) -> &mut Facts {
        self.set(name, Val::Text(v.into()))
    }
    pub fn get(&self, name: &str) -> &Val {
        self.0.get(name).unwrap_or(&Val::Null)
    }
    fn tags(&self) -> Vec<String> {
        match self.get("ticket.tags") {
            Val::Tags(t) => t.clone(),
            _ => Vec::new(),
        }
    }
    /// The facts of a ticket at `now`; `status_since` is when it entered its status.
    pub fn of_ticket(
        t: &domain::Ticket,
        status_since: domain::Timestamp,
        now: domain::Timestamp,
    ) -> Facts {
        let hours = |since: domain::Timestamp| {
            Val::Num(now.millis().saturating_sub(since.millis()).max(0) / 3_600_000)
        };
        let mut f = Facts::new();
        f.text("ticket.status", t.status.as_str())
            .text("ticket.severity", t.severity.as_str())
            .text("ticket.urgency", t.urgency.as_str())
            .text("ticket.channel", t.channel.as_str())
            .text("ticket.stage", t.stage_key())
            .text("ticket.subject", t.subject.clone())
            .text("ticket.number", t.number.to_string())
            .set("ticket.tags", Val::Tags(t.tags.clone()))
            .set("ticket.hours_since_created", hours(t.created_at))
            .set("ticket.hours_since_updated", hours(t.updated_at))
            .set("ticket.hours_in_status", hours(status_since));
        if let Some(c) = t.problem_code {
            f.text("ticket.problem_code", c.to_string());
        }
        if let Some(a) = t.assignee {
            f.text("ticket.assignee", a.to_string());
        }
        if let Some(team) = t.team {
            f.text("ticket.team", team.to_string());
        }
        f
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    In,
    NotIn,
    Contains,
    NotContains,
    StartsWith,
    Gt,
    Gte,
    Lt,
    Lte,
    IsSet,
    NotSet,
}

const OPS: &[(&str, Op)] = &[
    ("eq", Op::Eq),
    ("ne", Op::Ne),
    ("in", Op::In),
    ("not_in", Op::NotIn),
    ("contains", Op::Contains),
    ("not_contains", Op::NotContains),
    ("starts_with", Op::StartsWith),
    ("gt", Op::Gt),
    ("gte", Op::Gte),
    ("lt", Op::Lt),
    ("lte", Op::Lte),
    ("is_set", Op::IsSet),
    ("not_set", Op::NotSet),
];

/// The operand of a comparison, already checked against the field's type.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    None,
    Text(String),
    List(Vec<String>),
    Num(i64),
    Bool(bool),
}

/// A condition tree.
#[derive(Debug, Clone, PartialEq)]
pub enum Cond {
    All(Vec<Cond>),
    Any(Vec<Cond>),
    Not(Box<Cond>),
    Field { field: String, op: Op, value: Operand },
}

impl Cond {
    /// Whether the condition holds. `All([])` is true, `Any([])` false.
    pub fn eval(&self, f: &Facts) -> bool {
        match self {
            Cond::All(cs) => cs.iter().all(|c| c.eval(f)),
            Cond::Any(cs) => cs.iter().any(|c| c.eval(f)),
            Cond::Not(c) => !c.eval(f),
            Cond::Field { field, op, value } => compare(f.get(field), *op, value),
        }
    }
}

fn compare(v: &Val, op: Op, x: &Operand) -> bool {
    let fold = |s: &str| s.trim().to_lowercase();
    match (op, v, x) {
        (Op::IsSet, v, _) => !matches!(v, Val::Null) && *v != Val::Text(String::new()),
        (Op::NotSet, v, _) => !compare(v, Op::IsSet, x),
        (Op::Ne, v, x) => !compare(v, Op::Eq, x),
        (Op::NotIn, v, x) => !compare(v, Op::In, x),
        (Op::NotContains, v, x) => !compare(v, Op::Contains, x),
        (Op::Eq, Val::Text(a), Operand::Text(b)) => fold(a) == fold(b),
        (Op::Eq, Val::Num(a), Operand::Num(b)) => a == b,
        (Op::Eq, Val::Bool(a), Operand::Bool(b)) => a == b,
        (Op::Eq, Val::Null, Operand::Bool(false)) => true,
        (Op::In, Val::Text(a), Operand::List(bs)) => bs.iter().any(|b| fold(a) == fold(b)),
        (Op::Contains, Val::Tags(ts), Operand::Text(b)) => ts.iter().any(|t| fold(t) == fold(b)),
        (Op::Contains, Val::Text(a), Operand::Text(b)) => fold(a).contains(&fold(b)),
        (Op::StartsWith, Val::Text(a), Operand::Text(b)) => fold(a).starts_with(&fold(b)),
        (Op::Gt, Val::Num(a), Operand::Num(b)) => a > b,
        (Op::Gte, Val::Num(a), Operand::Num(b)) => a >= b,
        (Op::Lt, Val::Num(a), Operand::Num(b)) => a < b,
        (Op::Lte, Val::Num(a), Operand::Num(b)) => a <= b,
        _ => false,
    }
}

/// When a rule is considered.
#[derive(Debug, Clone, PartialEq)]
pub enum When {
    /// On these event kinds (never `time`).
    Events(BTreeSet<String>),
    /// On the periodic scan of active tickets.
    Time,
}

/// Who a notification goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recipient {
    Assignee,
    Team,
    Supervisors,
    CsHead,
    User(UserId),
}

/// What a rule does.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    SetStatus(Status),
    SetSeverity(Severity),
    SetUrgency(Urgency),
    SetStage(String),
    AssignUser(UserId),
    AssignTeam(TeamId),
    Unassign,
    AddTag(String),
    RemoveTag(String),
    Notify { to: Recipient, text_zh: String, text_en: String },
    Reply { template_zh: String, template_en: String },
    Webhook { url: String },
    Collaborate { department: Department, note: String, due_hours: i64 },
}

/// A checked rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// The caller's key for the rule (its id as text).
    pub key: String,
    pub when: When,
    pub cond: Cond,
    pub actions: Vec<Action>,
}

/// A command for the caller to apply, with the rule that produced it. Texts are rendered.
#[derive(Debug, Clone, PartialEq)]
pub struct Command {
    pub rule: String,
    pub action: Action,
}

/// The result of one chain.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Run {
    pub commands: Vec<Command>,
    /// The rules that fired, in order.
    pub fired: Vec<String>,
    /// Whether follow-on events were dropped at [`MAX_DEPTH`].
    pub depth_limited: bool,
}

/// Evaluates the chain started by `event` (an [`EVENT_KINDS`] name) on `facts`. `rules` are
/// considered in the given order.
pub fn run(rules: &[Rule], facts: &Facts, event: &str) -> Run {
    let mut out = Run::default();
    let mut facts = facts.clone();
    let mut fired: BTreeSet<&str> = BTreeSet::new();
    let mut queue: VecDeque<(String, u32)> = VecDeque::from([(event.to_string(), 0)]);
    while let Some((kind, depth)) = queue.pop_front() {
        if depth > MAX_DEPTH {
            out.depth_limited = true;
            continue;
        }
        facts.text("event.kind", kind.clone());
        if depth > 0 {
            facts.text("event.actor", "rule");
        }
        for rule in rules {
            let considered = match &rule.when {
                When::Time => kind == "time",
                When::Events(kinds) => kinds.contains(&kind),
            };
            if !considered || fired.contains(rule.key.as_str()) || !rule.cond.eval(&facts) {
                continue;
            }
            let mut next = facts.clone();
            let mut touched = BTreeSet::new();
            let mut effective = Vec::new();
            for a in &rule.actions {
                match apply(&mut next, a) {
                    Effect::Field(name) => {
                        touched.insert(name);
                        effective.push(a);
                    }
                    Effect::Side => effective.push(a),
                    Effect::None => {}
                }
            }
            // A field set and set back within one rule is no change.
            let changed: BTreeSet<&str> =
                touched.into_iter().filter(|f| next.get(f) != facts.get(f)).collect();
            let side = effective.iter().any(|a| is_side(a));
            let fires = match rule.when {
                When::Time => !changed.is_empty(),
                When::Events(_) => !changed.is_empty() || side,
            };
            if !fires {
                continue;
            }
            fired.insert(&rule.key);
            out.fired.push(rule.key.clone());
            for a in effective {
                out.commands.push(Command { rule: rule.key.clone(), action: rendered(a, &next) });
            }
            let follow: BTreeSet<&str> = changed
                .iter()
                .map(|f| follow_on(f))
                .chain((!changed.is_empty()).then_some("ticket.updated"))
                .collect();
            for kind in follow {
                queue.push_back((kind.to_string(), depth + 1));
            }
            facts = next;
            facts.text("event.kind", kind.clone());
        }
    }
    out
}

enum Effect {
    None,
    Side,
    Field(&'static str),
}

fn follow_on(field: &str) -> &'static str {
    match field {
        "ticket.status" => "ticket.status_changed",
        "ticket.assignee" | "ticket.team" => "ticket.assigned",
        "ticket.tags" => "ticket.tags_changed",
        _ => "ticket.updated",
    }
}

/// Applies a field action to `f`; reports what changed.
fn apply(f: &mut Facts, a: &Action) -> Effect {
    let set = |f: &mut Facts, name: &'static str, v: String| {
        if *f.get(name) == Val::Text(v.clone()) {
            Effect::None
        } else {
            f.text(name, v);
            Effect::Field(name)
        }
    };
    match a {
        Action::SetStatus(s) => {
            let from = match f.get("ticket.status") {
                Val::Text(t) => Status::parse(t).ok(),
                _ => None,
            };
            // A transition the lifecycle forbids is a no-op, not an error.
            match from {
                Some(from) if from.can_become(*s) => {
                    f.text("ticket.previous_status", from.as_str());
                    set(f, "ticket.status", s.as_str().to_string())
                }
                _ => Effect::None,
            }
        }
        Action::SetSeverity(s) => set(f, "ticket.severity", s.as_str().to_string()),
        Action::SetUrgency(u) => set(f, "ticket.urgency", u.as_str().to_string()),
        Action::SetStage(s) => set(f, "ticket.stage", s.clone()),
        Action::AssignUser(u) => set(f, "ticket.assignee", u.to_string()),
        Action::AssignTeam(t) => set(f, "ticket.team", t.to_string()),
        Action::Unassign => {
            if matches!(f.get("ticket.assignee"), Val::Null) {
                Effect::None
            } else {
                f.set("ticket.assignee", Val::Null);
                Effect::Field("ticket.assignee")
            }
        }
        Action::AddTag(t) => {
            let mut tags = f.tags();
            if tags.iter().any(|x| x == t) {
                return Effect::None;
            }
            tags.push(t.clone());
            f.set("ticket.tags", Val::Tags(tags));
            Effect::Field("ticket.tags")
        }
        Action::RemoveTag(t) => {
            let mut tags = f.tags();
            let before = tags.len();
            tags.retain(|x| x != t);
            if tags.len() == before {
                return Effect::None;
            }
            f.set("ticket.tags", Val::Tags(tags));
            Effect::Field("ticket.tags")
        }
        Action::Notify { .. }
        | Action::Reply { .. }
        | Action::Webhook { .. }
        | Action::Collaborate { .. } => Effect::Side,
    }
}

fn is_side(a: &Action) -> bool {
    matches!(
        a,
        Action::Notify { .. }
            | Action::Reply { .. }
            | Action::Webhook { .. }
            | Action::Collaborate { .. }
    )
}

/// The action with its texts rendered against the facts after the rule.
fn rendered(a: &Action, after: &Facts) -> Action {
    match a {
        Action::Notify { to, text_zh, text_en } => Action::Notify {
            to: *to,
            text_zh: render(text_zh, after),
            text_en: render(text_en, after),
        },
        Action::Reply { template_zh, template_en } => Action::Reply {
            template_zh: render(template_zh, after),
            template_en: render(template_en, after),
        },
        Action::Collaborate { department, note, due_hours } => Action::Collaborate {
            department: *department,
            note: render(note, after),
            due_hours: *due_hours,
        },
        _ => a.clone(),
    }
}

/// Replaces `{{name}}` with the fact's value (tags joined by commas; unknown names left blank).
pub fn render(template: &str, f: &Facts) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(i) = rest.find("{{") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let Some(j) = after.find("}}") else {
            out.push_str(&rest[i..]);
            return out;
        };
        match f.get(after[..j].trim()) {
            Val::Null => {}
            Val::Text(t) => out.push_str(t),
            Val::Num(n) => out.push_str(&n.to_string()),
            Val::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Val::Tags(t) => out.push_str(&t.join(",")),
        }
        rest = &after[j + 2..];
    }
    out.push_str(rest);
    out
}

/// Checks a rule given as trees: `when` (`"time"` or `{"events": [...]}`), `cond` (the
/// condition tree) and `actions` (a list). Returns every problem found, each with its path.
pub fn parse_rule(
    key: &str,
    when: &Tree,
    cond: &Tree,
    actions: &Tree,
) -> Result<Rule, Vec<Diagnostic>> {
    let mut p = Parser { diags: Vec::new(), nodes: 0 };
    let when = p.when(when);
    let cond = p.cond(cond, "if".to_string());
    let actions = p.actions(actions);
    if let (Some(When::Time), Some(acts)) = (&when, &actions)
        && acts.iter().all(is_side)
    {
        p.err::<()>(
            "then",
            "a time-driven rule needs an action that changes the ticket (a field, a tag or the assignee), so it does not fire again on the next scan",
        );
    }
    match (when, cond, actions) {
        (Some(when), Some(cond), Some(actions)) if p.diags.is_empty() => {
            Ok(Rule { key: key.to_string(), when, cond, actions })
        }
        _ => Err(p.diags),
    }
}

struct Parser {
    diags: Vec<Diagnostic>,
    nodes: usize,
}

impl Parser {
    fn err<T>(&mut self, path: &str, msg: impl Into<String>) -> Option<T> {
        self.diags.push(Diagnostic { path: path.to_string(), message: msg.into() });
        None
    }

    fn when(&mut self, t: &Tree) -> Option<When> {
        match t {
            Tree::Str(s) if s == "time" => Some(When::Time),
            Tree::Map(_) => {
                let Some(Tree::List(kinds)) = t.get("events") else {
                    return self.err(
                        "when.events",
                        "a list of event kinds is required, e.g. [\"ticket.created\"]",
                    );
                };
                if kinds.is_empty() {
                    return self.err("when.events", "name at least one event kind");
                }
                let mut out = BTreeSet::new();
                for (i, k) in kinds.iter().enumerate() {
                    match k {
                        Tree::Str(s) if s != "time" && EVENT_KINDS.contains(&s.as_str()) => {
                            out.insert(s.clone());
                        }
                        _ => {
                            self.err::<()>(
                                &format!("when.events[{i}]"),
                                format!(
                                    "unknown event kind; expected one of: {}",
                                    EVENT_KINDS[..EVENT_KINDS.len() - 1].join(", ")
                                ),
                            );
                        }
                    }
                }
                Some(When::Events(out))
            }
            _ => self.err("when", "expected \"time\" or {\"events\": [...]}"),
        }
    }

    fn cond(&mut self, t: &Tree, path: String) -> Option<Cond> {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return self.err(&path, format!("too many conditions; at most {MAX_NODES}"));
        }
        let Tree::Map(m) = t else {
            return self.err(&path, format!("expected an object, found {}", t.kind()));
        };
        if let Some((k, v)) = m.iter().find(|(k, _)| k == "all" || k == "any") {
            if m.len() != 1 {
                return self.err(&path, format!("\"{k}\" must be the only key of its object"));
            }
            let Tree::List(items) = v else {
                return self.err(&format!("{path}.{k}"), "expected a list of conditions");
            };
            let parsed: Vec<Option<Cond>> = items
                .iter()
                .enumerate()
                .map(|(i, c)| self.cond(c, format!("{path}.{k}[{i}]")))
                .collect();
            let parsed: Option<Vec<Cond>> = parsed.into_iter().collect();
            return parsed.map(|cs| if k == "all" { Cond::All(cs) } else { Cond::Any(cs) });
        }
        if let Some(v) = t.get("not") {
            if m.len() != 1 {
                return self.err(&path, "\"not\" must be the only key of its object");
            }
            return self.cond(v, format!("{path}.not")).map(|c| Cond::Not(Box::new(c)));
        }
        let Some(Tree::Str(field)) = t.get("field") else {
            return self.err(
                &path,
                "expected {\"all\": [...]}, {\"any\": [...]}, {\"not\": {...}} or {\"field\", \"op\", \"value\"}",
            );
        };
        let Some(ty) = field_type(field) else {
            return self.err(&format!("{path}.field"), format!("unknown field {field:?}"));
        };
        let op_name = match t.get("op") {
            Some(Tree::Str(s)) => s.as_str(),
            _ => return self.err(&format!("{path}.op"), "an operator is required"),
        };
        let Some(op) = OPS.iter().find(|(n, _)| *n == op_name).map(|(_, o)| *o) else {
            let all: Vec<&str> = OPS.iter().map(|(n, _)| *n).collect();
            return self.err(
                &format!("{path}.op"),
                format!("unknown operator {op_name:?}; expected one of: {}", all.join(", ")),
            );
        };
        let vpath = format!("{path}.value");
        let value = t.get("value").unwrap_or(&Tree::Null);
        let operand = self.operand(ty, op, value, &vpath, field)?;
        Some(Cond::Field { field: field.clone(), op, value: operand })
    }

    fn operand(&mut self, ty: Ty, op: Op, v: &Tree, path: &str, field: &str) -> Option<Operand> {
        let allowed: &[Op] = match ty {
            Ty::Text => {
                &[Op::Eq, Op::Ne, Op::In, Op::NotIn, Op::Contains, Op::NotContains, Op::StartsWith]
            }
            Ty::Named(_) => &[Op::Eq, Op::Ne, Op::In, Op::NotIn],
            Ty::Code => &[Op::Eq, Op::Ne, Op::In, Op::NotIn, Op::StartsWith],
            Ty::Number => &[Op::Eq, Op::Ne, Op::Gt, Op::Gte, Op::Lt, Op::Lte],
            Ty::Bool => &[Op::Eq, Op::Ne],
            Ty::Tags => &[Op::Contains, Op::NotContains],
        };
        if matches!(op, Op::IsSet | Op::NotSet) {
            return Some(Operand::None);
        }
        if !allowed.contains(&op) {
            let names: Vec<&str> =
                OPS.iter().filter(|(_, o)| allowed.contains(o)).map(|(n, _)| *n).collect();
            return self.err(
                &path.replace(".value", ".op"),
                format!(
                    "{field} does not take this operator; use one of: {}, is_set, not_set",
                    names.join(", ")
                ),
            );
        }
        let one = |p: &mut Parser, v: &Tree, path: &str| -> Option<String> {
            let Tree::Str(s) = v else {
                return p.err(path, format!("expected a string, found {}", v.kind()));
            };
            let s = s.trim();
            match ty {
                Ty::Named(names) if !names.contains(&s) => p.err(
                    path,
                    format!("unknown value {s:?}; expected one of: {}", names.join(", ")),
                ),
                Ty::Code if op != Op::StartsWith => match ProblemCode::parse(s) {
                    Ok(c) => Some(c.to_string()),
                    Err(e) => p.err(path, e.reason),
                },
                _ if s.chars().count() > MAX_TEXT => p.err(path, "text too long"),
                _ => Some(s.to_string()),
            }
        };
        match (ty, op) {
            (Ty::Number, _) => match v {
                Tree::Num(n) if n.is_finite() && n.fract() == 0.0 && n.abs() < 1e15 => {
                    Some(Operand::Num(*n as i64))
                }
                _ => self.err(path, format!("expected a whole number, found {}", v.kind())),
            },
            (Ty::Bool, _) => match v {
                Tree::Bool(b) => Some(Operand::Bool(*b)),
                _ => self.err(path, format!("expected true or false, found {}", v.kind())),
            },
            (_, Op::In | Op::NotIn) => {
                let Tree::List(items) = v else {
                    return self.err(path, format!("expected a list, found {}", v.kind()));
                };
                let parsed: Vec<Option<String>> = items
                    .iter()
                    .enumerate()
                    .map(|(i, x)| one(self, x, &format!("{path}[{i}]")))
                    .collect();
                parsed.into_iter().collect::<Option<Vec<_>>>().map(Operand::List)
            }
            _ => one(self, v, path).map(Operand::Text),
        }
    }

    fn actions(&mut self, t: &Tree) -> Option<Vec<Action>> {
        let Tree::List(items) = t else {
            return self.err("then", format!("expected a list of actions, found {}", t.kind()));
        };
        if items.is_empty() {
            return self.err("then", "a rule needs at least one action");
        }
        if items.len() > MAX_ACTIONS {
            return self.err("then", format!("too many actions; at most {MAX_ACTIONS}"));
        }
        let parsed: Vec<Option<Action>> =
            items.iter().enumerate().map(|(i, a)| self.action(a, &format!("then[{i}]"))).collect();
        parsed.into_iter().collect()
    }

    fn text(&mut self, t: &Tree, path: &str, key: &str, required: bool) -> Option<String> {
        match t.get(key) {
            Some(Tree::Str(s)) if s.chars().count() > MAX_TEXT => {
                self.err(&format!("{path}.{key}"), format!("at most {MAX_TEXT} characters"))
            }
            Some(Tree::Str(s)) if !s.trim().is_empty() => Some(s.trim().to_string()),
            None | Some(Tree::Null) if !required => Some(String::new()),
            _ => self.err(&format!("{path}.{key}"), "a non-empty string is required"),
        }
    }

    fn action(&mut self, t: &Tree, path: &str) -> Option<Action> {
        let Some(Tree::Str(kind)) = t.get("type") else {
            return self.err(&format!("{path}.type"), "an action type is required");
        };
        let vpath = format!("{path}.value");
        let parsed = |p: &mut Parser, r: Result<Action, domain::ParseError>| match r {
            Ok(a) => Some(a),
            Err(e) => p.err(&vpath, e.reason),
        };
        match kind.as_str() {
            "set_status" | "set_severity" | "set_urgency" | "set_stage" | "assign_user"
            | "assign_team" | "add_tag" | "remove_tag" => {
                let v = self.text(t, path, "value", true)?;
                let r = match kind.as_str() {
                    "set_status" => Status::parse(&v).map(Action::SetStatus),
                    "set_severity" => Severity::parse(&v).map(Action::SetSeverity),
                    "set_urgency" => Urgency::parse(&v).map(Action::SetUrgency),
                    "set_stage" => Ok(Action::SetStage(v)),
                    "assign_user" => UserId::parse(&v).map(Action::AssignUser),
                    "assign_team" => TeamId::parse(&v).map(Action::AssignTeam),
                    "add_tag" => domain::workspace::parse_skill(&v).map(Action::AddTag),
                    _ => domain::workspace::parse_skill(&v).map(Action::RemoveTag),
                };
                let r = r.map_err(|e| domain::ParseError::new("value", e.reason));
                parsed(self, r)
            }
            "unassign" => Some(Action::Unassign),
            "notify" => {
                let to = match t.get("to") {
                    Some(Tree::Str(s)) => match s.as_str() {
                        "assignee" => Some(Recipient::Assignee),
                        "team" => Some(Recipient::Team),
                        "supervisors" => Some(Recipient::Supervisors),
                        "cs_head" => Some(Recipient::CsHead),
                        other => match other.strip_prefix("user:").map(UserId::parse) {
                            Some(Ok(u)) => Some(Recipient::User(u)),
                            _ => None,
                        },
                    },
                    _ => None,
                };
                let to = match to {
                    Some(to) => Some(to),
                    None => self.err(
                        &format!("{path}.to"),
                        "expected assignee, team, supervisors, cs_head or user:<id>",
                    ),
                };
                let zh = self.text(t, path, "text_zh", true);
                let en = self.text(t, path, "text_en", true);
                Some(Action::Notify { to: to?, text_zh: zh?, text_en: en? })
            }
            "reply" => {
                let zh = self.text(t, path, "template_zh", true);
                let en = self.text(t, path, "template_en", true);
                Some(Action::Reply { template_zh: zh?, template_en: en? })
            }
            "webhook" => {
                let url = self.text(t, path, "url", true)?;
                let ok = (url.starts_with("https://") || url.starts_with("http://"))
                    && url.len() > 8
                    && !url.chars().any(char::is_whitespace);
                if ok {
                    Some(Action::Webhook { url })
                } else {
                    self.err(&format!("{path}.url"), "expected an http:// or https:// URL")
                }
            }
            "collaborate" => {
                let dept = match t.get("department") {
                    Some(Tree::Str(s)) => match Department::parse(s) {
                        Ok(d) => Some(d),
                        Err(e) => self.err(&format!("{path}.department"), e.reason),
                    },
                    _ => self.err(&format!("{path}.department"), "a department is required"),
                };
                let note = self.text(t, path, "note", true);
                let due = match t.get("due_hours") {
                    Some(Tree::Num(n)) if n.fract() == 0.0 && (1.0..=720.0).contains(n) => {
                        Some(*n as i64)
                    }
                    _ => self.err(&format!("{path}.due_hours"), "a whole number of hours, 1 to 720"),
                };
                Some(Action::Collaborate { department: dept?, note: note?, due_hours: due? })
            }
            other => self.err(
                &format!("{path}.type"),
                format!(
                    "unknown action {other:?}; expected one of: set_status, set_severity, set_urgency, set_stage, assign_user, assign_team, unassign, add_tag, remove_tag, notify, reply, webhook, collaborate"
                ),
            ),
        }
    }
}

#[cfg(test)]
mod tests;
