//! The API view of stored messages: a row plus what lives in other rows (its reactions, its
//! attachments and the current excerpt of the message it answers), loaded with a fixed number of queries for
//! any number of messages.

use super::attachments;
use crate::db::models::MessageRow;
use crate::db::schema::{messages, reactions};
use crate::db::DbConn;
use diesel::prelude::*;
use shared::{Message, Reaction, ReplyRef, UserId, REPLY_EXCERPT_CHARS};
use std::collections::{HashMap, HashSet};

/// The views of `rows`, in the same order.
pub fn views(conn: &mut DbConn, rows: Vec<MessageRow>) -> QueryResult<Vec<Message>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let mut reactions = reactions_of(conn, &rows)?;
    let originals = originals_of(conn, &rows)?;
    let live: Vec<i64> = rows.iter().filter(|r| !r.deleted).map(|r| r.id).collect();
    let mut attachments = attachments::of_messages(conn, &live)?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let reply_to = reply_ref(&row, &originals);
            let reactions = reactions.remove(&row.id).unwrap_or_default();
            let attachments = attachments.remove(&row.id).unwrap_or_default();
            row.into_message(reply_to, reactions, attachments)
        })
        .collect())
}

pub fn view(conn: &mut DbConn, row: MessageRow) -> QueryResult<Message> {
    let mut one = views(conn, vec![row])?;
    one.pop().ok_or(diesel::result::Error::NotFound)
}

/// What a reply shows of the message it answers: `None` when it answers nothing, or when the
/// original is not among `originals` (it always is: a reply's target is checked at send and
/// messages are never removed, only emptied).
pub fn reply_ref(row: &MessageRow, originals: &Originals) -> Option<ReplyRef> {
    let seq = row.reply_to_seq?;
    let original = originals.get(&(row.room_id, seq))?;
    Some(ReplyRef {
        seq,
        sender_id: UserId(original.sender_id),
        excerpt: excerpt(original),
        deleted: original.deleted,
    })
}

/// The first characters of a message's current text; nothing of a deleted one.
pub fn excerpt(original: &Original) -> String {
    if original.deleted {
        String::new()
    } else {
        original.body.chars().take(REPLY_EXCERPT_CHARS).collect()
    }
}

/// A message that is answered, by (room, seq).
pub type Originals = HashMap<(i64, i64), Original>;

#[derive(Debug, Clone, Queryable)]
pub struct Original {
    pub room_id: i64,
    pub seq: i64,
    pub sender_id: i64,
    pub body: String,
    pub deleted: bool,
}

/// The messages that `rows` answer.
pub fn originals_of(conn: &mut DbConn, rows: &[MessageRow]) -> QueryResult<Originals> {
    let wanted: HashSet<(i64, i64)> = rows
        .iter()
        .filter_map(|r| r.reply_to_seq.map(|seq| (r.room_id, seq)))
        .collect();
    load_originals(conn, &wanted)
}

/// The messages at these (room, seq) positions.
pub fn load_originals(conn: &mut DbConn, wanted: &HashSet<(i64, i64)>) -> QueryResult<Originals> {
    if wanted.is_empty() {
        return Ok(HashMap::new());
    }
    let rooms: HashSet<i64> = wanted.iter().map(|(room, _)| *room).collect();
    let seqs: HashSet<i64> = wanted.iter().map(|(_, seq)| *seq).collect();
    // Rooms × seqs may fetch a few extra rows when several rooms are asked; they are dropped.
    Ok(messages::table
        .filter(messages::room_id.eq_any(rooms))
        .filter(messages::seq.eq_any(seqs))
        .select((
            messages::room_id,
            messages::seq,
            messages::sender_id,
            messages::body,
            messages::deleted,
        ))
        .load::<Original>(conn)?
        .into_iter()
        .filter(|o| wanted.contains(&(o.room_id, o.seq)))
        .map(|o| ((o.room_id, o.seq), o))
        .collect())
}

/// Each message's reactions, emoji in the order they were first used on it.
fn reactions_of(
    conn: &mut DbConn,
    rows: &[MessageRow],
) -> QueryResult<HashMap<i64, Vec<Reaction>>> {
    let ids: Vec<i64> = rows.iter().filter(|r| !r.deleted).map(|r| r.id).collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let found = reactions::table
        .filter(reactions::message_id.eq_any(ids))
        .order(reactions::id.asc())
        .select((reactions::message_id, reactions::user_id, reactions::emoji))
        .load::<(i64, i64, String)>(conn)?;
    let mut by_message: HashMap<i64, Vec<Reaction>> = HashMap::new();
    for (message_id, user_id, emoji) in found {
        let list = by_message.entry(message_id).or_default();
        match list.iter_mut().find(|r| r.emoji == emoji) {
            Some(reaction) => {
                reaction.count += 1;
                reaction.user_ids.push(UserId(user_id));
            }
            None => list.push(Reaction {
                emoji,
                count: 1,
                user_ids: vec![UserId(user_id)],
            }),
        }
    }
    Ok(by_message)
}
