use crate::app::Route;
use crate::components::admin::{shield_icon, NavLink};
use crate::components::avatar::Avatar;
use crate::components::icons;
use crate::components::message_search::MessageSearch;
use crate::components::new_conversation::NewConversation;
use crate::components::room_list::RoomList;
use crate::hooks::use_chat;
use crate::router::{Link, Routable};
use crate::services::platform::{notify_permission, request_notify_permission, NotifyPermission};
use crate::state::Conn;
use shared::RoomId;
use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct SidebarProps {
    pub active: Option<RoomId>,
}

/// The left column: who is signed in, the search for new conversations, the list.
#[component]
pub fn Sidebar(props: &SidebarProps) -> Html {
    let chat = use_chat();
    let permission = use_state(notify_permission);
    let Some(me) = chat.state().me().cloned() else {
        return html! {};
    };
    let on_notify = {
        let permission = permission.clone();
        // Asked only here, on a click: browsers (and people) dislike prompts on load.
        Callback::from(move |_| {
            let permission = permission.clone();
            spawn_local(async move { permission.set(request_notify_permission().await) });
        })
    };
    let on_sign_out = {
        let chat = chat.clone();
        Callback::from(move |_| chat.sign_out())
    };
    let status = match chat.state().conn {
        Conn::Open => ("Online", "ok"),
        Conn::Offline => ("Offline", "warn"),
        Conn::Reconnecting { .. } | Conn::Connecting | Conn::Idle => ("Connecting…", "warn"),
    };
    html! {
        <aside class="sidebar" aria-label="Conversations">
            <header class="sidebar-head">
                <Link to={Route::Settings} classes="me-link">
                    <Avatar user={me.clone()} />
                    <span class="me">
                        <span class="me-name">{ me.display_name.clone() }</span>
                        <span class={classes!("me-status", status.1)}>{ status.0 }</span>
                    </span>
                    <span class="sr-only">{ " — your account and settings" }</span>
                </Link>
                if *permission == NotifyPermission::Default {
                    <button type="button" class="icon-btn" onclick={on_notify}
                        title="Enable notifications" aria-label="Enable notifications">
                        { icons::bell() }
                    </button>
                }
                if me.is_admin {
                    <NavLink to={Route::Admin.to_path()} classes="icon-btn" label="Administration">
                        { shield_icon() }
                    </NavLink>
                }
                <Link to={Route::Settings} classes="icon-btn">
                    { icons::settings() }<span class="sr-only">{ "Settings" }</span>
                </Link>
                <button type="button" class="icon-btn" onclick={on_sign_out}
                    title="Sign out" aria-label="Sign out">
                    { icons::sign_out() }
                </button>
            </header>
            <MessageSearch>
                <NewConversation />
                <RoomList active={props.active} />
            </MessageSearch>
        </aside>
    }
}
