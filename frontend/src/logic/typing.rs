//! The typing indicator: a sender throttle and how long a received `typing` is shown.

use shared::frames::TYPING_INTERVAL_MS;

/// A received `typing` event shows "typing…" for this long unless another one arrives.
pub const TYPING_SHOW_MS: f64 = 4_000.0;

/// Lets at most one `typing` frame through per [`TYPING_INTERVAL_MS`].
#[derive(Debug, Default, Clone, PartialEq)]
pub struct TypingThrottle {
    last_sent_ms: Option<f64>,
}

impl TypingThrottle {
    /// Whether a keystroke at `now_ms` should send a `typing` frame; records it if so.
    pub fn should_send(&mut self, now_ms: f64) -> bool {
        let due = match self.last_sent_ms {
            None => true,
            Some(last) => now_ms - last >= TYPING_INTERVAL_MS as f64 || now_ms < last,
        };
        if due {
            self.last_sent_ms = Some(now_ms);
        }
        due
    }

    /// After a message is sent the next keystroke announces typing again at once.
    pub fn reset(&mut self) {
        self.last_sent_ms = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sends_at_most_one_typing_per_interval() {
        let mut throttle = TypingThrottle::default();
        assert!(throttle.should_send(1_000.0));
        assert!(!throttle.should_send(1_500.0));
        assert!(!throttle.should_send(3_999.0));
        assert!(throttle.should_send(4_000.0));
        assert!(!throttle.should_send(4_001.0));
    }

    #[test]
    fn a_reset_or_a_clock_jump_backwards_allows_the_next_one() {
        let mut throttle = TypingThrottle::default();
        assert!(throttle.should_send(10_000.0));
        throttle.reset();
        assert!(throttle.should_send(10_001.0));
        assert!(throttle.should_send(5_000.0));
    }
}
