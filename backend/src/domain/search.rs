//! Message search: a substring match over the current text of the caller's messages, served
//! from indexes kept in the database in the same transaction as the messages themselves.
//!
//! Both sides of a match are the text NFC-normalised and lower-cased (Unicode, so "ÉCOLE"
//! finds "école") by `search_key`, stored as `messages.search_text`. Queries of three
//! characters or more use a trigram index (SQLite FTS5's `trigram` tokenizer, PostgreSQL's
//! `pg_trgm` GIN). Trigrams cannot serve two characters, yet two-syllable Korean and
//! two-character Chinese or Japanese words are common: for the scripts written without spaces
//! the server also stores each bigram holding one of their characters (`message_bigrams`).
//! A two-character query of other scripts ("ok") reads the caller's rooms newest first and
//! stops at a page: such pairs are so frequent that the page fills at once.

use super::message_views;
use crate::db::models::MessageRow;
use crate::db::schema::{message_bigrams, messages, room_members};
use crate::db::DbConn;
use crate::error::AppError;
use diesel::prelude::*;
use shared::{
    SearchQuery, SearchResponse, SEARCH_DEFAULT_LIMIT, SEARCH_MAX_CHARS, SEARCH_MAX_LIMIT,
    SEARCH_MIN_CHARS,
};
use unicode_normalization::UnicodeNormalization;
use unicode_script::{Script, UnicodeScript};

/// The text as the indexes hold it and queries are matched: NFC, lower-cased.
pub fn search_key(text: &str) -> String {
    // ASCII is already NFC and lower-cases byte by byte: most messages skip the Unicode
    // tables (the writer thread computes this for every message it stores).
    if text.is_ascii() {
        return text.to_ascii_lowercase();
    }
    text.nfc().collect::<String>().to_lowercase()
}

/// Characters of scripts written without spaces between words.
fn unspaced(c: char) -> bool {
    matches!(
        c.script(),
        Script::Hangul | Script::Han | Script::Hiragana | Script::Katakana
    )
}

/// The distinct two-character grams of `key` that hold an unspaced-script character.
fn bigrams(key: &str) -> Vec<String> {
    // No ASCII character is of those scripts, and the script lookup is a binary search per
    // character: most messages are done here.
    if key.is_ascii() {
        return Vec::new();
    }
    let chars: Vec<(char, bool)> = key.chars().map(|c| (c, unspaced(c))).collect();
    let mut grams: Vec<String> = chars
        .windows(2)
        .filter(|pair| pair[0].1 || pair[1].1)
        .map(|pair| [pair[0].0, pair[1].0].iter().collect())
        .collect();
    grams.sort_unstable();
    grams.dedup();
    grams
}

/// Adds messages to the indexes (their `search_text` is already stored).
pub fn index(conn: &mut DbConn, rows: &[(i64, &str)]) -> QueryResult<()> {
    #[cfg(feature = "sqlite")]
    if let (DbConn::Sqlite(sqlite), false) = (&mut *conn, rows.is_empty()) {
        // One statement for the whole batch, copying the stored keys: diesel prepares a
        // `sql_query` anew on every call, and row by row that was one prepare per message
        // (a tenth of the writer's time).
        let ids: Vec<String> = rows.iter().map(|(id, _)| id.to_string()).collect();
        diesel::sql_query(
            "INSERT INTO message_search (rowid, search_text) \
             SELECT id, search_text FROM messages WHERE id IN (SELECT value FROM json_each(?))",
        )
        .bind::<diesel::sql_types::Text, _>(format!("[{}]", ids.join(",")))
        .execute(sqlite)?;
    }
    // PostgreSQL's trigram index follows `messages.search_text` by itself.
    let grams: Vec<(String, i64)> = rows
        .iter()
        .flat_map(|(id, key)| bigrams(key).into_iter().map(move |g| (g, *id)))
        .collect();
    insert_bigrams(conn, &grams)
}

/// PostgreSQL gets multi-row INSERTs (few round trips); SQLite, in process, row by row.
fn insert_bigrams(conn: &mut DbConn, grams: &[(String, i64)]) -> QueryResult<()> {
    let row = |(gram, id): &(String, i64)| {
        (
            message_bigrams::gram.eq(gram.clone()),
            message_bigrams::message_id.eq(*id),
        )
    };
    match conn {
        #[cfg(feature = "postgres")]
        DbConn::Pg(pg) => {
            for chunk in grams.chunks(1000) {
                let values: Vec<_> = chunk.iter().map(row).collect();
                diesel::insert_into(message_bigrams::table)
                    .values(values)
                    .execute(pg)?;
            }
        }
        #[cfg(feature = "sqlite")]
        DbConn::Sqlite(sqlite) => {
            for one in grams {
                diesel::insert_into(message_bigrams::table)
                    .values(row(one))
                    .execute(sqlite)?;
            }
        }
    }
    Ok(())
}

/// Takes a message out of the indexes (deleted, or about to be re-indexed).
pub fn unindex(conn: &mut DbConn, id: i64) -> QueryResult<()> {
    #[cfg(feature = "sqlite")]
    if let DbConn::Sqlite(sqlite) = conn {
        diesel::sql_query("DELETE FROM message_search WHERE rowid = ?")
            .bind::<diesel::sql_types::BigInt, _>(id)
            .execute(sqlite)?;
    }
    diesel::delete(message_bigrams::table.filter(message_bigrams::message_id.eq(id)))
        .execute(conn)?;
    diesel::update(messages::table.find(id))
        .set(messages::search_text.eq(None::<String>))
        .execute(conn)?;
    Ok(())
}

/// A message's text changed: its index entries follow.
pub fn reindex(conn: &mut DbConn, id: i64, body: &str) -> QueryResult<()> {
    unindex(conn, id)?;
    let key = search_key(body);
    diesel::update(messages::table.find(id))
        .set(messages::search_text.eq(&key))
        .execute(conn)?;
    index(conn, &[(id, &key)])
}

/// Indexes the messages stored before search existed (their `search_text` is NULL), a batch
/// per transaction; returns how many. Runs at startup, after the migrations.
pub fn backfill(conn: &mut DbConn) -> QueryResult<usize> {
    let mut done = 0;
    loop {
        let batch: Vec<(i64, String)> = messages::table
            .filter(messages::search_text.is_null())
            .filter(messages::deleted.eq(false))
            .order(messages::id.asc())
            .limit(1000)
            .select((messages::id, messages::body))
            .load(conn)?;
        if batch.is_empty() {
            return Ok(done);
        }
        conn.transaction::<_, diesel::result::Error, _>(|conn| {
            let keys: Vec<(i64, String)> = batch
                .iter()
                .map(|(id, body)| (*id, search_key(body)))
                .collect();
            for (id, key) in &keys {
                diesel::update(messages::table.find(id))
                    .set(messages::search_text.eq(key))
                    .execute(conn)?;
            }
            let refs: Vec<(i64, &str)> = keys.iter().map(|(id, k)| (*id, k.as_str())).collect();
            index(conn, &refs)
        })?;
        done += batch.len();
    }
}

/// A matching message's id, as the raw search queries answer it.
#[derive(QueryableByName)]
struct Hit {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    id: i64,
}

/// A search, built only from a valid query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Search {
    key: String,
    room: Option<i64>,
    before: Option<i64>,
    limit: i64,
}

impl Search {
    pub fn parse(query: &SearchQuery) -> Result<Search, AppError> {
        let trimmed = query.q.trim();
        let chars = trimmed.chars().count();
        if !(SEARCH_MIN_CHARS..=SEARCH_MAX_CHARS).contains(&chars) {
            return Err(AppError::Validation(format!(
                "q: must be {SEARCH_MIN_CHARS}–{SEARCH_MAX_CHARS} characters"
            )));
        }
        let limit = query.limit.unwrap_or(SEARCH_DEFAULT_LIMIT);
        if !(1..=SEARCH_MAX_LIMIT).contains(&limit) {
            return Err(AppError::BadRequest(format!(
                "limit must be between 1 and {SEARCH_MAX_LIMIT}"
            )));
        }
        Ok(Search {
            key: search_key(trimmed),
            room: query.room_id.map(|r| r.0),
            before: query.before.map(|m| m.0),
            limit,
        })
    }
}

/// The caller's messages whose current text holds the query, newest first.
pub fn search(conn: &mut DbConn, me: i64, search: &Search) -> Result<SearchResponse, AppError> {
    if let Some(room) = search.room {
        super::rooms::member_room(conn, me, room)?;
    }
    let wanted = search.limit + 1;
    let mut ids = match search.key.chars().count() {
        0..=2 if search.key.chars().any(unspaced) => by_bigram(conn, me, search, wanted)?,
        0..=2 => by_scan(conn, me, search, wanted)?,
        _ => by_trigrams(conn, me, search, wanted)?,
    };
    let has_more = ids.len() as i64 > search.limit;
    ids.truncate(search.limit as usize);
    let mut rows: Vec<MessageRow> = messages::table
        .filter(messages::id.eq_any(&ids))
        .select(MessageRow::as_select())
        .load(conn)?;
    rows.sort_unstable_by_key(|r| std::cmp::Reverse(r.id));
    Ok(SearchResponse {
        results: message_views::views(conn, rows)?,
        has_more,
    })
}

/// The caller's rooms, or the one room asked for (membership already checked).
fn rooms_of(conn: &mut DbConn, me: i64, search: &Search) -> QueryResult<Vec<i64>> {
    match search.room {
        Some(room) => Ok(vec![room]),
        None => room_members::table
            .filter(room_members::user_id.eq(me))
            .select(room_members::room_id)
            .load(conn),
    }
}

fn by_bigram(conn: &mut DbConn, me: i64, search: &Search, wanted: i64) -> QueryResult<Vec<i64>> {
    let rooms = rooms_of(conn, me, search)?;
    #[cfg(feature = "postgres")]
    if let DbConn::Pg(pg) = conn {
        if search.room.is_some() {
            // One room: its own messages, newest first. A common gram's rows would be walked
            // for thousands of other rooms' messages first (99 ms p99 for `대화` at 1M).
            return pg_scan(pg, &rooms, search, wanted);
        }
        // The gram's rows newest first, each message looked up by id: `+ 0` keeps PostgreSQL
        // from walking all messages backwards by id instead (300 ms for a rare gram at 1M).
        let hits: Vec<Hit> = diesel::sql_query(
            "SELECT b.message_id AS id FROM message_bigrams b \
             JOIN messages m ON m.id = b.message_id + 0 \
             WHERE b.gram = $1 AND b.message_id < $2 AND m.room_id = ANY($3) \
             ORDER BY b.message_id DESC LIMIT $4",
        )
        .bind::<diesel::sql_types::Text, _>(&search.key)
        .bind::<diesel::sql_types::BigInt, _>(search.before.unwrap_or(i64::MAX))
        .bind::<diesel::sql_types::Array<diesel::sql_types::BigInt>, _>(&rooms)
        .bind::<diesel::sql_types::BigInt, _>(wanted)
        .load(pg)?;
        return Ok(hits.into_iter().map(|h| h.id).collect());
    }
    let mut query = message_bigrams::table
        .inner_join(messages::table)
        .filter(message_bigrams::gram.eq(&search.key))
        .filter(messages::room_id.eq_any(rooms))
        .order(message_bigrams::message_id.desc())
        .limit(wanted)
        .select(message_bigrams::message_id)
        .into_boxed();
    if let Some(before) = search.before {
        query = query.filter(message_bigrams::message_id.lt(before));
    }
    query.load(conn)
}

fn by_scan(conn: &mut DbConn, me: i64, search: &Search, wanted: i64) -> QueryResult<Vec<i64>> {
    let rooms = rooms_of(conn, me, search)?;
    match conn {
        #[cfg(feature = "sqlite")]
        DbConn::Sqlite(sqlite) => sqlite_scan(sqlite, &rooms, search, wanted),
        #[cfg(feature = "postgres")]
        DbConn::Pg(pg) => pg_scan(pg, &rooms, search, wanted),
    }
}

/// PostgreSQL, a key too short for trigrams: each room's messages newest first along its
/// `(room_id, seq)` index, up to a page of matches per room. `strpos`, not `LIKE`: the planner
/// must not pick the trigram index, which cannot serve two characters and would read it all;
/// `id + 0`: nor the primary key (a bitmap of the whole table for `id < ∞`).
#[cfg(feature = "postgres")]
fn pg_scan(
    pg: &mut diesel::PgConnection,
    rooms: &[i64],
    search: &Search,
    wanted: i64,
) -> QueryResult<Vec<i64>> {
    let hits: Vec<Hit> = diesel::sql_query(
        "SELECT m.id FROM unnest($1::bigint[]) AS r(room_id) CROSS JOIN LATERAL ( \
           SELECT id FROM messages WHERE room_id = r.room_id AND id + 0 < $2 \
           AND strpos(search_text, $3) > 0 ORDER BY seq DESC LIMIT $4) m \
         ORDER BY m.id DESC LIMIT $4",
    )
    .bind::<diesel::sql_types::Array<diesel::sql_types::BigInt>, _>(rooms)
    .bind::<diesel::sql_types::BigInt, _>(search.before.unwrap_or(i64::MAX))
    .bind::<diesel::sql_types::Text, _>(&search.key)
    .bind::<diesel::sql_types::BigInt, _>(wanted)
    .load(pg)?;
    Ok(hits.into_iter().map(|h| h.id).collect())
}

/// How many rows a PostgreSQL search of 3+ characters reads directly from the newest of the
/// caller's rooms, over all of them, before it asks the trigram index for the rest.
#[cfg(feature = "postgres")]
const PG_WINDOW_ROWS: i64 = 2_000;

/// PostgreSQL, 3+ characters. Its planner guesses a trigram pattern's frequency badly: it
/// walked the whole table backwards for a rare word (4.6 s at 1M messages) and built a bitmap
/// of 337,000 rows for a common one. So, in two steps: the newest rows of each room are read
/// along `(room_id, seq)` and checked (a common word fills the page here); below the point
/// where every room was read, the trigram index is asked, materialised first so it is used
/// (a rare word: few rows).
#[cfg(feature = "postgres")]
fn pg_trigrams(
    pg: &mut diesel::PgConnection,
    rooms: &[i64],
    search: &Search,
    wanted: i64,
) -> QueryResult<Vec<i64>> {
    #[derive(QueryableByName)]
    struct Read {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        room_id: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        id: i64,
        #[diesel(sql_type = diesel::sql_types::Bool)]
        hit: bool,
    }
    let before = search.before.unwrap_or(i64::MAX);
    let per_room = (PG_WINDOW_ROWS / rooms.len().max(1) as i64).max(wanted);
    let read: Vec<Read> = diesel::sql_query(
        "SELECT m.room_id, m.id, m.hit FROM unnest($1::bigint[]) AS r(room_id) CROSS JOIN LATERAL ( \
           SELECT room_id, id, COALESCE(strpos(search_text, $3) > 0, false) AS hit FROM messages \
           WHERE room_id = r.room_id AND id + 0 < $2 ORDER BY seq DESC LIMIT $4) m",
    )
    .bind::<diesel::sql_types::Array<diesel::sql_types::BigInt>, _>(rooms)
    .bind::<diesel::sql_types::BigInt, _>(before)
    .bind::<diesel::sql_types::Text, _>(&search.key)
    .bind::<diesel::sql_types::BigInt, _>(per_room)
    .load(pg)?;
    // Every room's rows at or above the frontier have been read; rooms with more below their
    // window hold only older ones.
    let mut windows: std::collections::HashMap<i64, (i64, i64)> = std::collections::HashMap::new();
    for r in &read {
        let w = windows.entry(r.room_id).or_insert((0, i64::MAX));
        *w = (w.0 + 1, w.1.min(r.id));
    }
    let frontier = windows
        .values()
        .filter(|(count, _)| *count == per_room)
        .map(|(_, lowest)| *lowest)
        .max();
    let mut found: Vec<i64> = read
        .iter()
        .filter(|r| r.hit && frontier.is_none_or(|f| r.id >= f))
        .map(|r| r.id)
        .collect();
    found.sort_unstable_by(|a, b| b.cmp(a));
    found.truncate(wanted as usize);
    let Some(frontier) = frontier.filter(|_| (found.len() as i64) < wanted) else {
        return Ok(found);
    };
    let older: Vec<Hit> = diesel::sql_query(
        "WITH matching AS MATERIALIZED ( \
           SELECT id, room_id FROM messages WHERE search_text LIKE $1 ESCAPE '\\' AND id + 0 < $2) \
         SELECT id FROM matching WHERE room_id = ANY($3) ORDER BY id DESC LIMIT $4",
    )
    .bind::<diesel::sql_types::Text, _>(like_pattern(&search.key))
    .bind::<diesel::sql_types::BigInt, _>(frontier)
    .bind::<diesel::sql_types::Array<diesel::sql_types::BigInt>, _>(rooms)
    .bind::<diesel::sql_types::BigInt, _>(wanted - found.len() as i64)
    .load(pg)?;
    found.extend(older.into_iter().map(|h| h.id));
    Ok(found)
}

/// SQLite, a key too short for trigrams: as `pg_scan`, each room's messages newest first
/// along its `(room_id, seq)` index, up to a page of matches per room, then merged. (One
/// query over all the rooms read every message of them and sorted the matches: 65–72 ms p99
/// for `ok` at 1M messages.) `+id`: the bound must not make SQLite walk the primary key.
#[cfg(feature = "sqlite")]
fn sqlite_scan(
    sqlite: &mut diesel::SqliteConnection,
    rooms: &[i64],
    search: &Search,
    wanted: i64,
) -> QueryResult<Vec<i64>> {
    let before = search.before.unwrap_or(i64::MAX);
    let mut found = Vec::new();
    for room in rooms {
        let hits: Vec<Hit> = diesel::sql_query(
            "SELECT id FROM messages WHERE room_id = ?1 AND +id < ?2 \
             AND instr(search_text, ?3) > 0 ORDER BY seq DESC LIMIT ?4",
        )
        .bind::<diesel::sql_types::BigInt, _>(room)
        .bind::<diesel::sql_types::BigInt, _>(before)
        .bind::<diesel::sql_types::Text, _>(&search.key)
        .bind::<diesel::sql_types::BigInt, _>(wanted)
        .load(sqlite)?;
        found.extend(hits.into_iter().map(|h| h.id));
    }
    found.sort_unstable_by(|a, b| b.cmp(a));
    found.truncate(wanted as usize);
    Ok(found)
}

fn by_trigrams(conn: &mut DbConn, me: i64, search: &Search, wanted: i64) -> QueryResult<Vec<i64>> {
    let rooms = rooms_of(conn, me, search)?;
    match conn {
        #[cfg(feature = "sqlite")]
        DbConn::Sqlite(sqlite) => {
            let mut found = Vec::new();
            let mut before = search.before.unwrap_or(i64::MAX);
            if let Some(room) = search.room {
                // One room: its newest messages first, read directly, because the index
                // streams the matches of every room newest first, and a common word in a
                // quiet room would make it walk through thousands of other rooms' matches.
                let window = newest_of_room(sqlite, room, before, &search.key)?;
                found.extend(window.hits.into_iter().take(wanted as usize));
                if found.len() as i64 >= wanted || !window.more {
                    return Ok(found);
                }
                before = window.lowest;
            }
            // The trigram index streams its matches newest first; the room filter and the
            // exact substring check (the index may over-match) run on each until the page is
            // full. The room list is bound as JSON: the text is never part of the SQL.
            let rooms_json = serde_json::to_string(&rooms).unwrap_or_else(|_| "[]".into());
            let hits: Vec<Hit> = diesel::sql_query(
                "SELECT m.id AS id FROM message_search \
                 JOIN messages m ON m.id = message_search.rowid \
                 WHERE message_search MATCH ?1 AND message_search.rowid < ?2 \
                 AND m.room_id IN (SELECT value FROM json_each(?3)) \
                 AND instr(m.search_text, ?4) > 0 \
                 ORDER BY message_search.rowid DESC LIMIT ?5",
            )
            .bind::<diesel::sql_types::Text, _>(fts_trigrams(&search.key))
            .bind::<diesel::sql_types::BigInt, _>(before)
            .bind::<diesel::sql_types::Text, _>(rooms_json)
            .bind::<diesel::sql_types::Text, _>(&search.key)
            .bind::<diesel::sql_types::BigInt, _>(wanted - found.len() as i64)
            .load(sqlite)?;
            found.extend(hits.into_iter().map(|h| h.id));
            Ok(found)
        }
        #[cfg(feature = "postgres")]
        DbConn::Pg(pg) => pg_trigrams(pg, &rooms, search, wanted),
    }
}

/// How many of a room's newest messages a room-filtered search reads directly before it asks
/// the trigram index for the rest: enough to fill a page of a common word at once, few
/// enough (a walk of the `(room_id, seq)` index and a substring check each) to cost well
/// under a millisecond per thousand when the word is rare.
#[cfg(feature = "sqlite")]
const ROOM_WINDOW: i64 = 2_000;

/// The matches among a room's `ROOM_WINDOW` newest messages below `before`, newest first.
#[cfg(feature = "sqlite")]
struct RoomWindow {
    hits: Vec<i64>,
    /// The lowest id read: where the index takes over.
    lowest: i64,
    /// The room holds older messages than those read.
    more: bool,
}

#[cfg(feature = "sqlite")]
fn newest_of_room(
    sqlite: &mut diesel::SqliteConnection,
    room: i64,
    before: i64,
    key: &str,
) -> QueryResult<RoomWindow> {
    #[derive(QueryableByName)]
    struct Read {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        id: i64,
        #[diesel(sql_type = diesel::sql_types::Bool)]
        hit: bool,
    }
    // `seq` order is `id` order within a room (one writer numbers and inserts them), so the
    // `(room_id, seq)` index serves the walk; a deleted message's text is NULL.
    let read: Vec<Read> = diesel::sql_query(
        "SELECT id, COALESCE(instr(search_text, ?3), 0) > 0 AS hit FROM messages \
         WHERE room_id = ?1 AND id < ?2 ORDER BY seq DESC LIMIT ?4",
    )
    .bind::<diesel::sql_types::BigInt, _>(room)
    .bind::<diesel::sql_types::BigInt, _>(before)
    .bind::<diesel::sql_types::Text, _>(key)
    .bind::<diesel::sql_types::BigInt, _>(ROOM_WINDOW)
    .load(sqlite)?;
    Ok(RoomWindow {
        more: read.len() as i64 == ROOM_WINDOW,
        lowest: read.last().map_or(before, |r| r.id),
        hits: read.into_iter().filter(|r| r.hit).map(|r| r.id).collect(),
    })
}

/// `%key%` with LIKE's metacharacters searched for literally (escape character `\`).
fn like_pattern(key: &str) -> String {
    let mut pattern = String::with_capacity(key.len() + 2);
    pattern.push('%');
    for c in key.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// How many of a key's distinct trigrams the index is asked for: enough to make the candidates
/// few; every candidate's text is checked whole anyway, so more would only cost reads.
const FTS_TRIGRAMS_ASKED: usize = 16;

/// An FTS5 query for messages holding every trigram of `key` (3+ characters), each one in
/// double quotes with its own quotes doubled, so nothing in it is FTS5 syntax (`*`, `OR`,
/// `NEAR`, column filters). The index keeps no positions (detail=none), so it cannot
/// be a phrase; the `instr` check after it is what makes the match exact.
fn fts_trigrams(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    let mut terms: Vec<String> = Vec::new();
    for window in chars.windows(3) {
        let term = format!(
            "\"{}\"",
            window.iter().collect::<String>().replace('"', "\"\"")
        );
        if !terms.contains(&term) {
            terms.push(term);
            if terms.len() == FTS_TRIGRAMS_ASKED {
                break;
            }
        }
    }
    terms.join(" AND ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_nfc_and_lower_case_in_every_script() {
        assert_eq!(search_key("ÉCOLE"), "école");
        assert_eq!(
            search_key("E\u{301}cole"),
            "école",
            "decomposed input composes"
        );
        assert_eq!(search_key("대화방을"), "대화방을");
        assert_eq!(search_key("ΣΟΦΊΑ"), "σοφία");
    }

    #[test]
    fn keys_are_lower_case_nfc_with_or_without_the_ascii_shortcut() {
        assert_eq!(search_key("Meet at 5PM, OK?"), "meet at 5pm, ok?");
        // "E" + combining acute, upper case: composed and lowered like "école".
        assert_eq!(search_key("E\u{301}COLE"), "école");
        assert_eq!(search_key("대화 ABC"), "대화 abc");
    }

    #[test]
    fn bigrams_are_kept_for_unspaced_scripts_only() {
        assert_eq!(bigrams("대화방"), ["대화", "화방"]);
        assert_eq!(bigrams("ok 中文"), [" 中", "中文"]);
        assert!(bigrams("hello world").is_empty());
    }

    #[test]
    fn metacharacters_are_literal() {
        assert_eq!(like_pattern("50%_a\\b"), "%50\\%\\_a\\\\b%");
        assert_eq!(
            fts_trigrams("a\"b*\"a\"b"),
            r#""a""b" AND """b*" AND "b*""" AND "*""a" AND """a""""#
        );
    }

    #[test]
    fn an_fts_query_asks_for_each_distinct_trigram_up_to_a_bound() {
        assert_eq!(fts_trigrams("abc"), r#""abc""#);
        assert_eq!(fts_trigrams("ababab"), r#""aba" AND "bab""#);
        assert_eq!(fts_trigrams("대화방을"), r#""대화방" AND "화방을""#);
        let long: String = ('a'..='z').collect();
        assert_eq!(
            fts_trigrams(&long).matches(" AND ").count(),
            FTS_TRIGRAMS_ASKED - 1
        );
    }
}
