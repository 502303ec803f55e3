//! Sending messages and changing them (edits, deletions, reactions), read marks and typing.

use crate::domain::changes::{Change, Changed, Target};
use crate::domain::messages::{self, Page, SendRequest, Stored};
use crate::domain::rooms;
use crate::domain::search::Search;
use crate::error::AppError;
use crate::fanout::Event;
use crate::state::AppState;
use crate::writer::PendingSend;
use shared::{
    ClientId, Emoji, Message, MessageBody, MessagesResponse, RoomId, SearchQuery, SearchResponse,
    SendMessage, ServerFrame, UserId,
};

fn rate_limited(retry_after_secs: u64) -> AppError {
    AppError::RateLimited {
        message: "too many messages: slow down".into(),
        retry_after_secs,
    }
}

/// Checks and queues a message for storage (group-committed by the writer, then fanned
/// out to every socket of both members). The returned future resolves only after the
/// message is durably stored.
pub fn submit_message(
    state: &AppState,
    sender: UserId,
    room_id: RoomId,
    send: SendMessage,
) -> Result<PendingSend, AppError> {
    let client_id = ClientId::parse(send.client_id)?;
    // How many uploads, and whose, the writer's plan decides (`Requested::refusal`).
    let body = MessageBody::parse_beside(send.body, send.attachments.len())?;
    state.send_limiter.try_take(&sender).map_err(rate_limited)?;
    state.writer.submit(SendRequest {
        sender: sender.0,
        room_id: room_id.0,
        body,
        client_id,
        reply_to: send.reply_to,
        attachments: send.attachments.iter().map(|id| id.0).collect(),
    })
}

/// `submit_message`, then wait until the message is stored.
pub async fn send_message(
    state: &AppState,
    sender: UserId,
    room_id: RoomId,
    send: SendMessage,
) -> Result<Stored, AppError> {
    submit_message(state, sender, room_id, send)?.await
}

/// One message of a room, for one of its members.
pub async fn one_message(
    state: &AppState,
    me: UserId,
    room_id: RoomId,
    seq: i64,
) -> Result<Message, AppError> {
    state
        .db
        .run(move |conn| messages::one(conn, me.0, room_id.0, seq))
        .await
}

/// What a member may do to a message of their room.
pub enum MemberChange {
    Edit(String),
    Delete,
    React(String),
    Unreact(String),
}

/// Edits, deletes or reacts to a room's message (`seq`) for one of its members, then tells
/// every socket of both members. Not held to the send rate: a reaction toggled quickly by
/// two people is normal use, and each change is one short transaction.
pub async fn change_message(
    state: &AppState,
    me: UserId,
    room_id: RoomId,
    seq: i64,
    change: MemberChange,
) -> Result<Message, AppError> {
    let change = match change {
        MemberChange::Edit(body) => Change::Edit(MessageBody::parse(body)?),
        MemberChange::Delete => Change::Delete,
        MemberChange::React(emoji) => Change::React(Emoji::parse(&emoji)?),
        MemberChange::Unreact(emoji) => Change::Unreact(Emoji::parse(&emoji)?),
    };
    let target = Target::Member {
        user: me.0,
        room_id: room_id.0,
        seq,
    };
    apply_change(state, target, change).await
}

/// Makes a change through the room's writer lane; when it changed anything, every socket of
/// both members gets `message_update` (see `updates`).
pub async fn apply_change(
    state: &AppState,
    target: Target,
    change: Change,
) -> Result<Message, AppError> {
    Ok(state.writer.change(target, change).await?.message)
}

/// What the fan-out must be told once a change is committed: `message_update` for the
/// message (and for the replies whose excerpt followed it) to every socket of both members.
/// The writer publishes it from the room's lane, after the room's earlier messages.
pub fn updates(changed: &Changed) -> Vec<Event> {
    if !changed.changed {
        return Vec::new();
    }
    let to = vec![UserId(changed.room.user_lo), UserId(changed.room.user_hi)];
    std::iter::once(&changed.message)
        .chain(&changed.replies)
        .map(|message| Event::Deliver {
            to: to.clone(),
            frame: ServerFrame::MessageUpdate {
                message: message.clone(),
            },
        })
        .collect()
}

/// What the fan-out must be told once a message is committed: a new message reaches every
/// socket of both members; a repeated send (same `client_id`) tells nobody again. The
/// writer publishes it from the room's lane, so a room's frames leave in `seq` order.
pub fn committed(stored: &Stored) -> Option<Event> {
    stored.created.then(|| Event::Deliver {
        to: vec![UserId(stored.room.user_lo), UserId(stored.room.user_hi)],
        frame: ServerFrame::Message {
            message: stored.message.clone(),
        },
    })
}

/// A page of a room's history, for one of its members.
pub async fn history(
    state: &AppState,
    me: UserId,
    room_id: RoomId,
    page: Page,
) -> Result<MessagesResponse, AppError> {
    state
        .db
        .run(move |conn| messages::page(conn, me.0, room_id.0, page))
        .await
}

/// Moves the caller's read mark; both members' sockets hear of it when it moved.
pub async fn mark_read(
    state: &AppState,
    me: UserId,
    room_id: RoomId,
    seq: i64,
) -> Result<(), AppError> {
    let moved = state
        .db
        .run(move |conn| {
            let Some((seq, row)) = rooms::mark_read(conn, me.0, room_id.0, seq)? else {
                return Ok(None);
            };
            let mine = rooms::view(conn, me.0, row.clone())?;
            Ok(Some((seq, row, mine)))
        })
        .await?;
    if let Some((seq, room, mine)) = moved {
        state.hub.publish(Event::Deliver {
            to: vec![UserId(room.user_lo), UserId(room.user_hi)],
            frame: ServerFrame::Read {
                room_id,
                user_id: me,
                seq,
            },
        });
        // The caller's other tabs see the room read (and no longer marked unread).
        let mine = super::presence::room_with_presence(state, mine).await;
        super::account::room_changed(state, me, mine);
    }
    Ok(())
}

/// Tells the peer that `me` is typing. Over-eager clients are throttled silently.
pub async fn typing(state: &AppState, me: UserId, room_id: RoomId) -> Result<(), AppError> {
    if state.typing_limiter.try_take(&me).is_err() {
        return Ok(());
    }
    let (room, blocks) = state
        .db
        .run(move |conn| {
            let room = rooms::member_room(conn, me.0, room_id.0)?;
            let blocks =
                crate::domain::account::blocks_between(conn, &[(room.user_lo, room.user_hi)])?;
            Ok((room, blocks))
        })
        .await?;
    if !blocks.is_empty() {
        return Ok(()); // a block stands between them: typing does not cross
    }
    state.hub.publish(Event::Deliver {
        to: vec![UserId(room.peer_of(me.0))],
        frame: ServerFrame::Typing {
            room_id,
            user_id: me,
        },
    });
    Ok(())
}

/// The last `seq` of each of the user's rooms: where a new socket's ordering starts.
pub async fn room_positions(state: &AppState, me: UserId) -> Result<Vec<(RoomId, i64)>, AppError> {
    let rows = state
        .db
        .run(move |conn| rooms::last_seqs(conn, me.0))
        .await?;
    Ok(rows
        .into_iter()
        .map(|(room, seq)| (RoomId(room), seq))
        .collect())
}

/// The caller's messages whose current text holds the query, newest first.
pub async fn search(
    state: &AppState,
    me: UserId,
    query: SearchQuery,
) -> Result<SearchResponse, AppError> {
    let search = Search::parse(&query)?;
    state
        .db
        .run(move |conn| crate::domain::search::search(conn, me.0, &search))
        .await
}
