//! The public API as the load generator uses it, on `chat-client` (the one client of the
//! project: the backend's tests speak through it too). Every call has a timeout.

use anyhow::{anyhow, Result};
pub use chat_client::{send_frame, Account, Ws};
use futures_util::StreamExt;
use shared::{
    Attachment, AttachmentId, Message, MessagesResponse, Room, RoomId, SearchQuery, SearchResponse,
    User,
};
use std::time::Duration;

pub const PASSWORD: &str = "bench-password-123";

/// The API of the server under load; every user has the same password.
#[derive(Clone)]
pub struct Api {
    inner: chat_client::Api,
}

impl Api {
    /// `base` is `http://host:port` (no trailing slash).
    pub fn new(base: &str) -> Result<Self> {
        Ok(Api {
            inner: chat_client::Api::new(base)?,
        })
    }

    pub fn base(&self) -> &str {
        self.inner.base()
    }

    pub async fn health(&self) -> Result<()> {
        let (status, _) = tokio::time::timeout(Duration::from_secs(2), self.inner.health())
            .await
            .map_err(|_| anyhow!("health: no answer within 2 s"))??;
        anyhow::ensure!(status == 200, "health: {status}");
        Ok(())
    }

    pub async fn register(&self, username: &str) -> Result<Account> {
        Ok(self.inner.register(username, PASSWORD).await?)
    }

    pub async fn login(&self, username: &str) -> Result<Account> {
        Ok(self.inner.login(username, PASSWORD).await?)
    }

    /// A login with another password (e.g. the users of `chat-server seed`).
    pub async fn login_with(&self, username: &str, password: &str) -> Result<Account> {
        Ok(self.inner.login(username, password).await?)
    }

    /// `GET /api/rooms`: the caller's rooms.
    pub async fn rooms(&self, token: &str) -> Result<Vec<Room>> {
        Ok(self.inner.rooms(token).await?)
    }

    /// `GET /api/search`: (µs from the request to the last byte, the answer). Bounded by
    /// `wait`; any status but 200 is an error.
    pub async fn search(
        &self,
        token: &str,
        query: &SearchQuery,
        wait: Duration,
    ) -> Result<(u32, SearchResponse)> {
        let request = self
            .inner
            .http()
            .get(self.inner.url("/api/search"))
            .bearer_auth(token)
            .query(query);
        let started = std::time::Instant::now();
        let call = async {
            let response = request.send().await?;
            let status = response.status().as_u16();
            let body = response.bytes().await?;
            Ok::<_, reqwest::Error>((status, body))
        };
        let (status, body) = tokio::time::timeout(wait, call)
            .await
            .map_err(|_| anyhow!("search {:?}: no answer within {wait:?}", query.q))??;
        let us = started.elapsed().as_micros().min(u128::from(u32::MAX)) as u32;
        anyhow::ensure!(
            status == 200,
            "search {:?}: {status} {}",
            query.q,
            String::from_utf8_lossy(&body)
        );
        Ok((us, serde_json::from_slice(&body)?))
    }

    /// A websocket as the project's client models it (send a frame, wait for the next).
    pub async fn socket(&self, token: &str) -> Result<chat_client::Socket> {
        let (socket, _user) = chat_client::Socket::open(self.inner.ws_url(), token, false).await?;
        Ok(socket)
    }

    /// Opens (or finds) the conversation of `me` with `peer`.
    pub async fn open_room(&self, me: &Account, peer: &str) -> Result<Room> {
        Ok(self.inner.open_room(&me.token, peer).await?)
    }

    /// `POST /api/rooms/{id}/messages`.
    pub async fn send_rest(
        &self,
        me: &Account,
        room_id: i64,
        body: String,
        client_id: String,
    ) -> Result<Message> {
        let (message, _created) = self
            .inner
            .send(&me.token, RoomId(room_id), body, client_id)
            .await?;
        Ok(message)
    }

    /// `GET /api/rooms/{id}/messages{query}`: the raw body, so a caller can time the request
    /// apart from parsing.
    pub async fn messages_raw(&self, me: &Account, room_id: i64, query: &str) -> Result<Vec<u8>> {
        Ok(self
            .inner
            .messages_raw(&me.token, RoomId(room_id), query)
            .await?)
    }

    /// `PUT` (`add`) or `DELETE` the caller's `emoji` on message `seq`: the whole message
    /// with its new `rev`. Bounded by `wait`.
    pub async fn react(
        &self,
        token: &str,
        room_id: i64,
        seq: i64,
        emoji: &str,
        add: bool,
        wait: Duration,
    ) -> Result<Message> {
        let call = self.inner.react(token, RoomId(room_id), seq, emoji, add);
        tokio::time::timeout(wait, call)
            .await
            .map_err(|_| anyhow!("reaction on {room_id}/{seq}: no answer within {wait:?}"))?
            .map_err(anyhow::Error::from)
    }

    /// `POST /api/uploads`: the new upload (bounded by the caller).
    pub async fn upload(&self, token: &str, name: &str, bytes: Vec<u8>) -> Result<Attachment> {
        Ok(self.inner.upload(token, name, bytes).await?)
    }

    /// A message carrying one upload and no text.
    pub async fn send_with_attachments(
        &self,
        me: &Account,
        room_id: i64,
        attachment: &AttachmentId,
    ) -> Result<Message> {
        let body = serde_json::json!({
            "body": "",
            "client_id": format!("att-{}", attachment.0),
            "attachments": [attachment],
        });
        let reply = self
            .inner
            .http()
            .post(self.inner.url(&format!("/api/rooms/{room_id}/messages")))
            .bearer_auth(&me.token)
            .json(&body)
            .send()
            .await?;
        anyhow::ensure!(
            reply.status().as_u16() == 201,
            "send with attachment: {}",
            reply.status()
        );
        Ok(reply.json().await?)
    }

    pub fn http(&self) -> &reqwest::Client {
        self.inner.http()
    }

    /// Every message of the room changed after `rev` (all of them for 0), as stored now.
    pub async fn changed_after(&self, token: &str, room_id: i64, rev: i64) -> Result<Vec<Message>> {
        Ok(self
            .inner
            .changed_after(token, RoomId(room_id), rev, 100)
            .await?)
    }

    pub fn parse_messages(bytes: &[u8]) -> Result<MessagesResponse> {
        Ok(chat_client::parse_messages(bytes)?)
    }

    /// Opens a websocket, authenticates with the first frame and waits for `ready`.
    /// `small_buffers` keeps the client's own memory low for thousands of idle sockets.
    pub async fn connect_ws(&self, token: &str, small_buffers: bool) -> Result<(Ws, User)> {
        let (socket, user) =
            chat_client::Socket::open(self.inner.ws_url(), token, small_buffers).await?;
        Ok((socket.into_inner(), user))
    }
}

/// Registers `names` with at most `concurrency` registrations in flight (Argon2 is CPU
/// bound on the server), retrying transient failures. Keeps the order of `names`.
pub async fn register_many(
    api: &Api,
    names: Vec<String>,
    concurrency: usize,
) -> Result<Vec<Account>> {
    let results: Vec<Result<Account>> = futures_util::stream::iter(names)
        .map(|name| {
            let api = api.clone();
            async move {
                let mut last = None;
                for attempt in 0..4u64 {
                    match api.register(&name).await {
                        Ok(account) => return Ok(account),
                        Err(e) => {
                            last = Some(e);
                            tokio::time::sleep(Duration::from_millis(200 * (attempt + 1))).await;
                        }
                    }
                }
                Err(last.unwrap_or_else(|| anyhow!("register {name}: no attempt")))
            }
        })
        .buffered(concurrency.max(1))
        .collect()
        .await;
    results.into_iter().collect()
}

/// A short prefix unique to this run, so runs against one server never collide.
pub fn run_prefix() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let mut n = (nanos as u64) ^ (u64::from(std::process::id()) << 32);
    const DIGITS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut s = String::from("b");
    for _ in 0..7 {
        s.push(char::from(DIGITS[(n % 36) as usize]));
        n /= 36;
    }
    s
}
