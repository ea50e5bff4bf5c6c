//! Protocol inputs: Poisson trains, spike times, current changes and noise currents,
//! added to the ring slot and the stimulation current of the step they fall in.
//!
//! Inputs are indexed by when they act, so that a step costs only what its active inputs
//! cost, however many inputs a protocol holds: spike-time events and current changes are
//! sorted by step and read from a cursor; Poisson sources wait, sorted by start time, until
//! a step ends after their start, and are dropped after the step that reaches their stop.
//! A source that is not active cannot have a spike in the step (each train's first spike
//! is drawn after `start_ms`), so the trains, and their random numbers, are those of a
//! loop over every source.
//!
//! A Poisson train's cost does not grow with its rate: below [`DENSE_EVENTS_PER_STEP`]
//! expected events per step, each event time is drawn (exponential intervals); at or
//! above it, the number of events in each step is drawn at once from the Poisson
//! distribution of the step's mean. Both give the exact distribution of the per-step
//! counts, which is all the step-binned synaptic input sees.
//!
//! A noise current draws, at the first step of each of its intervals, one Gaussian value
//! per target from the target's own stream. A chunk that has noise keeps the sum of its
//! other current inputs (`base_pa`, exactly what `i_stim` holds without noise) apart from
//! the sum of its noise values (`noise_pa`, summed afresh in input order whenever a value
//! changes), and sets `i_stim = base + noise` for the neurons either touches: the current
//! goes back to exactly the base when the noise stops, however long it ran.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Poisson, StandardNormal};
use std::ops::Range;

use super::ring::Rings;
use crate::spec::{InputKind, InputSpec, NetworkSpec};
use engram_core::rng::{Purpose, stream};
use engram_core::time::{checked_whole_steps, step_of};

/// A Poisson train into one neuron.
#[derive(Debug, Clone)]
struct PoissonTarget {
    local: u32,
    next_ms: f64,
    rng: ChaCha8Rng,
}

/// Expected events per step from which a Poisson train draws its count per step instead
/// of its event times (so that its cost stays that of a few random numbers per step).
pub(crate) const DENSE_EVENTS_PER_STEP: f64 = 16.0;

/// One Poisson input: a train per target neuron.
#[derive(Debug, Clone)]
struct PoissonSource {
    weight_pa: f64,
    inhibitory: bool,
    rate_per_ms: f64,
    /// For a dense train (see [`DENSE_EVENTS_PER_STEP`]): the distribution of the count
    /// in a whole step.
    dense: Option<Poisson<f64>>,
    start_ms: f64,
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

/// The noise current into one neuron.
#[derive(Debug, Clone)]
struct NoiseTarget {
    local: u32,
    /// The current of the interval (pA); 0 outside the input's window.
    value_pa: f64,
    rng: ChaCha8Rng,
}

/// One noise-current input: a Gaussian value per target neuron and interval.
#[derive(Debug, Clone)]
struct NoiseSource {
    mean_pa: f64,
    std_pa: f64,
    /// Steps per interval.
    period: u64,
    /// The first step of the window, and the first step after it.
    start: u64,
    stop: u64,
    targets: Vec<NoiseTarget>,
}

/// The inputs into the neurons of one chunk.
#[derive(Debug, Clone, Default)]
pub(super) struct Inputs {
    /// Poisson sources, in input order.
    poisson: Vec<PoissonSource>,
    /// Sources not yet started, latest start first (the next to start is last).
    waiting: Vec<u32>,
    /// Sources that may spike in this step, in input order (the order of the sums).
    active: Vec<u32>,
    /// Spike-time events, by step; `timed[timed_next..]` are still to come.
    timed: Vec<TimedSpike>,
    timed_next: usize,
    /// Current changes, by step; `currents[currents_next..]` are still to come.
    currents: Vec<CurrentChange>,
    currents_next: usize,
    /// Noise-current inputs, in input order.
    noise: Vec<NoiseSource>,
    /// With noise currents (else empty), per neuron of the chunk: the sum of the current
    /// changes so far, and the sum of the noise values of the interval (pA).
    base_pa: Vec<f64>,
    noise_pa: Vec<f64>,
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
        for input in &spec.inputs {
            let tr = &pop_ranges[input.target];
            let locals: Vec<(u32, u32)> = input
                .neurons
                .iter()
                .filter_map(|&i| {
                    let g = tr.start + i;
                    range.contains(&g).then(|| (i, g - range.start))
                })
                .collect();
            inputs.add_input(input, &locals, seed, spec.dt_ms);
        }
        // Stable sorts: events of the same step keep input order, so sums are reproducible.
        let poisson = &inputs.poisson;
        inputs.waiting = (0..poisson.len() as u32).collect();
        inputs.waiting.sort_by(|&a, &b| {
            poisson[b as usize]
                .start_ms
                .total_cmp(&poisson[a as usize].start_ms)
        });
        inputs.timed.sort_by_key(|e| e.step);
        inputs.currents.sort_by_key(|e| e.step);
        if !inputs.noise.is_empty() {
            let n = range.len();
            inputs.base_pa = vec![0.0; n];
            inputs.noise_pa = vec![0.0; n];
        }
        inputs
    }

    /// Adds a Poisson input named `name`, `(rate_hz, weight_pa, start_ms, stop_ms)`, into
    /// the neurons `locals` (index in the population, chunk-local index).
    fn add_poisson(
        &mut self,
        name: &str,
        (rate_hz, weight_pa, start_ms, stop_ms): (f64, f64, f64, f64),
        locals: &[(u32, u32)],
        seed: u64,
        dt: f64,
    ) {
        let rate_per_ms = rate_hz / 1000.0;
        // A train's random numbers depend on its input and neuron only, so a source with
        // no target here can be left out.
        if rate_per_ms <= 0.0 || locals.is_empty() {
            return;
        }
        // `Poisson::new` accepts every mean the spec allows (rates are bounded).
        let dense = (rate_per_ms * dt >= DENSE_EVENTS_PER_STEP)
            .then(|| Poisson::new(rate_per_ms * dt).expect("a finite positive mean"));
        let targets = locals
            .iter()
            .map(|&(i, local)| {
                let mut rng = stream(seed, Purpose::Poisson(name), u64::from(i));
                let next_ms = if dense.is_some() {
                    start_ms
                } else {
                    start_ms + exponential_ms(&mut rng, rate_per_ms)
                };
                PoissonTarget {
                    local,
                    next_ms,
                    rng,
                }
            })
            .collect();
        self.poisson.push(PoissonSource {
            weight_pa,
            inhibitory: weight_pa < 0.0,
            rate_per_ms,
            dense,
            start_ms,
            stop_ms,
            targets,
        });
    }

    /// Adds `input` into its neurons `locals` of the chunk (index in the population,
    /// chunk-local index).
    fn add_input(&mut self, input: &InputSpec, locals: &[(u32, u32)], seed: u64, dt: f64) {
        let name = input.name.as_str();
        match &input.kind {
            InputKind::Poisson {
                rate_hz,
                weight_pa,
                start_ms,
                stop_ms,
            } => self.add_poisson(
                name,
                (*rate_hz, *weight_pa, *start_ms, *stop_ms),
                locals,
                seed,
                dt,
            ),
            InputKind::SpikeTimes {
                times_ms,
                weight_pa,
                delay_ms,
            } => {
                // The jump of a spike in step k with a delay of D steps is added in step
                // k + D - 1, at the end of which the synaptic current takes it.
                let later = whole_steps(*delay_ms, dt) - 1;
                for &(_, local) in locals {
                    self.timed.extend(times_ms.iter().map(|&t| TimedSpike {
                        step: step_of(t, dt) + later,
                        local,
                        weight_pa: *weight_pa,
                    }));
                }
            }
            InputKind::SpikeTrains {
                trains,
                weight_pa,
                delay_ms,
            } => {
                let later = whole_steps(*delay_ms, dt) - 1;
                for &(i, local) in locals {
                    // Train k goes to the k-th neuron of the input (sorted, unique).
                    let Ok(k) = input.neurons.binary_search(&i) else {
                        continue;
                    };
                    self.timed
                        .extend(trains.train(k).iter().map(|&t| TimedSpike {
                            step: step_of(t, dt) + later,
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
            InputKind::NoiseCurrent {
                mean_pa,
                std_pa,
                dt_ms: interval_ms,
                start_ms,
                stop_ms,
            } => {
                let (start, stop) = (step_of(*start_ms, dt), step_of(*stop_ms, dt));
                // A neuron's values depend on its input and index only, so a source with
                // no target here can be left out.
                if start >= stop || locals.is_empty() {
                    return;
                }
                let targets = locals
                    .iter()
                    .map(|&(i, local)| NoiseTarget {
                        local,
                        value_pa: 0.0,
                        rng: stream(seed, Purpose::Noise(name), u64::from(i)),
                    })
                    .collect();
                self.noise.push(NoiseSource {
                    mean_pa: *mean_pa,
                    std_pa: *std_pa,
                    period: whole_steps(*interval_ms, dt),
                    start,
                    stop,
                    targets,
                });
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
        !self.currents.is_empty() || !self.noise.is_empty()
    }

    /// Adds the inputs of step `step` (of `dt_ms`): synaptic events into the step's ring
    /// slot, current changes into `i_stim`.
    pub(super) fn add(&mut self, step: u64, dt_ms: f64, rings: &mut Rings, i_stim: &mut [f64]) {
        let (slot_ex, slot_in) = rings.slot_starts(step);
        let (ring_ex, ring_in) = rings.both_mut();
        let t_end = (step + 1) as f64 * dt_ms;
        self.start_poisson(t_end);
        let mut stopped = false;
        for &k in &self.active {
            let src = &mut self.poisson[k as usize];
            let (ring, slot) = if src.inhibitory {
                (&mut *ring_in, slot_in)
            } else {
                (&mut *ring_ex, slot_ex)
            };
            let end = t_end.min(src.stop_ms);
            if let Some(whole) = src.dense {
                add_counts(src, &whole, (step as f64 * dt_ms, t_end), ring, slot);
            } else {
                for target in &mut src.targets {
                    while target.next_ms < end {
                        ring[slot + target.local as usize] += src.weight_pa;
                        target.next_ms += exponential_ms(&mut target.rng, src.rate_per_ms);
                    }
                }
            }
            stopped |= src.stop_ms <= t_end;
        }
        if stopped {
            // Every train of such a source is at or past its stop: nothing more to come.
            let poisson = &self.poisson;
            self.active.retain(|&k| poisson[k as usize].stop_ms > t_end);
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
        if self.noise.is_empty() {
            while let Some(ev) = self.currents.get(self.currents_next) {
                if ev.step > step {
                    break;
                }
                i_stim[ev.local as usize] += ev.delta_pa;
                self.currents_next += 1;
            }
        } else {
            while let Some(ev) = self.currents.get(self.currents_next) {
                if ev.step > step {
                    break;
                }
                let l = ev.local as usize;
                self.base_pa[l] += ev.delta_pa;
                i_stim[l] = self.base_pa[l] + self.noise_pa[l];
                self.currents_next += 1;
            }
            self.add_noise(step, i_stim);
        }
    }

    /// Draws the noise values of the sources whose interval starts at `step` (zero for
    /// those that stop there) and, if any changed, sets `i_stim` of their targets.
    fn add_noise(&mut self, step: u64, i_stim: &mut [f64]) {
        let mut changed = false;
        for src in &mut self.noise {
            if step < src.start || step > src.stop {
                continue;
            }
            if step == src.stop {
                for t in &mut src.targets {
                    t.value_pa = 0.0;
                }
            } else if (step - src.start) % src.period == 0 {
                for t in &mut src.targets {
                    let z: f64 = if src.std_pa > 0.0 {
                        t.rng.sample(StandardNormal)
                    } else {
                        0.0
                    };
                    t.value_pa = src.mean_pa + src.std_pa * z;
                }
            } else {
                continue;
            }
            changed = true;
        }
        if !changed {
            return;
        }
        let targets = || self.noise.iter().flat_map(|src| &src.targets);
        for t in targets() {
            self.noise_pa[t.local as usize] = 0.0;
        }
        for t in targets() {
            self.noise_pa[t.local as usize] += t.value_pa;
        }
        for t in targets() {
            let l = t.local as usize;
            i_stim[l] = self.base_pa[l] + self.noise_pa[l];
        }
    }

    /// Activates the Poisson sources that start before `t_end`, the end of this step: the
    /// only ones that may have a spike in it (a train's spikes come after its start).
    #[inline]
    fn start_poisson(&mut self, t_end: f64) {
        let before = self.active.len();
        while let Some(&k) = self.waiting.last() {
            if self.poisson[k as usize].start_ms >= t_end {
                break;
            }
            self.waiting.pop();
            self.active.push(k);
        }
        if self.active.len() > before {
            self.active.sort_unstable();
        }
    }
}

/// Adds a dense train's events of the step `(t_start, t_end)` (ms): a count per target
/// drawn from the Poisson distribution of the mean over the part of the step between the
/// source's start and stop (`whole`: the distribution for a whole step).
fn add_counts(
    src: &mut PoissonSource,
    whole: &Poisson<f64>,
    (t_start, t_end): (f64, f64),
    ring: &mut [f64],
    slot: usize,
) {
    let from = t_start.max(src.start_ms);
    let to = t_end.min(src.stop_ms);
    if to <= from {
        return;
    }
    let dist = if from > t_start || to < t_end {
        match Poisson::new(src.rate_per_ms * (to - from)) {
            Ok(part) => part,
            Err(_) => return, // a sliver of a step too short for a positive mean
        }
    } else {
        *whole
    };
    for target in &mut src.targets {
        let count = dist.sample(&mut target.rng);
        ring[slot + target.local as usize] += count * src.weight_pa;
    }
}

/// A delay or interval in steps: `t_ms` (checked by the spec's validation to be a whole
/// number of steps, at least one), or one step.
fn whole_steps(t_ms: Option<f64>, dt: f64) -> u64 {
    t_ms.map_or(1, |t| checked_whole_steps(t, dt).unwrap_or(1))
}

/// An exponential interval (ms) for a rate in events per ms.
fn exponential_ms(rng: &mut ChaCha8Rng, rate_per_ms: f64) -> f64 {
    let u: f64 = 1.0 - rng.random::<f64>(); // (0, 1]
    -u.ln() / rate_per_ms
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::PopulationSpec;
    use engram_neuron::LifParams;

    /// The per-step input of `n` neurons from one Poisson input of `rate_hz` between
    /// `start_ms` and `stop_ms`, over `steps` steps of 0.1 ms: the total (in units of the
    /// weight) per step.
    fn counts(rate_hz: f64, (start_ms, stop_ms): (f64, f64), n: u32, steps: u64) -> Vec<f64> {
        let spec = NetworkSpec {
            dt_ms: 0.1,
            populations: vec![PopulationSpec::new("P", n, LifParams::default()).unwrap()],
            projections: vec![],
            inputs: vec![InputSpec {
                name: "drive".into(),
                target: 0,
                neurons: (0..n).collect(),
                kind: InputKind::Poisson {
                    rate_hz,
                    weight_pa: 1.0,
                    start_ms,
                    stop_ms,
                },
            }],
        };
        let range = 0..n;
        let mut inputs = Inputs::build(&spec, 11, std::slice::from_ref(&range), &range);
        let mut rings = Rings::allocate(n as usize, 1, vec![]);
        let mut i_stim = vec![0.0; n as usize];
        (0..steps)
            .map(|step| {
                inputs.add(step, 0.1, &mut rings, &mut i_stim);
                let (slot, _) = rings.slot_starts(step);
                let (ex, _) = rings.both_mut();
                let total = ex[slot..slot + n as usize].iter().sum();
                ex[slot..slot + n as usize].fill(0.0);
                total
            })
            .collect()
    }

    fn mean_var(x: &[f64]) -> (f64, f64) {
        let m = x.iter().sum::<f64>() / x.len() as f64;
        let v = x.iter().map(|a| (a - m) * (a - m)).sum::<f64>() / (x.len() - 1) as f64;
        (m, v)
    }

    #[test]
    fn dense_trains_have_poisson_counts_per_step() {
        // 1 MHz: 100 events per neuron and step, drawn as counts. Sum over 10 neurons:
        // Poisson with mean and variance 1000 per step.
        let c = counts(1e6, (0.0, 1e9), 10, 2000);
        let (m, v) = mean_var(&c);
        // Standard error of the mean: sqrt(1000 / 2000) = 0.71; of the variance about
        // 1000 * sqrt(2 / 2000) = 32.
        assert!((m - 1000.0).abs() < 4.0, "mean {m}");
        assert!((v - 1000.0).abs() < 160.0, "variance {v}");
        assert!(c.iter().all(|x| x.fract() == 0.0), "whole counts");
    }

    #[test]
    fn sparse_and_dense_trains_agree_at_the_switch() {
        // Just below and just above the switch to counts, the mean count per step matches
        // rate * dt either way (10 neurons, 4000 steps).
        let below = DENSE_EVENTS_PER_STEP * 0.999 / 0.1 * 1000.0;
        let above = DENSE_EVENTS_PER_STEP / 0.1 * 1000.0;
        for rate in [below, above] {
            let (m, _) = mean_var(&counts(rate, (0.0, 1e9), 10, 4000));
            let expected = rate / 1000.0 * 0.1 * 10.0;
            // sd of the mean: sqrt(160 / 4000) = 0.2.
            assert!(
                (m - expected).abs() < 1.0,
                "rate {rate}: mean {m}, expected {expected}"
            );
        }
    }

    #[test]
    fn dense_trains_respect_start_and_stop_within_a_step() {
        // Start half-way into step 10, stop half-way into step 20: half a step's mean in
        // each, none outside.
        let c = counts(1e6, (1.05, 2.05), 1000, 30);
        assert!(c[..10].iter().all(|&x| x == 0.0));
        assert!(c[21..].iter().all(|&x| x == 0.0));
        // 1000 neurons: mean 100 000 per whole step (sd 316), 50 000 per half step.
        assert!((c[10] - 50_000.0).abs() < 2_000.0, "{}", c[10]);
        assert!((c[15] - 100_000.0).abs() < 2_000.0, "{}", c[15]);
        assert!((c[20] - 50_000.0).abs() < 2_000.0, "{}", c[20]);
    }
}
