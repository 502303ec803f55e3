//! The reaction picker: eight frequent emoji at once, and the full list (from the `emojis`
//! crate, see `logic::emoji`), grouped and searchable by name, fetched and rendered only once
//! asked for (it is ~1,900 buttons). A popover next to what opened it on wide screens, a
//! bottom sheet on phones.

use crate::hooks::{use_chat, use_css_props};
use crate::logic::emoji::{Entry, FREQUENT};
use crate::services::platform::is_narrow;
use web_sys::{HtmlElement, HtmlInputElement};
use yew::prelude::*;

/// The popover's size on wide screens, to keep it inside the window.
const WIDTH: f64 = 340.0;
const HEIGHT: f64 = 380.0;
const MARGIN: f64 = 8.0;

/// Where the picker was opened from (the button's box, in viewport pixels).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Anchor {
    pub left: f64,
    pub top: f64,
    pub right: f64,
    pub bottom: f64,
}

#[derive(Properties, PartialEq)]
pub struct EmojiPickerProps {
    pub anchor: Anchor,
    pub on_pick: Callback<String>,
    pub on_close: Callback<()>,
}

/// Inline position of the popover: below the anchor when it fits, else above; inside the
/// window horizontally.
fn position(anchor: Anchor) -> Vec<(&'static str, String)> {
    let (w, h) = web_sys::window()
        .map(|w| {
            let get = |v: Result<wasm_bindgen::JsValue, _>| {
                v.ok().and_then(|v| v.as_f64()).unwrap_or(1024.0)
            };
            (get(w.inner_width()), get(w.inner_height()))
        })
        .unwrap_or((1024.0, 768.0));
    // Starting at the anchor's left edge when that fits, else ending at its right edge.
    let left = if anchor.left + WIDTH + MARGIN <= w {
        anchor.left
    } else {
        anchor.right - WIDTH
    };
    let left = left.min(w - WIDTH - MARGIN).max(MARGIN);
    let top = if anchor.bottom + MARGIN + HEIGHT <= h {
        anchor.bottom + MARGIN
    } else {
        (anchor.top - MARGIN - HEIGHT).max(MARGIN)
    };
    vec![("left", format!("{left}px")), ("top", format!("{top}px"))]
}

fn emoji_button(entry: &Entry, on_pick: &Callback<String>) -> Html {
    let on_pick = on_pick.clone();
    let value = entry.emoji.clone();
    html! {
        <button type="button" class="emoji-btn" title={entry.name.clone()} aria-label={entry.name.clone()}
            onclick={Callback::from(move |_| on_pick.emit(value.clone()))}>
            { entry.emoji.clone() }
        </button>
    }
}

#[component]
pub fn EmojiPicker(props: &EmojiPickerProps) -> Html {
    let chat = use_chat();
    let query = use_state(String::new);
    let expanded = use_state(|| false);
    let search_input = use_node_ref();
    let first = use_node_ref();
    let narrow = is_narrow();
    // Beside its button on wide screens; a sheet (placed by the stylesheet) on phones.
    let picker = use_node_ref();
    let placed = if narrow {
        vec![("left", String::new()), ("top", String::new())]
    } else {
        position(props.anchor)
    };
    use_css_props(&picker, placed);

    // Focus the search box on wide screens; on phones the first emoji (no keyboard popping).
    {
        let (search_input, first) = (search_input.clone(), first.clone());
        use_effect_with((), move |_| {
            let target = if narrow { &first } else { &search_input };
            if let Some(el) = target.cast::<HtmlElement>() {
                let _ = el.focus();
            }
        });
    }

    let on_backdrop = {
        let on_close = props.on_close.clone();
        Callback::from(move |e: MouseEvent| {
            if e.target() == e.current_target() {
                on_close.emit(());
            }
        })
    };
    let onkeydown = {
        let on_close = props.on_close.clone();
        Callback::from(move |e: KeyboardEvent| {
            if e.key() == "Escape" {
                e.prevent_default();
                e.stop_propagation();
                on_close.emit(());
            }
        })
    };
    let oninput = {
        let (query, expanded) = (query.clone(), expanded.clone());
        Callback::from(move |e: InputEvent| {
            let value = e.target_unchecked_into::<HtmlInputElement>().value();
            if !value.trim().is_empty() {
                expanded.set(true);
            }
            query.set(value);
        })
    };
    // The full list is fetched once, the first time it is asked for.
    {
        let chat = chat.clone();
        use_effect_with(*expanded, move |expanded| {
            if *expanded {
                chat.load_emoji();
            }
        });
    }
    let on_more = {
        let expanded = expanded.clone();
        Callback::from(move |_| expanded.set(true))
    };
    let list = chat.state().emoji.clone();

    let on_pick = &props.on_pick;
    let frequent = FREQUENT.iter().enumerate().map(|(i, (value, name))| {
        let on_pick = on_pick.clone();
        let (value, name) = (*value, *name);
        html! {
            <button type="button" class="emoji-btn" title={name} aria-label={name}
                ref={if i == 0 { first.clone() } else { NodeRef::default() }}
                onclick={Callback::from(move |_| on_pick.emit(value.to_owned()))}>
                { value }
            </button>
        }
    });

    let full = if !*expanded {
        html! {
            <button type="button" class="btn btn-ghost btn-sm picker-more" onclick={on_more}>
                { "All emoji…" }
            </button>
        }
    } else if list.is_none() {
        html! {
            <div class="picker-full picker-loading" role="status">
                <span class="spinner spinner-sm" aria-hidden="true"></span>{ "Loading emoji…" }
            </div>
        }
    } else if let (Some(list), true) = (&list, query.trim().is_empty()) {
        html! {
            <div class="picker-full">
                { for list.groups.iter().map(|(group, entries)| html! {
                    <section class="picker-group" aria-label={group.clone()}>
                        <h3>{ group.clone() }</h3>
                        <div class="emoji-grid">{ for entries.iter().map(|e| emoji_button(e, on_pick)) }</div>
                    </section>
                }) }
            </div>
        }
    } else {
        let found = list.as_ref().map(|l| l.search(&query)).unwrap_or_default();
        html! {
            <div class="picker-full">
                if found.is_empty() {
                    <p class="picker-none" role="status">{ format!("No emoji match “{}”.", query.trim()) }</p>
                } else {
                    <div class="emoji-grid" aria-label="Search results">
                        { for found.into_iter().map(|e| emoji_button(e, on_pick)) }
                    </div>
                }
            </div>
        }
    };

    html! {
        <div class={classes!("picker-backdrop", narrow.then_some("sheet"))} onclick={on_backdrop} {onkeydown}>
            <div class={classes!("picker", (*expanded).then_some("expanded"))} role="dialog" aria-label="Add a reaction" ref={picker}>
                <div class="picker-frequent" role="group" aria-label="Frequently used">{ for frequent }</div>
                <label class="search picker-search">
                    <span class="sr-only">{ "Search emoji by name" }</span>
                    <input ref={search_input} type="search" placeholder="Search emoji" value={(*query).clone()} {oninput} />
                </label>
                { full }
            </div>
        </div>
    }
}
