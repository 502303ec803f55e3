//! Where the backend lives: the one place that knows. By default the API (`/api`) and the
//! websocket (`/ws`) are on the page's own origin (the backend or nginx serves the SPA). When
//! the SPA is hosted elsewhere (a static bucket on another origin), the runtime config file
//! [`CONFIG_PATH`] beside `index.html` names the backend's origin:
//!
//! ```json
//! {"api_base": "https://chat.example.com"}
//! ```
//!
//! `api_base` is the URL the backend's `/api` and `/ws` hang off (a path prefix is kept; a
//! trailing `/` or `/api` is ignored). Absent, empty or `null` means the page's own origin, and
//! so does a file that is missing, unreachable, slow or invalid: the page always starts.
//! `main` calls [`load`] once, before the app is mounted.

use serde::Deserialize;
use std::cell::RefCell;

/// The runtime config file, absolute so that deep links (`/rooms/7`) find it too.
pub const CONFIG_PATH: &str = "/config.json";
/// How long the page waits for the config file before starting on its own origin.
const LOAD_TIMEOUT_MS: u32 = 3_000;

thread_local! {
    /// The backend's base URL (`http(s)://host[:port][/prefix]`), `None` for the page's origin.
    static BACKEND: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// The runtime config file's content.
#[derive(Debug, Default, Deserialize)]
struct RuntimeConfig {
    #[serde(default)]
    api_base: Option<String>,
}

/// Base of every REST path: `"/api"` on the page's origin, or `<api_base>/api`.
pub fn api_base() -> String {
    BACKEND.with(|b| api_base_for(b.borrow().as_deref()))
}

/// The websocket URL: derived from `api_base` (`http` → `ws`, `https` → `wss`), or from the
/// page (`ws://` or `wss://` matching its scheme, its host, `/ws`).
pub fn ws_url() -> String {
    if let Some(url) = BACKEND.with(|b| b.borrow().as_deref().and_then(ws_url_from_base)) {
        return url;
    }
    let location = web_sys::window().map(|w| w.location());
    let protocol = location
        .as_ref()
        .and_then(|l| l.protocol().ok())
        .unwrap_or_default();
    let host = location
        .as_ref()
        .and_then(|l| l.host().ok())
        .unwrap_or_default();
    ws_url_for(&protocol, &host)
}

/// Reads the runtime config file and remembers where the backend is. Never fails: a missing
/// (404), unreachable, slow (more than 3 s) or invalid file leaves the page's own origin, with
/// a console warning for anything but a plain 404.
pub async fn load() {
    use futures::future::{select, Either};
    use gloo_net::http::Request;
    use gloo_timers::future::TimeoutFuture;

    let fetch = async {
        let response = Request::get(CONFIG_PATH)
            .cache(web_sys::RequestCache::NoCache)
            .header("Accept", "application/json")
            .send()
            .await
            .map_err(|e| format!("cannot load {CONFIG_PATH}: {e}"))?;
        match response.status() {
            200..=299 => {}
            404 => return Ok(None),
            status => return Err(format!("{CONFIG_PATH} answered {status}")),
        }
        let text = response
            .text()
            .await
            .map_err(|e| format!("cannot read {CONFIG_PATH}: {e}"))?;
        parse(&text)
    };
    let outcome = match select(Box::pin(fetch), TimeoutFuture::new(LOAD_TIMEOUT_MS)).await {
        Either::Left((outcome, _)) => outcome,
        Either::Right(_) => Err(format!(
            "{CONFIG_PATH} did not load within {LOAD_TIMEOUT_MS} ms"
        )),
    };
    let backend = outcome.unwrap_or_else(|why| {
        web_sys::console::warn_1(&format!("{why}; using this page's origin for the API").into());
        None
    });
    BACKEND.with(|b| *b.borrow_mut() = backend);
}

/// The backend base named by a config file's text; `Ok(None)` means the page's own origin.
pub fn parse(text: &str) -> Result<Option<String>, String> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    let invalid =
        |why: String| format!("{CONFIG_PATH} is not like {{\"api_base\": \"https://…\"}}: {why}");
    // Read straight into the struct (a `serde_json::Value` first would link its parser and
    // deserializer in too); a struct also reads from an array, which is not a config.
    if !text.trim_start().starts_with('{') {
        return Err(invalid("not a JSON object".to_owned()));
    }
    let config: RuntimeConfig = serde_json::from_str(text).map_err(|e| invalid(e.to_string()))?;
    config.api_base.as_deref().map_or(Ok(None), normalize_base)
}

/// Checks and normalises an `api_base`: empty means the page's origin; otherwise an absolute
/// `http://` or `https://` URL with a host, no query or fragment. The scheme is lower-cased;
/// trailing slashes and a trailing `/api` are dropped (both `https://x` and `https://x/api/`
/// mean the API at `https://x/api`).
pub fn normalize_base(raw: &str) -> Result<Option<String>, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    let invalid = |why: &str| Err(format!("api_base {raw:?} {why}"));
    let Some((scheme, rest)) = raw.split_once("://") else {
        return invalid("is not an absolute http(s) URL");
    };
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return invalid("must start with http:// or https://");
    }
    if rest.contains(['?', '#']) || rest.chars().any(char::is_whitespace) {
        return invalid("must not contain a query, a fragment or spaces");
    }
    let host = rest.split('/').next().unwrap_or_default();
    if host.is_empty() || host.contains('@') {
        return invalid("needs a host (and no user name)");
    }
    let mut rest = rest.trim_end_matches('/');
    if let Some(prefix) = rest.strip_suffix("/api") {
        rest = prefix.trim_end_matches('/');
    }
    Ok(Some(format!("{scheme}://{rest}")))
}

/// `api_base()` for a normalised backend base (`None`: the page's origin).
pub fn api_base_for(base: Option<&str>) -> String {
    match base {
        Some(base) => format!("{base}/api"),
        None => "/api".to_owned(),
    }
}

/// The websocket URL for a normalised backend base: `http` → `ws`, `https` → `wss`.
pub fn ws_url_from_base(base: &str) -> Option<String> {
    let (scheme, rest) = base.split_once("://")?;
    let scheme = match scheme {
        "https" => "wss",
        "http" => "ws",
        _ => return None,
    };
    Some(format!("{scheme}://{rest}/ws"))
}

/// `ws_url` for a given page protocol (`"https:"`) and host (`"example.com:8443"`).
pub fn ws_url_for(page_protocol: &str, host: &str) -> String {
    let scheme = if page_protocol == "https:" {
        "wss"
    } else {
        "ws"
    };
    format!("{scheme}://{host}/ws")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_socket_follows_the_page_scheme_and_host() {
        assert_eq!(
            ws_url_for("http:", "127.0.0.1:8080"),
            "ws://127.0.0.1:8080/ws"
        );
        assert_eq!(
            ws_url_for("https:", "chat.example"),
            "wss://chat.example/ws"
        );
    }

    #[test]
    fn without_a_config_everything_is_on_the_page_origin() {
        assert_eq!(api_base(), "/api");
        assert_eq!(api_base_for(None), "/api");
        for text in [
            "",
            "  \n",
            "{}",
            "{\"api_base\": \"\"}",
            "{\"api_base\": null}",
        ] {
            assert_eq!(parse(text), Ok(None), "{text:?}");
        }
        // Unknown keys are ignored (a later version may add some).
        assert_eq!(
            parse("{\"api_base\": \" \", \"theme\": \"dark\"}"),
            Ok(None)
        );
    }

    #[test]
    fn an_api_base_moves_rest_and_websocket_to_that_origin() {
        let base = parse("{\"api_base\": \"https://chat.example.com\"}").unwrap();
        assert_eq!(base.as_deref(), Some("https://chat.example.com"));
        assert_eq!(
            api_base_for(base.as_deref()),
            "https://chat.example.com/api"
        );
        assert_eq!(
            ws_url_from_base(base.as_deref().unwrap()).as_deref(),
            Some("wss://chat.example.com/ws")
        );

        let base = normalize_base("http://127.0.0.1:8088").unwrap().unwrap();
        assert_eq!(api_base_for(Some(&base)), "http://127.0.0.1:8088/api");
        assert_eq!(
            ws_url_from_base(&base).as_deref(),
            Some("ws://127.0.0.1:8088/ws")
        );
    }

    #[test]
    fn trailing_slashes_and_api_are_the_same_base_and_a_prefix_is_kept() {
        for raw in [
            "https://x.example",
            "https://x.example/",
            "https://x.example/api",
            "https://x.example/api/",
            "HTTPS://x.example//",
        ] {
            assert_eq!(
                normalize_base(raw),
                Ok(Some("https://x.example".to_owned())),
                "{raw}"
            );
        }
        let base = normalize_base("https://x.example/chat/").unwrap().unwrap();
        assert_eq!(api_base_for(Some(&base)), "https://x.example/chat/api");
        assert_eq!(
            ws_url_from_base(&base).as_deref(),
            Some("wss://x.example/chat/ws")
        );
    }

    #[test]
    fn invalid_config_is_an_error_so_the_page_falls_back() {
        for text in [
            "not json",
            "[]",
            "{\"api_base\": 42}",
            "{\"api_base\": \"chat.example.com\"}",
            "{\"api_base\": \"/relative\"}",
            "{\"api_base\": \"ftp://chat.example.com\"}",
            "{\"api_base\": \"javascript://x\"}",
            "{\"api_base\": \"https://\"}",
            "{\"api_base\": \"https://x.example/?a=1\"}",
            "{\"api_base\": \"https://x.example/#top\"}",
            "{\"api_base\": \"https://user@x.example\"}",
            "{\"api_base\": \"https://x .example\"}",
        ] {
            assert!(parse(text).is_err(), "{text} should be rejected");
        }
    }
}
