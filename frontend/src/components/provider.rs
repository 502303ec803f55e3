//! Holds the app state (`use_reducer`), runs the session check, the websocket, the clock and
//! the tab title, and provides the [`Chat`] context.

use crate::logic::unread::title;
use crate::services::chat::{self, Chat, Store};
use crate::services::platform::{document, document_hidden, set_title};
use crate::services::ws::{self, Outbox};
use crate::services::{api, session};
use crate::state::{Action, ChatState};
use gloo_events::EventListener;
use gloo_timers::callback::Interval;
use gloo_timers::future::TimeoutFuture;
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

async fn restore_session(chat: Chat) {
    if session::token().is_none() {
        chat.dispatch(Action::SignedOut);
        return;
    }
    loop {
        match api::me().await {
            Ok(user) => {
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
