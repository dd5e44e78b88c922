-- Proactive service (issue 8 item 6): rules that message a segment of customers at a moment
-- through their own channel; the workspace's quiet hours and frequency cap; customers who
-- opted out (by staff or by replying 退订/TD/STOP); and every planned send, unique per rule,
-- customer and occasion so nobody gets the same rule's message twice for one occasion.

CREATE TABLE proactive_rules (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    name TEXT NOT NULL,
    definition TEXT NOT NULL,
    active INTEGER NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX proactive_rules_ws ON proactive_rules (workspace_id, active);

CREATE TABLE proactive_settings (
    workspace_id TEXT PRIMARY KEY REFERENCES workspaces(id),
    time_zone TEXT NOT NULL,
    quiet_hours TEXT NOT NULL,
    cap_count INTEGER NOT NULL,
    cap_days INTEGER NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE proactive_opt_outs (
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    customer_id TEXT NOT NULL REFERENCES customers(id),
    source TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, customer_id)
);

CREATE TABLE proactive_sends (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    rule_id TEXT NOT NULL REFERENCES proactive_rules(id),
    customer_id TEXT NOT NULL REFERENCES customers(id),
    occasion TEXT NOT NULL,
    channel TEXT NOT NULL,
    conversation_id TEXT REFERENCES conversations(id),
    body TEXT NOT NULL,
    text TEXT NOT NULL,
    state TEXT NOT NULL,
    due_at BIGINT NOT NULL,
    message_id TEXT,
    outbound_id TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (rule_id, customer_id, occasion)
);
CREATE INDEX proactive_sends_customer ON proactive_sends (workspace_id, customer_id, due_at);
CREATE INDEX proactive_sends_rule ON proactive_sends (workspace_id, rule_id, created_at);
