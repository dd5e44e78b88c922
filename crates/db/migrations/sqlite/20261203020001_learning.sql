-- The learning loop (BOT-7): FAQ candidates mined from questions the bot could not answer or
-- answered to a low rating. `questions` is a JSON list of {text, count, unmatched, low_rated};
-- `faqs` the JSON list of entries whose answers were rated low. Open candidates are replaced
-- by each clustering run; accepted and dismissed ones stay, and their questions are not
-- proposed again.

CREATE TABLE kb_candidates (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    status TEXT NOT NULL,
    question TEXT NOT NULL,
    questions TEXT NOT NULL,
    total INTEGER NOT NULL,
    unmatched INTEGER NOT NULL,
    low_rated INTEGER NOT NULL,
    faqs TEXT NOT NULL,
    first_seen BIGINT NOT NULL,
    last_seen BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    decided_at BIGINT,
    decided_by TEXT,
    faq_id TEXT
);
CREATE INDEX kb_candidates_status ON kb_candidates (workspace_id, status);

-- Machine translation for agents (BOT-9): each workspace's provider as one JSON document
-- (`dialogue::translate::TranslationConfig`); no row means off.
CREATE TABLE translation_settings (
    workspace_id TEXT PRIMARY KEY REFERENCES workspaces(id),
    config TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Links between tickets (issue 5): `related` (stored once, the smaller id first) and
-- `merged_into` (a duplicate closed into another ticket).
CREATE TABLE ticket_links (
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    ticket_id TEXT NOT NULL REFERENCES tickets(id),
    other_id TEXT NOT NULL REFERENCES tickets(id),
    kind TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    PRIMARY KEY (ticket_id, other_id, kind)
);
CREATE INDEX ticket_links_other ON ticket_links (workspace_id, other_id);
