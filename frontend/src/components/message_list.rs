//! The messages of one room: day separators, grouped bubbles, delivery state, "seen", the
//! typing indicator, and each message's lifecycle: "(edited)", tombstones, reply quotes that
//! jump to their original, reaction chips, and a toolbar (react, reply, edit, delete, copy)
//! on hover, focus or tap. Owns the scrolling rules: stay at the bottom when already there,
//! keep the view still when older pages are prepended, offer a "new messages" button
//! otherwise, and scroll a jumped-to message into the middle of the view.

use crate::components::admin::confirm::ConfirmDialog;
use crate::components::attach::Attachments;
use crate::components::composer::ADMINS_KEEP_REVISIONS;
use crate::components::emoji_picker::{Anchor, EmojiPicker};
use crate::components::icons;
use crate::components::message_text::MessageText;
use crate::hooks::{use_chat, use_css_props};
use crate::logic::emoji::name_of;
use crate::logic::layout::layout;
use crate::logic::lifecycle::{deleted_text, is_mine, quote, reacted_by, Quote};
use crate::logic::text::preview;
use crate::logic::time::{clock, day_label, full};
use crate::logic::timeline::Delivery;
use crate::logic::window::{covers, estimate, row_at, spacers, window, Focus};
use crate::services::chat::today;
use crate::services::platform::{copy_text, is_touch, local};
use crate::state::{Action, Compose};
use chrono::{DateTime, Utc};
use gloo_events::EventListener;
use gloo_timers::callback::Timeout;
use shared::{DeletedBy, Reaction, RoomId, UserId};
use std::collections::HashMap;
use wasm_bindgen_futures::spawn_local;
use web_sys::Element;
use yew::prelude::*;

/// A jumped-to message stays highlighted this long.
const HIGHLIGHT_MS: u32 = 2_000;
/// "Copied" shows on the copy button this long.
const COPIED_MS: u32 = 1_500;

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
    last_key: Option<String>,
    height: i32,
    top: i32,
    at_bottom: bool,
    /// The row at the top of the view and how far the view's top is below the row's top:
    /// kept in place when rows change above it (older pages, the window moving, rows whose
    /// height differs from its guess).
    anchor: Option<(String, f64)>,
    /// The view's height when last seen.
    viewport: f64,
    /// Each row's height once it has been rendered, by its key (the window's spacers).
    heights: HashMap<String, f64>,
    /// The last render's rows (keys and the heights it assumed) and its window.
    keys: Vec<String>,
    assumed: Vec<f64>,
    range: (usize, usize),
}

impl ScrollMemo {
    /// Remembers the row at the top of the `list`'s view, and whether the rendered rows
    /// still cover the view with margin (`more` says whether rows lie beyond each end).
    fn observe(&mut self, list: &Element, more: (bool, bool)) -> bool {
        let view = list.get_bounding_client_rect();
        self.viewport = view.height();
        let items = list.children();
        let item = |i: u32| items.item(i).filter(|e| e.has_attribute("data-key"));
        let rendered: Vec<Element> = (0..items.length()).filter_map(item).collect();
        let (Some(first), Some(last)) = (rendered.first(), rendered.last()) else {
            return true;
        };
        let (top, bottom) = (
            first.get_bounding_client_rect().top(),
            last.get_bounding_client_rect().bottom(),
        );
        // The view's top is in a rendered row (measured), or in a spacer (by the heights).
        let in_spacer = if view.top() < top {
            row_at(&self.assumed, self.range.0, view.top() - top)
        } else if view.top() >= bottom {
            row_at(&self.assumed, self.range.1, view.top() - bottom)
        } else {
            None
        };
        self.anchor = match in_spacer {
            Some((index, into)) => self.keys.get(index).map(|key| (key.clone(), into)),
            None => rendered
                .iter()
                .find(|e| e.get_bounding_client_rect().bottom() > view.top())
                .map(|row| {
                    let key = row.get_attribute("data-key").unwrap_or_default();
                    (key, view.top() - row.get_bounding_client_rect().top())
                }),
        }
        .or(self.anchor.take());
        covers(top, bottom, (view.top(), view.bottom()), more.0, more.1)
    }

    /// Records the heights of the rows rendered in `list`.
    fn measure(&mut self, list: &Element) {
        let items = list.children();
        for i in 0..items.length() {
            let Some(item) = items.item(i) else { continue };
            if let Some(key) = item.get_attribute("data-key") {
                self.heights
                    .insert(key, item.get_bounding_client_rect().height());
            }
        }
    }

    /// Scrolls `list` so that the anchor row sits where it sat before this render.
    fn restore_anchor(&self, list: &Element) {
        let Some((key, into)) = &self.anchor else {
            return;
        };
        let Ok(Some(row)) = list.query_selector(&format!(":scope > [data-key=\"{key}\"]")) else {
            return;
        };
        let now = list.get_bounding_client_rect().top() - row.get_bounding_client_rect().top();
        let shift = (into - now).round() as i32;
        if shift != 0 {
            list.set_scroll_top(list.scroll_top() + shift);
        }
    }
}

/// The quote above a reply.
struct ReplyView {
    seq: i64,
    who: String,
    quote: Quote,
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
    /// Deleted by its sender or an administrator: the tombstone shows instead.
    deleted: Option<Option<DeletedBy>>,
    edited_at: Option<DateTime<Utc>>,
    reply: Option<ReplyView>,
    reactions: &'a [Reaction],
    attachments: &'a [shared::Attachment],
}

/// A delete waiting for its confirmation.
#[derive(Debug, Clone, PartialEq)]
struct Deleting {
    seq: i64,
    body: String,
    busy: bool,
    error: Option<String>,
}

/// Whether `el` lies above the visible part of the scrolling `list`.
fn is_above(el: &Element, list: &Element) -> bool {
    el.get_bounding_client_rect().bottom() < list.get_bounding_client_rect().top()
}

/// The box of an element, for placing the picker next to it.
fn anchor_of(el: &Element) -> Anchor {
    let r = el.get_bounding_client_rect();
    Anchor {
        left: r.left(),
        top: r.top(),
        right: r.right(),
        bottom: r.bottom(),
    }
}

#[component]
pub fn MessageList(props: &MessageListProps) -> Html {
    let chat = use_chat();
    let room_id = props.room_id;
    let node = use_node_ref();
    let memo = use_mut_ref(ScrollMemo::default);
    let at_bottom = use_state_eq(|| true);
    // Scrolled up by more than a screen: offer a jump to the newest message.
    let far_up = use_state_eq(|| false);
    // The window of rendered rows moves by re-rendering when the reader scrolls past it.
    let rewindow = use_force_update();
    let new_below = use_state_eq(|| false);
    // The row whose toolbar a tap opened (touch screens; hover and focus need no state).
    let selected = use_state_eq(|| None::<i64>);
    let picker = use_state(|| None::<(i64, Anchor)>);
    let deleting = use_state(|| None::<Deleting>);
    // A message to scroll to once it is rendered, and the one highlighted after the jump.
    let jump = use_state_eq(|| None::<i64>);
    let highlight = use_state_eq(|| None::<i64>);
    let copied = use_state_eq(|| None::<i64>);
    // The pending "un-highlight" and "un-copied" timers (a newer one replaces the older).
    let timers = use_mut_ref(|| (None::<Timeout>, None::<Timeout>));
    // The read mark when the room was opened with unread messages: the "New" divider goes
    // above the first peer message after it, for as long as the room stays open.
    let divider = use_mut_ref(|| None::<(RoomId, Option<i64>)>);
    // The divider is above the view (or not loaded yet): offer a jump back to it.
    let unread_above = use_state_eq(|| false);
    // Reactions show their emoji's name in the tooltip: fetch the list once any are shown.
    {
        let chat = chat.clone();
        let any = chat.state().rooms.get(&props.room_id).is_some_and(|e| {
            e.timeline
                .messages()
                .iter()
                .any(|m| !m.reactions.is_empty())
        });
        use_effect_with(any, move |any| {
            if *any {
                chat.load_emoji();
            }
        });
    }
    // Another room: nothing of the previous one stays open.
    {
        let (selected, picker, deleting, jump) = (
            selected.clone(),
            picker.clone(),
            deleting.clone(),
            jump.clone(),
        );
        use_effect_with(props.room_id, move |_| {
            selected.set(None);
            picker.set(None);
            deleting.set(None);
            jump.set(None);
        });
    }

    let state = chat.state();
    let me = state.me().map(|u| u.id).unwrap_or_default();
    let entry = state.rooms.get(&room_id);
    let timeline = entry.map(|e| &e.timeline);
    let loaded = timeline.is_some_and(|t| t.loaded);
    let has_older = timeline.is_some_and(|t| t.has_older);
    let loading_older = timeline.is_some_and(|t| t.loading_older);

    let me_name = state
        .me()
        .map(|u| u.display_name.clone())
        .unwrap_or_default();
    let peer_name = entry
        .map(|e| e.room.peer.display_name.clone())
        .unwrap_or_default();
    let name_of_user = {
        let (me_name, peer_name) = (me_name.clone(), peer_name.clone());
        move |id: UserId| {
            if id == me {
                me_name.clone()
            } else {
                peer_name.clone()
            }
        }
    };
    let who = |id: UserId| {
        if id == me {
            "You".to_owned()
        } else {
            peer_name.clone()
        }
    };

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
                deleted: m.deleted.then_some(m.deleted_by),
                edited_at: m.edited_at,
                reply: m
                    .reply_to
                    .as_ref()
                    .filter(|_| !m.deleted)
                    .map(|r| ReplyView {
                        seq: r.seq,
                        who: who(r.sender_id),
                        quote: quote(r, t.get(r.seq)),
                    }),
                reactions: if m.deleted { &[] } else { &m.reactions },
                attachments: &m.attachments,
            });
            let outgoing = t.outgoing().iter().map(|o| Row {
                key: format!("c:{}", o.client_id),
                sender: me,
                body: &o.body,
                at: o.created_at,
                seq: None,
                delivery: Some(o.delivery),
                client_id: &o.client_id,
                deleted: None,
                edited_at: None,
                reply: o.reply_to.and_then(|seq| t.get(seq)).map(|m| ReplyView {
                    seq: m.seq,
                    who: who(m.sender_id),
                    quote: if m.deleted {
                        Quote::Deleted
                    } else {
                        Quote::Text(preview(&m.body, shared::REPLY_EXCERPT_CHARS))
                    },
                }),
                reactions: &[],
                attachments: &o.attachments,
            });
            confirmed.chain(outgoing).collect()
        })
        .unwrap_or_default();

    let unread_from = {
        let mut d = divider.borrow_mut();
        let opened = d.is_none_or(|(r, _)| r != room_id);
        // Messages that come while the reader is away (tab hidden, or scrolled up) after
        // everything above was read move the divider to them, as in Slack; read as they
        // come, they leave it where it is.
        let away = !(state.visible && *at_bottom);
        let news_while_away = !opened
            && away
            && entry.is_some_and(|e| {
                e.room.unread > 0
                    && d.is_some_and(|(_, from)| from.is_none_or(|f| f < e.room.last_read_seq))
            });
        if let (true, Some(e)) = (opened || news_while_away, entry) {
            *d = Some((room_id, (e.room.unread > 0).then_some(e.room.last_read_seq)));
        }
        d.and_then(|(r, from)| from.filter(|_| r == room_id))
    };
    // Held from the first unread on (or from the very beginning): the divider can be placed.
    let covers = |from: i64| {
        !has_older || timeline.is_some_and(|t| t.lowest_seq().is_some_and(|low| low <= from + 1))
    };
    let first_unread = unread_from.filter(|from| covers(*from)).and_then(|from| {
        rows.iter()
            .filter(|r| r.sender != me)
            .find_map(|r| r.seq.filter(|s| *s > from))
    });
    // The first unread message is older than the pages held.
    let unread_unloaded = loaded && unread_from.is_some_and(|from| !covers(from));
    let last_key = rows.last().map(|r| r.key.clone());
    let last_mine = rows.last().is_some_and(|r| r.sender == me);

    let locals: Vec<_> = rows.iter().map(|r| (r.sender, local(r.at))).collect();
    let layouts = layout(&locals);
    // The window: which rows are in the DOM, and the spacers standing in for the others.
    let index_of_seq = |seq: i64| rows.iter().position(|r| r.seq == Some(seq));
    let (range, (space_above, space_below)) = {
        let mut m = memo.borrow_mut();
        let first_view = m.room != Some(room_id) || m.last_key.is_none();
        let heights: Vec<f64> = rows
            .iter()
            .zip(&layouts)
            .map(|(r, lay)| {
                m.heights.get(&r.key).copied().unwrap_or_else(|| {
                    estimate(r.body.len(), lay.day_break.is_some(), r.attachments.len())
                })
            })
            .collect();
        let anchored = || {
            let (key, into) = m.anchor.as_ref()?;
            let index = rows.iter().position(|r| &r.key == key)?;
            Some(Focus::At { index, into: *into })
        };
        let focus = match (
            (*jump).and_then(index_of_seq),
            first_unread.and_then(index_of_seq),
        ) {
            (Some(target), _) => Focus::Centre(target),
            (None, Some(unread)) if first_view => Focus::Centre(unread),
            _ if first_view || m.at_bottom => Focus::Bottom,
            _ => anchored().unwrap_or(Focus::Bottom),
        };
        let viewport = if m.viewport > 0.0 { m.viewport } else { 900.0 };
        let range = window(&heights, focus, viewport);
        let spaces = spacers(&heights, range);
        m.keys = rows.iter().map(|r| r.key.clone()).collect();
        m.assumed = heights;
        m.range = range;
        (range, spaces)
    };
    // Rows exist beyond each end of the window.
    let more = (range.0 > 0, range.1 < rows.len());
    // The "New" divider's row lies above the rendered rows.
    let divider_above = first_unread
        .and_then(index_of_seq)
        .is_some_and(|i| i < range.0);

    let (above, below) = (use_node_ref(), use_node_ref());
    use_css_props(&above, vec![("height", format!("{space_above}px"))]);
    use_css_props(&below, vec![("height", format!("{space_below}px"))]);

    // After every render: apply the scrolling rules.
    {
        let (node, memo, new_below, chat, unread_above, rewindow) = (
            node.clone(),
            memo.clone(),
            new_below.clone(),
            chat.clone(),
            unread_above.clone(),
            rewindow.clone(),
        );
        let last_key = last_key.clone();
        use_effect(move || {
            let Some(el) = node.cast::<Element>() else {
                return;
            };
            let mut m = memo.borrow_mut();
            if m.room != Some(room_id) {
                // Keys (seqs) repeat across rooms: another room's heights would mislead.
                m.heights.clear();
            }
            m.measure(&el);
            let height = el.scroll_height();
            let first_view = m.room != Some(room_id) || m.last_key.is_none();
            let appended = last_key != m.last_key;
            let divider = el.query_selector(".unread-divider").ok().flatten();
            if let (true, Some(d)) = (first_view, &divider) {
                // Opened with unread messages: the divider a quarter down, or the end.
                let offset = d.get_bounding_client_rect().top()
                    - el.get_bounding_client_rect().top()
                    - f64::from(el.client_height()) / 4.0;
                el.set_scroll_top(el.scroll_top() + offset as i32);
                m.at_bottom = height - el.scroll_top() - el.client_height() <= BOTTOM_SLACK;
            } else if first_view || (appended && last_mine) {
                el.set_scroll_top(height);
                m.at_bottom = true;
                new_below.set(false);
            } else if m.at_bottom {
                el.set_scroll_top(height);
            } else {
                // Older pages came in, the window moved, or rows above changed height: the
                // row the reader was looking at stays where it was.
                m.restore_anchor(&el);
                if appended {
                    new_below.set(true);
                }
            }
            unread_above.set(
                unread_unloaded || divider_above || divider.is_some_and(|d| is_above(&d, &el)),
            );
            m.room = Some(room_id);
            m.last_key = last_key;
            m.height = el.scroll_height();
            m.top = el.scroll_top();
            // Guessed heights can leave the view short of rows: render again with the
            // measured ones (they are exact from now on, so this settles at once).
            if !m.observe(&el, more) {
                rewindow.force_update();
            }
            // Too few messages to scroll: nothing would ever trigger the older pages.
            if loaded && has_older && !loading_older && el.scroll_height() <= el.client_height() {
                chat.load_older(room_id);
            }
        });
    }

    // A jump: once the message is rendered, scroll it to the middle and highlight it briefly.
    {
        let (node, memo, jump, highlight, timers) = (
            node.clone(),
            memo.clone(),
            jump.clone(),
            highlight.clone(),
            timers.clone(),
        );
        use_effect(move || {
            let (Some(seq), Some(el)) = (*jump, node.cast::<Element>()) else {
                return;
            };
            let Ok(Some(row)) = el.query_selector(&format!(".row[data-seq=\"{seq}\"]")) else {
                return;
            };
            let (list, target) = (
                el.get_bounding_client_rect(),
                row.get_bounding_client_rect(),
            );
            let offset = target.top() - list.top() - (list.height() - target.height()) / 2.0;
            el.set_scroll_top(el.scroll_top() + offset as i32);
            {
                let mut m = memo.borrow_mut();
                m.top = el.scroll_top();
                m.at_bottom = el.scroll_height() - m.top - el.client_height() <= BOTTOM_SLACK;
                // The next render keeps the window on the jumped-to message.
                m.observe(&el, more);
            }
            jump.set(None);
            highlight.set(Some(seq));
            let highlight = highlight.clone();
            timers.borrow_mut().0 = Some(Timeout::new(HIGHLIGHT_MS, move || highlight.set(None)));
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
        let (unread_above, far_up, rewindow) =
            (unread_above.clone(), far_up.clone(), rewindow.clone());
        Callback::from(move |e: Event| {
            let el: Element = e.target_unchecked_into();
            let top = el.scroll_top();
            let divider = el.query_selector(".unread-divider").ok().flatten();
            unread_above.set(
                unread_unloaded || divider_above || divider.is_some_and(|d| is_above(&d, &el)),
            );
            far_up.set(el.scroll_height() - top - el.client_height() > el.client_height());
            let mut m = memo.borrow_mut();
            // Pinned, and not scrolled up since: rows that arrived beneath (rendered before
            // the effect that follows them) do not unpin the reader. Only the reader's own
            // scroll upwards does, or one that stops short of the end.
            let grew_beneath = m.at_bottom && top >= m.top;
            let bottom =
                grew_beneath || el.scroll_height() - top - el.client_height() <= BOTTOM_SLACK;
            m.top = top;
            m.height = el.scroll_height();
            m.at_bottom = bottom;
            let covered = m.observe(&el, more);
            drop(m);
            if !covered {
                rewindow.force_update();
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
        let (node, memo, rewindow) = (node.clone(), memo.clone(), rewindow.clone());
        Callback::from(move |_| {
            // Pinned again: the window moves to the newest rows and the effect scrolls there.
            memo.borrow_mut().at_bottom = true;
            if let Some(el) = node.cast::<Element>() {
                el.set_scroll_top(el.scroll_height());
            }
            rewindow.force_update();
        })
    };

    let on_retry = {
        let chat = chat.clone();
        Callback::from(move |client_id: String| chat.retry(room_id, &client_id))
    };

    let on_jump = {
        let (chat, jump) = (chat.clone(), jump.clone());
        Callback::from(move |seq: i64| {
            jump.set(Some(seq));
            let (chat, jump) = (chat.clone(), jump.clone());
            spawn_local(async move {
                if let Err(error) = chat.load_around(room_id, seq).await {
                    jump.set(None);
                    chat.failed(&error);
                }
            });
        })
    };
    let jump_unread = {
        let (node, on_jump) = (node.clone(), on_jump.clone());
        Callback::from(move |_: MouseEvent| {
            let Some(el) = node.cast::<Element>() else {
                return;
            };
            match el.query_selector(".unread-divider") {
                Ok(Some(d)) => {
                    let offset = d.get_bounding_client_rect().top()
                        - el.get_bounding_client_rect().top()
                        - f64::from(el.client_height()) / 4.0;
                    el.set_scroll_top(el.scroll_top() + offset as i32);
                }
                // Not held yet: fetch the page around it (the divider then shows above it).
                _ => {
                    if let Some(from) = unread_from {
                        on_jump.emit(from + 1);
                    }
                }
            }
        })
    };
    // A search result asks to be shown: once the latest page is in (so the pages join up),
    // jump to it like to a reply's original.
    {
        let (chat, on_jump) = (chat.clone(), on_jump.clone());
        let wanted = state
            .jump
            .filter(|(room, _)| *room == room_id)
            .map(|(_, seq)| seq);
        use_effect_with((wanted, loaded), move |(wanted, loaded)| {
            if let (Some(seq), true) = (*wanted, *loaded) {
                chat.dispatch(Action::JumpDone);
                on_jump.emit(seq);
            }
        });
    }
    let on_react = {
        let (chat, picker, selected) = (chat.clone(), picker.clone(), selected.clone());
        Callback::from(move |(seq, emoji): (i64, String)| {
            picker.set(None);
            selected.set(None);
            chat.toggle_reaction(room_id, seq, emoji);
        })
    };
    let on_compose = {
        let (chat, selected) = (chat.clone(), selected.clone());
        Callback::from(move |compose: Compose| {
            selected.set(None);
            chat.compose(room_id, compose);
        })
    };
    let on_copy = {
        let (copied, timers) = (copied.clone(), timers.clone());
        Callback::from(move |(seq, text): (i64, String)| {
            if copy_text(&text) {
                copied.set(Some(seq));
                let copied = copied.clone();
                timers.borrow_mut().1 = Some(Timeout::new(COPIED_MS, move || copied.set(None)));
            }
        })
    };
    let on_delete_cancel = {
        let deleting = deleting.clone();
        Callback::from(move |()| deleting.set(None))
    };
    let on_delete_confirm = {
        let (chat, deleting) = (chat.clone(), deleting.clone());
        Callback::from(move |()| {
            let Some(d) = (*deleting).clone() else {
                return;
            };
            if d.busy {
                return;
            }
            deleting.set(Some(Deleting {
                busy: true,
                error: None,
                ..d.clone()
            }));
            let (chat, deleting) = (chat.clone(), deleting.clone());
            spawn_local(async move {
                match chat.delete_message(room_id, d.seq).await {
                    Ok(()) => deleting.set(None),
                    Err(error) => deleting.set(Some(Deleting {
                        busy: false,
                        error: Some(error.to_string()),
                        ..d
                    })),
                }
            });
        })
    };
    // Touch screens: a tap (or long press) on a bubble opens its toolbar; another closes it.
    let on_select = {
        let selected = selected.clone();
        Callback::from(move |seq: i64| {
            selected.set(if *selected == Some(seq) {
                None
            } else {
                Some(seq)
            });
        })
    };

    let peer_read = entry.map(|e| e.room.peer_last_read_seq).unwrap_or_default();
    let seen = timeline.and_then(|t| t.seen_seq(me, peer_read));
    let typing = entry.is_some_and(|e| e.typing_until > 0.0);
    let unread = entry.map(|e| e.room.unread).unwrap_or_default();

    let today = today();

    let shown = range.0..range.1;
    let items = rows[shown.clone()].iter().zip(&locals[shown.clone()]).zip(&layouts[shown]).map(|((row, (_, at)), lay)| {
        let mine = row.sender == me;
        let separator = lay.day_break.map(|day| html! {
            <div class="day-sep" role="separator">
                <span>{ day_label(day, today) }</span>
            </div>
        });
        let new_mark = (row.seq.is_some() && row.seq == first_unread).then(|| html! {
            <div class="unread-divider" role="separator" aria-label="New messages">
                <span>{ "New" }</span>
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
        let deleted = row.deleted.is_some();
        let text = match row.deleted {
            Some(by) => html! { { deleted_text(by) } },
            None => html! { <MessageText body={AttrValue::from(row.body.to_owned())} /> },
        };
        let reply = row.reply.as_ref().map(|r| match &r.quote {
            Quote::Deleted => html! {
                <div class="reply-quote is-deleted">
                    <span class="reply-who">{ r.who.clone() }</span>
                    <span class="reply-text">{ "Original message was deleted" }</span>
                </div>
            },
            Quote::Text(text) => {
                let (on_jump, seq) = (on_jump.clone(), r.seq);
                html! {
                    // Named by its content (a label must contain the visible text): the hidden
                    // words and the leading space make it read "Reply to Bob: text".
                    <button type="button" class="reply-quote" title="Show the original message"
                        onclick={Callback::from(move |_| on_jump.emit(seq))}>
                        <span class="sr-only">{ "Reply to " }</span>
                        <span class="reply-who">{ r.who.clone() }<span class="sr-only">{ ":" }</span></span>
                        <span class="reply-text">{ format!(" {text}") }</span>
                    </button>
                }
            }
        });
        let edited = (row.edited_at.is_some() && !deleted).then(|| {
            let title = row.edited_at.map(|t| format!("Edited {}", full(local(t)))).unwrap_or_default();
            html! { <span class="edited" title={title}>{ "(edited)" }</span> }
        });
        // Actions and reactions belong to stored messages that are not deleted.
        let live_seq = row.seq.filter(|_| !deleted);
        let chips = live_seq.filter(|_| !row.reactions.is_empty()).map(|seq| {
            let chips = row.reactions.iter().map(|r| {
                let mine_r = is_mine(r, me);
                let name = name_of(&r.emoji, state.emoji.as_deref());
                let title = reacted_by(r, me, &name_of_user, name);
                let (on_react, emoji) = (on_react.clone(), r.emoji.clone());
                html! {
                    <button type="button" class={classes!("chip", mine_r.then_some("mine"))}
                        aria-pressed={mine_r.to_string()} {title}
                        aria-label={format!("{}, {}: {}", name.unwrap_or(&r.emoji), r.count, reacted_by(r, me, &name_of_user, None))}
                        onclick={Callback::from(move |_| on_react.emit((seq, emoji.clone())))}>
                        <span class="chip-emoji" aria-hidden="true">{ r.emoji.clone() }</span>
                        <span class="chip-count" aria-hidden="true">{ r.count.to_string() }</span>
                    </button>
                }
            });
            let picker = picker.clone();
            html! {
                <div class="reactions">
                    { for chips }
                    <button type="button" class="chip chip-add" title="Add a reaction" aria-label="Add a reaction"
                        onclick={Callback::from(move |e: MouseEvent| {
                            let el: Element = e.target_unchecked_into();
                            picker.set(Some((seq, anchor_of(&el))));
                        })}>
                        { icons::smile_plus() }
                    </button>
                </div>
            }
        });
        let toolbar = live_seq.map(|seq| {
            let picker = picker.clone();
            let on_react_open = Callback::from(move |e: MouseEvent| {
                let el: Element = e.target_unchecked_into();
                let el = el.closest("button").ok().flatten().unwrap_or(el);
                picker.set(Some((seq, anchor_of(&el))));
            });
            let reply = {
                let on_compose = on_compose.clone();
                Callback::from(move |_| on_compose.emit(Compose::Reply(seq)))
            };
            let edit = {
                let on_compose = on_compose.clone();
                Callback::from(move |_| on_compose.emit(Compose::Edit(seq)))
            };
            let delete = {
                let (deleting, selected, body) = (deleting.clone(), selected.clone(), row.body.to_owned());
                Callback::from(move |_| {
                    selected.set(None);
                    deleting.set(Some(Deleting { seq, body: body.clone(), busy: false, error: None }));
                })
            };
            let copy = {
                let (on_copy, body) = (on_copy.clone(), row.body.to_owned());
                Callback::from(move |_| on_copy.emit((seq, body.clone())))
            };
            let was_copied = *copied == Some(seq);
            html! {
                <div class="msg-actions" role="toolbar" aria-label="Message actions">
                    <button type="button" class="act" title="React" aria-label="React" onclick={on_react_open}>{ icons::smile_plus() }</button>
                    <button type="button" class="act" title="Reply" aria-label="Reply" onclick={reply}>{ icons::reply() }</button>
                    if mine {
                        <button type="button" class="act" title="Edit" aria-label="Edit" onclick={edit}>{ icons::pencil() }</button>
                        <button type="button" class="act act-danger" title="Delete" aria-label="Delete" onclick={delete}>{ icons::trash() }</button>
                    }
                    <button type="button" class="act" title={if was_copied { "Copied" } else { "Copy text" }}
                        aria-label={if was_copied { "Copied" } else { "Copy text" }} onclick={copy}>
                        if was_copied { { icons::check() } } else { { icons::copy() } }
                    </button>
                </div>
            }
        });
        let on_bubble = live_seq.map(|seq| {
            let on_select = on_select.clone();
            Callback::from(move |e: MouseEvent| {
                // Links and buttons inside the bubble do their own thing.
                let target: Element = e.target_unchecked_into();
                let inner = target.closest("a, button").ok().flatten().is_some();
                if is_touch() && !inner {
                    on_select.emit(seq);
                }
            })
        });
        let on_long_press = live_seq.map(|seq| {
            let on_select = on_select.clone();
            Callback::from(move |e: MouseEvent| {
                // A long press on a touch screen opens the toolbar instead of the menu.
                if is_touch() {
                    e.prevent_default();
                    on_select.emit(seq);
                }
            })
        });
        let editing_this = row.seq.is_some_and(|s| entry.is_some_and(|e| e.compose == Compose::Edit(s)));
        let bubble = html! {
                <div
                    class={classes!(
                        "row",
                        if mine { "mine" } else { "theirs" },
                        lay.first_in_group.then_some("first"),
                        lay.last_in_group.then_some("last"),
                        deleted.then_some("deleted"),
                        row.delivery.map(|d| if d == Delivery::Failed { "is-failed" } else { "is-pending" }),
                        (row.seq.is_some() && *selected == row.seq).then_some("selected"),
                        (row.seq.is_some() && *highlight == row.seq).then_some("highlight"),
                        editing_this.then_some("is-editing"),
                    )}
                    data-seq={row.seq.map(|s| s.to_string())}>
                    <div class="bubble-line">
                        <div class="bubble" onclick={on_bubble} oncontextmenu={on_long_press}>
                            { for reply }
                            if !row.attachments.is_empty() {
                                <Attachments list={row.attachments.to_vec()} />
                            }
                            if deleted || !row.body.is_empty() {
                                <span class="text">{ text }</span>
                            }
                            <span class="meta">
                                { for edited }
                                <time datetime={row.at.to_rfc3339()} title={full(*at)}>{ clock(*at) }</time>
                                { status }
                            </span>
                        </div>
                        { for toolbar }
                    </div>
                    { for chips }
                    { for failed }
                    if is_seen {
                        <div class="seen">{ "Seen" }</div>
                    }
                </div>
        };
        // One item per message, with what goes above it: it is measured as one.
        html! {
            <div class="item" key={row.key.clone()} data-key={row.key.clone()}>
                { for separator }{ for new_mark }{ bubble }
            </div>
        }
    });

    html! {
        <div class="messages-wrap">
            <div class="messages" ref={node} {onscroll} role="log" aria-label="Messages" aria-live="polite" tabindex="0"
                data-held={rows.len().to_string()}>
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
                <div ref={above} class="spacer" aria-hidden="true"></div>
                { for items }
                <div ref={below} class="spacer" aria-hidden="true"></div>
                if typing {
                    <div class="row theirs first last typing-row" aria-hidden="true">
                        <div class="bubble typing-bubble"><span></span><span></span><span></span></div>
                    </div>
                }
            </div>
            if *unread_above {
                <button type="button" class="jump-unread" onclick={jump_unread}>
                    { icons::arrow_down() }{ "Jump to first unread" }
                </button>
            }
            if *new_below || *far_up {
                <button type="button" class="new-below" onclick={jump_down}>
                    { icons::arrow_down() }
                    { if *new_below { "New messages" } else { "Jump to newest" } }
                    if unread > 0 {
                        <span class="badge" aria-label={format!("{unread} unread")}>{ unread.to_string() }</span>
                    }
                </button>
            }
            if let Some((seq, anchor)) = *picker {
                <EmojiPicker {anchor}
                    on_pick={{ let on_react = on_react.clone(); Callback::from(move |emoji: String| on_react.emit((seq, emoji))) }}
                    on_close={{ let picker = picker.clone(); Callback::from(move |()| picker.set(None)) }} />
            }
            if let Some(d) = &*deleting {
                <ConfirmDialog title="Delete this message?" confirm_label="Delete"
                    busy={d.busy} error={d.error.clone().map(AttrValue::from)}
                    on_confirm={on_delete_confirm.clone()} on_cancel={on_delete_cancel.clone()}>
                    <blockquote class="modal-quote">{ preview(&d.body, 300) }</blockquote>
                    <p>{ format!("{peer_name} will see “This message was deleted” in its place, at once. ") }{ ADMINS_KEEP_REVISIONS }</p>
                </ConfirmDialog>
            }
        </div>
    }
}
