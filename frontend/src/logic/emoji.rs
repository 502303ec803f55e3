//! The reaction picker's data: a row of frequent emoji, and the full Unicode list of the
//! `emojis` crate (CLDR names and GitHub shortcodes), grouped and searchable by name.

use emojis::{Emoji, Group};

/// Shown first, without opening the full list (Slack's and Signal's defaults, roughly).
pub const FREQUENT: [&str; 8] = ["👍", "❤️", "😂", "🎉", "😮", "😢", "🙏", "👀"];

/// A group's heading in the picker.
pub fn group_label(group: Group) -> &'static str {
    match group {
        Group::SmileysAndEmotion => "Smileys & emotion",
        Group::PeopleAndBody => "People & body",
        Group::AnimalsAndNature => "Animals & nature",
        Group::FoodAndDrink => "Food & drink",
        Group::TravelAndPlaces => "Travel & places",
        Group::Activities => "Activities",
        Group::Objects => "Objects",
        Group::Symbols => "Symbols",
        Group::Flags => "Flags",
    }
}

/// Whether `emoji` matches a search: every word of `query` starts a word of its name or is
/// part of one of its shortcodes ("thumbs", "+1", "party popper", "tada").
pub fn matches(emoji: &Emoji, query: &str) -> bool {
    let query = query.trim().to_lowercase();
    if query.is_empty() {
        return true;
    }
    let query = query.trim_matches(':');
    let name = emoji.name().to_lowercase();
    let by_name = query.split_whitespace().all(|word| {
        name.split(|c: char| c.is_whitespace() || c == '-' || c == ':')
            .any(|part| part.starts_with(word))
    });
    by_name || emoji.shortcodes().any(|code| code.contains(query))
}

/// The emoji matching `query`, in the list's order (default skin tone only).
pub fn search(query: &str) -> Vec<&'static Emoji> {
    emojis::iter().filter(|e| matches(e, query)).collect()
}

/// The full list, one entry per group, in the list's order.
pub fn groups() -> Vec<(Group, Vec<&'static Emoji>)> {
    Group::iter().map(|g| (g, g.emojis().collect())).collect()
}

/// The name shown in a tooltip and read by screen readers ("thumbs up").
pub fn name_of(emoji: &str) -> Option<&'static str> {
    emojis::iter()
        .find(|e| e.as_str() == emoji)
        .or_else(|| {
            // A skin-tone variant: its base emoji's entry carries the variants.
            emojis::iter().find(|e| {
                e.skin_tones()
                    .is_some_and(|mut tones| tones.any(|t| t.as_str() == emoji))
            })
        })
        .map(|e| e.name())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(query: &str) -> Vec<&'static str> {
        search(query).into_iter().map(|e| e.as_str()).collect()
    }

    #[test]
    fn frequent_emoji_are_in_the_list() {
        for e in FREQUENT {
            assert!(name_of(e).is_some(), "{e}");
        }
        assert_eq!(name_of("👍"), Some("thumbs up"));
        assert_eq!(name_of("👍🏽"), Some("thumbs up"));
        assert_eq!(name_of("nope"), None);
    }

    #[test]
    fn search_by_name_words_and_shortcodes() {
        assert!(found("thumbs").contains(&"👍"));
        assert!(found("THUMBS up").contains(&"👍"));
        assert!(found("party pop").contains(&"🎉"));
        assert!(found(":tada:").contains(&"🎉"));
        assert!(found("+1").contains(&"👍"));
        assert!(!found("thumbs").contains(&"🎉"));
        assert!(found("zzzzqqq").is_empty());
        assert_eq!(search("").len(), emojis::iter().count());
    }

    #[test]
    fn groups_cover_the_whole_list_once() {
        let groups = groups();
        assert_eq!(groups.len(), 9);
        let total: usize = groups.iter().map(|(_, list)| list.len()).sum();
        assert_eq!(total, emojis::iter().count());
        assert_eq!(group_label(groups[0].0), "Smileys & emotion");
    }
}
