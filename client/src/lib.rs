//! A client of the chat API as `../shared/docs/api.md` describes it, built on the `shared`
//! types: REST over reqwest (`Api`), websockets over tokio-tungstenite (`Socket`). The
//! backend's black-box tests, the topology tests and `chat-bench` all speak through it.
//! Nothing panics and nothing waits forever: every call returns a `Result` and has a timeout.

pub mod frozen;
mod ports;
mod rest;
mod socket;

pub use ports::free_port;
pub use rest::{parse_messages, Account, Api, Reply};
pub use socket::{send_frame, Ended, Socket, Ws};

use std::time::Duration;

/// Longest any single HTTP request may take (Argon2 under a login storm included).
pub const HTTP_TIMEOUT: Duration = Duration::from_secs(60);
/// Longest a websocket may take to connect and answer `ready`.
pub const WS_CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// Why a call did not give what was asked.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The server answered, but not with the expected status.
    #[error("{what}: {status}: {body}")]
    Status {
        what: String,
        status: u16,
        body: String,
    },
    /// The answer's body was not the expected JSON.
    #[error("{what}: unexpected body {body:?}: {reason}")]
    Body {
        what: String,
        body: String,
        reason: String,
    },
    /// No answer: connection refused, reset, or timed out.
    #[error("{what}: {reason}")]
    Transport { what: String, reason: String },
    /// The websocket handshake was refused with this HTTP status.
    #[error("websocket handshake refused: {0}")]
    Refused(u16),
    /// The websocket ended (or said no) before `ready`.
    #[error("websocket: {0}")]
    Socket(String),
}

impl Error {
    /// The HTTP status of a `Status` error.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Status { status, .. } => Some(*status),
            Error::Refused(status) => Some(*status),
            _ => None,
        }
    }
}

pub type Result<T> = std::result::Result<T, Error>;
