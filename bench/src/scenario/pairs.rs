//! Pairs of users in their own room: the sender's socket sends, both members' sockets
//! receive. Used by burst, steady, reactions and the login storm's probe traffic.

use crate::api::{register_many, send_frame, Account, Api, Ws};
use crate::report::{Checks, Errors};
use crate::track::{make_body, now_us, parse_body, Inbox, Updates};
use anyhow::{Context, Result};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::StreamExt;
use shared::{ClientFrame, ServerFrame};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message as WsMessage;

/// Everything one pair saw, shared between its sender and its readers.
#[derive(Debug, Default)]
pub struct PairState {
    pub sent: u64,
    /// `seq` of each acknowledged `n` (0: not acknowledged).
    pub acked_seq: Vec<i64>,
    pub acked: u64,
    /// Sends that ended in an `error` frame or a failed write (no ack will come).
    pub failed: u64,
    /// send → ack, µs.
    pub ack_latencies: Vec<u32>,
    /// The peer's socket (latency measured here).
    pub recipient: Inbox,
    /// The sender's own socket (every socket of both members gets the message).
    pub echo: Inbox,
    /// `message_update`s on the recipient's socket.
    pub recipient_updates: Updates,
    /// `message_update`s on the sender's socket.
    pub echo_updates: Updates,
    /// Frames of a type this tool does not model (v1.1's `room_update`, `user`), ignored as
    /// api.md asks of clients.
    pub ignored_frames: u64,
}

pub struct Pair {
    pub index: u32,
    pub room_id: i64,
    pub sender: Account,
    pub recipient: Account,
    pub state: Arc<Mutex<PairState>>,
}

/// The sending half of a pair's sender socket.
pub struct PairSender {
    pub index: u32,
    pub room_id: i64,
    pub sink: SplitSink<Ws, WsMessage>,
    /// Permits = messages that may still be unacknowledged.
    pub window: Arc<Semaphore>,
    pub state: Arc<Mutex<PairState>>,
    client_prefix: String,
}

pub type Shared = Arc<Mutex<PairState>>;

pub fn lock(state: &Shared) -> std::sync::MutexGuard<'_, PairState> {
    state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Registers 2×`count` users and opens one room per pair.
pub async fn setup_pairs(
    api: &Api,
    prefix: &str,
    count: usize,
    concurrency: usize,
) -> Result<Vec<Pair>> {
    let mut names = Vec::with_capacity(count * 2);
    for i in 0..count {
        names.push(format!("{prefix}s{i}"));
        names.push(format!("{prefix}r{i}"));
    }
    let accounts = register_many(api, names, concurrency)
        .await
        .context("registering pair users")?;
    let mut accounts = accounts.into_iter();
    let mut users = Vec::with_capacity(count);
    while let (Some(s), Some(r)) = (accounts.next(), accounts.next()) {
        users.push((s, r));
    }
    let rooms: Vec<Result<Pair>> = futures_util::stream::iter(users.into_iter().enumerate())
        .map(|(i, (sender, recipient))| {
            let api = api.clone();
            async move {
                let room = api.open_room(&sender, &recipient.user.username).await?;
                Ok(Pair {
                    index: i as u32,
                    room_id: room.id.0,
                    sender,
                    recipient,
                    state: Arc::default(),
                })
            }
        })
        .buffered(16)
        .collect()
        .await;
    rooms.into_iter().collect()
}

/// Which socket a reader serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Sender,
    Recipient,
}

/// Connects both sockets of every pair, starts their readers, and returns the senders.
pub async fn connect_pairs(
    api: &Api,
    pairs: &[Pair],
    window: usize,
    run: &str,
    errors: &Arc<Errors>,
    stop: &watch::Receiver<bool>,
) -> Result<(Vec<PairSender>, Vec<JoinHandle<()>>)> {
    let connected: Vec<Result<(PairSender, Vec<JoinHandle<()>>)>> =
        futures_util::stream::iter(pairs.iter())
            .map(|pair| {
                let api = api.clone();
                let errors = errors.clone();
                let stop = stop.clone();
                async move {
                    let (recipient_ws, _) = api.connect_ws(&pair.recipient.token, false).await?;
                    let (sender_ws, _) = api.connect_ws(&pair.sender.token, false).await?;
                    let semaphore = Arc::new(Semaphore::new(window));
                    let (_r_sink, r_stream) = recipient_ws.split();
                    let (s_sink, s_stream) = sender_ws.split();
                    let readers = vec![
                        spawn_reader(
                            r_stream,
                            Some(_r_sink),
                            pair,
                            Role::Recipient,
                            None,
                            errors.clone(),
                            stop.clone(),
                        ),
                        spawn_reader(
                            s_stream,
                            None,
                            pair,
                            Role::Sender,
                            Some(semaphore.clone()),
                            errors,
                            stop,
                        ),
                    ];
                    Ok((
                        PairSender {
                            index: pair.index,
                            room_id: pair.room_id,
                            sink: s_sink,
                            window: semaphore,
                            state: pair.state.clone(),
                            client_prefix: format!("{run}-{}", pair.index),
                        },
                        readers,
                    ))
                }
            })
            .buffered(32)
            .collect()
            .await;
    let mut senders = Vec::new();
    let mut readers = Vec::new();
    for c in connected {
        let (s, r) = c.context("connecting pair sockets")?;
        senders.push(s);
        readers.extend(r);
    }
    Ok((senders, readers))
}

fn spawn_reader(
    mut stream: SplitStream<Ws>,
    // The recipient's write half is kept alive (dropping it does not close the socket, but
    // keeping it makes the ownership obvious) until the reader ends.
    keep: Option<SplitSink<Ws, WsMessage>>,
    pair: &Pair,
    role: Role,
    window: Option<Arc<Semaphore>>,
    errors: Arc<Errors>,
    mut stop: watch::Receiver<bool>,
) -> JoinHandle<()> {
    let state = pair.state.clone();
    let stream_id = pair.index;
    let room_id = pair.room_id;
    tokio::spawn(async move {
        let _keep = keep;
        loop {
            let next = tokio::select! {
                next = stream.next() => next,
                _ = stop.wait_for(|s| *s) => return,
            };
            let text = match next {
                Some(Ok(WsMessage::Text(text))) => text,
                Some(Ok(WsMessage::Close(frame))) => {
                    if !*stop.borrow() {
                        errors.add(format!(
                            "pair {stream_id} {role:?} socket closed by the server: {frame:?}"
                        ));
                    }
                    return;
                }
                Some(Ok(_)) => continue,
                Some(Err(e)) => {
                    if !*stop.borrow() {
                        errors.add(format!("pair {stream_id} {role:?} socket error: {e}"));
                    }
                    return;
                }
                None => {
                    if !*stop.borrow() {
                        errors.add(format!("pair {stream_id} {role:?} socket ended"));
                    }
                    return;
                }
            };
            let frame: ServerFrame = match serde_json::from_str(&text) {
                Ok(frame) => frame,
                // A newer server's frame type (api.md: clients ignore unknown frames).
                Err(e) if e.to_string().starts_with("unknown variant") => {
                    lock(&state).ignored_frames += 1;
                    continue;
                }
                Err(e) => {
                    errors.add(format!("unparseable frame {text}: {e}"));
                    continue;
                }
            };
            match frame {
                ServerFrame::Message { message } => {
                    if message.room_id.0 != room_id {
                        errors.add(format!(
                            "pair {stream_id}: message of room {} on this socket",
                            message.room_id
                        ));
                        continue;
                    }
                    let mut st = lock(&state);
                    match role {
                        Role::Recipient => st.recipient.on_message(&message, stream_id, true),
                        Role::Sender => st.echo.on_message(&message, stream_id, false),
                    }
                }
                ServerFrame::MessageUpdate { message } => {
                    if message.room_id.0 != room_id {
                        errors.add(format!(
                            "pair {stream_id}: message_update of room {} on this socket",
                            message.room_id
                        ));
                        continue;
                    }
                    let mut st = lock(&state);
                    match role {
                        Role::Recipient => st.recipient_updates.on_update(&message),
                        Role::Sender => st.echo_updates.on_update(&message),
                    }
                }
                ServerFrame::Ack { client_id, message } if role == Role::Sender => {
                    let now = now_us();
                    match parse_body(&message.body).filter(|s| s.stream == stream_id) {
                        Some(stamp) => {
                            let mut st = lock(&state);
                            let n = stamp.n as usize;
                            if st.acked_seq.len() <= n {
                                st.acked_seq.resize(n + 1, 0);
                            }
                            if st.acked_seq[n] != 0 {
                                drop(st);
                                errors.add(format!("second ack for {client_id}"));
                            } else {
                                st.acked_seq[n] = message.seq;
                                st.acked += 1;
                                let latency =
                                    now.saturating_sub(stamp.sent_us).min(u64::from(u32::MAX));
                                st.ack_latencies.push(latency as u32);
                            }
                        }
                        None => errors.add(format!("ack {client_id} carries a foreign body")),
                    }
                    if let Some(w) = &window {
                        w.add_permits(1);
                    }
                }
                ServerFrame::Error {
                    code,
                    message,
                    client_id,
                } => {
                    errors.add(format!("pair {stream_id} {role:?}: error frame {code:?}: {message} ({client_id:?})"));
                    if client_id.is_some() {
                        lock(&state).failed += 1;
                        if let Some(w) = &window {
                            w.add_permits(1);
                        }
                    }
                }
                // ready, presence, room, read, typing, pong: not part of the checks.
                _ => {}
            }
        }
    })
}

impl PairSender {
    /// Waits for room in the window (at most `wait`), then sends message `n` (the write, too,
    /// may take at most `wait`).
    pub async fn send(&mut self, n: u64, body_len: usize, wait: Duration) -> Result<()> {
        let permit = tokio::time::timeout(wait, self.window.acquire())
            .await
            .map_err(|_| {
                anyhow::anyhow!("pair {}: no ack within {wait:?} (window full)", self.index)
            })??;
        permit.forget();
        let frame = ClientFrame::Send {
            room_id: shared::RoomId(self.room_id),
            body: make_body(self.index, n, body_len),
            client_id: format!("{}-{n}", self.client_prefix),
            reply_to: None,
            attachments: Vec::new(),
        };
        lock(&self.state).sent += 1;
        let sent = tokio::time::timeout(wait, send_frame(&mut self.sink, &frame)).await;
        match sent {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => {
                lock(&self.state).failed += 1;
                Err(anyhow::Error::new(e).context(format!("pair {}: send", self.index)))
            }
            Err(_) => {
                lock(&self.state).failed += 1;
                anyhow::bail!("pair {}: socket write blocked for {wait:?}", self.index)
            }
        }
    }

    pub async fn close(mut self) {
        use futures_util::SinkExt;
        let _ = tokio::time::timeout(Duration::from_secs(2), self.sink.close()).await;
    }
}

/// Waits for the sender tasks; a task that panicked is an error.
pub async fn join_senders(tasks: Vec<JoinHandle<PairSender>>, errors: &Errors) -> Vec<PairSender> {
    let mut finished = Vec::new();
    for t in tasks {
        match t.await {
            Ok(sender) => finished.push(sender),
            Err(e) => errors.add(format!("sender task: {e}")),
        }
    }
    finished
}

/// Ends a run's sockets: tells the readers the closes to come are expected, closes the
/// senders, stops the readers.
pub async fn shut_down(
    stop: &watch::Sender<bool>,
    senders: Vec<PairSender>,
    readers: Vec<JoinHandle<()>>,
) {
    let _ = stop.send(true);
    for s in senders {
        s.close().await;
    }
    for r in readers {
        r.abort();
    }
}

/// Waits until every pair's sends are acknowledged (or failed) and every acknowledged
/// message reached both sockets, or `within` passes. Returns whether it drained.
pub async fn wait_drained(pairs: &[Pair], within: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let drained = pairs.iter().all(|p| {
            let st = lock(&p.state);
            st.acked + st.failed >= st.sent
                && st.recipient.received >= st.acked
                && st.echo.received >= st.acked
        });
        if drained {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Totals over the pairs.
pub struct Totals {
    pub checks: Checks,
    /// Recipient deliveries (one per stored message that reached the peer).
    pub recipient_delivered: u64,
    /// (arrival µs, latency µs) at the recipients.
    pub latencies: Vec<(u64, u32)>,
    pub ack_latencies: Vec<u32>,
    pub last_arrival_us: Option<u64>,
}

pub fn totals(pairs: &[Pair], errors: &Errors) -> Totals {
    let mut checks = Checks::default();
    let mut latencies = Vec::new();
    let mut ack_latencies = Vec::new();
    let mut recipient_delivered = 0;
    let mut unacked = 0;
    for p in pairs {
        let st = lock(&p.state);
        checks.sent += st.sent;
        checks.acked += st.acked;
        checks.delivered += st.recipient.received + st.echo.received;
        recipient_delivered += st.recipient.received;
        for inbox in [&st.recipient, &st.echo] {
            checks.duplicates += inbox.duplicates;
            checks.disorder += inbox.disorder;
            if inbox.foreign > 0 {
                errors.add(format!(
                    "pair {}: {} foreign messages",
                    p.index, inbox.foreign
                ));
            }
        }
        for (n, seq) in st.acked_seq.iter().enumerate() {
            if *seq != 0 {
                for inbox in [&st.recipient, &st.echo] {
                    if !inbox.has(n as u64) {
                        checks.lost += 1;
                    }
                }
            }
        }
        let never_acked = st.sent.saturating_sub(st.acked + st.failed);
        unacked += never_acked;
        latencies.extend(st.recipient.latencies.iter().copied());
        ack_latencies.extend(st.ack_latencies.iter().copied());
    }
    if unacked > 0 {
        errors.add(format!("{unacked} sends never acknowledged"));
    }
    checks.errors = errors.count();
    checks.error_samples = errors.samples();
    let last_arrival_us = latencies.iter().map(|l| l.0).max();
    Totals {
        checks,
        recipient_delivered,
        latencies,
        ack_latencies,
        last_arrival_us,
    }
}
