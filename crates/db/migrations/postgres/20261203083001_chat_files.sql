-- Images attached to chat messages (issue 6): uploaded by the conversation's visitor or by
-- staff, typed from their bytes, kept in the database and served only to the conversation's
-- visitor and the staff who may read the conversation.

CREATE TABLE chat_files (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    -- 'customer:<id>' or the staff actor ('user:<id>', 'token:<id>')
    uploaded_by TEXT NOT NULL,
    name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    data BYTEA NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX chat_files_conversation ON chat_files (workspace_id, conversation_id);
