-- Conversations, their visitor-visible messages, the team's private notes,
-- an audit trail of state changes, and team sessions.
CREATE TABLE conversations (
    id                  TEXT PRIMARY KEY,
    workspace_id        TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    chatbot_id          TEXT NOT NULL REFERENCES chatbots (id) ON DELETE CASCADE,
    visitor_token_hash  TEXT NOT NULL UNIQUE,  -- SHA-256 of the visitor token; the token itself is never stored
    visitor_name        TEXT,
    visitor_email       TEXT,
    state               TEXT NOT NULL CHECK (state IN ('bot', 'needs_human', 'claimed', 'resolved', 'handed_off')),
    agent_id            TEXT REFERENCES members (id) ON DELETE SET NULL,
    reason              TEXT CHECK (reason IN ('explicit_request', 'frustration', 'cannot_resolve')),
    summary             TEXT,
    last_seq            BIGINT NOT NULL DEFAULT 0,   -- seq of the newest message
    unread              BIGINT NOT NULL DEFAULT 0,   -- visitor messages since the team last replied
    escalated_at        BIGINT,
    last_message_at     BIGINT NOT NULL,
    created_at          BIGINT NOT NULL,
    CHECK ((state = 'claimed') = (agent_id IS NOT NULL))
);
CREATE INDEX conversations_queue ON conversations (workspace_id, state, escalated_at);
CREATE INDEX conversations_recent ON conversations (workspace_id, last_message_at);

CREATE TABLE messages (
    conversation_id  TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    seq              BIGINT NOT NULL,
    id               TEXT NOT NULL UNIQUE,
    author_kind      TEXT NOT NULL CHECK (author_kind IN ('visitor', 'bot', 'agent', 'system')),
    author_id        TEXT,            -- the member, for agent messages
    author_name      TEXT,
    text             TEXT NOT NULL,
    client_id        TEXT,            -- sender's idempotency key
    created_at       BIGINT NOT NULL,
    PRIMARY KEY (conversation_id, seq)
);
CREATE UNIQUE INDEX messages_client_id ON messages (conversation_id, client_id) WHERE client_id IS NOT NULL;

-- Private to the team. Kept apart from `messages` so no visitor query can ever read one.
CREATE TABLE notes (
    id               TEXT PRIMARY KEY,
    conversation_id  TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    author_id        TEXT NOT NULL,
    author_name      TEXT NOT NULL,
    text             TEXT NOT NULL,
    created_at       BIGINT NOT NULL
);
CREATE INDEX notes_conversation ON notes (conversation_id, created_at);

CREATE TABLE conversation_audit (
    id               TEXT PRIMARY KEY,
    conversation_id  TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    from_state       TEXT NOT NULL,
    to_state         TEXT NOT NULL,
    actor            TEXT NOT NULL,   -- 'visitor', 'bot', or a member id
    created_at       BIGINT NOT NULL
);
CREATE INDEX conversation_audit_conversation ON conversation_audit (conversation_id, created_at);

CREATE TABLE sessions (
    id          TEXT PRIMARY KEY,
    member_id   TEXT REFERENCES members (id) ON DELETE CASCADE,
    data        TEXT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX sessions_member ON sessions (member_id);
CREATE INDEX sessions_expiry ON sessions (expires_at);
