//! The message writer: threads that store messages by group commit and then hand them to
//! the fan-out.
//!
//! Sends from every socket and REST call queue here; a thread takes whatever has queued
//! (up to `MAX_BATCH`) and stores it in one transaction, so the cost of a commit (an fsync)
//! is shared by many senders. Each send is acknowledged only after its transaction has
//! committed. A room always goes to the same thread (its lane), which stores and publishes
//! its messages, so the frames of a room leave this instance in `seq` order. SQLite takes one
//! writer at a time, so it gets one lane; PostgreSQL commits several transactions at once,
//! so lanes there overlap their round trips and fsyncs.

use crate::db::{self, Db};
use crate::domain::messages::{self, SendRequest, Stored};
use crate::error::AppError;
use crate::fanout::FanOut;
use crate::metrics::Metrics;
use crate::usecases;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{self, SyncSender, TrySendError};
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::sync::oneshot;

/// Most messages stored in one transaction.
const MAX_BATCH: usize = 512;

struct Job {
    request: SendRequest,
    reply: oneshot::Sender<Result<Stored, AppError>>,
}

pub struct MessageWriter {
    /// One queue per lane; empty only while dropping.
    lanes: Vec<SyncSender<Job>>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

/// Closing the queues ends the threads after they have stored what was queued; waiting for
/// them means nothing is left half-done when the process exits.
impl Drop for MessageWriter {
    fn drop(&mut self) {
        self.lanes.clear();
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

impl MessageWriter {
    /// `capacity` bounds the sends waiting to be stored (shared out among the `lanes`);
    /// beyond it, senders get 503.
    pub fn start(
        db: Db,
        hub: Arc<dyn FanOut>,
        metrics: Arc<Metrics>,
        capacity: usize,
        lanes: usize,
    ) -> anyhow::Result<MessageWriter> {
        let lanes = lanes.max(1);
        let mut writer = MessageWriter {
            lanes: Vec::with_capacity(lanes),
            threads: Vec::with_capacity(lanes),
        };
        for lane in 0..lanes {
            let (queue, jobs) = mpsc::sync_channel((capacity / lanes).max(1));
            let (db, hub, metrics) = (db.clone(), hub.clone(), metrics.clone());
            let thread = std::thread::Builder::new()
                .name(format!("message-writer-{lane}"))
                .spawn(move || run(jobs, db, hub, metrics))?;
            writer.lanes.push(queue);
            writer.threads.push(thread);
        }
        Ok(writer)
    }

    /// Queues the message for the next group commit; the returned future resolves once it
    /// is durably stored (and fanned out). Queueing is immediate, so a socket can have many
    /// sends in flight and they share commits.
    pub fn submit(&self, request: SendRequest) -> Result<PendingSend, AppError> {
        let (reply, stored) = oneshot::channel();
        if self.lanes.is_empty() {
            return Err(AppError::Unavailable("the server is shutting down".into()));
        }
        let lane = request.room_id.rem_euclid(self.lanes.len() as i64) as usize;
        self.lanes[lane]
            .try_send(Job { request, reply })
            .map_err(|e| match e {
                TrySendError::Full(_) => {
                    AppError::Unavailable("the server is busy: retry shortly".into())
                }
                TrySendError::Disconnected(_) => {
                    AppError::Unavailable("the server is shutting down".into())
                }
            })?;
        Ok(PendingSend(stored))
    }
}

/// A queued send; resolves to its outcome once the writer has committed it.
pub struct PendingSend(oneshot::Receiver<Result<Stored, AppError>>);

impl Future for PendingSend {
    type Output = Result<Stored, AppError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.0).poll(cx).map(|outcome| {
            outcome.unwrap_or_else(|_| {
                Err(AppError::internal(anyhow::anyhow!(
                    "the message writer stopped"
                )))
            })
        })
    }
}

fn run(jobs: mpsc::Receiver<Job>, db: Db, hub: Arc<dyn FanOut>, metrics: Arc<Metrics>) {
    while let Ok(first) = jobs.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let (requests, replies): (Vec<SendRequest>, Vec<_>) =
            batch.into_iter().map(|j| (j.request, j.reply)).unzip();
        let outcomes = store(&db, &requests);
        for (reply, outcome) in replies.into_iter().zip(outcomes) {
            let fresh = outcome
                .as_ref()
                .ok()
                .and_then(usecases::messages::committed);
            // Counted before the answer: whoever saw the ack also sees it in /metrics.
            if fresh.is_some() {
                metrics.messages_stored.fetch_add(1, Ordering::Relaxed);
            }
            // Answer first, so the sender's ack goes out before the echo of its message.
            // The sender may have gone away; the message is stored all the same.
            let _ = reply.send(outcome);
            if let Some(event) = fresh {
                hub.publish(event);
            }
        }
    }
}

fn store(db: &Db, requests: &[SendRequest]) -> Vec<Result<Stored, AppError>> {
    let unavailable = || {
        requests
            .iter()
            .map(|_| Err(AppError::Unavailable("the database is unavailable".into())))
            .collect()
    };
    let Ok(mut conn) = db.get_blocking() else {
        return unavailable();
    };
    let now = db::now();
    match messages::store_batch(&mut conn, requests, now) {
        Ok(outcomes) => outcomes,
        Err(e) => {
            // A batch fails whole on a race with another instance (or a database error);
            // one by one, each send gets its own answer. A lost connection is not reused:
            // the retry takes a fresh one (the pool drops the broken one).
            tracing::debug!(error = %e, "group commit failed; storing one by one");
            if db::is_connection_lost(&e) {
                drop(conn);
                let Ok(fresh) = db.get_blocking() else {
                    return unavailable();
                };
                conn = fresh;
            }
            requests
                .iter()
                .map(|r| messages::store(&mut conn, r, now))
                .collect()
        }
    }
}
