//! The report as Markdown, for tools that take Markdown; its pictures are
//! data URIs, each a standalone SVG document.

use std::fmt::Write as _;

use super::doc::{Cell, Part, Table};
use super::{Block, Section};

/// Writes the parts as a Markdown document.
pub(super) fn render(parts: &[Part]) -> String {
    let mut o = String::with_capacity(256 * 1024);
    for p in parts {
        part(&mut o, p);
    }
    o
}

fn part(o: &mut String, p: &Part) {
    match p {
        Part::Title(t) => {
            let _ = writeln!(o, "# {t}\n");
        }
        Part::Headline(t) => {
            let _ = writeln!(o, "**{t}**\n");
        }
        Part::Meta(t) | Part::Note(t) => {
            let _ = writeln!(o, "{t}\n");
        }
        Part::Heading { level, text, .. } => {
            let _ = writeln!(o, "{} {text}\n", "#".repeat(usize::from(*level)));
        }
        Part::SuspectHeading { rank, function, .. } => {
            let _ = writeln!(o, "### #{rank} {}\n", code(function));
        }
        Part::Table(t) => table(o, t),
        Part::Facts(facts) => {
            for (k, v) in facts {
                let _ = writeln!(o, "- **{k}:** {v}");
            }
        }
        Part::Stack(s) => {
            let _ = writeln!(o, "\n```\n{s}```\n");
        }
        Part::Chart(svg) => image(o, "Goroutines per snapshot", svg),
        Part::Graph { alt, svg, .. } => image(o, alt, svg),
        Part::Extra { section, level } => self::section(o, section, usize::from(*level)),
    }
}

/// Markdown inline code; a backtick inside would end it, and `|` would
/// split a table cell.
fn code(s: &str) -> String {
    format!("`{}`", s.replace('`', "'").replace('|', "\\|"))
}

/// Markdown table cell text.
fn text(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

fn table(o: &mut String, t: &Table) {
    let header: Vec<String> = t.header.iter().map(|h| text(h)).collect();
    let _ = writeln!(o, "| {} |", header.join(" | "));
    let align: Vec<&str> = t
        .numeric
        .iter()
        .map(|&n| if n { "---:" } else { "---" })
        .collect();
    let _ = writeln!(o, "|{}|", align.join("|"));
    for r in &t.rows {
        let cells: Vec<String> = r.cells.iter().map(cell).collect();
        let _ = writeln!(o, "| {} |", cells.join(" | "));
    }
    o.push('\n');
}

fn cell(c: &Cell) -> String {
    match c {
        Cell::Text(t) => text(t),
        Cell::Num(n) => text(n),
        Cell::Code(t) => code(t),
        Cell::Function { name, mark, .. } => match *mark {
            "" => code(name),
            mark => format!("{} **{mark}**", code(name)),
        },
    }
}

fn block(out: &mut String, b: &Block) {
    match b {
        Block::Text(t) => {
            let _ = writeln!(out, "{t}\n");
        }
        Block::Code(t) => {
            let _ = writeln!(out, "```\n{}\n```\n", t.trim_end());
        }
        Block::Table { header, rows } => {
            let cells: Vec<String> = header.iter().map(|h| text(h)).collect();
            let _ = writeln!(out, "| {} |", cells.join(" | "));
            let _ = writeln!(out, "|{}", "---|".repeat(header.len()));
            for r in rows {
                let cells: Vec<String> = r.iter().map(|c| text(c)).collect();
                let _ = writeln!(out, "| {} |", cells.join(" | "));
            }
            out.push('\n');
        }
    }
}

fn section(out: &mut String, s: &Section, level: usize) {
    let _ = writeln!(out, "{} {}\n", "#".repeat(level), s.heading);
    for b in &s.blocks {
        block(out, b);
    }
}

fn image(out: &mut String, alt: &str, svg: &str) {
    let _ = writeln!(
        out,
        "![{}](data:image/svg+xml;base64,{})\n",
        alt.replace(['[', ']'], ""),
        crate::text::base64(svg.as_bytes())
    );
}
