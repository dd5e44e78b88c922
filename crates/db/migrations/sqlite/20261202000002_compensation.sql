-- Compensation within authority (TK-7), cross-department collaboration (TK-6) and the
-- customer-visible stage timeline (TK-8). Keep in step with ../postgres/20261202000002_compensation.sql.

-- Authority limits per workspace; absent means the defaults (agent ¥2,000, supervisor ¥5,000,
-- cs_head unlimited, report within 48 h). Amounts are fen.
CREATE TABLE compensation_limits (
    workspace_id TEXT PRIMARY KEY REFERENCES workspaces(id),
    agent_fen INTEGER NOT NULL,
    supervisor_fen INTEGER NOT NULL,
    cs_head_fen INTEGER,
    report_hours INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE compensations (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    ticket_id TEXT NOT NULL REFERENCES tickets(id),
    kind TEXT NOT NULL,
    amount_fen INTEGER NOT NULL CHECK (amount_fen > 0),
    basis TEXT NOT NULL,
    requested_by TEXT NOT NULL REFERENCES users(id),
    requester_level TEXT NOT NULL,
    status TEXT NOT NULL,
    pending_level TEXT,
    granted_by TEXT REFERENCES users(id),
    granted_level TEXT,
    -- The limit the grant was made under (NULL: unlimited); a grant above it cannot be stored.
    granted_limit INTEGER,
    granted_at INTEGER,
    rejected_by TEXT REFERENCES users(id),
    rejected_reason TEXT,
    rejected_at INTEGER,
    report_status TEXT NOT NULL,
    report_due_at INTEGER,
    report TEXT,
    report_filed_at INTEGER,
    -- The approval chain, a JSON list of {by, level, action, note, at}.
    steps TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    CHECK (granted_limit IS NULL OR amount_fen <= granted_limit)
);
CREATE INDEX compensations_ticket ON compensations (workspace_id, ticket_id, created_at);
CREATE INDEX compensations_pending ON compensations (workspace_id, status, pending_level, created_at);

CREATE TABLE collaborations (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    ticket_id TEXT NOT NULL REFERENCES tickets(id),
    department TEXT NOT NULL,
    question TEXT NOT NULL,
    due_at INTEGER NOT NULL,
    status TEXT NOT NULL,
    overdue INTEGER NOT NULL,
    requested_by TEXT REFERENCES users(id),
    answer TEXT,
    completed_by TEXT REFERENCES users(id),
    completed_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX collaborations_department ON collaborations (workspace_id, department, created_at);
CREATE INDEX collaborations_ticket ON collaborations (workspace_id, ticket_id, created_at);

CREATE TABLE collaboration_updates (
    collaboration_id TEXT NOT NULL REFERENCES collaborations(id),
    seq INTEGER NOT NULL,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    author_id TEXT REFERENCES users(id),
    body TEXT NOT NULL,
    at INTEGER NOT NULL,
    PRIMARY KEY (collaboration_id, seq)
);

-- Every customer-visible stage a ticket entered, in order: the tracking page's timeline.
CREATE TABLE ticket_stage_log (
    ticket_id TEXT NOT NULL REFERENCES tickets(id),
    seq INTEGER NOT NULL,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    stage TEXT NOT NULL,
    at INTEGER NOT NULL,
    PRIMARY KEY (ticket_id, seq)
);

-- The message a customer gets on each stage change, per language; variables {ticket_no},
-- {stage}, {tracking_path}. Absent means the built-in templates.
CREATE TABLE stage_notice_templates (
    workspace_id TEXT PRIMARY KEY REFERENCES workspaces(id),
    enabled INTEGER NOT NULL,
    template_zh TEXT NOT NULL,
    template_en TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);
