//! Learning: spike-timing-dependent plasticity of the chemical weights (soft-bounded or
//! pair-based), encoding tags on the junctions, and synaptic normalization.
//!
//! A projection learns at the arrival of each presynaptic spike (during delivery) and at
//! each spike of its target neurons (after the neuron update).

use super::chunk::Chunk;
use super::gap::JunctionIndex;
use super::{ProjInfo, StepCtx};
use crate::synapses::ChunkCsr;

/// The learning state of one projection's synapses onto a chunk: STDP traces and the
/// totals that synaptic normalization restores.
#[derive(Debug, Clone)]
pub(super) struct Plasticity {
    /// Step of the last spike of each source neuron (population index); `u64::MAX`: never.
    last_pre: Vec<u64>,
    /// Presynaptic trace of each source at its last spike (pair-based STDP).
    x_pre: Vec<f64>,
    /// Postsynaptic trace of each chunk-local neuron at `y_step` (pair-based STDP).
    y_post: Vec<f64>,
    /// Step at which `y_post` was last updated.
    y_step: Vec<u64>,
    /// Sum of each chunk-local target's incoming weights (pA) as built, which synaptic
    /// normalization restores; empty when the projection does not normalize.
    in_total: Vec<f64>,
}

impl Plasticity {
    /// No spike yet, for `n_src` sources and `n_local` targets.
    pub(super) fn new(n_src: usize, n_local: usize) -> Plasticity {
        Plasticity {
            last_pre: vec![u64::MAX; n_src],
            x_pre: vec![0.0; n_src],
            y_post: vec![0.0; n_local],
            y_step: vec![0; n_local],
            in_total: Vec::new(),
        }
    }

    /// Records each target's total incoming weight (`weights` in pA, by edge id, listed by
    /// target in `index`): the sum that synaptic normalization keeps.
    pub(super) fn record_totals(&mut self, index: &JunctionIndex, weights: &[f32]) {
        self.in_total = index
            .in_ptr
            .windows(2)
            .map(|r| {
                index.in_edges[r[0] as usize..r[1] as usize]
                    .iter()
                    .map(|&e| f64::from(weights[e as usize]))
                    .sum()
            })
            .collect();
    }

    /// Heap memory in bytes.
    fn memory_bytes(&self) -> usize {
        (self.last_pre.capacity()
            + self.x_pre.capacity()
            + self.y_post.capacity()
            + self.y_step.capacity()
            + self.in_total.capacity())
            * 8
    }
}

/// The synapses of a projection with junctions or plasticity, seen from their targets:
/// the junction index and the learning state.
#[derive(Debug, Clone)]
pub(super) struct Learner {
    /// The synapses listed by target, with tags and tracked junction weights.
    pub(super) index: JunctionIndex,
    /// STDP traces and normalization totals.
    pub(super) plasticity: Plasticity,
}

impl Learner {
    /// The learner of `csr` (onto `n_local` neurons), for a projection with junctions or
    /// plasticity.
    pub(super) fn new(csr: &ChunkCsr, n_local: usize) -> Learner {
        Learner {
            index: JunctionIndex::new(csr, n_local),
            plasticity: Plasticity::new(csr.row_ptr.len() - 1, n_local),
        }
    }

    /// Heap memory in bytes.
    pub(super) fn memory_bytes(&self) -> usize {
        self.index.memory_bytes() + self.plasticity.memory_bytes()
    }
}

/// A plasticity rule prepared for the step.
#[derive(Debug, Clone, Copy)]
pub(super) enum Rule {
    /// Soft-bounded STDP: potentiation when the source fired within the window.
    SoftBounded {
        /// Potentiation rate.
        eta_plus: f64,
        /// Depression rate.
        eta_minus: f64,
        /// Potentiation window (steps).
        window_steps: u64,
        /// Weight unit (pA).
        unit_pa: f64,
    },
    /// Pair-based STDP with exponential traces.
    PairTrace {
        /// Potentiation amplitude.
        a_plus: f64,
        /// Depression amplitude.
        a_minus: f64,
        /// `dt / tau_plus`.
        decay_plus: f64,
        /// `dt / tau_minus`.
        decay_minus: f64,
        /// Weight unit (pA).
        unit_pa: f64,
    },
}

impl Rule {
    /// The weight unit (pA).
    fn unit_pa(self) -> f64 {
        match self {
            Rule::SoftBounded { unit_pa, .. } | Rule::PairTrace { unit_pa, .. } => unit_pa,
        }
    }
}

impl Chunk {
    /// Learning at the spikes of this chunk's neurons in this step, projection by
    /// projection.
    pub(super) fn learn_at_post_spikes(&mut self, ctx: &StepCtx<'_>) {
        if !ctx.run.learning() || self.spikes.is_empty() {
            return;
        }
        let start = self.range.start;
        for (csr, learner) in self.csrs.iter_mut().zip(&mut self.learners) {
            let (Some(learner), Some(weights)) = (learner, csr.weights.per_edge_mut()) else {
                continue;
            };
            let info = &ctx.run.proj_info[csr.proj];
            learn_at_post_spikes(
                ctx,
                info,
                learner,
                weights,
                &self.spikes,
                start,
                csr.src_start,
            );
        }
    }
}

/// Learning at the arrival of a presynaptic spike of source `s` (sent in step `sent`):
/// remembers the spike, and applies the depression of pair-based STDP. `targets` and
/// `weights` are the source's edges, from edge `first_edge` on.
#[allow(clippy::too_many_arguments)]
pub(super) fn learn_at_pre_spike(
    ctx: &StepCtx<'_>,
    info: &ProjInfo,
    learner: &mut Learner,
    targets: &[u32],
    weights: &mut [f32],
    first_edge: usize,
    s: usize,
    sent: u64,
) {
    let (index, plast) = (&mut learner.index, &mut learner.plasticity);
    if let Some(Rule::PairTrace {
        a_minus,
        decay_plus,
        decay_minus,
        unit_pa,
        ..
    }) = info.rule
    {
        let x = match plast.last_pre[s] {
            u64::MAX => 0.0,
            at => plast.x_pre[s] * (-((sent - at) as f64) * decay_plus).exp(),
        };
        plast.x_pre[s] = x + 1.0;
        let rate = a_minus * ctx.modulation[info.target_pop].plasticity_rate();
        if ctx.run.plasticity_on && rate != 0.0 {
            for (k, (t, w)) in targets.iter().zip(weights.iter_mut()).enumerate() {
                if let Some((inv_unit, decay)) = info.track {
                    index.settle(first_edge + k, ctx.step, f64::from(*w) * inv_unit, decay);
                }
                let t = *t as usize;
                let y = plast.y_post[t] * (-((sent - plast.y_step[t]) as f64) * decay_minus).exp();
                let wn = (f64::from(*w) / unit_pa - rate * y).clamp(0.0, 1.0);
                *w = (wn * unit_pa) as f32;
            }
        }
    }
    plast.last_pre[s] = sent;
}

/// Learning at the spikes of this chunk's neurons in this step: STDP on their incoming
/// synapses, and encoding tags on those whose presynaptic neuron fired within the window.
fn learn_at_post_spikes(
    ctx: &StepCtx<'_>,
    info: &ProjInfo,
    learner: &mut Learner,
    weights: &mut [f32],
    spikes: &[u32],
    chunk_start: u32,
    src_start: u32,
) {
    let now = ctx.step;
    let (index, plast) = (&mut learner.index, &mut learner.plasticity);
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
            let last = plast.last_pre[s];
            let since = if last == u64::MAX {
                u64::MAX
            } else {
                now - last
            };
            if ctx.run.tagging_on {
                if let Some(win) = info.tag_window_steps {
                    if since <= win {
                        index.tag_step[e] = now as u32;
                    }
                }
            }
            if !ctx.run.plasticity_on {
                continue;
            }
            if let (Some((inv_unit, decay)), Some(_)) = (info.track, info.rule) {
                index.settle(e, now, f64::from(weights[e]) * inv_unit, decay);
            }
            if let Some(rule) = info.rule {
                let x_pre = plast.x_pre[s];
                weights[e] = potentiate(rule, weights[e], since, x_pre, m_plast);
            }
        }
        if ctx.run.plasticity_on && m_plast > 0.0 && !plast.in_total.is_empty() {
            normalize_incoming(
                weights,
                &index.in_edges[e0..e1],
                plast.in_total[p],
                info.rule,
            );
        }
        if let Some(Rule::PairTrace { decay_minus, .. }) = info.rule {
            let y = plast.y_post[p] * (-((now - plast.y_step[p]) as f64) * decay_minus).exp();
            plast.y_post[p] = y + 1.0;
            plast.y_step[p] = now;
        }
    }
}

/// The new weight (pA) of a synapse of weight `w_pa` whose target fired now, its source
/// `since` steps ago (`u64::MAX`: never) with trace `x_pre` at that spike; `m_plast` is the
/// modulation of the rate.
#[inline]
fn potentiate(rule: Rule, w_pa: f32, since: u64, x_pre: f64, m_plast: f64) -> f32 {
    match rule {
        Rule::SoftBounded {
            eta_plus,
            eta_minus,
            window_steps,
            unit_pa,
        } => {
            let w = f64::from(w_pa) / unit_pa;
            let dw = if since <= window_steps {
                eta_plus
            } else {
                -eta_minus
            } * m_plast
                * w
                * (1.0 - w);
            ((w + dw).clamp(0.0, 1.0) * unit_pa) as f32
        }
        Rule::PairTrace {
            a_plus,
            decay_plus,
            unit_pa,
            ..
        } => {
            let x = if since == u64::MAX {
                0.0
            } else {
                x_pre * (-(since as f64) * decay_plus).exp()
            };
            let w = f64::from(w_pa) / unit_pa;
            ((w + a_plus * m_plast * x).clamp(0.0, 1.0) * unit_pa) as f32
        }
    }
}

/// Synaptic normalization of one neuron: scales its incoming weights (`edges`) by one
/// factor so that they sum to `total` (pA) again, each kept at most one weight unit.
fn normalize_incoming(weights: &mut [f32], edges: &[u32], total: f64, rule: Option<Rule>) {
    let Some(unit) = rule.map(Rule::unit_pa) else {
        return;
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
