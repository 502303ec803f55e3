//! Every conversation: both members, how far it runs (`last_seq`), when it last moved;
//! searchable by member, sortable; a row opens the read-only conversation view.

use super::model::{room_title, visible_rooms, when, RoomColumn, Sort};
use super::{
    load_failed, loading, refresh_button, search_box, sort_header, use_on_unauthorized, Load,
    NavLink,
};
use crate::components::avatar::Avatar;
use crate::logic::time::full;
use crate::pages::admin::AdminRoute;
use crate::router::{use_navigator, Navigator, Routable};
use crate::services::admin;
use crate::services::chat::today;
use crate::services::platform::local;
use shared::AdminRoom;
use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;

#[component]
pub fn AdminRooms() -> Html {
    let on_unauthorized = use_on_unauthorized();
    let navigator = use_navigator();
    let rooms = use_state(|| Load::<Vec<AdminRoom>>::Loading);
    let fetching = use_state(|| false);
    let generation = use_state(|| 0u32);
    let query = use_state(String::new);
    let sort = use_state(|| Sort::by(RoomColumn::LastMessage));

    {
        let (rooms, fetching) = (rooms.clone(), fetching.clone());
        use_effect_with(*generation, move |_| {
            fetching.set(true);
            spawn_local(async move {
                let result = admin::rooms().await;
                if let Err(error) = &result {
                    on_unauthorized.emit(error.clone());
                }
                rooms.set(Load::from_result(result));
                fetching.set(false);
            });
        });
    }
    let reload = {
        let generation = generation.clone();
        Callback::from(move |()| generation.set(generation.wrapping_add(1)))
    };
    let on_sort = {
        let sort = sort.clone();
        Callback::from(move |column| sort.set(sort.toggled(column)))
    };
    let on_query = {
        let query = query.clone();
        Callback::from(move |q: String| query.set(q))
    };

    let body = match &*rooms {
        Load::Loading => loading("Loading conversations…"),
        Load::Failed(error) => html! {
            { load_failed("Could not load the conversations.", error, &reload) }
        },
        Load::Ready(list) if list.is_empty() => html! {
            <p class="admin-empty">{ "No conversations yet." }</p>
        },
        Load::Ready(list) => {
            let shown = visible_rooms(list, &query, *sort);
            let rows: Html = shown
                .iter()
                .map(|room| room_row(room, navigator.clone()))
                .collect();
            html! {
                <>
                    <div class="table-wrap">
                        <table class="admin-table rooms-table">
                            <caption class="sr-only">{ "Conversations. Column headers sort the table; open one to read it." }</caption>
                            <thead>
                                <tr>
                                    { for RoomColumn::ALL.iter().map(|&c| sort_header(c, *sort, &on_sort, c == RoomColumn::Messages)) }
                                </tr>
                            </thead>
                            <tbody>{ rows }</tbody>
                        </table>
                    </div>
                    if shown.is_empty() {
                        <p class="admin-empty">{ format!("No conversation has a member matching “{}”.", query.trim()) }</p>
                    }
                </>
            }
        }
    };
    let summary = match &*rooms {
        Load::Ready(list) => format!("{} conversations", list.len()),
        _ => String::new(),
    };
    html! {
        <section class="admin-card" aria-labelledby="admin-rooms-title">
            <div class="admin-card-head">
                <div class="admin-card-title">
                    <h2 id="admin-rooms-title">{ "Conversations" }</h2>
                    <p class="admin-sub">{ summary }</p>
                </div>
                <div class="admin-tools">
                    { search_box("Search conversations by member name", "Search by member", &query, &on_query) }
                    { refresh_button(&reload, *fetching) }
                </div>
            </div>
            { body }
        </section>
    }
}

fn room_row(room: &AdminRoom, navigator: Option<Navigator>) -> Html {
    let to = AdminRoute::Room { id: room.id.0 };
    // The whole row is a mouse target; the link in the first cell is the keyboard's.
    let onclick = {
        let to = to.clone();
        Callback::from(move |e: MouseEvent| {
            let on_link = e
                .target_dyn_into::<web_sys::Element>()
                .is_some_and(|t| t.closest("a").ok().flatten().is_some());
            if let (false, Some(navigator)) = (on_link, &navigator) {
                navigator.push(&to);
            }
        })
    };
    let handles = room
        .members
        .iter()
        .map(|u| format!("@{}", u.username))
        .collect::<Vec<_>>()
        .join(" · ");
    let last = room.last_message_at.map(|t| (t, local(t)));
    html! {
        <tr key={room.id.0} class="clickable" {onclick}>
            <td>
                <span class="cell-room">
                    <span class="avatar-pair" aria-hidden="true">
                        { for room.members.iter().map(|u| html! { <Avatar user={u.clone()} small=true presence=true /> }) }
                    </span>
                    <span class="cell-room-text">
                        <NavLink to={to.to_path()} classes="room-link">{ room_title(room) }</NavLink>
                        <span class="cell-sub">{ handles }</span>
                    </span>
                </span>
            </td>
            <td class="num">{ room.last_seq }</td>
            <td>
                if let Some((utc, t)) = last {
                    <time datetime={utc.to_rfc3339()} title={full(t)}>{ when(t, today()) }</time>
                } else {
                    <span class="muted-note">{ "No messages" }</span>
                }
            </td>
        </tr>
    }
}
