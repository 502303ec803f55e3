//! Who is online, as every view of a user or a room shows it.

use crate::db::models::UserRow;
use crate::domain::rooms;
use crate::fanout::Event;
use crate::state::AppState;
use shared::{Room, ServerFrame, UserId};

/// Tells everyone who shares a room with `user` whether `user` is online now. Sends the
/// current state rather than the transition, so racing connects and disconnects settle right
/// (and a socket closing on one instance does not hide one open on another).
pub async fn announce(state: &AppState, user: UserId) {
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
    hide_blocked(state, rooms).await
}

/// Each side of a block sees the other offline.
async fn hide_blocked(state: &AppState, mut rooms: Vec<Room>) -> Vec<Room> {
    if rooms.is_empty() {
        return rooms;
    }
    let ids: Vec<i64> = rooms.iter().map(|r| r.id.0).collect();
    let blocked = state
        .db
        .run(move |conn| Ok(crate::domain::account::blocked_rooms(conn, &ids)?))
        .await
        .unwrap_or_default();
    for room in &mut rooms {
        if blocked.contains(&room.id.0) {
            room.peer.online = false;
        }
    }
    rooms
}

pub async fn room_with_presence(state: &AppState, room: Room) -> Room {
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

pub async fn user_with_presence(state: &AppState, user: &UserRow) -> shared::User {
    let mut one = users_with_presence(state, std::slice::from_ref(user)).await;
    one.swap_remove(0)
}
