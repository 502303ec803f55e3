//! The websocket endpoint `/ws`: one task per connection; its events come through
//! `crate::fanout`, its actions go to `crate::usecases`.

pub mod sequencer;
pub mod session;
