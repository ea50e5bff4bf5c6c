//! `all_to_all`: every source to every target.

use rand_chacha::ChaCha8Rng;

use super::{ConnectRule, Populations};

/// Every source to every target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Deserialize),
    serde(deny_unknown_fields)
)]
pub struct AllToAll {
    /// Whether a neuron may connect to itself when source and target are the same
    /// population (configs: default true).
    #[cfg_attr(feature = "serde", serde(default = "super::default_true"))]
    pub allow_autapses: bool,
}

impl ConnectRule for AllToAll {
    fn allows_autapses(&self) -> bool {
        self.allow_autapses
    }

    fn expected_synapses(&self, pops: &Populations) -> f64 {
        pops.pairs()
    }

    fn draw(&self, pops: &Populations, t: u32, _: Option<u32>, _: &mut ChaCha8Rng, out: &mut Vec<u32>) {
        out.extend((0..pops.n_src).filter(|&s| !(pops.skip_self && s == t)));
    }
}
