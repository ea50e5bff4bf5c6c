//! The shared vocabulary of engram: what every other crate speaks.
//!
//! - [`Modulation`] and [`Target`]: the one modulation type, a value per named target
//!   (bAP gain, gap gain, forward gain, plasticity rate, threshold shift, adaptation gain);
//! - [`SpikeSink`]: where the spikes of a run go;
//! - [`rng`]: random streams keyed by the seed, a purpose and an id, never by a thread;
//! - [`time`]: the time grid (`step_of`, delays in steps);
//! - [`ValueDist`]: values that are constant or drawn per element;
//! - [`FieldError`]: a value that cannot be used, named by its field path, not allowed or
//!   too large for the memory limit ([`ErrorKind`]);
//! - [`number::short`]: numbers in messages;
//! - [`check`]: checks of single parameter values (positive, non-negative, finite);
//! - [`memory`]: the memory a run may use, and estimates checked against it.
//!
//! This crate does no I/O, spawns no threads and depends on no other engram crate.
//!
//! # Example
//!
//! ```
//! use engram_core::{Modulation, Target, ValueDist, rng, time};
//!
//! let m = Modulation::NEUTRAL.with(Target::GapGain, 0.0);
//! assert_eq!(m.gap_gain(), 0.0);
//! assert_eq!(time::step_of(1.5, 0.1), 15);
//! let mut r = rng::stream(7, rng::Purpose::InitialPotential("E"), 3);
//! let v = ValueDist::Uniform { low: -70.0, high: -55.0 }.sample(&mut r);
//! assert!((-70.0..-55.0).contains(&v));
//! ```

pub mod check;
mod dist;
mod error;
pub mod memory;
mod modulation;
pub mod number;
pub mod rng;
mod sink;
pub mod time;

pub use dist::ValueDist;
pub use error::{ErrorKind, FieldError};
pub use modulation::{Modulation, Target};
pub use sink::{NullSink, SpikeSink, VecSink};
