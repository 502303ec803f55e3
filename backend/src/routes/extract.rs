//! The authenticated caller, from a bearer token or the session cookie.

use crate::domain::auth::Authenticated;
use crate::error::AppError;
use crate::state::AppState;
use crate::usecases::sessions::authenticate;
use actix_web::dev::Payload;
use actix_web::http::{header, Method};
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;
use shared::{UserId, SESSION_COOKIE};

/// A token and whether it came from the cookie (which browsers attach on their own, so
/// cookie-authenticated writes need an `Origin` check against cross-site requests).
pub struct Credentials {
    pub token: String,
    pub from_cookie: bool,
}

pub fn credentials(req: &HttpRequest) -> Option<Credentials> {
    if let Some(value) = req.headers().get(header::AUTHORIZATION) {
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())?;
        return Some(Credentials {
            token: token.to_owned(),
            from_cookie: false,
        });
    }
    req.cookie(SESSION_COOKIE)
        .map(|c| c.value().to_owned())
        .filter(|t| !t.is_empty())
        .map(|token| Credentials {
            token,
            from_cookie: true,
        })
}

/// Cookie-authenticated state changes must come from an allowed origin.
fn check_cross_site(req: &HttpRequest, state: &AppState) -> Result<(), AppError> {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return Ok(());
    }
    let headers = req.headers();
    let allowed = match headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) {
        Some(origin) => state.origins.is_allowed(origin, headers),
        None => headers
            .get("sec-fetch-site")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v == "same-origin"),
    };
    if allowed {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "cross-site request refused: send the token as a bearer token or call from an allowed origin".into(),
        ))
    }
}

pub struct AuthUser(pub Authenticated);

impl AuthUser {
    pub fn id(&self) -> UserId {
        UserId(self.0.user.id)
    }
}

impl FromRequest for AuthUser {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let state = req
                .app_data::<web::Data<AppState>>()
                .ok_or_else(|| AppError::internal(anyhow::anyhow!("app state missing")))?
                .clone();
            let creds =
                credentials(&req).ok_or_else(|| AppError::Unauthorized("sign in first".into()))?;
            if creds.from_cookie {
                check_cross_site(&req, &state)?;
            }
            authenticate(&state, creds.token).await.map(AuthUser)
        })
    }
}

/// An authenticated administrator; anyone else gets 403.
pub struct AdminUser(pub Authenticated);

impl AdminUser {
    pub fn id(&self) -> UserId {
        UserId(self.0.user.id)
    }
}

impl FromRequest for AdminUser {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let caller = AuthUser::from_request(req, payload);
        Box::pin(async move {
            let AuthUser(auth) = caller.await?;
            if auth.user.is_admin && !auth.user.disabled {
                Ok(AdminUser(auth))
            } else {
                Err(AppError::Forbidden("administrators only".into()))
            }
        })
    }
}
