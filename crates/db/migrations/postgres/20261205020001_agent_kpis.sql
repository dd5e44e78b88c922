-- Per-agent KPIs (issue 6): each ticket's facts record the agent it is counted under (its
-- current assignee; '' = unassigned), and a third additive rollup sums the same counters by
-- local day × team × agent (assigned tickets only), fed by the same catch-up and rebuild as
-- `analytics_daily`. Facts and rollups are derived data: they are emptied here and the cursor
-- is set back to the start, so the next analytics read recomputes every ticket from the
-- outbox (or run `huiting analytics rebuild`).

ALTER TABLE ticket_facts ADD COLUMN assignee_id TEXT NOT NULL DEFAULT '';

CREATE TABLE analytics_agent_daily (
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    local_day BIGINT NOT NULL,
    team_id TEXT NOT NULL,
    assignee_id TEXT NOT NULL,
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
    PRIMARY KEY (workspace_id, local_day, team_id, assignee_id)
);

CREATE INDEX ticket_facts_ws_done ON ticket_facts (workspace_id, done_at);

DELETE FROM ticket_facts;
DELETE FROM analytics_daily;
DELETE FROM analytics_hourly;
UPDATE analytics_cursor SET seq = 0;
