//! Learning: spike-timing-dependent plasticity of the chemical weights (soft-bounded or
//! pair-based), encoding tags on the junctions, and synaptic normalization.
//!
//! A projection learns at the arrival of each presynaptic spike (during delivery) and at
//! each spike of its target neurons (after the neuron update).

use super::chunk::Chunk;
use super::{ProjInfo, StepCtx};
use crate::connect::GapIndex;

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
        for csr in &mut self.csrs {
            let Some(index) = &mut csr.gap else { continue };
            let info = &ctx.run.proj_info[csr.proj];
            learn_at_post_spikes(
                ctx,
                info,
                index,
                csr.weights.per_edge_mut(),
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
    index: &mut GapIndex,
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
        if ctx.run.plasticity_on && rate != 0.0 {
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
    index: &mut GapIndex,
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
                let x_pre = index.x_pre[s];
                weights[e] = potentiate(rule, weights[e], since, x_pre, m_plast);
            }
        }
        if ctx.run.plasticity_on && m_plast > 0.0 && !index.in_total.is_empty() {
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
