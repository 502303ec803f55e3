//! What every handler and socket shares.

use crate::config::Settings;
use crate::db::Db;
use crate::hashing::HashPool;
use crate::limits::{LoginLimits, TokenBuckets};
use crate::metrics::Metrics;
use crate::origin::OriginPolicy;
use crate::writer::MessageWriter;
use crate::ws::hub::FanOut;
use shared::UserId;
use std::sync::Arc;

pub struct AppState {
    pub settings: Settings,
    pub db: Db,
    pub hub: Arc<dyn FanOut>,
    pub origins: OriginPolicy,
    pub login_failures: LoginLimits,
    pub send_limiter: TokenBuckets<UserId>,
    /// Typing events beyond this rate are dropped silently (they are only hints).
    pub typing_limiter: TokenBuckets<UserId>,
    pub metrics: Arc<Metrics>,
    pub writer: MessageWriter,
    /// Argon2 threads (see `Settings::hash_concurrency`).
    pub password_hashing: HashPool,
}
