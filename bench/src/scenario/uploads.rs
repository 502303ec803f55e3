//! Uploads: U users each upload a ~1 MiB PNG again and again for D seconds, all at once.
//! Measures uploads/s, MiB/s, the upload time (request → 201, the thumbnail included), the
//! server's inspection time (type, size and thumbnail, from its /metrics) and the server's
//! RSS, which must stay flat: uploads are streamed to disk, never held whole. Checks that a
//! sample of the uploads reads back byte for byte and can be sent.

use super::Ctx;
use crate::api::register_many;
use crate::report::Report;
use crate::server::Monitor;
use crate::track::Latency;
use anyhow::{Context, Result};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

#[derive(Debug, Clone, clap::Args)]
pub struct UploadsArgs {
    /// Users uploading at once [20; quick 2].
    #[arg(long)]
    pub users: Option<usize>,
    /// Seconds of uploading [30; quick 3].
    #[arg(long)]
    pub seconds: Option<u64>,
    /// Size of the image in KiB [1024; quick 256].
    #[arg(long)]
    pub kib: Option<usize>,
}

/// A PNG of noise (incompressible, so the file is about `kib` KiB) with a side of its own.
fn noise_png(kib: usize) -> Result<Vec<u8>> {
    let side = ((kib * 1024 / 3) as f64).sqrt().ceil() as u32;
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let image = image::RgbImage::from_fn(side.max(1), side.max(1), |_, _| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let [r, g, b, ..] = state.to_le_bytes();
        image::Rgb([r, g, b])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    image.write_to(&mut out, image::ImageFormat::Png)?;
    Ok(out.into_inner())
}

/// The server's histogram of inspection times: (count, sum in seconds, the smallest bucket
/// bound holding 99% of them).
fn inspection_times(metrics: &str) -> (f64, f64, Option<f64>) {
    let name = "chat_upload_inspect_duration_seconds";
    let value = |line: &str| line.rsplit(' ').next().and_then(|v| v.parse::<f64>().ok());
    let mut buckets = Vec::new();
    let (mut count, mut sum) = (0.0, 0.0);
    for line in metrics.lines() {
        if let Some(rest) = line.strip_prefix(&format!("{name}_bucket{{le=\"")) {
            let bound = rest.split('"').next().and_then(|b| b.parse::<f64>().ok());
            if let (Some(bound), Some(n)) = (bound, value(line)) {
                buckets.push((bound, n));
            }
        } else if line.starts_with(&format!("{name}_count ")) {
            count = value(line).unwrap_or(0.0);
        } else if line.starts_with(&format!("{name}_sum ")) {
            sum = value(line).unwrap_or(0.0);
        }
    }
    let p99 = buckets
        .iter()
        .find(|(_, n)| *n >= count * 0.99 && count > 0.0)
        .map(|(bound, _)| *bound);
    (count, sum, p99)
}

async fn server_metrics(ctx: &Ctx) -> Result<String> {
    let reply = ctx
        .api
        .http()
        .get(format!("{}/metrics", ctx.api.base()))
        .send()
        .await?;
    Ok(reply.text().await?)
}

pub async fn run(ctx: &Ctx, args: &UploadsArgs) -> Result<Report> {
    let users = args.users.unwrap_or(if ctx.quick { 2 } else { 20 }).max(1);
    let seconds = args
        .seconds
        .unwrap_or(if ctx.quick { 3 } else { 30 })
        .max(1);
    let kib = args
        .kib
        .unwrap_or(if ctx.quick { 256 } else { 1024 })
        .max(1);
    let mut report = Report::new("uploads");
    report.param("users", users);
    report.param("seconds", seconds);
    report.param("kib", kib);

    let image = Arc::new(noise_png(kib)?);
    let bytes_each = image.len();
    let prefix = ctx.prefix("u");
    let names: Vec<String> = (0..users).map(|i| format!("{prefix}{i}")).collect();
    let accounts = register_many(&ctx.api, names, ctx.register_concurrency).await?;
    let before = server_metrics(ctx).await.unwrap_or_default();

    let monitor = Monitor::start(ctx.pids());
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for account in accounts.clone() {
        let api = ctx.api.clone();
        let image = image.clone();
        let errors = ctx.errors.clone();
        tasks.push(tokio::spawn(async move {
            let mut times = Vec::new();
            let mut last = None;
            while Instant::now() < deadline {
                let t0 = Instant::now();
                let call = api.upload(&account.token, "bench.png", image.to_vec());
                match tokio::time::timeout(Duration::from_secs(60), call).await {
                    Ok(Ok(attachment)) => {
                        times.push(t0.elapsed().as_micros().min(u128::from(u32::MAX)) as u32);
                        last = Some(attachment);
                    }
                    Ok(Err(e)) => {
                        errors.add(format!("upload: {e:#}"));
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                    Err(_) => errors.add("upload: no answer within 60 s"),
                }
            }
            (account, times, last)
        }));
    }
    let mut times = Vec::new();
    let mut samples = Vec::new();
    for task in tasks {
        let (account, mut mine, last) = task.await.context("an uploader panicked")?;
        times.append(&mut mine);
        if let Some(last) = last {
            samples.push((account, last));
        }
    }
    let wall = started.elapsed().as_secs_f64();
    let usage = monitor.finish();
    let after = server_metrics(ctx).await.unwrap_or_default();

    // Correctness: each user's last upload reads back whole and can be sent.
    let mut verified = 0u64;
    for (i, (account, attachment)) in samples.iter().enumerate() {
        let got = ctx
            .api
            .http()
            .get(format!("{}{}", ctx.api.base(), attachment.url))
            .send()
            .await?
            .bytes()
            .await?;
        if got.as_ref() != image.as_slice() {
            ctx.errors.add(format!(
                "upload {} read back {} bytes, not the same",
                attachment.id,
                got.len()
            ));
            continue;
        }
        if i == 0 && samples.len() > 1 {
            let peer = &samples[1].0;
            let room = ctx.api.open_room(account, &peer.user.username).await?;
            let sent = ctx
                .api
                .send_with_attachments(account, room.id.0, &attachment.id)
                .await?;
            if sent.attachments.len() != 1 {
                ctx.errors
                    .add("a message sent with an upload does not carry it");
            }
        }
        verified += 1;
    }

    let latency = Latency::from_us(times);
    let uploads = latency.count as f64;
    let (count_before, sum_before, _) = inspection_times(&before);
    let (count_after, sum_after, p99_bucket) = inspection_times(&after);
    let inspected = count_after - count_before;
    report.metric(
        "uploads_per_sec",
        uploads / wall,
        format!(
            "{:.1} uploads/s ({} in {wall:.1} s)",
            uploads / wall,
            latency.count
        ),
    );
    let mib_per_sec = uploads * bytes_each as f64 / wall / (1024.0 * 1024.0);
    report.metric(
        "mib_per_sec",
        mib_per_sec,
        format!("{mib_per_sec:.1} MiB/s"),
    );
    report.metric(
        "upload_latency",
        latency,
        format!("request → 201: {}", latency.brief()),
    );
    let mean_ms = if inspected > 0.0 {
        (sum_after - sum_before) / inspected * 1000.0
    } else {
        0.0
    };
    report.metric(
        "inspect_mean_ms",
        mean_ms,
        format!(
            "server inspection (type, size, thumbnail): mean {mean_ms:.1} ms, p99 ≤ {} s (histogram bucket) over {inspected}",
            p99_bucket.map_or("?".into(), |b| b.to_string())
        ),
    );
    if let (Some(start), Some(peak)) = (usage.server_rss_start_kib, usage.server_peak_rss_kib) {
        let grew = peak.saturating_sub(start) as f64 / 1024.0;
        report.metric(
            "rss_growth_mib",
            grew,
            format!(
                "server RSS {:.1} → peak {:.1} MiB (+{grew:.1})",
                start as f64 / 1024.0,
                peak as f64 / 1024.0
            ),
        );
    }
    report.checks.sent = latency.count as u64;
    report.checks.acked = latency.count as u64;
    report.checks.delivered = verified;
    report.checks.errors = ctx.errors.count();
    report.checks.error_samples = ctx.errors.samples();
    report.usage = Some(usage);
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_noise_image_is_about_the_size_asked() {
        let png = noise_png(64).unwrap();
        assert!((60 * 1024..80 * 1024).contains(&png.len()), "{}", png.len());
    }

    #[test]
    fn inspection_times_are_read_from_the_histogram() {
        let text = "chat_upload_inspect_duration_seconds_bucket{le=\"0.01\"} 2\n\
                    chat_upload_inspect_duration_seconds_bucket{le=\"0.1\"} 99\n\
                    chat_upload_inspect_duration_seconds_bucket{le=\"1\"} 100\n\
                    chat_upload_inspect_duration_seconds_bucket{le=\"+Inf\"} 100\n\
                    chat_upload_inspect_duration_seconds_sum 4.5\n\
                    chat_upload_inspect_duration_seconds_count 100\n";
        assert_eq!(inspection_times(text), (100.0, 4.5, Some(0.1)));
    }
}
