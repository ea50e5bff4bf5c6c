//! The config schema: the tables and fields of a config file, read by serde (unknown keys
//! are errors). Checking and lowering them into a model is in `lower`.

use std::fmt;
use std::path::PathBuf;

use engram_experiments::recall::StimulusParams;
use engram_network::ValueDist;
use engram_network::connect::Connectivity;
use indexmap::IndexMap;

use crate::experiment::{self, ExperimentParams};
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};

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
/// to the model's default (see `engram_neuron` for each model's table of parameters and
/// defaults). Which parameter names exist depends on the model, so they are checked when
/// the config is lowered, against the population's model.
#[derive(Debug, Clone, Default)]
pub struct NeuronConfig {
    /// Neuron model, by its name in `engram_neuron` (`lif_exp`, the default, or
    /// `lif_cond_exp`).
    pub model: Option<String>,
    /// Initial membrane potential (mV): a number or a distribution. Default: the model's
    /// resting potential.
    pub v_init_mv: Option<DistConfig>,
    /// The model's parameters by name (`tau_m_ms = 20.0`), in file order.
    pub params: IndexMap<String, f64>,
}

impl<'de> Deserialize<'de> for NeuronConfig {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = NeuronConfig;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a table of neuron parameters")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<NeuronConfig, A::Error> {
                let mut c = NeuronConfig::default();
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "model" => c.model = Some(map.next_value()?),
                        "v_init_mv" => c.v_init_mv = Some(map.next_value()?),
                        _ => {
                            let v: Number = map.next_value()?;
                            c.params.insert(key, v.0);
                        }
                    }
                }
                Ok(c)
            }
        }
        d.deserialize_map(V)
    }
}

/// A parameter value: any TOML number.
struct Number(f64);

impl<'de> Deserialize<'de> for Number {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Number;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Number, E> {
                Ok(Number(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Number, E> {
                Ok(Number(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Number, E> {
                Ok(Number(v as f64))
            }
        }
        d.deserialize_any(V)
    }
}

impl NeuronConfig {
    /// `self` with unset fields taken from `base`.
    pub(crate) fn over(&self, base: &NeuronConfig) -> NeuronConfig {
        let mut params = base.params.clone();
        params.extend(self.params.iter().map(|(k, v)| (k.clone(), *v)));
        NeuronConfig {
            model: self.model.clone().or_else(|| base.model.clone()),
            v_init_mv: self.v_init_mv.or(base.v_init_mv),
            params,
        }
    }

    /// Whether field `name` is set here.
    pub(crate) fn is_set(&self, name: &str) -> bool {
        match name {
            "model" => self.model.is_some(),
            "v_init_mv" => self.v_init_mv.is_some(),
            _ => self.params.contains_key(name),
        }
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
    /// Fan-in scaling: with a reference size `N_ref`, every weight of the projection in pA
    /// (`weight_pa`, `plasticity.weight_unit_pa` and `gap.weight_unit_pa`, given or by
    /// default) is multiplied by `sqrt(N_ref / n_source)`, so that the variance of the
    /// summed input a target receives from independent sources does not grow with the
    /// source population. Weights in units (`w / unit`), and so junction conductances
    /// and learning, do not change. Absent: no scaling.
    pub weight_scale_reference_n: Option<f64>,
}

/// `[projections.NAME.gap]`: electrical coupling mirroring each synapse, or (kind
/// `"feedback"`, an ablation) a feedback synapse post -> pre mirroring it.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GapConfig {
    /// Conductance per unit weight (nS). Required for junctions; not allowed for
    /// `"feedback"`.
    pub kappa_ns: Option<f64>,
    /// Current jump per unit weight of a feedback synapse (pA). Required for `"feedback"`;
    /// not allowed for junctions.
    pub weight_pa: Option<f64>,
    /// The weight that counts as one unit (pA). Default: the plasticity unit, else 1.
    pub weight_unit_pa: Option<f64>,
    /// `"rectifying"` (default), `"ohmic"` or `"feedback"`.
    #[serde(default)]
    pub kind: JunctionKindConfig,
    /// Backward delay, dendrite (feedback: spike) to presynaptic soma (ms). Default: one
    /// step.
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
    /// Loading: capacitance of the postsynaptic dendrite (pF) that the junctions drain.
    /// Default: none (the dendrite is not drained). Not allowed for `"feedback"`.
    pub dendrite_pf: Option<f64>,
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
    /// Not a junction: a feedback synapse driven by the post cell's spikes (no bAP), a
    /// current jump of `m_gap * weight_pa * w * c` into the pre cell's excitatory
    /// synaptic current after `delay_ms`.
    Feedback,
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
    /// Spikes at given times into every target neuron (NEST's `spike_generator`).
    SpikeTimes {
        /// Target population.
        target: String,
        /// Target neurons. Default: all.
        neurons: Option<NeuronSelect>,
        /// Times (ms).
        times_ms: Vec<f64>,
        /// Jump per spike (pA).
        weight_pa: f64,
        /// Delay from a spike to its jump (ms), a whole number of steps, at least one.
        /// Default: one step.
        delay_ms: Option<f64>,
    },
    /// Spike trains per node from a file (see [`crate::spike_files`]).
    SpikeFile {
        /// Target population.
        target: String,
        /// A SONATA spike file (HDF5) or a CSV of `node_id,time_ms`; a relative path is
        /// relative to the config's folder. Stored absolute in the output's config.
        path: PathBuf,
        /// The population of a SONATA file (`/spikes/<population>`). Default: the file's
        /// only one.
        population: Option<String>,
        /// `[node_id, neuron]` pairs: the neurons that each node's spikes go to (nodes
        /// not listed are not used). Default: node `i` to neuron `i`.
        map: Option<Vec<[u64; 2]>>,
        /// Jump per spike (pA).
        weight_pa: f64,
        /// Delay from a spike to its jump (ms), a whole number of steps, at least one.
        /// Default: one step.
        delay_ms: Option<f64>,
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
    /// Gaussian noise current, piecewise constant (NEST's `noise_generator`).
    NoiseCurrent {
        /// Target population.
        target: String,
        /// Target neurons. Default: all.
        neurons: Option<NeuronSelect>,
        /// Mean (pA). Default 0.
        #[serde(default)]
        mean_pa: f64,
        /// Standard deviation (pA).
        std_pa: f64,
        /// Interval over which a value holds (ms), a whole number of steps. Default: one
        /// step.
        dt_ms: Option<f64>,
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
    pub(crate) fn target(&self) -> &str {
        match self {
            InputConfig::Poisson { target, .. }
            | InputConfig::SpikeTimes { target, .. }
            | InputConfig::SpikeFile { target, .. }
            | InputConfig::Dc { target, .. }
            | InputConfig::NoiseCurrent { target, .. }
            | InputConfig::StepCurrent { target, .. } => target,
        }
    }

    pub(crate) fn neurons(&self) -> Option<&NeuronSelect> {
        match self {
            InputConfig::Poisson { neurons, .. }
            | InputConfig::SpikeTimes { neurons, .. }
            | InputConfig::Dc { neurons, .. }
            | InputConfig::NoiseCurrent { neurons, .. }
            | InputConfig::StepCurrent { neurons, .. } => neurons.as_ref(),
            InputConfig::SpikeFile { .. } => None,
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
    /// State reports (`[[output.reports]]`): sampled state variables, written as SONATA
    /// reports under `/report/<population>/<variable>`. Default: none.
    #[serde(default)]
    pub reports: Vec<ReportConfig>,
    /// How engram's own datasets (ACh trace, weights, experiment results) are compressed:
    /// 0 = not at all, 1 to 9 = the deflate (gzip) level, after the shuffle filter. The
    /// SONATA datasets (`/spikes`, `/report`) are never compressed: the libsonata wheels
    /// cannot read deflate. The values read back are the same. Default 1 (see
    /// [`OutputConfig::compression_level`]).
    pub compression_level: Option<u32>,
}

impl OutputConfig {
    /// The default of `compression_level`: deflate level 1, fast and most of the gain.
    pub const DEFAULT_COMPRESSION_LEVEL: u32 = 1;

    /// `compression_level`, or its default.
    pub fn compression_level(&self) -> u32 {
        self.compression_level
            .unwrap_or(Self::DEFAULT_COMPRESSION_LEVEL)
    }
}

/// `[[output.reports]]`: some state variables of some neurons of one population, sampled
/// at the multiples of `interval_ms` in `(start_ms, stop_ms]` (each sample is the state at
/// the end of a step, as spike times are).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportConfig {
    /// The population.
    pub population: String,
    /// Variables, any of `v`, `i_syn`, `bap`, `i_gap`, `theta`.
    pub variables: Vec<String>,
    /// The neurons. Default: all.
    pub neurons: Option<ReportNeurons>,
    /// Time between samples (ms), a multiple of `simulation.dt_ms`. Default: `dt_ms`.
    pub interval_ms: Option<f64>,
    /// Samples are taken after this time (ms). Default 0.
    pub start_ms: Option<f64>,
    /// The last sample is taken at this time or before (ms). Default: the end of the run.
    pub stop_ms: Option<f64>,
}

/// The neurons of a report: `"all"`, a list of indices, `{ range = [first, end] }`, or
/// `{ fraction = f }` (`ceil(f n)` neurons evenly spaced over the population, the first
/// one included).
#[derive(Debug, Clone, PartialEq)]
pub enum ReportNeurons {
    /// These neurons of a selection that any input could use too.
    Select(NeuronSelect),
    /// A fraction of the population, in (0, 1].
    Fraction(f64),
}

impl<'de> Deserialize<'de> for ReportNeurons {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields, rename_all = "snake_case")]
        enum Table {
            Range([u32; 2]),
            Fraction(f64),
        }
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Word(String),
            List(Vec<u32>),
            Table(Table),
        }
        let raw = Raw::deserialize(d).map_err(|_| {
            de::Error::custom(
                "expected \"all\", a list of neuron indices, { range = [first, end] } or \
                 { fraction = f }",
            )
        })?;
        match raw {
            Raw::Word(w) if w == "all" => Ok(ReportNeurons::Select(NeuronSelect::All)),
            Raw::Word(w) => Err(de::Error::custom(format!(
                "`{w}`: expected \"all\", a list of neuron indices, {{ range = [first, end] }} \
                 or {{ fraction = f }}"
            ))),
            Raw::List(l) => Ok(ReportNeurons::Select(NeuronSelect::List(l))),
            Raw::Table(Table::Range([a, b])) => {
                Ok(ReportNeurons::Select(NeuronSelect::Range(a, b)))
            }
            Raw::Table(Table::Fraction(f)) => Ok(ReportNeurons::Fraction(f)),
        }
    }
}
