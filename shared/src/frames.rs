//! Websocket frames: one JSON object per text frame, tagged by `"type"`.

use crate::ids::{AttachmentId, RoomId, UserId};
use crate::types::{ErrorCode, Message, Room, User};
use serde::{Deserialize, Serialize};

/// Largest text frame either side may send (64 KiB); larger ones close the socket with 1009.
pub const MAX_FRAME_BYTES: usize = 64 * 1024;
/// A client sends at most one `typing` per this many milliseconds.
pub const TYPING_INTERVAL_MS: u64 = 3_000;

/// Client → server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientFrame {
    Auth {
        token: String,
    },
    Send {
        room_id: RoomId,
        /// May be empty (or left out) when the message carries attachments.
        #[serde(default)]
        body: String,
        client_id: String,
        /// v1.1: the `seq` of the message of the same room this one answers.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reply_to: Option<i64>,
        /// v1.1: uploads of the sender's own, in display order.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        attachments: Vec<AttachmentId>,
    },
    Read {
        room_id: RoomId,
        seq: i64,
    },
    Typing {
        room_id: RoomId,
    },
    Ping,
}

/// Server → client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame {
    /// The socket is authenticated; events flow from here on.
    Ready {
        user: User,
    },
    /// The frame `send` with this `client_id` is durably stored as `message`.
    Ack {
        client_id: String,
        message: Message,
    },
    Message {
        message: Message,
    },
    Read {
        room_id: RoomId,
        user_id: UserId,
        seq: i64,
    },
    Typing {
        room_id: RoomId,
        user_id: UserId,
    },
    Presence {
        user_id: UserId,
        online: bool,
    },
    /// A room that now includes you.
    Room {
        room: Room,
    },
    /// A stored message changed (edit, deletion, reaction): the whole message with its new
    /// `rev`. Clients keep the version with the higher `rev`.
    MessageUpdate {
        message: Message,
    },
    /// v1.1: the caller's view of a room changed (muted, marked unread, read elsewhere).
    RoomUpdate {
        room: Room,
    },
    /// v1.1: someone who shares a room with you (or you) changed their profile.
    User {
        user: User,
    },
    Error {
        code: ErrorCode,
        message: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        client_id: Option<String>,
    },
    Pong,
}

impl ServerFrame {
    pub fn error(code: ErrorCode, message: impl Into<String>, client_id: Option<String>) -> Self {
        ServerFrame::Error {
            code,
            message: message.into(),
            client_id,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::MessageId;
    use crate::types::{Attachment, Reaction, ReplyRef};
    use chrono::{TimeZone, Utc};
    use serde_json::{json, Value};

    fn user() -> User {
        User {
            id: UserId(7),
            username: "alice".into(),
            display_name: "Alice".into(),
            is_admin: false,
            online: true,
        }
    }

    fn message() -> Message {
        Message {
            id: MessageId(11),
            room_id: RoomId(3),
            seq: 5,
            sender_id: UserId(7),
            body: "hi <b>".into(),
            client_id: "c-1".into(),
            deleted: false,
            rev: 9,
            edited_at: None,
            deleted_by: None,
            reply_to: Some(ReplyRef {
                seq: 2,
                sender_id: UserId(8),
                excerpt: "earlier".into(),
                deleted: false,
            }),
            reactions: vec![Reaction {
                emoji: "👍".into(),
                count: 1,
                user_ids: vec![UserId(8)],
            }],
            attachments: vec![Attachment {
                id: AttachmentId(4),
                name: "cat.png".into(),
                content_type: "image/png".into(),
                size: 1234,
                width: Some(640),
                height: Some(480),
                url: "/api/attachments/4/original?exp=1&sig=s".into(),
                thumbnail_url: Some("/api/attachments/4/thumbnail?exp=1&sig=t".into()),
            }],
            created_at: Utc
                .with_ymd_and_hms(2026, 11, 25, 10, 0, 0)
                .single()
                .expect("valid time")
                + chrono::Duration::milliseconds(123),
        }
    }

    fn message_json() -> Value {
        json!({"id": 11, "room_id": 3, "seq": 5, "sender_id": 7, "body": "hi <b>",
               "client_id": "c-1", "created_at": "2026-11-25T10:00:00.123Z", "deleted": false,
               "rev": 9, "edited_at": null, "deleted_by": null,
               "reply_to": {"seq": 2, "sender_id": 8, "excerpt": "earlier", "deleted": false},
               "reactions": [{"emoji": "👍", "count": 1, "user_ids": [8]}],
               "attachments": [{"id": 4, "name": "cat.png", "content_type": "image/png",
                                "size": 1234, "width": 640, "height": 480,
                                "url": "/api/attachments/4/original?exp=1&sig=s",
                                "thumbnail_url": "/api/attachments/4/thumbnail?exp=1&sig=t"}]})
    }

    fn user_json() -> Value {
        json!({"id": 7, "username": "alice", "display_name": "Alice", "is_admin": false, "online": true})
    }

    fn assert_server_frame(frame: ServerFrame, expected: Value) {
        assert_eq!(serde_json::to_value(&frame).unwrap(), expected);
        let back: ServerFrame = serde_json::from_value(expected).unwrap();
        assert_eq!(back, frame);
    }

    fn assert_client_frame(frame: ClientFrame, expected: Value) {
        assert_eq!(serde_json::to_value(&frame).unwrap(), expected);
        let back: ClientFrame = serde_json::from_value(expected).unwrap();
        assert_eq!(back, frame);
    }

    #[test]
    fn client_frames_have_the_exact_json_of_the_contract() {
        assert_client_frame(
            ClientFrame::Auth { token: "t".into() },
            json!({"type": "auth", "token": "t"}),
        );
        assert_client_frame(
            ClientFrame::Send {
                room_id: RoomId(3),
                body: "hi".into(),
                client_id: "c".into(),
                reply_to: None,
                attachments: Vec::new(),
            },
            json!({"type": "send", "room_id": 3, "body": "hi", "client_id": "c"}),
        );
        assert_client_frame(
            ClientFrame::Send {
                room_id: RoomId(3),
                body: String::new(),
                client_id: "c".into(),
                reply_to: None,
                attachments: vec![AttachmentId(5), AttachmentId(4)],
            },
            json!({"type": "send", "room_id": 3, "body": "", "client_id": "c", "attachments": [5, 4]}),
        );
        assert_client_frame(
            ClientFrame::Send {
                room_id: RoomId(3),
                body: "hi".into(),
                client_id: "c".into(),
                reply_to: Some(2),
                attachments: Vec::new(),
            },
            json!({"type": "send", "room_id": 3, "body": "hi", "client_id": "c", "reply_to": 2}),
        );
        assert_client_frame(
            ClientFrame::Read {
                room_id: RoomId(3),
                seq: 4,
            },
            json!({"type": "read", "room_id": 3, "seq": 4}),
        );
        assert_client_frame(
            ClientFrame::Typing { room_id: RoomId(3) },
            json!({"type": "typing", "room_id": 3}),
        );
        assert_client_frame(ClientFrame::Ping, json!({"type": "ping"}));
    }

    #[test]
    fn server_frames_have_the_exact_json_of_the_contract() {
        assert_server_frame(
            ServerFrame::Ready { user: user() },
            json!({"type": "ready", "user": user_json()}),
        );
        assert_server_frame(
            ServerFrame::Ack {
                client_id: "c-1".into(),
                message: message(),
            },
            json!({"type": "ack", "client_id": "c-1", "message": message_json()}),
        );
        assert_server_frame(
            ServerFrame::Message { message: message() },
            json!({"type": "message", "message": message_json()}),
        );
        assert_server_frame(
            ServerFrame::Read {
                room_id: RoomId(3),
                user_id: UserId(7),
                seq: 5,
            },
            json!({"type": "read", "room_id": 3, "user_id": 7, "seq": 5}),
        );
        assert_server_frame(
            ServerFrame::Typing {
                room_id: RoomId(3),
                user_id: UserId(7),
            },
            json!({"type": "typing", "room_id": 3, "user_id": 7}),
        );
        assert_server_frame(
            ServerFrame::Presence {
                user_id: UserId(7),
                online: false,
            },
            json!({"type": "presence", "user_id": 7, "online": false}),
        );
        let room = Room {
            id: RoomId(3),
            peer: user(),
            last_message: Some(message()),
            last_seq: 5,
            last_read_seq: 2,
            unread: 3,
            peer_last_read_seq: 5,
            last_activity_at: message().created_at,
            last_rev: 9,
            muted: false,
            marked_unread: true,
            blocked: false,
        };
        assert_server_frame(
            ServerFrame::Room { room },
            json!({"type": "room", "room": {"id": 3, "peer": user_json(), "last_message": message_json(),
                   "last_seq": 5, "last_read_seq": 2, "unread": 3, "peer_last_read_seq": 5,
                   "last_activity_at": "2026-11-25T10:00:00.123Z", "last_rev": 9,
                   "muted": false, "marked_unread": true, "blocked": false}}),
        );
        assert_server_frame(
            ServerFrame::error(ErrorCode::RateLimited, "slow down", Some("c-1".into())),
            json!({"type": "error", "code": "rate_limited", "message": "slow down", "client_id": "c-1"}),
        );
        assert_server_frame(
            ServerFrame::error(ErrorCode::BadRequest, "bad frame", None),
            json!({"type": "error", "code": "bad_request", "message": "bad frame"}),
        );
        assert_server_frame(ServerFrame::Pong, json!({"type": "pong"}));
        assert_server_frame(
            ServerFrame::MessageUpdate { message: message() },
            json!({"type": "message_update", "message": message_json()}),
        );
    }

    #[test]
    fn unknown_frame_types_and_missing_fields_are_rejected() {
        assert!(serde_json::from_str::<ClientFrame>(r#"{"type":"shout"}"#).is_err());
        assert!(serde_json::from_str::<ClientFrame>(r#"{"type":"send","room_id":1}"#).is_err());
        assert!(
            serde_json::from_str::<ClientFrame>(r#"{"type":"read","room_id":"x","seq":1}"#)
                .is_err()
        );
        assert!(serde_json::from_str::<ClientFrame>(r#"{"room_id":1}"#).is_err());
    }

    #[test]
    fn unknown_error_codes_from_a_newer_server_still_parse() {
        let frame: ServerFrame =
            serde_json::from_str(r#"{"type":"error","code":"brand_new","message":"m"}"#).unwrap();
        assert_eq!(
            frame,
            ServerFrame::error(ErrorCode::Unknown, "m", None),
            "clients must not break on new codes"
        );
    }
}
