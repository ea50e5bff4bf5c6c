//! Populations, projections, inputs and the deterministic parallel engine of engram.
//!
//! A network is first *described* by a [`NetworkSpec`] (populations with their neuron
//! parameters, projections with connection rules and value distributions, inputs), then
//! *built* into a [`Simulation`] from a seed and a thread count, then *run* step by step
//! into a [`SpikeSink`]. The same spec and seed give bit-identical spikes whatever the
//! thread count: random numbers come from streams keyed by `(seed, purpose, id)`
//! ([`rng`]), and every neuron sums its inputs in a fixed order.
//!
//! # Example
//!
//! ```
//! use engram_network::connect::FixedProbability;
//! use engram_network::{InputKind, InputSpec, NetworkSpec, PopulationSpec, ProjectionSpec,
//!     Simulation, ValueDist, VecSink};
//! use engram_neuron::LifParams;
//! use std::sync::Arc;
//!
//! let pop = PopulationSpec::new("E", 100, LifParams::default())?;
//! let spec = NetworkSpec {
//!     dt_ms: 0.1,
//!     populations: vec![pop],
//!     projections: vec![ProjectionSpec {
//!         name: "EE".into(),
//!         source: 0,
//!         target: 0,
//!         rule: Arc::new(FixedProbability { p: 0.1, allow_autapses: false }),
//!         weight_pa: ValueDist::Constant(20.0),
//!         delay_ms: ValueDist::Constant(1.5),
//!         gap: None,
//!         plasticity: None,
//!     }],
//!     inputs: vec![InputSpec {
//!         name: "drive".into(),
//!         target: 0,
//!         neurons: (0..100).collect(),
//!         kind: InputKind::Poisson { rate_hz: 8000.0, weight_pa: 30.0, start_ms: 0.0, stop_ms: 100.0 },
//!     }],
//! };
//! let mut sim = Simulation::build(&spec, 42, 1)?;
//! let mut sink = VecSink::default();
//! sim.run(1000, &mut sink).unwrap();
//! assert_eq!(sim.spike_counts()[0] as usize, sink.spikes.len());
//! assert!(sink.spikes.len() > 0);
//! # Ok::<(), engram_network::NetworkError>(())
//! ```

pub mod connect;
mod engine;
mod spec;
mod synapses;

pub use connect::ConnectRule;
pub use engine::{Kwta, ReportData, ReportSpec, Simulation, StateVariable};
pub use engram_core::{Modulation, NullSink, SpikeSink, Target, VecSink, rng};
pub use spec::{
    GapSpec, InputKind, InputSpec, JunctionKind, MAX_POISSON_RATE_HZ, NetworkSpec, PlasticityRule,
    PlasticitySpec, PopulationSpec, ProjectionSpec, SpikeTrains, ValueDist,
};

/// Why a network could not be built.
#[derive(Debug, thiserror::Error)]
pub enum NetworkError {
    /// A neuron parameter is invalid.
    #[error("{owner}.{source}")]
    Param {
        /// Dotted path of the owner (`populations.E`).
        owner: String,
        /// The parameter error.
        #[source]
        source: engram_neuron::ParamError,
    },
    /// A network-level value is invalid.
    #[error("{path}: {message}")]
    Invalid {
        /// Dotted path of the offending field (`projections.EE.connectivity.p`).
        path: String,
        /// What is wrong and what is allowed.
        message: String,
    },
    /// The thread pool could not be started.
    #[error("could not start {threads} threads: {message}")]
    Threads {
        /// Threads asked for.
        threads: usize,
        /// The system's reason.
        message: String,
    },
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_feedback;
#[cfg(test)]
mod tests_inputs;
