//! The rules of the chat, as plain functions over a storage connection. No HTTP here.

pub mod account;
pub mod admin;
pub mod attachments;
pub mod auth;
pub mod changes;
pub mod message_views;
pub mod messages;
pub mod rooms;
pub mod search;
pub mod users;
