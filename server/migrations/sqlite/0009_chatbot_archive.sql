-- Settings → General: an archived chatbot's widget says the chat is closed and
-- starts nothing; its conversations stay in the Inbox. NULL: in service.
ALTER TABLE chatbots ADD COLUMN archived_at BIGINT;
