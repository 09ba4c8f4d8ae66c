//! Renderers: the report as text tables or JSON, and the check catalogue.

pub mod catalogue;
pub mod json;
pub mod text;

use serde::{Deserialize, Serialize};

use crate::report::Report;

/// Output format of `analyze`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Text,
    Json,
}

/// What the text report and `eksup checks` fit when nothing says otherwise (no terminal on
/// stdout or stderr and `COLUMNS` unset: a file or a CI log).
pub const DEFAULT_WIDTH: u16 = 120;
/// Narrower than this, tables cannot show their columns; a smaller width is raised to it.
pub const MIN_WIDTH: u16 = 40;

/// The width text output fits: the terminal's when stdout is one (or stderr, when stdout is
/// piped to a pager), else `COLUMNS` when set, else [`DEFAULT_WIDTH`].
pub fn output_width() -> u16 {
    use std::io::IsTerminal;
    let terminal = if std::io::stdout().is_terminal() {
        terminal_size::terminal_size_of(std::io::stdout())
    } else if std::io::stderr().is_terminal() {
        terminal_size::terminal_size_of(std::io::stderr())
    } else {
        None
    }
    .map(|(terminal_size::Width(w), _)| w);
    width_from(terminal, std::env::var("COLUMNS").ok().as_deref())
}

fn width_from(terminal: Option<u16>, columns: Option<&str>) -> u16 {
    terminal
        .or_else(|| columns.and_then(|c| c.trim().parse::<u16>().ok()))
        .filter(|w| *w > 0)
        .unwrap_or(DEFAULT_WIDTH)
        .max(MIN_WIDTH)
}

/// A table with `header`, fitted to `width` columns: cells wrap. Each column keeps at least
/// the width of its header and of `least[i]` (an entry its cells should not split), when the
/// width leaves room for all of them; else at least its header's, when that fits.
pub fn table(header: &[&str], least: &[usize], width: u16) -> comfy_table::Table {
    use comfy_table::{ColumnConstraint, ContentArrangement, Width};
    let mut table = comfy_table::Table::new();
    table
        .load_preset(comfy_table::presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(width)
        .set_header(header);
    let headers: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    let cells: Vec<usize> = headers
        .iter()
        .enumerate()
        .map(|(i, h)| (*h).max(least.get(i).copied().unwrap_or(0)))
        .collect();
    // A column's lower bound counts its padding (one space either side); n columns have n + 1
    // borders.
    let fits = |mins: &[usize]| {
        let borders = mins.len() + 1;
        mins.iter().map(|m| m + 2).sum::<usize>() + borders <= usize::from(width)
    };
    if let Some(mins) = [cells, headers].into_iter().find(|m| fits(m)) {
        table.set_constraints(mins.into_iter().map(|m| {
            ColumnConstraint::LowerBoundary(Width::Fixed(u16::try_from(m + 2).unwrap_or(u16::MAX)))
        }));
    }
    table
}

/// `parts` joined by ` · ` into lines of at most `width` characters (continuation lines start
/// with `indent`); a part too long for a line is word-wrapped, a word longer than a line (a
/// URL) is left whole.
pub fn wrap_parts(parts: &[&str], width: u16, indent: &str) -> String {
    let width = usize::from(width);
    let len = |s: &str| s.chars().count();
    let mut lines: Vec<String> = vec![String::new()];
    for (i, part) in parts.iter().enumerate() {
        let line = lines.last_mut().expect("one line");
        let sep = if i == 0 { "" } else { " · " };
        if len(line) + len(sep) + len(part) <= width {
            line.push_str(sep);
            line.push_str(part);
            continue;
        }
        if i > 0 {
            if len(line) + 2 <= width {
                line.push_str(" ·");
            }
            lines.push(indent.to_string());
        }
        for word in part.split(' ') {
            let line = lines.last_mut().expect("one line");
            let fresh = line.trim().is_empty();
            if fresh || len(line) + 1 + len(word) <= width {
                if !fresh {
                    line.push(' ');
                }
                line.push_str(word);
            } else {
                lines.push(format!("{indent}{word}"));
            }
        }
    }
    lines.join("\n")
}

/// `text` word-wrapped to `width` characters, continuation lines starting with `indent`.
pub fn wrap(text: &str, width: u16, indent: &str) -> String {
    wrap_parts(&[text], width, indent)
}

pub fn render(report: &Report, format: Format) -> String {
    match format {
        Format::Text => text::render(report, output_width()),
        Format::Json => json::render(report),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_width_is_the_terminals_then_columns_then_the_default() {
        assert_eq!(width_from(Some(87), Some("200")), 87);
        assert_eq!(width_from(None, Some("132")), 132);
        assert_eq!(width_from(None, Some("wide")), DEFAULT_WIDTH);
        assert_eq!(width_from(None, None), DEFAULT_WIDTH);
        assert_eq!(width_from(None, Some("10")), MIN_WIDTH);
    }

    #[test]
    fn wrapping_breaks_at_parts_then_words_and_keeps_long_words_whole() {
        let out = wrap_parts(&["alpha beta", "gamma delta", "epsilon"], 26, "  ");
        assert_eq!(out, "alpha beta · gamma delta ·\n  epsilon");
        let out = wrap("Fix: one two three four five six", 15, "     ");
        assert_eq!(out, "Fix: one two\n     three four\n     five six");
        let url = "https://example.com/a/very/long/path";
        assert_eq!(
            wrap(&format!("See: {url}"), 20, "  "),
            format!("See:\n  {url}")
        );
        for line in wrap_parts(&["a b c d e f g h i j k l m n o p"], 9, " ").lines() {
            assert!(line.chars().count() <= 9, "{line:?}");
        }
    }
}
