//! What administrators may see and do; every action is written to the audit log.

use super::messages::{page_of_room, Page};
use crate::db::models::{NewAuditEntry, RoomRow, UserRow};
use crate::db::schema::{audit_log, messages, rooms, sessions, users};
use crate::db::{now, to_utc, DbConn};
use crate::error::AppError;
use diesel::prelude::*;
use shared::{AuditEntry, MessagesResponse, UserId};
use std::collections::HashMap;

/// Most audit entries one listing returns (newest first).
const AUDIT_PAGE: i64 = 500;

pub fn record(
    conn: &mut DbConn,
    actor_id: Option<i64>,
    action: &str,
    target_type: &str,
    target_id: i64,
    detail: &str,
) -> Result<(), AppError> {
    diesel::insert_into(audit_log::table)
        .values(NewAuditEntry {
            actor_id,
            action,
            target_type,
            target_id,
            detail,
            created_at: now(),
        })
        .execute(conn)?;
    Ok(())
}

/// Every user with how many messages they sent.
pub fn users_with_counts(conn: &mut DbConn) -> Result<Vec<(UserRow, i64)>, AppError> {
    let rows = users::table
        .order(users::id.asc())
        .select(UserRow::as_select())
        .load(conn)?;
    let counts: HashMap<i64, i64> = messages::table
        .group_by(messages::sender_id)
        .select((messages::sender_id, diesel::dsl::count_star()))
        .load::<(i64, i64)>(conn)?
        .into_iter()
        .collect();
    Ok(rows
        .into_iter()
        .map(|u| {
            let count = counts.get(&u.id).copied().unwrap_or(0);
            (u, count)
        })
        .collect())
}

pub struct AdminRoomRow {
    pub room: RoomRow,
    pub members: [UserRow; 2],
    pub last_message_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// Every room, most recent activity first.
pub fn rooms(conn: &mut DbConn) -> Result<Vec<AdminRoomRow>, AppError> {
    let rows = rooms::table
        .order((rooms::last_activity_at.desc(), rooms::id.desc()))
        .select(RoomRow::as_select())
        .load(conn)?;
    let people: HashMap<i64, UserRow> = users::table
        .select(UserRow::as_select())
        .load(conn)?
        .into_iter()
        .map(|u| (u.id, u))
        .collect();
    let last_times: HashMap<i64, chrono::NaiveDateTime> = messages::table
        .inner_join(
            rooms::table.on(rooms::id
                .eq(messages::room_id)
                .and(rooms::last_seq.eq(messages::seq))),
        )
        .select((messages::room_id, messages::created_at))
        .load::<(i64, chrono::NaiveDateTime)>(conn)?
        .into_iter()
        .collect();
    rows.into_iter()
        .map(|room| {
            let member = |id: i64| {
                people.get(&id).cloned().ok_or_else(|| {
                    AppError::internal(anyhow::anyhow!("room {} lost a member", room.id))
                })
            };
            Ok(AdminRoomRow {
                members: [member(room.user_lo)?, member(room.user_hi)?],
                last_message_at: last_times.get(&room.id).copied().map(to_utc),
                room,
            })
        })
        .collect()
}

pub fn room_messages(
    conn: &mut DbConn,
    room_id: i64,
    page: Page,
) -> Result<MessagesResponse, AppError> {
    let exists = rooms::table
        .find(room_id)
        .select(rooms::id)
        .first::<i64>(conn)
        .optional()?;
    if exists.is_none() {
        return Err(AppError::not_found_room());
    }
    page_of_room(conn, room_id, page)
}

/// Disables an account and ends all its sessions; its messages stay.
pub fn set_disabled(
    conn: &mut DbConn,
    admin: Option<i64>,
    user_id: i64,
    disabled: bool,
) -> Result<(), AppError> {
    if disabled && admin == Some(user_id) {
        return Err(AppError::Validation(
            "user: you cannot disable yourself".into(),
        ));
    }
    conn.transaction(|conn| {
        let updated = diesel::update(users::table.find(user_id))
            .set(users::disabled.eq(disabled))
            .execute(conn)?;
        if updated == 0 {
            return Err(AppError::NotFound("no such user".into()));
        }
        if disabled {
            diesel::delete(sessions::table.filter(sessions::user_id.eq(user_id))).execute(conn)?;
        }
        let action = if disabled {
            "disable_user"
        } else {
            "enable_user"
        };
        record(conn, admin, action, "user", user_id, "")
    })
}

/// Makes `user` an administrator (from the command line), recorded as `action`.
pub fn make_admin(conn: &mut DbConn, user: &UserRow, action: &str) -> Result<(), AppError> {
    diesel::update(users::table.find(user.id))
        .set(users::is_admin.eq(true))
        .execute(conn)?;
    record(conn, None, action, "user", user.id, &user.username)
}

pub fn admins(conn: &mut DbConn) -> Result<Vec<UserRow>, AppError> {
    Ok(users::table
        .filter(users::is_admin.eq(true))
        .order(users::username.asc())
        .select(UserRow::as_select())
        .load(conn)?)
}

pub fn audit(conn: &mut DbConn) -> Result<Vec<AuditEntry>, AppError> {
    let rows = audit_log::table
        .left_join(users::table)
        .order(audit_log::id.desc())
        .limit(AUDIT_PAGE)
        .select((
            audit_log::id,
            audit_log::actor_id,
            users::username.nullable(),
            audit_log::action,
            audit_log::target_type,
            audit_log::target_id,
            audit_log::detail,
            audit_log::created_at,
        ))
        .load::<(
            i64,
            Option<i64>,
            Option<String>,
            String,
            String,
            i64,
            String,
            chrono::NaiveDateTime,
        )>(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(id, actor_id, actor_username, action, target_type, target_id, detail, created_at)| {
                AuditEntry {
                    id,
                    actor_id: actor_id.map(UserId),
                    actor_username,
                    action,
                    target_type,
                    target_id,
                    detail,
                    created_at: to_utc(created_at),
                }
            },
        )
        .collect())
}
