//! Message lifecycle in the production topology: edits and reactions made at once through
//! nginx and directly on both instances number without gap, reach the sockets on both
//! instances, and a client that was away catches up to the same state.

use crate::client::{Api, WsClient};
use crate::harness::{Options, Topology};
use shared::{Message, RoomId, ServerFrame};
use std::collections::HashMap;
use std::time::Duration;
use tokio::time::Instant;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_through_nginx_and_both_instances_agree_on_every_socket() {
    let Some(topology) = Topology::start("lifecycle_changes", Options::default()).await else {
        return;
    };
    let edge = Api::new(&topology.nginx.url());
    let one = Api::new(&topology.instance(1).url());
    let two = Api::new(&topology.instance(2).url());
    let ann = one.register("ann").await;
    let bob = two.register("bob").await;
    let room = edge.open_room(&ann, &bob).await.id;
    let target = edge.send(&ann, room, "the busy one", "b1").await;
    let away_from = target.rev;
    let mut ann_ws = WsClient::open_ok(&topology.instance(1).ws_url(), &ann).await;
    let mut bob_ws = WsClient::open_ok(&topology.instance(2).ws_url(), &bob).await;

    // Ann edits and Bob toggles emoji, through nginx and directly on both instances.
    let mut tasks = Vec::new();
    let routes = [
        (edge.clone(), "👍"),
        (one.clone(), "🎉"),
        (edge.clone(), "😂"),
        (two.clone(), "🚀"),
    ];
    for (t, (api, emoji)) in routes.into_iter().enumerate() {
        let (ann, bob, seq) = (ann.clone(), bob.clone(), target.seq);
        let edits = api.clone();
        tasks.push(tokio::spawn(async move {
            let mut revs = Vec::new();
            for i in 0..25 {
                let body = format!("edit {t} {i}");
                let m = edits.chat().edit(&ann.token, room, seq, &body).await;
                revs.push(m.unwrap_or_else(|e| panic!("{e}")).rev);
            }
            revs
        }));
        tasks.push(tokio::spawn(async move {
            let mut revs = Vec::new();
            // Each task toggles its own emoji: every call changes something.
            for i in 0..25 {
                let m = api
                    .chat()
                    .react(&bob.token, room, seq, emoji, i % 2 == 0)
                    .await;
                revs.push(m.unwrap_or_else(|e| panic!("{e}")).rev);
            }
            revs
        }));
    }
    let mut revs = Vec::new();
    for task in tasks {
        revs.extend(task.await.unwrap());
    }
    revs.sort_unstable();
    let changes = revs.len() as i64;
    assert_eq!(changes, 200);
    assert_eq!(
        revs,
        (away_from + 1..=away_from + changes).collect::<Vec<_>>(),
        "one rev per change across both instances: no gap, no duplicate"
    );

    let stored: Message = edge
        .chat()
        .messages(&bob.token, room, &format!("?around={}&limit=1", target.seq))
        .await
        .unwrap()
        .messages
        .remove(0);
    assert_eq!(stored.rev, away_from + changes);
    for (who, ws) in [("ann on 1", &mut ann_ws), ("bob on 2", &mut bob_ws)] {
        assert_eq!(
            newest_until(ws, stored.rev).await.as_ref(),
            Some(&stored),
            "{who} ends holding the stored message"
        );
    }
    let caught_up = edge
        .chat()
        .changed_after(&ann.token, RoomId(room.0), away_from, 10)
        .await
        .unwrap();
    assert_eq!(
        caught_up,
        vec![stored],
        "the away client catches up to the same state"
    );
}

/// Reads `message_update`s until one carries `rev`; the newest version seen.
async fn newest_until(ws: &mut WsClient, rev: i64) -> Option<Message> {
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut newest: HashMap<i64, Message> = HashMap::new();
    while newest.values().all(|m| m.rev < rev) {
        let left = deadline.saturating_duration_since(Instant::now());
        match ws.next_event(left).await {
            Ok(ServerFrame::MessageUpdate { message }) => {
                let keep = newest.get(&message.seq).is_none_or(|m| m.rev < message.rev);
                if keep {
                    newest.insert(message.seq, message);
                }
            }
            Ok(_) => {}
            Err(end) => panic!("waiting for rev {rev}: {end:?}"),
        }
    }
    newest.into_values().max_by_key(|m| m.rev)
}
