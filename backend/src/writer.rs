//! The message writer: threads that store messages by group commit, and make changes to
//! stored messages (edits, deletions, reactions), then hand them to the fan-out.
//!
//! Sends from every socket and REST call queue here; a thread takes whatever has queued
//! (up to `MAX_BATCH`) and stores it in one transaction, so the cost of a commit (an fsync)
//! is shared by many senders. Each send is acknowledged only after its transaction has
//! committed. A room always goes to the same thread (its lane), which stores its messages and
//! hands each committed round to the lane's publisher thread, so the frames of a room leave
//! this instance in `seq` order. SQLite takes one writer at a time, so it gets one lane; PostgreSQL commits several transactions at once,
//! so lanes there overlap their round trips and fsyncs. Changes go through the same lanes:
//! on SQLite a change on a connection of its own would wait for the writer's lock in
//! `busy_timeout`'s sleeps (hundreds of milliseconds under load), and in the lane it follows
//! the room's messages in order.

use crate::db::{self, Db};
use crate::domain::changes::{self, Change, Changed, Target};
use crate::domain::messages::{self, SendRequest, Stored};
use crate::error::AppError;
use crate::fanout::{Event, FanOut};
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

/// Committed rounds waiting for their lane's publisher; beyond it the writer waits, so a
/// stalled fan-out slows the writes instead of growing memory.
const ROUNDS_AWAITING_PUBLICATION: usize = 64;

enum Job {
    Send {
        request: SendRequest,
        reply: oneshot::Sender<Result<Stored, AppError>>,
    },
    Change {
        target: Target,
        change: Change,
        reply: oneshot::Sender<Result<Changed, AppError>>,
    },
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
            // Each lane's events are published by a thread of its own, in commit order (so a
            // room's frames still leave in `seq` order): serialising frames and handing them
            // to sockets or Redis was a fifteenth of the writer thread's work, the one thread
            // every message waits for.
            let (publish, published) = mpsc::sync_channel(ROUNDS_AWAITING_PUBLICATION);
            let (db, hub, metrics) = (db.clone(), hub.clone(), metrics.clone());
            let thread = std::thread::Builder::new()
                .name(format!("message-writer-{lane}"))
                .spawn(move || run(jobs, db, publish, metrics))?;
            let publisher = std::thread::Builder::new()
                .name(format!("publisher-{lane}"))
                .spawn(move || {
                    for round in published {
                        for event in round {
                            hub.publish(event);
                        }
                    }
                })?;
            writer.lanes.push(queue);
            // Joined in this order: a writer ends when its queue closes, and its publisher
            // once the writer is gone and everything it committed is published.
            writer.threads.push(thread);
            writer.threads.push(publisher);
        }
        Ok(writer)
    }

    /// Queues the message for the next group commit; the returned future resolves once it
    /// is durably stored (its fan-out follows on the lane's publisher). Queueing is immediate, so a socket can have many
    /// sends in flight and they share commits.
    pub fn submit(&self, request: SendRequest) -> Result<PendingSend, AppError> {
        let (reply, stored) = oneshot::channel();
        self.queue(request.room_id, Job::Send { request, reply })?;
        Ok(PendingSend(stored))
    }

    /// Queues a change to a stored message (in its room's lane; an administrator's, which
    /// names only the message, in the first); resolves once it is committed (published right after, in order).
    pub async fn change(&self, target: Target, change: Change) -> Result<Changed, AppError> {
        let (reply, changed) = oneshot::channel();
        let room = match target {
            Target::Member { room_id, .. } => room_id,
            Target::Admin { .. } => 0,
        };
        self.queue(
            room,
            Job::Change {
                target,
                change,
                reply,
            },
        )?;
        changed.await.unwrap_or_else(|_| {
            Err(AppError::internal(anyhow::anyhow!(
                "the message writer stopped"
            )))
        })
    }

    fn queue(&self, room: i64, job: Job) -> Result<(), AppError> {
        if self.lanes.is_empty() {
            return Err(AppError::Unavailable("the server is shutting down".into()));
        }
        let lane = room.rem_euclid(self.lanes.len() as i64) as usize;
        self.lanes[lane].try_send(job).map_err(|e| match e {
            TrySendError::Full(_) => {
                AppError::Unavailable("the server is busy: retry shortly".into())
            }
            TrySendError::Disconnected(_) => {
                AppError::Unavailable("the server is shutting down".into())
            }
        })
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

fn run(jobs: mpsc::Receiver<Job>, db: Db, publish: SyncSender<Vec<Event>>, metrics: Arc<Metrics>) {
    while let Ok(first) = jobs.recv() {
        let mut round = vec![first];
        while round.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => round.push(job),
                Err(_) => break,
            }
        }
        let mut requests = Vec::new();
        let mut send_replies = Vec::new();
        let mut changes = Vec::new();
        let mut change_replies = Vec::new();
        for job in round {
            match job {
                Job::Send { request, reply } => {
                    requests.push(request);
                    send_replies.push(reply);
                }
                Job::Change {
                    target,
                    change,
                    reply,
                } => {
                    changes.push((target, change));
                    change_replies.push(reply);
                }
            }
        }
        let (stored, changed) = commit(&db, &requests, &changes);
        let mut events = Vec::with_capacity(stored.len());
        for (reply, outcome) in send_replies.into_iter().zip(stored) {
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
            events.extend(fresh);
        }
        for (reply, outcome) in change_replies.into_iter().zip(changed) {
            let updates = outcome
                .as_ref()
                .map(usecases::messages::updates)
                .unwrap_or_default();
            let _ = reply.send(outcome);
            events.extend(updates);
        }
        if !events.is_empty() && publish.send(events).is_err() {
            tracing::error!(
                "the publisher of this lane has stopped; committed events are not fanned out"
            );
        }
    }
}

type Outcomes = (
    Vec<Result<Stored, AppError>>,
    Vec<Result<Changed, AppError>>,
);

/// Group commit of one round: its sends and its changes in ONE transaction, so the round
/// pays for one fsync however many it holds. The sends are stored first (a change never
/// names a message of its own round: its `seq` is known only after the ack); each change runs
/// in a savepoint of its own (diesel nests `apply`'s transaction), so one that is refused or
/// already in place rolls back alone.
fn commit(db: &Db, requests: &[SendRequest], changes: &[(Target, Change)]) -> Outcomes {
    let now = db::now();
    let attempt = |conn: &mut db::DbConn| -> Result<Outcomes, AppError> {
        if changes.is_empty() {
            // Sends alone keep `store_batch`'s own short transaction, its reads before the
            // write lock: wrapping them in the round's transaction cost a quarter of burst
            // throughput (BENCHMARKS.md).
            return Ok((store_sends(conn, requests, now)?, Vec::new()));
        }
        diesel::Connection::transaction::<_, diesel::result::Error, _>(conn, |conn| {
            lock_rooms(conn, requests, changes)?;
            let stored = store_sends(conn, requests, now)?;
            let changed = changes
                .iter()
                .map(|(target, change)| changes::apply(conn, *target, change.clone(), now))
                .collect();
            Ok((stored, changed))
        })
        .map_err(AppError::from)
    };
    // A connection lost mid-round rolled the whole round back: once more on a fresh one (the
    // pool drops the broken one). When the pool has no connection to give (the database is
    // down), the round fails at once: a second wait would only double the client's.
    let outcome = db
        .get_blocking()
        .and_then(|mut conn| match attempt(&mut conn) {
            Err(AppError::Unavailable(_)) => {
                drop(conn);
                db.get_blocking().and_then(|mut conn| attempt(&mut conn))
            }
            other => other,
        });
    outcome.unwrap_or_else(|e| {
        tracing::warn!(error = %e, sends = requests.len(), changes = changes.len(), "a round of writes failed");
        let unavailable = || AppError::Unavailable("the database is unavailable".into());
        (
            requests.iter().map(|_| Err(unavailable())).collect(),
            changes.iter().map(|_| Err(unavailable())).collect(),
        )
    })
}

/// Takes the locks of a round with changes before anything else.
/// - SQLite: the write lock, by a no-op UPDATE. Reading first would make the later upgrade
///   fail at once (`SQLITE_BUSY_SNAPSHOT`) whenever another connection wrote in between.
/// - PostgreSQL: the rows of every room the round writes to, in ascending id order, the order
///   `messages::number` locks them in too. Locked as each change came, two instances' rounds
///   over the same rooms deadlocked under load (PostgreSQL aborted one: "deadlock detected",
///   hundreds of reactions answered 500 in the topology benchmark).
fn lock_rooms(
    conn: &mut db::DbConn,
    requests: &[SendRequest],
    changes: &[(Target, Change)],
) -> diesel::QueryResult<()> {
    use diesel::prelude::*;
    match conn {
        #[cfg(feature = "sqlite")]
        db::DbConn::Sqlite(sqlite) => {
            diesel::sql_query("UPDATE rooms SET last_rev = last_rev WHERE 0").execute(sqlite)?;
        }
        #[cfg(feature = "postgres")]
        db::DbConn::Pg(pg) => {
            use crate::db::schema::rooms;
            let mut ids: Vec<i64> = requests.iter().map(|r| r.room_id).collect();
            // An administrator's change names only its message: its room is locked when the
            // change runs (a rare case, and one lock alone cannot close a cycle).
            ids.extend(changes.iter().filter_map(|(target, _)| match target {
                Target::Member { room_id, .. } => Some(*room_id),
                Target::Admin { .. } => None,
            }));
            ids.sort_unstable();
            ids.dedup();
            rooms::table
                .filter(rooms::id.eq_any(&ids))
                .order(rooms::id)
                .select(rooms::id)
                .for_update()
                .load::<i64>(pg)?;
        }
    }
    Ok(())
}

/// The round's sends by group commit; on a race with another instance (a unique key), one by
/// one, so each gets its own answer.
fn store_sends(
    conn: &mut db::DbConn,
    requests: &[SendRequest],
    now: chrono::NaiveDateTime,
) -> diesel::QueryResult<Vec<Result<Stored, AppError>>> {
    if requests.is_empty() {
        return Ok(Vec::new());
    }
    match messages::store_batch(conn, requests, now) {
        Ok(outcomes) => Ok(outcomes),
        Err(e) if db::is_connection_lost(&e) => Err(e),
        Err(e) => {
            tracing::debug!(error = %e, "group commit failed; storing one by one");
            Ok(requests
                .iter()
                .map(|r| messages::store(conn, r, now))
                .collect())
        }
    }
}
