//! The conversation header's menu: search in this conversation, mute or unmute, mark as
//! unread, block or unblock the person (after a confirmation). A menu button with a list of
//! `menuitem`s: ↑/↓ move, Escape closes and gives the focus back to the button.

use crate::components::admin::confirm::ConfirmDialog;
use crate::components::icons;
use crate::hooks::use_chat;
use crate::state::Action;
use shared::{RoomId, UpdateRoom};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::spawn_local;
use web_sys::{Element, HtmlElement, KeyboardEvent};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct ConversationMenuProps {
    pub room_id: RoomId,
}

/// A block or unblock waiting for (or running after) its confirmation.
#[derive(Debug, Clone, PartialEq)]
struct Blocking {
    on: bool,
    busy: bool,
    error: Option<String>,
}

fn focus_item(menu: &NodeRef, step: i32) {
    let Some(menu) = menu.cast::<Element>() else {
        return;
    };
    let Ok(items) = menu.query_selector_all("[role=menuitem]") else {
        return;
    };
    let count = items.length() as i32;
    if count == 0 {
        return;
    }
    let active = crate::services::platform::document().and_then(|d| d.active_element());
    let current = (0..count).find(|&i| {
        items
            .item(i as u32)
            .zip(active.as_ref())
            .is_some_and(|(n, a)| n.unchecked_ref::<Element>() == a)
    });
    let next = match current {
        Some(i) => (i + step).rem_euclid(count),
        None if step < 0 => count - 1,
        None => 0,
    };
    if let Some(el) = items
        .item(next as u32)
        .and_then(|n| n.dyn_into::<HtmlElement>().ok())
    {
        let _ = el.focus();
    }
}

#[component]
pub fn ConversationMenu(props: &ConversationMenuProps) -> Html {
    let chat = use_chat();
    let room_id = props.room_id;
    let open = use_state_eq(|| false);
    let blocking = use_state(|| None::<Blocking>);
    let button = use_node_ref();
    let menu = use_node_ref();

    // An opened menu takes the focus on its first item.
    {
        let menu = menu.clone();
        use_effect_with(*open, move |open| {
            if *open {
                focus_item(&menu, 1);
            }
        });
    }

    let Some(room) = chat.state().rooms.get(&room_id).map(|e| e.room.clone()) else {
        return html! {};
    };
    let close = {
        let (open, button) = (open.clone(), button.clone());
        Callback::from(move |_: ()| {
            open.set(false);
            if let Some(el) = button.cast::<HtmlElement>() {
                let _ = el.focus();
            }
        })
    };
    let toggle = {
        let open = open.clone();
        Callback::from(move |_: MouseEvent| open.set(!*open))
    };
    let item = |label: String, action: Callback<()>| {
        let close = close.clone();
        let onclick = Callback::from(move |_: MouseEvent| {
            close.emit(());
            action.emit(());
        });
        html! {
            <li role="none">
                <button type="button" role="menuitem" class="menu-item" {onclick}>{ label }</button>
            </li>
        }
    };
    let search = {
        let chat = chat.clone();
        Callback::from(move |_| chat.dispatch(Action::SearchIn(Some(room_id))))
    };
    let mute = {
        let (chat, muted) = (chat.clone(), room.muted);
        Callback::from(move |_| {
            chat.update_room(
                room_id,
                UpdateRoom {
                    muted: Some(!muted),
                    marked_unread: None,
                },
            )
        })
    };
    let mark_unread = {
        let chat = chat.clone();
        Callback::from(move |_| {
            chat.update_room(
                room_id,
                UpdateRoom {
                    muted: None,
                    marked_unread: Some(true),
                },
            )
        })
    };
    let block = {
        let (blocking, on) = (blocking.clone(), !room.blocked);
        Callback::from(move |_| {
            blocking.set(Some(Blocking {
                on,
                busy: false,
                error: None,
            }))
        })
    };
    let onkeydown = {
        let (menu, close) = (menu.clone(), close.clone());
        Callback::from(move |e: KeyboardEvent| match e.key().as_str() {
            "ArrowDown" => {
                e.prevent_default();
                focus_item(&menu, 1);
            }
            "ArrowUp" => {
                e.prevent_default();
                focus_item(&menu, -1);
            }
            "Escape" | "Tab" => {
                if e.key() == "Escape" {
                    e.prevent_default();
                }
                close.emit(());
            }
            _ => {}
        })
    };
    let on_backdrop = {
        let open = open.clone();
        Callback::from(move |_: MouseEvent| open.set(false))
    };

    let name = room.peer.display_name.clone();
    let dialog = (*blocking).clone().map(|b| {
        let on_cancel = {
            let blocking = blocking.clone();
            Callback::from(move |_| blocking.set(None))
        };
        let on_confirm = {
            let (blocking, chat, b) = (blocking.clone(), chat.clone(), b.clone());
            Callback::from(move |_| {
                blocking.set(Some(Blocking {
                    busy: true,
                    error: None,
                    ..b.clone()
                }));
                let (blocking, chat, b) = (blocking.clone(), chat.clone(), b.clone());
                spawn_local(async move {
                    match chat.set_blocked(room_id, b.on).await {
                        Ok(()) => blocking.set(None),
                        Err(error) => blocking.set(Some(Blocking {
                            busy: false,
                            error: Some(error.to_string()),
                            ..b
                        })),
                    }
                });
            })
        };
        let (title, text, label) = if b.on {
            (
                format!("Block {name}?"),
                format!("{name} will not be able to message you, and you will not be able to message them until you unblock them. The conversation stays readable."),
                "Block",
            )
        } else {
            (
                format!("Unblock {name}?"),
                format!("You and {name} will be able to message each other again."),
                "Unblock",
            )
        };
        html! {
            <ConfirmDialog title={title} confirm_label={label} danger={b.on} busy={b.busy}
                error={b.error.clone().map(AttrValue::from)} {on_confirm} {on_cancel}>
                <p>{ text }</p>
            </ConfirmDialog>
        }
    });

    html! {
        <div class="conv-menu">
            <button type="button" class="icon-btn" ref={button} onclick={toggle}
                aria-haspopup="menu" aria-expanded={open.to_string()} aria-controls="conv-menu"
                aria-label="Conversation menu" title="Conversation menu">
                { icons::more() }
            </button>
            if *open {
                <div class="menu-backdrop" onclick={on_backdrop}></div>
                <ul id="conv-menu" class="menu" role="menu" aria-label="Conversation" ref={menu} {onkeydown}>
                    { item("Search in this conversation".to_owned(), search) }
                    { item(if room.muted { "Unmute notifications" } else { "Mute notifications" }.to_owned(), mute) }
                    { item("Mark as unread".to_owned(), mark_unread) }
                    { item(if room.blocked { format!("Unblock {name}") } else { format!("Block {name}") }, block) }
                </ul>
            }
            { for dialog }
        </div>
    }
}
