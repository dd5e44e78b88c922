-- Foundation schema (SQLite). Instants are INTEGER Unix milliseconds (UTC); ids are UUIDv7
-- text; lists and maps are JSON text; flags are 0/1 integers. Keep in step with
-- ../postgres/20261123000001_foundation.sql: the same tables, columns and indexes.

CREATE TABLE workspaces (
    id TEXT PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    ticket_prefix TEXT NOT NULL,
    public_key TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);

-- One row per workspace, locked by every write transaction: gapless event and audit sequence
-- numbers and ticket numbers, in commit order.
CREATE TABLE workspace_heads (
    workspace_id TEXT PRIMARY KEY REFERENCES workspaces(id),
    event_seq INTEGER NOT NULL,
    audit_seq INTEGER NOT NULL,
    audit_hash TEXT NOT NULL,
    ticket_seq INTEGER NOT NULL
);

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    email TEXT NOT NULL,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    department TEXT,
    password_hash TEXT,
    active INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (workspace_id, email)
);

CREATE TABLE teams (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    department TEXT,
    skills TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (workspace_id, name)
);

CREATE TABLE team_members (
    team_id TEXT NOT NULL REFERENCES teams(id),
    user_id TEXT NOT NULL REFERENCES users(id),
    PRIMARY KEY (team_id, user_id)
);
CREATE INDEX team_members_user ON team_members (user_id);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    user_id TEXT NOT NULL REFERENCES users(id),
    csrf_token TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);

CREATE TABLE customers (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    name TEXT NOT NULL,
    tier TEXT NOT NULL,
    attributes TEXT NOT NULL,
    merged_into TEXT REFERENCES customers(id),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX customers_ws_created ON customers (workspace_id, created_at, id);

CREATE TABLE customer_identities (
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    customer_id TEXT NOT NULL REFERENCES customers(id),
    verified INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, kind, value)
);
CREATE INDEX customer_identities_customer ON customer_identities (customer_id);

-- Secrets a widget visitor holds to read and write their own conversations.
CREATE TABLE customer_tokens (
    token_hash TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    customer_id TEXT NOT NULL REFERENCES customers(id),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);

CREATE TABLE conversations (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    customer_id TEXT NOT NULL REFERENCES customers(id),
    channel TEXT NOT NULL,
    subject TEXT,
    status TEXT NOT NULL,
    handler TEXT NOT NULL,
    assignee_id TEXT REFERENCES users(id),
    team_id TEXT REFERENCES teams(id),
    last_message_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX conversations_ws_last ON conversations (workspace_id, last_message_at, id);
CREATE INDEX conversations_customer ON conversations (customer_id);

CREATE TABLE messages (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    sender TEXT NOT NULL,
    author_id TEXT REFERENCES users(id),
    visibility TEXT NOT NULL,
    body TEXT NOT NULL,
    attachments TEXT NOT NULL,
    -- "<actor>:<Idempotency-Key>": a client retry finds the message it already created.
    idempotency_key TEXT,
    created_at INTEGER NOT NULL
);
CREATE INDEX messages_conversation ON messages (conversation_id, created_at, id);
CREATE UNIQUE INDEX messages_idempotency ON messages (workspace_id, idempotency_key);

CREATE TABLE problem_codes (
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    code TEXT NOT NULL,
    name_zh TEXT NOT NULL,
    name_en TEXT NOT NULL,
    review_department TEXT,
    active INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, code)
);

CREATE TABLE ticket_stages (
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    key TEXT NOT NULL,
    label_zh TEXT NOT NULL,
    label_en TEXT NOT NULL,
    position INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, key)
);

CREATE TABLE tickets (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    number INTEGER NOT NULL,
    subject TEXT NOT NULL,
    customer_id TEXT NOT NULL REFERENCES customers(id),
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    channel TEXT NOT NULL,
    problem_code TEXT,
    severity TEXT NOT NULL,
    urgency TEXT NOT NULL,
    status TEXT NOT NULL,
    stage TEXT,
    assignee_id TEXT REFERENCES users(id),
    team_id TEXT REFERENCES teams(id),
    tags TEXT NOT NULL,
    custom_fields TEXT NOT NULL,
    tracking_token TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    solved_at INTEGER,
    closed_at INTEGER,
    UNIQUE (workspace_id, number)
);
CREATE INDEX tickets_ws_created ON tickets (workspace_id, created_at, id);
CREATE INDEX tickets_ws_updated ON tickets (workspace_id, updated_at, id);
CREATE INDEX tickets_ws_status ON tickets (workspace_id, status, created_at);
CREATE INDEX tickets_assignee ON tickets (assignee_id);
CREATE INDEX tickets_team ON tickets (team_id);
CREATE INDEX tickets_customer ON tickets (customer_id);
CREATE INDEX tickets_conversation ON tickets (conversation_id);

CREATE TABLE ticket_tags (
    ticket_id TEXT NOT NULL REFERENCES tickets(id),
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    tag TEXT NOT NULL,
    PRIMARY KEY (ticket_id, tag)
);
CREATE INDEX ticket_tags_ws_tag ON ticket_tags (workspace_id, tag);

-- The outbox: every event, gapless per workspace, written in the transaction of its change.
CREATE TABLE events (
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    seq INTEGER NOT NULL,
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    aud_customer TEXT,
    aud_team TEXT,
    aud_assignee TEXT,
    aud_internal INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, seq)
);

CREATE TABLE audit_log (
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    seq INTEGER NOT NULL,
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    object_type TEXT NOT NULL,
    object_id TEXT NOT NULL,
    before_state TEXT,
    after_state TEXT,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    PRIMARY KEY (workspace_id, seq)
);
CREATE INDEX audit_log_object ON audit_log (workspace_id, object_type, object_id, seq);

CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    run_at INTEGER NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    locked_until INTEGER,
    locked_by TEXT,
    last_error TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX jobs_due ON jobs (state, run_at);
CREATE INDEX events_customer ON events (workspace_id, aud_customer, seq);
