//! How an edited, deleted, answered or reacted-to message reads: the texts the list shows,
//! decided here so they are tested natively.

use super::text::preview;
use shared::{DeletedBy, Message, Reaction, ReplyRef, UserId, REPLY_EXCERPT_CHARS, TOMBSTONE_BODY};

/// What a deleted message shows in its place.
pub fn deleted_text(by: Option<DeletedBy>) -> &'static str {
    match by {
        // The v1 tombstone's words, which members have seen since moderation existed.
        Some(DeletedBy::Admin) => TOMBSTONE_BODY,
        _ => "This message was deleted",
    }
}

/// The quoted part of a reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Quote {
    Text(String),
    Deleted,
}

/// The quote of `reply`: the original's current text when this tab holds the original
/// (it may be newer than the excerpt the server sent), else the server's excerpt.
pub fn quote(reply: &ReplyRef, original: Option<&Message>) -> Quote {
    match original {
        Some(m) if m.deleted => Quote::Deleted,
        Some(m) => Quote::Text(preview(&m.body, REPLY_EXCERPT_CHARS)),
        None if reply.deleted => Quote::Deleted,
        None => Quote::Text(preview(&reply.excerpt, REPLY_EXCERPT_CHARS)),
    }
}

/// Whether `me` is among those who reacted.
pub fn is_mine(reaction: &Reaction, me: UserId) -> bool {
    reaction.user_ids.contains(&me)
}

/// The tooltip of a reaction chip: "You and Bob Chen reacted with thumbs up".
/// `name` gives a person's display name (the room's peer); `me` reads "You".
pub fn reacted_by(
    reaction: &Reaction,
    me: UserId,
    name: impl Fn(UserId) -> String,
    emoji_name: Option<&str>,
) -> String {
    let mut who: Vec<String> = Vec::new();
    if is_mine(reaction, me) {
        who.push("You".to_owned());
    }
    who.extend(
        reaction
            .user_ids
            .iter()
            .filter(|&&id| id != me)
            .map(|&id| name(id)),
    );
    let people = match who.as_slice() {
        [] => "Nobody".to_owned(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    };
    let what = emoji_name.unwrap_or(&reaction.emoji);
    format!("{people} reacted with {what}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logic::timeline::tests::{edited, msg, ME, PEER};

    fn reaction(ids: &[UserId]) -> Reaction {
        Reaction {
            emoji: "👍".into(),
            count: ids.len() as i64,
            user_ids: ids.to_vec(),
        }
    }

    fn reply(excerpt: &str, deleted: bool) -> ReplyRef {
        ReplyRef {
            seq: 1,
            sender_id: PEER,
            excerpt: excerpt.into(),
            deleted,
        }
    }

    #[test]
    fn a_quote_prefers_the_held_original_current_text() {
        let original = edited(msg(1, PEER, "a"), 5, "now   edited\ntext");
        assert_eq!(
            quote(&reply("old", false), Some(&original)),
            Quote::Text("now edited text".into())
        );
        assert_eq!(quote(&reply("old", false), None), Quote::Text("old".into()));
        assert_eq!(quote(&reply("", true), None), Quote::Deleted);
        let mut gone = original;
        gone.deleted = true;
        assert_eq!(quote(&reply("stale", false), Some(&gone)), Quote::Deleted);
        let long = "x".repeat(300);
        let Quote::Text(cut) = quote(&reply(&long, false), None) else {
            panic!("a text quote");
        };
        assert_eq!(cut.chars().count(), REPLY_EXCERPT_CHARS);
    }

    #[test]
    fn reaction_tooltips_name_who_reacted() {
        let name = |id: UserId| {
            if id == PEER {
                "Bob".into()
            } else {
                format!("#{id}")
            }
        };
        assert_eq!(
            reacted_by(&reaction(&[PEER, ME]), ME, name, Some("thumbs up")),
            "You and Bob reacted with thumbs up"
        );
        assert_eq!(
            reacted_by(&reaction(&[PEER]), ME, name, None),
            "Bob reacted with 👍"
        );
        assert_eq!(
            reacted_by(&reaction(&[ME]), ME, name, None),
            "You reacted with 👍"
        );
        assert!(is_mine(&reaction(&[PEER, ME]), ME));
        assert!(!is_mine(&reaction(&[PEER]), ME));
    }

    #[test]
    fn deleted_messages_say_by_whom() {
        assert_eq!(
            deleted_text(Some(DeletedBy::Sender)),
            "This message was deleted"
        );
        assert_eq!(
            deleted_text(Some(DeletedBy::Admin)),
            "This message was deleted by an administrator."
        );
        assert_eq!(deleted_text(None), "This message was deleted");
    }
}
