//! Settings: display name, password, where you are signed in, the people you blocked, your
//! data, and what administrators of this server can read.

use crate::app::Route;
use crate::components::avatar::Avatar;
use crate::components::icons;
use crate::hooks::use_chat;
use crate::logic::text::device_name;
use crate::logic::time::{full, relative};
use crate::router::Link;
use crate::services::api;
use crate::services::chat::{refresh_rooms, Chat};
use crate::services::platform::{document, local, local_now};
use crate::services::prefs::{self, Theme};
use crate::state::Action;
use shared::validation::{DISPLAY_NAME_MAX_CHARS, PASSWORD_MIN_CHARS};
use shared::{SessionInfo, User};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::spawn_local;
use web_sys::HtmlInputElement;
use yew::prelude::*;

/// Said in settings, plainly: the product keeps every conversation readable to administrators.
pub const ADMINS_READ_EVERYTHING: &str = "Administrators of this server can read every conversation, including edited and deleted messages.";

/// A form's outcome, shown under it.
#[derive(Debug, Clone, PartialEq, Default)]
enum Outcome {
    #[default]
    None,
    Busy,
    Done(String),
    Failed(String),
}

impl Outcome {
    fn busy(&self) -> bool {
        matches!(self, Outcome::Busy)
    }

    fn view(&self) -> Html {
        match self {
            Outcome::Done(text) => html! { <p class="form-ok" role="status">{ text.clone() }</p> },
            Outcome::Failed(text) => {
                html! { <p class="form-error" role="alert">{ text.clone() }</p> }
            }
            _ => html! {},
        }
    }
}

fn value(e: InputEvent) -> String {
    e.target_unchecked_into::<HtmlInputElement>().value()
}

/// A 401 ends the session; other errors are for the form to show.
fn failed(chat: &Chat, error: api::Error) -> Outcome {
    if let api::Error::Unauthorized(_) = error {
        chat.session_refused();
    }
    Outcome::Failed(error.to_string())
}

/// The page's state, made by its one component (each Yew component costs code in the `.wasm`,
/// so the sections are plain functions of these handles, not components of their own).
#[derive(Clone)]
struct Hooks {
    chat: Chat,
    name: UseStateHandle<String>,
    profile: UseStateHandle<Outcome>,
    current: UseStateHandle<String>,
    new: UseStateHandle<String>,
    password: UseStateHandle<Outcome>,
    sessions: UseStateHandle<Loaded<Vec<SessionInfo>>>,
    sessions_outcome: UseStateHandle<Outcome>,
    blocks: UseStateHandle<Loaded<Vec<User>>>,
    blocks_outcome: UseStateHandle<Outcome>,
    data: UseStateHandle<Outcome>,
    theme: UseStateHandle<Theme>,
}

#[component]
pub fn SettingsPage() -> Html {
    let chat = use_chat();
    let me = chat.state().me().cloned();
    let h = Hooks {
        chat: chat.clone(),
        name: use_state(|| {
            me.as_ref()
                .map(|m| m.display_name.clone())
                .unwrap_or_default()
        }),
        profile: use_state(Outcome::default),
        current: use_state(String::new),
        new: use_state(String::new),
        password: use_state(Outcome::default),
        sessions: use_state(|| Loaded::Loading),
        sessions_outcome: use_state(Outcome::default),
        blocks: use_state(|| Loaded::Loading),
        blocks_outcome: use_state(Outcome::default),
        data: use_state(Outcome::default),
        theme: use_state(prefs::theme),
    };
    {
        let h = h.clone();
        use_effect_with((), move |_| {
            load_sessions(&h);
            load_blocks(&h);
        });
    }
    let Some(me) = me else {
        return html! {};
    };
    html! {
        <div class="settings-page">
            <header class="settings-head">
                <Link to={Route::Home} classes="icon-btn">
                    { icons::back() }<span class="sr-only">{ "Back to conversations" }</span>
                </Link>
                <h1>{ "Settings" }</h1>
            </header>
            <main class="settings">
                <section class="card notice-card" aria-labelledby="privacy-title">
                    <h2 id="privacy-title">{ "Who can read your messages" }</h2>
                    <p>{ ADMINS_READ_EVERYTHING }</p>
                </section>
                { profile(&h, &me) }
                { appearance(&h) }
                { password(&h) }
                { sessions(&h) }
                { blocks(&h) }
                { your_data(&h) }
            </main>
        </div>
    }
}

fn profile(h: &Hooks, me: &User) -> Html {
    let (chat, name, outcome) = (&h.chat, &h.name, &h.profile);
    let onsubmit = {
        let (chat, name, outcome) = (chat.clone(), name.clone(), outcome.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if outcome.busy() {
                return;
            }
            outcome.set(Outcome::Busy);
            let (chat, name, outcome) = (chat.clone(), name.clone(), outcome.clone());
            spawn_local(async move {
                match api::update_me(name.trim()).await {
                    Ok(user) => {
                        name.set(user.display_name.clone());
                        chat.dispatch(Action::UserChanged(user));
                        outcome.set(Outcome::Done("Your name is saved.".to_owned()));
                    }
                    Err(error) => outcome.set(failed(&chat, error)),
                }
            });
        })
    };
    let oninput = {
        let name = name.clone();
        Callback::from(move |e| name.set(value(e)))
    };
    html! {
        <section class="card" aria-labelledby="profile-title">
            <h2 id="profile-title">{ "Profile" }</h2>
            <div class="profile-who">
                <Avatar user={me.clone()} />
                <span>{ format!("@{}", me.username) }</span>
            </div>
            <form {onsubmit}>
                <div class="field">
                    <label for="display-name">{ "Display name" }</label>
                    <input id="display-name" type="text" value={(**name).clone()} {oninput}
                        maxlength={DISPLAY_NAME_MAX_CHARS.to_string()} autocomplete="nickname" required=true />
                    <p class="field-hint">{ "The name people see in their conversations with you." }</p>
                </div>
                { outcome.view() }
                <button type="submit" class="btn btn-primary" aria-disabled={outcome.busy().then_some("true")}>
                    { "Save name" }
                </button>
            </form>
        </section>
    }
}

/// Theme: System follows the device (`prefers-color-scheme`); the choice is this browser's.
fn appearance(h: &Hooks) -> Html {
    let option = |theme: Theme| {
        let state = h.theme.clone();
        let onchange = Callback::from(move |_: Event| {
            prefs::set_theme(theme);
            state.set(theme);
        });
        let id = theme.id();
        html! {
            <label class="choice" for={id}>
                <input type="radio" name="theme" id={id} checked={*h.theme == theme} {onchange} />
                { theme.label() }
            </label>
        }
    };
    html! {
        <section class="card" aria-labelledby="theme-title">
            <h2 id="theme-title">{ "Theme" }</h2>
            <div class="choices" role="radiogroup" aria-labelledby="theme-title">
                { for Theme::ALL.into_iter().map(option) }
            </div>
            <p class="muted-text">{ "System follows your device’s light or dark setting. Kept in this browser." }</p>
        </section>
    }
}

fn password(h: &Hooks) -> Html {
    let (chat, current, new, outcome) = (&h.chat, &h.current, &h.new, &h.password);
    let onsubmit = {
        let (chat, current, new, outcome) =
            (chat.clone(), current.clone(), new.clone(), outcome.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if outcome.busy() {
                return;
            }
            if new.chars().count() < PASSWORD_MIN_CHARS {
                outcome.set(Outcome::Failed(format!(
                    "The new password needs at least {PASSWORD_MIN_CHARS} characters."
                )));
                return;
            }
            outcome.set(Outcome::Busy);
            let (chat, current, new, outcome) =
                (chat.clone(), current.clone(), new.clone(), outcome.clone());
            spawn_local(async move {
                match api::change_password(&current, &new).await {
                    Ok(()) => {
                        current.set(String::new());
                        new.set(String::new());
                        outcome.set(Outcome::Done(
                            "Password changed. You were signed out everywhere else.".to_owned(),
                        ));
                    }
                    Err(api::Error::Api { status: 403, .. }) => outcome.set(Outcome::Failed(
                        "Your current password is not right.".to_owned(),
                    )),
                    Err(error) => outcome.set(failed(&chat, error)),
                }
            });
        })
    };
    let on_current = {
        let current = current.clone();
        Callback::from(move |e| current.set(value(e)))
    };
    let on_new = {
        let new = new.clone();
        Callback::from(move |e| new.set(value(e)))
    };
    html! {
        <section class="card" aria-labelledby="password-title">
            <h2 id="password-title">{ "Password" }</h2>
            <form {onsubmit}>
                <div class="field">
                    <label for="current-password">{ "Current password" }</label>
                    <input id="current-password" type="password" value={(**current).clone()} oninput={on_current}
                        autocomplete="current-password" required=true />
                </div>
                <div class="field">
                    <label for="new-password">{ "New password" }</label>
                    <input id="new-password" type="password" value={(**new).clone()} oninput={on_new}
                        autocomplete="new-password" required=true aria-describedby="new-password-hint" />
                    <p id="new-password-hint" class="field-hint">
                        { format!("At least {PASSWORD_MIN_CHARS} characters. Changing it signs you out on every other device.") }
                    </p>
                </div>
                { outcome.view() }
                <button type="submit" class="btn btn-primary" aria-disabled={outcome.busy().then_some("true")}>
                    { "Change password" }
                </button>
            </form>
        </section>
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Loaded<T> {
    Loading,
    Failed(String),
    Ready(T),
}

fn load_sessions(h: &Hooks) {
    let (chat, sessions) = (h.chat.clone(), h.sessions.clone());
    spawn_local(async move {
        sessions.set(match api::sessions().await {
            Ok(list) => Loaded::Ready(list),
            Err(error) => {
                if let api::Error::Unauthorized(_) = error {
                    chat.session_refused();
                }
                Loaded::Failed(error.to_string())
            }
        });
    });
}

fn load_blocks(h: &Hooks) {
    let (chat, blocks) = (h.chat.clone(), h.blocks.clone());
    spawn_local(async move {
        blocks.set(match api::blocks().await {
            Ok(list) => Loaded::Ready(list),
            Err(error) => {
                if let api::Error::Unauthorized(_) = error {
                    chat.session_refused();
                }
                Loaded::Failed(error.to_string())
            }
        });
    });
}

fn sessions(h: &Hooks) -> Html {
    let (chat, sessions, outcome) = (&h.chat, &h.sessions, &h.sessions_outcome);
    let reload = {
        let h = h.clone();
        Callback::from(move |_: ()| load_sessions(&h))
    };
    let end = {
        let (chat, outcome, reload) = (chat.clone(), outcome.clone(), reload.clone());
        Callback::from(move |id: Option<i64>| {
            outcome.set(Outcome::Busy);
            let (chat, outcome, reload) = (chat.clone(), outcome.clone(), reload.clone());
            spawn_local(async move {
                match api::end_sessions(id).await {
                    Ok(()) => {
                        outcome.set(Outcome::Done(
                            if id.is_some() {
                                "That session is signed out."
                            } else {
                                "Every other session is signed out."
                            }
                            .to_owned(),
                        ));
                        reload.emit(());
                    }
                    Err(error) => outcome.set(failed(&chat, error)),
                }
            });
        })
    };
    let now = local_now();
    let list = match &**sessions {
        Loaded::Loading => {
            html! { <p class="muted-text" role="status">{ "Loading sessions…" }</p> }
        }
        Loaded::Failed(error) => html! { <p class="form-error" role="alert">{ error.clone() }</p> },
        Loaded::Ready(list) => {
            let others = list.iter().any(|s| !s.current);
            html! {
                <>
                    <ul class="settings-list" aria-label="Sessions">
                        { for list.iter().map(|s| {
                            let onclick = if s.current {
                                let chat = chat.clone();
                                Callback::from(move |_: MouseEvent| chat.sign_out())
                            } else {
                                let (end, id) = (end.clone(), s.id);
                                Callback::from(move |_: MouseEvent| end.emit(Some(id)))
                            };
                            let used = local(s.last_used_at);
                            html! {
                                <li key={s.id} class={classes!("session", s.current.then_some("current"))}>
                                    <span class="list-main">
                                        <span class="list-title">
                                            { device_name(&s.user_agent) }
                                            if s.current { <span class="tag">{ "This device" }</span> }
                                        </span>
                                        <span class="list-sub">
                                            { "Last active " }
                                            <time datetime={s.last_used_at.to_rfc3339()} title={full(used)}>{ relative(used, now) }</time>
                                            { format!(" · signed in {}", full(local(s.created_at))) }
                                        </span>
                                    </span>
                                    <button type="button" class="btn btn-sm btn-ghost" {onclick}
                                        aria-label={if s.current { "Sign out on this device".to_owned() } else { format!("Sign out {}", device_name(&s.user_agent)) }}>
                                        { "Sign out" }
                                    </button>
                                </li>
                            }
                        }) }
                    </ul>
                    if others {
                        <button type="button" class="btn btn-sm btn-danger-soft"
                            onclick={let end = end.clone(); Callback::from(move |_| end.emit(None))}
                            aria-disabled={outcome.busy().then_some("true")}>
                            { "Sign out all other sessions" }
                        </button>
                    }
                </>
            }
        }
    };
    html! {
        <section class="card" aria-labelledby="sessions-title">
            <h2 id="sessions-title">{ "Where you are signed in" }</h2>
            { list }
            { outcome.view() }
        </section>
    }
}

fn blocks(h: &Hooks) -> Html {
    let (chat, blocks, outcome) = (&h.chat, &h.blocks, &h.blocks_outcome);
    let reload = {
        let h = h.clone();
        Callback::from(move |_: ()| load_blocks(&h))
    };
    let unblock = {
        let (chat, outcome, reload) = (chat.clone(), outcome.clone(), reload.clone());
        Callback::from(move |user: User| {
            outcome.set(Outcome::Busy);
            let (chat, outcome, reload) = (chat.clone(), outcome.clone(), reload.clone());
            spawn_local(async move {
                match api::block(user.id, false).await {
                    Ok(()) => {
                        outcome.set(Outcome::Done(format!(
                            "{} is unblocked.",
                            user.display_name
                        )));
                        reload.emit(());
                        // The rooms' `blocked` flags changed.
                        refresh_rooms(chat).await;
                    }
                    Err(error) => outcome.set(failed(&chat, error)),
                }
            });
        })
    };
    let list = match &**blocks {
        Loaded::Loading => html! { <p class="muted-text" role="status">{ "Loading…" }</p> },
        Loaded::Failed(error) => html! { <p class="form-error" role="alert">{ error.clone() }</p> },
        Loaded::Ready(list) if list.is_empty() => {
            html! { <p class="muted-text">{ "You have not blocked anyone." }</p> }
        }
        Loaded::Ready(list) => html! {
            <ul class="settings-list" aria-label="Blocked people">
                { for list.iter().map(|user| {
                    let onclick = {
                        let (unblock, user) = (unblock.clone(), user.clone());
                        Callback::from(move |_: MouseEvent| unblock.emit(user.clone()))
                    };
                    html! {
                        <li key={user.id.0}>
                            <Avatar user={user.clone()} small=true />
                            <span class="list-main">
                                <span class="list-title">{ user.display_name.clone() }</span>
                                <span class="list-sub">{ format!("@{}", user.username) }</span>
                            </span>
                            <button type="button" class="btn btn-sm btn-ghost" {onclick}
                                aria-label={format!("Unblock {}", user.display_name)}>{ "Unblock" }</button>
                        </li>
                    }
                }) }
            </ul>
        },
    };
    html! {
        <section class="card" aria-labelledby="blocks-title">
            <h2 id="blocks-title">{ "Blocked people" }</h2>
            { list }
            { outcome.view() }
        </section>
    }
}

/// Saves bytes as a file through a temporary object URL.
fn save_file(bytes: &[u8], name: &str) -> bool {
    let array = js_sys::Uint8Array::from(bytes);
    let parts = js_sys::Array::of1(&array);
    let options = web_sys::BlobPropertyBag::new();
    options.set_type("application/json");
    let Ok(blob) = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &options) else {
        return false;
    };
    let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) else {
        return false;
    };
    let saved = document()
        .and_then(|d| d.create_element("a").ok())
        .and_then(|a| a.dyn_into::<web_sys::HtmlAnchorElement>().ok())
        .map(|a| {
            a.set_href(&url);
            a.set_download(name);
            a.click();
        })
        .is_some();
    let _ = web_sys::Url::revoke_object_url(&url);
    saved
}

fn your_data(h: &Hooks) -> Html {
    let (chat, outcome) = (&h.chat, &h.data);
    let onclick = {
        let (chat, outcome) = (chat.clone(), outcome.clone());
        Callback::from(move |_: MouseEvent| {
            if outcome.busy() {
                return;
            }
            outcome.set(Outcome::Busy);
            let (chat, outcome) = (chat.clone(), outcome.clone());
            spawn_local(async move {
                match api::export().await {
                    Ok(bytes) if save_file(&bytes, "chat-export.json") => outcome.set(
                        Outcome::Done("Your data is downloaded (chat-export.json).".to_owned()),
                    ),
                    Ok(_) => outcome.set(Outcome::Failed(
                        "The browser could not save the file.".to_owned(),
                    )),
                    Err(error) => outcome.set(failed(&chat, error)),
                }
            });
        })
    };
    html! {
        <section class="card" aria-labelledby="data-title">
            <h2 id="data-title">{ "Your data" }</h2>
            <p class="muted-text">{ "Every message of your conversations, as one JSON file." }</p>
            <button type="button" class="btn btn-ghost" {onclick} aria-disabled={outcome.busy().then_some("true")}>
                if outcome.busy() { <span class="spinner spinner-sm" aria-hidden="true"></span> }
                { "Download my data" }
            </button>
            { outcome.view() }
        </section>
    }
}
