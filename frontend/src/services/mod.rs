//! Everything that talks to the outside: REST, the websocket, browser storage and APIs.
//! Components never do I/O themselves; they call these.

pub mod admin;
pub mod api;
pub mod chat;
pub mod config;
pub mod platform;
pub mod prefs;
pub mod session;
pub mod upload;
pub mod ws;
