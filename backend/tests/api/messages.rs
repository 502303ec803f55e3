use crate::helpers::*;
use serde_json::json;
use shared::Message;
use std::collections::HashSet;

#[tokio::test]
async fn a_message_is_stored_verbatim_and_returned_with_seq_and_time() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let room = app.open_room(&alice, &bob).await;
    let body = "  <b>hi</b> & \"you\"\n  second line  ";

    let response = app.send(&alice, room.id.0, body, "c-1").await;

    assert_eq!(response.status(), 201);
    let message: Message = json(response).await;
    assert_eq!(message.body, body, "stored and returned verbatim");
    assert_eq!(
        (message.seq, message.room_id, message.sender_id.0),
        (1, room.id, alice.id)
    );
    assert_eq!(message.client_id, "c-1");
    let age = chrono::Utc::now() - message.created_at;
    assert!(age.num_seconds().abs() < 60, "created_at is now, in UTC");
    let history = app.messages(&bob, room.id.0, "").await;
    assert_eq!(history.messages, vec![message]);
}

#[tokio::test]
async fn the_same_client_id_again_returns_200_and_the_same_message() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let room = app.open_room(&alice, &bob).await;

    let first: Message = json(app.send(&alice, room.id.0, "hello", "same-id").await).await;
    let retry = app.send(&alice, room.id.0, "hello", "same-id").await;

    assert_eq!(retry.status(), 200);
    assert_eq!(json::<Message>(retry).await, first);
    // Another sender may use the same client_id: ids are per sender.
    let bobs = app.send(&bob, room.id.0, "hello", "same-id").await;
    assert_eq!(bobs.status(), 201);
    assert_eq!(app.messages(&alice, room.id.0, "").await.messages.len(), 2);
}

#[tokio::test]
async fn concurrent_retries_of_one_client_id_store_exactly_one_message() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let room = app.open_room(&alice, &bob).await;

    let retries = (0..10).map(|_| app.send(&alice, room.id.0, "only once", "retry-me"));
    let responses = futures_util::future::join_all(retries).await;

    let mut created = 0;
    let mut ids = HashSet::new();
    for response in responses {
        match response.status().as_u16() {
            201 => created += 1,
            200 => {}
            other => panic!("unexpected status {other}"),
        }
        ids.insert(json::<Message>(response).await.id);
    }
    assert_eq!(created, 1);
    assert_eq!(ids.len(), 1);
    let history = app.messages(&bob, room.id.0, "").await;
    assert_eq!(history.messages.len(), 1);
    assert_eq!(history.messages[0].seq, 1, "the losers consumed no seq");
    let next = app.send_ok(&bob, room.id.0, "after").await;
    assert_eq!(next.seq, 2, "no gap after the race");
}

#[tokio::test]
async fn a_client_id_reused_in_another_room_is_a_conflict() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let first = app.open_room(&alice, &bob).await;
    let second = app.open_room(&alice, &carol).await;
    assert_eq!(app.send(&alice, first.id.0, "x", "dup").await.status(), 201);

    assert_error(
        app.send(&alice, second.id.0, "x", "dup").await,
        409,
        "conflict",
    )
    .await;
    assert!(app
        .messages(&carol, second.id.0, "")
        .await
        .messages
        .is_empty());
}

#[tokio::test]
async fn concurrent_senders_get_seq_numbers_without_gaps_or_duplicates() {
    let app = spawn_app_with(|s| s.message_burst = 1000).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let room = app.open_room(&alice, &bob).await;
    let per_sender = 40;

    let planned: Vec<(&TestUser, String, String)> = (0..per_sender)
        .flat_map(|i| {
            [("a", &alice), ("b", &bob)]
                .map(|(who, user)| (user, format!("{who}{i}"), format!("{who}-{i}")))
        })
        .collect();
    let sends: Vec<_> = planned
        .iter()
        .map(|(user, body, client_id)| app.send(user, room.id.0, body, client_id))
        .collect();
    // Also through websockets, several sockets per user.
    let mut sockets = [
        app.ws(&alice).await,
        app.ws(&alice).await,
        app.ws(&bob).await,
    ];
    for (n, socket) in sockets.iter_mut().enumerate() {
        for i in 0..10 {
            socket
                .send(&shared::ClientFrame::Send {
                    room_id: room.id,
                    body: format!("ws{n}-{i}"),
                    client_id: format!("ws{n}-{i}"),
                    reply_to: None,
                    attachments: Vec::new(),
                })
                .await;
        }
    }
    for response in futures_util::future::join_all(sends).await {
        assert_eq!(response.status(), 201);
    }
    for socket in sockets.iter_mut() {
        let mut acks = 0;
        while acks < 10 {
            if let shared::ServerFrame::Ack { .. } = socket.next_frame().await {
                acks += 1;
            }
        }
    }

    let total = per_sender * 2 + 30;
    let history = app.messages(&alice, room.id.0, "?limit=200").await;
    let seqs: Vec<i64> = history.messages.iter().map(|m| m.seq).collect();
    assert_eq!(seqs, (1..=total as i64).collect::<Vec<_>>());
    let bodies: HashSet<_> = history.messages.iter().map(|m| m.body.clone()).collect();
    assert_eq!(bodies.len(), total);
}

#[tokio::test]
async fn history_pages_backwards_and_forwards_with_has_more() {
    let app = spawn_app_with(|s| s.message_burst = 1000).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let room = app.open_room(&alice, &bob).await;
    for i in 1..=120 {
        app.send_ok(
            if i % 2 == 0 { &alice } else { &bob },
            room.id.0,
            &format!("m{i}"),
        )
        .await;
    }
    let seqs =
        |page: &shared::MessagesResponse| page.messages.iter().map(|m| m.seq).collect::<Vec<_>>();
    let id = room.id.0;

    let latest = app.messages(&alice, id, "").await;
    assert_eq!(seqs(&latest), (71..=120).collect::<Vec<_>>());
    assert!(latest.has_more);

    let older = app.messages(&alice, id, "?before=71").await;
    assert_eq!(seqs(&older), (21..=70).collect::<Vec<_>>());
    assert!(older.has_more);

    let oldest = app.messages(&alice, id, "?before=21").await;
    assert_eq!(seqs(&oldest), (1..=20).collect::<Vec<_>>());
    assert!(!oldest.has_more);

    let exact = app.messages(&alice, id, "?before=51&limit=50").await;
    assert_eq!(seqs(&exact), (1..=50).collect::<Vec<_>>());
    assert!(!exact.has_more, "exactly a page left: nothing beyond it");

    let newer = app.messages(&alice, id, "?after=100&limit=15").await;
    assert_eq!(seqs(&newer), (101..=115).collect::<Vec<_>>());
    assert!(newer.has_more);
    let newest = app.messages(&alice, id, "?after=115").await;
    assert_eq!(seqs(&newest), (116..=120).collect::<Vec<_>>());
    assert!(!newest.has_more);
    let beyond = app.messages(&alice, id, "?after=120").await;
    assert!(beyond.messages.is_empty() && !beyond.has_more);

    let all = app.messages(&alice, id, "?after=0&limit=200").await;
    assert_eq!(seqs(&all), (1..=120).collect::<Vec<_>>());
    let one = app.messages(&alice, id, "?limit=1").await;
    assert_eq!(seqs(&one), vec![120]);

    for bad in [
        "?limit=0",
        "?limit=201",
        "?limit=-5",
        "?limit=abc",
        "?before=x",
        "?before=5&after=2",
        "?after=-1",
        "?limit=99999999999999999999",
    ] {
        let response = app
            .get(&format!("/api/rooms/{id}/messages{bad}"), &alice.token)
            .await;
        assert_error(response, 400, "bad_request").await;
    }
}

#[tokio::test]
async fn bodies_are_1_to_4000_characters_after_trimming() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let room = app.open_room(&alice, &bob).await;

    for (body, client_id) in [
        ("", "e1"),
        ("   \n\t  ", "e2"),
        (&"x".repeat(4001) as &str, "e3"),
    ] {
        let message = assert_error(
            app.send(&alice, room.id.0, body, client_id).await,
            422,
            "validation",
        )
        .await;
        assert!(message.contains("body"));
    }
    for client_id in ["", &"c".repeat(65)] {
        let message = assert_error(
            app.send(&alice, room.id.0, "hi", client_id).await,
            422,
            "validation",
        )
        .await;
        assert!(message.contains("client_id"));
    }
    assert!(app
        .messages(&alice, room.id.0, "")
        .await
        .messages
        .is_empty());

    let longest = "é".repeat(4000);
    assert_eq!(
        app.send(&alice, room.id.0, &longest, "ok1").await.status(),
        201
    );
    let padded = format!("   {}   ", "y".repeat(4000));
    let stored: Message = json(app.send(&alice, room.id.0, &padded, "ok2").await).await;
    assert_eq!(stored.body, padded);
}

#[tokio::test]
async fn sending_faster_than_the_limit_is_429_with_retry_after() {
    let app = spawn_app_with(|s| {
        s.messages_per_second = 1.0;
        s.message_burst = 5;
    })
    .await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let room = app.open_room(&alice, &bob).await;
    for i in 0..5 {
        assert_eq!(
            app.send(&alice, room.id.0, "x", &format!("r{i}"))
                .await
                .status(),
            201
        );
    }

    let limited = app.send(&alice, room.id.0, "x", "r-limited").await;

    assert!(limited.headers().contains_key("retry-after"));
    assert_error(limited, 429, "rate_limited").await;
    assert_eq!(app.messages(&alice, room.id.0, "").await.messages.len(), 5);
    assert_eq!(
        app.send(&bob, room.id.0, "bob is not limited", "b1")
            .await
            .status(),
        201
    );
}

#[tokio::test]
async fn read_marks_and_sends_need_a_json_body_of_the_right_shape() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let room = app.open_room(&alice, &bob).await;
    let path = format!("/api/rooms/{}/read", room.id);

    assert_error(
        app.post(&path, &alice.token, &json!({"seq": "3"})).await,
        400,
        "bad_request",
    )
    .await;
    assert_error(
        app.post(&path, &alice.token, &json!({})).await,
        400,
        "bad_request",
    )
    .await;
    assert_error(
        app.post(
            &format!("/api/rooms/{}/messages", room.id),
            &alice.token,
            &json!({"body": "x"}),
        )
        .await,
        400,
        "bad_request",
    )
    .await;
}
