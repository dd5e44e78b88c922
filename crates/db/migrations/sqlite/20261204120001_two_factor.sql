-- Two-factor login (issue 9, security): a TOTP secret per user (pending until confirmed with
-- a code; last_step refuses a code's replay), one-time recovery codes stored as SHA-256, the
-- short-lived challenges between the password step and the code step, and the workspace's
-- "every user needs 2FA" switch.

CREATE TABLE user_totp (
    user_id TEXT PRIMARY KEY REFERENCES users(id),
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    secret TEXT NOT NULL,
    confirmed_at INTEGER,
    last_step INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);

CREATE TABLE user_recovery_codes (
    user_id TEXT NOT NULL REFERENCES users(id),
    code_hash TEXT NOT NULL,
    used_at INTEGER,
    PRIMARY KEY (user_id, code_hash)
);

CREATE TABLE login_challenges (
    token_hash TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    user_id TEXT NOT NULL REFERENCES users(id),
    attempts INTEGER NOT NULL DEFAULT 0,
    expires_at INTEGER NOT NULL
);
CREATE INDEX login_challenges_user ON login_challenges (user_id);

CREATE TABLE workspace_security (
    workspace_id TEXT PRIMARY KEY REFERENCES workspaces(id),
    require_2fa INTEGER NOT NULL DEFAULT 0,
    updated_at INTEGER NOT NULL
);
