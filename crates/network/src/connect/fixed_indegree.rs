//! `fixed_indegree`: each target receives exactly `k` synapses.

use rand_chacha::ChaCha8Rng;

use super::{ConnectRule, Populations, check_degree, draw_indices};
use engram_core::FieldError;

/// Each target receives exactly `k` synapses from sources drawn uniformly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Deserialize),
    serde(deny_unknown_fields)
)]
pub struct FixedInDegree {
    /// In-degree.
    pub k: u32,
    /// Whether a neuron may connect to itself (configs: default true).
    #[cfg_attr(feature = "serde", serde(default = "super::default_true"))]
    pub allow_autapses: bool,
    /// Whether a pair may be connected more than once (configs: default true).
    #[cfg_attr(feature = "serde", serde(default = "super::default_true"))]
    pub allow_multapses: bool,
}

impl ConnectRule for FixedInDegree {
    fn allows_autapses(&self) -> bool {
        self.allow_autapses
    }

    fn validate(&self, pops: &Populations) -> Result<(), FieldError> {
        let avail = pops.available_sources();
        check_degree("in-degree", "sources", self.k, avail, self.allow_multapses)
    }

    fn expected_synapses(&self, pops: &Populations) -> f64 {
        f64::from(self.k) * f64::from(pops.n_tgt)
    }

    fn draw(&self, pops: &Populations, t: u32, _: Option<u32>, rng: &mut ChaCha8Rng, out: &mut Vec<u32>) {
        let skip = pops.skip_self.then_some(t);
        let avail = pops.available_sources();
        draw_indices(rng, avail, self.k, self.allow_multapses, skip, out);
    }
}
