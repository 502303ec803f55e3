//! One component per route.

pub mod admin;
pub mod auth;
pub mod chat;
pub mod settings;
