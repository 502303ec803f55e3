//! Spawns the real server on port 0 with a fresh database, and talks to it over TCP with a
//! real HTTP client and a real websocket client.

use backend::config::Settings;
use backend::startup::Application;
use chat_client::{Ended, Socket};
use diesel::connection::SimpleConnection;
use diesel::Connection;
use reqwest::Response;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use shared::{ClientFrame, Message, Room, RoomId, ServerFrame, User};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

pub const PASSWORD: &str = "correct-horse-battery";
const FRAME_TIMEOUT: Duration = Duration::from_secs(10);

/// Which database this run tests: `TEST_DATABASE_URL=postgres://…` switches to PostgreSQL.
pub fn postgres_base_url() -> Option<String> {
    std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|u| u.starts_with("postgres"))
}

/// A database of its own for each test, dropped afterwards (with the folder holding its
/// SQLite file and its uploads).
enum TestDb {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres {
        admin_url: String,
        name: String,
        _uploads: tempfile::TempDir,
    },
    /// Owned by another `TestApp` of the same test.
    Shared,
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let TestDb::Postgres {
            admin_url, name, ..
        } = self
        {
            if let Ok(mut conn) = diesel::PgConnection::establish(admin_url) {
                let _ = conn.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
            }
        }
    }
}

fn unique_suffix() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    format!(
        "{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos()
    )
}

/// The database's URL, the upload store's URL (a folder of the test's own) and what to drop.
fn fresh_database() -> (String, String, TestDb) {
    match postgres_base_url() {
        Some(admin_url) => {
            let name = format!("chat_test_{}", unique_suffix());
            let mut conn = diesel::PgConnection::establish(&admin_url)
                .expect("TEST_DATABASE_URL must reach PostgreSQL");
            conn.batch_execute(&format!("CREATE DATABASE {name}"))
                .unwrap();
            let base = admin_url.rsplit_once('/').map(|(b, _)| b).unwrap();
            // Plain TCP: libpq's TLS teardown at process exit races with the connections
            // of servers still alive in other threads and can crash the test binary.
            let url = format!("{base}/{name}?sslmode=disable");
            let uploads = tempfile::tempdir().unwrap();
            let store = format!("file://{}", uploads.path().display());
            let db = TestDb::Postgres {
                admin_url,
                name,
                _uploads: uploads,
            };
            (url, store, db)
        }
        None => {
            let dir = tempfile::tempdir().unwrap();
            let url = format!("sqlite://{}", dir.path().join("chat.db").display());
            let store = format!("file://{}", dir.path().join("uploads").display());
            (url, store, TestDb::Sqlite(dir))
        }
    }
}

pub struct TestApp {
    pub address: String,
    pub port: u16,
    pub database_url: String,
    /// `CHAT_UPLOAD_STORE` of this app: a folder or a bucket of the test's own.
    pub upload_store: String,
    pub client: reqwest::Client,
    /// The project's API client (`chat-client`) at this app.
    pub api: chat_client::Api,
    _db: TestDb,
}

#[derive(Debug, Clone)]
pub struct TestUser {
    pub id: i64,
    pub username: String,
    pub token: String,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    let (database_url, uploads, db) = fresh_database();
    spawn_on(database_url, uploads, db, configure)
}

/// Where an app keeps its attachments (`CHAT_UPLOAD_STORE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreKind {
    /// A folder of the test's own (the embedded default).
    Folder,
    /// A bucket of the test's own on a local S3-compatible server.
    S3,
}

/// An app on the given store; None only when there is no local S3 server and `SKIP_MISSING`
/// allows skipping.
pub async fn spawn_app_on(
    store: StoreKind,
    configure: impl FnOnce(&mut Settings),
) -> Option<TestApp> {
    let (database_url, folder, db) = fresh_database();
    let uploads = match store {
        StoreKind::Folder => folder,
        StoreKind::S3 => s3_bucket().await?,
    };
    Some(spawn_on(database_url, uploads, db, configure))
}

/// The local S3-compatible server's endpoint, started on first use.
pub fn local_s3() -> Option<&'static str> {
    static SERVER: std::sync::OnceLock<Result<LocalS3, String>> = std::sync::OnceLock::new();
    match SERVER.get_or_init(start_local_s3) {
        Ok(server) => Some(&server.endpoint),
        Err(why) => {
            skip_or_fail("a local S3 server", why);
            None
        }
    }
}

/// Fails the test with what to install, or skips it loudly when `SKIP_MISSING` says so.
fn skip_or_fail(service: &str, why: &str) {
    assert!(
        std::env::var(SKIP_MISSING).as_deref() == Ok("1"),
        "no {service}: {why}; or set {SKIP_MISSING}=1 to skip what needs it on this machine"
    );
    let bar = "!".repeat(78);
    eprintln!("\n{bar}\n!!! SKIPPED ({SKIP_MISSING}=1): no {service} ({why}); this test did not run\n{bar}");
}

/// moto in server mode, one for the whole test process. It exits when its stdin closes, which
/// happens when this process ends however it ends, so no run leaves one behind.
struct LocalS3 {
    endpoint: String,
    _stdin: std::process::ChildStdin,
    _process: std::process::Child,
}

fn start_local_s3() -> Result<LocalS3, String> {
    use std::process::{Command, Stdio};
    let repo = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    // The same python the topology's deploy/s3-local.sh uses (a private venv when needed).
    let found = Command::new("bash")
        .arg("-c")
        .arg("source deploy/python-env.sh && python_with moto.server 'moto[server]>=5,<6'")
        .current_dir(repo)
        .output()
        .map_err(|e| format!("bash: {e}"))?;
    if !found.status.success() {
        return Err(format!(
            "python3 with moto (PyPI moto[server]): {}",
            String::from_utf8_lossy(&found.stderr).trim()
        ));
    }
    let python = String::from_utf8_lossy(&found.stdout).trim().to_owned();
    let port = chat_client::free_port();
    const SERVE_UNTIL_STDIN_CLOSES: &str = "import os, sys, threading\n\
        def watch():\n    sys.stdin.read()\n    os._exit(0)\n\
        threading.Thread(target=watch, daemon=True).start()\n\
        from moto.server import main\n\
        main(['-H', '127.0.0.1', '-p', sys.argv[1]])\n";
    let mut process = Command::new(&python)
        .arg("-c")
        .arg(SERVE_UNTIL_STDIN_CLOSES)
        .arg(port.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("{python}: {e}"))?;
    let stdin = process.stdin.take().ok_or("moto's stdin")?;
    let endpoint = format!("http://127.0.0.1:{port}");
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !answers_as_s3(port) {
        if let Ok(Some(status)) = process.try_wait() {
            return Err(format!("moto exited ({status})"));
        }
        if std::time::Instant::now() > deadline {
            let _ = process.kill();
            return Err(format!("moto did not answer on {endpoint} within 30 s"));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    // What the server reads for an `s3://` store (object_store's AmazonS3Builder::from_env);
    // moto accepts any credentials.
    for (name, value) in [
        ("AWS_ENDPOINT", endpoint.as_str()),
        ("AWS_ACCESS_KEY_ID", "chat-test"),
        ("AWS_SECRET_ACCESS_KEY", "chat-test-secret"),
        ("AWS_REGION", "us-east-1"),
    ] {
        std::env::set_var(name, value);
    }
    Ok(LocalS3 {
        endpoint,
        _stdin: stdin,
        _process: process,
    })
}

/// Whether our S3 server answers on the port: its bucket listing, not just anything.
fn answers_as_s3(port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let mut reply = String::new();
    stream
        .write_all(b"GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .is_ok()
        && stream.read_to_string(&mut reply).is_ok()
        && reply.contains("ListAllMyBucketsResult")
}

/// A new, empty bucket on the local S3 server, as a `CHAT_UPLOAD_STORE` URL.
async fn s3_bucket() -> Option<String> {
    let endpoint = local_s3()?;
    let bucket = format!("chat-test-{}", unique_suffix().replace('_', "-"));
    let created = reqwest::Client::new()
        .put(format!("{endpoint}/{bucket}"))
        .send()
        .await
        .expect("the local S3 server answers");
    assert!(
        created.status().is_success(),
        "bucket: {}",
        created.status()
    );
    Some(format!("s3://{bucket}/uploads"))
}

pub const REDIS_URL: &str = "redis://127.0.0.1:6379";

/// Set to 1 on a machine without Redis (or PostgreSQL, nginx, moto) to skip, loudly, the
/// tests that need it; without it a missing service fails the test with what to start.
pub const SKIP_MISSING: &str = "CHAT_TEST_SKIP_MISSING";

/// Two instances on one database joined by Redis (with a key prefix of their own, so
/// parallel tests never hear each other). No Redis is a failure, unless `SKIP_MISSING`
/// says otherwise (then None).
pub async fn spawn_pair_with_redis() -> Option<(TestApp, TestApp)> {
    spawn_pair_with_redis_on(StoreKind::Folder).await
}

/// Two instances joined by Redis, sharing one database and one upload store of the given kind.
pub async fn spawn_pair_with_redis_on(store: StoreKind) -> Option<(TestApp, TestApp)> {
    if tokio::net::TcpStream::connect("127.0.0.1:6379")
        .await
        .is_err()
    {
        skip_or_fail(
            &format!("Redis at {REDIS_URL}"),
            "start one (redis-server --port 6379)",
        );
        return None;
    }
    let prefix = format!("chat_test_{}", unique_suffix());
    let (database_url, folder, db) = fresh_database();
    let uploads = match store {
        StoreKind::Folder => folder,
        StoreKind::S3 => s3_bucket().await?,
    };
    let redis = |s: &mut Settings| {
        s.redis_url = Some(REDIS_URL.into());
        s.redis_prefix = prefix.clone();
    };
    let first = spawn_on(database_url.clone(), uploads.clone(), db, redis);
    let second = spawn_on(database_url, uploads, TestDb::Shared, redis);
    for app in [&first, &second] {
        wait_until_pubsub_ok(app).await;
    }
    Some((first, second))
}

async fn wait_until_pubsub_ok(app: &TestApp) {
    for _ in 0..100 {
        let health: Value =
            json(app.client.get(app.url("/api/health")).send().await.unwrap()).await;
        if health["pubsub"] == "ok" {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("pub/sub never came up");
}

fn spawn_on(
    database_url: String,
    uploads: String,
    db: TestDb,
    configure: impl FnOnce(&mut Settings),
) -> TestApp {
    if std::env::var("TEST_LOG").is_ok() {
        let _ = backend::telemetry::init("info");
    }
    let mut settings = Settings::defaults();
    settings.bind = "127.0.0.1:0".into();
    settings.database_url = database_url.clone();
    settings.upload_store = Some(uploads.clone());
    settings.static_dir = "/nonexistent-chat-dist".into();
    settings.workers = 2;
    configure(&mut settings);
    let app = Application::build(settings).expect("the app builds");
    let port = app.port();
    tokio::spawn(app.run_until_stopped());
    let address = format!("http://127.0.0.1:{port}");
    let api = chat_client::Api::new(&address).unwrap();
    TestApp {
        address,
        port,
        database_url,
        upload_store: uploads,
        client: api.http().clone(),
        api,
        _db: db,
    }
}

/// Reads a JSON body, failing with the status and text when it is not the expected shape.
pub async fn json<T: DeserializeOwned>(response: Response) -> T {
    let status = response.status();
    let text = response.text().await.unwrap();
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("status {status}: body {text:?} is not the expected JSON: {e}"))
}

/// Asserts the api.md error shape and code, and returns the message.
pub async fn assert_error(response: Response, status: u16, code: &str) -> String {
    assert_eq!(response.status().as_u16(), status, "unexpected status");
    let body: Value = json(response).await;
    assert_eq!(body["error"]["code"], code, "body: {body}");
    body["error"]["message"]
        .as_str()
        .expect("error.message is a string")
        .to_owned()
}

impl TestApp {
    /// Makes an administrator with the real command line, the password on stdin.
    pub async fn admin(&self, username: &str) -> TestUser {
        let output = self.admin_cli(&["create", "--username", username], Some(PASSWORD));
        assert!(output.status.success(), "admin create failed: {output:?}");
        let body: shared::AuthResponse = json(self.login_response(username, PASSWORD).await).await;
        assert!(body.user.is_admin);
        TestUser {
            id: body.user.id.0,
            username: body.user.username,
            token: body.token,
        }
    }

    pub fn admin_cli(&self, args: &[&str], stdin: Option<&str>) -> std::process::Output {
        use std::io::Write;
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_chat-server"))
            .arg("admin")
            .args(args)
            .env("DATABASE_URL", &self.database_url)
            .env("RUST_LOG", "warn")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut input = child.stdin.take().unwrap();
        if let Some(text) = stdin {
            writeln!(input, "{text}").unwrap();
        }
        drop(input);
        child.wait_with_output().unwrap()
    }

    /// Any method, bearer-authenticated, with an optional JSON body.
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<&Value>,
    ) -> Response {
        let mut request = self
            .client
            .request(method, self.url(path))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(body);
        }
        request.send().await.unwrap()
    }

    pub async fn delete(&self, path: &str, token: &str) -> Response {
        self.client
            .delete(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str, token: &str) -> Response {
        self.client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    pub async fn post(&self, path: &str, token: &str, body: &Value) -> Response {
        self.client
            .post(self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn post_raw(&self, path: &str, token: Option<&str>, body: Vec<u8>) -> Response {
        let mut request = self
            .client
            .post(self.url(path))
            .header("content-type", "application/json")
            .body(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.unwrap()
    }

    pub async fn register_response(&self, username: &str, password: &str) -> Response {
        self.client
            .post(self.url("/api/auth/register"))
            .json(&json!({"username": username, "password": password}))
            .send()
            .await
            .unwrap()
    }

    pub async fn login_response(&self, username: &str, password: &str) -> Response {
        self.client
            .post(self.url("/api/auth/login"))
            .json(&json!({"username": username, "password": password}))
            .send()
            .await
            .unwrap()
    }

    pub async fn register(&self, username: &str) -> TestUser {
        let account = self
            .api
            .register(username, PASSWORD)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        TestUser {
            id: account.user.id.0,
            username: account.user.username,
            token: account.token,
        }
    }

    pub async fn open_room(&self, me: &TestUser, peer: &TestUser) -> Room {
        self.api
            .open_room(&me.token, &peer.username)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    }

    pub async fn send(&self, me: &TestUser, room_id: i64, body: &str, client_id: &str) -> Response {
        self.post(
            &format!("/api/rooms/{room_id}/messages"),
            &me.token,
            &json!({"body": body, "client_id": client_id}),
        )
        .await
    }

    pub async fn send_ok(&self, me: &TestUser, room_id: i64, body: &str) -> Message {
        let (message, created) = self
            .api
            .send(
                &me.token,
                RoomId(room_id),
                body.to_owned(),
                format!("c-{}", unique_suffix()),
            )
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(created, "a new client_id makes a new message");
        message
    }

    pub async fn messages(
        &self,
        me: &TestUser,
        room_id: i64,
        query: &str,
    ) -> shared::MessagesResponse {
        self.api
            .messages(&me.token, RoomId(room_id), query)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    }

    pub async fn rooms(&self, me: &TestUser) -> Vec<Room> {
        self.api
            .rooms(&me.token)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// A gauge or counter of `/metrics`.
    pub async fn metric(&self, name: &str) -> f64 {
        self.api
            .metric(name)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    }

    pub fn ws_url(&self) -> String {
        format!("ws://127.0.0.1:{}/ws", self.port)
    }

    /// A websocket authenticated with the first frame, after its `ready`.
    pub async fn ws(&self, user: &TestUser) -> WsClient {
        let (socket, ready_user) = Socket::open(&self.ws_url(), &user.token, false)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(ready_user.id.0, user.id);
        WsClient { socket }
    }

    pub async fn ws_unauthenticated(&self) -> WsClient {
        let socket = Socket::connect(&self.ws_url(), &[], false)
            .await
            .expect("websocket handshake");
        WsClient { socket }
    }

    /// The handshake with extra headers; returns the HTTP status on refusal.
    pub async fn ws_with_headers(&self, headers: &[(&str, &str)]) -> Result<WsClient, u16> {
        match Socket::connect(&self.ws_url(), headers, false).await {
            Ok(socket) => Ok(WsClient { socket }),
            Err(chat_client::Error::Refused(status)) => Err(status),
            Err(other) => panic!("handshake failed: {other}"),
        }
    }
}

/// A websocket of the tests (`chat-client`'s `Socket`); every wait is bounded and a socket
/// that ends unexpectedly fails the test.
pub struct WsClient {
    socket: Socket,
}

/// How a socket ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Closed {
    WithCode(u16),
    WithoutCode,
}

impl WsClient {
    pub async fn send(&mut self, frame: &ClientFrame) {
        self.socket.send(frame).await.unwrap();
    }

    pub async fn send_text(&mut self, text: &str) {
        self.socket.send_text(text).await.unwrap();
    }

    pub async fn send_binary(&mut self, bytes: Vec<u8>) {
        self.socket.send_binary(bytes).await.unwrap();
    }

    /// The next data frame, parsed; control frames are skipped.
    pub async fn next_frame(&mut self) -> ServerFrame {
        match self.socket.next_frame(FRAME_TIMEOUT).await {
            Ok(frame) => frame,
            Err(Ended::TimedOut) => panic!("no frame within {FRAME_TIMEOUT:?}"),
            Err(Ended::Garbled(text)) => panic!("unparseable frame {text}"),
            Err(Ended::Closed(code)) => panic!("socket closed: {code:?}"),
        }
    }

    /// Skips frames until one matches (presence and the like arrive in between).
    pub async fn next_matching(&mut self, wanted: impl Fn(&ServerFrame) -> bool) -> ServerFrame {
        loop {
            let frame = self.next_frame().await;
            if wanted(&frame) {
                return frame;
            }
        }
    }

    pub async fn next_message(&mut self) -> Message {
        match self
            .next_matching(|f| matches!(f, ServerFrame::Message { .. }))
            .await
        {
            ServerFrame::Message { message } => message,
            _ => unreachable!(),
        }
    }

    pub async fn next_update(&mut self) -> Message {
        match self
            .next_matching(|f| matches!(f, ServerFrame::MessageUpdate { .. }))
            .await
        {
            ServerFrame::MessageUpdate { message } => message,
            _ => unreachable!(),
        }
    }

    /// Reads frames until one matches `marker` (something the server sends after the action
    /// under test), failing on any `unwanted` frame before it. Unlike a quiet period, this
    /// cannot pass because an unwanted frame is merely late.
    pub async fn assert_none_before(
        &mut self,
        unwanted: impl Fn(&ServerFrame) -> bool,
        marker: impl Fn(&ServerFrame) -> bool,
    ) {
        loop {
            let frame = self.next_frame().await;
            assert!(!unwanted(&frame), "unexpected frame {frame:?}");
            if marker(&frame) {
                return;
            }
        }
    }

    /// `assert_none_before` with this socket's own `pong` as the marker: a socket writes what
    /// the fan-out queued for it before it reads the next client frame, so every event
    /// published before the `ping` is sent arrives before its `pong` (on one instance).
    pub async fn assert_none_before_pong(&mut self, unwanted: impl Fn(&ServerFrame) -> bool) {
        self.send(&ClientFrame::Ping).await;
        self.assert_none_before(unwanted, |f| *f == ServerFrame::Pong)
            .await;
    }

    /// Waits `wait`, failing on any data frame matching `unwanted` (for waits that are the
    /// point, like heartbeats; a negative check uses `assert_none_before`).
    pub async fn assert_none_within(
        &mut self,
        wait: Duration,
        unwanted: impl Fn(&ServerFrame) -> bool,
    ) {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.socket.next_frame(left).await {
                Ok(frame) => assert!(!unwanted(&frame), "unexpected frame {frame:?}"),
                Err(Ended::TimedOut) => return,
                Err(other) => panic!("socket ended: {other:?}"),
            }
        }
    }

    /// Waits for the server to close the socket, skipping data frames; returns the close code.
    pub async fn closed(&mut self) -> Closed {
        match self.socket.closed(FRAME_TIMEOUT).await {
            Ended::Closed(Some(code)) => Closed::WithCode(code),
            Ended::Closed(None) | Ended::Garbled(_) => Closed::WithoutCode,
            Ended::TimedOut => panic!("the socket closes within the timeout"),
        }
    }

    pub async fn close(self) {
        self.socket.close().await
    }
}

pub fn user_of(frame: &ServerFrame) -> Option<&User> {
    match frame {
        ServerFrame::Ready { user } => Some(user),
        _ => None,
    }
}
