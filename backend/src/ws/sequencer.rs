//! Puts each room's `message` frames for one socket in `seq` order, exactly once, and each
//! `message_update` after the message it changes.
//!
//! With several instances, a socket can receive a room's messages out of order: those
//! stored on its own instance arrive at once, those stored on another come through Redis a
//! moment later. The sequencer holds a frame that skips ahead until the missing ones come;
//! if they do not come within a short wait (for example the instance that stored them was
//! killed before publishing), the session fetches them from the database. An update of a
//! message the socket has not been given yet waits for it the same way (updates of one
//! message need no order among themselves: clients keep the higher `rev`).

use bytestring::ByteString;
use shared::RoomId;
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

/// Most frames held for one room before the gap is filled from the database at once.
const MAX_HELD: usize = 1024;

#[derive(Default)]
struct Cursor {
    /// The next `seq` this socket should see.
    next: i64,
    held: BTreeMap<i64, ByteString>,
    /// Updates waiting for their message, by its `seq`.
    updates: BTreeMap<i64, Vec<ByteString>>,
    gap_since: Option<Instant>,
}

pub struct Sequencer {
    /// Each room's last `seq` at `ready`, sorted by room: 16 bytes a room for the many rooms
    /// that see no live message while the socket is open (a user may have hundreds).
    baseline: Box<[(i64, i64)]>,
    /// Rooms that had live messages on this socket.
    rooms: HashMap<RoomId, Cursor>,
    max_wait: Duration,
}

/// A gap to fill from storage: the messages with `after < seq < before`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gap {
    pub room: RoomId,
    pub after: i64,
    pub before: i64,
}

impl Sequencer {
    /// `baseline`: each room's last `seq` when the socket became ready (the client fetches
    /// older messages itself). Rooms not listed start at seq 1.
    pub fn new(baseline: impl IntoIterator<Item = (RoomId, i64)>, max_wait: Duration) -> Self {
        let mut baseline: Vec<(i64, i64)> = baseline
            .into_iter()
            .map(|(room, last)| (room.0, last))
            .collect();
        baseline.sort_unstable();
        Self {
            baseline: baseline.into_boxed_slice(),
            rooms: HashMap::new(),
            max_wait,
        }
    }

    fn cursor(&mut self, room: RoomId) -> &mut Cursor {
        let baseline = &self.baseline;
        self.rooms.entry(room).or_insert_with(|| {
            let last = baseline
                .binary_search_by_key(&room.0, |&(id, _)| id)
                .map_or(0, |i| baseline[i].1);
            Cursor {
                next: last + 1,
                ..Cursor::default()
            }
        })
    }

    /// Takes a room's frame; returns the frames that may go out now, in order.
    pub fn accept(
        &mut self,
        room: RoomId,
        seq: i64,
        frame: ByteString,
        now: Instant,
    ) -> Vec<ByteString> {
        let cursor = self.cursor(room);
        if seq < cursor.next {
            return Vec::new(); // already sent, or older than the client's catch-up point
        }
        cursor.held.insert(seq, frame);
        Self::release(cursor, now)
    }

    /// Takes an update of the room's message at `seq`; returns what may go out now.
    pub fn accept_update(
        &mut self,
        room: RoomId,
        seq: i64,
        frame: ByteString,
        now: Instant,
    ) -> Vec<ByteString> {
        let cursor = self.cursor(room);
        if seq < cursor.next {
            return vec![frame]; // the socket has the message (or the client fetches it)
        }
        cursor.updates.entry(seq).or_default().push(frame);
        cursor.gap_since = cursor.gap_since.or(Some(now));
        Vec::new()
    }

    fn release(cursor: &mut Cursor, now: Instant) -> Vec<ByteString> {
        let mut ready = Vec::new();
        while let Some(frame) = cursor.held.remove(&cursor.next) {
            ready.push(frame);
            ready.extend(cursor.updates.remove(&cursor.next).unwrap_or_default());
            cursor.next += 1;
        }
        // Updates of messages skipped over (storage had none at that seq) have nothing to wait for.
        while let Some(entry) = cursor.updates.first_entry() {
            if *entry.key() >= cursor.next {
                break;
            }
            ready.extend(entry.remove());
        }
        cursor.gap_since = if cursor.held.is_empty() && cursor.updates.is_empty() {
            None
        } else {
            cursor.gap_since.or(Some(now))
        };
        ready
    }

    /// When the oldest gap will have waited long enough.
    pub fn deadline(&self) -> Option<Instant> {
        self.rooms
            .values()
            .filter_map(|c| c.gap_since)
            .min()
            .map(|since| since + self.max_wait)
    }

    /// Gaps that waited too long (or hold too many frames) and must be fetched.
    pub fn overdue(&self, now: Instant) -> Vec<Gap> {
        self.rooms
            .iter()
            .filter_map(|(room, c)| {
                let since = c.gap_since?;
                // Up to the first held message, or past the last message an update waits for.
                let before = match c.held.keys().next() {
                    Some(first_held) => *first_held,
                    None => *c.updates.keys().next_back()? + 1,
                };
                let waiting = c.held.len() + c.updates.len();
                (now >= since + self.max_wait || waiting >= MAX_HELD).then_some(Gap {
                    room: *room,
                    after: c.next - 1,
                    before,
                })
            })
            .collect()
    }

    /// Fills a gap with the messages fetched from storage (`(seq, frame)`, any order) and
    /// returns what may go out now. When `complete` (storage had nothing more below
    /// `gap.before`), a seq that storage does not have either is skipped.
    pub fn fill(
        &mut self,
        gap: Gap,
        fetched: Vec<(i64, ByteString)>,
        complete: bool,
        now: Instant,
    ) -> Vec<ByteString> {
        let cursor = self.cursor(gap.room);
        for (seq, frame) in fetched {
            if seq >= cursor.next {
                cursor.held.entry(seq).or_insert(frame);
            }
        }
        let mut ready = Self::release(cursor, now);
        if let (true, Some(&first_held)) = (complete, cursor.held.keys().next()) {
            if first_held <= gap.before {
                cursor.next = first_held;
                ready.extend(Self::release(cursor, now));
            }
        }
        ready
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(seq: i64) -> ByteString {
        ByteString::from(format!("m{seq}"))
    }

    const ROOM: RoomId = RoomId(7);

    #[test]
    fn frames_in_order_pass_straight_through_and_old_ones_are_dropped() {
        let mut s = Sequencer::new([(ROOM, 3)], Duration::from_millis(100));
        let now = Instant::now();
        assert!(
            s.accept(ROOM, 3, f(3), now).is_empty(),
            "the client fetches <= baseline"
        );
        assert_eq!(s.accept(ROOM, 4, f(4), now), vec![f(4)]);
        assert!(s.accept(ROOM, 4, f(4), now).is_empty(), "never twice");
        assert_eq!(
            s.accept(RoomId(8), 1, f(1), now),
            vec![f(1)],
            "a new room starts at 1"
        );
        assert_eq!(s.deadline(), None);
    }

    #[test]
    fn each_room_starts_after_its_own_baseline() {
        let rooms = [(RoomId(30), 9), (RoomId(10), 4), (RoomId(20), 0)];
        let mut s = Sequencer::new(rooms, Duration::from_millis(100));
        let now = Instant::now();
        for (room, last) in rooms {
            assert!(s.accept(room, last, f(last), now).is_empty(), "{room:?}");
            assert_eq!(
                s.accept(room, last + 1, f(last + 1), now),
                vec![f(last + 1)]
            );
        }
    }

    #[test]
    fn a_frame_that_skips_ahead_waits_for_the_missing_one() {
        let mut s = Sequencer::new([(ROOM, 0)], Duration::from_millis(100));
        let now = Instant::now();
        assert!(s.accept(ROOM, 2, f(2), now).is_empty());
        assert!(s.accept(ROOM, 3, f(3), now).is_empty());
        assert_eq!(s.deadline(), Some(now + Duration::from_millis(100)));
        assert!(s.overdue(now).is_empty());
        assert_eq!(s.accept(ROOM, 1, f(1), now), vec![f(1), f(2), f(3)]);
        assert_eq!(s.deadline(), None);
    }

    #[test]
    fn an_overdue_gap_is_filled_from_storage() {
        let mut s = Sequencer::new([(ROOM, 1)], Duration::from_millis(100));
        let start = Instant::now();
        s.accept(ROOM, 5, f(5), start);
        let later = start + Duration::from_millis(150);
        let gaps = s.overdue(later);
        assert_eq!(
            gaps,
            vec![Gap {
                room: ROOM,
                after: 1,
                before: 5
            }]
        );
        let ready = s.fill(gaps[0], vec![(3, f(3)), (2, f(2)), (4, f(4))], true, later);
        assert_eq!(ready, vec![f(2), f(3), f(4), f(5)]);
        assert_eq!(s.deadline(), None);
    }

    #[test]
    fn a_hole_storage_does_not_have_either_is_skipped() {
        let mut s = Sequencer::new([(ROOM, 0)], Duration::from_millis(100));
        let start = Instant::now();
        s.accept(ROOM, 3, f(3), start);
        let gap = s.overdue(start + Duration::from_secs(1))[0];
        assert_eq!(
            s.fill(gap, vec![(1, f(1))], false, start),
            vec![f(1)],
            "more may come"
        );
        assert_eq!(s.fill(gap, vec![], true, start), vec![f(3)]);
        assert_eq!(s.accept(ROOM, 4, f(4), start), vec![f(4)]);
    }

    fn u(seq: i64, rev: i64) -> ByteString {
        ByteString::from(format!("u{seq}r{rev}"))
    }

    #[test]
    fn an_update_of_a_message_already_sent_goes_out_at_once() {
        let mut s = Sequencer::new([(ROOM, 3)], Duration::from_millis(100));
        let now = Instant::now();
        assert_eq!(s.accept_update(ROOM, 2, u(2, 9), now), vec![u(2, 9)]);
        assert_eq!(s.accept(ROOM, 4, f(4), now), vec![f(4)]);
        assert_eq!(s.accept_update(ROOM, 4, u(4, 10), now), vec![u(4, 10)]);
        assert_eq!(s.deadline(), None);
    }

    #[test]
    fn an_update_that_outruns_its_message_waits_for_it() {
        let mut s = Sequencer::new([(ROOM, 0)], Duration::from_millis(100));
        let now = Instant::now();
        assert!(s.accept_update(ROOM, 1, u(1, 2), now).is_empty());
        assert!(s.accept_update(ROOM, 1, u(1, 3), now).is_empty());
        assert_eq!(s.deadline(), Some(now + Duration::from_millis(100)));
        assert_eq!(s.accept(ROOM, 1, f(1), now), vec![f(1), u(1, 2), u(1, 3)]);
        assert_eq!(s.deadline(), None);
    }

    #[test]
    fn an_update_whose_message_never_comes_live_is_sent_after_the_fetched_message() {
        let mut s = Sequencer::new([(ROOM, 1)], Duration::from_millis(100));
        let start = Instant::now();
        assert!(s.accept_update(ROOM, 3, u(3, 7), start).is_empty());
        let gaps = s.overdue(start + Duration::from_millis(150));
        assert_eq!(
            gaps,
            vec![Gap {
                room: ROOM,
                after: 1,
                before: 4
            }]
        );
        let ready = s.fill(gaps[0], vec![(2, f(2)), (3, f(3))], true, start);
        assert_eq!(ready, vec![f(2), f(3), u(3, 7)]);
        assert_eq!(s.deadline(), None);
    }
}
