//! Spike delivery: the previous step's spikes of the whole network, through the chunk's
//! CSR, into its ring buffers (slot `(sent + delay) mod D`).

use super::StepCtx;
use super::chunk::Chunk;
use super::exchange::Received;
use super::learning::learn_at_pre_spike;
use crate::synapses::{ChunkCsr, Delays, Weights};

impl Chunk {
    /// Delivers the spikes of the previous step: every chunk's list, in chunk order, is the
    /// network's list in id order. A learning projection also learns at each presynaptic
    /// spike as it arrives.
    pub(super) fn deliver_spikes(&mut self, ctx: &StepCtx<'_>) {
        if ctx.step == 0 || !ctx.received.any_spikes() {
            return;
        }
        let sent = ctx.step - 1;
        let n = self.len();
        for (csr, learner) in self.csrs.iter_mut().zip(&mut self.learners) {
            let info = &ctx.run.proj_info[csr.proj];
            let gain = ctx.modulation[info.target_pop].forward_gain();
            gather_fired(csr, ctx.received, &mut self.fired);
            touch_rows(csr, &self.fired);
            let stride = self.rings.stride;
            let slots = self.rings.slots;
            let (ring, start) = self.rings.ring_mut(csr.inhibitory);
            for &s in &self.fired {
                let s = s as usize;
                let (e0, e1) = (csr.row_ptr[s] as usize, csr.row_ptr[s + 1] as usize);
                self.syn_events += (e1 - e0) as u64;
                match &csr.delays {
                    Delays::Constant(dl) => {
                        let base = start + ((sent + u64::from(*dl)) % slots) as usize * stride;
                        deliver_row(&mut ring[base..base + n], csr, e0, e1, gain);
                    }
                    Delays::PerEdge(dls) => {
                        for e in e0..e1 {
                            let base =
                                start + ((sent + u64::from(dls[e])) % slots) as usize * stride;
                            ring[base + csr.targets[e] as usize] +=
                                gain * f64::from(csr.weights.get(e));
                        }
                    }
                }
                if let (Some(learner), Some(weights)) =
                    (learner.as_mut(), csr.weights.per_edge_mut())
                {
                    learn_at_pre_spike(
                        ctx,
                        info,
                        learner,
                        &csr.targets[e0..e1],
                        &mut weights[e0..e1],
                        e0,
                        s,
                        sent,
                    );
                }
            }
        }
    }
}

/// Puts into `fired` the sources of `csr` (population indices) that spiked in the
/// previous step, ascending.
#[inline]
fn gather_fired(csr: &ChunkCsr, received: &Received<'_>, fired: &mut Vec<u32>) {
    let lo = csr.src_start;
    let hi = lo + (csr.row_ptr.len() as u32 - 1);
    fired.clear();
    for list in received.spikes() {
        let a = list.partition_point(|&g| g < lo);
        let b = list.partition_point(|&g| g < hi);
        fired.extend(list[a..b].iter().map(|&g| g - lo));
    }
}

/// Adds the edges `e0..e1` of one source, all with the same delay, into `slot` (the ring
/// slot of their arrival), scaled by `gain`.
#[inline]
fn deliver_row(slot: &mut [f64], csr: &ChunkCsr, e0: usize, e1: usize, gain: f64) {
    let targets = &csr.targets[e0..e1];
    match &csr.weights {
        Weights::Constant(w) => {
            let x = gain * f64::from(*w);
            for t in targets {
                slot[*t as usize] += x;
            }
        }
        Weights::PerEdge(ws) => {
            let edges = targets.iter().zip(&ws[e0..e1]);
            if gain == 1.0 {
                for (t, w) in edges {
                    slot[*t as usize] += f64::from(*w);
                }
            } else {
                for (t, w) in edges {
                    slot[*t as usize] += gain * f64::from(*w);
                }
            }
        }
        Weights::Shared { kernel, index } => {
            for (t, k) in targets.iter().zip(&index[e0..e1]) {
                slot[*t as usize] += gain * f64::from(kernel[*k as usize]);
            }
        }
    }
}

/// Reads one word of every cache line of the synapses of the sources `fired`, and
/// throws the result away. The rows of a step's spikes lie scattered over memory far larger
/// than the caches; delivered one after the other, each row would wait for memory in turn.
/// Read here first, in a loop with no other work, the loads overlap and the rows arrive
/// in cache together (a prefetch written in safe code).
fn touch_rows(csr: &ChunkCsr, fired: &[u32]) {
    let mut sum = 0u32;
    for &s in fired {
        let (e0, e1) = (
            csr.row_ptr[s as usize] as usize,
            csr.row_ptr[s as usize + 1] as usize,
        );
        // A row need not start on a cache line: its last word may lie on one more line.
        for e in (e0..e1).step_by(16).chain((e1 > e0).then(|| e1 - 1)) {
            sum = sum.wrapping_add(csr.targets[e]);
            if let Weights::PerEdge(w) = &csr.weights {
                sum ^= w[e].to_bits();
            }
        }
    }
    std::hint::black_box(sum);
}
