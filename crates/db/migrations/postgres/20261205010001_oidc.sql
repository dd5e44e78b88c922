-- OIDC single sign-on for staff (issue 9 item 4): the workspace's identity provider (the client
-- secret is write-only over the API), each staff user's link to a provider subject, and the
-- short-lived, single-use login attempts (state, nonce and PKCE verifier kept server-side,
-- bound to the browser that started them).

CREATE TABLE oidc_settings (
    workspace_id TEXT PRIMARY KEY REFERENCES workspaces(id),
    issuer TEXT NOT NULL,
    client_id TEXT NOT NULL,
    client_secret TEXT NOT NULL,
    enabled BIGINT NOT NULL DEFAULT 0,
    allowed_domains TEXT NOT NULL DEFAULT '[]',
    provision_role TEXT,
    allow_hosts TEXT NOT NULL DEFAULT '[]',
    updated_at BIGINT NOT NULL
);

CREATE TABLE oidc_links (
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    issuer TEXT NOT NULL,
    subject TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id),
    created_at BIGINT NOT NULL,
    last_login_at BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, issuer, subject)
);
CREATE INDEX oidc_links_user ON oidc_links (user_id);

CREATE TABLE oidc_logins (
    state_hash TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    browser_hash TEXT NOT NULL,
    nonce TEXT NOT NULL,
    pkce_verifier TEXT NOT NULL,
    next_path TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX oidc_logins_expiry ON oidc_logins (expires_at);
