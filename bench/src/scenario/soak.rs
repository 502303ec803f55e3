//! Soak (issue 16): P pairs at a fixed rate for S seconds (bounded; 600 s by default, quick
//! 20 s), while the server's RSS and open descriptors are sampled every few seconds. Reports
//! the RSS slope after the warm-up (MiB/min, least squares), descriptors at the start, the
//! end and their peak, p99 per minute (per 5 s in quick mode), and loss (must be 0).
//! Not part of `all`; run it on its own: `chat-bench --spawn … soak`.

use super::pairs::{connect_pairs, join_senders, setup_pairs, shut_down, totals, wait_drained};
use super::steady::Plan;
use super::Ctx;
use crate::report::{Report, TargetCheck};
use crate::server::{fd_count, sample_all, Monitor};
use crate::track::Latency;
use anyhow::Result;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Debug, Clone, clap::Args)]
pub struct SoakArgs {
    /// Sender/recipient pairs [500; quick 10].
    #[arg(long)]
    pub pairs: Option<usize>,
    /// Seconds of sending [600; quick 20].
    #[arg(long)]
    pub seconds: Option<u64>,
    /// Messages per second per sender; issue 16 asks for half the burst capacity in all
    /// (e.g. 18 for 500 pairs at a burst of 18,000 msg/s) [10; quick 5].
    #[arg(long)]
    pub rate: Option<f64>,
    /// Seconds not counted in the RSS slope (allocator and caches warming up) [60; quick 5].
    #[arg(long)]
    pub warmup: Option<u64>,
    /// Bytes per message body [100].
    #[arg(long, default_value_t = 100)]
    pub body_bytes: usize,
}

/// (seconds since the start, RSS KiB, open descriptors).
type Sample = (f64, u64, Option<u64>);

pub async fn run(ctx: &Ctx, args: &SoakArgs) -> Result<Report> {
    let quick = ctx.quick;
    let seconds = args
        .seconds
        .unwrap_or(if quick { 20 } else { 600 })
        .clamp(1, 24 * 3600);
    let rate = args
        .rate
        .filter(|r| *r > 0.0 && r.is_finite())
        .unwrap_or(if quick { 5.0 } else { 10.0 });
    let pairs_n = args.pairs.unwrap_or(if quick { 10 } else { 500 }).max(1);
    let warmup = args
        .warmup
        .unwrap_or(if quick { 5 } else { 60 })
        .min(seconds / 2);
    let bucket = if quick { 5 } else { 60 };
    let plan = Plan {
        pairs: pairs_n,
        seconds,
        rate,
        per_sender: (seconds as f64 * rate).floor().max(1.0) as u64,
        body_bytes: args.body_bytes,
    };
    let mut report = Report::new("soak");
    plan.params(&mut report, "");
    report.param("warmup_seconds", warmup);
    report.param("bucket_seconds", bucket);

    let prefix = ctx.prefix("k");
    let pairs = setup_pairs(&ctx.api, &prefix, plan.pairs, ctx.register_concurrency).await?;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let (senders, readers) =
        connect_pairs(&ctx.api, &pairs, 1 << 20, &prefix, &ctx.errors, &stop_rx).await?;

    // RSS and descriptors every 2 s (quick: 1 s) until the senders are done.
    let samples: Arc<Mutex<Vec<Sample>>> = Arc::default();
    let sampler = {
        let samples = samples.clone();
        let pids = ctx.pids().to_vec();
        let mut stop = stop_rx.clone();
        let every = Duration::from_secs(if quick { 1 } else { 2 });
        tokio::spawn(async move {
            let t0 = std::time::Instant::now();
            let mut ticks = tokio::time::interval(every);
            loop {
                tokio::select! {
                    _ = ticks.tick() => {}
                    _ = stop.wait_for(|s| *s) => return,
                }
                if let Some(s) = sample_all(&pids) {
                    let fds = fd_count(&pids);
                    if let Ok(mut v) = samples.lock() {
                        v.push((t0.elapsed().as_secs_f64(), s.rss_kib, fds));
                    }
                }
            }
        })
    };
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
    sampler.abort();

    let t = totals(&pairs, &ctx.errors);
    plan.report(&mut report, &t, start_us);
    report.targets.clear();
    let samples = samples.lock().map(|v| v.clone()).unwrap_or_default();

    let slope = rss_slope_mib_per_min(&samples, warmup as f64);
    let rss_first = samples.first().map(|s| s.1);
    let rss_last = samples.last().map(|s| s.1);
    report.metric(
        "rss_slope_mib_per_min",
        slope,
        format!(
            "RSS after {warmup} s of warm-up: {} (least squares over {} samples; {} → {} MiB)",
            slope.map_or("n/a".into(), |s| format!("{s:+.3} MiB/min")),
            samples.iter().filter(|s| s.0 >= warmup as f64).count(),
            rss_first.map_or("n/a".into(), |k| format!("{:.1}", k as f64 / 1024.0)),
            rss_last.map_or("n/a".into(), |k| format!("{:.1}", k as f64 / 1024.0)),
        ),
    );
    let fds: Vec<u64> = samples.iter().filter_map(|s| s.2).collect();
    let (fd_start, fd_end, fd_max) = (
        fds.first().copied(),
        fds.last().copied(),
        fds.iter().max().copied(),
    );
    report.metric(
        "fds",
        serde_json::json!({"start": fd_start, "end": fd_end, "max": fd_max}),
        format!(
            "server descriptors while sending: {} at the start, {} at the end, {} at most",
            fd_start.map_or("n/a".into(), |v| v.to_string()),
            fd_end.map_or("n/a".into(), |v| v.to_string()),
            fd_max.map_or("n/a".into(), |v| v.to_string()),
        ),
    );
    let per_bucket = p99_per_bucket(&t.latencies, start_us, bucket);
    report.metric(
        "p99_per_bucket",
        &per_bucket,
        format!(
            "p99 per {bucket} s: {}",
            per_bucket
                .iter()
                .map(|(b, l)| format!("{}: {:.1} ms", b * bucket, l.p99_ms))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    );
    report.metric(
        "rss_samples",
        samples
            .iter()
            .map(|s| serde_json::json!([(s.0 * 10.0).round() / 10.0, s.1, s.2]))
            .collect::<Vec<_>>(),
        format!(
            "{} samples of (s, RSS KiB, fds) in the JSON line",
            samples.len()
        ),
    );
    if let Some(slope) = slope {
        report.targets.push(TargetCheck::at_most(
            "soak RSS slope",
            slope,
            1.0,
            "MiB/min",
        ));
    }
    if let (Some(a), Some(b)) = (fd_start, fd_end) {
        report.targets.push(TargetCheck::at_most(
            "soak descriptor growth",
            b as f64 - a as f64,
            0.0,
            "fds",
        ));
    }
    let worst = per_bucket
        .iter()
        .map(|(_, l)| l.p99_ms)
        .fold(0.0f64, f64::max);
    report.targets.push(TargetCheck::at_most(
        "soak worst p99 per bucket",
        worst,
        25.0,
        "ms",
    ));
    report.checks = t.checks;
    report.usage = Some(usage);
    Ok(report)
}

/// Least-squares slope of RSS over time after `warmup` seconds, in MiB per minute.
fn rss_slope_mib_per_min(samples: &[Sample], warmup: f64) -> Option<f64> {
    let points: Vec<(f64, f64)> = samples
        .iter()
        .filter(|s| s.0 >= warmup)
        .map(|s| (s.0 / 60.0, s.1 as f64 / 1024.0))
        .collect();
    if points.len() < 3 {
        return None;
    }
    let n = points.len() as f64;
    let mx = points.iter().map(|p| p.0).sum::<f64>() / n;
    let my = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    (sxx > 0.0).then(|| sxy / sxx)
}

/// Latency of the messages that arrived in each `bucket`-second slice of the run.
fn p99_per_bucket(samples: &[(u64, u32)], start_us: u64, bucket: u64) -> Vec<(u64, Latency)> {
    let mut by: std::collections::BTreeMap<u64, Vec<u32>> = Default::default();
    for (at, latency) in samples {
        by.entry(at.saturating_sub(start_us) / 1_000_000 / bucket.max(1))
            .or_default()
            .push(*latency);
    }
    by.into_iter()
        .map(|(b, v)| (b, Latency::from_us(v)))
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn slope_is_mib_per_minute_after_the_warmup() {
        // 1 MiB more every 30 s after 60 s of growth that the warm-up leaves out.
        let samples: Vec<super::Sample> = (0..40)
            .map(|i| {
                let t = i as f64 * 5.0;
                let rss = if t < 60.0 {
                    t * 100.0
                } else {
                    100_000.0 + (t - 60.0) / 30.0 * 1024.0
                };
                (t, rss as u64, Some(10))
            })
            .collect();
        let slope = super::rss_slope_mib_per_min(&samples, 60.0).unwrap();
        assert!((slope - 2.0).abs() < 0.01, "{slope}");
        assert!(super::rss_slope_mib_per_min(&samples[..2], 0.0).is_none());
    }

    #[test]
    fn buckets_group_by_slice() {
        let samples = [(1_000_000, 1000), (2_000_000, 3000), (7_000_000, 5000)];
        let b = super::p99_per_bucket(&samples, 0, 5);
        assert_eq!(b.len(), 2);
        assert_eq!(b[0].1.p99_ms, 3.0);
        assert_eq!(b[1].0, 1);
    }
}
