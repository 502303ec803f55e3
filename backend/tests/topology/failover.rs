//! `kill -9` of one instance under load: the clients it held reconnect through nginx to the
//! survivor and catch up; every acknowledged message is delivered exactly once, in seq order.

use crate::client::TestUser;
use crate::client::{assert_exactly_once, Api, ChatClient, WsClient, WsEnd};
use crate::harness::{Options, Topology};
use shared::{ClientFrame, Message, RoomId, ServerFrame};
use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio::time::Instant;

const PAIRS: usize = 4;
const MESSAGES_PER_CLIENT: usize = 40;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_an_instance_loses_and_duplicates_nothing() {
    // Arrange: PAIRS rooms, both members of each connected through nginx (so about half of
    // the sockets sit on instance 1).
    let Some(mut topology) = Topology::start("failover_kill9", Options::default()).await else {
        return;
    };
    let edge = Api::new(&topology.nginx.url());
    let ws_url = topology.nginx.ws_url();
    let clients = pairs_through_nginx(&edge, &ws_url, "", PAIRS).await;
    let one = Api::new(&topology.instance(1).url());
    let on_one = one.metric("chat_ws_connections").await;
    assert!(
        on_one >= 1.0,
        "no socket landed on instance 1, so killing it would prove nothing"
    );

    // Act: every client sends its messages (retrying the same client_id until acknowledged)
    // while instance 1 is killed once a third of all messages are acknowledged.
    let total = PAIRS * 2 * MESSAGES_PER_CLIENT;
    let acked = Arc::new(AtomicUsize::new(0));
    let tasks = chatter(clients, MESSAGES_PER_CLIENT, &acked);
    // REST sends through nginx beside them: one in flight to the killed instance is resent by
    // nginx to the survivor (a send is idempotent by client_id), so none fails.
    let rest = RestSender::start(&edge, "k", MESSAGES_PER_CLIENT * 2).await;
    let deadline = Instant::now() + Duration::from_secs(120);
    while acked.load(Ordering::Relaxed) < total / 3 {
        assert!(Instant::now() < deadline, "traffic stalled before the kill");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let pid = topology.instance(1).pid();
    topology.instance_mut(1).kill9();
    let at_kill = acked.load(Ordering::Relaxed);
    eprintln!("killed instance 1 (pid {pid}) after {at_kill}/{total} acknowledgements");

    let mut clients = finished(tasks).await;
    assert!(
        at_kill < total,
        "the kill came after all traffic; the test proved nothing"
    );
    rest.assert_stored_once(&edge).await;

    // Assert: each member of each room ends with exactly the acknowledged messages of both.
    let reconnects = assert_pairs_hold_what_was_acked(&edge, &mut clients).await;
    assert!(
        reconnects >= 1,
        "no client reconnected, so none was on the killed instance"
    );

    // The survivor carries on, nginx routes around the dead instance, and with no instance
    // left the API still answers in its JSON error shape.
    let (status, health) = edge.health().await;
    assert_eq!(status, 200, "health through nginx after the kill: {health}");
    topology.instance_mut(2).kill9();
    let response = edge
        .client
        .get(edge.url("/api/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 503);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unavailable", "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_an_instance_and_its_clients_move_to_the_other() {
    // Arrange: pairs chatting through nginx, so some sockets sit on instance 1.
    const PAIRS: usize = 3;
    const MESSAGES: usize = 30;
    let Some(mut topology) = Topology::start("failover_sigterm", Options::default()).await else {
        return;
    };
    let edge = Api::new(&topology.nginx.url());
    let ws_url = topology.nginx.ws_url();
    let clients = pairs_through_nginx(&edge, &ws_url, "t", PAIRS).await;
    let one = Api::new(&topology.instance(1).url());
    assert!(
        one.metric("chat_ws_connections").await >= 1.0,
        "no socket landed on instance 1"
    );

    // Act: traffic, and SIGTERM to instance 1 a third of the way through.
    let total = PAIRS * 2 * MESSAGES;
    let acked = Arc::new(AtomicUsize::new(0));
    let tasks = chatter(clients, MESSAGES, &acked);
    let deadline = Instant::now() + Duration::from_secs(120);
    while acked.load(Ordering::Relaxed) < total / 3 {
        assert!(
            Instant::now() < deadline,
            "traffic stalled before the SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let status = topology
        .instance_mut(1)
        .sigterm(Duration::from_secs(30))
        .await
        .expect("instance 1 exits within 30 s of SIGTERM");
    assert!(
        status.success(),
        "instance 1 exited with {status} after SIGTERM"
    );
    let mut clients = finished(tasks).await;

    // Assert: the drained sockets were closed with 1001 (going away), nothing acknowledged
    // was lost or doubled, and everyone carried on through the other instance.
    let ends: Vec<WsEnd> = clients.iter().flat_map(|c| c.stats.ends.clone()).collect();
    assert!(
        ends.contains(&WsEnd::Closed(Some(1001))),
        "no socket was closed with 1001: {ends:?}"
    );
    assert_pairs_hold_what_was_acked(&edge, &mut clients).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_writes_the_acks_of_stored_sends_before_closing() {
    // Arrange: one socket straight on instance 1 that pipelines sends without waiting for
    // their acks, so that some are being committed when the SIGTERM comes.
    const SENDS: usize = 2_000;
    // A queue that holds the echoes of every pipelined send: the socket must end by the
    // shutdown (1001), not as a slow reader.
    let options = Options {
        extra_env: vec![
            ("CHAT_WS_QUEUE".into(), "5000".into()),
            ("CHAT_MESSAGES_PER_SECOND".into(), "1000000".into()),
            ("CHAT_MESSAGE_BURST".into(), "1000000".into()),
        ],
        ..Options::default()
    };
    let Some(mut topology) = Topology::start("graceful_acks", options).await else {
        return;
    };
    let one = Api::new(&topology.instance(1).url());
    let two = Api::new(&topology.instance(2).url());
    let ann = one.register("gann").await;
    let ben = one.register("gben").await;
    let room = one.open_room(&ann, &ben).await.id;
    let mut ws = WsClient::open_ok(&topology.instance(1).ws_url(), &ann).await;

    // Act: the sends, then SIGTERM at once; read every frame until the socket ends.
    for i in 0..SENDS {
        let frame = ClientFrame::Send {
            room_id: room,
            body: format!("pipelined {i}"),
            client_id: format!("p-{i}"),
            reply_to: None,
            attachments: Vec::new(),
        };
        if ws.send(&frame).await.is_err() {
            break;
        }
    }
    // The first ack: commits are under way when the signal comes.
    let mut acked = HashSet::new();
    loop {
        match ws.next_event(Duration::from_secs(20)).await {
            Ok(ServerFrame::Ack { client_id, .. }) => {
                acked.insert(client_id);
                break;
            }
            Ok(_) => {}
            Err(end) => panic!("the socket ended before the first ack: {end:?}"),
        }
    }
    let instance = topology.instance_mut(1);
    let stopping = instance.sigterm(Duration::from_secs(30));
    let reading = async {
        let end = loop {
            match ws.next_event(Duration::from_secs(20)).await {
                Ok(ServerFrame::Ack { client_id, .. }) => {
                    acked.insert(client_id);
                }
                Ok(_) => {}
                Err(end) => break end,
            }
        };
        (acked, end)
    };
    let (status, (acked, end)) = tokio::join!(stopping, reading);
    let status = status.expect("instance 1 exits within 30 s of SIGTERM");
    assert!(status.success(), "instance 1 exited with {status}");

    // Assert: every message that was stored was acknowledged on the socket before it
    // closed (1001), so the client has nothing to resend.
    assert_eq!(end, WsEnd::Closed(Some(1001)), "how the socket ended");
    let stored = two
        .messages_after(&ann, room, 0)
        .await
        .expect("history from instance 2");
    let unacked: Vec<&str> = stored
        .iter()
        .map(|m| m.client_id.as_str())
        .filter(|id| !acked.contains(*id))
        .collect();
    eprintln!(
        "{} sent, {} stored, {} acked before the close",
        SENDS,
        stored.len(),
        acked.len()
    );
    assert!(
        unacked.is_empty(),
        "{} stored messages were never acknowledged: {:?}",
        unacked.len(),
        &unacked[..unacked.len().min(10)]
    );
    assert!(
        stored.len() < SENDS,
        "every send was stored before the SIGTERM: nothing was in flight to test"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nginx_reloads_under_load_drop_no_acknowledged_message() {
    // Arrange: pairs chatting through nginx over websockets, and REST sends beside them.
    const PAIRS: usize = 3;
    const MESSAGES: usize = 40;
    let Some(topology) = Topology::start("nginx_reload", Options::default()).await else {
        return;
    };
    let edge = Api::new(&topology.nginx.url());
    let ws_url = topology.nginx.ws_url();
    let clients = pairs_through_nginx(&edge, &ws_url, "r", PAIRS).await;

    // Act: traffic, and two reloads of nginx while it flows.
    let total = PAIRS * 2 * MESSAGES;
    let acked = Arc::new(AtomicUsize::new(0));
    let tasks = chatter(clients, MESSAGES, &acked);
    let rest = RestSender::start(&edge, "r", MESSAGES).await;
    let deadline = Instant::now() + Duration::from_secs(120);
    for share in [4, 2] {
        while acked.load(Ordering::Relaxed) < total / share {
            assert!(Instant::now() < deadline, "traffic stalled before a reload");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        topology.nginx.reload();
        eprintln!(
            "nginx reloaded at {}/{total}",
            acked.load(Ordering::Relaxed)
        );
    }
    let mut clients = finished(tasks).await;

    // Assert: every acknowledged message once, in seq order, on both screens and in storage.
    assert_pairs_hold_what_was_acked(&edge, &mut clients).await;
    rest.assert_stored_once(&edge).await;
}

/// `pairs` rooms, both members of each connected through nginx (so about half of the sockets
/// sit on each instance), named `{prefix}left{n}` and `{prefix}right{n}`.
async fn pairs_through_nginx(
    edge: &Api,
    ws_url: &str,
    prefix: &str,
    pairs: usize,
) -> Vec<ChatClient> {
    let mut clients = Vec::new();
    for pair in 0..pairs {
        let names = [
            format!("{prefix}left{pair}"),
            format!("{prefix}right{pair}"),
        ];
        let left = edge.register(&names[0]).await;
        let right = edge.register(&names[1]).await;
        let room = edge.open_room(&left, &right).await.id;
        for (name, user) in names.iter().zip([left, right]) {
            let mut client = ChatClient::new(name, user, room, edge.clone(), ws_url);
            client.ensure_connected().await;
            clients.push(client);
        }
    }
    clients
}

/// Every client sends `messages`, each retried with its client_id until acknowledged,
/// counting the acknowledgements in `acked`.
fn chatter(
    clients: Vec<ChatClient>,
    messages: usize,
    acked: &Arc<AtomicUsize>,
) -> Vec<JoinHandle<ChatClient>> {
    clients
        .into_iter()
        .map(|mut client| {
            let acked = acked.clone();
            tokio::spawn(async move {
                for i in 0..messages {
                    let id = format!("{}-{i}", client.name);
                    client.send(&format!("{} says {i}", client.name), &id).await;
                    acked.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(Duration::from_millis(15)).await;
                }
                client
            })
        })
        .collect()
}

async fn finished(tasks: Vec<JoinHandle<ChatClient>>) -> Vec<ChatClient> {
    let mut clients = Vec::new();
    for task in tasks {
        clients.push(
            tokio::time::timeout(Duration::from_secs(240), task)
                .await
                .expect("clients finish within 240 s")
                .expect("no client task panicked"),
        );
    }
    clients
}

/// Each member of each pair ends with exactly the acknowledged messages of both, in seq
/// order, and storage holds them once; returns how many times the clients reconnected.
async fn assert_pairs_hold_what_was_acked(edge: &Api, clients: &mut [ChatClient]) -> usize {
    let mut reconnects = 0;
    for pair in clients.chunks_mut(2) {
        let acked: Vec<_> = pair.iter().flat_map(|c| c.acked.clone()).collect();
        let last = acked.len() as i64;
        for client in pair.iter_mut() {
            client.settle(last, Duration::from_secs(10)).await;
            assert!(
                client.stats.violations.is_empty(),
                "{}: {:?}",
                client.name,
                client.stats.violations
            );
            assert_exactly_once(&client.name, &client.view, &acked);
            eprintln!("{}: {:?}", client.name, client.stats);
            reconnects += client.stats.reconnects;
        }
        let history = edge
            .messages_after(&pair[0].user, pair[0].room, 0)
            .await
            .expect("history through nginx");
        let stored = history.into_iter().map(|m| (m.seq, m)).collect();
        assert_exactly_once("the stored history", &stored, &acked);
    }
    reconnects
}

/// REST sends through nginx into a room of their own, beside the websocket traffic: a send
/// in flight to an instance that dies is resent by nginx to the other (it is idempotent by
/// client_id), so none may fail.
struct RestSender {
    poster: TestUser,
    room: RoomId,
    task: JoinHandle<Vec<Message>>,
}

impl RestSender {
    async fn start(edge: &Api, prefix: &str, count: usize) -> RestSender {
        let poster = edge.register(&format!("{prefix}poster")).await;
        let listener = edge.register(&format!("{prefix}listener")).await;
        let room = edge.open_room(&poster, &listener).await.id;
        let task = tokio::spawn({
            let (edge, poster) = (edge.clone(), poster.clone());
            async move {
                let mut sent = Vec::new();
                for i in 0..count {
                    let id = format!("rest-{i}");
                    sent.push(edge.send(&poster, room, &format!("rest {i}"), &id).await);
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                sent
            }
        });
        RestSender { poster, room, task }
    }

    /// Every send was answered, and storage holds each once.
    async fn assert_stored_once(self, edge: &Api) {
        let sent = tokio::time::timeout(Duration::from_secs(240), self.task)
            .await
            .expect("the REST sender finishes within 240 s")
            .expect("no REST send failed through nginx");
        let history = edge
            .messages_after(&self.poster, self.room, 0)
            .await
            .expect("the REST room's history");
        let stored = history.into_iter().map(|m| (m.seq, m)).collect();
        assert_exactly_once("the REST room", &stored, &sent);
    }
}
