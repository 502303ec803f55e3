//! The REST API of docs/api.md: one generic request function that maps statuses to
//! [`Error`], and one small typed function per endpoint. Every call carries
//! `Authorization: Bearer <token>` when a session token is stored.

use super::{config::api_base, session};
use gloo_net::http::{Method, RequestBuilder, Response};
use serde::{de::DeserializeOwned, Serialize};
use shared::{
    AttachmentId, AuthResponse, ChangePassword, CreateRoom, EditMessage, ErrorCode, ErrorResponse,
    LoginRequest, MarkRead, Message, MessageId, MessagesResponse, RegisterRequest, Room, RoomId,
    RoomsResponse, SearchResponse, SendMessage, SessionInfo, SessionsResponse, UpdateMe,
    UpdateRoom, UploadLimits, User, UserId, UsersResponse,
};
use std::fmt;

/// Why a request failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// 401: the session is gone (signed out elsewhere, expired) or the credentials are wrong.
    Unauthorized(String),
    /// Any other non-2xx answer, with the server's code and message.
    Api {
        status: u16,
        code: ErrorCode,
        message: String,
    },
    /// The server could not be reached.
    Network,
    /// The answer was not the JSON we expected.
    Decode(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Unauthorized(message) | Error::Api { message, .. } => f.write_str(message),
            Error::Network => f.write_str("Cannot reach the server. Check your connection."),
            Error::Decode(_) => f.write_str("The server sent an unexpected answer."),
        }
    }
}

/// Query parameters as owned pairs.
type Query<'a> = &'a [(&'a str, String)];

/// Sends one request with a JSON body; any non-2xx status becomes an [`Error`]. Only the
/// body's serialisation is generic: the request itself is compiled once, not once per body
/// type (which matters for the size of the `.wasm`).
async fn send<B: Serialize>(
    method: Method,
    path: &str,
    query: Query<'_>,
    body: Option<&B>,
) -> Result<Response, Error> {
    let body = body
        .map(serde_json::to_string)
        .transpose()
        .map_err(|e| Error::Decode(e.to_string()))?;
    send_text(method, path, query, body).await
}

/// [`send`] with the body already serialised.
async fn send_text(
    method: Method,
    path: &str,
    query: Query<'_>,
    body: Option<String>,
) -> Result<Response, Error> {
    let mut builder = RequestBuilder::new(&format!("{}{}", api_base(), path))
        .method(method)
        .header("Accept", "application/json");
    if !query.is_empty() {
        builder = builder.query(query.iter().map(|(k, v)| (*k, v.as_str())));
    }
    if let Some(token) = session::token() {
        builder = builder.header("Authorization", &format!("Bearer {token}"));
    }
    let request = match body {
        Some(body) => builder
            .header("Content-Type", "application/json")
            .body(body),
        None => builder.build(),
    }
    .map_err(|e| Error::Decode(e.to_string()))?;
    let response = request.send().await.map_err(|_| Error::Network)?;
    if response.ok() {
        return Ok(response);
    }
    let status = response.status();
    let api_error = response.json::<ErrorResponse>().await.ok().map(|r| r.error);
    let message = api_error
        .as_ref()
        .map(|e| e.message.clone())
        .unwrap_or_else(|| format!("The server answered {status}."));
    Err(match status {
        401 => Error::Unauthorized(message),
        _ => Error::Api {
            status,
            code: api_error.map_or(ErrorCode::Unknown, |e| e.code),
            message,
        },
    })
}

/// A request whose answer is JSON of type `T`.
pub(super) async fn request<B: Serialize, T: DeserializeOwned>(
    method: Method,
    path: &str,
    query: Query<'_>,
    body: Option<&B>,
) -> Result<T, Error> {
    let response = send(method, path, query, body).await?;
    response
        .json::<T>()
        .await
        .map_err(|e| Error::Decode(e.to_string()))
}

/// A request answered with `204 No Content`.
pub(super) async fn request_empty<B: Serialize>(
    method: Method,
    path: &str,
    body: Option<&B>,
) -> Result<(), Error> {
    send(method, path, &[], body).await.map(|_| ())
}

pub(super) const NO_BODY: Option<&()> = None;

pub async fn register(body: &RegisterRequest) -> Result<AuthResponse, Error> {
    request(Method::POST, "/auth/register", &[], Some(body)).await
}

pub async fn login(body: &LoginRequest) -> Result<AuthResponse, Error> {
    request(Method::POST, "/auth/login", &[], Some(body)).await
}

pub async fn logout() -> Result<(), Error> {
    request_empty(Method::POST, "/auth/logout", NO_BODY).await
}

pub async fn me() -> Result<User, Error> {
    request(Method::GET, "/me", &[], NO_BODY).await
}

pub async fn rooms() -> Result<Vec<Room>, Error> {
    request::<_, RoomsResponse>(Method::GET, "/rooms", &[], NO_BODY)
        .await
        .map(|r| r.rooms)
}

pub async fn room(id: RoomId) -> Result<Room, Error> {
    request(Method::GET, &format!("/rooms/{id}"), &[], NO_BODY).await
}

/// Opens the conversation with `peer` (a username), creating it when needed.
pub async fn create_room(peer: &str) -> Result<Room, Error> {
    let body = CreateRoom {
        peer: peer.to_owned(),
    };
    request(Method::POST, "/rooms", &[], Some(&body)).await
}

/// Where a page of history starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cursor {
    Latest,
    Before(i64),
    After(i64),
    /// The page holding this `seq`, with `has_more_before` / `has_more_after`.
    Around(i64),
    /// Messages whose `rev` is greater, ascending by `rev`.
    ChangedAfter(i64),
}

impl Cursor {
    /// The query of `GET …/messages` for this cursor and page size.
    pub fn query(self, limit: i64) -> Vec<(&'static str, String)> {
        let mut query = vec![("limit", limit.to_string())];
        match self {
            Cursor::Latest => {}
            Cursor::Before(seq) => query.push(("before", seq.to_string())),
            Cursor::After(seq) => query.push(("after", seq.to_string())),
            Cursor::Around(seq) => query.push(("around", seq.to_string())),
            Cursor::ChangedAfter(rev) => query.push(("changed_after", rev.to_string())),
        }
        query
    }
}

pub async fn messages(room: RoomId, cursor: Cursor, limit: i64) -> Result<MessagesResponse, Error> {
    let query = cursor.query(limit);
    request(
        Method::GET,
        &format!("/rooms/{room}/messages"),
        &query,
        NO_BODY,
    )
    .await
}

/// One message as it is now.
pub async fn message(room: RoomId, seq: i64) -> Result<Message, Error> {
    let path = format!("/rooms/{room}/messages/{seq}");
    request(Method::GET, &path, &[], NO_BODY).await
}

/// Sends through REST (when the socket is down); idempotent by `client_id`.
pub async fn send_message(
    room: RoomId,
    body: &str,
    client_id: &str,
    reply_to: Option<i64>,
    attachments: Vec<AttachmentId>,
) -> Result<Message, Error> {
    let body = SendMessage {
        body: body.to_owned(),
        client_id: client_id.to_owned(),
        reply_to,
        attachments,
    };
    request(
        Method::POST,
        &format!("/rooms/{room}/messages"),
        &[],
        Some(&body),
    )
    .await
}

/// What an upload may be (checked before uploading, so a too-large file is refused at once).
pub async fn upload_limits() -> Result<UploadLimits, Error> {
    request(Method::GET, "/uploads/limits", &[], NO_BODY).await
}

/// Replaces the text of our message (the earlier one stays readable to administrators).
pub async fn edit_message(room: RoomId, seq: i64, body: &str) -> Result<Message, Error> {
    let path = format!("/rooms/{room}/messages/{seq}");
    let body = EditMessage {
        body: body.to_owned(),
    };
    request(Method::PATCH, &path, &[], Some(&body)).await
}

/// Deletes our message: both members see the tombstone, live.
pub async fn delete_message(room: RoomId, seq: i64) -> Result<(), Error> {
    let path = format!("/rooms/{room}/messages/{seq}");
    request_empty(Method::DELETE, &path, NO_BODY).await
}

/// Adds (`on`) or removes our reaction `emoji`; answers the message as it is now.
pub async fn react(room: RoomId, seq: i64, emoji: &str, on: bool) -> Result<Message, Error> {
    // The emoji is one path segment: percent-encoded, as api.md asks.
    let emoji = String::from(js_sys::encode_uri_component(emoji));
    let path = format!("/rooms/{room}/messages/{seq}/reactions/{emoji}");
    let method = if on { Method::PUT } else { Method::DELETE };
    request(method, &path, &[], NO_BODY).await
}

pub async fn mark_read(room: RoomId, seq: i64) -> Result<(), Error> {
    request_empty(
        Method::POST,
        &format!("/rooms/{room}/read"),
        Some(&MarkRead { seq }),
    )
    .await
}

pub async fn search_users(prefix: &str) -> Result<Vec<User>, Error> {
    request::<_, UsersResponse>(Method::GET, "/users", &[("q", prefix.to_owned())], NO_BODY)
        .await
        .map(|r| r.users)
}

/// Messages of our rooms holding `q` (newest first), older than `before` when paging.
pub async fn search(
    q: &str,
    room: Option<RoomId>,
    before: Option<MessageId>,
) -> Result<SearchResponse, Error> {
    let mut query = vec![("q", q.to_owned())];
    if let Some(room) = room {
        query.push(("room_id", room.to_string()));
    }
    if let Some(before) = before {
        query.push(("before", before.to_string()));
    }
    request(Method::GET, "/search", &query, NO_BODY).await
}

/// Changes our display name; peers see it live (`user` frame).
pub async fn update_me(display_name: &str) -> Result<User, Error> {
    let body = UpdateMe {
        display_name: display_name.to_owned(),
    };
    request(Method::PATCH, "/me", &[], Some(&body)).await
}

/// Every other session ends; this one stays.
pub async fn change_password(current: &str, new: &str) -> Result<(), Error> {
    let body = ChangePassword {
        current_password: current.to_owned(),
        new_password: new.to_owned(),
    };
    request_empty(Method::POST, "/me/password", Some(&body)).await
}

pub async fn sessions() -> Result<Vec<SessionInfo>, Error> {
    request::<_, SessionsResponse>(Method::GET, "/me/sessions", &[], NO_BODY)
        .await
        .map(|r| r.sessions)
}

/// Ends one session (`Some`) or every session but this one (`None`).
pub async fn end_sessions(id: Option<i64>) -> Result<(), Error> {
    let path = match id {
        Some(id) => format!("/me/sessions/{id}"),
        None => "/me/sessions".to_owned(),
    };
    request_empty(Method::DELETE, &path, NO_BODY).await
}

/// Our view of a room: muted, marked unread.
pub async fn update_room(room: RoomId, body: &UpdateRoom) -> Result<Room, Error> {
    request(Method::PATCH, &format!("/rooms/{room}"), &[], Some(body)).await
}

/// Blocks (`on`) or unblocks a person.
pub async fn block(user: UserId, on: bool) -> Result<(), Error> {
    let method = if on { Method::PUT } else { Method::DELETE };
    request_empty(method, &format!("/users/{user}/block"), NO_BODY).await
}

pub async fn blocks() -> Result<Vec<User>, Error> {
    request::<_, UsersResponse>(Method::GET, "/me/blocks", &[], NO_BODY)
        .await
        .map(|r| r.users)
}

/// Everything we can read, as the JSON file of `GET /api/me/export`.
pub async fn export() -> Result<Vec<u8>, Error> {
    send(Method::GET, "/me/export", &[], NO_BODY)
        .await?
        .binary()
        .await
        .map_err(|e| Error::Decode(e.to_string()))
}
