DROP TABLE message_bigrams;
DROP TABLE message_search;
ALTER TABLE messages DROP COLUMN search_text;
