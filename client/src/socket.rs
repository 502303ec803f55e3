//! The websocket half of the API.

use crate::{Error, Result, WS_CONNECT_TIMEOUT};
use futures_util::{SinkExt, StreamExt};
use shared::{ClientFrame, ServerFrame, User};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// How a socket ended, or why no frame came.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    /// Closed by the server, with its close code if it sent one (a reset has none).
    Closed(Option<u16>),
    TimedOut,
    /// A text frame that is not a `ServerFrame` (a server bug), as it came.
    Garbled(String),
}

/// One websocket, frames as the `shared` types.
pub struct Socket {
    stream: Ws,
}

pub async fn send_frame<S>(sink: &mut S, frame: &ClientFrame) -> std::result::Result<(), S::Error>
where
    S: SinkExt<WsMessage> + Unpin,
{
    // A ClientFrame is plain data: serialising it cannot fail.
    let text = serde_json::to_string(frame).unwrap_or_default();
    sink.send(WsMessage::Text(text.into())).await
}

impl Socket {
    /// The handshake, with extra request headers (`Origin`, `Cookie`, `Authorization`…).
    /// `small_buffers` keeps the client's own memory low for thousands of idle sockets.
    pub async fn connect(
        url: &str,
        headers: &[(&str, &str)],
        small_buffers: bool,
    ) -> Result<Socket> {
        let mut request = url
            .into_client_request()
            .map_err(|e| Error::Socket(format!("bad websocket URL {url}: {e}")))?;
        for (name, value) in headers {
            let name = reqwest::header::HeaderName::from_bytes(name.as_bytes())
                .map_err(|e| Error::Socket(format!("header {name}: {e}")))?;
            let value = value
                .parse()
                .map_err(|e| Error::Socket(format!("header {name}: {e}")))?;
            request.headers_mut().insert(name, value);
        }
        let config = small_buffers.then(|| {
            WebSocketConfig::default()
                .read_buffer_size(4 * 1024)
                .write_buffer_size(0)
        });
        let handshake = tokio_tungstenite::connect_async_with_config(request, config, true);
        match tokio::time::timeout(WS_CONNECT_TIMEOUT, handshake).await {
            Ok(Ok((stream, _))) => Ok(Socket { stream }),
            Ok(Err(tokio_tungstenite::tungstenite::Error::Http(response))) => {
                Err(Error::Refused(response.status().as_u16()))
            }
            Ok(Err(e)) => Err(Error::Socket(format!("handshake: {e}"))),
            Err(_) => Err(Error::Socket(format!(
                "no handshake within {WS_CONNECT_TIMEOUT:?}"
            ))),
        }
    }

    /// Connects, authenticates with the first frame and waits for `ready`.
    pub async fn open(url: &str, token: &str, small_buffers: bool) -> Result<(Socket, User)> {
        let attempt = async {
            let mut socket = Socket::connect(url, &[], small_buffers).await?;
            socket
                .send(&ClientFrame::Auth {
                    token: token.to_owned(),
                })
                .await
                .map_err(|end| Error::Socket(format!("auth frame: {end:?}")))?;
            loop {
                match socket.next_frame(WS_CONNECT_TIMEOUT).await {
                    Ok(ServerFrame::Ready { user }) => return Ok((socket, user)),
                    Ok(ServerFrame::Error { code, message, .. }) => {
                        return Err(Error::Socket(format!("auth refused: {code:?}: {message}")))
                    }
                    Ok(_) => continue,
                    Err(end) => return Err(Error::Socket(format!("ended before ready: {end:?}"))),
                }
            }
        };
        tokio::time::timeout(WS_CONNECT_TIMEOUT, attempt)
            .await
            .map_err(|_| Error::Socket(format!("no ready within {WS_CONNECT_TIMEOUT:?}")))?
    }

    pub async fn send(&mut self, frame: &ClientFrame) -> std::result::Result<(), Ended> {
        self.send_text(&serde_json::to_string(frame).unwrap_or_default())
            .await
    }

    /// A text frame as it is (for frames `ClientFrame` cannot express: bad input).
    pub async fn send_text(&mut self, text: &str) -> std::result::Result<(), Ended> {
        self.send_message(WsMessage::Text(text.to_owned().into()))
            .await
    }

    pub async fn send_binary(&mut self, bytes: Vec<u8>) -> std::result::Result<(), Ended> {
        self.send_message(WsMessage::Binary(bytes.into())).await
    }

    async fn send_message(&mut self, message: WsMessage) -> std::result::Result<(), Ended> {
        match tokio::time::timeout(WS_CONNECT_TIMEOUT, self.stream.send(message)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(Ended::Closed(None)),
            Err(_) => Err(Ended::TimedOut),
        }
    }

    /// The next data frame within `wait` (control frames are skipped).
    pub async fn next_frame(&mut self, wait: Duration) -> std::result::Result<ServerFrame, Ended> {
        let deadline = Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, self.stream.next()).await {
                Err(_) => return Err(Ended::TimedOut),
                Ok(None) | Ok(Some(Err(_))) => return Err(Ended::Closed(None)),
                Ok(Some(Ok(WsMessage::Text(text)))) => {
                    return serde_json::from_str(&text)
                        .map_err(|_| Ended::Garbled(text.to_string()))
                }
                Ok(Some(Ok(WsMessage::Close(frame)))) => {
                    return Err(Ended::Closed(frame.map(|f| u16::from(f.code))))
                }
                Ok(Some(Ok(_))) => continue,
            }
        }
    }

    /// Waits (at most `wait`) for the server to end the socket, skipping data frames.
    pub async fn closed(&mut self, wait: Duration) -> Ended {
        let deadline = Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if let Err(end) = self.next_frame(left).await {
                return end;
            }
        }
    }

    /// Ends the socket with a normal close (bounded).
    pub async fn close(mut self) {
        let frame = CloseFrame {
            code: CloseCode::Normal,
            reason: "bye".into(),
        };
        let _ = tokio::time::timeout(Duration::from_secs(2), self.stream.close(Some(frame))).await;
    }

    /// The raw stream, for callers that split it into a sink and a stream.
    pub fn into_inner(self) -> Ws {
        self.stream
    }
}
