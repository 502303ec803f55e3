//! PostgreSQL stopped for longer than `CHAT_DB_TIMEOUT_SECS` (issue 11 §2): REST answers 503
//! `unavailable`, a websocket send gets an `error` frame with `unavailable` and the socket
//! stays open, `/api/health` says the database is down, nothing is acknowledged that is not
//! stored, and once PostgreSQL is back everything works again without restarting chat-server.
//!
//! And PostgreSQL restarted under load (§2a): every send that fails for it is `unavailable`,
//! never `internal`, and is stored once when retried.
//!
//! The database is a private PostgreSQL cluster of the test's own (initdb, pg_ctl), so
//! stopping it disturbs nobody else.

use crate::client::{Api, WsClient};
use crate::harness::{free_port, skip, ChatServer, InstanceConfig, TestDir};
use shared::{ClientFrame, ErrorCode, RoomId, ServerFrame};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;
use tokio::time::Instant;

/// A PostgreSQL cluster in a folder of the test's own, run as the `postgres` user (PostgreSQL
/// refuses to run as root).
struct PrivatePostgres {
    bin: PathBuf,
    data: PathBuf,
    log: PathBuf,
    port: u16,
}

impl PrivatePostgres {
    /// `None` when this machine has no PostgreSQL server binaries (then the test is skipped
    /// loudly, or fails under `CI=true`).
    fn create(dir: &Path) -> Option<PrivatePostgres> {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
            .find(|bin| bin.join("pg_ctl").exists())?;
        let data = dir.join("pgdata");
        std::fs::create_dir_all(&data).unwrap();
        let chown = Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(dir)
            .status()
            .unwrap();
        assert!(chown.success(), "chown of the cluster's folder");
        let pg = PrivatePostgres {
            log: dir.join("postgres.log"),
            bin,
            data,
            port: free_port(),
        };
        pg.as_postgres("initdb", &["-A", "trust", "-U", "postgres", "-D"], true);
        pg.start();
        Some(pg)
    }

    fn as_postgres(&self, tool: &str, args: &[&str], with_data: bool) {
        let mut command = Command::new("runuser");
        command
            .args(["-u", "postgres", "--"])
            .arg(self.bin.join(tool))
            .args(args);
        if with_data {
            command.arg(&self.data);
        }
        let out = command.output().unwrap();
        assert!(
            out.status.success(),
            "{tool} {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn start(&self) {
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {} -c fsync=off",
            self.port,
            self.data.display()
        );
        let log = self.log.display().to_string();
        self.as_postgres(
            "pg_ctl",
            &["-w", "-t", "60", "-l", &log, "-o", &options, "start", "-D"],
            true,
        );
    }

    /// A fast shutdown: every connection is terminated, new ones are refused.
    fn stop(&self) {
        self.as_postgres("pg_ctl", &["-w", "-m", "fast", "stop", "-D"], true);
    }

    fn url(&self) -> String {
        format!(
            "postgres://postgres@127.0.0.1:{}/postgres?sslmode=disable",
            self.port
        )
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let _ = Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(self.bin.join("pg_ctl"))
            .args(["-m", "immediate", "stop", "-D"])
            .arg(&self.data)
            .output();
    }
}

/// One send on the socket and its answer: `Ok` with the ack, `Err` with the error's code.
async fn send_one(ws: &mut WsClient, room: RoomId, client_id: &str) -> Result<(), ErrorCode> {
    ws.send(&ClientFrame::Send {
        room_id: room,
        body: format!("message {client_id}"),
        client_id: client_id.into(),
        reply_to: None,
        attachments: Vec::new(),
    })
    .await
    .expect("the socket stays open");
    loop {
        match ws
            .next_event(Duration::from_secs(30))
            .await
            .expect("an answer")
        {
            ServerFrame::Ack { client_id: id, .. } if id == client_id => return Ok(()),
            ServerFrame::Error {
                code,
                client_id: Some(id),
                ..
            } if id == client_id => return Err(code),
            _ => {}
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_postgres_outage_is_unavailable_and_heals_without_a_restart() {
    // Arrange: one chat-server on a private cluster, a short database timeout.
    let dir = TestDir::new("pg_outage");
    let Some(pg) = PrivatePostgres::create(dir.path()) else {
        skip(
            "pg_outage",
            "no PostgreSQL server binaries under /usr/lib/postgresql",
        );
        return;
    };
    let config = InstanceConfig {
        database_url: pg.url(),
        static_dir: dir.path().join("no-dist"),
        extra_env: vec![("CHAT_DB_TIMEOUT_SECS".into(), "2".into())],
        ..InstanceConfig::default()
    };
    let mut server = ChatServer::spawn(1, &config, dir.path());
    server.wait_healthy().await;
    let api = Api::new(&server.url());
    let ann = api.register("ann").await;
    let bob = api.register("bob").await;
    let room = api.open_room(&ann, &bob).await.id;
    let mut ws = WsClient::open_ok(&server.ws_url(), &ann).await;
    let mut acked = HashSet::new();
    for i in 0..5 {
        let id = format!("before-{i}");
        send_one(&mut ws, room, &id).await.expect("stored before");
        acked.insert(id);
    }

    // Act: PostgreSQL goes away for longer than the database timeout.
    pg.stop();
    let stopped_at = Instant::now();
    tokio::time::sleep(Duration::from_secs(3)).await;

    // Assert: clear refusals, on REST and on the still-open socket; health says which part.
    let mut refused = Vec::new();
    let mut answered_in = Vec::new();
    for i in 0..3 {
        let id = format!("during-{i}");
        let asked = Instant::now();
        let answer = send_one(&mut ws, room, &id).await;
        answered_in.push(asked.elapsed());
        assert_eq!(
            answer,
            Err(ErrorCode::Unavailable),
            "ws send {id} while down"
        );
        refused.push(id);
    }
    let rest = api
        .client
        .post(format!("{}/api/rooms/{}/messages", api.base, room.0))
        .bearer_auth(&ann.token)
        .json(&serde_json::json!({"body": "over REST", "client_id": "during-rest"}))
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .expect("an answer while PostgreSQL is down");
    let status = rest.status().as_u16();
    let body: serde_json::Value = rest.json().await.unwrap_or_default();
    assert_eq!(status, 503, "REST send while down: {body}");
    assert_eq!(body["error"]["code"], "unavailable", "{body}");
    refused.push("during-rest".into());
    let (status, health) = api.health().await;
    assert_eq!(status, 503, "{health}");
    assert_eq!(health["db"], "down", "{health}");
    ws.send(&ClientFrame::Ping)
        .await
        .expect("the socket is open");
    let pong = ws.expect("pong", |f| *f == ServerFrame::Pong).await;
    assert_eq!(pong, ServerFrame::Pong);
    eprintln!(
        "down for {:?}: {} sends refused as unavailable; the socket's answered in {answered_in:?}",
        stopped_at.elapsed(),
        refused.len()
    );

    // Act: PostgreSQL comes back.
    pg.start();

    // Assert: the same process stores again, on the same socket and over REST.
    let back = Instant::now();
    let mut attempt = 0;
    loop {
        let id = format!("after-{attempt}");
        match send_one(&mut ws, room, &id).await {
            Ok(()) => {
                acked.insert(id);
                break;
            }
            Err(code) => assert_eq!(code, ErrorCode::Unavailable, "while reconnecting"),
        }
        assert!(
            back.elapsed() < Duration::from_secs(60),
            "not storing 60 s after PostgreSQL returned"
        );
        attempt += 1;
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    eprintln!(
        "storing again {:?} after PostgreSQL returned",
        back.elapsed()
    );
    let message = api.send(&ann, room, "over REST again", "after-rest").await;
    acked.insert(message.client_id);
    let (status, health) = api.health().await;
    assert_eq!((status, &health["db"]), (200, &"ok".into()), "{health}");

    // Nothing acknowledged is missing, nothing refused was stored.
    let stored: HashSet<String> = api
        .messages_after(&ann, room, 0)
        .await
        .expect("history")
        .into_iter()
        .map(|m| m.client_id)
        .collect();
    assert_eq!(stored, acked, "stored exactly what was acknowledged");
    for id in &refused {
        assert!(!stored.contains(id), "refused {id} was stored");
    }
    drop(server);
}

/// One sender of the restart test: sends `count` messages at `per_second`, one at a time,
/// retrying a refused one (same `client_id`) until it is acknowledged; returns the
/// acknowledged client ids and the error codes it was answered with on the way.
async fn paced_sender(
    mut ws: WsClient,
    room: RoomId,
    name: String,
    count: usize,
    per_second: f64,
) -> (Vec<String>, Vec<ErrorCode>) {
    let start = Instant::now();
    let mut acked = Vec::with_capacity(count);
    let mut refusals = Vec::new();
    for i in 0..count {
        tokio::time::sleep_until(start + Duration::from_secs_f64(i as f64 / per_second)).await;
        let id = format!("{name}-{i}");
        let first_try = Instant::now();
        loop {
            match send_one(&mut ws, room, &id).await {
                Ok(()) => break,
                Err(code) => refusals.push(code),
            }
            assert!(
                first_try.elapsed() < Duration::from_secs(60),
                "{id} not acknowledged 60 s after its first try"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        acked.push(id);
    }
    (acked, refusals)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_restart_under_load_is_unavailable_never_internal_and_loses_nothing() {
    // Arrange: 8 rooms of two people each, every person sending at 25 messages a second
    // (400 a second in all) to one chat-server on a private cluster.
    const PAIRS: usize = 8;
    const PER_PERSON: usize = 300;
    const RATE: f64 = 25.0;
    const DOWN: Duration = Duration::from_secs(8);
    let dir = TestDir::new("pg_restart");
    let Some(pg) = PrivatePostgres::create(dir.path()) else {
        skip(
            "pg_restart",
            "no PostgreSQL server binaries under /usr/lib/postgresql",
        );
        return;
    };
    let config = InstanceConfig {
        database_url: pg.url(),
        static_dir: dir.path().join("no-dist"),
        extra_env: vec![
            ("CHAT_MESSAGES_PER_SECOND".into(), "1000".into()),
            ("CHAT_MESSAGE_BURST".into(), "1000".into()),
        ],
        ..InstanceConfig::default()
    };
    let mut server = ChatServer::spawn(1, &config, dir.path());
    server.wait_healthy().await;
    let api = Api::new(&server.url());
    let mut senders = Vec::new();
    let mut rooms = Vec::new();
    for pair in 0..PAIRS {
        let one = api.register(&format!("r{pair}a")).await;
        let two = api.register(&format!("r{pair}b")).await;
        let room = api.open_room(&one, &two).await.id;
        rooms.push((room, one.clone()));
        for (person, user) in [("a", one), ("b", two)] {
            let ws = WsClient::open_ok(&server.ws_url(), &user).await;
            senders.push(tokio::spawn(paced_sender(
                ws,
                room,
                format!("r{pair}{person}"),
                PER_PERSON,
                RATE,
            )));
        }
    }

    // Act: PostgreSQL stops a few seconds into the load and stays down for longer than the
    // pool waits for a connection (every connection is cut; new ones are refused until it is
    // back), then starts again.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let restarted = Instant::now();
    let pg = tokio::task::spawn_blocking(move || {
        pg.stop();
        std::thread::sleep(DOWN);
        pg.start();
        pg
    })
    .await
    .expect("the restart");
    eprintln!("PostgreSQL restarted in {:?}", restarted.elapsed());

    // Assert: nothing but `unavailable` was answered, and every retried send is stored once.
    let mut acked = HashSet::new();
    let mut refusals = Vec::new();
    for sender in senders {
        let (ids, codes) = sender.await.expect("a sender");
        acked.extend(ids);
        refusals.extend(codes);
    }
    let internal = refusals
        .iter()
        .filter(|code| **code != ErrorCode::Unavailable)
        .count();
    eprintln!(
        "{} sends acknowledged; {} refusals on the way ({internal} other than unavailable)",
        acked.len(),
        refusals.len()
    );
    assert_eq!(internal, 0, "refusals other than unavailable: {refusals:?}");
    assert!(
        !refusals.is_empty(),
        "an outage longer than the pool's wait was never answered `unavailable`"
    );
    assert_eq!(acked.len(), PAIRS * 2 * PER_PERSON);
    let mut stored = HashSet::new();
    for (room, member) in &rooms {
        let history = api.messages_after(member, *room, 0).await.expect("history");
        let seqs: Vec<i64> = history.iter().map(|m| m.seq).collect();
        let expected: Vec<i64> = (1..=history.len() as i64).collect();
        assert_eq!(seqs, expected, "room {room:?}: seq 1..N without gaps");
        for message in history {
            assert!(
                stored.insert(message.client_id.clone()),
                "{} stored twice",
                message.client_id
            );
        }
    }
    assert_eq!(stored, acked, "stored exactly what was acknowledged");
    drop(server);
    drop(pg);
}
