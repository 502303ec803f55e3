//! REST bodies and the resources they carry.

use crate::ids::{AttachmentId, MessageId, RoomId, UserId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Most messages a page of history may hold (`limit` is 1..=this).
pub const MAX_PAGE_LIMIT: i64 = 200;
/// Page size when `limit` is not given.
pub const DEFAULT_PAGE_LIMIT: i64 = 50;
/// Most users a search returns.
pub const MAX_USER_SEARCH_RESULTS: i64 = 20;
/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "session";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    pub is_admin: bool,
    pub online: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub id: MessageId,
    pub room_id: RoomId,
    pub seq: i64,
    pub sender_id: UserId,
    pub body: String,
    pub client_id: String,
    pub created_at: DateTime<Utc>,
    /// Deleted by its sender or an administrator; `body` is then a tombstone text.
    #[serde(default)]
    pub deleted: bool,
    /// v1.1: the room-wide revision of this message's latest change (keep the higher one).
    #[serde(default)]
    pub rev: i64,
    /// v1.1: when its sender last edited it.
    #[serde(default)]
    pub edited_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub deleted_by: Option<DeletedBy>,
    /// v1.1: the message of the same room this one answers.
    #[serde(default)]
    pub reply_to: Option<ReplyRef>,
    /// v1.1: in the order each emoji was first used on this message.
    #[serde(default)]
    pub reactions: Vec<Reaction>,
    /// v1.1: files sent with the message, in the order they were given; none once deleted.
    #[serde(default)]
    pub attachments: Vec<Attachment>,
}

/// v1.1: an uploaded file as its room's members (or its uploader, before sending) see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    pub id: AttachmentId,
    pub name: String,
    /// The type the server decided from the bytes.
    pub content_type: String,
    pub size: i64,
    /// Images only: as displayed (EXIF orientation applied).
    pub width: Option<i64>,
    pub height: Option<i64>,
    /// Capability links: work without a session, for a limited time (see api.md).
    pub url: String,
    pub thumbnail_url: Option<String>,
}

/// `GET /api/uploads/limits` (an addition to api.md): what a client checks before uploading.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadLimits {
    pub max_bytes: u64,
    pub per_minute: u32,
    pub max_attachments_per_message: usize,
}

/// Most attachments one message may carry.
pub const MAX_ATTACHMENTS_PER_MESSAGE: usize = 10;
/// Longest attachment name, in bytes.
pub const MAX_ATTACHMENT_NAME_BYTES: usize = 255;

/// Who deleted a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeletedBy {
    Sender,
    Admin,
}

/// The message a reply answers, as it is now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyRef {
    pub seq: i64,
    pub sender_id: UserId,
    /// The first `REPLY_EXCERPT_CHARS` characters of its current body; empty once deleted.
    pub excerpt: String,
    pub deleted: bool,
}

/// One emoji on a message and who put it there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reaction {
    pub emoji: String,
    pub count: i64,
    pub user_ids: Vec<UserId>,
}

/// Text that replaces the body of a message an administrator deleted.
pub const TOMBSTONE_BODY: &str = "This message was deleted by an administrator.";
/// Text that replaces the body of a message its sender deleted (v1 clients show it as is).
pub const SENDER_DELETED_BODY: &str = "This message was deleted.";
/// Characters of the original a reply's excerpt holds.
pub const REPLY_EXCERPT_CHARS: usize = 100;
/// Most distinct emoji one message may carry.
pub const MAX_REACTIONS_PER_MESSAGE: usize = 20;

/// A conversation as one of its two members sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Room {
    pub id: RoomId,
    pub peer: User,
    pub last_message: Option<Message>,
    pub last_seq: i64,
    pub last_read_seq: i64,
    /// Messages from the peer with `seq > last_read_seq`.
    pub unread: i64,
    /// Added to v1: how far the peer has read, so a client can show "seen" after a reload.
    #[serde(default)]
    pub peer_last_read_seq: i64,
    /// Added to v1: time of the last message, or of the room's creation; the list's sort key.
    pub last_activity_at: DateTime<Utc>,
    /// v1.1: the room's highest `rev`; `?changed_after=` it returns nothing.
    #[serde(default)]
    pub last_rev: i64,
    /// v1.1, the caller's view: no notifications from this room.
    #[serde(default)]
    pub muted: bool,
    /// v1.1, the caller's view: shown as unread until read to its `last_seq`.
    #[serde(default)]
    pub marked_unread: bool,
    /// Added to v1.1: the caller blocked the peer (sends are refused until they unblock).
    #[serde(default)]
    pub blocked: bool,
}

/// Every non-2xx answer: `{"error": {"code", "message"}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorResponse {
    pub error: ApiError,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
}

/// Machine-readable error codes, shared by HTTP answers and websocket `error` frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    BadRequest,
    Validation,
    Unauthorized,
    Forbidden,
    NotFound,
    Conflict,
    PayloadTooLarge,
    RateLimited,
    Unavailable,
    Internal,
    /// A code from a newer server; clients treat it as a generic failure.
    #[serde(other)]
    Unknown,
}

impl ErrorCode {
    /// The HTTP status that carries this code.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::BadRequest => 400,
            ErrorCode::Validation => 422,
            ErrorCode::Unauthorized => 401,
            ErrorCode::Forbidden => 403,
            ErrorCode::NotFound => 404,
            ErrorCode::Conflict => 409,
            ErrorCode::PayloadTooLarge => 413,
            ErrorCode::RateLimited => 429,
            ErrorCode::Unavailable => 503,
            ErrorCode::Internal | ErrorCode::Unknown => 500,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisterRequest {
    pub username: String,
    pub password: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthResponse {
    pub user: User,
    pub token: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateRoom {
    /// The username of the other member.
    pub peer: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomsResponse {
    pub rooms: Vec<Room>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendMessage {
    /// May be empty (or left out) when the message carries attachments.
    #[serde(default)]
    pub body: String,
    pub client_id: String,
    /// v1.1: the `seq` of the message of the same room this one answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<i64>,
    /// v1.1: uploads of the sender's own, in display order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<AttachmentId>,
}

/// `PATCH /api/rooms/{id}/messages/{seq}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EditMessage {
    pub body: String,
}

/// One text a message had, for administrators.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revision {
    pub body: String,
    pub at: DateTime<Utc>,
}

/// `GET /api/admin/messages/{id}/revisions`: oldest first, the current text last.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevisionsResponse {
    pub revisions: Vec<Revision>,
    /// v1.1: the message's files, kept after its sender deleted it (administrators' links).
    #[serde(default)]
    pub attachments: Vec<Attachment>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarkRead {
    pub seq: i64,
}

/// Query of `GET /api/rooms/{id}/messages`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessagesQuery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
    /// v1.1: the page holding this `seq`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub around: Option<i64>,
    /// v1.1: messages whose `rev` is greater, ascending by `rev`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changed_after: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessagesResponse {
    /// Ascending by `seq` (by `rev` for `changed_after`).
    pub messages: Vec<Message>,
    /// More messages lie beyond this page in the direction asked (for `around`: either way).
    pub has_more: bool,
    /// v1.1, `around` only: more lie before the first message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has_more_before: Option<bool>,
    /// v1.1, `around` only: more lie after the last message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has_more_after: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsersResponse {
    pub users: Vec<User>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthResponse {
    pub status: String,
    pub db: String,
    pub pubsub: String,
}

/// `GET /api/admin/users`: a user with what an administrator needs to know.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminUser {
    #[serde(flatten)]
    pub user: User,
    pub created_at: DateTime<Utc>,
    pub disabled: bool,
    pub message_count: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminUsersResponse {
    pub users: Vec<AdminUser>,
}

/// `GET /api/admin/rooms`: a room with both members.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminRoom {
    pub id: RoomId,
    pub members: Vec<User>,
    pub last_seq: i64,
    pub last_message_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminRoomsResponse {
    pub rooms: Vec<AdminRoom>,
}

/// One administrative action: who did what to which target, when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: i64,
    /// None when the action came from the command line.
    pub actor_id: Option<UserId>,
    pub actor_username: Option<String>,
    /// `delete_message`, `disable_user`, `enable_user`, `create_admin`, `promote_admin`.
    pub action: String,
    /// `message` or `user`.
    pub target_type: String,
    pub target_id: i64,
    pub detail: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditResponse {
    pub entries: Vec<AuditEntry>,
}

/// Shortest and longest search text, in characters after trimming.
pub const SEARCH_MIN_CHARS: usize = 2;
pub const SEARCH_MAX_CHARS: usize = 200;
/// Results a search page holds when `limit` is not given, and at most.
pub const SEARCH_DEFAULT_LIMIT: i64 = 20;
pub const SEARCH_MAX_LIMIT: i64 = 50;

/// Query of `GET /api/search`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchQuery {
    pub q: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room_id: Option<RoomId>,
    /// A message id: results older than it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<MessageId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchResponse {
    /// Newest first.
    pub results: Vec<Message>,
    pub has_more: bool,
}

/// `PATCH /api/me`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateMe {
    pub display_name: String,
}

/// `POST /api/me/password`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangePassword {
    pub current_password: String,
    pub new_password: String,
}

/// One place the user is signed in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    pub id: i64,
    pub created_at: DateTime<Utc>,
    /// Within a minute: it is updated at most once a minute.
    pub last_used_at: DateTime<Utc>,
    pub user_agent: String,
    /// The session of this request.
    pub current: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionsResponse {
    pub sessions: Vec<SessionInfo>,
}

/// `PATCH /api/rooms/{id}`: the caller's view of a room; absent fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateRoom {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub muted: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marked_unread: Option<bool>,
}

/// One room of `GET /api/me/export`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportedRoom {
    pub room: Room,
    /// In `seq` order; deleted ones as tombstones.
    pub messages: Vec<Message>,
}

/// `GET /api/me/export`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Export {
    pub user: User,
    pub rooms: Vec<ExportedRoom>,
}
