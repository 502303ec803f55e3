//! The use cases both the REST handlers and the websocket sessions run: each one stores
//! through the domain, then tells the fan-out who must hear about it.

use crate::db;
use crate::db::models::UserRow;
use crate::domain::messages::{SendRequest, Stored};
use crate::domain::{rooms, users};
use crate::error::AppError;
use crate::state::AppState;
use crate::writer::PendingSend;
use crate::ws::hub::Event;
use shared::{ClientId, MessageBody, Room, RoomId, ServerFrame, UserId};
use std::sync::Arc;

fn rate_limited(retry_after_secs: u64) -> AppError {
    AppError::RateLimited {
        message: "too many messages: slow down".into(),
        retry_after_secs,
    }
}

/// Checks and queues a message for storage (group-committed by the writer, then fanned
/// out to every socket of both members). The returned future resolves only after the
/// message is durably stored.
pub fn submit_message(
    state: &Arc<AppState>,
    sender: i64,
    room_id: i64,
    body: String,
    client_id: String,
) -> Result<PendingSend, AppError> {
    let client_id = ClientId::parse(client_id)?;
    let body = MessageBody::parse(body)?;
    state
        .send_limiter
        .try_take(&UserId(sender))
        .map_err(rate_limited)?;
    state.writer.submit(SendRequest {
        sender,
        room_id,
        body,
        client_id,
    })
}

/// `submit_message`, then wait until the message is stored.
pub async fn send_message(
    state: &Arc<AppState>,
    sender: i64,
    room_id: i64,
    body: String,
    client_id: String,
) -> Result<Stored, AppError> {
    submit_message(state, sender, room_id, body, client_id)?.await
}

/// Moves the caller's read mark; both members' sockets hear of it when it moved.
pub async fn mark_read(
    state: &Arc<AppState>,
    me: i64,
    room_id: i64,
    seq: i64,
) -> Result<(), AppError> {
    let moved = state
        .db
        .run(move |conn| rooms::mark_read(conn, me, room_id, seq))
        .await?;
    if let Some((seq, room)) = moved {
        state.hub.publish(Event::Deliver {
            to: vec![UserId(room.user_lo), UserId(room.user_hi)],
            frame: ServerFrame::Read {
                room_id: RoomId(room_id),
                user_id: UserId(me),
                seq,
            },
        });
    }
    Ok(())
}

/// Tells the peer that `me` is typing. Over-eager clients are throttled silently.
pub async fn typing(state: &Arc<AppState>, me: i64, room_id: i64) -> Result<(), AppError> {
    if state.typing_limiter.try_take(&UserId(me)).is_err() {
        return Ok(());
    }
    let room = state
        .db
        .run(move |conn| rooms::member_room(conn, me, room_id))
        .await?;
    state.hub.publish(Event::Deliver {
        to: vec![UserId(room.peer_of(me))],
        frame: ServerFrame::Typing {
            room_id: RoomId(room_id),
            user_id: UserId(me),
        },
    });
    Ok(())
}

/// Opens the conversation with `peer_name`, creating it if needed; a new room is announced
/// to both members with a `room` frame. Returns the room as `me` sees it.
pub async fn open_room(
    state: &Arc<AppState>,
    me: i64,
    peer_name: String,
) -> Result<(Room, bool), AppError> {
    let (mine, theirs, created) = state
        .db
        .run(move |conn| {
            let peer = users::find_by_username(conn, peer_name.trim())?
                .filter(|p| !p.disabled)
                .ok_or_else(|| AppError::NotFound(format!("no user named {}", peer_name.trim())))?;
            if peer.id == me {
                return Err(AppError::Validation(
                    "peer: you cannot start a conversation with yourself".into(),
                ));
            }
            let (row, created) = rooms::get_or_create(conn, me, peer.id, db::now())?;
            let mine = rooms::view(conn, me, row.clone())?;
            let theirs = if created {
                Some(rooms::view(conn, peer.id, row)?)
            } else {
                None
            };
            Ok((mine, theirs, created))
        })
        .await?;
    let mine = with_presence(state, mine).await;
    if let Some(theirs) = theirs {
        let peer = mine.peer.id;
        let theirs = with_presence(state, theirs).await;
        state.hub.publish(Event::Deliver {
            to: vec![peer],
            frame: ServerFrame::Room { room: theirs },
        });
        state.hub.publish(Event::Deliver {
            to: vec![UserId(me)],
            frame: ServerFrame::Room { room: mine.clone() },
        });
    }
    Ok((mine, created))
}

/// Tells everyone who shares a room with `user` whether `user` is online now. Sends the
/// current state rather than the transition, so racing connects and disconnects settle right
/// (and a socket closing on one instance does not hide one open on another).
pub async fn announce_presence(state: &Arc<AppState>, user: UserId) {
    let peers = state
        .db
        .run(move |conn| rooms::peers_of(conn, user.0))
        .await;
    match peers {
        Ok(peers) if !peers.is_empty() => {
            let online = state.hub.online(vec![user]).await.contains(&user);
            state.hub.publish(Event::Deliver {
                to: peers.into_iter().map(UserId).collect(),
                frame: ServerFrame::Presence {
                    user_id: user,
                    online,
                },
            })
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, user = %user, "could not announce presence"),
    }
}

/// Fills in each peer's `online` flag.
pub async fn rooms_with_presence(state: &AppState, mut rooms: Vec<Room>) -> Vec<Room> {
    let online = state
        .hub
        .online(rooms.iter().map(|r| r.peer.id).collect())
        .await;
    for room in &mut rooms {
        room.peer.online = online.contains(&room.peer.id);
    }
    rooms
}

pub async fn with_presence(state: &AppState, room: Room) -> Room {
    let mut one = rooms_with_presence(state, vec![room]).await;
    one.swap_remove(0)
}

pub async fn users_with_presence(state: &AppState, users: &[UserRow]) -> Vec<shared::User> {
    let online = state
        .hub
        .online(users.iter().map(|u| UserId(u.id)).collect())
        .await;
    users
        .iter()
        .map(|u| u.to_user(online.contains(&UserId(u.id))))
        .collect()
}

pub async fn user_view(state: &AppState, user: &UserRow) -> shared::User {
    let mut one = users_with_presence(state, std::slice::from_ref(user)).await;
    one.swap_remove(0)
}
