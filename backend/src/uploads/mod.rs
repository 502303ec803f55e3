//! Attachment bytes: where they are stored (`store`), what they are (`inspect`) and the
//! capability links that serve them (`links`). The use cases are in `usecases::uploads`.

pub mod inspect;
pub mod links;
pub mod store;

use crate::config::Settings;
use crate::limits::PerKeyRate;
use shared::UserId;
use store::Store;
use tokio::sync::Semaphore;

/// What every upload and download shares.
pub struct Uploads {
    pub store: Store,
    pub max_bytes: u64,
    pub limiter: PerKeyRate<UserId>,
    /// Image decodes at once: each may take up to 256 MiB and a core.
    pub decodes: Semaphore,
}

impl Uploads {
    pub fn new(settings: &Settings) -> anyhow::Result<Uploads> {
        let per_minute = settings.uploads_per_minute;
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Ok(Uploads {
            store: Store::open(&settings.upload_store_url())?,
            max_bytes: settings.upload_max_bytes,
            limiter: PerKeyRate::new(f64::from(per_minute) / 60.0, per_minute),
            decodes: Semaphore::new(cores.clamp(1, 4)),
        })
    }
}
