-- Agent assist from similar solved tickets (TK-9): one derived row per solved or closed
-- ticket — the customer's problem (subject and first messages) and the resolution (the last
-- public agent reply before solving, the problem code) — rebuilt from tickets and messages by
-- the IndexSimilarTicket job and by a reindex. rev orders changes per workspace (taken under
-- the workspace lock, so in commit order); a ticket reopened, erased or anonymised keeps a
-- row with removed = 1 and every text emptied, so each server's in-memory index catches up
-- with one indexed read of the rows past its cursor.

CREATE TABLE similar_tickets (
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    ticket_id TEXT NOT NULL,
    rev BIGINT NOT NULL,
    removed BIGINT NOT NULL,
    ticket_no TEXT NOT NULL,
    customer_id TEXT,
    subject TEXT NOT NULL,
    problem TEXT NOT NULL,
    resolution TEXT NOT NULL,
    problem_code TEXT,
    lang TEXT NOT NULL,
    solved_at BIGINT,
    PRIMARY KEY (workspace_id, ticket_id)
);
CREATE INDEX similar_tickets_rev ON similar_tickets (workspace_id, rev);
