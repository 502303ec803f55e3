//! Black-box tests: the real server on port 0, real clients over TCP. The same suite runs on
//! SQLite (default) and on PostgreSQL (`TEST_DATABASE_URL=postgres://…`).

// Test code: a panic is a test failure, which is exactly what an unwrap should cause here.
#![allow(clippy::unwrap_used)]

mod account;
mod admin;
mod attachments;
mod auth;
mod bad_input;
mod cross_instance;
mod disk_full;
mod helpers;
mod lifecycle;
mod messages;
mod ops;
mod rooms;
mod search;
mod slow_reader;
mod websocket;
