//! Acetylcholine kinetics and receptor effect curves.
//!
//! This crate turns a description of cholinergic release (a tonic level, release pulses and
//! a decay time constant) into a concentration trace `A(t)`, and a concentration into
//! per-population modulation factors (bAP gain, gap-junction gain, forward transmission
//! gain, plasticity rate, threshold shift). It does no I/O, spawns no threads and draws no
//! random numbers; the network engine asks it for numbers once per step.
//!
//! # Kinetics
//!
//! ```text
//! dA/dt  = -(A - A_tonic) / tau_ach + sum_p r_p(t)
//! r_p(t) = amplitude_p / duration_p   for time_p <= t < time_p + duration_p, else 0
//! duration_p = 0:  A jumps by amplitude_p at t = time_p
//! A(0)   = A_tonic
//! ```
//!
//! `A` is dimensionless (arbitrary units; 1 is a strong phasic pulse). A pulse's
//! `amplitude` is the *amount released*: without decay the pulse would raise `A` by exactly
//! `amplitude`, whatever its duration. With decay, a square pulse gives
//! `A_tonic + amplitude / duration * tau_ach * (1 - e^{-t/tau_ach})` during the release
//! (`t` from its start) and an exponential return to `A_tonic` afterwards. Overlapping
//! pulses add.
//!
//! The release rate is piecewise constant, so the equation is integrated exactly: over an
//! interval of length `h` with constant rate `r`,
//! `A(t + h) = A_tonic + (A(t) - A_tonic) e^{-h/tau_ach} + r tau_ach (1 - e^{-h/tau_ach})`.
//! Step `k` covers `[k dt, (k + 1) dt)`; a pulse that starts or ends inside a step splits
//! it at that instant. The values returned by [`AchKinetics::step`] are therefore the exact
//! solution sampled at step ends, and do not depend on `dt` other than through sampling.
//!
//! # Effect curves
//!
//! ```text
//! m_x(A) = min_x + (max_x - min_x) A^h / (A^h + K^h)
//! ```
//!
//! `m_x(0) = min_x`, `m_x(K) = (min_x + max_x) / 2`, `m_x -> max_x` as `A -> infinity`.
//! `max_x < min_x` is allowed and gives an effect that falls with ACh (forward transmission
//! suppressed during recall). Each [`Target`] may have one curve, applied to every
//! population or to a list of population indices; a target without a curve, or a
//! population outside its list, gets the neutral value (see [`Modulation::NEUTRAL`]).
//!
//! | target (`effects.<name>`) | neutral | unit | what it scales                          |
//! |---------------------------|---------|------|-----------------------------------------|
//! | `bap_gain`                | 1       | 1    | bAP jump of the dendritic trace         |
//! | `gap_gain`                | 1       | 1    | gap-junction conductances               |
//! | `forward_gain`            | 1       | 1    | chemical (forward) synaptic weights     |
//! | `plasticity_rate`         | 1       | 1    | STDP learning rate (may be negative)    |
//! | `threshold_shift_mv`      | 0       | mV   | added to the spike threshold            |
//! | `adaptation_gain`         | 1       | 1    | adaptive threshold rise (ACh suppresses the slow AHP) |
//!
//! # Parameters
//!
//! | field                        | default | unit | symbol   | meaning                                            |
//! |------------------------------|---------|------|----------|----------------------------------------------------|
//! | `tonic`                      | 0       | a.u. | A_tonic  | level `A` starts at and relaxes to between pulses  |
//! | `tau_ach_ms`                 | 100     | ms   | tau_ach  | decay time constant towards `tonic`                |
//! | `pulses[i].time_ms`          | 0       | ms   | time_p   | start of the release, from the start of the run    |
//! | `pulses[i].amplitude`        | 1       | a.u. |          | amount released (rise of `A` if there were no decay) |
//! | `pulses[i].duration_ms`      | 0       | ms   |          | release spread evenly over this time; 0 = a jump   |
//! | `effects.<target>.min`       | 0       | target's | min_x | value at `A = 0`                                 |
//! | `effects.<target>.max`       | 1       | target's | max_x | value as `A -> infinity`                         |
//! | `effects.<target>.k`         | 0.5     | a.u. | K        | half-activation concentration                      |
//! | `effects.<target>.hill`      | 2       | 1    | h        | Hill coefficient (steepness)                       |
//! | `effects.<target>.populations` | all   | index |         | populations the curve applies to                   |
//!
//! The defaults are a model time scale, not a measurement: with no pulses `A` stays at 0,
//! and every effect stays at its `min`. Gains (`bap_gain`, `gap_gain`, `forward_gain`,
//! `adaptation_gain`) must have `min, max >= 0`; `plasticity_rate` and
//! `threshold_shift_mv` may have any finite bounds.
//!
//! # Example
//!
//! ```
//! use engram_cholinergic::{AchParams, AchPulse, Effect, EffectParams, HillCurve, trace};
//!
//! let ach = AchParams {
//!     tonic: 0.05,
//!     tau_ach_ms: 50.0,
//!     pulses: vec![AchPulse { time_ms: 10.0, amplitude: 1.0, duration_ms: 5.0 }],
//! }
//! .checked()?;
//! ach.validate_within(200.0)?; // the pulse lies inside a 200 ms run
//! let a = trace(&ach, 0.1, 2000)?; // A at the end of each 0.1 ms step
//! let peak = a.iter().copied().fold(0.0, f64::max);
//!
//! let modulator = EffectParams {
//!     gap_gain: Some(Effect {
//!         curve: HillCurve { min: 0.0, max: 1.0, k: 0.3, hill: 4.0 },
//!         populations: None, // every population
//!     }),
//!     forward_gain: Some(Effect {
//!         curve: HillCurve { min: 1.0, max: 0.2, k: 0.3, hill: 4.0 },
//!         populations: Some(vec![1, 2]),
//!     }),
//!     ..EffectParams::default()
//! }
//! .checked()?;
//! modulator.validate_populations(3)?;
//!
//! let at_peak = modulator.factors(peak, 1);
//! assert!(at_peak.gap_gain() > 0.9 && at_peak.forward_gain() < 0.3);
//! assert_eq!(modulator.factors(peak, 0).forward_gain(), 1.0); // population 0 not targeted
//! assert!(modulator.factors(a[0], 1).gap_gain() < 0.01); // tonic level: junctions nearly shut
//! # Ok::<(), engram_cholinergic::AchError>(())
//! ```

use engram_core::check;

mod effects;
mod kinetics;

pub use effects::{
    Effect, EffectParams, HillCurve, Modulation, Modulator, Target, ValidEffect, ValidHillCurve,
};
pub use kinetics::{AchKinetics, AchParams, AchPulse, ValidAchParams, trace};

/// An invalid value: names the field path, the value and what is allowed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{field} = {}: {allowed}", engram_core::number::short(*value))]
pub struct AchError {
    /// Field path as written in configs (`tau_ach_ms`, `pulses[2].duration_ms`,
    /// `effects.gap_gain.k`).
    pub field: String,
    /// The rejected value.
    pub value: f64,
    /// What would have been accepted.
    pub allowed: String,
}

impl AchError {
    fn new(field: impl Into<String>, value: f64, allowed: impl Into<String>) -> Self {
        AchError {
            field: field.into(),
            value,
            allowed: allowed.into(),
        }
    }

    /// The same error with `prefix.` put in front of the field path, for a caller that
    /// nests these parameters in a larger structure (`ach` gives `ach.tau_ach_ms`).
    pub fn prefixed(mut self, prefix: &str) -> Self {
        self.field = format!("{prefix}.{}", self.field);
        self
    }
}

fn positive(field: impl Into<String>, value: f64) -> Result<(), AchError> {
    check::positive(value).map_err(|r| AchError::new(field, value, r.allowed()))
}

fn non_negative(field: impl Into<String>, value: f64) -> Result<(), AchError> {
    check::non_negative(value).map_err(|r| AchError::new(field, value, r.allowed()))
}

fn finite(field: impl Into<String>, value: f64) -> Result<(), AchError> {
    check::finite(value).map_err(|r| AchError::new(field, value, r.allowed()))
}

#[cfg(test)]
mod tests;
