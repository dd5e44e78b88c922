//! Escalation ladders: what to do when an SLA clock warns or breaches, configured per policy.
//!
//! A ladder is an ordered list of [`Step`]s, each on one [`Trigger`] (the warning is the first
//! rung, the breach the second) for some metrics (or all), with [`Action`]s. [`actions_for`]
//! maps the [`SlaEvent`]s of one evaluation to the actions to run, each action once per
//! evaluation however many metrics triggered it. Running them is the caller's business.

use domain::{ParseError, TeamId};

use crate::sla::{Metric, SlaEvent, SlaEventKind};

/// The rung a step sits on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Trigger {
    Warned,
    Breached,
}

impl Trigger {
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Warned => "warned",
            Trigger::Breached => "breached",
        }
    }
    pub fn parse(s: &str) -> Result<Trigger, ParseError> {
        match s.trim() {
            "warned" => Ok(Trigger::Warned),
            "breached" => Ok(Trigger::Breached),
            other => Err(ParseError::new(
                "sla.escalation.on",
                format!("{other:?} is not a trigger; write warned or breached"),
            )),
        }
    }
}

/// One thing an escalation does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Action {
    /// A notification to the ticket's assignee (or, unassigned, its team's supervisors).
    NotifyAssignee,
    /// A notification to every supervisor.
    NotifySupervisor,
    /// A notification to every head of customer service.
    NotifyCsHead,
    /// Urgency one step up (normal → urgent → critical).
    RaiseUrgency,
    /// Hand the ticket to a (senior) team, unassigned, for its lead to pick up.
    ReassignTeam(TeamId),
    /// Open an L1 crisis ticket for the same customer (TK-11).
    OpenCrisis,
}

impl Action {
    pub fn parse(s: &str) -> Result<Action, ParseError> {
        let s = s.trim();
        Ok(match s {
            "notify_assignee" => Action::NotifyAssignee,
            "notify_supervisor" => Action::NotifySupervisor,
            "notify_cs_head" => Action::NotifyCsHead,
            "raise_urgency" => Action::RaiseUrgency,
            "open_crisis" => Action::OpenCrisis,
            _ => match s.strip_prefix("reassign_team:") {
                Some(id) => Action::ReassignTeam(TeamId::parse(id.trim()).map_err(|_| {
                    ParseError::new(
                        "sla.escalation.actions",
                        format!("{id:?} is not a team id; write reassign_team:<team id>"),
                    )
                })?),
                None => {
                    return Err(ParseError::new(
                        "sla.escalation.actions",
                        format!(
                            "{s:?} is not an action; expected one of: notify_assignee, notify_supervisor, notify_cs_head, raise_urgency, reassign_team:<team id>, open_crisis"
                        ),
                    ));
                }
            },
        })
    }

    /// The text [`Action::parse`] reads.
    pub fn to_text(self) -> String {
        match self {
            Action::NotifyAssignee => "notify_assignee".into(),
            Action::NotifySupervisor => "notify_supervisor".into(),
            Action::NotifyCsHead => "notify_cs_head".into(),
            Action::RaiseUrgency => "raise_urgency".into(),
            Action::ReassignTeam(t) => format!("reassign_team:{t}"),
            Action::OpenCrisis => "open_crisis".into(),
        }
    }

    /// The kind without its argument, for events and notifications.
    pub fn kind(self) -> &'static str {
        match self {
            Action::NotifyAssignee => "notify_assignee",
            Action::NotifySupervisor => "notify_supervisor",
            Action::NotifyCsHead => "notify_cs_head",
            Action::RaiseUrgency => "raise_urgency",
            Action::ReassignTeam(_) => "reassign_team",
            Action::OpenCrisis => "open_crisis",
        }
    }
}

/// One rung: on `on`, for `metrics` (empty: any), run `actions`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub on: Trigger,
    pub metrics: Vec<Metric>,
    pub actions: Vec<Action>,
}

/// The actions the events of one evaluation call for, in ladder order, each once, with the
/// first event that called for it.
pub fn actions_for(ladder: &[Step], events: &[SlaEvent]) -> Vec<(Action, SlaEvent)> {
    let mut out: Vec<(Action, SlaEvent)> = Vec::new();
    for step in ladder {
        let want = match step.on {
            Trigger::Warned => SlaEventKind::Warned,
            Trigger::Breached => SlaEventKind::Breached,
        };
        let Some(ev) = events.iter().find(|e| {
            e.kind == want && (step.metrics.is_empty() || step.metrics.contains(&e.metric))
        }) else {
            continue;
        };
        for a in &step.actions {
            if !out.iter().any(|(b, _)| b == a) {
                out.push((*a, *ev));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests;
