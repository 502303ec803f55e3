use crate::helpers::*;
use shared::HealthResponse;
use std::time::Duration;

#[tokio::test]
async fn health_reports_storage_and_local_pubsub() {
    let app = spawn_app().await;
    let response = app.client.get(app.url("/api/health")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let health: HealthResponse = json(response).await;
    assert_eq!(
        (
            health.status.as_str(),
            health.db.as_str(),
            health.pubsub.as_str()
        ),
        ("ok", "ok", "local")
    );
}

#[tokio::test]
async fn metrics_count_connections_and_stored_messages() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let room = app.open_room(&alice, &bob).await;
    let _socket = app.ws(&bob).await;
    app.send_ok(&alice, room.id.0, "counted").await;

    let text = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();

    assert!(text.contains("chat_ws_connections 1"), "{text}");
    assert!(text.contains("chat_messages_stored_total 1"), "{text}");
    assert!(text.contains("# TYPE chat_http_request_duration_seconds histogram"));
}

#[tokio::test]
async fn the_spa_is_served_with_a_fallback_for_client_routes_but_not_for_assets_or_the_api() {
    let dist = tempfile::tempdir().unwrap();
    std::fs::write(
        dist.path().join("index.html"),
        "<!doctype html><title>chat-spa</title>",
    )
    .unwrap();
    std::fs::write(dist.path().join("app-123.js"), "console.log(1)").unwrap();
    let dist_path = dist.path().to_path_buf();
    let app = spawn_app_with(move |s| s.static_dir = dist_path).await;

    for path in ["/", "/rooms/5", "/login"] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        assert!(
            response.text().await.unwrap().contains("chat-spa"),
            "{path}"
        );
    }
    std::fs::write(dist.path().join("frontend-0123456789abcdef.js"), "x").unwrap();
    let hashed = app
        .client
        .get(app.url("/frontend-0123456789abcdef.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        hashed.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    let index = app.client.get(app.url("/rooms/5")).send().await.unwrap();
    assert_eq!(index.headers()["cache-control"], "no-cache");
    // The document carries the production CSP (as nginx sends it), with the inline bootstrap
    // script of this index.html allowed by its hash and nothing else inline.
    std::fs::write(
        dist.path().join("index.html"),
        "<!doctype html><title>chat-spa</title><script>alert(1)</script><script src=\"/a.js\"></script>",
    )
    .unwrap();
    let index = app.client.get(app.url("/")).send().await.unwrap();
    let policy = index.headers()["content-security-policy"].to_str().unwrap();
    assert!(
        policy.contains("script-src 'self' 'wasm-unsafe-eval' 'sha256-bhHHL3z2vDgxUt0W3dWQOrprscmda2Y5pLsLg4GF+pI=';"),
        "{policy}"
    );
    assert!(policy.contains("style-src 'self';"), "{policy}");
    assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
    assert_eq!(index.headers()["x-content-type-options"], "nosniff");
    let script = app.client.get(app.url("/app-123.js")).send().await.unwrap();
    assert!(script.headers().get("content-security-policy").is_none());
    let script = app.client.get(app.url("/app-123.js")).send().await.unwrap();
    assert_eq!(script.status(), 200);
    assert_eq!(script.text().await.unwrap(), "console.log(1)");
    let missing_asset = app
        .client
        .get(app.url("/missing-abc.wasm"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing_asset.status(), 404);
    let api_miss = app
        .client
        .get(app.url("/api/nothing-here"))
        .send()
        .await
        .unwrap();
    assert_error(api_miss, 404, "not_found").await;
}

#[tokio::test]
async fn bundle_files_are_sent_pre_compressed_as_the_client_accepts() {
    // Arrange: a bundle whose wasm has .br and .gz siblings (as the build writes them), and a
    // CSS file with none.
    let dist = tempfile::tempdir().unwrap();
    let dir = dist.path();
    std::fs::write(
        dir.join("index.html"),
        "<!doctype html><title>chat-spa</title>",
    )
    .unwrap();
    let wasm = "frontend-0123456789abcdef_bg.wasm";
    std::fs::write(dir.join(wasm), b"\0asm plain").unwrap();
    std::fs::write(dir.join(format!("{wasm}.br")), b"brotli bytes").unwrap();
    std::fs::write(dir.join(format!("{wasm}.gz")), b"gzip bytes").unwrap();
    std::fs::write(dir.join("frontend-0123456789abcdef.css"), "body{}").unwrap();
    let dist_path = dir.to_path_buf();
    let app = spawn_app_with(move |s| s.static_dir = dist_path).await;
    let get = |path: String, accept: Option<&'static str>| {
        let mut request = app.client.get(app.url(&path));
        if let Some(accept) = accept {
            request = request.header("accept-encoding", accept);
        }
        request.send()
    };

    // Act + Assert: brotli when accepted (whatever the order), else gzip, else the file.
    for (accept, encoding, body) in [
        (Some("gzip, deflate, br"), Some("br"), "brotli bytes"),
        (Some("br;q=0.5, gzip"), Some("gzip"), "gzip bytes"),
        (Some("gzip"), Some("gzip"), "gzip bytes"),
        (Some("identity"), None, "\0asm plain"),
        (None, None, "\0asm plain"),
    ] {
        let response = get(format!("/{wasm}"), accept).await.unwrap();
        assert_eq!(response.status(), 200, "{accept:?}");
        let headers = response.headers().clone();
        assert_eq!(headers["content-type"], "application/wasm", "{accept:?}");
        assert!(headers["vary"]
            .to_str()
            .unwrap()
            .contains("Accept-Encoding"));
        assert_eq!(
            headers["cache-control"], "public, max-age=31536000, immutable",
            "{accept:?}"
        );
        assert_eq!(
            headers.get("content-encoding").map(|v| v.to_str().unwrap()),
            encoding,
            "{accept:?}"
        );
        assert_eq!(
            response.bytes().await.unwrap().as_ref(),
            body.as_bytes(),
            "{accept:?}"
        );
    }
    let css = get("/frontend-0123456789abcdef.css".into(), Some("br, gzip"))
        .await
        .unwrap();
    assert!(
        css.headers().get("content-encoding").is_none(),
        "no sibling, sent as it is"
    );
    assert!(css.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/css"));
    assert_eq!(css.text().await.unwrap(), "body{}");
    let missing = get("/frontend-ffffffffffffffff_bg.wasm".into(), Some("br"))
        .await
        .unwrap();
    assert_error(missing, 404, "not_found").await;
}

#[tokio::test]
async fn cors_answers_configured_origins_only_echoing_the_exact_origin() {
    let app = spawn_app_with(|s| s.allowed_origins = vec!["https://app.example.com".into()]).await;

    let preflight = |origin: &'static str| {
        app.client
            .request(reqwest::Method::OPTIONS, app.url("/api/rooms"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization, content-type",
            )
            .send()
    };
    let allowed = preflight("https://app.example.com").await.unwrap();
    assert!(allowed.status().is_success());
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://app.example.com"
    );
    assert_eq!(
        allowed.headers()["access-control-allow-credentials"],
        "true"
    );
    // actix-cors names every request header a CORS answer depends on, Origin first.
    assert!(allowed.headers()["vary"]
        .to_str()
        .unwrap()
        .starts_with("Origin"));

    // An answer to the allowed origin lets its page read how long a 429 lasts.
    let answer = app
        .client
        .get(app.url("/api/health"))
        .header("origin", "https://app.example.com")
        .send()
        .await
        .unwrap();
    assert!(answer.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase()
        .contains("retry-after"));

    let refused = preflight("https://evil.example").await.unwrap();
    assert!(!refused
        .headers()
        .contains_key("access-control-allow-origin"));
    assert_error(refused, 403, "forbidden").await;

    let get = app
        .client
        .get(app.url("/api/health"))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert!(!get.headers().contains_key("access-control-allow-origin"));
    assert!(
        !get.headers()
            .contains_key("access-control-allow-credentials"),
        "credentials only for allowed origins"
    );
    assert!(get.headers()["vary"].to_str().unwrap().contains("Origin"));
}

#[tokio::test]
async fn sqlite_write_ahead_log_reaches_the_database_file_without_waiting_for_a_commit() {
    let app = spawn_app_with(|s| s.message_burst = 1000).await;
    let Some(path) = app
        .database_url
        .strip_prefix("sqlite://")
        .map(str::to_owned)
    else {
        return; // PostgreSQL: nothing to checkpoint.
    };
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let room = app.open_room(&alice, &bob).await;
    let file_size = || std::fs::metadata(&path).unwrap().len();
    let before = file_size();
    // About 1 MiB of messages: far below SQLite's automatic threshold (4 MiB of log), so only
    // the server's own checkpoints copy it into the database file.
    let body = "x".repeat(3900);
    for i in 0..250 {
        assert_eq!(
            app.send(&alice, room.id.0, &body, &format!("c{i}"))
                .await
                .status(),
            201
        );
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while file_size() < before + 900_000 {
        assert!(
            std::time::Instant::now() < deadline,
            "the database file stayed at {} bytes (from {before})",
            file_size()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
