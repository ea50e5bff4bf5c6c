//! A chunk: the neurons of one thread, with everything that only they need.

use engram_neuron::ModelState;
use std::ops::Range;

use super::gain::{Clamp, Gate};
use super::gap::GapState;
use super::inputs::Inputs;
use super::learning::Learner;
use super::probe::ChunkProbe;
use super::ring::{Rings, page_offset};
use crate::synapses::ChunkCsr;

/// A run of neurons of one population inside a chunk.
#[derive(Debug, Clone)]
pub(super) struct Segment {
    /// Population index.
    pub(super) pop: usize,
    /// Range of chunk-local indices.
    pub(super) local: Range<usize>,
    /// Global id of the segment's first neuron.
    pub(super) global_start: u32,
    /// State of the segment's neurons, of the population's model.
    pub(super) state: ModelState,
}

/// The segment that holds chunk-local neuron `i`, and `i`'s index within it.
#[inline]
pub(super) fn locate(segments: &[Segment], i: usize) -> (&Segment, usize) {
    let seg = segments
        .iter()
        .find(|s| i < s.local.end)
        .expect("a neuron of the chunk");
    (seg, i - seg.local.start)
}

/// As [`locate`], to change the neuron's state.
#[inline]
pub(super) fn locate_mut(segments: &mut [Segment], i: usize) -> (&mut Segment, usize) {
    let seg = segments
        .iter_mut()
        .find(|s| i < s.local.end)
        .expect("a neuron of the chunk");
    let k = i - seg.local.start;
    (seg, k)
}

/// The dendritic bAP trace (mV) of chunk-local neuron `i`.
#[inline]
pub(super) fn dendritic_trace(segments: &[Segment], i: usize) -> f64 {
    let (seg, k) = locate(segments, i);
    seg.state.dendritic_trace_mv(k)
}

/// The potential (mV, relative to rest) that a gap junction sees at chunk-local neuron `i`.
#[inline]
pub(super) fn junction_potential(segments: &[Segment], i: usize) -> f64 {
    let (seg, k) = locate(segments, i);
    seg.state.junction_potential_mv(k)
}

/// The stimulation current of each neuron: current inputs, plus gap currents in the steps
/// that have any.
pub(super) struct Stimulation {
    /// Current inputs (pA).
    pub(super) i_stim: Vec<f64>,
    /// Whether any current input reaches this chunk (else `i_stim` is all zero and skipped).
    pub(super) has_stim: bool,
    /// Current inputs plus gap junctions (pA), in the steps where gap currents arrive.
    pub(super) i_total: Vec<f64>,
    /// Whether `i_total` was used in the last step.
    pub(super) total_used: bool,
}

impl Stimulation {
    /// No current for `n` neurons; `has_stim` if current inputs will come.
    pub(super) fn new(n: usize, has_stim: bool) -> Stimulation {
        Stimulation {
            i_stim: vec![0.0; n],
            has_stim,
            i_total: vec![0.0; n],
            total_used: false,
        }
    }

    /// The stimulation current of the step, or `None` when every neuron has none.
    #[inline]
    pub(super) fn for_step(&self) -> Option<&[f64]> {
        if self.total_used {
            Some(&self.i_total)
        } else if self.has_stim {
            Some(&self.i_stim)
        } else {
            None
        }
    }

    /// The stimulation current of the last step, zeros included.
    pub(super) fn last(&self) -> &[f64] {
        if self.total_used {
            &self.i_total
        } else {
            &self.i_stim
        }
    }
}

/// The neurons of one thread, with everything that only they need.
pub(super) struct Chunk {
    /// Global ids of the chunk's neurons.
    pub(super) range: Range<u32>,
    /// The chunk's neurons, population by population, with their state.
    pub(super) segments: Vec<Segment>,
    /// Synaptic input by arrival step.
    pub(super) rings: Rings,
    /// Stimulation currents.
    pub(super) stim: Stimulation,
    /// The synapses onto the chunk's neurons, one CSR per projection.
    pub(super) csrs: Vec<ChunkCsr>,
    /// For each CSR, its junction index and learning state when the projection has gap
    /// junctions or plasticity.
    pub(super) learners: Vec<Option<Learner>>,
    /// Protocol inputs into the chunk's neurons.
    pub(super) inputs: Inputs,
    /// Spikes emitted in the current step (global ids, ascending).
    pub(super) spikes: Vec<u32>,
    /// Scratch space for the network's spike list (used by worker 0).
    pub(super) gather: Vec<u32>,
    /// Scratch space for the sources (population indices) that spiked, per projection.
    pub(super) fired: Vec<u32>,
    /// Synaptic events delivered so far.
    pub(super) syn_events: u64,
    /// Gap-junction traffic of the chunk.
    pub(super) gaps: GapState,
    /// k-winners-take-all gates.
    pub(super) gates: Vec<Gate>,
    /// Clamped populations.
    pub(super) clamps: Vec<Clamp>,
    /// Scratch space for the crossings in gated populations (the chunk's, then the
    /// network's).
    pub(super) candidates: Vec<super::gain::Candidate>,
    /// State reports, one per report of the simulation (see [`super::probe`]).
    pub(super) probes: Vec<ChunkProbe>,
}

impl Chunk {
    /// Number of neurons.
    pub(super) fn len(&self) -> usize {
        (self.range.end - self.range.start) as usize
    }

    /// Allocates the ring buffers with `slots` slots, away (in the cache) from the arrays
    /// the neuron update reads at the same index.
    pub(super) fn allocate_rings(&mut self, slots: usize) {
        let taken = self
            .segments
            .iter()
            .flat_map(|s| s.state.streamed())
            .map(page_offset)
            .collect();
        self.rings = Rings::allocate(self.len(), slots, taken);
    }

    /// Heap memory held by state, buffers and synapses (bytes).
    pub(super) fn memory_bytes(&self) -> usize {
        let n = self.len();
        n * (8 * 5 + 4 + 8)
            + self.rings.memory_bytes()
            + self.csrs.iter().map(ChunkCsr::memory_bytes).sum::<usize>()
            + self
                .learners
                .iter()
                .flatten()
                .map(Learner::memory_bytes)
                .sum::<usize>()
    }
}
