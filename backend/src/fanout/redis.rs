//! Fan-out across instances through Redis pub/sub.
//!
//! Each user has a channel `{prefix}:user:{id}` (prefix `CHAT_REDIS_PREFIX`, default `chat`). An instance subscribes only to the channels of
//! users who hold a socket on it, so it receives just the events its sockets need. Events
//! for local sockets are delivered directly (they keep flowing while Redis is away); every
//! event is also published for the other instances, which drop their own echoes.
//!
//! Presence across instances: `chat:online:{user}` is a hash of the instances holding a
//! socket of the user, and `chat:instance:{id}` a key each live instance refreshes, so an
//! instance killed with -9 stops counting once its key expires.
//!
//! When Redis goes away, messages are still stored and acknowledged; once the connection is
//! back, every local socket is closed with 1012 so its client reconnects and catches up
//! through the API on the events it missed. Those closes are spread over
//! `CHAT_RECONNECT_SPREAD_SECS`, so the clients do not all come back in the same second.

use super::{ConnId, Event, FanOut, LocalHub, PubSubStatus, Registration};
use actix_ws::CloseCode;
use argon2::password_hash::rand_core::{OsRng, RngCore};
use futures_util::future::BoxFuture;
use futures_util::StreamExt;
use redis::aio::MultiplexedConnection;
use serde::{Deserialize, Serialize};
use shared::{ServerFrame, UserId};
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// Commands waiting for the Redis connection; bounded so a dead Redis cannot grow memory.
const COMMAND_QUEUE: usize = 65_536;
/// Publishes sent to Redis in one pipeline.
const PUBLISH_BATCH: usize = 512;
const INSTANCE_TTL_SECS: u64 = 30;
const HEARTBEAT: Duration = Duration::from_secs(10);
const SUBSCRIBE_TIMEOUT: Duration = Duration::from_secs(5);
const LOOKUP_TIMEOUT: Duration = Duration::from_millis(500);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Names of the channels and keys, under the configured prefix.
#[derive(Clone)]
struct Keys {
    prefix: String,
}

impl Keys {
    fn user_channel(&self, user: UserId) -> String {
        format!("{}:user:{user}", self.prefix)
    }

    fn user_of_channel(&self, channel: &str) -> Option<UserId> {
        channel
            .strip_prefix(&self.prefix)?
            .strip_prefix(":user:")?
            .parse::<i64>()
            .ok()
            .map(UserId)
    }

    fn online(&self, user: UserId) -> String {
        format!("{}:online:{user}", self.prefix)
    }

    fn instance(&self, instance: &str) -> String {
        format!("{}:instance:{instance}", self.prefix)
    }
}

/// What travels on a user's channel.
#[derive(Debug, Serialize, Deserialize)]
struct Envelope {
    origin: String,
    #[serde(flatten)]
    body: Body,
}

// Built once per event and serialised at once: its size does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Body {
    Frame { frame: ServerFrame },
    EndSession { session_id: i64 },
    EndUser,
}

enum Command {
    Publish {
        channel: String,
        payload: String,
    },
    Subscribe {
        user: UserId,
        done: oneshot::Sender<()>,
    },
    Unsubscribe {
        user: UserId,
    },
    Online {
        user: UserId,
    },
    Offline {
        user: UserId,
    },
}

pub struct RedisHub {
    keys: Keys,
    local: Arc<LocalHub>,
    instance: String,
    commands: mpsc::Sender<Command>,
    up: Arc<AtomicBool>,
    /// Set by the worker while connected; used for presence look-ups.
    lookup: Arc<RwLock<Option<MultiplexedConnection>>>,
}

impl RedisHub {
    /// Starts the worker that owns the Redis connections (reconnecting with backoff).
    /// Must be called inside a tokio runtime.
    pub fn start(
        url: &str,
        prefix: &str,
        local: LocalHub,
        reconnect_spread: Duration,
    ) -> anyhow::Result<Arc<RedisHub>> {
        let keys = Keys {
            prefix: prefix.to_owned(),
        };
        let client = redis::Client::open(url)
            .map_err(|e| anyhow::anyhow!("REDIS_URL {url:?} is not a valid Redis URL: {e}"))?;
        let (commands, receiver) = mpsc::channel(COMMAND_QUEUE);
        let mut id = [0u8; 8];
        OsRng.fill_bytes(&mut id);
        let hub = Arc::new(RedisHub {
            keys: keys.clone(),
            local: Arc::new(local),
            instance: hex::encode(id),
            commands,
            up: Arc::new(AtomicBool::new(false)),
            lookup: Arc::new(RwLock::new(None)),
        });
        let worker = Worker {
            keys,
            client,
            local: hub.local.clone(),
            instance: hub.instance.clone(),
            up: hub.up.clone(),
            lookup: hub.lookup.clone(),
            reconnect_spread,
        };
        tokio::spawn(worker.run(receiver));
        Ok(hub)
    }

    fn enqueue(&self, command: Command) {
        if let Err(e) = self.commands.try_send(command) {
            // Only while Redis is unreachable for long: clients catch up after reconnecting.
            tracing::warn!(error = %e, "Redis command queue full; dropping an event");
        }
    }

    fn publish_to(&self, users: &[UserId], body: Body) {
        let envelope = Envelope {
            origin: self.instance.clone(),
            body,
        };
        let payload = match serde_json::to_string(&envelope) {
            Ok(payload) => payload,
            Err(e) => {
                tracing::error!(error = %e, "could not serialise an event");
                return;
            }
        };
        for user in users {
            self.enqueue(Command::Publish {
                channel: self.keys.user_channel(*user),
                payload: payload.clone(),
            });
        }
    }
}

impl FanOut for RedisHub {
    fn register(&self, user: UserId, session_id: i64) -> Registration {
        let registration = self.local.register(user, session_id);
        if registration.first_for_user {
            self.enqueue(Command::Online { user });
        }
        registration
    }

    fn subscribed(&self, user: UserId) -> BoxFuture<'static, ()> {
        let (done, confirmed) = oneshot::channel();
        self.enqueue(Command::Subscribe { user, done });
        Box::pin(async move {
            // Without Redis the socket still works locally; don't hold it up for long.
            let _ = tokio::time::timeout(SUBSCRIBE_TIMEOUT, confirmed).await;
        })
    }

    fn unregister(&self, user: UserId, conn_id: ConnId) -> bool {
        let last = self.local.unregister(user, conn_id);
        if last {
            self.enqueue(Command::Unsubscribe { user });
            self.enqueue(Command::Offline { user });
        }
        last
    }

    fn publish(&self, event: Event) {
        match event {
            Event::Deliver { to, frame } => {
                self.local.deliver(&to, &frame);
                self.publish_to(&to, Body::Frame { frame });
            }
            Event::EndSession { user, session_id } => {
                self.local.publish(Event::EndSession { user, session_id });
                self.publish_to(&[user], Body::EndSession { session_id });
            }
            Event::EndUser { user } => {
                self.local.publish(Event::EndUser { user });
                self.publish_to(&[user], Body::EndUser);
            }
        }
    }

    fn online(&self, users: Vec<UserId>) -> BoxFuture<'static, HashSet<UserId>> {
        let (mut online, elsewhere): (HashSet<UserId>, Vec<UserId>) = {
            let mut here = HashSet::new();
            let mut rest = Vec::new();
            for user in users {
                if self.local.is_online_here(user) {
                    here.insert(user);
                } else {
                    rest.push(user);
                }
            }
            (here, rest)
        };
        let conn = self.lookup.read().ok().and_then(|c| c.clone());
        let keys = self.keys.clone();
        let me = self.instance.clone();
        Box::pin(async move {
            if let (Some(conn), false) = (conn, elsewhere.is_empty()) {
                let lookup = online_elsewhere(conn, &keys, &me, &elsewhere);
                match tokio::time::timeout(LOOKUP_TIMEOUT, lookup).await {
                    Ok(Ok(found)) => online.extend(found),
                    Ok(Err(e)) => tracing::warn!(error = %e, "presence look-up failed"),
                    Err(_) => tracing::warn!("presence look-up timed out"),
                }
            }
            online
        })
    }

    fn pubsub_status(&self) -> PubSubStatus {
        if self.up.load(Ordering::Relaxed) {
            PubSubStatus::Up
        } else {
            PubSubStatus::Down
        }
    }

    fn close_all(&self, code: CloseCode, reason: &'static str) {
        self.local.close_all(code, reason);
    }
}

/// Users among `users` with a socket on some other live instance (for this one, the local
/// registry is the truth; its Redis entries may lag behind).
async fn online_elsewhere(
    mut conn: MultiplexedConnection,
    keys: &Keys,
    me: &str,
    users: &[UserId],
) -> redis::RedisResult<Vec<UserId>> {
    let mut pipe = redis::pipe();
    for user in users {
        pipe.cmd("HKEYS").arg(keys.online(*user));
    }
    let instances_per_user: Vec<Vec<String>> = pipe.query_async(&mut conn).await?;
    let candidates: HashSet<&String> = instances_per_user
        .iter()
        .flatten()
        .filter(|i| i.as_str() != me)
        .collect();
    if candidates.is_empty() {
        return Ok(Vec::new());
    }
    let mut alive_pipe = redis::pipe();
    let candidates: Vec<&String> = candidates.into_iter().collect();
    for instance in &candidates {
        alive_pipe.cmd("EXISTS").arg(keys.instance(instance));
    }
    let alive: Vec<bool> = alive_pipe.query_async(&mut conn).await?;
    let live: HashSet<&String> = candidates
        .into_iter()
        .zip(alive)
        .filter_map(|(i, a)| a.then_some(i))
        .collect();
    Ok(users
        .iter()
        .zip(&instances_per_user)
        .filter(|(_, instances)| instances.iter().any(|i| live.contains(i)))
        .map(|(u, _)| *u)
        .collect())
}

struct Worker {
    keys: Keys,
    client: redis::Client,
    local: Arc<LocalHub>,
    instance: String,
    up: Arc<AtomicBool>,
    lookup: Arc<RwLock<Option<MultiplexedConnection>>>,
    /// How long the closes after an outage are spread over.
    reconnect_spread: Duration,
}

impl Worker {
    async fn run(self, mut commands: mpsc::Receiver<Command>) {
        let mut backoff = Duration::from_millis(100);
        let mut had_outage = false;
        loop {
            match self.connect_and_serve(&mut commands, had_outage).await {
                Ok(()) => return, // every sender is gone: the server is shutting down
                Err(e) => {
                    if self.up.swap(false, Ordering::Relaxed) || !had_outage {
                        tracing::warn!(error = %e, "Redis pub/sub is down; reconnecting");
                    }
                    had_outage = true;
                    self.set_lookup(None);
                }
            }
            // While down: answer subscriptions at once and drop events (they are stored;
            // clients catch up after the reconnect below closes their sockets).
            let jitter = OsRng.next_u64() % (backoff.as_millis() as u64 / 2 + 1);
            let wait = tokio::time::sleep(backoff + Duration::from_millis(jitter));
            tokio::pin!(wait);
            loop {
                tokio::select! {
                    _ = &mut wait => break,
                    command = commands.recv() => match command {
                        None => return,
                        Some(Command::Subscribe { done, .. }) => { let _ = done.send(()); }
                        Some(_) => {}
                    },
                }
            }
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }

    fn set_lookup(&self, conn: Option<MultiplexedConnection>) {
        if let Ok(mut slot) = self.lookup.write() {
            *slot = conn;
        }
    }

    async fn connect_and_serve(
        &self,
        commands: &mut mpsc::Receiver<Command>,
        recovering: bool,
    ) -> redis::RedisResult<()> {
        let (mut sink, mut stream) = self.client.get_async_pubsub().await?.split();
        let mut conn = self.client.get_multiplexed_async_connection().await?;
        // Re-establish everything this instance stands for.
        let users = self.local.users();
        for user in &users {
            sink.subscribe(self.keys.user_channel(*user)).await?;
        }
        let mut pipe = redis::pipe();
        pipe.cmd("SET")
            .arg(self.keys.instance(&self.instance))
            .arg(1)
            .arg("EX")
            .arg(INSTANCE_TTL_SECS)
            .ignore();
        for user in &users {
            pipe.cmd("HSET")
                .arg(self.keys.online(*user))
                .arg(&self.instance)
                .arg(1)
                .ignore();
        }
        pipe.query_async::<()>(&mut conn).await?;
        self.set_lookup(Some(conn.clone()));
        self.up.store(true, Ordering::Relaxed);
        tracing::info!(instance = %self.instance, "Redis pub/sub connected");
        if recovering {
            let local = self.local.clone();
            let over = self.reconnect_spread;
            tokio::spawn(async move {
                local
                    .close_all_spread(
                        CloseCode::Restart,
                        "live events were interrupted: reconnect and catch up",
                        over,
                    )
                    .await
            });
        }

        let mut heartbeat = tokio::time::interval(HEARTBEAT);
        loop {
            tokio::select! {
                command = commands.recv() => {
                    let Some(command) = command else { return Ok(()) };
                    self.execute(command, commands, &mut sink, &mut conn).await?;
                }
                message = stream.next() => {
                    let Some(message) = message else {
                        return Err(redis::RedisError::from((redis::ErrorKind::Io, "pub/sub connection closed")));
                    };
                    self.dispatch(&message);
                }
                _ = heartbeat.tick() => {
                    redis::cmd("SET")
                        .arg(self.keys.instance(&self.instance))
                        .arg(1)
                        .arg("EX")
                        .arg(INSTANCE_TTL_SECS)
                        .query_async::<()>(&mut conn)
                        .await?;
                }
            }
        }
    }

    /// Runs one command; consecutive publishes go to Redis as one pipeline, in order.
    async fn execute(
        &self,
        first: Command,
        commands: &mut mpsc::Receiver<Command>,
        sink: &mut redis::aio::PubSubSink,
        conn: &mut MultiplexedConnection,
    ) -> redis::RedisResult<()> {
        match first {
            Command::Publish { channel, payload } => {
                let mut pipe = redis::pipe();
                pipe.cmd("PUBLISH").arg(channel).arg(payload).ignore();
                let mut pending = None;
                for _ in 1..PUBLISH_BATCH {
                    match commands.try_recv() {
                        Ok(Command::Publish { channel, payload }) => {
                            pipe.cmd("PUBLISH").arg(channel).arg(payload).ignore();
                        }
                        Ok(other) => {
                            pending = Some(other);
                            break;
                        }
                        Err(_) => break,
                    }
                }
                pipe.query_async::<()>(conn).await?;
                if let Some(other) = pending {
                    Box::pin(self.execute(other, commands, sink, conn)).await?;
                }
            }
            Command::Subscribe { user, done } => {
                sink.subscribe(self.keys.user_channel(user)).await?;
                let _ = done.send(());
            }
            Command::Unsubscribe { user } => {
                // The user may have reconnected here since; keep the channel then.
                if !self.local.is_online_here(user) {
                    sink.unsubscribe(self.keys.user_channel(user)).await?;
                }
            }
            Command::Online { user } => {
                redis::cmd("HSET")
                    .arg(self.keys.online(user))
                    .arg(&self.instance)
                    .arg(1)
                    .query_async::<()>(conn)
                    .await?;
            }
            Command::Offline { user } => {
                if !self.local.is_online_here(user) {
                    redis::cmd("HDEL")
                        .arg(self.keys.online(user))
                        .arg(&self.instance)
                        .query_async::<()>(conn)
                        .await?;
                }
            }
        }
        Ok(())
    }

    /// An event from another instance, for the user whose channel it came on.
    fn dispatch(&self, message: &redis::Msg) {
        let channel = message.get_channel_name();
        let Some(user) = self.keys.user_of_channel(channel) else {
            return;
        };
        let payload: String = match message.get_payload() {
            Ok(payload) => payload,
            Err(_) => return,
        };
        let envelope: Envelope = match serde_json::from_str(&payload) {
            Ok(envelope) => envelope,
            Err(e) => {
                tracing::warn!(error = %e, "unreadable event on {channel}");
                return;
            }
        };
        if envelope.origin == self.instance {
            return; // delivered locally when published
        }
        match envelope.body {
            Body::Frame { frame } => self.local.deliver(&[user], &frame),
            Body::EndSession { session_id } => {
                self.local.publish(Event::EndSession { user, session_id })
            }
            Body::EndUser => self.local.publish(Event::EndUser { user }),
        }
    }
}
