use crate::helpers::*;
use shared::{ClientFrame, ErrorCode, RoomId, ServerFrame, UserId};
use std::time::Duration;

fn is_message(frame: &ServerFrame) -> bool {
    matches!(frame, ServerFrame::Message { .. })
}

#[tokio::test]
async fn a_socket_authenticates_with_its_first_frame_or_the_cookie() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;

    let mut by_frame = app.ws(&alice).await;
    by_frame.send(&ClientFrame::Ping).await;
    assert_eq!(by_frame.next_frame().await, ServerFrame::Pong);

    let cookie = format!("session={}", alice.token);
    let mut by_cookie = app.ws_with_headers(&[("cookie", &cookie)]).await.unwrap();
    let ready = by_cookie.next_frame().await;
    assert_eq!(user_of(&ready).unwrap().id.0, alice.id);
    assert!(user_of(&ready).unwrap().online);
    // A client that also sends its auth frame (the SPA does) is accepted quietly.
    by_cookie
        .send(&ClientFrame::Auth {
            token: alice.token.clone(),
        })
        .await;
    by_cookie.send(&ClientFrame::Ping).await;
    assert_eq!(by_cookie.next_frame().await, ServerFrame::Pong);
}

#[tokio::test]
async fn a_bad_token_gets_an_error_frame_and_the_socket_closes() {
    let app = spawn_app().await;
    let mut ws = app.ws_unauthenticated().await;

    ws.send(&ClientFrame::Auth {
        token: "forged".into(),
    })
    .await;

    match ws.next_frame().await {
        ServerFrame::Error { code, .. } => assert_eq!(code, ErrorCode::Unauthorized),
        other => panic!("expected an error, got {other:?}"),
    }
    assert_eq!(ws.closed().await, Closed::WithCode(1008));
}

#[tokio::test]
async fn anything_but_auth_as_the_first_frame_is_refused() {
    let app = spawn_app().await;
    let mut ws = app.ws_unauthenticated().await;

    ws.send(&ClientFrame::Ping).await;

    assert!(matches!(
        ws.next_frame().await,
        ServerFrame::Error {
            code: ErrorCode::Unauthorized,
            ..
        }
    ));
    assert_eq!(ws.closed().await, Closed::WithCode(1008));
}

#[tokio::test]
async fn a_socket_that_never_authenticates_is_closed_after_the_timeout() {
    let app = spawn_app_with(|s| s.ws_auth_timeout_secs = 1).await;
    let mut ws = app.ws_unauthenticated().await;
    assert_eq!(ws.closed().await, Closed::WithCode(1008));
}

#[tokio::test]
async fn origins_other_than_our_own_or_configured_ones_are_refused_at_the_handshake() {
    let app = spawn_app_with(|s| s.allowed_origins = vec!["https://app.example.com".into()]).await;
    let own = app.address.clone();

    assert_eq!(
        app.ws_with_headers(&[("origin", "http://evil.example")])
            .await
            .err(),
        Some(403)
    );
    assert!(app.ws_with_headers(&[("origin", &own)]).await.is_ok());
    assert!(app
        .ws_with_headers(&[("origin", "https://app.example.com")])
        .await
        .is_ok());
}

#[tokio::test]
async fn send_is_acked_then_delivered_to_every_socket_of_both_members() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let room = app.open_room(&alice, &bob).await;
    let mut alice_tab1 = app.ws(&alice).await;
    let mut alice_tab2 = app.ws(&alice).await;
    let mut bob_ws = app.ws(&bob).await;
    let mut carol_ws = app.ws(&carol).await;

    alice_tab1
        .send(&ClientFrame::Send {
            room_id: room.id,
            body: "hello bob".into(),
            client_id: "k1".into(),
            reply_to: None,
            attachments: Vec::new(),
        })
        .await;

    let ack = alice_tab1
        .next_matching(|f| matches!(f, ServerFrame::Ack { .. } | ServerFrame::Message { .. }))
        .await;
    let ServerFrame::Ack { client_id, message } = ack else {
        panic!("the sender gets its ack first, got {ack:?}");
    };
    assert_eq!(client_id, "k1");
    assert_eq!((message.seq, message.body.as_str()), (1, "hello bob"));
    assert_eq!(alice_tab1.next_message().await, message);
    assert_eq!(alice_tab2.next_message().await, message);
    assert_eq!(bob_ws.next_message().await, message);
    carol_ws.assert_none_before_pong(is_message).await;

    // A retry over the socket is acked with the same message and not delivered again.
    alice_tab1
        .send(&ClientFrame::Send {
            room_id: room.id,
            body: "hello bob".into(),
            client_id: "k1".into(),
            reply_to: None,
            attachments: Vec::new(),
        })
        .await;
    let again = alice_tab1
        .next_matching(|f| matches!(f, ServerFrame::Ack { .. }))
        .await;
    assert_eq!(
        again,
        ServerFrame::Ack {
            client_id: "k1".into(),
            message: message.clone()
        }
    );
    // The marker: a new message from the same socket, stored and published after the retry.
    alice_tab1
        .send(&ClientFrame::Send {
            room_id: room.id,
            body: "after the retry".into(),
            client_id: "k2".into(),
            reply_to: None,
            attachments: Vec::new(),
        })
        .await;
    bob_ws
        .assert_none_before(
            |f| matches!(f, ServerFrame::Message { message } if message.seq == 1),
            |f| matches!(f, ServerFrame::Message { message } if message.body == "after the retry"),
        )
        .await;
    // A REST send reaches sockets too.
    let posted = app.send_ok(&bob, room.id.0, "via rest").await;
    assert_eq!(
        alice_tab2
            .next_matching(
                |f| matches!(f, ServerFrame::Message { message } if message.body == "via rest")
            )
            .await,
        ServerFrame::Message { message: posted }
    );
}

#[tokio::test]
async fn read_typing_presence_and_room_events_reach_the_peer() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let mut bob_ws = app.ws(&bob).await;

    // Alice starts the conversation: Bob hears of the room.
    let room = app.open_room(&alice, &bob).await;
    let frame = bob_ws
        .next_matching(|f| matches!(f, ServerFrame::Room { .. }))
        .await;
    let ServerFrame::Room { room: bobs_view } = frame else {
        unreachable!()
    };
    assert_eq!(bobs_view.id, room.id);
    assert_eq!(bobs_view.peer.username, "alice");

    // Alice comes online: Bob hears it, and Alice sees Bob online.
    let mut alice_ws = app.ws(&alice).await;
    let online = bob_ws
        .next_matching(|f| matches!(f, ServerFrame::Presence { .. }))
        .await;
    assert_eq!(
        online,
        ServerFrame::Presence {
            user_id: UserId(alice.id),
            online: true
        }
    );
    let rooms = app.rooms(&alice).await;
    assert!(rooms[0].peer.online);

    // Typing goes to the peer only.
    alice_ws
        .send(&ClientFrame::Typing { room_id: room.id })
        .await;
    let typing = bob_ws
        .next_matching(|f| matches!(f, ServerFrame::Typing { .. }))
        .await;
    assert_eq!(
        typing,
        ServerFrame::Typing {
            room_id: room.id,
            user_id: UserId(alice.id)
        }
    );
    alice_ws
        .assert_none_before_pong(|f| matches!(f, ServerFrame::Typing { .. }))
        .await;

    // Read marks: the peer gets a read event.
    let message = app.send_ok(&alice, room.id.0, "read me").await;
    bob_ws.next_message().await;
    bob_ws
        .send(&ClientFrame::Read {
            room_id: room.id,
            seq: message.seq,
        })
        .await;
    let read = alice_ws
        .next_matching(|f| matches!(f, ServerFrame::Read { .. }))
        .await;
    assert_eq!(
        read,
        ServerFrame::Read {
            room_id: room.id,
            user_id: UserId(bob.id),
            seq: 1
        }
    );
    assert_eq!(app.rooms(&bob).await[0].unread, 0);

    // Alice's last socket closes: Bob sees her go offline.
    alice_ws.close().await;
    let offline = bob_ws
        .next_matching(|f| matches!(f, ServerFrame::Presence { online: false, .. }))
        .await;
    assert_eq!(
        offline,
        ServerFrame::Presence {
            user_id: UserId(alice.id),
            online: false
        }
    );
}

#[tokio::test]
async fn bad_frames_get_error_frames_and_the_socket_stays_usable() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let mallory = app.register("mallory").await;
    let room = app.open_room(&alice, &bob).await;
    let theirs = app.open_room(&bob, &mallory).await;
    let mut ws = app.ws(&alice).await;

    let cases: Vec<(String, ErrorCode, Option<&str>)> = vec![
        ("not json".into(), ErrorCode::BadRequest, None),
        (
            r#"{"type":"shout","text":"hi"}"#.into(),
            ErrorCode::BadRequest,
            None,
        ),
        (
            r#"{"type":"send","room_id":1}"#.into(),
            ErrorCode::BadRequest,
            None,
        ),
        (
            r#"{"type":"send","room_id":"one","body":"x","client_id":"c"}"#.into(),
            ErrorCode::BadRequest,
            None,
        ),
        (r#"[1,2,3]"#.into(), ErrorCode::BadRequest, None),
        (
            format!(
                r#"{{"type":"send","room_id":{},"body":"   ","client_id":"e1"}}"#,
                room.id
            ),
            ErrorCode::Validation,
            Some("e1"),
        ),
        (
            format!(
                r#"{{"type":"send","room_id":{},"body":"{}","client_id":"e2"}}"#,
                room.id,
                "x".repeat(4001)
            ),
            ErrorCode::Validation,
            Some("e2"),
        ),
        (
            format!(
                r#"{{"type":"send","room_id":{},"body":"x","client_id":""}}"#,
                room.id
            ),
            ErrorCode::Validation,
            Some(""),
        ),
        (
            format!(
                r#"{{"type":"send","room_id":{},"body":"intrude","client_id":"e3"}}"#,
                theirs.id
            ),
            ErrorCode::NotFound,
            Some("e3"),
        ),
        (
            r#"{"type":"send","room_id":999999,"body":"x","client_id":"e4"}"#.into(),
            ErrorCode::NotFound,
            Some("e4"),
        ),
        (
            format!(r#"{{"type":"read","room_id":{},"seq":1}}"#, theirs.id),
            ErrorCode::NotFound,
            None,
        ),
        (
            format!(r#"{{"type":"typing","room_id":{}}}"#, theirs.id),
            ErrorCode::NotFound,
            None,
        ),
        (
            format!(r#"{{"type":"read","room_id":{},"seq":-4}}"#, room.id),
            ErrorCode::Validation,
            None,
        ),
        (
            r#"{"type":"auth","token":"again"}"#.into(),
            ErrorCode::BadRequest,
            None,
        ),
    ];
    for (text, expected_code, expected_client_id) in cases {
        ws.send_text(&text).await;
        match ws.next_frame().await {
            ServerFrame::Error {
                code,
                client_id,
                message,
            } => {
                assert_eq!(code, expected_code, "for {text}: {message}");
                assert_eq!(client_id.as_deref(), expected_client_id, "for {text}");
            }
            other => panic!("for {text}: expected an error frame, got {other:?}"),
        }
    }
    ws.send_binary(vec![1, 2, 3]).await;
    assert!(matches!(
        ws.next_frame().await,
        ServerFrame::Error {
            code: ErrorCode::BadRequest,
            ..
        }
    ));

    ws.send(&ClientFrame::Ping).await;
    assert_eq!(ws.next_frame().await, ServerFrame::Pong, "still usable");
    assert!(app
        .messages(&bob, theirs.id.0, "")
        .await
        .messages
        .is_empty());
    assert!(app
        .messages(&alice, room.id.0, "")
        .await
        .messages
        .is_empty());
}

#[tokio::test]
async fn a_frame_over_64_kib_closes_the_socket_with_1009() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let mut ws = app.ws(&alice).await;

    let huge = format!(
        r#"{{"type":"typing","room_id":1,"pad":"{}"}}"#,
        "x".repeat(70 * 1024)
    );
    ws.send_text(&huge).await;

    assert_eq!(ws.closed().await, Closed::WithCode(1009));
}

#[tokio::test]
async fn sending_too_fast_over_the_socket_gets_rate_limited_error_frames() {
    let app = spawn_app_with(|s| {
        s.messages_per_second = 1.0;
        s.message_burst = 3;
    })
    .await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let room = app.open_room(&alice, &bob).await;
    let mut ws = app.ws(&alice).await;

    for i in 0..4 {
        ws.send(&ClientFrame::Send {
            room_id: room.id,
            body: "x".into(),
            client_id: format!("f{i}"),
            reply_to: None,
            attachments: Vec::new(),
        })
        .await;
    }
    // Sends are pipelined: the refusal may overtake the acks of the earlier ones.
    let (mut acks, mut refused) = (0, 0);
    while acks + refused < 4 {
        match ws.next_frame().await {
            ServerFrame::Ack { .. } => acks += 1,
            ServerFrame::Error {
                code, client_id, ..
            } => {
                assert_eq!(code, ErrorCode::RateLimited);
                assert_eq!(client_id.as_deref(), Some("f3"));
                refused += 1;
            }
            _ => {}
        }
    }
    assert_eq!(acks, 3);
    ws.send(&ClientFrame::Ping).await;
    assert_eq!(
        ws.next_matching(|f| matches!(f, ServerFrame::Pong)).await,
        ServerFrame::Pong
    );
}

#[tokio::test]
async fn a_client_that_stops_reading_is_disconnected_and_loses_nothing() {
    let app = spawn_app_with(|s| {
        s.ws_queue = 4;
        s.messages_per_second = 100_000.0;
        s.message_burst = 100_000;
    })
    .await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let room = app.open_room(&alice, &bob).await;
    let mut stalled = app.ws(&bob).await;
    let big = "z".repeat(4000);

    // Bob never reads; once his buffers are full and he has taken nothing for the send
    // timeout (or his 4-frame queue overflowed), the server lets his socket go.
    let mut sent = 0;
    let mut cut_off = false;
    for i in 0..3000 {
        app.send(&alice, room.id.0, &big, &format!("flood-{i}"))
            .await;
        sent += 1;
        if i % 50 == 49 && app.metric("chat_ws_connections").await == 0.0 {
            cut_off = true;
            break;
        }
    }
    assert!(cut_off, "not cut off after {sent} messages");
    // Reading again, Bob gets what the kernel held, then the end: the 1008 close frame when
    // it could still be written, else the reset of a connection the server had to drop (a
    // peer that reads nothing cannot be handed a close frame; slow_reader.rs tests that).
    let ended = stalled.closed().await;
    assert!(
        matches!(ended, Closed::WithCode(1008) | Closed::WithoutCode),
        "{ended:?}"
    );
    // Nothing was lost: the messages are all stored for the catch-up.
    let stored = app.messages(&bob, room.id.0, "?limit=1").await;
    assert_eq!(stored.messages[0].seq, sent);
}

#[tokio::test]
async fn a_client_that_reconnects_while_the_peer_keeps_sending_sees_every_message_once_in_order() {
    let app = spawn_app_with(|s| s.message_burst = 1000).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let room = app.open_room(&alice, &bob).await;
    let total = 60;

    let sender = {
        let client = app.client.clone();
        let url = app.url(&format!("/api/rooms/{}/messages", room.id));
        let token = alice.token.clone();
        tokio::spawn(async move {
            for i in 1..=total {
                let response = client
                    .post(&url)
                    .bearer_auth(&token)
                    .json(
                        &serde_json::json!({"body": format!("m{i}"), "client_id": format!("m{i}")}),
                    )
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), 201);
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
    };

    let mut seen: Vec<shared::Message> = Vec::new();
    let merge = |seen: &mut Vec<shared::Message>, message: shared::Message| {
        if !seen.iter().any(|m| m.seq == message.seq) {
            seen.push(message);
            seen.sort_by_key(|m| m.seq);
        }
    };
    for round in 0..3 {
        let mut ws = app.ws(&bob).await;
        // The catch-up of api.md: after `ready`, fetch everything after the last seq held.
        let last = seen.last().map_or(0, |m| m.seq);
        let mut after = last;
        loop {
            let page = app
                .messages(&bob, room.id.0, &format!("?after={after}&limit=200"))
                .await;
            for m in page.messages {
                after = m.seq;
                merge(&mut seen, m);
            }
            if !page.has_more {
                break;
            }
        }
        // Then live for a while, and drop the socket mid-stream.
        let live = if round < 2 { 8 } else { usize::MAX };
        let mut received = 0;
        let mut last_live_seq = 0;
        while received < live && seen.len() < total {
            let message = ws.next_message().await;
            assert_eq!(message.room_id, RoomId(room.id.0));
            // Each socket gets the room's messages in seq order, never one twice.
            assert!(
                message.seq > last_live_seq,
                "seq {} after {last_live_seq}",
                message.seq
            );
            last_live_seq = message.seq;
            merge(&mut seen, message);
            received += 1;
        }
        ws.close().await;
        if seen.len() == total {
            break;
        }
    }
    sender.await.unwrap();

    let seqs: Vec<i64> = seen.iter().map(|m| m.seq).collect();
    assert_eq!(seqs, (1..=total as i64).collect::<Vec<_>>());
    let bodies: Vec<String> = seen.iter().map(|m| m.body.clone()).collect();
    assert_eq!(
        bodies,
        (1..=total).map(|i| format!("m{i}")).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn the_server_pings_and_closes_a_socket_that_stays_silent_past_the_idle_timeout() {
    let app = spawn_app_with(|s| {
        s.ws_heartbeat_secs = 1;
        s.ws_idle_timeout_secs = 2;
    })
    .await;
    let alice = app.register("alice").await;
    let mut answering = app.ws(&alice).await;
    let mut silent = app.ws(&alice).await;

    // Reading answers the server's pings (tungstenite pongs by itself); not reading does not.
    answering
        .assert_none_within(Duration::from_millis(4500), |_| false)
        .await;

    assert_eq!(silent.closed().await, Closed::WithCode(1001));
    answering.send(&ClientFrame::Ping).await;
    assert_eq!(
        answering.next_matching(|f| *f == ServerFrame::Pong).await,
        ServerFrame::Pong
    );
}

#[tokio::test]
async fn with_several_writer_lanes_acks_keep_send_order_and_each_room_its_seq_order() {
    // Three lanes: the three rooms below are stored by different threads.
    let app = spawn_app_with(|s| {
        s.writers = 3;
        s.message_burst = 1000;
    })
    .await;
    let alice = app.register("alice").await;
    let mut peers = Vec::new();
    let mut rooms = Vec::new();
    for name in ["bob", "carol", "dave"] {
        let peer = app.register(name).await;
        rooms.push(app.open_room(&alice, &peer).await);
        peers.push(peer);
    }
    let mut ws = app.ws(&alice).await;
    let mut bob_ws = app.ws(&peers[0]).await;

    let sends = 60;
    for i in 0..sends {
        ws.send(&ClientFrame::Send {
            room_id: rooms[i % 3].id,
            body: format!("m{i}"),
            client_id: format!("c{i}"),
            reply_to: None,
            attachments: Vec::new(),
        })
        .await;
    }

    let mut acked = Vec::new();
    while acked.len() < sends {
        if let ServerFrame::Ack { client_id, message } = ws
            .next_matching(|f| matches!(f, ServerFrame::Ack { .. }))
            .await
        {
            acked.push((client_id, message.room_id, message.seq));
        }
    }
    let expected_ids: Vec<String> = (0..sends).map(|i| format!("c{i}")).collect();
    let ids: Vec<String> = acked.iter().map(|(id, _, _)| id.clone()).collect();
    assert_eq!(ids, expected_ids, "acks in the order of the sends");
    for (n, room) in rooms.iter().enumerate() {
        let seqs: Vec<i64> = acked
            .iter()
            .filter(|(_, r, _)| *r == room.id)
            .map(|(_, _, seq)| *seq)
            .collect();
        assert_eq!(seqs, (1..=20).collect::<Vec<i64>>(), "room {n}");
    }
    let mut delivered = Vec::new();
    while delivered.len() < 20 {
        delivered.push(bob_ws.next_message().await.seq);
    }
    assert_eq!(delivered, (1..=20).collect::<Vec<i64>>());
}
