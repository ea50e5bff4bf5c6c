//! Receptor effect curves: concentration -> modulation factors per population.

pub use engram_core::{Modulation, Target};

use crate::{AchError, finite, positive};

/// A Hill curve `m(A) = min + (max - min) A^h / (A^h + K^h)`.
///
/// `max < min` is allowed: the effect then falls as the concentration rises.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HillCurve {
    /// Value at `A = 0` (unit of the target).
    pub min: f64,
    /// Value as `A -> infinity` (unit of the target).
    pub max: f64,
    /// Half-activation concentration `K` (dimensionless, > 0): `m(K) = (min + max) / 2`.
    pub k: f64,
    /// Hill coefficient `h` (dimensionless, > 0): the steepness of the curve around `K`.
    pub hill: f64,
}

impl Default for HillCurve {
    fn default() -> Self {
        HillCurve {
            min: 0.0,
            max: 1.0,
            k: 0.5,
            hill: 2.0,
        }
    }
}

impl HillCurve {
    /// Validates the curve: `min` and `max` finite (and `max - min` finite), `k` and `hill`
    /// finite and > 0. Errors name the bare field (`k`).
    pub fn checked(self) -> Result<ValidHillCurve, AchError> {
        finite("min", self.min)?;
        finite("max", self.max)?;
        if !(self.max - self.min).is_finite() {
            return Err(AchError::new(
                "max",
                self.max,
                format!("max - min must be finite (min = {})", self.min),
            ));
        }
        positive("k", self.k)?;
        positive("hill", self.hill)?;
        Ok(ValidHillCurve(self))
    }
}

/// A curve that passed [`HillCurve::checked`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ValidHillCurve(HillCurve);

impl ValidHillCurve {
    /// The underlying parameter values.
    pub fn get(&self) -> &HillCurve {
        &self.0
    }

    /// The curve's value at concentration `ach`; always within `[min, max]` (or
    /// `[max, min]`). A concentration that is not > 0 (including NaN) counts as 0.
    pub fn value(&self, ach: f64) -> f64 {
        let c = &self.0;
        // A^h / (A^h + K^h) = 1 / (1 + (K/A)^h): no overflow for large A or h.
        let occupancy = if ach > 0.0 {
            1.0 / (1.0 + (c.k / ach).powf(c.hill))
        } else {
            0.0
        };
        let value = c.min + (c.max - c.min) * occupancy;
        value.clamp(c.min.min(c.max), c.min.max(c.max))
    }
}

/// The effect of acetylcholine on one target: a curve and the populations it applies to.
#[derive(Debug, Clone, PartialEq)]
pub struct Effect {
    /// The curve (its fields appear directly under the target in field paths:
    /// `effects.gap_gain.k`).
    pub curve: HillCurve,
    /// Indices of the populations the curve applies to; `None` applies it to every
    /// population. Others keep the neutral value.
    pub populations: Option<Vec<usize>>,
}

/// An effect that passed validation, as held by a [`Modulator`].
#[derive(Debug, Clone, PartialEq)]
pub struct ValidEffect {
    curve: ValidHillCurve,
    populations: Option<Vec<usize>>,
}

impl ValidEffect {
    /// The curve.
    pub fn curve(&self) -> &ValidHillCurve {
        &self.curve
    }

    /// The targeted population indices; `None` for every population.
    pub fn populations(&self) -> Option<&[usize]> {
        self.populations.as_deref()
    }

    /// True if the effect applies to `population`.
    pub fn applies_to(&self, population: usize) -> bool {
        self.populations
            .as_ref()
            .is_none_or(|list| list.contains(&population))
    }
}

/// For each target, an optional effect. The default has none: every factor stays neutral.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EffectParams {
    /// Effect on the bAP gain.
    pub bap_gain: Option<Effect>,
    /// Effect on the gap-junction gain.
    pub gap_gain: Option<Effect>,
    /// Effect on the forward (chemical) transmission gain.
    pub forward_gain: Option<Effect>,
    /// Effect on the plasticity rate.
    pub plasticity_rate: Option<Effect>,
    /// Effect on the threshold shift (mV).
    pub threshold_shift_mv: Option<Effect>,
    /// Effect on the gain of the adaptive threshold.
    pub adaptation_gain: Option<Effect>,
}

impl EffectParams {
    /// The effect on `target`, if any.
    pub fn get(&self, target: Target) -> Option<&Effect> {
        match target {
            Target::BapGain => self.bap_gain.as_ref(),
            Target::GapGain => self.gap_gain.as_ref(),
            Target::ForwardGain => self.forward_gain.as_ref(),
            Target::PlasticityRate => self.plasticity_rate.as_ref(),
            Target::ThresholdShift => self.threshold_shift_mv.as_ref(),
            Target::AdaptationGain => self.adaptation_gain.as_ref(),
        }
    }

    /// Validates every effect and returns the modulator.
    ///
    /// Field paths start with `effects.` (this struct's place beside the kinetics
    /// parameters): `effects.gap_gain.k`, `effects.forward_gain.min`,
    /// `effects.bap_gain.populations`. Curves must be valid ([`HillCurve::checked`]); the
    /// gains (`bap_gain`, `gap_gain`, `forward_gain`, `adaptation_gain`) must also have
    /// `min, max >= 0`; a population list must not be empty (leave it out to target every
    /// population).
    pub fn checked(self) -> Result<Modulator, AchError> {
        let mut effects: [Option<ValidEffect>; Target::ALL.len()] = Default::default();
        for target in Target::ALL {
            let Some(effect) = self.get(target) else {
                continue;
            };
            let at = |field: &str| format!("effects.{target}.{field}");
            let curve = effect
                .curve
                .checked()
                .map_err(|e| e.prefixed(&format!("effects.{target}")))?;
            if target.is_gain() {
                for (field, value) in [("min", effect.curve.min), ("max", effect.curve.max)] {
                    if value < 0.0 {
                        return Err(AchError::new(at(field), value, "a gain must be >= 0"));
                    }
                }
            }
            if effect.populations.as_ref().is_some_and(Vec::is_empty) {
                return Err(AchError::new(
                    at("populations"),
                    0.0,
                    "an empty list targets no population; name at least one index, or leave \
                     the list out to target every population",
                ));
            }
            effects[target.index()] = Some(ValidEffect {
                curve,
                populations: effect.populations.clone(),
            });
        }
        Ok(Modulator { effects })
    }
}

/// Validated effects: maps a concentration to the [`Modulation`] of each population.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Modulator {
    effects: [Option<ValidEffect>; Target::ALL.len()],
}

impl Modulator {
    /// A modulator without effects: every population always gets [`Modulation::NEUTRAL`].
    pub fn neutral() -> Self {
        Modulator::default()
    }

    /// The effect on `target`, if any.
    pub fn effect(&self, target: Target) -> Option<&ValidEffect> {
        self.effects[target.index()].as_ref()
    }

    /// True if no target has an effect.
    pub fn is_neutral(&self) -> bool {
        self.effects.iter().all(Option::is_none)
    }

    /// Checks that every population index is below `n_populations`; errors name the entry
    /// (`effects.gap_gain.populations[1]`).
    pub fn validate_populations(&self, n_populations: usize) -> Result<(), AchError> {
        for target in Target::ALL {
            let Some(list) = self.effect(target).and_then(ValidEffect::populations) else {
                continue;
            };
            for (i, &population) in list.iter().enumerate() {
                if population >= n_populations {
                    return Err(AchError::new(
                        format!("effects.{target}.populations[{i}]"),
                        population as f64,
                        format!(
                            "must be a population index below {n_populations} \
                             (the number of populations)"
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    /// The factors of population `population` at concentration `ach`.
    pub fn factors(&self, ach: f64, population: usize) -> Modulation {
        let mut factors = Modulation::NEUTRAL;
        for target in Target::ALL {
            match self.effect(target) {
                Some(effect) if effect.applies_to(population) => {
                    factors.set(target, effect.curve.value(ach));
                }
                _ => {}
            }
        }
        factors
    }

    /// Writes the factors of every population at concentration `ach`: `out[i]` for
    /// population `i`. Each curve is evaluated once. Indices in a population list that are
    /// `>= out.len()` are ignored (see [`Modulator::validate_populations`]).
    pub fn fill_factors(&self, ach: f64, out: &mut [Modulation]) {
        out.fill(Modulation::NEUTRAL);
        for target in Target::ALL {
            let Some(effect) = self.effect(target) else {
                continue;
            };
            let value = effect.curve.value(ach);
            match effect.populations() {
                None => out.iter_mut().for_each(|f| f.set(target, value)),
                Some(list) => {
                    for &population in list {
                        if let Some(f) = out.get_mut(population) {
                            f.set(target, value);
                        }
                    }
                }
            }
        }
    }
}
