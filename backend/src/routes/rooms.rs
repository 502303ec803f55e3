//! Rooms and their messages.

use super::extract::AuthUser;
use crate::domain::messages::Page;
use crate::error::AppError;
use crate::state::AppState;
use crate::usecases::{messages, rooms};
use actix_web::{web, HttpResponse};
use shared::{CreateRoom, MarkRead, MessagesQuery, RoomId, RoomsResponse, SendMessage};

pub async fn list_rooms(
    state: web::Data<AppState>,
    caller: AuthUser,
) -> Result<HttpResponse, AppError> {
    let rooms = rooms::list_rooms(&state, caller.id()).await?;
    Ok(HttpResponse::Ok().json(RoomsResponse { rooms }))
}

pub async fn create_room(
    state: web::Data<AppState>,
    caller: AuthUser,
    body: web::Json<CreateRoom>,
) -> Result<HttpResponse, AppError> {
    let (room, created) = rooms::open_room(&state, caller.id(), body.into_inner().peer).await?;
    Ok(if created {
        HttpResponse::Created().json(room)
    } else {
        HttpResponse::Ok().json(room)
    })
}

pub async fn get_room(
    state: web::Data<AppState>,
    caller: AuthUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let room = rooms::get_room(&state, caller.id(), RoomId(path.into_inner())).await?;
    Ok(HttpResponse::Ok().json(room))
}

pub async fn list_messages(
    state: web::Data<AppState>,
    caller: AuthUser,
    path: web::Path<i64>,
    query: web::Query<MessagesQuery>,
) -> Result<HttpResponse, AppError> {
    let page = Page::parse(&query)?;
    let found = messages::history(&state, caller.id(), RoomId(path.into_inner()), page).await?;
    Ok(HttpResponse::Ok().json(found))
}

pub async fn send_message(
    state: web::Data<AppState>,
    caller: AuthUser,
    path: web::Path<i64>,
    body: web::Json<SendMessage>,
) -> Result<HttpResponse, AppError> {
    let SendMessage { body, client_id } = body.into_inner();
    let stored = messages::send_message(
        &state,
        caller.id(),
        RoomId(path.into_inner()),
        body,
        client_id,
    )
    .await?;
    Ok(if stored.created {
        HttpResponse::Created().json(stored.message)
    } else {
        HttpResponse::Ok().json(stored.message)
    })
}

pub async fn mark_read(
    state: web::Data<AppState>,
    caller: AuthUser,
    path: web::Path<i64>,
    body: web::Json<MarkRead>,
) -> Result<HttpResponse, AppError> {
    messages::mark_read(&state, caller.id(), RoomId(path.into_inner()), body.seq).await?;
    Ok(HttpResponse::NoContent().finish())
}
