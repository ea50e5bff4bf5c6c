//! Building one projection's synapses onto one chunk: drawing them from the rule, in
//! blocks of sources, then turning the blocks into CSR.

use std::ops::Range;

use super::{Keying, Populations};
use crate::spec::{ProjectionSpec, ValueDist};
use crate::synapses::{ChunkCsr, Delays, Weights};
use engram_core::rng::{Purpose, stream};
use engram_core::time::delay_steps;

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

/// Scratch space for building the synapses of one chunk, kept from one projection to the
/// next: its memory is faulted in once per chunk instead of once per projection.
#[derive(Debug, Default)]
pub(crate) struct ConnectScratch {
    /// Sources (or targets) drawn for one neuron.
    picks: Vec<u32>,
    /// Edges in generation order, split by block of sources (see [`EdgeBlocks`]).
    blocks: Vec<EdgeBlock>,
    /// Next free position of each source row of one block, while scattering.
    next: Vec<usize>,
}

/// The edges of one block of sources, in generation order.
#[derive(Debug, Default)]
struct EdgeBlock {
    /// `(local target << shift) | (source - first source of the block)`.
    packed: Vec<u32>,
    /// Weight of each edge, when the weights are not all the same.
    weights: Vec<f32>,
    /// Delay of each edge, when the delays are not all the same.
    delays: Vec<u16>,
}

/// Largest number of bits given to the source within a block: blocks of 2048 sources keep
/// the rows being filled while scattering one block (2048 cache lines per array) in L2.
const MAX_BLOCK_SHIFT: u32 = 11;

/// Edges grouped by blocks of consecutive sources while they are drawn, so that turning
/// them into CSR writes into a few thousand rows at a time instead of scattering over all
/// rows at once (which misses the cache on almost every edge). Each block keeps the
/// generation order, so the CSR is the same as a stable sort of all edges by source.
struct EdgeBlocks<'a> {
    blocks: &'a mut [EdgeBlock],
    shift: u32,
    mask: u32,
    per_edge_weights: bool,
    per_edge_delays: bool,
}

impl EdgeBlocks<'_> {
    #[inline]
    fn push(&mut self, s: u32, t_local: u32, weight: f32, delay: u16) {
        let block = &mut self.blocks[(s >> self.shift) as usize];
        block.packed.push((t_local << self.shift) | (s & self.mask));
        if self.per_edge_weights {
            block.weights.push(weight);
        }
        if self.per_edge_delays {
            block.delays.push(delay);
        }
    }
}

/// Bits given to the source within a block when local targets go up to `n_local - 1`:
/// the packed edge must fit in 32 bits.
fn block_shift(n_local: u32) -> u32 {
    let target_bits = u32::BITS - n_local.saturating_sub(1).leading_zeros();
    MAX_BLOCK_SHIFT.min(u32::BITS - target_bits)
}

/// The weight every synapse gets, when the distribution is a constant.
fn constant_weight(weight: &ValueDist) -> Option<f32> {
    match *weight {
        ValueDist::Constant(w) => Some(w as f32),
        _ => None,
    }
}

impl ConnectJob<'_> {
    /// The two populations as the rule sees them.
    fn populations(&self) -> Populations {
        let same = self.proj.source == self.proj.target;
        Populations::new(&*self.proj.rule, self.n_src, self.n_tgt, same)
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

    /// Expected number of synapses onto this chunk (a hint for reserving memory).
    fn expected_edges(&self) -> f64 {
        let n_local = f64::from(self.local_targets().len() as u32);
        let whole = self.proj.rule.expected_synapses(&self.populations());
        whole * n_local / f64::from(self.n_tgt.max(1))
    }

    /// Draws the synapses onto this chunk's neurons and returns them as CSR.
    pub fn build(&self, scratch: &mut ConnectScratch) -> ChunkCsr {
        let constant_delay = match self.proj.delay_ms {
            ValueDist::Constant(d) => Some(delay_steps(d, self.dt_ms)),
            _ => None,
        };
        let constant_weight = constant_weight(&self.proj.weight_pa);
        // Weights that learn, or that junctions follow, are stored per edge.
        let learns = self.proj.gap.is_some() || self.proj.plasticity.is_some();
        let shift = block_shift(self.chunk.len() as u32);
        let n_blocks = (self.n_src as usize).div_ceil(1 << shift);
        if scratch.blocks.len() < n_blocks {
            scratch.blocks.resize_with(n_blocks, EdgeBlock::default);
        }
        // Reserve a little more than expected in each block, so that blocks rarely grow
        // (growing copies); a block that needs more still grows.
        let expected = self.expected_edges();
        let per_source = expected / f64::from(self.n_src.max(1));
        for (b, block) in scratch.blocks[..n_blocks].iter_mut().enumerate() {
            let sources = (self.n_src as usize - (b << shift)).min(1 << shift);
            let mean = per_source * sources as f64;
            let want = (mean + 4.0 * mean.sqrt() + 64.0) as usize;
            block.packed.clear();
            block.packed.reserve(want);
            block.weights.clear();
            block.delays.clear();
            if constant_weight.is_none() {
                block.weights.reserve(want);
            }
            if constant_delay.is_none() {
                block.delays.reserve(want);
            }
        }
        let mut edges = EdgeBlocks {
            blocks: &mut scratch.blocks[..n_blocks],
            shift,
            mask: (1u32 << shift).wrapping_sub(1),
            per_edge_weights: constant_weight.is_none(),
            per_edge_delays: constant_delay.is_none(),
        };
        self.generate(&mut scratch.picks, |s, t, w, d| edges.push(s, t, w, d));
        let inhibitory =
            self.proj.weight_pa.bounds().1 <= 0.0 && self.proj.weight_pa.bounds().0 < 0.0;
        let mut csr = blocks_to_csr(
            &scratch.blocks[..n_blocks],
            shift,
            self.n_src,
            constant_weight,
            learns,
            constant_delay,
            &mut scratch.next,
        );
        csr.proj = self.proj_index;
        csr.src_start = self.src_start;
        csr.inhibitory = inhibitory;
        csr
    }

    /// Draws the synapses onto this chunk's neurons and hands each to `edge` (source
    /// population index, chunk-local target, weight, delay in steps) in generation order:
    /// targets ascending, each target's sources in the order drawn (for a source-keyed
    /// rule, sources ascending). The weight (delay) is drawn only when its distribution is not a
    /// constant, else the constant is passed.
    fn generate(&self, picks: &mut Vec<u32>, mut edge: impl FnMut(u32, u32, f32, u16)) {
        let constant_delay = match self.proj.delay_ms {
            ValueDist::Constant(d) => Some(delay_steps(d, self.dt_ms)),
            _ => None,
        };
        let constant_weight = constant_weight(&self.proj.weight_pa);
        let targets = self.local_targets();
        // Local index of target t (population index) within the chunk.
        let local = |t: u32| -> u32 { t + self.tgt_start - self.chunk.start };
        // Value streams are only created when something is drawn from them.
        let value_streams = |id: u32| {
            (
                constant_weight
                    .is_none()
                    .then(|| stream(self.seed, Purpose::Weight(&self.proj.name), u64::from(id))),
                constant_delay
                    .is_none()
                    .then(|| stream(self.seed, Purpose::Delay(&self.proj.name), u64::from(id))),
            )
        };
        let draw_weight = |wrng: &mut Option<rand_chacha::ChaCha8Rng>| match wrng {
            Some(r) => self.proj.weight_pa.sample(r) as f32,
            None => constant_weight.unwrap_or_default(),
        };
        let draw_delay = |drng: &mut Option<rand_chacha::ChaCha8Rng>| match drng {
            Some(r) => delay_steps(self.proj.delay_ms.sample(r), self.dt_ms),
            None => constant_delay.unwrap_or_default(),
        };
        let rule = &*self.proj.rule;
        let pops = self.populations();
        match rule.keying() {
            Keying::Source => {
                // Every chunk replays every source's draws and keeps the targets that fall
                // inside it.
                for s in 0..self.n_src {
                    let mut rng =
                        stream(self.seed, Purpose::Connect(&self.proj.name), u64::from(s));
                    let (mut wrng, mut drng) = value_streams(s);
                    picks.clear();
                    rule.draw(&pops, s, None, &mut rng, picks);
                    for &t in picks.iter() {
                        // Draw the values for every synapse so that streams stay aligned.
                        let w = draw_weight(&mut wrng);
                        let d = draw_delay(&mut drng);
                        if targets.contains(&t) {
                            edge(s, local(t), w, d);
                        }
                    }
                }
            }
            Keying::Target => {
                // A rule that fixes only the total splits it over the targets first.
                let split_stream =
                    |node: u64| stream(self.seed, Purpose::Shares(&self.proj.name), node);
                let shares = rule.shares(&pops, targets.clone(), &split_stream);
                for (i, t) in targets.clone().enumerate() {
                    let mut rng =
                        stream(self.seed, Purpose::Connect(&self.proj.name), u64::from(t));
                    let (mut wrng, mut drng) = value_streams(t);
                    picks.clear();
                    let share = shares.as_ref().map(|s| s[i]);
                    rule.draw(&pops, t, share, &mut rng, picks);
                    let t_local = local(t);
                    for &s in picks.iter() {
                        let w = draw_weight(&mut wrng);
                        let d = draw_delay(&mut drng);
                        edge(s, t_local, w, d);
                    }
                }
            }
        }
    }
}

/// Turns edges split by blocks of sources into CSR over sources: per block, a stable
/// counting sort by source into that block's part of the arrays. A constant weight is
/// stored once, unless `weights_per_edge`.
fn blocks_to_csr(
    blocks: &[EdgeBlock],
    shift: u32,
    n_src: u32,
    constant_weight: Option<f32>,
    weights_per_edge: bool,
    constant_delay: Option<u16>,
    next: &mut Vec<usize>,
) -> ChunkCsr {
    let m: usize = blocks.iter().map(|b| b.packed.len()).sum();
    let mask = (1u32 << shift).wrapping_sub(1);
    let mut row_ptr = vec![0u64; n_src as usize + 1];
    let mut targets = vec![0u32; m];
    let mut weights = match constant_weight {
        Some(w) if weights_per_edge => vec![w; m],
        Some(_) => Vec::new(),
        None => vec![0f32; m],
    };
    let mut delays = if constant_delay.is_some() {
        Vec::new()
    } else {
        vec![0u16; m]
    };
    let mut offset = 0usize;
    for (b, block) in blocks.iter().enumerate() {
        let first = b << shift;
        let rows = (n_src as usize - first).min(1 << shift);
        next.clear();
        next.resize(rows, 0);
        for &e in &block.packed {
            next[(e & mask) as usize] += 1;
        }
        for (r, slot) in next.iter_mut().enumerate() {
            let count = *slot;
            *slot = offset;
            offset += count;
            row_ptr[first + r + 1] = offset as u64;
        }
        for (i, &e) in block.packed.iter().enumerate() {
            let slot = &mut next[(e & mask) as usize];
            let pos = *slot;
            *slot += 1;
            targets[pos] = e >> shift;
            if constant_weight.is_none() {
                weights[pos] = block.weights[i];
            }
            if constant_delay.is_none() {
                delays[pos] = block.delays[i];
            }
        }
    }
    ChunkCsr {
        proj: 0,
        src_start: 0,
        row_ptr,
        targets,
        weights: match constant_weight {
            Some(w) if !weights_per_edge => Weights::Constant(w),
            _ => Weights::PerEdge(weights),
        },
        delays: match constant_delay {
            Some(d) => Delays::Constant(if m == 0 { 0 } else { d }),
            None => Delays::PerEdge(delays),
        },
        inhibitory: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connect::{AllToAll, ConnectRule, FixedInDegree, FixedOutDegree};
    use crate::connect::{FixedProbability, FixedTotalNumber, OneToOne};
    use rand::{Rng, SeedableRng};
    use std::sync::Arc;

    /// The CSR as a stable sort of edges given in generation order: what the blocks
    /// must reproduce exactly.
    fn reference_csr(
        edges: &[(u32, u32, f32, u16)],
        n_src: u32,
    ) -> (Vec<u64>, Vec<u32>, Vec<f32>, Vec<u16>) {
        let mut order: Vec<usize> = (0..edges.len()).collect();
        order.sort_by_key(|&e| edges[e].0);
        let mut row_ptr = vec![0u64; n_src as usize + 1];
        for &(s, ..) in edges {
            row_ptr[s as usize + 1] += 1;
        }
        for i in 0..n_src as usize {
            row_ptr[i + 1] += row_ptr[i];
        }
        (
            row_ptr,
            order.iter().map(|&e| edges[e].1).collect(),
            order.iter().map(|&e| edges[e].2).collect(),
            order.iter().map(|&e| edges[e].3).collect(),
        )
    }

    fn uniform(low: f64, high: f64) -> ValueDist {
        ValueDist::Uniform { low, high }
    }

    fn projection(
        rule: Arc<dyn ConnectRule>,
        weight_pa: ValueDist,
        delay_ms: ValueDist,
    ) -> ProjectionSpec {
        ProjectionSpec {
            name: "p".into(),
            source: 0,
            target: 1,
            rule,
            weight_pa,
            delay_ms,
            gap: None,
            plasticity: None,
        }
    }

    #[test]
    fn blocks_give_the_stable_sort_by_source_for_any_block_size() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let n_src = 5000u32;
        let n_local = 300u32;
        // Sources in random order, repeats included, as a rule may draw them.
        let edges: Vec<(u32, u32, f32, u16)> = (0..20_000u32)
            .map(|i| {
                (
                    rng.random_range(0..n_src),
                    i * n_local / 20_000,
                    rng.random(),
                    rng.random_range(1..20),
                )
            })
            .collect();
        let (row_ptr, targets, weights, delays) = reference_csr(&edges, n_src);
        for shift in [0, 1, 5, MAX_BLOCK_SHIFT, block_shift(n_local)] {
            let n_blocks = (n_src as usize).div_ceil(1 << shift);
            let mut blocks: Vec<EdgeBlock> = (0..n_blocks).map(|_| EdgeBlock::default()).collect();
            let mut sink = EdgeBlocks {
                blocks: &mut blocks,
                shift,
                mask: (1u32 << shift).wrapping_sub(1),
                per_edge_weights: true,
                per_edge_delays: true,
            };
            for &(s, t, w, d) in &edges {
                sink.push(s, t, w, d);
            }
            let csr = blocks_to_csr(&blocks, shift, n_src, None, false, None, &mut Vec::new());
            assert_eq!(csr.row_ptr, row_ptr, "shift {shift}");
            assert_eq!(csr.targets, targets, "shift {shift}");
            assert_eq!(
                csr.weights,
                Weights::PerEdge(weights.clone()),
                "shift {shift}"
            );
            assert_eq!(csr.delays, Delays::PerEdge(delays.clone()), "shift {shift}");
        }
    }

    #[test]
    fn block_shift_leaves_room_for_every_local_target() {
        assert_eq!(block_shift(0), MAX_BLOCK_SHIFT);
        assert_eq!(block_shift(100_000), MAX_BLOCK_SHIFT);
        assert_eq!(block_shift(1 << 21), MAX_BLOCK_SHIFT);
        assert_eq!(block_shift((1 << 21) + 1), 10);
        assert_eq!(block_shift(u32::MAX), 0);
        for n in [1u32, 2, 1000, 1 << 22, (1 << 30) + 3] {
            let shift = block_shift(n);
            assert!(u64::from(n - 1) << shift <= u64::from(u32::MAX), "n {n}");
        }
    }

    #[test]
    fn build_matches_the_stable_sort_of_the_drawn_synapses() {
        let (uniform_w, uniform_d) = (uniform(10.0, 30.0), uniform(0.1, 3.0));
        let rules: [Arc<dyn ConnectRule>; 4] = [
            Arc::new(FixedProbability {
                p: 0.05,
                allow_autapses: true,
            }),
            Arc::new(FixedInDegree {
                k: 30,
                allow_autapses: true,
                allow_multapses: true,
            }),
            Arc::new(FixedOutDegree {
                k: 20,
                allow_autapses: true,
                allow_multapses: false,
            }),
            Arc::new(AllToAll {
                allow_autapses: true,
            }),
        ];
        let (n_src, n_tgt) = (4500u32, 700u32);
        for rule in rules {
            for (w, d) in [
                (ValueDist::Constant(20.0), ValueDist::Constant(0.1)),
                (uniform_w, uniform_d),
            ] {
                let proj = projection(rule.clone(), w, d);
                // The target population starts at global id n_src; two chunks split it.
                for chunk in [n_src..n_src + 300, n_src + 300..n_src + n_tgt] {
                    let job = ConnectJob {
                        seed: 3,
                        proj_index: 1,
                        proj: &proj,
                        dt_ms: 0.1,
                        src_start: 0,
                        n_src,
                        tgt_start: n_src,
                        n_tgt,
                        chunk,
                    };
                    let mut edges = Vec::new();
                    job.generate(&mut Vec::new(), |s, t, w, d| edges.push((s, t, w, d)));
                    let (row_ptr, targets, weights, delays) = reference_csr(&edges, n_src);
                    let csr = job.build(&mut ConnectScratch::default());
                    assert_eq!(csr.row_ptr, row_ptr, "{rule:?}");
                    assert_eq!(csr.targets, targets, "{rule:?}");
                    let built: Vec<f32> = (0..csr.len()).map(|e| csr.weights.get(e)).collect();
                    assert_eq!(built, weights, "{rule:?}");
                    let constant = matches!(proj.weight_pa, ValueDist::Constant(_));
                    assert_eq!(matches!(csr.weights, Weights::Constant(_)), constant);
                    match csr.delays {
                        Delays::Constant(c) => assert!(delays.iter().all(|&d| d == c)),
                        Delays::PerEdge(d) => assert_eq!(d, delays, "{rule:?}"),
                    }
                    assert!(!edges.is_empty());
                }
            }
        }
    }

    /// Every rule draws exactly the synapses, weights and delays it drew since the rules
    /// became types: a hash of the generated edges of a recurrent projection (600 neurons,
    /// two chunks) per rule, recorded when the random streams became keyed by the
    /// projection's name.
    #[test]
    fn rules_draw_what_they_always_drew() {
        let in_degree = |allow_autapses, allow_multapses| -> Arc<dyn ConnectRule> {
            Arc::new(FixedInDegree {
                k: 25,
                allow_autapses,
                allow_multapses,
            })
        };
        let out_degree = |allow_autapses, allow_multapses| -> Arc<dyn ConnectRule> {
            Arc::new(FixedOutDegree {
                k: 15,
                allow_autapses,
                allow_multapses,
            })
        };
        let probability = |p, allow_autapses| -> Arc<dyn ConnectRule> {
            Arc::new(FixedProbability { p, allow_autapses })
        };
        let total = |allow_autapses, allow_multapses| -> Arc<dyn ConnectRule> {
            Arc::new(FixedTotalNumber {
                n: 12_000,
                allow_autapses,
                allow_multapses,
            })
        };
        let cases: [(Arc<dyn ConnectRule>, u64, u64); 14] = [
            (
                Arc::new(AllToAll {
                    allow_autapses: false,
                }),
                359_400,
                0xef09_178a_a6ed_9c93,
            ),
            (
                Arc::new(AllToAll {
                    allow_autapses: true,
                }),
                360_000,
                0xd898_e40a_739c_4c37,
            ),
            (Arc::new(OneToOne {}), 600, 0xb41f_503d_4032_9af1),
            (probability(0.07, false), 25_321, 0xc520_8a51_a383_9a2f),
            (probability(0.3, true), 107_807, 0x72e1_fe14_ef12_ff0b),
            (probability(1.0, false), 359_400, 0xef09_178a_a6ed_9c93),
            (in_degree(false, false), 15_000, 0xae9f_edc8_32d9_96ed),
            (in_degree(true, true), 15_000, 0xe08a_4e87_e0d2_64dd),
            (in_degree(false, true), 15_000, 0x6995_afb0_2340_ad62),
            (out_degree(false, false), 9000, 0x9314_9c8b_4af9_cb18),
            (out_degree(true, true), 9000, 0x5eb2_c9a3_96e5_2c8d),
            (out_degree(false, true), 9000, 0xbde7_366c_ba22_7cc1),
            // Recorded when fixed_total_number was added.
            (total(false, false), 12_000, 0xb4bd_395e_de8f_1a3c),
            (total(true, true), 12_000, 0x67d7_2825_bef6_07e1),
        ];
        let n = 600u32;
        for (rule, want_count, want_hash) in cases {
            let proj = ProjectionSpec {
                target: 0,
                ..projection(rule.clone(), uniform(1.0, 2.0), uniform(0.1, 2.0))
            };
            let (mut hash, mut count) = (0xcbf2_9ce4_8422_2325u64, 0u64);
            for chunk in [0..250u32, 250..n] {
                let job = ConnectJob {
                    seed: 11,
                    proj_index: 2,
                    proj: &proj,
                    dt_ms: 0.1,
                    src_start: 0,
                    n_src: n,
                    tgt_start: 0,
                    n_tgt: n,
                    chunk,
                };
                job.generate(&mut Vec::new(), |s, t, w, d| {
                    count += 1;
                    for x in [s, t, w.to_bits(), u32::from(d)] {
                        hash = (hash ^ u64::from(x)).wrapping_mul(0x0100_0000_01b3);
                    }
                });
            }
            assert_eq!((count, hash), (want_count, want_hash), "{rule:?}");
        }
    }
}
