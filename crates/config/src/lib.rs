//! engram's TOML files, read into what the library crates run: the only crate that parses
//! TOML.
//!
//! It owns
//!
//! - the config schema ([`ConfigFile`]) and its validation into a [`Model`]: a checked
//!   [`NetworkSpec`], the steps to run, the populations to record, the acetylcholine
//!   kinetics and the compiled experiment [`Plan`];
//! - `--set path.to.field=value` edits by dotted path, and error locations: every error is
//!   a [`ConfigError`] naming the file, the line when the value comes from the file, the
//!   dotted field path and what is allowed;
//! - the choice of the experiment kind by `[experiment] kind` ([`experiment`]: the kinds
//!   a config can name are listed there, one line each);
//! - reading the image folders of `[stimuli] path` ([`images`]);
//! - the sweep file ([`sweep`]): its parsing, its points, and their check as configs;
//! - [`Value`]: a config value as `--set` and a sweep write it.
//!
//! Loading goes raw text -> TOML value (+ `--set` edits) -> typed [`ConfigFile`] (unknown
//! keys are errors) -> [`Model`] (checked, with a [`NetworkSpec`] inside).

use std::fmt;
use std::path::{Path, PathBuf};

use engram_core::memory::{MemoryEstimate, MemoryLimit};
use engram_core::number::short;
use engram_experiments::Plan;
use engram_experiments::recall::StimulusParams;
use engram_experiments::stimuli::{ImageSet, StimulusError};
use engram_network::connect::Connectivity;
use engram_network::{
    GapSpec, InputKind, InputSpec, JunctionKind, NetworkError, NetworkSpec, PlasticityRule,
    PlasticitySpec, PopulationSpec, ProjectionSpec, ValueDist,
};
use engram_neuron::LifParams;
use indexmap::IndexMap;
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};

pub mod experiment;
pub mod images;
pub mod sweep;
mod value;

pub use experiment::ExperimentParams;
pub use value::Value;

/// A config that cannot be used: where, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigError {
    /// The config file.
    pub file: PathBuf,
    /// 1-based line of the offending value, when it comes from the file.
    pub line: Option<usize>,
    /// Dotted path of the field (`projections.E_to_E.connectivity.p`); empty for syntax
    /// errors.
    pub path: String,
    /// What is wrong and what is allowed.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if self.path.is_empty() {
            write!(f, ": {}", self.message)
        } else {
            write!(f, ": {}: {}", self.path, self.message)
        }
    }
}

impl std::error::Error for ConfigError {}

/// The whole config file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// Time step, duration, seed.
    #[serde(default)]
    pub simulation: SimulationConfig,
    /// Neuron parameters shared by every population (each may override them).
    #[serde(default)]
    pub neuron: NeuronConfig,
    /// Populations by name, in file order.
    pub populations: IndexMap<String, PopulationConfig>,
    /// Projections by name.
    #[serde(default)]
    pub projections: IndexMap<String, ProjectionConfig>,
    /// Stimulus sources by name.
    #[serde(default)]
    pub inputs: IndexMap<String, InputConfig>,
    /// What to record.
    #[serde(default)]
    pub output: OutputConfig,
    /// Acetylcholine (absent: no modulation).
    pub ach: Option<AchConfig>,
    /// An experiment protocol (absent: a plain run of `simulation.duration_ms`), of the
    /// kind its `kind` names; read after the rest of the file (see [`experiment`]).
    #[serde(default, deserialize_with = "experiment::later")]
    pub experiment: Option<ExperimentParams>,
    /// The stimuli of an experiment.
    pub stimuli: Option<StimulusParams>,
}

/// `[simulation]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimulationConfig {
    /// Time step (ms). Default 0.1.
    #[serde(default = "default_dt")]
    pub dt_ms: f64,
    /// Simulated time (ms). Default 1000.
    #[serde(default = "default_duration")]
    pub duration_ms: f64,
    /// Seed of every random stream. Default 1.
    #[serde(default = "default_seed")]
    pub seed: u64,
}

fn default_dt() -> f64 {
    0.1
}
fn default_duration() -> f64 {
    1000.0
}
fn default_seed() -> u64 {
    1
}
fn default_delay() -> DistConfig {
    DistConfig(ValueDist::Constant(1.0))
}

impl Default for SimulationConfig {
    fn default() -> Self {
        SimulationConfig {
            dt_ms: default_dt(),
            duration_ms: default_duration(),
            seed: default_seed(),
        }
    }
}

/// Neuron parameters; every field is optional and falls back to the `[neuron]` table, then
/// to the model's default (see `engram_neuron` for the table of defaults).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NeuronConfig {
    /// Neuron model; only `lif_exp` (current-based LIF, exponential synapses) for now.
    pub model: Option<String>,
    /// Membrane capacitance (pF).
    pub c_m_pf: Option<f64>,
    /// Membrane time constant (ms).
    pub tau_m_ms: Option<f64>,
    /// Excitatory synaptic time constant (ms).
    pub tau_syn_ex_ms: Option<f64>,
    /// Inhibitory synaptic time constant (ms).
    pub tau_syn_in_ms: Option<f64>,
    /// Refractory period (ms).
    pub t_ref_ms: Option<f64>,
    /// Resting potential (mV).
    pub e_l_mv: Option<f64>,
    /// Threshold (mV).
    pub v_th_mv: Option<f64>,
    /// Reset potential (mV).
    pub v_reset_mv: Option<f64>,
    /// Bias current (pA).
    pub i_e_pa: Option<f64>,
    /// bAP jump of the dendritic trace (mV).
    pub a_bap_mv: Option<f64>,
    /// bAP trace decay (ms).
    pub tau_bap_ms: Option<f64>,
    /// Adaptive threshold: rise per spike (mV).
    pub theta_plus_mv: Option<f64>,
    /// Adaptive threshold: decay (ms).
    pub tau_theta_ms: Option<f64>,
    /// Initial membrane potential (mV): a number or a distribution. Default: E_L.
    pub v_init_mv: Option<DistConfig>,
}

macro_rules! neuron_fields {
    ($m:ident) => {
        $m!(
            c_m_pf,
            tau_m_ms,
            tau_syn_ex_ms,
            tau_syn_in_ms,
            t_ref_ms,
            e_l_mv,
            v_th_mv,
            v_reset_mv,
            i_e_pa,
            a_bap_mv,
            tau_bap_ms,
            theta_plus_mv,
            tau_theta_ms
        )
    };
}

impl NeuronConfig {
    /// `self` with unset fields taken from `base`.
    fn over(&self, base: &NeuronConfig) -> NeuronConfig {
        macro_rules! merge {
            ($($f:ident),*) => {
                NeuronConfig {
                    model: self.model.clone().or_else(|| base.model.clone()),
                    v_init_mv: self.v_init_mv.or(base.v_init_mv),
                    $($f: self.$f.or(base.$f),)*
                }
            };
        }
        neuron_fields!(merge)
    }

    /// Parameters with model defaults for unset fields.
    fn params(&self) -> LifParams {
        let d = LifParams::default();
        macro_rules! fill {
            ($($f:ident),*) => { LifParams { $($f: self.$f.unwrap_or(d.$f),)* } };
        }
        neuron_fields!(fill)
    }

    /// Whether field `name` is set here.
    fn is_set(&self, name: &str) -> bool {
        macro_rules! check {
            ($($f:ident),*) => {
                match name {
                    $(stringify!($f) => self.$f.is_some(),)*
                    "model" => self.model.is_some(),
                    "v_init_mv" => self.v_init_mv.is_some(),
                    _ => false,
                }
            };
        }
        neuron_fields!(check)
    }
}

/// `[populations.NAME]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PopulationConfig {
    /// Number of neurons. May be left out for the sensory and pointer layers of an
    /// `[experiment]`, which then take it from the stimuli and the memories.
    pub n: Option<u32>,
    /// Layout `[channels, height, width]` of the neurons (product = `n`), for image-like
    /// layers.
    pub shape: Option<[u32; 3]>,
    /// Overrides of the shared `[neuron]` parameters.
    #[serde(default)]
    pub neuron: NeuronConfig,
}

/// `[projections.NAME]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectionConfig {
    /// Source population.
    pub source: String,
    /// Target population.
    pub target: String,
    /// Connection rule.
    pub connectivity: Connectivity,
    /// Synaptic current jump (pA): a number or a distribution; >= 0 excitatory, <= 0
    /// inhibitory.
    pub weight_pa: DistConfig,
    /// Axonal delay (ms), rounded to steps, at least one step. Default 1.
    #[serde(default = "default_delay")]
    pub delay_ms: DistConfig,
    /// Gap junctions that mirror the synapses.
    pub gap: Option<GapConfig>,
    /// Learning rule of the weights (absent: fixed weights).
    pub plasticity: Option<PlasticityConfig>,
}

/// `[projections.NAME.gap]`: electrical coupling mirroring each synapse.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GapConfig {
    /// Conductance per unit weight (nS).
    pub kappa_ns: f64,
    /// The weight that counts as one unit (pA). Default: the plasticity unit, else 1.
    pub weight_unit_pa: Option<f64>,
    /// `"rectifying"` (default) or `"ohmic"`.
    #[serde(default)]
    pub kind: JunctionKindConfig,
    /// Backward delay, dendrite to presynaptic soma (ms). Default: one step.
    pub delay_ms: Option<f64>,
    /// Tag baseline: 1 = tags off (default), 0 = only tagged junctions conduct.
    #[serde(default = "default_one")]
    pub c0: f64,
    /// Pre-before-post window that tags a synapse (ms). Default 20.
    #[serde(default = "default_tag_window")]
    pub tag_window_ms: f64,
    /// Decay of tags (ms). Default: no decay (`inf`).
    #[serde(default = "pos_inf")]
    pub tau_tag_ms: f64,
    /// Time constant with which the coupling follows the weight (ms). Default 0: locked.
    #[serde(default)]
    pub tau_g_ms: f64,
}

fn default_one() -> f64 {
    1.0
}
fn default_tag_window() -> f64 {
    20.0
}

/// Gap junction kind.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JunctionKindConfig {
    /// Current flows only into the presynaptic cell.
    #[default]
    Rectifying,
    /// Either direction.
    Ohmic,
}

/// `[projections.NAME.plasticity]`.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case", deny_unknown_fields)]
pub enum PlasticityConfig {
    /// `+eta_plus w (1 - w)` for synapses whose pre fired within `window_ms` before a
    /// post spike, `-eta_minus w (1 - w)` for the others.
    SoftBounded {
        /// Potentiation rate. Default 0.5.
        #[serde(default = "default_eta_plus")]
        eta_plus: f64,
        /// Depression rate. Default 0.03.
        #[serde(default = "default_eta_minus")]
        eta_minus: f64,
        /// Pairing window (ms). Default 20.
        #[serde(default = "default_tag_window")]
        window_ms: f64,
        /// The weight that counts as w = 1 (pA). Default: the largest initial weight.
        weight_unit_pa: Option<f64>,
        /// Synaptic normalization: at every postsynaptic spike, after the rule's update,
        /// the neuron's incoming weights are scaled to their built sum. Default false.
        #[serde(default)]
        normalize: bool,
    },
    /// Pair-based additive STDP with traces.
    PairTrace {
        /// Potentiation amplitude.
        a_plus: f64,
        /// Depression amplitude.
        a_minus: f64,
        /// Presynaptic trace decay (ms). Default 20.
        #[serde(default = "default_tag_window")]
        tau_plus_ms: f64,
        /// Postsynaptic trace decay (ms). Default 20.
        #[serde(default = "default_tag_window")]
        tau_minus_ms: f64,
        /// The weight that counts as w = 1 (pA). Default: the largest initial weight.
        weight_unit_pa: Option<f64>,
        /// Synaptic normalization: at every postsynaptic spike, after the rule's update,
        /// the neuron's incoming weights are scaled to their built sum. Default false.
        #[serde(default)]
        normalize: bool,
    },
}

fn default_eta_plus() -> f64 {
    0.5
}
fn default_eta_minus() -> f64 {
    0.03
}

/// `[ach]`: acetylcholine concentration and what it modulates.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AchConfig {
    /// Tonic level. Default 0.
    #[serde(default)]
    pub tonic: f64,
    /// Decay towards the tonic level (ms). Default 100.
    #[serde(default = "default_tau_ach")]
    pub tau_ach_ms: f64,
    /// Release pulses.
    #[serde(default)]
    pub pulses: Vec<AchPulseConfig>,
    /// Effect curves by target.
    #[serde(default)]
    pub effects: AchEffectsConfig,
}

fn default_tau_ach() -> f64 {
    100.0
}

/// One release pulse: `{ time_ms, amplitude, duration_ms }`.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AchPulseConfig {
    /// Start (ms).
    pub time_ms: f64,
    /// Amount released (A rises by this much without decay). Default 1.
    #[serde(default = "default_one")]
    pub amplitude: f64,
    /// Release duration (ms); 0 = a jump. Default 0.
    #[serde(default)]
    pub duration_ms: f64,
}

/// `[ach.effects]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AchEffectsConfig {
    /// Gain on the bAP jump.
    pub bap_gain: Option<EffectConfig>,
    /// Gain on gap junctions.
    pub gap_gain: Option<EffectConfig>,
    /// Gain on chemical transmission.
    pub forward_gain: Option<EffectConfig>,
    /// Factor on plasticity rates.
    pub plasticity_rate: Option<EffectConfig>,
    /// Threshold shift (mV).
    pub threshold_shift_mv: Option<EffectConfig>,
    /// Gain on the adaptive threshold rise.
    pub adaptation_gain: Option<EffectConfig>,
}

/// A Hill curve `min + (max - min) A^h / (A^h + k^h)` and the populations it applies to.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EffectConfig {
    /// Value at A = 0.
    pub min: f64,
    /// Value at saturation.
    pub max: f64,
    /// Half-activation concentration. Default 0.5.
    #[serde(default = "default_k")]
    pub k: f64,
    /// Hill exponent. Default 2.
    #[serde(default = "default_hill")]
    pub hill: f64,
    /// Populations affected. Default: all.
    pub populations: Option<Vec<String>>,
}

fn default_k() -> f64 {
    0.5
}
fn default_hill() -> f64 {
    2.0
}

/// A value in a config: a number, `{ uniform = [low, high] }` or
/// `{ normal = { mean = .., std = .., min = .., max = .. } }`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DistConfig(pub ValueDist);

#[derive(Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum DistTable {
    Uniform([f64; 2]),
    Normal(NormalTable),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NormalTable {
    mean: f64,
    std: f64,
    #[serde(default = "neg_inf")]
    min: f64,
    #[serde(default = "pos_inf")]
    max: f64,
}

fn neg_inf() -> f64 {
    f64::NEG_INFINITY
}
fn pos_inf() -> f64 {
    f64::INFINITY
}

impl<'de> Deserialize<'de> for DistConfig {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = DistConfig;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(
                    "a number, { uniform = [low, high] } or { normal = { mean = m, std = s, min = a, max = b } }",
                )
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<DistConfig, E> {
                Ok(DistConfig(ValueDist::Constant(v)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<DistConfig, E> {
                Ok(DistConfig(ValueDist::Constant(v as f64)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<DistConfig, E> {
                Ok(DistConfig(ValueDist::Constant(v as f64)))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<DistConfig, A::Error> {
                let t = DistTable::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(DistConfig(match t {
                    DistTable::Uniform([low, high]) => ValueDist::Uniform { low, high },
                    DistTable::Normal(n) => ValueDist::Normal {
                        mean: n.mean,
                        std: n.std,
                        min: n.min,
                        max: n.max,
                    },
                }))
            }
        }
        d.deserialize_any(V)
    }
}

/// Which neurons of the target population an input reaches: `"all"` (default), a list of
/// indices, or `{ range = [first, end) }`.
#[derive(Debug, Clone, PartialEq)]
pub enum NeuronSelect {
    /// Every neuron.
    All,
    /// These indices.
    List(Vec<u32>),
    /// `first..end`.
    Range(u32, u32),
}

impl<'de> Deserialize<'de> for NeuronSelect {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct RangeTable {
            range: [u32; 2],
        }
        impl<'de> Visitor<'de> for V {
            type Value = NeuronSelect;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("\"all\", a list of neuron indices, or { range = [first, end] }")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<NeuronSelect, E> {
                if v == "all" {
                    Ok(NeuronSelect::All)
                } else {
                    Err(E::invalid_value(de::Unexpected::Str(v), &self))
                }
            }
            fn visit_seq<A: de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<NeuronSelect, A::Error> {
                let mut out = Vec::new();
                while let Some(i) = seq.next_element::<u32>()? {
                    out.push(i);
                }
                Ok(NeuronSelect::List(out))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<NeuronSelect, A::Error> {
                let t = RangeTable::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(NeuronSelect::Range(t.range[0], t.range[1]))
            }
        }
        d.deserialize_any(V)
    }
}

/// `[inputs.NAME]`: a stimulus source; `kind` says which.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum InputConfig {
    /// Independent Poisson trains, one per target neuron.
    Poisson {
        /// Target population.
        target: String,
        /// Target neurons. Default: all.
        neurons: Option<NeuronSelect>,
        /// Rate (Hz).
        rate_hz: f64,
        /// Jump per spike (pA).
        weight_pa: f64,
        /// Start (ms). Default 0.
        #[serde(default)]
        start_ms: f64,
        /// Stop (ms). Default: end of the run.
        stop_ms: Option<f64>,
    },
    /// Spikes at given times into every target neuron.
    SpikeTimes {
        /// Target population.
        target: String,
        /// Target neurons. Default: all.
        neurons: Option<NeuronSelect>,
        /// Times (ms).
        times_ms: Vec<f64>,
        /// Jump per spike (pA).
        weight_pa: f64,
    },
    /// Constant current.
    Dc {
        /// Target population.
        target: String,
        /// Target neurons. Default: all.
        neurons: Option<NeuronSelect>,
        /// Amplitude (pA).
        amplitude_pa: f64,
        /// Start (ms). Default 0.
        #[serde(default)]
        start_ms: f64,
        /// Stop (ms). Default: end of the run.
        stop_ms: Option<f64>,
    },
    /// Piecewise-constant current.
    StepCurrent {
        /// Target population.
        target: String,
        /// Target neurons. Default: all.
        neurons: Option<NeuronSelect>,
        /// Switching times (ms).
        times_ms: Vec<f64>,
        /// Amplitudes (pA).
        amplitudes_pa: Vec<f64>,
    },
}

impl InputConfig {
    fn target(&self) -> &str {
        match self {
            InputConfig::Poisson { target, .. }
            | InputConfig::SpikeTimes { target, .. }
            | InputConfig::Dc { target, .. }
            | InputConfig::StepCurrent { target, .. } => target,
        }
    }

    fn neurons(&self) -> Option<&NeuronSelect> {
        match self {
            InputConfig::Poisson { neurons, .. }
            | InputConfig::SpikeTimes { neurons, .. }
            | InputConfig::Dc { neurons, .. }
            | InputConfig::StepCurrent { neurons, .. } => neurons.as_ref(),
        }
    }
}

/// `[output]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputConfig {
    /// Populations whose spikes are written. Default: all.
    pub record: Option<Vec<String>>,
    /// Write every projection's final weights to `/weights/<projection>/{source, target,
    /// weight_pa}`. Default false.
    #[serde(default)]
    pub weights: bool,
}

/// A checked config, ready to build.
#[derive(Debug, Clone)]
pub struct Model {
    /// The file it came from.
    pub file: PathBuf,
    /// The config text after `--set` edits, as written to the output.
    pub text: String,
    /// The typed config.
    pub config: ConfigFile,
    /// The network.
    pub spec: NetworkSpec,
    /// Number of steps to run.
    pub steps: u64,
    /// Indices of the populations to record.
    pub record: Vec<usize>,
    /// Acetylcholine kinetics and effects, if configured.
    pub ach: Option<(
        engram_cholinergic::ValidAchParams,
        engram_cholinergic::Modulator,
    )>,
    /// The compiled experiment, if any (its inputs are already in `spec`).
    pub experiment: Option<Plan>,
}

/// How a config is loaded beyond its text and `--set` edits.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Replaces `simulation.seed`.
    pub seed: Option<u64>,
    /// The memory the run may use: a model whose estimate (see [`Model::memory_estimate`])
    /// exceeds it is refused, and stimuli are refused before they are allocated. `None`:
    /// no limit.
    pub memory: Option<MemoryLimit>,
    /// Threads the run will use (the estimate depends on it a little); 0 counts as 1.
    pub threads: usize,
}

/// Reads, edits (`--set path=value`), parses and checks a config file, with no memory
/// limit (see [`load_with`]).
pub fn load(path: &Path, sets: &[String], seed: Option<u64>) -> Result<Model, ConfigError> {
    load_with(
        path,
        sets,
        &LoadOptions {
            seed,
            ..LoadOptions::default()
        },
    )
}

/// Reads, edits, parses and checks a config file, and refuses a model that needs more
/// memory than `options.memory`.
pub fn load_with(
    path: &Path,
    sets: &[String],
    options: &LoadOptions,
) -> Result<Model, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
        file: path.to_path_buf(),
        line: None,
        path: String::new(),
        message: format!("cannot read the config: {e}"),
    })?;
    from_text_with(path, &text, sets, options)
}

/// As [`load`], from text already read.
pub fn from_text(
    file: &Path,
    text: &str,
    sets: &[String],
    seed: Option<u64>,
) -> Result<Model, ConfigError> {
    from_text_with(
        file,
        text,
        sets,
        &LoadOptions {
            seed,
            ..LoadOptions::default()
        },
    )
}

/// As [`load_with`], from text already read.
pub fn from_text_with(
    file: &Path,
    text: &str,
    sets: &[String],
    options: &LoadOptions,
) -> Result<Model, ConfigError> {
    let seed = options.seed;
    let memory = options.memory.as_ref();
    let err = |line: Option<usize>, path: &str, message: String| ConfigError {
        file: file.to_path_buf(),
        line,
        path: path.to_string(),
        message,
    };
    let mut value: toml::Table = toml::from_str(text).map_err(|e| {
        let line = e.span().map(|s| line_of_offset(text, s.start));
        err(line, "", e.message().trim().to_string())
    })?;
    // (path whose value a `--set` wrote, the `--set` path): the set path itself, and the
    // first table the set had to create, if any (so an unknown table is blamed on it).
    let mut set_paths: Vec<(String, String)> = Vec::new();
    for s in sets {
        let (p, created) =
            apply_set(&mut value, s).map_err(|m| err(None, "", format!("--set {s}: {m}")))?;
        if let Some(c) = created {
            set_paths.push((c, p.clone()));
        }
        set_paths.push((p.clone(), p));
    }
    if let Some(seed) = seed {
        let sim = value
            .entry("simulation")
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        if let toml::Value::Table(t) = sim {
            t.insert("seed".into(), toml::Value::Integer(seed as i64));
        }
    }
    let edited = if set_paths.is_empty() && seed.is_none() {
        text.to_string()
    } else {
        toml::to_string(&value).unwrap_or_default()
    };
    // Where a path's value comes from: a line of the file, or the command line.
    let locate = |path: &str| -> (Option<usize>, String) {
        if let Some((_, p)) = set_paths
            .iter()
            .rev()
            .find(|(c, _)| path == c || path.starts_with(&format!("{c}.")))
        {
            return (None, format!(" (set on the command line: --set {p})"));
        }
        (line_of_path(text, path), String::new())
    };
    let experiment = value.get("experiment").cloned();
    let mut config: ConfigFile = serde_path_to_error::deserialize(toml::Value::Table(value))
        .map_err(|e| {
            let path = clean_path(&e.path().to_string());
            let (line, origin) = locate(&path);
            err(
                line,
                &path,
                format!("{}{origin}", e.inner().message().trim()),
            )
        })?;
    let invalid = |path: String, message: String| {
        let (line, origin) = locate(&path);
        err(line, &path, format!("{message}{origin}"))
    };
    config.experiment = experiment
        .map(experiment::parse)
        .transpose()
        .map_err(|(p, m)| invalid(p, m))?;
    if config.stimuli.is_some() && config.experiment.is_none() {
        return Err(invalid(
            "stimuli".into(),
            "stimuli are used by an experiment; add an [experiment] table or remove [stimuli]"
                .into(),
        ));
    }
    let prepared = match &config.experiment {
        Some(e) => {
            let by_cli = set_paths
                .iter()
                .any(|(_, p)| p == "stimuli.path" || p == "stimuli");
            let mut sizes: IndexMap<String, Option<u32>> = config
                .populations
                .iter()
                .map(|(name, p)| (name.clone(), p.n))
                .collect();
            // A relative image folder is relative to the config file, unless it was given on
            // the command line.
            let mut images = |raw: &Path| -> Result<ImageSet, StimulusError> {
                let dir = if raw.is_absolute() || by_cli {
                    raw.to_path_buf()
                } else {
                    file.parent().unwrap_or(Path::new("")).join(raw)
                };
                Ok(images::load_images(&dir, memory)?)
            };
            let prepared = e
                .prepare(
                    config.stimuli.as_ref(),
                    &mut sizes,
                    config.simulation.seed,
                    &mut images,
                    memory,
                )
                .map_err(|(p, m)| invalid(p, m))?;
            for (p, n) in config.populations.values_mut().zip(sizes.into_values()) {
                p.n = n;
            }
            Some(prepared)
        }
        None => None,
    };
    let (mut spec, mut steps, record) = to_spec(&config, memory).map_err(|(p, m)| invalid(p, m))?;
    let experiment = match (&config.experiment, prepared) {
        (Some(e), Some(prepared)) => {
            let plan = e
                .build(config.stimuli.as_ref(), prepared, &mut spec)
                .map_err(|(p, m)| invalid(p, m))?;
            steps = plan.steps();
            Some(plan)
        }
        _ => None,
    };
    spec.validate().map_err(|e| match e {
        NetworkError::Invalid { path, message } => invalid(path, message),
        other => invalid(String::new(), other.to_string()),
    })?;
    let pulses = experiment
        .as_ref()
        .map_or_else(Vec::new, Plan::ach_releases);
    let ach = match (&config.ach, pulses.is_empty()) {
        (None, true) => None,
        (a, _) => {
            // The protocol's recall pulses join the user's; those are checked first, so
            // an error names the user's pulse.
            let duration = steps as f64 * spec.dt_ms;
            let mut a = a.clone().unwrap_or_default();
            ach_of(&a, &spec, duration).map_err(|(p, m)| invalid(p, m))?;
            let n_user = a.pulses.len();
            a.pulses.extend(pulses.iter().map(|r| AchPulseConfig {
                time_ms: r.time_ms,
                amplitude: r.amplitude,
                duration_ms: r.duration_ms,
            }));
            Some(
                ach_of(&a, &spec, duration)
                    .map_err(|(p, m)| invalid(protocol_pulse_path(&p, n_user), m))?,
            )
        }
    };
    let model = Model {
        file: file.to_path_buf(),
        text: edited,
        config,
        spec,
        steps,
        record,
        ach,
        experiment,
    };
    model
        .memory_estimate(options.threads)
        .check(memory)
        .map_err(|e| err(None, "", format!("the run {e}; make the model smaller")))?;
    Ok(model)
}

impl Model {
    /// Estimated memory of a run of the model on `threads` threads (0 counts as 1), part
    /// by part: the network's (see `NetworkSpec::memory_estimate`), the experiment's
    /// (stimuli, measurements), the spike buffers of the output and a fixed allowance for
    /// the program itself (libraries, thread stacks).
    pub fn memory_estimate(&self, threads: usize) -> MemoryEstimate {
        let threads = threads.max(1);
        let mut m = self.spec.memory_estimate(threads);
        if let Some(plan) = &self.experiment {
            m.extend(&plan.memory(&self.spec));
        }
        // Spikes are buffered 65 536 at a time per recorded population (16 bytes each),
        // beside each worker's spike lists.
        m.add("output buffers", self.record.len() as f64 * 65_536.0 * 16.0);
        m.add(
            "program",
            64.0 * 1024.0 * 1024.0 + threads as f64 * 8.0 * 1024.0 * 1024.0,
        );
        m
    }
}

/// The field a pulse error names: a pulse past the user's `n_user` ones was added by the
/// protocol, so its error names the experiment's `ach_pulse` table.
fn protocol_pulse_path(path: &str, n_user: usize) -> String {
    let protocol = path
        .strip_prefix("ach.pulses[")
        .and_then(|rest| rest.split_once(']'))
        .and_then(|(k, field)| Some((k.parse::<usize>().ok()?, field)));
    match protocol {
        Some((k, field)) if k >= n_user => format!("experiment.ach_pulse{field}"),
        _ => path.to_string(),
    }
}

/// Checks the `[ach]` table into kinetics parameters and a modulator.
fn ach_of(
    a: &AchConfig,
    spec: &NetworkSpec,
    duration_ms: f64,
) -> Result<
    (
        engram_cholinergic::ValidAchParams,
        engram_cholinergic::Modulator,
    ),
    Invalid,
> {
    use engram_cholinergic::{AchParams, AchPulse, Effect, EffectParams, HillCurve};
    let params = AchParams {
        tonic: a.tonic,
        tau_ach_ms: a.tau_ach_ms,
        pulses: a
            .pulses
            .iter()
            .map(|p| AchPulse {
                time_ms: p.time_ms,
                amplitude: p.amplitude,
                duration_ms: p.duration_ms,
            })
            .collect(),
    };
    let ach_err = |e: engram_cholinergic::AchError| {
        (
            format!("ach.{}", e.field),
            format!("{}: {}", short(e.value), e.allowed),
        )
    };
    let valid = params.checked().map_err(ach_err)?;
    valid.validate_within(duration_ms).map_err(|e| {
        (
            format!("ach.{}", e.field),
            format!("{}: {}", short(e.value), e.allowed),
        )
    })?;
    let effect = |name: &str, c: &Option<EffectConfig>| -> Result<Option<Effect>, Invalid> {
        let Some(c) = c else { return Ok(None) };
        let populations = match &c.populations {
            None => None,
            Some(list) => Some(
                list.iter()
                    .enumerate()
                    .map(|(k, p)| {
                        spec.population_index(p).ok_or_else(|| {
                            (
                                format!("ach.effects.{name}.populations.{k}"),
                                format!("no population called `{p}`"),
                            )
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?,
            ),
        };
        Ok(Some(Effect {
            curve: HillCurve {
                min: c.min,
                max: c.max,
                k: c.k,
                hill: c.hill,
            },
            populations,
        }))
    };
    let e = &a.effects;
    let effects = EffectParams {
        bap_gain: effect("bap_gain", &e.bap_gain)?,
        gap_gain: effect("gap_gain", &e.gap_gain)?,
        forward_gain: effect("forward_gain", &e.forward_gain)?,
        plasticity_rate: effect("plasticity_rate", &e.plasticity_rate)?,
        threshold_shift_mv: effect("threshold_shift_mv", &e.threshold_shift_mv)?,
        adaptation_gain: effect("adaptation_gain", &e.adaptation_gain)?,
    };
    let modulator = effects.checked().map_err(ach_err)?;
    Ok((valid, modulator))
}

/// serde_path_to_error writes `.` for the root; keep the dotted path only.
fn clean_path(p: &str) -> String {
    if p == "." {
        String::new()
    } else {
        p.to_string()
    }
}

/// Applies one `path.to.field=value` edit; a part of the path may index a list, as in
/// sweeps (`ach.pulses.0.amplitude=2`). The value is parsed as TOML (`1.5`, `"x"`,
/// `[1, 2]`, `{ uniform = [0, 1] }`); anything that does not parse is taken as a string.
/// Returns the path and the first table the edit had to create, if any.
fn apply_set(root: &mut toml::Table, set: &str) -> Result<(String, Option<String>), String> {
    let (path, raw) = set.split_once('=').ok_or("expected path.to.field=value")?;
    let path = path.trim();
    if path.is_empty() || path.split('.').any(str::is_empty) {
        return Err(format!("`{path}` is not a dotted field path"));
    }
    let created = sweep::points::set_in(root, path, parse_value(raw.trim()))?;
    Ok((path.to_string(), created))
}

/// A `--set` value: TOML if it parses, else a plain string.
fn parse_value(raw: &str) -> toml::Value {
    let doc = format!("v = {raw}");
    match toml::from_str::<toml::Table>(&doc) {
        Ok(mut t) => t
            .remove("v")
            .unwrap_or(toml::Value::String(raw.to_string())),
        Err(_) => toml::Value::String(raw.to_string()),
    }
}

fn line_of_offset(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// Line of the value at `path` in the original text, if it is there; else the line of the
/// nearest table on the path that is.
fn line_of_path(text: &str, path: &str) -> Option<usize> {
    use toml::de::{DeTable, DeValue};
    let doc = DeTable::parse(text).ok()?;
    let mut best: Option<usize> = None;
    let mut table = doc.get_ref();
    let parts: Vec<&str> = if path.is_empty() {
        vec![]
    } else {
        path.split('.').collect()
    };
    for (i, part) in parts.iter().enumerate() {
        let Some((key, value)) = table.get_key_value(*part) else {
            break;
        };
        let span = if i + 1 == parts.len() {
            value.span()
        } else {
            key.span()
        };
        if span.start < text.len() {
            best = Some(line_of_offset(text, span.start));
        }
        match value.get_ref() {
            DeValue::Table(t) => table = t,
            _ => break,
        }
    }
    best
}

type Invalid = (String, String);

/// Refuses inputs whose target lists (4 bytes per target) alone exceed `memory`, before
/// they are allocated.
fn input_lists_fit(c: &ConfigFile, memory: Option<&MemoryLimit>) -> Result<(), Invalid> {
    let mut need = MemoryEstimate::new();
    for i in c.inputs.values() {
        let n = c
            .populations
            .get(i.target())
            .and_then(|p| p.n)
            .map_or(0.0, f64::from);
        let targets = match i.neurons() {
            None | Some(NeuronSelect::All) => n,
            Some(NeuronSelect::List(l)) => l.len() as f64,
            Some(NeuronSelect::Range(a, b)) => f64::from(b.saturating_sub(*a)),
        };
        need.add("input target lists", targets * 4.0);
    }
    need.check(memory).map_err(|e| {
        (
            "inputs".to_string(),
            format!("their target lists alone {e}"),
        )
    })
}

fn to_spec(
    c: &ConfigFile,
    memory: Option<&MemoryLimit>,
) -> Result<(NetworkSpec, u64, Vec<usize>), Invalid> {
    let s = &c.simulation;
    if !(s.dt_ms.is_finite() && s.dt_ms > 0.0) {
        return Err((
            "simulation.dt_ms".into(),
            format!("{} must be a number > 0", short(s.dt_ms)),
        ));
    }
    let steps = engram_core::time::checked_steps(s.duration_ms, s.dt_ms)
        .map_err(|m| ("simulation.duration_ms".to_string(), m))?;
    if steps == 0 && c.experiment.is_none() {
        return Err((
            "simulation.duration_ms".into(),
            format!(
                "{} ms gives no step of dt = {} ms; a run lasts at least one step",
                short(s.duration_ms),
                short(s.dt_ms)
            ),
        ));
    }
    if c.populations.is_empty() {
        return Err((
            "populations".into(),
            "at least one population is needed, e.g. [populations.E] n = 100".into(),
        ));
    }
    let names: Vec<&str> = c.populations.keys().map(String::as_str).collect();
    let pop_index = |field: String, name: &str| -> Result<usize, Invalid> {
        names.iter().position(|n| *n == name).ok_or_else(|| {
            (
                field,
                format!(
                    "no population called `{name}`; populations are: {}",
                    names.join(", ")
                ),
            )
        })
    };
    let mut populations = Vec::new();
    for (name, p) in &c.populations {
        let merged = p.neuron.over(&c.neuron);
        if let Some(model) = &merged.model {
            if model != "lif_exp" {
                let at = if p.neuron.model.is_some() {
                    format!("populations.{name}.neuron.model")
                } else {
                    "neuron.model".into()
                };
                return Err((at, format!("unknown model `{model}`; allowed: \"lif_exp\"")));
            }
        }
        let param_error = |e: engram_neuron::ParamError| {
            let at = if p.neuron.is_set(e.field) {
                format!("populations.{name}.neuron.{}", e.field)
            } else {
                format!("neuron.{}", e.field)
            };
            (at, format!("{}: {}", short(e.value), e.allowed))
        };
        let params = merged.params().checked().map_err(param_error)?;
        // The same check the build makes (e.g. a refractory period of too many steps), so
        // that `engram check` rejects what `engram run` would.
        params.propagators(s.dt_ms).map_err(param_error)?;
        let v_init = match merged.v_init_mv {
            Some(d) => d.0,
            None => ValueDist::Constant(params.get().e_l_mv),
        };
        populations.push(PopulationSpec {
            name: name.clone(),
            n: p.n.ok_or_else(|| {
                (
                    format!("populations.{name}.n"),
                    "missing: give the number of neurons".to_string(),
                )
            })?,
            params,
            v_init_mv: v_init,
            shape: p.shape,
        });
    }
    let mut projections = Vec::new();
    for (name, p) in &c.projections {
        let at = |f: &str| format!("projections.{name}.{f}");
        projections.push(ProjectionSpec {
            name: name.clone(),
            source: pop_index(at("source"), &p.source)?,
            target: pop_index(at("target"), &p.target)?,
            rule: p.connectivity.rule(),
            weight_pa: p.weight_pa.0,
            delay_ms: p.delay_ms.0,
            gap: None,
            plasticity: None,
        });
        let proj = projections.last_mut().expect("just pushed");
        let largest = p.weight_pa.0.bounds().1;
        let plastic_unit = p.plasticity.map(|pl| match pl {
            PlasticityConfig::SoftBounded { weight_unit_pa, .. }
            | PlasticityConfig::PairTrace { weight_unit_pa, .. } => {
                weight_unit_pa.unwrap_or(largest)
            }
        });
        if let Some(pl) = p.plasticity {
            let weight_unit_pa = plastic_unit.unwrap_or(1.0);
            if weight_unit_pa.is_nan() || weight_unit_pa <= 0.0 {
                return Err((
                    at("plasticity.weight_unit_pa"),
                    format!(
                        "{weight_unit_pa} must be > 0 (by default it is the largest initial weight)"
                    ),
                ));
            }
            let (rule, normalize) = match pl {
                PlasticityConfig::SoftBounded {
                    eta_plus,
                    eta_minus,
                    window_ms,
                    normalize,
                    ..
                } => (
                    PlasticityRule::SoftBounded {
                        eta_plus,
                        eta_minus,
                        window_ms,
                    },
                    normalize,
                ),
                PlasticityConfig::PairTrace {
                    a_plus,
                    a_minus,
                    tau_plus_ms,
                    tau_minus_ms,
                    normalize,
                    ..
                } => (
                    PlasticityRule::PairTrace {
                        a_plus,
                        a_minus,
                        tau_plus_ms,
                        tau_minus_ms,
                    },
                    normalize,
                ),
            };
            proj.plasticity = Some(PlasticitySpec {
                rule,
                weight_unit_pa,
                normalize,
            });
        }
        if let Some(g) = p.gap {
            proj.gap = Some(GapSpec {
                kappa_ns: g.kappa_ns,
                weight_unit_pa: g.weight_unit_pa.or(plastic_unit).unwrap_or(1.0),
                kind: match g.kind {
                    JunctionKindConfig::Rectifying => JunctionKind::Rectifying,
                    JunctionKindConfig::Ohmic => JunctionKind::Ohmic,
                },
                delay_ms: g.delay_ms.unwrap_or(s.dt_ms),
                c0: g.c0,
                tag_window_ms: g.tag_window_ms,
                tau_tag_ms: g.tau_tag_ms,
                tau_g_ms: g.tau_g_ms,
            });
        }
    }
    input_lists_fit(c, memory)?;
    let mut inputs = Vec::new();
    for (name, i) in &c.inputs {
        let at = |f: &str| format!("inputs.{name}.{f}");
        let target = pop_index(at("target"), i.target())?;
        let n = c.populations[target].n.unwrap_or(0);
        let neurons = match i.neurons() {
            None | Some(NeuronSelect::All) => (0..n).collect(),
            Some(NeuronSelect::List(l)) => {
                let mut l = l.clone();
                l.sort_unstable();
                l.dedup();
                l
            }
            Some(NeuronSelect::Range(a, b)) => {
                if a > b || *b > n {
                    return Err((
                        at("neurons"),
                        format!(
                            "range [{a}, {b}) must satisfy first <= end <= {n} (the population size)"
                        ),
                    ));
                }
                (*a..*b).collect()
            }
        };
        let end = s.duration_ms;
        let kind = match i {
            InputConfig::Poisson {
                rate_hz,
                weight_pa,
                start_ms,
                stop_ms,
                ..
            } => InputKind::Poisson {
                rate_hz: *rate_hz,
                weight_pa: *weight_pa,
                start_ms: *start_ms,
                stop_ms: stop_ms.unwrap_or(end),
            },
            InputConfig::SpikeTimes {
                times_ms,
                weight_pa,
                ..
            } => InputKind::SpikeTimes {
                times_ms: times_ms.clone(),
                weight_pa: *weight_pa,
            },
            InputConfig::Dc {
                amplitude_pa,
                start_ms,
                stop_ms,
                ..
            } => InputKind::Dc {
                amplitude_pa: *amplitude_pa,
                start_ms: *start_ms,
                stop_ms: stop_ms.unwrap_or(end),
            },
            InputConfig::StepCurrent {
                times_ms,
                amplitudes_pa,
                ..
            } => InputKind::StepCurrent {
                times_ms: times_ms.clone(),
                amplitudes_pa: amplitudes_pa.clone(),
            },
        };
        inputs.push(InputSpec {
            name: name.clone(),
            target,
            neurons,
            kind,
        });
    }
    let record = match &c.output.record {
        None => (0..populations.len()).collect(),
        Some(list) => list
            .iter()
            .enumerate()
            .map(|(k, name)| pop_index(format!("output.record.{k}"), name))
            .collect::<Result<Vec<_>, _>>()?,
    };
    let spec = NetworkSpec {
        dt_ms: s.dt_ms,
        populations,
        projections,
        inputs,
    };
    Ok((spec, steps, record))
}
