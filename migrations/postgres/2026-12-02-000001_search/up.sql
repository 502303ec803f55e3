-- Search (api.md 1.1). `search_text` is the body NFC-normalised and lower-cased by the server
-- (NULL once deleted, and until the server indexes rows that predate this migration).
CREATE EXTENSION IF NOT EXISTS pg_trgm;
ALTER TABLE messages ADD COLUMN search_text TEXT;

-- Substrings of 3+ characters: a trigram GIN index, any script.
CREATE INDEX messages_search_trgm ON messages USING gin (search_text gin_trgm_ops);

-- Two-character words of scripts written without spaces (Hangul, Han, Kana), which trigrams
-- cannot serve: each such bigram of a message, newest message first per gram.
CREATE TABLE message_bigrams (
    gram TEXT NOT NULL,
    message_id BIGINT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    PRIMARY KEY (gram, message_id)
);
CREATE INDEX message_bigrams_message_id ON message_bigrams(message_id);
