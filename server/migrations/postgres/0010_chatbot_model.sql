-- Settings → AI model: which AI answers a chatbot. 'default': the server's
-- BATON_BRAIN; 'builtin'; 'openai': the endpoint below. The key is sealed with the
-- server key like help-desk credentials (NULL: none); its hint is its last four
-- characters. Base URL and model are kept when another kind is chosen.
ALTER TABLE chatbots ADD COLUMN model_kind TEXT NOT NULL DEFAULT 'default';
ALTER TABLE chatbots ADD COLUMN model_base_url TEXT NOT NULL DEFAULT '';
ALTER TABLE chatbots ADD COLUMN model_name TEXT NOT NULL DEFAULT '';
ALTER TABLE chatbots ADD COLUMN model_key_sealed TEXT;
ALTER TABLE chatbots ADD COLUMN model_key_hint TEXT;
