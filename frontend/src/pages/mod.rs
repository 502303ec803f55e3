//! One component per route.

pub mod auth;
pub mod chat;
