//! What every handler and socket shares.

use crate::config::Settings;
use crate::db::Db;
use crate::fanout::FanOut;
use crate::hashing::HashPool;
use crate::limits::{LoginLimits, PerKeyRate};
use crate::metrics::Metrics;
use crate::origin::OriginPolicy;
use crate::uploads::Uploads;
use crate::writer::MessageWriter;
use shared::UserId;
use std::sync::Arc;

pub struct AppState {
    pub settings: Settings,
    pub db: Db,
    pub hub: Arc<dyn FanOut>,
    pub origins: OriginPolicy,
    pub login_failures: LoginLimits,
    pub send_limiter: PerKeyRate<UserId>,
    /// Typing events beyond this rate are dropped silently (they are only hints).
    pub typing_limiter: PerKeyRate<UserId>,
    pub metrics: Arc<Metrics>,
    pub writer: MessageWriter,
    /// Argon2 threads (see `Settings::hash_concurrency`).
    pub password_hashing: HashPool,
    pub uploads: Uploads,
}
