//! Rooms and their messages.

use super::extract::AuthUser;
use crate::domain::messages::Page;
use crate::error::AppError;
use crate::state::AppState;
use crate::usecases::messages::MemberChange;
use crate::usecases::{messages, rooms};
use actix_web::{web, HttpResponse};
use shared::{
    CreateRoom, EditMessage, MarkRead, MessagesQuery, RoomId, RoomsResponse, SearchQuery,
    SendMessage,
};

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
    let stored = messages::send_message(
        &state,
        caller.id(),
        RoomId(path.into_inner()),
        body.into_inner(),
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

pub async fn get_message(
    state: web::Data<AppState>,
    caller: AuthUser,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, AppError> {
    let (room, seq) = path.into_inner();
    let message = messages::one_message(&state, caller.id(), RoomId(room), seq).await?;
    Ok(HttpResponse::Ok().json(message))
}

pub async fn edit_message(
    state: web::Data<AppState>,
    caller: AuthUser,
    path: web::Path<(i64, i64)>,
    body: web::Json<EditMessage>,
) -> Result<HttpResponse, AppError> {
    let (room, seq) = path.into_inner();
    let change = MemberChange::Edit(body.into_inner().body);
    let message = messages::change_message(&state, caller.id(), RoomId(room), seq, change).await?;
    Ok(HttpResponse::Ok().json(message))
}

pub async fn delete_message(
    state: web::Data<AppState>,
    caller: AuthUser,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, AppError> {
    let (room, seq) = path.into_inner();
    let change = MemberChange::Delete;
    messages::change_message(&state, caller.id(), RoomId(room), seq, change).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The emoji arrives percent-decoded by the router.
pub async fn add_reaction(
    state: web::Data<AppState>,
    caller: AuthUser,
    path: web::Path<(i64, i64, String)>,
) -> Result<HttpResponse, AppError> {
    let (room, seq, emoji) = path.into_inner();
    let change = MemberChange::React(emoji);
    let message = messages::change_message(&state, caller.id(), RoomId(room), seq, change).await?;
    Ok(HttpResponse::Ok().json(message))
}

pub async fn remove_reaction(
    state: web::Data<AppState>,
    caller: AuthUser,
    path: web::Path<(i64, i64, String)>,
) -> Result<HttpResponse, AppError> {
    let (room, seq, emoji) = path.into_inner();
    let change = MemberChange::Unreact(emoji);
    let message = messages::change_message(&state, caller.id(), RoomId(room), seq, change).await?;
    Ok(HttpResponse::Ok().json(message))
}

pub async fn search(
    state: web::Data<AppState>,
    caller: AuthUser,
    query: web::Query<SearchQuery>,
) -> Result<HttpResponse, AppError> {
    let found = messages::search(&state, caller.id(), query.into_inner()).await?;
    Ok(HttpResponse::Ok().json(found))
}
