//! Neuron models of engram, integrated exactly, behind one interface.
//!
//! This crate holds the single-neuron dynamics of engram and nothing else: it does no I/O,
//! spawns no threads and draws no random numbers. A model implements [`NeuronModel`]:
//! parameters (any value) -> checked parameters -> constants for one time step `dt`; its
//! state is a structure of arrays, so that the network engine can hand contiguous sets of
//! neurons to different threads; one `step` advances a set of neurons; and a few hooks let
//! the engine's mechanisms see a neuron without knowing its model (the potential a gap
//! junction sees, the dendritic bAP trace, a veto of a threshold crossing for gain
//! control, ...).
//!
//! The models, one file each: [`lif_exp`] (leaky integrate-and-fire with exponential
//! synaptic currents, NEST's `iaf_psc_exp`, plus a bAP trace and an adaptive threshold) and
//! [`lif_cond_exp`] (the same with exponential synaptic conductances, NEST's
//! `iaf_cond_exp`).
//!
//! # Adding a model
//!
//! Write `src/<model>.rs` with its parameters (with [`param_fields!`], so that configs can
//! set them by name), checked parameters, constants (which implement [`NeuronModel`], with
//! the model's config name as [`NeuronModel::NAME`]) and state, declare the module below,
//! and add one line to the `models!` invocation at the end of this file:
//! `Name(ConstantsType),`. The macro
//! generates the variant of [`ModelParams`], [`Model`] and [`ModelState`] and every match
//! arm of their dispatch, so the engine calls the model with static dispatch, one `match`
//! per population segment and step.
//!
//! # Example
//!
//! ```
//! use engram_neuron::{LifParams, LifState, StepInput, Modulation};
//!
//! let params = LifParams { i_e_pa: 400.0, ..LifParams::default() }.checked()?;
//! let prop = params.propagators(0.1)?;
//! let mut state = LifState::new(1);
//! state.reset_to_rest();
//! let zeros = [0.0];
//! let mut spikes = Vec::new();
//! for _ in 0..1000 {
//!     let mut ex = [0.0];
//!     let mut inh = [0.0];
//!     let input = StepInput { ex: &mut ex, inh: &mut inh, i_stim: Some(&zeros) };
//!     prop.step(state.slices_mut(0..1), input, &Modulation::NEUTRAL, 0, &mut spikes);
//! }
//! assert!(!spikes.is_empty(), "400 pA drives the default neuron above threshold");
//! # Ok::<(), engram_neuron::ParamError>(())
//! ```

pub use engram_core::{Modulation, Target};

/// An invalid parameter value: names the field, the value and what is allowed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{field} = {}: {allowed}", engram_core::number::short(*value))]
pub struct ParamError {
    /// Field name as written in configs (`tau_m_ms`).
    pub field: &'static str,
    /// The rejected value.
    pub value: f64,
    /// What would have been accepted.
    pub allowed: String,
}

impl ParamError {
    pub(crate) fn new(field: &'static str, value: f64, allowed: impl Into<String>) -> Self {
        ParamError {
            field,
            value,
            allowed: allowed.into(),
        }
    }
}

pub(crate) fn positive(field: &'static str, value: f64) -> Result<(), ParamError> {
    engram_core::check::positive(value).map_err(|r| ParamError::new(field, value, r.allowed()))
}

pub(crate) fn non_negative(field: &'static str, value: f64) -> Result<(), ParamError> {
    engram_core::check::non_negative(value).map_err(|r| ParamError::new(field, value, r.allowed()))
}

pub(crate) fn finite(field: &'static str, value: f64) -> Result<(), ParamError> {
    engram_core::check::finite(value).map_err(|r| ParamError::new(field, value, r.allowed()))
}

/// The inputs of one step for a range of neurons.
pub struct StepInput<'a> {
    /// Excitatory synaptic jumps arriving this step (pA); read and then zeroed.
    pub ex: &'a mut [f64],
    /// Inhibitory synaptic jumps arriving this step (pA, <= 0); read and then zeroed.
    pub inh: &'a mut [f64],
    /// Stimulation current held constant over the step (pA): current sources and gap
    /// junctions. `None` when no neuron of the range has any.
    pub i_stim: Option<&'a [f64]>,
}

/// User-facing parameters that can be set field by field, by their config names
/// (`tau_m_ms`): what lets a config give any registered model its parameters.
/// Implemented with [`param_fields!`].
pub trait ParamFields: Default {
    /// The field names, in the order of the model's parameter table.
    const FIELDS: &'static [&'static str];

    /// Sets field `name` to `value`; returns false if the model has no such field.
    fn set(&mut self, name: &str, value: f64) -> bool;

    /// The value of field `name`, if the model has it.
    fn get(&self, name: &str) -> Option<f64>;
}

/// Implements [`ParamFields`] for a parameter struct whose fields are all `f64`:
/// `param_fields!(LifParams { c_m_pf, tau_m_ms, ... });`
#[macro_export]
macro_rules! param_fields {
    ($ty:ty { $($f:ident),+ $(,)? }) => {
        impl $crate::ParamFields for $ty {
            const FIELDS: &'static [&'static str] = &[$(stringify!($f)),+];

            fn set(&mut self, name: &str, value: f64) -> bool {
                match name {
                    $(stringify!($f) => self.$f = value,)+
                    _ => return false,
                }
                true
            }

            fn get(&self, name: &str) -> Option<f64> {
                match name {
                    $(stringify!($f) => Some(self.$f),)+
                    _ => None,
                }
            }
        }
    };
}

/// A model or parameter name that no registered model knows, or an invalid value.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ModelError {
    /// No registered model has this name.
    #[error("unknown model `{name}`; allowed: {}", quoted(ModelParams::MODELS))]
    UnknownModel {
        /// The name given.
        name: String,
    },
    /// The model has no parameter of this name.
    #[error(
        "unknown field `{field}`: not a parameter of model `{model}`, whose parameters are {}",
        ModelParams::fields_of(model).map(|f| f.join(", ")).unwrap_or_default()
    )]
    UnknownField {
        /// The model's name.
        model: &'static str,
        /// The field given.
        field: String,
    },
    /// A parameter value the model does not accept.
    #[error(transparent)]
    Param(#[from] ParamError),
}

fn quoted(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("\"{n}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A neuron model, implemented by its constants for one parameter set and one time step.
///
/// The engine advances the neurons of a population segment with [`NeuronModel::step`] and
/// otherwise sees a neuron only through the hooks below, by index into the segment's state.
pub trait NeuronModel: Sized + Copy + Send + Sync {
    /// The model's name in configs (`"lif_exp"`).
    const NAME: &'static str;
    /// User-facing parameters, with units in the field names; may hold any value.
    type Params: Copy + ParamFields;
    /// Parameters that passed [`NeuronModel::check`]; cannot hold invalid values.
    type ValidParams: Copy;
    /// State of a set of neurons, as a structure of arrays.
    type State: Clone + Send;

    /// Validates every parameter.
    fn check(params: Self::Params) -> Result<Self::ValidParams, ParamError>;

    /// The resting potential (mV): where neurons start unless told otherwise.
    fn rest_mv(params: &Self::ValidParams) -> f64;

    /// Precomputes the constants of the update for time step `dt_ms`.
    fn for_dt(params: &Self::ValidParams, dt_ms: f64) -> Result<Self, ParamError>;

    /// State for `n` neurons, at rest.
    fn new_state(&self, n: usize) -> Self::State;

    /// Number of neurons in `state`.
    fn len(state: &Self::State) -> usize;

    /// Advances every neuron of `state` by one step with the step's inputs and modulation;
    /// pushes `offset + i` to `spikes` for each neuron `i` that fires, in ascending order.
    fn step(
        &self,
        state: &mut Self::State,
        input: StepInput<'_>,
        m: &Modulation,
        offset: u32,
        spikes: &mut Vec<u32>,
    );

    /// Vetoes neuron `i`'s threshold crossing of the step just taken (gain control): the
    /// crossing must leave nothing behind but the reset of the membrane, as if the neuron
    /// had been inhibited at threshold (no bAP, no threshold rise, no refractory period).
    /// `m` is the modulation the step used.
    fn veto(&self, state: &mut Self::State, i: usize, m: &Modulation);

    /// The potential a gap junction sees at neuron `i`: its membrane potential relative to
    /// rest (mV).
    /// Needs no constants (a state keeps what it needs), so that the engine's gap code
    /// reads it with one `match` on the state ([`ModelState::junction_potential_mv`]).
    fn junction_potential_mv(state: &Self::State, i: usize) -> f64;

    /// Neuron `i`'s dendritic bAP trace (mV), which drives its junctions.
    /// Needs no constants, so that the engine's gap code can read it with one `match` on
    /// the state ([`ModelState::dendritic_trace_mv`]).
    fn dendritic_trace_mv(state: &Self::State, i: usize) -> f64;

    /// Scales neuron `i`'s dendritic bAP trace by `factor` (in `[0, 1]`): the charge that
    /// its junctions draw out of the dendrite (loading, see the engine's gap code).
    fn scale_dendritic_trace(state: &mut Self::State, i: usize, factor: f64);

    /// Neuron `i`'s threshold rise from adaptation (mV); 0 for models without one.
    fn threshold_rise_mv(&self, state: &Self::State, i: usize) -> f64;

    /// How far neuron `i`'s membrane was above threshold when it last crossed (mV): for
    /// two crossings in one step, the larger came first. Gain control orders the crossings
    /// of a step by it.
    fn crossing_overshoot_mv(&self, state: &Self::State, i: usize) -> f64;

    /// Neuron `i`'s membrane potential (mV, absolute).
    fn potential_mv(&self, state: &Self::State, i: usize) -> f64;

    /// Neuron `i`'s total synaptic current (pA): every synaptic current that flows into
    /// the membrane in the next step (excitatory and inhibitory), stimulation aside.
    fn synaptic_current_pa(&self, state: &Self::State, i: usize) -> f64;

    /// Neuron `i`'s spike threshold (mV, absolute) under modulation `m`: the potential at
    /// which a crossing is detected, adaptation and modulation included.
    fn threshold_mv(&self, state: &Self::State, i: usize, m: &Modulation) -> f64;

    /// Sets neuron `i`'s membrane potential (mV, absolute): the initial potential, or a
    /// potential imposed from outside.
    fn set_potential_mv(&self, state: &mut Self::State, i: usize, v_mv: f64);

    /// Membrane capacitance (pF), for the stability check of gap coupling.
    fn capacitance_pf(&self) -> f64;

    /// Puts every neuron of `state` at rest.
    fn reset_to_rest(&self, state: &mut Self::State);

    /// The state arrays that [`NeuronModel::step`] streams through at the neuron index (the
    /// engine places its ring buffers away from them in the cache).
    fn streamed(state: &Self::State) -> Vec<&[f64]>;
}

/// The dispatch of a state hook over the registered models: `self` and `state` must be of
/// the same model.
macro_rules! pair {
    ($model:expr, $state:expr, [$($variant:ident),+], |$c:ident, $s:ident| $body:expr) => {
        match ($model, $state) {
            $((Model::$variant($c), ModelState::$variant($s)) => $body,)+
            #[allow(unreachable_patterns)]
            _ => panic!("a state of another neuron model"),
        }
    };
}

/// Generates, from the list of registered models, the enums [`ModelParams`], [`Model`] and
/// [`ModelState`] with one variant per model, and their dispatch to [`NeuronModel`].
macro_rules! models {
    ($($(#[$doc:meta])* $variant:ident($model:ty),)+) => {
        /// Checked parameters of one of the registered neuron models.
        #[derive(Debug, Clone, Copy, PartialEq)]
        pub enum ModelParams {
            $($(#[$doc])* $variant(<$model as NeuronModel>::ValidParams),)+
        }

        /// The constants, for one `dt`, of one of the registered neuron models: what the
        /// engine holds per population.
        #[derive(Debug, Clone, Copy, PartialEq)]
        pub enum Model {
            $($(#[$doc])* $variant($model),)+
        }

        /// The state of a set of neurons of one of the registered models.
        #[derive(Debug, Clone, PartialEq)]
        pub enum ModelState {
            $($(#[$doc])* $variant(<$model as NeuronModel>::State),)+
        }

        $(impl From<<$model as NeuronModel>::ValidParams> for ModelParams {
            fn from(p: <$model as NeuronModel>::ValidParams) -> Self {
                ModelParams::$variant(p)
            }
        }

        impl TryFrom<<$model as NeuronModel>::Params> for ModelParams {
            type Error = ParamError;

            /// Checks the parameters (see [`NeuronModel::check`]).
            fn try_from(p: <$model as NeuronModel>::Params) -> Result<Self, ParamError> {
                <$model as NeuronModel>::check(p).map(ModelParams::$variant)
            }
        })+

        impl ModelParams {
            /// The config names of the registered models, in registration order.
            pub const MODELS: &'static [&'static str] = &[$(<$model as NeuronModel>::NAME),+];

            /// The parameter names of model `model`, or `None` for an unknown model.
            pub fn fields_of(model: &str) -> Option<&'static [&'static str]> {
                $(if model == <$model as NeuronModel>::NAME {
                    return Some(<<$model as NeuronModel>::Params as ParamFields>::FIELDS);
                })+
                None
            }

            /// The checked parameters of model `model` from named values; fields not given
            /// take the model's defaults.
            pub fn from_fields<'a>(
                model: &str,
                fields: impl IntoIterator<Item = (&'a str, f64)>,
            ) -> Result<ModelParams, ModelError> {
                $(if model == <$model as NeuronModel>::NAME {
                    let mut p = <<$model as NeuronModel>::Params as Default>::default();
                    for (name, value) in fields {
                        if !ParamFields::set(&mut p, name, value) {
                            return Err(ModelError::UnknownField {
                                model: <$model as NeuronModel>::NAME,
                                field: name.to_string(),
                            });
                        }
                    }
                    return Ok(ModelParams::$variant(<$model as NeuronModel>::check(p)?));
                })+
                Err(ModelError::UnknownModel { name: model.to_string() })
            }

            /// The model's config name.
            pub fn model_name(&self) -> &'static str {
                match self {
                    $(ModelParams::$variant(_) => <$model as NeuronModel>::NAME,)+
                }
            }

            /// The resting potential (mV); see [`NeuronModel::rest_mv`].
            pub fn rest_mv(&self) -> f64 {
                match self {
                    $(ModelParams::$variant(p) => <$model as NeuronModel>::rest_mv(p),)+
                }
            }

            /// The constants for time step `dt_ms` (see [`NeuronModel::for_dt`]).
            pub fn for_dt(&self, dt_ms: f64) -> Result<Model, ParamError> {
                match self {
                    $(ModelParams::$variant(p) => {
                        <$model as NeuronModel>::for_dt(p, dt_ms).map(Model::$variant)
                    })+
                }
            }
        }

        impl Model {
            /// State for `n` neurons of this model, at rest.
            pub fn new_state(&self, n: usize) -> ModelState {
                match self {
                    $(Model::$variant(c) => ModelState::$variant(c.new_state(n)),)+
                }
            }

            /// Membrane capacitance (pF); see [`NeuronModel::capacitance_pf`].
            pub fn capacitance_pf(&self) -> f64 {
                match self {
                    $(Model::$variant(c) => NeuronModel::capacitance_pf(c),)+
                }
            }

            /// See [`NeuronModel::step`].
            #[inline]
            pub fn step(
                &self,
                state: &mut ModelState,
                input: StepInput<'_>,
                m: &Modulation,
                offset: u32,
                spikes: &mut Vec<u32>,
            ) {
                pair!(self, state, [$($variant),+], |c, s| {
                    NeuronModel::step(c, s, input, m, offset, spikes)
                })
            }

            /// See [`NeuronModel::veto`].
            #[inline]
            pub fn veto(&self, state: &mut ModelState, i: usize, m: &Modulation) {
                pair!(self, state, [$($variant),+], |c, s| NeuronModel::veto(c, s, i, m))
            }

            /// See [`NeuronModel::junction_potential_mv`].
            #[inline]
            pub fn junction_potential_mv(&self, state: &ModelState, i: usize) -> f64 {
                state.junction_potential_mv(i)
            }

            /// See [`NeuronModel::dendritic_trace_mv`].
            #[inline]
            pub fn dendritic_trace_mv(&self, state: &ModelState, i: usize) -> f64 {
                state.dendritic_trace_mv(i)
            }

            /// See [`NeuronModel::threshold_rise_mv`].
            pub fn threshold_rise_mv(&self, state: &ModelState, i: usize) -> f64 {
                pair!(self, state, [$($variant),+], |c, s| c.threshold_rise_mv(s, i))
            }

            /// See [`NeuronModel::crossing_overshoot_mv`].
            #[inline]
            pub fn crossing_overshoot_mv(&self, state: &ModelState, i: usize) -> f64 {
                pair!(self, state, [$($variant),+], |c, s| c.crossing_overshoot_mv(s, i))
            }

            /// See [`NeuronModel::potential_mv`].
            pub fn potential_mv(&self, state: &ModelState, i: usize) -> f64 {
                pair!(self, state, [$($variant),+], |c, s| c.potential_mv(s, i))
            }

            /// See [`NeuronModel::synaptic_current_pa`].
            #[inline]
            pub fn synaptic_current_pa(&self, state: &ModelState, i: usize) -> f64 {
                pair!(self, state, [$($variant),+], |c, s| c.synaptic_current_pa(s, i))
            }

            /// See [`NeuronModel::threshold_mv`].
            #[inline]
            pub fn threshold_mv(&self, state: &ModelState, i: usize, m: &Modulation) -> f64 {
                pair!(self, state, [$($variant),+], |c, s| c.threshold_mv(s, i, m))
            }

            /// Puts every neuron of `state` at rest.
            pub fn reset_to_rest(&self, state: &mut ModelState) {
                pair!(self, state, [$($variant),+], |c, s| c.reset_to_rest(s))
            }

            /// See [`NeuronModel::set_potential_mv`].
            pub fn set_potential_mv(&self, state: &mut ModelState, i: usize, v_mv: f64) {
                pair!(self, state, [$($variant),+], |c, s| c.set_potential_mv(s, i, v_mv))
            }
        }

        impl ModelState {
            /// The potential a gap junction sees at neuron `i` (mV, relative to rest); see
            /// [`NeuronModel::junction_potential_mv`].
            #[inline]
            pub fn junction_potential_mv(&self, i: usize) -> f64 {
                match self {
                    $(ModelState::$variant(s) => {
                        <$model as NeuronModel>::junction_potential_mv(s, i)
                    })+
                }
            }

            /// Neuron `i`'s dendritic bAP trace (mV); see
            /// [`NeuronModel::dendritic_trace_mv`].
            #[inline]
            pub fn dendritic_trace_mv(&self, i: usize) -> f64 {
                match self {
                    $(ModelState::$variant(s) => <$model as NeuronModel>::dendritic_trace_mv(s, i),)+
                }
            }

            /// Scales neuron `i`'s dendritic bAP trace; see
            /// [`NeuronModel::scale_dendritic_trace`].
            #[inline]
            pub fn scale_dendritic_trace(&mut self, i: usize, factor: f64) {
                match self {
                    $(ModelState::$variant(s) => {
                        <$model as NeuronModel>::scale_dendritic_trace(s, i, factor)
                    })+
                }
            }

            /// Number of neurons.
            pub fn len(&self) -> usize {
                match self {
                    $(ModelState::$variant(s) => <$model as NeuronModel>::len(s),)+
                }
            }

            /// True if the state holds no neurons.
            pub fn is_empty(&self) -> bool {
                self.len() == 0
            }

            /// See [`NeuronModel::streamed`].
            pub fn streamed(&self) -> Vec<&[f64]> {
                match self {
                    $(ModelState::$variant(s) => <$model as NeuronModel>::streamed(s),)+
                }
            }
        }
    };
}

pub mod lif_cond_exp;
pub mod lif_exp;
pub mod traces;

pub use lif_cond_exp::{CondConstants, CondParams, CondState, ValidCondParams};
pub use lif_exp::{LifParams, LifPropagators, LifSlices, LifState, ValidLifParams};
pub use traces::SpikeTraces;

// The registered neuron models: one line per model (its module is declared above).
models! {
    /// `lif_exp`: leaky integrate-and-fire with exponential synaptic currents.
    LifExp(LifPropagators),
    /// `lif_cond_exp`: leaky integrate-and-fire with exponential synaptic conductances.
    LifCondExp(CondConstants),
}

#[cfg(test)]
mod tests;
