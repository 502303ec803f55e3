use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::json;
use shared::{AuthResponse, User};

#[tokio::test]
async fn register_answers_201_with_the_user_a_token_and_an_http_only_cookie() {
    let app = spawn_app().await;

    let response = app
        .client
        .post(app.url("/api/auth/register"))
        .json(&json!({"username": "Alice", "password": PASSWORD, "display_name": " Alice A. "}))
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), StatusCode::CREATED);
    let cookie = response
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.starts_with("session="), "{cookie}");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/")
    );
    let body: AuthResponse = json(response).await;
    assert_eq!(
        body.user.username, "alice",
        "usernames are canonical lower case"
    );
    assert_eq!(body.user.display_name, "Alice A.");
    assert!(!body.user.is_admin);
    assert!(body.token.len() >= 22, "at least 128 bits of token");
    let me: User = json(app.get("/api/me", &body.token).await).await;
    assert_eq!(me.id, body.user.id);
}

#[tokio::test]
async fn display_name_defaults_to_the_username() {
    let app = spawn_app().await;
    let body: AuthResponse = json(app.register_response("bob", PASSWORD).await).await;
    assert_eq!(body.user.display_name, "bob");
}

#[tokio::test]
async fn a_taken_username_is_a_409_whatever_its_case() {
    let app = spawn_app().await;
    app.register("carol").await;

    let response = app.register_response("CAROL", PASSWORD).await;

    assert_error(response, 409, "conflict").await;
}

#[tokio::test]
async fn invalid_registrations_are_422_naming_the_field_and_store_nothing() {
    let app = spawn_app().await;
    let cases = [
        (json!({"username": "ab", "password": PASSWORD}), "username"),
        (
            json!({"username": "a b c", "password": PASSWORD}),
            "username",
        ),
        (
            json!({"username": "x".repeat(33), "password": PASSWORD}),
            "username",
        ),
        (json!({"username": "dave", "password": "short"}), "password"),
        (
            json!({"username": "dave", "password": "p".repeat(257)}),
            "password",
        ),
        (
            json!({"username": "dave", "password": PASSWORD, "display_name": "  "}),
            "display_name",
        ),
        (
            json!({"username": "dave", "password": PASSWORD, "display_name": "d".repeat(65)}),
            "display_name",
        ),
    ];
    for (body, field) in cases {
        let response = app
            .client
            .post(app.url("/api/auth/register"))
            .json(&body)
            .send()
            .await
            .unwrap();
        let message = assert_error(response, 422, "validation").await;
        assert!(message.contains(field), "{message} should name {field}");
    }
    // None of them created the account.
    assert_eq!(app.register_response("dave", PASSWORD).await.status(), 201);
}

#[tokio::test]
async fn a_256_character_password_is_accepted_whole_never_truncated() {
    let app = spawn_app().await;
    let long = "p".repeat(256);
    assert_eq!(app.register_response("erin", &long).await.status(), 201);

    let truncated = &long[..255];
    assert_error(
        app.login_response("erin", truncated).await,
        401,
        "unauthorized",
    )
    .await;
    assert_eq!(app.login_response("erin", &long).await.status(), 200);
}

#[tokio::test]
async fn login_issues_a_new_token_each_time_and_is_case_insensitive() {
    let app = spawn_app().await;
    let user = app.register("frank").await;

    let first: AuthResponse = json(app.login_response("Frank", PASSWORD).await).await;
    let second: AuthResponse = json(app.login_response("frank", PASSWORD).await).await;

    assert_eq!(first.user.id.0, user.id);
    assert_ne!(first.token, second.token);
    assert_ne!(first.token, user.token);
    for token in [&first.token, &second.token, &user.token] {
        assert_eq!(app.get("/api/me", token).await.status(), 200);
    }
}

#[tokio::test]
async fn unknown_user_and_wrong_password_get_the_same_401() {
    let app = spawn_app().await;
    app.register("grace").await;

    let wrong = app.login_response("grace", "not-the-password").await;
    let unknown = app.login_response("nobody-here", "not-the-password").await;

    let wrong_message = assert_error(wrong, 401, "unauthorized").await;
    let unknown_message = assert_error(unknown, 401, "unauthorized").await;
    assert_eq!(wrong_message, unknown_message);
}

#[tokio::test]
async fn failed_logins_are_limited_per_username_then_answer_429_with_retry_after() {
    let app = spawn_app().await;
    app.register("heidi").await;
    for _ in 0..10 {
        assert_eq!(
            app.login_response("heidi", "wrong-password").await.status(),
            401
        );
    }

    let limited = app.login_response("heidi", PASSWORD).await;

    assert_eq!(limited.status(), 429);
    let retry_after: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after));
    assert_error(limited, 429, "rate_limited").await;
}

#[tokio::test]
async fn failed_logins_from_one_address_are_limited_more_loosely_than_per_username() {
    // The default lets one address (a test run, an office) fail for many accounts …
    let app = spawn_app().await;
    for n in 0..15 {
        let response = app
            .login_response(&format!("nobody{n}"), "wrong-password")
            .await;
        assert_eq!(response.status(), 401, "attempt {n}");
    }
    // … and its own limit still stops one address trying account after account.
    let strict = spawn_app_with(|s| s.login_failures_per_address_per_minute = 3).await;
    strict.register("ivan").await;
    for n in 0..3 {
        let response = strict
            .login_response(&format!("nobody{n}"), "wrong-password")
            .await;
        assert_eq!(response.status(), 401, "attempt {n}");
    }
    let limited = strict.login_response("ivan", PASSWORD).await;
    assert_error(limited, 429, "rate_limited").await;
}

#[tokio::test]
async fn me_without_or_with_a_bad_token_is_401() {
    let app = spawn_app().await;
    let response = app.client.get(app.url("/api/me")).send().await.unwrap();
    assert_error(response, 401, "unauthorized").await;
    assert_error(app.get("/api/me", "not-a-token").await, 401, "unauthorized").await;
}

#[tokio::test]
async fn the_session_cookie_authenticates_reads_and_same_origin_writes_only() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let cookie = format!("session={}", alice.token);
    let host_origin = app.address.clone();

    let me = app
        .client
        .get(app.url("/api/me"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);

    let cross_site = app
        .client
        .post(app.url("/api/rooms"))
        .header("cookie", &cookie)
        .header("origin", "http://evil.example")
        .json(&json!({"peer": bob.username}))
        .send()
        .await
        .unwrap();
    assert_error(cross_site, 403, "forbidden").await;

    let no_origin = app
        .client
        .post(app.url("/api/rooms"))
        .header("cookie", &cookie)
        .json(&json!({"peer": bob.username}))
        .send()
        .await
        .unwrap();
    assert_error(no_origin, 403, "forbidden").await;
    assert!(
        app.rooms(&alice).await.is_empty(),
        "refused writes change nothing"
    );

    let same_origin = app
        .client
        .post(app.url("/api/rooms"))
        .header("cookie", &cookie)
        .header("origin", &host_origin)
        .json(&json!({"peer": bob.username}))
        .send()
        .await
        .unwrap();
    assert_eq!(same_origin.status(), 201);

    let fetch_same_origin = app
        .client
        .post(app.url("/api/rooms"))
        .header("cookie", &cookie)
        .header("sec-fetch-site", "same-origin")
        .json(&json!({"peer": bob.username}))
        .send()
        .await
        .unwrap();
    assert_eq!(fetch_same_origin.status(), 200);
}

#[tokio::test]
async fn logout_ends_the_session_at_once_for_rest_and_open_sockets() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let other_session: AuthResponse = json(app.login_response("alice", PASSWORD).await).await;
    let mut socket = app.ws(&alice).await;
    let mut other_socket = app
        .ws(&TestUser {
            token: other_session.token.clone(),
            ..alice.clone()
        })
        .await;

    let response = app
        .client
        .post(app.url("/api/auth/logout"))
        .bearer_auth(&alice.token)
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 204);
    assert_error(app.get("/api/me", &alice.token).await, 401, "unauthorized").await;
    assert_eq!(socket.closed().await, Closed::WithCode(1008));
    // Another session of the same user is untouched.
    assert_eq!(app.get("/api/me", &other_session.token).await.status(), 200);
    other_socket.send(&shared::ClientFrame::Ping).await;
    assert_eq!(other_socket.next_frame().await, shared::ServerFrame::Pong);
}
