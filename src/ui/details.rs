//! What the selection is, told in full: where its goroutines wait
//! (file:line), who created them, their labels, the evidence that they leak
//! (a runtime proof is marked PROVEN) and, folded, the whole stack with
//! full names and paths.
//!
//! A suspect row has room for a name and a count; reading a leak's story
//! means knowing where it waits and who made it, and two groups of one
//! function told apart only by their labels must not look the same.

use egui::{Color32, RichText, Ui};

use crate::analysis::{Evidence, Suspect, wording};
use crate::model::{FrameId, StackId, StackTable};
use crate::ui::names::Names;
use crate::ui::state::Selection;
use crate::ui::theme;
use crate::ui::workspace::{TraceWorkspace, Workspace};

/// Label sets listed at most in the details.
const MAX_LABEL_SETS: usize = 4;

/// The mark of a group the runtime proved leaked, as rows and details show it.
pub fn proven_badge(ui: &mut Ui, proven: u64) -> egui::Response {
    let text = RichText::new("PROVEN")
        .small()
        .strong()
        .color(Color32::WHITE);
    let badge = egui::Frame::new()
        .fill(theme::BLOCKING)
        .corner_radius(3.0)
        .inner_margin(egui::Margin::symmetric(4, 1))
        .show(ui, |ui| ui.label(text))
        .inner;
    badge.on_hover_text(format!(
        "the runtime proved {proven} goroutine(s) of this group leaked: \
         blocked on something no running goroutine can reach \
         (its goroutineleak profile, or (leaked) in a dump)"
    ))
}

/// The selected suspect or trace group, in full. Nothing when nothing is selected.
pub fn details_ui(ui: &mut Ui, ws: &Workspace, selection: Selection, names: Names) {
    match selection {
        Selection::None => {}
        Selection::Group(g) => {
            if let Some(s) = ws.analysis.suspects.iter().find(|s| s.group == g) {
                group_details_ui(ui, ws, s, names);
            }
        }
        Selection::TraceGroup(i) => {
            if let Some(t) = &ws.trace {
                trace_details_ui(ui, ws, t, i, names);
            }
        }
    }
}

fn group_details_ui(ui: &mut Ui, ws: &Workspace, s: &Suspect, names: Names) {
    let (a, t) = (&ws.analysis, &ws.session.stacks);
    let g = a.group(s);
    ui.horizontal(|ui| {
        let name = s.leak_site.map_or("<no frames>", |f| t.function(f));
        ui.strong(names.function(name)).on_hover_text(name);
        if s.evidence == Evidence::Proven {
            proven_badge(ui, g.proven());
        }
    });
    egui::Grid::new("selection-facts")
        .num_columns(2)
        .spacing([8.0, 2.0])
        .show(ui, |ui| {
            let reason = wording::wait_reasons(t, &g.wait_reasons);
            fact_row(ui, "waits at", waits_at(t, s.leak_site, reason, names));
            if let Some(c) = g.created_by() {
                fact_row(ui, "created by", creator(t, c, names));
            }
            let labels = label_lines(t, g.label_sets.iter().map(|(&l, &n)| (l, n)));
            if !labels.is_empty() {
                fact_row(ui, "labels", (labels.join(" · "), None));
            }
            fact_row(ui, "evidence", (evidence(a, s), None));
        });
    stack_ui(ui, t, g.stack, "selection-stack");
}

/// `file:line (reason)`, the full path on hover.
fn waits_at(
    t: &StackTable,
    site: Option<FrameId>,
    reason: Option<String>,
    names: Names,
) -> (String, Option<String>) {
    let reason = reason.map(|r| format!(" ({r})")).unwrap_or_default();
    match site {
        Some(f) => (
            format!("{}{reason}", names.location(t, f)),
            Some(Names::FULL.frame(t, f)),
        ),
        None => (format!("no frames{reason}"), None),
    }
}

/// The creating `go` statement's function and place.
fn creator(t: &StackTable, stack: StackId, names: Names) -> (String, Option<String>) {
    match t.leaf(stack) {
        Some(f) => (names.frame(t, f), Some(Names::FULL.frame(t, f))),
        None => ("unknown".to_owned(), None),
    }
}

/// `k=v, k=v ×N`, most goroutines first.
fn label_lines(
    t: &StackTable,
    sets: impl Iterator<Item = (crate::model::LabelSetId, u64)>,
) -> Vec<String> {
    let mut sets: Vec<(String, u64)> = sets
        .map(|(l, n)| (t.labels_to_string(l), n))
        .filter(|(l, _)| !l.is_empty())
        .collect();
    sets.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let more = sets.len().saturating_sub(MAX_LABEL_SETS);
    let mut out: Vec<String> = sets
        .into_iter()
        .take(MAX_LABEL_SETS)
        .map(|(l, n)| format!("{l} ×{n}"))
        .collect();
    if more > 0 {
        out.push(format!("{more} more"));
    }
    out
}

/// The evidence, its strength first, with the figures behind it.
fn evidence(a: &crate::analysis::Analysis, s: &Suspect) -> String {
    let g = a.group(s);
    let mut text = s.evidence.label().to_owned();
    if g.proven() > 0 {
        text.push_str(&format!(" · {} proven", g.proven()));
    }
    if g.counts.len() >= 2 {
        // Not `wording::counts`: its arrow is not in the proportional font.
        let counts: Vec<String> = g.counts.iter().map(u64::to_string).collect();
        text.push_str(&format!(" · per snapshot {}", counts.join(", ")));
        if s.growth.growing {
            text.push_str(&format!(" ({})", wording::growth_rate(&s.growth)));
        }
    } else {
        text.push_str(&format!(
            " · {}",
            crate::analysis::wording::count_of(g.last_count(), "goroutine")
        ));
    }
    if let Some(w) = s.wait_ages.filter(|w| w.max > 0) {
        text.push_str(&format!(
            " · waiting {}–{} min (median {})",
            w.min, w.max, w.median
        ));
    }
    text
}

fn fact_row(ui: &mut Ui, key: &str, (value, hover): (String, Option<String>)) {
    ui.weak(key);
    let label = ui.add(egui::Label::new(value).truncate());
    if let Some(h) = hover {
        label.on_hover_text(h);
    }
    ui.end_row();
}

/// The stack, folded: every frame with its full name and path.
fn stack_ui(ui: &mut Ui, t: &StackTable, stack: StackId, id: &str) {
    let frames: Vec<FrameId> = t.frames(stack).collect();
    let count = match frames.len() {
        1 => "1 frame".to_owned(),
        n => format!("{n} frames"),
    };
    egui::CollapsingHeader::new(format!("Stack: {count}"))
        .id_salt(id)
        .show(ui, |ui| {
            egui::ScrollArea::vertical()
                .id_salt((id, "scroll"))
                .max_height(160.0)
                .show(ui, |ui| {
                    for f in frames {
                        let fr = t.frame(f);
                        ui.add(
                            egui::Label::new(RichText::new(t.str(fr.function)).monospace())
                                .truncate(),
                        );
                        ui.add(
                            egui::Label::new(
                                RichText::new(format!("    {}:{}", t.str(fr.file), fr.line))
                                    .weak()
                                    .small(),
                            )
                            .truncate(),
                        );
                    }
                });
        });
}

fn trace_details_ui(ui: &mut Ui, ws: &Workspace, tw: &TraceWorkspace, leak: usize, names: Names) {
    let t = &ws.session.stacks;
    let Some(l) = tw.analysis.leaks.get(leak) else {
        return;
    };
    let suspect = tw.analysis.suspects.iter().find(|s| s.leak == leak);
    let site = suspect.and_then(|s| s.leak_site);
    let name = site.map_or(l.entry_function.as_str(), |f| t.function(f));
    ui.strong(names.function(name)).on_hover_text(name);
    egui::Grid::new("selection-facts")
        .num_columns(2)
        .spacing([8.0, 2.0])
        .show(ui, |ui| {
            let reason = Some(l.reason.text(t).to_owned());
            fact_row(ui, "waits at", waits_at(t, site, reason, names));
            if let Some(f) = l.creation_site {
                fact_row(ui, "created by", (names.frame(t, f), Some(Names::FULL.frame(t, f))));
            }
            let stuck = suspect.map_or(0, |s| s.stuck);
            fact_row(
                ui,
                "evidence",
                (
                    format!(
                        "{} created in the trace window and alive at its end · {stuck} stuck a tenth of it or more",
                        l.goroutines.len()
                    ),
                    None,
                ),
            );
        });
    let stack = if l.blocking_stack.is_empty() {
        l.start_stack
    } else {
        l.blocking_stack
    };
    stack_ui(ui, t, stack, "trace-selection-stack");
}
