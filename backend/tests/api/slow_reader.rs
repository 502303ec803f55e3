//! A client that stops reading its socket (TCP open, receive window full) is let go within a
//! bounded time: its socket task stops, its connection and file descriptor are released,
//! and nobody else is held up.

use crate::helpers::*;
use shared::{ClientFrame, RoomId, ServerFrame};
use std::time::{Duration, Instant};

/// The test server's send timeout (`CHAT_SEND_TIMEOUT_SECS`): how long a write may make no
/// progress.
const SEND_TIMEOUT_SECS: u64 = 2;
/// Released within this after the peer's messages are all stored (send timeout, close grace,
/// the kernel's own abort, and slack for a loaded machine).
const RELEASE_BOUND: Duration = Duration::from_secs(15);

/// Whether this process still holds a file descriptor for the server's end of the TCP
/// connection from `client_port` to `server_port` (read from /proc, so tests running in
/// parallel do not disturb it).
fn server_holds_connection(server_port: u16, client_port: u16) -> bool {
    let wanted_local = format!("0100007F:{server_port:04X}");
    let wanted_remote = format!("0100007F:{client_port:04X}");
    let table = std::fs::read_to_string("/proc/net/tcp").unwrap();
    let inodes: Vec<String> = table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            (fields.get(1) == Some(&wanted_local.as_str())
                && fields.get(2) == Some(&wanted_remote.as_str()))
            .then(|| fields.get(9).map(|s| s.to_string()))
            .flatten()
        })
        .filter(|inode| inode != "0")
        .collect();
    if inodes.is_empty() {
        return false;
    }
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|entry| std::fs::read_link(entry.ok()?.path()).ok())
        .any(|target| {
            let target = target.to_string_lossy();
            inodes
                .iter()
                .any(|inode| target == format!("socket:[{inode}]"))
        })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_socket_that_stops_reading_is_released_and_holds_nobody_up() {
    // Arrange: Bob's raw socket stops reading after the handshake; Alice chats normally.
    let app = spawn_app_with(|s| {
        s.send_timeout_secs = SEND_TIMEOUT_SECS;
        s.ws_queue = 64;
        s.messages_per_second = 1_000_000.0;
        s.message_burst = 1_000_000;
    })
    .await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let room = app.open_room(&alice, &bob).await;
    let frozen = chat_client::frozen::socket_that_stops_reading(app.port, &bob.token).unwrap();
    let client_port = frozen.local_addr().unwrap().port();
    assert!(server_holds_connection(app.port, client_port));
    let mut alice_ws = app.ws(&alice).await;

    // Act: Alice sends far more than Bob's socket, its kernel buffers and its queue can hold
    // (about 10 MB), reading her acks as they come.
    let body = "x".repeat(3900);
    let (batches, per_batch) = (50, 50);
    for batch in 0..batches {
        for n in 0..per_batch {
            alice_ws
                .send(&ClientFrame::Send {
                    room_id: RoomId(room.id.0),
                    body: body.clone(),
                    client_id: format!("m-{batch}-{n}"),
                    reply_to: None,
                    attachments: Vec::new(),
                })
                .await;
        }
        let mut acked = 0;
        while acked < per_batch {
            match alice_ws.next_frame().await {
                ServerFrame::Ack { .. } => acked += 1,
                ServerFrame::Error { message, .. } => panic!("a send failed: {message}"),
                _ => {}
            }
        }
    }
    let stored = Instant::now();

    // Assert: the server lets Bob's connection go within the bound, without Bob reading.
    let mut released = None;
    while stored.elapsed() < RELEASE_BOUND {
        if !server_holds_connection(app.port, client_port)
            && app.metric("chat_ws_connections").await == 1.0
        {
            released = Some(stored.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let released = released.unwrap_or_else(|| {
        panic!("the frozen socket was still held {RELEASE_BOUND:?} after the last send was stored")
    });
    eprintln!("slow reader released {released:?} after the last send was stored");

    // Alice was never held up: her socket still works.
    alice_ws.send(&ClientFrame::Ping).await;
    alice_ws
        .next_matching(|f| matches!(f, ServerFrame::Pong))
        .await;
    let health = app.get("/api/health", &alice.token).await;
    assert_eq!(health.status(), 200);
    drop(frozen);
}
