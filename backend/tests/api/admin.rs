use crate::helpers::*;
use serde_json::json;
use shared::{
    AdminRoomsResponse, AdminUsersResponse, AuditResponse, ClientFrame, MessagesResponse,
    ServerFrame, TOMBSTONE_BODY,
};

#[tokio::test]
async fn the_cli_creates_an_admin_or_promotes_a_user_and_lists_them() {
    let app = spawn_app().await;
    let root = app.admin("root").await;
    let alice = app.register("alice").await;
    assert!(
        !json::<shared::User>(app.get("/api/me", &alice.token).await)
            .await
            .is_admin
    );

    let promoted = app.admin_cli(&["create", "--username", "Alice"], None);
    assert!(promoted.status.success(), "{promoted:?}");
    assert!(
        json::<shared::User>(app.get("/api/me", &alice.token).await)
            .await
            .is_admin
    );

    let listed = app.admin_cli(&["list"], None);
    let text = String::from_utf8(listed.stdout).unwrap();
    assert!(text.contains("root") && text.contains("alice"), "{text}");

    let short = app.admin_cli(&["create", "--username", "weak"], Some("short"));
    assert!(!short.status.success());
    assert!(String::from_utf8_lossy(&short.stderr).contains("password"));
    let audit: AuditResponse = json(app.get("/api/admin/audit", &root.token).await).await;
    let actions: Vec<_> = audit.entries.iter().map(|e| e.action.as_str()).collect();
    assert!(
        actions.contains(&"create_admin") && actions.contains(&"promote_admin"),
        "{actions:?}"
    );
    let about_root: Vec<_> = audit
        .entries
        .iter()
        .filter(|e| e.target_id == root.id)
        .collect();
    assert_eq!(
        about_root.len(),
        1,
        "one creation, one entry: {about_root:?}"
    );
    assert_eq!(about_root[0].action, "create_admin");
}

#[tokio::test]
async fn every_admin_endpoint_is_403_for_a_normal_user_and_401_without_a_session() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let endpoints = [
        ("GET", "/api/admin/users"),
        ("GET", "/api/admin/rooms"),
        ("GET", "/api/admin/rooms/1/messages"),
        ("DELETE", "/api/admin/messages/1"),
        ("POST", "/api/admin/users/1/disable"),
        ("GET", "/api/admin/audit"),
    ];
    for (method, path) in endpoints {
        let request = |token: Option<&str>| {
            let mut r = app.client.request(method.parse().unwrap(), app.url(path));
            if let Some(token) = token {
                r = r.bearer_auth(token);
            }
            r.send()
        };
        assert_error(request(Some(&alice.token)).await.unwrap(), 403, "forbidden").await;
        assert_error(request(None).await.unwrap(), 401, "unauthorized").await;
    }
}

#[tokio::test]
async fn admins_list_users_with_counts_and_rooms_with_both_members() {
    let app = spawn_app().await;
    let root = app.admin("root").await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let room = app.open_room(&alice, &bob).await;
    app.send_ok(&alice, room.id.0, "one").await;
    app.send_ok(&alice, room.id.0, "two").await;
    app.send_ok(&bob, room.id.0, "three").await;

    let users: AdminUsersResponse = json(app.get("/api/admin/users", &root.token).await).await;
    let alice_row = users
        .users
        .iter()
        .find(|u| u.user.username == "alice")
        .unwrap();
    assert_eq!((alice_row.message_count, alice_row.disabled), (2, false));
    let raw: serde_json::Value = json(app.get("/api/admin/users", &root.token).await).await;
    let first = &raw["users"][0];
    for field in [
        "id",
        "username",
        "display_name",
        "is_admin",
        "online",
        "created_at",
        "disabled",
        "message_count",
    ] {
        assert!(
            first.get(field).is_some(),
            "admin user lacks {field}: {first}"
        );
    }

    let rooms: AdminRoomsResponse = json(app.get("/api/admin/rooms", &root.token).await).await;
    assert_eq!(rooms.rooms.len(), 1);
    let listed = &rooms.rooms[0];
    let mut names: Vec<_> = listed.members.iter().map(|m| m.username.as_str()).collect();
    names.sort();
    assert_eq!(names, ["alice", "bob"]);
    assert_eq!(listed.last_seq, 3);
    assert!(listed.last_message_at.is_some());

    let page: MessagesResponse = json(
        app.get(
            &format!("/api/admin/rooms/{}/messages?limit=2", room.id),
            &root.token,
        )
        .await,
    )
    .await;
    assert_eq!(
        page.messages.iter().map(|m| m.seq).collect::<Vec<_>>(),
        [2, 3]
    );
    assert!(page.has_more);
    let older: MessagesResponse = json(
        app.get(
            &format!("/api/admin/rooms/{}/messages?before=2", room.id),
            &root.token,
        )
        .await,
    )
    .await;
    assert_eq!(older.messages[0].body, "one");
    assert_error(
        app.get("/api/admin/rooms/999/messages", &root.token).await,
        404,
        "not_found",
    )
    .await;
    assert_error(
        app.get(
            &format!("/api/admin/rooms/{}/messages?limit=0", room.id),
            &root.token,
        )
        .await,
        400,
        "bad_request",
    )
    .await;
}

#[tokio::test]
async fn deleting_a_message_leaves_a_tombstone_that_reaches_open_clients_live() {
    let app = spawn_app().await;
    let root = app.admin("root").await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let room = app.open_room(&alice, &bob).await;
    let doomed = app.send_ok(&alice, room.id.0, "regrettable").await;
    let kept = app.send_ok(&bob, room.id.0, "fine").await;
    let mut alice_ws = app.ws(&alice).await;
    let mut bob_ws = app.ws(&bob).await;

    let response = app
        .delete(&format!("/api/admin/messages/{}", doomed.id), &root.token)
        .await;

    assert_eq!(response.status(), 204);
    for ws in [&mut alice_ws, &mut bob_ws] {
        let frame = ws
            .next_matching(|f| matches!(f, ServerFrame::MessageUpdate { .. }))
            .await;
        let ServerFrame::MessageUpdate { message } = frame else {
            unreachable!()
        };
        assert_eq!((message.id, message.seq), (doomed.id, doomed.seq));
        assert!(message.deleted);
        assert_eq!(message.body, TOMBSTONE_BODY);
    }
    let history = app.messages(&bob, room.id.0, "").await;
    assert_eq!(history.messages.len(), 2, "seq stays: no gap");
    assert_eq!(history.messages[0].body, TOMBSTONE_BODY);
    assert!(history.messages[0].deleted);
    assert_eq!(history.messages[1], kept);
    assert_error(
        app.delete("/api/admin/messages/99999", &root.token).await,
        404,
        "not_found",
    )
    .await;

    let audit: AuditResponse = json(app.get("/api/admin/audit", &root.token).await).await;
    let entry = &audit.entries[0];
    assert_eq!(
        (
            entry.action.as_str(),
            entry.target_type.as_str(),
            entry.target_id
        ),
        ("delete_message", "message", doomed.id.0)
    );
    assert_eq!(entry.actor_username.as_deref(), Some("root"));
}

#[tokio::test]
async fn disabling_a_user_ends_their_sessions_and_sockets_and_refuses_login_but_keeps_messages() {
    let app = spawn_app().await;
    let root = app.admin("root").await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let room = app.open_room(&alice, &bob).await;
    app.send_ok(&bob, room.id.0, "bob was here").await;
    let mut bob_ws = app.ws(&bob).await;

    let response = app
        .post(
            &format!("/api/admin/users/{}/disable", bob.id),
            &root.token,
            &json!({}),
        )
        .await;

    assert_eq!(response.status(), 204);
    assert_eq!(bob_ws.closed().await, Closed::WithCode(1008));
    assert_error(app.get("/api/me", &bob.token).await, 401, "unauthorized").await;
    let login = app.login_response("bob", PASSWORD).await;
    let message = assert_error(login, 403, "forbidden").await;
    assert!(message.contains("disabled"), "{message}");
    let history = app.messages(&alice, room.id.0, "").await;
    assert_eq!(history.messages[0].body, "bob was here");
    let mut ws = app.ws_unauthenticated().await;
    ws.send(&ClientFrame::Auth {
        token: bob.token.clone(),
    })
    .await;
    assert!(matches!(ws.next_frame().await, ServerFrame::Error { .. }));

    let users: AdminUsersResponse = json(app.get("/api/admin/users", &root.token).await).await;
    assert!(
        users
            .users
            .iter()
            .find(|u| u.user.username == "bob")
            .unwrap()
            .disabled
    );
    let audit: AuditResponse = json(app.get("/api/admin/audit", &root.token).await).await;
    assert_eq!(audit.entries[0].action, "disable_user");

    // Admins cannot lock themselves out; a disabled admin loses admin access.
    let own = app
        .post(
            &format!("/api/admin/users/{}/disable", root.id),
            &root.token,
            &json!({}),
        )
        .await;
    assert_error(own, 422, "validation").await;
    let second = app.admin("second").await;
    let disabled = app
        .post(
            &format!("/api/admin/users/{}/disable", second.id),
            &root.token,
            &json!({}),
        )
        .await;
    assert_eq!(disabled.status(), 204);
    assert_error(
        app.get("/api/admin/users", &second.token).await,
        401,
        "unauthorized",
    )
    .await;
    assert_error(
        app.login_response("second", PASSWORD).await,
        403,
        "forbidden",
    )
    .await;
}
