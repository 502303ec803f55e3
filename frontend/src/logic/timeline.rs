//! One conversation's messages as this tab holds them: the confirmed ones (stored by the
//! server, ordered and de-duplicated by `seq`) and our own outgoing ones that are not
//! acknowledged yet (pending, or failed and waiting for a retry).

use chrono::{DateTime, Utc};
use shared::{Message, UserId};

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
}

/// The messages of one room held by this tab.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Timeline {
    /// Confirmed messages, strictly ascending by `seq`.
    messages: Vec<Message>,
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
    pub fn messages(&self) -> &[Message] {
        &self.messages
    }

    pub fn outgoing(&self) -> &[Outgoing] {
        &self.outgoing
    }

    /// Adds confirmed messages, ignoring any `seq` already held, and drops the outgoing
    /// entries they confirm (same `client_id`, sent by `me`). Returns how many were new.
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
                self.messages.push(message);
                added += 1;
                continue;
            }
            if let Err(at) = self.messages.binary_search_by_key(&message.seq, |m| m.seq) {
                self.messages.insert(at, message);
                added += 1;
            }
        }
        added
    }

    /// Replaces a held message by a newer version of it (same `seq`), e.g. an administrator's
    /// tombstone. Returns whether it was held.
    pub fn replace(&mut self, message: Message) -> bool {
        match self.messages.binary_search_by_key(&message.seq, |m| m.seq) {
            Ok(at) => {
                self.messages[at] = message;
                true
            }
            Err(_) => false,
        }
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
        }
    }

    fn outgoing(client_id: &str) -> Outgoing {
        Outgoing {
            client_id: client_id.to_owned(),
            body: "hi".to_owned(),
            created_at: DateTime::default(),
            delivery: Delivery::Pending,
            attempt: 0,
        }
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
    fn an_update_replaces_the_message_with_the_same_seq() {
        let mut t = Timeline::default();
        t.merge([msg(1, PEER, "a"), msg(2, PEER, "b")], ME);
        let mut tombstone = msg(2, PEER, "b");
        tombstone.deleted = true;
        tombstone.body = shared::TOMBSTONE_BODY.to_owned();
        assert!(t.replace(tombstone));
        assert!(t.messages()[1].deleted);
        assert!(!t.replace(msg(7, PEER, "z")), "unknown seq");
        assert_eq!(t.messages().len(), 2);
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
