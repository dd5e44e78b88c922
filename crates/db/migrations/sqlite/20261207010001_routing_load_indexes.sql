-- Routing's board (`db::routing::agents`, `db::routing::avg_handle_ms`) reads each agent's open
-- tickets and chats and a team's last solved tickets on every routing decision. With only the
-- single-column assignee and team indexes those reads visited every ticket an agent or team ever
-- had, so ticket creation slowed with history (docs/benchmarks.md, 750k tickets). These partial
-- indexes hold only what the reads count; each WHERE is the query's, term for term, so SQLite's
-- planner can use it.
CREATE INDEX tickets_assignee_open ON tickets (workspace_id, assignee_id)
    WHERE status NOT IN ('solved', 'closed');
CREATE INDEX conversations_assignee_open ON conversations (workspace_id, assignee_id)
    WHERE status = 'open' AND handler = 'human';
CREATE INDEX tickets_team_solved ON tickets (workspace_id, team_id, solved_at)
    WHERE solved_at IS NOT NULL;
-- The crisis and repeat checks (`db::routing::code_history`) read one problem code's tickets of
-- the last 30 days when a ticket is created; without this index the read filtered every ticket
-- of those 30 days.
CREATE INDEX tickets_ws_code_created ON tickets (workspace_id, problem_code, created_at, id);
