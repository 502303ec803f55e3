//! Fan-out: which sockets belong to which user, and delivering events to them.
//!
//! `FanOut` is the seam between the websocket sessions and how events travel: the
//! in-process `LocalHub` here, a Redis-backed one for several instances. It never touches
//! the database.

use crate::metrics::Metrics;
use actix_ws::CloseCode;
use bytestring::ByteString;
use futures_util::future::BoxFuture;
use shared::{RoomId, ServerFrame, UserId};
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;

pub type ConnId = u64;

/// Something that happened and must reach sockets.
// Events live only for one `publish` call, so the size difference between variants costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum Event {
    /// Send `frame` to every socket of each user in `to`.
    Deliver { to: Vec<UserId>, frame: ServerFrame },
    /// A session ended (logout): close its sockets.
    EndSession { user: UserId, session_id: i64 },
    /// The user may no longer be connected at all (disabled): close every socket of theirs.
    EndUser { user: UserId },
}

/// Why the hub wants a socket closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseRequest {
    pub code: CloseCode,
    pub reason: &'static str,
}

/// A socket's inbox: the frames waiting for it and, once, the hub's request to close it.
/// One allocation per socket; the queue's buffer exists only while frames wait (most sockets
/// are idle most of the time) and holds at most `capacity`.
pub struct Inbox {
    state: Mutex<InboxState>,
    ready: Notify,
    capacity: usize,
}

#[derive(Default)]
struct InboxState {
    queue: VecDeque<Arc<Outbound>>,
    close: Option<CloseRequest>,
}

/// What a socket's task takes from its inbox.
#[derive(Debug)]
pub enum Received {
    Frame(Arc<Outbound>),
    /// Comes before any frame still waiting: a closing socket has no use for them.
    Close(CloseRequest),
}

/// The inbox already holds its capacity.
#[derive(Debug)]
pub struct Full;

impl Inbox {
    fn new(capacity: usize) -> Self {
        Self {
            state: Mutex::default(),
            ready: Notify::new(),
            capacity,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, InboxState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn push(&self, frame: Arc<Outbound>) -> Result<(), Full> {
        {
            let mut state = self.lock();
            if state.queue.len() >= self.capacity {
                return Err(Full);
            }
            state.queue.push_back(frame);
        }
        self.ready.notify_one();
        Ok(())
    }

    /// Asks the socket to close; true the first time.
    fn close(&self, request: CloseRequest) -> bool {
        let first = {
            let mut state = self.lock();
            let first = state.close.is_none();
            state.close.get_or_insert(request);
            first
        };
        self.ready.notify_one();
        first
    }

    /// The next thing for the socket. Cancel-safe: nothing is taken unless it is returned.
    pub async fn next(&self) -> Received {
        loop {
            {
                let mut state = self.lock();
                if let Some(request) = &state.close {
                    return Received::Close(request.clone());
                }
                if let Some(frame) = state.queue.pop_front() {
                    if state.queue.is_empty() && state.queue.capacity() > 16 {
                        // A burst is over: give its buffer back rather than keep it per socket
                        // (a small one stays, so one frame at a time costs no allocation).
                        state.queue = VecDeque::new();
                    }
                    return Received::Frame(frame);
                }
            }
            // A push after the look above leaves a permit here: the wait cannot miss it.
            self.ready.notified().await;
        }
    }
}

/// A frame queued for a socket. Room messages carry their position, so the socket can put
/// them in `seq` order (see `sequencer.rs`).
#[derive(Debug, Clone)]
pub struct Outbound {
    pub text: ByteString,
    pub ordered: Option<(RoomId, i64)>,
}

/// A socket's end of its registration.
pub struct Registration {
    pub conn_id: ConnId,
    /// Bounded: a socket that falls this far behind is closed, never buffered without end.
    /// Frames are `Arc`'d: one event is shared by all its sockets.
    pub inbox: Arc<Inbox>,
    /// True when this is the user's first open socket (they just came online here).
    pub first_for_user: bool,
}

pub trait FanOut: Send + Sync + 'static {
    fn register(&self, user: UserId, session_id: i64) -> Registration;
    /// Resolves once events for `user` published by any instance reach this one; a socket
    /// sends `ready` only after it, so that no event between `ready` and the catch-up is lost.
    fn subscribed(&self, user: UserId) -> BoxFuture<'static, ()>;
    /// Returns true when that was the user's last socket here.
    fn unregister(&self, user: UserId, conn_id: ConnId) -> bool;
    fn publish(&self, event: Event);
    /// Which of `users` have an open socket on any instance.
    fn online(&self, users: Vec<UserId>) -> BoxFuture<'static, HashSet<UserId>>;
    /// `"local"` for in-process fan-out; `"ok"` or `"down"` for a shared bus.
    fn pubsub_status(&self) -> &'static str;
    /// Closes every socket here (shutdown, or events were missed and clients must catch up).
    fn close_all(&self, code: CloseCode, reason: &'static str);
}

struct Socket {
    conn_id: ConnId,
    session_id: i64,
    inbox: Arc<Inbox>,
}

/// In-process fan-out: one registry keyed by user, behind a short-held lock.
pub struct LocalHub {
    sockets: Mutex<HashMap<UserId, Vec<Socket>>>,
    next_conn_id: AtomicU64,
    queue_capacity: usize,
    metrics: Arc<Metrics>,
}

impl LocalHub {
    pub fn new(queue_capacity: usize, metrics: Arc<Metrics>) -> Self {
        Self {
            sockets: Mutex::new(HashMap::new()),
            next_conn_id: AtomicU64::new(1),
            queue_capacity,
            metrics,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<UserId, Vec<Socket>>> {
        self.sockets.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Closes (1008) the sockets of `user` that `which` selects.
    fn close_sockets_of(
        &self,
        user: UserId,
        reason: &'static str,
        which: impl Fn(&Socket) -> bool,
    ) {
        for socket in self
            .lock()
            .get(&user)
            .into_iter()
            .flatten()
            .filter(|s| which(s))
        {
            socket.inbox.close(CloseRequest {
                code: CloseCode::Policy,
                reason,
            });
        }
    }

    /// Users with at least one socket here.
    pub fn users(&self) -> Vec<UserId> {
        self.lock().keys().copied().collect()
    }

    pub fn is_online_here(&self, user: UserId) -> bool {
        self.lock().get(&user).is_some_and(|l| !l.is_empty())
    }

    pub fn deliver(&self, to: &[UserId], frame: &ServerFrame) {
        let text = match serde_json::to_string(frame) {
            Ok(text) => ByteString::from(text),
            Err(e) => {
                tracing::error!(error = %e, "could not serialise a frame");
                return;
            }
        };
        let outbound = Arc::new(Outbound {
            text,
            ordered: match frame {
                ServerFrame::Message { message } => Some((message.room_id, message.seq)),
                _ => None,
            },
        });
        let sockets = self.lock();
        for user in to {
            for socket in sockets.get(user).into_iter().flatten() {
                match socket.inbox.push(outbound.clone()) {
                    Ok(()) => {
                        self.metrics
                            .frames_delivered
                            .fetch_add(1, Ordering::Relaxed);
                    }
                    Err(Full) => {
                        let first = socket.inbox.close(CloseRequest {
                            code: CloseCode::Policy,
                            reason: "too slow: reconnect and catch up",
                        });
                        if first {
                            self.metrics
                                .ws_slow_consumers_closed
                                .fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            }
        }
    }
}

impl FanOut for LocalHub {
    fn register(&self, user: UserId, session_id: i64) -> Registration {
        let conn_id = self.next_conn_id.fetch_add(1, Ordering::Relaxed);
        let inbox = Arc::new(Inbox::new(self.queue_capacity));
        let mut sockets = self.lock();
        let list = sockets.entry(user).or_default();
        let first_for_user = list.is_empty();
        list.push(Socket {
            conn_id,
            session_id,
            inbox: inbox.clone(),
        });
        self.metrics.ws_connections.fetch_add(1, Ordering::Relaxed);
        Registration {
            conn_id,
            inbox,
            first_for_user,
        }
    }

    fn unregister(&self, user: UserId, conn_id: ConnId) -> bool {
        let mut sockets = self.lock();
        let Some(list) = sockets.get_mut(&user) else {
            return false;
        };
        let before = list.len();
        list.retain(|s| s.conn_id != conn_id);
        if list.len() < before {
            self.metrics.ws_connections.fetch_sub(1, Ordering::Relaxed);
        }
        if list.is_empty() {
            sockets.remove(&user);
            before > 0
        } else {
            false
        }
    }

    fn publish(&self, event: Event) {
        match event {
            Event::Deliver { to, frame } => self.deliver(&to, &frame),
            Event::EndSession { user, session_id } => {
                self.close_sockets_of(user, "signed out", |s| s.session_id == session_id)
            }
            Event::EndUser { user } => self.close_sockets_of(user, "account disabled", |_| true),
        }
    }

    fn subscribed(&self, _user: UserId) -> BoxFuture<'static, ()> {
        Box::pin(std::future::ready(()))
    }

    fn online(&self, users: Vec<UserId>) -> BoxFuture<'static, HashSet<UserId>> {
        let sockets = self.lock();
        let online = users
            .into_iter()
            .filter(|u| sockets.get(u).is_some_and(|l| !l.is_empty()))
            .collect();
        Box::pin(std::future::ready(online))
    }

    fn pubsub_status(&self) -> &'static str {
        "local"
    }

    fn close_all(&self, code: CloseCode, reason: &'static str) {
        for socket in self.lock().values().flatten() {
            socket.inbox.close(CloseRequest { code, reason });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::ErrorCode;

    fn hub(capacity: usize) -> LocalHub {
        LocalHub::new(capacity, Arc::new(Metrics::default()))
    }

    #[test]
    fn first_and_last_socket_mark_presence() {
        let hub = hub(4);
        let a = hub.register(UserId(1), 10);
        let b = hub.register(UserId(1), 10);
        assert!(a.first_for_user && !b.first_for_user);
        assert!(hub.is_online_here(UserId(1)));
        assert!(!hub.unregister(UserId(1), a.conn_id));
        assert!(hub.unregister(UserId(1), b.conn_id));
        assert!(!hub.is_online_here(UserId(1)));
        assert!(!hub.unregister(UserId(1), b.conn_id), "idempotent");
    }

    #[tokio::test]
    async fn frames_reach_every_socket_of_the_recipients_only() {
        let hub = hub(4);
        let a = hub.register(UserId(1), 10);
        let other = hub.register(UserId(2), 20);
        hub.publish(Event::Deliver {
            to: vec![UserId(1)],
            frame: ServerFrame::Pong,
        });
        match a.inbox.next().await {
            Received::Frame(frame) => assert_eq!(frame.text, r#"{"type":"pong"}"#),
            other => panic!("expected the frame, got {other:?}"),
        }
        assert!(nothing_within(&other.inbox, 50).await);
    }

    #[tokio::test]
    async fn a_full_queue_kicks_the_slow_socket() {
        let hub = hub(2);
        let slow = hub.register(UserId(1), 10);
        for _ in 0..3 {
            hub.publish(Event::Deliver {
                to: vec![UserId(1)],
                frame: ServerFrame::Pong,
            });
        }
        match slow.inbox.next().await {
            Received::Close(request) => assert_eq!(request.code, CloseCode::Policy),
            other => panic!("expected the close request first, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn ending_a_session_kicks_only_its_sockets() {
        let hub = hub(2);
        let ended = hub.register(UserId(1), 10);
        let other_session = hub.register(UserId(1), 11);
        hub.publish(Event::EndSession {
            user: UserId(1),
            session_id: 10,
        });
        assert!(matches!(ended.inbox.next().await, Received::Close(_)));
        assert!(nothing_within(&other_session.inbox, 50).await);
    }

    #[tokio::test]
    async fn frames_come_in_order_and_a_waiting_socket_wakes() {
        let hub = hub(8);
        let socket = hub.register(UserId(1), 10);
        let waiting = tokio::spawn({
            let inbox = socket.inbox.clone();
            async move {
                let mut texts = Vec::new();
                for _ in 0..3 {
                    match inbox.next().await {
                        Received::Frame(frame) => texts.push(frame.text.to_string()),
                        Received::Close(request) => panic!("closed: {request:?}"),
                    }
                }
                texts
            }
        });
        tokio::task::yield_now().await;
        for n in 1..=3 {
            hub.deliver(
                &[UserId(1)],
                &ServerFrame::error(ErrorCode::BadRequest, format!("n{n}"), None),
            );
        }
        let texts = tokio::time::timeout(std::time::Duration::from_secs(5), waiting)
            .await
            .expect("the waiting socket woke")
            .unwrap();
        let order: Vec<bool> = ["n1", "n2", "n3"]
            .iter()
            .zip(&texts)
            .map(|(n, text)| text.contains(n))
            .collect();
        assert_eq!(order, [true, true, true], "{texts:?}");
    }

    async fn nothing_within(inbox: &Inbox, millis: u64) -> bool {
        tokio::time::timeout(std::time::Duration::from_millis(millis), inbox.next())
            .await
            .is_err()
    }
}
