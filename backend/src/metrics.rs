//! Counters for `GET /metrics` in the Prometheus text format.

use std::fmt::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// Upper bounds (seconds) of the latency histograms' buckets.
const LATENCY_BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0];

/// A Prometheus histogram of durations over `LATENCY_BUCKETS`.
#[derive(Default)]
pub struct Histogram {
    buckets: [AtomicU64; LATENCY_BUCKETS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

impl Histogram {
    pub fn observe(&self, elapsed: Duration) {
        let secs = elapsed.as_secs_f64();
        for (bound, bucket) in LATENCY_BUCKETS.iter().zip(&self.buckets) {
            if secs <= *bound {
                bucket.fetch_add(1, Relaxed);
            }
        }
        self.count.fetch_add(1, Relaxed);
        self.sum_micros
            .fetch_add(elapsed.as_micros() as u64, Relaxed);
    }

    fn render(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        for (bound, bucket) in LATENCY_BUCKETS.iter().zip(&self.buckets) {
            let _ = writeln!(
                out,
                "{name}_bucket{{le=\"{bound}\"}} {}",
                bucket.load(Relaxed)
            );
        }
        let count = self.count.load(Relaxed);
        let _ = writeln!(
            out,
            "{name}_bucket{{le=\"+Inf\"}} {count}\n{name}_sum {}\n{name}_count {count}",
            self.sum_micros.load(Relaxed) as f64 / 1e6
        );
    }
}

#[derive(Default)]
pub struct Metrics {
    pub ws_connections: AtomicI64,
    pub ws_slow_consumers_closed: AtomicU64,
    pub messages_stored: AtomicU64,
    pub frames_delivered: AtomicU64,
    http_requests: Histogram,
    http_server_errors: AtomicU64,
    /// Reading an upload's type, size and making its thumbnail (images: the decode).
    pub upload_inspections: Histogram,
}

impl Metrics {
    pub fn observe_request(&self, elapsed: Duration, status: u16) {
        self.http_requests.observe(elapsed);
        if status >= 500 {
            self.http_server_errors.fetch_add(1, Relaxed);
        }
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        let mut metric = |name: &str, kind: &str, help: &str, value: String| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
            );
        };
        metric(
            "chat_ws_connections",
            "gauge",
            "Open authenticated websocket connections.",
            self.ws_connections.load(Relaxed).to_string(),
        );
        metric(
            "chat_ws_slow_consumers_closed_total",
            "counter",
            "Sockets closed because their outbound queue was full.",
            self.ws_slow_consumers_closed.load(Relaxed).to_string(),
        );
        metric(
            "chat_messages_stored_total",
            "counter",
            "Messages durably stored.",
            self.messages_stored.load(Relaxed).to_string(),
        );
        metric(
            "chat_frames_delivered_total",
            "counter",
            "Event frames queued to sockets.",
            self.frames_delivered.load(Relaxed).to_string(),
        );
        metric(
            "chat_http_server_errors_total",
            "counter",
            "HTTP answers with a 5xx status.",
            self.http_server_errors.load(Relaxed).to_string(),
        );
        self.http_requests.render(
            &mut out,
            "chat_http_request_duration_seconds",
            "HTTP request latency.",
        );
        self.upload_inspections.render(
            &mut out,
            "chat_upload_inspect_duration_seconds",
            "Reading an upload's type and size, and making an image's thumbnail.",
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative() {
        let m = Metrics::default();
        m.observe_request(Duration::from_millis(3), 200);
        m.observe_request(Duration::from_millis(700), 500);
        let text = m.render();
        assert!(text.contains("chat_http_request_duration_seconds_bucket{le=\"0.005\"} 1"));
        assert!(text.contains("chat_http_request_duration_seconds_bucket{le=\"1\"} 2"));
        assert!(text.contains("chat_http_request_duration_seconds_count 2"));
        assert!(text.contains("chat_http_server_errors_total 1"));
    }
}
