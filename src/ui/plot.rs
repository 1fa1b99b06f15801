//! The goroutine plot under the timeline: the snapshot series, always, with
//! a marker and a hover value on every snapshot, and the trace's window
//! beside it when a trace is loaded.
//!
//! It used to show only the trace's curve once a trace was loaded, which hid
//! the one series that says whether a service leaks (56 → 88 → 122 → 167).
//! A trace carries no wall-clock time (its clock is the process's monotonic
//! one), so where its seconds fall among the snapshots' minutes is known
//! only when a session folder's manifest says when it was captured: then
//! its window is a band on the series with its alive curve inside; without
//! that it gets no made-up place. Either way it keeps its own plot below,
//! where its seconds are wide enough to read.
//!
//! A single dump is one point over time: where it prints wait ages, a
//! histogram of them takes the series' place ([`WaitAgePlot`]).

use std::ops::RangeInclusive;

use egui::{Color32, Ui};
use egui_plot::{Bar, BarChart, HoverPosition, Line, Plot, PlotPoints, Points};

use crate::analysis::Analysis;
use crate::analysis::wait_hist::{self, WaitAgeBucket};
use crate::model::time::format_duration_ns;
use crate::ui::names::Names;
use crate::ui::state::Selection;
use crate::ui::theme;
use crate::ui::workspace::{TraceWorkspace, Workspace};

/// Legend name of the snapshot series.
pub const SNAPSHOT_SERIES: &str = "all goroutines";
/// Legend name of the trace's curve.
pub const TRACE_SERIES: &str = "alive in the trace";

/// The snapshot series as the plot draws it.
#[derive(Clone, Debug, PartialEq)]
pub struct SnapshotSeries {
    /// Where each snapshot is: minutes since the first, or its index.
    pub xs: Vec<f64>,
    /// Whether `xs` are minutes (every snapshot has a capture time).
    pub wall: bool,
    /// Goroutines in each snapshot, all groups together.
    pub total: Vec<u64>,
    /// The selected group's counts, named.
    pub selected: Option<(String, Vec<u64>)>,
    /// The instance's goroutine history from Prometheus, in the same
    /// minutes (drawn wide behind the series), named by its query.
    pub history: Option<(String, Vec<[f64; 2]>)>,
    /// The trace's window among the snapshots, where its capture time is
    /// known (a session folder's manifest).
    pub trace: Option<TraceBand>,
}

/// Where a trace's window falls among the snapshots, in the series'
/// minutes, with the goroutines alive in it at the same scale.
#[derive(Clone, Debug, PartialEq)]
pub struct TraceBand {
    /// Start and end of the window, minutes since the first snapshot.
    pub x: (f64, f64),
    /// Goroutines alive over the window (minutes, count): the trace
    /// counts the same goroutines the snapshots do, so the y scale is shared.
    pub alive: Vec<[f64; 2]>,
}

impl TraceBand {
    /// The band of the loaded trace on a wall-clock series starting at
    /// `t0`; none without a trace or its capture time.
    fn of(ws: &Workspace, t0: i64) -> Option<TraceBand> {
        let t = ws.trace.as_ref()?;
        let trace = t.lanes.trace();
        let start = trace.started_at_ns?;
        let w0 = trace.window.start_ns;
        let minutes =
            |at: i64| (start.saturating_sub(t0) as f64 + at.saturating_sub(w0) as f64) / 60e9;
        Some(TraceBand {
            x: (minutes(w0), minutes(trace.window.end_ns)),
            alive: t
                .lanes
                .alive
                .iter()
                .map(|&(at, n)| [minutes(at), n as f64])
                .collect(),
        })
    }
}

impl SnapshotSeries {
    /// The series of the analysis, with the selected group's when a group is selected.
    pub fn of(a: &Analysis, ws: &Workspace, selection: Selection, names: Names) -> SnapshotSeries {
        let t0 = a.series.first().and_then(|p| p.captured_at_ns);
        let wall = a.series.iter().all(|p| p.captured_at_ns.is_some());
        let xs = a
            .series
            .iter()
            .enumerate()
            .map(|(i, p)| match (wall, p.captured_at_ns, t0) {
                (true, Some(t), Some(t0)) => t.saturating_sub(t0) as f64 / 60e9,
                _ => i as f64,
            })
            .collect();
        let selected = selection.group().and_then(|g| {
            let counts = a.groups.get(g)?.counts.clone();
            Some((group_name(a, ws, g, names), counts))
        });
        let history = match (&ws.history, t0) {
            (Some(Ok((title, pts))), Some(t0)) if wall => Some((
                title.clone(),
                pts.iter()
                    .map(|&(t, v)| [(t * 1e9 - t0 as f64) / 60e9, v])
                    .collect(),
            )),
            _ => None,
        };
        SnapshotSeries {
            xs,
            wall,
            total: a.series.iter().map(|p| p.total).collect(),
            selected,
            history,
            trace: t0.filter(|_| wall).and_then(|t0| TraceBand::of(ws, t0)),
        }
    }

    /// The ranges shown: every snapshot with room around it, and goroutine
    /// counts from zero to a little above the largest. One snapshot gets a
    /// unit of room on each side (a plot fitted to a single point would
    /// span ±50,000 of nothing).
    pub fn bounds(&self) -> (RangeInclusive<f64>, RangeInclusive<f64>) {
        let history = self.history.as_ref().map_or(&[][..], |h| h.1.as_slice());
        let band = self.trace.as_ref().map(|b| [b.x.0, b.x.1]);
        let xs = || {
            self.xs
                .iter()
                .copied()
                .chain(history.iter().map(|p| p[0]))
                .chain(band.into_iter().flatten())
        };
        let first = xs().fold(f64::INFINITY, f64::min);
        let last = xs().fold(f64::NEG_INFINITY, f64::max);
        let (first, last) = if first.is_finite() && last.is_finite() {
            (first, last)
        } else {
            (0.0, 0.0)
        };
        let pad = if last > first {
            (last - first) * 0.05
        } else {
            1.0
        };
        let max = self
            .total
            .iter()
            .map(|&c| c as f64)
            .chain(history.iter().map(|p| p[1]))
            .fold(1.0, f64::max);
        (first - pad..=last + pad, 0.0..=max * 1.15)
    }

    /// What a snapshot is called on the axis and in hover labels.
    fn snapshot_label(&self, i: usize) -> String {
        match self.xs.get(i) {
            Some(x) if self.wall => format!("t{i} (+{x:.1} min)"),
            _ => format!("t{i}"),
        }
    }
}

/// The plot of goroutines over time: the snapshot series, and under it
/// the trace's window when a trace is loaded.
pub fn goroutine_plot_ui(ui: &mut Ui, ws: &Workspace, selection: Selection, names: Names) {
    let a = &ws.analysis;
    let series = (!a.series.is_empty()).then(|| SnapshotSeries::of(a, ws, selection, names));
    // One snapshot is one point over time; how long its goroutines have
    // waited says more, where the dump prints it.
    let ages = WaitAgePlot::of(a, selection, names, ws);
    // The heading with the key, not a legend over the points it would hide.
    if ages.is_none() {
        ui.horizontal(|ui| {
            ui.strong("Goroutines over time");
            if let Some(series) = &series {
                key_ui(ui, series);
            }
        });
    }
    if let Some(Err(e)) = &ws.history {
        ui.add(egui::Label::new(egui::RichText::new(e).weak().small()).truncate());
    }
    let height = ui.available_height();
    match (&ws.trace, series) {
        (None, None) => {
            ui.weak("No goroutine snapshots to plot.");
        }
        (Some(t), None) => trace_plot_ui(ui, ws, t, selection, names, height),
        (None, Some(series)) => match ages {
            Some(ages) => wait_age_plot_ui(ui, &ages, height),
            None => snapshot_plot_ui(ui, &series, height),
        },
        (Some(t), Some(series)) => {
            let top = (height * 0.55).max(60.0);
            match ages {
                Some(ages) => wait_age_plot_ui(ui, &ages, top),
                None => snapshot_plot_ui(ui, &series, top),
            }
            trace_plot_ui(ui, ws, t, selection, names, ui.available_height());
        }
    }
}

/// Heading of the wait-age histogram, in place of the series' plot.
pub const WAIT_AGE_HEADING: &str = "How long goroutines have waited (one snapshot)";

/// The wait-age histogram as the plot draws it: every goroutine's bars
/// and, behind a selection, the selected group's on the same bars.
#[derive(Clone, Debug, PartialEq)]
pub struct WaitAgePlot {
    /// Every waiting goroutine's bars.
    pub all: Vec<WaitAgeBucket>,
    /// The selected group's name and bars.
    pub selected: Option<(String, Vec<WaitAgeBucket>)>,
}

impl WaitAgePlot {
    /// The histogram shown with one snapshot whose goroutines have ages
    /// (none otherwise: with several snapshots the series says more).
    pub fn of(a: &Analysis, selection: Selection, names: Names, ws: &Workspace) -> Option<Self> {
        if a.series.len() != 1 {
            return None;
        }
        let all = wait_hist::of_all(a);
        if all.is_empty() {
            return None;
        }
        let selected = selection
            .group()
            .map(|g| (group_name(a, ws, g, names), wait_hist::of_group(a, g, &all)));
        Some(WaitAgePlot { all, selected })
    }
}

/// A group's leak site, short, as the key names it.
fn group_name(a: &Analysis, ws: &Workspace, g: usize, names: Names) -> String {
    a.suspects
        .iter()
        .find(|s| s.group == g)
        .and_then(|s| s.leak_site)
        .map_or_else(
            || "selected group".to_owned(),
            |f| names.frame_function(&ws.session.stacks, f),
        )
}

/// Bars of goroutines by how long they have waited; hovering a bar tells
/// its count.
fn wait_age_plot_ui(ui: &mut Ui, h: &WaitAgePlot, height: f32) {
    ui.horizontal(|ui| {
        ui.strong(WAIT_AGE_HEADING);
        ui.colored_label(Color32::GRAY, SNAPSHOT_SERIES);
        if let Some((name, _)) = &h.selected {
            ui.colored_label(theme::BLOCKING, name);
        }
    });
    let labels: Vec<String> = h.all.iter().map(|b| b.label.clone()).collect();
    let bars = |buckets: &[WaitAgeBucket], name: &str| -> Vec<Bar> {
        buckets
            .iter()
            .enumerate()
            .map(|(i, b)| {
                Bar::new(i as f64, b.goroutines as f64).name(format!("{name}, waited {}", b.label))
            })
            .collect()
    };
    let max = h.all.iter().map(|b| b.goroutines).max().unwrap_or(0).max(1) as f64;
    fn count_text(bar: &Bar, _: &BarChart) -> String {
        format!("{}: {} goroutines", bar.name, bar.value)
    }
    let all = BarChart::new(SNAPSHOT_SERIES, bars(&h.all, SNAPSHOT_SERIES))
        .color(Color32::GRAY)
        .width(0.8)
        .element_formatter(Box::new(count_text));
    let selected = h.selected.as_ref().map(|(name, b)| {
        BarChart::new(name.clone(), bars(b, name))
            .color(theme::BLOCKING)
            .width(0.5)
            .element_formatter(Box::new(count_text))
    });
    let n = h.all.len() as f64;
    Plot::new("goroutine-wait-ages")
        .height((height - 20.0).max(40.0))
        .x_axis_label("waited (minutes as the dump prints them; under a minute prints none)")
        .y_axis_label("goroutines")
        .default_x_bounds(-0.7, n - 0.3)
        .default_y_bounds(0.0, max * 1.15)
        .allow_scroll(false)
        .x_axis_formatter(move |mark, _| {
            let v = mark.value;
            if v >= 0.0 && v.fract() == 0.0 {
                labels.get(v as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .show(ui, |p| {
            p.bar_chart(all);
            if let Some(s) = selected {
                p.bar_chart(s);
            }
            // Counts on the bars: the axis may label too few values to
            // read them off, and hovering each bar is slow.
            for t in bar_counts(h) {
                p.text(t);
            }
        });
}

/// `16` over each bar of goroutines, `9 of 16` with a group selected.
fn bar_counts(h: &WaitAgePlot) -> Vec<egui_plot::Text> {
    h.all
        .iter()
        .enumerate()
        .filter(|(_, b)| b.goroutines > 0)
        .map(|(i, b)| {
            let text = match &h.selected {
                Some((_, sel)) => {
                    let n = sel.get(i).map_or(0, |s| s.goroutines);
                    format!("{n} of {}", b.goroutines)
                }
                None => b.goroutines.to_string(),
            };
            egui_plot::Text::new(
                "count",
                egui_plot::PlotPoint::new(i as f64, b.goroutines as f64),
                egui::RichText::new(text).small(),
            )
            .anchor(egui::Align2::CENTER_BOTTOM)
        })
        .collect()
}

/// The series' names in their colours.
fn key_ui(ui: &mut Ui, series: &SnapshotSeries) {
    ui.colored_label(Color32::GRAY, SNAPSHOT_SERIES);
    if let Some((name, _)) = &series.selected {
        ui.colored_label(theme::BLOCKING, name);
    }
    if let Some((title, _)) = &series.history {
        ui.add(
            egui::Label::new(egui::RichText::new(title).color(theme::HISTORY.to_opaque()))
                .truncate(),
        );
    }
}

fn snapshot_plot_ui(ui: &mut Ui, series: &SnapshotSeries, height: f32) {
    let (x_range, y_range) = series.bounds();
    let points = |counts: &[u64]| -> Vec<[f64; 2]> {
        series
            .xs
            .iter()
            .zip(counts)
            .map(|(&x, &c)| [x, c as f64])
            .collect()
    };
    let total = points(&series.total);
    let selected = series
        .selected
        .as_ref()
        .map(|(name, counts)| (name.clone(), points(counts)));
    let labels: Vec<String> = (0..series.xs.len())
        .map(|i| series.snapshot_label(i))
        .collect();
    let wall = series.wall;
    let mut plot = Plot::new("goroutines-over-snapshots")
        .height(height.max(40.0))
        .x_axis_label(if wall {
            "minutes since the first snapshot"
        } else {
            "snapshot"
        })
        .y_axis_label("goroutines")
        .default_x_bounds(*x_range.start(), *x_range.end())
        .default_y_bounds(*y_range.start(), *y_range.end())
        .allow_scroll(false)
        .label_formatter(move |pos| match pos {
            HoverPosition::NearDataPoint {
                plot_name,
                position,
                index,
            } => Some(format!(
                "{plot_name}\n{}: {} goroutines",
                labels.get(*index).map_or("", String::as_str),
                position.y.round()
            )),
            HoverPosition::Elsewhere { .. } => None,
        });
    if !wall {
        // Snapshots without capture times are steps, not minutes.
        plot = plot.x_axis_formatter(|mark, _| {
            let v = mark.value;
            if v >= 0.0 && v.fract() == 0.0 {
                format!("t{v}")
            } else {
                String::new()
            }
        });
    }
    let history = series.history.clone();
    let band = series.trace.clone();
    let (x0, x1) = (*x_range.start(), *x_range.end());
    let top = *y_range.end();
    plot.show(ui, |p| {
        if let Some(b) = band {
            trace_band(p, &b, (x1 - x0) * 0.006, top);
        }
        if let Some((title, pts)) = history {
            p.line(
                Line::new(title, PlotPoints::from(pts))
                    .color(theme::HISTORY)
                    .width(6.0),
            );
        }
        series_with_markers(p, SNAPSHOT_SERIES, total, Color32::GRAY);
        if let Some((name, pts)) = selected {
            series_with_markers(p, &name, pts, theme::BLOCKING);
        }
    });
}

/// Label of the trace's band on the series' plot.
pub const TRACE_BAND: &str = "trace";

/// The trace's window as a shaded band (at least `min_width` wide, so a
/// few seconds among minutes still shows) with its alive curve inside.
fn trace_band(p: &mut egui_plot::PlotUi<'_>, b: &TraceBand, min_width: f64, top: f64) {
    let mid = (b.x.0 + b.x.1) / 2.0;
    let half = ((b.x.1 - b.x.0) / 2.0).max(min_width / 2.0);
    let (a, z) = (mid - half, mid + half);
    let fill = theme::CREATION.gamma_multiply(0.25);
    p.polygon(
        egui_plot::Polygon::new(
            TRACE_BAND,
            PlotPoints::from(vec![[a, 0.0], [z, 0.0], [z, top], [a, top]]),
        )
        .fill_color(fill)
        .stroke(egui::Stroke::new(1.0, theme::CREATION)),
    );
    p.text(
        egui_plot::Text::new(
            TRACE_BAND,
            egui_plot::PlotPoint::new(z, top * 0.95),
            egui::RichText::new(TRACE_BAND).color(theme::CREATION),
        )
        .anchor(egui::Align2::LEFT_TOP),
    );
    if b.alive.len() > 1 {
        // Squeezed into the drawn band when it was widened to be seen.
        let scale = (z - a) / (b.x.1 - b.x.0).max(f64::MIN_POSITIVE);
        let pts: Vec<[f64; 2]> = b
            .alive
            .iter()
            .map(|q| [a + (q[0] - b.x.0) * scale, q[1]])
            .collect();
        p.line(
            Line::new(TRACE_SERIES, PlotPoints::from(pts))
                .color(theme::CREATION)
                .width(1.5),
        );
    }
}

/// A line through the points and a marker on each.
fn series_with_markers(
    p: &mut egui_plot::PlotUi<'_>,
    name: &str,
    pts: Vec<[f64; 2]>,
    color: Color32,
) {
    p.line(
        Line::new(name, PlotPoints::from(pts.clone()))
            .color(color)
            .width(2.0),
    );
    p.points(
        Points::new(name, PlotPoints::from(pts))
            .color(color)
            .radius(3.5)
            .filled(true),
    );
}

/// Goroutines alive over the trace window: all of them and the selection.
fn trace_plot_ui(
    ui: &mut Ui,
    ws: &Workspace,
    t: &TraceWorkspace,
    selection: Selection,
    names: Names,
    height: f32,
) {
    use crate::analysis::lanes::LaneSource as _;
    // The selection among the trace's lanes, whichever lanes the timeline shows.
    let selected = match selection {
        Selection::Group(g) => t.lanes.lanes_of_group(g as u32),
        Selection::TraceGroup(i) => t.lanes.lanes_of_leak(i),
        Selection::None => &[],
    };
    let w0 = t.lanes.trace().window.start_ns;
    let to_points = |series: &[(i64, u64)]| -> Vec<[f64; 2]> {
        series
            .iter()
            .map(|&(at, n)| [at.saturating_sub(w0) as f64 / 1e9, n as f64])
            .collect()
    };
    let total = to_points(&t.lanes.alive);
    let sel = (selection != Selection::None).then(|| to_points(&t.lanes.alive_of(selected)));
    let name = match selection {
        Selection::Group(g) => ws
            .analysis
            .suspects
            .iter()
            .find(|s| s.group == g)
            .and_then(|s| s.leak_site)
            .map(|f| names.frame_function(&ws.session.stacks, f)),
        Selection::TraceGroup(i) => t
            .analysis
            .leaks
            .get(i)
            .map(|l| names.function(&l.entry_function).into_owned()),
        Selection::None => None,
    }
    .unwrap_or_default();
    let max = t.lanes.alive.iter().map(|p| p.1).max().unwrap_or(0).max(1) as f64;
    let window = t.analysis.summary_window_ns();
    // No legend: the colours are the series plot's, above.
    Plot::new("goroutines-over-trace")
        .height(height.max(40.0))
        .x_axis_label(match t.lanes.trace().started_at_ns {
            Some(at) => format!(
                "seconds into the trace ({} window, captured {}; the band above)",
                format_duration_ns(window),
                crate::model::time::format_rfc3339(at)
            ),
            None => format!(
                "seconds into the trace ({} window; traces carry no wall-clock time)",
                format_duration_ns(window)
            ),
        })
        .y_axis_label("alive")
        .include_y(0.0)
        .include_y(max * 1.15)
        .allow_scroll(false)
        .label_formatter(|pos| match pos {
            HoverPosition::NearDataPoint {
                plot_name,
                position,
                ..
            } => Some(format!(
                "{plot_name}\n+{:.2} s: {} goroutines",
                position.x,
                position.y.round()
            )),
            HoverPosition::Elsewhere { .. } => None,
        })
        .show(ui, |p| {
            p.line(
                Line::new(TRACE_SERIES, PlotPoints::from(total))
                    .color(Color32::GRAY)
                    .width(1.5),
            );
            if let Some(pts) = sel {
                p.line(
                    Line::new(name, PlotPoints::from(pts))
                        .color(theme::BLOCKING)
                        .width(2.0),
                );
            }
        });
}
