//! Routes and the top-level component.

use crate::components::provider::ChatProvider;
use crate::hooks::use_chat;
use crate::pages::admin::{AdminPage, AdminRoute};
use crate::pages::auth::{AuthMode, AuthPage};
use crate::pages::chat::ChatPage;
use crate::pages::settings::SettingsPage;
use crate::router::{
    route_path, segment, use_location, use_navigator, BrowserRouter, Location, Redirect, Routable,
};
use crate::state::Session;
use shared::RoomId;
use yew::prelude::*;

#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Route {
    /// `/`
    Home,
    /// `/login`
    Login,
    /// `/register`
    Register,
    /// `/settings`
    Settings,
    /// `/rooms/:id`
    Room { id: i64 },
    /// The administration section (admins only); its sub-routes are `pages::admin::AdminRoute`.
    /// `/admin`
    Admin,
    /// `/admin/*`
    AdminSection,
    /// `/404` and any path no other route matches.
    NotFound,
}

impl Routable for Route {
    fn recognize(path: &str) -> Option<Self> {
        Some(match route_path(path) {
            "" => Self::Home,
            "login" => Self::Login,
            "register" => Self::Register,
            "settings" => Self::Settings,
            "admin" => Self::Admin,
            p => match (p.strip_prefix("rooms/"), p.strip_prefix("admin/")) {
                (Some(id), _) => segment(id).map_or(Self::NotFound, |id| Self::Room { id }),
                (_, Some(rest)) if !rest.is_empty() => Self::AdminSection,
                _ => Self::NotFound,
            },
        })
    }

    fn to_path(&self) -> String {
        match self {
            Self::Room { id } => format!("/rooms/{id}"),
            route => match route {
                Self::Home => "/",
                Self::Login => "/login",
                Self::Register => "/register",
                Self::Settings => "/settings",
                Self::Admin => "/admin",
                Self::AdminSection => "/admin/*",
                _ => "/404",
            }
            .to_owned(),
        }
    }
}

#[component]
pub fn App() -> Html {
    html! {
        <BrowserRouter>
            <ChatProvider>
                <Switch />
            </ChatProvider>
        </BrowserRouter>
    }
}

/// The page of the current route.
#[component]
fn Switch() -> Html {
    match crate::router::use_route::<Route>().unwrap_or(Route::NotFound) {
        Route::Login => html! { <Gate public=true><AuthPage mode={AuthMode::SignIn} /></Gate> },
        Route::Register => {
            html! { <Gate public=true><AuthPage mode={AuthMode::Register} /></Gate> }
        }
        Route::Home => html! { <Gate><ChatPage room={None::<RoomId>} /></Gate> },
        Route::Room { id } => html! { <Gate><ChatPage room={Some(RoomId(id))} /></Gate> },
        Route::Settings => html! { <Gate><SettingsPage /></Gate> },
        Route::Admin | Route::AdminSection => html! { <Gate><AdminPage /></Gate> },
        Route::NotFound => html! { <Redirect to={Route::Home.to_path()} /> },
    }
}

#[derive(Properties, PartialEq)]
pub struct GateProps {
    /// Pages for signed-out visitors (sign in, register); the rest need a session.
    #[prop_or_default]
    pub public: bool,
    pub children: Html,
}

/// Where to go after signing in: `/login?next=/rooms/7` keeps a deep link across the sign-in.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct NextQuery {
    pub next: Option<String>,
}

/// Private pages worth coming back to after signing in (never an auth page).
fn worth_remembering(route: &Route) -> bool {
    matches!(
        route,
        Route::Room { .. } | Route::Settings | Route::Admin | Route::AdminSection
    )
}

/// Where a `next` query sends a visitor who just signed in.
fn after_sign_in(location: Option<&Location>) -> Html {
    let next = location
        .and_then(|l| l.next_query())
        .and_then(|q| q.next)
        .unwrap_or_default();
    match Route::recognize(&next).filter(worth_remembering) {
        // `/admin/*` has no path of its own to redirect to: the section's route has.
        Some(Route::Admin | Route::AdminSection) => match AdminRoute::recognize(&next) {
            Some(to) => html! { <Redirect to={to.to_path()} /> },
            None => html! { <Redirect to={Route::Admin.to_path()} /> },
        },
        Some(to) => html! { <Redirect to={to.to_path()} /> },
        None => html! { <Redirect to={Route::Home.to_path()} /> },
    }
}

/// Sends visitors to the page their session allows; waits while a stored session is checked.
#[component]
fn Gate(props: &GateProps) -> Html {
    let chat = use_chat();
    let location = use_location();
    match (&chat.state().session, props.public) {
        (Session::Checking, _) => html! {
            <div class="splash" role="status" aria-live="polite">
                <div class="spinner" aria-hidden="true"></div>
                <p>{ chat.state().notice.clone().unwrap_or_else(|| "Loading your conversations…".to_owned()) }</p>
            </div>
        },
        (Session::SignedOut, false) => html! { <ToLogin /> },
        (Session::SignedIn(_), true) => after_sign_in(location.as_ref()),
        _ => props.children.clone(),
    }
}

/// Replaces the current (private) page by the sign-in page, remembering an open conversation.
#[component]
fn ToLogin() -> Html {
    let navigator = use_navigator();
    let location = use_location();
    use_effect_with((), move |_| {
        let Some(navigator) = navigator else {
            return;
        };
        let path = location.map(|l| l.path().to_owned()).unwrap_or_default();
        let remembered = Route::recognize(&path)
            .is_some_and(|r| worth_remembering(&r))
            .then_some(NextQuery { next: Some(path) });
        match remembered {
            Some(query) => navigator.replace_with_query(&Route::Login, &query),
            None => navigator.replace(&Route::Login),
        }
    });
    html! {}
}
