-- Channels (issue 8): configured channel endpoints (WeChat official account, signed webhook
-- platforms, SMS provider, call center) with their settings as JSON text; which channel and
-- address each conversation replies through; replies waiting for delivery; nonces seen (replay
-- protection); outbound event webhooks and their delivery log; the outbox cursor each consumer
-- has relayed up to; identity verification codes (IN-2).

CREATE TABLE channels (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    settings TEXT NOT NULL,
    active INTEGER NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX channels_ws ON channels (workspace_id, kind);

CREATE TABLE conversation_routes (
    conversation_id TEXT PRIMARY KEY REFERENCES conversations(id),
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    channel_id TEXT NOT NULL REFERENCES channels(id),
    address TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX conversation_routes_addr ON conversation_routes (workspace_id, channel_id, address);

CREATE TABLE channel_nonces (
    channel_id TEXT NOT NULL REFERENCES channels(id),
    nonce TEXT NOT NULL,
    seen_at BIGINT NOT NULL,
    PRIMARY KEY (channel_id, nonce)
);

CREATE TABLE outbound_messages (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    channel_id TEXT NOT NULL REFERENCES channels(id),
    conversation_id TEXT REFERENCES conversations(id),
    message_id TEXT,
    address TEXT NOT NULL,
    body TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX outbound_messages_conv ON outbound_messages (workspace_id, conversation_id);

CREATE TABLE webhook_subscriptions (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    url TEXT NOT NULL,
    events TEXT NOT NULL,
    secret TEXT NOT NULL,
    allow_hosts TEXT NOT NULL,
    active INTEGER NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX webhook_subscriptions_ws ON webhook_subscriptions (workspace_id);

CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    subscription_id TEXT NOT NULL REFERENCES webhook_subscriptions(id),
    event_seq BIGINT NOT NULL,
    event_kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    response_status INTEGER,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX webhook_deliveries_sub ON webhook_deliveries (workspace_id, subscription_id, id);

CREATE TABLE outbox_cursors (
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    consumer TEXT NOT NULL,
    seq BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, consumer)
);

CREATE TABLE verification_codes (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    customer_id TEXT NOT NULL REFERENCES customers(id),
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX verification_codes_customer ON verification_codes (workspace_id, customer_id, created_at);
CREATE INDEX verification_codes_value ON verification_codes (workspace_id, kind, value, created_at);
