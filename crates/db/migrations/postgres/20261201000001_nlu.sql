-- The bot's language data (issue 3): intents, their examples, and versioned models.

CREATE TABLE intents (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX intents_name ON intents (workspace_id, name);

CREATE TABLE intent_examples (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    intent_id TEXT NOT NULL REFERENCES intents(id),
    text TEXT NOT NULL,
    source TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX intent_examples_intent ON intent_examples (workspace_id, intent_id, id);

-- One row per trained (or training, or failed) version; bytes are nlu's model codec.
CREATE TABLE nlu_models (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    kind TEXT NOT NULL,
    version BIGINT NOT NULL,
    status TEXT NOT NULL,
    active BIGINT NOT NULL,
    metrics TEXT,
    error TEXT,
    bytes BYTEA,
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL
);
CREATE UNIQUE INDEX nlu_models_version ON nlu_models (workspace_id, kind, version);
CREATE INDEX nlu_models_active ON nlu_models (workspace_id, active);
