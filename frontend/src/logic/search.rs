//! Message search on the client side: when a query is worth sending, and where it matches a
//! result's text (to highlight it), case-insensitively in every script that has case.

use crate::logic::text::char_to_lower;
use std::ops::Range;

/// Queries shorter than this (in characters, trimmed) are never sent (api.md: 2–200).
pub const MIN_CHARS: usize = 2;
pub const MAX_CHARS: usize = 200;

/// The query as it is sent, or `None` when it is too short (or too long) to search.
pub fn query(raw: &str) -> Option<&str> {
    let q = raw.trim();
    (MIN_CHARS..=MAX_CHARS)
        .contains(&q.chars().count())
        .then_some(q)
}

/// Byte ranges of `text` where `q` occurs, compared in lower case, not overlapping.
pub fn match_ranges(text: &str, q: &str) -> Vec<Range<usize>> {
    let mut needle: Vec<char> = Vec::new();
    q.trim()
        .chars()
        .for_each(|c| char_to_lower(c, |l| needle.push(l)));
    if needle.is_empty() {
        return Vec::new();
    }
    // Each lower-case char with the byte range of the original char it comes from.
    let mut folded: Vec<(char, usize, usize)> = Vec::with_capacity(text.len());
    for (i, c) in text.char_indices() {
        char_to_lower(c, |l| folded.push((l, i, i + c.len_utf8())));
    }
    let mut ranges: Vec<Range<usize>> = Vec::new();
    let mut i = 0;
    while i + needle.len() <= folded.len() {
        let window = &folded[i..i + needle.len()];
        let starts_char = i == 0 || folded[i - 1].1 != folded[i].1;
        if starts_char && window.iter().map(|f| f.0).eq(needle.iter().copied()) {
            let range = window[0].1..window[needle.len() - 1].2;
            if ranges.last().is_none_or(|last| last.end <= range.start) {
                ranges.push(range);
            }
            i += needle.len();
        } else {
            i += 1;
        }
    }
    ranges
}

/// `text` cut into pieces, each marked as a match of `q` or not.
pub fn segments<'a>(text: &'a str, q: &str) -> Vec<(&'a str, bool)> {
    let mut out = Vec::new();
    let mut at = 0;
    for r in match_ranges(text, q) {
        if r.start > at {
            out.push((&text[at..r.start], false));
        }
        out.push((&text[r.clone()], true));
        at = r.end;
    }
    if at < text.len() {
        out.push((&text[at..], false));
    }
    out
}

/// The part of a long text worth showing: it starts a little before the first match, so the
/// match is visible even when it lies far into the message.
pub fn excerpt(text: &str, q: &str, lead_chars: usize) -> String {
    let Some(first) = match_ranges(text, q).into_iter().next() else {
        return text.to_owned();
    };
    let before = text[..first.start].chars().count();
    if before <= lead_chars * 2 {
        return text.to_owned();
    }
    let skip = text[..first.start]
        .char_indices()
        .nth(before - lead_chars)
        .map_or(0, |(i, _)| i);
    // Start at a word when one begins close by.
    let start = text[skip..first.start]
        .find(char::is_whitespace)
        .filter(|&w| w < lead_chars / 2)
        .map_or(skip, |w| skip + w + 1);
    format!("…{}", &text[start..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_blank_queries_are_not_sent() {
        assert_eq!(query(" a "), None);
        assert_eq!(query("  "), None);
        assert_eq!(query(" ab "), Some("ab"));
        assert_eq!(query("대화"), Some("대화"));
        assert_eq!(query(&"x".repeat(201)), None);
    }

    #[test]
    fn matches_ignore_case_in_every_script_with_case() {
        let text = "Voici l'ÉCOLE, et l'école";
        let hits: Vec<&str> = match_ranges(text, "école")
            .into_iter()
            .map(|r| &text[r])
            .collect();
        assert_eq!(hits, ["ÉCOLE", "école"]);
        let korean = match_ranges("대화방을 열자", "대화");
        assert_eq!(korean.len(), 1);
        assert_eq!(korean[0], 0..6, "byte offsets of two three-byte syllables");
        assert!(match_ranges("nothing", "zz").is_empty());
    }

    #[test]
    fn segments_cover_the_whole_text() {
        assert_eq!(
            segments("Pizza at pizzeria", "PIZZ"),
            [
                ("Pizz", true),
                ("a at ", false),
                ("pizz", true),
                ("eria", false)
            ]
        );
        assert_eq!(segments("abc", "x"), [("abc", false)]);
    }

    #[test]
    fn a_far_match_is_brought_into_view() {
        let text = format!("{} the address is here", "word ".repeat(40));
        let cut = excerpt(&text, "address", 20);
        assert!(cut.starts_with('…'));
        assert!(cut.contains("address"));
        assert!(cut.chars().count() < 60);
        assert_eq!(excerpt("short address", "address", 20), "short address");
    }
}
