//! Every setting is a flag and an environment variable with a laptop-friendly default.

use anyhow::{bail, Context};
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone, Parser)]
#[command(
    name = "chat-server",
    version,
    about = "A self-hosted 1:1 chat: REST + websocket API and the web app, on SQLite or PostgreSQL."
)]
pub struct Settings {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Address to listen on (`…:0` picks a free port and logs it).
    #[arg(long, env = "CHAT_BIND", default_value = "127.0.0.1:8080")]
    pub bind: String,

    /// `sqlite://PATH` or `postgres://…`.
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://data/chat.db")]
    pub database_url: String,

    /// `redis://…` turns on cross-instance fan-out (unset: in-process).
    #[arg(long, env = "REDIS_URL")]
    pub redis_url: Option<String>,

    /// Prefix of every Redis key and channel, so several deployments can share one Redis.
    #[arg(long, env = "CHAT_REDIS_PREFIX", default_value = "chat")]
    pub redis_prefix: String,

    /// Seconds over which the sockets are closed when Redis comes back after an outage (their
    /// clients reconnect and catch up), so they do not all reconnect at once.
    #[arg(long, env = "CHAT_RECONNECT_SPREAD_SECS", default_value_t = 10)]
    pub reconnect_spread_secs: u64,

    /// The SPA bundle to serve; the server still runs without it.
    #[arg(long, env = "CHAT_STATIC_DIR", default_value = "frontend/dist")]
    pub static_dir: PathBuf,

    /// Comma-separated origins allowed for CORS and the websocket `Origin` (the server's own
    /// origin is always allowed).
    #[arg(long, env = "CHAT_ALLOWED_ORIGINS", value_delimiter = ',')]
    pub allowed_origins: Vec<String>,

    /// Log filter (tracing's EnvFilter syntax).
    #[arg(long = "log", env = "RUST_LOG", default_value = "info")]
    pub log_filter: String,

    /// HTTP worker threads (0: one per core).
    #[arg(long, env = "CHAT_WORKERS", default_value_t = 0)]
    pub workers: usize,

    /// Most pooled database connections per instance.
    #[arg(long, env = "CHAT_DB_POOL_SIZE", default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..))]
    pub db_pool_size: u32,

    /// Seconds to wait for a pooled connection before answering 503.
    #[arg(long, env = "CHAT_DB_TIMEOUT_SECS", default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..))]
    pub db_timeout_secs: u64,

    /// Sends waiting to be stored before new ones get 503 (the writer group-commits them).
    #[arg(long, env = "CHAT_WRITE_QUEUE", default_value_t = 65_536, value_parser = positive_usize())]
    pub write_queue: usize,

    /// Message-writer threads, each group-committing the rooms assigned to it (0: 1 on
    /// SQLite, 4 on PostgreSQL).
    #[arg(long, env = "CHAT_WRITERS", default_value_t = 0)]
    pub writers: usize,

    /// Password hashes computed at once (0: one less than the cores, at least 1). Argon2
    /// takes 19 MiB and a core for tens of milliseconds each: a login storm queues here
    /// instead of exhausting memory and starving the chat traffic.
    #[arg(long, env = "CHAT_HASH_CONCURRENCY", default_value_t = 0)]
    pub hash_concurrency: usize,

    /// Failed logins per username per minute before 429 (guessing one account's password).
    #[arg(long, env = "CHAT_LOGIN_FAILURES_PER_MINUTE", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    pub login_failures_per_minute: u32,

    /// Failed logins per client address per minute, whatever the usernames, before 429
    /// (trying many accounts from one place). Higher than the per-username limit: many
    /// people may share one address (an office, a NAT, a test run).
    #[arg(
        long,
        env = "CHAT_LOGIN_FAILURES_PER_ADDRESS_PER_MINUTE",
        default_value_t = 300,
        value_parser = clap::value_parser!(u32).range(1..)
    )]
    pub login_failures_per_address_per_minute: u32,

    /// Sustained messages per second per user.
    #[arg(long, env = "CHAT_MESSAGES_PER_SECOND", default_value_t = 20.0)]
    pub messages_per_second: f64,

    /// Messages a user may send in a burst above the sustained rate.
    #[arg(long, env = "CHAT_MESSAGE_BURST", default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..))]
    pub message_burst: u32,

    /// Seconds a new websocket has to authenticate.
    #[arg(long, env = "CHAT_WS_AUTH_TIMEOUT_SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    pub ws_auth_timeout_secs: u64,

    /// Frames queued per socket before a slow reader is disconnected (close 1008).
    #[arg(long, env = "CHAT_WS_QUEUE", default_value_t = 256, value_parser = positive_usize())]
    pub ws_queue: usize,

    /// Seconds between protocol-level pings.
    #[arg(long, env = "CHAT_WS_HEARTBEAT_SECS", default_value_t = 15, value_parser = clap::value_parser!(u64).range(1..))]
    pub ws_heartbeat_secs: u64,

    /// Seconds of silence after which a socket is considered dead and closed.
    #[arg(long, env = "CHAT_WS_IDLE_TIMEOUT_SECS", default_value_t = 45)]
    pub ws_idle_timeout_secs: u64,

    /// Seconds a connection may take none of what is sent to it (a peer that stopped reading,
    /// or vanished) before it is dropped: a websocket's write gives up and the socket is
    /// closed (1008); two seconds later the kernel aborts the connection (TCP_USER_TIMEOUT),
    /// releasing its memory and file descriptor.
    #[arg(long, env = "CHAT_SEND_TIMEOUT_SECS", default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..))]
    pub send_timeout_secs: u64,

    /// Days a session token stays valid.
    #[arg(long, env = "CHAT_SESSION_DAYS", default_value_t = 30, value_parser = clap::value_parser!(i64).range(1..))]
    pub session_days: i64,

    /// Comma-separated proxy addresses whose X-Forwarded-For / X-Real-IP are believed.
    #[arg(long, env = "CHAT_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<IpAddr>,

    /// Where attachments live: `file://PATH` or `s3://BUCKET/PREFIX` (credentials and
    /// endpoint from `AWS_*`). Unset: a folder `uploads` beside the SQLite file (or
    /// `data/uploads` on PostgreSQL).
    #[arg(long, env = "CHAT_UPLOAD_STORE")]
    pub upload_store: Option<String>,

    /// Largest upload in bytes (413 beyond it).
    #[arg(long, env = "CHAT_UPLOAD_MAX_BYTES", default_value_t = 25 * 1024 * 1024, value_parser = clap::value_parser!(u64).range(1..))]
    pub upload_max_bytes: u64,

    /// Uploads per user per minute before 429.
    #[arg(long, env = "CHAT_UPLOADS_PER_MINUTE", default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..))]
    pub uploads_per_minute: u32,

    /// Seconds an upload no message holds is kept before it is deleted.
    #[arg(long, env = "CHAT_UPLOAD_ORPHAN_SECS", default_value_t = 24 * 3600, value_parser = clap::value_parser!(u64).range(1..))]
    pub upload_orphan_secs: u64,

    /// Seconds between sweeps of unsent uploads and of stored objects no row names.
    #[arg(long, env = "CHAT_UPLOAD_SWEEP_SECS", default_value_t = 600, value_parser = clap::value_parser!(u64).range(1..))]
    pub upload_sweep_secs: u64,

    /// Largest JSON request body in bytes.
    #[arg(long, env = "CHAT_MAX_BODY_BYTES", default_value_t = 64 * 1024, value_parser = positive_usize())]
    pub max_body_bytes: usize,
}

/// Sizes and counts that must be at least 1 (clap ranges only `u64`-like types directly).
fn positive_usize() -> clap::builder::RangedU64ValueParser<usize> {
    clap::builder::RangedU64ValueParser::<usize>::new().range(1..)
}

/// Without a command, `chat-server` serves.
#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Manage administrators; works on the same DATABASE_URL while the server runs.
    Admin {
        #[command(subcommand)]
        action: AdminCommand,
    },
    /// Fill the database with generated conversations for load tests (see `cli::seed`).
    Seed(SeedArgs),
}

/// `chat-server seed`: users `{prefix}{i}` sharing one password, each room a pair of them, and
/// messages of mixed English and Korean text stored by the same group commit as sends
/// (numbered, indexed for search). Prints what it made as one JSON line.
#[derive(Debug, Clone, clap::Args)]
pub struct SeedArgs {
    #[arg(long, default_value = "seed")]
    pub prefix: String,
    #[arg(long, default_value_t = 100)]
    pub users: usize,
    #[arg(long, default_value_t = 1000)]
    pub rooms: usize,
    /// Messages in all, spread evenly over the rooms.
    #[arg(long, default_value_t = 100_000)]
    pub messages: usize,
    /// The users' password (they sign in with it; never a real account's).
    #[arg(long, default_value = "seed-password-1")]
    pub password: String,
}

#[derive(Debug, Clone, Subcommand)]
pub enum AdminCommand {
    /// Make USERNAME an administrator, creating the account when it does not exist (its
    /// password is read from standard input, or prompted for on a terminal; never from argv).
    Create {
        #[arg(long)]
        username: String,
        /// Display name for a new account (default: the username).
        #[arg(long)]
        display_name: Option<String>,
    },
    /// List the administrators.
    List,
}

impl Settings {
    /// Built-in defaults only, whatever the environment says (tests start from here, so a
    /// `REDIS_URL` in a developer's shell cannot leak into every test server).
    pub fn defaults() -> Self {
        Self::parse_without_env(["chat-server"]).unwrap_or_else(|e| e.exit())
    }

    /// Parses flags only, ignoring every environment variable.
    pub fn parse_without_env<I, T>(args: I) -> Result<Self, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        let command = Self::command().mut_args(|arg| arg.env(None));
        Self::from_arg_matches(&command.try_get_matches_from(args)?)
    }

    /// `CHAT_UPLOAD_STORE`, or its default beside the SQLite file.
    pub fn upload_store_url(&self) -> String {
        if let Some(url) = &self.upload_store {
            return url.clone();
        }
        match crate::db::DbUrl::parse(&self.database_url) {
            Ok(crate::db::DbUrl::Sqlite(file)) => {
                let folder = file
                    .parent()
                    .filter(|p| !p.as_os_str().is_empty())
                    .map(|p| p.join("uploads"))
                    .unwrap_or_else(|| PathBuf::from("uploads"));
                format!("file://{}", folder.display())
            }
            _ => "file://data/uploads".to_owned(),
        }
    }

    /// Rejects nonsense at start-up with a message that says what to change.
    pub fn validate(&self) -> anyhow::Result<()> {
        self.bind
            .parse::<SocketAddr>()
            .with_context(|| format!("CHAT_BIND must be HOST:PORT, got {:?}", self.bind))?;
        crate::db::DbUrl::parse(&self.database_url)?;
        if let Some(url) = &self.redis_url {
            if !url.starts_with("redis://") && !url.starts_with("rediss://") {
                bail!("REDIS_URL must start with redis:// (got {url:?})");
            }
        }
        for origin in &self.allowed_origins {
            crate::origin::parse_origin(origin).with_context(|| {
                format!("CHAT_ALLOWED_ORIGINS: {origin:?} is not an origin like https://chat.example.com")
            })?;
        }
        if !(self.messages_per_second > 0.0 && self.messages_per_second.is_finite()) {
            bail!("CHAT_MESSAGES_PER_SECOND must be a positive number");
        }
        if self.ws_idle_timeout_secs <= self.ws_heartbeat_secs {
            bail!("CHAT_WS_IDLE_TIMEOUT_SECS must be longer than CHAT_WS_HEARTBEAT_SECS");
        }
        Ok(())
    }

    /// Message-writer threads: one for SQLite (one writer at a time anyway), a few for
    /// PostgreSQL (their transactions overlap) unless `CHAT_WRITERS` says otherwise.
    pub fn writer_lanes(&self, backend: &str) -> usize {
        match (self.writers, backend) {
            (0, "sqlite") => 1,
            (0, _) => 4,
            (n, _) => n,
        }
    }

    pub fn hash_permits(&self) -> usize {
        match self.hash_concurrency {
            0 => std::thread::available_parallelism()
                .map_or(1, |n| n.get().saturating_sub(1))
                .max(1),
            n => n,
        }
    }

    pub fn reconnect_spread(&self) -> Duration {
        Duration::from_secs(self.reconnect_spread_secs)
    }

    pub fn heartbeat(&self) -> Duration {
        Duration::from_secs(self.ws_heartbeat_secs)
    }

    pub fn idle_timeout(&self) -> Duration {
        Duration::from_secs(self.ws_idle_timeout_secs)
    }

    pub fn send_timeout(&self) -> Duration {
        Duration::from_secs(self.send_timeout_secs)
    }

    /// The kernel's limit (TCP_USER_TIMEOUT): later than `send_timeout`, so the server's own
    /// close (counted, with its 1008 frame when it still fits) comes first and the kernel's
    /// abort only finishes the job.
    pub fn kernel_send_timeout(&self) -> Duration {
        self.send_timeout() + Duration::from_secs(2)
    }

    pub fn auth_timeout(&self) -> Duration {
        Duration::from_secs(self.ws_auth_timeout_secs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        Settings::defaults().validate().unwrap();
    }

    #[test]
    fn defaults_ignore_the_environment() {
        // Set in this process only for the length of the test; no other test reads it.
        std::env::set_var("CHAT_REDIS_PREFIX", "leaked");
        let settings = Settings::defaults();
        std::env::remove_var("CHAT_REDIS_PREFIX");
        assert_eq!(settings.redis_prefix, "chat");
    }

    #[test]
    fn nonsense_is_rejected_with_the_variable_name() {
        let mut s = Settings::defaults();
        s.bind = "localhost".into();
        assert!(s.validate().unwrap_err().to_string().contains("CHAT_BIND"));
        let zero = Settings::parse_without_env(["chat-server", "--ws-queue", "0"]);
        assert!(zero.unwrap_err().to_string().contains("--ws-queue"));
        let zero = Settings::parse_without_env(["chat-server", "--db-timeout-secs", "0"]);
        assert!(zero.unwrap_err().to_string().contains("--db-timeout-secs"));
        let mut s = Settings::defaults();
        s.allowed_origins = vec!["not an origin".into()];
        assert!(s
            .validate()
            .unwrap_err()
            .to_string()
            .contains("CHAT_ALLOWED_ORIGINS"));
        let mut s = Settings::defaults();
        s.database_url = "mysql://x".into();
        assert!(s.validate().is_err());
    }
}
