//! Gain control: k-winners-take-all gates over a sliding window, and clamps.
//!
//! A gated population lets at most `k` distinct neurons fire within any `window` steps.
//! In a step, every chunk first integrates its neurons; the crossings in gated
//! populations are then published to all chunks and the workers meet at a second barrier,
//! after which every chunk takes the same decision from the same candidate list:
//!
//! - a neuron that already fired within the window fires again freely (it is already one
//!   of the `k`);
//! - the new candidates fill the free places; when there are more of them than places,
//!   the places go to the crossings that came first within the step, judged by how far
//!   the membrane went past threshold (the model's overshoot: with a step of 0.1 ms many
//!   neurons of a synchronous volley cross in one step, and the most strongly driven
//!   crosses earliest); equal overshoots are ordered by a pseudo-random priority drawn
//!   from the step and the neuron's global id, which favours no neuron index. The order
//!   is the same whatever the number of threads;
//! - a crossing that loses is vetoed by the neuron's model: no spike, bAP, threshold rise
//!   or refractory period; the membrane stays at the reset potential (an idealised fast
//!   inhibition).
//!
//! A neuron leaves the gate's count `window` steps after its last spike, so the gate
//! follows recent activity: once a group falls silent, other neurons may fire.
//!
//! A clamp (see [`Simulation::set_clamp`](super::Simulation::set_clamp)) is a teacher's
//! imposition: only the listed neurons of a population may fire at all. It is applied in
//! each chunk before the gate sees the crossings.

use std::collections::VecDeque;
use std::ops::Range;

use super::StepCtx;
use super::chunk::{Chunk, Segment, locate_mut};

/// The k-winners-take-all gate of a population: at most `k` distinct neurons fire within
/// any `window_ms`.
///
/// In each step, a neuron that fired within the window fires again freely; new neurons
/// fill the free places, and when more cross than there are places, the places go to the
/// largest overshoots past threshold (the earliest crossings within the step), equal ones
/// in the order of a pseudo-random priority drawn from the step and the neuron's global
/// id (the same whatever the number of threads, favouring no index). A losing crossing is vetoed:
/// no spike, bAP, threshold rise or refractory period; the membrane stays at reset.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Kwta {
    /// Number of neurons that may fire within a window (at least 1).
    pub k: u32,
    /// The window (ms): a neuron counts for this long after its last spike.
    pub window_ms: f64,
}

/// No spike yet.
const NEVER: u64 = u64::MAX;

/// A gate, as every chunk sees it: each chunk keeps its own copy and takes the same
/// decisions from the same candidate lists, so all copies agree whatever the chunking.
#[derive(Debug, Clone)]
pub(super) struct Gate {
    /// Population index.
    pub(super) pop: usize,
    /// Global ids of the population.
    pub(super) range: Range<u32>,
    /// Number of neurons that may fire within a window.
    k: u32,
    /// Window length in steps (at least 1).
    window: u64,
    /// Step of each neuron's last spike ([`NEVER`]: none).
    last: Vec<u64>,
    /// The spikes that passed, as `(step, index in the population)`, oldest first.
    passed: VecDeque<(u64, u32)>,
    /// Neurons whose last spike lies within the window.
    active: u32,
    /// The new candidates of the step: `(order key, priority, global id)`.
    new: Vec<(u64, u64, u32)>,
}

impl Gate {
    /// A gate of `k` neurons per `window` steps over the neurons `range` of population
    /// `pop`.
    pub(super) fn new(pop: usize, range: Range<u32>, k: u32, window: u64) -> Gate {
        Gate {
            pop,
            last: vec![NEVER; range.len()],
            range,
            k,
            window: window.max(1),
            passed: VecDeque::new(),
            active: 0,
            new: Vec::new(),
        }
    }

    /// Changes `k` and the window; the record of recent spikes stays.
    pub(super) fn resize(&mut self, k: u32, window: u64) {
        self.k = k;
        self.window = window.max(1);
    }

    /// Forgets every spike: all neurons may compete again.
    pub(super) fn clear(&mut self) {
        self.last.fill(NEVER);
        self.passed.clear();
        self.active = 0;
    }

    /// Whether neuron `i` (index in the population) fired within the window before `step`.
    #[inline]
    fn is_active(&self, i: usize, step: u64) -> bool {
        let last = self.last[i];
        last != NEVER && step - last < self.window
    }

    /// Drops the spikes that left the window at `step` from the count.
    fn expire(&mut self, step: u64) {
        while let Some(&(at, i)) = self.passed.front() {
            if step - at < self.window {
                break;
            }
            self.passed.pop_front();
            if self.last[i as usize] == at {
                self.active -= 1;
            }
        }
    }

    /// Decides which of the step's crossings `candidates` (the network's, as `(global id,
    /// overshoot in mV)`, ascending by id) fire; afterwards [`Gate::passes`] tells.
    fn decide(&mut self, step: u64, candidates: &[Candidate]) {
        self.expire(step);
        self.new.clear();
        let start = self.range.start;
        let a = candidates.partition_point(|c| c.0 < self.range.start);
        let b = candidates.partition_point(|c| c.0 < self.range.end);
        for &(g, over) in &candidates[a..b] {
            let i = (g - start) as usize;
            if self.is_active(i, step) {
                // Fires again; the count does not change.
                self.last[i] = step;
                self.passed.push_back((step, i as u32));
            } else {
                // Larger overshoots first: the bits of a non-negative float order as the
                // float does, so their complement orders the other way.
                self.new
                    .push((!over.max(0.0).to_bits(), priority(step, g), g));
            }
        }
        let places = self.k.saturating_sub(self.active) as usize;
        if self.new.len() > places {
            self.new.sort_unstable();
            self.new.truncate(places);
        }
        for &(_, _, g) in &self.new {
            let i = g - start;
            self.last[i as usize] = step;
            self.passed.push_back((step, i));
            self.active += 1;
        }
    }

    /// Whether global id `g` of the population fired in `step` (after [`Gate::decide`]).
    #[inline]
    fn passes(&self, g: u32, step: u64) -> bool {
        self.last[(g - self.range.start) as usize] == step
    }
}

/// The pseudo-random priority of neuron `g`'s crossing in `step` (smaller first): a
/// SplitMix64 finaliser of the pair, the same for every chunking.
#[inline]
fn priority(step: u64, g: u32) -> u64 {
    let mut z = step
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(u64::from(g).wrapping_mul(0xD1B5_4A32_D192_ED03));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A crossing offered to the gates: global id and overshoot past threshold (mV).
pub(super) type Candidate = (u32, f64);

/// A clamp: only the neurons marked may fire.
#[derive(Debug, Clone)]
pub(super) struct Clamp {
    /// Population index.
    pub(super) pop: usize,
    /// Global ids of the population.
    pub(super) range: Range<u32>,
    /// Whether each neuron of the population may fire.
    pub(super) allowed: Vec<bool>,
}

impl Chunk {
    /// Whether a gate needs the network's candidates in this step.
    #[inline]
    pub(super) fn gated(&self) -> bool {
        !self.gates.is_empty()
    }

    /// Vetoes the crossings that a clamp forbids, then puts the remaining crossings in
    /// gated populations into `self.candidates` (global ids, ascending) for every chunk
    /// to see.
    pub(super) fn gate_candidates(&mut self, ctx: &StepCtx<'_>) {
        if !self.clamps.is_empty() {
            let clamps = &self.clamps;
            veto_spikes(
                &mut self.spikes,
                &mut self.segments,
                self.range.start,
                ctx,
                |g| {
                    clamps
                        .iter()
                        .find(|c| c.range.contains(&g))
                        .is_none_or(|c| c.allowed[(g - c.range.start) as usize])
                },
            );
        }
        let out = &mut self.candidates;
        out.clear();
        let start = self.range.start;
        for &g in &self.spikes {
            if self.gates.iter().any(|gate| gate.range.contains(&g)) {
                let (seg, k) = super::chunk::locate(&self.segments, (g - start) as usize);
                let over = ctx.run.models[seg.pop].crossing_overshoot_mv(&seg.state, k);
                out.push((g, over));
            }
        }
    }

    /// Takes every gate's decision from the network's crossings, which `self.candidates`
    /// holds by now (the lists of [`Chunk::gate_candidates`] of all chunks, in id order),
    /// and vetoes this chunk's losers.
    pub(super) fn apply_gates(&mut self, ctx: &StepCtx<'_>) {
        for gate in &mut self.gates {
            gate.decide(ctx.step, &self.candidates);
        }
        let gates = &self.gates;
        veto_spikes(
            &mut self.spikes,
            &mut self.segments,
            self.range.start,
            ctx,
            |g| {
                gates
                    .iter()
                    .find(|gate| gate.range.contains(&g))
                    .is_none_or(|gate| gate.passes(g, ctx.step))
            },
        );
    }
}

/// Keeps the chunk's spikes for which `keep` holds and has the model veto the others'
/// crossings (no spike, bAP, threshold rise or refractory period).
fn veto_spikes(
    spikes: &mut Vec<u32>,
    segments: &mut [Segment],
    start: u32,
    ctx: &StepCtx<'_>,
    keep: impl Fn(u32) -> bool,
) {
    spikes.retain(|&g| {
        if keep(g) {
            return true;
        }
        let (seg, k) = locate_mut(segments, (g - start) as usize);
        ctx.run.models[seg.pop].veto(&mut seg.state, k, &ctx.modulation[seg.pop]);
        false
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decide(gate: &mut Gate, step: u64, ids: &[u32]) -> Vec<u32> {
        let candidates: Vec<Candidate> = ids.iter().map(|&g| (g, 1.0)).collect();
        gate.decide(step, &candidates);
        ids.iter()
            .copied()
            .filter(|&g| gate.passes(g, step))
            .collect()
    }

    #[test]
    fn at_most_k_new_neurons_pass_within_a_window() {
        let mut gate = Gate::new(0, 100..200, 3, 10);
        // Five candidates for three places: three pass, chosen by priority, not by id.
        let first = decide(&mut gate, 0, &[100, 101, 102, 103, 104]);
        assert_eq!(first.len(), 3);
        let mut by_priority: Vec<u32> = (100..105).collect();
        by_priority.sort_by_key(|&g| (priority(0, g), g));
        let mut expected = by_priority[..3].to_vec();
        expected.sort_unstable();
        assert_eq!(first, expected);
        // Within the window, the winners fire again and nobody else does.
        let again = decide(&mut gate, 5, &[100, 101, 102, 103, 104]);
        assert_eq!(again, first);
        // Step 14: the winners last fired at step 5, so they still hold the gate.
        let others: Vec<u32> = (100..105).filter(|g| !first.contains(g)).collect();
        assert!(decide(&mut gate, 14, &others).is_empty());
        // Step 15: ten steps after their last spike, they leave the count.
        assert_eq!(decide(&mut gate, 15, &others), others);
    }

    #[test]
    fn the_count_never_exceeds_k_in_any_window() {
        // Random candidates over many steps: count the distinct neurons that fired in
        // every window of `w` steps.
        let (k, w) = (4u32, 7u64);
        let mut gate = Gate::new(0, 0..50, k, w);
        let mut fired: Vec<(u64, u32)> = Vec::new();
        for step in 0..2000u64 {
            let ids: Vec<u32> = (0..50u32)
                .filter(|&g| priority(step ^ 0xABCD, g) % 9 == 0)
                .collect();
            for g in decide(&mut gate, step, &ids) {
                fired.push((step, g));
            }
        }
        assert!(fired.len() > 500, "{} spikes", fired.len());
        for start in 0..2000u64 {
            let mut cells: Vec<u32> = fired
                .iter()
                .filter(|(s, _)| (start..start + w).contains(s))
                .map(|&(_, g)| g)
                .collect();
            cells.sort_unstable();
            cells.dedup();
            assert!(
                cells.len() <= k as usize,
                "{} cells at {start}",
                cells.len()
            );
        }
    }

    #[test]
    fn priorities_do_not_follow_the_ids() {
        let ids: Vec<u32> = (0..40).collect();
        let mut one = Gate::new(0, 0..40, 6, 20);
        one.decide(3, &ids.iter().map(|&g| (g, 0.5)).collect::<Vec<_>>());
        let winners: Vec<u32> = ids.iter().copied().filter(|&g| one.passes(g, 3)).collect();
        assert_ne!(winners, (0..6).collect::<Vec<u32>>());
    }

    #[test]
    fn the_largest_overshoots_win() {
        let mut gate = Gate::new(0, 0..10, 2, 10);
        gate.decide(0, &[(1, 0.5), (4, 3.0), (6, 0.1), (8, 2.0)]);
        let winners: Vec<u32> = (0..10).filter(|&g| gate.passes(g, 0)).collect();
        assert_eq!(winners, vec![4, 8]);
    }

    #[test]
    fn clearing_and_resizing() {
        let mut gate = Gate::new(0, 0..10, 2, 100);
        assert_eq!(decide(&mut gate, 0, &[0, 1]), vec![0, 1]);
        assert!(decide(&mut gate, 1, &[2]).is_empty());
        gate.resize(3, 100);
        assert_eq!(decide(&mut gate, 2, &[2, 3]).len(), 1);
        gate.clear();
        assert_eq!(decide(&mut gate, 3, &[4, 5, 6]).len(), 3);
    }
}
