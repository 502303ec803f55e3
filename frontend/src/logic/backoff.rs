//! Reconnect delays: exponential backoff with jitter, so a restarted server is not hit by
//! every client at the same instant.

/// First retry waits about this long.
const BASE_MS: f64 = 500.0;
/// No wait is ever longer than this.
const MAX_MS: f64 = 15_000.0;

/// Delay before reconnect attempt number `attempt` (0-based). `jitter` is a random number in
/// `[0, 1)`; the delay lies in the upper half of the exponential window ("equal jitter"), so it
/// grows steadily yet two clients rarely retry together.
pub fn reconnect_delay_ms(attempt: u32, jitter: f64) -> u32 {
    let window = (BASE_MS * 2f64.powi(attempt.min(16) as i32)).min(MAX_MS);
    let jitter = jitter.clamp(0.0, 1.0);
    (window / 2.0 + window / 2.0 * jitter).round() as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_exponentially_within_the_jitter_window() {
        assert_eq!(reconnect_delay_ms(0, 0.0), 250);
        assert_eq!(reconnect_delay_ms(0, 1.0), 500);
        assert_eq!(reconnect_delay_ms(1, 0.0), 500);
        assert_eq!(reconnect_delay_ms(3, 0.5), 3000);
    }

    #[test]
    fn delays_are_capped_and_tolerate_bad_jitter() {
        assert_eq!(reconnect_delay_ms(10, 1.0), 15_000);
        assert_eq!(reconnect_delay_ms(u32::MAX, 0.0), 7_500);
        assert_eq!(reconnect_delay_ms(0, 7.0), 500);
        assert_eq!(reconnect_delay_ms(0, -1.0), 250);
    }
}
