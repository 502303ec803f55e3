//! Search (api.md 1.1): substrings in every script, only the caller's rooms, newest first,
//! kept in step with sends, edits and deletions.

use crate::helpers::*;
use reqwest::Method;
use serde_json::json;
use shared::SearchResponse;

fn encode(text: &str) -> String {
    text.bytes().map(|b| format!("%{b:02X}")).collect()
}

async fn search(app: &TestApp, who: &TestUser, q: &str, extra: &str) -> SearchResponse {
    let response = app
        .get(&format!("/api/search?q={}{extra}", encode(q)), &who.token)
        .await;
    assert_eq!(response.status(), 200, "search {q:?}");
    json(response).await
}

async fn bodies(app: &TestApp, who: &TestUser, q: &str) -> Vec<String> {
    search(app, who, q, "")
        .await
        .results
        .into_iter()
        .map(|m| m.body)
        .collect()
}

#[tokio::test]
async fn every_script_is_found_by_substring_case_insensitively() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let room = app.open_room(&alice, &bob).await.id.0;
    let texts = [
        "Meet me at the ÉCOLE at noon",
        "대화방을 만들었어요",
        "서버가 다시 켜졌습니다",
        "我们明天去北京吧",
        "東京で会いましょう",
        "pizza 🍕 tonight?",
        "50% off_sale *today* \"quoted\"",
        "ok see you",
    ];
    for text in texts {
        app.send_ok(&alice, room, text).await;
    }
    assert_eq!(bodies(&app, &bob, "école").await, [texts[0]]);
    assert_eq!(bodies(&app, &bob, "ÉCOLE").await, [texts[0]]);
    assert_eq!(
        bodies(&app, &bob, "E\u{301}cole").await,
        [texts[0]],
        "NFC on both sides"
    );
    assert_eq!(
        bodies(&app, &bob, "대화").await,
        [texts[1]],
        "two Hangul syllables"
    );
    assert_eq!(bodies(&app, &bob, "서버").await, [texts[2]]);
    assert_eq!(
        bodies(&app, &bob, "北京").await,
        [texts[3]],
        "two Han characters"
    );
    assert_eq!(bodies(&app, &bob, "東京で").await, [texts[4]]);
    assert_eq!(bodies(&app, &bob, "a 🍕 t").await, [texts[5]]);
    assert_eq!(bodies(&app, &bob, "50%").await, [texts[6]], "% is literal");
    assert_eq!(bodies(&app, &bob, "f_s").await, [texts[6]], "_ is literal");
    assert!(
        bodies(&app, &bob, "f%s").await.is_empty(),
        "% matches only itself"
    );
    assert_eq!(
        bodies(&app, &bob, "*today*").await,
        [texts[6]],
        "* is literal"
    );
    assert_eq!(
        bodies(&app, &bob, "\"quoted\"").await,
        [texts[6]],
        "quotes are literal"
    );
    assert_eq!(
        bodies(&app, &bob, "OK").await,
        [texts[7]],
        "two Latin letters"
    );
    assert_eq!(
        bodies(&app, &bob, " noon ").await,
        [texts[0]],
        "trimmed like a body"
    );
    let long = "x".repeat(200);
    assert!(bodies(&app, &bob, &long).await.is_empty());
}

#[tokio::test]
async fn bad_queries_are_refused_and_other_peoples_rooms_never_appear() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let ours = app.open_room(&alice, &bob).await.id.0;
    let theirs = app.open_room(&bob, &carol).await.id.0;
    app.send_ok(&alice, ours, "the shared secret word").await;
    app.send_ok(&carol, theirs, "the shared secret word").await;

    for bad in ["", "x", " y ", &"z".repeat(201)] {
        let response = app
            .get(&format!("/api/search?q={}", encode(bad)), &alice.token)
            .await;
        assert_error(response, 422, "validation").await;
    }
    assert_error(
        app.get("/api/search", &alice.token).await,
        400,
        "bad_request",
    )
    .await;
    for limit in ["0", "51"] {
        let response = app
            .get(&format!("/api/search?q=word&limit={limit}"), &alice.token)
            .await;
        assert_error(response, 400, "bad_request").await;
    }
    let response = app
        .get(
            &format!("/api/search?q=word&room_id={theirs}"),
            &alice.token,
        )
        .await;
    assert_error(response, 404, "not_found").await;

    let for_alice = search(&app, &alice, "secret", "").await.results;
    assert_eq!(for_alice.len(), 1);
    assert_eq!(for_alice[0].room_id.0, ours);
    assert_eq!(search(&app, &bob, "secret", "").await.results.len(), 2);
    let in_room = search(&app, &bob, "secret", &format!("&room_id={theirs}")).await;
    assert_eq!(in_room.results.len(), 1);
    assert_eq!(in_room.results[0].room_id.0, theirs);
    let nobody = app.register("dave").await;
    assert!(search(&app, &nobody, "secret", "").await.results.is_empty());
}

#[tokio::test]
async fn edits_and_deletions_take_effect_at_once_and_paging_is_stable() {
    let app = spawn_app_with(|s| s.message_burst = 1000).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let room = app.open_room(&alice, &bob).await.id.0;
    let m = app.send_ok(&alice, room, "the old wording 대화").await;
    assert_eq!(
        bodies(&app, &bob, "old wording").await.len(),
        1,
        "findable once acked"
    );

    let edited = app
        .call(
            Method::PATCH,
            &format!("/api/rooms/{room}/messages/{}", m.seq),
            &alice.token,
            Some(&json!({"body": "the new phrasing 서버"})),
        )
        .await;
    assert_eq!(edited.status(), 200);
    assert!(bodies(&app, &bob, "old wording").await.is_empty());
    assert!(
        bodies(&app, &bob, "대화").await.is_empty(),
        "bigrams follow the edit"
    );
    assert_eq!(bodies(&app, &bob, "new phrasing").await.len(), 1);
    assert_eq!(bodies(&app, &bob, "서버").await.len(), 1);

    let deleted = app
        .delete(
            &format!("/api/rooms/{room}/messages/{}", m.seq),
            &alice.token,
        )
        .await;
    assert_eq!(deleted.status(), 204);
    for q in ["new phrasing", "서버", "deleted", "ph"] {
        assert!(
            bodies(&app, &bob, q).await.is_empty(),
            "{q} still finds a deleted message"
        );
    }

    // 25 matches, paged 10 at a time with `before`, while newer ones keep arriving: each
    // once, newest first, the newer ones never pushed into a later page.
    for q in ["haystack", "회의", "qz"] {
        let mut sent: Vec<i64> = Vec::new();
        for i in 0..25 {
            sent.push(app.send_ok(&alice, room, &format!("{q}{i}")).await.id.0);
        }
        let mut seen = Vec::new();
        let mut before = String::new();
        loop {
            let page = search(&app, &bob, q, &format!("&limit=10{before}")).await;
            app.send_ok(&bob, room, &format!("late {q}")).await;
            seen.extend(page.results.iter().map(|m| m.id.0));
            match page.results.last() {
                Some(last) if page.has_more => before = format!("&before={}", last.id.0),
                _ => break,
            }
        }
        sent.reverse();
        assert_eq!(seen, sent, "{q}");
    }
}

#[tokio::test]
async fn a_search_in_one_busy_room_finds_matches_beyond_its_newest_thousands() {
    // Arrange: an old match, then more messages than the newest window a room-filtered
    // search reads directly (2,000 on SQLite), then a new match; and a match in another room.
    let app = spawn_app_with(|s| {
        s.messages_per_second = 1_000_000.0;
        s.message_burst = 1_000_000;
        s.ws_queue = 1_000;
    })
    .await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let cat = app.register("cat").await;
    let busy = app.open_room(&ann, &bob).await.id.0;
    let other = app.open_room(&ann, &cat).await.id.0;
    let old = app.send_ok(&ann, busy, "the needle from long ago").await;
    let mut ws = app.ws(&ann).await;
    // In batches, reading the acks (and the echoes) of each: a socket that lets its queue
    // overflow is closed as a slow reader.
    for batch in 0..21 {
        for n in 0..100 {
            ws.send(&shared::ClientFrame::Send {
                room_id: shared::RoomId(busy),
                body: format!("filler {batch}-{n}"),
                client_id: format!("filler-{batch}-{n}"),
                reply_to: None,
                attachments: Vec::new(),
            })
            .await;
        }
        let mut acked = 0;
        while acked < 100 {
            if let shared::ServerFrame::Ack { .. } = ws.next_frame().await {
                acked += 1;
            }
        }
    }
    let new = app.send_ok(&ann, busy, "a fresh needle").await;
    app.send_ok(&cat, other, "a needle elsewhere").await;

    // Act and assert: both matches of the room, newest first, and nothing of the other.
    let room_filter = format!("&room_id={busy}");
    let found = search(&app, &ann, "needle", &room_filter).await;
    let ids: Vec<_> = found.results.iter().map(|m| m.id).collect();
    assert_eq!(ids, [new.id, old.id], "{:?}", found.results);
    assert!(!found.has_more);

    // Page by page across the window's edge: the same two, then nothing.
    let first = search(&app, &ann, "needle", &format!("{room_filter}&limit=1")).await;
    assert_eq!(
        first.results.iter().map(|m| m.id).collect::<Vec<_>>(),
        [new.id]
    );
    assert!(first.has_more);
    let cursor = format!("{room_filter}&limit=1&before={}", new.id.0);
    let second = search(&app, &ann, "needle", &cursor).await;
    assert_eq!(
        second.results.iter().map(|m| m.id).collect::<Vec<_>>(),
        [old.id]
    );
    assert!(!second.has_more);
    let everywhere = search(&app, &ann, "needle", "").await;
    assert_eq!(
        everywhere.results.len(),
        3,
        "without the filter, every room"
    );
}
