//! Register, login, logout, me.

use super::extract::AuthUser;
use crate::error::AppError;
use crate::origin::client_ip;
use crate::state::AppState;
use crate::usecases::sessions::{self, NewSession};
use actix_web::cookie::{time, Cookie, SameSite};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use shared::{AuthResponse, LoginRequest, RegisterRequest, SESSION_COOKIE};

fn user_agent(req: &HttpRequest) -> String {
    req.headers()
        .get(actix_web::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

fn session_cookie(req: &HttpRequest, token: &str, max_age_days: i64) -> Cookie<'static> {
    Cookie::build(SESSION_COOKIE, token.to_owned())
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(req.connection_info().scheme() == "https")
        .max_age(time::Duration::days(max_age_days))
        .finish()
}

/// Answers with a new session as body and cookie.
fn signed_in(
    state: &AppState,
    req: &HttpRequest,
    status: StatusCode,
    session: NewSession,
) -> HttpResponse {
    HttpResponse::build(status)
        .cookie(session_cookie(
            req,
            &session.token,
            state.settings.session_days,
        ))
        .json(AuthResponse {
            user: session.user,
            token: session.token,
        })
}

pub async fn register(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<RegisterRequest>,
) -> Result<HttpResponse, AppError> {
    let session = sessions::register(&state, body.into_inner(), user_agent(&req)).await?;
    Ok(signed_in(&state, &req, StatusCode::CREATED, session))
}

pub async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<LoginRequest>,
) -> Result<HttpResponse, AppError> {
    let address = client_ip(&req, &state.settings.trusted_proxies)
        .map(|ip| ip.to_string())
        .unwrap_or_default();
    let session = sessions::login(&state, body.into_inner(), address, user_agent(&req)).await?;
    Ok(signed_in(&state, &req, StatusCode::OK, session))
}

pub async fn logout(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: AuthUser,
) -> Result<HttpResponse, AppError> {
    sessions::logout(&state, &caller.0).await?;
    let mut expired = session_cookie(&req, "", 0);
    expired.make_removal();
    Ok(HttpResponse::NoContent().cookie(expired).finish())
}

pub async fn me(state: web::Data<AppState>, caller: AuthUser) -> HttpResponse {
    HttpResponse::Ok().json(sessions::me(&state, &caller.0).await)
}
