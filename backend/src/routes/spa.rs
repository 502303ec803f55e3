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

/// Cache-Control for a file of the bundle: trunk puts a content hash in every asset name,
/// so those may be cached for good; `index.html` and the runtime `config.json` must be
/// revalidated so a new release is picked up.
pub fn cache_control(path: &str) -> Option<&'static str> {
    let name = path.rsplit('/').next().unwrap_or_default();
    let hashed = name
        .rsplit_once('.')
        .and_then(|(stem, _)| stem.trim_end_matches("_bg").rsplit_once('-'))
        .is_some_and(|(_, hash)| hash.len() >= 16 && hash.chars().all(|c| c.is_ascii_hexdigit()));
    if hashed {
        Some("public, max-age=31536000, immutable")
    } else if path == "/" || name.ends_with(".html") || name == "config.json" {
        Some("no-cache")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::cache_control;

    #[test]
    fn hashed_assets_are_immutable_and_entry_points_revalidated() {
        assert_eq!(
            cache_control("/frontend-3f2a9c0d4e5b6a71_bg.wasm"),
            Some("public, max-age=31536000, immutable")
        );
        assert_eq!(cache_control("/logo.png"), None);
        assert_eq!(
            cache_control("/frontend-3f2a9c0d4e5b6a71.js"),
            Some("public, max-age=31536000, immutable")
        );
        assert_eq!(cache_control("/index.html"), Some("no-cache"));
        assert_eq!(cache_control("/config.json"), Some("no-cache"));
        assert_eq!(cache_control("/"), Some("no-cache"));
    }
}
