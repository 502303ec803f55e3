//! How a run of messages is laid out: day separators, and consecutive messages of one sender
//! grouped (one avatar/name per group, tighter spacing) while they are close in time.

use chrono::{Duration, NaiveDate, NaiveDateTime};
use shared::UserId;

/// Messages of one sender further apart than this start a new group.
pub const GROUP_GAP_MINUTES: i64 = 5;

/// Layout of one message row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowLayout {
    /// A day separator goes before this row.
    pub day_break: Option<NaiveDate>,
    /// First of its group (gets the sender's avatar and full top corners).
    pub first_in_group: bool,
    /// Last of its group (gets the time stamp spacing and full bottom corners).
    pub last_in_group: bool,
}

/// Lays out rows given each message's sender and local time, in display order.
pub fn layout(rows: &[(UserId, NaiveDateTime)]) -> Vec<RowLayout> {
    let continues = |prev: &(UserId, NaiveDateTime), next: &(UserId, NaiveDateTime)| {
        prev.0 == next.0
            && prev.1.date() == next.1.date()
            && next.1 - prev.1 <= Duration::minutes(GROUP_GAP_MINUTES)
    };
    rows.iter()
        .enumerate()
        .map(|(i, row)| {
            let prev = i.checked_sub(1).and_then(|p| rows.get(p));
            let next = rows.get(i + 1);
            RowLayout {
                day_break: match prev {
                    Some(p) if p.1.date() == row.1.date() => None,
                    _ => Some(row.1.date()),
                },
                first_in_group: prev.is_none_or(|p| !continues(p, row)),
                last_in_group: next.is_none_or(|n| !continues(row, n)),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: UserId = UserId(1);
    const B: UserId = UserId(2);

    fn at(d: u32, h: u32, m: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 11, d)
            .and_then(|day| day.and_hms_opt(h, m, 0))
            .expect("valid test time")
    }

    fn flags(rows: &[RowLayout]) -> Vec<(bool, bool, bool)> {
        rows.iter()
            .map(|r| (r.day_break.is_some(), r.first_in_group, r.last_in_group))
            .collect()
    }

    #[test]
    fn consecutive_messages_of_one_sender_group_together() {
        let rows = layout(&[
            (A, at(1, 10, 0)),
            (A, at(1, 10, 1)),
            (A, at(1, 10, 6)),
            (B, at(1, 10, 7)),
            (A, at(1, 10, 8)),
            (A, at(1, 10, 30)),
        ]);
        assert_eq!(
            flags(&rows),
            vec![
                (true, true, false),
                (false, false, false),
                (false, false, true),
                (false, true, true),
                (false, true, true),
                (false, true, true),
            ]
        );
    }

    #[test]
    fn a_new_day_breaks_groups_and_gets_a_separator() {
        let rows = layout(&[(A, at(1, 23, 59)), (A, at(2, 0, 1)), (B, at(4, 9, 0))]);
        assert_eq!(rows[0].day_break, NaiveDate::from_ymd_opt(2026, 11, 1));
        assert_eq!(rows[1].day_break, NaiveDate::from_ymd_opt(2026, 11, 2));
        assert_eq!(rows[2].day_break, NaiveDate::from_ymd_opt(2026, 11, 4));
        assert!(rows.iter().all(|r| r.first_in_group && r.last_in_group));
        assert!(layout(&[]).is_empty());
    }
}
