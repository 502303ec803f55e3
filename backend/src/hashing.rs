//! Argon2 runs on a few dedicated threads, not on the shared blocking pool.
//!
//! Each hash takes 19 MiB and a core for tens of milliseconds. Bounding how many run at once
//! keeps a login storm from starving the chat traffic; running them on the same few threads
//! keeps the allocator from retaining 19 MiB in each of hundreds of blocking threads.

use crate::error::AppError;
use std::sync::mpsc::{self, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;

/// Hashes waiting for a thread before new ones get 503.
const QUEUE: usize = 4096;

type Job = Box<dyn FnOnce() + Send>;

pub struct HashPool {
    jobs: SyncSender<Job>,
}

impl HashPool {
    pub fn start(threads: usize) -> anyhow::Result<HashPool> {
        let (jobs, queue) = mpsc::sync_channel::<Job>(QUEUE);
        let queue = Arc::new(Mutex::new(queue));
        for n in 0..threads.max(1) {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("password-hash-{n}"))
                .spawn(move || loop {
                    let job = match queue.lock() {
                        Ok(receiver) => receiver.recv(),
                        Err(_) => return,
                    };
                    match job {
                        Ok(job) => job(),
                        Err(_) => return, // the pool was dropped
                    }
                })?;
        }
        Ok(HashPool { jobs })
    }

    /// Runs `work` (a hash or a verification) on one of the pool's threads.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, AppError> {
        let (reply, done) = oneshot::channel();
        self.jobs
            .try_send(Box::new(move || {
                let _ = reply.send(work());
            }))
            .map_err(|e| match e {
                TrySendError::Full(_) => {
                    AppError::Unavailable("too many sign-ins at once: retry shortly".into())
                }
                TrySendError::Disconnected(_) => {
                    AppError::Unavailable("the server is shutting down".into())
                }
            })?;
        done.await
            .map_err(|_| AppError::internal(anyhow::anyhow!("a password hash thread stopped")))
    }
}
