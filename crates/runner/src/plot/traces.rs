//! `traces.png`: the state reports of a run (`/report`), one panel per population and
//! variable in the order of the config's `[[output.reports]]`, on a shared time axis
//! spanning the reports' samples, with the protocol's phases shaded and named above.
//!
//! A panel draws at most [`MAX_TRACES`] neurons: those whose trace moves most (largest
//! range; ties to the lower id), in id order. Long traces are reduced to the minimum and
//! maximum of each pixel column, so spikes and resets stay visible.

use std::path::Path;

use engram_io::ReportTrace;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{
    Area, FIGURE_WIDTH, MARGIN_LEFT, MARGIN_RIGHT, Phase, PlotError, X_LABEL_AREA, Y_LABEL_AREA,
    draw_title, fit_text, font, frame, phase_colour, render_err, render_png, shade_phases,
    time_label,
};

/// Most neurons drawn in one panel.
pub const MAX_TRACES: usize = 4;

/// Height of one panel of `traces.png` (pixels).
const PANEL_HEIGHT: u32 = 210;
/// Height of the title and of the phase strip.
const TITLE_HEIGHT: u32 = 44;
const STRIP_HEIGHT: u32 = 34;

/// Line colours of the neurons of a panel.
const TRACE_COLOURS: [RGBColor; MAX_TRACES] = [
    RGBColor(31, 90, 180),
    RGBColor(200, 40, 40),
    RGBColor(40, 150, 60),
    RGBColor(150, 80, 180),
];

/// Size of `traces.png` for `panels` panels.
pub fn traces_size(panels: usize, protocol: bool) -> (u32, u32) {
    let strip = if protocol { STRIP_HEIGHT } else { 0 };
    let bottom = X_LABEL_AREA;
    (
        FIGURE_WIDTH,
        TITLE_HEIGHT + strip + panels as u32 * PANEL_HEIGHT + bottom,
    )
}

/// The columns a panel draws, with the number of other recorded neurons whose trace is
/// alike (within 0.1 % of the report's range everywhere: one line on the figure, drawn
/// once): the [`MAX_TRACES`] distinct traces with the largest range, in column order.
fn chosen_columns(r: &ReportTrace) -> Vec<(usize, usize)> {
    let mut ranges: Vec<(f64, usize)> = (0..r.node_ids.len())
        .map(|c| {
            let (lo, hi) = r
                .column(c)
                .filter(|x| x.is_finite())
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
                    (a.min(x), b.max(x))
                });
            (if hi >= lo { hi - lo } else { 0.0 }, c)
        })
        .collect();
    ranges.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let finite = || r.data.iter().copied().filter(|x| x.is_finite());
    let span = finite().fold(f64::NEG_INFINITY, f64::max) - finite().fold(f64::INFINITY, f64::min);
    let tol = if span.is_finite() { 1e-3 * span } else { 0.0 };
    let same = |a: usize, b: usize| {
        r.column(a)
            .zip(r.column(b))
            .all(|(x, y)| x == y || (x - y).abs() <= tol)
    };
    let mut chosen: Vec<(usize, usize)> = Vec::new();
    for &(_, c) in &ranges {
        if let Some(k) = chosen.iter().position(|&(k, _)| same(k, c)) {
            chosen[k].1 += 1;
        } else if chosen.len() < MAX_TRACES {
            chosen.push((c, 0));
        }
    }
    chosen.sort_unstable();
    chosen
}

/// `(t, x)` reduced to the minimum and maximum of each of `buckets` time buckets (in
/// time order within a bucket), when longer than `2 * buckets`.
fn min_max(t: &[f64], x: &[f64], buckets: usize) -> Vec<(f64, f64)> {
    if t.len() <= 2 * buckets {
        return t.iter().copied().zip(x.iter().copied()).collect();
    }
    let per = t.len().div_ceil(buckets);
    let mut out = Vec::with_capacity(2 * buckets);
    for (tc, xc) in t.chunks(per).zip(x.chunks(per)) {
        let (mut lo, mut hi) = (0, 0);
        for k in 0..xc.len() {
            if xc[k] < xc[lo] {
                lo = k;
            }
            if xc[k] > xc[hi] {
                hi = k;
            }
        }
        let (a, b) = if lo <= hi { (lo, hi) } else { (hi, lo) };
        out.push((tc[a], xc[a]));
        if b != a {
            out.push((tc[b], xc[b]));
        }
    }
    out
}

/// Draws `traces.png` into `path`.
pub(super) fn draw_traces(
    reports: &[ReportTrace],
    phases: &[Phase],
    file_name: &str,
    path: &Path,
) -> Result<(), PlotError> {
    let t0 = reports
        .iter()
        .filter_map(|r| r.time_ms.first())
        .copied()
        .fold(f64::INFINITY, f64::min);
    let t1 = reports
        .iter()
        .filter_map(|r| r.time_ms.last())
        .copied()
        .fold(f64::NEG_INFINITY, f64::max);
    let (t0, t1) = if t1 > t0 {
        (t0, t1)
    } else {
        (t0 - 1.0, t0 + 1.0)
    };
    // The phases that overlap the window, cut to it.
    let shown: Vec<Phase> = phases
        .iter()
        .filter(|p| p.stop_ms > t0 && p.start_ms < t1)
        .map(|p| Phase {
            start_ms: p.start_ms.max(t0),
            stop_ms: p.stop_ms.min(t1),
            ..p.clone()
        })
        .collect();
    let (width, height) = traces_size(reports.len(), !shown.is_empty());
    render_png(path, width, height, |root| {
        let (title, rest) = root.split_vertically(TITLE_HEIGHT);
        draw_title(
            &title,
            &format!(
                "state traces: {file_name} ({} to {} ms)",
                time_label(&t0),
                time_label(&t1)
            ),
        )?;
        let (strip, rest) = if shown.is_empty() {
            (None, rest)
        } else {
            let (s, r) = rest.split_vertically(STRIP_HEIGHT);
            (Some(s), r)
        };
        let mut heights: Vec<u32> = vec![PANEL_HEIGHT; reports.len()];
        if let Some(last) = heights.last_mut() {
            *last += X_LABEL_AREA;
        }
        let panels = rest.split_by_breakpoints(
            &[] as &[u32],
            heights
                .iter()
                .scan(0u32, |acc, h| {
                    *acc += h;
                    Some(*acc)
                })
                .take(heights.len().saturating_sub(1))
                .collect::<Vec<_>>(),
        );
        let mut x_pixels = None;
        for (k, (r, panel)) in reports.iter().zip(&panels).enumerate() {
            let last = k + 1 == reports.len();
            x_pixels = Some(draw_panel(panel, r, &shown, (t0, t1), last)?);
        }
        if let (Some(strip), Some(x)) = (strip, x_pixels) {
            draw_strip(root, &strip, &shown, (t0, t1), x)?;
        }
        Ok(())
    })
}

/// One panel; returns the pixel columns of `t0` and `t1`.
fn draw_panel(
    panel: &Area<'_>,
    r: &ReportTrace,
    phases: &[Phase],
    (t0, t1): (f64, f64),
    last: bool,
) -> Result<(i32, i32), PlotError> {
    let cols = chosen_columns(r);
    let description = engram_network::StateVariable::from_name(&r.variable)
        .map_or(r.variable.as_str(), |v| v.description());
    let values: Vec<f64> = cols
        .iter()
        .flat_map(|&(c, _)| r.column(c))
        .filter(|x| x.is_finite())
        .collect();
    let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let (lo, hi) = if hi > lo {
        let pad = 0.08 * (hi - lo);
        (lo - pad, hi + pad)
    } else if lo.is_finite() {
        (lo - 1.0, lo + 1.0)
    } else {
        (-1.0, 1.0)
    };
    let drawn: usize = cols.iter().map(|(_, twins)| 1 + twins).sum();
    let caption = format!(
        "{}: {description} ({drawn} of {} recorded neurons; those that move most)",
        r.population,
        r.node_ids.len()
    );
    let mut chart = ChartBuilder::on(panel)
        .margin_left(MARGIN_LEFT)
        .margin_right(MARGIN_RIGHT)
        .margin_top(4)
        .caption(caption, font(18.0))
        .x_label_area_size(if last { X_LABEL_AREA } else { 22 })
        .y_label_area_size(Y_LABEL_AREA)
        .build_cartesian_2d(t0..t1, lo..hi)
        .map_err(render_err)?;
    shade_phases(&mut chart, phases, (lo, hi))?;
    let y_desc = format!("{} ({})", r.variable, r.units);
    let mut mesh = chart.configure_mesh();
    mesh.disable_mesh()
        .y_desc(y_desc)
        .y_labels(5)
        .x_labels(12)
        .x_label_formatter(&time_label)
        .y_label_formatter(&|v: &f64| {
            if v.abs() >= 100.0 {
                format!("{v:.0}")
            } else {
                format!("{v:.1}")
            }
        })
        .label_style(font(15.0))
        .axis_desc_style(font(16.0));
    if last {
        mesh.x_desc("time (ms)");
    }
    mesh.draw().map_err(render_err)?;
    let (px0, px1) = (
        chart.backend_coord(&(t0, lo)).0,
        chart.backend_coord(&(t1, lo)).0,
    );
    let buckets = (px1 - px0).max(1) as usize;
    for (k, &(c, twins)) in cols.iter().enumerate() {
        let x: Vec<f64> = r.column(c).collect();
        let colour = TRACE_COLOURS[k % TRACE_COLOURS.len()];
        chart
            .draw_series(LineSeries::new(
                min_max(&r.time_ms, &x, buckets),
                colour.stroke_width(2),
            ))
            .map_err(render_err)?
            .label(match twins {
                0 => format!("neuron {}", r.node_ids[c]),
                n => format!("neuron {} (+{n} alike)", r.node_ids[c]),
            })
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], colour.stroke_width(3))
            });
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.4))
        .label_font(font(14.0))
        .draw()
        .map_err(render_err)?;
    frame(panel, &chart.plotting_area().get_pixel_range())?;
    Ok((px0, px1))
}

/// The names of the phases in coloured boxes above the panels, aligned with the time
/// axis (`x`: the pixel columns of `t0` and `t1`).
fn draw_strip(
    root: &Area<'_>,
    strip: &Area<'_>,
    phases: &[Phase],
    (t0, t1): (f64, f64),
    x: (i32, i32),
) -> Result<(), PlotError> {
    let (_, sy) = strip.get_base_pixel();
    let (_, sh) = strip.dim_in_pixel();
    let px = |t: f64| {
        x.0 + (((t - t0) / (t1 - t0)).clamp(0.0, 1.0) * f64::from(x.1 - x.0)).round() as i32
    };
    let style = font(16.0).pos(Pos::new(HPos::Center, VPos::Center));
    let (y0, y1) = (sy + 3, sy + sh as i32 - 5);
    for p in phases {
        let (a, b) = (px(p.start_ms), px(p.stop_ms));
        root.draw(&Rectangle::new(
            [(a, y0), (b, y1)],
            phase_colour(p.shade).filled(),
        ))
        .map_err(render_err)?;
        root.draw(&Rectangle::new(
            [(a, y0), (b, y1)],
            BLACK.mix(0.35).stroke_width(1),
        ))
        .map_err(render_err)?;
        let room = (b - a - 6).max(0) as u32;
        if let Some(label) = fit_text(root, &p.name, &style, room) {
            root.draw_text(&label, &style, ((a + b) / 2, (y0 + y1) / 2))
                .map_err(render_err)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trace(columns: &[&[f64]]) -> ReportTrace {
        let rows = columns[0].len();
        let mut data = Vec::new();
        for j in 0..rows {
            data.extend(columns.iter().map(|c| c[j]));
        }
        ReportTrace {
            population: "p".into(),
            variable: "v".into(),
            units: "mV".into(),
            node_ids: (0..columns.len() as u64).map(|i| 10 * i).collect(),
            time_ms: (0..rows).map(|j| j as f64).collect(),
            data,
        }
    }

    #[test]
    fn panels_draw_the_neurons_that_move_most() {
        let flat = [1.0, 1.0, 1.0];
        let r = trace(&[
            &flat,
            &[0.0, 5.0, 0.0],
            &flat,
            &[0.0, 1.0, 2.0],
            &flat,
            &[3.0, 0.0, 0.0],
            &[0.0, 5.0, 0.001],
        ]);
        // Ranges 0, 5, 0, 2, 0, 3, 5: column 1 (drawn for 6 too, within 0.1 % of the
        // range 5), 5, 3, then the first flat one (0, drawn for 2 and 4).
        assert_eq!(chosen_columns(&r), [(0, 2), (1, 1), (3, 0), (5, 0)]);
    }

    #[test]
    fn min_max_keeps_the_extremes_in_time_order() {
        let t: Vec<f64> = (0..10).map(f64::from).collect();
        let x = [0.0, 9.0, 1.0, 1.0, -4.0, 2.0, 2.0, 2.0, 2.0, 2.0];
        // Two buckets of five: (0..5) -> 9 at 1 then -4 at 4; (5..10) flat -> one point.
        assert_eq!(min_max(&t, &x, 2), [(1.0, 9.0), (4.0, -4.0), (5.0, 2.0)]);
        assert_eq!(min_max(&t, &x, 5).len(), 10, "short enough: every point");
    }
}
