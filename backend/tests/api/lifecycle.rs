//! Message lifecycle (api.md 1.1): edit, delete, reply, react; the room-wide `rev`; catch-up
//! with `changed_after`; who may do what; deleted text that never comes back.

use crate::helpers::*;
use reqwest::Method;
use serde_json::json;
use shared::{
    ClientFrame, DeletedBy, ErrorCode, Message, MessagesResponse, RevisionsResponse, RoomId,
    ServerFrame, UserId,
};
use std::collections::HashMap;

fn message_path(room: i64, seq: i64) -> String {
    format!("/api/rooms/{room}/messages/{seq}")
}

fn reaction_path(room: i64, seq: i64, emoji: &str) -> String {
    let encoded: String = emoji
        .bytes()
        .map(|b| format!("%{b:02X}"))
        .collect::<Vec<_>>()
        .concat();
    format!("{}/reactions/{encoded}", message_path(room, seq))
}

async fn edit(app: &TestApp, who: &TestUser, room: i64, seq: i64, body: &str) -> reqwest::Response {
    app.call(
        Method::PATCH,
        &message_path(room, seq),
        &who.token,
        Some(&json!({ "body": body })),
    )
    .await
}

async fn react(
    app: &TestApp,
    who: &TestUser,
    room: i64,
    seq: i64,
    emoji: &str,
) -> reqwest::Response {
    app.call(
        Method::PUT,
        &reaction_path(room, seq, emoji),
        &who.token,
        None,
    )
    .await
}

async fn unreact(
    app: &TestApp,
    who: &TestUser,
    room: i64,
    seq: i64,
    emoji: &str,
) -> reqwest::Response {
    app.call(
        Method::DELETE,
        &reaction_path(room, seq, emoji),
        &who.token,
        None,
    )
    .await
}

async fn fetch_message(app: &TestApp, who: &TestUser, room: i64, seq: i64) -> Message {
    let response = app.get(&message_path(room, seq), &who.token).await;
    assert_eq!(response.status(), 200);
    json(response).await
}

#[tokio::test]
async fn the_sender_edits_and_every_reply_quotes_the_current_text() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let room = app.open_room(&alice, &bob).await.id.0;
    let first = app.send_ok(&alice, room, "the first text").await;
    assert_eq!(
        (first.rev, first.edited_at, first.reply_to.clone()),
        (1, None, None)
    );

    let reply: Message = json(
        app.post(
            &format!("/api/rooms/{room}/messages"),
            &bob.token,
            &json!({"body": "an answer", "client_id": "r1", "reply_to": first.seq}),
        )
        .await,
    )
    .await;
    let quoted = reply
        .reply_to
        .clone()
        .expect("a reply says what it answers");
    assert_eq!(
        (
            quoted.seq,
            quoted.sender_id,
            quoted.excerpt.as_str(),
            quoted.deleted
        ),
        (first.seq, UserId(alice.id), "the first text", false)
    );
    let unknown = app
        .post(
            &format!("/api/rooms/{room}/messages"),
            &bob.token,
            &json!({"body": "to nothing", "client_id": "r2", "reply_to": 99}),
        )
        .await;
    assert_error(unknown, 422, "validation").await;

    assert_error(
        edit(&app, &bob, room, first.seq, "not mine").await,
        403,
        "forbidden",
    )
    .await;
    assert_error(
        edit(&app, &carol, room, first.seq, "intruder").await,
        404,
        "not_found",
    )
    .await;
    assert_error(
        edit(&app, &alice, room, first.seq, "   ").await,
        422,
        "validation",
    )
    .await;
    assert_error(
        edit(&app, &alice, room, 99, "nothing there").await,
        404,
        "not_found",
    )
    .await;

    let edited: Message = json(edit(&app, &alice, room, first.seq, "the better text").await).await;
    assert_eq!(edited.body, "the better text");
    assert!(edited.edited_at.is_some());
    assert_eq!(edited.rev, 3, "creation 1, the reply 2, the edit 3");
    let again: Message = json(edit(&app, &alice, room, first.seq, "the better text").await).await;
    assert_eq!(again, edited, "the same text again changes nothing");

    let reply_now = fetch_message(&app, &alice, room, reply.seq).await;
    let quoted = reply_now.reply_to.expect("still a reply");
    assert_eq!(
        quoted.excerpt, "the better text",
        "the excerpt follows the edit"
    );
    assert_eq!(
        reply_now.rev, 4,
        "the reply's view changed too: it took a rev"
    );

    assert_error(
        app.get(&message_path(room, first.seq), &carol.token).await,
        404,
        "not_found",
    )
    .await;
    assert_error(
        app.get(&message_path(room, 99), &alice.token).await,
        404,
        "not_found",
    )
    .await;
    let long = "x".repeat(150);
    let long_one = app.send_ok(&alice, room, &long).await;
    let long_reply: Message = json(
        app.post(
            &format!("/api/rooms/{room}/messages"),
            &bob.token,
            &json!({"body": "re", "client_id": "r3", "reply_to": long_one.seq}),
        )
        .await,
    )
    .await;
    assert_eq!(long_reply.reply_to.unwrap().excerpt.chars().count(), 100);
}

#[tokio::test]
async fn reactions_are_one_emoji_each_in_first_used_order_and_at_most_twenty() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let room = app.open_room(&alice, &bob).await.id.0;
    let m = app.send_ok(&alice, room, "react to me").await;

    let thumbs: Message = json(react(&app, &bob, room, m.seq, "👍").await).await;
    assert_eq!(thumbs.reactions.len(), 1);
    assert_eq!(
        (
            thumbs.reactions[0].count,
            thumbs.reactions[0].user_ids.clone()
        ),
        (1, vec![UserId(bob.id)])
    );
    let again: Message = json(react(&app, &bob, room, m.seq, "👍").await).await;
    assert_eq!(again.rev, thumbs.rev, "already there: nothing changes");
    let heart: Message = json(react(&app, &alice, room, m.seq, "❤️").await).await;
    let both: Message = json(react(&app, &alice, room, m.seq, "👍").await).await;
    assert!(both.rev > heart.rev && heart.rev > thumbs.rev);
    let order: Vec<(&str, i64)> = both
        .reactions
        .iter()
        .map(|r| (r.emoji.as_str(), r.count))
        .collect();
    assert_eq!(order, [("👍", 2), ("❤️", 1)], "in the order first used");
    assert_eq!(
        both.reactions[0].user_ids,
        [UserId(bob.id), UserId(alice.id)]
    );
    for toned in ["👍🏽", "👩‍👩‍👧", "🇫🇷"] {
        assert_eq!(
            react(&app, &bob, room, m.seq, toned).await.status(),
            200,
            "{toned}"
        );
    }

    for bad in ["👍👍", "a", "thumbs", "👍 ", ""] {
        let response = app
            .call(
                Method::PUT,
                &format!(
                    "{}/reactions/{}",
                    message_path(room, m.seq),
                    bad.replace(' ', "%20")
                ),
                &bob.token,
                None,
            )
            .await;
        assert!(
            [404, 422].contains(&response.status().as_u16()),
            "{bad:?}: {}",
            response.status()
        );
        if !bad.is_empty() {
            assert_error(response, 422, "validation").await;
        }
    }
    assert_error(
        react(&app, &carol, room, m.seq, "👍").await,
        404,
        "not_found",
    )
    .await;

    let removed: Message = json(unreact(&app, &bob, room, m.seq, "👍").await).await;
    assert_eq!(removed.reactions[0].user_ids, [UserId(alice.id)]);
    let absent: Message = json(unreact(&app, &bob, room, m.seq, "👍").await).await;
    assert_eq!(
        absent.rev, removed.rev,
        "removing what is not there changes nothing"
    );

    // 5 distinct so far (👍 ❤️ 👍🏽 👩‍👩‍👧 🇫🇷): 15 more fill it to 20, the 21st is refused.
    let more = [
        "😀", "😂", "😍", "🎉", "🔥", "👀", "🙏", "💯", "✅", "🚀", "🤔", "😢", "😡", "🥳", "👏",
    ];
    for emoji in more {
        assert_eq!(
            react(&app, &alice, room, m.seq, emoji).await.status(),
            200,
            "{emoji}"
        );
    }
    assert_error(
        react(&app, &alice, room, m.seq, "🍕").await,
        422,
        "validation",
    )
    .await;
    assert_eq!(
        react(&app, &bob, room, m.seq, "🚀").await.status(),
        200,
        "an emoji already there can still be added by the other person"
    );
}

#[tokio::test]
async fn deleted_text_never_comes_back_but_admins_read_the_senders_earlier_versions() {
    let app = spawn_app().await;
    let root = app.admin("root").await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let room = app.open_room(&alice, &bob).await.id.0;
    let m = app.send_ok(&alice, room, "first secret words").await;
    edit(&app, &alice, room, m.seq, "second secret words").await;
    react(&app, &bob, room, m.seq, "👍").await;
    let reply: Message = json(
        app.post(
            &format!("/api/rooms/{room}/messages"),
            &bob.token,
            &json!({"body": "what?", "client_id": "q1", "reply_to": m.seq}),
        )
        .await,
    )
    .await;

    assert_error(
        app.delete(&message_path(room, m.seq), &bob.token).await,
        403,
        "forbidden",
    )
    .await;
    let deleted = app.delete(&message_path(room, m.seq), &alice.token).await;
    assert_eq!(deleted.status(), 204);
    let gone = fetch_message(&app, &bob, room, m.seq).await;
    assert!(gone.deleted);
    assert_eq!(gone.deleted_by, Some(DeletedBy::Sender));
    assert!(gone.reactions.is_empty());
    assert_eq!(
        (gone.id, gone.seq, gone.sender_id),
        (m.id, m.seq, m.sender_id)
    );
    let again = app.delete(&message_path(room, m.seq), &alice.token).await;
    assert_eq!(again.status(), 204);
    assert_eq!(
        fetch_message(&app, &bob, room, m.seq).await.rev,
        gone.rev,
        "deleting twice changes nothing"
    );
    assert_error(
        edit(&app, &alice, room, m.seq, "back from the dead").await,
        409,
        "conflict",
    )
    .await;
    assert_error(react(&app, &bob, room, m.seq, "👍").await, 409, "conflict").await;

    let quoted = fetch_message(&app, &alice, room, reply.seq)
        .await
        .reply_to
        .unwrap();
    assert_eq!((quoted.excerpt.as_str(), quoted.deleted), ("", true));

    // Nowhere a member looks holds the text any more.
    for who in [&alice, &bob] {
        for path in [
            format!("/api/rooms/{room}/messages"),
            format!("/api/rooms/{room}/messages?changed_after=0"),
            format!("/api/rooms/{room}/messages?around={}", m.seq),
            message_path(room, m.seq),
            message_path(room, reply.seq),
            "/api/rooms".to_owned(),
            format!("/api/rooms/{room}"),
        ] {
            let text = app.get(&path, &who.token).await.text().await.unwrap();
            assert!(
                !text.contains("secret"),
                "{path} shows deleted text: {text}"
            );
        }
    }

    // The sender's deletion keeps the texts for administrators, oldest first.
    let path = format!("/api/admin/messages/{}/revisions", m.id.0);
    assert_error(app.get(&path, &alice.token).await, 403, "forbidden").await;
    let kept: RevisionsResponse = json(app.get(&path, &root.token).await).await;
    let bodies: Vec<&str> = kept.revisions.iter().map(|r| r.body.as_str()).collect();
    assert_eq!(bodies, ["first secret words", "second secret words"]);
    let current = app.send_ok(&bob, room, "plain").await;
    let edited_once = edit(&app, &bob, room, current.seq, "plainer").await;
    assert_eq!(edited_once.status(), 200);
    let revisions: RevisionsResponse = json(
        app.get(
            &format!("/api/admin/messages/{}/revisions", current.id.0),
            &root.token,
        )
        .await,
    )
    .await;
    let bodies: Vec<&str> = revisions
        .revisions
        .iter()
        .map(|r| r.body.as_str())
        .collect();
    assert_eq!(bodies, ["plain", "plainer"], "the current text last");

    // An administrator's deletion leaves nothing, not even for administrators.
    let removed = app
        .delete(&format!("/api/admin/messages/{}", m.id.0), &root.token)
        .await;
    assert_eq!(removed.status(), 204);
    let erased: RevisionsResponse = json(app.get(&path, &root.token).await).await;
    assert!(erased.revisions.is_empty());
    assert_eq!(
        fetch_message(&app, &bob, room, m.seq).await.deleted_by,
        Some(DeletedBy::Admin)
    );
    let admin_view = app
        .get(&format!("/api/admin/rooms/{room}/messages"), &root.token)
        .await
        .text()
        .await
        .unwrap();
    assert!(!admin_view.contains("secret"), "{admin_view}");
    assert_error(
        app.get("/api/admin/messages/999999/revisions", &root.token)
            .await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn around_pages_centre_a_message_and_changed_after_lists_changes_by_rev() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let room = app.open_room(&alice, &bob).await.id.0;
    for i in 1..=30 {
        app.send_ok(&alice, room, &format!("m{i}")).await;
    }
    let page = app.messages(&alice, room, "?around=15&limit=5").await;
    let seqs: Vec<i64> = page.messages.iter().map(|m| m.seq).collect();
    assert_eq!(seqs, [13, 14, 15, 16, 17]);
    assert_eq!(
        (page.has_more_before, page.has_more_after),
        (Some(true), Some(true))
    );
    let start = app.messages(&alice, room, "?around=1&limit=5").await;
    let seqs: Vec<i64> = start.messages.iter().map(|m| m.seq).collect();
    assert_eq!(seqs, [1, 2, 3, 4, 5]);
    assert_eq!(
        (start.has_more_before, start.has_more_after),
        (Some(false), Some(true))
    );
    assert_error(
        app.get(
            &format!("/api/rooms/{room}/messages?around=99"),
            &alice.token,
        )
        .await,
        404,
        "not_found",
    )
    .await;
    for mixed in [
        "?around=3&before=9",
        "?changed_after=1&after=2",
        "?around=2&changed_after=1",
        "?changed_after=-1",
    ] {
        assert_error(
            app.get(&format!("/api/rooms/{room}/messages{mixed}"), &alice.token)
                .await,
            400,
            "bad_request",
        )
        .await;
    }

    let all = app.messages(&bob, room, "?changed_after=0&limit=200").await;
    let revs: Vec<i64> = all.messages.iter().map(|m| m.rev).collect();
    assert_eq!(revs, (1..=30).collect::<Vec<_>>());
    assert!(!all.has_more);
    react(&app, &bob, room, 3, "🎉").await;
    edit(&app, &alice, room, 20, "m20, edited").await;
    let changed = app.messages(&bob, room, "?changed_after=30").await;
    let seen: Vec<(i64, i64)> = changed.messages.iter().map(|m| (m.seq, m.rev)).collect();
    assert_eq!(seen, [(3, 31), (20, 32)], "ascending by rev");
    let rooms = app.rooms(&bob).await;
    assert_eq!(rooms[0].last_rev, 32);
    let paged = app.messages(&bob, room, "?changed_after=0&limit=10").await;
    assert!(paged.has_more);
    assert_eq!(
        paged.messages.last().map(|m| m.rev),
        Some(11),
        "seq 3 moved to rev 31"
    );
}

#[tokio::test]
async fn every_change_reaches_every_socket_of_both_members_live() {
    let app = spawn_app().await;
    every_change_reaches_every_socket(&app, &app).await;
}

#[tokio::test]
async fn every_change_reaches_every_socket_across_instances() {
    let Some((one, two)) = spawn_pair_with_redis().await else {
        return;
    };
    every_change_reaches_every_socket(&one, &two).await;
}

/// Alice has two tabs on `one`, Bob one on `two`: each change reaches all three.
async fn every_change_reaches_every_socket(one: &TestApp, two: &TestApp) {
    let alice = one.register("alice").await;
    let bob = two.register("bob").await;
    let room = one.open_room(&alice, &bob).await.id;
    let mut alice_tabs = [one.ws(&alice).await, one.ws(&alice).await];
    let mut bob_ws = two.ws(&bob).await;

    alice_tabs[0]
        .send(&ClientFrame::Send {
            room_id: room,
            body: "live original".into(),
            client_id: "o1".into(),
            reply_to: None,
            attachments: Vec::new(),
        })
        .await;
    let original = bob_ws.next_message().await;
    bob_ws
        .send(&ClientFrame::Send {
            room_id: room,
            body: "live reply".into(),
            client_id: "o2".into(),
            reply_to: Some(original.seq),
            attachments: Vec::new(),
        })
        .await;
    let ack = bob_ws
        .next_matching(|f| matches!(f, ServerFrame::Ack { .. }))
        .await;
    let ServerFrame::Ack { message: reply, .. } = ack else {
        unreachable!()
    };
    assert_eq!(reply.reply_to.as_ref().map(|r| r.seq), Some(original.seq));
    bob_ws
        .send(&ClientFrame::Send {
            room_id: room,
            body: "to nowhere".into(),
            client_id: "o3".into(),
            reply_to: Some(77),
            attachments: Vec::new(),
        })
        .await;
    let refused = bob_ws
        .next_matching(|f| matches!(f, ServerFrame::Error { .. }))
        .await;
    assert!(matches!(
        refused,
        ServerFrame::Error { code: ErrorCode::Validation, client_id: Some(ref c), .. } if c == "o3"
    ));
    for tab in &mut alice_tabs {
        assert_eq!(tab.next_message().await.seq, original.seq);
        assert_eq!(tab.next_message().await.seq, reply.seq);
    }

    let r = room.0;
    edit(one, &alice, r, original.seq, "live original, edited").await;
    two.call(
        Method::PUT,
        &reaction_path(r, original.seq, "👍"),
        &bob.token,
        None,
    )
    .await;
    one.delete(&message_path(r, original.seq), &alice.token)
        .await;

    let mut sockets: Vec<&mut WsClient> = alice_tabs.iter_mut().collect();
    sockets.push(&mut bob_ws);
    for ws in sockets {
        let mut held: HashMap<i64, Message> = HashMap::new();
        // The edit (with the reply's new excerpt), the reaction, the deletion (and the reply again).
        while held.get(&original.seq).is_none_or(|m| !m.deleted)
            || held
                .get(&reply.seq)
                .is_none_or(|m| !m.reply_to.as_ref().is_some_and(|q| q.deleted))
        {
            let update = ws.next_update().await;
            let keep = held.get(&update.seq).is_none_or(|h| h.rev < update.rev);
            if keep {
                held.insert(update.seq, update);
            }
        }
        let final_original = &held[&original.seq];
        assert_eq!(final_original.deleted_by, Some(DeletedBy::Sender));
        assert!(final_original.reactions.is_empty());
        assert_eq!(
            &fetch_message(two, &bob, r, original.seq).await,
            final_original
        );
        assert_eq!(
            &fetch_message(two, &bob, r, reply.seq).await,
            &held[&reply.seq]
        );
    }
}

#[tokio::test]
async fn concurrent_changes_on_one_message_number_without_gaps_on_one_instance() {
    let app = spawn_app().await;
    concurrent_changes_number_without_gaps(&app, &app).await;
}

#[tokio::test]
async fn concurrent_changes_on_one_message_number_without_gaps_across_instances() {
    let Some((one, two)) = spawn_pair_with_redis().await else {
        return;
    };
    concurrent_changes_number_without_gaps(&one, &two).await;
}

/// 200 changes at once on one message, Alice's edits through `one` and Bob's reactions through
/// `two`: their revs are exactly the next 200, every socket ends holding the message as
/// stored, and a client that was away catches up with `changed_after` to the same state.
async fn concurrent_changes_number_without_gaps(one: &TestApp, two: &TestApp) {
    const TASKS: usize = 4;
    const PER_TASK: usize = 25;
    let alice = one.register("alice").await;
    let bob = two.register("bob").await;
    let room = one.open_room(&alice, &bob).await.id.0;
    let target = one.send_ok(&alice, room, "busy message").await;
    let away_from = one.rooms(&alice).await[0].last_rev;
    let mut alice_ws = one.ws(&alice).await;
    let mut bob_ws = two.ws(&bob).await;

    let emoji: [&str; TASKS] = ["👍", "❤️", "😂", "🎉"];
    let mut tasks = Vec::new();
    for (t, emoji) in emoji.into_iter().enumerate() {
        let (alice, bob) = (alice.clone(), bob.clone());
        let (alice_api, bob_api) = (one.api.clone(), two.api.clone());
        let seq = target.seq;
        tasks.push(tokio::spawn(async move {
            let mut revs = Vec::new();
            for i in 0..PER_TASK {
                let edited = alice_api
                    .edit(&alice.token, RoomId(room), seq, &format!("edit {t}-{i}"))
                    .await
                    .unwrap_or_else(|e| panic!("{e}"));
                revs.push(edited.rev);
            }
            revs
        }));
        tasks.push(tokio::spawn(async move {
            let mut revs = Vec::new();
            for i in 0..PER_TASK {
                // Each task toggles its own emoji: every call changes something.
                let reacted = bob_api
                    .react(&bob.token, RoomId(room), seq, emoji, i % 2 == 0)
                    .await
                    .unwrap_or_else(|e| panic!("{e}"));
                revs.push(reacted.rev);
            }
            revs
        }));
    }
    let mut revs = Vec::new();
    for task in tasks {
        revs.extend(task.await.unwrap());
    }
    revs.sort_unstable();
    let expected: Vec<i64> = (away_from + 1..=away_from + (2 * TASKS * PER_TASK) as i64).collect();
    assert_eq!(revs, expected, "one rev per change, no gap, no duplicate");

    let stored = fetch_message(one, &alice, room, target.seq).await;
    assert_eq!(stored.rev, *expected.last().unwrap());
    assert!(
        stored
            .reactions
            .iter()
            .all(|r| r.user_ids == [UserId(bob.id)]),
        "each emoji toggled an odd number of times: on once, by Bob"
    );
    for ws in [&mut alice_ws, &mut bob_ws] {
        let mut newest: Option<Message> = None;
        while newest.as_ref().is_none_or(|m| m.rev < stored.rev) {
            let update = ws.next_update().await;
            if newest.as_ref().is_none_or(|m| m.rev < update.rev) {
                newest = Some(update);
            }
        }
        assert_eq!(
            newest.as_ref(),
            Some(&stored),
            "the socket ends with the stored message"
        );
    }

    let caught_up = two
        .api
        .changed_after(&bob.token, RoomId(room), away_from, 10)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        caught_up,
        vec![stored],
        "the away client ends in the same state"
    );
}

#[tokio::test]
async fn a_client_away_during_many_changes_catches_up_to_the_same_state() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let room = app.open_room(&alice, &bob).await.id.0;
    for i in 0..10 {
        app.send_ok(&alice, room, &format!("before {i}")).await;
    }
    let page: MessagesResponse = app.messages(&bob, room, "").await;
    let mut away: HashMap<i64, Message> = page.messages.into_iter().map(|m| (m.seq, m)).collect();
    let away_rev = app.rooms(&bob).await[0].last_rev;
    let mut online = away.clone();
    let mut bob_ws = app.ws(&bob).await;

    // 100 changes of every kind while Bob's other client is away.
    for i in 0..100i64 {
        let seq = i % 10 + 1;
        let response = match i % 5 {
            0 => edit(&app, &alice, room, seq, &format!("edit {i}")).await,
            1 => react(&app, &bob, room, seq, "👀").await,
            2 => react(&app, &alice, room, seq, "👀").await,
            3 => unreact(&app, &bob, room, seq, "👀").await,
            _ => {
                app.send(&alice, room, &format!("new {i}"), &format!("n{i}"))
                    .await
            }
        };
        assert!(response.status().is_success(), "{i}: {}", response.status());
    }
    app.delete(&message_path(room, 4), &alice.token).await;
    let last_rev = app.rooms(&bob).await[0].last_rev;

    let mut newest_seen = away_rev;
    while newest_seen < last_rev {
        let (message, _) = match bob_ws.next_frame().await {
            ServerFrame::Message { message } => (message, true),
            ServerFrame::MessageUpdate { message } => (message, false),
            _ => continue,
        };
        newest_seen = newest_seen.max(message.rev);
        let keep = online.get(&message.seq).is_none_or(|h| h.rev < message.rev);
        if keep {
            online.insert(message.seq, message);
        }
    }
    for message in app
        .api
        .changed_after(&bob.token, RoomId(room), away_rev, 10)
        .await
        .unwrap()
    {
        let keep = away.get(&message.seq).is_none_or(|h| h.rev < message.rev);
        if keep {
            away.insert(message.seq, message);
        }
    }
    assert_eq!(away.len(), 30);
    assert_eq!(away, online, "caught up by rev = stayed online");
    let stored: MessagesResponse = app.messages(&bob, room, "?limit=200").await;
    let stored: HashMap<i64, Message> = stored.messages.into_iter().map(|m| (m.seq, m)).collect();
    assert_eq!(away, stored);
}

#[tokio::test]
async fn cookie_authenticated_edits_from_a_foreign_origin_are_refused() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let room = app.open_room(&alice, &bob).await.id.0;
    let m = app.send_ok(&alice, room, "keep me").await;
    let response = app
        .client
        .patch(app.url(&message_path(room, m.seq)))
        .header("cookie", format!("session={}", alice.token))
        .header("origin", "https://evil.example")
        .json(&json!({"body": "changed"}))
        .send()
        .await
        .unwrap();
    assert_error(response, 403, "forbidden").await;
    assert_eq!(
        fetch_message(&app, &alice, room, m.seq).await.body,
        "keep me"
    );
}
