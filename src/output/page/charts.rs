//! The page's charts, drawn with plotters' SVG backend into strings that the page inlines.
//!
//! Colours are chosen to stay apart in greyscale (their lightness differs, and the "ready"
//! mark is hollow), and every bar carries its number as text, so no chart depends on colour
//! alone. plotters escapes the text it writes; the page adds each chart's text alternative.

use std::collections::BTreeMap;

use chrono::{Days, NaiveDate};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::model::{ClusterView, DayTotals};
use crate::checks::Readiness;

const WIDTH: u32 = 900;
/// Pixels of the timeline's plot area, shared by the tallest stack of marks.
const TIMELINE_PLOT_PX: f64 = 220.0;
/// Pixels above the tallest stack: three staggered guide labels, then the stack's label.
const TIMELINE_HEADROOM_PX: f64 = 64.0;
const FONT: &str = "sans-serif";
const INK: RGBColor = RGBColor(0x22, 0x22, 0x22);
const GRID: RGBColor = RGBColor(0xbb, 0xbb, 0xbb);
/// Dark, mid and light: blocked, unknown, ready (ready is also drawn hollow).
const BLOCKED: RGBColor = RGBColor(0xa5, 0x0f, 0x15);
const UNKNOWN: RGBColor = RGBColor(0xe0, 0x8a, 0x1e);
const READY: RGBColor = RGBColor(0xd9, 0xf0, 0xd3);
const READY_EDGE: RGBColor = RGBColor(0x1b, 0x78, 0x37);
/// Viridis, dark to light: versions oldest (most urgent) to newest.
const RAMP: [RGBColor; 8] = [
    RGBColor(0x44, 0x01, 0x54),
    RGBColor(0x46, 0x32, 0x7e),
    RGBColor(0x36, 0x5c, 0x8d),
    RGBColor(0x27, 0x7f, 0x8e),
    RGBColor(0x1f, 0xa1, 0x87),
    RGBColor(0x4a, 0xc1, 0x6d),
    RGBColor(0xa0, 0xda, 0x39),
    RGBColor(0xfd, 0xe7, 0x25),
];

type Result<T> = std::result::Result<T, String>;

fn err<E: std::fmt::Display>(e: E) -> String {
    format!("cannot draw a chart: {e}")
}

pub fn verdict_fill(v: Readiness) -> RGBColor {
    match v {
        Readiness::Blocked => BLOCKED,
        Readiness::Unknown => UNKNOWN,
        Readiness::Ready => READY,
    }
}

fn text(size: u32, h: HPos, v: VPos) -> TextStyle<'static> {
    (FONT, size).into_font().color(&INK).pos(Pos::new(h, v))
}

/// Text that reads on `fill`: white on dark colours, ink on light ones.
fn text_on(fill: RGBColor, size: u32) -> TextStyle<'static> {
    let luma = 0.299 * f64::from(fill.0) + 0.587 * f64::from(fill.1) + 0.114 * f64::from(fill.2);
    let colour = if luma < 140.0 { WHITE } else { INK };
    (FONT, size)
        .into_font()
        .color(&colour)
        .pos(Pos::new(HPos::Center, VPos::Center))
}

/// Colour of version `i` of `n`, spread over the ramp.
fn ramp(i: usize, n: usize) -> RGBColor {
    if n <= 1 {
        return RAMP[2];
    }
    RAMP[i * (RAMP.len() - 1) / (n - 1)]
}

/// Sorts Kubernetes versions numerically ("1.9" before "1.10"); unknown last.
fn version_key(v: &str) -> (u32, u32, String) {
    let mut parts = v.split('.').map(|p| p.parse::<u32>().ok());
    match (parts.next().flatten(), parts.next().flatten()) {
        (Some(a), Some(b)) => (a, b, String::new()),
        _ => (u32::MAX, u32::MAX, v.to_string()),
    }
}

pub fn sorted_versions<'a>(vs: impl IntoIterator<Item = &'a String>) -> Vec<String> {
    let mut out: Vec<String> = vs.into_iter().cloned().collect();
    out.sort_by_key(|v| version_key(v));
    out.dedup();
    out
}

/// Draws into an SVG string of `height` pixels.
fn svg(
    height: u32,
    draw: impl FnOnce(&DrawingArea<SVGBackend, plotters::coord::Shift>) -> Result<()>,
) -> Result<String> {
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        draw(&root)?;
        root.present().map_err(err)?;
    }
    Ok(out)
}

fn legend(
    root: &DrawingArea<SVGBackend, plotters::coord::Shift>,
    items: &[(String, RGBColor, bool)],
    y: i32,
) -> Result<()> {
    let mut x = 10;
    for (label, fill, hollow_edge) in items {
        root.draw(&Rectangle::new(
            [(x, y - 7), (x + 14, y + 7)],
            fill.filled(),
        ))
        .map_err(err)?;
        if *hollow_edge {
            root.draw(&Rectangle::new(
                [(x, y - 7), (x + 14, y + 7)],
                READY_EDGE.stroke_width(2),
            ))
            .map_err(err)?;
        }
        root.draw(&Text::new(
            label.clone(),
            (x + 20, y),
            text(13, HPos::Left, VPos::Center),
        ))
        .map_err(err)?;
        x += 30 + 8 * label.chars().count() as i32;
    }
    Ok(())
}

fn count_label(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        String::new()
    }
}

/// Horizontal stacked bars: one row per label, segments of (value, colour, caption).
fn horizontal_bars(
    rows: &[(String, Vec<(usize, RGBColor)>)],
    legend_items: &[(String, RGBColor, bool)],
    x_desc: &str,
) -> Result<String> {
    let n = rows.len().max(1);
    let max = rows
        .iter()
        .map(|(_, s)| s.iter().map(|(v, _)| v).sum::<usize>())
        .max()
        .unwrap_or(0)
        .max(1);
    let height = 90 + 30 * n as u32;
    svg(height, |root| {
        legend(root, legend_items, 14)?;
        let area = root.margin(28, 0, 0, 0);
        let mut chart = ChartBuilder::on(&area)
            .margin(10)
            .x_label_area_size(36)
            .y_label_area_size(130)
            .build_cartesian_2d(0f64..(max as f64 * 1.08), 0f64..n as f64)
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(0)
            .x_labels((max + 1).min(10))
            .x_label_formatter(&|v| count_label(*v))
            .x_desc(x_desc)
            .light_line_style(WHITE)
            .label_style((FONT, 13))
            .draw()
            .map_err(err)?;
        for (i, (label, segments)) in rows.iter().enumerate() {
            // Row 0 at the top.
            let y = (n - 1 - i) as f64;
            let (px, py) = chart.backend_coord(&(0.0, y + 0.5));
            root.draw(&Text::new(
                label.clone(),
                (px - 8, py),
                text(13, HPos::Right, VPos::Center),
            ))
            .map_err(err)?;
            let mut x = 0.0;
            for (v, fill) in segments {
                let x1 = x + *v as f64;
                chart
                    .draw_series(std::iter::once(Rectangle::new(
                        [(x, y + 0.18), (x1, y + 0.82)],
                        fill.filled(),
                    )))
                    .map_err(err)?;
                let (a, _) = chart.backend_coord(&(x, y));
                let (b, _) = chart.backend_coord(&(x1, y));
                // A lone segment's number is the total printed after the bar.
                if segments.len() > 1 && b - a >= 18 {
                    root.draw(&Text::new(
                        v.to_string(),
                        ((a + b) / 2, py),
                        text_on(*fill, 12),
                    ))
                    .map_err(err)?;
                }
                x = x1;
            }
            let (end, _) = chart.backend_coord(&(x, y));
            root.draw(&Text::new(
                format!("{x:.0}"),
                (end + 6, py),
                text(12, HPos::Left, VPos::Center),
            ))
            .map_err(err)?;
        }
        Ok(())
    })
}

/// Kubernetes versions by account: one bar per account, a segment per version.
pub fn versions_by_account(data: &BTreeMap<String, BTreeMap<String, usize>>) -> Result<String> {
    let versions = sorted_versions(data.values().flat_map(|m| m.keys()));
    let colour = |v: &str| {
        ramp(
            versions.iter().position(|x| x == v).unwrap_or(0),
            versions.len(),
        )
    };
    let rows: Vec<_> = data
        .iter()
        .map(|(account, counts)| {
            let label = if account.is_empty() {
                "(no account)"
            } else {
                account
            };
            let segments = versions
                .iter()
                .filter_map(|v| counts.get(v).map(|n| (*n, colour(v))))
                .collect();
            (label.to_string(), segments)
        })
        .collect();
    let legend: Vec<_> = versions
        .iter()
        .map(|v| {
            let label = if v.is_empty() {
                "unknown".into()
            } else {
                v.clone()
            };
            (label, colour(v), false)
        })
        .collect();
    horizontal_bars(&rows, &legend, "clusters")
}

/// Required findings by check code, most first.
pub fn required_by_code(data: &[(String, usize, usize)]) -> Result<String> {
    let rows: Vec<_> = data
        .iter()
        .map(|(code, n, _)| (code.clone(), vec![(*n, BLOCKED)]))
        .collect();
    horizontal_bars(
        &rows,
        &[("required findings".into(), BLOCKED, false)],
        "required findings",
    )
}

/// Findings per day: required and recommended, stacked, one bar per day of the window.
pub fn findings_per_day(days: &[DayTotals]) -> Result<String> {
    let n = days.len().max(1);
    let max = days
        .iter()
        .map(|d| d.required + d.recommended)
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    svg(360, |root| {
        legend(
            root,
            &[
                ("required".into(), BLOCKED, false),
                ("recommended".into(), READY, true),
            ],
            14,
        )?;
        let area = root.margin(28, 0, 0, 0);
        let mut chart = ChartBuilder::on(&area)
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(0f64..n as f64, 0f64..max * 1.12)
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(0)
            .y_labels(6)
            .y_label_formatter(&|v| count_label(*v))
            .y_desc("findings")
            .light_line_style(WHITE)
            .label_style((FONT, 13))
            .draw()
            .map_err(err)?;
        let every = n.div_ceil(14);
        for (i, d) in days.iter().enumerate() {
            let x = i as f64;
            let req = d.required as f64;
            let all = req + d.recommended as f64;
            chart
                .draw_series([
                    Rectangle::new([(x + 0.15, 0.0), (x + 0.85, req)], BLOCKED.filled()),
                    Rectangle::new([(x + 0.15, req), (x + 0.85, all)], READY.filled()),
                    Rectangle::new(
                        [(x + 0.15, req), (x + 0.85, all)],
                        READY_EDGE.stroke_width(1),
                    ),
                ])
                .map_err(err)?;
            let (px, base) = chart.backend_coord(&(x + 0.5, 0.0));
            let (_, top) = chart.backend_coord(&(x + 0.5, all));
            let label = if d.clusters == 0 {
                "no data".to_string()
            } else {
                (d.required + d.recommended).to_string()
            };
            root.draw(&Text::new(
                label,
                (px, top - 4),
                text(11, HPos::Center, VPos::Bottom),
            ))
            .map_err(err)?;
            if i % every == 0 {
                root.draw(&Text::new(
                    d.dt.format("%b %d").to_string(),
                    (px, base + 6),
                    text(12, HPos::Center, VPos::Top),
                ))
                .map_err(err)?;
            }
        }
        Ok(())
    })
}

/// End of standard support: one mark per cluster, stacked over its date, by verdict.
pub fn support_timeline(clusters: &[ClusterView], as_of: NaiveDate) -> Result<String> {
    let mut columns: BTreeMap<NaiveDate, Vec<(Readiness, String)>> = BTreeMap::new();
    for c in clusters {
        if let Some(d) = c.end_of_standard_support {
            columns
                .entry(d)
                .or_default()
                .push((c.verdict, c.current_version.clone().unwrap_or_default()));
        }
    }
    for marks in columns.values_mut() {
        marks.sort();
    }
    let offset = |d: NaiveDate| (d - as_of).num_days() as f64;
    let first = columns.keys().next().copied().unwrap_or(as_of).min(as_of);
    let last = columns
        .keys()
        .last()
        .copied()
        .unwrap_or(as_of)
        .max(as_of.checked_add_days(Days::new(90)).unwrap_or(as_of));
    let pad = ((offset(last) - offset(first)) * 0.05).max(10.0);
    let (x0, x1) = (offset(first) - pad, offset(last) + pad);
    let tallest = columns.values().map(Vec::len).max().unwrap_or(1).max(1);
    // One y unit per mark; above the tallest stack, room (in pixels) for the guides' labels
    // and then the stack's own label, so the two never overlap.
    let unit = (TIMELINE_PLOT_PX / tallest as f64).min(16.0);
    let y_max = tallest as f64 + TIMELINE_HEADROOM_PX / unit;
    let height =
        (TIMELINE_PLOT_PX.min(tallest as f64 * unit) + TIMELINE_HEADROOM_PX) as u32 + 28 + 28 + 40;
    svg(height, |root| {
        let legend_items: Vec<_> = Readiness::ALL
            .iter()
            .map(|v| {
                (
                    v.as_str().to_string(),
                    verdict_fill(*v),
                    *v == Readiness::Ready,
                )
            })
            .collect();
        legend(root, &legend_items, 14)?;
        let area = root.margin(28, 0, 0, 0);
        let mut chart = ChartBuilder::on(&area)
            .margin(14)
            .x_label_area_size(40)
            .y_label_area_size(20)
            .build_cartesian_2d(x0..x1, 0f64..y_max)
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .disable_x_mesh()
            .y_labels(0)
            .x_labels(8)
            .x_label_formatter(&|v| {
                let days = v.round() as i64;
                let d = if days >= 0 {
                    as_of.checked_add_days(Days::new(days as u64))
                } else {
                    as_of.checked_sub_days(Days::new(days.unsigned_abs()))
                };
                d.map(|d| d.format("%Y-%m-%d").to_string())
                    .unwrap_or_default()
            })
            .x_desc("end of standard support")
            .light_line_style(WHITE)
            .label_style((FONT, 12))
            .draw()
            .map_err(err)?;
        // Guides for the report day and 30 / 90 days on, labelled at staggered heights.
        for (k, (days, label)) in [(0, "report day"), (30, "+30 d"), (90, "+90 d")]
            .into_iter()
            .enumerate()
        {
            let x = f64::from(days);
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(x, 0.0), (x, y_max)],
                    GRID.stroke_width(1),
                )))
                .map_err(err)?;
            let (px, py) = chart.backend_coord(&(x, y_max));
            root.draw(&Text::new(
                label,
                (px + 3, py + 2 + 13 * k as i32),
                text(11, HPos::Left, VPos::Top),
            ))
            .map_err(err)?;
        }
        let half = (unit as i32).clamp(4, 7);
        for (date, marks) in &columns {
            let x = offset(*date);
            let (px, _) = chart.backend_coord(&(x, 0.0));
            for (k, (verdict, _)) in marks.iter().enumerate() {
                let (_, py0) = chart.backend_coord(&(x, k as f64));
                let (_, py1) = chart.backend_coord(&(x, k as f64 + 1.0));
                // A pixel of white between marks keeps each cluster countable.
                let gap = i32::from(unit >= 4.0);
                let corners = [(px - half, py1 + gap), (px + half, py0 - gap)];
                root.draw(&Rectangle::new(corners, verdict_fill(*verdict).filled()))
                    .map_err(err)?;
                if *verdict == Readiness::Ready {
                    root.draw(&Rectangle::new(corners, READY_EDGE.stroke_width(1)))
                        .map_err(err)?;
                }
            }
            let versions = sorted_versions(marks.iter().map(|(_, v)| v));
            let (_, ptop) = chart.backend_coord(&(x, marks.len() as f64));
            root.draw(&Text::new(
                format!("{} ({})", versions.join(", "), marks.len()),
                (px, ptop - 4),
                text(12, HPos::Center, VPos::Bottom),
            ))
            .map_err(err)?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_sort_numerically() {
        let vs = [
            "1.10".to_string(),
            "1.9".into(),
            String::new(),
            "1.33".into(),
        ];
        assert_eq!(sorted_versions(vs.iter()), vec!["1.9", "1.10", "1.33", ""]);
    }

    #[test]
    fn charts_are_svg_and_escape_their_text() {
        let mut data = BTreeMap::new();
        data.entry("<acct>".to_string())
            .or_insert_with(BTreeMap::new)
            .insert("1.33".to_string(), 2);
        let s = versions_by_account(&data).unwrap();
        assert!(s.starts_with("<svg"), "{}", &s[..40]);
        assert!(s.contains("&lt;acct&gt;") && !s.contains("<acct>"));
    }
}
