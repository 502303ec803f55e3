//! The app's state: session, connection, and every room with its timeline. Changed only by
//! [`Action`]s through [`ChatState::reduce`] (Yew's `Reducible`), exposed to components by
//! `components::provider::ChatProvider` and the `use_chat()` hook.

use crate::logic::emoji::EmojiList;
use crate::logic::timeline::{Delivery, Outgoing, Timeline};
use crate::logic::typing::TYPING_SHOW_MS;
use crate::logic::unread;
use chrono::{DateTime, Utc};
use shared::{Message, Room, RoomId, User, UserId};
use std::collections::HashMap;
use std::rc::Rc;
use yew::Reducible;

/// Who is signed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Session {
    /// Checking a stored token with `GET /api/me`.
    Checking,
    SignedOut,
    SignedIn(User),
}

/// The websocket, as the user sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Conn {
    /// Not signed in.
    Idle,
    /// First connection of this session.
    Connecting,
    /// Authenticated (`ready` received); events flow.
    Open,
    /// Lost; retrying (attempt counts from 1).
    Reconnecting { attempt: u32 },
    /// The browser says it has no network (`navigator.onLine`): no socket until it has.
    Offline,
}

impl Conn {
    /// Whether presence and other live news are current (else they are shown as unknown).
    pub fn live(self) -> bool {
        self == Conn::Open
    }
}

/// What the composer of a room is doing besides writing a new message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Compose {
    #[default]
    New,
    /// The next message answers the one with this `seq`.
    Reply(i64),
    /// The composer holds the text of our message with this `seq`; Enter saves it.
    Edit(i64),
}

/// One conversation: the server's summary plus what this tab holds of it.
#[derive(Debug, Clone, PartialEq)]
pub struct RoomEntry {
    pub room: Room,
    /// Shared between state snapshots: a change to one room copies (at most) that timeline's
    /// list of pointers, never the messages, and nothing of the other rooms.
    pub timeline: Rc<Timeline>,
    /// Show "typing…" until this time (ms since the epoch); 0 when not typing.
    pub typing_until: f64,
    pub compose: Compose,
}

impl RoomEntry {
    fn new(room: Room) -> Self {
        Self {
            room,
            timeline: Rc::default(),
            typing_until: 0.0,
            compose: Compose::New,
        }
    }

    /// Takes a room from a fresh list, keeping the newer events this tab already applied.
    fn merge_server_room(&mut self, room: Room) {
        let held = self.timeline.loaded.then_some(&*self.timeline);
        self.room = unread::merge_server_room(Some(&self.room), room, held);
    }
}

/// Which way a page of history was fetched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    /// The latest messages (opening a room).
    Latest,
    /// `before=` the lowest held.
    Older,
    /// `after=` the catch-up cursor.
    Newer,
    /// `around=` a message being jumped to, with the pages that join it to what was held;
    /// `has_more` is the page's `has_more_before`.
    Around,
    /// `changed_after=` the highest `rev` held (after a reconnect): updates by `rev`.
    Changes,
}

#[derive(Debug, Clone)]
pub struct ChatState {
    pub session: Session,
    pub conn: Conn,
    pub rooms: HashMap<RoomId, RoomEntry>,
    /// `GET /api/rooms` has answered at least once this session.
    pub rooms_loaded: bool,
    /// The tab is visible (`document.visibilityState`).
    pub visible: bool,
    /// Clock for relative times, refreshed by a timer.
    pub now_ms: f64,
    /// A passing problem to show in a banner.
    pub notice: Option<String>,
    /// The reaction picker's full list, once fetched.
    pub emoji: Option<Rc<EmojiList>>,
    /// A message to show in its conversation once that is open (a search result).
    pub jump: Option<(RoomId, i64)>,
    /// The message search was asked for (Ctrl+K aside): its scope, and a counter bumped by
    /// each request so the search field takes the focus again.
    pub search_in: Option<RoomId>,
    pub search_nonce: u32,
    /// The sidebar shows message search results (narrow screens show it over a conversation).
    pub searching: bool,
    /// Why the server ended the session, for the sign-in page (e.g. the account was disabled).
    pub farewell: Option<&'static str>,
    /// Bumped by every change, so equality (which Yew uses to re-render context consumers) is
    /// a cheap integer comparison instead of a walk over every message.
    revision: u64,
}

impl PartialEq for ChatState {
    fn eq(&self, other: &Self) -> bool {
        self.revision == other.revision
    }
}

impl Default for ChatState {
    fn default() -> Self {
        Self {
            session: Session::Checking,
            conn: Conn::Idle,
            rooms: HashMap::new(),
            rooms_loaded: false,
            visible: true,
            now_ms: 0.0,
            notice: None,
            emoji: None,
            jump: None,
            search_in: None,
            search_nonce: 0,
            searching: false,
            farewell: None,
            revision: 0,
        }
    }
}

#[derive(Debug, Clone)]
pub enum Action {
    SignedIn(User),
    SignedOut,
    /// After [`Action::SignedOut`]: why the server ended the session (`None`: read, gone).
    Farewell(Option<&'static str>),
    Conn(Conn),
    /// The socket is authenticated as this user.
    Ready(User),
    RoomsLoaded(Vec<Room>),
    /// A room from `POST /api/rooms`, `GET /api/rooms/{id}` or a `room` frame.
    RoomUpserted(Room),
    OlderLoading(RoomId),
    HistoryLoaded {
        room_id: RoomId,
        page: Page,
        messages: Vec<Message>,
        has_more: bool,
    },
    HistoryFailed(RoomId),
    /// A confirmed message from a `message` frame.
    MessageReceived(Message),
    /// A stored message changed (`message_update`, or the answer to our edit or reaction).
    MessageUpdated(Message),
    /// Our message is stored (websocket `ack` or REST answer).
    Acked(Message),
    /// We wrote a message; show it as pending.
    Outgoing {
        room_id: RoomId,
        client_id: String,
        body: String,
        created_at: DateTime<Utc>,
        reply_to: Option<i64>,
        attachments: Vec<shared::Attachment>,
    },
    /// Start or end replying to, or editing, a message.
    Compose {
        room_id: RoomId,
        compose: Compose,
    },
    /// No ack in time (for that attempt) or the server refused it.
    SendFailed {
        room_id: RoomId,
        client_id: String,
        attempt: Option<u32>,
    },
    Retry {
        room_id: RoomId,
        client_id: String,
    },
    /// A `read` event, or a read mark we made.
    Read {
        room_id: RoomId,
        user_id: UserId,
        seq: i64,
    },
    Typing {
        room_id: RoomId,
        user_id: UserId,
        now_ms: f64,
    },
    Presence {
        user_id: UserId,
        online: bool,
    },
    /// Someone (a peer, or the signed-in user) changed their profile: a `user` frame.
    UserChanged(User),
    Visibility(bool),
    Tick(f64),
    Notice(Option<String>),
    EmojiLoaded(Rc<EmojiList>),
    /// Show this message in its conversation (opened at it, highlighted).
    JumpTo {
        room_id: RoomId,
        seq: i64,
    },
    /// The conversation took the jump over.
    JumpDone,
    /// Search the messages of one conversation (`Some`) or of all: focuses the search field.
    SearchIn(Option<RoomId>),
    Searching(bool),
}

impl ChatState {
    /// The signed-in user, if any.
    pub fn me(&self) -> Option<&User> {
        match &self.session {
            Session::SignedIn(user) => Some(user),
            _ => None,
        }
    }

    /// Bumped by every change: equal revisions mean an equal state.
    pub fn revision(&self) -> u64 {
        self.revision
    }

    fn me_id(&self) -> UserId {
        self.me().map(|u| u.id).unwrap_or_default()
    }

    /// Rooms, most recent activity first.
    pub fn sorted_rooms(&self) -> Vec<&RoomEntry> {
        let rooms: Vec<&RoomEntry> = self.rooms.values().collect();
        crate::logic::sort::sorted_by(rooms, |a, b| {
            b.room
                .last_activity_at
                .cmp(&a.room.last_activity_at)
                .then(b.room.id.cmp(&a.room.id))
        })
    }

    pub fn total_unread(&self) -> i64 {
        unread::total_unread(self.rooms.values().map(|e| &e.room))
    }

    /// Our unacknowledged messages that are still pending, to resend after a reconnect.
    pub fn pending(&self) -> Vec<(RoomId, Outgoing)> {
        self.rooms
            .values()
            .flat_map(|e| {
                e.timeline
                    .outgoing()
                    .iter()
                    .filter(|o| o.delivery == Delivery::Pending)
                    .map(|o| (e.room.id, o.clone()))
            })
            .collect()
    }

    fn apply_confirmed(&mut self, message: Message) {
        let me = self.me_id();
        let Some(entry) = self.rooms.get_mut(&message.room_id) else {
            return;
        };
        unread::apply_message(&mut entry.room, &message, me);
        if message.sender_id != me {
            entry.typing_until = 0.0;
        }
        // A room never opened keeps no timeline: its first page is fetched when it is opened.
        if entry.timeline.loaded {
            Rc::make_mut(&mut entry.timeline).merge([message], me);
        }
    }
}

impl Reducible for ChatState {
    type Action = Action;

    fn reduce(mut self: Rc<Self>, action: Action) -> Rc<Self> {
        // In place when nothing else holds this state (the app's store makes sure of that,
        // see `services::chat::Chat::dispatch`); else a shallow copy sharing the timelines.
        let s = Rc::make_mut(&mut self);
        if apply(s, action) {
            s.revision = s.revision.wrapping_add(1);
        }
        self
    }
}

/// Applies one action; `false` when nothing visible changed (no re-render is needed).
fn apply(s: &mut ChatState, action: Action) -> bool {
    let me = s.me_id();
    match action {
        Action::SignedIn(user) => {
            let same_user = s.me().map(|u| u.id) == Some(user.id);
            if !same_user {
                s.rooms.clear();
                s.rooms_loaded = false;
            }
            s.session = Session::SignedIn(user);
            s.farewell = None;
        }
        Action::Farewell(why) => s.farewell = why,
        Action::SignedOut => {
            *s = ChatState {
                session: Session::SignedOut,
                visible: s.visible,
                now_ms: s.now_ms,
                emoji: s.emoji.take(),
                revision: s.revision,
                ..ChatState::default()
            };
        }
        Action::Conn(conn) => s.conn = conn,
        Action::Ready(user) => {
            s.conn = Conn::Open;
            s.session = Session::SignedIn(user);
        }
        Action::RoomsLoaded(rooms) => {
            s.rooms_loaded = true;
            for room in rooms {
                match s.rooms.get_mut(&room.id) {
                    Some(entry) => entry.merge_server_room(room),
                    None => {
                        s.rooms.insert(room.id, RoomEntry::new(room));
                    }
                }
            }
        }
        Action::RoomUpserted(room) => match s.rooms.get_mut(&room.id) {
            Some(entry) => entry.merge_server_room(room),
            None => {
                s.rooms.insert(room.id, RoomEntry::new(room));
            }
        },
        Action::OlderLoading(room_id) => {
            if let Some(e) = s.rooms.get_mut(&room_id) {
                Rc::make_mut(&mut e.timeline).loading_older = true;
            }
        }
        Action::HistoryLoaded {
            room_id,
            page,
            messages,
            has_more,
        } => {
            let Some(entry) = s.rooms.get_mut(&room_id) else {
                return true;
            };
            for m in &messages {
                if !unread::apply_message(&mut entry.room, m, me) {
                    unread::apply_update(&mut entry.room, m);
                }
            }
            let t = Rc::make_mut(&mut entry.timeline);
            match page {
                Page::Latest => {
                    // Only the first latest page decides whether older ones exist.
                    if !t.loaded {
                        t.has_older = has_more;
                    }
                    t.loaded = true;
                }
                Page::Older => {
                    t.has_older = has_more;
                    t.loading_older = false;
                }
                Page::Newer => {}
                Page::Around => {
                    // The page starts below everything held: it decides what lies beyond.
                    let page_low = messages.first().map(|m| m.seq);
                    if page_low.is_some_and(|low| t.lowest_seq().is_none_or(|held| low < held)) {
                        t.has_older = has_more;
                    }
                }
                Page::Changes => {
                    t.apply_changes(messages, me);
                    return true;
                }
            }
            t.merge(messages, me);
        }
        Action::HistoryFailed(room_id) => {
            if let Some(e) = s.rooms.get_mut(&room_id) {
                Rc::make_mut(&mut e.timeline).loading_older = false;
            }
        }
        Action::MessageReceived(message) | Action::Acked(message) => {
            s.apply_confirmed(message);
        }
        Action::MessageUpdated(message) => {
            let Some(entry) = s.rooms.get_mut(&message.room_id) else {
                return false;
            };
            let preview = unread::apply_update(&mut entry.room, &message);
            let seq = message.seq;
            let held = Rc::make_mut(&mut entry.timeline).apply_update(message);
            if !preview && !held {
                // Stale (an older `rev`) or not held: spare the re-render.
                return false;
            }
            // Editing a message that was just deleted (elsewhere) cannot be saved.
            if entry.compose == Compose::Edit(seq)
                && entry.timeline.get(seq).is_some_and(|m| m.deleted)
            {
                entry.compose = Compose::New;
            }
        }
        Action::Outgoing {
            room_id,
            client_id,
            body,
            created_at,
            reply_to,
            attachments,
        } => {
            if let Some(e) = s.rooms.get_mut(&room_id) {
                Rc::make_mut(&mut e.timeline).push_outgoing(Outgoing {
                    client_id,
                    body,
                    created_at,
                    delivery: Delivery::Pending,
                    attempt: 0,
                    reply_to,
                    attachments,
                });
            }
        }
        Action::Compose { room_id, compose } => match s.rooms.get_mut(&room_id) {
            Some(e) if e.compose != compose => e.compose = compose,
            _ => return false,
        },
        Action::SendFailed {
            room_id,
            client_id,
            attempt,
        } => {
            let changed = s
                .rooms
                .get_mut(&room_id)
                .is_some_and(|e| Rc::make_mut(&mut e.timeline).fail(&client_id, attempt));
            if !changed {
                // Nothing visible changed: spare the re-render.
                return false;
            }
        }
        Action::Retry { room_id, client_id } => {
            if let Some(e) = s.rooms.get_mut(&room_id) {
                Rc::make_mut(&mut e.timeline).retry(&client_id);
            }
        }
        Action::Read {
            room_id,
            user_id,
            seq,
        } => {
            let Some(entry) = s.rooms.get_mut(&room_id) else {
                return false;
            };
            let changed = if user_id == me {
                unread::apply_own_read(&mut entry.room, seq, Some(&*entry.timeline))
            } else {
                unread::apply_peer_read(&mut entry.room, seq)
            };
            if !changed {
                return false;
            }
        }
        Action::Typing {
            room_id,
            user_id,
            now_ms,
        } => {
            if user_id == me {
                return false;
            }
            if let Some(e) = s.rooms.get_mut(&room_id) {
                e.typing_until = now_ms + TYPING_SHOW_MS;
            }
        }
        Action::Presence { user_id, online } => {
            for e in s.rooms.values_mut() {
                if e.room.peer.id == user_id {
                    e.room.peer.online = online;
                }
            }
        }
        Action::UserChanged(user) => {
            for e in s.rooms.values_mut() {
                if e.room.peer.id == user.id {
                    // Presence comes by its own frames; keep what this tab knows.
                    let online = e.room.peer.online;
                    e.room.peer = User {
                        online,
                        ..user.clone()
                    };
                }
            }
            if let Session::SignedIn(me) = &s.session {
                if me.id == user.id {
                    s.session = Session::SignedIn(user);
                }
            }
        }
        Action::Visibility(visible) => s.visible = visible,
        Action::Tick(now_ms) => {
            s.now_ms = now_ms;
            for e in s.rooms.values_mut() {
                if e.typing_until <= now_ms {
                    e.typing_until = 0.0;
                }
            }
        }
        Action::Notice(notice) => s.notice = notice,
        Action::EmojiLoaded(list) => s.emoji = Some(list),
        Action::JumpTo { room_id, seq } => s.jump = Some((room_id, seq)),
        Action::JumpDone => {
            if s.jump.is_none() {
                return false;
            }
            s.jump = None;
        }
        Action::SearchIn(room) => {
            s.search_in = room;
            s.search_nonce = s.search_nonce.wrapping_add(1);
            s.searching = true;
        }
        Action::Searching(on) => {
            if s.searching == on {
                return false;
            }
            s.searching = on;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logic::timeline::tests::{edited, msg, ME, PEER};

    fn user(id: UserId, name: &str) -> User {
        User {
            id,
            username: name.into(),
            display_name: name.into(),
            is_admin: false,
            online: false,
        }
    }

    fn room(id: i64, at_secs: i64) -> Room {
        Room {
            id: RoomId(id),
            peer: user(PEER, "bob"),
            last_message: None,
            last_seq: 0,
            last_read_seq: 0,
            unread: 0,
            peer_last_read_seq: 0,
            last_activity_at: DateTime::from_timestamp(at_secs, 0).unwrap_or_default(),
            last_rev: 0,
            muted: false,
            marked_unread: false,
            blocked: false,
        }
    }

    fn run(actions: Vec<Action>) -> Rc<ChatState> {
        let mut state = Rc::new(ChatState::default());
        state = state.reduce(Action::SignedIn(user(ME, "me")));
        for action in actions {
            state = state.reduce(action);
        }
        state
    }

    fn opened_room() -> Vec<Action> {
        vec![
            Action::RoomsLoaded(vec![room(9, 0)]),
            Action::HistoryLoaded {
                room_id: RoomId(9),
                page: Page::Latest,
                messages: vec![msg(1, PEER, "a"), msg(2, ME, "b")],
                has_more: false,
            },
        ]
    }

    #[test]
    fn a_change_copies_only_what_it_touches() {
        let mut actions = opened_room();
        actions.push(Action::RoomsLoaded(vec![room(8, 0)]));
        actions.push(Action::HistoryLoaded {
            room_id: RoomId(8),
            page: Page::Latest,
            messages: vec![msg(1, PEER, "x")],
            has_more: false,
        });
        let held = run(actions);
        // A snapshot still held (by a render, say) stays as it was; messages are shared.
        let s = Rc::clone(&held).reduce(Action::MessageReceived(msg(3, PEER, "c")));
        let (old, new) = (
            &held.rooms[&RoomId(9)].timeline,
            &s.rooms[&RoomId(9)].timeline,
        );
        assert_eq!((old.messages().len(), new.messages().len()), (2, 3));
        assert!(Rc::ptr_eq(&old.messages()[0], &new.messages()[0]));
        assert!(Rc::ptr_eq(
            &held.rooms[&RoomId(8)].timeline,
            &s.rooms[&RoomId(8)].timeline
        ));
        // Held by nobody else: changed in place, no copy at all.
        drop(held);
        let at = Rc::as_ptr(&s);
        let timeline = Rc::as_ptr(&s.rooms[&RoomId(9)].timeline);
        let s = s.reduce(Action::MessageReceived(msg(4, PEER, "d")));
        assert_eq!(Rc::as_ptr(&s), at);
        assert_eq!(Rc::as_ptr(&s.rooms[&RoomId(9)].timeline), timeline);
        assert_eq!(s.rooms[&RoomId(9)].timeline.messages().len(), 4);
    }

    #[test]
    fn rooms_are_sorted_by_last_activity() {
        let s = run(vec![Action::RoomsLoaded(vec![
            room(1, 10),
            room(2, 30),
            room(3, 20),
        ])]);
        let ids: Vec<i64> = s.sorted_rooms().iter().map(|e| e.room.id.0).collect();
        assert_eq!(ids, vec![2, 3, 1]);
        let s = s.reduce(Action::MessageReceived(msg(1, PEER, "x")).with_room(1));
        assert_eq!(s.sorted_rooms()[0].room.id, RoomId(1));
    }

    #[test]
    fn optimistic_send_then_ack_then_echo_shows_one_message() {
        let mut actions = opened_room();
        actions.push(Action::Outgoing {
            room_id: RoomId(9),
            client_id: "c3".into(),
            body: "hello".into(),
            created_at: DateTime::default(),
            reply_to: None,
            attachments: Vec::new(),
        });
        let s = run(actions);
        let t = &s.rooms[&RoomId(9)].timeline;
        assert_eq!((t.messages().len(), t.outgoing().len()), (2, 1));
        assert_eq!(s.pending().len(), 1);

        let s = s.reduce(Action::Acked(msg(3, ME, "c3")));
        let s = s.reduce(Action::MessageReceived(msg(3, ME, "c3")));
        let t = &s.rooms[&RoomId(9)].timeline;
        assert_eq!((t.messages().len(), t.outgoing().len()), (3, 0));
        assert_eq!(
            s.rooms[&RoomId(9)].room.unread,
            1,
            "own messages are not unread"
        );
    }

    #[test]
    fn a_timeout_fails_only_its_own_attempt() {
        let mut actions = opened_room();
        actions.push(Action::Outgoing {
            room_id: RoomId(9),
            client_id: "c".into(),
            body: "x".into(),
            created_at: DateTime::default(),
            reply_to: None,
            attachments: Vec::new(),
        });
        let s = run(actions);
        let fail = |attempt| Action::SendFailed {
            room_id: RoomId(9),
            client_id: "c".into(),
            attempt: Some(attempt),
        };
        let s = s.reduce(fail(0));
        let delivery = |s: &ChatState| s.rooms[&RoomId(9)].timeline.outgoing()[0].delivery;
        assert_eq!(delivery(&s), Delivery::Failed);
        let s = s.reduce(Action::Retry {
            room_id: RoomId(9),
            client_id: "c".into(),
        });
        assert_eq!(delivery(&s), Delivery::Pending);
        let s = s.reduce(fail(0));
        assert_eq!(delivery(&s), Delivery::Pending, "stale timeout");
    }

    #[test]
    fn live_messages_count_unread_and_reads_clear_them() {
        let s = run(opened_room());
        assert_eq!(s.total_unread(), 1);
        let s = s.reduce(Action::MessageReceived(msg(3, PEER, "c")));
        let s = s.reduce(Action::MessageReceived(msg(3, PEER, "c")));
        assert_eq!(s.total_unread(), 2);
        assert_eq!(s.rooms[&RoomId(9)].timeline.messages().len(), 3);
        let s = s.reduce(Action::Read {
            room_id: RoomId(9),
            user_id: ME,
            seq: 3,
        });
        assert_eq!(s.total_unread(), 0);
        let s = s.reduce(Action::Read {
            room_id: RoomId(9),
            user_id: PEER,
            seq: 2,
        });
        assert_eq!(s.rooms[&RoomId(9)].room.peer_last_read_seq, 2);
    }

    #[test]
    fn catch_up_pages_merge_without_doubles() {
        let s = run(opened_room());
        let s = s.reduce(Action::MessageReceived(msg(4, PEER, "d")));
        let s = s.reduce(Action::HistoryLoaded {
            room_id: RoomId(9),
            page: Page::Newer,
            messages: vec![msg(3, PEER, "c"), msg(4, PEER, "d"), msg(5, PEER, "e")],
            has_more: false,
        });
        let seqs: Vec<i64> = s.rooms[&RoomId(9)]
            .timeline
            .messages()
            .iter()
            .map(|m| m.seq)
            .collect();
        assert_eq!(seqs, vec![1, 2, 3, 4, 5]);
        assert_eq!(s.rooms[&RoomId(9)].room.last_seq, 5);
    }

    #[test]
    fn an_administrators_tombstone_replaces_message_and_preview() {
        let s = run(opened_room());
        let mut tombstone = msg(2, ME, "b");
        tombstone.rev = 10;
        tombstone.deleted = true;
        tombstone.body = shared::TOMBSTONE_BODY.to_owned();
        let s = s.reduce(Action::HistoryLoaded {
            room_id: RoomId(9),
            page: Page::Newer,
            messages: vec![],
            has_more: false,
        });
        let s = s.reduce(Action::MessageUpdated(tombstone));
        let e = &s.rooms[&RoomId(9)];
        assert!(e.timeline.messages()[1].deleted);
        assert!(e.room.last_message.as_ref().is_some_and(|m| m.deleted));
        assert_eq!(e.timeline.messages().len(), 2);
    }

    #[test]
    fn edits_and_deletions_apply_by_rev_in_timeline_and_preview() {
        let s = run(opened_room());
        let s = s.reduce(Action::Compose {
            room_id: RoomId(9),
            compose: Compose::Edit(2),
        });
        let newer = edited(msg(2, ME, "b"), 10, "fixed typo");
        let s = s.reduce(Action::MessageUpdated(newer.clone()));
        let e = &s.rooms[&RoomId(9)];
        assert_eq!(e.timeline.messages()[1].body, "fixed typo");
        assert_eq!(e.room.last_message.as_ref().map(|m| m.rev), Some(10));
        assert_eq!(e.compose, Compose::Edit(2), "still editing a live message");
        // A late history page carrying the old version does not undo the edit.
        let s = s.reduce(Action::HistoryLoaded {
            room_id: RoomId(9),
            page: Page::Newer,
            messages: vec![msg(2, ME, "b")],
            has_more: false,
        });
        assert_eq!(
            s.rooms[&RoomId(9)].timeline.messages()[1].body,
            "fixed typo"
        );
        // The message is deleted (in another tab): the edit ends.
        let mut gone = msg(2, ME, "b");
        gone.rev = 11;
        gone.deleted = true;
        let s = s.reduce(Action::MessageUpdated(gone));
        let e = &s.rooms[&RoomId(9)];
        assert!(e.timeline.messages()[1].deleted);
        assert_eq!(e.compose, Compose::New);
        // Stale updates leave the state as it was.
        let before = s.revision;
        let s = s.reduce(Action::MessageUpdated(newer));
        assert_eq!(s.revision, before);
    }

    #[test]
    fn a_page_around_an_older_message_extends_the_history_downwards() {
        let s = run(vec![
            Action::RoomsLoaded(vec![room(9, 0)]),
            Action::HistoryLoaded {
                room_id: RoomId(9),
                page: Page::Latest,
                messages: (100..=149).map(|q| msg(q, PEER, "p")).collect(),
                has_more: true,
            },
        ]);
        // Jumping to 20: its page plus the pages joining it to 100, in one go.
        let s = s.reduce(Action::HistoryLoaded {
            room_id: RoomId(9),
            page: Page::Around,
            messages: (0..=99).map(|q| msg(q, PEER, "p")).collect(),
            has_more: false,
        });
        let t = &s.rooms[&RoomId(9)].timeline;
        assert_eq!(t.lowest_seq(), Some(0));
        assert_eq!(t.catch_up_cursor(), Some(149));
        assert!(!t.has_older);
    }

    #[test]
    fn changed_after_updates_held_messages_after_a_reconnect() {
        let s = run(opened_room());
        let s = s.reduce(Action::HistoryLoaded {
            room_id: RoomId(9),
            page: Page::Changes,
            messages: vec![edited(msg(1, PEER, "a"), 5, "edited offline")],
            has_more: false,
        });
        let e = &s.rooms[&RoomId(9)];
        assert_eq!(e.timeline.messages()[0].body, "edited offline");
        assert_eq!(e.timeline.highest_rev(), 5);
    }

    #[test]
    fn messages_for_unopened_rooms_only_touch_the_summary() {
        let s = run(vec![Action::RoomsLoaded(vec![room(9, 0)])]);
        let s = s.reduce(Action::MessageReceived(msg(1, PEER, "a")));
        let e = &s.rooms[&RoomId(9)];
        assert!(e.timeline.messages().is_empty());
        assert_eq!((e.room.unread, e.room.last_seq), (1, 1));
    }

    #[test]
    fn typing_shows_until_expiry_and_a_message_ends_it() {
        let s = run(opened_room());
        let s = s.reduce(Action::Typing {
            room_id: RoomId(9),
            user_id: PEER,
            now_ms: 1_000.0,
        });
        assert_eq!(s.rooms[&RoomId(9)].typing_until, 1_000.0 + TYPING_SHOW_MS);
        let s = s.reduce(Action::Tick(2_000.0));
        assert!(s.rooms[&RoomId(9)].typing_until > 0.0);
        let s = s.reduce(Action::MessageReceived(msg(3, PEER, "c")));
        assert_eq!(s.rooms[&RoomId(9)].typing_until, 0.0);
    }

    #[test]
    fn presence_and_sign_out() {
        let s = run(opened_room());
        let s = s.reduce(Action::Presence {
            user_id: PEER,
            online: true,
        });
        assert!(s.rooms[&RoomId(9)].room.peer.online);
        let s = s.reduce(Action::SignedOut);
        assert!(s.rooms.is_empty());
        assert_eq!(s.session, Session::SignedOut);
    }

    trait WithRoom {
        fn with_room(self, id: i64) -> Self;
    }

    impl WithRoom for Action {
        fn with_room(self, id: i64) -> Self {
            match self {
                Action::MessageReceived(mut m) => {
                    m.room_id = RoomId(id);
                    Action::MessageReceived(m)
                }
                other => other,
            }
        }
    }
}
