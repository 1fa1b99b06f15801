//! The report as one self-contained HTML file: inline SVG, no scripts, no
//! external resources.

use std::fmt::Write as _;

use super::doc::{Cell, Part, Table};
use super::{Block, Section};
use crate::export::escape;

const CSS: &str = "
body { font: 14px/1.45 system-ui, -apple-system, 'Segoe UI', sans-serif; margin: 2em auto; max-width: 1280px; padding: 0 1em; color: #222; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.25em; margin-top: 2em; border-bottom: 1px solid #ddd; padding-bottom: 0.2em; }
h3 { font-size: 1.05em; margin-top: 1.5em; }
p.headline { font-size: 1.1em; font-weight: 600; }
p.meta, p.note { color: #666; }
table.data { border-collapse: collapse; margin: 0.5em 0; }
table.data th, table.data td { border: 1px solid #ddd; padding: 3px 8px; text-align: left; vertical-align: top; }
table.data th { background: #f4f4f4; }
table.data td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.growing td:first-child { border-left: 4px solid #e15759; }
tr.proven-leaked td:first-child { border-left: 4px solid #7b1fa2; }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; }
pre { background: #f7f7f7; border: 1px solid #e4e4e4; padding: 0.6em 0.8em; overflow-x: auto; }
dl.facts { display: grid; grid-template-columns: max-content auto; gap: 2px 12px; }
dl.facts dt { color: #666; }
dl.facts dd { margin: 0; }
div.graph svg { width: 100%; height: auto; border: 1px solid #eee; }
.chart text { font: 11px system-ui, sans-serif; fill: #333; }
";

/// Writes the parts as an HTML document.
pub(super) fn render(parts: &[Part]) -> String {
    let mut o = String::with_capacity(256 * 1024);
    o.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n");
    o.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n");
    o.push_str("<title>Goroutine leak report</title>\n");
    let _ = writeln!(o, "<style>{CSS}</style>\n</head>\n<body>");
    for p in parts {
        part(&mut o, p);
    }
    o.push_str("</body>\n</html>\n");
    o
}

fn part(o: &mut String, p: &Part) {
    match p {
        Part::Title(t) => {
            let _ = writeln!(o, "<h1>{}</h1>", escape(t));
        }
        Part::Headline(t) => {
            let _ = writeln!(o, "<p class=\"headline\">{}</p>", escape(t));
        }
        Part::Meta(t) => {
            let _ = writeln!(o, "<p class=\"meta\">{}</p>", escape(t));
        }
        Part::Heading { level, id, text } => {
            let _ = writeln!(o, "<h{level} id=\"{id}\">{}</h{level}>", escape(text));
        }
        Part::SuspectHeading { id, rank, function } => {
            let _ = writeln!(
                o,
                "<h3 id=\"{id}\">#{rank} <code>{}</code></h3>",
                escape(function)
            );
        }
        Part::Note(t) => {
            let _ = writeln!(o, "<p class=\"note\">{}</p>", escape(t));
        }
        Part::Table(t) => table(o, t),
        Part::Facts(facts) => {
            o.push_str("<dl class=\"facts\">\n");
            for (k, v) in facts {
                let _ = writeln!(o, "<dt>{k}</dt><dd>{}</dd>", escape(v));
            }
            o.push_str("</dl>\n");
        }
        Part::Stack(s) => {
            let _ = writeln!(o, "<pre class=\"stack\">{}</pre>", escape(s));
        }
        Part::Chart(svg) => {
            let _ = writeln!(o, "<div class=\"chart-box\">{svg}</div>");
        }
        Part::Graph { id, svg, .. } => {
            let _ = writeln!(o, "<div class=\"graph\">{}</div>", inline_svg(svg, id));
        }
        Part::Extra { section, level } => self::section(o, section, *level),
    }
}

fn table(o: &mut String, t: &Table) {
    let _ = writeln!(o, "<table class=\"{}\">", t.class);
    o.push_str("<tr>");
    for h in &t.header {
        let _ = write!(o, "<th>{}</th>", escape(h));
    }
    o.push_str("</tr>\n");
    for r in &t.rows {
        match r.mark {
            "" => o.push_str("<tr>"),
            mark => {
                let _ = write!(o, "<tr class=\"{}\">", mark.replace(' ', "-"));
            }
        }
        for c in &r.cells {
            cell(o, c);
        }
        o.push_str("</tr>\n");
    }
    o.push_str("</table>\n");
}

fn cell(o: &mut String, c: &Cell) {
    let _ = match c {
        Cell::Text(t) => write!(o, "<td>{}</td>", escape(t)),
        Cell::Num(n) => write!(o, "<td class=\"num\">{}</td>", escape(n)),
        Cell::Code(t) => write!(o, "<td><code>{}</code></td>", escape(t)),
        Cell::Function { name, site, .. } => write!(
            o,
            "<td><code>{}</code><br/><small>{}</small></td>",
            escape(name),
            escape(site)
        ),
    };
}

fn block(out: &mut String, b: &Block) {
    match b {
        Block::Text(t) => {
            let _ = writeln!(out, "<p>{}</p>", escape(t));
        }
        Block::Code(t) => {
            let _ = writeln!(out, "<pre>{}</pre>", escape(t));
        }
        Block::Table { header, rows } => {
            out.push_str("<table class=\"data\"><tr>");
            for h in header {
                let _ = write!(out, "<th>{}</th>", escape(h));
            }
            out.push_str("</tr>\n");
            for r in rows {
                out.push_str("<tr>");
                for cell in r {
                    let _ = write!(out, "<td>{}</td>", escape(cell));
                }
                out.push_str("</tr>\n");
            }
            out.push_str("</table>\n");
        }
    }
}

fn section(out: &mut String, s: &Section, level: u8) {
    let _ = writeln!(out, "<h{level}>{}</h{level}>", escape(&s.heading));
    for b in &s.blocks {
        block(out, b);
    }
}

/// An inferno SVG made fit to sit inside HTML: no XML prolog, no script and
/// no `onload` calling it (the report has no scripts; hover titles still
/// work), and its element ids (`title`, `details`, `background`, …) given
/// the graph's own prefix, with every reference to them (its style sheet,
/// `url(#…)`), so two graphs and the report's headings never share an id.
fn inline_svg(svg: &str, prefix: &str) -> String {
    let body = svg.find("<svg").map_or(svg, |i| &svg[i..]);
    let mut out = body.replacen(" onload=\"init(evt)\"", "", 1);
    if let (Some(a), Some(b)) = (out.find("<script"), out.find("</script>"))
        && a < b
    {
        out.replace_range(a..b + "</script>".len(), "");
    }
    let mut ids: Vec<String> = out
        .match_indices(" id=\"")
        .filter_map(|(i, m)| {
            let rest = &out[i + m.len()..];
            rest.find('"').map(|end| rest[..end].to_owned())
        })
        .collect();
    ids.sort();
    ids.dedup();
    let mut scoped = out.replace(" id=\"", &format!(" id=\"{prefix}-"));
    for id in ids {
        scoped = scope_refs(&scoped, &id, prefix);
    }
    scoped
}

/// Rewrites `#id` references (CSS selectors, `url(#id)`) to `#prefix-id`,
/// leaving longer names that merely start with `id` alone.
fn scope_refs(text: &str, id: &str, prefix: &str) -> String {
    let needle = format!("#{id}");
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(&needle) {
        let after = &rest[i + needle.len()..];
        let whole = !after
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        out.push_str(&rest[..i]);
        if whole {
            out.push_str(&format!("#{prefix}-{id}"));
        } else {
            out.push_str(&needle);
        }
        rest = after;
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_svg_drops_prolog_and_script_and_scopes_ids() {
        let s = "<?xml version=\"1.0\"?><!DOCTYPE svg><svg onload=\"init(evt)\" a=\"1\"><style>#search { x } #searchbox { y }</style><script type=\"x\"><![CDATA[var a;]]></script><rect id=\"background\"/><text id=\"search\"/><g fill=\"url(#background)\"/></svg>";
        assert_eq!(
            inline_svg(s, "flame"),
            "<svg a=\"1\"><style>#flame-search { x } #searchbox { y }</style><rect id=\"flame-background\"/><text id=\"flame-search\"/><g fill=\"url(#flame-background)\"/></svg>"
        );
    }
}
