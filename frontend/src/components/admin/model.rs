//! The administration section's rules as plain Rust (no browser APIs), unit-tested natively
//! with `cargo test -p frontend`: sorting and searching the tables, paging and tombstoning a
//! conversation's history, and the labels the tables show. The components only render these.
//!
//! (It lives next to its components rather than in `logic/`, which belongs to the chat screen.)

use crate::logic::sort::sorted_by;
use crate::logic::text::to_lower;
use crate::logic::time::{clock, day_label};
use chrono::{NaiveDate, NaiveDateTime};
use shared::{AdminRoom, AdminUser, AuditEntry, DeletedBy, Message, MessageId, TOMBSTONE_BODY};
use std::cmp::Ordering;

/// Which way a column is sorted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortDir {
    Asc,
    Desc,
}

/// A table's sort: one column, one direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort<C> {
    pub column: C,
    pub dir: SortDir,
}

/// A sortable column: its header text and the direction a first click sorts it in.
pub trait Column: Copy + PartialEq {
    fn label(self) -> &'static str;
    /// Text sorts A→Z first; counts, times and flags show the most interesting end first.
    fn first_dir(self) -> SortDir;
}

impl<C: Column> Sort<C> {
    pub fn by(column: C) -> Self {
        Self {
            column,
            dir: column.first_dir(),
        }
    }

    /// A click on `column`'s header: the same column flips, another one starts afresh.
    pub fn toggled(self, column: C) -> Self {
        if column != self.column {
            return Self::by(column);
        }
        let dir = match self.dir {
            SortDir::Asc => SortDir::Desc,
            SortDir::Desc => SortDir::Asc,
        };
        Self { column, dir }
    }

    /// The `aria-sort` value of `column`'s header.
    pub fn aria(self, column: C) -> &'static str {
        match (column == self.column, self.dir) {
            (false, _) => "none",
            (true, SortDir::Asc) => "ascending",
            (true, SortDir::Desc) => "descending",
        }
    }

    fn apply(self, ordering: Ordering) -> Ordering {
        match self.dir {
            SortDir::Asc => ordering,
            SortDir::Desc => ordering.reverse(),
        }
    }
}

/// Whether any of `fields` contains the (trimmed, case-insensitive) query; an empty query
/// matches everything.
pub fn matches_query<'a>(query: &str, fields: impl IntoIterator<Item = &'a str>) -> bool {
    let query = to_lower(query.trim());
    query.is_empty() || fields.into_iter().any(|f| to_lower(f).contains(&query))
}

fn text_cmp(a: &str, b: &str) -> Ordering {
    to_lower(a).cmp(&to_lower(b))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserColumn {
    Username,
    DisplayName,
    Admin,
    Online,
    Created,
    Messages,
    Status,
}

impl UserColumn {
    pub const ALL: [UserColumn; 7] = [
        UserColumn::Username,
        UserColumn::DisplayName,
        UserColumn::Admin,
        UserColumn::Online,
        UserColumn::Created,
        UserColumn::Messages,
        UserColumn::Status,
    ];
}

impl Column for UserColumn {
    fn label(self) -> &'static str {
        match self {
            UserColumn::Username => "Username",
            UserColumn::DisplayName => "Display name",
            UserColumn::Admin => "Admin",
            UserColumn::Online => "Online",
            UserColumn::Created => "Created",
            UserColumn::Messages => "Messages",
            UserColumn::Status => "Status",
        }
    }

    fn first_dir(self) -> SortDir {
        match self {
            UserColumn::Username | UserColumn::DisplayName => SortDir::Asc,
            _ => SortDir::Desc,
        }
    }
}

fn user_cmp(a: &AdminUser, b: &AdminUser, column: UserColumn) -> Ordering {
    match column {
        UserColumn::Username => text_cmp(&a.user.username, &b.user.username),
        UserColumn::DisplayName => text_cmp(&a.user.display_name, &b.user.display_name),
        UserColumn::Admin => a.user.is_admin.cmp(&b.user.is_admin),
        UserColumn::Online => a.user.online.cmp(&b.user.online),
        UserColumn::Created => a.created_at.cmp(&b.created_at),
        UserColumn::Messages => a.message_count.cmp(&b.message_count),
        UserColumn::Status => a.disabled.cmp(&b.disabled),
    }
}

/// The users whose username or display name matches `query`, in `sort` order (ties by
/// username, then id, so the order never flickers between reloads).
pub fn visible_users<'a>(
    users: &'a [AdminUser],
    query: &str,
    sort: Sort<UserColumn>,
) -> Vec<&'a AdminUser> {
    let shown: Vec<&AdminUser> = users
        .iter()
        .filter(|u| matches_query(query, [u.user.username.as_str(), &u.user.display_name]))
        .collect();
    sorted_by(shown, |a, b| {
        sort.apply(user_cmp(a, b, sort.column))
            .then_with(|| text_cmp(&a.user.username, &b.user.username))
            .then(a.user.id.cmp(&b.user.id))
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoomColumn {
    Members,
    Messages,
    LastMessage,
}

impl RoomColumn {
    pub const ALL: [RoomColumn; 3] = [
        RoomColumn::Members,
        RoomColumn::Messages,
        RoomColumn::LastMessage,
    ];
}

impl Column for RoomColumn {
    fn label(self) -> &'static str {
        match self {
            RoomColumn::Members => "Members",
            RoomColumn::Messages => "Last seq",
            RoomColumn::LastMessage => "Last message",
        }
    }

    fn first_dir(self) -> SortDir {
        match self {
            RoomColumn::Members => SortDir::Asc,
            _ => SortDir::Desc,
        }
    }
}

/// "Alice Martin & Bob Chen".
pub fn room_title(room: &AdminRoom) -> String {
    let names: Vec<&str> = room
        .members
        .iter()
        .map(|u| u.display_name.as_str())
        .collect();
    if names.is_empty() {
        format!("Conversation {}", room.id)
    } else {
        names.join(" & ")
    }
}

fn room_cmp(a: &AdminRoom, b: &AdminRoom, column: RoomColumn) -> Ordering {
    match column {
        RoomColumn::Members => text_cmp(&room_title(a), &room_title(b)),
        RoomColumn::Messages => a.last_seq.cmp(&b.last_seq),
        // A room without messages counts as older than any message.
        RoomColumn::LastMessage => a.last_message_at.cmp(&b.last_message_at),
    }
}

/// The rooms with a member whose username or display name matches `query`, in `sort` order
/// (ties by id).
pub fn visible_rooms<'a>(
    rooms: &'a [AdminRoom],
    query: &str,
    sort: Sort<RoomColumn>,
) -> Vec<&'a AdminRoom> {
    let shown: Vec<&AdminRoom> = rooms
        .iter()
        .filter(|r| {
            let fields = r
                .members
                .iter()
                .flat_map(|u| [u.username.as_str(), u.display_name.as_str()]);
            matches_query(query, fields)
        })
        .collect();
    sorted_by(shown, |a, b| {
        sort.apply(room_cmp(a, b, sort.column))
            .then(a.id.cmp(&b.id))
    })
}

/// What the read-only conversation view holds of a room: an unbroken run of its latest
/// messages, ascending by `seq`, grown backwards a page at a time.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct History {
    messages: Vec<Message>,
    /// Older messages exist before the first one held.
    pub has_older: bool,
}

impl History {
    /// From the latest page (`GET …/messages` without a cursor).
    pub fn latest(messages: Vec<Message>, has_more: bool) -> Self {
        let mut history = Self {
            messages: Vec::new(),
            has_older: has_more,
        };
        history.merge(messages);
        history
    }

    pub fn messages(&self) -> &[Message] {
        &self.messages
    }

    /// The `before=` cursor of the next older page.
    pub fn oldest_seq(&self) -> Option<i64> {
        self.messages.first().map(|m| m.seq)
    }

    /// Adds a page fetched `before=` the oldest held.
    pub fn add_older(&mut self, messages: Vec<Message>, has_more: bool) {
        self.has_older = has_more;
        self.merge(messages);
    }

    /// Merges by `seq`; a message held twice keeps the copy just fetched (it may be newer, a
    /// tombstone for example).
    fn merge(&mut self, messages: Vec<Message>) {
        for message in messages {
            match self.messages.binary_search_by_key(&message.seq, |m| m.seq) {
                Ok(at) => self.messages[at] = message,
                Err(at) => self.messages.insert(at, message),
            }
        }
    }

    /// Shows the tombstone in place of a message the server deleted; false if not held.
    pub fn tombstone(&mut self, id: MessageId) -> bool {
        let Some(message) = self.messages.iter_mut().find(|m| m.id == id) else {
            return false;
        };
        message.deleted = true;
        message.deleted_by = Some(DeletedBy::Admin);
        message.body = TOMBSTONE_BODY.to_owned();
        message.reactions.clear();
        true
    }
}

/// Who deleted a message, for the admin's conversation view.
pub fn deleted_label(m: &Message) -> Option<&'static str> {
    match (m.deleted, m.deleted_by) {
        (false, _) => None,
        (true, Some(DeletedBy::Sender)) => Some("Deleted by sender"),
        // Before v1.1 only administrators could delete.
        (true, _) => Some("Deleted by an administrator"),
    }
}

/// Whether the server keeps earlier texts of a message: its sender edited or deleted it (an
/// administrator's deletion erases them).
pub fn has_revisions(m: &Message) -> bool {
    match m.deleted_by {
        Some(DeletedBy::Admin) => false,
        Some(DeletedBy::Sender) => true,
        None => !m.deleted && m.edited_at.is_some(),
    }
}

/// "Today, 14:05", "Yesterday, 09:30", "Friday, 18:00", "2 Nov, 10:00", "31 Dec 2025, 23:59"
/// (`t` in local time).
pub fn when(t: NaiveDateTime, today: NaiveDate) -> String {
    format!("{}, {}", day_label(t.date(), today), clock(t))
}

/// The audit log's words for an action code.
pub fn action_label(action: &str) -> String {
    match action {
        "delete_message" => "Deleted a message".to_owned(),
        "disable_user" => "Disabled a user".to_owned(),
        "enable_user" => "Enabled a user".to_owned(),
        "create_admin" => "Created an administrator".to_owned(),
        "promote_admin" => "Made an administrator".to_owned(),
        other => other.replace('_', " "),
    }
}

/// "message #12", "user #3", or "@bob (user #3)" when the user's name is known.
pub fn target_label(entry: &AuditEntry, username: Option<&str>) -> String {
    let target = format!("{} #{}", entry.target_type, entry.target_id);
    match username {
        Some(name) if entry.target_type == "user" => format!("@{name} ({target})"),
        _ => target,
    }
}

/// Who did it: a username, or the command line.
pub fn actor_label(entry: &AuditEntry) -> String {
    match (&entry.actor_username, entry.actor_id) {
        (Some(name), _) => name.clone(),
        (None, Some(id)) => format!("user #{id}"),
        (None, None) => "command line".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Utc};
    use shared::{RoomId, User, UserId};

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(secs, 0).unwrap_or_default()
    }

    fn person(id: i64, username: &str, display: &str) -> User {
        User {
            id: UserId(id),
            username: username.into(),
            display_name: display.into(),
            is_admin: false,
            online: false,
        }
    }

    fn admin_user(id: i64, username: &str, display: &str, messages: i64) -> AdminUser {
        AdminUser {
            user: person(id, username, display),
            created_at: at(1_000 * id),
            disabled: false,
            message_count: messages,
        }
    }

    fn users() -> Vec<AdminUser> {
        let mut root = admin_user(1, "root", "Root", 0);
        root.user.is_admin = true;
        let mut bob = admin_user(3, "bob", "Bob Chen", 7);
        bob.disabled = true;
        let mut alice = admin_user(2, "alice", "alice Martin", 12);
        alice.user.online = true;
        vec![root, bob, alice, admin_user(4, "carol", "Carol Diaz", 7)]
    }

    fn names(shown: &[&AdminUser]) -> Vec<String> {
        shown.iter().map(|u| u.user.username.clone()).collect()
    }

    #[test]
    fn a_header_click_sorts_then_flips_and_another_column_starts_afresh() {
        let sort = Sort::by(UserColumn::Username);
        assert_eq!(sort.dir, SortDir::Asc);
        let sort = sort.toggled(UserColumn::Username);
        assert_eq!(sort.dir, SortDir::Desc);
        assert_eq!(sort.aria(UserColumn::Username), "descending");
        assert_eq!(sort.aria(UserColumn::Messages), "none");
        let sort = sort.toggled(UserColumn::Messages);
        assert_eq!(
            (sort.column, sort.dir),
            (UserColumn::Messages, SortDir::Desc)
        );
        assert_eq!(
            sort.toggled(UserColumn::Messages)
                .aria(UserColumn::Messages),
            "ascending"
        );
    }

    #[test]
    fn users_sort_by_every_column_with_stable_ties() {
        let all = users();
        let by = |column, dir| names(&visible_users(&all, "", Sort { column, dir }));
        assert_eq!(
            by(UserColumn::Username, SortDir::Asc),
            ["alice", "bob", "carol", "root"]
        );
        assert_eq!(
            by(UserColumn::Username, SortDir::Desc),
            ["root", "carol", "bob", "alice"]
        );
        // Case does not matter: "alice Martin" sorts before "Bob Chen".
        assert_eq!(
            by(UserColumn::DisplayName, SortDir::Asc),
            ["alice", "bob", "carol", "root"]
        );
        // Bob and Carol tie on 7 messages: by username, whichever way the column goes.
        assert_eq!(
            by(UserColumn::Messages, SortDir::Desc),
            ["alice", "bob", "carol", "root"]
        );
        assert_eq!(
            by(UserColumn::Messages, SortDir::Asc),
            ["root", "bob", "carol", "alice"]
        );
        assert_eq!(by(UserColumn::Admin, SortDir::Desc)[0], "root");
        assert_eq!(by(UserColumn::Online, SortDir::Desc)[0], "alice");
        assert_eq!(by(UserColumn::Status, SortDir::Desc)[0], "bob");
        assert_eq!(
            by(UserColumn::Created, SortDir::Desc),
            ["carol", "bob", "alice", "root"]
        );
    }

    #[test]
    fn user_search_matches_username_or_display_name_case_insensitively() {
        let all = users();
        let sort = Sort::by(UserColumn::Username);
        assert_eq!(names(&visible_users(&all, "  CHEN ", sort)), ["bob"]);
        assert_eq!(
            names(&visible_users(&all, "o", sort)),
            ["bob", "carol", "root"]
        );
        assert_eq!(visible_users(&all, "", sort).len(), 4);
        assert!(visible_users(&all, "zed", sort).is_empty());
    }

    fn room(id: i64, a: User, b: User, last_seq: i64, last: Option<i64>) -> AdminRoom {
        AdminRoom {
            id: RoomId(id),
            members: vec![a, b],
            last_seq,
            last_message_at: last.map(at),
        }
    }

    #[test]
    fn rooms_search_by_member_and_sort_by_activity() {
        let alice = person(2, "alice", "Alice Martin");
        let bob = person(3, "bob", "Bob Chen");
        let carol = person(4, "carol", "Carol Diaz");
        let rooms = vec![
            room(1, alice.clone(), bob.clone(), 10, Some(50)),
            room(2, carol.clone(), bob, 3, Some(90)),
            room(3, alice, carol, 0, None),
        ];
        let ids = |shown: Vec<&AdminRoom>| shown.iter().map(|r| r.id.0).collect::<Vec<_>>();
        let newest = Sort::by(RoomColumn::LastMessage);
        assert_eq!(ids(visible_rooms(&rooms, "", newest)), [2, 1, 3]);
        assert_eq!(
            ids(visible_rooms(&rooms, "", Sort::by(RoomColumn::Messages))),
            [1, 2, 3]
        );
        assert_eq!(
            ids(visible_rooms(&rooms, "", Sort::by(RoomColumn::Members))),
            [1, 3, 2]
        );
        assert_eq!(ids(visible_rooms(&rooms, "bob", newest)), [2, 1]);
        assert_eq!(ids(visible_rooms(&rooms, "DIAZ", newest)), [2, 3]);
        assert_eq!(room_title(&rooms[0]), "Alice Martin & Bob Chen");
    }

    fn message(seq: i64, body: &str) -> Message {
        Message {
            id: MessageId(100 + seq),
            room_id: RoomId(1),
            seq,
            sender_id: UserId(2),
            body: body.into(),
            client_id: format!("c{seq}"),
            created_at: at(seq),
            deleted: false,
            rev: seq,
            edited_at: None,
            deleted_by: None,
            reply_to: None,
            reactions: Vec::new(),
            attachments: Vec::new(),
        }
    }

    #[test]
    fn deletions_say_by_whom_and_revisions_exist_for_sender_changes_only() {
        let mut m = message(1, "a");
        assert_eq!(deleted_label(&m), None);
        assert!(!has_revisions(&m));
        m.edited_at = Some(at(2));
        assert!(has_revisions(&m));
        m.deleted = true;
        m.deleted_by = Some(DeletedBy::Sender);
        assert_eq!(deleted_label(&m), Some("Deleted by sender"));
        assert!(has_revisions(&m));
        m.deleted_by = Some(DeletedBy::Admin);
        assert_eq!(deleted_label(&m), Some("Deleted by an administrator"));
        assert!(!has_revisions(&m), "moderation erases every revision");
        // A v1 tombstone (no `deleted_by`) was an administrator's.
        m.deleted_by = None;
        assert_eq!(deleted_label(&m), Some("Deleted by an administrator"));
    }

    #[test]
    fn history_grows_backwards_without_doubles() {
        let mut h = History::latest(vec![message(4, "d"), message(5, "e")], true);
        assert_eq!(h.oldest_seq(), Some(4));
        assert!(h.has_older);
        // An overlapping older page (the room grew meanwhile) merges by seq.
        h.add_older(
            vec![
                message(1, "a"),
                message(2, "b"),
                message(3, "c"),
                message(4, "d"),
            ],
            false,
        );
        let seqs: Vec<i64> = h.messages().iter().map(|m| m.seq).collect();
        assert_eq!(seqs, [1, 2, 3, 4, 5]);
        assert!(!h.has_older);
        assert_eq!(History::default().oldest_seq(), None);
    }

    #[test]
    fn a_deleted_message_becomes_the_tombstone_in_place() {
        let mut h = History::latest(
            vec![message(1, "a"), message(2, "secret"), message(3, "c")],
            false,
        );
        assert!(h.tombstone(MessageId(102)));
        let m = &h.messages()[1];
        assert!(m.deleted);
        assert_eq!((m.seq, m.body.as_str()), (2, TOMBSTONE_BODY));
        assert_eq!(h.messages().len(), 3);
        assert!(!h.tombstone(MessageId(999)));
    }

    #[test]
    fn labels_for_times_and_the_audit_log() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 25).unwrap_or_default();
        let t = today.and_hms_opt(14, 5, 0).unwrap_or_default();
        assert_eq!(when(t, today), "Today, 14:05");
        let old = NaiveDate::from_ymd_opt(2025, 12, 31)
            .and_then(|d| d.and_hms_opt(23, 59, 0))
            .unwrap_or_default();
        assert_eq!(when(old, today), "31 Dec 2025, 23:59");

        let mut entry = AuditEntry {
            id: 1,
            actor_id: None,
            actor_username: None,
            action: "create_admin".into(),
            target_type: "user".into(),
            target_id: 3,
            detail: String::new(),
            created_at: at(0),
        };
        assert_eq!(action_label(&entry.action), "Created an administrator");
        assert_eq!(action_label("rename_room"), "rename room");
        assert_eq!(actor_label(&entry), "command line");
        assert_eq!(target_label(&entry, None), "user #3");
        assert_eq!(target_label(&entry, Some("bob")), "@bob (user #3)");
        entry.target_type = "message".into();
        assert_eq!(target_label(&entry, Some("bob")), "message #3");
        entry.actor_id = Some(UserId(1));
        assert_eq!(actor_label(&entry), "user #1");
        entry.actor_username = Some("root".into());
        assert_eq!(actor_label(&entry), "root");
    }
}
