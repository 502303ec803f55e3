use crate::app::Route;
use crate::components::avatar::Avatar;
use crate::components::icons;
use crate::hooks::use_chat;
use crate::router::use_navigator;
use crate::services::api;
use gloo_timers::callback::Timeout;
use shared::User;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::spawn_local;
use web_sys::{Element, HtmlElement, HtmlInputElement, KeyboardEvent};
use yew::prelude::*;

/// Searching waits for a pause in typing this long.
const DEBOUNCE_MS: u32 = 250;

#[derive(Debug, Clone, PartialEq)]
enum Results {
    Idle,
    Searching,
    Found(Vec<User>),
    Failed(String),
}

/// Focuses the `index`-th result button; false when there is none.
fn focus_result(people_list: &NodeRef, index: usize) -> bool {
    people_list
        .cast::<Element>()
        .and_then(|list| {
            list.query_selector(&format!("[data-index=\"{index}\"]"))
                .ok()
                .flatten()
        })
        .and_then(|button| button.dyn_into::<HtmlElement>().ok())
        .map(|button| button.focus().is_ok())
        .unwrap_or(false)
}

/// "New conversation": find people by name, open (or create) the room with one of them.
#[component]
pub fn NewConversation() -> Html {
    let chat = use_chat();
    let navigator = use_navigator();
    let query = use_state(String::new);
    let results = use_state(|| Results::Idle);
    let debounce = use_mut_ref(|| None::<Timeout>);
    // Answers to older queries must not overwrite newer ones.
    let generation = use_mut_ref(|| 0u32);
    let me = chat.state().me().map(|u| u.id);
    let input = use_node_ref();
    let people_list = use_node_ref();

    let oninput = {
        let (query, results, debounce, generation) = (
            query.clone(),
            results.clone(),
            debounce.clone(),
            generation.clone(),
        );
        Callback::from(move |e: InputEvent| {
            let value = e.target_unchecked_into::<HtmlInputElement>().value();
            query.set(value.clone());
            let prefix = value.trim().to_ascii_lowercase();
            *generation.borrow_mut() += 1;
            let current = *generation.borrow();
            if prefix.is_empty() {
                debounce.borrow_mut().take();
                results.set(Results::Idle);
                return;
            }
            results.set(Results::Searching);
            let (results, generation) = (results.clone(), generation.clone());
            let timer = Timeout::new(DEBOUNCE_MS, move || {
                spawn_local(async move {
                    let answer = api::search_users(&prefix).await;
                    if *generation.borrow() != current {
                        return;
                    }
                    results.set(match answer {
                        Ok(users) => Results::Found(users),
                        Err(error) => Results::Failed(error.to_string()),
                    });
                });
            });
            *debounce.borrow_mut() = Some(timer);
        })
    };

    let open = {
        let (chat, query, results) = (chat.clone(), query.clone(), results.clone());
        Callback::from(move |user: User| {
            let (chat, navigator, query, results) = (
                chat.clone(),
                navigator.clone(),
                query.clone(),
                results.clone(),
            );
            spawn_local(async move {
                match chat.start_conversation(&user.username).await {
                    Ok(room) => {
                        query.set(String::new());
                        results.set(Results::Idle);
                        if let Some(nav) = navigator {
                            nav.push(&Route::Room { id: room.id.0 });
                        }
                    }
                    Err(error) => chat.failed(&error),
                }
            });
        })
    };

    let people: Vec<User> = match &*results {
        Results::Found(users) => users.iter().filter(|u| Some(u.id) != me).cloned().collect(),
        _ => Vec::new(),
    };

    let clear = {
        let (query, results) = (query.clone(), results.clone());
        move || {
            query.set(String::new());
            results.set(Results::Idle);
        }
    };

    // In the field: Enter opens the first person, ↓ moves into the list, Escape clears.
    let onkeydown = {
        let (open, people_list, clear, first) = (
            open.clone(),
            people_list.clone(),
            clear.clone(),
            people.first().cloned(),
        );
        Callback::from(move |e: KeyboardEvent| match e.key().as_str() {
            "Enter" => {
                e.prevent_default();
                if let Some(user) = first.clone() {
                    open.emit(user);
                }
            }
            "ArrowDown" if focus_result(&people_list, 0) => e.prevent_default(),
            "Escape" => clear(),
            _ => {}
        })
    };

    // In the list: ↑/↓ move between people (↑ from the first returns to the field), Escape
    // clears and returns to the field; Enter and Space are the buttons' own.
    let on_list_keydown = {
        let (input, people_list) = (input.clone(), people_list.clone());
        Callback::from(move |e: KeyboardEvent| {
            let Some(current) = e
                .target_dyn_into::<Element>()
                .and_then(|el| el.get_attribute("data-index"))
                .and_then(|i| i.parse::<usize>().ok())
            else {
                return;
            };
            let focus_input = || {
                if let Some(field) = input.cast::<HtmlInputElement>() {
                    let _ = field.focus();
                }
            };
            match e.key().as_str() {
                "ArrowDown" => {
                    e.prevent_default();
                    focus_result(&people_list, current + 1);
                }
                "ArrowUp" => {
                    e.prevent_default();
                    if current == 0 {
                        focus_input();
                    } else {
                        focus_result(&people_list, current - 1);
                    }
                }
                "Escape" => {
                    focus_input();
                    clear();
                }
                _ => {}
            }
        })
    };

    let list = match &*results {
        Results::Idle => html! {},
        Results::Searching => html! { <p class="search-note" role="status">{ "Searching…" }</p> },
        Results::Failed(message) => {
            html! { <p class="search-note error" role="alert">{ message.clone() }</p> }
        }
        Results::Found(_) if people.is_empty() => html! {
            <p class="search-note" role="status">{ "No one found by that name." }</p>
        },
        Results::Found(_) => html! {
            <ul class="search-results" aria-label="People" ref={people_list.clone()} onkeydown={on_list_keydown}>
                { for people.iter().enumerate().map(|(index, user)| {
                    let onclick = {
                        let (open, user) = (open.clone(), user.clone());
                        Callback::from(move |_| open.emit(user.clone()))
                    };
                    html! {
                        <li key={user.id.0}>
                            <button type="button" class="person" data-index={index.to_string()} {onclick}>
                                <Avatar user={user.clone()} small=true />
                                <span class="person-name">{ user.display_name.clone() }</span>
                                <span class="person-handle">{ format!("@{}", user.username) }</span>
                            </button>
                        </li>
                    }
                }) }
            </ul>
        },
    };

    html! {
        <div class="new-conversation">
            <label class="search" for="people-search">
                { icons::search() }
                <span class="sr-only">{ "New conversation: find people" }</span>
                <input id="people-search" type="search" placeholder="New conversation — find people"
                    autocomplete="off" spellcheck="false" value={(*query).clone()} ref={input} {oninput} {onkeydown} />
            </label>
            { list }
        </div>
    }
}
