//! Charts for people: PNG and SVG pages drawn with plotters.
//!
//! A run writes these pages:
//! - `timeline.png` / `timeline.svg`: four panels sharing one time axis (h:mm since the start):
//!   demand vs served capacity (req/s), replicas (desired, ready, starting, Pending), nodes by
//!   pool and state, and the cost rate ($/h);
//! - `pending-cdf.png` / `pending-cdf.svg`: the share of pods scheduled within x seconds, one line
//!   per workload;
//! - `pending-waterfall.png` / `.svg` ([`super::waterfall`]): where the time to Ready went.
//!
//! Text is drawn with DejaVu Sans, bundled in the binary (`assets/fonts/`, licence alongside) and
//! registered with plotters' `ab_glyph` font table under the generic family `sans-serif`, so PNGs
//! render the same on a machine with no system fonts; SVGs name the same family.
//!
//! Every series name has one colour wherever it appears ([`series_color`]); workloads, pools and
//! compare variants take [`palette_color`] by their position, which is stable for a given run.
//! Pages are rendered in memory and written with [`atomic_write`].

use super::files::{OutputError, atomic_write};
use crate::sim::SimResult;
use crate::sim::record::PodRecord;
use plotters::coord::Shift;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The font family every chart uses; the bundled DejaVu Sans is registered under it.
pub const FONT: &str = "sans-serif";

static DEJAVU_SANS: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

/// Size of the timeline page, pixels.
pub const TIMELINE_SIZE: (u32, u32) = (1400, 1500);
/// Size of the CDF page, pixels.
pub const CDF_SIZE: (u32, u32) = (1200, 700);
/// Width of the legend column to the right of each panel.
const LEGEND_W: u32 = 290;
/// The CDF is drawn through at most this many steps (quantiles beyond that add nothing visible).
const CDF_MAX_STEPS: usize = 1000;
/// How many workloads a CDF page shows at most (the largest by requests).
pub const CDF_MAX_WORKLOADS: usize = 6;

#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    #[error("the bundled font {0} could not be loaded")]
    Font(&'static str),
    #[error("chart {chart}: drawing failed: {message}")]
    Draw { chart: String, message: String },
    #[error("chart {chart}: PNG encoding failed: {message}")]
    Png { chart: String, message: String },
    #[error(transparent)]
    Output(#[from] OutputError),
}

/// Registers the bundled font once per process and returns its family name (every chart, the
/// sweep frontier included, draws with it).
pub fn ensure_font() -> Result<&'static str, ChartError> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| plotters::style::register_font(FONT, FontStyle::Normal, DEJAVU_SANS).is_ok());
    if ok {
        Ok(FONT)
    } else {
        Err(ChartError::Font("DejaVuSans.ttf"))
    }
}

/// How a series' line is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineKind {
    Solid,
    Dashed,
    Dotted,
}

/// One line on a chart.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    pub label: String,
    pub color: RGBColor,
    pub kind: LineKind,
    pub width: u32,
    pub points: Vec<(f64, f64)>,
}

impl Series {
    pub fn new(label: impl Into<String>, color: RGBColor, kind: LineKind, points: Vec<(f64, f64)>) -> Series {
        Series {
            label: label.into(),
            color,
            kind,
            width: 2,
            points,
        }
    }
}

/// One panel of a time page: a title (with its unit) and its lines.
#[derive(Clone, Debug, PartialEq)]
pub struct Panel {
    pub title: String,
    pub series: Vec<Series>,
    /// Counts (pods, nodes): y ticks on whole numbers.
    pub integer: bool,
}

/// A page rendered in memory in both formats.
#[derive(Clone, Debug, PartialEq)]
pub struct Rendered {
    pub png: Vec<u8>,
    pub svg: String,
}

/// The colour of a named series, the same on every chart. Names not listed get a neutral grey;
/// workloads, pools and variants use [`palette_color`].
pub fn series_color(name: &str) -> RGBColor {
    match name {
        // Grey and drawn wide under the served line: where both agree it shows as a halo.
        "demand" => RGBColor(140, 140, 140),
        "served" => RGBColor(31, 119, 180),
        "capacity" => RGBColor(23, 190, 207),
        "desired" => RGBColor(255, 127, 14),
        "ready" => RGBColor(148, 103, 189),
        "starting" => RGBColor(188, 189, 34),
        "pending" => RGBColor(214, 39, 40),
        "cost rate" => RGBColor(44, 160, 44),
        "all nodes" => RGBColor(51, 51, 51),
        _ => RGBColor(127, 127, 127),
    }
}

/// The i-th colour of the categorical palette (Tableau 10), for workloads, pools and variants.
pub fn palette_color(i: usize) -> RGBColor {
    const P: [RGBColor; 10] = [
        RGBColor(31, 119, 180),
        RGBColor(255, 127, 14),
        RGBColor(44, 160, 44),
        RGBColor(214, 39, 40),
        RGBColor(148, 103, 189),
        RGBColor(140, 86, 75),
        RGBColor(227, 119, 194),
        RGBColor(127, 127, 127),
        RGBColor(188, 189, 34),
        RGBColor(23, 190, 207),
    ];
    P[i % P.len()]
}

/// `h:mm` for a number of seconds since the start.
pub fn hmm(secs: f64) -> String {
    let m = (secs.max(0.0) / 60.0).round() as u64;
    format!("{}:{:02}", m / 60, m % 60)
}

/// A tick spacing giving at most about ten labels over `duration_s`.
fn time_step(duration_s: f64) -> f64 {
    const STEPS: [f64; 14] = [
        60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0, 7200.0, 10800.0, 21600.0, 43200.0, 86400.0, 172800.0,
        604800.0,
    ];
    STEPS
        .iter()
        .copied()
        .find(|s| duration_s / s <= 10.0)
        .unwrap_or(604800.0 * (duration_s / 604800.0 / 10.0).ceil())
}

/// A number for an axis label: at most two decimals, trailing zeros dropped.
fn num(x: f64) -> String {
    let s = format!("{x:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.to_string() }
}

fn y_max(series: &[Series]) -> f64 {
    let m = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.1))
        .filter(|y| y.is_finite())
        .fold(0.0f64, f64::max);
    if m > 0.0 { m * 1.08 } else { 1.0 }
}

/// A tick spacing of 1, 2, 2.5 or 5 times a power of ten giving about six ticks up to `max`
/// (whole numbers only when `integer`).
fn nice_step(max: f64, integer: bool) -> f64 {
    let raw = (max / 6.0).max(f64::MIN_POSITIVE);
    let mag = 10f64.powf(raw.log10().floor());
    let mults: &[f64] = if integer {
        &[1.0, 2.0, 5.0, 10.0]
    } else {
        &[1.0, 2.0, 2.5, 5.0, 10.0]
    };
    let step = mults.iter().map(|m| m * mag).find(|s| *s >= raw).unwrap_or(10.0 * mag);
    if integer { step.round().max(1.0) } else { step }
}

/// A linear axis from 0 to `max` with bold ticks at multiples of a step: value axes step by
/// [`nice_step`], time axes (seconds) by [`time_step`] so labels fall on whole time steps.
struct LinearAxis {
    max: f64,
    ticks: Vec<f64>,
}

impl LinearAxis {
    fn with_step(max: f64, step: f64) -> LinearAxis {
        let ticks = (0..)
            .map(|k| f64::from(k) * step)
            .take_while(|t| *t <= max + 1e-9)
            .collect();
        LinearAxis { max, ticks }
    }

    fn value(max: f64, integer: bool) -> LinearAxis {
        Self::with_step(max, nice_step(max, integer))
    }

    fn time(duration_s: f64) -> LinearAxis {
        let max = if duration_s > 0.0 { duration_s } else { 1.0 };
        Self::with_step(max, time_step(max))
    }
}

impl Ranged for LinearAxis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let share = value / self.max;
        limit.0 + (f64::from(limit.1 - limit.0) * share).round() as i32
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        // Light (minor) grid lines are not drawn: bold ticks only.
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        0.0..self.max
    }
}

type DrawResult<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// How wide solid lines are joined at their vertices.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Joins {
    /// The backend's own joins (SVG: the viewer's, with a miter limit).
    Backend,
    /// Each segment drawn alone, with a dot at every vertex of lines 3 px or wider. plotters'
    /// bitmap backend joins wide polylines with unlimited miters, which turn every sharp turn of
    /// a noisy series into a long spike.
    Round,
}

/// A page that can be drawn on any plotters backend.
trait Page {
    /// `joins`: how wide solid lines are joined (see [`Joins`]).
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, joins: Joins) -> DrawResult<DB>;
}

/// Draws `page` into a PNG and an SVG in memory.
fn render<P: Page>(chart: &str, size: (u32, u32), page: &P) -> Result<Rendered, ChartError> {
    ensure_font().map(|_| ())?;
    let draw_err = |message: String| ChartError::Draw {
        chart: chart.to_string(),
        message,
    };
    let mut rgb = vec![0u8; size.0 as usize * size.1 as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, size).into_drawing_area();
        page.draw(&root, Joins::Round).map_err(|e| draw_err(e.to_string()))?;
        root.present().map_err(|e| draw_err(e.to_string()))?;
    }
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        page.draw(&root, Joins::Backend).map_err(|e| draw_err(e.to_string()))?;
        root.present().map_err(|e| draw_err(e.to_string()))?;
    }
    let png = encode_png(&rgb, size).map_err(|e| ChartError::Png {
        chart: chart.to_string(),
        message: e.to_string(),
    })?;
    Ok(Rendered { png, svg })
}

/// An RGB buffer of `size` pixels as PNG bytes (encoded in memory so the file goes through the
/// atomic writer).
pub(crate) fn encode_png(rgb: &[u8], size: (u32, u32)) -> Result<Vec<u8>, png::EncodingError> {
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, size.0, size.1);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    let mut w = enc.write_header()?;
    w.write_image_data(rgb)?;
    w.finish()?;
    Ok(out)
}

/// Writes `<stem>.png` and `<stem>.svg` into `dir`.
pub fn write_rendered(dir: &Path, stem: &str, r: &Rendered) -> Result<Vec<PathBuf>, ChartError> {
    Ok(write_png_svg(dir, stem, r)?)
}

/// [`write_rendered`] with the output error (for callers that report file errors themselves).
pub(crate) fn write_png_svg(dir: &Path, stem: &str, r: &Rendered) -> Result<Vec<PathBuf>, OutputError> {
    let png = dir.join(format!("{stem}.png"));
    let svg = dir.join(format!("{stem}.svg"));
    atomic_write(&png, &r.png)?;
    atomic_write(&svg, r.svg.as_bytes())?;
    Ok(vec![png, svg])
}

fn draw_line<DB: DrawingBackend, CT: CoordTranslate<From = (f64, f64)>>(
    chart: &mut ChartContext<'_, DB, CT>,
    s: &Series,
    joins: Joins,
) -> DrawResult<DB> {
    let style = s.color.stroke_width(s.width);
    // Infinite or undefined values (capacity with no CPU limit, 0 × ∞) are not drawn.
    let pts: Vec<(f64, f64)> = s
        .points
        .iter()
        .copied()
        .filter(|p| p.0.is_finite() && p.1.is_finite())
        .collect();
    match s.kind {
        LineKind::Solid if joins == Joins::Round && s.width >= 2 => {
            chart.draw_series(pts.windows(2).map(|w| PathElement::new(vec![w[0], w[1]], style)))?;
            if s.width >= 3 {
                let dot = s.color.filled();
                chart.draw_series(pts.iter().map(|p| Circle::new(*p, s.width / 2, dot)))?;
            }
            Ok(())
        }
        LineKind::Solid => chart.draw_series(LineSeries::new(pts, style)).map(|_| ()),
        LineKind::Dashed => chart.draw_series(DashedLineSeries::new(pts, 9, 5, style)).map(|_| ()),
        LineKind::Dotted => chart.draw_series(DashedLineSeries::new(pts, 2, 4, style)).map(|_| ()),
    }
}

/// Draws a legend (a line sample and the label per series) down a column.
fn draw_legend<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, series: &[Series], top: i32) -> DrawResult<DB> {
    for (j, s) in series.iter().enumerate() {
        let y = top + 20 * j as i32;
        let style = s.color.stroke_width(s.width.max(2));
        let seg = vec![(6, y), (38, y)];
        match s.kind {
            LineKind::Solid => area.draw(&PathElement::new(seg, style))?,
            LineKind::Dashed => area.draw(&DashedPathElement::new(seg, 9, 5, style))?,
            LineKind::Dotted => area.draw(&DashedPathElement::new(seg, 2, 4, style))?,
        }
        area.draw(&Text::new(
            s.label.clone(),
            (46, y - 8),
            (FONT, 14).into_font().color(&BLACK),
        ))?;
    }
    Ok(())
}

/// Panels stacked over one shared time axis.
struct TimePage<'a> {
    title: &'a str,
    duration_s: f64,
    panels: &'a [Panel],
}

impl Page for TimePage<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, joins: Joins) -> DrawResult<DB> {
        root.fill(&WHITE)?;
        let body = root
            .margin(10, 0, 0, 0)
            .titled(self.title, (FONT, 26).into_font().color(&BLACK))?;
        let n = self.panels.len().max(1);
        let rows = body.split_evenly((n, 1));
        for (i, (area, panel)) in rows.iter().zip(self.panels).enumerate() {
            let last = i + 1 == n;
            let width = area.dim_in_pixel().0;
            let (plot, legend) = area.split_horizontally(width.saturating_sub(LEGEND_W));
            let mut chart = ChartBuilder::on(&plot)
                .caption(&panel.title, (FONT, 18).into_font().color(&BLACK))
                .margin_left(12)
                .margin_right(16)
                .margin_top(6)
                .margin_bottom(6)
                .x_label_area_size(if last { 48 } else { 26 })
                .y_label_area_size(72)
                .build_cartesian_2d(
                    LinearAxis::time(self.duration_s),
                    LinearAxis::value(y_max(&panel.series), panel.integer),
                )?;
            let x_desc = if last { "time since start (h:mm)" } else { "" };
            chart
                .configure_mesh()
                .x_label_formatter(&|x| hmm(*x))
                .y_label_formatter(&|y| num(*y))
                .x_desc(x_desc)
                .label_style((FONT, 13).into_font().color(&BLACK))
                .axis_desc_style((FONT, 14).into_font().color(&BLACK))
                .bold_line_style(BLACK.mix(0.12))
                .light_line_style(TRANSPARENT)
                .draw()?;
            for s in &panel.series {
                draw_line(&mut chart, s, joins)?;
            }
            draw_legend(&legend, &panel.series, 44)?;
        }
        Ok(())
    }
}

/// Cumulative distributions over seconds.
struct CdfPage<'a> {
    title: &'a str,
    series: &'a [Series],
    note: Option<&'a str>,
}

impl Page for CdfPage<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, joins: Joins) -> DrawResult<DB> {
        root.fill(&WHITE)?;
        let body = root
            .margin(10, 0, 0, 0)
            .titled(self.title, (FONT, 24).into_font().color(&BLACK))?;
        let width = body.dim_in_pixel().0;
        let (plot, legend) = body.split_horizontally(width.saturating_sub(LEGEND_W + 60));
        let x_max = self
            .series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.0))
            .filter(|x| x.is_finite())
            .fold(0.0f64, f64::max);
        let x_max = if x_max > 0.0 { x_max * 1.05 } else { 1.0 };
        let mut chart = ChartBuilder::on(&plot)
            .caption(
                "share of pods scheduled within x seconds of creation",
                (FONT, 16).into_font().color(&BLACK),
            )
            .margin(16)
            .x_label_area_size(50)
            .y_label_area_size(72)
            .build_cartesian_2d(0f64..x_max, 0f64..1.02)?;
        chart
            .configure_mesh()
            .x_desc("time Pending (s)")
            .y_desc("share of pods")
            .x_label_formatter(&|x| num(*x))
            .y_label_formatter(&|y| format!("{:.0}%", 100.0 * y))
            .label_style((FONT, 13).into_font().color(&BLACK))
            .axis_desc_style((FONT, 14).into_font().color(&BLACK))
            .bold_line_style(BLACK.mix(0.12))
            .light_line_style(TRANSPARENT)
            .draw()?;
        for s in self.series {
            // Carry each line at its final share to the right edge.
            let mut s = s.clone();
            if let Some(&(x, y)) = s.points.last() {
                s.points.push((x.max(x_max), y));
            }
            draw_line(&mut chart, &s, joins)?;
        }
        draw_legend(&legend, self.series, 60)?;
        if let Some(note) = self.note {
            legend.draw(&Text::new(
                note.to_string(),
                (6, 60 + 20 * self.series.len() as i32 + 10),
                (FONT, 13).into_font().color(&BLACK),
            ))?;
        }
        Ok(())
    }
}

/// Renders panels stacked over a shared time axis from 0 to `duration_s`.
pub fn render_time_panels(chart: &str, title: &str, duration_s: f64, panels: &[Panel]) -> Result<Rendered, ChartError> {
    let page = TimePage {
        title,
        duration_s,
        panels,
    };
    render(chart, TIMELINE_SIZE, &page)
}

/// Renders CDF lines (x in seconds, y a share from 0 to 1); `note` is printed under the legend.
pub fn render_cdf(chart: &str, title: &str, series: &[Series], note: Option<&str>) -> Result<Rendered, ChartError> {
    let page = CdfPage { title, series, note };
    render(chart, CDF_SIZE, &page)
}

/// The empirical CDF of `values` as a step line: (x, share of values ≤ x), starting at (0, 0).
/// Large samples are drawn through at most [`CDF_MAX_STEPS`] quantiles (the last is the maximum).
pub fn cdf_points(values: &[f64]) -> Vec<(f64, f64)> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return Vec::new();
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    // Ranks (1-based) at which to draw a step.
    let ranks: Vec<usize> = if n <= CDF_MAX_STEPS {
        (1..=n).collect()
    } else {
        (1..=CDF_MAX_STEPS).map(|j| (j * n).div_ceil(CDF_MAX_STEPS)).collect()
    };
    let mut pts = vec![(0.0f64.min(v[0]), 0.0)];
    let mut prev_share = 0.0;
    for k in ranks {
        let x = v[k - 1];
        let share = k as f64 / n as f64;
        pts.push((x, prev_share));
        pts.push((x, share));
        prev_share = share;
    }
    pts
}

/// Pending seconds of a workload's pods, counted as the summary counts them: pods that were
/// scheduled, or are still Pending at the end (their wait so far).
pub fn pending_seconds<'a>(pods: &'a [PodRecord], workload: &'a str) -> impl Iterator<Item = f64> + 'a {
    pods.iter()
        .filter(move |p| p.workload == workload && (p.scheduled_s.is_some() || p.state_at_end == "Pending"))
        .map(|p| p.pending_s)
}

/// The workloads a run's charts plot: Deployments that received traffic, in document order (all
/// Deployments when none did).
pub fn plotted_workloads(r: &SimResult) -> Vec<usize> {
    let with_traffic: Vec<usize> = r
        .summary
        .workloads
        .iter()
        .filter(|w| w.requests_total > 0.0)
        .filter_map(|w| r.workload_names.iter().position(|n| *n == w.name))
        .collect();
    if !with_traffic.is_empty() {
        return with_traffic;
    }
    r.summary
        .workloads
        .iter()
        .filter_map(|w| r.workload_names.iter().position(|n| *n == w.name))
        .collect()
}

/// Per-sample sums over the plotted workloads.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Totals {
    pub time_s: f64,
    pub demand: f64,
    pub served: f64,
    pub capacity: f64,
    pub desired: f64,
    pub ready: f64,
    pub starting: f64,
    pub pending: f64,
}

/// Sums the timeline of the given workloads at each sample instant, in time order.
pub fn totals(r: &SimResult, workloads: &[usize]) -> Vec<Totals> {
    let mut by_time: BTreeMap<u64, Totals> = BTreeMap::new();
    for row in &r.timeline {
        if !workloads.contains(&(row.workload as usize)) {
            continue;
        }
        let t = by_time.entry(row.time.as_millis()).or_insert_with(|| Totals {
            time_s: row.time.as_secs_f64(),
            ..Totals::default()
        });
        t.demand += row.demand_rps;
        t.served += row.served_rps;
        t.capacity += row.capacity_rps;
        t.desired += f64::from(row.desired);
        t.ready += f64::from(row.ready);
        t.starting += f64::from(row.starting);
        t.pending += f64::from(row.pending);
    }
    by_time.into_values().collect()
}

/// Says which workloads a panel shows: the one name, or "sum of N workloads".
pub fn workload_scope(r: &SimResult, workloads: &[usize]) -> String {
    match workloads {
        [one] => r.workload_names.get(*one).cloned().unwrap_or_default(),
        many => format!("sum of {} workloads", many.len()),
    }
}

/// Reads one state's node count from a pool sample.
type PoolField = fn(&crate::sim::record::PoolCount) -> u32;

/// Pools in name order, and every state series that was ever non-zero.
fn node_series(r: &SimResult) -> Vec<Series> {
    let mut pools: Vec<&str> = r
        .cluster_timeline
        .iter()
        .flat_map(|c| c.pools.iter().map(|p| p.pool.as_str()))
        .collect();
    pools.sort_unstable();
    pools.dedup();
    let mut out = Vec::new();
    for (pi, pool) in pools.iter().enumerate() {
        let color = palette_color(pi);
        let states: [(&str, LineKind, PoolField); 3] = [
            ("ready", LineKind::Solid, |p| p.ready),
            ("upcoming", LineKind::Dashed, |p| p.upcoming),
            ("leaving", LineKind::Dotted, |p| p.leaving),
        ];
        for (state, kind, get) in states {
            let points: Vec<(f64, f64)> = r
                .cluster_timeline
                .iter()
                .map(|c| {
                    let v = c.pools.iter().find(|p| p.pool == *pool).map(get).unwrap_or(0);
                    (c.time.as_secs_f64(), f64::from(v))
                })
                .collect();
            if state == "ready" || points.iter().any(|p| p.1 > 0.0) {
                out.push(Series::new(format!("{pool} {state}"), color, kind, points));
            }
        }
    }
    if pools.len() > 1 {
        let points = r
            .cluster_timeline
            .iter()
            .map(|c| {
                let all: u32 = c.pools.iter().map(|p| p.ready + p.upcoming + p.leaving).sum();
                (c.time.as_secs_f64(), f64::from(all))
            })
            .collect();
        out.push(Series {
            width: 1,
            ..Series::new("all nodes", series_color("all nodes"), LineKind::Solid, points)
        });
    }
    out
}

/// The four panels of a run's timeline page.
pub fn run_panels(r: &SimResult) -> Vec<Panel> {
    let wl = plotted_workloads(r);
    let scope = workload_scope(r, &wl);
    let t = totals(r, &wl);
    let line = |name: &str, kind: LineKind, get: fn(&Totals) -> f64| {
        Series::new(
            name,
            series_color(name),
            kind,
            t.iter().map(|x| (x.time_s, get(x))).collect(),
        )
    };
    let cost_points: Vec<(f64, f64)> = r
        .cluster_timeline
        .iter()
        .map(|c| (c.time.as_secs_f64(), c.cost_rate_hr))
        .collect();
    vec![
        Panel {
            title: format!("Demand vs served capacity (req/s) — {scope}"),
            series: vec![
                Series {
                    width: 5,
                    ..line("demand", LineKind::Solid, |x| x.demand)
                },
                line("served", LineKind::Solid, |x| x.served),
                Series {
                    width: 1,
                    ..line("capacity", LineKind::Dashed, |x| x.capacity)
                },
            ],
            integer: false,
        },
        latency_panel(r, &wl),
        Panel {
            title: format!("Replicas (pods) — {scope}"),
            series: vec![
                line("desired", LineKind::Solid, |x| x.desired),
                line("ready", LineKind::Solid, |x| x.ready),
                line("starting", LineKind::Dashed, |x| x.starting),
                line("pending", LineKind::Solid, |x| x.pending),
            ],
            integer: true,
        },
        Panel {
            title: "Nodes by pool and state (nodes)".to_string(),
            series: node_series(r),
            integer: true,
        },
        Panel {
            title: "Cost rate ($/h)".to_string(),
            series: vec![Series::new(
                format!("cost rate (total ${:.2})", r.summary.cluster.cost_total_usd),
                series_color("cost rate"),
                LineKind::Solid,
                cost_points,
            )],
            integer: false,
        },
    ]
}

/// Request latency p50/p95/p99 over time of the plotted workload with the most requests (a
/// percentile is not a sum over workloads); gaps where it served nothing.
fn latency_panel(r: &SimResult, plotted: &[usize]) -> Panel {
    let busiest = plotted.iter().copied().max_by(|&a, &b| {
        let req = |i: usize| {
            r.summary
                .workloads
                .iter()
                .find(|w| w.name == r.workload_names[i])
                .map_or(0.0, |w| w.requests_total)
        };
        req(a).total_cmp(&req(b)).then(b.cmp(&a))
    });
    let name = busiest.map_or("", |i| r.workload_names[i].as_str());
    let series = ["p50", "p95", "p99"]
        .iter()
        .enumerate()
        .map(|(k, label)| {
            let points = r
                .timeline
                .iter()
                .filter(|row| Some(row.workload as usize) == busiest)
                .filter_map(|row| row.latency_ms.map(|l| (row.time.as_secs_f64(), l[k])))
                .collect();
            Series::new(*label, palette_color(k), LineKind::Solid, points)
        })
        .collect();
    Panel {
        title: format!("Request latency (ms) — {name}"),
        series,
        integer: false,
    }
}

/// The CDF lines of a run: the [`CDF_MAX_WORKLOADS`] Deployments with the most requests (then
/// most pods, then name), each in its document-order palette colour. The note says when some
/// were left out.
pub fn run_cdf_series(r: &SimResult) -> (Vec<Series>, Option<String>) {
    let mut ranked: Vec<(usize, &crate::sim::record::WorkloadSummary)> =
        r.summary.workloads.iter().enumerate().collect();
    ranked.sort_by(|a, b| {
        b.1.requests_total
            .total_cmp(&a.1.requests_total)
            .then(b.1.pods_created.cmp(&a.1.pods_created))
            .then(a.1.name.cmp(&b.1.name))
    });
    let left_out = ranked.len().saturating_sub(CDF_MAX_WORKLOADS);
    ranked.truncate(CDF_MAX_WORKLOADS);
    ranked.sort_by_key(|(i, _)| *i);
    let series = ranked
        .into_iter()
        .map(|(i, w)| {
            let v: Vec<f64> = pending_seconds(&r.pods, &w.name).collect();
            let label = format!(
                "{} (n={}, p50 {:.0}s, p95 {:.0}s{})",
                w.name,
                v.len(),
                w.pending.p50,
                w.pending.p95,
                super::compare::still_note(w.pods_pending_at_end)
            );
            Series::new(label, palette_color(i), LineKind::Solid, cdf_points(&v))
        })
        .collect();
    let note = (left_out > 0).then(|| format!("top {CDF_MAX_WORKLOADS} by requests; {left_out} more not shown"));
    (series, note)
}

/// Writes `timeline.png`, `timeline.svg`, `pending-cdf.png`, `pending-cdf.svg` and, when some
/// pod waited, `pending-waterfall.png`/`.svg` into `dir`. Every page is rendered before
/// anything is written.
pub fn write_run_charts(dir: &Path, r: &SimResult, title: &str) -> Result<Vec<PathBuf>, ChartError> {
    let timeline = render_time_panels(
        "timeline",
        &format!("{title} — timeline"),
        r.summary.duration_s,
        &run_panels(r),
    )?;
    let (series, note) = run_cdf_series(r);
    let cdf = render_cdf(
        "pending-cdf",
        &format!("{title} — Pending time CDF"),
        &series,
        note.as_deref(),
    )?;
    let waterfall = super::waterfall::render(
        &format!("{title} — where the time to Ready went"),
        &super::waterfall::rows(r),
    )?;
    let mut written = write_rendered(dir, "timeline", &timeline)?;
    written.extend(write_rendered(dir, "pending-cdf", &cdf)?);
    if let Some(w) = &waterfall {
        written.extend(write_rendered(dir, "pending-waterfall", w)?);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmm_formats_minutes() {
        // (seconds, label): 90 s rounds to 0:02; 3 h 5 min = 11100 s.
        for (s, want) in [
            (0.0, "0:00"),
            (90.0, "0:02"),
            (1800.0, "0:30"),
            (11100.0, "3:05"),
            (90000.0, "25:00"),
        ] {
            assert_eq!(hmm(s), want, "{s}");
        }
    }

    #[test]
    fn time_step_keeps_ten_labels_or_fewer() {
        // 2 h = 7200 s: 600 s gives 12 labels, 900 s gives 8 → 900.
        for (d, want) in [(300.0, 60.0), (7200.0, 900.0), (10800.0, 1800.0), (86400.0, 10800.0)] {
            assert_eq!(time_step(d), want, "{d}");
        }
    }

    #[test]
    fn cdf_steps_through_every_value() {
        // Values 0, 10, 10, 30: steps at 0 (¼), 10 (¾: two pods), 30 (1).
        let p = cdf_points(&[10.0, 0.0, 30.0, 10.0]);
        assert_eq!(
            p,
            vec![
                (0.0, 0.0),
                (0.0, 0.0),
                (0.0, 0.25),
                (10.0, 0.25),
                (10.0, 0.5),
                (10.0, 0.5),
                (10.0, 0.75),
                (30.0, 0.75),
                (30.0, 1.0)
            ]
        );
        assert!(cdf_points(&[]).is_empty());
    }

    #[test]
    fn cdf_of_large_sample_is_capped_and_ends_at_max() {
        let v: Vec<f64> = (0..10_000).map(f64::from).collect();
        let p = cdf_points(&v);
        assert_eq!(p.len(), 1 + 2 * CDF_MAX_STEPS);
        assert_eq!(p.last(), Some(&(9999.0, 1.0)));
        // The 500th step is rank 5000 → value 4999, share 0.5.
        assert_eq!(p[2 * 500], (4999.0, 0.5));
    }

    #[test]
    fn nice_steps() {
        // max/6 rounded up to 1, 2, 2.5 or 5 × 10^k; counts skip 2.5.
        for (max, integer, want) in [
            (2.16, true, 1.0),
            (10.8, true, 2.0),
            (13.0, false, 2.5),
            (13.0, true, 5.0),
            (2700.0, false, 500.0),
            (0.62, false, 0.2),
            (1.0, true, 1.0),
        ] {
            assert_eq!(nice_step(max, integer), want, "{max} {integer}");
        }
    }

    #[test]
    fn num_trims() {
        for (x, want) in [
            (0.0, "0"),
            (2.5, "2.5"),
            (0.25, "0.25"),
            (1600.0, "1600"),
            (-0.0001, "0"),
        ] {
            assert_eq!(num(x), want);
        }
    }
}
