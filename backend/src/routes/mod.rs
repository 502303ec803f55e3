//! HTTP handlers: parse, authenticate, call the use cases, answer with the `shared` types.

pub mod account;
pub mod admin;
pub mod auth;
pub mod extract;
pub mod ops;
pub mod rooms;
pub mod spa;
pub mod uploads;
pub mod users;
