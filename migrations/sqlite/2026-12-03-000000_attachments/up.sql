-- Attachments (api.md 1.1). An upload is a row here once its object (and thumbnail) are
-- stored; sending it adds its row in message_attachments.
CREATE TABLE attachments (
    id INTEGER PRIMARY KEY,
    uploader_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    -- Decided from the bytes.
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    width BIGINT,
    height BIGINT,
    object_key TEXT NOT NULL UNIQUE,
    thumbnail_key TEXT UNIQUE,
    -- Signs this attachment's capability links (hex); replacing it ends every link issued.
    link_key TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX attachments_uploader_id ON attachments(uploader_id);
CREATE INDEX attachments_created_at ON attachments(created_at);

-- Which message holds an upload. The primary key makes "held by at most one message" a
-- unique violation, so two instances racing to send one upload cannot both win.
CREATE TABLE message_attachments (
    attachment_id BIGINT PRIMARY KEY REFERENCES attachments(id) ON DELETE CASCADE,
    message_id BIGINT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    position INTEGER NOT NULL
);
CREATE INDEX message_attachments_message_id ON message_attachments(message_id);
