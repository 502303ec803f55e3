//! Idle: K authenticated sockets held open; server RSS per open socket. A few hundred users
//! each hold many sockets (one token per user, as browser tabs would). With a spawned
//! server the users are registered first and the server is then restarted on the same
//! database, so the Argon2 work of registration does not leave freed heap behind that the
//! sockets would quietly reuse.

use super::Ctx;
use crate::api::{register_many, send_frame, Ws};
use crate::report::{Report, TargetCheck};
use crate::server::{open_files_limit, sample_all, Monitor};
use crate::track::{now_us, Latency};
use anyhow::{bail, Result};
use futures_util::StreamExt;
use shared::{ClientFrame, ServerFrame};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message as WsMessage;

#[derive(Debug, Clone, clap::Args)]
pub struct IdleArgs {
    /// Sockets to hold open [10000; quick 100].
    #[arg(long)]
    pub sockets: Option<usize>,
    /// Users sharing them [200; quick 5].
    #[arg(long)]
    pub users: Option<usize>,
    /// Seconds to hold every socket open before measuring (the server pings every 15 s
    /// and drops sockets silent for 45 s; the held sockets answer) [20; quick 2].
    #[arg(long)]
    pub hold_secs: Option<u64>,
    /// Sockets opening at once [64].
    #[arg(long, default_value_t = 64)]
    pub connect_concurrency: usize,
    /// Keep the spawned server running after registration instead of restarting it.
    #[arg(long)]
    pub no_restart: bool,
}

/// Each held socket: reads (so the server's pings are answered) and pings on request.
struct Held {
    alive: Arc<AtomicU64>,
    rtts: Arc<Mutex<Vec<u32>>>,
}

pub async fn run(ctx: &mut Ctx, args: &IdleArgs) -> Result<Report> {
    let sockets = args
        .sockets
        .unwrap_or(if ctx.quick { 100 } else { 10_000 })
        .max(1);
    let users_n = args
        .users
        .unwrap_or(if ctx.quick { 5 } else { 200 })
        .clamp(1, sockets);
    let hold = args.hold_secs.unwrap_or(if ctx.quick { 2 } else { 20 });
    let mut report = Report::new("idle");
    report.param("sockets", sockets);
    report.param("users", users_n);
    report.param("hold_secs", hold);

    if let Some(limit) = open_files_limit() {
        if (limit as usize) < sockets + 256 {
            bail!(
                "the open-file limit is {limit}, too low for {sockets} sockets: run `ulimit -n 65536` first"
            );
        }
    }
    let prefix = ctx.prefix("i");
    let names = (0..users_n).map(|i| format!("{prefix}{i}")).collect();
    let accounts = register_many(&ctx.api, names, ctx.register_concurrency).await?;
    let restart = ctx.server.is_spawned() && !args.no_restart;
    if restart {
        ctx.server.restart().await?;
        report.note("server restarted after registration; baseline RSS is a fresh process on the same database");
    } else {
        report.note("server not restarted after registration: the heap Argon2 freed may be reused by the sockets, so RSS per socket may read low");
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let pids = ctx.pids().to_vec();
    let before = sample_all(&pids);
    let monitor = Monitor::start(&pids);

    let (stop_tx, stop_rx) = watch::channel(false);
    let (ping_tx, ping_rx) = watch::channel(0u64);
    let held = Held {
        alive: Arc::new(AtomicU64::new(0)),
        rtts: Arc::new(Mutex::new(Vec::new())),
    };
    let connect_started = now_us();
    let half_rss = Arc::new(Mutex::new(None));
    let opened: Vec<Result<tokio::task::JoinHandle<()>>> = futures_util::stream::iter(0..sockets)
        .map(|i| {
            let api = ctx.api.clone();
            let token = accounts[i % accounts.len()].token.clone();
            let (stop_rx, ping_rx) = (stop_rx.clone(), ping_rx.clone());
            let (alive, rtts, errors) = (held.alive.clone(), held.rtts.clone(), ctx.errors.clone());
            let half_rss = half_rss.clone();
            let pids = pids.clone();
            async move {
                let (ws, _) = api.connect_ws(&token, true).await?;
                let count = alive.fetch_add(1, Ordering::Relaxed) + 1;
                if count as usize == sockets / 2 {
                    if let Ok(mut h) = half_rss.lock() {
                        *h = sample_all(&pids);
                    }
                }
                Ok(tokio::spawn(hold_socket(
                    ws, alive, rtts, errors, stop_rx, ping_rx,
                )))
            }
        })
        .buffer_unordered(args.connect_concurrency.max(1))
        .collect()
        .await;
    let connect_secs = (now_us() - connect_started) as f64 / 1e6;
    let mut tasks = Vec::new();
    let mut failed = 0;
    for o in opened {
        match o {
            Ok(t) => tasks.push(t),
            Err(e) => {
                failed += 1;
                ctx.errors.add(format!("socket did not open: {e:#}"));
            }
        }
    }
    tokio::time::sleep(Duration::from_secs(hold)).await;
    let after = sample_all(&pids);
    let half = half_rss.lock().ok().and_then(|h| *h);

    // Liveness: every held socket sends a ping and must get its pong.
    let _ = ping_tx.send(1);
    let deadline = tokio::time::Instant::now() + ctx.drain_wait();
    loop {
        let answered = held.rtts.lock().map(|r| r.len()).unwrap_or(0);
        if answered + failed >= sockets || tokio::time::Instant::now() >= deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let usage = monitor.finish();
    let rtts = held.rtts.lock().map(|r| r.clone()).unwrap_or_default();
    let alive = held.alive.load(Ordering::Relaxed);
    let _ = stop_tx.send(true);
    for t in tasks {
        let _ = tokio::time::timeout(Duration::from_secs(5), t).await;
    }

    report.metric(
        "sockets_open",
        alive,
        format!("{alive} of {sockets} sockets open and authenticated after {hold} s ({connect_secs:.1} s to open)"),
    );
    if (rtts.len() as u64) < alive {
        ctx.errors.add(format!(
            "{} of {alive} open sockets did not answer a ping",
            alive - rtts.len() as u64
        ));
    }
    let ping = Latency::from_us(rtts);
    report.metric(
        "ping_rtt",
        ping,
        format!("ping → pong on every socket at once: {}", ping.brief()),
    );
    if let (Some(b), Some(a)) = (before, after) {
        let per = (a.rss_kib as f64 - b.rss_kib as f64) / sockets as f64;
        report.metric(
            "rss_per_socket_kib",
            (per * 100.0).round() / 100.0,
            format!(
                "{per:.2} KiB per socket (RSS {:.1} → {:.1} MiB)",
                b.rss_kib as f64 / 1024.0,
                a.rss_kib as f64 / 1024.0
            ),
        );
        report.metric("rss_before_kib", b.rss_kib, format!("{} KiB", b.rss_kib));
        report.metric("rss_after_kib", a.rss_kib, format!("{} KiB", a.rss_kib));
        if let Some(h) = half {
            let second_half = sockets - sockets / 2;
            let slope = (a.rss_kib as f64 - h.rss_kib as f64) / second_half as f64;
            report.metric(
                "rss_per_socket_second_half_kib",
                (slope * 100.0).round() / 100.0,
                format!("{slope:.2} KiB per socket over the second half of the sockets"),
            );
        }
        report.targets.push(TargetCheck::at_most(
            "idle RSS per socket",
            (per * 100.0).round() / 100.0,
            16.0,
            "KiB",
        ));
    } else {
        report.note("no server PID: give --server-pid to measure RSS per socket");
    }
    report.checks.sent = sockets as u64;
    report.checks.acked = alive;
    report.checks.delivered = ping.count as u64;
    report.checks.errors = ctx.errors.count();
    report.checks.error_samples = ctx.errors.samples();
    report.usage = Some(usage);
    Ok(report)
}

async fn hold_socket(
    mut ws: Ws,
    alive: Arc<AtomicU64>,
    rtts: Arc<Mutex<Vec<u32>>>,
    errors: Arc<crate::report::Errors>,
    mut stop: watch::Receiver<bool>,
    mut ping: watch::Receiver<u64>,
) {
    let mut ping_sent: Option<u64> = None;
    let mut ping_open = true;
    loop {
        let event = tokio::select! {
            next = ws.next() => Event::Frame(next),
            changed = ping.changed(), if ping_open => Event::Ping(changed.is_ok()),
            _ = stop.wait_for(|s| *s) => Event::Stop,
        };
        let ended = match event {
            Event::Frame(Some(Ok(WsMessage::Text(text)))) => {
                if let Ok(ServerFrame::Pong) = serde_json::from_str(&text) {
                    if let Some(sent) = ping_sent.take() {
                        let rtt = now_us().saturating_sub(sent).min(u64::from(u32::MAX)) as u32;
                        if let Ok(mut r) = rtts.lock() {
                            r.push(rtt);
                        }
                    }
                }
                None
            }
            Event::Frame(Some(Ok(WsMessage::Close(frame)))) => {
                Some(format!("idle socket closed by the server: {frame:?}"))
            }
            Event::Frame(Some(Ok(_))) => None,
            Event::Frame(Some(Err(e))) => Some(format!("idle socket error: {e}")),
            Event::Frame(None) => Some("idle socket ended".to_owned()),
            Event::Ping(false) => {
                ping_open = false;
                None
            }
            Event::Ping(true) => {
                ping_sent = Some(now_us());
                if let Err(e) = send_frame(&mut ws, &ClientFrame::Ping).await {
                    errors.add(format!("idle ping: {e:#}"));
                }
                None
            }
            Event::Stop => {
                let _ = tokio::time::timeout(Duration::from_secs(2), ws.close(None)).await;
                return;
            }
        };
        if let Some(why) = ended {
            if !*stop.borrow() {
                alive.fetch_sub(1, Ordering::Relaxed);
                errors.add(why);
            }
            return;
        }
    }
}

enum Event {
    Frame(Option<Result<WsMessage, tokio_tungstenite::tungstenite::Error>>),
    Ping(bool),
    Stop,
}
