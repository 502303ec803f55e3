//! Clients as a browser would be: REST over HTTP, one websocket per tab, and a chat client
//! that reconnects and catches up exactly as docs/api.md describes (wait for `ready`, then
//! `GET …/messages?after=<last seq held>`, merge by `seq`).

use serde_json::Value;
use shared::{ClientFrame, ErrorCode, Message, RoomId, ServerFrame};
use std::collections::{BTreeMap, HashSet};
use std::time::Duration;
use tokio::time::Instant;

pub const PASSWORD: &str = "correct-horse-battery";
pub const FRAME_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone)]
pub struct TestUser {
    pub id: i64,
    pub username: String,
    pub token: String,
}

/// The API at one base URL (an instance, or nginx), through `chat-client`; the calls here
/// fail the test where the client returns an error. `client` is the raw HTTP client, for the
/// requests about headers that the API client has no call for.
#[derive(Clone)]
pub struct Api {
    pub base: String,
    pub client: reqwest::Client,
    api: chat_client::Api,
}

impl Api {
    pub fn new(base: &str) -> Api {
        let api = chat_client::Api::new(base).unwrap();
        Api {
            base: api.base().to_owned(),
            client: api.http().clone(),
            api,
        }
    }

    pub fn url(&self, path: &str) -> String {
        self.api.url(path)
    }

    /// The API client itself, for calls that return its `Result`.
    pub fn chat(&self) -> &chat_client::Api {
        &self.api
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
        let account = self
            .api
            .register(username, PASSWORD)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        TestUser {
            id: account.user.id.0,
            username: account.user.username,
            token: account.token,
        }
    }

    pub async fn open_room(&self, me: &TestUser, peer: &TestUser) -> shared::Room {
        self.api
            .open_room(&me.token, &peer.username)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    }

    pub async fn send(&self, me: &TestUser, room: RoomId, body: &str, client_id: &str) -> Message {
        let (message, _) = self
            .api
            .send(&me.token, room, body.to_owned(), client_id.to_owned())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        message
    }

    /// Every message after `after`, following `has_more`; `None` when the API did not answer
    /// 200 (an instance down, say), so callers can retry.
    pub async fn messages_after(
        &self,
        me: &TestUser,
        room: RoomId,
        after: i64,
    ) -> Option<Vec<Message>> {
        self.api
            .messages_after(&me.token, room, after, 1000)
            .await
            .ok()
    }

    /// `GET /api/health`: (status, body); (0, null) when nothing answered.
    pub async fn health(&self) -> (u16, Value) {
        match tokio::time::timeout(Duration::from_secs(5), self.api.health()).await {
            Ok(Ok((status, body))) => (status, serde_json::to_value(body).unwrap_or(Value::Null)),
            Ok(Err(e)) => (e.status().unwrap_or(0), Value::Null),
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
        self.api
            .metric(name)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    }
}

/// How a websocket ended or why no frame came.
pub use chat_client::Ended as WsEnd;

/// One websocket through `chat-client`, with the waits the tests need.
pub struct WsClient {
    socket: chat_client::Socket,
}

impl WsClient {
    /// The handshake with extra headers; `Err(status)` when the server refuses it (0: no
    /// answer at all).
    pub async fn connect(url: &str, headers: &[(&str, &str)]) -> Result<WsClient, u16> {
        match chat_client::Socket::connect(url, headers, false).await {
            Ok(socket) => Ok(WsClient { socket }),
            Err(e) => Err(e.status().unwrap_or(0)),
        }
    }

    /// Connects and authenticates with the first frame; `None` if any step fails.
    pub async fn open(url: &str, user: &TestUser) -> Option<WsClient> {
        match chat_client::Socket::open(url, &user.token, false).await {
            Ok((socket, ready)) if ready.id.0 == user.id => Some(WsClient { socket }),
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
        self.socket.send(frame).await
    }

    /// The next data frame within `wait`; control frames are skipped.
    pub async fn next_event(&mut self, wait: Duration) -> Result<ServerFrame, WsEnd> {
        match self.socket.next_frame(wait).await {
            Err(WsEnd::Garbled(text)) => panic!("unparseable frame {text}"),
            other => other,
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
        self.socket.closed(FRAME_TIMEOUT).await
    }

    pub async fn close(self) {
        self.socket.close().await
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
                reply_to: None,
                attachments: Vec::new(),
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
