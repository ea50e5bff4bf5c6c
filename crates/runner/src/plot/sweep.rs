//! The figure of a sweep folder: `engram plot DIR --metric NAME` writes `DIR/<NAME>.png`
//! (`.svg`, `.pdf` with `--format`).
//!
//! The metric is averaged over the repeats of each grid position (failed points left
//! out). Dimensions with one step are fixed; of the others:
//!
//! - one varies: a line plot of the mean against its values (a numeric axis, logarithmic
//!   for a `logspace` axis; one tick per value otherwise), with the min-max range over
//!   repeats shaded and every repeat drawn as a dot (for a `[sample]`, only the dots and
//!   the means);
//! - two vary: a heatmap of the mean, the first on x, the second on y (one cell per
//!   value, labelled with it), each cell annotated with its mean when there is room, a
//!   colour bar beside it, labelled with the metric's name and unit (logarithmic with
//!   `--log`, which needs every mean above 0); cells without a finished point are grey;
//! - more than two: an error naming them.
//!
//! Axes are titled with the full name and unit of the field they set and of the metric
//! ([`super::labels`]), not with dotted paths.

use std::path::{Path, PathBuf};

use engram_config::Value;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{
    Area, Figure, PlotError, PlotOptions, Style, create_dir, input, labels, register_font, render,
    render_err,
};
use crate::sweep::store::{Manifest, ManifestDimension};
use crate::sweep::summary::{self, Status, metric_names};

/// Default width of a sweep figure (pixels).
pub const SWEEP_WIDTH: u32 = 1200;

/// Default height of a sweep figure (pixels).
pub const SWEEP_HEIGHT: u32 = 800;

/// Height of the title area at the default font size.
const TITLE_H: u32 = 66;

/// Mean, spread and values of a metric at one grid position.
#[derive(Debug, Clone, PartialEq)]
struct Cell {
    values: Vec<f64>,
}

impl Cell {
    fn mean(&self) -> Option<f64> {
        (!self.values.is_empty())
            .then(|| self.values.iter().sum::<f64>() / self.values.len() as f64)
    }
    fn min(&self) -> f64 {
        self.values.iter().copied().fold(f64::INFINITY, f64::min)
    }
    fn max(&self) -> f64 {
        self.values
            .iter()
            .copied()
            .fold(f64::NEG_INFINITY, f64::max)
    }
}

/// Draws `metric` of the sweep in `dir` into `<out or dir>/<metric>.<format>`; returns
/// its path.
pub fn plot_sweep(
    dir: &Path,
    out: Option<&Path>,
    metric: Option<&str>,
    opts: &PlotOptions,
) -> Result<PathBuf, PlotError> {
    opts.check()?;
    let manifest = Manifest::read(dir).map_err(|e| match e {
        crate::sweep::SweepError::File(f) => PlotError::File(f),
        e => input(e.to_string()),
    })?;
    let layout = manifest.layout(dir);
    let all: Vec<usize> = (0..manifest.points.len()).collect();
    let rows = summary::rows(&manifest, &layout, &all);
    let names = metric_names(&rows);
    let list = || {
        if names.is_empty() {
            "none yet: no point is done".to_string()
        } else {
            names.join(", ")
        }
    };
    let Some(metric) = metric else {
        return Err(input(format!(
            "{} is a sweep folder: say which metric to draw with --metric NAME; it has {}",
            dir.display(),
            list()
        )));
    };
    if !names.iter().any(|n| n == metric) {
        return Err(input(format!(
            "--metric {metric}: not in the summary of {}; it has {}",
            dir.display(),
            list()
        )));
    }
    let varying: Vec<usize> = (0..manifest.dimensions.len())
        .filter(|&d| manifest.dimensions[d].values.len() > 1)
        .collect();
    if varying.is_empty() || varying.len() > 2 {
        let labels: Vec<String> = varying
            .iter()
            .map(|&d| label(&manifest.dimensions[d]))
            .collect();
        return Err(input(format!(
            "{}: a figure needs one or two varying axes; this sweep has {}{}",
            dir.display(),
            varying.len(),
            if labels.is_empty() {
                String::new()
            } else {
                format!(" ({})", labels.join(", "))
            }
        )));
    }
    // Cells indexed by the steps of the varying dimensions.
    let shape: Vec<usize> = varying
        .iter()
        .map(|&d| manifest.dimensions[d].values.len())
        .collect();
    let mut cells = vec![Cell { values: Vec::new() }; shape.iter().product()];
    for r in rows.iter().filter(|r| r.status == Status::Done) {
        let coords = &manifest.points[r.index].coords;
        let k = varying.iter().fold(0, |acc, &d| {
            acc * manifest.dimensions[d].values.len() + coords[d]
        });
        if let Some((_, x)) = r.metrics.iter().find(|(m, _)| m == metric) {
            if x.is_finite() {
                cells[k].values.push(*x);
            }
        }
    }
    register_font()?;
    let sweep_name = Path::new(&manifest.sweep_file).file_name().map_or_else(
        || manifest.sweep_file.clone(),
        |n| n.to_string_lossy().into_owned(),
    );
    let title = Title {
        main: format!("{sweep_name}: {}", labels::metric(metric)),
        sub: format!(
            "{} ({metric})",
            repeats_used(&cells, manifest.repeats as usize)
        ),
    };
    let st = opts.style();
    let size = (
        opts.width.unwrap_or(SWEEP_WIDTH),
        opts.height.unwrap_or(SWEEP_HEIGHT),
    );
    let need = st.px(TITLE_H) + st.px(70) + 60;
    if size.1 < need {
        return Err(input(format!(
            "--height {}: too small for the figure (at least {need} pixels)",
            size.1
        )));
    }
    let out_dir = out.unwrap_or(dir);
    let path = out_dir.join(format!(
        "{}.{}",
        metric.replace(['/', '\\'], "_"),
        opts.format.extension()
    ));
    if varying.len() == 1 {
        let fig = Line {
            title,
            metric: labels::metric(metric),
            dim: &manifest.dimensions[varying[0]],
            cells: &cells,
            size,
            st,
        };
        create_dir(out_dir)?;
        render(&fig, &path, opts.format)?;
    } else {
        let fig = Heatmap::new(
            title,
            labels::metric(metric),
            &manifest.dimensions[varying[0]],
            &manifest.dimensions[varying[1]],
            &cells,
            size,
            st,
        )?;
        create_dir(out_dir)?;
        render(&fig, &path, opts.format)?;
    }
    Ok(path)
}

/// The title of a sweep figure: the sweep and the metric by name, and below it how the
/// means were taken, with the metric's key in the summary.
struct Title {
    main: String,
    sub: String,
}

impl Title {
    fn draw<DB: DrawingBackend>(&self, area: &Area<DB>, st: &Style) -> Result<(), PlotError> {
        let (w, h) = area.dim_in_pixel();
        let (w, h) = (w as i32, h as i32);
        area.draw_text(
            &self.main,
            &st.font(22.0).pos(Pos::new(HPos::Center, VPos::Center)),
            (w / 2, h * 2 / 5),
        )
        .map_err(render_err)?;
        area.draw_text(
            &self.sub,
            &st.font(14.0)
                .color(&RGBColor(90, 90, 90))
                .pos(Pos::new(HPos::Center, VPos::Center)),
            (w / 2, h * 4 / 5),
        )
        .map_err(render_err)
    }
}

/// The title of a dimension's axis: the full name and unit of the field it sets (of all
/// of them, when a zip group sets several to the same values).
fn label(d: &ManifestDimension) -> String {
    let same = d.values.iter().all(|v| v.iter().all(|x| *x == v[0]));
    labels::fields(&d.fields, same)
}

/// The value of a dimension's first field at each step: as text, and as a number if it is
/// one.
fn steps(d: &ManifestDimension) -> (Vec<String>, Option<Vec<f64>>) {
    let values: Vec<Value> = d.values.iter().map(|s| Value::parse(&s[0])).collect();
    let text = values.iter().map(Value::render_plain).collect();
    let numbers = values
        .iter()
        .map(|v| v.as_number().filter(|x| x.is_finite()))
        .collect();
    (text, numbers)
}

/// A number for a tick or a cell: short, with about 3 significant digits.
fn short(x: f64) -> String {
    if x == 0.0 {
        return "0".into();
    }
    let a = x.abs();
    if !(1e-3..1e5).contains(&a) {
        return format!("{x:.2e}");
    }
    let digits = (2 - a.log10().floor() as i32).clamp(0, 4) as usize;
    let s = format!("{x:.digits$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// Padded range of the finite values, never empty.
fn padded(lo: f64, hi: f64) -> (f64, f64) {
    if !lo.is_finite() || !hi.is_finite() {
        return (0.0, 1.0);
    }
    if hi - lo < 1e-12 * lo.abs().max(1.0) {
        let d = lo.abs().max(1.0) * 0.1;
        return (lo - d, hi + d);
    }
    let d = (hi - lo) * 0.08;
    (lo - d, hi + d)
}

/// A line plot of the metric over one varying dimension.
struct Line<'a> {
    title: Title,
    metric: String,
    dim: &'a ManifestDimension,
    cells: &'a [Cell],
    size: (u32, u32),
    st: Style,
}

impl Figure for Line<'_> {
    fn size(&self) -> (u32, u32) {
        self.size
    }

    fn draw<DB: DrawingBackend>(&self, root: &Area<DB>) -> Result<(), PlotError> {
        let (cells, st) = (self.cells, &self.st);
        let (text, numbers) = steps(self.dim);
        let log = self.dim.kind == "logspace"
            && numbers.as_ref().is_some_and(|n| n.iter().all(|&x| x > 0.0));
        // x position of each step: its value, or its position when the values are not
        // numbers.
        let xs: Vec<f64> = match &numbers {
            Some(n) => n.clone(),
            None => (0..text.len()).map(|i| i as f64).collect(),
        };
        let mut order: Vec<usize> = (0..xs.len()).collect();
        order.sort_by(|&a, &b| xs[a].total_cmp(&xs[b]));
        let (xlo, xhi) = (xs[order[0]], xs[*order.last().expect("two steps or more")]);
        let (ylo, yhi) = cells
            .iter()
            .filter(|c| !c.values.is_empty())
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), c| {
                (lo.min(c.min()), hi.max(c.max()))
            });
        let (ylo, yhi) = padded(ylo, yhi);
        let mean_pts: Vec<(f64, f64)> = order
            .iter()
            .filter_map(|&i| cells[i].mean().map(|m| (xs[i], m)))
            .collect();
        let band: Vec<(f64, f64)> = order
            .iter()
            .filter(|&&i| !cells[i].values.is_empty())
            .map(|&i| (xs[i], cells[i].max()))
            .chain(
                order
                    .iter()
                    .rev()
                    .filter(|&&i| !cells[i].values.is_empty())
                    .map(|&i| (xs[i], cells[i].min())),
            )
            .collect();
        let dots: Vec<(f64, f64)> = (0..xs.len())
            .flat_map(|i| {
                cells[i]
                    .values
                    .iter()
                    .map(|&v| (xs[i], v))
                    .collect::<Vec<_>>()
            })
            .collect();
        let colour = RGBColor(31, 119, 180);
        let x_desc = label(self.dim);
        // The legend goes to the corner with the fewest points under it.
        let corner = {
            let fx = |x: f64| {
                if log {
                    (x.ln() - xlo.ln()) / (xhi.ln() - xlo.ln()).max(1e-12)
                } else {
                    (x - xlo) / (xhi - xlo).max(1e-12)
                }
            };
            let fy = |y: f64| (y - ylo) / (yhi - ylo).max(1e-12);
            let points: Vec<(f64, f64)> = dots
                .iter()
                .chain(&mean_pts)
                .map(|&(x, y)| (fx(x), fy(y)))
                .collect();
            let count = |right: bool, top: bool| {
                points
                    .iter()
                    .filter(|(x, y)| {
                        (if right { *x > 0.6 } else { *x < 0.4 })
                            && (if top { *y > 0.7 } else { *y < 0.3 })
                    })
                    .count()
            };
            [
                (SeriesLabelPosition::UpperRight, count(true, true)),
                (SeriesLabelPosition::UpperLeft, count(false, true)),
                (SeriesLabelPosition::LowerRight, count(true, false)),
                (SeriesLabelPosition::LowerLeft, count(false, false)),
            ]
            .into_iter()
            .min_by_key(|(_, n)| *n)
            .map(|(p, _)| p)
            .expect("four corners")
        };
        // Random draws are not a series: no line through them, no band.
        let connect = self.dim.kind != "sample";
        root.fill(&WHITE).map_err(render_err)?;
        let (title_area, body) = root.split_vertically(st.px(TITLE_H));
        self.title.draw(&title_area, st)?;
        let mut builder = ChartBuilder::on(&body);
        builder
            .margin_left(st.px(15))
            .margin_right(st.px(40))
            .margin_bottom(st.px(10))
            .x_label_area_size(st.px(60))
            .y_label_area_size(st.px(90));
        let (r_dot, r_mean) = (st.px(3).max(2), st.px(5).max(3));
        let legend_w = st.px(24) as i32;
        macro_rules! finish {
            ($chart:expr) => {{
                let mut chart = $chart;
                let mut mesh = chart.configure_mesh();
                mesh.bold_line_style(BLACK.mix(0.08))
                    .light_line_style(TRANSPARENT)
                    .x_desc(x_desc.as_str())
                    .y_desc(self.metric.as_str())
                    .y_label_formatter(&|v: &f64| short(*v))
                    .label_style(st.font(15.0))
                    .axis_desc_style(st.font(16.0));
                let ticks = |v: &f64| -> String {
                    if numbers.is_some() {
                        short(*v)
                    } else {
                        let i = v.round();
                        if (v - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < text.len() {
                            text[i as usize].clone()
                        } else {
                            String::new()
                        }
                    }
                };
                if numbers.is_none() {
                    mesh.x_labels(text.len() * 2 + 1);
                }
                mesh.x_label_formatter(&ticks).draw().map_err(render_err)?;
                if connect && band.len() > 2 {
                    chart
                        .draw_series(std::iter::once(Polygon::new(
                            band.clone(),
                            colour.mix(0.2).filled(),
                        )))
                        .map_err(render_err)?
                        .label("min-max over repeats")
                        .legend(move |(x, y)| {
                            Rectangle::new(
                                [(x, y - legend_w / 4), (x + legend_w, y + legend_w / 4)],
                                colour.mix(0.2).filled(),
                            )
                        });
                }
                chart
                    .draw_series(
                        dots.iter()
                            .map(|&p| Circle::new(p, r_dot, colour.mix(0.5).filled())),
                    )
                    .map_err(render_err)?
                    .label("one repeat")
                    .legend(move |(x, y)| {
                        Circle::new((x + legend_w / 2, y), r_dot, colour.mix(0.5).filled())
                    });
                let line = if connect {
                    mean_pts.clone()
                } else {
                    Vec::new()
                };
                chart
                    .draw_series(LineSeries::new(line, colour.stroke_width(3)))
                    .map_err(render_err)?
                    .label("mean")
                    .legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + legend_w, y)], colour.stroke_width(3))
                    });
                chart
                    .draw_series(
                        mean_pts
                            .iter()
                            .map(|&p| Circle::new(p, r_mean, colour.filled())),
                    )
                    .map_err(render_err)?;
                chart
                    .configure_series_labels()
                    .position(corner.clone())
                    .background_style(WHITE.mix(0.9))
                    .border_style(BLACK.mix(0.4))
                    .label_font(st.font(15.0))
                    .margin(st.px(12))
                    .draw()
                    .map_err(render_err)?;
            }};
        }
        if log {
            let pad = (xhi / xlo).powf(0.04);
            finish!(
                builder
                    .build_cartesian_2d((xlo / pad..xhi * pad).log_scale(), ylo..yhi)
                    .map_err(render_err)?
            );
        } else {
            let pad = if xhi > xlo { (xhi - xlo) * 0.04 } else { 0.5 };
            let (xlo, xhi) = if numbers.is_none() {
                (-0.5, text.len() as f64 - 0.5)
            } else {
                (xlo - pad, xhi + pad)
            };
            finish!(
                builder
                    .build_cartesian_2d(xlo..xhi, ylo..yhi)
                    .map_err(render_err)?
            );
        }
        Ok(())
    }
}

/// Viridis, sampled at 9 points and interpolated linearly; `t` in [0, 1].
fn viridis(t: f64) -> RGBColor {
    const STOPS: [(u8, u8, u8); 9] = [
        (68, 1, 84),
        (71, 44, 122),
        (59, 81, 139),
        (44, 113, 142),
        (33, 144, 141),
        (39, 173, 129),
        (92, 200, 99),
        (170, 220, 50),
        (253, 231, 37),
    ];
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let x = t * (STOPS.len() - 1) as f64;
    let i = (x.floor() as usize).min(STOPS.len() - 2);
    let f = x - i as f64;
    let lerp = |a: u8, b: u8| (f64::from(a) + (f64::from(b) - f64::from(a)) * f).round() as u8;
    let (a, b) = (STOPS[i], STOPS[i + 1]);
    RGBColor(lerp(a.0, b.0), lerp(a.1, b.1), lerp(a.2, b.2))
}

/// The colour scale of a heatmap: the means' range, linear or logarithmic.
#[derive(Debug, Clone, Copy, PartialEq)]
struct ColourScale {
    lo: f64,
    hi: f64,
    log: bool,
}

impl ColourScale {
    /// The scale of the cells' means; a logarithmic one needs every mean above 0.
    fn of(cells: &[Cell], log: bool) -> Result<ColourScale, PlotError> {
        let means: Vec<f64> = cells.iter().filter_map(Cell::mean).collect();
        let (lo, hi) = means
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &m| {
                (a.min(m), b.max(m))
            });
        if log {
            let bad = means.iter().filter(|&&m| m <= 0.0).count();
            if bad > 0 {
                return Err(input(format!(
                    "--log: a logarithmic colour scale needs means above 0; {bad} of the {} \
                     cells are at or below 0 (smallest {})",
                    means.len(),
                    short(lo)
                )));
            }
            let (lo, hi) = if !lo.is_finite() {
                (1.0, 10.0)
            } else if hi > lo {
                (lo, hi)
            } else {
                (lo / 2.0, hi * 2.0)
            };
            return Ok(ColourScale { lo, hi, log });
        }
        let (lo, hi) = if lo.is_finite() {
            if hi > lo {
                (lo, hi)
            } else {
                (lo - 0.5, hi + 0.5)
            }
        } else {
            (0.0, 1.0)
        };
        Ok(ColourScale { lo, hi, log })
    }

    /// Where `m` falls on the scale, 0 at `lo` and 1 at `hi`.
    fn norm(&self, m: f64) -> f64 {
        if self.log {
            (m.ln() - self.lo.ln()) / (self.hi.ln() - self.lo.ln())
        } else {
            (m - self.lo) / (self.hi - self.lo)
        }
    }

    /// The ticks of the colour bar: their value and place (0 to 1). Linear: 5 evenly
    /// spaced; logarithmic: the powers of ten inside the range, with both ends when
    /// fewer than two fall inside.
    fn ticks(&self) -> Vec<(f64, f64)> {
        if !self.log {
            return (0..=4)
                .map(|k| {
                    let t = f64::from(k) / 4.0;
                    (self.lo + (self.hi - self.lo) * t, t)
                })
                .collect();
        }
        let (a, b) = (
            self.lo.log10().floor() as i32,
            self.hi.log10().ceil() as i32,
        );
        // Powers of ten; over fewer than three decades also 2 and 5 times them.
        let mantissas: &[f64] = if (self.hi / self.lo).log10() < 3.0 {
            &[1.0, 2.0, 5.0]
        } else {
            &[1.0]
        };
        let inside = |v: f64| v >= self.lo * (1.0 - 1e-9) && v <= self.hi * (1.0 + 1e-9);
        let mut ticks: Vec<(f64, f64)> = (a..=b)
            .flat_map(|e| mantissas.iter().map(move |m| m * 10f64.powi(e)))
            .filter(|&v| inside(v))
            .map(|v| (v, self.norm(v)))
            .collect();
        if ticks.len() < 2 {
            ticks = vec![(self.lo, 0.0), (self.hi, 1.0)]
                .into_iter()
                .chain(ticks)
                .collect();
            ticks.sort_by(|x, y| x.1.total_cmp(&y.1));
            ticks.dedup_by(|x, y| (x.1 - y.1).abs() < 0.05);
        }
        ticks
    }
}

/// A heatmap of the metric over two varying dimensions, with a labelled colour bar.
struct Heatmap<'a> {
    title: Title,
    metric: String,
    dx: &'a ManifestDimension,
    dy: &'a ManifestDimension,
    cells: &'a [Cell],
    scale: ColourScale,
    size: (u32, u32),
    st: Style,
}

impl<'a> Heatmap<'a> {
    fn new(
        title: Title,
        metric: String,
        dx: &'a ManifestDimension,
        dy: &'a ManifestDimension,
        cells: &'a [Cell],
        size: (u32, u32),
        st: Style,
    ) -> Result<Heatmap<'a>, PlotError> {
        Ok(Heatmap {
            title,
            metric,
            dx,
            dy,
            cells,
            scale: ColourScale::of(cells, st.log)?,
            size,
            st,
        })
    }
}

impl Figure for Heatmap<'_> {
    fn size(&self) -> (u32, u32) {
        self.size
    }

    fn draw<DB: DrawingBackend>(&self, root: &Area<DB>) -> Result<(), PlotError> {
        let (cells, st, scale) = (self.cells, &self.st, &self.scale);
        let (xt, _) = steps(self.dx);
        let (yt, _) = steps(self.dy);
        let (nx, ny) = (xt.len(), yt.len());
        // cells are indexed [x step][y step] (first varying dimension slowest).
        let mean = |ix: usize, iy: usize| cells[ix * ny + iy].mean();
        let x_desc = label(self.dx);
        let y_desc = label(self.dy);
        root.fill(&WHITE).map_err(render_err)?;
        let (title_area, body) = root.split_vertically(st.px(TITLE_H));
        self.title.draw(&title_area, st)?;
        // The colour bar's column: the bar, its tick labels and its title.
        let bar_w = st.px(170);
        let (main, bar_area) = body.split_horizontally(self.size.0.saturating_sub(bar_w));
        let mut chart = ChartBuilder::on(&main)
            .margin_left(st.px(15))
            .margin_right(st.px(20))
            .margin_bottom(st.px(10))
            .x_label_area_size(st.px(60))
            .y_label_area_size(st.px(110))
            .build_cartesian_2d(-0.5..nx as f64 - 0.5, -0.5..ny as f64 - 0.5)
            .map_err(render_err)?;
        let tick = |labels: &[String], v: f64| -> String {
            let i = v.round();
            if (v - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < labels.len() {
                labels[i as usize].clone()
            } else {
                String::new()
            }
        };
        let xf = |v: &f64| tick(&xt, *v);
        let yf = |v: &f64| tick(&yt, *v);
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc(x_desc.as_str())
            .y_desc(y_desc.as_str())
            .x_labels(nx * 2 + 1)
            .y_labels(ny * 2 + 1)
            .x_label_formatter(&xf)
            .y_label_formatter(&yf)
            .label_style(st.font(15.0))
            .axis_desc_style(st.font(16.0))
            .draw()
            .map_err(render_err)?;
        let grey = RGBColor(200, 200, 200);
        for ix in 0..nx {
            for iy in 0..ny {
                let fill = mean(ix, iy).map_or(grey, |m| viridis(scale.norm(m)));
                let (x, y) = (ix as f64, iy as f64);
                chart
                    .draw_series(std::iter::once(Rectangle::new(
                        [(x - 0.5, y - 0.5), (x + 0.5, y + 0.5)],
                        fill.filled(),
                    )))
                    .map_err(render_err)?;
            }
        }
        // Annotate the cells when they are large enough.
        let (px0, _) = chart.backend_coord(&(-0.5, -0.5));
        let (px1, _) = chart.backend_coord(&(0.5, -0.5));
        let cell_w = (px1 - px0).abs();
        if cell_w >= st.px(48) as i32 {
            let size = if cell_w >= st.px(80) as i32 {
                15.0
            } else {
                12.0
            };
            for ix in 0..nx {
                for iy in 0..ny {
                    let text = mean(ix, iy).map_or_else(|| "n/a".to_string(), short);
                    let dark = mean(ix, iy).is_some_and(|m| scale.norm(m) < 0.6);
                    let colour = if dark { WHITE } else { BLACK };
                    let style = st
                        .font(size)
                        .color(&colour)
                        .pos(Pos::new(HPos::Center, VPos::Center));
                    chart
                        .draw_series(std::iter::once(Text::new(
                            text,
                            (ix as f64, iy as f64),
                            style,
                        )))
                        .map_err(render_err)?;
                }
            }
        }
        // The colour bar, as tall as the map, with its ticks and its title (the metric's
        // name and unit, and the scale when logarithmic) along it.
        let (_, top) = chart.backend_coord(&(-0.5, ny as f64 - 0.5));
        let (_, bottom) = chart.backend_coord(&(-0.5, -0.5));
        let (bx, _) = bar_area.get_base_pixel();
        let (x0, x1) = (
            bx + st.px(12) as i32,
            bx + st.px(12) as i32 + st.px(30) as i32,
        );
        let steps = (bottom - top).max(1);
        for k in 0..steps {
            let t = 1.0 - f64::from(k) / f64::from(steps);
            root.draw(&st.block((x0, top + k), (x1, top + k), viridis(t).filled()))
                .map_err(render_err)?;
        }
        root.draw(&Rectangle::new(
            [(x0, top), (x1, bottom)],
            BLACK.stroke_width(1),
        ))
        .map_err(render_err)?;
        let mut widest = 0;
        let tick_style = st.font(14.0).pos(Pos::new(HPos::Left, VPos::Center));
        for (v, t) in scale.ticks() {
            let y = bottom - (f64::from(bottom - top) * t).round() as i32;
            root.draw(&PathElement::new(
                vec![(x1, y), (x1 + st.px(6) as i32, y)],
                BLACK.stroke_width(1),
            ))
            .map_err(render_err)?;
            let text = short(v);
            widest = widest.max(super::text_width(&text, &tick_style));
            root.draw(&Text::new(
                text,
                (x1 + st.px(10) as i32, y),
                tick_style.clone(),
            ))
            .map_err(render_err)?;
        }
        let bar_title = if scale.log {
            format!("{}, log scale", self.metric)
        } else {
            self.metric.clone()
        };
        // Rotated to read from the bottom up, centred on the bar; wrapped onto a
        // second line when longer than the bar.
        let title_style = st.font(16.0);
        let lines = super::wrap(&bar_title, &title_style, (bottom - top).max(1) as u32);
        let line_h = st.px(20) as i32;
        let mut x = x1 + st.px(16) as i32 + widest as i32 + line_h / 2;
        for line in lines {
            root.draw_text(
                &line,
                &title_style
                    .transform(FontTransform::Rotate270)
                    .pos(Pos::new(HPos::Center, VPos::Center)),
                (x, (top + bottom) / 2),
            )
            .map_err(render_err)?;
            x += line_h;
        }
        Ok(())
    }
}

/// How many repeats the means are over: "mean over 5 repeats", or, where runs failed or
/// gave an undefined value, the range actually used ("mean over 3-5 of 5 repeats").
fn repeats_used(cells: &[Cell], repeats: usize) -> String {
    let counts = cells.iter().map(|c| c.values.len()).filter(|&n| n > 0);
    let (lo, hi) = counts.fold((usize::MAX, 0), |(lo, hi), n| (lo.min(n), hi.max(n)));
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    match (lo, hi) {
        (_, 0) => "no defined value".to_string(),
        (lo, hi) if lo == repeats && hi == repeats => {
            format!("mean over {repeats} repeat{}", plural(repeats))
        }
        (lo, hi) if lo == hi => format!("mean over {lo} of {repeats} repeat{}", plural(repeats)),
        (lo, hi) => format!("mean over {lo}-{hi} of {repeats} repeat{}", plural(repeats)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cells(counts: &[usize]) -> Vec<Cell> {
        counts
            .iter()
            .map(|&n| Cell {
                values: vec![1.0; n],
            })
            .collect()
    }

    #[test]
    fn colour_scales_linear_and_logarithmic() {
        let cells: Vec<Cell> = [2.0, 20.0, 200.0]
            .iter()
            .map(|&v| Cell { values: vec![v] })
            .collect();
        let lin = ColourScale::of(&cells, false).unwrap();
        assert_eq!((lin.lo, lin.hi), (2.0, 200.0));
        assert!((lin.norm(20.0) - 18.0 / 198.0).abs() < 1e-12);
        assert_eq!(lin.ticks().len(), 5);
        let log = ColourScale::of(&cells, true).unwrap();
        assert!(
            (log.norm(20.0) - 0.5).abs() < 1e-12,
            "20 is halfway on a log scale"
        );
        let ticks: Vec<f64> = log.ticks().iter().map(|t| t.0).collect();
        assert_eq!(ticks, [2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0]);
        // A mean at or below 0 has no place on a log scale: refused, counted.
        let mut with_zero = cells.clone();
        with_zero.push(Cell { values: vec![0.0] });
        let e = ColourScale::of(&with_zero, true).unwrap_err().to_string();
        assert!(
            e.starts_with("--log: a logarithmic colour scale needs means above 0; 1 of the 4"),
            "{e}"
        );
        assert!(ColourScale::of(&with_zero, false).is_ok());
    }

    #[test]
    fn the_title_says_how_many_repeats_each_mean_is_over() {
        assert_eq!(repeats_used(&cells(&[5, 5, 5]), 5), "mean over 5 repeats");
        assert_eq!(repeats_used(&cells(&[1]), 1), "mean over 1 repeat");
        assert_eq!(repeats_used(&cells(&[5, 0, 5]), 5), "mean over 5 repeats");
        assert_eq!(repeats_used(&cells(&[3, 3]), 5), "mean over 3 of 5 repeats");
        assert_eq!(
            repeats_used(&cells(&[3, 5, 4]), 5),
            "mean over 3-5 of 5 repeats"
        );
        assert_eq!(repeats_used(&cells(&[0, 0]), 5), "no defined value");
    }
}
