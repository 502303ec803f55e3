use crate::app::Route;
use crate::components::avatar::Avatar;
use crate::components::composer::{files_of, Composer};
use crate::components::conversation_menu::ConversationMenu;
use crate::components::icons;
use crate::components::message_list::MessageList;
use crate::hooks::use_chat;
use crate::logic::attach::Tray;
use crate::router::Link;
use crate::services::upload::Uploader;
use crate::state::Action;
use shared::{RoomId, UpdateRoom};
use yew::prelude::*;

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
    let tray = use_reducer(Tray::default);
    let jobs = use_mut_ref(Default::default);
    let uploader = Uploader::new(tray, jobs);
    // The tray belongs to one conversation: another one starts empty (uploads cancelled).
    {
        let uploader = uploader.clone();
        use_effect_with(room_id, move |_| move || uploader.clear());
    }
    // Files dragged over the conversation: a drop zone shows until they are dropped or leave.
    // Enter and leave fire for every child crossed, hence the count.
    let dragging = use_state_eq(|| false);
    let depth = use_mut_ref(|| 0_i32);
    let carries_files = |e: &DragEvent| {
        e.data_transfer()
            .is_some_and(|d| d.types().includes(&"Files".into(), 0))
    };
    let blocked_or_editing = state_blocks_files(&chat, room_id);
    let ondragenter = {
        let (dragging, depth) = (dragging.clone(), depth.clone());
        Callback::from(move |e: DragEvent| {
            if blocked_or_editing || !carries_files(&e) {
                return;
            }
            e.prevent_default();
            *depth.borrow_mut() += 1;
            dragging.set(true);
        })
    };
    let ondragover = Callback::from(move |e: DragEvent| {
        if !blocked_or_editing && carries_files(&e) {
            // Without this the browser opens the file instead of dropping it here.
            e.prevent_default();
        }
    });
    let ondragleave = {
        let (dragging, depth) = (dragging.clone(), depth.clone());
        Callback::from(move |_: DragEvent| {
            let mut depth = depth.borrow_mut();
            *depth = (*depth - 1).max(0);
            if *depth == 0 {
                dragging.set(false);
            }
        })
    };
    let ondrop = {
        let (dragging, depth, uploader) = (dragging.clone(), depth.clone(), uploader.clone());
        Callback::from(move |e: DragEvent| {
            *depth.borrow_mut() = 0;
            dragging.set(false);
            if blocked_or_editing {
                return;
            }
            let files = files_of(e.data_transfer().and_then(|d| d.files()));
            if !files.is_empty() {
                e.prevent_default();
                uploader.add(files);
            }
        })
    };
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
        <Link to={Route::Home} classes="icon-btn back">
            { icons::back() }<span class="sr-only">{ "Back to conversations" }</span>
        </Link>
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
    // Without a live socket, what we last heard of the peer may be stale: say so.
    let live = state.conn.live();
    let (status, status_class) = if entry.typing_until > 0.0 {
        ("typing…", "typing")
    } else if !live {
        ("status unknown", "unknown")
    } else if peer.online {
        ("online", "online")
    } else {
        ("offline", "offline")
    };
    html! {
        <section class="pane conversation" aria-label={format!("Conversation with {}", peer.display_name)}
            {ondragenter} {ondragover} {ondragleave} {ondrop}>
            <header class="conv-head">
                { back }
                <Avatar user={peer.clone()} presence={live} />
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
            <Composer {room_id} {uploader} />
            if *dragging {
                <div class="drop-zone" aria-hidden="true">
                    <div class="drop-zone-inner">{ icons::paperclip() }<span>{ format!("Drop files to send to {}", peer.display_name) }</span></div>
                </div>
            }
        </section>
    }
}

/// Files cannot be added while we block the peer (no composer) or edit a message.
fn state_blocks_files(chat: &crate::services::chat::Chat, room_id: RoomId) -> bool {
    chat.state()
        .rooms
        .get(&room_id)
        .is_some_and(|e| e.room.blocked || matches!(e.compose, crate::state::Compose::Edit(_)))
}
