//! The caller's own account and view: profile, password, sessions, blocks, room settings,
//! and the export of everything they can read.

use super::presence::{announce, room_with_presence, user_with_presence};
use crate::db;
use crate::domain::auth::{self, Authenticated};
use crate::domain::messages::{page_of_room, Page};
use crate::domain::{account, rooms};
use crate::error::AppError;
use crate::fanout::Event;
use crate::state::AppState;
use shared::{
    ChangePassword, DisplayName, Password, Room, RoomId, ServerFrame, SessionInfo, UpdateRoom,
    User, UserId,
};

/// Renames the caller; they and everyone who shares a room with them get `user`.
pub async fn update_display_name(
    state: &AppState,
    caller: &Authenticated,
    display_name: String,
) -> Result<User, AppError> {
    let name = DisplayName::parse(&display_name)?;
    let me = caller.user.id;
    let (row, peers) = state
        .db
        .run(move |conn| {
            let row = account::set_display_name(conn, me, &name)?;
            Ok((row, rooms::peers_of(conn, me)?))
        })
        .await?;
    let user = user_with_presence(state, &row).await;
    let mut to: Vec<UserId> = peers.into_iter().map(UserId).collect();
    to.push(UserId(me));
    state.hub.publish(Event::Deliver {
        to,
        frame: ServerFrame::User { user: user.clone() },
    });
    Ok(user)
}

/// Changes the password after checking the current one; every other session ends at once
/// (its requests get 401, its sockets close on every instance), the caller's stays.
pub async fn change_password(
    state: &AppState,
    caller: &Authenticated,
    request: ChangePassword,
) -> Result<(), AppError> {
    let stored = caller.user.password_hash.clone();
    let current = request.current_password;
    let right = state
        .password_hashing
        .run(move || auth::verify_password(&stored, &current))
        .await?;
    if !right {
        return Err(AppError::Forbidden("the current password is wrong".into()));
    }
    let new = Password::parse(&request.new_password)?;
    let hash = state
        .password_hashing
        .run(move || auth::hash_password(&new))
        .await??;
    let (me, keep) = (caller.user.id, caller.session_id);
    let ended = state
        .db
        .run(move |conn| account::set_password(conn, me, &hash, keep))
        .await?;
    end_sockets(state, me, ended);
    Ok(())
}

fn end_sockets(state: &AppState, me: i64, sessions: Vec<i64>) {
    for session_id in sessions {
        state.hub.publish(Event::EndSession {
            user: UserId(me),
            session_id,
        });
    }
}

pub async fn sessions(
    state: &AppState,
    caller: &Authenticated,
) -> Result<Vec<SessionInfo>, AppError> {
    let (me, current) = (caller.user.id, caller.session_id);
    state
        .db
        .run(move |conn| account::list_sessions(conn, me, current, db::now()))
        .await
}

/// Ends one of the caller's sessions everywhere.
pub async fn end_session(
    state: &AppState,
    caller: &Authenticated,
    session_id: i64,
) -> Result<(), AppError> {
    let me = caller.user.id;
    state
        .db
        .run(move |conn| account::end_session(conn, me, session_id))
        .await?;
    end_sockets(state, me, vec![session_id]);
    Ok(())
}

/// Ends every session of the caller's but this one.
pub async fn end_other_sessions(state: &AppState, caller: &Authenticated) -> Result<(), AppError> {
    let (me, keep) = (caller.user.id, caller.session_id);
    let ended = state
        .db
        .run(move |conn| account::end_sessions(conn, me, Some(keep)))
        .await?;
    end_sockets(state, me, ended);
    Ok(())
}

/// The caller's view of a room: muted, marked unread. Their own tabs get `room_update`.
pub async fn update_room(
    state: &AppState,
    me: UserId,
    room_id: RoomId,
    update: UpdateRoom,
) -> Result<Room, AppError> {
    let room = state
        .db
        .run(move |conn| {
            let row = rooms::member_room(conn, me.0, room_id.0)?;
            account::update_room_view(conn, me.0, room_id.0, &update)?;
            rooms::view(conn, me.0, row)
        })
        .await?;
    let room = room_with_presence(state, room).await;
    room_changed(state, me, room.clone());
    Ok(room)
}

/// Tells the caller's own sockets how they now see a room.
pub fn room_changed(state: &AppState, me: UserId, room: Room) {
    state.hub.publish(Event::Deliver {
        to: vec![me],
        frame: ServerFrame::RoomUpdate { room },
    });
}

/// Blocks (or unblocks) a user. While a block stands, sends between them are refused both
/// ways, typing does not cross, and each sees the other offline.
pub async fn set_blocked(
    state: &AppState,
    me: UserId,
    other: UserId,
    blocked: bool,
) -> Result<(), AppError> {
    let (changed, room) = state
        .db
        .run(move |conn| {
            let changed = if blocked {
                account::block(conn, me.0, other.0, db::now())?
            } else {
                account::unblock(conn, me.0, other.0)?
            };
            let room = match rooms::find_pair(conn, me.0.min(other.0), me.0.max(other.0))? {
                Some(row) if changed => Some(rooms::view(conn, me.0, row)?),
                _ => None,
            };
            Ok((changed, room))
        })
        .await?;
    if !changed {
        return Ok(());
    }
    if blocked {
        for (to, user_id) in [(me, other), (other, me)] {
            state.hub.publish(Event::Deliver {
                to: vec![to],
                frame: ServerFrame::Presence {
                    user_id,
                    online: false,
                },
            });
        }
    } else {
        announce(state, me).await;
        announce(state, other).await;
    }
    if let Some(room) = room {
        let room = room_with_presence(state, room).await;
        room_changed(state, me, room);
    }
    Ok(())
}

pub async fn blocked_users(state: &AppState, me: UserId) -> Result<Vec<User>, AppError> {
    let rows = state
        .db
        .run(move |conn| account::blocked_by(conn, me.0))
        .await?;
    // Blocked people are shown offline, as everywhere else.
    Ok(rows.iter().map(|u| u.to_user(false)).collect())
}

/// Messages per page while exporting: the export never holds more than this many at once.
const EXPORT_PAGE: i64 = 500;

/// Everything the caller can read, as the JSON of `shared::Export`, written piece by piece to
/// `out` (room by room, a page of messages at a time) from a blocking thread, so a user with
/// a long history never makes the server hold it whole. Stops when the receiver is gone.
pub fn export(
    state: &AppState,
    caller: &Authenticated,
    out: tokio::sync::mpsc::Sender<Result<actix_web::web::Bytes, AppError>>,
) {
    let db = state.db.clone();
    let me = caller.user.clone();
    tokio::task::spawn_blocking(move || {
        let send = |text: String| out.blocking_send(Ok(text.into_bytes().into())).is_ok();
        let result = (|| -> Result<(), AppError> {
            let mut conn = db.get_blocking()?;
            let list = rooms::list(&mut conn, me.id)?;
            let user = serde_json::to_string(&me.to_user(false)).map_err(AppError::internal)?;
            if !send(format!("{{\"user\":{user},\"rooms\":[")) {
                return Ok(());
            }
            for (i, room) in list.into_iter().enumerate() {
                let head = serde_json::to_string(&room).map_err(AppError::internal)?;
                let comma = if i == 0 { "" } else { "," };
                if !send(format!("{comma}{{\"room\":{head},\"messages\":[")) {
                    return Ok(());
                }
                let mut after = 0;
                let mut first = true;
                loop {
                    let page = Page::After {
                        seq: after,
                        limit: EXPORT_PAGE,
                    };
                    let found = page_of_room(&mut conn, room.id.0, page)?;
                    let mut chunk = String::new();
                    for message in &found.messages {
                        if !first {
                            chunk.push(',');
                        }
                        first = false;
                        chunk
                            .push_str(&serde_json::to_string(message).map_err(AppError::internal)?);
                        after = message.seq;
                    }
                    if !send(chunk) {
                        return Ok(());
                    }
                    if !found.has_more {
                        break;
                    }
                }
                if !send("]}".into()) {
                    return Ok(());
                }
            }
            send("]}".into());
            Ok(())
        })();
        if let Err(e) = result {
            // The status line has gone out: the truncated body is the only sign left.
            tracing::warn!(error = %e, user = me.id, "export failed part way");
            let _ = out.blocking_send(Err(e));
        }
    });
}
