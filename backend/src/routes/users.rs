//! Finding people to talk to.

use super::extract::AuthUser;
use crate::chat::users_with_presence;
use crate::domain::users;
use crate::error::AppError;
use crate::state::AppState;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use shared::UsersResponse;

#[derive(Debug, Deserialize)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
}

pub async fn search_users(
    state: web::Data<AppState>,
    caller: AuthUser,
    query: web::Query<SearchQuery>,
) -> Result<HttpResponse, AppError> {
    let me = caller.id();
    let prefix = query.into_inner().q;
    if prefix.chars().count() > shared::validation::USERNAME_MAX_CHARS + 32 {
        return Err(AppError::BadRequest("q is too long".into()));
    }
    let found = state
        .db
        .run(move |conn| users::search(conn, me, &prefix))
        .await?;
    Ok(HttpResponse::Ok().json(UsersResponse {
        users: users_with_presence(&state, &found).await,
    }))
}
