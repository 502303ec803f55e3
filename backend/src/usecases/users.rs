//! Finding people to talk to.

use super::presence::users_with_presence;
use crate::domain::users;
use crate::error::AppError;
use crate::state::AppState;
use shared::UserId;

/// Usernames are at most this long; a longer query cannot match and is refused.
const MAX_QUERY_CHARS: usize = shared::validation::USERNAME_MAX_CHARS + 32;

/// Active people (other than `me`) whose username starts with `prefix`.
pub async fn search(
    state: &AppState,
    me: UserId,
    prefix: String,
) -> Result<Vec<shared::User>, AppError> {
    if prefix.chars().count() > MAX_QUERY_CHARS {
        return Err(AppError::BadRequest("q is too long".into()));
    }
    let found = state
        .db
        .run(move |conn| users::search(conn, me.0, &prefix))
        .await?;
    Ok(users_with_presence(state, &found).await)
}
