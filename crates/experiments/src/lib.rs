//! Experiments on engram networks, without I/O.
//!
//! An experiment kind goes from parameters to typed results in four steps:
//!
//! 1. **compile**: its parameters add inputs to an [`engram_network::NetworkSpec`] and lay
//!    out a plan of phases on the step grid (for recall: [`recall::prepare`] and
//!    [`recall::build`] give a [`recall::Protocol`]);
//! 2. **run**: [`Experiment::run`] drives a [`Simulation`] built from that spec phase by
//!    phase, passing every spike on to a [`SpikeSink`] and reporting progress to an
//!    [`Observer`];
//! 3. **analyse**: [`Experiment::analyse`] turns what the run measured into typed results;
//! 4. **record**: [`Experiment::record`] lays the results out as [`Group`]s of datasets for
//!    a file writer.
//!
//! [`Plan`] and [`Outcome`] hold any kind; adding a kind is writing its module (with
//! parameters that implement [`Compile`]) and one line in the `kinds!` list of this file;
//! a config names it once it has its line in engram-config's list of kinds.
//!
//! The pieces the kinds share are here too: [`stimuli`] (patterns and their spike
//! encodings) and [`metrics`] (fidelity, identification, latencies). With the `serde`
//! feature the parameters implement `Deserialize` (the config schema) and the results
//! `Serialize`.

use engram_core::FieldError;
use engram_core::memory::{MemoryEstimate, MemoryLimit};
use engram_network::{NetworkSpec, Simulation, SpikeSink};
use indexmap::IndexMap;

pub mod metrics;
pub mod recall;
mod record;
pub mod stimuli;

pub use record::{Attr, Data, Group};

/// How far a run has got, as told to an [`Observer`].
#[derive(Debug, Clone, Copy)]
pub struct Progress<'a> {
    /// Steps simulated so far.
    pub done: u64,
    /// Steps of the whole run.
    pub total: u64,
    /// Simulated time so far (ms).
    pub time_ms: f64,
    /// The phase being run (empty for a plain run).
    pub phase: &'a str,
}

/// Watches a run: called after every block of steps.
pub trait Observer {
    /// The run has got to `progress`.
    fn progress(&mut self, progress: Progress<'_>);
}

/// An observer that ignores everything.
#[derive(Debug, Clone, Copy, Default)]
pub struct Unobserved;

impl Observer for Unobserved {
    fn progress(&mut self, _: Progress<'_>) {}
}

/// Runs `steps` steps of `sim` into `sink` in blocks (about 200 per call, at most 10 000
/// steps each), telling `observer` after each block; `total` is the length of the whole
/// run and `phase` the label of this part of it.
pub fn run_steps<S: SpikeSink + Send>(
    sim: &mut Simulation,
    steps: u64,
    total: u64,
    sink: &mut S,
    observer: &mut dyn Observer,
    phase: &str,
) -> Result<(), S::Error>
where
    S::Error: Send,
{
    let block = (steps / 200).clamp(1, 10_000);
    let mut done = 0;
    while done < steps {
        let n = block.min(steps - done);
        sim.run(n, sink)?;
        done += n;
        observer.progress(Progress {
            done: sim.step_count(),
            total,
            time_ms: sim.time_ms(),
            phase,
        });
    }
    Ok(())
}

/// An acetylcholine release that an experiment adds to the run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AchRelease {
    /// Start (ms).
    pub time_ms: f64,
    /// Amount released.
    pub amplitude: f64,
    /// Release duration (ms).
    pub duration_ms: f64,
}

/// Why the results cannot be computed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ExperimentError {
    /// A metric is undefined for what the run measured.
    #[error(transparent)]
    Metric(#[from] metrics::MetricError),
}

/// The parameters of an experiment kind, compiled in two steps around the network spec:
/// [`prepare`](Compile::prepare) before the spec exists (it may size the populations a
/// config leaves unsized), [`build`](Compile::build) after (it adds the experiment's
/// inputs and gives the [`Plan`]). Errors name the config field by its dotted path, and
/// say whether its value is not allowed or asks for more memory than `memory` allows
/// ([`FieldError`]'s kind).
pub trait Compile {
    /// What preparing hands on to building (for recall: the stimuli).
    type Prepared;

    /// Checks the parameters against `populations` (sizes by name, `None` where not
    /// given; missing sizes may be filled in) and loads or draws the stimuli described by
    /// `stimuli`: random ones from `seed`, image folders through `images`. Stimuli whose
    /// estimated size exceeds `memory` are refused before they are allocated.
    fn prepare(
        &self,
        stimuli: Option<&recall::StimulusParams>,
        populations: &mut IndexMap<String, Option<u32>>,
        seed: u64,
        images: &mut stimuli::ImageLoader<'_>,
        memory: Option<&MemoryLimit>,
    ) -> Result<Self::Prepared, FieldError>;

    /// Adds the experiment's inputs to `spec` and lays out its plan; inputs whose estimated
    /// size exceeds `memory` are refused before they are built.
    fn build(
        &self,
        stimuli: Option<&recall::StimulusParams>,
        prepared: Self::Prepared,
        spec: &mut NetworkSpec,
        memory: Option<&MemoryLimit>,
    ) -> Result<Plan, FieldError>;
}

/// A compiled experiment: a plan of phases whose inputs are already in the network spec.
pub trait Experiment {
    /// What a run measures (spike counts per phase, latencies, ...).
    type Measured;
    /// The typed results.
    type Results;

    /// Steps of the whole plan.
    fn steps(&self) -> u64;

    /// The acetylcholine releases the plan adds to the configured ones.
    fn ach_releases(&self) -> Vec<AchRelease>;

    /// The memory the plan holds and its run and analysis allocate (stimuli, measurements),
    /// beside the network's own (see `NetworkSpec::memory_estimate`).
    fn memory(&self, spec: &NetworkSpec) -> MemoryEstimate;

    /// Runs the plan on `sim` (built from the compiled spec), passing every spike on to
    /// `sink` and telling `observer` how far it got.
    fn run<S: SpikeSink + Send>(
        &self,
        sim: &mut Simulation,
        sink: &mut S,
        observer: &mut dyn Observer,
    ) -> Result<Self::Measured, S::Error>
    where
        S::Error: Send;

    /// Computes the results from what the run measured.
    fn analyse(
        &self,
        spec: &NetworkSpec,
        measured: &Self::Measured,
    ) -> Result<Self::Results, ExperimentError>;

    /// The plan, the measurements and the results as groups for the run's file;
    /// `summary` is the results as text (the front end's JSON), kept as an attribute.
    fn record(
        &self,
        spec: &NetworkSpec,
        measured: &Self::Measured,
        results: &Self::Results,
        summary: &str,
    ) -> Vec<Group>;
}

/// Declares the experiment kinds: one line `Name(module::Type)` per kind, where the type
/// implements [`Experiment`]. Generates [`Plan`], [`Measured`] and [`Outcome`] with one
/// variant per kind, and the dispatch between them.
macro_rules! kinds {
    ($($kind:ident($ty:ty)),* $(,)?) => {
        /// A compiled experiment of any kind.
        #[derive(Debug, Clone)]
        pub enum Plan {
            $(
                #[doc = concat!("A [`", stringify!($ty), "`].")]
                $kind($ty),
            )*
        }

        /// What a run of a [`Plan`] measured.
        #[derive(Debug, Clone)]
        pub enum Measured {
            $(
                #[doc = concat!("Of a [`", stringify!($ty), "`].")]
                $kind(<$ty as Experiment>::Measured),
            )*
        }

        /// The typed results of a [`Plan`].
        #[derive(Debug, Clone)]
        #[cfg_attr(feature = "serde", derive(serde::Serialize), serde(untagged))]
        pub enum Outcome {
            $(
                #[doc = concat!("Of a [`", stringify!($ty), "`].")]
                $kind(<$ty as Experiment>::Results),
            )*
        }

        impl Plan {
            /// Steps of the whole plan.
            pub fn steps(&self) -> u64 {
                match self {
                    $(Plan::$kind(p) => p.steps(),)*
                }
            }

            /// The acetylcholine releases the plan adds.
            pub fn ach_releases(&self) -> Vec<AchRelease> {
                match self {
                    $(Plan::$kind(p) => p.ach_releases(),)*
                }
            }

            /// The plan's memory; see [`Experiment::memory`].
            pub fn memory(&self, spec: &NetworkSpec) -> MemoryEstimate {
                match self {
                    $(Plan::$kind(p) => p.memory(spec),)*
                }
            }

            /// Runs the plan; see [`Experiment::run`].
            pub fn run<S: SpikeSink + Send>(
                &self,
                sim: &mut Simulation,
                sink: &mut S,
                observer: &mut dyn Observer,
            ) -> Result<Measured, S::Error>
            where
                S::Error: Send,
            {
                Ok(match self {
                    $(Plan::$kind(p) => Measured::$kind(p.run(sim, sink, observer)?),)*
                })
            }

            /// Computes the results; see [`Experiment::analyse`].
            pub fn analyse(
                &self,
                spec: &NetworkSpec,
                measured: &Measured,
            ) -> Result<Outcome, ExperimentError> {
                #[allow(unreachable_patterns)]
                Ok(match (self, measured) {
                    $((Plan::$kind(p), Measured::$kind(m)) => Outcome::$kind(p.analyse(spec, m)?),)*
                    _ => panic!("measurements of another kind of experiment"),
                })
            }

            /// The groups for the run's file; see [`Experiment::record`].
            pub fn record(
                &self,
                spec: &NetworkSpec,
                measured: &Measured,
                outcome: &Outcome,
                summary: &str,
            ) -> Vec<Group> {
                #[allow(unreachable_patterns)]
                match (self, measured, outcome) {
                    $((Plan::$kind(p), Measured::$kind(m), Outcome::$kind(r)) => {
                        p.record(spec, m, r, summary)
                    })*
                    _ => panic!("results of another kind of experiment"),
                }
            }
        }
    };
}

// The registration of the experiment kinds: one line per kind.
kinds! {
    Recall(recall::Protocol),
}
