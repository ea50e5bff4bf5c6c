//! The one interface through which chunks publish and read what crosses chunk borders
//! between steps: the spikes of each chunk and the gap-junction currents it sends.
//!
//! Every chunk writes its lists of step `k` into buffer `k % 2` of its own slot and reads
//! all chunks' buffers `(k - 1) % 2` in step `k`; the barrier between the steps orders the
//! two, so the locks are never contended. The mechanisms see only [`Received`] (what the
//! previous step left) and [`Exchange::publish`]: a distributed exchange (MPI) would
//! replace this module and leave them alone.

use std::sync::{RwLock, RwLockReadGuard};

use super::gain::Candidate;
use super::gap::GapEvent;
use super::read;

/// The double-buffered lists of every chunk.
pub(super) struct Exchange {
    /// Spikes (global ids, ascending) of each chunk.
    spikes: Vec<[RwLock<Vec<u32>>; 2]>,
    /// Gap currents of each chunk, one list per gap projection.
    gaps: Vec<[RwLock<Vec<Vec<GapEvent>>>; 2]>,
    /// Threshold crossings of each chunk in gated populations, in the current step (read
    /// by all chunks between the two barriers of a gated step).
    candidates: Vec<RwLock<Vec<Candidate>>>,
}

/// What a chunk reads in step `k`: the lists that every chunk published in step `k - 1`,
/// in chunk order.
pub(super) struct Received<'a> {
    spikes: Vec<RwLockReadGuard<'a, Vec<u32>>>,
    gaps: Vec<RwLockReadGuard<'a, Vec<Vec<GapEvent>>>>,
}

impl Exchange {
    /// Empty buffers for `n_chunks` chunks and `n_gap_projs` gap projections.
    pub(super) fn new(n_chunks: usize, n_gap_projs: usize) -> Exchange {
        let empty = vec![Vec::new(); n_gap_projs];
        Exchange {
            spikes: (0..n_chunks)
                .map(|_| [RwLock::new(Vec::new()), RwLock::new(Vec::new())])
                .collect(),
            gaps: (0..n_chunks)
                .map(|_| [RwLock::new(empty.clone()), RwLock::new(empty.clone())])
                .collect(),
            candidates: (0..n_chunks).map(|_| RwLock::new(Vec::new())).collect(),
        }
    }

    /// Room for what one worker receives (allocated once per run).
    pub(super) fn receiver(&self) -> Received<'_> {
        Received {
            spikes: Vec::with_capacity(self.spikes.len()),
            gaps: Vec::with_capacity(self.gaps.len()),
        }
    }

    /// Opens for reading, into `into`, what every chunk published in the step before
    /// `step` (gap currents only if `gaps`).
    pub(super) fn receive<'a>(&'a self, step: u64, gaps: bool, into: &mut Received<'a>) {
        let prev = 1 - (step % 2) as usize;
        into.spikes.clear();
        into.spikes
            .extend(self.spikes.iter().map(|b| read(&b[prev])));
        into.gaps.clear();
        if gaps {
            into.gaps.extend(self.gaps.iter().map(|b| read(&b[prev])));
        }
    }

    /// Publishes chunk `chunk`'s spikes of step `step`, and its gap currents (swapped with
    /// the buffer's old lists, which the chunk clears before it fills them again).
    pub(super) fn publish(
        &self,
        chunk: usize,
        step: u64,
        spikes: &[u32],
        gaps: Option<&mut Vec<Vec<GapEvent>>>,
    ) {
        let parity = (step % 2) as usize;
        {
            let mut out = self.spikes[chunk][parity]
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            out.clear();
            out.extend_from_slice(spikes);
        }
        if let Some(gaps) = gaps {
            let mut out = self.gaps[chunk][parity]
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            std::mem::swap(&mut *out, gaps);
        }
    }

    /// Publishes chunk `chunk`'s crossings in gated populations of the current step.
    pub(super) fn publish_candidates(&self, chunk: usize, ids: &[Candidate]) {
        let mut out = self.candidates[chunk]
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        out.clear();
        out.extend_from_slice(ids);
    }

    /// Replaces `out` with the network's crossings of the current step (published by all
    /// chunks before the barrier that precedes this call), in global id order.
    pub(super) fn network_candidates(&self, out: &mut Vec<Candidate>) {
        out.clear();
        for list in &self.candidates {
            out.extend_from_slice(&read(list));
        }
    }

    /// Appends the network's spikes of step `step` (published by every chunk, read after
    /// the barrier) to `out`, in global id order.
    pub(super) fn network_spikes(&self, step: u64, out: &mut Vec<u32>) {
        let parity = (step % 2) as usize;
        for b in &self.spikes {
            out.extend_from_slice(&read(&b[parity]));
        }
    }
}

impl Received<'_> {
    /// Lets go of the buffers (before the chunk publishes).
    pub(super) fn release(&mut self) {
        self.spikes.clear();
        self.gaps.clear();
    }

    /// The spike lists of the previous step, chunk by chunk: together the network's list
    /// in id order.
    #[inline]
    pub(super) fn spikes(&self) -> impl Iterator<Item = &[u32]> {
        self.spikes.iter().map(|l| l.as_slice())
    }

    /// True if any chunk spiked in the previous step.
    #[inline]
    pub(super) fn any_spikes(&self) -> bool {
        self.spikes.iter().any(|l| !l.is_empty())
    }

    /// The gap currents of the previous step, chunk by chunk, one list per gap projection.
    #[inline]
    pub(super) fn gaps(&self) -> impl Iterator<Item = &[Vec<GapEvent>]> {
        self.gaps.iter().map(|l| l.as_slice())
    }
}
