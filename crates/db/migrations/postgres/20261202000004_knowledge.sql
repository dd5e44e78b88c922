-- The knowledge base (issue 4): FAQ entries, articles, every version of both, the agents'
-- reply templates (话术库) and per-workspace matching thresholds. The search index is derived
-- from these tables and rebuilt in memory.

CREATE TABLE kb_faqs (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    question TEXT NOT NULL,
    variants TEXT NOT NULL,
    answer TEXT NOT NULL,
    category TEXT NOT NULL,
    channels TEXT NOT NULL,
    valid_from BIGINT,
    valid_to BIGINT,
    tags TEXT NOT NULL,
    lang TEXT NOT NULL,
    intent TEXT,
    status TEXT NOT NULL,
    version BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by TEXT NOT NULL
);
CREATE INDEX kb_faqs_workspace ON kb_faqs (workspace_id, id);

CREATE TABLE kb_articles (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    category TEXT NOT NULL,
    tags TEXT NOT NULL,
    lang TEXT NOT NULL,
    status TEXT NOT NULL,
    version BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by TEXT NOT NULL
);
CREATE INDEX kb_articles_workspace ON kb_articles (workspace_id, id);

-- Every version of every FAQ entry and article, kept after the item is deleted. content is
-- the item's fields as JSON.
CREATE TABLE kb_versions (
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    item_id TEXT NOT NULL,
    item_kind TEXT NOT NULL,
    version BIGINT NOT NULL,
    action TEXT NOT NULL,
    status TEXT NOT NULL,
    content TEXT NOT NULL,
    actor TEXT NOT NULL,
    at BIGINT NOT NULL,
    PRIMARY KEY (item_id, version)
);
CREATE INDEX kb_versions_workspace ON kb_versions (workspace_id, item_id);

CREATE TABLE kb_reply_templates (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    name TEXT NOT NULL,
    body TEXT NOT NULL,
    category TEXT NOT NULL,
    tags TEXT NOT NULL,
    lang TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX kb_reply_templates_name ON kb_reply_templates (workspace_id, name);

CREATE TABLE kb_settings (
    workspace_id TEXT PRIMARY KEY REFERENCES workspaces(id),
    answer_threshold DOUBLE PRECISION NOT NULL,
    confirm_threshold DOUBLE PRECISION NOT NULL,
    updated_at BIGINT NOT NULL
);
