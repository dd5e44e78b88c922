-- Personal data (PL-4): erasure marks and the retention period.
--
-- A customer erased on request keeps its row (tickets and analytics point at it) with a
-- pseudonym and `erased_at`; a conversation anonymised by erasure or by the retention job keeps
-- its row, timestamps and ticket facts with `anonymised_at`, its texts replaced by a marker.

ALTER TABLE customers ADD COLUMN erased_at BIGINT;
ALTER TABLE conversations ADD COLUMN anonymised_at BIGINT;

CREATE TABLE privacy_settings (
    workspace_id TEXT PRIMARY KEY REFERENCES workspaces(id),
    -- Closed cases older than this many days are anonymised by the daily `apply_retention` job.
    retention_days BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- The retention job's scan: conversations not yet anonymised, by last activity.
CREATE INDEX conversations_retention ON conversations (workspace_id, last_message_at)
    WHERE anonymised_at IS NULL;
