//! `sweep-frontier.png` / `.svg`: each point's mean cost (x) against its mean Pending p95 (y),
//! with 95 % intervals as whiskers when there are several seeds. The Pareto-optimal points (no
//! other point is both cheaper and faster) are drawn in red, joined by the frontier's staircase,
//! and labelled with their parameter values.
//!
//! The axes are `cost_usd` and `pending_p95_s` (the worst-workload form, else the first
//! per-workload one); when the grid's metrics leave either out, no chart is drawn.

use super::files::OutputError;
use super::sweep::{FRONTIER_STEM, Layout, Metric, MetricKind, PointResult, fmt6, pareto_groups, point_label};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::{Path, PathBuf};

/// Page size, pixels.
pub const SIZE: (u32, u32) = (1200, 800);
/// Most Pareto points labelled (the cheapest ones); the rest are marked but not labelled.
pub const MAX_LABELS: usize = 24;

#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    #[error("the chart font could not be registered")]
    Font,
    #[error("{FRONTIER_STEM}: drawing failed: {0}")]
    Draw(String),
    #[error("{FRONTIER_STEM}: PNG encoding failed: {0}")]
    Png(String),
}

/// The font family the chart draws with, registered once per process.
fn chart_font() -> Result<&'static str, ChartError> {
    super::charts::ensure_font().map_err(|_| ChartError::Font)
}

/// The rendered chart.
pub type Frontier = super::charts::Rendered;

/// Indices of the cost and Pending-p95 metrics in the layout, if both are there.
pub fn axes(layout: &Layout) -> Option<(usize, usize)> {
    let ms: Vec<Option<Metric>> = layout.metrics.iter().map(|m| m.parse().ok()).collect();
    let find = |kind: MetricKind| {
        let is = |m: &Option<Metric>, worst: bool| {
            m.as_ref()
                .is_some_and(|m| m.kind == kind && (!worst || m.workload.is_none()))
        };
        ms.iter()
            .position(|m| is(m, true))
            .or_else(|| ms.iter().position(|m| is(m, false)))
    };
    Some((find(MetricKind::CostUsd)?, find(MetricKind::PendingP95)?))
}

/// `(mean of metric x, mean of metric y)` per point; NaN where undefined.
pub fn means(points: &[PointResult], x: usize, y: usize) -> Vec<(f64, f64)> {
    let mean = |p: &PointResult, m: usize| p.estimate(m).map_or(f64::NAN, |e| e.mean);
    points.iter().map(|p| (mean(p, x), mean(p, y))).collect()
}

/// A parameter's name for a label: the last key of its path (`averageUtilization`, `args[1]`),
/// or the name as given when it is not a path.
pub fn short_name(name: &str) -> &str {
    let field = name.rsplit_once(':').map_or(name, |(_, f)| f);
    field.rsplit('.').next().filter(|s| !s.is_empty()).unwrap_or(field)
}

struct Mark {
    x: f64,
    y: f64,
    /// `(low, high)` of x and of y.
    x_ci: Option<(f64, f64)>,
    y_ci: Option<(f64, f64)>,
    label: String,
}

/// Renders the chart; `None` when the metrics lack cost or Pending p95.
pub fn render_frontier(layout: &Layout, points: &[PointResult]) -> Result<Option<Frontier>, ChartError> {
    let Some((cx, py)) = axes(layout) else {
        return Ok(None);
    };
    let font = chart_font()?;
    let xy = means(points, cx, py);
    let groups = pareto_groups(&xy);
    let mark = |i: usize, label: String| {
        let p = &points[i];
        let ci = |m: usize| p.estimate(m).and_then(|e| e.interval);
        Mark {
            x: xy[i].0,
            y: xy[i].1,
            x_ci: ci(cx),
            y_ci: ci(py),
            label,
        }
    };
    let mut on_front = vec![false; points.len()];
    for &i in groups.iter().flatten() {
        on_front[i] = true;
    }
    let others: Vec<Mark> = (0..points.len())
        .filter(|&i| !on_front[i] && xy[i].0.is_finite() && xy[i].1.is_finite())
        .map(|i| mark(i, String::new()))
        .collect();
    // One mark per group of ties, labelled with the first point and how many more tie with it.
    let pareto: Vec<Mark> = groups
        .iter()
        .map(|g| {
            let mut label = point_label(layout, &points[g[0]], short_name);
            if g.len() > 1 {
                label.push_str(&format!(" (+{} more)", g.len() - 1));
            }
            mark(g[0], label)
        })
        .collect();
    let optimal: usize = groups.iter().map(Vec::len).sum();
    let title = format!(
        "Cost vs Pending p95: {} points × {} seed{}, {} Pareto-optimal",
        points.len(),
        layout.seeds.len(),
        if layout.seeds.len() == 1 { "" } else { "s" },
        optimal
    );
    let axis_names = (
        format!("{} (mean)", layout.metrics[cx]),
        format!("{} (mean)", layout.metrics[py]),
    );
    let page = Page {
        font,
        title,
        axis_names,
        others,
        pareto,
    };

    let mut rgb = vec![0u8; SIZE.0 as usize * SIZE.1 as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, SIZE).into_drawing_area();
        page.draw(&root).map_err(|e| ChartError::Draw(e.to_string()))?;
        root.present().map_err(|e| ChartError::Draw(e.to_string()))?;
    }
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        page.draw(&root).map_err(|e| ChartError::Draw(e.to_string()))?;
        root.present().map_err(|e| ChartError::Draw(e.to_string()))?;
    }
    let png = super::charts::encode_png(&rgb, SIZE).map_err(|e| ChartError::Png(e.to_string()))?;
    Ok(Some(Frontier { png, svg }))
}

/// Writes `sweep-frontier.png` and `.svg` into `dir`.
pub fn write(dir: &Path, f: &Frontier) -> Result<Vec<PathBuf>, OutputError> {
    super::charts::write_png_svg(dir, FRONTIER_STEM, f)
}

/// An axis range covering `values` (the means; intervals are clipped) with an 8 % margin, never
/// below 0 when no mean is (cost and Pending time are not negative, an interval's low end may be);
/// a range around a single value.
fn span(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    let pad = if hi > lo {
        (hi - lo) * 0.08
    } else {
        lo.abs().max(1.0) * 0.1
    };
    let floor = if lo >= 0.0 { 0.0 } else { f64::NEG_INFINITY };
    ((lo - pad).max(floor), hi + pad)
}

struct Page {
    font: &'static str,
    title: String,
    axis_names: (String, String),
    others: Vec<Mark>,
    pareto: Vec<Mark>,
}

type DrawResult<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

const FRONT_RED: RGBColor = RGBColor(200, 30, 40);
const OTHER_GREY: RGBColor = RGBColor(120, 120, 130);

impl Page {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        root.fill(&WHITE)?;
        let all = || self.others.iter().chain(&self.pareto);
        let (x0, x1) = span(all().map(|m| m.x));
        let (y0, y1) = span(all().map(|m| m.y));
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, (self.font, 24))
            .margin(24)
            .x_label_area_size(56)
            .y_label_area_size(80)
            .build_cartesian_2d(x0..x1, y0..y1)?;
        chart
            .configure_mesh()
            .x_desc(&self.axis_names.0)
            .y_desc(&self.axis_names.1)
            .label_style((self.font, 14))
            .axis_desc_style((self.font, 16))
            .x_label_formatter(&|v| fmt_axis(*v))
            .y_label_formatter(&|v| fmt_axis(*v))
            .light_line_style(WHITE)
            .draw()?;

        // Whiskers first, so the dots sit on top.
        for (marks, color) in [(&self.others, OTHER_GREY.mix(0.5)), (&self.pareto, FRONT_RED.mix(0.5))] {
            for m in marks.iter() {
                // Clipped to the axes: an interval may reach below zero or far beyond the means.
                if let Some((lo, hi)) = m.x_ci {
                    let seg = vec![(lo.max(x0), m.y), (hi.min(x1), m.y)];
                    chart.draw_series(std::iter::once(PathElement::new(seg, color)))?;
                }
                if let Some((lo, hi)) = m.y_ci {
                    let seg = vec![(m.x, lo.max(y0)), (m.x, hi.min(y1))];
                    chart.draw_series(std::iter::once(PathElement::new(seg, color)))?;
                }
            }
        }
        // The frontier's staircase: from each Pareto point across to the next one's cost, then down.
        let mut stairs = Vec::new();
        for (k, m) in self.pareto.iter().enumerate() {
            stairs.push((m.x, m.y));
            if let Some(next) = self.pareto.get(k + 1) {
                stairs.push((next.x, m.y));
            }
        }
        chart
            .draw_series(std::iter::once(PathElement::new(stairs, FRONT_RED.stroke_width(2))))?
            .label("Pareto frontier")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], FRONT_RED.stroke_width(2)));
        chart
            .draw_series(
                self.others
                    .iter()
                    .map(|m| Circle::new((m.x, m.y), 4, OTHER_GREY.filled())),
            )?
            .label("other points")
            .legend(|(x, y)| Circle::new((x + 10, y), 4, OTHER_GREY.filled()));
        chart
            .draw_series(
                self.pareto
                    .iter()
                    .map(|m| Circle::new((m.x, m.y), 6, FRONT_RED.filled())),
            )?
            .label("Pareto-optimal (labelled)")
            .legend(|(x, y)| Circle::new((x + 10, y), 6, FRONT_RED.filled()));
        let label_style = TextStyle::from((self.font, 13).into_font()).color(&BLACK);
        for (k, m) in self.pareto.iter().take(MAX_LABELS).enumerate() {
            // Alternate above and below the point so neighbours' labels overlap less.
            let dy = if k % 2 == 0 { -20 } else { 8 };
            chart.draw_series(std::iter::once(
                EmptyElement::at((m.x, m.y)) + Text::new(m.label.clone(), (9, dy), label_style.clone()),
            ))?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK.mix(0.3))
            .label_font((self.font, 14))
            .draw()?;
        Ok(())
    }
}

/// An axis tick label: up to 3 significant decimals, trailing zeros dropped.
fn fmt_axis(v: f64) -> String {
    let s = fmt6(v);
    match s.split_once('.') {
        Some((i, d)) if d.len() > 3 => {
            let t = format!("{i}.{}", &d[..3]);
            t.trim_end_matches('0').trim_end_matches('.').to_string()
        }
        _ => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(metrics: &[&str]) -> Layout {
        Layout {
            parameters: vec!["HorizontalPodAutoscaler/api:spec.metrics[0].resource.target.averageUtilization".into()],
            metrics: metrics.iter().map(|m| m.to_string()).collect(),
            seeds: vec![1, 2],
            points: 4,
            fingerprint: "0".into(),
        }
    }

    fn points() -> Vec<PointResult> {
        // (cost, p95) per seed: point means (10, 100), (12, 60), (14, 80) dominated, (20, 30).
        let runs = [
            [(9.0, 90.0), (11.0, 110.0)],
            [(12.0, 55.0), (12.0, 65.0)],
            [(14.0, 80.0), (14.0, 80.0)],
            [(19.0, 31.0), (21.0, 29.0)],
        ];
        runs.iter()
            .enumerate()
            .map(|(i, r)| PointResult {
                point: i,
                values: vec![format!("{}", 50 + 10 * i)],
                runs: r.iter().map(|&(c, p)| vec![p, c]).collect(),
            })
            .collect()
    }

    #[test]
    fn spans() {
        // (values, range): 8 % margin of the spread; floor at 0 for non-negative data.
        let cases: &[(&[f64], (f64, f64))] = &[
            (&[10.0, 20.0], (9.2, 20.8)),
            (&[0.0, 100.0], (0.0, 108.0)),
            (&[0.0], (0.0, 0.1)),
            (&[-10.0, 10.0], (-11.6, 11.6)),
            (&[5.0, f64::NAN], (4.5, 5.5)),
            (&[], (0.0, 1.0)),
        ];
        for (v, want) in cases {
            let got = span(v.iter().copied());
            assert!(
                (got.0 - want.0).abs() < 1e-9 && (got.1 - want.1).abs() < 1e-9,
                "{v:?}: {got:?}"
            );
        }
    }

    #[test]
    fn axes_and_names() {
        assert_eq!(axes(&layout(&["pending_p95_s", "cost_usd"])), Some((1, 0)));
        assert_eq!(
            axes(&layout(&["pending_p95_s@api", "cost_usd", "pending_p95_s"])),
            Some((1, 2))
        );
        assert_eq!(axes(&layout(&["pending_p95_s@api", "cost_usd"])), Some((1, 0)));
        assert_eq!(axes(&layout(&["pending_p95_s"])), None);
        assert_eq!(
            short_name("HorizontalPodAutoscaler/api:spec.metrics[0].resource.target.averageUtilization"),
            "averageUtilization"
        );
        assert_eq!(
            short_name("Scenario:spec.provisioner.clusterAutoscaler.args[1]"),
            "args[1]"
        );
        assert_eq!(short_name("target"), "target");
        assert_eq!(fmt_axis(12.345678), "12.345");
        assert_eq!(fmt_axis(12.0), "12");
    }

    #[test]
    fn renders_the_frontier_deterministically() {
        let l = layout(&["pending_p95_s", "cost_usd"]);
        let a = render_frontier(&l, &points()).unwrap().unwrap();
        let b = render_frontier(&l, &points()).unwrap().unwrap();
        assert_eq!(a, b);
        assert!(a.png.starts_with(b"\x89PNG"));
        // The three Pareto points are labelled; the dominated one (70) is not.
        for label in [
            "averageUtilization=50",
            "averageUtilization=60",
            "averageUtilization=80",
        ] {
            assert!(a.svg.contains(label), "{label} missing");
        }
        assert!(!a.svg.contains("averageUtilization=70"));
        assert!(a.svg.contains("3 Pareto-optimal"));
        // Without a cost metric there is no chart.
        assert_eq!(render_frontier(&layout(&["pending_p95_s"]), &points()).unwrap(), None);
    }
}
