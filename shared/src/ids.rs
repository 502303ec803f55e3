//! Typed ids, so a room id can never be passed where a user id is expected.
//! On the wire each is a plain 64-bit integer.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default,
        )]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl From<i64> for $name {
            fn from(raw: i64) -> Self {
                Self(raw)
            }
        }
    };
}

id_type!(
    /// A registered user.
    UserId
);
id_type!(
    /// A 1:1 conversation.
    RoomId
);
id_type!(
    /// A stored message (global id; `seq` is its position inside the room).
    MessageId
);
id_type!(
    /// v1.1: an uploaded file (attached to at most one message).
    AttachmentId
);
