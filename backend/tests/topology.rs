//! The production topology, with real processes: a private nginx (rendered from
//! `nginx/chat.conf.template`) in front of two `chat-server` processes (the binary this package
//! builds) sharing a fresh PostgreSQL database and a private `redis-server`.
//!
//! Run with `scripts/prod-test.sh` (or `cargo test -p backend --test topology`). Needs `nginx`,
//! `redis-server` and a PostgreSQL server (`TOPOLOGY_PG_URL`, else `TEST_DATABASE_URL`, else
//! `postgres://root@127.0.0.1:5432/test`); a missing one skips every test loudly, except with
//! `CI=true`, where it fails. `TOPOLOGY_KEEP=1` keeps each test's directory (configs, logs).

// Test code: a panic is a test failure, which is exactly what an unwrap should cause here.
#![allow(clippy::unwrap_used)]

// A test target's root resolves `mod x;` beside itself, hence the explicit paths.

#[path = "topology/attachments.rs"]
mod attachments;
#[path = "topology/bucket.rs"]
mod bucket;
#[path = "topology/client.rs"]
mod client;
#[path = "topology/cross_instance.rs"]
mod cross_instance;
#[path = "topology/edge.rs"]
mod edge;
#[path = "topology/failover.rs"]
mod failover;
#[path = "topology/harness.rs"]
mod harness;
#[path = "topology/lifecycle.rs"]
mod lifecycle;
#[path = "topology/origins.rs"]
mod origins;
#[path = "topology/pg_outage.rs"]
mod pg_outage;
#[path = "topology/redis_outage.rs"]
mod redis_outage;
#[path = "topology/slow_reader.rs"]
mod slow_reader;
