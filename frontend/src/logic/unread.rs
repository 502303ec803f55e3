//! Unread arithmetic on a room summary (`shared::Room`), kept exact across live events,
//! history pages, our own read marks (from this tab or another) and list refreshes.

use super::timeline::Timeline;
use shared::{Message, Room, UserId};

/// Applies a confirmed message to the room's summary. Returns whether it was newer than the
/// summary: a duplicate or a history page never counts twice.
pub fn apply_message(room: &mut Room, message: &Message, me: UserId) -> bool {
    if message.seq <= room.last_seq {
        return false;
    }
    room.last_seq = message.seq;
    room.last_activity_at = room.last_activity_at.max(message.created_at);
    room.last_message = Some(message.clone());
    if message.sender_id != me && message.seq > room.last_read_seq {
        room.unread += 1;
    }
    true
}

/// A newer version (higher `rev`) of the room's last message replaces it in the preview, so
/// an edit or a deletion shows in the list too. Returns whether it did.
pub fn apply_update(room: &mut Room, message: &Message) -> bool {
    match room.last_message.as_mut() {
        Some(last) if last.seq == message.seq && message.rev > last.rev => {
            *last = message.clone();
            true
        }
        _ => false,
    }
}

/// We (this tab or another of ours) have read up to `seq`. Read marks never move backwards.
pub fn apply_own_read(room: &mut Room, seq: i64, timeline: Option<&Timeline>) -> bool {
    if seq <= room.last_read_seq {
        return false;
    }
    room.last_read_seq = seq;
    room.unread = if seq >= room.last_seq {
        0
    } else {
        match timeline.filter(|t| t.covers_after(seq)) {
            Some(t) => t.count_from_after(room.peer.id, seq),
            None => room.unread.min(room.last_seq - seq),
        }
    };
    true
}

/// The peer has read up to `seq` (drives "seen").
pub fn apply_peer_read(room: &mut Room, seq: i64) -> bool {
    if seq <= room.peer_last_read_seq {
        return false;
    }
    room.peer_last_read_seq = seq;
    true
}

/// Combines a room from a fresh `GET /api/rooms` with what this tab already knows: events
/// that arrived while the list was in flight are newer than the list and must not be undone.
/// The peer's messages beyond the list's `last_seq` are unread on top of the list's count
/// (the list may have been read before a live message was stored); `timeline` counts them
/// exactly when it holds them all.
pub fn merge_server_room(local: Option<&Room>, server: Room, timeline: Option<&Timeline>) -> Room {
    let Some(local) = local else {
        return server;
    };
    let mut room = server;
    if local.last_seq > room.last_seq {
        let newer_unread = timeline
            .and_then(|t| t.count_from_between(room.peer.id, room.last_seq, local.last_seq))
            .unwrap_or_else(|| local.unread.min(local.last_seq - room.last_seq));
        room.unread += newer_unread;
        room.last_seq = local.last_seq;
        room.last_message = local.last_message.clone();
        room.last_activity_at = room.last_activity_at.max(local.last_activity_at);
    }
    if local.last_read_seq > room.last_read_seq {
        apply_own_read(&mut room, local.last_read_seq, timeline);
    }
    room.peer_last_read_seq = room.peer_last_read_seq.max(local.peer_last_read_seq);
    room
}

/// What the room list shows of a room: its unread count, and whether it reads as unread (it
/// has unread messages or was marked unread).
pub fn shown_unread(room: &Room) -> (i64, bool) {
    let count = room.unread.max(0);
    (count, count > 0 || room.marked_unread)
}

/// The number in the tab title: unread messages over all rooms that are not muted; a room
/// marked unread without unread messages counts as one.
pub fn total_unread<'a>(rooms: impl IntoIterator<Item = &'a Room>) -> i64 {
    rooms
        .into_iter()
        .filter(|r| !r.muted)
        .map(|r| match shown_unread(r) {
            (0, true) => 1,
            (count, _) => count,
        })
        .sum()
}

/// The tab title: "(3) Chat" with unread messages, "Chat" without.
pub fn title(total_unread: i64) -> String {
    if total_unread > 0 {
        format!("({total_unread}) Chat")
    } else {
        "Chat".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logic::timeline::tests::{msg, ME, PEER};
    use chrono::DateTime;
    use shared::{RoomId, User};

    fn room() -> Room {
        Room {
            id: RoomId(9),
            peer: User {
                id: PEER,
                username: "bob".into(),
                display_name: "Bob".into(),
                is_admin: false,
                online: false,
            },
            last_message: None,
            last_seq: 0,
            last_read_seq: 0,
            unread: 0,
            peer_last_read_seq: 0,
            last_activity_at: DateTime::default(),
            last_rev: 0,
            muted: false,
            marked_unread: false,
            blocked: false,
        }
    }

    #[test]
    fn a_newer_version_of_the_last_message_updates_the_preview() {
        let mut r = room();
        apply_message(&mut r, &msg(1, PEER, "a"), ME);
        let mut deleted = msg(1, PEER, "a");
        deleted.rev = 8;
        deleted.deleted = true;
        assert!(apply_update(&mut r, &deleted));
        assert!(!apply_update(&mut r, &msg(1, PEER, "a")), "older rev");
        assert!(!apply_update(&mut r, &msg(0, PEER, "z")), "another message");
        assert!(r.last_message.as_ref().is_some_and(|m| m.deleted));
        assert_eq!(r.unread, 1, "an update never counts as unread");
    }

    #[test]
    fn peer_messages_count_once_and_ours_never() {
        let mut r = room();
        assert!(apply_message(&mut r, &msg(1, PEER, "a"), ME));
        assert!(apply_message(&mut r, &msg(2, ME, "b"), ME));
        assert!(apply_message(&mut r, &msg(3, PEER, "c"), ME));
        assert!(!apply_message(&mut r, &msg(3, PEER, "c"), ME), "duplicate");
        assert!(!apply_message(&mut r, &msg(1, PEER, "a"), ME), "old");
        assert_eq!(r.unread, 2);
        assert_eq!(r.last_seq, 3);
        assert_eq!(r.last_message.as_ref().map(|m| m.seq), Some(3));
        assert_eq!(r.last_activity_at, msg(3, PEER, "c").created_at);
    }

    #[test]
    fn reading_clears_or_recounts_and_never_goes_back() {
        let mut r = room();
        let mut t = Timeline::default();
        let batch: Vec<_> = (1..=5).map(|s| msg(s, PEER, "p")).collect();
        for m in &batch {
            apply_message(&mut r, m, ME);
        }
        t.merge(batch, ME);
        assert_eq!(r.unread, 5);
        assert!(apply_own_read(&mut r, 3, Some(&t)));
        assert_eq!(r.unread, 2);
        assert!(!apply_own_read(&mut r, 2, Some(&t)));
        assert_eq!(r.last_read_seq, 3);
        assert!(apply_own_read(&mut r, 5, None));
        assert_eq!(r.unread, 0);
    }

    #[test]
    fn reading_without_the_messages_estimates_from_the_summary() {
        let mut r = room();
        r.last_seq = 10;
        r.unread = 4;
        apply_own_read(&mut r, 8, None);
        assert_eq!(r.unread, 2);
    }

    #[test]
    fn a_list_refresh_keeps_newer_local_events() {
        let mut local = room();
        apply_message(&mut local, &msg(1, PEER, "a"), ME);
        apply_message(&mut local, &msg(2, PEER, "b"), ME);
        let mut server = room();
        apply_message(&mut server, &msg(1, PEER, "a"), ME);
        let merged = merge_server_room(Some(&local), server.clone(), None);
        assert_eq!((merged.last_seq, merged.unread), (2, 2));

        apply_own_read(&mut local, 2, None);
        local.peer_last_read_seq = 1;
        let merged = merge_server_room(Some(&local), server.clone(), None);
        assert_eq!((merged.last_read_seq, merged.unread), (2, 0));
        assert_eq!(merged.peer_last_read_seq, 1);

        let mut newer = server;
        apply_message(&mut newer, &msg(2, PEER, "b"), ME);
        apply_message(&mut newer, &msg(3, PEER, "c"), ME);
        let merged = merge_server_room(Some(&room()), newer, None);
        assert_eq!((merged.last_seq, merged.unread), (3, 3));
    }

    #[test]
    fn a_list_read_before_a_live_message_was_stored_still_counts_it() {
        // The list says 2 unread up to seq 3; a live message (seq 4) came in before it.
        let mut server = room();
        apply_message(&mut server, &msg(1, ME, "mine"), ME);
        apply_message(&mut server, &msg(2, PEER, "a"), ME);
        apply_message(&mut server, &msg(3, PEER, "b"), ME);
        let mut local = room();
        apply_message(&mut local, &msg(1, ME, "mine"), ME);
        apply_message(&mut local, &msg(4, PEER, "d"), ME);
        assert_eq!(local.unread, 1);
        let merged = merge_server_room(Some(&local), server.clone(), None);
        assert_eq!((merged.last_seq, merged.unread), (4, 3));

        // Our own messages beyond the list are not unread: the timeline tells them apart.
        let mut local = local.clone();
        apply_message(&mut local, &msg(5, ME, "mine too"), ME);
        let mut t = Timeline::default();
        t.merge([msg(4, PEER, "d"), msg(5, ME, "mine too")], ME);
        let merged = merge_server_room(Some(&local), server.clone(), Some(&t));
        assert_eq!((merged.last_seq, merged.unread), (5, 3));
        // A timeline with a hole there cannot tell; the local count bounds the guess.
        let mut holed = Timeline::default();
        holed.merge([msg(5, ME, "mine too")], ME);
        let merged = merge_server_room(Some(&local), server, Some(&holed));
        assert_eq!((merged.last_seq, merged.unread), (5, 3));
    }

    #[test]
    fn title_shows_the_total() {
        let mut a = room();
        a.unread = 2;
        let mut b = room();
        b.unread = 1;
        assert_eq!(total_unread([&a, &b]), 3);
        assert_eq!(title(3), "(3) Chat");
        assert_eq!(title(0), "Chat");
    }

    #[test]
    fn muted_rooms_stay_out_of_the_title_and_marked_ones_count_once() {
        let mut a = room();
        a.unread = 3;
        let mut muted = room();
        muted.unread = 5;
        muted.muted = true;
        let mut marked = room();
        marked.marked_unread = true;
        assert_eq!(total_unread([&a, &muted, &marked]), 4);
        assert_eq!(shown_unread(&marked), (0, true));
        assert_eq!(shown_unread(&room()), (0, false));
    }
}
