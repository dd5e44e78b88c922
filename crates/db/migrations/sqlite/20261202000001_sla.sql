-- SLA (issue 5): policies and calendars as data, per-ticket clocks, their events, timers'
-- notifications, and the timer benchmark's firing log.

-- One row per workspace: the ordered policy list and the calendars, as JSON text (the admin
-- API replaces each list whole, so order and first-match-wins live in one value).
CREATE TABLE sla_config (
    workspace_id TEXT PRIMARY KEY REFERENCES workspaces(id),
    policies TEXT NOT NULL,
    calendars TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);

-- What SLA clocks care about, per ticket, in order: created, status changes, replies.
CREATE TABLE sla_inputs (
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    ticket_id TEXT NOT NULL REFERENCES tickets(id),
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL,
    at INTEGER NOT NULL,
    status TEXT,
    public INTEGER NOT NULL,
    PRIMARY KEY (ticket_id, seq)
);

-- A ticket's clock summary: the policy it runs under, when it was last evaluated, the
-- earliest deadline of a running metric (queue sort "time to breach") and the one timer due.
CREATE TABLE ticket_sla (
    ticket_id TEXT PRIMARY KEY REFERENCES tickets(id),
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    policy TEXT,
    evaluated_at INTEGER NOT NULL,
    breach_at INTEGER,
    timer_due INTEGER,
    -- The pending job of that timer, withdrawn when a change supersedes it before it is due.
    timer_job TEXT
);
CREATE INDEX ticket_sla_breach ON ticket_sla (workspace_id, breach_at);

-- Recorded SLA metric events (activated, paused, resumed, warned, breached, fulfilled).
CREATE TABLE sla_events (
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    ticket_id TEXT NOT NULL REFERENCES tickets(id),
    metric TEXT NOT NULL,
    cycle INTEGER NOT NULL,
    kind TEXT NOT NULL,
    at INTEGER NOT NULL,
    recorded_at INTEGER NOT NULL
);
CREATE INDEX sla_events_ticket ON sla_events (workspace_id, ticket_id, at);

-- Escalation notifications to staff.
CREATE TABLE notifications (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    user_id TEXT NOT NULL REFERENCES users(id),
    ticket_id TEXT REFERENCES tickets(id),
    kind TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX notifications_user ON notifications (workspace_id, user_id, created_at);

-- `huiting bench timers`: one row per firing of a probe job (duplicates are counted).
CREATE TABLE timer_probe_firings (
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    probe INTEGER NOT NULL,
    due INTEGER NOT NULL,
    fired_at INTEGER NOT NULL,
    worker TEXT NOT NULL
);
CREATE INDEX timer_probe_firings_probe ON timer_probe_firings (probe);
