-- Search (api.md 1.1). `search_text` is the body NFC-normalised and lower-cased by the server
-- (NULL once deleted, and until the server indexes rows that predate this migration).
ALTER TABLE messages ADD COLUMN search_text TEXT;

-- Substrings of 3+ characters: an FTS5 trigram index (rowid = message id), any script.
CREATE VIRTUAL TABLE message_search USING fts5(
    search_text,
    content = '',
    contentless_delete = 1,
    tokenize = 'trigram case_sensitive 1'
);

-- Two-character words of scripts written without spaces (Hangul, Han, Kana), which trigrams
-- cannot serve: each such bigram of a message, newest message first per gram.
CREATE TABLE message_bigrams (
    gram TEXT NOT NULL,
    message_id BIGINT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    PRIMARY KEY (gram, message_id)
) WITHOUT ROWID;
CREATE INDEX message_bigrams_message_id ON message_bigrams(message_id);
