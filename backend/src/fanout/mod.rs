//! Fan-out: which sockets belong to which user, and delivering events to them.
//!
//! `FanOut` is the seam between the websocket sessions and how events travel: the
//! in-process `LocalHub` (`local.rs`), or `RedisHub` (`redis.rs`) for several instances.
//! Each socket reads its events from its own bounded `Inbox` (`inbox.rs`). The fan-out
//! never touches the database.

pub mod inbox;
pub mod local;
pub mod redis;

pub use self::inbox::{Full, Inbox, Received};
pub use self::local::LocalHub;
pub use self::redis::RedisHub;

use actix_ws::CloseCode;
use bytestring::ByteString;
use futures_util::future::BoxFuture;
use shared::{RoomId, ServerFrame, UserId};
use std::collections::HashSet;
use std::sync::Arc;

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

/// A frame queued for a socket, with where it belongs in its room's order (see
/// `ws/sequencer.rs`).
#[derive(Debug, Clone)]
pub struct Outbound {
    pub text: ByteString,
    pub order: Order,
}

/// Where a frame belongs among a socket's frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// Goes out at once.
    Any,
    /// A room's new message: goes out in `seq` order, once.
    Message(RoomId, i64),
    /// A change to the room's message at this `seq`: goes out once the socket has it.
    Update(RoomId, i64),
}

impl Order {
    pub fn of(frame: &ServerFrame) -> Order {
        match frame {
            ServerFrame::Message { message } => Order::Message(message.room_id, message.seq),
            ServerFrame::MessageUpdate { message } => Order::Update(message.room_id, message.seq),
            _ => Order::Any,
        }
    }
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
    fn pubsub_status(&self) -> PubSubStatus;
    /// Closes every socket here (shutdown, or events were missed and clients must catch up).
    fn close_all(&self, code: CloseCode, reason: &'static str);
}

/// How events reach the other instances, as `/api/health` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PubSubStatus {
    /// In-process fan-out: there are no other instances.
    Local,
    /// Connected to the shared bus.
    Up,
    /// The shared bus is unreachable: events reach only this instance's sockets.
    Down,
}

impl PubSubStatus {
    /// The word of api.md's health answer.
    pub fn as_str(self) -> &'static str {
        match self {
            PubSubStatus::Local => "local",
            PubSubStatus::Up => "ok",
            PubSubStatus::Down => "down",
        }
    }
}
