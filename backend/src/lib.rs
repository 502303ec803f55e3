//! The chat server as a library: `startup::Application` builds it from `config::Settings`.

pub mod cli;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod fanout;
pub mod hashing;
pub mod limits;
pub mod metrics;
pub mod origin;
pub mod routes;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod uploads;
pub mod usecases;
pub mod writer;
pub mod ws;
