use crate::app::Route;
use crate::components::avatar::Avatar;
use crate::components::icons;
use crate::hooks::use_chat;
use crate::logic::text::preview;
use crate::logic::time::{full, relative};
use crate::logic::unread::shown_unread;
use crate::router::Link;
use crate::services::platform::{local, local_now};
use crate::services::prefs;
use crate::state::RoomEntry;
use shared::RoomId;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct RoomListProps {
    pub active: Option<RoomId>,
}

/// Conversations, most recent first, with preview, time, unread badge and presence.
#[component]
pub fn RoomList(props: &RoomListProps) -> Html {
    let chat = use_chat();
    let state = chat.state();
    let me = state.me().map(|u| u.id);
    let now = local_now();
    let rooms = state.sorted_rooms();
    // Presence shows only while it is current (see `Conn::live`).
    let live = state.conn.live();
    if rooms.is_empty() {
        return html! {
            <div class="room-list-empty">
                if state.rooms_loaded {
                    <p class="empty-title">{ "No conversations yet" }</p>
                    <p>{ "Search for someone above to start one." }</p>
                } else {
                    <div class="spinner" aria-hidden="true"></div>
                    <p>{ "Loading conversations…" }</p>
                }
            </div>
        };
    }
    let item = |entry: &RoomEntry| {
        let room = &entry.room;
        let active = props.active == Some(room.id);
        let typing = entry.typing_until > 0.0;
        let last = room.last_message.as_ref();
        let when = last.map(|m| m.created_at).unwrap_or(room.last_activity_at);
        let mine = last.is_some_and(|m| Some(m.sender_id) == me);
        // The open room's draft is in its composer; the others say they have one.
        let draft = me
            .filter(|_| !active)
            .and_then(|me| prefs::draft(me, room.id));
        let preview_text = match last {
            _ if typing => "typing…".to_owned(),
            _ if draft.is_some() => draft.as_deref().map(|d| preview(d, 60)).unwrap_or_default(),
            Some(m) => preview(&m.body, 60),
            None => "No messages yet".to_owned(),
        };
        let (unread, reads_unread) = shown_unread(room);
        html! {
            <li key={room.id.0}>
                <Link to={Route::Room { id: room.id.0 }}
                    classes={classes!("room-item", active.then_some("active"), reads_unread.then_some("has-unread"))}>
                    <Avatar user={room.peer.clone()} presence={live} />
                    <span class="room-main">
                        <span class="room-top">
                            <span class="room-name">
                                { room.peer.display_name.clone() }
                                if live && room.peer.online { <span class="sr-only">{ " (online)" }</span> }
                            </span>
                            if room.muted {
                                <span class="room-muted" title="Muted">{ icons::bell_off() }<span class="sr-only">{ " (muted)" }</span></span>
                            }
                            <time class="room-time" datetime={when.to_rfc3339()} title={full(local(when))}>
                                { relative(local(when), now) }
                            </time>
                        </span>
                        <span class="room-bottom">
                            <span class={classes!("room-preview", typing.then_some("typing"))}>
                                if draft.is_some() && !typing { <span class="draft-mark">{ "Draft:" }</span>{ " " } }
                                else if mine && !typing { <span class="you">{ "You: " }</span> }
                                { preview_text }
                            </span>
                            if unread > 0 {
                                <span class="badge" data-count={unread.to_string()}>{ if unread > 99 { "99+".to_owned() } else { unread.to_string() } }
                                    <span class="sr-only">{ " unread" }</span>
                                </span>
                            } else if reads_unread {
                                <span class="unread-dot" title="Marked as unread"><span class="sr-only">{ "Marked as unread" }</span></span>
                            }
                        </span>
                    </span>
                </Link>
            </li>
        }
    };
    html! {
        <nav class="room-list-wrap" aria-label="Conversation list">
            <ul class="room-list">
                { for rooms.into_iter().map(item) }
            </ul>
        </nav>
    }
}
