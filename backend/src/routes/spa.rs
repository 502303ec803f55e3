//! The single-page app: its files, and `index.html` for every client-side route.

use crate::error::AppError;
use actix_files::NamedFile;
use actix_web::http::header::{
    self, AcceptEncoding, CacheControl, CacheDirective, ContentEncoding, Encoding,
};
use actix_web::{web, HttpMessage, HttpRequest, HttpResponse, ResponseError};
use std::path::Path;
use std::sync::OnceLock;

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

/// The security headers of the app's HTML document, the same as nginx's (`nginx/render.sh`
/// and `chat.conf.template`), so the embedded topology runs the SPA under the production
/// Content-Security-Policy too: a `style` attribute or an unlisted inline script fails here
/// first. `index.html` is read on each answer (a few KiB) because every build changes the
/// inline bootstrap script, and with it the hash the policy must allow.
pub fn document_headers(index: &Path) -> Vec<(header::HeaderName, header::HeaderValue)> {
    let html = std::fs::read_to_string(index).unwrap_or_default();
    let mut script_src = String::from("'self' 'wasm-unsafe-eval'");
    for hash in inline_script_hashes(&html) {
        script_src.push_str(&format!(" 'sha256-{hash}'"));
    }
    let policy = format!(
        "default-src 'self'; script-src {script_src}; style-src 'self'; img-src 'self' data: blob:; \
         connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
         frame-ancestors 'none'"
    );
    [
        (header::CONTENT_SECURITY_POLICY, policy),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
        (header::X_FRAME_OPTIONS, "DENY".to_owned()),
        (header::REFERRER_POLICY, "no-referrer".to_owned()),
    ]
    .into_iter()
    .filter_map(|(name, value)| Some((name, header::HeaderValue::from_str(&value).ok()?)))
    .collect()
}

/// The base64 sha256 of each inline `<script>` (no `src`, not empty), as CSP hashes them.
fn inline_script_hashes(html: &str) -> Vec<String> {
    use base64::Engine as _;
    use sha2::Digest as _;
    static SCRIPT: OnceLock<regex_lite::Regex> = OnceLock::new();
    static SRC: OnceLock<regex_lite::Regex> = OnceLock::new();
    // expect: constant patterns, exercised by the tests below.
    #[allow(clippy::expect_used)]
    let script = SCRIPT.get_or_init(|| {
        regex_lite::Regex::new(r"(?is)<script\b([^>]*)>(.*?)</script\s*>").expect("valid")
    });
    #[allow(clippy::expect_used)]
    let src = SRC.get_or_init(|| regex_lite::Regex::new(r"(?i)\bsrc\s*=").expect("valid"));
    script
        .captures_iter(html)
        .filter(|c| !src.is_match(&c[1]) && !c[2].trim().is_empty())
        .map(|c| base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(&c[2])))
        .collect()
}

/// Which files of the bundle never change: the one rule (`frontend/immutable-assets.md`)
/// that nginx and the bucket upload read too.
const IMMUTABLE_ASSETS: &str = include_str!("../../../frontend/immutable-assets.regex");

fn immutable_assets() -> &'static regex_lite::Regex {
    static RULE: OnceLock<regex_lite::Regex> = OnceLock::new();
    RULE.get_or_init(|| {
        // expect: the pattern is a constant of this repository, checked by the tests below.
        #[allow(clippy::expect_used)]
        regex_lite::Regex::new(IMMUTABLE_ASSETS.trim()).expect("immutable-assets.regex is valid")
    })
}

/// Cache-Control for a file of the bundle: hashed assets may be cached for good; `index.html`
/// and the runtime `config.json` must be revalidated so a new release is picked up.
pub fn cache_control(path: &str) -> Option<&'static str> {
    let name = path.rsplit('/').next().unwrap_or_default();
    if immutable_assets().is_match(name) {
        Some("public, max-age=31536000, immutable")
    } else if path == "/" || name.ends_with(".html") || name == "config.json" {
        Some("no-cache")
    } else {
        None
    }
}

/// `GET /{name}` for the bundle's compressible top-level files (`.wasm`, `.js`, `.css`, the
/// picker's `.tsv` emoji list): the
/// build writes `.br` and `.gz` siblings of each (`scripts/build-frontend.sh`), so the best
/// one the client accepts is sent as it is, with no CPU per request. The name has no `/`
/// (the route's pattern), so it cannot leave the bundle's folder.
pub async fn precompressed(
    req: HttpRequest,
    name: web::Path<String>,
    static_dir: web::Data<StaticDir>,
) -> HttpResponse {
    let name = name.into_inner();
    let plain = static_dir.0.join(&name);
    let content_type = if name.ends_with(".wasm") {
        "application/wasm"
            .parse()
            .unwrap_or(mime::APPLICATION_OCTET_STREAM)
    } else if name.ends_with(".tsv") {
        "text/tab-separated-values; charset=utf-8"
            .parse()
            .unwrap_or(mime::TEXT_PLAIN_UTF_8)
    } else {
        actix_files::file_extension_to_mime(
            Path::new(&name)
                .extension()
                .and_then(|e| e.to_str())
                .unwrap_or_default(),
        )
    };
    let siblings = [
        (Encoding::brotli(), ContentEncoding::Brotli, "br"),
        (Encoding::gzip(), ContentEncoding::Gzip, "gz"),
    ];
    let mut available: Vec<(Encoding, ContentEncoding, std::path::PathBuf)> = Vec::new();
    if plain.is_file() {
        for (encoding, content_encoding, suffix) in siblings {
            let sibling = static_dir.0.join(format!("{name}.{suffix}"));
            if sibling.is_file() {
                available.push((encoding, content_encoding, sibling));
            }
        }
    }
    // No Accept-Encoding: the plain file (a client that says nothing may decode nothing).
    let chosen = req.get_header::<AcceptEncoding>().and_then(|accepted| {
        let offered: Vec<Encoding> = available
            .iter()
            .map(|(e, _, _)| e.clone())
            .chain([Encoding::identity()])
            .collect();
        let best = accepted.negotiate(offered.iter())?;
        available
            .into_iter()
            .find(|(e, _, _)| *e == best)
            .map(|(_, content_encoding, path)| (path, content_encoding))
    });
    let opened = match chosen {
        Some((sibling, encoding)) => {
            NamedFile::open(sibling).map(|f| f.set_content_encoding(encoding))
        }
        None => NamedFile::open(&plain),
    };
    let mut response = match opened {
        Ok(file) => file
            .set_content_type(content_type)
            .disable_content_disposition()
            .into_response(&req),
        Err(_) => return AppError::NotFound("no such file".into()).error_response(),
    };
    response.headers_mut().insert(
        header::VARY,
        header::HeaderValue::from_static("Accept-Encoding"),
    );
    response
}

/// The folder of the SPA bundle, for `precompressed`.
pub struct StaticDir(pub std::path::PathBuf);

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
        assert_eq!(
            cache_control("/frontend-3f2a9c0d4e5b6a7_bg.wasm"),
            None,
            "15 digits"
        );
        assert_eq!(
            cache_control("/frontend-3F2A9C0D4E5B6A71.js"),
            None,
            "trunk writes lower case"
        );
        assert_eq!(cache_control("/frontend-3f2a9c0d4e5b6a71.js.map"), None);
    }
}
