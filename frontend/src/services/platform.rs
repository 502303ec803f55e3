//! Thin wrappers over browser APIs (clock, time zone, randomness, storage, visibility, title,
//! notifications) so the rest of the code reads plainly. All of them degrade quietly when an
//! API is missing.

use crate::logic::{text, time};
use chrono::{DateTime, NaiveDateTime, Utc};
use wasm_bindgen::JsValue;
use web_sys::{Notification, NotificationOptions, NotificationPermission};

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// `t` in the browser's local time zone (daylight saving included).
pub fn local(t: DateTime<Utc>) -> NaiveDateTime {
    let date = js_sys::Date::new(&JsValue::from_f64(t.timestamp_millis() as f64));
    // JS gives minutes *behind* UTC (UTC+1 → -60).
    time::to_local(t, -(date.get_timezone_offset() as i32))
}

/// "Now" in local time.
pub fn local_now() -> NaiveDateTime {
    local(time::from_millis(now_ms()))
}

/// A random number in `[0, 1)`.
pub fn random() -> f64 {
    js_sys::Math::random()
}

/// A fresh UUID v4 from the browser's CSPRNG (falling back to `Math.random`).
pub fn new_client_id() -> String {
    let mut bytes = [0u8; 16];
    let filled = web_sys::window()
        .and_then(|w| w.crypto().ok())
        .is_some_and(|c| c.get_random_values_with_u8_array(&mut bytes).is_ok());
    if !filled {
        for b in &mut bytes {
            *b = (random() * 256.0) as u8;
        }
    }
    text::uuid_v4(bytes)
}

pub fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

pub fn document() -> Option<web_sys::Document> {
    web_sys::window()?.document()
}

/// Whether the browser believes it has a network (`navigator.onLine`); true when it cannot tell.
pub fn online() -> bool {
    web_sys::window().is_none_or(|w| w.navigator().on_line())
}

/// Resolves at the window's next `name` event (`online`, `offline`). The listener is added
/// at once, not when first polled, so an event between the call and the first poll counts.
pub fn next_window_event(name: &'static str) -> impl std::future::Future<Output = ()> {
    let (tx, rx) = futures::channel::oneshot::channel::<()>();
    let mut tx = Some(tx);
    let listener = web_sys::window().map(|w| {
        gloo_events::EventListener::new(&w, name, move |_| {
            if let Some(tx) = tx.take() {
                let _ = tx.send(());
            }
        })
    });
    async move {
        match listener {
            Some(_listener) => {
                let _ = rx.await;
            }
            None => futures::future::pending().await,
        }
    }
}

/// Focuses the element with this id unless something already has the focus.
pub fn focus_if_idle(id: &str) {
    use wasm_bindgen::JsCast;
    let Some(doc) = document() else {
        return;
    };
    let idle = doc
        .active_element()
        .is_none_or(|el| doc.body().is_some_and(|b| *el == **b));
    if let Some(el) = doc
        .get_element_by_id(id)
        .filter(|_| idle)
        .and_then(|el| el.dyn_into::<web_sys::HtmlElement>().ok())
    {
        let _ = el.focus();
    }
}

/// Whether the tab is hidden (another tab in front, window minimised).
pub fn document_hidden() -> bool {
    document().is_some_and(|d| d.hidden())
}

pub fn set_title(title: &str) {
    if let Some(d) = document() {
        d.set_title(title);
    }
}

/// Browser notification permission, as the UI needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotifyPermission {
    Unsupported,
    Default,
    Granted,
    Denied,
}

pub fn notify_permission() -> NotifyPermission {
    let supported = web_sys::window().is_some_and(|w| {
        js_sys::Reflect::has(&w, &JsValue::from_str("Notification")).unwrap_or(false)
    });
    if !supported {
        return NotifyPermission::Unsupported;
    }
    match Notification::permission() {
        NotificationPermission::Granted => NotifyPermission::Granted,
        NotificationPermission::Denied => NotifyPermission::Denied,
        _ => NotifyPermission::Default,
    }
}

/// Asks for permission; call only from a user action (a click), never on load.
pub async fn request_notify_permission() -> NotifyPermission {
    if notify_permission() == NotifyPermission::Unsupported {
        return NotifyPermission::Unsupported;
    }
    if let Ok(promise) = Notification::request_permission() {
        let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
    }
    notify_permission()
}

/// Shows a system notification (when permitted); clicking it focuses the tab.
pub fn notify(title: &str, body: &str, tag: &str) {
    if notify_permission() != NotifyPermission::Granted {
        return;
    }
    let options = NotificationOptions::new();
    options.set_body(body);
    options.set_tag(tag);
    if let Ok(n) = Notification::new_with_options(title, &options) {
        let focus = wasm_bindgen::closure::Closure::<dyn Fn()>::new(|| {
            if let Some(w) = web_sys::window() {
                let _ = w.focus();
            }
        });
        n.set_onclick(Some(wasm_bindgen::JsCast::unchecked_ref(focus.as_ref())));
        // The notification may outlive any Rust owner; the closure is tiny.
        focus.forget();
    }
}

/// Whether a CSS media query matches (false when the browser cannot tell).
fn media(query: &str) -> bool {
    web_sys::window()
        .and_then(|w| w.match_media(query).ok().flatten())
        .is_some_and(|m| m.matches())
}

/// The phone layout of styles.css (one pane at a time).
pub fn is_narrow() -> bool {
    media("(max-width: 760px)")
}

/// A screen without hover (touch): message actions open with a tap instead.
pub fn is_touch() -> bool {
    media("(hover: none)")
}

/// Copies text to the clipboard (`navigator.clipboard.writeText`); false when unsupported.
/// Called through `Reflect` because web-sys gates its Clipboard bindings behind unstable APIs.
pub fn copy_text(text: &str) -> bool {
    use wasm_bindgen::JsCast;
    let get = |target: &JsValue, key: &str| js_sys::Reflect::get(target, &JsValue::from_str(key));
    let Some(window) = web_sys::window() else {
        return false;
    };
    let Ok(clipboard) = get(&window, "navigator").and_then(|n| get(&n, "clipboard")) else {
        return false;
    };
    let Ok(write) = get(&clipboard, "writeText").and_then(|f| f.dyn_into::<js_sys::Function>())
    else {
        return false;
    };
    write.call1(&clipboard, &JsValue::from_str(text)).is_ok()
}
