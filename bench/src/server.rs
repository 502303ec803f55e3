//! The server under test: either one already running (`--url`, optionally `--server-pid`) or
//! one this tool starts itself (`--spawn`) with a fresh database and the benchmark's limits,
//! and stops again. Also reads the server's memory and CPU from /proc.

use anyhow::{anyhow, bail, Context, Result};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};

/// How to reach (or start) the server.
#[derive(Debug, Clone)]
pub struct ServerSpec {
    pub url: Option<String>,
    pub pids: Vec<u32>,
    pub spawn: Option<PathBuf>,
    pub database_url: Option<String>,
    pub ws_queue: Option<usize>,
    pub extra_env: Vec<(String, String)>,
}

/// A server ready to take requests.
pub struct Server {
    pub base: String,
    /// The server's processes (several behind a proxy): their RSS and CPU are summed.
    pub pids: Vec<u32>,
    /// `sqlite`, `postgres` or `external`.
    pub database: String,
    spawned: Option<Spawned>,
}

struct Spawned {
    child: Child,
    binary: PathBuf,
    database_url: String,
    env: Vec<(String, String)>,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

fn database_kind(url: &str) -> &'static str {
    if url.starts_with("postgres") {
        "postgres"
    } else if url.starts_with("sqlite") {
        "sqlite"
    } else {
        "unknown"
    }
}

impl Server {
    pub async fn start(spec: &ServerSpec) -> Result<Server> {
        match (&spec.spawn, &spec.url) {
            (Some(binary), _) => Self::spawn(spec, binary).await,
            (None, Some(url)) => {
                let base = url.trim_end_matches('/').to_owned();
                wait_healthy(&base, Duration::from_secs(10)).await?;
                Ok(Server {
                    base,
                    pids: spec.pids.clone(),
                    database: "external".into(),
                    spawned: None,
                })
            }
            (None, None) => bail!("give --url http://HOST:PORT or --spawn PATH/TO/chat-server"),
        }
    }

    async fn spawn(spec: &ServerSpec, binary: &Path) -> Result<Server> {
        let dir = tempfile::Builder::new()
            .prefix("chat-bench-")
            .tempdir()
            .context("temp dir")?;
        let database_url = match &spec.database_url {
            Some(url) => url.clone(),
            None => format!("sqlite://{}", dir.path().join("chat.db").display()),
        };
        let port = free_port()?;
        let raised = "1000000".to_owned();
        let mut env = vec![
            ("CHAT_BIND".to_owned(), format!("127.0.0.1:{port}")),
            ("DATABASE_URL".to_owned(), database_url.clone()),
            (
                "CHAT_STATIC_DIR".to_owned(),
                "/nonexistent-chat-bench-dist".to_owned(),
            ),
            ("CHAT_MESSAGES_PER_SECOND".to_owned(), raised.clone()),
            ("CHAT_MESSAGE_BURST".to_owned(), raised.clone()),
            ("CHAT_LOGIN_FAILURES_PER_MINUTE".to_owned(), raised.clone()),
            (
                "CHAT_LOGIN_FAILURES_PER_ADDRESS_PER_MINUTE".to_owned(),
                raised.clone(),
            ),
            ("CHAT_UPLOADS_PER_MINUTE".to_owned(), raised),
            // The run's own folder, whatever the database (never one in the repository).
            (
                "CHAT_UPLOAD_STORE".to_owned(),
                format!("file://{}", dir.path().join("uploads").display()),
            ),
            ("RUST_LOG".to_owned(), "warn".to_owned()),
        ];
        if let Some(queue) = spec.ws_queue {
            env.push(("CHAT_WS_QUEUE".to_owned(), queue.to_string()));
        }
        env.extend(spec.extra_env.iter().cloned());
        let log = dir.path().join("server.log");
        let mut spawned = Spawned {
            child: launch(binary, &env, &log)?,
            binary: binary.to_owned(),
            database_url,
            env,
            log,
            _dir: dir,
        };
        let base = format!("http://127.0.0.1:{port}");
        if let Err(e) = wait_healthy(&base, Duration::from_secs(60)).await {
            let tail = spawned.log_tail();
            let _ = spawned.child.start_kill();
            bail!("the spawned server did not become healthy: {e}\n{tail}");
        }
        let pids = spawned.child.id().into_iter().collect();
        Ok(Server {
            base,
            pids,
            database: database_kind(&spawned.database_url).to_owned(),
            spawned: Some(spawned),
        })
    }

    pub fn is_spawned(&self) -> bool {
        self.spawned.is_some()
    }

    /// The SQLite file of a spawned server (None for PostgreSQL or an external server).
    pub fn sqlite_path(&self) -> Option<PathBuf> {
        let url = &self.spawned.as_ref()?.database_url;
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))?;
        Some(PathBuf::from(path))
    }

    /// Bytes of the SQLite file and its WAL.
    pub fn database_bytes(&self) -> Option<u64> {
        let path = self.sqlite_path()?;
        let main = std::fs::metadata(&path).ok()?.len();
        let mut wal = path.clone().into_os_string();
        wal.push("-wal");
        Some(main + std::fs::metadata(wal).map(|m| m.len()).unwrap_or(0))
    }

    /// Bytes per table and index of the SQLite database (`dbstat`, through the `sqlite3`
    /// command when it is installed), largest first.
    pub async fn sqlite_table_bytes(&self) -> Option<Vec<(String, u64)>> {
        let path = self.sqlite_path()?;
        let query = "SELECT name, SUM(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC;";
        let mut command = Command::new("sqlite3");
        command
            .arg("-readonly")
            .arg("-separator")
            .arg("\t")
            .arg(&path)
            .arg(query)
            .stdin(std::process::Stdio::null())
            .kill_on_drop(true);
        let output = tokio::time::timeout(Duration::from_secs(180), command.output())
            .await
            .ok()?
            .ok()?;
        if !output.status.success() {
            return None;
        }
        let text = String::from_utf8_lossy(&output.stdout);
        let rows: Vec<(String, u64)> = text
            .lines()
            .filter_map(|l| {
                let (name, bytes) = l.split_once('\t')?;
                Some((name.to_owned(), bytes.trim().parse().ok()?))
            })
            .collect();
        (!rows.is_empty()).then_some(rows)
    }

    /// Stops the spawned server and starts a fresh process on the same database (same port),
    /// so memory is measured from a clean start. Only for spawned servers.
    pub async fn restart(&mut self) -> Result<()> {
        let spawned = self
            .spawned
            .as_mut()
            .ok_or_else(|| anyhow!("only a spawned server can be restarted"))?;
        terminate(&mut spawned.child).await;
        self.relaunch().await
    }

    /// Stops the spawned server, runs `chat-server seed ARGS` on its database (the server's
    /// environment, at most `within`), and starts the server again on the same port. Returns
    /// what seed printed (its JSON line). Only for spawned servers.
    pub async fn seed(&mut self, args: &[String], within: Duration) -> Result<String> {
        let spawned = self
            .spawned
            .as_mut()
            .ok_or_else(|| anyhow!("only a spawned server can be seeded"))?;
        terminate(&mut spawned.child).await;
        let mut command = Command::new(&spawned.binary);
        command
            .arg("seed")
            .args(args)
            .envs(spawned.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(std::process::Stdio::null())
            .kill_on_drop(true);
        let output = tokio::time::timeout(within, command.output()).await;
        let output = match output {
            Ok(out) => out.with_context(|| format!("running {} seed", spawned.binary.display()))?,
            Err(_) => bail!("chat-server seed did not finish within {within:?}"),
        };
        let stdout = String::from_utf8_lossy(&output.stdout).trim().to_owned();
        if !output.status.success() {
            bail!(
                "chat-server seed failed ({}): {}",
                output.status,
                String::from_utf8_lossy(&output.stderr)
            );
        }
        self.relaunch().await?;
        Ok(stdout)
    }

    /// Starts the spawned server's process again (the old one is gone) and waits for health.
    async fn relaunch(&mut self) -> Result<()> {
        let spawned = self
            .spawned
            .as_mut()
            .ok_or_else(|| anyhow!("only a spawned server can be restarted"))?;
        let started = Instant::now();
        loop {
            match launch(&spawned.binary, &spawned.env, &spawned.log) {
                Ok(child) => spawned.child = child,
                Err(e) => return Err(e),
            }
            match wait_healthy(&self.base, Duration::from_secs(30)).await {
                Ok(()) => break,
                // The port may still be held for a moment by the old process.
                Err(_) if started.elapsed() < Duration::from_secs(60) => {
                    let _ = spawned.child.start_kill();
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                Err(e) => bail!("restarted server not healthy: {e}\n{}", spawned.log_tail()),
            }
        }
        self.pids = spawned.child.id().into_iter().collect();
        Ok(())
    }

    /// Stops the server if this tool started it; a server given by `--url` is left alone.
    pub async fn stop(mut self) -> Option<String> {
        let spawned = self.spawned.as_mut()?;
        // An exit before we asked is a crash: report it with the log.
        let crashed = match spawned.child.try_wait() {
            Ok(Some(status)) => Some(format!(
                "the server exited by itself ({status}):\n{}",
                spawned.log_tail()
            )),
            _ => None,
        };
        terminate(&mut spawned.child).await;
        crashed
    }

    /// Whether a spawned server is still running (None for an external one).
    pub fn crashed(&mut self) -> Option<String> {
        let spawned = self.spawned.as_mut()?;
        match spawned.child.try_wait() {
            Ok(Some(status)) => Some(format!(
                "the server exited by itself ({status}):\n{}",
                spawned.log_tail()
            )),
            _ => None,
        }
    }
}

impl Spawned {
    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let from = lines.len().saturating_sub(30);
        lines[from..].join("\n")
    }
}

fn launch(binary: &Path, env: &[(String, String)], log: &Path) -> Result<Child> {
    let out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)?;
    let err = out.try_clone()?;
    let mut command = Command::new(binary);
    command
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdin(std::process::Stdio::null())
        .stdout(out)
        .stderr(err)
        .kill_on_drop(true);
    command
        .spawn()
        .with_context(|| format!("starting {}", binary.display()))
}

/// SIGTERM (through `kill`, this crate has no unsafe code), then SIGKILL after 10 s.
async fn terminate(child: &mut Child) {
    if let Some(pid) = child.id() {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(pid.to_string())
            .status()
            .await;
        if tokio::time::timeout(Duration::from_secs(10), child.wait())
            .await
            .is_ok()
        {
            return;
        }
    }
    let _ = child.start_kill();
    let _ = tokio::time::timeout(Duration::from_secs(5), child.wait()).await;
}

/// The project's one port picker (below the ephemeral range, so nothing else takes the port
/// before the server binds it).
fn free_port() -> Result<u16> {
    Ok(chat_client::free_port())
}

async fn wait_healthy(base: &str, within: Duration) -> Result<()> {
    let api = crate::api::Api::new(base)?;
    let deadline = Instant::now() + within;
    loop {
        match api.health().await {
            Ok(()) => return Ok(()),
            Err(e) if Instant::now() >= deadline => {
                return Err(e.context(format!("{base}/api/health")))
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

// ---------------------------------------------------------------------------------------
// /proc

/// Resident memory (KiB) and CPU time (clock ticks) of a process.
#[derive(Debug, Clone, Copy)]
pub struct ProcSample {
    pub rss_kib: u64,
    pub cpu_ticks: u64,
}

/// The sum over several processes; None when any cannot be read (or none is given).
pub fn sample_all(pids: &[u32]) -> Option<ProcSample> {
    if pids.is_empty() {
        return None;
    }
    let mut total = ProcSample {
        rss_kib: 0,
        cpu_ticks: 0,
    };
    for pid in pids {
        let s = sample(*pid)?;
        total.rss_kib += s.rss_kib;
        total.cpu_ticks += s.cpu_ticks;
    }
    Some(total)
}

pub fn sample(pid: u32) -> Option<ProcSample> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let rss_kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())?;
    Some(ProcSample {
        rss_kib,
        cpu_ticks: cpu_ticks(&format!("/proc/{pid}/stat"))?,
    })
}

fn cpu_ticks(path: &str) -> Option<u64> {
    let stat = std::fs::read_to_string(path).ok()?;
    parse_stat(&stat).map(|(_, ticks)| ticks)
}

/// (comm, utime + stime) of a `/proc/…/stat` line.
fn parse_stat(stat: &str) -> Option<(String, u64)> {
    // Fields after the command name (which may hold spaces) start at field 3 (state);
    // utime and stime are fields 14 and 15.
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let comm = stat.get(open + 1..close)?.to_owned();
    let rest = stat.get(close + 2..)?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((comm, utime + stime))
}

/// CPU ticks of every thread of the processes: (pid, tid) → (comm, ticks).
pub type ThreadTicks = std::collections::BTreeMap<(u32, u32), (String, u64)>;

pub fn thread_ticks(pids: &[u32]) -> ThreadTicks {
    let mut out = ThreadTicks::new();
    for pid in pids {
        let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
            continue;
        };
        for entry in dir.flatten() {
            let Some(tid) = entry.file_name().to_str().and_then(|t| t.parse().ok()) else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
                continue;
            };
            if let Some(parsed) = parse_stat(&stat) {
                out.insert((*pid, tid), parsed);
            }
        }
    }
    out
}

/// The group a thread's name belongs to: the name without a trailing lane or worker number
/// (`message-writer-0` → `message-writer`; actix's workers are `actix-rt|system` after the
/// kernel's 15-byte cut, the accept thread `actix-server ac`).
pub fn thread_group(comm: &str) -> String {
    let trimmed = comm.trim_end_matches(|c: char| c.is_ascii_digit());
    let trimmed = trimmed.strip_suffix('-').unwrap_or(trimmed);
    if trimmed.is_empty() {
        comm.to_owned()
    } else {
        trimmed.to_owned()
    }
}

/// CPU of one group of the server's threads over a phase.
#[derive(Debug, Clone, Serialize)]
pub struct ThreadGroupCpu {
    pub group: String,
    /// Threads of the group seen at the end (or only at the start, when they ended).
    pub threads: usize,
    pub cpu_seconds: f64,
    /// The busiest thread of the group, CPU seconds.
    pub max_thread_cpu_seconds: f64,
}

/// Per-group CPU between two samples; a thread born during the phase counts from zero, one
/// that ended is lost (its last ticks are not in the end sample).
pub fn thread_cpu(start: &ThreadTicks, end: &ThreadTicks) -> Vec<ThreadGroupCpu> {
    let tck = clock_ticks_per_sec();
    let mut groups: std::collections::BTreeMap<String, ThreadGroupCpu> = Default::default();
    for (key, (comm, ticks)) in end {
        let before = start.get(key).map_or(0, |(_, t)| *t);
        let seconds = ticks.saturating_sub(before) as f64 / tck;
        let name = thread_group(comm);
        let g = groups.entry(name.clone()).or_insert(ThreadGroupCpu {
            group: name,
            threads: 0,
            cpu_seconds: 0.0,
            max_thread_cpu_seconds: 0.0,
        });
        g.threads += 1;
        g.cpu_seconds += seconds;
        g.max_thread_cpu_seconds = g.max_thread_cpu_seconds.max(seconds);
    }
    let mut out: Vec<ThreadGroupCpu> = groups.into_values().collect();
    out.sort_by(|a, b| b.cpu_seconds.total_cmp(&a.cpu_seconds));
    out
}

pub fn self_cpu_ticks() -> Option<u64> {
    cpu_ticks("/proc/self/stat")
}

pub fn clock_ticks_per_sec() -> f64 {
    static TCK: OnceLock<f64> = OnceLock::new();
    *TCK.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(100.0)
    })
}

/// What the server (and this tool) used during one measured phase.
#[derive(Debug, Clone, Serialize)]
pub struct Usage {
    /// Peak server RSS seen while sampling every 100 ms (KiB).
    pub server_peak_rss_kib: Option<u64>,
    pub server_rss_start_kib: Option<u64>,
    pub server_rss_end_kib: Option<u64>,
    /// Server CPU time over the phase, as % of one core (200 = both cores of 2).
    pub server_cpu_pct: Option<f64>,
    pub server_cpu_seconds: Option<f64>,
    /// This load generator's own CPU over the phase, % of one core.
    pub client_cpu_pct: Option<f64>,
    /// Share of the phase during which some task of the machine waited for a CPU
    /// (/proc/pressure/cpu "some"): how crowded the machine was, this run included.
    pub cpu_pressure_pct: Option<f64>,
    /// The same for I/O (/proc/pressure/io "some"), e.g. fsyncs waiting behind other builds.
    pub io_pressure_pct: Option<f64>,
    pub load_at_end: Option<String>,
    pub wall_seconds: f64,
    /// The CPU pressure was over `PRESSURE_MARK_PCT`: a neighbour decided this figure.
    pub cpu_pressure_marked: bool,
    /// /proc/pressure/cpu "some avg10" when the phase started and ended (%).
    pub cpu_pressure_avg10_start: Option<f64>,
    pub cpu_pressure_avg10_end: Option<f64>,
    /// The server's CPU by thread group (`message-writer`, `actix-rt|system` = the workers,
    /// `password-hash`, …), busiest first. Spawned or `--server-pid` servers only.
    pub server_threads: Vec<ThreadGroupCpu>,
    /// Open file descriptors of the server(s) at the start and the end.
    pub server_fds_start: Option<u64>,
    pub server_fds_end: Option<u64>,
}

/// A run whose CPU pressure exceeds this share of the time is marked.
pub const PRESSURE_MARK_PCT: f64 = 30.0;

impl Usage {
    /// CPU seconds of the thread group `group` (e.g. `message-writer`).
    pub fn group_cpu(&self, group: &str) -> Option<f64> {
        self.server_threads
            .iter()
            .find(|g| g.group == group)
            .map(|g| g.cpu_seconds)
    }
}

/// `some avg10` of /proc/pressure/cpu.
fn pressure_avg10(resource: &str) -> Option<f64> {
    let text = std::fs::read_to_string(format!("/proc/pressure/{resource}")).ok()?;
    let some = text.lines().find(|l| l.starts_with("some"))?;
    some.split_whitespace()
        .find_map(|f| f.strip_prefix("avg10="))?
        .parse()
        .ok()
}

/// Open descriptors of the processes (summed); None when one cannot be read.
pub fn fd_count(pids: &[u32]) -> Option<u64> {
    if pids.is_empty() {
        return None;
    }
    let mut total = 0;
    for pid in pids {
        total += std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?.count() as u64;
    }
    Some(total)
}

/// Cumulative µs during which some task stalled on `resource` (cpu, io, memory).
fn pressure_total_us(resource: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/pressure/{resource}")).ok()?;
    let some = text.lines().find(|l| l.starts_with("some"))?;
    some.split_whitespace()
        .find_map(|f| f.strip_prefix("total="))?
        .parse()
        .ok()
}

/// Samples a server process in the background while a phase runs.
pub struct Monitor {
    pids: Vec<u32>,
    start: Option<ProcSample>,
    client_start: Option<u64>,
    cpu_pressure_start: Option<u64>,
    io_pressure_start: Option<u64>,
    avg10_start: Option<f64>,
    threads_start: ThreadTicks,
    fds_start: Option<u64>,
    t0: Instant,
    peak: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Monitor {
    pub fn start(pids: &[u32]) -> Monitor {
        let start = sample_all(pids);
        let peak = Arc::new(AtomicU64::new(start.map(|s| s.rss_kib).unwrap_or(0)));
        let stop = Arc::new(AtomicBool::new(false));
        let task = (!pids.is_empty()).then(|| {
            let peak = peak.clone();
            let stop = stop.clone();
            let pids = pids.to_vec();
            tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    if let Some(s) = sample_all(&pids) {
                        peak.fetch_max(s.rss_kib, Ordering::Relaxed);
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            })
        });
        Monitor {
            pids: pids.to_vec(),
            start,
            client_start: self_cpu_ticks(),
            cpu_pressure_start: pressure_total_us("cpu"),
            io_pressure_start: pressure_total_us("io"),
            avg10_start: pressure_avg10("cpu"),
            threads_start: thread_ticks(pids),
            fds_start: fd_count(pids),
            t0: Instant::now(),
            peak,
            stop,
            task,
        }
    }

    pub fn finish(mut self) -> Usage {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(task) = self.task.take() {
            task.abort();
        }
        let wall = self.t0.elapsed().as_secs_f64().max(1e-9);
        let tck = clock_ticks_per_sec();
        let end = sample_all(&self.pids);
        let threads_end = thread_ticks(&self.pids);
        if let Some(end) = end {
            self.peak.fetch_max(end.rss_kib, Ordering::Relaxed);
        }
        let cpu_seconds = match (self.start, end) {
            (Some(s), Some(e)) => Some(e.cpu_ticks.saturating_sub(s.cpu_ticks) as f64 / tck),
            _ => None,
        };
        let client_cpu = match (self.client_start, self_cpu_ticks()) {
            (Some(s), Some(e)) => Some(e.saturating_sub(s) as f64 / tck / wall * 100.0),
            _ => None,
        };
        let share = |start: Option<u64>, resource: &str| match (start, pressure_total_us(resource))
        {
            (Some(s), Some(e)) => Some(e.saturating_sub(s) as f64 / 1e6 / wall * 100.0),
            _ => None,
        };
        let cpu_pressure = share(self.cpu_pressure_start, "cpu");
        Usage {
            cpu_pressure_marked: cpu_pressure.is_some_and(|p| p > PRESSURE_MARK_PCT),
            cpu_pressure_avg10_start: self.avg10_start,
            cpu_pressure_avg10_end: pressure_avg10("cpu"),
            server_threads: thread_cpu(&self.threads_start, &threads_end),
            server_fds_start: self.fds_start,
            server_fds_end: fd_count(&self.pids),
            cpu_pressure_pct: cpu_pressure,
            io_pressure_pct: share(self.io_pressure_start, "io"),
            load_at_end: loadavg(),
            server_peak_rss_kib: self.start.map(|_| self.peak.load(Ordering::Relaxed)),
            server_rss_start_kib: self.start.map(|s| s.rss_kib),
            server_rss_end_kib: end.map(|s| s.rss_kib),
            server_cpu_pct: cpu_seconds.map(|c| c / wall * 100.0),
            server_cpu_seconds: cpu_seconds,
            client_cpu_pct: client_cpu,
            wall_seconds: wall,
        }
    }
}

/// The machine a figure was measured on.
#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    pub cores: usize,
    pub mem_total_kib: Option<u64>,
    pub loadavg_at_start: Option<String>,
    pub kernel: Option<String>,
    /// `model name` of /proc/cpuinfo.
    pub cpu_model: Option<String>,
    /// The disk's flush latency where the SQLite file lives: 4 KiB written and
    /// `fdatasync`ed, 32 times (as `dd bs=4k oflag=dsync`), p50/p90/max in ms.
    pub fsync_4k: Option<crate::track::Latency>,
    /// /proc/pressure/cpu "some avg10" when the scenario started (%).
    pub cpu_pressure_avg10: Option<f64>,
}

/// The model name of the first CPU.
pub fn cpu_model() -> Option<String> {
    let info = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    info.lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_owned())
}

/// 4 KiB writes, each followed by `fdatasync`, into a temporary file of `dir`: the latency
/// of one durable write (what a commit waits for), in µs per write.
pub fn fsync_probe(dir: &Path, writes: usize) -> Option<crate::track::Latency> {
    use std::io::{Seek, Write};
    let mut file = tempfile::Builder::new()
        .prefix("chat-bench-fsync-")
        .tempfile_in(dir)
        .ok()?;
    let block = [0x5au8; 4096];
    let mut samples = Vec::with_capacity(writes);
    for i in 0..writes {
        // Rewrite the same few blocks, as a database's WAL does, after a first append.
        let _ = file
            .as_file_mut()
            .seek(std::io::SeekFrom::Start((i % 4) as u64 * 4096));
        let started = Instant::now();
        file.as_file_mut().write_all(&block).ok()?;
        file.as_file_mut().sync_data().ok()?;
        samples.push(started.elapsed().as_micros().min(u128::from(u32::MAX)) as u32);
    }
    Some(crate::track::Latency::from_us(samples))
}

pub fn machine() -> Machine {
    let mem_total_kib = std::fs::read_to_string("/proc/meminfo").ok().and_then(|m| {
        m.lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
    });
    Machine {
        cores: std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        mem_total_kib,
        loadavg_at_start: loadavg(),
        kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .ok()
            .map(|s| s.trim().to_owned()),
        cpu_model: cpu_model(),
        fsync_4k: fsync_probe(&std::env::temp_dir(), 32),
        cpu_pressure_avg10: pressure_avg10("cpu"),
    }
}

pub fn loadavg() -> Option<String> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
}

/// The soft limit on open files of this process.
pub fn open_files_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn thread_groups_drop_the_number() {
        assert_eq!(super::thread_group("message-writer-0"), "message-writer");
        assert_eq!(super::thread_group("actix-rt|system"), "actix-rt|system");
        assert_eq!(super::thread_group("password-hash-12"), "password-hash");
        assert_eq!(super::thread_group("42"), "42");
    }

    #[test]
    fn stat_lines_give_the_name_and_the_ticks() {
        let stat = "123 (actix-rt|system) S 1 2 3 4 5 6 7 8 9 10 70 30 0 0 20 0 1 0";
        assert_eq!(
            super::parse_stat(stat),
            Some(("actix-rt|system".to_owned(), 100))
        );
    }

    #[test]
    fn the_machine_section_has_the_cpu_model_and_the_disk() {
        let m = super::machine();
        assert!(m.fsync_4k.is_some_and(|f| f.count == 32));
    }
}
