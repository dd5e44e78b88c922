-- Alerts (AN-2, AN-5), quality inspection (AN-6) and scheduled reports (AN-7).
-- Keep in step with ../sqlite/20261203050001_alerts.sql.

-- Per-workspace alert thresholds (JSON, `workflow::alerts::AlertConfig`) and the default owner.
CREATE TABLE alert_settings (
    workspace_id TEXT PRIMARY KEY REFERENCES workspaces(id),
    config TEXT NOT NULL,
    owner_id TEXT REFERENCES users(id),
    updated_at BIGINT NOT NULL
);

-- One row per alert; (kind, subject, window_start) makes a re-evaluation a no-op.
CREATE TABLE alerts (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    window_start BIGINT NOT NULL,
    window_end BIGINT NOT NULL,
    figures TEXT NOT NULL,
    message TEXT NOT NULL,
    owner_id TEXT REFERENCES users(id),
    status TEXT NOT NULL,
    due_at BIGINT NOT NULL,
    escalated_at BIGINT,
    acked_by TEXT REFERENCES users(id),
    acked_at BIGINT,
    resolved_by TEXT REFERENCES users(id),
    resolved_at BIGINT,
    resolution TEXT,
    created_at BIGINT NOT NULL,
    UNIQUE (workspace_id, kind, subject, window_start)
);
CREATE INDEX alerts_ws_created ON alerts (workspace_id, created_at);

-- Inspection rules (JSON, `workflow::quality::QualityRules`).
CREATE TABLE quality_rules (
    workspace_id TEXT PRIMARY KEY REFERENCES workspaces(id),
    rules TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Failed checks; replaced per conversation on each inspection.
CREATE TABLE quality_findings (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    message_id TEXT,
    agent_id TEXT NOT NULL REFERENCES users(id),
    kind TEXT NOT NULL,
    detail TEXT NOT NULL,
    at BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX quality_findings_ws_at ON quality_findings (workspace_id, at);
CREATE INDEX quality_findings_conv ON quality_findings (conversation_id);

-- Checks made and passed per conversation, agent and day (00:00 UTC+8): the quality index.
CREATE TABLE quality_checks (
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    agent_id TEXT NOT NULL REFERENCES users(id),
    day BIGINT NOT NULL,
    checks BIGINT NOT NULL,
    passed BIGINT NOT NULL,
    PRIMARY KEY (conversation_id, agent_id, day)
);
CREATE INDEX quality_checks_ws_day ON quality_checks (workspace_id, day);

CREATE TABLE report_schedules (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    name TEXT NOT NULL,
    period TEXT NOT NULL,
    format TEXT NOT NULL,
    recipients TEXT NOT NULL,
    active BIGINT NOT NULL,
    next_run_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX report_schedules_ws ON report_schedules (workspace_id, created_at);

-- Rendered reports; one per schedule and period.
CREATE TABLE reports (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    schedule_id TEXT REFERENCES report_schedules(id),
    period TEXT NOT NULL,
    period_start BIGINT NOT NULL,
    period_end BIGINT NOT NULL,
    format TEXT NOT NULL,
    filename TEXT NOT NULL,
    content_type TEXT NOT NULL,
    bytes BYTEA NOT NULL,
    summary TEXT NOT NULL,
    delivery TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (schedule_id, period_start)
);
CREATE INDEX reports_ws_created ON reports (workspace_id, created_at);
