//! The single-page app: its files, and `index.html` for every client-side route.

use crate::error::AppError;
use actix_files::NamedFile;
use actix_web::http::header::{CacheControl, CacheDirective};
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use std::path::Path;

/// Answers a path that matched no file: a route of the SPA gets `index.html`, a missing asset
/// (a path with a file extension) gets 404 so a broken build is not masked by HTML.
pub fn fallback(req: &HttpRequest, index: &Path) -> HttpResponse {
    let last_segment = req.path().rsplit('/').next().unwrap_or_default();
    if last_segment.contains('.') {
        AppError::NotFound("no such file".into()).error_response()
    } else {
        index_response(req, index)
    }
}

fn index_response(req: &HttpRequest, index: &Path) -> HttpResponse {
    match NamedFile::open(index) {
        Ok(file) => {
            let mut response = file.into_response(req);
            // Asset names are hashed; only index.html must always be revalidated.
            response.headers_mut().insert(
                actix_web::http::header::CACHE_CONTROL,
                CacheControl(vec![CacheDirective::NoCache])
                    .to_string()
                    .parse()
                    .unwrap_or_else(|_| {
                        actix_web::http::header::HeaderValue::from_static("no-cache")
                    }),
            );
            response
        }
        Err(_) => not_built().error_response(),
    }
}

fn not_built() -> AppError {
    AppError::NotFound("the web app is not built: run scripts/build-frontend.sh".into())
}

/// Shown at `/` when no bundle is present, so the API still runs and says what is missing.
pub async fn placeholder() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body("<!doctype html><title>Chat</title><p>The chat server is running, but the web app is not built. Run <code>scripts/build-frontend.sh</code> and reload.</p>")
}
