//! Storage: one connection type over SQLite and PostgreSQL, an r2d2 pool that picks the
//! backend from the `DATABASE_URL` scheme, embedded migrations, and `Db::run` that keeps every
//! diesel call off the async workers.

pub mod models;
pub mod schema;

use crate::error::AppError;
use anyhow::{bail, Context};
use diesel::connection::SimpleConnection;
use diesel::r2d2::{self, CustomizeConnection, ManageConnection, Pool};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel::Connection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use std::path::PathBuf;
use std::time::Duration;

#[cfg(not(any(feature = "sqlite", feature = "postgres")))]
compile_error!("enable at least one storage backend: feature `sqlite` or `postgres`");

#[cfg(feature = "sqlite")]
const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/sqlite");
#[cfg(feature = "postgres")]
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/postgres");

/// Serialises migrations when several instances start at once on a fresh PostgreSQL database.
#[cfg(feature = "postgres")]
const MIGRATION_LOCK_KEY: i64 = 0x6368_6174_6d69_6772; // "chatmigr"

#[derive(diesel::MultiConnection)]
pub enum DbConn {
    #[cfg(feature = "postgres")]
    Pg(diesel::PgConnection),
    #[cfg(feature = "sqlite")]
    Sqlite(diesel::SqliteConnection),
}

/// Runs one diesel expression on the backend's own connection (`$c`), written once: the
/// multi-backend wrapper serialises every query once more, which on the writer's hot path
/// cost a tenth of its time. Elsewhere the wrapper is fine.
#[macro_export]
macro_rules! on_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            #[cfg(feature = "postgres")]
            $crate::db::DbConn::Pg($c) => $body,
            #[cfg(feature = "sqlite")]
            $crate::db::DbConn::Sqlite($c) => $body,
        }
    };
}

/// Where the data lives, decided by the URL scheme alone (never by trying each backend).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbUrl {
    Sqlite(PathBuf),
    Postgres(String),
}

impl DbUrl {
    pub fn parse(url: &str) -> anyhow::Result<Self> {
        if let Some(path) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            if path.is_empty() || path.starts_with(":memory:") {
                bail!("DATABASE_URL: give SQLite a file path (sqlite://data/chat.db); an in-memory database would be lost and differs per pooled connection");
            }
            if !cfg!(feature = "sqlite") {
                bail!("DATABASE_URL is SQLite but this build has no `sqlite` feature");
            }
            return Ok(DbUrl::Sqlite(PathBuf::from(path)));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            if !cfg!(feature = "postgres") {
                bail!("DATABASE_URL is PostgreSQL but this build has no `postgres` feature");
            }
            return Ok(DbUrl::Postgres(url.to_owned()));
        }
        bail!("DATABASE_URL must start with sqlite:// or postgres:// (got {url:?})")
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            DbUrl::Sqlite(_) => "sqlite",
            DbUrl::Postgres(_) => "postgres",
        }
    }
}

pub struct ConnManager {
    url: DbUrl,
}

impl ManageConnection for ConnManager {
    type Connection = DbConn;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConn, r2d2::Error> {
        match &self.url {
            #[cfg(feature = "sqlite")]
            DbUrl::Sqlite(path) => {
                diesel::SqliteConnection::establish(&path.to_string_lossy()).map(DbConn::Sqlite)
            }
            #[cfg(feature = "postgres")]
            DbUrl::Postgres(url) => diesel::PgConnection::establish(url).map(DbConn::Pg),
            #[allow(unreachable_patterns)]
            _ => Err(diesel::ConnectionError::BadConnection(
                "backend not compiled in".into(),
            )),
        }
        .map_err(r2d2::Error::ConnectionError)
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), r2d2::Error> {
        conn.batch_execute("SELECT 1")
            .map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, _conn: &mut DbConn) -> bool {
        // A broken connection is found by `is_valid` at check-out.
        false
    }
}

/// SQLite's safety and concurrency settings are per connection, so apply them to each one.
#[derive(Debug)]
struct SqlitePragmas;

impl CustomizeConnection<DbConn, r2d2::Error> for SqlitePragmas {
    fn on_acquire(&self, conn: &mut DbConn) -> Result<(), r2d2::Error> {
        #[cfg(feature = "sqlite")]
        if let DbConn::Sqlite(c) = conn {
            c.batch_execute(
                // FULL: an acknowledged message survives power loss too; group commit
                // (see writer.rs) pays for the extra fsync. No automatic checkpoints: the
                // checkpointer thread runs them, off the commits' path (see `checkpointer`).
                "PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000; \
                 PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; \
                 PRAGMA wal_autocheckpoint = 0;",
            )
            .map_err(r2d2::Error::QueryError)?;
        }
        let _ = conn;
        Ok(())
    }
}

/// The pool handle handed to the rest of the app.
#[derive(Clone)]
pub struct Db {
    pool: Pool<ConnManager>,
    backend: &'static str,
    /// Alive while any handle is: the SQLite checkpointer stops when the last one goes.
    _alive: std::sync::Arc<()>,
}

pub struct PoolOptions {
    pub max_size: u32,
    pub connection_timeout: Duration,
}

impl Db {
    /// Creates the SQLite file's folder if needed, applies migrations, then builds the pool.
    pub fn connect(url: &str, options: &PoolOptions) -> anyhow::Result<Db> {
        let url = DbUrl::parse(url)?;
        if let DbUrl::Sqlite(path) = &url {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("creating the SQLite folder {}", dir.display()))?;
            }
        }
        run_migrations(&url)?;
        let backend = url.backend_name();
        let alive = std::sync::Arc::new(());
        #[cfg(feature = "sqlite")]
        if let DbUrl::Sqlite(path) = &url {
            checkpointer(path.clone(), std::sync::Arc::downgrade(&alive))?;
        }
        let pool = Pool::builder()
            .max_size(options.max_size)
            .connection_timeout(options.connection_timeout)
            .connection_customizer(Box::new(SqlitePragmas))
            .build(ConnManager { url })
            .context("opening the database connection pool")?;
        Ok(Db {
            pool,
            backend,
            _alive: alive,
        })
    }

    pub fn backend(&self) -> &'static str {
        self.backend
    }

    /// Runs `f` with a pooled connection on the blocking thread pool. A pool that cannot hand
    /// out a connection within its timeout answers `Unavailable` rather than hanging.
    pub async fn run<F, T>(&self, f: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut DbConn) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        actix_web::web::block(move || {
            let mut conn = pool.get().map_err(|e| {
                tracing::warn!(error = %e, "no database connection available");
                AppError::Unavailable("the database is unavailable".into())
            })?;
            f(&mut conn)
        })
        .await
        .map_err(|e| AppError::internal(anyhow::anyhow!("blocking task failed: {e}")))?
    }

    /// Synchronous access for command-line tools and start-up code (never from async handlers).
    pub fn get_blocking(&self) -> Result<r2d2::PooledConnection<ConnManager>, AppError> {
        self.pool
            .get()
            .map_err(|_| AppError::Unavailable("the database is unavailable".into()))
    }
}

/// Copies SQLite's write-ahead log into the database file on a thread of its own, so that no
/// commit (a message batch, a login's session) pays for a checkpoint's writes and fsync: with
/// automatic checkpoints, the commit that crossed the WAL's size threshold did, and a slow
/// flush of the disk then held every message behind it. PASSIVE never blocks a writer.
#[cfg(feature = "sqlite")]
fn checkpointer(path: PathBuf, alive: std::sync::Weak<()>) -> anyhow::Result<()> {
    const EVERY: Duration = Duration::from_millis(500);
    let mut conn = diesel::SqliteConnection::establish(&path.to_string_lossy())
        .with_context(|| format!("opening SQLite database {}", path.display()))?;
    conn.batch_execute("PRAGMA busy_timeout = 5000; PRAGMA wal_autocheckpoint = 0;")?;
    std::thread::Builder::new()
        .name("sqlite-checkpoint".into())
        .spawn(move || {
            while alive.strong_count() > 0 {
                std::thread::sleep(EVERY);
                if let Err(e) = conn.batch_execute("PRAGMA wal_checkpoint(PASSIVE);") {
                    tracing::warn!(error = %e, "SQLite checkpoint failed; retrying");
                }
            }
        })
        .context("starting the SQLite checkpointer")?;
    Ok(())
}

fn run_migrations(url: &DbUrl) -> anyhow::Result<()> {
    match url {
        #[cfg(feature = "sqlite")]
        DbUrl::Sqlite(path) => {
            let mut conn = diesel::SqliteConnection::establish(&path.to_string_lossy())
                .with_context(|| format!("opening SQLite database {}", path.display()))?;
            conn.batch_execute("PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000;")?;
            conn.run_pending_migrations(SQLITE_MIGRATIONS)
                .map_err(|e| anyhow::anyhow!("applying SQLite migrations: {e}"))?;
        }
        #[cfg(feature = "postgres")]
        DbUrl::Postgres(raw) => {
            let mut conn = diesel::PgConnection::establish(raw)
                .context("connecting to PostgreSQL (check DATABASE_URL)")?;
            conn.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})"))?;
            let result = conn
                .run_pending_migrations(POSTGRES_MIGRATIONS)
                .map(|_| ())
                .map_err(|e| anyhow::anyhow!("applying PostgreSQL migrations: {e}"));
            conn.batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})"))?;
            result?;
        }
        #[allow(unreachable_patterns)]
        _ => bail!("this build lacks the backend for {url:?}"),
    }
    Ok(())
}

/// True when a diesel error is a unique-constraint violation (a lost race or a duplicate).
/// The connection failed rather than the statement: closed, could not send, the server
/// shutting down (PostgreSQL restarting), or no room left on the disk. The store is
/// unavailable then (503 / `unavailable`), and the connection must not be reused. diesel
/// exposes no SQLSTATE, so the last cases are recognised by the servers' own messages.
pub fn is_connection_lost(err: &DieselError) -> bool {
    const LOST: [&str; 5] = [
        "terminating connection",
        "server closed the connection",
        "connection to server",
        "the database system is shutting down",
        "database or disk is full",
    ];
    match err {
        DieselError::DatabaseError(
            DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
            _,
        )
        | DieselError::BrokenTransactionManager => true,
        DieselError::DatabaseError(_, info) => {
            let message = info.message();
            LOST.iter().any(|lost| message.contains(lost))
        }
        _ => false,
    }
}

/// PostgreSQL gave up on the transaction to break a deadlock or a serialisation conflict:
/// nothing of it was stored, and it may simply be tried again.
pub fn is_transient(err: &DieselError) -> bool {
    match err {
        DieselError::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => true,
        DieselError::DatabaseError(_, info) => info.message().contains("deadlock detected"),
        _ => false,
    }
}

pub fn is_unique_violation(err: &DieselError) -> bool {
    matches!(
        err,
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)
    )
}

/// Times are stored as UTC `TIMESTAMP`s set by the application, at millisecond precision so
/// that SQLite and PostgreSQL round-trip them identically.
pub fn now() -> chrono::NaiveDateTime {
    let now = chrono::Utc::now().naive_utc();
    let millis = now.and_utc().timestamp_millis();
    chrono::DateTime::from_timestamp_millis(millis)
        .map(|t| t.naive_utc())
        .unwrap_or(now)
}

pub fn to_utc(t: chrono::NaiveDateTime) -> chrono::DateTime<chrono::Utc> {
    t.and_utc()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls_pick_the_backend_by_scheme() {
        assert_eq!(
            DbUrl::parse("sqlite://data/chat.db").unwrap(),
            DbUrl::Sqlite("data/chat.db".into())
        );
        assert_eq!(
            DbUrl::parse("sqlite:///tmp/x.db").unwrap(),
            DbUrl::Sqlite("/tmp/x.db".into())
        );
        assert!(matches!(
            DbUrl::parse("postgres://root@127.0.0.1/test").unwrap(),
            DbUrl::Postgres(_)
        ));
        assert!(DbUrl::parse("mysql://x").is_err());
        assert!(DbUrl::parse("sqlite::memory:").is_err());
        assert!(DbUrl::parse("data/chat.db").is_err());
    }

    fn database(kind: DatabaseErrorKind, message: &str) -> DieselError {
        DieselError::DatabaseError(kind, Box::new(message.to_owned()))
    }

    /// Built anew for each use: diesel's error is not Clone.
    fn lost_connections() -> Vec<DieselError> {
        vec![
            database(DatabaseErrorKind::ClosedConnection, "closed"),
            database(DatabaseErrorKind::UnableToSendCommand, "no send"),
            database(
                DatabaseErrorKind::Unknown,
                "terminating connection due to administrator command",
            ),
            database(DatabaseErrorKind::Unknown, "database or disk is full"),
            DieselError::BrokenTransactionManager,
        ]
    }

    #[test]
    fn a_lost_connection_is_unavailable_and_a_bad_statement_is_not() {
        for err in lost_connections() {
            assert!(is_connection_lost(&err), "{err}");
        }
        for err in lost_connections() {
            assert!(matches!(AppError::from(err), AppError::Unavailable(_)));
        }
        for err in [
            database(DatabaseErrorKind::UniqueViolation, "duplicate key"),
            DieselError::NotFound,
        ] {
            assert!(!is_connection_lost(&err), "{err}");
            assert!(matches!(AppError::from(err), AppError::Internal(_)));
        }
    }
}
