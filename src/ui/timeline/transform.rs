//! The timeline's one mapping between time and screen columns.
//!
//! Lanes, the axis, markers, hover and every zoom and pan go through
//! [`TimeTransform`], so they cannot disagree on where an instant is drawn.
//! Time stays integer nanoseconds; it becomes a float only as an offset from
//! the view's start, so wall-clock times (about 1.7e18 ns) keep their
//! precision at any zoom.

/// Narrowest range a zoom reaches: 1 µs.
const MIN_SPAN_NS: f64 = 1_000.0;
/// Widest range a zoom reaches: about eleven days.
const MAX_SPAN_NS: f64 = 1e15;

/// The visible time range and the screen columns it fills: `start_ns` is
/// drawn at `left_px`, `end_ns` at `left_px + width_px`.
///
/// The range is the state a view keeps between frames; the columns are set
/// each frame from the layout ([`TimeTransform::set_screen`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TimeTransform {
    start_ns: i64,
    end_ns: i64,
    left_px: f32,
    width_px: f32,
}

impl Default for TimeTransform {
    fn default() -> Self {
        TimeTransform {
            start_ns: 0,
            end_ns: 1,
            left_px: 0.0,
            width_px: 1.0,
        }
    }
}

impl TimeTransform {
    /// The transform showing `[start_ns, end_ns]` across `width_px` from `left_px`;
    /// an empty or reversed range becomes one nanosecond wide.
    pub fn new(start_ns: i64, end_ns: i64, left_px: f32, width_px: f32) -> TimeTransform {
        let mut t = TimeTransform::default();
        t.set_range(start_ns, end_ns);
        t.set_screen(left_px, width_px);
        t
    }

    /// The visible range, ns.
    pub fn range(&self) -> (i64, i64) {
        (self.start_ns, self.end_ns)
    }

    /// Shows `[start_ns, end_ns]` exactly (an empty range widens to 1 ns).
    pub fn set_range(&mut self, start_ns: i64, end_ns: i64) {
        self.start_ns = start_ns;
        self.end_ns = end_ns.max(start_ns.saturating_add(1));
    }

    /// The columns the range fills this frame.
    pub fn set_screen(&mut self, left_px: f32, width_px: f32) {
        self.left_px = left_px;
        self.width_px = width_px.max(1.0);
    }

    /// Length of the visible range, ns.
    pub fn span_ns(&self) -> f64 {
        self.end_ns.saturating_sub(self.start_ns).max(1) as f64
    }

    /// Nanoseconds one pixel spans at the current zoom.
    pub fn ns_per_px(&self) -> f64 {
        self.span_ns() / self.width_px as f64
    }

    /// The screen column of an instant (outside the columns when the
    /// instant is outside the range).
    pub fn px_from_ns(&self, t_ns: i64) -> f32 {
        let offset = t_ns.saturating_sub(self.start_ns) as f64;
        self.left_px + (offset / self.span_ns() * self.width_px as f64) as f32
    }

    /// The instant drawn at a screen column.
    pub fn ns_from_px(&self, x_px: f32) -> i64 {
        let offset = (x_px - self.left_px) as f64 * self.ns_per_px();
        self.start_ns.saturating_add(offset as i64)
    }

    /// Zooms by `factor` (above 1 zooms in) keeping the instant under
    /// `x_px` where it is; the range stays between 1 µs and about 11 days.
    pub fn zoom_at(&mut self, x_px: f32, factor: f64) {
        if !factor.is_finite() || factor <= 0.0 {
            return;
        }
        let span = self.span_ns();
        let at_ns = self.ns_from_px(x_px.max(self.left_px));
        let new_span = (span / factor).clamp(MIN_SPAN_NS, MAX_SPAN_NS);
        let left_share = (at_ns.saturating_sub(self.start_ns)) as f64 / span;
        let start = at_ns.saturating_sub((left_share * new_span) as i64);
        self.set_range(start, start.saturating_add(new_span as i64));
    }

    /// Moves the content `dx_px` columns to the right (a drag): earlier
    /// time comes into view.
    pub fn pan_px(&mut self, dx_px: f32) {
        self.pan_ns(-((dx_px as f64 * self.ns_per_px()) as i64));
    }

    /// Moves the range `dt_ns` later.
    pub fn pan_ns(&mut self, dt_ns: i64) {
        self.start_ns = self.start_ns.saturating_add(dt_ns);
        self.end_ns = self.end_ns.saturating_add(dt_ns);
    }

    /// Keeps the span and puts `t_ns` in the middle.
    pub fn centre_on(&mut self, t_ns: i64) {
        let half = self.end_ns.saturating_sub(self.start_ns) / 2;
        self.set_range(t_ns.saturating_sub(half), t_ns.saturating_add(half));
    }

    /// Shows `[start_ns, end_ns]` with `pad_ns` of margin on each side.
    pub fn fit(&mut self, start_ns: i64, end_ns: i64, pad_ns: i64) {
        self.set_range(
            start_ns.saturating_sub(pad_ns),
            end_ns
                .max(start_ns.saturating_add(1))
                .saturating_add(pad_ns),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A wall-clock trace window: 2024-05-01, 10 s long, over 1000 columns
    /// starting at x = 200.
    const T0: i64 = 1_714_521_600_000_000_000;

    fn view() -> TimeTransform {
        TimeTransform::new(T0, T0 + 10_000_000_000, 200.0, 1000.0)
    }

    #[test]
    fn maps_both_ways_at_wall_clock_times() {
        let v = view();
        assert_eq!(v.px_from_ns(T0), 200.0);
        assert_eq!(v.px_from_ns(T0 + 10_000_000_000), 1200.0);
        assert_eq!(v.px_from_ns(T0 + 2_500_000_000), 450.0);
        assert_eq!(v.ns_from_px(450.0), T0 + 2_500_000_000);
        assert_eq!(v.ns_per_px(), 10_000_000.0);
        // One nanosecond apart stays one nanosecond apart when zoomed to 1 µs.
        let mut z = TimeTransform::new(T0, T0 + 1_000, 0.0, 1000.0);
        assert_eq!(z.px_from_ns(T0 + 1) - z.px_from_ns(T0), 1.0);
        z.set_screen(0.0, 0.0);
        assert!(z.px_from_ns(T0 + 1).is_finite());
        for x in [200.0, 333.0, 1199.0] {
            let back = v.px_from_ns(v.ns_from_px(x));
            assert!((back - x).abs() < 0.01, "{x} -> {back}");
        }
    }

    #[test]
    fn zoom_keeps_the_instant_under_the_pointer() {
        let mut v = view();
        let at = v.ns_from_px(450.0);
        v.zoom_at(450.0, 4.0);
        assert_eq!(v.span_ns(), 2_500_000_000.0);
        assert_eq!(v.ns_from_px(450.0), at);
        v.zoom_at(450.0, 0.25);
        assert_eq!(v.range(), view().range());
        // Left of the columns zooms at their left edge.
        let mut l = view();
        l.zoom_at(0.0, 2.0);
        assert_eq!(l.range(), (T0, T0 + 5_000_000_000));
        // Bounded: never below 1 µs, never above ~11 days, no-op on nonsense.
        v.zoom_at(700.0, 1e12);
        assert_eq!(v.span_ns(), 1_000.0);
        v.zoom_at(700.0, 1e-12);
        assert_eq!(v.span_ns(), 1e15);
        let before = v;
        v.zoom_at(700.0, f64::NAN);
        v.zoom_at(700.0, 0.0);
        assert_eq!(v, before);
    }

    #[test]
    fn pan_moves_by_columns_or_time() {
        let mut v = view();
        // Dragging 100 columns to the right shows one second earlier.
        v.pan_px(100.0);
        assert_eq!(v.range(), (T0 - 1_000_000_000, T0 + 9_000_000_000));
        v.pan_ns(1_000_000_000);
        assert_eq!(v.range(), view().range());
        v.centre_on(T0 + 20_000_000_000);
        assert_eq!(v.range(), (T0 + 15_000_000_000, T0 + 25_000_000_000));
    }

    #[test]
    fn fit_pads_and_never_collapses() {
        let mut v = view();
        v.fit(100, 200, 10);
        assert_eq!(v.range(), (90, 210));
        v.fit(500, 500, 0);
        assert_eq!(v.range(), (500, 501));
        v.fit(i64::MIN, i64::MAX, 1);
        assert_eq!(v.range(), (i64::MIN, i64::MAX));
        assert!(v.px_from_ns(0).is_finite());
    }
}
