//! Row shapes of each table and their conversion to the API's types.

use super::schema::{
    audit_log, message_revisions, messages, reactions, room_members, rooms, sessions, users,
};
use super::to_utc;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use shared::{Attachment, DeletedBy, Message, MessageId, Reaction, ReplyRef, RoomId, User, UserId};

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = users)]
pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub password_hash: String,
    pub is_admin: bool,
    pub disabled: bool,
    pub created_at: NaiveDateTime,
}

impl UserRow {
    /// The API view; `online` comes from the fan-out, which the database does not know.
    pub fn to_user(&self, online: bool) -> User {
        User {
            id: UserId(self.id),
            username: self.username.clone(),
            display_name: self.display_name.clone(),
            is_admin: self.is_admin,
            online,
        }
    }
}

#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
pub struct NewUser<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    pub password_hash: &'a str,
    pub is_admin: bool,
    pub disabled: bool,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = sessions)]
pub struct NewSession<'a> {
    pub user_id: i64,
    pub token_hash: &'a str,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub last_used_at: Option<NaiveDateTime>,
    pub user_agent: &'a str,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = rooms)]
pub struct RoomRow {
    pub id: i64,
    pub user_lo: i64,
    pub user_hi: i64,
    pub last_seq: i64,
    pub last_activity_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
    pub last_rev: i64,
}

impl RoomRow {
    /// The member that is not `me`.
    pub fn peer_of(&self, me: i64) -> i64 {
        if self.user_lo == me {
            self.user_hi
        } else {
            self.user_lo
        }
    }
}

#[derive(Debug, Insertable)]
#[diesel(table_name = rooms)]
pub struct NewRoom {
    pub user_lo: i64,
    pub user_hi: i64,
    pub last_seq: i64,
    pub last_activity_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
    pub last_rev: i64,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = room_members)]
pub struct NewRoomMember {
    pub room_id: i64,
    pub user_id: i64,
    pub last_read_seq: i64,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = messages)]
pub struct MessageRow {
    pub id: i64,
    pub room_id: i64,
    pub seq: i64,
    pub sender_id: i64,
    pub body: String,
    pub client_id: String,
    pub created_at: NaiveDateTime,
    pub deleted: bool,
    pub rev: i64,
    pub edited_at: Option<NaiveDateTime>,
    pub deleted_by: Option<String>,
    pub reply_to_seq: Option<i64>,
}

/// `messages.deleted_by` as stored.
pub const DELETED_BY_SENDER: &str = "sender";
pub const DELETED_BY_ADMIN: &str = "admin";

impl MessageRow {
    /// The API view, given what lives in other rows: the answered message, the reactions and
    /// the attachments (see `domain::message_views`, which loads them for many messages at
    /// once). A deleted message shows neither reactions nor attachments.
    pub fn into_message(
        self,
        reply_to: Option<ReplyRef>,
        reactions: Vec<Reaction>,
        attachments: Vec<Attachment>,
    ) -> Message {
        let deleted_by = match self.deleted_by.as_deref() {
            Some(DELETED_BY_SENDER) => Some(DeletedBy::Sender),
            Some(_) => Some(DeletedBy::Admin),
            // Deleted before deletions said by whom: only administrators could.
            None if self.deleted => Some(DeletedBy::Admin),
            None => None,
        };
        Message {
            id: MessageId(self.id),
            room_id: RoomId(self.room_id),
            seq: self.seq,
            sender_id: UserId(self.sender_id),
            body: self.body,
            client_id: self.client_id,
            created_at: to_utc(self.created_at),
            deleted: self.deleted,
            rev: self.rev,
            edited_at: self.edited_at.map(to_utc),
            deleted_by,
            reply_to,
            reactions: if self.deleted { Vec::new() } else { reactions },
            attachments: if self.deleted {
                Vec::new()
            } else {
                attachments
            },
        }
    }
}

// `None` is written as NULL (the column's default anyway), so the statement's text is the same
// for every row and diesel caches it by type instead of writing its SQL out again per message.
#[derive(Debug, Insertable)]
#[diesel(table_name = messages, treat_none_as_default_value = false)]
pub struct NewMessage<'a> {
    pub room_id: i64,
    pub seq: i64,
    pub sender_id: i64,
    pub body: &'a str,
    pub client_id: &'a str,
    pub created_at: NaiveDateTime,
    pub rev: i64,
    pub reply_to_seq: Option<i64>,
    /// See `domain::search::search_key`.
    pub search_text: String,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = reactions)]
pub struct NewReaction<'a> {
    pub message_id: i64,
    pub user_id: i64,
    pub emoji: &'a str,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = message_revisions)]
pub struct NewRevision<'a> {
    pub message_id: i64,
    pub body: &'a str,
    pub written_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = audit_log)]
pub struct NewAuditEntry<'a> {
    pub actor_id: Option<i64>,
    pub action: &'a str,
    pub target_type: &'a str,
    pub target_id: i64,
    pub detail: &'a str,
    pub created_at: NaiveDateTime,
}
