//! Real processes for the topology tests: a PostgreSQL database of its own, a private
//! `redis-server`, `chat-server` instances and a private nginx, each behind a guard that stops
//! it (by PID) when the test ends, passes or panics. Every wait here is bounded.

use diesel::connection::SimpleConnection;
use diesel::Connection;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The workspace root (nginx/ and scripts/ live there).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Set to 1 on a machine without nginx, Redis or moto to skip, loudly, the tests that need
/// them (`scripts/prod-test.sh` installs them); without it a missing tool is a failure.
const SKIP_MISSING: &str = "CHAT_TEST_SKIP_MISSING";

/// A topology test cannot run here: a failure that says what is missing, or, with
/// `CHAT_TEST_SKIP_MISSING=1`, a loud note and the caller returns.
pub fn skip(test: &str, why: &str) {
    if std::env::var(SKIP_MISSING).as_deref() != Ok("1") {
        panic!("{test}: {why} (install what is missing, or set {SKIP_MISSING}=1 to skip on this machine)");
    }
    let bar = "!".repeat(78);
    eprintln!("\n{bar}\n!!! SKIPPED ({SKIP_MISSING}=1) {test}: {why}\n{bar}\n");
}

/// An executable from `$env_var`, else `PATH`, else the usual sbin directories (nginx lives in
/// /usr/sbin, which is not on every PATH).
pub fn find_binary(name: &str, env_var: &str) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(env_var) {
        let path = PathBuf::from(path);
        return path.is_file().then_some(path);
    }
    let path_dirs = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path_dirs)
        .chain(["/usr/sbin", "/usr/local/sbin", "/sbin", "/usr/bin"].map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|candidate| {
            candidate
                .metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// What the topology needs from the machine.
#[derive(Debug, Clone)]
pub struct Tools {
    pub nginx: PathBuf,
    pub redis_server: PathBuf,
    /// A PostgreSQL URL allowed to create and drop databases.
    pub pg_admin_url: String,
}

impl Tools {
    /// `None` (after a loud skip message) when something is missing; panics under CI.
    pub fn detect(test: &str) -> Option<Tools> {
        let Some(nginx) = find_binary("nginx", "NGINX_BIN") else {
            skip(
                test,
                "no nginx binary (apt-get install nginx, or set NGINX_BIN)",
            );
            return None;
        };
        let Some(redis_server) = find_binary("redis-server", "REDIS_SERVER_BIN") else {
            skip(
                test,
                "no redis-server binary (apt-get install redis-server, or set REDIS_SERVER_BIN)",
            );
            return None;
        };
        let pg_admin_url = std::env::var("TOPOLOGY_PG_URL")
            .ok()
            .or_else(|| {
                std::env::var("TEST_DATABASE_URL")
                    .ok()
                    .filter(|u| u.starts_with("postgres"))
            })
            .unwrap_or_else(|| "postgres://root@127.0.0.1:5432/test".to_owned());
        if let Err(e) = diesel::PgConnection::establish(&pg_admin_url) {
            skip(
                test,
                &format!(
                    "PostgreSQL at {pg_admin_url} is not reachable ({e}); set TOPOLOGY_PG_URL"
                ),
            );
            return None;
        }
        Some(Tools {
            nginx,
            redis_server,
            pg_admin_url,
        })
    }
}

/// A port for a server a test starts (below the ephemeral range: see `chat_client`).
pub use chat_client::free_port;

fn unique_suffix() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    format!(
        "{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_micros()
    )
}

/// Sends `signal` (`TERM`, `KILL`, …) to one process by PID.
pub fn signal(pid: u32, signal: &str) {
    let _ = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// Direct children of `pid` (nginx's workers), from /proc.
fn children_of(pid: u32) -> Vec<(u32, String)> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|candidate| {
            let stat = std::fs::read_to_string(format!("/proc/{candidate}/stat")).ok()?;
            // pid (comm) state ppid …; comm may contain spaces, so split after the last ')'.
            let (head, rest) = stat.rsplit_once(')')?;
            let comm = head.split_once('(')?.1.to_owned();
            let ppid: u32 = rest.split_whitespace().nth(1)?.parse().ok()?;
            (ppid == pid).then_some((candidate, comm))
        })
        .collect()
}

fn comm_of(pid: u32) -> Option<String> {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .ok()
        .map(|s| s.trim().to_owned())
}

/// One child process, its output appended to a log file. Dropping it stops it: SIGTERM, a
/// bounded wait, then SIGKILL for it and any children it left.
pub struct Proc {
    name: String,
    child: Child,
    log: PathBuf,
    reaped: bool,
}

impl Proc {
    pub fn spawn(name: &str, mut command: Command, log: &Path) -> Proc {
        let out = OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .unwrap();
        let _ = writeln!(&out, "---- {name}: {command:?}");
        command
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out);
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name} ({command:?}): {e}"));
        Proc {
            name: name.to_owned(),
            child,
            log: log.to_owned(),
            reaped: false,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn is_running(&mut self) -> bool {
        !self.reaped && matches!(self.child.try_wait(), Ok(None))
    }

    /// The exit status, if it has exited.
    pub fn try_exit(&mut self) -> Option<std::process::ExitStatus> {
        match self.child.try_wait() {
            Ok(Some(status)) => {
                self.reaped = true;
                Some(status)
            }
            _ => None,
        }
    }

    /// `kill -9`: no goodbye, no cleanup, as a crash.
    pub fn kill9(&mut self) {
        if self.reaped {
            return;
        }
        let children = children_of(self.pid());
        let _ = self.child.kill();
        let _ = self.child.wait();
        for (pid, comm) in children {
            if comm_of(pid).as_deref() == Some(comm.as_str()) {
                signal(pid, "KILL");
            }
        }
        self.reaped = true;
    }

    /// SIGTERM, then up to `grace` for it to exit, then SIGKILL.
    pub fn terminate(&mut self, grace: Duration) {
        if self.reaped {
            return;
        }
        let children = children_of(self.pid());
        signal(self.pid(), "TERM");
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            if !matches!(self.child.try_wait(), Ok(None)) {
                break;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        if matches!(self.child.try_wait(), Ok(None)) {
            eprintln!("{} did not stop within {grace:?}; killing it", self.name);
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
        // nginx's workers exit with their master; anything left (same name, so not a reused
        // PID) is killed.
        for (pid, comm) in children {
            if comm_of(pid).as_deref() == Some(comm.as_str()) {
                signal(pid, "KILL");
            }
        }
        self.reaped = true;
    }

    /// The last `lines` lines of the log, for failure messages.
    pub fn log_tail(&self, lines: usize) -> String {
        log_tail(&self.log, lines)
    }
}

pub fn log_tail(path: &Path, lines: usize) -> String {
    let mut text = String::new();
    if let Ok(mut f) = File::open(path) {
        let _ = f.read_to_string(&mut text);
    }
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

impl Drop for Proc {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "---- last lines of {} ({}):\n{}\n----",
                self.name,
                self.log.display(),
                self.log_tail(40)
            );
        }
        self.terminate(Duration::from_secs(5));
    }
}

/// A database of its own on the PostgreSQL server, dropped afterwards.
pub struct PgDb {
    admin_url: String,
    pub name: String,
    pub url: String,
}

impl PgDb {
    pub fn create(admin_url: &str) -> PgDb {
        let name = format!("chat_topology_{}", unique_suffix());
        let mut conn = diesel::PgConnection::establish(admin_url).unwrap();
        conn.batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap();
        let base = admin_url.rsplit_once('/').map(|(b, _)| b).unwrap();
        PgDb {
            admin_url: admin_url.to_owned(),
            url: format!("{base}/{name}"),
            name,
        }
    }
}

impl Drop for PgDb {
    fn drop(&mut self) {
        if let Ok(mut conn) = diesel::PgConnection::establish(&self.admin_url) {
            let _ = conn.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

/// A private redis-server on a port of its own, so a test can stop and restart it.
pub struct Redis {
    bin: PathBuf,
    dir: PathBuf,
    pub port: u16,
    proc: Option<Proc>,
    /// `redis-cli monitor` into redis/monitor.log, with `TOPOLOGY_REDIS_MONITOR=1` (debugging).
    monitor: Option<Proc>,
}

impl Redis {
    pub fn start(bin: &Path, dir: &Path) -> Redis {
        let dir = dir.join("redis");
        std::fs::create_dir_all(&dir).unwrap();
        let mut redis = Redis {
            bin: bin.to_owned(),
            dir,
            port: free_port(),
            proc: None,
            monitor: None,
        };
        redis.spawn();
        redis
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn spawn(&mut self) {
        let mut command = Command::new(&self.bin);
        command.args([
            "--port",
            &self.port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "no",
            "--dir",
            self.dir.to_str().unwrap(),
        ]);
        let mut proc = Proc::spawn("redis-server", command, &self.dir.join("redis.log"));
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if redis_ping(self.port) {
                break;
            }
            assert!(
                proc.is_running(),
                "redis-server exited:\n{}",
                proc.log_tail(20)
            );
            assert!(
                Instant::now() < deadline,
                "redis-server did not answer PING within 10 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        self.proc = Some(proc);
        if std::env::var_os("TOPOLOGY_REDIS_MONITOR").is_some() {
            let mut monitor = Command::new(self.bin.with_file_name("redis-cli"));
            monitor.args(["-p", &self.port.to_string(), "monitor"]);
            self.monitor = Some(Proc::spawn(
                "redis-cli monitor",
                monitor,
                &self.dir.join("monitor.log"),
            ));
        }
    }

    /// Stops the server (SIGTERM; it keeps nothing on disk, so everything in it is gone).
    pub fn stop(&mut self) {
        self.monitor = None;
        if let Some(mut proc) = self.proc.take() {
            proc.terminate(Duration::from_secs(5));
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while redis_ping(self.port) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Starts it again on the same port.
    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
    }
}

/// `PING` → `+PONG` over a plain TCP connection.
pub fn redis_ping(port: u16) -> bool {
    let Ok(mut stream) =
        TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(200))
    else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    if stream.write_all(b"PING\r\n").is_err() {
        return false;
    }
    let mut buf = [0u8; 16];
    matches!(stream.read(&mut buf), Ok(n) if buf[..n].starts_with(b"+PONG"))
}

/// How to start a `chat-server` instance.
#[derive(Debug, Clone, Default)]
pub struct InstanceConfig {
    pub database_url: String,
    pub redis_url: Option<String>,
    pub static_dir: PathBuf,
    pub allowed_origins: Vec<String>,
    pub extra_env: Vec<(String, String)>,
}

/// One `chat-server` process (the binary this package builds).
pub struct ChatServer {
    pub index: usize,
    pub port: u16,
    log: PathBuf,
    proc: Proc,
}

impl ChatServer {
    pub fn spawn(index: usize, config: &InstanceConfig, dir: &Path) -> ChatServer {
        let port = free_port();
        let log = dir.join(format!("chat-server-{index}.log"));
        let mut command = Command::new(env!("CARGO_BIN_EXE_chat-server"));
        // Nothing from the caller's environment leaks in (a stray DATABASE_URL or CHAT_*).
        command
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("CHAT_BIND", format!("127.0.0.1:{port}"))
            .env("DATABASE_URL", &config.database_url)
            .env("CHAT_STATIC_DIR", &config.static_dir)
            .env("CHAT_TRUSTED_PROXIES", "127.0.0.1")
            .env("CHAT_WORKERS", "2")
            .env("CHAT_DB_POOL_SIZE", "8")
            .env(
                "RUST_LOG",
                std::env::var("TOPOLOGY_LOG").unwrap_or_else(|_| "info".into()),
            );
        if let Some(redis) = &config.redis_url {
            command.env("REDIS_URL", redis);
        }
        if !config.allowed_origins.is_empty() {
            command.env("CHAT_ALLOWED_ORIGINS", config.allowed_origins.join(","));
        }
        // The instances of one topology share a folder of the test's own, unless told
        // otherwise (never one inside the repository).
        command.env(
            "CHAT_UPLOAD_STORE",
            format!("file://{}", dir.join("uploads").display()),
        );
        for (key, value) in &config.extra_env {
            command.env(key, value);
        }
        let proc = Proc::spawn(&format!("chat-server #{index}"), command, &log);
        ChatServer {
            index,
            port,
            log,
            proc,
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn ws_url(&self) -> String {
        format!("ws://127.0.0.1:{}/ws", self.port)
    }

    pub fn pid(&self) -> u32 {
        self.proc.pid()
    }

    /// Waits (at most 60 s) until `/api/health` answers 200.
    pub async fn wait_healthy(&mut self) {
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(r) = client
                .get(format!("{}/api/health", self.url()))
                .timeout(Duration::from_secs(2))
                .send()
                .await
            {
                if r.status().is_success() {
                    return;
                }
            }
            assert!(
                self.proc.is_running(),
                "chat-server #{} exited during start-up:\n{}",
                self.index,
                log_tail(&self.log, 30)
            );
            assert!(
                Instant::now() < deadline,
                "chat-server #{} not healthy within 60 s:\n{}",
                self.index,
                log_tail(&self.log, 30)
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub fn kill9(&mut self) {
        self.proc.kill9();
    }

    /// SIGTERM, then waits (at most `grace`) for the process to exit by itself; its status.
    pub async fn sigterm(&mut self, grace: Duration) -> Option<std::process::ExitStatus> {
        signal(self.pid(), "TERM");
        let deadline = Instant::now() + grace;
        loop {
            if let Some(status) = self.proc.try_exit() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

/// A private nginx rendered from the repository's template by `nginx/render.sh private`.
pub struct Nginx {
    pub port: u16,
    /// Held only to be stopped when dropped.
    proc: Proc,
}

/// Renders the config into `prefix` for these upstream ports; returns render.sh's output.
pub fn render_nginx(prefix: &Path, listen_port: u16, upstreams: &[u16], dist: &Path) -> String {
    let upstreams: Vec<String> = upstreams.iter().map(|p| format!("127.0.0.1:{p}")).collect();
    let out = Command::new("bash")
        .arg(repo_root().join("nginx/render.sh"))
        .arg("private")
        .arg(prefix)
        .env("NGINX_LISTEN", format!("127.0.0.1:{listen_port}"))
        .env("NGINX_SERVER_NAME", "_")
        .env("NGINX_UPSTREAMS", upstreams.join(" "))
        .env("NGINX_DIST", dist)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "nginx/render.sh failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `nginx -t` on a rendered prefix: (success, nginx's output).
pub fn nginx_config_test(nginx: &Path, prefix: &Path) -> (bool, String) {
    let out = Command::new(nginx)
        .arg("-t")
        .arg("-p")
        .arg(prefix)
        .args(["-c", "conf/nginx.conf", "-e", "stderr"])
        .output()
        .unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

impl Nginx {
    pub fn start(bin: &Path, dir: &Path, upstreams: &[u16], dist: &Path) -> Nginx {
        let prefix = dir.join("nginx");
        let port = free_port();
        render_nginx(&prefix, port, upstreams, dist);
        let (ok, output) = nginx_config_test(bin, &prefix);
        assert!(ok, "nginx -t failed on the rendered config:\n{output}");
        let mut command = Command::new(bin);
        command.arg("-p").arg(&prefix).args([
            "-c",
            "conf/nginx.conf",
            "-e",
            "stderr",
            "-g",
            "daemon off;",
        ]);
        let mut proc = Proc::spawn("nginx", command, &prefix.join("logs/stderr.log"));
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(proc.is_running(), "nginx exited:\n{}", proc.log_tail(20));
            assert!(Instant::now() < deadline, "nginx not listening within 10 s");
            std::thread::sleep(Duration::from_millis(50));
        }
        Nginx { port, proc }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn ws_url(&self) -> String {
        format!("ws://127.0.0.1:{}/ws", self.port)
    }

    /// `nginx -s reload`: new workers take new connections, the old ones finish theirs.
    pub fn reload(&self) {
        signal(self.proc.pid(), "HUP");
    }
}

/// The trunk-like bundle the tests serve: an index.html with an inline module bootstrap
/// script, hashed JS/wasm/CSS (the CSS also pre-compressed), an unhashed runtime config.
pub struct FakeDist {
    pub dir: PathBuf,
    pub js: &'static str,
    pub wasm: &'static str,
    pub css: &'static str,
    pub inline_script: String,
}

pub fn fake_dist(parent: &Path) -> FakeDist {
    let dir = parent.join("dist");
    std::fs::create_dir_all(&dir).unwrap();
    let js = "frontend-0f1e2d3c4b5a6978.js";
    let wasm = "frontend-0f1e2d3c4b5a6978_bg.wasm";
    let css = "styles-55e804951ed18478.css";
    let inline_script = format!(
        "\nimport init, * as bindings from '/{js}';\nconst wasm = await init({{ module_or_path: '/{wasm}' }});\nwindow.wasmBindings = bindings;\n"
    );
    let index = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Chat</title>\
         <link rel=\"stylesheet\" href=\"/{css}\">\
         <link rel=\"modulepreload\" href=\"/{js}\">\
         <script type=\"module\">{inline_script}</script></head><body></body></html>\n"
    );
    std::fs::write(dir.join("index.html"), index).unwrap();
    std::fs::write(
        dir.join(js),
        "export default async function init() { return {}; }\n".repeat(40),
    )
    .unwrap();
    // A valid (empty) wasm module followed by a custom section, large enough to be gzipped.
    let mut module = b"\0asm\x01\0\0\0".to_vec();
    let payload = [b"\x04name".as_slice(), &[7u8; 4000]].concat();
    module.push(0); // custom section id
    let mut len = payload.len();
    loop {
        let byte = (len & 0x7f) as u8;
        len >>= 7;
        if len == 0 {
            module.push(byte);
            break;
        }
        module.push(byte | 0x80);
    }
    module.extend_from_slice(&payload);
    std::fs::write(dir.join(wasm), module).unwrap();
    std::fs::write(
        dir.join(css),
        "body { font-family: system-ui, sans-serif; color: #111; }\n".repeat(40),
    )
    .unwrap();
    let gz = Command::new("gzip")
        .args(["-k", "-9", "-n"])
        .arg(dir.join(css))
        .status()
        .unwrap();
    assert!(gz.success(), "gzip failed");
    // The wasm with a brotli sibling, as the build writes it (for brotli_static).
    let br = Command::new("brotli")
        .args(["-k", "-q", "11"])
        .arg(dir.join(wasm))
        .status()
        .expect("brotli (Debian's brotli package; scripts/frontend-tools.sh installs it)");
    assert!(br.success(), "brotli failed");
    std::fs::write(
        dir.join("config.json"),
        "{\"api_base\": \"\", \"ws_url\": \"\"}\n",
    )
    .unwrap();
    make_world_readable(&dir);
    FakeDist {
        dir,
        js,
        wasm,
        css,
        inline_script,
    }
}

/// nginx workers run as `nobody`: directories 0755, files 0644.
pub fn make_world_readable(path: &Path) {
    let meta = std::fs::metadata(path).unwrap();
    if meta.is_dir() {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
        for entry in std::fs::read_dir(path).unwrap() {
            make_world_readable(&entry.unwrap().path());
        }
    } else {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
}

/// A directory for one test's configs and logs; kept with `TOPOLOGY_KEEP=1`.
pub struct TestDir {
    path: PathBuf,
    _guard: Option<tempfile::TempDir>,
}

impl TestDir {
    pub fn new(test: &str) -> TestDir {
        let temp = tempfile::Builder::new()
            .prefix(&format!("topology-{test}-"))
            .tempdir()
            .unwrap();
        std::fs::set_permissions(temp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let path = temp.path().to_owned();
        let guard = if std::env::var_os("TOPOLOGY_KEEP").is_some() {
            eprintln!("{test}: keeping {}", path.display());
            let _ = temp.keep();
            None
        } else {
            Some(temp)
        };
        TestDir {
            path,
            _guard: guard,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// What a test wants started.
#[derive(Debug, Clone)]
pub struct Options {
    pub instances: usize,
    pub allowed_origins: Vec<String>,
    pub extra_env: Vec<(String, String)>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            instances: 2,
            allowed_origins: Vec::new(),
            extra_env: Vec::new(),
        }
    }
}

/// nginx → N chat-servers → PostgreSQL + Redis. Fields drop in order: the front first, the
/// database last.
pub struct Topology {
    pub nginx: Nginx,
    pub instances: Vec<ChatServer>,
    pub redis: Redis,
    /// Held so the database is dropped after the processes that use it.
    _db: PgDb,
    pub dist: FakeDist,
    /// Held so the directory (configs, logs) outlives every process.
    _dir: TestDir,
}

impl Topology {
    /// Starts everything, or returns `None` after a loud skip when a tool is missing.
    pub async fn start(test: &str, options: Options) -> Option<Topology> {
        let tools = Tools::detect(test)?;
        let dir = TestDir::new(test);
        let dist = fake_dist(dir.path());
        let db = PgDb::create(&tools.pg_admin_url);
        let redis = Redis::start(&tools.redis_server, dir.path());
        let config = InstanceConfig {
            database_url: db.url.clone(),
            redis_url: Some(redis.url()),
            static_dir: dist.dir.clone(),
            allowed_origins: options.allowed_origins.clone(),
            extra_env: options.extra_env.clone(),
        };
        let mut instances = Vec::new();
        // One after the other: the first applies the migrations on the fresh database.
        for index in 1..=options.instances {
            let mut instance = ChatServer::spawn(index, &config, dir.path());
            instance.wait_healthy().await;
            instances.push(instance);
        }
        let ports: Vec<u16> = instances.iter().map(|i| i.port).collect();
        let nginx = Nginx::start(&tools.nginx, dir.path(), &ports, &dist.dir);
        Some(Topology {
            nginx,
            instances,
            redis,
            _db: db,
            dist,
            _dir: dir,
        })
    }

    pub fn database_url(&self) -> &str {
        &self._db.url
    }

    pub fn instance(&self, number: usize) -> &ChatServer {
        &self.instances[number - 1]
    }

    pub fn instance_mut(&mut self, number: usize) -> &mut ChatServer {
        &mut self.instances[number - 1]
    }
}

/// The local S3 server; stopped (by its PID file) when dropped.
pub struct S3Local {
    pub dir: PathBuf,
    pub port: u16,
}

pub fn s3_local(dir: &Path, port: u16, action: &str) -> Output {
    Command::new("bash")
        .arg(repo_root().join("deploy/s3-local.sh"))
        .arg(action)
        .env("S3_LOCAL_DIR", dir)
        .env("S3_LOCAL_PORT", port.to_string())
        .output()
        .unwrap()
}

impl Drop for S3Local {
    fn drop(&mut self) {
        let out = s3_local(&self.dir, self.port, "stop");
        if !out.status.success() {
            eprintln!("s3-local stop: {}", String::from_utf8_lossy(&out.stderr));
        }
    }
}
