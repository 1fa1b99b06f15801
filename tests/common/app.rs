//! The desktop app driven headless (egui_kittest), shared by the app's test
//! files: a session of fixtures, a harness at a window size, and what a
//! frame shows (widget texts, painted texts).
#![cfg(feature = "gui")]

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use leakscope::pipeline::InputSpec;
use leakscope::ui::LeakscopeApp;
use leakscope::ui::state::ViewState;

use super::fixture;

pub fn app_with(names: &[&str]) -> LeakscopeApp {
    let mut app = LeakscopeApp::new(ViewState::default());
    app.open_blocking(names.iter().map(|n| InputSpec::Path(fixture(n))).collect());
    app
}

pub fn harness(app: LeakscopeApp) -> Harness<'static, LeakscopeApp> {
    harness_at(app, [1440.0, 900.0])
}

pub fn harness_at(app: LeakscopeApp, size: [f32; 2]) -> Harness<'static, LeakscopeApp> {
    Harness::builder()
        .with_size(size)
        .build_ui_state(|ui, app: &mut LeakscopeApp| app.ui(ui), app)
}

/// The text of every widget whose text contains `part`.
pub fn texts_containing(h: &Harness<'static, LeakscopeApp>, part: &str) -> Vec<String> {
    use egui_kittest::kittest::NodeT as _;
    h.query_all_by_label_contains(part)
        .map(|n| {
            let node = n.accesskit_node();
            node.label().or_else(|| node.value()).unwrap_or_default()
        })
        .collect()
}

/// Every piece of text a frame painted (labels, lane names, flame boxes).
pub fn painted_texts(out: &egui::FullOutput) -> Vec<String> {
    fn walk(s: &egui::Shape, out: &mut Vec<String>) {
        match s {
            egui::Shape::Vec(v) => v.iter().for_each(|x| walk(x, out)),
            egui::Shape::Text(t) => out.push(t.galley.job.text.clone()),
            _ => {}
        }
    }
    let mut texts = Vec::new();
    for c in &out.shapes {
        walk(&c.shape, &mut texts);
    }
    texts
}

/// The labels a node shows (its label, else its value).
pub fn node_text(n: &egui_kittest::Node<'_>) -> String {
    use egui_kittest::kittest::NodeT as _;
    let node = n.accesskit_node();
    node.label().or_else(|| node.value()).unwrap_or_default()
}

/// The group whose leak site is `function`.
pub fn group_of(ws: &leakscope::ui::workspace::Workspace, function: &str) -> usize {
    ws.analysis
        .suspects
        .iter()
        .find(|s| {
            s.leak_site
                .is_some_and(|f| ws.session.stacks.function(f) == function)
        })
        .unwrap()
        .group
}
