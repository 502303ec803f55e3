//! The public API as a client sees it: REST over reqwest, websockets over tokio-tungstenite.
//! Every call has a timeout; nothing here waits forever.

use anyhow::{anyhow, bail, Context, Result};
use futures_util::{SinkExt, StreamExt};
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use shared::{
    AuthResponse, ClientFrame, CreateRoom, LoginRequest, Message, MessagesResponse,
    RegisterRequest, Room, SendMessage, ServerFrame, User,
};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub const PASSWORD: &str = "bench-password-123";
/// Longest any single HTTP request may take (Argon2 under a login storm included).
pub const HTTP_TIMEOUT: Duration = Duration::from_secs(60);
/// Longest a websocket may take to connect and answer `ready`.
pub const WS_CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A registered user with a session token.
#[derive(Debug, Clone)]
pub struct Account {
    pub user: User,
    pub token: String,
}

#[derive(Clone)]
pub struct Api {
    http: reqwest::Client,
    base: String,
    ws_url: String,
}

impl Api {
    /// `base` is `http://host:port` (no trailing slash).
    pub fn new(base: &str) -> Result<Self> {
        let base = base.trim_end_matches('/').to_owned();
        let ws_url = if let Some(rest) = base.strip_prefix("http://") {
            format!("ws://{rest}/ws")
        } else if let Some(rest) = base.strip_prefix("https://") {
            format!("wss://{rest}/ws")
        } else {
            bail!("--url must start with http:// (got {base:?})");
        };
        let http = reqwest::Client::builder()
            .timeout(HTTP_TIMEOUT)
            .connect_timeout(Duration::from_secs(10))
            .pool_max_idle_per_host(512)
            .tcp_nodelay(true)
            .build()?;
        Ok(Api { http, base, ws_url })
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn health(&self) -> Result<()> {
        let response = self
            .http
            .get(self.url("/api/health"))
            .timeout(Duration::from_secs(2))
            .send()
            .await?;
        if !response.status().is_success() {
            bail!("health: {}", response.status());
        }
        Ok(())
    }

    pub async fn register(&self, username: &str) -> Result<Account> {
        let body = RegisterRequest {
            username: username.to_owned(),
            password: PASSWORD.to_owned(),
            display_name: None,
        };
        let response = self
            .http
            .post(self.url("/api/auth/register"))
            .json(&body)
            .send()
            .await
            .with_context(|| format!("register {username}"))?;
        let auth: AuthResponse = expect_json(response, StatusCode::CREATED, "register").await?;
        Ok(Account {
            user: auth.user,
            token: auth.token,
        })
    }

    pub async fn login(&self, username: &str) -> Result<Account> {
        let body = LoginRequest {
            username: username.to_owned(),
            password: PASSWORD.to_owned(),
        };
        let response = self
            .http
            .post(self.url("/api/auth/login"))
            .json(&body)
            .send()
            .await
            .with_context(|| format!("login {username}"))?;
        let auth: AuthResponse = expect_json(response, StatusCode::OK, "login").await?;
        Ok(Account {
            user: auth.user,
            token: auth.token,
        })
    }

    /// Opens (or finds) the conversation of `me` with `peer`.
    pub async fn open_room(&self, me: &Account, peer: &str) -> Result<Room> {
        let response = self
            .http
            .post(self.url("/api/rooms"))
            .bearer_auth(&me.token)
            .json(&CreateRoom {
                peer: peer.to_owned(),
            })
            .send()
            .await
            .context("open room")?;
        let status = response.status();
        if status != StatusCode::CREATED && status != StatusCode::OK {
            bail!(
                "open room: {status}: {}",
                response.text().await.unwrap_or_default()
            );
        }
        Ok(response.json().await?)
    }

    /// `POST /api/rooms/{id}/messages`.
    pub async fn send_rest(
        &self,
        me: &Account,
        room_id: i64,
        body: String,
        client_id: String,
    ) -> Result<Message> {
        let response = self
            .http
            .post(self.url(&format!("/api/rooms/{room_id}/messages")))
            .bearer_auth(&me.token)
            .json(&SendMessage { body, client_id })
            .send()
            .await
            .context("send")?;
        let status = response.status();
        if status != StatusCode::CREATED && status != StatusCode::OK {
            bail!(
                "send: {status}: {}",
                response.text().await.unwrap_or_default()
            );
        }
        Ok(response.json().await?)
    }

    /// `GET /api/rooms/{id}/messages{query}`: returns the raw body, so a caller can time the
    /// request apart from parsing.
    pub async fn messages_raw(&self, me: &Account, room_id: i64, query: &str) -> Result<Vec<u8>> {
        let response = self
            .http
            .get(self.url(&format!("/api/rooms/{room_id}/messages{query}")))
            .bearer_auth(&me.token)
            .send()
            .await
            .context("messages")?;
        let status = response.status();
        let bytes = response.bytes().await?;
        if status != StatusCode::OK {
            bail!("messages: {status}: {}", String::from_utf8_lossy(&bytes));
        }
        Ok(bytes.to_vec())
    }

    pub fn parse_messages(bytes: &[u8]) -> Result<MessagesResponse> {
        Ok(serde_json::from_slice(bytes)?)
    }

    /// Opens a websocket, authenticates with the first frame and waits for `ready`.
    /// `small_buffers` keeps the client's own memory low for thousands of idle sockets.
    pub async fn connect_ws(&self, token: &str, small_buffers: bool) -> Result<(Ws, User)> {
        let config = small_buffers.then(|| {
            WebSocketConfig::default()
                .read_buffer_size(4 * 1024)
                .write_buffer_size(0)
        });
        let attempt = async {
            let (mut ws, _) =
                tokio_tungstenite::connect_async_with_config(self.ws_url.as_str(), config, true)
                    .await
                    .context("websocket handshake")?;
            send_frame(
                &mut ws,
                &ClientFrame::Auth {
                    token: token.to_owned(),
                },
            )
            .await?;
            loop {
                match ws.next().await {
                    Some(Ok(WsMessage::Text(text))) => match serde_json::from_str(&text)? {
                        ServerFrame::Ready { user } => return Ok((ws, user)),
                        ServerFrame::Error { code, message, .. } => {
                            bail!("websocket auth refused: {code:?}: {message}")
                        }
                        _ => continue,
                    },
                    Some(Ok(WsMessage::Close(frame))) => bail!("closed before ready: {frame:?}"),
                    Some(Ok(_)) => continue,
                    Some(Err(e)) => return Err(e.into()),
                    None => bail!("socket ended before ready"),
                }
            }
        };
        tokio::time::timeout(WS_CONNECT_TIMEOUT, attempt)
            .await
            .map_err(|_| anyhow!("no ready within {WS_CONNECT_TIMEOUT:?}"))?
    }
}

pub async fn send_frame<S>(sink: &mut S, frame: &ClientFrame) -> Result<()>
where
    S: SinkExt<WsMessage> + Unpin,
    S::Error: std::error::Error + Send + Sync + 'static,
{
    let text = serde_json::to_string(frame)?;
    sink.send(WsMessage::Text(text.into())).await?;
    Ok(())
}

async fn expect_json<T: DeserializeOwned>(
    response: reqwest::Response,
    expected: StatusCode,
    what: &str,
) -> Result<T> {
    let status = response.status();
    let text = response.text().await?;
    if status != expected {
        bail!("{what}: {status}: {text}");
    }
    serde_json::from_str(&text).with_context(|| format!("{what}: unexpected body {text}"))
}

/// Registers `names` with at most `concurrency` registrations in flight (Argon2 is CPU
/// bound on the server), retrying transient failures. Keeps the order of `names`.
pub async fn register_many(
    api: &Api,
    names: Vec<String>,
    concurrency: usize,
) -> Result<Vec<Account>> {
    let results: Vec<Result<Account>> = futures_util::stream::iter(names)
        .map(|name| {
            let api = api.clone();
            async move {
                let mut last = None;
                for attempt in 0..4u64 {
                    match api.register(&name).await {
                        Ok(account) => return Ok(account),
                        Err(e) => {
                            last = Some(e);
                            tokio::time::sleep(Duration::from_millis(200 * (attempt + 1))).await;
                        }
                    }
                }
                Err(last.unwrap_or_else(|| anyhow!("register {name}: no attempt")))
            }
        })
        .buffered(concurrency.max(1))
        .collect()
        .await;
    results.into_iter().collect()
}

/// A short prefix unique to this run, so runs against one server never collide.
pub fn run_prefix() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let mut n = (nanos as u64) ^ (u64::from(std::process::id()) << 32);
    const DIGITS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut s = String::from("b");
    for _ in 0..7 {
        s.push(char::from(DIGITS[(n % 36) as usize]));
        n /= 36;
    }
    s
}
