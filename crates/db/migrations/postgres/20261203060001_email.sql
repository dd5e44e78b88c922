-- The email channel (issue 8): each workspace's mail settings (its address, IMAP and SMTP
-- servers; passwords stay in the JSON and never leave through the API), every Message-ID seen
-- or sent with the conversation it threads into, and the bytes of inbound attachments.

CREATE TABLE email_settings (
    workspace_id TEXT PRIMARY KEY REFERENCES workspaces(id),
    address TEXT NOT NULL,
    enabled INTEGER NOT NULL,
    config TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX email_settings_address ON email_settings (address);

CREATE TABLE email_messages (
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    rfc_id TEXT NOT NULL,
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    message_id TEXT,
    direction TEXT NOT NULL,
    refs TEXT NOT NULL,
    subject TEXT NOT NULL,
    address TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, rfc_id)
);
CREATE INDEX email_messages_conversation ON email_messages (workspace_id, conversation_id, created_at);

CREATE TABLE email_files (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    content TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
