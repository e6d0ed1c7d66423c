-- What a chatbot knows and how it is told to behave.
--
-- Knowledge entries are question/answer pairs (`qa`: title = the question, body =
-- the answer) and articles (`article`: title and text). The brain indexes them per
-- chatbot and re-indexes when `chatbots.knowledge_revision` moves.
CREATE TABLE knowledge_entries (
    id          TEXT PRIMARY KEY,
    chatbot_id  TEXT NOT NULL REFERENCES chatbots (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL CHECK (kind IN ('qa', 'article')),
    title       TEXT NOT NULL,
    body        TEXT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX knowledge_entries_chatbot ON knowledge_entries (chatbot_id);

ALTER TABLE chatbots ADD COLUMN knowledge_revision BIGINT NOT NULL DEFAULT 0;
-- The admin's instructions to the AI. `self_serve_first` (0/1): offer the best
-- knowledge-base answer once before escalating an issue the bot cannot resolve.
-- `always_escalate` / `never_escalate`: phrases, one per line, that always hand the
-- chat to a person, or never do (a match of both: never wins).
-- `instructions`: free text, given to an OpenAI-compatible model as written.
ALTER TABLE chatbots ADD COLUMN self_serve_first INTEGER NOT NULL DEFAULT 0 CHECK (self_serve_first IN (0, 1));
ALTER TABLE chatbots ADD COLUMN always_escalate TEXT NOT NULL DEFAULT '';
ALTER TABLE chatbots ADD COLUMN never_escalate TEXT NOT NULL DEFAULT '';
ALTER TABLE chatbots ADD COLUMN instructions TEXT NOT NULL DEFAULT '';
