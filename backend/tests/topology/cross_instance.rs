//! Users whose sockets live on different instances chat live, in both directions, with
//! read, typing, presence and room events — directly on the instances and through nginx.

use crate::client::{Api, WsClient, WsEnd};
use crate::harness::{Options, Topology};
use serde_json::json;
use shared::{ClientFrame, RoomId, ServerFrame, UserId};
use std::time::Duration;

fn is_message(body: &str) -> impl Fn(&ServerFrame) -> bool + '_ {
    move |f| matches!(f, ServerFrame::Message { message } if message.body == body)
}

fn is_presence(user: i64, online: bool) -> impl Fn(&ServerFrame) -> bool {
    move |f| matches!(f, ServerFrame::Presence { user_id, online: o } if *user_id == UserId(user) && *o == online)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sockets_on_different_instances_get_each_others_events_live() {
    // Arrange: ann's socket on instance 1, bob's on instance 2.
    let Some(topology) = Topology::start("cross_instance_events", Options::default()).await else {
        return;
    };
    let one = Api::new(&topology.instance(1).url());
    let two = Api::new(&topology.instance(2).url());
    let ann = one.register("ann").await;
    let bob = two.register("bob").await;
    let mut bob_ws = WsClient::open_ok(&topology.instance(2).ws_url(), &bob).await;

    // Act + assert: ann (REST on instance 1) starts a conversation; bob (instance 2) hears of it.
    let room = one.open_room(&ann, &bob).await;
    let room_id = room.id;
    bob_ws
        .expect("room event on instance 2", |f| {
            matches!(f, ServerFrame::Room { room } if room.id == room_id && room.peer.username == "ann")
        })
        .await;

    // Presence: ann comes online on instance 1 → bob on instance 2 hears it.
    let mut ann_ws1 = WsClient::open_ok(&topology.instance(1).ws_url(), &ann).await;
    bob_ws.expect("ann online", is_presence(ann.id, true)).await;

    // Messages both ways, each over a socket on a different instance.
    ann_ws1
        .send(&ClientFrame::Send {
            room_id,
            body: "hello from instance 1".into(),
            client_id: "ann-1".into(),
            reply_to: None,
            attachments: Vec::new(),
        })
        .await
        .unwrap();
    ann_ws1
        .expect(
            "ack",
            |f| matches!(f, ServerFrame::Ack { client_id, .. } if client_id == "ann-1"),
        )
        .await;
    let first = match bob_ws
        .expect("ann's message", is_message("hello from instance 1"))
        .await
    {
        ServerFrame::Message { message } => message,
        _ => unreachable!(),
    };
    assert_eq!(first.seq, 1);
    bob_ws
        .send(&ClientFrame::Send {
            room_id,
            body: "hello from instance 2".into(),
            client_id: "bob-1".into(),
            reply_to: None,
            attachments: Vec::new(),
        })
        .await
        .unwrap();
    ann_ws1
        .expect("bob's message", is_message("hello from instance 2"))
        .await;

    // Read marks and typing, both ways.
    bob_ws
        .send(&ClientFrame::Read { room_id, seq: 1 })
        .await
        .unwrap();
    ann_ws1
        .expect("bob's read mark", |f| {
            matches!(f, ServerFrame::Read { user_id, seq: 1, room_id: r } if *user_id == UserId(bob.id) && *r == room_id)
        })
        .await;
    bob_ws.send(&ClientFrame::Typing { room_id }).await.unwrap();
    ann_ws1
        .expect(
            "bob typing",
            |f| matches!(f, ServerFrame::Typing { user_id, .. } if *user_id == UserId(bob.id)),
        )
        .await;
    ann_ws1
        .send(&ClientFrame::Typing { room_id })
        .await
        .unwrap();
    bob_ws
        .expect(
            "ann typing",
            |f| matches!(f, ServerFrame::Typing { user_id, .. } if *user_id == UserId(ann.id)),
        )
        .await;

    // A REST send on instance 2 reaches ann's socket on instance 1 and bob's on instance 2.
    two.send(&ann, room_id, "over REST on instance 2", "ann-2")
        .await;
    ann_ws1
        .expect(
            "own REST message on the other instance",
            is_message("over REST on instance 2"),
        )
        .await;
    bob_ws
        .expect("REST message", is_message("over REST on instance 2"))
        .await;

    // Presence is per user across instances: ann online while any instance holds her socket.
    let ann_ws2 = WsClient::open_ok(&topology.instance(2).ws_url(), &ann).await;
    ann_ws1.close().await;
    bob_ws
        .expect_none(
            "ann offline while her instance-2 socket is open",
            Duration::from_millis(1500),
            is_presence(ann.id, false),
        )
        .await;
    ann_ws2.close().await;
    bob_ws
        .expect(
            "ann offline after her last socket closed",
            is_presence(ann.id, false),
        )
        .await;

    // Logout on instance 1 closes bob's socket on instance 2.
    let logout = one.post("/api/auth/logout", &bob.token, &json!({})).await;
    assert_eq!(logout.status().as_u16(), 204);
    assert!(
        matches!(bob_ws.closed().await, WsEnd::Closed(_)),
        "bob's socket on instance 2 must close when he logs out on instance 1"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_behind_nginx_chat_live_across_both_instances() {
    // Arrange: two users, two tabs each, all through nginx. least_conn spreads the four
    // sockets over both instances, so every event has to cross between them.
    let Some(topology) = Topology::start("cross_instance_nginx", Options::default()).await else {
        return;
    };
    let edge = Api::new(&topology.nginx.url());
    let cat = edge.register("cat").await;
    let dan = edge.register("dan").await;
    let room_id: RoomId = edge.open_room(&cat, &dan).await.id;
    let url = topology.nginx.ws_url();
    let mut cat_tabs = vec![WsClient::open_ok(&url, &cat).await];
    let mut dan_tabs = vec![WsClient::open_ok(&url, &dan).await];
    cat_tabs.push(WsClient::open_ok(&url, &cat).await);
    dan_tabs.push(WsClient::open_ok(&url, &dan).await);
    for number in [1, 2] {
        let sockets = Api::new(&topology.instance(number).url())
            .metric("chat_ws_connections")
            .await;
        assert!(
            sockets >= 1.0,
            "instance {number} holds no socket: nginx did not spread the connections"
        );
    }

    // Act + assert: every message, read mark and typing event reaches every tab.
    for (round, (sender, sender_tab)) in [(&cat, 0usize), (&dan, 1), (&cat, 1), (&dan, 0)]
        .into_iter()
        .enumerate()
    {
        let body = format!("round {round} from {}", sender.username);
        let tabs = if sender.id == cat.id {
            &mut cat_tabs
        } else {
            &mut dan_tabs
        };
        tabs[sender_tab]
            .send(&ClientFrame::Send {
                room_id,
                body: body.clone(),
                client_id: format!("nginx-{round}"),
                reply_to: None,
                attachments: Vec::new(),
            })
            .await
            .unwrap();
        for tab in cat_tabs.iter_mut().chain(dan_tabs.iter_mut()) {
            let frame = tab
                .expect("the message on every tab", is_message(&body))
                .await;
            let ServerFrame::Message { message } = frame else {
                unreachable!()
            };
            assert_eq!(message.seq, round as i64 + 1, "seq order is delivery order");
        }
    }
    dan_tabs[1]
        .send(&ClientFrame::Read { room_id, seq: 4 })
        .await
        .unwrap();
    dan_tabs[0]
        .send(&ClientFrame::Typing { room_id })
        .await
        .unwrap();
    for tab in cat_tabs.iter_mut() {
        // The two events come from sockets that may sit on different instances: any order.
        let (mut read, mut typing) = (false, false);
        while !(read && typing) {
            let frame = tab
                .expect("dan's read mark and typing", |f| {
                    matches!(f, ServerFrame::Read { .. } | ServerFrame::Typing { .. })
                })
                .await;
            match frame {
                ServerFrame::Read { user_id, seq, .. } if user_id == UserId(dan.id) => {
                    assert_eq!(seq, 4);
                    read = true;
                }
                ServerFrame::Typing { user_id, .. } if user_id == UserId(dan.id) => typing = true,
                _ => {}
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_senders_on_two_instances_see_every_message_live_in_seq_order() {
    // Arrange: in each room one member on instance 1 and one on instance 2, both sending at
    // once, so the room's seqs interleave between instances.
    use crate::client::{assert_exactly_once, ChatClient};
    const PAIRS: usize = 3;
    const MESSAGES: usize = 30;
    let Some(topology) = Topology::start("cross_instance_order", Options::default()).await else {
        return;
    };
    let one = Api::new(&topology.instance(1).url());
    let two = Api::new(&topology.instance(2).url());
    let mut tasks = Vec::new();
    for pair in 0..PAIRS {
        let left = one.register(&format!("ileft{pair}")).await;
        let right = two.register(&format!("iright{pair}")).await;
        let room = one.open_room(&left, &right).await.id;
        for (name, user, api, url) in [
            (
                format!("ileft{pair}"),
                left,
                one.clone(),
                topology.instance(1).ws_url(),
            ),
            (
                format!("iright{pair}"),
                right,
                two.clone(),
                topology.instance(2).ws_url(),
            ),
        ] {
            let mut client = ChatClient::new(&name, user, room, api, &url);
            client.ensure_connected().await;
            tasks.push(client);
        }
    }

    // Act: everyone sends at once.
    let handles: Vec<_> = tasks
        .into_iter()
        .map(|mut client| {
            tokio::spawn(async move {
                for i in 0..MESSAGES {
                    let id = format!("{}-{i}", client.name);
                    client.send(&format!("{} says {i}", client.name), &id).await;
                }
                client
            })
        })
        .collect();
    let mut clients = Vec::new();
    for handle in handles {
        clients.push(
            tokio::time::timeout(Duration::from_secs(120), handle)
                .await
                .expect("senders finish within 120 s")
                .unwrap(),
        );
    }

    // Assert: all live, in seq order, nothing missing or doubled.
    for pair in clients.chunks_mut(2) {
        let acked: Vec<_> = pair.iter().flat_map(|c| c.acked.clone()).collect();
        let last = acked.len() as i64;
        for client in pair.iter_mut() {
            let live = client.settle(last, Duration::from_secs(10)).await;
            assert!(
                client.stats.violations.is_empty(),
                "{}: {:?}",
                client.name,
                client.stats.violations
            );
            assert!(
                live,
                "{}: not everything arrived live: {:?}",
                client.name, client.stats
            );
            assert_eq!(
                client.stats.gap_fills, 0,
                "{}: {:?}",
                client.name, client.stats
            );
            assert_eq!(
                client.stats.reconnects, 0,
                "{}: {:?}",
                client.name, client.stats
            );
            assert_exactly_once(&client.name, &client.view, &acked);
        }
    }
}
