//! Drawing synapses from connection rules, and storing them as CSR per chunk.
//!
//! The engine splits neurons into contiguous chunks, one per worker. Each chunk stores
//! the synapses *onto its own neurons*, grouped by source neuron (CSR over sources), so a
//! worker delivers every spike of the network into its own input buffers and never writes
//! into another worker's memory. Synapses are drawn from random streams keyed by the
//! target neuron (or, for `FixedOutDegree`, by the source neuron), so the synapses a
//! neuron gets do not depend on the chunking, and neither does the order in which the
//! contributions to one neuron are summed: that is what makes runs bit-identical for any
//! thread count.

use rand::Rng;
use std::ops::Range;

use crate::rng::{Purpose, stream};
use crate::spec::{ConnRule, ProjectionSpec, ValueDist};

/// Axonal delays of one projection, in steps.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Delays {
    /// All synapses share one delay.
    Constant(u16),
    /// One delay per synapse, in CSR order.
    PerEdge(Vec<u16>),
}

/// The synapses of one projection onto the neurons of one chunk, in CSR over sources.
#[derive(Debug, Clone)]
pub(crate) struct ChunkCsr {
    /// Index of the projection in the spec.
    pub proj: usize,
    /// Global id of the first neuron of the source population.
    pub src_start: u32,
    /// `row_ptr[s]..row_ptr[s + 1]` are the synapses of source `s` (population index).
    pub row_ptr: Vec<u64>,
    /// Target of each synapse, as an index local to the chunk.
    pub targets: Vec<u32>,
    /// Weight of each synapse (pA).
    pub weights: Vec<f32>,
    /// Delay of each synapse (steps >= 1).
    pub delays: Delays,
    /// True for an inhibitory projection (weights <= 0).
    pub inhibitory: bool,
    /// In-edge index and learning state, when the projection has gap junctions or
    /// plasticity.
    pub gap: Option<GapIndex>,
}

/// The synapses of a chunk's neurons listed by target, for gap junctions (which carry
/// current from the target's dendrite back to the source).
#[derive(Debug, Clone)]
pub(crate) struct GapIndex {
    /// `in_ptr[t]..in_ptr[t + 1]` index `in_edges` and `in_src` for chunk-local target `t`.
    pub in_ptr: Vec<u32>,
    /// Edge ids (into the CSR arrays), per target in source order.
    pub in_edges: Vec<u32>,
    /// Global id of each edge's source.
    pub in_src: Vec<u32>,
    /// Step at which each edge (by edge id) was last tagged; `u32::MAX`: never.
    pub tag_step: Vec<u32>,
    /// Step of the last spike of each source neuron (population index); `u64::MAX`: never.
    pub last_pre: Vec<u64>,
    /// Presynaptic trace of each source at its last spike (pair-based STDP).
    pub x_pre: Vec<f64>,
    /// Postsynaptic trace of each chunk-local neuron at `y_step` (pair-based STDP).
    pub y_post: Vec<f64>,
    /// Step at which `y_post` was last updated.
    pub y_step: Vec<u64>,
    /// Weight seen by each edge's junction (units of the gap weight unit) when it tracks
    /// the chemical weight with a time constant; empty when the coupling is locked.
    pub w_gap: Vec<f64>,
    /// Step at which each `w_gap` was last brought up to date.
    pub w_gap_step: Vec<u64>,
}

impl GapIndex {
    /// Starts tracking: each junction's weight is the built weight (`weights` in pA,
    /// `inv_unit` its unit's inverse).
    pub fn track_weights(&mut self, weights: &[f32], inv_unit: f64) {
        self.w_gap = weights.iter().map(|&w| f64::from(w) * inv_unit).collect();
        self.w_gap_step = vec![0; weights.len()];
    }

    /// Brings edge `e`'s junction weight up to step `now`, the chemical weight having been
    /// `w` (in units) since the last update: `w_gap = w + (w_gap - w) exp(-steps / tau)`.
    #[inline]
    pub fn settle(&mut self, e: usize, now: u64, w: f64, decay_per_step: f64) -> f64 {
        let last = self.w_gap_step[e];
        if now > last {
            let k = (-((now - last) as f64) * decay_per_step).exp();
            self.w_gap[e] = w + (self.w_gap[e] - w) * k;
            self.w_gap_step[e] = now;
        }
        self.w_gap[e]
    }
}

impl GapIndex {
    /// Builds the index from a CSR over sources; `n_local` is the chunk size.
    pub fn new(csr: &ChunkCsr, n_local: usize) -> GapIndex {
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
        let n_src = csr.row_ptr.len() - 1;
        GapIndex {
            in_ptr,
            in_edges,
            in_src,
            tag_step: vec![u32::MAX; m],
            last_pre: vec![u64::MAX; n_src],
            x_pre: vec![0.0; n_src],
            y_post: vec![0.0; n_local],
            y_step: vec![0; n_local],
            w_gap: Vec::new(),
            w_gap_step: Vec::new(),
        }
    }
}

impl ChunkCsr {
    /// Number of synapses.
    pub fn len(&self) -> usize {
        self.targets.len()
    }

    /// Largest delay in steps (0 if there are no synapses).
    pub fn max_delay(&self) -> u16 {
        match &self.delays {
            Delays::Constant(d) => *d,
            Delays::PerEdge(d) => d.iter().copied().max().unwrap_or(0),
        }
    }

    /// Heap memory in bytes.
    pub fn memory_bytes(&self) -> usize {
        self.row_ptr.capacity() * 8
            + self.targets.capacity() * 4
            + self.weights.capacity() * 4
            + match &self.delays {
                Delays::Constant(_) => 0,
                Delays::PerEdge(d) => d.capacity() * 2,
            }
            + self.gap.as_ref().map_or(0, |g| {
                (g.in_ptr.capacity()
                    + g.in_edges.capacity()
                    + g.in_src.capacity()
                    + g.tag_step.capacity())
                    * 4
                    + (g.last_pre.capacity()
                        + g.x_pre.capacity()
                        + g.y_post.capacity()
                        + g.y_step.capacity())
                        * 8
            })
    }
}

/// Delay in steps for a delay in ms: rounded, at least one step.
pub(crate) fn delay_steps(delay_ms: f64, dt_ms: f64) -> u16 {
    ((delay_ms / dt_ms).round().max(1.0)).min(f64::from(u16::MAX)) as u16
}

/// Everything needed to build one projection's synapses for one chunk.
pub(crate) struct ConnectJob<'a> {
    pub seed: u64,
    pub proj_index: usize,
    pub proj: &'a ProjectionSpec,
    pub dt_ms: f64,
    /// Global id of the first neuron of the source population, and its size.
    pub src_start: u32,
    pub n_src: u32,
    /// Global id of the first neuron of the target population, and its size.
    pub tgt_start: u32,
    pub n_tgt: u32,
    /// The chunk's global id range.
    pub chunk: Range<u32>,
}

/// Edges in generation order, before grouping by source.
struct EdgeList {
    src: Vec<u32>,
    tgt_local: Vec<u32>,
    weight: Vec<f32>,
    delay: Vec<u16>,
}

impl ConnectJob<'_> {
    fn same_population(&self) -> bool {
        self.proj.source == self.proj.target
    }

    /// Targets (population indices) in this chunk.
    fn local_targets(&self) -> Range<u32> {
        let lo = self.chunk.start.max(self.tgt_start);
        let hi = self.chunk.end.min(self.tgt_start + self.n_tgt);
        if lo >= hi {
            0..0
        } else {
            (lo - self.tgt_start)..(hi - self.tgt_start)
        }
    }

    /// Draws the synapses onto this chunk's neurons and returns them as CSR.
    pub fn build(&self) -> ChunkCsr {
        let pid = self.proj_index as u32;
        let constant_delay = match self.proj.delay_ms {
            ValueDist::Constant(d) => Some(delay_steps(d, self.dt_ms)),
            _ => None,
        };
        let mut edges = EdgeList {
            src: Vec::new(),
            tgt_local: Vec::new(),
            weight: Vec::new(),
            delay: Vec::new(),
        };
        let targets = self.local_targets();
        // Local index of target t (population index) within the chunk.
        let local = |t: u32| -> u32 { t + self.tgt_start - self.chunk.start };
        let push_values = |edges: &mut EdgeList,
                           wrng: &mut rand_chacha::ChaCha8Rng,
                           drng: &mut rand_chacha::ChaCha8Rng| {
            edges.weight.push(self.proj.weight_pa.sample(wrng) as f32);
            if constant_delay.is_none() {
                edges
                    .delay
                    .push(delay_steps(self.proj.delay_ms.sample(drng), self.dt_ms));
            }
        };
        match self.proj.rule {
            ConnRule::FixedOutDegree {
                k,
                allow_autapses,
                allow_multapses,
            } => {
                // Keyed by source: every chunk replays every source's draws and keeps the
                // targets that fall inside it.
                let skip_self = self.same_population() && !allow_autapses;
                let avail = if skip_self {
                    self.n_tgt - 1
                } else {
                    self.n_tgt
                };
                let mut picks = Vec::with_capacity(k as usize);
                for s in 0..self.n_src {
                    let mut rng = stream(self.seed, Purpose::Connect(pid), u64::from(s));
                    let mut wrng = stream(self.seed, Purpose::Weight(pid), u64::from(s));
                    let mut drng = stream(self.seed, Purpose::Delay(pid), u64::from(s));
                    draw_indices(&mut rng, avail, k, allow_multapses, &mut picks);
                    for &idx in &picks {
                        let t = if skip_self && idx >= s { idx + 1 } else { idx };
                        // Draw the values for every synapse so that streams stay aligned.
                        let w = self.proj.weight_pa.sample(&mut wrng) as f32;
                        let d = constant_delay.unwrap_or_else(|| {
                            delay_steps(self.proj.delay_ms.sample(&mut drng), self.dt_ms)
                        });
                        if targets.contains(&t) {
                            edges.src.push(s);
                            edges.tgt_local.push(local(t));
                            edges.weight.push(w);
                            if constant_delay.is_none() {
                                edges.delay.push(d);
                            }
                        }
                    }
                }
            }
            rule => {
                let mut picks = Vec::new();
                for t in targets.clone() {
                    let mut rng = stream(self.seed, Purpose::Connect(pid), u64::from(t));
                    let mut wrng = stream(self.seed, Purpose::Weight(pid), u64::from(t));
                    let mut drng = stream(self.seed, Purpose::Delay(pid), u64::from(t));
                    picks.clear();
                    self.sources_of(rule, t, &mut rng, &mut picks);
                    for &s in &picks {
                        edges.src.push(s);
                        edges.tgt_local.push(local(t));
                        push_values(&mut edges, &mut wrng, &mut drng);
                    }
                }
            }
        }
        let inhibitory =
            self.proj.weight_pa.bounds().1 <= 0.0 && self.proj.weight_pa.bounds().0 < 0.0;
        to_csr(
            edges,
            self.n_src,
            constant_delay,
            self.proj_index,
            self.src_start,
            inhibitory,
        )
    }

    /// Sources (population indices) of target `t` for a target-keyed rule.
    fn sources_of(&self, rule: ConnRule, t: u32, rng: &mut impl Rng, out: &mut Vec<u32>) {
        let n = self.n_src;
        let same = self.same_population();
        match rule {
            ConnRule::AllToAll { allow_autapses } => {
                out.extend((0..n).filter(|&s| !(same && !allow_autapses && s == t)));
            }
            ConnRule::OneToOne => out.push(t),
            ConnRule::FixedProbability { p, allow_autapses } => {
                let skip_self = same && !allow_autapses;
                if p >= 1.0 {
                    out.extend((0..n).filter(|&s| !(skip_self && s == t)));
                } else if p > 0.0 {
                    // Geometric skipping: the gap to the next success of a Bernoulli(p)
                    // sequence is geometric, so the cost is O(p n), not O(n).
                    let log_q = (-p).ln_1p();
                    let mut s: i64 = -1;
                    loop {
                        let u: f64 = 1.0 - rng.random::<f64>(); // in (0, 1]
                        let skip = (u.ln() / log_q).floor();
                        if !skip.is_finite() || skip >= f64::from(n) {
                            break;
                        }
                        s += skip as i64 + 1;
                        if s >= i64::from(n) {
                            break;
                        }
                        let s32 = s as u32;
                        if !(skip_self && s32 == t) {
                            out.push(s32);
                        }
                    }
                }
            }
            ConnRule::FixedInDegree {
                k,
                allow_autapses,
                allow_multapses,
            } => {
                let skip_self = same && !allow_autapses;
                let avail = if skip_self { n - 1 } else { n };
                draw_indices(rng, avail, k, allow_multapses, out);
                if skip_self {
                    for s in out.iter_mut() {
                        if *s >= t {
                            *s += 1;
                        }
                    }
                }
            }
            ConnRule::FixedOutDegree { .. } => unreachable!("source-keyed rule"),
        }
    }
}

/// `k` indices in `0..avail`, with or without repeats.
fn draw_indices(rng: &mut impl Rng, avail: u32, k: u32, multapses: bool, out: &mut Vec<u32>) {
    out.clear();
    if k == 0 || avail == 0 {
        return;
    }
    if multapses {
        out.extend((0..k).map(|_| rng.random_range(0..avail)));
    } else {
        let picked = rand::seq::index::sample(rng, avail as usize, k as usize);
        out.extend(picked.into_iter().map(|i| i as u32));
    }
}

/// Groups edges by source with a stable counting sort.
fn to_csr(
    edges: EdgeList,
    n_src: u32,
    constant_delay: Option<u16>,
    proj: usize,
    src_start: u32,
    inhibitory: bool,
) -> ChunkCsr {
    let m = edges.src.len();
    let mut row_ptr = vec![0u64; n_src as usize + 1];
    for &s in &edges.src {
        row_ptr[s as usize + 1] += 1;
    }
    for i in 0..n_src as usize {
        row_ptr[i + 1] += row_ptr[i];
    }
    let mut next: Vec<u64> = row_ptr[..n_src as usize].to_vec();
    let mut targets = vec![0u32; m];
    let mut weights = vec![0f32; m];
    let mut delays = if constant_delay.is_some() {
        Vec::new()
    } else {
        vec![0u16; m]
    };
    for e in 0..m {
        let s = edges.src[e] as usize;
        let pos = next[s] as usize;
        next[s] += 1;
        targets[pos] = edges.tgt_local[e];
        weights[pos] = edges.weight[e];
        if constant_delay.is_none() {
            delays[pos] = edges.delay[e];
        }
    }
    ChunkCsr {
        proj,
        src_start,
        row_ptr,
        targets,
        weights,
        delays: match constant_delay {
            Some(d) => Delays::Constant(if m == 0 { 0 } else { d }),
            None => Delays::PerEdge(delays),
        },
        inhibitory,
        gap: None,
    }
}
