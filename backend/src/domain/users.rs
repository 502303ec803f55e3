//! Accounts and user search.

use crate::db::models::{NewUser, UserRow};
use crate::db::schema::users;
use crate::db::{is_unique_violation, DbConn};
use crate::error::AppError;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use shared::{DisplayName, Username, MAX_USER_SEARCH_RESULTS};

diesel::define_sql_function! {
    /// SQL `lower()`, the same on SQLite and PostgreSQL.
    fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

pub fn create_user(
    conn: &mut DbConn,
    username: &Username,
    display_name: &DisplayName,
    password_hash: &str,
    now: NaiveDateTime,
) -> Result<UserRow, AppError> {
    let id = diesel::insert_into(users::table)
        .values(NewUser {
            username: username.as_str(),
            display_name: &display_name.clone().into_inner(),
            password_hash,
            is_admin: false,
            disabled: false,
            created_at: now,
        })
        .returning(users::id)
        .get_result::<i64>(conn)
        .map_err(|e| {
            if is_unique_violation(&e) {
                AppError::Conflict(format!("the username {} is taken", username.as_str()))
            } else {
                e.into()
            }
        })?;
    find_by_id(conn, id)?.ok_or_else(|| AppError::internal(anyhow::anyhow!("new user vanished")))
}

pub fn find_by_id(conn: &mut DbConn, id: i64) -> Result<Option<UserRow>, AppError> {
    Ok(users::table
        .find(id)
        .select(UserRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn find_by_username(conn: &mut DbConn, username: &str) -> Result<Option<UserRow>, AppError> {
    Ok(users::table
        .filter(users::username.eq(username.to_ascii_lowercase()))
        .select(UserRow::as_select())
        .first(conn)
        .optional()?)
}

/// Escapes LIKE wildcards: `_` is a legal username character and must match literally.
fn like_prefix(prefix: &str) -> String {
    let mut pattern = String::with_capacity(prefix.len() + 1);
    for c in prefix.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// Users whose username or display name starts with `prefix` (case-insensitive), except `me`
/// and disabled accounts.
pub fn search(conn: &mut DbConn, me: i64, prefix: &str) -> Result<Vec<UserRow>, AppError> {
    let pattern = like_prefix(&prefix.trim().to_lowercase());
    Ok(users::table
        .filter(users::id.ne(me))
        .filter(users::disabled.eq(false))
        .filter(
            users::username
                .like(&pattern)
                .escape('\\')
                .or(lower(users::display_name).like(&pattern).escape('\\')),
        )
        .order(users::username.asc())
        .limit(MAX_USER_SEARCH_RESULTS)
        .select(UserRow::as_select())
        .load(conn)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_wildcards_are_escaped() {
        assert_eq!(like_prefix("a_b%"), "a\\_b\\%%");
        assert_eq!(like_prefix(""), "%");
    }
}
