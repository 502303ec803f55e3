//! Small text helpers: client ids, avatar initials and colours, one-line previews.

use std::fmt::Write;

/// Formats 16 random bytes as a version-4 UUID (`xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx`).
pub fn uuid_v4(mut bytes: [u8; 16]) -> String {
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let mut out = String::with_capacity(36);
    for (i, byte) in bytes.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.push('-');
        }
        // Writing into a String cannot fail.
        let _ = write!(out, "{byte:02x}");
    }
    out
}

/// Up to two upper-case initials of a display name ("Ada Lovelace" → "AL", "bob" → "B").
pub fn initials(name: &str) -> String {
    let mut words = name.split_whitespace().filter_map(|w| w.chars().next());
    let first = words.next();
    let last = words.next_back();
    let out = to_upper(&first.into_iter().chain(last).collect::<String>());
    if out.is_empty() {
        "?".to_owned()
    } else {
        out
    }
}

/// `text` in upper case (full Unicode mapping, "ß" → "SS"). In the browser this is
/// JavaScript's `toUpperCase`, which spares the bundle Rust's upper-case table.
pub fn to_upper(text: &str) -> String {
    if text.is_ascii() {
        return text.to_ascii_uppercase();
    }
    #[cfg(target_arch = "wasm32")]
    {
        js_sys::JsString::from(text).to_upper_case().into()
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        text.to_uppercase()
    }
}

/// `text` in lower case, as `str::to_lowercase` does it (final sigma included). In the browser
/// this is JavaScript's `toLowerCase`, which spares the bundle Rust's lower-case table.
pub fn to_lower(text: &str) -> String {
    if text.is_ascii() {
        return text.to_ascii_lowercase();
    }
    #[cfg(target_arch = "wasm32")]
    {
        js_sys::JsString::from(text).to_lower_case().into()
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        text.to_lowercase()
    }
}

/// One char in lower case, as `char::to_lowercase` does it (no context: "Σ" → "σ").
pub fn char_to_lower(c: char, mut push: impl FnMut(char)) {
    if c.is_ascii() {
        push(c.to_ascii_lowercase());
    } else {
        to_lower(c.encode_utf8(&mut [0; 4])).chars().for_each(push);
    }
}

/// A stable hue (0–359) for a user's avatar, so each person keeps a colour.
pub fn avatar_hue(user_id: i64) -> u32 {
    // A multiplicative hash spreads consecutive ids around the colour wheel.
    ((user_id as u64).wrapping_mul(2_654_435_761) % 360) as u32
}

/// A message body as one line of at most `max_chars` characters, for list previews and
/// notifications: runs of whitespace (newlines included) become one space.
pub fn preview(body: &str, max_chars: usize) -> String {
    let flat = body.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max_chars {
        return flat;
    }
    let mut cut: String = flat.chars().take(max_chars.saturating_sub(1)).collect();
    cut.truncate(cut.trim_end().len());
    cut.push('…');
    cut
}

/// A short name for a browser's user agent ("Chrome on Linux"), for the sessions list.
pub fn device_name(user_agent: &str) -> String {
    let ua = user_agent;
    let browser = [
        ("Edg/", "Edge"),
        ("Firefox/", "Firefox"),
        ("Chromium/", "Chromium"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
        ("curl/", "curl"),
    ]
    .into_iter()
    .find(|(mark, _)| ua.contains(mark))
    .map(|(_, name)| name);
    let system = [
        ("Android", "Android"),
        ("iPhone", "iPhone"),
        ("iPad", "iPad"),
        ("Windows", "Windows"),
        ("Mac OS", "macOS"),
        ("CrOS", "ChromeOS"),
        ("Linux", "Linux"),
    ]
    .into_iter()
    .find(|(mark, _)| ua.contains(mark))
    .map(|(_, name)| name);
    match (browser, system) {
        (Some(b), Some(s)) => format!("{b} on {s}"),
        (Some(b), None) => b.to_owned(),
        (None, Some(s)) => s.to_owned(),
        (None, None) if ua.trim().is_empty() => "Unknown device".to_owned(),
        (None, None) => preview(ua, 40),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_have_the_v4_shape() {
        let id = uuid_v4([0xff; 16]);
        assert_eq!(id, "ffffffff-ffff-4fff-bfff-ffffffffffff");
        let id = uuid_v4([0; 16]);
        assert_eq!(id, "00000000-0000-4000-8000-000000000000");
        assert_eq!(id.len(), 36);
    }

    #[test]
    fn initials_take_first_and_last_word() {
        assert_eq!(initials("Ada Lovelace"), "AL");
        assert_eq!(initials("ada king lovelace"), "AL");
        assert_eq!(initials("bob"), "B");
        assert_eq!(initials("  émile zola "), "ÉZ");
        assert_eq!(initials("   "), "?");
    }

    #[test]
    fn hues_are_stable_and_in_range() {
        assert_eq!(avatar_hue(1), avatar_hue(1));
        assert_ne!(avatar_hue(1), avatar_hue(2));
        assert!((0..1000).all(|id| avatar_hue(id) < 360));
        assert!(avatar_hue(-5) < 360);
    }

    #[test]
    fn previews_flatten_and_cut() {
        assert_eq!(preview("hi\n\nthere  you", 40), "hi there you");
        assert_eq!(preview("abcdefghij", 5), "abcd…");
        assert_eq!(preview("abc  defgh", 5), "abc…");
        assert_eq!(preview("", 5), "");
    }

    #[test]
    fn devices_get_short_names() {
        let chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36";
        assert_eq!(device_name(chrome), "Chrome on Linux");
        assert_eq!(
            device_name("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Safari/604.1"),
            "Safari on iPhone"
        );
        assert_eq!(device_name(""), "Unknown device");
        assert_eq!(device_name("curl/8.0"), "curl");
    }
}
