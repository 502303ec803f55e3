//! Storing messages (numbered per room, idempotent per sender) and reading them back.

use super::rooms::member_room;
use crate::db::models::{MessageRow, NewMessage, RoomRow};
use crate::db::schema::{messages, rooms};
use crate::db::{is_unique_violation, DbConn};
use crate::error::AppError;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use shared::{
    ClientId, Message, MessageBody, MessagesQuery, MessagesResponse, DEFAULT_PAGE_LIMIT,
    MAX_PAGE_LIMIT,
};

/// The outcome of a send.
#[derive(Debug)]
pub struct Stored {
    pub message: Message,
    /// False when the `client_id` had been stored before: this is the earlier message.
    pub created: bool,
    pub room: RoomRow,
}

/// Stores a message from `sender` and returns it once the transaction has committed.
///
/// `seq` comes from `rooms.last_seq`, bumped in the same transaction: the row lock the
/// update takes serialises concurrent senders to one room on PostgreSQL, even across server
/// processes, and SQLite has a single writer anyway. The bump is the first statement so
/// SQLite takes its write lock up front. A retried `client_id` returns the stored message;
/// two concurrent retries race on the `(sender_id, client_id)` unique key, and the loser
/// (rolled back, so its `seq` is not consumed) reads the winner's message.
pub fn store(
    conn: &mut DbConn,
    sender: i64,
    room_id: i64,
    body: &MessageBody,
    client_id: &ClientId,
    now: NaiveDateTime,
) -> Result<Stored, AppError> {
    let room = member_room(conn, sender, room_id)?;
    if let Some(existing) = find_by_client_id(conn, sender, client_id)? {
        return earlier_send(existing, room);
    }
    let inserted = conn.transaction::<_, diesel::result::Error, _>(|conn| {
        let seq = diesel::update(rooms::table.find(room_id))
            .set((
                rooms::last_seq.eq(rooms::last_seq + 1),
                rooms::last_activity_at.eq(now),
            ))
            .returning(rooms::last_seq)
            .get_result::<i64>(conn)?;
        let id = diesel::insert_into(messages::table)
            .values(NewMessage {
                room_id,
                seq,
                sender_id: sender,
                body: body.as_str(),
                client_id: client_id.as_str(),
                created_at: now,
            })
            .returning(messages::id)
            .get_result::<i64>(conn)?;
        Ok(MessageRow {
            id,
            room_id,
            seq,
            sender_id: sender,
            body: body.as_str().to_owned(),
            client_id: client_id.as_str().to_owned(),
            created_at: now,
            deleted: false,
        })
    });
    match inserted {
        Ok(row) => Ok(Stored {
            message: row.into(),
            created: true,
            room,
        }),
        Err(e) if is_unique_violation(&e) => {
            let existing = find_by_client_id(conn, sender, client_id)?.ok_or_else(|| {
                AppError::internal(anyhow::Error::new(e).context("unique violation, no row"))
            })?;
            earlier_send(existing, room)
        }
        Err(e) => Err(e.into()),
    }
}

/// A `client_id` names one message: reusing it for another room is a client bug.
fn earlier_send(existing: MessageRow, room: RoomRow) -> Result<Stored, AppError> {
    if existing.room_id != room.id {
        return Err(AppError::Conflict(
            "client_id was already used for a message in another room".into(),
        ));
    }
    Ok(Stored {
        message: existing.into(),
        created: false,
        room,
    })
}

fn find_by_client_id(
    conn: &mut DbConn,
    sender: i64,
    client_id: &ClientId,
) -> Result<Option<MessageRow>, AppError> {
    Ok(messages::table
        .filter(messages::sender_id.eq(sender))
        .filter(messages::client_id.eq(client_id.as_str()))
        .select(MessageRow::as_select())
        .first(conn)
        .optional()?)
}

/// Which page of history to read; built only from a valid query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    Latest { limit: i64 },
    Before { seq: i64, limit: i64 },
    After { seq: i64, limit: i64 },
}

impl Page {
    pub fn parse(query: &MessagesQuery) -> Result<Page, AppError> {
        let limit = query.limit.unwrap_or(DEFAULT_PAGE_LIMIT);
        if !(1..=MAX_PAGE_LIMIT).contains(&limit) {
            return Err(AppError::BadRequest(format!(
                "limit must be between 1 and {MAX_PAGE_LIMIT}"
            )));
        }
        match (query.before, query.after) {
            (Some(_), Some(_)) => Err(AppError::BadRequest(
                "give either before or after, not both".into(),
            )),
            (Some(seq), None) if seq < 0 => {
                Err(AppError::BadRequest("before must not be negative".into()))
            }
            (None, Some(seq)) if seq < 0 => {
                Err(AppError::BadRequest("after must not be negative".into()))
            }
            (Some(seq), None) => Ok(Page::Before { seq, limit }),
            (None, Some(seq)) => Ok(Page::After { seq, limit }),
            (None, None) => Ok(Page::Latest { limit }),
        }
    }
}

/// A page of a room's history, ascending by `seq`. One row beyond the page is read to know
/// whether more lie in the direction asked.
pub fn page(
    conn: &mut DbConn,
    me: i64,
    room_id: i64,
    page: Page,
) -> Result<MessagesResponse, AppError> {
    member_room(conn, me, room_id)?;
    page_of_room(conn, room_id, page)
}

/// A page of any room's history, for callers that already checked who may read it.
pub fn page_of_room(
    conn: &mut DbConn,
    room_id: i64,
    page: Page,
) -> Result<MessagesResponse, AppError> {
    let in_room = messages::table
        .filter(messages::room_id.eq(room_id))
        .select(MessageRow::as_select());
    let (mut rows, limit, newest_first) = match page {
        Page::Latest { limit } => (
            in_room
                .order(messages::seq.desc())
                .limit(limit + 1)
                .load(conn)?,
            limit,
            true,
        ),
        Page::Before { seq, limit } => (
            in_room
                .filter(messages::seq.lt(seq))
                .order(messages::seq.desc())
                .limit(limit + 1)
                .load(conn)?,
            limit,
            true,
        ),
        Page::After { seq, limit } => (
            in_room
                .filter(messages::seq.gt(seq))
                .order(messages::seq.asc())
                .limit(limit + 1)
                .load(conn)?,
            limit,
            false,
        ),
    };
    let has_more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    if newest_first {
        rows.reverse();
    }
    Ok(MessagesResponse {
        messages: rows.into_iter().map(Message::from).collect(),
        has_more,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(before: Option<i64>, after: Option<i64>, limit: Option<i64>) -> MessagesQuery {
        MessagesQuery {
            before,
            after,
            limit,
        }
    }

    #[test]
    fn pages_are_parsed_from_valid_queries_only() {
        assert_eq!(
            Page::parse(&query(None, None, None)).unwrap(),
            Page::Latest { limit: 50 }
        );
        assert_eq!(
            Page::parse(&query(Some(10), None, Some(200))).unwrap(),
            Page::Before {
                seq: 10,
                limit: 200
            }
        );
        assert_eq!(
            Page::parse(&query(None, Some(0), Some(1))).unwrap(),
            Page::After { seq: 0, limit: 1 }
        );
        assert!(Page::parse(&query(None, None, Some(0))).is_err());
        assert!(Page::parse(&query(None, None, Some(201))).is_err());
        assert!(Page::parse(&query(Some(1), Some(2), None)).is_err());
        assert!(Page::parse(&query(None, Some(-1), None)).is_err());
    }
}
