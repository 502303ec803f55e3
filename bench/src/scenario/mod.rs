//! The scenarios of issues 5, 14 and 16 and what they share.

pub mod burst;
pub mod history;
pub mod idle;
pub mod login;
pub mod pairs;
pub mod reactions;
pub mod search;
pub mod soak;
pub mod steady;
pub mod uploads;

use crate::api::Api;
use crate::report::Errors;
use crate::server::Server;
use std::sync::Arc;
use std::time::Duration;

/// One scenario's run: the server, a client for it, and the errors seen so far.
pub struct Ctx {
    pub api: Api,
    pub server: Server,
    pub quick: bool,
    /// Unique to this run: user names and client ids start with it.
    pub run: String,
    pub errors: Arc<Errors>,
    pub register_concurrency: usize,
}

impl Ctx {
    pub fn prefix(&self, scenario: &str) -> String {
        format!("{}{scenario}", self.run)
    }

    pub fn pids(&self) -> &[u32] {
        &self.server.pids
    }

    /// Longest a sender waits for room in its window. Generous in quick mode: CI machines
    /// are slow and quick mode must never fail on timing.
    pub fn ack_wait(&self) -> Duration {
        Duration::from_secs(if self.quick { 120 } else { 30 })
    }

    /// Longest to wait, after the last send, for every acknowledged message to arrive.
    pub fn drain_wait(&self) -> Duration {
        Duration::from_secs(if self.quick { 120 } else { 30 })
    }
}
