//! Splits message text into plain text and `http(s)` links, so links can be rendered as
//! anchors while everything else stays text (never HTML).

/// One piece of a message body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Segment<'a> {
    Text(&'a str),
    Link(&'a str),
}

/// Characters that may open a link's surroundings: a link starts at the beginning of the text,
/// after whitespace or after one of these.
const OPENERS: &[char] = &['(', '[', '<', '"', '\''];
/// Punctuation that ends a sentence rather than a URL when it is last.
const TRAILING: &[char] = &['.', ',', ';', ':', '!', '?', '\'', '"'];

/// Splits `text` into segments; concatenating them gives `text` back unchanged.
pub fn split_links(text: &str) -> Vec<Segment<'_>> {
    let mut segments = Vec::new();
    let mut plain_start = 0;
    let mut i = 0;
    while i < text.len() {
        let rest = &text[i..];
        let at_boundary = text[..i]
            .chars()
            .next_back()
            .is_none_or(|c| c.is_whitespace() || OPENERS.contains(&c));
        if at_boundary {
            if let Some(len) = link_len(rest) {
                if plain_start < i {
                    segments.push(Segment::Text(&text[plain_start..i]));
                }
                segments.push(Segment::Link(&rest[..len]));
                i += len;
                plain_start = i;
                continue;
            }
        }
        i += rest.chars().next().map_or(1, char::len_utf8);
    }
    if plain_start < text.len() {
        segments.push(Segment::Text(&text[plain_start..]));
    }
    segments
}

/// Length in bytes of the link at the start of `s`, if one starts there.
fn link_len(s: &str) -> Option<usize> {
    let scheme_len = ["https://", "http://"].iter().find_map(|scheme| {
        s.get(..scheme.len())
            .filter(|head| head.eq_ignore_ascii_case(scheme))
            .map(|_| scheme.len())
    })?;
    let end = s
        .find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"'))
        .unwrap_or(s.len());
    let mut candidate = &s[..end];
    // Drop sentence punctuation and closing brackets the URL did not open.
    while let Some(last) = candidate.chars().next_back() {
        let unbalanced = |open: char, close: char| {
            last == close && candidate.matches(close).count() > candidate.matches(open).count()
        };
        if !(TRAILING.contains(&last) || unbalanced('(', ')') || unbalanced('[', ']')) {
            break;
        }
        candidate = &candidate[..candidate.len() - last.len_utf8()];
    }
    (candidate.len() > scheme_len).then_some(candidate.len())
}

#[cfg(test)]
mod tests {
    use super::Segment::{Link, Text};
    use super::*;

    #[test]
    fn plain_text_is_one_segment() {
        assert_eq!(
            split_links("hello <b>there</b>"),
            vec![Text("hello <b>there</b>")]
        );
        assert!(split_links("").is_empty());
    }

    #[test]
    fn links_are_cut_out_of_text() {
        assert_eq!(
            split_links("see https://example.com/a?b=c#d now"),
            vec![
                Text("see "),
                Link("https://example.com/a?b=c#d"),
                Text(" now")
            ]
        );
        assert_eq!(
            split_links("http://x.org\nHTTPS://Y.org"),
            vec![Link("http://x.org"), Text("\n"), Link("HTTPS://Y.org")]
        );
    }

    #[test]
    fn trailing_punctuation_and_brackets_stay_text() {
        assert_eq!(
            split_links("(see https://en.wikipedia.org/wiki/Rust_(language)), ok."),
            vec![
                Text("(see "),
                Link("https://en.wikipedia.org/wiki/Rust_(language)"),
                Text("), ok."),
            ]
        );
        assert_eq!(
            split_links("go to https://a.b/c."),
            vec![Text("go to "), Link("https://a.b/c"), Text(".")]
        );
    }

    #[test]
    fn other_schemes_and_mid_word_matches_are_not_links() {
        assert_eq!(
            split_links("javascript:alert(1) xhttps://a.b"),
            vec![Text("javascript:alert(1) xhttps://a.b")]
        );
        assert_eq!(split_links("https://"), vec![Text("https://")]);
        assert_eq!(split_links("ftp://a.b"), vec![Text("ftp://a.b")]);
    }

    #[test]
    fn non_ascii_text_around_links_is_kept_intact() {
        let text = "héllo «https://ü.example/ä» ok";
        let joined: String = split_links(text)
            .iter()
            .map(|s| match s {
                Text(t) | Link(t) => *t,
            })
            .collect();
        assert_eq!(joined, text);
        assert!(split_links("ü https://ü.example/ä").contains(&Link("https://ü.example/ä")));
    }
}
