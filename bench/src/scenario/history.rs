//! History: a room holding N messages (seeded through the REST API by many concurrent
//! requests from both members), then read back in 50-message pages with `before` cursors:
//! the whole room walked from the newest page to the oldest (every message checked exactly
//! once and in order), then pages at random cursors. p99 per page.

use super::Ctx;
use crate::api::{register_many, Account, Api};
use crate::report::{Report, TargetCheck};
use crate::server::Monitor;
use crate::track::{make_body, now_us, parse_body, Latency};
use anyhow::{anyhow, Result};
use futures_util::StreamExt;
use std::time::Instant;

#[derive(Debug, Clone, clap::Args)]
pub struct HistoryArgs {
    /// Messages in the room [100000; quick 1000].
    #[arg(long)]
    pub messages: Option<u64>,
    /// Messages per page [50].
    #[arg(long, default_value_t = 50)]
    pub page: i64,
    /// Send requests in flight while seeding [32].
    #[arg(long, default_value_t = 32)]
    pub seed_concurrency: usize,
    /// Pages read at random `before` cursors after the full walk [1000; quick 20].
    #[arg(long)]
    pub random_pages: Option<u64>,
    /// Bytes per message body [100].
    #[arg(long, default_value_t = 100)]
    pub body_bytes: usize,
}

pub async fn run(ctx: &Ctx, args: &HistoryArgs) -> Result<Report> {
    let total = args
        .messages
        .unwrap_or(if ctx.quick { 1_000 } else { 100_000 })
        .max(1);
    let random_pages = args
        .random_pages
        .unwrap_or(if ctx.quick { 20 } else { 1_000 });
    let page = args.page.clamp(1, shared::MAX_PAGE_LIMIT);
    let mut report = Report::new("history");
    report.param("messages", total);
    report.param("page", page);
    report.param("random_pages", random_pages);
    report.param("seed_concurrency", args.seed_concurrency);

    let prefix = ctx.prefix("h");
    let accounts = register_many(
        &ctx.api,
        vec![format!("{prefix}a"), format!("{prefix}b")],
        2,
    )
    .await?;
    let (a, b) = match accounts.as_slice() {
        [a, b] => (a.clone(), b.clone()),
        _ => return Err(anyhow!("registration returned {} accounts", accounts.len())),
    };
    let room = ctx.api.open_room(&a, &b.user.username).await?;
    let room_id = room.id.0;

    // Seeding.
    let seed_started = Instant::now();
    let results: Vec<Result<()>> = futures_util::stream::iter(0..total)
        .map(|n| {
            let api = ctx.api.clone();
            let who = if n % 2 == 0 { a.clone() } else { b.clone() };
            let body = make_body(0, n, args.body_bytes);
            let client_id = format!("{prefix}-{n}");
            async move {
                let message = api.send_rest(&who, room_id, body, client_id).await?;
                if parse_body(&message.body).map(|s| s.n) != Some(n) {
                    return Err(anyhow!("send {n} answered with another message"));
                }
                Ok(())
            }
        })
        .buffer_unordered(args.seed_concurrency.max(1))
        .collect()
        .await;
    let seed_secs = seed_started.elapsed().as_secs_f64();
    let mut seeded = 0u64;
    for r in results {
        match r {
            Ok(()) => seeded += 1,
            Err(e) => ctx.errors.add(format!("seeding: {e:#}")),
        }
    }
    report.metric(
        "seed_msgs_per_sec",
        (seeded as f64 / seed_secs).round(),
        format!(
            "{seeded} messages seeded over REST in {seed_secs:.1} s ({:.0} msg/s, {} in flight)",
            seeded as f64 / seed_secs,
            args.seed_concurrency
        ),
    );

    // The walk, newest page first.
    let monitor = Monitor::start(ctx.pids());
    let mut seen = vec![false; total as usize];
    let mut walk = Vec::new();
    let mut duplicates = 0u64;
    let mut disorder = 0u64;
    let mut before = seeded as i64 + 1;
    let walk_started = Instant::now();
    while before > 1 {
        let (us, messages, has_more) = match page_at(&ctx.api, &a, room_id, before, page).await {
            Ok(p) => p,
            Err(e) => {
                ctx.errors.add(format!("page before {before}: {e:#}"));
                break;
            }
        };
        walk.push(us);
        let expected_first = (before - page).max(1);
        let seqs: Vec<i64> = messages.iter().map(|m| m.seq).collect();
        let expected: Vec<i64> = (expected_first..before).collect();
        if seqs != expected {
            disorder += 1;
            ctx.errors.add(format!(
                "page before {before}: seqs {:?}… instead of {expected_first}..{before}",
                seqs.iter().take(5).collect::<Vec<_>>()
            ));
        }
        if has_more != (expected_first > 1) {
            ctx.errors
                .add(format!("page before {before}: has_more is {has_more}"));
        }
        for m in &messages {
            match parse_body(&m.body) {
                Some(s) if (s.n as usize) < seen.len() => {
                    if seen[s.n as usize] {
                        duplicates += 1;
                    }
                    seen[s.n as usize] = true;
                }
                _ => ctx
                    .errors
                    .add(format!("foreign message seq {} in the room", m.seq)),
            }
        }
        before = expected_first;
    }
    let walk_secs = walk_started.elapsed().as_secs_f64();
    let found = seen.iter().filter(|s| **s).count() as u64;

    // Random cursors.
    let mut random = Vec::new();
    let mut rng = now_us() | 1;
    for _ in 0..random_pages {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let cursor = 2 + (rng % seeded.max(1)) as i64;
        match page_at(&ctx.api, &a, room_id, cursor, page).await {
            Ok((us, messages, _)) => {
                random.push(us);
                let first = (cursor - page).max(1);
                if messages.len() as i64 != cursor - first
                    || messages.first().map(|m| m.seq) != Some(first)
                {
                    disorder += 1;
                    ctx.errors
                        .add(format!("random page before {cursor}: wrong messages"));
                }
            }
            Err(e) => ctx.errors.add(format!("page before {cursor}: {e:#}")),
        }
    }
    let usage = monitor.finish();

    let walk_lat = Latency::from_us(walk.clone());
    let random_lat = Latency::from_us(random.clone());
    let mut all = walk;
    all.extend(random);
    let all_lat = Latency::from_us(all);
    report.metric(
        "page_latency",
        all_lat,
        format!("every page: {}", all_lat.brief()),
    );
    report.metric(
        "walk_latency",
        walk_lat,
        format!(
            "full walk, newest → oldest: {} ({:.0} pages/s)",
            walk_lat.brief(),
            walk_lat.count as f64 / walk_secs
        ),
    );
    report.metric(
        "random_latency",
        random_lat,
        format!("random cursors: {}", random_lat.brief()),
    );
    report.targets.push(TargetCheck::at_most(
        "history p99 per page",
        all_lat.p99_ms,
        5.0,
        "ms",
    ));

    report.checks.sent = total;
    report.checks.acked = seeded;
    report.checks.delivered = found;
    report.checks.lost = seeded.saturating_sub(found);
    report.checks.duplicates = duplicates;
    report.checks.disorder = disorder;
    report.checks.errors = ctx.errors.count();
    report.checks.error_samples = ctx.errors.samples();
    report.usage = Some(usage);
    Ok(report)
}

/// One page: (µs from request to the last byte, messages, has_more).
async fn page_at(
    api: &Api,
    who: &Account,
    room_id: i64,
    before: i64,
    limit: i64,
) -> Result<(u32, Vec<shared::Message>, bool)> {
    let started = Instant::now();
    let bytes = api
        .messages_raw(who, room_id, &format!("?before={before}&limit={limit}"))
        .await?;
    let us = started.elapsed().as_micros().min(u128::from(u32::MAX)) as u32;
    let page = Api::parse_messages(&bytes)?;
    Ok((us, page.messages, page.has_more))
}
