//! The one modulation type: a value for each named target, per population.
//!
//! Neuromodulators (acetylcholine in engram-cholinergic) produce a [`Modulation`] for each
//! population at each step; the neuron models and the engine's mechanisms read the
//! targets they know (the bAP gain in the neuron update, the gap gain in the gap pass, the
//! forward gain in spike delivery, ...).

use std::fmt;

/// A quantity that a neuromodulator acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Target {
    /// Gain on the bAP jump of the dendritic trace (dimensionless, neutral 1).
    BapGain,
    /// Gain on gap-junction conductances (dimensionless, neutral 1).
    GapGain,
    /// Gain on chemical, forward synaptic transmission (dimensionless, neutral 1).
    ForwardGain,
    /// Factor on the plasticity (STDP) rate (dimensionless, neutral 1).
    PlasticityRate,
    /// Shift added to the spike threshold (mV, neutral 0).
    ThresholdShift,
    /// Gain on the adaptive threshold rise (dimensionless, neutral 1): muscarinic
    /// suppression of the slow afterhyperpolarization makes cells adapt less under ACh.
    AdaptationGain,
}

impl Target {
    /// Number of targets.
    pub const COUNT: usize = 6;

    /// Every target, in the order used for field paths and error checks.
    pub const ALL: [Target; Target::COUNT] = [
        Target::BapGain,
        Target::GapGain,
        Target::ForwardGain,
        Target::PlasticityRate,
        Target::ThresholdShift,
        Target::AdaptationGain,
    ];

    /// The field name of the target in configs and error paths (`gap_gain`,
    /// `threshold_shift_mv`).
    pub fn name(self) -> &'static str {
        match self {
            Target::BapGain => "bap_gain",
            Target::GapGain => "gap_gain",
            Target::ForwardGain => "forward_gain",
            Target::PlasticityRate => "plasticity_rate",
            Target::ThresholdShift => "threshold_shift_mv",
            Target::AdaptationGain => "adaptation_gain",
        }
    }

    /// The value when nothing modulates: 1 for gains and rates, 0 for the threshold shift.
    pub fn neutral(self) -> f64 {
        match self {
            Target::ThresholdShift => 0.0,
            _ => 1.0,
        }
    }

    /// True if the target is a gain, whose value must stay >= 0.
    pub fn is_gain(self) -> bool {
        matches!(
            self,
            Target::BapGain | Target::GapGain | Target::ForwardGain | Target::AdaptationGain
        )
    }

    /// Position of the target in [`Target::ALL`] and in a [`Modulation`].
    pub fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The modulation of one population at one step: one value per [`Target`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Modulation([f64; Target::COUNT]);

impl Modulation {
    /// No modulation: gains and rates 1, threshold shift 0 mV.
    pub const NEUTRAL: Modulation = Modulation([1.0, 1.0, 1.0, 1.0, 0.0, 1.0]);

    /// The value for `target`.
    #[inline]
    pub fn get(&self, target: Target) -> f64 {
        self.0[target.index()]
    }

    /// Sets the value for `target`.
    #[inline]
    pub fn set(&mut self, target: Target, value: f64) {
        self.0[target.index()] = value;
    }

    /// This modulation with `target` set to `value`.
    pub fn with(mut self, target: Target, value: f64) -> Self {
        self.set(target, value);
        self
    }

    /// Gain on the bAP jump.
    #[inline]
    pub fn bap_gain(&self) -> f64 {
        self.get(Target::BapGain)
    }

    /// Gain on gap-junction conductances.
    #[inline]
    pub fn gap_gain(&self) -> f64 {
        self.get(Target::GapGain)
    }

    /// Gain on forward chemical transmission.
    #[inline]
    pub fn forward_gain(&self) -> f64 {
        self.get(Target::ForwardGain)
    }

    /// Factor on the plasticity rate.
    #[inline]
    pub fn plasticity_rate(&self) -> f64 {
        self.get(Target::PlasticityRate)
    }

    /// Shift of the spike threshold (mV).
    #[inline]
    pub fn threshold_shift_mv(&self) -> f64 {
        self.get(Target::ThresholdShift)
    }

    /// Gain on the adaptive threshold rise.
    #[inline]
    pub fn adaptation_gain(&self) -> f64 {
        self.get(Target::AdaptationGain)
    }
}

impl Default for Modulation {
    fn default() -> Self {
        Modulation::NEUTRAL
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn neutral_matches_each_targets_neutral_value() {
        for t in Target::ALL {
            assert_eq!(Modulation::NEUTRAL.get(t), t.neutral(), "{t}");
            assert_eq!(Target::ALL[t.index()], t);
        }
    }

    #[test]
    fn set_changes_only_its_target() {
        let m = Modulation::NEUTRAL.with(Target::GapGain, 0.25);
        assert_eq!(m.gap_gain(), 0.25);
        for t in Target::ALL.into_iter().filter(|&t| t != Target::GapGain) {
            assert_eq!(m.get(t), t.neutral(), "{t}");
        }
    }
}
