//! The figure of a sweep folder: `engram plot DIR --metric NAME` writes `DIR/<NAME>.png`.
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
//!   colour bar beside it; cells without a finished point are grey;
//! - more than two: an error naming them.

use std::path::{Path, PathBuf};

use engram_config::Value;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{PlotError, create_dir, font, input, register_font, render_err, render_png};
use crate::sweep::store::{Manifest, ManifestDimension};
use crate::sweep::summary::{self, Status, metric_names};

/// Width of a sweep figure (pixels).
pub const SWEEP_WIDTH: u32 = 1200;

/// Height of a sweep figure (pixels).
pub const SWEEP_HEIGHT: u32 = 800;

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

/// Draws `metric` of the sweep in `dir` into `<out or dir>/<metric>.png`; returns its path.
pub fn plot_sweep(
    dir: &Path,
    out: Option<&Path>,
    metric: Option<&str>,
) -> Result<PathBuf, PlotError> {
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
    let out_dir = out.unwrap_or(dir);
    create_dir(out_dir)?;
    let path = out_dir.join(format!("{}.png", metric.replace(['/', '\\'], "_")));
    register_font()?;
    let sweep_name = Path::new(&manifest.sweep_file).file_name().map_or_else(
        || manifest.sweep_file.clone(),
        |n| n.to_string_lossy().into_owned(),
    );
    let title = format!(
        "{sweep_name}: {metric} ({})",
        repeats_used(&cells, manifest.repeats as usize)
    );
    if varying.len() == 1 {
        draw_line(
            &path,
            &title,
            metric,
            &manifest.dimensions[varying[0]],
            &cells,
        )?;
    } else {
        let (dx, dy) = (
            &manifest.dimensions[varying[0]],
            &manifest.dimensions[varying[1]],
        );
        draw_heatmap(&path, &title, dx, dy, &cells)?;
    }
    Ok(path)
}

fn label(d: &ManifestDimension) -> String {
    match d.fields.len() {
        1 => d.fields[0].clone(),
        n => format!("{} (+{} more)", d.fields[0], n - 1),
    }
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

fn draw_line(
    path: &Path,
    title: &str,
    metric: &str,
    dim: &ManifestDimension,
    cells: &[Cell],
) -> Result<(), PlotError> {
    let (text, numbers) = steps(dim);
    let log =
        dim.kind == "logspace" && numbers.as_ref().is_some_and(|n| n.iter().all(|&x| x > 0.0));
    // x position of each step: its value, or its position when the values are not numbers.
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
    let x_desc = label(dim);
    // Random draws are not a series: no line through them, no band.
    let connect = dim.kind != "sample";
    render_png(path, SWEEP_WIDTH, SWEEP_HEIGHT, |root| {
        root.fill(&WHITE).map_err(render_err)?;
        let (title_area, body) = root.split_vertically(50);
        draw_centered(&title_area, title, 22.0)?;
        let mut builder = ChartBuilder::on(&body);
        builder
            .margin_left(15)
            .margin_right(40)
            .margin_bottom(10)
            .x_label_area_size(60)
            .y_label_area_size(90);
        macro_rules! finish {
            ($chart:expr) => {{
                let mut chart = $chart;
                let mut mesh = chart.configure_mesh();
                mesh.bold_line_style(BLACK.mix(0.08))
                    .light_line_style(TRANSPARENT)
                    .x_desc(x_desc.as_str())
                    .y_desc(metric)
                    .y_label_formatter(&|v: &f64| short(*v))
                    .label_style(font(15.0))
                    .axis_desc_style(font(16.0));
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
                            Rectangle::new([(x, y - 6), (x + 24, y + 6)], colour.mix(0.2).filled())
                        });
                }
                chart
                    .draw_series(
                        dots.iter()
                            .map(|&p| Circle::new(p, 3, colour.mix(0.5).filled())),
                    )
                    .map_err(render_err)?
                    .label("one repeat")
                    .legend(move |(x, y)| Circle::new((x + 12, y), 3, colour.mix(0.5).filled()));
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
                        PathElement::new(vec![(x, y), (x + 24, y)], colour.stroke_width(3))
                    });
                chart
                    .draw_series(mean_pts.iter().map(|&p| Circle::new(p, 5, colour.filled())))
                    .map_err(render_err)?;
                chart
                    .configure_series_labels()
                    .position(SeriesLabelPosition::UpperRight)
                    .background_style(WHITE.mix(0.9))
                    .border_style(BLACK.mix(0.4))
                    .label_font(font(15.0))
                    .margin(12)
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
    })
}

fn draw_centered(area: &super::Area<'_>, text: &str, size: f64) -> Result<(), PlotError> {
    let (w, h) = area.dim_in_pixel();
    area.draw_text(
        text,
        &font(size).pos(Pos::new(HPos::Center, VPos::Center)),
        (w as i32 / 2, h as i32 / 2 + 2),
    )
    .map_err(render_err)
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

fn draw_heatmap(
    path: &Path,
    title: &str,
    dx: &ManifestDimension,
    dy: &ManifestDimension,
    cells: &[Cell],
) -> Result<(), PlotError> {
    let (xt, _) = steps(dx);
    let (yt, _) = steps(dy);
    let (nx, ny) = (xt.len(), yt.len());
    // cells are indexed [x step][y step] (first varying dimension slowest).
    let mean = |ix: usize, iy: usize| cells[ix * ny + iy].mean();
    let (lo, hi) = cells
        .iter()
        .filter_map(Cell::mean)
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), m| {
            (a.min(m), b.max(m))
        });
    let (lo, hi) = if lo.is_finite() {
        if hi > lo {
            (lo, hi)
        } else {
            (lo - 0.5, hi + 0.5)
        }
    } else {
        (0.0, 1.0)
    };
    let norm = |m: f64| (m - lo) / (hi - lo);
    let x_desc = label(dx);
    let y_desc = label(dy);
    render_png(path, SWEEP_WIDTH, SWEEP_HEIGHT, |root| {
        root.fill(&WHITE).map_err(render_err)?;
        let (title_area, body) = root.split_vertically(50);
        draw_centered(&title_area, title, 22.0)?;
        let (main, bar_area) = body.split_horizontally(SWEEP_WIDTH - 150);
        let mut chart = ChartBuilder::on(&main)
            .margin_left(15)
            .margin_right(20)
            .margin_bottom(10)
            .x_label_area_size(60)
            .y_label_area_size(110)
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
            .label_style(font(15.0))
            .axis_desc_style(font(16.0))
            .draw()
            .map_err(render_err)?;
        let grey = RGBColor(200, 200, 200);
        for ix in 0..nx {
            for iy in 0..ny {
                let fill = mean(ix, iy).map_or(grey, |m| viridis(norm(m)));
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
        let (px0, py0) = chart.backend_coord(&(-0.5, -0.5));
        let (px1, _) = chart.backend_coord(&(0.5, -0.5));
        let cell_w = (px1 - px0).abs();
        let _ = py0;
        if cell_w >= 48 {
            let size = if cell_w >= 80 { 15.0 } else { 12.0 };
            for ix in 0..nx {
                for iy in 0..ny {
                    let text = mean(ix, iy).map_or_else(|| "n/a".to_string(), short);
                    let dark = mean(ix, iy).is_some_and(|m| norm(m) < 0.6);
                    let colour = if dark { WHITE } else { BLACK };
                    let style = font(size)
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
        // Colour bar.
        let (_, top) = chart.backend_coord(&(-0.5, ny as f64 - 0.5));
        let (_, bottom) = chart.backend_coord(&(-0.5, -0.5));
        let (bx, by) = bar_area.get_base_pixel();
        let (x0, x1) = (bx + 20, bx + 50);
        let steps = (bottom - top).max(1);
        for k in 0..steps {
            let t = 1.0 - f64::from(k) / f64::from(steps);
            root.draw(&Rectangle::new(
                [(x0, top + k), (x1, top + k + 1)],
                viridis(t).filled(),
            ))
            .map_err(render_err)?;
        }
        root.draw(&Rectangle::new(
            [(x0, top), (x1, bottom)],
            BLACK.stroke_width(1),
        ))
        .map_err(render_err)?;
        for k in 0..=4 {
            let t = f64::from(k) / 4.0;
            let y = bottom - ((f64::from(bottom - top)) * t).round() as i32;
            root.draw(&PathElement::new(
                vec![(x1, y), (x1 + 6, y)],
                BLACK.stroke_width(1),
            ))
            .map_err(render_err)?;
            root.draw(&Text::new(
                short(lo + (hi - lo) * t),
                (x1 + 10, y),
                font(14.0).pos(Pos::new(HPos::Left, VPos::Center)),
            ))
            .map_err(render_err)?;
        }
        let _ = by;
        Ok(())
    })
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
