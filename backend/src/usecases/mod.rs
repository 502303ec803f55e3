//! The use cases: what a person (or an administrator) can do, as the REST handlers and the
//! websocket sessions both ask for it. Each one checks, stores through `domain`, then tells
//! the fan-out who must hear about it. Handlers and sessions parse, authenticate and map
//! errors; they never publish. Ids travel as the `shared` newtypes.

pub mod account;
pub mod messages;
pub mod moderation;
pub mod presence;
pub mod rooms;
pub mod sessions;
pub mod uploads;
pub mod users;
