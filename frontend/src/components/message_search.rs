//! Message search: a field above the conversation list (Ctrl/Cmd+K focuses it) whose results
//! take the list's place while a query is typed. ↑/↓ move through the results, Enter opens
//! one at its message in context, Escape ends the search. Typing is debounced, and a query
//! under two characters is never sent.

use crate::app::Route;
use crate::components::avatar::Avatar;
use crate::components::icons;
use crate::hooks::use_chat;
use crate::logic::search::{self, segments};
use crate::logic::time::{full, relative};
use crate::router::use_navigator;
use crate::services::api;
use crate::services::platform::{document, local, local_now};
use crate::state::Action;
use gloo_events::{EventListener, EventListenerOptions};
use gloo_timers::callback::Timeout;
use shared::{Message, RoomId};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::spawn_local;
use web_sys::{Element, HtmlInputElement, KeyboardEvent};
use yew::prelude::*;

/// Typing pauses this long before a query is sent.
const DEBOUNCE_MS: u32 = 250;
/// Characters of a long message shown before its first match.
const LEAD_CHARS: usize = 30;

#[derive(Debug, Clone, PartialEq)]
enum Found {
    /// Nothing to search (the query is too short).
    Idle,
    Loading,
    Failed(String),
    Results {
        items: Vec<Message>,
        has_more: bool,
        loading_more: bool,
        /// Paging failed: why.
        more_error: Option<String>,
    },
}

#[derive(Properties, PartialEq)]
pub struct MessageSearchProps {
    /// What shows while there is no search: the conversation list.
    pub children: Html,
}

fn option_id(message: &Message) -> String {
    format!("search-result-{}", message.id)
}

#[component]
pub fn MessageSearch(props: &MessageSearchProps) -> Html {
    let chat = use_chat();
    let navigator = use_navigator();
    let input = use_node_ref();
    let list = use_node_ref();
    let query = use_state_eq(String::new);
    let scope = use_state_eq(|| None::<RoomId>);
    let found = use_state(|| Found::Idle);
    let active = use_state_eq(|| None::<usize>);
    // Bumped by "Try again": the same query runs again.
    let attempt = use_state_eq(|| 0u32);
    // Answers to an older query (or scope) are dropped: only the latest request counts.
    let generation = use_mut_ref(|| 0u32);
    let debounce = use_mut_ref(|| None::<Timeout>);

    let focus_input = {
        let input = input.clone();
        move || {
            if let Some(el) = input.cast::<HtmlInputElement>() {
                let _ = el.focus();
                el.select();
            }
        }
    };

    // Ctrl+K / Cmd+K anywhere focuses the field.
    {
        let focus_input = focus_input.clone();
        use_effect_with((), move |_| {
            let listener = document().map(|doc| {
                // Not passive: the browser's own Ctrl+K (its search bar) is prevented.
                let options = EventListenerOptions::enable_prevent_default();
                EventListener::new_with_options(&doc, "keydown", options, move |e| {
                    let Some(e) = e.dyn_ref::<KeyboardEvent>() else {
                        return;
                    };
                    if (e.ctrl_key() || e.meta_key()) && e.key().eq_ignore_ascii_case("k") {
                        e.prevent_default();
                        focus_input();
                    }
                })
            });
            move || drop(listener)
        });
    }

    // "Search in this conversation" (the conversation header) sets the scope and the focus.
    let nonce = chat.state().search_nonce;
    {
        let (scope, focus_input, chat) = (scope.clone(), focus_input.clone(), chat.clone());
        use_effect_with(nonce, move |nonce| {
            if *nonce > 0 {
                scope.set(chat.state().search_in);
                focus_input();
            }
        });
    }

    // A new query or scope: wait for a pause in typing, then search.
    {
        let (found, active, generation, debounce, chat) = (
            found.clone(),
            active.clone(),
            generation.clone(),
            debounce.clone(),
            chat.clone(),
        );
        use_effect_with(
            ((*query).clone(), *scope, *attempt),
            move |(raw, scope, _)| {
                let gen = {
                    let mut g = generation.borrow_mut();
                    *g = g.wrapping_add(1);
                    *g
                };
                active.set(None);
                let Some(q) = search::query(raw).map(str::to_owned) else {
                    *debounce.borrow_mut() = None;
                    found.set(Found::Idle);
                    return;
                };
                found.set(Found::Loading);
                let scope = *scope;
                let timer = Timeout::new(DEBOUNCE_MS, move || {
                    spawn_local(async move {
                        let answer = api::search(&q, scope, None).await;
                        if *generation.borrow() != gen {
                            return;
                        }
                        found.set(match answer {
                            Ok(page) => Found::Results {
                                items: page.results,
                                has_more: page.has_more,
                                loading_more: false,
                                more_error: None,
                            },
                            Err(api::Error::Unauthorized(_)) => {
                                chat.session_refused();
                                Found::Idle
                            }
                            Err(error) => Found::Failed(error.to_string()),
                        });
                    });
                });
                *debounce.borrow_mut() = Some(timer);
            },
        );
    }

    let open = !query.is_empty() || scope.is_some();
    {
        let chat = chat.clone();
        use_effect_with(open, move |open| chat.dispatch(Action::Searching(*open)));
    }

    // The active result stays in view.
    {
        let list = list.clone();
        use_effect_with(*active, move |active| {
            let (Some(index), Some(list)) = (active, list.cast::<Element>()) else {
                return;
            };
            if let Ok(Some(row)) = list.query_selector(&format!("[data-index=\"{index}\"]")) {
                row.scroll_into_view_with_bool(false);
            }
        });
    }

    let items: Vec<Message> = match &*found {
        Found::Results { items, .. } => items.clone(),
        _ => Vec::new(),
    };

    let open_result = {
        let (chat, navigator) = (chat.clone(), navigator.clone());
        Callback::from(move |message: Message| {
            chat.dispatch(Action::JumpTo {
                room_id: message.room_id,
                seq: message.seq,
            });
            // Narrow screens show the conversation again; the results stay for "back".
            chat.dispatch(Action::Searching(false));
            if let Some(navigator) = &navigator {
                navigator.push(&Route::Room {
                    id: message.room_id.0,
                });
            }
        })
    };

    let end_search = {
        let (query, scope, chat) = (query.clone(), scope.clone(), chat.clone());
        Callback::from(move |_: ()| {
            query.set(String::new());
            scope.set(None);
            chat.dispatch(Action::Searching(false));
        })
    };

    let more = {
        let (found, generation, chat) = (found.clone(), generation.clone(), chat.clone());
        let q = search::query(&query).map(str::to_owned);
        let scope = *scope;
        Callback::from(move |_: MouseEvent| {
            let (
                Some(q),
                Found::Results {
                    items, has_more, ..
                },
            ) = (q.clone(), (*found).clone())
            else {
                return;
            };
            let Some(before) = items.last().map(|m| m.id) else {
                return;
            };
            found.set(Found::Results {
                items: items.clone(),
                has_more,
                loading_more: true,
                more_error: None,
            });
            let gen = *generation.borrow();
            let (found, generation, chat) = (found.clone(), generation.clone(), chat.clone());
            spawn_local(async move {
                let answer = api::search(&q, scope, Some(before)).await;
                if *generation.borrow() != gen {
                    return;
                }
                match answer {
                    Ok(page) => {
                        let mut items = items;
                        items.extend(page.results);
                        found.set(Found::Results {
                            items,
                            has_more: page.has_more,
                            loading_more: false,
                            more_error: None,
                        });
                    }
                    Err(error) => {
                        if let api::Error::Unauthorized(_) = error {
                            chat.session_refused();
                        }
                        found.set(Found::Results {
                            items,
                            has_more,
                            loading_more: false,
                            more_error: Some(error.to_string()),
                        });
                    }
                }
            });
        })
    };

    let oninput = {
        let query = query.clone();
        Callback::from(move |e: InputEvent| {
            query.set(e.target_unchecked_into::<HtmlInputElement>().value());
        })
    };

    let onkeydown = {
        let (active, open_result, end_search) =
            (active.clone(), open_result.clone(), end_search.clone());
        let items = items.clone();
        Callback::from(move |e: KeyboardEvent| {
            if e.is_composing() {
                return;
            }
            let last = items.len().checked_sub(1);
            match e.key().as_str() {
                "ArrowDown" => {
                    e.prevent_default();
                    if let Some(last) = last {
                        active.set(Some(active.map_or(0, |i| (i + 1).min(last))));
                    }
                }
                "ArrowUp" => {
                    e.prevent_default();
                    if last.is_some() {
                        active.set(Some(active.map_or(0, |i| i.saturating_sub(1))));
                    }
                }
                "Enter" => {
                    e.prevent_default();
                    let index = active.unwrap_or(0);
                    if let Some(message) = items.get(index) {
                        open_result.emit(message.clone());
                    }
                }
                "Escape" => {
                    e.prevent_default();
                    end_search.emit(());
                }
                _ => {}
            }
        })
    };

    let state = chat.state();
    let me = state.me().map(|u| u.id);
    let now = local_now();
    let q = query.trim().to_owned();
    let scope_name = scope.and_then(|id| {
        state
            .rooms
            .get(&id)
            .map(|e| e.room.peer.display_name.clone())
    });

    let result = |(index, message): (usize, &Message)| {
        let peer = state
            .rooms
            .get(&message.room_id)
            .map(|e| e.room.peer.clone());
        let peer_name = peer
            .as_ref()
            .map_or_else(|| "Conversation".to_owned(), |p| p.display_name.clone());
        let mine = Some(message.sender_id) == me;
        let text = search::excerpt(&message.body, &q, LEAD_CHARS);
        let selected = *active == Some(index);
        let onclick = {
            let (open_result, message) = (open_result.clone(), message.clone());
            Callback::from(move |_| open_result.emit(message.clone()))
        };
        let at = local(message.created_at);
        html! {
            <li key={message.id.0} id={option_id(message)} role="option" aria-selected={selected.to_string()}
                class={classes!("search-hit", selected.then_some("active"))} data-index={index.to_string()}
                data-room={message.room_id.to_string()} data-seq={message.seq.to_string()} {onclick}>
                if let Some(peer) = peer {
                    <Avatar user={peer} small=true />
                }
                <span class="hit-main">
                    <span class="hit-top">
                        <span class="hit-peer">{ peer_name }</span>
                        <time class="hit-time" datetime={message.created_at.to_rfc3339()} title={full(at)}>
                            { relative(at, now) }
                        </time>
                    </span>
                    <span class="hit-text">
                        if mine { <span class="hit-who">{ "You: " }</span> }
                        { for segments(&text, &q).into_iter().map(|(piece, hit)| if hit {
                            html! { <mark>{ piece.to_owned() }</mark> }
                        } else {
                            html! { piece.to_owned() }
                        }) }
                    </span>
                </span>
            </li>
        }
    };

    let status_text = match &*found {
        Found::Idle if !q.is_empty() => "Type at least 2 characters to search.".to_owned(),
        Found::Idle => "Search the messages of your conversations.".to_owned(),
        Found::Loading => "Searching…".to_owned(),
        Found::Failed(_) => String::new(),
        Found::Results { items, .. } if items.is_empty() => format!("No messages match “{q}”."),
        Found::Results {
            items, has_more, ..
        } => format!(
            "{}{} {}",
            items.len(),
            if *has_more { "+" } else { "" },
            if items.len() == 1 {
                "result"
            } else {
                "results"
            }
        ),
    };

    let body = match &*found {
        Found::Failed(message) => {
            let retry = {
                let attempt = attempt.clone();
                Callback::from(move |_| attempt.set(attempt.wrapping_add(1)))
            };
            html! {
                <div class="search-state error" role="alert">
                    <p>{ format!("Search failed: {message}") }</p>
                    <button type="button" class="btn btn-sm btn-ghost" onclick={retry}>{ "Try again" }</button>
                </div>
            }
        }
        Found::Results {
            items,
            has_more,
            loading_more,
            more_error,
        } if !items.is_empty() => html! {
            <>
                <ul id="search-results" class="search-hits" role="listbox" aria-label="Messages found" ref={list.clone()}>
                    { for items.iter().enumerate().map(result) }
                </ul>
                if let Some(error) = more_error {
                    <p class="search-state error" role="alert">{ error.clone() }</p>
                }
                if *has_more {
                    <div class="search-more">
                        <button type="button" class="btn btn-sm btn-ghost" onclick={more}
                            aria-disabled={loading_more.then_some("true")}>
                            if *loading_more { <span class="spinner spinner-sm" aria-hidden="true"></span> }
                            { "More results" }
                        </button>
                    </div>
                }
            </>
        },
        _ => html! {},
    };

    let active_id = active.and_then(|i| items.get(i)).map(option_id);
    let clear = {
        let (end_search, focus_input) = (end_search.clone(), focus_input.clone());
        Callback::from(move |_| {
            end_search.emit(());
            focus_input();
        })
    };
    let clear_scope = {
        let (scope, focus_input) = (scope.clone(), focus_input.clone());
        Callback::from(move |_| {
            scope.set(None);
            focus_input();
        })
    };
    let placeholder = if scope_name.is_some() {
        "Search this conversation"
    } else {
        "Search messages (Ctrl+K)"
    };

    html! {
        <>
            <div class="message-search" role="search">
                <label class="search" for="message-search">
                    { icons::search() }
                    <span class="sr-only">{ "Search messages" }</span>
                    <input id="message-search" type="search" placeholder={placeholder}
                        autocomplete="off" spellcheck="false" value={(*query).clone()} ref={input}
                        role="combobox" aria-expanded={(!items.is_empty()).to_string()}
                        aria-controls="search-results" aria-autocomplete="list"
                        aria-activedescendant={active_id} aria-keyshortcuts="Control+K Meta+K"
                        aria-describedby="search-status" {oninput} {onkeydown} />
                    if open {
                        <button type="button" class="icon-btn search-clear" onclick={clear} aria-label="End search">
                            { icons::close() }
                        </button>
                    }
                </label>
                if let Some(name) = scope_name.clone() {
                    <div class="search-scope">
                        <span>{ "In the conversation with " }<strong>{ name }</strong></span>
                        <button type="button" class="link-btn" onclick={clear_scope}>{ "Search all" }</button>
                    </div>
                }
            </div>
            if open {
                <section class="search-panel" aria-label="Message search results">
                    <p id="search-status" class="search-note" role="status" aria-live="polite">{ status_text }</p>
                    { body }
                </section>
            } else {
                <span id="search-status" class="sr-only">{ "Ctrl+K focuses this field. Up and down arrows move through results, Enter opens one, Escape ends the search." }</span>
                { props.children.clone() }
            }
        </>
    }
}
