-- Analytics (issue 7: AN-1, AN-4). Derived data, rebuilt by `huiting analytics rebuild`:
-- one row of facts per ticket (what it contributes, with the dimensions it was counted under),
-- additive daily rollups by local day (the workspace's SLA calendar zone) × channel × problem
-- code × team, and hourly ticket counts by channel for the heat map. An empty string stands
-- for "none" in a dimension so it can be part of the key. `analytics_cursor` is the last outbox
-- event folded in; the facts and rollups of every ticket touched by a later event are brought
-- up to date before each analytics read (see ARCHITECTURE.md, "Analytics rollups").

CREATE TABLE analytics_cursor (
    workspace_id TEXT PRIMARY KEY REFERENCES workspaces(id),
    seq BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE ticket_facts (
    ticket_id TEXT PRIMARY KEY REFERENCES tickets(id),
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    created_at BIGINT NOT NULL,
    local_day BIGINT NOT NULL,
    local_hour BIGINT NOT NULL,
    channel TEXT NOT NULL,
    problem_code TEXT NOT NULL,
    team_id TEXT NOT NULL,
    status TEXT NOT NULL,
    done_at BIGINT,
    done_day BIGINT,
    first_reply_at BIGINT,
    frt_bh BIGINT,
    frt_wall BIGINT,
    nrt_n BIGINT NOT NULL,
    nrt_bh BIGINT NOT NULL,
    res_bh BIGINT,
    res_wall BIGINT,
    handle_bh BIGINT NOT NULL,
    agent_replies BIGINT NOT NULL,
    customer_replies BIGINT NOT NULL,
    reopens BIGINT NOT NULL,
    fcr BIGINT NOT NULL,
    sla_tracked BIGINT NOT NULL,
    sla_breached BIGINT NOT NULL,
    complaint BIGINT NOT NULL,
    is_repeat BIGINT NOT NULL
);
CREATE INDEX ticket_facts_ws_created ON ticket_facts (workspace_id, created_at, ticket_id);

CREATE TABLE analytics_daily (
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    local_day BIGINT NOT NULL,
    channel TEXT NOT NULL,
    problem_code TEXT NOT NULL,
    team_id TEXT NOT NULL,
    created BIGINT NOT NULL DEFAULT 0,
    solved BIGINT NOT NULL DEFAULT 0,
    done BIGINT NOT NULL DEFAULT 0,
    frt_n BIGINT NOT NULL DEFAULT 0,
    frt_bh BIGINT NOT NULL DEFAULT 0,
    frt_wall BIGINT NOT NULL DEFAULT 0,
    nrt_n BIGINT NOT NULL DEFAULT 0,
    nrt_bh BIGINT NOT NULL DEFAULT 0,
    res_n BIGINT NOT NULL DEFAULT 0,
    res_bh BIGINT NOT NULL DEFAULT 0,
    res_wall BIGINT NOT NULL DEFAULT 0,
    handle_n BIGINT NOT NULL DEFAULT 0,
    handle_bh BIGINT NOT NULL DEFAULT 0,
    fcr BIGINT NOT NULL DEFAULT 0,
    ever_solved BIGINT NOT NULL DEFAULT 0,
    reopened BIGINT NOT NULL DEFAULT 0,
    sla_n BIGINT NOT NULL DEFAULT 0,
    sla_met BIGINT NOT NULL DEFAULT 0,
    complaints BIGINT NOT NULL DEFAULT 0,
    repeats BIGINT NOT NULL DEFAULT 0,
    agent_replies BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (workspace_id, local_day, channel, problem_code, team_id)
);

CREATE TABLE analytics_hourly (
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    local_day BIGINT NOT NULL,
    local_hour BIGINT NOT NULL,
    channel TEXT NOT NULL,
    created BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, local_day, local_hour, channel)
);
