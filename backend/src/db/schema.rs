// Hand-checked, portable across SQLite and PostgreSQL (see migrations/*/).

diesel::table! {
    users (id) {
        id -> BigInt,
        username -> Text,
        display_name -> Text,
        password_hash -> Text,
        is_admin -> Bool,
        disabled -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    sessions (id) {
        id -> BigInt,
        user_id -> BigInt,
        token_hash -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
        user_agent -> Text,
    }
}

diesel::table! {
    rooms (id) {
        id -> BigInt,
        user_lo -> BigInt,
        user_hi -> BigInt,
        last_seq -> BigInt,
        last_activity_at -> Timestamp,
        created_at -> Timestamp,
        last_rev -> BigInt,
    }
}

diesel::table! {
    room_members (room_id, user_id) {
        room_id -> BigInt,
        user_id -> BigInt,
        last_read_seq -> BigInt,
        muted -> Bool,
        marked_unread -> Bool,
    }
}

diesel::table! {
    blocks (blocker_id, blocked_id) {
        blocker_id -> BigInt,
        blocked_id -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    messages (id) {
        id -> BigInt,
        room_id -> BigInt,
        seq -> BigInt,
        sender_id -> BigInt,
        body -> Text,
        client_id -> Text,
        created_at -> Timestamp,
        deleted -> Bool,
        rev -> BigInt,
        edited_at -> Nullable<Timestamp>,
        deleted_by -> Nullable<Text>,
        reply_to_seq -> Nullable<BigInt>,
        search_text -> Nullable<Text>,
    }
}

diesel::table! {
    message_bigrams (gram, message_id) {
        gram -> Text,
        message_id -> BigInt,
    }
}

diesel::table! {
    reactions (id) {
        id -> BigInt,
        message_id -> BigInt,
        user_id -> BigInt,
        emoji -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    message_revisions (id) {
        id -> BigInt,
        message_id -> BigInt,
        body -> Text,
        written_at -> Timestamp,
    }
}

diesel::table! {
    attachments (id) {
        id -> BigInt,
        uploader_id -> BigInt,
        name -> Text,
        content_type -> Text,
        size -> BigInt,
        width -> Nullable<BigInt>,
        height -> Nullable<BigInt>,
        object_key -> Text,
        thumbnail_key -> Nullable<Text>,
        link_key -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    message_attachments (attachment_id) {
        attachment_id -> BigInt,
        message_id -> BigInt,
        position -> Integer,
    }
}

diesel::table! {
    audit_log (id) {
        id -> BigInt,
        actor_id -> Nullable<BigInt>,
        action -> Text,
        target_type -> Text,
        target_id -> BigInt,
        detail -> Text,
        created_at -> Timestamp,
    }
}

diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(room_members -> rooms (room_id));
diesel::joinable!(room_members -> users (user_id));
diesel::joinable!(messages -> rooms (room_id));
diesel::joinable!(messages -> users (sender_id));
diesel::joinable!(audit_log -> users (actor_id));
diesel::joinable!(reactions -> messages (message_id));
diesel::joinable!(message_revisions -> messages (message_id));
diesel::joinable!(message_bigrams -> messages (message_id));
diesel::joinable!(attachments -> users (uploader_id));
diesel::joinable!(message_attachments -> attachments (attachment_id));
diesel::joinable!(message_attachments -> messages (message_id));

diesel::allow_tables_to_appear_in_same_query!(
    users,
    sessions,
    rooms,
    room_members,
    messages,
    audit_log,
    reactions,
    message_revisions,
    message_bigrams,
    blocks,
    attachments,
    message_attachments
);
