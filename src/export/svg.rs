//! Flame graph SVGs through inferno, from a [`FlameTree`].
//!
//! The tree's folded lines ([`super::folded::folded_lines`]) are handed to
//! inferno in the tree's own order. inferno merges consecutive lines that
//! share a prefix; in its default mode it also insists on byte-sorted
//! lines, and byte order of whole lines is not the tree's name order
//! (`main.f;x` sorts after `main.f.func1`). Its flame chart mode takes the
//! lines as given (reversed, so they go in reversed), which keeps the
//! boxes where the app draws them and skips a sort of 100,000 lines.
//!
//! Colours are the tree's own ([`FlameTree::styles`], what the app draws),
//! given to inferno as a palette map; every frame also gets a class naming its kind
//! of code (`app`, `stdlib`, `third-party`, `runtime`) and `match` when it
//! matches the search, through inferno's per-function frame attributes, so
//! readers and tests can tell them apart without decoding colours.
//!
//! A differential tree is drawn with inferno's differential colours: the
//! innermost frame of each stack is red where the stack grew, blue where it
//! shrank, near-white where it kept its count.

use std::io::{self, Write};

use inferno::flamegraph::{self, Direction, FuncFrameAttrsMap, Options, Palette};
use regex::Regex;
use rustc_hash::FxHashMap;

use super::ExportError;
use super::Titles;
use super::folded::{NO_STACK, folded_lines, frame_name};
use crate::analysis::flame::{FlameTree, NodeId};
use crate::analysis::frames::FrameClass;
use crate::analysis::palette::{self, Rgb};
use crate::model::{StackTable, StrId};

/// Frames narrower than this percentage of the graph are left out by
/// default: about one pixel at the default 1200 px width.
pub const DEFAULT_MIN_WIDTH_PCT: f64 = 0.1;

/// Fill of frames that match the search (inferno's search colour).
pub const SEARCH_COLOR: Rgb = [0xe6, 0x00, 0xe6];

/// Which way stacks grow.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub enum Orientation {
    /// Outermost frames at the bottom, as flame graphs are usually drawn.
    #[default]
    Flame,
    /// Outermost frames at the top (icicle graph), as goroutine dumps read.
    Icicle,
}

/// How a flame graph SVG looks.
#[derive(Clone, Debug)]
pub struct SvgOptions {
    /// The heading inside the SVG, so the file says what it shows when opened
    /// alone.
    pub title: String,
    /// A second, smaller line under the title, where there is one.
    pub subtitle: Option<String>,
    /// What the weights count, shown in every hover title.
    pub count_name: String,
    /// Flame (roots at the bottom) or icicle (roots at the top).
    pub orientation: Orientation,
    /// Frames narrower than this percentage of the width are not drawn
    /// (their weight still counts). Big graphs open quickly with ~0.1.
    pub min_width_pct: f64,
    /// Frames whose function matches are filled with [`SEARCH_COLOR`], as
    /// the app highlights its search. Differential graphs keep their
    /// growth colours and only mark matches with the `match` class.
    pub search: Option<Regex>,
    /// Draw only this node's subtree (with its ancestors), as the app shows
    /// a zoomed frame.
    pub zoom: Option<NodeId>,
    /// Fixed width in pixels; `None` fills the browser window.
    pub image_width: Option<usize>,
    /// Embed inferno's script (zoom, search, details on hover). Off for
    /// graphs embedded in a report and for golden files.
    pub interactive: bool,
    /// Indent the XML, for readable golden-file diffs.
    pub pretty_xml: bool,
}

impl SvgOptions {
    /// Interactive, flame orientation, default pruning.
    pub fn new(titles: Titles) -> SvgOptions {
        SvgOptions {
            title: titles.title,
            subtitle: titles.subtitle,
            count_name: titles.count_name,
            orientation: Orientation::Flame,
            min_width_pct: DEFAULT_MIN_WIDTH_PCT,
            search: None,
            zoom: None,
            image_width: None,
            interactive: true,
            pretty_xml: false,
        }
    }
}

fn color([r, g, b]: Rgb) -> flamegraph::color::Color {
    flamegraph::color::Color { r, g, b }
}

/// The CSS class of a kind of code.
fn class_name(class: FrameClass) -> &'static str {
    match class {
        FrameClass::App => "app",
        FrameClass::ThirdParty => "third-party",
        FrameClass::Stdlib => "stdlib",
        FrameClass::WaitWrapper | FrameClass::Runtime => "runtime",
    }
}

/// Per-function colours and classes of the functions a tree draws.
struct FrameStyles {
    palette: flamegraph::color::PaletteMap,
    attrs: FuncFrameAttrsMap,
}

fn frame_styles(
    tree: &FlameTree,
    table: &StackTable,
    search: Option<&Regex>,
) -> Result<FrameStyles, ExportError> {
    // The tree's own styles, one per function: what the app draws.
    let mut functions: FxHashMap<StrId, (FrameClass, Rgb)> = FxHashMap::default();
    for (n, style) in tree.nodes.iter().zip(&tree.styles).skip(1) {
        functions.entry(n.function).or_insert(*style);
    }
    let mut names: Vec<(&str, (FrameClass, Rgb))> = functions
        .iter()
        .map(|(&f, &style)| (table.str(f), style))
        .collect();
    names.sort_unstable_by(|a, b| a.0.cmp(b.0));
    let mut palette = flamegraph::color::PaletteMap::default();
    let mut attrs_text = String::with_capacity(names.len() * 48);
    for (name, (class, rgb)) in names {
        let matched = search.is_some_and(|re| re.is_match(name));
        let rgb = if matched { SEARCH_COLOR } else { rgb };
        let label = frame_name(name);
        palette.insert(&*label, color(rgb));
        // The attribute file format is tab- and newline-separated.
        if !label.contains('\t') {
            attrs_text.push_str(&label);
            attrs_text.push_str("\tclass=");
            attrs_text.push_str(class_name(class));
            if matched {
                attrs_text.push_str(" match");
            }
            attrs_text.push('\n');
        }
    }
    palette.insert(NO_STACK, color(palette::NO_STACK));
    let attrs =
        FuncFrameAttrsMap::from_reader(attrs_text.as_bytes()).map_err(ExportError::Render)?;
    Ok(FrameStyles { palette, attrs })
}

/// Writes a tree as a flame graph SVG.
pub fn write_svg(
    tree: &FlameTree,
    table: &StackTable,
    opts: &SvgOptions,
    out: impl Write,
) -> Result<(), ExportError> {
    // inferno adds the counts up in 64 bits; a total past 2^63 (only a
    // forged or corrupt profile has one: our own sums saturate) would
    // overflow there.
    // Its differential colours multiply by 150, so differential totals
    // must stay well below that.
    let cap = if tree.differential {
        i64::MAX as u64 / 256
    } else {
        i64::MAX as u64
    };
    let root = tree.nodes.first();
    if root.is_some_and(|r| r.total.max(r.base_total) > cap) {
        return Err(ExportError::Overflow(
            "the counts add up past 2^63 (2^55 for a differential), more than a flame graph can \
             draw; the profile's values are not plausible"
                .to_owned(),
        ));
    }
    let lines = folded_lines(tree, table, opts.zoom, opts.min_width_pct);
    let drawn = lines.iter().any(|l| {
        l.rsplit(' ')
            .next()
            .is_some_and(|n| n.parse::<u64>().is_ok_and(|n| n > 0))
    });
    if !drawn {
        return Err(ExportError::Empty(
            "no stack has a positive weight in this selection".to_owned(),
        ));
    }
    let mut styles = frame_styles(tree, table, opts.search.as_ref())?;
    let mut o = Options::default();
    o.title.clone_from(&opts.title);
    o.subtitle.clone_from(&opts.subtitle);
    o.count_name.clone_from(&opts.count_name);
    o.direction = match opts.orientation {
        Orientation::Flame => Direction::Straight,
        Orientation::Icicle => Direction::Inverted,
    };
    // Pruned subtrees arrive as one line ending at their root; inferno
    // leaves out those roots (and zero-width frames of a differential).
    o.min_width = opts.min_width_pct.max(f64::MIN_POSITIVE);
    o.image_width = opts.image_width;
    o.no_javascript = !opts.interactive;
    o.pretty_xml = opts.pretty_xml;
    o.flame_chart = true;
    o.deterministic = true;
    o.colors = Palette::default();
    o.palette_map = Some(&mut styles.palette);
    o.func_frameattrs = std::mem::take(&mut styles.attrs);
    o.name_type = "Function:".to_owned();
    o.notes = "leakscope".to_owned();
    flamegraph::from_lines(&mut o, lines.iter().rev(), out).map_err(ExportError::Render)
}

/// A tree as a flame graph SVG document.
pub fn svg_string(
    tree: &FlameTree,
    table: &StackTable,
    opts: &SvgOptions,
) -> Result<String, ExportError> {
    let mut buf = Vec::with_capacity(tree.nodes.len() * 300 + 16 * 1024);
    write_svg(tree, table, opts, &mut buf)?;
    String::from_utf8(buf)
        .map_err(|e| ExportError::Render(io::Error::new(io::ErrorKind::InvalidData, e)))
}
