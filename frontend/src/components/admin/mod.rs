//! The administration section (`/admin`, admins only): users, conversations, one
//! conversation read-only, the audit log. Pure rules in [`model`]; I/O in
//! `services::admin`; the page and its sub-routes in `pages::admin`.

pub mod audit;
pub mod confirm;
pub mod conversation;
pub mod model;
pub mod rooms;
pub mod users;

use crate::hooks::use_chat;
use crate::router::use_navigator;
use crate::services::api;
use model::{Column, Sort};
use yew::prelude::*;

/// A section's data as the screen sees it.
#[derive(Debug, Clone, PartialEq)]
pub enum Load<T> {
    Loading,
    Ready(T),
    Failed(api::Error),
}

impl<T> Load<T> {
    pub fn from_result(result: Result<T, api::Error>) -> Self {
        match result {
            Ok(value) => Load::Ready(value),
            Err(error) => Load::Failed(error),
        }
    }
}

/// What an API error means to an administrator, in one sentence.
pub fn explain(error: &api::Error) -> String {
    match error {
        api::Error::Api { status: 403, .. } => {
            "You are not authorised to do this: the account is not an administrator (any more)."
                .to_owned()
        }
        other => other.to_string(),
    }
}

/// Ends the local session when the server no longer knows it (401), like the chat does.
#[hook]
pub fn use_on_unauthorized() -> Callback<api::Error> {
    let chat = use_chat();
    Callback::from(move |error: api::Error| {
        if matches!(error, api::Error::Unauthorized(_)) {
            chat.session_refused();
        }
    })
}

fn svg(path: &'static str) -> Html {
    html! {
        <svg class="icon" viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" focusable="false"
            fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round">
            <path d={path} />
        </svg>
    }
}

pub fn shield_icon() -> Html {
    svg("M12 22s8-4 8-10V5l-8-3-8 3v7c0 6 8 10 8 10z")
}

pub fn trash_icon() -> Html {
    svg("M3 6h18M8 6V4a2 2 0 0 1 2-2h4a2 2 0 0 1 2 2v2M19 6l-1 14a2 2 0 0 1-2 2H8a2 2 0 0 1-2-2L5 6M10 11v6M14 11v6")
}

pub fn refresh_icon() -> Html {
    svg("M21 12a9 9 0 1 1-3-6.7L21 8M21 3v5h-5")
}

#[derive(Properties, PartialEq)]
pub struct NavLinkProps {
    /// The path (`Route::….to_path()`): one component for the app's and the section's routes.
    pub to: AttrValue,
    #[prop_or_default]
    pub classes: Classes,
    /// Tooltip and accessible name (for icon-only links).
    #[prop_or_default]
    pub label: Option<AttrValue>,
    /// Marks the link as the current page (`aria-current="page"`).
    #[prop_or_default]
    pub current: bool,
    #[prop_or_default]
    pub children: Html,
}

/// A router link that, unlike `Link`, can carry `aria-current`, a title and an accessible name.
#[component]
pub fn NavLink(props: &NavLinkProps) -> Html {
    let navigator = use_navigator();
    let onclick = {
        let to = props.to.clone();
        Callback::from(move |e: MouseEvent| {
            // Modified clicks open a new tab or window, as on any link.
            if e.meta_key() || e.ctrl_key() || e.shift_key() || e.alt_key() {
                return;
            }
            if let Some(navigator) = &navigator {
                e.prevent_default();
                navigator.push_path(&to);
            }
        })
    };
    html! {
        <a href={props.to.clone()} class={props.classes.clone()} {onclick}
            title={props.label.clone()} aria-label={props.label.clone()}
            aria-current={props.current.then_some("page")}>
            { props.children.clone() }
        </a>
    }
}

/// A column header that sorts its table on click (Enter or Space with the keyboard too).
pub fn sort_header<C: Column + 'static>(
    column: C,
    sort: Sort<C>,
    on_sort: &Callback<C>,
    numeric: bool,
) -> Html {
    let onclick = on_sort.reform(move |_: MouseEvent| column);
    let aria = sort.aria(column);
    let arrow = match aria {
        "ascending" => "↑",
        "descending" => "↓",
        _ => "↕",
    };
    html! {
        <th scope="col" aria-sort={(aria != "none").then_some(aria)}
            class={classes!(numeric.then_some("num"))}>
            <button type="button" class={classes!("sort-btn", (aria != "none").then_some("sorted"))} {onclick}>
                { column.label() }
                <span class="sort-arrow" aria-hidden="true">{ arrow }</span>
            </button>
        </th>
    }
}

// The small pieces below are plain functions, not components: they hold no state, and
// every component type costs the bundle several kilobytes of generic Yew code.

/// A labelled search field that filters as you type (Escape clears it).
pub fn search_box(
    label: &'static str,
    placeholder: &'static str,
    value: &str,
    on_input: &Callback<String>,
) -> Html {
    let oninput = on_input.reform(|e: InputEvent| {
        e.target_unchecked_into::<web_sys::HtmlInputElement>()
            .value()
    });
    let onkeydown = {
        let on_input = on_input.clone();
        Callback::from(move |e: KeyboardEvent| {
            if e.key() == "Escape" {
                on_input.emit(String::new());
            }
        })
    };
    html! {
        <label class="search admin-search">
            { crate::components::icons::search() }
            <span class="sr-only">{ label }</span>
            <input type="search" {placeholder} value={value.to_owned()}
                {oninput} {onkeydown} autocomplete="off" spellcheck="false" />
        </label>
    }
}

pub fn refresh_button(on_click: &Callback<()>, busy: bool) -> Html {
    let onclick = on_click.reform(|_: MouseEvent| ());
    html! {
        <button type="button" class={classes!("btn", "btn-ghost", "btn-sm", busy.then_some("spinning"))}
            {onclick} disabled={busy}>
            { refresh_icon() }{ "Refresh" }
        </button>
    }
}

/// A failed load ("Could not load the users."), explained, with a retry.
pub fn load_failed(what: &'static str, error: &api::Error, on_retry: &Callback<()>) -> Html {
    let onclick = on_retry.reform(|_: MouseEvent| ());
    html! {
        <div class="admin-alert" role="alert">
            { crate::components::icons::alert() }
            <div class="admin-alert-text">
                <strong>{ what }</strong>
                <span>{ explain(error) }</span>
            </div>
            <button type="button" class="btn btn-ghost btn-sm" {onclick}>{ "Try again" }</button>
        </div>
    }
}

/// A spinner while a section loads.
pub fn loading(what: &'static str) -> Html {
    html! {
        <div class="admin-empty" role="status">
            <div class="spinner" aria-hidden="true"></div>
            <p>{ what }</p>
        </div>
    }
}
