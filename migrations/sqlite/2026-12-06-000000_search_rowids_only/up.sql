-- The trigram index keeps which messages hold a trigram, not where (detail=none): a search
-- checks every candidate's stored text anyway (`instr`), so positions were never read, and
-- writing them was a quarter of the index's cost per message. Queries AND the key's trigrams.
DROP TABLE message_search;
CREATE VIRTUAL TABLE message_search USING fts5(
    search_text,
    content = '',
    contentless_delete = 1,
    detail = none,
    tokenize = 'trigram case_sensitive 1'
);
INSERT INTO message_search (rowid, search_text)
SELECT id, search_text FROM messages WHERE search_text IS NOT NULL;
