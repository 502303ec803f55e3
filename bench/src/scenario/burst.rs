//! Burst: N pairs, each sender keeps a window of unacknowledged messages in flight for S
//! seconds (standard) or until M messages in all are sent (`--messages`, quick mode);
//! throughput = messages stored and delivered to the peer per second.

use super::pairs::{connect_pairs, join_senders, setup_pairs, shut_down, totals, wait_drained};
use super::Ctx;
use crate::report::{Report, TargetCheck};
use crate::server::Monitor;
use crate::track::Latency;
use anyhow::Result;

#[derive(Debug, Clone, clap::Args)]
pub struct BurstArgs {
    /// Sender/recipient pairs, each in its own room [10; quick 2].
    #[arg(long)]
    pub pairs: Option<usize>,
    /// Messages in all, split over the pairs [quick 400; standard: as many as fit in
    /// --seconds]. Given alone, the burst is sized by count.
    #[arg(long)]
    pub messages: Option<u64>,
    /// Sending window in seconds: every sender sends until it ends (and at most --messages
    /// in all when both are given) [10; quick: sized by count].
    #[arg(long)]
    pub seconds: Option<f64>,
    /// Unacknowledged messages each sender keeps in flight [64].
    #[arg(long, default_value_t = 64)]
    pub window: usize,
    /// Bytes per message body [100].
    #[arg(long, default_value_t = 100)]
    pub body_bytes: usize,
}

pub async fn run(ctx: &Ctx, args: &BurstArgs) -> Result<Report> {
    let pairs_n = args.pairs.unwrap_or(if ctx.quick { 2 } else { 10 }).max(1);
    // Sized by time in standard mode (a one-second burst is decided by the neighbours,
    // issue 16), by count in quick mode or when only --messages is given.
    let seconds = match (args.seconds, args.messages) {
        (Some(s), _) => Some(s.clamp(0.1, 3600.0)),
        (None, Some(_)) => None,
        (None, None) if ctx.quick => None,
        (None, None) => Some(10.0),
    };
    let total = args
        .messages
        .unwrap_or(if seconds.is_some() { u64::MAX / 2 } else { 400 });
    let mut report = Report::new("burst");
    report.param("pairs", pairs_n);
    report.param(
        "messages",
        args.messages.or(seconds.is_none().then_some(total)),
    );
    report.param("seconds", seconds);
    report.param("window", args.window);
    report.param("body_bytes", args.body_bytes);

    let prefix = ctx.prefix("u");
    let pairs = setup_pairs(&ctx.api, &prefix, pairs_n, ctx.register_concurrency).await?;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let (senders, readers) = connect_pairs(
        &ctx.api,
        &pairs,
        args.window.max(1),
        &prefix,
        &ctx.errors,
        &stop_rx,
    )
    .await?;

    let monitor = Monitor::start(ctx.pids());
    let start_us = crate::track::now_us();
    let deadline =
        seconds.map(|s| std::time::Instant::now() + std::time::Duration::from_secs_f64(s));
    let mut tasks = Vec::new();
    for (i, mut sender) in senders.into_iter().enumerate() {
        let share = total / pairs_n as u64 + u64::from((i as u64) < total % pairs_n as u64);
        let errors = ctx.errors.clone();
        let body_bytes = args.body_bytes;
        let wait = ctx.ack_wait();
        tasks.push(tokio::spawn(async move {
            for n in 0..share {
                if deadline.is_some_and(|d| std::time::Instant::now() >= d) {
                    break;
                }
                if let Err(e) = sender.send(n, body_bytes, wait).await {
                    errors.add(format!("{e:#}"));
                    break;
                }
            }
            sender
        }));
    }
    let finished = join_senders(tasks, &ctx.errors).await;
    let drained = wait_drained(&pairs, ctx.drain_wait()).await;
    let usage = monitor.finish();
    if !drained {
        ctx.errors
            .add("not every acknowledged message arrived before the drain timeout");
    }
    shut_down(&stop_tx, finished, readers).await;

    let t = totals(&pairs, &ctx.errors);
    let end_us = t.last_arrival_us.unwrap_or(start_us);
    let seconds = (end_us.saturating_sub(start_us) as f64 / 1e6).max(1e-6);
    let rate = t.recipient_delivered as f64 / seconds;
    report.metric(
        "delivered_msgs_per_sec",
        rate.round(),
        format!(
            "{rate:.0} msg/s stored and delivered to the peer ({} messages in {seconds:.2} s)",
            t.recipient_delivered
        ),
    );
    let e2e = Latency::from_us(t.latencies.iter().map(|l| l.1).collect());
    let ack = Latency::from_us(t.ack_latencies);
    report.metric(
        "latency",
        e2e,
        format!("send → peer socket: {}", e2e.brief()),
    );
    report.metric("ack_latency", ack, format!("send → ack: {}", ack.brief()));
    report.metric(
        "seconds",
        seconds,
        format!("{seconds:.2} s first send → last delivery"),
    );
    report.targets.push(TargetCheck::at_least(
        "burst throughput",
        rate.round(),
        20_000.0,
        "msg/s",
    ));
    report.checks = t.checks;
    report.usage = Some(usage);
    Ok(report)
}
