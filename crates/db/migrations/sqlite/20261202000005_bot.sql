-- The bot at run time (issue 4): each workspace's bot configuration (texts, hand-off rules,
-- flows, connectors) as one JSON document, each bot conversation's dialogue state, and one
-- row per bot outcome (answered, rated, unmatched, hand-off) for metrics and the learning loop.

CREATE TABLE bot_settings (
    workspace_id TEXT PRIMARY KEY REFERENCES workspaces(id),
    config TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE bot_sessions (
    conversation_id TEXT PRIMARY KEY REFERENCES conversations(id),
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    state TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE bot_outcomes (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    kind TEXT NOT NULL,
    entry TEXT,
    intent TEXT,
    score INTEGER,
    reason TEXT,
    text TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX bot_outcomes_time ON bot_outcomes (workspace_id, created_at);
CREATE INDEX bot_outcomes_conversation ON bot_outcomes (conversation_id);
