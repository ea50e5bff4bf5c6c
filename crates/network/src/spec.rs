//! The description of a network, kept apart from its execution.
//!
//! A [`NetworkSpec`] says what exists (populations, projections, inputs) and how it is
//! drawn (connection rules and value distributions); [`crate::Simulation::build`] turns
//! it, with a seed and a thread count, into state that runs. The spec holds no state and
//! no random numbers.

use std::sync::Arc;

use engram_neuron::{ModelParams, ParamError};

use crate::NetworkError;
use crate::connect::{ConnectRule, Populations};
pub use engram_core::ValueDist;
use engram_core::memory::MemoryEstimate;
use engram_core::number::short;
use engram_core::time::checked_whole_steps;

/// The highest rate of a Poisson input (Hz): 1 MHz, a hundred events per step at
/// `dt = 0.1 ms`. Far above any physiological rate (an input standing for many sources
/// at a few Hz each reaches it only beyond 100 000 sources); a model that needs more
/// drive raises `weight_pa` instead. The cost of a train does not grow with its rate
/// (see the engine's inputs), so the bound is about plausibility, not speed.
pub const MAX_POISSON_RATE_HZ: f64 = 1e6;

/// One population: `n` neurons that share a parameter set.
#[derive(Debug, Clone)]
pub struct PopulationSpec {
    /// Name, unique in the network.
    pub name: String,
    /// Number of neurons.
    pub n: u32,
    /// The neuron model and its checked parameters.
    pub params: ModelParams,
    /// Initial membrane potential (mV, absolute).
    pub v_init_mv: ValueDist,
    /// Layout of the neurons as `[channels, height, width]`, when they form an image-like
    /// layer (for convolutional connections): neuron `(c, y, x)` has index
    /// `(c * height + y) * width + x`. The product must equal `n`. `None`: no layout.
    pub shape: Option<[u32; 3]>,
}

/// A set of chemical synapses from one population onto another.
#[derive(Debug, Clone)]
pub struct ProjectionSpec {
    /// Name, unique in the network.
    pub name: String,
    /// Index of the source population.
    pub source: usize,
    /// Index of the target population.
    pub target: usize,
    /// Connection rule (see [`crate::connect`]).
    pub rule: Arc<dyn ConnectRule>,
    /// Synaptic weight: the jump of the synaptic current (pA). Positive weights are
    /// excitatory, negative inhibitory; a projection's weights must not change sign.
    pub weight_pa: ValueDist,
    /// Axonal delay (ms); rounded to steps, at least one step.
    pub delay_ms: ValueDist,
    /// Gap junctions that mirror these synapses, if any.
    pub gap: Option<GapSpec>,
    /// Plasticity of the weights, if any (`None`: fixed weights, e.g. pre-existing
    /// features).
    pub plasticity: Option<PlasticitySpec>,
}

/// A learning rule for the weights of a projection.
///
/// Weights are learned in units of `weight_unit_pa`: `w = weight / weight_unit_pa`,
/// kept in `[0, 1]`. Rates are multiplied by the ACh plasticity factor `m_plast`, and
/// nothing changes while plasticity is switched off ([`crate::Simulation::set_plasticity`]).
/// "Before" means in an earlier step: spikes of the same step are not paired.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PlasticityRule {
    /// The soft-bounded multiplicative rule of the published model (Masquelier and Thorpe;
    /// Kheradpisheh et al. 2018): at each postsynaptic spike, every synapse onto the
    /// neuron changes by `+eta_plus w (1 - w)` if its presynaptic neuron fired within
    /// `window_ms` before, else by `-eta_minus w (1 - w)`.
    SoftBounded {
        /// Potentiation rate.
        eta_plus: f64,
        /// Depression rate.
        eta_minus: f64,
        /// Pairing window (ms).
        window_ms: f64,
    },
    /// Pair-based additive STDP with traces: at a postsynaptic spike
    /// `dw = +a_plus x_pre` with `x_pre` the presynaptic trace (jumps by 1, decays with
    /// `tau_plus_ms`); at a presynaptic spike `dw = -a_minus y_post` with `y_post` the
    /// postsynaptic trace (decay `tau_minus_ms`); `w` clipped to `[0, 1]`.
    PairTrace {
        /// Potentiation amplitude.
        a_plus: f64,
        /// Depression amplitude.
        a_minus: f64,
        /// Presynaptic trace time constant (ms).
        tau_plus_ms: f64,
        /// Postsynaptic trace time constant (ms).
        tau_minus_ms: f64,
    },
}

/// Plasticity of one projection.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlasticitySpec {
    /// The rule.
    pub rule: PlasticityRule,
    /// The weight that counts as `w = 1` (pA).
    pub weight_unit_pa: f64,
    /// Synaptic normalization (von der Malsburg 1973; Diehl and Cook 2015): after every
    /// update at a postsynaptic spike, the neuron's incoming weights of this projection are
    /// scaled by one common factor so that their sum is again what it was when the network
    /// was built (a weight pushed above `w = 1` by the scaling is clipped to 1, the sum then
    /// falls short). Potentiating some inputs thereby weakens the others: a neuron's
    /// weights follow what it learned last instead of piling up every pattern it ever saw.
    pub normalize: bool,
}

/// How a gap projection carries activity backwards, post -> pre.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum JunctionKind {
    /// Current flows only into the presynaptic cell: `g max(b_post - v_pre, 0)`
    /// (heterotypic junctions rectify in real tissue).
    Rectifying,
    /// Ohmic: `g (b_post - v_pre)`, either sign.
    Ohmic,
    /// Not a junction: a generic learned feedback synapse, the competing hypothesis to bAPs
    /// through gap junctions (an ablation). Each *spike* of the postsynaptic neuron (its bAP
    /// trace plays no part; `a_bap_mv` may be 0) sends, through each of its synapses of the
    /// projection, a jump of `m_gap * weight_pa * max(w / weight_unit_pa, 0) * c` pA into
    /// the presynaptic neuron's excitatory synaptic current (the ring buffer that chemical
    /// synapses fill, decaying with the target's `tau_syn_ex`), `delay_ms` after the spike:
    /// exactly an ordinary chemical projection post -> pre with the transposed weights,
    /// scaled by the tag `c` and the ACh effect `gap_gain`. `kappa_ns` must be 0.
    Feedback {
        /// Current jump per unit weight (pA), at `m_gap = c = 1`.
        weight_pa: f64,
    },
}

impl JunctionKind {
    /// The kind's name in configs and messages.
    pub fn name(&self) -> &'static str {
        match self {
            JunctionKind::Rectifying => "rectifying",
            JunctionKind::Ohmic => "ohmic",
            JunctionKind::Feedback { .. } => "feedback",
        }
    }
}

/// Backward coupling that mirrors each chemical synapse pre -> post of a projection:
/// electrical junctions driven by the bAP trace, or (kind [`JunctionKind::Feedback`])
/// feedback synapses driven by spikes.
///
/// Every synapse with weight `w` (pA) carries a junction of conductance
/// `g = kappa_ns * max(w / weight_unit_pa, 0) * c`, where `c = c0 + (1 - c0) e` is the
/// synapse's encoding tag (`e` in [0, 1]; with no tagging, `e = 0`). The dendritic bAP trace
/// `b` of the postsynaptic neuron drives current backwards into the presynaptic soma:
/// `I_gap[pre] = m_gap * sum_post g (b[post] - v_rel[pre])` (ohmic) or with the difference
/// clipped at zero (rectifying), `v_rel` being the membrane potential relative to rest. The
/// current is computed from `b` when the post neuron carries a bAP and reaches the
/// presynaptic soma `delay_ms` later, where it is evaluated with the soma's potential at
/// arrival and held for one step. Only neurons whose trace exceeds 0.01 mV contribute.
///
/// A feedback synapse uses the same weight, unit, tag and tracking (`tau_g_ms`) and the
/// same gain `m_gap`, but in place of `kappa_ns` its kind's `weight_pa`: see
/// [`JunctionKind::Feedback`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GapSpec {
    /// Conductance per unit weight (nS); 0 for feedback synapses.
    pub kappa_ns: f64,
    /// The synaptic weight that counts as one unit (pA).
    pub weight_unit_pa: f64,
    /// Rectifying (default), ohmic, or feedback synapses.
    pub kind: JunctionKind,
    /// Backward delay from the dendrite (for feedback synapses: from the spike) to the
    /// presynaptic soma (ms), at least one step.
    pub delay_ms: f64,
    /// Tag baseline `c0`: 1 = every junction conducts by its weight (tags off), 0 = only
    /// tagged junctions conduct.
    pub c0: f64,
    /// A synapse is tagged (`e = 1`) when, while tagging is on, its presynaptic neuron
    /// fired within this window before the postsynaptic one (ms).
    pub tag_window_ms: f64,
    /// Decay of the tag `e` (ms); infinite for tags that last.
    pub tau_tag_ms: f64,
    /// Time constant (ms) with which the coupling follows its chemical weight; 0 = locked
    /// to the current weight. The junction's weight `w_g` obeys `dw_g/dt = (w - w_g) /
    /// tau_g`, starting at the built weight.
    pub tau_g_ms: f64,
    /// Loading: the capacitance (pF) of the postsynaptic dendrite whose bAP trace drives the
    /// junctions. `None` (the default) treats the dendrite as a source that the junctions
    /// do not drain. With a capacitance `C_d`, the current that leaves through the
    /// junctions also leaves the dendrite: every step in which a neuron drives its
    /// junctions, its trace is multiplied by `exp(-dt G / C_d)`, `G` being the summed
    /// conductance `m_gap * kappa * w * c` of all its junctions of this projection, those
    /// onto silent partners included (they shunt). This is the exact discharge of the
    /// dendrite into partners at rest; a partner above rest draws less in reality, so the
    /// drain is an upper bound. Not allowed for feedback synapses.
    pub dendrite_pf: Option<f64>,
}

/// What an input does to its target neurons.
#[derive(Debug, Clone, PartialEq)]
pub enum InputKind {
    /// An independent Poisson spike train into each target neuron.
    Poisson {
        /// Rate of each train (Hz), at most [`MAX_POISSON_RATE_HZ`].
        rate_hz: f64,
        /// Synaptic current jump per spike (pA; negative is inhibitory).
        weight_pa: f64,
        /// Start (ms).
        start_ms: f64,
        /// Stop (ms, exclusive); infinite: until the end of the run.
        stop_ms: f64,
    },
    /// The same spike times into each target neuron, as NEST's `spike_generator`: a spike
    /// at `t` (rounded to the nearest step) with delay `d` makes the target's synaptic
    /// current jump at `t + d`, so the membrane potential first moves in the step after
    /// (see ARCHITECTURE.md, "The step").
    SpikeTimes {
        /// Spike times (ms), sorted.
        times_ms: Vec<f64>,
        /// Synaptic current jump per spike (pA).
        weight_pa: f64,
        /// Delay from a spike to its jump (ms): a whole number of steps, at least one.
        /// `None`: one step.
        delay_ms: Option<f64>,
    },
    /// A spike train of its own into each target neuron (e.g. the spikes of another run,
    /// node by node): the spikes of `trains.train(k)` go to the `k`-th neuron of
    /// [`InputSpec::neurons`], each as a [`InputKind::SpikeTimes`] spike.
    SpikeTrains {
        /// The trains, one per target neuron.
        trains: Arc<SpikeTrains>,
        /// Synaptic current jump per spike (pA).
        weight_pa: f64,
        /// Delay from a spike to its jump (ms): a whole number of steps, at least one.
        /// `None`: one step.
        delay_ms: Option<f64>,
    },
    /// A constant current between start and stop.
    Dc {
        /// Amplitude (pA).
        amplitude_pa: f64,
        /// Start (ms).
        start_ms: f64,
        /// Stop (ms, exclusive).
        stop_ms: f64,
    },
    /// A Gaussian noise current, as NEST's `noise_generator`: piecewise constant over
    /// intervals of `dt_ms` from `start_ms` on, each interval's value drawn independently
    /// for each target neuron from the normal distribution of mean `mean_pa` and standard
    /// deviation `std_pa`; zero outside `[start_ms, stop_ms)`. The values come from the
    /// input's own random stream per neuron ([`engram_core::rng::Purpose::Noise`]).
    NoiseCurrent {
        /// Mean (pA).
        mean_pa: f64,
        /// Standard deviation (pA), at least 0.
        std_pa: f64,
        /// Interval over which a value holds (ms): a whole number of steps, at least one.
        /// `None`: one step.
        dt_ms: Option<f64>,
        /// Start (ms).
        start_ms: f64,
        /// Stop (ms, exclusive); infinite: until the end of the run.
        stop_ms: f64,
    },
    /// A piecewise-constant current: from `times_ms[i]` on, the current is
    /// `amplitudes_pa[i]` (zero before the first time).
    StepCurrent {
        /// Switching times (ms), increasing.
        times_ms: Vec<f64>,
        /// Amplitudes (pA), one per time.
        amplitudes_pa: Vec<f64>,
    },
}

/// Spike trains in one block: train `k` is `times_ms[offsets[k]..offsets[k + 1]]`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SpikeTrains {
    /// Where each train starts in `times_ms`, and the end of the last: one more entry
    /// than trains, from 0 to `times_ms.len()`, not decreasing.
    pub offsets: Vec<usize>,
    /// Spike times (ms), finite, at least 0, sorted within each train.
    pub times_ms: Vec<f64>,
}

impl SpikeTrains {
    /// Trains from one list of spike times per train, in order.
    pub fn from_trains<T: AsRef<[f64]>>(trains: &[T]) -> SpikeTrains {
        let mut out = SpikeTrains {
            offsets: Vec::with_capacity(trains.len() + 1),
            times_ms: Vec::with_capacity(trains.iter().map(|t| t.as_ref().len()).sum()),
        };
        out.offsets.push(0);
        for t in trains {
            out.times_ms.extend_from_slice(t.as_ref());
            out.offsets.push(out.times_ms.len());
        }
        out
    }

    /// The number of trains.
    pub fn len(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    /// Whether there are no trains.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The spike times of train `k`.
    pub fn train(&self, k: usize) -> &[f64] {
        &self.times_ms[self.offsets[k]..self.offsets[k + 1]]
    }

    /// What is wrong with the trains as the input of `n` target neurons, if anything.
    fn check(&self, n: usize) -> Result<(), String> {
        let o = &self.offsets;
        if o.len() != n + 1 {
            return Err(format!(
                "{} trains for {n} target neurons: give one train per neuron",
                self.len()
            ));
        }
        if o[0] != 0 || o[n] != self.times_ms.len() || o.windows(2).any(|w| w[0] > w[1]) {
            return Err(format!(
                "offsets must go from 0 to the {} spike times without decreasing",
                self.times_ms.len()
            ));
        }
        for k in 0..n {
            let t = self.train(k);
            if let Some(bad) = t.iter().find(|t| !(t.is_finite() && **t >= 0.0)) {
                return Err(format!(
                    "train {k}: spike time {bad} is not a finite time >= 0"
                ));
            }
            if t.windows(2).any(|w| w[0] > w[1]) {
                return Err(format!("train {k}: spike times must be sorted"));
            }
        }
        Ok(())
    }
}

/// A stimulus source attached to some neurons of one population.
#[derive(Debug, Clone, PartialEq)]
pub struct InputSpec {
    /// Name, unique in the network.
    pub name: String,
    /// Index of the target population.
    pub target: usize,
    /// Indices of the target neurons in their population (sorted, unique).
    pub neurons: Vec<u32>,
    /// What the input does.
    pub kind: InputKind,
}

/// A whole network: what exists, and how it is drawn.
#[derive(Debug, Clone)]
pub struct NetworkSpec {
    /// Time step (ms).
    pub dt_ms: f64,
    /// Populations, in the order of their global neuron ids.
    pub populations: Vec<PopulationSpec>,
    /// Projections.
    pub projections: Vec<ProjectionSpec>,
    /// Inputs.
    pub inputs: Vec<InputSpec>,
}

impl PopulationSpec {
    /// A population of the model whose parameters are given (e.g. `LifParams`,
    /// `CondParams`), with every neuron starting at rest.
    pub fn new<P>(name: &str, n: u32, params: P) -> Result<Self, NetworkError>
    where
        ModelParams: TryFrom<P, Error = ParamError>,
    {
        let params = ModelParams::try_from(params).map_err(|e| NetworkError::Param {
            owner: format!("populations.{name}"),
            source: e,
        })?;
        let rest = params.rest_mv();
        Ok(PopulationSpec {
            name: name.to_string(),
            n,
            params,
            v_init_mv: ValueDist::Constant(rest),
            shape: None,
        })
    }
}

impl NetworkSpec {
    /// Total number of neurons.
    pub fn n_neurons(&self) -> u64 {
        self.populations.iter().map(|p| u64::from(p.n)).sum()
    }

    /// Index of the population called `name`.
    pub fn population_index(&self, name: &str) -> Option<usize> {
        self.populations.iter().position(|p| p.name == name)
    }

    /// The two populations of projection `i`, as its rule sees them.
    pub fn populations_of(&self, i: usize) -> Populations {
        let proj = &self.projections[i];
        let (ns, nt) = (
            self.populations[proj.source].n,
            self.populations[proj.target].n,
        );
        Populations::new(&*proj.rule, ns, nt, proj.source == proj.target)
    }

    /// Expected number of synapses of projection `i` (exact for rules that draw a fixed
    /// number, the mean for the others such as `fixed_probability`).
    pub fn expected_synapses(&self, i: usize) -> f64 {
        self.projections[i]
            .rule
            .expected_synapses(&self.populations_of(i))
    }

    /// Estimated heap memory (bytes) of the built network on `threads` threads; the
    /// total of [`NetworkSpec::memory_estimate`].
    pub fn estimate_memory_bytes(&self, threads: usize) -> u64 {
        self.memory_estimate(threads).total()
    }

    /// Estimated heap memory of the built network on `threads` threads, part by part,
    /// from the spec alone (nothing is drawn or allocated): neuron state; synapses (4-byte
    /// target and weight, 2-byte delay when delays are drawn, an 8-byte row pointer per
    /// source and thread, and for plastic or gap projections the in-edge index, traces and
    /// tags, about 24 bytes more per edge); ring buffers (16 bytes per neuron and slot of
    /// the largest delay); inputs (a random stream of about 320 bytes per Poisson or noise
    /// target, 24 bytes per spike or current change and target, the target lists
    /// themselves, and with noise currents two sums of 8 bytes per neuron).
    pub fn memory_estimate(&self, threads: usize) -> MemoryEstimate {
        let n = self.n_neurons() as f64;
        let mut m = MemoryEstimate::new();
        m.add("neuron state", n * 52.0);
        let mut max_delay_steps: f64 = 1.0;
        for (i, proj) in self.projections.iter().enumerate() {
            let mut per_edge = if matches!(proj.delay_ms, ValueDist::Constant(_)) {
                8.0
            } else {
                10.0
            };
            if proj.plasticity.is_some() || proj.gap.is_some() {
                per_edge += 24.0;
            }
            m.add("synapses", self.expected_synapses(i) * per_edge);
            m.add(
                "synapses",
                (f64::from(self.populations[proj.source].n) + 1.0) * 8.0 * threads as f64,
            );
            max_delay_steps = max_delay_steps.max((proj.delay_ms.bounds().1 / self.dt_ms).round());
            if let Some(g) = proj
                .gap
                .filter(|g| matches!(g.kind, JunctionKind::Feedback { .. }))
            {
                // Feedback synapses deliver into the same rings.
                max_delay_steps = max_delay_steps.max((g.delay_ms / self.dt_ms).round());
            }
        }
        m.add(
            "ring buffers",
            n * 16.0 * (max_delay_steps.min(f64::from(u16::MAX)) + 1.0),
        );
        for input in &self.inputs {
            let targets = input.neurons.len() as f64;
            let per_target = match &input.kind {
                InputKind::Poisson { .. } => 320.0,
                InputKind::SpikeTimes { times_ms, .. } => 24.0 * times_ms.len() as f64,
                // Per spike: its event in the engine (24 bytes) and its time in the spec.
                InputKind::SpikeTrains { trains, .. } => {
                    32.0 * trains.times_ms.len() as f64 / targets.max(1.0) + 8.0
                }
                InputKind::Dc { .. } => 48.0,
                InputKind::NoiseCurrent { .. } => 336.0,
                InputKind::StepCurrent { times_ms, .. } => 24.0 * times_ms.len() as f64,
            };
            m.add("inputs", targets * (per_target + 8.0));
        }
        let noise = |i: &InputSpec| matches!(i.kind, InputKind::NoiseCurrent { .. });
        if self.inputs.iter().any(noise) {
            m.add("inputs", n * 16.0);
        }
        m
    }

    /// Checks everything that parameters alone cannot: references between parts, sizes,
    /// rules that cannot be satisfied, weights that change sign, delays and times.
    pub fn validate(&self) -> Result<(), NetworkError> {
        let bad = |owner: String, field: &str, message: String| NetworkError::Invalid {
            path: if owner.is_empty() {
                field.to_string()
            } else {
                format!("{owner}.{field}")
            },
            message,
        };
        if !(self.dt_ms.is_finite() && self.dt_ms > 0.0) {
            return Err(bad(
                "simulation".into(),
                "dt_ms",
                format!("{} must be > 0", short(self.dt_ms)),
            ));
        }
        if self.populations.is_empty() {
            return Err(bad(
                String::new(),
                "populations",
                "at least one population is needed".into(),
            ));
        }
        let total: u64 = self.n_neurons();
        if total >= u64::from(u32::MAX) {
            return Err(bad(
                String::new(),
                "populations",
                format!("{total} neurons is more than 2^32 - 1"),
            ));
        }
        let names = self
            .populations
            .iter()
            .map(|p| ("populations", &p.name))
            .chain(self.projections.iter().map(|p| ("projections", &p.name)));
        for (kind, name) in names {
            if let Err(m) = check_name(name) {
                return Err(bad(String::new(), kind, format!("{name:?}: {m}")));
            }
        }
        for p in &self.populations {
            if let Err(m) = p.v_init_mv.validate() {
                return Err(bad(format!("populations.{}", p.name), "v_init_mv", m));
            }
            if let Some([c, h, w]) = p.shape {
                let product = u64::from(c) * u64::from(h) * u64::from(w);
                if product != u64::from(p.n) {
                    return Err(bad(
                        format!("populations.{}", p.name),
                        "shape",
                        format!(
                            "[{c}, {h}, {w}] holds {product} neurons, the population has {}: \
                             channels * height * width must equal n",
                            p.n
                        ),
                    ));
                }
            }
        }
        for (i, proj) in self.projections.iter().enumerate() {
            let owner = format!("projections.{}", proj.name);
            if let Err(e) = proj.rule.validate(&self.populations_of(i)) {
                return Err(bad(owner, &e.path, e.message));
            }
            let learns = if proj.plasticity.is_some() {
                Some("plasticity")
            } else {
                proj.gap.is_some().then_some("gap")
            };
            if let (true, Some(field)) = (proj.rule.shares_weights(), learns) {
                return Err(bad(
                    owner,
                    field,
                    "the connection rule shares one kernel of weights among the synapses, which \
                     cannot learn or carry gap junctions synapse by synapse; remove it, or use a \
                     rule that gives each synapse its own weight"
                        .into(),
                ));
            }
            let expected = self.expected_synapses(i);
            if expected > 4.0e9 {
                return Err(bad(
                    owner,
                    "connectivity",
                    format!("{expected:.3e} synapses in one projection is more than 4e9"),
                ));
            }
            if let Err(m) = proj.weight_pa.validate() {
                return Err(bad(owner, "weight_pa", m));
            }
            let (wlo, whi) = proj.weight_pa.bounds();
            if wlo < 0.0 && whi > 0.0 {
                return Err(bad(
                    owner,
                    "weight_pa",
                    format!(
                        "weights range over [{wlo}, {whi}] and change sign; a projection is either \
                     excitatory (weights >= 0) or inhibitory (weights <= 0)"
                    ),
                ));
            }
            if let Some(gap) = &proj.gap {
                if !(gap.kappa_ns.is_finite() && gap.kappa_ns >= 0.0) {
                    return Err(bad(
                        owner,
                        "gap.kappa_ns",
                        format!("{} must be a number >= 0", short(gap.kappa_ns)),
                    ));
                }
                if let JunctionKind::Feedback { weight_pa } = gap.kind {
                    if gap.kappa_ns != 0.0 {
                        return Err(bad(
                            owner,
                            "gap.kappa_ns",
                            format!(
                                "{} is meaningless for feedback synapses (they carry a current \
                                 jump, gap.kind.weight_pa); set it to 0",
                                short(gap.kappa_ns)
                            ),
                        ));
                    }
                    if !(weight_pa.is_finite() && weight_pa >= 0.0) {
                        return Err(bad(
                            owner,
                            "gap.weight_pa",
                            format!("{} must be a number >= 0", short(weight_pa)),
                        ));
                    }
                }
                if !(gap.weight_unit_pa.is_finite() && gap.weight_unit_pa > 0.0) {
                    return Err(bad(
                        owner,
                        "gap.weight_unit_pa",
                        format!("{} must be a number > 0", short(gap.weight_unit_pa)),
                    ));
                }
                if !(gap.delay_ms.is_finite()
                    && gap.delay_ms >= 0.0
                    && gap.delay_ms / self.dt_ms <= 65_000.0)
                {
                    return Err(bad(
                        owner,
                        "gap.delay_ms",
                        format!(
                            "{} must be >= 0 and at most 65000 steps",
                            short(gap.delay_ms)
                        ),
                    ));
                }
                if gap.tau_tag_ms.is_nan() || gap.tau_tag_ms <= 0.0 {
                    return Err(bad(
                        owner,
                        "gap.tau_tag_ms",
                        format!(
                            "{} must be > 0 (inf: tags do not decay)",
                            short(gap.tau_tag_ms)
                        ),
                    ));
                }
                if !(gap.tau_g_ms.is_finite() && gap.tau_g_ms >= 0.0) {
                    return Err(bad(
                        owner,
                        "gap.tau_g_ms",
                        format!(
                            "{} must be a number >= 0 (0: the coupling is locked to the weight)",
                            gap.tau_g_ms
                        ),
                    ));
                }
                if let Some(c_d) = gap.dendrite_pf {
                    if matches!(gap.kind, JunctionKind::Feedback { .. }) {
                        return Err(bad(
                            owner,
                            "gap.dendrite_pf",
                            "meaningless for kind \"feedback\" (a feedback synapse draws no \
                             current from the dendrite); remove it"
                                .to_string(),
                        ));
                    }
                    if !(c_d.is_finite() && c_d > 0.0) {
                        return Err(bad(
                            owner,
                            "gap.dendrite_pf",
                            format!("{} must be a number > 0 (pF)", short(c_d)),
                        ));
                    }
                }
                if !(0.0..=1.0).contains(&gap.c0) {
                    return Err(bad(
                        owner,
                        "gap.c0",
                        format!("{} must be in [0, 1]", short(gap.c0)),
                    ));
                }
                if proj.weight_pa.bounds().0 < 0.0 {
                    return Err(bad(
                        owner,
                        "gap",
                        "gap junctions mirror excitatory synapses only (weights >= 0)".into(),
                    ));
                }
            }
            if let Err(m) = proj.delay_ms.validate() {
                return Err(bad(owner, "delay_ms", m));
            }
            let (dlo, dhi) = proj.delay_ms.bounds();
            if dlo < 0.0 {
                return Err(bad(
                    owner,
                    "delay_ms",
                    format!("delays must be >= 0 ms (got {dlo})"),
                ));
            }
            if dhi / self.dt_ms > 65_000.0 {
                return Err(bad(
                    owner,
                    "delay_ms",
                    format!(
                        "{dhi} ms is more than 65000 steps of dt = {} ms",
                        self.dt_ms
                    ),
                ));
            }
        }
        for input in &self.inputs {
            let owner = format!("inputs.{}", input.name);
            let n = self.populations[input.target].n;
            if let Some(&bad_id) = input.neurons.iter().find(|&&i| i >= n) {
                return Err(bad(
                    owner,
                    "neurons",
                    format!(
                        "neuron {bad_id} does not exist: the target population has {n} neurons"
                    ),
                ));
            }
            if input.neurons.windows(2).any(|w| w[0] >= w[1]) {
                return Err(bad(
                    owner,
                    "neurons",
                    "neuron indices must be sorted and unique".into(),
                ));
            }
            let check_window = |start: f64, stop: f64| -> Result<(), NetworkError> {
                if !(start.is_finite() && start >= 0.0 && (stop >= start)) {
                    return Err(bad(
                        owner.clone(),
                        "start_ms",
                        format!(
                            "the window [{}, {}) ms must have 0 <= start <= stop",
                            short(start),
                            short(stop)
                        ),
                    ));
                }
                Ok(())
            };
            // Spike inputs (times or trains): a finite weight and a delay of whole steps.
            let check_spikes =
                |weight_pa: f64, delay_ms: Option<f64>| -> Result<(), NetworkError> {
                    if !weight_pa.is_finite() {
                        return Err(bad(
                            owner.clone(),
                            "weight_pa",
                            format!("{weight_pa} must be finite"),
                        ));
                    }
                    if let Some(d) = delay_ms {
                        checked_whole_steps(d, self.dt_ms)
                            .map_err(|m| bad(owner.clone(), "delay_ms", m))?;
                    }
                    Ok(())
                };
            match &input.kind {
                InputKind::Poisson {
                    rate_hz,
                    weight_pa,
                    start_ms,
                    stop_ms,
                } => {
                    if !(rate_hz.is_finite() && (0.0..=MAX_POISSON_RATE_HZ).contains(rate_hz)) {
                        return Err(bad(
                            owner,
                            "rate_hz",
                            format!(
                                "{} must be a rate in Hz between 0 and {} (one train per \
                                 target neuron; for more, raise weight_pa)",
                                short(*rate_hz),
                                short(MAX_POISSON_RATE_HZ)
                            ),
                        ));
                    }
                    if !weight_pa.is_finite() {
                        return Err(bad(
                            owner,
                            "weight_pa",
                            format!("{weight_pa} must be finite"),
                        ));
                    }
                    check_window(*start_ms, *stop_ms)?;
                }
                InputKind::SpikeTimes {
                    times_ms,
                    weight_pa,
                    delay_ms,
                } => {
                    check_spikes(*weight_pa, *delay_ms)?;
                    if times_ms.iter().any(|t| !(t.is_finite() && *t >= 0.0)) {
                        return Err(bad(
                            owner,
                            "times_ms",
                            "spike times must be finite and >= 0".into(),
                        ));
                    }
                    if times_ms.windows(2).any(|w| w[0] > w[1]) {
                        return Err(bad(owner, "times_ms", "spike times must be sorted".into()));
                    }
                }
                InputKind::SpikeTrains {
                    trains,
                    weight_pa,
                    delay_ms,
                } => {
                    check_spikes(*weight_pa, *delay_ms)?;
                    trains
                        .check(input.neurons.len())
                        .map_err(|m| bad(owner.clone(), "trains", m))?;
                }
                InputKind::Dc {
                    amplitude_pa,
                    start_ms,
                    stop_ms,
                } => {
                    if !amplitude_pa.is_finite() {
                        return Err(bad(
                            owner,
                            "amplitude_pa",
                            format!("{amplitude_pa} must be finite"),
                        ));
                    }
                    check_window(*start_ms, *stop_ms)?;
                }
                InputKind::NoiseCurrent {
                    mean_pa,
                    std_pa,
                    dt_ms,
                    start_ms,
                    stop_ms,
                } => {
                    if !mean_pa.is_finite() {
                        return Err(bad(owner, "mean_pa", format!("{mean_pa} must be finite")));
                    }
                    if !(std_pa.is_finite() && *std_pa >= 0.0) {
                        return Err(bad(
                            owner,
                            "std_pa",
                            format!("{} must be a number >= 0", short(*std_pa)),
                        ));
                    }
                    if let Some(d) = dt_ms {
                        checked_whole_steps(*d, self.dt_ms)
                            .map_err(|m| bad(owner.clone(), "dt_ms", m))?;
                    }
                    check_window(*start_ms, *stop_ms)?;
                }
                InputKind::StepCurrent {
                    times_ms,
                    amplitudes_pa,
                } => {
                    if times_ms.len() != amplitudes_pa.len() {
                        return Err(bad(
                            owner,
                            "amplitudes_pa",
                            format!(
                                "{} amplitudes for {} times: give one amplitude per time",
                                amplitudes_pa.len(),
                                times_ms.len()
                            ),
                        ));
                    }
                    if times_ms.iter().any(|t| !(t.is_finite() && *t >= 0.0))
                        || times_ms.windows(2).any(|w| w[0] >= w[1])
                    {
                        return Err(bad(
                            owner,
                            "times_ms",
                            "times must be finite, >= 0 and increasing".into(),
                        ));
                    }
                    if amplitudes_pa.iter().any(|a| !a.is_finite()) {
                        return Err(bad(
                            owner,
                            "amplitudes_pa",
                            "amplitudes must be finite".into(),
                        ));
                    }
                }
            }
        }
        Ok(())
    }
}

/// Population and projection names name groups in the output file (`/spikes/<name>`,
/// `/weights/<name>`): not empty, no `/`, no NUL character, not `.` or `..`.
fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name == "." || name == ".." {
        return Err("a name must not be empty, `.` or `..`".into());
    }
    if name.contains('/') || name.contains('\0') {
        return Err(
            "a name must not contain `/` or a NUL character (it names a group of the output file)"
                .into(),
        );
    }
    Ok(())
}
