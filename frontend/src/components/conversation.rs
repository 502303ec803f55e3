use crate::app::Route;
use crate::components::avatar::Avatar;
use crate::components::composer::Composer;
use crate::components::conversation_menu::ConversationMenu;
use crate::components::icons;
use crate::components::message_list::MessageList;
use crate::hooks::use_chat;
use crate::state::Action;
use shared::{RoomId, UpdateRoom};
use yew::prelude::*;
use yew_router::prelude::*;

#[derive(Properties, PartialEq)]
pub struct ConversationProps {
    pub room_id: RoomId,
}

/// The right pane: header, messages, composer.
#[component]
pub fn Conversation(props: &ConversationProps) -> Html {
    let chat = use_chat();
    let room_id = props.room_id;
    {
        let chat = chat.clone();
        use_effect_with(room_id, move |room_id| chat.open_room(*room_id));
    }
    // Opening a room marked unread reads it: the mark goes (once per opening).
    {
        let chat = chat.clone();
        let known = chat.state().rooms.contains_key(&room_id);
        let checked = use_mut_ref(|| false);
        use_effect_with(known, move |known| {
            if !*known || std::mem::replace(&mut *checked.borrow_mut(), true) {
                return;
            }
            if chat
                .state()
                .rooms
                .get(&room_id)
                .is_some_and(|e| e.room.marked_unread)
            {
                chat.update_room(
                    room_id,
                    UpdateRoom {
                        muted: None,
                        marked_unread: Some(false),
                    },
                );
            }
        });
    }
    let state = chat.state();
    let back = html! {
        <Link<Route> to={Route::Home} classes="icon-btn back">
            { icons::back() }<span class="sr-only">{ "Back to conversations" }</span>
        </Link<Route>>
    };
    let Some(entry) = state.rooms.get(&room_id) else {
        let missing = state.rooms_loaded && !chat.is_opening(room_id);
        return html! {
            <section class="pane conversation">
                <header class="conv-head">{ back }</header>
                <div class="pane-empty">
                    if missing {
                        <p class="empty-title">{ "Conversation not found" }</p>
                        <p>{ "It does not exist, or it is not one of yours." }</p>
                    } else {
                        <div class="spinner" aria-hidden="true"></div>
                        <p role="status">{ "Loading conversation…" }</p>
                    }
                </div>
            </section>
        };
    };
    let peer = &entry.room.peer;
    let on_search = {
        let chat = chat.clone();
        Callback::from(move |_| chat.dispatch(Action::SearchIn(Some(room_id))))
    };
    let (status, status_class) = if entry.typing_until > 0.0 {
        ("typing…", "typing")
    } else if peer.online {
        ("online", "online")
    } else {
        ("offline", "offline")
    };
    html! {
        <section class="pane conversation" aria-label={format!("Conversation with {}", peer.display_name)}>
            <header class="conv-head">
                { back }
                <Avatar user={peer.clone()} presence=true />
                <div class="conv-title">
                    <h2>{ peer.display_name.clone() }</h2>
                    <div class={classes!("conv-status", status_class)} aria-live="polite">
                        { status }
                        <span class="handle">{ format!(" · @{}", peer.username) }</span>
                    </div>
                </div>
                <div class="conv-actions">
                    if entry.room.muted {
                        <span class="muted-mark" title="Notifications muted">
                            { icons::bell_off() }<span class="sr-only">{ "Notifications muted" }</span>
                        </span>
                    }
                    <button type="button" class="icon-btn" onclick={on_search}
                        aria-label="Search in this conversation" title="Search in this conversation">
                        { icons::search() }
                    </button>
                    <ConversationMenu {room_id} />
                </div>
            </header>
            <MessageList {room_id} />
            <Composer {room_id} />
        </section>
    }
}
