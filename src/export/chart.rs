//! The goroutine-count chart as a small standalone SVG: total goroutines
//! per snapshot and the counts of the top growing suspects, for the
//! incident report (where a picture of the climb says more than a table).
//!
//! Hand-written rather than drawn by a plotting crate: it is a few lines
//! and circles, it must be byte-for-byte deterministic for golden files,
//! and its text must be searchable in the report.

use std::fmt::Write as _;

use super::{escape, file_name};
use crate::analysis::{Analysis, SeriesOrder};
use crate::model::Session;

/// One line of the chart.
#[derive(Clone, Debug, PartialEq)]
pub struct ChartLine {
    /// The legend text: `total` or a suspect's leak site.
    pub name: String,
    /// One count per snapshot of the series.
    pub counts: Vec<u64>,
    /// `#rrggbb`.
    pub color: &'static str,
}

/// Distinguishable line colours (Tableau 10), after the total's dark grey.
const COLORS: [&str; 9] = [
    "#e15759", "#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#76b7b2", "#edc948", "#ff9da7",
    "#9c755f",
];

const WIDTH: f64 = 840.0;
const HEIGHT: f64 = 300.0;
const LEFT: f64 = 56.0;
const RIGHT: f64 = 310.0;
const TOP: f64 = 20.0;
const BOTTOM: f64 = 48.0;

/// The lines of a session's chart: the total, then up to `top` growing
/// suspects in rank order.
pub fn goroutine_lines(session: &Session, analysis: &Analysis, top: usize) -> Vec<ChartLine> {
    let mut lines = vec![ChartLine {
        name: "all goroutines".to_owned(),
        counts: analysis.series.iter().map(|p| p.total).collect(),
        color: "#333333",
    }];
    for (s, color) in analysis
        .suspects
        .iter()
        .filter(|s| s.growth.growing)
        .take(top)
        .zip(COLORS.iter().cycle())
    {
        let name = s
            .leak_site
            .map_or("?", |f| session.stacks.function(f))
            .to_owned();
        lines.push(ChartLine {
            name,
            counts: analysis.group(s).counts.clone(),
            color,
        });
    }
    lines
}

/// A "nice" step (1, 2 or 5 times a power of ten) for about `ticks` ticks up to `max`.
fn nice_step(max: u64, ticks: u64) -> u64 {
    let raw = (max / ticks.max(1)).max(1);
    let mut p = 1u64;
    while p.saturating_mul(10) <= raw {
        p *= 10;
    }
    for m in [1, 2, 5, 10] {
        if p.saturating_mul(m) >= raw {
            return p.saturating_mul(m);
        }
    }
    p.saturating_mul(10)
}

/// The chart of a session's goroutine series, or `None` without a series.
pub fn goroutine_chart(session: &Session, analysis: &Analysis, top: usize) -> Option<String> {
    if analysis.series.is_empty() {
        return None;
    }
    let lines = goroutine_lines(session, analysis, top);
    // Capture times place the points where every snapshot has one.
    let times: Option<Vec<i64>> = (analysis.order == SeriesOrder::CaptureTime)
        .then(|| analysis.series.iter().map(|p| p.captured_at_ns).collect())
        .flatten();
    let labels: Vec<(String, String)> = analysis
        .series
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let second = match (
                &times,
                analysis.series.first().and_then(|f| f.captured_at_ns),
            ) {
                (Some(_), Some(t0)) => {
                    let s = (p.captured_at_ns.unwrap_or(t0) - t0) as f64 / 1e9;
                    format!("+{s:.0} s")
                }
                _ => {
                    let path = session
                        .inputs
                        .get(p.input)
                        .map_or("", |i| i.source().path.as_str());
                    let name = file_name(path);
                    name.chars().take(14).collect()
                }
            };
            (format!("t{i}"), second)
        })
        .collect();
    Some(line_chart(
        "Goroutines per snapshot",
        times.as_deref(),
        &labels,
        &lines,
    ))
}

/// A line chart over snapshots: x by capture time when `times` is given,
/// else evenly spaced; `labels` are two lines under each snapshot.
pub fn line_chart(
    title: &str,
    times: Option<&[i64]>,
    labels: &[(String, String)],
    lines: &[ChartLine],
) -> String {
    let n = labels.len().max(1);
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let xs: Vec<f64> = match times {
        Some(t) if t.len() == n && t[n - 1] > t[0] => {
            let span = (t[n - 1] - t[0]) as f64;
            t.iter()
                .map(|&v| LEFT + plot_w * (v - t[0]) as f64 / span)
                .collect()
        }
        _ if n == 1 => vec![LEFT + plot_w / 2.0],
        _ => (0..n)
            .map(|i| LEFT + plot_w * i as f64 / (n - 1) as f64)
            .collect(),
    };
    let max = lines
        .iter()
        .flat_map(|l| l.counts.iter().copied())
        .max()
        .unwrap_or(0)
        .max(1);
    let step = nice_step(max, 5);
    // Forged counts near u64::MAX: the axis saturates instead of wrapping.
    let top = max.div_ceil(step).saturating_mul(step);
    let y = |v: u64| TOP + plot_h * (1.0 - v as f64 / top as f64);

    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{t}">"#,
        t = escape(title)
    );
    let _ = write!(s, "<title>{}</title>", escape(title));
    let _ = write!(
        s,
        r##"<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>"##
    );
    // Horizontal grid with counts.
    let mut v = 0;
    while v <= top {
        let yy = y(v);
        let _ = write!(
            s,
            r##"<line x1="{LEFT}" y1="{yy:.1}" x2="{:.1}" y2="{yy:.1}" stroke="#e4e4e4"/><text x="{:.1}" y="{:.1}" text-anchor="end">{v}</text>"##,
            LEFT + plot_w,
            LEFT - 6.0,
            yy + 4.0
        );
        match v.checked_add(step) {
            Some(next) => v = next,
            None => break,
        }
    }
    // Snapshot ticks.
    for (x, (a, b)) in xs.iter().zip(labels) {
        let _ = write!(
            s,
            r##"<line x1="{x:.1}" y1="{TOP}" x2="{x:.1}" y2="{:.1}" stroke="#f0f0f0"/><text x="{x:.1}" y="{:.1}" text-anchor="middle">{}</text><text x="{x:.1}" y="{:.1}" text-anchor="middle" fill="#666666">{}</text>"##,
            TOP + plot_h,
            TOP + plot_h + 16.0,
            escape(a),
            TOP + plot_h + 32.0,
            escape(b)
        );
    }
    // Lines, then points with hover titles, then the legend.
    for (i, l) in lines.iter().enumerate() {
        let width = if i == 0 { 2.5 } else { 1.8 };
        let pts: Vec<String> = xs
            .iter()
            .zip(&l.counts)
            .map(|(x, &c)| format!("{x:.1},{:.1}", y(c)))
            .collect();
        let _ = write!(
            s,
            r#"<polyline fill="none" stroke="{}" stroke-width="{width}" points="{}"/>"#,
            l.color,
            pts.join(" ")
        );
        for ((x, &c), (label, _)) in xs.iter().zip(&l.counts).zip(labels) {
            let _ = write!(
                s,
                r#"<circle cx="{x:.1}" cy="{:.1}" r="3" fill="{}"><title>{}: {c} at {}</title></circle>"#,
                y(c),
                l.color,
                escape(&l.name),
                escape(label)
            );
        }
        let ly = TOP + 8.0 + 18.0 * i as f64;
        let lx = WIDTH - RIGHT + 16.0;
        let name: String = if l.name.chars().count() > 40 {
            let mut t: String = l.name.chars().take(39).collect();
            t.push('…');
            t
        } else {
            l.name.clone()
        };
        let last = l.counts.last().copied().unwrap_or(0);
        let _ = write!(
            s,
            r#"<line x1="{lx:.1}" y1="{ly:.1}" x2="{:.1}" y2="{ly:.1}" stroke="{}" stroke-width="{width}"/><text x="{:.1}" y="{:.1}">{} ({last})<title>{}</title></text>"#,
            lx + 18.0,
            l.color,
            lx + 24.0,
            ly + 4.0,
            escape(&name),
            escape(&l.name)
        );
    }
    s.push_str("</svg>");
    s
}

/// A goroutine history over hours or weeks (a Prometheus range query),
/// with the snapshots of the session marked on it: when the growth began,
/// whether it follows deploys or restarts (drops to a baseline), and where
/// the captures sit in it. `points` are `(unix seconds, value)`; `marks`
/// are `(unix seconds, label)`.
pub fn history_chart(
    title: &str,
    points: &[(f64, f64)],
    marks: &[(f64, String)],
) -> Option<String> {
    let (first, last) = (points.first()?.0, points.last()?.0);
    let t0 = marks.iter().map(|m| m.0).fold(first, f64::min);
    let t1 = marks.iter().map(|m| m.0).fold(last, f64::max);
    let span = (t1 - t0).max(1.0);
    let plot_w = WIDTH - LEFT - 40.0;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let x = |t: f64| LEFT + plot_w * (t - t0) / span;
    let max = points.iter().map(|p| p.1).fold(0.0, f64::max).max(1.0);
    let step = nice_step(max.ceil() as u64, 5);
    let top = (max.ceil() as u64)
        .div_ceil(step)
        .saturating_mul(step)
        .max(1);
    let y = |v: f64| TOP + plot_h * (1.0 - v / top as f64);
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{t}"><title>{t}</title>"#,
        t = escape(title)
    );
    let _ = write!(
        s,
        r##"<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>"##
    );
    let mut v = 0;
    while v <= top {
        let yy = y(v as f64);
        let _ = write!(
            s,
            r##"<line x1="{LEFT}" y1="{yy:.1}" x2="{:.1}" y2="{yy:.1}" stroke="#e4e4e4"/><text x="{:.1}" y="{:.1}" text-anchor="end">{v}</text>"##,
            LEFT + plot_w,
            LEFT - 6.0,
            yy + 4.0
        );
        v += step;
    }
    // Time axis: the start, the middle and the end, in UTC.
    for t in [t0, (t0 + t1) / 2.0, t1] {
        let label = crate::model::time::format_rfc3339((t * 1e9) as i64);
        let _ = write!(
            s,
            r##"<text x="{:.1}" y="{:.1}" text-anchor="middle" fill="#666666">{}</text>"##,
            x(t),
            TOP + plot_h + 18.0,
            escape(label.get(..16).unwrap_or(&label))
        );
    }
    for (t, label) in marks {
        let _ = write!(
            s,
            r##"<line x1="{xx:.1}" y1="{TOP}" x2="{xx:.1}" y2="{:.1}" stroke="#e15759" stroke-dasharray="3,3"><title>{}</title></line>"##,
            TOP + plot_h,
            escape(label),
            xx = x(*t)
        );
    }
    let pts: Vec<String> = points
        .iter()
        .map(|&(t, v)| format!("{:.1},{:.1}", x(t), y(v)))
        .collect();
    let _ = write!(
        s,
        r##"<polyline fill="none" stroke="#4e79a7" stroke-width="1.8" points="{}"/>"##,
        pts.join(" ")
    );
    s.push_str("</svg>");
    Some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_nice() {
        assert_eq!(nice_step(138, 5), 50);
        assert_eq!(nice_step(4, 5), 1);
        assert_eq!(nice_step(100_000, 5), 20_000);
    }

    #[test]
    fn chart_escapes_names_and_places_points() {
        let svg = line_chart(
            "t",
            None,
            &[("t0".into(), "a".into()), ("t1".into(), "b".into())],
            &[ChartLine {
                name: "main.(*T).f<x>".into(),
                counts: vec![1, 2],
                color: "#000000",
            }],
        );
        assert!(svg.contains("main.(*T).f&lt;x&gt; (2)"), "{svg}");
        assert_eq!(svg.matches("<circle").count(), 2);
    }
}
