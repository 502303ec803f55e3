DROP INDEX messages_sender_id;
DROP TABLE audit_log;
ALTER TABLE messages DROP COLUMN deleted;
