//! In-memory rate limits: failed logins per key per minute, and a token bucket per sender.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const LOGIN_WINDOW: Duration = Duration::from_secs(60);
/// Above this many tracked keys, expired entries are swept (keeps attackers from growing memory).
const SWEEP_THRESHOLD: usize = 10_000;

/// Counts failures per key in fixed one-minute windows.
pub struct FailureLimiter {
    limit: u32,
    windows: Mutex<HashMap<String, (Instant, u32)>>,
}

impl FailureLimiter {
    pub fn new(limit: u32) -> Self {
        Self {
            limit,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// `Err(seconds to wait)` when `key` has used up its failures.
    pub fn check(&self, key: &str) -> Result<(), u64> {
        let now = Instant::now();
        let windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        match windows.get(key) {
            Some((start, count)) if *count >= self.limit => {
                let elapsed = now.duration_since(*start);
                match LOGIN_WINDOW.checked_sub(elapsed) {
                    Some(left) => Err(left.as_secs().max(1)),
                    None => Ok(()),
                }
            }
            _ => Ok(()),
        }
    }

    pub fn record_failure(&self, key: &str) {
        let now = Instant::now();
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        if windows.len() > SWEEP_THRESHOLD {
            windows.retain(|_, (start, _)| now.duration_since(*start) < LOGIN_WINDOW);
        }
        let entry = windows.entry(key.to_owned()).or_insert((now, 0));
        if now.duration_since(entry.0) >= LOGIN_WINDOW {
            *entry = (now, 0);
        }
        entry.1 += 1;
    }

    pub fn forget(&self, key: &str) {
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        windows.remove(key);
    }
}

/// Failed logins, limited per username (guessing one password) and, more loosely, per client
/// address (trying many accounts from one place).
pub struct LoginLimits {
    by_username: FailureLimiter,
    by_address: FailureLimiter,
}

impl LoginLimits {
    pub fn new(per_username: u32, per_address: u32) -> Self {
        Self {
            by_username: FailureLimiter::new(per_username),
            by_address: FailureLimiter::new(per_address),
        }
    }

    /// `Err(seconds to wait)` when either limit is used up.
    pub fn check(&self, username: &str, address: &str) -> Result<(), u64> {
        match (
            self.by_username.check(username),
            self.by_address.check(address),
        ) {
            (Ok(()), Ok(())) => Ok(()),
            (by_username, by_address) => Err(by_username
                .err()
                .unwrap_or(0)
                .max(by_address.err().unwrap_or(0))),
        }
    }

    pub fn failed(&self, username: &str, address: &str) {
        self.by_username.record_failure(username);
        self.by_address.record_failure(address);
    }

    /// A correct password clears the account's count (not the address's).
    pub fn succeeded(&self, username: &str) {
        self.by_username.forget(username);
    }
}

/// A token bucket per key: `rate` tokens a second, holding at most `burst`.
pub struct TokenBuckets<K> {
    rate: f64,
    burst: f64,
    buckets: Mutex<HashMap<K, (f64, Instant)>>,
}

impl<K: Hash + Eq + Clone> TokenBuckets<K> {
    pub fn new(rate: f64, burst: u32) -> Self {
        Self {
            rate,
            burst: f64::from(burst),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one token, or says how many seconds until one is available.
    pub fn try_take(&self, key: &K) -> Result<(), u64> {
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() > SWEEP_THRESHOLD {
            let full_after = Duration::from_secs_f64(self.burst / self.rate);
            buckets.retain(|_, (_, last)| now.duration_since(*last) < full_after);
        }
        let (tokens, last) = buckets.entry(key.clone()).or_insert((self.burst, now));
        *tokens = (*tokens + now.duration_since(*last).as_secs_f64() * self.rate).min(self.burst);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - *tokens) / self.rate).ceil().max(1.0) as u64)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_block_after_the_limit_per_key() {
        let limiter = FailureLimiter::new(3);
        for _ in 0..3 {
            assert!(limiter.check("alice").is_ok());
            limiter.record_failure("alice");
        }
        let wait = limiter.check("alice").unwrap_err();
        assert!((1..=60).contains(&wait));
        assert!(limiter.check("bob").is_ok());
        limiter.forget("alice");
        assert!(limiter.check("alice").is_ok());
    }

    #[test]
    fn login_limits_count_usernames_and_addresses_apart() {
        let limits = LoginLimits::new(2, 3);
        limits.failed("alice", "10.0.0.1");
        limits.failed("alice", "10.0.0.1");
        assert!(limits.check("alice", "10.0.0.2").is_err(), "per username");
        assert!(
            limits.check("bob", "10.0.0.1").is_ok(),
            "address still has one"
        );
        limits.failed("bob", "10.0.0.1");
        assert!(limits.check("carol", "10.0.0.1").is_err(), "per address");
        limits.succeeded("alice");
        assert!(limits.check("alice", "10.0.0.2").is_ok());
        assert!(
            limits.check("alice", "10.0.0.1").is_err(),
            "success clears the account, not the address"
        );
    }

    #[test]
    fn buckets_allow_a_burst_then_refuse() {
        let buckets = TokenBuckets::new(1.0, 5);
        for _ in 0..5 {
            assert!(buckets.try_take(&1).is_ok());
        }
        assert_eq!(buckets.try_take(&1), Err(1));
        assert!(buckets.try_take(&2).is_ok(), "keys are independent");
    }
}
