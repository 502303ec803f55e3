//! Which rows of a long timeline are in the DOM: the ones on screen plus a margin on each
//! side. Rows above and below the window are stood in for by two spacers whose heights are the
//! sum of the rows they replace, measured once a row has been shown and estimated before, so
//! the scroll bar and the scroll position behave as if every row were there.

/// Rows rendered beyond each edge of the view, in pixels of content.
pub const MARGIN_PX: f64 = 800.0;

/// Where the reader is: which row sits at the top of the view, and how far (in pixels) the
/// view's top edge is below that row's top (zero or more, less than the row's height).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Focus {
    /// Pinned to the newest row.
    Bottom,
    /// Reading: the row at `index` starts `into` pixels above the top of the view.
    At { index: usize, into: f64 },
    /// A row to show in the middle of the view (a jump to a reply's original, a search hit,
    /// the first unread message).
    Centre(usize),
}

/// The half-open range of rows to render for `focus` in a view `viewport` pixels high.
pub fn window(heights: &[f64], focus: Focus, viewport: f64) -> (usize, usize) {
    let len = heights.len();
    if len == 0 {
        return (0, 0);
    }
    // From a row, how many rows up and down cover `above` and `below` pixels.
    let reach = |index: usize, above: f64, below: f64| {
        let mut start = index;
        let mut covered = 0.0;
        while start > 0 && covered < above {
            start -= 1;
            covered += heights[start];
        }
        let mut end = index;
        let mut covered = 0.0;
        while end < len && covered < below {
            covered += heights[end];
            end += 1;
        }
        (start, end.max(index + 1).min(len))
    };
    match focus {
        // Counted from past the newest row: the rows above it cover the view and the margin.
        Focus::Bottom => (reach(len, viewport + MARGIN_PX, 0.0).0, len),
        Focus::At { index, into } => {
            let index = index.min(len - 1);
            reach(index, MARGIN_PX, into + viewport + MARGIN_PX)
        }
        Focus::Centre(index) => {
            let index = index.min(len - 1);
            let half = viewport / 2.0 + MARGIN_PX;
            reach(index, half, half + heights[index])
        }
    }
}

/// The heights of the spacers above and below `range`.
pub fn spacers(heights: &[f64], (start, end): (usize, usize)) -> (f64, f64) {
    let above = heights.iter().take(start).sum();
    let below = heights.iter().skip(end).sum();
    (above, below)
}

/// Whether the rendered rows, from `top` to `bottom` (in the same coordinates as the view's
/// edges), still cover the view with half the margin to spare on each side that has rows
/// beyond it. When they do not, the window has to move.
pub fn covers(top: f64, bottom: f64, view: (f64, f64), more_above: bool, more_below: bool) -> bool {
    let slack = MARGIN_PX / 2.0;
    (!more_above || top <= view.0 - slack) && (!more_below || bottom >= view.1 + slack)
}

/// The row under a point `offset` pixels below the top of row `from` (negative: above it),
/// and how far below that row's top the point lies: where the view is when it has scrolled
/// into a spacer, whose rows are known only by their heights.
pub fn row_at(heights: &[f64], from: usize, offset: f64) -> Option<(usize, f64)> {
    let last = heights.len().checked_sub(1)?;
    let mut index = from.min(last);
    // Past the end, `from` is the bottom of the last row.
    let mut top = if from > last { -heights[last] } else { 0.0 };
    while offset < top && index > 0 {
        index -= 1;
        top -= heights[index];
    }
    while index < last && offset >= top + heights[index] {
        top += heights[index];
        index += 1;
    }
    Some((index, (offset - top).max(0.0)))
}

/// A first guess at a row's height before it has been shown: a bubble of `chars` characters
/// wraps at about 60 a line; a day separator and attachments add their own.
pub fn estimate(chars: usize, day_break: bool, attachments: usize) -> f64 {
    let lines = chars.div_ceil(60).max(1) as f64;
    let separator = if day_break { 52.0 } else { 0.0 };
    28.0 + 21.0 * lines + separator + 180.0 * attachments as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(n: usize, h: f64) -> Vec<f64> {
        vec![h; n]
    }

    #[test]
    fn an_empty_timeline_renders_nothing() {
        assert_eq!(window(&[], Focus::Bottom, 600.0), (0, 0));
        assert_eq!(spacers(&[], (0, 0)), (0.0, 0.0));
    }

    #[test]
    fn the_bottom_renders_the_view_and_a_margin_above_it() {
        let h = rows(3_000, 50.0);
        let (start, end) = window(&h, Focus::Bottom, 600.0);
        assert_eq!(end, 3_000);
        // 600 px of view and 800 px of margin: 28 rows of 50 px.
        assert_eq!(end - start, 28);
        let (above, below) = spacers(&h, (start, end));
        assert_eq!(above, 50.0 * start as f64);
        assert_eq!(below, 0.0);
    }

    #[test]
    fn a_short_timeline_is_rendered_whole() {
        let h = rows(5, 50.0);
        assert_eq!(window(&h, Focus::Bottom, 600.0), (0, 5));
        assert_eq!(
            window(
                &h,
                Focus::At {
                    index: 2,
                    into: 0.0
                },
                600.0
            ),
            (0, 5)
        );
        assert_eq!(window(&h, Focus::Centre(0), 600.0), (0, 5));
    }

    #[test]
    fn reading_renders_a_margin_on_both_sides_of_the_view() {
        let h = rows(3_000, 50.0);
        let (start, end) = window(
            &h,
            Focus::At {
                index: 1_000,
                into: 20.0,
            },
            600.0,
        );
        assert_eq!(start, 1_000 - 16);
        // 20 + 600 + 800 px from the top of row 1,000: 29 rows (the last one partly).
        assert_eq!(end, 1_000 + 29);
        assert!(end - start < 200);
    }

    #[test]
    fn a_centred_row_is_in_the_window_with_room_around_it() {
        let h = rows(3_000, 50.0);
        let (start, end) = window(&h, Focus::Centre(1_500), 600.0);
        assert!(start < 1_500 && end > 1_500);
        assert!(1_500 - start >= 22 && end - 1_500 >= 22);
        // Past either end it is clamped, never out of range.
        assert_eq!(window(&h, Focus::Centre(9_999), 600.0).1, 3_000);
        assert_eq!(
            window(
                &h,
                Focus::At {
                    index: 9_999,
                    into: 0.0
                },
                600.0
            )
            .1,
            3_000
        );
    }

    #[test]
    fn tall_rows_need_fewer_of_them() {
        let mut h = rows(100, 50.0);
        h[99] = 2_000.0;
        let (start, end) = window(&h, Focus::Bottom, 600.0);
        assert_eq!((start, end), (99, 100));
    }

    #[test]
    fn the_window_moves_when_the_reader_scrolls_past_half_its_margin() {
        // Rows rendered from 1,000 to 3,000 px; the view is 600 px high.
        let at = |top: f64| (top, top + 600.0);
        assert!(covers(1_000.0, 3_000.0, at(1_400.0), true, true));
        assert!(covers(1_000.0, 3_000.0, at(2_000.0), true, true));
        assert!(!covers(1_000.0, 3_000.0, at(1_300.0), true, true));
        assert!(!covers(1_000.0, 3_000.0, at(2_100.0), true, true));
        // Nothing beyond an edge: no margin is owed there.
        assert!(covers(1_000.0, 3_000.0, at(1_000.0), false, true));
        assert!(covers(1_000.0, 3_000.0, at(2_400.0), true, false));
    }

    #[test]
    fn a_view_in_a_spacer_finds_its_row_by_the_heights() {
        let h = rows(100, 50.0);
        // 120 px above row 40: row 37, 30 px into it.
        assert_eq!(row_at(&h, 40, -120.0), Some((37, 30.0)));
        // 120 px below row 40's top: row 42, 20 px into it.
        assert_eq!(row_at(&h, 40, 120.0), Some((42, 20.0)));
        // Beyond either end: the first or the last row.
        assert_eq!(row_at(&h, 3, -1_000.0), Some((0, 0.0)));
        assert_eq!(row_at(&h, 100, 500.0), Some((99, 550.0)));
        assert_eq!(row_at(&[], 0, 0.0), None);
    }

    #[test]
    fn longer_messages_and_day_breaks_are_guessed_taller() {
        assert!(estimate(10, false, 0) < estimate(400, false, 0));
        assert!(estimate(10, false, 0) < estimate(10, true, 0));
        assert!(estimate(0, false, 0) < estimate(0, false, 1));
        assert_eq!(estimate(0, false, 0), estimate(1, false, 0));
    }
}
