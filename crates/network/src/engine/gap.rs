//! Gap junctions: currents from a dendrite's bAP trace back to the presynaptic somata.
//!
//! Every chunk sends, for each of its neurons whose bAP trace is above [`BAP_EPS_MV`], one
//! event per junction onto it to the presynaptic chunk (through the exchange), which
//! queues it for the step after the backward delay and then applies `g (b - v_rel)`
//! (clipped for rectifying junctions) with the potential at that step's start.
//!
//! Feedback synapses (the ablation [`crate::spec::JunctionKind::Feedback`]) travel the same
//! way but start from spikes, not bAP traces: at the end of a step every chunk sends, for
//! each of its neurons that fired, one current jump per synapse onto it; the presynaptic
//! chunk adds it to its excitatory ring buffer in the slot of the spike's step plus the
//! delay, exactly where a chemical synapse post -> pre would have put it.

use super::StepCtx;
use super::chunk::{Chunk, dendritic_trace, junction_potential, locate_mut};
use crate::synapses::ChunkCsr;

/// bAP traces below this (mV) are treated as zero: the neuron no longer drives its
/// junctions. Even through 100 nS of coupling, 0.01 mV is a 1 pA current (a LIF with
/// C_m = 250 pF, tau_m = 10 ms needs 375 pA to fire); the cut keeps the event-driven gap
/// pass short (a 30 mV bAP with tau_bap = 5 ms stays above it for 40 ms, not 86 ms).
pub(super) const BAP_EPS_MV: f64 = 1e-2;

/// A gap-junction current on its way from a dendrite to a presynaptic soma, or a
/// feedback synapse's current jump on its way from a spike.
#[derive(Debug, Clone, Copy)]
pub(super) struct GapEvent {
    /// Global id of the presynaptic neuron.
    pre: u32,
    /// Effective conductance `m_gap * kappa * w * c` (nS) of a junction, or current jump
    /// `m_gap * weight_pa * w * c` (pA) of a feedback synapse.
    g_ns: f64,
    /// Dendritic trace of the postsynaptic neuron when the current left (mV); 0 for a
    /// feedback synapse.
    b_mv: f64,
}

/// A gap-junction current waiting for its arrival step in the presynaptic chunk.
#[derive(Debug, Clone, Copy)]
struct PendingGap {
    local: u32,
    g_ns: f64,
    b_mv: f64,
    rectifying: bool,
}

/// A gap-coupled projection as the engine sees it.
#[derive(Debug, Clone, Copy)]
pub(super) struct GapProj {
    /// Index of the projection in the spec.
    pub(super) proj: usize,
    /// Target population (its modulation applies).
    pub(super) target_pop: usize,
    /// Coupling per weight unit (nS).
    pub(super) kappa_ns: f64,
    /// Inverse of the weight unit (1/pA).
    pub(super) inv_weight_unit: f64,
    /// Conductance factor of an untagged junction.
    pub(super) c0: f64,
    /// Whether the junctions pass current only into the presynaptic cell.
    pub(super) rectifying: bool,
    /// Whether these are feedback synapses (spike-driven current jumps into the
    /// presynaptic cell's excitatory synaptic current) instead of junctions.
    pub(super) feedback: bool,
    /// Current jump per weight unit of a feedback synapse (pA); 0 for junctions.
    pub(super) feedback_pa: f64,
    /// Backward delay in steps.
    pub(super) delay_steps: u64,
    /// `dt / tau_tag` (0 when tags do not decay).
    pub(super) tag_decay_per_step: f64,
    /// `dt / tau_g` (0 when the coupling is locked to the weight).
    pub(super) g_decay_per_step: f64,
    /// `dt / C_d` (1/nS): the dendrite's discharge through its junctions per step and nS
    /// (0 without loading).
    pub(super) drain_per_ns: f64,
}

/// The gap-junction traffic of one chunk.
#[derive(Debug, Clone, Default)]
pub(super) struct GapState {
    /// Chunk-local ids of neurons whose bAP trace is above `BAP_EPS_MV`, ascending.
    bap_active: Vec<u32>,
    /// Gap currents emitted in this step, one list per gap projection.
    pub(super) out: Vec<Vec<GapEvent>>,
    /// Gap currents waiting for their arrival step, by `step % ring_len`.
    pending: Vec<Vec<PendingGap>>,
}

impl GapState {
    /// Empty lists for `n_projs` gap projections and a delay ring of `ring_len` steps.
    pub(super) fn new(n_projs: usize, ring_len: u64) -> GapState {
        GapState {
            bap_active: Vec::new(),
            out: vec![Vec::new(); n_projs],
            pending: vec![Vec::new(); ring_len as usize],
        }
    }
}

/// The synapses of one projection onto a chunk's neurons listed by target, for gap
/// junctions (which carry current from the target's dendrite back to the source) and for
/// learning at the target's spikes; with the junctions' encoding tags and, when they track
/// the chemical weights with a time constant, their own weights.
#[derive(Debug, Clone)]
pub(super) struct JunctionIndex {
    /// `in_ptr[t]..in_ptr[t + 1]` index `in_edges` and `in_src` for chunk-local target `t`.
    pub(super) in_ptr: Vec<u32>,
    /// Edge ids (into the CSR arrays), per target in source order.
    pub(super) in_edges: Vec<u32>,
    /// Global id of each edge's source.
    pub(super) in_src: Vec<u32>,
    /// Step at which each edge (by edge id) was last tagged; `u32::MAX`: never.
    pub(super) tag_step: Vec<u32>,
    /// Weight seen by each edge's junction (units of the gap weight unit) when it tracks
    /// the chemical weight with a time constant; empty when the coupling is locked.
    w_gap: Vec<f64>,
    /// Step at which each `w_gap` was last brought up to date.
    w_gap_step: Vec<u64>,
}

impl JunctionIndex {
    /// Builds the index from a CSR over sources; `n_local` is the chunk size.
    pub(super) fn new(csr: &ChunkCsr, n_local: usize) -> JunctionIndex {
        let m = csr.targets.len();
        let mut in_ptr = vec![0u32; n_local + 1];
        for &t in &csr.targets {
            in_ptr[t as usize + 1] += 1;
        }
        for i in 0..n_local {
            in_ptr[i + 1] += in_ptr[i];
        }
        let mut next: Vec<u32> = in_ptr[..n_local].to_vec();
        let mut in_edges = vec![0u32; m];
        let mut in_src = vec![0u32; m];
        for s in 0..csr.row_ptr.len() - 1 {
            for e in csr.row_ptr[s] as usize..csr.row_ptr[s + 1] as usize {
                let t = csr.targets[e] as usize;
                let pos = next[t] as usize;
                next[t] += 1;
                in_edges[pos] = e as u32;
                in_src[pos] = csr.src_start + s as u32;
            }
        }
        JunctionIndex {
            in_ptr,
            in_edges,
            in_src,
            tag_step: vec![u32::MAX; m],
            w_gap: Vec::new(),
            w_gap_step: Vec::new(),
        }
    }

    /// Starts tracking: each junction's weight is the built weight (`weights` in pA,
    /// `inv_unit` its unit's inverse).
    pub(super) fn track_weights(&mut self, weights: &[f32], inv_unit: f64) {
        self.w_gap = weights.iter().map(|&w| f64::from(w) * inv_unit).collect();
        self.w_gap_step = vec![0; weights.len()];
    }

    /// Brings edge `e`'s junction weight up to step `now`, the chemical weight having been
    /// `w` (in units) since the last update: `w_gap = w + (w_gap - w) exp(-steps / tau)`.
    #[inline]
    pub(super) fn settle(&mut self, e: usize, now: u64, w: f64, decay_per_step: f64) -> f64 {
        let last = self.w_gap_step[e];
        if now > last {
            let k = (-((now - last) as f64) * decay_per_step).exp();
            self.w_gap[e] = w + (self.w_gap[e] - w) * k;
            self.w_gap_step[e] = now;
        }
        self.w_gap[e]
    }

    /// Heap memory in bytes (the tracked weights aside).
    pub(super) fn memory_bytes(&self) -> usize {
        (self.in_ptr.capacity()
            + self.in_edges.capacity()
            + self.in_src.capacity()
            + self.tag_step.capacity())
            * 4
    }
}

/// The encoding tag `e` at step `now` of a junction tagged at step `at`: 1 then, decaying
/// by `decay_per_step` (`dt / tau_tag`, 0 when tags do not decay) per step since.
#[inline]
pub(super) fn tag_decay(at: u32, now: u64, decay_per_step: f64) -> f64 {
    (-((now - u64::from(at)) as f64) * decay_per_step).exp()
}

impl Chunk {
    /// Collects the gap currents sent to this chunk's neurons in the previous step
    /// (projection by projection, chunk by chunk: an order that does not depend on the
    /// chunking), then sends this step's from the bAP traces of our neurons.
    pub(super) fn exchange_gap_currents(&mut self, ctx: &StepCtx<'_>) {
        if ctx.run.gap_projs.is_empty() {
            return;
        }
        self.collect_gaps(ctx);
        self.emit_gaps(ctx);
    }

    /// Adds the gap currents arriving in this step to the stimulation current, with the
    /// somatic potential at the step's start.
    pub(super) fn apply_gap_currents(&mut self, ctx: &StepCtx<'_>) {
        self.stim.total_used = false;
        if ctx.run.gap_projs.is_empty() {
            return;
        }
        let gslot = (ctx.step % ctx.run.gap_ring_len) as usize;
        let mut pending = std::mem::take(&mut self.gaps.pending[gslot]);
        if !pending.is_empty() {
            let stim = &mut self.stim;
            stim.i_total.copy_from_slice(&stim.i_stim);
            for ev in &pending {
                let v = junction_potential(&self.segments, ev.local as usize);
                let diff = ev.b_mv - v;
                let drive = if ev.rectifying { diff.max(0.0) } else { diff };
                stim.i_total[ev.local as usize] += ev.g_ns * drive;
            }
            stim.total_used = true;
        }
        pending.clear();
        self.gaps.pending[gslot] = pending;
    }

    /// Keeps the list of neurons with a bAP trace equal to those whose trace is above
    /// `BAP_EPS_MV`: drops the decayed ones and merges in this step's spikers.
    pub(super) fn update_bap_active(&mut self, ctx: &StepCtx<'_>) {
        if !ctx.run.any_junction {
            return;
        }
        let segments = &self.segments;
        let bap = |i: u32| dendritic_trace(segments, i as usize);
        let active = &mut self.gaps.bap_active;
        active.retain(|&i| bap(i) > BAP_EPS_MV);
        let before = active.len();
        for &g in &self.spikes {
            let i = g - self.range.start;
            if bap(i) > BAP_EPS_MV && active[..before].binary_search(&i).is_err() {
                active.push(i);
            }
        }
        if active.len() > before && before > 0 {
            active.sort_unstable();
        }
    }

    /// Moves the gap currents that other chunks (and this one) sent in the previous step
    /// to this chunk's neurons into the pending ring.
    fn collect_gaps(&mut self, ctx: &StepCtx<'_>) {
        if ctx.step == 0 {
            return;
        }
        let sent = ctx.step - 1;
        for (k, gp) in ctx.run.gap_projs.iter().enumerate() {
            if gp.feedback {
                self.collect_feedback(ctx, k, sent + gp.delay_steps);
                continue;
            }
            let slot = ((sent + gp.delay_steps) % ctx.run.gap_ring_len) as usize;
            for lists in ctx.received.gaps() {
                for ev in &lists[k] {
                    if self.range.contains(&ev.pre) {
                        self.gaps.pending[slot].push(PendingGap {
                            local: ev.pre - self.range.start,
                            g_ns: ev.g_ns,
                            b_mv: ev.b_mv,
                            rectifying: gp.rectifying,
                        });
                    }
                }
            }
        }
    }

    /// Adds the current jumps of feedback projection `k` that other chunks (and this one)
    /// sent in the previous step to this chunk's neurons into the excitatory ring, in the
    /// slot of step `arrival` (the spike's step plus the delay; chunks in order, each
    /// chunk's events in the order of its spikes, so the sums do not depend on chunking).
    fn collect_feedback(&mut self, ctx: &StepCtx<'_>, k: usize, arrival: u64) {
        let stride = self.rings.stride;
        let slot = (arrival % self.rings.slots) as usize * stride;
        let (ring, start) = self.rings.ring_mut(false);
        let ring = &mut ring[start + slot..start + slot + stride];
        for lists in ctx.received.gaps() {
            for ev in &lists[k] {
                if self.range.contains(&ev.pre) {
                    ring[(ev.pre - self.range.start) as usize] += ev.g_ns;
                }
            }
        }
    }

    /// Sends, for every neuron of this chunk that fired in this step, a current jump
    /// through each feedback synapse onto it (after learning: the weights and tags that
    /// this spike left). Called once the step's spikes are final.
    pub(super) fn emit_feedback(&mut self, ctx: &StepCtx<'_>) {
        if !ctx.run.any_feedback || self.spikes.is_empty() {
            return;
        }
        for (csr, learner) in self.csrs.iter().zip(&mut self.learners) {
            let (Some(learner), Some(k)) = (learner, ctx.run.proj_info[csr.proj].gap) else {
                continue;
            };
            let gp = ctx.run.gap_projs[k];
            if !gp.feedback {
                continue;
            }
            let m_gap = ctx.modulation[gp.target_pop].gap_gain();
            if m_gap == 0.0 || gp.feedback_pa == 0.0 {
                continue;
            }
            let index = &mut learner.index;
            let out = &mut self.gaps.out[k];
            for &g in &self.spikes {
                let p = (g - self.range.start) as usize;
                let (e0, e1) = (index.in_ptr[p] as usize, index.in_ptr[p + 1] as usize);
                for j in e0..e1 {
                    let e = index.in_edges[j] as usize;
                    let c = tag_factor(index, &gp, e, ctx.step);
                    if c == 0.0 {
                        continue;
                    }
                    let w = junction_weight(index, csr, &gp, e, ctx.step);
                    let jump = m_gap * gp.feedback_pa * w.max(0.0) * c;
                    if jump > 0.0 {
                        out.push(GapEvent {
                            pre: index.in_src[j],
                            g_ns: jump,
                            b_mv: 0.0,
                        });
                    }
                }
            }
        }
    }

    /// Sends, for every neuron of this chunk with a bAP trace, a current through each
    /// junction of each gap projection onto it.
    fn emit_gaps(&mut self, ctx: &StepCtx<'_>) {
        for list in &mut self.gaps.out {
            list.clear();
        }
        if self.gaps.bap_active.is_empty() {
            return;
        }
        for (csr, learner) in self.csrs.iter().zip(&mut self.learners) {
            // The in-edge index also exists for projections that are plastic only.
            let (Some(learner), Some(k)) = (learner, ctx.run.proj_info[csr.proj].gap) else {
                continue;
            };
            let index = &mut learner.index;
            let gp = ctx.run.gap_projs[k];
            let m_gap = ctx.modulation[gp.target_pop].gap_gain();
            if gp.feedback || m_gap == 0.0 || gp.kappa_ns == 0.0 {
                continue;
            }
            let out = &mut self.gaps.out[k];
            for &p in &self.gaps.bap_active {
                let (e0, e1) = (
                    index.in_ptr[p as usize] as usize,
                    index.in_ptr[p as usize + 1] as usize,
                );
                if e0 == e1 {
                    continue;
                }
                let b = dendritic_trace(&self.segments, p as usize);
                let mut g_total = 0.0;
                for j in e0..e1 {
                    let e = index.in_edges[j] as usize;
                    let c = tag_factor(index, &gp, e, ctx.step);
                    if c == 0.0 {
                        continue;
                    }
                    let w = junction_weight(index, csr, &gp, e, ctx.step);
                    let g = m_gap * gp.kappa_ns * w.max(0.0) * c;
                    if g > 0.0 {
                        g_total += g;
                        out.push(GapEvent {
                            pre: index.in_src[j],
                            g_ns: g,
                            b_mv: b,
                        });
                    }
                }
                if gp.drain_per_ns > 0.0 && g_total > 0.0 {
                    // Loading: the current that left through the junctions leaves the
                    // dendrite too (see `GapSpec::dendrite_pf`).
                    let (seg, k) = locate_mut(&mut self.segments, p as usize);
                    seg.state
                        .scale_dendritic_trace(k, (-g_total * gp.drain_per_ns).exp());
                }
            }
        }
    }
}

/// The tag factor `c = c0 + (1 - c0) e` of edge `e`'s junction at step `now`.
#[inline]
fn tag_factor(index: &JunctionIndex, gp: &GapProj, e: usize, now: u64) -> f64 {
    match index.tag_step[e] {
        u32::MAX => gp.c0,
        _ if gp.tag_decay_per_step == 0.0 => 1.0,
        at => {
            let e_tag = tag_decay(at, now, gp.tag_decay_per_step);
            gp.c0 + (1.0 - gp.c0) * e_tag
        }
    }
}

/// The weight (in weight units) that edge `e`'s junction sees at step `now`: the chemical
/// weight, or the junction's own weight when it follows the chemical one with `tau_g`.
#[inline]
fn junction_weight(
    index: &mut JunctionIndex,
    csr: &ChunkCsr,
    gp: &GapProj,
    e: usize,
    now: u64,
) -> f64 {
    let w = f64::from(csr.weights.get(e)) * gp.inv_weight_unit;
    if gp.g_decay_per_step > 0.0 {
        index.settle(e, now, w, gp.g_decay_per_step)
    } else {
        w
    }
}
