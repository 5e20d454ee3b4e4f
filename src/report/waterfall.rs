//! `pending-waterfall.png` / `.svg`: where the time from creation to Ready went, per workload —
//! the stages of its slowest surge (mean per pod) laid end to end, each starting where the one
//! before ended ([`crate::sim::attribution`]).

use super::charts::{ChartError, FONT, Rendered, ensure_font, palette_color};
use crate::sim::SimResult;
use crate::sim::attribution::{STAGES, stage_words};
use crate::sim::findings::clock;
use plotters::prelude::*;

/// Size of the page, pixels (its height grows with the rows).
const WIDTH: u32 = 1400;
const ROW_H: u32 = 70;
/// The most workloads a page shows (the slowest).
pub const MAX_ROWS: usize = 8;

/// One bar: a label and the stages' mean seconds.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub label: String,
    pub stages: Vec<(&'static str, f64)>,
}

/// A stage's colour, the same on every page.
fn stage_color(stage: &str) -> RGBColor {
    palette_color(STAGES.iter().position(|s| *s == stage).unwrap_or(0))
}

/// The rows a run's waterfall shows: each workload's slowest surge (or all its pods when it has
/// none), slowest first, at most [`MAX_ROWS`].
pub fn rows(r: &SimResult) -> Vec<Row> {
    let mut rows: Vec<(f64, Row)> = Vec::new();
    for w in &r.summary.workloads {
        let Some(b) = &w.pending_breakdown else { continue };
        let (surge, s) = b.slowest_surge();
        let what = match surge {
            Some(g) => format!("surge at {} ({} pods)", clock(g.start_s), g.stages.pods),
            None => format!("all {} pods", b.all.pods),
        };
        if s.to_ready_mean_s <= 0.0 {
            continue;
        }
        rows.push((
            s.to_ready_mean_s,
            Row {
                label: format!("{} · {what}", w.name),
                stages: STAGES.iter().map(|k| (*k, s.mean_s[k])).collect(),
            },
        ));
    }
    rows.sort_by(|a, b| b.0.total_cmp(&a.0));
    rows.into_iter().take(MAX_ROWS).map(|(_, r)| r).collect()
}

fn label_secs(x: f64) -> String {
    if x >= 120.0 {
        format!("{:.1}m", x / 60.0)
    } else {
        format!("{x:.0}s")
    }
}

/// Renders the page; `None` when no workload had a pod wait.
pub fn render(title: &str, rows: &[Row]) -> Result<Option<Rendered>, ChartError> {
    if rows.is_empty() {
        return Ok(None);
    }
    ensure_font()?;
    let height = 170 + ROW_H * rows.len() as u32 + 60;
    let size = (WIDTH, height);
    let draw_err = |e: String| ChartError::Draw {
        chart: "pending-waterfall".into(),
        message: e,
    };
    let mut rgb = vec![0u8; size.0 as usize * size.1 as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, size).into_drawing_area();
        draw(&root, title, rows).map_err(|e| draw_err(e.to_string()))?;
        root.present().map_err(|e| draw_err(e.to_string()))?;
    }
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        draw(&root, title, rows).map_err(|e| draw_err(e.to_string()))?;
        root.present().map_err(|e| draw_err(e.to_string()))?;
    }
    let png = super::charts::encode_png(&rgb, size).map_err(|e| ChartError::Png {
        chart: "pending-waterfall".into(),
        message: e.to_string(),
    })?;
    Ok(Some(Rendered { png, svg }))
}

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    title: &str,
    rows: &[Row],
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    root.fill(&WHITE)?;
    let body = root
        .margin(10, 10, 10, 10)
        .titled(title, (FONT, 24).into_font().color(&BLACK))?;
    let x_max = rows
        .iter()
        .map(|r| r.stages.iter().map(|s| s.1).sum::<f64>())
        .fold(0.0f64, f64::max)
        * 1.08;
    let n = rows.len() as f64;
    let (plot, legend) = body.split_vertically(body.dim_in_pixel().1.saturating_sub(70));
    let mut chart = ChartBuilder::on(&plot)
        .caption(
            "mean per pod, stage after stage, from creation to Ready (each workload's slowest surge)",
            (FONT, 16).into_font().color(&BLACK),
        )
        .margin(12)
        .x_label_area_size(44)
        .y_label_area_size(0)
        .build_cartesian_2d(0f64..x_max.max(1.0), 0f64..n)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .disable_y_axis()
        .x_desc("seconds since the pod was created")
        .label_style((FONT, 13).into_font().color(&BLACK))
        .axis_desc_style((FONT, 14).into_font().color(&BLACK))
        .bold_line_style(BLACK.mix(0.12))
        .light_line_style(TRANSPARENT)
        .draw()?;
    for (i, row) in rows.iter().enumerate() {
        let top = n - i as f64 - 0.12;
        let bottom = n - i as f64 - 0.62;
        let mut x = 0.0;
        for (stage, secs) in &row.stages {
            if *secs <= 0.0 {
                continue;
            }
            let c = stage_color(stage);
            chart.draw_series(std::iter::once(Rectangle::new(
                [(x, bottom), (x + secs, top)],
                c.filled(),
            )))?;
            // A label inside the box when it is wide enough to hold one.
            if *secs / x_max > 0.06 {
                chart.draw_series(std::iter::once(Text::new(
                    label_secs(*secs),
                    (x + secs * 0.5, (top + bottom) * 0.5),
                    (FONT, 13)
                        .into_font()
                        .color(&WHITE)
                        .pos(plotters::style::text_anchor::Pos::new(
                            plotters::style::text_anchor::HPos::Center,
                            plotters::style::text_anchor::VPos::Center,
                        )),
                )))?;
            }
            x += secs;
        }
        chart.draw_series(std::iter::once(Text::new(
            format!("{} — {} to Ready", row.label, label_secs(x)),
            (0.0, n - i as f64 - 0.02),
            (FONT, 14).into_font().color(&BLACK),
        )))?;
    }
    // The legend: every stage that appears, in pipeline order.
    let used: Vec<&str> = STAGES
        .iter()
        .copied()
        .filter(|s| rows.iter().any(|r| r.stages.iter().any(|(k, v)| k == s && *v > 0.0)))
        .collect();
    let mut lx = 20;
    for s in used {
        let c = stage_color(s);
        legend.draw(&Rectangle::new([(lx, 20), (lx + 14, 34)], c.filled()))?;
        let text = stage_words(s);
        legend.draw(&Text::new(
            text.to_string(),
            (lx + 20, 19),
            (FONT, 14).into_font().color(&BLACK),
        ))?;
        lx += 30 + 8 * text.len() as i32;
    }
    Ok(())
}
