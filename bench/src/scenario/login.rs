//! Login storm: L logins at once (Argon2 on the server) while a few steady pairs exchange
//! messages and one socket pings; the websocket latency during the storm must stay low.

use super::pairs::{connect_pairs, join_senders, setup_pairs, shut_down, totals, wait_drained};
use super::Ctx;
use crate::api::{register_many, send_frame};
use crate::report::{Report, TargetCheck};
use crate::server::Monitor;
use crate::track::{describe_slow_seconds, now_us, slow_seconds, Latency};
use anyhow::Result;
use futures_util::StreamExt;
use shared::{ClientFrame, ServerFrame};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message as WsMessage;

#[derive(Debug, Clone, clap::Args)]
pub struct LoginArgs {
    /// Logins fired at once [200; quick 10].
    #[arg(long)]
    pub logins: Option<usize>,
    /// Probe pairs exchanging messages during the storm [4].
    #[arg(long, default_value_t = 4)]
    pub probe_pairs: usize,
    /// Messages per second per probe sender [20].
    #[arg(long, default_value_t = 20.0)]
    pub probe_rate: f64,
    /// Milliseconds between pings on the probe socket [20].
    #[arg(long, default_value_t = 20)]
    pub ping_ms: u64,
    /// Seconds of probe traffic before the storm (the baseline) [2].
    #[arg(long, default_value_t = 2)]
    pub baseline_secs: u64,
}

pub async fn run(ctx: &Ctx, args: &LoginArgs) -> Result<Report> {
    let logins = args
        .logins
        .unwrap_or(if ctx.quick { 10 } else { 200 })
        .max(1);
    let rate = if args.probe_rate > 0.0 && args.probe_rate.is_finite() {
        args.probe_rate
    } else {
        20.0
    };
    let mut report = Report::new("login-storm");
    report.param("logins", logins);
    report.param("probe_pairs", args.probe_pairs);
    report.param("probe_rate", rate);
    report.param("ping_ms", args.ping_ms);

    let prefix = ctx.prefix("l");
    let names: Vec<String> = (0..logins).map(|i| format!("{prefix}x{i}")).collect();
    register_many(&ctx.api, names.clone(), ctx.register_concurrency).await?;
    let pairs = setup_pairs(
        &ctx.api,
        &format!("{prefix}p"),
        args.probe_pairs.max(1),
        ctx.register_concurrency,
    )
    .await?;
    let pinger = register_many(&ctx.api, vec![format!("{prefix}ping")], 1).await?;
    let (stop_tx, stop_rx) = watch::channel(false);
    let (senders, readers) =
        connect_pairs(&ctx.api, &pairs, 1 << 20, &prefix, &ctx.errors, &stop_rx).await?;
    let pinger_token = pinger.first().map(|p| p.token.clone()).unwrap_or_default();
    let (ping_ws, _) = ctx.api.connect_ws(&pinger_token, false).await?;

    let monitor = Monitor::start(ctx.pids());
    let probe_start = now_us();
    // Probe traffic until `stop`.
    let (probe_stop_tx, probe_stop_rx) = watch::channel(false);
    let mut probe_tasks = Vec::new();
    let period = Duration::from_secs_f64(1.0 / rate);
    let n_pairs = senders.len().max(1);
    for (i, mut sender) in senders.into_iter().enumerate() {
        let errors = ctx.errors.clone();
        let mut stop = probe_stop_rx.clone();
        let phase = period.mul_f64(i as f64 / n_pairs as f64);
        let wait = ctx.ack_wait();
        probe_tasks.push(tokio::spawn(async move {
            let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + phase, period);
            let mut n = 0;
            loop {
                tokio::select! {
                    _ = ticks.tick() => {}
                    _ = stop.wait_for(|s| *s) => break,
                }
                if let Err(e) = sender.send(n, 100, wait).await {
                    errors.add(format!("{e:#}"));
                    break;
                }
                n += 1;
            }
            sender
        }));
    }
    let rtts: Arc<Mutex<Vec<(u64, u32)>>> = Arc::default();
    let ping_task = tokio::spawn(ping_loop(
        ping_ws,
        Duration::from_millis(args.ping_ms.max(1)),
        ctx.ack_wait(),
        rtts.clone(),
        ctx.errors.clone(),
        probe_stop_rx.clone(),
    ));

    tokio::time::sleep(Duration::from_secs(args.baseline_secs)).await;

    // The storm: every login released at once.
    let barrier = Arc::new(tokio::sync::Barrier::new(logins + 1));
    let mut login_tasks = Vec::new();
    for name in names {
        let api = ctx.api.clone();
        let barrier = barrier.clone();
        login_tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            let started = now_us();
            let result = api.login(&name).await;
            (started, now_us(), result.map(|_| ()))
        }));
    }
    barrier.wait().await;
    let storm_start = now_us();
    let mut login_lat = Vec::new();
    let mut storm_end = storm_start;
    for t in login_tasks {
        match t.await {
            Ok((started, ended, Ok(()))) => {
                login_lat.push(ended.saturating_sub(started).min(u64::from(u32::MAX)) as u32);
                storm_end = storm_end.max(ended);
            }
            Ok((_, ended, Err(e))) => {
                storm_end = storm_end.max(ended);
                ctx.errors.add(format!("login: {e:#}"));
            }
            Err(e) => ctx.errors.add(format!("login task: {e}")),
        }
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let _ = probe_stop_tx.send(true);
    let finished = join_senders(probe_tasks, &ctx.errors).await;
    let _ = ping_task.await;
    let drained = wait_drained(&pairs, ctx.drain_wait()).await;
    let usage = monitor.finish();
    if !drained {
        ctx.errors
            .add("not every acknowledged message arrived before the drain timeout");
    }
    shut_down(&stop_tx, finished, readers).await;

    let t = totals(&pairs, &ctx.errors);
    let rtts = rtts.lock().map(|r| r.clone()).unwrap_or_default();
    let during = |samples: &[(u64, u32)], inside: bool| -> Vec<u32> {
        samples
            .iter()
            .filter(|(at, _)| (*at >= storm_start && *at <= storm_end) == inside)
            .map(|(_, l)| *l)
            .collect()
    };
    let mut storm_ws = during(&t.latencies, true);
    storm_ws.extend(during(&rtts, true));
    let mut calm_ws = during(&t.latencies, false);
    calm_ws.extend(during(&rtts, false));
    let storm_lat = Latency::from_us(storm_ws);
    let calm_lat = Latency::from_us(calm_ws);
    let msg_storm = Latency::from_us(during(&t.latencies, true));
    let ping_storm = Latency::from_us(during(&rtts, true));
    let login = Latency::from_us(login_lat);
    let storm_secs = (storm_end - storm_start) as f64 / 1e6;
    report.metric(
        "storm_seconds",
        (storm_secs * 1000.0).round() / 1000.0,
        format!(
            "{storm_secs:.2} s for {logins} logins ({:.0} logins/s)",
            login.count as f64 / storm_secs.max(1e-6)
        ),
    );
    report.metric("login_latency", login, format!("login: {}", login.brief()));
    report.metric(
        "ws_latency_storm",
        storm_lat,
        format!("websocket during the storm: {}", storm_lat.brief()),
    );
    report.metric(
        "ws_message_latency_storm",
        msg_storm,
        format!("  messages (send → peer): {}", msg_storm.brief()),
    );
    report.metric(
        "ws_ping_rtt_storm",
        ping_storm,
        format!("  ping → pong: {}", ping_storm.brief()),
    );
    report.metric(
        "ws_latency_calm",
        calm_lat,
        format!("websocket before/after: {}", calm_lat.brief()),
    );
    let mut all_ws = t.latencies.clone();
    all_ws.extend(rtts.iter().copied());
    let slow = slow_seconds(&all_ws, probe_start, 100.0);
    report.metric(
        "slow_seconds",
        &slow,
        format!(
            "seconds with websocket latency over 100 ms (storm from t={:.1}s to t={:.1}s): {}",
            (storm_start - probe_start) as f64 / 1e6,
            (storm_end - probe_start) as f64 / 1e6,
            describe_slow_seconds(&slow)
        ),
    );
    report.targets.push(TargetCheck::at_most(
        "websocket p99 during the login storm",
        storm_lat.p99_ms,
        100.0,
        "ms",
    ));
    report.checks = t.checks;
    report.usage = Some(usage);
    Ok(report)
}

/// Pings every `every`, one at a time (a pong carries no id); records (arrival, RTT).
async fn ping_loop(
    ws: crate::api::Ws,
    every: Duration,
    pong_wait: Duration,
    rtts: Arc<Mutex<Vec<(u64, u32)>>>,
    errors: Arc<crate::report::Errors>,
    mut stop: watch::Receiver<bool>,
) {
    let (mut sink, mut stream) = ws.split();
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            _ = stop.wait_for(|s| *s) => break,
        }
        let sent = now_us();
        if let Err(e) = send_frame(&mut sink, &ClientFrame::Ping).await {
            errors.add(format!("ping: {e:#}"));
            return;
        }
        let pong = tokio::time::timeout(pong_wait, async {
            while let Some(frame) = stream.next().await {
                match frame {
                    Ok(WsMessage::Text(text)) => {
                        if let Ok(ServerFrame::Pong) = serde_json::from_str(&text) {
                            return Ok(());
                        }
                    }
                    Ok(WsMessage::Close(f)) => return Err(format!("closed: {f:?}")),
                    Ok(_) => {}
                    Err(e) => return Err(e.to_string()),
                }
            }
            Err("socket ended".to_owned())
        })
        .await;
        match pong {
            Ok(Ok(())) => {
                let now = now_us();
                if let Ok(mut r) = rtts.lock() {
                    r.push((
                        now,
                        now.saturating_sub(sent).min(u64::from(u32::MAX)) as u32,
                    ));
                }
            }
            Ok(Err(e)) => {
                errors.add(format!("ping socket: {e}"));
                return;
            }
            Err(_) => {
                errors.add(format!("no pong within {pong_wait:?}"));
                return;
            }
        }
    }
    let _ = futures_util::SinkExt::close(&mut sink).await;
}
