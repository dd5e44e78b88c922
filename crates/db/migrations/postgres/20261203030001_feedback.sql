-- Surveys (FB-1, FB-5), feedback intake and imported reviews (FB-2, IN-5) and the content
-- classification of every inbound message and feedback item (FB-3, FB-4). The table and column
-- names of surveys, content_signals and feedback_items are a contract other modules read
-- (analytics, alerts). Keep in step with ../sqlite/20261203030001_feedback.sql.

-- Per-workspace survey configuration; absent means the defaults (CSAT only, sent 5 minutes
-- after solve, valid 7 days, reminder after 24 h, low scores CSAT <= 2, NPS <= 6, CES <= 3).
CREATE TABLE survey_settings (
    workspace_id TEXT PRIMARY KEY REFERENCES workspaces(id),
    enabled BIGINT NOT NULL,
    -- JSON list of kinds sent after a solve: "csat", "nps", "ces".
    kinds TEXT NOT NULL,
    delay_minutes BIGINT NOT NULL,
    expiry_hours BIGINT NOT NULL,
    reminder_hours BIGINT NOT NULL,
    csat_low BIGINT NOT NULL,
    nps_low BIGINT NOT NULL,
    ces_low BIGINT NOT NULL,
    special_team_id TEXT REFERENCES teams(id),
    -- JSON list of custom questions {id, text, type: "text"|"choice"|"scale", options}.
    questions TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE surveys (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    ticket_id TEXT REFERENCES tickets(id),
    customer_id TEXT REFERENCES customers(id),
    conversation_id TEXT,
    -- 'csat' (1-5) | 'nps' (0-10) | 'ces' (1-7)
    kind TEXT NOT NULL,
    channel TEXT NOT NULL,
    -- 'scheduled' | 'sent' | 'reminded' | 'answered' | 'expired'
    status TEXT NOT NULL,
    score BIGINT,
    comment TEXT,
    -- JSON object: custom question id -> answer.
    answers TEXT,
    -- The custom questions as sent (JSON list), so later edits do not change an open survey.
    questions TEXT NOT NULL,
    team_id TEXT,
    agent_id TEXT,
    -- The surveys sent together after one solve (one per configured kind) share a batch id, the
    -- id of the first; its row holds the link: SHA-256 (hex) of the secret sent, and of the
    -- one sent with the reminder. Kept after answering, so a reused link is told it was used.
    batch_id TEXT NOT NULL,
    token_hash TEXT UNIQUE,
    reminder_token_hash TEXT UNIQUE,
    low_score BIGINT NOT NULL DEFAULT 0,
    followup_ticket_id TEXT,
    created_at BIGINT NOT NULL,
    send_at BIGINT NOT NULL,
    sent_at BIGINT,
    reminded_at BIGINT,
    answered_at BIGINT,
    expires_at BIGINT NOT NULL
);
CREATE INDEX surveys_ws_created ON surveys (workspace_id, created_at, id);
CREATE INDEX surveys_customer ON surveys (workspace_id, customer_id, created_at);
CREATE INDEX surveys_ticket ON surveys (workspace_id, ticket_id);
CREATE INDEX surveys_batch ON surveys (workspace_id, batch_id);

CREATE TABLE feedback_items (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    customer_id TEXT REFERENCES customers(id),
    -- 'form' | 'api' | 'review'
    source TEXT NOT NULL,
    platform TEXT,
    external_id TEXT,
    rating BIGINT,
    body TEXT NOT NULL,
    order_no TEXT,
    sku TEXT,
    contact TEXT,
    ticket_id TEXT,
    -- Who handles it; complaints must have one within 15 minutes (FB-3).
    assignee_id TEXT REFERENCES users(id),
    -- JSON list of {id, kind, content_type, size, name}.
    attachments TEXT NOT NULL,
    occurred_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    -- 'open' | 'handled'
    status TEXT NOT NULL,
    due_at BIGINT,
    UNIQUE (workspace_id, platform, external_id)
);
CREATE INDEX feedback_ws_created ON feedback_items (workspace_id, created_at, id);
CREATE INDEX feedback_customer ON feedback_items (workspace_id, customer_id, created_at);

-- Uploaded images and voice notes, bytes included (the content type is sniffed from them).
CREATE TABLE feedback_attachments (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    feedback_id TEXT NOT NULL REFERENCES feedback_items(id),
    kind TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    original_name TEXT,
    data BYTEA NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX feedback_attachments_item ON feedback_attachments (feedback_id);

CREATE TABLE content_signals (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    -- 'message' | 'feedback' | 'review'
    source TEXT NOT NULL,
    source_id TEXT NOT NULL,
    customer_id TEXT,
    ticket_id TEXT,
    conversation_id TEXT,
    channel TEXT,
    -- 'inquiry' | 'complaint' | 'suggestion'
    kind TEXT NOT NULL,
    -- 'negative' | 'neutral' | 'positive'
    sentiment TEXT NOT NULL,
    sentiment_score DOUBLE PRECISION NOT NULL,
    strong_negative BIGINT NOT NULL,
    problem_code TEXT,
    -- 'high' | 'medium' | 'low' (deadlines 24 / 48 / 72 h)
    urgency TEXT NOT NULL,
    product TEXT,
    due_at BIGINT NOT NULL,
    -- Complaints: when they must be assigned (15 minutes).
    assign_due_at BIGINT,
    overdue BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    UNIQUE (workspace_id, source, source_id)
);
CREATE INDEX content_signals_ws_created ON content_signals (workspace_id, created_at, id);
CREATE INDEX content_signals_customer ON content_signals (workspace_id, customer_id, created_at);
CREATE INDEX content_signals_kind ON content_signals (workspace_id, kind, created_at);
CREATE INDEX content_signals_conversation ON content_signals (workspace_id, conversation_id);
