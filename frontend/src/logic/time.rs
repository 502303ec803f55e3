//! Time formatting for the list and the message view. Pure: the caller passes "now" and the
//! local UTC offset (from the browser), so these are deterministic and tested natively.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, Timelike, Utc};

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const WEEKDAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// `t` as wall-clock time at a UTC offset of `utc_offset_min` minutes (east positive).
pub fn to_local(t: DateTime<Utc>, utc_offset_min: i32) -> NaiveDateTime {
    t.naive_utc() + Duration::minutes(i64::from(utc_offset_min))
}

/// A Unix time in milliseconds as a UTC time (the epoch for nonsense input).
pub fn from_millis(ms: f64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms as i64).unwrap_or_default()
}

/// "14:05".
pub fn clock(t: NaiveDateTime) -> String {
    format!("{:02}:{:02}", t.hour(), t.minute())
}

fn short_month(day: NaiveDate) -> &'static str {
    MONTHS[day.month0() as usize % 12]
}

/// The label of a day separator: "Today", "Yesterday", a weekday within the last week,
/// "24 Nov" this year, "24 Nov 2025" before.
pub fn day_label(day: NaiveDate, today: NaiveDate) -> String {
    let age = (today - day).num_days();
    match age {
        0 => "Today".to_owned(),
        1 => "Yesterday".to_owned(),
        2..=6 => WEEKDAYS[day.weekday().num_days_from_monday() as usize].to_owned(),
        _ if day.year() == today.year() => format!("{} {}", day.day(), short_month(day)),
        _ => format!("{} {} {}", day.day(), short_month(day), day.year()),
    }
}

/// The compact relative time of the conversation list: "now", "5m", "3h", "Yesterday",
/// "Mon", "24 Nov", "24 Nov 2025". Times in the future (clock skew) count as "now".
pub fn relative(t: NaiveDateTime, now: NaiveDateTime) -> String {
    let ago = now - t;
    if ago < Duration::minutes(1) {
        return "now".to_owned();
    }
    if ago < Duration::hours(1) {
        return format!("{}m", ago.num_minutes());
    }
    if t.date() == now.date() {
        return format!("{}h", ago.num_hours());
    }
    let days = (now.date() - t.date()).num_days();
    match days {
        1 => "Yesterday".to_owned(),
        2..=6 => WEEKDAYS[t.weekday().num_days_from_monday() as usize][..3].to_owned(),
        _ if t.year() == now.year() => format!("{} {}", t.day(), short_month(t.date())),
        _ => format!("{} {} {}", t.day(), short_month(t.date()), t.year()),
    }
}

/// Full date and time for tooltips: "24 Nov 2026, 14:05".
pub fn full(t: NaiveDateTime) -> String {
    format!(
        "{} {} {}, {}",
        t.day(),
        short_month(t.date()),
        t.year(),
        clock(t)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, mo, d)
            .and_then(|day| day.and_hms_opt(h, mi, 0))
            .expect("valid test time")
    }

    #[test]
    fn local_time_applies_the_offset() {
        let utc = DateTime::parse_from_rfc3339("2026-11-25T23:30:00Z")
            .expect("valid")
            .with_timezone(&Utc);
        assert_eq!(to_local(utc, 60), at(2026, 11, 26, 0, 30));
        assert_eq!(to_local(utc, -300), at(2026, 11, 25, 18, 30));
        assert_eq!(clock(at(2026, 1, 2, 3, 4)), "03:04");
        assert_eq!(from_millis(1_000.0).timestamp(), 1);
    }

    #[test]
    fn day_labels_get_less_specific_with_age() {
        let today = at(2026, 11, 25, 12, 0).date();
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).expect("valid");
        assert_eq!(day_label(day(2026, 11, 25), today), "Today");
        assert_eq!(day_label(day(2026, 11, 24), today), "Yesterday");
        assert_eq!(day_label(day(2026, 11, 20), today), "Friday");
        assert_eq!(day_label(day(2026, 11, 2), today), "2 Nov");
        assert_eq!(day_label(day(2025, 12, 31), today), "31 Dec 2025");
    }

    #[test]
    fn relative_times_for_the_list() {
        let now = at(2026, 11, 25, 12, 0);
        assert_eq!(
            relative(at(2026, 11, 25, 11, 59) + Duration::seconds(30), now),
            "now"
        );
        assert_eq!(relative(at(2026, 11, 25, 12, 5), now), "now");
        assert_eq!(relative(at(2026, 11, 25, 11, 55), now), "5m");
        assert_eq!(relative(at(2026, 11, 25, 9, 0), now), "3h");
        assert_eq!(relative(at(2026, 11, 24, 23, 0), now), "Yesterday");
        assert_eq!(relative(at(2026, 11, 22, 8, 0), now), "Sun");
        assert_eq!(relative(at(2026, 3, 1, 8, 0), now), "1 Mar");
        assert_eq!(relative(at(2024, 3, 1, 8, 0), now), "1 Mar 2024");
        assert_eq!(full(at(2026, 3, 1, 8, 7)), "1 Mar 2026, 08:07");
    }
}
