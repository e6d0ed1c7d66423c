-- How a chatbot's widget looks and where it may be embedded.
--
-- `color`: the brand colour, `#rrggbb`. `launcher_position`: `right` or `left`
-- (bottom corner of the host page). `allowed_origins`: the websites that may frame
-- the widget, space-separated origins such as `https://www.acme.com`; `*` allows
-- any; empty allows only Baton's own origin. It becomes the widget page's
-- `Content-Security-Policy: frame-ancestors`.
ALTER TABLE chatbots ADD COLUMN color TEXT NOT NULL DEFAULT '#4338ca';
ALTER TABLE chatbots ADD COLUMN launcher_position TEXT NOT NULL DEFAULT 'right'
    CHECK (launcher_position IN ('right', 'left'));
ALTER TABLE chatbots ADD COLUMN allowed_origins TEXT NOT NULL DEFAULT '';
-- The demo chatbot is meant to be tried from anywhere.
UPDATE chatbots SET allowed_origins = '*' WHERE public_id = 'demo';

-- A bot message may ask the visitor for something; `email` makes the widget show an email input.
ALTER TABLE messages ADD COLUMN asks TEXT CHECK (asks IN ('email'));
