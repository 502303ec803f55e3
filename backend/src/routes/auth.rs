//! Register, login, logout, me.

use super::extract::AuthUser;
use crate::chat::user_view;
use crate::db::{self, models::UserRow};
use crate::domain::{auth, users};
use crate::error::AppError;
use crate::origin::client_ip;
use crate::state::AppState;
use crate::ws::hub::Event;
use actix_web::cookie::{time, Cookie, SameSite};
use actix_web::{web, HttpRequest, HttpResponse};
use shared::{
    AuthResponse, DisplayName, LoginRequest, Password, RegisterRequest, UserId, Username,
    SESSION_COOKIE,
};

fn session_cookie(req: &HttpRequest, token: &str, max_age_days: i64) -> Cookie<'static> {
    Cookie::build(SESSION_COOKIE, token.to_owned())
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(req.connection_info().scheme() == "https")
        .max_age(time::Duration::days(max_age_days))
        .finish()
}

/// Issues a new session for `user` and answers with it as body and cookie.
async fn start_session(
    state: &AppState,
    req: &HttpRequest,
    user: UserRow,
    status: actix_web::http::StatusCode,
) -> Result<HttpResponse, AppError> {
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
            )
        })
        .await?;
    Ok(HttpResponse::build(status)
        .cookie(session_cookie(req, &token, days))
        .json(AuthResponse {
            user: user_view(state, &user).await,
            token,
        }))
}

pub async fn register(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<RegisterRequest>,
) -> Result<HttpResponse, AppError> {
    let RegisterRequest {
        username,
        password,
        display_name,
    } = body.into_inner();
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
    start_session(&state, &req, user, actix_web::http::StatusCode::CREATED).await
}

pub async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<LoginRequest>,
) -> Result<HttpResponse, AppError> {
    let LoginRequest { username, password } = body.into_inner();
    let username = username.trim().to_ascii_lowercase();
    let ip = client_ip(&req, &state.settings.trusted_proxies)
        .map(|ip| ip.to_string())
        .unwrap_or_default();
    state
        .login_failures
        .check(&username, &ip)
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
        state.login_failures.failed(&username, &ip);
        return Err(AppError::Unauthorized("wrong username or password".into()));
    };
    if user.disabled {
        return Err(AppError::Forbidden("this account has been disabled".into()));
    }
    state.login_failures.succeeded(&username);
    start_session(&state, &req, user, actix_web::http::StatusCode::OK).await
}

pub async fn logout(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: AuthUser,
) -> Result<HttpResponse, AppError> {
    let session_id = caller.0.session_id;
    state
        .db
        .run(move |conn| auth::delete_session(conn, session_id))
        .await?;
    state.hub.publish(Event::EndSession {
        user: UserId(caller.id()),
        session_id,
    });
    let mut expired = session_cookie(&req, "", 0);
    expired.make_removal();
    Ok(HttpResponse::NoContent().cookie(expired).finish())
}

pub async fn me(state: web::Data<AppState>, caller: AuthUser) -> HttpResponse {
    HttpResponse::Ok().json(user_view(&state, &caller.0.user).await)
}
