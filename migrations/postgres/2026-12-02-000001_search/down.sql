DROP TABLE message_bigrams;
DROP INDEX messages_search_trgm;
ALTER TABLE messages DROP COLUMN search_text;
