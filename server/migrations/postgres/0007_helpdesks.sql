-- Help-desk mode. A chatbot's connected desks: the Connect form's values sealed
-- with the server key (bound to this chatbot and desk), never readable back by any
-- API; what the card shows (the account and the last four characters of the main
-- secret) is stored beside them in the clear.
CREATE TABLE helpdesk_connections (
    chatbot_id    TEXT NOT NULL REFERENCES chatbots (id) ON DELETE CASCADE,
    desk          TEXT NOT NULL CHECK (desk IN ('zendesk', 'freshdesk', 'intercom', 'hubspot', 'zoho_desk')),
    account       TEXT NOT NULL,
    secret_hint   TEXT,
    sealed        TEXT NOT NULL,
    connected_by  TEXT NOT NULL,
    connected_at  BIGINT NOT NULL,
    PRIMARY KEY (chatbot_id, desk)
);

-- One row per escalation routed to a desk, written in the escalation's own
-- transaction. `id` is the escalation id: the idempotency key sent to the desk and
-- recorded on the ticket. A dispatcher takes a due row by moving `lease_until`
-- forward with a conditional update (one instance wins), sends it, and records the
-- ticket, the next attempt, or the failure.
CREATE TABLE helpdesk_outbox (
    id               TEXT PRIMARY KEY,
    conversation_id  TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    workspace_id     TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    chatbot_id       TEXT NOT NULL REFERENCES chatbots (id) ON DELETE CASCADE,
    desk             TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
    attempts         BIGINT NOT NULL DEFAULT 0,
    next_attempt_at  BIGINT NOT NULL,
    lease_until      BIGINT NOT NULL DEFAULT 0,
    last_error       TEXT,
    ticket_id        TEXT,
    ticket_url       TEXT,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);
CREATE INDEX helpdesk_outbox_due ON helpdesk_outbox (status, next_attempt_at);
CREATE INDEX helpdesk_outbox_conversation ON helpdesk_outbox (conversation_id);
CREATE INDEX helpdesk_outbox_chatbot ON helpdesk_outbox (chatbot_id, desk, updated_at);
