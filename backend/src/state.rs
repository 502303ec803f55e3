//! What every handler and socket shares.

use crate::config::Settings;
use crate::db::Db;
use crate::limits::{FailureLimiter, TokenBuckets};
use crate::metrics::Metrics;
use crate::origin::OriginPolicy;
use crate::ws::hub::FanOut;
use shared::UserId;
use std::sync::{Arc, Mutex, MutexGuard};

pub struct AppState {
    pub settings: Settings,
    pub db: Db,
    pub hub: Arc<dyn FanOut>,
    pub origins: OriginPolicy,
    pub login_failures: FailureLimiter,
    pub send_limiter: TokenBuckets<UserId>,
    /// Typing events beyond this rate are dropped silently (they are only hints).
    pub typing_limiter: TokenBuckets<UserId>,
    pub metrics: Arc<Metrics>,
    pub room_order: RoomOrder,
}

/// Held from a message's commit until it is handed to the fan-out, so that within one
/// instance the frames of a room leave in `seq` order even when senders race.
pub struct RoomOrder {
    stripes: Vec<Mutex<()>>,
}

impl RoomOrder {
    pub fn new(stripes: usize) -> Self {
        Self {
            stripes: (0..stripes.max(1)).map(|_| Mutex::new(())).collect(),
        }
    }

    pub fn lock(&self, room_id: i64) -> MutexGuard<'_, ()> {
        let stripe = room_id.unsigned_abs() as usize % self.stripes.len();
        self.stripes[stripe]
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }
}
