//! Protocol inputs: Poisson trains, spike times and current changes, added to the ring
//! slot and the stimulation current of the step they fall in.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::ops::Range;

use super::ring::Rings;
use crate::spec::{InputKind, NetworkSpec};
use engram_core::rng::{Purpose, stream};
use engram_core::time::step_of;

/// A Poisson train into one neuron.
#[derive(Debug, Clone)]
struct PoissonTarget {
    local: u32,
    next_ms: f64,
    rng: ChaCha8Rng,
}

/// One Poisson input: a train per target neuron.
#[derive(Debug, Clone)]
struct PoissonSource {
    weight_pa: f64,
    inhibitory: bool,
    rate_per_ms: f64,
    stop_ms: f64,
    targets: Vec<PoissonTarget>,
}

/// A synaptic event from a spike-times input.
#[derive(Debug, Clone, Copy)]
struct TimedSpike {
    step: u64,
    local: u32,
    weight_pa: f64,
}

/// A change of a stimulation current.
#[derive(Debug, Clone, Copy)]
struct CurrentChange {
    step: u64,
    local: u32,
    delta_pa: f64,
}

/// The inputs into the neurons of one chunk.
#[derive(Debug, Clone, Default)]
pub(super) struct Inputs {
    poisson: Vec<PoissonSource>,
    /// Spike-time events, by step; `timed[timed_next..]` are still to come.
    timed: Vec<TimedSpike>,
    timed_next: usize,
    /// Current changes, by step; `currents[currents_next..]` are still to come.
    currents: Vec<CurrentChange>,
    currents_next: usize,
}

impl Inputs {
    /// The inputs of `spec` into the neurons `range` (global ids).
    pub(super) fn build(
        spec: &NetworkSpec,
        seed: u64,
        pop_ranges: &[Range<u32>],
        range: &Range<u32>,
    ) -> Inputs {
        let mut inputs = Inputs::default();
        for (k, input) in spec.inputs.iter().enumerate() {
            let tr = &pop_ranges[input.target];
            let locals: Vec<(u32, u32)> = input
                .neurons
                .iter()
                .filter_map(|&i| {
                    let g = tr.start + i;
                    range.contains(&g).then(|| (i, g - range.start))
                })
                .collect();
            inputs.add_input(k, &input.kind, &locals, seed, spec.dt_ms);
        }
        // Stable sorts: events of the same step keep input order, so sums are reproducible.
        inputs.timed.sort_by_key(|e| e.step);
        inputs.currents.sort_by_key(|e| e.step);
        inputs
    }

    /// Adds input `k` of kind `kind` into the neurons `locals` (index in the population,
    /// chunk-local index).
    fn add_input(&mut self, k: usize, kind: &InputKind, locals: &[(u32, u32)], seed: u64, dt: f64) {
        match kind {
            InputKind::Poisson {
                rate_hz,
                weight_pa,
                start_ms,
                stop_ms,
            } => {
                let rate_per_ms = rate_hz / 1000.0;
                if rate_per_ms <= 0.0 {
                    return;
                }
                let targets = locals
                    .iter()
                    .map(|&(i, local)| {
                        let mut rng = stream(seed, Purpose::Poisson(k as u32), u64::from(i));
                        let next_ms = start_ms + exponential_ms(&mut rng, rate_per_ms);
                        PoissonTarget {
                            local,
                            next_ms,
                            rng,
                        }
                    })
                    .collect();
                self.poisson.push(PoissonSource {
                    weight_pa: *weight_pa,
                    inhibitory: *weight_pa < 0.0,
                    rate_per_ms,
                    stop_ms: *stop_ms,
                    targets,
                });
            }
            InputKind::SpikeTimes {
                times_ms,
                weight_pa,
            } => {
                for &(_, local) in locals {
                    self.timed.extend(times_ms.iter().map(|&t| TimedSpike {
                        step: step_of(t, dt),
                        local,
                        weight_pa: *weight_pa,
                    }));
                }
            }
            InputKind::Dc {
                amplitude_pa,
                start_ms,
                stop_ms,
            } => {
                let (a, b) = (step_of(*start_ms, dt), step_of(*stop_ms, dt));
                if a < b {
                    for &(_, local) in locals {
                        self.currents.push(CurrentChange {
                            step: a,
                            local,
                            delta_pa: *amplitude_pa,
                        });
                        self.currents.push(CurrentChange {
                            step: b,
                            local,
                            delta_pa: -amplitude_pa,
                        });
                    }
                }
            }
            InputKind::StepCurrent {
                times_ms,
                amplitudes_pa,
            } => {
                for &(_, local) in locals {
                    let mut prev = 0.0;
                    for (t, a) in times_ms.iter().zip(amplitudes_pa) {
                        self.currents.push(CurrentChange {
                            step: step_of(*t, dt),
                            local,
                            delta_pa: a - prev,
                        });
                        prev = *a;
                    }
                }
            }
        }
    }

    /// True if some current input reaches the chunk.
    pub(super) fn has_currents(&self) -> bool {
        !self.currents.is_empty()
    }

    /// Adds the inputs of step `step` (of `dt_ms`): synaptic events into the step's ring
    /// slot, current changes into `i_stim`.
    pub(super) fn add(&mut self, step: u64, dt_ms: f64, rings: &mut Rings, i_stim: &mut [f64]) {
        let (slot_ex, slot_in) = rings.slot_starts(step);
        let (ring_ex, ring_in) = rings.both_mut();
        let t_end = (step + 1) as f64 * dt_ms;
        for src in &mut self.poisson {
            let (ring, slot) = if src.inhibitory {
                (&mut *ring_in, slot_in)
            } else {
                (&mut *ring_ex, slot_ex)
            };
            let end = t_end.min(src.stop_ms);
            for target in &mut src.targets {
                while target.next_ms < end {
                    ring[slot + target.local as usize] += src.weight_pa;
                    target.next_ms += exponential_ms(&mut target.rng, src.rate_per_ms);
                }
            }
        }
        while let Some(ev) = self.timed.get(self.timed_next) {
            if ev.step > step {
                break;
            }
            if ev.step == step {
                let (ring, slot) = if ev.weight_pa < 0.0 {
                    (&mut *ring_in, slot_in)
                } else {
                    (&mut *ring_ex, slot_ex)
                };
                ring[slot + ev.local as usize] += ev.weight_pa;
            }
            self.timed_next += 1;
        }
        while let Some(ev) = self.currents.get(self.currents_next) {
            if ev.step > step {
                break;
            }
            i_stim[ev.local as usize] += ev.delta_pa;
            self.currents_next += 1;
        }
    }
}

/// An exponential interval (ms) for a rate in events per ms.
fn exponential_ms(rng: &mut ChaCha8Rng, rate_per_ms: f64) -> f64 {
    let u: f64 = 1.0 - rng.random::<f64>(); // (0, 1]
    -u.ln() / rate_per_ms
}
