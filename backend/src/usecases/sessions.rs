//! Accounts and sessions: sign up, sign in, sign out, and who a token belongs to.

use super::presence::user_with_presence;
use crate::db::{self, models::UserRow};
use crate::domain::auth::{self, Authenticated};
use crate::domain::users;
use crate::error::AppError;
use crate::fanout::Event;
use crate::state::AppState;
use shared::{DisplayName, LoginRequest, Password, RegisterRequest, UserId, Username};

/// A session just issued: the bearer token (shown once) and the user it signs in.
pub struct NewSession {
    pub token: String,
    pub user: shared::User,
}

/// The live session behind a token; the same check for REST and websocket callers.
pub async fn authenticate(state: &AppState, token: String) -> Result<Authenticated, AppError> {
    state
        .db
        .run(move |conn| auth::find_session(conn, &token, db::now()))
        .await?
        .ok_or_else(|| AppError::Unauthorized("not signed in, or the session has ended".into()))
}

/// Creates an account and signs it in.
pub async fn register(
    state: &AppState,
    request: RegisterRequest,
    user_agent: String,
) -> Result<NewSession, AppError> {
    let RegisterRequest {
        username,
        password,
        display_name,
    } = request;
    let username = Username::parse(&username)?;
    let password = Password::parse(&password)?;
    let display_name = DisplayName::parse(display_name.as_deref().unwrap_or(username.as_str()))?;
    // Argon2 is deliberately slow: hash on its own threads, without holding a connection.
    let hash = state
        .password_hashing
        .run(move || auth::hash_password(&password))
        .await??;
    let user = state
        .db
        .run(move |conn| users::create_user(conn, &username, &display_name, &hash, db::now()))
        .await?;
    start_session(state, user, user_agent).await
}

/// Checks a username and password (limited per username and per client address).
pub async fn login(
    state: &AppState,
    request: LoginRequest,
    client_address: String,
    user_agent: String,
) -> Result<NewSession, AppError> {
    let LoginRequest { username, password } = request;
    let username = username.trim().to_ascii_lowercase();
    state
        .login_failures
        .check(&username, &client_address)
        .map_err(|retry_after_secs| AppError::RateLimited {
            message: "too many failed logins: wait a minute".into(),
            retry_after_secs,
        })?;
    let lookup = username.clone();
    let found = state
        .db
        .run(move |conn| users::find_by_username(conn, &lookup))
        .await?;
    let checked = state
        .password_hashing
        .run(move || auth::check_credentials(found, &password))
        .await?;
    let Some(user) = checked else {
        state.login_failures.failed(&username, &client_address);
        return Err(AppError::Unauthorized("wrong username or password".into()));
    };
    if user.disabled {
        return Err(AppError::Forbidden("this account has been disabled".into()));
    }
    state.login_failures.succeeded(&username);
    start_session(state, user, user_agent).await
}

/// Longest user agent kept for the sessions list.
const USER_AGENT_MAX_CHARS: usize = 256;

/// Issues a new session for `user`, remembering the browser it was issued to.
async fn start_session(
    state: &AppState,
    user: UserRow,
    user_agent: String,
) -> Result<NewSession, AppError> {
    let user_agent: String = user_agent.chars().take(USER_AGENT_MAX_CHARS).collect();
    let (token, token_hash) = auth::new_token();
    let days = state.settings.session_days;
    let user_id = user.id;
    state
        .db
        .run(move |conn| {
            let now = db::now();
            auth::create_session(
                conn,
                user_id,
                &token_hash,
                now,
                now + chrono::Duration::days(days),
                &user_agent,
            )
        })
        .await?;
    Ok(NewSession {
        token,
        user: user_with_presence(state, &user).await,
    })
}

/// Ends the caller's session; its sockets close on every instance.
pub async fn logout(state: &AppState, caller: &Authenticated) -> Result<(), AppError> {
    let session_id = caller.session_id;
    state
        .db
        .run(move |conn| auth::delete_session(conn, session_id))
        .await?;
    state.hub.publish(Event::EndSession {
        user: UserId(caller.user.id),
        session_id,
    });
    Ok(())
}

/// The caller as others see them (with presence).
pub async fn me(state: &AppState, caller: &Authenticated) -> shared::User {
    user_with_presence(state, &caller.user).await
}
