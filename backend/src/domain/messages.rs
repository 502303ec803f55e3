//! Storing messages (numbered per room, idempotent per sender) and reading them back.

use super::attachments::{self, Requested};
use super::message_views::{self, load_originals, reply_ref, Originals};
use super::rooms::member_room;
use super::search;
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
use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};

/// The outcome of a send.
#[derive(Debug)]
pub struct Stored {
    pub message: Message,
    /// False when the `client_id` had been stored before: this is the earlier message.
    pub created: bool,
    pub room: RoomRow,
}

/// Stores one message: the group commit of one. A lost race on the `(sender_id, client_id)`
/// key with another server process is retried once; that pass finds the winner's message.
pub fn store(
    conn: &mut DbConn,
    request: &SendRequest,
    now: NaiveDateTime,
) -> Result<Stored, AppError> {
    let one = std::slice::from_ref(request);
    let outcomes = match store_batch(conn, one, now) {
        Err(e) if is_unique_violation(&e) => store_batch(conn, one, now)?,
        other => other?,
    };
    outcomes
        .into_iter()
        .next()
        .unwrap_or_else(|| Err(AppError::internal(anyhow::anyhow!("no outcome for a send"))))
}

/// Inserts the messages and returns their ids in the same order. PostgreSQL gets one
/// multi-row INSERT (one round trip for the whole batch); SQLite, in process, row by row.
fn insert_all(
    conn: &mut DbConn,
    placed: &[(usize, NewMessage)],
) -> Result<Vec<i64>, diesel::result::Error> {
    if placed.is_empty() {
        return Ok(Vec::new());
    }
    let values: Vec<&NewMessage> = placed.iter().map(|(_, m)| m).collect();
    // One multi-row INSERT for the batch (per row, diesel's statement building and SQLite's
    // statement reset were a fifth of the writer's work), on the backend's own connection.
    // Matched by (room, seq), which is unique, rather than trusting RETURNING's order.
    let rows: Vec<(i64, i64, i64)> =
        crate::on_backend!(conn, |c| diesel::insert_into(messages::table)
            .values(values)
            .returning((messages::room_id, messages::seq, messages::id))
            .get_results(c)?);
    let returned: HashMap<(i64, i64), i64> = rows
        .into_iter()
        .map(|(room, seq, id)| ((room, seq), id))
        .collect();
    placed
        .iter()
        .map(|(_, m)| {
            returned
                .get(&(m.room_id, m.seq))
                .copied()
                .ok_or(diesel::result::Error::NotFound)
        })
        .collect()
}

/// A `client_id` names one message: reusing it for another room is a client bug.
fn earlier_send(existing: Message, room: RoomRow) -> Result<Stored, AppError> {
    if existing.room_id.0 != room.id {
        return Err(AppError::Conflict(
            "client_id was already used for a message in another room".into(),
        ));
    }
    Ok(Stored {
        message: existing,
        created: false,
        room,
    })
}

/// One send waiting to be stored.
#[derive(Debug, Clone)]
pub struct SendRequest {
    pub sender: i64,
    pub room_id: i64,
    pub body: MessageBody,
    pub client_id: ClientId,
    /// The `seq` of the message of the same room this one answers.
    pub reply_to: Option<i64>,
    /// Uploads of the sender's, in display order.
    pub attachments: Vec<i64>,
}

/// Group commit: stores many senders' messages in ONE transaction (one fsync), numbering
/// each room's new messages consecutively in request order. Each request gets its own
/// outcome (not a member, a retry of an earlier `client_id`, or the stored message).
///
/// `seq` comes from `rooms.last_seq`, bumped in the same transaction: the row lock the
/// update takes serialises concurrent writers to one room on PostgreSQL, even across server
/// processes, and SQLite has a single writer anyway; the bumps are the transaction's first
/// statements so SQLite takes its write lock up front. Fails as a whole only when the
/// transaction does (for example a unique-key race with another server process, which rolls
/// back every bump); the caller then stores the requests one by one with `store`.
pub fn store_batch(
    conn: &mut DbConn,
    batch: &[SendRequest],
    now: NaiveDateTime,
) -> Result<Vec<Result<Stored, AppError>>, diesel::result::Error> {
    let known = Known::load(conn, batch)?;
    let plans = plan(batch, &known);
    let inserted = conn.transaction::<_, diesel::result::Error, _>(|conn| {
        let placed = number(conn, batch, &plans, now)?;
        insert(conn, batch, &placed, now)
    })?;
    Ok(answer(batch, plans, &inserted, &known))
}

/// Pairs per query when a batch looks up its earlier sends: an OR of that many terms stays
/// well within SQLite's expression depth (1,000).
const EARLIER_LOOKUPS_PER_QUERY: usize = 100;

/// What storage already holds for a batch: its rooms, the senders' earlier messages with
/// the same `client_id`s, and the messages the new ones answer.
struct Known {
    rooms: HashMap<i64, RoomRow>,
    earlier: HashMap<(i64, String), Message>,
    originals: Originals,
    /// `(blocker, blocked)` between the rooms' members.
    blocks: Vec<(i64, i64)>,
    uploads: Requested,
}

impl Known {
    fn load(conn: &mut DbConn, batch: &[SendRequest]) -> QueryResult<Known> {
        let room_ids: Vec<i64> = batch.iter().map(|r| r.room_id).collect();
        let rooms: Vec<RoomRow> = crate::on_backend!(&mut *conn, |c| rooms::table
            .filter(rooms::id.eq_any(&room_ids))
            .select(RoomRow::as_select())
            .load(c)?);
        let rooms: HashMap<i64, RoomRow> = rooms.into_iter().map(|r: RoomRow| (r.id, r)).collect();
        let pairs: Vec<(i64, i64)> = rooms.values().map(|r| (r.user_lo, r.user_hi)).collect();
        let blocks = super::account::blocks_between(conn, &pairs)?;
        // Each (sender, client_id) pair looked up as such. `sender_id IN (…) AND client_id
        // IN (…)` made SQLite probe every sender with every client_id, quadratic in the
        // batch: with 500 pairs sending, the writer spent 270 µs per message there.
        let mut earlier_rows: Vec<MessageRow> = Vec::new();
        for chunk in batch.chunks(EARLIER_LOOKUPS_PER_QUERY) {
            let found: Vec<MessageRow> = crate::on_backend!(&mut *conn, |c| {
                let mut query = messages::table.select(MessageRow::as_select()).into_boxed();
                for request in chunk {
                    query = query.or_filter(
                        messages::sender_id
                            .eq(request.sender)
                            .and(messages::client_id.eq(request.client_id.as_str())),
                    );
                }
                query.load(c)?
            });
            earlier_rows.extend(found);
        }
        // A retry answers with the message as it is now (it may have been edited since).
        let earlier = message_views::views(conn, earlier_rows)?
            .into_iter()
            .map(|m| ((m.sender_id.0, m.client_id.clone()), m))
            .collect();
        let answered: HashSet<(i64, i64)> = batch
            .iter()
            .filter_map(|r| r.reply_to.map(|seq| (r.room_id, seq)))
            .collect();
        let originals = load_originals(conn, &answered)?;
        let upload_ids: Vec<i64> = batch
            .iter()
            .flat_map(|r| r.attachments.iter().copied())
            .collect();
        let uploads = Requested::load(conn, &upload_ids)?;
        Ok(Known {
            rooms,
            earlier,
            originals,
            blocks,
            uploads,
        })
    }
}

/// What to do with one request of a batch.
enum Plan {
    /// Answered without storing anything (not a member, or sent before).
    Done(Box<Result<Stored, AppError>>),
    /// A new message in this room.
    Insert(RoomRow),
    /// Repeats the `client_id` of an earlier request in the same batch (by index).
    SameAs(usize, RoomRow),
}

/// Decides each request's fate from what storage holds, before anything is written.
fn plan(batch: &[SendRequest], known: &Known) -> Vec<Plan> {
    let mut first_in_batch: HashMap<(i64, &str), usize> = HashMap::new();
    // Uploads given to an earlier send of this batch.
    let mut taken: HashSet<i64> = HashSet::new();
    batch
        .iter()
        .enumerate()
        .map(|(i, req)| {
            let Some(room) = known
                .rooms
                .get(&req.room_id)
                .filter(|r| r.user_lo == req.sender || r.user_hi == req.sender)
                .cloned()
            else {
                return Plan::Done(Box::new(Err(AppError::not_found_room())));
            };
            let key = (req.sender, req.client_id.as_str().to_owned());
            if let Some(existing) = known.earlier.get(&key) {
                return Plan::Done(Box::new(earlier_send(existing.clone(), room)));
            }
            if let Some(refusal) =
                super::account::send_refusal(&known.blocks, req.sender, room.peer_of(req.sender))
            {
                return Plan::Done(Box::new(Err(refusal)));
            }
            if let Some(seq) = req.reply_to {
                if !known.originals.contains_key(&(room.id, seq)) {
                    return Plan::Done(Box::new(Err(AppError::Validation(
                        "reply_to: no message with that seq in this room".into(),
                    ))));
                }
            }
            match first_in_batch.entry((req.sender, req.client_id.as_str())) {
                Entry::Occupied(first) => Plan::SameAs(*first.get(), room),
                Entry::Vacant(slot) => {
                    if let Some(refusal) =
                        known.uploads.refusal(req.sender, &req.attachments, &taken)
                    {
                        return Plan::Done(Box::new(Err(refusal)));
                    }
                    taken.extend(&req.attachments);
                    slot.insert(i);
                    Plan::Insert(room)
                }
            }
        })
        .collect()
}

/// Takes each room's block of new `seq`s and `rev`s (bumping `last_seq` and `last_rev`, which
/// locks the room row) and numbers the new messages in request order. Returns them with their
/// request's index.
fn number<'a>(
    conn: &mut DbConn,
    batch: &'a [SendRequest],
    plans: &[Plan],
    now: NaiveDateTime,
) -> QueryResult<Vec<(usize, NewMessage<'a>)>> {
    // Each room's count of new messages, in order of first appearance.
    let mut new_per_room: Vec<(i64, i64)> = Vec::new();
    for plan in plans {
        if let Plan::Insert(room) = plan {
            match new_per_room.iter_mut().find(|(id, _)| *id == room.id) {
                Some((_, count)) => *count += 1,
                None => new_per_room.push((room.id, 1)),
            }
        }
    }
    // Each room's next (seq, rev). Rooms are locked in ascending id order, as every
    // transaction that locks several rooms does (`writer::lock_rooms`): two instances' rounds
    // over the same rooms then wait for each other instead of deadlocking.
    new_per_room.sort_unstable_by_key(|(room_id, _)| *room_id);
    let mut next: HashMap<i64, (i64, i64)> = HashMap::new();
    for (room_id, count) in &new_per_room {
        let (last_seq, last_rev): (i64, i64) =
            crate::on_backend!(&mut *conn, |c| diesel::update(rooms::table.find(room_id))
                .set((
                    rooms::last_seq.eq(rooms::last_seq + count),
                    rooms::last_rev.eq(rooms::last_rev + count),
                    rooms::last_activity_at.eq(now),
                ))
                .returning((rooms::last_seq, rooms::last_rev))
                .get_result(c)?);
        next.insert(*room_id, (last_seq - count + 1, last_rev - count + 1));
    }
    let mut placed = Vec::with_capacity(batch.len());
    for (i, (req, plan)) in batch.iter().zip(plans).enumerate() {
        let Plan::Insert(room) = plan else { continue };
        let (seq, rev) = next.get(&room.id).copied().unwrap_or((1, 1));
        next.insert(room.id, (seq + 1, rev + 1));
        placed.push((
            i,
            NewMessage {
                room_id: room.id,
                seq,
                sender_id: req.sender,
                body: req.body.as_str(),
                client_id: req.client_id.as_str(),
                created_at: now,
                rev,
                reply_to_seq: req.reply_to,
                search_text: search::search_key(req.body.as_str()),
            },
        ));
    }
    Ok(placed)
}

/// Inserts the numbered messages and gives them their uploads; their rows by request index.
fn insert(
    conn: &mut DbConn,
    batch: &[SendRequest],
    placed: &[(usize, NewMessage)],
    now: NaiveDateTime,
) -> QueryResult<HashMap<usize, MessageRow>> {
    let ids = insert_all(conn, placed)?;
    for ((i, _), id) in placed.iter().zip(&ids) {
        attachments::attach(conn, *id, &batch[*i].attachments)?;
    }
    // Findable once acknowledged: indexed in the transaction that stores it.
    let keys: Vec<(i64, &str)> = placed
        .iter()
        .zip(&ids)
        .map(|((_, new), id)| (*id, new.search_text.as_str()))
        .collect();
    search::index(conn, &keys)?;
    Ok(placed
        .iter()
        .zip(ids)
        .map(|((i, new), id)| {
            let row = MessageRow {
                id,
                room_id: new.room_id,
                seq: new.seq,
                sender_id: new.sender_id,
                body: new.body.to_owned(),
                client_id: new.client_id.to_owned(),
                created_at: now,
                deleted: false,
                rev: new.rev,
                edited_at: None,
                deleted_by: None,
                reply_to_seq: new.reply_to_seq,
            };
            (*i, row)
        })
        .collect())
}

/// Each request's outcome, in request order, once the transaction has committed.
fn answer(
    batch: &[SendRequest],
    plans: Vec<Plan>,
    inserted: &HashMap<usize, MessageRow>,
    known: &Known,
) -> Vec<Result<Stored, AppError>> {
    // A new message has no reactions yet; its reply excerpt and its uploads come from what
    // `Known` loaded.
    let fresh = |i: usize, row: &MessageRow| {
        row.clone().into_message(
            reply_ref(row, &known.originals),
            Vec::new(),
            known.uploads.views(&batch[i].attachments),
        )
    };
    let vanished = || AppError::internal(anyhow::anyhow!("batched message vanished"));
    plans
        .into_iter()
        .enumerate()
        .map(|(i, plan)| match plan {
            Plan::Done(outcome) => *outcome,
            Plan::Insert(room) => inserted
                .get(&i)
                .map(|row| Stored {
                    message: fresh(i, row),
                    created: true,
                    room,
                })
                .ok_or_else(vanished),
            Plan::SameAs(first, room) => inserted
                .get(&first)
                .map(|row| fresh(first, row))
                .ok_or_else(vanished)
                .and_then(|message| earlier_send(message, room)),
        })
        .collect()
}

/// Which page of history to read; built only from a valid query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    Latest {
        limit: i64,
    },
    Before {
        seq: i64,
        limit: i64,
    },
    After {
        seq: i64,
        limit: i64,
    },
    /// The page holding `seq`, about half before it and half after.
    Around {
        seq: i64,
        limit: i64,
    },
    /// Messages changed (or created) after `rev`, ascending by `rev`.
    ChangedAfter {
        rev: i64,
        limit: i64,
    },
}

impl Page {
    pub fn parse(query: &MessagesQuery) -> Result<Page, AppError> {
        let limit = query.limit.unwrap_or(DEFAULT_PAGE_LIMIT);
        if !(1..=MAX_PAGE_LIMIT).contains(&limit) {
            return Err(AppError::BadRequest(format!(
                "limit must be between 1 and {MAX_PAGE_LIMIT}"
            )));
        }
        let cursors = [
            ("before", query.before),
            ("after", query.after),
            ("around", query.around),
            ("changed_after", query.changed_after),
        ];
        let given: Vec<(&str, i64)> = cursors
            .iter()
            .filter_map(|(name, value)| value.map(|v| (*name, v)))
            .collect();
        match given.as_slice() {
            [] => Ok(Page::Latest { limit }),
            [(name, value)] if *value < 0 => {
                Err(AppError::BadRequest(format!("{name} must not be negative")))
            }
            [("before", seq)] => Ok(Page::Before { seq: *seq, limit }),
            [("after", seq)] => Ok(Page::After { seq: *seq, limit }),
            [("around", seq)] => Ok(Page::Around { seq: *seq, limit }),
            [(_, rev)] => Ok(Page::ChangedAfter { rev: *rev, limit }),
            _ => Err(AppError::BadRequest(
                "give at most one of before, after, around and changed_after".into(),
            )),
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

/// One message of a room, for one of its members.
pub fn one(conn: &mut DbConn, me: i64, room_id: i64, seq: i64) -> Result<Message, AppError> {
    member_room(conn, me, room_id)?;
    let row = row_at(conn, room_id, seq)?;
    Ok(message_views::view(conn, row)?)
}

/// The stored row at a room's `seq`; 404 when the room holds no such message.
pub fn row_at(conn: &mut DbConn, room_id: i64, seq: i64) -> Result<MessageRow, AppError> {
    messages::table
        .filter(messages::room_id.eq(room_id))
        .filter(messages::seq.eq(seq))
        .select(MessageRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::NotFound("no such message".into()))
}

/// A page of any room's history, for callers that already checked who may read it.
pub fn page_of_room(
    conn: &mut DbConn,
    room_id: i64,
    page: Page,
) -> Result<MessagesResponse, AppError> {
    let in_room = || {
        messages::table
            .filter(messages::room_id.eq(room_id))
            .select(MessageRow::as_select())
    };
    let (rows, has_more, before_after) = match page {
        Page::Latest { limit } => {
            let rows = in_room()
                .order(messages::seq.desc())
                .limit(limit + 1)
                .load(conn)?;
            let (rows, more) = newest_first(rows, limit);
            (rows, more, None)
        }
        Page::Before { seq, limit } => {
            let rows = in_room()
                .filter(messages::seq.lt(seq))
                .order(messages::seq.desc())
                .limit(limit + 1)
                .load(conn)?;
            let (rows, more) = newest_first(rows, limit);
            (rows, more, None)
        }
        Page::After { seq, limit } => {
            let mut rows = in_room()
                .filter(messages::seq.gt(seq))
                .order(messages::seq.asc())
                .limit(limit + 1)
                .load(conn)?;
            let more = rows.len() as i64 > limit;
            rows.truncate(limit as usize);
            (rows, more, None)
        }
        Page::ChangedAfter { rev, limit } => {
            let mut rows = in_room()
                .filter(messages::rev.gt(rev))
                .order(messages::rev.asc())
                .limit(limit + 1)
                .load(conn)?;
            let more = rows.len() as i64 > limit;
            rows.truncate(limit as usize);
            (rows, more, None)
        }
        Page::Around { seq, limit } => {
            let target = row_at(conn, room_id, seq)?;
            // Up to `limit - 1` on each side, so a page near one end can fill from the other.
            let older = in_room()
                .filter(messages::seq.lt(seq))
                .order(messages::seq.desc())
                .limit(limit)
                .load(conn)?;
            let newer = in_room()
                .filter(messages::seq.gt(seq))
                .order(messages::seq.asc())
                .limit(limit)
                .load(conn)?;
            let (rows, more_before, more_after) = around(older, target, newer, limit);
            (
                rows,
                more_before || more_after,
                Some((more_before, more_after)),
            )
        }
    };
    Ok(MessagesResponse {
        messages: message_views::views(conn, rows)?,
        has_more,
        has_more_before: before_after.map(|(before, _)| before),
        has_more_after: before_after.map(|(_, after)| after),
    })
}

/// Rows read newest first, one beyond the page: the page ascending, and whether more lie
/// beyond it.
fn newest_first(mut rows: Vec<MessageRow>, limit: i64) -> (Vec<MessageRow>, bool) {
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    rows.reverse();
    (rows, more)
}

/// The `around` page: ⌊(limit−1)/2⌋ before the target and the rest after, a side that runs
/// short giving its room to the other. `older` is newest first, `newer` oldest first.
fn around(
    mut older: Vec<MessageRow>,
    target: MessageRow,
    mut newer: Vec<MessageRow>,
    limit: i64,
) -> (Vec<MessageRow>, bool, bool) {
    let room = (limit - 1) as usize;
    let mut before = room / 2;
    let mut after = room - before;
    if older.len() < before {
        before = older.len();
        after = room - before;
    } else if newer.len() < after {
        after = newer.len();
        before = room - after;
    }
    let (before, after) = (before.min(older.len()), after.min(newer.len()));
    let more_before = older.len() > before;
    let more_after = newer.len() > after;
    older.truncate(before);
    older.reverse();
    newer.truncate(after);
    older.push(target);
    older.append(&mut newer);
    (older, more_before, more_after)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::{Db, PoolOptions};
    use crate::domain::{rooms, users};
    use shared::{DisplayName, Username};

    fn user(conn: &mut DbConn, name: &str) -> i64 {
        let name = Username::parse(name).unwrap();
        let display = DisplayName::parse(name.as_str()).unwrap();
        users::create_user(conn, &name, &display, "x", crate::db::now())
            .unwrap()
            .id
    }

    fn send(sender: i64, room_id: i64, body: &str, client_id: &str) -> SendRequest {
        SendRequest {
            sender,
            room_id,
            body: MessageBody::parse(body.into()).unwrap(),
            client_id: ClientId::parse(client_id.into()).unwrap(),
            reply_to: None,
            attachments: Vec::new(),
        }
    }

    #[test]
    fn a_batch_numbers_each_room_in_order_and_answers_each_request_on_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let db = Db::connect(
            &url,
            &PoolOptions {
                max_size: 1,
                connection_timeout: std::time::Duration::from_secs(5),
            },
        )
        .unwrap();
        let mut conn = db.get_blocking().unwrap();
        let (a, b, c) = (
            user(&mut conn, "aaa"),
            user(&mut conn, "bbb"),
            user(&mut conn, "ccc"),
        );
        let now = crate::db::now();
        let (ab, _) = rooms::get_or_create(&mut conn, a, b, now).unwrap();
        let (ac, _) = rooms::get_or_create(&mut conn, a, c, now).unwrap();
        store(&mut conn, &send(a, ab.id, "first", "c0"), now).unwrap();

        let outcomes = store_batch(
            &mut conn,
            &[
                send(a, ab.id, "one", "c1"),
                send(b, ab.id, "two", "c2"),
                send(a, ab.id, "one again", "c1"),
                send(c, ab.id, "intruder", "c3"),
                send(a, ac.id, "other room", "c4"),
                send(a, ab.id, "retry of an old one", "c0"),
                send(a, ac.id, "reused id elsewhere", "c2x"),
                send(a, ab.id, "three", "c5"),
            ],
            now,
        )
        .unwrap();

        let seq = |i: usize| outcomes[i].as_ref().unwrap().message.seq;
        let created = |i: usize| outcomes[i].as_ref().unwrap().created;
        assert_eq!(
            (seq(0), seq(1), seq(7)),
            (2, 3, 4),
            "consecutive after the stored one"
        );
        assert!(created(0) && created(1) && created(7));
        assert_eq!(
            outcomes[2].as_ref().unwrap().message,
            outcomes[0].as_ref().unwrap().message
        );
        assert!(
            !created(2),
            "a duplicate inside the batch is the same message"
        );
        assert!(matches!(outcomes[3], Err(AppError::NotFound(_))));
        assert_eq!((seq(4), seq(6)), (1, 2));
        assert_eq!((seq(5), created(5)), (1, false));
        let stored = page(&mut conn, a, ab.id, Page::Latest { limit: 50 }).unwrap();
        assert_eq!(
            stored.messages.iter().map(|m| m.seq).collect::<Vec<_>>(),
            [1, 2, 3, 4]
        );
    }

    fn query(before: Option<i64>, after: Option<i64>, limit: Option<i64>) -> MessagesQuery {
        MessagesQuery {
            before,
            after,
            limit,
            ..MessagesQuery::default()
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
        let around = MessagesQuery {
            around: Some(7),
            ..MessagesQuery::default()
        };
        assert_eq!(
            Page::parse(&around).unwrap(),
            Page::Around { seq: 7, limit: 50 }
        );
        let changed = MessagesQuery {
            changed_after: Some(0),
            limit: Some(3),
            ..MessagesQuery::default()
        };
        assert_eq!(
            Page::parse(&changed).unwrap(),
            Page::ChangedAfter { rev: 0, limit: 3 }
        );
        for mixed in [
            MessagesQuery {
                before: Some(9),
                ..around.clone()
            },
            MessagesQuery {
                after: Some(1),
                ..changed.clone()
            },
            MessagesQuery {
                around: Some(3),
                ..changed.clone()
            },
        ] {
            assert!(Page::parse(&mixed).is_err(), "{mixed:?}");
        }
    }

    fn rows(seqs: std::ops::RangeInclusive<i64>) -> Vec<MessageRow> {
        seqs.map(|seq| MessageRow {
            id: seq,
            room_id: 1,
            seq,
            sender_id: 1,
            body: String::new(),
            client_id: seq.to_string(),
            created_at: crate::db::now(),
            deleted: false,
            rev: seq,
            edited_at: None,
            deleted_by: None,
            reply_to_seq: None,
        })
        .collect()
    }

    fn around_of(total: i64, target: i64, limit: i64) -> (Vec<i64>, bool, bool) {
        let all = rows(1..=total);
        let older: Vec<MessageRow> = all[..(target - 1) as usize]
            .iter()
            .rev()
            .take(limit as usize)
            .cloned()
            .collect();
        let newer: Vec<MessageRow> = all[target as usize..]
            .iter()
            .take(limit as usize)
            .cloned()
            .collect();
        let (page, before, after) = around(older, all[(target - 1) as usize].clone(), newer, limit);
        (page.iter().map(|r| r.seq).collect(), before, after)
    }

    #[test]
    fn an_around_page_centres_its_message_and_fills_from_the_other_side_near_an_end() {
        assert_eq!(
            around_of(100, 50, 5),
            (vec![48, 49, 50, 51, 52], true, true)
        );
        assert_eq!(around_of(100, 50, 4), (vec![49, 50, 51, 52], true, true));
        assert_eq!(around_of(100, 2, 5), (vec![1, 2, 3, 4, 5], false, true));
        assert_eq!(
            around_of(100, 99, 5),
            (vec![96, 97, 98, 99, 100], true, false)
        );
        assert_eq!(around_of(3, 2, 50), (vec![1, 2, 3], false, false));
        assert_eq!(around_of(100, 1, 1), (vec![1], false, true));
    }
}
