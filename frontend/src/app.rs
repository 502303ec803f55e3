//! Routes and the top-level component.

use crate::components::provider::ChatProvider;
use crate::hooks::use_chat;
use crate::pages::admin::{AdminPage, AdminRoute};
use crate::pages::auth::{AuthMode, AuthPage};
use crate::pages::chat::ChatPage;
use crate::pages::settings::SettingsPage;
use crate::state::Session;
use serde::{Deserialize, Serialize};
use shared::RoomId;
use yew::prelude::*;
use yew_router::prelude::*;

#[derive(Clone, Routable, PartialEq, Eq, Debug)]
pub enum Route {
    #[at("/")]
    Home,
    #[at("/login")]
    Login,
    #[at("/register")]
    Register,
    #[at("/settings")]
    Settings,
    #[at("/rooms/:id")]
    Room { id: i64 },
    /// The administration section (admins only); its sub-routes are `pages::admin::AdminRoute`.
    #[at("/admin")]
    Admin,
    #[at("/admin/*")]
    AdminSection,
    #[not_found]
    #[at("/404")]
    NotFound,
}

#[component]
pub fn App() -> Html {
    html! {
        <BrowserRouter>
            <ChatProvider>
                <Switch<Route> render={switch} />
            </ChatProvider>
        </BrowserRouter>
    }
}

fn switch(route: Route) -> Html {
    match route {
        Route::Login => html! { <Gate public=true><AuthPage mode={AuthMode::SignIn} /></Gate> },
        Route::Register => {
            html! { <Gate public=true><AuthPage mode={AuthMode::Register} /></Gate> }
        }
        Route::Home => html! { <Gate><ChatPage room={None::<RoomId>} /></Gate> },
        Route::Room { id } => html! { <Gate><ChatPage room={Some(RoomId(id))} /></Gate> },
        Route::Settings => html! { <Gate><SettingsPage /></Gate> },
        Route::Admin | Route::AdminSection => html! { <Gate><AdminPage /></Gate> },
        Route::NotFound => html! { <Redirect<Route> to={Route::Home} /> },
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
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
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
        .and_then(|l| l.query::<NextQuery>().ok())
        .and_then(|q| q.next)
        .unwrap_or_default();
    match Route::recognize(&next).filter(worth_remembering) {
        // `/admin/*` has no path of its own to redirect to: the section's route has.
        Some(Route::Admin | Route::AdminSection) => match AdminRoute::recognize(&next) {
            Some(to) => html! { <Redirect<AdminRoute> {to} /> },
            None => html! { <Redirect<Route> to={Route::Admin} /> },
        },
        Some(to) => html! { <Redirect<Route> {to} /> },
        None => html! { <Redirect<Route> to={Route::Home} /> },
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
            Some(query) => {
                if navigator.replace_with_query(&Route::Login, &query).is_err() {
                    navigator.replace(&Route::Login);
                }
            }
            None => navigator.replace(&Route::Login),
        }
    });
    html! {}
}
