DROP TABLE message_revisions;
DROP TABLE reactions;
DROP INDEX messages_room_rev;
ALTER TABLE messages DROP COLUMN reply_to_seq;
ALTER TABLE messages DROP COLUMN deleted_by;
ALTER TABLE messages DROP COLUMN edited_at;
ALTER TABLE messages DROP COLUMN rev;
ALTER TABLE rooms DROP COLUMN last_rev;
