//! In-memory rate limits: failed logins per key per minute, and a rate per sender.
//!
//! Both keep an entry per key seen recently; `sweep` (run on a timer, see
//! `startup::sweep_limits`) forgets the ones that no longer limit anybody, so a flood of
//! keys cannot grow memory and no request pays for the sweep.

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::collections::HashMap;
use std::hash::Hash;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const LOGIN_WINDOW: Duration = Duration::from_secs(60);

/// Counts failures per key in fixed one-minute windows. Not governor: a login must be
/// refused *before* the password is checked, without using up an attempt, and only failures
/// count; governor's keyed limiter has no look without taking a cell.
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

    /// Forgets the windows that have ended.
    pub fn sweep(&self) {
        let now = Instant::now();
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        windows.retain(|_, (start, _)| now.duration_since(*start) < LOGIN_WINDOW);
        windows.shrink_to_fit();
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

    pub fn sweep(&self) {
        self.by_username.sweep();
        self.by_address.sweep();
    }
}

/// At most `rate` actions a second per key, with bursts of up to `burst` (governor's GCRA,
/// the token bucket's equivalent, sharded so senders do not contend on one lock).
pub struct PerKeyRate<K: Hash + Eq + Clone> {
    limiter: DefaultKeyedRateLimiter<K>,
}

impl<K: Hash + Eq + Clone> PerKeyRate<K> {
    /// `rate` must be positive and finite (the settings check it); `burst` at least 1.
    pub fn new(rate: f64, burst: u32) -> Self {
        let period = Duration::from_secs_f64(1.0 / rate).max(Duration::from_nanos(1));
        let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::with_period(period)
            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
            .allow_burst(burst);
        Self {
            limiter: RateLimiter::keyed(quota),
        }
    }

    /// Takes one action's allowance, or says how many whole seconds until one is available.
    pub fn try_take(&self, key: &K) -> Result<(), u64> {
        self.limiter.check_key(key).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            wait.as_secs_f64().ceil().max(1.0) as u64
        })
    }

    /// Forgets the keys whose allowance is full again (they would be created as full).
    pub fn sweep(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }

    #[cfg(test)]
    fn tracked(&self) -> usize {
        self.limiter.len()
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
    fn rates_allow_a_burst_then_refuse() {
        let rate = PerKeyRate::new(1.0, 5);
        for _ in 0..5 {
            assert!(rate.try_take(&1).is_ok());
        }
        assert_eq!(rate.try_take(&1), Err(1));
        assert!(rate.try_take(&2).is_ok(), "keys are independent");
    }

    #[test]
    fn a_sweep_forgets_only_keys_that_no_longer_limit() {
        let rate = PerKeyRate::new(1000.0, 1);
        rate.try_take(&1).unwrap();
        std::thread::sleep(Duration::from_millis(20));
        let slow = PerKeyRate::new(0.01, 1);
        slow.try_take(&2).unwrap();
        rate.sweep();
        slow.sweep();
        assert_eq!(rate.tracked(), 0, "refilled long ago");
        assert_eq!(slow.tracked(), 1, "still limited");
        assert!(slow.try_take(&2).is_err(), "the sweep kept its state");
    }

    #[test]
    fn a_sweep_forgets_ended_failure_windows_only() {
        let limiter = FailureLimiter::new(1);
        limiter.record_failure("alice");
        limiter.sweep();
        assert!(limiter.check("alice").is_err(), "the window is still open");
    }
}
