//! Where the backend lives. The SPA is served by the backend (or nginx in front of it), so
//! both URLs are relative to the page's own origin; this is the one place to change that
//! (for instance from a runtime config file when the SPA is hosted elsewhere).

/// Base of every REST path: `"/api"` on the page's origin.
pub fn api_base() -> String {
    "/api".to_owned()
}

/// The websocket URL: `ws://` or `wss://` (matching the page), the page's host, `/ws`.
pub fn ws_url() -> String {
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
        assert_eq!(api_base(), "/api");
    }
}
