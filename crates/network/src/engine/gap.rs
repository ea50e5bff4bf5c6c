//! Gap junctions: currents from a dendrite's bAP trace back to the presynaptic somata.
//!
//! Every chunk sends, for each of its neurons whose bAP trace is above [`BAP_EPS_MV`], one
//! event per junction onto it to the presynaptic chunk (through the exchange), which
//! queues it for the step after the backward delay and then applies `g (b - v_rel)`
//! (clipped for rectifying junctions) with the potential at that step's start.

use super::StepCtx;
use super::chunk::{Chunk, dendritic_trace, junction_potential};

/// bAP traces below this (mV) are treated as zero: the neuron no longer drives its
/// junctions. Even through 100 nS of coupling, 0.01 mV is a 1 pA current (a LIF with
/// C_m = 250 pF, tau_m = 10 ms needs 375 pA to fire); the cut keeps the event-driven gap
/// pass short (a 30 mV bAP with tau_bap = 5 ms stays above it for 40 ms, not 86 ms).
pub(super) const BAP_EPS_MV: f64 = 1e-2;

/// A gap-junction current on its way from a dendrite to a presynaptic soma.
#[derive(Debug, Clone, Copy)]
pub(super) struct GapEvent {
    /// Global id of the presynaptic neuron.
    pre: u32,
    /// Effective conductance `m_gap * kappa * w * c` (nS).
    g_ns: f64,
    /// Dendritic trace of the postsynaptic neuron when the current left (mV).
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
    /// Backward delay in steps.
    pub(super) delay_steps: u64,
    /// `dt / tau_tag` (0 when tags do not decay).
    pub(super) tag_decay_per_step: f64,
    /// `dt / tau_g` (0 when the coupling is locked to the weight).
    pub(super) g_decay_per_step: f64,
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
                let v = junction_potential(&self.segments, &ctx.run.models, ev.local as usize);
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
        if ctx.run.gap_projs.is_empty() {
            return;
        }
        let (segments, models) = (&self.segments, &ctx.run.models);
        let bap = |i: u32| dendritic_trace(segments, models, i as usize);
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

    /// Sends, for every neuron of this chunk with a bAP trace, a current through each
    /// junction of each gap projection onto it.
    fn emit_gaps(&mut self, ctx: &StepCtx<'_>) {
        for list in &mut self.gaps.out {
            list.clear();
        }
        if self.gaps.bap_active.is_empty() {
            return;
        }
        for csr in &mut self.csrs {
            // The in-edge index also exists for projections that are plastic only.
            let (Some(index), Some(k)) = (&mut csr.gap, ctx.run.proj_info[csr.proj].gap) else {
                continue;
            };
            let gp = ctx.run.gap_projs[k];
            let m_gap = ctx.modulation[gp.target_pop].gap_gain();
            if m_gap == 0.0 || gp.kappa_ns == 0.0 {
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
                let b = dendritic_trace(&self.segments, &ctx.run.models, p as usize);
                for j in e0..e1 {
                    let e = index.in_edges[j] as usize;
                    let c = match index.tag_step[e] {
                        u32::MAX => gp.c0,
                        _ if gp.tag_decay_per_step == 0.0 => 1.0,
                        at => {
                            let e_tag = tag_decay(at, ctx.step, gp.tag_decay_per_step);
                            gp.c0 + (1.0 - gp.c0) * e_tag
                        }
                    };
                    if c == 0.0 {
                        continue;
                    }
                    let mut w = f64::from(csr.weights.get(e)) * gp.inv_weight_unit;
                    if gp.g_decay_per_step > 0.0 {
                        w = index.settle(e, ctx.step, w, gp.g_decay_per_step);
                    }
                    let g = m_gap * gp.kappa_ns * w.max(0.0) * c;
                    if g > 0.0 {
                        out.push(GapEvent {
                            pre: index.in_src[j],
                            g_ns: g,
                            b_mv: b,
                        });
                    }
                }
            }
        }
    }
}
