//! Changes to stored messages: edits, deletions and reactions.
//!
//! Every change takes its room's next `rev` in the transaction that makes it. The bump of
//! `rooms.last_rev` is the transaction's first statement: its row lock (the same one the
//! message writer takes to number new messages) serialises every change to a room, across
//! server processes on PostgreSQL, and takes SQLite's write lock up front. What the change
//! finds is therefore read after the lock, so two members reacting at once never lose an
//! update, and no two changes share a `rev` (`messages_room_rev` is unique besides).
//! A change that is already in place (the same body again, a second identical reaction)
//! rolls back: it takes no `rev` and tells nobody.

use super::admin::record;
use super::message_views;
use super::messages::row_at;
use super::rooms::member_room;
use super::search;
use crate::db::models::{
    MessageRow, NewReaction, NewRevision, RoomRow, DELETED_BY_ADMIN, DELETED_BY_SENDER,
};
use crate::db::schema::{message_revisions, messages, reactions, rooms};
use crate::db::{to_utc, DbConn};
use crate::error::AppError;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use shared::{
    Emoji, Message, MessageBody, Revision, MAX_REACTIONS_PER_MESSAGE, SENDER_DELETED_BODY,
    TOMBSTONE_BODY,
};

/// What to do to a message.
#[derive(Debug, Clone)]
pub enum Change {
    /// A new text, by its sender.
    Edit(MessageBody),
    /// Deletion by its sender: the earlier texts stay readable by administrators.
    Delete,
    React(Emoji),
    Unreact(Emoji),
    /// Deletion by an administrator (moderation): the text and every revision of it are
    /// erased for good, and the audit log records it.
    Moderate,
}

/// Which message, and who asks.
#[derive(Debug, Clone, Copy)]
pub enum Target {
    /// A member addresses a message of their room by its `seq`.
    Member { user: i64, room_id: i64, seq: i64 },
    /// An administrator addresses any message by its id.
    Admin { user: i64, message_id: i64 },
}

/// A change's outcome.
#[derive(Debug)]
pub struct Changed {
    /// The message as it is now.
    pub message: Message,
    /// Replies whose excerpt followed the change (edits and deletions); each took a `rev`.
    pub replies: Vec<Message>,
    /// False when the change was already in place: nothing was written.
    pub changed: bool,
    pub room: RoomRow,
}

/// Why a change's transaction rolled back.
enum Abort {
    /// Nothing to do: the message is already as asked.
    Unchanged(Box<MessageRow>),
    Failed(AppError),
}

impl From<diesel::result::Error> for Abort {
    fn from(e: diesel::result::Error) -> Self {
        Abort::Failed(e.into())
    }
}

impl From<AppError> for Abort {
    fn from(e: AppError) -> Self {
        Abort::Failed(e)
    }
}

pub fn apply(
    conn: &mut DbConn,
    target: Target,
    change: Change,
    now: NaiveDateTime,
) -> Result<Changed, AppError> {
    let room_id = match target {
        Target::Member { user, room_id, .. } => member_room(conn, user, room_id)?.id,
        Target::Admin { message_id, .. } => messages::table
            .find(message_id)
            .select(messages::room_id)
            .first::<i64>(conn)
            .optional()?
            .ok_or_else(|| AppError::NotFound("no such message".into()))?,
    };
    let outcome = conn.transaction::<_, Abort, _>(|conn| {
        let rev = take_revs(conn, room_id, 1)?;
        let row = match target {
            Target::Member { seq, .. } => row_at(conn, room_id, seq)?,
            Target::Admin { message_id, .. } => messages::table
                .find(message_id)
                .select(MessageRow::as_select())
                .first(conn)?,
        };
        let row = write(conn, target, &change, row, rev, now)?;
        let replies = match change {
            Change::Edit(_) | Change::Delete | Change::Moderate => touch_replies(conn, &row)?,
            Change::React(_) | Change::Unreact(_) => Vec::new(),
        };
        let room = rooms::table
            .find(room_id)
            .select(RoomRow::as_select())
            .first(conn)?;
        Ok((row, replies, room))
    });
    match outcome {
        Ok((row, replies, room)) => Ok(Changed {
            message: message_views::view(conn, row)?,
            replies: message_views::views(conn, replies)?,
            changed: true,
            room,
        }),
        Err(Abort::Unchanged(row)) => {
            let room = rooms::table
                .find(room_id)
                .select(RoomRow::as_select())
                .first(conn)?;
            Ok(Changed {
                message: message_views::view(conn, *row)?,
                replies: Vec::new(),
                changed: false,
                room,
            })
        }
        Err(Abort::Failed(e)) => Err(e),
    }
}

/// Takes the room's next `count` revs (locking the room row); returns the first.
fn take_revs(conn: &mut DbConn, room_id: i64, count: i64) -> QueryResult<i64> {
    let last = diesel::update(rooms::table.find(room_id))
        .set(rooms::last_rev.eq(rooms::last_rev + count))
        .returning(rooms::last_rev)
        .get_result::<i64>(conn)?;
    Ok(last - count + 1)
}

/// Makes the change to `row` at `rev`; returns the row as written.
fn write(
    conn: &mut DbConn,
    target: Target,
    change: &Change,
    mut row: MessageRow,
    rev: i64,
    now: NaiveDateTime,
) -> Result<MessageRow, Abort> {
    let by_sender = match target {
        Target::Member { user, .. } => user == row.sender_id,
        Target::Admin { .. } => false,
    };
    let deleted = || AppError::Conflict("the message was deleted".into());
    match change {
        Change::Edit(body) => {
            if !by_sender {
                return Err(
                    AppError::Forbidden("only its sender can edit a message".into()).into(),
                );
            }
            if row.deleted {
                return Err(deleted().into());
            }
            if row.body == body.as_str() {
                return Err(Abort::Unchanged(Box::new(row)));
            }
            keep_revision(conn, &row)?;
            search::reindex(conn, row.id, body.as_str())?;
            diesel::update(messages::table.find(row.id))
                .set((
                    messages::body.eq(body.as_str()),
                    messages::edited_at.eq(now),
                    messages::rev.eq(rev),
                ))
                .execute(conn)?;
            row.body = body.as_str().to_owned();
            row.edited_at = Some(now);
        }
        Change::Delete => {
            if !by_sender {
                return Err(
                    AppError::Forbidden("only its sender can delete a message".into()).into(),
                );
            }
            if row.deleted {
                return Err(Abort::Unchanged(Box::new(row)));
            }
            keep_revision(conn, &row)?;
            empty(conn, &mut row, SENDER_DELETED_BODY, DELETED_BY_SENDER, rev)?;
        }
        Change::Moderate => {
            if row.deleted_by.as_deref() == Some(DELETED_BY_ADMIN)
                || (row.deleted && row.deleted_by.is_none())
            {
                return Err(Abort::Unchanged(Box::new(row)));
            }
            diesel::delete(
                message_revisions::table.filter(message_revisions::message_id.eq(row.id)),
            )
            .execute(conn)?;
            // Its files go too; `uploads::sweep` deletes the objects no row names any more.
            super::attachments::purge_of_message(conn, row.id)?;
            empty(conn, &mut row, TOMBSTONE_BODY, DELETED_BY_ADMIN, rev)?;
            let admin = match target {
                Target::Admin { user, .. } => Some(user),
                Target::Member { .. } => None,
            };
            record(
                conn,
                admin,
                "delete_message",
                "message",
                row.id,
                &format!("room {} seq {}", row.room_id, row.seq),
            )?;
        }
        Change::React(emoji) => {
            if row.deleted {
                return Err(deleted().into());
            }
            let user = actor(target);
            let on_message: Vec<(i64, String)> = reactions::table
                .filter(reactions::message_id.eq(row.id))
                .select((reactions::user_id, reactions::emoji))
                .load(conn)?;
            if on_message
                .iter()
                .any(|(who, e)| *who == user && e == emoji.as_str())
            {
                return Err(Abort::Unchanged(Box::new(row)));
            }
            let mut distinct: Vec<&str> = on_message.iter().map(|(_, e)| e.as_str()).collect();
            distinct.sort_unstable();
            distinct.dedup();
            if !distinct.contains(&emoji.as_str()) && distinct.len() >= MAX_REACTIONS_PER_MESSAGE {
                return Err(AppError::Validation(format!(
                    "emoji: a message carries at most {MAX_REACTIONS_PER_MESSAGE} different emoji"
                ))
                .into());
            }
            diesel::insert_into(reactions::table)
                .values(NewReaction {
                    message_id: row.id,
                    user_id: user,
                    emoji: emoji.as_str(),
                    created_at: now,
                })
                .execute(conn)?;
            set_rev(conn, &mut row, rev)?;
        }
        Change::Unreact(emoji) => {
            let removed = diesel::delete(
                reactions::table
                    .filter(reactions::message_id.eq(row.id))
                    .filter(reactions::user_id.eq(actor(target)))
                    .filter(reactions::emoji.eq(emoji.as_str())),
            )
            .execute(conn)?;
            if removed == 0 {
                return Err(Abort::Unchanged(Box::new(row)));
            }
            set_rev(conn, &mut row, rev)?;
        }
    }
    row.rev = rev;
    Ok(row)
}

fn actor(target: Target) -> i64 {
    match target {
        Target::Member { user, .. } | Target::Admin { user, .. } => user,
    }
}

fn set_rev(conn: &mut DbConn, row: &mut MessageRow, rev: i64) -> QueryResult<()> {
    diesel::update(messages::table.find(row.id))
        .set(messages::rev.eq(rev))
        .execute(conn)?;
    row.rev = rev;
    Ok(())
}

/// Keeps the text being replaced, with the time it was written, for administrators.
fn keep_revision(conn: &mut DbConn, row: &MessageRow) -> QueryResult<()> {
    diesel::insert_into(message_revisions::table)
        .values(NewRevision {
            message_id: row.id,
            body: &row.body,
            written_at: row.edited_at.unwrap_or(row.created_at),
        })
        .execute(conn)?;
    Ok(())
}

/// Replaces a deleted message's text by `tombstone` and drops its reactions.
fn empty(
    conn: &mut DbConn,
    row: &mut MessageRow,
    tombstone: &str,
    deleted_by: &str,
    rev: i64,
) -> QueryResult<()> {
    diesel::delete(reactions::table.filter(reactions::message_id.eq(row.id))).execute(conn)?;
    search::unindex(conn, row.id)?;
    diesel::update(messages::table.find(row.id))
        .set((
            messages::body.eq(tombstone),
            messages::deleted.eq(true),
            messages::deleted_by.eq(deleted_by),
            messages::rev.eq(rev),
        ))
        .execute(conn)?;
    row.body = tombstone.to_owned();
    row.deleted = true;
    row.deleted_by = Some(deleted_by.to_owned());
    Ok(())
}

/// The replies to `original` (not deleted themselves), each given a new `rev`: their
/// excerpt follows the original's text, so a client catching up by `rev` learns of it.
fn touch_replies(conn: &mut DbConn, original: &MessageRow) -> QueryResult<Vec<MessageRow>> {
    let mut replies: Vec<MessageRow> = messages::table
        .filter(messages::room_id.eq(original.room_id))
        .filter(messages::reply_to_seq.eq(original.seq))
        .filter(messages::deleted.eq(false))
        .order(messages::seq.asc())
        .select(MessageRow::as_select())
        .load(conn)?;
    if replies.is_empty() {
        return Ok(replies);
    }
    let first = take_revs(conn, original.room_id, replies.len() as i64)?;
    for (reply, rev) in replies.iter_mut().zip(first..) {
        set_rev(conn, reply, rev)?;
    }
    Ok(replies)
}

/// A message's texts for administrators, oldest first, the current one last. Nothing is left
/// of a message an administrator deleted.
pub fn revisions(conn: &mut DbConn, message_id: i64) -> Result<Vec<Revision>, AppError> {
    let row = messages::table
        .find(message_id)
        .select(MessageRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::NotFound("no such message".into()))?;
    let mut texts: Vec<Revision> = message_revisions::table
        .filter(message_revisions::message_id.eq(message_id))
        .order(message_revisions::id.asc())
        .select((message_revisions::body, message_revisions::written_at))
        .load::<(String, NaiveDateTime)>(conn)?
        .into_iter()
        .map(|(body, at)| Revision {
            body,
            at: to_utc(at),
        })
        .collect();
    if !row.deleted {
        texts.push(Revision {
            body: row.body,
            at: to_utc(row.edited_at.unwrap_or(row.created_at)),
        });
    }
    Ok(texts)
}
