//! Message identity and the checks every receiver applies: each body carries a unique id
//! (stream, n) and its send time; an inbox checks loss, duplicates and `seq` order and
//! collects latencies.

use serde::Serialize;
use shared::Message;
use std::collections::HashMap;
use std::sync::OnceLock;
use std::time::Instant;

fn epoch() -> Instant {
    static START: OnceLock<Instant> = OnceLock::new();
    *START.get_or_init(Instant::now)
}

/// Microseconds on this process's monotonic clock.
pub fn now_us() -> u64 {
    epoch().elapsed().as_micros() as u64
}

/// What a benchmark message body says about itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    pub stream: u32,
    pub n: u64,
    pub sent_us: u64,
}

/// `bench:<stream>:<n>:<sent_us>:` padded with `.` to `len` bytes.
pub fn make_body(stream: u32, n: u64, len: usize) -> String {
    let mut body = format!("bench:{stream}:{n}:{}:", now_us());
    while body.len() < len {
        body.push('.');
    }
    body
}

pub fn parse_body(body: &str) -> Option<Stamp> {
    let mut parts = body.strip_prefix("bench:")?.split(':');
    Some(Stamp {
        stream: parts.next()?.parse().ok()?,
        n: parts.next()?.parse().ok()?,
        sent_us: parts.next()?.parse().ok()?,
    })
}

/// One socket's view of one room's stream of benchmark messages.
#[derive(Debug, Default)]
pub struct Inbox {
    /// How many times each `n` arrived.
    seen: Vec<u8>,
    last_seq: i64,
    pub received: u64,
    pub duplicates: u64,
    /// Arrived with a `seq` lower than one already seen (and not a duplicate).
    pub disorder: u64,
    /// A `message` that is not one of ours or names another room.
    pub foreign: u64,
    /// (arrival time, latency) in µs, when this inbox measures latency.
    pub latencies: Vec<(u64, u32)>,
}

impl Inbox {
    pub fn on_message(&mut self, message: &Message, stream: u32, record_latency: bool) {
        let now = now_us();
        let Some(stamp) = parse_body(&message.body).filter(|s| s.stream == stream) else {
            self.foreign += 1;
            return;
        };
        let n = stamp.n as usize;
        if self.seen.len() <= n {
            self.seen.resize(n + 1, 0);
        }
        self.seen[n] = self.seen[n].saturating_add(1);
        if self.seen[n] > 1 {
            self.duplicates += 1;
            return;
        }
        self.received += 1;
        if message.seq <= self.last_seq {
            self.disorder += 1;
        }
        self.last_seq = self.last_seq.max(message.seq);
        if record_latency {
            let latency = now.saturating_sub(stamp.sent_us).min(u64::from(u32::MAX)) as u32;
            self.latencies.push((now, latency));
        }
    }

    pub fn has(&self, n: u64) -> bool {
        self.seen.get(n as usize).is_some_and(|c| *c > 0)
    }

    /// The highest `seq` this socket has been given.
    pub fn last_seq(&self) -> i64 {
        self.last_seq
    }
}

/// One socket's view of the `message_update`s of one room: when each `rev` arrived, and the
/// version with the highest `rev` of each message (what a client holds, api.md 1.1).
#[derive(Debug, Default)]
pub struct Updates {
    /// Arrival (µs) of each `rev`, the first time it came.
    arrivals: HashMap<i64, u64>,
    /// The highest-`rev` version seen of each `seq`.
    latest: HashMap<i64, Message>,
    pub received: u64,
    /// The same `rev` again (harmless to a client that keeps the higher `rev`).
    pub duplicates: u64,
    /// A `rev` lower than the one held for that message (not applied).
    pub stale: u64,
}

impl Updates {
    pub fn on_update(&mut self, message: &Message) {
        let now = now_us();
        if self.arrivals.contains_key(&message.rev) {
            self.duplicates += 1;
            return;
        }
        self.arrivals.insert(message.rev, now);
        self.received += 1;
        match self.latest.get(&message.seq) {
            Some(held) if held.rev >= message.rev => self.stale += 1,
            _ => {
                self.latest.insert(message.seq, message.clone());
            }
        }
    }

    /// When the update carrying `rev` arrived, if it did.
    pub fn arrival(&self, rev: i64) -> Option<u64> {
        self.arrivals.get(&rev).copied()
    }

    /// The version of message `seq` this socket holds (highest `rev` seen).
    pub fn latest(&self, seq: i64) -> Option<&Message> {
        self.latest.get(&seq)
    }
}

/// Latency summary in milliseconds.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Latency {
    pub count: usize,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub mean_ms: f64,
}

impl Latency {
    /// Nearest-rank percentiles of samples in µs.
    pub fn from_us(mut samples: Vec<u32>) -> Latency {
        if samples.is_empty() {
            return Latency::default();
        }
        samples.sort_unstable();
        let rank = |p: f64| {
            let i = ((p / 100.0) * samples.len() as f64).ceil() as usize;
            f64::from(samples[i.clamp(1, samples.len()) - 1]) / 1000.0
        };
        let sum: u64 = samples.iter().map(|v| u64::from(*v)).sum();
        Latency {
            count: samples.len(),
            p50_ms: rank(50.0),
            p90_ms: rank(90.0),
            p99_ms: rank(99.0),
            max_ms: f64::from(samples[samples.len() - 1]) / 1000.0,
            mean_ms: sum as f64 / samples.len() as f64 / 1000.0,
        }
    }

    pub fn brief(&self) -> String {
        if self.count == 0 {
            return "no samples".into();
        }
        format!(
            "p50 {:.2} / p90 {:.2} / p99 {:.2} / max {:.2} ms (n={})",
            self.p50_ms, self.p90_ms, self.p99_ms, self.max_ms, self.count
        )
    }
}

/// Seconds (from `start_us`) in which some latency exceeded `threshold_ms`: (second, how
/// many, worst ms). Shows whether a bad p99 is one stall or spread over the run.
pub fn slow_seconds(
    samples: &[(u64, u32)],
    start_us: u64,
    threshold_ms: f64,
) -> Vec<(u64, u64, f64)> {
    let mut by_second: std::collections::BTreeMap<u64, (u64, u32)> = Default::default();
    for (at, latency) in samples {
        if f64::from(*latency) / 1000.0 > threshold_ms {
            let entry = by_second
                .entry(at.saturating_sub(start_us) / 1_000_000)
                .or_default();
            entry.0 += 1;
            entry.1 = entry.1.max(*latency);
        }
    }
    by_second
        .into_iter()
        .map(|(second, (count, worst))| (second, count, f64::from(worst) / 1000.0))
        .collect()
}

pub fn describe_slow_seconds(slow: &[(u64, u64, f64)]) -> String {
    if slow.is_empty() {
        return "none".into();
    }
    let listed: Vec<String> = slow
        .iter()
        .take(8)
        .map(|(s, n, worst)| format!("t={s}s: {n} (max {worst:.0} ms)"))
        .collect();
    format!(
        "{} s of the run{}: {}",
        slow.len(),
        if slow.len() > 8 { ", first 8" } else { "" },
        listed.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    fn message(seq: i64, body: String) -> Message {
        serde_json::from_value(serde_json::json!({
            "id": seq, "room_id": 1, "seq": seq, "sender_id": 1, "body": body,
            "client_id": format!("c{seq}"), "created_at": "2026-11-25T10:00:00.123Z"
        }))
        .unwrap()
    }

    #[test]
    fn bodies_round_trip_and_are_padded() {
        let body = make_body(7, 42, 64);
        assert_eq!(body.len(), 64);
        let stamp = parse_body(&body).unwrap();
        assert_eq!((stamp.stream, stamp.n), (7, 42));
        assert!(parse_body("hello").is_none());
    }

    #[test]
    fn inbox_counts_duplicates_disorder_and_foreign_messages() {
        let mut inbox = Inbox::default();
        inbox.on_message(&message(1, make_body(3, 0, 0)), 3, true);
        inbox.on_message(&message(3, make_body(3, 2, 0)), 3, true);
        inbox.on_message(&message(2, make_body(3, 1, 0)), 3, true);
        inbox.on_message(&message(3, make_body(3, 2, 0)), 3, true);
        inbox.on_message(&message(4, make_body(9, 3, 0)), 3, true);
        inbox.on_message(&message(5, "hi".into()), 3, true);
        assert_eq!(inbox.received, 3);
        assert_eq!(inbox.disorder, 1);
        assert_eq!(inbox.duplicates, 1);
        assert_eq!(inbox.foreign, 2);
        assert!(inbox.has(0) && inbox.has(1) && inbox.has(2) && !inbox.has(3));
        assert_eq!(inbox.latencies.len(), 3);
    }

    #[test]
    fn updates_keep_the_highest_rev_and_time_each_rev() {
        let version = |rev: i64, body: &str| {
            let mut m = message(4, body.into());
            m.rev = rev;
            m
        };
        let mut updates = Updates::default();
        updates.on_update(&version(10, "a"));
        updates.on_update(&version(12, "c"));
        updates.on_update(&version(11, "b"));
        updates.on_update(&version(12, "c"));
        assert_eq!(updates.received, 3);
        assert_eq!(updates.duplicates, 1);
        assert_eq!(updates.stale, 1);
        assert_eq!(updates.latest(4).map(|m| m.rev), Some(12));
        assert!(updates.arrival(11).is_some() && updates.arrival(13).is_none());
        assert!(updates.latest(5).is_none());
    }

    #[test]
    fn slow_seconds_are_grouped_by_second() {
        let samples = [
            (1_000_000, 500_000),
            (1_500_000, 200_000),
            (3_000_000, 1_000),
            (4_200_000, 150_000),
        ];
        let slow = slow_seconds(&samples, 1_000_000, 100.0);
        assert_eq!(slow, vec![(0, 2, 500.0), (3, 1, 150.0)]);
        assert!(describe_slow_seconds(&slow).starts_with("2 s of the run"));
    }

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let lat = Latency::from_us((1..=100).map(|v| v * 1000).collect());
        assert_eq!(lat.p50_ms, 50.0);
        assert_eq!(lat.p90_ms, 90.0);
        assert_eq!(lat.p99_ms, 99.0);
        assert_eq!(lat.max_ms, 100.0);
        assert_eq!(Latency::from_us(vec![]).count, 0);
    }
}
