-- Message lifecycle (api.md 1.1): every change in a room takes the room's next rev.
-- Existing messages were each one change (their creation), so rev = seq for them.
ALTER TABLE rooms ADD COLUMN last_rev BIGINT NOT NULL DEFAULT 0;
UPDATE rooms SET last_rev = last_seq;

ALTER TABLE messages ADD COLUMN rev BIGINT NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN edited_at TIMESTAMP;
-- NULL, 'sender' or 'admin'.
ALTER TABLE messages ADD COLUMN deleted_by TEXT;
-- The seq (same room) of the message this one answers.
ALTER TABLE messages ADD COLUMN reply_to_seq BIGINT;
UPDATE messages SET rev = seq;
UPDATE messages SET deleted_by = 'admin' WHERE deleted;
-- One rev names one change of one message: catch-up reads by it.
CREATE UNIQUE INDEX messages_room_rev ON messages(room_id, rev);

CREATE TABLE reactions (
    -- Its order is the order in which emoji were first used on a message.
    id INTEGER PRIMARY KEY,
    message_id BIGINT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    emoji TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (message_id, user_id, emoji)
);

-- Earlier texts of messages their sender edited or deleted, for administrators.
CREATE TABLE message_revisions (
    id INTEGER PRIMARY KEY,
    message_id BIGINT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    body TEXT NOT NULL,
    -- When this text was written (sent or edited).
    written_at TIMESTAMP NOT NULL
);
CREATE INDEX message_revisions_message_id ON message_revisions(message_id);
