//! What this browser keeps for the user besides the session: the theme, a draft per
//! conversation, and the messages not yet acknowledged (the outbox), all in `localStorage`.
//! The values are plain strings (no serde here: its code for one more type costs `.wasm`).

use super::platform::{document, local_storage};
use shared::{RoomId, UserId};

/// Read by the inline script of index.html too (before first paint), so keep them in step.
const THEME_KEY: &str = "chat.theme";

/// The colour theme: the system's (`prefers-color-scheme`) unless chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Theme {
    System,
    Light,
    Dark,
}

impl Theme {
    pub const ALL: [Theme; 3] = [Theme::System, Theme::Light, Theme::Dark];

    pub fn label(self) -> &'static str {
        match self {
            Theme::System => "System",
            Theme::Light => "Light",
            Theme::Dark => "Dark",
        }
    }

    /// The settings radio's element id (not `to_lowercase()` of the label: Rust's Unicode
    /// case tables would land in the `.wasm`).
    pub fn id(self) -> &'static str {
        match self {
            Theme::System => "theme-system",
            Theme::Light => "theme-light",
            Theme::Dark => "theme-dark",
        }
    }

    /// The stored and `data-theme` value; none for System.
    fn attr(self) -> Option<&'static str> {
        match self {
            Theme::System => None,
            Theme::Light => Some("light"),
            Theme::Dark => Some("dark"),
        }
    }
}

fn get(key: &str) -> Option<String> {
    local_storage()?.get_item(key).ok().flatten()
}

/// Stores `value`, or removes the key for `None`. Storage may be full or off (private
/// windows): then the preference lasts only this page load, which is all we can do.
fn put(key: &str, value: Option<&str>) {
    if let Some(storage) = local_storage() {
        let _ = match value {
            Some(v) => storage.set_item(key, v),
            None => storage.remove_item(key),
        };
    }
}

pub fn theme() -> Theme {
    match get(THEME_KEY).as_deref() {
        Some("light") => Theme::Light,
        Some("dark") => Theme::Dark,
        _ => Theme::System,
    }
}

/// Stores the theme and applies it to `<html data-theme>` at once.
pub fn set_theme(theme: Theme) {
    put(THEME_KEY, theme.attr());
    if let Some(root) = document().and_then(|d| d.document_element()) {
        let _ = match theme.attr() {
            Some(v) => root.set_attribute("data-theme", v),
            None => root.remove_attribute("data-theme"),
        };
    }
}

/// The username last signed in on this browser: a visitor without one is here for the first
/// time (greeted "Welcome", not "Welcome back").
const USERNAME_KEY: &str = "chat.username";

pub fn last_username() -> Option<String> {
    get(USERNAME_KEY).filter(|u| !u.is_empty())
}

pub fn set_last_username(username: &str) {
    put(USERNAME_KEY, Some(username));
}

fn draft_key(me: UserId, room: RoomId) -> String {
    format!("chat.draft.{}.{}", me.0, room.0)
}

/// What `me` had typed and not sent in a room.
pub fn draft(me: UserId, room: RoomId) -> Option<String> {
    get(&draft_key(me, room)).filter(|d| !d.is_empty())
}

/// Keeps the draft (an empty or blank one is removed).
pub fn set_draft(me: UserId, room: RoomId, text: &str) {
    let keep = !text.trim().is_empty();
    put(&draft_key(me, room), keep.then_some(text));
}

fn outbox_key(me: UserId) -> String {
    format!("chat.outbox.{}", me.0)
}

/// The kept outbox of `me`, as [`crate::logic::outbox::encode`] wrote it.
pub fn outbox(me: UserId) -> String {
    get(&outbox_key(me)).unwrap_or_default()
}

pub fn set_outbox(me: UserId, encoded: &str) {
    put(&outbox_key(me), (!encoded.is_empty()).then_some(encoded));
}

fn notice_key(me: UserId) -> String {
    format!("chat.admins-notice.{}", me.0)
}

/// The one-time notice after sign-up (what administrators can read) is still to be shown.
pub fn admins_notice_due(me: UserId) -> bool {
    get(&notice_key(me)).is_some()
}

pub fn set_admins_notice_due(me: UserId, due: bool) {
    put(&notice_key(me), due.then_some("1"));
}
