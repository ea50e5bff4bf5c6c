//! Figures of an output file, as PNGs: `engram plot OUT.h5 [-o DIR]`.
//!
//! The figures go to `DIR` (default: `<file stem>_plots/` beside the file):
//!
//! - `raster.png`: one spike raster per population, stacked on a shared time axis; the
//!   phases of the protocol shaded and named above them; the ACh concentration beneath.
//!   A population of more than [`MAX_DRAWN_NEURONS`] neurons is drawn subsampled (every
//!   k-th neuron, said in its title).
//! - `rates.png`: the rate of each population over time, in bins of [`RATE_BIN_MS`].
//! - `recall_grid.png`: for each memory, the stored and the recalled image side by side
//!   (only when the file has them).
//! - `traces.png`: the state reports (`/report`, only when the file has them), one panel
//!   per population and variable, a few neurons each (see [`traces`]).
//!
//! Text is drawn with DejaVu Sans, embedded in the binary (`assets/DejaVuSans.ttf`, license
//! in `assets/DejaVu-LICENSE.txt`), so no system font library is needed.
//!
//! # What is read
//!
//! ```text
//! /spikes/<population>/timestamps   f64, ms, sorted by time     (see engram_io)
//! /spikes/<population>/node_ids     u64, index in the population
//! /spikes/<population>              attr n_nodes (u64; if missing: largest node id + 1)
//! /engram                           attr duration_ms (f64; if missing: the data's extent)
//!
//! optional, for experiments with a protocol (all three datasets, same length):
//! /protocol/names       1-D variable-length strings (UTF-8 or ASCII), one per phase
//! /protocol/start_ms    1-D f64, start of each phase (ms)
//! /protocol/stop_ms     1-D f64, end of each phase (ms)
//!
//! optional, the acetylcholine trace (both datasets, same length):
//! /ach/time_ms          1-D f64, sample times (ms), increasing
//! /ach/concentration    1-D f64, concentration at those times
//!
//! optional, the images of a recall experiment:
//! /stimuli              attrs width, height (u64): image size in sensory neurons
//! /stimuli/encoded      2-D f64 [memories, width * height]: the stored images
//! /stimuli/recalled     2-D f64, the same shape: what was recalled
//! /stimuli/fidelity     1-D f64 (optional), one per memory: the r the run's summary
//!                       reports, with attr fidelity_compares (what it compares)
//! ```
//!
//! Each memory of `recall_grid.png` is labelled with its `/stimuli/fidelity` value, the
//! number the summary reports (for engram's files: the Pearson r of the recalled vs the
//! encoded sensory spike counts), and the title says what it compares. Without that
//! dataset the label is the Pearson r of the two images as drawn, said so in the title.
//!
//! Images are row-major: pixel `(x, y)` (x to the right, y down) of memory `m` is
//! element `[m, y * width + x]`. A `/protocol` or `/ach` group that is present but
//! incomplete or inconsistent is an error. `recall_grid.png` is drawn when `/stimuli`
//! has both `encoded` and `recalled`; a `/stimuli` group with only one of them is
//! skipped, and a wrong shape or size is an error.

use std::path::{Path, PathBuf};
use std::sync::Once;

use engram_io::{AchTrace, StimulusImages as Stimuli};
use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// Most neurons of one population drawn in a raster; larger populations are subsampled.
pub const MAX_DRAWN_NEURONS: u64 = 2000;

/// Width of the bins of `rates.png` (ms).
pub const RATE_BIN_MS: f64 = 5.0;

/// Width of `raster.png` and `rates.png` (pixels).
pub const FIGURE_WIDTH: u32 = 1600;

/// Height of `rates.png` (pixels).
pub const RATES_HEIGHT: u32 = 600;

pub mod sweep;
pub mod traces;

static FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");
const FAMILY: &str = "sans-serif";

/// Spikes read from the file at a time.
const READ_CHUNK: usize = 1 << 20;

/// Why plotting failed.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// The file is missing, not HDF5, not a spike file, or one of its groups is malformed;
    /// or the output folder cannot be created.
    #[error("{0}")]
    Input(String),
    /// As `Input`, about one file: the file or sweep folder that cannot be read, the
    /// output folder that cannot be created.
    #[error("{0}")]
    File(crate::FileError),
    /// Drawing or writing a figure failed.
    #[error("{0}")]
    Render(String),
}

/// Bad input about `file`: the input errors of reading it, named by it.
fn about(file: &Path, e: PlotError) -> PlotError {
    match e {
        PlotError::Input(m) => PlotError::File(crate::FileError::new(file, m)),
        e => e,
    }
}

fn input(msg: impl Into<String>) -> PlotError {
    PlotError::Input(msg.into())
}

fn render_err(e: impl std::fmt::Display) -> PlotError {
    PlotError::Render(e.to_string())
}

/// The folder the figures of `file` go to by default: `<file stem>_plots/` beside it.
pub fn default_dir(file: &Path) -> PathBuf {
    let stem = file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "run".into());
    file.with_file_name(format!("{stem}_plots"))
}

/// Reads `file`, draws its figures into `dir` (default: [`default_dir`]), creating the
/// folder, and returns the paths of the PNGs written.
pub fn plot(file: &Path, dir: Option<&Path>) -> Result<Vec<PathBuf>, PlotError> {
    let data = RunData::read(file).map_err(|e| about(file, e))?;
    let dir = dir.map_or_else(|| default_dir(file), Path::to_path_buf);
    create_dir(&dir)?;
    register_font()?;
    let mut written = Vec::new();
    let path = dir.join("raster.png");
    draw_raster(&data, &path)?;
    written.push(path);
    let path = dir.join("rates.png");
    draw_rates(&data, &path)?;
    written.push(path);
    if let Some(stimuli) = &data.stimuli {
        let path = dir.join("recall_grid.png");
        draw_recall_grid(stimuli, &path)?;
        written.push(path);
    }
    if !data.reports.is_empty() {
        let path = dir.join("traces.png");
        traces::draw_traces(&data.reports, &data.phases, &data.file_name, &path)?;
        written.push(path);
    }
    Ok(written)
}

/// Creates the output folder `dir` (bad input if it cannot be).
fn create_dir(dir: &Path) -> Result<(), PlotError> {
    std::fs::create_dir_all(dir).map_err(|e| {
        PlotError::File(crate::FileError::new(
            dir,
            format!("cannot create the folder {}: {e}", dir.display()),
        ))
    })
}

fn register_font() -> Result<(), PlotError> {
    static ONCE: Once = Once::new();
    let mut ok = true;
    ONCE.call_once(|| {
        ok = plotters::style::register_font(FAMILY, FontStyle::Normal, FONT).is_ok();
    });
    if ok {
        Ok(())
    } else {
        Err(PlotError::Render("the embedded font cannot be read".into()))
    }
}

// ---------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------

/// One population's spikes, reduced to what the figures need.
struct Population {
    name: String,
    n: u64,
    spikes: u64,
    /// Every `stride`-th neuron is drawn in the raster.
    stride: u64,
    /// Spikes of the drawn neurons: (time in ms, node id).
    points: Vec<(f32, u32)>,
    /// Spike counts in bins of `RATE_BIN_MS`.
    bins: Vec<u32>,
}

/// A phase of the protocol.
#[derive(Debug, Clone, PartialEq)]
struct Phase {
    name: String,
    start_ms: f64,
    stop_ms: f64,
    /// Index of its shade: phases of the same kind share one.
    shade: usize,
}

/// The kind of a phase: its name without a trailing number (`encode 3` -> `encode`).
fn phase_kind(name: &str) -> &str {
    let kind = name.trim_end_matches(|c: char| {
        c.is_ascii_digit() || c.is_whitespace() || matches!(c, '_' | '-' | '#' | '.')
    });
    if kind.is_empty() { name } else { kind }
}

/// Shades of phases: by kind, in order of first appearance; by position when all phases
/// are of one kind.
fn phase_shades(names: &[String]) -> Vec<usize> {
    let mut kinds: Vec<&str> = Vec::new();
    let shades: Vec<usize> = names
        .iter()
        .map(|n| {
            let k = phase_kind(n);
            kinds.iter().position(|&x| x == k).unwrap_or_else(|| {
                kinds.push(k);
                kinds.len() - 1
            })
        })
        .collect();
    if kinds.len() == 1 {
        (0..names.len()).collect()
    } else {
        shades
    }
}

struct RunData {
    file_name: String,
    duration_ms: f64,
    populations: Vec<Population>,
    phases: Vec<Phase>,
    ach: Option<AchTrace>,
    stimuli: Option<Stimuli>,
    reports: Vec<engram_io::ReportTrace>,
}

fn read_error(e: engram_io::Error) -> PlotError {
    input(e.to_string())
}

/// Reads one population's spikes in chunks: rate bins for all, points for the drawn
/// neurons.
fn read_population(
    g: &engram_io::SpikeGroup,
    name: &str,
    duration_ms: f64,
) -> Result<Population, PlotError> {
    let data = g.spikes().map_err(read_error)?;
    let len = data.len();
    let n = match data.n_nodes() {
        Some(n) => n,
        None => {
            let mut max = None;
            data.for_each_ids(READ_CHUNK, |chunk| {
                max = chunk.iter().copied().max().max(max);
            })
            .map_err(read_error)?;
            max.map_or(0, |m| m.saturating_add(1))
        }
    };
    let stride = n.div_ceil(MAX_DRAWN_NEURONS).max(1);
    let n_bins = (duration_ms / RATE_BIN_MS).ceil().max(1.0) as usize;
    let mut bins = vec![0u32; n_bins];
    let mut points = Vec::new();
    data.for_each(READ_CHUNK, |t, id| {
        for (&t, &id) in t.iter().zip(id) {
            let b = ((t / RATE_BIN_MS).floor().max(0.0) as usize).min(n_bins - 1);
            bins[b] += 1;
            if id % stride == 0 && id < n {
                points.push((t as f32, id as u32));
            }
        }
    })
    .map_err(read_error)?;
    Ok(Population {
        name: name.to_owned(),
        n,
        spikes: len as u64,
        stride,
        points,
        bins,
    })
}

impl RunData {
    fn read(path: &Path) -> Result<RunData, PlotError> {
        let file = engram_io::RunReader::open(path).map_err(read_error)?;
        let names = file.population_names().map_err(read_error)?;
        if names.is_empty() {
            return Err(input(format!(
                "{}: /spikes has no populations",
                path.display()
            )));
        }
        let spans = file.protocol().map_err(read_error)?;
        let shades = phase_shades(&spans.iter().map(|p| p.name.clone()).collect::<Vec<_>>());
        let phases: Vec<Phase> = spans
            .into_iter()
            .zip(shades)
            .map(|(p, shade)| Phase {
                name: p.name,
                start_ms: p.start_ms,
                stop_ms: p.stop_ms,
                shade,
            })
            .collect();
        let ach = file.ach().map_err(read_error)?;
        let stimuli = file.stimuli().map_err(read_error)?;
        let reports = file.reports().map_err(read_error)?;
        let groups = names
            .iter()
            .map(|n| file.population(n).map_err(read_error))
            .collect::<Result<Vec<_>, _>>()?;
        let duration_ms = match file.duration_ms() {
            Some(d) => d,
            None => {
                // The data's extent: last spike, end of the protocol, end of the ACh trace.
                let mut end = 0.0f64;
                for g in &groups {
                    if let Some(last) = g.last_time_ms() {
                        end = end.max(last);
                    }
                }
                for p in &phases {
                    end = end.max(p.stop_ms);
                }
                if let Some(a) = &ach {
                    end = end.max(a.time_ms.iter().copied().fold(0.0, f64::max));
                }
                if end > 0.0 { end } else { 1.0 }
            }
        };
        let populations = names
            .iter()
            .zip(&groups)
            .map(|(name, g)| read_population(g, name, duration_ms))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(RunData {
            file_name: path
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default(),
            duration_ms,
            populations,
            phases,
            ach,
            stimuli,
            reports,
        })
    }
}

// ---------------------------------------------------------------------------------------
// Drawing
// ---------------------------------------------------------------------------------------

type Area<'a> = DrawingArea<BitMapBackend<'a>, Shift>;

/// Dot colours of the populations, in order.
const POP_COLOURS: [RGBColor; 8] = [
    RGBColor(31, 90, 180),
    RGBColor(200, 40, 40),
    RGBColor(40, 150, 60),
    RGBColor(150, 80, 180),
    RGBColor(230, 120, 0),
    RGBColor(0, 150, 160),
    RGBColor(140, 90, 50),
    RGBColor(90, 90, 90),
];

/// Shades of the protocol phases, in order (light, so that the dots stay visible).
const PHASE_COLOURS: [RGBColor; 6] = [
    RGBColor(204, 226, 245),
    RGBColor(253, 220, 180),
    RGBColor(206, 236, 200),
    RGBColor(226, 214, 240),
    RGBColor(255, 240, 170),
    RGBColor(250, 205, 205),
];

const Y_LABEL_AREA: u32 = 80;
const MARGIN_LEFT: u32 = 15;
const MARGIN_RIGHT: u32 = 40;
const X_LABEL_AREA: u32 = 55;

fn pop_colour(i: usize) -> RGBColor {
    POP_COLOURS[i % POP_COLOURS.len()]
}

fn phase_colour(i: usize) -> RGBColor {
    PHASE_COLOURS[i % PHASE_COLOURS.len()]
}

fn font(size: f64) -> TextStyle<'static> {
    TextStyle::from((FAMILY, size).into_font()).color(&BLACK)
}

/// Draws into an RGB buffer and writes it as a PNG.
fn render_png(
    path: &Path,
    width: u32,
    height: u32,
    draw: impl FnOnce(&Area<'_>) -> Result<(), PlotError>,
) -> Result<(), PlotError> {
    let mut buf = vec![255u8; width as usize * height as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut buf, (width, height)).into_drawing_area();
        draw(&root)?;
        root.present().map_err(render_err)?;
    }
    image::save_buffer(path, &buf, width, height, image::ExtendedColorType::Rgb8)
        .map_err(|e| PlotError::Render(format!("cannot write {}: {e}", path.display())))
}

/// Tick labels of the time axis.
fn time_label(v: &f64) -> String {
    if v.abs() >= 100.0 || *v == v.round() {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

fn rate_label(v: &f64) -> String {
    format!("{v:.1}")
}

/// A figure's title, centred in `area`.
fn draw_title(area: &Area<'_>, text: &str) -> Result<(), PlotError> {
    let (w, h) = area.dim_in_pixel();
    area.draw_text(
        text,
        &font(22.0).pos(Pos::new(HPos::Center, VPos::Center)),
        (w as i32 / 2, h as i32 / 2 + 2),
    )
    .map_err(render_err)
}

fn count_label(v: &f64) -> String {
    format!("{v:.0}")
}

/// `text`, shortened with an ellipsis until it fits in `max_w` pixels; `None` if nothing
/// fits.
fn fit_text(area: &Area<'_>, text: &str, style: &TextStyle<'_>, max_w: u32) -> Option<String> {
    let width = |s: &str| area.estimate_text_size(s, style).map_or(u32::MAX, |s| s.0);
    if width(text) <= max_w {
        return Some(text.to_owned());
    }
    let chars: Vec<char> = text.chars().collect();
    for keep in (1..chars.len()).rev() {
        let s: String = chars[..keep].iter().chain(['…'].iter()).collect();
        if width(&s) <= max_w {
            return Some(s);
        }
    }
    None
}

/// Shades the phase windows of a chart over its full height.
fn shade_phases<DB: DrawingBackend>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    phases: &[Phase],
    y: (f64, f64),
) -> Result<(), PlotError> {
    chart
        .draw_series(phases.iter().map(|p| {
            Rectangle::new(
                [(p.start_ms, y.0), (p.stop_ms, y.1)],
                phase_colour(p.shade).filled(),
            )
        }))
        .map_err(render_err)?;
    // Boundaries, so that neighbouring phases of one shade stay apart.
    chart
        .draw_series(phases.iter().flat_map(|p| {
            [p.start_ms, p.stop_ms].map(|t| {
                PathElement::new(vec![(t, y.0), (t, y.1)], BLACK.mix(0.18).stroke_width(1))
            })
        }))
        .map_err(render_err)?;
    Ok(())
}

fn mean_rate_hz(p: &Population, duration_ms: f64) -> f64 {
    if p.n == 0 || duration_ms <= 0.0 {
        0.0
    } else {
        p.spikes as f64 / p.n as f64 / (duration_ms / 1000.0)
    }
}

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn raster_title(p: &Population, duration_ms: f64) -> String {
    let drawn = if p.stride > 1 {
        format!(
            " (1 in {} drawn: {})",
            p.stride,
            thousands(p.n.div_ceil(p.stride))
        )
    } else {
        String::new()
    };
    format!(
        "{}: {} neurons{drawn}, {} spikes, mean rate {:.2} Hz",
        p.name,
        thousands(p.n),
        thousands(p.spikes),
        mean_rate_hz(p, duration_ms)
    )
}

/// A trace reduced to at most about `2 * buckets` points that keep its extremes.
fn decimate(t: &[f64], c: &[f64], buckets: usize) -> Vec<(f64, f64)> {
    if t.len() <= 2 * buckets {
        return t.iter().copied().zip(c.iter().copied()).collect();
    }
    let per = t.len().div_ceil(buckets);
    let mut out = Vec::with_capacity(2 * buckets + 2);
    for (tb, cb) in t.chunks(per).zip(c.chunks(per)) {
        let (mut lo, mut hi) = (0, 0);
        for (j, v) in cb.iter().enumerate() {
            if *v < cb[lo] {
                lo = j;
            }
            if *v > cb[hi] {
                hi = j;
            }
        }
        let (a, b) = if lo <= hi { (lo, hi) } else { (hi, lo) };
        out.push((tb[a], cb[a]));
        if b != a {
            out.push((tb[b], cb[b]));
        }
    }
    out
}

const RASTER_TITLE_H: u32 = 46;
const RASTER_STRIP_H: u32 = 34;
const RASTER_ACH_H: u32 = 200;

/// Heights of the panels of `raster.png` (one per population, then the ACh panel), the
/// last one including the time axis.
fn raster_panel_heights(neurons: &[u64], ach: bool) -> Vec<u32> {
    let n_max = neurons.iter().copied().max().unwrap_or(1).max(1);
    let (base, extra) = if neurons.len() > 4 {
        (140.0, 120.0)
    } else {
        (170.0, 250.0)
    };
    let mut heights: Vec<u32> = neurons
        .iter()
        .map(|&n| (base + extra * (n as f64 / n_max as f64).sqrt()).round() as u32)
        .collect();
    if ach {
        heights.push(RASTER_ACH_H);
    }
    if let Some(last) = heights.last_mut() {
        *last += X_LABEL_AREA;
    }
    heights
}

/// Size in pixels of `raster.png` for populations of `neurons` neurons, with or without
/// a protocol and an ACh trace.
pub fn raster_size(neurons: &[u64], protocol: bool, ach: bool) -> (u32, u32) {
    let strip_h = if protocol { RASTER_STRIP_H } else { 0 };
    let panels: u32 = raster_panel_heights(neurons, ach).iter().sum();
    (FIGURE_WIDTH, RASTER_TITLE_H + strip_h + panels + 10)
}

fn draw_raster(data: &RunData, path: &Path) -> Result<(), PlotError> {
    let neurons: Vec<u64> = data.populations.iter().map(|p| p.n).collect();
    let heights = raster_panel_heights(&neurons, data.ach.is_some());
    let strip_h = if data.phases.is_empty() {
        0
    } else {
        RASTER_STRIP_H
    };
    let (_, height) = raster_size(&neurons, !data.phases.is_empty(), data.ach.is_some());
    let duration = data.duration_ms;
    render_png(path, FIGURE_WIDTH, height, |root| {
        root.fill(&WHITE).map_err(render_err)?;
        let (title, rest) = root.split_vertically(RASTER_TITLE_H);
        draw_title(
            &title,
            &format!(
                "{}: spike raster, {} ms",
                data.file_name,
                time_label(&duration)
            ),
        )?;
        let (strip, mut rest) = rest.split_vertically(strip_h);
        let n_panels = heights.len();
        let mut x_map: Option<(i32, i32)> = None;
        for (k, &h) in heights.iter().enumerate() {
            let (panel, below) = rest.split_vertically(h);
            rest = below;
            let bottom = k + 1 == n_panels;
            if k < data.populations.len() {
                let p = &data.populations[k];
                let range = draw_population_panel(&panel, p, k, data, bottom)?;
                x_map.get_or_insert(range);
            } else if let Some(ach) = &data.ach {
                draw_ach_panel(&panel, ach, data)?;
            }
        }
        if let Some((x0, x1)) = x_map.filter(|_| !data.phases.is_empty()) {
            draw_phase_strip(root, &strip, &data.phases, duration, (x0, x1))?;
        }
        Ok(())
    })
}

/// Draws one population's raster; returns the pixel columns of its time axis (0 and
/// the duration).
fn draw_population_panel(
    panel: &Area<'_>,
    p: &Population,
    index: usize,
    data: &RunData,
    bottom: bool,
) -> Result<(i32, i32), PlotError> {
    let n = p.n.max(1) as f64;
    let mut chart = ChartBuilder::on(panel)
        .margin_left(MARGIN_LEFT)
        .margin_right(MARGIN_RIGHT)
        .margin_top(4)
        .caption(raster_title(p, data.duration_ms), font(18.0))
        .x_label_area_size(if bottom { X_LABEL_AREA } else { 0 })
        .y_label_area_size(Y_LABEL_AREA)
        .build_cartesian_2d(0.0..data.duration_ms, 0.0..n)
        .map_err(render_err)?;
    shade_phases(&mut chart, &data.phases, (0.0, n))?;
    let mut mesh = chart.configure_mesh();
    mesh.disable_mesh()
        .y_desc("neuron")
        .y_labels(5)
        .y_label_formatter(&count_label)
        .x_label_formatter(&time_label)
        .label_style(font(15.0))
        .axis_desc_style(font(16.0));
    if bottom {
        mesh.x_desc("time (ms)").x_labels(12);
    }
    mesh.draw().map_err(render_err)?;

    // Dots: spikes mapped to pixels first, so that each pixel is drawn once however
    // many spikes fall on it.
    let (xr, yr) = chart.plotting_area().get_pixel_range();
    let (w, h) = ((xr.end - xr.start) as usize, (yr.end - yr.start) as usize);
    let mut grid = vec![false; w * h];
    for &(t, id) in &p.points {
        let (x, y) = chart.backend_coord(&(f64::from(t), f64::from(id) + 0.5));
        let (gx, gy) = (x - xr.start, y - yr.start);
        if gx >= 0 && gy >= 0 && (gx as usize) < w && (gy as usize) < h {
            grid[gy as usize * w + gx as usize] = true;
        }
    }
    let colour = pop_colour(index);
    let root = panel;
    let (ox, oy) = (panel.get_base_pixel().0, panel.get_base_pixel().1);
    // A dot is 2x2 pixels while the raster is sparse, 1 pixel when it is dense.
    let marked = grid.iter().filter(|&&b| b).count();
    let dot = if marked * 8 < w * h { 2 } else { 1 };
    for gy in 0..h {
        for gx in 0..w {
            if !grid[gy * w + gx] {
                continue;
            }
            for dy in 0..dot {
                for dx in 0..dot {
                    let (x, y) = (gx + dx, gy + dy);
                    if x < w && y < h {
                        root.draw_pixel(
                            (xr.start + x as i32 - ox, yr.start + y as i32 - oy),
                            &colour,
                        )
                        .map_err(render_err)?;
                    }
                }
            }
        }
    }
    frame(panel, &chart.plotting_area().get_pixel_range())?;
    let x0 = chart.backend_coord(&(0.0, 0.0)).0;
    let x1 = chart.backend_coord(&(data.duration_ms, 0.0)).0;
    Ok((x0, x1))
}

/// A thin frame around a plotting area given in backend pixels.
fn frame(
    panel: &Area<'_>,
    (xr, yr): &(std::ops::Range<i32>, std::ops::Range<i32>),
) -> Result<(), PlotError> {
    let (ox, oy) = panel.get_base_pixel();
    panel
        .draw(&Rectangle::new(
            [
                (xr.start - ox, yr.start - oy),
                (xr.end - 1 - ox, yr.end - 1 - oy),
            ],
            BLACK.mix(0.6).stroke_width(1),
        ))
        .map_err(render_err)
}

fn draw_ach_panel(panel: &Area<'_>, ach: &AchTrace, data: &RunData) -> Result<(), PlotError> {
    // Only the samples on the time axis, finite.
    let (t, c): (Vec<f64>, Vec<f64>) = ach
        .time_ms
        .iter()
        .zip(&ach.concentration)
        .filter(|(t, c)| (0.0..=data.duration_ms).contains(*t) && c.is_finite())
        .map(|(t, c)| (*t, *c))
        .unzip();
    let max = c.iter().copied().fold(0.0f64, f64::max);
    let min = c.iter().copied().fold(0.0f64, f64::min);
    let top = if max > min {
        max + 0.1 * (max - min)
    } else {
        min + 1.0
    };
    let mut chart = ChartBuilder::on(panel)
        .margin_left(MARGIN_LEFT)
        .margin_right(MARGIN_RIGHT)
        .margin_top(4)
        .caption("acetylcholine", font(18.0))
        .x_label_area_size(X_LABEL_AREA)
        .y_label_area_size(Y_LABEL_AREA)
        .build_cartesian_2d(0.0..data.duration_ms, min..top)
        .map_err(render_err)?;
    shade_phases(&mut chart, &data.phases, (min, top))?;
    chart
        .configure_mesh()
        .disable_mesh()
        .y_desc("ACh")
        .x_desc("time (ms)")
        .y_labels(4)
        .x_labels(12)
        .x_label_formatter(&time_label)
        .label_style(font(15.0))
        .axis_desc_style(font(16.0))
        .draw()
        .map_err(render_err)?;
    // A filled area under a 1-pixel line: plotters draws lines wider than one pixel out
    // of the plotting area where the data turns sharply (plotters issue #549), and every
    // ACh pulse does.
    let points = decimate(&t, &c, 2000);
    let brown = RGBColor(120, 60, 0);
    chart
        .draw_series(
            AreaSeries::new(points, min, brown.mix(0.25)).border_style(brown.stroke_width(1)),
        )
        .map_err(render_err)?;
    frame(panel, &chart.plotting_area().get_pixel_range())
}

/// The names of the phases, in coloured boxes above the rasters, aligned with the time
/// axis (`x` are the pixel columns of 0 and `duration`).
fn draw_phase_strip(
    root: &Area<'_>,
    strip: &Area<'_>,
    phases: &[Phase],
    duration: f64,
    x: (i32, i32),
) -> Result<(), PlotError> {
    let (_, sy) = strip.get_base_pixel();
    let (_, sh) = strip.dim_in_pixel();
    let px = |t: f64| x.0 + ((t / duration).clamp(0.0, 1.0) * f64::from(x.1 - x.0)).round() as i32;
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

fn draw_rates(data: &RunData, path: &Path) -> Result<(), PlotError> {
    let series: Vec<(String, Vec<(f64, f64)>)> = data
        .populations
        .iter()
        .map(|p| {
            let scale = if p.n > 0 {
                1000.0 / (p.n as f64 * RATE_BIN_MS)
            } else {
                0.0
            };
            let (t, r): (Vec<f64>, Vec<f64>) = p
                .bins
                .iter()
                .enumerate()
                .map(|(b, &c)| {
                    let t = ((b as f64 + 0.5) * RATE_BIN_MS).min(data.duration_ms);
                    (t, f64::from(c) * scale)
                })
                .unzip();
            // Long runs: at most about two points per pixel column, keeping the extremes.
            (p.name.clone(), decimate(&t, &r, FIGURE_WIDTH as usize))
        })
        .collect();
    let max = series
        .iter()
        .flat_map(|(_, s)| s.iter().map(|p| p.1))
        .fold(0.0f64, f64::max);
    let top = if max > 0.0 { max * 1.12 } else { 1.0 };
    let strip_h = if data.phases.is_empty() {
        0
    } else {
        RASTER_STRIP_H
    };
    let y_label = if top > 5.0 { count_label } else { rate_label };
    render_png(path, FIGURE_WIDTH, RATES_HEIGHT, |root| {
        root.fill(&WHITE).map_err(render_err)?;
        let (title, rest) = root.split_vertically(RASTER_TITLE_H);
        draw_title(
            &title,
            &format!(
                "{}: population rates ({} ms bins)",
                data.file_name,
                time_label(&RATE_BIN_MS)
            ),
        )?;
        let (strip, body) = rest.split_vertically(strip_h);
        let mut chart = ChartBuilder::on(&body)
            .margin_left(MARGIN_LEFT)
            .margin_right(MARGIN_RIGHT)
            .margin_top(4)
            .margin_bottom(5)
            .x_label_area_size(X_LABEL_AREA)
            .y_label_area_size(Y_LABEL_AREA)
            .build_cartesian_2d(0.0..data.duration_ms, 0.0..top)
            .map_err(render_err)?;
        shade_phases(&mut chart, &data.phases, (0.0, top))?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .bold_line_style(BLACK.mix(0.08))
            .light_line_style(TRANSPARENT)
            .y_desc("rate (Hz)")
            .x_desc("time (ms)")
            .x_labels(12)
            .y_labels(6)
            .x_label_formatter(&time_label)
            .y_label_formatter(&y_label)
            .label_style(font(15.0))
            .axis_desc_style(font(16.0))
            .draw()
            .map_err(render_err)?;
        for (i, (name, pts)) in series.into_iter().enumerate() {
            let colour = pop_colour(i);
            chart
                // One pixel wide: wider lines leave the plotting area at sharp turns.
                .draw_series(LineSeries::new(pts, colour.stroke_width(1)))
                .map_err(render_err)?
                .label(name)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 24, y)], colour.stroke_width(3))
                });
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK.mix(0.4))
            .label_font(font(16.0))
            .margin(12)
            .draw()
            .map_err(render_err)?;
        frame(&body, &chart.plotting_area().get_pixel_range())?;
        if !data.phases.is_empty() {
            let x0 = chart.backend_coord(&(0.0, 0.0)).0;
            let x1 = chart.backend_coord(&(data.duration_ms, 0.0)).0;
            draw_phase_strip(root, &strip, &data.phases, data.duration_ms, (x0, x1))?;
        }
        Ok(())
    })
}

/// Maps an image to grey levels in [0, 1]: its smallest value black, its largest white
/// (a constant image is black if <= 0, else white).
fn normalise(img: &[f64]) -> Vec<f64> {
    let finite = img.iter().copied().filter(|v| v.is_finite());
    let lo = finite.clone().fold(f64::INFINITY, f64::min);
    let hi = finite.fold(f64::NEG_INFINITY, f64::max);
    img.iter()
        .map(|&v| {
            if !v.is_finite() || !lo.is_finite() {
                0.0
            } else if hi > lo {
                (v - lo) / (hi - lo)
            } else if hi > 0.0 {
                1.0
            } else {
                0.0
            }
        })
        .collect()
}

/// Pearson correlation of two images; `None` when either is constant.
fn correlation(a: &[f64], b: &[f64]) -> Option<f64> {
    let n = a.len().min(b.len());
    if n == 0 {
        return None;
    }
    let ma = a[..n].iter().sum::<f64>() / n as f64;
    let mb = b[..n].iter().sum::<f64>() / n as f64;
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in a[..n].iter().zip(&b[..n]) {
        sab += (x - ma) * (y - mb);
        saa += (x - ma) * (x - ma);
        sbb += (y - mb) * (y - mb);
    }
    let r = sab / (saa * sbb).sqrt();
    r.is_finite().then_some(r)
}

/// The r shown beside memory `m` in `recall_grid.png`: the file's `/stimuli/fidelity`
/// (the summary's number) when it has one, else the correlation of the two images.
fn grid_r(s: &Stimuli, m: usize, enc: &[f64], rec: &[f64]) -> Option<f64> {
    match &s.fidelity {
        Some((values, _)) => values.get(m).copied().filter(|r| r.is_finite()),
        None => correlation(enc, rec),
    }
}

/// What the r of `recall_grid.png` compares.
fn grid_r_meaning(s: &Stimuli) -> String {
    match &s.fidelity {
        Some((_, compares)) => compares.clone(),
        None => "Pearson r of the stored and the recalled image as drawn".to_owned(),
    }
}

/// Geometry of `recall_grid.png`.
struct GridLayout {
    scale: u32,
    img_w: u32,
    img_h: u32,
    rows: usize,
    cols: usize,
    cell_w: u32,
    cell_h: u32,
    width: u32,
    height: u32,
}

const GRID_TITLE_H: u32 = 50;
const GRID_HEAD_H: u32 = 30;
const GRID_LABEL_W: u32 = 130;
const GRID_GAP: u32 = 16;
const GRID_MARGIN: u32 = 24;
const GRID_ROWS_PER_COLUMN: usize = 8;

/// Size in pixels of `recall_grid.png` for `memories` images of `width` x `height`.
pub fn recall_grid_size(width: usize, height: usize, memories: usize) -> (u32, u32) {
    let l = grid_layout(width, height, memories);
    (l.width, l.height)
}

fn grid_layout(width: usize, height: usize, memories: usize) -> GridLayout {
    let side = width.max(height).max(1) as u32;
    let scale = (150 / side).clamp(1, 40);
    let (img_w, img_h) = (width as u32 * scale, height as u32 * scale);
    let m = memories.max(1);
    let cols = m.div_ceil(GRID_ROWS_PER_COLUMN);
    let rows = m.div_ceil(cols);
    let cell_w = GRID_LABEL_W + 2 * img_w + GRID_GAP + 3 * GRID_GAP;
    let cell_h = img_h.max(44) + GRID_GAP;
    let width = (2 * GRID_MARGIN + cols as u32 * cell_w).max(480);
    let height = GRID_TITLE_H + GRID_HEAD_H + rows as u32 * cell_h + GRID_MARGIN;
    GridLayout {
        scale,
        img_w,
        img_h,
        rows,
        cols,
        cell_w,
        cell_h,
        width,
        height,
    }
}

fn draw_image(
    root: &Area<'_>,
    img: &[f64],
    s: &Stimuli,
    scale: u32,
    at: (i32, i32),
) -> Result<(), PlotError> {
    let grey = normalise(img);
    let scale = scale as i32;
    for y in 0..s.height {
        for x in 0..s.width {
            let g = (grey[y * s.width + x] * 255.0).round().clamp(0.0, 255.0) as u8;
            let colour = RGBColor(g, g, g);
            let (x0, y0) = (at.0 + x as i32 * scale, at.1 + y as i32 * scale);
            if scale == 1 {
                root.draw_pixel((x0, y0), &colour).map_err(render_err)?;
            } else {
                root.draw(&Rectangle::new(
                    [(x0, y0), (x0 + scale, y0 + scale)],
                    colour.filled(),
                ))
                .map_err(render_err)?;
            }
        }
    }
    let (w, h) = (s.width as i32 * scale, s.height as i32 * scale);
    root.draw(&Rectangle::new(
        [(at.0 - 1, at.1 - 1), (at.0 + w, at.1 + h)],
        RGBColor(150, 150, 150).stroke_width(1),
    ))
    .map_err(render_err)
}

fn draw_recall_grid(s: &Stimuli, path: &Path) -> Result<(), PlotError> {
    let l = grid_layout(s.width, s.height, s.encoded.len());
    render_png(path, l.width, l.height, |root| {
        root.fill(&WHITE).map_err(render_err)?;
        root.draw_text(
            &format!(
                "stored and recalled images: {} memories, {} x {} pixels",
                s.encoded.len(),
                s.width,
                s.height
            ),
            &font(20.0).pos(Pos::new(HPos::Center, VPos::Center)),
            (l.width as i32 / 2, GRID_TITLE_H as i32 / 3 + 2),
        )
        .map_err(render_err)?;
        let r_means = grid_r_meaning(s);
        let title_note = font(13.0)
            .color(&RGBColor(90, 90, 90))
            .pos(Pos::new(HPos::Center, VPos::Center));
        let r_means =
            fit_text(root, &format!("r: {r_means}"), &title_note, l.width - 20).unwrap_or_default();
        root.draw_text(
            &r_means,
            &title_note,
            (l.width as i32 / 2, GRID_TITLE_H as i32 * 4 / 5),
        )
        .map_err(render_err)?;
        let head = font(16.0).pos(Pos::new(HPos::Center, VPos::Center));
        for c in 0..l.cols {
            let x = (GRID_MARGIN + c as u32 * l.cell_w + GRID_LABEL_W) as i32;
            let y = (GRID_TITLE_H + GRID_HEAD_H / 2) as i32;
            let stored_x = x + l.img_w as i32 / 2;
            let recalled_x = x + (l.img_w + GRID_GAP + l.img_w / 2) as i32;
            root.draw_text("stored", &head, (stored_x, y))
                .map_err(render_err)?;
            root.draw_text("recalled", &head, (recalled_x, y))
                .map_err(render_err)?;
        }
        let label = font(17.0).pos(Pos::new(HPos::Left, VPos::Center));
        let note = font(14.0)
            .color(&RGBColor(90, 90, 90))
            .pos(Pos::new(HPos::Left, VPos::Center));
        for (m, (enc, rec)) in s.encoded.iter().zip(&s.recalled).enumerate() {
            let (c, r) = (m / l.rows, m % l.rows);
            let x = (GRID_MARGIN + c as u32 * l.cell_w) as i32;
            let y = (GRID_TITLE_H + GRID_HEAD_H + r as u32 * l.cell_h) as i32;
            let mid = y + l.img_h.max(44) as i32 / 2;
            root.draw_text(&format!("memory {m}"), &label, (x, mid - 10))
                .map_err(render_err)?;
            let r_text =
                grid_r(s, m, enc, rec).map_or("r = n/a".to_owned(), |r| format!("r = {r:.2}"));
            root.draw_text(&r_text, &note, (x, mid + 12))
                .map_err(render_err)?;
            let ix = x + GRID_LABEL_W as i32;
            let iy = mid - l.img_h as i32 / 2;
            draw_image(root, enc, s, l.scale, (ix, iy))?;
            draw_image(
                root,
                rec,
                s,
                l.scale,
                (ix + (l.img_w + GRID_GAP) as i32, iy),
            )?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_dir_is_beside_the_file() {
        assert_eq!(
            default_dir(Path::new("results/cuba.h5")),
            PathBuf::from("results/cuba_plots")
        );
        assert_eq!(default_dir(Path::new("x.h5")), PathBuf::from("x_plots"));
    }

    #[test]
    fn images_are_normalised_per_image() {
        assert_eq!(normalise(&[2.0, 4.0, 3.0]), vec![0.0, 1.0, 0.5]);
        assert_eq!(normalise(&[0.0, 0.0]), vec![0.0, 0.0]);
        assert_eq!(normalise(&[3.0, 3.0]), vec![1.0, 1.0]);
    }

    #[test]
    fn correlation_of_identical_and_constant_images() {
        let a = [0.0, 1.0, 0.0, 1.0];
        assert!((correlation(&a, &a).unwrap() - 1.0).abs() < 1e-12);
        assert_eq!(correlation(&a, &[0.5; 4]), None);
    }

    #[test]
    fn the_grid_shows_the_summary_fidelity_and_says_what_it_compares() {
        let a = vec![0.0, 1.0, 0.0, 1.0];
        let b = vec![1.0, 0.0, 1.0, 0.0];
        let mut s = Stimuli {
            width: 2,
            height: 2,
            encoded: vec![a.clone()],
            recalled: vec![b.clone()],
            fidelity: None,
        };
        // Without the file's fidelity: the images' own correlation, said so.
        assert!((grid_r(&s, 0, &a, &b).unwrap() + 1.0).abs() < 1e-12);
        assert!(grid_r_meaning(&s).contains("image as drawn"));
        s.fidelity = Some((vec![0.42], "Pearson r of counts".into()));
        assert_eq!(grid_r(&s, 0, &a, &b), Some(0.42));
        assert_eq!(grid_r_meaning(&s), "Pearson r of counts");
    }

    #[test]
    fn decimation_keeps_the_extremes() {
        let t: Vec<f64> = (0..10_000).map(f64::from).collect();
        let mut c = vec![0.0; 10_000];
        c[4321] = 7.0;
        let d = decimate(&t, &c, 100);
        assert!(d.len() <= 200);
        assert!(d.contains(&(4321.0, 7.0)));
    }

    #[test]
    fn phases_of_one_kind_share_a_shade() {
        let names: Vec<String> = ["encode 0", "gap", "encode 1", "gap", "recall_0", "recall_1"]
            .map(String::from)
            .to_vec();
        assert_eq!(phase_shades(&names), [0, 1, 0, 1, 2, 2]);
        let trials: Vec<String> = ["trial 1", "trial 2", "trial 3"].map(String::from).to_vec();
        assert_eq!(phase_shades(&trials), [0, 1, 2]);
        assert_eq!(phase_kind("42"), "42");
    }

    #[test]
    fn large_numbers_get_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1234567), "1,234,567");
    }
}
