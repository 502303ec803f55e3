//! The one websocket of this tab: connects, authenticates with the first frame, decodes
//! `ServerFrame`s into [`Action`]s, catches up after every (re)connect as docs/api.md
//! describes, and reconnects with exponential backoff and jitter until signed out.

use super::chat::{self, Chat};
use super::platform::{document_hidden, next_window_event, notify, now_ms, online, random};
use super::{api, config::ws_url, session};
use crate::logic::backoff::reconnect_delay_ms;
use crate::logic::text::preview;
use crate::logic::typing::TYPING_SHOW_MS;
use crate::state::{Action, Conn, Page};
use futures::channel::{mpsc, oneshot};
use futures::future::Fuse;
use futures::{select, FutureExt, SinkExt, StreamExt};
use gloo_net::websocket::{futures::WebSocket, Message as WsMessage, State, WebSocketError};
use gloo_timers::future::TimeoutFuture;
use shared::{ClientFrame, ErrorCode, RoomId, ServerFrame};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen_futures::spawn_local;

/// Without any frame for this long, the client pings; without an answer to the ping for as
/// long again, the connection is considered dead and replaced.
const HEARTBEAT_MS: f64 = 25_000.0;
/// The server must answer `auth` with `ready` within this.
const AUTH_TIMEOUT_MS: f64 = 10_000.0;
/// How often the opening handshake is checked.
const CONNECT_POLL_MS: u32 = 20;
/// Frames queued for the socket; beyond this a caller falls back to REST.
const OUTBOX_CAPACITY: usize = 64;
/// Page size of catch-up requests.
const CATCH_UP_PAGE: i64 = 200;

/// The writing end of the current socket, shared with everything that sends frames.
/// Empty while there is no authenticated socket.
#[derive(Clone, Default)]
pub struct Outbox(Rc<RefCell<Option<mpsc::Sender<ClientFrame>>>>);

impl PartialEq for Outbox {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

impl Outbox {
    /// Queues a frame on the open socket; `false` when there is none (or it is backed up).
    pub fn send(&self, frame: ClientFrame) -> bool {
        self.0
            .borrow_mut()
            .as_mut()
            .is_some_and(|tx| tx.try_send(frame).is_ok())
    }

    fn set(&self, tx: Option<mpsc::Sender<ClientFrame>>) {
        *self.0.borrow_mut() = tx;
    }
}

/// The running connection loop; dropping it closes the socket and stops reconnecting.
pub struct Connection {
    _stop: oneshot::Sender<()>,
}

/// Starts the connection loop for the signed-in session.
pub fn connect(chat: Chat) -> Connection {
    let (stop_tx, stop_rx) = oneshot::channel();
    spawn_local(run(chat, stop_rx));
    Connection { _stop: stop_tx }
}

/// How one socket ended.
enum Ended {
    /// The app dropped the [`Connection`].
    Stopped,
    /// The server refused the session.
    SignedOut,
    /// An administrator disabled the account (its sessions are gone).
    Disabled,
    /// Lost; `was_ready` tells whether it had been authenticated.
    Lost { was_ready: bool },
    /// The browser went offline. Closed at once: an emulated or half-dead network may keep the
    /// socket open for a heartbeat or two, while the person should see "Offline" now.
    Offline,
}

async fn run(chat: Chat, stop: oneshot::Receiver<()>) {
    let mut stop = stop.fuse();
    let mut attempt: u32 = 0;
    loop {
        let Some(token) = session::token() else {
            chat.signed_out();
            return;
        };
        if !online() {
            chat.dispatch(Action::Conn(Conn::Offline));
            select! {
                _ = next_window_event("online").fuse() => {}
                _ = stop => return,
            }
            // Back online: connect at once, shown as a reconnection.
            attempt = attempt.max(1);
            continue;
        }
        chat.dispatch(Action::Conn(if attempt == 0 {
            Conn::Connecting
        } else {
            Conn::Reconnecting { attempt }
        }));
        let ended = run_socket(&chat, &token, &mut stop).await;
        chat.outbox.set(None);
        match ended {
            Ended::Stopped => return,
            Ended::SignedOut => {
                chat.signed_out();
                return;
            }
            Ended::Disabled => {
                chat.ended(crate::pages::auth::DISABLED_SIGNED_OUT);
                return;
            }
            Ended::Offline => {
                attempt = attempt.max(1);
                continue;
            }
            Ended::Lost { was_ready } => {
                if was_ready {
                    attempt = 0;
                }
                attempt += 1;
                chat.dispatch(Action::Conn(Conn::Reconnecting { attempt }));
                // Repeated failures before `ready` may mean the session is gone.
                if !was_ready && attempt.is_multiple_of(3) {
                    if let Err(api::Error::Unauthorized(_)) = api::me().await {
                        chat.signed_out();
                        return;
                    }
                }
            }
        }
        let delay = reconnect_delay_ms(attempt - 1, random());
        // A change of network ends the wait: back online, try now; gone, say so now.
        select! {
            _ = TimeoutFuture::new(delay).fuse() => {}
            _ = next_window_event("online").fuse() => {}
            _ = next_window_event("offline").fuse() => {}
            _ = stop => return,
        }
    }
}

fn encode(frame: &ClientFrame) -> WsMessage {
    // Serialising our own enum of strings and integers cannot fail.
    WsMessage::Text(serde_json::to_string(frame).unwrap_or_default())
}

/// One socket from open to close.
async fn run_socket(chat: &Chat, token: &str, mut stop: &mut Fuse<oneshot::Receiver<()>>) -> Ended {
    let offline = next_window_event("offline").fuse();
    futures::pin_mut!(offline);
    let Ok(socket) = WebSocket::open(&ws_url()) else {
        return Ended::Lost { was_ready: false };
    };
    // Wait for the handshake by polling the state: sending into a socket that failed to
    // connect would only log browser errors.
    let deadline = now_ms() + AUTH_TIMEOUT_MS;
    loop {
        match socket.state() {
            State::Open => break,
            State::Connecting if now_ms() < deadline => select! {
                _ = TimeoutFuture::new(CONNECT_POLL_MS).fuse() => {}
                _ = offline => return Ended::Offline,
                _ = stop => return Ended::Stopped,
            },
            _ => return Ended::Lost { was_ready: false },
        }
    }
    let (mut sink, stream) = socket.split();
    let mut stream = stream.fuse();
    let auth = ClientFrame::Auth {
        token: token.to_owned(),
    };
    if sink.send(encode(&auth)).await.is_err() {
        return Ended::Lost { was_ready: false };
    }
    let (tx, mut rx) = mpsc::channel::<ClientFrame>(OUTBOX_CAPACITY);
    let mut tx = Some(tx);
    let mut ready = false;
    let mut last_rx = now_ms();
    let mut ping_sent = false;
    loop {
        let limit = if ready { HEARTBEAT_MS } else { AUTH_TIMEOUT_MS };
        let wait = (last_rx + limit - now_ms()).max(0.0) as u32;
        let mut timer = TimeoutFuture::new(wait).fuse();
        select! {
            _ = stop => return Ended::Stopped,
            _ = offline => return Ended::Offline,
            incoming = stream.next() => match incoming {
                Some(Ok(WsMessage::Text(text))) => {
                    last_rx = now_ms();
                    ping_sent = false;
                    let Some(frame) = crate::logic::frames::decode(&text) else {
                        continue;
                    };
                    if let ServerFrame::Ready { user } = frame {
                        ready = true;
                        // Taken before any event of this socket is applied: a live change
                        // must not raise the cursor past changes made while we were away.
                        let revs = held_revs(chat);
                        chat.outbox.set(tx.take());
                        chat.dispatch(Action::Ready(user));
                        spawn_local(catch_up(chat.clone(), revs));
                    } else if handle_frame(chat, frame).is_err() {
                        return Ended::SignedOut;
                    }
                }
                Some(Ok(WsMessage::Bytes(_))) => {}
                // The server closes every socket of a disabled account with this reason.
                Some(Err(WebSocketError::ConnectionClose(e))) if e.reason == "account disabled" => {
                    return Ended::Disabled;
                }
                Some(Err(_)) | None => return Ended::Lost { was_ready: ready },
            },
            outgoing = rx.next() => {
                if let Some(frame) = outgoing {
                    if sink.send(encode(&frame)).await.is_err() {
                        return Ended::Lost { was_ready: ready };
                    }
                }
            },
            _ = timer => {
                if !ready || ping_sent {
                    return Ended::Lost { was_ready: ready };
                }
                ping_sent = true;
                last_rx = now_ms();
                if sink.send(encode(&ClientFrame::Ping)).await.is_err() {
                    return Ended::Lost { was_ready: ready };
                }
            },
        }
    }
}

/// The session was refused.
struct Refused;

/// Turns one server event into actions (and a notification when the tab is hidden).
fn handle_frame(chat: &Chat, frame: ServerFrame) -> Result<(), Refused> {
    match frame {
        ServerFrame::Ready { user } => chat.dispatch(Action::Ready(user)),
        ServerFrame::Ack { message, .. } => chat.dispatch(Action::Acked(message)),
        ServerFrame::Message { message } => {
            // Dropped before the dispatch, so the reducer can change the state in place.
            let state = chat.state();
            let me = state.me().map(|u| u.id);
            match state.rooms.get(&message.room_id) {
                None => {
                    // A room we have not heard of (its `room` event raced this): refresh.
                    spawn_local(chat::refresh_rooms(chat.clone()));
                }
                // A muted room never notifies.
                Some(entry)
                    if Some(message.sender_id) != me && document_hidden() && !entry.room.muted =>
                {
                    notify(
                        &entry.room.peer.display_name,
                        &preview(&message.body, 120),
                        &format!("room-{}", message.room_id),
                    );
                }
                Some(_) => {}
            }
            drop(state);
            chat.dispatch(Action::MessageReceived(message));
        }
        ServerFrame::Read {
            room_id,
            user_id,
            seq,
        } => chat.dispatch(Action::Read {
            room_id,
            user_id,
            seq,
        }),
        ServerFrame::Typing { room_id, user_id } => {
            chat.dispatch(Action::Typing {
                room_id,
                user_id,
                now_ms: now_ms(),
            });
            let chat = chat.clone();
            spawn_local(async move {
                TimeoutFuture::new(TYPING_SHOW_MS as u32 + 100).await;
                chat.dispatch(Action::Tick(now_ms()));
            });
        }
        ServerFrame::Presence { user_id, online } => {
            chat.dispatch(Action::Presence { user_id, online })
        }
        ServerFrame::Room { room } => chat.dispatch(Action::RoomUpserted(room)),
        ServerFrame::MessageUpdate { message } => chat.dispatch(Action::MessageUpdated(message)),
        ServerFrame::RoomUpdate { room } => chat.dispatch(Action::RoomUpserted(room)),
        ServerFrame::User { user } => chat.dispatch(Action::UserChanged(user)),
        ServerFrame::Error {
            code,
            message,
            client_id,
        } => {
            if code == ErrorCode::Unauthorized {
                return Err(Refused);
            }
            match client_id {
                // A send the server refused (rate limit, validation): that message failed.
                Some(client_id) => {
                    if let Some(room_id) = room_of_outgoing(chat, &client_id) {
                        chat.dispatch(Action::SendFailed {
                            room_id,
                            client_id,
                            attempt: None,
                        });
                    }
                    chat.dispatch(Action::Notice(Some(message)));
                }
                None if code == ErrorCode::RateLimited => {
                    chat.dispatch(Action::Notice(Some(message)));
                }
                // Other frame errors concern the protocol, not the person: log, don't show.
                // (E.g. our `auth` frame after the upgrade was already authenticated by cookie.)
                None => web_sys::console::warn_1(&format!("server: {message}").into()),
            }
        }
        ServerFrame::Pong => {}
    }
    Ok(())
}

fn room_of_outgoing(chat: &Chat, client_id: &str) -> Option<RoomId> {
    chat.state()
        .rooms
        .values()
        .find(|e| {
            e.timeline
                .outgoing()
                .iter()
                .any(|o| o.client_id == client_id)
        })
        .map(|e| e.room.id)
}

/// The highest `rev` each held timeline has: where its `changed_after` catch-up starts.
fn held_revs(chat: &Chat) -> Vec<(RoomId, i64)> {
    chat.state()
        .rooms
        .values()
        .filter(|e| e.timeline.loaded)
        .map(|e| (e.room.id, e.timeline.highest_rev()))
        .collect()
}

/// After `ready`: refresh the room list, fetch what each held timeline missed (`after=` its
/// catch-up cursor, page by page), then what changed in it (`changed_after=` the highest
/// `rev` it held when the socket came up: edits, deletions, reactions), then resend our
/// still-pending messages.
async fn catch_up(chat: Chat, revs: Vec<(RoomId, i64)>) {
    chat::refresh_rooms(chat.clone()).await;
    let targets: Vec<(RoomId, i64)> = chat
        .state()
        .rooms
        .values()
        .filter(|e| e.timeline.loaded)
        .map(|e| (e.room.id, e.timeline.catch_up_cursor().unwrap_or(0)))
        .collect();
    for (room_id, mut cursor) in targets {
        loop {
            match api::messages(room_id, api::Cursor::After(cursor), CATCH_UP_PAGE).await {
                Ok(page) => {
                    let last = page.messages.last().map(|m| m.seq);
                    let has_more = page.has_more;
                    chat.dispatch(Action::HistoryLoaded {
                        room_id,
                        page: Page::Newer,
                        messages: page.messages,
                        has_more,
                    });
                    match last {
                        Some(last) if has_more => cursor = last,
                        _ => break,
                    }
                }
                Err(api::Error::Unauthorized(_)) => {
                    chat.session_refused();
                    return;
                }
                Err(_) => break,
            }
        }
    }
    for (room_id, mut rev) in revs {
        loop {
            match api::messages(room_id, api::Cursor::ChangedAfter(rev), CATCH_UP_PAGE).await {
                Ok(page) => {
                    // Ascending by `rev`: the last one is the next page's cursor.
                    let last = page.messages.iter().map(|m| m.rev).max();
                    let has_more = page.has_more;
                    chat.dispatch(Action::HistoryLoaded {
                        room_id,
                        page: Page::Changes,
                        messages: page.messages,
                        has_more,
                    });
                    match last {
                        Some(last) if has_more && last > rev => rev = last,
                        _ => break,
                    }
                }
                Err(api::Error::Unauthorized(_)) => {
                    chat.session_refused();
                    return;
                }
                Err(_) => break,
            }
        }
    }
    for (room_id, outgoing) in chat.state().pending() {
        chat.retry(room_id, &outgoing.client_id);
    }
}
