use crate::helpers::*;
use serde_json::json;
use shared::{Room, UsersResponse};

#[tokio::test]
async fn opening_a_conversation_creates_one_room_per_pair_from_either_side() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;

    let created = app
        .post("/api/rooms", &alice.token, &json!({"peer": "bob"}))
        .await;
    assert_eq!(created.status(), 201);
    let room: Room = json(created).await;
    assert_eq!(room.peer.username, "bob");
    assert_eq!((room.last_seq, room.last_read_seq, room.unread), (0, 0, 0));
    assert!(room.last_message.is_none());

    let again = app
        .post("/api/rooms", &alice.token, &json!({"peer": "BOB"}))
        .await;
    assert_eq!(again.status(), 200);
    assert_eq!(json::<Room>(again).await.id, room.id);
    let from_bob = app
        .post("/api/rooms", &bob.token, &json!({"peer": "alice"}))
        .await;
    assert_eq!(from_bob.status(), 200);
    let from_bob: Room = json(from_bob).await;
    assert_eq!(from_bob.id, room.id);
    assert_eq!(from_bob.peer.username, "alice");
}

#[tokio::test]
async fn both_people_opening_the_conversation_at_once_still_get_one_room() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;

    let mut tasks = Vec::new();
    for i in 0..12 {
        let (me, peer) = if i % 2 == 0 {
            (&alice, &bob)
        } else {
            (&bob, &alice)
        };
        let request = app
            .client
            .post(app.url("/api/rooms"))
            .bearer_auth(&me.token)
            .json(&json!({"peer": peer.username}))
            .send();
        tasks.push(request);
    }
    let responses = futures_util::future::join_all(tasks).await;

    let mut created = 0;
    let mut ids = std::collections::HashSet::new();
    for response in responses {
        let response = response.unwrap();
        if response.status() == 201 {
            created += 1;
        } else {
            assert_eq!(response.status(), 200);
        }
        ids.insert(json::<Room>(response).await.id);
    }
    assert_eq!(created, 1, "exactly one request created the room");
    assert_eq!(ids.len(), 1);
    assert_eq!(app.rooms(&alice).await.len(), 1);
}

#[tokio::test]
async fn an_unknown_peer_is_404_and_yourself_is_422() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;

    assert_error(
        app.post("/api/rooms", &alice.token, &json!({"peer": "nobody"}))
            .await,
        404,
        "not_found",
    )
    .await;
    let message = assert_error(
        app.post("/api/rooms", &alice.token, &json!({"peer": "Alice"}))
            .await,
        422,
        "validation",
    )
    .await;
    assert!(message.contains("peer"));
    assert!(app.rooms(&alice).await.is_empty());
}

#[tokio::test]
async fn a_third_user_gets_the_same_404_as_for_a_room_that_does_not_exist() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let mallory = app.register("mallory").await;
    let room = app.open_room(&alice, &bob).await;
    app.send_ok(&alice, room.id.0, "secret").await;
    let missing = room.id.0 + 1000;

    for id in [room.id.0, missing] {
        let answers = [
            app.get(&format!("/api/rooms/{id}"), &mallory.token).await,
            app.get(&format!("/api/rooms/{id}/messages"), &mallory.token)
                .await,
            app.send(&mallory, id, "let me in", "m-1").await,
            app.post(
                &format!("/api/rooms/{id}/read"),
                &mallory.token,
                &json!({"seq": 1}),
            )
            .await,
        ];
        for answer in answers {
            let message = assert_error(answer, 404, "not_found").await;
            assert_eq!(message, "no such room", "no existence leak");
        }
    }
    let history = app.messages(&alice, room.id.0, "").await;
    assert_eq!(history.messages.len(), 1, "mallory stored nothing");
    assert!(app.rooms(&mallory).await.is_empty());
}

#[tokio::test]
async fn rooms_are_listed_most_recent_first_with_last_message_and_unread_counts() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let with_bob = app.open_room(&alice, &bob).await;
    let with_carol = app.open_room(&alice, &carol).await;
    app.send_ok(&bob, with_bob.id.0, "one").await;
    app.send_ok(&bob, with_bob.id.0, "two").await;
    app.send_ok(&alice, with_bob.id.0, "mine").await;
    app.send_ok(&carol, with_carol.id.0, "hello from carol")
        .await;

    let rooms = app.rooms(&alice).await;

    assert_eq!(rooms.len(), 2);
    assert_eq!(rooms[0].id, with_carol.id, "most recent activity first");
    assert_eq!(rooms[0].unread, 1);
    assert_eq!(
        rooms[0].last_message.as_ref().unwrap().body,
        "hello from carol"
    );
    assert_eq!(rooms[1].id, with_bob.id);
    assert_eq!(rooms[1].last_seq, 3);
    assert_eq!(rooms[1].unread, 2, "own messages are never unread");
    assert_eq!(rooms[1].last_message.as_ref().unwrap().body, "mine");
    assert_eq!(rooms[1].peer.username, "bob");

    app.send_ok(&bob, with_bob.id.0, "three").await;
    let rooms = app.rooms(&alice).await;
    assert_eq!(rooms[0].id, with_bob.id, "a new message moves the room up");
    assert_eq!(rooms[0].unread, 3);
}

#[tokio::test]
async fn read_marks_clear_unread_and_never_move_backwards() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let room = app.open_room(&alice, &bob).await;
    for i in 0..5 {
        app.send_ok(&bob, room.id.0, &format!("m{i}")).await;
    }
    let read = |seq: i64| {
        let app = &app;
        let token = alice.token.clone();
        async move {
            app.post(
                &format!("/api/rooms/{}/read", room.id),
                &token,
                &json!({"seq": seq}),
            )
            .await
        }
    };

    assert_eq!(read(3).await.status(), 204);
    let seen: Room = json(
        app.get(&format!("/api/rooms/{}", room.id), &alice.token)
            .await,
    )
    .await;
    assert_eq!((seen.last_read_seq, seen.unread), (3, 2));

    assert_eq!(read(1).await.status(), 204);
    let seen: Room = json(
        app.get(&format!("/api/rooms/{}", room.id), &alice.token)
            .await,
    )
    .await;
    assert_eq!(seen.last_read_seq, 3, "never backwards");

    assert_eq!(read(99).await.status(), 204);
    let seen: Room = json(
        app.get(&format!("/api/rooms/{}", room.id), &alice.token)
            .await,
    )
    .await;
    assert_eq!(
        (seen.last_read_seq, seen.unread),
        (5, 0),
        "clamped to the last message"
    );

    let from_bob: Room = json(
        app.get(&format!("/api/rooms/{}", room.id), &bob.token)
            .await,
    )
    .await;
    assert_eq!(from_bob.peer_last_read_seq, 5);
    assert_eq!(from_bob.last_read_seq, 0);

    assert_error(read(-1).await, 422, "validation").await;
}

#[tokio::test]
async fn user_search_matches_prefixes_except_yourself_and_returns_at_most_20() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    app.register("al_bundy").await;
    app.register("alfred").await;
    app.register("bob").await;
    app.register("alxbundy").await;

    let found: UsersResponse = json(app.get("/api/users?q=AL", &alice.token).await).await;
    let names: Vec<_> = found.users.iter().map(|u| u.username.as_str()).collect();
    assert_eq!(names, ["al_bundy", "alfred", "alxbundy"]);

    let underscore: UsersResponse = json(app.get("/api/users?q=al_", &alice.token).await).await;
    let names: Vec<_> = underscore
        .users
        .iter()
        .map(|u| u.username.as_str())
        .collect();
    assert_eq!(
        names,
        ["al_bundy"],
        "_ matches literally, not as a wildcard"
    );

    for i in 0..22 {
        app.register(&format!("zed{i:02}")).await;
    }
    let many: UsersResponse = json(app.get("/api/users?q=zed", &alice.token).await).await;
    assert_eq!(many.users.len(), 20);
    assert_error(
        app.client
            .get(app.url("/api/users?q=a"))
            .send()
            .await
            .unwrap(),
        401,
        "unauthorized",
    )
    .await;
}
