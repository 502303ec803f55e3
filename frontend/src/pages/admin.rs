//! The administration section: `/admin` (users), `/admin/rooms`, `/admin/rooms/{id}` (one
//! conversation, read-only), `/admin/audit`. Only for administrators: anyone else sees
//! "not authorised" (and the server answers them 403 anyway).

use crate::app::Route;
use crate::components::admin::audit::AdminAudit;
use crate::components::admin::conversation::AdminConversation;
use crate::components::admin::rooms::AdminRooms;
use crate::components::admin::users::AdminUsers;
use crate::components::admin::{shield_icon, NavLink};
use crate::components::icons;
use crate::hooks::use_chat;
use crate::router::{route_path, segment, use_route, Redirect, Routable};
use shared::RoomId;
use yew::prelude::*;

/// The section's own routes, matched under the app's `/admin/*`.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum AdminRoute {
    /// `/admin`
    Users,
    /// `/admin/rooms`
    Rooms,
    /// `/admin/rooms/:id`
    Room { id: i64 },
    /// `/admin/audit`
    Audit,
    /// `/admin/404` and any path no other route matches.
    NotFound,
}

impl Routable for AdminRoute {
    fn recognize(path: &str) -> Option<Self> {
        Some(match route_path(path) {
            "admin" => Self::Users,
            "admin/rooms" => Self::Rooms,
            "admin/audit" => Self::Audit,
            p => p
                .strip_prefix("admin/rooms/")
                .and_then(segment)
                .map_or(Self::NotFound, |id| Self::Room { id }),
        })
    }

    fn to_path(&self) -> String {
        match self {
            Self::Users => "/admin".to_owned(),
            Self::Rooms => "/admin/rooms".to_owned(),
            Self::Room { id } => format!("/admin/rooms/{id}"),
            Self::Audit => "/admin/audit".to_owned(),
            Self::NotFound => "/admin/404".to_owned(),
        }
    }
}

/// The section's page of the current route.
#[component]
fn Switch() -> Html {
    match use_route::<AdminRoute>().unwrap_or(AdminRoute::NotFound) {
        AdminRoute::Users => html! { <AdminUsers /> },
        AdminRoute::Rooms => html! { <AdminRooms /> },
        AdminRoute::Room { id } => {
            html! { <AdminConversation key={id} room_id={RoomId(id)} /> }
        }
        AdminRoute::Audit => html! { <AdminAudit /> },
        AdminRoute::NotFound => html! { <Redirect to={AdminRoute::Users.to_path()} /> },
    }
}

#[component]
pub fn AdminPage() -> Html {
    let chat = use_chat();
    let route = use_route::<AdminRoute>().unwrap_or(AdminRoute::Users);
    let Some(me) = chat.state().me().cloned() else {
        return html! {};
    };
    if !me.is_admin {
        return not_authorised();
    }
    let tab = |to: AdminRoute, label: &'static str, current: bool| {
        html! {
            <NavLink to={to.to_path()} classes="admin-tab" {current}>{ label }</NavLink>
        }
    };
    html! {
        <div class="admin">
            <header class="admin-top">
                <span class="brand-mark" aria-hidden="true">{ shield_icon() }</span>
                <div class="admin-heading">
                    <h1>{ "Administration" }</h1>
                    <div class="admin-who">{ format!("Signed in as @{}", me.username) }</div>
                </div>
                <nav class="admin-tabs" aria-label="Administration sections">
                    { tab(AdminRoute::Users, "Users", route == AdminRoute::Users) }
                    { tab(AdminRoute::Rooms, "Conversations", matches!(route, AdminRoute::Rooms | AdminRoute::Room { .. })) }
                    { tab(AdminRoute::Audit, "Audit log", route == AdminRoute::Audit) }
                </nav>
                <NavLink to={Route::Home.to_path()} classes="btn btn-ghost btn-sm admin-exit">
                    { icons::chat_bubble() }<span class="btn-text">{ "Back to chat" }</span>
                </NavLink>
            </header>
            <main class="admin-main">
                <Switch />
            </main>
        </div>
    }
}

/// What a signed-in non-administrator sees at `/admin`.
fn not_authorised() -> Html {
    html! {
        <div class="auth">
            <main class="auth-card not-authorised" role="alert">
                <span class="welcome-mark" aria-hidden="true">{ shield_icon() }</span>
                <h1>{ "Not authorised" }</h1>
                <p class="auth-sub">
                    { "The administration section is only for administrators. Ask one if you need access." }
                </p>
                <NavLink to={Route::Home.to_path()} classes="btn btn-primary btn-block">
                    { "Back to your conversations" }
                </NavLink>
            </main>
        </div>
    }
}
