//! Counters for `GET /metrics` in the Prometheus text format.

use std::fmt::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// Upper bounds (seconds) of the request-latency histogram buckets.
const LATENCY_BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0];

#[derive(Default)]
pub struct Metrics {
    pub ws_connections: AtomicI64,
    pub ws_slow_consumers_closed: AtomicU64,
    pub messages_stored: AtomicU64,
    pub frames_delivered: AtomicU64,
    http_buckets: [AtomicU64; LATENCY_BUCKETS.len()],
    http_count: AtomicU64,
    http_sum_micros: AtomicU64,
    http_server_errors: AtomicU64,
}

impl Metrics {
    pub fn observe_request(&self, elapsed: Duration, status: u16) {
        let secs = elapsed.as_secs_f64();
        for (bound, bucket) in LATENCY_BUCKETS.iter().zip(&self.http_buckets) {
            if secs <= *bound {
                bucket.fetch_add(1, Relaxed);
            }
        }
        self.http_count.fetch_add(1, Relaxed);
        self.http_sum_micros
            .fetch_add(elapsed.as_micros() as u64, Relaxed);
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
        let _ = writeln!(
            out,
            "# HELP chat_http_request_duration_seconds HTTP request latency.\n\
             # TYPE chat_http_request_duration_seconds histogram"
        );
        for (bound, bucket) in LATENCY_BUCKETS.iter().zip(&self.http_buckets) {
            let _ = writeln!(
                out,
                "chat_http_request_duration_seconds_bucket{{le=\"{bound}\"}} {}",
                bucket.load(Relaxed)
            );
        }
        let count = self.http_count.load(Relaxed);
        let _ = writeln!(
            out,
            "chat_http_request_duration_seconds_bucket{{le=\"+Inf\"}} {count}\n\
             chat_http_request_duration_seconds_sum {}\n\
             chat_http_request_duration_seconds_count {count}",
            self.http_sum_micros.load(Relaxed) as f64 / 1e6
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
