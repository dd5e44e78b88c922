-- E-mail delivery of scheduled reports (AN-7): one row per report and recipient, written with
-- the report; the `deliver_report` job sends and records each recipient's outcome.
ALTER TABLE reports ADD COLUMN delivery_error TEXT;

CREATE TABLE report_deliveries (
    report_id TEXT NOT NULL REFERENCES reports(id),
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    recipient TEXT NOT NULL,
    position INTEGER NOT NULL,
    -- pending (also while waiting for a retry), sent, failed, not_sent
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    last_error TEXT,
    sent_at INTEGER,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (report_id, recipient)
);
CREATE INDEX report_deliveries_ws ON report_deliveries (workspace_id, report_id);
