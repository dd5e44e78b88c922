-- Routing (TK-5) and triggers (issue 5): agents' presence and capacity, teams' routing
-- strategy and overflow, and the workspace's trigger and automation rules.

-- One row per agent who has set presence or capacity; absent means offline with the defaults.
CREATE TABLE agent_states (
    user_id TEXT PRIMARY KEY REFERENCES users(id),
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    presence TEXT NOT NULL,
    max_chats INTEGER NOT NULL,
    max_tickets INTEGER NOT NULL,
    senior INTEGER NOT NULL,
    last_assigned_at INTEGER,
    updated_at INTEGER NOT NULL
);
CREATE INDEX agent_states_ws ON agent_states (workspace_id);

-- One row per team with non-default routing; absent means least_loaded without overflow.
CREATE TABLE team_routing (
    team_id TEXT PRIMARY KEY REFERENCES teams(id),
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    strategy TEXT NOT NULL,
    overflow_team_id TEXT REFERENCES teams(id),
    overflow_after_ms INTEGER,
    updated_at INTEGER NOT NULL
);
CREATE INDEX team_routing_ws ON team_routing (workspace_id);

-- Rules as the JSON trees they were saved as (validated by workflow::rules on save).
CREATE TABLE triggers (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    name TEXT NOT NULL,
    active INTEGER NOT NULL,
    position INTEGER NOT NULL,
    when_json TEXT NOT NULL,
    if_json TEXT NOT NULL,
    then_json TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX triggers_ws ON triggers (workspace_id, position, id);
