use crate::helpers::*;

#[tokio::test]
async fn malformed_bodies_are_400_with_the_error_shape_and_store_nothing() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let room = app.open_room(&alice, &bob).await;
    let send_path = format!("/api/rooms/{}/messages", room.id);

    let bodies: Vec<Vec<u8>> = vec![
        b"{not json".to_vec(),
        b"".to_vec(),
        b"[]".to_vec(),
        br#"{"body": 5, "client_id": "c"}"#.to_vec(),
        br#"{"body": "x"}"#.to_vec(),
        br#"{"body": null, "client_id": "c"}"#.to_vec(),
        vec![
            b'{', b'"', b'b', b'o', b'd', b'y', b'"', b':', b'"', 0xff, 0xfe, b'"', b'}',
        ],
    ];
    for body in bodies {
        let response = app
            .post_raw(&send_path, Some(&alice.token), body.clone())
            .await;
        assert_error(response, 400, "bad_request").await;
    }
    let register = app
        .post_raw(
            "/api/auth/register",
            None,
            br#"{"username": ["x"]}"#.to_vec(),
        )
        .await;
    assert_error(register, 400, "bad_request").await;
    assert!(app
        .messages(&alice, room.id.0, "")
        .await
        .messages
        .is_empty());
}

#[tokio::test]
async fn an_oversized_body_is_413() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let room = app.open_room(&alice, &bob).await;

    let body = format!(
        r#"{{"body": "{}", "client_id": "big"}}"#,
        "x".repeat(100 * 1024)
    );
    let response = app
        .post_raw(
            &format!("/api/rooms/{}/messages", room.id),
            Some(&alice.token),
            body.into_bytes(),
        )
        .await;

    assert_error(response, 413, "payload_too_large").await;
}

#[tokio::test]
async fn unknown_api_paths_and_bad_ids_answer_json_not_the_app() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;

    for path in ["/api/nope", "/api/rooms/abc", "/api/rooms/1/nothing"] {
        assert_error(app.get(path, &alice.token).await, 404, "not_found").await;
    }
    let wrong_method = app
        .client
        .delete(app.url("/api/rooms"))
        .bearer_auth(&alice.token)
        .send()
        .await
        .unwrap();
    assert_error(wrong_method, 404, "not_found").await;
    let huge_id = app
        .get("/api/rooms/99999999999999999999999", &alice.token)
        .await;
    assert_error(huge_id, 404, "not_found").await;
}
