//! In-process fan-out: the registry of this instance's sockets, keyed by user.

use super::{
    CloseRequest, ConnId, Event, FanOut, Full, Inbox, Order, Outbound, PubSubStatus, Registration,
};
use crate::metrics::Metrics;
use actix_ws::CloseCode;
use bytestring::ByteString;
use futures_util::future::BoxFuture;
use shared::{ServerFrame, UserId};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The interval between two batches of `close_all_spread`.
const SPREAD_STEP: Duration = Duration::from_millis(100);

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

    /// Closes every socket here, spread evenly over `over` in steps of `SPREAD_STEP`, so their
    /// clients do not all reconnect in the same instant (after a Redis outage, thousands of
    /// clients whose first retry waits only a few hundred milliseconds would otherwise make a
    /// login storm of our own). Sockets opened meanwhile are not closed: they caught up when
    /// they opened.
    pub async fn close_all_spread(&self, code: CloseCode, reason: &'static str, over: Duration) {
        let inboxes: Vec<Arc<Inbox>> = self
            .lock()
            .values()
            .flatten()
            .map(|s| s.inbox.clone())
            .collect();
        let steps = (over.as_millis() / SPREAD_STEP.as_millis()).max(1) as usize;
        let per_step = inboxes.len().div_ceil(steps).max(1);
        let mut ticks = tokio::time::interval(SPREAD_STEP);
        for chunk in inboxes.chunks(per_step) {
            ticks.tick().await;
            for inbox in chunk {
                inbox.close(CloseRequest { code, reason });
            }
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
            order: Order::of(frame),
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

    fn pubsub_status(&self) -> PubSubStatus {
        PubSubStatus::Local
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
    use crate::fanout::Received;
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

    #[tokio::test(start_paused = true)]
    async fn a_spread_close_reaches_every_socket_evenly_over_its_window() {
        let hub = Arc::new(hub(4));
        let sockets: Vec<_> = (0..2000).map(|i| hub.register(UserId(i % 50), i)).collect();
        let started = tokio::time::Instant::now();
        let closer = tokio::spawn({
            let hub = hub.clone();
            async move {
                hub.close_all_spread(CloseCode::Restart, "reconnect", Duration::from_secs(10))
                    .await
            }
        });
        // How many sockets were asked to close in each second of the window.
        let mut per_second = [0usize; 12];
        let mut closed = vec![false; sockets.len()];
        while closed.iter().any(|c| !c) && started.elapsed() < Duration::from_secs(12) {
            tokio::time::sleep(Duration::from_millis(50)).await;
            let second = (started.elapsed().as_secs() as usize).min(11);
            for (socket, closed) in sockets.iter().zip(closed.iter_mut()) {
                if !*closed && socket.inbox.close_requested() {
                    *closed = true;
                    per_second[second] += 1;
                }
            }
        }
        closer.await.expect("the spread close ends");
        assert_eq!(
            per_second.iter().sum::<usize>(),
            sockets.len(),
            "{per_second:?}"
        );
        let busiest = per_second.iter().max().copied().unwrap_or_default();
        assert!(
            busiest * 4 <= sockets.len(),
            "one second holds more than 25% of the closes: {per_second:?}"
        );
        assert!(
            per_second[10..].iter().all(|n| *n == 0),
            "the spread overran its window: {per_second:?}"
        );
    }

    async fn nothing_within(inbox: &Inbox, millis: u64) -> bool {
        tokio::time::timeout(std::time::Duration::from_millis(millis), inbox.next())
            .await
            .is_err()
    }
}
