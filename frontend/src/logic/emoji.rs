//! The reaction picker's data: eight frequent emoji built in, and the full Unicode list,
//! grouped and searchable by name and shortcode, fetched from `/emoji.tsv` only when needed.
//!
//! `public/emoji.tsv` is generated from the `emojis` crate (CLDR names, GitHub shortcodes) by
//! this module's tests, which also fail when it no longer matches the crate. Shipped as a file
//! rather than linked in, the list costs the `.wasm` nothing: the crate's tables (every skin
//! tone, lookup maps) would add ~90 KB gzipped to a bundle that must stay under 350 KB.

use crate::logic::text::to_lower;

/// Shown first, before the full list is loaded (Slack's and Signal's defaults, roughly), with
/// their CLDR names (checked against the crate by the tests).
pub const FREQUENT: [(&str, &str); 8] = [
    ("👍", "thumbs up"),
    ("❤️", "red heart"),
    ("😂", "face with tears of joy"),
    ("🎉", "party popper"),
    ("😮", "face with open mouth"),
    ("😢", "crying face"),
    ("🙏", "folded hands"),
    ("👀", "eyes"),
];

/// Where the SPA finds the list (beside `index.html`, like `config.json`).
pub const LIST_PATH: &str = "/emoji.tsv";

/// One emoji of the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub emoji: String,
    pub name: String,
    pub shortcodes: Vec<String>,
}

/// The full list, in Unicode's order, by group.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EmojiList {
    pub groups: Vec<(String, Vec<Entry>)>,
}

/// Skin-tone modifiers (U+1F3FB–U+1F3FF): a toned emoji is named like its base.
fn strip_tones(emoji: &str) -> String {
    emoji
        .chars()
        .filter(|c| !('\u{1F3FB}'..='\u{1F3FF}').contains(c))
        .collect()
}

impl EmojiList {
    /// Reads `emoji.tsv`: `@Group` lines, then `emoji<TAB>name<TAB>shortcodes` lines; `# `
    /// starts a comment (with the space: `#️⃣` is an emoji).
    pub fn parse(text: &str) -> Self {
        let mut groups: Vec<(String, Vec<Entry>)> = Vec::new();
        for line in text.lines() {
            if line.is_empty() || line.starts_with("# ") {
                continue;
            }
            if let Some(group) = line.strip_prefix('@') {
                groups.push((group.to_owned(), Vec::new()));
                continue;
            }
            let mut fields = line.split('\t');
            let (Some(emoji), Some(name)) = (fields.next(), fields.next()) else {
                continue;
            };
            let shortcodes = fields
                .next()
                .map(|codes| codes.split_whitespace().map(str::to_owned).collect())
                .unwrap_or_default();
            if groups.is_empty() {
                groups.push((String::new(), Vec::new()));
            }
            if let Some((_, list)) = groups.last_mut() {
                list.push(Entry {
                    emoji: emoji.to_owned(),
                    name: name.to_owned(),
                    shortcodes,
                });
            }
        }
        Self { groups }
    }

    pub fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.groups.iter().flat_map(|(_, list)| list.iter())
    }

    pub fn len(&self) -> usize {
        self.groups.iter().map(|(_, list)| list.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The entries matching `query`, in the list's order.
    pub fn search(&self, query: &str) -> Vec<&Entry> {
        self.entries().filter(|e| matches(e, query)).collect()
    }

    /// The name of `emoji` (a skin-toned one by its base).
    pub fn name_of(&self, emoji: &str) -> Option<&str> {
        let find = |e: &str| {
            self.entries()
                .find(|x| x.emoji == e)
                .map(|x| x.name.as_str())
        };
        find(emoji).or_else(|| find(&strip_tones(emoji)))
    }
}

/// The name of `emoji` from the built-in frequent ones, then from the list when loaded.
pub fn name_of<'a>(emoji: &str, list: Option<&'a EmojiList>) -> Option<&'a str> {
    FREQUENT
        .iter()
        .find(|(e, _)| *e == emoji)
        .map(|(_, name)| *name)
        .or_else(|| list.and_then(|l| l.name_of(emoji)))
}

/// Whether `entry` matches a search: every word of `query` starts a word of its name, or the
/// query is part of one of its shortcodes ("thumbs", "party pop", ":tada:", "+1").
pub fn matches(entry: &Entry, query: &str) -> bool {
    let query = to_lower(query.trim());
    let query = query.trim_matches(':');
    if query.is_empty() {
        return true;
    }
    let name = to_lower(&entry.name);
    let by_name = query.split_whitespace().all(|word| {
        name.split(|c: char| c.is_whitespace() || c == '-' || c == ':')
            .any(|part| part.starts_with(word))
    });
    by_name || entry.shortcodes.iter().any(|code| code.contains(query))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHIPPED: &str = include_str!("../../public/emoji.tsv");

    fn group_label(group: emojis::Group) -> &'static str {
        use emojis::Group;
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

    /// `public/emoji.tsv` as the `emojis` crate makes it (default skin tones only; the
    /// picker offers each emoji once).
    fn generated() -> String {
        let mut out = String::from(
            "# The reaction picker's list, generated from the `emojis` crate by frontend/src/logic/emoji.rs\n\
             # (`UPDATE_EMOJI_LIST=1 cargo test -p frontend emoji`). Do not edit by hand.\n",
        );
        let mut group = None;
        for e in emojis::iter() {
            if group != Some(e.group()) {
                group = Some(e.group());
                out.push('@');
                out.push_str(group_label(e.group()));
                out.push('\n');
            }
            let codes: Vec<&str> = e.shortcodes().collect();
            out.push_str(&format!(
                "{}\t{}\t{}\n",
                e.as_str(),
                e.name(),
                codes.join(" ")
            ));
        }
        out
    }

    fn list() -> EmojiList {
        EmojiList::parse(SHIPPED)
    }

    #[test]
    fn the_shipped_list_is_the_emojis_crate_list() {
        let fresh = generated();
        if std::env::var_os("UPDATE_EMOJI_LIST").is_some() {
            let path = concat!(env!("CARGO_MANIFEST_DIR"), "/public/emoji.tsv");
            std::fs::write(path, &fresh).expect("write public/emoji.tsv");
            return;
        }
        assert!(
            SHIPPED == fresh,
            "public/emoji.tsv is out of date: run UPDATE_EMOJI_LIST=1 cargo test -p frontend emoji"
        );
        assert_eq!(list().len(), emojis::iter().count());
        assert_eq!(list().groups.len(), 9);
        assert_eq!(list().groups[0].0, "Smileys & emotion");
        assert_eq!(list().name_of("#️⃣"), Some("keycap: #"));
    }

    #[test]
    fn frequent_emoji_carry_their_cldr_names() {
        for (emoji, name) in FREQUENT {
            assert_eq!(emojis::get(emoji).map(|e| e.name()), Some(name), "{emoji}");
        }
        let l = list();
        assert_eq!(name_of("👍", None), Some("thumbs up"));
        assert_eq!(name_of("🦄", None), None, "not loaded yet");
        assert_eq!(name_of("🦄", Some(&l)), Some("unicorn"));
        assert_eq!(name_of("👍🏽", Some(&l)), Some("thumbs up"));
        assert_eq!(name_of("nope", Some(&l)), None);
    }

    #[test]
    fn search_by_name_words_and_shortcodes() {
        let l = list();
        let found =
            |q: &str| -> Vec<String> { l.search(q).into_iter().map(|e| e.emoji.clone()).collect() };
        assert!(found("thumbs").contains(&"👍".to_owned()));
        assert!(found("THUMBS up").contains(&"👍".to_owned()));
        assert!(found("party pop").contains(&"🎉".to_owned()));
        assert!(found(":tada:").contains(&"🎉".to_owned()));
        assert!(found("+1").contains(&"👍".to_owned()));
        assert!(!found("thumbs").contains(&"🎉".to_owned()));
        assert!(found("zzzzqqq").is_empty());
        assert_eq!(l.search("").len(), l.len());
    }

    #[test]
    fn parsing_skips_comments_and_keeps_groups() {
        let l = EmojiList::parse("# c\n@A\n😀\tgrinning face\tgrinning\n@B\n🐶\tdog face\n");
        assert_eq!(l.groups.len(), 2);
        assert_eq!(l.groups[1].1[0].shortcodes, Vec::<String>::new());
        assert_eq!(l.name_of("😀"), Some("grinning face"));
        assert!(!l.is_empty());
    }
}
