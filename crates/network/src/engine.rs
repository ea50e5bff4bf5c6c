//! The time loop: the one place in engram that runs on several threads.
//!
//! Neurons are split into contiguous chunks, one per thread. A step is one parallel
//! region in which every chunk, on its own memory only,
//! 1. delivers the spikes of the previous step (all of the network's, in id order) through
//!    its own CSR into its own per-delay ring buffers,
//! 2. adds its inputs (Poisson, spike times, currents) for this step,
//! 3. advances its neurons with the exact propagators, collecting its spikes.
//!
//! Then, on the calling thread, the chunks' spikes are concatenated (they are already in
//! id order) and handed to the [`SpikeSink`]. Nothing in a step takes a lock or allocates
//! once buffers have grown, and the result does not depend on the number of chunks (see
//! [`crate::connect`] for why the summation order is fixed).

use engram_neuron::{LifPropagators, LifState, StepInput};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use std::ops::Range;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, RwLock, RwLockReadGuard};

use crate::NetworkError;
use crate::connect::{ConnectJob, ConnectScratch};
use crate::spec::{InputKind, NetworkSpec, ValueDist};
use crate::synapses::{ChunkCsr, Delays, Weights};
use engram_core::rng::{Purpose, stream};
use engram_core::time::step_of;
use engram_core::{Modulation, SpikeSink};

/// A run of neurons of one population inside a chunk.
#[derive(Debug, Clone)]
struct Segment {
    pop: usize,
    /// Range of chunk-local indices.
    local: Range<usize>,
    /// Global id of the segment's first neuron.
    global_start: u32,
}

/// A Poisson train into one neuron.
#[derive(Debug, Clone)]
struct PoissonTarget {
    local: u32,
    next_ms: f64,
    rng: ChaCha8Rng,
}

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

/// A gap-junction current on its way from a dendrite to a presynaptic soma.
#[derive(Debug, Clone, Copy)]
pub(crate) struct GapEvent {
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
struct GapProj {
    /// Index of the projection in the spec.
    proj: usize,
    /// Target population (its modulation applies).
    target_pop: usize,
    kappa_ns: f64,
    inv_weight_unit: f64,
    c0: f64,
    rectifying: bool,
    delay_steps: u64,
    /// `dt / tau_tag` (0 when tags do not decay).
    tag_decay_per_step: f64,
    /// `dt / tau_g` (0 when the coupling is locked to the weight).
    g_decay_per_step: f64,
}

/// What the step needs to know of each projection.
#[derive(Debug, Clone, Copy)]
struct ProjInfo {
    target_pop: usize,
    /// Index into the gap projections, when the projection has gap junctions.
    gap: Option<usize>,
    /// Tag window in steps, when the projection has gap junctions.
    tag_window_steps: Option<u64>,
    /// `(1 / weight unit of the junctions, dt / tau_g)` when the junctions track the
    /// weights with a time constant: a weight change must first bring them up to date.
    track: Option<(f64, f64)>,
    /// Plasticity rule in steps and units, if any.
    rule: Option<Rule>,
}

/// A plasticity rule prepared for the step.
#[derive(Debug, Clone, Copy)]
enum Rule {
    SoftBounded {
        eta_plus: f64,
        eta_minus: f64,
        window_steps: u64,
        unit_pa: f64,
    },
    PairTrace {
        a_plus: f64,
        a_minus: f64,
        decay_plus: f64,
        decay_minus: f64,
        unit_pa: f64,
    },
}

/// k-winners-take-all in one population, as every chunk sees it: each chunk keeps its own
/// copy, updated from the network's spike list of the previous step, so all copies agree
/// whatever the chunking.
#[derive(Debug, Clone)]
struct Kwta {
    pop: usize,
    /// Global ids of the population.
    range: Range<u32>,
    k: u32,
    /// Whether each neuron of the population has fired since the episode began.
    winner: Vec<bool>,
    /// Number of winners.
    count: u32,
    /// First step of the episode: earlier spikes do not count.
    since_step: u64,
}

/// bAP traces below this (mV) are treated as zero: the neuron no longer drives its
/// junctions. Even through 100 nS of coupling, 0.01 mV is a 1 pA current (a LIF with
/// C_m = 250 pF, tau_m = 10 ms needs 375 pA to fire); the cut keeps the event-driven gap
/// pass short (a 30 mV bAP with tau_bap = 5 ms stays above it for 40 ms, not 86 ms).
const BAP_EPS_MV: f64 = 1e-2;

/// The neurons of one thread, with everything that only they need.
struct Chunk {
    range: Range<u32>,
    segments: Vec<Segment>,
    state: LifState,
    /// Ring buffers of excitatory and inhibitory input (pA): neuron `i`'s input for slot
    /// `k` is at `ring_*_start + k * ring_stride + i` (see [`RingLayout`]).
    ring_ex: Vec<f64>,
    ring_in: Vec<f64>,
    ring_ex_start: usize,
    ring_in_start: usize,
    ring_stride: usize,
    /// Stimulation current per neuron (pA).
    i_stim: Vec<f64>,
    /// Whether any current input reaches this chunk (else `i_stim` is all zero and skipped).
    has_stim: bool,
    csrs: Vec<ChunkCsr>,
    poisson: Vec<PoissonSource>,
    timed: Vec<TimedSpike>,
    timed_next: usize,
    currents: Vec<CurrentChange>,
    currents_next: usize,
    /// Spikes emitted in the current step (global ids, ascending).
    spikes: Vec<u32>,
    /// Scratch space for the network's spike list (used by worker 0).
    gather: Vec<u32>,
    /// Scratch space for the sources (population indices) that spiked, per projection.
    fired: Vec<u32>,
    /// Synaptic events delivered so far.
    syn_events: u64,
    /// Chunk-local ids of neurons whose bAP trace is above `BAP_EPS_MV`, ascending.
    bap_active: Vec<u32>,
    /// Gap currents emitted in this step, one list per gap projection.
    gap_out: Vec<Vec<GapEvent>>,
    /// Gap currents waiting for their arrival step, by `step % gap_ring_len`.
    gap_pending: Vec<Vec<PendingGap>>,
    /// Stimulation current of the step: DC inputs plus gap junctions (pA).
    i_total: Vec<f64>,
    /// Whether `i_total` was used in the last step.
    total_used: bool,
    /// k-winners-take-all populations.
    kwta: Vec<Kwta>,
}

/// Read-only context shared by all chunks during one step.
struct StepCtx<'a> {
    step: u64,
    dt_ms: f64,
    ring_len: u64,
    /// Spikes of the previous step, one list per chunk, in chunk order.
    prev_spikes: &'a [RwLockReadGuard<'a, Vec<u32>>],
    /// Gap currents emitted in the previous step, per chunk, per gap projection.
    prev_gaps: &'a [RwLockReadGuard<'a, Vec<Vec<GapEvent>>>],
    gap_projs: &'a [GapProj],
    gap_ring_len: u64,
    proj_info: &'a [ProjInfo],
    /// Plasticity or tagging may change something in this step.
    learning: bool,
    plasticity_on: bool,
    tagging_on: bool,
    props: &'a [LifPropagators],
    modulation: &'a [Modulation],
}

impl Chunk {
    fn len(&self) -> usize {
        (self.range.end - self.range.start) as usize
    }

    fn step(&mut self, ctx: &StepCtx<'_>) {
        let n = self.len();
        let d = ctx.ring_len;
        // 1. Deliver the previous step's spikes: every chunk's list, in chunk order, is
        //    the network's list in id order.
        if ctx.step > 0 && ctx.prev_spikes.iter().any(|l| !l.is_empty()) {
            let sent = ctx.step - 1;
            for csr in &mut self.csrs {
                let info = &ctx.proj_info[csr.proj];
                let gain = ctx.modulation[info.target_pop].forward_gain();
                let lo = csr.src_start;
                let hi = lo + (csr.row_ptr.len() as u32 - 1);
                let (ring, start) = if csr.inhibitory {
                    (&mut self.ring_in, self.ring_in_start)
                } else {
                    (&mut self.ring_ex, self.ring_ex_start)
                };
                let stride = self.ring_stride;
                self.fired.clear();
                for list in ctx.prev_spikes {
                    let list: &[u32] = list;
                    let a = list.partition_point(|&g| g < lo);
                    let b = list.partition_point(|&g| g < hi);
                    self.fired.extend(list[a..b].iter().map(|&g| g - lo));
                }
                touch_rows(csr, &self.fired);
                for &s in &self.fired {
                    let s = s as usize;
                    let (e0, e1) = (csr.row_ptr[s] as usize, csr.row_ptr[s + 1] as usize);
                    self.syn_events += (e1 - e0) as u64;
                    match &csr.delays {
                        Delays::Constant(dl) => {
                            let base = start + ((sent + u64::from(*dl)) % d) as usize * stride;
                            let slot = &mut ring[base..base + n];
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
                        Delays::PerEdge(dls) => {
                            for e in e0..e1 {
                                let base =
                                    start + ((sent + u64::from(dls[e])) % d) as usize * stride;
                                ring[base + csr.targets[e] as usize] +=
                                    gain * f64::from(csr.weights.get(e));
                            }
                        }
                    }
                    if let (Some(index), Some(weights)) = (&mut csr.gap, csr.weights.per_edge_mut())
                    {
                        learn_at_pre_spike(
                            ctx,
                            info,
                            index,
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
        // 2. Gap currents: collect those sent to this chunk's neurons in the previous step
        //    (projection by projection, chunk by chunk: an order that does not depend on
        //    the chunking), then send this step's from the bAP traces of our neurons.
        if !ctx.gap_projs.is_empty() {
            self.collect_gaps(ctx);
            self.emit_gaps(ctx);
        }
        let slot = (ctx.step % d) as usize * self.ring_stride;
        let (slot_ex, slot_in) = (self.ring_ex_start + slot, self.ring_in_start + slot);
        // 3. Inputs of this step.
        let t_end = (ctx.step + 1) as f64 * ctx.dt_ms;
        for src in &mut self.poisson {
            let (ring, slot) = if src.inhibitory {
                (&mut self.ring_in, slot_in)
            } else {
                (&mut self.ring_ex, slot_ex)
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
            if ev.step > ctx.step {
                break;
            }
            if ev.step == ctx.step {
                let (ring, slot) = if ev.weight_pa < 0.0 {
                    (&mut self.ring_in, slot_in)
                } else {
                    (&mut self.ring_ex, slot_ex)
                };
                ring[slot + ev.local as usize] += ev.weight_pa;
            }
            self.timed_next += 1;
        }
        while let Some(ev) = self.currents.get(self.currents_next) {
            if ev.step > ctx.step {
                break;
            }
            self.i_stim[ev.local as usize] += ev.delta_pa;
            self.currents_next += 1;
        }
        // 4. Gap currents arriving now, with the somatic potential at the step's start.
        self.total_used = false;
        if !ctx.gap_projs.is_empty() {
            let gslot = (ctx.step % ctx.gap_ring_len) as usize;
            let mut pending = std::mem::take(&mut self.gap_pending[gslot]);
            if !pending.is_empty() {
                self.i_total.copy_from_slice(&self.i_stim);
                for ev in &pending {
                    let diff = ev.b_mv - self.state.v_rel[ev.local as usize];
                    let drive = if ev.rectifying { diff.max(0.0) } else { diff };
                    self.i_total[ev.local as usize] += ev.g_ns * drive;
                }
                self.total_used = true;
            }
            pending.clear();
            self.gap_pending[gslot] = pending;
        }
        // 5. Neurons.
        self.update_winners(ctx);
        self.spikes.clear();
        let stim: Option<&[f64]> = if self.total_used {
            Some(&self.i_total)
        } else if self.has_stim {
            Some(&self.i_stim)
        } else {
            None
        };
        for seg in &self.segments {
            let r = seg.local.clone();
            let input = StepInput {
                ex: &mut self.ring_ex[slot_ex + r.start..slot_ex + r.end],
                inh: &mut self.ring_in[slot_in + r.start..slot_in + r.end],
                i_stim: stim.map(|s| &s[r.clone()]),
            };
            ctx.props[seg.pop].step(
                self.state.slices_mut(r),
                input,
                &ctx.modulation[seg.pop],
                seg.global_start,
                &mut self.spikes,
            );
        }
        if !self.kwta.is_empty() {
            self.suppress_losers(ctx);
        }
        if !ctx.gap_projs.is_empty() {
            self.update_bap_active();
        }
        if ctx.learning && !self.spikes.is_empty() {
            let start = self.range.start;
            for csr in &mut self.csrs {
                let (Some(index), Some(weights)) = (&mut csr.gap, csr.weights.per_edge_mut())
                else {
                    continue;
                };
                let info = &ctx.proj_info[csr.proj];
                learn_at_post_spikes(
                    ctx,
                    info,
                    index,
                    weights,
                    &self.spikes,
                    start,
                    csr.src_start,
                );
            }
        }
    }

    /// Adds the previous step's spikers of each k-WTA population to its winners.
    fn update_winners(&mut self, ctx: &StepCtx<'_>) {
        if ctx.step == 0 {
            return;
        }
        for kw in &mut self.kwta {
            if ctx.step - 1 < kw.since_step || kw.count >= kw.k {
                continue;
            }
            for list in ctx.prev_spikes {
                let list: &[u32] = list;
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
    /// other neurons' threshold crossings are suppressed: no spike, no bAP, no threshold
    /// adaptation, no refractory period; the membrane is left at the reset potential (an
    /// idealised fast inhibition).
    /// The step in which the k-th winner fires lets all its spikes through, so a layer can
    /// end with a few more than `k` winners.
    fn suppress_losers(&mut self, ctx: &StepCtx<'_>) {
        let start = self.range.start;
        let state = &mut self.state;
        let kwta = &self.kwta;
        self.spikes.retain(|&g| {
            let Some(kw) = kwta.iter().find(|kw| kw.range.contains(&g)) else {
                return true;
            };
            if kw.count < kw.k || kw.winner[(g - kw.range.start) as usize] {
                return true;
            }
            let i = (g - start) as usize;
            let props = &ctx.props[kw.pop];
            state.bap[i] -= props.a_bap * ctx.modulation[kw.pop].bap_gain();
            state.theta_adapt[i] -= props.theta_plus;
            state.refractory[i] = 0;
            false
        });
    }

    /// Keeps `bap_active` equal to the neurons whose trace is above `BAP_EPS_MV`: drops
    /// the decayed ones and merges in this step's spikers.
    fn update_bap_active(&mut self) {
        let bap = &self.state.bap;
        let active = &mut self.bap_active;
        active.retain(|&i| bap[i as usize] > BAP_EPS_MV);
        let before = active.len();
        for &g in &self.spikes {
            let i = g - self.range.start;
            if bap[i as usize] > BAP_EPS_MV && active[..before].binary_search(&i).is_err() {
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
        for (k, gp) in ctx.gap_projs.iter().enumerate() {
            let slot = ((sent + gp.delay_steps) % ctx.gap_ring_len) as usize;
            for lists in ctx.prev_gaps {
                for ev in &lists[k] {
                    if self.range.contains(&ev.pre) {
                        self.gap_pending[slot].push(PendingGap {
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
        for list in &mut self.gap_out {
            list.clear();
        }
        if self.bap_active.is_empty() {
            return;
        }
        for csr in &mut self.csrs {
            // The in-edge index also exists for projections that are plastic only.
            let (Some(index), Some(k)) = (&mut csr.gap, ctx.proj_info[csr.proj].gap) else {
                continue;
            };
            let gp = ctx.gap_projs[k];
            let m_gap = ctx.modulation[gp.target_pop].gap_gain();
            if m_gap == 0.0 || gp.kappa_ns == 0.0 {
                continue;
            }
            let out = &mut self.gap_out[k];
            for &p in &self.bap_active {
                let (e0, e1) = (
                    index.in_ptr[p as usize] as usize,
                    index.in_ptr[p as usize + 1] as usize,
                );
                if e0 == e1 {
                    continue;
                }
                let b = self.state.bap[p as usize];
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

    /// Allocates the ring buffers with `slots` slots, laid out by [`RingLayout`].
    fn allocate_rings(&mut self, slots: usize) {
        let n = self.len();
        let layout = RingLayout::new(n, slots);
        self.ring_ex = vec![0.0; layout.len];
        self.ring_in = vec![0.0; layout.len];
        self.ring_stride = layout.stride;
        // The arrays the neuron update reads at the same index as the ring slots.
        let mut taken = vec![
            page_offset(&self.state.v_rel),
            page_offset(&self.state.i_ex),
            page_offset(&self.state.i_in),
        ];
        self.ring_ex_start = layout.start(&self.ring_ex, &taken);
        taken.push(page_offset(&self.ring_ex[self.ring_ex_start..]));
        self.ring_in_start = layout.start(&self.ring_in, &taken);
    }

    fn memory_bytes(&self) -> usize {
        let n = self.len();
        n * (8 * 4 + 4 + 8)
            + (self.ring_ex.capacity() + self.ring_in.capacity()) * 8
            + self.csrs.iter().map(ChunkCsr::memory_bytes).sum::<usize>()
    }
}

/// The encoding tag `e` at step `now` of a junction tagged at step `at`: 1 then, decaying
/// by `decay_per_step` (`dt / tau_tag`, 0 when tags do not decay) per step since.
#[inline]
fn tag_decay(at: u32, now: u64, decay_per_step: f64) -> f64 {
    (-((now - u64::from(at)) as f64) * decay_per_step).exp()
}

/// Bytes in a page, and the period of the cache's set index.
const PAGE_BYTES: usize = 4096;

/// Offset of a slice's first element within its page.
fn page_offset(x: &[f64]) -> usize {
    x.as_ptr() as usize % PAGE_BYTES
}

/// Where the slots of a ring buffer sit in its allocation.
///
/// The neuron update streams through the membrane and current arrays and the current
/// slot of both ring buffers at the same index. Large allocations all start at the same
/// offset within a page (the allocator maps them fresh), so at every index all those
/// streams would fall into the same cache set and evict each other (the update ran up to
/// 20 % slower). So each ring starts a little into its allocation, at a page offset far
/// from the others, and the slot stride is a whole number of pages, so that every slot
/// keeps that offset. The padding changes where numbers are kept, never which.
struct RingLayout {
    /// Distance between slots, in elements (a multiple of a page).
    stride: usize,
    /// Length of the allocation: room for the padding and `slots` strides.
    len: usize,
}

impl RingLayout {
    const PAGE_ELEMS: usize = PAGE_BYTES / std::mem::size_of::<f64>();

    fn new(n: usize, slots: usize) -> RingLayout {
        let stride = n.div_ceil(Self::PAGE_ELEMS) * Self::PAGE_ELEMS;
        RingLayout {
            stride,
            len: Self::PAGE_ELEMS + slots * stride,
        }
    }

    /// The first element of slot 0 in `ring`: the one whose page offset lies farthest
    /// from the page offsets `taken` (on the circle of one page).
    fn start(&self, ring: &[f64], taken: &[usize]) -> usize {
        let base = page_offset(ring);
        let distance = |a: usize, b: usize| {
            let d = a.abs_diff(b);
            d.min(PAGE_BYTES - d)
        };
        (0..Self::PAGE_ELEMS)
            .max_by_key(|&k| {
                let off = (base + k * std::mem::size_of::<f64>()) % PAGE_BYTES;
                let nearest = taken.iter().map(|&t| distance(off, t)).min();
                // Farthest from the nearest taken offset; among equals, the smallest pad.
                (nearest.unwrap_or(0), std::cmp::Reverse(k))
            })
            .unwrap_or(0)
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

/// Learning at the arrival of a presynaptic spike of source `s` (sent in step `sent`):
/// remembers the spike, and applies the depression of pair-based STDP. `targets` and
/// `weights` are the source's edges, from edge `first_edge` on.
#[allow(clippy::too_many_arguments)]
fn learn_at_pre_spike(
    ctx: &StepCtx<'_>,
    info: &ProjInfo,
    index: &mut crate::connect::GapIndex,
    targets: &[u32],
    weights: &mut [f32],
    first_edge: usize,
    s: usize,
    sent: u64,
) {
    if let Some(Rule::PairTrace {
        a_minus,
        decay_plus,
        decay_minus,
        unit_pa,
        ..
    }) = info.rule
    {
        let x = match index.last_pre[s] {
            u64::MAX => 0.0,
            at => index.x_pre[s] * (-((sent - at) as f64) * decay_plus).exp(),
        };
        index.x_pre[s] = x + 1.0;
        let rate = a_minus * ctx.modulation[info.target_pop].plasticity_rate();
        if ctx.plasticity_on && rate != 0.0 {
            for (k, (t, w)) in targets.iter().zip(weights.iter_mut()).enumerate() {
                if let Some((inv_unit, decay)) = info.track {
                    index.settle(first_edge + k, ctx.step, f64::from(*w) * inv_unit, decay);
                }
                let t = *t as usize;
                let y = index.y_post[t] * (-((sent - index.y_step[t]) as f64) * decay_minus).exp();
                let wn = (f64::from(*w) / unit_pa - rate * y).clamp(0.0, 1.0);
                *w = (wn * unit_pa) as f32;
            }
        }
    }
    index.last_pre[s] = sent;
}

/// Learning at the spikes of this chunk's neurons in this step: STDP on their incoming
/// synapses, and encoding tags on those whose presynaptic neuron fired within the window.
fn learn_at_post_spikes(
    ctx: &StepCtx<'_>,
    info: &ProjInfo,
    index: &mut crate::connect::GapIndex,
    weights: &mut [f32],
    spikes: &[u32],
    chunk_start: u32,
    src_start: u32,
) {
    let now = ctx.step;
    let n_local = index.in_ptr.len() - 1;
    let m_plast = ctx.modulation[info.target_pop].plasticity_rate();
    for &g in spikes {
        let p = (g - chunk_start) as usize;
        if p >= n_local {
            continue;
        }
        let (e0, e1) = (index.in_ptr[p] as usize, index.in_ptr[p + 1] as usize);
        if e0 == e1 {
            continue;
        }
        for j in e0..e1 {
            let e = index.in_edges[j] as usize;
            let s = (index.in_src[j] - src_start) as usize;
            let last = index.last_pre[s];
            let since = if last == u64::MAX {
                u64::MAX
            } else {
                now - last
            };
            if ctx.tagging_on {
                if let Some(win) = info.tag_window_steps {
                    if since <= win {
                        index.tag_step[e] = now as u32;
                    }
                }
            }
            if !ctx.plasticity_on {
                continue;
            }
            if let (Some((inv_unit, decay)), Some(_)) = (info.track, info.rule) {
                index.settle(e, now, f64::from(weights[e]) * inv_unit, decay);
            }
            match info.rule {
                Some(Rule::SoftBounded {
                    eta_plus,
                    eta_minus,
                    window_steps,
                    unit_pa,
                }) => {
                    let w = f64::from(weights[e]) / unit_pa;
                    let dw = if since <= window_steps {
                        eta_plus
                    } else {
                        -eta_minus
                    } * m_plast
                        * w
                        * (1.0 - w);
                    weights[e] = ((w + dw).clamp(0.0, 1.0) * unit_pa) as f32;
                }
                Some(Rule::PairTrace {
                    a_plus,
                    decay_plus,
                    unit_pa,
                    ..
                }) => {
                    let x = if last == u64::MAX {
                        0.0
                    } else {
                        index.x_pre[s] * (-(since as f64) * decay_plus).exp()
                    };
                    let w = f64::from(weights[e]) / unit_pa;
                    weights[e] = ((w + a_plus * m_plast * x).clamp(0.0, 1.0) * unit_pa) as f32;
                }
                None => {}
            }
        }
        if ctx.plasticity_on && m_plast > 0.0 && !index.in_total.is_empty() {
            normalize_incoming(
                weights,
                &index.in_edges[e0..e1],
                index.in_total[p],
                info.rule,
            );
        }
        if let Some(Rule::PairTrace { decay_minus, .. }) = info.rule {
            let y = index.y_post[p] * (-((now - index.y_step[p]) as f64) * decay_minus).exp();
            index.y_post[p] = y + 1.0;
            index.y_step[p] = now;
        }
    }
}

/// Synaptic normalization of one neuron: scales its incoming weights (`edges`) by one
/// factor so that they sum to `total` (pA) again, each kept at most one weight unit.
fn normalize_incoming(weights: &mut [f32], edges: &[u32], total: f64, rule: Option<Rule>) {
    let unit = match rule {
        Some(Rule::SoftBounded { unit_pa, .. } | Rule::PairTrace { unit_pa, .. }) => unit_pa,
        None => return,
    };
    let sum: f64 = edges.iter().map(|&e| f64::from(weights[e as usize])).sum();
    if sum <= 0.0 {
        return;
    }
    let scale = total / sum;
    for &e in edges {
        let w = &mut weights[e as usize];
        *w = (f64::from(*w) * scale).min(unit) as f32;
    }
}

/// An exponential interval (ms) for a rate in events per ms.
fn exponential_ms(rng: &mut ChaCha8Rng, rate_per_ms: f64) -> f64 {
    let u: f64 = 1.0 - rng.random::<f64>(); // (0, 1]
    -u.ln() / rate_per_ms
}

/// A barrier for the workers of one run. Waiting workers spin briefly (a step takes
/// microseconds, so the others usually arrive within the spin), then sleep on a condition
/// variable: on a machine shared with other programs a descheduled worker must not be
/// starved by its partners spinning. The last to arrive opens the barrier with one atomic
/// increment and wakes sleepers only if there are any.
struct SpinBarrier {
    n: usize,
    count: AtomicUsize,
    generation: AtomicUsize,
    sleepers: AtomicUsize,
    lock: Mutex<()>,
    wake: std::sync::Condvar,
}

impl SpinBarrier {
    fn new(n: usize) -> Self {
        SpinBarrier {
            n,
            count: AtomicUsize::new(0),
            generation: AtomicUsize::new(0),
            sleepers: AtomicUsize::new(0),
            lock: Mutex::new(()),
            wake: std::sync::Condvar::new(),
        }
    }

    fn wait(&self) {
        if self.n <= 1 {
            return;
        }
        let generation = self.generation.load(Ordering::Acquire);
        if self.count.fetch_add(1, Ordering::AcqRel) + 1 == self.n {
            self.count.store(0, Ordering::Relaxed);
            self.generation.fetch_add(1, Ordering::AcqRel);
            if self.sleepers.load(Ordering::Acquire) > 0 {
                let _guard = lock(&self.lock);
                self.wake.notify_all();
            }
            return;
        }
        for _ in 0..4000 {
            if self.generation.load(Ordering::Acquire) != generation {
                return;
            }
            std::hint::spin_loop();
        }
        self.sleepers.fetch_add(1, Ordering::AcqRel);
        let mut guard = lock(&self.lock);
        while self.generation.load(Ordering::Acquire) == generation {
            guard = self
                .wake
                .wait_timeout(guard, std::time::Duration::from_micros(200))
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .0;
        }
        drop(guard);
        self.sleepers.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A network that runs: state, synapses and buffers, built from a [`NetworkSpec`].
///
/// A run is one parallel region: each worker owns one chunk for the whole run and the
/// workers meet at a barrier once per step. The spikes of step `k` go to buffer `k % 2` of
/// their chunk, which every worker reads in step `k + 1` while the owner writes the other
/// buffer: the barrier orders the two, so the buffers' locks are never contended.
pub struct Simulation {
    dt_ms: f64,
    step: u64,
    ring_len: u64,
    pop_ranges: Vec<Range<u32>>,
    props: Vec<LifPropagators>,
    modulation: Vec<Modulation>,
    chunks: Vec<Mutex<Chunk>>,
    spike_bufs: Vec<[RwLock<Vec<u32>>; 2]>,
    gap_bufs: Vec<[RwLock<Vec<Vec<GapEvent>>>; 2]>,
    gap_projs: Vec<GapProj>,
    gap_ring_len: u64,
    proj_info: Vec<ProjInfo>,
    plasticity_on: bool,
    tagging_on: bool,
    any_plastic: bool,
    any_gap: bool,
    ach: Option<(
        engram_cholinergic::AchKinetics,
        engram_cholinergic::Modulator,
    )>,
    pool: Option<rayon::ThreadPool>,
    spike_counts: Vec<u64>,
    n_synapses: u64,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A worker that panicked poisons its chunk; the panic itself is propagated by rayon.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn read<T>(m: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    m.read().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Simulation {
    /// Builds the network described by `spec` with random streams from `seed`, to run on
    /// `threads` threads (at least 1). The result of a run does not depend on `threads`.
    pub fn build(
        spec: &NetworkSpec,
        seed: u64,
        threads: usize,
    ) -> Result<Simulation, NetworkError> {
        spec.validate()?;
        let threads = threads.max(1);
        let mut pop_ranges = Vec::with_capacity(spec.populations.len());
        let mut start = 0u32;
        for p in &spec.populations {
            pop_ranges.push(start..start + p.n);
            start += p.n;
        }
        let n_total = start;
        let props = spec
            .populations
            .iter()
            .map(|p| {
                p.params
                    .propagators(spec.dt_ms)
                    .map_err(|e| NetworkError::Param {
                        owner: format!("populations.{}", p.name),
                        source: e,
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let chunk_ranges: Vec<Range<u32>> = (0..threads as u64)
            .map(|c| {
                let lo = (u64::from(n_total) * c / threads as u64) as u32;
                let hi = (u64::from(n_total) * (c + 1) / threads as u64) as u32;
                lo..hi
            })
            .collect();
        let pool = if threads > 1 {
            Some(
                rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .thread_name(|i| format!("engram-{i}"))
                    .build()
                    .map_err(|e| NetworkError::Threads {
                        threads,
                        message: e.to_string(),
                    })?,
            )
        } else {
            None
        };
        let build_chunk = |range: &Range<u32>| build_chunk(spec, seed, &pop_ranges, range.clone());
        let mut chunks: Vec<Chunk> = match &pool {
            Some(pool) => pool.install(|| chunk_ranges.par_iter().map(build_chunk).collect()),
            None => chunk_ranges.iter().map(build_chunk).collect(),
        };
        let max_delay = chunks
            .iter()
            .flat_map(|c| c.csrs.iter().map(ChunkCsr::max_delay))
            .max()
            .unwrap_or(1)
            .max(1);
        let ring_len = u64::from(max_delay) + 1;
        for c in &mut chunks {
            c.allocate_rings(ring_len as usize);
        }
        let gap_projs: Vec<GapProj> = spec
            .projections
            .iter()
            .enumerate()
            .filter_map(|(i, p)| {
                p.gap.map(|g| GapProj {
                    proj: i,
                    target_pop: p.target,
                    kappa_ns: g.kappa_ns,
                    inv_weight_unit: 1.0 / g.weight_unit_pa,
                    c0: g.c0,
                    rectifying: g.kind == crate::spec::JunctionKind::Rectifying,
                    delay_steps: engram_core::time::delay_steps(g.delay_ms, spec.dt_ms).into(),
                    tag_decay_per_step: if g.tau_tag_ms.is_finite() {
                        spec.dt_ms / g.tau_tag_ms
                    } else {
                        0.0
                    },
                    g_decay_per_step: if g.tau_g_ms > 0.0 {
                        spec.dt_ms / g.tau_g_ms
                    } else {
                        0.0
                    },
                })
            })
            .collect();
        let steps_of = |ms: f64| (ms / spec.dt_ms).round() as u64;
        let proj_info: Vec<ProjInfo> = spec
            .projections
            .iter()
            .enumerate()
            .map(|(i, p)| ProjInfo {
                target_pop: p.target,
                gap: gap_projs.iter().position(|g| g.proj == i),
                tag_window_steps: p.gap.map(|g| steps_of(g.tag_window_ms)),
                track: p
                    .gap
                    .filter(|g| g.tau_g_ms > 0.0)
                    .map(|g| (1.0 / g.weight_unit_pa, spec.dt_ms / g.tau_g_ms)),
                rule: p.plasticity.map(|pl| match pl.rule {
                    crate::spec::PlasticityRule::SoftBounded {
                        eta_plus,
                        eta_minus,
                        window_ms,
                    } => Rule::SoftBounded {
                        eta_plus,
                        eta_minus,
                        window_steps: steps_of(window_ms),
                        unit_pa: pl.weight_unit_pa,
                    },
                    crate::spec::PlasticityRule::PairTrace {
                        a_plus,
                        a_minus,
                        tau_plus_ms,
                        tau_minus_ms,
                    } => Rule::PairTrace {
                        a_plus,
                        a_minus,
                        decay_plus: spec.dt_ms / tau_plus_ms,
                        decay_minus: spec.dt_ms / tau_minus_ms,
                        unit_pa: pl.weight_unit_pa,
                    },
                }),
            })
            .collect();
        let gap_ring_len = gap_projs.iter().map(|g| g.delay_steps).max().unwrap_or(0) + 1;
        for c in &mut chunks {
            c.gap_out = vec![Vec::new(); gap_projs.len()];
            c.gap_pending = vec![Vec::new(); gap_ring_len as usize];
        }
        check_gap_stability(spec, &pop_ranges, &props, &gap_projs, &chunks)?;
        let gap_bufs = chunks
            .iter()
            .map(|_| {
                let empty = vec![Vec::new(); gap_projs.len()];
                [RwLock::new(empty.clone()), RwLock::new(empty)]
            })
            .collect();
        let n_synapses = chunks
            .iter()
            .flat_map(|c| c.csrs.iter())
            .map(|c| c.len() as u64)
            .sum();
        let spike_bufs = chunks
            .iter()
            .map(|_| [RwLock::new(Vec::new()), RwLock::new(Vec::new())])
            .collect();
        Ok(Simulation {
            dt_ms: spec.dt_ms,
            step: 0,
            ring_len,
            props,
            modulation: vec![Modulation::default(); spec.populations.len()],
            spike_counts: vec![0; spec.populations.len()],
            pop_ranges,
            chunks: chunks.into_iter().map(Mutex::new).collect(),
            spike_bufs,
            gap_bufs,
            gap_projs,
            gap_ring_len,
            proj_info,
            plasticity_on: false,
            tagging_on: false,
            any_plastic: spec.projections.iter().any(|p| p.plasticity.is_some()),
            any_gap: spec.projections.iter().any(|p| p.gap.is_some()),
            ach: None,
            pool,
            n_synapses,
        })
    }

    /// Advances the network by `steps` steps, handing each step's spikes to `sink`.
    ///
    /// If the sink fails, the run stops one step later and returns the error; the network is
    /// then in an unspecified state and should not be run further.
    pub fn run<S: SpikeSink + Send>(&mut self, steps: u64, sink: &mut S) -> Result<(), S::Error>
    where
        S::Error: Send,
    {
        if steps == 0 {
            return Ok(());
        }
        let n_workers = self.chunks.len();
        let barrier = SpinBarrier::new(n_workers);
        let failed_at = AtomicU64::new(u64::MAX);
        let first_step = self.step;
        let shared = Shared {
            dt_ms: self.dt_ms,
            ring_len: self.ring_len,
            props: &self.props,
            modulation: &self.modulation,
            chunks: &self.chunks,
            spike_bufs: &self.spike_bufs,
            gap_bufs: &self.gap_bufs,
            gap_projs: &self.gap_projs,
            gap_ring_len: self.gap_ring_len,
            proj_info: &self.proj_info,
            learning: (self.plasticity_on && self.any_plastic) || (self.tagging_on && self.any_gap),
            plasticity_on: self.plasticity_on,
            tagging_on: self.tagging_on,
            ach: self.ach.as_ref(),
            pop_ranges: &self.pop_ranges,
            barrier: &barrier,
            failed_at: &failed_at,
        };
        let recorder = Mutex::new(Recorder {
            sink,
            counts: &mut self.spike_counts,
            error: None,
        });
        let work = |w: usize| shared.worker(w, first_step, steps, &recorder);
        match &self.pool {
            Some(pool) => {
                pool.broadcast(|ctx| work(ctx.index()));
            }
            None => work(0),
        }
        let recorder = recorder
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(e) = recorder.error {
            // The workers stopped one step after the failing one; the state is that of
            // an unfinished run.
            self.step = first_step + steps;
            return Err(e);
        }
        self.step = first_step + steps;
        // The workers advanced copies of the ACh kinetics; advance the original the same
        // way, so that the next run continues where this one ended.
        if let Some((kinetics, _)) = &mut self.ach {
            for _ in 0..steps {
                kinetics.step();
            }
        }
        Ok(())
    }

    /// Makes population `pop` a k-winners-take-all layer (`Some(k)`), or an ordinary one
    /// (`None`). Within an episode (see [`Simulation::reset_winners`]) the first `k`
    /// neurons to fire are the winners; after the step in which the `k`-th fired, the
    /// others cannot fire until the next episode: their threshold crossings are suppressed
    /// (membrane left at reset, no spike, no bAP). Deterministic whatever the thread count.
    ///
    /// # Panics
    /// If `pop` is not a population index.
    pub fn set_kwta(&mut self, pop: usize, k: Option<u32>) {
        let range = self.pop_ranges[pop].clone();
        let step = self.step;
        for chunk in &self.chunks {
            let mut chunk = lock(chunk);
            chunk.kwta.retain(|kw| kw.pop != pop);
            if let Some(k) = k {
                chunk.kwta.push(Kwta {
                    pop,
                    range: range.clone(),
                    k,
                    winner: vec![false; range.len()],
                    count: 0,
                    since_step: step,
                });
            }
        }
    }

    /// Starts a new k-WTA episode in every k-WTA population: no neuron has won yet, and
    /// spikes before the current step do not count.
    pub fn reset_winners(&mut self) {
        let step = self.step;
        for chunk in &self.chunks {
            for kw in &mut lock(chunk).kwta {
                kw.winner.fill(false);
                kw.count = 0;
                kw.since_step = step;
            }
        }
    }

    /// Closes the k-WTA gate of population `pop` for the current episode with `winners`
    /// (indices within the population) as the only neurons allowed to fire: a clamp, as a
    /// teacher imposes on a layer. Ends with the next [`Simulation::reset_winners`].
    ///
    /// # Panics
    /// If `pop` is not a k-WTA population (see [`Simulation::set_kwta`]) or an index is
    /// out of range.
    pub fn preset_winners(&mut self, pop: usize, winners: &[u32]) {
        for chunk in &self.chunks {
            let mut chunk = lock(chunk);
            let kw = chunk
                .kwta
                .iter_mut()
                .find(|kw| kw.pop == pop)
                .expect("a k-WTA population");
            kw.winner.fill(false);
            for &i in winners {
                kw.winner[i as usize] = true;
            }
            kw.count = kw.k.max(winners.len() as u32);
        }
    }

    /// Switches plasticity on or off for the following steps (off after `build`).
    pub fn set_plasticity(&mut self, on: bool) {
        self.plasticity_on = on;
    }

    /// Switches encoding tags on or off for the following steps (off after `build`).
    pub fn set_tagging(&mut self, on: bool) {
        self.tagging_on = on;
    }

    /// Drives the modulation of every population from acetylcholine: `kinetics` gives the
    /// concentration step by step (it must start at this simulation's current step) and
    /// `effects` turns it into factors; they replace [`Simulation::set_modulation`]'s
    /// values. The factors of a step come from the concentration at the step's start.
    pub fn set_acetylcholine(
        &mut self,
        kinetics: engram_cholinergic::AchKinetics,
        effects: engram_cholinergic::Modulator,
    ) {
        self.ach = Some((kinetics, effects));
    }

    /// ACh concentration at the start of the next step, if ACh is set.
    pub fn ach_concentration(&self) -> Option<f64> {
        self.ach.as_ref().map(|(k, _)| k.concentration())
    }

    /// Sets the modulation of population `pop` for the following steps.
    pub fn set_modulation(&mut self, pop: usize, m: Modulation) {
        self.modulation[pop] = m;
    }

    /// Steps done so far.
    pub fn step_count(&self) -> u64 {
        self.step
    }

    /// Simulated time so far (ms).
    pub fn time_ms(&self) -> f64 {
        self.step as f64 * self.dt_ms
    }

    /// Time step (ms).
    pub fn dt_ms(&self) -> f64 {
        self.dt_ms
    }

    /// Global id range of each population.
    pub fn population_ranges(&self) -> &[Range<u32>] {
        &self.pop_ranges
    }

    /// Spikes emitted so far, per population.
    pub fn spike_counts(&self) -> &[u64] {
        &self.spike_counts
    }

    /// Number of chemical synapses.
    pub fn n_synapses(&self) -> u64 {
        self.n_synapses
    }

    /// Synaptic events (spike deliveries to one synapse) so far.
    pub fn syn_events(&self) -> u64 {
        self.chunks.iter().map(|c| lock(c).syn_events).sum()
    }

    /// Number of threads (and chunks).
    pub fn threads(&self) -> usize {
        self.chunks.len()
    }

    /// Heap memory held by state, buffers and synapses (bytes).
    pub fn memory_bytes(&self) -> usize {
        self.chunks.iter().map(|c| lock(c).memory_bytes()).sum()
    }

    /// Stimulation current (pA) of every neuron in the last step: current inputs plus gap
    /// junctions, in global id order.
    pub fn stimulation_currents_pa(&self) -> Vec<f64> {
        self.per_neuron(|c| if c.total_used { &c.i_total } else { &c.i_stim })
    }

    /// The chunks' slices `field(chunk)` one after the other: a per-neuron quantity in
    /// global id order.
    fn per_neuron(&self, field: impl Fn(&Chunk) -> &[f64]) -> Vec<f64> {
        let mut out = Vec::new();
        for c in &self.chunks {
            out.extend_from_slice(field(&lock(c)));
        }
        out
    }

    /// The synapses of projection `proj` as `(source index, target index, weight in pA)`,
    /// indices within their populations, sorted by source then target.
    pub fn weights(&self, proj: usize) -> Vec<(u32, u32, f32)> {
        self.per_synapse(proj, |csr, e| csr.weights.get(e))
    }

    /// The encoding tags of projection `proj`'s junctions at the current step, as
    /// `(source index, target index, e)` in the order of [`Simulation::weights`]: `e` is 1
    /// when the tag was set (decaying with `tau_tag` since), 0 for an untagged junction. The
    /// junction conducts with `c = c0 + (1 - c0) e`. `None` without gap junctions.
    pub fn tags(&self, proj: usize) -> Option<Vec<(u32, u32, f32)>> {
        let k = self.proj_info[proj].gap?;
        let decay = self.gap_projs[k].tag_decay_per_step;
        let now = self.step;
        Some(self.per_synapse(proj, |csr, e| {
            let index = csr
                .gap
                .as_ref()
                .expect("a gap projection has a junction index");
            match index.tag_step[e] {
                u32::MAX => 0.0,
                at => tag_decay(at, now, decay) as f32,
            }
        }))
    }

    /// `value(csr, edge)` for every synapse of projection `proj`, as `(source index,
    /// target index, value)` with indices within their populations, sorted by source then
    /// target (synapses between the same pair keep their generation order).
    fn per_synapse(
        &self,
        proj: usize,
        value: impl Fn(&ChunkCsr, usize) -> f32,
    ) -> Vec<(u32, u32, f32)> {
        let mut out = Vec::new();
        for c in &self.chunks {
            let c = lock(c);
            for csr in c.csrs.iter().filter(|x| x.proj == proj) {
                for s in 0..csr.row_ptr.len() - 1 {
                    for e in csr.row_ptr[s] as usize..csr.row_ptr[s + 1] as usize {
                        let g = c.range.start + csr.targets[e];
                        out.push((s as u32, g, value(csr, e)));
                    }
                }
            }
        }
        // Targets as population indices.
        for x in &mut out {
            let r = self
                .pop_ranges
                .iter()
                .find(|r| r.contains(&x.1))
                .expect("target in a population");
            x.1 -= r.start;
        }
        out.sort_by_key(|x| (x.0, x.1));
        out
    }

    /// Dendritic bAP trace (mV) of every neuron, in global id order.
    pub fn bap_traces_mv(&self) -> Vec<f64> {
        self.per_neuron(|c| &c.state.bap)
    }

    /// Adaptive threshold rise (mV above `V_th`) of every neuron, in global id order.
    pub fn threshold_adaptation_mv(&self) -> Vec<f64> {
        self.per_neuron(|c| &c.state.theta_adapt)
    }

    /// Sets membrane potentials (mV, absolute) of the neurons `first..first + v.len()` of
    /// population `pop`.
    pub fn set_membrane_potentials_mv(&mut self, pop: usize, first: u32, v: &[f64]) {
        let e_l = self.props[pop].e_l_mv;
        let start = self.pop_ranges[pop].start + first;
        for (k, &x) in v.iter().enumerate() {
            let g = start + k as u32;
            for c in &self.chunks {
                let mut c = lock(c);
                if c.range.contains(&g) {
                    let i = (g - c.range.start) as usize;
                    c.state.v_rel[i] = x - e_l;
                }
            }
        }
    }

    /// Membrane potential (mV, absolute) of every neuron, in global id order.
    pub fn membrane_potentials_mv(&self) -> Vec<f64> {
        let mut out = Vec::with_capacity(self.pop_ranges.last().map_or(0, |r| r.end as usize));
        for c in &self.chunks {
            let c = lock(c);
            for seg in &c.segments {
                let e_l = self.props[seg.pop].e_l_mv;
                out.extend(c.state.v_rel[seg.local.clone()].iter().map(|v| v + e_l));
            }
        }
        out
    }
}

/// Where the spikes of a run go; used by worker 0 only.
struct Recorder<'a, S: SpikeSink> {
    sink: &'a mut S,
    counts: &'a mut Vec<u64>,
    error: Option<S::Error>,
}

/// What the workers of one run share.
struct Shared<'a> {
    dt_ms: f64,
    ring_len: u64,
    props: &'a [LifPropagators],
    modulation: &'a [Modulation],
    chunks: &'a [Mutex<Chunk>],
    spike_bufs: &'a [[RwLock<Vec<u32>>; 2]],
    gap_bufs: &'a [[RwLock<Vec<Vec<GapEvent>>>; 2]],
    gap_projs: &'a [GapProj],
    gap_ring_len: u64,
    proj_info: &'a [ProjInfo],
    learning: bool,
    plasticity_on: bool,
    tagging_on: bool,
    ach: Option<&'a (
        engram_cholinergic::AchKinetics,
        engram_cholinergic::Modulator,
    )>,
    pop_ranges: &'a [Range<u32>],
    barrier: &'a SpinBarrier,
    failed_at: &'a AtomicU64,
}

impl Shared<'_> {
    /// The loop of worker `w`: steps its chunk, publishes its spikes, meets the others at
    /// the barrier; worker 0 also hands the step's spikes to the sink.
    fn worker<S: SpikeSink>(
        &self,
        w: usize,
        first_step: u64,
        steps: u64,
        recorder: &Mutex<Recorder<'_, S>>,
    ) {
        let mut chunk = lock(&self.chunks[w]);
        let mut recorder = if w == 0 { Some(lock(recorder)) } else { None };
        let mut prev = Vec::with_capacity(self.chunks.len());
        let mut prev_gaps = Vec::with_capacity(self.chunks.len());
        let gaps = !self.gap_projs.is_empty();
        // Each worker advances its own copy of the ACh kinetics: the same arithmetic in
        // every worker, so every worker sees the same factors.
        let mut ach = self.ach.map(|(k, m)| (k.clone(), m));
        let mut modulation: Vec<Modulation> = self.modulation.to_vec();
        for k in 0..steps {
            let step = first_step + k;
            let parity = (step % 2) as usize;
            prev.clear();
            prev.extend(self.spike_bufs.iter().map(|b| read(&b[1 - parity])));
            prev_gaps.clear();
            if gaps {
                prev_gaps.extend(self.gap_bufs.iter().map(|b| read(&b[1 - parity])));
            }
            if let Some((kin, m)) = &mut ach {
                // Factors of step n come from the concentration at its start.
                m.fill_factors(kin.concentration(), &mut modulation);
                kin.step();
            }
            let ctx = StepCtx {
                step,
                dt_ms: self.dt_ms,
                ring_len: self.ring_len,
                prev_spikes: &prev,
                prev_gaps: &prev_gaps,
                gap_projs: self.gap_projs,
                gap_ring_len: self.gap_ring_len,
                proj_info: self.proj_info,
                learning: self.learning,
                plasticity_on: self.plasticity_on,
                tagging_on: self.tagging_on,
                props: self.props,
                modulation: &modulation,
            };
            chunk.step(&ctx);
            prev.clear();
            prev_gaps.clear();
            {
                let mut out = self.spike_bufs[w][parity]
                    .write()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                out.clear();
                out.extend_from_slice(&chunk.spikes);
            }
            if gaps {
                let mut out = self.gap_bufs[w][parity]
                    .write()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                std::mem::swap(&mut *out, &mut chunk.gap_out);
            }
            self.barrier.wait();
            if self.failed_at.load(Ordering::Acquire) < step {
                break;
            }
            if let Some(rec) = recorder.as_mut() {
                if rec.error.is_none() {
                    let time_ms = (step + 1) as f64 * self.dt_ms;
                    // The chunks' lists, in chunk order, are the network's list in id
                    // order: read each once, count per population, hand it to the sink.
                    let mut all = std::mem::take(&mut chunk.gather);
                    all.clear();
                    for b in self.spike_bufs {
                        all.extend_from_slice(&read(&b[parity]));
                    }
                    let mut p = 0;
                    for &g in &all {
                        while g >= self.pop_ranges[p].end {
                            p += 1;
                        }
                        rec.counts[p] += 1;
                    }
                    let result = rec.sink.record(step, time_ms, &all);
                    chunk.gather = all;
                    if let Err(e) = result {
                        rec.error = Some(e);
                        self.failed_at.store(step, Ordering::Release);
                    }
                }
            }
        }
    }
}

/// Rejects gap coupling that would make the explicit update of the coupling unstable:
/// for every presynaptic neuron, `dt * sum g / C_m < 1`, with `g` at its largest
/// (tag `c = 1`, gain 1), with the weights as built. Learning can raise the coupling
/// later; a rectifying junction stops conducting once the presynaptic cell reaches the
/// dendritic potential, which bounds the overshoot.
fn check_gap_stability(
    spec: &NetworkSpec,
    pop_ranges: &[Range<u32>],
    props: &[LifPropagators],
    gap_projs: &[GapProj],
    chunks: &[Chunk],
) -> Result<(), NetworkError> {
    if gap_projs.is_empty() {
        return Ok(());
    }
    let n_total = pop_ranges.last().map_or(0, |r| r.end) as usize;
    let mut sum_g = vec![0.0f64; n_total];
    let mut owner: Vec<Option<usize>> = vec![None; n_total];
    for c in chunks {
        for csr in &c.csrs {
            // The in-edge index also exists for projections that are plastic only.
            let Some(index) = &csr.gap else { continue };
            let Some(gp) = gap_projs.iter().find(|g| g.proj == csr.proj) else {
                continue;
            };
            for (j, &e) in index.in_edges.iter().enumerate() {
                let w = (f64::from(csr.weights.get(e as usize)) * gp.inv_weight_unit).max(0.0);
                let pre = index.in_src[j] as usize;
                sum_g[pre] += gp.kappa_ns * w;
                owner[pre] = Some(gp.proj);
            }
        }
    }
    for (pop, range) in pop_ranges.iter().enumerate() {
        let c_m = props[pop].c_m_pf;
        for g in range.clone() {
            let x = spec.dt_ms * sum_g[g as usize] / c_m;
            if x >= 1.0 {
                let proj = &spec.projections[owner[g as usize].expect("coupled")];
                return Err(NetworkError::Invalid {
                    path: format!("projections.{}.gap.kappa_ns", proj.name),
                    message: format!(
                        "neuron {} of population {} is coupled by {:.1} nS in all: \
                         dt * sum g / C_m = {x:.3} >= 1 makes the update unstable; lower \
                         kappa_ns or dt_ms",
                        g - range.start,
                        spec.populations[pop].name,
                        sum_g[g as usize]
                    ),
                });
            }
        }
    }
    Ok(())
}

/// Builds the state, synapses and inputs of the neurons `range`.
fn build_chunk(
    spec: &NetworkSpec,
    seed: u64,
    pop_ranges: &[Range<u32>],
    range: Range<u32>,
) -> Chunk {
    let n = (range.end - range.start) as usize;
    let mut segments = Vec::new();
    let mut state = LifState::new(n);
    for (pop, pr) in pop_ranges.iter().enumerate() {
        let lo = pr.start.max(range.start);
        let hi = pr.end.min(range.end);
        if lo >= hi {
            continue;
        }
        let local = (lo - range.start) as usize..(hi - range.start) as usize;
        let p = &spec.populations[pop];
        let e_l = p.params.get().e_l_mv;
        match p.v_init_mv {
            ValueDist::Constant(v) => state.v_rel[local.clone()].fill(v - e_l),
            dist => {
                for (i, v) in state.v_rel[local.clone()].iter_mut().enumerate() {
                    let index = lo - pr.start + i as u32;
                    let mut rng =
                        stream(seed, Purpose::InitialPotential(&p.name), u64::from(index));
                    *v = dist.sample(&mut rng) - e_l;
                }
            }
        }
        segments.push(Segment {
            pop,
            local,
            global_start: lo,
        });
    }
    let mut csrs = Vec::new();
    let mut scratch = ConnectScratch::default();
    for (i, proj) in spec.projections.iter().enumerate() {
        let tr = &pop_ranges[proj.target];
        if tr.end <= range.start || tr.start >= range.end {
            continue;
        }
        let sr = &pop_ranges[proj.source];
        let job = ConnectJob {
            seed,
            proj_index: i,
            proj,
            dt_ms: spec.dt_ms,
            src_start: sr.start,
            n_src: sr.end - sr.start,
            tgt_start: tr.start,
            n_tgt: tr.end - tr.start,
            chunk: range.clone(),
        };
        let mut csr = job.build(&mut scratch);
        if proj.gap.is_some() || proj.plasticity.is_some() {
            let mut index = crate::connect::GapIndex::new(&csr, n);
            // Weights that learn, or that junctions follow, are stored per edge.
            if let Some(weights) = csr.weights.per_edge_mut() {
                if let Some(g) = spec.projections[csr.proj].gap.filter(|g| g.tau_g_ms > 0.0) {
                    index.track_weights(weights, 1.0 / g.weight_unit_pa);
                }
                if proj.plasticity.is_some_and(|pl| pl.normalize) {
                    index.record_totals(weights);
                }
            }
            csr.gap = Some(index);
        }
        csrs.push(csr);
    }
    let mut poisson = Vec::new();
    let mut timed = Vec::new();
    let mut currents = Vec::new();
    for input in &spec.inputs {
        let tr = &pop_ranges[input.target];
        let locals = input.neurons.iter().filter_map(|&i| {
            let g = tr.start + i;
            range.contains(&g).then(|| (i, g - range.start))
        });
        match &input.kind {
            InputKind::Poisson {
                rate_hz,
                weight_pa,
                start_ms,
                stop_ms,
            } => {
                let rate_per_ms = rate_hz / 1000.0;
                if rate_per_ms <= 0.0 {
                    continue;
                }
                let targets = locals
                    .map(|(i, local)| {
                        let mut rng = stream(seed, Purpose::Poisson(&input.name), u64::from(i));
                        let next_ms = start_ms + exponential_ms(&mut rng, rate_per_ms);
                        PoissonTarget {
                            local,
                            next_ms,
                            rng,
                        }
                    })
                    .collect();
                poisson.push(PoissonSource {
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
                for (_, local) in locals {
                    timed.extend(times_ms.iter().map(|&t| TimedSpike {
                        step: step_of(t, spec.dt_ms),
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
                let (a, b) = (
                    step_of(*start_ms, spec.dt_ms),
                    step_of(*stop_ms, spec.dt_ms),
                );
                if a < b {
                    for (_, local) in locals {
                        currents.push(CurrentChange {
                            step: a,
                            local,
                            delta_pa: *amplitude_pa,
                        });
                        currents.push(CurrentChange {
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
                for (_, local) in locals {
                    let mut prev = 0.0;
                    for (t, a) in times_ms.iter().zip(amplitudes_pa) {
                        currents.push(CurrentChange {
                            step: step_of(*t, spec.dt_ms),
                            local,
                            delta_pa: a - prev,
                        });
                        prev = *a;
                    }
                }
            }
        }
    }
    // Stable sorts: events of the same step keep input order, so sums are reproducible.
    timed.sort_by_key(|e| e.step);
    currents.sort_by_key(|e| e.step);
    Chunk {
        range,
        segments,
        state,
        ring_ex: Vec::new(),
        ring_in: Vec::new(),
        ring_ex_start: 0,
        ring_in_start: 0,
        ring_stride: n,
        i_stim: vec![0.0; n],
        has_stim: !currents.is_empty(),
        csrs,
        poisson,
        timed,
        timed_next: 0,
        currents,
        currents_next: 0,
        spikes: Vec::new(),
        gather: Vec::new(),
        fired: Vec::new(),
        syn_events: 0,
        bap_active: Vec::new(),
        gap_out: Vec::new(),
        gap_pending: Vec::new(),
        i_total: vec![0.0; n],
        total_used: false,
        kwta: Vec::new(),
    }
}

#[cfg(test)]
impl Simulation {
    /// Hands every chunk's synapses to `f`, for tests that store synapses by hand.
    pub(crate) fn edit_synapses(&mut self, mut f: impl FnMut(&mut ChunkCsr)) {
        for c in &mut self.chunks {
            let c = c
                .get_mut()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            c.csrs.iter_mut().for_each(&mut f);
        }
    }
}
