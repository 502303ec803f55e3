//! Finding people to talk to.

use super::extract::AuthUser;
use crate::error::AppError;
use crate::state::AppState;
use crate::usecases::users;
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
    let users = users::search(&state, caller.id(), query.into_inner().q).await?;
    Ok(HttpResponse::Ok().json(UsersResponse { users }))
}
