//! What the user can do, as commands that update the state at once (optimistic) and then
//! do the I/O: send, retry, read marks, typing, opening rooms, paging history, signing out.
//! [`Chat`] is the context value components get from `use_chat()`.

use super::platform::{local_now, now_ms};
use super::ws::Outbox;
use super::{api, platform, session};
use crate::logic::emoji::{EmojiList, LIST_PATH as EMOJI_LIST};
use crate::logic::time::from_millis;
use crate::state::{Action, ChatState, Compose, Conn, Page};
use gloo_timers::future::TimeoutFuture;
use shared::{Attachment, AuthResponse, ClientFrame, MessageBody, Room, RoomId, UpdateRoom};
use std::cell::RefCell;
use std::collections::HashSet;
use std::rc::Rc;
use wasm_bindgen_futures::spawn_local;
use yew::{Reducible, UseForceUpdateHandle};

/// A sent message shows "failed" (with a retry) when no `ack` comes within this.
pub const ACK_TIMEOUT_MS: u32 = 10_000;
/// How long a refused request waits for the socket to give the reason (see
/// [`Chat::session_refused`]).
const REASON_GRACE_MS: u32 = 2_000;
/// Messages per history page.
pub const PAGE_SIZE: i64 = shared::DEFAULT_PAGE_LIMIT;

/// The one state of the app and the way to re-render with it. Not a `use_reducer` handle:
/// yew 0.23's handle keeps every distinct state it was read through alive for as long as the
/// handle lives, and the websocket task's copy lives for the whole session, so each received
/// message kept a whole state (with all its timelines) alive: memory grew with the square of
/// the messages. Here a read returns a counted reference that is dropped after use.
pub struct Store {
    state: RefCell<Rc<ChatState>>,
    render: UseForceUpdateHandle,
}

impl Store {
    pub fn new(state: ChatState, render: UseForceUpdateHandle) -> Self {
        Self {
            state: RefCell::new(Rc::new(state)),
            render,
        }
    }
}

/// The chat context: state, the socket's outbox, and the commands.
#[derive(Clone)]
pub struct Chat {
    store: Rc<Store>,
    /// The state's revision when the provider rendered this value (what equality compares).
    revision: u64,
    pub outbox: Outbox,
    /// Rooms whose first page is being fetched (so it is fetched once).
    opening: Rc<RefCell<HashSet<RoomId>>>,
}

/// Equal while the state is the same, so context consumers re-render on changes.
impl PartialEq for Chat {
    fn eq(&self, other: &Self) -> bool {
        self.revision == other.revision
            && Rc::ptr_eq(&self.store, &other.store)
            && self.outbox == other.outbox
    }
}

impl Chat {
    pub fn with_parts(
        store: Rc<Store>,
        outbox: Outbox,
        opening: Rc<RefCell<HashSet<RoomId>>>,
    ) -> Self {
        let revision = store.state.borrow().revision();
        Self {
            store,
            revision,
            outbox,
            opening,
        }
    }

    /// The current state (always the latest, even from inside an async task). Drop it before
    /// dispatching: a state still held is copied (shallowly) instead of changed in place.
    pub fn state(&self) -> Rc<ChatState> {
        self.store.state.borrow().clone()
    }

    pub fn dispatch(&self, action: Action) {
        // Taken out of the cell so that, when nobody else holds it, the reducer changes it in
        // place. Reducers never dispatch, so the cell is never read while it is empty.
        let current = self.store.state.take();
        let before = current.revision();
        let next = current.reduce(action);
        let changed = next.revision() != before;
        *self.store.state.borrow_mut() = next;
        if changed {
            self.store.render.force_update();
        }
    }

    /// A successful register or login.
    pub fn signed_in(&self, auth: AuthResponse) {
        session::store_token(&auth.token);
        super::prefs::set_last_username(&auth.user.username);
        self.dispatch(Action::SignedIn(auth.user));
    }

    /// Forget the session locally (after logout, or when the server refused it).
    pub fn signed_out(&self) {
        session::clear_token();
        self.dispatch(Action::SignedOut);
    }

    /// A request was refused with 401: the session is gone. The server closes the session's
    /// sockets at the same moment, with the reason (signed out elsewhere, account disabled),
    /// so while ours is up it gets a moment to say why; without it, or when it says nothing,
    /// the session ends here with no reason.
    pub fn session_refused(&self) {
        let token = session::token();
        // Already ended (by the socket, with its reason, which must stay shown).
        if token.is_none() {
            return;
        }
        if !matches!(self.state().conn, Conn::Open) {
            self.signed_out();
            return;
        }
        let chat = self.clone();
        spawn_local(async move {
            TimeoutFuture::new(REASON_GRACE_MS).await;
            // Not if the socket ended it meanwhile, or someone signed in since.
            if session::token() == token {
                chat.signed_out();
            }
        });
    }

    /// The server ended the session for a reason the sign-in page then gives.
    pub fn ended(&self, why: &'static str) {
        self.signed_out();
        self.dispatch(Action::Farewell(Some(why)));
    }

    /// Logs out on the server, then forgets the session.
    pub fn sign_out(&self) {
        let chat = self.clone();
        spawn_local(async move {
            // Even if the server cannot be told, this browser forgets the token.
            let _ = api::logout().await;
            chat.signed_out();
        });
    }

    /// Reacts to a failed request: a 401 ends the session, anything else is shown.
    pub fn failed(&self, error: &api::Error) {
        match error {
            api::Error::Unauthorized(_) => self.session_refused(),
            other => self.dispatch(Action::Notice(Some(other.to_string()))),
        }
    }

    /// Shows the message at once as pending, then sends it (as an answer to `reply_to`).
    pub fn send_message(&self, room_id: RoomId, body: MessageBody, reply_to: Option<i64>) {
        self.send_with_files(room_id, body.into_inner(), reply_to, Vec::new());
    }

    /// [`Self::send_message`] with uploaded files (`body` may then be empty); a retry sends
    /// the same attachment ids with the same `client_id`.
    pub fn send_with_files(
        &self,
        room_id: RoomId,
        body: String,
        reply_to: Option<i64>,
        attachments: Vec<Attachment>,
    ) {
        let client_id = platform::new_client_id();
        self.dispatch(Action::Outgoing {
            room_id,
            client_id: client_id.clone(),
            body,
            created_at: from_millis(now_ms()),
            reply_to,
            attachments,
        });
        self.deliver(room_id, &client_id);
    }

    /// Starts or ends replying to, or editing, a message in the room's composer.
    pub fn compose(&self, room_id: RoomId, compose: Compose) {
        self.dispatch(Action::Compose { room_id, compose });
    }

    /// Saves a new text for our message. The answer (and the `message_update` that follows)
    /// replaces it by `rev`; a refusal is shown and the text goes back into the composer.
    pub fn edit_message(&self, room_id: RoomId, seq: i64, body: MessageBody) {
        let chat = self.clone();
        spawn_local(async move {
            match api::edit_message(room_id, seq, body.as_str()).await {
                Ok(message) => chat.dispatch(Action::MessageUpdated(message)),
                Err(error) => chat.failed(&error),
            }
        });
    }

    /// Deletes our message, then applies its tombstone (the socket brings it too, but it may
    /// be down); the error is for the confirmation dialog to show.
    pub async fn delete_message(&self, room_id: RoomId, seq: i64) -> Result<(), api::Error> {
        if let Err(error) = api::delete_message(room_id, seq).await {
            if let api::Error::Unauthorized(_) = error {
                self.session_refused();
            }
            return Err(error);
        }
        if let Ok(message) = api::message(room_id, seq).await {
            self.dispatch(Action::MessageUpdated(message));
        }
        Ok(())
    }

    /// Adds our reaction `emoji` to a message, or removes it when it is there.
    pub fn toggle_reaction(&self, room_id: RoomId, seq: i64, emoji: String) {
        let state = self.state();
        let me = state.me().map(|u| u.id);
        let mine = state
            .rooms
            .get(&room_id)
            .and_then(|e| e.timeline.get(seq))
            .is_some_and(|m| {
                m.reactions
                    .iter()
                    .any(|r| r.emoji == emoji && me.is_some_and(|me| r.user_ids.contains(&me)))
            });
        let chat = self.clone();
        spawn_local(async move {
            match api::react(room_id, seq, &emoji, !mine).await {
                Ok(message) => chat.dispatch(Action::MessageUpdated(message)),
                Err(error) => chat.failed(&error),
            }
        });
    }

    /// Makes sure the message `seq` is held, to jump to it: when it is older than what the
    /// room holds, fetches its page (`around`) and the pages that join that page to the held
    /// ones, and merges them at once, so the list stays one unbroken run.
    pub async fn load_around(&self, room_id: RoomId, seq: i64) -> Result<(), api::Error> {
        let held = |chat: &Chat| {
            chat.state()
                .rooms
                .get(&room_id)
                .and_then(|e| e.timeline.lowest_seq())
        };
        if held(self).is_some_and(|low| seq >= low) {
            return Ok(());
        }
        let page = api::messages(room_id, api::Cursor::Around(seq), PAGE_SIZE).await?;
        let has_more_before = page.has_more_before.unwrap_or(page.has_more);
        let mut messages = page.messages;
        while let (Some(top), Some(low)) = (messages.last().map(|m| m.seq), held(self)) {
            if top + 1 >= low {
                break;
            }
            let next =
                api::messages(room_id, api::Cursor::After(top), shared::MAX_PAGE_LIMIT).await?;
            let done = next.messages.is_empty() || !next.has_more;
            messages.extend(next.messages);
            if done {
                break;
            }
        }
        self.dispatch(Action::HistoryLoaded {
            room_id,
            page: Page::Around,
            messages,
            has_more: has_more_before,
        });
        Ok(())
    }

    /// Sends a pending or failed message again, with the same `client_id`.
    pub fn retry(&self, room_id: RoomId, client_id: &str) {
        self.dispatch(Action::Retry {
            room_id,
            client_id: client_id.to_owned(),
        });
        self.deliver(room_id, client_id);
    }

    /// Sends the current attempt of an outgoing message: over the socket when it is open,
    /// else over REST; either way it fails visibly if not acknowledged in time.
    fn deliver(&self, room_id: RoomId, client_id: &str) {
        let Some(outgoing) = self.state().rooms.get(&room_id).and_then(|e| {
            e.timeline
                .outgoing()
                .iter()
                .find(|o| o.client_id == client_id)
                .cloned()
        }) else {
            return;
        };
        // Offline, it stays pending, as the bar promises: the reconnection's catch-up sends it.
        if self.state().conn == Conn::Offline {
            return;
        }
        let attempt = outgoing.attempt;
        let timeout = {
            let chat = self.clone();
            let client_id = client_id.to_owned();
            async move {
                TimeoutFuture::new(ACK_TIMEOUT_MS).await;
                if chat.state().conn == Conn::Offline {
                    return;
                }
                chat.dispatch(Action::SendFailed {
                    room_id,
                    client_id,
                    attempt: Some(attempt),
                });
            }
        };
        spawn_local(timeout);
        let frame = ClientFrame::Send {
            room_id,
            body: outgoing.body.clone(),
            client_id: outgoing.client_id.clone(),
            reply_to: outgoing.reply_to,
            attachments: outgoing.attachments.iter().map(|a| a.id).collect(),
        };
        if self.outbox.send(frame) {
            return;
        }
        let chat = self.clone();
        spawn_local(async move {
            let sent = api::send_message(
                room_id,
                &outgoing.body,
                &outgoing.client_id,
                outgoing.reply_to,
                outgoing.attachments.iter().map(|a| a.id).collect(),
            );
            match sent.await {
                Ok(message) => chat.dispatch(Action::Acked(message)),
                // Unreachable server: stay pending; a reconnect resends, or the timeout fails it.
                Err(api::Error::Network) => {}
                Err(api::Error::Unauthorized(_)) => chat.session_refused(),
                Err(error) => {
                    chat.dispatch(Action::SendFailed {
                        room_id,
                        client_id: outgoing.client_id,
                        attempt: Some(attempt),
                    });
                    chat.dispatch(Action::Notice(Some(error.to_string())));
                }
            }
        });
    }

    /// Marks the room read up to `seq` (ours at once, the server's by socket or REST).
    pub fn mark_read(&self, room_id: RoomId, seq: i64) {
        let Some(me) = self.state().me().map(|u| u.id) else {
            return;
        };
        self.dispatch(Action::Read {
            room_id,
            user_id: me,
            seq,
        });
        if !self.outbox.send(ClientFrame::Read { room_id, seq }) {
            spawn_local(async move {
                // A lost read mark is re-sent the next time the room is read.
                let _ = api::mark_read(room_id, seq).await;
            });
        }
    }

    /// Tells the peer we are typing (the caller throttles).
    pub fn typing(&self, room_id: RoomId) {
        // Typing is best-effort: without a socket there is nobody to tell live.
        let _ = self.outbox.send(ClientFrame::Typing { room_id });
    }

    /// Makes sure a room is known and its latest page is loaded.
    pub fn open_room(&self, room_id: RoomId) {
        let state = self.state();
        let loaded = state.rooms.get(&room_id).is_some_and(|e| e.timeline.loaded);
        if loaded || !self.opening.borrow_mut().insert(room_id) {
            return;
        }
        let chat = self.clone();
        spawn_local(async move {
            if !chat.state().rooms.contains_key(&room_id) {
                match api::room(room_id).await {
                    Ok(room) => chat.dispatch(Action::RoomUpserted(room)),
                    Err(error) => {
                        chat.opening.borrow_mut().remove(&room_id);
                        chat.failed(&error);
                        return;
                    }
                }
            }
            let result = api::messages(room_id, api::Cursor::Latest, PAGE_SIZE).await;
            chat.opening.borrow_mut().remove(&room_id);
            match result {
                Ok(page) => chat.dispatch(Action::HistoryLoaded {
                    room_id,
                    page: Page::Latest,
                    messages: page.messages,
                    has_more: page.has_more,
                }),
                Err(error) => chat.failed(&error),
            }
        });
    }

    /// Whether the room's first page (or the room itself) is being fetched.
    pub fn is_opening(&self, room_id: RoomId) -> bool {
        self.opening.borrow().contains(&room_id)
    }

    /// Fetches the page before the lowest message held, if there is one.
    pub fn load_older(&self, room_id: RoomId) {
        let before = self.state().rooms.get(&room_id).and_then(|entry| {
            let t = &entry.timeline;
            t.lowest_seq()
                .filter(|_| t.loaded && t.has_older && !t.loading_older)
        });
        let Some(before) = before else {
            return;
        };
        self.dispatch(Action::OlderLoading(room_id));
        let chat = self.clone();
        spawn_local(async move {
            match api::messages(room_id, api::Cursor::Before(before), PAGE_SIZE).await {
                Ok(page) => chat.dispatch(Action::HistoryLoaded {
                    room_id,
                    page: Page::Older,
                    messages: page.messages,
                    has_more: page.has_more,
                }),
                Err(error) => {
                    chat.dispatch(Action::HistoryFailed(room_id));
                    chat.failed(&error);
                }
            }
        });
    }

    /// Opens (or creates) the conversation with `username`.
    pub async fn start_conversation(&self, username: &str) -> Result<Room, api::Error> {
        let room = api::create_room(username).await?;
        self.dispatch(Action::RoomUpserted(room.clone()));
        Ok(room)
    }

    /// Fetches the reaction picker's full list once (it is not in the `.wasm`, see
    /// `logic::emoji`); a failure is retried at the next call.
    pub fn load_emoji(&self) {
        thread_local! {
            static LOADING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
        }
        if self.state().emoji.is_some() || LOADING.with(|l| l.replace(true)) {
            return;
        }
        let chat = self.clone();
        spawn_local(async move {
            let text = match gloo_net::http::Request::get(EMOJI_LIST).send().await {
                Ok(response) if response.ok() => response.text().await.ok(),
                _ => None,
            };
            LOADING.with(|l| l.set(false));
            match text.map(|t| EmojiList::parse(&t)) {
                Some(list) if !list.is_empty() => chat.dispatch(Action::EmojiLoaded(Rc::new(list))),
                _ => chat.dispatch(Action::Notice(Some(
                    "Could not load the list of emoji. Try again in a moment.".to_owned(),
                ))),
            }
        });
    }

    /// Changes our view of a room (muted, marked unread): at once here, then on the server,
    /// whose answer (and the `room_update` to our other tabs) is the final word.
    pub fn update_room(&self, room_id: RoomId, change: UpdateRoom) {
        let Some(mut room) = self.state().rooms.get(&room_id).map(|e| e.room.clone()) else {
            return;
        };
        let before = room.clone();
        room.muted = change.muted.unwrap_or(room.muted);
        room.marked_unread = change.marked_unread.unwrap_or(room.marked_unread);
        self.dispatch(Action::RoomUpserted(room));
        let chat = self.clone();
        spawn_local(async move {
            match api::update_room(room_id, &change).await {
                Ok(room) => chat.dispatch(Action::RoomUpserted(room)),
                Err(error) => {
                    chat.dispatch(Action::RoomUpserted(before));
                    chat.failed(&error);
                }
            }
        });
    }

    /// Blocks or unblocks the peer of a room, then reloads the room (its `blocked` flag).
    pub async fn set_blocked(&self, room_id: RoomId, on: bool) -> Result<(), api::Error> {
        let Some(peer) = self.state().rooms.get(&room_id).map(|e| e.room.peer.id) else {
            return Ok(());
        };
        let result = async {
            api::block(peer, on).await?;
            api::room(room_id).await
        };
        match result.await {
            Ok(room) => {
                self.dispatch(Action::RoomUpserted(room));
                Ok(())
            }
            Err(error) => {
                if let api::Error::Unauthorized(_) = error {
                    self.session_refused();
                }
                Err(error)
            }
        }
    }

    /// Periodic clock for relative times.
    pub fn tick(&self) {
        self.dispatch(Action::Tick(now_ms()));
    }
}

/// Reloads the room list (merging with what arrived live meanwhile).
pub async fn refresh_rooms(chat: Chat) {
    match api::rooms().await {
        Ok(rooms) => chat.dispatch(Action::RoomsLoaded(rooms)),
        Err(error) => chat.failed(&error),
    }
}

/// "Today" in local time, for day separators.
pub fn today() -> chrono::NaiveDate {
    local_now().date()
}
