//! The administration API: read every stored conversation, moderate.

use super::extract::AdminUser;
use crate::chat::users_with_presence;
use crate::domain::admin;
use crate::domain::messages::Page;
use crate::error::AppError;
use crate::state::AppState;
use crate::ws::hub::Event;
use actix_web::{web, HttpResponse};
use shared::{
    AdminRoom, AdminRoomsResponse, AdminUser as AdminUserView, AdminUsersResponse, AuditResponse,
    MessagesQuery, RoomId, ServerFrame, UserId,
};

pub async fn list_users(
    state: web::Data<AppState>,
    _admin: AdminUser,
) -> Result<HttpResponse, AppError> {
    let rows = state.db.run(admin::users_with_counts).await?;
    let plain: Vec<_> = rows.iter().map(|(u, _)| u.clone()).collect();
    let views = users_with_presence(&state, &plain).await;
    let users = rows
        .into_iter()
        .zip(views)
        .map(|((row, message_count), user)| AdminUserView {
            user,
            created_at: crate::db::to_utc(row.created_at),
            disabled: row.disabled,
            message_count,
        })
        .collect();
    Ok(HttpResponse::Ok().json(AdminUsersResponse { users }))
}

pub async fn list_rooms(
    state: web::Data<AppState>,
    _admin: AdminUser,
) -> Result<HttpResponse, AppError> {
    let rows = state.db.run(admin::rooms).await?;
    let members: Vec<_> = rows
        .iter()
        .flat_map(|r| r.members.iter().cloned())
        .collect();
    let views = users_with_presence(&state, &members).await;
    let rooms = rows
        .into_iter()
        .zip(views.chunks(2))
        .map(|(row, pair)| AdminRoom {
            id: RoomId(row.room.id),
            members: pair.to_vec(),
            last_seq: row.room.last_seq,
            last_message_at: row.last_message_at,
        })
        .collect();
    Ok(HttpResponse::Ok().json(AdminRoomsResponse { rooms }))
}

pub async fn room_messages(
    state: web::Data<AppState>,
    _admin: AdminUser,
    path: web::Path<i64>,
    query: web::Query<MessagesQuery>,
) -> Result<HttpResponse, AppError> {
    let room_id = path.into_inner();
    let page = Page::parse(&query)?;
    let found = state
        .db
        .run(move |conn| admin::room_messages(conn, room_id, page))
        .await?;
    Ok(HttpResponse::Ok().json(found))
}

/// Tombstones a message; both members' open clients get a `message_update` at once.
pub async fn delete_message(
    state: web::Data<AppState>,
    caller: AdminUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let (actor, message_id) = (caller.id(), path.into_inner());
    let (message, room) = state
        .db
        .run(move |conn| admin::delete_message(conn, actor, message_id))
        .await?;
    state.hub.publish(Event::Deliver {
        to: vec![UserId(room.user_lo), UserId(room.user_hi)],
        frame: ServerFrame::MessageUpdate { message },
    });
    Ok(HttpResponse::NoContent().finish())
}

/// Disables an account: its sessions end and its sockets close on every instance.
pub async fn disable_user(
    state: web::Data<AppState>,
    caller: AdminUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    set_disabled(state, caller, path.into_inner(), true).await
}

pub async fn enable_user(
    state: web::Data<AppState>,
    caller: AdminUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    set_disabled(state, caller, path.into_inner(), false).await
}

async fn set_disabled(
    state: web::Data<AppState>,
    caller: AdminUser,
    user_id: i64,
    disabled: bool,
) -> Result<HttpResponse, AppError> {
    let actor = caller.id();
    state
        .db
        .run(move |conn| admin::set_disabled(conn, Some(actor), user_id, disabled))
        .await?;
    if disabled {
        state.hub.publish(Event::EndUser {
            user: UserId(user_id),
        });
    }
    Ok(HttpResponse::NoContent().finish())
}

pub async fn audit(
    state: web::Data<AppState>,
    _admin: AdminUser,
) -> Result<HttpResponse, AppError> {
    let entries = state.db.run(admin::audit).await?;
    Ok(HttpResponse::Ok().json(AuditResponse { entries }))
}
