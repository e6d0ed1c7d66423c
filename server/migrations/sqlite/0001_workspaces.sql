-- Tenants, their team members and their chatbots.
CREATE TABLE workspaces (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE members (
    id             TEXT PRIMARY KEY,
    workspace_id   TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    email          TEXT NOT NULL UNIQUE,  -- stored lower-cased; sign-in is by email alone
    name           TEXT NOT NULL,
    role           TEXT NOT NULL CHECK (role IN ('admin', 'agent')),
    password_hash  TEXT NOT NULL,         -- argon2id PHC string
    created_at     BIGINT NOT NULL
);
CREATE INDEX members_workspace ON members (workspace_id);

CREATE TABLE chatbots (
    id            TEXT PRIMARY KEY,
    workspace_id  TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    public_id     TEXT NOT NULL UNIQUE,   -- the `bot_id` a website's embed tag names
    name          TEXT NOT NULL,
    greeting      TEXT NOT NULL,
    live_handoff  INTEGER NOT NULL CHECK (live_handoff IN (0, 1)),  -- 0/1: sqlx's Any driver has no SQLite booleans
    created_at    BIGINT NOT NULL
);
CREATE INDEX chatbots_workspace ON chatbots (workspace_id);
