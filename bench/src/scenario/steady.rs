//! Steady: P pairs, each sender sends at a fixed rate (1 msg/s) for D seconds, the sends
//! spread evenly over each period; end-to-end latency under ordinary load.

use super::pairs::{
    connect_pairs, join_senders, setup_pairs, shut_down, totals, wait_drained, PairSender, Totals,
};
use super::Ctx;
use crate::report::{Report, TargetCheck};
use crate::server::Monitor;
use crate::track::{describe_slow_seconds, slow_seconds, Latency};
use anyhow::Result;
use std::time::Duration;
use tokio::task::JoinHandle;

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

/// Steady traffic's sizes, from the arguments and the mode.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    pub pairs: usize,
    pub seconds: u64,
    pub rate: f64,
    pub per_sender: u64,
    pub body_bytes: usize,
}

impl Plan {
    pub fn new(ctx: &Ctx, args: &SteadyArgs) -> Plan {
        let pairs = args.pairs.unwrap_or(if ctx.quick { 5 } else { 500 }).max(1);
        let seconds = args
            .seconds
            .unwrap_or(if ctx.quick { 3 } else { 30 })
            .max(1);
        let rate = if args.rate > 0.0 && args.rate.is_finite() {
            args.rate
        } else {
            1.0
        };
        Plan {
            pairs,
            seconds,
            rate,
            per_sender: (seconds as f64 * rate).floor().max(1.0) as u64,
            body_bytes: args.body_bytes,
        }
    }

    /// Into the report's parameters, under `prefix` (`""` for the steady scenario itself).
    pub fn params(&self, report: &mut Report, prefix: &str) {
        report.param(&format!("{prefix}pairs"), self.pairs);
        report.param(&format!("{prefix}seconds"), self.seconds);
        report.param(&format!("{prefix}rate_per_sender"), self.rate);
        report.param(&format!("{prefix}body_bytes"), self.body_bytes);
    }

    /// Starts every sender: `per_sender` sends at `rate`, the senders' phases spread evenly
    /// over the period, the first 100 ms from now. Each task ends by itself.
    pub fn start(&self, ctx: &Ctx, senders: Vec<PairSender>) -> Vec<JoinHandle<PairSender>> {
        let period = Duration::from_secs_f64(1.0 / self.rate);
        let begin = tokio::time::Instant::now() + Duration::from_millis(100);
        let n_senders = senders.len().max(1);
        let mut tasks = Vec::new();
        for (i, mut sender) in senders.into_iter().enumerate() {
            let errors = ctx.errors.clone();
            let plan = *self;
            let phase = period.mul_f64(i as f64 / n_senders as f64);
            let wait = ctx.ack_wait();
            tasks.push(tokio::spawn(async move {
                let mut ticks = tokio::time::interval_at(begin + phase, period);
                ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
                for n in 0..plan.per_sender {
                    ticks.tick().await;
                    if let Err(e) = sender.send(n, plan.body_bytes, wait).await {
                        errors.add(format!("{e:#}"));
                        break;
                    }
                }
                sender
            }));
        }
        tasks
    }

    /// The figures of steady traffic (end-to-end and ack latency, delivered rate, slow
    /// seconds) and its target, from the pairs' totals.
    pub fn report(&self, report: &mut Report, t: &Totals, start_us: u64) {
        let end_us = t.last_arrival_us.unwrap_or(start_us);
        let elapsed = (end_us.saturating_sub(start_us) as f64 / 1e6).max(1e-6);
        let delivered_rate = t.recipient_delivered as f64 / elapsed;
        let e2e = Latency::from_us(t.latencies.iter().map(|l| l.1).collect());
        let ack = Latency::from_us(t.ack_latencies.clone());
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
                self.pairs as f64 * self.rate
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
    }
}

pub async fn run(ctx: &Ctx, args: &SteadyArgs) -> Result<Report> {
    let plan = Plan::new(ctx, args);
    let mut report = Report::new("steady");
    plan.params(&mut report, "");

    let prefix = ctx.prefix("s");
    let pairs = setup_pairs(&ctx.api, &prefix, plan.pairs, ctx.register_concurrency).await?;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    // A window large enough never to hold a steady sender back.
    let (senders, readers) =
        connect_pairs(&ctx.api, &pairs, 1 << 20, &prefix, &ctx.errors, &stop_rx).await?;

    let monitor = Monitor::start(ctx.pids());
    let start_us = crate::track::now_us();
    let tasks = plan.start(ctx, senders);
    let finished = join_senders(tasks, &ctx.errors).await;
    let drained = wait_drained(&pairs, ctx.drain_wait()).await;
    let usage = monitor.finish();
    if !drained {
        ctx.errors
            .add("not every acknowledged message arrived before the drain timeout");
    }
    shut_down(&stop_tx, finished, readers).await;

    let t = totals(&pairs, &ctx.errors);
    plan.report(&mut report, &t, start_us);
    report.checks = t.checks;
    report.usage = Some(usage);
    Ok(report)
}
