//! Who may talk to us from a browser (`Origin`), and which address a request comes from.

use actix_web::http::header::HeaderMap;
use actix_web::HttpRequest;
use std::net::IpAddr;

/// Parses `scheme://host[:port]` into its lower-cased canonical form.
pub fn parse_origin(raw: &str) -> Option<String> {
    let raw = raw.trim().trim_end_matches('/');
    let (scheme, authority) = raw.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if !matches!(scheme.as_str(), "http" | "https")
        || authority.is_empty()
        || authority.contains(['/', '?', '#', '@', ' '])
    {
        return None;
    }
    Some(format!("{scheme}://{}", authority.to_ascii_lowercase()))
}

/// `host:80` for http and `host:443` for https name the same place as `host`.
fn without_default_port<'a>(scheme: &str, authority: &'a str) -> &'a str {
    let default = match scheme {
        "https" => ":443",
        _ => ":80",
    };
    authority.strip_suffix(default).unwrap_or(authority)
}

/// The origins allowed for CORS, cookie-authenticated writes and websockets.
#[derive(Debug, Clone, Default)]
pub struct OriginPolicy {
    extra: Vec<String>,
}

impl OriginPolicy {
    pub fn new(configured: &[String]) -> Self {
        Self {
            extra: configured.iter().filter_map(|o| parse_origin(o)).collect(),
        }
    }

    /// The server's own origin (whatever host the browser reached it by) or a configured one.
    pub fn is_allowed(&self, origin: &str, headers: &HeaderMap) -> bool {
        self.is_same_origin(origin, headers) || self.is_cross_origin_allowed(origin)
    }

    /// Configured cross-origin clients (a SPA served from another origin).
    pub fn is_cross_origin_allowed(&self, origin: &str) -> bool {
        parse_origin(origin).is_some_and(|o| self.extra.contains(&o))
    }

    pub fn is_same_origin(&self, origin: &str, headers: &HeaderMap) -> bool {
        let Some(origin) = parse_origin(origin) else {
            return false;
        };
        let Some(host) = headers
            .get(actix_web::http::header::HOST)
            .and_then(|h| h.to_str().ok())
        else {
            return false;
        };
        origin.split_once("://").is_some_and(|(scheme, authority)| {
            without_default_port(scheme, authority)
                == without_default_port(scheme, &host.to_ascii_lowercase())
        })
    }
}

/// The client's address: the TCP peer, unless that peer is a trusted proxy, in which case the
/// address it forwarded (`X-Real-IP`, else the last `X-Forwarded-For` hop).
pub fn client_ip(req: &HttpRequest, trusted_proxies: &[IpAddr]) -> Option<IpAddr> {
    let peer = req.peer_addr()?.ip();
    if !trusted_proxies.contains(&peer) {
        return Some(peer);
    }
    let headers = req.headers();
    let header_ip = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .and_then(|v| v.trim().parse::<IpAddr>().ok())
    };
    header_ip("x-real-ip")
        .or_else(|| header_ip("x-forwarded-for"))
        .or(Some(peer))
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::{HeaderValue, HOST};

    fn headers(host: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(HOST, HeaderValue::from_str(host).unwrap());
        h
    }

    #[test]
    fn origins_are_normalised() {
        assert_eq!(
            parse_origin("HTTPS://Chat.Example.com/").as_deref(),
            Some("https://chat.example.com")
        );
        assert_eq!(parse_origin("ftp://x"), None);
        assert_eq!(parse_origin("https://x/path"), None);
        assert_eq!(parse_origin("null"), None);
    }

    #[test]
    fn same_origin_follows_the_host_header() {
        let policy = OriginPolicy::new(&[]);
        assert!(policy.is_allowed("http://127.0.0.1:8080", &headers("127.0.0.1:8080")));
        assert!(policy.is_allowed("http://localhost:8080", &headers("localhost:8080")));
        assert!(!policy.is_allowed("http://evil.test", &headers("127.0.0.1:8080")));
        assert!(!policy.is_allowed("http://127.0.0.1:9999", &headers("127.0.0.1:8080")));
        assert!(policy.is_allowed("http://chat.test", &headers("chat.test:80")));
        assert!(policy.is_allowed("https://chat.test:443", &headers("chat.test")));
        assert!(!policy.is_allowed("https://chat.test", &headers("chat.test:80")));
    }

    #[test]
    fn configured_origins_are_allowed_and_nothing_else() {
        let policy = OriginPolicy::new(&["https://app.example.com".into()]);
        assert!(policy.is_allowed("https://app.example.com", &headers("api.example.com")));
        assert!(!policy.is_allowed("https://other.example.com", &headers("api.example.com")));
    }
}
