//! Holds the app state (`use_reducer`), runs the session check, the websocket, the clock and
//! the tab title, and provides the [`Chat`] context.

use crate::logic::outbox::{self, Unsent};
use crate::logic::time::from_millis;
use crate::logic::unread::title;
use crate::services::chat::{self, Chat, Store};
use crate::services::platform::{document, document_hidden, set_title};
use crate::services::prefs;
use crate::services::ws::{self, Outbox};
use crate::services::{api, session};
use crate::state::{Action, ChatState};
use gloo_events::EventListener;
use gloo_timers::callback::Interval;
use gloo_timers::future::TimeoutFuture;
use shared::UserId;
use std::cell::Cell;
use std::cell::RefCell;
use std::collections::HashSet;
use std::rc::Rc;
use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;

/// Relative times in the list are refreshed this often.
const CLOCK_MS: u32 = 30_000;
/// While the server cannot be reached at start-up, the session check is retried this often.
const SESSION_RETRY_MS: u32 = 3_000;

#[derive(Properties, PartialEq)]
pub struct ChatProviderProps {
    pub children: Html,
}

#[component]
pub fn ChatProvider(props: &ChatProviderProps) -> Html {
    let render = use_force_update();
    let store = use_memo((), |_| Rc::new(Store::new(ChatState::default(), render)));
    let outbox = use_memo((), |_| Outbox::default());
    let opening = use_memo((), |_| Rc::new(RefCell::new(HashSet::new())));
    // A fresh context value each render carries the new revision, so consumers re-render.
    let chat = Chat::with_parts((*store).clone(), (*outbox).clone(), (*opening).clone());

    // Restore the session from a stored token, once.
    {
        let chat = chat.clone();
        use_effect_with((), move |_| {
            spawn_local(restore_session(chat));
        });
    }

    // The websocket lives exactly as long as the signed-in session; the room list is loaded
    // at once so it shows even before the socket is up.
    let me_id = chat.state().me().map(|u| u.id);
    {
        let chat = chat.clone();
        use_effect_with(me_id, move |me_id| {
            let connection = me_id.map(|_| {
                spawn_local(chat::refresh_rooms(chat.clone()));
                ws::connect(chat)
            });
            move || drop(connection)
        });
    }

    // The outbox survives a reload: once the rooms are known, what was kept comes back as
    // pending and is sent again (same `client_id`); from then on every change is kept.
    let restored = use_mut_ref(|| Cell::new(None::<UserId>));
    {
        let (chat, restored) = (chat.clone(), restored.clone());
        let deps = (me_id, chat.state().rooms_loaded, unsent(&chat.state()));
        use_effect_with(deps, move |(me_id, loaded, unsent)| match *me_id {
            // Before the restore, an empty outbox here is not the kept one.
            Some(me) if restored.borrow().get() == Some(me) => prefs::set_outbox(me, unsent),
            Some(me) if *loaded => {
                restored.borrow().set(Some(me));
                restore_outbox(&chat, me);
            }
            _ => {}
        });
    }

    // Visibility (for read marks and notifications) and the clock.
    {
        let chat = chat.clone();
        use_effect_with((), move |_| {
            chat.dispatch(Action::Visibility(!document_hidden()));
            chat.tick();
            let listener = document().map(|doc| {
                let chat = chat.clone();
                EventListener::new(&doc, "visibilitychange", move |_| {
                    chat.dispatch(Action::Visibility(!document_hidden()));
                })
            });
            let clock = {
                let chat = chat.clone();
                Interval::new(CLOCK_MS, move || chat.tick())
            };
            move || {
                drop(listener);
                drop(clock);
            }
        });
    }

    let unread = chat.state().total_unread();
    use_effect_with(unread, |unread| set_title(&title(*unread)));

    html! {
        <ContextProvider<Chat> context={chat}>
            { props.children.clone() }
        </ContextProvider<Chat>>
    }
}

/// Our messages not yet acknowledged, encoded as the outbox keeps them.
fn unsent(state: &ChatState) -> String {
    // Unsorted (rooms come out of a HashMap): a different order only costs one more write.
    let all: Vec<Unsent> = state
        .rooms
        .values()
        .flat_map(|e| {
            // A message with files is not kept: its tray (previews, progress) lives in the page
            // and its links expire; after a reload it is written again.
            e.timeline
                .outgoing()
                .iter()
                .filter(|o| o.attachments.is_empty())
                .map(|o| Unsent {
                    room_id: e.room.id,
                    client_id: o.client_id.clone(),
                    body: o.body.clone(),
                    created_ms: o.created_at.timestamp_millis(),
                    reply_to: o.reply_to,
                })
        })
        .collect();
    outbox::encode(&all)
}

/// Puts the kept outbox back as pending messages and sends each again. A message whose room
/// is gone (or not ours any more) is dropped.
fn restore_outbox(chat: &Chat, me: UserId) {
    for u in outbox::decode(&prefs::outbox(me)) {
        if !chat.state().rooms.contains_key(&u.room_id) {
            continue;
        }
        chat.dispatch(Action::Outgoing {
            room_id: u.room_id,
            client_id: u.client_id.clone(),
            body: u.body,
            created_at: from_millis(u.created_ms as f64),
            reply_to: u.reply_to,
            attachments: Vec::new(),
        });
        chat.retry(u.room_id, &u.client_id);
    }
}

async fn restore_session(chat: Chat) {
    if session::token().is_none() {
        chat.dispatch(Action::SignedOut);
        return;
    }
    loop {
        match api::me().await {
            Ok(user) => {
                prefs::set_last_username(&user.username);
                chat.dispatch(Action::Notice(None));
                chat.dispatch(Action::SignedIn(user));
                return;
            }
            Err(api::Error::Unauthorized(_)) => {
                chat.signed_out();
                return;
            }
            Err(error) => {
                chat.dispatch(Action::Notice(Some(format!("{error} Retrying…"))));
                TimeoutFuture::new(SESSION_RETRY_MS).await;
            }
        }
    }
}
