//! Gain control: k-winners-take-all layers.
//!
//! Each chunk keeps its own copy of every k-WTA layer, updated from the network's spike
//! list of the previous step, so the gate closes at the same step whatever the chunking.
//! A crossing that the gate suppresses leaves nothing behind: no spike, bAP, threshold
//! rise or refractory period.

use std::ops::Range;

use super::StepCtx;
use super::chunk::{Chunk, locate_mut};

/// k-winners-take-all in one population, as every chunk sees it: each chunk keeps its own
/// copy, updated from the network's spike list of the previous step, so all copies agree
/// whatever the chunking.
#[derive(Debug, Clone)]
pub(super) struct Kwta {
    /// Population index.
    pub(super) pop: usize,
    /// Global ids of the population.
    pub(super) range: Range<u32>,
    /// Number of winners that closes the gate.
    pub(super) k: u32,
    /// Whether each neuron of the population has fired since the episode began.
    pub(super) winner: Vec<bool>,
    /// Number of winners.
    pub(super) count: u32,
    /// First step of the episode: earlier spikes do not count.
    pub(super) since_step: u64,
}

impl Kwta {
    /// A layer of `k` winners over the neurons `range` of population `pop`, whose episode
    /// starts at step `step`.
    pub(super) fn new(pop: usize, range: Range<u32>, k: u32, step: u64) -> Kwta {
        Kwta {
            pop,
            winner: vec![false; range.len()],
            range,
            k,
            count: 0,
            since_step: step,
        }
    }

    /// Starts a new episode at step `step`: no neuron has won yet.
    pub(super) fn reset(&mut self, step: u64) {
        self.winner.fill(false);
        self.count = 0;
        self.since_step = step;
    }

    /// Closes the gate with `winners` (indices within the population) as the only neurons
    /// allowed to fire.
    pub(super) fn preset(&mut self, winners: &[u32]) {
        self.winner.fill(false);
        for &i in winners {
            self.winner[i as usize] = true;
        }
        self.count = self.k.max(winners.len() as u32);
    }
}

impl Chunk {
    /// Adds the previous step's spikers of each k-WTA population to its winners.
    pub(super) fn update_winners(&mut self, ctx: &StepCtx<'_>) {
        if ctx.step == 0 {
            return;
        }
        for kw in &mut self.kwta {
            if ctx.step - 1 < kw.since_step || kw.count >= kw.k {
                continue;
            }
            for list in ctx.received.spikes() {
                let a = list.partition_point(|&g| g < kw.range.start);
                let b = list.partition_point(|&g| g < kw.range.end);
                for &g in &list[a..b] {
                    let w = &mut kw.winner[(g - kw.range.start) as usize];
                    if !*w {
                        *w = true;
                        kw.count += 1;
                    }
                }
            }
        }
    }

    /// Once a k-WTA population has its `k` winners (counted up to the previous step), the
    /// other neurons' threshold crossings are vetoed by their model: no spike, no bAP, no
    /// threshold adaptation, no refractory period; the membrane is left at the reset
    /// potential (an idealised fast inhibition).
    /// The step in which the k-th winner fires lets all its spikes through, so a layer can
    /// end with a few more than `k` winners.
    pub(super) fn suppress_losers(&mut self, ctx: &StepCtx<'_>) {
        if self.kwta.is_empty() {
            return;
        }
        let start = self.range.start;
        let segments = &mut self.segments;
        let kwta = &self.kwta;
        self.spikes.retain(|&g| {
            let Some(kw) = kwta.iter().find(|kw| kw.range.contains(&g)) else {
                return true;
            };
            if kw.count < kw.k || kw.winner[(g - kw.range.start) as usize] {
                return true;
            }
            let (seg, k) = locate_mut(segments, (g - start) as usize);
            ctx.run.models[seg.pop].veto(&mut seg.state, k, &ctx.modulation[seg.pop]);
            false
        });
    }
}
