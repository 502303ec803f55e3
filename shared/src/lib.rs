//! The JSON shapes of the chat API (docs/api.md, version 1) and the validation rules both
//! sides apply. No I/O: this crate builds for native targets and for `wasm32-unknown-unknown`.

pub mod frames;
pub mod ids;
pub mod types;
pub mod validation;

pub use frames::{ClientFrame, ServerFrame};
pub use ids::{AttachmentId, MessageId, RoomId, UserId};
pub use types::*;
pub use validation::{
    ClientId, DisplayName, Emoji, FileName, MessageBody, Password, Username, ValidationError,
};
