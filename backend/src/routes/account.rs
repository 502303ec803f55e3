//! The caller's account: profile, password, sessions, blocks, export; and their view of a room.

use super::extract::AuthUser;
use crate::error::AppError;
use crate::state::AppState;
use crate::usecases::account;
use actix_web::http::header;
use actix_web::{web, HttpResponse};
use shared::{
    ChangePassword, RoomId, SessionsResponse, UpdateMe, UpdateRoom, UserId, UsersResponse,
};

pub async fn update_me(
    state: web::Data<AppState>,
    caller: AuthUser,
    body: web::Json<UpdateMe>,
) -> Result<HttpResponse, AppError> {
    let user =
        account::update_display_name(&state, &caller.0, body.into_inner().display_name).await?;
    Ok(HttpResponse::Ok().json(user))
}

pub async fn change_password(
    state: web::Data<AppState>,
    caller: AuthUser,
    body: web::Json<ChangePassword>,
) -> Result<HttpResponse, AppError> {
    account::change_password(&state, &caller.0, body.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

pub async fn sessions(
    state: web::Data<AppState>,
    caller: AuthUser,
) -> Result<HttpResponse, AppError> {
    let sessions = account::sessions(&state, &caller.0).await?;
    Ok(HttpResponse::Ok().json(SessionsResponse { sessions }))
}

pub async fn end_session(
    state: web::Data<AppState>,
    caller: AuthUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    account::end_session(&state, &caller.0, path.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

pub async fn end_other_sessions(
    state: web::Data<AppState>,
    caller: AuthUser,
) -> Result<HttpResponse, AppError> {
    account::end_other_sessions(&state, &caller.0).await?;
    Ok(HttpResponse::NoContent().finish())
}

pub async fn update_room(
    state: web::Data<AppState>,
    caller: AuthUser,
    path: web::Path<i64>,
    body: web::Json<UpdateRoom>,
) -> Result<HttpResponse, AppError> {
    let room = account::update_room(
        &state,
        caller.id(),
        RoomId(path.into_inner()),
        body.into_inner(),
    )
    .await?;
    Ok(HttpResponse::Ok().json(room))
}

pub async fn block(
    state: web::Data<AppState>,
    caller: AuthUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    account::set_blocked(&state, caller.id(), UserId(path.into_inner()), true).await?;
    Ok(HttpResponse::NoContent().finish())
}

pub async fn unblock(
    state: web::Data<AppState>,
    caller: AuthUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    account::set_blocked(&state, caller.id(), UserId(path.into_inner()), false).await?;
    Ok(HttpResponse::NoContent().finish())
}

pub async fn blocks(
    state: web::Data<AppState>,
    caller: AuthUser,
) -> Result<HttpResponse, AppError> {
    let users = account::blocked_users(&state, caller.id()).await?;
    Ok(HttpResponse::Ok().json(UsersResponse { users }))
}

/// Streamed: the body is written while the history is read, a page at a time.
pub async fn export(state: web::Data<AppState>, caller: AuthUser) -> HttpResponse {
    let (out, pieces) = tokio::sync::mpsc::channel(4);
    account::export(&state, &caller.0, out);
    let body = futures_util::stream::unfold(pieces, |mut pieces| async move {
        pieces.recv().await.map(|piece| (piece, pieces))
    });
    let filename = format!("chat-export-{}.json", caller.0.user.username);
    HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{filename}\""),
        ))
        .streaming(body)
}
