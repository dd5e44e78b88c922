//! Huiting's workflow core, pure like `domain`: business-hours calendars (`calendar`), SLA
//! policies and clocks (`sla`), escalation ladders (`escalation`), their text form
//! (`config`) and the seeded defaults (`defaults`); skill routing (`routing`), triggers and
//! automations (`rules`), and crisis, repeat and root-cause checks (`crisis`).
//!
//! Nothing here does IO, awaits or reads the clock: `now` and every instant come in as
//! [`domain::Timestamp`] arguments, and every function returns for any input (errors or
//! "no deadline", never a panic or an endless loop). Storage, timer jobs and HTTP live in
//! `db`, `app` and `http`.
//!
//! Time zones come from `jiff` with its IANA database compiled in (`tzdb-bundle-always`): the
//! same answer on every machine, no `/usr/share/zoneinfo` read, and civil-time arithmetic with
//! explicit gap/fold handling (Temporal's model). `time` (already in the workspace) has no
//! time-zone database; `chrono-tz` would do, but needs `chrono` beside `time` and `jiff`'s
//! disambiguation API is clearer.

pub mod alerts;
pub mod analytics;
pub mod calendar;
pub mod churn;
pub mod config;
pub mod crisis;
pub mod defaults;
pub mod escalation;
pub mod feedback;
pub mod proactive;
pub mod quality;
pub mod routing;
pub mod rules;
pub mod sla;

pub use crate::{
    calendar::{BusinessCalendar, CalendarDef, CalendarError, DaySchedule, HORIZON_DAYS, Interval},
    sla::{
        CalendarId, Calendars, ClockMode, ClockProblem, Conditions, Deadline, DeadlineKind, Metric,
        MetricState, Phase, SlaEvent, SlaEventKind, SlaPolicy, Target, TicketEvent, TicketFacts,
        WarnAt, diff, evaluate, next_deadline, select,
    },
};
