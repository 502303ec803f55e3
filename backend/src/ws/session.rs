//! One websocket connection: authenticate, register with the fan-out, then serve client
//! frames, outbound events and heartbeats until either side ends it.

use super::sequencer::{Gap, Sequencer};
use crate::domain::auth::Authenticated;
use crate::domain::messages::{Page, Stored};
use crate::error::AppError;
use crate::fanout::{CloseRequest, ConnId, Inbox, Order, Received, Registration};
use crate::routes::extract::credentials;
use crate::state::AppState;
use crate::usecases::sessions::authenticate;
use crate::usecases::{messages, presence};
use crate::writer::PendingSend;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use actix_ws::{AggregatedMessage, AggregatedMessageStream, CloseCode, CloseReason, Session};
use bytestring::ByteString;
use futures_util::StreamExt;
use shared::frames::MAX_FRAME_BYTES;
use shared::{ClientFrame, ErrorCode, SendMessage, ServerFrame, UserId, MAX_PAGE_LIMIT};
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// How long a room's message that skipped ahead waits for the missing ones (published by
/// another instance) before they are read from storage.
const GAP_WAIT: Duration = Duration::from_millis(300);
/// Sends one socket may have waiting for their commit; beyond it, the socket's next frames
/// wait (backpressure instead of unbounded buffering).
const MAX_IN_FLIGHT: usize = 256;
/// How long the close frame of a socket that is being closed may wait to be taken.
const CLOSE_GRACE: Duration = Duration::from_secs(1);
/// How long a socket the server closes (shutdown, Redis recovery, sign-out) waits for the
/// commits of the sends it has already taken, to write their acks before the close frame.
const ACK_GRACE: Duration = Duration::from_secs(2);

/// `GET /ws`: checks `Origin`, takes the cookie (or bearer) session if there is one, and
/// hands the connection to its own task.
pub async fn connect(
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    if let Some(origin) = req.headers().get(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or_default();
        if !state.origins.is_allowed(origin, req.headers()) {
            return Err(AppError::Forbidden(format!(
                "websocket origin {origin:?} is not allowed"
            )));
        }
    }
    // An invalid cookie is not fatal: the client may still authenticate with a frame.
    let pre_auth = match credentials(&req) {
        Some(creds) => match authenticate(&state, creds.token).await {
            Ok(auth) => Some(auth),
            Err(AppError::Unauthorized(_)) => None,
            Err(other) => return Err(other),
        },
        None => None,
    };
    let (response, session, stream) = actix_ws::handle(&req, body)
        .map_err(|e| AppError::BadRequest(format!("not a websocket handshake: {e}")))?;
    let stream = stream
        .max_frame_size(MAX_FRAME_BYTES)
        .aggregate_continuations()
        .max_continuation_size(MAX_FRAME_BYTES);
    // Boxed: the task's arguments stay in it for the socket's whole life.
    actix_web::rt::spawn(run(
        state.into_inner(),
        session,
        stream,
        pre_auth.map(Box::new),
    ));
    Ok(response)
}

fn close(code: CloseCode, description: &str) -> Option<CloseReason> {
    Some(CloseReason {
        code,
        description: Some(description.to_owned()),
    })
}

/// Why a write to the socket did not happen.
enum WriteFailed {
    /// The connection is gone.
    Closed,
    /// The peer took nothing for the send timeout (it stopped reading).
    Stalled,
}

/// A write that waits at most `CHAT_SEND_TIMEOUT_SECS` for the peer to take frames. actix-ws
/// queues only a few frames per connection and drains them as fast as TCP accepts, so a
/// write to a peer that stopped reading would otherwise wait forever, and with it the close
/// request, the heartbeat and the idle timeout that this socket's loop also serves. (The
/// kernel then drops the connection itself: `startup` sets TCP_USER_TIMEOUT a little later.)
///
/// Memory: the timer is made only once a write has to wait (most complete at once), and the
/// write itself (an actix-ws send with its channel permit, ~300 bytes) lives on the heap for
/// as long as it runs, so the socket's long-lived task keeps neither inline: every idle
/// socket would pay for them.
fn bounded<F>(state: &AppState, write: F) -> Bounded<F>
where
    F: Future<Output = Result<(), actix_ws::Closed>>,
{
    Bounded {
        write: Box::pin(write),
        limit: state.settings.send_timeout(),
        timer: None,
    }
}

/// The future of `bounded`.
struct Bounded<F> {
    write: Pin<Box<F>>,
    limit: Duration,
    timer: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl<F> Future for Bounded<F>
where
    F: Future<Output = Result<(), actix_ws::Closed>>,
{
    type Output = Result<(), WriteFailed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // Every field is boxed or `Unpin`: nothing here is pinned in place.
        let this = self.get_mut();
        if let Poll::Ready(written) = this.write.as_mut().poll(cx) {
            return Poll::Ready(written.map_err(|actix_ws::Closed| WriteFailed::Closed));
        }
        let limit = this.limit;
        let timer = this
            .timer
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        timer.as_mut().poll(cx).map(|()| Err(WriteFailed::Stalled))
    }
}

/// How the loop ends after a failed write. A stalled peer is a slow consumer, counted once
/// (its queue may already have overflowed and been counted by the fan-out).
fn gone(state: &AppState, inbox: &Inbox, failed: WriteFailed) -> Option<CloseReason> {
    match failed {
        WriteFailed::Closed => None,
        WriteFailed::Stalled => {
            if !inbox.close_requested() {
                state
                    .metrics
                    .ws_slow_consumers_closed
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            close(CloseCode::Policy, "too slow: reconnect and catch up")
        }
    }
}

/// Writes one frame. By value and not `async`: the frame is serialised and dropped before
/// the write is awaited, so no `ServerFrame` (hundreds of bytes since messages carry their
/// lifecycle) stays in the socket task's state, which every idle socket carries.
fn send_frame<'a>(
    state: &AppState,
    session: &'a mut Session,
    frame: ServerFrame,
) -> impl Future<Output = Result<(), WriteFailed>> + 'a {
    let text = serde_json::to_string(&frame).unwrap_or_else(|e| {
        tracing::error!(error = %e, "could not serialise a frame");
        String::new()
    });
    bounded(state, async move {
        if text.is_empty() {
            return Ok(());
        }
        session.text(text).await
    })
}

/// The socket's task. A function returning an `async move` block, not an `async fn`: an
/// `async fn` keeps its arguments twice in its state (as passed and as moved into the body),
/// 184 bytes that every idle socket would carry.
#[allow(clippy::manual_async_fn)] // on purpose: see above
fn run(
    state: Arc<AppState>,
    mut session: Session,
    mut stream: AggregatedMessageStream,
    pre_auth: Option<Box<Authenticated>>,
) -> impl Future<Output = ()> {
    async move {
        // Opening and closing are boxed: the task itself keeps only what `serve` needs for the
        // socket's whole life, which is most of an idle socket's memory.
        let Some(mut open) = Box::pin(open(&state, &mut session, &mut stream, pre_auth)).await
        else {
            return;
        };
        let reason = serve(
            &state,
            open.user,
            &mut session,
            &mut stream,
            &mut open.registration,
            &mut open.sequencer,
        )
        .await;
        Box::pin(finish(
            &state,
            session,
            open.user,
            open.registration.conn_id,
            reason,
        ))
        .await;
    }
}

/// A socket past `ready`. Only the user's id is kept of the session (not the whole user
/// row with its password hash, for as long as the socket lives).
struct Open {
    user: UserId,
    registration: Registration,
    sequencer: Sequencer,
}

/// Authenticates, registers with the fan-out and sends `ready`; `None` once the socket has
/// been closed instead.
async fn open(
    state: &Arc<AppState>,
    session: &mut Session,
    stream: &mut AggregatedMessageStream,
    pre_auth: Option<Box<Authenticated>>,
) -> Option<Open> {
    let auth = match pre_auth {
        Some(auth) => *auth,
        None => match await_auth_frame(state, session, stream).await {
            Ok(auth) => auth,
            Err(reason) => {
                let _ = tokio::time::timeout(CLOSE_GRACE, session.clone().close(reason)).await;
                return None;
            }
        },
    };
    let user = UserId(auth.user.id);
    let registration = state.hub.register(user, auth.session_id);
    // Registered (and subscribed, across instances) before `ready`: every event from here on
    // is queued for this socket, which is what makes the catch-up of api.md exact.
    state.hub.subscribed(user).await;
    let baseline = match messages::room_positions(state, user).await {
        Ok(rooms) => rooms,
        Err(e) => {
            tracing::warn!(error = %e, "cannot start a socket without its rooms");
            let reason = close(CloseCode::Again, "storage unavailable: retry");
            finish(state, session.clone(), user, registration.conn_id, reason).await;
            return None;
        }
    };
    let ready = ServerFrame::Ready {
        user: auth.user.to_user(true),
    };
    if send_frame(state, session, ready).await.is_err() {
        finish(state, session.clone(), user, registration.conn_id, None).await;
        return None;
    }
    if registration.first_for_user {
        presence::announce(state, user).await;
    }
    Some(Open {
        user,
        registration,
        sequencer: Sequencer::new(baseline, GAP_WAIT),
    })
}

/// Unregisters a socket, closes it and tells the user's contacts when they went offline.
async fn finish(
    state: &Arc<AppState>,
    session: Session,
    user: UserId,
    conn_id: ConnId,
    reason: Option<CloseReason>,
) {
    let went_offline = state.hub.unregister(user, conn_id);
    // Bounded: a peer that stopped reading cannot take the close frame either. Dropping the
    // session then ends this side; the kernel's send timeout ends the connection.
    let _ = tokio::time::timeout(CLOSE_GRACE, session.close(reason)).await;
    if went_offline {
        presence::announce(state, user).await;
    }
}

/// Waits for `{"type":"auth","token"}` as the first frame, within the auth timeout.
async fn await_auth_frame(
    state: &Arc<AppState>,
    session: &mut Session,
    stream: &mut AggregatedMessageStream,
) -> Result<Authenticated, Option<CloseReason>> {
    let first = tokio::time::timeout(state.settings.auth_timeout(), async {
        loop {
            match stream.next().await {
                Some(Ok(AggregatedMessage::Text(text))) => return Some(text),
                Some(Ok(AggregatedMessage::Ping(bytes))) => {
                    let _ = bounded(state, session.pong(&bytes)).await;
                }
                Some(Ok(AggregatedMessage::Pong(_))) => {}
                _ => return None,
            }
        }
    })
    .await;
    let text = match first {
        Err(_elapsed) => {
            let _ = send_frame(
                state,
                session,
                ServerFrame::error(
                    ErrorCode::Unauthorized,
                    "authenticate within the time limit",
                    None,
                ),
            )
            .await;
            return Err(close(CloseCode::Policy, "authentication timed out"));
        }
        Ok(None) => return Err(None),
        Ok(Some(text)) => text,
    };
    let token = match serde_json::from_str::<ClientFrame>(&text) {
        Ok(ClientFrame::Auth { token }) => token,
        _ => {
            let _ = send_frame(
                state,
                session,
                ServerFrame::error(
                    ErrorCode::Unauthorized,
                    "the first frame must be {\"type\":\"auth\",\"token\":…}",
                    None,
                ),
            )
            .await;
            return Err(close(CloseCode::Policy, "not authenticated"));
        }
    };
    match authenticate(state, token).await {
        Ok(auth) => Ok(auth),
        Err(e) => {
            let _ = send_frame(
                state,
                session,
                ServerFrame::error(e.code(), e.public_message(), None),
            )
            .await;
            Err(close(CloseCode::Policy, "not authenticated"))
        }
    }
}

/// The connection's main loop. Returns the close frame to send, if any.
async fn serve(
    state: &Arc<AppState>,
    me: UserId,
    session: &mut Session,
    stream: &mut AggregatedMessageStream,
    registration: &mut Registration,
    sequencer: &mut Sequencer,
) -> Option<CloseReason> {
    let heartbeat = state.settings.heartbeat();
    let mut next_heartbeat = Instant::now() + heartbeat;
    let mut last_heard = Instant::now();
    // Plain queue, not `FuturesOrdered`: acks go out in order anyway, and an idle socket's
    // empty `VecDeque` allocates nothing.
    let mut in_flight: VecDeque<InFlight> = VecDeque::new();
    loop {
        let gap_deadline = sequencer.deadline();
        // One timer per socket: the next heartbeat, or sooner a gap's deadline.
        let wake_at = gap_deadline.map_or(next_heartbeat, |gap| gap.min(next_heartbeat));
        // The select only picks what comes next; the writes happen after it, once its
        // futures (a timer among them) are dropped, so the task's state holds the two
        // apart rather than side by side: every idle socket carries that state.
        let step = tokio::select! {
            // In this order when several are ready: an ack before the echo of its message.
            biased;
            committed = first_committed(&mut in_flight), if !in_flight.is_empty() => {
                Step::Committed(Box::new(committed))
            }
            received = registration.inbox.next() => Step::Inbox(received),
            _ = tokio::time::sleep_until(wake_at.into()) => Step::Timer,
            incoming = stream.next(), if in_flight.len() < MAX_IN_FLIGHT => Step::Incoming(incoming),
        };
        match step {
            Step::Committed(committed) => {
                let (client_id, outcome) = *committed;
                let frame = outcome_frame(client_id, outcome);
                if let Err(failed) = send_frame(state, session, frame).await {
                    return gone(state, &registration.inbox, failed);
                }
            }
            Step::Inbox(received) => {
                let ready = match received {
                    Received::Frame(event) => match event.order {
                        Order::Any => vec![event.text.clone()],
                        Order::Message(room, seq) => {
                            sequencer.accept(room, seq, event.text.clone(), Instant::now())
                        }
                        Order::Update(room, seq) => {
                            sequencer.accept_update(room, seq, event.text.clone(), Instant::now())
                        }
                    },
                    Received::Close(CloseRequest { code, reason }) => {
                        Box::pin(flush_acks(state, session, &mut in_flight)).await;
                        return close(code, reason);
                    }
                };
                for text in ready {
                    if let Err(failed) = bounded(state, session.text(text)).await {
                        return gone(state, &registration.inbox, failed);
                    }
                }
            }
            Step::Timer => {
                let now = Instant::now();
                if now >= next_heartbeat {
                    if last_heard.elapsed() > state.settings.idle_timeout() {
                        return close(CloseCode::Away, "idle timeout");
                    }
                    if let Err(failed) = bounded(state, session.ping(b"")).await {
                        return gone(state, &registration.inbox, failed);
                    }
                    next_heartbeat = now + heartbeat;
                }
                for gap in sequencer.overdue(now) {
                    let Some((fetched, complete)) = Box::pin(fetch_gap(state, me, gap)).await
                    else {
                        return close(CloseCode::Restart, "missed events: reconnect and catch up");
                    };
                    for text in sequencer.fill(gap, fetched, complete, Instant::now()) {
                        if let Err(failed) = bounded(state, session.text(text)).await {
                            return gone(state, &registration.inbox, failed);
                        }
                    }
                }
            }
            Step::Incoming(incoming) => {
                last_heard = Instant::now();
                match incoming {
                    Some(Ok(AggregatedMessage::Text(text))) => {
                        let reply = match Box::pin(handle_frame(state, me, &text)).await {
                            Handled::Reply(frames) => frames,
                            // Sends are queued, not awaited: the next frames are read while
                            // earlier ones are committed, and acks go out in order above.
                            Handled::Queued(send) => {
                                in_flight.push_back(send);
                                vec![]
                            }
                        };
                        for frame in reply {
                            if let Err(failed) = send_frame(state, session, frame).await {
                                return gone(state, &registration.inbox, failed);
                            }
                        }
                    }
                    Some(Ok(AggregatedMessage::Binary(_))) => {
                        let frame = ServerFrame::error(
                            ErrorCode::BadRequest,
                            "send JSON in text frames",
                            None,
                        );
                        if let Err(failed) = send_frame(state, session, frame).await {
                            return gone(state, &registration.inbox, failed);
                        }
                    }
                    Some(Ok(AggregatedMessage::Ping(bytes))) => {
                        if let Err(failed) = bounded(state, session.pong(&bytes)).await {
                            return gone(state, &registration.inbox, failed);
                        }
                    }
                    Some(Ok(AggregatedMessage::Pong(_))) => {}
                    Some(Ok(AggregatedMessage::Close(_))) | None => return None,
                    Some(Err(actix_ws::ProtocolError::Overflow)) => {
                        return close(CloseCode::Size, "frame larger than 64 KiB");
                    }
                    Some(Err(e)) => {
                        tracing::debug!(error = %e, "websocket protocol error");
                        return close(CloseCode::Protocol, "protocol error");
                    }
                }
            }
        }
    }
}

/// What the socket's loop does next (see `serve`). A commit's outcome is boxed: it holds a
/// whole message, and the step lives in the task's state while the step's writes wait.
enum Step {
    Committed(Box<(String, Result<Stored, AppError>)>),
    Inbox(Received),
    Timer,
    Incoming(Option<Result<AggregatedMessage, actix_ws::ProtocolError>>),
}

/// Writes the acks (or errors) of the sends already taken, as they commit, within
/// `ACK_GRACE`: a socket the server closes does not make its client resend what is stored.
/// (Idempotency would make the resend safe, but the client would show it pending meanwhile.)
async fn flush_acks(state: &AppState, session: &mut Session, in_flight: &mut VecDeque<InFlight>) {
    let _ = tokio::time::timeout(ACK_GRACE, async {
        while !in_flight.is_empty() {
            let (client_id, outcome) = first_committed(in_flight).await;
            if send_frame(state, session, outcome_frame(client_id, outcome))
                .await
                .is_err()
            {
                return;
            }
        }
    })
    .await;
}

fn outcome_frame(client_id: String, outcome: Result<Stored, AppError>) -> ServerFrame {
    match outcome {
        Ok(stored) => ServerFrame::Ack {
            client_id,
            message: stored.message,
        },
        Err(e) => send_failed(e, &client_id),
    }
}

/// The room's messages in a gap, from storage, as frames; `complete` when nothing more lies
/// before the gap's end.
async fn fetch_gap(
    state: &Arc<AppState>,
    me: UserId,
    gap: Gap,
) -> Option<(Vec<(i64, ByteString)>, bool)> {
    let page = Page::After {
        seq: gap.after,
        limit: MAX_PAGE_LIMIT,
    };
    let found = messages::history(state, me, gap.room, page).await.ok()?;
    let complete = !found.has_more || found.messages.iter().any(|m| m.seq >= gap.before);
    let frames = found
        .messages
        .into_iter()
        .filter(|m| m.seq < gap.before)
        .filter_map(|message| {
            let seq = message.seq;
            serde_json::to_string(&ServerFrame::Message { message })
                .ok()
                .map(|text| (seq, ByteString::from(text)))
        })
        .collect();
    Some((frames, complete))
}

/// The error frame for a send, echoing its `client_id` so the client can mark the right
/// message failed (but never an over-long one).
fn send_failed(e: AppError, client_id: &str) -> ServerFrame {
    let echo: String = client_id
        .chars()
        .take(shared::validation::CLIENT_ID_MAX_CHARS)
        .collect();
    // Through the contract's error shape, which logs an internal error once with its cause.
    let error = e.to_api_error();
    ServerFrame::error(error.code, error.message, Some(echo))
}

/// What a client frame led to.
enum Handled {
    /// Frames to answer with at once (possibly none).
    Reply(Vec<ServerFrame>),
    /// A send queued for the next commit; its ack follows when it is stored.
    Queued(InFlight),
}

/// A queued send and the `client_id` its ack (or error) answers to.
struct InFlight {
    client_id: String,
    pending: PendingSend,
}

impl Future for InFlight {
    type Output = (String, Result<Stored, AppError>);

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.pending)
            .poll(cx)
            .map(|outcome| (std::mem::take(&mut self.client_id), outcome))
    }
}

/// The oldest queued send, once committed (sends commit in the order they were queued).
fn first_committed(
    in_flight: &mut VecDeque<InFlight>,
) -> impl Future<Output = (String, Result<Stored, AppError>)> + '_ {
    std::future::poll_fn(move |cx| {
        let Some(first) = in_flight.front_mut() else {
            return Poll::Pending;
        };
        let done = std::task::ready!(Pin::new(first).poll(cx));
        in_flight.pop_front();
        if in_flight.is_empty() && in_flight.capacity() > 16 {
            // A burst is over: give its buffer back rather than keep it per socket.
            *in_flight = VecDeque::new();
        }
        Poll::Ready(done)
    })
}

/// Runs one client frame. Every failure is an `error` frame and the socket stays open.
async fn handle_frame(state: &Arc<AppState>, me: UserId, text: &str) -> Handled {
    let frame = match serde_json::from_str::<ClientFrame>(text) {
        Ok(frame) => frame,
        Err(e) => {
            return Handled::Reply(vec![ServerFrame::error(
                ErrorCode::BadRequest,
                format!("invalid frame: {e}"),
                None,
            )])
        }
    };
    let failed = |e: AppError| {
        let error = e.to_api_error();
        Handled::Reply(vec![ServerFrame::error(error.code, error.message, None)])
    };
    match frame {
        ClientFrame::Send {
            room_id,
            body,
            client_id,
            reply_to,
            attachments,
        } => {
            let send = SendMessage {
                body,
                client_id: client_id.clone(),
                reply_to,
                attachments,
            };
            match messages::submit_message(state, me, room_id, send) {
                Ok(pending) => Handled::Queued(InFlight { client_id, pending }),
                Err(e) => Handled::Reply(vec![send_failed(e, &client_id)]),
            }
        }
        ClientFrame::Read { room_id, seq } => {
            match messages::mark_read(state, me, room_id, seq).await {
                Ok(()) => Handled::Reply(vec![]),
                Err(e) => failed(e),
            }
        }
        ClientFrame::Typing { room_id } => match messages::typing(state, me, room_id).await {
            Ok(()) => Handled::Reply(vec![]),
            Err(e) => failed(e),
        },
        ClientFrame::Ping => Handled::Reply(vec![ServerFrame::Pong]),
        // A browser's socket may already be authenticated by its cookie when the client's
        // `auth` frame arrives: the same user's token is accepted quietly.
        ClientFrame::Auth { token } => match authenticate(state, token).await {
            Ok(again) if UserId(again.user.id) == me => Handled::Reply(vec![]),
            _ => Handled::Reply(vec![ServerFrame::error(
                ErrorCode::BadRequest,
                "this socket is already authenticated as another session",
                None,
            )]),
        },
    }
}
