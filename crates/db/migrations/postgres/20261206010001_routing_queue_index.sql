-- Routing's queue (`db::routing::ticket_queue`): a front-line team's unassigned active tickets
-- in arrival order. With the team index alone, the read visited every ticket the team ever had
-- (0.6–0.9 s at 750k tickets in docs/benchmarks.md); this partial index holds only the waiting
-- ones, in the order the query reads them. Its WHERE is the query's, term for term, so SQLite's
-- planner can use it.
CREATE INDEX tickets_team_queue ON tickets (workspace_id, team_id, created_at, id)
    WHERE assignee_id IS NULL AND status NOT IN ('solved', 'closed');
