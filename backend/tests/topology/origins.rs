//! CORS and `Origin` through nginx: a page from an origin that is not allowed can neither
//! call the API with credentials nor open the websocket; the configured SPA origin (a static
//! bucket elsewhere) and nginx's own origin can.

use crate::client::{Api, WsClient, PASSWORD};
use crate::harness::{Options, Topology};
use reqwest::header::{
    ACCESS_CONTROL_ALLOW_CREDENTIALS, ACCESS_CONTROL_ALLOW_ORIGIN, COOKIE, ORIGIN, SET_COOKIE,
};
use reqwest::Method;
use serde_json::json;
use shared::{ClientFrame, ServerFrame};

const SPA_ORIGIN: &str = "http://spa-bucket.localhost:9000";
const EVIL_ORIGIN: &str = "http://evil.example";

/// Registers and returns (token, "session=…" cookie pair) from the Set-Cookie header.
async fn register_with_cookie(edge: &Api, username: &str) -> (String, String) {
    let response = edge
        .client
        .post(edge.url("/api/auth/register"))
        .json(&json!({"username": username, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);
    let cookie = response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("session="))
        .expect("register sets the session cookie")
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let body: shared::AuthResponse = response.json().await.unwrap();
    (body.token, cookie)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_allowed_origins_may_use_the_api_and_the_websocket_through_nginx() {
    let options = Options {
        allowed_origins: vec![SPA_ORIGIN.to_owned()],
        ..Options::default()
    };
    let Some(topology) = Topology::start("origins", options).await else {
        return;
    };
    let edge = Api::new(&topology.nginx.url());
    let own_origin = topology.nginx.url();
    let (_token, cookie) = register_with_cookie(&edge, "gus").await;
    edge.register("hal").await;

    // Preflight: refused for the stranger, granted (exact origin, credentials) for the SPA.
    let preflight = |origin: &'static str| {
        edge.client
            .request(Method::OPTIONS, edge.url("/api/rooms"))
            .header(ORIGIN, origin)
            .header("Access-Control-Request-Method", "POST")
            .header("Access-Control-Request-Headers", "content-type")
            .send()
    };
    let refused = preflight(EVIL_ORIGIN).await.unwrap();
    assert!(
        !refused.status().is_success(),
        "preflight from {EVIL_ORIGIN} answered {}",
        refused.status()
    );
    assert!(refused.headers().get(ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
    let granted = preflight(SPA_ORIGIN).await.unwrap();
    assert!(granted.status().is_success(), "{}", granted.status());
    assert_eq!(granted.headers()[ACCESS_CONTROL_ALLOW_ORIGIN], SPA_ORIGIN);
    assert_eq!(granted.headers()[ACCESS_CONTROL_ALLOW_CREDENTIALS], "true");

    // A credentialed read from the stranger: no CORS grant, so a browser hides the answer.
    let read = edge
        .client
        .get(edge.url("/api/me"))
        .header(ORIGIN, EVIL_ORIGIN)
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert!(read.headers().get(ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
    assert!(read
        .headers()
        .get(ACCESS_CONTROL_ALLOW_CREDENTIALS)
        .is_none());

    // A credentialed write from the stranger is refused outright.
    let write = edge
        .client
        .post(edge.url("/api/rooms"))
        .header(ORIGIN, EVIL_ORIGIN)
        .header(COOKIE, &cookie)
        .json(&json!({"peer": "hal"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        write.status().as_u16(),
        403,
        "cookie write from {EVIL_ORIGIN}"
    );
    assert!(write.headers().get(ACCESS_CONTROL_ALLOW_ORIGIN).is_none());

    // The SPA's origin may write with the cookie, and is told so.
    let write = edge
        .client
        .post(edge.url("/api/rooms"))
        .header(ORIGIN, SPA_ORIGIN)
        .header(COOKIE, &cookie)
        .json(&json!({"peer": "hal"}))
        .send()
        .await
        .unwrap();
    assert!(write.status().is_success(), "{}", write.status());
    assert_eq!(write.headers()[ACCESS_CONTROL_ALLOW_ORIGIN], SPA_ORIGIN);

    // Websocket: the stranger's handshake is refused, with or without the cookie; so is a
    // different port on the same host (another origin).
    let ws_url = topology.nginx.ws_url();
    for headers in [
        vec![("Origin", EVIL_ORIGIN)],
        vec![("Origin", EVIL_ORIGIN), ("Cookie", cookie.as_str())],
    ] {
        match WsClient::connect(&ws_url, &headers).await {
            Err(status) => assert_eq!(status, 403, "{headers:?}"),
            Ok(_) => panic!("websocket from {EVIL_ORIGIN} was accepted ({headers:?})"),
        }
    }
    let other_port = topology.instance(1).url();
    assert!(
        WsClient::connect(&ws_url, &[("Origin", other_port.as_str())])
            .await
            .is_err(),
        "a websocket from {other_port} (not nginx's origin) was accepted"
    );

    // nginx's own origin (Host passed through with its port) and the SPA's origin get a
    // working, cookie-authenticated socket.
    for origin in [own_origin.as_str(), SPA_ORIGIN] {
        let mut ws = WsClient::connect(&ws_url, &[("Origin", origin), ("Cookie", cookie.as_str())])
            .await
            .unwrap_or_else(|status| panic!("websocket from {origin} refused with {status}"));
        ws.expect("ready on a cookie socket", |f| {
            matches!(f, ServerFrame::Ready { .. })
        })
        .await;
        ws.send(&ClientFrame::Ping).await.unwrap();
        ws.expect("pong", |f| matches!(f, ServerFrame::Pong)).await;
        ws.close().await;
    }
}
