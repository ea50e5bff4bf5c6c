//! Figures of an output file: `engram plot OUT.h5 [-o DIR] [--format png|svg|pdf]
//! [--width PX] [--height PX] [--font-size PX] [--log]`.
//!
//! The figures go to `DIR` (default: `<file stem>_plots/` beside the file), as PNG (the
//! default), SVG or PDF:
//!
//! - `raster`: one spike raster per population, stacked on a shared time axis; the
//!   phases of the protocol shaded, with a legend of their kinds and, above the panels,
//!   a band with the number of each numbered phase; the ACh concentration beneath.
//!   A population of more than [`MAX_DRAWN_NEURONS`] neurons is drawn subsampled (every
//!   k-th neuron, said in its title).
//! - `rates`: the firing rate of each population over time, in bins of [`RATE_BIN_MS`].
//! - `recall_grid`: for each memory, the stored and the recalled image side by side
//!   (only when the file has them), with the r of each memory and what it compares.
//! - `traces`: the state reports (`/report`, only when the file has them), one panel
//!   per population and variable, a few neurons each (see [`traces`]).
//!
//! Every figure is drawn once, by code generic over the plotters backend: into a bitmap
//! for PNG, into SVG text for SVG, and for PDF into SVG that `usvg` reads and `svg2pdf`
//! converts (text as embedded DejaVu Sans glyphs; 1 pixel = 1 point). `--width` and
//! `--height` set a figure's size in pixels (panels share the height in their usual
//! proportions); `--font-size` the size of the axis labels (default
//! [`DEFAULT_FONT_SIZE`]), every other text and the room kept for text in proportion.
//! `--log` makes colour scales logarithmic (the heatmap of a sweep); figures without one
//! are unchanged.
//!
//! Text is drawn with DejaVu Sans, embedded in the binary (`assets/DejaVuSans.ttf`, license
//! in `assets/DejaVu-LICENSE.txt`), so no system font library is needed; SVG names the
//! family `sans-serif`.
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
//! Each memory of the recall grid is labelled with its `/stimuli/fidelity` value, the
//! number the summary reports (for engram's files: the Pearson r of the recalled vs the
//! encoded sensory spike counts), and the figure says what it compares. Without that
//! dataset the label is the Pearson r of the two images as drawn, said so.
//!
//! Images are row-major: pixel `(x, y)` (x to the right, y down) of memory `m` is
//! element `[m, y * width + x]`. A `/protocol` or `/ach` group that is present but
//! incomplete or inconsistent is an error. The recall grid is drawn when `/stimuli`
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

/// Width of the bins of the rates figure (ms).
pub const RATE_BIN_MS: f64 = 5.0;

/// Default width of the raster, rates and traces figures (pixels).
pub const FIGURE_WIDTH: u32 = 1600;

/// Default height of the rates figure (pixels).
pub const RATES_HEIGHT: u32 = 600;

/// Default size of the numbers on the axes (pixels); the other texts are in proportion.
pub const DEFAULT_FONT_SIZE: f64 = 15.0;

/// Smallest and largest `--width` and `--height` (pixels).
pub const SIZE_RANGE: (u32, u32) = (200, 16_000);

/// Smallest and largest `--font-size`.
pub const FONT_SIZE_RANGE: (f64, f64) = (4.0, 100.0);

pub mod labels;
pub mod sweep;
pub mod traces;

static FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");
const FAMILY: &str = "sans-serif";
/// The family of the embedded font, as `usvg` finds it for `sans-serif`.
const FONT_NAME: &str = "DejaVu Sans";

/// Spikes read from the file at a time.
const READ_CHUNK: usize = 1 << 20;

/// Why plotting failed.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// The file is missing, not HDF5, not a spike file, or one of its groups is malformed;
    /// or the output folder cannot be created; or an option does not fit the figure.
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

/// The file format of the figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// PNG bitmap.
    #[default]
    Png,
    /// SVG, text as text.
    Svg,
    /// PDF, one page per figure, text as embedded glyphs.
    Pdf,
}

impl Format {
    /// The file name extension.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Png => "png",
            Format::Svg => "svg",
            Format::Pdf => "pdf",
        }
    }
}

/// How the figures are drawn (`engram plot`'s options).
#[derive(Debug, Clone, PartialEq)]
pub struct PlotOptions {
    /// File format.
    pub format: Format,
    /// Width of every figure in pixels (default: each figure's own).
    pub width: Option<u32>,
    /// Height of every figure in pixels (default: each figure's own).
    pub height: Option<u32>,
    /// Size of the axis labels; every other text in proportion.
    pub font_size: f64,
    /// Logarithmic colour scales.
    pub log: bool,
}

impl Default for PlotOptions {
    fn default() -> Self {
        PlotOptions {
            format: Format::Png,
            width: None,
            height: None,
            font_size: DEFAULT_FONT_SIZE,
            log: false,
        }
    }
}

impl PlotOptions {
    /// Refuses sizes and font sizes out of range, naming the option.
    pub fn check(&self) -> Result<(), PlotError> {
        let (lo, hi) = SIZE_RANGE;
        for (name, v) in [("--width", self.width), ("--height", self.height)] {
            if let Some(v) = v {
                if !(lo..=hi).contains(&v) {
                    return Err(input(format!("{name} {v}: give {lo} to {hi} pixels")));
                }
            }
        }
        let (lo, hi) = FONT_SIZE_RANGE;
        if !(lo..=hi).contains(&self.font_size) {
            return Err(input(format!(
                "--font-size {}: give {lo} to {hi}",
                self.font_size
            )));
        }
        Ok(())
    }

    fn style(&self) -> Style {
        Style {
            k: self.font_size / DEFAULT_FONT_SIZE,
            log: self.log,
        }
    }
}

/// What the drawing code needs of the options: the scale of text and of the room kept
/// for it (`k` = font size / [`DEFAULT_FONT_SIZE`]), and whether colour scales are
/// logarithmic.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Style {
    k: f64,
    log: bool,
}

impl Style {
    /// Text of `size` at the default font size, scaled.
    pub(crate) fn font(&self, size: f64) -> TextStyle<'static> {
        TextStyle::from((FAMILY, size * self.k).into_font()).color(&BLACK)
    }

    /// A length of the layout that holds text: `base` pixels at the default font size.
    pub(crate) fn px(&self, base: u32) -> u32 {
        (f64::from(base) * self.k).round() as u32
    }

    /// A filled block covering the pixels from `first` to `last`, both included (a
    /// filled rectangle ends before its second corner, in a bitmap as in SVG).
    pub(crate) fn block(
        &self,
        first: (i32, i32),
        last: (i32, i32),
        style: ShapeStyle,
    ) -> Rectangle<(i32, i32)> {
        Rectangle::new([first, (last.0 + 1, last.1 + 1)], style)
    }
}

/// The width of `text` in `style` (pixels), from the embedded font.
fn text_width(text: &str, style: &TextStyle<'_>) -> u32 {
    style.font.box_size(text).map_or(0, |(w, _)| w)
}

/// `text` broken into lines of at most `max_w` pixels at word boundaries (a word
/// longer than a line stays whole).
fn wrap(text: &str, style: &TextStyle<'_>, max_w: u32) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let candidate = if line.is_empty() {
            word.to_owned()
        } else {
            format!("{line} {word}")
        };
        if line.is_empty() || text_width(&candidate, style) <= max_w {
            line = candidate;
        } else {
            lines.push(std::mem::replace(&mut line, word.to_owned()));
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// The first of `choices` (longest first) that fits in `room` pixels in `style`, else
/// the empty string: the title of a y axis along a panel too short for the full one.
fn fit_label<'a>(choices: &[&'a str], style: &TextStyle<'_>, room: i32) -> &'a str {
    choices
        .iter()
        .copied()
        .find(|c| (text_width(c, style) as i32) <= room)
        .unwrap_or("")
}

/// A figure: its size and how to draw it on any plotters backend.
pub(crate) trait Figure {
    /// Width and height in pixels.
    fn size(&self) -> (u32, u32);
    /// Draws the figure on `root`, which is white and of [`Figure::size`].
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), PlotError>;
}

/// Draws `fig` and writes it to `path` in `format`.
pub(crate) fn render(fig: &impl Figure, path: &Path, format: Format) -> Result<(), PlotError> {
    let bytes = match format {
        Format::Png => png(fig)?,
        Format::Svg => svg(fig)?.into_bytes(),
        Format::Pdf => pdf(&svg(fig)?)?,
    };
    std::fs::write(path, bytes)
        .map_err(|e| PlotError::Render(format!("cannot write {}: {e}", path.display())))
}

fn png(fig: &impl Figure) -> Result<Vec<u8>, PlotError> {
    let (width, height) = fig.size();
    let mut buf = vec![255u8; width as usize * height as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut buf, (width, height)).into_drawing_area();
        fig.draw(&root)?;
        root.present().map_err(render_err)?;
    }
    let mut out = Vec::new();
    image::ImageEncoder::write_image(
        image::codecs::png::PngEncoder::new(&mut out),
        &buf,
        width,
        height,
        image::ExtendedColorType::Rgb8,
    )
    .map_err(|e| PlotError::Render(format!("cannot encode the PNG: {e}")))?;
    Ok(out)
}

fn svg(fig: &impl Figure) -> Result<String, PlotError> {
    let (width, height) = fig.size();
    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, (width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(render_err)?;
        fig.draw(&root)?;
        root.present().map_err(render_err)?;
    }
    Ok(text)
}

/// The PDF of an SVG figure: parsed by `usvg` with the embedded font as `sans-serif`,
/// written by `svg2pdf` (1 pixel = 1 point).
fn pdf(svg: &str) -> Result<Vec<u8>, PlotError> {
    let mut options = usvg::Options {
        font_family: FONT_NAME.to_owned(),
        ..usvg::Options::default()
    };
    let fonts = options.fontdb_mut();
    fonts.load_font_data(FONT.to_vec());
    fonts.set_sans_serif_family(FONT_NAME);
    let tree = usvg::Tree::from_str(svg, &options)
        .map_err(|e| PlotError::Render(format!("cannot read the SVG for the PDF: {e}")))?;
    svg2pdf::to_pdf(
        &tree,
        svg2pdf::ConversionOptions::default(),
        svg2pdf::PageOptions::default(),
    )
    .map_err(|e| PlotError::Render(format!("cannot convert the figure to PDF: {e}")))
}

/// The folder the figures of `file` go to by default: `<file stem>_plots/` beside it.
pub fn default_dir(file: &Path) -> PathBuf {
    let stem = file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "run".into());
    file.with_file_name(format!("{stem}_plots"))
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

/// Reads `file`, draws its figures into `dir` (default: [`default_dir`]), creating the
/// folder, and returns the paths of the files written (`raster`, `rates`, and
/// `recall_grid` and `traces` when the file has their data).
pub fn plot(
    file: &Path,
    dir: Option<&Path>,
    opts: &PlotOptions,
) -> Result<Vec<PathBuf>, PlotError> {
    opts.check()?;
    register_font()?;
    let data = RunData::read(file).map_err(|e| about(file, e))?;
    // Every figure is laid out before anything is written: a size that does not fit
    // one of them writes none.
    let raster = Raster::new(&data, opts)?;
    let rates = Rates::new(&data, opts)?;
    let grid = match &data.stimuli {
        Some(s) => Some(RecallGrid::new(s, opts)?),
        None => None,
    };
    let traces = if data.reports.is_empty() {
        None
    } else {
        Some(traces::Traces::new(
            &data.reports,
            &data.phases,
            &data.file_name,
            opts,
        )?)
    };
    let dir = dir.map_or_else(|| default_dir(file), Path::to_path_buf);
    create_dir(&dir)?;
    let ext = opts.format.extension();
    let mut written = Vec::new();
    let mut out = |name: &str| {
        let path = dir.join(format!("{name}.{ext}"));
        written.push(path.clone());
        path
    };
    render(&raster, &out("raster"), opts.format)?;
    render(&rates, &out("rates"), opts.format)?;
    if let Some(g) = &grid {
        render(g, &out("recall_grid"), opts.format)?;
    }
    if let Some(t) = &traces {
        render(t, &out("traces"), opts.format)?;
    }
    Ok(written)
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
pub(crate) struct Phase {
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

pub(crate) type Area<DB> = DrawingArea<DB, Shift>;

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

// Room kept for text at the default font size (scaled with it: `Style::px`).
const Y_LABEL_AREA: u32 = 80;
const MARGIN_LEFT: u32 = 15;
const MARGIN_RIGHT: u32 = 40;
const X_LABEL_AREA: u32 = 55;
const TITLE_H: u32 = 46;

fn pop_colour(i: usize) -> RGBColor {
    POP_COLOURS[i % POP_COLOURS.len()]
}

fn phase_colour(i: usize) -> RGBColor {
    PHASE_COLOURS[i % PHASE_COLOURS.len()]
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

fn count_label(v: &f64) -> String {
    format!("{v:.0}")
}

/// A figure's title, centred in `area`.
fn draw_title<DB: DrawingBackend>(
    area: &Area<DB>,
    text: &str,
    st: &Style,
) -> Result<(), PlotError> {
    let (w, h) = area.dim_in_pixel();
    area.draw_text(
        text,
        &st.font(22.0).pos(Pos::new(HPos::Center, VPos::Center)),
        (w as i32 / 2, h as i32 / 2 + 2),
    )
    .map_err(render_err)
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

/// A thin frame around a plotting area given in backend pixels.
fn frame<DB: DrawingBackend>(
    panel: &Area<DB>,
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

/// The legend of a figure's phases (their kinds and shades) and, below it, a band along
/// the time axis with the number of each numbered phase (`recall 3` -> `3`) where it
/// fits whole: no name is ever cut short.
pub(crate) struct PhaseStrip {
    /// Rows of legend entries: (shade, label).
    rows: Vec<Vec<(usize, String)>>,
    st: Style,
}

impl PhaseStrip {
    const ROW_H: u32 = 24;
    const BAND_H: u32 = 22;
    const SWATCH_W: u32 = 26;
    const GAP: u32 = 22;

    /// The legend entries of `phases`: one per shade, in order of first appearance, named
    /// by its phases (`pause`; `encode 0-9` for numbered phases of one kind); when every
    /// phase is of one kind (shaded by position), one entry naming the kind.
    fn entries(phases: &[Phase]) -> Vec<(usize, String)> {
        let kinds: Vec<&str> = phases.iter().map(|p| phase_kind(&p.name)).collect();
        if phases.len() > 1 && kinds.iter().all(|k| *k == kinds[0]) {
            return vec![(
                phases[0].shade,
                format!("{} ({} phases, shades alternate)", kinds[0], phases.len()),
            )];
        }
        let mut shades: Vec<usize> = Vec::new();
        for p in phases {
            if !shades.contains(&p.shade) {
                shades.push(p.shade);
            }
        }
        shades
            .into_iter()
            .map(|shade| {
                let names: Vec<&str> = phases
                    .iter()
                    .filter(|p| p.shade == shade)
                    .map(|p| p.name.as_str())
                    .collect();
                (shade, group_label(&names))
            })
            .collect()
    }

    /// The strip of `phases` for a figure whose legend may use `width` pixels; `None`
    /// without phases.
    pub(crate) fn new(phases: &[Phase], width: u32, st: &Style) -> Option<PhaseStrip> {
        if phases.is_empty() {
            return None;
        }
        let style = st.font(14.0);
        let mut rows: Vec<Vec<(usize, String)>> = vec![Vec::new()];
        let mut x = text_width("phases:", &style) + st.px(12);
        for (shade, label) in PhaseStrip::entries(phases) {
            let w = st.px(Self::SWATCH_W + 6) + text_width(&label, &style) + st.px(Self::GAP);
            let row = rows.last_mut().expect("a row");
            if !row.is_empty() && x + w > width {
                rows.push(Vec::new());
                x = text_width("phases:", &style) + st.px(12);
            }
            rows.last_mut().expect("a row").push((shade, label));
            x += w;
        }
        Some(PhaseStrip { rows, st: *st })
    }

    /// Height of the strip (pixels).
    pub(crate) fn height(&self) -> u32 {
        self.st.px(6)
            + self.rows.len() as u32 * self.st.px(Self::ROW_H)
            + self.st.px(Self::BAND_H)
            + self.st.px(6)
    }

    /// Draws the legend from pixel column `x.0` and the band between `x.0` and `x.1`
    /// (the pixel columns of `t0` and `t1` on the time axis) into `strip`, a part of
    /// `root`.
    pub(crate) fn draw<DB: DrawingBackend>(
        &self,
        root: &Area<DB>,
        strip: &Area<DB>,
        phases: &[Phase],
        (t0, t1): (f64, f64),
        x: (i32, i32),
    ) -> Result<(), PlotError> {
        let st = &self.st;
        let (_, sy) = strip.get_base_pixel();
        let style = st.font(14.0).pos(Pos::new(HPos::Left, VPos::Center));
        let head = text_width("phases:", &style) as i32 + st.px(12) as i32;
        let row_h = st.px(Self::ROW_H) as i32;
        for (r, row) in self.rows.iter().enumerate() {
            let y = sy + st.px(6) as i32 + r as i32 * row_h + row_h / 2;
            if r == 0 {
                root.draw_text("phases:", &style, (x.0, y))
                    .map_err(render_err)?;
            }
            let mut cx = x.0 + head;
            let sw = st.px(Self::SWATCH_W) as i32;
            let half = st.px(7) as i32;
            for (shade, label) in row {
                root.draw(&Rectangle::new(
                    [(cx, y - half), (cx + sw, y + half)],
                    phase_colour(*shade).filled(),
                ))
                .map_err(render_err)?;
                root.draw(&Rectangle::new(
                    [(cx, y - half), (cx + sw, y + half)],
                    BLACK.mix(0.35).stroke_width(1),
                ))
                .map_err(render_err)?;
                cx += sw + st.px(6) as i32;
                root.draw_text(label, &style, (cx, y)).map_err(render_err)?;
                cx += text_width(label, &style) as i32 + st.px(Self::GAP) as i32;
            }
        }
        // The band: each phase's shade along the time axis, with its number.
        let y0 = sy + st.px(6) as i32 + self.rows.len() as i32 * row_h + st.px(2) as i32;
        let y1 = y0 + st.px(Self::BAND_H) as i32 - st.px(4) as i32;
        let px = |t: f64| {
            x.0 + (((t - t0) / (t1 - t0)).clamp(0.0, 1.0) * f64::from(x.1 - x.0)).round() as i32
        };
        let number = st.font(13.0).pos(Pos::new(HPos::Center, VPos::Center));
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
            let tag = phase_number(&p.name);
            if !tag.is_empty() && (text_width(tag, &number) as i32) < b - a - 3 {
                root.draw_text(tag, &number, ((a + b) / 2, (y0 + y1) / 2))
                    .map_err(render_err)?;
            }
        }
        Ok(())
    }
}

/// What follows a phase's kind in its name: `recall 3` -> `3`; empty for `pause`.
fn phase_number(name: &str) -> &str {
    let kind = phase_kind(name);
    if kind.len() < name.len() {
        name[kind.len()..].trim_matches(|c: char| c.is_whitespace() || matches!(c, '_' | '-' | '#'))
    } else {
        ""
    }
}

/// The legend label of phases that share a shade: their name if they share one, the kind
/// and the range of their numbers (`encode 0-9`), or their names.
fn group_label(names: &[&str]) -> String {
    let first = names[0];
    if names.iter().all(|n| *n == first) {
        return first.to_owned();
    }
    let kind = phase_kind(first);
    let numbers: Option<Vec<u64>> = names
        .iter()
        .map(|n| {
            (phase_kind(n) == kind)
                .then(|| phase_number(n).parse::<u64>().ok())
                .flatten()
        })
        .collect();
    match numbers {
        Some(ns) => {
            let (lo, hi) = (ns.iter().min().copied(), ns.iter().max().copied());
            let mut sorted = ns.clone();
            sorted.sort_unstable();
            sorted.dedup();
            let contiguous = sorted.windows(2).all(|w| w[1] == w[0] + 1);
            match (lo, hi) {
                (Some(lo), Some(hi)) if contiguous => format!("{kind} {lo}–{hi}"),
                _ => format!("{kind} ({} phases)", names.len()),
            }
        }
        None => {
            let mut distinct: Vec<&str> = Vec::new();
            for n in names {
                if !distinct.contains(n) {
                    distinct.push(n);
                }
            }
            distinct.join(", ")
        }
    }
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

const RASTER_ACH_H: u32 = 200;

/// Heights of the panels of the raster at the default size (one per population, then
/// the ACh panel), without the time axis below the last.
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
    heights
}

/// `heights` scaled to sum to `total`, each at least `min`; `None` if they cannot be.
fn fit_heights(heights: &[u32], total: i64, min: u32) -> Option<Vec<u32>> {
    let sum: u32 = heights.iter().sum();
    if heights.is_empty() || total < i64::from(min) * heights.len() as i64 || sum == 0 {
        return None;
    }
    let f = total as f64 / f64::from(sum);
    let mut out: Vec<u32> = heights
        .iter()
        .map(|&h| ((f64::from(h) * f).floor() as u32).max(min))
        .collect();
    // Whatever rounding left over goes to the last panel.
    let used: i64 = out.iter().map(|&h| i64::from(h)).sum();
    let last = out.last_mut().expect("a panel");
    let rest = i64::from(*last) + total - used;
    if rest < i64::from(min) {
        return None;
    }
    *last = rest as u32;
    Some(out)
}

/// Where the time axis of the panel figures goes: the width kept for the y labels and
/// margins, for the legend's layout.
fn legend_width(width: u32, st: &Style) -> u32 {
    width.saturating_sub(st.px(Y_LABEL_AREA + MARGIN_LEFT + MARGIN_RIGHT))
}

/// The raster: a title, the phases' legend and band, one panel per population and the
/// ACh panel; the last panel carries the time axis.
struct Raster<'a> {
    data: &'a RunData,
    st: Style,
    width: u32,
    height: u32,
    strip: Option<PhaseStrip>,
    /// Heights of the panels, the time axis not included.
    panels: Vec<u32>,
}

impl<'a> Raster<'a> {
    fn new(data: &'a RunData, opts: &PlotOptions) -> Result<Raster<'a>, PlotError> {
        let neurons: Vec<u64> = data.populations.iter().map(|p| p.n).collect();
        let layout = raster_layout(&neurons, &data.phases, data.ach.is_some(), opts)?;
        Ok(Raster {
            data,
            st: opts.style(),
            width: layout.width,
            height: layout.height,
            strip: layout.strip,
            panels: layout.panels,
        })
    }
}

struct RasterLayout {
    width: u32,
    height: u32,
    strip: Option<PhaseStrip>,
    panels: Vec<u32>,
}

fn raster_layout(
    neurons: &[u64],
    phases: &[Phase],
    ach: bool,
    opts: &PlotOptions,
) -> Result<RasterLayout, PlotError> {
    register_font()?;
    let st = opts.style();
    let width = opts.width.unwrap_or(FIGURE_WIDTH);
    let strip = PhaseStrip::new(phases, legend_width(width, &st), &st);
    let strip_h = strip.as_ref().map_or(0, PhaseStrip::height);
    let natural = raster_panel_heights(neurons, ach);
    // Text scales with the font; the panels keep their room for the dots.
    let captions = natural.len() as u32 * st.px(26).saturating_sub(26);
    let fixed = st.px(TITLE_H) + strip_h + st.px(X_LABEL_AREA) + 10;
    let (height, panels) = match opts.height {
        None => {
            let panels: Vec<u32> = natural
                .iter()
                .map(|h| h + st.px(26).saturating_sub(26))
                .collect();
            (fixed + natural.iter().sum::<u32>() + captions, panels)
        }
        Some(h) => {
            let min = st.px(26) + 30;
            let panels =
                fit_heights(&natural, i64::from(h) - i64::from(fixed), min).ok_or_else(|| {
                    input(format!(
                        "--height {h}: too small for the raster's {} panels (at least {} \
                         pixels)",
                        natural.len(),
                        fixed + min * natural.len() as u32
                    ))
                })?;
            (h, panels)
        }
    };
    Ok(RasterLayout {
        width,
        height,
        strip,
        panels,
    })
}

/// Size in pixels of the raster for populations of `neurons` neurons, with the phases
/// named `phases` (none: no protocol) and with or without an ACh trace.
pub fn raster_size(
    neurons: &[u64],
    phases: &[&str],
    ach: bool,
    opts: &PlotOptions,
) -> Result<(u32, u32), PlotError> {
    let names: Vec<String> = phases.iter().map(|s| s.to_string()).collect();
    let shades = phase_shades(&names);
    let phases: Vec<Phase> = names
        .into_iter()
        .zip(shades)
        .enumerate()
        .map(|(i, (name, shade))| Phase {
            name,
            start_ms: i as f64,
            stop_ms: i as f64 + 1.0,
            shade,
        })
        .collect();
    let l = raster_layout(neurons, &phases, ach, opts)?;
    Ok((l.width, l.height))
}

impl Figure for Raster<'_> {
    fn size(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    fn draw<DB: DrawingBackend>(&self, root: &Area<DB>) -> Result<(), PlotError> {
        let (data, st) = (self.data, &self.st);
        let duration = data.duration_ms;
        root.fill(&WHITE).map_err(render_err)?;
        let (title, rest) = root.split_vertically(st.px(TITLE_H));
        draw_title(
            &title,
            &format!(
                "{}: spike raster, {} ms",
                data.file_name,
                time_label(&duration)
            ),
            st,
        )?;
        let strip_h = self.strip.as_ref().map_or(0, PhaseStrip::height);
        let (strip, mut rest) = rest.split_vertically(strip_h);
        let n_panels = self.panels.len();
        let mut x_map: Option<(i32, i32)> = None;
        for (k, &h) in self.panels.iter().enumerate() {
            let bottom = k + 1 == n_panels;
            let h = if bottom { h + st.px(X_LABEL_AREA) } else { h };
            let (panel, below) = rest.split_vertically(h);
            rest = below;
            if k < data.populations.len() {
                let p = &data.populations[k];
                let range = draw_population_panel(&panel, p, k, data, bottom, st)?;
                x_map.get_or_insert(range);
            } else if let Some(ach) = &data.ach {
                draw_ach_panel(&panel, ach, data, st)?;
            }
        }
        if let (Some(s), Some(x)) = (&self.strip, x_map) {
            s.draw(root, &strip, &data.phases, (0.0, duration), x)?;
        }
        Ok(())
    }
}

/// Draws one population's raster; returns the pixel columns of its time axis (0 and
/// the duration).
fn draw_population_panel<DB: DrawingBackend>(
    panel: &Area<DB>,
    p: &Population,
    index: usize,
    data: &RunData,
    bottom: bool,
    st: &Style,
) -> Result<(i32, i32), PlotError> {
    let n = p.n.max(1) as f64;
    let mut chart = ChartBuilder::on(panel)
        .margin_left(st.px(MARGIN_LEFT))
        .margin_right(st.px(MARGIN_RIGHT))
        .margin_top(4)
        .caption(raster_title(p, data.duration_ms), st.font(18.0))
        .x_label_area_size(if bottom { st.px(X_LABEL_AREA) } else { 0 })
        .y_label_area_size(st.px(Y_LABEL_AREA))
        .build_cartesian_2d(0.0..data.duration_ms, 0.0..n)
        .map_err(render_err)?;
    shade_phases(&mut chart, &data.phases, (0.0, n))?;
    let room = chart.plotting_area().get_pixel_range().1.len() as i32;
    let y_desc = fit_label(&["neuron (node id)", "neuron"], &st.font(16.0), room);
    let mut mesh = chart.configure_mesh();
    mesh.disable_mesh()
        .y_desc(y_desc)
        .y_labels(5)
        .y_label_formatter(&count_label)
        .x_label_formatter(&time_label)
        .label_style(st.font(15.0))
        .axis_desc_style(st.font(16.0));
    if bottom {
        mesh.x_desc("time (ms)").x_labels(12);
    }
    mesh.draw().map_err(render_err)?;

    // Dots: spikes mapped to pixels first, so that each pixel is drawn once however
    // many spikes fall on it; runs of marked pixels in a row are drawn as one rectangle
    // (a small file in SVG and PDF).
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
    let colour = pop_colour(index).filled();
    let (ox, oy) = panel.get_base_pixel();
    // A dot is 2x2 pixels while the raster is sparse, 1 pixel when it is dense.
    let marked = grid.iter().filter(|&&b| b).count();
    let dot = if marked * 8 < w * h { 2 } else { 1 };
    for gy in 0..h {
        let row = &grid[gy * w..(gy + 1) * w];
        let mut gx = 0;
        while gx < w {
            if !row[gx] {
                gx += 1;
                continue;
            }
            let start = gx;
            while gx < w && row[gx] {
                gx += 1;
            }
            // Pixels start..gx (+ the dot's width), clipped to the plotting area.
            let x0 = xr.start + start as i32 - ox;
            let x1 = xr.start + ((gx - 1 + dot).min(w) - 1) as i32 - ox;
            let y0 = yr.start + gy as i32 - oy;
            let y1 = yr.start + ((gy + dot).min(h) - 1) as i32 - oy;
            panel
                .draw(&st.block((x0, y0), (x1, y1), colour))
                .map_err(render_err)?;
        }
    }
    frame(panel, &chart.plotting_area().get_pixel_range())?;
    let x0 = chart.backend_coord(&(0.0, 0.0)).0;
    let x1 = chart.backend_coord(&(data.duration_ms, 0.0)).0;
    Ok((x0, x1))
}

fn draw_ach_panel<DB: DrawingBackend>(
    panel: &Area<DB>,
    ach: &AchTrace,
    data: &RunData,
    st: &Style,
) -> Result<(), PlotError> {
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
        .margin_left(st.px(MARGIN_LEFT))
        .margin_right(st.px(MARGIN_RIGHT))
        .margin_top(4)
        .caption("acetylcholine concentration", st.font(18.0))
        .x_label_area_size(st.px(X_LABEL_AREA))
        .y_label_area_size(st.px(Y_LABEL_AREA))
        .build_cartesian_2d(0.0..data.duration_ms, min..top)
        .map_err(render_err)?;
    shade_phases(&mut chart, &data.phases, (min, top))?;
    let room = chart.plotting_area().get_pixel_range().1.len() as i32;
    chart
        .configure_mesh()
        .disable_mesh()
        .y_desc(fit_label(&["ACh (a.u.)", "ACh"], &st.font(16.0), room))
        .x_desc("time (ms)")
        .y_labels(4)
        .x_labels(12)
        .x_label_formatter(&time_label)
        .label_style(st.font(15.0))
        .axis_desc_style(st.font(16.0))
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

/// The firing rates of the populations over time.
struct Rates<'a> {
    data: &'a RunData,
    st: Style,
    width: u32,
    height: u32,
    strip: Option<PhaseStrip>,
}

impl<'a> Rates<'a> {
    fn new(data: &'a RunData, opts: &PlotOptions) -> Result<Rates<'a>, PlotError> {
        let st = opts.style();
        let width = opts.width.unwrap_or(FIGURE_WIDTH);
        let height = opts.height.unwrap_or(RATES_HEIGHT);
        let strip = PhaseStrip::new(&data.phases, legend_width(width, &st), &st);
        let strip_h = strip.as_ref().map_or(0, PhaseStrip::height);
        let need = st.px(TITLE_H) + strip_h + st.px(X_LABEL_AREA) + 60;
        if height < need {
            return Err(input(format!(
                "--height {height}: too small for the rates (at least {need} pixels)"
            )));
        }
        Ok(Rates {
            data,
            st,
            width,
            height,
            strip,
        })
    }
}

impl Figure for Rates<'_> {
    fn size(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    fn draw<DB: DrawingBackend>(&self, root: &Area<DB>) -> Result<(), PlotError> {
        let (data, st) = (self.data, &self.st);
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
                // Long runs: at most about two points per pixel column, keeping the
                // extremes.
                (p.name.clone(), decimate(&t, &r, self.width as usize))
            })
            .collect();
        let max = series
            .iter()
            .flat_map(|(_, s)| s.iter().map(|p| p.1))
            .fold(0.0f64, f64::max);
        let top = if max > 0.0 { max * 1.12 } else { 1.0 };
        let y_label = if top > 5.0 { count_label } else { rate_label };
        root.fill(&WHITE).map_err(render_err)?;
        let (title, rest) = root.split_vertically(st.px(TITLE_H));
        draw_title(
            &title,
            &format!(
                "{}: population firing rates ({} ms bins)",
                data.file_name,
                time_label(&RATE_BIN_MS)
            ),
            st,
        )?;
        let strip_h = self.strip.as_ref().map_or(0, PhaseStrip::height);
        let (strip, body) = rest.split_vertically(strip_h);
        let mut chart = ChartBuilder::on(&body)
            .margin_left(st.px(MARGIN_LEFT))
            .margin_right(st.px(MARGIN_RIGHT))
            .margin_top(4)
            .margin_bottom(5)
            .x_label_area_size(st.px(X_LABEL_AREA))
            .y_label_area_size(st.px(Y_LABEL_AREA))
            .build_cartesian_2d(0.0..data.duration_ms, 0.0..top)
            .map_err(render_err)?;
        shade_phases(&mut chart, &data.phases, (0.0, top))?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .bold_line_style(BLACK.mix(0.08))
            .light_line_style(TRANSPARENT)
            .y_desc("firing rate (Hz)")
            .x_desc("time (ms)")
            .x_labels(12)
            .y_labels(6)
            .x_label_formatter(&time_label)
            .y_label_formatter(&y_label)
            .label_style(st.font(15.0))
            .axis_desc_style(st.font(16.0))
            .draw()
            .map_err(render_err)?;
        for (i, (name, pts)) in series.into_iter().enumerate() {
            let colour = pop_colour(i);
            let w = st.px(24) as i32;
            chart
                // One pixel wide: wider lines leave the plotting area at sharp turns.
                .draw_series(LineSeries::new(pts, colour.stroke_width(1)))
                .map_err(render_err)?
                .label(name)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + w, y)], colour.stroke_width(3))
                });
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK.mix(0.4))
            .label_font(st.font(16.0))
            .margin(st.px(12))
            .draw()
            .map_err(render_err)?;
        frame(&body, &chart.plotting_area().get_pixel_range())?;
        if let Some(s) = &self.strip {
            let x0 = chart.backend_coord(&(0.0, 0.0)).0;
            let x1 = chart.backend_coord(&(data.duration_ms, 0.0)).0;
            s.draw(
                root,
                &strip,
                &data.phases,
                (0.0, data.duration_ms),
                (x0, x1),
            )?;
        }
        Ok(())
    }
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

/// The r shown beside memory `m` in the recall grid: the file's `/stimuli/fidelity`
/// (the summary's number) when it has one, else the correlation of the two images.
fn grid_r(s: &Stimuli, m: usize, enc: &[f64], rec: &[f64]) -> Option<f64> {
    match &s.fidelity {
        Some((values, _)) => values.get(m).copied().filter(|r| r.is_finite()),
        None => correlation(enc, rec),
    }
}

/// What the r of the recall grid compares.
fn grid_r_meaning(s: &Stimuli) -> String {
    match &s.fidelity {
        Some((_, compares)) => compares.clone(),
        None => "Pearson r of the stored and the recalled image as drawn".to_owned(),
    }
}

/// The notes under the recall grid's title: what r compares and what the grey levels
/// mean.
fn grid_notes(s: &Stimuli) -> [String; 2] {
    [
        format!("r beside each memory: {}", grid_r_meaning(s)),
        "grey levels: each image on its own scale, from its lowest value (black) to its \
         highest (white)"
            .to_owned(),
    ]
}

/// Geometry of the recall grid.
struct GridLayout {
    scale: u32,
    img_w: u32,
    img_h: u32,
    rows: usize,
    cols: usize,
    cell_w: u32,
    cell_h: u32,
    label_w: u32,
    gap: u32,
    margin: u32,
    title_h: u32,
    head_h: u32,
    width: u32,
    height: u32,
    /// The notes under the title, one string a line.
    notes: Vec<String>,
}

const GRID_TITLE_H: u32 = 40;
const GRID_NOTE_H: u32 = 20;
const GRID_HEAD_H: u32 = 30;
const GRID_LABEL_W: u32 = 130;
const GRID_GAP: u32 = 16;
const GRID_MARGIN: u32 = 24;
const GRID_ROWS_PER_COLUMN: usize = 8;
const GRID_MIN_WIDTH: u32 = 480;

/// Size in pixels of the recall grid for `memories` images of `width` x `height`, with
/// the notes of `stimuli` (what r compares).
pub fn recall_grid_size(stimuli: &Stimuli, opts: &PlotOptions) -> Result<(u32, u32), PlotError> {
    let l = grid_layout(stimuli, opts)?;
    Ok((l.width, l.height))
}

fn grid_geometry(
    width: usize,
    height: usize,
    memories: usize,
    scale: u32,
    st: &Style,
) -> GridLayout {
    let (img_w, img_h) = (width as u32 * scale, height as u32 * scale);
    let m = memories.max(1);
    let cols = m.div_ceil(GRID_ROWS_PER_COLUMN);
    let rows = m.div_ceil(cols);
    let label_w = st.px(GRID_LABEL_W);
    let gap = GRID_GAP;
    let cell_w = label_w + 2 * img_w + gap + 3 * gap;
    let cell_h = img_h.max(st.px(44)) + gap;
    let margin = GRID_MARGIN;
    GridLayout {
        scale,
        img_w,
        img_h,
        rows,
        cols,
        cell_w,
        cell_h,
        label_w,
        gap,
        margin,
        title_h: st.px(GRID_TITLE_H),
        head_h: st.px(GRID_HEAD_H),
        width: (2 * margin + cols as u32 * cell_w).max(GRID_MIN_WIDTH),
        height: 0,
        notes: Vec::new(),
    }
}

fn grid_layout(s: &Stimuli, opts: &PlotOptions) -> Result<GridLayout, PlotError> {
    register_font()?;
    let st = opts.style();
    let memories = s.encoded.len();
    let side = s.width.max(s.height).max(1) as u32;
    let natural = (150 / side).clamp(1, 40);
    // The notes, wrapped to the figure's width.
    let note_style = st.font(14.0);
    let with_notes = |mut l: GridLayout, width: u32| {
        l.width = width;
        l.notes = grid_notes(s)
            .iter()
            .flat_map(|n| wrap(n, &note_style, width.saturating_sub(2 * l.margin)))
            .collect();
        l.height = l.title_h
            + l.notes.len() as u32 * st.px(GRID_NOTE_H)
            + l.head_h
            + l.rows as u32 * l.cell_h
            + l.margin;
        l
    };
    if opts.width.is_none() && opts.height.is_none() {
        let l = grid_geometry(s.width, s.height, memories, natural, &st);
        let w = l.width;
        return Ok(with_notes(l, w));
    }
    // The largest image scale at which the grid fits the size asked for.
    for scale in (1..=40).rev() {
        let l = grid_geometry(s.width, s.height, memories, scale, &st);
        let width = opts.width.unwrap_or(l.width);
        if l.width > width {
            continue;
        }
        let l = with_notes(l, width);
        match opts.height {
            Some(h) if l.height > h => continue,
            Some(h) => {
                return Ok(GridLayout { height: h, ..l });
            }
            None => return Ok(l),
        }
    }
    let smallest = grid_geometry(s.width, s.height, memories, 1, &st);
    let w = smallest.width;
    let l = with_notes(smallest, w);
    Err(input(format!(
        "--width/--height: the recall grid of {memories} memories of {} x {} pixels needs at \
         least {} x {} pixels",
        s.width, s.height, l.width, l.height
    )))
}

fn draw_image<DB: DrawingBackend>(
    root: &Area<DB>,
    img: &[f64],
    s: &Stimuli,
    scale: u32,
    at: (i32, i32),
    st: &Style,
) -> Result<(), PlotError> {
    let grey = normalise(img);
    let scale = scale as i32;
    for y in 0..s.height {
        for x in 0..s.width {
            let g = (grey[y * s.width + x] * 255.0).round().clamp(0.0, 255.0) as u8;
            let colour = RGBColor(g, g, g);
            let (x0, y0) = (at.0 + x as i32 * scale, at.1 + y as i32 * scale);
            root.draw(&st.block((x0, y0), (x0 + scale - 1, y0 + scale - 1), colour.filled()))
                .map_err(render_err)?;
        }
    }
    let (w, h) = (s.width as i32 * scale, s.height as i32 * scale);
    root.draw(&Rectangle::new(
        [(at.0 - 1, at.1 - 1), (at.0 + w, at.1 + h)],
        RGBColor(150, 150, 150).stroke_width(1),
    ))
    .map_err(render_err)
}

/// The stored and recalled images of a recall experiment, side by side.
struct RecallGrid<'a> {
    s: &'a Stimuli,
    st: Style,
    l: GridLayout,
}

impl<'a> RecallGrid<'a> {
    fn new(s: &'a Stimuli, opts: &PlotOptions) -> Result<RecallGrid<'a>, PlotError> {
        Ok(RecallGrid {
            s,
            st: opts.style(),
            l: grid_layout(s, opts)?,
        })
    }
}

impl Figure for RecallGrid<'_> {
    fn size(&self) -> (u32, u32) {
        (self.l.width, self.l.height)
    }

    fn draw<DB: DrawingBackend>(&self, root: &Area<DB>) -> Result<(), PlotError> {
        let (s, l, st) = (self.s, &self.l, &self.st);
        root.fill(&WHITE).map_err(render_err)?;
        let centre = l.width as i32 / 2;
        root.draw_text(
            &format!(
                "stored and recalled images: {} memories, {} x {} pixels",
                s.encoded.len(),
                s.width,
                s.height
            ),
            &st.font(20.0).pos(Pos::new(HPos::Center, VPos::Center)),
            (centre, l.title_h as i32 / 2 + 2),
        )
        .map_err(render_err)?;
        let note = st
            .font(14.0)
            .color(&RGBColor(70, 70, 70))
            .pos(Pos::new(HPos::Center, VPos::Center));
        let note_h = st.px(GRID_NOTE_H);
        for (i, line) in l.notes.iter().enumerate() {
            let y = l.title_h + i as u32 * note_h + note_h / 2;
            root.draw_text(line, &note, (centre, y as i32))
                .map_err(render_err)?;
        }
        let top = l.title_h + l.notes.len() as u32 * note_h;
        // The columns of memories, centred in the width.
        let used = 2 * l.margin + l.cols as u32 * l.cell_w;
        let left = l.margin + l.width.saturating_sub(used) / 2;
        let head = st.font(16.0).pos(Pos::new(HPos::Center, VPos::Center));
        for c in 0..l.cols {
            let x = (left + c as u32 * l.cell_w + l.label_w) as i32;
            let y = (top + l.head_h / 2) as i32;
            let stored_x = x + l.img_w as i32 / 2;
            let recalled_x = x + (l.img_w + l.gap + l.img_w / 2) as i32;
            root.draw_text("stored", &head, (stored_x, y))
                .map_err(render_err)?;
            root.draw_text("recalled", &head, (recalled_x, y))
                .map_err(render_err)?;
        }
        let label = st.font(17.0).pos(Pos::new(HPos::Left, VPos::Center));
        let r_style = st
            .font(15.0)
            .color(&RGBColor(70, 70, 70))
            .pos(Pos::new(HPos::Left, VPos::Center));
        for (m, (enc, rec)) in s.encoded.iter().zip(&s.recalled).enumerate() {
            let (c, r) = (m / l.rows, m % l.rows);
            let x = (left + c as u32 * l.cell_w) as i32;
            let y = (top + l.head_h + r as u32 * l.cell_h) as i32;
            let mid = y + l.img_h.max(st.px(44)) as i32 / 2;
            let dy = st.px(11) as i32;
            root.draw_text(&format!("memory {m}"), &label, (x, mid - dy))
                .map_err(render_err)?;
            let r_text =
                grid_r(s, m, enc, rec).map_or("r = n/a".to_owned(), |r| format!("r = {r:.2}"));
            root.draw_text(&r_text, &r_style, (x, mid + dy))
                .map_err(render_err)?;
            let ix = x + l.label_w as i32;
            let iy = mid - l.img_h as i32 / 2;
            draw_image(root, enc, s, l.scale, (ix, iy), st)?;
            draw_image(
                root,
                rec,
                s,
                l.scale,
                (ix + (l.img_w + l.gap) as i32, iy),
                st,
            )?;
        }
        Ok(())
    }
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

    fn phase(name: &str, shade: usize) -> Phase {
        Phase {
            name: name.into(),
            start_ms: 0.0,
            stop_ms: 1.0,
            shade,
        }
    }

    #[test]
    fn the_phase_legend_names_each_shade_once() {
        let names: Vec<String> = [
            "encode 0", "pause", "encode 1", "pause", "delay", "recall 0", "pause", "recall 1",
        ]
        .map(String::from)
        .to_vec();
        let phases: Vec<Phase> = names
            .iter()
            .zip(phase_shades(&names))
            .map(|(n, s)| phase(n, s))
            .collect();
        assert_eq!(
            PhaseStrip::entries(&phases),
            [
                (0, "encode 0–1".to_string()),
                (1, "pause".to_string()),
                (2, "delay".to_string()),
                (3, "recall 0–1".to_string()),
            ]
        );
        // One kind throughout: shaded by position, named once.
        let trials: Vec<Phase> = (0..3).map(|i| phase(&format!("trial {i}"), i)).collect();
        assert_eq!(
            PhaseStrip::entries(&trials),
            [(0, "trial (3 phases, shades alternate)".to_string())]
        );
        assert_eq!(group_label(&["recall 0", "recall 2"]), "recall (2 phases)");
        assert_eq!(group_label(&["a", "b", "a"]), "a, b");
        assert_eq!(phase_number("recall 3"), "3");
        assert_eq!(phase_number("pause"), "");
        assert_eq!(phase_number("trial_12"), "12");
    }

    #[test]
    fn the_legend_wraps_onto_more_rows_when_narrow() {
        register_font().unwrap();
        let st = PlotOptions::default().style();
        let names: Vec<String> = [
            "baseline", "encode", "pause", "delay", "recall", "name", "probe", "rest",
        ]
        .map(String::from)
        .to_vec();
        let phases: Vec<Phase> = names.iter().enumerate().map(|(i, n)| phase(n, i)).collect();
        let wide = PhaseStrip::new(&phases, 4000, &st).unwrap();
        let narrow = PhaseStrip::new(&phases, 300, &st).unwrap();
        assert_eq!(wide.rows.len(), 1);
        assert!(narrow.rows.len() > 2, "{}", narrow.rows.len());
        assert!(narrow.height() > wide.height());
        assert!(PhaseStrip::new(&[], 300, &st).is_none());
    }

    #[test]
    fn heights_fit_the_total_in_proportion() {
        assert_eq!(fit_heights(&[100, 300], 800, 50), Some(vec![200, 600]));
        assert_eq!(fit_heights(&[100, 100, 100], 100, 50), None);
        let h = fit_heights(&[170, 420, 200], 1001, 40).unwrap();
        assert_eq!(h.iter().sum::<u32>(), 1001);
    }

    #[test]
    fn text_wraps_at_words() {
        register_font().unwrap();
        let st = PlotOptions::default().style();
        let style = st.font(14.0);
        let text = "r beside each memory: Pearson r of recalled vs encoded sensory spike counts";
        let lines = wrap(text, &style, 200);
        assert!(lines.len() > 1);
        assert_eq!(lines.join(" "), text);
        assert!(
            lines
                .iter()
                .all(|l| text_width(l, &style) <= 200 || !l.contains(' '))
        );
        assert_eq!(wrap(text, &style, 10_000), [text]);
    }

    #[test]
    fn options_out_of_range_are_refused() {
        let ok = PlotOptions::default();
        assert!(ok.check().is_ok());
        let e = PlotOptions {
            width: Some(10),
            ..ok.clone()
        }
        .check()
        .unwrap_err();
        assert!(e.to_string().starts_with("--width 10: give 200 to"), "{e}");
        let e = PlotOptions {
            font_size: 0.5,
            ..ok
        }
        .check()
        .unwrap_err();
        assert!(e.to_string().starts_with("--font-size 0.5"), "{e}");
    }

    #[test]
    fn large_numbers_get_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1234567), "1,234,567");
    }
}
