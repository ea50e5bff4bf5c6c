//! The modulation of each population, step by step, computed once per step.
//!
//! Without acetylcholine the modulation is the one set by
//! [`Simulation::set_modulation`](super::Simulation::set_modulation). With it, the factors
//! of step `n` come from the concentration at the step's start: the run computes step
//! `first`'s before the workers start, and worker 0 computes step `n + 1`'s during step
//! `n`, before the barrier, into the other half of a double buffer (the same discipline as
//! the spike buffers of the [`exchange`](super::exchange)). So the kinetics are integrated
//! once per step, whatever the number of workers.

use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use super::read;
use engram_cholinergic::{AchKinetics, Modulator};
use engram_core::Modulation;

/// Acetylcholine: its concentration kinetics and the effect curves that turn it into
/// factors.
pub(super) struct Acetylcholine {
    /// The concentration, at the start of the next step to be computed.
    pub(super) kinetics: AchKinetics,
    /// The effect curves.
    pub(super) effects: Modulator,
}

impl Acetylcholine {
    /// Writes into `out` the factors of the step that starts at the current concentration,
    /// and advances the kinetics by that step.
    pub(super) fn advance(&mut self, out: &mut [Modulation]) {
        self.effects
            .fill_factors(self.kinetics.concentration(), out);
        self.kinetics.step();
    }
}

/// The modulation of every population for step `n` (in slot `n % 2`).
pub(super) struct ModulationBuffer {
    slots: [RwLock<Vec<Modulation>>; 2],
}

impl ModulationBuffer {
    /// Neutral modulation for `n_pops` populations.
    pub(super) fn new(n_pops: usize) -> ModulationBuffer {
        let neutral = vec![Modulation::NEUTRAL; n_pops];
        ModulationBuffer {
            slots: [RwLock::new(neutral.clone()), RwLock::new(neutral)],
        }
    }

    /// Before a run from step `first`: the modulation of step `first` from `ach`, or
    /// `base` in every step without it.
    pub(super) fn start(&self, first: u64, base: &[Modulation], ach: Option<&mut Acetylcholine>) {
        match ach {
            Some(ach) => ach.advance(&mut self.write(first)),
            None => {
                self.write(first).copy_from_slice(base);
                self.write(first + 1).copy_from_slice(base);
            }
        }
    }

    /// The modulation of step `step`.
    #[inline]
    pub(super) fn read(&self, step: u64) -> RwLockReadGuard<'_, Vec<Modulation>> {
        read(&self.slots[(step % 2) as usize])
    }

    /// The modulation of step `step`, to be written.
    pub(super) fn write(&self, step: u64) -> RwLockWriteGuard<'_, Vec<Modulation>> {
        self.slots[(step % 2) as usize]
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
