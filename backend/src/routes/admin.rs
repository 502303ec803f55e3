//! The administration API: read every stored conversation, moderate.

use super::extract::AdminUser;
use crate::domain::messages::Page;
use crate::error::AppError;
use crate::state::AppState;
use crate::usecases::moderation;
use actix_web::{web, HttpResponse};
use shared::{
    AdminRoomsResponse, AdminUsersResponse, AuditResponse, MessageId, MessagesQuery,
    RevisionsResponse, RoomId, UserId,
};

pub async fn list_users(
    state: web::Data<AppState>,
    _admin: AdminUser,
) -> Result<HttpResponse, AppError> {
    let users = moderation::list_users(&state).await?;
    Ok(HttpResponse::Ok().json(AdminUsersResponse { users }))
}

pub async fn list_rooms(
    state: web::Data<AppState>,
    _admin: AdminUser,
) -> Result<HttpResponse, AppError> {
    let rooms = moderation::list_rooms(&state).await?;
    Ok(HttpResponse::Ok().json(AdminRoomsResponse { rooms }))
}

pub async fn room_messages(
    state: web::Data<AppState>,
    _admin: AdminUser,
    path: web::Path<i64>,
    query: web::Query<MessagesQuery>,
) -> Result<HttpResponse, AppError> {
    let page = Page::parse(&query)?;
    let found = moderation::room_messages(&state, RoomId(path.into_inner()), page).await?;
    Ok(HttpResponse::Ok().json(found))
}

pub async fn delete_message(
    state: web::Data<AppState>,
    caller: AdminUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    moderation::delete_message(&state, caller.id(), MessageId(path.into_inner())).await?;
    Ok(HttpResponse::NoContent().finish())
}

pub async fn message_revisions(
    state: web::Data<AppState>,
    _admin: AdminUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let (revisions, attachments) =
        moderation::revisions(&state, MessageId(path.into_inner())).await?;
    Ok(HttpResponse::Ok().json(RevisionsResponse {
        revisions,
        attachments,
    }))
}

pub async fn disable_user(
    state: web::Data<AppState>,
    caller: AdminUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    moderation::set_disabled(&state, caller.id(), UserId(path.into_inner()), true).await?;
    Ok(HttpResponse::NoContent().finish())
}

pub async fn enable_user(
    state: web::Data<AppState>,
    caller: AdminUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    moderation::set_disabled(&state, caller.id(), UserId(path.into_inner()), false).await?;
    Ok(HttpResponse::NoContent().finish())
}

pub async fn audit(
    state: web::Data<AppState>,
    _admin: AdminUser,
) -> Result<HttpResponse, AppError> {
    let entries = moderation::audit(&state).await?;
    Ok(HttpResponse::Ok().json(AuditResponse { entries }))
}
