//! A user's own account and view: profile, password, sessions, blocks, each room's settings.

use crate::db::models::UserRow;
use crate::db::schema::{blocks, room_members, rooms, sessions, users};
use crate::db::{to_utc, DbConn};
use crate::error::AppError;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use shared::{DisplayName, SessionInfo, UpdateRoom};

pub fn set_display_name(
    conn: &mut DbConn,
    me: i64,
    name: &DisplayName,
) -> Result<UserRow, AppError> {
    diesel::update(users::table.find(me))
        .set(users::display_name.eq(name.clone().into_inner()))
        .execute(conn)?;
    Ok(users::table
        .find(me)
        .select(UserRow::as_select())
        .first(conn)?)
}

/// Stores a new password hash and ends every session of the user but `keep`; returns the
/// ended sessions' ids.
pub fn set_password(
    conn: &mut DbConn,
    me: i64,
    hash: &str,
    keep: i64,
) -> Result<Vec<i64>, AppError> {
    conn.transaction(|conn| {
        diesel::update(users::table.find(me))
            .set(users::password_hash.eq(hash))
            .execute(conn)?;
        end_sessions(conn, me, Some(keep))
    })
}

/// Ends the user's sessions (all but `keep`, when given); returns their ids.
pub fn end_sessions(conn: &mut DbConn, me: i64, keep: Option<i64>) -> Result<Vec<i64>, AppError> {
    let ended: Vec<i64> = sessions::table
        .filter(sessions::user_id.eq(me))
        .filter(sessions::id.ne(keep.unwrap_or(-1)))
        .select(sessions::id)
        .load(conn)?;
    diesel::delete(sessions::table.filter(sessions::id.eq_any(&ended))).execute(conn)?;
    Ok(ended)
}

/// Ends one of the user's sessions; 404 when it is not theirs.
pub fn end_session(conn: &mut DbConn, me: i64, session_id: i64) -> Result<(), AppError> {
    let removed = diesel::delete(
        sessions::table
            .filter(sessions::id.eq(session_id))
            .filter(sessions::user_id.eq(me)),
    )
    .execute(conn)?;
    if removed == 0 {
        return Err(AppError::NotFound("no such session".into()));
    }
    Ok(())
}

pub fn list_sessions(
    conn: &mut DbConn,
    me: i64,
    current: i64,
    now: NaiveDateTime,
) -> Result<Vec<SessionInfo>, AppError> {
    let rows = sessions::table
        .filter(sessions::user_id.eq(me))
        .filter(sessions::expires_at.gt(now))
        .order(sessions::id.desc())
        .select((
            sessions::id,
            sessions::created_at,
            sessions::last_used_at,
            sessions::user_agent,
        ))
        .load::<(i64, NaiveDateTime, Option<NaiveDateTime>, String)>(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, created_at, last_used_at, user_agent)| SessionInfo {
            id,
            created_at: to_utc(created_at),
            last_used_at: to_utc(last_used_at.unwrap_or(created_at)),
            user_agent,
            current: id == current,
        })
        .collect())
}

/// Sets what the caller asked of their view of a room (membership already checked).
pub fn update_room_view(
    conn: &mut DbConn,
    me: i64,
    room_id: i64,
    update: &UpdateRoom,
) -> Result<(), AppError> {
    let mine = room_members::table
        .filter(room_members::room_id.eq(room_id))
        .filter(room_members::user_id.eq(me));
    if let Some(muted) = update.muted {
        diesel::update(mine)
            .set(room_members::muted.eq(muted))
            .execute(conn)?;
    }
    if let Some(marked) = update.marked_unread {
        diesel::update(mine)
            .set(room_members::marked_unread.eq(marked))
            .execute(conn)?;
    }
    Ok(())
}

/// True when the change was made (not already blocked).
pub fn block(conn: &mut DbConn, me: i64, other: i64, now: NaiveDateTime) -> Result<bool, AppError> {
    if me == other {
        return Err(AppError::Validation(
            "user: you cannot block yourself".into(),
        ));
    }
    let exists = users::table
        .find(other)
        .select(users::id)
        .first::<i64>(conn)
        .optional()?;
    if exists.is_none() {
        return Err(AppError::NotFound("no such user".into()));
    }
    let added = match conn {
        #[cfg(feature = "postgres")]
        DbConn::Pg(pg) => diesel::insert_into(blocks::table)
            .values((
                blocks::blocker_id.eq(me),
                blocks::blocked_id.eq(other),
                blocks::created_at.eq(now),
            ))
            .on_conflict_do_nothing()
            .execute(pg)?,
        #[cfg(feature = "sqlite")]
        DbConn::Sqlite(sqlite) => diesel::insert_or_ignore_into(blocks::table)
            .values((
                blocks::blocker_id.eq(me),
                blocks::blocked_id.eq(other),
                blocks::created_at.eq(now),
            ))
            .execute(sqlite)?,
    };
    Ok(added > 0)
}

/// True when the change was made (was blocked).
pub fn unblock(conn: &mut DbConn, me: i64, other: i64) -> Result<bool, AppError> {
    if me == other {
        return Err(AppError::Validation(
            "user: you cannot block yourself".into(),
        ));
    }
    let exists = users::table
        .find(other)
        .select(users::id)
        .first::<i64>(conn)
        .optional()?;
    if exists.is_none() {
        return Err(AppError::NotFound("no such user".into()));
    }
    let removed = diesel::delete(
        blocks::table
            .filter(blocks::blocker_id.eq(me))
            .filter(blocks::blocked_id.eq(other)),
    )
    .execute(conn)?;
    Ok(removed > 0)
}

pub fn blocked_by(conn: &mut DbConn, me: i64) -> Result<Vec<UserRow>, AppError> {
    Ok(blocks::table
        .inner_join(users::table.on(users::id.eq(blocks::blocked_id)))
        .filter(blocks::blocker_id.eq(me))
        .order(users::username.asc())
        .select(UserRow::as_select())
        .load(conn)?)
}

/// Who blocks whom among these pairs: `(blocker, blocked)` for each block between them.
pub fn blocks_between(conn: &mut DbConn, pairs: &[(i64, i64)]) -> QueryResult<Vec<(i64, i64)>> {
    if pairs.is_empty() {
        return Ok(Vec::new());
    }
    let people: Vec<i64> = pairs.iter().flat_map(|(a, b)| [*a, *b]).collect();
    let found: Vec<(i64, i64)> = blocks::table
        .filter(blocks::blocker_id.eq_any(&people))
        .filter(blocks::blocked_id.eq_any(&people))
        .select((blocks::blocker_id, blocks::blocked_id))
        .load(conn)?;
    Ok(found
        .into_iter()
        .filter(|(x, y)| {
            pairs
                .iter()
                .any(|(a, b)| (a, b) == (x, y) || (a, b) == (y, x))
        })
        .collect())
}

/// Which of these rooms have a block between their members.
pub fn blocked_rooms(conn: &mut DbConn, room_ids: &[i64]) -> QueryResult<Vec<i64>> {
    let pairs: Vec<(i64, i64, i64)> = rooms::table
        .filter(rooms::id.eq_any(room_ids))
        .select((rooms::id, rooms::user_lo, rooms::user_hi))
        .load(conn)?;
    let only_pairs: Vec<(i64, i64)> = pairs.iter().map(|(_, lo, hi)| (*lo, *hi)).collect();
    let blocks = blocks_between(conn, &only_pairs)?;
    Ok(pairs
        .into_iter()
        .filter(|(_, lo, hi)| blocks.contains(&(*lo, *hi)) || blocks.contains(&(*hi, *lo)))
        .map(|(id, _, _)| id)
        .collect())
}

/// The people `me` has blocked or is blocked by.
pub fn block_partners(conn: &mut DbConn, me: i64) -> QueryResult<Vec<i64>> {
    let mut partners: Vec<i64> = blocks::table
        .filter(blocks::blocker_id.eq(me))
        .select(blocks::blocked_id)
        .load(conn)?;
    partners.extend(
        blocks::table
            .filter(blocks::blocked_id.eq(me))
            .select(blocks::blocker_id)
            .load::<i64>(conn)?,
    );
    Ok(partners)
}

/// Why `sender` may not send to `peer`, if a block stands between them.
pub fn send_refusal(blocks: &[(i64, i64)], sender: i64, peer: i64) -> Option<AppError> {
    if blocks.contains(&(sender, peer)) {
        return Some(AppError::Forbidden(
            "you blocked this person: unblock them first".into(),
        ));
    }
    if blocks.contains(&(peer, sender)) {
        return Some(AppError::Forbidden(
            "this person is not accepting messages from you".into(),
        ));
    }
    None
}
