//! The panels around the two main views: leak suspects, the goroutine
//! count plot, and the selected group's creation events and blocking points.

use egui::{Color32, Pos2, Sense, Stroke, Ui, Vec2};
use egui_plot::{Legend, Line, Plot, PlotPoints};

use crate::analysis::lanes::LaneSource;
use crate::analysis::lanes::{EventKind, LaneEvent};
use crate::analysis::wording;
use crate::model::StackTable;
use crate::model::time::format_duration_ns;
use crate::ui::names::Names;
use crate::ui::state::{Action, ExportRequest, Selection};
use crate::ui::theme;
use crate::ui::workspace::{TraceWorkspace, Workspace};

/// The ranked suspects; a click selects a group.
pub fn suspects_ui(
    ui: &mut Ui,
    ws: &Workspace,
    selection: Selection,
    names: Names,
) -> Option<Action> {
    incident_ui(ui, ws);
    let instance = instance_ui(ui, ws);
    let measure = measure_ui(ui, ws).or(instance);
    let a = &ws.analysis;
    let snapshots = a.series.len();
    if snapshots == 0 {
        if let Some(t) = &ws.trace {
            return trace_suspects_ui(ui, ws, t, selection, true, names);
        }
        ui.heading("Leak suspects");
        ui.weak("No goroutine snapshots or traces loaded.");
        return None;
    }
    ui.horizontal(|ui| {
        ui.heading("Leak suspects");
        if snapshots >= 2 {
            let growing = a.suspects.iter().filter(|s| s.growth.growing).count();
            ui.weak(format!("{growing} growing"));
        }
    });
    ui.weak(if snapshots >= 2 {
        format!("{} groups across {snapshots} snapshots", a.groups.len())
    } else {
        format!("{} groups in one snapshot, by size", a.groups.len())
    });
    ui.separator();
    let mut action = None;
    if let Some(t) = &ws.trace {
        // The trace's own suspects below the snapshots', in a fixed share.
        let h = (ui.available_height() * 0.35).max(120.0);
        egui::Panel::bottom("trace-suspects")
            .resizable(true)
            .default_size(h)
            .show(ui, |ui| {
                action = trace_suspects_ui(ui, ws, t, selection, false, names);
            });
    }
    let row_h = 58.0;
    egui::ScrollArea::vertical()
        .id_salt("suspects")
        .auto_shrink([false, false])
        .show_rows(ui, row_h, a.suspects.len(), |ui, range| {
            for rank in range {
                ui.push_id(rank, |ui| {
                    ui.set_min_height(row_h - 4.0);
                    if let Some(a) = suspect_row_ui(ui, ws, rank, selection, names) {
                        action = Some(a);
                    }
                });
                ui.separator();
            }
        });
    action.or(measure)
}

/// What the suspects rank: goroutines, or a count profile of the service's
/// own (open connections, files, sessions) among the inputs, chosen here.
fn measure_ui(ui: &mut Ui, ws: &Workspace) -> Option<Action> {
    let profiles = crate::analysis::summary::count_profile_names(&ws.session);
    if profiles.is_empty() {
        return None;
    }
    let current = ws.analysis.options().count_profile.clone();
    let mut chosen = current.clone();
    ui.horizontal(|ui| {
        egui::ComboBox::from_label("ranked")
            .selected_text(chosen.as_deref().unwrap_or("goroutines"))
            .truncate()
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut chosen, None, "goroutines");
                for p in &profiles {
                    ui.selectable_value(&mut chosen, Some(p.clone()), p);
                }
            })
            .response
            .on_hover_text(
                "Count profiles the service registers (pprof.NewProfile) rank like goroutines",
            );
    });
    (chosen != current).then_some(Action::SetCountProfile(chosen))
}

/// Why a folder `leakscope watch` wrote exists: the triggers that fired,
/// above the suspects they point at.
fn incident_ui(ui: &mut Ui, ws: &Workspace) {
    let Some(incident) = &ws.incident else {
        return;
    };
    egui::Frame::group(ui.style()).show(ui, |ui| {
        ui.set_width(ui.available_width());
        ui.label(
            egui::RichText::new(format!("Incident · watch fired {}", incident.fired_at))
                .strong()
                .color(ui.visuals().warn_fg_color),
        );
        for f in &incident.triggers {
            ui.add(egui::Label::new(f.summary()).wrap())
                .on_hover_text(&f.message);
        }
    });
    ui.add_space(4.0);
}

/// A suspect's name, red and strong while it grows.
fn suspect_name(name: &str, growing: bool) -> egui::RichText {
    if growing {
        egui::RichText::new(name).strong().color(theme::BLOCKING)
    } else {
        egui::RichText::new(name)
    }
}

/// One suspect: rank and leak site (a click selects, or unselects), its
/// counts across snapshots, and what it waits on and who created it.
fn suspect_row_ui(
    ui: &mut Ui,
    ws: &Workspace,
    rank: usize,
    selection: Selection,
    names: Names,
) -> Option<Action> {
    let (a, t) = (&ws.analysis, &ws.session.stacks);
    let s = &a.suspects[rank];
    let g = a.group(s);
    let selected = selection.group() == Some(s.group);
    let full = s.leak_site.map_or("<no frames>", |f| t.function(f));
    let name = names.function(full);
    let mut action = None;
    let resp = ui.horizontal(|ui| {
        ui.label(egui::RichText::new(format!("{}", rank + 1)).weak());
        ui.add(egui::Button::selectable(selected, suspect_name(&name, s.growth.growing)).truncate())
            .on_hover_text(full)
    });
    resp.inner.context_menu(|ui| {
        if ui
            .button("Export this group's flame graph (SVG)…")
            .clicked()
        {
            action = Some(Action::Export(ExportRequest::Group(s.group)));
            ui.close();
        }
    });
    if resp.inner.clicked() {
        action = Some(Action::Select(if selected {
            Selection::None
        } else {
            Selection::Group(s.group)
        }));
    }
    ui.horizontal(|ui| {
        sparkline(ui, &g.counts, s.growth.growing);
        if s.growth.growing {
            ui.colored_label(theme::BLOCKING, wording::growth_rate(&s.growth));
        }
        // Long series (a watcher's window) are cut, the newest counts last.
        let counts: Vec<String> = g.counts.iter().map(u64::to_string).collect();
        ui.add(egui::Label::new(egui::RichText::new(counts.join("→")).monospace()).truncate())
            .on_hover_text(format!("goroutines per snapshot: {}", counts.join(", ")));
    });
    let mut facts = Vec::new();
    if let Some(r) = wording::wait_reasons(t, &g.wait_reasons) {
        facts.push(r);
    }
    if let Some(c) = g.created_by().and_then(|c| t.leaf(c)) {
        facts.push(format!("by {}", names.function(t.function(c))));
    }
    if let Some(fleet) = &ws.fleet
        && let Some(fg) = fleet.of(ws, g)
    {
        // Across the fleet first: everywhere, or only here.
        facts.insert(0, fg.spread_text(fleet.ranking.instances.len()));
    }
    ui.add(egui::Label::new(egui::RichText::new(facts.join(" · ")).weak().small()).truncate());
    action
}

/// The instance on screen, when the inputs are a fleet's folders; choosing
/// another shows its findings (the ranking across all stays).
fn instance_ui(ui: &mut Ui, ws: &Workspace) -> Option<Action> {
    let fleet = ws.fleet.as_ref()?;
    let mut chosen = fleet.current.clone();
    ui.horizontal(|ui| {
        egui::ComboBox::from_label(format!("of {} instances", fleet.ranking.instances.len()))
            .selected_text(chosen.as_str())
            .truncate()
            .show_ui(ui, |ui| {
                for name in &fleet.ranking.instances {
                    ui.selectable_value(&mut chosen, name.clone(), name);
                }
            });
    });
    (chosen != fleet.current).then_some(Action::SetInstance(chosen))
}

/// Goroutines the trace saw created in its window and still alive at its end.
fn trace_suspects_ui(
    ui: &mut Ui,
    ws: &Workspace,
    t: &TraceWorkspace,
    selection: Selection,
    alone: bool,
    names: Names,
) -> Option<Action> {
    let ta = &t.analysis;
    let stuck = ta.suspects.iter().filter(|s| s.growing).count();
    ui.horizontal(|ui| {
        if alone {
            ui.heading("Leak suspects");
        } else {
            ui.strong("From the trace");
        }
        ui.weak(format!("{stuck} stuck"));
    });
    ui.weak(format!(
        "created in the {} window, still alive at its end",
        format_duration_ns(ta.summary_window_ns())
    ));
    let mut action = None;
    egui::ScrollArea::vertical()
        .id_salt("trace-suspects")
        .auto_shrink([false, false])
        .show_rows(ui, 40.0, ta.suspects.len(), |ui, range| {
            for rank in range {
                ui.push_id(("trace", rank), |ui| {
                    if let Some(a) = trace_suspect_row_ui(ui, ws, t, rank, selection, names) {
                        action = Some(a);
                    }
                });
            }
        });
    action
}

/// One of the trace's suspects: its site and goroutine count (a click
/// selects, or unselects), what it waits on and who created it.
fn trace_suspect_row_ui(
    ui: &mut Ui,
    ws: &Workspace,
    t: &TraceWorkspace,
    rank: usize,
    selection: Selection,
    names: Names,
) -> Option<Action> {
    let table = &ws.session.stacks;
    let s = &t.analysis.suspects[rank];
    let l = &t.analysis.leaks[s.leak];
    let selected = selection == Selection::TraceGroup(s.leak);
    let full = s
        .leak_site
        .map_or(l.entry_function.as_str(), |f| table.function(f));
    let resp = ui
        .horizontal(|ui| {
            ui.monospace(format!("{}", l.goroutines.len()));
            ui.add(
                egui::Button::selectable(selected, suspect_name(&names.function(full), s.growing))
                    .truncate(),
            )
            .on_hover_text(full)
        })
        .inner;
    let by = l
        .creation_site
        .map(|f| format!(" · by {}", names.function(table.function(f))))
        .unwrap_or_default();
    let facts = egui::RichText::new(format!("{}{by}", l.reason.text(table)));
    ui.add(egui::Label::new(facts.weak().small()).truncate());
    resp.clicked().then_some(Action::Select(if selected {
        Selection::None
    } else {
        Selection::TraceGroup(s.leak)
    }))
}

/// A tiny line chart of a count series.
fn sparkline(ui: &mut Ui, counts: &[u64], growing: bool) {
    let (rect, _) = ui.allocate_exact_size(Vec2::new(60.0, 16.0), Sense::hover());
    let max = counts.iter().copied().max().unwrap_or(0).max(1) as f32;
    let n = counts.len();
    if n < 2 {
        return;
    }
    let pts: Vec<Pos2> = counts
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            Pos2::new(
                rect.left() + i as f32 / (n - 1) as f32 * rect.width(),
                rect.bottom() - c as f32 / max * rect.height(),
            )
        })
        .collect();
    let color = if growing {
        theme::BLOCKING
    } else {
        ui.visuals().weak_text_color()
    };
    ui.painter()
        .add(egui::Shape::line(pts, Stroke::new(1.5, color)));
}

/// Goroutines over time: the total and the selected group, across snapshots.
pub fn plot_ui(ui: &mut Ui, ws: &Workspace, selection: Selection, names: Names) {
    let a = &ws.analysis;
    if a.series.is_empty() {
        ui.weak("No goroutine snapshots to plot.");
        return;
    }
    let t0 = a.series[0].captured_at_ns;
    let wall = a.series.iter().all(|p| p.captured_at_ns.is_some());
    let xs: Vec<f64> = a
        .series
        .iter()
        .enumerate()
        .map(|(i, p)| match (wall, p.captured_at_ns, t0) {
            (true, Some(t), Some(t0)) => (t - t0) as f64 / 60e9,
            _ => i as f64,
        })
        .collect();
    let total: PlotPoints = xs
        .iter()
        .zip(&a.series)
        .map(|(&x, p)| [x, p.total as f64])
        .collect();
    let selected = selection.group().and_then(|g| a.groups.get(g));
    let selected_pts: Option<PlotPoints> = selected.map(|g| {
        xs.iter()
            .zip(&g.counts)
            .map(|(&x, &c)| [x, c as f64])
            .collect()
    });
    let name = selection
        .group()
        .and_then(|g| a.suspects.iter().find(|s| s.group == g))
        .and_then(|s| s.leak_site)
        .map_or(String::new(), |f| {
            names.frame_function(&ws.session.stacks, f)
        });
    // The history from Prometheus, in the plot's minutes since t0.
    let history: Option<(String, PlotPoints<'static>)> = match (&ws.history, t0) {
        (Some(Ok((title, pts))), Some(t0)) if wall => Some((
            title.clone(),
            pts.iter()
                .map(|&(t, v)| [(t * 1e9 - t0 as f64) / 60e9, v])
                .collect(),
        )),
        (Some(Err(e)), _) => {
            ui.add(egui::Label::new(egui::RichText::new(e).weak().small()).truncate());
            None
        }
        _ => None,
    };
    Plot::new("goroutines-over-time")
        .legend(Legend::default())
        .x_axis_label(if wall {
            "minutes since first snapshot"
        } else {
            "snapshot"
        })
        .y_axis_label("goroutines")
        .include_y(0.0)
        .allow_scroll(false)
        .show(ui, |p| {
            if let Some((title, pts)) = history {
                p.line(Line::new(title, pts).color(theme::HISTORY).width(6.0));
            }
            total_and_selection(p, total, selected_pts, name);
        });
}

/// The grey total and, where something is selected, its red series.
fn total_and_selection(
    p: &mut egui_plot::PlotUi<'_>,
    total: PlotPoints<'static>,
    selected: Option<PlotPoints<'static>>,
    name: String,
) {
    p.line(
        Line::new("all goroutines", total)
            .color(Color32::GRAY)
            .width(2.0),
    );
    if let Some(pts) = selected {
        p.line(Line::new(name, pts).color(theme::BLOCKING).width(2.5));
    }
}

/// Goroutines over the trace window: all of them and the selection.
pub fn trace_plot_ui(
    ui: &mut Ui,
    ws: &Workspace,
    t: &TraceWorkspace,
    selection: Selection,
    selected: &[u32],
    names: Names,
) {
    let w0 = t.lanes.trace().window.start_ns;
    let to_points = |series: &[(i64, u64)]| -> PlotPoints {
        series
            .iter()
            .map(|&(at, n)| [(at - w0) as f64 / 1e9, n as f64])
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
    Plot::new("goroutines-over-trace")
        .legend(Legend::default())
        .x_axis_label("seconds into the trace")
        .y_axis_label("goroutines alive")
        .include_y(0.0)
        .allow_scroll(false)
        .show(ui, |p| total_and_selection(p, total, sel, name));
}

/// One row of the events list.
struct EventRow {
    lane: u32,
    goroutine: Option<u64>,
    event: LaneEvent,
}

/// Rows listed at most, so a huge selection stays quick to draw.
const MAX_EVENT_ROWS: usize = 20_000;

/// The selected goroutines' creation events and blocking points; a click
/// jumps there on the timeline.
pub fn events_ui(
    ui: &mut Ui,
    lanes: &dyn LaneSource,
    t: &StackTable,
    selection: Selection,
    ids: &[u32],
    names: Names,
) -> Option<Action> {
    if selection == Selection::None {
        ui.weak("Select a suspect, a flame graph frame or a lane to list its creation events and blocking points.");
        return None;
    }
    let rows = event_rows(lanes, ids);
    let created = rows
        .iter()
        .filter(|r| r.event.kind == EventKind::Created)
        .count();
    let blocked = rows.len() - created;
    ui.horizontal(|ui| {
        ui.strong("Creation events and blocking points");
        ui.colored_label(theme::CREATION, format!("{created} created"));
        ui.colored_label(theme::BLOCKING, format!("{blocked} blocked"));
        if ids.len() > MAX_EVENT_LANES {
            ui.weak(format!(
                "(first {MAX_EVENT_LANES} of {} goroutines)",
                ids.len()
            ));
        }
    });
    let mut action = None;
    egui::ScrollArea::vertical()
        .id_salt("events")
        .auto_shrink([false, false])
        .show_rows(ui, 18.0, rows.len(), |ui, range| {
            for r in &rows[range] {
                if ui
                    .add(
                        egui::Label::new(event_row_text(t, r, names))
                            .truncate()
                            .sense(Sense::click()),
                    )
                    .on_hover_text("show on the timeline")
                    .clicked()
                {
                    action = Some(Action::JumpTo {
                        lane: r.lane,
                        time_ns: r.event.time_ns,
                    });
                }
            }
        });
    action
}

/// Goroutines whose events are listed at most.
const MAX_EVENT_LANES: usize = 5_000;

/// The creations and blocking points of the first goroutines of `ids`.
fn event_rows(lanes: &dyn LaneSource, ids: &[u32]) -> Vec<EventRow> {
    let mut rows: Vec<EventRow> = Vec::new();
    for &lane in ids.iter().take(MAX_EVENT_LANES) {
        if rows.len() >= MAX_EVENT_ROWS {
            break;
        }
        let info = lanes.lane(lane as usize);
        for e in lanes.events(lane as usize, i64::MIN, i64::MAX) {
            if matches!(e.kind, EventKind::Created | EventKind::Blocked) {
                rows.push(EventRow {
                    lane,
                    goroutine: info.goroutine,
                    event: e,
                });
            }
        }
    }
    rows
}

/// `created: goroutine G by SITE in goroutine C`, or
/// `blocked: goroutine G on REASON for D at SITE`.
fn event_row_text(t: &StackTable, r: &EventRow, names: Names) -> egui::RichText {
    let e = &r.event;
    let g = r
        .goroutine
        .map_or("goroutine".to_owned(), |g| format!("goroutine {g}"));
    // A blocking point is named by its leak site, a creation by the creating frame.
    let frame = match e.kind {
        EventKind::Blocked => e
            .stack
            .and_then(|s| crate::analysis::frames::leak_site(t, s)),
        _ => e.stack.and_then(|s| t.leaf(s)),
    };
    let site = frame.map(|f| names.frame(t, f)).unwrap_or_default();
    if e.kind == EventKind::Created {
        let by = e
            .other_goroutine
            .map(|c| format!(" in goroutine {c}"))
            .unwrap_or_default();
        egui::RichText::new(format!("created: {g} by {site}{by}")).color(theme::CREATION)
    } else {
        let how_long = e
            .duration_ns
            .map(|d| format!(" for {}", format_duration_ns(d)))
            .unwrap_or_default();
        egui::RichText::new(format!(
            "blocked: {g} on {}{how_long} at {site}",
            t.str(e.reason)
        ))
        .color(theme::BLOCKING)
    }
}
