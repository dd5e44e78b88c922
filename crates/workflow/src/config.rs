//! SLA configuration as administrators write it: policies ([`PolicyDef`]) and calendars
//! ([`CalendarDef`]) as plain text fields, parsed and cross-checked here into the types
//! `sla` and `escalation` evaluate. Storage and the API keep the text form; [`PolicyDef::of`]
//! turns a parsed policy back into it (for the seeded defaults).

use domain::{Channel, ParseError, ProblemCode, Severity, Status, TeamId, Tier, Urgency};

use crate::{
    calendar::{BusinessCalendar, CalendarDef},
    defaults,
    escalation::{Action, Step, Trigger},
    sla::{CalendarId, Calendars, ClockMode, Conditions, Metric, SlaPolicy, Target, WarnAt},
};

/// One target as text.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TargetDef {
    pub metric: String,
    /// `30m`, `4h`, `1h30m`, `3d`.
    pub duration: String,
    /// `calendar` or `business:<calendar id>`.
    pub mode: String,
    /// `80%`, `0.8`, `15m before`, or empty for no warning.
    pub warn: String,
    /// Statuses the clock pauses in; `None` keeps the metric's default.
    pub pause_in: Option<Vec<String>>,
}

/// Conditions as text; empty lists match anything.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConditionsDef {
    pub severity: Vec<String>,
    pub tier: Vec<String>,
    pub problem_code: Vec<String>,
    pub channel: Vec<String>,
    pub urgency: Vec<String>,
    pub team: Vec<String>,
}

/// One escalation rung as text.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StepDef {
    pub on: String,
    pub metrics: Vec<String>,
    pub actions: Vec<String>,
}

/// A policy as an administrator writes it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PolicyDef {
    pub name: String,
    pub conditions: ConditionsDef,
    pub targets: Vec<TargetDef>,
    pub escalation: Vec<StepDef>,
}

/// A parsed policy with its ladder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub sla: SlaPolicy,
    pub ladder: Vec<Step>,
}

/// Why a configuration was refused: which entry (0-based) and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub index: usize,
    pub error: ParseError,
}

fn list<T>(xs: &[String], f: impl Fn(&str) -> Result<T, ParseError>) -> Result<Vec<T>, ParseError> {
    xs.iter().map(|s| f(s)).collect()
}

fn fmt_duration(ms: i64) -> String {
    let mut out = String::new();
    let mut rest = ms;
    for (unit, len) in [("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1_000)] {
        if rest >= len {
            out.push_str(&format!("{}{unit}", rest / len));
            rest %= len;
        }
    }
    if out.is_empty() { "1s".into() } else { out }
}

impl PolicyDef {
    pub fn parse(&self) -> Result<Policy, ParseError> {
        let c = &self.conditions;
        let conditions = Conditions {
            severity: list(&c.severity, Severity::parse)?,
            tier: list(&c.tier, Tier::parse)?,
            problem_code: list(&c.problem_code, ProblemCode::parse)?,
            channel: list(&c.channel, Channel::parse)?,
            urgency: list(&c.urgency, Urgency::parse)?,
            team: list(&c.team, TeamId::parse)?,
        };
        let mut targets = Vec::new();
        for t in &self.targets {
            let metric = Metric::parse(&t.metric)?;
            let mut target = Target::parse(metric, &t.duration, &t.mode, &t.warn)?;
            if let Some(p) = &t.pause_in {
                target = target.with_pause_in(&list(p, Status::parse)?)?;
            }
            targets.push((metric, target));
        }
        let sla = SlaPolicy::new(&self.name, conditions, targets)?;
        let mut ladder = Vec::new();
        for s in &self.escalation {
            let actions = list(&s.actions, Action::parse)?;
            if actions.is_empty() {
                return Err(ParseError::new(
                    "sla.escalation.actions",
                    "give each escalation step at least one action",
                ));
            }
            ladder.push(Step {
                on: Trigger::parse(&s.on)?,
                metrics: list(&s.metrics, Metric::parse)?,
                actions,
            });
        }
        Ok(Policy { sla, ladder })
    }

    /// The text form of a parsed policy.
    pub fn of(p: &SlaPolicy, ladder: &[Step]) -> PolicyDef {
        let c = p.conditions();
        PolicyDef {
            name: p.name().to_string(),
            conditions: ConditionsDef {
                severity: c.severity.iter().map(|x| x.as_str().to_string()).collect(),
                tier: c.tier.iter().map(|x| x.as_str().to_string()).collect(),
                problem_code: c.problem_code.iter().map(ToString::to_string).collect(),
                channel: c.channel.iter().map(|x| x.as_str().to_string()).collect(),
                urgency: c.urgency.iter().map(|x| x.as_str().to_string()).collect(),
                team: c.team.iter().map(ToString::to_string).collect(),
            },
            targets: p
                .targets()
                .map(|(m, t)| TargetDef {
                    metric: m.as_str().into(),
                    duration: fmt_duration(t.duration_ms()),
                    mode: match t.mode() {
                        ClockMode::Calendar => "calendar".into(),
                        ClockMode::Business(id) => format!("business:{}", id.as_str()),
                    },
                    warn: match t.warn() {
                        None => String::new(),
                        Some(WarnAt::Permille(p)) if p % 10 == 0 => format!("{}%", p / 10),
                        Some(WarnAt::Permille(p)) => format!("{}", f64::from(p) / 1000.0),
                        Some(WarnAt::Before(ms)) => format!("{} before", fmt_duration(ms)),
                    },
                    pause_in: (t.pause_in() != m.default_pause_in())
                        .then(|| t.pause_in().iter().map(|s| s.as_str().to_string()).collect()),
                })
                .collect(),
            escalation: ladder
                .iter()
                .map(|s| StepDef {
                    on: s.on.as_str().into(),
                    metrics: s.metrics.iter().map(|m| m.as_str().to_string()).collect(),
                    actions: s.actions.iter().map(|a| a.to_text()).collect(),
                })
                .collect(),
        }
    }
}

/// Parses calendars, refusing duplicate ids.
pub fn parse_calendars(defs: &[(String, CalendarDef)]) -> Result<Calendars, ConfigError> {
    let mut out = Calendars::new();
    for (index, (id, def)) in defs.iter().enumerate() {
        let err = |error| ConfigError { index, error };
        let id = CalendarId::parse(id).map_err(err)?;
        let cal = BusinessCalendar::parse(def).map_err(err)?;
        if out.insert(id.clone(), cal).is_some() {
            return Err(err(ParseError::new(
                "sla.calendar",
                format!("calendar {:?} appears twice; keep one", id.as_str()),
            )));
        }
    }
    Ok(out)
}

/// Parses policies in order and checks that each names only known calendars and that names
/// are unique.
pub fn parse_policies(
    defs: &[PolicyDef],
    calendars: &Calendars,
) -> Result<Vec<Policy>, ConfigError> {
    let mut out: Vec<Policy> = Vec::new();
    for (index, def) in defs.iter().enumerate() {
        let err = |error| ConfigError { index, error };
        let p = def.parse().map_err(err)?;
        p.sla.check_calendars(calendars).map_err(err)?;
        if out.iter().any(|q| q.sla.name() == p.sla.name()) {
            return Err(err(ParseError::new(
                "sla.name",
                format!("two policies are named {:?}; names must be unique", p.sla.name()),
            )));
        }
        out.push(p);
    }
    Ok(out)
}

/// The default ladder: warn the assignee; on a breach tell them and the supervisors and raise
/// the urgency; an L1 breach also goes to the head of customer service.
pub fn default_ladder(p: &SlaPolicy) -> Vec<Step> {
    let l1 = p.conditions().severity == [Severity::L1];
    let mut breach = vec![Action::NotifyAssignee, Action::NotifySupervisor, Action::RaiseUrgency];
    if l1 {
        breach.push(Action::NotifyCsHead);
    }
    vec![
        Step { on: Trigger::Warned, metrics: Vec::new(), actions: vec![Action::NotifyAssignee] },
        Step { on: Trigger::Breached, metrics: Vec::new(), actions: breach },
    ]
}

/// What a new workspace starts with: [`defaults::default_policies`] with [`default_ladder`]s,
/// and the `default` calendar.
pub fn seed() -> (Vec<PolicyDef>, Vec<(String, CalendarDef)>) {
    let policies =
        defaults::default_policies().iter().map(|p| PolicyDef::of(p, &default_ladder(p))).collect();
    (policies, vec![(defaults::DEFAULT_CALENDAR.to_string(), defaults::default_calendar_def())])
}

#[cfg(test)]
mod tests;
