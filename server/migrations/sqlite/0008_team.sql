-- Settings → Team and Activity: when each member last signed in, and the
-- workspace's activity log: every team and settings change, who made it, when.
-- (Conversation transitions stay in `conversation_audit`; Activity reads both.)
ALTER TABLE members ADD COLUMN last_sign_in_at BIGINT;

CREATE TABLE activity (
    id            TEXT PRIMARY KEY,
    workspace_id  TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    chatbot_id    TEXT,           -- the chatbot a setting belongs to; NULL for team changes
    actor_id      TEXT NOT NULL,  -- no reference: a removed member's history stays
    actor_name    TEXT NOT NULL,
    action        TEXT NOT NULL,  -- 'member_added', 'role_changed', 'member_removed', ...
    detail        TEXT NOT NULL,  -- one sentence for people: "Made Sam Lee an admin"
    created_at    BIGINT NOT NULL
);
CREATE INDEX activity_recent ON activity (workspace_id, created_at);
