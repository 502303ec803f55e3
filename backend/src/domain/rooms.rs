//! Rooms: exactly one per unordered pair of users, and who may see what in them.

use super::message_views;
use crate::db::models::{MessageRow, NewRoom, NewRoomMember, RoomRow, UserRow};
use crate::db::schema::{messages, room_members, rooms, users};
use crate::db::{is_unique_violation, to_utc, DbConn};
use crate::error::AppError;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use shared::{Message, Room, RoomId};
use std::collections::HashMap;

/// The room of the pair, created if it does not exist yet; `true` when created now.
/// Two people opening the conversation at the same instant still get one room: the unique
/// `(user_lo, user_hi)` constraint makes the loser of the race read the winner's room.
pub fn get_or_create(
    conn: &mut DbConn,
    me: i64,
    peer: i64,
    now: NaiveDateTime,
) -> Result<(RoomRow, bool), AppError> {
    let (lo, hi) = if me < peer { (me, peer) } else { (peer, me) };
    if let Some(room) = find_pair(conn, lo, hi)? {
        return Ok((room, false));
    }
    let created = conn.transaction::<_, diesel::result::Error, _>(|conn| {
        // The insert is the transaction's first statement, so SQLite takes its write lock at
        // once instead of upgrading a read lock (which fails under concurrent writers).
        let room_id = diesel::insert_into(rooms::table)
            .values(NewRoom {
                user_lo: lo,
                user_hi: hi,
                last_seq: 0,
                last_activity_at: now,
                created_at: now,
                last_rev: 0,
            })
            .returning(rooms::id)
            .get_result::<i64>(conn)?;
        for user_id in [lo, hi] {
            diesel::insert_into(room_members::table)
                .values(NewRoomMember {
                    room_id,
                    user_id,
                    last_read_seq: 0,
                })
                .execute(conn)?;
        }
        Ok(room_id)
    });
    match created {
        Ok(room_id) => {
            let room = rooms::table
                .find(room_id)
                .select(RoomRow::as_select())
                .first(conn)?;
            Ok((room, true))
        }
        Err(e) if is_unique_violation(&e) => find_pair(conn, lo, hi)?
            .map(|room| (room, false))
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("room race left no room"))),
        Err(e) => Err(e.into()),
    }
}

pub fn find_pair(conn: &mut DbConn, lo: i64, hi: i64) -> Result<Option<RoomRow>, AppError> {
    Ok(rooms::table
        .filter(rooms::user_lo.eq(lo))
        .filter(rooms::user_hi.eq(hi))
        .select(RoomRow::as_select())
        .first(conn)
        .optional()?)
}

/// The room if `me` is a member. Otherwise the same `NotFound` as for a room that does not
/// exist, so nobody learns which rooms exist.
pub fn member_room(conn: &mut DbConn, me: i64, room_id: i64) -> Result<RoomRow, AppError> {
    rooms::table
        .find(room_id)
        .filter(rooms::user_lo.eq(me).or(rooms::user_hi.eq(me)))
        .select(RoomRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(AppError::not_found_room)
}

/// Every room of `me`, most recent activity first, as `me` sees them (peers offline: the
/// caller fills in presence).
pub fn list(conn: &mut DbConn, me: i64) -> Result<Vec<Room>, AppError> {
    let rows = rooms::table
        .filter(rooms::user_lo.eq(me).or(rooms::user_hi.eq(me)))
        .order((rooms::last_activity_at.desc(), rooms::id.desc()))
        .select(RoomRow::as_select())
        .load(conn)?;
    views(conn, me, rows)
}

/// One room as `me` sees it.
pub fn view(conn: &mut DbConn, me: i64, room: RoomRow) -> Result<Room, AppError> {
    views(conn, me, vec![room])?
        .pop()
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("room view vanished")))
}

/// Builds the API view of many rooms with a fixed number of queries (not one per room).
fn views(conn: &mut DbConn, me: i64, rows: Vec<RoomRow>) -> Result<Vec<Room>, AppError> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let peer_ids: Vec<i64> = rows.iter().map(|r| r.peer_of(me)).collect();

    let members: HashMap<(i64, i64), (i64, bool, bool)> = room_members::table
        .filter(room_members::room_id.eq_any(&ids))
        .select((
            room_members::room_id,
            room_members::user_id,
            room_members::last_read_seq,
            room_members::muted,
            room_members::marked_unread,
        ))
        .load::<(i64, i64, i64, bool, bool)>(conn)?
        .into_iter()
        .map(|(room, user, seq, muted, marked)| ((room, user), (seq, muted, marked)))
        .collect();
    let read_mark = |room: i64, user: i64| members.get(&(room, user)).map_or(0, |m| m.0);
    let pairs: Vec<(i64, i64)> = rows.iter().map(|r| (r.user_lo, r.user_hi)).collect();
    let blocks = super::account::blocks_between(conn, &pairs)?;
    let peers: HashMap<i64, UserRow> = users::table
        .filter(users::id.eq_any(&peer_ids))
        .select(UserRow::as_select())
        .load(conn)?
        .into_iter()
        .map(|u| (u.id, u))
        .collect();
    let last_rows: Vec<MessageRow> = messages::table
        .inner_join(
            rooms::table.on(rooms::id
                .eq(messages::room_id)
                .and(rooms::last_seq.eq(messages::seq))),
        )
        .filter(messages::room_id.eq_any(&ids))
        .select(MessageRow::as_select())
        .load(conn)?;
    let mut last_messages: HashMap<i64, Message> = message_views::views(conn, last_rows)?
        .into_iter()
        .map(|m| (m.room_id.0, m))
        .collect();
    let unread: HashMap<i64, i64> = messages::table
        .inner_join(
            room_members::table.on(room_members::room_id
                .eq(messages::room_id)
                .and(room_members::user_id.eq(me))),
        )
        .filter(messages::room_id.eq_any(&ids))
        .filter(messages::sender_id.ne(me))
        .filter(messages::seq.gt(room_members::last_read_seq))
        .group_by(messages::room_id)
        .select((messages::room_id, diesel::dsl::count_star()))
        .load::<(i64, i64)>(conn)?
        .into_iter()
        .collect();

    rows.into_iter()
        .map(|row| {
            let peer_id = row.peer_of(me);
            let peer = peers.get(&peer_id).ok_or_else(|| {
                AppError::internal(anyhow::anyhow!("room {} lost its peer", row.id))
            })?;
            Ok(Room {
                id: RoomId(row.id),
                peer: peer.to_user(false),
                last_message: last_messages.remove(&row.id),
                last_seq: row.last_seq,
                last_read_seq: read_mark(row.id, me),
                unread: unread.get(&row.id).copied().unwrap_or(0),
                peer_last_read_seq: read_mark(row.id, peer_id),
                muted: members.get(&(row.id, me)).is_some_and(|m| m.1),
                marked_unread: members.get(&(row.id, me)).is_some_and(|m| m.2),
                blocked: blocks.contains(&(me, peer_id)),
                last_activity_at: to_utc(row.last_activity_at),
                last_rev: row.last_rev,
            })
        })
        .collect()
}

/// Moves `me`'s read mark up to `seq` (clamped to the room's last message). Never moves it
/// backwards. Returns the new mark and the room when it moved.
pub fn mark_read(
    conn: &mut DbConn,
    me: i64,
    room_id: i64,
    seq: i64,
) -> Result<Option<(i64, RoomRow)>, AppError> {
    if seq < 0 {
        return Err(AppError::Validation("seq: must not be negative".into()));
    }
    let room = member_room(conn, me, room_id)?;
    let target = seq.min(room.last_seq);
    let moved = diesel::update(
        room_members::table
            .filter(room_members::room_id.eq(room_id))
            .filter(room_members::user_id.eq(me))
            .filter(room_members::last_read_seq.lt(target)),
    )
    .set(room_members::last_read_seq.eq(target))
    .execute(conn)?;
    // Read to the end: whatever "marked unread" said is answered.
    let cleared = if target == room.last_seq {
        diesel::update(
            room_members::table
                .filter(room_members::room_id.eq(room_id))
                .filter(room_members::user_id.eq(me))
                .filter(room_members::marked_unread.eq(true)),
        )
        .set(room_members::marked_unread.eq(false))
        .execute(conn)?
    } else {
        0
    };
    Ok((moved > 0 || cleared > 0).then_some((target, room)))
}

/// Everyone who shares a room with `user` and no block with them (they receive `user`'s
/// presence and profile changes).
pub fn peers_of(conn: &mut DbConn, user: i64) -> Result<Vec<i64>, AppError> {
    let pairs = rooms::table
        .filter(rooms::user_lo.eq(user).or(rooms::user_hi.eq(user)))
        .select((rooms::user_lo, rooms::user_hi))
        .load::<(i64, i64)>(conn)?;
    let blocked = super::account::block_partners(conn, user)?;
    Ok(pairs
        .into_iter()
        .map(|(lo, hi)| if lo == user { hi } else { lo })
        .filter(|peer| !blocked.contains(peer))
        .collect())
}

/// Each of `user`'s rooms with its last `seq`.
pub fn last_seqs(conn: &mut DbConn, user: i64) -> Result<Vec<(i64, i64)>, AppError> {
    Ok(rooms::table
        .filter(rooms::user_lo.eq(user).or(rooms::user_hi.eq(user)))
        .select((rooms::id, rooms::last_seq))
        .load(conn)?)
}
