//! PostgreSQL stopped for longer than `CHAT_DB_TIMEOUT_SECS` (issue 11 §2): REST answers 503
//! `unavailable`, a websocket send gets an `error` frame with `unavailable` and the socket
//! stays open, `/api/health` says the database is down, nothing is acknowledged that is not
//! stored, and once PostgreSQL is back everything works again without restarting chat-server.
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
