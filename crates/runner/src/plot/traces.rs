//! The traces figure: the state reports of a run (`/report`), one panel per population
//! and variable in the order of the config's `[[output.reports]]`, on a shared time axis
//! spanning the reports' samples, with the protocol's phases shaded and a legend of them
//! above.
//!
//! A panel draws at most [`MAX_TRACES`] neurons: those whose trace moves most (largest
//! range; ties to the lower id), in id order. Long traces are reduced to the minimum and
//! maximum of each pixel column, so spikes and resets stay visible.

use engram_io::ReportTrace;
use plotters::prelude::*;

use super::{
    Area, FIGURE_WIDTH, Figure, MARGIN_LEFT, MARGIN_RIGHT, Phase, PhaseStrip, PlotError,
    PlotOptions, Style, TITLE_H, X_LABEL_AREA, Y_LABEL_AREA, draw_title, fit_label, frame, input,
    legend_width, register_font, render_err, shade_phases, time_label,
};

/// Most neurons drawn in one panel.
pub const MAX_TRACES: usize = 4;

/// Height of one panel of the traces figure at the default size (pixels).
const PANEL_HEIGHT: u32 = 210;

/// Line colours of the neurons of a panel.
const TRACE_COLOURS: [RGBColor; MAX_TRACES] = [
    RGBColor(31, 90, 180),
    RGBColor(200, 40, 40),
    RGBColor(40, 150, 60),
    RGBColor(150, 80, 180),
];

/// Size of the traces figure for `panels` panels under the phases named `phases` (those
/// that overlap the reports' window; none: no legend).
pub fn traces_size(
    panels: usize,
    phases: &[&str],
    opts: &PlotOptions,
) -> Result<(u32, u32), PlotError> {
    let phases: Vec<Phase> = phases
        .iter()
        .enumerate()
        .map(|(i, name)| Phase {
            name: name.to_string(),
            start_ms: i as f64,
            stop_ms: i as f64 + 1.0,
            shade: i,
        })
        .collect();
    let l = layout(panels, &phases, opts)?;
    Ok((l.width, l.height))
}

struct Layout {
    width: u32,
    height: u32,
    panel: u32,
    strip: Option<PhaseStrip>,
}

fn layout(panels: usize, phases: &[Phase], opts: &PlotOptions) -> Result<Layout, PlotError> {
    register_font()?;
    let st = opts.style();
    let width = opts.width.unwrap_or(FIGURE_WIDTH);
    let strip = PhaseStrip::new(phases, legend_width(width, &st), &st);
    let strip_h = strip.as_ref().map_or(0, PhaseStrip::height);
    let fixed = st.px(TITLE_H) + strip_h + st.px(X_LABEL_AREA);
    let n = panels.max(1) as u32;
    let (height, panel) = match opts.height {
        None => {
            let panel = PANEL_HEIGHT + st.px(26).saturating_sub(26);
            (fixed + n * panel, panel)
        }
        Some(h) => {
            let min = st.px(26) + st.px(22) + 30;
            let panel = h.saturating_sub(fixed) / n;
            if h < fixed || panel < min {
                return Err(input(format!(
                    "--height {h}: too small for the {n} panels of the traces (at least {} \
                     pixels)",
                    fixed + n * min
                )));
            }
            (h, panel)
        }
    };
    Ok(Layout {
        width,
        height,
        panel,
        strip,
    })
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

/// The state reports of a run, one panel per population and variable.
pub(super) struct Traces<'a> {
    reports: &'a [ReportTrace],
    /// The phases that overlap the reports' window, cut to it.
    shown: Vec<Phase>,
    window: (f64, f64),
    file_name: &'a str,
    st: Style,
    l: Layout,
}

impl<'a> Traces<'a> {
    pub(super) fn new(
        reports: &'a [ReportTrace],
        phases: &[Phase],
        file_name: &'a str,
        opts: &PlotOptions,
    ) -> Result<Traces<'a>, PlotError> {
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
        let shown: Vec<Phase> = phases
            .iter()
            .filter(|p| p.stop_ms > t0 && p.start_ms < t1)
            .map(|p| Phase {
                start_ms: p.start_ms.max(t0),
                stop_ms: p.stop_ms.min(t1),
                ..p.clone()
            })
            .collect();
        let l = layout(reports.len(), &shown, opts)?;
        Ok(Traces {
            reports,
            shown,
            window: (t0, t1),
            file_name,
            st: opts.style(),
            l,
        })
    }
}

impl Figure for Traces<'_> {
    fn size(&self) -> (u32, u32) {
        (self.l.width, self.l.height)
    }

    fn draw<DB: DrawingBackend>(&self, root: &Area<DB>) -> Result<(), PlotError> {
        let (t0, t1) = self.window;
        let st = &self.st;
        root.fill(&WHITE).map_err(render_err)?;
        let (title, rest) = root.split_vertically(st.px(TITLE_H));
        draw_title(
            &title,
            &format!(
                "state traces: {} ({} to {} ms)",
                self.file_name,
                time_label(&t0),
                time_label(&t1)
            ),
            st,
        )?;
        let strip_h = self.l.strip.as_ref().map_or(0, PhaseStrip::height);
        let (strip, mut rest) = rest.split_vertically(strip_h);
        let n = self.reports.len();
        let mut x_pixels = None;
        for (k, r) in self.reports.iter().enumerate() {
            let last = k + 1 == n;
            let h = if last {
                self.l.panel + st.px(X_LABEL_AREA)
            } else {
                self.l.panel
            };
            let (panel, below) = rest.split_vertically(h);
            rest = below;
            x_pixels = Some(draw_panel(&panel, r, &self.shown, (t0, t1), last, st)?);
        }
        if let (Some(s), Some(x)) = (&self.l.strip, x_pixels) {
            s.draw(root, &strip, &self.shown, (t0, t1), x)?;
        }
        Ok(())
    }
}

/// One panel; returns the pixel columns of `t0` and `t1`.
fn draw_panel<DB: DrawingBackend>(
    panel: &Area<DB>,
    r: &ReportTrace,
    phases: &[Phase],
    (t0, t1): (f64, f64),
    last: bool,
    st: &Style,
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
        "{}: {description}, {} in {} ({drawn} of {} recorded neurons; those that move most)",
        r.population,
        r.variable,
        r.units,
        r.node_ids.len()
    );
    let mut chart = ChartBuilder::on(panel)
        .margin_left(st.px(MARGIN_LEFT))
        .margin_right(st.px(MARGIN_RIGHT))
        .margin_top(4)
        .caption(caption, st.font(18.0))
        .x_label_area_size(if last { st.px(X_LABEL_AREA) } else { st.px(22) })
        .y_label_area_size(st.px(Y_LABEL_AREA))
        .build_cartesian_2d(t0..t1, lo..hi)
        .map_err(render_err)?;
    shade_phases(&mut chart, phases, (lo, hi))?;
    // The axis by the variable's symbol and unit; the caption names it in full.
    let full = format!("{} ({})", r.variable, r.units);
    let room = chart.plotting_area().get_pixel_range().1.len() as i32;
    let y_desc = fit_label(&[&full, &r.variable], &st.font(16.0), room).to_owned();
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
        .label_style(st.font(15.0))
        .axis_desc_style(st.font(16.0));
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
            .legend({
                let w = st.px(18) as i32;
                move |(x, y)| PathElement::new(vec![(x, y), (x + w, y)], colour.stroke_width(3))
            });
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.4))
        .label_font(st.font(14.0))
        .draw()
        .map_err(render_err)?;
    frame(panel, &chart.plotting_area().get_pixel_range())?;
    Ok((px0, px1))
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
