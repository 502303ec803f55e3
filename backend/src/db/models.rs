//! Row shapes of each table and their conversion to the API's types.

use super::schema::{audit_log, messages, room_members, rooms, sessions, users};
use super::to_utc;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use shared::{Message, MessageId, RoomId, User, UserId};

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
}

impl From<MessageRow> for Message {
    fn from(row: MessageRow) -> Self {
        Message {
            id: MessageId(row.id),
            room_id: RoomId(row.room_id),
            seq: row.seq,
            sender_id: UserId(row.sender_id),
            body: row.body,
            client_id: row.client_id,
            created_at: to_utc(row.created_at),
            deleted: row.deleted,
        }
    }
}

#[derive(Debug, Insertable)]
#[diesel(table_name = messages)]
pub struct NewMessage<'a> {
    pub room_id: i64,
    pub seq: i64,
    pub sender_id: i64,
    pub body: &'a str,
    pub client_id: &'a str,
    pub created_at: NaiveDateTime,
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
