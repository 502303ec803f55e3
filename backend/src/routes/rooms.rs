//! Rooms and their messages.

use super::extract::AuthUser;
use crate::chat::{self, rooms_with_presence, with_presence};
use crate::domain::messages::{self, Page};
use crate::domain::rooms;
use crate::error::AppError;
use crate::state::AppState;
use actix_web::{web, HttpResponse};
use shared::{CreateRoom, MarkRead, MessagesQuery, RoomsResponse, SendMessage};

pub async fn list_rooms(
    state: web::Data<AppState>,
    caller: AuthUser,
) -> Result<HttpResponse, AppError> {
    let me = caller.id();
    let list = state.db.run(move |conn| rooms::list(conn, me)).await?;
    Ok(HttpResponse::Ok().json(RoomsResponse {
        rooms: rooms_with_presence(&state, list).await,
    }))
}

pub async fn create_room(
    state: web::Data<AppState>,
    caller: AuthUser,
    body: web::Json<CreateRoom>,
) -> Result<HttpResponse, AppError> {
    let (room, created) =
        chat::open_room(&state.into_inner(), caller.id(), body.into_inner().peer).await?;
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
    let (me, room_id) = (caller.id(), path.into_inner());
    let room = state
        .db
        .run(move |conn| {
            let row = rooms::member_room(conn, me, room_id)?;
            rooms::view(conn, me, row)
        })
        .await?;
    Ok(HttpResponse::Ok().json(with_presence(&state, room).await))
}

pub async fn list_messages(
    state: web::Data<AppState>,
    caller: AuthUser,
    path: web::Path<i64>,
    query: web::Query<MessagesQuery>,
) -> Result<HttpResponse, AppError> {
    let (me, room_id) = (caller.id(), path.into_inner());
    let page = Page::parse(&query)?;
    let found = state
        .db
        .run(move |conn| messages::page(conn, me, room_id, page))
        .await?;
    Ok(HttpResponse::Ok().json(found))
}

pub async fn send_message(
    state: web::Data<AppState>,
    caller: AuthUser,
    path: web::Path<i64>,
    body: web::Json<SendMessage>,
) -> Result<HttpResponse, AppError> {
    let SendMessage { body, client_id } = body.into_inner();
    let stored = chat::send_message(
        &state.into_inner(),
        caller.id(),
        path.into_inner(),
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
    chat::mark_read(
        &state.into_inner(),
        caller.id(),
        path.into_inner(),
        body.seq,
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
