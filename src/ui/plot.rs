//! The goroutine plot under the timeline: the snapshot series, always, with
//! a marker and a hover value on every snapshot, and the trace's window
//! beside it when a trace is loaded.
//!
//! It used to show only the trace's curve once a trace was loaded, which hid
//! the one series that says whether a service leaks (56 → 88 → 122 → 167).
//! A trace carries no wall-clock time (its clock is the process's monotonic
//! one), so where its seconds fall among the snapshots' minutes is not
//! known: it gets its own plot under the series rather than a made-up place
//! in it.

use std::ops::RangeInclusive;

use egui::{Color32, Ui};
use egui_plot::{HoverPosition, Line, Plot, PlotPoints, Points};

use crate::analysis::Analysis;
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
            let name = a
                .suspects
                .iter()
                .find(|s| s.group == g)
                .and_then(|s| s.leak_site)
                .map_or_else(
                    || "selected group".to_owned(),
                    |f| names.frame_function(&ws.session.stacks, f),
                );
            Some((name, counts))
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
        }
    }

    /// The ranges shown: every snapshot with room around it, and goroutine
    /// counts from zero to a little above the largest. One snapshot gets a
    /// unit of room on each side (a plot fitted to a single point would
    /// span ±50,000 of nothing).
    pub fn bounds(&self) -> (RangeInclusive<f64>, RangeInclusive<f64>) {
        let history = self.history.as_ref().map_or(&[][..], |h| h.1.as_slice());
        let xs = || self.xs.iter().copied().chain(history.iter().map(|p| p[0]));
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
    // The heading with the key, not a legend over the points it would hide.
    ui.horizontal(|ui| {
        ui.strong("Goroutines over time");
        if let Some(series) = &series {
            key_ui(ui, series);
        }
    });
    if let Some(Err(e)) = &ws.history {
        ui.add(egui::Label::new(egui::RichText::new(e).weak().small()).truncate());
    }
    let height = ui.available_height();
    match (&ws.trace, series) {
        (None, None) => {
            ui.weak("No goroutine snapshots to plot.");
        }
        (Some(t), None) => trace_plot_ui(ui, ws, t, selection, names, height),
        (None, Some(series)) => snapshot_plot_ui(ui, &series, height),
        (Some(t), Some(series)) => {
            let top = (height * 0.55).max(60.0);
            snapshot_plot_ui(ui, &series, top);
            trace_plot_ui(ui, ws, t, selection, names, ui.available_height());
        }
    }
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
    plot.show(ui, |p| {
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
        .x_axis_label(format!(
            "seconds into the trace ({} window; traces carry no wall-clock time)",
            format_duration_ns(window)
        ))
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
