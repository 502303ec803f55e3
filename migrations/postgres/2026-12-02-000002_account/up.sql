-- Account and conversation controls (api.md 1.1).
-- When a session was last used (updated at most once a minute) and from which browser.
ALTER TABLE sessions ADD COLUMN last_used_at TIMESTAMP;
ALTER TABLE sessions ADD COLUMN user_agent TEXT NOT NULL DEFAULT '';
UPDATE sessions SET last_used_at = created_at;

-- Each member's own view of a room.
ALTER TABLE room_members ADD COLUMN muted BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE room_members ADD COLUMN marked_unread BOOLEAN NOT NULL DEFAULT FALSE;

-- While a row exists, blocker and blocked cannot message each other.
CREATE TABLE blocks (
    blocker_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    blocked_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (blocker_id, blocked_id)
);
CREATE INDEX blocks_blocked_id ON blocks(blocked_id);
