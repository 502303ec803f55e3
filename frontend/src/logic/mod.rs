//! The chat's rules as plain Rust: no browser APIs here, so every function is unit-tested
//! natively with `cargo test -p frontend`. Components only render what these compute.

pub mod attach;
pub mod backoff;
pub mod emoji;
pub mod frames;
pub mod layout;
pub mod lifecycle;
pub mod links;
pub mod outbox;
pub mod search;
pub mod sort;
pub mod text;
pub mod time;
pub mod timeline;
pub mod typing;
pub mod unread;
pub mod window;
