//! One scenario, two topologies: one instance, and two instances on one database joined by
//! Redis, where the two people's sockets are on different instances.

use crate::helpers::*;
use shared::{ClientFrame, ServerFrame, UserId};

#[tokio::test]
async fn users_on_different_instances_get_each_others_events_live() {
    let Some((one, two)) = spawn_pair_with_redis().await else {
        return;
    };
    two_people_chat_live(&one, &two).await;
}

#[tokio::test]
async fn users_on_one_instance_get_each_others_events_live() {
    let app = spawn_app().await;
    two_people_chat_live(&app, &app).await;
}

/// The scenario of both topologies: Alice on `one`, Bob on `two` (the same app, or two apps
/// joined by Redis) open a room, see each other come online, chat, type, read, and Bob's
/// logout on `one` closes his socket on `two`.
async fn two_people_chat_live(one: &TestApp, two: &TestApp) {
    let alice = one.register("alice").await;
    let bob = two.register("bob").await;
    let mut bob_ws = two.ws(&bob).await;

    // A room started on instance one reaches Bob on instance two.
    let room = one.open_room(&alice, &bob).await;
    let frame = bob_ws
        .next_matching(|f| matches!(f, ServerFrame::Room { .. }))
        .await;
    assert!(matches!(frame, ServerFrame::Room { room: r } if r.id == room.id));

    let mut alice_ws = one.ws(&alice).await;
    let presence = bob_ws
        .next_matching(|f| matches!(f, ServerFrame::Presence { .. }))
        .await;
    assert_eq!(
        presence,
        ServerFrame::Presence {
            user_id: UserId(alice.id),
            online: true
        }
    );
    assert!(
        one.rooms(&alice).await[0].peer.online,
        "Bob is online on the other instance"
    );

    alice_ws
        .send(&ClientFrame::Send {
            room_id: room.id,
            body: "hi across".into(),
            client_id: "x1".into(),
            reply_to: None,
            attachments: Vec::new(),
        })
        .await;
    let message = bob_ws.next_message().await;
    assert_eq!((message.seq, message.body.as_str()), (1, "hi across"));
    assert_eq!(
        alice_ws.next_message().await,
        message,
        "the sender's own socket too"
    );

    bob_ws
        .send(&ClientFrame::Send {
            room_id: room.id,
            body: "hello back".into(),
            client_id: "y1".into(),
            reply_to: None,
            attachments: Vec::new(),
        })
        .await;
    assert_eq!(alice_ws.next_message().await.body, "hello back");

    bob_ws.send(&ClientFrame::Typing { room_id: room.id }).await;
    let typing = alice_ws
        .next_matching(|f| matches!(f, ServerFrame::Typing { .. }))
        .await;
    assert_eq!(
        typing,
        ServerFrame::Typing {
            room_id: room.id,
            user_id: UserId(bob.id)
        }
    );

    bob_ws
        .send(&ClientFrame::Read {
            room_id: room.id,
            seq: 2,
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
            seq: 2
        }
    );

    // Logout on instance one closes Bob's socket on instance two.
    let logout = two
        .client
        .post(one.url("/api/auth/logout"))
        .bearer_auth(&bob.token)
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), 204);
    assert_eq!(bob_ws.closed().await, Closed::WithCode(1008));
    let offline = alice_ws
        .next_matching(|f| matches!(f, ServerFrame::Presence { online: false, .. }))
        .await;
    assert_eq!(
        offline,
        ServerFrame::Presence {
            user_id: UserId(bob.id),
            online: false
        }
    );
}
