//! The REST half of the API.

use crate::{Error, Result, HTTP_TIMEOUT};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::Serialize;
use shared::{
    Attachment, AuthResponse, CreateRoom, HealthResponse, LoginRequest, Message, MessagesResponse,
    RegisterRequest, Room, RoomId, RoomsResponse, SendMessage, User,
};
use std::time::Duration;

/// A signed-in user: who, and the bearer token.
#[derive(Debug, Clone)]
pub struct Account {
    pub user: User,
    pub token: String,
}

/// An answer as it came: status and body bytes.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Reply {
    /// The body as `T` when the status is one of `expected`.
    pub fn json<T: DeserializeOwned>(&self, what: &str, expected: &[u16]) -> Result<T> {
        let text = || String::from_utf8_lossy(&self.body).into_owned();
        if !expected.contains(&self.status) {
            return Err(Error::Status {
                what: what.to_owned(),
                status: self.status,
                body: text(),
            });
        }
        serde_json::from_slice(&self.body).map_err(|e| Error::Body {
            what: what.to_owned(),
            body: text(),
            reason: e.to_string(),
        })
    }
}

/// The API at one base URL (an instance, or nginx in front of several).
#[derive(Clone)]
pub struct Api {
    http: reqwest::Client,
    base: String,
    ws_url: String,
}

impl Api {
    /// `base` is `http://host:port` (no path). Redirects are not followed: an answer is
    /// seen as the server gave it.
    pub fn new(base: &str) -> Result<Api> {
        let base = base.trim_end_matches('/').to_owned();
        let ws_url = match (base.strip_prefix("http://"), base.strip_prefix("https://")) {
            (Some(rest), _) => format!("ws://{rest}/ws"),
            (_, Some(rest)) => format!("wss://{rest}/ws"),
            _ => {
                return Err(Error::Transport {
                    what: "api base".into(),
                    reason: format!("{base:?} must start with http:// or https://"),
                })
            }
        };
        let http = reqwest::Client::builder()
            .timeout(HTTP_TIMEOUT)
            .connect_timeout(Duration::from_secs(10))
            .pool_max_idle_per_host(512)
            .tcp_nodelay(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| Error::Transport {
                what: "http client".into(),
                reason: e.to_string(),
            })?;
        Ok(Api { http, base, ws_url })
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// The websocket endpoint, `ws://host:port/ws`.
    pub fn ws_url(&self) -> &str {
        &self.ws_url
    }

    /// The underlying HTTP client, for requests this crate has no call for.
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// Any request: `token` as bearer, `body` as JSON; the answer whatever its status.
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&(impl Serialize + ?Sized)>,
    ) -> Result<Reply> {
        let mut request = self.http.request(method.clone(), self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let transport = |e: reqwest::Error| Error::Transport {
            what: format!("{method} {path}"),
            reason: e.to_string(),
        };
        let response = request.send().await.map_err(transport)?;
        let status = response.status().as_u16();
        let body = response.bytes().await.map_err(transport)?.to_vec();
        Ok(Reply { status, body })
    }

    async fn get(&self, path: &str, token: Option<&str>) -> Result<Reply> {
        self.request(Method::GET, path, token, None::<&()>).await
    }

    async fn post(&self, path: &str, token: Option<&str>, body: &impl Serialize) -> Result<Reply> {
        self.request(Method::POST, path, token, Some(body)).await
    }

    /// `GET /api/health`: the status (200 or 503) and the body.
    pub async fn health(&self) -> Result<(u16, HealthResponse)> {
        let reply = self.get("/api/health", None).await?;
        let health = reply.json("health", &[200, 503])?;
        Ok((reply.status, health))
    }

    pub async fn register(&self, username: &str, password: &str) -> Result<Account> {
        let body = RegisterRequest {
            username: username.to_owned(),
            password: password.to_owned(),
            display_name: None,
        };
        let what = format!("register {username}");
        self.sign_in("/api/auth/register", &body, &what, 201).await
    }

    pub async fn login(&self, username: &str, password: &str) -> Result<Account> {
        let body = LoginRequest {
            username: username.to_owned(),
            password: password.to_owned(),
        };
        let what = format!("login {username}");
        self.sign_in("/api/auth/login", &body, &what, 200).await
    }

    /// A request that answers with a new session.
    async fn sign_in(
        &self,
        path: &str,
        body: &impl Serialize,
        what: &str,
        expected: u16,
    ) -> Result<Account> {
        let auth: AuthResponse = self.post(path, None, body).await?.json(what, &[expected])?;
        Ok(Account {
            user: auth.user,
            token: auth.token,
        })
    }

    /// Opens (or finds) the conversation of the token's user with `peer` (a username).
    pub async fn open_room(&self, token: &str, peer: &str) -> Result<Room> {
        let body = CreateRoom {
            peer: peer.to_owned(),
        };
        self.post("/api/rooms", Some(token), &body)
            .await?
            .json("open room", &[200, 201])
    }

    pub async fn rooms(&self, token: &str) -> Result<Vec<Room>> {
        let list: RoomsResponse = self
            .get("/api/rooms", Some(token))
            .await?
            .json("rooms", &[200])?;
        Ok(list.rooms)
    }

    /// `POST /api/uploads?name=`: the file's bytes as the body; the new upload.
    pub async fn upload(&self, token: &str, name: &str, bytes: Vec<u8>) -> Result<Attachment> {
        let what = format!("upload {name}");
        let transport = |e: reqwest::Error| Error::Transport {
            what: what.clone(),
            reason: e.to_string(),
        };
        let response = self
            .http
            .post(self.url("/api/uploads"))
            .query(&[("name", name)])
            .bearer_auth(token)
            .body(bytes)
            .send()
            .await
            .map_err(transport)?;
        let status = response.status().as_u16();
        let body = response.bytes().await.map_err(transport)?.to_vec();
        Reply { status, body }.json(&what, &[201])
    }

    /// `POST /api/rooms/{id}/messages`: the message, and whether it is new (201) rather
    /// than the earlier one with the same `client_id` (200).
    pub async fn send(
        &self,
        token: &str,
        room: RoomId,
        body: String,
        client_id: String,
    ) -> Result<(Message, bool)> {
        let reply = self
            .post(
                &format!("/api/rooms/{room}/messages"),
                Some(token),
                &SendMessage {
                    body,
                    client_id,
                    reply_to: None,
                    attachments: Vec::new(),
                },
            )
            .await?;
        let message = reply.json("send", &[200, 201])?;
        Ok((message, reply.status == 201))
    }

    /// `GET /api/rooms/{id}/messages{query}` as raw bytes, so a caller can time the request
    /// apart from parsing.
    pub async fn messages_raw(&self, token: &str, room: RoomId, query: &str) -> Result<Vec<u8>> {
        let reply = self
            .get(&format!("/api/rooms/{room}/messages{query}"), Some(token))
            .await?;
        if reply.status != StatusCode::OK.as_u16() {
            return Err(Error::Status {
                what: "messages".into(),
                status: reply.status,
                body: String::from_utf8_lossy(&reply.body).into_owned(),
            });
        }
        Ok(reply.body)
    }

    pub async fn messages(
        &self,
        token: &str,
        room: RoomId,
        query: &str,
    ) -> Result<MessagesResponse> {
        let body = self.messages_raw(token, room, query).await?;
        parse_messages(&body)
    }

    /// Every message after `after`, following `has_more` (at most `max_pages` pages of 200).
    pub async fn messages_after(
        &self,
        token: &str,
        room: RoomId,
        after: i64,
        max_pages: usize,
    ) -> Result<Vec<Message>> {
        let mut out = Vec::new();
        let mut cursor = after;
        for _ in 0..max_pages {
            let page = self
                .messages(token, room, &format!("?after={cursor}&limit=200"))
                .await?;
            if let Some(last) = page.messages.last() {
                cursor = last.seq;
            }
            out.extend(page.messages);
            if !page.has_more {
                return Ok(out);
            }
        }
        Err(Error::Socket(format!(
            "more than {max_pages} pages of history after {after}"
        )))
    }

    /// `PUT` (add) or `DELETE` (remove) the caller's `emoji` on the room's message `seq`.
    pub async fn react(
        &self,
        token: &str,
        room: RoomId,
        seq: i64,
        emoji: &str,
        add: bool,
    ) -> Result<Message> {
        let method = if add { Method::PUT } else { Method::DELETE };
        let path = format!(
            "/api/rooms/{room}/messages/{seq}/reactions/{}",
            percent_encoding::utf8_percent_encode(emoji, percent_encoding::NON_ALPHANUMERIC)
        );
        self.request(method, &path, Some(token), None::<&()>)
            .await?
            .json("reaction", &[200])
    }

    /// `PATCH` the room's message `seq` to a new body.
    pub async fn edit(&self, token: &str, room: RoomId, seq: i64, body: &str) -> Result<Message> {
        let edit = shared::EditMessage {
            body: body.to_owned(),
        };
        self.request(
            Method::PATCH,
            &format!("/api/rooms/{room}/messages/{seq}"),
            Some(token),
            Some(&edit),
        )
        .await?
        .json("edit", &[200])
    }

    /// Every message changed after `rev`, ascending by `rev`, following `has_more` (at most
    /// `max_pages` pages of 200).
    pub async fn changed_after(
        &self,
        token: &str,
        room: RoomId,
        rev: i64,
        max_pages: usize,
    ) -> Result<Vec<Message>> {
        let mut out = Vec::new();
        let mut cursor = rev;
        for _ in 0..max_pages {
            let page = self
                .messages(token, room, &format!("?changed_after={cursor}&limit=200"))
                .await?;
            if let Some(last) = page.messages.last() {
                cursor = last.rev;
            }
            out.extend(page.messages);
            if !page.has_more {
                return Ok(out);
            }
        }
        Err(Error::Socket(format!(
            "more than {max_pages} pages of changes after rev {rev}"
        )))
    }

    /// The text of `/metrics`.
    pub async fn metrics(&self) -> Result<String> {
        let reply = self.get("/metrics", None).await?;
        Ok(String::from_utf8_lossy(&reply.body).into_owned())
    }

    /// One gauge or counter of `/metrics`.
    pub async fn metric(&self, name: &str) -> Result<f64> {
        let text = self.metrics().await?;
        text.lines()
            .find_map(|line| {
                let (key, value) = line.split_once(' ')?;
                (key == name).then(|| value.trim().parse().ok())?
            })
            .ok_or_else(|| Error::Body {
                what: "metrics".into(),
                body: text.clone(),
                reason: format!("no metric {name}"),
            })
    }
}

pub fn parse_messages(bytes: &[u8]) -> Result<MessagesResponse> {
    serde_json::from_slice(bytes).map_err(|e| Error::Body {
        what: "messages".into(),
        body: String::from_utf8_lossy(bytes).into_owned(),
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_socket_url_follows_the_base_and_other_schemes_are_refused() {
        let api = Api::new("http://127.0.0.1:8080/").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(api.base(), "http://127.0.0.1:8080");
        assert_eq!(api.ws_url(), "ws://127.0.0.1:8080/ws");
        let tls = Api::new("https://chat.example.com").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(tls.ws_url(), "wss://chat.example.com/ws");
        assert!(Api::new("ftp://x").is_err());
    }

    #[test]
    fn a_reply_with_another_status_is_an_error_that_keeps_the_body() {
        let reply = Reply {
            status: 429,
            body: br#"{"error":{"code":"rate_limited","message":"slow down"}}"#.to_vec(),
        };
        let err = reply.json::<Message>("send", &[200, 201]).unwrap_err();
        assert_eq!(err.status(), Some(429));
        assert!(err.to_string().contains("rate_limited"), "{err}");
    }
}
