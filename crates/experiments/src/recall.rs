//! The recall experiment: `[experiment] kind = "recall"`.
//!
//! A protocol of phases on one network, in continuous simulated time:
//!
//! 1. **Encoding**: memory `m`'s stimulus drives the sensory layer for `encode_ms` while a
//!    teacher current drives its pointer group (cells `m * pointer_size ..` of the last
//!    layer) and clamps the pointer layer (only that group may fire); plasticity and
//!    encoding tags are on; k-WTA holds each deeper layer to its ensemble size. A quiet
//!    `pause_ms` follows every episode.
//! 2. **Delay** (`delay_ms`, may be 0).
//! 3. **Recall**: for each memory, no sensory input, an ACh pulse (`ach_pulse`), and
//!    `lead_ms` later a cue; every layer is counted for `recall_ms` from the pulse. A
//!    pointer cue (`cue.kind = "pointer"`, the default) is `cue.spikes` spikes at
//!    `cue.rate_hz` into the memory's pointer group; a content cue (`cue.kind =
//!    "content"`) presents `cue.content_fraction` of the memory's active sensory cells,
//!    encoded as while encoding, for `cue.content_ms` (pattern completion from a degraded
//!    stimulus: the forward path must find the pointer group, the backward path the rest
//!    of the pattern).
//! 4. **Naming** (optional): each stimulus again, as in encoding but without teacher or
//!    learning; the pointer group that fires most names it.
//!
//! Plasticity and tagging are on only while encoding. The ACh effects (`[ach.effects]`) are
//! the user's: the protocol only adds the recall pulses to `[ach]`.
//!
//! Results beside the spikes (see [`Protocol::record`](Experiment::record)): `/protocol`,
//! `/stimuli`, `/analysis`.

// The `default_*` functions serve serde's defaults; without the feature some are unused.
#![cfg_attr(not(feature = "serde"), allow(dead_code))]

use std::path::PathBuf;

use engram_network::{InputKind, InputSpec, Kwta, NetworkSpec, Simulation, SpikeSink};
use indexmap::IndexMap;

use engram_core::memory::{MemoryEstimate, MemoryLimit};
use engram_core::number::short;
use engram_core::time::{self, StepClock};
use engram_core::{FieldError, check};

use crate::metrics::{self, LayerRecall, PopulationLatency, RecallSize, RecallSummary, SizeRule};
use crate::stimuli::{self, ImageLoader, Pattern};
use crate::{AchRelease, Attr, Compile, Data, Experiment, ExperimentError, Group, Observer, Plan};

type Invalid = (String, String);

/// The parameters of a recall experiment: `[experiment]` in a config.
#[derive(Debug, Clone)]
#[cfg_attr(feature = "serde", derive(serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct RecallParams {
    /// The protocol; only `"recall"` for now.
    pub kind: ExperimentKind,
    /// The feed-forward path, sensory layer first, pointer (MTL) layer last.
    pub layers: Vec<String>,
    /// Number of memories. Default 10; with `stimuli.path`, the number of images (a
    /// smaller number takes the first images in file-name order).
    pub memories: Option<usize>,
    /// Pointer cells per memory. Default 10.
    #[cfg_attr(feature = "serde", serde(default = "default_pointer_size"))]
    pub pointer_size: u32,
    /// Presentation of each memory while encoding (ms). Default 100.
    #[cfg_attr(feature = "serde", serde(default = "default_encode"))]
    pub encode_ms: f64,
    /// Quiet time after every episode (ms). Default 40.
    #[cfg_attr(feature = "serde", serde(default = "default_pause"))]
    pub pause_ms: f64,
    /// Time between encoding and recall (ms). Default 100.
    #[cfg_attr(feature = "serde", serde(default = "default_delay"))]
    pub delay_ms: f64,
    /// Recall window from the ACh pulse (ms). Default 60.
    #[cfg_attr(feature = "serde", serde(default = "default_recall"))]
    pub recall_ms: f64,
    /// Cue onset after the ACh pulse (ms). Default 2.
    #[cfg_attr(feature = "serde", serde(default = "default_lead"))]
    pub lead_ms: f64,
    /// Teacher current into the pointer group while encoding (pA). Default 600.
    #[cfg_attr(feature = "serde", serde(default = "default_teacher"))]
    pub teacher_pa: f64,
    /// The recall cue.
    #[cfg_attr(feature = "serde", serde(default))]
    pub cue: CueConfig,
    /// The ACh pulse of each recall; absent: no pulse.
    pub ach_pulse: Option<AchPulseShape>,
    /// k-winners-take-all gates per layer: a number >= 1 is a count of cells, a number in
    /// (0, 1) a fraction of the layer's cells (rounded, at least 1), 0 no gate. A gate is
    /// a property of its layer, the same in every phase and for every stimulus set.
    /// Defaults: the pointer layer `pointer_size` (one memory's group), other layers none.
    #[cfg_attr(feature = "serde", serde(default))]
    pub kwta: IndexMap<String, f64>,
    /// The gates' window (ms): at most k distinct cells of a gated layer fire within any
    /// window of this length. Default 20.
    #[cfg_attr(feature = "serde", serde(default = "default_kwta_window"))]
    pub kwta_window_ms: f64,
    /// Whether to test naming after recall. Default true.
    #[cfg_attr(feature = "serde", serde(default = "default_true"))]
    pub naming: bool,
    /// Presentation of each stimulus while naming (ms). Default 50.
    #[cfg_attr(feature = "serde", serde(default = "default_naming"))]
    pub naming_ms: f64,
    /// How recalls are judged.
    #[cfg_attr(feature = "serde", serde(default))]
    pub metrics: MetricsParams,
}

/// `[experiment.metrics]`: the rules that judge a recall (see [`Protocol::analyse`](
/// Experiment::analyse) for their definitions).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct MetricsParams {
    /// Fraction of a memory's encoded sensory ensemble that must be active in its recall
    /// window for the recall to count as identified, in (0, 1]. Default 0.25.
    #[cfg_attr(feature = "serde", serde(default = "default_min_recall_fraction"))]
    pub min_recall_fraction: f64,
    /// Significance level of the tests against spontaneous activity (ensemble membership
    /// per cell, silent recalls, latency onsets per recall window), in (0, 0.5]. Default
    /// 0.001.
    #[cfg_attr(feature = "serde", serde(default = "default_significance"))]
    pub significance: f64,
    /// Width of the bins of population spike counts after the cue, for latencies (ms);
    /// rounded to whole steps, at least one. Default 1.
    #[cfg_attr(feature = "serde", serde(default = "default_one"))]
    pub latency_bin_ms: f64,
}

impl Default for MetricsParams {
    fn default() -> Self {
        MetricsParams {
            min_recall_fraction: default_min_recall_fraction(),
            significance: default_significance(),
            latency_bin_ms: default_one(),
        }
    }
}

impl MetricsParams {
    fn checked(self) -> Result<MetricsParams, Invalid> {
        let m = self;
        if !(m.min_recall_fraction > 0.0 && m.min_recall_fraction <= 1.0) {
            return Err((
                "experiment.metrics.min_recall_fraction".into(),
                format!(
                    "{} must be a fraction in (0, 1]",
                    short(m.min_recall_fraction)
                ),
            ));
        }
        if !(m.significance > 0.0 && m.significance <= 0.5) {
            return Err((
                "experiment.metrics.significance".into(),
                format!(
                    "{} must be a significance level in (0, 0.5]",
                    short(m.significance)
                ),
            ));
        }
        positive("experiment.metrics.latency_bin_ms", m.latency_bin_ms)?;
        Ok(m)
    }
}

/// Experiment kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum ExperimentKind {
    /// Encoding, delay, cued recall, naming.
    Recall,
}

/// `[experiment.cue]`: what starts each recall, `lead_ms` after the ACh pulse: spikes into
/// the cued pointer group (`kind = "pointer"`) or part of the memory's stimulus
/// (`kind = "content"`).
#[derive(Debug, Clone, Copy)]
#[cfg_attr(feature = "serde", derive(serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct CueConfig {
    /// `"pointer"` (default: spikes into the pointer group) or `"content"` (a degraded
    /// stimulus: part of the memory's active sensory cells, encoded as while encoding).
    #[cfg_attr(feature = "serde", serde(default))]
    pub kind: CueKind,
    /// Number of spikes. Default 4.
    #[cfg_attr(feature = "serde", serde(default = "default_cue_spikes"))]
    pub spikes: u32,
    /// Their rate (Hz). Default 200.
    #[cfg_attr(feature = "serde", serde(default = "default_cue_rate"))]
    pub rate_hz: f64,
    /// Synaptic current jump of each (pA). Default 3000.
    #[cfg_attr(feature = "serde", serde(default = "default_cue_weight"))]
    pub weight_pa: f64,
    /// Fraction of the pointer group that receives the cue, in (0, 1]: a partial cue
    /// reaches the group's first `ceil(fraction * pointer_size)` cells (pattern completion
    /// within the pointer layer). Default 1. Pointer cues only.
    #[cfg_attr(feature = "serde", serde(default = "default_one"))]
    pub fraction: f64,
    /// Fraction of the memory's active sensory cells a content cue presents, in (0, 1]:
    /// the first `ceil(content_fraction * active)` in an order drawn from the seed
    /// ([`stimuli::partial_cells`]). Default 0.5. Content cues only.
    #[cfg_attr(feature = "serde", serde(default = "default_content_fraction"))]
    pub content_fraction: f64,
    /// How long a content cue presents its cells from the cue onset (ms); it must end
    /// inside the recall window (`lead_ms + content_ms <= recall_ms`). Default 20. Content
    /// cues only.
    #[cfg_attr(feature = "serde", serde(default = "default_content_ms"))]
    pub content_ms: f64,
}

/// What a recall cue presents.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum CueKind {
    /// Spikes into the memory's pointer group (recall by index).
    #[default]
    Pointer,
    /// Part of the memory's stimulus in the sensory layer (recall by content: pattern
    /// completion from a degraded stimulus).
    Content,
}

impl Default for CueConfig {
    fn default() -> Self {
        CueConfig {
            spikes: default_cue_spikes(),
            rate_hz: default_cue_rate(),
            weight_pa: default_cue_weight(),
            fraction: 1.0,
            kind: CueKind::Pointer,
            content_fraction: default_content_fraction(),
            content_ms: default_content_ms(),
        }
    }
}

/// `[experiment.ach_pulse]`: the release that opens each recall.
#[derive(Debug, Clone, Copy)]
#[cfg_attr(feature = "serde", derive(serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct AchPulseShape {
    /// Amount released. Default 1.
    #[cfg_attr(feature = "serde", serde(default = "default_one"))]
    pub amplitude: f64,
    /// Release duration (ms). Default 2.
    #[cfg_attr(feature = "serde", serde(default = "default_lead"))]
    pub duration_ms: f64,
}

/// What a recall experiment stores: `[stimuli]` in a config.
#[derive(Debug, Clone)]
#[cfg_attr(feature = "serde", derive(serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct StimulusParams {
    /// `"random"` (default; `"images"` when `path` is given) or `"bars"`.
    pub kind: Option<StimulusKind>,
    /// Folder of images, one per memory (PNG, JPEG, PGM), sorted by file name. Relative
    /// paths are taken from the config file's folder, or from the working directory when
    /// given with `--set`.
    pub path: Option<PathBuf>,
    /// Active cells per random pattern. Default: 10 % of the sensory layer.
    pub active: Option<usize>,
    /// Fraction of each random pattern shared with a common prototype. Default 0.
    #[cfg_attr(feature = "serde", serde(default))]
    pub overlap: f64,
    /// Bar image width (pixels). Default 20.
    #[cfg_attr(feature = "serde", serde(default = "default_side"))]
    pub width: usize,
    /// Bar image height (pixels). Default 20.
    #[cfg_attr(feature = "serde", serde(default = "default_side"))]
    pub height: usize,
    /// Bar thickness (pixels). Default 3.
    #[cfg_attr(feature = "serde", serde(default = "default_thickness"))]
    pub thickness: f64,
    /// `"poisson"` (default) or `"rank_order"`.
    #[cfg_attr(feature = "serde", serde(default))]
    pub encoding: Encoding,
    /// Rate of a fully active cell (Hz). Default 100.
    #[cfg_attr(feature = "serde", serde(default = "default_max_rate"))]
    pub max_rate_hz: f64,
    /// Rate of an inactive cell (Hz). Default 0.
    #[cfg_attr(feature = "serde", serde(default))]
    pub min_rate_hz: f64,
    /// Drive normalised by size and ink (Poisson encoding): the summed rate of a pattern's
    /// cells above `min_rate_hz` (Hz). Each cell fires at `min_rate_hz + total_rate_hz * v
    /// / sum(v)` for its intensity `v`, capped at `max_rate_hz`, so that a small or faint
    /// image drives the next layer as much as a large or inky one. Default: none (a cell
    /// fires at `min_rate_hz + v * (max_rate_hz - min_rate_hz)`).
    #[cfg_attr(feature = "serde", serde(default))]
    pub total_rate_hz: Option<f64>,
    /// Fan-in scaling of `total_rate_hz`: with a reference size `N_ref`, the summed rate is
    /// `total_rate_hz * sqrt(n / N_ref)` for a pattern of `n` cells (pixels), which keeps
    /// the stimulus drive of the next layer the same when its weights are scaled by
    /// `sqrt(N_ref / n)` (`projections.NAME.weight_scale_reference_n`). Default: none.
    #[cfg_attr(feature = "serde", serde(default))]
    pub total_rate_reference_n: Option<f64>,
    /// Rank-order window (ms), within which every active cell fires once. Default 20.
    #[cfg_attr(feature = "serde", serde(default = "default_window"))]
    pub window_ms: f64,
    /// Synaptic current jump of each input spike into a sensory cell (pA). Default 3000.
    #[cfg_attr(feature = "serde", serde(default = "default_cue_weight"))]
    pub weight_pa: f64,
    /// Pixels at or below this intensity count as off (images). Default 0.
    #[cfg_attr(feature = "serde", serde(default))]
    pub threshold: f64,
}

impl Default for StimulusParams {
    /// The defaults of an absent `[stimuli]` table (the same as serde's per field).
    fn default() -> Self {
        StimulusParams {
            kind: None,
            path: None,
            active: None,
            overlap: 0.0,
            width: default_side(),
            height: default_side(),
            thickness: default_thickness(),
            encoding: Encoding::Poisson,
            max_rate_hz: default_max_rate(),
            min_rate_hz: 0.0,
            total_rate_hz: None,
            total_rate_reference_n: None,
            window_ms: default_window(),
            weight_pa: default_cue_weight(),
            threshold: 0.0,
        }
    }
}

/// Stimulus generators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum StimulusKind {
    /// Random sparse binary patterns.
    Random,
    /// Oriented bars.
    Bars,
    /// Images from `path`.
    Images,
}

/// How a pattern becomes spikes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum Encoding {
    /// Poisson trains at `min + intensity * (max - min)` Hz.
    #[default]
    Poisson,
    /// One spike per active cell, brighter first, within `window_ms`, repeated every
    /// `window_ms` while the stimulus is on.
    RankOrder,
}

fn default_true() -> bool {
    true
}
fn default_pointer_size() -> u32 {
    10
}
fn default_encode() -> f64 {
    100.0
}
fn default_pause() -> f64 {
    40.0
}
fn default_delay() -> f64 {
    100.0
}
fn default_recall() -> f64 {
    60.0
}
fn default_lead() -> f64 {
    2.0
}
fn default_teacher() -> f64 {
    600.0
}
fn default_kwta_window() -> f64 {
    20.0
}
fn default_naming() -> f64 {
    50.0
}
fn default_cue_spikes() -> u32 {
    4
}
fn default_cue_rate() -> f64 {
    200.0
}
fn default_cue_weight() -> f64 {
    3000.0
}
fn default_one() -> f64 {
    1.0
}
fn default_content_fraction() -> f64 {
    0.5
}
fn default_content_ms() -> f64 {
    20.0
}
fn default_min_recall_fraction() -> f64 {
    0.25
}
fn default_significance() -> f64 {
    0.001
}
fn default_side() -> usize {
    20
}
fn default_thickness() -> f64 {
    3.0
}
fn default_max_rate() -> f64 {
    100.0
}
fn default_window() -> f64 {
    20.0
}

/// The stored stimuli.
#[derive(Debug, Clone)]
pub struct StimulusSet {
    /// One pattern per memory.
    pub patterns: Vec<Pattern>,
    /// `(width, height)` when the patterns are images.
    pub shape: Option<(usize, usize)>,
    /// Image files, when loaded from a folder.
    pub files: Vec<PathBuf>,
    /// The simulation seed (random patterns are drawn from it; content cues choose their
    /// cells from it).
    pub seed: u64,
}

/// What a phase does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhaseKind {
    /// Encoding memory `m`.
    Encode(usize),
    /// Quiet time.
    Pause,
    /// The delay between encoding and recall.
    Delay,
    /// Recall of memory `m`.
    Recall(usize),
    /// Naming stimulus `m`.
    Name(usize),
}

/// A phase of the protocol, on the step grid.
#[derive(Debug, Clone)]
pub struct Phase {
    /// What it does.
    pub kind: PhaseKind,
    /// First step.
    pub start: u64,
    /// End step (exclusive).
    pub stop: u64,
}

impl Phase {
    /// The name written to `/protocol/names`.
    pub fn name(&self) -> String {
        match self.kind {
            PhaseKind::Encode(m) => format!("encode {m}"),
            PhaseKind::Pause => "pause".into(),
            PhaseKind::Delay => "delay".into(),
            PhaseKind::Recall(m) => format!("recall {m}"),
            PhaseKind::Name(m) => format!("name {m}"),
        }
    }
}

/// A checked recall protocol, ready to run.
#[derive(Debug, Clone)]
pub struct Protocol {
    /// Population indices of the layers, sensory first.
    pub layers: Vec<usize>,
    /// Pointer cells per memory.
    pub pointer_size: u32,
    /// The stimuli.
    pub stimuli: StimulusSet,
    /// Phases, in time order, covering the run.
    pub phases: Vec<Phase>,
    /// The gate of each layer (`None`: none).
    pub gates: Vec<Option<Kwta>>,
    /// Cue onset of each recall (ms).
    pub cue_ms: Vec<f64>,
    /// The content cues, when recalls are cued by content (`cue.kind = "content"`);
    /// `None` for pointer cues.
    pub content_cue: Option<ContentCue>,
    /// ACh pulses the protocol adds (time, amplitude, duration).
    pub ach_pulses: Vec<(f64, f64, f64)>,
    /// Total steps.
    pub steps: u64,
    /// The rules that judge the recalls.
    pub metrics: MetricsParams,
}

/// The degraded stimuli of content cues.
#[derive(Debug, Clone, PartialEq)]
pub struct ContentCue {
    /// Fraction of each memory's active sensory cells presented.
    pub fraction: f64,
    /// How long they are presented from the cue onset (ms).
    pub duration_ms: f64,
    /// `[memory]`: the sensory cells presented, increasing ([`stimuli::partial_cells`]).
    pub cells: Vec<Vec<usize>>,
}

/// Loads or generates the stimuli and sizes the experiment's layers: the sensory layer
/// takes its size from the stimuli and the pointer layer from the memories when the
/// config leaves their `n` out. `populations` holds every population's size by name
/// (`None`: not given). Random patterns are drawn from `seed` (the simulation seed);
/// `images` reads the image folder of `stimuli.path` (this crate reads no files).
pub fn prepare(
    e: &RecallParams,
    s: Option<&StimulusParams>,
    populations: &mut IndexMap<String, Option<u32>>,
    seed: u64,
    images: &mut ImageLoader<'_>,
    memory: Option<&MemoryLimit>,
) -> Result<StimulusSet, FieldError> {
    if e.layers.len() < 2 {
        return Err(FieldError::new(
            "experiment.layers",
            "give the feed-forward path, at least a sensory and a pointer layer, e.g. \
             [\"sensory\", \"cortex\", \"mtl\"]",
        ));
    }
    for (k, name) in e.layers.iter().enumerate() {
        if !populations.contains_key(name) {
            return Err(FieldError::new(
                format!("experiment.layers.{k}"),
                format!(
                    "no population called `{name}`; populations are: {}",
                    populations.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
            ));
        }
        if e.layers[..k].contains(name) {
            return Err(FieldError::new(
                format!("experiment.layers.{k}"),
                format!("`{name}` appears twice"),
            ));
        }
    }
    let sensory = &e.layers[0];
    let pointer = e.layers.last().expect("two layers at least");
    let default_stimuli = StimulusParams::default();
    let s = s.unwrap_or(&default_stimuli);
    let kind = match (s.kind, &s.path) {
        (Some(StimulusKind::Images) | None, Some(_)) => StimulusKind::Images,
        (Some(StimulusKind::Images), None) => {
            return Err(FieldError::new(
                "stimuli.path",
                "missing: `kind = \"images\"` needs the folder of images",
            ));
        }
        (Some(k), Some(_)) => {
            return Err(FieldError::new(
                "stimuli.path",
                format!(
                    "an image folder is given but stimuli.kind is {k:?}; remove one of them \
                     (kind = \"images\" goes with path)"
                ),
            ));
        }
        (Some(k), None) => k,
        (None, None) => StimulusKind::Random,
    };
    let stim_err = stimuli::StimulusError::into_field_error;
    for layer in &e.layers {
        if populations[layer] == Some(0) {
            return Err(FieldError::new(
                format!("populations.{layer}.n"),
                "0: a layer of the experiment needs at least one neuron",
            ));
        }
    }
    let sensory_n = populations[sensory];
    let set = match kind {
        StimulusKind::Images => {
            let images = images(s.path.as_ref().expect("checked")).map_err(stim_err)?;
            let mut patterns = Vec::with_capacity(images.patterns.len());
            for p in images.patterns {
                patterns.push(if s.threshold > 0.0 {
                    p.binarized(s.threshold).map_err(stim_err)?
                } else {
                    p
                });
            }
            // `memories` takes the first images in file-name order; absent, all of them.
            let mut files = images.files;
            if let Some(m) = e.memories {
                if m == 0 || m > patterns.len() {
                    return Err(FieldError::new(
                        "experiment.memories",
                        format!(
                            "{m}, but {} holds {} images (one memory per image): give 1 to \
                             {}, or leave memories out to use them all",
                            images.folder.display(),
                            patterns.len(),
                            patterns.len()
                        ),
                    ));
                }
                patterns.truncate(m);
                files.truncate(m);
            }
            StimulusSet {
                patterns,
                shape: Some((images.width, images.height)),
                files,
                seed,
            }
        }
        StimulusKind::Bars => {
            let m = e.memories.unwrap_or(10);
            stimuli_fit(m, s.width as f64 * s.height as f64, memory)?;
            let patterns =
                stimuli::bar_patterns(s.width, s.height, m, s.thickness).map_err(stim_err)?;
            StimulusSet {
                patterns,
                shape: Some((s.width, s.height)),
                files: Vec::new(),
                seed,
            }
        }
        StimulusKind::Random => {
            let m = e.memories.unwrap_or(10);
            let Some(n) = sensory_n else {
                return Err(FieldError::new(
                    format!("populations.{sensory}.n"),
                    "missing: random patterns need the size of the sensory layer",
                ));
            };
            stimuli_fit(m, f64::from(n), memory)?;
            let active = s.active.unwrap_or((n as usize / 10).max(1));
            let patterns = stimuli::random_patterns(n as usize, m, active, s.overlap, seed)
                .map_err(stim_err)?;
            StimulusSet {
                patterns,
                shape: None,
                files: Vec::new(),
                seed,
            }
        }
    };
    let cells = set.patterns[0].len();
    match sensory_n {
        None => populations[sensory] = Some(cells as u32),
        Some(n) if n as usize != cells => {
            return Err(FieldError::new(
                format!("populations.{sensory}.n"),
                format!(
                    "{n}, but the stimuli have {cells} cells{}; leave n out to take the \
                     stimuli's size",
                    set.shape
                        .map(|(w, h)| format!(" ({w} x {h})"))
                        .unwrap_or_default()
                ),
            ));
        }
        Some(_) => {}
    }
    if e.pointer_size == 0 {
        return Err(FieldError::new(
            "experiment.pointer_size",
            "must be at least 1",
        ));
    }
    let need = set.patterns.len() as u64 * u64::from(e.pointer_size);
    if need >= u64::from(u32::MAX) {
        return Err(FieldError::new(
            "experiment.pointer_size",
            format!(
                "{} memories of {} pointer cells need {need} cells; a population holds at \
                 most 2^32 - 2",
                set.patterns.len(),
                e.pointer_size
            ),
        ));
    }
    match populations[pointer] {
        None => populations[pointer] = Some(need as u32),
        Some(n) if u64::from(n) < need => {
            return Err(FieldError::new(
                format!("populations.{pointer}.n"),
                format!(
                    "{n} pointer cells cannot hold {} memories of {} cells ({need} needed); \
                     leave n out to size the layer from the memories",
                    set.patterns.len(),
                    e.pointer_size
                ),
            ));
        }
        Some(_) => {}
    }
    Ok(set)
}

/// Refuses `memories` patterns of `cells` cells each (8 bytes a cell) that would not fit
/// under `memory`, before they are drawn.
fn stimuli_fit(
    memories: usize,
    cells: f64,
    memory: Option<&MemoryLimit>,
) -> Result<(), FieldError> {
    let mut need = MemoryEstimate::new();
    need.add("stimuli", memories as f64 * cells * 8.0);
    need.check(memory).map_err(|e| {
        FieldError::memory(
            "stimuli",
            format!("{memories} memories of {} cells {e}", short(cells)),
        )
    })
}

/// Refuses a protocol whose inputs (per memory: the stimulus presentations, the teacher
/// and the cue with its spike times) would not fit under `memory`, before they are built.
fn inputs_fit(
    e: &RecallParams,
    set: &StimulusSet,
    memory: Option<&MemoryLimit>,
) -> Result<(), FieldError> {
    let cells: f64 = set.patterns.iter().map(|p| p.len() as f64).sum();
    let n_mem = set.patterns.len() as f64;
    // Encoding, naming, and a content cue (at most the whole pattern).
    let presentations = [true, e.naming, e.cue.kind == CueKind::Content]
        .iter()
        .filter(|&&x| x)
        .count() as f64;
    let group = f64::from(e.pointer_size) * 4.0;
    let mut need = MemoryEstimate::new();
    need.add("stimulus inputs", cells * presentations * 24.0);
    need.add(
        "teacher and cue inputs",
        n_mem * (2.0 * group + f64::from(e.cue.spikes) * 8.0),
    );
    need.check(memory)
        .map_err(|err| FieldError::memory("experiment", format!("the protocol's inputs {err}")))
}

/// The protocol's durations in steps, each checked: a phase lasts at least one step, no
/// duration or total exceeds [`time::MAX_STEPS`] (so the step arithmetic cannot wrap).
struct PhaseSteps {
    encode: u64,
    recall: u64,
    pause: u64,
    delay: u64,
    lead: u64,
    naming: u64,
}

impl PhaseSteps {
    fn of(e: &RecallParams, dt_ms: f64, n_mem: usize) -> Result<PhaseSteps, Invalid> {
        let phase = |field: &str, ms: f64| {
            time::checked_phase_steps(ms, dt_ms).map_err(|m| (field.to_string(), m))
        };
        let gap = |field: &str, ms: f64| {
            time::checked_steps(ms, dt_ms).map_err(|m| (field.to_string(), m))
        };
        let d = PhaseSteps {
            encode: phase("experiment.encode_ms", e.encode_ms)?,
            recall: phase("experiment.recall_ms", e.recall_ms)?,
            pause: gap("experiment.pause_ms", e.pause_ms)?,
            delay: gap("experiment.delay_ms", e.delay_ms)?,
            lead: gap("experiment.lead_ms", e.lead_ms)?,
            naming: if e.naming {
                phase("experiment.naming_ms", e.naming_ms)?
            } else {
                0
            },
        };
        let naming = if e.naming { d.naming + d.pause } else { 0 };
        let each =
            time::checked_total([d.encode, d.pause, d.recall, d.pause, naming], "one memory")
                .map_err(|m| ("experiment".to_string(), m))?;
        let n = n_mem as u64;
        time::checked_total([each.saturating_mul(n), d.delay], "the protocol").map_err(|m| {
            (
                "experiment".to_string(),
                format!("{m} ({n} memories of {each} steps each, plus the delay)"),
            )
        })?;
        Ok(d)
    }
}

fn positive(field: &str, v: f64) -> Result<(), Invalid> {
    check::positive(v).map_err(|_| (field.into(), format!("{} must be a number > 0", short(v))))
}

fn non_negative(field: &str, v: f64) -> Result<(), Invalid> {
    check::non_negative(v)
        .map_err(|_| (field.into(), format!("{} must be a number >= 0", short(v))))
}

impl Compile for RecallParams {
    type Prepared = StimulusSet;

    fn prepare(
        &self,
        stimuli: Option<&StimulusParams>,
        populations: &mut IndexMap<String, Option<u32>>,
        seed: u64,
        images: &mut ImageLoader<'_>,
        memory: Option<&MemoryLimit>,
    ) -> Result<StimulusSet, FieldError> {
        prepare(self, stimuli, populations, seed, images, memory)
    }

    fn build(
        &self,
        stimuli: Option<&StimulusParams>,
        set: StimulusSet,
        spec: &mut NetworkSpec,
        memory: Option<&MemoryLimit>,
    ) -> Result<Plan, FieldError> {
        build(self, stimuli, set, spec, memory).map(Plan::Recall)
    }
}

/// Lays out the phases and adds the stimulus, teacher and cue inputs to `spec`.
pub fn build(
    e: &RecallParams,
    s: Option<&StimulusParams>,
    set: StimulusSet,
    spec: &mut NetworkSpec,
    memory: Option<&MemoryLimit>,
) -> Result<Protocol, FieldError> {
    positive("experiment.encode_ms", e.encode_ms)?;
    non_negative("experiment.pause_ms", e.pause_ms)?;
    non_negative("experiment.delay_ms", e.delay_ms)?;
    positive("experiment.recall_ms", e.recall_ms)?;
    non_negative("experiment.lead_ms", e.lead_ms)?;
    if e.lead_ms >= e.recall_ms {
        return Err(FieldError::new(
            "experiment.lead_ms",
            format!(
                "{} must be shorter than recall_ms ({}): the cue comes inside the recall window",
                e.lead_ms, e.recall_ms
            ),
        ));
    }
    if !e.teacher_pa.is_finite() {
        return Err(FieldError::new(
            "experiment.teacher_pa",
            format!("{} must be a finite number", e.teacher_pa),
        ));
    }
    if e.naming {
        positive("experiment.naming_ms", e.naming_ms)?;
    }
    if e.cue.spikes == 0 {
        return Err(FieldError::new(
            "experiment.cue.spikes",
            "must be at least 1",
        ));
    }
    positive("experiment.cue.rate_hz", e.cue.rate_hz)?;
    positive("experiment.cue.weight_pa", e.cue.weight_pa)?;
    if !(e.cue.fraction > 0.0 && e.cue.fraction <= 1.0) {
        return Err(FieldError::new(
            "experiment.cue.fraction",
            format!(
                "{}: the fraction of the pointer group that is cued must be in (0, 1]",
                short(e.cue.fraction)
            ),
        ));
    }
    let cued = ((e.cue.fraction * f64::from(e.pointer_size)).ceil() as u32).max(1);
    let stim_err = stimuli::StimulusError::into_field_error;
    let content_cue = match e.cue.kind {
        CueKind::Pointer => None,
        CueKind::Content => {
            positive("experiment.cue.content_ms", e.cue.content_ms)?;
            if e.lead_ms + e.cue.content_ms > e.recall_ms {
                return Err(FieldError::new(
                    "experiment.cue.content_ms",
                    format!(
                        "{} ms from the cue ends after the recall window: it must be at most \
                         recall_ms - lead_ms = {} ms",
                        short(e.cue.content_ms),
                        short(e.recall_ms - e.lead_ms)
                    ),
                ));
            }
            let cells = set
                .patterns
                .iter()
                .enumerate()
                .map(|(m, p)| stimuli::partial_cells(p, m, e.cue.content_fraction, set.seed))
                .collect::<Result<Vec<_>, _>>()
                .map_err(stim_err)?;
            Some(ContentCue {
                fraction: e.cue.content_fraction,
                duration_ms: e.cue.content_ms,
                cells,
            })
        }
    };
    if let Some(p) = &e.ach_pulse {
        non_negative("experiment.ach_pulse.amplitude", p.amplitude)?;
        non_negative("experiment.ach_pulse.duration_ms", p.duration_ms)?;
    }
    let default_stimuli = StimulusParams::default();
    let s = s.unwrap_or(&default_stimuli);
    let (encoding, max_rate, min_rate, window, weight) = (
        s.encoding,
        s.max_rate_hz,
        s.min_rate_hz,
        s.window_ms,
        s.weight_pa,
    );
    positive("stimuli.weight_pa", weight)?;
    let layers: Vec<usize> = e
        .layers
        .iter()
        .map(|l| spec.population_index(l).expect("checked in prepare"))
        .collect();
    positive("experiment.kwta_window_ms", e.kwta_window_ms)?;
    for (name, &k) in &e.kwta {
        let field = format!("experiment.kwta.{name}");
        if !e.layers.contains(name) {
            return Err(FieldError::new(
                field,
                format!("`{name}` is not one of experiment.layers"),
            ));
        }
        if !(k.is_finite() && k >= 0.0 && (k < 1.0 || k.fract() == 0.0)) {
            return Err(FieldError::new(
                field,
                format!(
                    "{}: give a whole number of cells (>= 1), a fraction of the layer's cells \
                     in (0, 1), or 0 for no gate",
                    short(k)
                ),
            ));
        }
    }
    let n_mem = set.patterns.len();
    let last = layers.len() - 1;
    let gates: Vec<Option<Kwta>> = (0..layers.len())
        .map(|i| {
            let cells = f64::from(spec.populations[layers[i]].n);
            let k = match e.kwta.get(&e.layers[i]) {
                Some(&k) if k > 0.0 && k < 1.0 => (k * cells).round().max(1.0),
                Some(&k) => k.min(cells),
                None if i == last => f64::from(e.pointer_size),
                None => 0.0,
            };
            (k >= 1.0).then_some(Kwta {
                k: k as u32,
                window_ms: e.kwta_window_ms,
            })
        })
        .collect();

    let dt = spec.dt_ms;
    // Times of steps are their decimal times, as the spikes' (see `StepClock`).
    let clock = StepClock::new(dt);
    let d = PhaseSteps::of(e, dt, n_mem)?;
    let cue_span_ms = f64::from(e.cue.spikes - 1) * 1000.0 / e.cue.rate_hz;
    if cue_span_ms >= e.recall_ms - e.lead_ms {
        return Err(FieldError::new(
            "experiment.cue.spikes",
            format!(
                "{} spikes at {} Hz last {} ms, longer than the recall window after the cue \
                 (recall_ms - lead_ms = {} ms)",
                e.cue.spikes,
                short(e.cue.rate_hz),
                short(cue_span_ms),
                short(e.recall_ms - e.lead_ms)
            ),
        ));
    }
    inputs_fit(e, &set, memory)?;
    let total_rate = match (s.total_rate_hz, s.total_rate_reference_n) {
        (total, None) => total,
        (Some(total), Some(r)) if r.is_finite() && r > 0.0 => {
            let n = set.patterns.first().map_or(0, |p| p.intensities().len());
            Some(total * (n as f64 / r).sqrt())
        }
        (Some(_), Some(r)) => {
            return Err(FieldError::new(
                "stimuli.total_rate_reference_n",
                format!("{}: must be a finite number > 0", short(r)),
            ));
        }
        (None, Some(_)) => {
            return Err(FieldError::new(
                "stimuli.total_rate_reference_n",
                "scales stimuli.total_rate_hz, which is not given: give both or neither",
            ));
        }
    };
    let content_steps = match content_cue {
        Some(_) => time::checked_steps(e.cue.content_ms, dt)
            .map_err(|m| ("experiment.cue.content_ms".to_string(), m))?,
        None => 0,
    };
    let mut phases = Vec::new();
    let mut t = 0u64;
    let sensory = layers[0];
    let pointer = layers[last];
    let ps = e.pointer_size;
    let group = |m: usize| (m as u32 * ps..(m as u32 + 1) * ps).collect::<Vec<u32>>();
    let mut inputs: Vec<InputSpec> = Vec::new();
    let present = |pattern: &Pattern,
                   m: usize,
                   from: u64,
                   len: u64,
                   tag: &str,
                   inputs: &mut Vec<InputSpec>| {
        let (a, b) = (clock.time_ms(from), clock.time_ms(from + len));
        add_stimulus(
            pattern,
            StimulusInput {
                name: format!("{tag} {m}"),
                target: sensory,
                start_ms: a,
                stop_ms: b,
                encoding,
                max_rate,
                min_rate,
                total_rate,
                window,
                weight,
            },
            inputs,
        )
    };
    for m in 0..n_mem {
        let start = t;
        let len = d.encode;
        present(&set.patterns[m], m, start, len, "encode", &mut inputs)?;
        if e.teacher_pa != 0.0 {
            inputs.push(InputSpec {
                name: format!("teacher {m}"),
                target: pointer,
                neurons: group(m),
                kind: InputKind::Dc {
                    amplitude_pa: e.teacher_pa,
                    start_ms: clock.time_ms(start),
                    stop_ms: clock.time_ms(start + len),
                },
            });
        }
        push(&mut phases, &mut t, PhaseKind::Encode(m), len);
        push(&mut phases, &mut t, PhaseKind::Pause, d.pause);
    }
    push(&mut phases, &mut t, PhaseKind::Delay, d.delay);
    let mut cue_ms = Vec::with_capacity(n_mem);
    let mut ach_pulses = Vec::new();
    for m in 0..n_mem {
        let start = t;
        let cue_step = start + d.lead;
        let cue_t = clock.time_ms(cue_step);
        cue_ms.push(cue_t);
        if let Some(p) = &e.ach_pulse {
            if p.amplitude > 0.0 {
                ach_pulses.push((clock.time_ms(start), p.amplitude, p.duration_ms));
            }
        }
        if let Some(c) = &content_cue {
            let partial = set.patterns[m].restricted(&c.cells[m]);
            present(
                &partial,
                m,
                cue_step,
                content_steps,
                "content cue",
                &mut inputs,
            )?;
        } else {
            let isi = 1000.0 / e.cue.rate_hz;
            inputs.push(InputSpec {
                name: format!("cue {m}"),
                target: pointer,
                neurons: group(m)[..cued as usize].to_vec(),
                kind: InputKind::SpikeTimes {
                    times_ms: (0..e.cue.spikes)
                        .map(|k| cue_t + f64::from(k) * isi)
                        .collect(),
                    weight_pa: e.cue.weight_pa,
                    delay_ms: None,
                },
            });
        }
        push(&mut phases, &mut t, PhaseKind::Recall(m), d.recall);
        push(&mut phases, &mut t, PhaseKind::Pause, d.pause);
    }
    if e.naming {
        for m in 0..n_mem {
            let len = d.naming;
            present(&set.patterns[m], m, t, len, "name", &mut inputs)?;
            push(&mut phases, &mut t, PhaseKind::Name(m), len);
            push(&mut phases, &mut t, PhaseKind::Pause, d.pause);
        }
    }
    spec.inputs.extend(inputs);
    Ok(Protocol {
        layers,
        pointer_size: ps,
        stimuli: set,
        phases,
        gates,
        cue_ms,
        content_cue,
        ach_pulses,
        steps: t,
        metrics: e.metrics.checked()?,
    })
}

/// Appends a phase of `len` steps at `*t` (none if `len` is 0) and moves `*t` past it.
fn push(phases: &mut Vec<Phase>, t: &mut u64, kind: PhaseKind, len: u64) {
    if len > 0 {
        phases.push(Phase {
            kind,
            start: *t,
            stop: *t + len,
        });
    }
    *t += len;
}

struct StimulusInput {
    name: String,
    target: usize,
    start_ms: f64,
    stop_ms: f64,
    encoding: Encoding,
    max_rate: f64,
    min_rate: f64,
    total_rate: Option<f64>,
    window: f64,
    weight: f64,
}

/// Adds the inputs that present `pattern` between `start_ms` and `stop_ms`: Poisson trains
/// (one input per distinct rate) or rank-order volleys repeated every window.
fn add_stimulus(
    pattern: &Pattern,
    s: StimulusInput,
    inputs: &mut Vec<InputSpec>,
) -> Result<(), FieldError> {
    let field = stimuli::StimulusError::into_field_error;
    match s.encoding {
        Encoding::Poisson => {
            let rates = match s.total_rate {
                None => stimuli::poisson_rates(pattern, s.max_rate, s.min_rate),
                Some(total) => stimuli::normalized_rates(pattern, total, s.max_rate, s.min_rate),
            }
            .map_err(field)?;
            let mut by_rate: std::collections::BTreeMap<u64, Vec<u32>> = Default::default();
            for (i, &r) in rates.iter().enumerate() {
                if r > 0.0 {
                    by_rate.entry(r.to_bits()).or_default().push(i as u32);
                }
            }
            for (k, (bits, neurons)) in by_rate.into_iter().enumerate() {
                inputs.push(InputSpec {
                    name: format!("{} rate {k}", s.name),
                    target: s.target,
                    neurons,
                    kind: InputKind::Poisson {
                        rate_hz: f64::from_bits(bits),
                        weight_pa: s.weight,
                        start_ms: s.start_ms,
                        stop_ms: s.stop_ms,
                    },
                });
            }
        }
        Encoding::RankOrder => {
            let lat = stimuli::rank_order_latencies(pattern, s.window).map_err(field)?;
            for (i, l) in lat.iter().enumerate() {
                let Some(l) = l else { continue };
                let mut times = Vec::new();
                let mut t = s.start_ms + l;
                while t < s.stop_ms {
                    times.push(t);
                    t += s.window;
                }
                if !times.is_empty() {
                    inputs.push(InputSpec {
                        name: format!("{} cell {i}", s.name),
                        target: s.target,
                        neurons: vec![i as u32],
                        kind: InputKind::SpikeTimes {
                            times_ms: times,
                            weight_pa: s.weight,
                            delay_ms: None,
                        },
                    });
                }
            }
        }
    }
    Ok(())
}

/// A sink that passes spikes on and counts them since the last [`Counter::begin`]: per
/// neuron; per population before a split step (the spontaneous baseline part of a phase);
/// and per population in bins of `bin_steps` steps from the split on (the response after a
/// cue). Per spike it only adds to counts allocated by `begin`.
struct Counter<'a, S> {
    inner: &'a mut S,
    pop_ranges: Vec<std::ops::Range<u32>>,
    counts: Vec<u32>,
    /// Spikes per population in steps before `split`.
    before: Vec<u64>,
    split: u64,
    bin_steps: u64,
    n_bins: usize,
    /// `[population * n_bins + bin]`: spikes in steps `split + bin * bin_steps ..`.
    bins: Vec<u32>,
}

impl<'a, S> Counter<'a, S> {
    fn new(inner: &'a mut S, pop_ranges: &[std::ops::Range<u32>]) -> Self {
        let n = pop_ranges.last().map_or(0, |r| r.end) as usize;
        Counter {
            inner,
            pop_ranges: pop_ranges.to_vec(),
            counts: vec![0; n],
            before: vec![0; pop_ranges.len()],
            split: u64::MAX,
            bin_steps: 1,
            n_bins: 0,
            bins: Vec::new(),
        }
    }

    /// Clears every count and starts a phase: steps before `split` count as baseline,
    /// and `n_bins` bins of `bin_steps` steps follow it (spikes after them are only
    /// counted per neuron).
    fn begin(&mut self, split: u64, bin_steps: u64, n_bins: usize) {
        self.counts.fill(0);
        self.before.fill(0);
        self.split = split;
        self.bin_steps = bin_steps.max(1);
        self.n_bins = n_bins;
        self.bins.clear();
        self.bins.resize(n_bins * self.pop_ranges.len(), 0);
    }

    /// Counts of population `pop`, as f64.
    fn counts_of(&self, pop: usize) -> Vec<f64> {
        let r = &self.pop_ranges[pop];
        self.counts[r.start as usize..r.end as usize]
            .iter()
            .map(|&c| f64::from(c))
            .collect()
    }

    /// The binned counts of population `pop`.
    fn bins_of(&self, pop: usize) -> Vec<u32> {
        self.bins[pop * self.n_bins..(pop + 1) * self.n_bins].to_vec()
    }
}

impl<S: SpikeSink> SpikeSink for Counter<'_, S> {
    type Error = S::Error;

    fn record(&mut self, step: u64, time_ms: f64, spikes: &[u32]) -> Result<(), S::Error> {
        // Where this step's spikes go: the baseline, a bin, or neither.
        let bin = if step < self.split {
            None
        } else {
            let b = (step - self.split) / self.bin_steps;
            usize::try_from(b).ok().filter(|&b| b < self.n_bins)
        };
        let baseline = step < self.split;
        let mut p = 0;
        for &g in spikes {
            self.counts[g as usize] += 1;
            while g >= self.pop_ranges[p].end {
                p += 1;
            }
            if baseline {
                self.before[p] += 1;
            } else if let Some(b) = bin {
                self.bins[p * self.n_bins + b] += 1;
            }
        }
        self.inner.record(step, time_ms, spikes)
    }
}

/// What the protocol measured.
#[derive(Debug, Clone)]
pub struct RecallData {
    /// `[layer][memory]` spike counts while encoding.
    pub encoded: Vec<Vec<Vec<f64>>>,
    /// `[layer][memory]` spike counts in the recall window.
    pub recalled: Vec<Vec<Vec<f64>>>,
    /// `[layer][memory][bin]` population spike counts in bins of `bin_steps` steps from
    /// the cue to the end of the recall window (a last partial bin left out).
    pub after_cue: Vec<Vec<Vec<u32>>>,
    /// Width of the bins of `after_cue` (steps).
    pub bin_steps: u64,
    /// `[layer]` spikes in the baseline window: the delay phase and the part of every
    /// recall window before its cue (no stimulus, no cue).
    pub baseline_counts: Vec<u64>,
    /// Length of the baseline window (steps).
    pub baseline_steps: u64,
    /// `[stimulus][group]` pointer counts while naming.
    pub naming: Option<Vec<Vec<f64>>>,
}

impl Protocol {
    fn naming_phases(&self) -> bool {
        self.phases
            .iter()
            .any(|ph| matches!(ph.kind, PhaseKind::Name(_)))
    }
}

/// The recall metrics of one layer (see [`Protocol::analyse`](Experiment::analyse) for
/// the rules).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct LayerMetrics {
    /// The layer's population.
    pub population: String,
    /// Mean Pearson fidelity of its recalls to its encodings (spike counts).
    pub fidelity_mean: f64,
    /// The lowest of those fidelities.
    pub fidelity_min: f64,
    /// The memory with the lowest fidelity.
    pub fidelity_min_memory: usize,
    /// Fraction of recalls identified: fidelity row peaks at the cued memory and the
    /// recall reinstates at least the minimum fraction of this layer's encoded ensemble.
    pub identification_accuracy: f64,
    /// Fraction of recalls whose fidelity row peaks at the cued memory (no size rule).
    pub best_match_accuracy: f64,
    /// Recalls above spontaneous activity but below the minimum size.
    pub weak: usize,
    /// Recalls not above spontaneous activity.
    pub silent: usize,
    /// Mean size of the encoded ensembles (cells).
    pub ensemble_size_mean: f64,
    /// Spontaneous rate per cell in the baseline window (Hz).
    pub spontaneous_hz: f64,
    /// Why these metrics hold by construction, if they do (`null` in JSON otherwise).
    pub sanity_check: Option<String>,
}

/// The metrics of a recall run.
///
/// With the `serde` feature it serializes as the sections of [`RecallSummary`] plus
/// `"layers"` and `"recall_rules"`:
/// `{"recall": {...}, "naming": {...}, "layers": [...], "recall_rules": {...}}`.
#[derive(Debug, Clone)]
pub struct RecallResults {
    /// The summary metrics (sensory layer, latencies, naming).
    pub summary: RecallSummary,
    /// Pattern completion in the sensory layer, when recalls were cued by content.
    pub content_cue: Option<ContentCueResults>,
    /// Per layer, sensory first.
    pub per_layer: Vec<LayerMetrics>,
    /// Per layer, sensory first: each recall judged (fidelity matrix, sizes, flags).
    pub recalls: Vec<LayerRecall>,
    /// `[layer][memory][cell]`: the encoded ensembles.
    pub ensembles: Vec<Vec<Vec<bool>>>,
    /// `[layer][memory]`: the latency of each recall from its cue (ms, the onset bin's
    /// start); `None` when no bin was significant.
    pub onset_ms: Vec<Vec<Option<f64>>>,
    /// Length of the baseline window (ms).
    pub baseline_ms: f64,
    /// Width of the latency bins (ms, whole steps).
    pub bin_ms: f64,
    /// Significance level of the tests against spontaneous activity.
    pub significance: f64,
}

/// What content cues completed (see [`metrics::Completion`]).
///
/// With the `serde` feature it serializes as the summary numbers and `per_memory`:
/// `{"content_fraction": 0.5, "content_ms": 20.0, "min_spikes": 4, "completion_mean":
/// 0.6, "completion_min": 0.3, "completion_min_memory": 2, "false_completion_mean": 0.01,
/// "false_completion_max": 0.02, "cued_fired_mean": 1.0, "spontaneous_p": 0.17,
/// "any_spike_completion_mean": 0.8, "any_spike_false_completion_mean": 0.18,
/// "per_memory": {...}}` (`null`
/// where there is nothing to divide by, e.g. completion when the whole pattern is cued).
#[derive(Debug, Clone, PartialEq)]
pub struct ContentCueResults {
    /// Fraction of each memory's active cells presented.
    pub fraction: f64,
    /// How long they were presented (ms).
    pub duration_ms: f64,
    /// Which cells fired significantly above spontaneous activity, memory by memory.
    pub completion: metrics::Completion,
    /// Which cells fired at least once (the rule of the recall size test), memory by
    /// memory: to read beside `spontaneous_p`.
    pub any_spike: metrics::Completion,
    /// Probability that a sensory cell fires at least once spontaneously in a recall
    /// window, `1 - exp(-rate * window)`: the false completion `any_spike` expects from
    /// spontaneous activity alone.
    pub spontaneous_p: f64,
}

impl ContentCueResults {
    /// Mean completion over the memories with uncued pattern cells.
    pub fn completion_mean(&self) -> Option<f64> {
        metrics::mean_of_some(&self.completion.completion())
    }

    /// The lowest completion and its memory.
    pub fn completion_min(&self) -> Option<(f64, usize)> {
        metrics::extreme_of_some(&self.completion.completion(), false)
    }

    /// Mean false completion (cells outside the pattern that fired).
    pub fn false_completion_mean(&self) -> Option<f64> {
        metrics::mean_of_some(&self.completion.false_completion())
    }

    /// The highest false completion.
    pub fn false_completion_max(&self) -> Option<f64> {
        metrics::extreme_of_some(&self.completion.false_completion(), true).map(|x| x.0)
    }

    /// Mean fraction of the cued cells that fired.
    pub fn cued_fired_mean(&self) -> Option<f64> {
        metrics::mean_of_some(&self.completion.cued_fired_fraction())
    }

    /// Mean completion with the one-spike rule.
    pub fn any_spike_completion_mean(&self) -> Option<f64> {
        metrics::mean_of_some(&self.any_spike.completion())
    }

    /// Mean false completion with the one-spike rule.
    pub fn any_spike_false_completion_mean(&self) -> Option<f64> {
        metrics::mean_of_some(&self.any_spike.false_completion())
    }
}

#[cfg(feature = "serde")]
#[derive(serde::Serialize)]
struct ContentPerMemory<'a> {
    completion: Vec<Option<f64>>,
    false_completion: Vec<Option<f64>>,
    any_spike_completion: Vec<Option<f64>>,
    any_spike_false_completion: Vec<Option<f64>>,
    cued: &'a [usize],
    cued_fired: &'a [usize],
    uncued: &'a [usize],
    completed: &'a [usize],
    outside: &'a [usize],
    false_fired: &'a [usize],
}

#[cfg(feature = "serde")]
#[derive(serde::Serialize)]
struct ContentSection<'a> {
    content_fraction: f64,
    content_ms: f64,
    min_spikes: u64,
    completion_mean: Option<f64>,
    completion_min: Option<f64>,
    completion_min_memory: Option<usize>,
    false_completion_mean: Option<f64>,
    false_completion_max: Option<f64>,
    cued_fired_mean: Option<f64>,
    spontaneous_p: f64,
    any_spike_completion_mean: Option<f64>,
    any_spike_false_completion_mean: Option<f64>,
    per_memory: ContentPerMemory<'a>,
}

#[cfg(feature = "serde")]
impl serde::Serialize for ContentCueResults {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let c = &self.completion;
        let min = self.completion_min();
        ContentSection {
            content_fraction: self.fraction,
            content_ms: self.duration_ms,
            min_spikes: c.min_spikes,
            completion_mean: self.completion_mean(),
            completion_min: min.map(|x| x.0),
            completion_min_memory: min.map(|x| x.1),
            false_completion_mean: self.false_completion_mean(),
            false_completion_max: self.false_completion_max(),
            cued_fired_mean: self.cued_fired_mean(),
            spontaneous_p: self.spontaneous_p,
            any_spike_completion_mean: self.any_spike_completion_mean(),
            any_spike_false_completion_mean: self.any_spike_false_completion_mean(),
            per_memory: ContentPerMemory {
                completion: c.completion(),
                false_completion: c.false_completion(),
                any_spike_completion: self.any_spike.completion(),
                any_spike_false_completion: self.any_spike.false_completion(),
                cued: &c.cued,
                cued_fired: &c.cued_fired,
                uncued: &c.uncued,
                completed: &c.completed,
                outside: &c.outside,
                false_fired: &c.false_fired,
            },
        }
        .serialize(serializer)
    }
}

impl RecallResults {
    /// The Pearson fidelity matrix of the sensory layer `[recall][memory]`.
    pub fn fidelity(&self) -> &[Vec<f64>] {
        &self.summary.sensory.matrix
    }
}

#[cfg(feature = "serde")]
#[derive(serde::Serialize)]
struct RulesSection {
    min_recall_fraction: f64,
    significance: f64,
    latency_bin_ms: f64,
    baseline_window_ms: f64,
}

#[cfg(feature = "serde")]
impl serde::Serialize for RecallResults {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let sections = self.summary.sections();
        let mut map =
            serializer.serialize_map(Some(4 + usize::from(self.content_cue.is_some())))?;
        map.serialize_entry("recall", &sections.recall)?;
        map.serialize_entry("naming", &sections.naming)?;
        if let Some(c) = &self.content_cue {
            map.serialize_entry("content_cue", c)?;
        }
        map.serialize_entry("layers", &self.per_layer)?;
        map.serialize_entry(
            "recall_rules",
            &RulesSection {
                min_recall_fraction: self.summary.min_recall_fraction,
                significance: self.significance,
                latency_bin_ms: self.bin_ms,
                baseline_window_ms: self.baseline_ms,
            },
        )?;
        map.end()
    }
}

/// `/analysis/content_cue`: the cued cells (0/1 per memory and cell), the completion counts
/// and fractions per memory (NaN: nothing to divide by), and the summary numbers as
/// attributes.
fn content_group(c: &ContentCue, r: &ContentCueResults, cells: usize) -> Group {
    let counts = |v: &[usize]| Data::Numbers(v.iter().map(|&x| x as f64).collect());
    let fractions =
        |v: Vec<Option<f64>>| Data::Numbers(v.iter().map(|x| x.unwrap_or(f64::NAN)).collect());
    let number = |x: Option<f64>| Attr::Number(x.unwrap_or(f64::NAN));
    let cued: Vec<Vec<f64>> = c
        .cells
        .iter()
        .map(|on| {
            let mut row = vec![0.0; cells];
            on.iter().for_each(|&i| row[i] = 1.0);
            row
        })
        .collect();
    let k = &r.completion;
    let mut g = Group::new("content_cue");
    g.attr("content_fraction", Attr::Number(r.fraction))
        .attr("content_ms", Attr::Number(r.duration_ms))
        .attr("min_spikes", Attr::Count(k.min_spikes))
        .attr("completion_mean", number(r.completion_mean()))
        .attr("completion_min", number(r.completion_min().map(|x| x.0)))
        .attr("false_completion_mean", number(r.false_completion_mean()))
        .attr("false_completion_max", number(r.false_completion_max()))
        .attr("cued_fired_mean", number(r.cued_fired_mean()))
        .attr("spontaneous_p", Attr::Number(r.spontaneous_p))
        .attr(
            "any_spike_completion_mean",
            number(r.any_spike_completion_mean()),
        )
        .attr(
            "any_spike_false_completion_mean",
            number(r.any_spike_false_completion_mean()),
        )
        .data("cued", Data::Matrix(cued))
        .data("completion", fractions(k.completion()))
        .data("false_completion", fractions(k.false_completion()))
        .data("any_spike_completion", fractions(r.any_spike.completion()))
        .data(
            "any_spike_false_completion",
            fractions(r.any_spike.false_completion()),
        )
        .data("cued_cells", counts(&k.cued))
        .data("cued_fired", counts(&k.cued_fired))
        .data("uncued", counts(&k.uncued))
        .data("completed", counts(&k.completed))
        .data("outside", counts(&k.outside))
        .data("false_fired", counts(&k.false_fired));
    g
}

/// Why the pointer layer's recall metrics hold by construction.
const POINTER_SANITY: &str = "by construction: the cue drives the cued pointer group, which \
                              the teacher clamped while encoding";

/// Why the pointer layer's latency leads by construction.
const POINTER_FIRST: &str = "by construction: the cue enters this layer";

impl Experiment for Protocol {
    type Measured = RecallData;
    type Results = RecallResults;

    fn steps(&self) -> u64 {
        self.steps
    }

    fn memory(&self, spec: &NetworkSpec) -> MemoryEstimate {
        let n_mem = self.stimuli.patterns.len() as f64;
        let cells: f64 = self.stimuli.patterns.iter().map(|p| p.len() as f64).sum();
        let layer_cells: f64 = self
            .layers
            .iter()
            .map(|&l| f64::from(spec.populations[l].n))
            .sum();
        let recall_steps = self
            .phases
            .iter()
            .find(|ph| matches!(ph.kind, PhaseKind::Recall(_)))
            .map_or(0.0, |ph| (ph.stop - ph.start) as f64);
        let bin_steps = (self.metrics.latency_bin_ms / spec.dt_ms).round().max(1.0);
        let n_layers = self.layers.len() as f64;
        let mut m = MemoryEstimate::new();
        // Patterns as intensities; encoded and recalled counts per layer, memory and
        // cell, and their copies in the results; the ensembles (a byte per cell, and as
        // numbers in the file's groups); binned counts after each cue (u32, and as numbers);
        // naming counts per stimulus and group.
        m.add("stimuli", cells * 8.0);
        m.add(
            "recall measurements",
            n_mem * layer_cells * (8.0 * 4.0 + 9.0)
                + n_mem * n_layers * (recall_steps / bin_steps) * 12.0
                + n_mem * n_mem * 8.0,
        );
        m
    }

    fn ach_releases(&self) -> Vec<AchRelease> {
        self.ach_pulses
            .iter()
            .map(|&(time_ms, amplitude, duration_ms)| AchRelease {
                time_ms,
                amplitude,
                duration_ms,
            })
            .collect()
    }

    /// Runs the protocol's phases, switching plasticity, tagging and k-WTA between them
    /// and counting spikes per neuron in each.
    fn run<S: SpikeSink + Send>(
        &self,
        sim: &mut Simulation,
        sink: &mut S,
        observer: &mut dyn Observer,
    ) -> Result<RecallData, S::Error>
    where
        S::Error: Send,
    {
        let p = self;
        let n_mem = p.stimuli.patterns.len();
        let n_layers = p.layers.len();
        let ranges = sim.population_ranges().to_vec();
        let mut counter = Counter::new(sink, &ranges);
        let dt = sim.dt_ms();
        let bin_steps = ((p.metrics.latency_bin_ms / dt).round() as u64).max(1);
        let mut data = RecallData {
            encoded: vec![vec![Vec::new(); n_mem]; n_layers],
            recalled: vec![vec![Vec::new(); n_mem]; n_layers],
            after_cue: vec![vec![Vec::new(); n_mem]; n_layers],
            bin_steps,
            baseline_counts: vec![0; n_layers],
            baseline_steps: 0,
            naming: p.naming_phases().then(|| vec![vec![0.0; n_mem]; n_mem]),
        };
        for (i, &pop) in p.layers.iter().enumerate() {
            sim.set_kwta(pop, p.gates[i]);
        }
        let pointer = p.layers[n_layers - 1];
        for phase in &p.phases {
            let learning = matches!(phase.kind, PhaseKind::Encode(_));
            sim.set_plasticity(learning);
            sim.set_tagging(learning);
            // The teacher clamps the pointer layer while encoding: only memory m's group
            // may fire.
            if let PhaseKind::Encode(m) = phase.kind {
                let ps = p.pointer_size;
                let group: Vec<u32> = (m as u32 * ps..(m as u32 + 1) * ps).collect();
                sim.set_clamp(pointer, Some(&group));
            } else {
                sim.set_clamp(pointer, None);
            }
            // The baseline: the delay and each recall window before its cue.
            let (split, n_bins) = match phase.kind {
                PhaseKind::Delay => (phase.stop, 0),
                PhaseKind::Recall(m) => {
                    let cue = ((p.cue_ms[m] / dt).round() as u64).clamp(phase.start, phase.stop);
                    (cue, ((phase.stop - cue) / bin_steps) as usize)
                }
                _ => (phase.start, 0),
            };
            counter.begin(split, bin_steps, n_bins);
            let label = phase.name();
            crate::run_steps(
                sim,
                phase.stop - phase.start,
                p.steps,
                &mut counter,
                observer,
                &format!("{label:<10} "),
            )?;
            match phase.kind {
                PhaseKind::Encode(m) => {
                    for (i, &pop) in p.layers.iter().enumerate() {
                        data.encoded[i][m] = counter.counts_of(pop);
                    }
                }
                PhaseKind::Recall(m) => {
                    for (i, &pop) in p.layers.iter().enumerate() {
                        data.recalled[i][m] = counter.counts_of(pop);
                        data.after_cue[i][m] = counter.bins_of(pop);
                        data.baseline_counts[i] += counter.before[pop];
                    }
                    data.baseline_steps += split - phase.start;
                }
                PhaseKind::Delay => {
                    for (i, &pop) in p.layers.iter().enumerate() {
                        data.baseline_counts[i] += counter.before[pop];
                    }
                    data.baseline_steps += phase.stop - phase.start;
                }
                PhaseKind::Name(m) => {
                    let ptr = counter.counts_of(p.layers[n_layers - 1]);
                    if let Some(naming) = &mut data.naming {
                        for g in 0..n_mem {
                            let ps = p.pointer_size as usize;
                            naming[m][g] = ptr[g * ps..(g + 1) * ps].iter().sum();
                        }
                    }
                }
                PhaseKind::Pause => {}
            }
        }
        Ok(data)
    }

    /// Judges the recalls. The rules, each a test against the layer's spontaneous
    /// activity at the level `alpha = experiment.metrics.significance` (default 0.001):
    ///
    /// - **Baseline window**: the delay phase and the part of every recall window before
    ///   its cue (the ACh pulse has started, no stimulus, no cue). A layer's spontaneous
    ///   rate per cell is its spikes there / (cells * window). Without such a window
    ///   (delay and lead 0) the rate is taken as 0, so that any spike is significant.
    /// - **Encoded ensemble** of memory `m` in a layer: the cells whose spike count while
    ///   encoding `m` is at least the Poisson `(1 - alpha)` threshold for the spontaneous
    ///   expectation `rate * encode window` ([`metrics::ensemble`]); the same rule in
    ///   every layer (for the sensory layer it does not use the stimulus pattern).
    /// - **Identified**: the recall's row of the Pearson fidelity matrix (recalled vs
    ///   encoded spike counts) peaks strictly at the cued memory, and at least
    ///   `min_recall_fraction` of the ensemble's cells fire in the recall window while that
    ///   number is above the binomial `(1 - alpha)` threshold of spontaneous activity
    ///   (`p = 1 - exp(-rate * recall window)`). **Silent**: not above that threshold (zero
    ///   cells without spontaneous activity); **weak**: above it but below the minimum
    ///   ([`metrics::recall_size`]).
    /// - **Latency** of a layer in a recall: the layer's population spike counts in bins
    ///   of `latency_bin_ms` from the cue; the first bin whose count reaches the Poisson
    ///   threshold for the baseline mean per bin at level `alpha / bins` (Bonferroni: pure
    ///   background gives a latency in at most a fraction `alpha` of recall windows);
    ///   the latency is that bin's start after the cue, `None` when no bin reaches it
    ///   ([`metrics::onset_bin`]). A layer's latency is the mean over the recalls with one.
    /// - **Sanity checks**: with pointer cues, the pointer layer's fidelity and
    ///   identification (the cue drives the group the teacher clamped) and its leading
    ///   latency (the cue enters it) hold by construction and are labelled so; the flow
    ///   test that can fail is the order of the layers below it. With content cues nothing
    ///   is labelled: the cue enters the sensory layer, and the pointer layer's
    ///   identification is a result of the forward path.
    /// - **Completion** (content cues only, [`metrics::Completion`]): in the sensory layer,
    ///   a cell fires when its count in the recall window reaches the Poisson `(1 - alpha)`
    ///   threshold for `rate * recall window` (the ensemble rule); completion is the
    ///   fraction of the pattern's cells the cue did not present that fire, false
    ///   completion the fraction of the cells outside the pattern that fire. Beside them
    ///   the same fractions with the one-spike rule of the size test (`any_spike_*`), to
    ///   be read against `spontaneous_p`.
    fn analyse(
        &self,
        spec: &NetworkSpec,
        data: &RecallData,
    ) -> Result<RecallResults, ExperimentError> {
        let p = self;
        let clock = StepClock::new(spec.dt_ms);
        let names: Vec<String> = p
            .layers
            .iter()
            .map(|&l| spec.populations[l].name.clone())
            .collect();
        let n_layers = p.layers.len();
        let alpha = p.metrics.significance;
        let baseline_ms = clock.time_ms(data.baseline_steps);
        let bin_ms = clock.time_ms(data.bin_steps);
        let phase_ms = |is: fn(&PhaseKind) -> bool| {
            p.phases
                .iter()
                .find(|ph| is(&ph.kind))
                .map_or(0.0, |ph| clock.time_ms(ph.stop - ph.start))
        };
        let encode_ms = phase_ms(|k| matches!(k, PhaseKind::Encode(_)));
        let recall_ms = phase_ms(|k| matches!(k, PhaseKind::Recall(_)));
        let mut per_layer = Vec::with_capacity(n_layers);
        let mut recalls = Vec::with_capacity(n_layers);
        let mut ensembles = Vec::with_capacity(n_layers);
        let mut onset_ms = Vec::with_capacity(n_layers);
        let mut rates_hz = Vec::with_capacity(n_layers);
        let mut rules = Vec::with_capacity(n_layers);
        // The pointer layer's results hold by construction only when the cue drives it.
        let by_pointer = p.content_cue.is_none();
        for (i, name) in names.iter().enumerate() {
            let n_cells = f64::from(spec.populations[p.layers[i]].n);
            let rate_hz = if baseline_ms > 0.0 {
                data.baseline_counts[i] as f64 / n_cells / (baseline_ms / 1000.0)
            } else {
                0.0
            };
            let expected = rate_hz * encode_ms / 1000.0;
            let ens = data.encoded[i]
                .iter()
                .map(|c| metrics::ensemble(c, expected, alpha))
                .collect::<Result<Vec<_>, _>>()?;
            let rule = SizeRule {
                min_fraction: p.metrics.min_recall_fraction,
                spontaneous_p: 1.0 - (-rate_hz * recall_ms / 1000.0).exp(),
                alpha,
            };
            let judged = LayerRecall::judge(&data.recalled[i], &data.encoded[i], &ens, &rule)?;
            let per_bin = if data.baseline_steps > 0 {
                data.baseline_counts[i] as f64 * data.bin_steps as f64 / data.baseline_steps as f64
            } else {
                0.0
            };
            let onsets = data.after_cue[i]
                .iter()
                .map(|bins| {
                    let c: Vec<f64> = bins.iter().map(|&x| f64::from(x)).collect();
                    metrics::onset_bin(&c, per_bin, alpha).map(|b| b.map(|b| b as f64 * bin_ms))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let (fidelity_min, fidelity_min_memory) = judged.fidelity_min();
            let sizes = &judged.ensemble_size;
            per_layer.push(LayerMetrics {
                population: name.clone(),
                fidelity_mean: judged.fidelity_mean(),
                fidelity_min,
                fidelity_min_memory,
                identification_accuracy: judged.accuracy(),
                best_match_accuracy: judged.best_match_accuracy(),
                weak: judged.count(RecallSize::Weak),
                silent: judged.count(RecallSize::Silent),
                ensemble_size_mean: sizes.iter().sum::<usize>() as f64 / sizes.len() as f64,
                spontaneous_hz: rate_hz,
                sanity_check: (i == n_layers - 1 && by_pointer).then(|| POINTER_SANITY.to_owned()),
            });
            recalls.push(judged);
            ensembles.push(ens);
            onset_ms.push(onsets);
            rates_hz.push(rate_hz);
            rules.push(rule);
        }
        // Backward path: pointer first.
        let latency_ms: Vec<PopulationLatency> = (0..n_layers)
            .rev()
            .map(|i| {
                PopulationLatency::from_onsets(
                    &names[i],
                    &onset_ms[i],
                    rates_hz[i],
                    (i == n_layers - 1 && by_pointer).then(|| POINTER_FIRST.to_owned()),
                )
            })
            .collect();
        let summary = RecallSummary::compute(
            &data.recalled[0],
            &data.encoded[0],
            &ensembles[0],
            &rules[0],
            latency_ms,
            data.naming.as_deref(),
        )?;
        let content_cue = p
            .content_cue
            .as_ref()
            .map(|c| {
                let cells = p.stimuli.patterns[0].len();
                let mask = |on: &[usize]| {
                    let mut m = vec![false; cells];
                    on.iter().for_each(|&i| m[i] = true);
                    m
                };
                let patterns: Vec<Vec<bool>> = p
                    .stimuli
                    .patterns
                    .iter()
                    .map(|q| mask(&q.active()))
                    .collect();
                let cued: Vec<Vec<bool>> = c.cells.iter().map(|x| mask(x)).collect();
                let expected = rates_hz[0] * recall_ms / 1000.0;
                let judge = |min_spikes| {
                    metrics::Completion::compute(&data.recalled[0], &patterns, &cued, min_spikes)
                };
                Ok::<_, metrics::MetricError>(ContentCueResults {
                    fraction: c.fraction,
                    duration_ms: c.duration_ms,
                    completion: judge(metrics::poisson_threshold(expected, alpha)?)?,
                    any_spike: judge(1)?,
                    spontaneous_p: rules[0].spontaneous_p,
                })
            })
            .transpose()?;
        Ok(RecallResults {
            summary,
            content_cue,
            per_layer,
            recalls,
            ensembles,
            onset_ms,
            baseline_ms,
            bin_ms,
            significance: alpha,
        })
    }

    /// `/protocol` (names, start_ms, stop_ms, cue_ms), `/stimuli` (encoded and recalled
    /// sensory patterns, attrs width and height, the image files, and `fidelity`: the
    /// summary's r per memory) and `/analysis` (the rules' parameters and the Jaccard
    /// values as attributes; the sensory fidelity matrix; naming counts; per layer the
    /// spike-count matrices, the encoded ensembles as 0/1 rows, per-memory fidelity, sizes
    /// and flags (`best_match`, `identified`, `weak`, `silent` as 0/1), the binned counts
    /// after each cue and the latency from each cue (NaN: none); `summary` in the attribute
    /// `summary`; with content cues the group `content_cue`, see `content_group`).
    fn record(
        &self,
        spec: &NetworkSpec,
        data: &RecallData,
        results: &RecallResults,
        summary: &str,
    ) -> Vec<Group> {
        let p = self;
        let clock = StepClock::new(spec.dt_ms);
        let mut prot = Group::new("protocol");
        prot.data(
            "names",
            Data::Strings(p.phases.iter().map(Phase::name).collect()),
        )
        .data(
            "start_ms",
            Data::Numbers(p.phases.iter().map(|ph| clock.time_ms(ph.start)).collect()),
        )
        .data(
            "stop_ms",
            Data::Numbers(p.phases.iter().map(|ph| clock.time_ms(ph.stop)).collect()),
        )
        .data("cue_ms", Data::Numbers(p.cue_ms.clone()));

        let mut st = Group::new("stimuli");
        let cells = p.stimuli.patterns[0].len();
        let (w, h) = p.stimuli.shape.unwrap_or_else(|| {
            let side = (cells as f64).sqrt().round() as usize;
            if side * side == cells {
                (side, side)
            } else {
                (cells, 1)
            }
        });
        st.attr("width", Attr::Count(w as u64))
            .attr("height", Attr::Count(h as u64));
        let encoded: Vec<Vec<f64>> = p
            .stimuli
            .patterns
            .iter()
            .map(|q| q.intensities().to_vec())
            .collect();
        st.data("encoded", Data::Matrix(encoded));
        // The recalled pattern: sensory spike counts scaled to [0, 1] per memory.
        let recalled: Vec<Vec<f64>> = data.recalled[0]
            .iter()
            .map(|r| {
                let max = r.iter().copied().fold(0.0, f64::max);
                r.iter()
                    .map(|&c| if max > 0.0 { c / max } else { 0.0 })
                    .collect()
            })
            .collect();
        st.data("recalled", Data::Matrix(recalled));
        if !p.stimuli.files.is_empty() {
            let files = p
                .stimuli
                .files
                .iter()
                .map(|f| f.display().to_string())
                .collect();
            st.data("files", Data::Strings(files));
        }

        // The summary's per-memory fidelity, for the recall grid: what its r compares.
        st.data(
            "fidelity",
            Data::Numbers(results.summary.sensory.fidelity()),
        )
        .attr(
            "fidelity_compares",
            Attr::Text(
                "Pearson r of recalled vs encoded sensory spike counts, as in the \
                     summary"
                    .into(),
            ),
        );

        let flags = |v: &[bool]| Data::Numbers(v.iter().map(|&x| f64::from(u8::from(x))).collect());
        let s = &results.summary;
        let mut an = Group::new("analysis");
        an.attr("summary", Attr::Text(summary.to_string()))
            .attr("baseline_window_ms", Attr::Number(results.baseline_ms))
            .attr("latency_bin_ms", Attr::Number(results.bin_ms))
            .attr("significance", Attr::Number(results.significance))
            .attr("min_recall_fraction", Attr::Number(s.min_recall_fraction))
            .attr("jaccard_mean", Attr::Number(s.jaccard_mean))
            .attr(
                "jaccard_between_memories",
                Attr::Number(s.jaccard_between_memories.unwrap_or(f64::NAN)),
            )
            .attr("jaccard_chance", Attr::Number(s.jaccard_chance))
            .data(
                "fidelity_pearson",
                Data::Matrix(results.fidelity().to_vec()),
            );
        for (i, &pop) in p.layers.iter().enumerate() {
            let mut g = Group::new(spec.populations[pop].name.clone());
            let lat = results.onset_ms[i]
                .iter()
                .map(|l| l.unwrap_or(f64::NAN))
                .collect();
            let layer = &results.per_layer[i];
            let judged = &results.recalls[i];
            let of = |k: RecallSize| -> Vec<bool> { judged.size.iter().map(|&x| x == k).collect() };
            let ens: Vec<Vec<f64>> = results.ensembles[i]
                .iter()
                .map(|e| e.iter().map(|&x| f64::from(u8::from(x))).collect())
                .collect();
            let binned: Vec<Vec<f64>> = data.after_cue[i]
                .iter()
                .map(|b| b.iter().map(|&x| f64::from(x)).collect())
                .collect();
            let sizes = |v: &[usize]| Data::Numbers(v.iter().map(|&x| x as f64).collect());
            g.data("encoded_counts", Data::Matrix(data.encoded[i].clone()))
                .data("recalled_counts", Data::Matrix(data.recalled[i].clone()))
                .data("ensembles", Data::Matrix(ens))
                .data("ensemble_size", sizes(&judged.ensemble_size))
                .data("active_in_ensemble", sizes(&judged.active))
                .data("fidelity", Data::Numbers(judged.fidelity()))
                .data("best_match", flags(&judged.best_match))
                .data("identified", flags(&judged.identified))
                .data("weak", flags(&of(RecallSize::Weak)))
                .data("silent", flags(&of(RecallSize::Silent)))
                .data("after_cue_counts", Data::Matrix(binned))
                .data("latency_from_cue_ms", Data::Numbers(lat))
                .attr("fidelity_mean", Attr::Number(layer.fidelity_mean))
                .attr("fidelity_min", Attr::Number(layer.fidelity_min))
                .attr(
                    "identification_accuracy",
                    Attr::Number(layer.identification_accuracy),
                )
                .attr(
                    "best_match_accuracy",
                    Attr::Number(layer.best_match_accuracy),
                )
                .attr("spontaneous_hz", Attr::Number(layer.spontaneous_hz))
                .attr("baseline_count", Attr::Count(data.baseline_counts[i]));
            if let Some(why) = &layer.sanity_check {
                g.attr("sanity_check", Attr::Text(why.clone()));
            }
            an.groups.push(g);
        }
        if let Some(naming) = &data.naming {
            an.data("naming_counts", Data::Matrix(naming.clone()));
        }
        if let (Some(c), Some(r)) = (&p.content_cue, &results.content_cue) {
            an.groups.push(content_group(c, r, cells));
        }
        vec![prot, st, an]
    }
}
