//! The messages of one room: day separators, grouped bubbles, delivery state, "seen", the
//! typing indicator. Owns the scrolling rules: stay at the bottom when already there, keep
//! the view still when older pages are prepended, and offer a "new messages" button otherwise.

use crate::components::icons;
use crate::components::message_text::MessageText;
use crate::hooks::use_chat;
use crate::logic::layout::layout;
use crate::logic::time::{clock, day_label, full};
use crate::logic::timeline::Delivery;
use crate::services::chat::today;
use crate::services::platform::local;
use chrono::{DateTime, Utc};
use gloo_events::EventListener;
use shared::{RoomId, UserId};
use web_sys::Element;
use yew::prelude::*;

/// Within this many pixels of the end counts as "at the bottom".
const BOTTOM_SLACK: i32 = 48;
/// Older history is fetched when scrolled this close to the top.
const TOP_PREFETCH: i32 = 240;

#[derive(Properties, PartialEq)]
pub struct MessageListProps {
    pub room_id: RoomId,
}

/// What the scroll logic remembers between renders.
#[derive(Default)]
struct ScrollMemo {
    room: Option<RoomId>,
    first_key: Option<String>,
    last_key: Option<String>,
    height: i32,
    top: i32,
    at_bottom: bool,
}

/// One row to render: a confirmed message or one of ours on its way.
struct Row<'a> {
    key: String,
    sender: UserId,
    body: &'a str,
    at: DateTime<Utc>,
    seq: Option<i64>,
    delivery: Option<Delivery>,
    client_id: &'a str,
    /// Replaced by an administrator's tombstone.
    deleted: bool,
}

#[component]
pub fn MessageList(props: &MessageListProps) -> Html {
    let chat = use_chat();
    let room_id = props.room_id;
    let node = use_node_ref();
    let memo = use_mut_ref(ScrollMemo::default);
    let at_bottom = use_state_eq(|| true);
    let new_below = use_state_eq(|| false);

    let state = chat.state();
    let me = state.me().map(|u| u.id).unwrap_or_default();
    let entry = state.rooms.get(&room_id);
    let timeline = entry.map(|e| &e.timeline);
    let loaded = timeline.is_some_and(|t| t.loaded);
    let has_older = timeline.is_some_and(|t| t.has_older);
    let loading_older = timeline.is_some_and(|t| t.loading_older);

    let rows: Vec<Row> = timeline
        .map(|t| {
            let confirmed = t.messages().iter().map(|m| Row {
                key: if m.sender_id == me {
                    format!("c:{}", m.client_id)
                } else {
                    format!("s:{}", m.seq)
                },
                sender: m.sender_id,
                body: &m.body,
                at: m.created_at,
                seq: Some(m.seq),
                delivery: None,
                client_id: &m.client_id,
                deleted: m.deleted,
            });
            let outgoing = t.outgoing().iter().map(|o| Row {
                key: format!("c:{}", o.client_id),
                sender: me,
                body: &o.body,
                at: o.created_at,
                seq: None,
                delivery: Some(o.delivery),
                client_id: &o.client_id,
                deleted: false,
            });
            confirmed.chain(outgoing).collect()
        })
        .unwrap_or_default();

    let first_key = rows.first().map(|r| r.key.clone());
    let last_key = rows.last().map(|r| r.key.clone());
    let last_mine = rows.last().is_some_and(|r| r.sender == me);

    // After every render: apply the scrolling rules.
    {
        let (node, memo, new_below, chat) =
            (node.clone(), memo.clone(), new_below.clone(), chat.clone());
        let (first_key, last_key) = (first_key.clone(), last_key.clone());
        use_effect(move || {
            let Some(el) = node.cast::<Element>() else {
                return;
            };
            let mut m = memo.borrow_mut();
            let height = el.scroll_height();
            let first_view = m.room != Some(room_id) || m.last_key.is_none();
            let appended = last_key != m.last_key;
            let prepended = first_key != m.first_key && !appended;
            if first_view || (appended && last_mine) {
                el.set_scroll_top(height);
                m.at_bottom = true;
                new_below.set(false);
            } else if prepended {
                el.set_scroll_top(m.top + (height - m.height));
            } else if m.at_bottom {
                el.set_scroll_top(height);
            } else if appended {
                new_below.set(true);
            }
            m.room = Some(room_id);
            m.first_key = first_key;
            m.last_key = last_key;
            m.height = el.scroll_height();
            m.top = el.scroll_top();
            // Too few messages to scroll: nothing would ever trigger the older pages.
            if loaded && has_older && !loading_older && el.scroll_height() <= el.client_height() {
                chat.load_older(room_id);
            }
        });
    }

    // A resized window (rotating a phone, its keyboard opening) keeps a reader at the bottom.
    {
        let (node, memo) = (node.clone(), memo.clone());
        use_effect_with((), move |_| {
            let listener = web_sys::window().map(|window| {
                EventListener::new(&window, "resize", move |_| {
                    if let Some(el) = node.cast::<Element>() {
                        if memo.borrow().at_bottom {
                            el.set_scroll_top(el.scroll_height());
                        }
                    }
                })
            });
            move || drop(listener)
        });
    }

    // Read marks: the room is visible, scrolled to the end, and holds unread peer messages.
    let peer = entry.map(|e| e.room.peer.id).unwrap_or_default();
    let last_read = entry.map(|e| e.room.last_read_seq).unwrap_or_default();
    let highest = timeline.and_then(|t| t.highest_seq());
    let unread_here = timeline.is_some_and(|t| t.count_from_after(peer, last_read) > 0)
        || entry.is_some_and(|e| e.room.unread > 0);
    {
        let chat = chat.clone();
        let ready_to_read = loaded && *at_bottom && state.visible && unread_here;
        use_effect_with(
            (room_id, highest, ready_to_read),
            move |(room_id, highest, ready)| {
                if let (true, Some(seq)) = (*ready, *highest) {
                    chat.mark_read(*room_id, seq);
                }
            },
        );
    }

    let onscroll = {
        let (memo, at_bottom, new_below, chat) = (
            memo.clone(),
            at_bottom.clone(),
            new_below.clone(),
            chat.clone(),
        );
        Callback::from(move |e: Event| {
            let el: Element = e.target_unchecked_into();
            let top = el.scroll_top();
            let bottom = el.scroll_height() - top - el.client_height() <= BOTTOM_SLACK;
            {
                let mut m = memo.borrow_mut();
                m.top = top;
                m.height = el.scroll_height();
                m.at_bottom = bottom;
            }
            at_bottom.set(bottom);
            if bottom {
                new_below.set(false);
            }
            if top < TOP_PREFETCH {
                chat.load_older(room_id);
            }
        })
    };

    let jump_down = {
        let node = node.clone();
        Callback::from(move |_| {
            if let Some(el) = node.cast::<Element>() {
                el.set_scroll_top(el.scroll_height());
            }
        })
    };

    let on_retry = {
        let chat = chat.clone();
        Callback::from(move |client_id: String| chat.retry(room_id, &client_id))
    };

    let peer_read = entry.map(|e| e.room.peer_last_read_seq).unwrap_or_default();
    let seen = timeline.and_then(|t| t.seen_seq(me, peer_read));
    let typing = entry.is_some_and(|e| e.typing_until > 0.0);
    let peer_name = entry
        .map(|e| e.room.peer.display_name.clone())
        .unwrap_or_default();

    let locals: Vec<_> = rows.iter().map(|r| (r.sender, local(r.at))).collect();
    let layouts = layout(&locals);
    let today = today();

    let items = rows.iter().zip(locals.iter()).zip(layouts.iter()).flat_map(|((row, (_, at)), lay)| {
        let mine = row.sender == me;
        let separator = lay.day_break.map(|day| html! {
            <div class="day-sep" role="separator" key={format!("d:{day}")}>
                <span>{ day_label(day, today) }</span>
            </div>
        });
        let status = match row.delivery {
            Some(Delivery::Pending) => html! {
                <span class="status pending" title="Sending…">{ icons::clock() }<span class="sr-only">{ "Sending" }</span></span>
            },
            Some(Delivery::Failed) => html! {
                <span class="status failed" title="Not sent">{ icons::alert() }<span class="sr-only">{ "Not sent" }</span></span>
            },
            None if mine => html! {
                <span class="status sent" title="Sent">{ icons::check() }<span class="sr-only">{ "Sent" }</span></span>
            },
            None => html! {},
        };
        let failed = (row.delivery == Some(Delivery::Failed)).then(|| {
            let on_retry = on_retry.clone();
            let client_id = row.client_id.to_owned();
            html! {
                <div class="failed-note" role="alert">
                    { "Not delivered. " }
                    <button type="button" class="link-btn" onclick={Callback::from(move |_| on_retry.emit(client_id.clone()))}>
                        { "Retry" }
                    </button>
                </div>
            }
        });
        let is_seen = mine && row.seq.is_some() && row.seq == seen;
        let bubble = html! {
                <div key={row.key.clone()}
                    class={classes!(
                        "row",
                        if mine { "mine" } else { "theirs" },
                        lay.first_in_group.then_some("first"),
                        lay.last_in_group.then_some("last"),
                        row.deleted.then_some("deleted"),
                        row.delivery.map(|d| if d == Delivery::Failed { "is-failed" } else { "is-pending" }),
                    )}
                    data-seq={row.seq.map(|s| s.to_string())}>
                    <div class="bubble">
                        <span class="text"><MessageText body={AttrValue::from(row.body.to_owned())} /></span>
                        <span class="meta">
                            <time datetime={row.at.to_rfc3339()} title={full(*at)}>{ clock(*at) }</time>
                            { status }
                        </span>
                    </div>
                    { for failed }
                    if is_seen {
                        <div class="seen">{ "Seen" }</div>
                    }
                </div>
        };
        separator.into_iter().chain(std::iter::once(bubble))
    });

    html! {
        <div class="messages-wrap">
            <div class="messages" ref={node} {onscroll} role="log" aria-label="Messages" aria-live="polite" tabindex="0">
                <div class="history-edge">
                    if !loaded {
                        <div class="spinner" aria-hidden="true"></div>
                        <p role="status">{ "Loading messages…" }</p>
                    } else if loading_older {
                        <div class="spinner spinner-sm" aria-hidden="true"></div>
                        <span role="status">{ "Loading earlier messages…" }</span>
                    } else if !has_older {
                        <p class="beginning">
                            { if rows.is_empty() {
                                format!("No messages yet. Say hello to {peer_name}!")
                            } else {
                                format!("This is the beginning of your conversation with {peer_name}.")
                            } }
                        </p>
                    }
                </div>
                { for items }
                if typing {
                    <div class="row theirs first last typing-row" aria-hidden="true">
                        <div class="bubble typing-bubble"><span></span><span></span><span></span></div>
                    </div>
                }
            </div>
            if *new_below {
                <button type="button" class="new-below" onclick={jump_down}>
                    { icons::arrow_down() }{ "New messages" }
                </button>
            }
        </div>
    }
}
