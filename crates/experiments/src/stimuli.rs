//! Memories as sensory patterns, and their encodings as spike inputs.
//!
//! A memory is a [`Pattern`]: one intensity in `[0, 1]` per sensory neuron, optionally with
//! the `(width, height)` of the image it came from (row-major, row 0 at the top). Patterns
//! come from three sources:
//!
//! - [`random_patterns`]: sparse binary patterns with a controlled overlap;
//! - [`bar_patterns`]: oriented bars on a grid, evenly spaced over 180 degrees;
//! - an [`ImageSet`]: a folder of images, one per memory, read and decoded by the caller
//!   (engram-config reads `stimuli.path`).
//!
//! Two encodings turn a pattern into per-neuron input parameters: [`poisson_rates`]
//! (intensity -> firing rate) and [`rank_order_latencies`] (brighter -> earlier spike).
//!
//! Everything here is a pure function of its arguments: the random patterns are drawn from
//! ChaCha8 streams keyed by the seed, nothing reads files, nothing prints, nothing spawns
//! threads, and bad input
//! gives a [`StimulusError`] that names the config field (`stimuli.active`,
//! `stimuli.path`, ...) and says what is allowed.

use std::path::{Path, PathBuf};

use engram_core::FieldError;
use engram_core::number::short;
use engram_core::rng::{Purpose, stream};
use engram_network::MAX_POISSON_RATE_HZ;
use rand::Rng;
use rand::seq::index;

/// A stimulus that cannot be built: which field, and why.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StimulusError {
    /// A parameter is out of range.
    #[error("{field}: {message}")]
    Invalid {
        /// Dotted name of the parameter (`stimuli.active`).
        field: String,
        /// What is wrong and what is allowed.
        message: String,
    },
    /// The stimuli would not fit in the memory the run may use.
    #[error("{field}: {message}")]
    TooLarge {
        /// Dotted name of the parameter (`stimuli.path`).
        field: String,
        /// The estimate and the limit.
        message: String,
    },
}

impl StimulusError {
    /// Dotted name of the field the error is about.
    pub fn field(&self) -> &str {
        match self {
            StimulusError::Invalid { field, .. } | StimulusError::TooLarge { field, .. } => field,
        }
    }

    /// The field error: not allowed, or too large for the memory limit.
    pub fn into_field_error(self) -> FieldError {
        match self {
            StimulusError::Invalid { field, message } => FieldError::new(field, message),
            StimulusError::TooLarge { field, message } => FieldError::memory(field, message),
        }
    }
}

fn invalid(field: &str, message: impl Into<String>) -> StimulusError {
    StimulusError::Invalid {
        field: field.to_owned(),
        message: message.into(),
    }
}

/// One memory: an intensity in `[0, 1]` per sensory neuron.
///
/// With a shape `(width, height)` the intensities are an image in row-major order (index
/// `y * width + x`, row 0 at the top). The fields are private so that every `Pattern` is
/// valid: non-empty, every intensity finite and in `[0, 1]`, and `width * height` equal to
/// the number of cells when a shape is given.
#[derive(Debug, Clone, PartialEq)]
pub struct Pattern {
    intensities: Vec<f64>,
    shape: Option<(usize, usize)>,
}

impl Pattern {
    /// A pattern from intensities in `[0, 1]`, with an optional `(width, height)`.
    ///
    /// Errors (field `pattern.intensities` or `pattern.shape`) for an empty vector, a
    /// value outside `[0, 1]` or not finite, or a shape whose area differs from the length.
    pub fn new(
        intensities: Vec<f64>,
        shape: Option<(usize, usize)>,
    ) -> Result<Self, StimulusError> {
        if intensities.is_empty() {
            return Err(invalid("pattern.intensities", "needs at least one cell"));
        }
        if let Some((i, v)) = intensities
            .iter()
            .enumerate()
            .find(|(_, v)| !(0.0..=1.0).contains(*v))
        {
            return Err(invalid(
                "pattern.intensities",
                format!("cell {i} is {v}; intensities must be in [0, 1]"),
            ));
        }
        if let Some((w, h)) = shape {
            if w.checked_mul(h) != Some(intensities.len()) {
                return Err(invalid(
                    "pattern.shape",
                    format!(
                        "{w}x{h} does not match the {} intensities (width * height must equal \
                         the number of cells)",
                        intensities.len()
                    ),
                ));
            }
        }
        Ok(Pattern { intensities, shape })
    }

    /// Intensities, one per sensory neuron.
    pub fn intensities(&self) -> &[f64] {
        &self.intensities
    }

    /// The intensities, consuming the pattern.
    pub fn into_intensities(self) -> Vec<f64> {
        self.intensities
    }

    /// `(width, height)` when the pattern is an image.
    pub fn shape(&self) -> Option<(usize, usize)> {
        self.shape
    }

    /// Number of cells (sensory neurons).
    pub fn len(&self) -> usize {
        self.intensities.len()
    }

    /// Always `false`: a pattern has at least one cell.
    pub fn is_empty(&self) -> bool {
        self.intensities.is_empty()
    }

    /// Indices of the active cells (intensity > 0), increasing.
    pub fn active(&self) -> Vec<usize> {
        (0..self.len())
            .filter(|&i| self.intensities[i] > 0.0)
            .collect()
    }

    /// Number of active cells (intensity > 0).
    pub fn n_active(&self) -> usize {
        self.intensities.iter().filter(|&&v| v > 0.0).count()
    }

    /// The same pattern made binary: 1 where the intensity is at least `threshold`, else 0.
    ///
    /// `threshold` must be in `(0, 1]` (field `stimuli.threshold`).
    pub fn binarized(&self, threshold: f64) -> Result<Pattern, StimulusError> {
        if !(threshold > 0.0 && threshold <= 1.0) {
            return Err(invalid(
                "stimuli.threshold",
                format!("must be in (0, 1], got {threshold}"),
            ));
        }
        Ok(Pattern {
            intensities: self
                .intensities
                .iter()
                .map(|&v| if v >= threshold { 1.0 } else { 0.0 })
                .collect(),
            shape: self.shape,
        })
    }

    /// The pattern restricted to `cells`: their intensities kept, every other cell 0 (a
    /// degraded presentation of the stimulus; see [`partial_cells`]). Indices past the end
    /// are ignored.
    pub fn restricted(&self, cells: &[usize]) -> Pattern {
        let mut intensities = vec![0.0; self.len()];
        for &i in cells {
            if let Some(v) = self.intensities.get(i) {
                intensities[i] = *v;
            }
        }
        Pattern {
            intensities,
            shape: self.shape,
        }
    }
}

/// The cells a content cue presents of memory `memory`'s `pattern`: the first
/// `ceil(fraction * active)` of its active cells (none for a pattern without any) in the
/// order of a random key per cell, increasing.
///
/// Each active cell `i` gets the first number of the random stream `experiment.cue.content`
/// of `seed` (`engram_core::rng`) with id `memory * 2^32 + i`: the key depends only on the
/// seed, the memory and the cell, never on the spikes, so the choice is the same in every
/// run of a seed, and a smaller fraction presents a subset of a larger one's cells (ties
/// of keys go to the lower index).
///
/// Errors (field `experiment.cue.content_fraction`) for a fraction outside `(0, 1]`.
pub fn partial_cells(
    pattern: &Pattern,
    memory: usize,
    fraction: f64,
    seed: u64,
) -> Result<Vec<usize>, StimulusError> {
    if !(fraction > 0.0 && fraction <= 1.0) {
        return Err(invalid(
            "experiment.cue.content_fraction",
            format!(
                "{}: the fraction of the pattern's active cells that is presented must be in \
                 (0, 1]",
                short(fraction)
            ),
        ));
    }
    let active = pattern.active();
    // Less a rounding error, so that 0.6 of 40 cells is 24, not 25.
    let keep = ((fraction * active.len() as f64 - 1e-9).ceil() as usize).min(active.len());
    let mut keyed: Vec<(u64, usize)> = active
        .into_iter()
        .map(|i| {
            let id = ((memory as u64) << 32) | i as u64;
            let key = stream(seed, Purpose::Protocol("experiment.cue.content"), id).random();
            (key, i)
        })
        .collect();
    keyed.sort_unstable();
    let mut cells: Vec<usize> = keyed[..keep].iter().map(|&(_, i)| i).collect();
    cells.sort_unstable();
    Ok(cells)
}

/// Random sparse binary patterns: `n_memories` patterns of `active` cells each out of
/// `n_sensory`, with a controlled overlap.
///
/// Overlap model: a *prototype* set of `active` cells is drawn once. Each pattern copies
/// `m` cells chosen at random from the prototype, where `m` is `overlap * active` rounded
/// stochastically (`floor(overlap * active)`, plus one with probability equal to the
/// fractional part), so the expected fraction of cells copied from the prototype is exactly
/// `overlap`, and the count varies by at most one between patterns. The other
/// `active - m` cells are drawn uniformly from all cells not yet in the pattern (prototype
/// cells included). So `overlap = 0` gives independent uniform draws. For a given `m`
/// (`a = active`, `n = n_sensory`), a prototype cell is in a pattern with probability
/// `q_p = m/a + (1 - m/a) (a - m)/(n - m)` and any other cell with `q_o = (a - m)/(n - m)`:
/// the measured fraction of a pattern's cells inside the prototype is `q_p` (`overlap`
/// plus the chance hits of the freely drawn part), and two patterns share on average
/// `a q_p^2 + (n - a) q_o^2` cells (`a^2 / n` at `overlap = 0`).
///
/// Deterministic: the prototype comes from the random stream `stimuli.random` of the seed
/// (`engram_core::rng`) with id 0 and memory `i` from id `i + 1`, so the first patterns
/// do not change when
/// `n_memories` grows.
///
/// Errors: `stimuli.n_sensory` (0), `stimuli.n_memories` (0), `stimuli.active` (not in
/// `1..=n_sensory`), `stimuli.overlap` (not in `[0, 1)`).
pub fn random_patterns(
    n_sensory: usize,
    n_memories: usize,
    active: usize,
    overlap: f64,
    seed: u64,
) -> Result<Vec<Pattern>, StimulusError> {
    if n_sensory == 0 {
        return Err(invalid("stimuli.n_sensory", "must be at least 1"));
    }
    if n_memories == 0 {
        return Err(invalid("stimuli.n_memories", "must be at least 1"));
    }
    if active == 0 || active > n_sensory {
        return Err(invalid(
            "stimuli.active",
            format!("must be between 1 and n_sensory ({n_sensory}), got {active}"),
        ));
    }
    if !(0.0..1.0).contains(&overlap) {
        return Err(invalid(
            "stimuli.overlap",
            format!("must be in [0, 1) (0 = independent patterns), got {overlap}"),
        ));
    }

    let mut rng = stream(seed, Purpose::Protocol("stimuli.random"), 0);
    let prototype = index::sample(&mut rng, n_sensory, active).into_vec();

    let target = overlap * active as f64;
    let base = target.floor();
    let frac = target - base;
    let mut patterns = Vec::with_capacity(n_memories);
    for memory in 0..n_memories {
        let mut rng = stream(seed, Purpose::Protocol("stimuli.random"), memory as u64 + 1);
        let extra = usize::from(rng.random::<f64>() < frac);
        let m = (base as usize + extra).min(active);

        let mut intensities = vec![0.0; n_sensory];
        for k in index::sample(&mut rng, active, m) {
            intensities[prototype[k]] = 1.0;
        }
        let free: Vec<usize> = (0..n_sensory).filter(|&i| intensities[i] == 0.0).collect();
        for k in index::sample(&mut rng, free.len(), active - m) {
            intensities[free[k]] = 1.0;
        }
        patterns.push(Pattern {
            intensities,
            shape: None,
        });
    }
    Ok(patterns)
}

/// Oriented bars on a `width x height` grid, one per memory, at angles
/// `k * 180 / n_memories` degrees (`k = 0..n_memories`).
///
/// Angles are measured counter-clockwise from the horizontal as the image is displayed
/// (row 0 at the top): memory 0 is a horizontal bar, and with 4 memories memory 2 is
/// vertical. Every bar passes through the grid centre and is clipped to the central disc
/// of diameter `min(width, height)`, so all orientations cover about the same area.
/// `thickness` is the bar width in pixels. Intensities are graded at the edges: a pixel
/// whose centre lies at distance `d` from the bar axis gets `clamp(thickness/2 + 0.5 - d,
/// 0, 1)` (times the same ramp along the bar at its ends), so the core is 1 and edges
/// are anti-aliased over one pixel. Use [`Pattern::binarized`] for binary bars.
///
/// Errors: `stimuli.width` / `stimuli.height` (0), `stimuli.n_memories` (0),
/// `stimuli.thickness` (not finite and positive).
pub fn bar_patterns(
    width: usize,
    height: usize,
    n_memories: usize,
    thickness: f64,
) -> Result<Vec<Pattern>, StimulusError> {
    if width == 0 {
        return Err(invalid("stimuli.width", "must be at least 1"));
    }
    if height == 0 {
        return Err(invalid("stimuli.height", "must be at least 1"));
    }
    if width.checked_mul(height).is_none() {
        return Err(invalid("stimuli.width", "width * height overflows"));
    }
    if n_memories == 0 {
        return Err(invalid("stimuli.n_memories", "must be at least 1"));
    }
    if !(thickness.is_finite() && thickness > 0.0) {
        return Err(invalid(
            "stimuli.thickness",
            format!("must be a positive number of pixels, got {thickness}"),
        ));
    }
    let ramp = |s: f64| (s + 0.5).clamp(0.0, 1.0);
    let cx = width as f64 / 2.0;
    let cy = height as f64 / 2.0;
    let radius = width.min(height) as f64 / 2.0;
    let half = thickness / 2.0;
    let patterns = (0..n_memories)
        .map(|k| {
            let theta = std::f64::consts::PI * k as f64 / n_memories as f64;
            let (sin, cos) = theta.sin_cos();
            let mut intensities = Vec::with_capacity(width * height);
            for y in 0..height {
                for x in 0..width {
                    let u = x as f64 + 0.5 - cx;
                    let v = cy - (y as f64 + 0.5);
                    let along = u * cos + v * sin;
                    let across = -u * sin + v * cos;
                    intensities.push(ramp(half - across.abs()) * ramp(radius - along.abs()));
                }
            }
            Pattern {
                intensities,
                shape: Some((width, height)),
            }
        })
        .collect();
    Ok(patterns)
}

/// Reads and decodes the images of a folder, given as written in the parameters
/// (`stimuli.path`): the front end's part of loading image stimuli.
pub type ImageLoader<'a> = dyn FnMut(&Path) -> Result<ImageSet, StimulusError> + 'a;

/// Images of a folder: one pattern per image, all of the same size.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageSet {
    /// The folder the images were read from.
    pub folder: PathBuf,
    /// Image width (pixels); a sensory layer can take its shape from it.
    pub width: usize,
    /// Image height (pixels).
    pub height: usize,
    /// The image files, sorted by file name; `files[i]` is memory `i`.
    pub files: Vec<PathBuf>,
    /// The grayscale images as patterns with shape `(width, height)`, in file order.
    pub patterns: Vec<Pattern>,
}

/// Firing rates for a Poisson encoding: `min_rate_hz + intensity * (max_rate_hz -
/// min_rate_hz)` per neuron, in Hz.
///
/// Zero intensity gives the background rate `min_rate_hz` (0 for silence). Errors:
/// `stimuli.min_rate_hz` (negative or not finite), `stimuli.max_rate_hz` (not finite or
/// below `min_rate_hz`).
pub fn poisson_rates(
    pattern: &Pattern,
    max_rate_hz: f64,
    min_rate_hz: f64,
) -> Result<Vec<f64>, StimulusError> {
    if !(min_rate_hz.is_finite() && min_rate_hz >= 0.0) {
        return Err(invalid(
            "stimuli.min_rate_hz",
            format!("must be finite and >= 0, got {}", short(min_rate_hz)),
        ));
    }
    if !(max_rate_hz.is_finite() && max_rate_hz >= min_rate_hz) {
        return Err(invalid(
            "stimuli.max_rate_hz",
            format!(
                "must be finite and >= min_rate_hz ({}), got {}",
                short(min_rate_hz),
                short(max_rate_hz)
            ),
        ));
    }
    if max_rate_hz > MAX_POISSON_RATE_HZ {
        return Err(invalid(
            "stimuli.max_rate_hz",
            format!(
                "must be at most {} Hz (the bound of a Poisson input), got {}",
                short(MAX_POISSON_RATE_HZ),
                short(max_rate_hz)
            ),
        ));
    }
    let span = max_rate_hz - min_rate_hz;
    Ok(pattern
        .intensities
        .iter()
        .map(|&v| min_rate_hz + v * span)
        .collect())
}

/// Firing rates normalised by a pattern's size and ink: `min_rate_hz + total_rate_hz * v /
/// sum(v)` per neuron (Hz), capped at `max_rate_hz`, so the summed rate above the
/// background is `total_rate_hz` whatever the number of cells and their intensities
/// (less only where the cap cuts). An all-dark pattern gives the background everywhere.
/// Errors as [`poisson_rates`], and `stimuli.total_rate_hz` (not finite and positive).
pub fn normalized_rates(
    pattern: &Pattern,
    total_rate_hz: f64,
    max_rate_hz: f64,
    min_rate_hz: f64,
) -> Result<Vec<f64>, StimulusError> {
    poisson_rates(pattern, max_rate_hz, min_rate_hz)?;
    if !(total_rate_hz.is_finite() && total_rate_hz > 0.0) {
        return Err(invalid(
            "stimuli.total_rate_hz",
            format!("must be finite and > 0, got {}", short(total_rate_hz)),
        ));
    }
    let ink: f64 = pattern.intensities.iter().sum();
    Ok(pattern
        .intensities
        .iter()
        .map(|&v| {
            let r = if ink > 0.0 {
                total_rate_hz * v / ink
            } else {
                0.0
            };
            (min_rate_hz + r).min(max_rate_hz.max(min_rate_hz))
        })
        .collect())
}

/// Spike latencies for a rank-order encoding: brighter cells fire earlier, each at most
/// once, within `[0, window_ms)` of stimulus onset.
///
/// With `K` active cells (intensity > 0), a cell with `r` strictly brighter cells fires at
/// `window_ms * r / K`: the brightest at 0, ties at the same time (competition ranking), so
/// a binary pattern is one synchronous volley at 0. Cells with zero intensity do not fire
/// (`None`). Errors: `stimuli.window_ms` (not finite and positive).
pub fn rank_order_latencies(
    pattern: &Pattern,
    window_ms: f64,
) -> Result<Vec<Option<f64>>, StimulusError> {
    if !(window_ms.is_finite() && window_ms > 0.0) {
        return Err(invalid(
            "stimuli.window_ms",
            format!("must be finite and positive, got {window_ms}"),
        ));
    }
    let mut active: Vec<f64> = pattern
        .intensities
        .iter()
        .copied()
        .filter(|&v| v > 0.0)
        .collect();
    // Descending; intensities are finite, so total_cmp is the numeric order.
    active.sort_by(|a, b| b.total_cmp(a));
    let k = active.len() as f64;
    Ok(pattern
        .intensities
        .iter()
        .map(|&v| {
            (v > 0.0).then(|| {
                let brighter = active.partition_point(|&a| a > v);
                window_ms * brighter as f64 / k
            })
        })
        .collect())
}

#[cfg(test)]
mod tests;
