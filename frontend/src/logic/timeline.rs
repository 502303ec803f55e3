//! One conversation's messages as this tab holds them: the confirmed ones (stored by the
//! server, ordered and de-duplicated by `seq`, each kept at its highest `rev`) and our own
//! outgoing ones that are not acknowledged yet (pending, or failed and waiting for a retry).
//!
//! The merge rule of api.md v1.1: one message per `seq`; of two versions of it, the one with
//! the higher `rev` wins, whatever the order they arrive in (`message`, `ack`,
//! `message_update`, a history page, a `changed_after` page).

use chrono::{DateTime, Utc};
use shared::{Attachment, Message, UserId};
use std::rc::Rc;

/// Delivery state of a message we sent that the server has not acknowledged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Sent (or queued until the socket is back); waiting for `ack`.
    Pending,
    /// No `ack` in time, or refused; the user may retry with the same `client_id`.
    Failed,
}

/// A message of ours that is not confirmed yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// Reused on every retry, so the server stores the message at most once.
    pub client_id: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
    pub delivery: Delivery,
    /// Counts sends; a timeout only fails the attempt it was started for.
    pub attempt: u32,
    /// The `seq` of the message this one answers.
    pub reply_to: Option<i64>,
    /// Uploaded files it carries (sent again, by id, on a retry).
    pub attachments: Vec<Attachment>,
}

/// Replaces `held` by `incoming` when it is a later version (higher `rev`).
fn keep_newer(held: &mut Rc<Message>, incoming: Message) -> bool {
    if incoming.rev > held.rev {
        *held = Rc::new(incoming);
        true
    } else {
        false
    }
}

/// The messages of one room held by this tab.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Timeline {
    /// Confirmed messages, strictly ascending by `seq`. Each is shared (not copied) with the
    /// rows showing it and with every state snapshot that holds this timeline.
    messages: Vec<Rc<Message>>,
    /// Our unacknowledged messages, in the order they were written.
    outgoing: Vec<Outgoing>,
    /// The latest page has been fetched; before that the room shows a spinner.
    pub loaded: bool,
    /// Older messages exist on the server beyond the lowest one held.
    pub has_older: bool,
    /// An older page is being fetched.
    pub loading_older: bool,
}

impl Timeline {
    pub fn messages(&self) -> &[Rc<Message>] {
        &self.messages
    }

    pub fn outgoing(&self) -> &[Outgoing] {
        &self.outgoing
    }

    /// Adds confirmed messages: a new `seq` is inserted in order, a held one is replaced only
    /// by a higher `rev`. Drops the outgoing entries they confirm (same `client_id`, sent by
    /// `me`). Returns how many were new.
    pub fn merge<I>(&mut self, batch: I, me: UserId) -> usize
    where
        I: IntoIterator<Item = Message>,
    {
        let mut added = 0;
        for message in batch {
            if message.sender_id == me {
                self.outgoing.retain(|o| o.client_id != message.client_id);
            }
            // Fast path: history pages and live events usually extend an end.
            let last = self.messages.last().map(|m| m.seq);
            if last.is_none_or(|last| message.seq > last) {
                self.messages.push(Rc::new(message));
                added += 1;
                continue;
            }
            match self.messages.binary_search_by_key(&message.seq, |m| m.seq) {
                Ok(at) => {
                    keep_newer(&mut self.messages[at], message);
                }
                Err(at) => {
                    self.messages.insert(at, Rc::new(message));
                    added += 1;
                }
            }
        }
        added
    }

    /// A `message_update`: replaces the held version of that message if this one has a higher
    /// `rev`. A message this tab does not hold is left alone: older ones come (current) with
    /// their history page, newer ones with their `message` frame or the catch-up. Returns
    /// whether anything changed.
    pub fn apply_update(&mut self, message: Message) -> bool {
        match self.messages.binary_search_by_key(&message.seq, |m| m.seq) {
            Ok(at) => keep_newer(&mut self.messages[at], message),
            Err(_) => false,
        }
    }

    /// A `changed_after` page (ascending by `rev`): updates of held messages by `rev`, and
    /// messages newer than the lowest held merged as new ones (a gap they leave is found by
    /// [`Self::catch_up_cursor`]). Older unheld ones are skipped: the lowest held `seq` is the
    /// `before` cursor of the next older page, which brings them current.
    pub fn apply_changes<I>(&mut self, batch: I, me: UserId) -> usize
    where
        I: IntoIterator<Item = Message>,
    {
        let Some(lowest) = self.lowest_seq() else {
            return 0;
        };
        let mut changed = 0;
        for message in batch {
            if self.get(message.seq).is_some() {
                changed += usize::from(self.apply_update(message));
            } else if message.seq > lowest {
                changed += self.merge([message], me);
            }
        }
        changed
    }

    /// The held message with this `seq`.
    pub fn get(&self, seq: i64) -> Option<&Message> {
        self.messages
            .binary_search_by_key(&seq, |m| m.seq)
            .ok()
            .and_then(|at| self.messages.get(at))
            .map(|m| &**m)
    }

    /// The highest `rev` among the held messages: the `changed_after` cursor after a
    /// reconnect (every change up to it reached this tab live or in a page).
    pub fn highest_rev(&self) -> i64 {
        self.messages.iter().map(|m| m.rev).max().unwrap_or(0)
    }

    /// Our newest message that can still be edited (↑ in an empty composer).
    pub fn last_editable(&self, me: UserId) -> Option<&Message> {
        self.messages
            .iter()
            .rev()
            .find(|m| m.sender_id == me && !m.deleted)
            .map(|m| &**m)
    }

    /// Shows a message of ours at once, before the server has it.
    pub fn push_outgoing(&mut self, outgoing: Outgoing) {
        if !self
            .outgoing
            .iter()
            .any(|o| o.client_id == outgoing.client_id)
        {
            self.outgoing.push(outgoing);
        }
    }

    /// Marks an attempt as failed if it is still the current, pending one.
    pub fn fail(&mut self, client_id: &str, attempt: Option<u32>) -> bool {
        match self.outgoing.iter_mut().find(|o| o.client_id == client_id) {
            Some(o)
                if o.delivery == Delivery::Pending && attempt.is_none_or(|a| a == o.attempt) =>
            {
                o.delivery = Delivery::Failed;
                true
            }
            _ => false,
        }
    }

    /// Puts a message back to pending for another attempt; returns it (same `client_id`).
    pub fn retry(&mut self, client_id: &str) -> Option<Outgoing> {
        let o = self
            .outgoing
            .iter_mut()
            .find(|o| o.client_id == client_id)?;
        o.delivery = Delivery::Pending;
        o.attempt += 1;
        Some(o.clone())
    }

    /// Lowest `seq` held: the `before` cursor for the next older page.
    pub fn lowest_seq(&self) -> Option<i64> {
        self.messages.first().map(|m| m.seq)
    }

    /// Highest `seq` held.
    pub fn highest_seq(&self) -> Option<i64> {
        self.messages.last().map(|m| m.seq)
    }

    /// The `after` cursor for catch-up: the end of the unbroken run of `seq`s that starts
    /// at the lowest one held. A live message that arrived beyond a gap does not hide the gap.
    pub fn catch_up_cursor(&self) -> Option<i64> {
        let mut iter = self.messages.iter().map(|m| m.seq);
        let mut top = iter.next()?;
        for seq in iter {
            if seq != top + 1 {
                break;
            }
            top = seq;
        }
        Some(top)
    }

    /// Messages from `peer` after `seq` that this timeline holds.
    pub fn count_from_after(&self, peer: UserId, seq: i64) -> i64 {
        self.messages
            .iter()
            .rev()
            .take_while(|m| m.seq > seq)
            .filter(|m| m.sender_id == peer)
            .count() as i64
    }

    /// Messages from `peer` with `after < seq <= upto`, when this timeline holds every `seq`
    /// of that range (else it cannot tell).
    pub fn count_from_between(&self, peer: UserId, after: i64, upto: i64) -> Option<i64> {
        let (mut held, mut from_peer) = (0, 0);
        for m in self.messages.iter().rev().skip_while(|m| m.seq > upto) {
            if m.seq <= after {
                break;
            }
            held += 1;
            from_peer += i64::from(m.sender_id == peer);
        }
        (held == upto - after).then_some(from_peer)
    }

    /// Whether every `seq` after `seq` up to the highest held is in this timeline.
    pub fn covers_after(&self, seq: i64) -> bool {
        match (
            self.lowest_seq(),
            self.catch_up_cursor(),
            self.highest_seq(),
        ) {
            (Some(low), Some(cursor), Some(high)) => low <= seq + 1 && cursor == high,
            _ => false,
        }
    }

    /// The `seq` of our newest confirmed message that the peer has read, for "seen".
    pub fn seen_seq(&self, me: UserId, peer_read_seq: i64) -> Option<i64> {
        self.messages
            .iter()
            .rev()
            .find(|m| m.sender_id == me && m.seq <= peer_read_seq)
            .map(|m| m.seq)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use shared::{MessageId, RoomId};

    pub(crate) const ME: UserId = UserId(1);
    pub(crate) const PEER: UserId = UserId(2);

    pub(crate) fn msg(seq: i64, sender: UserId, client_id: &str) -> Message {
        Message {
            id: MessageId(1000 + seq),
            room_id: RoomId(9),
            seq,
            sender_id: sender,
            body: format!("message {seq}"),
            client_id: client_id.to_owned(),
            created_at: DateTime::from_timestamp(1_700_000_000 + seq * 60, 0).unwrap_or_default(),
            deleted: false,
            rev: seq,
            edited_at: None,
            deleted_by: None,
            reply_to: None,
            reactions: Vec::new(),
            attachments: Vec::new(),
        }
    }

    /// `m` at a later revision with another body.
    pub(crate) fn edited(mut m: Message, rev: i64, body: &str) -> Message {
        m.rev = rev;
        m.body = body.to_owned();
        m.edited_at = Some(m.created_at);
        m
    }

    fn outgoing(client_id: &str) -> Outgoing {
        Outgoing {
            client_id: client_id.to_owned(),
            body: "hi".to_owned(),
            created_at: DateTime::default(),
            delivery: Delivery::Pending,
            attempt: 0,
            reply_to: None,
            attachments: Vec::new(),
        }
    }

    fn bodies(t: &Timeline) -> Vec<&str> {
        t.messages().iter().map(|m| m.body.as_str()).collect()
    }

    fn seqs(t: &Timeline) -> Vec<i64> {
        t.messages().iter().map(|m| m.seq).collect()
    }

    #[test]
    fn merge_orders_by_seq_and_drops_duplicates() {
        let mut t = Timeline::default();
        assert_eq!(t.merge([msg(3, PEER, "a"), msg(4, PEER, "b")], ME), 2);
        assert_eq!(t.merge([msg(1, PEER, "c"), msg(2, ME, "d")], ME), 2);
        assert_eq!(
            t.merge([msg(4, PEER, "b"), msg(2, ME, "d"), msg(5, PEER, "e")], ME),
            1
        );
        assert_eq!(t.merge([msg(5, PEER, "e")], ME), 0);
        assert_eq!(seqs(&t), vec![1, 2, 3, 4, 5]);
    }

    #[test]
    fn an_ack_and_the_echoed_message_confirm_the_pending_one_once() {
        let mut t = Timeline::default();
        t.merge([msg(1, PEER, "x")], ME);
        t.push_outgoing(outgoing("mine"));
        t.push_outgoing(outgoing("mine"));
        assert_eq!(t.outgoing().len(), 1, "the same client_id is shown once");
        // The ack, then the `message` frame for the same message.
        assert_eq!(t.merge([msg(2, ME, "mine")], ME), 1);
        assert_eq!(t.merge([msg(2, ME, "mine")], ME), 0);
        assert!(t.outgoing().is_empty());
        assert_eq!(seqs(&t), vec![1, 2]);
    }

    #[test]
    fn a_peer_message_with_our_client_id_does_not_confirm_ours() {
        let mut t = Timeline::default();
        t.push_outgoing(outgoing("same"));
        t.merge([msg(1, PEER, "same")], ME);
        assert_eq!(t.outgoing().len(), 1);
    }

    #[test]
    fn pending_fails_then_retries_with_the_same_client_id() {
        let mut t = Timeline::default();
        t.push_outgoing(outgoing("c1"));
        assert!(t.fail("c1", Some(0)));
        assert_eq!(t.outgoing()[0].delivery, Delivery::Failed);
        assert!(!t.fail("c1", Some(0)), "already failed");
        let again = t.retry("c1").expect("known");
        assert_eq!(again.client_id, "c1");
        assert_eq!(again.attempt, 1);
        assert_eq!(t.outgoing()[0].delivery, Delivery::Pending);
        assert!(!t.fail("c1", Some(0)), "the old attempt's timeout is stale");
        assert!(t.fail("c1", Some(1)));
        assert!(t.retry("nope").is_none());
        // A failed message confirmed later (its ack was lost) disappears from outgoing.
        t.merge([msg(1, ME, "c1")], ME);
        assert!(t.outgoing().is_empty());
    }

    #[test]
    fn an_update_replaces_the_message_with_the_same_seq_only_when_newer() {
        let mut t = Timeline::default();
        t.merge([msg(1, PEER, "a"), msg(2, PEER, "b")], ME);
        let mut tombstone = msg(2, PEER, "b");
        tombstone.rev = 5;
        tombstone.deleted = true;
        tombstone.body = shared::TOMBSTONE_BODY.to_owned();
        assert!(t.apply_update(tombstone.clone()));
        assert!(t.messages()[1].deleted);
        assert!(
            !t.apply_update(tombstone),
            "the same rev again changes nothing"
        );
        assert!(
            !t.apply_update(edited(msg(2, PEER, "b"), 4, "stale")),
            "lower rev"
        );
        assert!(t.messages()[1].deleted);
        assert!(
            !t.apply_update(msg(7, PEER, "z")),
            "unknown seq is not inserted"
        );
        assert_eq!(t.messages().len(), 2);
    }

    #[test]
    fn every_source_keeps_the_higher_rev_whatever_the_order() {
        // The same three versions of message 2, in every order and through every path.
        let v1 = msg(2, ME, "mine");
        let v2 = edited(v1.clone(), 7, "edited once");
        let v3 = edited(v1.clone(), 9, "edited twice");
        let orders = [
            [v1.clone(), v2.clone(), v3.clone()],
            [v3.clone(), v2.clone(), v1.clone()],
            [v2.clone(), v3.clone(), v1.clone()],
            [v1.clone(), v3.clone(), v2.clone()],
        ];
        for order in orders {
            let mut t = Timeline::default();
            t.merge([msg(1, PEER, "p")], ME);
            let [first, second, third] = order;
            t.merge([first], ME); // an `ack` or `message`
            t.apply_update(second); // a `message_update`
            t.merge([msg(1, PEER, "p"), third], ME); // a history page
            assert_eq!(bodies(&t), vec!["message 1", "edited twice"]);
            assert_eq!(t.get(2).map(|m| m.rev), Some(9));
            assert_eq!(t.highest_rev(), 9);
        }
    }

    #[test]
    fn changed_after_pages_update_held_messages_and_add_newer_ones_only() {
        let mut t = Timeline::default();
        t.merge((10..=12).map(|s| msg(s, PEER, "p")), ME);
        let changes = vec![
            edited(msg(3, PEER, "p"), 20, "older than held: skipped"),
            edited(msg(11, PEER, "p"), 21, "held: updated"),
            edited(msg(12, PEER, "p"), 1, "stale: kept"),
            msg(14, PEER, "new"),
        ];
        assert_eq!(t.apply_changes(changes, ME), 2);
        assert_eq!(seqs(&t), vec![10, 11, 12, 14]);
        assert_eq!(t.get(11).map(|m| m.body.as_str()), Some("held: updated"));
        assert_eq!(t.get(12).map(|m| m.body.as_str()), Some("message 12"));
        assert_eq!(
            t.catch_up_cursor(),
            Some(12),
            "the gap before 14 stays visible"
        );
        assert_eq!(
            Timeline::default().apply_changes([msg(1, PEER, "x")], ME),
            0
        );
    }

    #[test]
    fn the_last_editable_message_is_our_newest_not_deleted_one() {
        let mut t = Timeline::default();
        assert!(t.last_editable(ME).is_none());
        t.merge([msg(1, ME, "a"), msg(2, ME, "b"), msg(3, PEER, "c")], ME);
        assert_eq!(t.last_editable(ME).map(|m| m.seq), Some(2));
        let mut gone = msg(2, ME, "b");
        gone.rev = 10;
        gone.deleted = true;
        t.apply_update(gone);
        assert_eq!(t.last_editable(ME).map(|m| m.seq), Some(1));
    }

    #[test]
    fn catch_up_cursor_stops_at_the_first_gap() {
        let mut t = Timeline::default();
        assert_eq!(t.catch_up_cursor(), None);
        t.merge((51..=100).map(|s| msg(s, PEER, "p")), ME);
        assert_eq!(t.catch_up_cursor(), Some(100));
        t.merge([msg(105, PEER, "live")], ME);
        assert_eq!(t.catch_up_cursor(), Some(100));
        assert_eq!(t.highest_seq(), Some(105));
        assert_eq!(t.lowest_seq(), Some(51));
        t.merge((101..=104).map(|s| msg(s, PEER, "p")), ME);
        assert_eq!(t.catch_up_cursor(), Some(105));
    }

    #[test]
    fn unread_counting_and_seen() {
        let mut t = Timeline::default();
        t.merge(
            [
                msg(1, ME, "a"),
                msg(2, PEER, "b"),
                msg(3, PEER, "c"),
                msg(4, ME, "d"),
            ],
            ME,
        );
        assert_eq!(t.count_from_after(PEER, 1), 2);
        assert_eq!(t.count_from_after(PEER, 3), 0);
        assert!(t.covers_after(0));
        assert!(t.covers_after(3));
        assert_eq!(t.seen_seq(ME, 4), Some(4));
        assert_eq!(t.seen_seq(ME, 3), Some(1), "our last message it covers");
        assert_eq!(t.seen_seq(ME, 0), None);
        assert_eq!(t.seen_seq(PEER, 3), Some(3));
        let mut partial = Timeline::default();
        partial.merge([msg(10, PEER, "x")], ME);
        assert!(!partial.covers_after(2));
        assert!(partial.covers_after(9));
    }
}
