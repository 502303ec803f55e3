//! Decoding websocket server frames in two steps: the `"type"` first, then the whole text
//! straight into that frame's fields.
//!
//! Why not `serde_json::from_str::<ServerFrame>`: serde reads an internally tagged enum by
//! buffering the object into its generic `Content` tree and deserializing each variant from
//! that, which compiles a second copy of every inner type's `Deserialize` (messages, rooms,
//! users, attachments) beside the one REST answers already use — about 20 KB of the gzipped
//! `.wasm`. Here every field is read by the same serde_json code as the REST answers, from
//! the same derives, so the two cannot disagree; the tests check this against the enum.

use serde::de::DeserializeOwned;
use serde::Deserialize;
use shared::{ErrorCode, Message, Room, RoomId, ServerFrame, User, UserId};

#[derive(Deserialize)]
struct Tag {
    #[serde(rename = "type")]
    kind: String,
}

/// The fields of every frame but `error` (whose `message` is a text, not a message): one
/// struct read by one instantiation of the parser, instead of one per frame type.
#[derive(Deserialize)]
struct Fields {
    user: Option<User>,
    message: Option<Message>,
    client_id: Option<String>,
    room: Option<Room>,
    room_id: Option<RoomId>,
    user_id: Option<UserId>,
    seq: Option<i64>,
    online: Option<bool>,
}

#[derive(Deserialize)]
struct ErrorFields {
    code: ErrorCode,
    message: String,
    #[serde(default)]
    client_id: Option<String>,
}

fn fields<T: DeserializeOwned>(text: &str) -> Option<T> {
    serde_json::from_str(text).ok()
}

/// The frame a text holds; `None` for one that is not JSON, lacks a field, or has a type this
/// client does not know (a newer server's: ignored, as before).
pub fn decode(text: &str) -> Option<ServerFrame> {
    let tag: Tag = fields(text)?;
    let kind = tag.kind.as_str();
    if kind == "error" {
        let f: ErrorFields = fields(text)?;
        return Some(ServerFrame::Error {
            code: f.code,
            message: f.message,
            client_id: f.client_id,
        });
    }
    if kind == "pong" {
        return Some(ServerFrame::Pong);
    }
    let f: Fields = fields(text)?;
    Some(match kind {
        "ready" => ServerFrame::Ready { user: f.user? },
        "ack" => ServerFrame::Ack {
            client_id: f.client_id?,
            message: f.message?,
        },
        "message" => ServerFrame::Message {
            message: f.message?,
        },
        "message_update" => ServerFrame::MessageUpdate {
            message: f.message?,
        },
        "read" => ServerFrame::Read {
            room_id: f.room_id?,
            user_id: f.user_id?,
            seq: f.seq?,
        },
        "typing" => ServerFrame::Typing {
            room_id: f.room_id?,
            user_id: f.user_id?,
        },
        "presence" => ServerFrame::Presence {
            user_id: f.user_id?,
            online: f.online?,
        },
        "room" => ServerFrame::Room { room: f.room? },
        "room_update" => ServerFrame::RoomUpdate { room: f.room? },
        "user" => ServerFrame::User { user: f.user? },
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const USER: &str = r#"{"id": 7, "username": "alice", "display_name": "Alice", "is_admin": false, "online": true}"#;

    fn message() -> String {
        r#"{"id": 11, "room_id": 3, "seq": 5, "sender_id": 7, "body": "hi \"there\" <b>",
            "client_id": "c-1", "created_at": "2026-11-25T10:00:00.123Z", "deleted": false,
            "rev": 9, "edited_at": null, "deleted_by": null,
            "reply_to": {"seq": 2, "sender_id": 8, "excerpt": "earlier", "deleted": false},
            "reactions": [{"emoji": "👍", "count": 1, "user_ids": [8]}],
            "attachments": [{"id": 4, "name": "cat.png", "content_type": "image/png",
                             "size": 1234, "width": 640, "height": 480,
                             "url": "/api/attachments/4/original?exp=1&sig=s",
                             "thumbnail_url": "/api/attachments/4/thumbnail?exp=1&sig=t"}]}"#
            .to_owned()
    }

    fn room() -> String {
        format!(
            r#"{{"id": 3, "peer": {USER}, "last_message": {}, "last_seq": 5, "last_read_seq": 4,
                "unread": 1, "peer_last_read_seq": 5, "last_activity_at": "2026-11-25T10:00:00Z",
                "last_rev": 9, "muted": true, "marked_unread": false, "blocked": false}}"#,
            message()
        )
    }

    /// Every frame type of api.md, as the server sends it (fields in any order, the type
    /// anywhere in the object).
    fn frames() -> Vec<String> {
        let m = message();
        vec![
            format!(r#"{{"type": "ready", "user": {USER}}}"#),
            format!(r#"{{"client_id": "c-1", "type": "ack", "message": {m}}}"#),
            format!(r#"{{"type": "message", "message": {m}}}"#),
            format!(r#"{{"message": {m}, "type": "message_update"}}"#),
            r#"{"type": "read", "room_id": 3, "user_id": 8, "seq": 5}"#.to_owned(),
            r#"{"type": "typing", "room_id": 3, "user_id": 8}"#.to_owned(),
            r#"{"type": "presence", "user_id": 8, "online": false}"#.to_owned(),
            format!(r#"{{"type": "room", "room": {}}}"#, room()),
            format!(r#"{{"type": "room_update", "room": {}}}"#, room()),
            format!(r#"{{"type": "user", "user": {USER}}}"#),
            r#"{"type": "error", "code": "validation", "message": "too long", "client_id": "c-2"}"#
                .to_owned(),
            r#"{"type": "error", "code": "forbidden", "message": "blocked"}"#.to_owned(),
            // A newer server's code reads as `unknown`.
            r#"{"type": "error", "code": "no_such_code", "message": "x"}"#.to_owned(),
            r#"{"type": "pong"}"#.to_owned(),
        ]
    }

    #[test]
    fn every_frame_decodes_exactly_as_the_shared_enum_does() {
        for text in frames() {
            let expected: ServerFrame = serde_json::from_str(&text).expect("a valid frame");
            assert_eq!(decode(&text), Some(expected), "{text}");
        }
    }

    #[test]
    fn what_the_shared_enum_writes_reads_back() {
        for text in frames() {
            let frame: ServerFrame = serde_json::from_str(&text).expect("a valid frame");
            let written = serde_json::to_string(&frame).expect("serialisable");
            assert_eq!(decode(&written), Some(frame), "{written}");
        }
    }

    #[test]
    fn broken_incomplete_or_unknown_frames_are_ignored() {
        for text in [
            "",
            "not json",
            r#"{"user": {}}"#,
            r#"{"type": "ready"}"#,
            r#"{"type": "read", "room_id": 3, "user_id": 8}"#,
            r#"{"type": "ack", "message": null}"#,
            r#"{"type": "typing", "room_id": 3, "user_id": null}"#,
            r#"{"type": "presence", "user_id": "eight", "online": true}"#,
            r#"{"type": "something_new", "x": 1}"#,
            r#"{"type": 5}"#,
        ] {
            assert_eq!(decode(text), None, "{text}");
            assert!(serde_json::from_str::<ServerFrame>(text).is_err(), "{text}");
        }
    }
}
