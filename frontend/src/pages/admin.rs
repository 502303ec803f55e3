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
use shared::RoomId;
use yew::prelude::*;
use yew_router::prelude::*;

/// The section's own routes, matched under the app's `/admin/*`.
#[derive(Clone, Routable, PartialEq, Eq, Debug)]
pub enum AdminRoute {
    #[at("/admin")]
    Users,
    #[at("/admin/rooms")]
    Rooms,
    #[at("/admin/rooms/:id")]
    Room { id: i64 },
    #[at("/admin/audit")]
    Audit,
    #[not_found]
    #[at("/admin/404")]
    NotFound,
}

fn switch(route: AdminRoute) -> Html {
    match route {
        AdminRoute::Users => html! { <AdminUsers /> },
        AdminRoute::Rooms => html! { <AdminRooms /> },
        AdminRoute::Room { id } => {
            html! { <AdminConversation key={id} room_id={RoomId(id)} /> }
        }
        AdminRoute::Audit => html! { <AdminAudit /> },
        AdminRoute::NotFound => html! { <Redirect<AdminRoute> to={AdminRoute::Users} /> },
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
                <Switch<AdminRoute> render={switch} />
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
