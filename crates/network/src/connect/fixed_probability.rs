//! `fixed_probability`: each pair independently with probability `p`.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::{ConnectRule, Populations};
use engram_core::FieldError;

/// Each pair independently with probability `p` (Bernoulli).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Deserialize),
    serde(deny_unknown_fields)
)]
pub struct FixedProbability {
    /// Connection probability in `[0, 1]`.
    pub p: f64,
    /// Whether a neuron may connect to itself (configs: default true).
    #[cfg_attr(feature = "serde", serde(default = "super::default_true"))]
    pub allow_autapses: bool,
}

impl ConnectRule for FixedProbability {
    fn allows_autapses(&self) -> bool {
        self.allow_autapses
    }

    fn validate(&self, _: &Populations) -> Result<(), FieldError> {
        let p = self.p;
        if !(0.0..=1.0).contains(&p) {
            return Err(FieldError::new(
                "connectivity.p",
                format!("{} must be in [0, 1]", engram_core::number::short(p)),
            ));
        }
        Ok(())
    }

    fn expected_synapses(&self, pops: &Populations) -> f64 {
        pops.pairs() * self.p
    }

    fn draw(&self, pops: &Populations, t: u32, _: Option<u32>, rng: &mut ChaCha8Rng, out: &mut Vec<u32>) {
        let (n, p, skip_self) = (pops.n_src, self.p, pops.skip_self);
        if p >= 1.0 {
            out.extend((0..n).filter(|&s| !(skip_self && s == t)));
        } else if p > 0.0 {
            // Geometric skipping: the gap to the next success of a Bernoulli(p) sequence
            // is geometric, so the cost is O(p n), not O(n).
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
}
