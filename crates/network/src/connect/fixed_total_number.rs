//! `fixed_total_number`: exactly `n` synapses in the whole projection (NEST's rule).
//!
//! As NEST does, the total is first split over the targets, each target being equally
//! likely to receive each synapse, and then each target draws its share of sources
//! uniformly. With multapses the split is multinomial; without them it is multivariate
//! hypergeometric (each target has `available_sources` slots), which is what a uniformly
//! drawn set of `n` distinct pairs gives, and no target is ever asked for more distinct
//! sources than it has. (NEST itself does not implement `allow_multapses = false` here.)
//!
//! The split is drawn so that every chunk finds the same share for a target without
//! drawing the whole split: a binary tree over the targets, each node splitting its count
//! between its two halves with a binomial (or hypergeometric) draw from its own stream,
//! numbered as in a heap (root 1, children `2i` and `2i + 1`); a node of at most 64
//! targets gives each of them its share in turn from its stream (conditional binomials,
//! or hypergeometrics). A chunk only walks the nodes that overlap it.
//!
//! As in NEST, `n = 0` gives no synapses and a negative `n` is an error (configs: not a
//! `u64`).

use std::ops::Range;

use rand_chacha::ChaCha8Rng;
use rand_distr::{Binomial, Distribution, Hypergeometric};

use super::{ConnectRule, Populations, draw_indices};
use engram_core::FieldError;

/// Exactly `n` synapses in the projection: a split of `n` over the targets (each target
/// equally likely), then each target's sources drawn uniformly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Deserialize),
    serde(deny_unknown_fields)
)]
pub struct FixedTotalNumber {
    /// Total number of synapses.
    pub n: u64,
    /// Whether a neuron may connect to itself (configs: default true).
    #[cfg_attr(feature = "serde", serde(default = "super::default_true"))]
    pub allow_autapses: bool,
    /// Whether a pair may be connected more than once (configs: default true).
    #[cfg_attr(feature = "serde", serde(default = "super::default_true"))]
    pub allow_multapses: bool,
}

/// Largest node of the split that shares its count among its targets one by one instead
/// of splitting it in two (fewer streams to key; a chunk draws at most this many shares
/// it does not keep at each of its ends).
const LEAF_TARGETS: u32 = 64;

/// Drawing the shares of some targets (`want`) from the split of a projection's total.
struct Split<'a> {
    /// Whether a pair may be connected more than once (binomial splits), or not
    /// (hypergeometric splits over `slots` distinct sources per target).
    multapses: bool,
    /// Sources each target may draw.
    slots: u64,
    /// The targets whose shares are wanted.
    want: Range<u32>,
    /// The stream of each node of the split.
    split_stream: &'a dyn Fn(u64) -> ChaCha8Rng,
}

impl Split<'_> {
    /// How many of `m` synapses fall on `k` of the `of` targets that hold them.
    fn part(&self, m: u64, k: u32, of: u32, rng: &mut ChaCha8Rng) -> u64 {
        if k == of {
            return m;
        }
        if self.multapses {
            let p = f64::from(k) / f64::from(of);
            Binomial::new(m, p).expect("0 < p < 1").sample(rng)
        } else {
            let (all, some) = (u64::from(of) * self.slots, u64::from(k) * self.slots);
            Hypergeometric::new(all, some, m)
                .expect("validated: m fits in the slots")
                .sample(rng)
        }
    }

    /// Appends to `out` the shares of the targets of `lo..hi` that are wanted, given that
    /// node `node` of the split (targets `lo..hi`) holds `m` synapses.
    fn shares(&self, (lo, hi): (u32, u32), m: u64, node: u64, out: &mut Vec<u32>) {
        let (a, b) = (lo.max(self.want.start), hi.min(self.want.end));
        if a >= b {
            return;
        }
        if m == 0 {
            out.extend(std::iter::repeat_n(0, (b - a) as usize));
            return;
        }
        let mut rng = (self.split_stream)(node);
        if hi - lo <= LEAF_TARGETS {
            let mut left = m;
            for t in lo..hi {
                let share = self.part(left, 1, hi - t, &mut rng);
                left -= share;
                if self.want.contains(&t) {
                    out.push(u32::try_from(share).expect("validated: n fits in 32 bits"));
                }
            }
            return;
        }
        let mid = lo + (hi - lo) / 2;
        let first = self.part(m, mid - lo, hi - lo, &mut rng);
        self.shares((lo, mid), first, 2 * node, out);
        self.shares((mid, hi), m - first, 2 * node + 1, out);
    }
}

impl ConnectRule for FixedTotalNumber {
    fn allows_autapses(&self) -> bool {
        self.allow_autapses
    }

    fn validate(&self, pops: &Populations) -> Result<(), FieldError> {
        let pairs = u64::from(pops.available_sources()) * u64::from(pops.n_tgt);
        if self.n > 0 && pairs == 0 {
            return Err(FieldError::new(
                "connectivity.n",
                format!(
                    "{} synapses need at least one pair of neurons to connect, there are none",
                    self.n
                ),
            ));
        }
        if !self.allow_multapses && self.n > pairs {
            return Err(FieldError::new(
                "connectivity.n",
                format!(
                    "{} synapses without multapses need {} distinct pairs, there are {pairs}; \
                     allow multapses or ask for at most {pairs}",
                    self.n, self.n
                ),
            ));
        }
        if self.n > u64::from(u32::MAX) {
            return Err(FieldError::new(
                "connectivity.n",
                format!(
                    "{} synapses are more than one projection can hold ({})",
                    self.n,
                    u32::MAX
                ),
            ));
        }
        Ok(())
    }

    fn expected_synapses(&self, _: &Populations) -> f64 {
        self.n as f64
    }

    fn shares(
        &self,
        pops: &Populations,
        targets: Range<u32>,
        split_stream: &dyn Fn(u64) -> ChaCha8Rng,
    ) -> Option<Vec<u32>> {
        let mut out = Vec::with_capacity(targets.len());
        let split = Split {
            multapses: self.allow_multapses,
            slots: u64::from(pops.available_sources()),
            want: targets,
            split_stream,
        };
        split.shares((0, pops.n_tgt), self.n, 1, &mut out);
        Some(out)
    }

    fn draw(
        &self,
        pops: &Populations,
        t: u32,
        share: Option<u32>,
        rng: &mut ChaCha8Rng,
        out: &mut Vec<u32>,
    ) {
        let k = share.expect("the builder hands each target its share");
        let skip = pops.skip_self.then_some(t);
        let avail = pops.available_sources();
        draw_indices(rng, avail, k, self.allow_multapses, skip, out);
    }
}
