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
    assert_eq!(allowed.headers()["vary"], "Origin");

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
