//! Clients as a browser would be: REST over HTTP, one websocket per tab, and a chat client
//! that reconnects and catches up exactly as docs/api.md describes (wait for `ready`, then
//! `GET …/messages?after=<last seq held>`, merge by `seq`).

use futures_util::{SinkExt, StreamExt};
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use shared::{ClientFrame, ErrorCode, Message, RoomId, ServerFrame};
use std::collections::{BTreeMap, HashSet};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub const PASSWORD: &str = "correct-horse-battery";
pub const FRAME_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone)]
pub struct TestUser {
    pub id: i64,
    pub username: String,
    pub token: String,
}

/// Reads a JSON body, failing with the status and text when it is not the expected shape.
pub async fn json<T: DeserializeOwned>(response: reqwest::Response) -> T {
    let status = response.status();
    let text = response.text().await.unwrap();
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("status {status}: body {text:?} is not the expected JSON: {e}"))
}

/// The REST API at one base URL (an instance, or nginx).
#[derive(Clone)]
pub struct Api {
    pub base: String,
    pub client: reqwest::Client,
}

impl Api {
    pub fn new(base: &str) -> Api {
        Api {
            base: base.trim_end_matches('/').to_owned(),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(20))
                .build()
                .unwrap(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn post(&self, path: &str, token: &str, body: &Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn register(&self, username: &str) -> TestUser {
        let response = self
            .client
            .post(self.url("/api/auth/register"))
            .json(&json!({"username": username, "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::CREATED,
            "register {username}"
        );
        let body: shared::AuthResponse = json(response).await;
        TestUser {
            id: body.user.id.0,
            username: body.user.username,
            token: body.token,
        }
    }

    pub async fn open_room(&self, me: &TestUser, peer: &TestUser) -> shared::Room {
        let response = self
            .post("/api/rooms", &me.token, &json!({"peer": peer.username}))
            .await;
        assert!(response.status().is_success(), "{}", response.status());
        json(response).await
    }

    pub async fn send(&self, me: &TestUser, room: RoomId, body: &str, client_id: &str) -> Message {
        let response = self
            .post(
                &format!("/api/rooms/{room}/messages"),
                &me.token,
                &json!({"body": body, "client_id": client_id}),
            )
            .await;
        assert!(
            response.status().is_success(),
            "send answered {}",
            response.status()
        );
        json(response).await
    }

    /// Every message after `after`, following `has_more`; `None` when the API did not answer
    /// 200 (an instance down, say), so callers can retry.
    pub async fn messages_after(
        &self,
        me: &TestUser,
        room: RoomId,
        after: i64,
    ) -> Option<Vec<Message>> {
        let mut out = Vec::new();
        let mut cursor = after;
        for _page in 0..1000 {
            let response = self
                .client
                .get(self.url(&format!(
                    "/api/rooms/{room}/messages?after={cursor}&limit=200"
                )))
                .bearer_auth(&me.token)
                .send()
                .await
                .ok()?;
            if response.status() != StatusCode::OK {
                return None;
            }
            let page: shared::MessagesResponse = response.json().await.ok()?;
            if let Some(last) = page.messages.last() {
                cursor = last.seq;
            }
            out.extend(page.messages);
            if !page.has_more {
                return Some(out);
            }
        }
        panic!("more than 1000 pages of history");
    }

    /// `GET /api/health`: (status, body).
    pub async fn health(&self) -> (u16, Value) {
        match self
            .client
            .get(self.url("/api/health"))
            .timeout(Duration::from_secs(5))
            .send()
            .await
        {
            Ok(r) => {
                let status = r.status().as_u16();
                (status, r.json().await.unwrap_or(Value::Null))
            }
            Err(_) => (0, Value::Null),
        }
    }

    /// Polls `/api/health` until `pubsub` is `wanted`, at most `within`.
    pub async fn wait_pubsub(&self, wanted: &str, within: Duration) -> (u16, Value) {
        let deadline = Instant::now() + within;
        loop {
            let (status, body) = self.health().await;
            if body["pubsub"] == wanted {
                return (status, body);
            }
            assert!(
                Instant::now() < deadline,
                "{}: pubsub never became {wanted:?} within {within:?} (last: {status} {body})",
                self.base
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// A gauge or counter from the instance's `/metrics`.
    pub async fn metric(&self, name: &str) -> f64 {
        let text = self
            .client
            .get(self.url("/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        text.lines()
            .find_map(|line| {
                let (key, value) = line.split_once(' ')?;
                (key == name).then(|| value.trim().parse().ok())?
            })
            .unwrap_or_else(|| panic!("no metric {name} in:\n{text}"))
    }
}

/// How a websocket ended or why no frame came.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WsEnd {
    Closed(Option<u16>),
    TimedOut,
}

pub struct WsClient {
    stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl WsClient {
    /// The handshake with extra headers; `Err(status)` when the server refuses it.
    pub async fn connect(url: &str, headers: &[(&str, &str)]) -> Result<WsClient, u16> {
        let mut request = url.into_client_request().unwrap();
        for (name, value) in headers {
            request.headers_mut().insert(
                reqwest::header::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                value.parse().unwrap(),
            );
        }
        match tokio::time::timeout(FRAME_TIMEOUT, tokio_tungstenite::connect_async(request)).await {
            Ok(Ok((stream, _))) => Ok(WsClient { stream }),
            Ok(Err(tokio_tungstenite::tungstenite::Error::Http(response))) => {
                Err(response.status().as_u16())
            }
            Ok(Err(_)) | Err(_) => Err(0),
        }
    }

    /// Connects and authenticates with the first frame; `None` if any step fails.
    pub async fn open(url: &str, user: &TestUser) -> Option<WsClient> {
        let mut ws = WsClient::connect(url, &[]).await.ok()?;
        ws.send(&ClientFrame::Auth {
            token: user.token.clone(),
        })
        .await
        .ok()?;
        match ws.next_event(FRAME_TIMEOUT).await {
            Ok(ServerFrame::Ready { user: ready }) if ready.id.0 == user.id => Some(ws),
            _ => None,
        }
    }

    /// Like `open`, but a failure fails the test.
    pub async fn open_ok(url: &str, user: &TestUser) -> WsClient {
        WsClient::open(url, user).await.unwrap_or_else(|| {
            panic!(
                "{} could not open an authenticated socket at {url}",
                user.username
            )
        })
    }

    pub async fn send(&mut self, frame: &ClientFrame) -> Result<(), WsEnd> {
        let text = serde_json::to_string(frame).unwrap();
        match tokio::time::timeout(
            FRAME_TIMEOUT,
            self.stream.send(WsMessage::Text(text.into())),
        )
        .await
        {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(WsEnd::Closed(None)),
            Err(_) => Err(WsEnd::TimedOut),
        }
    }

    /// The next data frame within `wait`; control frames are skipped.
    pub async fn next_event(&mut self, wait: Duration) -> Result<ServerFrame, WsEnd> {
        let deadline = Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, self.stream.next()).await {
                Err(_) => return Err(WsEnd::TimedOut),
                Ok(None) | Ok(Some(Err(_))) => return Err(WsEnd::Closed(None)),
                Ok(Some(Ok(WsMessage::Text(text)))) => {
                    return Ok(serde_json::from_str(&text)
                        .unwrap_or_else(|e| panic!("unparseable frame {text}: {e}")))
                }
                Ok(Some(Ok(WsMessage::Close(frame)))) => {
                    return Err(WsEnd::Closed(frame.map(|f| u16::from(f.code))))
                }
                Ok(Some(Ok(_))) => continue,
            }
        }
    }

    /// Skips frames until one matches, within `FRAME_TIMEOUT` overall.
    pub async fn expect(
        &mut self,
        what: &str,
        wanted: impl Fn(&ServerFrame) -> bool,
    ) -> ServerFrame {
        let deadline = Instant::now() + FRAME_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.next_event(left).await {
                Ok(frame) if wanted(&frame) => return frame,
                Ok(_) => continue,
                Err(end) => panic!("waiting for {what}: {end:?}"),
            }
        }
    }

    /// Asserts that no frame matching `unwanted` arrives within `wait`.
    pub async fn expect_none(
        &mut self,
        what: &str,
        wait: Duration,
        unwanted: impl Fn(&ServerFrame) -> bool,
    ) {
        let deadline = Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.next_event(left).await {
                Ok(frame) => assert!(!unwanted(&frame), "unexpected {what}: {frame:?}"),
                Err(WsEnd::TimedOut) => return,
                Err(end) => panic!("socket ended while checking for no {what}: {end:?}"),
            }
        }
    }

    /// Waits for the server to close the socket; returns its close code.
    pub async fn closed(&mut self) -> WsEnd {
        let deadline = Instant::now() + FRAME_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.next_event(left).await {
                Ok(_) => continue,
                Err(end) => return end,
            }
        }
    }

    pub async fn close(mut self) {
        let _ = tokio::time::timeout(
            Duration::from_secs(2),
            self.stream
                .close(Some(tokio_tungstenite::tungstenite::protocol::CloseFrame {
                    code: CloseCode::Normal,
                    reason: "bye".into(),
                })),
        )
        .await;
    }
}

/// What one chat client saw, for the assertions at the end.
#[derive(Debug, Default, Clone)]
pub struct Stats {
    /// Sockets opened after the first.
    pub reconnects: usize,
    /// Times a live message skipped ahead and the client fetched what it had missed.
    pub gap_fills: usize,
    /// Messages that arrived as live `message` frames.
    pub live: usize,
    /// Contract violations: a seq delivered twice on one socket, or out of order.
    pub violations: Vec<String>,
    /// How each socket the client lost ended (close code, if the server sent one).
    pub ends: Vec<WsEnd>,
}

/// A member of one room (the pair under test), behaving like the SPA: one socket, sends
/// with a `client_id` and retries it until acknowledged, reconnects and catches up.
pub struct ChatClient {
    pub name: String,
    pub user: TestUser,
    pub room: RoomId,
    pub api: Api,
    ws_url: String,
    ws: Option<WsClient>,
    sockets_opened: usize,
    /// What the client holds (its screen), by seq.
    pub view: BTreeMap<i64, Message>,
    /// Seqs that reached this client as live frames, ever.
    pub live_seqs: HashSet<i64>,
    /// Seqs seen live on the current socket, and the highest of them.
    socket_seqs: HashSet<i64>,
    socket_high: i64,
    /// Own messages, as acknowledged.
    pub acked: Vec<Message>,
    pub stats: Stats,
}

impl ChatClient {
    pub fn new(name: &str, user: TestUser, room: RoomId, api: Api, ws_url: &str) -> ChatClient {
        ChatClient {
            name: name.to_owned(),
            user,
            room,
            api,
            ws_url: ws_url.to_owned(),
            ws: None,
            sockets_opened: 0,
            view: BTreeMap::new(),
            live_seqs: HashSet::new(),
            socket_seqs: HashSet::new(),
            socket_high: 0,
            acked: Vec::new(),
            stats: Stats::default(),
        }
    }

    /// The highest seq up to which the client holds every message.
    pub fn contiguous(&self) -> i64 {
        let mut high = 0;
        for seq in self.view.keys() {
            if *seq != high + 1 {
                break;
            }
            high = *seq;
        }
        high
    }

    /// With `TOPOLOGY_TRACE=1`, what the client does, for debugging a failure.
    fn trace(&self, what: std::fmt::Arguments<'_>) {
        if std::env::var_os("TOPOLOGY_TRACE").is_some() {
            eprintln!(
                "[{} {}] {what}",
                chrono::Utc::now().format("%H:%M:%S%.3f"),
                self.name
            );
        }
    }

    /// Fetches everything after the contiguous mark (retrying while instances come and go).
    async fn catch_up(&mut self) {
        self.trace(format_args!("catch up after {}", self.contiguous()));
        for attempt in 0..60 {
            if let Some(messages) = self
                .api
                .messages_after(&self.user, self.room, self.contiguous())
                .await
            {
                let seqs: Vec<i64> = messages.iter().map(|m| m.seq).collect();
                self.trace(format_args!("caught up: {seqs:?}"));
                for m in messages {
                    self.view.entry(m.seq).or_insert(m);
                }
                return;
            }
            tokio::time::sleep(Duration::from_millis(100 + 20 * attempt)).await;
        }
        panic!(
            "{}: catch-up through {} kept failing",
            self.name, self.api.base
        );
    }

    /// Opens a socket if there is none: connect, `ready`, then catch up.
    pub async fn ensure_connected(&mut self) {
        if self.ws.is_some() {
            return;
        }
        for attempt in 0..60 {
            if let Some(ws) = WsClient::open(&self.ws_url, &self.user).await {
                self.trace(format_args!("socket open (ready)"));
                self.ws = Some(ws);
                if self.sockets_opened > 0 {
                    self.stats.reconnects += 1;
                }
                self.sockets_opened += 1;
                self.socket_seqs.clear();
                self.socket_high = 0;
                self.catch_up().await;
                return;
            }
            tokio::time::sleep(Duration::from_millis(100 + 20 * attempt)).await;
        }
        panic!(
            "{}: could not reconnect to {} in 60 tries",
            self.name, self.ws_url
        );
    }

    /// Takes in one frame; returns the ack'ed message if it acknowledges `client_id`.
    async fn take(&mut self, frame: ServerFrame, client_id: Option<&str>) -> Option<Message> {
        self.trace(format_args!("frame {frame:?}"));
        match frame {
            ServerFrame::Message { message } if message.room_id == self.room => {
                let seq = message.seq;
                if !self.socket_seqs.insert(seq) {
                    self.stats.violations.push(format!(
                        "{}: seq {seq} delivered twice on one socket",
                        self.name
                    ));
                } else if seq < self.socket_high {
                    self.stats.violations.push(format!(
                        "{}: seq {seq} delivered after seq {}",
                        self.name, self.socket_high
                    ));
                }
                self.socket_high = self.socket_high.max(seq);
                self.stats.live += 1;
                self.live_seqs.insert(seq);
                let gap = seq > self.contiguous() + 1;
                self.view.entry(seq).or_insert(message);
                if gap {
                    self.stats.gap_fills += 1;
                    self.catch_up().await;
                }
                None
            }
            ServerFrame::Ack {
                client_id: acked,
                message,
            } if Some(acked.as_str()) == client_id => {
                self.view
                    .entry(message.seq)
                    .or_insert_with(|| message.clone());
                Some(message)
            }
            ServerFrame::Error {
                code,
                message,
                client_id: failed,
            } => {
                if code == ErrorCode::RateLimited || code == ErrorCode::Unavailable {
                    // The same client_id is retried below; the server stays idempotent.
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    None
                } else {
                    panic!(
                        "{}: error frame {code:?} {message} for {failed:?}",
                        self.name
                    )
                }
            }
            _ => None,
        }
    }

    /// Sends `body` and waits for its ack, reconnecting and resending the same `client_id` as
    /// often as needed (at most 40 tries).
    pub async fn send(&mut self, body: &str, client_id: &str) -> Message {
        for _attempt in 0..40 {
            self.ensure_connected().await;
            let ws = self.ws.as_mut().unwrap();
            let frame = ClientFrame::Send {
                room_id: self.room,
                body: body.to_owned(),
                client_id: client_id.to_owned(),
            };
            if ws.send(&frame).await.is_err() {
                self.ws = None;
                continue;
            }
            let deadline = Instant::now() + FRAME_TIMEOUT;
            let mut retry_now = false;
            loop {
                let left = deadline.saturating_duration_since(Instant::now());
                let event = self.ws.as_mut().unwrap().next_event(left).await;
                match event {
                    Ok(frame) => {
                        let was_error = matches!(frame, ServerFrame::Error { .. });
                        if let Some(message) = self.take(frame, Some(client_id)).await {
                            self.acked.push(message.clone());
                            return message;
                        }
                        if was_error {
                            retry_now = true;
                            break;
                        }
                    }
                    Err(end) => {
                        self.trace(format_args!("socket ended while sending: {end:?}"));
                        self.stats.ends.push(end);
                        self.ws = None;
                        break;
                    }
                }
            }
            if retry_now {
                continue;
            }
        }
        panic!("{}: {client_id} was never acknowledged", self.name);
    }

    /// Reads live frames until the client holds every message up to `last_seq` (live, not
    /// fetched), at most `within`. Returns whether it got there live.
    pub async fn wait_live_until(&mut self, last_seq: i64, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        while self.contiguous() < last_seq {
            if self.ws.is_none() {
                // Reconnecting catches up, which may be all that was missing.
                self.ensure_connected().await;
                continue;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            match self.ws.as_mut().unwrap().next_event(left).await {
                Ok(frame) => {
                    self.take(frame, None).await;
                }
                Err(WsEnd::TimedOut) => return false,
                Err(end) => {
                    self.trace(format_args!("socket ended: {end:?}"));
                    self.stats.ends.push(end);
                    self.ws = None;
                }
            }
        }
        true
    }

    /// After the traffic: live frames first, then (as a client that noticed it is behind
    /// would) one more catch-up. Returns whether live delivery alone was enough.
    pub async fn settle(&mut self, last_seq: i64, within: Duration) -> bool {
        let live = self.wait_live_until(last_seq, within).await;
        if !live {
            self.catch_up().await;
        }
        live
    }
}

/// Every message that was acknowledged (to anyone) is in `view` exactly once, in seq order
/// 1..=n with no gaps and nothing else; each `client_id` appears once.
pub fn assert_exactly_once(who: &str, view: &BTreeMap<i64, Message>, acked: &[Message]) {
    let mut expected: Vec<&Message> = acked.iter().collect();
    expected.sort_by_key(|m| m.seq);
    let seqs: Vec<i64> = expected.iter().map(|m| m.seq).collect();
    let unique: HashSet<i64> = seqs.iter().copied().collect();
    assert_eq!(
        unique.len(),
        seqs.len(),
        "{who}: two acks share a seq: {seqs:?}"
    );
    let client_ids: HashSet<&str> = expected.iter().map(|m| m.client_id.as_str()).collect();
    assert_eq!(
        client_ids.len(),
        expected.len(),
        "{who}: one client_id was stored twice"
    );
    assert_eq!(
        seqs,
        (1..=expected.len() as i64).collect::<Vec<_>>(),
        "{who}: acknowledged seqs are not 1..=n"
    );
    let held: Vec<i64> = view.keys().copied().collect();
    assert_eq!(
        held, seqs,
        "{who}: holds a different set of messages than was acknowledged"
    );
    for m in expected {
        let got = &view[&m.seq];
        assert_eq!(
            (got.id, &got.body, &got.client_id),
            (m.id, &m.body, &m.client_id),
            "{who}: seq {} differs",
            m.seq
        );
    }
}
