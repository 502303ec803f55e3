//! Routes and the top-level component.

use crate::components::provider::ChatProvider;
use crate::hooks::use_chat;
use crate::pages::auth::{AuthMode, AuthPage};
use crate::pages::chat::ChatPage;
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
    #[at("/rooms/:id")]
    Room { id: i64 },
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
#[derive(Debug, Default, Serialize, Deserialize)]
struct NextQuery {
    next: Option<String>,
}

/// The conversation a `next` query names, if any (only rooms: never back to an auth page).
fn next_route(location: Option<&Location>) -> Option<Route> {
    let next = location?.query::<NextQuery>().ok()?.next?;
    Route::recognize(&next).filter(|r| matches!(r, Route::Room { .. }))
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
        (Session::SignedIn(_), true) => {
            let to = next_route(location.as_ref()).unwrap_or(Route::Home);
            html! { <Redirect<Route> {to} /> }
        }
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
        let remembered = matches!(Route::recognize(&path), Some(Route::Room { .. }))
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
