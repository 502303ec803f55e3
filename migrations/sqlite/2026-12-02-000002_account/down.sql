DROP TABLE blocks;
ALTER TABLE room_members DROP COLUMN marked_unread;
ALTER TABLE room_members DROP COLUMN muted;
ALTER TABLE sessions DROP COLUMN user_agent;
ALTER TABLE sessions DROP COLUMN last_used_at;
