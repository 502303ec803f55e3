//! Steady: P pairs, each sender sends at a fixed rate (1 msg/s) for D seconds, the sends
//! spread evenly over each period; end-to-end latency under ordinary load.

use super::pairs::{connect_pairs, setup_pairs, totals, wait_drained};
use super::Ctx;
use crate::report::{Report, TargetCheck};
use crate::server::Monitor;
use crate::track::{describe_slow_seconds, slow_seconds, Latency};
use anyhow::Result;
use std::time::Duration;

#[derive(Debug, Clone, clap::Args)]
pub struct SteadyArgs {
    /// Sender/recipient pairs [500; quick 5].
    #[arg(long)]
    pub pairs: Option<usize>,
    /// Seconds of sending [30; quick 3].
    #[arg(long)]
    pub seconds: Option<u64>,
    /// Messages per second per sender [1].
    #[arg(long, default_value_t = 1.0)]
    pub rate: f64,
    /// Bytes per message body [100].
    #[arg(long, default_value_t = 100)]
    pub body_bytes: usize,
}

pub async fn run(ctx: &Ctx, args: &SteadyArgs) -> Result<Report> {
    let pairs_n = args.pairs.unwrap_or(if ctx.quick { 5 } else { 500 }).max(1);
    let seconds = args
        .seconds
        .unwrap_or(if ctx.quick { 3 } else { 30 })
        .max(1);
    let rate = if args.rate > 0.0 && args.rate.is_finite() {
        args.rate
    } else {
        1.0
    };
    let per_sender = (seconds as f64 * rate).floor().max(1.0) as u64;
    let mut report = Report::new("steady");
    report.param("pairs", pairs_n);
    report.param("seconds", seconds);
    report.param("rate_per_sender", rate);
    report.param("body_bytes", args.body_bytes);

    let prefix = ctx.prefix("s");
    let pairs = setup_pairs(&ctx.api, &prefix, pairs_n, ctx.register_concurrency).await?;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    // A window large enough never to hold a steady sender back.
    let (senders, readers) =
        connect_pairs(&ctx.api, &pairs, 1 << 20, &prefix, &ctx.errors, &stop_rx).await?;

    let monitor = Monitor::start(ctx.pids());
    let start_us = crate::track::now_us();
    let period = Duration::from_secs_f64(1.0 / rate);
    let begin = tokio::time::Instant::now() + Duration::from_millis(100);
    let mut tasks = Vec::new();
    for (i, mut sender) in senders.into_iter().enumerate() {
        let errors = ctx.errors.clone();
        let body_bytes = args.body_bytes;
        let phase = period.mul_f64(i as f64 / pairs_n as f64);
        let wait = ctx.ack_wait();
        tasks.push(tokio::spawn(async move {
            let mut ticks = tokio::time::interval_at(begin + phase, period);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
            for n in 0..per_sender {
                ticks.tick().await;
                if let Err(e) = sender.send(n, body_bytes, wait).await {
                    errors.add(format!("{e:#}"));
                    break;
                }
            }
            sender
        }));
    }
    let mut finished = Vec::new();
    for t in tasks {
        match t.await {
            Ok(sender) => finished.push(sender),
            Err(e) => ctx.errors.add(format!("sender task: {e}")),
        }
    }
    let drained = wait_drained(&pairs, ctx.drain_wait()).await;
    let usage = monitor.finish();
    if !drained {
        ctx.errors
            .add("not every acknowledged message arrived before the drain timeout");
    }
    let _ = stop_tx.send(true);
    for s in finished {
        s.close().await;
    }
    for r in readers {
        r.abort();
    }

    let t = totals(&pairs, &ctx.errors);
    let end_us = t.last_arrival_us.unwrap_or(start_us);
    let elapsed = (end_us.saturating_sub(start_us) as f64 / 1e6).max(1e-6);
    let delivered_rate = t.recipient_delivered as f64 / elapsed;
    let e2e = Latency::from_us(t.latencies.iter().map(|l| l.1).collect());
    let ack = Latency::from_us(t.ack_latencies);
    report.metric(
        "latency",
        e2e,
        format!("send → peer socket: {}", e2e.brief()),
    );
    report.metric("ack_latency", ack, format!("send → ack: {}", ack.brief()));
    report.metric(
        "delivered_msgs_per_sec",
        delivered_rate.round(),
        format!(
            "{delivered_rate:.0} msg/s ({} messages over {elapsed:.1} s, offered {:.0} msg/s)",
            t.recipient_delivered,
            pairs_n as f64 * rate
        ),
    );
    let slow = slow_seconds(&t.latencies, start_us, 100.0);
    report.metric(
        "slow_seconds",
        &slow,
        format!(
            "seconds with a message over 100 ms: {}",
            describe_slow_seconds(&slow)
        ),
    );
    report.targets.push(TargetCheck::at_most(
        "steady p99 end-to-end",
        e2e.p99_ms,
        25.0,
        "ms",
    ));
    report.checks = t.checks;
    report.usage = Some(usage);
    Ok(report)
}
