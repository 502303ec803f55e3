DROP TABLE message_search;
CREATE VIRTUAL TABLE message_search USING fts5(
    search_text,
    content = '',
    contentless_delete = 1,
    tokenize = 'trigram case_sensitive 1'
);
INSERT INTO message_search (rowid, search_text)
SELECT id, search_text FROM messages WHERE search_text IS NOT NULL;
