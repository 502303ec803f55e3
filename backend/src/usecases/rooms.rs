//! Conversations: opening one with a person, listing them, reading one.

use super::presence::{room_with_presence, rooms_with_presence};
use crate::db;
use crate::domain::{rooms, users};
use crate::error::AppError;
use crate::fanout::Event;
use crate::state::AppState;
use shared::{Room, RoomId, ServerFrame, UserId};

/// Opens the conversation with `peer_name`, creating it if needed; a new room is announced
/// to both members with a `room` frame. Returns the room as `me` sees it, and whether it is
/// new.
pub async fn open_room(
    state: &AppState,
    me: UserId,
    peer_name: String,
) -> Result<(Room, bool), AppError> {
    let (mine, theirs, created) = state
        .db
        .run(move |conn| {
            let peer = users::find_by_username(conn, peer_name.trim())?
                .filter(|p| !p.disabled)
                .ok_or_else(|| AppError::NotFound(format!("no user named {}", peer_name.trim())))?;
            if peer.id == me.0 {
                return Err(AppError::Validation(
                    "peer: you cannot start a conversation with yourself".into(),
                ));
            }
            let (row, created) = rooms::get_or_create(conn, me.0, peer.id, db::now())?;
            let mine = rooms::view(conn, me.0, row.clone())?;
            let theirs = if created {
                Some(rooms::view(conn, peer.id, row)?)
            } else {
                None
            };
            Ok((mine, theirs, created))
        })
        .await?;
    let mine = room_with_presence(state, mine).await;
    if let Some(theirs) = theirs {
        let peer = mine.peer.id;
        let theirs = room_with_presence(state, theirs).await;
        state.hub.publish(Event::Deliver {
            to: vec![peer],
            frame: ServerFrame::Room { room: theirs },
        });
        state.hub.publish(Event::Deliver {
            to: vec![me],
            frame: ServerFrame::Room { room: mine.clone() },
        });
    }
    Ok((mine, created))
}

/// The caller's conversations, most recent first, with the peers' presence.
pub async fn list_rooms(state: &AppState, me: UserId) -> Result<Vec<Room>, AppError> {
    let list = state.db.run(move |conn| rooms::list(conn, me.0)).await?;
    Ok(rooms_with_presence(state, list).await)
}

/// One conversation of the caller's (404 for anyone else's).
pub async fn get_room(state: &AppState, me: UserId, room_id: RoomId) -> Result<Room, AppError> {
    let room = state
        .db
        .run(move |conn| {
            let row = rooms::member_room(conn, me.0, room_id.0)?;
            rooms::view(conn, me.0, row)
        })
        .await?;
    Ok(room_with_presence(state, room).await)
}
