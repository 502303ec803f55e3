//! Routes and the top-level component.

use crate::components::provider::ChatProvider;
use crate::hooks::use_chat;
use crate::pages::auth::{AuthMode, AuthPage};
use crate::pages::chat::ChatPage;
use crate::state::Session;
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

/// Sends visitors to the page their session allows; waits while a stored session is checked.
#[component]
fn Gate(props: &GateProps) -> Html {
    let chat = use_chat();
    match (&chat.state().session, props.public) {
        (Session::Checking, _) => html! {
            <div class="splash" role="status" aria-live="polite">
                <div class="spinner" aria-hidden="true"></div>
                <p>{ chat.state().notice.clone().unwrap_or_else(|| "Loading your conversations…".to_owned()) }</p>
            </div>
        },
        (Session::SignedOut, false) => html! { <Redirect<Route> to={Route::Login} /> },
        (Session::SignedIn(_), true) => html! { <Redirect<Route> to={Route::Home} /> },
        _ => props.children.clone(),
    }
}
