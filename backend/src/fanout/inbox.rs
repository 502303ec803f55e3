//! A socket's bounded inbox: what the fan-out hands to one websocket task.

use super::{CloseRequest, Outbound};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;

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
    pub(super) fn new(capacity: usize) -> Self {
        Self {
            state: Mutex::default(),
            ready: Notify::new(),
            capacity,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, InboxState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(super) fn push(&self, frame: Arc<Outbound>) -> Result<(), Full> {
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
    pub(super) fn close(&self, request: CloseRequest) -> bool {
        let first = {
            let mut state = self.lock();
            let first = state.close.is_none();
            state.close.get_or_insert(request);
            first
        };
        self.ready.notify_one();
        first
    }

    /// Whether the fan-out has asked this socket to close.
    pub fn close_requested(&self) -> bool {
        self.lock().close.is_some()
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
