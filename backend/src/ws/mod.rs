//! The websocket endpoint `/ws`: one task per connection, events through the fan-out.

pub mod hub;
pub mod redis_hub;
pub mod sequencer;
pub mod session;
