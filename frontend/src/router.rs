//! The little of a router this app uses, written for it: yew-router (with its route
//! recognizer, gloo-history and URL-encoding crates) cost 26 KB of gzipped .wasm.
//! Same behaviour as yew-router 0.20 for our routes: paths lose one trailing and one leading
//! `/` before matching, `:id` is one percent-decoded segment parsed as an integer, unknown
//! paths are the not-found route, `?next=` is form-encoded; the tests compare with yew-router.

use crate::app::NextQuery;
use gloo_events::EventListener;
use std::rc::Rc;
use yew::prelude::*;

/// A set of routes: which one a path is (the not-found route when none), and its path.
pub trait Routable: Sized {
    fn recognize(path: &str) -> Option<Self>;
    fn to_path(&self) -> String;
}

/// What routes match: the path without one trailing, then one leading slash.
pub fn route_path(path: &str) -> &str {
    let path = path.strip_suffix('/').unwrap_or(path);
    path.strip_prefix('/').unwrap_or(path)
}

/// A `:param` segment: non-empty, no `/`, percent-decoded to UTF-8, then parsed.
pub fn segment<T: std::str::FromStr>(raw: &str) -> Option<T> {
    if raw.is_empty() || raw.contains('/') {
        return None;
    }
    String::from_utf8(percent_decode(raw.as_bytes(), false))
        .ok()?
        .parse()
        .ok()
}

fn hex(b: u8) -> Option<u8> {
    char::from(b).to_digit(16).map(|d| d as u8)
}

/// `%XX` to its byte (a `%` without two hex digits stays); `+` to a space in a query.
fn percent_decode(raw: &[u8], plus_is_space: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let b = raw[i];
        let escaped = (b == b'%')
            .then(|| Some(hex(*raw.get(i + 1)?)? << 4 | hex(*raw.get(i + 2)?)?))
            .flatten();
        match escaped {
            Some(byte) => {
                out.push(byte);
                i += 3;
                continue;
            }
            None if plus_is_space && b == b'+' => out.push(b' '),
            None => out.push(b),
        }
        i += 1;
    }
    out
}

/// A query value as `application/x-www-form-urlencoded` writes it.
fn form_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for &b in value.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => {
                out.push(char::from(b));
            }
            b' ' => out.push('+'),
            _ => {
                const HEX: &[u8; 16] = b"0123456789ABCDEF";
                out.push('%');
                out.push(char::from(HEX[usize::from(b >> 4)]));
                out.push(char::from(HEX[usize::from(b & 15)]));
            }
        }
    }
    out
}

/// The query string (without `?`) of a `NextQuery`: empty when there is no `next`.
pub fn to_query(query: &NextQuery) -> String {
    query
        .next
        .as_deref()
        .map(|next| format!("next={}", form_encode(next)))
        .unwrap_or_default()
}

/// The `NextQuery` of a query string (with or without `?`); none when `next` is repeated.
pub fn from_query(search: &str) -> Option<NextQuery> {
    let search = search.strip_prefix('?').unwrap_or(search);
    let decode =
        |s: &str| String::from_utf8_lossy(&percent_decode(s.as_bytes(), true)).into_owned();
    let mut next = None;
    for pair in search.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        if decode(key) == "next" {
            if next.is_some() {
                return None;
            }
            next = Some(decode(value));
        }
    }
    Some(NextQuery { next })
}

/// `path?query`, or the path alone for an empty query.
fn with_query(path: &str, query: &str) -> String {
    if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{query}")
    }
}

/// The page's location; every navigation makes a new one (`ctr`), as yew-router's did, so
/// whatever reads it renders again even when the path is the same.
#[derive(Clone, PartialEq)]
pub struct Location {
    path: String,
    search: String,
    ctr: u32,
}

impl Location {
    fn read(ctr: u32) -> Self {
        let location = web_sys::window().map(|w| w.location());
        let read = |f: fn(&web_sys::Location) -> Result<String, wasm_bindgen::JsValue>| {
            location
                .as_ref()
                .and_then(|l| f(l).ok())
                .unwrap_or_default()
        };
        Self {
            path: read(web_sys::Location::pathname),
            search: read(web_sys::Location::search),
            ctr,
        }
    }

    pub fn path(&self) -> &str {
        &self.path
    }

    /// The `?next=` deep link, `None` when the query cannot be read as one.
    pub fn next_query(&self) -> Option<NextQuery> {
        from_query(&self.search)
    }
}

impl Reducible for Location {
    type Action = ();

    fn reduce(self: Rc<Self>, _: ()) -> Rc<Self> {
        Rc::new(Self::read(self.ctr.wrapping_add(1)))
    }
}

/// Changes the page's URL (History API) and renders what the new one shows.
#[derive(Clone)]
pub struct Navigator(UseReducerDispatcher<Location>);

impl PartialEq for Navigator {
    /// One navigator per app: its users never render again because of it.
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Navigator {
    fn go(&self, url: &str, replace: bool) {
        if let Some(history) = web_sys::window().and_then(|w| w.history().ok()) {
            let null = wasm_bindgen::JsValue::NULL;
            let _ = if replace {
                history.replace_state_with_url(&null, "", Some(url))
            } else {
                history.push_state_with_url(&null, "", Some(url))
            };
        }
        self.0.dispatch(());
    }

    pub fn push_path(&self, path: &str) {
        self.go(path, false);
    }

    pub fn push(&self, route: &impl Routable) {
        self.go(&route.to_path(), false);
    }

    pub fn replace(&self, route: &impl Routable) {
        self.go(&route.to_path(), true);
    }

    pub fn replace_with_query(&self, route: &impl Routable, query: &NextQuery) {
        self.go(&with_query(&route.to_path(), &to_query(query)), true);
    }
}

#[hook]
pub fn use_navigator() -> Option<Navigator> {
    use_context::<Navigator>()
}

#[hook]
pub fn use_location() -> Option<Location> {
    use_context::<Location>()
}

#[hook]
pub fn use_route<R: Routable + 'static>() -> Option<R> {
    use_location().and_then(|l| R::recognize(l.path()))
}

#[derive(Properties, PartialEq)]
pub struct RouterProps {
    pub children: Html,
}

/// Gives its children the location and the navigator; follows the browser's back and forward.
#[component]
pub fn BrowserRouter(props: &RouterProps) -> Html {
    let location = use_reducer(|| Location::read(0));
    let navigator = Navigator(location.dispatcher());
    {
        let dispatcher = location.dispatcher();
        use_effect_with((), move |_| {
            dispatcher.dispatch(());
            let listener = web_sys::window()
                .map(|w| EventListener::new(&w, "popstate", move |_| dispatcher.dispatch(())));
            move || drop(listener)
        });
    }
    html! {
        <ContextProvider<Navigator> context={navigator}>
            <ContextProvider<Location> context={(*location).clone()}>
                { props.children.clone() }
            </ContextProvider<Location>>
        </ContextProvider<Navigator>>
    }
}

#[derive(Properties, PartialEq)]
pub struct RedirectProps {
    /// The path to go to.
    pub to: AttrValue,
}

/// Goes to `to` (a new history entry) after every render.
#[component]
pub fn Redirect(props: &RedirectProps) -> Html {
    let navigator = use_navigator();
    let to = props.to.clone();
    use_effect(move || {
        if let Some(navigator) = navigator {
            navigator.push_path(&to);
        }
    });
    html! {}
}

#[derive(Properties, PartialEq)]
pub struct LinkProps {
    pub to: crate::app::Route,
    #[prop_or_default]
    pub query: Option<NextQuery>,
    #[prop_or_default]
    pub classes: Classes,
    #[prop_or_default]
    pub children: Html,
}

/// A link followed without reloading the page (modified clicks still open a tab or window).
#[component]
pub fn Link(props: &LinkProps) -> Html {
    let navigator = use_navigator();
    let href = AttrValue::from(with_query(
        &props.to.to_path(),
        &props.query.as_ref().map(to_query).unwrap_or_default(),
    ));
    let onclick = {
        let href = href.clone();
        Callback::from(move |e: MouseEvent| {
            if e.meta_key() || e.ctrl_key() || e.shift_key() || e.alt_key() {
                return;
            }
            e.prevent_default();
            if let Some(navigator) = &navigator {
                navigator.push_path(&href);
            }
        })
    };
    html! {
        <a class={props.classes.clone()} {href} {onclick}>{ props.children.clone() }</a>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::Route;
    use crate::pages::admin::AdminRoute;
    use serde::{Deserialize, Serialize};
    use yew_router::Routable as _;

    /// The routes as yew-router declared them, the reference.
    #[derive(Clone, PartialEq, Debug, yew_router::Routable)]
    enum Reference {
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
        #[at("/admin")]
        Admin,
        #[at("/admin/*")]
        AdminSection,
        #[not_found]
        #[at("/404")]
        NotFound,
    }

    #[derive(Clone, PartialEq, Debug, yew_router::Routable)]
    enum AdminReference {
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

    fn ours(r: Reference) -> Route {
        match r {
            Reference::Home => Route::Home,
            Reference::Login => Route::Login,
            Reference::Register => Route::Register,
            Reference::Settings => Route::Settings,
            Reference::Room { id } => Route::Room { id },
            Reference::Admin => Route::Admin,
            Reference::AdminSection => Route::AdminSection,
            Reference::NotFound => Route::NotFound,
        }
    }

    fn ours_admin(r: AdminReference) -> AdminRoute {
        match r {
            AdminReference::Users => AdminRoute::Users,
            AdminReference::Rooms => AdminRoute::Rooms,
            AdminReference::Room { id } => AdminRoute::Room { id },
            AdminReference::Audit => AdminRoute::Audit,
            AdminReference::NotFound => AdminRoute::NotFound,
        }
    }

    const PATHS: &[&str] = &[
        "",
        "/",
        "//",
        "///",
        "/login",
        "/login/",
        "/login//",
        "login",
        "/Login",
        "/loginx",
        "/register",
        "/settings",
        "/settings/x",
        "/rooms",
        "/rooms/",
        "/rooms/7",
        "/rooms/7/",
        "/rooms/-3",
        "/rooms/+4",
        "/rooms/007",
        "/rooms/%37",
        "/rooms/%3",
        "/rooms/%zz",
        "/rooms/7%2F8",
        "/rooms/7/8",
        "/rooms/x",
        "/rooms/99999999999999999999",
        "/rooms//7",
        "/admin",
        "/admin/",
        "/admin//",
        "/admin/x",
        "/admin/rooms",
        "/admin/rooms/",
        "/admin/rooms/12",
        "/admin/rooms/12/",
        "/admin/rooms/12/x",
        "/admin/rooms/a",
        "/admin/audit",
        "/admin/audit/",
        "/admin/audits",
        "/admin/404",
        "/admin/a/b/c",
        "/404",
        "/405",
        "/nowhere",
        "/rooms/%E2%82%AC",
        "/rooms/%FF",
        "/admin/rooms/%31%32",
    ];

    #[test]
    fn routes_are_recognised_as_yew_router_did() {
        for path in PATHS {
            assert_eq!(
                Route::recognize(path),
                Reference::recognize(path).map(ours),
                "{path:?}"
            );
            assert_eq!(
                AdminRoute::recognize(path),
                AdminReference::recognize(path).map(ours_admin),
                "{path:?}"
            );
        }
    }

    #[test]
    fn routes_have_yew_routers_paths() {
        for path in PATHS {
            if let Some(r) = Reference::recognize(path) {
                assert_eq!(ours(r.clone()).to_path(), r.to_path(), "{path:?}");
            }
            if let Some(r) = AdminReference::recognize(path) {
                assert_eq!(ours_admin(r.clone()).to_path(), r.to_path(), "{path:?}");
            }
        }
        assert_eq!(Route::Room { id: -5 }.to_path(), "/rooms/-5");
        assert_eq!(AdminRoute::Room { id: 9 }.to_path(), "/admin/rooms/9");
    }

    /// `NextQuery` as yew-router read and wrote it (serde_urlencoded).
    #[derive(Serialize, Deserialize, PartialEq, Debug)]
    struct Next {
        next: Option<String>,
    }

    #[test]
    fn next_queries_are_written_as_serde_urlencoded_did() {
        for next in [
            None,
            Some(""),
            Some("/rooms/7"),
            Some("/admin/rooms/3?x=1&y=2#top"),
            Some("a b+c%d*e-f.g_h~i!'()"),
            Some("é€😀\u{0}\t\n"),
        ] {
            let next = next.map(str::to_owned);
            let reference = serde_urlencoded::to_string(Next { next: next.clone() }).expect("ok");
            assert_eq!(to_query(&NextQuery { next }), reference);
        }
    }

    #[test]
    fn next_queries_are_read_as_serde_urlencoded_did() {
        for query in [
            "",
            "?",
            "next=%2Frooms%2F7",
            "?next=%2Frooms%2F7",
            "next=/rooms/7&x=1",
            "x=1&&next=a+b%20c",
            "next",
            "next=",
            "next=%",
            "next=%4",
            "next=%41%zz%e2%82%ac",
            "next=%FF%FE",
            "ne%78t=1",
            "next=1&next=2",
            "other=1",
            "next=a=b",
        ] {
            let reference = serde_urlencoded::from_str::<Next>(query.trim_start_matches('?'))
                .ok()
                .map(|n| NextQuery { next: n.next });
            assert_eq!(from_query(query), reference, "{query:?}");
        }
    }

    #[test]
    fn a_query_joins_its_path_only_when_there_is_one() {
        assert_eq!(with_query("/login", ""), "/login");
        assert_eq!(with_query("/login", "next=%2F"), "/login?next=%2F");
    }
}
