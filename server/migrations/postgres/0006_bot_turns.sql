-- The AI's turn is owed to a visitor from the moment their message is stored.
-- `bot_due` counts the turns owed: raised in the visitor message's transaction,
-- lowered in the transaction that stores the bot's reply (or finds nothing to say).
-- A turn cut short by a crash is still owed, and runs on the next start or on
-- another instance. `bot_lease_until` (ms): the instance running a turn holds it
-- until then; after that, the instance counts as gone and another may run it.
ALTER TABLE conversations ADD COLUMN bot_due BIGINT NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN bot_lease_until BIGINT;
CREATE INDEX conversations_bot_due ON conversations (bot_due) WHERE bot_due > 0;

-- Where the AI's reading of the conversation starts: the seq of the newest message
-- when a person last handed the chat back. What the visitor said before the team
-- helped is not held against them afterwards.
ALTER TABLE conversations ADD COLUMN handed_back_seq BIGINT NOT NULL DEFAULT 0;
