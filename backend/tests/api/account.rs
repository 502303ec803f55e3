//! Account and conversation controls (api.md 1.1): profile, password, sessions, room view,
//! blocks, export.

use crate::helpers::*;
use reqwest::Method;
use serde_json::json;
use shared::{
    ClientFrame, ErrorCode, Export, Room, ServerFrame, SessionsResponse, User, UserId,
    UsersResponse,
};

#[tokio::test]
async fn a_new_display_name_reaches_the_peers_live() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    app.open_room(&alice, &bob).await;
    let mut bob_ws = app.ws(&bob).await;
    let mut alice_ws = app.ws(&alice).await;

    let bad = app
        .call(
            Method::PATCH,
            "/api/me",
            &alice.token,
            Some(&json!({"display_name": "  "})),
        )
        .await;
    assert_error(bad, 422, "validation").await;
    let renamed = app
        .call(
            Method::PATCH,
            "/api/me",
            &alice.token,
            Some(&json!({"display_name": "Alice Liddell"})),
        )
        .await;
    assert_eq!(renamed.status(), 200);
    let user: User = json(renamed).await;
    assert_eq!(user.display_name, "Alice Liddell");
    for ws in [&mut bob_ws, &mut alice_ws] {
        let frame = ws
            .next_matching(|f| matches!(f, ServerFrame::User { .. }))
            .await;
        assert!(
            matches!(frame, ServerFrame::User { user } if user.display_name == "Alice Liddell")
        );
    }
    assert_eq!(app.rooms(&bob).await[0].peer.display_name, "Alice Liddell");
}

#[tokio::test]
async fn a_password_change_ends_every_other_session_at_once() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let other: shared::AuthResponse = json(app.login_response("alice", PASSWORD).await).await;
    let mut other_ws = app
        .ws(&TestUser {
            token: other.token.clone(),
            ..alice.clone()
        })
        .await;
    let mut this_ws = app.ws(&alice).await;

    let path = "/api/me/password";
    let wrong = app
        .post(
            path,
            &alice.token,
            &json!({"current_password": "not it at all", "new_password": "a brand new one"}),
        )
        .await;
    assert_error(wrong, 403, "forbidden").await;
    let weak = app
        .post(
            path,
            &alice.token,
            &json!({"current_password": PASSWORD, "new_password": "short"}),
        )
        .await;
    assert_error(weak, 422, "validation").await;
    assert_eq!(
        app.get("/api/me", &other.token).await.status(),
        200,
        "nothing changed yet"
    );

    let changed = app
        .post(
            path,
            &alice.token,
            &json!({"current_password": PASSWORD, "new_password": "a brand new one"}),
        )
        .await;
    assert_eq!(changed.status(), 204);
    assert!(matches!(other_ws.closed().await, Closed::WithCode(_)));
    assert_error(app.get("/api/me", &other.token).await, 401, "unauthorized").await;
    assert_eq!(
        app.get("/api/me", &alice.token).await.status(),
        200,
        "this session stays"
    );
    this_ws.assert_none_before_pong(|_| false).await;
    assert_error(
        app.login_response("alice", PASSWORD).await,
        401,
        "unauthorized",
    )
    .await;
    assert_eq!(
        app.login_response("alice", "a brand new one")
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn sessions_are_listed_and_ended_one_or_all_others() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let phone = app
        .client
        .post(app.url("/api/auth/login"))
        .header("user-agent", "ChatPhone/1.0")
        .json(&json!({"username": "alice", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let phone: shared::AuthResponse = json(phone).await;
    let third: shared::AuthResponse = json(app.login_response("alice", PASSWORD).await).await;

    let list: SessionsResponse = json(app.get("/api/me/sessions", &alice.token).await).await;
    assert_eq!(list.sessions.len(), 3);
    assert_eq!(list.sessions.iter().filter(|s| s.current).count(), 1);
    let phone_session = list
        .sessions
        .iter()
        .find(|s| s.user_agent == "ChatPhone/1.0")
        .expect("the phone's session, by its user agent");
    assert!(!phone_session.current);

    let bobs: SessionsResponse = json(app.get("/api/me/sessions", &bob.token).await).await;
    let not_mine = app
        .delete(
            &format!("/api/me/sessions/{}", bobs.sessions[0].id),
            &alice.token,
        )
        .await;
    assert_error(not_mine, 404, "not_found").await;
    assert_eq!(app.get("/api/me", &bob.token).await.status(), 200);

    let mut phone_ws = app
        .ws(&TestUser {
            token: phone.token.clone(),
            ..alice.clone()
        })
        .await;
    let ended = app
        .delete(
            &format!("/api/me/sessions/{}", phone_session.id),
            &alice.token,
        )
        .await;
    assert_eq!(ended.status(), 204);
    assert!(matches!(phone_ws.closed().await, Closed::WithCode(_)));
    assert_error(app.get("/api/me", &phone.token).await, 401, "unauthorized").await;
    assert_eq!(app.get("/api/me", &third.token).await.status(), 200);

    assert_eq!(
        app.delete("/api/me/sessions", &alice.token).await.status(),
        204
    );
    assert_error(app.get("/api/me", &third.token).await, 401, "unauthorized").await;
    let left: SessionsResponse = json(app.get("/api/me/sessions", &alice.token).await).await;
    assert_eq!(left.sessions.len(), 1);
    assert!(left.sessions[0].current);
}

#[tokio::test]
async fn mute_and_mark_unread_are_the_callers_own_view_and_reach_their_other_tabs() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let room = app.open_room(&alice, &bob).await.id.0;
    app.send_ok(&bob, room, "hello").await;
    let mut other_tab = app.ws(&alice).await;

    let path = format!("/api/rooms/{room}");
    let muted: Room = json(
        app.call(
            Method::PATCH,
            &path,
            &alice.token,
            Some(&json!({"muted": true})),
        )
        .await,
    )
    .await;
    assert!(muted.muted && !muted.marked_unread);
    let frame = other_tab
        .next_matching(|f| matches!(f, ServerFrame::RoomUpdate { .. }))
        .await;
    assert!(matches!(frame, ServerFrame::RoomUpdate { room } if room.muted));
    assert!(!app.rooms(&bob).await[0].muted, "Bob's view is his own");
    let intruder = app
        .call(
            Method::PATCH,
            &path,
            &carol.token,
            Some(&json!({"muted": true})),
        )
        .await;
    assert_error(intruder, 404, "not_found").await;

    app.post(
        &format!("/api/rooms/{room}/read"),
        &alice.token,
        &json!({"seq": 1}),
    )
    .await;
    let marked: Room = json(
        app.call(
            Method::PATCH,
            &path,
            &alice.token,
            Some(&json!({"marked_unread": true})),
        )
        .await,
    )
    .await;
    assert!(marked.marked_unread && marked.muted);
    app.send_ok(&bob, room, "again").await;
    app.post(
        &format!("/api/rooms/{room}/read"),
        &alice.token,
        &json!({"seq": 2}),
    )
    .await;
    let read = &app.rooms(&alice).await[0];
    assert!(!read.marked_unread, "reading to the last message clears it");
    let update = other_tab
        .next_matching(|f| matches!(f, ServerFrame::RoomUpdate { room } if room.last_read_seq == 2))
        .await;
    assert!(matches!(update, ServerFrame::RoomUpdate { room } if !room.marked_unread));
}

#[tokio::test]
async fn a_block_stops_messages_both_ways_on_one_instance() {
    let app = spawn_app().await;
    blocks_stop_messages_both_ways(&app, &app).await;
}

#[tokio::test]
async fn a_block_stops_messages_both_ways_across_instances() {
    let Some((one, two)) = spawn_pair_with_redis().await else {
        return;
    };
    blocks_stop_messages_both_ways(&one, &two).await;
}

/// Alice (on `one`) blocks Bob (on `two`).
async fn blocks_stop_messages_both_ways(one: &TestApp, two: &TestApp) {
    let alice = one.register("alice").await;
    let bob = two.register("bob").await;
    let room = one.open_room(&alice, &bob).await.id;
    let mut alice_ws = one.ws(&alice).await;
    let mut bob_ws = two.ws(&bob).await;
    alice_ws
        .next_matching(|f| matches!(f, ServerFrame::Presence { online: true, .. }))
        .await;

    let block = format!("/api/users/{}/block", bob.id);
    assert_error(
        one.call(
            Method::PUT,
            &format!("/api/users/{}/block", alice.id),
            &alice.token,
            None,
        )
        .await,
        422,
        "validation",
    )
    .await;
    assert_error(
        one.call(Method::PUT, "/api/users/999999/block", &alice.token, None)
            .await,
        404,
        "not_found",
    )
    .await;
    assert_eq!(
        one.call(Method::PUT, &block, &alice.token, None)
            .await
            .status(),
        204
    );
    assert_eq!(
        one.call(Method::PUT, &block, &alice.token, None)
            .await
            .status(),
        204,
        "again: nothing changes"
    );
    let blocks: UsersResponse = json(one.get("/api/me/blocks", &alice.token).await).await;
    assert_eq!(
        blocks.users.iter().map(|u| u.id).collect::<Vec<_>>(),
        [UserId(bob.id)]
    );
    let gone = alice_ws
        .next_matching(|f| matches!(f, ServerFrame::Presence { .. }))
        .await;
    assert_eq!(
        gone,
        ServerFrame::Presence {
            user_id: UserId(bob.id),
            online: false
        }
    );

    let refused = two.send(&bob, room.0, "let me in", "b1").await;
    let message = assert_error(refused, 403, "forbidden").await;
    assert!(message.contains("not accepting"), "{message}");
    let own = one.send(&alice, room.0, "hm", "a1").await;
    let message = assert_error(own, 403, "forbidden").await;
    assert!(message.contains("unblock"), "{message}");
    bob_ws
        .send(&ClientFrame::Send {
            room_id: room,
            body: "over the socket".into(),
            client_id: "b2".into(),
            reply_to: None,
            attachments: Vec::new(),
        })
        .await;
    let frame = bob_ws
        .next_matching(|f| matches!(f, ServerFrame::Error { .. }))
        .await;
    assert!(
        matches!(frame, ServerFrame::Error { code: ErrorCode::Forbidden, client_id: Some(ref c), .. } if c == "b2")
    );
    bob_ws.send(&ClientFrame::Typing { room_id: room }).await;
    alice_ws
        .assert_none_before_pong(|f| {
            matches!(f, ServerFrame::Typing { .. } | ServerFrame::Message { .. })
        })
        .await;
    assert!(
        !one.rooms(&alice).await[0].peer.online,
        "Bob shows offline to Alice"
    );
    assert!(
        !two.rooms(&bob).await[0].peer.online,
        "Alice shows offline to Bob"
    );
    assert!(one.rooms(&alice).await[0].blocked);
    assert!(
        !two.rooms(&bob).await[0].blocked,
        "the blocked side is not told"
    );
    assert!(
        one.messages(&alice, room.0, "").await.messages.is_empty(),
        "history stays readable (empty)"
    );

    assert_eq!(
        one.call(Method::DELETE, &block, &alice.token, None)
            .await
            .status(),
        204
    );
    assert_eq!(
        one.call(Method::DELETE, &block, &alice.token, None)
            .await
            .status(),
        204
    );
    assert_eq!(
        two.send(&bob, room.0, "friends again", "b3").await.status(),
        201
    );
    assert_eq!(alice_ws.next_message().await.body, "friends again");
}

#[tokio::test]
async fn the_export_holds_exactly_what_the_user_can_read() {
    let app = spawn_app_with(|s| s.message_burst = 100_000).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let ours = app.open_room(&alice, &bob).await.id.0;
    let theirs = app.open_room(&bob, &carol).await.id.0;
    for i in 0..1_200 {
        let who = if i % 2 == 0 { &alice } else { &bob };
        app.send_ok(who, ours, &format!("line {i}")).await;
    }
    app.send_ok(&carol, theirs, "not for alice").await;
    let deleted = app
        .delete(&format!("/api/rooms/{ours}/messages/5"), &alice.token)
        .await;
    assert_eq!(deleted.status(), 204);

    let response = app.get("/api/me/export", &alice.token).await;
    assert_eq!(response.status(), 200);
    let disposition = response.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(disposition.starts_with("attachment"), "{disposition}");
    let text = response.text().await.unwrap();
    assert!(!text.contains("not for alice") && !text.contains("line 4\""));
    let export: Export = serde_json::from_str(&text).unwrap();
    assert_eq!(export.user.id, UserId(alice.id));
    assert_eq!(export.rooms.len(), 1);
    let messages = &export.rooms[0].messages;
    assert_eq!(messages.len(), 1_200);
    assert!(
        messages
            .iter()
            .enumerate()
            .all(|(i, m)| m.seq == i as i64 + 1),
        "in seq order"
    );
    assert!(messages[4].deleted, "deleted ones as tombstones");
}
