//! The session token, kept in `localStorage` so a reload (or a new tab) stays signed in.

use super::platform::local_storage;

const TOKEN_KEY: &str = "chat.token";

pub fn token() -> Option<String> {
    local_storage()?.get_item(TOKEN_KEY).ok().flatten()
}

pub fn store_token(token: &str) {
    if let Some(storage) = local_storage() {
        // A full or disabled storage only costs the session surviving a reload.
        let _ = storage.set_item(TOKEN_KEY, token);
    }
}

pub fn clear_token() {
    if let Some(storage) = local_storage() {
        let _ = storage.remove_item(TOKEN_KEY);
    }
}
