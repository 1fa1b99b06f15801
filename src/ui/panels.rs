//! The panels around the two main views: leak suspects, and the selected
//! group's creation events and blocking points (the goroutine plot is
//! `plot`, the selection's details `details`).

use egui::{Pos2, Sense, Stroke, Ui, Vec2};

use crate::analysis::lanes::LaneSource;
use crate::analysis::lanes::{EventKind, LaneEvent};
use crate::analysis::{Evidence, Group, Suspect, wording};
use crate::model::LabelSetId;
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
        if s.evidence == Evidence::Proven {
            crate::ui::details::proven_badge(ui, g.proven());
        }
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
    let facts = row_facts(ws, s, g, names);
    ui.add(egui::Label::new(egui::RichText::new(facts).weak().small()).truncate());
    action
}

/// A row's one line of story: what they wait on and where, their labels
/// (two groups of one function apart only by labels must not read the
/// same), and who created them: `chan send at leakyd/main.go:215 ·
/// endpoint=search · by main.(*app).handleSearch.func1`.
fn row_facts(ws: &Workspace, s: &Suspect, g: &Group, names: Names) -> String {
    let t = &ws.session.stacks;
    let mut facts = Vec::new();
    let reason = wording::wait_reasons(t, &g.wait_reasons);
    let at = s.leak_site.map(|f| names.location(t, f));
    match (reason, at) {
        (Some(r), Some(at)) => facts.push(format!("{r} at {at}")),
        (Some(x), None) | (None, Some(x)) => facts.push(x),
        (None, None) => {}
    }
    let mut labels: Vec<(&LabelSetId, &u64)> = g.label_sets.iter().collect();
    labels.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    if let Some(&(&l, _)) = labels.first() {
        let text = t.labels_to_string(l);
        if !text.is_empty() {
            let more = labels.len() - 1;
            facts.push(if more > 0 {
                format!("{text} +{more} more")
            } else {
                text
            });
        }
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
    facts.join(" · ")
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
    let n = counts.len();
    if n < 2 {
        return;
    }
    let (rect, _) = ui.allocate_exact_size(Vec2::new(60.0, 16.0), Sense::hover());
    let max = counts.iter().copied().max().unwrap_or(0).max(1) as f32;
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

/// One row of the events list.
struct EventRow {
    lane: u32,
    goroutine: Option<u64>,
    event: LaneEvent,
}

/// Rows listed at most, so a huge selection stays quick to draw.
const MAX_EVENT_ROWS: usize = 20_000;

/// The selected goroutines' creation events and blocking points; a click
/// jumps there on the timeline. "as tree" shows every creation of the
/// lanes (`lanes_key` names them) as a tree instead.
pub fn events_ui(
    ui: &mut Ui,
    lanes: &dyn LaneSource,
    t: &StackTable,
    (selection, lanes_key): (Selection, usize),
    ids: &[u32],
    names: Names,
) -> Option<Action> {
    let rows = if selection == Selection::None {
        Vec::new()
    } else {
        event_rows(lanes, ids)
    };
    let created = rows
        .iter()
        .filter(|r| r.event.kind == EventKind::Created)
        .count();
    let blocked = rows.len() - created;
    let as_tree = ui
        .horizontal(|ui| {
            ui.strong("Creation events and blocking points");
            let as_tree = crate::ui::creation_tree::as_tree_toggle(ui);
            if selection != Selection::None && !as_tree {
                ui.colored_label(theme::CREATION, format!("{created} created"));
                ui.colored_label(theme::BLOCKING, format!("{blocked} blocked"));
                if ids.len() > MAX_EVENT_LANES {
                    ui.weak(format!(
                        "(first {MAX_EVENT_LANES} of {} goroutines)",
                        ids.len()
                    ));
                }
            }
            as_tree
        })
        .inner;
    if as_tree {
        return crate::ui::creation_tree::creation_tree_ui(
            ui, lanes, t, lanes_key, selection, names,
        );
    }
    if selection == Selection::None {
        ui.weak("Select a suspect, a flame graph frame or a lane to list its creation events and blocking points.");
        return None;
    }
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
        egui::RichText::new(format!(
            "blocked: {g} {} at {site}",
            wording::blocked_on(t, e.reason, e.duration_ns)
        ))
        .color(theme::BLOCKING)
    }
}
