//! A client behind nginx that stops reading its socket is let go: the instance releases its
//! side within its send timeout, nginx the client's side within its own, and the peer
//! chatting beside it is never held up (issue 11 §1, through the proxy).

use crate::client::{Api, WsClient};
use crate::harness::{Options, Topology};
use chat_client::frozen::{socket_that_stops_reading, still_established};
use shared::{ClientFrame, ServerFrame};
use std::time::Duration;
use tokio::time::Instant;

/// The instance's release (send timeout 2 s, close grace, the kernel's abort) and slack.
const RELEASE_BOUND: Duration = Duration::from_secs(20);
/// nginx's `send_timeout` on /ws (15 s), counted from the instance's release, and slack.
const NGINX_BOUND: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_socket_that_stops_reading_behind_nginx_is_released_on_both_sides() {
    // Arrange: Bob's raw socket through nginx stops reading; Alice chats through nginx.
    let options = Options {
        extra_env: vec![
            ("CHAT_SEND_TIMEOUT_SECS".into(), "2".into()),
            ("CHAT_WS_QUEUE".into(), "64".into()),
            ("CHAT_MESSAGES_PER_SECOND".into(), "1000000".into()),
            ("CHAT_MESSAGE_BURST".into(), "1000000".into()),
        ],
        ..Options::default()
    };
    let Some(topology) = Topology::start("slow_reader_nginx", options).await else {
        return;
    };
    let edge = Api::new(&topology.nginx.url());
    let alice = edge.register("salice").await;
    let bob = edge.register("sbob").await;
    let room = edge.open_room(&alice, &bob).await.id;
    let frozen = socket_that_stops_reading(topology.nginx.port, &bob.token).unwrap();
    let mut alice_ws = WsClient::open_ok(&topology.nginx.ws_url(), &alice).await;
    let instances = [
        Api::new(&topology.instance(1).url()),
        Api::new(&topology.instance(2).url()),
    ];
    let sockets = || async {
        let mut total = 0.0;
        for api in &instances {
            total += api.metric("chat_ws_connections").await;
        }
        total
    };
    assert_eq!(sockets().await, 2.0, "both sockets are open");

    // Act: Alice sends far more than Bob's socket, nginx's buffers and the kernel's can hold
    // (about 10 MB), reading her acks as they come.
    let body = "x".repeat(3900);
    for batch in 0..50 {
        for n in 0..50 {
            let frame = ClientFrame::Send {
                room_id: room,
                body: body.clone(),
                client_id: format!("m-{batch}-{n}"),
                reply_to: None,
                attachments: Vec::new(),
            };
            alice_ws.send(&frame).await.expect("Alice's socket is open");
        }
        let mut acked = 0;
        while acked < 50 {
            match alice_ws
                .next_event(Duration::from_secs(30))
                .await
                .expect("Alice's socket answers")
            {
                ServerFrame::Ack { .. } => acked += 1,
                ServerFrame::Error { message, .. } => panic!("a send failed: {message}"),
                _ => {}
            }
        }
    }
    let stored = Instant::now();

    // Assert: the instance lets Bob's socket go, Alice's stays.
    let mut released = None;
    while stored.elapsed() < RELEASE_BOUND {
        if sockets().await == 1.0 {
            released = Some(stored.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let released = released.unwrap_or_else(|| {
        panic!("the instance still held the frozen socket {RELEASE_BOUND:?} after the last send")
    });
    alice_ws.send(&ClientFrame::Ping).await.expect("open");
    alice_ws.expect("pong", |f| *f == ServerFrame::Pong).await;

    // And nginx ends the client's connection (a reset), while the client still reads nothing.
    let client_port = frozen.local_addr().unwrap().port();
    let frozen_at = Instant::now();
    while still_established(client_port) {
        assert!(
            frozen_at.elapsed() < NGINX_BOUND,
            "nginx still held the frozen client's connection {NGINX_BOUND:?} later"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    eprintln!(
        "instance released the slow reader {released:?} after the last send; nginx ended \
         the client's connection {:?} after that",
        frozen_at.elapsed()
    );
    drop(frozen);
}
